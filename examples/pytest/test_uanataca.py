"""Uanataca (one-shot signature) with the `signsim` fixture: `pip install signsim pytest`,
then `pytest examples/pytest/test_uanataca.py`. No conftest: the fixture comes with the
package. The Uanataca tenant is the `X-Signsim-Tenant` header, which `signsim.http` sends.
"""
import requests

from signsim import Signsim

TOKEN = "fd6a21e6fb7d43b9893a520d67d6ff60"  # the demo token every request accepts
PHONE = "+34600123456"


def create_request(signsim: Signsim) -> int:
    api = f"{signsim.provider_url('uanataca')}/api/v1"
    created = signsim.http.post(f"{api}/request", data={
        "token": TOKEN, "given_name": "Ana", "surname_1": "Pytest",
        "email": "ana@example.com", "mobile_phone_number": PHONE}, timeout=10)
    assert created.status_code == 201, created.text
    return int(created.json()["details"])


def test_sign_an_uploaded_pdf_with_the_otp_from_the_outbox(signsim: Signsim) -> None:
    api = f"{signsim.provider_url('uanataca')}/api/v1"
    pk = create_request(signsim)
    uploaded = signsim.http.post(f"{api}/document/{pk}", files={
        "file": ("contract.pdf", signsim.sample_pdf(pages=2), "application/pdf")}, timeout=10)
    assert uploaded.status_code == 200, uploaded.text
    uid = uploaded.json()["details"]
    assert signsim.http.post(f"{api}/otp/{pk}", timeout=10).status_code == 200

    otp = signsim.last_otp(to=PHONE, provider="uanataca")
    signed = signsim.http.post(f"{api}/sign/{pk}", json={"secret": otp}, timeout=30)
    assert signed.status_code == 200, signed.text

    pdf = signsim.http.get(f"{api}/document/{pk}/signed/{uid}", timeout=10).content
    assert pdf.startswith(b"%PDF") and b"/ByteRange" in pdf
    # Every signature chains to the simulator's CA (give it to pyHanko or your validator).
    assert "BEGIN CERTIFICATE" in signsim.ca_pem()


def test_the_otp_expires_on_the_tenants_clock(signsim: Signsim) -> None:
    api = f"{signsim.provider_url('uanataca')}/api/v1"
    pk = create_request(signsim)
    # The request's own contract: a PDF to upload without a sample.
    contract = signsim.http.get(f"{api}/document/{pk}/contract", timeout=10).content
    signsim.http.post(f"{api}/document/{pk}", files={
        "file": ("contract.pdf", contract, "application/pdf")}, timeout=10)
    assert signsim.http.post(f"{api}/otp/{pk}", timeout=10).status_code == 200
    otp = signsim.last_otp(to=PHONE)

    signsim.advance_clock(3600, provider="uanataca")  # this test's tenant alone

    expired = signsim.http.post(f"{api}/sign/{pk}", json={"secret": otp}, timeout=10)
    assert 400 <= expired.status_code < 500, expired.text


def test_another_tenant_sees_nothing_of_this_one(signsim: Signsim) -> None:
    pk = create_request(signsim)
    stranger = requests.get(
        f"{signsim.provider_url('uanataca')}/api/v1/request/{pk}",
        headers={"X-Signsim-Tenant": f"{signsim.tenant}-other"}, timeout=10)
    assert stranger.status_code == 404
    assert signsim.outbox(provider="uanataca") == []  # nothing sent yet: no OTP asked
