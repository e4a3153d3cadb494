"""Helpers for tests and benchmarks: real local servers and clients (no mocks of our own code)."""
