"""test_io_engine.py -- the `io-engine` setting and both I/O engines.

`--io-engine auto` (the default) takes io_uring where the kernel has it and
epoll otherwise; `epoll` and `io_uring` force one, and an io_uring that is
asked for but unavailable stops the server at startup with a clear error.
INFO's multiplexing_api names the engine in use; CONFIG GET io-engine
returns the configured value. Then traffic that exercises what differs
between the engines (provided receive buffers, batched sends): deep
pipelines, values larger than a receive buffer, a client that does not read
its replies for a while, 1000 connections at once, blocked clients that
pipeline a lot, half-close or reset, and clients that half-close after a
pipeline (every reply still comes) -- run on each engine.
$PERCORE_DISABLE_IO_URING=1 makes percore's probe say "unavailable", so the
fallback is tested on kernels that do have io_uring.
"""

import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import HOST, percore_bin
from respclient import RespConn, encode, info_field, recv_to_eof, wait_info


def info_engine(port):
    return info_field(HOST, port, "multiplexing_api", "server")


def config_engine(port):
    with RespConn(HOST, port) as c:
        return c.call("CONFIG", "GET", "io-engine")


_uring = {}


def uring_available(server):
    """Whether this kernel gives percore io_uring (asks a percore on auto)."""
    if "ok" not in _uring:
        s = server("--io-engine", "auto")
        _uring["ok"] = info_engine(s.port) == "io_uring"
    return _uring["ok"]


