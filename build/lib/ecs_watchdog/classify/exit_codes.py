"""What a container's exit code means, in words an on-call engineer can act on."""

from __future__ import annotations

import signal as _signal

EXIT_CODE_MEANINGS: dict[int, str] = {
    0: "exited successfully (0), but an essential container must keep running: the process finished",
    1: "a general application error (1): the process failed on its own; its logs say why",
    2: "a usage error (2): bad command-line arguments or a shell built-in misused",
    126: "command not executable (126): found in the image but not runnable (permissions or format)",
    127: "command not found (127): the entrypoint or command does not exist in the image",
    134: "aborted (134, SIGABRT): the runtime called abort(), e.g. a failed assertion or fatal runtime error",
    137: "killed (137, SIGKILL): out of memory, or it ignored SIGTERM until the stop timeout",
    139: "segmentation fault (139, SIGSEGV): the process crashed reading invalid memory",
    143: "terminated (143, SIGTERM): it was asked to stop and exited",
}

NEVER_STARTED = "no exit code: the container never started"
FINISHED = "exited successfully (0): the process did its work and finished"


def exit_code_meaning(exit_code: int | None, *, keeps_running: bool = True) -> str:
    """A one-line meaning for any exit code, including codes not in the table and `None`. `keeps_running`:
    the container was meant to run until stopped (a service's), so even a 0 means it gave up."""
    if exit_code is None:
        return NEVER_STARTED
    if exit_code == 0 and not keeps_running:
        return FINISHED
    if exit_code in EXIT_CODE_MEANINGS:
        return EXIT_CODE_MEANINGS[exit_code]
    signal = exit_signal(exit_code)
    if signal:
        return f"killed by {signal} ({exit_code} = 128 + {exit_code - 128})"
    return f"the process exited with code {exit_code}: an application-defined error"


def exit_signal(exit_code: int | None) -> str | None:
    """The signal name behind an exit code above 128 (shell convention), or None."""
    if exit_code is None or not 128 < exit_code < 128 + 65:
        return None
    try:
        return _signal.Signals(exit_code - 128).name
    except ValueError:
        return f"signal {exit_code - 128}"
