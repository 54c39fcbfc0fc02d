"""SharedPatch (frameworks.base): the recording of custom rules is per thread, and overlapping recordings in
parallel threads restore the patched method exactly once, whatever order they end in."""

import threading

from pytest_gradcheck.frameworks.base import SharedPatch


class Owner:
    def method(self, value):
        return value * 2


ORIGINAL = Owner.__dict__["method"]


def wrap(original, current):
    def method(self, value):
        handler = current()
        if handler is not None:
            handler(value)
        return original(self, value)

    return method


PATCH = SharedPatch(Owner, "method", wrap)


def test_only_the_recording_thread_sees_its_calls_and_the_method_is_restored():
    seen = {"a": [], "b": []}
    both_in, a_done = threading.Barrier(2), threading.Event()

    def thread_a():
        with PATCH.active(seen["a"].append):
            both_in.wait()
            assert Owner().method(1) == 2
        a_done.set()  # a leaves first: b's patch must survive it

    def thread_b():
        with PATCH.active(seen["b"].append):
            both_in.wait()
            a_done.wait()
            assert Owner().method(10) == 20
            assert Owner.__dict__["method"] is not ORIGINAL

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    Owner().method(100)  # this thread records nothing, patched or not
    for t in threads:
        t.join()
    assert seen == {"a": [1], "b": [10]}
    assert Owner.__dict__["method"] is ORIGINAL


def test_nested_recordings_in_one_thread_restore_the_outer_handler():
    outer, inner = [], []
    with PATCH.active(outer.append):
        Owner().method(1)
        with PATCH.active(inner.append):
            Owner().method(2)
        Owner().method(3)
    assert outer == [1, 3] and inner == [2]
    assert Owner.__dict__["method"] is ORIGINAL


def test_an_exception_inside_restores_the_method():
    try:
        with PATCH.active(lambda value: None):
            raise RuntimeError("user code raised")
    except RuntimeError:
        pass
    assert Owner.__dict__["method"] is ORIGINAL and PATCH.current() is None