def run_percore(*args, env=None, timeout=20):
    """Run percore with args that should make it exit at startup."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([str(percore_bin()), "--port", "0", "--bind", HOST, "--save", ""]
                          + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, env=e)


def test_epoll_engine(server):
    s = server("--io-engine", "epoll")
    assert info_engine(s.port) == "epoll"
    assert config_engine(s.port) == b"*2\r\n$9\r\nio-engine\r\n$5\r\nepoll\r\n"


def test_auto_engine(server):
    s = server("--io-engine", "auto")
    assert info_engine(s.port) in ("io_uring", "epoll")
    assert config_engine(s.port) == b"*2\r\n$9\r\nio-engine\r\n$4\r\nauto\r\n"


def test_io_uring_engine(server):
    if not uring_available(server):
        pytest.skip("io_uring not available on this kernel")
    s = server("--io-engine", "io_uring")
    assert info_engine(s.port) == "io_uring"
    assert config_engine(s.port) == b"*2\r\n$9\r\nio-engine\r\n$8\r\nio_uring\r\n"


def test_engine_is_immutable(server):
    s = server("--io-engine", "epoll")
    with RespConn(HOST, s.port) as c:
        r = c.call("CONFIG", "SET", "io-engine", "io_uring")
        assert r.startswith(b"-ERR") and b"immutable" in r
        assert c.call("CONFIG", "SET", "io-engine", "epoll").startswith(b"-ERR")


def test_bad_engine_refused():
    p = run_percore("--io-engine", "kqueue")
    assert p.returncode != 0
    assert b"io-engine" in p.stdout


def test_auto_falls_back_to_epoll(server, monkeypatch):
    monkeypatch.setenv("PERCORE_DISABLE_IO_URING", "1")
    s = server("--io-engine", "auto")
    assert info_engine(s.port) == "epoll"
    assert "io_uring is not available" in s.log()


def test_io_uring_unavailable_refused():
    p = run_percore("--io-engine", "io_uring", env={"PERCORE_DISABLE_IO_URING": "1"})
    assert p.returncode != 0
    assert b"io-engine io_uring is not available" in p.stdout


def version_engine(env=None):
    e = dict(os.environ)
    e.update(env or {})
    out = subprocess.run([str(percore_bin()), "--version"], stdout=subprocess.PIPE, env=e,
                         timeout=20, check=True).stdout.decode()
    fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
    assert fields["redis_version"] == "7.0.15"
    return fields["engine"]


def test_version_names_the_auto_engine(server):
    """--version names what io-engine auto picks here, and the startup log
    names the engine in use (with the io_uring ring's setup flags)."""
    want = "io_uring" if uring_available(server) else "epoll"
    assert version_engine() == want
    assert version_engine({"PERCORE_DISABLE_IO_URING": "1"}) == "epoll"
    s = server("--io-engine", "epoll")
    assert "I/O engine epoll" in s.log()
    if want == "io_uring":
        s = server("--io-engine", "io_uring")
        assert "I/O engine io_uring (" in s.log()


# ------------------------------------------------------- traffic per engine


@pytest.fixture(params=["io_uring", "epoll"])
def engine_server(request, server):
    if request.param == "io_uring" and not uring_available(server):
        pytest.skip("io_uring not available on this kernel")
    s = server("--io-engine", request.param)
    assert info_engine(s.port) == request.param
    return s


def test_deep_pipeline(engine_server):
    n = 20000
    cmds = []
    for i in range(n):
        cmds.append(("SET", "k%d" % (i % 500), "v%d" % i))
        cmds.append(("GET", "k%d" % (i % 500)))
    with RespConn(HOST, engine_server.port, timeout=60) as c:
        replies = c.pipeline(cmds)
    for i in range(n):
        assert replies[2 * i] == b"+OK\r\n"
        v = b"v%d" % i
        assert replies[2 * i + 1] == b"$%d\r\n%s\r\n" % (len(v), v)


def test_large_values(engine_server):
    # Requests and replies larger than one receive buffer (16 KB), split at
    # every kind of boundary, pipelined and one at a time.
    sizes = [16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 64 * 1024, 65 * 1024 + 7, 1 << 20,
             5 * (1 << 20) + 3]
    with RespConn(HOST, engine_server.port, timeout=60) as c:
        for i, n in enumerate(sizes):
            val = bytes((i * 7 + j) % 251 for j in range(min(n, 4096))) * (n // 4096 + 1)
            val = val[:n]
            assert c.call("SET", "big%d" % i, val) == b"+OK\r\n"
            assert c.call("GET", "big%d" % i) == b"$%d\r\n%s\r\n" % (n, val)
        cmds = [("SET", "p%d" % i, b"x" * (70000 + i)) for i in range(50)]
        cmds += [("GET", "p%d" % i) for i in range(50)]
        replies = c.pipeline(cmds)
        assert replies[:50] == [b"+OK\r\n"] * 50
        for i in range(50):
            n = 70000 + i
            assert replies[50 + i] == b"$%d\r\n%s\r\n" % (n, b"x" * n)


def test_slow_reader(engine_server):
    # Replies far larger than the socket buffers: the server's sends stay
    # short or pending until the client reads; nothing may be lost or reordered.
    port = engine_server.port
    val = b"".join(b"%08d" % i for i in range(256 * 1024 // 8))  # 256 KB
    with RespConn(HOST, port) as c:
        assert c.call("SET", "slow", val) == b"+OK\r\n"
    s = socket.create_connection((HOST, port), timeout=10)
    n = 64  # 16 MB of replies
    s.sendall(b"".join(encode("GET", "slow") + encode("PING") for _ in range(n)))
    time.sleep(1.0)
    with RespConn(HOST, port) as other:  # the server still serves others
        assert other.call("PING") == b"+PONG\r\n"
    want = (b"$%d\r\n%s\r\n+PONG\r\n" % (len(val), val)) * n
    got = bytearray()
    s.settimeout(30)
    while len(got) < len(want):
        chunk = s.recv(65536)
        assert chunk, "server closed the connection"
        got += chunk
        if len(got) < 2 * len(chunk):
            time.sleep(0.2)  # read the first bits slowly too
    assert bytes(got) == want
    s.close()


def test_thousand_connections(engine_server):
    port = engine_server.port
    socks = []
    try:
        for i in range(1000):
            s = socket.create_connection((HOST, port), timeout=30)
            socks.append(s)
        # Every connection sends at once, then every one reads.
        for i, s in enumerate(socks):
            s.sendall(encode("SET", "c%d" % i, "v%d" % i) + encode("GET", "c%d" % i))
        for i, s in enumerate(socks):
            v = b"v%d" % i
            want = b"+OK\r\n$%d\r\n%s\r\n" % (len(v), v)
            got = b""
            while len(got) < len(want):
                chunk = s.recv(4096)
                assert chunk
                got += chunk
            assert got == want
        with RespConn(HOST, port) as c:
            info = c.call("INFO", "clients")
            assert b"connected_clients:1001\r\n" in info
    finally:
        for s in socks:
            s.close()
    # All of them are gone again.
    wait_info(HOST, port, "connected_clients", 1)


def test_concurrent_pipelines(engine_server):
    # Several connections pipelining across both shards at once.
    port = engine_server.port
    errors = []

    def worker(w):
        try:
            with RespConn(HOST, port, timeout=60) as c:
                cmds = []
                for i in range(3000):
                    cmds.append(("INCR", "ctr%d" % (i % 37)))
                    cmds.append(("SET", "w%d:%d" % (w, i), "x" * (i % 300)))
                replies = c.pipeline(cmds)
                for i in range(3000):
                    if not replies[2 * i].startswith(b":") or replies[2 * i + 1] != b"+OK\r\n":
                        errors.append((w, i, replies[2 * i], replies[2 * i + 1]))
                        return
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append((w, repr(e)))

    ths = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(120)
    assert not errors, errors[:3]
    with RespConn(HOST, port) as c:
        total = sum(int(c.call("GET", "ctr%d" % k)[1:].split(b"\r\n")[1]) for k in range(37))
    assert total == 8 * 3000


def _wait_blocked(port, n, timeout=10):
    wait_info(HOST, port, "blocked_clients", n, timeout)


def _reset_blocked(s, port, key, never_ran):
    """Reset a blocked client's connection (RST, no FIN): it is closed at
    once, the request queued behind its BLPOP (which wrote never_ran) did
    not run, and key's next push is not taken by the dead client."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    _wait_blocked(port, 0)
    with RespConn(HOST, port) as c:
        assert c.call("EXISTS", never_ran) == b":0\r\n"
        assert c.call("RPUSH", key, "a") == b":1\r\n"
        assert c.call("LLEN", key) == b":1\r\n"


def test_reset_while_blocked_with_much_input_held(engine_server):
    # A blocked client that pipelined far more than io_uring holds back
    # unparsed (its recv is cancelled then), then resets: it is closed at
    # once (the error poll), none of the held requests ran, the key's later
    # pushes are not taken by a dead client.
    port = engine_server.port
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(encode("BLPOP", "heldkey", "0"))
    _wait_blocked(port, 1)
    s.setblocking(False)
    junk = encode("RPUSH", "heldran", "x") * 20000  # ~600 KB
    sent = 0
    deadline = time.time() + 5
    while sent < len(junk) and time.time() < deadline:
        try:
            sent += s.send(junk[sent:])
        except BlockingIOError:
            time.sleep(0.05)
    time.sleep(0.3)
    _reset_blocked(s, port, "heldkey", "heldran")


def test_half_close_while_blocked(engine_server):
    # A client that half-closes while blocked is dropped, as Redis drops it
    # (neither engine reads a connection that stopped parsing; the blocking
    # cron polls its socket), and the request it queued behind the blocking
    # one never runs.
    port = engine_server.port
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(encode("BLPOP", "eofkey", "0") + encode("SET", "eofafter", "1"))
    _wait_blocked(port, 1)
    s.shutdown(socket.SHUT_WR)
    _wait_blocked(port, 0)
    assert recv_to_eof(s) == b""  # closed with no reply
    _reset_blocked(s, port, "eofkey", "eofafter")


def test_half_close_after_pipeline(engine_server):
    # A client that sends a pipeline and then half-closes (`printf ... | nc
    # -N`) gets every reply, as from Redis, which answers all it read before
    # it reads the EOF; then the server closes. The keys live on both shards,
    # so some replies are still on the other shard when the EOF is seen, and
    # with io_uring the EOF often arrives in the same batch as the requests.
    port = engine_server.port
    with RespConn(HOST, port) as c:
        for i in range(40):
            assert c.call("SET", "hc%d" % i, "v%d" % i) == b"+OK\r\n"
    for n in (1, 3, 40, 2000):
        cmds = [("GET", "hc%d" % (i % 40)) if i % 3 else ("PING",) for i in range(n)]
        want = b"".join(b"+PONG\r\n" if i % 3 == 0 else
                        b"$%d\r\nv%d\r\n" % (len(b"v%d" % (i % 40)), i % 40) for i in range(n))
        for trial in range(15):
            s = socket.create_connection((HOST, port), timeout=10)
            s.sendall(b"".join(encode(*cmd) for cmd in cmds))
            s.shutdown(socket.SHUT_WR)
            got = recv_to_eof(s)  # until the server closes its side
            s.close()
            assert bytes(got) == want, (n, trial, len(got), len(want))
    wait_info(HOST, port, "connected_clients", 1)  # the half-closed ones are released


def test_half_close_with_blocking_command(engine_server):
    # A half-close behind a blocking command that waits: Redis frees a
    # waiting client at its EOF, so the connection closes (after the replies
    # before it) and the wait ends; a later push is not taken by it. The EOF
    # may be seen before or after the command starts to wait.
    port = engine_server.port
    for trial in range(10):
        s = socket.create_connection((HOST, port), timeout=10)
        s.sendall(encode("SET", "hcb%d" % trial, "1") + encode("BLPOP", "hcbkey", "0"))
        if trial % 2:
            _wait_blocked(port, 1)
        s.shutdown(socket.SHUT_WR)
        got = recv_to_eof(s)
        s.close()
        assert bytes(got) == b"+OK\r\n", (trial, bytes(got))
        _wait_blocked(port, 0)
    with RespConn(HOST, port) as c:
        assert c.call("RPUSH", "hcbkey", "a") == b":1\r\n"
        assert c.call("LLEN", "hcbkey") == b":1\r\n"


def test_replies_before_a_blocking_command_are_written(engine_server):
    """A reply that precedes a blocking command in one write goes out at
    once, whichever shard the awaited key lives on (the blocking command
    never holds earlier output back)."""
    port = engine_server.port
    for i in range(12):
        with socket.create_connection((HOST, port)) as s:
            s.settimeout(5)
            s.sendall(b"PING\r\nBLPOP holdlist%d 0\r\n" % i)
            assert s.recv(100) == b"+PONG\r\n", i
    # The clients hung up while blocked: each is dropped, as Redis does.
    _wait_blocked(port, 0)


def _mset_cmd(tag, i, nkeys=20):
    """An MSET of nkeys keys: with 2 shards, its keys span both (all on one
    shard has odds of 2 in a million)."""
    args = []
    for k in range(nkeys):
        args += ["%s:%d:%d" % (tag, i, k), "v%d" % k]
    return encode("MSET", *args)


def _recv_exactly(s, n):
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        assert chunk, got
        got += chunk
    return got


def test_pipelined_transactions_answered_in_one_send(engine_server):
    """A pipelined batch of MSETs that span both shards runs one
    transaction at a time (each waits for the one before), but its replies
    are written together once the batch read so far is done, not one send
    per transaction: the first recv brings them all."""
    port = engine_server.port
    n = 24
    for trial in range(5):
        with socket.create_connection((HOST, port), timeout=10) as s:
            s.sendall(b"".join(_mset_cmd("batch%d" % trial, i) for i in range(n)))
            first = s.recv(65536)
            assert first == b"+OK\r\n" * n, (trial, first)
    with RespConn(HOST, port) as c:
        assert c.call("GET", "batch4:23:19") == b"$3\r\nv19\r\n"


def test_streamed_transactions_get_replies_as_they_go(engine_server):
    """A client that streams far more cross-shard MSETs than one read brings
    gets replies while it is still sending: the hold behind a transaction
    covers the input read so far, not input that keeps arriving (io_uring
    receives while parsing is stopped)."""
    port = engine_server.port
    n = 20000
    batch = b"".join(_mset_cmd("stream", i, nkeys=4) for i in range(n))
    with socket.create_connection((HOST, port), timeout=30) as s:
        sender = threading.Thread(target=s.sendall, args=(batch,))
        sender.start()
        first = s.recv(1 << 20)
        got = first
        while len(got) < 5 * n:
            chunk = s.recv(1 << 20)
            assert chunk, len(got)
            got += chunk
        sender.join()
    assert got == b"+OK\r\n" * n
    # All requests read before the first transaction started may be
    # answered together (a few KB of replies); never 64 KB of them.
    assert len(first) < 32 * 1024, len(first)


def test_transaction_replies_before_a_blocking_command_are_written(engine_server):
    """Replies held behind a transaction barrier go out as soon as a
    blocking command of the same batch starts waiting, whether its keys
    live on one shard or span both; the requests queued behind it wait."""
    port = engine_server.port
    for i in range(8):
        with socket.create_connection((HOST, port), timeout=10) as s:
            keys = ["txblk%d:%d" % (i, k) for k in range(1 + (i % 2) * 11)]
            s.sendall(_mset_cmd("txhold%d" % i, 0) + _mset_cmd("txhold%d" % i, 1) +
                      encode("BLPOP", *keys, "0") + b"PING\r\n")
            assert _recv_exactly(s, 10) == b"+OK\r\n+OK\r\n", i
            _wait_blocked(port, 1)
            s.sendall(b"PING\r\n")
            with RespConn(HOST, port) as c:
                assert c.call("RPUSH", keys[-1], "x") == b":1\r\n"
            want = b"*2\r\n$%d\r\n%s\r\n$1\r\nx\r\n+PONG\r\n+PONG\r\n" % (
                len(keys[-1]), keys[-1].encode())
            assert _recv_exactly(s, len(want)) == want, i
    _wait_blocked(port, 0)


def test_no_busy_loop_while_blocked_with_input_waiting(engine_server):
    """Clients blocked in BLPOP with more requests queued behind it, and more
    arriving: the server sleeps (the level-triggered epoll must not keep
    reporting input it will not read)."""
    port = engine_server.port
    socks = []
    try:
        for i in range(8):
            s = socket.create_connection((HOST, port), timeout=10)
            s.settimeout(5)
            s.sendall(b"PING\r\nBLPOP spinlist%d 0\r\nPING\r\n" % i)
            assert s.recv(100) == b"+PONG\r\n"
            socks.append(s)
        _wait_blocked(port, 8)
        for s in socks:
            s.sendall(b"PING\r\n")
        time.sleep(0.2)
        c0 = engine_server.cpu_seconds()
        time.sleep(1.5)
        used = engine_server.cpu_seconds() - c0
        assert used < 0.5, f"server used {used:.2f} s of CPU in 1.5 s while idle"
        with RespConn(HOST, port) as c:
            for i in range(8):
                assert c.call("RPUSH", "spinlist%d" % i, "v") == b":1\r\n"
        for i, s in enumerate(socks):
            want = b"*2\r\n$%d\r\nspinlist%d\r\n$1\r\nv\r\n+PONG\r\n+PONG\r\n" % (
                len("spinlist%d" % i), i)
            got = b""
            while len(got) < len(want):
                chunk = s.recv(1000)
                assert chunk, got
                got += chunk
            assert got == want
    finally:
        for s in socks:
            s.close()
