"""`make loadtest`: throughput of the production server under concurrent searches.

Serves the site exactly as `make serve` does, on loopback, against a scratch database of
100,000 made-up services (seeded as `make bench` seeds them, and kept between runs), and
drives a fixed mix of search pages, API and HSDS searches and service pages at each
concurrency in turn with wrk (a Python generator when wrk is missing): requests per
second, latency percentiles and errors, of which there must be none. Then it serves the
site again with the real limits and checks, with 32 clients at once inside one minute's
window, that no more than 5% over the limit get through. Prints a table and writes
bench/loadtest.json.
"""

import argparse
import collections
import datetime
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import psutil
import psycopg
import redis

from bench import (
    HOST,
    ROOT,
    SEARCHES,
    TIME_ZONE,
    admin,
    database_settings,
    database_url,
    fresh_database,
    get,
    run,
)

# Throughput runs: on loopback every connection is the same client, so the limits are
# raised out of reach; the rate-limit phase serves with the real ones.
UNLIMITED = "100000000/min"
# The limit of the rate-limit phase: lower than the site's default (300/min), which a slow
# machine cannot always reach within a minute's window while serving the other kind too;
# the counting is the same at any limit.
RATE = "60/min"
TOLERANCE = 0.05  # the bound: no more than 5% over the limit get through
WINDOW_USE = 45  # seconds of a minute's window the rate-limit phase may take
WRK_THREADS = 2
WRK_TIMEOUT_SECONDS = 10
SERVE_START_SECONDS = 600  # `make serve` migrates, loads the directory, collects static
# Lines of the server's log worth reporting: gunicorn's own, and Django's errors (a 503
# for a request past its deadline is logged as "ERROR django.request").
COMPLAINTS = ("WORKER TIMEOUT", "[ERROR]", "[CRITICAL]", " ERROR ")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30, help="per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--size", type=int, default=100_000, help="made-up services")
    parser.add_argument("--database", default="directory_loadtest")
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    parser.add_argument("--rate", default=RATE, help="the limit of the rate-limit phase")
    parser.add_argument(
        "--rate-seconds",
        type=int,
        default=10,
        help="at least; on until each limit is well passed, within the one minute",
    )
    parser.add_argument("--rate-clients", type=int, default=32)
    parser.add_argument("--no-throughput", action="store_true", help="skip that phase")
    parser.add_argument("--no-rate-limit", action="store_true", help="skip that phase")
    parser.add_argument("--python", action="store_true", help="the Python generator, not wrk")
    args = parser.parse_args()
    if not 0 < args.rate_seconds <= WINDOW_USE:
        parser.error(f"--rate-seconds must fit in one minute's window (at most {WINDOW_USE}).")

    if args.database == database_settings(ROOT)["NAME"]:
        sys.exit(f"{args.database} is the site's own database: the load test fills it.")
    url = database_url(args.database)
    env = dict(os.environ)
    env.update(DATABASE_URL=url, DEBUG="false", ALLOWED_HOSTS=HOST, HTTPS="false")
    env.update(TIME_ZONE=TIME_ZONE, SECRET_KEY="loadtest-only")
    seed(args.database, url, args.size, args.reseed, env)

    caches = available_caches()
    wrk = None if args.python else find_wrk()
    tool = wrk_version(wrk) if wrk else "Python generator (threads)"
    paths = request_paths(url)
    report = {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {"cores": os.cpu_count(), "load_before": os.getloadavg()},
        "services": args.size,
        "tool": tool,
        "cache": cache_name(caches[0]),
        "paths": paths,
        "throughput": {},
    }

    # As in production, the counts in Redis when it is here (docs/performance.md): on
    # loopback every request is one client's, and the database cache would make them all
    # wait for that client's one row.
    if not args.no_throughput:
        with Server(env, caches[0], UNLIMITED) as server:
            check_paths(server.port, paths)
            load(server.port, paths, min(args.concurrency), 5, wrk)  # warm up, not counted
            for concurrency in args.concurrency:
                figures = load(server.port, paths, concurrency, args.seconds, wrk)
                figures["load_after"] = os.getloadavg()
                report["throughput"][concurrency] = figures
                print_run(concurrency, figures)
            report["server"] = server.finish()

    if not args.no_rate_limit:
        report["rate_limit"] = [
            rate_limit_phase(env, cache, paths, args.rate, args.rate_clients, args.rate_seconds)
            for cache in caches
        ]

    print_table(report)
    output = ROOT / "bench" / "loadtest.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {output.relative_to(ROOT)}")
    failures = failed(report)
    if failures:
        print("\nFAIL:\n  " + "\n  ".join(failures))
        return 1
    print("\nPASS: no errors" + (", and the limits held" if "rate_limit" in report else ""))
    return 0


