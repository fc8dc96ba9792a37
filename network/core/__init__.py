"""What every part of the network uses: database, access rules, audit, crypto, mail, sessions."""
