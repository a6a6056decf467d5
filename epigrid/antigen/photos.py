"""The optional photo of a self-test: JPEG or PNG, at most 5 MB (core.photos)."""

from epigrid.core import photos

MAX_PHOTO_MB = 5
MAX_PIXELS = 40_000_000


def validate_photo(upload):
    return photos.validate_photo(upload, max_mb=MAX_PHOTO_MB, max_pixels=MAX_PIXELS)
