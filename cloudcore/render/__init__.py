"""Pictures: true colour, mask and provenance overlays, thumbnails, images placed on a map."""
