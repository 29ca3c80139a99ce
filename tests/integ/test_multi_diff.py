"""MULTI / EXEC / DISCARD: differential against redis-server, plus the
cross-shard atomicity that only percore needs to prove (its keys live on
different threads)."""
import threading

from respclient import RespConn

HOST = "127.0.0.1"


def test_exec_replies(diff):
    diff.check_many([
        ("MULTI",), ("SET", "a", "1"), ("SET", "b", "2"), ("MSET", "c", "3", "d", "4", "e", "5"),
        ("MGET", "a", "b", "c", "d", "e", "nope"), ("INCR", "a"), ("DBSIZE",), ("PING",),
        ("ECHO", "hi"), ("EXISTS", "a", "b", "zz"), ("DEL", "c", "d"), ("KEYS", "e"), ("EXEC",),
        ("MGET", "a", "b", "c", "d", "e"),
    ])


def test_exec_runtime_errors_do_not_abort(diff):
    diff.check_many([
        ("SET", "s", "abc"), ("MULTI",), ("INCR", "s"), ("SET", "t", "1"), ("INCRBY", "t", "x"),
        ("GET", "t"), ("EXEC",),
    ])


def test_queue_time_errors_abort(diff):
    diff.check_many([
        ("MULTI",), ("SET", "k", "v"), ("NOSUCHCMD", "a"), ("EXEC",), ("GET", "k"),
        ("MULTI",), ("GET",), ("EXEC",),
        ("MULTI",), ("CLIENT", "NOSUCHSUB"), ("EXEC",),
    ])


def test_control_errors(diff):
    diff.check_many([
        ("EXEC",), ("DISCARD",), ("MULTI",), ("MULTI",), ("SET", "x", "1"), ("DISCARD",),
        ("GET", "x"), ("MULTI",), ("EXEC",), ("MULTI", "extra"), ("EXEC", "extra"),
    ])


def test_monitor_refused_inside_exec(diff):
    diff.check_many([("MULTI",), ("MONITOR",), ("PING",), ("EXEC",), ("PING",)])


def test_select_inside_multi(diff):
    diff.check_many([
        ("MULTI",), ("SELECT", "3"), ("SET", "k", "in3"), ("SELECT", "0"), ("SET", "k", "in0"),
        ("EXEC",), ("GET", "k"), ("SELECT", "3"), ("GET", "k"), ("FLUSHDB",), ("SELECT", "0"),
    ])


def test_exec_resp3(diff):
    diff.hello3()
    diff.check_many([("MULTI",), ("SET", "a", "1"), ("GET", "a"), ("GET", "missing"),
                     ("EXEC",)])


def test_reset_discards(diff):
    for c in (diff.pconn, diff.rconn):
        assert c.call("MULTI") == b"+OK\r\n"
        assert c.call("SET", "r", "1") == b"+QUEUED\r\n"
        assert c.call("RESET") == b"+RESET\r\n"
    diff.check_many([("EXEC",), ("GET", "r")])


def test_redis_py_transaction(diff):
    p = diff.percore.pipeline(transaction=True)
    for i in range(100):
        p.set("tk%d" % i, i)
    p.mget(["tk%d" % i for i in range(100)])
    res = p.execute()
    assert res[:100] == [True] * 100
    assert res[100] == [str(i).encode() for i in range(100)]


def test_exec_is_atomic_across_shards(diff):
    """A writer moves units between two counters inside MULTI (keys on
    different shards: several tried); a reader's MGET must always see a
    constant total."""
    keys = ["acct:%d" % i for i in range(8)]
    c = RespConn(HOST, diff.percore_port)
    c.call("MSET", *[x for k in keys for x in (k, "0")])
    stop = threading.Event()
    bad = []

    def reader():
        r = RespConn(HOST, diff.percore_port)
        while not stop.is_set():
            vals = r.call_parsed("MGET", *keys)
            if sum(int(v) for v in vals) != 0:
                bad.append(vals)
        r.close()

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(400):
            a, b = keys[i % 8], keys[(i * 3 + 1) % 8]
            if a == b:
                continue
            c.send("MULTI")
            c.send("DECR", a)
            c.send("INCR", b)
            c.send("EXEC")
            replies = [c.read_reply() for _ in range(4)]
            assert replies[0] == b"+OK\r\n" and replies[3].startswith(b"*2\r\n")
    finally:
        stop.set()
        t.join()
    assert bad == []
    c.close()


def test_container_without_subcommand_aborts_exec(diff):
    # A container command missing its subcommand is refused while queueing
    # and dooms the transaction, as any other refused command does.
    for cmd in (("OBJECT",), ("CONFIG",), ("CLIENT",)):
        diff.check_many([("MULTI",), cmd, ("SET", "a", "1"), ("EXEC",), ("GET", "a")])


def test_exec_sees_one_time(diff):
    # Every queued command runs at the time EXEC started, as in Redis: keys
    # that expire while EXEC runs (here during a DEBUG SLEEP) are still there
    # for the commands after it, on either shard; TTL reads the live clock,
    # so it says 0 for them. Afterwards they are gone.
    keys = ["ot:%d" % i for i in range(6)]
    cmds = [("MULTI",)]
    cmds += [("SET", k, "v", "PX", "20") for k in keys]
    cmds += [("DEBUG", "SLEEP", "0.05")]
    cmds += [("EXISTS", *keys), ("MGET", *keys)]
    cmds += [c for k in keys for c in (("GET", k), ("TTL", k), ("PTTL", k))]
    cmds += [("EXEC",), ("EXISTS", *keys)]
    diff.check_many(cmds)
