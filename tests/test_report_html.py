"""index.html: failures first, Expected/Actual, reproducers, the ledger, escaped and self-contained."""

from __future__ import annotations

import re

import pytest

from harness.report import ReportWriter, load_run, render_html, write_html
from harness.report.sample import SAMPLE_TARGET, sample_cases, write_sample_run


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    run = write_sample_run(d)
    return run, render_html(run)


def test_failures_come_before_everything_else(sample):
    run, page = sample
    failed = page.index('id="sec-failed"')
    assert failed < page.index('id="sec-non-strict"') < page.index('id="sec-passed"')
    assert page.index("svd-batch/too-short[clip-wav-16000-1ch-0.3s]", failed) < page.index(
        "svd-batch/confidence-range[speech-wav-8000-1ch-2s]"
    )
    assert failed < page.index('id="sec-informational"') < page.index('id="sec-passed"')


def test_failure_shows_clause_tier_requirement_expected_actual_fixture_reproducer(sample):
    run, page = sample
    case = run.case("svd-batch/too-short[clip-wav-16000-1ch-0.3s]")
    start = page.index('id="sec-failed"')
    block = page[start : page.index("</details>", start)]
    assert "svd-batch/too-short" in block and ">MUST<" in block
    assert case.requirement.replace("'", "&#39;") in block
    assert "Expected" in block and "Actual" in block
    assert "HTTP 422, detail=&#39;The audio is too short to analyze.&#39;" in block
    assert "HTTP 400, detail=&#39;Invalid request.&#39;" in block
    assert "clip-wav-16000-1ch-0.3s" in block and "3f" * 32 in block
    assert re.search(r'<pre class="repro">curl -sS -X POST .*\$\{MODULATE_API_KEY\}', block)
    assert case.source[0] in block


def test_ledger_lists_each_disputed_clause_with_its_sides(sample):
    run, page = sample
    ledger = page[page.index('id="ledger"') : page.index('id="coverage"')]
    for e in run.ledger:
        assert e.clause in ledger
    assert "#4" in ledger  # svd-batch/invalid-key: contradiction row 4
    row = ledger[ledger.index("svd-batch/invalid-key") :]
    row = row[: row.index("</tr>")]
    assert "departs" in ledger[: ledger.index("svd-batch/invalid-key")].rsplit("<tr", 1)[1]
    assert "alt-cho" in row and "alt-exp" in row and "401" in row and "403" in row
    # the departures come before the rows that match the expected side
    assert ledger.index("svd-batch/invalid-key") < ledger.index("svd-batch/empty-file")


def test_matrix_colours_exercised_clauses_and_greys_the_rest(sample):
    run, page = sample
    matrix = page[page.index('id="matrix"') : page.index('id="cases"')]
    assert re.search(
        r'class="cell o-failed" href="#case-0" title="svd-batch/too-short: failed', matrix
    )
    assert 'title="svd-batch/endpoint: not exercised"' in matrix
    assert 'class="cell o-skipped"' in matrix and 'class="cell o-error"' in matrix
    from harness.contract import all_clauses

    assert matrix.count('class="cell') >= len(all_clauses())


def test_page_is_self_contained(sample):
    _, page = sample
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page)
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert page.count('src="data:image/png;base64,') == 2  # outcomes per surface, durations


def test_verdict_banner(sample, tmp_path):
    _, page = sample
    assert "2 violations" in page
    w = ReportWriter(tmp_path / "partial")
    w.start(SAMPLE_TARGET)
    w.add_case(next(c for c in sample_cases() if c["outcome"] == "passed"))
    assert "Partial run" in render_html(w.run, plots=False)
    w.abort("target unreachable: connection refused", 3)
    page = render_html(load_run(tmp_path / "partial"), plots=False)
    assert "Could not test" in page and "target unreachable: connection refused" in page
    ok = ReportWriter(tmp_path / "ok")
    ok.start(SAMPLE_TARGET)
    ok.add_case(next(c for c in sample_cases() if c["outcome"] == "passed"))
    assert "Conforms" in render_html(ok.finish(), plots=False)


def test_html_in_the_report_is_escaped(tmp_path):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    w = ReportWriter(tmp_path)
    w.start({"name": "<b>target</b>", "kind": "live"})
    case = dict(sample_cases()[0])
    case.update(actual=evil, message=evil, reproducer={"kind": "curl", "text": evil})
    w.add_case(case)
    page = render_html(w.finish(), plots=False)
    assert evil not in page and "<b>target</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert page.count("<script") == 1  # only our own filter script


def test_write_html_writes_the_file(tmp_path):
    run = write_sample_run(tmp_path)
    path = write_html(run, tmp_path / "index.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "embedded-emulator" in text


def test_empty_run_renders(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    page = render_html(w.run)
    assert "No cases were recorded" in page and "Partial run" in page
