"""Cohorts: a run over a store (Oxigraph, an endpoint) or a file cut into parts, the SQL engine's
run, one row per patient, and the deterministic synthetic cohort. May import every package below
it."""
