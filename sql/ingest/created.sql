-- Has a writer created the warehouse's tables yet? A lake's catalog exists from the moment the
-- first writer attaches it, before that writer commits its tables.
SELECT EXISTS (
    SELECT 1 FROM duckdb_tables()
    WHERE database_name = current_database() AND schema_name = current_schema()
      AND table_name = 'batches'
) AS created
