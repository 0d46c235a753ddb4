"""Benchmarks: `python -m stackgate.bench` (bare compose cycle vs. full and reuse-mode smoke), `.isolation`, `.llm`."""
