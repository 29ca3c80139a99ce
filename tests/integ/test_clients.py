"""test_clients.py -- real Redis clients against percore.

redis-cli (interactive-style commands, --pipe mass insertion, -3 for RESP3),
redis-py with its pure-Python and hiredis parsers (plain calls, pipelines
with and without MULTI/EXEC), and redis-benchmark, whose writes are read
back afterwards. Where output is deterministic it is compared with what the
same client prints against the reference Redis.
"""

import inspect
import subprocess

import pytest
import redis as redis_py
import redis.connection as redis_conn

from conftest import HOST

CLI = "/usr/bin/redis-cli"
BENCH = "/usr/bin/redis-benchmark"


def cli(port, *args, stdin=None, timeout=60):
    """Run redis-cli against port; returns (rc, stdout bytes)."""
    p = subprocess.run([CLI, "-h", HOST, "-p", str(port)] + [str(a) for a in args],
                       input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout


# ---------------------------------------------------------------- redis-cli


def test_cli_ping(percore_port):
    assert cli(percore_port, "PING") == (0, b"PONG\n")


@pytest.mark.parametrize("flags", [(), ("--no-raw",), ("-3",), ("-3", "--no-raw")])
def test_cli_output_matches_redis(diff, flags):
    script = [
        ("SET", "k", "hello world"),
        ("GET", "k"),
        ("GET", "missing"),
        ("INCR", "n"),
        ("MGET", "k", "missing", "n"),
        ("NOSUCH", "x"),
        ("GET",),
        ("APPEND", "k", "!"),
        ("STRLEN", "k"),
        ("DEL", "k", "n"),
        ("EXISTS", "k"),
    ]
    for cmd in script:
        a = cli(diff.percore_port, *(flags + cmd))
        b = cli(diff.redis_port, *(flags + cmd))
        assert a == b, "redis-cli %s %s: %r vs %r" % (flags, cmd, a, b)


def test_cli_set_get(percore_port):
    assert cli(percore_port, "SET", "greeting", "hi there") == (0, b"OK\n")
    assert cli(percore_port, "GET", "greeting") == (0, b"hi there\n")
    assert cli(percore_port, "--no-raw", "GET", "nokey") == (0, b"(nil)\n")


def test_cli_resp3_flag(percore_port):
    rc, out = cli(percore_port, "-3", "--no-raw", "GET", "nokey")
    assert (rc, out) == (0, b"(nil)\n")
    assert cli(percore_port, "-3", "SET", "a", "1") == (0, b"OK\n")
    assert cli(percore_port, "-3", "--no-raw", "INCR", "a") == (0, b"(integer) 2\n")


def test_cli_pipe_mass_insert(percore_port):
    n = 10000
    proto = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nmass:%d\r\n$%d\r\nval-%d\r\n"
                     % (len(b"mass:%d" % i), i, len(b"val-%d" % i), i) for i in range(n))
    rc, out = cli(percore_port, "--pipe", stdin=proto)
    assert rc == 0, out
    assert b"errors: 0, replies: %d" % n in out, out
    r = redis_py.Redis(host=HOST, port=percore_port)
    try:
        assert r.dbsize() == n
        keys = ["mass:%d" % i for i in range(n)]
        for start in range(0, n, 1000):
            vals = r.mget(keys[start:start + 1000])
            assert vals == [b"val-%d" % i for i in range(start, start + 1000)]
    finally:
        r.close()


# ---------------------------------------------------------------- redis-py


def _client(port, parser=None):
    """A redis-py client; parser picks the reply parser class (default:
    redis-py's choice, hiredis when importable)."""
    kw = {"host": HOST, "port": port, "decode_responses": False, "socket_timeout": 30}
    if parser is not None:
        kw["parser_class"] = parser
    return redis_py.Redis(connection_pool=redis_py.ConnectionPool(**kw))


PARSERS = [pytest.param(redis_conn.PythonParser, id="python")]
if getattr(redis_conn, "HIREDIS_AVAILABLE", False):
    PARSERS.append(pytest.param(redis_conn.HiredisParser, id="hiredis"))


