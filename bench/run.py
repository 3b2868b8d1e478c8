#!/usr/bin/env python3
"""Every figure of the README's Performance table, in one command.

usage: bench/run.py [--no-build] [--seconds S] [--rounds N] [--fill N] [MEASURE ...]
       MEASURE: startup static uanataca qitech signatures memory growth dashboard
                (default: all of them)

Builds release (`cargo build --release --workspace`), then for each measure starts a fresh
simulator (`target/release/signsim serve --port 0`, RUST_LOG unset, standard error to
/dev/null: the default logging people run with) and drives it with `signsim-load`
(bench/load). Each measure prints the command that takes it alone; the table at the end is
the README's, in Markdown.

The load generator runs on the same machine as the server: on 2 cores, every cycle it
spends is one the server does not get, so the figures are a floor, and they move by 10-20 %
from run to run with whatever else the machine does. The static measure alternates signsim
and the bare axum ceiling (bench/hello) round by round and takes each one's median, so both
see the same machine.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
SIGNSIM = os.path.join(RELEASE, "signsim")
HELLO = os.path.join(RELEASE, "signsim-hello")
LOAD = os.path.join(RELEASE, "signsim-load")
HELLO_PATH = "/uanataca/api/v1/hello"


def show(command):
    """Prints a command as one can paste it, relative to the repository."""
    text = " ".join(command).replace(ROOT + "/", "")
    print(f"  $ {text}", flush=True)


class Server:
    """A server process started on port 0; its first stdout line names its address."""

    def __init__(self, command):
        env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) < 2 or not line[1].startswith("http://"):
            self.stop()
            raise SystemExit(f"{command[0]} did not announce its address: {line}")
        self.url = line[1]

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise SystemExit("no VmRSS in /proc")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()


def signsim():
    # Caps far above the default 1 GiB: ten seconds of flows store a few GB of documents,
    # and a bench that meets the cap measures 507 answers, not signing.
    return Server([SIGNSIM, "serve", "--port", "0", "--max-memory-mb", "65536",
                   "--max-tenant-mb", "65536"])


def load(*args):
    """Runs signsim-load with --json and returns its figures."""
    command = [LOAD, *map(str, args), "--json"]
    show(command)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"signsim-load failed: {done.stderr.strip()}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["steps"]:
        print("    p50 per step: " + ", ".join(
            f"{name} {step['p50_ms']:.2f} ms" for name, step in figures["steps"].items()))
    if figures["failures"]:
        print(f"  ! {figures['failures']} failed: {figures['reasons']}")
    return figures


def startup(args, table):
    command = [os.path.join("bench", "startup.py"), SIGNSIM, "20"]
    show(command)
    out = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    match = re.search(r"median ([\d.]+) ms, max ([\d.]+) ms", out)
    if not match:
        raise SystemExit(f"startup.py said: {out}")
    table.append(("Start to first answer (median of 20)", "< 20 ms",
                  f"{match.group(1)} ms (max {match.group(2)} ms)", "bench/startup.py target/release/signsim 20"))


def static(args, table):
    runs = {"signsim": [], "hello": []}
    for round_ in range(args.rounds):
        print(f"  round {round_ + 1} of {args.rounds}")
        for name, command in [("hello", [HELLO]), ("signsim", [SIGNSIM, "serve", "--port", "0"])]:
            with Server(command) as server:
                runs[name].append(load("static", server.url + HELLO_PATH,
                                       "--connections", 64, "--seconds", args.seconds))
    median = {name: {key: statistics.median(r[key] for r in rounds)
                     for key in ("per_second", "p50_ms", "p99_ms")}
              for name, rounds in runs.items()}
    errors = sum(r["failures"] for rounds in runs.values() for r in rounds)
    sim, ceiling = median["signsim"], median["hello"]
    ratio = sim["per_second"] / ceiling["per_second"] if ceiling["per_second"] else 0
    command = (f"signsim-load static URL{HELLO_PATH} --connections 64 "
               f"--seconds {args.seconds}")
    table.append(("Static endpoint, signsim (64 connections, default logging)", "",
                  f"{sim['per_second']:.0f} req/s, p50 {sim['p50_ms']:.2f} ms, "
                  f"{errors} errors", command))
    table.append(("Static endpoint, bare axum ceiling (bench/hello)", "",
                  f"{ceiling['per_second']:.0f} req/s, p50 {ceiling['p50_ms']:.2f} ms",
                  command.replace("URL", "HELLO_URL")))
    table.append(("Static: signsim / ceiling", "≥ 0.8", f"{ratio:.2f}",
                  f"bench/run.py static (median of {args.rounds} alternating rounds)"))
    table.append(("Static: p99 at 64 connections", "< 5 ms",
                  f"{sim['p99_ms']:.2f} ms (ceiling {ceiling['p99_ms']:.2f} ms)", command))


def uanataca(args, table):
    with signsim() as server:
        figures = load("uanataca", server.url, "--workers", args.workers,
                       "--seconds", args.seconds)
    table.append(("Uanataca classic flows/s (100 KB PDF: create, upload, OTP, outbox, "
                  "sign, download)", "≥ 1000",
                  f"{figures['per_second']:.0f} flows/s, p50 {figures['p50_ms']:.1f} ms, "
                  f"p99 {figures['p99_ms']:.1f} ms, {figures['failures']} failed",
                  f"signsim-load uanataca BASE --workers {args.workers} "
                  f"--seconds {args.seconds}"))


def qitech(args, table):
    with signsim() as server:
        figures = load("qitech", server.url, "--workers", args.workers,
                       "--seconds", args.seconds)
    table.append(("QI Tech envelopes/s (100 KB PDF: create, document, submit, sign, "
                  "report, dossier)", "",
                  f"{figures['per_second']:.0f} envelopes/s, p50 {figures['p50_ms']:.1f} ms, "
                  f"p99 {figures['p99_ms']:.1f} ms, {figures['failures']} failed",
                  f"signsim-load qitech BASE --workers {args.workers} "
                  f"--seconds {args.seconds}"))


def duration_ms(text):
    """A Rust Duration as Debug prints it (`1.234567ms`, `850.1µs`, `1.2s`) in ms."""
    match = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", text.strip())
    if not match:
        raise SystemExit(f"not a duration: {text}")
    scale = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return float(match.group(1)) * scale


def signatures(args, table):
    command = ["cargo", "bench", "--bench", "pki"]
    show(command)
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    issue = re.search(r"issue_signer: (\S+) per certificate", out)
    signs = re.findall(r"sign_pdf on (\d+) KB: (\S+) per signature", out)
    if not issue or not signs:
        raise SystemExit(f"bench pki said: {out}")
    issue_ms = duration_ms(issue.group(1))
    small_kb, small = signs[0][0], duration_ms(signs[0][1])
    large_kb, large = signs[-1][0], duration_ms(signs[-1][1])
    table.append(("Signatures/s per core (new signer certificate + PAdES-T)", "",
                  f"{1000 / (issue_ms + small):.0f}/s on {small_kb} KB, "
                  f"{1000 / (issue_ms + large):.0f}/s on {large_kb} KB "
                  f"(certificate {issue_ms:.2f} ms, signature {small:.2f} ms)",
                  " ".join(command)))


def memory(args, table):
    count = args.resources
    with signsim() as server:
        # Idle: the CA, the scenarios and the runtime, after the first answers settled.
        load("static", server.url + HELLO_PATH, "--connections", 1, "--requests", 10)
        time.sleep(0.5)
        idle = server.rss_kb()
        load("static", server.url + HELLO_PATH, "--connections", 64, "--requests", 100_000,
             "--seconds", 600)
        after_static = server.rss_kb()
        # The request journal is full now (it keeps the last 10,000 calls), so what the
        # resources add next is the resources themselves, with their events.
        per = {}
        for provider in ("uanataca", "qitech"):
            before = server.rss_kb()
            figures = load(provider, server.url, "--workers", 8, "--flows", count,
                           "--create-only", "--seconds", 600)
            per[provider] = (server.rss_kb() - before) * 1024 / max(1, figures["done"])
    table.append(("RSS idle after start", "", f"{idle / 1024:.1f} MB",
                  "grep VmRSS /proc/PID/status"))
    table.append(("RSS after 100,000 static requests", "", f"{after_static / 1024:.1f} MB",
                  "signsim-load static URL --requests 100000"))
    table.append((f"Memory per stored resource besides documents ({count:,} created)",
                  "< 4 KB",
                  f"Uanataca request {per['uanataca'] / 1024:.1f} KB, "
                  f"QI Tech envelope {per['qitech'] / 1024:.1f} KB",
                  f"signsim-load uanataca BASE --flows {count} --create-only (and qitech)"))


def post(url):
    """An empty admin POST (no admin token: the bench's simulator has none)."""
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request) as answer:
        return answer.read()


