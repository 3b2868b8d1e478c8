#!/usr/bin/env python3
"""Times the Uanataca classic flow, call by call, against a running simulator.

usage: bench/flow.py [BASE_URL] [RUNS] [PDF_KB]
       (default http://127.0.0.1:8800, 50 runs, a 100 KB PDF)
Prints the median and 95th percentile of each call in milliseconds.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse
import uuid


def call(conn, method, path, body=None, headers=None):
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return (time.perf_counter() - started) * 1000, response.status, data


def multipart(field, filename, payload):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    body += payload + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def main():
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8800"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    size_kb = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    api = "/uanataca/api/v1"
    # A PDF of the wanted size: the simulator's own contract, padded with a comment and
    # closed again with the same startxref, so it stays a valid PDF.
    _, _, pdf = call(conn, "POST", f"{api}/request", json.dumps({
        "token": "fd6a21e6fb7d43b9893a520d67d6ff60", "given_name": "Bench", "surname_1": "Mark",
        "email": "b@example.com", "mobile_phone_number": "+34600000999"}))
    pk = json.loads(pdf)["details"]
    _, _, pdf = call(conn, "GET", f"{api}/document/{pk}/contract")
    startxref = pdf[pdf.rindex(b"startxref"):].split()[1]
    padding = b"%" + b"x" * max(0, size_kb * 1024 - len(pdf)) + b"\n"
    pdf = pdf + b"\n" + padding + b"startxref\n" + startxref + b"\n%%EOF\n"
    timings = {name: [] for name in ["create", "upload", "otp", "outbox", "sign", "download"]}
    for run in range(runs):
        phone = f"+34611{run:06d}"
        t, status, data = call(conn, "POST", f"{api}/request", json.dumps({
            "token": "fd6a21e6fb7d43b9893a520d67d6ff60", "given_name": "Bench", "surname_1": "Mark",
            "email": "b@example.com", "mobile_phone_number": phone}))
        assert status == 201, data
        timings["create"].append(t)
        pk = json.loads(data)["details"]
        body, headers = multipart("file", "doc.pdf", pdf)
        t, status, data = call(conn, "POST", f"{api}/document/{pk}", body, headers)
        assert status == 200, data
        timings["upload"].append(t)
        uid = json.loads(data)["details"]
        t, status, data = call(conn, "POST", f"{api}/otp/{pk}")
        timings["otp"].append(t)
        t, status, data = call(conn, "GET", "/_signsim/outbox?to=" + urllib.parse.quote(phone))
        timings["outbox"].append(t)
        otp = json.loads(data)[-1]["otp"]
        t, status, data = call(conn, "POST", f"{api}/sign/{pk}", json.dumps({"secret": otp}))
        assert status == 200, data
        timings["sign"].append(t)
        t, status, data = call(conn, "GET", f"{api}/document/{pk}/signed/{uid}")
        assert status == 200 and data.startswith(pdf), status
        timings["download"].append(t)
    print(f"{runs} classic flows with a {size_kb} KB PDF against {base} (ms):")
    for name, values in timings.items():
        values.sort()
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        print(f"  {name:9} median {statistics.median(values):7.2f}   p95 {p95:7.2f}")


if __name__ == "__main__":
    main()
