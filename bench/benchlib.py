"""Shared plumbing of the bench/ scripts: scales, isolated workspaces, timed runs, results.

Every script measures in a workspace of its own under /tmp (never the repository's warehouse):
a leadscore.workspace.Workspace, the one the tests use, points dbt, the plugin and training at it.
Demo data is generated once per scale (Parquet) and reused by every script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadscore.workspace import BIN, ROOT, Workspace

if TYPE_CHECKING:
    import pandas as pd

RESULTS = ROOT / "bench" / "results"
AS_OF = "2026-06-01 00:00:00"
# L reuses the model trained on S (the brief of the scoring benchmark: one model, two scales)
S_ARTIFACTS = Path("/tmp/leadscore-bench/S/artifacts")
END = "2026-06-01"
NO_TESTS = ("--exclude-resource-type", "test", "unit_test")


@dataclass(frozen=True)
class Scale:
    """One benchmark size: how much demo data, and how often each measurement is repeated."""

    name: str
    leads: int
    months: int
    repeats: int
    # training the model the scoring benchmarks use (tiny: a few small trees, to stay fast)
    train_args: tuple[str, ...] = ()


SCALES = {
    "tiny": Scale(
        "tiny", 1_000, 12, 1,
        ("--trees", "40", "--min-fold-rows", "20", "--min-data-in-leaf", "10", "--threads", "1"),
    ),
    "S": Scale("S", 100_000, 18, 3),
    "L": Scale("L", 1_000_000, 18, 3),
}


Options = Callable[[argparse.ArgumentParser], None]


def parse_args(description: str, extra: Options | None = None) -> argparse.Namespace:
    """--scale, --repeats, --workdir (and a script's own options)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", choices=sorted(SCALES), default="S")
    parser.add_argument("--repeats", type=int, default=None, help="default: 1 for tiny, else 3")
    parser.add_argument(
        "--workdir", type=Path, default=None,
        help="workspace folder (default: /tmp/leadscore-bench/<scale>); reused between scripts",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    if extra:
        extra(parser)
    return parser.parse_args()


@dataclass
class Bench:
    """A workspace of one scale, and the figures a script collects in it."""

    scale: Scale
    root: Path
    repeats: int
    results_dir: Path
    figures: dict[str, Any] = field(default_factory=dict)
    profiles_dir: Path = ROOT

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Bench:
        scale = SCALES[args.scale]
        root = args.workdir or Path("/tmp/leadscore-bench") / scale.name
        root.mkdir(parents=True, exist_ok=True)
        return cls(scale, root.resolve(), args.repeats or scale.repeats, args.results)

    @classmethod
    def start(cls, doc: str, extra: Options | None = None, *, data: bool = False
              ) -> tuple[argparse.Namespace, Bench]:
        """A script's options (its docstring's first line as description) and its workspace,
        with this scale's demo data generated when data is set."""
        args = parse_args(doc.splitlines()[0], extra)
        bench = cls.from_args(args)
        if data:
            bench.ensure_data()
        return args, bench

    # ------------------------------------------------------------------ paths and environment
    @property
    def workspace(self) -> Workspace:
        """The same isolated installation the tests use, rooted at this benchmark's folder."""
        return Workspace(self.root, profiles_dir=self.profiles_dir)

    @property
    def raw(self) -> Path:
        return self.workspace.raw

    @property
    def warehouse(self) -> Path:
        return self.workspace.warehouse

    @property
    def artifacts(self) -> Path:
        return self.workspace.artifacts

    @property
    def target(self) -> Path:
        return self.workspace.target

    def env(self) -> dict[str, str]:
        return self.workspace.env()

    def limit_memory(self, limit: str) -> None:
        """Run dbt with DuckDB's memory_limit set (a copy of profiles.yml in the workspace; the
        default limit is 80% of the machine's memory, which DuckDB uses before spilling)."""
        import yaml

        profiles = yaml.safe_load((ROOT / "profiles.yml").read_text())
        for output in profiles["leadscore"]["outputs"].values():
            output.setdefault("settings", {})["memory_limit"] = limit
        self.profiles_dir = self.root / "profiles"
        self.profiles_dir.mkdir(exist_ok=True)
        (self.profiles_dir / "profiles.yml").write_text(yaml.safe_dump(profiles))

    def sql(self, query: str, database: Path | None = None) -> list[tuple]:
        """Rows of a query on the warehouse (or another DuckDB file), opened read-only."""
        return self.workspace.sql(query, database)

    def df(self, query: str, database: Path | None = None) -> pd.DataFrame:
        return self.workspace.df(query, database)

    def use_env(self) -> None:
        """Point this process at the workspace too (for in-process DuckDB and leadscore)."""
        os.environ.update({k: v for k, v in self.env().items() if k.startswith(("LEAD", "DBT"))})

    # ------------------------------------------------------------------ steps
    def run(self, *args: str, label: str = "") -> Run:
        return run_measured(list(args), self.env(), label or " ".join(args[:2]))

    def dbt(self, *args: str, vars: str = "") -> Run:
        """One dbt invocation; its model timings come from target/run_results.json."""
        extra = f", {vars}" if vars else ""
        run = self.run(str(BIN / "dbt"), *args, "--vars", f"{{as_of: '{AS_OF}'{extra}}}",
                       label="dbt " + " ".join(args))
        results = json.loads((self.target / "run_results.json").read_text())
        run.elapsed = results["elapsed_time"]
        run.models = {
            r["unique_id"].split(".")[-1]: r["execution_time"]
            for r in results["results"]
            if r["unique_id"].startswith(("model.", "seed."))
        }
        return run

    def ensure_data(self) -> None:
        """Demo data of this scale as Parquet (generated once; ~1 minute for L)."""
        marker = self.raw / "generated.json"
        wanted = {"leads": self.scale.leads, "months": self.scale.months, "end": END, "seed": 42}
        if marker.is_file() and json.loads(marker.read_text()) == wanted:
            return
        say(f"generating {self.scale.leads:,} leads in {self.raw}")
        self.workspace.generate(
            self.scale.leads, seed=42, end=date.fromisoformat(END), months=self.scale.months,
            file_format="parquet",
        )
        marker.write_text(json.dumps(wanted))

    def has_table(self, name: str) -> bool:
        if not self.warehouse.is_file():
            return False
        return bool(self.sql(
            f"select count(*) from duckdb_tables() where table_name = '{name}'"
        )[0][0])

    def ensure_features(self, training_set: bool = False) -> None:
        """lead_features (and lead_training_set) built from this scale's data."""
        self.ensure_data()
        wanted = ["lead_features"] + (["lead_training_set"] if training_set else [])
        if all(self.has_table(name) for name in wanted):
            return
        say("building " + ", ".join(wanted))
        self.dbt("build", "--select", *[f"+{name}" for name in wanted], *NO_TESTS)

    def ensure_model(self) -> str:
        """The champion version, training one on this workspace's training set if none."""
        version = self.workspace.champion()
        if version:
            return version
        self.ensure_features(training_set=True)
        say("training a model (python python/train.py)")
        self.run(str(BIN / "python"), str(ROOT / "python" / "train.py"), *self.scale.train_args,
                 label="train")
        version = self.workspace.champion()
        assert version, "training published no champion"
        return version

    def use_model(self, source: Path | None) -> str:
        """The champion of another workspace's artifacts copied in (registry synced), or this
        workspace's own champion (trained here when it has none)."""
        from leadscore.artifacts import champion_version
        from leadscore.registry import sync_registry

        if source is not None and champion_version(self.artifacts) != champion_version(source):
            if champion_version(source) is None:
                raise SystemExit(f"no champion model in {source}: run the S scale first")
            shutil.rmtree(self.artifacts, ignore_errors=True)
            shutil.copytree(source, self.artifacts)
            sync_registry(self.warehouse, self.artifacts)
        return self.ensure_model()

    # ------------------------------------------------------------------ results
    def write(self, name: str) -> Path:
        self.results_dir.mkdir(parents=True, exist_ok=True)
        path = self.results_dir / f"{name}_{self.scale.name}.json"
        payload = {
            "benchmark": name,
            "scale": self.scale.name,
            "leads": self.scale.leads,
            "repeats": self.repeats,
            "workdir": str(self.root),
            "machine": machine(),
            "figures": self.figures,
        }
        path.write_text(json.dumps(payload, indent=2, default=str))
        say(f"wrote {path}")
        return path


@dataclass
class Run:
    """A finished subprocess: wall time, peak resident memory, and dbt's own timings."""

    label: str
    wall: float
    peak_rss: int
    elapsed: float | None = None
    models: dict[str, float] = field(default_factory=dict)


# runs a command and writes its peak RSS (bytes) to the file named first
_PEAK_WRAPPER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(args: Sequence[str], env: dict[str, str], label: str) -> Run:
    """Run a command, raising with its output on failure; wall time and peak RSS of the child.

    The command runs under a small wrapper process that reads its rusage: Linux carries a
    process's RSS at fork over into the forked child's ru_maxrss, so measured straight from a
    benchmark holding a 3 GB array every command would report >= 3 GB. From the wrapper, the
    carried-over part is the wrapper's own ~10 MB.
    """
    log = Path(env.get("DBT_LOG_PATH", "/tmp")) / "bench-last-command.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_file = log.with_name("bench-last-command.peak")
    peak_file.unlink(missing_ok=True)
    with open(log, "w") as out:
        start = time.perf_counter()
        returncode = subprocess.call(
            [sys.executable, "-c", _PEAK_WRAPPER, str(peak_file), *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        wall = time.perf_counter() - start
    if returncode != 0:
        raise RuntimeError(f"{label} failed ({returncode}):\n{log.read_text()[-6000:]}")
    return Run(label, wall, int(peak_file.read_text()))


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def summary(values: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of repeated measurements, and the runs themselves."""
    return {"median": median(values), "min": min(values), "max": max(values),
            "runs": list(values)}


def load_average() -> float:
    return os.getloadavg()[0]


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare figures: cores, memory, load, versions."""
    import duckdb
    import lightgbm
    import onnxruntime

    memory = 0
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "load_average_1m_at_end": load_average(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "onnxruntime": onnxruntime.__version__,
        "lightgbm": lightgbm.__version__,
        "commit": commit,
    }


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain-text table for the terminal (and for pasting into BENCHMARKS.md)."""
    cells = [[str(c) for c in header]] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
