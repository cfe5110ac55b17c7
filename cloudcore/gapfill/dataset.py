"""A filled date as an xarray Dataset, with a CRS rioxarray reads.

Variables `red green blue nir08 swir16 swir22`: float32 surface reflectance (the Collection 2
scaling applied), NaN where nothing could fill and outside the AOI; `filled`: True where the
value came from another date; `uncertainty`: float32 predicted absolute error in reflectance
(0 where observed, NaN where nothing could fill and outside the AOI). `provenance` is a
per-pixel datetime64 coordinate (NaT where unfilled): a coordinate rather than a data variable
because it describes where each value came from, and because a GeoTIFF holds one data type, so
`ds.rio.to_raster(...)` can then write the numeric variables as bands. Coordinates `x`, `y` are pixel centres in the grid's CRS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..product import SR_NODATA_DN, SR_OFFSET, SR_SCALE

if TYPE_CHECKING:
    import xarray as xr

    from .image import FilledImage


def filled_dataset(image: FilledImage, attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """The Dataset of a FilledImage; `attrs` are added to the image's own (date, method, ...)."""
    import rioxarray  # noqa: F401 - registers the .rio accessor the result is read with
    import xarray as xr

    grid, result = image.grid, image.result
    transform = grid.transform
    x = transform.c + (np.arange(grid.width) + 0.5) * transform.a
    y = transform.f + (np.arange(grid.height) + 0.5) * transform.e
    variables: dict[str, Any] = {}
    for index, name in enumerate(image.band_names):
        dn = result.filled[index]
        values = dn.astype(np.float32) * np.float32(SR_SCALE) + np.float32(SR_OFFSET)
        values[dn == SR_NODATA_DN] = np.nan
        # long_name becomes the band's description in a GeoTIFF: the band names are the contract.
        variables[name] = (("y", "x"), values, {"long_name": name, "description": "surface reflectance", "units": "1"})
    filled = image.removed & (result.provenance != 0)
    variables["filled"] = (("y", "x"), filled, {"long_name": "filled", "description": "value taken from another date"})
    variables["uncertainty"] = (
        ("y", "x"), result.uncertainty.astype(np.float32),
        {"long_name": "uncertainty", "description": "predicted absolute error of the value (0 where observed)", "units": "1"},
    )
    dataset = xr.Dataset(
        variables,
        coords={
            "y": ("y", y, {"units": "m" if grid.crs.is_projected else "degrees"}),
            "x": ("x", x, {"units": "m" if grid.crs.is_projected else "degrees"}),
            "provenance": (("y", "x"), provenance_times(result.provenance),
                           {"long_name": "acquisition date of each value"}),
        },
        attrs={**image_attrs(image), **(attrs or {})},
    )
    dataset = dataset.rio.write_crs(grid.crs.to_wkt())
    return dataset.rio.write_transform(transform)


def provenance_times(codes: np.ndarray) -> np.ndarray:
    """YYYYMMDD codes (0: none) as datetime64[ns], NaT where 0."""
    out = np.full(codes.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    for code in np.unique(codes[codes != 0]):
        text = f"{int(code):08d}"
        out[codes == code] = np.datetime64(f"{text[:4]}-{text[4:6]}-{text[6:]}", "ns")
    return out


def image_attrs(image: FilledImage) -> dict[str, Any]:
    """What the image knows of itself, as attribute values netCDF and GeoTIFF tags can hold."""
    result = image.result
    return {
        "date": image.date.isoformat(),
        "method": result.method,
        "platform": image.platform,
        "scene_ids": list(image.scene_ids),
        "masked_pct": _number(result.masked_pct),
        "filled_pct": _number(result.filled_pct),
        "unfilled_pct": _number(result.unfilled_pct),
        "donors": [d.isoformat() for d in result.donors_used],
        "corrections": json.dumps([c.to_dict() for c in result.corrections]),
        "donor_errors": list(image.donor_errors),
    }


def _number(value: float | None) -> float:
    return float("nan") if value is None else float(value)
