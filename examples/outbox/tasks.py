"""The shop's Celery app: ``celery -A examples.outbox.tasks worker``."""

from __future__ import annotations

import os

from celery import Celery

import statesignals.celery

app = Celery("shop", broker=os.environ.get("SHOP_BROKER", "redis://localhost:6379/0"))
app.conf.task_default_queue = os.environ.get("SHOP_QUEUE", "shop")
app.conf.worker_prefetch_multiplier = 1  # one event at a time per worker process
statesignals.celery.install(app, database=os.environ.get("SHOP_DATABASE", "sqlite:///shop.db"))
