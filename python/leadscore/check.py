"""``leadscore check DATA_DIR``: profile an export before any build and say what to set.

It reads the leads, events and conversions files (CSV or Parquet) with DuckDB and prints, against
the input contract (macros/raw_inputs.sql): the files and their columns, the id / timestamp /
label columns it recognises, each attribute with a suggested kind, the label values and how they
will be read, the date range and the ``as_of`` to use, the event kinds the taxonomy does not map
(with rows to add) and the rule-based rules whose attribute is missing. ``--write-vars FILE``
writes a starter vars file. Exit code 1 when something would stop the build, else 0.
"""

from __future__ import annotations

import argparse
import csv
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import yaml

from leadscore.config import dbt_vars, project_dir

__all__ = ["Profile", "main", "profile"]

EVENT_REQUIRED = ("lead_id", "occurred_at", "channel", "event_type")
CONVERSION_REQUIRED = ("lead_id", "converted_at")
EVENT_KINDS = ("channel", "event_type", "page_category")
ID_NAMES = re.compile(r"^(lead[ _]?id|prospect[ _]?id|record[ _]?id|contact[ _]?id|id)$", re.I)
CREATED_NAMES = re.compile(r"^(created[ _]?at|create[ _]?date|created[ _]?date|created)$", re.I)
LABEL_NAMES = re.compile(r"^(converted|label|is[ _]?converted|won|is[ _]?won|outcome)$", re.I)
PII_NAMES = re.compile(r"(e-?mail|phone|first[ _]?name|last[ _]?name)", re.I)
#: a numeric attribute has at least this share of its values parse as numbers and this many values
NUMERIC_SHARE, NUMERIC_MIN_DISTINCT = 0.95, 15


@dataclass
class Profile:
    """What check found: printed lines, blocking problems, and the suggested vars."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: the configured attributes the leads file has (the rule-based rules can use only these)
    attributes: list[str] = field(default_factory=list)
    suggested_vars: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str = "") -> None:
        self.lines.append(text)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _slug(name: str) -> str:
    """The column name as the models name it (macros/utils.sql leadscore_slug)."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _find(data_dir: Path, name: str, profile: Profile) -> Path | None:
    found = [p for ext in (".csv", ".csv.gz", ".parquet") for p in data_dir.glob(name + ext)]
    if len(found) > 1:
        profile.problems.append(
            f"More than one file for input '{name}': {', '.join(map(str, found))}. "
            f"Keep exactly one of {name}.csv or {name}.parquet."
        )
    return found[0] if found else None


def _reader(path: Path, delimiter: str) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet({_literal(str(path))})"
    return (
        f"read_csv({_literal(str(path))}, header = true, all_varchar = true, "
        f"delim = {_literal(delimiter)}, quote = '\"', escape = '\"', ignore_errors = true)"
    )


def _match(columns: list[str], wanted: str | None) -> str | None:
    """The column named wanted, matched case-insensitively as DuckDB does."""
    if not wanted:
        return None
    return next((c for c in columns if c.lower() == str(wanted).lower()), None)


def _text(column: str) -> str:
    return f"nullif(trim(cast({_quote(column)} as varchar)), '')"


def _null_filter(column: str, null_strings: list[str]) -> str:
    values = ", ".join(_literal(str(v)) for v in null_strings)
    return f"{_text(column)} is not null and {_text(column)} not in ({values})"


def _taxonomy_rows(settings: dict[str, Any]) -> tuple[Path, list[dict[str, str]]]:
    configured = settings.get("event_taxonomy_file")
    path = Path(configured) if configured else Path("seeds/event_taxonomy.csv")
    path = path if path.is_absolute() else project_dir() / path
    with open(path, newline="") as handle:
        rows = [
            {k.lower(): (v or "").strip().lower() for k, v in r.items()}
            for r in csv.DictReader(handle)
        ]
    return path, rows


