"""Blocking commands (BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX
BZMPOP, CLIENT UNBLOCK): byte-identical replies against redis-server where
the outcome is deterministic, and scenarios with several connections (a
client blocks, another one pushes) run on both servers and compared. Keys
with different names land on percore's two shards, so most scenarios wait
on keys of both."""
import threading
import time

from respclient import RespConn, encode, info_field, wait_info

HOST = "127.0.0.1"


def conn(port):
    return RespConn(HOST, port, timeout=10)


def blocked_clients(port):
    return int(info_field(HOST, port, "blocked_clients"))


def wait_blocked(port, n, timeout=5.0):
    wait_info(HOST, port, "blocked_clients", n, timeout)


def on_both(diff, scenario):
    """Run scenario(port) against percore then redis; their results must be equal."""
    p = scenario(diff.percore_port)
    r = scenario(diff.redis_port)
    assert p == r, "scenario differs\n percore: %r\n redis:   %r" % (p, r)
    return p


# ---------------------------------------------------------------------------
# Immediate answers (differential).

def test_immediate_serve(diff):
    diff.check_many([
        ("RPUSH", "a", "1", "2", "3"), ("RPUSH", "b", "x"),
        ("BLPOP", "nope", "a", "b", "0"), ("BRPOP", "nope", "b", "a", "0"),
        ("BLPOP", "a", "1"), ("BLPOP", "b", "c", "d", "a", "0"), ("EXISTS", "a", "b"),
        ("RPUSH", "l", "a", "b", "c", "d", "e"),
        ("BRPOPLPUSH", "l", "m", "0"), ("BLMOVE", "l", "m", "LEFT", "RIGHT", "0"),
        ("BLMOVE", "l", "l", "right", "left", "0"), ("LRANGE", "l", "0", "-1"),
        ("LRANGE", "m", "0", "-1"),
        ("BLMPOP", "0", "2", "nope", "l", "LEFT"), ("BLMPOP", "0", "2", "nope", "l", "RIGHT", "COUNT", "10"),
        ("EXISTS", "l"),
        ("ZADD", "z1", "1", "a", "2", "b", "3", "c"), ("ZADD", "z2", "1.5", "q"),
        ("BZPOPMIN", "nope", "z1", "z2", "0"), ("BZPOPMAX", "z2", "z1", "0"),
        ("BZPOPMAX", "nope", "z1", "0.5"),
        ("ZADD", "z3", "1", "a", "2", "b", "3", "c", "4", "d"),
        ("BZMPOP", "0", "3", "nope", "z3", "z1", "MIN", "COUNT", "2"),
        ("BZMPOP", "1", "1", "z3", "MAX"), ("BZMPOP", "0", "1", "z3", "max", "count", "100"),
        ("EXISTS", "z3"),
        ("RPUSH", "bin", b"\x00\xff\x01", b"v\x00"), ("BLPOP", "bin", "0"), ("BRPOP", "bin", "0"),
    ])


def test_timeouts(diff):
    diff.check_many([
        ("BLPOP", "n1", "n2", "n3", "0.01"), ("BRPOP", "n1", "0.01"),
        ("BRPOPLPUSH", "n1", "n2", "0.01"), ("BLMOVE", "n1", "n2", "LEFT", "LEFT", "0.01"),
        ("BLMPOP", "0.01", "2", "n1", "n2", "LEFT"), ("BZPOPMIN", "n1", "n2", "0.01"),
        ("BZPOPMAX", "n1", "0.01"), ("BZMPOP", "0.01", "1", "n1", "MIN", "COUNT", "3"),
        ("BLPOP", "n1", "0.001"), ("BLPOP", "n1", "1e-3"), ("EXISTS", "n1", "n2"),
    ])


def test_timeout_takes_about_that_long(diff):
    t0 = time.time()
    assert diff.percore.execute_command("BLPOP", "t", "0.3") is None
    took = time.time() - t0
    assert 0.25 <= took < 2.0, took


