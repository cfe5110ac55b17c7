"""The ground under the demo: land cover, its seasonal surface reflectance, and snow.

Farmland on the US public land survey grid (fields of a quarter or an eighth of a
square mile, corn and soybean in rotation, some winter wheat and hay), two lakes with a
town between them, woodlots, a few bare fields and section-line roads. Vegetation
follows a double-logistic NDVI-like curve by day of year; reflectance is a linear mix of
green vegetation and the pixel's background (soil, litter, pavement) by that fraction.

Band order everywhere is cloudcore.scene.SR_BANDS: red, green, blue, nir08, swir16, swir22.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

from .grid import WORLD_SHAPE
from .noise import fractal_noise, to_uniform
from .schedule import DEMO_START, SEED

# Land cover codes of the `cover` map.
WATER, BUILT, BARE, FOREST, GRASS, CROP = 1, 2, 3, 4, 5, 6

# Typical surface reflectance spectra (red, green, blue, nir08, swir16, swir22), from the
# usual textbook library shapes: chlorophyll red edge for vegetation, rising-to-SWIR soil,
# flat grey pavement, dark water, bright visible but SWIR-dark snow.
GREEN_VEGETATION = np.array([0.035, 0.075, 0.035, 0.42, 0.21, 0.09], dtype=np.float32)
SOIL = np.array([0.13, 0.10, 0.07, 0.20, 0.28, 0.22], dtype=np.float32)
LITTER = np.array([0.07, 0.06, 0.04, 0.19, 0.22, 0.14], dtype=np.float32)
PAVEMENT = np.array([0.13, 0.12, 0.11, 0.17, 0.20, 0.18], dtype=np.float32)
SAND = np.array([0.22, 0.18, 0.13, 0.27, 0.34, 0.28], dtype=np.float32)
WATER_SPECTRUM = np.array([0.03, 0.05, 0.045, 0.015, 0.008, 0.005], dtype=np.float32)
ALGAE_BLOOM = np.array([0.005, 0.015, 0.0, 0.010, 0.0, 0.0], dtype=np.float32)
SNOW = np.array([0.86, 0.88, 0.90, 0.74, 0.06, 0.04], dtype=np.float32)


@dataclass(frozen=True)
class Phenology:
    """Green fraction by day of year: base + amp * (on at `up`, off at `down`) + winter cover."""

    base: float
    amp: float
    up: float
    down: float
    width: float = 7.0
    winter: float = 0.0
    """Green fraction kept from autumn sowing through winter (winter wheat)."""
    sown: float = 288.0


# Index 0 is water (no vegetation); the others are looked up through `kind` maps.
PHENOLOGIES: tuple[Phenology, ...] = (
    Phenology(base=0.0, amp=0.0, up=0, down=0),  # water
    Phenology(base=0.12, amp=0.18, up=125, down=285),  # town: street trees and lawns
    Phenology(base=0.02, amp=0.0, up=0, down=0),  # bare or fallow ground
    Phenology(base=0.28, amp=0.62, up=128, down=283),  # deciduous woodlot
    Phenology(base=0.18, amp=0.60, up=105, down=292, width=10),  # hay and pasture
    Phenology(base=0.04, amp=0.90, up=168, down=258),  # corn
    Phenology(base=0.04, amp=0.84, up=178, down=252, width=6),  # soybean
    Phenology(base=0.03, amp=0.80, up=95, down=178, winter=0.22),  # winter wheat
)
_KIND_WATER, _KIND_BUILT, _KIND_BARE, _KIND_FOREST, _KIND_HAY, _KIND_CORN, _KIND_SOY, _KIND_WHEAT = range(8)

# Lakes and town in shared-grid pixels (row, col, radius); both lie in the paths' overlap.
_LAKES = ((202.0, 240.0, 42.0), (312.0, 350.0, 28.0))
_TOWN = (264.0, 304.0, 58.0)
_QUARTER_SECTION_PX = 804.67 / 30.0  # half a mile
_SNOW_CAP = {WATER: 0.0, BUILT: 0.65, BARE: 1.0, FOREST: 0.4, GRASS: 1.0, CROP: 1.0}


@dataclass(frozen=True)
class Landscape:
    """Static maps on the shared grid; `surface` turns them into one date's reflectance."""

    cover: np.ndarray
    """uint8 land cover code per pixel (WATER ... CROP)."""
    phenology: np.ndarray
    """(2 years, 7 Phenology fields, rows, cols): each pixel's season, shifted per field."""
    background: np.ndarray
    """(6, rows, cols) reflectance of what shows where vegetation does not."""
    vegetation: np.ndarray
    """(6, rows, cols) reflectance of full green cover."""
    snow_order: np.ndarray
    """0..1 per pixel: where snow lies first as a snowfall deepens."""
    first_year: int
    """Calendar year of the first phenology layer."""

    @property
    def water(self) -> np.ndarray:
        return self.cover == WATER

    def surface(self, window: tuple[slice, slice], day: dt.date, snow_level: float) -> tuple[np.ndarray, np.ndarray]:
        """Surface reflectance (6, rows, cols) and snow cover fraction (rows, cols) on `day`."""
        year = int(np.clip(day.year - self.first_year, 0, self.phenology.shape[0] - 1))
        doy = np.float32(day.timetuple().tm_yday)
        base, amp, up, down, width, winter, sown = self.phenology[(year, slice(None), *window)]
        on = _sigmoid((doy - up) / width)
        green = base + amp * (on - _sigmoid((doy - down) / width)) + winter * (_sigmoid((doy - sown) / width) + 1 - on)
        reflectance = green * self.vegetation[(slice(None), *window)] + (1 - green) * self.background[(slice(None), *window)]
        water = self.water[window]
        bloom = _sigmoid((doy - 190) / 8) - _sigmoid((doy - 255) / 8)
        reflectance[:, water] = (WATER_SPECTRUM + bloom * ALGAE_BLOOM)[:, None]
        snow = _snow_fraction(self.cover[window], self.snow_order[window], snow_level)
        if snow_level > 0:
            reflectance += snow[None] * ((0.85 + 0.15 * snow_level) * SNOW[:, None, None] - reflectance)
        return reflectance.astype(np.float32), snow


