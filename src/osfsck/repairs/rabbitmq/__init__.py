"""Repairs through a RabbitMQ broker's management API."""
