"""Generate leadscore's synthetic demo data: leads, events and conversions with a known truth.

The generator draws a CRM-like data set from a documented hidden process, so that a scorer
built on it can be judged against the true conversion probability instead of only against
noisy outcomes.

Usage::

    python -m leadscore.demo.generate [--leads 20000] [--seed 42] [--end YYYY-MM-DD] [--months 18]
        [--label-window-days 90] [--out data/raw] [--truth-out data/truth]
        [--format csv|parquet] [--mode default|steady|fast|shift] [--quiet]
    leadscore generate --leads 1000000 --end 2026-11-01 --format parquet

or from Python: ``generate(n_leads, seed, end, months)`` returns a :class:`Dataset` of pyarrow
tables and ``write_dataset(ds, out_dir, truth_dir, fmt)`` writes it.  The command line streams
chunk by chunk instead, so a million leads (about 50 million events) take about a minute and a
few GiB of memory.

Output (the project's input contract)
-------------------------------------
``{out}/leads.{csv|parquet}``
    lead_id, created_at, email, job_title, company_size, employee_count, industry, country,
    lead_source.
``{out}/events.{csv|parquet}``
    event_id, lead_id, occurred_at, channel, event_type, page_category, campaign, value.
    ``page_category`` is set for web page views (pricing, demo, contact, docs, blog,
    case_study, home, careers) and form submits (demo, contact, newsletter) only; the allowed
    combinations are listed in ``EVENT_COMBOS``.  ``value`` is a duration in seconds where one
    is meaningful (page views, webinar attendance, sales calls and meetings) and null
    otherwise.  About 0.3% of rows are exact duplicates (same event_id and values), as an
    at-least-once event pipeline would deliver them.  Rows are in time order within each block
    of leads, not across the whole file.
``{out}/conversions.{csv|parquet}``
    lead_id, converted_at, amount.  At most one row per lead.
``{truth_out}/true_probability.parquet``
    lead_id, cutoff, true_probability.  Always parquet and kept apart from the raw data: it is
    the evaluation oracle, never a feature.
``{truth_out}/generator.json``
    Parameters, counts and summary figures of the run.

Timestamps are naive UTC: ``timestamp[us]`` in parquet, ``YYYY-MM-DD HH:MM:SS`` in CSV.
The output is deterministic for a given seed, lead count, end date and month count (``--end``
defaults to today's UTC date, so pass it explicitly for reproducible data).  Leads are
simulated in fixed-size chunks, each with its own child of ``SeedSequence(seed)``, which keeps
memory bounded and makes the result independent of anything but those parameters.

The hidden process
------------------
Time runs from ``start = end - round(months * 30.4375)`` days to ``end`` (midnight UTC, both).
Lead ``created_at`` is spread over the span with volume growing by half from start to end,
at local business or leisure hours.  All rates below are per day.

Fit.  ``F = effect(job_title) + effect(company_size) + effect(industry) + effect(lead_source)
- 0.3 + N(0, 0.3)``, with the effects in the ``*_EFFECT`` constants below.  The company-size
effect is non-linear: 201-1000 and 1001-5000 employees are best, tiny and huge companies
worse.  C-Level, VP and Director score high, Student and Other low.  Country has no effect on
fit; it only sets the lead's time zone.

Intent.  ``I ~ N(0, 1)``, driving background engagement.

Background activity from creation until conversion or ``end``: web sessions at rate
``exp(-3.9 + 0.6 I + 0.2 F)`` (pages mostly home, blog, docs and case studies, careers for
students and low-fit leads); each session has ``1 + Poisson(1.5)`` page views 1-5 minutes
apart, so a 30-minute inactivity gap separates sessions.  A weekly newsletter goes out on
Tuesdays to leads with marketing consent (each issue reaches about 70% of them); opens come
1-24 hours after the send with a probability rising with intent, clicks follow opens, and a
small per-send unsubscribe probability ends the sends.  Monthly webinars, content downloads,
social engagement and, for outbound leads, early sales calls happen occasionally.  High-fit
leads are active in local business hours on weekdays, students and low-fit leads more in
evenings and at weekends.

Buying journey.  A lead ever has a journey with probability ``pj = sigmoid(-0.4 + 0.9 F +
0.8 I)``.  It starts at ``T_b = created_at + Exponential(mean 120 days)`` (unobserved if after
``end``) and lasts ``20 + Exponential(mean 25)`` days, truncated at conversion.  Its intensity
is ``J ~ LogNormal(0, 0.5)``.  During the journey web sessions arrive at rate ``0.35 J`` with
pages weighted to pricing, demo, docs, case studies and contact; there are content downloads,
webinar registrations and attendance, demo and contact form submits, more email opens, and
sales calls and meetings (more for high fit).  The journey becomes visible at ``T_b`` moved to
a plausible local hour, and its other events follow that opening.  Two flags are drawn for
every lead up front (so ``q`` below is a latent known before the journey starts) and realised
in the journey's events:

* ``burst_48h`` with probability ``sigmoid(-1.2 + 1.5 log J)``: 3-5 extra sessions within
  48 hours early in the journey;
* ``pricing_after_download`` with probability ``sigmoid(-0.5 + 1.5 log J)``: the journey opens
  with a content download and its first pricing view comes after it; otherwise the journey
  opens with a session landing on the pricing page.

Given a journey the lead converts with probability ``q = sigmoid(-0.6 + 1.1 F + 0.8 log J +
0.9 pricing_after_download + 0.6 burst_48h + 0.5 F log J)`` at ``T_b + D`` with
``D = 7 + Gamma(shape 2, scale 12)`` days.  Journeys that do not convert go quiet, so long
silence after a journey means a low probability (recency decay).

Noise.  Independently, every lead converts at a constant background hazard
``h0 = 0.0002 exp(0.5 F)``.  The conversion time is the earlier of the two; it is observed
(and the lead's events stop there) only if it falls before ``end``.

Oracle.  For every cutoff (first day of each calendar month strictly inside the span) and
every lead created before the cutoff ``c`` and not converted at or before it, with ``W`` the
label window (default 90 days), the truth is the probability of converting in ``(c, c + W]``
given the latents ``F, I, J, q, pj`` and ``T_b`` if the journey started before ``c``:

* background: ``p0 = 1 - exp(-h0 W)``;
* journey started (``T_b < c``, ``a = c - T_b``):
  ``pJ = q (F_D(a + W) - F_D(a)) / (1 - q F_D(a))``, the Bayes update for "not converted yet";
* otherwise: ``pe = pj S / (1 - pj + pj S)`` with ``S = exp(-(c - created_at) / 120)`` is the
  posterior that a journey is still to come, and
  ``pJ = pe q ∫_0^W (1/120) exp(-s/120) F_D(W - s) ds``;
* ``true_probability = 1 - (1 - p0) (1 - pJ)``.

``F_D`` is the delay CDF; for a Gamma of shape 2 it has the closed form
``1 - exp(-x/12) (1 + x/12)`` at ``x = d - 7``.  Cutoffs whose window reaches past ``end`` are
included; their outcomes are only partly observable, so the summary figures use the cutoffs
with ``c + W <= end``.  The oracle also holds rows at every lead's early cutoffs,
``created_at`` + 1 hour, 1 day and 7 days (``TRUTH_OFFSETS_HOURS``), where those fall before
``end``: the moments a new lead is first scored.

Modes
-----
``--mode default`` is the process above, byte for byte.  The others change it as follows; their
extra random draws come from a stream of their own (``SeedSequence([seed, chunk, 1])``), and
every latent they add is part of the oracle, so the truth stays exact.

``steady``
    Leads arrive at a constant rate over the span instead of growing by half.
``fast``
    Steady arrivals, plus leads that arrive ready to buy: a lead is *fast* with probability
    ``0.3 * 2 sigmoid(F)`` (about one lead in four).  A fast lead asks for a demo (a demo form
    submit 2-30 minutes after ``created_at``, after a visit to the pricing page) and, with
    probability 0.6, converts ``Exponential(mean 2 days)`` after ``created_at``; 5% of other
    leads also ask for a demo when they sign up.  Oracle: with ``a = c - created_at``,
    ``r = 0.6 exp(-a/2) / (1 - 0.6 + 0.6 exp(-a/2))`` and ``pF = r (1 - exp(-W/2))`` for fast
    leads (0 otherwise), ``true_probability = 1 - (1 - p0) (1 - pJ) (1 - pF)``.
``shift``
    Steady arrivals, and a regime shift: leads created in the last third of the span come more
    often through paid search and content syndication (``SHIFT_SOURCE_SHARE``), have a journey
    more often (intercept + 1.0) that converts more often (``q`` intercept + 1.8), and a
    background hazard three times as high: they convert two to three times as often as the
    leads before them.  A model calibrated on the earlier months under-predicts them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

__all__ = [
    "EVENT_COMBOS",
    "Dataset",
    "GeneratorConfig",
    "generate",
    "main",
    "write_dataset",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
Format = Literal["csv", "parquet"]

# Leads are simulated in chunks of this size.  It is a constant, not an option, because the
# random streams are assigned per chunk: changing it would change the data.
CHUNK_SIZE = 100_000

DAYS_PER_MONTH = 30.4375
SECONDS_PER_DAY = 86_400
HOUR = 1.0 / 24.0
MINUTE = HOUR / 60.0
SECOND = MINUTE / 60.0

# --- lead attributes: (label, share, effect on the fit logit) ------------------------------

JOB_TITLES = ("C-Level", "VP", "Director", "Manager", "Individual Contributor", "Student", "Other")
JOB_SHARE = (0.04, 0.06, 0.12, 0.24, 0.34, 0.08, 0.12)
JOB_EFFECT = (0.8, 0.9, 0.7, 0.3, -0.2, -1.6, -1.0)
STUDENT = JOB_TITLES.index("Student")
OTHER_JOB = JOB_TITLES.index("Other")

COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+")
SIZE_SHARE = (0.16, 0.20, 0.22, 0.19, 0.13, 0.10)
# Non-linear on purpose: mid-size companies buy, tiny ones cannot and huge ones rarely do.
SIZE_EFFECT = (-0.9, -0.3, 0.2, 0.7, 0.6, -0.3)
SIZE_BOUNDS = ((1, 10), (11, 50), (51, 200), (201, 1000), (1001, 5000), (5001, 250_000))
SIZE_DEAL = (2_000.0, 6_000.0, 15_000.0, 40_000.0, 90_000.0, 200_000.0)

INDUSTRIES = (
    "Software",
    "Financial Services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Government",
    "Media",
)
INDUSTRY_SHARE = (0.22, 0.14, 0.12, 0.13, 0.11, 0.10, 0.08, 0.10)
INDUSTRY_EFFECT = (0.4, 0.3, 0.1, 0.0, -0.1, -0.4, -0.5, -0.2)

COUNTRIES = (
    "United States",
    "United Kingdom",
    "Germany",
    "France",
    "India",
    "Canada",
    "Australia",
    "Brazil",
    "Netherlands",
    "Japan",
)
COUNTRY_SHARE = (0.34, 0.10, 0.09, 0.06, 0.10, 0.06, 0.05, 0.06, 0.04, 0.10)
# Standard-time UTC offsets in hours; daylight saving is ignored, it only blurs hours a little.
COUNTRY_UTC_OFFSET = (-6.0, 0.0, 1.0, 1.0, 5.5, -5.0, 10.0, -3.0, 1.0, 9.0)

LEAD_SOURCES = (
    "organic_search",
    "paid_search",
    "referral",
    "event",
    "partner",
    "outbound",
    "content_syndication",
)
SOURCE_SHARE = (0.28, 0.18, 0.08, 0.10, 0.07, 0.14, 0.15)
SOURCE_EFFECT = (0.0, 0.1, 0.6, 0.3, 0.4, -0.2, -0.5)
SRC = {name: i for i, name in enumerate(LEAD_SOURCES)}

FIRST_NAMES = (
    "james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david",
    "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah",
    "carlos", "maria", "luca", "giulia", "hans", "anna", "pierre", "camille", "raj", "priya",
    "arjun", "ananya", "kenji", "yuki", "hiroshi", "sakura", "liam", "olivia", "noah", "emma",
    "lucas", "sofia", "mateus", "beatriz", "daan", "sanne", "jack", "chloe", "ethan", "zoe",
)  # fmt: skip
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "wilson", "anderson", "taylor", "thomas", "moore", "martin", "lee", "walker",
    "muller", "schmidt", "schneider", "fischer", "dubois", "moreau", "laurent", "sharma", "patel",
    "singh", "gupta", "kumar", "tanaka", "suzuki", "sato", "watanabe", "silva", "santos",
    "oliveira", "souza", "devries", "jansen", "bakker", "visser", "nguyen", "kim", "clarke",
    "evans", "hughes", "murphy",
)  # fmt: skip
COMPANY_PREFIX = (
    "blue", "north", "iron", "silver", "bright", "green", "red", "swift", "clear", "deep",
    "stone", "cloud", "river", "summit", "pixel", "quantum", "solar", "atlas", "nova", "delta",
)  # fmt: skip
COMPANY_SUFFIX = (
    "peak", "leaf", "works", "labs", "systems", "logic", "forge", "data", "wave", "point",
    "bridge", "field", "stack", "grid", "gate", "line", "core", "sight", "path", "soft",
)  # fmt: skip

# --- events -------------------------------------------------------------------------------

EVENT_TYPES = (
    ("web", "page_view"),
    ("form", "form_submit"),
    ("content", "download"),
    ("email", "email_sent"),
    ("email", "email_open"),
    ("email", "email_click"),
    ("email", "unsubscribe"),
    ("webinar", "webinar_register"),
    ("webinar", "webinar_attend"),
    ("social", "social_engagement"),
    ("sales", "call"),
    ("sales", "meeting"),
)
(
    E_PAGE,
    E_FORM,
    E_DOWNLOAD,
    E_SENT,
    E_OPEN,
    E_CLICK,
    E_UNSUB,
    E_REGISTER,
    E_ATTEND,
    E_SOCIAL,
    E_CALL,
    E_MEETING,
) = range(len(EVENT_TYPES))
CHANNELS = tuple(dict.fromkeys(ch for ch, _ in EVENT_TYPES))
EVENT_CHANNEL_CODE = np.array([CHANNELS.index(ch) for ch, _ in EVENT_TYPES], dtype=np.int8)
EVENT_NAMES = tuple(name for _, name in EVENT_TYPES)

PAGES = ("pricing", "demo", "contact", "docs", "blog", "case_study", "home", "careers")
FORM_PAGES = ("demo", "contact", "newsletter")
PAGE_CATEGORIES = (*PAGES, "newsletter")
P_PRICING, P_DEMO, P_CONTACT, P_DOCS, P_BLOG, P_CASE_STUDY = range(6)
P_NEWSLETTER = PAGE_CATEGORIES.index("newsletter")

#: Every (channel, event_type, page_category) combination the generator can emit.
EVENT_COMBOS: tuple[tuple[str, str, str | None], ...] = (
    *(("web", "page_view", page) for page in PAGES),
    *(("form", "form_submit", page) for page in FORM_PAGES),
    *((ch, name, None) for ch, name in EVENT_TYPES if ch not in ("web", "form")),
)

# Page mixes of a session, in PAGES order.  Pricing stays rare outside a buying journey so
# that "first pricing view" remains a meaningful moment.
PAGE_MIX = np.array(
    [
        [0.015, 0.010, 0.015, 0.200, 0.300, 0.120, 0.280, 0.060],  # background
        [0.010, 0.005, 0.010, 0.120, 0.320, 0.050, 0.240, 0.245],  # background, student/low fit
        [0.240, 0.140, 0.080, 0.200, 0.060, 0.160, 0.100, 0.020],  # buying journey
    ]
)
MIX_BACKGROUND, MIX_LOW_FIT, MIX_JOURNEY = range(3)
PAGE_MIX_CDF = np.cumsum(PAGE_MIX / PAGE_MIX.sum(axis=1, keepdims=True), axis=1)

PAID_CAMPAIGNS = ("ppc_brand", "ppc_generic")
RETARGETING_CAMPAIGN = "retargeting_display"
CONTENT_ASSETS = (
    "ebook_buyers_guide",
    "ebook_roi_playbook",
    "whitepaper_security",
    "whitepaper_architecture",
    "report_industry_benchmark",
    "checklist_migration",
    "guide_getting_started",
    "webinar_recording_pack",
)
SOCIAL_CAMPAIGNS = ("social_linkedin", "social_x", "social_youtube")
STATIC_CAMPAIGNS = (*PAID_CAMPAIGNS, RETARGETING_CAMPAIGN, *CONTENT_ASSETS, *SOCIAL_CAMPAIGNS)
C_PAID = 0
C_RETARGETING = len(PAID_CAMPAIGNS)
C_ASSET = C_RETARGETING + 1
C_SOCIAL = C_ASSET + len(CONTENT_ASSETS)

# --- hidden process constants (see the module docstring) -----------------------------------

FIT_OFFSET = -0.3  # centres the fit logit so that about one lead in six converts
FIT_NOISE_SD = 0.3
BG_WEB_INTERCEPT = -3.9
BG_WEB_INTENT = 0.6
BG_WEB_FIT = 0.2
PAGES_PER_SESSION_EXTRA = 1.5  # a session has 1 + Poisson(1.5) page views
PAGE_GAP_MINUTES = (1.0, 5.0)

JOURNEY_INTERCEPT, JOURNEY_FIT, JOURNEY_INTENT = -0.4, 0.9, 0.8
JOURNEY_START_MEAN_DAYS = 120.0
JOURNEY_MIN_DAYS, JOURNEY_EXTRA_MEAN_DAYS = 20.0, 25.0
JOURNEY_SIGMA = 0.5
JOURNEY_WEB_RATE = 0.35
BURST_INTERCEPT, BURST_SLOPE = -1.2, 1.5
PAD_INTERCEPT, PAD_SLOPE = -0.5, 1.5

CONV_INTERCEPT = -0.6
CONV_FIT = 1.1
CONV_LOG_J = 0.8
CONV_PAD = 0.9
CONV_BURST = 0.6
CONV_FIT_X_LOG_J = 0.5
DELAY_OFFSET_DAYS, DELAY_SHAPE, DELAY_SCALE_DAYS = 7.0, 2.0, 12.0
BACKGROUND_HAZARD, BACKGROUND_HAZARD_FIT = 0.0002, 0.5

# --- modes (see "Modes" in the module docstring) --------------------------------------------
MODES = ("default", "steady", "fast", "shift")
TRUTH_OFFSETS_HOURS = (1, 24, 168)  # oracle rows this long after each lead's created_at
FAST_SHARE = 0.3  # fast mode: scale of the share of leads arriving ready to buy
FAST_CONVERT = 0.6  # ... of which this share converts
FAST_MEAN_DAYS = 2.0  # ... after an Exponential delay with this mean
FAST_NOISE_DEMO = 0.05  # other leads that also ask for a demo when they sign up
SHIFT_FROM = 2.0 / 3.0  # shift mode: leads created after this share of the span ...
SHIFT_JOURNEY, SHIFT_CONV, SHIFT_HAZARD = 1.0, 1.8, 3.0  # ... convert about three times as often
SHIFT_SOURCE_SHARE = (0.16, 0.34, 0.06, 0.06, 0.05, 0.10, 0.23)  # ... and arrive through paid

EMAIL_CONSENT = 0.8
EMAIL_ISSUE_REACH = 0.7
EMAIL_UNSUBSCRIBE = 0.006
DUPLICATE_SHARE = 0.003


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratorConfig:
    """Parameters of one generator run; together they determine the output exactly."""

    n_leads: int = 20_000
    seed: int = 42
    end: dt.date = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date())
    months: int = 18
    label_window_days: int = 90
    mode: str = "default"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.n_leads < 1:
            raise ValueError("n_leads must be at least 1")
        if self.months < 1:
            raise ValueError("months must be at least 1")
        if self.label_window_days < 1:
            raise ValueError("label_window_days must be at least 1")
        if self.seed < 0:
            raise ValueError("seed must be non-negative")


@dataclass
class Dataset:
    """A generated data set held in memory (use the CLI for large runs, it streams)."""

    leads: pa.Table
    events: pa.Table
    conversions: pa.Table
    truth: pa.Table
    meta: dict[str, Any]


LEADS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("email", pa.string()),
        ("job_title", pa.string()),
        ("company_size", pa.string()),
        ("employee_count", pa.int64()),
        ("industry", pa.string()),
        ("country", pa.string()),
        ("lead_source", pa.string()),
    ]
)
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("lead_id", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("channel", pa.string()),
        ("event_type", pa.string()),
        ("page_category", pa.string()),
        ("campaign", pa.string()),
        ("value", pa.float64()),
    ]
)
CONVERSIONS_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("converted_at", pa.timestamp("us")),
        ("amount", pa.float64()),
    ]
)
TRUTH_SCHEMA = pa.schema(
    [
        ("lead_id", pa.string()),
        ("cutoff", pa.timestamp("us")),
        ("true_probability", pa.float64()),
    ]
)


def generate(
    n_leads: int = 20_000,
    seed: int = 42,
    end: dt.date | None = None,
    months: int = 18,
    *,
    label_window_days: int = 90,
    mode: str = "default",
) -> Dataset:
    """Generate a data set in memory.

    ``end`` defaults to today's UTC date; the result is deterministic for a given seed,
    ``n_leads``, ``end``, ``months`` and ``label_window_days``.
    """
    config = _config(n_leads, seed, end, months, label_window_days, mode)
    parts: dict[str, list[pa.Table]] = {"leads": [], "events": [], "conversions": [], "truth": []}
    stats = _Stats(config)
    for chunk in _simulate(config, stats):
        parts["leads"].append(chunk.leads)
        parts["events"].append(chunk.events)
        parts["conversions"].append(chunk.conversions)
        parts["truth"].append(chunk.truth)
    return Dataset(
        leads=pa.concat_tables(parts["leads"]),
        events=pa.concat_tables(parts["events"]),
        conversions=pa.concat_tables(parts["conversions"]),
        truth=pa.concat_tables(parts["truth"]),
        meta=stats.meta(),
    )


def write_dataset(
    ds: Dataset, out_dir: str | Path, truth_dir: str | Path, fmt: Format = "csv"
) -> None:
    """Write an in-memory data set with the same layout as the command line."""
    with _Writers(Path(out_dir), Path(truth_dir), fmt) as writers:
        writers.write(_Chunk(ds.leads, ds.events, ds.conversions, ds.truth))
    _write_meta(Path(truth_dir), ds.meta)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (``python -m leadscore.demo.generate`` / ``leadscore generate``)."""
    args = _parser().parse_args(argv)
    try:
        config = _config(
            args.leads, args.seed, args.end, args.months, args.label_window_days, args.mode
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out_dir, truth_dir = Path(args.out), Path(args.truth_out)
    print(
        f"generating {config.n_leads:,} leads, seed {config.seed}, "
        f"{_timeline(config).start} .. {config.end} -> {out_dir} ({args.format})",
        file=sys.stderr,
    )
    started = time.perf_counter()
    stats = _Stats(config)
    with _Writers(out_dir, truth_dir, args.format) as writers:
        for chunk in _simulate(config, stats):
            writers.write(chunk)
            if not args.quiet:
                print(
                    f"generated {stats.n_leads:,}/{config.n_leads:,} leads, "
                    f"{stats.n_events / 1e6:.1f}M events "
                    f"({time.perf_counter() - started:.1f}s)",
                    file=sys.stderr,
                )
    if args.vocabulary:
        from leadscore.demo.vocabulary import apply_to_files

        apply_to_files(out_dir, args.format, args.vocabulary)
    meta = stats.meta()
    _write_meta(truth_dir, meta)
    _print_summary(meta, time.perf_counter() - started)
    return 0


# ---------------------------------------------------------------------------------------------
# Timeline: span, cutoffs and the global marketing calendar
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Timeline:
    start: dt.date
    end: dt.date
    span_days: int
    start_epoch_s: int
    start_weekday: int
    cutoffs: tuple[dt.date, ...]
    cutoff_days: FloatArray
    newsletter_days: FloatArray  # send times, days since start
    newsletter_campaign: IntArray
    webinar_days: FloatArray
    webinar_campaign: IntArray
    campaigns: tuple[str, ...]


def _timeline(config: GeneratorConfig) -> _Timeline:
    end = config.end
    start = end - dt.timedelta(days=round(config.months * DAYS_PER_MONTH))
    span = (end - start).days
    epoch = dt.date(1970, 1, 1)

    cutoffs: list[dt.date] = []
    month = dt.date(start.year, start.month, 1)
    while month < end:
        if month > start:
            cutoffs.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)

    campaigns = list(STATIC_CAMPAIGNS)
    # The newsletter goes out every Tuesday at 14:00 UTC.
    first_tuesday = (1 - start.weekday()) % 7
    newsletter_days = np.arange(first_tuesday + 14 * HOUR, span, 7.0)
    newsletter_campaign = []
    for day in newsletter_days:
        year, week, _ = (start + dt.timedelta(days=int(day))).isocalendar()
        newsletter_campaign.append(len(campaigns))
        campaigns.append(f"newsletter_{year}_w{week:02d}")
    # One webinar a month, on the second Thursday at 16:00 UTC.
    webinar_days, webinar_campaign = [], []
    month = dt.date(start.year, start.month, 1)
    while month < end:
        second_thursday = month + dt.timedelta(days=(3 - month.weekday()) % 7 + 7)
        if start <= second_thursday < end:
            webinar_days.append((second_thursday - start).days + 16 * HOUR)
            webinar_campaign.append(len(campaigns))
            campaigns.append(f"webinar_{month.year}_{month.month:02d}")
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)

    return _Timeline(
        start=start,
        end=end,
        span_days=span,
        start_epoch_s=(start - epoch).days * SECONDS_PER_DAY,
        start_weekday=start.weekday(),
        cutoffs=tuple(cutoffs),
        cutoff_days=np.array([(c - start).days for c in cutoffs], dtype=np.float64),
        newsletter_days=newsletter_days,
        newsletter_campaign=np.array(newsletter_campaign, dtype=np.int64),
        webinar_days=np.array(webinar_days, dtype=np.float64),
        webinar_campaign=np.array(webinar_campaign, dtype=np.int64),
        campaigns=tuple(campaigns),
    )


