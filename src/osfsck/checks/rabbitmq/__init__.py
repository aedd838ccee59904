"""MQ: RabbitMQ queues that pile up for dead hosts or that nobody reads."""
