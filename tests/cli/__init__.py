"""agentctl tests."""
