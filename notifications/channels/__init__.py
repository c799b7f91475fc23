"""The channels a message goes out on: email, SMS (apprise), Web Push and signed webhooks."""
