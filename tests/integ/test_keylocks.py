"""test_keylocks.py -- what a multi-shard command routed by its keys holds.

MSET, DEL, RENAME and the like hold only their keys on each shard they
touch, so other keys keep being served meanwhile; EXEC, DBSIZE, FLUSHALL and
the other whole-shard commands wait until no key is held. Each test below
hammers a server with 4 shards from several connections (many key pairs, so
most pairs straddle two shards) and checks that nobody ever sees a command
half done, whichever way it reads:

- single-key GETs read in either order after a cross-shard MSET,
- DEL of a pair racing MSET of the same pair (0 or 2, never 1),
- DBSIZE (whole shards) while pairs are created and deleted,
- RENAME back and forth while EXISTS counts both names,
- and a pipeline of unrelated single-key commands interleaved with them.
"""

import random
import time
import threading

from conftest import HOST
from diff_util import run_threads
from respclient import RespConn

PAIRS = [("kl:a%d" % i, "kl:b%d" % i) for i in range(16)]


def _server(server):
    return server("--threads", "4")


def _hammer(stop, fns, seconds=2.0):
    """Run each fn in its own thread for `seconds` (they loop until stop is
    set); the first exception in any of them stops all and fails the test."""
    errors = []
    run_threads(seconds, stop, [(_loop(errors, stop, f),) for f in fns])
    assert errors == []


def _rounds(stop, items):
    """(round number from 1, item): the items in turn until stop is set."""
    i = 0
    while not stop.is_set():
        yield i + 1, items[i % len(items)]
        i += 1


def _loop(errors, stop, fn):
    def run():
        try:
            fn()
        except Exception as e:  # reported by the test
            errors.append(repr(e))
            stop.set()
    return run


def test_mset_seen_whole_by_single_key_reads(server):
    s = _server(server)
    stop = threading.Event()
    bad = []

    def writer(idx):
        with RespConn(HOST, s.port) as c:
            # One writer per pair: its values only grow.
            for i, (a, b) in _rounds(stop, PAIRS[idx::3]):
                assert c.call("MSET", a, str(i), b, str(i)) == b"+OK\r\n"

    def reader():
        with RespConn(HOST, s.port) as c:
            rnd = random.Random(7)
            while not stop.is_set():
                a, b = rnd.choice(PAIRS)
                first, second = (a, b) if rnd.random() < 0.5 else (b, a)
                v1 = c.call_parsed("GET", first)
                v2 = c.call_parsed("GET", second)
                # The pair is only ever written together: once one name shows
                # a write, the other shows it (or a later one) too.
                if v1 is not None and (v2 is None or int(v2) < int(v1)):
                    bad.append((first, v1, second, v2))

    _hammer(stop, [lambda i=i: writer(i) for i in range(3)] + [reader, reader])
    assert bad == []


def test_del_races_mset_of_the_same_pair(server):
    s = _server(server)
    stop = threading.Event()
    counts = []

    def setter():
        with RespConn(HOST, s.port) as c:
            for _, (a, b) in _rounds(stop, PAIRS):
                assert c.call("MSET", a, "1", b, "1") == b"+OK\r\n"

    def deleter():
        with RespConn(HOST, s.port) as c:
            for _, (a, b) in _rounds(stop, PAIRS):
                counts.append(c.call_parsed("DEL", a, b))

    _hammer(stop, [setter, deleter])
    assert counts and set(counts) <= {0, 2}, sorted(set(counts))
    assert 2 in counts  # the race was real: some DELs found the pair


def test_whole_shard_command_waits_for_held_keys(server):
    s = _server(server)
    stop = threading.Event()
    sizes = []

    def churn(idx):
        with RespConn(HOST, s.port) as c:
            for _, (a, b) in _rounds(stop, PAIRS[idx::4]):
                assert c.call("MSET", a, "x", b, "y") == b"+OK\r\n"
                assert c.call_parsed("DEL", a, b) == 2

    def counter():
        with RespConn(HOST, s.port) as c:
            while not stop.is_set():
                sizes.append(c.call_parsed("DBSIZE"))

    _hammer(stop, [lambda i=i: churn(i) for i in range(4)] + [counter])
    # Keys come and go two at a time: an odd size is half an MSET or DEL.
    assert sizes and all(n % 2 == 0 for n in sizes), sorted(set(sizes))
    assert any(n > 0 for n in sizes)


def test_rename_back_and_forth_while_counted(server):
    s = _server(server)
    names = [("kl:src%d" % i, "kl:dst%d" % i) for i in range(8)]
    with RespConn(HOST, s.port) as c:
        for src, _ in names:
            assert c.call("SET", src, "v") == b"+OK\r\n"
    stop = threading.Event()
    bad = []

    def renamer(idx):
        with RespConn(HOST, s.port) as r:
            src, dst = names[idx]
            while not stop.is_set():
                assert r.call("RENAME", src, dst) == b"+OK\r\n"
                assert r.call("RENAME", dst, src) == b"+OK\r\n"

    def counter():
        with RespConn(HOST, s.port) as r:
            rnd = random.Random(3)
            while not stop.is_set():
                src, dst = rnd.choice(names)
                n = r.call_parsed("EXISTS", src, dst)
                if n != 1:
                    bad.append((src, n))

    _hammer(stop, [lambda i=i: renamer(i) for i in range(8)] + [counter, counter])
    assert bad == []