@pytest.mark.parametrize("parser", PARSERS)
def test_redis_py_basic(percore_port, parser):
    r = _client(percore_port, parser)
    try:
        assert r.ping() is True
        assert r.set("a", b"1\x002") is True
        assert r.get("a") == b"1\x002"
        assert r.get("nope") is None
        assert r.incr("cnt") == 1
        assert r.incrby("cnt", 41) == 42
        assert r.mset({"x": "1", "y": "2", "z": "3"}) is True
        assert r.mget("x", "y", "nope", "z") == [b"1", b"2", None, b"3"]
        assert r.delete("x", "y", "nope") == 2
        assert r.exists("x", "z") == 1
        with pytest.raises(redis_py.ResponseError, match="value is not an integer"):
            r.incr("a")
    finally:
        r.close()


@pytest.mark.parametrize("parser", PARSERS)
def test_redis_py_pipeline_no_transaction(percore_port, parser):
    r = _client(percore_port, parser)
    try:
        p = r.pipeline(transaction=False)
        for i in range(500):
            p.set("p:%d" % i, i)
            p.incr("p:counter")
            p.get("p:%d" % i)
        res = p.execute()
        for i in range(500):
            assert res[3 * i] is True
            assert res[3 * i + 1] == i + 1
            assert res[3 * i + 2] == str(i).encode()
        assert r.mget(["p:%d" % i for i in range(500)]) == [str(i).encode() for i in range(500)]
    finally:
        r.close()


def test_redis_py_pipeline_transaction(percore_port):
    r = _client(percore_port)
    try:
        p = r.pipeline()                 # MULTI ... EXEC
        p.set("t:a", "1").incr("t:a").get("t:a").mget("t:a", "t:none")
        assert p.execute() == [True, 2, b"2", [b"2", None]]
    finally:
        r.close()


def test_redis_py_hiredis_picked_by_default(percore_port):
    if not getattr(redis_conn, "HIREDIS_AVAILABLE", False):
        pytest.skip("python3-hiredis not importable")
    r = _client(percore_port)
    try:
        assert r.set("h", b"\r\n\x00" * 1000)
        assert r.get("h") == b"\r\n\x00" * 1000
        conn = r.connection_pool.get_connection("GET")
        try:
            assert isinstance(conn._parser, redis_conn.HiredisParser)
        finally:
            r.connection_pool.release(conn)
    finally:
        r.close()


def test_redis_py_resp3(percore_port):
    if "protocol" not in inspect.signature(redis_py.Redis.__init__).parameters:
        pytest.skip("this redis-py (%s) has no protocol=3" % redis_py.__version__)
    r = redis_py.Redis(host=HOST, port=percore_port, protocol=3)
    try:
        assert r.set("r3", "v") is True
        assert r.get("r3") == b"v"
        assert r.get("none") is None
    finally:
        r.close()


def test_redis_py_large_value(percore_port):
    r = _client(percore_port)
    try:
        v = bytes(range(256)) * 8192          # 2 MB
        assert r.set("large", v)
        assert r.get("large") == v
    finally:
        r.close()


# ---------------------------------------------------------------- redis-benchmark


def test_redis_benchmark_set_get(percore_port):
    p = subprocess.run([BENCH, "-h", HOST, "-p", str(percore_port), "-t", "set,get", "-n", "20000",
                        "-c", "20", "-r", "1000", "-d", "16", "-q"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, out
    assert "SET:" in out and "GET:" in out and "requests per second" in out, out
    r = _client(percore_port)
    try:
        keys = ["key:%012d" % i for i in range(1000)]
        vals = r.mget(keys)
        present = [v for v in vals if v is not None]
        # 20,000 uniform draws over 1,000 keys miss a key with p ~ 2e-9 each.
        assert len(present) >= 990, len(present)
        # One 16-byte payload of characters '0'..'z' is written to every key.
        assert len(set(present)) == 1, set(present)
        v = present[0]
        assert len(v) == 16 and all(0x30 <= c <= 0x7a for c in v), v
        assert r.dbsize() == len(present)
    finally:
        r.close()
