"""The optional photo of a self-test: JPEG or PNG, at most 5 MB, and Pillow must read it as an
image of that kind (a renamed PDF or a truncated upload is refused, not stored)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

MAX_PHOTO_BYTES = 5 * 1024 * 1024
FORMATS = {"JPEG", "PNG"}
# A 5 MB PNG can still unpack to gigabytes: refuse absurd dimensions before decoding.
MAX_PIXELS = 40_000_000


def validate_photo(upload):
    size = getattr(upload, "size", None)
    if size is None or size > MAX_PHOTO_BYTES:
        raise ValidationError(_("The photo is larger than 5 MB."), code="photo_size")
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
