#!/usr/bin/env bash
# The table.* components give exactly the rows that the equivalent sqlite3
# query gives on the same CSV (vega-datasets from npm: stocks,
# seattle-weather, airports, zipcodes, github). Numbers are compared as
# numbers (to 1e-9 relative); row order where the operation defines it.
. "$(dirname "$0")/lib.bash"

DATA=${PIPEC_TEST_DATA:-$HOME/.cache/pipec-test-data}
"$SRC/tests/data/fetch-vega.sh" "$DATA" || { fail "cannot fetch vega-datasets"; finish; }
command -v sqlite3 >/dev/null || { fail "sqlite3 is missing (.ci/install-deps --test)"; finish; }

mkdir proj && cd proj
for f in stocks seattle-weather airports zipcodes github; do cp "$DATA/$f.csv" .; done
cat > t.pipe <<'PIPE'
pipeline tables {
  node stocks   = table.read_csv(path = "stocks.csv")
  node weather  = table.read_csv(path = "seattle-weather.csv")
  node airports = table.read_csv(path = "airports.csv")
  node zips     = table.read_csv(path = "zipcodes.csv")
  node github   = table.read_csv(path = "github.csv")

  node f1 = table.filter(input = stocks.out, where = "symbol == \"MSFT\" and price > 30")
  node f2 = table.filter(input = weather.out, where = "(temp_max - temp_min) >= 10 or not (weather == 'sun' or weather == 'rain')")
  node f3 = table.filter(input = airports.out, where = "state == 'CA' and latitude > 37.5")
  node s1 = table.select(input = weather.out, columns = ["weather", "date", "wind"])
  node o1 = table.sort(input = weather.out, by = ["precipitation", "date"], descending = true)
  node o2 = table.sort(input = github.out, by = ["count", "time"])
  node a1 = table.aggregate(input = weather.out, group_by = ["weather"],
                            aggregations = ["count", "sum:precipitation", "mean:temp_max", "min:temp_min", "max:wind"])
  node a2 = table.aggregate(input = zips.out, group_by = ["state"], aggregations = ["count", "mean:latitude"])
  node per_state = table.aggregate(input = airports.out, group_by = ["state"], aggregations = ["count"])
  node j1 = table.join(left = airports.out, right = per_state.out, on = ["state"])
  node j2 = table.join(left = stocks.out, right = f1.out, on = ["date"], how = "left")
  node d1 = table.dedupe(input = weather.out, columns = ["weather"])
}
PIPE
expect_exit 0 "$PIPEC" run t.pipe -q || finish

q() { sqlite3 -csv -header :memory: \
        ".import --csv stocks.csv stocks" ".import --csv seattle-weather.csv weather" \
        ".import --csv airports.csv airports" ".import --csv zipcodes.csv zips" \
        ".import --csv github.csv github" "$1" > "$2.sql.csv"; }
# same NAME ORDERED SQL: compare pipec's output of node NAME with the query
same() {
  local name=$1 ordered=$2 sql=$3
  q "$sql" "$name"
  "$PIPEC" cat "$name" > "$name.pipec.csv"
  if python3 "$SRC/tests/e2e/csv_same.py" "$name.pipec.csv" "$name.sql.csv" "$ordered"; then
    pass "$name equals sqlite3"
  else
    fail "$name differs from sqlite3: $sql"
  fi
}

same f1 ordered "SELECT * FROM stocks WHERE symbol = 'MSFT' AND CAST(price AS REAL) > 30"
same f2 ordered "SELECT * FROM weather WHERE (CAST(temp_max AS REAL) - CAST(temp_min AS REAL)) >= 10 OR NOT (weather = 'sun' OR weather = 'rain')"
same f3 ordered "SELECT * FROM airports WHERE state = 'CA' AND CAST(latitude AS REAL) > 37.5"
same s1 ordered "SELECT weather, date, wind FROM weather"
same o1 ordered "SELECT * FROM weather ORDER BY CAST(precipitation AS REAL) DESC, date DESC"
same o2 ordered "SELECT * FROM github ORDER BY CAST(count AS INTEGER), time"
same a1 unordered "SELECT weather, count(*) AS count, sum(CAST(precipitation AS REAL)) AS sum_precipitation, avg(CAST(temp_max AS REAL)) AS mean_temp_max, min(CAST(temp_min AS REAL)) AS min_temp_min, max(CAST(wind AS REAL)) AS max_wind FROM weather GROUP BY weather"
same a2 unordered "SELECT state, count(*) AS count, avg(CAST(latitude AS REAL)) AS mean_latitude FROM zips GROUP BY state"
same j1 ordered "SELECT a.*, c.n AS count FROM airports a JOIN (SELECT state, count(*) AS n FROM airports GROUP BY state) c ON a.state = c.state ORDER BY a.rowid"
same j2 ordered "SELECT s.*, f.symbol AS symbol_right, f.price AS price_right FROM stocks s LEFT JOIN (SELECT * FROM stocks WHERE symbol = 'MSFT' AND CAST(price AS REAL) > 30) f ON s.date = f.date ORDER BY s.rowid, f.rowid"
same d1 ordered "SELECT * FROM weather WHERE rowid IN (SELECT min(rowid) FROM weather GROUP BY weather) ORDER BY rowid"
finish
