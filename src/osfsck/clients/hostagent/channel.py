"""How osfsck runs the host agent on a hypervisor: over SSH, as a local subprocess, or in-process.

The agent's source is piped to ``<python> - <base64 request>`` on the host, so nothing is
installed there. SSH goes through the system OpenSSH client so that the operator's
~/.ssh/config (jump hosts, user names, keys, ControlMaster) applies unchanged.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import json
import math
import os
import shlex
import signal
import subprocess
from typing import Any

from osfsck.clients.hostagent import agent
from osfsck.clients.hostagent.multiplex import ControlDir

TRANSPORTS = ("local", "ssh", "inprocess")

# How much of a failing channel's stderr ends up in an error message.
_MAX_REASON = 300


class HostError(Exception):
    """Anything that went wrong talking to one host."""

    # The constructor's arguments are kept as ``args`` (and the text built in __str__) so that
    # these exceptions survive pickling, e.g. across a process pool during a fan-out.
    def __init__(self, host: str, message: str):
        super().__init__(host, message)
        self.host = host

    def __str__(self) -> str:
        return ": ".join(str(a) for a in self.args)


class HostUnreachable(HostError):
    """The channel failed: no connection, no python, a timeout, or no valid reply.

    Nothing can be concluded about the host's folders: its scope is incomplete.
    """

    def __init__(self, host: str, reason: str):
        super().__init__(host, reason)
        self.reason = reason


class HostCommandError(HostError):
    """The agent ran and refused or failed the operation (it answered ok=false)."""

    def __init__(self, host: str, op: str, message: str):
        Exception.__init__(self, host, op, message)
        self.host = host
        self.op = op
        self.message = message


# -I: ignore PYTHON* variables and the user's site folder that a login shell may set;
# -S: no site module, so no .pth file runs code first.  The agent needs only the stdlib,
# and the interpreter starts in a third of the time (it runs once per host).
AGENT_FLAGS = ("-I", "-S")


@functools.cache
def _agent_source() -> bytes:
    return importlib.resources.files(__package__).joinpath("agent.py").read_bytes()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class HostChannel:
    """Runs agent operations on one host. ``call(op, **args)`` returns the op's result."""

    def __init__(
        self,
        host: str,
        transport: str,  # one of TRANSPORTS: [hypervisors] transport, checked here
        *,
        ssh_target: str | None = None,
        ssh_user: str | None = None,
        ssh_port: int | None = None,
        ssh_key: str | os.PathLike[str] | None = None,
        ssh_options: tuple[str, ...] = (),
        python: str = "python3",
        timeout: float = 60,
        control: ControlDir | None = None,  # the run's control sockets: share one connection
    ):
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r}")
        target = ssh_target or host
        if transport == "ssh" and target.startswith("-"):
            # Host names come from Nova's database; one starting with "-" would be read by
            # ssh as an option (e.g. -oProxyCommand=...).
            raise ValueError(f"refusing ssh target {target!r}: starts with '-'")
        self.host = host
        self.transport = transport
        self.ssh_target = target
        self.ssh_user = ssh_user
        self.ssh_port = ssh_port
        self.ssh_key = ssh_key
        self.ssh_options = tuple(ssh_options)
        self.python = python
        self.timeout = timeout
        self.control = control

    def __repr__(self) -> str:
        return f"HostChannel({self.host!r}, {self.transport!r})"

    def call(self, op: str, **args: Any) -> Any:
        request = {"op": op, "args": args}
        if self.transport == "inprocess":
            # Round-trip through JSON so results look exactly like those from a real host.
            reply = json.loads(json.dumps(agent.handle(request)))
        else:
            reply = self._run(request)
        if not reply.get("ok"):
            raise HostCommandError(self.host, op, str(reply.get("error") or "unknown error"))
        return reply.get("result")

    def batch(self, ops: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Several read ops in one agent call: {op: its result, or the HostCommandError it
        failed with}.  Raises HostError when the call as a whole fails: then no op answered."""
        replies = self.call("batch", ops=ops)
        out: dict[str, Any] = {}
        for op in ops:
            reply = replies.get(op) if isinstance(replies, dict) else None
            if not isinstance(reply, dict) or "ok" not in reply:
                raise HostUnreachable(self.host, f"agent gave no reply for {op}")
            if reply["ok"]:
                out[op] = reply.get("result")
            else:
                out[op] = HostCommandError(self.host, op, str(reply.get("error") or "unknown error"))
        return out

    # -- subprocess transports ----------------------------------------------------------------

    def _argv(self, b64: str) -> list[str]:
        if self.transport == "local":
            # shlex: "python" may carry a wrapper, e.g. "sudo -n python3", as it can over ssh.
            return [*shlex.split(self.python), *AGENT_FLAGS, "-", b64]
        argv = [
            "ssh",
            "-o",
            "BatchMode=yes",  # never wait for a password or passphrase prompt
            "-o",
            f"ConnectTimeout={max(1, math.ceil(self.timeout))}",
            "-T",  # a "RequestTTY force" in ssh_config would mangle the JSON on stdout
        ]
        if self.ssh_port is not None:
            argv += ["-p", str(self.ssh_port)]
        if self.ssh_key is not None:
            argv += ["-i", os.fspath(self.ssh_key)]
        if self.ssh_user is not None:
            argv += ["-l", self.ssh_user]
        # the operator's options first: ssh takes an option's first value, so theirs win
        argv += [*self.ssh_options, *(self.control.options() if self.control else ()), self.ssh_target]
        # The remote side joins these with spaces and hands them to the login shell; base64
        # is made of shell-safe characters, and "python" is the operator's own command string.
        argv += [self.python, *AGENT_FLAGS, "-", b64]
        return argv

    def _run(self, request: dict) -> dict:
        b64 = base64.b64encode(json.dumps(request).encode()).decode("ascii")
        argv = self._argv(b64)
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # Own process group, so a timeout kills ssh's helpers (ProxyCommand ...) too;
                # otherwise they keep the pipes open and we wait for them forever.
                start_new_session=True,
            )
        except FileNotFoundError:
            raise HostUnreachable(self.host, f"{argv[0]} not found") from None
        except OSError as e:
            raise HostUnreachable(self.host, f"cannot run {argv[0]}: {e.strerror}") from None
        try:
            out, err = proc.communicate(_agent_source(), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            # wait(), not communicate(): a helper that left the group could hold the pipes.
            proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:  # all three are PIPE
                    pipe.close()
            raise HostUnreachable(self.host, f"timed out after {self.timeout:g}s") from None
        return self._parse(proc.returncode, out, err)

    def _parse(self, returncode: int, out: bytes, err: bytes) -> dict:
        stderr = err.decode("utf-8", "replace")
        where = "on host" if self.transport == "ssh" else "locally"
        if self.transport == "ssh" and returncode == 255:
            # ssh's own failure (connection, authentication, host key); its message is last.
            reason = _last_line(stderr)[:_MAX_REASON]
            raise HostUnreachable(self.host, reason or "ssh failed (exit status 255)")
        if returncode in (126, 127):
            # The login shell could not find or run the interpreter.
            raise HostUnreachable(self.host, f"{self.python} not found {where}")
        if returncode != 0:
            detail = _last_line(stderr)[:_MAX_REASON]
            raise HostUnreachable(
                self.host,
                f"agent exited with status {returncode}" + (f": {detail}" if detail else ""),
            )
        # The reply is the last line: login scripts (.bashrc) sometimes print before it.
        text = _last_line(out.decode("utf-8", "replace"))
        try:
            reply = json.loads(text)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or "ok" not in reply:
            raise HostUnreachable(self.host, f"agent gave no valid reply: {text[:80]!r}")
        return reply


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
