"""The console's routes, by screen."""
