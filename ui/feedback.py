"""One table from cloudcore errors to what the page says: never a traceback in the page."""

from __future__ import annotations

import streamlit as st

from cloudcore import (
    CloudCoreError,
    InvalidAOIError,
    InvalidInputError,
    NoScenesError,
    SceneReadError,
    SettingsError,
    SourceUnreachableError,
    UnknownSourceError,
)

# error type -> (how loud, what to put before the error's own message)
MESSAGES: list[tuple[type[BaseException], str, str]] = [
    (SourceUnreachableError, "error", "The data source did not answer."),
    (SettingsError, "error", "This server is misconfigured; its operator must change a setting."),
    (InvalidAOIError, "warning", "The area of interest needs a change."),
    (UnknownSourceError, "warning", "That data source is not known."),
    (NoScenesError, "warning", "No Landsat scenes there."),
    (InvalidInputError, "warning", "A setting needs a change."),
    (SceneReadError, "error", "A scene could not be read."),
    (CloudCoreError, "error", "That did not work."),
]


# The dashboard's own hint for an error about one front-door argument: where that is set here.
WHERE = {
    "aoi": "Draw the area on the map, or type a bbox or upload GeoJSON beside it.",
    "start": "Change the dates in the sidebar.",
    "end": "Change the dates in the sidebar.",
    "date": "Pick one of the dates on the Explore page.",
    "source": "Choose another data source in the sidebar (the demo works offline).",
    "mask": "Change it under Mask in the sidebar.",
    "flags": "Change it under Mask in the sidebar.",
    "buffer_m": "Change it under Mask in the sidebar.",
    "method": "Change it under Gap filling in the sidebar.",
    "window_days": "Change it under Gap filling in the sidebar.",
    "max_scene_cloud": "Move the scene-wide cloud slider in the sidebar.",
}


def message_for(err: BaseException) -> tuple[str, str]:
    """(level, text) for an error; unknown errors get a generic line without internals."""
    for kind, level, lead in MESSAGES:
        if isinstance(err, kind):
            hint = WHERE.get(getattr(err, "parameter", None) or "", "")
            return level, f"{lead} {err} {hint}".rstrip()
    return "error", f"Something went wrong ({type(err).__name__}: {err}). Try again; if it persists, report it."


def plain(text: str) -> str:
    """`text` with Markdown's link and image brackets escaped: a message may quote what a link or
    a remote server supplied, and must not turn it into a link or an image in the page."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def show_error(err: BaseException) -> None:
    level, text = message_for(err)
    getattr(st, level)(plain(text))
