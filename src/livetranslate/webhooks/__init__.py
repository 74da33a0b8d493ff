"""Webhooks: signed (:mod:`.signing`), stored and retried (:mod:`.outbox`), fed by the bots and by
a session stage for captions (:mod:`.stage`)."""

from livetranslate.webhooks.outbox import EVENTS, Webhooks
from livetranslate.webhooks.stage import WebhookStage

__all__ = ["EVENTS", "WebhookStage", "Webhooks"]
