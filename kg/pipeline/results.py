"""Reading a patient's derived result out of the result graph with the ``report-*.rq`` queries
(and ``recommendation-criteria.rq``), into plain data for the renderers.

One shape for every output: :meth:`PatientResult.as_dict` is the JSON of ``csfkg recommend`` and
of ``csfkg explain`` (``ontology/shapes/patient-result.schema.json`` describes it); IRIs in it are
prefixed names (CURIEs), the renderers of text show labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from rdflib import URIRef

from csfkg.model.vocab import prefixed_if_iri, prefixed_name, prefixed_names_in
from csfkg.sparql.library import get_query
from csfkg.stores import SelectResult, Store
from csfkg.stores.sparql_text import truth
from csfkg.validation.report import ValidationReport

DISCLAIMER = "Decision support for the treating clinician, not a diagnosis."
"""The one line every output of a patient's result carries."""


def curie(iri: str) -> str:
    """An IRI as the JSON output names it: a prefixed name when one fits, else ``<iri>``."""
    return prefixed_name(iri)


@dataclass
class Statement:
    """An evidence statement cited for a recommendation, with its tier (``rank`` 1 most trusted),
    sources and the numbers of the article references the article cites for it. ``contested``:
    an article claim the graph corrects; ``linked`` are then its corrections, else the notes that
    qualify it (both csf:correctedBy in the graph)."""

    iri: str
    label: str
    text: str
    tier: str
    rank: int | None
    sources: list[str] = field(default_factory=list)
    cites: list[int] = field(default_factory=list)
    contested: bool = False
    linked: list[Statement] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "iri": curie(self.iri),
            "label": self.label,
            "text": self.text,
            "tier": self.tier,
            "rank": self.rank,
            "sources": self.sources,
            "article_cites_references": self.cites,
        }
        data["corrected_by" if self.contested else "notes"] = [s.as_dict() for s in self.linked]
        return data


@dataclass
class Evidence:
    """The evidence of one recommendation in two groups: what supports it, strongest tier
    first, and the article's claims the graph corrects (never counted as support)."""

    supports: list[Statement] = field(default_factory=list)
    contested: list[Statement] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "supports": [s.as_dict() for s in self.supports],
            "contested": [s.as_dict() for s in self.contested],
        }


@dataclass
class ProtocolRequirement:
    protocol: str
    protocol_label: str
    requirements: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"iri": curie(self.protocol), "label": self.protocol_label, "requires": self.requirements}


@dataclass
class RedFlag:
    code: str
    label: str
    iri: str

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "label": self.label, "iri": curie(self.iri)}


@dataclass
class RedFlagAction:
    """The action of one red flag action group (csf:callsForAction of an urgent-evaluation
    recommendation), with the red flags present that call for it and the group's evidence."""

    code: str
    label: str
    iri: str
    action: str
    red_flags: list[RedFlag] = field(default_factory=list)
    evidence: list[Statement] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "label": self.label,
            "iri": curie(self.iri),
            "action": self.action,
            "red_flags": [f.as_dict() for f in self.red_flags],
            "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass
class Fact:
    """A patient fact a criterion rests on: the node (a CURIE, None for a blank node), the label
    of its class and its recorded value (finding status, procedure status, study result)."""

    node: str | None
    type: str | None
    value: str | None

    def as_dict(self) -> dict[str, object]:
        return {"node": self.node, "type": self.type, "value": self.value}


@dataclass
class Criterion:
    """A criterion a branch requires (``relation`` "requires") or excludes ("excludes"), and
    whether the patient meets it."""

    iri: str
    label: str
    relation: str
    met: bool
    facts: list[Fact] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "iri": curie(self.iri),
            "label": self.label,
            "relation": self.relation,
            "met": self.met,
            "facts": [f.as_dict() for f in self.facts],
        }


@dataclass
class Branch:
    """The rule a recommendation came from, with its criteria."""

    iri: str
    label: str
    precedence: int | None
    rationale: str
    criteria: list[Criterion] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "iri": curie(self.iri),
            "label": self.label,
            "precedence": self.precedence,
            "rationale": self.rationale,
            "criteria": [c.as_dict() for c in self.criteria],
        }


@dataclass
class RecommendationItem:
    code: str
    label: str
    iri: str
    role: str
    branches: list[Branch] = field(default_factory=list)
    rules_tried_before: list[Branch] = field(default_factory=list)
    evidence: Evidence = field(default_factory=Evidence)
    protocols: list[ProtocolRequirement] = field(default_factory=list)
    red_flag_actions: list[RedFlagAction] = field(default_factory=list)

    @property
    def rationale(self) -> str:
        """The rationale of each branch, in order, once each."""
        return " ".join(dict.fromkeys(b.rationale for b in self.branches))

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "label": self.label,
            "iri": curie(self.iri),
            "role": self.role,
            "rationale": self.rationale,
            "branches": [b.as_dict() for b in self.branches],
            "rules_tried_before": [b.as_dict() for b in self.rules_tried_before],
            "evidence": self.evidence.as_dict(),
            "protocols": [p.as_dict() for p in self.protocols],
            "red_flag_actions": [a.as_dict() for a in self.red_flag_actions],
        }


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
            "iri": curie(self.iri),
            "definition": self.definition,
            "blocking": self.blocking,
        }


