"""Files a user takes away: a Cloud-Optimized GeoTIFF of named bands, and CSV text.

A GeoTIFF holds one data type for all its bands, so the type is chosen to hold every band
exactly: uint16 reflectance with a uint32 YYYYMMDD provenance band is written as uint32,
never float32, which rounds dates (20240101 would read back as 20240100).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.crs import CRS

from ..errors import InvalidInputError

# GeoTIFF has no boolean or half-float type: write them as the smallest type that holds them.
_GEOTIFF_TYPE: dict[np.dtype, np.dtype] = {np.dtype(bool): np.dtype(np.uint8), np.dtype(np.float16): np.dtype(np.float32)}

# GDAL keeps a tag as one "KEY=value" string: a key with "=", a space or a line break would be read back wrong.
_TAG_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_COG_OPTIONS = {
    "compress": "DEFLATE",  # lossless and read by every GDAL build, unlike ZSTD or LERC
    "bigtiff": "IF_SAFER",  # compressed size is unknown up front; this avoids failing past 4 GB
}


def write_cog(
    path: str | os.PathLike,
    bands: Mapping[str, np.ndarray],
    transform: Any,
    crs: Any,
    nodata: int | float | None = 0,
    dtype: Any = None,
    scales: Mapping[str, float] | None = None,
    offsets: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write named 2-D bands as one Cloud-Optimized GeoTIFF, replacing `path` only once complete.

    Args:
        path: The file to write; its folder must exist.
        bands: Band name -> (H, W) array, in file order; each name becomes the band description.
        transform: The affine pixel-to-CRS transform of the grid.
        crs: Anything rasterio's `CRS.from_user_input` accepts (e.g. "EPSG:32633").
        nodata: The no-data value of every band, or None.
        dtype: The file's data type; by default the smallest that holds every band's type.
            Either way every band must survive the cast unchanged.
        scales: Band name -> scale factor stored as band metadata (physical = DN x scale + offset).
        offsets: Band name -> offset stored as band metadata.
        tags: Dataset-level GDAL metadata items, KEY -> text (e.g. "TIFFTAG_SOFTWARE", or the
            file's own "CLOUDCORE_DATE"); `rasterio`'s `src.tags()` reads them back.

    Returns:
        The path written.

    Raises:
        InvalidInputError: Missing folder, no bands, bands of different shapes, a type that would
            change values, a nodata value the type cannot hold, a scale/offset for an unknown band,
            or a tag that is not KEY -> text.
        rasterio.errors.RasterioError, OSError: The file could not be written (the partial file is removed).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInputError(f"Folder {str(path.parent)!r} does not exist: create it or choose another path.")
    arrays = _checked_bands(bands)
    file_dtype = _file_dtype(arrays, dtype)
    _check_nodata(nodata, file_dtype)
    band_scales = _per_band(scales, bands, 1.0, "scales")
    band_offsets = _per_band(offsets, bands, 0.0, "offsets")
    file_tags = _checked_tags(tags)
    height, width = next(iter(arrays.values())).shape
    profile = {
        "driver": "COG",
        "width": width,
        "height": height,
        "count": len(arrays),
        "dtype": file_dtype.name,
        "crs": CRS.from_user_input(crs),
        "transform": transform,
        "nodata": nodata,
        # Horizontal differencing (2) suits integers; floats need the floating-point predictor (3).
        "predictor": 2 if np.issubdtype(file_dtype, np.integer) else 3,
        **_COG_OPTIONS,
    }
    # A hidden sibling in the same folder, so the final rename is atomic and never crosses filesystems.
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        with rasterio.open(partial, "w", **profile) as dst:
            for index, array in enumerate(arrays.values(), start=1):
                dst.write(array.astype(file_dtype, copy=False), index)
            dst.descriptions = tuple(arrays)
            dst.scales = band_scales
            dst.offsets = band_offsets
            if file_tags:
                dst.update_tags(**file_tags)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _checked_bands(bands: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not bands:
        raise InvalidInputError("No bands to write: give at least one name -> array.")
    arrays = {name: np.asarray(array) for name, array in bands.items()}
    shapes = {name: array.shape for name, array in arrays.items()}
    if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 2:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise InvalidInputError(f"Bands must be 2-D and of one shape, got {listed}: read them onto one grid.")
    return arrays


def _file_dtype(arrays: Mapping[str, np.ndarray], dtype: Any) -> np.dtype:
    """The requested type, or the smallest holding every band's type; checked to keep values exact."""
    chosen: np.dtype
    if dtype is None:
        widest = np.result_type(*(array.dtype for array in arrays.values()))
        chosen = _GEOTIFF_TYPE.get(widest, widest)
    else:
        chosen = np.dtype(dtype)
    if chosen.kind not in "iuf":
        raise InvalidInputError(f"Cannot write {chosen} to GeoTIFF: give integer or floating-point bands.")
    for name, array in arrays.items():
        if not _survives_cast(array, chosen):
            raise InvalidInputError(
                f"Band {name!r} ({array.dtype}) would change when written as {chosen}: "
                "leave dtype unset or choose a type that holds it (e.g. uint32 or float64 for YYYYMMDD dates)."
            )
    return chosen


def _survives_cast(array: np.ndarray, dtype: np.dtype) -> bool:
    with np.errstate(invalid="ignore", over="ignore"):  # out-of-range casts are what we are detecting
        back = array.astype(dtype).astype(array.dtype)
    return bool(np.array_equal(back, array, equal_nan=array.dtype.kind == "f"))


def _check_nodata(nodata: int | float | None, dtype: np.dtype) -> None:
    if nodata is None or dtype.kind == "f":
        return
    info = np.iinfo(dtype)
    if not (float(nodata).is_integer() and info.min <= nodata <= info.max):
        raise InvalidInputError(f"nodata {nodata} does not fit the file type {dtype}: choose a value it can hold.")


def _per_band(
    values: Mapping[str, float] | None, bands: Mapping[str, Any], default: float, what: str
) -> tuple[float, ...]:
    values = values or {}
    unknown = sorted(set(values) - set(bands))
    if unknown:
        raise InvalidInputError(
            f"{what} given for unknown band(s) {', '.join(unknown)}: use band names from {', '.join(bands)}."
        )
    return tuple(float(values.get(name, default)) for name in bands)


def _checked_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """The tags, checked: keys that GDAL reads back as written (see _TAG_KEY), values text."""
    checked: dict[str, str] = {}
    for key, value in (tags or {}).items():
        if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
            raise InvalidInputError(
                f"Tag name {key!r} is not a GDAL metadata key: use letters, digits and '_' (e.g. 'CLOUDCORE_DATE')."
            )
        if not isinstance(value, str):
            raise InvalidInputError(f"Tag {key} is a {type(value).__name__}, not text: convert it with str() or json.dumps().")
        checked[key] = value
    return checked


def rows_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV text with a header of `columns` and one line per row.

    A missing key or None is an empty cell, a list or tuple becomes its items joined by ';',
    dates are ISO 8601. Lines end in '\\n', which suits terminals and every CSV reader.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(item) for item in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)
