"""The query library (``queries/*.rq`` with their headers), parameters bound as RDF terms,
the safety checks of a user's own query, and result formats. May import ``model``, ``io`` and
``stores``."""
