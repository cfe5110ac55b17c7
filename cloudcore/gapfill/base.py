"""What every fill method works on and gives back, and the strategy a method implements.

Everything here is pure numpy on arrays already read onto one common AOI grid.

A method is one subclass of `FillMethod` in its own module under `cloudcore.gapfill.methods`:
its `name`, a one-line `description`, whether it `needs_all_donors` (False: reading may stop
once every hole has a usable donor, because the method takes each hole from the nearest one),
and its kernel, `fill(job)`. The registry finds it there; nothing else needs to change.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidInputError
from ..product import SR_SCALE, date_code


@dataclass(frozen=True)
class Layer:
    """One date on the common grid: its bands and which of its pixels may be used."""

    date: dt.date
    bands: np.ndarray
    """(B, H, W) surface reflectance DN (uint16, Landsat C2 L2 scaling) or any numeric dtype."""
    usable: np.ndarray
    """(H, W) bool: valid and not removed by the mask policy."""
    label: str = ""
    """What to call the layer in messages, e.g. its platform."""

    def __post_init__(self) -> None:
        bands = np.asarray(self.bands)
        usable = np.asarray(self.usable, dtype=bool)
        name = self.label or str(self.date)
        if bands.ndim != 3:
            raise InvalidInputError(
                f"Layer {name} has bands of shape {bands.shape}: give a (bands, rows, columns) array."
            )
        if usable.shape != bands.shape[1:]:
            raise InvalidInputError(
                f"Layer {name} has a usable mask of shape {usable.shape} for bands of shape {bands.shape}: "
                f"the mask must be {bands.shape[1:]}."
            )
        object.__setattr__(self, "bands", bands)
        object.__setattr__(self, "usable", usable)


@dataclass(frozen=True)
class Correction:
    """A radiometric correction a method applied to one donor date (`nearest-matched`, `blend-matched`)."""

    date: dt.date
    gains: tuple[float, ...] | None
    """Per band; None when the donor was used as it is."""
    offsets: tuple[float, ...] | None
    """Per band, in the bands' units (DN for Collection 2 Level-2 bands); None when not corrected."""
    shared_px: int
    """AOI pixels usable on both dates: what the fit could draw on."""
    reason: str = ""
    """Why no correction was applied, or why only part of one was (`blend-matched`'s "offset only: ...",
    gains 1); empty when a fitted one was."""

    @property
    def applied(self) -> bool:
        return self.gains is not None

    def offsets_reflectance(self, scale: float, add_offset: float) -> tuple[float, ...] | None:
        """The offsets in reflectance for bands stored as reflectance = DN * scale + add_offset."""
        if self.gains is None or self.offsets is None:
            return None
        # target_dn = g * donor_dn + o  <=>  target_r = g * donor_r + (o * scale + add_offset * (1 - g))
        return tuple(o * scale + add_offset * (1 - g) for g, o in zip(self.gains, self.offsets, strict=True))

    def describe(self) -> str:
        """One line for a person, e.g. `2024-01-05: gain 1.02, 0.98 offset -310, 95 (4,210 shared px)`."""
        if self.gains is None or self.offsets is None:
            return f"{self.date}: {self.reason}"
        gains = ", ".join(f"{g:.3f}" for g in self.gains)
        offsets = ", ".join(f"{o:.0f}" for o in self.offsets)
        note = f"; {self.reason}" if self.reason else ""  # e.g. blend-matched's "offset only: ..."
        return f"{self.date}: gain {gains} offset {offsets} ({self.shared_px:,} shared px{note})"

    def to_dict(self) -> dict[str, Any]:
        """The correction as plain JSON values."""
        return {
            "date": self.date.isoformat(),
            "gains": None if self.gains is None else list(self.gains),
            "offsets": None if self.offsets is None else list(self.offsets),
            "shared_px": self.shared_px,
            "reason": self.reason,
        }


@dataclass
class FillJob:
    """One fill in progress: what a method reads, and the arrays it writes into."""

    target: Layer
    donors: list[Layer]
    """Donors within the window, nearest in time first (the earlier of two equally near first)."""
    inside: np.ndarray
    """(H, W) pixels whose centres lie in the AOI."""
    holes: np.ndarray
    """(H, W) pixels inside the AOI that the target cannot keep: what the method fills."""
    filled: np.ndarray
    """(B, H, W) the target as kept, `nodata` in the holes and outside the AOI: write values here."""
    provenance: np.ndarray
    """(H, W) uint32 YYYYMMDD: the target's code where kept, 0 elsewhere: write donors' codes here."""
    uncertainty: np.ndarray
    """(H, W) float32 predicted absolute error in reflectance: 0 where kept, NaN elsewhere. A method
    may write its own estimate where it fills; the kernel estimates the filled pixels left NaN
    (`cloudcore.gapfill.uncertainty`)."""
    nodata: int
    corrections: list[Correction] = field(default_factory=list)
    """Record the correction of every donor that filled a pixel here, nearest first."""
    band_scale: float = SR_SCALE
    """Reflectance per band unit (Collection 2 Level-2 DN: 0.0000275): turns band-unit errors into reflectance."""

    def take(self, donor: Layer, where: np.ndarray, values: np.ndarray | None = None) -> None:
        """Fill the `where` pixels from `donor` (its own values, or `values` of shape (B, N))."""
        self.filled[:, where] = donor.bands[:, where] if values is None else values
        self.provenance[where] = date_code(donor.date)


class FillMethod(ABC):
    """A way to fill a date's holes from other dates (see the module docstring).

    Subclasses set the three class attributes and implement `fill`. A method with options (a
    matching policy, a scoring) takes them as constructor arguments with defaults; the registry
    holds an instance built with the defaults.
    """

    name: ClassVar[str]
    """The name users pick it by (CLI `--method`, the dashboard's menu, `cloudcore.fill(method=...)`)."""
    description: ClassVar[str]
    """One line for menus, `--help` and the README."""
    needs_all_donors: ClassVar[bool] = True
    """False when the method takes each hole from the nearest usable donor, so reading donors
    nearest first may stop once every hole has one."""

    @abstractmethod
    def fill(self, job: FillJob) -> set[dt.date]:
        """Fill `job.holes` (writing `job.filled` and `job.provenance`, and `job.uncertainty` if the
        method knows better than the kernel's estimate); return the dates that filled, or for a
        blend contributed to, at least one pixel."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
