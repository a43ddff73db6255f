"""One module per report section, shared by the annual report and the monthly brief.

Each module gives `annual(data)` (its part of the annual report), `summary(data)` (its
sentence in the brief's 本月概况) and `brief(data)` (its tables and charts in the brief), all
as `reports.blocks`; which tables and charts, in which order and with which columns, comes
from the figure registry (`reports/figures.toml`).
"""
