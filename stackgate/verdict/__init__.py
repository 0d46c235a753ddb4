"""Judging: each metric's status and the gate's verdict (`metrics`), and the report's pieces (`report`, `html`)."""
