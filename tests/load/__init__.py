"""The dashboard under load: N browser users on the demo source at once (`python -m tests.load.run`)."""
