#!/usr/bin/env python3
"""Drives a simulator running in the image-like chroot from outside (stdlib only).

usage: chroot_flow.py SIGNSIM_URL OUT_DIR

1. A Uanataca classic flow (request, upload, OTP, sign, download): the signed PDF is
   written to OUT_DIR/signed.pdf.
2. A QI Tech envelope signed through its link, with the webhook registered as
   http://receiver.test:PORT/hook: the receiver (started here, on 127.0.0.1) must get it,
   so the simulator resolved the name through the chroot's /etc/hosts and nsswitch.conf.
Exits non-zero naming the step that failed.
"""
import base64
import http.server
import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

TOKEN = "fd6a21e6fb7d43b9893a520d67d6ff60"
QI_KEY = "qi-key-chroot"
RECEIVED = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        RECEIVED.append((self.path, self.headers.get("Host"), self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(base, method, path, body=None, headers=None):
    data = body
    headers = dict(headers or {})
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def expect(step, status, data, wanted):
    if status != wanted:
        sys.exit(f"FAIL {step}: {status} {data[:300]!r}")


def uanataca_classic(base, out_dir):
    api = "/uanataca/api/v1"
    phone = "+34600111222"
    status, data = call(base, "POST", f"{api}/request", {
        "token": TOKEN, "given_name": "Chroot", "surname_1": "Test",
        "email": "chroot@example.com", "mobile_phone_number": phone})
    expect("uanataca create", status, data, 201)
    pk = json.loads(data)["details"]
    status, pdf = call(base, "GET", f"{api}/document/{pk}/contract")
    expect("uanataca contract", status, pdf, 200)
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"doc.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    body += pdf + f"\r\n--{boundary}--\r\n".encode()
    status, data = call(base, "POST", f"{api}/document/{pk}", body,
                        {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    expect("uanataca upload", status, data, 200)
    uid = json.loads(data)["details"]
    status, data = call(base, "POST", f"{api}/otp/{pk}")
    expect("uanataca otp", status, data, 200)
    status, data = call(base, "GET", "/_signsim/outbox?to=" + urllib.request.quote(phone))
    expect("outbox", status, data, 200)
    otp = json.loads(data)[-1]["otp"]
    status, data = call(base, "POST", f"{api}/sign/{pk}", {"secret": otp})
    expect("uanataca sign", status, data, 200)
    status, signed = call(base, "GET", f"{api}/document/{pk}/signed/{uid}")
    expect("uanataca download", status, signed, 200)
    if not signed.startswith(b"%PDF") or b"/ByteRange" not in signed:
        sys.exit("FAIL uanataca download: not a signed PDF")
    with open(f"{out_dir}/signed.pdf", "wb") as handle:
        handle.write(signed)
    print(f"uanataca: signed PDF of {len(signed)} bytes")
    return pdf


def qitech_webhook(base, receiver_port, contract):
    hook = f"http://receiver.test:{receiver_port}/hook"
    status, data = call(base, "POST", "/_signsim/qitech/webhook",
                        {"api_key": QI_KEY, "url": hook, "signature_key": "s3cr3t"})
    expect("qitech webhook", status, data, 200)
    auth = {"Authorization": QI_KEY}
    status, data = call(base, "POST", "/qitech/sign/envelope", {
        "id": "chroot-1", "subject": "Chroot", "expiration_date": "2099-01-01",
        "signers": [{
            "id": "1", "name": "Ana Chroot", "email": "ana@example.com",
            "birthdate": "1992-09-15", "document_number": "111.111.111-11",
            "phone": {"international_dial_code": "55", "area_code": "11", "number": "988878722"},
            "document_submission_method": "email", "authentication_submission_method": "sms"}],
    }, auth)
    expect("qitech create", status, data, 201)
    status, data = call(base, "POST", "/qitech/sign/envelope/chroot-1/document", {
        "document_b64": base64.b64encode(contract).decode(), "name": "Contrato",
        "document_type": "pdf"}, auth)
    expect("qitech document", status, data, 201)
    status, data = call(base, "PATCH", "/qitech/sign/envelope/chroot-1",
                        {"status": "submitted"}, auth)
    expect("qitech submit", status, data, 200)
    status, data = call(base, "GET", "/qitech/sign/envelope/chroot-1", None, auth)
    link = json.loads(data)["signers"][0]["signature_url"]
    status, data = call(link, "GET", "")
    expect("qitech signing page", status, data, 200)
    status, data = call(base, "GET", "/_signsim/outbox?provider=qitech&channel=sms")
    otp = json.loads(data)[-1]["otp"]
    status, data = call(base, "POST", "/_signsim/qitech/envelopes/chroot-1/signers/1/sign",
                        {"api_key": QI_KEY, "cpf": "11111111111", "token": otp})
    expect("qitech sign", status, data, 200)
    for _ in range(200):
        if RECEIVED:
            break
        time.sleep(0.1)
    if not RECEIVED:
        _, attempts = call(base, "GET", "/_signsim/webhooks")
        sys.exit(f"FAIL qitech webhook: nothing received at {hook}; attempts: {attempts[:600]!r}")
    path, host, body = RECEIVED[0]
    print(f"qitech: webhook received at {host}{path}: {body[:80]!r}...")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    base, out_dir = sys.argv[1].rstrip("/"), sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    contract = uanataca_classic(base, out_dir)
    qitech_webhook(base, server.server_address[1], contract)
    server.shutdown()


if __name__ == "__main__":
    main()
