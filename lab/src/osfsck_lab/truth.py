"""What a check of a lab must find, from its truth.json and the time the check ran.

The lab writes its timestamps relative to the `now` its build started at, and some near
misses are legitimate only while young (a port seconds old not yet in OVN, a reboot a
minute old): once a check's threshold has passed they are that check's findings.
truth.json lists them under "ripening", each with the time `at` it becomes one; a lab from
before that key was written has none.
"""

from __future__ import annotations

import datetime as dt


def utc(when: str | dt.datetime) -> dt.datetime:
    """An ISO time (a run's taken_at, a ripening's at) as a naive UTC datetime, as the lab
    writes its times."""
    t = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def faults(truth: dict) -> set[tuple[str, str]]:
    return {(f["code"], f["subject"]) for f in truth["faults"]}


def ripened(truth: dict, taken_at: str | dt.datetime) -> set[tuple[str, str]]:
    """The near misses a check whose snapshot was taken at `taken_at` reports."""
    when = utc(taken_at)
    return {(r["code"], r["subject"]) for r in truth.get("ripening", ()) if utc(r["at"]) <= when}


def expected(truth: dict, taken_at: str | dt.datetime) -> set[tuple[str, str]]:
    """Exactly what that check finds: the faults and what has ripened by then."""
    return faults(truth) | ripened(truth, taken_at)
