"""When the demo scenes are acquired, by which satellite, and under which sun and sky.

Landsat 8 and 9 share one WRS-2 orbit eight days apart, each repeating every 16 days, so a
path is seen every eight days. Adjacent paths are flown seven days apart (WRS-2: path p+1
is covered 102 orbits, i.e. 7 days, after path p). One Landsat 7 ETM+ date, after the 2003
scan line corrector failure, adds SLC-off gaps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, cast

import numpy as np

from .grid import MAX_JITTER_PX, PATHS, path_grid, to_lonlat

DEMO_START = dt.date(2022, 1, 1)
DEMO_END = dt.date(2023, 12, 31)
SEED = 20220101
"""Root of every random choice in the demo: change it and every scene changes."""

Sky = Literal["clear", "partly", "overcast"]
SKIES: tuple[Sky, ...] = ("clear", "partly", "overcast")

# First Landsat 8 pass over path 24 in the record; Landsat 9 follows 8 days later.
_FIRST_L8_PATH24 = dt.date(2022, 1, 6)
_NEXT_PATH_DAYS = 7
_REPEAT_DAYS = 16
_L9_AFTER_L8_DAYS = 8
_LANDSAT7_DATE = dt.date(2022, 4, 16)
_LANDSAT7_PATH = 24
# Descending node near 10:10-10:30 local solar time: about 16:31 UTC on path 24 here,
# and one path further west is crossed about 6 minutes later.
_OVERPASS_UTC_PATH24 = dt.time(16, 31, 20)
_PATH_STEP_SECONDS = 372


@dataclass(frozen=True)
class Acquisition:
    """One demo scene: who saw which path, when, and what the sky held."""

    platform: str
    """landsat-7, landsat-8 or landsat-9 (STAC platform names)."""
    wrs_path: int
    wrs_row: int
    datetime: dt.datetime
    """Scene centre time, UTC."""
    sky: Sky
    sun_azimuth: float
    """Degrees clockwise from north."""
    sun_elevation: float
    """Degrees above the horizon."""
    jitter_px: float
    """Along-track offset of this date's swath from the path's nominal footprint."""

    @property
    def satellite(self) -> int:
        return int(self.platform.rsplit("-", 1)[1])

    @property
    def sensor_code(self) -> str:
        # ref: LSDS-1619 / LSDS-1618 "Product Identifier": C = OLI/TIRS combined, E = ETM+.
        return "E" if self.satellite == 7 else "C"

    @property
    def _prefix(self) -> str:
        return f"L{self.sensor_code}{self.satellite:02d}_L2SP_{self.wrs_path:03d}{self.wrs_row:03d}_{self.datetime:%Y%m%d}"

    @property
    def item_id(self) -> str:
        """Planetary Computer's item id: the product id without the processing date."""
        return f"{self._prefix}_02_T1"

    @property
    def product_id(self) -> str:
        """USGS product id; Level-2 processing is taken to finish 12 days after acquisition."""
        processed = self.datetime.date() + dt.timedelta(days=12)
        return f"{self._prefix}_{processed:%Y%m%d}_02_T1"

    @property
    def has_cirrus_band(self) -> bool:
        return self.satellite >= 8

    def seed(self) -> np.random.SeedSequence:
        """A seed of this scene alone, so scenes can be generated in any order or process."""
        return np.random.SeedSequence([SEED, self.satellite, self.wrs_path, self.datetime.date().toordinal()])


