"""The benchmark scripts in their tiny mode, so they keep running as the project changes.

Each runs on 1,000 generated leads with one repeat, in one shared workspace, and its JSON
results are checked for what makes the figures meaningful: pandas computes the same features
as lead_features, the scoring function returns the mart's probabilities, and an incremental run
rescores exactly the leads that changed. (No timing is asserted.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


def run_bench(script: str, folder: Path) -> dict:
    name = script.removeprefix("bench_").removesuffix(".py").removesuffix("_models")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--scale", "tiny",
         "--workdir", str(folder / "ws"), "--results", str(folder / "results")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return json.loads((folder / "results" / f"{name}_tiny.json").read_text())["figures"]


def test_feature_benchmark_compares_pandas_computing_the_same_features(bench_dir):
    figures = run_bench("bench_features.py", bench_dir)
    assert figures["pandas_leads_differing_from_lead_features"] == 0
    assert figures["ratio_pipeline_to_floor"] > 0 and figures["ratio_pandas_to_pipeline"] > 0


def test_profiler_accounts_for_each_pipeline_model(bench_dir):
    # runs in the workspace bench_features.py just built
    figures = run_bench("profile_models.py", bench_dir)
    assert set(figures["models"]) == {
        "base_raw__events", "int_lead_events_sessionized", "lead_features"
    }
    for profile in figures["models"].values():
        assert profile["cpu_seconds"] > 0
        assert any(op["operator"] == "TABLE_SCAN" for op in profile["operators"])


def test_scoring_benchmark_scores_what_the_mart_scores(bench_dir):
    figures = run_bench("bench_scoring.py", bench_dir)
    assert figures["udf_vs_mart_rows"] == figures["rows"] > 0
    assert figures["udf_vs_mart_max_abs_difference"] == 0
    assert figures["ratio_udf_to_onnxruntime_1t"] > 0 and figures["mart_peak_rss_bytes"] > 0


def test_memory_benchmark_measures_scoring_with_and_without_a_limit(bench_dir):
    figures = run_bench("bench_memory.py", bench_dir)
    for setting in ("default", "limited"):
        assert figures["score_only_peak_rss_bytes"][setting] > 0
        assert figures["mart_peak_rss_bytes"][setting] > 0


def test_peak_memory_is_the_commands_own_not_the_benchmarks(tmp_path):
    """A benchmark holding a large array must not see it in the peak of a command it runs."""
    sys.path.insert(0, str(ROOT / "bench"))
    from benchlib import run_measured

    held = bytearray(512 * 2**20)  # 512 MiB, touched
    held[:: 4096] = b"x" * len(held[:: 4096])
    run = run_measured(
        [sys.executable, "-c", "x = bytearray(64 * 2**20)"], {"DBT_LOG_PATH": str(tmp_path)}, "t"
    )
    assert 64 * 2**20 < run.peak_rss < 256 * 2**20
    del held


def test_training_benchmark_trains_on_the_sized_training_set(bench_dir):
    figures = run_bench("bench_training.py", bench_dir)
    assert figures["training_rows"] > 0 and figures["test_auc"] is not None
    assert figures["train_peak_rss_bytes"] > 0


def test_incremental_benchmark_rescores_only_the_changed_leads(bench_dir):
    figures = run_bench("bench_incremental.py", bench_dir)
    assert figures["changed_leads"] == figures["rescored_leads"]
    assert figures["changed_leads"][0] > 0 and figures["ratio_incremental_to_full"] > 0


def test_sync_benchmark_delivers_every_record_and_nothing_twice(bench_dir):
    figures = run_bench("bench_sync.py", bench_dir)
    for run in [*figures["by_latency"].values(), figures["rate_limited"]]:
        assert run["acknowledged"] == figures["records"] > 0
        assert run["requests"] == -(-figures["records"] // figures["batch_size"])
    assert figures["rate_limited"]["rate_limited_seconds"] > 0
    assert figures["nothing_changed"]["requests"] == 0
