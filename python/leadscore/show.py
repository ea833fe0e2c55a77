"""``leadscore show``: the highest-scoring leads, the tiers, and the model's test metrics."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from leadscore.config import warehouse_path

__all__ = ["main"]


def _published(default: Path) -> Path:
    import os

    folder = Path(os.environ.get("LEADSCORE_PUBLISH_DIR", "published"))
    candidate = folder / "leadscore.duckdb"
    return candidate if candidate.exists() else default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leadscore show", description=__doc__)
    parser.add_argument(
        "--database",
        type=Path,
        default=None,
        help="default: the published mart, else the warehouse",
    )
    parser.add_argument("--top", type=int, default=10, help="how many leads to list (10)")
    args = parser.parse_args(argv)
    path = args.database or _published(warehouse_path())
    if not path.exists():
        print(f"No scores yet: {path} does not exist. Run: make demo")
        return 2
    con = duckdb.connect(str(path), read_only=True)
    try:
        print(f"Top {args.top} open leads ({path}):")
        print(
            con.sql(
                f"""
                select lead_id, score, tier, round(conversion_probability, 3) as probability,
                       score_status, model_version
                from lead_scores where not is_converted
                order by conversion_probability desc, lead_id limit {args.top}
                """
            )
        )
        converted = con.sql("select count(*) from lead_scores where is_converted").fetchall()[0][0]
        print(f"Tiers of the open leads ({converted:,} converted leads left out):")
        print(
            con.sql(
                """
                select tier, count(*) as leads,
                       round(100.0 * count(*) / sum(count(*)) over (), 1) as pct_of_leads,
                       round(avg(conversion_probability), 3) as mean_probability,
                       round(sum(conversion_probability)) as expected_conversions
                from lead_scores where not is_converted group by tier order by tier
                """
            )
        )
    finally:
        con.close()
    warehouse = warehouse_path()
    if warehouse.exists():
        try:
            con = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.IOException:
            return 0
        try:
            print("Champion model, test fold:")
            print(
                con.sql(
                    """
                    select model_version, round(test_auc, 4) as auc,
                           round(test_pr_auc, 4) as pr_auc, round(test_brier, 5) as brier,
                           round(test_ece, 4) as ece, round(test_top_decile_lift, 2) as lift_top10,
                           round(rule_based_auc, 4) as rule_based_auc,
                           round(oracle_auc, 4) as oracle_auc
                    from leadscore_models.model_registry where is_champion
                    """
                )
            )
        except duckdb.CatalogException:
            pass
        finally:
            con.close()
    return 0