def _rule_rows() -> list[dict[str, str]]:
    with open(project_dir() / "seeds" / "rule_based_points.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _check_leads(
    con: duckdb.DuckDBPyConnection, path: Path, settings: dict[str, Any], profile: Profile
) -> datetime | None:
    reader = _reader(path, settings.get("csv_delimiter", ","))
    columns = [r[0] for r in con.execute(f"describe select * from {reader}").fetchall()]
    rows = con.execute(f"select count(*) from {reader}").fetchall()[0][0]
    profile.say(f"leads: {path} ({rows:,} rows, {len(columns)} columns)")
    profile.say(f"  columns: {', '.join(columns)}")
    if rows == 0:
        profile.problems.append(f"{path} (leads) has no rows: a build needs at least one lead.")
    null_strings = list(settings.get("null_strings") or [""])

    def recognise(var: str, pattern: re.Pattern[str], what: str) -> str | None:
        configured = settings.get(var)
        found = _match(columns, configured)
        if found:
            profile.say(f"  {what}: {found!r} (var {var})")
            return found
        guess = next((c for c in columns if pattern.match(c)), None)
        if configured and not guess:
            profile.problems.append(
                f"{path} (leads) has no column {configured!r} (var {var}). Set {var} to the "
                f"{what} column of the export"
                + (" or to null" if var != "label_column" else "")
                + f". It has: {', '.join(columns)}."
            )
        elif configured and guess:
            profile.problems.append(
                f"{path} (leads) has no column {configured!r} (var {var}); {guess!r} looks like "
                f"the {what}: set {var}: {guess}."
            )
        if guess:
            profile.say(f"  {what}: {guess!r} recognised (set var {var}: {guess})")
        return guess

    id_column = recognise("lead_id_column", ID_NAMES, "lead id")
    if id_column is None:
        profile.say(
            "  lead id: none; with lead_id_column: null each lead's id is a hash of its row"
        )
    created = recognise("created_at_column", CREATED_NAMES, "creation timestamp")
    label = recognise("label_column", LABEL_NAMES, "label")
    profile.suggested_vars.update(
        lead_id_column=id_column, created_at_column=created, label_column=label
    )
    pii = [c for c in columns if PII_NAMES.search(c)]
    profile.suggested_vars["pii_columns"] = pii

    categorical, numeric = [], []
    profile.say("  attributes (suggested kind):")
    for column in columns:
        if column in (id_column, created, label) or column in pii:
            continue
        present = _null_filter(column, null_strings)
        filled, distinct, numbers = con.execute(
            f"select count(*), count(distinct {_text(column)}), "
            f"count(try_cast({_text(column)} as double)) from {reader} where {present}"
        ).fetchall()[0]
        if filled == 0:
            profile.say(f"    {column!r}: always empty, leave it out")
            continue
        if numbers >= NUMERIC_SHARE * filled and distinct >= NUMERIC_MIN_DISTINCT:
            kind = "numeric"
            numeric.append(column)
        elif distinct > 0.5 * filled and filled > 20:
            profile.say(
                f"    {column!r}: {distinct:,} distinct values in {filled:,} rows, "
                "looks like an id or free text: leave it out"
            )
            continue
        else:
            kind = "categorical"
            categorical.append(column)
        profile.say(
            f"    {column!r}: {kind} ({distinct:,} distinct, {filled / max(rows, 1):.0%} filled)"
        )
    profile.suggested_vars.update(categorical_attributes=categorical, numeric_attributes=numeric)

    for var in ("categorical_attributes", "numeric_attributes"):
        configured = settings.get(var) or []
        missing = [c for c in configured if _match(columns, c) is None]
        profile.attributes += [c for c in configured if c not in missing]
        if missing:
            profile.problems.append(
                f"{path} (leads) lacks the {var} {', '.join(map(repr, missing))}. Map them with "
                f"var {var} (suggested: {profile.suggested_vars[var]})."
            )

    if label:
        trues = [str(v).lower() for v in settings.get("label_true_values") or []]
        falses = [str(v).lower() for v in settings.get("label_false_values") or []]
        values = con.execute(
            f"select lower({_text(label)}) as v, count(*) from {reader} group by v order by 2 desc"
        ).fetchall()
        readings = []
        unreadable = 0
        for value, count in values:
            reading = "1" if value in trues else "0" if value in falses else "rejected"
            unreadable += count if reading == "rejected" else 0
            readings.append(f"{value!r} -> {reading} ({count:,})")
        profile.say(f"  label values: {', '.join(readings[:12])}")
        if rows and unreadable == rows:
            profile.problems.append(
                f"No value of the label column {label!r} reads as 0 or 1 (values: "
                f"{', '.join(repr(v) for v, _ in values[:8])}). Add them to vars "
                "label_true_values / label_false_values."
            )
        elif unreadable:
            profile.say(
                f"  {unreadable:,} rows have a label that is not 0 or 1: they will be "
                "rejected ('label is not 0 or 1')"
            )

    latest = None
    if created:
        first, last, bad = con.execute(
            f"select min(try_cast({_text(created)} as timestamp)), "
            f"max(try_cast({_text(created)} as timestamp)), "
            f"count(*) filter (where {_text(created)} is not null "
            f"and try_cast({_text(created)} as timestamp) is null) from {reader}"
        ).fetchall()[0]
        profile.say(f"  created: {first} .. {last}" + (f" ({bad:,} unparseable)" if bad else ""))
        latest = last
    return latest


