"""The demo catalog's cache folder: generated once, atomically, whoever asks first.

A web app and a CLI may both start on an empty cache. Generation happens under an
exclusive file lock, into a temporary sibling folder that is renamed into place only when
complete, so a reader never sees a half-written catalog; whoever waited on the lock then
finds the finished folder and uses it. The version in the folder name lets a changed
generator ignore older caches.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..settings import Settings
from .catalog import CATALOG_FILE, Progress, generate_demo_catalog

CACHE_VERSION = "demo-v1"
"""Bump when the generator's output changes, so old caches are not reused."""
_TEMP_SUFFIX = ".tmp-"


def demo_cache_dir(cache_root: str | os.PathLike) -> Path:
    """`<cache_root>/demo-v1` (the root is the `cache_dir` setting, default ~/.cache/cloudcore)."""
    return Path(cache_root).expanduser() / CACHE_VERSION


def demo_ready(settings: Settings | None = None) -> bool:
    """Is the demo record already made in the cache folder of `settings` (None: the environment's)?
    A first use makes it, which takes seconds: a caller can say so before it starts."""
    settings = Settings.from_env() if settings is None else settings
    return _is_complete(demo_cache_dir(settings.cache_dir))


def _is_complete(folder: Path) -> bool:
    return (folder / CATALOG_FILE).is_file()


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an OS-level exclusive lock on `path`; the OS drops it if the process dies."""
    with open(path, "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    time.sleep(0.2)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _remove_leftovers(final: Path) -> None:
    """Delete temp folders of runs that died, and a final folder without its catalog."""
    for stale in final.parent.glob(final.name + _TEMP_SUFFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    if final.exists() and not _is_complete(final):
        shutil.rmtree(final)


def ensure_demo_catalog(cache_root: str | os.PathLike, progress: Progress | None = None) -> Path:
    """The demo catalog folder under `cache_root`, generated on first use (about 15 s, 130 MB).

    Args:
        cache_root: The cache folder (the `cache_dir` setting).
        progress: called as progress(scenes_done, scenes_total) while generating.

    Returns:
        The cache folder, holding catalog.json, one Item JSON per scene and the COGs.
    """
    final = demo_cache_dir(cache_root)
    if _is_complete(final):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(final.parent / (final.name + ".lock")):
        if _is_complete(final):  # another process finished while we waited
            return final
        _remove_leftovers(final)
        temp = Path(tempfile.mkdtemp(prefix=final.name + _TEMP_SUFFIX, dir=final.parent))
        try:
            generate_demo_catalog(temp, progress)
            temp.rename(final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    return final
