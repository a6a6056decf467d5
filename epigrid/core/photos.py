"""Photos sent from phones (an antigen self-test, a supervision problem or its fix): JPEG or PNG
under a size limit, read whole by Pillow, so a renamed PDF or a truncated upload is refused, not
stored. Each app sets its own limits."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

FORMATS = {"JPEG", "PNG"}


def validate_photo(upload, *, max_mb, max_pixels):
    size = getattr(upload, "size", None)
    if size is None or size > max_mb * 1024 * 1024:
        raise ValidationError(_("The photo is larger than %(mb)d MB.") % {"mb": max_mb}, code="photo_size")
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = image.format
            # A small PNG can still unpack to gigabytes: refuse absurd dimensions before decoding.
            if image.width * image.height > max_pixels:
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