def growth(args, table):
    """One instance fresh and after `--fill` flows: what each call costs must not grow with
    what the simulator holds (issue 22). Then its memory: idle, filled, and after
    `POST /_signsim/reset` (which must give the memory back to the system).

    This machine drifts by 20-40 % within minutes, so the filled instance is also compared
    with fresh instances started beside it, round by round (`--rounds`), alternating, and
    the medians are taken. Throughput is taken with `--workers` flows at once; each step's
    cost alone, with one flow at a time (1,000 flows): under a saturating closed loop a
    step's p50 is mostly its wait behind the others, not what it costs."""
    flows = ("--workers", args.workers, "--pdf-kb", 10, "--seconds", 600)
    alone = ("--workers", 1, "--pdf-kb", 10, "--seconds", 600, "--flows", 1000)

    def measure(server):
        return (load("uanataca", server.url, *flows, "--flows", 2000),
                load("uanataca", server.url, *alone))

    with signsim() as server:
        load("static", server.url + HELLO_PATH, "--connections", 1, "--requests", 10)
        time.sleep(0.5)
        idle = server.rss_kb()
        # Warm idle: the same process once every step has run (the signing code paged in,
        # the blocking threads started) and a reset forgot it: at rest, holding nothing.
        load("uanataca", server.url, *flows, "--flows", 20)
        post(server.url + "/_signsim/reset")
        time.sleep(1.0)
        warm = server.rss_kb()
        fresh, _ = measure(server)
        print(f"  filling with {args.fill:,} flows", flush=True)
        load("uanataca", server.url, *flows, "--flows", args.fill)
        rounds = []
        for round_ in range(args.rounds):
            print(f"  round {round_ + 1} of {args.rounds}: a fresh instance, then the filled one")
            with signsim() as beside:
                rounds.append((measure(beside), measure(server)))
        filled = rounds[-1][1][0]
        held = server.rss_kb()
        post(server.url + "/_signsim/reset")
        time.sleep(1.0)
        after_reset = server.rss_kb()

    def median_ratio(pick):
        values = [pick(new, old) for new, old in rounds]
        return statistics.median(values)
    ratio = filled["per_second"] / fresh["per_second"] if fresh["per_second"] else 0
    beside_ratio = median_ratio(lambda new, old: old[0]["per_second"] / new[0]["per_second"])
    names = [n for n in fresh["steps"]]
    steps = {n: median_ratio(lambda new, old, n=n: old[1]["steps"][n]["p50_ms"]
                             / new[1]["steps"][n]["p50_ms"]) for n in names}
    loaded = {n: median_ratio(lambda new, old, n=n: old[0]["steps"][n]["p50_ms"]
                              / new[0]["steps"][n]["p50_ms"]) for n in names}
    worst = max(steps, key=steps.get)
    print(f"  fresh {fresh['per_second']:.0f} flows/s, after {args.fill:,} more "
          f"{filled['per_second']:.0f} flows/s: ratio {ratio:.2f}; "
          f"to fresh instances beside it (median of {args.rounds}): {beside_ratio:.2f}")
    print("  p50 filled / fresh beside, one flow at a time: "
          + ", ".join(f"{n} {r:.2f}" for n, r in steps.items()))
    print(f"  (under {args.workers} workers: "
          + ", ".join(f"{n} {r:.2f}" for n, r in loaded.items()) + ")")
    print(f"  RSS idle {idle / 1024:.1f} MB (warm {warm / 1024:.1f} MB), filled "
          f"{held / 1024:.1f} MB, after reset {after_reset / 1024:.1f} MB "
          f"({after_reset / idle:.2f} x idle, {after_reset / warm:.2f} x warm idle)")
    command = f"bench/run.py growth --fill {args.fill}"
    table.append((f"After {args.fill:,} flows (10 KB PDF): flows/s ratio to fresh",
                  "≥ 0.9, each step's p50 ≤ 1.2 ×",
                  f"{ratio:.2f} to itself fresh ({fresh['per_second']:.0f} → "
                  f"{filled['per_second']:.0f} flows/s), {beside_ratio:.2f} to fresh "
                  f"instances beside it; worst step p50 (one flow at a time, median of "
                  f"{args.rounds}) {worst} {steps[worst]:.2f} ×", command))
    table.append(("RSS after reset (`POST /_signsim/reset`) vs idle", "≤ 1.5 ×",
                  f"{after_reset / idle:.2f} × ({idle / 1024:.1f} MB idle, "
                  f"{held / 1024:.0f} MB filled, {after_reset / 1024:.1f} MB after reset; "
                  f"{after_reset / warm:.2f} × the warm idle, {warm / 1024:.1f} MB)",
                  command))


