"""The experimental SQL path (kg/sparql_sql.py, kg/duckdb_store.py): the derivation queries,
translated to SQL and run in DuckDB, derive exactly the triples Oxigraph derives; SPARQL's
expression errors and unbound variables keep their meaning; what is not translated is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sql_readings
from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery

from csfkg.cohort.run import add_knowledge
from csfkg.cohort.synth import write_cohort_file
from csfkg.engines.sql import loading as sql_loading
from csfkg.engines.sql import store as duckdb_store
from csfkg.engines.sql.translate import UnsupportedQuery, construct_statements, select_sql, solution_texts
from csfkg.pipeline.derive import derive_in as derive_store
from csfkg.stores import OxigraphStore

SEED = 2  # at 1,000 patients this seed reaches all 18 next step branches (test_store_agreement)


def test_derivation_in_duckdb_is_the_derivation_in_oxigraph(tmp_path: Path) -> None:
    import pyoxigraph

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=1_000, seed=SEED)
    store = OxigraphStore()
    store.store.load(path=str(cohort), format=pyoxigraph.RdfFormat.N_TRIPLES)
    add_knowledge(store)
    before = set(store.store)
    derive_store(store)
    oxigraph = {(q.subject, q.predicate, q.object) for q in store.store if q not in before}

    connection = duckdb_store.new_connection()
    sql_loading.load_ntriples(connection, cohort)
    add_knowledge(connection)
    loaded = sql_readings.row_counts(connection)
    derive_store(connection)
    derived = Graph().parse(data=sql_readings.derived_ntriples(connection, loaded), format="nt")
    as_oxigraph = Graph().parse(data="".join(f"{s} {p} {o} .\n" for s, p, o in oxigraph), format="nt")
    assert len(derived) == len(as_oxigraph) > 70_000
    assert set(derived) == set(as_oxigraph)


def test_every_derivation_query_translates_to_a_bounded_sql_statement() -> None:
    """DuckDB's time to bind a statement grows with its text: a comparison with a constant, or a
    sum of IFs, that repeated its operands' SQL at each read of them made derive-bern-score and
    derive-criterion-two-non-targeted-ebps 260-320 KB of SQL, 1-2 s each to bind whatever the
    cohort's size (issue 21's speed). Constants and choices are read as such (Const, Pick)."""
    from csfkg.sparql.library import derivation_queries

    connection = duckdb_store.new_connection()
    add_knowledge(connection)
    sizes = {
        q.name: len(construct_statements(prepareQuery(q.text).algebra, connection, None).solutions)
        for q in derivation_queries()
    }
    assert max(sizes.values()) < 64_000, sorted(sizes.items(), key=lambda item: -item[1])[:3]


def test_a_derivation_for_later_readers_leaves_out_only_the_triples_none_of_them_reads(
    tmp_path: Path,
) -> None:
    """``keep_for_readers`` (csfkg cohort --engine sql): the triples of every predicate
    a later query reads are those of the whole derivation; the provenance nothing reads is not
    made."""
    from csfkg.engines.sql.translate import predicates_read
    from csfkg.sparql.library import derivation_queries, get_query

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=300, seed=SEED)
    derived = []
    for readers in (None, [get_query("cohort-rows").text]):
        connection = duckdb_store.new_connection()
        sql_loading.load_ntriples(connection, cohort)
        add_knowledge(connection)
        loaded = sql_readings.row_counts(connection)
        if readers is not None:
            connection.keep_for_readers(readers)
        derive_store(connection)
        derived.append(
            set(Graph().parse(data=sql_readings.derived_ntriples(connection, loaded), format="nt"))
        )
    whole, for_rows = derived
    queries = list(derivation_queries())
    rationale = "<https://w3id.org/csfkg/ontology#rationale>"
    # derive-companions (after derive-next-step: a companion accompanies the next step's row) is
    # the last query that reads csf:rationale (None: it cannot tell, so any)
    later = [q for q in queries if q.stage > get_query("derive-companions").stage]
    assert later and all(
        rationale not in (predicates_read(duckdb_store.algebra_of(q.text).p) or {rationale}) for q in later
    )
    read_by_rows = predicates_read(duckdb_store.algebra_of(get_query("cohort-rows").text)) or frozenset()
    # what the queries that wrote something for the rows read (a query none of whose
    # predicates a later reader reads is not run, and reads nothing)
    made = {t[1].n3() for t in for_rows}
    read = set(read_by_rows)
    for query in queries:
        algebra = duckdb_store.algebra_of(query.text)
        if {p.n3() for _, p, _ in algebra.template} & made:
            read |= predicates_read(algebra.p) or set()
    assert for_rows < whole
    # read by a query, all of it made (csf:rationale: by derive-next-step, which writes some;
    # csf:fromBranch: derive-companions reads the next step's, and no later query the companions')
    # csf:criterion: the criteria of stage 40 read the assessments of the criteria before them,
    # and no query after them reads one (derive-recommendation-provenance, which did, is not run)
    from_branch = "<https://w3id.org/csfkg/ontology#fromBranch>"
    criterion = "<https://w3id.org/csfkg/ontology#criterion>"
    partly = {rationale, from_branch, criterion}
    assert {t for t in whole if t[1].n3() in read - partly} == {
        t for t in for_rows if t[1].n3() in read - partly
    }
    assert {t[1].n3() for t in whole - for_rows} == {
        "<http://www.w3.org/ns/prov#wasDerivedFrom>",
        "<http://www.w3.org/ns/prov#wasGeneratedBy>",
        "<https://w3id.org/csfkg/ontology#fromBranch>",
        # derive-red-flag-actions' links to the red flag actions, which only the renderers read
        "<https://w3id.org/csfkg/ontology#callsForAction>",
        # the Bern score's missing elements: recommend and explain show them, no CSV column reads them
        "<https://w3id.org/csfkg/ontology#bernMissingElement>",
        # the likely headache subtype: recommend and explain show it, no CSV column reads it
        "<https://w3id.org/csfkg/ontology#likelyHeadacheSubtype>",
        rationale,
        criterion,
    }
    assert read_by_rows and not read_by_rows & {t[1].n3() for t in whole - for_rows}
    # derive-companions' own rationales are left out (no later query reads csf:rationale), those
    # of derive-next-step, which derive-companions could read, made; so are the next steps'
    # csf:fromBranch, which derive-companions reads
    next_steps = {t[2] for t in whole if t[1].n3() == "<https://w3id.org/csfkg/ontology#hasNextStep>"}
    dropped = {t for t in whole - for_rows if t[1].n3() == rationale}
    assert dropped and not {t[0] for t in dropped} & next_steps
    assert {t for t in for_rows if t[1].n3() == rationale} == {
        t for t in whole if t[1].n3() == rationale and t[0] in next_steps
    }
    assert {t for t in whole if t[1].n3() == from_branch and t[0] in next_steps} <= for_rows


@pytest.mark.parametrize(
    ("where", "read"),
    [
        (
            "?s <http://e/a> ?o OPTIONAL { ?o <http://e/b> ?x FILTER EXISTS { ?x <http://e/c> ?z } }",
            {"a", "b", "c"},
        ),
        ("?s <http://e/a> ?o MINUS { ?o ^<http://e/b> ?x }", {"a", "b"}),
        ("?x <http://e/a>/<http://e/b>* ?y", {"a", "b"}),  # at least one step of <a>
        ("?s ?p ?o", None),
        (
            "?s <http://e/a> ?o FILTER NOT EXISTS { ?o ?p ?x }",
            None,
        ),  # inside an EXISTS, as rdflib translates it
        ("?s <http://e/a> ?o BIND (EXISTS { ?o ?p ?x } AS ?b)", None),
        ("?s !(<http://e/a>) ?o", None),
        ("?x <http://e/b>* ?y", None),  # zero steps: every node of the store
        ("?x (<http://e/a>|^<http://e/b>?) ?y", None),
    ],
)
def test_the_predicates_a_query_can_read(where: str, read: set[str] | None) -> None:
    """What derive_in(read_after=...) keeps: every predicate a pattern names, and everything
    where it can read any predicate."""
    from csfkg.engines.sql.translate import predicates_read

    found = predicates_read(prepareQuery(f"SELECT * WHERE {{ {where} }}").algebra)
    assert found == (None if read is None else frozenset(f"<http://e/{name}>" for name in read))


DATA = """
<http://e/a> <http://e/w> "thin" .
<http://e/b> <http://e/w> "5.5"^^<http://www.w3.org/2001/XMLSchema#decimal> .
<http://e/c> <http://e/w> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://e/c> <http://e/q> <http://e/b> .
"""


def _order(row: tuple) -> tuple:
    return tuple((value is None, value or "") for value in row)


def _rows_both_ways(data: str, query: str, tmp_path: Path) -> tuple[list, list]:
    """The rows of a SELECT on Oxigraph and on the SQL path, as N-Triples text, sorted."""
    import pyoxigraph

    oxigraph = pyoxigraph.Store()
    oxigraph.load(data.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    solutions = oxigraph.query(query)
    names = [v.value for v in solutions.variables]
    expected = sorted(
        (tuple(str(row[n]) if row[n] is not None else None for n in names) for row in solutions), key=_order
    )

    path = tmp_path / "data.nt"
    path.write_text(data.strip() + "\n")
    connection = duckdb_store.new_connection()
    sql_loading.load_ntriples(connection, path)
    relation = select_sql(prepareQuery(query).algebra, connection)
    got = sorted(connection.execute(solution_texts(relation, names)).fetchall(), key=_order)
    return got, expected


@pytest.mark.parametrize(
    "where",
    [
        "?s <http://e/w> ?w FILTER (?w >= 4.0)",  # "thin" >= 4.0 is an error: the row is dropped
        "?s <http://e/w> ?w FILTER (!(?w >= 4.0))",  # and so is its negation
        "?s <http://e/w> ?w FILTER (?w >= 4.0 || true)",  # error || true is true
        "?s <http://e/w> ?w FILTER (?w = 3.0)",  # 3 (integer) = 3.0 (decimal)
        "?s <http://e/w> ?w OPTIONAL { ?s <http://e/q> ?o } FILTER (!BOUND(?o))",
        "?s <http://e/w> ?w FILTER NOT EXISTS { ?s <http://e/q> ?any }",
        "{ ?s <http://e/w> ?w } UNION { ?s <http://e/q> ?o }",
        "{ SELECT (COUNT(?s) AS ?n) WHERE { ?s <http://e/w> ?w } } BIND (?n AS ?m)",
        "?s <http://e/w> ?w MINUS { ?s <http://e/q> ?o }",
        "?s <http://e/w> ?w MINUS { ?x <http://e/q> ?o }",  # nothing shared: nothing removed
        "?s <http://e/w> ?w OPTIONAL { ?s <http://e/q> ?o } MINUS { ?b <http://e/w> ?o }",
        "?s ?p ?o BIND (COALESCE(?nothing, DATATYPE(?o), ?o) AS ?d)",
        "?s ?p ?o BIND (sameTerm(?o, 3) AS ?same) BIND (isLiteral(?o) AS ?lit) BIND (isIRI(?o) AS ?iri) BIND (isBlank(?o) AS ?blank)",
        "?s <http://e/w> ?w FILTER (REGEX(STR(?w), '^[0-9]') || STRSTARTS(STR(?w), 'th'))",
        "?s <http://e/w> ?w FILTER (REGEX(STR(?w), '^TH', 'i'))",
        "?s <http://e/q>* ?o",
        "?s <http://e/q>* <http://e/b>",
        "?s <http://e/q>? ?o",
        # values bound by BIND and counts are read as values, and compare as terms with terms
        "?s <http://e/w> ?w BIND (?w + 1 AS ?n) FILTER (?n = 4)",
        "?s <http://e/w> ?w BIND (?w + 1 AS ?n) BIND (?n > 5 AS ?m) FILTER (?m || ?n = ?w)",
        "?s <http://e/w> ?w BIND (3 AS ?three) BIND (COALESCE(?three = ?w, 'error') AS ?same) BIND (COALESCE(?three != ?w, 'error') AS ?differs)",
        "?s ?p ?o BIND (1 AS ?one) BIND (COALESCE(?one = ?o, 'error') AS ?same)",
        "{ SELECT (COUNT(?s) AS ?n) (COUNT(DISTINCT ?s) AS ?m) WHERE { ?s ?p ?o } } FILTER (?n = ?m || ?n > 2)",
        "{ SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s } { SELECT ?x (COUNT(?o) AS ?m) WHERE { ?x <http://e/w> ?o } GROUP BY ?x } FILTER (?n = ?m)",
        # EXISTS substitutes the outer row: a variable its pattern does not bind is the outer one,
        # also in an EXISTS (or a FILTER) nested inside it
        "?s <http://e/w> ?w FILTER NOT EXISTS { ?s <http://e/q> ?o FILTER (EXISTS { ?o <http://e/w> ?w }) }",
        "?s <http://e/w> ?w FILTER EXISTS { ?x ?p ?o FILTER (?o = ?w && ?x != ?s) }",
        "?s <http://e/w> ?w FILTER (IF(?w > 4, true, BOUND(?w)))",
        # a term and a constant or computed value compared with = and !=: as terms
        "?s <http://e/w> ?a FILTER (?a != 3)",
        "?s <http://e/w> ?a FILTER (?a != true)",
        "?s <http://e/w> ?a FILTER (?a = 'thin')",
        "?s <http://e/w> ?a FILTER ('thin' != ?a)",
        "?s <http://e/w> ?a FILTER (!(?a = 3.0))",
        "?s <http://e/w> ?a BIND (STR(?a) AS ?t) FILTER (?t != 'x')",
        "?s <http://e/q> ?o OPTIONAL { ?o <http://e/w> ?a } BIND (STR(?a) AS ?t) FILTER (?t = '5.5')",
        "?s <http://e/w> ?a FILTER (STR(?a) != 3)",
        "?s <http://e/w> ?a FILTER (?a != 1e20)",  # past BIGINT: compared, not a failed cast
        # an IRI bound by BIND, in a union's branches, joined on (as derive-missing-data does),
        # also to an IRI no triple holds
        "{ ?s <http://e/w> ?w BIND (<http://e/c> AS ?e) } UNION { ?s <http://e/q> ?o BIND (<http://e/nowhere> AS ?e) } OPTIONAL { ?e <http://e/q> ?b }",
        "{ ?s <http://e/w> ?w BIND (<http://e/c> AS ?e) } UNION { ?s <http://e/q> ?o BIND (<http://e/a> AS ?e) } ?e <http://e/w> ?x",
        "?s <http://e/w> ?e OPTIONAL { BIND (<http://e/c> AS ?e) }",  # the left side's term where nothing matched
        # constants read as constants (their value, lexical form, datatype, STR()), and the
        # choices of IF and COALESCE read branch by branch: the same rows as from their text
        "?s <http://e/w> ?w FILTER (?w = '3'^^<http://www.w3.org/2001/XMLSchema#decimal> || ?w = 'thin')",
        "?s <http://e/w> ?w FILTER (?w != '5.50'^^<http://www.w3.org/2001/XMLSchema#decimal>)",
        "?s <http://e/w> ?w FILTER (?w < '6'^^<http://www.w3.org/2001/XMLSchema#double> || ?w = '03'^^<http://www.w3.org/2001/XMLSchema#integer>)",
        "?s ?p ?o BIND (DATATYPE(1) AS ?d) BIND (STR(<http://e/a>) AS ?t) BIND (isLiteral(<http://e/a>) AS ?l) FILTER (STR(?s) = ?t || ?o = 3)",
        "?s ?p ?o BIND ('2026-01-05'^^<http://www.w3.org/2001/XMLSchema#date> AS ?day) BIND (?day < '2026-02-01'^^<http://www.w3.org/2001/XMLSchema#date> AS ?before)",
        "?s ?p ?o BIND (YEAR('2026-13-05'^^<http://www.w3.org/2001/XMLSchema#date>) AS ?y) BIND ('x1'^^<http://www.w3.org/2001/XMLSchema#integer> + 1 AS ?bad)",
        "?s <http://e/w> ?w BIND (IF(?w > 4, ?w, 0) AS ?v) BIND (?v + 1 AS ?n) BIND (DATATYPE(?v) AS ?d)",
        "?s ?p ?o BIND (COALESCE(IF(?o <= 4, ?o, 0), 0) AS ?v) BIND (?v + IF(BOUND(?o), 1, 2) AS ?n) BIND (STR(?v) AS ?t)",
        "?s ?p ?o BIND (IF(isLiteral(?o), ?o, 'x') AS ?v) BIND (DATATYPE(?v) AS ?d) BIND (isLiteral(?v) AS ?l) BIND (?v = 'thin' AS ?thin)",
        "?s ?p ?o OPTIONAL { ?o <http://e/w> ?w } BIND (COALESCE(?w, ?o) AS ?v) BIND (STR(?v) AS ?t) BIND (?v >= 5 AS ?big)",
    ],
)
def test_a_select_gives_the_rows_oxigraph_gives(where: str, tmp_path: Path) -> None:
    got, expected = _rows_both_ways(DATA, f"SELECT * WHERE {{ {where} }}", tmp_path)
    assert got == expected


COUNTED = """
<http://e/a> <http://e/q> <http://e/b> .
<http://e/a> <http://e/r> <http://e/b> .
<http://e/a> <http://e/q> <http://e/c> .
<http://e/a> <http://e/q> <http://e/d> .
<http://e/b> <http://e/r> <http://e/d> .
<http://e/c> <http://e/r> <http://e/d> .
<http://e/a> <http://e/l> "x" .
<http://e/b> <http://e/l> "y" .
"""


@pytest.mark.parametrize(
    "query",
    [
        # the pattern's rows are distinct on the group key and the value: DISTINCT is left out
        "SELECT ?s (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s <http://e/q> ?o } GROUP BY ?s",
        "SELECT ?s (GROUP_CONCAT(DISTINCT ?o) AS ?c) WHERE { ?s <http://e/l> ?o } GROUP BY ?s",
        # another variable, a path, a union: one value met twice is counted once
        "SELECT ?s (COUNT(DISTINCT ?o) AS ?n) (COUNT(?o) AS ?all) WHERE { ?s ?p ?o } GROUP BY ?s",
        "SELECT ?s (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s <http://e/q> ?x . ?x <http://e/r> ?o } GROUP BY ?s",
        "SELECT ?s (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s <http://e/q>/<http://e/r> ?o } GROUP BY ?s",
        "SELECT ?s (COUNT(DISTINCT ?o) AS ?n) WHERE { { ?s <http://e/q> ?o } UNION { ?s <http://e/r> ?o } } GROUP BY ?s",
        "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s <http://e/q> ?o }",
    ],
)
def test_count_distinct_counts_each_value_once(query: str, tmp_path: Path) -> None:
    got, expected = _rows_both_ways(COUNTED, query, tmp_path)
    assert got == expected


FORMS = [
    " 5",
    "5 ",
    "+5",
    "-5",
    "5.",
    ".5",
    "+.5",
    "5.0",
    "00012",
    "1e3",
    "1E-3",
    "NaN",
    "INF",
    "-INF",
    "+INF",
    "",
    ".",
    "-.",
    "1.2.3",
    "0x10",
    "\u0663",
    "true",
    "false",
    "1",
    "0",
    "TRUE",
    " true",
    "2026-02-28",
    "2026-02-30",
    "2024-02-29",
    "2023-02-29",
    "2000-02-29",
    "1900-02-29",
    "2026-2-28",
    "2026-13-01",
    "2026-00-10",
    "2026-01-00",
    "0000-01-01",
    "12026-01-01",
    "-0001-01-01",
    "-0004-02-29",
    "2026-01-01Z",
    "2026-01-01+05:00",
    "2026-01-01T00:00",
    " 2026-01-01",
    "0000-02-29",
    "0100-02-29",
    "1600-02-29",
    "9999-12-31",
    "2026-04-31",
    "2026-06-30",
    "2026-02-29Z",
    "2024-02-29-05:00",
]


@pytest.mark.parametrize("datatype", ["integer", "decimal", "double", "float", "boolean", "date"])
def test_a_cast_from_a_string_takes_the_lexical_forms_oxigraph_takes(datatype: str, tmp_path: Path) -> None:
    data = "".join(f'<http://e/f{i}> <http://e/v> "{form}" .\n' for i, form in enumerate(FORMS))
    xsd = f"<http://www.w3.org/2001/XMLSchema#{datatype}>"
    query = f"SELECT ?x ?ok WHERE {{ ?s <http://e/v> ?x BIND (COALESCE(datatype({xsd}(?x)) = {xsd}, false) AS ?ok) }}"
    got, expected = _rows_both_ways(data, query, tmp_path)
    assert [r for r in got if r[1].startswith('"true"')], "some form is taken"
    assert got == expected


@pytest.mark.parametrize(
    "query",
    [
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",  # a template with a variable predicate: no table to write to
        "CONSTRUCT { ?s <http://e/x> ?o } WHERE { ?s ?p ?o BIND (NOW() AS ?t) }",
        "CONSTRUCT { ?s <http://e/x> ?n } WHERE { { SELECT ?s (COUNT(DISTINCT *) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s } }",
        "CONSTRUCT { ?s <http://e/x> ?o } WHERE { SERVICE <http://e/sparql> { ?s ?p ?o } }",
        "CONSTRUCT { ?s <http://e/x> ?o } WHERE { ?s ?p ?o FILTER (?o IN (<http://e/x>)) }",
        "CONSTRUCT { ?s <http://e/x> ?o } WHERE { ?s ?p ?o FILTER (REGEX(STR(?o), 'x', 's')) }",
        "CONSTRUCT { ?s <http://e/x> ?o } WHERE { ?s ?p ?o FILTER (REGEX(STR(?o), '\\\\d')) }",
        "CONSTRUCT { ?s <http://e/x> ?o } WHERE { ?s ?p ?o FILTER (<http://www.w3.org/2001/XMLSchema#time>(STR(?o))) }",
    ],
)
def test_what_is_not_translated_is_refused(query: str) -> None:
    store = duckdb_store.new_connection()
    with pytest.raises(UnsupportedQuery):
        construct_statements(prepareQuery(query).algebra, store)


def test_a_pattern_with_a_constant_predicate_reads_that_predicate_s_table_only(tmp_path: Path) -> None:
    data = tmp_path / "data.nt"
    data.write_text(DATA.strip() + "\n")
    store = duckdb_store.new_connection()
    sql_loading.load_ntriples(store, data)
    sql = select_sql(
        prepareQuery("SELECT * WHERE { ?s <http://e/q> ?o . ?o <http://e/w> ?w }").algebra, store
    ).sql
    assert store.tables["<http://e/q>"] in sql and store.tables["<http://e/w>"] in sql
    assert "triples" not in sql
    assert store.execute(f"SELECT count(*) FROM ({sql})").fetchone() == (1,)


def test_a_computed_string_with_a_line_break_is_the_term_a_file_holds(tmp_path: Path) -> None:
    """A string made by the query is the literal of the same text in the store: its N-Triples
    text escapes a line feed and a carriage return as the file's does."""
    data = '<http://e/a> <http://e/w> "x\\ny\\rz" .\n'
    query = 'SELECT * WHERE { ?s <http://e/w> ?w BIND (CONCAT("x", "\\n", "y", "\\r", "z") AS ?t) FILTER (?t = ?w) }'
    got, expected = _rows_both_ways(data, query, tmp_path)
    assert got == expected and len(got) == 1


