"""The SQL files of urbanreport, installed as package data (read with importlib.resources)."""
