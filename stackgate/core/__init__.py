"""The base layer: errors, subprocess calls, paths, waiting, HTTP clients, workers and the finding format.

Every other layer may import it; it imports nothing of stackgate's.
"""