def test_a_join_on_an_iri_bound_by_bind_compares_ids_only(tmp_path: Path) -> None:
    """An IRI bound by BIND is always bound: a join on it is on equal ids (DuckDB hashes them),
    not on "equal or either unbound" (a nested loop: 1.6M rows for 100k patients' missing data)."""
    store = _loaded(tmp_path)
    query = "SELECT * WHERE { { ?s <http://e/w> ?w BIND (<http://e/c> AS ?e) } UNION { ?s <http://e/q> ?o BIND (<http://e/a> AS ?e) } ?e <http://e/w> ?x }"
    relation = select_sql(prepareQuery(query).algebra, store)
    assert "e" not in relation.maybe_null
    assert "IS NULL" not in relation.sql.split(" JOIN ")[-1]
    assert store.execute(f"SELECT count(*) FROM ({relation.sql})").fetchone() == (4,)


@pytest.mark.parametrize(
    ("where", "kept"),
    [
        # the OPTIONAL binds only ?a, which nothing reads: left out
        ("?s <http://e/q> ?o OPTIONAL { ?o <http://e/w> ?a }", 0),
        # read by a FILTER, a BIND, or bound from it where the left side may leave it unbound: kept
        ("?s <http://e/q> ?o OPTIONAL { ?o <http://e/w> ?a } FILTER (BOUND(?a))", 1),
        ("?s <http://e/q> ?o OPTIONAL { ?o <http://e/w> ?a } BIND (STR(?a) AS ?t) FILTER (?t != 'x')", 1),
        ("{ ?s <http://e/q> ?o } UNION { ?s <http://e/w> ?w } OPTIONAL { ?s <http://e/q> ?o }", 1),
        # bound by VALUES inside it, or read by a VALUES beside it: kept
        ("?s <http://e/w> ?w OPTIONAL { VALUES ?o { <http://e/c> } }", 1),
        ("?s <http://e/q> ?o OPTIONAL { ?o <http://e/w> ?a } VALUES ?a { 5.5 }", 1),
        # under a count, rows are counted: kept
        (
            "{ SELECT ?s (COUNT(?s) AS ?n) WHERE { ?s ?p ?x OPTIONAL { ?x <http://e/w> ?a } } GROUP BY ?s } ?s <http://e/q> ?o",
            1,
        ),
    ],
)
def test_an_optional_whose_variables_nothing_reads_is_left_out(where: str, kept: int, tmp_path: Path) -> None:
    """A CONSTRUCT made for later readers (csfkg cohort --engine sql) is translated without an
    OPTIONAL that binds no variable its template (as those readers need it) or the operators
    above read; the triples it makes are those of the whole query."""
    from csfkg.engines.sql.translate import without_unread_optionals

    query = f"CONSTRUCT {{ ?s <http://e/x> ?o }} WHERE {{ {where} }}"
    algebra = prepareQuery(query).algebra
    pattern = without_unread_optionals(algebra.p, {"s", "o"})
    assert sum(1 for node in _walk(pattern) if node.name == "LeftJoin") == kept
    assert sum(1 for node in _walk(algebra.p) if node.name == "LeftJoin") == 1  # the cached algebra unchanged
    made = []
    for read in (None, frozenset({"<http://e/x>"})):
        store = _loaded(tmp_path)
        duckdb_store.run_construct(store, algebra, read)
        made.append(store.execute(f"SELECT s, o FROM {store.tables['<http://e/x>']} ORDER BY ALL").fetchall())
    assert made[0] == made[1] and made[0]


