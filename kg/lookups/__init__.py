"""Lookups in the guideline knowledge for clinicians and analysts: MRI protocols, expected
findings, red flags, free-text lookup, and the readable why-chain of a patient (explain). May import
``model`` to ``pipeline``."""
