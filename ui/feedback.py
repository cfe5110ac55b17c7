"""One table from cloudcore errors to what the page says: never a traceback in the page.

A library message speaks to whoever runs cloudcore, so it may tell them to raise a server
variable ("..., or raise the limit (CLOUDCORE_MAX_AOI_KM2)."). A dashboard's visitor cannot:
`web_text` drops that advice, says the limit is this server's, and the full message goes to
the server's log ("cloudcore.dashboard") for its operator. A SettingsError keeps its variable:
only the operator can fix it (app.py shows it, naming the variable, and stops).
"""

from __future__ import annotations

import logging
import re

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

LOG = logging.getLogger("cloudcore.dashboard")

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
MISCONFIGURED = "This server is misconfigured; its operator must change a setting (the server's log says which)."
"""For an error about a server variable's value that is not a SettingsError (e.g. a shared folder that is gone)."""


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

_VARIABLE = re.compile(r"\bCLOUDCORE_[A-Z0-9_]+")
# Advice to change a server variable, with the separator before it, in the shapes cloudcore's
# messages use (tests/app/test_feedback.py produces each of them). The specific shapes first.
_RAISE_THE_LIMIT = re.compile(r",? or raise the limit \([^()]*\bCLOUDCORE_[^()]*\)")  # limits.py: "..., or raise the limit (CLOUDCORE_…)."
_RAISE_MID_LIST = re.compile(r", raise CLOUDCORE_[A-Z0-9_]+(?=, )")  # "try again, raise CLOUDCORE_…, or use ..."
_OR_RAISE = re.compile(r",? or raise CLOUDCORE_[A-Z0-9_]+")  # "..., or raise CLOUDCORE_…."
_ASIDE = re.compile(r" ?\([^()]*\bCLOUDCORE_[^()]*\)")  # "(on a slow link, raise CLOUDCORE_…)", "(CLOUDCORE_…)"
# Once the advice is gone, the limit or deadline that refused the request is said to be this server's.
_LIMIT = re.compile(r"\bover the (?P<size>[^:]*?) limit\b")
_WITHIN = re.compile(r"\bwithin (?P<time>[0-9][0-9.,]* ?s)\b")
_KM2 = re.compile(r"\bkm2\b")


def _drop(text: str, clause: re.Pattern[str], *, last_option: bool = False) -> str:
    """`text` without every match of `clause`. When the match was the last option of a list
    ("A, B, or raise X"), the option now last gets the "or" ("A, or B")."""
    while match := clause.search(text):
        head, tail = text[: match.start()], text[match.end():]
        if last_option:
            start = max(head.rfind(": "), head.rfind(". ")) + 2
            comma = head.rfind(", ")
            if comma >= start and not head[comma + 2:].startswith("or "):
                head = f"{head[: comma + 2]}or {head[comma + 2:]}"
        text = head + tail
    return text


def web_text(message: str) -> str | None:
    """`message` as a dashboard visitor should read it: no advice to change a server variable
    (the limit or deadline said to be this server's instead), km² for km2. None when the message
    is about a server variable's value itself: only the operator can act on it."""
    text = _drop(message, _RAISE_THE_LIMIT, last_option=True)
    text = _drop(text, _RAISE_MID_LIST)
    text = _drop(text, _OR_RAISE, last_option=True)
    text = _drop(text, _ASIDE)
    if text != message:
        text = _LIMIT.sub(r"over this server's \g<size> limit", text, count=1)
        text = _WITHIN.sub(r"within this server's \g<time> limit", text, count=1)
    if _VARIABLE.match(text.lstrip()):
        return None  # "CLOUDCORE_… names no folder on this server: ..."
    text = _VARIABLE.sub("a setting of this server", text)
    return _KM2.sub("km²", text)


def message_for(err: BaseException) -> tuple[str, str]:
    """(level, text) for an error; unknown errors get a generic line without internals.

    The full message goes to the "cloudcore.dashboard" log whenever the page says less.
    """
    original = str(err)
    found = next(((level, lead) for kind, level, lead in MESSAGES if isinstance(err, kind)), None)
    # A SettingsError is for the operator, and names the variable to fix: it stays whole.
    said = original if isinstance(err, SettingsError) else web_text(original)
    if found is None:
        LOG.warning("Unexpected %s shown to a web user: %s", type(err).__name__, original, exc_info=err)
        return "error", (f"Something went wrong ({type(err).__name__}: {said or 'see the server log'}). "
                         "Try again; if it persists, report it.")
    if said is None:
        LOG.warning("%s shown to a web user as a misconfiguration: %s", type(err).__name__, original)
        return "error", MISCONFIGURED
    if said != original:
        LOG.info("%s shown to a web user without the server's settings; in full: %s", type(err).__name__, original)
    level, lead = found
    hint = WHERE.get(getattr(err, "parameter", None) or "", "")
    return level, f"{lead} {said} {hint}".rstrip()


def plain(text: str) -> str:
    """`text` with Markdown's link and image brackets escaped: a message may quote what a link or
    a remote server supplied, and must not turn it into a link or an image in the page."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def show_error(err: BaseException) -> None:
    level, text = message_for(err)
    getattr(st, level)(plain(text))