def test_errors(diff):
    diff.check_many([
        ("BLPOP",), ("BLPOP", "a"), ("BRPOP", "a"), ("BRPOPLPUSH", "a", "b"),
        ("BRPOPLPUSH", "a", "b", "0", "x"), ("BLMOVE", "a", "b", "LEFT", "RIGHT"),
        ("BLMPOP", "0", "1", "a"), ("BZPOPMIN", "a"), ("BZMPOP", "0", "1", "a"),
        ("BLPOP", "a", "-1"), ("BLPOP", "a", "-0.01"), ("BLPOP", "a", "abc"), ("BLPOP", "a", ""),
        ("BLPOP", "a", "nan"), ("BLPOP", "a", "1x"), ("BRPOP", "a", "b", "-5"),
        ("BZPOPMAX", "a", "xx"), ("BRPOPLPUSH", "a", "b", "-1"), ("BRPOPLPUSH", "a", "b", "z"),
        ("BLMOVE", "a", "b", "UP", "LEFT", "0"), ("BLMOVE", "a", "b", "LEFT", "DOWN", "0"),
        ("BLMOVE", "a", "b", "UP", "LEFT", "-1"), ("BLMOVE", "a", "b", "LEFT", "LEFT", "-1"),
        ("BLMPOP", "0", "0", "a", "LEFT"), ("BLMPOP", "0", "-1", "a", "LEFT"),
        ("BLMPOP", "0", "x", "a", "LEFT"), ("BLMPOP", "0", "3", "a", "LEFT"),
        ("BLMPOP", "0", "1", "a", "UP"), ("BLMPOP", "0", "1", "a", "LEFT", "COUNT"),
        ("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0"), ("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "-1"),
        ("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"),
        ("BLMPOP", "0", "1", "a", "LEFT", "extra"), ("BLMPOP", "-1", "1", "a", "LEFT"),
        ("BLMPOP", "x", "1", "a", "LEFT"), ("BLMPOP", "x", "1", "a", "UP"),
        ("BZMPOP", "0", "0", "a", "MIN"), ("BZMPOP", "0", "1", "a", "LEFT"),
        ("BZMPOP", "0", "1", "a", "MIN", "COUNT", "0"), ("BZMPOP", "-2", "1", "a", "MAX"),
        ("BZMPOP", "0", "2", "a", "b"), ("BZMPOP", "0", "9223372036854775807", "a", "MIN"),
        ("BLMPOP", "0", "99999999999999999999", "a", "LEFT"),
    ])


def test_wrongtype(diff):
    diff.check_many([
        ("SET", "s", "str"), ("RPUSH", "l", "1", "2"), ("ZADD", "z", "1", "m"),
        ("BLPOP", "s", "0"), ("BLPOP", "nope", "s", "l", "0"), ("BLPOP", "l", "s", "0"),
        ("BRPOP", "z", "0.01"), ("BZPOPMIN", "l", "0"), ("BZPOPMAX", "nope", "s", "z", "0"),
        ("BZPOPMIN", "z", "l", "0"),
        ("BRPOPLPUSH", "s", "l", "0"), ("BRPOPLPUSH", "l", "s", "0"), ("BRPOPLPUSH", "nope", "s", "0.01"),
        ("BLMOVE", "l", "z", "LEFT", "LEFT", "0"), ("LRANGE", "l", "0", "-1"),
        ("BLMPOP", "0", "3", "nope", "s", "l", "LEFT"), ("BZMPOP", "0", "2", "l", "z", "MIN"),
        ("BZMPOP", "0", "2", "z", "l", "MIN"),
    ])


def test_multi_never_blocks(diff):
    diff.check_many([
        ("RPUSH", "full", "v"), ("ZADD", "zf", "1", "m"),
        ("MULTI",),
        ("BLPOP", "e1", "0"), ("BLPOP", "e1", "e2", "e3", "e4", "0"), ("BRPOP", "e1", "full", "0"),
        ("BRPOPLPUSH", "e1", "e2", "0"), ("BLMOVE", "e1", "e2", "LEFT", "LEFT", "0"),
        ("BLMPOP", "0", "3", "e1", "e2", "e3", "LEFT"), ("BZPOPMIN", "e1", "e2", "0"),
        ("BZPOPMAX", "e1", "zf", "e3", "0"), ("BZMPOP", "0", "2", "e1", "e2", "MAX"),
        ("RPUSH", "x", "1", "2"), ("BLMOVE", "x", "y", "LEFT", "RIGHT", "0"),
        ("BRPOPLPUSH", "x", "e9", "0"),
        ("BLPOP", "e1", "-1"),
        ("EXEC",),
        ("LRANGE", "y", "0", "-1"), ("LRANGE", "e9", "0", "-1"),
    ])


def test_resp3(diff):
    diff.hello3()
    diff.check_many([
        ("BLPOP", "n", "0.01"), ("BLMOVE", "n", "m", "LEFT", "LEFT", "0.01"),
        ("BZPOPMIN", "n", "0.01"), ("BZMPOP", "0.01", "1", "n", "MIN"),
        ("ZADD", "z", "1.5", "a", "2", "b", "3", "c"), ("BZPOPMIN", "z", "0"),
        ("BZPOPMAX", "z", "0"), ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"),
        ("RPUSH", "l", "a", "b"), ("BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "5"),
        ("MULTI",), ("BLPOP", "n", "0"), ("BRPOPLPUSH", "n", "m", "0"), ("EXEC",),
    ])


# ---------------------------------------------------------------------------
# Waiting and waking (the same scenario on both servers).

def _block_then(port, blocking, pushes, key_check=None, nblocked=1):
    """One client sends `blocking`; once it waits, another runs `pushes`.
    Returns the blocked client's reply, the pushes' replies and key_check's."""
    waiter = conn(port)
    try:
        waiter.send(*blocking)
        wait_blocked(port, nblocked)
        with conn(port) as other:
            out = [other.call(*p) for p in pushes]
            got = waiter.read_reply()
            after = [other.call(*k) for k in (key_check or [])]
        return got, out, after, blocked_clients(port)
    finally:
        waiter.close()


def test_wake_on_push_each_command(diff):
    cases = [
        (("BLPOP", "k1", "k2", "k3", "0"), [("RPUSH", "k3", "a", "b")], [("LRANGE", "k3", "0", "-1")]),
        (("BRPOP", "k1", "k2", "k3", "5"), [("LPUSH", "k2", "a", "b")], [("LRANGE", "k2", "0", "-1")]),
        (("BRPOPLPUSH", "s1", "d1", "0"), [("RPUSH", "s1", "x", "y")],
         [("LRANGE", "s1", "0", "-1"), ("LRANGE", "d1", "0", "-1")]),
        (("BLMOVE", "s2", "d2", "LEFT", "RIGHT", "0"), [("RPUSH", "d2", "old"), ("RPUSH", "s2", "x", "y")],
         [("LRANGE", "s2", "0", "-1"), ("LRANGE", "d2", "0", "-1")]),
        (("BLMOVE", "s3", "s3", "LEFT", "RIGHT", "0"), [("RPUSH", "s3", "x", "y")],
         [("LRANGE", "s3", "0", "-1")]),
        (("BLMPOP", "0", "3", "k4", "k5", "k6", "RIGHT", "COUNT", "2"), [("RPUSH", "k5", "a", "b", "c")],
         [("LRANGE", "k5", "0", "-1")]),
        (("BZPOPMIN", "z1", "z2", "0"), [("ZADD", "z2", "3", "c", "1", "a", "2", "b")],
         [("ZRANGE", "z2", "0", "-1", "WITHSCORES")]),
        (("BZPOPMAX", "z3", "z4", "0"), [("ZADD", "z3", "3", "c", "1", "a")],
         [("ZRANGE", "z3", "0", "-1")]),
        (("BZMPOP", "0", "2", "z5", "z6", "MAX", "COUNT", "2"), [("ZADD", "z6", "3", "c", "1", "a", "2", "b")],
         [("ZRANGE", "z6", "0", "-1")]),
        # Keys that come to life through other commands.
        (("BLPOP", "r1", "0"), [("RPUSH", "tmp", "v"), ("RENAME", "tmp", "r1")], [("EXISTS", "r1")]),
        (("BZPOPMIN", "g1", "0"), [("GEOADD", "g1", "13.361389", "38.115556", "pal")], [("EXISTS", "g1")]),
        (("BLPOP", "m1", "0"), [("MULTI",), ("RPUSH", "m1", "a"), ("RPUSH", "m1", "b"), ("EXEC",)],
         [("LRANGE", "m1", "0", "-1")]),
        (("BLPOP", "c1", "0"), [("RPUSH", "src", "v", "w"), ("COPY", "src", "c1")], [("LRANGE", "c1", "0", "-1")]),
        (("BRPOP", "lm", "0"), [("RPUSH", "o1", "v", "w"), ("LMOVE", "o1", "lm", "LEFT", "LEFT")],
         [("LRANGE", "lm", "0", "-1"), ("LRANGE", "o1", "0", "-1")]),
        # Stores that create the awaited list or sorted set.
        (("BLPOP", "st1", "0"), [("RPUSH", "so", "3", "1", "2"), ("SORT", "so", "STORE", "st1")],
         [("LRANGE", "st1", "0", "-1")]),
        (("BZPOPMIN", "zu", "0"), [("ZADD", "za", "1", "a", "2", "b"), ("ZUNIONSTORE", "zu", "1", "za")],
         [("ZRANGE", "zu", "0", "-1")]),
        (("BZPOPMAX", "zi", "0"), [("ZADD", "za", "1", "a"), ("ZINTERSTORE", "zi", "1", "za")],
         [("EXISTS", "zi")]),
        (("BZPOPMIN", "zd", "0"), [("ZADD", "za", "1", "a"), ("ZDIFFSTORE", "zd", "1", "za")],
         [("EXISTS", "zd")]),
        (("BZPOPMIN", "zr", "0"), [("ZADD", "za", "1", "a", "2", "b"), ("ZRANGESTORE", "zr", "za", "0", "-1")],
         [("ZRANGE", "zr", "0", "-1")]),
        (("BZPOPMIN", "gs", "0"),
         [("GEOADD", "gsrc", "13.361389", "38.115556", "pal"),
          ("GEOSEARCHSTORE", "gs", "gsrc", "FROMLONLAT", "13.36", "38.11", "BYRADIUS", "10", "km")],
         [("EXISTS", "gs")]),
        (("BLPOP", "mv", "0"), [("SELECT", "1"), ("RPUSH", "mv", "a", "b"), ("MOVE", "mv", "0"), ("SELECT", "0")],
         [("LRANGE", "mv", "0", "-1")]),
        (("BLPOP", "sw", "0"), [("SELECT", "1"), ("RPUSH", "sw", "a"), ("SWAPDB", "0", "1"), ("SELECT", "0")],
         [("EXISTS", "sw")]),
    ]
    for blocking, pushes, check in cases:
        on_both(diff, lambda port: _block_then(port, blocking, pushes, check))
        diff.percore.flushall()
        diff.redis.flushall()


def test_wrong_type_and_other_db_keep_waiting(diff):
    def scen(port):
        waiter = conn(port)
        try:
            waiter.send("BLPOP", "w", "0")
            wait_blocked(port, 1)
            with conn(port) as o:
                out = [o.call("SET", "w", "str"), o.call("SELECT", "1"), o.call("RPUSH", "w", "db1"),
                       o.call("SELECT", "0"), o.call("ZADD", "zw", "1", "m")]
                time.sleep(0.15)
                still = blocked_clients(port)
                out += [o.call("DEL", "w"), o.call("RPUSH", "w", "ok")]
                got = waiter.read_reply()
                o.call("SELECT", "1")
                out.append(o.call("LRANGE", "w", "0", "-1"))
            return still, out, got
        finally:
            waiter.close()
    on_both(diff, scen)


def test_blmove_wake_with_wrongtype_destination(diff):
    def scen(port):
        waiter = conn(port)
        try:
            waiter.send("BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
            wait_blocked(port, 1)
            with conn(port) as o:
                out = [o.call("SET", "dst", "x"), o.call("RPUSH", "src", "v")]
                got = waiter.read_reply()
                out.append(o.call("LRANGE", "src", "0", "-1"))
            return out, got, blocked_clients(port)
        finally:
            waiter.close()
    on_both(diff, scen)


def test_fifo_between_waiters(diff):
    def scen(port):
        ws = [conn(port) for _ in range(3)]
        try:
            for i, w in enumerate(ws):
                w.send("BLPOP", "q", "other%d" % i, "0")
                wait_blocked(port, i + 1)
            with conn(port) as o:
                r1 = o.call("RPUSH", "q", "a", "b")
                g0, g1 = ws[0].read_reply(), ws[1].read_reply()
                wait_blocked(port, 1)
                r2 = o.call("RPUSH", "q", "c")
                g2 = ws[2].read_reply()
                rest = o.call("LRANGE", "q", "0", "-1")
            return r1, g0, g1, r2, g2, rest, blocked_clients(port)
        finally:
            for w in ws:
                w.close()
    on_both(diff, scen)


def test_zset_fifo_and_counts(diff):
    def scen(port):
        ws = [conn(port) for _ in range(2)]
        try:
            ws[0].send("BZMPOP", "0", "1", "zz", "MIN", "COUNT", "2")
            wait_blocked(port, 1)
            ws[1].send("BZPOPMIN", "zz", "0")
            wait_blocked(port, 2)
            with conn(port) as o:
                r = o.call("ZADD", "zz", "1", "a", "2", "b", "3", "c", "4", "d")
                g = [ws[0].read_reply(), ws[1].read_reply()]
                rest = o.call("ZRANGE", "zz", "0", "-1")
            return r, g, rest
        finally:
            for w in ws:
                w.close()
    on_both(diff, scen)


def test_pipelined_requests_wait_behind_blocked(diff):
    def scen(port):
        w = conn(port)
        try:
            w.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$2\r\npk\r\n$1\r\n0\r\n*2\r\n$4\r\nECHO\r\n$5\r\nafter\r\n"
                       b"*2\r\n$4\r\nLLEN\r\n$2\r\npk\r\n")
            wait_blocked(port, 1)
            with conn(port) as o:
                o.call("RPUSH", "pk", "v1", "v2")
            return w.read_replies(3)
        finally:
            w.close()
    on_both(diff, scen)


def test_client_unblock(diff):
    def scen(port):
        out = []
        for how in ([], ["TIMEOUT"], ["ERROR"], ["timeout"]):
            w = conn(port)
            try:
                cid = w.call("CLIENT", "ID").decode()[1:].strip()
                w.send("BRPOP", "ub1", "ub2", "0")
                wait_blocked(port, 1)
                with conn(port) as o:
                    out.append(o.call("CLIENT", "UNBLOCK", cid, *how))
                    out.append(w.read_reply())
                    out.append(o.call("CLIENT", "UNBLOCK", cid, *how))
                    out.append(o.call("RPUSH", "ub1", "v"))
                    out.append(o.call("LLEN", "ub1"))
                    o.call("DEL", "ub1")
                out.append(w.call("PING"))
            finally:
                w.close()
        with conn(port) as o:
            out += [o.call("CLIENT", "UNBLOCK", "999999"), o.call("CLIENT", "UNBLOCK", "x"),
                    o.call("CLIENT", "UNBLOCK", "1", "MAYBE"), o.call("CLIENT", "UNBLOCK", "1", "a", "b")]
        return out, blocked_clients(port)
    on_both(diff, scen)


def test_clients_in_timeout_table(diff):
    # INFO counts blocked clients, and of them those waiting with a
    # timeout: two with one, one forever, on both servers alike.
    def scen(port):
        ws = [conn(port) for _ in range(3)]
        try:
            ws[0].send("BLPOP", "tt1", "100")
            ws[1].send("BZPOPMIN", "tt2", "tt3", "50.5")
            ws[2].send("BRPOP", "tt4", "0")
            wait_blocked(port, 3)
            during = (blocked_clients(port), int(info_field(HOST, port, "clients_in_timeout_table")))
            with conn(port) as o:
                o.call("RPUSH", "tt1", "v")
                ws[0].read_reply()
                wait_blocked(port, 2)
                mid = int(info_field(HOST, port, "clients_in_timeout_table"))
                o.call("RPUSH", "tt4", "v")
                ws[2].read_reply()
                wait_blocked(port, 1)
                last = int(info_field(HOST, port, "clients_in_timeout_table"))
        finally:
            for w in ws:
                w.close()
        wait_blocked(port, 0)
        return during, mid, last, int(info_field(HOST, port, "clients_in_timeout_table"))
    assert on_both(diff, scen) == ((3, 2), 1, 1, 0)


def _cmdstat(port, name):
    for line in info_section(port, "commandstats"):
        if line.startswith("cmdstat_%s:" % name):
            f = dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))
            return int(f["calls"]), int(f["failed_calls"]), int(f["rejected_calls"])
    return None


