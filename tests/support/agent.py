"""A stand-in for the host agent's channel, for the host-agent source tests."""


class FakeChannel:
    """Stands in for HostChannel: answers every op with one reply, or raises it; `ops`
    gives some ops answers of their own (an exception there fails that op alone, as a
    HostCommandError in a real batch does)."""

    def __init__(self, answer, ops=None):
        self.answer = answer
        self.ops = ops or {}
        self.calls = []  # (op, args) of every op asked
        self.batches = []  # the ops of each agent call

    def call(self, op, **args):
        self.calls.append((op, args))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def batch(self, ops):
        self.batches.append(sorted(ops))
        self.calls.extend(ops.items())
        if isinstance(self.answer, Exception):
            raise self.answer  # the channel failed: no op answered
        return {op: self.ops.get(op, self.answer) for op in ops}
