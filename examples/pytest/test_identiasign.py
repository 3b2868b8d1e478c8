"""IdentiaSign (Peru) with the `signsim` fixture. The IdentiaSign tenant is the login's
`username` (the entity): this test logs in as `signsim.tenant`. The process's callback
goes to the simulator's own receiver (`capture_url`).
"""
import json

import requests

from signsim import Signsim

SIGNER = {"nat": "PER", "doc_id": "12345678", "stampPositions": {"0": {}},
          "contactInfo": {"type": "email", "value": "ana@example.com"}}


def login(signsim: Signsim) -> requests.Session:
    """A session carrying the JWT of this test's entity."""
    answer = requests.post(f"{signsim.provider_url('identiasign')}/api/auth/login", json={
        "username": signsim.tenant, "clientname": "api@example.pe", "password": "x"},
        timeout=10)
    assert answer.status_code == 200, answer.text
    session = requests.Session()
    session.headers["Authorization"] = f"jwt-bearer {answer.json()['access_token']}"
    return session


def test_process_signed_and_its_callback_received(signsim: Signsim) -> None:
    api, http = signsim.provider_url("identiasign"), login(signsim)
    callback = signsim.capture_url("callback")
    created = http.put(f"{api}/api/signature_processes", files={
        "pdfFiles": ("contrato.pdf", signsim.sample_pdf(), "application/pdf")}, data={
        "signers": json.dumps([SIGNER]), "signOrder": "true", "expire": "3600",
        "description": "Contrato de prueba", "urlCallback": callback}, timeout=30)
    assert created.status_code == 201, created.text
    process = created.json()["id"]
    # The signer got the link by e-mail.
    assert signsim.last_link(to="ana@example.com", provider="identiasign")

    # The signer passes the facial check and signs (what the link's page posts).
    signed = signsim.admin("POST", f"identiasign/processes/{process}/signers/PER:12345678/sign",
                           json={"username": signsim.tenant})
    assert signed.status_code == 200, signed.text

    [delivery] = signsim.wait_for_capture(callback)
    body = json.loads(delivery["body"])
    assert body["status"] == "signed"
    # The simulator's side of it: the delivery attempts of this process.
    [attempt] = signsim.webhooks(resource=process, wait=5)
    assert attempt["url"] == callback and attempt["body"]["status"] == "signed"
    listed = http.get(f"{api}/api/signature_processes", params={"process_id": process},
                      timeout=10)
    assert listed.status_code == 200, listed.text


def test_the_token_expires_after_an_hour_of_the_entitys_clock(signsim: Signsim) -> None:
    api, http = signsim.provider_url("identiasign"), login(signsim)
    assert http.get(f"{api}/api/labels", timeout=10).status_code == 200
    signsim.advance_clock(3601, provider="identiasign")
    assert http.get(f"{api}/api/labels", timeout=10).status_code == 401


def test_labels_belong_to_the_entity(signsim: Signsim) -> None:
    api, http = signsim.provider_url("identiasign"), login(signsim)
    assert http.post(f"{api}/api/labels", data={"label": "contratos"}, timeout=10).ok
    labels = http.get(f"{api}/api/labels", timeout=10).json()["labels"]
    assert any("contratos" in json.dumps(label) for label in labels), labels