@dataclass
class Labelled:
    """A node named by its label: a planned procedure deferred, a caveat on the source.
    ``node`` is the IRI, or the blank node's identifier (shown as no IRI)."""

    node: str
    label: str
    is_iri: bool = True

    def as_dict(self) -> dict[str, object]:
        return {"iri": curie(self.node) if self.is_iri else None, "label": self.label}


@dataclass
class HeadacheSubtype:
    """The likely ICHD-3 subtype of a patient's headache, read from the timeline
    (``report-headache-subtype.rq``): a reading of the dates, not a diagnosis."""

    code: str
    label: str
    iri: str
    statement: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "label": self.label, "iri": curie(self.iri), "statement": self.statement}


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

    def as_dict(self) -> dict[str, object]:
        return {
            "study": curie(self.study),
            "score": self.score,
            "class": {"code": self.class_code, "label": self.class_label},
            "caveat": self.caveat,
            "complete": self.complete,
            "missing_elements": [{"code": code, "label": label} for code, label in self.missing],
        }


@dataclass
class PatientResult:
    """What the command line shows for one patient. ``next_step`` is None when the data did not
    conform (violations) and nothing was derived.

    ``source_status``: the caveats on the source article (pending human review);
    ``deferred``: the planned procedures a recommendation to defer puts off; ``screen_now``: the
    red flags not recorded when the red-flag screen is incomplete."""

    patient: str
    assessment_date: str | None
    validation: ValidationReport
    recommendations: list[RecommendationItem] = field(default_factory=list)
    missing_data: list[MissingDatum] = field(default_factory=list)
    bern_scores: list[BernScore] = field(default_factory=list)
    headache_subtype: HeadacheSubtype | None = None
    source_status: list[Labelled] = field(default_factory=list)
    deferred: list[Labelled] = field(default_factory=list)
    screen_now: list[RedFlag] = field(default_factory=list)

    @property
    def next_step(self) -> RecommendationItem | None:
        return next((r for r in self.recommendations if r.role == "next-step"), None)

    def as_dict(self) -> dict[str, object]:
        step = self.next_step
        return {
            "patient": curie(self.patient),
            "assessment_date": self.assessment_date,
            "disclaimer": DISCLAIMER,
            "source_status": [s.as_dict() for s in self.source_status],
            "validation": _validation_dict(self.validation),
            "next_step": None
            if step is None
            else {"code": step.code, "label": step.label, "iri": curie(step.iri)},
            "do_not_do_now": [d.as_dict() for d in self.deferred],
            "screen_now": [f.as_dict() for f in self.screen_now],
            "recommendations": [r.as_dict() for r in self.recommendations],
            "missing_data": [m.as_dict() for m in self.missing_data],
            "bern_scores": [b.as_dict() for b in self.bern_scores],
            "headache_subtype": None if self.headache_subtype is None else self.headache_subtype.as_dict(),
        }


def _validation_dict(report: ValidationReport) -> dict[str, object]:
    """The validation report as the JSON of a patient's result shows it: IRIs as prefixed names
    (CURIEs), in the fields and in the messages, as everywhere else in that JSON."""
    data = report.as_dict()
    for result in data["results"]:  # type: ignore[union-attr]
        for key in ("shape", "focus", "path", "value"):
            result[key] = prefixed_if_iri(result[key])
        result["message"] = prefixed_names_in(result["message"])
    return data


def _rows(store: Store, name: str, bindings: dict[str, URIRef]) -> list[SimpleNamespace]:
    result = store.query(get_query(name).text, bindings)
    assert isinstance(result, SelectResult)
    return [SimpleNamespace(**row) for row in result.dicts()]


def _number(term: object) -> int | None:
    return None if term is None else int(str(term))


def read_patient(store: Store, result: PatientResult) -> None:
    """Fill ``result`` (a patient whose data conforms) from the result graph in ``store``."""
    patient = URIRef(result.patient)
    result.recommendations = _recommendations(store, patient)
    result.missing_data = [
        MissingDatum(
            code=str(row.code),
            label=str(row.label),
            iri=str(row.element),
            definition=str(row.definition),
            blocking=truth(row.blocking),
        )
        for row in _rows(store, "report-missing-data", {"patient": patient})
    ]
    result.bern_scores = read_bern_scores(store, patient)
    result.headache_subtype = read_headache_subtype(store, patient)
    result.source_status = read_source_status(store)
    result.deferred = [
        Labelled(str(row.procedure), str(row.label), isinstance(row.procedure, URIRef))
        for row in _rows(store, "report-deferred-procedures", {"patient": patient})
    ]
    result.screen_now = [
        RedFlag(code=str(row.code), label=str(row.label), iri=str(row.flag))
        for row in _rows(store, "report-red-flag-screen", {"patient": patient})
    ]


