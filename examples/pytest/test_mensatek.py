"""Mensatek (identity verification by video) with the `signsim` fixture. The Mensatek
tenant is the API user of HTTP Basic: this test's is `signsim.tenant` (any token). Status
reports go to the simulator's own receiver (`capture_url`).
"""
import json
from typing import Any, Dict

import requests

from signsim import Signsim

PHONE = "34600000001"


def call(signsim: Signsim, function: str, **params: str) -> Dict[str, Any]:
    """A Mensatek API call as this test's API user, answered in JSON."""
    answer = requests.post(f"{signsim.provider_url('mensatek')}/v7/{function}",
                           auth=(signsim.tenant, "any-token"),
                           json={**params, "Resp": "JSON"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()[0])


def verify(signsim: Signsim) -> str:
    """Asks for a verification and answers its ID."""
    asked = call(signsim, "VerificarIdentidad", Telefono=PHONE, Dni="00000000T",
                 Mensaje="Verifique su identidad: [LINK]")
    assert asked["Res"] == "10", asked
    return str(asked["ID"])


def test_verified_person_gets_a_certificate_and_every_report_arrives(signsim: Signsim) -> None:
    reports = signsim.capture_url("reports")
    # What Mensatek's panel sets: where this API user's status reports go.
    setup = signsim.admin("POST", "mensatek/report-url", json={
        "api_user": signsim.tenant, "url": reports, "format": "json"})
    assert setup.status_code < 300, setup.text

    id_ = verify(signsim)
    # The person got the link by SMS; going through it is one admin call (or the page).
    assert "/_signsim/mensatek/v/" in signsim.last_link(to=PHONE, provider="mensatek")
    done = signsim.admin("POST", f"mensatek/verifications/{id_}/complete", json={
        "api_user": signsim.tenant, "outcome": "verified"})
    assert done.status_code == 200, done.text

    # The certificate takes 60 s of this API user's clock.
    assert call(signsim, "GetCertificadoVerificacion", Id=id_)["Res"] == "-5"
    signsim.advance_clock(60, provider="mensatek")
    certificate = requests.post(
        f"{signsim.provider_url('mensatek')}/v7/GetCertificadoVerificacion",
        auth=(signsim.tenant, "any-token"), data={"Id": id_}, timeout=30)
    assert certificate.content.startswith(b"%PDF")

    # Sent, opened, in progress, verified, certificate ready: in order.
    received = signsim.wait_for_capture(reports, count=5)
    states = [json.loads(r["body"])["Estado"] for r in received]
    assert states == ["5001", "5002", "5003", "5010", "5100"]


def test_each_verification_costs_a_credit(signsim: Signsim) -> None:
    before = int(call(signsim, "GetCreditos")["Cred"])
    verify(signsim)
    assert int(call(signsim, "GetCreditos")["Cred"]) == before - 1


def test_the_link_expires_after_72_hours_of_the_api_users_clock(signsim: Signsim) -> None:
    id_ = verify(signsim)
    signsim.advance_clock(72 * 3600 + 1, provider="mensatek")
    late = signsim.admin("POST", f"mensatek/verifications/{id_}/complete", json={
        "api_user": signsim.tenant, "outcome": "verified"})
    assert late.status_code == 409, late.text
