#!/usr/bin/env python3
"""Time from process start to the first answered request, over N runs.

usage: bench/startup.py [BINARY] [RUNS]   (default: target/release/signsim, 20)
Starts `signsim serve` on a free port, polls GET /_signsim/health as fast as it can and
reports the median and worst time to the first 200.
"""
import http.client
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(binary):
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = started + 10
        while time.perf_counter() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/_signsim/health")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - started) * 1000
            except OSError:
                time.sleep(0.0005)
        raise SystemExit("no answer within 10 s")
    finally:
        proc.terminate()
        proc.wait()


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/signsim"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    times = [one_run(binary) for _ in range(runs)]
    print(f"{binary}: start to first answer over {runs} runs: "
          f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")


if __name__ == "__main__":
    main()