def _walk(pattern):
    yield pattern
    for key in ("p", "p1", "p2"):
        part = pattern.get(key)
        if hasattr(part, "name"):
            yield from _walk(part)


def _loaded(tmp_path: Path):
    """A new SQL store holding :data:`DATA`."""
    data = tmp_path / "data.nt"
    data.write_text(DATA.strip() + "\n")
    connection = duckdb_store.new_connection()
    sql_loading.load_ntriples(connection, data)
    return connection


def test_an_insert_adds_only_triples_the_table_does_not_hold(tmp_path: Path) -> None:
    connection = _loaded(tmp_path)
    # re-derives an asserted triple (c q b) and derives a new one (b r c), twice over
    algebra = prepareQuery(
        "CONSTRUCT { ?c <http://e/q> ?b . ?b <http://e/r> ?c } WHERE { ?c <http://e/q> ?b . ?c <http://e/w> ?w . ?b <http://e/w> ?v }"
    ).algebra
    for _ in range(2):
        duckdb_store.run_construct(connection, algebra)
    rows = sql_readings.derived_ntriples(connection, {}).splitlines()
    assert len(rows) == len(set(rows)) == 5
    assert "<http://e/b> <http://e/r> <http://e/c> ." in rows


def test_triples_of_minted_subjects_are_held_once(tmp_path: Path) -> None:
    """A template's subject computed by the query (BIND IRI): the first run's terms are new, so
    its triples are added without a look at the table; a second run mints the same terms, held
    already, and adds nothing again; two template triples giving one triple give it once; an
    asserted triple derived again is not added."""
    connection = _loaded(tmp_path)
    algebra = prepareQuery(
        "CONSTRUCT { ?m <http://e/of> ?s . ?m <http://e/of> ?s . ?m a <http://e/M> . ?s <http://e/w> ?v } "
        "WHERE { ?s <http://e/w> ?v BIND (IRI(CONCAT(STR(?s), '/m')) AS ?m) }"
    ).algebra
    duckdb_store.run_construct(connection, algebra)
    first = sql_readings.derived_ntriples(connection, {}).splitlines()
    duckdb_store.run_construct(connection, algebra)
    again = sql_readings.derived_ntriples(connection, {}).splitlines()
    assert len(first) == len(set(first))
    assert sorted(again) == sorted(first)
    assert "<http://e/a/m> <http://e/of> <http://e/a> ." in first
    assert (
        sum(" <http://e/of> " in row for row in first) == sum(" <http://e/w> " in row for row in first) == 3
    )


