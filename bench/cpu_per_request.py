"""CPU per request of signing and count.json against their floors, without a network or a load tool.

    make bench-cpu   (or: .venv/bin/python bench/cpu_per_request.py [--requests N] [--rounds N])
    .venv/bin/python bench/cpu_per_request.py --profile sign   (or count, insert, hello)

`make bench` compares throughput through gunicorn, which on a shared machine swings with whatever
else runs. This asks a steadier question: how much CPU does the app process spend on one request?
It makes its own database (the demo petition and some signatures, the floor's table) and empties
its Redis database, then starts two worker processes: one with the bench's site settings
(bench.settings: production's, DEBUG off, the Redis cache, both signing limits out of reach but
checked) and one with the floor's (bench.floor_app.settings). Each builds the WSGI environs that
gunicorn would hand Django for the bench's own requests (bench/wrk/sign.lua and get.lua) and calls
Django's WSGIHandler directly, reading and closing every answer as a server does, so the request
finished signal (which returns the database connection) runs too:

- signing: the sign form POSTed as a browser does: no cookie, the Origin header, a form token
  issued an hour ago, a new email each time; answered with a 302;
- floor insert: the same POST to the floor's one-INSERT view, the same middleware;
- count.json: a GET of the demo petition's count, from the shared cache but once a second;
- floor hello: a GET of the floor's hello-world JSON out of Redis.

The figure is the worker's time.process_time() over a batch of requests (user and system CPU of
that one process), divided by the batch. The time PostgreSQL and Redis spend answering is not in
it (other processes), nor is gunicorn's own parsing and writing, the same for site and floor. The
batches alternate between site and floor (signing, insert, count.json, hello, then again) so that
both meet the same noise; each figure is the median batch. Ratio = floor's CPU / site's CPU, the
share of the floor's throughput the site would reach if the app's CPU were all that mattered.

--profile runs one kind under cProfile (on a CPU clock) and prints the top functions by own time
and by cumulative time. cProfile inflates small Python calls several times over: confirm what it
points at with the plain figures.

A measurement, not a test: it prints figures and checks only that every answer had the status
the bench expects.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.database import PYTHON, drop_database, fresh_database  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/petitions_cpu"
DEFAULT_CACHE = "redis://127.0.0.1:6379/13"
SLUG = "ban-khamenei-from-twitter"
HOST = "127.0.0.1:8000"
ORIGIN = f"http://{HOST}"
UNLIMITED = "100000000/m"

# kind: (which worker, expected status)
KINDS = {
    "sign": ("site", 302),
    "insert": ("floor", 302),
    "count": ("site", 200),
    "hello": ("floor", 200),
}
LABELS = {
    "sign": "signing (POST, form, new email)",
    "insert": "floor: one-INSERT view (same POST)",
    "count": "count.json",
    "hello": "floor: hello-world from Redis",
}
PAIRS = (("sign", "insert"), ("count", "hello"))


def environment(database_url: str, cache_url: str, static_root: str) -> dict:
    """The bench's own (bench/run.py bench_environment), without the hashed static files: none of
    these four requests renders a page."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CACHE_URL": cache_url,
        "STATIC_MANIFEST": "false",
        # whitenoise wants the folder to exist; nothing is served from it.
        "STATIC_ROOT": static_root,
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SIGN_RATE_PER_IP": UNLIMITED,
        "SIGN_RATE_PER_PETITION": UNLIMITED,
    }


# The worker -------------------------------------------------------------------------------------


def base_environ(method: str, path: str) -> dict:
    """What gunicorn's sync and gthread workers put in an environ for wrk's request."""
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "RAW_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": HOST,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input": io.BytesIO(b""),
    }


class Requests:
    """Environs for one kind of request, made before the clock starts."""

    def __init__(self, kind: str, petition_id: int, started: str):
        self.kind = kind
        self.petition_id = petition_id
        self.started = started
        self.made = 0
        self.run = secrets.token_hex(4)

    def post(self, path: str) -> dict:
        from urllib.parse import urlencode

        self.made += 1
        body = urlencode(
            {
                "started": self.started,
                "country": "GB",
                "locality": "",
                "comment": "",
                "show_name": "on",
                "website": "",
                "name": f"Sara Karimi {self.made}",
                "email": f"cpu-{self.run}-{self.made}@example.com",
            }
        ).encode()
        environ = base_environ("POST", path)
        environ |= {
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_ORIGIN": ORIGIN,
            "wsgi.input": io.BytesIO(body),
        }
        return environ

    def batch(self, n: int) -> list[dict]:
        if self.kind == "sign":
            return [self.post(f"/en/p/{SLUG}/sign/") for _ in range(n)]
        if self.kind == "insert":
            return [self.post("/en/floor/insert/") for _ in range(n)]
        path = f"/en/p/{SLUG}/count.json" if self.kind == "count" else "/en/floor/hello.json"
        return [base_environ("GET", path) for _ in range(n)]


