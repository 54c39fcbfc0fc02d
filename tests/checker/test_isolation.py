"""Checks do not disturb each other or global state: threads with different precisions, mpmath.mp, errstate."""

import threading

import mpmath
import numpy as np
from corpus import CORPUS

from pytest_gradcheck import check_grad


def _run(name, digits, seed):
    f, grad, shapes = CORPUS[name]
    rng = np.random.default_rng(seed)
    args = tuple(rng.uniform(-1, 1, size=s) for s in shapes)
    result = check_grad(f, args, grad=grad, digits=digits, mode="full")
    return result.status, result.digits, [np.asarray(r, dtype=float).tolist() for r in result.reference]


def test_parallel_threads_with_different_precisions_match_serial_runs():
    jobs = [("tanh_layer", 30, 1), ("softmax_xent", 60, 2), ("rosenbrock", 45, 3), ("sin_prod", 25, 4)] * 2
    serial = [_run(*job) for job in jobs]
    parallel = [None] * len(jobs)

    def work(i):
        parallel[i] = _run(*jobs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert parallel == serial
    assert [r[1] for r in serial] == [job[1] for job in jobs]


def test_no_global_state_changes():
    before = (mpmath.mp.dps, mpmath.mp.prec, np.geterr())
    _run("sum_exp", 50, 5)
    assert (mpmath.mp.dps, mpmath.mp.prec, np.geterr()) == before
