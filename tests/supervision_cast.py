"""Supervision additions to the cast (no tests here): a second street officer to sign off what the
first raised, a PNG maker for photos, and a helper raising an item as the street officer."""

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from epigrid.accounts.models import Grant, User
from epigrid.supervision import services


def png(name="fix.png", size=(8, 8), color=(0, 128, 0)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class Supervision:
    def __init__(self, cast):
        self.cast = cast
        self.street_b = User.objects.create_user("street_b", password="x")
        Grant.objects.create(user=self.street_b, role="street_officer", area=cast.street)

    def item(self, grid=None, responsible="grid_worker", category="reporting", hours=24, by=None, **fields):
        cast = self.cast
        return services.raise_item(
            user=by or cast.street_officer,
            area=grid or cast.grid_a,
            title=fields.pop("title", "卡口登记表缺项"),
            category=category,
            found_by=fields.pop("found_by", "inspection"),
            deadline=fields.pop("deadline", timezone.now() + datetime.timedelta(hours=hours)),
            responsible=getattr(cast, responsible) if isinstance(responsible, str) else responsible,
            **fields,
        )

    def submitted(self, **fields):
        item = self.item(**fields)
        worker = item.responsible
        services.start(worker, item)
        return services.submit(worker, item, "已补齐登记表", photos=[png()])


def supervision(cast):
    found = getattr(cast, "supervision", None)
    if found is None:
        found = cast.supervision = Supervision(cast)
    return found
