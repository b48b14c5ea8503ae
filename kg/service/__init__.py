"""The CDS Hooks 2.0 service (``csfkg serve``): discovery, the ``order-select`` and ``order-sign``
services and their feedback endpoints, as a Starlette application served by uvicorn.

- :mod:`.discovery`: the services and their prefetch templates.
- :mod:`.hook_requests`: a hook request read and checked (400 with one sentence when malformed,
  412 when the prefetch it needs is missing).
- :mod:`.orders`: the draft orders, the FHIR Bundle assembled from prefetch and draft orders, and
  which draft orders are spinal procedures (``queries/planned-spinal-procedures.rq``).
- :mod:`.cards`: the card of one patient's result, from the same derivation and renderers as
  ``csfkg recommend``.
- :mod:`.app`: the Starlette application, warmed once at start-up.

The top layer beside :mod:`csfkg.cohort`: it may import everything below it; the FHIR import
(``csfkg.fhir.bundles``) is imported when a request needs it, so that the service starts and
answers discovery without it.
"""
