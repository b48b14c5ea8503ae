"""Ontology curation: ROBOT-style quality checks, SSSOM mappings, the merged release, reasoning
with HermiT, the HTML documentation. May import ``model`` to ``pipeline``."""
