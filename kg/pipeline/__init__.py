"""The one-way pipeline for patients: assessment date -> SHACL validation -> SPARQL derivation
-> result graph -> plain results -> renderers (text, JSON, Turtle). May import every package
below it (``model`` to ``engines``)."""
