"""The Processing provider and its algorithms (one algorithm per module)."""
