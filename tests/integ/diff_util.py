"""Helpers shared by the data-type differential tests (test_*_diff.py):
pipelining setup commands to both servers, and the thread plumbing of the
cross-shard atomicity tests (writers and readers hammering percore while a
stop event is clear). Used from pytest's main thread; the helpers start
and join their own threads."""

import contextlib
import threading
import time


def run(diff, *cmds):
    """Pipeline cmds (tuples) to both servers and compare every reply.
    Returns percore's replies."""
    return diff.check_many(list(cmds))


def run_threads(seconds, stop, targets):
    """Start a thread for each (fn, *args) of targets, let them run for
    seconds, then set stop and wait for every thread to end."""
    threads = [threading.Thread(target=t[0], args=tuple(t[1:])) for t in targets]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()


@contextlib.contextmanager
def background(stop, fn):
    """Run fn() in a thread for the duration of the with block (fn loops
    until stop is set); at the end, even on an exception, set stop and
    wait for the thread."""
    t = threading.Thread(target=fn)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()
