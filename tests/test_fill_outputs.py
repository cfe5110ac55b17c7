"""What a filled date's files say about it: the GeoTIFF's tags and the per-source-date summary CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st

import cloudcore
from cloudcore.gapfill.base import Layer
from cloudcore.gapfill.image import fill_date
from cloudcore.gapfill.kernel import fill_gaps
from cloudcore.gapfill.metadata import geotiff_tags, safe_source
from cloudcore.gapfill.summary import _shares, fill_summary_columns, fill_summary_csv, fill_summary_rows
from cloudcore.geo.aoi import parse_aoi
from cloudcore.masks.qa import CLEAR_BIT, CLOUD_BIT
from cloudcore.product import SR_BANDS, SR_OFFSET, SR_SCALE, date_code
from tests.rasters import ORIGIN, UTM33N, ListSource, lonlat_bbox, make_scene

CLEAR, CLOUD = 1 << CLEAR_BIT, 1 << CLOUD_BIT
DARK = round((0.05 + 0.2) / 0.0000275)  # reflectance 0.05 as a C2 L2 digital number
TARGET = dt.date(2024, 5, 1)
REQUEST = {"aoi": "", "source": "test-list", "mask": "qa", "flags": ["cloud", "shadow"], "buffer_m": 30.0,
           "window_days": 30, "cloudcore_version": cloudcore.__version__}


@pytest.fixture
def image(tmp_path):
    """A target cloudy in its middle; a donor 8 days before clear on the left half of the cloud,
    and one 8 days after clear everywhere, a little brighter."""
    target_qa = np.full((60, 60), CLEAR, np.uint16)
    target_qa[20:40, 20:40] = CLOUD
    before_qa = np.full((60, 60), CLOUD, np.uint16)
    before_qa[:, :30] = CLEAR
    bands = {b: np.full((60, 60), DARK, np.uint16) for b in SR_BANDS}
    brighter = {b: np.full((60, 60), DARK + 100, np.uint16) for b in SR_BANDS}
    scenes = [
        make_scene(tmp_path, "T", target_qa, bands=bands),
        make_scene(tmp_path, "B", before_qa, date=TARGET - dt.timedelta(days=8), bands=bands),
        make_scene(tmp_path, "A", np.full((60, 60), CLEAR, np.uint16), date=TARGET + dt.timedelta(days=8), bands=brighter),
    ]
    x0, y0 = ORIGIN
    aoi_text = lonlat_bbox(UTM33N, x0 + 150, y0 - 1650, x0 + 1650, y0 - 150)
    filled = fill_date(ListSource(scenes), parse_aoi(aoi_text), TARGET, window_days=30, method="nearest")
    return replace(filled, request={**REQUEST, "aoi": aoi_text})


def test_the_geotiff_says_what_it_holds_and_keeps_its_bands(image, tmp_path):
    path = image.write_geotiff(tmp_path / "filled.tif")
    with rasterio.open(path) as tif:
        tags = tif.tags()
        assert tif.descriptions == (*SR_BANDS, "provenance", "uncertainty")  # the documented contract
        assert tif.scales[:6] == pytest.approx((SR_SCALE,) * 6) and tif.offsets[:6] == pytest.approx((SR_OFFSET,) * 6)
        assert tif.nodata == 0
        assert (tif.read(7) == image.result.provenance).all()
        # The uncertainty is DN on the bands' own scale: DN 0 (nodata) exactly where there is none.
        assert tif.scales[7] == pytest.approx(SR_SCALE) and tif.offsets[7] == pytest.approx(SR_OFFSET)
        dn = tif.read(8)
    expected = image.result.uncertainty
    assert ((dn == 0) == np.isnan(expected)).all()
    assert (dn[image.inside & ~image.removed] > 0).all()
    decoded = dn[dn != 0] * SR_SCALE + SR_OFFSET
    np.testing.assert_allclose(decoded, expected[dn != 0], rtol=0, atol=SR_SCALE)
    assert tags["CLOUDCORE_DATE"] == "2024-05-01"
    assert tags["CLOUDCORE_METHOD"] == image.result.method == "nearest"
    assert tags["CLOUDCORE_MASK"] == "qa flags=cloud,shadow buffer_m=30"
    assert tags["CLOUDCORE_AOI"] == image.request["aoi"]
    assert tags["CLOUDCORE_SOURCE"] == "test-list"
    assert tags["CLOUDCORE_WINDOW_DAYS"] == "30"
    assert tags["CLOUDCORE_PLATFORM"] == image.platform == "landsat-8"
    assert tags["CLOUDCORE_SCENES"] == "T"
    assert tags["CLOUDCORE_DONORS"] == " ".join(d.isoformat() for d in image.result.donors_used) == "2024-04-23 2024-05-09"
    assert tags["CLOUDCORE_VERSION"] == cloudcore.__version__
    assert tags["TIFFTAG_SOFTWARE"] == f"cloudcore {cloudcore.__version__}"
    written = dt.datetime.strptime(tags["TIFFTAG_DATETIME"], "%Y:%m:%d %H:%M:%S").replace(tzinfo=dt.UTC)
    assert abs(dt.datetime.now(dt.UTC) - written) < dt.timedelta(minutes=5)


def test_an_image_without_a_recorded_request_writes_what_it_knows(image, tmp_path):
    tags = geotiff_tags(replace(image, request={}))
    assert {"CLOUDCORE_DATE", "CLOUDCORE_METHOD", "CLOUDCORE_PLATFORM", "CLOUDCORE_SCENES", "CLOUDCORE_VERSION"} <= set(tags)
    assert not {"CLOUDCORE_MASK", "CLOUDCORE_AOI", "CLOUDCORE_SOURCE", "CLOUDCORE_WINDOW_DAYS"} & set(tags)


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("https://user:pass@stac.example.com:8443/api/v1?subscription-key=SECRET#frag", "https://stac.example.com:8443/api/v1"),
        ("https://blob.example.net/c/x.tif?sv=2021&sig=SECRET", "https://blob.example.net/c/x.tif"),
        ("planetary-computer", "planetary-computer"),
        ("/data/landsat", "/data/landsat"),
    ],
)
def test_a_source_url_loses_its_credentials_and_query(source, shown):
    assert safe_source(source) == shown


def test_no_secret_reaches_the_file(image, tmp_path, monkeypatch):
    monkeypatch.setenv("PC_SDK_SUBSCRIPTION_KEY", "KEY-MARKER-0123456789")
    leaky = replace(image, request={**image.request, "source": "/data/KEY-MARKER-0123456789/scenes",
                                    "aoi": "https://x.example/aoi?token=KEY-MARKER-0123456789"})
    path = leaky.write_geotiff(tmp_path / "filled.tif")
    assert b"KEY-MARKER" not in path.read_bytes()
    assert "KEY-MARKER" not in fill_summary_csv(leaky)
    with rasterio.open(path) as tif:
        assert tif.tags()["CLOUDCORE_SOURCE"] == "/data/[redacted]/scenes"


def independent_counts(image) -> dict[str, int]:
    """AOI pixels per source, counted from the mask and provenance without the summary's code."""
    removed, provenance, inside = image.removed, image.result.provenance, image.inside
    counts = {"observed": int((inside & ~removed).sum()), "unfilled": int((removed & (provenance == 0)).sum())}
    for donor in image.result.donors_used:
        counts[donor.isoformat()] = int((removed & (provenance == date_code(donor))).sum())
    return counts


