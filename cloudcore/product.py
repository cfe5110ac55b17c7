"""Facts of the Landsat Collection 2 Level-2 product that every layer shares.

Band keys, the reflectance scaling, the platforms, and the USGS product id. Pure Python:
importing it costs nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .errors import InvalidInputError

# Band keys as Planetary Computer's landsat-c2-l2 names them.
SR_BANDS: tuple[str, ...] = ("red", "green", "blue", "nir08", "swir16", "swir22")
"""The six surface reflectance bands every Landsat 4-9 scene has, in the order cloudcore uses."""
QA_BAND = "qa_pixel"
RADSAT_BAND = "qa_radsat"

# ref: USGS Landsat Collection 2 Level-2 Science Product Guides (LSDS-1619 for 8-9, LSDS-1618 for 4-7),
# "Scale factors": surface reflectance = DN x 0.0000275 - 0.2; DN 0 is fill.
SR_SCALE = 0.0000275
SR_OFFSET = -0.2
SR_NODATA_DN = 0

LANDSAT_4_TO_9 = frozenset(f"landsat-{n}" for n in range(4, 10))
OLI_PLATFORMS = frozenset({"landsat-8", "landsat-9"})
"""Landsat 8-9 carry OLI, with a cirrus band; Landsat 4-7 carry TM or ETM+, without."""

# Landsat 4's launch: no Landsat 4-9 scene is older.
LANDSAT_RECORD_START = dt.date(1982, 7, 16)
# Landsat 7's scan line corrector failed on this date; its later scenes have no-data stripes.
# ref: USGS, "Landsat 7 ETM+ SLC-off products" (2003-05-31).
SLC_FAILURE = dt.date(2003, 5, 31)

# ref: LSDS-1619 / LSDS-1618, "Product Identifier": LXSS_LLLL_PPPRRR_YYYYMMDD_yyyymmdd_CC_TX
PRODUCT_ID = re.compile(
    r"^L(?P<sensor>[COTEM])(?P<sat>0[4-9])_(?P<level>L2S[PR])_(?P<path>\d{3})(?P<row>\d{3})_"
    r"(?P<acquired>\d{8})_(?P<processed>\d{8})_(?P<collection>\d{2})_(?P<category>T1|T2|RT)$"
)


def date_code(d: dt.date) -> int:
    """The date as the integer YYYYMMDD, e.g. 2024-01-05 -> 20240105 (provenance values)."""
    return d.year * 10_000 + d.month * 100 + d.day


def parse_product_id(product_id: str) -> dict[str, Any]:
    """Platform, path, row and acquisition date from a USGS product id.

    Raises:
        InvalidInputError: the name is not a Collection 2 Level-2 product id.
    """
    match = PRODUCT_ID.match(product_id)
    if not match:
        raise InvalidInputError(
            f"{product_id!r} is not a Landsat Collection 2 Level-2 product id "
            "(expected e.g. LC08_L2SP_047027_20201204_20210313_02_T1)."
        )
    acquired = dt.datetime.strptime(match["acquired"], "%Y%m%d").replace(tzinfo=dt.UTC)
    return {
        "platform": f"landsat-{int(match['sat'])}",
        "wrs_path": int(match["path"]),
        "wrs_row": int(match["row"]),
        "datetime": acquired,
        "level": match["level"],
    }
