"""A stand-in for the host agent's channel, for the host-agent source tests."""


class FakeChannel:
    """Stands in for HostChannel: answers every call with one reply, or raises it."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def call(self, op, **args):
        self.calls.append((op, args))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer
