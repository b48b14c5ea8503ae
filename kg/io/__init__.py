"""Input and output: patient files and their safety checks (size, entities, contexts, IRIs),
command-line flags turned into the same patient graph, atomic file outputs. May import ``model``."""
