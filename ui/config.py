"""Server settings: cloudcore's Settings for this dashboard, the Planetary Computer key (environment
or Streamlit secrets) and the shared folder root.

The settings are read from the CLOUDCORE_* environment when the dashboard starts (again only if
the environment changes) and passed to every cloudcore call. A shared server holds a stricter
area limit than the library (CLOUDCORE_UI_MAX_AOI_KM2, set by its operator).

The key is handed to the planetary-computer SDK through the environment, where the SDK and
cloudcore read it; it is never put in session state, a URL or the page.
"""

from __future__ import annotations

import os
from functools import lru_cache

import streamlit as st

from cloudcore import InvalidInputError, Settings

KEY_NAME = "PC_SDK_SUBSCRIPTION_KEY"
FOLDER_ROOT_NAME = "CLOUDCORE_FOLDER_ROOT"


def settings() -> Settings:
    """The dashboard's settings; SettingsError names a bad variable (app.py shows it and stops)."""
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("CLOUDCORE_"))))


@lru_cache(maxsize=4)
def _settings_for(environment: tuple[tuple[str, str], ...]) -> Settings:
    read = Settings.from_env(dict(environment))
    return read.replace(max_aoi_km2=min(read.max_aoi_km2, read.ui_max_aoi_km2))


def load_key_from_secrets() -> None:
    """Copy the key from .streamlit/secrets.toml (or the host's secrets) into the environment."""
    if os.environ.get(KEY_NAME):
        return
    try:
        value = st.secrets.get(KEY_NAME)
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return  # no secrets file: running without a key is fine
    if value:
        os.environ[KEY_NAME] = str(value)


def folder_root() -> str | None:
    """The one server folder the dashboard may read scenes from, as a real path; None when unset.

    A page address is anyone's to write, so folders are off unless the server's operator names
    a root; only that folder and what lies inside it (symlinks resolved) can be opened.
    """
    root = settings().folder_root
    if root is None:
        return None
    real = os.path.realpath(root)
    if not os.path.isdir(real):
        raise InvalidInputError(
            f"{FOLDER_ROOT_NAME} names no folder on this server: the server's operator must set it to an existing folder."
        )
    return real
