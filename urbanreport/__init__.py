"""urbanreport: ETL and rule-of-law reporting for a district urban-management bureau."""
