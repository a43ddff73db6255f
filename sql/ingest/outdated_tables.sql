-- The tables of $tables that exist without a `district` column: a warehouse written before
-- districts were a dimension (urbanreport migrate upgrades it; urbanreport/core/migrate.py).
SELECT t.table_name
FROM duckdb_tables() t
WHERE t.database_name = current_database() AND t.schema_name = current_schema()
  AND list_contains($tables, t.table_name)
  AND NOT EXISTS (
      SELECT 1 FROM duckdb_columns() c
      WHERE c.database_name = t.database_name AND c.schema_name = t.schema_name
        AND c.table_name = t.table_name AND c.column_name = 'district')
ORDER BY t.table_name
