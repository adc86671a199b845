"""The HTML report's inline stylesheet and script: constants, so the page's Content-Security-Policy
can allow exactly these two by hash and nothing else (an injected <script> or on* handler
would not run even if escaping failed somewhere). The script reads only data-* attributes;
no scanned text is ever placed inside it."""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root{--crit:#7a0b0b;--high:#c62828;--med:#ef6c00;--low:#f9a825;--info:#607d8b;--clean:#e8f5e9;
--ink:#1b1f23;--muted:#6a737d;--line:#d0d7de;--bg:#ffffff;--panel:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header,main>section{padding:12px 24px}
header{background:#0d1b2a;color:#fff}
header h1{margin:0 0 4px;font-size:20px}
header p{margin:0;color:#c9d1d9}
h2{font-size:17px;margin:18px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:90px;background:var(--panel)}
.card b{display:block;font-size:20px}
.card.sev-critical b{color:var(--crit)}.card.sev-high b{color:var(--high)}.card.sev-medium b{color:var(--med)}
.card.sev-low b{color:#8d6e00}.card.sev-info b{color:var(--info)}
table{border-collapse:collapse}
td,th{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
.legend{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0 10px;font-size:12px}
.legend span{display:inline-flex;align-items:center;gap:4px}
.legend i{display:inline-block;width:14px;height:14px;border:1px solid var(--line)}
.matrix{display:flex;gap:6px;overflow-x:auto;padding-bottom:8px;align-items:flex-start}
.col{flex:0 0 150px;min-width:150px}
.col h3{font-size:12px;margin:0 0 4px;padding:6px;background:#0d1b2a;color:#fff;border-radius:4px;min-height:44px}
.col h3 small{display:block;color:#c9d1d9;font-weight:normal}
.cell{display:block;margin:0 0 3px;padding:4px 6px;border:1px solid var(--line);border-radius:4px;
font-size:11px;line-height:1.25;color:var(--ink);text-decoration:none;background:#fff;position:relative}
.cell.sub{margin-left:10px;font-size:10px}
.cell .tid{display:block;font-family:ui-monospace,monospace;font-size:10px;color:var(--muted)}
.cell .n{position:absolute;top:3px;right:5px;font-weight:bold}
.cell.uncovered{background:repeating-linear-gradient(135deg,#fafbfc 0 4px,#eef0f2 4px 8px);color:#8b949e;border-style:dashed}
.cell.clean{background:var(--clean);border-color:#a5d6a7}
.cell.sev-critical{background:var(--crit);color:#fff}.cell.sev-high{background:var(--high);color:#fff}
.cell.sev-medium{background:var(--med);color:#fff}.cell.sev-low{background:var(--low)}
.cell.sev-info{background:var(--info);color:#fff}
.cell.sev-critical .tid,.cell.sev-high .tid,.cell.sev-medium .tid,.cell.sev-info .tid{color:#ffe}
.cell.selected{outline:3px solid #0969da;outline-offset:1px}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:0 0 10px;padding:8px;background:var(--panel);border:1px solid var(--line);border-radius:6px}
.filters label{font-size:12px}
.finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:4px;padding:8px 12px;margin:0 0 8px}
.finding.sev-critical{border-left-color:var(--crit)}.finding.sev-high{border-left-color:var(--high)}
.finding.sev-medium{border-left-color:var(--med)}.finding.sev-low{border-left-color:var(--low)}
.finding h3{font-size:14px;margin:0 0 4px;display:flex;flex-wrap:wrap;gap:8px;align-items:baseline}
.loc{font-family:ui-monospace,monospace;word-break:break-all}
.badge{font-size:11px;font-weight:bold;text-transform:uppercase;padding:1px 6px;border-radius:10px;color:#fff;background:var(--info)}
.badge.sev-critical{background:var(--crit)}.badge.sev-high{background:var(--high)}.badge.sev-medium{background:var(--med)}
.badge.sev-low{background:var(--low);color:#000}
.finding p{margin:4px 0}
pre{background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:6px 8px;overflow-x:auto;font-size:12px;margin:4px 0}
.meta{font-size:12px;color:var(--muted)}
.meta a{color:#0969da}
.rule{border-top:1px solid var(--line);padding:6px 0}
.rule h3{margin:6px 0}
.empty{color:var(--muted)}
[hidden]{display:none!important}
footer{padding:12px 24px;color:var(--muted);font-size:12px}
"""

# Filtering only: the report reads completely without it.
JS = """
(function () {
  "use strict";
  var findings = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var cells = Array.prototype.slice.call(document.querySelectorAll("a.cell"));
  var bar = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var techLabel = document.getElementById("technique-filter");
  var state = {technique: "", severity: "", kind: "", rule: ""};
  if (!bar) { return; }
  bar.hidden = false;

  function apply() {
    var n = 0;
    findings.forEach(function (el) {
      var d = el.dataset;
      var ok = (!state.severity || d.severity === state.severity) &&
        (!state.kind || d.kind === state.kind) &&
        (!state.rule || d.rule === state.rule) &&
        (!state.technique || (" " + d.techniques + " ").indexOf(" " + state.technique + " ") >= 0);
      el.hidden = !ok;
      if (ok) { n += 1; }
    });
    cells.forEach(function (c) {
      c.classList.toggle("selected", state.technique !== "" && c.dataset.technique === state.technique);
    });
    shown.textContent = n + " of " + findings.length + " shown";
    techLabel.textContent = state.technique ? "technique " + state.technique : "any technique";
  }

  ["severity", "kind", "rule"].forEach(function (name) {
    var select = document.getElementById("filter-" + name);
    select.addEventListener("change", function () { state[name] = select.value; apply(); });
  });
  cells.forEach(function (c) {
    c.addEventListener("click", function () {
      var t = c.dataset.technique;
      state.technique = state.technique === t ? "" : t;
      apply();
    });
  });
  document.getElementById("filter-clear").addEventListener("click", function () {
    state = {technique: "", severity: "", kind: "", rule: ""};
    ["severity", "kind", "rule"].forEach(function (name) {
      document.getElementById("filter-" + name).value = "";
    });
    apply();
  });
  apply();
})();
"""


def csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"style-src {csp_hash(CSS)}; "
    f"script-src {csp_hash(JS)}; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
