"""csfkg: a clinical knowledge graph (OWL + SHACL + SPARQL) for one question - a patient with
possible CSF leak symptoms after lumbar medial branch blocks, due for a second round of blocks:
block first, or MRI first?

The library never prints. Data flows one way: input (``io``) -> SHACL validation (``validation``)
-> SPARQL derivation in a store (``stores``, ``pipeline``) -> result graph -> renderers. The
subpackages, lowest first (each may import only those below it; ``pyproject.toml`` states this as
import-linter contracts, checked in CI):

- ``model``: the vocabulary (IRIs), errors, packaged resources, the knowledge graph loaders;
- ``io``: input files and their safety checks, flags -> patient graph, atomic outputs;
- ``stores``: the one Store protocol and its implementations (rdflib, Oxigraph, an endpoint);
- ``sparql``: the named query library, parameters, user-query safety, result formats;
- ``validation``: the validation report, the SHACL compiler and compiled checks, pySHACL;
- ``engines``: engines of our own beside a reference (the SPARQL-to-SQL engine);
- ``pipeline``: assessment date -> validate -> derive -> read results, and rendering;
- ``lookups`` and ``curation``: guideline lookups; quality checks, mappings, release, reasoning, docs;
- ``cohort``: cohort runs over a store or a file, parts, rows, the synthetic cohort.
"""