# ---------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------


@dataclass
class _Chunk:
    leads: pa.Table
    events: pa.Table
    conversions: pa.Table
    truth: pa.Table


@dataclass
class _Latents:
    """Per-lead attributes and hidden state of one chunk (times in days since start)."""

    created: FloatArray
    job: IntArray
    size: IntArray
    industry: IntArray
    country: IntArray
    source: IntArray
    fit: FloatArray
    intent: FloatArray
    tz: FloatArray  # UTC offset in days
    business: FloatArray  # share of activity in local business hours
    low_fit: BoolArray
    pj: FloatArray
    has_journey: BoolArray
    journey_start: FloatArray  # T_b
    journey_end: FloatArray  # end of journey activity, truncated at conversion and end
    intensity: FloatArray  # J
    pad: BoolArray  # pricing after download
    burst: BoolArray
    q: FloatArray
    h0: FloatArray
    converted: FloatArray  # hidden conversion time (inf when never), may lie past end
    stop: FloatArray  # activity stops here: conversion or end
    fast: BoolArray  # fast mode: arrived ready to buy (asks for a demo at once)
    demo_at_signup: BoolArray  # asks for a demo when signing up (fast leads and some others)


def _sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


def _positions(counts: IntArray) -> IntArray:
    """0-based position of every row inside its group, for groups laid out back to back."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _delay_cdf(days: FloatArray) -> FloatArray:
    """CDF of the conversion delay ``7 + Gamma(2, 12)`` days (closed form for shape 2)."""
    x = np.maximum(days - DELAY_OFFSET_DAYS, 0.0) / DELAY_SCALE_DAYS
    return 1.0 - np.exp(-x) * (1.0 + x)


def _future_journey_factor(window: float, points: int = 4001) -> float:
    """``∫_0^W (1/m) exp(-s/m) F_D(W - s) ds``: a journey yet to start converts within W."""
    s = np.linspace(0.0, window, points)
    f = np.exp(-s / JOURNEY_START_MEAN_DAYS) / JOURNEY_START_MEAN_DAYS * _delay_cdf(window - s)
    return float(np.sum((f[1:] + f[:-1]) * np.diff(s)) / 2.0)


def _created_times(
    rng: np.random.Generator, n: int, span: float, steady: bool = False
) -> FloatArray:
    """Creation times (days), sorted, with lead volume growing linearly by half over the span
    (or constant when steady)."""
    g = 0.5
    u = rng.random(n)
    x = u if steady else (np.sqrt(1.0 + 2.0 * g * u * (1.0 + g / 2.0)) - 1.0) / g  # 1 + g x
    return np.sort(x * span)


def _shape_times(
    rng: np.random.Generator,
    t: FloatArray,
    tz: FloatArray,
    business: FloatArray,
    start_weekday: int,
    *,
    weekend_shift: bool = True,
) -> FloatArray:
    """Give instants a realistic local time of day, keeping their local date (mostly).

    Each instant is either a business-hours one (weekday daytime; weekend ones mostly move to
    the next Monday, forward so that nothing moves before its trigger's day) or a leisure one
    (evenings and any day).  ``business`` is the per-instant probability of the former.
    """
    n = t.size
    local = t + tz
    day = np.floor(local)
    is_business = rng.random(n) < business
    business_hour = np.clip(rng.normal(13.0, 2.4, n), 7.5, 19.0)
    evening = rng.random(n) < 0.6
    leisure_hour = np.where(
        evening, np.clip(rng.normal(20.5, 1.6, n), 17.0, 23.9), rng.uniform(7.0, 23.5, n)
    )
    hour = np.where(is_business, business_hour, leisure_hour)
    move = rng.random(n) < 0.85
    if weekend_shift:
        weekday = (start_weekday + day.astype(np.int64)) % 7
        to_monday = np.where(weekday == 5, 2.0, np.where(weekday == 6, 1.0, 0.0))
        day = day + np.where(is_business & move, to_monday, 0.0)
    return day + hour * HOUR - tz


def _latents(
    rng: np.random.Generator,
    created: FloatArray,
    tl: _Timeline,
    mode: str = "default",
    mode_rng: np.random.Generator | None = None,
) -> tuple[_Latents, FloatArray]:
    """Draw attributes and hidden state; also returns the employee counts.

    ``mode_rng`` makes the extra draws of the non-default modes, so ``rng``'s stream (and the
    default output) does not change.
    """
    n = created.size
    job = rng.choice(len(JOB_TITLES), n, p=JOB_SHARE)
    size = rng.choice(len(COMPANY_SIZES), n, p=SIZE_SHARE)
    industry = rng.choice(len(INDUSTRIES), n, p=INDUSTRY_SHARE)
    country = rng.choice(len(COUNTRIES), n, p=COUNTRY_SHARE)
    source = rng.choice(len(LEAD_SOURCES), n, p=SOURCE_SHARE)
    late = np.zeros(n, dtype=bool)
    if mode == "shift" and mode_rng is not None:
        late = created >= SHIFT_FROM * tl.span_days
        source = np.where(late, mode_rng.choice(len(LEAD_SOURCES), n, p=SHIFT_SOURCE_SHARE), source)
    fit = (
        np.asarray(JOB_EFFECT)[job]
        + np.asarray(SIZE_EFFECT)[size]
        + np.asarray(INDUSTRY_EFFECT)[industry]
        + np.asarray(SOURCE_EFFECT)[source]
        + FIT_OFFSET
        + rng.normal(0.0, FIT_NOISE_SD, n)
    )
    intent = rng.normal(0.0, 1.0, n)
    tz = np.asarray(COUNTRY_UTC_OFFSET)[country] / 24.0
    business = _sigmoid(0.8 + 1.2 * fit)
    low_fit = (job == STUDENT) | (fit < -1.0)
    # Leads sign up at realistic hours too; keep the drawn instant where the new hour would
    # leave the span.
    shaped = _shape_times(rng, created, tz, business, tl.start_weekday)
    created = np.where((shaped >= 0.0) & (shaped < tl.span_days - SECOND), shaped, created)

    lo = np.log(np.asarray(SIZE_BOUNDS, dtype=np.float64)[size, 0])
    hi = np.log(np.asarray(SIZE_BOUNDS, dtype=np.float64)[size, 1] + 1.0)
    employees = np.floor(np.exp(lo + rng.random(n) * (hi - lo)))
    employees = np.clip(
        employees, np.asarray(SIZE_BOUNDS)[size, 0], np.asarray(SIZE_BOUNDS)[size, 1]
    )

    pj = _sigmoid(
        JOURNEY_INTERCEPT + SHIFT_JOURNEY * late + JOURNEY_FIT * fit + JOURNEY_INTENT * intent
    )
    has_journey = rng.random(n) < pj
    journey_start = created + rng.exponential(JOURNEY_START_MEAN_DAYS, n)
    duration = JOURNEY_MIN_DAYS + rng.exponential(JOURNEY_EXTRA_MEAN_DAYS, n)
    log_j = rng.normal(0.0, JOURNEY_SIGMA, n)
    pad = rng.random(n) < _sigmoid(PAD_INTERCEPT + PAD_SLOPE * log_j)
    burst = rng.random(n) < _sigmoid(BURST_INTERCEPT + BURST_SLOPE * log_j)
    q = _sigmoid(
        CONV_INTERCEPT
        + SHIFT_CONV * late
        + CONV_FIT * fit
        + CONV_LOG_J * log_j
        + CONV_PAD * pad
        + CONV_BURST * burst
        + CONV_FIT_X_LOG_J * fit * log_j
    )
    journey_converts = has_journey & (rng.random(n) < q)
    delay = DELAY_OFFSET_DAYS + rng.gamma(DELAY_SHAPE, DELAY_SCALE_DAYS, n)
    journey_conversion = np.where(journey_converts, journey_start + delay, np.inf)
    h0 = BACKGROUND_HAZARD * np.exp(BACKGROUND_HAZARD_FIT * fit) * np.where(late, SHIFT_HAZARD, 1.0)
    background_conversion = created + rng.exponential(1.0 / h0)
    converted = np.minimum(journey_conversion, background_conversion)
    fast = np.zeros(n, dtype=bool)
    demo_at_signup = np.zeros(n, dtype=bool)
    if mode == "fast" and mode_rng is not None:
        fast = mode_rng.random(n) < FAST_SHARE * 2.0 * _sigmoid(fit)
        converts = fast & (mode_rng.random(n) < FAST_CONVERT)
        fast_conversion = created + mode_rng.exponential(FAST_MEAN_DAYS, n)
        converted = np.minimum(converted, np.where(converts, fast_conversion, np.inf))
        demo_at_signup = fast | (mode_rng.random(n) < FAST_NOISE_DEMO)
    stop = np.minimum(converted, float(tl.span_days))
    journey_end = np.where(has_journey, np.minimum(journey_start + duration, stop), -np.inf)

    return (
        _Latents(
            created=created,
            job=job,
            size=size,
            industry=industry,
            country=country,
            source=source,
            fit=fit,
            intent=intent,
            tz=tz,
            business=business,
            low_fit=low_fit,
            pj=pj,
            has_journey=has_journey,
            journey_start=journey_start,
            journey_end=journey_end,
            intensity=np.exp(log_j),
            pad=pad,
            burst=burst,
            q=q,
            h0=h0,
            converted=converted,
            stop=stop,
            fast=fast,
            demo_at_signup=demo_at_signup,
        ),
        employees,
    )


# Event columns before labelling: lead index, time (days), type, page, campaign, value.
_EventArrays = tuple[
    IntArray, FloatArray, NDArray[np.int8], NDArray[np.int8], NDArray[np.int32], FloatArray
]


class _EventParts:
    """Collects event rows (lead index, time in days, type, page, campaign, value)."""

    def __init__(self) -> None:
        self.owner: list[IntArray] = []
        self.t: list[FloatArray] = []
        self.kind: list[NDArray[np.int8]] = []
        self.page: list[NDArray[np.int8]] = []
        self.campaign: list[NDArray[np.int32]] = []
        self.value: list[FloatArray] = []

    def add(
        self,
        owner: IntArray,
        t: FloatArray,
        kind: int | IntArray,
        page: int | IntArray = -1,
        campaign: int | IntArray = -1,
        value: float | FloatArray = np.nan,
    ) -> None:
        n = owner.size
        self.owner.append(owner.astype(np.int64, copy=False))
        self.t.append(t.astype(np.float64, copy=False))
        self.kind.append(np.broadcast_to(np.asarray(kind, dtype=np.int8), n))
        self.page.append(np.broadcast_to(np.asarray(page, dtype=np.int8), n))
        self.campaign.append(np.broadcast_to(np.asarray(campaign, dtype=np.int32), n))
        self.value.append(np.broadcast_to(np.asarray(value, dtype=np.float64), n))

    def concat(self) -> _EventArrays:
        return (
            np.concatenate(self.owner),
            np.concatenate(self.t),
            np.concatenate(self.kind),
            np.concatenate(self.page),
            np.concatenate(self.campaign),
            np.concatenate(self.value),
        )


@dataclass(frozen=True)
class _JourneyWindow:
    """Per lead: whether a buying journey is observed and its active span ``[lo, hi)``."""

    active: BoolArray
    lo: FloatArray
    hi: FloatArray

    def contains(self, owner: IntArray, t: FloatArray) -> BoolArray:
        return self.active[owner] & (t >= self.lo[owner]) & (t < self.hi[owner])


def _poisson_times(
    rng: np.random.Generator, lo: FloatArray, hi: FloatArray, rate: FloatArray
) -> tuple[IntArray, FloatArray]:
    """A Poisson process of the given rate on ``[lo, hi)`` for every lead."""
    length = np.clip(hi - lo, 0.0, None)
    counts = rng.poisson(rate * length)
    owner = np.repeat(np.arange(lo.size, dtype=np.int64), counts)
    return owner, lo[owner] + rng.random(owner.size) * length[owner]


def _sessions(
    rng: np.random.Generator,
    parts: _EventParts,
    owner: IntArray,
    start: FloatArray,
    mix: IntArray,
    campaign: IntArray,
    first_page: IntArray | None = None,
    dwell_boost: float = 1.0,
    form_rate: float = 0.05,
) -> None:
    """Expand web sessions into page views (and the form submits some of them lead to)."""
    counts = 1 + rng.poisson(PAGES_PER_SESSION_EXTRA, owner.size)
    session = np.repeat(np.arange(owner.size, dtype=np.int64), counts)
    pos = _positions(counts)
    gaps = np.where(pos == 0, 0.0, rng.uniform(*PAGE_GAP_MINUTES, session.size) * MINUTE)
    elapsed = np.cumsum(gaps)
    first_row = np.cumsum(counts) - counts
    t = start[session] + elapsed - elapsed[first_row][session]

    u = rng.random(session.size)
    row_mix = mix[session]
    page = np.empty(session.size, dtype=np.int64)
    for m in range(PAGE_MIX_CDF.shape[0]):
        sel = row_mix == m
        page[sel] = np.searchsorted(PAGE_MIX_CDF[m], u[sel], side="right")
    page = np.minimum(page, len(PAGES) - 1)
    if first_page is not None:
        forced = first_page[session]
        page = np.where((pos == 0) & (forced >= 0), forced, page)

    dwell = rng.lognormal(3.6, 0.9, session.size)
    intent_pages = (page == P_PRICING) | (page == P_DEMO) | (page == P_CASE_STUDY)
    dwell = np.round(np.where(intent_pages, dwell * dwell_boost, dwell), 1)
    row_owner = owner[session]
    parts.add(row_owner, t, E_PAGE, page, np.where(pos == 0, campaign[session], -1), dwell)

    # Demo and contact pages sometimes end in a form submit, blog pages in a newsletter sign-up.
    v = rng.random(session.size)
    form = ((page == P_DEMO) | (page == P_CONTACT)) & (v < form_rate)
    form |= (page == P_BLOG) & (v < 0.01)
    form_page = np.where(page == P_BLOG, P_NEWSLETTER, page)[form]
    delay = rng.uniform(20.0, 180.0, int(form.sum())) * SECOND
    parts.add(row_owner[form], t[form] + delay, E_FORM, form_page)


def _simulate_events(
    rng: np.random.Generator,
    lat: _Latents,
    tl: _Timeline,
    mode_rng: np.random.Generator | None = None,
) -> _EventParts:
    n = lat.created.size
    idx = np.arange(n, dtype=np.int64)
    parts = _EventParts()
    no_campaign = np.full(n, -1, dtype=np.int64)

    if mode_rng is not None and lat.demo_at_signup.any():
        # fast mode: a pricing page view, then a demo request, minutes after signing up
        asks = idx[lat.demo_at_signup]
        minutes = mode_rng.uniform(2.0, 30.0, asks.size)
        viewed = lat.created[asks] + 0.5 * minutes * MINUTE
        parts.add(asks, viewed, E_PAGE, P_PRICING, -1, np.round(minutes * 20.0, 0))
        parts.add(asks, lat.created[asks] + minutes * MINUTE, E_FORM, P_DEMO, -1)

    def shape(owner: IntArray, t: FloatArray, business: FloatArray | None = None) -> FloatArray:
        b = lat.business[owner] if business is None else business
        return _shape_times(rng, t, lat.tz[owner], b, tl.start_weekday)

    # Inbound leads are created by the form or download that captured them.
    u = rng.random(n)
    asset = C_ASSET + rng.integers(0, len(CONTENT_ASSETS), n)
    paid_campaign = C_PAID + rng.integers(0, len(PAID_CAMPAIGNS), n)
    src = lat.source
    search = (src == SRC["organic_search"]) | (src == SRC["paid_search"])
    camp = np.where(src == SRC["paid_search"], paid_campaign, -1)
    sel = search & (u < 0.45)
    parts.add(idx[sel], lat.created[sel], E_FORM, P_NEWSLETTER, camp[sel])
    sel = search & (u >= 0.45) & (u < 0.6)
    parts.add(idx[sel], lat.created[sel], E_FORM, P_CONTACT, camp[sel])
    sel = (search & (u >= 0.6)) | (src == SRC["content_syndication"])
    parts.add(idx[sel], lat.created[sel], E_DOWNLOAD, -1, asset[sel])
    sel = (src == SRC["referral"]) | (src == SRC["partner"])
    parts.add(idx[sel], lat.created[sel], E_FORM, np.where(u[sel] < 0.7, P_CONTACT, P_DEMO))

    # Background web sessions.
    rate = np.exp(BG_WEB_INTERCEPT + BG_WEB_INTENT * lat.intent + BG_WEB_FIT * lat.fit)
    owner, t = _poisson_times(rng, lat.created, lat.stop, rate)
    t = shape(owner, t)
    paid = (src[owner] == SRC["paid_search"]) & (rng.random(owner.size) < 0.3)
    camp = np.where(paid, paid_campaign[owner], -1)
    mix = np.where(lat.low_fit[owner], MIX_LOW_FIT, MIX_BACKGROUND)
    _sessions(rng, parts, owner, t, mix, camp)

    # Buying journey.  Its observable opening is the journey start moved to a plausible hour;
    # every other journey event is kept after it so the pricing-after-download flag holds.
    anchor = np.maximum(
        _shape_times(rng, lat.journey_start, lat.tz, lat.business, tl.start_weekday),
        lat.created,
    )
    active = lat.has_journey & (anchor < lat.journey_end)
    j_lo = np.where(active, anchor, 0.0)
    j_hi = np.where(active, lat.journey_end, 0.0)
    journey = _JourneyWindow(active, j_lo, j_hi)
    jint = lat.intensity

    def after_anchor(owner: IntArray, t: FloatArray) -> FloatArray:
        early = t < anchor[owner] + 0.01
        nudge = anchor[owner] + rng.uniform(0.01, 0.2, owner.size)
        return np.where(early, nudge, t)

    # The opening: a download (pricing after download) or a session landing on pricing.
    opener = idx[active & lat.pad]
    parts.add(opener, anchor[opener], E_DOWNLOAD, -1, asset[opener])
    opener = idx[active & ~lat.pad]
    _sessions(
        rng,
        parts,
        opener,
        anchor,
        np.full(n, MIX_JOURNEY)[opener],
        no_campaign[opener],
        first_page=np.full(opener.size, P_PRICING),
        dwell_boost=1.8,
        form_rate=0.3,
    )

    owner, t = _poisson_times(rng, j_lo, j_hi, JOURNEY_WEB_RATE * jint)
    t = after_anchor(owner, shape(owner, t))
    retarget = np.where(rng.random(owner.size) < 0.1, C_RETARGETING, -1)
    mix = np.full(owner.size, MIX_JOURNEY)
    _sessions(rng, parts, owner, t, mix, retarget, dwell_boost=1.8, form_rate=0.3)

    # Bursts: 3-5 sessions on two consecutive local days, i.e. within 48 hours.
    bursting = idx[active & lat.burst]
    counts = rng.integers(3, 6, bursting.size)
    owner = np.repeat(bursting, counts)
    base_day = np.repeat(
        np.floor(anchor[bursting] + lat.tz[bursting] + rng.uniform(0.05, 3.0, bursting.size)),
        counts,
    )
    local_day = base_day + rng.integers(0, 2, owner.size)
    midday = local_day + 0.5 - lat.tz[owner]
    t = _shape_times(
        rng, midday, lat.tz[owner], lat.business[owner], tl.start_weekday, weekend_shift=False
    )
    t = after_anchor(owner, t)
    mix = np.full(owner.size, MIX_JOURNEY)
    _sessions(rng, parts, owner, t, mix, no_campaign[owner], dwell_boost=1.8, form_rate=0.3)

    # Journey downloads, sales calls and meetings (sales works harder on high-fit leads).
    owner, t = _poisson_times(rng, j_lo, j_hi, 0.05 * jint)
    t = after_anchor(owner, shape(owner, t))
    parts.add(owner, t, E_DOWNLOAD, -1, asset[owner])
    sales_rate = jint * np.exp(0.4 * lat.fit)
    for kind, rate_k, mean_minutes in ((E_CALL, 0.05, 8.0), (E_MEETING, 0.02, 40.0)):
        owner, t = _poisson_times(rng, j_lo, j_hi, rate_k * sales_rate)
        t = after_anchor(owner, shape(owner, t, np.ones(owner.size)))
        seconds = np.round(rng.gamma(2.0, mean_minutes * 30.0, owner.size), 0)
        parts.add(owner, t, kind, -1, -1, seconds)

    # Outbound leads get a few prospecting calls in their first month.
    outbound = np.where(src == SRC["outbound"], 1.0, 0.0)
    owner, t = _poisson_times(
        rng, lat.created, np.minimum(lat.created + 30.0, lat.stop), 0.06 * outbound
    )
    t = shape(owner, t, np.ones(owner.size))
    parts.add(owner, t, E_CALL, -1, -1, np.round(rng.gamma(2.0, 90.0, owner.size), 0))

    # Background downloads and social engagement.
    bg = np.exp(0.5 * lat.intent)
    owner, t = _poisson_times(rng, lat.created, lat.stop, 0.002 * bg)
    parts.add(owner, shape(owner, t), E_DOWNLOAD, -1, asset[owner])
    owner, t = _poisson_times(rng, lat.created, lat.stop, 0.008 * bg)
    social = C_SOCIAL + rng.integers(0, len(SOCIAL_CAMPAIGNS), owner.size)
    parts.add(owner, shape(owner, t), E_SOCIAL, -1, social)
    owner, t = _poisson_times(rng, j_lo, j_hi, 0.03 * jint)
    social = C_SOCIAL + rng.integers(0, len(SOCIAL_CAMPAIGNS), owner.size)
    parts.add(owner, after_anchor(owner, shape(owner, t)), E_SOCIAL, -1, social)

    _newsletter(rng, parts, lat, tl, journey)
    _webinars(rng, parts, lat, tl, journey)
    return parts


def _newsletter(
    rng: np.random.Generator,
    parts: _EventParts,
    lat: _Latents,
    tl: _Timeline,
    journey: _JourneyWindow,
) -> None:
    """Weekly newsletter sends, opens, clicks and unsubscribes."""
    n = lat.created.size
    sends = tl.newsletter_days
    first = np.searchsorted(sends, lat.created, side="left")
    last = np.searchsorted(sends, lat.stop, side="left")
    consent = rng.random(n) < EMAIL_CONSENT
    counts = np.where(consent, np.maximum(last - first, 0), 0)
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    issue = first[owner] + _positions(counts)
    reached = rng.random(owner.size) < EMAIL_ISSUE_REACH
    owner, issue = owner[reached], issue[reached]
    # No more sends after an unsubscribe: keep issues up to the lead's unsubscribe ordinal.
    ordinal = _positions(np.bincount(owner, minlength=n))
    unsubscribe_at = rng.geometric(EMAIL_UNSUBSCRIBE * np.exp(-0.4 * lat.intent)) - 1
    keep = ordinal <= unsubscribe_at[owner]
    owner, issue, ordinal = owner[keep], issue[keep], ordinal[keep]
    sent = sends[issue] + rng.uniform(0.0, 2.0 * HOUR, owner.size)
    campaign = tl.newsletter_campaign[issue]
    parts.add(owner, sent, E_SENT, -1, campaign)

    buying = journey.contains(owner, sent)
    p_open = _sigmoid(-1.4 + 0.9 * lat.intent[owner] + 0.8 * buying)
    opened = rng.random(owner.size) < p_open
    open_delay = np.exp(rng.uniform(0.0, np.log(24.0), owner.size)) * HOUR
    opened_at = sent + open_delay
    parts.add(owner[opened], opened_at[opened], E_OPEN, -1, campaign[opened])
    p_click = _sigmoid(-1.6 + 0.5 * lat.intent[owner] + 0.7 * buying)
    clicked = opened & (rng.random(owner.size) < p_click)
    clicked_at = opened_at + rng.uniform(5.0, 600.0, owner.size) * SECOND
    parts.add(owner[clicked], clicked_at[clicked], E_CLICK, -1, campaign[clicked])
    gone = ordinal == unsubscribe_at[owner]
    gone_at = sent + rng.uniform(1.0, 72.0, owner.size) * HOUR
    parts.add(owner[gone], gone_at[gone], E_UNSUB, -1, campaign[gone])


def _webinars(
    rng: np.random.Generator,
    parts: _EventParts,
    lat: _Latents,
    tl: _Timeline,
    journey: _JourneyWindow,
) -> None:
    """Monthly webinars: registrations in the three weeks before, attendance on the day."""
    n = lat.created.size
    days = tl.webinar_days
    first = np.searchsorted(days, lat.created + 1.0, side="left")
    last = np.searchsorted(days, lat.stop, side="left")
    counts = np.maximum(last - first, 0)
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    which = first[owner] + _positions(counts)
    at = days[which]
    buying = journey.contains(owner, at)
    p_register = np.clip(
        0.025 * np.exp(0.5 * lat.intent[owner]) + 0.2 * buying * lat.intensity[owner], 0, 0.8
    )
    registered = rng.random(owner.size) < p_register
    owner, which, at, buying = (
        owner[registered],
        which[registered],
        at[registered],
        buying[registered],
    )
    # Journey-driven registrations happen once the journey is under way.
    lo = np.maximum(lat.created[owner], at - 21.0)
    lo = np.where(buying, np.maximum(lo, journey.lo[owner]), lo)
    registered_at = lo + rng.random(owner.size) * (at - 1.0 * HOUR - lo)
    campaign = tl.webinar_campaign[which]
    parts.add(owner, registered_at, E_REGISTER, -1, campaign)
    attended = rng.random(owner.size) < 0.4 + 0.2 * buying
    attended_at = at + rng.uniform(0.0, 15.0, owner.size) * MINUTE
    seconds = np.round(rng.uniform(300.0, 3600.0, owner.size), 0)
    parts.add(
        owner[attended], attended_at[attended], E_ATTEND, -1, campaign[attended], seconds[attended]
    )


def _oracle(
    lat: _Latents, cutoff: float | FloatArray, window: float, future_factor: float
) -> FloatArray:
    """True probability of converting in ``(cutoff, cutoff + window]`` (see module docstring).

    The caller passes only leads created before the cutoff and not converted by it; ``cutoff``
    is one time for all of them or one per lead.
    """
    p0 = 1.0 - np.exp(-lat.h0 * window)
    started = lat.has_journey & (lat.journey_start < cutoff)
    age = cutoff - lat.journey_start
    done = _delay_cdf(age)
    p_started = lat.q * (_delay_cdf(age + window) - done) / (1.0 - lat.q * done)
    survival = np.exp(-(cutoff - lat.created) / JOURNEY_START_MEAN_DAYS)
    still_to_come = lat.pj * survival / (1.0 - lat.pj + lat.pj * survival)
    p_future = still_to_come * lat.q * future_factor
    p_journey = np.where(started, p_started, p_future)
    # fast mode: a fast lead not converted yet is less likely to be one that converts
    stay = FAST_CONVERT * np.exp(-(cutoff - lat.created) / FAST_MEAN_DAYS)
    p_fast = np.where(
        lat.fast, stay / (1.0 - FAST_CONVERT + stay) * (1.0 - np.exp(-window / FAST_MEAN_DAYS)), 0.0
    )
    return 1.0 - (1.0 - p0) * (1.0 - p_journey) * (1.0 - p_fast)


def _take_latents(lat: _Latents, sel: IntArray) -> _Latents:
    return _Latents(**{name: getattr(lat, name)[sel] for name in lat.__dataclass_fields__})


def _id_strings(prefix: str, numbers: IntArray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _labels(names: Sequence[str], codes: NDArray[Any]) -> pa.Array:
    """Strings for integer codes; negative codes become nulls."""
    codes = np.asarray(codes, dtype=np.int32)
    return pc.take(pa.array(names, pa.string()), pa.array(codes, mask=codes < 0))


def _timestamps(epoch_seconds: IntArray) -> pa.Array:
    return pa.array(epoch_seconds * 1_000_000, pa.int64()).cast(pa.timestamp("us"))


def _seconds(days: FloatArray) -> IntArray:
    """Days since start to whole seconds since start; never-happening (inf) maps to int64 max."""
    finite = np.isfinite(days)
    out = np.full(days.shape, np.iinfo(np.int64).max, dtype=np.int64)
    out[finite] = np.round(days[finite] * SECONDS_PER_DAY).astype(np.int64)
    return out


class _Stats:
    """Running counts and the pooled oracle evaluation over mature cutoffs."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.timeline = _timeline(config)
        tl = self.timeline
        self.mature = tl.cutoff_days + config.label_window_days <= tl.span_days
        k = len(tl.cutoffs)
        self.n_leads = 0
        self.n_converted = 0
        self.n_events = 0
        self.n_duplicates = 0
        self.n_truth_rows = 0
        self.eligible = np.zeros(k, dtype=np.int64)
        self.positives = np.zeros(k, dtype=np.int64)
        self.prob_sum = np.zeros(k, dtype=np.float64)
        self.probs: list[FloatArray] = []
        self.labels: list[BoolArray] = []

    def meta(self) -> dict[str, Any]:
        config, tl = self.config, self.timeline
        per_cutoff = []
        for i, cutoff in enumerate(tl.cutoffs):
            if not self.mature[i] or self.eligible[i] == 0:
                continue
            per_cutoff.append(
                {
                    "cutoff": cutoff.isoformat(),
                    "eligible": int(self.eligible[i]),
                    "converted_in_window": int(self.positives[i]),
                    "rate": float(self.positives[i] / self.eligible[i]),
                    "mean_true_probability": float(self.prob_sum[i] / self.eligible[i]),
                }
            )
        probs = np.concatenate(self.probs) if self.probs else np.empty(0)
        labels = np.concatenate(self.labels) if self.labels else np.empty(0, dtype=bool)
        rates = [row["rate"] for row in per_cutoff]
        return {
            "generator": "leadscore.demo.generate",
            "seed": config.seed,
            "n_leads": config.n_leads,
            "end": config.end.isoformat(),
            "start": tl.start.isoformat(),
            "months": config.months,
            "mode": config.mode,
            "label_window_days": config.label_window_days,
            "chunk_size": CHUNK_SIZE,
            "cutoffs": [c.isoformat() for c in tl.cutoffs],
            "mature_cutoffs": [
                c.isoformat() for c, m in zip(tl.cutoffs, self.mature, strict=True) if m
            ],
            "counts": {
                "leads": self.n_leads,
                "conversions": self.n_converted,
                "events": self.n_events,
                "duplicate_events": self.n_duplicates,
                "truth_rows": self.n_truth_rows,
            },
            "summary": {
                "conversion_rate": self.n_converted / max(self.n_leads, 1),
                "events_per_lead": self.n_events / max(self.n_leads, 1),
                "duplicate_share": self.n_duplicates / max(self.n_events, 1),
                "window_rate_mean": float(np.mean(rates)) if rates else None,
                "window_rate_min": float(np.min(rates)) if rates else None,
                "window_rate_max": float(np.max(rates)) if rates else None,
                "oracle_auc": _roc_auc(labels, probs),
                "oracle_mean_probability": float(probs.mean()) if probs.size else None,
                "observed_window_rate": float(labels.mean()) if labels.size else None,
            },
            "per_cutoff": per_cutoff,
        }


