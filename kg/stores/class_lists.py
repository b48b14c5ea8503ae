"""Class membership as a list of classes: how a query reaches a SPARQL server.

``?x rdf:type/rdfs:subClassOf* <C>`` ("``?x`` is an instance of ``C`` or of one of its
subclasses") is the query library's and the compiled SHACL checks' one way to test class
membership. Virtuoso 7.2 evaluates that path wrongly where its subject comes from another
pattern and the path stands inside ``OPTIONAL``, ``MINUS``, ``FILTER (NOT) EXISTS`` (also
inside a sub-SELECT joined there, and also for ``rdfs:subClassOf+`` or a chain of
``rdfs:subClassOf?``): it finds no instance at all (openlink/virtuoso-opensource issues 127 and
704, open; measured in tests/stores/test_virtuoso.py). The compiled ``sh:class`` checks are such
anti-joins, so every record failed them there. The same server answers the subclass closure
asked on its own (``?sub rdfs:subClassOf* <C>``) and a plain type test against a list of classes
(``?x rdf:type ?t FILTER (?t IN (...))``) right, in every position.

So the endpoint store (:mod:`csfkg.stores.endpoint_store`) sends each query and update with such
paths written as that plain test (:func:`listing_classes`): it first asks the server the
subclass closure of the classes the text names (:func:`closure_query`, one query), then
:func:`with_class_lists` writes ``?x rdf:type ?csfkg_class_1`` in place of the path and
``FILTER (?csfkg_class_1 IN (<C>, <Sub1>, ...))`` at the end of the group that holds it. The two
mean the same on the same data (the sequence path gives one solution per type of ``?x`` in the
closure, as the rewritten join does), on every server; the query files and the compiled checks
keep the path, which the embedded stores and the SQL engine evaluate right, and which any
server evaluates where it is not rewritten.

A path on a variable class (``FILTER EXISTS { ?brain a/rdfs:subClassOf* ?region }`` in a
SPARQL constraint of the safety shapes; Virtuoso finds nothing there either, also through a
VALUES list of pairs) is rewritten only where it is all that an ``EXISTS`` holds: the test is
then "``?region`` unbound, or the type is ``?region``, or (type, ``?region``) is one of the
proper subclass pairs of the graph" (:data:`PAIRS_QUERY`, written as strings in an IN list), the
same whether the EXISTS sees ``?region`` bound or not.

Left as written (the server evaluates the path): any other path on a variable class (the path
may be what binds it), a path inside an alternative or parentheses
(``P|Q/a/rdfs:subClassOf* C``; the end of a plain sequence, ``csf:showsFinding/a/rdfs:subClassOf* C``,
is rewritten), a path with an object list (``..., <D>``), a path in a ``SELECT *`` (the new variable would be projected), a class whose closure holds a blank
node (an anonymous class cannot be listed), and a name whose prefix the text does not declare.
tests/stores/test_class_lists.py checks on embedded Oxigraph that every compiled check and
every library query with a path answers the same rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from rdflib import RDF, RDFS, URIRef

from csfkg.stores.sparql_text import STRIP, matching_brace

__all__ = ["PAIRS_QUERY", "VARIABLE", "class_paths", "closure_query", "listing_classes", "with_class_lists"]

VARIABLE = "csfkg_class_"
"""The prefix of the variables that hold an instance's type in a rewritten query."""

_NAME = r"(?:<[^<>\"{}|^`\\\s]*>|[A-Za-z](?:[\w.-]*\w)?:(?:[\w-](?:[\w.-]*[\w-])?)?|:[\w-]+)"
_PATH = re.compile(
    r"(?<![\w:|^>)])(?P<type>a|" + _NAME + r")\s*/\s*(?P<sub>" + _NAME + r")\s*\*\s*"
    r"(?P<cls>" + _NAME + r"|[?$]\w+)"
)
_EXISTS = re.compile(r"\bEXISTS\s*$", re.IGNORECASE)
_SUBJECT = re.compile(r"[?$]\w+|" + _NAME)
_PREFIX = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_STAR = re.compile(r"\s*(?:(?:DISTINCT|REDUCED)\s+)?\*\s*$", re.IGNORECASE)
_SELECT = re.compile(r"\bSELECT\b(?P<projection>[^{]*?)\bWHERE\s*\{", re.IGNORECASE | re.DOTALL)


