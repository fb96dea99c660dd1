#!/usr/bin/env bash
# Loopback load benchmark: GET /api/data unauthenticated, behind an Auth0.Minimal session, behind ASP.NET Core's
# Cookies handler (each under the JIT and as a Native AOT binary) and behind the nextjs-auth0 session store on
# node:http. Servers run on one core, wrk on the other. See bench/load/README.md.
#
#   bench/load/run.sh                 # full run: 5 s warm-up (10 s JIT) and 3 x 10 s per target, medians and ratios
#   bench/load/run.sh --smoke         # 1 s per target, checks only that everything answers 200
#   options: --no-build (reuse artifacts/loadbench), --no-aot, --extra (adds the targets with rolling sessions off
#            and the no-auth endpoint sent the session cookie),
#            --duration S, --runs N, --warmup S, --connections N
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/artifacts/loadbench"
smoke=0 build=1 aot=1 extra=0 duration=10 runs=3 warmup=5 connections=32
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --no-build) build=0 ;;
    --no-aot) aot=0 ;;
    --extra) extra=1 ;;
    --duration) duration=$2; shift ;;
    --runs) runs=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    --connections) connections=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ "$smoke" = 1 ]; then duration=1 runs=1 warmup=0; fi

server_core=1 client_core=0
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The session cookie is encrypted with this; the nextjs-auth0 server reads it with the same secret.
export AUTH0_SECRET=load-bench-secret-0123456789abcdefghijklmnopqrstuvwxyz
mkdir -p "$out/logs"
started=$SECONDS

fail() { echo "run.sh: $*" >&2; exit 1; }
step() { printf '== %s (%ds)\n' "$*" $((SECONDS - started)) >&2; }

[ "$(nproc)" -ge 2 ] || fail "needs two cores (server on core $server_core, wrk on core $client_core)"
if ! command -v wrk >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || fail "wrk is missing: apt-get install wrk"
  step "installing wrk"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >"$out/logs/apt.log" 2>&1 \
    || fail "apt-get install wrk failed (see $out/logs/apt.log)"
fi
if [ ! -d "$here/node_modules/@auth0/nextjs-auth0" ]; then
  step "npm ci in bench/load"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$out/logs/npm.log" 2>&1 || fail "npm ci failed (see $out/logs/npm.log)"
fi

project="$root/bench/Auth0.Minimal.LoadServer"
jit_bin="$project/bin/Release/net10.0/Auth0.Minimal.LoadServer"
aot_bin="$out/aot/Auth0.Minimal.LoadServer"
if [ "$build" = 1 ]; then
  step "dotnet build (JIT)"
  dotnet build "$project" -c Release -nologo >"$out/logs/build-jit.log" 2>&1 || { tail -30 "$out/logs/build-jit.log"; fail "build failed"; }
  grep -qE ' warning [A-Z]+[0-9]+' "$out/logs/build-jit.log" && fail "the build printed warnings (see $out/logs/build-jit.log)"
  if [ "$aot" = 1 ]; then
    step "dotnet publish (Native AOT)"
    rm -rf "$out/aot"
    dotnet publish "$project" -c Release -r linux-x64 -o "$out/aot" -p:CppCompilerAndLinker=gcc -p:TreatWarningsAsErrors=true -nologo \
      >"$out/logs/publish-aot.log" 2>&1 || { tail -30 "$out/logs/publish-aot.log"; fail "AOT publish failed"; }
    grep -qE ' warning [A-Z]+[0-9]+' "$out/logs/publish-aot.log" && fail "the AOT publish printed warnings (see $out/logs/publish-aot.log)"
  fi
fi
[ -x "$jit_bin" ] || fail "$jit_bin is missing (run without --no-build)"
[ "$aot" = 0 ] || [ -x "$aot_bin" ] || fail "$aot_bin is missing (run without --no-build)"

# name | command (the port is appended) | cookie kind
targets=("jit-none|$jit_bin --mode none --port|none" "jit-auth0|$jit_bin --mode auth0 --port|auth0" "jit-cookies|$jit_bin --mode cookies --port|cookies")
[ "$aot" = 1 ] && targets+=("aot-none|$aot_bin --mode none --port|none" "aot-auth0|$aot_bin --mode auth0 --port|auth0" "aot-cookies|$aot_bin --mode cookies --port|cookies")
targets+=("nextjs|node $here/nextjs-server.mjs --port|auth0")
if [ "$extra" = 1 ]; then
  # The endpoint without auth, sent the session cookie anyway: what carrying the header costs on its own.
  targets+=("jit-none-cookie|$jit_bin --mode none --port|none-cookie")
  [ "$aot" = 1 ] && targets+=("aot-none-cookie|$aot_bin --mode none --port|none-cookie")
  targets+=("jit-auth0-static|$jit_bin --mode auth0 --no-rolling --port|auth0")
  [ "$aot" = 1 ] && targets+=("aot-auth0-static|$aot_bin --mode auth0 --no-rolling --port|auth0")
  targets+=("nextjs-static|node $here/nextjs-server.mjs --no-rolling --port|auth0")