def seed(name, url, size, reseed, env):
    """The scratch database with `size` made-up services, seeded unless it already is.

    Seeding 100,000 takes minutes, so the database is kept; a comment on it, written
    only once seeding and vacuuming have finished, says it is complete.
    """
    maintenance = database_url("postgres")
    marker = f"loadtest: {size} made-up services, complete"
    if not reseed and seeded(maintenance, url, name, marker, size):
        print(f"reusing {name}: {size:,} made-up services")
        return
    print(f"seeding {name} with {size:,} made-up services (minutes)")
    started = time.monotonic()
    fresh_database(name, env)
    # What `make serve` loads, loaded first, so that serving writes nothing after the vacuum.
    run("load_directory", env=env)
    run("seed_demo", "--services", str(size), "--seed", "1", env=env)
    # As bench.py: compacted as a restored database would be, then vacuumed for the
    # visibility map that autovacuum keeps in production.
    admin(url, "VACUUM FULL", "VACUUM ANALYZE")
    admin(maintenance, f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    print(f"seeded in {time.monotonic() - started:.0f} s")


def seeded(maintenance, url, name, marker, size):
    with psycopg.connect(maintenance) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    if not row or row[0] != marker:
        return False
    with psycopg.connect(url) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM resources_service WHERE slug LIKE %s", ["demo-%"]
        ).fetchone()
    return count == size


def available_caches():
    """The shared caches to serve with: Redis first when it answers, then the database
    (the default when REDIS_URL is unset)."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        print(f"Redis does not answer at {url}: the database cache only")
        return ["database"]
    return [url, "database"]


def cache_name(cache):
    return "database" if cache == "database" else f"Redis ({cache})"


def request_paths(url):
    """The mix: a bounded list of what caseworkers and partner sites ask, taken in turn.

    About a third each search pages and API searches (bench.py's searches, with pages 2
    and 3), a fifth service pages, the rest HSDS searches; interleaved, so that
    concurrent clients do not all ask the same kind of question at once.
    """
    searches = [params for params in SEARCHES.values() if "page" not in params]
    searches += [
        {**SEARCHES["one word"], "page": "2"},
        {**SEARCHES["one word"], "page": "3"},
        {**SEARCHES["near a ZIP code (25 miles)"], "page": "2"},
        {"need": "housing-shelter", "population": "youth", "page": "3"},
        {"q": "housing", "near": "10001", "need": "housing-shelter"},
    ]
    queries = [f"?{urllib.parse.urlencode(params)}" if params else "" for params in searches]
    pages = [f"/{query}" for query in queries]
    api = [f"/api/v1/services/{query}" for query in queries]
    with psycopg.connect(url) as connection:
        slugs = connection.execute(
            "SELECT slug FROM resources_service WHERE slug LIKE %s ORDER BY md5(slug) LIMIT 9",
            ["demo-%"],
        ).fetchall()
    details = [f"/services/{slug}/" for (slug,) in slugs]
    hsds = [
        "/api/hsds/services",
        "/api/hsds/services?search=legal",
        "/api/hsds/services?postcode=60601&proximity=40000",
        "/api/hsds/services?search=shelter&page=2",
        "/api/hsds/services?minimal=true&per_page=50",
    ]
    kinds = [pages, api, details, hsds]
    mix = []
    for i in range(max(map(len, kinds))):
        mix += [kind[i] for kind in kinds if i < len(kind)]
    return mix


def check_paths(port, paths):
    """Every path answers 200 before any load (a 3xx or 4xx would be counted as served)."""
    for path in paths:
        get(port, path)


class Server:
    """`make serve` on a free loopback port, stopped with its whole process group."""

    def __init__(self, env, cache, rate):
        self.port = free_port()
        self.env = {
            **env,
            "HOST": HOST,
            "PORT": str(self.port),
            "API_ANON_RATE": rate,
            "SEARCH_PAGE_RATE": rate,
            # Fresh rate-limit keys: no count left in the cache by an earlier server.
            "SECRET_KEY": f"loadtest-only-{secrets.token_hex(8)}",
        }
        self.env.pop("REDIS_URL", None)
        if cache != "database":
            self.env["REDIS_URL"] = cache
        self.log = Path(tempfile.gettempdir()) / f"loadtest-serve-{self.port}.log"
        self.memory = collections.defaultdict(int)  # pid: peak RSS
        self.workers = set()

    def __enter__(self):
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + SERVE_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"make serve exited with {self.process.returncode}:\n{self.log.read_text()}"
                )
            try:
                get(self.port, "/healthz")
                break
            except (OSError, RuntimeError):
                time.sleep(0.5)
        else:
            self.stop()
            raise RuntimeError(f"make serve did not answer /healthz: see {self.log}")
        self.sampling = True
        self.sampler = threading.Thread(target=self.sample, daemon=True)
        self.sampler.start()
        return self

    def sample(self):
        """Peak memory of gunicorn's processes, and which workers there were (a worker's
        parent is gunicorn's master; the master's is make's shell)."""
        while self.sampling:
            try:
                processes = psutil.Process(self.process.pid).children(recursive=True)
                gunicorn = {p.pid: p for p in processes if p.name() == "gunicorn"}
                for pid, process in gunicorn.items():
                    rss = process.memory_info().rss
                    self.memory[pid] = max(self.memory[pid], rss)
                    if process.ppid() in gunicorn:
                        self.workers.add(pid)
            except psutil.Error:
                pass
            time.sleep(1)

    def finish(self):
        """What the server did: its workers, their memory, and what its log complained of."""
        # Not stopped by this script yet: if it has gone, something else ended it.
        stopped_early = self.process.poll() is not None
        self.sampling = False
        self.sampler.join()
        workers = {pid: rss for pid, rss in self.memory.items() if pid in self.workers}
        text = self.log.read_text(errors="replace")
        complaints = [
            line for line in text.splitlines() if any(word in line for word in COMPLAINTS)
        ]
        return {
            "stopped_early": stopped_early,
            "workers_seen": len(workers),
            "peak_worker_rss_mb": round(max(workers.values(), default=0) / 2**20),
            "peak_total_rss_mb": round(sum(self.memory.values()) / 2**20),
            "log": str(self.log),
            "log_errors": len(complaints),
            "log_complaints": complaints[:20],
        }

    def stop(self):
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=40)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # make may go before gunicorn's master has finished stopping its workers.
        for _ in range(100):
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)

    def __exit__(self, *exc):
        self.sampling = False
        self.stop()


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def load(port, paths, concurrency, seconds, wrk):
    if wrk:
        return wrk_load(wrk, port, paths, concurrency, seconds)
    return python_load(port, paths, concurrency, seconds)


