"""`leadscore sync`: send changed scores to a CRM (webhook, HubSpot or Salesforce).

The published crm_outbox holds every lead's payload and its hash; a lead is sent to a
destination when that hash differs from the one the destination last acknowledged, so
unchanged leads are never sent again and converted leads are never sent as prospects.
Delivery is at least once with idempotent upserts keyed by lead id: retryable failures
(429, 5xx, timeouts, connection errors) back off within the run, honouring Retry-After, then
wait for a later run; a record the CRM rejects for good goes to the dead-letter table with the
CRM's message; 401/403 stops the run. The token comes from LEADSCORE_CRM_TOKEN only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from leadscore.config import busy_message, warehouse_path
from leadscore.sync.config import TOKEN_ENV, SyncConfig, SyncError, load_config
from leadscore.sync.delivery import AuthError, Summary, deliver
from leadscore.sync.destinations import build_request
from leadscore.sync.state import DeliveryState

__all__ = ["Summary", "SyncConfig", "SyncError", "load_config", "main", "run_sync"]


def _refuse_during_build(warehouse: Path) -> None:
    """Fail at once while a build holds the warehouse: it is about to publish new scores, and
    a sync now would send scores that are being replaced (and the same leads again after)."""
    if not warehouse.exists():
        return
    busy = busy_message(warehouse, read_only=True)
    if busy:
        raise SyncError(
            busy + ", most likely a dbt build that will publish new scores. Nothing was sent or "
            "changed. Run leadscore sync again when the build has finished."
        )


def _redactor(token: str | None):
    def redact(text: str) -> str:
        return text.replace(token, "[LEADSCORE_CRM_TOKEN]") if token else text

    return redact


def run_sync(
    config: SyncConfig,
    *,
    dry_run: bool = False,
    requeue_dead_letters: bool = False,
    out: TextIO | None = None,
    progress: TextIO | None = None,
) -> Summary:
    """One sync run; returns its summary. Raises SyncError (AuthError) when it cannot go on."""
    out = out or sys.stdout
    progress = progress or sys.stderr
    token = os.environ.get(TOKEN_ENV) or None
    if not dry_run and not token and config.destination != "webhook":
        raise SyncError(
            f"Set the environment variable {TOKEN_ENV} to the {config.destination} access "
            "token (it is never read from a file)."
        )
    _refuse_during_build(warehouse_path())
    state = DeliveryState(config, read_only=dry_run)
    summary = Summary()
    try:
        if requeue_dead_letters and not dry_run:
            print(f"{state.requeue_dead_letters()} dead letters queued again", file=out)
        summary.to_send, summary.deferred, summary.converted = state.counts().values()
        print(f"Sync to {config.name}: {summary.to_send} records to send", file=out, flush=True)
        if dry_run:
            for batch in state.batches(config.batch_size):
                method, url, body = build_request(batch, config)
                print(f"{method} {url}", file=out)
                print(json.dumps(body, indent=2, default=str), file=out)
            print("Dry run: nothing was sent and no state changed.", file=out)
            return summary
        try:
            deliver(state, config, token, summary, _redactor(token), progress)
        except AuthError:
            summary.outcome = "stopped: credentials refused"
            raise
        except SyncError:
            summary.outcome = "stopped"
            raise
        finally:
            state.log_run(summary.started_at.replace(tzinfo=None), summary.outcome,
                          summary.counts())
        print(f"Sync to {config.name}: {summary.line()}", file=out)
        if summary.rate_limited_seconds:
            print(f"Rate limit: waited {summary.rate_limited_seconds:.1f} s", file=out)
        return summary
    finally:
        state.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="leadscore sync",
        description="Send the leads whose scores changed to a CRM (see README: Sending scores "
        "to your CRM). The token comes from the environment variable LEADSCORE_CRM_TOKEN.",
    )
    parser.add_argument("--config", type=Path, required=True, help="crm.yml")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the requests; send and change nothing"
    )
    parser.add_argument(
        "--requeue-dead-letters",
        action="store_true",
        help="send the dead-lettered records again (after fixing what the CRM rejected)",
    )
    args = parser.parse_args(argv)
    redact = _redactor(os.environ.get(TOKEN_ENV) or None)
    try:
        config = load_config(args.config)
        summary = run_sync(
            config, dry_run=args.dry_run, requeue_dead_letters=args.requeue_dead_letters
        )
    except AuthError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 3
    except SyncError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 2
    return 1 if summary.dead_lettered or summary.left_for_next_run else 0
