"""The closed sets of choices users pick from, with no heavy imports.

The CLI builds its parser from these before it imports numpy, GDAL or the model, so
`python -m cloudcore --help` answers at once; the modules that implement each choice import
their names from here.
"""

FILL_METHODS: tuple[str, ...] = ("nearest", "nearest-matched", "median", "best-pixel")
DEFAULT_FILL_METHOD = "nearest-matched"
"""Measured best on the demo record (README; `python -m cloudcore evaluate`)."""

MASK_KINDS: tuple[str, ...] = ("qa", "ml", "qa+ml")
"""QA_PIXEL, the machine-learning model, or their union."""

DEFAULT_FLAGS: frozenset[str] = frozenset({"dilated", "cirrus", "cloud", "shadow"})
"""QA_PIXEL flags removed by default (the issue's and most tools' choice)."""

PLANETARY_COMPUTER = "planetary-computer"
SOURCE_HELP = "planetary-computer (default), demo, an http(s):// STAC API root, or a folder of Landsat C2 L2 files"
