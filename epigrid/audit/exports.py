from django.utils import timezone

from epigrid.audit.filtersets import ObjectChangeFilterSet
from epigrid.audit.models import ObjectChange
from epigrid.audit.tables import masked
from epigrid.core.identity import mask_text
from epigrid.jobs.exports import Export, register_export


def _changes(before, after):
    before, after = masked(before), masked(after)
    return "；".join(
        f"{k}: {before.get(k, '')} → {after.get(k, '')}" for k in sorted(set(before) | set(after))
    )


@register_export
class ObjectChangeExport(Export):
    """The audit log, masked like its page."""

    name = "audit"
    title = "审计日志"
    model = ObjectChange
    filterset_class = ObjectChangeFilterSet
    headers = ["时间", "用户", "来源", "操作", "对象类型", "对象编号", "对象", "变更内容", "理由", "请求编号"]

    def rows(self, queryset):
        actions = dict(ObjectChange._meta.get_field("action").choices)
        for change in (
            queryset.select_related("content_type").order_by("-time", "-id").iterator(chunk_size=2000)
        ):
            yield [
                timezone.localtime(change.time).replace(tzinfo=None),
                change.user_name,
                change.source,
                str(actions.get(change.action, change.action)),
                change.content_type.name,
                change.object_id,
                mask_text(change.object_repr),
                _changes(change.prechange_data, change.postchange_data),
                mask_text(change.reason),
                str(change.request_id or ""),
            ]
