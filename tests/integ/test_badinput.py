"""test_badinput.py -- hostile and careless clients.

Random bytes, random fragments of RESP, truncated frames, absurd declared
lengths, oversized inline requests, and thousands of simultaneous
connections up to and past maxclients. Where Redis's answer is
deterministic it is compared byte for byte; after every abuse an ordinary
client must still get correct replies.
"""

import random
import resource
import socket
import time

import pytest

from respclient import RespConn, encode, recv_to_eof

HOST = "127.0.0.1"


def assert_healthy(port, tag="x"):
    """A fresh client can write and read back a key."""
    with RespConn(HOST, port, timeout=20) as c:
        assert c.call("PING") == b"+PONG\r\n"
        assert c.call("SET", "health:" + tag, "ok") == b"+OK\r\n"
        assert c.call("GET", "health:" + tag) == b"$2\r\nok\r\n"


def send_and_drop(port, data, rst=False, read=False):
    """Open a connection, send data, optionally read what comes, close."""
    s = socket.create_connection((HOST, port), timeout=5)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        if read:
            s.settimeout(0.2)
            try:
                while s.recv(1 << 16):
                    pass
            except OSError:
                pass
        if rst:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    finally:
        s.close()


# ---------------------------------------------------------------- random input


def test_random_bytes_survival(percore_port):
    rnd = random.Random(7)
    for i in range(40):
        n = rnd.choice([1, 2, 5, 17, 100, 1000, 8192, 70000])
        data = bytes(rnd.getrandbits(8) for _ in range(n))
        if i % 4 == 0:
            data = b"*" + data
        elif i % 4 == 1:
            data = b"*3\r\n$" + data
        send_and_drop(percore_port, data, rst=bool(i % 2), read=bool(i % 3 == 0))
    assert_healthy(percore_port)


FRAGMENTS = [b"*", b"$", b"\r\n", b"\n", b"\r", b"1", b"2", b"3", b"0", b"-1", b"10", b"99",
             b" ", b'"', b"'", b"\\", b"PING", b"ECHO", b"SET", b"GET", b"k", b"\x00", b"\xff",
             b"+", b":", b"x"]


def test_random_fragments_match_redis(diff):
    rnd = random.Random(11)
    for _ in range(30):
        data = b"".join(rnd.choice(FRAGMENTS) for _ in range(rnd.randrange(1, 40)))
        diff.raw(data, first_timeout=0.5, idle=0.15)
    assert_healthy(diff.percore_port)


def test_random_inline_garbage_matches_redis(diff):
    rnd = random.Random(13)
    for _ in range(15):
        words = [bytes(rnd.choice(b"abcXYZ019 \t'\"\\") for _ in range(rnd.randrange(1, 12)))
                 for _ in range(rnd.randrange(1, 6))]
        diff.raw(b" ".join(words) + b"\r\n", first_timeout=0.5, idle=0.15)
    assert_healthy(diff.percore_port)


# ---------------------------------------------------------------- truncation


def test_truncated_frames_never_execute(percore_port):
    frame = encode("SET", "trunc", "value") + encode("INCR", "trunc:n")
    first = len(encode("SET", "trunc", "value"))
    for cut in range(1, first):
        send_and_drop(percore_port, frame[:cut], rst=bool(cut % 2))
    with RespConn(HOST, percore_port) as c:
        assert c.call("GET", "trunc") == b"$-1\r\n"
        assert c.call("GET", "trunc:n") == b"$-1\r\n"
    for cut in range(first + 1, len(frame)):
        send_and_drop(percore_port, frame[:cut])
    time.sleep(0.2)
    with RespConn(HOST, percore_port) as c:
        assert c.call("GET", "trunc") == b"$5\r\nvalue\r\n"
        assert c.call("GET", "trunc:n") == b"$-1\r\n"
    assert_healthy(percore_port)


