#!/usr/bin/env bash
# Chamado's load benchmarks (see BENCHMARKS.md).
#
# Builds in release mode, prepares (or reuses) a data set with `chamado bench-data`, starts
# `chamado serve` on 127.0.0.1, drives it with wrk over loopback only, bounded in time, and
# prints a table; unless --no-append, the table is appended to BENCHMARKS.md with the machine,
# the commit and the exact commands.
#
#   bench/run.sh                       # 1,000,000 tickets, SQLite then PostgreSQL
#   bench/run.sh --backend sqlite      # one backend
#   bench/run.sh --quick               # a tiny data set and 2 s runs (what CI runs)
#
# Options: --tickets N --orgs N --users N --duration SECONDS --connections N
#          --backend sqlite|postgres|both --no-append --quick
#          --only 1,3,8   (some scenarios only, while working on them; never appended)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
invocation="bench/run.sh $*"

tickets=1000000 orgs=10000 users=100000 comments=5
duration=15 warmup=3 connections=32 backend=both append=1 quick=0
pg_admin_url=${CHAMADO_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
while [ $# -gt 0 ]; do
  case "$1" in
    --tickets) tickets=$2; shift 2 ;;
    --orgs) orgs=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --no-append) append=0; shift ;;
    --only) only=$2 append=0; shift 2 ;;
    --quick) quick=1 tickets=400 orgs=12 users=60 duration=2 warmup=1 connections=8 append=0; shift ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$backend" in sqlite) backends=(sqlite) ;; postgres) backends=(postgres) ;; both) backends=(sqlite postgres) ;;
  *) echo "bench/run.sh: --backend sqlite|postgres|both" >&2; exit 2 ;; esac
for n in "$tickets" "$orgs" "$users" "$duration" "$connections"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "bench/run.sh: numbers only" >&2; exit 2; }
done

fail() { echo "bench/run.sh: $*" >&2; exit 1; }
command -v wrk >/dev/null || fail "wrk is not installed (Debian: apt-get install wrk)"
command -v curl >/dev/null || fail "curl is not installed"
command -v python3 >/dev/null || fail "python3 is not installed (reads the SQLite data set)"

# Only loopback: the host is fixed here and never taken from arguments.
host=127.0.0.1
port=$((20000 + RANDOM % 20000))
hello_port=$((port + 1))
base="http://$host:$port"

work="$root/target/bench"
mkdir -p "$work"
log="$work/run.log"
: >"$log"

echo "==> building (release)"
cargo build --release --quiet --bin chamado --example bench_hello
bin="$root/target/release/chamado"
hello="$root/target/release/examples/bench_hello"

server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap stop_server EXIT

# Waits for GET $1 to answer 200; prints the seconds it took since $2 (date +%s.%N).
wait_ready() {
  local url=$1 since=$2
  for _ in $(seq 1 3000); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ]; then
      python3 -c "import time; print(f'{time.time() - $since:.3f}')"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited; see $log"
    sleep 0.01
  done
  fail "$url did not answer within 30 s; see $log"
}

# Signs in through /login; prints the session cookie's value.
login() {
  local email=$1 password=$2 jar
  jar=$(mktemp)
  local token
  token=$(curl -s -c "$jar" -b "$jar" "$base/login" |
    grep -o 'name="csrf_token" value="[0-9a-f]*"' | head -1 | sed 's/.*value="\([0-9a-f]*\)"/\1/' || true)
  [ -n "$token" ] || fail "no CSRF token on /login"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
    --data-urlencode "email=$email" --data-urlencode "password=$password" \
    --data-urlencode "csrf_token=$token" "$base/login")
  [ "$code" = 303 ] || fail "login as $email answered $code"
  awk '$6 == "chamado_session" { print $7 }' "$jar"
  rm -f "$jar"
}

# The CSRF token of a signed-in session, from a page with a form.
csrf_of() {
  curl -s -H "Cookie: chamado_session=$1" "$base/portal/tickets/new" |
    grep -o 'name="csrf_token" value="[0-9a-f]*"' | head -1 | sed 's/.*value="\([0-9a-f]*\)"/\1/' || true
}