def info_section(port, name):
    with conn(port) as o:
        return o.call("INFO", name).decode().split("\r\n")


def test_client_unblock_commandstats(diff):
    # As in Redis: a wait CLIENT UNBLOCK ends is a failed call whichever
    # way it ends (TIMEOUT or ERROR), a CLIENT UNBLOCK ERROR that ended one
    # is a failed call itself; a real timeout and a served wait are not.
    # Every one but the real timeout and a wait whose client is killed or
    # hangs up takes a latency sample.
    def scen(port):
        out = []
        for case in ("ERROR", "TIMEOUT", "none", "real-timeout", "served", "killed", "hangup"):
            with conn(port) as o:
                o.call("CONFIG", "RESETSTAT")
                w = conn(port)
                try:
                    cid = w.call("CLIENT", "ID").decode()[1:].strip()
                    w.send("BLPOP", "us1", "us2", "0.2" if case == "real-timeout" else "0")
                    wait_blocked(port, 1)
                    if case in ("ERROR", "TIMEOUT"):
                        o.call("CLIENT", "UNBLOCK", cid, case)
                    elif case == "none":
                        o.call("CLIENT", "UNBLOCK", str(int(cid) + 1000), "ERROR")
                        o.call("CLIENT", "UNBLOCK", cid)
                    elif case == "served":
                        o.call("RPUSH", "us2", "v")
                    elif case == "killed":
                        o.call("CLIENT", "KILL", "ID", cid)
                    if case == "hangup":
                        w.close()
                    if case in ("killed", "hangup"):
                        wait_blocked(port, 0)
                    else:
                        out.append(w.read_reply())
                finally:
                    w.close()
                lat = sorted(l.split(":")[0] for l in info_section(port, "latencystats")
                             if l.startswith("latency_percentiles_usec_"))
                out.append((case, _cmdstat(port, "blpop"), _cmdstat(port, "client|unblock"), lat))
        return out
    got = on_both(diff, scen)
    assert got[1][:3] == ("ERROR", (1, 1, 0), (1, 1, 0)), got
    assert "latency_percentiles_usec_blpop" in got[3][3], got


