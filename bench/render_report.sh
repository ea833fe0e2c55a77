#!/usr/bin/env bash
# Write the HTML report of a warehouse and check that it renders in headless Chromium: the
# DOM must hold every chart, and a screenshot is saved to look at.
#
#   bench/render_report.sh [WAREHOUSE] [ARTIFACTS] [OUT_DIR]
#
# Defaults: $LEADSCORE_DB or warehouse.duckdb, $LEADSCORE_ARTIFACTS or artifacts, /tmp.
# Chromium comes from Debian: apt-get update && apt-get install -y chromium
set -euo pipefail
cd "$(dirname "$0")/.."

warehouse="${1:-${LEADSCORE_DB:-warehouse.duckdb}}"
artifacts="${2:-${LEADSCORE_ARTIFACTS:-artifacts}}"
out_dir="${3:-/tmp}"
page="$out_dir/leadscore_report.html"
shot="$out_dir/leadscore_report.png"

browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    echo "chromium is not installed: apt-get update && apt-get install -y chromium" >&2
    exit 2
fi

.venv/bin/leadscore report --warehouse "$warehouse" --artifacts "$artifacts" --out "$page"

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --disable-sync --no-first-run)
charts_in_file="$(grep -o '<svg' "$page" | wc -l)"
charts_in_dom="$("$browser" "${flags[@]}" --dump-dom "file://$(realpath "$page")" 2>/dev/null \
    | grep -o '<svg' | wc -l)"
if [ "$charts_in_dom" -ne "$charts_in_file" ]; then
    echo "the browser parsed $charts_in_dom of $charts_in_file charts in $page" >&2
    exit 1
fi
"$browser" "${flags[@]}" --screenshot="$shot" --window-size=1200,3000 \
    "file://$(realpath "$page")" >/dev/null 2>&1
echo "rendered $charts_in_dom charts; screenshot: $shot"
