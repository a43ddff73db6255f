"""Prefect flows and tasks only: thin wrappers over the plain functions of urbanreport."""
