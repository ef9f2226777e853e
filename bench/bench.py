"""`make bench`: search latency at 10,000 and 100,000 made-up services, from outside.

Loads made-up services (manage.py seed_demo) into a scratch database on the same server
the site uses (the embedded one, or DATABASE_URL's), serves the site with gunicorn on
loopback, and times sequential requests with a plain HTTP client, round after round of
every request in turn. Prints a table and writes bench/results.json.

Then, at each size, the directory is exported as an HSDS package (manage.py export_hsds)
and imported into an empty scratch database, then imported again (which changes
nothing), each import in a process of its own (bench/import_once.py): its time and peak
memory. `--no-import` skips this part.

`--compare NAME=REF` serves the code of a git commit too, from a scratch worktree,
against the same database, and asks it every request in the same rounds: an A/B in one
run, so that the machine's drift falls on both columns alike. Repeat it for more.
"""

import argparse
import datetime
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from directory.database import database_settings  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST, FIRST_PORT = "127.0.0.1", 8765

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
    "near a ZIP code (25 miles)": {"near": "60601"},
    # A broad filter alone: a listing by name of one service in eleven.
    "language": {"language": "es"},
    # Measured at the moment the bench runs: on a weekday afternoon most services are
    # open, at night only those open 24/7 (the table says when it ran).
    "open now + language": {"open_now": "true", "language": "es"},
    "no query": {},
    "deep page": {"q": "housing", "page": "40"},
}
TARGETS_MS = {"api": 50, "page": 80}
# 100,000 services "well under two minutes with bounded memory" (issue 19).
IMPORT_TARGET_SECONDS = 120
IMPORT_TARGET_MB = 512
TIME_ZONE = "America/Chicago"  # the server's, in which "open now" is reckoned


def database_url(name):
    """A URL for database `name` on the site's own server (the embedded one by default)."""
    config = database_settings(ROOT)
    host = urllib.parse.quote(str(config["HOST"]), safe="")
    user = config["USER"]
    if config.get("PASSWORD"):
        user += ":" + urllib.parse.quote(config["PASSWORD"], safe="")
    return f"postgres://{user}@{host}:{config['PORT']}/{name}"


def admin(url, *statements):
    """Run statements outside a transaction (CREATE DATABASE, VACUUM)."""
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def run(*args, env, cwd=ROOT):
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=cwd, env=env, check=True)


def fresh_database(name, env):
    """An empty database `name` (env's DATABASE_URL), migrated, with the cache table."""
    admin(
        database_url("postgres"),
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}"',
    )
    run("migrate", "--no-input", "-v", "0", env=env)
    run("createcachetable", env=env)


def get(port, path):
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
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


def request_paths():
    paths = {"floor": "/healthz"}
    for name, params in SEARCHES.items():
        query = urllib.parse.urlencode(params)
        paths[f"api: {name}"] = f"/api/v1/services/?{query}"
        paths[f"page: {name}"] = f"/?{query}"
    return paths


def measure(servers, repeat):
    """{variant: {request: figures}}, every request asked of every variant in each round."""
    paths = request_paths()
    answers = {variant: set() for variant in servers}  # what code of another commit knows
    for variant, port in servers.items():
        for name, path in paths.items():
            try:
                for _ in range(3):
                    get(port, path)  # warm caches and connections
            except RuntimeError as error:
                print(f"{variant} does not answer {name}: {error}")
            else:
                answers[variant].add(name)
    timings = {variant: {name: [] for name in answers[variant]} for variant in servers}
    # Round after round of every request in turn, as mixed traffic would come: a slow
    # moment on a shared machine then falls on all of them alike, not on one's block.
    # The variants take turns at asking first, which costs more (the database has not
    # just answered the same question).
    order = list(servers.items())
    for round_number in range(repeat):
        turn = round_number % len(order)
        for name, path in paths.items():
            for variant, port in order[turn:] + order[:turn]:
                if name in answers[variant]:
                    timings[variant][name].append(get(port, path))
    return {
        variant: {name: summarize(times) for name, times in requests.items()}
        for variant, requests in timings.items()
    }


def serve(code, port, env):
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "directory.wsgi",
            "--chdir",
            str(code),
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=code,
        env=env,
    )
    for _ in range(200):
        try:
            get(port, "/healthz")
            return server
        except (OSError, RuntimeError):
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"gunicorn did not start for {code}")


def worktree(name, ref):
    path = Path("/tmp") / f"bench-{name}"
    subprocess.run(
        ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True
    )
    subprocess.run(["git", "worktree", "add", "--detach", str(path), ref], cwd=ROOT, check=True)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--database", default="directory_bench")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=REF")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--no-import", action="store_true", help="skip the HSDS import")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    variants = {"this": ROOT}
    for spec in args.compare:
        name, ref = spec.split("=", 1)
        variants[name] = worktree(name, ref)

    if args.database == database_settings(ROOT)["NAME"]:
        sys.exit(f"{args.database} is the site's own database: the bench drops and refills it.")
    url = database_url(args.database)
    maintenance = database_url("postgres")
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY="benchmark-only",
        ALLOWED_HOSTS=HOST,
        HTTPS="false",  # plain HTTP on loopback, where production has a TLS proxy
        API_ANON_RATE="1000000/min",
        TIME_ZONE=TIME_ZONE,
        # As in production: throttle counts in Redis, one round trip rather than six
        # database queries per API request.
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
    )
    try:
        run("collectstatic", "--no-input", "-v", "0", env=env)  # as make serve does
        fresh_database(args.database, env)
        run("loaddata", "taxonomy", "synonyms", "-v", "0", env=env)
        imports = None if args.no_import else f"{args.database}_import"
        report = bench(sizes, variants, args.repeat, url, env, imports)
    finally:
        if not args.keep:
            admin(maintenance, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin(maintenance, f'DROP DATABASE IF EXISTS "{args.database}_import" WITH (FORCE)')
    print_table(report, list(variants))
    check_targets(report)
    output = ROOT / "bench" / "results.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {output.relative_to(ROOT)}")


