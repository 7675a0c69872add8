"""A section run beside the others answers as the call would, errors included, and ends before analyze does."""

from __future__ import annotations

import threading

import pytest

from backoffice.mapping.beside import Beside, Done


def test_the_answer_is_the_call_s_and_comes_from_another_thread():
    job = Beside(lambda a, b: (a + b, threading.current_thread()), 2, 3)
    total, thread = job.result()
    assert total == 5 and thread is not threading.current_thread()
    assert job.result()[0] == 5  # asked again, the same answer


def test_an_error_in_the_computation_is_raised_by_result():
    def fails():
        raise ValueError("no waits")

    job = Beside(fails)
    with pytest.raises(ValueError, match="no waits"):
        job.result()


def test_wait_returns_once_the_thread_has_ended():
    release = threading.Event()
    job = Beside(release.wait, 5)
    release.set()
    job.wait()
    assert not job._thread.is_alive()


def test_done_holds_an_answer_computed_already():
    done = Done([1, 2])
    done.wait()
    assert done.result() == [1, 2]
