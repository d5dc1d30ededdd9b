from django.contrib import admin

from apps.core.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "progress", "progress_message", "created_by", "created_at")
    list_filter = ("kind", "status", "queue")
    search_fields = ("id", "celery_task_id", "progress_message", "error")
    readonly_fields = ("uuid", "celery_task_id", "attempts", "worker", "started_at", "finished_at",
                       "heartbeat_at", "created_at")
