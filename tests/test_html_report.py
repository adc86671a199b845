"""The HTML report: self-contained, escapes everything scanned, draws the ATLAS matrix.

Unit tests use a hand-made ScanResult with two synthetic rules so the expected matrix does not
move when rules are added; the browser test scans a small repository with the secrets rules.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from atlascan.atlas import catalog
from atlascan.cli import main
from atlascan.model import Finding, Notice, Precision, ScanResult, Severity, SourceFile, Span
from atlascan.report import render
from atlascan.report.html_assets import CSS, JS, csp_hash
from atlascan.rules import rule_from_mapping
from scanning import scan_path

HOSTILE_NAME = "<img src=x onerror=alert(1)>.py"
HF_TOKEN = "hf_" + "Zq9Xw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCb"  # split so this file is not itself a finding
AWS_KEY = "AKIA" + "Z7QW3RT5YU2PLM4K"

GUIDANCE = """
## What it does
Finds a thing.

## Why it matters
It matters.

## Example
```python
bad()
```

## Use instead
```python
good()
```

## References
- somewhere
"""


def _rule(rid: str, name: str, techniques: list[str], severity: str) -> object:
    return rule_from_mapping(
        {"id": rid, "name": name, "title": f"{name} title", "severity": severity, "precision": "high",
         "engine": "secrets", "kinds": ["python"], "message": "m", "guidance": GUIDANCE,
         "atlas": {"techniques": techniques, "mitigations": ["AML.M0013"]}},
        f"{rid}.toml",
    )


def _finding(rid: str, path: str, line: int, severity: Severity, message: str = "A thing.", snippet: str = "") -> Finding:
    return Finding(rule_id=rid, path=path, region=Span(line, 1, line, 5), message=message,
                   severity=severity, precision=Precision.HIGH, snippet=snippet)


def _result(tmp_path: Path, findings: list[Finding], notices: list[Notice] | None = None) -> ScanResult:
    rules = {
        "ATS-TST-001": _rule("ATS-TST-001", "registry-image-mutable", ["AML.T0010.004"], "high"),
        "ATS-TST-002": _rule("ATS-TST-002", "service-exposed", ["AML.T0049"], "medium"),
    }
    files = [SourceFile(path=f.path, abspath=str(tmp_path / "x"), kind="python", size=1) for f in findings]
    return ScanResult(root=tmp_path, rules=rules, findings=findings, notices=notices or [], files=files,  # type: ignore[arg-type]
                      duration_s=0.1, kinds=Counter(f.kind for f in files))


def _cell_class(page: str, tid: str) -> str:
    m = re.search(rf'<a class="([^"]*)" href="#findings" data-technique="{re.escape(tid)}"', page)
    assert m, f"no matrix cell for {tid}"
    return m.group(1)


def test_matrix_colours_counts_and_coverage(tmp_path: Path) -> None:
    findings = [_finding("ATS-TST-001", "a.py", 3, Severity.HIGH), _finding("ATS-TST-001", "b.py", 7, Severity.HIGH)]
    page = render("html", _result(tmp_path, findings))
    # The sub-technique the rule names, and its parent rolled up, carry the severity and count.
    assert _cell_class(page, "AML.T0010.004") == "cell sub sev-high"
    assert _cell_class(page, "AML.T0010") == "cell sev-high"
    assert re.search(r'data-technique="AML.T0010.004"[^>]*>.*?<span class="n">2</span></a>', page)
    # Covered by an enabled rule but nothing found, versus no rule at all.
    assert _cell_class(page, "AML.T0049") == "cell clean"
    assert _cell_class(page, "AML.T0000") == "cell uncovered"
    assert _cell_class(page, "AML.T0010.001") == "cell sub uncovered"


def test_matrix_columns_follow_atlas_tactic_order(tmp_path: Path) -> None:
    page = render("html", _result(tmp_path, []))
    order = re.findall(r'<div class="col" data-tactic="([^"]+)"', page)
    assert order == [t.id for t in catalog().tactics]
    # Every technique and sub-technique of the catalog has a cell under each of its tactics.
    cells = re.findall(r'data-technique="(AML\.T[0-9.]+)"', page)
    expected = sum(len(t.tactics) for t in catalog().techniques.values())
    assert len(cells) == expected
    assert "No findings." in page


def test_findings_carry_filter_data_and_links(tmp_path: Path) -> None:
    findings = [_finding("ATS-TST-001", "infra/a.py", 12, Severity.HIGH, "Image is mutable.", "FROM x:latest")]
    page = render("html", _result(tmp_path, findings))
    article = re.search(r'<article class="finding sev-high"([^>]*)>(.*?)</article>', page, re.S)
    assert article
    attrs, body = article.groups()
    assert 'data-severity="high"' in attrs and 'data-kind="python"' in attrs and 'data-rule="ATS-TST-001"' in attrs
    assert 'data-techniques="AML.T0010.004 AML.T0010"' in attrs
    assert "infra/a.py:12:1" in body and "Image is mutable." in body and "<pre><code>FROM x:latest</code></pre>" in body
    assert 'href="https://atlas.mitre.org/techniques/AML.T0010.004"' in body
    assert 'href="#rule-ATS-TST-001"' in body
    # The guidance of the rule that fired is rendered once, with its mitigations.
    assert page.count('id="rule-ATS-TST-001"') == 1
    assert "<h2>Use instead</h2>" in page and "AML.M0013" in page
    assert 'id="rule-ATS-TST-002"' not in page


def test_hostile_names_snippets_and_messages_are_escaped(tmp_path: Path) -> None:
    snippet = 'x = 1  # </script><script>alert("s")</script>'
    findings = [_finding("ATS-TST-001", f"src/{HOSTILE_NAME}", 1, Severity.HIGH,
                         message='Bad "<b>bold</b>" & more.', snippet=snippet)]
    notices = [Notice(path=f"src/{HOSTILE_NAME}", message="<svg onload=alert(2)>", line=3)]
    page = render("html", _result(tmp_path, findings, notices))
    assert "<img" not in page and "<svg" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;" in page
    assert page.count("<script") == 1 and page.count("</script>") == 1
    assert "&lt;svg onload=alert(2)&gt;" in page


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def test_parsed_page_holds_only_our_markup(tmp_path: Path) -> None:
    hostile = '"><svg/onload=alert(1)><iframe src=//evil>'
    findings = [_finding("ATS-TST-001", hostile + ".py", 1, Severity.HIGH, message=hostile, snippet=hostile),
                _finding("ATS-GONE-001", "x.py", 2, Severity.LOW, message="From a rule this scan does not know.")]
    parser = _Tags()
    page = render("html", _result(tmp_path, findings, [Notice(path=hostile, message=hostile)]))
    parser.feed(page)
    assert parser.handlers == []
    assert parser.tags <= {"html", "head", "meta", "link", "title", "style", "body", "header", "h1", "h2", "h3", "h4",
                           "p", "main", "section", "div", "b", "table", "thead", "tbody", "tr", "th", "td", "i", "span",
                           "a", "form", "label", "select", "option", "button", "article", "pre", "code", "ul", "li",
                           "footer", "script", "small"}
    assert "ATS-GONE-001" in page  # a finding whose rule is unknown is still listed


def test_undecodable_and_bidi_file_names(tmp_path: Path) -> None:
    findings = [_finding("ATS-TST-001", "bad\udcffname.py", 1, Severity.LOW),
                _finding("ATS-TST-001", "evil\u202egnp.py", 2, Severity.LOW)]
    page = render("html", _result(tmp_path, findings))
    page.encode("utf-8")  # lone surrogates would raise here
    assert "\u202e" not in page and "evil\\u202egnp.py" in page


def test_page_is_self_contained_and_csp_allows_only_its_own_code(tmp_path: Path) -> None:
    page = render("html", _result(tmp_path, [_finding("ATS-TST-001", "a.py", 1, Severity.HIGH)]))
    assert not re.search(r"<(script|img|iframe|link)[^>]+\b(src|href)=\"(https?:)?//", page)
    assert not re.search(r'<link[^>]+rel="stylesheet"', page) and "@import" not in page
    assert "url(http" not in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp
    policy = csp.group(1)
    assert "default-src 'none'" in policy
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    assert style and script and style.group(1) == CSS and script.group(1) == JS
    assert f"style-src {csp_hash(CSS)}" in policy and f"script-src {csp_hash(JS)}" in policy
    assert "unsafe-inline" not in policy
    # A hash-only CSP ignores style="" attributes: the page must not rely on any.
    assert " style=" not in page


def test_summary_counts(tmp_path: Path) -> None:
    findings = [_finding("ATS-TST-001", "a.py", 1, Severity.HIGH), _finding("ATS-TST-002", "a.py", 2, Severity.MEDIUM),
                _finding("ATS-TST-002", "b.py", 2, Severity.MEDIUM)]
    page = render("html", _result(tmp_path, findings))
    summary = re.search(r'<section id="summary">(.*?)</section>', page, re.S)
    assert summary
    text = summary.group(1)
    assert '<div class="card"><b>3</b>findings</div>' in text
    assert '<div class="card sev-high"><b>1</b>high</div>' in text
    assert '<div class="card sev-medium"><b>2</b>medium</div>' in text
    assert "<tr><td>python</td><td>3</td><td>3</td></tr>" in text


def _hostile_repo(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / HOSTILE_NAME).write_text(
        f'from huggingface_hub import login\nlogin(token="{HF_TOKEN}")  # </script><script>alert(1)</script>\n',
        encoding="utf-8",
    )
    (root / "deploy.yaml").write_text(f"aws_access_key_id: {AWS_KEY}\nregion: eu-west-1\n", encoding="utf-8")
    return root


def test_real_scan_masks_secrets_and_escapes(tmp_path: Path) -> None:
    repo = _hostile_repo(tmp_path / "repo")
    result = scan_path(repo, select=["ATS-SEC"])
    assert {(f.rule_id, f.path) for f in result.active_findings} >= {("ATS-SEC-002", f"src/{HOSTILE_NAME}")}
    page = render("html", result)
    assert HF_TOKEN not in page and AWS_KEY not in page
    assert "<img" not in page and page.count("<script") == 1
    assert _cell_class(page, "AML.T0055") == "cell sev-high"


def test_cli_writes_html(tmp_path: Path) -> None:
    repo = _hostile_repo(tmp_path / "repo")
    out = tmp_path / "out" / "report.html"
    code = main(["scan", str(repo), "--root", str(repo), "--select", "ATS-SEC", "--format", "html",
                 "--output", str(out), "--quiet", "--no-ignore-files", "--jobs", "1"])
    assert code == 1  # findings at or above the default fail-on
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --- in a real browser -------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (CI installs Debian's `chromium`)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    with sync_api.sync_playwright() as pw:
        # Playwright makes a fresh profile (user data dir) for every launch.
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.slow
def test_report_in_chromium(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo = _hostile_repo(tmp_path / "repo")
    result = scan_path(repo, select=["ATS-SEC"])
    total = len(result.active_findings)
    python_findings = sum(1 for f in result.active_findings if f.path.endswith(".py"))
    assert total >= 2 and 1 <= python_findings < total
    report = tmp_path / "report.html"
    report.write_text(render("html", result), encoding="utf-8")

    page = browser.new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())

    assert page.locator("#filters").is_visible()
    cell = page.locator('a.cell[data-technique="AML.T0055"]')
    assert "sev-high" in (cell.get_attribute("class") or "")
    assert cell.locator(".n").inner_text() == str(total)
    assert page.locator("a.cell.uncovered").count() > 0
    assert page.locator("article.finding:visible").count() == total

    # A cell with no findings filters everything out; clicking it again clears the filter.
    page.locator('a.cell[data-technique="AML.T0000"]').click()
    assert page.locator("article.finding:visible").count() == 0
    page.locator('a.cell[data-technique="AML.T0000"]').click()
    assert page.locator("article.finding:visible").count() == total
    cell.click()
    assert page.locator("#shown").inner_text() == f"{total} of {total} shown"
    assert "selected" in (cell.get_attribute("class") or "")
    page.select_option("#filter-kind", "python")
    assert page.locator("article.finding:visible").count() == python_findings
    page.select_option("#filter-rule", "ATS-SEC-002")
    assert page.locator("article.finding:visible").count() == 1
    page.locator("#filter-clear").click()
    assert page.locator("article.finding:visible").count() == total

    # The hostile file name is shown as text, never parsed as markup.
    assert page.locator("img").count() == 0
    assert page.get_by_text(HOSTILE_NAME, exact=False).count() >= 1
    assert problems == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests


@pytest.mark.slow
def test_report_without_javascript(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = scan_path(_hostile_repo(tmp_path / "repo"), select=["ATS-SEC"])
    report = tmp_path / "report.html"
    report.write_text(render("html", result), encoding="utf-8")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(report.as_uri())
    assert page.locator("#filters").is_hidden()
    assert page.locator("article.finding:visible").count() == len(result.active_findings)
    page.locator('a.cell[data-technique="AML.T0055"]').click()  # a plain link to the findings
    assert page.url.endswith("#findings")
    context.close()
