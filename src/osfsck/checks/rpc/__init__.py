"""Stale RPC: tasks and builds a lost message left stuck, and RabbitMQ queues nobody reads."""