def test_client_kill_blocked(diff):
    def scen(port):
        w = conn(port)
        cid = w.call("CLIENT", "ID").decode()[1:].strip()
        w.send("BLPOP", "kk", "0")
        wait_blocked(port, 1)
        with conn(port) as o:
            r = o.call("CLIENT", "KILL", "ID", cid)
            wait_blocked(port, 0)
            p = o.call("RPUSH", "kk", "v")
            l = o.call("LLEN", "kk")
        w.close()
        return r, p, l
    on_both(diff, scen)


# ---------------------------------------------------------------------------
# percore only: disconnects, exactly-once delivery under contention.

def test_disconnect_while_blocked(diff):
    port = diff.percore_port
    for _ in range(5):
        w = conn(port)
        w.send("BLMPOP", "0", "3", "d1", "d2", "d3", "LEFT")
        wait_blocked(port, 1)
        w.close()
        wait_blocked(port, 0)
    # A push right after a disconnect is kept, not taken by the dead client.
    w = conn(port)
    w.send("BLPOP", "d1", "d2", "0")
    wait_blocked(port, 1)
    w.close()
    with conn(port) as o:
        assert o.call("RPUSH", "d2", "v") == b":1\r\n"
        wait_blocked(port, 0)
        assert o.call("LRANGE", "d2", "0", "-1") == b"*1\r\n$1\r\nv\r\n"
        assert o.call("PING") == b"+PONG\r\n"


