"""Compile the query `leadscore serve` runs: the build's own models, chained over one request.

``compile_serving`` runs ``dbt compile`` on the project against a scratch DuckDB file shaped like
the serving snapshot, then chains the compiled SQL of the serving models (macros/serving.sql)
into one query whose inputs are the request's raw rows: every reference to a serving model
becomes a CTE, and every other relation, the request and the build's as_of come from input
functions (``leadscore_serving__<name>(slot)``) that the engine registers. The query reads no
table and takes no parameter, so DuckDB plans it once per connection (``PREPARE``) and reuses
the plan for every request (a table scan or a parameter would make it re-plan each time).
Nothing here knows a feature: the features, vocabularies, tiers and reasons are whatever the
project's macros and the model's metadata compile to.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from leadscore.config import project_dir

__all__ = ["CompileError", "ServingQuery", "compile_serving", "shared_workdir"]

#: the scored mart: the last model a request runs through
SCORES_MODEL = "lead_scores"
CONTRACT_ANALYSIS = "serving_contract"
#: the database name dbt sees (its file's stem); every compiled relation starts with it
SCRATCH_DATABASE = "leadscore_serving"
#: the as_of the project is compiled with, replaced by the request's as_of
AS_OF_SENTINEL = "1111-11-11 11:11:11"
#: row numbers of a request's events start here, after any stored event
REQUEST_ROW_OFFSET = 10**12
#: the token the engine replaces by a connection's slot number (its own request inputs)
SLOT = "leadscore_serving_slot"
#: the input function of a relation, a request table or the as_of
INPUT_FUNCTION = "leadscore_serving__{name}"
REQUEST_LEADS = "request_leads"
REQUEST_EVENTS = "request_events"
AS_OF_INPUT = "as_of"
_RELATION = re.compile(rf'"{SCRATCH_DATABASE}"\."(\w+)"\."(\w+)"')


class CompileError(RuntimeError):
    """The project does not compile into a serving query; the message says why."""


@dataclass(frozen=True)
class ServingQuery:
    """The compiled query and the shape of its inputs."""

    sql: str
    model_version: str
    contract: dict[str, Any]
    #: the raw columns of leads and events, as the request input functions hand them over
    lead_columns: tuple[str, ...]
    event_columns: tuple[str, ...]
    #: the snapshot relations the query reads through input functions
    inputs: tuple[str, ...]

    def for_slot(self, slot: int) -> str:
        """The query reading the inputs of one connection's slot."""
        return self.sql.replace(SLOT, str(slot))


def _input(name: str) -> str:
    """A relation read through its input function (a list of structs, one per row)."""
    function = INPUT_FUNCTION.format(name=name)
    return f"(select unnest(input_row) from (select unnest({function}({SLOT})) as input_row))"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _prepare_scratch(snapshot: Path, scratch: Path) -> dict[str, list[str]]:
    """A DuckDB file with the snapshot's relations (per-lead tables empty) and raw inputs.

    Returns the columns of every snapshot table.
    """
    con = duckdb.connect(str(scratch))
    try:
        con.execute(f"attach '{snapshot}' as snapshot (read_only)")
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'snapshot' order by table_name"
            ).fetchall()
        ]
        columns: dict[str, list[str]] = {}
        con.execute("create schema leadscore_raw")
        for table in tables:
            names = [row[0] for row in con.execute(f"describe snapshot.{table}").fetchall()]
            columns[table] = names
            if table.startswith("raw_"):
                row_number = "" if "leadscore_row_number" in names else (
                    ", null::bigint as leadscore_row_number"
                )
                con.execute(
                    f"create table leadscore_raw.{table[4:]} as "
                    f"select *{row_number} from snapshot.{table} where false"
                )
            elif table != "serving_snapshot":
                empty = " where false" if "lead_id" in names else ""
                con.execute(f"create table main.{table} as select * from snapshot.{table}{empty}")
        return columns
    finally:
        con.close()


