"""Readers: one per file format, each leaving the same temp tables behind (see `sink.py`)."""
