"""test_protocol.py -- differential tests of the RESP front end.

Every test sends the same bytes to percore and to the reference Redis and
requires byte-identical replies (and the same decision to close the
connection). Covers inline commands and their quoting rules, multibulk
framing, each protocol error, unknown-command and arity errors, empty
requests, deep pipelines, RESP3, large and binary values, and requests that
arrive in many small TCP segments.
"""

import random
import re
import time

import pytest

from respclient import encode

# ---------------------------------------------------------------- inline


@pytest.mark.parametrize("req", [
    b"PING\r\n",
    b"PING\n",
    b"  PING  \r\n",
    b"\tPING\t\r\n",
    b"ping\r\n",
    b"PING hello\r\n",
    b"ECHO hello\r\n",
    b"SET k v\r\nGET k\r\n",
    b"SET k v\nGET k\n",
    b"SET   k    v2   \r\nGET k\r\n",
    b"\r\n\r\nPING\r\n",
    b"\n\n\nPING\n",
    b"\x00\x01\r\n",
])
def test_inline_commands(diff, req):
    diff.raw(req)


@pytest.mark.parametrize("req", [
    b'ECHO "hello world"\r\n',
    b"ECHO 'hello world'\r\n",
    b'ECHO "\\x41\\x42\\n\\t\\r\\b\\a\\\\"\r\n',
    b'ECHO "\\xZZ"\r\n',
    b"ECHO 'it\\'s'\r\n",
    b"ECHO 'a\\nb'\r\n",
    b'ECHO ""\r\n',
    b"ECHO ''\r\n",
    b'SET k "a b" \r\nGET k\r\n',
    b'ECHO "a" "b"\r\n',
    b'SET k "unterminated\r\n',
    b"SET k 'unterminated\r\n",
    b'SET k "a"b\r\n',
    b"SET k 'a'b\r\n",
    b'ECHO "\\"quoted\\""\r\n',
])
def test_inline_quotes(diff, req):
    diff.raw(req)


def test_inline_then_multibulk_mixed(diff):
    diff.raw(b"SET a 1\r\n" + encode("INCR", "a") + b"GET a\n" + encode("GET", "a"))


# ---------------------------------------------------------------- multibulk


@pytest.mark.parametrize("req", [
    encode("PING"),
    encode("SET", "k", "v") + encode("GET", "k"),
    b"*-1\r\nPING\r\n",
    b"*0\r\nPING\r\n",
    b"*0\r\n*0\r\n" + encode("PING"),
    b"*1\r\n$4\r\nPINGxx",            # Redis skips the two bytes after a bulk unchecked
    b"*1\r\n$4\r\nPING",              # incomplete: no reply, stays open
    b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    encode("ECHO", b"") + encode("ECHO", b"\x00"),
])
def test_multibulk(diff, req):
    diff.raw(req)


# ---------------------------------------------------------------- protocol errors

PROTOCOL_ERRORS = [
    b"*abc\r\n",                               # invalid multibulk length
    b"*1x\r\n",
    b"* 1\r\n",
    b"*\r\n",
    b"*2147483648\r\n",
    b"*1\r\nfoo\r\n",                          # expected '$', got 'f'
    b"*2\r\n$4\r\nECHO\r\n:1\r\n",
    b"*1\r\n$abc\r\n",                         # invalid bulk length
    b"*1\r\n$\r\n",
    b"*1\r\n$ 4\r\nPING\r\n",
    b"*1\r\n$4x\r\nPING\r\n",
    b"*1\r\n$-1\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$2147483648\r\n",
    b"*1\r\n$536870913\r\n",
    b"x" * 70000,                              # too big inline request
    b"*" + b"1" * 70000,                       # too big mbulk count string
    b"*1\r\n$" + b"1" * 70000,                 # too big bulk count string
    b'ECHO "abc\r\n',                          # unbalanced quotes
    encode("PING") + encode("PING") + b"*x\r\nPING\r\n",   # replies before the error
]


@pytest.mark.parametrize("req", PROTOCOL_ERRORS, ids=lambda b: repr(b[:24]))
def test_protocol_error_closes(diff, req):
    out, closed = diff.raw(req)
    assert b"-ERR Protocol error" in out
    assert closed


def test_protocol_error_keeps_other_clients(diff):
    diff.raw(b"*1\r\n$abc\r\n")
    diff.check("SET", "k", "v")
    diff.check("GET", "k")


# ---------------------------------------------------------------- command errors


