"""The csfkg command line: thin Typer commands that parse arguments and call the library."""
