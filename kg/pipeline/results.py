"""Reading a patient's derived result out of the result graph with the ``report-*.rq``
queries, into plain data for the renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import URIRef

from csfkg.sparql.library import get_query
from csfkg.stores import SelectResult, Store
from csfkg.stores.sparql_text import truth
from csfkg.validation.report import ValidationReport


@dataclass
class Evidence:
    label: str
    statement: str
    source: str
    confidence: str
    iri: str
    corrections: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "label": self.label,
            "statement": self.statement,
            "source": self.source,
            "confidence": self.confidence,
            "iri": self.iri,
        }
        if self.corrections:
            data["corrected_by"] = [c.as_dict() for c in self.corrections]
        return data


@dataclass
class ProtocolRequirement:
    protocol: str
    protocol_label: str
    requirements: list[str]


@dataclass
class RedFlag:
    code: str
    label: str
    iri: str

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "label": self.label, "iri": self.iri}


@dataclass
class RedFlagAction:
    """The action of one red flag action group (csf:callsForAction of an urgent-evaluation
    recommendation), with the red flags present that call for it and the group's evidence."""

    code: str
    label: str
    iri: str
    action: str
    red_flags: list[RedFlag] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "label": self.label,
            "iri": self.iri,
            "action": self.action,
            "red_flags": [f.as_dict() for f in self.red_flags],
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass
class RecommendationItem:
    code: str
    label: str
    iri: str
    role: str
    rationale: list[str]
    branches: list[str]
    evidence: list[Evidence] = field(default_factory=list)
    protocols: list[ProtocolRequirement] = field(default_factory=list)
    red_flag_actions: list[RedFlagAction] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "label": self.label,
            "iri": self.iri,
            "role": self.role,
            "rationale": " ".join(self.rationale),
            "branches": self.branches,
            "evidence": [e.as_dict() for e in self.evidence],
        }
        if self.protocols:
            data["protocols"] = [
                {"iri": p.protocol, "label": p.protocol_label, "requires": p.requirements}
                for p in self.protocols
            ]
        if self.red_flag_actions:
            data["red_flag_actions"] = [a.as_dict() for a in self.red_flag_actions]
        return data


@dataclass
class MissingDatum:
    code: str
    label: str
    iri: str
    definition: str
    blocking: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "label": self.label,
            "iri": self.iri,
            "definition": self.definition,
            "blocking": self.blocking,
        }


@dataclass
class HeadacheSubtype:
    """The likely ICHD-3 subtype of a patient's headache, read from the timeline
    (``report-headache-subtype.rq``): a reading of the dates, not a diagnosis."""

    code: str
    label: str
    iri: str
    statement: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "label": self.label, "iri": self.iri, "statement": self.statement}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> HeadacheSubtype:
        statement = data.get("statement")
        return cls(
            str(data["code"]),
            str(data["label"]),
            str(data["iri"]),
            None if statement is None else str(statement),
        )


@dataclass
class BernScore:
    """The Bern score of one brain MRI study; ``missing`` names the elements not recorded (the
    score then counts the recorded ones only)."""

    study: str
    score: int
    class_code: str
    class_label: str
    caveat: str | None = None
    missing: list[tuple[str, str]] = field(default_factory=list)
    """(code, label) of each element not recorded, in display order."""

    @property
    def complete(self) -> bool:
        return not self.missing

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> BernScore:
        """The score :meth:`as_dict` gave."""
        klass = data["class"]
        missing = data["missing_elements"]
        assert isinstance(klass, dict) and isinstance(missing, list)
        return cls(
            study=str(data["study"]),
            score=int(str(data["score"])),
            class_code=str(klass["code"]),
            class_label=str(klass["label"]),
            caveat=None if data["caveat"] is None else str(data["caveat"]),
            missing=[(str(m["code"]), str(m["label"])) for m in missing],
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "study": self.study,
            "score": self.score,
            "class": {"code": self.class_code, "label": self.class_label},
            "caveat": self.caveat,
            "complete": self.complete,
            "missing_elements": [{"code": code, "label": label} for code, label in self.missing],
        }


@dataclass
class PatientResult:
    """What the command line shows for one patient. ``next_step`` is None when the data did not
    conform (violations) and nothing was derived."""

    patient: str
    assessment_date: str | None
    validation: ValidationReport
    recommendations: list[RecommendationItem] = field(default_factory=list)
    missing_data: list[MissingDatum] = field(default_factory=list)
    bern_scores: list[BernScore] = field(default_factory=list)
    headache_subtype: HeadacheSubtype | None = None

    @property
    def next_step(self) -> RecommendationItem | None:
        return next((r for r in self.recommendations if r.role == "next-step"), None)

    def as_dict(self) -> dict[str, object]:
        step = self.next_step
        return {
            "patient": self.patient,
            "assessment_date": self.assessment_date,
            "next_step": None if step is None else {"code": step.code, "label": step.label, "iri": step.iri},
            "recommendations": [r.as_dict() for r in self.recommendations],
            "missing_data": [m.as_dict() for m in self.missing_data],
            "bern_scores": [b.as_dict() for b in self.bern_scores],
            "headache_subtype": None if self.headache_subtype is None else self.headache_subtype.as_dict(),
            "validation": self.validation.as_dict(),
        }


