"""Charts and PDF rendering of the annual report and the monthly brief."""
