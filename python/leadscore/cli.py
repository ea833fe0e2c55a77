"""The ``leadscore`` command: generate demo data, train, promote, build, report."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from leadscore.config import (
    add_path_option,
    artifacts_dir,
    project_dir,
    settings_from_args,
    warehouse_path,
)

__all__ = ["main"]


def _train(argv: list[str]) -> int:
    from leadscore.training import TrainConfig, TrainingError, train_model

    parser = argparse.ArgumentParser(
        prog="leadscore train",
        description="Train LightGBM on lead_training_set, calibrate it, export ONNX behind a "
        "parity gate and publish a new model version.",
    )
    defaults = TrainConfig()
    add_path_option(parser, "--warehouse", defaults.warehouse)
    add_path_option(parser, "--artifacts", defaults.artifacts)
    parser.add_argument(
        "--trees",
        type=int,
        default=defaults.num_boost_round,
        help="maximum boosting rounds (early stopping picks the best)",
    )
    parser.add_argument("--leaves", type=int, default=defaults.num_leaves, help="leaves per tree")
    parser.add_argument(
        "--learning-rate", type=float, default=defaults.learning_rate, help="boosting step size"
    )
    parser.add_argument(
        "--min-data-in-leaf",
        type=int,
        default=defaults.min_data_in_leaf,
        help="fewest training rows a leaf may hold (raise it for small or noisy data)",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed")
    parser.add_argument(
        "--min-fold-rows",
        type=int,
        default=defaults.min_fold_rows,
        help="refuse to train when a fold is smaller",
    )
    parser.add_argument(
        "--label-window-days",
        type=int,
        default=None,
        help="rebuild lead_training_set with this label window first (runs dbt)",
    )
    parser.add_argument(
        "--no-refit",
        action="store_true",
        help="keep the early-stopped model instead of refitting on train + validation",
    )
    parser.add_argument("--version", default=None, help="version name (default: UTC timestamp)")
    parser.add_argument(
        "--no-promote",
        action="store_true",
        help="publish the version without making it the champion",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="LightGBM threads (default: all cores)"
    )
    parser.add_argument(
        "--test-days",
        type=int,
        default=defaults.test_days,
        help="the test period: the last this many days of cutoffs (60)",
    )
    parser.add_argument(
        "--backtest-periods",
        type=int,
        default=defaults.backtest_periods,
        help="rolling-origin backtest over this many test periods (3; 0 skips it)",
    )
    args = parser.parse_args(argv)
    if args.label_window_days is not None:
        code = _dbt(
            [
                "build",
                "--select",
                "+lead_training_set",
                "--vars",
                f"{{label_window_days: {args.label_window_days}}}",
            ]
        )
        if code:
            return code
    config = settings_from_args(
        TrainConfig,
        args,
        num_boost_round=args.trees,
        num_leaves=args.leaves,
        promote=not args.no_promote,
        refit=not args.no_refit,
    )
    try:
        train_model(config)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _promote(argv: list[str]) -> int:
    from leadscore.artifacts import ModelError, champion_version, list_versions, set_champion
    from leadscore.registry import sync_registry

    parser = argparse.ArgumentParser(
        prog="leadscore promote",
        description="Make a model version the champion (or roll back to an older one). The next "
        "dbt build scores with it.",
    )
    parser.add_argument("version", nargs="?", help="version to promote; omit with --list or --sync")
    parser.add_argument(
        "--challenger",
        action="store_true",
        help="promote the challenger if champion_challenger_comparison shows it is no worse "
        "on matured outcomes (AUC and Brier); refuses otherwise unless --force",
    )
    parser.add_argument("--force", action="store_true", help="with --challenger: skip the check")
    parser.add_argument("--list", action="store_true", help="list versions and the champion")
    parser.add_argument(
        "--sync", action="store_true", help="mirror the champion into the warehouse registry"
    )
    add_path_option(parser, "--artifacts", artifacts_dir())
    add_path_option(parser, "--warehouse", warehouse_path())
    args = parser.parse_args(argv)
    root = args.artifacts.resolve()
    if args.challenger:
        verdict, version = challenger_verdict(args.warehouse.resolve())
        print(verdict)
        if version is None or (not args.force and not verdict.startswith("ok")):
            return 2
        args.version = version
    if args.list or not (args.version or args.sync):
        _print_versions(root, champion_version(root), list_versions(root))
        return 0
    if args.version:
        try:
            set_champion(args.version, root)
        except ModelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{args.version} is now the champion")
    if args.warehouse.exists():
        sync_registry(args.warehouse.resolve(), root)
    return 0


def _print_versions(root: Path, champion: str | None, versions: list[str]) -> None:
    """One line per version: champion mark, version, when it was trained, its test metrics."""
    from leadscore.artifacts import load_artifact

    if not versions:
        print(f"No model versions in {root}/models yet. Run: python python/train.py")
        return
    print(f"  {'version':<22} {'trained (UTC)':<20} {'test AUC':>8} {'Brier':>8}  features")
    for version in versions:
        try:
            meta = load_artifact(version, root).metadata
        except Exception as exc:  # a broken folder is listed, not fatal
            print(f"  {version:<22} unreadable: {str(exc).splitlines()[0]}")
            continue
        test = meta.get("metrics", {}).get("test", {})
        auc = test.get("auc")
        brier = test.get("brier")
        print(
            f"{'*' if version == champion else ' '} {version:<22} "
            f"{str(meta.get('created_at', ''))[:19].replace('T', ' '):<20} "
            f"{auc if auc is None else f'{auc:.4f}':>8} "
            f"{brier if brier is None else f'{brier:.5f}':>8}  "
            f"{len(meta.get('features', []))}"
        )
    print("* = champion (scores the next build). Switch with: leadscore promote VERSION")


def challenger_verdict(warehouse: Path) -> tuple[str, str | None]:
    """Read champion_challenger_comparison: should the challenger replace the champion?

    It should when, on the newest snapshot whose outcomes have matured, its AUC is no lower
    and its Brier score no higher than the champion's on the same leads.
    """
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        return f"error: cannot read {warehouse}: {exc}", None
    try:
        rows = con.execute(
            """
            select challenger_version, as_of, n, champion_auc, challenger_auc,
                   champion_brier, challenger_brier
            from champion_challenger_comparison
            where basis = 'matured'
            order by as_of desc
            limit 1
            """
        ).fetchall()
        pair = con.execute(
            "select challenger_version from champion_challenger_comparison limit 1"
        ).fetchall()
    except duckdb.CatalogException:
        return "error: no champion_challenger_comparison yet. Run: dbt build", None
    finally:
        con.close()
    if not rows:
        version = pair[0][0] if pair else None
        return (
            f"error: no matured outcomes compare the challenger ({version or 'none'}) with the "
            "champion yet. Wait for them, or promote it explicitly: leadscore promote VERSION",
            version,
        )
    version, as_of, n, champ_auc, chall_auc, champ_brier, chall_brier = rows[0]
    summary = (
        f"{n} leads scored at {as_of}: AUC champion {champ_auc:.4f} vs challenger "
        f"{chall_auc:.4f}, Brier {champ_brier:.5f} vs {chall_brier:.5f}"
    )
    if chall_auc >= champ_auc and chall_brier <= champ_brier:
        return f"ok: challenger {version} is no worse ({summary})", version
    return f"refused: challenger {version} is worse ({summary}); --force overrides", version


BUILD_HELP = """usage: leadscore build [DBT_COMMAND] [dbt options]

