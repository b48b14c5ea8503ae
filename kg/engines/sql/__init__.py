"""The SPARQL-to-SQL engine (DuckDB): the triple store layout and loader (``store``), the
translation of SPARQL algebra to SQL (``translate``), the compiled SHACL checks run in SQL
(``validation``). Checked against Oxigraph and pySHACL by tests/engines/."""
