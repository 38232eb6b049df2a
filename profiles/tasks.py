"""Celery tasks: each takes ids, re-reads what it needs, and calls one service."""

from __future__ import annotations

import socket

from celery import Task, shared_task
from django.utils import timezone

from profiles.models import WorkerHeartbeat


@shared_task(name="profiles.tasks.worker_heartbeat", bind=True)
def worker_heartbeat(self: Task) -> str:
    """Record that a worker reached the broker and the database; /api/v1/status/ shows it."""
    hostname = self.request.hostname or socket.gethostname()
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
    return hostname
