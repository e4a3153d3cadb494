"""Agent Client Protocol host: editors that speak ACP drive harness sessions and runs."""