def _sigmoid(x: np.ndarray | np.floating) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _phenology_layers(kinds: np.ndarray, shift_days: np.ndarray) -> np.ndarray:
    """(years, 7, rows, cols) Phenology fields per pixel, with dates moved by `shift_days`."""
    names = ("base", "amp", "up", "down", "width", "winter", "sown")
    table = np.array([[getattr(p, name) for name in names] for p in PHENOLOGIES], dtype=np.float32)
    layers = np.moveaxis(table[kinds], -1, 1)
    layers[:, [2, 3, 6]] += shift_days[:, None]
    return layers


def _snow_fraction(cover: np.ndarray, order: np.ndarray, level: float) -> np.ndarray:
    """Fraction of each pixel under snow; lakes freeze over only in deep winter."""
    if level <= 0:
        return np.zeros(cover.shape, dtype=np.float32)
    cap = np.zeros(7, dtype=np.float32)
    for code, value in _SNOW_CAP.items():
        cap[code] = value
    if level > 0.7:
        cap[WATER] = 0.95
    return (np.clip((level - 0.8 * order) / 0.2, 0, 1) * cap[cover]).astype(np.float32)


def _disk_distance(shape: tuple[int, int], row: float, col: float) -> np.ndarray:
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return np.hypot(rows - row, cols - col).astype(np.float32)


