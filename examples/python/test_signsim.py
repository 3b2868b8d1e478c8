"""An app's integration test against signsim, with requests and pytest.

    SIGNSIM_URL=http://127.0.0.1:8800 pytest examples/python/test_signsim.py

Without SIGNSIM_URL the fixture starts the binary itself (SIGNSIM_BIN, default `signsim`
on PATH) on a free port, reading the address it announces on standard output. `.ci/run`
runs this file against the binary it builds.

It shares well: a team's test runs may point at one instance at the same time. The run
works in a tenant of its own: one name made for it, used as its Uanataca `X-Signsim-Tenant`
and as its QI Tech API key (a tenant is a provider and a name, so that is one tenant in each
provider, and one call names both). It reads only that name's outbox, and after each test
resets only that name (`POST /_signsim/reset?tenant=...`), never the whole simulator. Another
run's messages, resources, clock and webhooks are never its own, and its reset touches
nothing of theirs.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import uuid

import pytest
import requests

UANATACA_TOKEN = "fd6a21e6fb7d43b9893a520d67d6ff60"  # the demo token every request accepts
# This run's tenant: unique, so that runs sharing an instance never meet.
TENANT = f"py-{uuid.uuid4().hex[:12]}"
QI_KEY = TENANT


@pytest.fixture(scope="session")
def signsim():
    url = os.environ.get("SIGNSIM_URL")
    if url:
        yield url.rstrip("/")
        return
    binary = os.environ.get("SIGNSIM_BIN", "signsim")
    process = subprocess.Popen([binary, "serve", "--port", "0", "--seed", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        # The first line is `signsim http://127.0.0.1:PORT`, once it is listening.
        first = process.stdout.readline().split()
        assert first and first[0] == "signsim", "signsim did not announce its address"
        yield first[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def http(signsim):
    session = requests.Session()
    # Uanataca has no credentials: the header names the tenant.
    session.headers["X-Signsim-Tenant"] = TENANT
    yield session
    # Each test leaves its own tenants clean (state, clock, outbox): the name in every
    # provider, and nobody else's.
    session.post(f"{signsim}/_signsim/reset", params={"tenant": TENANT}, timeout=10)


def last_otp(http, signsim, **filters):
    """The newest OTP sent by this run's tenants (never another run's)."""
    messages = http.get(f"{signsim}/_signsim/outbox", params={"tenant": TENANT, **filters},
                        timeout=10).json()
    return messages[-1]["otp"]


def test_health(http, signsim):
    health = http.get(f"{signsim}/_signsim/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"


def test_uanataca_classic_flow_gives_a_signed_pdf(http, signsim):
    api = f"{signsim}/uanataca/api/v1"
    phone = "+34600123456"
    created = http.post(f"{api}/request", data={
        "token": UANATACA_TOKEN, "given_name": "Ana", "surname_1": "Pytest",
        "email": "ana@example.com", "mobile_phone_number": phone}, timeout=10)
    assert created.status_code == 201, created.text
    pk = created.json()["details"]
    contract = http.get(f"{api}/document/{pk}/contract", timeout=10).content
    uploaded = http.post(f"{api}/document/{pk}",
                         files={"file": ("contract.pdf", contract, "application/pdf")}, timeout=10)
    assert uploaded.status_code == 200, uploaded.text
    uid = uploaded.json()["details"]
    assert http.post(f"{api}/otp/{pk}", timeout=10).status_code == 200
    signed = http.post(f"{api}/sign/{pk}",
                       json={"secret": last_otp(http, signsim, provider="uanataca", to=phone)},
                       timeout=30)
    assert signed.status_code == 200, signed.text
    pdf = http.get(f"{api}/document/{pk}/signed/{uid}", timeout=10).content
    assert pdf.startswith(b"%PDF") and b"/ByteRange" in pdf


def test_uanataca_wrong_otp_is_refused_in_its_shape(http, signsim):
    api = f"{signsim}/uanataca/api/v1"
    created = http.post(f"{api}/request", data={
        "token": UANATACA_TOKEN, "given_name": "Ana", "surname_1": "Pytest",
        "email": "ana@example.com", "mobile_phone_number": "+34600123457"}, timeout=10)
    pk = created.json()["details"]
    refused = http.post(f"{api}/sign/{pk}", json={"secret": "000000"}, timeout=10)
    assert 400 <= refused.status_code < 500
    assert "status" in refused.json()


def qitech(http, signsim, method, path, **kwargs):
    return http.request(method, f"{signsim}/qitech{path}",
                        headers={"Authorization": QI_KEY}, timeout=10, **kwargs)


def a_pdf(http, signsim, pages=1):
    """A real PDF to upload: the simulator's sample document."""
    sample = http.get(f"{signsim}/_signsim/samples/document.pdf", params={"pages": pages},
                      timeout=10)
    assert sample.headers["content-type"] == "application/pdf"
    return sample.content


