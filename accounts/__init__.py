"""Accounts: people and integrations, their roles, logins, and which homes each may see."""
