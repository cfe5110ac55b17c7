"""Cloud-Optimized GeoTIFF and CSV output, read back the way a user would."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from cloudcore.errors import InvalidInputError
from cloudcore.geo.grid import Grid
from cloudcore.io import export
from cloudcore.io.export import rows_to_csv, write_cog
from cloudcore.render.georef import georeferenced_png

TRANSFORM = Affine(30.0, 0.0, 399_960.0, 0.0, -30.0, 4_500_000.0)  # 30 m pixels, north up
CRS_UTM = "EPSG:32618"
SR_SCALE, SR_OFFSET = 0.0000275, -0.2  # ref: USGS C2 L2 SR scale factors
PROVENANCE = 20240105  # above 2**24: float32 would round it


def reflectance_bands(shape=(20, 30)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {name: rng.integers(1, 65_536, size=shape, dtype=np.uint16) for name in ("red", "green", "blue")}


def filled_bands() -> dict[str, np.ndarray]:
    bands = reflectance_bands()
    provenance = np.full((20, 30), PROVENANCE, np.uint32)
    provenance[0, :5] = 0
    provenance[1] = 20231231
    return {**bands, "provenance": provenance}


def test_write_then_read_back_preserves_everything(tmp_path):
    bands = filled_bands()
    names = tuple(bands)
    sr = dict.fromkeys(names[:3], SR_SCALE)
    path = write_cog(
        tmp_path / "filled.tif", bands, TRANSFORM, CRS_UTM, nodata=0, scales=sr, offsets=dict.fromkeys(sr, SR_OFFSET)
    )

    with rasterio.open(path) as src:
        assert src.count == 4
        assert src.dtypes == ("uint32",) * 4
        assert src.descriptions == ("red", "green", "blue", "provenance")
        assert src.crs == CRS.from_user_input(CRS_UTM)
        assert src.transform == TRANSFORM
        assert src.nodata == 0
        assert src.scales == pytest.approx((SR_SCALE, SR_SCALE, SR_SCALE, 1.0))
        assert src.offsets == pytest.approx((SR_OFFSET, SR_OFFSET, SR_OFFSET, 0.0))
        for index, name in enumerate(names, start=1):
            assert (src.read(index) == bands[name]).all()
        assert src.read(4)[5, 5] == PROVENANCE
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.tags(ns="IMAGE_STRUCTURE")["COMPRESSION"] == "DEFLATE"
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"
        assert src.profile["tiled"]
    # Nothing else is left in the folder: no partial file, no .aux.xml sidecar.
    assert [p.name for p in tmp_path.iterdir()] == ["filled.tif"]


def test_tags_are_written_and_read_back_beside_unchanged_bands(tmp_path):
    bands = filled_bands()
    tags = {"CLOUDCORE_DATE": "2024-01-05", "CLOUDCORE_AOI": '{"type":"Polygon","coordinates":[]}',
            "TIFFTAG_SOFTWARE": "cloudcore 1.2.3", "TIFFTAG_DATETIME": "2024:01:06 10:00:00", "NOTE": "ça, <b> & \"q\""}
    path = write_cog(tmp_path / "tagged.tif", bands, TRANSFORM, CRS_UTM, tags=tags)
    with rasterio.open(path) as src:
        assert {key: src.tags()[key] for key in tags} == tags
        assert src.descriptions == tuple(bands)
        for index, array in enumerate(bands.values(), start=1):
            assert (src.read(index) == array).all()
    assert [p.name for p in tmp_path.iterdir()] == ["tagged.tif"]  # in the file, not an .aux.xml beside it


@pytest.mark.parametrize(
    ("tags", "message"),
    [({"BAD KEY": "x"}, "not a GDAL metadata key"), ({"A=B": "x"}, "not a GDAL metadata key"),
     ({"COUNT": 3}, "is a int, not text")],
)
def test_bad_tags_are_refused_and_leave_nothing(tmp_path, tags, message):
    with pytest.raises(InvalidInputError, match=message):
        write_cog(tmp_path / "t.tif", reflectance_bands(), TRANSFORM, CRS_UTM, tags=tags)
    assert not list(tmp_path.iterdir())


GRID = Grid(crs=CRS.from_user_input(CRS_UTM), transform=TRANSFORM, width=7, height=5)


def picture() -> np.ndarray:
    return np.random.default_rng(11).integers(0, 256, size=(5, 7, 4), dtype=np.uint8)


@pytest.mark.parametrize("scale", [1, 3, 8])
def test_a_georeferenced_png_opens_in_gdal_on_its_grid(tmp_path, scale):
    rgba = picture()
    archive = zipfile.ZipFile(io.BytesIO(georeferenced_png(rgba, GRID, scale=scale, name="filled_2024-01-05")))
    assert sorted(archive.namelist()) == sorted(
        ["filled_2024-01-05.png", "filled_2024-01-05.pgw", "filled_2024-01-05.prj", "filled_2024-01-05.png.aux.xml"]
    )
    archive.extractall(tmp_path)
    with rasterio.open(tmp_path / "filled_2024-01-05.png") as png:
        assert png.crs == GRID.crs
        assert png.transform.almost_equals(TRANSFORM @ Affine.scale(1 / scale))
        assert (png.width, png.height, png.count) == (7 * scale, 5 * scale, 4)
        pixels = np.moveaxis(png.read(), 0, -1)
    assert (pixels == np.repeat(np.repeat(rgba, scale, axis=0), scale, axis=1)).all()
    assert (pixels[::scale, ::scale] == rgba).all()
    # The world file alone places the pixel centres (its convention), whatever reads it.
    a, d, b, e, c, f = (float(line) for line in (tmp_path / "filled_2024-01-05.pgw").read_text().split())
    assert (a, d, b, e) == (30 / scale, 0, 0, -30 / scale)
    assert (c, f) == pytest.approx((TRANSFORM.c + 15 / scale, TRANSFORM.f - 15 / scale))
    assert CRS.from_wkt((tmp_path / "filled_2024-01-05.prj").read_text()) == GRID.crs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"scale": 0}, "1 to 8"), ({"scale": 9}, "1 to 8"), ({"scale": 2.5}, "1 to 8"), ({"scale": True}, "1 to 8"),
     ({"name": "../x"}, "plain name"), ({"name": ""}, "plain name"), ({"name": "a/b"}, "plain name")],
)
def test_a_georeferenced_png_refuses_bad_scales_and_names(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        georeferenced_png(picture(), GRID, **kwargs)


def test_a_georeferenced_png_refuses_a_picture_of_another_grid():
    with pytest.raises(InvalidInputError, match=r"5 x 6 pixels but the grid is 5 x 7"):
        georeferenced_png(picture()[:, :6], GRID)
    with pytest.raises(InvalidInputError, match=r"\(H, W, 4\) uint8"):
        georeferenced_png(picture()[..., :3], GRID)


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        (("uint16", "uint16"), "uint16"),
        (("uint16", "uint32"), "uint32"),
        (("uint8", "bool"), "uint8"),
        (("int16", "uint16"), "int32"),
        (("float32", "uint16"), "float32"),
        (("float32", "uint32"), "float64"),  # never float32 with dates
    ],
)
def test_default_dtype_is_the_smallest_exact_one(tmp_path, dtypes, expected):
    bands = {f"b{i}": np.ones((4, 4), dtype=dtype) for i, dtype in enumerate(dtypes)}
    with rasterio.open(write_cog(tmp_path / "t.tif", bands, TRANSFORM, CRS_UTM)) as src:
        assert set(src.dtypes) == {expected}


def test_float_bands_use_the_floating_point_predictor_and_keep_nan(tmp_path):
    values = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    values[0, 0] = np.nan
    path = write_cog(tmp_path / "f.tif", {"ndvi": values}, TRANSFORM, CRS_UTM, nodata=float("nan"))
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"
        np.testing.assert_array_equal(src.read(1), values)
        assert np.isnan(src.nodata)


def test_a_dtype_that_would_round_dates_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match=r"'provenance'.*float32.*uint32"):
        write_cog(tmp_path / "x.tif", filled_bands(), TRANSFORM, CRS_UTM, dtype="float32")
    assert not list(tmp_path.iterdir())


def test_explicit_dtype_that_holds_the_values_is_used(tmp_path):
    bands = {"count": np.arange(16, dtype=np.int64).reshape(4, 4)}
    with rasterio.open(write_cog(tmp_path / "c.tif", bands, TRANSFORM, CRS_UTM, dtype="uint8")) as src:
        assert src.dtypes == ("uint8",)
        assert (src.read(1) == bands["count"]).all()


def test_overwrites_an_existing_file_whole(tmp_path):
    path = tmp_path / "out.tif"
    path.write_bytes(b"old")
    write_cog(path, reflectance_bands(), TRANSFORM, CRS_UTM)
    with rasterio.open(path) as src:
        assert src.count == 3


@pytest.mark.parametrize(
    ("bands", "kwargs", "message"),
    [
        ({"red": np.ones((4, 4), np.uint16), "qa": np.ones((4, 5), np.uint16)}, {}, r"red \(4, 4\), qa \(4, 5\)"),
        ({"cube": np.ones((2, 4, 4), np.uint16)}, {}, "2-D"),
        ({}, {}, "No bands"),
        ({"red": np.ones((4, 4), np.uint16)}, {"nodata": -9999}, "does not fit"),
        ({"red": np.ones((4, 4), np.uint16)}, {"scales": {"nir": 2.0}}, "unknown band.*nir"),
    ],
)
def test_bad_input_is_refused_and_leaves_nothing(tmp_path, bands, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        write_cog(tmp_path / "bad.tif", bands, TRANSFORM, CRS_UTM, **kwargs)
    assert not list(tmp_path.iterdir())


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        write_cog(tmp_path / "nope" / "x.tif", reflectance_bands(), TRANSFORM, CRS_UTM)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def broken_write(self, *args, **kwargs):
        raise rasterio.errors.RasterioIOError("disk full")

    # The COG driver writes through a buffered (in-memory, then copied) dataset.
    monkeypatch.setattr(rasterio.io.BufferedDatasetWriter, "write", broken_write)
    with pytest.raises(rasterio.errors.RasterioIOError):
        write_cog(tmp_path / "x.tif", reflectance_bands(), TRANSFORM, CRS_UTM)
    assert not list(tmp_path.iterdir())


def test_failed_rename_removes_the_finished_partial_file(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        assert Path(src).is_file()  # the complete file existed under its temporary name
        raise PermissionError("read-only target")

    monkeypatch.setattr(export.os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        write_cog(tmp_path / "x.tif", reflectance_bands(), TRANSFORM, CRS_UTM)
    assert not list(tmp_path.iterdir())


def test_csv_escapes_and_formats_cells():
    rows = [
        {"date": dt.date(2024, 1, 5), "note": 'cloud, "thick"', "scenes": ["LC08_A", "LC08_B"], "pct": 12.5},
        {"date": dt.date(2024, 1, 21), "note": "two\nlines", "scenes": [], "pct": None},
        {"date": dt.date(2024, 2, 6)},
    ]
    text = rows_to_csv(rows, ["date", "pct", "note", "scenes"])

    assert text.splitlines()[0] == "date,pct,note,scenes"
    assert text.startswith('date,pct,note,scenes\n2024-01-05,12.5,"cloud, ""thick""",LC08_A;LC08_B\n')
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed == [
        ["date", "pct", "note", "scenes"],
        ["2024-01-05", "12.5", 'cloud, "thick"', "LC08_A;LC08_B"],
        ["2024-01-21", "", "two\nlines", ""],
        ["2024-02-06", "", "", ""],
    ]


def test_csv_with_no_rows_is_just_the_header():
    assert rows_to_csv([], ["a", "b"]) == "a,b\n"
