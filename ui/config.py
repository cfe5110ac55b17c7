"""Secrets for the server process: the Planetary Computer key from the environment or Streamlit secrets.

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