fi

declare -A pid port cookie results p50 cpu
cleanup() { for name in "${!pid[@]}"; do kill "${pid[$name]}" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
status_of() { # url [cookie]
  if [ -n "${2:-}" ]; then curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $2" "$1"; else curl -s -o /dev/null -w '%{http_code}' "$1"; fi
}

step "session cookie from the runtime's test helper"
auth0_cookie=$("$jit_bin" --mode auth0 --print-cookie) || fail "--print-cookie failed"
bytes_json=$(node "$here/cookie-bytes.mjs" <<<"$auth0_cookie") || fail "nextjs-auth0 could not read the Auth0.Minimal cookie"

step "starting ${#targets[@]} servers on core $server_core"
for entry in "${targets[@]}"; do
  IFS='|' read -r name command kind <<<"$entry"
  port[$name]=$(free_port)
  # shellcheck disable=SC2086 # the command is a word list by design
  taskset -c "$server_core" $command "${port[$name]}" >"$out/logs/$name.log" 2>&1 &
  pid[$name]=$!
done
for entry in "${targets[@]}"; do
  IFS='|' read -r name command kind <<<"$entry"
  url="http://127.0.0.1:${port[$name]}/api/data"
  code=000
  for _ in $(seq 1 300); do
    code=$(status_of "$url" || true)
    [ "$code" != 000 ] && break
    kill -0 "${pid[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  [ "$code" != 000 ] || { cat "$out/logs/$name.log"; fail "$name did not start"; }
  case "$kind" in
    none) cookie[$name]="" ;;
    none-cookie) cookie[$name]=$auth0_cookie ;;
    auth0) cookie[$name]=$auth0_cookie ;;
    cookies)
      cookie[$name]=$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:${port[$name]}/setup/sign-in" \
        | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | paste -sd ';' | sed 's/;/; /g')
      [ -n "${cookie[$name]}" ] || fail "$name: sign-in set no cookie" ;;
  esac
  # The guard must actually guard: no cookie is a 401 wherever a session is required.
  if [ "$kind" != none ] && [ "$kind" != none-cookie ]; then
    code=$(status_of "$url")
    [ "$code" = 401 ] || fail "$name answered $code without a session (expected 401)"
  fi
  code=$(status_of "$url" "${cookie[$name]}")
  [ "$code" = 200 ] || fail "$name answered $code with the session (expected 200)"
done

clock_ticks=$(getconf CLK_TCK)
# CPU time (user + system, all threads) the server has used, in clock ticks; the comm field may contain spaces.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# One wrk run; sets run_rps, run_p50 and run_cpu (server CPU microseconds per request). Every response must be
# exactly 200 and no socket may fail. CPU per request does not drop when other work on the machine takes the
# server's core away, so it is the steadier number on a shared machine.
run_wrk() { # name seconds
  local name=$1 seconds=$2 args line before after
  args=(-t1 -c"$connections" -d"${seconds}s" -s "$here/check.lua")
  [ -n "${cookie[$name]}" ] && args+=(-H "Cookie: ${cookie[$name]}")
  before=$(cpu_ticks "${pid[$name]}")
  line=$(taskset -c "$client_core" wrk "${args[@]}" "http://127.0.0.1:${port[$name]}/api/data" | grep '^WRK_RESULT') \
    || fail "$name: wrk printed no result"
  after=$(cpu_ticks "${pid[$name]}")
  local requests duration non200 socket
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
  duration=$(sed -n 's/.*duration_us=\([0-9]*\).*/\1/p' <<<"$line")
  non200=$(sed -n 's/.*non200=\([0-9]*\).*/\1/p' <<<"$line")
  socket=$(sed -n 's/.*socket_errors=\([0-9]*\).*/\1/p' <<<"$line")
  [ "$requests" -gt 0 ] || fail "$name: no requests completed"
  [ "$non200" = 0 ] || fail "$name: $non200 of $requests responses were not 200"
  [ "$socket" = 0 ] || fail "$name: $socket socket errors"
  run_rps=$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
  run_cpu=$(awk -v t=$((after - before)) -v hz="$clock_ticks" -v r="$requests" 'BEGIN { printf "%.1f", t / hz * 1e6 / r }')
  run_p50=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$line")
}

if [ "$warmup" -gt 0 ]; then
  # Tiered compilation shares the server's one core with the requests, so the JIT targets get twice as long.
  step "warm-up, ${warmup} s each ($((2 * warmup)) s for the JIT targets)"
  for entry in "${targets[@]}"; do
    IFS='|' read -r name _ _ <<<"$entry"
    case "$name" in jit-*) run_wrk "$name" $((2 * warmup)) ;; *) run_wrk "$name" "$warmup" ;; esac
  done
