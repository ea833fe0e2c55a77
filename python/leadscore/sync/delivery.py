"""The delivery loop: batches from the outbox, a rate limiter, retries with backoff, and an
answer committed per batch."""

from __future__ import annotations

import email.utils
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TextIO

import httpx

from leadscore.sync.config import RateLimit, SyncConfig, SyncError
from leadscore.sync.destinations import (
    Outcome,
    build_request,
    message_of,
    read_rejection,
    read_success,
)
from leadscore.sync.state import DeliveryState

__all__ = ["AuthError", "RateLimiter", "Summary", "deliver"]


class AuthError(SyncError):
    """The CRM refused the credentials: the run stops."""


class RateLimiter:
    """At most `requests` request starts in any window of `per_seconds` (a sliding window)."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit, self.clock, self.sleep = limit, clock, sleep
        self.starts: deque[float] = deque(maxlen=limit.requests)
        self.waited = 0.0

    def acquire(self) -> None:
        if len(self.starts) == self.limit.requests:
            wait = self.starts[0] + self.limit.per_seconds - self.clock()
            if wait > 0:
                self.waited += wait
                self.sleep(wait)
        self.starts.append(self.clock())


@dataclass
class Summary:
    to_send: int = 0
    deferred: int = 0
    converted: int = 0
    sent: int = 0  # records sent at least once this run
    requests: int = 0
    acknowledged: int = 0
    retried: int = 0  # records sent again within this run
    dead_lettered: int = 0
    left_for_next_run: int = 0
    outcome: str = "ok"
    rate_limited_seconds: float = 0.0
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}

    def line(self) -> str:
        return (
            f"{self.to_send} to send ({self.deferred} waiting for a later retry, "
            f"{self.converted} converted leads not sent), {self.sent} sent in {self.requests} "
            f"requests, {self.acknowledged} acknowledged, {self.retried} retried, "
            f"{self.dead_lettered} dead-lettered, {self.left_for_next_run} left for the next run"
        )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def backoff_seconds(tries: int, config: SyncConfig, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half fixed, half random), never below Retry-After."""
    base = min(config.retry.max_backoff_seconds, config.retry.backoff_seconds * 2 ** (tries - 1))
    delay = base / 2 + random.uniform(0, base / 2)
    return max(delay, retry_after or 0.0)


class _Sender:
    """One HTTP exchange per batch attempt, with the answer turned into an Outcome."""

    def __init__(self, config: SyncConfig, token: str | None, redact: Callable[[str], str]) -> None:
        self.config, self.redact = config, redact
        headers = {"Content-Type": "application/json", "User-Agent": "leadscore-sync"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(timeout=config.timeout_seconds, headers=headers)

    def close(self) -> None:
        self.client.close()

    def send(self, records: list[dict[str, Any]]) -> tuple[Outcome, float | None, dict[str, Any]]:
        method, url, body = build_request(records, self.config)
        items = body.get("inputs") or body.get("records") or []
        sent = {str(r["lead_id"]): item for r, item in zip(records, items, strict=True)}
        leads = list(sent)
        try:
            response = self.client.request(method, url, json=body)
        except httpx.TimeoutException:
            why = f"timed out after {self.config.timeout_seconds:g} s"
            return Outcome(retry=dict.fromkeys(leads, why)), None, sent
        except httpx.TransportError as exc:
            why = self.redact(f"connection error: {type(exc).__name__}: {exc}")
            return Outcome(retry=dict.fromkeys(leads, why)), None, sent
        status = response.status_code
        if status in (401, 403):
            raise AuthError(
                f"{self.config.destination} at {url} refused the credentials (HTTP {status}). "
                f"Check the token in LEADSCORE_CRM_TOKEN and its permissions. The run stopped; "
                "this batch and the ones after it were not marked delivered."
            )
        if status == 429 or status >= 500:
            why = self.redact(message_of(response))
            return Outcome(retry=dict.fromkeys(leads, why)), retry_after_seconds(response), sent
        if status in (404, 405, 413):
            hint = "lower batch_size" if status == 413 else "check url (and api_version, sobject)"
            raise SyncError(
                f"{self.config.destination} answered HTTP {status} at {url}: {hint} in the sync "
                "config. The run stopped; nothing more was marked delivered."
            )
        outcome = (
            read_success(records, response, self.config)
            if 200 <= status < 300
            else read_rejection(records, response, self.config)
        )
        outcome.dead = {k: (s, self.redact(m)) for k, (s, m) in outcome.dead.items()}
        outcome.retry = {k: self.redact(m) for k, m in outcome.retry.items()}
        return outcome, None, sent


def deliver(
    state: DeliveryState,
    config: SyncConfig,
    token: str | None,
    summary: Summary,
    redact: Callable[[str], str],
    progress: TextIO = sys.stderr,
) -> None:
    """Send every record to send now; commit each answer; leave retries for the next run."""
    limiter = RateLimiter(config.rate_limit)
    sender = _Sender(config, token, redact)
    shown = 0.0
    try:
        for batch in state.batches(config.batch_size):
            pending = batch
            tries = 0
            summary.sent += len(batch)
            while pending:
                limiter.acquire()
                summary.requests += 1
                outcome, retry_after, sent = sender.send(pending)
                tries += 1
                state.record(pending, outcome.acknowledged, outcome.dead, sent)
                summary.acknowledged += len(outcome.acknowledged)
                summary.dead_lettered += len(outcome.dead)
                pending = [r for r in pending if str(r["lead_id"]) in outcome.retry]
                if not pending:
                    break
                delay = backoff_seconds(tries, config, retry_after)
                if tries >= config.retry.attempts or delay > config.retry.max_backoff_seconds:
                    state.defer(pending, outcome.retry, tries,
                                max(delay, config.retry.next_run_after_seconds))
                    summary.left_for_next_run += len(pending)
                    break
                summary.retried += len(pending)
                time.sleep(delay)
            if time.monotonic() - shown >= 1.0 or summary.sent == summary.to_send:
                shown = time.monotonic()
                print(
                    f"sync: {summary.sent}/{summary.to_send} sent, {summary.acknowledged} "
                    f"acknowledged, {summary.retried} retried, {summary.dead_lettered} "
                    f"dead-lettered, {summary.left_for_next_run} left for the next run",
                    file=progress,
                    flush=True,
                )
    finally:
        summary.rate_limited_seconds = limiter.waited
        sender.close()
