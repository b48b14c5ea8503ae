"""The model: the vocabulary module (every IRI), the error hierarchy, the packaged resources
(ontology, shapes, queries) and the knowledge graph loaders, and the code lists read from the
ontology. Imports nothing of csfkg outside this package."""