def test_the_summary_shares_add_up_and_match_an_independent_count(image):
    rows = fill_summary_rows(image)
    inside = int(image.inside.sum())
    counts = independent_counts(image)
    assert [(r["date"], r["role"], r["days_from_target"]) for r in rows] == [
        ("2024-04-23", "donor", -8), ("2024-05-01", "observed", 0), ("2024-05-09", "donor", 8), (None, "unfilled", None),
    ]
    assert sum(r["share_of_area_pct"] for r in rows) == pytest.approx(100, abs=0.05)
    for row in rows:
        key = row["date"] if row["role"] == "donor" else row["role"]
        assert row["pixels"] == counts[key]
        assert row["share_of_area_pct"] == pytest.approx(100 * counts[key] / inside, abs=0.001)
    # The donor before filled the left half of the cloud (nearest first; equally near, the earlier).
    assert counts["2024-04-23"] > 0 and counts["2024-05-09"] > 0
    for row in rows:
        assert (row["target_date"], row["platform"], row["scene_ids"], row["method"]) == ("2024-05-01", "landsat-8", "T", "nearest")
        assert (row["mask"], row["window_days"], row["source"]) == ("qa flags=cloud,shadow buffer_m=30", "30", "test-list")


def test_the_summary_lists_the_colour_corrections_in_reflectance(image):
    # The same grid filled by nearest-matched from a donor that is the target's texture, brighter:
    # the fit finds the gain and offset, which the summary gives per band, offsets in reflectance.
    texture = np.random.default_rng(5).integers(6_000, 12_000, size=(len(SR_BANDS), *image.inside.shape))
    target = Layer(TARGET, texture.astype(np.uint16), image.inside & ~image.removed)
    donor = Layer(TARGET + dt.timedelta(days=8), np.rint(texture * 1.05 + 300).astype(np.uint16), np.ones_like(image.inside))
    result = fill_gaps(target, [donor], image.inside, method="nearest-matched")
    rows = {r["date"]: r for r in fill_summary_rows(replace(image, original=target.bands, result=result))}
    (correction,) = result.corrections
    assert correction.applied and correction.gains[0] == pytest.approx(1 / 1.05, abs=0.01)
    offsets = correction.offsets_reflectance(SR_SCALE, SR_OFFSET)
    for band, gain, offset in zip(SR_BANDS, correction.gains, offsets):
        assert rows["2024-05-09"][f"gain_{band}"] == pytest.approx(gain, abs=1e-6)
        assert rows["2024-05-09"][f"offset_{band}"] == pytest.approx(offset, abs=1e-6)
        assert rows["2024-05-01"].get(f"gain_{band}") is None  # the target's own pixels are not corrected
    assert rows["2024-05-09"]["method"] == "nearest-matched"


def test_the_summary_csv_has_one_header_and_a_row_per_source(image):
    text = fill_summary_csv(image)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",") == fill_summary_columns(SR_BANDS)
    assert [r["role"] for r in parsed] == ["donor", "observed", "donor", "unfilled"]
    assert parsed[0]["gain_red"] == "" and parsed[-1]["date"] == ""
    assert sum(float(r["share_of_area_pct"]) for r in parsed) == pytest.approx(100, abs=0.05)
    assert cloudcore.fill_summary_csv is fill_summary_csv and cloudcore.fill_summary_rows is fill_summary_rows


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=400).filter(lambda counts: sum(counts) > 0))
def test_shares_add_up_to_100_and_stay_within_a_last_digit(counts):
    shares = _shares(counts, sum(counts))
    assert sum(shares) == pytest.approx(100, abs=1e-6)
    for count, share in zip(counts, shares):
        assert abs(share - 100 * count / sum(counts)) <= 0.001 + 1e-9
    assert _shares([0, 0], 0) == [None, None]