def _rules_tried(store: Store, bindings: dict[str, URIRef]) -> list[Branch]:
    """The next-step rules tried before the one that gave the next step (``report-rules-tried.rq``),
    in order, each with the criteria that keep it from applying."""
    tried: dict[str, Branch] = {}
    for row in _rows(store, "report-rules-tried", bindings):
        branch = tried.setdefault(
            str(row.branch),
            Branch(str(row.branch), str(row.branchLabel), _number(row.precedence), str(row.rationale)),
        )
        met = str(row.relation) == "excludes"
        branch.criteria.append(Criterion(str(row.criterion), str(row.criterionLabel), str(row.relation), met))
    return list(tried.values())


def read_source_status(store: Store) -> list[Labelled]:
    """The caveats on the source article (``report-source-status.rq``): pending human review."""
    return [Labelled(str(row.caveat), str(row.label)) for row in _rows(store, "report-source-status", {})]


def _recommendations(store: Store, patient: URIRef) -> list[RecommendationItem]:
    """The recommendations of ``patient``, next step first, each with its branches and their
    criteria, its evidence, protocols and red flag actions."""
    bindings = {"patient": patient}
    items: dict[str, RecommendationItem] = {}
    for row in _rows(store, "report-recommendations", bindings):
        item = items.setdefault(
            str(row.recommendation),
            RecommendationItem(
                code=str(row.code), label=str(row.label), iri=str(row.action), role=str(row.roleCode)
            ),
        )
        if all(b.iri != str(row.branch) for b in item.branches):
            item.branches.append(
                Branch(str(row.branch), str(row.branchLabel), _number(row.precedence), str(row.rationale))
            )
    for row in _rows(store, "recommendation-criteria", bindings):
        branch = next(b for b in items[str(row.recommendation)].branches if b.iri == str(row.branch))
        criterion = next((c for c in branch.criteria if c.iri == str(row.criterion)), None)
        if criterion is None:
            criterion = Criterion(
                str(row.criterion), str(row.criterionLabel), str(row.relation), truth(row.met)
            )
            branch.criteria.append(criterion)
        if row.fact is not None:
            fact = Fact(
                node=curie(str(row.fact)) if isinstance(row.fact, URIRef) else None,
                type=None if row.factType is None else str(row.factType),
                value=None if row.factValue is None else str(row.factValue),
            )
            if fact not in criterion.facts:
                criterion.facts.append(fact)

    step = next((item for item in items.values() if item.role == "next-step"), None)
    if step is not None:
        step.rules_tried_before = _rules_tried(store, bindings)

    rows: dict[str, list[SimpleNamespace]] = {}
    for row in _rows(store, "report-recommendation-evidence", bindings):
        rows.setdefault(str(row.recommendation), []).append(row)
    for key, item in items.items():
        item.evidence = _evidence(rows.get(key, []))

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
    return list(items.values())


def _statement(row: SimpleNamespace, found: dict[str, Statement]) -> Statement:
    """The statement of ``row`` in ``found`` (added when new), with the row's source and cited
    reference number gathered."""
    statement = found.get(str(row.statement))
    if statement is None:
        statement = found[str(row.statement)] = Statement(
            iri=str(row.statement),
            label=str(row.label),
            text=str(row.text),
            tier=str(row.tier),
            rank=_number(getattr(row, "rank", None)),
            contested=truth(getattr(row, "contested", None)),
        )
    if str(row.sourceLabel) not in statement.sources:
        statement.sources.append(str(row.sourceLabel))
    number = _number(getattr(row, "citedNumber", None))
    if number is not None and number not in statement.cites:
        statement.cites.append(number)
    return statement


def _evidence(rows: list[SimpleNamespace]) -> Evidence:
    """The rows of ``report-recommendation-evidence`` of one recommendation, in the query's
    order (strongest tier first), as supports and contested claims, each with its linked
    statements (notes or corrections)."""
    cited: dict[str, Statement] = {}
    linked: dict[str, dict[str, Statement]] = {}
    for row in rows:
        if row.correctionOf is None:
            _statement(row, cited)
    for row in rows:
        if row.correctionOf is not None:
            links = linked.setdefault(str(row.correctionOf), {})
            statement = _statement(row, links)
            statement.contested = False  # a correction is itself checked, not contested
    for iri, statement in cited.items():
        statement.linked = list(linked.get(iri, {}).values())
    return Evidence(
        supports=[s for s in cited.values() if not s.contested],
        contested=[s for s in cited.values() if s.contested],
    )


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
        if row.statement is not None:
            statements = {s.iri: s for s in action.evidence}
            _statement(row, statements)
            action.evidence = list(statements.values())
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
