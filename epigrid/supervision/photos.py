"""Photos of a problem or of its fix: JPEG or PNG, at most 8 MB (core.photos); phones' cameras give
3-6 MB JPEGs."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from epigrid.core import photos

MAX_PHOTO_MB = 8
MAX_PIXELS = 50_000_000
MAX_PHOTOS_PER_UPLOAD = 6


def validate_photo(upload):
    return photos.validate_photo(upload, max_mb=MAX_PHOTO_MB, max_pixels=MAX_PIXELS)


def validate_photos(uploads):
    uploads = [u for u in uploads or () if u]
    if len(uploads) > MAX_PHOTOS_PER_UPLOAD:
        raise ValidationError(
            _("At most %(n)d photos at a time.") % {"n": MAX_PHOTOS_PER_UPLOAD}, code="photo_count"
        )
    for upload in uploads:
        validate_photo(upload)
    return uploads