def _run_dbt_compile(
    workdir: Path, scratch: Path, artifacts: Path, model_version: str | None
) -> dict:
    """Compile the scored mart, its ancestors and the contract analysis; the manifest.

    The vars stay the same from one compile to the next (the champion is not passed), so dbt
    re-parses the project only when it changed.
    """
    project = project_dir()
    env = dict(os.environ)
    env.update(
        {
            "LEADSCORE_DB": str(scratch),
            "LEADSCORE_ARTIFACTS": str(artifacts),
            "DBT_PROFILES_DIR": env.get("DBT_PROFILES_DIR", str(project)),
            "DBT_TARGET_PATH": str(workdir / "target"),
            "DBT_LOG_PATH": str(workdir / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
    )
    dbt = Path(sys.executable).with_name("dbt")
    variables = {"as_of": AS_OF_SENTINEL}
    if model_version:
        variables["model_version"] = model_version
    command = [
        str(dbt) if dbt.exists() else "dbt",
        "compile",
        "--select",
        f"+{SCORES_MODEL}",
        CONTRACT_ANALYSIS,
        "--indirect-selection",
        "empty",
        # every model as a full build compiles it: a request is scored from scratch
        "--full-refresh",
        "--vars",
        json.dumps(variables),
        "--project-dir",
        str(project),
        "--quiet",
    ]
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise CompileError(f"dbt compile of the serving models failed:\n{output}")
    return json.loads((workdir / "target" / "manifest.json").read_text())


def _compiled(manifest: dict, name: str, resource_type: str) -> str:
    for node in manifest["nodes"].values():
        if node["name"] == name and node["resource_type"] == resource_type:
            code = node.get("compiled_code")
            if code:
                return code
    raise CompileError(f"dbt did not compile the {resource_type} {name}")


def _request_ctes(contract: dict[str, Any], tables: dict[str, list[str]]) -> tuple[str, list, list]:
    """The CTEs that turn the request's parameters and the stored history into raw rows."""
    lead_columns = [c for c in tables["raw_leads"] if c != "leadscore_row_number"]
    event_columns = [c for c in tables["raw_events"] if c != "leadscore_row_number"]
    lead_id = contract["lead_id_column"]
    # where a raw lead column's stored value lives in the staged leads
    stored_leads = {lead_id: "lead_id"}
    if contract["created_at_column"]:
        stored_leads[contract["created_at_column"]] = "created_at"
    if contract["label_column"]:
        stored_leads[contract["label_column"]] = "label"
    for raw, spec in contract["attributes"].items():
        stored_leads[raw] = spec["column"]
    staged_leads = set(tables["stg_raw__leads"])
    staged_events = set(tables["stg_raw__events"])

    raw_leads = ",\n        ".join(
        f"coalesce(request.{_quote(c)}, cast(stored.{_quote(stored_leads[c])} as varchar)) "
        f"as {_quote(c)}"
        if stored_leads.get(c) in staged_leads and c != lead_id
        else f"request.{_quote(c)} as {_quote(c)}"
        for c in lead_columns
    )
    stored_events = ",\n            ".join(
        f"cast(stored.{_quote(c)} as varchar) as {_quote(c)}"
        if c in staged_events
        else f"null::varchar as {_quote(c)}"
        for c in event_columns
    )
    sql = f"""serving__request_leads as (
    select * from {_input(REQUEST_LEADS)}
),

serving__raw__leads as (
    select
        {raw_leads},
        request.leadscore_row_number,
    from serving__request_leads as request
    left join {_input("stg_raw__leads")} as stored on request.{_quote(lead_id)} = stored.lead_id
),

serving__raw__events as (
    select
        {stored_events},
        row_number() over (order by stored.lead_id, stored.occurred_at, stored.event_id)
            as leadscore_row_number,
    from {_input("stg_raw__events")} as stored
    semi join serving__request_leads as request on stored.lead_id = request.{_quote(lead_id)}
    union all by name
    select * from {_input(REQUEST_EVENTS)}
)"""
    return sql, lead_columns, event_columns


def _chain(
    models: list[str], manifest: dict, snapshot_tables: set[str], inputs: set[str]
) -> str:
    """The serving models as CTEs, each reading the CTEs before it and the snapshot's inputs.

    Adds the name of every snapshot relation they read to inputs.
    """

    def relation(match: re.Match[str]) -> str:
        schema, name = match.group(1), match.group(2)
        if schema == "leadscore_raw":
            return f"serving__raw__{name}"
        if name in models:
            return f"serving__{name}"
        if name in snapshot_tables:
            inputs.add(name)
            return _input(name)
        raise CompileError(
            f"The serving models read {schema}.{name}, which the serving snapshot does not hold. "
            "Add it to leadscore_serving_inputs (macros/serving.sql) and run: dbt build"
        )

    ctes = []
    for name in models:
        code = _RELATION.sub(relation, _compiled(manifest, name, "model"))
        ctes.append(f"serving__{name} as (\n{code.strip().rstrip(';')}\n)")
    return ",\n\n".join(ctes)


def shared_workdir() -> Path:
    """A compile folder that outlives the process (one per project checkout).

    dbt keeps its parse there, so a restart re-parses only what changed in the project
    (about half of the start-up time); compile_serving takes turns on it between processes.
    """
    key = hashlib.sha256(str(project_dir()).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"leadscore-serve-{key}"
    folder.mkdir(exist_ok=True)
    return folder


def compile_serving(
    snapshot: Path, artifacts: Path, model_version: str | None, workdir: Path | None = None
) -> ServingQuery:
    """Compile the serving query for a snapshot and a model version (see the module doc).

    model_version None compiles the champion; the query names the version it scores with.
    """
    own_dir = workdir is None
    folder = Path(tempfile.mkdtemp(prefix="leadscore-serve-")) if own_dir else workdir
    try:
        with (folder / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            scratch = folder / f"{SCRATCH_DATABASE}.duckdb"
            scratch.unlink(missing_ok=True)
            tables = _prepare_scratch(snapshot, scratch)
            manifest = _run_dbt_compile(folder, scratch, artifacts, model_version)
    finally:
        if own_dir:
            shutil.rmtree(folder, ignore_errors=True)
    contract = json.loads(_compiled(manifest, CONTRACT_ANALYSIS, "analysis"))
    missing = [t for t in ["raw_leads", "raw_events", *contract["history"]] if t not in tables]
    if missing:
        raise CompileError(
            f"The serving snapshot {snapshot} lacks {', '.join(missing)}: it was published by an "
            "older leadscore. Run: dbt build"
        )
    models = contract["models"]
    request_sql, lead_columns, event_columns = _request_ctes(contract, tables)
    inputs = {"stg_raw__leads", "stg_raw__events"}
    chain_sql = _chain(models, manifest, set(tables), inputs)
    last = f"serving__{models[-1]}"
    sql = f"""with {request_sql},

{chain_sql},

serving__lead_problems as (
    select
        lead_id,
        reject_reason,
    from serving__base_raw__leads
    where reject_reason is not null
),

serving__event_problems as (
    select
        lead_id,
        list({{'row': source_row_number - {REQUEST_ROW_OFFSET}, 'reason': reject_reason}}
            order by source_row_number) filter (where reject_reason != 'duplicate event')
            as event_problems,
        count(*) filter (where reject_reason = 'duplicate event') as duplicate_events,
    from serving__base_raw__events
    where source_row_number >= {REQUEST_ROW_OFFSET} and reject_reason is not null
    group by lead_id
),

serving__event_counts as (
    select
        lead_id,
        count(*) as events_used,
    from serving__stg_raw__events
    group by lead_id
)

select
    request.{_quote(contract["lead_id_column"])} as request_lead_id,
    serving__lead_problems.reject_reason as lead_problem,
    coalesce(serving__event_problems.event_problems, []) as event_problems,
    coalesce(serving__event_problems.duplicate_events, 0) as duplicate_events,
    coalesce(serving__event_counts.events_used, 0) as events_used,
    known.lead_id is not null as known_lead,
    scores.*,
from serving__request_leads as request
left join {last} as scores on request.{_quote(contract["lead_id_column"])} = scores.lead_id
left join serving__lead_problems
    on request.{_quote(contract["lead_id_column"])} = serving__lead_problems.lead_id
left join serving__event_problems
    on request.{_quote(contract["lead_id_column"])} = serving__event_problems.lead_id
left join serving__event_counts
    on request.{_quote(contract["lead_id_column"])} = serving__event_counts.lead_id
left join {_input("stg_raw__leads")} as known
    on request.{_quote(contract["lead_id_column"])} = known.lead_id
order by request.leadscore_row_number
"""
    as_of = f"cast('{AS_OF_SENTINEL}' as timestamp)"
    as_of_input = INPUT_FUNCTION.format(name=AS_OF_INPUT)
    sql = sql.replace(as_of, f"cast({as_of_input}({SLOT}) as timestamp)")
    if AS_OF_SENTINEL in sql:
        raise CompileError(
            "The serving models use as_of in a form the service cannot replace by the request's "
            "(expected leadscore_as_of() everywhere)"
        )
    version = re.search(r"leadscore_score\(\s*'([^']*)'", sql)
    if version is None:
        raise CompileError(f"{SCORES_MODEL} does not call leadscore_score: nothing to serve")
    return ServingQuery(
        sql=sql,
        model_version=version.group(1),
        contract=contract,
        lead_columns=tuple(lead_columns),
        event_columns=tuple(event_columns),
        inputs=tuple(sorted(inputs)),
    )
