"""QI Tech (Brazil) with the `signsim` fixture. The QI Tech tenant is the API key: this
test's key is `signsim.tenant`. The envelope_completed webhook goes to the simulator's own
receiver (`capture_url`), so nothing needs to listen on the test's side.
"""
import base64
import hashlib
import hmac
from typing import Any

import requests

from signsim import Signsim

SIGNER = {
    "id": "1", "name": "Ana Pytest", "email": "ana@example.com", "birthdate": "1992-09-15",
    "document_number": "111.111.111-11",
    "phone": {"international_dial_code": "55", "area_code": "11", "number": "988878722"},
    "document_submission_method": "email", "authentication_submission_method": "sms",
}


def qitech(signsim: Signsim, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{signsim.provider_url('qitech')}{path}",
                            headers={"Authorization": signsim.tenant}, timeout=30, **kwargs)


def test_envelope_signed_and_its_webhook_received(signsim: Signsim) -> None:
    hook = signsim.capture_url("envelope-completed")
    # What QI Tech's support sets up: where the webhook goes, and its signing key.
    setup = signsim.admin("POST", "qitech/webhook", json={
        "api_key": signsim.tenant, "url": hook, "signature_key": "s3cr3t"})
    assert setup.status_code < 300, setup.text

    created = qitech(signsim, "POST", "/sign/envelope", json={
        "id": "env-1", "subject": "Contrato", "expiration_date": "2099-01-01",
        "signers": [SIGNER]})
    assert created.status_code == 201, created.text
    added = qitech(signsim, "POST", "/sign/envelope/env-1/document", json={
        "document_b64": base64.b64encode(signsim.sample_pdf()).decode(),
        "name": "Contrato", "document_type": "pdf"})
    assert added.status_code == 201, added.text
    assert qitech(signsim, "PATCH", "/sign/envelope/env-1",
                  json={"status": "submitted"}).status_code == 200

    # The signer got the link by e-mail and the token by SMS; sign as the page would.
    link = signsim.last_link(to="ana@example.com", provider="qitech")
    assert requests.get(link, timeout=10).status_code == 200
    signed = signsim.admin("POST", "qitech/envelopes/env-1/signers/1/sign", json={
        "api_key": signsim.tenant, "cpf": "11111111111",
        "token": signsim.last_otp(provider="qitech", channel="sms")})
    assert signed.status_code == 200, signed.text
    assert qitech(signsim, "GET", "/sign/envelope/env-1").json()["status"] == "completed"

    # The webhook arrived at the capture URL, signed with HMAC-SHA1 of path + method + body.
    [delivery] = signsim.wait_for_capture(hook)
    assert delivery["method"] == "POST"
    expected = hmac.new(b"s3cr3t", f"{delivery['path']}POST{delivery['body']}".encode(),
                        hashlib.sha1).hexdigest()
    assert delivery["headers"]["signature"] == expected


def test_unknown_envelope_and_missing_key_answer_in_its_error_shape(signsim: Signsim) -> None:
    missing = qitech(signsim, "GET", "/sign/envelope/nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "ENVELOPE_NOT_FOUND"
    anonymous = requests.get(f"{signsim.provider_url('qitech')}/sign/envelope/nope", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "UNAUTHENTICATED"

