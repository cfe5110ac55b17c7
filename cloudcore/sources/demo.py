"""The synthetic demo as a scene source: the same Items and COGs a STAC search would give."""

from __future__ import annotations

import json
from pathlib import Path

from ..demo import CATALOG_FILE, ensure_demo_catalog
from ..demo.catalog import Progress
from ..errors import NoScenesError
from ..settings import Settings
from .local import LocalScenes
from .scene import Scene, scene_from_item


def load_demo_scenes(catalog_dir: Path) -> list[Scene]:
    """Every Scene of a demo catalog folder, from its catalog.json item links."""
    catalog_path = catalog_dir / CATALOG_FILE
    try:
        catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise NoScenesError(
            f"No demo catalog at {catalog_dir}: delete the folder and let cloudcore regenerate it."
        ) from err
    base_href = catalog_dir.as_posix()
    scenes = []
    for link in catalog.get("links", []):
        if link.get("rel") == "item":
            item = json.loads((catalog_dir / link["href"]).read_text(encoding="utf-8"))
            scenes.append(scene_from_item(item, base_href=base_href))
    if not scenes:
        raise NoScenesError(f"The demo catalog at {catalog_dir} lists no scenes: delete it and regenerate.")
    return scenes


class DemoSource(LocalScenes):
    """Scenes of the synthetic demo catalog, generated into the cache on first use."""

    name = "demo"

    def __init__(
        self, catalog_dir: Path | None = None, progress: Progress | None = None, *, settings: Settings | None = None
    ) -> None:
        """
        Args:
            catalog_dir: an already generated catalog; None uses (and if need be makes) the one
                in the cache folder of `settings`.
            progress: called as progress(scenes_done, scenes_total) if generation runs.
            settings: Where the cache folder is; None: the default (~/.cache/cloudcore).
        """
        if catalog_dir is None:
            cache_root = (Settings() if settings is None else settings).cache_dir
            catalog_dir = ensure_demo_catalog(cache_root, progress)
        self.catalog_dir = Path(catalog_dir)
        self.scenes = load_demo_scenes(self.catalog_dir)