# wrk's latency value (like 1.23ms, 850.00us, 1.01s) in milliseconds.
to_ms() {
  python3 -c "
import re,sys
v=sys.argv[1]; m=re.match(r'([0-9.]+)(us|ms|s|m)', v)
n,u=float(m.group(1)),m.group(2)
print(f'{n/1000 if u==\"us\" else n*1000 if u==\"s\" else n*60000 if u==\"m\" else n:.2f}')" "$1"
}

# Whether scenario $1 runs (all of them unless --only).
want() { [ -z "${only:-}" ] || [[ ",$only," == *",$1,"* ]]; }

results=()   # "backend|scenario|rps|p50|p99|errors"
commands=()
# Runs wrk; $1 backend, $2 scenario name, $3 cookie ('' for none), $4 URL path, [$5 lua script]
drive() {
  local backend=$1 name=$2 cookie=$3 path=$4 script=${5:-}
  local args=(-t2 "-c$connections" "-d${duration}s" --latency --timeout 5s)
  [ -n "$cookie" ] && args+=(-H "Cookie: chamado_session=$cookie")
  [ -n "$script" ] && args+=(-s "$script")
  local out
  if [ -z "$script" ]; then
    # Warm-up, not measured: statement caches, page cache, cached counts.
    timeout $((warmup + 30)) wrk -t2 "-c$connections" "-d${warmup}s" --timeout 5s \
      ${cookie:+-H "Cookie: chamado_session=$cookie"} "$base$path" >/dev/null 2>&1 || fail "wrk warm-up failed"
  fi
  out=$(timeout $((duration + 30)) wrk "${args[@]}" "$base$path" 2>&1) || fail "wrk failed: $out"
  echo "$out" >>"$log"
  commands+=("wrk -t2 -c$connections -d${duration}s --latency --timeout 5s ${cookie:+-H 'Cookie: chamado_session=…' }${script:+-s ${script#"$root"/} }'$base$path'")
  local rps p50 p99 errors non2xx sock
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")
  sock=$(awk -F'[ ,]+' '/Socket errors:/ { print $4 + $6 + $8 + $10 }' <<<"$out")
  errors=$(( ${non2xx:-0} + ${sock:-0} ))
  results+=("$backend|$name|$rps|$p50|$p99|$errors")
  local rss_now=""
  [ -n "$server_pid" ] && [ -r "/proc/$server_pid/status" ] &&
    rss_now=$(awk '/VmRSS/ { printf "  RSS %.0f MB", $2 / 1024 }' "/proc/$server_pid/status")
  printf '    %-34s %10s req/s  p50 %7s ms  p99 %7s ms  errors %s%s\n' "$name" "$rps" "$p50" "$p99" "$errors" "$rss_now"
}

sql_sqlite() { python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])" "$1" "$2"; }

# A ticket of the largest organization with two files and at least five comments.
detail_query="select t.id from tickets t where t.organization_id = 1 and
  (select count(*) from attachments a where a.ticket_id = t.id) = 2 and
  (select count(*) from comments c where c.ticket_id = t.id and c.public) >= 5 order by t.id limit 1"

