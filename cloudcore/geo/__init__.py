"""Where: the area of interest, pixel grids and footprints (geometry only, no raster I/O)."""
