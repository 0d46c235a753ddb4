"""`make bench`'s page and its 33-service variant (no Docker: the variant's files and the page's rows)."""

from stackgate import manifest as manifest_mod
from stackgate.bench.gate import page
from stackgate.bench.variant import write_variant


def test_the_variant_is_a_33_service_stack_the_loader_accepts(tmp_path):
    m = manifest_mod.load(write_variant(tmp_path / "stack", 20))
    assert len(m.services) == 33
    assert m.services["notes-21"].port == 8219


def _result(variant: dict) -> dict:
    return {"median": {"bare_compose_cycle_s": 20.0, "full_smoke_s": 60.0, "reuse_smoke_s": 30.0},
            "targets": {"full_over_bare": 2.5, "reuse_smoke_s": 20.0}, "full_over_bare": 3.0,
            "met": {"full_over_bare": False, "reuse_smoke_s": False}, "machine": "2 cores", "profiles": ["airgap"],
            "rounds": 1, "when": "now", "variant": variant, "critical_path": {}}


def test_the_bench_page_shows_the_variants_ratio_or_why_it_has_none():
    shown = page(_result({"services": 33, "rounds": 1, "bare_compose_cycle_s": [40.0], "full_smoke_s": [100.0],
                          "full_over_bare": 2.5}))
    assert "33-service variant" in shown and "2.50 x its bare cycle" in shown and "NOT met" in shown
    failed = page(_result({"error": "bench: smoke --manifest=x failed (1)"}))
    assert "failed" in failed and "smoke --manifest=x failed" in failed