def sun_position(when: dt.datetime, lon: float, lat: float) -> tuple[float, float]:
    """Sun (azimuth, elevation) in degrees, from NOAA's low-precision solar equations.

    Good to a fraction of a degree, far better than the demo needs.
    """
    day_of_year = when.timetuple().tm_yday
    hours = when.hour + when.minute / 60 + when.second / 3600
    gamma = 2 * np.pi / 365 * (day_of_year - 1 + (hours - 12) / 24)
    equation_of_time_min = 229.18 * (
        0.000075 + 0.001868 * np.cos(gamma) - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma) - 0.040849 * np.sin(2 * gamma)
    )
    declination = (
        0.006918 - 0.399912 * np.cos(gamma) + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma) + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma) + 0.00148 * np.sin(3 * gamma)
    )
    true_solar_min = hours * 60 + equation_of_time_min + 4 * lon
    hour_angle = np.deg2rad(true_solar_min / 4 - 180)
    phi = np.deg2rad(lat)
    cos_zenith = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(hour_angle)
    elevation = 90 - np.rad2deg(np.arccos(np.clip(cos_zenith, -1, 1)))
    azimuth = np.rad2deg(
        np.arctan2(np.sin(hour_angle), np.cos(hour_angle) * np.sin(phi) - np.tan(declination) * np.cos(phi))
    ) + 180
    return float(azimuth % 360), float(elevation)


def _pass_dates() -> list[tuple[str, int, dt.date]]:
    """(platform, path, date) of every Landsat 8/9 pass in DEMO_START..DEMO_END."""
    passes = []
    for grid in PATHS:
        path_shift = (grid.wrs_path - 24) * _NEXT_PATH_DAYS
        for platform, sat_shift in (("landsat-8", 0), ("landsat-9", _L9_AFTER_L8_DAYS)):
            first = _FIRST_L8_PATH24 + dt.timedelta(days=path_shift + sat_shift)
            # Walk back to the first pass on or after DEMO_START, then forward to DEMO_END.
            while first - dt.timedelta(days=_REPEAT_DAYS) >= DEMO_START:
                first -= dt.timedelta(days=_REPEAT_DAYS)
            day = first
            while day <= DEMO_END:
                passes.append((platform, grid.wrs_path, day))
                day += dt.timedelta(days=_REPEAT_DAYS)
    return passes


def _overpass(wrs_path: int, day: dt.date, rng: np.random.Generator) -> dt.datetime:
    base = dt.datetime.combine(day, _OVERPASS_UTC_PATH24, tzinfo=dt.UTC)
    seconds = (wrs_path - 24) * _PATH_STEP_SECONDS + rng.uniform(-25, 25)
    return base + dt.timedelta(seconds=round(seconds, 3))


@lru_cache(maxsize=1)
def acquisitions() -> tuple[Acquisition, ...]:
    """Every demo scene, oldest first.

    The sky is dealt like cards: a shuffled deck holding clear, partly cloudy and overcast
    in equal numbers, so each kind makes up about a third of the Landsat 8/9 dates. The
    Landsat 7 date is clear, so its SLC-off gaps are plain to see.
    """
    passes = sorted(_pass_dates(), key=lambda p: (p[2], p[1]))
    rng = np.random.default_rng(SEED)
    deck = np.array(SKIES * (len(passes) // 3 + 1))[: len(passes)]
    skies = rng.permutation(deck)
    planned = [(platform, path, day, str(sky)) for (platform, path, day), sky in zip(passes, skies)]
    planned.append(("landsat-7", _LANDSAT7_PATH, _LANDSAT7_DATE, "clear"))
    result = []
    for platform, path, day, sky in sorted(planned, key=lambda p: (p[2], p[1])):
        grid = path_grid(path)
        scene_rng = np.random.default_rng([SEED, path, day.toordinal()])
        when = _overpass(path, day, scene_rng)
        (lon, lat), = to_lonlat([grid.center_m])
        azimuth, elevation = sun_position(when, lon, lat)
        result.append(
            Acquisition(
                platform=platform,
                wrs_path=path,
                wrs_row=grid.wrs_row,
                datetime=when,
                sky=cast(Sky, sky),
                sun_azimuth=round(azimuth, 8),
                sun_elevation=round(elevation, 8),
                jitter_px=float(scene_rng.integers(-MAX_JITTER_PX, MAX_JITTER_PX + 1)),
            )
        )
    return tuple(result)