def test_pipelined_single_key_commands_keep_their_order(server):
    """Single-key commands pipelined between cross-shard MSETs of other
    connections: each connection's INCRs on its own counter come back in
    order with every value, whether they ran at once or waited."""
    s = _server(server)
    stop = threading.Event()

    def mset_noise():
        with RespConn(HOST, s.port) as c:
            for i, first in _rounds(stop, range(4)):
                args = []
                for a, b in PAIRS[first::4]:
                    args += [a, str(i), b, str(i)]
                assert c.call("MSET", *args) == b"+OK\r\n"

    def counters(idx):
        with RespConn(HOST, s.port) as c:
            key = "kl:ctr%d" % idx
            done = 0
            while not stop.is_set():
                cmds = []
                for j in range(50):
                    cmds.append(("INCR", key))
                    cmds.append(("GET", PAIRS[j % len(PAIRS)][j % 2]))
                replies = c.pipeline(cmds)
                for j in range(50):
                    assert replies[2 * j] == b":%d\r\n" % (done + j + 1), replies[2 * j]
                done += 50

    _hammer(stop, [mset_noise, mset_noise] + [lambda i=i: counters(i) for i in range(3)])


def test_single_key_write_waits_for_held_key(server):
    """MSETNX (keys on two shards: checked, then written) races SET NX of
    one of its keys, started together round after round: never may both
    succeed. A SET NX that ran between MSETNX's check and its write -- the
    key held by MSETNX, yet not waited for -- would make both succeed."""
    s = _server(server)
    rounds = 1500
    barrier = threading.Barrier(2, timeout=30)
    res, errors = {}, []

    def msetnx():
        with RespConn(HOST, s.port) as c:
            for i in range(rounds):
                barrier.wait()
                res[("m", i)] = c.call("MSETNX", "nx:a%d" % i, "1", "nx:b%d" % i, "1")

    def setnx():
        with RespConn(HOST, s.port) as c:
            for i in range(rounds):
                barrier.wait()
                res[("s", i)] = c.call("SET", "nx:a%d" % i, "2", "NX")

    threads = [threading.Thread(target=_loop(errors, threading.Event(), f)) for f in (msetnx, setnx)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    both = [i for i in range(rounds)
            if res[("m", i)] == b":1\r\n" and res[("s", i)] == b"+OK\r\n"]
    assert both == []
    # Each round has exactly one winner on key a, and both kinds of win
    # happen (the race is real).
    wins = [res[("m", i)] == b":1\r\n" for i in range(rounds)]
    assert all(res[("s", i)] in (b"+OK\r\n", b"$-1\r\n") for i in range(rounds))
    assert any(wins) and not all(wins)


def test_ttl_running_out_between_steps(server):
    """A key that expires while a cross-shard command works on it: the
    command checks its keys in one step and pops or moves in the next, and
    both steps see the same time, so the key is either gone for both or
    there for both. (Each step used to read the clock afresh: the key found
    in the check vanished before the pop, and the server crashed.)"""
    s = _server(server)
    with RespConn(HOST, s.port) as c:
        cases = [
            (("RPUSH", "{k}", "x"), ("LMPOP", "2", "{k}", "{o}", "LEFT")),
            (("RPUSH", "{k}", "x"), ("LMOVE", "{k}", "{o}", "LEFT", "RIGHT")),
            (("SADD", "{k}", "x"), ("SMOVE", "{k}", "{o}", "x")),
            (("ZADD", "{k}", "1", "x"), ("ZMPOP", "2", "{k}", "{o}", "MIN")),
        ]
        for fill, cmd in cases:
            for i in range(300):
                k, o = "ttl:k%d" % (i % 32), "ttl:o%d" % (i % 32)
                sub = lambda args: [a.replace("{k}", k).replace("{o}", o) for a in args]
                c.call("DEL", k, o)
                assert not c.call(*sub(fill)).startswith(b"-")
                assert c.call("PEXPIRE", k, "1") == b":1\r\n"
                time.sleep(0.0009)  # land the command on the deadline
                r = c.call(*sub(cmd))
                assert not r.startswith(b"-"), (cmd, r)
                if cmd[0] in ("LMOVE", "SMOVE"):
                    # Moved exactly when the reply says so: the element
                    # is at the destination, or nowhere.
                    moved = c.call("EXISTS", o) == b":1\r\n"
                    assert moved == (r not in (b"$-1\r\n", b":0\r\n")), (cmd, r)
        assert c.call("PING") == b"+PONG\r\n"
