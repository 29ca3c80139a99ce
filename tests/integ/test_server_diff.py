"""test_server_diff.py -- differential tests of the connection and server
commands: PING ECHO SELECT QUIT RESET HELLO AUTH, the CLIENT container,
INFO, TIME LASTSAVE, MONITOR, SHUTDOWN and DEBUG.

Replies are compared byte for byte with the reference Redis 7.0.15 where
they are deterministic. Where they carry per-process values (client ids,
addresses, timestamps, memory figures) the tests parse them and compare
their shape: the same map keys, the same CLIENT LIST fields in the same
order, the same INFO sections and field names.
"""

import os
import re
import socket
import subprocess
import time

import pytest

from conftest import free_port, percore_bin
from respclient import RespConn, encode, parse, wait_ping

HOST = "127.0.0.1"


def norm_hello(raw):
    """A HELLO reply with the client id replaced by 0."""
    return re.sub(rb"(\$2\r\nid\r\n):\d+\r\n", rb"\1:0\r\n", raw)


def client_fields(line):
    """CLIENT LIST/INFO line -> list of (field, value) in order."""
    out = []
    for tok in line.strip().split(b" "):
        k, _, v = tok.partition(b"=")
        out.append((k, v))
    return out


def info_sections(text):
    """INFO text -> {section name: {field: value}} keeping section order."""
    secs = {}
    cur = None
    for line in text.split(b"\r\n"):
        if not line:
            continue
        if line.startswith(b"# "):
            cur = line[2:].decode()
            secs[cur] = {}
        else:
            k, _, v = line.partition(b":")
            secs[cur][k] = v
    return secs


def wait_closed(conn, timeout=3.0):
    """True once the server closed conn (recv returns b'' or resets)."""
    conn.sock.settimeout(timeout)
    try:
        while True:
            d = conn.sock.recv(4096)
            if not d:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


# ---------------------------------------------------------------- basics


def test_ping_echo(diff):
    diff.check_many([
        ("PING",), ("ping", "hello"), ("PING", "a", "b"), ("PING", ""),
        ("ECHO", "x"), ("ECHO",), ("ECHO", "a", "b"), ("ECHO", b"\x00\xff\r\n"),
    ])


def test_ping_echo_resp3(diff):
    diff.hello3()
    diff.check_many([("PING",), ("PING", "hi"), ("ECHO", "x")])


def test_select(diff):
    diff.check_many([
        ("SELECT", "0"), ("SELECT", "15"), ("SELECT", "16"), ("SELECT", "-1"),
        ("SELECT", "x"), ("SELECT", "99999999999"), ("SELECT", "1.5"), ("SELECT", ""),
        ("SELECT",), ("SELECT", "1", "2"),
        ("SELECT", "3"), ("SET", "k", "db3"), ("SELECT", "0"), ("GET", "k"),
        ("SELECT", "3"), ("GET", "k"),
    ])


def test_time_lastsave(diff):
    p, r = diff.both("TIME")
    pv, rv = parse(p), parse(r)
    assert isinstance(pv, list) and len(pv) == 2
    assert pv[0].isdigit() and pv[1].isdigit() and int(pv[1]) < 1000000
    assert abs(int(pv[0]) - time.time()) < 5
    assert len(rv) == 2
    p, r = diff.both("LASTSAVE")
    assert p.startswith(b":") and r.startswith(b":")
    diff.check_many([("TIME", "x"), ("LASTSAVE", "x")])


def test_quit(diff):
    assert diff.raw(encode("QUIT")) == (b"+OK\r\n", True)
    assert diff.raw(encode("QUIT", "extra")) == (b"+OK\r\n", True)
    data, closed = diff.raw(encode("PING") + encode("QUIT") + encode("PING"))
    assert data == b"+PONG\r\n+OK\r\n" and closed


# ---------------------------------------------------------------- HELLO / AUTH


def test_hello(diff):
    p, r = diff.both("HELLO", "2")
    assert norm_hello(p) == norm_hello(r)
    p, r = diff.both("HELLO")
    assert norm_hello(p) == norm_hello(r)
    diff.check_many([
        ("HELLO", "4"), ("HELLO", "1"), ("HELLO", "x"), ("HELLO", "3", "FOO"),
        ("HELLO", "2", "SETNAME"), ("HELLO", "2", "AUTH", "default"),
        ("HELLO", "2", "SETNAME", "a b"), ("CLIENT", "GETNAME"),
        ("HELLO", "2", "AUTH", "nobody", "x"),
    ])
    p, r = diff.both("HELLO", "3", "SETNAME", "n1", "SETNAME", "n2")
    assert p.startswith(b"%7\r\n")
    assert norm_hello(p) == norm_hello(r)
    diff.check("CLIENT", "GETNAME")
    # The HELLO map itself: same keys and values except the id.
    pm, rm = parse(p), parse(r)
    assert list(pm) == list(rm) == [b"server", b"version", b"proto", b"id", b"mode", b"role",
                                    b"modules"]
    assert pm[b"version"] == b"7.0.15" and pm[b"proto"] == 3
    assert pm[b"id"] == parse(diff.pconn.call("CLIENT", "ID"))
    # Back to RESP2 in the same request stream.
    p, r = diff.both("HELLO", "2", "AUTH", "default", "anything")
    assert p.startswith(b"*14\r\n") and norm_hello(p) == norm_hello(r)


def test_hello3_replies(diff):
    diff.hello3()
    diff.check_many([
        ("CLIENT", "GETNAME"), ("INFO", "nosuchsection"), ("CLIENT", "LIST", "ID", "0"),
        ("HELLO", "4"),
    ])


def test_auth_without_password(diff):
    diff.check_many([
        ("AUTH", "x"), ("AUTH", "nobody", "x"), ("AUTH", "default", "x"),
        ("AUTH", "a", "b", "c"), ("AUTH",), ("PING",),
    ])


def _pair_conns(p, r):
    return RespConn(HOST, p.port), RespConn(HOST, r.port)


