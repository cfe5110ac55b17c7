"""Streamlit glue between the pages and cloudcore: state, cached calls, maps, messages."""
