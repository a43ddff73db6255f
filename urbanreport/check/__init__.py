"""The draft checker: every figure in the bureau's own text, against the warehouse.

`check_file(settings, path, period)` reads a .docx, .txt or .pdf draft, finds its figures,
links each to a catalogue indicator through the bureau's phrases and compares it at the text's
own precision; `annotate.annotated_copy` writes a Word draft back with each mismatch marked.
"""

from urbanreport.check.checker import Checked, CheckResult, check_bytes, check_draft, check_file
from urbanreport.check.readers import DraftRefused, Limits

__all__ = [
    "CheckResult",
    "Checked",
    "DraftRefused",
    "Limits",
    "check_bytes",
    "check_draft",
    "check_file",
]
