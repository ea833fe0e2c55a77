"""Model quality per generator mode, and on the X Education export: what each metric measures.

For each mode (steady, fast, shift): generate, build lead_training_set, train (with the
rolling-origin backtest), then print new-lead and established-lead AUC beside the three
baselines and the oracle, the backtest's mean ± spread, the worst calibration-bin gap, the
training-set size and the training time. X Education (flat, no timestamps) gets its test AUC.

    python bench/bench_quality.py [--leads 20000] [--months 18] [--modes steady,fast,shift]
        [--xeducation /work/shared/data/xeducation/Leads.csv] [--workdir /tmp/leadscore-quality]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
BIN = Path(sys.executable).parent
END = "2026-06-01"
NO_TESTS = ("--exclude-resource-type", "test", "unit_test")


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def workspace_env(root: Path) -> dict[str, str]:
    """The environment that points every leadscore path into root (the tests' Workspace)."""
    from leadscore.workspace import Workspace

    return Workspace(root).env()


def champion_metadata(root: Path) -> dict[str, Any]:
    from leadscore.artifacts import champion_version

    version = champion_version(root / "artifacts")
    return json.loads((root / "artifacts" / "models" / version / "metadata.json").read_text())


def measure_mode(mode: str, leads: int, months: int, workdir: Path, threads: int) -> dict:
    root = workdir / mode
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    env = workspace_env(root)
    run([str(BIN / "leadscore"), "generate", "--leads", str(leads), "--months", str(months),
         "--end", END, "--seed", "42", "--mode", mode, "--out", str(root / "raw"),
         "--truth-out", str(root / "truth"), "--quiet"], env)  # fmt: skip
    started = time.perf_counter()
    run([str(BIN / "dbt"), "build", "--select", "+lead_training_set", *NO_TESTS,
         "--vars", f"{{as_of: '{END} 00:00:00'}}"], env)  # fmt: skip
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    run([str(BIN / "python"), "python/train.py", "--threads", str(threads)], env)
    train_seconds = time.perf_counter() - started
    meta = champion_metadata(root)
    return {"mode": mode, "build_seconds": build_seconds, "train_seconds": train_seconds,
            "metadata": meta}  # fmt: skip


def measure_xeducation(csv: Path, workdir: Path, threads: int) -> float:
    root = workdir / "xeducation"
    shutil.rmtree(root, ignore_errors=True)
    (root / "raw").mkdir(parents=True)
    shutil.copy(csv, root / "raw" / "leads.csv")
    env = workspace_env(root)
    variables = (ROOT / "examples" / "xeducation" / "vars.yml").read_text()
    run([str(BIN / "dbt"), "build", "--select", "+lead_training_set", *NO_TESTS,
         "--vars", variables], env)  # fmt: skip
    run([str(BIN / "python"), "python/train.py", "--threads", str(threads),
         "--min-data-in-leaf", "20"], env)  # fmt: skip
    return champion_metadata(root)["metrics"]["test"]["auc"]


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def print_mode(result: dict) -> None:
    meta = result["metadata"]
    m = meta["metrics"]
    print(f"\n## mode {result['mode']}: {meta['training_rows']:,} training rows "
          f"{meta.get('training_rows_by_kind')}, build {result['build_seconds']:.0f}s, "
          f"train {result['train_seconds']:.0f}s (of which in-process "
          f"{meta.get('training_seconds', 0):.0f}s)")  # fmt: skip
    print("| rows | n | model AUC | lead age | rule-based | logistic reg. | oracle "
          "| model/oracle |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("new_leads", "established_leads", "all"):
        seg = m["segments"].get(name)
        if not seg:
            continue
        b = seg["baselines"]
        print(f"| {name} | {seg['model']['n']:,} | {fmt(seg['model']['auc'])} | "
              f"{fmt(b.get('lead_age_auc'))} | {fmt(b.get('rule_based_auc'))} | "
              f"{fmt(b.get('logistic_regression_auc'))} | {fmt(seg.get('oracle_auc'))} | "
              f"{fmt(seg.get('auc_over_oracle'))} |")  # fmt: skip
    bt = m.get("backtest", {}).get("summary", {})
    if bt:
        print("backtest (" + str(m["backtest"]["periods_evaluated"]) + " periods): "
              + ", ".join(f"{k} {v['mean']:.3f} ± {v['std']:.3f}" for k, v in bt.items()))
    cal = m.get("calibration", {})
    print(f"calibration: {cal.get('chosen')}; worst bin gap (bins >= 100 rows): calibration "
          f"fold out of sample {fmt(cal.get('calibration_fold_worst_bin_gap'))}, test period "
          f"{fmt(m.get('test_worst_bin_gap'))} (the true probabilities on the same rows: "
          f"{fmt(m.get('oracle_test_worst_bin_gap'))}); test ECE {fmt(m['test']['ece'])}")
    level = m.get("test_calibration_in_the_large")
    if level:
        print(f"test period as a whole: {level['observed_rate']:.2%} converted, "
              f"{level['mean_predicted']:.2%} predicted (observed / expected "
              f"{level['observed_over_expected']:.2f}, z {level['z']:.1f})")  # fmt: skip
    for period in m.get("backtest", {}).get("periods", []):
        if "observed_rate" in period:
            print(f"  backtest period ending {period['test_period'][1][:10]}: AUC "
                  f"{period['auc']:.3f}, {period['observed_rate']:.2%} converted, "
                  f"{period['mean_predicted']:.2%} predicted (z {period['z']:.1f})")
    for warning in m.get("warnings", []):
        print(f"warning: {warning}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--modes", default="steady,fast,shift")
    parser.add_argument("--xeducation", type=Path,
                        default=Path("/work/shared/data/xeducation/Leads.csv"))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/leadscore-quality"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for mode in [m for m in args.modes.split(",") if m]:
        print_mode(measure_mode(mode, args.leads, args.months, args.workdir, args.threads))
        sys.stdout.flush()
    if args.xeducation.is_file():
        auc = measure_xeducation(args.xeducation, args.workdir, args.threads)
        print(f"\nX Education (examples/xeducation/vars.yml, no leaky columns): test AUC {auc:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
