"""A date masked and gap-filled on its AOI grid: `fill_date` reads and fills, `FilledImage` holds it.

`read_fill_inputs` (in `inputs`) reads a target and its donors once; `fill_inputs` runs one
method on them, so several methods can be compared on the same arrays (`cloudcore.evaluation`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dates import DateLike, as_date
from ..geo.aoi import AOI
from ..geo.grid import Grid
from ..io.export import write_cog
from ..masks.qa import MaskPolicy
from ..product import SR_BANDS, SR_NODATA_DN, SR_OFFSET, SR_SCALE
from ..settings import Settings
from ..sources.base import SceneSource
from .base import FillMethod
from .inputs import DEFAULT_WINDOW_DAYS, FillInputs, read_fill_inputs
from .kernel import FillResult, fill_gaps
from .metadata import geotiff_tags
from .registry import DEFAULT_METHOD, get_method

if TYPE_CHECKING:
    import xarray as xr


@dataclass(frozen=True)
class FilledImage:
    """A target date, masked and gap-filled, on its AOI grid."""

    date: dt.date
    platform: str
    scene_ids: list[str]
    grid: Grid
    inside: np.ndarray
    """Pixels whose centres lie in the AOI."""
    removed: np.ndarray
    """Pixels the mask policy removed on the target date."""
    original: np.ndarray
    """(B, H, W) the target date as observed, clouds and all."""
    result: FillResult
    band_names: tuple[str, ...] = SR_BANDS
    donor_errors: tuple[str, ...] = ()
    """Donor dates that could not be read, with why; they were skipped."""
    disagreement: np.ndarray | None = None
    """QA vs ML mask codes on the target (mlmask.disagreement_map), when the ML mask ran."""
    request: Mapping[str, Any] = field(default_factory=dict)
    """What was asked for (window, mask, source, AOI, version), for the file's metadata."""

    def write_geotiff(self, path: str | os.PathLike) -> Path:
        """The filled bands, the provenance band and the uncertainty band as one COG (bands named).

        The reflectance bands keep their Collection 2 DN and scale/offset. `uncertainty` (the
        predicted absolute error, `FillResult.uncertainty`) is stored the same way, as DN with
        the reflectance bands' scale and offset (`uncertainty_dn`): 0 (observed) is DN 7,273,
        which reads back as 0.0000075, and DN 0 is nodata (unfilled or outside the AOI), which
        no error can take since every error is >= 0 and so >= DN 7,273.

        The file's dataset tags say what it is (`metadata.geotiff_tags`): CLOUDCORE_DATE, _METHOD,
        _MASK, _AOI, _SOURCE, _WINDOW_DAYS, _PLATFORM, _SCENES, _DONORS, _VERSION, and the
        standard TIFFTAG_DATETIME and TIFFTAG_SOFTWARE. Bands and their encoding are unchanged.
        """
        bands = {name: self.result.filled[i] for i, name in enumerate(self.band_names)}
        bands["provenance"] = self.result.provenance
        bands["uncertainty"] = uncertainty_dn(self.result.uncertainty)
        scaled = (*self.band_names, "uncertainty")
        return write_cog(
            path, bands, self.grid.transform, self.grid.crs, nodata=0,
            scales=dict.fromkeys(scaled, SR_SCALE),
            offsets=dict.fromkeys(scaled, SR_OFFSET),
            tags=geotiff_tags(self),
        )

    def to_xarray(self, **attrs: Any) -> xr.Dataset:
        """The image as an xarray Dataset (see `cloudcore.gapfill.dataset`), `attrs` added."""
        from .dataset import filled_dataset

        return filled_dataset(self, {**self.request, **attrs})

    def summary(self) -> dict[str, object]:
        """The JSON record of the `fill` contract."""
        return {
            "date": self.date.isoformat(),
            "masked_pct": self.result.masked_pct,
            "filled_pct": self.result.filled_pct,
            "unfilled_pct": self.result.unfilled_pct,
        }


def uncertainty_dn(uncertainty: np.ndarray) -> np.ndarray:
    """(H, W) uint16 DN of an uncertainty in reflectance, on the Collection 2 scale of the bands
    (reflectance = DN x SR_SCALE + SR_OFFSET); NaN -> 0, nodata. Errors past the scale's top
    (1.6 reflectance) are clipped to it."""
    dn = np.rint((np.nan_to_num(uncertainty, nan=SR_OFFSET) - SR_OFFSET) / SR_SCALE)
    # An error is >= 0, so at least DN 7,273: it can never be read as nodata.
    dn[~np.isfinite(uncertainty)] = SR_NODATA_DN
    return np.clip(dn, 0, np.iinfo(np.uint16).max).astype(np.uint16)


def fill_date(
    source: SceneSource,
    aoi: AOI,
    date: DateLike,
    window_days: int = DEFAULT_WINDOW_DAYS,
    method: str | FillMethod = DEFAULT_METHOD,
    policy: MaskPolicy = MaskPolicy(),
    progress: Callable[[int, int], None] | None = None,
    *,
    settings: Settings | None = None,
) -> FilledImage:
    """Mask the target date and fill its removed AOI pixels from dates within the window
    (`cloudcore.fill` gives a Dataset; `settings` None reads the environment)."""
    settings = Settings.from_env() if settings is None else settings
    strategy = get_method(method)
    inputs = read_fill_inputs(
        source, aoi, as_date(date, "date"), window_days, policy, progress=progress, all_donors=strategy.needs_all_donors,
        settings=settings,
    )
    return fill_inputs(inputs, strategy)


def fill_inputs(inputs: FillInputs, method: str | FillMethod = DEFAULT_METHOD, **options: Any) -> FilledImage:
    """Run one fill method on inputs read by `read_fill_inputs`.

    Args:
        inputs: The target and donors.
        method: A method's name (`registry.FILL_METHODS`) or a `FillMethod`.
        **options: The method's options, passed on to `kernel.fill_gaps` (e.g. `matching`, `scoring`).
    """
    result = fill_gaps(inputs.target, inputs.donors, inputs.inside, method=method, window_days=inputs.window_days, **options)
    return FilledImage(
        date=inputs.target.date,
        platform=inputs.group.platform,
        scene_ids=inputs.group.scene_ids,
        grid=inputs.grid,
        inside=inputs.inside,
        removed=inputs.removed & inputs.inside,
        original=inputs.target.bands,
        result=result,
        donor_errors=inputs.donor_errors,
        disagreement=inputs.disagreement,
    )


