"""Notifications: contact points, preferences, escalation policies and the dispatcher that delivers them."""
