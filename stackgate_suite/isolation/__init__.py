"""Isolation (release gate): LLM latency under a burst of vision work."""
