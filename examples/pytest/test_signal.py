"""Signal (Ecuador) with the `signsim` fixture. The Signal tenant is the login's username:
logging in as `signsim.tenant` keeps this test's requests apart from everyone else's.
"""
import base64
from typing import Any, Dict

import requests

from signsim import Signsim

PHONE = "+593991234567"
# What the simulator looks at in an identity image: the JPEG or PNG signature.
JPEG = base64.b64encode(bytes([0xFF, 0xD8, 0xFF, 0xE0, 0, 16]) + b"JFIF").decode()
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").decode()


def login(signsim: Signsim) -> requests.Session:
    """A session carrying the Bearer token of this test's Signal tenant."""
    answer = requests.post(f"{signsim.provider_url('signal')}/auth/login",
                           json={"username": signsim.tenant, "password": "x"}, timeout=10)
    assert answer.status_code == 200, answer.text
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return session


def person(pdf: bytes) -> Dict[str, Any]:
    return {
        "given_name": "Maria", "surname_1": "Garcia", "id_document_type": "IDC",
        "id_document_country": "EC", "serial_number": "1712345678",
        "email": "maria@example.com", "mobile_phone_number": PHONE,
        "document_front": JPEG, "document_rear": JPEG, "document_owner": PNG,
        "documents_to_sign": base64.b64encode(pdf).decode(),
    }


def test_one_call_request_then_sign_and_download(signsim: Signsim) -> None:
    api, http = signsim.provider_url("signal"), login(signsim)
    pdf = signsim.sample_pdf()
    created = http.post(f"{api}/sign/request", json=person(pdf), timeout=30)
    assert created.status_code == 200, created.text
    pk, uid = created.json()["pk"], created.json()["uid"]

    # The OTP went by SMS: read it from this tenant's outbox.
    otp = signsim.last_otp(to=PHONE, provider="signal")
    signed = http.post(f"{api}/sign", json={"secret": otp, "pk": str(pk)}, timeout=30)
    assert signed.status_code == 200, signed.text
    assert http.get(f"{api}/sign/{pk}", timeout=10).json()["details"]["status"] == "ISSUED"

    download = http.post(f"{api}/sign/download",
                         json={"pk": str(pk), "type": "signed", "uid": uid}, timeout=30)
    assert download.status_code == 200
    assert download.content.startswith(pdf), "the signature is an incremental update"
    assert b"/ByteRange" in download.content


def test_biometric_check_passed_on_its_page(signsim: Signsim) -> None:
    api, http = signsim.provider_url("signal"), login(signsim)
    link = http.post(f"{api}/biometric", json={}, timeout=10).json()["url"]
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "Pass the check" in page.text
    # What the page's button posts.
    done = requests.post(f"{link}/complete", json={"outcome": "passed"}, timeout=10)
    assert done.status_code == 200, done.text
    assert requests.get(link, timeout=10).status_code == 410  # used


def test_the_biometric_link_expires_on_the_tenants_clock(signsim: Signsim) -> None:
    api, http = signsim.provider_url("signal"), login(signsim)
    link = http.post(f"{api}/biometric", json={}, timeout=10).json()["url"]
    signsim.advance_clock(31 * 60, provider="signal")  # valid for 30 minutes
    assert requests.get(link, timeout=10).status_code == 410


def test_no_token_is_401_in_signals_error_shape(signsim: Signsim) -> None:
    answer = requests.get(f"{signsim.provider_url('signal')}/sign", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["status"] is False