def _fields(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Field id per pixel: quarter sections, some split in halves or 40-acre quarters."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    q_row = (rows / _QUARTER_SECTION_PX).astype(np.int32)
    q_col = (cols / _QUARTER_SECTION_PX).astype(np.int32)
    half_row = ((rows / _QUARTER_SECTION_PX) % 1 >= 0.5).astype(np.int32)
    half_col = ((cols / _QUARTER_SECTION_PX) % 1 >= 0.5).astype(np.int32)
    n_cols = int(q_col.max()) + 1
    quarter = q_row * n_cols + q_col
    split = rng.choice(4, size=int(quarter.max()) + 1, p=[0.35, 0.25, 0.25, 0.15])[quarter]
    sub = np.select([split == 1, split == 2, split == 3], [half_row, half_col, half_row * 2 + half_col], 0)
    return quarter * 4 + sub


def _choose_kinds(n_fields: int, rng: np.random.Generator) -> np.ndarray:
    """(2 years, n_fields) phenology kinds: corn and soybean swap between years on most fields."""
    first = rng.choice(
        [_KIND_CORN, _KIND_SOY, _KIND_WHEAT, _KIND_HAY, _KIND_BARE],
        size=n_fields,
        p=[0.38, 0.32, 0.08, 0.19, 0.03],
    )
    rotate = rng.random(n_fields) < 0.85
    second = first.copy()
    second[rotate & (first == _KIND_CORN)] = _KIND_SOY
    second[rotate & (first == _KIND_SOY)] = _KIND_CORN
    return np.stack([first, second]).astype(np.uint8)


@lru_cache(maxsize=1)
def build_landscape() -> Landscape:
    """The demo's one landscape (deterministic; built once per process)."""
    rng = np.random.default_rng([SEED, 1])
    shape = WORLD_SHAPE
    relief = fractal_noise(rng, shape, beta=4.0)
    lake_pull = sum(np.exp(-(_disk_distance(shape, r, c) / radius) ** 2 / 2) for r, c, radius in _LAKES)
    water = (0.6 * relief - 2.6 * lake_pull < -1.25) | (relief < -2.7)

    town_distance = _disk_distance(shape, *_TOWN[:2]) / _TOWN[2]
    town_noise = fractal_noise(rng, shape, beta=3.0)
    built = (town_distance < 1 + 0.3 * town_noise) & ~water
    park = built & (fractal_noise(rng, shape, beta=2.6) > 1.1)

    woods_noise = fractal_noise(rng, shape, beta=3.0)
    near_water = ndimage.binary_dilation(water, iterations=3) & ~water
    forest = ((woods_noise > 0.95) | (near_water & (woods_noise > -0.6))) & ~water & ~built

    field = _fields(shape, rng)
    _, field_index = np.unique(field, return_inverse=True)
    field_index = field_index.reshape(shape)
    n_fields = int(field_index.max()) + 1
    kinds = _choose_kinds(n_fields, rng)[:, field_index]
    field_shift = rng.normal(0, 4, size=(2, n_fields)).astype(np.float32)[:, field_index]
    soil_brightness = rng.uniform(0.8, 1.2, size=n_fields).astype(np.float32)[field_index]

    # Section-line roads every mile, where the county happened to build one.
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    section = 2 * _QUARTER_SECTION_PX
    road_rows = (rows % section < 1) & (rng.random((shape[0], 1)) < 0.8)
    road_cols = (cols % section < 1) & (rng.random((1, shape[1])) < 0.8)
    roads = (road_rows | road_cols) & ~water

    cover = np.full(shape, CROP, dtype=np.uint8)
    cover[kinds[0] == _KIND_HAY] = GRASS
    cover[kinds[0] == _KIND_BARE] = BARE
    cover[forest] = FOREST
    cover[built | roads] = BUILT
    cover[park] = GRASS
    cover[water] = WATER

    fixed = {WATER: _KIND_WATER, BUILT: _KIND_BUILT, FOREST: _KIND_FOREST}
    for code, kind in fixed.items():
        kinds[:, cover == code] = kind
    kinds[:, park] = _KIND_HAY
    shift = np.where(np.isin(cover, (CROP, GRASS, BARE)), field_shift, rng.normal(0, 2, size=(2, 1, 1)))

    # Gentle, smooth texture (soil moisture, canopy density) and rougher roofs and yards;
    # every bit of pixel-scale texture costs cache space, so fields carry most variety.
    texture = 1 + 0.04 * fractal_noise(rng, shape, beta=4.5)
    urban_texture = 1 + 0.1 * fractal_noise(rng, shape, beta=3.0)
    texture = np.where(cover == BUILT, urban_texture, texture).astype(np.float32)

    background = np.empty((6, *shape), dtype=np.float32)
    background[:] = (SOIL[:, None, None] * soil_brightness)
    background[:, cover == FOREST] = LITTER[:, None]
    background[:, cover == BUILT] = PAVEMENT[:, None]
    sand_pits = (cover == BARE) & (soil_brightness > 1.1)
    background[:, sand_pits] = SAND[:, None]
    background *= texture
    vegetation = GREEN_VEGETATION[:, None, None] * np.where(cover == FOREST, 0.8, 1.0).astype(np.float32) * texture

    snow_order = to_uniform(fractal_noise(rng, shape, beta=3.5))
    return Landscape(
        cover=cover,
        phenology=_phenology_layers(kinds, shift.astype(np.float32)),
        background=background,
        vegetation=vegetation.astype(np.float32),
        snow_order=snow_order,
        first_year=DEMO_START.year,
    )