Run dbt in the leadscore project with its bundled profile.

  leadscore build                        dbt build (every model, data test and publish step;
                                         the project's own dbt unit tests are left out)
  leadscore build --select tag:scoring   the same, scoring models only
  leadscore build run --select lead_features
                                         any dbt command and options, passed through
  leadscore build --target spark [--master URL] [--spark-home DIR] [dbt options]
                                         the same project on Apache Spark (pip install -e
                                         ".[spark]"): master local[*] by default, or
                                         spark://host:7077, yarn, k8s://...

Settings come from the environment (LEADSCORE_DB, LEADSCORE_DATA_DIR, LEADSCORE_ARTIFACTS,
LEADSCORE_PUBLISH_DIR) and dbt vars (--vars '{as_of: ...}'); see dbt_project.yml."""

DBT_COMMANDS = {
    "build", "run", "test", "seed", "compile", "parse", "docs", "ls", "list", "show", "clean",
    "debug", "source", "snapshot", "run-operation", "retry", "clone",
}


def _build(argv: list[str]) -> int:
    """``leadscore build``: dbt build by default, or any dbt command."""
    if argv[:1] in (["-h"], ["--help"]):
        print(BUILD_HELP)
        return 0
    if _target(argv) == "spark":
        from leadscore import spark

        return spark.main(_without_target(argv))
    if not argv or argv[0] not in DBT_COMMANDS:
        argv = ["build", *argv]
    if argv[0] == "build" and "--exclude-resource-type" not in argv:
        argv = [*argv, "--exclude-resource-type", "unit_test"]
    return _dbt(argv)


def _target(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--target" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return None


def _without_target(argv: list[str]) -> list[str]:
    """argv without --target X (leadscore.spark sets the target itself)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--target":
            skip = True
        elif not arg.startswith("--target="):
            out.append(arg)
    return out


def _dbt(argv: list[str]) -> int:
    """Run dbt in the project with its bundled profile."""
    project = project_dir()
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(project))
    exe = Path(sys.executable).with_name("dbt")
    cmd = [str(exe) if exe.exists() else "dbt", *argv, "--project-dir", str(project)]
    return subprocess.call(cmd, cwd=project, env=env)


def _delegate(module: str) -> Callable[[list[str]], int]:
    """A command whose parser and work live in leadscore.<module> (imported when it runs)."""

    def run(argv: list[str]) -> int:
        return importlib.import_module(f"leadscore.{module}").main(argv)

    return run


_check = _delegate("check")
_generate = _delegate("demo.generate")
_report = _delegate("report")
_sync = _delegate("sync")
_serve = _delegate("serve")
_show = _delegate("show")

COMMANDS = {
    "check": (_check, "profile an export folder against the input contract before a build"),
    "generate": (_generate, "write demo leads, events and conversions with known ground truth"),
    "train": (_train, "train, calibrate, export and publish a model version"),
    "promote": (_promote, "choose the champion model version (rollback)"),
    "build": (_build, "run dbt build (or any dbt command) with the project's profile"),
    "show": (_show, "print the top leads, the tier distribution and the model's metrics"),
    "report": (_report, "write the HTML report"),
    "sync": (_sync, "send the leads whose scores changed to a CRM (webhook, HubSpot, Salesforce)"),
    "serve": (_serve, "score leads in real time over HTTP (same features, same model)"),
}


def _usage() -> str:
    lines = [
        "usage: leadscore COMMAND [options]   (leadscore COMMAND --help for its options)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "  --version  print the leadscore version", "  --help     this message"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        from importlib.metadata import version

        print(f"leadscore {version('leadscore')}")
        return 0
    if argv[0] not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        print(f"leadscore: unknown command '{argv[0]}'.{hint}\n\n{_usage()}", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    return COMMANDS[command][0](rest)


if __name__ == "__main__":
    raise SystemExit(main())
