"""clients/gcpause.paused: the collector is off inside, back as it was after, even when
the block raises."""

import gc

import pytest

from osfsck.clients.gcpause import paused


def test_paused_inside_and_resumed_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ValueError), paused():
        assert not gc.isenabled()
        raise ValueError("malformed")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off():
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_pauses_that_cross_keep_it_off_until_the_last_ends_and_never_leave_it_off():
    # sources run concurrently: the OVN reader's pause may end while a bulk source's
    # goes on, or begin before it and end after it
    first, second = paused(), paused(freeze=True)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the bulk source is still building
    second.__exit__(None, None, None)
    assert gc.isenabled() and gc.get_freeze_count() > 0  # one pauser asked for the freeze
    gc.unfreeze()


def test_only_a_pause_that_asks_freezes():
    gc.unfreeze()
    with paused():
        built = [object() for _ in range(10)]
    assert gc.get_freeze_count() == 0 and built
