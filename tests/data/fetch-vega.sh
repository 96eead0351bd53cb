#!/usr/bin/env bash
# fetch-vega.sh DIR — put the CSV files of the npm package vega-datasets
# (seattle-weather, stocks, airports, github, zipcodes) in DIR, fetching
# the package with `npm pack` once; later calls reuse DIR.
set -euo pipefail
dir=$1
version=2.8.0
if [ -f "$dir/.vega-datasets-$version" ]; then exit 0; fi
command -v npm >/dev/null || { echo "fetch-vega: npm is missing (.ci/install-deps --test installs it)" >&2; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "vega-datasets@$version" --silent >/dev/null)
tar -xzf "$tmp"/vega-datasets-*.tgz -C "$tmp"
for f in seattle-weather stocks airports github zipcodes; do
  cp "$tmp/package/data/$f.csv" "$dir/"
done
touch "$dir/.vega-datasets-$version"
