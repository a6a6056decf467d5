"""The photo of a disinfected site: JPEG or PNG, at most 8 MB, checked whole by core.photos (as
supervision's evidence photos are)."""

from epigrid.core import photos

MAX_PHOTO_MB = 8
MAX_PIXELS = 50_000_000


def validate_photo(upload):
    return photos.validate_photo(upload, max_mb=MAX_PHOTO_MB, max_pixels=MAX_PIXELS)
