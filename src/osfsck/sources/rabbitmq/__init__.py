"""RabbitMQ brokers' queues, read through the management API."""
