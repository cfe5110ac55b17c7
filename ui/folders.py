"""Which server folder a dashboard source names, confined to the operator's shared root.

The folder comes from a page address, which anyone can write: it is taken relative to the
shared root (an absolute path must lie inside it), and only a folder whose real path,
every symlink resolved, is the root or inside it can be opened. Forms that only make sense
as an attempt to get out (`..`, `~`, URL-encoding, NUL bytes) are refused by name, so the
message says what was wrong rather than "not found".
"""

from __future__ import annotations

import os

from cloudcore import InvalidInputError

MAX_FOLDER_TEXT = 1_000  # characters: deeper paths than this are no real download folder
_HOW = "give a folder inside the folder this server shares, e.g. landsat/2021"


def shared_folder(spec: str, root: str) -> str:
    """The real path of folder `spec` (relative to `root`, or absolute inside it).

    Args:
        spec: The folder as written in the page address or the sidebar.
        root: The shared root, already a real path (ui.config.folder_root()).

    Raises:
        InvalidInputError: the text is no acceptable folder, or it leads outside the root.
    """
    text = spec.strip()
    if not text:
        raise InvalidInputError(f"No folder given: {_HOW}.")
    if len(text) > MAX_FOLDER_TEXT:
        raise InvalidInputError(f"The folder name is over {MAX_FOLDER_TEXT:,} characters: {_HOW}.")
    if "\x00" in text:
        raise InvalidInputError(f"The folder name holds a NUL byte: {_HOW}.")
    if "%" in text:
        raise InvalidInputError(f"The folder name looks URL-encoded (it holds '%'): write it plainly; {_HOW}.")
    if text.startswith("~"):
        raise InvalidInputError(f"Home folders (~) are not shared: {_HOW}.")
    if ".." in text.replace("\\", "/").split("/"):
        raise InvalidInputError(f"The folder name steps up with '..': {_HOW}.")
    real = os.path.realpath(os.path.join(root, text))
    if os.path.commonpath([real, root]) != root:
        raise InvalidInputError(f"That folder lies outside the folder this server shares: {_HOW}.")
    return real
