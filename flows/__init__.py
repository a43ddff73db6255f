"""Prefect flows and the plain functions they wrap (ingest, indicators)."""