declare -A rss startup
for db in "${backends[@]}"; do
  echo "==> $db: data set of $tickets tickets"
  data_dir="$work/$db-$tickets-$orgs-$users"
  mkdir -p "$data_dir"
  if [ "$db" = sqlite ]; then
    url="sqlite://$data_dir/chamado.db"
    ready_check() { [ -f "$data_dir/chamado.db" ] && [ "$(sql_sqlite "$data_dir/chamado.db" 'select count(*) from tickets' 2>/dev/null)" -ge "$tickets" ]; }
    query() { sql_sqlite "$data_dir/chamado.db" "$1"; }
  else
    command -v psql >/dev/null || fail "psql is not installed"
    dbname="chamado_bench_${tickets}_${orgs}_${users}"
    url="${pg_admin_url%/*}/$dbname"
    ready_check() { [ "$(psql -qtAX "$url" -c 'select count(*) from tickets' 2>/dev/null || echo 0)" -ge "$tickets" ]; }
    query() { psql -qtAX "$url" -c "$1"; }
  fi
  # A data set is reused only if it was made with the same migrations: a new one would
  # otherwise run on the first start and be counted as start-up time.
  schema=$(cat migrations/"$db"/*.sql src/service/bench_data.rs src/service/demo.rs | sha256sum | cut -c1-16)
  if ready_check && [ "$(cat "$data_dir/.schema" 2>/dev/null)" = "$schema" ]; then
    echo "    reusing $data_dir"
  else
    if [ "$db" = sqlite ]; then
      rm -rf "$data_dir" && mkdir -p "$data_dir"
    else
      rm -rf "$data_dir" && mkdir -p "$data_dir"
      psql -qtAX "$pg_admin_url" -c "drop database if exists $dbname" >/dev/null
      psql -qtAX "$pg_admin_url" -c "create database $dbname" >/dev/null
    fi
    start=$(date +%s)
    CHAMADO_DATA_DIR="$data_dir" CHAMADO_LOG=warn "$bin" bench-data --tickets "$tickets" --orgs "$orgs" \
      --users "$users" --comments-per-ticket "$comments" --database-url "$url"
    echo "    bench-data took $(( $(date +%s) - start )) s"
    echo "$schema" >"$data_dir/.schema"
    commands+=("CHAMADO_DATA_DIR=… chamado bench-data --tickets $tickets --orgs $orgs --users $users --comments-per-ticket $comments --database-url ${url/\/\/*@/\/\/…@}")
  fi

  # Each run works on a copy: the tickets scenario 5 opens never reach the next run's data set.
  run_dir="$work/$db-run"
  rm -rf "$run_dir" && mkdir -p "$run_dir"
  ln -s "$data_dir/files" "$run_dir/files"
  if [ "$db" = sqlite ]; then
    cp "$data_dir"/chamado.db* "$run_dir/"
    # Let the copy reach the disk first: its write-back would stall the server's syncs.
    sync
    run_url="sqlite://$run_dir/chamado.db"
    query() { sql_sqlite "$run_dir/chamado.db" "$1"; }
  else
    psql -qtAX "$pg_admin_url" -c "drop database if exists ${dbname}_run" >/dev/null
    psql -qtAX "$pg_admin_url" -c "create database ${dbname}_run template $dbname" >/dev/null
    run_url="${url}_run"
    query() { psql -qtAX "$run_url" -c "$1"; }
  fi

  echo "==> $db: serving on $base"
  since=$(python3 -c 'import time; print(time.time())')
  CHAMADO_DATABASE_URL="$run_url" CHAMADO_DATA_DIR="$run_dir" CHAMADO_BIND="$host:$port" \
    CHAMADO_BASE_URL="$base" CHAMADO_LOG=warn \
    "$bin" serve >>"$log" 2>&1 &
  server_pid=$!
  startup[$db]=$(wait_ready "$base/readyz" "$since")
  echo "    first answer after ${startup[$db]} s"

  customer=$(login cliente@bench.example chamado-bench)
  agent=$(login agente@bench.example chamado-bench)
  [ -n "$customer" ] && [ -n "$agent" ] || fail "no session cookie after login"

  if want 1; then
    drive "$db" "1 company view, one status" "$customer" "/portal/tickets?view=org&org=1&status=in_progress"
  fi
  if want 2; then
    # 40 pages deep, following the list's own "next" links.
    path="/portal/tickets?view=org&org=1&status=in_progress"
    for _ in $(seq 1 40); do
      next=$(curl -s -H "Cookie: chamado_session=$customer" "$base$path" |
        grep -o 'rel="next" href="[^"]*"' | head -1 | sed 's/rel="next" href="//; s/"$//' || true)
      next=$(python3 -c 'import html, sys; print(html.unescape(sys.argv[1]))' "$next")
      [ -n "$next" ] || break
      path=$next
    done
    drive "$db" "2 the same, 40 pages deep" "$customer" "$path"
  fi
  if want 3; then
    ticket=$(query "$detail_query")
    [ -n "$ticket" ] || ticket=$(query "select id from tickets where organization_id = 1 order by id limit 1")
    drive "$db" "3 ticket detail" "$customer" "/portal/tickets/$ticket"
  fi
  if want 4; then
    drive "$db" "4 free-text search, company view" "$customer" "/portal/tickets?view=org&q=boleto"
  fi
  if want 5; then
    csrf=$(csrf_of "$customer")
    [ -n "$csrf" ] || fail "no CSRF token for the new-ticket form"
    lua="$work/open-ticket.lua"
    sed "s/@CSRF@/$csrf/" "$root/bench/open-ticket.lua" >"$lua"
    before=$(query "select count(*) from tickets")
    drive "$db" "5 open a ticket (POST)" "$customer" "/portal/tickets" "$lua"
    after=$(query "select count(*) from tickets")
    echo "    tickets opened: $((after - before))"
  fi
  if want 6; then
    drive "$db" "6 agent queue Em Tratativa" "$agent" "/agent?queue=in_progress&org=1&type=incident"
  fi
  if want 7; then
    drive "$db" "7 Help Center search" "$customer" "/hc/search?q=senha"
  fi
  rss[$db]=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
  echo "    peak RSS ${rss[$db]} MB"
  stop_server
done

hello_rps=""
if want 8; then
  echo "==> ceiling: bare axum hello world"
  "$hello" "$host:$hello_port" >>"$log" 2>&1 &
  server_pid=$!
  since=$(python3 -c 'import time; print(time.time())')
  wait_ready "http://$host:$hello_port/" "$since" >/dev/null
  base_saved=$base
  base="http://$host:$hello_port"
  drive hello "8 hello world (ceiling)" "" "/"
  base=$base_saved
  stop_server
  hello_rps=$(IFS='|' read -r _ _ r _ <<<"${results[-1]}"; echo "$r")
fi

table=$(
  echo "| backend | scenario | req/s | p50 ms | p99 ms | errors | vs hello |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for row in "${results[@]}"; do
    IFS='|' read -r b s r p50 p99 e <<<"$row"
    ratio=-
    [ -n "$hello_rps" ] && ratio=$(python3 -c "print(f'{float(\"$r\") / float(\"$hello_rps\") * 100:.0f} %')")
    echo "| $b | $s | $r | $p50 | $p99 | $e | $ratio |"
  done
  echo
  for db in "${backends[@]}"; do
    echo "- $db: start-up to the first answered request ${startup[$db]} s; peak server RSS ${rss[$db]} MB"
  done
)
echo
echo "$table"

if [ "$append" = 1 ]; then
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- src migrations templates Cargo.toml || commit="$commit (with uncommitted changes)"
  {
    echo
    echo "## $(date -u +'%Y-%m-%d %H:%M UTC') — commit $commit"
    echo
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) memory,"\
      "$(uname -sr); $(wrk -v 2>&1 | head -1 | cut -c1-40); data set: $tickets tickets, $orgs organizations,"\
      "$users customers, $comments comments per ticket; $connections connections, ${duration} s per scenario."
    echo
    echo "$table"
    echo
    echo "Commands (\`$invocation\`):"
    echo
    echo '```'
    printf '%s\n' "${commands[@]}"
    echo '```'
  } >>BENCHMARKS.md
  echo "appended to BENCHMARKS.md"
fi
if [ "$quick" = 1 ]; then
  # CI: every scenario must have answered without errors.
  for row in "${results[@]}"; do
    IFS='|' read -r b s r _ _ e <<<"$row"
    [ "$e" = 0 ] || fail "$b / $s: $e errors"
    python3 -c "import sys; sys.exit(0 if float('$r') > 0 else 1)" || fail "$b / $s: no requests"
  done
  echo "quick benchmark run passed"
fi
