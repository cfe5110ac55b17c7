"""Animations a user takes away: frames (uint8 RGB arrays of one size) as GIF or MP4 bytes, and
files written whole or not at all.

GIF is written by Pillow (every frame its own 256-colour palette, no dithering, looping). MP4
is H.264 in yuv420p, what every browser and phone plays, encoded in memory by PyAV (its wheel
carries FFmpeg and libx264, so no system ffmpeg is needed); yuv420p needs even sides, so a
frame of odd width or height is padded by one pixel of its own edge.
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError

FORMATS = {".gif": "GIF", ".mp4": "MP4"}
"""File extension -> format, the only animations written."""
MIN_FPS = 0.5
MAX_FPS = 30.0
MP4_CRF = 20
"""x264's constant quality: 0 lossless .. 51 worst; 20 keeps labels crisp at small sizes."""


def output_format(path: str | os.PathLike) -> str:
    """'GIF' or 'MP4' from the file's extension (any case); refuses any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        accepted = " or ".join(FORMATS)
        found = f"its extension {suffix!r} is not {accepted}" if suffix else "it has no extension"
        raise InvalidInputError(
            f"Cannot write an animation to {str(path)!r}: {found}; name the file {accepted} "
            "(the only animations written).",
            parameter="out",
        )
    return FORMATS[suffix]


def check_output(path: str | os.PathLike) -> Path:
    """The path, after checking its extension and that its folder exists and takes a new file
    (by creating and removing one there), so a long job does not fail at the very end."""
    path = Path(path)
    output_format(path)
    folder = path.parent
    if path.is_dir():
        raise InvalidInputError(f"{str(path)!r} is a folder: give a file name in it, e.g. {str(path / 'timelapse.gif')!r}.",
                                parameter="out")
    if not folder.is_dir():
        raise InvalidInputError(f"Folder {str(folder)!r} does not exist: create it or choose another path.",
                                parameter="out")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise InvalidInputError(
            f"Cannot write into folder {str(folder)!r} ({err.strerror or err}): choose a folder you can write to.",
            parameter="out",
        ) from None
    return path


def check_fps(fps: float) -> float:
    """The frame rate as a float in MIN_FPS..MAX_FPS."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(fps, bool) or not MIN_FPS <= value <= MAX_FPS:  # also refuses nan
        raise InvalidInputError(
            f"fps={fps!r} is outside {MIN_FPS:g}..{MAX_FPS:g}: give frames per second in that range, e.g. 3.",
            parameter="fps",
        )
    return value


def _checked_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    if not frames:
        raise InvalidInputError("No frames to encode: give at least one (H, W, 3) uint8 picture.")
    arrays = [np.asarray(frame) for frame in frames]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 3 or arrays[0].shape[2] != 3 or any(a.dtype != np.uint8 for a in arrays):
        raise InvalidInputError(
            f"Frames have shapes {sorted(shapes)} and types {sorted({str(a.dtype) for a in arrays})}: "
            "give (H, W, 3) uint8 pictures of one size."
        )
    return arrays


def gif_bytes(frames: Sequence[np.ndarray], fps: float) -> bytes:
    """The frames as a looping GIF, each shown 1/fps s (GIF counts in hundredths of a second)."""
    from PIL import Image

    arrays = _checked_frames(frames)
    rate = check_fps(fps)
    pictures = [
        Image.fromarray(np.ascontiguousarray(a)).quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        for a in arrays
    ]
    buffer = io.BytesIO()
    pictures[0].save(
        buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=max(20, round(1000 / rate / 10) * 10),
        loop=0, disposal=1,
    )
    return buffer.getvalue()


def even_sized(frame: np.ndarray) -> np.ndarray:
    """The frame padded by one pixel of its own right and bottom edge where a side is odd."""
    height, width = frame.shape[:2]
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def mp4_bytes(frames: Sequence[np.ndarray], fps: float) -> bytes:
    """The frames as an H.264 MP4 (yuv420p), each shown 1/fps s; odd sides padded to even."""
    import av

    arrays = [even_sized(a) for a in _checked_frames(frames)]
    rate = Fraction(check_fps(fps)).limit_denominator(1000)
    height, width = arrays[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(MP4_CRF)}
        for array in arrays:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a hidden file in the same folder renamed into place: the
    path holds the whole file or is left as it was, never a part."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