def _check_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    path: Path,
    required: tuple[str, ...],
    time_column: str,
    settings: dict[str, Any],
    profile: Profile,
) -> tuple[str, datetime | None]:
    reader = _reader(path, settings.get("csv_delimiter", ","))
    columns = [r[0] for r in con.execute(f"describe select * from {reader}").fetchall()]
    rows = con.execute(f"select count(*) from {reader}").fetchall()[0][0]
    profile.say(f"{name}: {path} ({rows:,} rows)")
    profile.say(f"  columns: {', '.join(columns)}")
    missing = [c for c in required if _match(columns, c) is None]
    if missing:
        profile.problems.append(
            f"{path} ({name}) is missing required column(s): {', '.join(missing)}. It has: "
            f"{', '.join(columns)}. Rename them in the export (the {name} columns are fixed: "
            f"{', '.join(required)})."
        )
        return reader, None
    column = _match(columns, time_column)
    first, last = con.execute(
        f"select min(try_cast({_text(column)} as timestamp)), "
        f"max(try_cast({_text(column)} as timestamp)) from {reader}"
    ).fetchall()[0]
    profile.say(f"  {time_column}: {first} .. {last}")
    return reader, last


def _check_event_kinds(
    con: duckdb.DuckDBPyConnection, reader: str, settings: dict[str, Any], profile: Profile
) -> None:
    taxonomy_path, taxonomy = _taxonomy_rows(settings)
    columns = [r[0].lower() for r in con.execute(f"describe select * from {reader}").fetchall()]
    page = "lower(trim(page_category))" if "page_category" in columns else "null"
    kinds = con.execute(
        f"select lower(trim(channel)), lower(trim(event_type)), {page}, count(*) from {reader} "
        "where nullif(trim(channel), '') is not null and nullif(trim(event_type), '') is not null "
        "group by all order by 4 desc, 1, 2, 3"
    ).fetchall()
    total = sum(k[3] for k in kinds) or 1
    exact = {(r["channel"], r["event_type"], r["page_category"]) for r in taxonomy}
    unmapped = [
        k for k in kinds if (k[0], k[1], k[2] or "") not in exact and (k[0], k[1], "*") not in exact
    ]
    share = sum(k[3] for k in unmapped) / total
    profile.say(
        f"  event kinds: {len(kinds)}; not in the taxonomy ({taxonomy_path}): "
        f"{len(unmapped)}, {share:.1%} of events"
    )
    for channel, event_type, page_category, count in unmapped[:20]:
        line = ",".join(
            [
                channel,
                event_type,
                page_category or "*",
                "engagement",
                "1",
                "",
                f'"{channel} {event_type}"',
            ]
        )
        profile.say(
            f"    {channel} / {event_type} / {page_category or '*'}: {count:,} events "
            f"({count / total:.1%})  add: {line}"
        )
    limit = float(settings.get("unmapped_event_share_error", 0.2))
    if share > limit:
        profile.problems.append(
            f"{share:.1%} of events match no row of {taxonomy_path} (the build fails above "
            f"unmapped_event_share_error = {limit}). Add the rows listed above, or point var "
            "event_taxonomy_file at your own taxonomy."
        )


