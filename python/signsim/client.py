"""A test's view of the simulator: its address, its own tenant, and the admin calls a test
needs (outbox, clock, reset, the capture receiver, webhooks, the CA, a sample PDF).

Everything is plain ``requests`` against the admin API under ``/_signsim``; the JSON
shapes are the server's, documented in the README and ``/_signsim/openapi``.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from urllib.parse import urlencode
from typing import Any, Dict, List, NoReturn, Optional

import requests

__all__ = ["Signsim", "Unavailable", "new_tenant"]

#: Seconds each HTTP call may take before ``requests`` gives up.
TIMEOUT = 30.0

#: The characters of a capture name (and of the tenant names made here).
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Unavailable(RuntimeError):
    """The simulator answered 404 for a call this package expects: an older binary."""


def new_tenant(hint: str = "") -> str:
    """A fresh tenant name: ``hint`` (a test's name, made safe and short) and 12 random hex
    digits, e.g. ``test_signs-3f9a0c1d2e4b``. Safe as a header value, a Basic user, an API
    key and a capture name."""
    stem = _NAME.sub("-", hint).strip("-._")[:40].rstrip("-._")
    random = uuid.uuid4().hex[:12]
    return f"{stem}-{random}" if stem else f"t-{random}"


class Signsim:
    """The simulator at ``url``, seen by one test through its own tenant.

    ``tenant`` is one name used with every provider's credentials, so that whatever the
    test makes lives in tenants nobody else uses:

    - Uanataca: the ``X-Signsim-Tenant`` header (``http`` sends it).
    - QI Tech: the API key (``Authorization: <tenant>``).
    - Signal: the login's username (``POST /signal/auth/login``), or the Bearer token.
    - Mensatek: the API user of HTTP Basic (``auth=(tenant, "any-token")``).
    - IdentiaSign: the login's ``username`` (the entity).

    ``reset()`` forgets that name in every provider (state, clock, outbox, webhooks); the
    pytest fixture calls it after each test.
    """

    def __init__(
        self,
        url: str,
        tenant: Optional[str] = None,
        admin_token: Optional[str] = None,
        session: Optional[requests.Session] = None,
    ) -> None:
        #: The simulator's base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash).
        self.url: str = url.rstrip("/")
        #: This test's tenant name (see the class's documentation).
        self.tenant: str = tenant or new_tenant()
        #: A session for the providers' APIs; sends ``X-Signsim-Tenant: <tenant>``, which
        #: names the Uanataca tenant and is ignored by the other providers.
        self.http: requests.Session = session or requests.Session()
        self.http.headers["X-Signsim-Tenant"] = self.tenant
        self._admin = requests.Session()
        token = admin_token if admin_token is not None else os.environ.get("SIGNSIM_ADMIN_TOKEN")
        if token and token.strip():
            # The admin API asks for it when the simulator runs with --admin-token.
            self._admin.headers["Authorization"] = f"Bearer {token.strip()}"
        self._captures = itertools.count(1)
        self._capture_names: List[str] = []

    def __repr__(self) -> str:
        return f"Signsim(url={self.url!r}, tenant={self.tenant!r})"

    def _unavailable(self, message: str) -> NoReturn:
        """A call this package expects answered 404 (the pytest fixture skips instead)."""
        raise Unavailable(message)

    # -- addresses -------------------------------------------------------------------

    def provider_url(self, provider: str) -> str:
        """The base URL of a provider's API, e.g. ``provider_url("qitech")`` is
        ``{url}/qitech`` (a client's ``https://api.example.com`` swapped for it)."""
        return f"{self.url}/{provider.strip('/')}"

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """An admin call, ``path`` under ``/_signsim`` (with the admin token when set)."""
        kwargs.setdefault("timeout", TIMEOUT)
        return self._admin.request(method, f"{self.url}/_signsim/{path.lstrip('/')}", **kwargs)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.admin(method, path, **kwargs)
        if answer.status_code >= 400:
            raise AssertionError(
                f"{method} /_signsim/{path} answered {answer.status_code}: {answer.text}"
            )
        return answer.json()

    # -- the outbox ------------------------------------------------------------------

    def outbox(
        self, to: Optional[str] = None, provider: Optional[str] = None,
        channel: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        """The messages (SMS, e-mail, WhatsApp) sent by this tenant, oldest first, each
        ``{id, provider, tenant, channel, to, text, otp?, link?, at}``; filtered by
        recipient ``to`` (as the provider was given it), ``provider`` and ``channel``."""
        params = {"tenant": self.tenant, "to": to, "provider": provider, "channel": channel}
        return list(self._json("GET", "outbox", params=_given(params)))

    def last_message(
        self, to: Optional[str] = None, provider: Optional[str] = None,
        channel: Optional[str] = None, having: Optional[str] = None,
    ) -> Dict[str, Any]:
        """The newest message of ``outbox(to, provider, channel)`` (with member ``having``,
        e.g. ``"otp"``, when given); ``AssertionError`` when there is none."""
        messages = self.outbox(to=to, provider=provider, channel=channel)
        if having:
            messages = [m for m in messages if m.get(having)]
        if not messages:
            what = f"with a {having!r} " if having else ""
            raise AssertionError(
                f"no message {what}sent by tenant {self.tenant}"
                + "".join(f" {k}={v}" for k, v in _given(
                    {"to": to, "provider": provider, "channel": channel}).items())
            )
        return messages[-1]

    def last_otp(
        self, to: Optional[str] = None, provider: Optional[str] = None,
        channel: Optional[str] = None,
    ) -> str:
        """The one-time code last sent to ``to`` (by ``provider``, over ``channel``)."""
        return str(self.last_message(to, provider, channel, having="otp")["otp"])

    def last_link(
        self, to: Optional[str] = None, provider: Optional[str] = None,
        channel: Optional[str] = None,
    ) -> str:
        """The link (a signing or verification page) last sent to ``to``."""
        return str(self.last_message(to, provider, channel, having="link")["link"])

    # -- the clock and the tenant's state --------------------------------------------

    def advance_clock(self, seconds: int, provider: Optional[str] = None) -> Dict[str, Any]:
        """Moves this tenant's clock ``seconds`` forward (in every provider, or in
        ``provider`` alone): timers due by then fire (expiries, scripted transitions,
        scheduled messages, webhook retries). Answers ``{"now", "offset_seconds"}``."""
        body: Dict[str, Any] = {"seconds": seconds, "tenant": self.tenant}
        if provider:
            body["provider"] = provider
        return dict(self._json("POST", "clock/advance", json=body))

    def clock(self, provider: Optional[str] = None) -> Dict[str, Any]:
        """This tenant's clock, ``{"now", "offset_seconds"}``."""
        return dict(self._json("GET", "clock", params=_given(
            {"tenant": self.tenant, "provider": provider})))

    def reset(self) -> None:
        """Forgets this tenant in every provider (resources, clock, outbox, webhooks,
        journal) and the captures made through ``capture_url``; nobody else's."""
        self._json("POST", "reset", params={"tenant": self.tenant})
        for name in self._capture_names:
            # 404: a simulator without the receiver (nothing to forget).
            self.admin("DELETE", f"captures/{name}")
        self._capture_names.clear()

    def close(self) -> None:
        """Closes the HTTP sessions (their kept-alive connections)."""
        self.http.close()
        self._admin.close()

    # -- the built-in receiver (webhooks, callbacks, status reports) -------------------

    def capture_url(self, name: Optional[str] = None, **query: Any) -> str:
        """A URL of the simulator's own receiver, to give a provider as its webhook,
        callback or report URL: whatever arrives there is kept under a name unique to this
        test (``name`` is appended to the tenant). ``query`` goes into the URL:
        ``status=503`` makes the receiver answer 503, ``fail_first=2`` answers 500 twice
        then 200. ``captures(url)`` / ``wait_for_capture(url)`` read what arrived."""
        suffix = _NAME.sub("-", name) if name else str(next(self._captures))
        full = f"{self.tenant}.{suffix}"[:100]
        if full not in self._capture_names:
            self._capture_names.append(full)
        url = f"{self.url}/_signsim/capture/{full}"
        if query:
            url += "?" + urlencode(query)
        return url

    @staticmethod
    def _capture_name(name_or_url: str) -> str:
        if "/_signsim/capture/" in name_or_url:
            rest = name_or_url.split("/_signsim/capture/", 1)[1]
            return rest.split("?", 1)[0].split("/", 1)[0]
        return name_or_url

    def captures(self, name_or_url: str, wait: Optional[float] = None) -> List[Dict[str, Any]]:
        """What arrived at a capture URL (or name), oldest first, each
        ``{method, path, query, headers, body, at}`` (``body_encoding: "base64"`` when the
        body is not UTF-8). With ``wait``, an empty list waits up to that many seconds
        (at most 60) for the first request."""
        name = self._capture_name(name_or_url)
        params = {"wait": f"{wait:g}"} if wait is not None else {}
        timeout = TIMEOUT + (wait or 0)
        answer = self.admin("GET", f"captures/{name}", params=params, timeout=timeout)
        if answer.status_code == 404:
            self._unavailable(
                "this simulator has no capture receiver (GET /_signsim/captures answered "
                "404): a signsim binary older than this package?"
            )
        if answer.status_code >= 400:
            raise AssertionError(f"GET /_signsim/captures/{name}: {answer.status_code} "
                                 f"{answer.text}")
        return list(answer.json())

    def wait_for_capture(
        self, name_or_url: str, count: int = 1, timeout: float = 10.0
    ) -> List[Dict[str, Any]]:
        """Waits until at least ``count`` requests arrived at a capture URL (or name) and
        answers them all; ``AssertionError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            got = self.captures(name_or_url, wait=max(0.0, min(left, 60.0)))
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{len(got)} request(s) arrived at capture "
                    f"{self._capture_name(name_or_url)} within {timeout:g} s, not {count}"
                )
            # The server waits only for the first: between later ones, poll.
            time.sleep(0.05)

    # -- webhooks ----------------------------------------------------------------------

    def webhooks(
        self, resource: Optional[str] = None, wait: Optional[float] = None,
        provider: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        """This tenant's webhook delivery attempts, oldest first (of ``resource`` alone
        when given); with ``wait``, waits up to that many seconds for a first one."""
        params = _given({"tenant": self.tenant, "resource": resource, "provider": provider,
                         "wait": None if wait is None else f"{wait:g}"})
        return list(self._json("GET", "webhooks", params=params, timeout=TIMEOUT + (wait or 0)))

    # -- files -------------------------------------------------------------------------

    def ca_pem(self) -> str:
        """The simulator's root CA (PEM): what every signature it makes chains to."""
        answer = self.admin("GET", "ca.pem")
        answer.raise_for_status()
        return answer.text

    def sample_pdf(self, pages: int = 1) -> bytes:
        """A valid PDF of ``pages`` pages (1-50) to upload for signing."""
        answer = self.admin("GET", "samples/document.pdf", params={"pages": pages})
        if answer.status_code == 404:
            self._unavailable(
                "this simulator has no sample PDF (GET /_signsim/samples/document.pdf "
                "answered 404): a signsim binary older than this package?"
            )
        answer.raise_for_status()
        return answer.content


def _given(params: Dict[str, Optional[str]]) -> Dict[str, str]:
    """``params`` without the members that are ``None``."""
    return {k: v for k, v in params.items() if v is not None}
