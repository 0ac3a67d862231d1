"""MSAL's token cache for device code sign-in, kept in a file only its owner can read.

The cache holds refresh tokens, which sign a person in without asking: a file others can read
is refused, and every write replaces the file whole with a new 0600 one.

On Windows, file modes say nothing of who may read a file (NTFS access lists do), so the check
is skipped there: the default place, the state folder in the person's own profile
(%LOCALAPPDATA%), can be read by no other user. An ``auth.token_cache`` set elsewhere on Windows
must be in a folder only its owner can read (the manual says so: docs/windows.md).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

from ..config import Config
from ..errors import ConfigError

CACHE_FILE_NAME = "token-cache.json"


class TokenCacheFile:
    """MSAL's token cache kept in a file that only its owner may read: it holds refresh tokens."""

    def __init__(self, path: Path) -> None:
        import msal  # here, not above: only device code sign-in needs it

        self.path = path
        self.cache = msal.SerializableTokenCache()

    def load(self) -> None:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ConfigError(f"cannot read token cache {self.path}: {exc.strerror}") from None
        if os.name == "posix" and mode & 0o077:  # Windows: see the module's docstring
            raise ConfigError(
                f"token cache {self.path} can be read by other users and it holds sign-in "
                f"tokens: run chmod 600 {self.path}"
            )
        try:
            self.cache.deserialize(self.path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read token cache {self.path}: {exc.strerror}") from None
        except ValueError:
            raise ConfigError(
                f"token cache {self.path} is damaged: delete it and sign in again"
            ) from None

    def save(self) -> None:
        """Write the cache if it changed: a new 0600 file renamed over the old one, so a crash
        never leaves half a file and the tokens are never readable by others, not even briefly."""
        if not self.cache.has_state_changed:
            return
        data = self.cache.serialize()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise

    def __repr__(self) -> str:
        return f"TokenCacheFile({str(self.path)!r})"


def token_cache_path(config: Config, state_dir: Path | None = None) -> Path:
    """``auth.token_cache``, else ``token-cache.json`` in the state directory (``state_dir``,
    ``state.dir``, or the per-user state folder of the platform)."""
    if config.auth.token_cache:
        return Path(config.auth.token_cache).expanduser()
    if state_dir is None:
        if config.state.dir:
            state_dir = Path(config.state.dir).expanduser()
        else:
            import platformdirs  # only device_code without a state dir needs it

            state_dir = platformdirs.user_state_path("bookings-import")
    return state_dir / CACHE_FILE_NAME
