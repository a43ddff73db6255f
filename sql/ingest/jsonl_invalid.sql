-- A JSON Lines line that is not a JSON object is refused with that reason (not "missing value").
UPDATE staged
SET problems = [{'column_name': NULL, 'raw_value': left(l.line, 200),
                 'reason': '该行不是有效的JSON对象 (line is not a valid JSON object)'}]
FROM jsonl_lines l
WHERE l._row = staged._row AND NOT l.valid