def test_hangup_with_pipelined_requests_loses_nothing(diff):
    """A waiter with requests queued behind it hangs up: the runtime does
    not read it meanwhile, but a push must still not go to it."""
    port = diff.percore_port
    w = conn(port)
    w.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$2\r\nhp\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
    wait_blocked(port, 1)
    w.close()
    time.sleep(0.05)
    with conn(port) as o:
        assert o.call("RPUSH", "hp", "v") == b":1\r\n"
        wait_blocked(port, 0)
        assert o.call("LRANGE", "hp", "0", "-1") == b"*1\r\n$1\r\nv\r\n"


def test_hangup_with_a_queued_blocking_request(diff):
    """A waiter pipelines a second BLPOP of the same key behind its first
    and hangs up (FIN). Both servers drop it without running the queued
    request, so the next push stays in the list and the waiter is gone."""
    def scenario(port):
        wait_blocked(port, 0)
        w = conn(port)
        w.send_raw((b"*3\r\n$5\r\nBLPOP\r\n$2\r\nhq\r\n$1\r\n0\r\n") * 2)
        wait_blocked(port, 1)
        w.close()
        wait_blocked(port, 0)
        with conn(port) as o:
            got = (o.call("RPUSH", "hq", "v"), o.call("LRANGE", "hq", "0", "-1"),
                   o.call("DEL", "hq"))
        return got
    assert on_both(diff, scenario)[1] == b"*1\r\n$1\r\nv\r\n"


