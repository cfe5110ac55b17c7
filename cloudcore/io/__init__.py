"""Reading AOI windows of rasters (GDAL options, deadlines, retries), stacking a date, the
per-date result cache, and writing COG and CSV files."""
