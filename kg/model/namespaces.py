"""The namespaces the vocabulary module builds on, as plain text: :mod:`csfkg.model.vocab` makes
rdflib namespaces of them, and code that must not import rdflib reads them here (the code lists,
read at every start of the command line, where importing rdflib costs 120 ms). Together with
:mod:`csfkg.model.vocab`, the only place an IRI is written (tests/model/test_vocab.py)."""

CSF = "https://w3id.org/csfkg/ontology#"
"""The csfkg ontology: classes, properties and value individuals."""

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
