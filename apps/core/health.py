"""Reachability of what the platform needs: database, its extensions, the broker, and the workers."""

from dataclasses import asdict, dataclass, field
from typing import Any

from celery import current_app
from django.db import connection

__all__ = ["HealthReport", "health_report"]

REQUIRED_EXTENSIONS = ("postgis", "vector")


@dataclass
class HealthReport:
    database: str = "unknown"
    extensions: dict[str, str | None] = field(default_factory=dict)
    broker: str = "unknown"
    workers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Serving works when the database, its extensions and the broker answer; workers may scale to 0."""
        return (
            self.database == "ok"
            and all(self.extensions.get(name) for name in REQUIRED_EXTENSIONS)
            and self.broker == "ok"
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = "ok" if self.ok else "error"
        data["queues_without_workers"] = [
            queue for queue in ("cpu", "gpu") if not any(queue in q for q in self.workers.values())
        ]
        return data


def _check_database(report: HealthReport) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.execute(
                "SELECT extname, extversion FROM pg_extension WHERE extname = ANY(%s)",
                [list(REQUIRED_EXTENSIONS)],
            )
            installed = dict(cursor.fetchall())
        report.database = "ok"
        report.extensions = {name: installed.get(name) for name in REQUIRED_EXTENSIONS}
    except Exception as exc:
        report.database = f"error: {exc}".strip()


def _check_broker_and_workers(report: HealthReport, timeout: float) -> None:
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        report.broker = "ok"
    except Exception as exc:
        report.broker = f"error: {exc}".strip()
        return
    try:
        queues = current_app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:
        queues = {}
    report.workers = {name: sorted(q["name"] for q in qs) for name, qs in queues.items()}


def health_report(*, timeout: float = 1.0) -> HealthReport:
    report = HealthReport()
    _check_database(report)
    _check_broker_and_workers(report, timeout)
    return report
