"""The kill switch: an environment variable or a file that makes the service answer with the
configured fallback instead of the model, checked on every request so no restart is needed.

On:  export NB2PROD_KILL_SWITCH=1   (or true/yes/on), or  touch var/KILL_SWITCH
Off: unset it / set it to anything else, and remove the file.
"""
import logging
import os
import threading
from pathlib import Path
from typing import Mapping, Optional

log = logging.getLogger("nb2prod.service")

TRUTHY = ("1", "true", "yes", "on")


class KillSwitch:
    def __init__(self, env_name: str, file_path: Path, environ: Optional[Mapping[str, str]] = None):
        self.env_name = env_name
        self.file_path = Path(file_path)
        self._environ = environ
        self._lock = threading.Lock()
        self._last_reason: Optional[str] = None

    def reason(self) -> Optional[str]:
        """Why the switch is on ("NB2PROD_KILL_SWITCH=1", "file var/KILL_SWITCH exists"), or None when off."""
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(self.env_name, "")
        if value.strip().lower() in TRUTHY:
            reason: Optional[str] = f"{self.env_name}={value.strip()}"
        elif self.file_path.exists():
            reason = f"file {self.file_path} exists"
        else:
            reason = None
        self._log_change(reason)
        return reason

    def active(self) -> bool:
        return self.reason() is not None

    def _log_change(self, reason: Optional[str]) -> None:
        with self._lock:
            if reason == self._last_reason:
                return
            self._last_reason = reason
        if reason:
            log.warning("kill switch ON (%s): serving the fallback prediction", reason)
        else:
            log.warning("kill switch OFF: serving the model again")