def _iri(name: str, prefixes: Mapping[str, str]) -> str | None:
    """The IRI a name in query text stands for, ``None`` where it is no IRI the text declares."""
    if name.startswith("<"):
        return name[1:-1]
    prefix, _, local = name.partition(":")
    if prefix not in prefixes:
        return None
    return prefixes[prefix] + local


def _masked(text: str) -> str:
    """The text with comments and strings blanked (IRIs kept: a brace never stands in one)."""
    return STRIP.sub(lambda m: m.group(0) if m.group(0).startswith("<") else " " * len(m.group(0)), text)


def listing_classes(
    text: str,
    select: Callable[[str], Sequence[Sequence[object]]],
    known: dict[str, list] | None = None,
) -> str:
    """``text`` as :func:`with_class_lists` writes it, with the lists of classes asked of the
    server that will run it: ``select(query)`` runs a SELECT there and returns its rows (at most
    two queries, none for a text without class membership paths). ``known`` keeps what was
    asked (each class's closure, :data:`PAIRS_QUERY`'s pairs) for the next texts: the caller
    empties it when the data may have changed."""
    found = {cls for _, _, cls in class_paths(text)}
    if not found:
        return text
    known = {} if known is None else known
    classes = sorted(cls for cls in found if cls[0] != "?")
    asked = [cls for cls in classes if cls not in known]
    if asked:
        closures: dict[str, list] = {cls: [] for cls in asked}
        for cls, sub in select(closure_query(asked)):
            closures.setdefault(str(cls), []).append(sub)
        known.update(closures)
    listed = {cls: known[cls] for cls in classes if all(isinstance(sub, URIRef) for sub in known[cls])}
    if len(classes) < len(found) and PAIRS_QUERY not in known:
        known[PAIRS_QUERY] = [(sub, cls) for sub, cls in select(PAIRS_QUERY)]
    return with_class_lists(text, listed, known.get(PAIRS_QUERY))


def class_paths(text: str) -> list[tuple[int, int, str]]:
    """Where ``text`` tests class membership in a way :func:`with_class_lists` rewrites: each
    path ``rdf:type/rdfs:subClassOf* C`` as its start and end offsets and the class, an IRI, or
    ``?name`` for a variable class (only where the path is all an ``EXISTS`` group holds; see the
    module docstring for the paths left as written)."""
    masked = _masked(text)
    prefixes = {m.group(1) or "": m.group(2) for m in _PREFIX.finditer(masked)}
    selects = [
        (m.start(), matching_brace(masked, m.end() - 1, "a SELECT"), bool(_STAR.match(m.group("projection"))))
        for m in _SELECT.finditer(masked)
    ]
    found: list[tuple[int, int, str]] = []
    for match in _PATH.finditer(masked):
        kind = "a" if match.group("type") == "a" else _iri(match.group("type"), prefixes)
        if kind not in ("a", str(RDF.type)) or _iri(match.group("sub"), prefixes) != str(RDFS.subClassOf):
            continue
        named = match.group("cls")
        if named[0] in "?$":
            if not _alone_in_exists(masked, match.start(), match.end()):
                continue
            cls: str | None = "?" + named[1:]
        else:
            cls = _iri(named, prefixes)
        after = masked[match.end() :].lstrip()
        if cls is None or after.startswith((",", "/", "|")):
            continue
        if masked[match.start() - 1] == "/":  # the end of a sequence path: P/a/rdfs:subClassOf* C
            head = re.search(r"[\s;{]([^\s;{]*)$", masked[: match.start()])
            if head is None or re.search(r"[|()?*+]", head.group(1)):
                continue
        enclosing = [(s, star) for s, e, star in selects if s < match.start() < e]
        if enclosing and max(enclosing)[1]:  # the innermost SELECT projects *
            continue
        found.append((match.start(), match.end(), cls))
    return found


