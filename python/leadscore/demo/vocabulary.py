"""Other CRM vocabularies for the demo data: the same leads and events under other names.

``leadscore generate --vocabulary activity_log`` writes the demo data as another CRM would
export it: its own channel, event type and page category names, and its own attribute column
names (with capitals, spaces and a slash). The hidden process is untouched, so a model built on
it through the matching taxonomy (``examples/activity_log/``) should score as well as on the
native names: the proof that the taxonomy, not the code, decides what an event means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

__all__ = ["VOCABULARIES", "Vocabulary", "apply_to_files"]


@dataclass(frozen=True)
class Vocabulary:
    """Renames of one CRM: event values by column, and lead column names."""

    events: dict[str, dict[str, str]] = field(default_factory=dict)
    lead_columns: dict[str, str] = field(default_factory=dict)


VOCABULARIES: dict[str, Vocabulary] = {
    "activity_log": Vocabulary(
        events={
            "channel": {
                "web": "site",
                "email": "mailing",
                "form": "forms",
                "content": "resources",
                "webinar": "events",
                "social": "social_media",
                "sales": "crm",
            },
            "event_type": {
                "page_view": "visit",
                "form_submit": "form_fill",
                "download": "asset_download",
                "email_sent": "mail_delivered",
                "email_open": "mail_opened",
                "email_click": "mail_clicked",
                "unsubscribe": "opt_out",
                "webinar_register": "event_registered",
                "webinar_attend": "event_attended",
                "social_engagement": "linkedin_engagement",
                "call": "phone_call",
                "meeting": "sales_meeting",
            },
            "page_category": {
                "pricing": "plans",
                "demo": "product_tour",
                "contact": "talk_to_us",
                "docs": "help_center",
                "blog": "articles",
                "case_study": "customer_stories",
                "home": "homepage",
                "careers": "jobs",
                "newsletter": "subscribe",
            },
        },
        lead_columns={
            "created_at": "Create Date",
            "job_title": "Job Level",
            "company_size": "Company Size Band",
            "employee_count": "Employees",
            "industry": "Industry",
            "country": "Country/Region",
            "lead_source": "Lead Source",
        },
    ),
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _mapped(column: str, renames: dict[str, str]) -> str:
    cases = " ".join(f"when {_literal(a)} then {_literal(b)}" for a, b in renames.items())
    return f"case {_quote(column)} {cases} else {_quote(column)} end as {_quote(column)}"


def apply_to_files(out_dir: Path, fmt: str, name: str) -> None:
    """Rewrite the leads and events files in out_dir under the vocabulary called name."""
    if name not in VOCABULARIES:
        raise ValueError(f"unknown vocabulary {name!r} (known: {', '.join(VOCABULARIES)})")
    vocabulary = VOCABULARIES[name]
    con = duckdb.connect()
    try:
        for table, columns in (
            ("events", {c: _mapped(c, r) for c, r in vocabulary.events.items()}),
            (
                "leads",
                {c: f"{_quote(c)} as {_quote(new)}" for c, new in vocabulary.lead_columns.items()},
            ),
        ):
            path = out_dir / f"{table}.{fmt}"
            if fmt == "csv":
                source = f"read_csv({_literal(str(path))}, header = true, all_varchar = true)"
                options = "(format csv, header true)"
            else:
                source = f"read_parquet({_literal(str(path))})"
                options = "(format parquet, compression zstd)"
            names = [row[0] for row in con.execute(f"describe select * from {source}").fetchall()]
            select = ", ".join(columns.get(n, _quote(n)) for n in names)
            tmp = path.with_name(f".{path.name}.tmp")
            con.execute(f"copy (select {select} from {source}) to {_literal(str(tmp))} {options}")
            tmp.replace(path)
    finally:
        con.close()
