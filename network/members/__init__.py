"""Members: applications, vetting, accounts, sign-in with a second factor, sessions and roles."""
