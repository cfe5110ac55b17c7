"""Gap filling: fill a date's removed pixels from other dates, and say where each came from.

`methods/` holds one module per fill method, found by `registry`; `kernel.fill_gaps` runs one
on arrays already on one grid (pure numpy); `inputs` reads the target and its donors;
`image.fill_date` does both and returns a `FilledImage`.
"""