def test_config_set_reaches_every_shard_before_ok(server):
    # +OK to CONFIG SET means every shard has the new value: connections
    # accepted right after it, on any shard, must be asked for the password,
    # and a hz read back from any connection is the new one.
    p = server("--threads", "4")
    for rnd in range(5):
        pw = "pw%d" % rnd
        with RespConn(HOST, p.port) as c:
            if rnd:
                assert c.call("AUTH", "pw%d" % (rnd - 1)) == b"+OK\r\n"
            assert c.call("CONFIG", "SET", "requirepass", pw, "hz", str(11 + rnd)) == b"+OK\r\n"
        conns = [RespConn(HOST, p.port) for _ in range(24)]
        try:
            for c in conns:
                assert c.call("PING") == b"-NOAUTH Authentication required.\r\n"
                assert c.call("AUTH", pw) == b"+OK\r\n"
                assert c.call("CONFIG", "GET", "hz") == b"*2\r\n$2\r\nhz\r\n$2\r\n%d\r\n" % (11 + rnd)
        finally:
            for c in conns:
                c.close()


def test_auth_requirepass(server, ref_server):
    # The fixtures wait for +PONG, so the password is set once they run.
    p, r = server(), ref_server()
    for port in (p.port, r.port):
        with RespConn(HOST, port) as c:
            assert c.call("CONFIG", "SET", "requirepass", "pw") == b"+OK\r\n"
    cmds = [
        ("PING",), ("CLIENT", "ID"), ("HELLO", "3"), ("HELLO",),
        ("HELLO", "2", "AUTH", "default", "bad"), ("HELLO", "2", "AUTH", "x", "pw"),
        ("AUTH", "bad"), ("AUTH", "default", "bad"), ("AUTH", "x", "pw"), ("PING",),
        ("AUTH", "pw"), ("PING",), ("AUTH", "bad"), ("PING",),
        ("RESET",), ("PING",), ("AUTH", "default", "pw"), ("PING",),
        ("RESET",), ("HELLO", "3", "SETNAME", "ok", "AUTH", "default", "bad"),
        ("AUTH", "pw"), ("CLIENT", "GETNAME"),
    ]
    pc, rc = _pair_conns(p, r)
    with pc, rc:
        for c in cmds:
            a, b = pc.call(*c), rc.call(*c)
            assert a == b, (c, a, b)
    pc, rc = _pair_conns(p, r)
    with pc, rc:
        for c in [("HELLO", "3", "AUTH", "default", "pw", "SETNAME", "nm"),
                  ("CLIENT", "GETNAME"), ("PING",), ("RESET",), ("CLIENT", "GETNAME")]:
            a, b = pc.call(*c), rc.call(*c)
            assert norm_hello(a) == norm_hello(b), (c, a, b)


# ---------------------------------------------------------------- CLIENT


def test_client_name(diff):
    diff.check_many([
        ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", "a b"), ("CLIENT", "SETNAME", "a\nb"),
        ("CLIENT", "SETNAME", b"\xc3\xa9"), ("CLIENT", "SETNAME", "foo"), ("CLIENT", "GETNAME"),
        ("CLIENT", "SETNAME", ""), ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME", "~!x"),
        ("CLIENT", "GETNAME"), ("CLIENT", "SETNAME"), ("CLIENT", "SETNAME", "a", "b"),
        ("CLIENT", "GETNAME", "x"), ("CLIENT", "ID", "x"), ("CLIENT", "INFO", "x"),
    ])


def test_client_id(diff):
    a = parse(diff.pconn.call("CLIENT", "ID"))
    assert isinstance(a, int) and a > 0
    with RespConn(HOST, diff.percore_port) as other:
        b = parse(other.call("CLIENT", "ID"))
    assert b != a


def test_client_info_fields(diff):
    diff.check("CLIENT", "SETNAME", "me")
    diff.check("SELECT", "2")
    p, r = diff.both("CLIENT", "INFO")
    pl, rl = parse(p), parse(r)
    assert pl.endswith(b"\n") and pl.count(b"\n") == 1
    pf, rf = client_fields(pl), client_fields(rl)
    assert [k for k, _ in pf] == [k for k, _ in rf]
    d = dict(pf)
    assert d[b"id"] == str(parse(diff.pconn.call("CLIENT", "ID"))).encode()
    assert d[b"name"] == b"me" and d[b"db"] == b"2" and d[b"flags"] == b"N"
    assert d[b"cmd"] == b"client|info" and d[b"user"] == b"default" and d[b"resp"] == b"2"
    assert d[b"laddr"] == ("%s:%d" % (HOST, diff.percore_port)).encode()
    for k in (b"multi", b"redir"):
        assert d[k] == dict(rf)[k]
    diff.hello3()
    p, r = diff.both("CLIENT", "INFO")
    assert p.startswith(b"=") and r.startswith(b"=")
    assert dict(client_fields(parse(p)))[b"resp"] == b"3"


def test_client_list(diff):
    others = [RespConn(HOST, diff.percore_port) for _ in range(4)]
    try:
        ids = [parse(o.call("CLIENT", "ID")) for o in others]
        others[0].call("CLIENT", "SETNAME", "named")
        me = parse(diff.pconn.call("CLIENT", "ID"))
        p, r = diff.both("CLIENT", "LIST")
        lines = parse(p).split(b"\n")
        assert lines[-1] == b""
        lines = lines[:-1]
        rfields = [k for k, _ in client_fields(parse(r).split(b"\n")[0])]
        got = []
        for ln in lines:
            f = client_fields(ln)
            assert [k for k, _ in f] == rfields
            got.append(int(dict(f)[b"id"]))
        assert got == sorted(got)
        assert set(ids + [me]) <= set(got)
        mine = [dict(client_fields(ln)) for ln in lines if dict(client_fields(ln))[b"id"] == str(me).encode()][0]
        assert mine[b"cmd"] == b"client|list"
        named = [dict(client_fields(ln)) for ln in lines if dict(client_fields(ln))[b"id"] == str(ids[0]).encode()][0]
        assert named[b"name"] == b"named" and named[b"cmd"] == b"client|setname"
        # ID filter: in argument order, unknown ids skipped.
        text = parse(diff.pconn.call("CLIENT", "LIST", "ID", str(ids[2]), "999999", str(ids[1])))
        assert [int(dict(client_fields(ln))[b"id"]) for ln in text.split(b"\n")[:-1]] == [ids[2], ids[1]]
        text = parse(diff.pconn.call("CLIENT", "LIST", "TYPE", "normal"))
        assert len(text.split(b"\n")) - 1 == len(lines)
    finally:
        for o in others:
            o.close()
    diff.check_many([
        ("CLIENT", "LIST", "TYPE", "foo"), ("CLIENT", "LIST", "TYPE", "pubsub"),
        ("CLIENT", "LIST", "TYPE", "master"), ("CLIENT", "LIST", "TYPE", "replica"),
        ("CLIENT", "LIST", "TYPE", "slave"), ("CLIENT", "LIST", "TYPE"),
        ("CLIENT", "LIST", "TYPE", "normal", "x"), ("CLIENT", "LIST", "ID"),
        ("CLIENT", "LIST", "ID", "x"), ("CLIENT", "LIST", "ID", "1", "x"),
        ("CLIENT", "LIST", "ID", "0"), ("CLIENT", "LIST", "ID", "-1"), ("CLIENT", "LIST", "foo"),
    ])