def test_qitech_envelope_signed_through_its_link(http, signsim):
    # The envelope_completed webhook goes to the simulator's own receiver: no server of
    # ours is needed, and it works the same when signsim runs in a container (it reaches
    # itself at this URL). What support sets up at QI Tech: the URL and the HMAC key.
    capture = f"{TENANT}-qitech"
    hook_path = f"/_signsim/capture/{capture}"
    assert http.post(f"{signsim}/_signsim/qitech/webhook", json={
        "api_key": QI_KEY, "url": f"{signsim}{hook_path}", "signature_key": "hook-secret"},
        timeout=10).status_code == 200
    created = qitech(http, signsim, "POST", "/sign/envelope", json={
        "id": "py-1", "subject": "Contrato", "expiration_date": "2099-01-01",
        "signers": [{
            "id": "1", "name": "Ana Pytest", "email": "ana@example.com",
            "birthdate": "1992-09-15", "document_number": "111.111.111-11",
            "phone": {"international_dial_code": "55", "area_code": "11", "number": "988878722"},
            "document_submission_method": "email", "authentication_submission_method": "sms"}]})
    assert created.status_code == 201, created.text
    pdf = a_pdf(http, signsim)
    added = qitech(http, signsim, "POST", "/sign/envelope/py-1/document", json={
        "document_b64": base64.b64encode(pdf).decode(), "name": "Contrato", "document_type": "pdf"})
    assert added.status_code == 201, added.text
    assert qitech(http, signsim, "PATCH", "/sign/envelope/py-1",
                  json={"status": "submitted"}).status_code == 200
    link = qitech(http, signsim, "GET", "/sign/envelope/py-1").json()["signers"][0]["signature_url"]
    # The signer opens the link (the token goes by SMS) and signs, as the page's form does.
    assert http.get(link, timeout=10).status_code == 200
    signed = http.post(f"{signsim}/_signsim/qitech/envelopes/py-1/signers/1/sign", json={
        "api_key": QI_KEY, "cpf": "11111111111",
        "token": last_otp(http, signsim, provider="qitech", channel="sms")}, timeout=30)
    assert signed.status_code == 200, signed.text
    envelope = qitech(http, signsim, "GET", "/sign/envelope/py-1").json()
    assert envelope["status"] == "completed"
    # The webhook, as the app would receive it: waiting (up to 10 s) instead of polling.
    hooks = http.get(f"{signsim}/_signsim/captures/{capture}", params={"wait": 10},
                     timeout=20).json()
    assert hooks, "the envelope_completed webhook arrived"
    hook = hooks[0]
    assert json.loads(hook["body"])["webhook_type"] == "envelope_completed"
    # Signature = hex HMAC-SHA1 of endpoint (the URL's path) + method + payload.
    expected = hmac.new(b"hook-secret", (hook_path + "POST" + hook["body"]).encode(),
                        hashlib.sha1).hexdigest()
    assert hook["headers"]["signature"] == expected
    http.delete(f"{signsim}/_signsim/captures/{capture}", timeout=10)


def test_qitech_unknown_envelope_answers_in_its_error_shape(http, signsim):
    missing = qitech(http, signsim, "GET", "/sign/envelope/nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "ENVELOPE_NOT_FOUND"
    anonymous = http.get(f"{signsim}/qitech/sign/envelope/nope", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "UNAUTHENTICATED"
