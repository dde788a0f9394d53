"""Embedded default without Kafka: the projection handlers follow the event store's
notification log directly into a view store (in-memory here)."""

from __future__ import annotations

from domain.application.app import CpisApplication
from domain.application.projections import Views, project


class NotificationLogFollower:
    """Applies every stored event after `position` to the views, in event-store order."""

    def __init__(self, app: CpisApplication, views: Views, batch_size: int = 500) -> None:
        self.app = app
        self.views = views
        self.batch_size = batch_size
        self.position = 0

    def catch_up(self) -> int:
        applied = 0
        while True:
            notifications = self.app.recorder.select_notifications(
                start=self.position + 1, limit=self.batch_size)
            if not notifications:
                return applied
            for notification in notifications:
                project(self.app.mapper.to_domain_event(notification), self.views)
                self.position = notification.id
            applied += len(notifications)
