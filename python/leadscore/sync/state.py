"""Delivery state: what each destination acknowledged, what waits for a retry, what failed.

A small DuckDB file of its own (default: sync/state.duckdb beside the published folder),
written only by `leadscore sync`, never by a build. Each batch's outcome is committed as soon
as the CRM answers, so a run killed at any point loses at most the answer to the request in
flight, and that batch is sent again by the next run (upserts by lead id make that harmless).

Tables, each keyed by (destination, lead_id):

* ``delivered``: the delivery hash (crm_outbox.payload_hash with the field mapping) the
  destination last acknowledged;
* ``retry_queue``: attempts so far, the last error, and the earliest time to try again;
* ``dead_letters``: records the CRM rejected for good, with its message and the record sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

from leadscore.config import in_use_message
from leadscore.sync.config import SyncConfig, SyncError

__all__ = ["DeliveryState"]

_DDL = """
create table if not exists delivered (
    destination varchar, lead_id varchar, delivery_hash varchar, acknowledged_at timestamp
);
create table if not exists retry_queue (
    destination varchar, lead_id varchar, delivery_hash varchar, attempts integer,
    next_attempt_at timestamp, last_error varchar, updated_at timestamp
);
create table if not exists dead_letters (
    destination varchar, lead_id varchar, delivery_hash varchar, status varchar,
    error varchar, record json, failed_at timestamp
);
create table if not exists sync_runs (
    destination varchar, started_at timestamp, finished_at timestamp, outcome varchar,
    to_send bigint, deferred bigint, sent bigint, acknowledged bigint, retried bigint,
    dead_lettered bigint, left_for_next_run bigint
);
"""
_TABLES = ("delivered", "retry_queue", "dead_letters", "sync_runs")
_COLUMNS = {
        "delivered": ("destination", "lead_id", "delivery_hash", "acknowledged_at"),
        "retry_queue": (
            "destination", "lead_id", "delivery_hash", "attempts", "next_attempt_at",
            "last_error", "updated_at",
        ),
        "dead_letters": (
            "destination", "lead_id", "delivery_hash", "status", "error", "record", "failed_at",
        ),
    }



def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _lock_message(path: Path, exc: Exception) -> str:
    return (
        in_use_message(path, exc) + ", most likely another leadscore sync. Nothing was sent or "
        "changed; run again when it has finished."
    )


class DeliveryState:
    """The state file, with the published crm_outbox attached read-only."""

    def __init__(self, config: SyncConfig, *, read_only: bool = False) -> None:
        self.config = config
        self.destination = config.name
        outbox = config.published / "leadscore.duckdb"
        if not outbox.exists():
            raise SyncError(
                f"No published scores at {outbox}. Build and publish them first: "
                "dbt build --select tag:scoring"
            )
        try:
            if read_only and not config.state.exists():
                self.con = duckdb.connect()
                self.con.execute(_DDL)
            else:
                config.state.parent.mkdir(parents=True, exist_ok=True)
                self.con = duckdb.connect(str(config.state), read_only=read_only)
        except duckdb.IOException as exc:
            raise SyncError(_lock_message(config.state, exc)) from None
        try:
            self.con.execute(f"attach '{outbox}' as published (read_only)")
            self._check_outbox(outbox)
            if not read_only:
                self.con.execute(_DDL)
            else:
                present = {r[0] for r in self.con.execute("show tables").fetchall()}
                if not set(_TABLES) <= present:
                    self.con.execute(_DDL.replace("create table", "create temp table"))
        except BaseException:
            self.con.close()
            raise

    def close(self) -> None:
        self.con.close()

    def _check_outbox(self, outbox: Path) -> None:
        tables = {
            r[0]
            for r in self.con.execute(
                "select table_name from duckdb_tables() where database_name = 'published'"
            ).fetchall()
        }
        if "crm_outbox" not in tables or "lead_scores" not in tables:
            raise SyncError(
                f"{outbox} has no crm_outbox (or no lead_scores). Build and publish it: "
                "dbt build --select tag:scoring"
            )
        stale = self.con.execute(
            """
            select count(*)
            from published.lead_scores as s
            full join published.crm_outbox as o on s.lead_id = o.lead_id
            where s.score_fingerprint is distinct from o.score_fingerprint
            """
        ).fetchall()[0][0]
        if stale:
            raise SyncError(
                f"crm_outbox in {outbox} was built from other scores than lead_scores there "
                f"({stale} leads differ), so it would send stale scores. Rebuild both: "
                "dbt build --select tag:scoring"
            )

    # ---------------------------------------------------------------------------- reading
    def _pending_sql(self) -> str:
        return """
            with outbox as (
                select *, md5(payload_hash || $fingerprint) as delivery_hash
                from published.crm_outbox
                where is_prospect
            ),
            changed as (
                select
                    outbox.*,
                    delivered.lead_id is not null as was_delivered,
                    retry_queue.attempts,
                    retry_queue.next_attempt_at,
                from outbox
                left join delivered
                    on delivered.destination = $destination
                    and delivered.lead_id = outbox.lead_id
                left join retry_queue
                    on retry_queue.destination = $destination
                    and retry_queue.lead_id = outbox.lead_id
                where delivered.delivery_hash is distinct from outbox.delivery_hash
                  and not exists (
                      select 1 from dead_letters
                      where dead_letters.destination = $destination
                        and dead_letters.lead_id = outbox.lead_id
                        and dead_letters.delivery_hash = outbox.delivery_hash
                  )
            )
            select * from changed
        """

    def _params(self) -> dict[str, Any]:
        return {"destination": self.destination, "fingerprint": self.config.mapping_fingerprint}

    def counts(self) -> dict[str, int]:
        """Leads to send now, leads waiting for their next attempt, converted leads skipped."""
        now = _now()
        to_send, deferred = self.con.execute(
            f"""
            select
                count(*) filter (where next_attempt_at is null or next_attempt_at <= $now),
                count(*) filter (where next_attempt_at > $now),
            from ({self._pending_sql()})
            """,
            {**self._params(), "now": now},
        ).fetchall()[0]
        converted = self.con.execute(
            "select count(*) from published.crm_outbox where not is_prospect"
        ).fetchall()[0][0]
        return {"to_send": to_send, "deferred": deferred, "converted": converted}

    def batches(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """The records to send now, in lead order, size at a time (streamed, not all in memory)."""
        cursor = self.con.cursor()
        try:
            result = cursor.execute(
                f"""
                select * exclude (payload_hash, score_fingerprint, is_prospect, next_attempt_at)
                from ({self._pending_sql()})
                where next_attempt_at is null or next_attempt_at <= $now
                order by lead_id
                """,
                {**self._params(), "now": _now()},
            )
            names = [d[0] for d in result.description]
            while rows := result.fetchmany(size):
                yield [dict(zip(names, row, strict=True)) for row in rows]
        finally:
            cursor.close()

    # ---------------------------------------------------------------------------- writing
    def _insert(self, table: str, columns: dict[str, list[Any]], fixed: dict[str, Any]) -> None:
        """One insert of many rows (lists unnested side by side; executemany is row by row)."""
        names = list(columns)
        select = ", ".join(
            f"unnest(${n}) as {n}" if n in columns else f"${n} as {n}" for n in _COLUMNS[table]
        )
        self.con.execute(
            f"insert into {table} select {select}",
            {**{n: columns[n] for n in names}, **fixed},
        )

    def _forget(self, table: str, leads: list[str]) -> None:
        self.con.execute(
            f"delete from {table} where destination = $destination "
            "and list_contains($leads, lead_id)",
            {"destination": self.destination, "leads": leads},
        )

    def record(
        self,
        records: list[dict[str, Any]],
        acknowledged: list[str],
        dead: dict[str, tuple[str, str]],
        sent: dict[str, Any],
    ) -> None:
        """Commit one answer: acknowledged leads are delivered, rejected ones dead-lettered."""
        by_lead = {str(r["lead_id"]): r for r in records}
        hashes = {k: r["delivery_hash"] for k, r in by_lead.items()}
        now = _now()
        done = acknowledged + list(dead)
        if not done:
            return
        self.con.execute("begin")
        try:
            # only statements with something to do: each costs a few ms of a batch
            if any(by_lead[k].get("attempts") is not None for k in done):
                self._forget("retry_queue", done)
            if acknowledged:
                if any(by_lead[k].get("was_delivered") for k in acknowledged):
                    self._forget("delivered", acknowledged)
                self._insert(
                    "delivered",
                    {"lead_id": acknowledged, "delivery_hash": [hashes[k] for k in acknowledged]},
                    {"destination": self.destination, "acknowledged_at": now},
                )
            if dead:
                leads = list(dead)
                self._insert(
                    "dead_letters",
                    {
                        "lead_id": leads,
                        "delivery_hash": [hashes[k] for k in leads],
                        "status": [dead[k][0] for k in leads],
                        "error": [dead[k][1] for k in leads],
                        "record": [json.dumps(sent.get(k), default=str) for k in leads],
                    },
                    {"destination": self.destination, "failed_at": now},
                )
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise

    def defer(self, records: list[dict[str, Any]], reasons: dict[str, str], tries: int,
              wait_seconds: float) -> None:  # fmt: skip
        """Leave records for a later run: attempts so far, the error, when to try again."""
        by_lead = {str(r["lead_id"]): r for r in records}
        now = _now()
        leads = list(reasons)
        self.con.execute("begin")
        try:
            self._forget("retry_queue", leads)
            self._insert(
                "retry_queue",
                {
                    "lead_id": leads,
                    "delivery_hash": [by_lead[k]["delivery_hash"] for k in leads],
                    "attempts": [(by_lead[k].get("attempts") or 0) + tries for k in leads],
                    "last_error": [reasons[k] for k in leads],
                },
                {
                    "destination": self.destination,
                    "next_attempt_at": now + timedelta(seconds=wait_seconds),
                    "updated_at": now,
                },
            )
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise

    def requeue_dead_letters(self) -> int:
        """Forget this destination's dead letters, so their records are sent again."""
        n = self.con.execute(
            "select count(*) from dead_letters where destination = ?", [self.destination]
        ).fetchall()[0][0]
        self.con.execute("delete from dead_letters where destination = ?", [self.destination])
        return n

    def log_run(self, started_at: datetime, outcome: str, summary: dict[str, int]) -> None:
        self.con.execute(
            "insert into sync_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self.destination,
                started_at,
                _now(),
                outcome,
                *(
                    summary.get(k, 0)
                    for k in (
                        "to_send", "deferred", "sent", "acknowledged", "retried",
                        "dead_lettered", "left_for_next_run",
                    )
                ),
            ],
        )