def bench(sizes, variants, repeat, url, env, imports):
    report, loaded = {}, 0
    for seed, size in enumerate(sizes, start=1):
        started = time.monotonic()
        run("seed_demo", "--services", str(size - loaded), "--seed", str(seed), env=env)
        load_seconds = round(time.monotonic() - started, 1)
        loaded = size
        # Compacts what seeding wrote twice (rows, then their search vectors), as a freshly
        # restored production database would be; then a plain VACUUM sets the visibility
        # map (VACUUM FULL leaves it empty), as autovacuum keeps it in production, so
        # index-only scans can be used.
        admin(url, "VACUUM FULL", "VACUUM ANALYZE")
        servers = {}
        try:
            for port, (name, code) in enumerate(variants.items(), start=FIRST_PORT):
                servers[name] = (serve(code, port, env), port)
            started_at = datetime.datetime.now(ZoneInfo(TIME_ZONE))
            report[size] = {
                "load_seconds": load_seconds,
                "measured_at": started_at.isoformat(timespec="minutes"),
                "results": measure({name: port for name, (_, port) in servers.items()}, repeat),
            }
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait()
        if imports:
            report[size]["import"] = bench_import(env, imports)
    return report


def bench_import(env, database):
    """Export the bench database as an HSDS package, import it into an empty database,
    then import it again."""
    work = Path(tempfile.mkdtemp(prefix="bench-hsds-"))
    target = {**env, "DATABASE_URL": database_url(database)}
    try:
        started = time.monotonic()
        run("export_hsds", str(work / "package"), env=env)
        export_seconds = round(time.monotonic() - started, 1)
        fresh_database(database, target)
        run("loaddata", "taxonomy", "-v", "0", env=target)
        imports = {}
        for name in ("into an empty directory", "again (changes nothing)"):
            output = subprocess.run(
                [str(PYTHON), str(ROOT / "bench" / "import_once.py"), str(work / "package")],
                cwd=ROOT,
                env=target,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            imports[name] = json.loads(output.splitlines()[-1])
        return {"export_seconds": export_seconds, "imports": imports}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_table(report, variants):
    for size, run_report in report.items():
        header = f"{size:,} services" + "".join(
            f"{name + ': median / p95 ms':>30}" for name in variants
        )
        print("\n" + header + "\n" + "-" * len(header))
        results = run_report["results"]
        for request in results[variants[0]]:
            cells = "".join(
                f"{results[v][request]['median_ms']:>18.1f} / {results[v][request]['p95_ms']:<9.1f}"
                if request in results[v]
                else f"{'n/a':>30}"
                for v in variants
            )
            print(f"{request:46}{cells}")
        when = datetime.datetime.fromisoformat(run_report["measured_at"])
        print(
            f"seeding: {run_report['load_seconds']} s (cumulative); measured {when:%A %H:%M} "
            f"({TIME_ZONE}), for open now"
        )
        if "import" in run_report:
            figures = run_report["import"]
            print(f"HSDS package: exported in {figures['export_seconds']} s")
            for name, done in figures["imports"].items():
                print(f"  imported {name}: {done['seconds']} s, peak {done['peak_mb']} MB")


def check_targets(report):
    largest, smallest = max(report), min(report)
    misses = []
    for name, figures in report[largest]["results"]["this"].items():
        kind = name.split(":")[0]
        if kind in TARGETS_MS and figures["p95_ms"] > TARGETS_MS[kind]:
            misses.append(f"{name}: p95 {figures['p95_ms']} ms > {TARGETS_MS[kind]} ms")
        small = report[smallest]["results"]["this"][name]["p95_ms"]
        if largest != smallest and kind in TARGETS_MS and figures["p95_ms"] > 2 * small:
            misses.append(f"{name}: p95 grew {figures['p95_ms'] / small:.1f}x with 10x the data")
    imported = report[largest].get("import")
    if imported:
        first = imported["imports"]["into an empty directory"]
        if first["seconds"] > IMPORT_TARGET_SECONDS or first["peak_mb"] > IMPORT_TARGET_MB:
            misses.append(
                f"import of {largest:,}: {first['seconds']} s, {first['peak_mb']} MB "
                f"> {IMPORT_TARGET_SECONDS} s, {IMPORT_TARGET_MB} MB"
            )
    print("\ntargets: " + ("all met" if not misses else "missed:\n  " + "\n  ".join(misses)))


if __name__ == "__main__":
    sys.exit(main())
