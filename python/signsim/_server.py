"""Starting and stopping the installed ``signsim`` binary.

The binary comes with this package (``pip install signsim`` puts it in the interpreter's
scripts directory, beside ``python`` and ``pytest``). ``serve --port 0`` picks a free port
and the simulator writes one ``NAME URL`` line per listener on standard output, the main
one (``signsim http://127.0.0.1:PORT``) first, once it is listening: that line is the
address.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from pathlib import Path
from typing import IO, List, Optional, Sequence

__all__ = ["Server", "find_binary", "SignsimError"]

#: How long ``Server.start`` waits for the address line before giving up (seconds).
START_TIMEOUT = 30.0


class SignsimError(RuntimeError):
    """The simulator could not be found, started, or answered an admin call badly."""


def _executable(directory: str) -> Optional[Path]:
    name = "signsim.exe" if os.name == "nt" else "signsim"
    candidate = Path(directory) / name
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def find_binary() -> Path:
    """The ``signsim`` binary to run.

    In order: ``$SIGNSIM_BIN``; the one installed with this package, in the running
    interpreter's scripts directory (a venv's ``bin/``), or the user scheme's (``pip install
    --user``); else ``signsim`` on ``PATH``.
    """
    override = os.environ.get("SIGNSIM_BIN")
    if override:
        path = Path(override)
        if not path.is_file():
            raise SignsimError(f"SIGNSIM_BIN={override} is not a file")
        return path
    directories: List[str] = [sysconfig.get_path("scripts")]
    # The interpreter's own directory: a venv's bin/ even when sysconfig says otherwise.
    directories.append(str(Path(sys.executable).parent))
    try:
        scheme = f"{os.name}_user" if os.name != "posix" else "posix_user"
        directories.append(sysconfig.get_path("scripts", scheme))
    except KeyError:
        pass
    for directory in directories:
        found = _executable(directory)
        if found:
            return found
    on_path = shutil.which("signsim")
    if on_path:
        return Path(on_path)
    raise SignsimError(
        "no signsim binary: `pip install signsim` installs it beside the Python interpreter "
        f"(looked in {', '.join(directories)} and PATH); or set SIGNSIM_BIN to one"
    )


def _drain(stream: IO[str]) -> None:
    """Reads ``stream`` to its end (the process exited), then closes it."""
    with stream:
        stream.read()


class Server:
    """One running simulator: ``Server.start()``, then ``.url``, then ``.stop()``.

    Also a context manager::

        with Server.start(seed=1) as server:
            requests.get(f"{server.url}/_signsim/health")
    """

    def __init__(self, process: "subprocess.Popen[str]", url: str, log_path: Path) -> None:
        self.process = process
        #: The main listener's base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash).
        self.url = url
        #: The file the simulator's log (standard error) goes to, removed by ``stop``.
        self.log_path = log_path

    @classmethod
    def start(
        cls,
        seed: Optional[int] = None,
        args: Sequence[str] = (),
        binary: Optional[Path] = None,
        timeout: float = START_TIMEOUT,
    ) -> "Server":
        """Start ``signsim serve --port 0`` (with ``--seed`` when given, then ``args``).

        The simulator's log (standard error) goes to a temporary file, whose end is shown
        when it does not start.
        """
        binary = binary or find_binary()
        command = [str(binary), "serve", "--port", "0"]
        if seed is not None:
            command += ["--seed", str(seed)]
        command += list(args)
        handle, name = tempfile.mkstemp(prefix="signsim-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
        try:
            # Append mode: the child writes at the end whatever we read meanwhile.
            with open(log_path, "ab") as log:
                process = subprocess.Popen(
                    command, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                    text=True,
                )
        except OSError as error:
            log_path.unlink()
            raise SignsimError(f"cannot run {binary}: {error}") from error
        first: List[str] = []
        assert process.stdout is not None
        stdout = process.stdout
        # readline blocks: read it in a thread so that a binary that never announces itself
        # fails after `timeout` instead of hanging the test run.
        reader = threading.Thread(target=lambda: first.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        words = first[0].split() if first else []
        if len(words) != 2 or words[0] != "signsim":
            process.kill()
            process.wait()
            tail = log_path.read_text("utf-8", "replace")[-2000:]
            log_path.unlink()
            said = first[0].strip() if first else f"nothing within {timeout:g} s"
            raise SignsimError(
                f"{' '.join(command)} did not announce its address ({said}); its log:\n{tail}"
            )
        # The other listeners' lines (--listen) and nothing else follow: drain them so that
        # the pipe never fills.
        threading.Thread(target=_drain, args=(stdout,), daemon=True).start()
        return cls(process, words[1].rstrip("/"), log_path)

    def log(self) -> str:
        """The simulator's log so far (its standard error)."""
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the simulator (SIGTERM, then SIGKILL after ``timeout`` seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            self.log_path.unlink()
        except OSError:
            pass

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
