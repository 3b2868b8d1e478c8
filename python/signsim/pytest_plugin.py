"""The pytest plugin: the ``signsim`` fixture, registered by the package's ``pytest11``
entry point (installing the package is enough; no ``conftest.py``).

One simulator per test session, started from the installed binary on a free port (or the
one at ``--signsim-url`` / ``$SIGNSIM_URL``), stopped at the end; each test gets a
``signsim.Signsim`` of its own tenant, reset after the test::

    def test_health(signsim):
        assert requests.get(f"{signsim.url}/_signsim/health").json()["status"] == "ok"

Options (command line, or ``[pytest]`` ini keys without the dashes and with ``_``):

- ``--signsim-url URL``: use that simulator instead of starting one (``$SIGNSIM_URL``).
- ``--signsim-seed N``: ``serve --seed N`` (default 1): ids and OTPs repeat run to run.
- ``--signsim-args "..."``: more ``serve`` arguments (``$SIGNSIM_ARGS``), split as a shell
  would.
- ``--signsim-strict``: a helper whose server call answers 404 (an older binary without
  the capture receiver or the sample PDF) fails the test instead of skipping it
  (``$SIGNSIM_STRICT=1``).

``$SIGNSIM_BIN`` runs another binary; ``$SIGNSIM_ADMIN_TOKEN`` is sent to the admin API.
"""

from __future__ import annotations

import os
import shlex
from typing import Iterator, NoReturn, Optional

import pytest

from signsim._server import Server
from signsim.client import Signsim, new_tenant


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("signsim", "signsim (the e-signature provider simulator)")
    group.addoption("--signsim-url", default=None,
                    help="use the simulator at URL instead of starting one ($SIGNSIM_URL)")
    group.addoption("--signsim-seed", default=None, type=int,
                    help="--seed of the simulator started for the session (default 1)")
    group.addoption("--signsim-args", default=None,
                    help="more `signsim serve` arguments ($SIGNSIM_ARGS)")
    group.addoption("--signsim-strict", action="store_true", default=None,
                    help="fail, not skip, when the simulator lacks a helper's endpoint "
                         "($SIGNSIM_STRICT=1)")
    parser.addini("signsim_url", "use the simulator at this URL instead of starting one")
    parser.addini("signsim_seed", "--seed of the simulator started for the session")
    parser.addini("signsim_args", "more `signsim serve` arguments")


def _setting(config: pytest.Config, name: str) -> Optional[str]:
    """An option from the command line, else the environment, else the ini file."""
    given = config.getoption(f"signsim_{name}")
    if given is not None:
        return str(given)
    from_env = os.environ.get(f"SIGNSIM_{name.upper()}")
    if from_env:
        return from_env
    from_ini = config.getini(f"signsim_{name}") if name != "strict" else None
    return str(from_ini) if from_ini else None


class _FixtureSignsim(Signsim):
    """The fixture's ``Signsim``: a missing endpoint skips the test unless strict."""

    strict = False

    def _unavailable(self, message: str) -> NoReturn:
        if self.strict:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def signsim_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """The session's simulator's base URL: one started from the installed binary (on a
    free port, stopped at the end of the session) or ``--signsim-url``."""
    url = _setting(pytestconfig, "url")
    if url:
        yield url.rstrip("/")
        return
    seed = int(_setting(pytestconfig, "seed") or 1)
    args = shlex.split(_setting(pytestconfig, "args") or "")
    server = Server.start(seed=seed, args=args)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def signsim(signsim_url: str, request: pytest.FixtureRequest) -> Iterator[Signsim]:
    """This test's ``signsim.Signsim``: ``.url``, ``.tenant`` (unique to the test, for
    every provider's credentials), ``.http`` and the helpers (``last_otp``,
    ``last_link``, ``advance_clock``, ``capture_url``, ``wait_for_capture``,
    ``webhooks``, ``ca_pem``, ``sample_pdf``). Its tenant is reset after the test."""
    sim = _FixtureSignsim(signsim_url, tenant=new_tenant(request.node.name))
    sim.strict = _setting(request.config, "strict") in ("1", "True", "true", "yes")
    try:
        yield sim
    finally:
        try:
            sim.reset()
        finally:
            sim.close()