def test_timeout_then_push_is_not_lost(diff):
    port = diff.percore_port
    with conn(port) as w, conn(port) as o:
        assert w.call("BLPOP", "tl", "0.05") == b"*-1\r\n"
        assert o.call("RPUSH", "tl", "v") == b":1\r\n"
        assert o.call("LLEN", "tl") == b":1\r\n"


def test_exactly_once_many_waiters(diff):
    """Many clients wait on keys of both shards; pushers feed them. Every
    element is delivered once and only once, nothing is left behind."""
    port = diff.percore_port
    nwait, per = 8, 25
    keys = ["ea", "eb", "ec", "ed"]
    got = []
    lock = threading.Lock()
    errors = []

    def waiter(i):
        try:
            with conn(port) as c:
                for _ in range(per):
                    r = c.call_parsed("BLPOP", *(keys[i % 4:] + keys[:i % 4]), "5")
                    with lock:
                        got.append(r)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ths = [threading.Thread(target=waiter, args=(i,)) for i in range(nwait)]
    for t in ths:
        t.start()
    sent = []
    with conn(port) as p:
        for n in range(nwait * per):
            k = keys[n % 4]
            v = "v%d" % n
            p.call("RPUSH", k, v)
            sent.append(v.encode())
    for t in ths:
        t.join(30)
    assert not errors, errors
    assert None not in got
    assert sorted(r[1] for r in got) == sorted(sent)
    with conn(port) as p:
        assert p.call("EXISTS", *keys) == b":0\r\n"
    assert blocked_clients(port) == 0


