"""The case catalogue: cooperation cases in which the Convention served as legal basis (later issues)."""
