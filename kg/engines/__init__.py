"""Engines of our own beside a reference engine, each with its own conformance tests: ``sql``
translates SPARQL to SQL and runs it in DuckDB. May import ``model`` to ``validation``."""