def dashboard(args, table):
    """The dashboard's first page (`GET /_signsim` as a browser asks for it) with
    `--held` resources held: its time and size must not grow with them (issue 22)."""
    count = args.held
    with signsim() as server:
        print(f"  creating {count:,} Uanataca requests", flush=True)
        load("uanataca", server.url, "--workers", 8, "--flows", count, "--create-only",
             "--seconds", 900)
        request = urllib.request.Request(server.url + "/_signsim",
                                         headers={"Accept": "text/html"})
        times, size = [], 0
        for _ in range(21):
            start = time.perf_counter()
            with urllib.request.urlopen(request) as answer:
                size = len(answer.read())
            times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(f"  first page: median {median:.1f} ms, max {max(times):.1f} ms, {size / 1024:.0f} KB")
    table.append((f"Dashboard first page with {count:,} resources held (median of 21, "
                  "urllib on the same machine)", "< 50 ms, < 100 KB",
                  f"{median:.1f} ms (max {max(times):.1f} ms), {size / 1024:.0f} KB",
                  f"bench/run.py dashboard --held {count}"))


MEASURES = {"startup": startup, "static": static, "uanataca": uanataca, "qitech": qitech,
            "signatures": signatures, "memory": memory, "growth": growth,
            "dashboard": dashboard}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("measures", nargs="*", metavar="MEASURE",
                        help=f"any of {', '.join(MEASURES)} (default: all)")
    parser.add_argument("--no-build", action="store_true", help="use the binaries as they are")
    parser.add_argument("--bin-dir", default=RELEASE,
                        help="where signsim, signsim-hello and signsim-load are "
                             "(default target/release; implies --no-build when changed)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each load run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="static, growth: alternating rounds (default 3)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent flows")
    parser.add_argument("--resources", type=int, default=20_000,
                        help="memory: resources created per provider")
    parser.add_argument("--fill", type=int, default=50_000,
                        help="growth: flows between the fresh and the filled measures")
    parser.add_argument("--held", type=int, default=100_000,
                        help="dashboard: resources held when its first page is timed")
    args = parser.parse_args()
    unknown = [name for name in args.measures if name not in MEASURES]
    if unknown:
        parser.error(f"unknown measure {unknown}; choose among {', '.join(MEASURES)}")
    measures = args.measures or list(MEASURES)
    global SIGNSIM, HELLO, LOAD
    bin_dir = os.path.abspath(args.bin_dir)
    SIGNSIM, HELLO, LOAD = (os.path.join(bin_dir, name)
                            for name in ("signsim", "signsim-hello", "signsim-load"))
    if not args.no_build and bin_dir == RELEASE:
        command = ["cargo", "build", "--release", "--workspace"]
        show(command)
        subprocess.run(command, cwd=ROOT, check=True)
    table = []
    for name in measures:
        print(f"== {name}", flush=True)
        MEASURES[name](args, table)
    print("\n| Measure | Target | This machine | Command |\n|---|---|---|---|")
    for measure, target, figure, command in table:
        print(f"| {measure} | {target} | {figure} | `{command}` |")
    print(f"\n{os.cpu_count()} cores; load generator and server on the same machine.")


if __name__ == "__main__":
    main()
