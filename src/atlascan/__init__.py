"""atlascan: find the security weaknesses of ML pipelines and name them in MITRE ATLAS terms."""

__version__ = "0.1.0"
