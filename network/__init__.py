"""The secure network: members, directory, forum and messaging."""
