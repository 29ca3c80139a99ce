"""WATCH/UNWATCH with MULTI/EXEC, differential against redis-server.

Each scenario is a script of (connection, command) steps run on percore and
on Redis with two connections each: connection 0 watches and runs the
transaction, connection 1 interferes. Every reply must be byte-identical.
Key names are many and distinct, so with two shards the watched keys and
the modified ones land on both shards.
"""
import time

import pytest

HOST = "127.0.0.1"


def run_script(diff, steps):
    p0, r0 = diff.pair()
    p1, r1 = diff.pair()
    conns = {0: (p0, r0), 1: (p1, r1)}
    for i, (who, cmd) in enumerate(steps):
        if who == "sleep":
            time.sleep(cmd)
            continue
        p, r = conns[who]
        a, b = p.call(*cmd), r.call(*cmd)
        assert a == b, "step %d %r on conn %d\n percore: %r\n redis:   %r" % (i, cmd, who, a, b)


TX = [(0, ("MULTI",)), (0, ("PING",)), (0, ("EXEC",))]
KEYS = ["wk%d" % i for i in range(8)]


SCENARIOS = {
    "untouched": [(1, ("SET", "x", "1")), (0, ("WATCH", "x"))] + TX,
    "modified_by_other": [(0, ("WATCH", "x")), (1, ("SET", "x", "2"))] + TX,
    "modified_by_self": [(0, ("WATCH", "x")), (0, ("SET", "x", "2"))] + TX,
    "one_of_many": [(0, ("WATCH",) + tuple(KEYS)), (1, ("INCR", KEYS[5]))] + TX,
    "each_of_many": [step for k in KEYS for step in
                     [(0, ("WATCH",) + tuple(KEYS)), (1, ("APPEND", k, "z"))] + TX],
    "none_of_many": [(0, ("WATCH",) + tuple(KEYS)), (1, ("SET", "other", "1"))] + TX,
    "watch_twice": [(0, ("WATCH", "x")), (0, ("WATCH", "y", "x")), (1, ("SET", "y", "1"))] + TX,
    "unwatch": [(0, ("WATCH", "x")), (0, ("UNWATCH",)), (1, ("SET", "x", "1"))] + TX,
    "unwatch_no_watch": [(0, ("UNWATCH",)), (0, ("UNWATCH",))] + TX,
    "discard_unwatches": [(0, ("WATCH", "x")), (0, ("MULTI",)), (0, ("DISCARD",)),
                          (1, ("SET", "x", "1"))] + TX,
    "exec_unwatches": [(0, ("WATCH", "x"))] + TX + [(1, ("SET", "x", "1"))] + TX,
    "aborted_exec_unwatches": [(0, ("WATCH", "x")), (0, ("MULTI",)), (0, ("NOSUCHCMD",)),
                               (0, ("EXEC",)), (1, ("SET", "x", "1"))] + TX,
    "watch_inside_multi": [(0, ("MULTI",)), (0, ("WATCH", "x")), (0, ("PING",)),
                           (0, ("EXEC",))],
    "unwatch_inside_multi": [(0, ("WATCH", "x")), (0, ("MULTI",)), (0, ("UNWATCH",)),
                             (0, ("EXEC",)), (1, ("SET", "x", "1"))] + TX,
    "empty_exec_with_watch": [(0, ("WATCH", "x")), (1, ("SET", "x", "1")), (0, ("MULTI",)),
                              (0, ("EXEC",)), (0, ("WATCH", "x")), (0, ("MULTI",)),
                              (0, ("EXEC",))],
    "del_absent_does_not_touch": [(0, ("WATCH", "x")), (1, ("DEL", "x"))] + TX,
    "del_present_touches": [(1, ("SET", "x", "1")), (0, ("WATCH", "x")), (1, ("DEL", "x"))] + TX,
    "failed_setnx_does_not_touch": [(1, ("SET", "x", "1")), (0, ("WATCH", "x")),
                                    (1, ("SETNX", "x", "2"))] + TX,
    "expire_touches": [(1, ("SET", "x", "1")), (0, ("WATCH", "x")),
                       (1, ("EXPIRE", "x", "100"))] + TX,
    "flushall_touches": [(1, ("SET", "x", "1")), (0, ("WATCH", "x")), (1, ("FLUSHALL",))] + TX,
    "flushall_absent_key": [(0, ("WATCH", "x")), (1, ("FLUSHALL",))] + TX,
    "flushdb_other_db": [(1, ("SET", "x", "1")), (0, ("WATCH", "x")), (1, ("SELECT", "9")),
                         (1, ("FLUSHDB",))] + TX,
    "flushdb_same_db": [(1, ("SET", "x", "1")), (0, ("WATCH", "x")), (1, ("FLUSHDB",))] + TX,
    "swapdb_touches": [(1, ("SELECT", "1")), (1, ("SET", "x", "1")), (0, ("WATCH", "x")),
                       (1, ("SWAPDB", "0", "1"))] + TX,
    "swapdb_both_absent": [(0, ("WATCH", "x")), (1, ("SWAPDB", "0", "1"))] + TX,
    "other_db_same_name": [(0, ("WATCH", "x")), (1, ("SELECT", "3")), (1, ("SET", "x", "1"))] + TX,
    "mset_cross_shard": [(0, ("WATCH", KEYS[0], KEYS[7])),
                         (1, ("MSET",) + tuple(x for k in KEYS[1:7] for x in (k, "v")))] + TX +
                        [(0, ("WATCH", KEYS[0], KEYS[7])),
                         (1, ("MSET", KEYS[3], "v", KEYS[7], "v"))] + TX,
    "rename_touches_both": [(1, ("SET", KEYS[1], "v")), (0, ("WATCH", KEYS[6])),
                            (1, ("RENAME", KEYS[1], KEYS[6]))] + TX +
                           [(0, ("WATCH", KEYS[6])), (1, ("RENAME", KEYS[6], KEYS[2]))] + TX,
    "list_and_hash_writes": [(0, ("WATCH", "l", "h")), (1, ("RPUSH", "l", "a"))] + TX +
                            [(0, ("WATCH", "l", "h")), (1, ("HSET", "h", "f", "v"))] + TX +
                            [(0, ("WATCH", "l", "h")), (1, ("HGET", "h", "f")),
                             (1, ("LRANGE", "l", "0", "-1"))] + TX,
    "sinterstore_cross_shard": [(1, ("SADD", KEYS[0], "a")), (1, ("SADD", KEYS[1], "a")),
                                (0, ("WATCH", KEYS[4])),
                                (1, ("SINTERSTORE", KEYS[4], KEYS[0], KEYS[1]))] + TX,
    "wrong_arity": [(0, ("WATCH",))],
    "exec_without_multi_keeps_watch": [(0, ("WATCH", "x")), (0, ("EXEC",)),
                                       (1, ("SET", "x", "1"))] + TX,
    "queued_commands_run": [(0, ("WATCH", "x")), (0, ("MULTI",)), (0, ("SET", "x", "1")),
                            (0, ("INCR", "x")), (0, ("GET", "x")), (0, ("EXEC",))],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_watch(diff, name):
    run_script(diff, SCENARIOS[name])


def test_watch_resp3_null(diff):
    p0, r0 = diff.pair()
    p1, r1 = diff.pair()
    for c0, c1 in ((p0, p1), (r0, r1)):
        c0.call("HELLO", "3")
    for cmd0, cmd1 in [(("WATCH", "x"), None), (None, ("SET", "x", "1")),
                       (("MULTI",), None), (("PING",), None), (("EXEC",), None)]:
        if cmd0:
            a, b = p0.call(*cmd0), r0.call(*cmd0)
            assert a == b, (cmd0, a, b)
        if cmd1:
            assert p1.call(*cmd1) == r1.call(*cmd1)


def test_expired_watched_key_fails_exec(diff):
    # A key that was live when watched and expired before EXEC fails it; a
    # key that was already stale when watched does not.
    run_script(diff, [(1, ("SET", "x", "1", "PX", "50")), (0, ("WATCH", "x")), ("sleep", 0.15)] +
               TX)
    run_script(diff, [(1, ("SET", "y", "1", "PX", "20")), ("sleep", 0.1), (0, ("WATCH", "y")),
                      (1, ("DEL", "y"))] + TX)


def test_watch_released_on_disconnect(server):
    # Many clients watch and leave; the server keeps working and a later
    # watcher is unaffected by the stale registrations.
    p = server()
    for i in range(50):
        c = p.conn()
        assert c.call("WATCH", "k%d" % (i % 5), "shared") == b"+OK\r\n"
        c.close()
    c = p.conn()
    assert c.call("WATCH", "shared") == b"+OK\r\n"
    assert c.call("MULTI") == b"+OK\r\n"
    assert c.call("SET", "shared", "1") == b"+QUEUED\r\n"
    assert c.call("EXEC") == b"*1\r\n+OK\r\n"
    c.close()
    assert p.alive()


def test_watch_cas_increment_is_atomic(server):
    # The classic optimistic-locking loop: concurrent clients increment one
    # counter with WATCH/GET/MULTI/SET/EXEC retries; no increment is lost.
    import threading
    p = server()
    n_threads, per = 4, 40

    def worker():
        c = p.conn()
        done = 0
        while done < per:
            c.call("WATCH", "ctr")
            cur = c.call("GET", "ctr")
            v = 0 if cur == b"$-1\r\n" else int(cur.split(b"\r\n")[1])
            c.call("MULTI")
            c.call("SET", "ctr", str(v + 1))
            if c.call("EXEC") != b"*-1\r\n":
                done += 1
        c.close()

    ts = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    c = p.conn()
    assert c.call("GET", "ctr") == b"$3\r\n160\r\n"
    c.close()
