"""A subprocess whose output goes to a temporary file: the part every real-server fixture shares."""

from __future__ import annotations

import signal
import subprocess
import tempfile
from typing import Any


class LoggedProcess:
    """Starts ``args`` with stdout and stderr in a temporary file; :meth:`stop` ends it by SIGTERM (SIGKILL
    after 20 s) and closes the file."""

    def __init__(self, args: list[str], **popen: Any) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, **popen)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
