"""cloudcore: Landsat Collection 2 Level-2 clouds over an area of interest."""
