"""What the figures were measured on: they mean little without the machine and the versions."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

PACKAGES = ("numpy", "rasterio", "odc-stac", "odc-loader", "dask", "distributed", "requests", "scipy")


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def describe() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        import rasterio

        versions["gdal"] = rasterio.__gdal_version__
    except ImportError:
        pass
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "python": sys.version.split()[0],
        # A shared machine runs others' work too: the load at the start says how busy it was.
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "packages": versions,
    }
