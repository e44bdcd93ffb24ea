#!/usr/bin/env bash
# Chamado's upload memory benchmark (see BENCHMARKS.md).
#
# Builds in release mode, starts `chamado demo` on a free loopback port with its data in a
# temporary folder, signs in as a demo customer with curl, then opens N tickets at once
# through the portal's new-ticket form, each with one file of SIZE MiB (curl -F, as a browser
# sends it), and reports the server's peak resident memory (VmHWM in /proc/<pid>/status)
# before and after, and how many uploads succeeded. Uploads are streamed to the blob store
# part by part, so the peak should stay flat whatever the file size.
#
#   bench/upload-memory.sh                     # 50 uploads of 20 MiB
#   bench/upload-memory.sh --uploads 10 --mib 5
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

uploads=50 mib=20
while [ $# -gt 0 ]; do
  case "$1" in
    --uploads) uploads=$2; shift 2 ;;
    --mib) mib=$2; shift 2 ;;
    *) echo "bench/upload-memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for n in "$uploads" "$mib"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "bench/upload-memory.sh: numbers only" >&2; exit 2; }
done

fail() { echo "bench/upload-memory.sh: $*" >&2; exit 1; }
command -v curl >/dev/null || fail "curl is not installed"
command -v python3 >/dev/null || fail "python3 is not installed (finds a free port)"
[ -r /proc/self/status ] || fail "needs Linux's /proc to read the server's memory"

echo "==> building (release)"
cargo build --release --quiet --bin chamado
bin="${CARGO_TARGET_DIR:-$root/target}/release/chamado"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Only loopback: the host is fixed here and never taken from arguments.
host=127.0.0.1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://$host:$port"
log="$work/server.log"

echo "==> starting chamado demo on $base"
CHAMADO_BIND="$host:$port" CHAMADO_BASE_URL="$base" RUST_LOG=warn \
  "$bin" demo --data-dir "$work/data" --tickets 20 >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 3000); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz" || true)" = 200 ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited; see $log"
  sleep 0.01
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz" || true)" = 200 ] ||
  fail "$base/healthz did not answer within 30 s"

# A field of /proc/<server>/status in MiB (VmHWM: peak resident memory; VmRSS: now).
memory_mib() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }
first_token() { grep -o 'name="csrf_token" value="[0-9a-f]*"' | head -1 | sed 's/.*value="\([0-9a-f]*\)"/\1/' || true; }

# Diego belongs to one organization, so the form needs no organization choice.
jar="$work/cookies"
token=$(curl -s -c "$jar" -b "$jar" "$base/login" | first_token)
[ -n "$token" ] || fail "no CSRF token on /login"
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" \
  --data-urlencode "email=diego@padaria.example" --data-urlencode "password=chamado-demo" \
  --data-urlencode "csrf_token=$token" "$base/login")
[ "$code" = 303 ] || fail "login answered $code"
csrf=$(curl -s -b "$jar" "$base/portal/tickets/new" | first_token)
[ -n "$csrf" ] || fail "no CSRF token on the new-ticket form"

file="$work/upload.bin"
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$file"

# First, four anonymous 200 MiB bodies at once, as an attacker would send them: to the
# widget's JSON sign-in, streamed without a length, and to the login form, with one declared.
# Each is refused after its route's 128 KiB.
hwm_start=$(memory_mib VmHWM)
echo "==> 4 anonymous 200 MiB bodies at once (peak RSS so far: $hwm_start MiB)"
pids=()
for i in 1 2; do
  head -c $((200 * 1024 * 1024)) /dev/zero |
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -T - -H 'Content-Type: application/json' \
      "$base/widget/session" >"$work/anon-$i" 2>/dev/null &
  pids+=($!)
done
head -c $((200 * 1024 * 1024)) /dev/zero >"$work/zeros"
for i in 3 4; do
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "@$work/zeros" "$base/login?jwt=x" >"$work/anon-$i" 2>/dev/null &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
rm -f "$work/zeros"
hwm_anonymous=$(memory_mib VmHWM)
echo "    answers: $(cat "$work"/anon-* | sort | uniq -c | tr '\n' ' ')peak RSS after: $hwm_anonymous MiB"

hwm_before=$(memory_mib VmHWM)
rss_before=$(memory_mib VmRSS)
echo "==> $uploads concurrent uploads of $mib MiB (peak RSS so far: $hwm_before MiB)"
started=$(date +%s.%N)
pids=()
for i in $(seq 1 "$uploads"); do
  key=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  # The CSRF token goes first: the server checks it before reading any file.
  curl -s -o /dev/null -w '%{http_code}\n' -b "$jar" \
    -F "csrf_token=$csrf" -F "submission_key=$key" -F "ticket_type=support" \
    -F "subject=Upload de teste $i" -F "description=Arquivo grande para o teste de memória." \
    -F "attachments=@$file;type=application/octet-stream;filename=teste-$i.bin" \
    "$base/portal/tickets" >"$work/status-$i" 2>/dev/null &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
elapsed=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
hwm_after=$(memory_mib VmHWM)
rss_after=$(memory_mib VmRSS)
ok=$(cat "$work"/status-* | grep -c '^303$' || true)
stored=$(find "$work/data/files" -type f -size "$((mib * 1024))k" | wc -l)

echo
echo "| uploads | file size | succeeded (303) | files stored | peak RSS before | peak RSS after | RSS after | time |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $uploads concurrent | $mib MiB | $ok | $stored | $hwm_before MiB | $hwm_after MiB | $rss_after MiB | ${elapsed} s |"
echo
echo "Four anonymous 200 MiB bodies: peak RSS $hwm_start MiB before, $hwm_anonymous MiB after."
echo
echo "RSS before the uploads: $rss_before MiB. Other answers: $(cat "$work"/status-* | grep -v '^303$' | sort | uniq -c | tr '\n' ' ')"