def _alone_in_exists(masked: str, start: int, end: int) -> bool:
    """Whether the path at ``start:end`` and its subject are all that an ``EXISTS { }`` holds."""
    opening = _group_start(masked, start)
    closing = matching_brace(masked, opening, "a group")
    subject = masked[opening + 1 : start].strip()
    rest = masked[end:closing].strip()
    return (
        bool(_EXISTS.search(masked[:opening]))
        and _SUBJECT.fullmatch(subject) is not None
        and rest in ("", ".")
    )


def closure_query(classes: list[str]) -> str:
    """A query for the subclass closure of each class (``?class``, ``?sub``): one path from a
    constant class each, in a ``UNION``, the form Virtuoso answers right."""
    branches = " UNION ".join(
        f"{{ ?sub <{RDFS.subClassOf}>* <{c}> . BIND (<{c}> AS ?class) }}" for c in classes
    )
    return f"SELECT DISTINCT ?class ?sub WHERE {{ {branches} }}"


PAIRS_QUERY = (
    f"SELECT DISTINCT ?sub ?class WHERE {{ {{ SELECT DISTINCT ?sub WHERE {{ ?sub <{RDFS.subClassOf}> ?any }} }}"
    f" ?sub <{RDFS.subClassOf}>+ ?class . FILTER (isIRI(?sub) && isIRI(?class)) }}"
)
"""Every pair of named classes, the first a proper subclass of the second: the list a path on a
variable class is tested against (the start of each path given, as Virtuoso needs)."""


def with_class_lists(
    text: str, closures: Mapping[str, list[URIRef]], pairs: list[tuple[URIRef, URIRef]] | None = None
) -> str:
    """``text`` with each path of :func:`class_paths` written as a plain type test,
    ``?x rdf:type ?csfkg_class_N`` in its place and a FILTER at the end of the innermost group
    holding it: on a constant class in ``closures``, ``?csfkg_class_N IN (C, its subclasses)``
    (``closures[C]``, IRIs; ``C`` itself always listed); on a variable class ``?v``, where
    ``pairs`` (:data:`PAIRS_QUERY`'s answer) is given, "``?v`` unbound, or the type is ``?v``,
    or (type, ``?v``) is one of the pairs", which is what the path means there (an unbound ``?v``
    is matched by any type, through the zero-length path)."""
    masked = _masked(text)
    edits: list[tuple[int, int, str]] = []
    paths = [p for p in class_paths(text) if p[2] in closures or (p[2][0] == "?" and pairs is not None)]
    for number, (start, end, cls) in enumerate(paths, start=1):
        variable = f"?{VARIABLE}{number}"
        if cls[0] == "?":
            listed = ", ".join(f'"{sub} {sup}"' for sub, sup in sorted(pairs or []))
            test = (
                f"!BOUND({cls}) || sameTerm({variable}, {cls}) || (isIRI({cls}) && "
                f'CONCAT(STR({variable}), " ", STR({cls})) IN ({listed}))'
            )
        else:
            members = [f"<{cls}>"] + sorted({f"<{m}>" for m in closures[cls] if str(m) != cls})
            test = f"{variable} IN ({', '.join(members)})"
        edits.append((start, end, f"<{RDF.type}> {variable}"))
        closing = _group_end(masked, start)
        edits.append((closing, closing, f" FILTER ({test}) "))
    out: list[str] = []
    done = 0
    for start, end, replacement in sorted(edits):
        out += [text[done:start], replacement]
        done = end
    out.append(text[done:])
    return "".join(out)


def _group_start(masked: str, position: int) -> int:
    """The offset of the brace that opens the innermost group holding ``position``."""
    depth = 0
    for index in range(position - 1, -1, -1):
        if masked[index] == "}":
            depth += 1
        elif masked[index] == "{":
            if depth == 0:
                return index
            depth -= 1
    raise ValueError("a class membership path outside any group")


def _group_end(masked: str, position: int) -> int:
    """The offset of the brace that closes the innermost group holding ``position``."""
    return matching_brace(masked, _group_start(masked, position), "a group")