def test_truncated_then_completed(diff):
    frame = encode("SET", "k", "v" * 100) + encode("GET", "k")
    p, r = diff.pair()
    for conn in (p, r):
        conn.send_raw(frame[:37])
    time.sleep(0.2)
    for conn in (p, r):
        conn.send_raw(frame[37:])
    assert p.read_replies(2) == r.read_replies(2)


# ---------------------------------------------------------------- absurd lengths


@pytest.mark.parametrize("req", [
    b"*2147483648\r\n",
    b"*1\r\n$2147483648\r\n",
    b"*1\r\n$-5\r\n",
    b"*-5\r\nPING\r\n",
    b"*9223372036854775807\r\n",
    b"*1\r\n$9223372036854775807\r\n",
    b"*99999999999999999999999\r\n",
    b"*2147483647\r\n",                        # accepted; waits for more
    b"*1\r\n$536870912\r\n",                  # exactly proto-max-bulk-len: waits
], ids=lambda b: repr(b[:24]))
def test_huge_declared_lengths(diff, req):
    diff.raw(req, first_timeout=0.5)
    assert_healthy(diff.percore_port)


def test_huge_declared_lengths_then_drop(percore_port):
    for req in [b"*2147483647\r\n", b"*1048576\r\n" + encode("x") * 10,
                b"*1\r\n$536870912\r\n" + b"a" * (1 << 20),
                b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n" + b"b" * (4 << 20)]:
        for rst in (False, True):
            send_and_drop(percore_port, req, rst=rst)
    assert_healthy(percore_port)
    with RespConn(HOST, percore_port) as c:
        assert c.call("GET", "k") == b"$-1\r\n"


# ---------------------------------------------------------------- inline limits


def test_big_inline_without_newline(diff):
    out, closed = diff.raw(b"y" * (64 * 1024 + 1000))
    assert out == b"-ERR Protocol error: too big inline request\r\n" and closed
    out, closed = diff.raw(b"ECHO " + b"z" * (1 << 20) + b"\r\n")
    assert out == b"-ERR Protocol error: too big inline request\r\n" and closed
    assert_healthy(diff.percore_port)


def test_inline_just_under_limit(diff):
    diff.raw(b"ECHO " + b"w" * 60000 + b"\r\n")


# ---------------------------------------------------------------- many connections


def _open_batch(port, n):
    """Open n connections, PING all of them in one go; returns (socks, replies)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection((HOST, port), timeout=20)
        socks.append(s)
    for s in socks:
        s.sendall(b"PING\r\n")
    replies = []
    for s in socks:
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            buf += chunk
        replies.append(buf)
    return socks, replies


def _qbuf_free(conn):
    line = conn.call("CLIENT", "INFO")
    return int(line.split(b" qbuf-free=")[1].split(b" ")[0])


def test_big_request_buffer_kept_then_trimmed(percore_port):
    """A query buffer that big requests grew stays while they keep coming
    (each does not regrow it) and is given back within a couple of seconds
    once the requests are small again: buffers stay bounded."""
    with RespConn(HOST, percore_port, timeout=10) as c:
        big = b"b" * (1 << 20)
        for i in range(3):
            assert c.call("SET", "qb:%d" % i, big) == b"+OK\r\n"
        assert _qbuf_free(c) >= 1 << 20
        trimmed = False
        for _ in range(40):
            time.sleep(0.1)
            if _qbuf_free(c) <= 32768:
                trimmed = True
                break
        assert trimmed, "query buffer of %d bytes kept" % _qbuf_free(c)
        assert c.call("GET", "qb:2") == b"$%d\r\n" % len(big) + big + b"\r\n"
        assert c.call("DEL", "qb:0", "qb:1", "qb:2") == b":3\r\n"


def test_half_sent_big_request_buffer_trimmed(percore_port):
    """A client that sent half of a big request and went quiet keeps only
    what it sent (and a read's room) buffered, not the doubled buffer it
    grew; the request still completes."""
    with RespConn(HOST, percore_port, timeout=10) as c, \
            RespConn(HOST, percore_port, timeout=10) as o:
        cid = int(c.call("CLIENT", "ID")[1:-2])
        half = 1 << 20
        c.send_raw(b"*3\r\n$3\r\nSET\r\n$2\r\nhb\r\n$%d\r\n" % (2 * half) + b"h" * half)

        def fields():
            for line in o.call("CLIENT", "LIST", "ID", cid).split(b"\n"):
                if line.startswith(b"id=%d " % cid):
                    return {k: v for k, _, v in (t.partition(b"=") for t in line.split(b" "))}
            return {}
        trimmed = False
        for _ in range(60):
            time.sleep(0.1)
            f = fields()
            if f and int(f[b"qbuf"]) >= half and int(f[b"qbuf-free"]) <= 32768:
                trimmed = True
                break
        assert trimmed, fields()
        c.send_raw(b"h" * half + b"\r\n")
        assert c.read_reply() == b"+OK\r\n"
        assert o.call("STRLEN", "hb") == b":%d\r\n" % (2 * half)
        assert o.call("DEL", "hb") == b":1\r\n"


def test_1000_connections(percore_port):
    socks = []
    try:
        for _ in range(4):
            ss, replies = _open_batch(percore_port, 250)
            socks += ss
            assert replies == [b"+PONG\r\n"] * 250
        for i, s in enumerate(socks[::10]):
            s.sendall(encode("SET", "conn:%d" % i, i) + encode("GET", "conn:%d" % i))
        for i, s in enumerate(socks[::10]):
            want = b"+OK\r\n" + b"$%d\r\n%d\r\n" % (len(str(i)), i)
            got = b""
            while len(got) < len(want):
                got += s.recv(256)
            assert got == want
        assert_healthy(percore_port)
    finally:
        for s in socks:
            s.close()
    assert_healthy(percore_port)


def _fd_room(n):
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft >= n


@pytest.mark.parametrize("which", ["percore", "redis"])
def test_10000_connections_and_maxclients(server, ref_server, which):
    """With the default maxclients (10000) all 10000 clients are served; the
    next one is told '-ERR max number of clients reached' and closed (this is
    what Redis does); once a slot frees up new clients are accepted again."""
    if not _fd_room(10000 + 200):
        pytest.skip("RLIMIT_NOFILE too low for 10,000 sockets")
    srv = server() if which == "percore" else ref_server()
    socks = []
    try:
        deadline = time.monotonic() + 120
        while len(socks) < 10000:
            assert time.monotonic() < deadline
            ss, replies = _open_batch(srv.port, min(500, 10000 - len(socks)))
            socks += ss
            bad = [r for r in replies if r != b"+PONG\r\n"]
            assert not bad, "after %d connections: %r" % (len(socks), bad[:3])
        extra = socket.create_connection((HOST, srv.port), timeout=10)
        got = recv_to_eof(extra)
        extra.close()
        assert got == b"-ERR max number of clients reached\r\n"
        socks.pop().close()
        # The freed slot is seen when the server reads the close, which can be
        # after a new connection arrives (on another shard's accept): every
        # attempt turned away counts as one more rejected connection.
        rejected = 1
        for _ in range(50):
            time.sleep(0.1)
            try:
                c = RespConn(HOST, srv.port, timeout=5)
            except OSError:
                continue
            with c:
                try:
                    got = c.call("PING")
                except ConnectionError:  # closed on us: turned away as well
                    got = b"-ERR max number of clients reached\r\n"
                if got == b"-ERR max number of clients reached\r\n":
                    rejected += 1
                    continue
                assert got == b"+PONG\r\n"
                info = c.call("INFO", "stats")
                assert b"rejected_connections:%d\r\n" % rejected in info
                assert c.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
                assert b"rejected_connections:0\r\n" in c.call("INFO", "stats")
                break
        else:
            pytest.fail("no slot freed after closing one of 10000 clients")
    finally:
        for s in socks:
            s.close()
    time.sleep(0.5)
    assert srv.alive()
    assert_healthy(srv.port)