fi
# Round-robin over the targets, so drift in the machine's load spreads over all of them.
for run in $(seq 1 "$runs"); do
  step "run $run of $runs, ${duration} s each, wrk -t1 -c$connections"
  for entry in "${targets[@]}"; do
    IFS='|' read -r name _ _ <<<"$entry"
    run_wrk "$name" "$duration"
    results[$name]="${results[$name]:-} $run_rps"
    p50[$name]="${p50[$name]:-} $run_p50"
    cpu[$name]="${cpu[$name]:-} $run_cpu"
    printf '   %-18s %8s req/s %8s us CPU/request\n' "$name" "$run_rps" "$run_cpu" >&2
  done
done
cleanup
trap - EXIT

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
declare -A med medcpu
for entry in "${targets[@]}"; do
  IFS='|' read -r name _ _ <<<"$entry"
  med[$name]=$(median "${results[$name]}")
  medcpu[$name]=$(median "${cpu[$name]}")
done

if [ "$smoke" = 1 ]; then
  for entry in "${targets[@]}"; do IFS='|' read -r name _ _ <<<"$entry"; printf '%-18s 200 OK (%s req/s over 1 s)\n' "$name" "${med[$name]}"; done
  echo "smoke: ${#targets[@]} targets answered 200 to every request ($((SECONDS - started)) s)"
  exit 0
fi

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$root" rev-parse --short HEAD), $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dotnet $(dotnet --version), node $(node --version), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); server on core $server_core, wrk -t1 -c$connections -d${duration}s on core $client_core, ${warmup} s warm-up ($((2 * warmup)) s JIT), $runs runs round-robin"
echo
echo "| Target | Runs (req/s) | Median req/s | p50 latency | Server CPU per request (runs) | Median CPU |"
echo "|---|---|---:|---:|---|---:|"
for entry in "${targets[@]}"; do
  IFS='|' read -r name _ _ <<<"$entry"
  printf '| %s | %s | %s | %s ms | %s | %s us |\n' "$name" "$(sed 's/^ //; s/ /, /g' <<<"${results[$name]}")" "${med[$name]}" \
    "$(awk -v p="$(median "${p50[$name]}")" 'BEGIN { printf "%.2f", p / 1000 }')" "$(sed 's/^ //; s/ /, /g' <<<"${cpu[$name]}")" "${medcpu[$name]}"
done
echo
# Throughput ratios from the req/s medians; the same ratios from CPU per request (b's CPU / a's CPU) beside them.
pair() { # label a b target
  local j a
  j="$(ratio "${med[jit-$2]:-}" "${med[jit-$3]:-}") | $(ratio "${medcpu[jit-$3]:-}" "${medcpu[jit-$2]:-}")"
  a="$(ratio "${med[aot-$2]:-}" "${med[aot-$3]:-}") | $(ratio "${medcpu[aot-$3]:-}" "${medcpu[aot-$2]:-}")"
  echo "| $1 | $j | $a | $4 |"
}
med[jit-nextjs]=${med[nextjs]}; med[aot-nextjs]=${med[nextjs]}; medcpu[jit-nextjs]=${medcpu[nextjs]}; medcpu[aot-nextjs]=${medcpu[nextjs]}
echo "| Ratio | JIT req/s | JIT CPU | AOT req/s | AOT CPU | Target |"
echo "|---|---:|---:|---:|---:|---|"
pair "auth0 / none" auth0 none ">= 0.70"
pair "auth0 / cookies" auth0 cookies ">= 2"
pair "auth0 / nextjs" auth0 nextjs ">= 7"
if [ "$extra" = 1 ]; then
  med[jit-nextjs-static]=${med[nextjs-static]}; med[aot-nextjs-static]=${med[nextjs-static]}
  medcpu[jit-nextjs-static]=${medcpu[nextjs-static]}; medcpu[aot-nextjs-static]=${medcpu[nextjs-static]}
  pair "none-cookie / none (the Cookie header alone)" none-cookie none ""
  pair "auth0 / none-cookie (both sent the cookie)" auth0 none-cookie ""
  pair "auth0-static / none (rolling off)" auth0-static none ""
  pair "auth0-static / cookies (rolling off)" auth0-static cookies ""
  pair "auth0-static / nextjs-static (rolling off)" auth0-static nextjs-static ""
fi
echo
aspnet_cookie=${cookie[jit-cookies]}
field() { node -e 'const j=JSON.parse(process.argv[1]); console.log(process.argv[2].split(".").reduce((o,k)=>o[k],j))' "$bytes_json" "$1"; }
echo "Cookie header the browser sends back for the same user and tokens (session JSON $(field sessionJsonBytes) bytes):"
echo
echo "| Format | Bytes | Cookies |"
echo "|---|---:|---:|"
echo "| Auth0.Minimal \`__session\` (JWE dir+A256GCM) | $(field ours.bytes) | $(field ours.cookies) |"
echo "| nextjs-auth0 4.30.0 \`__session\` (same session written by the package) | $(field nextjs.bytes) | $(field nextjs.cookies) |"
echo "| ASP.NET Core Cookies, tokens in the ticket (DataProtection) | ${#aspnet_cookie} | $(tr ';' '\n' <<<"$aspnet_cookie" | grep -c .) |"
echo
echo "total $((SECONDS - started)) s"
