from django.contrib import admin

from apps.core.models import Job, JobChunk


class JobChunkInline(admin.TabularInline):
    """The chunks a scaled-out job was cut into: who ran each, how far it got."""

    model = JobChunk
    fields = ("index", "status", "done", "size", "attempts", "worker", "updated_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    inlines = [JobChunkInline]
    list_display = ("id", "kind", "status", "progress", "progress_message", "created_by", "created_at")
    list_filter = ("kind", "status", "queue")
    search_fields = ("id", "celery_task_id", "progress_message", "error")
    readonly_fields = ("uuid", "celery_task_id", "attempts", "worker", "started_at", "finished_at",
                       "heartbeat_at", "created_at")
