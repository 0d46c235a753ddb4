"""The report's HTML pieces: gate banner, start-up timeline SVG and page title."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from stackgate.verdict.report import SVG_NS, banner, format_duration, format_utc, page_title, timeline_svg

TESTED = [("stack/ commit", "e4f78b8 (clean)"), ("Profile", "airgap"), ("GPU", "no")]
STARTED = 1795871102.0  # 2026-11-28 13:05:02 UTC
ROWS = [("ollama", 9.4, 30.0), ("ollama-vision", 12.0, 30.0), ("postgres", 3.1, 60.0), ("frontend", None, 60.0),
        ("minio", 4.0, None)]


def _svg(rows=ROWS, title="Start-up timeline", note="") -> ET.Element:
    return ET.fromstring(timeline_svg(rows, title, note))


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{{{SVG_NS}}}text")]


def _urls(text: str) -> list[str]:
    return [u for u in re.findall(r"https?://[^\s'\"<>]*", text) if u != SVG_NS]


@pytest.mark.parametrize(("status", "wording", "colour"), [
    ("PASSED", "GATE PASSED", "#1a7f37"),
    ("FAILED", "GATE FAILED", "#cf222e"),
    ("INCOMPLETE", "GATE INCOMPLETE", "#b45309"),
])
def test_each_status_has_its_wording_and_colour(status, wording, colour):
    out = banner("smoke", status, [] if status == "PASSED" else ["x: y"], TESTED, STARTED, 192)
    assert wording in out and f"background:{colour}" in out
    assert "smoke gate" in out


def test_the_banner_shows_start_time_in_utc_and_the_duration():
    out = banner("smoke", "PASSED", [], TESTED, STARTED, 192.4)
    assert "2026-11-28 13:05:02 UTC" in out and "3 m 12 s" in out


def test_problems_are_listed_with_the_check_name_in_bold():
    problems = ["Frontend loads: UNKNOWN \u2014 a test skipped: chromium not installed", "no colon here"]
    out = banner("smoke", "INCOMPLETE", problems, TESTED, STARTED, 5)
    assert out.count("<li") == 2
    assert "<b>Frontend loads:</b> UNKNOWN \u2014 a test skipped: chromium not installed" in out
    assert "no colon here" in out and "Why the gate is incomplete" in out


def test_a_passed_gate_lists_no_problems_section():
    out = banner("smoke", "PASSED", [], TESTED, STARTED, 5)
    assert "<li" not in out and "Why the gate" not in out


def test_a_failed_gate_without_problems_still_says_so():
    assert "No details were recorded." in banner("smoke", "FAILED", [], TESTED, STARTED, 5)


def test_tested_rows_are_a_two_column_table():
    out = banner("smoke", "PASSED", [], TESTED, STARTED, 5)
    assert re.search(r"<tr><td[^>]*>stack/ commit</td><td[^>]*>e4f78b8 \(clean\)</td></tr>", out)
    assert out.count("<tr>") == len(TESTED)


def test_everything_in_the_banner_is_escaped():
    out = banner("<b>smoke</b>", "FAILED", ["<script>alert(1)</script>: <img src=x>"], [("<key>", "a & b")], STARTED, 5)
    assert "<script>" not in out and "<img" not in out and "<key>" not in out and "<b>smoke" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "&lt;img src=x&gt;" in out and "a &amp; b" in out


def test_an_unknown_status_is_shown_neutrally_not_as_passed():
    out = banner("smoke", "weird", [], [], STARTED, 5)
    assert "GATE WEIRD" in out and "#1a7f37" not in out


def test_page_title():
    assert page_title("smoke", "PASSED") == "stackgate \u2014 smoke gate: PASSED"
    assert page_title("rollback gate", "failed") == "stackgate \u2014 rollback gate: FAILED"


@pytest.mark.parametrize(("seconds", "text"), [(4.24, "4.2 s"), (42, "42 s"), (192.4, "3 m 12 s"), (3725, "1 h 02 m 05 s"),
                                               (float("nan"), "-"), (-1, "-")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_format_utc():
    assert format_utc(STARTED) == "2026-11-28 13:05:02 UTC"


def test_the_svg_is_well_formed_and_has_legend_title_and_note():
    root = _svg(note="expected: later start (model volumes already held the models)")
    assert root.tag == f"{{{SVG_NS}}}svg"
    texts = _texts(root)
    assert "Start-up timeline" in texts and "measured" in texts and "expected" in texts
    assert "expected: later start (model volumes already held the models)" in texts


def test_a_service_named_script_is_escaped_in_the_svg():
    raw = timeline_svg([("<script>", 3.0, 60.0), ("a&b", 4.0, 60.0)], "t <i>", "n & m")
    assert "<script>" not in raw and "&lt;script&gt;" in raw and "<i>" not in raw
    texts = _texts(ET.fromstring(raw))
    assert "<script>" in texts and "a&b" in texts and "t <i>" in texts


def test_characters_xml_forbids_do_not_break_the_svg():
    _svg([("bad\x00name\x1b", 3.0, 60.0)], "title\x07")


def test_measured_and_expected_numbers_are_printed_and_none_is_a_dash():
    texts = _texts(_svg())
    for label in ("9.4 s", "12 s", "3.1 s", "30 s", "60 s", "4 s"):
        assert label in texts
    assert texts.count("-") == 2  # frontend measured, minio expected


def test_rows_with_none_draw_no_bar():
    root = _svg([("only-expected", None, 60.0), ("nothing", None, None)])
    bars = [r for r in root.iter(f"{{{SVG_NS}}}rect") if r.get("height") == "13"]  # measured bars are 13 high
    assert bars == []
    assert _texts(root).count("-") == 3


def test_an_empty_timeline_is_still_a_valid_svg():
    assert "no services" in _texts(_svg([]))


def test_a_linear_scale_when_values_are_comparable():
    root = _svg([("a", 3.0, 60.0), ("b", 16.0, 60.0)])
    texts = _texts(root)
    assert "seconds to healthy" in texts and "0" in texts and "60" in texts


def test_a_log_scale_keeps_small_measured_bars_visible_next_to_large_expectations():
    root = _svg([("ollama", 12.0, 900.0), ("redis", 3.0, 60.0)])
    texts = _texts(root)
    assert "seconds to healthy (log scale)" in texts and "1000" in texts and "10" in texts
    widths = [float(r.get("width")) for r in root.iter(f"{{{SVG_NS}}}rect") if r.get("height") == "13"]
    assert len(widths) == 2 and min(widths) > 40  # a linear axis to 1000 s would make the 3 s bar ~2 px


def test_slower_than_expected_is_called_out():
    assert "measured, slower than expected" in _texts(_svg([("a", 70.0, 60.0)]))
    assert "measured, slower than expected" not in _texts(_svg([("a", 50.0, 60.0)]))


def test_no_urls_except_the_svg_namespace():
    out = banner("smoke", "FAILED", ["a: b"], TESTED, STARTED, 5) + timeline_svg(ROWS, "Start-up timeline", "note")
    assert _urls(out) == []
    assert "src=" not in out and "href" not in out and "<script" not in out and "@import" not in out
