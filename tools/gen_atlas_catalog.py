"""Regenerate src/atlascan/data/atlas.json from a MITRE ATLAS 5.x data release (ATLAS.yaml).

Usage: python tools/gen_atlas_catalog.py ../shared/atlas/ATLAS.yaml
Only ids, names, tactic links, mitigation links and URLs are kept: the facts the rules cite.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ruamel.yaml import YAML

SITE = "https://atlas.mitre.org"


def build(data: dict) -> dict:
    matrix = data["matrices"][0]
    techniques = {t["id"]: t for t in matrix["techniques"]}
    out_tech = []
    for t in matrix["techniques"]:
        parent = t.get("subtechnique-of")
        tactics = t.get("tactics") or techniques.get(parent or "", {}).get("tactics", [])
        entry = {
            "id": t["id"],
            "name": t["name"],
            "tactics": list(tactics),
            "url": f"{SITE}/techniques/{t['id']}",
        }
        if parent:
            entry["parent"] = parent
        ref = t.get("ATT&CK-reference")
        if ref:
            entry["attack"] = ref["id"]
        out_tech.append(entry)
    out_mit = []
    for m in matrix["mitigations"]:
        linked: list[str] = []
        # ATLAS 5.6.0 mis-indents some technique links into ml-lifecycle; count them too.
        for item in list(m.get("techniques") or []) + list(m.get("ml-lifecycle") or []):
            if isinstance(item, dict) and item.get("id") and item["id"] not in linked:
                linked.append(item["id"])
        out_mit.append(
            {
                "id": m["id"],
                "name": m["name"],
                "techniques": linked,
                "url": f"{SITE}/mitigations/{m['id']}",
            }
        )
    return {
        "source": "MITRE ATLAS data release (Apache-2.0), ids and names only",
        "version": str(data["version"]),
        "tactics": [
            {"id": t["id"], "name": t["name"], "url": f"{SITE}/tactics/{t['id']}"}
            for t in matrix["tactics"]
        ],
        "techniques": out_tech,
        "mitigations": out_mit,
    }


def main() -> None:
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/atlas/ATLAS.yaml")
    data = YAML(typ="safe").load(src.read_text(encoding="utf-8"))
    out = Path(__file__).resolve().parents[1] / "src" / "atlascan" / "data" / "atlas.json"
    out.write_text(json.dumps(build(data), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
