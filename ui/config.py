"""Server settings: the Planetary Computer key (environment or Streamlit secrets) and the shared folder root.

The key is handed to the planetary-computer SDK through the environment, where the SDK and
cloudcore read it; it is never put in session state, a URL or the page.
"""

import os

import streamlit as st

KEY_NAME = "PC_SDK_SUBSCRIPTION_KEY"


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


FOLDER_ROOT_NAME = "CLOUDCORE_FOLDER_ROOT"


def folder_root() -> str | None:
    """The one server folder the dashboard may read scenes from, as a real path; None when unset.

    A page address is anyone's to write, so folders are off unless the server's operator names
    a root; only that folder and what lies inside it (symlinks resolved) can be opened.
    """
    raw = os.environ.get(FOLDER_ROOT_NAME, "").strip()
    if not raw:
        return None
    real = os.path.realpath(os.path.expanduser(raw))
    if not os.path.isdir(real):
        from cloudcore.errors import InvalidInputError

        raise InvalidInputError(
            f"{FOLDER_ROOT_NAME} names no folder on this server: the server's operator must set it to an existing folder."
        )
    return real
