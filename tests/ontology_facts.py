"""Facts about the packaged ontology that several test modules read: the merged graph, and the
identifiers verified in shared/clinical-notes.md (and two ICD-10-CM categories that Mondo maps)."""

from __future__ import annotations

from rdflib import Graph

from conftest import REPO

ONTOLOGY = REPO / "ontology"


def merged() -> Graph:
    graph = Graph()
    for name in ("csfkg.ttl", "guideline.ttl", "article.ttl"):
        graph.parse(ONTOLOGY / name, format="turtle")
    return graph


VERIFIED = {
    "HP_0002315",
    "HP_4000182",
    "HP_0003418",
    "HP_0003419",
    "HP_0012514",
    "HP_0000020",
    "HP_0002607",
    "HP_0001945",
    "HP_0003690",
    "HP_0007340",
    "HP_0033748",
    "HP_0003401",
    "HP_0004372",
    "HP_0001289",
    "HP_0012641",
    "HP_0032934",
    "HP_0010304",
    "HP_6001070",
    "HP_0100309",
    "HP_0012505",
    "MONDO_0006811",
    "MONDO_0018624",
    "MONDO_0043327",
    "230744007",
    "R51.0",
    "G96.0",  # the category, as Mondo maps MONDO:0043327 (mondo_exactmatch_icd10cm.sssom.tsv)
    "G96.00",
    "G96.01",
    "G96.02",
    "G96.08",
    "G96.09",
    "G96.81",  # the category, as Mondo maps MONDO:0006811 (mondo_exactmatch_icd10cm.sssom.tsv)
    "G96.810",
    "G96.811",
    "G96.819",
    "G97.0",
    "G97.1",
    "G97.84",
    "G97.41",
    "24587-8",
    "24589-4",
    "24590-2",
    "36400-0",
    "36531-2",
    "64493",
    "64494",
    "64495",
    "62273",
}