def _rows(store: Store, name: str, bindings: dict[str, URIRef]) -> list:
    result = store.query(get_query(name).text, bindings)
    assert isinstance(result, SelectResult)
    from types import SimpleNamespace

    return [SimpleNamespace(**row) for row in result.dicts()]


def read_result(store: Store, patient: URIRef) -> tuple[list[RecommendationItem], list[MissingDatum]]:
    """The recommendations (next step first) and missing data of ``patient``."""
    bindings = {"patient": patient}
    items: dict[str, RecommendationItem] = {}
    for row in _rows(store, "report-recommendations", bindings):
        key = str(row.recommendation)
        if key not in items:
            items[key] = RecommendationItem(
                code=str(row.code),
                label=str(row.label),
                iri=str(row.action),
                role=str(row.roleCode),
                rationale=[],
                branches=[],
            )
        item = items[key]
        if str(row.rationale) not in item.rationale:
            item.rationale.append(str(row.rationale))
        if str(row.branch) not in item.branches:
            item.branches.append(str(row.branch))

    evidence: dict[tuple[str, str], Evidence] = {}
    corrections: list[tuple[str, str, Evidence]] = []
    for row in _rows(store, "report-recommendation-evidence", bindings):
        source = str(row.sourceLabel)
        if row.citedNumber is not None:
            source += f", citing its reference {row.citedNumber} ({row.citedTitle})"
        entry = Evidence(
            label=str(row.label),
            statement=str(row.text),
            source=source,
            confidence=str(row.tier),
            iri=str(row.statement),
        )
        key = (str(row.recommendation), str(row.statement))
        if row.correctionOf is not None:
            corrections.append((str(row.recommendation), str(row.correctionOf), entry))
        elif key in evidence:
            if entry.source not in evidence[key].source:
                evidence[key].source += f"; {entry.source}"
        else:
            evidence[key] = entry
    for (recommendation, _), entry in evidence.items():
        items[recommendation].evidence.append(entry)
    for recommendation, corrected, entry in corrections:
        target = evidence.get((recommendation, corrected))
        if target is not None and all(c.iri != entry.iri for c in target.corrections):
            target.corrections.append(entry)

    for item in items.values():
        protocols: dict[str, ProtocolRequirement] = {}
        for row in _rows(store, "report-action-protocols", {"action": URIRef(item.iri)}):
            protocol = protocols.setdefault(
                str(row.protocol), ProtocolRequirement(str(row.protocol), str(row.protocolLabel), [])
            )
            protocol.requirements.append(str(row.requirementLabel))
        item.protocols = list(protocols.values())

    for recommendation, actions in _red_flag_actions(store, bindings).items():
        items[recommendation].red_flag_actions = actions

    missing = [
        MissingDatum(
            code=str(row.code),
            label=str(row.label),
            iri=str(row.element),
            definition=str(row.definition),
            blocking=truth(row.blocking),
        )
        for row in _rows(store, "report-missing-data", bindings)
    ]
    return list(items.values()), missing


def _red_flag_actions(store: Store, bindings: dict[str, URIRef]) -> dict[str, list[RedFlagAction]]:
    """The red flag actions of each recommendation of a patient (``report-red-flag-actions``),
    in the groups' display order, each with its red flags and evidence."""
    found: dict[str, dict[str, RedFlagAction]] = {}
    for row in _rows(store, "report-red-flag-actions", bindings):
        groups = found.setdefault(str(row.recommendation), {})
        action = groups.get(str(row.group))
        if action is None:
            action = groups[str(row.group)] = RedFlagAction(
                code=str(row.groupCode),
                label=str(row.groupLabel),
                iri=str(row.group),
                action=str(row.actionText),
            )
        if all(f.iri != str(row.flag) for f in action.red_flags):
            action.red_flags.append(
                RedFlag(code=str(row.flagCode), label=str(row.flagLabel), iri=str(row.flag))
            )
        if row.statement is not None and all(e.iri != str(row.statement) for e in action.evidence):
            action.evidence.append(
                Evidence(
                    label=str(row.label),
                    statement=str(row.text),
                    source=str(row.sourceLabel),
                    confidence=str(row.tier),
                    iri=str(row.statement),
                )
            )
    return {recommendation: list(groups.values()) for recommendation, groups in found.items()}


def read_bern_scores(store: Store, patient: URIRef) -> list[BernScore]:
    """The Bern score of each scored brain MRI study of ``patient`` (``report-bern-score.rq``)."""
    scores: dict[str, BernScore] = {}
    for row in _rows(store, "report-bern-score", {"patient": patient}):
        study = str(row.study)
        if study not in scores:
            caveat = None if row.caveat is None else str(row.caveat)
            scores[study] = BernScore(study, int(row.score), str(row.classCode), str(row.classLabel), caveat)
        if row.missingCode is not None:
            missing = (str(row.missingCode), str(row.missingLabel))
            if missing not in scores[study].missing:
                scores[study].missing.append(missing)
    return list(scores.values())


def read_headache_subtype(store: Store, patient: URIRef) -> HeadacheSubtype | None:
    """The likely subtype of ``patient``'s headache (``report-headache-subtype.rq``); None when no
    headache is present."""
    for row in _rows(store, "report-headache-subtype", {"patient": patient}):
        text = None if row.statementText is None else str(row.statementText)
        return HeadacheSubtype(str(row.code), str(row.label), str(row.subtype), text)
    return None
