"""Where SPARQL runs: one Store protocol (query, update, load, load_file, add_graph, dump) and its
implementations - rdflib in memory, embedded Oxigraph in memory or persistent, a SPARQL 1.1
endpoint - with loading files into a store and opening the store a command names. May import
``model`` and ``io``. No code outside this package asks which store it has."""

from csfkg.stores.endpoint_store import EndpointStore
from csfkg.stores.oxigraph_store import OxigraphStore
from csfkg.stores.protocol import QueryResult, SelectResult, Store
from csfkg.stores.rdflib_store import RdflibStore
from csfkg.stores.sparql_text import Bindings, Term, as_update, query_form, with_values, with_values_rows

__all__ = [
    "Bindings",
    "EndpointStore",
    "OxigraphStore",
    "QueryResult",
    "RdflibStore",
    "SelectResult",
    "Store",
    "Term",
    "as_update",
    "query_form",
    "with_values",
    "with_values_rows",
]