def serve(role: str) -> None:
    """A worker: reads `kind n [profile]` lines, answers one JSON line per batch."""
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from lib.forms import form_token
    from petitions.models import Petition

    application = get_wsgi_application()
    petition_id = Petition.objects.get(slug=SLUG).pk
    # As the bench: the page's token, issued an hour ago, so the fill-time check passes.
    started = form_token(petition_id, time.time() - 3600)
    makers = {kind: Requests(kind, petition_id, started) for kind, (r, _) in KINDS.items()}
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status[:3])

    def call(environ):
        answer = application(environ, start_response)
        for _chunk in answer:
            pass
        answer.close()

    for line in sys.stdin:
        kind, n, *profile = line.split()
        environs = makers[kind].batch(int(n))
        statuses.clear()
        profiler = cProfile.Profile(time.process_time) if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for environ in environs:
            call(environ)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        expected = str(KINDS[kind][1])
        wrong = sum(status != expected for status in statuses)
        report = {"cpu": cpu, "wall": wall, "n": len(environs), "wrong": wrong}
        if profiler:
            report["profile"] = profile_text(profiler, int(profile[0]))
            if len(profile) > 1:
                profiler.dump_stats(profile[1])
        print(json.dumps(report), flush=True)


def profile_text(profiler: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    for order in ("tottime", "cumulative"):
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(order).print_stats(top)
    return out.getvalue()


# The parent -------------------------------------------------------------------------------------


class Worker:
    def __init__(self, role: str, env: dict):
        if role == "floor":
            env = env | {"DJANGO_SETTINGS_MODULE": "bench.floor_app.settings"}
        self.process = subprocess.Popen(
            [PYTHON, __file__, "--serve", role],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, kind: str, n: int, profile_top: int = 0, save: str = "") -> dict:
        command = f"{kind} {n}" + (f" {profile_top} {save}" if profile_top else "")
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {kind} worker stopped")
        report = json.loads(line)
        if report["wrong"]:
            raise RuntimeError(f"{kind}: {report['wrong']} of {n} answers had an unexpected status")
        return report

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def seed(env: dict, rows: int) -> None:
    script = (
        "import django; django.setup()\n"
        "from django.core.cache import cache\n"
        "from bench.run import seed\n"
        f"seed({rows}); cache.clear()\n"
    )
    subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per batch")
    parser.add_argument("--rounds", type=int, default=7, help="batches of each kind")
    parser.add_argument("--rows", type=int, default=100_000, help="signatures to seed")
    parser.add_argument("--profile", choices=tuple(KINDS), help="profile one kind instead")
    parser.add_argument("--top", type=int, default=30, help="functions a profile lists")
    parser.add_argument("--save", help="with --profile: also write the raw pstats to this file")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_CPU_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CPU_CACHE_URL", DEFAULT_CACHE))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--serve", choices=("site", "floor"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    static_root = tempfile.mkdtemp(prefix="bench-cpu-static-")
    env = fresh_database(
        args.database_url, **environment(args.database_url, args.cache_url, static_root)
    )
    workers = {}
    try:
        seed(env, args.rows)
        workers = {role: Worker(role, env) for role in ("site", "floor")}
        # Warm: imports, URL resolvers, connections, the cached petition and count.
        for kind, (role, _) in KINDS.items():
            workers[role].run(kind, 300)
        if args.profile:
            role = KINDS[args.profile][0]
            save = str(Path(args.save).resolve()) if args.save else ""
            report = workers[role].run(args.profile, args.requests, args.top, save)
            print(f"{LABELS[args.profile]}: {args.requests:,} requests under cProfile")
            print(report["profile"])
            return
        per_request: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(args.rounds):
            for kind, (role, _) in KINDS.items():
                report = workers[role].run(kind, args.requests)
                per_request[kind].append(1e6 * report["cpu"] / report["n"])
        print(
            f"CPU per request in one process, median of {args.rounds} batches of "
            f"{args.requests:,} (the database's and Redis's own time not included)"
        )
        median = {kind: statistics.median(values) for kind, values in per_request.items()}
        for kind in KINDS:
            spread = f"{min(per_request[kind]):.0f}-{max(per_request[kind]):.0f}"
            print(f"  {LABELS[kind]:40} {median[kind]:7.0f} µs  (batches {spread})")
        for site, floor in PAIRS:
            print(f"  {LABELS[site]:40} {median[floor] / median[site]:7.2f} × floor")
    finally:
        for worker in workers.values():
            worker.stop()
        if not args.keep:
            drop_database(args.database_url)
        os.rmdir(static_root)


if __name__ == "__main__":
    main()
