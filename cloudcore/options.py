"""The closed sets of choices users pick from, as `Literal` types and tuples, with no heavy imports.

The command line builds its parser from these before it imports numpy, GDAL or the model, so
`python -m cloudcore --help` answers at once. Fill methods are not here: they are the
registry's (`cloudcore.gapfill.registry`), one module per method.
"""

from __future__ import annotations

from typing import Literal, get_args

from .errors import InvalidInputError

MaskKind = Literal["qa", "ml", "qa+ml"]
"""QA_PIXEL, the machine-learning model, or their union."""
MASK_KINDS: tuple[MaskKind, ...] = get_args(MaskKind)

QAFlag = Literal["fill", "dilated", "cirrus", "cloud", "shadow", "snow", "water"]
"""QA_PIXEL single-bit flags a mask can remove (fill is always removed: it holds no data)."""
QA_FLAGS: tuple[QAFlag, ...] = get_args(QAFlag)

DEFAULT_FLAGS: frozenset[str] = frozenset({"dilated", "cirrus", "cloud", "shadow"})
"""QA_PIXEL flags removed by default (the most common choice of tools and papers)."""

PLANETARY_COMPUTER = "planetary-computer"
SOURCE_FORMS = (
    "planetary-computer (default), demo, an http(s):// STAC API root, a folder of Landsat C2 L2 files, "
    "a SceneSource, or pystac Items"
)
"""The forms a source may take, for messages."""


def check_mask_kind(kind: str) -> MaskKind:
    """`kind` if it is one of MASK_KINDS, else InvalidInputError naming the choices."""
    if kind not in MASK_KINDS:
        raise InvalidInputError(f"Mask {kind!r} is not known: use one of {', '.join(MASK_KINDS)}.", parameter="mask")
    return kind