def _check_rules(profile: Profile) -> None:
    attributes = {_slug(c) for c in profile.attributes}
    skipped = [r for r in _rule_rows() if r["kind"] == "fit" and r["feature"] not in attributes]
    if skipped:
        profile.say(
            "rule-based baseline: rules whose attribute does not exist (skipped): "
            + ", ".join(f"{r['rule']} ({r['feature']})" for r in skipped)
            + ". Rename the feature in seeds/rule_based_points.csv to one of your attributes."
        )


def profile(
    data_dir: Path, overrides: dict[str, Any] | None = None, now: datetime | None = None
) -> Profile:
    """Profile the export in data_dir under the project's vars with overrides on top."""
    settings = {**dbt_vars(), **(overrides or {})}
    result = Profile()
    if not data_dir.is_dir():
        result.problems.append(f"{data_dir} is not a directory. Pass the folder holding leads.csv.")
        return result
    con = duckdb.connect()
    try:
        latest: list[datetime] = []
        leads = _find(data_dir, "leads", result)
        if leads is None:
            result.problems.append(
                f"No leads file in {data_dir} (expected leads.csv or leads.parquet)."
            )
        else:
            last = _check_leads(con, leads, settings, result)
            latest += [last] if last else []
        events = _find(data_dir, "events", result)
        if events is None:
            result.say("events: none (the build scores on lead attributes alone)")
        else:
            reader, last = _check_table(
                con, "events", events, EVENT_REQUIRED, "occurred_at", settings, result
            )
            latest += [last] if last else []
            if last is not None:
                _check_event_kinds(con, reader, settings, result)
        conversions = _find(data_dir, "conversions", result)
        if conversions is None:
            result.say("conversions: none")
        else:
            _, last = _check_table(
                con,
                "conversions",
                conversions,
                CONVERSION_REQUIRED,
                "converted_at",
                settings,
                result,
            )
            latest += [last] if last else []
    finally:
        con.close()
    if latest:
        end = max(latest)
        now = now or datetime.now(timezone.utc).replace(tzinfo=None)
        if end < now - timedelta(days=1):
            as_of = (end + timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
            result.suggested_vars["as_of"] = as_of
            result.say(
                f"the data ends {end}, in the past: build with as_of '{as_of}' "
                "(else every lead looks inactive since then)"
            )
        else:
            result.say(f"the data ends {end}: as_of can stay the build time")
    _check_rules(result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leadscore check", description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder with leads / events / conversions")
    parser.add_argument("--vars", type=Path, default=None, help="a vars file (YAML) to check")
    parser.add_argument(
        "--write-vars",
        type=Path,
        default=None,
        help="write a starter vars file with what check recognised",
    )
    args = parser.parse_args(argv)
    overrides = yaml.safe_load(args.vars.read_text()) or {} if args.vars else {}
    result = profile(args.data_dir, overrides)
    print("\n".join(result.lines))
    if args.write_vars:
        header = (
            f"# Starter vars written by leadscore check {args.data_dir}: review each line,\n"
            f'# then build with --vars "$(cat {args.write_vars})"\n'
        )
        args.write_vars.write_text(header + yaml.safe_dump(result.suggested_vars, sort_keys=False))
        print(f"wrote {args.write_vars}")
    if result.problems:
        print(f"\n{len(result.problems)} problem(s) stop the build:")
        for problem in result.problems:
            print(f"  - {problem}")
        return 1
    print("\nNo blocking problem.")
    return 0
