"""`make bench`: search latency at 10,000 and 100,000 services, measured from outside.

Loads made-up services (manage.py seed_demo) into a scratch PostgreSQL database, serves
the site with gunicorn on loopback, times sequential requests with a plain HTTP client
(round after round of every request in turn), prints a table and writes
bench/results.json.
"""

import argparse
import datetime
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST, PORT = "127.0.0.1", 8765

# The same searches are asked of the API and of the search page.
SEARCHES = {
    "one word": {"q": "shelter"},
    "one broad word (a quarter of all services)": {"q": "legal"},
    "two words + need + population": {
        "q": "legal clinic",
        "need": "legal-aid",
        "population": "women",
    },
    "synonym": {"q": "lawyer"},
    "typo": {"q": "counceling"},
    "place (state)": {"state": "IL"},
    "place (ZIP)": {"postal_code": "60601"},
    # Measured at the moment the bench runs: on a weekday afternoon most services are
    # open, at night only those open 24/7 (the table says when it ran).
    "open now + language": {"open_now": "true", "language": "es"},
    "no query": {},
    "deep page": {"q": "housing", "page": "40"},
}
TARGETS_MS = {"api": 50, "page": 80}
TIME_ZONE = "America/Chicago"  # the server's, in which "open now" is reckoned


def run(*args, env):
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, check=True)


def get(path):
    connection = http.client.HTTPConnection(HOST, PORT, timeout=30)
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {body[:300]!r}")
    return elapsed


def summarize(timings):
    timings = sorted(timings)
    return {
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 1),
        "requests": len(timings),
    }


def measure_all(repeat):
    paths = {"floor": "/healthz"}
    for name, params in SEARCHES.items():
        query = urllib.parse.urlencode(params)
        paths[f"api: {name}"] = f"/api/v1/services/?{query}"
        paths[f"page: {name}"] = f"/?{query}"
    for path in paths.values():
        for _ in range(3):
            get(path)  # warm caches and connections
    # Round after round of every request in turn, as mixed traffic would come: a slow
    # moment on a shared machine then falls on all of them alike, not on one's block.
    timings = {name: [] for name in paths}
    for _ in range(repeat):
        for name, path in paths.items():
            timings[name].append(get(path))
    return {name: summarize(times) for name, times in timings.items()}


def serve(env):
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "directory.wsgi",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            get("/healthz")
            return server
        except (OSError, RuntimeError):
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--database", default="directory_bench")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{args.database}",
        DEBUG="false",
        SECRET_KEY="benchmark-only",
        ALLOWED_HOSTS=HOST,
        API_ANON_RATE="1000000/min",
        TIME_ZONE=TIME_ZONE,
        # As in production: throttle counts in Redis, one round trip rather than six
        # database queries per API request.
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", args.database], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", args.database], check=True)
    run("migrate", "--no-input", "-v", "0", env=env)
    run("createcachetable", env=env)
    run("loaddata", "taxonomy", "synonyms", "-v", "0", env=env)

    report, loaded = {}, 0
    for seed, size in enumerate(sizes, start=1):
        started = time.monotonic()
        run("seed_demo", "--services", str(size - loaded), "--seed", str(seed), env=env)
        load_seconds = round(time.monotonic() - started, 1)
        loaded = size
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-q",
                "-d",
                args.database,
                # Compacts what seeding wrote twice (rows, then their search vectors),
                # as a freshly restored production database would be; then a plain
                # VACUUM sets the visibility map (VACUUM FULL leaves it empty), as
                # autovacuum keeps it in production, so index-only scans can be used.
                "-c",
                "VACUUM FULL",
                "-c",
                "VACUUM ANALYZE",
            ],
            check=True,
        )
        server = serve(env)
        try:
            started_at = datetime.datetime.now(ZoneInfo(TIME_ZONE))
            report[size] = {
                "load_seconds": load_seconds,
                "measured_at": started_at.isoformat(timespec="minutes"),
                "results": measure_all(args.repeat),
            }
        finally:
            server.terminate()
            server.wait()

    print_table(report)
    check_targets(report)
    output = ROOT / "bench" / "results.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {output.relative_to(ROOT)}")


def print_table(report):
    sizes = list(report)
    header = f"{'request':42}" + "".join(f"{f'{s:,} median / p95 ms':>26}" for s in sizes)
    print("\n" + header + "\n" + "-" * len(header))
    for name in report[sizes[0]]["results"]:
        figures = [report[size]["results"][name] for size in sizes]
        cells = "".join(f"{f['median_ms']:>14.1f} / {f['p95_ms']:<9.1f}" for f in figures)
        print(f"{name:42}{cells}")
    for size in sizes:
        print(f"load of {size:,} services: {report[size]['load_seconds']} s (cumulative seeding)")
    for size in sizes:
        when = datetime.datetime.fromisoformat(report[size]["measured_at"])
        print(f"{size:,} services measured {when:%A %H:%M} ({TIME_ZONE}), for open now")


def check_targets(report):
    largest, smallest = max(report), min(report)
    misses = []
    for name, figures in report[largest]["results"].items():
        kind = name.split(":")[0]
        if kind in TARGETS_MS and figures["p95_ms"] > TARGETS_MS[kind]:
            misses.append(f"{name}: p95 {figures['p95_ms']} ms > {TARGETS_MS[kind]} ms")
        small = report[smallest]["results"][name]["p95_ms"]
        if largest != smallest and kind in TARGETS_MS and figures["p95_ms"] > 2 * small:
            misses.append(f"{name}: p95 grew {figures['p95_ms'] / small:.1f}x with 10x the data")
    print("\ntargets: " + ("all met" if not misses else "missed:\n  " + "\n  ".join(misses)))


if __name__ == "__main__":
    sys.exit(main())
