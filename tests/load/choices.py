"""The searches simulated users pick from: few enough that caches are shared and bounded, enough that they evict.

All lie inside the demo record (its example area and halves of it, its two years), so every
search has dates and every chart has marks: an error box is then always a fault.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from urllib.parse import urlencode

from cloudcore.demo import DEMO_EXAMPLE_BBOX

_W, _S, _E, _N = DEMO_EXAMPLE_BBOX
_MID_LON, _MID_LAT = (_W + _E) / 2, (_S + _N) / 2

AOIS = (
    (_W, _S, _E, _N),            # the example area
    (_W, _S, _MID_LON, _N),      # its western half
    (_MID_LON, _MID_LAT, _E, _N),  # its north-eastern quarter
)
PERIODS = (("2022-01-01", "2023-12-31"), ("2022-04-01", "2022-10-31"), ("2023-01-01", "2023-12-31"))
THRESHOLDS = (10, 30, 50)
DATE_PICKS = 3
"""A user clicks one of the this many roomiest partly cloudy marks: a few fills per area, shared by users."""


def bbox_text(aoi: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.4f}" for v in aoi)


@dataclass(frozen=True)
class Search:
    aoi: tuple[float, float, float, float]
    start: str
    end: str
    threshold: int

    @property
    def bbox(self) -> str:
        return bbox_text(self.aoi)

    def url(self, base: str) -> str:
        query = {"source": "demo", "bbox": self.bbox, "start": self.start, "end": self.end, "thr": self.threshold}
        return f"{base}/?{urlencode(query)}"


def pick_search(rng: random.Random) -> Search:
    start, end = rng.choice(PERIODS)
    return Search(rng.choice(AOIS), start, end, rng.choice(THRESHOLDS))


def other_aoi(rng: random.Random, current: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A different area than the current one, so the page has something new to show."""
    return rng.choice([a for a in AOIS if a != current])
