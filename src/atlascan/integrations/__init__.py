"""Optional bridges to other security tools, run out of process and never imported by the core.

- `checkov`: run the Checkov CLI as a second engine, re-map its results to MITRE ATLAS with
  the table in `checks/_checkov/mapping.toml`, and merge them into atlascan's one report.
- `checkov_export`: write atlascan's declarative IaC rules as Checkov YAML policies.
"""
