"""The project's own files agree with each other: what pyproject.toml ships and requires, and
the documents the models point readers to."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]

# DuckDB Python API the code calls -> the first DuckDB release that has it
DUCKDB_API_SINCE = {"duckdb.sqltype(": Version("2.0")}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_shipped_package_data_pattern_matches_a_file():
    config = pyproject()
    where = config["tool"]["setuptools"]["packages"]["find"]["where"][0]
    for package, patterns in config["tool"]["setuptools"]["package-data"].items():
        folder = ROOT / where / package.replace(".", "/")
        for pattern in patterns:
            assert list(folder.glob(pattern)), f"package-data {package}: {pattern} matches no file"


def test_duckdb_floor_has_every_api_the_code_calls():
    requirements = [Requirement(r) for r in pyproject()["project"]["dependencies"]]
    (duckdb,) = [r for r in requirements if r.name == "duckdb"]
    floors = [Version(s.version) for s in duckdb.specifier if s.operator in (">=", "==", "~=")]
    assert floors, "duckdb needs a lower bound"
    code = "\n".join(p.read_text() for p in (ROOT / "python").rglob("*.py"))
    for call, since in DUCKDB_API_SINCE.items():
        if call in code:
            assert min(floors) >= since, f"the code calls {call}), new in duckdb {since}"


def test_documents_named_by_the_project_exist():
    """Every document and example file named by the README, the project, models and macros."""
    texts = [
        ROOT / "README.md", ROOT / "dbt_project.yml", *(ROOT / "models").rglob("*.yml"),
        *(ROOT / "macros").rglob("*.sql"),
    ]
    named = {
        (text, doc)
        for text in texts
        for doc in re.findall(r"\b(?:docs|examples)/[\w./-]+\.(?:md|csv|yml)\b", text.read_text())
    }
    assert named, "no document is named: the search pattern is broken"
    missing = [f"{text.relative_to(ROOT)} names {doc}" for text, doc in named
               if not (ROOT / doc).is_file()]
    assert not missing


def test_every_reject_reason_is_documented():
    doc = (ROOT / "docs" / "bad_input.md").read_text()
    reasons = set()
    for model in (ROOT / "models" / "staging").rglob("*.sql"):
        for reason in re.findall(r"then '([^']+)'", model.read_text()):
            # a reason naming a column is documented with <column> in its place
            reasons.add(re.sub(r"\{\{.*?\}\}", "<column>", reason))
    assert len(reasons) > 10
    undocumented = sorted(r for r in reasons if f"`{r}`" not in doc)
    assert not undocumented, f"docs/bad_input.md does not explain: {undocumented}"


def test_a_fresh_clone_parses_and_compiles_without_a_warehouse_or_a_model(tmp_path):
    """dbt parse and dbt compile need neither a built warehouse, nor data, nor a trained model."""
    clone = tmp_path / "clone"
    skipped = {".git", ".venv", "target", "logs", "data", "artifacts", "published", "reports"}
    shutil.copytree(
        ROOT, clone, ignore=lambda folder, names: [
            n for n in names
            if (Path(folder) == ROOT and n in skipped) or n.startswith("warehouse.duckdb")
        ],
    )
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(clone),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "LEADSCORE_DB": str(tmp_path / "warehouse.duckdb"),
        "LEADSCORE_DATA_DIR": str(tmp_path / "no_data"),
        "LEADSCORE_ARTIFACTS": str(tmp_path / "no_artifacts"),
    }
    # as_of and the versions take the drift-skip and challenger paths, which in a build ask
    # the warehouse and the model registry
    versions = "{as_of: '2026-06-01 00:00:00', model_version: v1, challenger_version: v2}"
    for command in (["parse"], ["compile", "--vars", versions]):
        result = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), *command], cwd=clone, env=env,
            capture_output=True, text=True, timeout=900,
        )
        assert result.returncode == 0, f"dbt {command[0]}:\n{result.stdout[-3000:]}"
        # rendering asks no warehouse: nothing is missing from one that was never built
        assert "Warning" not in result.stdout, f"dbt {command[0]}:\n{result.stdout[-3000:]}"
    compiled = clone / "target" / "compiled" / "leadscore" / "models"
    lead_scores = (compiled / "marts" / "scoring" / "lead_scores.sql").read_text()
    assert "leadscore_score(" in lead_scores
    assert (compiled / "marts" / "monitoring" / "challenger_scores.sql").is_file()
    assert not (tmp_path / "no_artifacts").exists()


def _readme_tree() -> list[str]:
    """The paths the README's "Repository layout" tree names, from its indentation."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Repository layout", 1)[1].split("```", 2)[1]
    paths: list[str] = []
    stack: list[str] = []
    for line in block.splitlines():
        found = re.search(r"[├└]── (\S+)", line)
        if not found:
            continue
        depth = found.start() // 4
        stack[depth:] = [found.group(1).rstrip("/")]
        paths.append("/".join(stack))
    return paths


def test_the_readme_tree_names_what_is_there_and_every_model_folder():
    named = _readme_tree()
    assert "models/marts/scoring" in named, "the tree was not parsed"
    assert [p for p in named if not (ROOT / p).exists()] == []
    folders = {
        str(folder.relative_to(ROOT))
        for top in ("models", "macros", "python/leadscore")
        for folder in (ROOT / top).rglob("*")
        if folder.is_dir() and not folder.name.startswith(("__", ".")) and any(folder.iterdir())
    }
    assert sorted(folders - set(named)) == []