@pytest.mark.parametrize("cmd", [
    ("FOO",),
    ("foo", "a", "b"),
    ("NOSUCHCMD", "x" * 200, "y"),
    ("NOSUCHCMD", b"a\r\nb", b"\x00"),
    ("", "a"),
    ("get",),
    ("GET", "a", "b"),
    ("SET", "k"),
    ("ECHO",),
    ("MGET",),
    ("INCR",),
    ("PING", "a", "b"),
])
def test_command_errors(diff, cmd):
    diff.check(*cmd)
    diff.check("PING")


def test_unknown_command_inline(diff):
    diff.raw(b"foo a b\r\n")
    diff.raw(b"$5\r\n")
    diff.raw(b"foo " + b"x" * 200 + b"\r\n")


# ---------------------------------------------------------------- pipelining


def _mixed_commands(n, seed):
    rnd = random.Random(seed)
    keys = ["k%d" % i for i in range(40)]
    cmds = []
    for _ in range(n):
        k = rnd.choice(keys)
        op = rnd.randrange(14)
        if op == 0:
            cmds.append(("SET", k, "v%d" % rnd.randrange(1000)))
        elif op == 1:
            cmds.append(("GET", k))
        elif op == 2:
            cmds.append(("INCR", k))
        elif op == 3:
            cmds.append(("DEL", k, rnd.choice(keys)))
        elif op == 4:
            cmds.append(("EXISTS", k, rnd.choice(keys)))
        elif op == 5:
            cmds.append(("MGET",) + tuple(rnd.sample(keys, 5)))
        elif op == 6:
            cmds.append(("MSET", k, "m", rnd.choice(keys), str(rnd.randrange(100))))
        elif op == 7:
            cmds.append(("APPEND", k, "ab"))
        elif op == 8:
            cmds.append(("STRLEN", k))
        elif op == 9:
            cmds.append(("INCRBY", k, rnd.randrange(-50, 50)))
        elif op == 10:
            cmds.append(("PING",))
        elif op == 11:
            cmds.append(("ECHO", "e%d" % rnd.randrange(100)))
        elif op == 12:
            cmds.append(("DECR", k))
        else:
            cmds.append(("NOSUCH", k))
    return cmds


def test_pipeline_1000_mixed(diff):
    diff.check_many(_mixed_commands(1000, seed=1))


def test_pipeline_1000_mixed_single_write_inline_and_multibulk(diff):
    cmds = _mixed_commands(1000, seed=2)
    data = bytearray()
    for i, c in enumerate(cmds):
        if i % 3 == 0 and all(isinstance(a, str) and a and " " not in a for a in c):
            data += (" ".join(c) + "\r\n").encode()
        else:
            data += encode(*c)
    p, r = diff.pair()
    p.send_raw(bytes(data))
    r.send_raw(bytes(data))
    ps = p.read_replies(len(cmds))
    rs = r.read_replies(len(cmds))
    for i, (a, b) in enumerate(zip(ps, rs)):
        assert a == b, "reply %d for %r differs: %r vs %r" % (i, cmds[i], a, b)


def _norm_hello(raw):
    """Replies with HELLO's client id (RESP2 or RESP3 form) replaced by 0."""
    return re.sub(rb"(\$2\r\nid\r\n):\d+\r\n", rb"\1:0\r\n", raw)


