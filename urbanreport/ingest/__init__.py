"""Ingestion: inbox files and the HTTP source into the warehouse, one batch per file."""
