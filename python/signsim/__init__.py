"""signsim: a local simulator of e-signature and identity-verification provider APIs
(Uanataca, Signal, QI Tech, Mensatek, IdentiaSign), with a pytest fixture.

``pip install signsim`` installs the ``signsim`` command (the simulator itself) and this
package. Its pytest plugin registers itself: a test asks for the ``signsim`` fixture and
gets a ``Signsim`` (the simulator's ``.url``, its own ``.tenant``, and helpers). Outside
pytest, ``Server.start()`` runs the installed binary and ``Signsim(server.url)`` talks to it.
"""

from signsim._server import Server, SignsimError, find_binary
from signsim.client import Signsim, Unavailable, new_tenant

__all__ = ["Server", "Signsim", "SignsimError", "Unavailable", "find_binary", "new_tenant"]
