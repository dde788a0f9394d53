"""The one composition root: builds the application from settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.application import CpisApplication, utc_now
from streams.settings import Settings


def build_application(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> CpisApplication:
    if settings.event_store == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return CpisApplication(env=settings.event_store_env(), clock=clock)
