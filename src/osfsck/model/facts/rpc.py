"""Facts of RPC: RabbitMQ queues and Nova's instance actions (issue 5)."""

from __future__ import annotations
