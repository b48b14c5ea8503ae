"""SHACL validation: the report type, the shapes compiled to SPARQL (the compiler and the
compiled checks run in a store) and the pySHACL reference path. May import ``model``, ``io``,
``stores`` and ``sparql``."""
