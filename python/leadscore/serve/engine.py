"""The serving state (compiled query, snapshot, model) and the engine that swaps it on change.

A ``ServingState`` is immutable once built: its own in-memory DuckDB database with the serving
snapshot attached read-only, the scoring functions and the query's input functions registered,
and the query compiled for one model version, prepared once on each pooled connection. A
request looks up its leads' stored rows (one small query), hands them and its own rows to the
connection's input slot, and executes the prepared plan: no bind, no optimiser, per request.
The ``Engine`` polls the champion pointer and the snapshot file; when either
changes it builds a new state beside the old one and swaps a single reference, so a request
holds one state from start to end (the old model and snapshot, or the new ones, never a mix).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from leadscore import udf
from leadscore.artifacts import NO_MODEL, ModelError, champion_version
from leadscore.config import models_dir
from leadscore.scoring import get_scorer
from leadscore.serve.compiler import (
    AS_OF_INPUT,
    INPUT_FUNCTION,
    REQUEST_EVENTS,
    REQUEST_LEADS,
    REQUEST_ROW_OFFSET,
    CompileError,
    ServingQuery,
    compile_serving,
    shared_workdir,
)

__all__ = ["Engine", "LeadInput", "ServingState", "Unavailable"]

log = logging.getLogger("leadscore.serve")

#: the prepared statement's name on every pooled connection
STATEMENT = "leadscore_serving"
#: the column that makes a snapshot relation per lead (looked up for each request)
LEAD_KEY = "lead_id"


class Unavailable(RuntimeError):
    """No state can answer: no model, no snapshot, or still loading. The message says what to do."""


@dataclass(frozen=True)
class LeadInput:
    """One lead of a request as raw text, in the input contract's column names."""

    lead_id: str
    #: raw lead column -> text (None: not given)
    attributes: dict[str, str | None]
    #: events as raw column -> text
    events: list[dict[str, str | None]]


@dataclass(frozen=True)
class ServingState:
    """Everything one answer needs, built once and never changed."""

    query: ServingQuery
    snapshot: Path
    snapshot_key: tuple[int, ...]
    snapshot_as_of: datetime
    snapshot_built_at: datetime
    model: dict[str, Any]
    loaded_at: datetime
    _pool: queue.Queue = field(repr=False, compare=False)
    _database: duckdb.DuckDBPyConnection = field(repr=False, compare=False)
    _inputs: _Inputs = field(repr=False, compare=False)

    @property
    def model_version(self) -> str:
        return self.query.model_version

    @contextmanager
    def _connection(self) -> Iterator[tuple[int, duckdb.DuckDBPyConnection]]:
        slot, con = self._pool.get()
        try:
            yield slot, con
        finally:
            self._pool.put((slot, con))

    def score(self, leads: Sequence[LeadInput], as_of: datetime) -> list[dict[str, Any]]:
        """The serving query's row for each lead, in order (scores or the reasons it has none)."""
        lead_id_column = self.query.contract["lead_id_column"]
        lead_rows = [
            {
                **{column: lead.attributes.get(column) for column in self.query.lead_columns},
                lead_id_column: lead.lead_id,
                "leadscore_row_number": row,
            }
            for row, lead in enumerate(leads, start=1)
        ]
        events = [event for lead in leads for event in lead.events]
        event_rows = [
            {
                **{column: event.get(column) for column in self.query.event_columns},
                "leadscore_row_number": REQUEST_ROW_OFFSET + k,
            }
            for k, event in enumerate(events)
        ]
        with self._connection() as (slot, con):
            values = self._inputs.lookup(con, [lead.lead_id for lead in leads])
            values[REQUEST_LEADS] = _one_list(lead_rows, self._inputs.types[REQUEST_LEADS])
            values[REQUEST_EVENTS] = _one_list(event_rows, self._inputs.types[REQUEST_EVENTS])
            values[AS_OF_INPUT] = pa.array([as_of.strftime("%Y-%m-%d %H:%M:%S.%f")])
            self._inputs.slots[slot] = values
            try:
                cursor = con.execute(f"execute {STATEMENT}")
                names = [d[0] for d in cursor.description]
                rows = cursor.fetchall()
            finally:
                self._inputs.slots.pop(slot, None)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def known_leads(self, lead_ids: Sequence[str]) -> set[str]:
        with self._connection() as (_, con):
            rows = con.execute(
                "select lead_id from snapshot.stg_raw__leads where lead_id in (select unnest($1))",
                [list(lead_ids)],
            ).fetchall()
        return {row[0] for row in rows}

    def close(self) -> None:
        while not self._pool.empty():
            self._pool.get_nowait()[1].close()
        self._database.close()


