"""Photos of a problem or of its fix: JPEG or PNG, at most 8 MB, read whole by Pillow (a renamed
PDF or a truncated upload is refused, not stored). Phones' cameras give 3-6 MB JPEGs."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

MAX_PHOTO_BYTES = 8 * 1024 * 1024
FORMATS = {"JPEG", "PNG"}
# A small PNG can still unpack to gigabytes: refuse absurd dimensions before decoding.
MAX_PIXELS = 50_000_000
MAX_PHOTOS_PER_UPLOAD = 6


def validate_photo(upload):
    size = getattr(upload, "size", None)
    if size is None or size > MAX_PHOTO_BYTES:
        raise ValidationError(_("The photo is larger than 8 MB."), code="photo_size")
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(_("The photo has too many pixels."), code="photo_pixels")
            image.verify()
    except ValidationError:
        raise
    except Exception:  # Pillow raises many kinds for a file that is not a whole image
        raise ValidationError(_("The photo is not a JPEG or PNG image."), code="photo_type") from None
    finally:
        upload.seek(position)
    if kind not in FORMATS:
        raise ValidationError(_("The photo is not a JPEG or PNG image."), code="photo_type")
    return upload


def validate_photos(uploads):
    uploads = [u for u in uploads or () if u]
    if len(uploads) > MAX_PHOTOS_PER_UPLOAD:
        raise ValidationError(
            _("At most %(n)d photos at a time.") % {"n": MAX_PHOTOS_PER_UPLOAD}, code="photo_count"
        )
    for upload in uploads:
        validate_photo(upload)
    return uploads
