"""Loopback HTTP servers that tests (and the benchmark) can break on command.

- `blob.BlobServer`: a range-capable file server shaped like a user's link (time to first
  byte, one bandwidth cap shared by all connections), with Azure-like expired signatures.
- `stac_faults.StacFaultProxy`: a reverse proxy in front of a real STAC API (rustac).
- `faults`: the fault rules both understand (`status`, `reset`, `truncate`, `stall`,
  `malformed`) and the server machinery they share (stats, request log, start/stop).
"""