def _one_list(rows: list[dict[str, Any]], row_type: pa.DataType) -> pa.Array:
    """rows as one list value (the input functions answer one list per call)."""
    return pa.array([rows], type=pa.list_(row_type))


class _Inputs:
    """The values of the query's input functions, per connection slot.

    A relation with a lead_id column is looked up for each request (the requested leads'
    stored rows); any other relation (seeds) is read once; the request's own rows and as_of
    are set by ``ServingState.score`` for the duration of one execution.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, query: ServingQuery) -> None:
        self.slots: dict[int, dict[str, pa.Array]] = {}
        self.types: dict[str, pa.DataType] = {}
        self.constants: dict[str, pa.Array] = {}
        self.per_lead: list[str] = []
        self.sql_types: dict[str, str] = {}
        for name in query.inputs:
            columns = con.execute(f'describe snapshot."{name}"').fetchall()
            self.sql_types[name] = _struct_list(columns)
            if LEAD_KEY in [c[0] for c in columns]:
                self.per_lead.append(name)
            else:
                self.constants[name] = (
                    con.sql(f'select list(t) from snapshot."{name}" as t')
                    .to_arrow_table().column(0).combine_chunks()
                )
        for name, columns in (
            (REQUEST_LEADS, query.lead_columns),
            (REQUEST_EVENTS, query.event_columns),
        ):
            described = [(c, "VARCHAR") for c in columns] + [("leadscore_row_number", "BIGINT")]
            self.sql_types[name] = _struct_list(described)
            self.types[name] = pa.struct(
                [(c, pa.string()) for c in columns] + [("leadscore_row_number", pa.int64())]
            )
        self.sql_types[AS_OF_INPUT] = "VARCHAR"
        lookups = ", ".join(
            f'(select list(t) from snapshot."{name}" as t '
            f"where t.{LEAD_KEY} in (select unnest($1::varchar[]))) as \"{name}\""
            for name in self.per_lead
        )
        self._lookup_sql = f"select {lookups}" if self.per_lead else ""

    def lookup(self, con: duckdb.DuckDBPyConnection, lead_ids: list[str]) -> dict[str, pa.Array]:
        """The stored rows of these leads in every per-lead relation (one query)."""
        if not self._lookup_sql:
            return {}
        table = con.sql(self._lookup_sql, params=[lead_ids]).to_arrow_table()
        return {name: table.column(name).combine_chunks() for name in self.per_lead}

    def _answer(self, name: str, constant: pa.Array | None) -> Callable[[pa.Array], pa.Array]:
        def answer(slot: pa.Array) -> pa.Array:
            value = constant if constant is not None else self.slots[slot[0].as_py()][name]
            # one value per row DuckDB passes (the same slot in every row)
            return value if len(slot) == 1 else value.take(np.zeros(len(slot), dtype=np.int64))

        return answer

    def register(self, database: duckdb.DuckDBPyConnection) -> None:
        """One input function per relation, request table and the as_of."""
        slot_type = duckdb.sqltype("BIGINT")
        for name, sql_type in self.sql_types.items():
            constant = self.constants.get(name)
            database.create_function(
                INPUT_FUNCTION.format(name=name),
                self._answer(name, constant),
                [slot_type],
                duckdb.sqltype(sql_type),
                type="arrow",
                null_handling="special",  # no stored row: NULL, no rows
                # a request's value changes between executions of one plan
                side_effects=constant is None,
            )


def _struct_list(columns: Sequence[Sequence[Any]]) -> str:
    fields = ", ".join('"' + str(c[0]).replace('"', '""') + f'" {c[1]}' for c in columns)
    return f"STRUCT({fields})[]"


def _snapshot_key(path: Path) -> tuple[int, ...] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def build_state(
    snapshot: Path,
    artifacts: Path,
    model_version: str | None,
    connections: int,
    workdir: Path | None = None,
) -> ServingState:
    """Compile the query and open the snapshot; raises Unavailable with what to do."""
    key = _snapshot_key(snapshot)
    if key is None:
        raise Unavailable(
            f"No serving snapshot at {snapshot}. A successful `dbt build` publishes it "
            "(set LEADSCORE_PUBLISH_DIR or --snapshot to read another one)."
        )
    try:
        scorer = get_scorer(model_version, artifacts)
    except ModelError as exc:
        raise Unavailable(str(exc)) from exc
    try:
        query = compile_serving(snapshot, artifacts, model_version, workdir)
    except CompileError as exc:
        raise Unavailable(str(exc)) from exc
    if query.model_version != scorer.version:  # the champion moved while compiling
        raise Unavailable(f"The champion changed while loading {scorer.version}; retrying")
    database = duckdb.connect(config={"threads": 1})
    database.execute(f"attach '{snapshot}' as snapshot (read_only)")
    as_of, built_at = database.execute(
        "select as_of, built_at from snapshot.serving_snapshot"
    ).fetchall()[0]
    udf.register(database, artifacts)  # the functions belong to the database: every cursor has them
    inputs = _Inputs(database, query)
    inputs.register(database)
    pool: queue.Queue = queue.Queue()
    for slot in range(connections):
        cursor = database.cursor()
        # planned once here; each request only executes it
        cursor.execute(f"prepare {STATEMENT} as {query.for_slot(slot)}")
        pool.put((slot, cursor))
    meta = scorer.metadata
    model = {
        "version": scorer.version,
        "feature_schema_hash": meta["feature_schema_hash"],
        "features": [{"name": f["name"], "kind": f["kind"]} for f in meta["features"]],
        "metrics": meta.get("metrics", {}),
        "calibration": (meta.get("calibration") or {}).get("method"),
    }
    state = ServingState(
        query=query,
        snapshot=snapshot,
        snapshot_key=key,
        snapshot_as_of=as_of,
        snapshot_built_at=built_at,
        model=json.loads(json.dumps(model, default=str)),
        loaded_at=datetime.now(),
        _pool=pool,
        _database=database,
        _inputs=inputs,
    )
    _warm_up(state, as_of, connections)
    return state


def _warm_up(state: ServingState, as_of: datetime, connections: int) -> None:
    """Score one stored lead on every connection: the model loads before the first request.

    The pool is first in, first out, so n requests in a row use each of the n connections once.
    """
    with state._connection() as (_, con):
        first = con.execute("select min(lead_id) from snapshot.stg_raw__leads").fetchall()[0][0]
    if first is not None:
        for _ in range(connections):
            state.score([LeadInput(first, {}, [])], as_of)


class Engine:
    """Holds the current state and replaces it when the champion or the snapshot changes."""

    def __init__(
        self,
        snapshot: Path,
        artifacts: Path,
        model_version: str | None = None,
        connections: int = 2,
        poll_seconds: float = 2.0,
    ) -> None:
        self.snapshot = snapshot
        self.artifacts = artifacts
        self.model_version = model_version
        self.connections = connections
        self.poll_seconds = poll_seconds
        self._state: ServingState | None = None
        self._problem = "The service is starting: loading the model and the snapshot. Retry soon."
        self._workdir = shared_workdir()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()

    def state(self) -> ServingState:
        """The current state (read once per request), or Unavailable saying why not."""
        state = self._state
        if state is None:
            raise Unavailable(self._problem)
        return state

    @property
    def problem(self) -> str | None:
        return None if self._state is not None else self._problem

    def _wanted(self) -> tuple[str | None, tuple[int, ...] | None]:
        version = self.model_version or champion_version(self.artifacts)
        return version, _snapshot_key(self.snapshot)

    def refresh(self) -> bool:
        """Load a new state if the model or snapshot changed; True when one was swapped in."""
        with self._refresh_lock:
            version, key = self._wanted()
            current = self._state
            if current is not None and (current.model_version, current.snapshot_key) == (
                version,
                key,
            ):
                return False
            if version is None:
                problem = NO_MODEL.format(where=models_dir(self.artifacts))
                if current is None:
                    self._problem = problem
                else:  # the champion pointer vanished: keep answering with the loaded model
                    log.warning("%s; still serving %s", problem, current.model_version)
                return False
            try:
                state = build_state(
                    self.snapshot, self.artifacts, version, self.connections, self._workdir
                )
            except Unavailable as exc:
                if current is None:
                    self._problem = str(exc)
                log.warning("not reloading: %s", exc)
                return False
            self._state = state  # the swap: one reference assignment
            log.info(
                "serving model %s on the snapshot built %s (as_of %s)",
                state.model_version,
                state.snapshot_built_at,
                state.snapshot_as_of,
            )
            if current is not None:
                # requests that took the old state keep it; close it once they are done
                threading.Timer(30.0, current.close).start()
            return True

    def start(self) -> None:
        """Load in the background and keep watching for a new model or snapshot."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.refresh()
                except Exception as exc:  # a watcher that dies would silently stop reloads
                    log.exception("reload failed: %s", exc)
                    if self._state is None:
                        self._problem = f"Loading the model and snapshot failed: {exc}"
                self._stop.wait(self.poll_seconds)

        self._thread = threading.Thread(target=loop, name="leadscore-serve-reload", daemon=True)
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._state is None and time.monotonic() < deadline:
            time.sleep(0.1)
        return self._state is not None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
