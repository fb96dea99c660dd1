#!/usr/bin/env python3
"""Native AOT footprint: binary size, launch-to-first-login-redirect time and RSS, for the sample and for a plain
ASP.NET Core Cookies + OpenIdConnect app, both published the same way and run against the same local provider.

    python3 bench/aot-footprint.py [runs]      # publishes both into artifacts/footprint first
"""
import json, os, socket, subprocess, sys, time, urllib.request, urllib.error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "artifacts", "footprint")
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
APPS = {
    "Auth0.Minimal sample": ("samples/Auth0.Minimal.Sample", "Auth0.Minimal.Sample", ["-p:TreatWarningsAsErrors=true"]),
    "ASP.NET Cookies + OpenIdConnect": ("bench/Baselines/PlainOidcCookies", "PlainOidcCookies", []),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def first_redirect(url, deadline):
    opener = urllib.request.build_opener(NoRedirect)
    while time.monotonic() < deadline:
        try:
            opener.open(url, timeout=2)
        except urllib.error.HTTPError as e:
            if 300 <= e.code < 400:
                return e.code
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.005)
    raise TimeoutError(url)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    warnings = {}
    for name, (project, binary, extra) in APPS.items():
        target = os.path.join(OUT, binary)
        log = subprocess.run(["dotnet", "publish", os.path.join(ROOT, project), "-c", "Release", "-r", "linux-x64", "-o", target,
                              "-p:CppCompilerAndLinker=gcc", "-nologo", *extra], capture_output=True, text=True)
        if log.returncode != 0:
            sys.exit(log.stdout + log.stderr)
        warnings[name] = sum(1 for line in log.stdout.splitlines() if " warning IL" in line)

    idp = subprocess.Popen(["node", os.path.join(ROOT, "tools", "local-idp", "server.mjs"), "--port", "0", "--exit-on-stdin-close"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = idp.stdout.readline()
    issuer = json.loads(ready.split(" ", 1)[1])["issuer"]
    print(f"machine: {os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}; provider {issuer}; {RUNS} runs each\n")
    print("| app | binary (MB) | IL warnings | launch to first login redirect (ms, median / min) | RSS after (MB, median) |")
    print("|---|---|---|---|---|")
    try:
        for name, (_, binary, _) in APPS.items():
            path = os.path.join(OUT, binary, binary)
            times, rss = [], []
            for _ in range(RUNS):
                port = free_port()
                env = dict(os.environ, AUTH0_DOMAIN=issuer, AUTH0_CLIENT_ID="auth0-minimal-sample",
                           AUTH0_CLIENT_SECRET="local-dev-client-secret-0123456789abcdef", AUTH0_ALLOW_INSECURE_REQUESTS="true",
                           AUTH0_SECRET="footprint-secret-0123456789abcdefghijklmnop", APP_BASE_URL=f"http://127.0.0.1:{port}",
                           ORDERS_API_URL=issuer)
                start = time.monotonic()
                app = subprocess.Popen([path, "--urls", f"http://127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    first_redirect(f"http://127.0.0.1:{port}/auth/login", start + 30)
                    times.append((time.monotonic() - start) * 1000)
                    rss.append(rss_mb(app.pid))
                finally:
                    app.terminate()
                    app.wait()
            size = os.path.getsize(path) / 1e6
            times.sort(); rss.sort()
            print(f"| {name} | {size:.1f} | {warnings[name]} | {times[len(times)//2]:.0f} / {times[0]:.0f} | {rss[len(rss)//2]:.0f} |")
    finally:
        idp.stdin.close()
        idp.wait()


if __name__ == "__main__":
    main()
