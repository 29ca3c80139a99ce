"""test_pipeline_stress.py -- many clients with deep pipelines across shards.

50 connections each pipeline 2,000 INCR/SET/GET/MGET commands over keys that
hash to every shard, while other connections send the same kind of load and
drop out mid-pipeline (closing with replies unread, with a reset, or in the
middle of a command). Every reply of the 50 is checked in order: commands on
a connection's own keys against a model, commands on keys shared by all
connections for monotonic counters. Afterwards the shared counters must add
up and every connection's keys must hold the model's values.

This module is what the TSan stage runs; it talks only to percore. One
single-threaded event loop in the pytest process drives all sockets.
"""

import random
import re
import selectors
import socket
import struct
import time

from respclient import RespConn, encode, parse, scan

HOST = "127.0.0.1"
N_CONN = 50
DEPTH = 2000
N_DROPPERS = 30
N_SHARED = 16
DEADLINE_S = 60.0
INT_ERR = b"-ERR value is not an integer or out of range\r\n"


def _bulk(v):
    return b"$-1\r\n" if v is None else b"$%d\r\n%s\r\n" % (len(v), v)


def _is_int(v):
    """Whether Redis's INCR accepts v (a canonical 64-bit decimal)."""
    return v is not None and re.fullmatch(rb"-?(0|[1-9][0-9]*)", v) is not None


class Script:
    """A deterministic pipeline for one connection plus the checks of its
    replies. Keys are '<ns>:k<j>' (own) and 'shared:<j>' (all connections)."""

    def __init__(self, ns, seed, depth, use_shared):
        rnd = random.Random(seed)
        own = ["%s:k%d" % (ns, j) for j in range(32)]
        model = {}
        self.cmds = []
        self.expect = []            # bytes, or ("incr"|"get", shared index)
        self.shared_incrs = 0
        for _ in range(depth):
            op = rnd.randrange(10)
            k = rnd.choice(own)
            if use_shared and op == 0:
                j = rnd.randrange(N_SHARED)
                self.cmds.append(("INCR", "shared:%d" % j))
                self.expect.append(("incr", j))
                self.shared_incrs += 1
            elif use_shared and op == 1:
                j = rnd.randrange(N_SHARED)
                self.cmds.append(("GET", "shared:%d" % j))
                self.expect.append(("get", j))
            elif op in (2, 3):
                v = model.get(k)
                self.cmds.append(("INCR", k))
                if v is None or _is_int(v):
                    nv = str(int(v or b"0") + 1).encode()
                    model[k] = nv
                    self.expect.append(b":%s\r\n" % nv)
                else:
                    self.expect.append(INT_ERR)
            elif op in (4, 5):
                v = (str(rnd.randrange(-1000, 1000)) if rnd.random() < 0.5
                     else "v%d" % rnd.randrange(10 ** 6)).encode()
                model[k] = v
                self.cmds.append(("SET", k, v))
                self.expect.append(b"+OK\r\n")
            elif op in (6, 7):
                self.cmds.append(("GET", k))
                self.expect.append(_bulk(model.get(k)))
            else:
                ks = rnd.sample(own, rnd.randrange(2, 7))
                self.cmds.append(("MGET",) + tuple(ks))
                self.expect.append(b"*%d\r\n" % len(ks) + b"".join(_bulk(model.get(x)) for x in ks))
        self.model = model
        self.data = b"".join(encode(*c) for c in self.cmds)


class Client:
    """One non-blocking connection of the stress run."""

    def __init__(self, port, name, script, stop_after=None, cut_at=None, rst=False):
        self.name = name
        self.script = script
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.sock.setblocking(False)
        self.out = memoryview(script.data if cut_at is None else script.data[:cut_at])
        self.sent = 0
        self.buf = bytearray()
        self.idx = 0
        self.stop_after = stop_after     # close after this many replies
        self.cut = cut_at is not None    # close as soon as all (cut) bytes are sent
        self.rst = rst
        self.closed = False
        self.last_shared = {}


def _close(c, sel):
    if c.closed:
        return
    sel.unregister(c.sock)
    if c.rst:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.sock.close()
    c.closed = True