def test_values_are_compared_for_the_terms_of_every_load_and_of_the_derivation(tmp_path: Path) -> None:
    """Comparisons read numbers and dates from a table kept beside the terms (value_terms): it
    holds the values of a second file's terms and of terms a query computes, as the terms
    table does."""
    connection = _loaded(tmp_path)  # b: 5.5, c: 3
    more = tmp_path / "more.nt"
    more.write_text(
        '<http://e/d> <http://e/w> "7"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
        '<http://e/e> <http://e/day> "2026-01-02"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
        '<http://e/f> <http://e/day> "2025-12-31"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
    )
    sql_loading.load_ntriples(connection, more)
    duckdb_store.run_construct(
        connection,
        prepareQuery(
            "CONSTRUCT { ?s <http://e/twice> ?n } WHERE { ?s <http://e/w> ?w BIND (?w * 2 AS ?n) }"
        ).algebra,
    )

    def subjects(query: str) -> list[str]:
        _, rows = duckdb_store.select(connection, query)
        return sorted(row[0] for row in rows)

    assert subjects(
        "SELECT ?s WHERE { ?s <http://e/w> ?w . <http://e/c> <http://e/w> ?three FILTER (?w > ?three) }"
    ) == ["<http://e/b>", "<http://e/d>"]
    assert subjects(
        "SELECT ?s WHERE { ?s <http://e/twice> ?n . <http://e/b> <http://e/w> ?v FILTER (?n > ?v) }"
    ) == ["<http://e/b>", "<http://e/c>", "<http://e/d>"]
    assert subjects(
        "SELECT ?s WHERE { ?s <http://e/day> ?d . <http://e/f> <http://e/day> ?first FILTER (?d > ?first) }"
    ) == ["<http://e/e>"]
    values = "SELECT id, num, day FROM terms WHERE num IS NOT NULL OR day IS NOT NULL"
    assert sorted(connection.execute(values).fetchall()) == sorted(
        connection.execute(f"SELECT * FROM {duckdb_store.VALUE_TERMS}").fetchall()
    )