def test_client_kill_errors(diff):
    diff.check_many([
        ("CLIENT", "KILL", "1.2.3.4:5"), ("CLIENT", "KILL", "ID", "x"), ("CLIENT", "KILL", "ID", "0"),
        ("CLIENT", "KILL", "ID", "-1"), ("CLIENT", "KILL", "ID", "999999"),
        ("CLIENT", "KILL", "TYPE", "foo"), ("CLIENT", "KILL", "USER", "foo"),
        ("CLIENT", "KILL", "SKIPME", "maybe"), ("CLIENT", "KILL", "FOO", "bar"),
        ("CLIENT", "KILL", "ID"), ("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "LADDR"),
        ("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "LADDR", "x"), ("CLIENT", "KILL", "MAXAGE", "5"),
        ("CLIENT", "KILL", "TYPE", "pubsub"), ("CLIENT", "KILL"),
    ])


def test_client_kill(diff):
    victims = [RespConn(HOST, diff.percore_port) for _ in range(3)]
    try:
        ids = [parse(v.call("CLIENT", "ID")) for v in victims]
        addrs = [dict(client_fields(parse(v.call("CLIENT", "INFO"))))[b"addr"] for v in victims]
        assert diff.pconn.call("CLIENT", "KILL", "ID", str(ids[0])) == b":1\r\n"
        assert wait_closed(victims[0])
        assert diff.pconn.call("CLIENT", "KILL", addrs[1]) == b"+OK\r\n"
        assert wait_closed(victims[1])
        assert diff.pconn.call("CLIENT", "KILL", addrs[1]) == b"-ERR No such client\r\n"
        assert diff.pconn.call("CLIENT", "KILL", "ADDR", addrs[2], "SKIPME", "yes") == b":1\r\n"
        assert wait_closed(victims[2])
        # SKIPME yes (the default) spares the caller.
        me = parse(diff.pconn.call("CLIENT", "ID"))
        assert diff.pconn.call("CLIENT", "KILL", "ID", str(me)) == b":0\r\n"
        assert diff.pconn.call("PING") == b"+PONG\r\n"
    finally:
        for v in victims:
            v.close()


def test_client_kill_user_and_laddr(diff):
    v = RespConn(HOST, diff.percore_port)
    try:
        vid = parse(v.call("CLIENT", "ID"))
        laddr = "%s:%d" % (HOST, diff.percore_port)
        n = parse(diff.pconn.call("CLIENT", "KILL", "LADDR", laddr, "ID", str(vid)))
        assert n == 1 and wait_closed(v)
    finally:
        v.close()
    v = RespConn(HOST, diff.percore_port)
    try:
        v.call("PING")
        n = parse(diff.pconn.call("CLIENT", "KILL", "USER", "default"))
        assert n >= 1 and wait_closed(v)
        assert diff.pconn.call("PING") == b"+PONG\r\n"
    finally:
        v.close()


def test_client_reply(diff):
    seq = (encode("CLIENT", "REPLY", "OFF") + encode("PING") + encode("SET", "k", "v")
           + encode("CLIENT", "REPLY", "ON") + encode("GET", "k")
           + encode("CLIENT", "REPLY", "SKIP") + encode("PING", "skipped") + encode("PING", "seen"))
    data, closed = diff.raw(seq)
    assert data == b"+OK\r\n$1\r\nv\r\n$4\r\nseen\r\n" and not closed
    diff.check_many([("CLIENT", "REPLY", "x"), ("CLIENT", "REPLY"), ("CLIENT", "REPLY", "ON", "x")])


def test_client_misc(diff):
    diff.check_many([
        ("CLIENT", "NO-EVICT", "on"), ("CLIENT", "NO-EVICT", "OFF"), ("CLIENT", "NO-EVICT", "x"),
        ("CLIENT", "NO-EVICT"),
        ("CLIENT", "UNBLOCK", "5"), ("CLIENT", "UNBLOCK", "x"), ("CLIENT", "UNBLOCK", "5", "TIMEOUT"),
        ("CLIENT", "UNBLOCK", "5", "error"), ("CLIENT", "UNBLOCK", "5", "x"),
        ("CLIENT", "UNBLOCK", "x", "y"), ("CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"),
        ("CLIENT", "UNBLOCK"),
        ("CLIENT", "PAUSE", "x"), ("CLIENT", "PAUSE", "-1"), ("CLIENT", "PAUSE", "10", "foo"),
        ("CLIENT", "PAUSE", "10", "ALL", "x"), ("CLIENT", "PAUSE"),
        ("CLIENT", "UNPAUSE", "x"),
        ("CLIENT", "HELP"), ("client", "help"), ("CLIENT", "HELP", "x"),
        ("CLIENT", "FOO"), ("CLIENT",),
    ])


def test_client_setinfo(diff):
    # Redis 7.0.15 has no CLIENT SETINFO (added in 7.2, sent by clients in
    # their handshake); percore accepts it with 7.2's replies, so this is
    # checked against those rather than against the reference server.
    c = diff.pconn
    assert c.call("CLIENT", "SETINFO", "lib-name", "redis-py") == b"+OK\r\n"
    assert c.call("CLIENT", "SETINFO", "LIB-VER", "5.0.1") == b"+OK\r\n"
    assert c.call("CLIENT", "SETINFO", "lib-name", "a b") == (
        b"-ERR lib-name cannot contain spaces, newlines or special characters.\r\n")
    assert c.call("CLIENT", "SETINFO", "color", "x") == b"-ERR Unrecognized option 'color'\r\n"
    assert c.call("CLIENT", "SETINFO", "lib-name") == (
        b"-ERR wrong number of arguments for 'client|setinfo' command\r\n")


def test_client_no_evict_flag(diff):
    diff.check("CLIENT", "NO-EVICT", "on")
    p, r = diff.both("CLIENT", "INFO")
    assert dict(client_fields(parse(p)))[b"flags"] == dict(client_fields(parse(r)))[b"flags"] == b"e"


def test_client_pause(diff):
    assert diff.pconn.call("CLIENT", "PAUSE", "300", "WRITE") == b"+OK\r\n"
    # Reads go on while writes wait for the pause to end.
    with RespConn(HOST, diff.percore_port) as o:
        assert o.call("GET", "k") == b"$-1\r\n"
        t0 = time.monotonic()
        assert o.call("SET", "k", "v") == b"+OK\r\n"
        assert time.monotonic() - t0 > 0.1
    assert diff.pconn.call("CLIENT", "PAUSE", "5000") == b"+OK\r\n"
    assert diff.pconn.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
    with RespConn(HOST, diff.percore_port) as o:
        t0 = time.monotonic()
        assert o.call("SET", "k", "v") == b"+OK\r\n"
        assert time.monotonic() - t0 < 2


# ---------------------------------------------------------------- RESET


def test_reset(diff):
    diff.check_many([("SELECT", "3"), ("CLIENT", "SETNAME", "n"), ("CLIENT", "NO-EVICT", "on")])
    diff.hello3()
    diff.check_many([("RESET",), ("CLIENT", "GETNAME"), ("SET", "k", "v"), ("SELECT", "0"),
                     ("GET", "k"), ("RESET", "x")])
    p, r = diff.both("CLIENT", "INFO")
    d = dict(client_fields(parse(p)))
    assert d[b"db"] == b"0" and d[b"resp"] == b"2" and d[b"name"] == b""
    # RESET keeps CLIENT NO-EVICT in 7.0.15.
    assert d[b"flags"] == dict(client_fields(parse(r)))[b"flags"] == b"e"
    assert p.startswith(b"$")


def test_reset_client_reply_off(diff):
    data, closed = diff.raw(encode("CLIENT", "REPLY", "OFF") + encode("PING") + encode("RESET")
                            + encode("PING"))
    assert data == b"+RESET\r\n+PONG\r\n"


# ---------------------------------------------------------------- INFO


def test_info_default_sections(diff):
    diff.check("SET", "a", "1")
    diff.check("SET", "b", "2", "EX", "100")
    diff.check("SELECT", "5")
    diff.check("SET", "c", "3")
    p, r = diff.both("INFO")
    assert p.startswith(b"$") and p.endswith(b"\r\n\r\n")
    ps, rs = info_sections(parse(p)), info_sections(parse(r))
    assert list(ps) == list(rs)
    for sec, fields in rs.items():
        if sec == "Errorstats":
            continue            # error counts are not tracked by percore
        missing = [k for k in fields if k not in ps[sec]]
        assert not missing, (sec, missing)
    s = ps["Server"]
    assert s[b"redis_version"] == b"7.0.15"
    assert re.fullmatch(rb"\d+\.\d+\.\d+", s[b"percore_version"])
    assert s[b"redis_mode"] == b"standalone" and s[b"tcp_port"] == str(diff.percore_port).encode()
    assert len(s[b"run_id"]) == 40
    assert list(ps["Server"])[:2] == [b"redis_version", b"percore_version"]
    assert ps["Persistence"][b"loading"] == b"0"
    assert ps["Replication"][b"role"] == b"master"
    assert ps["Cluster"][b"cluster_enabled"] == b"0"
    assert ps["Keyspace"][b"db0"].startswith(b"keys=2,expires=1,avg_ttl=")
    assert ps["Keyspace"][b"db5"].startswith(b"keys=1,expires=0,avg_ttl=")
    assert int(ps["Clients"][b"connected_clients"]) >= 1
    assert int(ps["Stats"][b"total_commands_processed"]) >= 4


def test_info_selected_sections(diff):
    for args in [("server",), ("SERVER", "cpu"), ("keyspace",), ("clients", "clients"),
                 ("cpu", "server"), ("default",), ("all",), ("everything",), ("commandstats",),
                 ("memory", "persistence", "stats", "replication", "modules", "errorstats",
                  "cluster")]:
        p, r = diff.both("INFO", *args)
        assert list(info_sections(parse(p))) == list(info_sections(parse(r))), args
    diff.check_many([("INFO", "nosuchsection"), ("INFO", "foo", "bar")])


def test_info_keyspace_empty(diff):
    diff.check("INFO", "keyspace")


def test_info_commandstats(diff):
    diff.check("SET", "k", "v")
    diff.check("GET", "k")
    diff.both("CLIENT", "ID")
    p = parse(diff.pconn.call("INFO", "commandstats"))
    stats = info_sections(p)["Commandstats"]
    for name in (b"cmdstat_set", b"cmdstat_get", b"cmdstat_client|id"):
        assert name in stats, stats
        assert re.fullmatch(rb"calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,"
                            rb"failed_calls=\d+", stats[name])
    assert int(stats[b"cmdstat_set"].split(b",")[0][6:]) >= 1


def _call_counts(conn):
    """{command: (calls, rejected_calls, failed_calls)} from INFO commandstats."""
    stats = info_sections(parse(conn.call("INFO", "commandstats")))["Commandstats"]
    out = {}
    for name, v in stats.items():
        f = dict(x.split(b"=") for x in v.split(b","))
        out[name] = (f[b"calls"], f[b"rejected_calls"], f[b"failed_calls"])
    return out


def test_commandstats_count_failures_across_shards(diff):
    # Errors from commands whose keys span shards count as failed calls, as
    # single-shard ones do; arity errors are rejected calls. Keys k0..k9 put
    # each command's keys on both shards.
    keys = ["cs%d" % i for i in range(10)]
    diff.both("LPUSH", keys[3], "x")
    diff.both("CONFIG", "RESETSTAT")
    for cmd in [("MSET", *keys[:5]), ("MSET", keys[0]), ("MSET", *keys[:4]),
                ("SUNIONSTORE", keys[0], *keys[1:5]), ("RENAME", "nosuch", keys[1]),
                ("MGET", *keys), ("DEL", *keys[5:]), ("GET", keys[3]), ("EXISTS", *keys)]:
        diff.check(*cmd)
    diff.check_many([("MULTI",), ("MSET", keys[0]), ("EXEC",)])
    # Inside EXEC: multi-shard commands (keys on both shards, or every
    # shard) that succeed and that fail.
    diff.check_many([("MULTI",), ("MSET", *keys[:4]), ("MGET", *keys), ("DBSIZE",),
                     ("SUNIONSTORE", keys[0], *keys[1:5]), ("DEL", *keys[6:]), ("EXEC",)])
    # Bad arguments found while finding keys or routing are failed calls;
    # a container without a subcommand is a rejected call of its own.
    diff.check_many([("SCAN", "x"), ("SINTERCARD", "0", "a"), ("SINTERCARD", "x", "a"),
                     ("CONFIG",), ("CLIENT",), ("OBJECT",)])
    assert _call_counts(diff.pconn) == _call_counts(diff.rconn)


def _error_counts(conn):
    """(INFO errorstats fields, total_error_replies)."""
    errs = info_sections(parse(conn.call("INFO", "errorstats")))["Errorstats"]
    stats = info_sections(parse(conn.call("INFO", "stats")))["Stats"]
    return errs, stats[b"total_error_replies"]


def test_errorstats(diff):
    # Every error reply counts under its code (the first word): errors of
    # single- and multi-shard commands, of commands inside EXEC, rejected
    # commands, errors while queueing, EXECABORT, EXEC without MULTI and a
    # protocol error. The command statistics of the same run must agree too.
    keys = ["es%d" % i for i in range(10)]
    diff.both("DEL", *keys)
    diff.both("LPUSH", keys[0], "x")
    diff.both("CONFIG", "RESETSTAT")
    assert _error_counts(diff.pconn) == _error_counts(diff.rconn) == ({}, b"0")
    diff.check_many([
        ("GET", keys[0]), ("INCR", keys[0]), ("NOSUCHCMD", "a"), ("GET",), ("CLIENT", "NOSUCH"),
        ("SET", keys[1], "v", "XX", "NX"), ("SELECT", "99"), ("RENAME", "nosuch", keys[1]),
        ("SUNIONSTORE", keys[2], keys[0], *keys[3:8]), ("MSET", keys[0]), ("EXEC",),
        ("DISCARD",), ("OBJECT", "FREQ", keys[0]),
        ("MULTI",), ("WATCH", "x"), ("SET", keys[3]), ("NOSUCHCMD",), ("EXEC",),
        ("MULTI",), ("INCR", keys[0]), ("RENAME", "nosuch", keys[4]),
        ("SUNIONSTORE", keys[2], keys[0], *keys[3:8]), ("MSET", *keys[4:8]), ("GET", keys[1]),
        ("EXEC",),
    ])
    diff.raw(b"*abc\r\n")
    perr, rerr = _error_counts(diff.pconn), _error_counts(diff.rconn)
    assert perr == rerr
    assert list(perr[0]) == list(rerr[0])  # the codes in the same (byte) order
    assert rerr[0][b"errorstat_WRONGTYPE"] == b"count=5" and int(rerr[1]) >= 15, rerr
    assert _call_counts(diff.pconn) == _call_counts(diff.rconn)
    diff.both("CONFIG", "RESETSTAT")
    assert _error_counts(diff.pconn) == _error_counts(diff.rconn) == ({}, b"0")


NET_FIELDS = (b"total_net_input_bytes", b"total_net_output_bytes", b"total_reads_processed",
              b"total_writes_processed")


def test_info_network_counters(diff):
    # After CONFIG RESETSTAT both count the same bytes, reads and writes for
    # the same exchange: the RESETSTAT reply, SET, GET and the INFO request.
    p, r = diff.pair()
    got = []
    for conn in (p, r):
        assert conn.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
        conn.call("SET", "netk", "v" * 100)
        conn.call("GET", "netk")
        stats = info_sections(parse(conn.call("INFO", "stats")))["Stats"]
        got.append({f: stats[f] for f in NET_FIELDS})
    assert got[0] == got[1]
    assert int(got[0][b"total_net_input_bytes"]) > 100 and got[0][b"total_writes_processed"] == b"3"


def _recent_max(port):
    with RespConn("127.0.0.1", port, timeout=10) as c:
        cl = info_sections(parse(c.call("INFO", "clients")))["Clients"]
    return (int(cl[b"client_recent_max_input_buffer"]),
            int(cl[b"client_recent_max_output_buffer"]))


def test_info_client_recent_max_buffers(diff):
    # The largest query buffer and pending output of any client over the
    # last seconds: a client that sent half of a 1 MB SET, and one that
    # pipelined 40 GETs of a 1 MB value without reading, show up in both
    # servers (each samples its clients about once a second).
    p, r = diff.pair()
    big = "x" * (1 << 20)
    got = []
    for conn, port in ((p, diff.percore_port), (r, diff.redis_port)):
        conn.call("SET", "bigval", big)
        half = socket.create_connection(("127.0.0.1", port))
        reader = socket.create_connection(("127.0.0.1", port))
        try:
            half.sendall(encode("SET", "halfk", big)[: 600 * 1024])
            reader.sendall(encode("GET", "bigval") * 40)
            deadline = time.time() + 10
            while time.time() < deadline:
                ib, ob = _recent_max(port)
                if ib >= 512 * 1024 and ob >= 1 << 20:
                    break
                time.sleep(0.2)
            got.append((ib, ob))
        finally:
            half.close()
            reader.close()
    for ib, ob in got:
        assert ib >= 512 * 1024 and ob >= 1 << 20, got


def test_info_instantaneous_ops(diff):
    # A burst of commands shows in instantaneous_ops_per_sec (an average of
    # the last 16 samples taken every 100 ms) and in the input and output
    # rates.
    p, _ = diff.pair()
    for _ in range(10):
        p.pipeline([("PING",)] * 2000)
    time.sleep(0.35)
    stats = info_sections(parse(p.call("INFO", "stats")))["Stats"]
    assert int(stats[b"instantaneous_ops_per_sec"]) > 0
    assert float(stats[b"instantaneous_input_kbps"]) > 0
    assert float(stats[b"instantaneous_output_kbps"]) > 0


def _latency_lines(conn):
    """{command: [(percentile name, value us)]} from INFO latencystats."""
    sec = info_sections(parse(conn.call("INFO", "latencystats")))["Latencystats"]
    out = {}
    for name, v in sec.items():
        assert name.startswith(b"latency_percentiles_usec_"), name
        fields = []
        for f in filter(None, v.split(b",")):
            m = re.fullmatch(rb"p([0-9.]+)=(\d+\.\d{3})", f)
            assert m, v
            fields.append((m.group(1), float(m.group(2))))
        out[name[len(b"latency_percentiles_usec_"):]] = fields
    return out


def test_info_latencystats(diff):
    # Each command called since CONFIG RESETSTAT has a latency line, with
    # the configured percentiles (named as CONFIG GET prints them) in
    # ascending order of value; rejected calls add none; latency-tracking no
    # lists none.
    keys = ["ls%d" % i for i in range(6)]
    try:
        for pcts in ("50 99 99.9", "0 33.333333333 100", ""):
            diff.check("CONFIG", "SET", "latency-tracking-info-percentiles", pcts)
            diff.both("CONFIG", "RESETSTAT")
            diff.check_many([("SET", keys[0], "v"), ("GET", keys[0]), ("GET",), ("MSET", *keys),
                             ("MULTI",), ("INCR", keys[1]), ("MGET", *keys), ("EXEC",),
                             ("HSET", "lsh", "f", "v")] + [("GET", k) for k in keys])
            p, r = _latency_lines(diff.pconn), _latency_lines(diff.rconn)
            assert sorted(p) == sorted(r), (p, r)
            for cmd, fields in p.items():
                assert [f[0] for f in fields] == [f[0] for f in r[cmd]]
                values = [f[1] for f in fields]
                assert values == sorted(values) if pcts != "" else values == [], (cmd, fields)
        # A blocking wait that times out is a call without a latency sample;
        # one served at once has its sample.
        diff.both("CONFIG", "RESETSTAT")
        diff.check("BLPOP", "lsnolist", "0.05")
        diff.both("RPUSH", "lslist", "x")
        p, r = _latency_lines(diff.pconn), _latency_lines(diff.rconn)
        assert sorted(p) == sorted(r) and b"blpop" not in p, (p, r)
        diff.check("BLPOP", "lslist", "0.05")
        p, r = _latency_lines(diff.pconn), _latency_lines(diff.rconn)
        assert sorted(p) == sorted(r) and b"blpop" in p, (p, r)
        assert _call_counts(diff.pconn)[b"cmdstat_blpop"] == _call_counts(diff.rconn)[b"cmdstat_blpop"]
        diff.check("CONFIG", "SET", "latency-tracking", "no")
        diff.both("SET", keys[0], "v")
        assert _latency_lines(diff.pconn) == _latency_lines(diff.rconn) == {}
    finally:
        diff.both("CONFIG", "SET", "latency-tracking", "yes")
        diff.both("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")


def test_info_resp3_verbatim(diff):
    diff.hello3()
    p, r = diff.both("INFO", "server")
    assert p.startswith(b"=") and p[p.index(b"\r\n") + 2:].startswith(b"txt:# Server\r\n")
    diff.check("INFO", "nosuchsection")


# ---------------------------------------------------------------- MONITOR


MONITOR_LINE = re.compile(rb"\+(\d+)\.(\d{6}) \[(\d+) 127\.0\.0\.1:(\d+)\] (.*)\r\n")


def _monitor_lines(port):
    m = RespConn(HOST, port)
    assert m.call("MONITOR") == b"+OK\r\n"
    with RespConn(HOST, port) as o:
        o.call("SET", "k", b'a b"\\\x01\xc3\xa9\r\n\t\x07\x08\x00')
        o.call("SELECT", "2")
        o.call("ECHO", "x")
        oport = o.sock.getsockname()[1]
    lines = []
    while len(lines) < 3:
        lines.append(m.read_reply())
    m.close()
    return lines, oport


def test_monitor_format(diff):
    plines, oport = _monitor_lines(diff.percore_port)
    rlines, _ = _monitor_lines(diff.redis_port)
    for pl, rl in zip(plines, rlines):
        pm, rm = MONITOR_LINE.fullmatch(pl), MONITOR_LINE.fullmatch(rl)
        assert pm and rm, (pl, rl)
        assert pm.group(3) == rm.group(3) and pm.group(5) == rm.group(5), (pl, rl)
        assert abs(int(pm.group(1)) - time.time()) < 10
    assert int(MONITOR_LINE.fullmatch(plines[0]).group(4)) == oport
    assert MONITOR_LINE.fullmatch(plines[0]).group(5) == rb'"SET" "k" "a b\"\\\x01\xc3\xa9\r\n\t\a\b\x00"'


def test_monitor_twice_and_flags(diff):
    p, r = diff.pair()
    assert p.call("MONITOR") == r.call("MONITOR") == b"+OK\r\n"
    # A second MONITOR gets no reply at all: the PING reply comes next.
    p.send("MONITOR")
    r.send("MONITOR")
    p.send("PING")
    r.send("PING")
    assert p.read_reply() == r.read_reply()
    pid = parse(diff.pconn.call("CLIENT", "LIST"))
    flags = [dict(client_fields(ln))[b"flags"] for ln in pid.split(b"\n")[:-1]]
    assert b"O" in flags


# ---------------------------------------------------------------- SHUTDOWN


def test_shutdown_errors(diff):
    diff.check_many([
        ("SHUTDOWN", "foo"), ("SHUTDOWN", "ABORT"), ("SHUTDOWN", "SAVE", "NOSAVE"),
        ("SHUTDOWN", "ABORT", "NOW"), ("SHUTDOWN", "NOSAVE", "x"),
    ])


def test_shutdown(server):
    s = server()
    with s.conn() as c:
        c.send("SHUTDOWN", "NOSAVE")
        assert wait_closed(c, 10)
    deadline = time.monotonic() + 10
    while s.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not s.alive()


# ---------------------------------------------------------------- DEBUG


def test_debug(diff, ref_server):
    ref = ref_server("--enable-debug-command", "yes")
    cmds = [
        ("SET", "k", "hello"), ("SET", "n", "123"),
        ("DEBUG", "SLEEP", "0"), ("DEBUG", "SLEEP", "x"), ("DEBUG", "SLEEP", "0.01"),
        ("DEBUG", "SET-ACTIVE-EXPIRE", "0"), ("DEBUG", "SET-ACTIVE-EXPIRE", "1"),
        ("DEBUG", "FOO"), ("DEBUG",), ("DEBUG", "OBJECT"), ("DEBUG", "SLEEP"),
        ("DEBUG", "OBJECT", "k", "x"), ("DEBUG", "OBJECT", "nokey"), ("DEBUG", "help"),
        ("DEBUG", "HELP", "x"),
    ]
    with RespConn(HOST, ref.port) as rc:
        for c in cmds:
            a, b = diff.pconn.call(*c), rc.call(*c)
            assert a == b, (c, a, b)
        obj = re.compile(rb"\+Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\w+) "
                         rb"serializedlength:(\d+) lru:(\d+) lru_seconds_idle:(\d+)\r\n")
        for key in ("k", "n"):
            a, b = diff.pconn.call("DEBUG", "OBJECT", key), rc.call("DEBUG", "OBJECT", key)
            ma, mb = obj.fullmatch(a), obj.fullmatch(b)
            assert ma and mb, (a, b)
            assert ma.group(1, 2, 3) == mb.group(1, 2, 3)


def test_debug_set_active_expire(diff):
    assert diff.pconn.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"+OK\r\n"
    try:
        for i in range(50):
            diff.pconn.call("SET", "k%d" % i, "v", "PX", "1")
        time.sleep(0.3)
        n = parse(diff.pconn.call("DBSIZE"))
        assert n == 50
    finally:
        assert diff.pconn.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"+OK\r\n"
    deadline = time.monotonic() + 5
    while parse(diff.pconn.call("DBSIZE")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert parse(diff.pconn.call("DBSIZE")) == 0


def test_debug_refused_by_default(server, ref_server):
    # Without enable-debug-command, DEBUG is refused as in Redis 7.0.
    p, r = server(), ref_server()
    with p.conn() as pc, r.conn() as rc:
        for cmd in [("DEBUG", "SLEEP", "0"), ("DEBUG", "HELP")]:
            assert pc.call(*cmd) == rc.call(*cmd)
        assert pc.call("DEBUG", "SLEEP", "0").startswith(b"-ERR DEBUG command not allowed.")


def test_debug_log_writes_marker(diff, server):
    s = server("--enable-debug-command", "yes")
    with s.conn() as c:
        assert c.call("DEBUG", "LOG", "marker-41729") == b"+OK\r\n"
        assert c.call("DEBUG", "LOG") == (
            b"-ERR unknown subcommand or wrong number of arguments for 'LOG'. Try DEBUG HELP.\r\n")
    assert "DEBUG LOG: marker-41729" in s.log()


def test_config_set_refuses_nul_bytes(diff):
    # percore keeps configuration values as text; a value with a NUL byte is
    # refused instead of being cut short (a password must never match a prefix).
    r = diff.pconn.call("CONFIG", "SET", "requirepass", b"abc\x00def")
    assert r.startswith(b"-ERR CONFIG SET failed (possibly related to argument 'requirepass')")
    assert diff.pconn.call("CONFIG", "GET", "requirepass") == b"*2\r\n$11\r\nrequirepass\r\n$0\r\n\r\n"


def test_info_memory_allocator_and_usage(diff):
    # mem_allocator names the malloc really serving the process (mimalloc in
    # the default build, the sanitizer's allocator in those builds).
    def memory():
        return info_sections(parse(diff.pconn.call("INFO", "memory")))["Memory"]
    libs = subprocess.run(["ldd", str(percore_bin())], stdout=subprocess.PIPE,
                          check=True).stdout.decode()
    want = (rb"asan" if "libasan" in libs else rb"tsan" if "libtsan" in libs else
            rb"mimalloc-\d+\.\d+\.\d+" if "libmimalloc" in libs else
            rb"jemalloc-.*" if "libjemalloc" in libs else rb"libc")
    assert re.fullmatch(want, memory()[b"mem_allocator"]), (want, memory()[b"mem_allocator"])
    # used_memory counts what is in use, not what the allocator keeps: it
    # grows by at least the values' bytes and gives most of it back when
    # the keys go.
    base = int(memory()[b"used_memory"])
    value = b"v" * 200
    for chunk in range(20):
        diff.pconn.pipeline([("SET", "mem:%d:%d" % (chunk, i), value) for i in range(1000)])
    loaded = int(memory()[b"used_memory"])
    assert loaded - base > 20000 * 200, (base, loaded)
    for chunk in range(20):
        diff.pconn.pipeline([("DEL", "mem:%d:%d" % (chunk, i)) for i in range(1000)])
    freed = int(memory()[b"used_memory"])
    assert freed - base < (loaded - base) / 2, (base, loaded, freed)


def _memory_stats(conn):
    """MEMORY STATS -> list of (name, value), nested maps as lists too."""
    def pairs(v):
        if isinstance(v, dict):
            v = [x for kv in v.items() for x in kv]
        return [(v[i], pairs(v[i + 1]) if isinstance(v[i + 1], (list, dict)) else v[i + 1])
                for i in range(0, len(v), 2)]
    return pairs(parse(conn.call("MEMORY", "STATS")))


def _shape(stats):
    """Names and wire types of MEMORY STATS, nested maps included."""
    return [(k, _shape(v) if isinstance(v, list) else type(v).__name__) for k, v in stats]


@pytest.mark.parametrize("proto", [2, 3])
def test_memory_stats_shape_and_figures(diff, proto):
    if proto == 3:
        diff.hello3()
    diff.check("FLUSHALL")
    for db in (0, 3):
        diff.check("SELECT", db)
        diff.check_many([("SET", "ms:%d" % i, "v" * (i % 60)) for i in range(300)])
        diff.check_many([("EXPIRE", "ms:%d" % i, 1000) for i in range(0, 300, 3)])
    diff.check("SELECT", 0)
    ps, rs = _memory_stats(diff.pconn), _memory_stats(diff.rconn)
    # The same names in the same order, the same types (RESP2: doubles as
    # bulk strings, RESP3: as doubles), a db.N map for each non-empty database.
    assert _shape(ps) == _shape(rs)
    assert [k for k, _ in ps if k.startswith(b"db.")] == [b"db.0", b"db.3"]
    for stats in (ps, rs):
        m = dict(stats)
        assert m[b"keys.count"] == 600
        net = m[b"total.allocated"] - m[b"startup.allocated"]
        assert m[b"keys.bytes-per-key"] == net // 600
        assert m[b"dataset.bytes"] == m[b"total.allocated"] - m[b"overhead.total"]
        assert 0 < m[b"startup.allocated"] <= m[b"overhead.total"] <= m[b"total.allocated"]
        for db in (b"db.0", b"db.3"):
            t = dict(m[db])
            # Both servers' tables: at least a bucket pointer per key and a
            # slot of 16 bytes per key with a TTL.
            assert t[b"overhead.hashtable.main"] >= 8 * 300, (db, t)
            assert t[b"overhead.hashtable.expires"] >= 16 * 100, (db, t)
            assert t[b"overhead.hashtable.slot-to-keys"] == 0
    # INFO's memory section carries the same figures.
    info = info_sections(parse(diff.pconn.call("INFO", "memory")))["Memory"]
    m = dict(_memory_stats(diff.pconn))
    assert int(info[b"used_memory_startup"]) == m[b"startup.allocated"]
    assert int(info[b"mem_clients_normal"]) > 0 and m[b"clients.normal"] > 0
    used, ovh = int(info[b"used_memory"]), int(info[b"used_memory_overhead"])
    assert int(info[b"used_memory_dataset"]) == used - ovh
    net = used - int(info[b"used_memory_startup"])
    assert info[b"used_memory_dataset_perc"] == b"%.2f%%" % ((used - ovh) * 100 / net)
    diff.check("FLUSHALL")
    assert not [k for k, _ in _memory_stats(diff.pconn) if k.startswith(b"db.")]


def test_memory_stats_counts_table_and_client_memory(diff):
    """The overheads follow the tables and the clients' buffers on both
    servers: a database's main table grows with its keys, its expires table
    with the keys that have a TTL, and a client holding half a big command
    counts its query buffer."""
    diff.check("SELECT", 5)
    diff.check("FLUSHDB")
    try:
        for conn in (diff.pconn, diff.rconn):
            conn.pipeline([("SET", "ov:%d" % i, i) for i in range(20000)])
        before = [dict(dict(_memory_stats(c))[b"db.5"]) for c in (diff.pconn, diff.rconn)]
        for conn in (diff.pconn, diff.rconn):
            conn.pipeline([("EXPIRE", "ov:%d" % i, 100) for i in range(20000)])
        after = [dict(dict(_memory_stats(c))[b"db.5"]) for c in (diff.pconn, diff.rconn)]
        for b, a in zip(before, after):
            assert b[b"overhead.hashtable.main"] >= 8 * 20000
            assert a[b"overhead.hashtable.expires"] - b[b"overhead.hashtable.expires"] >= 16 * 20000
        # Half a command with a 4 MB argument: its query buffer is client memory.
        for name, port, conn in (("percore", diff.percore_port, diff.pconn),
                                 ("redis", diff.redis_port, diff.rconn)):
            base = dict(_memory_stats(conn))[b"clients.normal"]
            with RespConn(HOST, port, timeout=10) as big:
                big.send_raw(b"*3\r\n$3\r\nSET\r\n$2\r\nqb\r\n$4194304\r\n" + b"x" * 3000000)
                grown = base
                for _ in range(50):  # Redis counts it in its client cron
                    time.sleep(0.1)
                    grown = dict(_memory_stats(conn))[b"clients.normal"]
                    if grown - base >= 3000000:
                        break
                assert grown - base >= 3000000, (name, base, grown)
    finally:
        diff.check("FLUSHDB")
        diff.check("SELECT", 0)


def test_memory_purge_and_malloc_stats(diff):
    diff.check("MEMORY", "PURGE")
    diff.check("MEMORY", "PURGE", "now")
    diff.check("MEMORY", "MALLOC-STATS", "x")
    p, r = diff.both("MEMORY", "MALLOC-STATS")
    # Each names its own allocator's report (or says it has none): a bulk.
    assert p.startswith(b"$") and r.startswith(b"$") and len(parse(p)) > 0
    diff.check("MEMORY", "STATS", "x")
    diff.check("PING")


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def test_memory_malloc_stats_under_jemalloc(tmp_path):
    """With jemalloc preloaded, MEMORY MALLOC-STATS is jemalloc's own report
    (as Redis, built with jemalloc, gives it) and the server keeps serving."""
    libs = subprocess.run(["ldd", str(percore_bin())], stdout=subprocess.PIPE,
                          check=True).stdout.decode()
    if "libasan" in libs or "libtsan" in libs or not os.path.exists(JEMALLOC):
        pytest.skip("needs a build without a sanitizer and libjemalloc2")
    port = free_port()
    env = dict(os.environ, LD_PRELOAD=JEMALLOC)
    proc = subprocess.Popen([str(percore_bin()), "--port", str(port), "--bind", HOST,
                             "--threads", "2", "--dir", str(tmp_path), "--save", ""],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_ping(HOST, port, 10.0)
        with RespConn(HOST, port, timeout=10) as c:
            info = info_sections(parse(c.call("INFO", "memory")))["Memory"]
            assert info[b"mem_allocator"].startswith(b"jemalloc-")
            report = parse(c.call("MEMORY", "MALLOC-STATS"))
            assert b"jemalloc statistics" in report and b"Allocated:" in report
            assert c.call("MEMORY", "PURGE") == b"+OK\r\n"
            assert c.call("PING") == b"+PONG\r\n"
    finally:
        proc.terminate()
        proc.wait(10)
