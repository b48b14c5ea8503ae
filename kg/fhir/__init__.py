"""FHIR R4 in and out: a Bundle (or NDJSON of Bundles) read into a patient graph of the csf:
vocabulary (:mod:`csfkg.fhir.bundles`), a patient graph written as a Bundle
(:mod:`csfkg.fhir.writer`), the one element table both read (:mod:`csfkg.fhir.mapping`), the
codings of the ontology's terms (:mod:`csfkg.fhir.codes`, from ``queries/fhir-codings.rq``),
our own CodeSystem and the mapping table of the docs (:mod:`csfkg.fhir.publish`), and the one
entry point that reads a patient input whatever its format (:mod:`csfkg.fhir.inputs`).

FHIR is parsed and validated with ``fhir.resources`` (its R4B models), never by hand, and
nothing a Bundle refers to is fetched.

May import: csfkg.model, csfkg.io, csfkg.stores, csfkg.sparql (never the pipeline or above).
"""
