"""A small on-disk cache of per-date AOI statistics, so asking again answers at once.

A record is stored only when its date was measured completely (no `error`), under a key made
of everything its numbers depend on: the scenes (ids and hrefs without any signature; size
and modification time for local files), the AOI, the mask policy, the overview level and a
format version. A failed date is never stored, so a later run tries it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..geo.aoi import AOI
from ..masks.qa import MaskPolicy
from ..product import QA_BAND
from ..sources.scene import DateGroup, Scene

# Bump when anything that shapes the numbers changes (decoding, counting, rounding).
CACHE_VERSION = 1


def cover_cache_dir(cache_root: str | os.PathLike) -> Path:
    """`<cache_root>/cover-v<N>` (the root is the `cache_dir` setting, default ~/.cache/cloudcore)."""
    return Path(cache_root).expanduser() / f"cover-v{CACHE_VERSION}"


class CoverCache:
    """Per-date cover records (`DateCover` fields as JSON) in a folder, one small file each."""

    def __init__(self, directory: str | os.PathLike):
        """
        Args:
            directory: The folder of the records (`cover_cache_dir(settings.cache_dir)` by default
                in the front door); made when the first record is stored.
        """
        self.directory = Path(directory)

    @classmethod
    def under(cls, cache_root: str | os.PathLike) -> CoverCache:
        """The cache in its usual place under a cache root (the `cache_dir` setting)."""
        return cls(cover_cache_dir(cache_root))

    def __repr__(self) -> str:
        return f"CoverCache({str(self.directory)!r})"

    def key(self, group: DateGroup, aoi: AOI, policy: MaskPolicy, overview: int = 0) -> str:
        """The hex digest naming one date's record."""
        identity = {
            "version": CACHE_VERSION,
            "scenes": [_scene_identity(scene) for scene in group.scenes],
            "aoi": aoi.geometry.wkb_hex,
            "policy": _policy_identity(policy),
            "overview": overview,
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record, or None when absent or unreadable (a broken file is a miss)."""
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store a complete record; records with an error are refused (never cache a failure)."""
        if record.get("error"):
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole to a temporary file, then renamed: a reader never sees half a record.
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
                json.dump(record, tmp)
            os.replace(tmp.name, path)
        except OSError:
            pass  # a read-only or full disk costs speed next time, not this result

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"


def _policy_identity(policy: MaskPolicy) -> dict[str, Any]:
    # Sorted: a frozenset's order (hence its repr) changes from one process to the next.
    fields = dict(vars(policy))
    fields["flags"] = sorted(policy.flags)
    return fields


def _scene_identity(scene: Scene) -> dict[str, Any]:
    qa_href = scene.assets.get(QA_BAND, "")
    identity: dict[str, Any] = {"id": scene.id, "qa": qa_href.split("?", 1)[0]}
    if qa_href and "://" not in qa_href:
        # A local file can be replaced under the same name: its size and time are part of it.
        try:
            stat = os.stat(qa_href)
            identity["stat"] = [stat.st_size, stat.st_mtime_ns]
        except OSError:
            identity["stat"] = None
    return identity
