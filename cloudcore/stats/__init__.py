"""Per-date statistics of the AOI (cloud, shadow, snow, missing), on this machine or a Dask cluster."""