def test_blmove_chain_across_shards(diff):
    """A chain of BLMOVE waiters: each element pushed at the start travels
    through every list to the end, once."""
    port = diff.percore_port
    names = ["c0", "c1", "c2", "c3", "c4"]
    ws = [conn(port) for _ in range(len(names) - 1)]
    try:
        for i, w in enumerate(ws):
            w.send("BLMOVE", names[i], names[i + 1], "LEFT", "RIGHT", "0")
        wait_blocked(port, len(ws))
        with conn(port) as o:
            o.call("RPUSH", "c0", "x")
            for w in ws:
                assert w.read_reply() == b"$1\r\nx\r\n"
            assert [o.call("LLEN", n) for n in names] == [b":0\r\n"] * 4 + [b":1\r\n"]
    finally:
        for w in ws:
            w.close()


def test_reset_while_blocked_with_pipelined_requests(diff):
    # A client that pipelines a request behind a blocking one and then resets
    # its connection is gone at once on both servers: no blocked client is
    # left behind and nothing spins on the dead socket.
    import socket
    import struct
    for port in (diff.percore_port, diff.redis_port):
        wait_blocked(port, 0)
        s = socket.create_connection((HOST, port))
        s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$6\r\nrstkey\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n")
        wait_blocked(port, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        wait_blocked(port, 0)
        with conn(port) as c:
            assert c.call("RPUSH", "rstkey", "a") == b":1\r\n"
            assert c.call("LLEN", "rstkey") == b":1\r\n"


def test_pipelined_pushes_reach_destination_before_the_wakeup(diff):
    """A client blocked in BLMOVE src dst; another pipelines LPUSH dst x then
    LPUSH src y. The first push must land before the move that the second
    one wakes up, so dst ends [y, x] as in Redis, whichever shards hold src,
    dst and the two connections (several key pairs cover the layouts)."""
    def scenario(port):
        results = []
        for i in range(16):
            src, dst = "wsrc%d" % i, "wdst%d" % i
            waiter = conn(port)
            try:
                waiter.send("BLMOVE", src, dst, "LEFT", "LEFT", "0")
                wait_blocked(port, 1)
                with conn(port) as pusher:
                    pusher.send_raw(b"".join(encode(*c) for c in
                                             [("LPUSH", dst, "x"), ("LPUSH", src, "y")]))
                    pushed = pusher.read_replies(2)
                    moved = waiter.read_reply()
                    results.append((pushed, moved, pusher.call("LRANGE", dst, "0", "-1"),
                                    pusher.call("DEL", src, dst)))
            finally:
                waiter.close()
        return results
    res = on_both(diff, scenario)
    assert res[0][2] == b"*2\r\n$1\r\ny\r\n$1\r\nx\r\n"