def test_pipeline_state_changes_between_forwarded_requests(diff):
    """One pipeline whose keyed requests land on every shard while the
    connection's own state changes between them: the database (SELECT), the
    protocol (HELLO), reply suppression (CLIENT REPLY), a value too big to
    travel with the others, WATCH/MULTI/EXEC after forwarded writes, and
    keyspace-wide commands. Each request must see the state of its own
    place in the pipeline, and the replies must come back in order."""
    keys = ["fw:%d" % i for i in range(48)]
    big = "b" * 5000
    cmds = [("SET", k, "v%d" % i) for i, k in enumerate(keys)]
    cmds += [("SET", "fw:big", big), ("GET", keys[0]), ("SELECT", "1")]
    cmds += [("GET", k) for k in keys[:12]]
    cmds += [("SET", k, "one") for k in keys[12:24]]
    cmds += [("SELECT", "0"), ("MGET",) + tuple(keys[:24]), ("HELLO", "3")]
    cmds += [("HSET", "fw:h", "f", "1"), ("HGETALL", "fw:h"), ("GET", "fw:none"),
             ("ZADD", "fw:z", "1.5", "m"), ("ZSCORE", "fw:z", "m"), ("HELLO", "2")]
    cmds += [("GET", "fw:none"), ("GET", "fw:big"), ("APPEND", "fw:big", "x"),
             ("STRLEN", "fw:big"), ("CLIENT", "REPLY", "OFF")]
    cmds += [("INCR", k) for k in keys[24:36]]
    cmds += [("CLIENT", "REPLY", "ON"), ("CLIENT", "REPLY", "SKIP"), ("GET", keys[24]),
             ("GET", keys[25])]
    cmds += [("WATCH", keys[1]), ("SET", keys[1], "changed"), ("MULTI",), ("GET", keys[2]),
             ("EXEC",), ("WATCH", keys[3]), ("MULTI",), ("INCR", "fw:n"), ("GET", keys[3]),
             ("EXEC",)]
    cmds += [("DBSIZE",), ("SELECT", "1"), ("DBSIZE",), ("FLUSHDB",), ("SELECT", "0"),
             ("DEL",) + tuple(keys[::5]), ("EXISTS",) + tuple(keys)]
    data = b"".join(encode(*c) for c in cmds)
    p, r = diff.pair()
    p.send_raw(data)
    r.send_raw(data)
    got_p, _ = p.read_until_close(5.0, 0.5)
    got_r, _ = r.read_until_close(5.0, 0.5)
    assert _norm_hello(got_p) == _norm_hello(got_r)
    assert b"$3\r\none\r\n" not in got_p  # db 1's values were never read from db 0
    assert got_r.endswith(b":%d\r\n" % (len(keys) - len(keys[::5])))


# ---------------------------------------------------------------- RESP3


def test_resp3_hello(diff):
    p, r = diff.hello3()
    for raw in (p, r):
        assert b"$5\r\nproto\r\n:3\r\n" in raw
    diff.check("SET", "k", "v")
    diff.check("GET", "k")
    diff.check("GET", "missing")
    diff.check("MGET", "k", "missing")
    diff.check("INCR", "n")
    diff.check("PING")
    diff.check("ECHO", "x")
    diff.check("NOSUCH", "a")
    diff.check("GET")
    diff.check("EXISTS", "k", "missing")


def test_resp3_back_to_resp2(diff):
    diff.hello3()
    diff.check("GET", "missing")
    p, r = diff.both("HELLO", "2")
    assert p.startswith(b"*14\r\n") and r.startswith(b"*14\r\n")
    diff.check("GET", "missing")


def test_hello_errors(diff):
    diff.check("HELLO", "4")
    diff.check("HELLO", "abc")
    diff.check("HELLO", "3", "AUTH", "default")


def test_resp3_pipeline(diff):
    diff.hello3()
    diff.check_many(_mixed_commands(300, seed=3))


# ---------------------------------------------------------------- values


@pytest.mark.parametrize("size", [1 << 20, 10 << 20])
def test_large_values(diff, size):
    val = bytes(random.Random(size).getrandbits(8) for _ in range(4096)) * (size // 4096)
    diff.check("SET", "big", val)
    diff.check("STRLEN", "big")
    diff.check("GET", "big")
    diff.check("APPEND", "big", "tail")
    diff.check("GETRANGE", "big", size - 10, -1)


def test_binary_values(diff):
    vals = [b"\x00", b"\r\n", b"a\r\nb\x00c", b"\r\n$3\r\nfoo\r\n", bytes(range(256)), b"*1\r\n$4\r\nPING\r\n"]
    for i, v in enumerate(vals):
        diff.check("SET", b"bin\x00key\r\n%d" % i, v)
        diff.check("GET", b"bin\x00key\r\n%d" % i)
    diff.check("MGET", *[b"bin\x00key\r\n%d" % i for i in range(len(vals))])


def test_value_split_over_many_writes(diff):
    val = bytes(range(256)) * 40
    data = encode("SET", "split", val) + encode("GET", "split")
    p, r = diff.pair()
    for conn in (p, r):
        pos, step = 0, 1
        while pos < len(data):
            conn.send_raw(data[pos:pos + step])
            pos += step
            step = min(step * 2, 997)
            time.sleep(0.005)
    assert p.read_replies(2) == r.read_replies(2)
    diff.check("STRLEN", "split")


def test_header_split_byte_by_byte(diff):
    data = encode("SET", "k", "hello") + b"GET k\r\n"
    p, r = diff.pair()
    for i in range(len(data)):
        p.send_raw(data[i:i + 1])
        r.send_raw(data[i:i + 1])
        time.sleep(0.002)
    assert p.read_replies(2) == r.read_replies(2) == [b"+OK\r\n", b"$5\r\nhello\r\n"]
