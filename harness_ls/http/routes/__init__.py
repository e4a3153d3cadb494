"""http/routes package."""