def _check_reply(c, raw):
    exp = c.script.expect[c.idx]
    cmd = c.script.cmds[c.idx]
    if isinstance(exp, bytes):
        assert raw == exp, "%s reply %d to %r: got %r want %r" % (c.name, c.idx, cmd, raw, exp)
        return
    kind, j = exp
    val = parse(raw)
    last = c.last_shared.get(j, 0)
    if kind == "incr":
        assert isinstance(val, int) and val > last, "%s reply %d to %r: %r after %d" % (
            c.name, c.idx, cmd, raw, last)
        c.last_shared[j] = val
    else:
        assert isinstance(val, bytes) or (val is None and last == 0), "%s reply %d to %r: %r" % (
            c.name, c.idx, cmd, raw)
        got = int(val) if val is not None else 0
        assert got >= last, "%s reply %d to %r: %r went back from %d" % (c.name, c.idx, cmd, raw, last)


def _drive(clients, deadline):
    sel = selectors.DefaultSelector()
    for c in clients:
        sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    live = len(clients)
    while live:
        assert time.monotonic() < deadline, "stress run exceeded %.0f s" % DEADLINE_S
        for key, ev in sel.select(timeout=1.0):
            c = key.data
            if c.closed:
                continue
            if ev & selectors.EVENT_WRITE and c.sent < len(c.out):
                try:
                    c.sent += c.sock.send(c.out[c.sent:c.sent + (1 << 18)])
                except BlockingIOError:
                    pass
                if c.sent == len(c.out):
                    if c.cut or c.stop_after == 0:
                        _close(c, sel)
                        live -= 1
                        continue
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = c.sock.recv(1 << 20)
                except BlockingIOError:
                    continue
                assert chunk, "%s: server closed after %d of %d replies" % (
                    c.name, c.idx, len(c.script.cmds))
                c.buf += chunk
                pos = 0
                while c.idx < len(c.script.cmds):
                    end = scan(c.buf, pos)
                    if end < 0:
                        break
                    _check_reply(c, bytes(c.buf[pos:end]))
                    pos = end
                    c.idx += 1
                    if c.stop_after is not None and c.idx >= c.stop_after:
                        break
                del c.buf[:pos]
                if c.idx == len(c.script.cmds) or (c.stop_after is not None and c.idx >= c.stop_after):
                    _close(c, sel)
                    live -= 1
    sel.close()


def test_pipeline_stress(percore_port):
    rnd = random.Random(12345)
    deadline = time.monotonic() + DEADLINE_S
    workers = [Client(percore_port, "c%d" % i, Script("c%d" % i, i, DEPTH, True)) for i in range(N_CONN)]
    droppers = []
    for i in range(N_DROPPERS):
        s = Script("d%d" % i, 1000 + i, DEPTH, False)
        mode = i % 3
        if mode == 0:
            droppers.append(Client(percore_port, "d%d" % i, s, stop_after=rnd.randrange(0, DEPTH // 2)))
        elif mode == 1:
            droppers.append(Client(percore_port, "d%d" % i, s, stop_after=rnd.randrange(0, DEPTH // 2), rst=True))
        else:
            droppers.append(Client(percore_port, "d%d" % i, s, cut_at=rnd.randrange(1, len(s.data))))
    everyone = workers[:N_CONN // 2] + droppers + workers[N_CONN // 2:]
    try:
        _drive(everyone, deadline)
    finally:
        for c in everyone:
            if not c.closed:
                c.sock.close()
    for c in workers:
        assert c.idx == DEPTH, "%s got %d of %d replies" % (c.name, c.idx, DEPTH)

    with RespConn(HOST, percore_port, timeout=30) as conn:
        assert conn.call("PING") == b"+PONG\r\n"
        total = sum(int(parse(conn.call("GET", "shared:%d" % j)) or 0) for j in range(N_SHARED))
        assert total == sum(c.script.shared_incrs for c in workers)
        for c in workers:
            keys = sorted(c.script.model)
            if keys:
                got = parse(conn.call("MGET", *keys))
                assert got == [c.script.model[k] for k in keys], c.name


def test_server_alive_after_stress(percore_port):
    with RespConn(HOST, percore_port, timeout=10) as conn:
        assert conn.call("SET", "after", "1") == b"+OK\r\n"
        assert conn.call("GET", "after") == b"$1\r\n1\r\n"
