"""Tests of the `signsim` Python package itself: the pytest plugin (loaded by its entry
point, so run these from the installed package, with `-p pytester`) and the helpers.

    pytest -p pytester python/tests
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests

from signsim import Server, Signsim, SignsimError

UANATACA_TOKEN = "fd6a21e6fb7d43b9893a520d67d6ff60"

# An inner test file: each test writes its url and tenant, and makes an OTP to reset.
RECORDING = '''
import json, requests

def record(signsim, name):
    with open({out!r}, "a") as out:
        out.write(json.dumps({{"test": name, "url": signsim.url, "tenant": signsim.tenant}}) + "\\n")
    created = signsim.http.post(f"{{signsim.url}}/uanataca/api/v1/request", data={{
        "token": "{token}", "given_name": "A", "surname_1": "B",
        "email": "a@example.com", "mobile_phone_number": "+34600000001"}})
    assert created.status_code == 201, created.text

def test_one(signsim):
    record(signsim, "one")

def test_two(signsim):
    record(signsim, "two")
'''


def recorded(path: Path) -> List[Dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_fixture_needs_no_conftest_and_shares_one_server(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    out = tmp_path / "seen.jsonl"
    pytester.makepyfile(RECORDING.format(out=str(out), token=UANATACA_TOKEN))
    # No conftest.py and no -p: the plugin comes from the installed package's entry point.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    one, two = recorded(out)
    assert one["url"] == two["url"], "one server for the session"
    assert one["url"].startswith("http://127.0.0.1:")
    assert one["tenant"] != two["tenant"], "a tenant of its own per test"
    assert "test_one" in one["tenant"]
    # The session's server is stopped when the session ends.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{one['url']}/_signsim/health", timeout=5)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server.start(seed=7) as started:
        yield started


def test_each_tests_tenant_is_reset_after_it(
    pytester: pytest.Pytester, tmp_path: Path, server: Server
) -> None:
    out = tmp_path / "seen.jsonl"
    pytester.makepyfile(RECORDING.format(out=str(out), token=UANATACA_TOKEN))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--signsim-url={server.url}")
    result.assert_outcomes(passed=2)
    for seen in recorded(out):
        assert seen["url"] == server.url, "--signsim-url is used, nothing started"
        # The journal keeps every call of a tenant until its reset.
        calls = requests.get(f"{server.url}/_signsim/requests",
                             params={"tenant": seen["tenant"]}, timeout=5)
        assert calls.json() == [], f"tenant {seen['tenant']} was not reset"


def test_a_binary_that_does_not_start_says_so(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "signsim"
    fake.write_text("#!/bin/sh\necho 'cannot set up the PKI' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SIGNSIM_BIN", str(fake))
    with pytest.raises(SignsimError, match="cannot set up the PKI"):
        Server.start(timeout=10)


def test_otp_link_and_clock_helpers_read_this_tenant_alone(server: Server) -> None:
    mine, other = Signsim(server.url), Signsim(server.url)
    for sim in (mine, other):
        api = f"{sim.provider_url('uanataca')}/api/v1"
        pk = sim.http.post(f"{api}/request", data={
            "token": UANATACA_TOKEN, "given_name": "A", "surname_1": "B",
            "email": "a@example.com", "mobile_phone_number": "+34600000009"}, timeout=5
        ).json()["details"]
        contract = sim.http.get(f"{api}/document/{pk}/contract", timeout=5).content
        sim.http.post(f"{api}/document/{pk}", timeout=5,
                      files={"file": ("c.pdf", contract, "application/pdf")})
        assert sim.http.post(f"{api}/otp/{pk}", timeout=5).status_code == 200
    [message] = mine.outbox(to="+34600000009")
    assert message["tenant"] == mine.tenant
    assert mine.last_otp(to="+34600000009") == message["otp"]
    assert mine.last_otp(to="+34600000009") != "" and other.last_otp(to="+34600000009")
    with pytest.raises(AssertionError, match="no message with a 'link'"):
        mine.last_link(to="+34600000009")

    moved = mine.advance_clock(600, provider="uanataca")
    assert moved["offset_seconds"] >= 600
    assert other.clock(provider="uanataca")["offset_seconds"] < 600, "its clock alone"
    mine.reset()
    assert mine.outbox() == [] and other.outbox() != []
    assert "BEGIN CERTIFICATE" in mine.ca_pem()
    other.reset()


class _NotFound(BaseHTTPRequestHandler):
    """A server without the new endpoints: 404 for everything but the reset."""

    def do_GET(self) -> None:
        self.send_response(404)
        self.end_headers()

    def do_POST(self) -> None:
        self.send_response(200 if self.path.startswith("/_signsim/reset") else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    do_DELETE = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("strict", [False, True])
def test_a_missing_endpoint_skips_unless_strict(
    pytester: pytest.Pytester, strict: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIGNSIM_STRICT", raising=False)  # the option alone decides here
    old = HTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=old.serve_forever, daemon=True).start()
    try:
        pytester.makepyfile("""
            def test_pdf(signsim):
                signsim.sample_pdf()

            def test_capture(signsim):
                signsim.wait_for_capture(signsim.capture_url(), timeout=1)
        """)
        args = ["-p", "no:cacheprovider", f"--signsim-url=http://127.0.0.1:{old.server_port}"]
        result = pytester.runpytest_subprocess(*args, *(["--signsim-strict"] if strict else []))
        if strict:
            result.assert_outcomes(failed=2)
        else:
            result.assert_outcomes(skipped=2)
    finally:
        old.shutdown()


def test_capture_url_and_wait_for_delivery(signsim: Signsim) -> None:
    url = signsim.capture_url("hook", status=202)
    assert url.startswith(f"{signsim.url}/_signsim/capture/{signsim.tenant}.hook?")
    # (Skips on a simulator without the receiver, before anything is sent.)
    assert signsim.captures(url) == []
    sent = requests.post(url, json={"hello": "world"}, timeout=5)
    assert sent.status_code == 202
    [got] = signsim.wait_for_capture(url, timeout=5)
    assert got["method"] == "POST" and json.loads(got["body"]) == {"hello": "world"}
    assert got["path"].endswith(f"/_signsim/capture/{signsim.tenant}.hook")


def test_sample_pdf_has_the_pages_asked_for(signsim: Signsim) -> None:
    one, three = signsim.sample_pdf(), signsim.sample_pdf(pages=3)
    for pdf in (one, three):
        assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-64:]
    assert len(three) > len(one)
