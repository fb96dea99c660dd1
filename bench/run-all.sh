#!/usr/bin/env bash
# The whole benchmark set on one machine, each part with its baseline in the same run (about 10 minutes on 2 cores):
#   1. cookie decode/encode against ASP.NET Core's ticket format, chunk reassembly, DPoP proofs, cached tokens and the
#      64-caller refresh (BenchmarkDotNet, short job);
#   2. the loopback load test against no auth, ASP.NET Core Cookies and nextjs-auth0, JIT and Native AOT (two runs);
#   3. the Native AOT footprint of the sample against a plain ASP.NET Core Cookies + OpenIdConnect app.
# Results: BenchmarkDotNet.Artifacts/results, artifacts/loadbench, and the footprint table printed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$SECONDS
echo "== micro benchmarks"
dotnet run -c Release --project bench/Auth0.Minimal.Benchmarks -- --job short \
  --filter '*SessionCodec*' '*ChunkReassembly*' '*DPoPProof*' '*CachedAccessToken*' '*SingleFlight*'
echo "== load test ($((SECONDS - started)) s)"
bash bench/load/run.sh --runs 2
echo "== Native AOT footprint ($((SECONDS - started)) s)"
python3 bench/aot-footprint.py 3
echo "== done in $((SECONDS - started)) s"