def test_the_store_draws_no_progress_bar() -> None:
    """DuckDB draws a progress bar on stdout for a statement past 2 s (1M patients' loader runs
    15-20 s): the store's connection has it off, so the library prints nothing. (The setting is
    read rather than a long statement run: setting progress_bar_time, to make a short one long
    enough, switches the bar on again.)"""
    import subprocess
    import sys

    # in a process of its own, as a command runs it (under pytest's capture DuckDB starts with
    # the bar off anyway); a plain connection there has it on
    read = "SELECT current_setting('enable_progress_bar')"
    code = (
        f"import duckdb; from csfkg.engines.sql import store as duckdb_store; "
        f"print(duckdb_store.new_connection().execute({read!r}).fetchone()[0], duckdb.connect().execute({read!r}).fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]


def test_terms_that_duckdb_hash_merges_get_different_ids() -> None:
    import duckdb

    from csfkg.engines.sql.translate import id_of, quote

    a = "<https://example.org/csfkg/synthetic/p95/brain-mri/seq-4>"
    b = "<https://example.org/csfkg/synthetic/p99/brain-mri/seq-0>"
    connection = duckdb.connect()
    (same_hash,) = connection.execute(f"SELECT hash({quote(a)}) = hash({quote(b)})").fetchone()
    (same_id,) = connection.execute(f"SELECT {id_of(quote(a))} = {id_of(quote(b))}").fetchone()
    assert same_hash and not same_id


def test_two_terms_with_one_id_are_refused(tmp_path: Path) -> None:
    from csfkg.engines.sql.translate import id_of, quote

    data = tmp_path / "data.nt"
    data.write_text(DATA.strip() + "\n")
    connection = duckdb_store.new_connection()
    sql_loading.load_ntriples(connection, data)  # different terms, different ids
    # a term the store holds under the id another term will have, as a collision would make
    (taken,) = connection.execute(f"SELECT {id_of(quote('<http://e/new>'))}").fetchone()
    connection.execute(f"UPDATE {duckdb_store.STORED_TERMS} SET id = ? WHERE text = '<http://e/a>'", [taken])
    more = tmp_path / "more.nt"
    more.write_text("<http://e/new> <http://e/w> <http://e/c> .\n")
    with pytest.raises(duckdb_store.IdCollision, match="<http://e/a> and <http://e/new>"):
        sql_loading.load_ntriples(connection, more)
    assert connection.execute("SELECT count(*) FROM terms WHERE text = '<http://e/new>'").fetchone() == (0,)


def test_a_term_s_id_says_what_it_is() -> None:
    import duckdb

    from csfkg.engines.sql.translate import BLANK_KIND, IRI_KIND, LITERAL_KIND, id_of, quote

    connection = duckdb.connect()
    for text, kind in [
        ("<http://e/a>", IRI_KIND),
        ("_:b0", BLANK_KIND),
        ('"x"', LITERAL_KIND),
        ('"5"^^<http://www.w3.org/2001/XMLSchema#integer>', LITERAL_KIND),
    ]:
        (bits,) = connection.execute(f"SELECT {id_of(quote(text))} & 3").fetchone()
        assert bits == kind, text


def test_the_compiled_shacl_checks_find_in_sql_what_they_find_in_oxigraph(tmp_path: Path) -> None:
    """Every query and gate of the compiled SHACL checks, translated, gives Oxigraph's rows on a
    synthetic cohort (which holds violations of several kinds)."""
    import pyoxigraph

    from csfkg.validation.compiler import compiled_validation_queries

    cohort = tmp_path / "cohort.nt"
    write_cohort_file(cohort, patients=1_000, seed=SEED)
    oxigraph = OxigraphStore()
    oxigraph.store.load(path=str(cohort), format=pyoxigraph.RdfFormat.N_TRIPLES)
    add_knowledge(oxigraph)
    store = duckdb_store.new_connection()
    sql_loading.load_ntriples(store, cohort)
    add_knowledge(store)
    found = 0
    for check in compiled_validation_queries():
        for query in [*check.gates, check.query]:
            solutions = oxigraph.store.query(query)
            names = [v.value for v in solutions.variables]
            expected = sorted(
                (tuple(str(row[n]) if row[n] is not None else None for n in names) for row in solutions),
                key=_order,
            )
            got = sorted(
                store.execute(
                    solution_texts(select_sql(prepareQuery(query).algebra, store), names)
                ).fetchall(),
                key=_order,
            )
            assert got == expected, (check.name, check.component)
            found += len(got) if query == check.query else 0
    assert found > 100


def test_a_compiled_check_s_sql_stays_small() -> None:
    """Expressions that read a value more than once (IF's condition, a cast's validity, a
    datatype of a cast) are written once: a datatype check was 600 kB of SQL, and took minutes."""
    from csfkg.validation.compiler import compiled_validation_queries

    store = duckdb_store.new_connection()
    size, name, component = max(
        (len(select_sql(prepareQuery(check.query).algebra, store).sql), check.name, check.component)
        for check in compiled_validation_queries()
    )
    assert size < 64_000, (name, component, size)


def test_selected_values_are_oxigraph_s_values_escapes_and_blank_nodes_included(tmp_path: Path) -> None:
    """Escaped quotes, newlines and backslashes are read unescaped, by expressions (STR) and in
    the values a SELECT gives."""
    import pyoxigraph

    data = (
        '<http://e/a> <http://e/v> "plain" .\n'
        '<http://e/b> <http://e/v> "say \\"hi\\"\\n\\\\n é"@en .\n'
        "<http://e/c> <http://e/v> _:b7 .\n"
        '<http://e/dé> <http://e/v> "5"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    )
    query = 'SELECT ?s ?o ?g WHERE { { SELECT ?s (GROUP_CONCAT(STR(?x); separator="|") AS ?g) WHERE { ?s <http://e/v> ?x FILTER (isLiteral(?x)) } GROUP BY ?s } ?s <http://e/v> ?o }'
    oxigraph = pyoxigraph.Store()
    oxigraph.load(data.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    expected = sorted(
        tuple(row[n].value if row[n] is not None else None for n in ("s", "o", "g"))
        for row in oxigraph.query(query)
    )
    path = tmp_path / "data.nt"
    path.write_text(data)
    store = duckdb_store.new_connection()
    sql_loading.load_ntriples(store, path)
    got = sorted(
        tuple(row.get(n) for n in ("s", "o", "g")) for row in sql_readings.select_values(store, query)
    )
    assert got == expected
    assert ("http://e/b", 'say "hi"\n\\n é', 'say "hi"\n\\n é') in got


@pytest.mark.parametrize(
    "line",
    [
        '<http://e/a> <http://e/v> "\\u0041" .',  # "A" written another way: one term in Oxigraph, two texts here
        '<http://e/a\\u00e9> <http://e/v> "x" .',
        '<http://e/a> <http://e/v> "a\\tb" .',
        '<http://e/a>  <http://e/v> "x" .',  # two spaces: the split would misread it
        '<a> <http://e/v> "x" .',  # a relative IRI
        '<http://e/a> <http://e/v> "x',
        '"x" <http://e/v> <http://e/a> .',  # a literal as subject
        '<http://e/a> "p" <http://e/b> .',  # a literal as predicate
        "<http://e/a> <http://e/v> <http://e/b> <http://e/c> .",  # four terms
        "<http://e/a> <http://e/v> <http://e/b>",  # no final dot
        "<http://e/a> <http://e/v> <http://e/b> . # a comment",
        '<http://e/a> <http://e/v> "x" "y" .',
    ],
)
def test_the_loader_refuses_a_line_it_would_read_otherwise_than_oxigraph(tmp_path: Path, line: str) -> None:
    from csfkg.model.errors import InputError

    path = tmp_path / "data.nt"
    path.write_text('<http://e/a> <http://e/v> "fine \\"quoted\\"\\n" .\n' + line + "\n")
    store = duckdb_store.new_connection()
    with pytest.raises(InputError, match="is not N-Triples as the SQL engine reads it") as refused:
        sql_loading.load_ntriples(store, path)
    assert repr(line) in str(refused.value)  # the line is named
    assert store.execute("SELECT count(*) FROM terms").fetchone() == (0,)


def test_the_loader_reads_the_spaces_around_the_final_dot_as_oxigraph_does(tmp_path: Path) -> None:
    """One space before the dot is cut by position, every other spacing by trimming: the
    triples are Oxigraph's either way (a dot or spaces inside a literal are the literal's)."""
    import pyoxigraph

    data = (
        "<http://e/a> <http://e/v> <http://e/b>.\n"
        '<http://e/a> <http://e/v> "x ." .\n'
        '<http://e/a> <http://e/v> "é ." .\n'
        '<http://e/a> <http://e/v> "y"   .\n'
        '<http://e/a> <http://e/v> "u"  .\n'
        '<http://e/a> <http://e/v> "z" . \n'
        '<http://e/a> <http://e/v> "w" .\t\n'
        '<http://e/a> <http://e/v> "t ".\n'
        '<http://e/a> <http://e/v> "s  " .\n'
    )
    path = tmp_path / "data.nt"
    path.write_text(data)
    expected = {
        f"{t.subject} {t.predicate} {t.object} .\n"
        for t in pyoxigraph.parse(data.encode(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    }
    store = duckdb_store.new_connection()
    sql_loading.load_ntriples(store, path)
    got = sql_readings.derived_ntriples(store, {})
    assert len(expected) == 9
    assert set(got.splitlines(keepends=True)) == expected


def test_two_new_terms_with_one_id_are_refused() -> None:
    """Among the terms one call adds (not only against the terms held), as a collision would
    make them; nothing is added, and the message names both."""
    store = duckdb_store.new_connection()
    source = "SELECT CAST(4 AS UBIGINT) AS id, text FROM (VALUES ('<http://e/y>'), ('<http://e/x>'), ('<http://e/y>'), ('<http://e/z0>')) AS c(text)"
    with pytest.raises(duckdb_store.IdCollision, match="<http://e/x> and <http://e/z0>"):
        duckdb_store.add_terms(store, source)
    assert store.execute("SELECT count(*) FROM terms").fetchone() == (0,)
    # the same text twice is one term
    assert duckdb_store.add_terms(
        store,
        "SELECT CAST(4 AS UBIGINT) AS id, text FROM (VALUES ('<http://e/y>'), ('<http://e/y>')) AS c(text)",
    ) == (1, 0)