def _roc_auc(labels: BoolArray, scores: FloatArray) -> float | None:
    """ROC AUC (leadscore.metrics.auc); None when only one class is present."""
    from leadscore.metrics import auc

    value = auc(labels, scores)
    return None if np.isnan(value) else value


def _simulate(config: GeneratorConfig, stats: _Stats) -> Iterator[_Chunk]:
    """Simulate the leads chunk by chunk, updating ``stats`` as chunks are produced."""
    tl = stats.timeline
    n_chunks = -(-config.n_leads // CHUNK_SIZE)
    # Child streams are keyed by position, so chunk i draws the same numbers however many
    # chunks there are; stream 0 lays out the creation times of all leads.
    streams = np.random.SeedSequence(config.seed).spawn(n_chunks + 1)
    created_all = _created_times(
        np.random.default_rng(streams[0]), config.n_leads, tl.span_days, config.mode != "default"
    )
    id_width = max(7, len(str(config.n_leads)))
    email_modulus = 10 ** max(7, len(str(config.n_leads)))
    future_factor = _future_journey_factor(float(config.label_window_days))
    span_s = tl.span_days * SECONDS_PER_DAY
    window_s = config.label_window_days * SECONDS_PER_DAY
    next_event_id = 1

    for chunk_no in range(n_chunks):
        rng = np.random.default_rng(streams[chunk_no + 1])
        mode_rng = (
            np.random.default_rng(np.random.SeedSequence([config.seed, chunk_no, 1]))
            if config.mode != "default"
            else None
        )
        offset = chunk_no * CHUNK_SIZE
        created = created_all[offset : offset + CHUNK_SIZE]
        n = created.size
        lat, employees = _latents(rng, created, tl, config.mode, mode_rng)
        # Number leads in order of their final creation time.
        by_time = np.argsort(lat.created, kind="stable")
        lat, employees = _take_latents(lat, by_time), employees[by_time]
        lead_numbers = offset + 1 + np.arange(n, dtype=np.int64)
        lead_ids = _id_strings("L", lead_numbers, id_width)
        created_s = _seconds(lat.created)
        converted_s = _seconds(lat.converted)
        observed = converted_s < span_s
        stop_s = np.minimum(converted_s, span_s)

        # Leads.
        first = pc.take(pa.array(FIRST_NAMES), pa.array(rng.integers(0, len(FIRST_NAMES), n)))
        last = pc.take(pa.array(LAST_NAMES), pa.array(rng.integers(0, len(LAST_NAMES), n)))
        # An affine bijection of the lead number keeps every address unique yet random-looking.
        suffix = pc.cast(pa.array((lead_numbers * 7919 + 104_729) % email_modulus), pa.string())
        company = pc.binary_join_element_wise(
            pc.take(pa.array(COMPANY_PREFIX), pa.array(rng.integers(0, len(COMPANY_PREFIX), n))),
            pc.take(pa.array(COMPANY_SUFFIX), pa.array(rng.integers(0, len(COMPANY_SUFFIX), n))),
            ".example.com",
            "",
        )
        personal = (lat.job == STUDENT) | ((lat.job == OTHER_JOB) & (rng.random(n) < 0.5))
        domain = pc.if_else(pa.array(personal), "mail.example.org", company)
        email = pc.binary_join_element_wise(first, ".", last, suffix, "@", domain, "")
        leads = pa.table(
            {
                "lead_id": lead_ids,
                "created_at": _timestamps(tl.start_epoch_s + created_s),
                "email": email,
                "job_title": _labels(JOB_TITLES, lat.job),
                "company_size": _labels(COMPANY_SIZES, lat.size),
                "employee_count": pa.array(employees.astype(np.int64)),
                "industry": _labels(INDUSTRIES, lat.industry),
                "country": _labels(COUNTRIES, lat.country),
                "lead_source": _labels(LEAD_SOURCES, lat.source),
            },
            schema=LEADS_SCHEMA,
        )

        # Conversions.
        amount = np.round(np.asarray(SIZE_DEAL)[lat.size] * rng.lognormal(0.0, 0.5, n), 2)
        conversions = pa.table(
            {
                "lead_id": lead_ids.filter(pa.array(observed)),
                "converted_at": _timestamps(tl.start_epoch_s + converted_s[observed]),
                "amount": pa.array(amount[observed]),
            },
            schema=CONVERSIONS_SCHEMA,
        )

        # Events: keep what lies inside [created_at, min(converted_at, end)), log order.
        owner, t, kind, page, campaign, value = _simulate_events(rng, lat, tl, mode_rng).concat()
        t_s = _seconds(t)
        keep = (t_s >= created_s[owner]) & (t_s < stop_s[owner])
        owner, t_s, kind, page, campaign, value = (
            a[keep] for a in (owner, t_s, kind, page, campaign, value)
        )
        order = np.lexsort((owner, t_s))
        unique_ids = next_event_id + np.arange(order.size, dtype=np.int64)
        next_event_id += order.size
        copies = 1 + (rng.random(order.size) < DUPLICATE_SHARE)
        rows = np.repeat(order, copies)
        kind = kind[rows]
        events = pa.table(
            {
                "event_id": _id_strings("E", np.repeat(unique_ids, copies), 10),
                "lead_id": pc.take(lead_ids, pa.array(owner[rows])),
                "occurred_at": _timestamps(tl.start_epoch_s + t_s[rows]),
                "channel": _labels(CHANNELS, EVENT_CHANNEL_CODE[kind]),
                "event_type": _labels(EVENT_NAMES, kind),
                "page_category": _labels(PAGE_CATEGORIES, page[rows]),
                "campaign": _labels(tl.campaigns, campaign[rows]),
                "value": pa.array(value[rows], mask=np.isnan(value[rows])),
            },
            schema=EVENTS_SCHEMA,
        )

        # Truth at every cutoff, and the outcome where the window is fully observed.
        truth_lead, truth_cut, truth_prob = [], [], []
        for i, cutoff in enumerate(tl.cutoff_days):
            cutoff_s = int(cutoff) * SECONDS_PER_DAY
            eligible = np.flatnonzero((created_s < cutoff_s) & (converted_s > cutoff_s))
            prob = _oracle(
                _take_latents(lat, eligible),
                float(cutoff),
                float(config.label_window_days),
                future_factor,
            )
            truth_lead.append(eligible)
            truth_cut.append(np.full(eligible.size, tl.start_epoch_s + cutoff_s, np.int64))
            truth_prob.append(prob)
            if stats.mature[i]:
                label = converted_s[eligible] <= cutoff_s + window_s
                stats.eligible[i] += eligible.size
                stats.positives[i] += int(label.sum())
                stats.prob_sum[i] += float(prob.sum())
                stats.probs.append(prob)
                stats.labels.append(label)
        # ... and at each lead's early cutoffs, the moments a new lead is first scored
        for hours in TRUTH_OFFSETS_HOURS:
            cutoff_s = created_s + hours * 3600
            eligible = np.flatnonzero((cutoff_s < span_s) & (converted_s > cutoff_s))
            prob = _oracle(
                _take_latents(lat, eligible),
                cutoff_s[eligible] / SECONDS_PER_DAY,
                float(config.label_window_days),
                future_factor,
            )
            truth_lead.append(eligible)
            truth_cut.append(tl.start_epoch_s + cutoff_s[eligible])
            truth_prob.append(prob)
        truth_idx = np.concatenate(truth_lead) if truth_lead else np.empty(0, np.int64)
        truth = pa.table(
            {
                "lead_id": pc.take(lead_ids, pa.array(truth_idx, pa.int64())),
                "cutoff": _timestamps(
                    np.concatenate(truth_cut) if truth_cut else np.empty(0, np.int64)
                ),
                "true_probability": pa.array(
                    np.concatenate(truth_prob) if truth_prob else np.empty(0), pa.float64()
                ),
            },
            schema=TRUTH_SCHEMA,
        )

        stats.n_leads += n
        stats.n_converted += int(observed.sum())
        stats.n_events += events.num_rows
        stats.n_duplicates += events.num_rows - order.size
        stats.n_truth_rows += truth.num_rows
        yield _Chunk(leads, events, conversions, truth)


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class _Sink:
    """Streams tables into one CSV or parquet file."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: Format) -> None:
        self.fmt = fmt
        self.writer: pacsv.CSVWriter | pq.ParquetWriter
        if fmt == "csv":
            # Whole-second timestamps print as "YYYY-MM-DD HH:MM:SS" at second resolution.
            self.schema = pa.schema(
                [
                    pa.field(f.name, pa.timestamp("s")) if pa.types.is_timestamp(f.type) else f
                    for f in schema
                ]
            )
            options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
            self.writer = pacsv.CSVWriter(path, self.schema, write_options=options)
        else:
            self.schema = schema
            self.writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table.cast(self.schema))

    def close(self) -> None:
        self.writer.close()


class _Writers:
    """The output files of one run, opened together and closed together."""

    def __init__(self, out_dir: Path, truth_dir: Path, fmt: Format) -> None:
        if fmt not in ("csv", "parquet"):
            raise ValueError(f"unknown format {fmt!r}")
        self.out_dir, self.truth_dir, self.fmt = out_dir, truth_dir, fmt
        self.sinks: dict[str, _Sink] = {}

    def __enter__(self) -> _Writers:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.truth_dir.mkdir(parents=True, exist_ok=True)
        ext = self.fmt
        self.sinks = {
            "leads": _Sink(self.out_dir / f"leads.{ext}", LEADS_SCHEMA, self.fmt),
            "events": _Sink(self.out_dir / f"events.{ext}", EVENTS_SCHEMA, self.fmt),
            "conversions": _Sink(self.out_dir / f"conversions.{ext}", CONVERSIONS_SCHEMA, self.fmt),
            # The truth is always parquet: it is read by evaluation code, not by the warehouse.
            "truth": _Sink(self.truth_dir / "true_probability.parquet", TRUTH_SCHEMA, "parquet"),
        }
        return self

    def write(self, chunk: _Chunk) -> None:
        self.sinks["leads"].write(chunk.leads)
        self.sinks["events"].write(chunk.events)
        self.sinks["conversions"].write(chunk.conversions)
        self.sinks["truth"].write(chunk.truth)

    def __exit__(self, *exc: object) -> None:
        for sink in self.sinks.values():
            sink.close()


def _write_meta(truth_dir: Path, meta: dict[str, Any]) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "generator.json").write_text(json.dumps(meta, indent=2) + "\n")


def _print_summary(meta: dict[str, Any], seconds: float) -> None:
    counts, summary = meta["counts"], meta["summary"]

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    auc = summary["oracle_auc"]
    lines = [
        f"done in {seconds:.1f}s: {counts['leads']:,} leads, {counts['events']:,} events, "
        f"{counts['conversions']:,} conversions, {counts['truth_rows']:,} truth rows",
        f"  conversion rate            {pct(summary['conversion_rate'])}",
        f"  events per lead            {summary['events_per_lead']:.1f}",
        f"  duplicate events           {pct(summary['duplicate_share'])}",
        f"  {meta['label_window_days']}-day conversion rate      "
        f"{pct(summary['window_rate_mean'])} (per cutoff {pct(summary['window_rate_min'])}"
        f" .. {pct(summary['window_rate_max'])}, {len(meta['per_cutoff'])} mature cutoffs)",
        f"  mean true probability      {pct(summary['oracle_mean_probability'])}"
        f" vs observed {pct(summary['observed_window_rate'])}",
        f"  oracle AUC                 {'n/a' if auc is None else f'{auc:.3f}'}",
    ]
    print("\n".join(lines), file=sys.stderr)


def _config(
    n_leads: int,
    seed: int,
    end: dt.date | None,
    months: int,
    label_window_days: int,
    mode: str = "default",
) -> GeneratorConfig:
    end = end if end is not None else dt.datetime.now(dt.timezone.utc).date()
    return GeneratorConfig(
        n_leads=n_leads,
        seed=seed,
        end=end,
        months=months,
        label_window_days=label_window_days,
        mode=mode,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadscore generate",
        description="Generate synthetic leads, events and conversions with a known truth.",
    )
    parser.add_argument("--leads", type=int, default=20_000, help="number of leads (20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (42)")
    parser.add_argument(
        "--end",
        type=dt.date.fromisoformat,
        default=None,
        help="end of the data, exclusive, YYYY-MM-DD (today, UTC); pass it for reproducible data",
    )
    parser.add_argument("--months", type=int, default=18, help="months of history (18)")
    parser.add_argument(
        "--label-window-days", type=int, default=90, help="oracle label window in days (90)"
    )
    parser.add_argument("--out", default="data/raw", help="raw data directory (data/raw)")
    parser.add_argument(
        "--truth-out", default="data/truth", help="truth directory, never a feature (data/truth)"
    )
    parser.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="file format (csv)"
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="default",
        help="default: leads arrive at a growing rate; steady: at a constant rate; fast: "
        "steady, and about a quarter of leads ask for a demo at once and convert within days; "
        "shift: steady, and leads of the last third of the span convert two to three times as "
        "often and arrive through other channels (see the module docstring)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-chunk progress")
    parser.add_argument(
        "--vocabulary",
        choices=("activity_log",),
        default=None,
        help="write the data under another CRM's names (see leadscore.demo.vocabulary)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
