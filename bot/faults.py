"""Points where a test makes the process die on purpose (GARE_CRASH_AT=name): SIGKILL, as a
power cut or an OOM kill would, with no cleanup and no exception handler run. Unset in
production, each point costs one dictionary lookup."""
from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("GARE_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def process_gone(worker: str) -> bool:
    """True when a worker id (host:pid, see bot.nudges.worker_id) names a process of this host
    that no longer runs: its claims can be resumed at once instead of after the stale delay.
    Another host's workers are never judged from here."""
    import socket

    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False