# Each wrk thread takes the paths in turn from its own starting point; done() prints the
# figures as one line of JSON (latencies in microseconds; errors.status counts answers
# of 400 and over).
WRK_SCRIPT = """
local paths = {%(paths)s}
local threads = 0
local counter = 0

function setup(thread)
  thread:set("offset", threads * 7)
  threads = threads + 1
end

function init(args)
  counter = offset
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'LOADTEST {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p95_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def find_wrk():
    """wrk, installed from Debian when missing and this is root with apt-get, as .ci/run
    installs Chromium; else None (the Python generator)."""
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("== installing wrk")
        quiet = {"env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, "capture_output": True}
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet)
    if not shutil.which("wrk"):
        print("wrk is missing: the Python generator drives the load instead")
    return shutil.which("wrk")


def wrk_version(wrk):
    found = subprocess.run([wrk, "-v"], capture_output=True, text=True)
    words = (found.stdout + found.stderr).split()
    return " ".join(words[:2]) if words else "wrk"


def wrk_load(wrk, port, paths, concurrency, seconds):
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT % {"paths": ", ".join(json.dumps(path) for path in paths)})
        script.flush()
        finished = subprocess.run(
            [
                wrk,
                f"--threads={min(WRK_THREADS, concurrency)}",
                f"--connections={concurrency}",
                f"--duration={seconds}s",
                f"--timeout={WRK_TIMEOUT_SECONDS}s",
                f"--script={script.name}",
                f"http://{HOST}:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(line for line in finished.stdout.splitlines() if line.startswith("LOADTEST "))
    raw = json.loads(line.removeprefix("LOADTEST "))
    duration = raw["duration_us"] / 1e6
    return {
        "seconds": round(duration, 1),
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / duration, 1),
        **{f"{p}_ms": round(raw[f"{p}_us"] / 1000, 1) for p in ("p50", "p95", "p99", "max")},
        "non_2xx_3xx": raw["status"],
        "socket_errors": {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]},
    }


def python_load(port, paths, concurrency, seconds):
    answers = drive(port, paths, concurrency, seconds)
    latencies = sorted(answer.ms for answer in answers if answer.status)
    duration = max((answer.ended for answer in answers), default=seconds)
    return {
        "seconds": round(duration, 1),
        "requests": len(answers),
        "requests_per_second": round(len(answers) / duration, 1),
        **{
            f"p{p}_ms": round(percentile(latencies, p), 1) if latencies else None
            for p in (50, 95, 99)
        },
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "non_2xx_3xx": sum(1 for answer in answers if answer.status >= 400),
        "socket_errors": dict(collections.Counter(a.error for a in answers if a.error)),
    }


Answer = collections.namedtuple("Answer", "path status ms ended error")


def drive(port, paths, clients, seconds, enough=None, longest=None):
    """`clients` threads, each asking the paths in turn (a new connection each time, as
    gunicorn's sync workers close every one), for `seconds`, or with `enough`, on until
    enough(asked) says so of the count of requests per path, for `longest` at most:
    every answer."""
    answers, lock = [], threading.Lock()
    asked = collections.Counter()
    started = time.monotonic()
    deadline, last = started + seconds, started + (longest or seconds)

    def going():
        now = time.monotonic()
        if now < deadline:
            return True
        with lock:
            return enough is not None and now < last and not enough(asked)

    def client(number):
        mine, turn = [], number * 7
        while going():
            path = paths[turn % len(paths)]
            turn += 1
            began = time.monotonic()
            try:
                connection = http.client.HTTPConnection(HOST, port, timeout=WRK_TIMEOUT_SECONDS)
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                connection.close()
                status, error = response.status, None
            except OSError as failure:
                status, error = 0, type(failure).__name__
            now = time.monotonic()
            mine.append(Answer(path, status, (now - began) * 1000, now - started, error))
            with lock:
                asked[path] += 1
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def percentile(ordered, p):
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]


def rate_limit_phase(env, cache, paths, rate, clients, seconds):
    """The real limits, `clients` at once inside one window: per scope (the search page,
    the API), how many got through.

    The counts are per client and per window of time.time() // 60 seconds (directory/
    ratelimit.py), on this same clock. On loopback every request is one client's, so no
    more than the limit should get through. The workers are warmed first (a cold one can
    take longer than the 1.8 seconds a request may run), and the clients start just after
    the next window opens, where nothing has been counted yet; they go on for `seconds`,
    then until each scope has been asked half as many times again as its limit, and stop
    WINDOW_USE seconds into the window at the latest.
    """
    limit, period = parse_rate(rate)
    limited = [path for path in paths if scope(path)]

    def enough(asked):
        per_scope = collections.Counter()
        for path, n in asked.items():
            per_scope[scope(path)] += n
        return all(per_scope[name] > 1.5 * limit for name in ("search page", "api"))

    with Server(env, cache, rate) as server:
        drive(server.port, limited, clients, 3)
        time.sleep(period - time.time() % period + 0.5)
        window = int(time.time() // period)
        started = time.monotonic()
        answers = drive(server.port, limited, clients, seconds, enough, WINDOW_USE)
        took = time.monotonic() - started
        same_window = int(time.time() // period) == window
        server_figures = server.finish()
    scopes = {}
    for name in ("search page", "api"):
        mine = [answer for answer in answers if scope(answer.path) == name]
        statuses = collections.Counter(answer.status for answer in mine)
        allowed = statuses.pop(200, 0)
        throttled = statuses.pop(429, 0)
        most = math.floor(limit * (1 + TOLERANCE))
        scopes[name] = {
            "asked": len(mine),
            "allowed": allowed,
            "throttled": throttled,
            "other": {str(status): n for status, n in statuses.items()},
            "most_allowed": most,
            "verdict": verdict(allowed, most, len(mine), limit, statuses),
        }
    result = {
        "cache": cache_name(cache),
        "rate": rate,
        "clients": clients,
        "seconds": round(took, 1),
        "one_window": same_window,
        "scopes": scopes,
        "server": server_figures,
    }
    print_rate(result)
    return result


def verdict(allowed, most, asked, limit, others):
    if allowed > most:
        return f"FAIL: {allowed} through, more than {most}"
    # The limit must have been passed for the check to say anything.
    if asked <= limit:
        return f"FAIL: the limit was not reached ({asked} asked): too slow a machine?"
    if others:
        return f"FAIL: answers neither 200 nor 429: {dict(others)}"
    return "PASS"


def parse_rate(rate):
    # directory.ratelimit.parse_rate's reading, without Django's settings to import it.
    count, period = rate.split("/")
    return int(count), {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}[period]


def scope(path):
    if path.startswith("/api/"):
        return "api"
    if path == "/" or path.startswith("/?"):
        return "search page"
    return None  # service pages are not limited


def print_run(concurrency, figures):
    errors = figures["non_2xx_3xx"] + sum(figures["socket_errors"].values())
    print(
        f"concurrency {concurrency}: {figures['requests_per_second']} req/s, "
        f"p50/p95/p99 {figures['p50_ms']}/{figures['p95_ms']}/{figures['p99_ms']} ms, "
        f"{errors} errors"
    )


def print_rate(result):
    for name, figures in result["scopes"].items():
        print(
            f"rate limit ({result['cache']}), {name}: {figures['allowed']} of "
            f"{figures['asked']} through, {figures['throttled']} refused, "
            f"at most {figures['most_allowed']}: {figures['verdict']}"
        )


def print_table(report):
    if report["throughput"]:
        print_throughput(report)
    for result in report.get("rate_limit", []):
        print(
            f"\nrate limit {result['rate']} per client, {result['clients']} clients for "
            f"{result['seconds']} s in one window ({result['cache']} cache):"
        )
        print(f"{'scope':>12}{'asked':>7}{'200':>6}{'429':>6}{'other':>7}{'at most':>9}")
        for name, s in result["scopes"].items():
            other = sum(s["other"].values())
            print(
                f"{name:>12}{s['asked']:>7}{s['allowed']:>6}{s['throttled']:>6}"
                f"{other:>7}{s['most_allowed']:>9}  {s['verdict']}"
            )
        print_complaints(result["server"])


def print_throughput(report):
    header = (
        f"{'concurrency':>11}{'seconds':>9}{'requests':>10}{'req/s':>8}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'non-2xx/3xx':>13}{'socket':>8}"
        f"{'load':>6}"
    )
    print(
        f"\n{report['services']:,} services, {report['machine']['cores']} cores, "
        f"{report['tool']}, cache: {report['cache']}, "
        f"{report['server']['workers_seen']} gunicorn workers seen; "
        f"load average {report['machine']['load_before'][0]:.1f} before, and after each run:"
    )
    print(header + "\n" + "-" * len(header))
    for concurrency, f in report["throughput"].items():
        print(
            f"{concurrency:>11}{f['seconds']:>9}{f['requests']:>10}"
            f"{f['requests_per_second']:>8}{f['p50_ms']:>9}{f['p95_ms']:>9}{f['p99_ms']:>9}"
            f"{f['max_ms']:>9}{f['non_2xx_3xx']:>13}{sum(f['socket_errors'].values()):>8}"
            f"{f['load_after'][0]:>6.1f}"
        )
    server = report["server"]
    print(
        f"peak memory: {server['peak_worker_rss_mb']} MB a worker, "
        f"{server['peak_total_rss_mb']} MB in all; server log {server['log']}"
    )
    print_complaints(server)


def print_complaints(server):
    if server["stopped_early"]:
        print(f"the server stopped before the end of its run: see {server['log']}")
    if server.get("log_errors"):
        print(f"server log: {server['log_errors']} error lines, warming up included:")
    for line in server["log_complaints"][:5]:
        print(f"  {line}")


def failed(report):
    failures = []
    servers = [report.get("server"), *(r["server"] for r in report.get("rate_limit", []))]
    for server in filter(None, servers):
        if server["stopped_early"]:
            failures.append(f"the server stopped before the end of its run: see {server['log']}")
    for concurrency, f in report["throughput"].items():
        if f["non_2xx_3xx"] or f["socket_errors"]:
            failures.append(
                f"concurrency {concurrency}: {f['non_2xx_3xx']} non-2xx/3xx answers, "
                f"socket errors {f['socket_errors'] or 0}"
            )
    for result in report.get("rate_limit", []):
        if not result["one_window"]:
            failures.append(f"rate limit ({result['cache']}): the run crossed a window")
        for name, s in result["scopes"].items():
            if s["verdict"] != "PASS":
                failures.append(f"rate limit ({result['cache']}), {name}: {s['verdict']}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
