"""Why a whole file cannot be loaded, said in plain words (Chinese, with English beside it).

Why one exception type: every reader, the format check and the archive guard refuse a file the
same way, and the batch code records each refusal as one refused batch with one reject line.
A reason never carries an engine's own error text: readers translate what went wrong.
"""

from __future__ import annotations


class FileRefused(Exception):
    """A whole file cannot be loaded (empty, unknown encoding, missing required column, …)."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
