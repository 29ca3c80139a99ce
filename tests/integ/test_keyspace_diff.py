"""Differential tests of the keyspace commands (src/cmd/t_keyspace.c) against
redis-server 7.0: DEL UNLINK EXISTS TOUCH TYPE, the EXPIRE/TTL families,
PERSIST, KEYS SCAN RANDOMKEY DBSIZE, FLUSHDB FLUSHALL SWAPDB, RENAME RENAMENX
COPY MOVE, OBJECT and MEMORY.

Uses the `diff` fixture of conftest.py: check() compares raw reply bytes,
check_many() does so for a pipeline, both() runs setup on both servers, and
percore/redis are redis.Redis clients for replies that are random or
order-dependent (RANDOMKEY, SCAN, KEYS).

Keys are chosen in groups so that multi-key commands span several shards.
Every SELECT is undone in the same pipeline, so the connection stays on db 0.
"""
import re
import time

import pytest

FUTURE = 4102444800  # 2100-01-01, an absolute deadline in seconds



def keys_of(n, prefix="k"):
    return ["%s%d" % (prefix, i) for i in range(n)]


def in_db(dbi, *cmds):
    """A pipeline that runs cmds in db `dbi` and comes back to db 0."""
    return [["SELECT", str(dbi)]] + [list(c) for c in cmds] + [["SELECT", "0"]]


# --------------------------------------------------------------------------
# Arity


@pytest.mark.parametrize(
    "cmd",
    [
        ["DEL"], ["UNLINK"], ["EXISTS"], ["TOUCH"], ["TYPE"], ["TYPE", "a", "b"],
        ["EXPIRE", "a"], ["PEXPIRE", "a"], ["EXPIREAT", "a"], ["PEXPIREAT", "a"],
        ["TTL"], ["TTL", "a", "b"], ["PTTL"], ["EXPIRETIME"], ["PEXPIRETIME"],
        ["PERSIST"], ["PERSIST", "a", "b"], ["KEYS"], ["KEYS", "a", "b"], ["SCAN"],
        ["RANDOMKEY", "x"], ["DBSIZE", "x"], ["SWAPDB", "0"], ["SWAPDB", "0", "1", "2"],
        ["RENAME", "a"], ["RENAME", "a", "b", "c"], ["RENAMENX", "a"], ["COPY", "a"],
        ["MOVE", "a"], ["MOVE", "a", "1", "2"], ["OBJECT"], ["OBJECT", "ENCODING"],
        ["OBJECT", "REFCOUNT"], ["OBJECT", "IDLETIME", "a", "b"], ["OBJECT", "FREQ"],
        ["OBJECT", "HELP", "x"], ["MEMORY"], ["MEMORY", "USAGE"], ["MEMORY", "HELP", "x"],
    ],
)
def test_wrong_arity(diff, cmd):
    diff.check(*cmd)


def test_unknown_subcommands(diff):
    diff.check("OBJECT", "FOO", "a")
    diff.check("MEMORY", "FOO")


# --------------------------------------------------------------------------
# DEL UNLINK EXISTS TOUCH TYPE


def test_del_unlink_across_shards(diff):
    ks = keys_of(20)
    for k in ks:
        diff.both("SET", k, "v")
    diff.check("DEL", *ks[:10], "missing", ks[0])
    diff.check("EXISTS", *ks)
    diff.check("UNLINK", *ks[5:], "missing")
    diff.check("EXISTS", *ks)
    diff.check("DBSIZE")
    diff.check("DEL", "nothing")
    diff.check("UNLINK", "nothing", "again")


def test_exists_counts_repeats(diff):
    ks = keys_of(8)
    for k in ks[:4]:
        diff.both("SET", k, "v")
    diff.check("EXISTS", ks[0], ks[0], ks[0])
    diff.check("EXISTS", *ks, *ks)
    diff.check("EXISTS", "nope")


def test_touch(diff):
    ks = keys_of(8)
    for k in ks[:5]:
        diff.both("SET", k, "v")
    diff.check("TOUCH", *ks)
    diff.check("TOUCH", ks[0], ks[0], "zz")
    diff.check("TOUCH", "zz")


def test_del_single_key_repeated(diff):
    diff.both("SET", "a", "1")
    diff.check("DEL", "a", "a")
    diff.check("EXISTS", "a")


def test_type(diff):
    diff.both("SET", "s", "v")
    diff.both("SET", "n", "12")
    diff.check("TYPE", "s")
    diff.check("TYPE", "n")
    diff.check("TYPE", "missing")


def test_type_of_other_types(diff):
    diff.both("RPUSH", "l", "a")
    diff.both("SADD", "st", "a")
    diff.both("HSET", "h", "f", "v")
    diff.both("ZADD", "z", "1", "a")
    diff.check_many([["TYPE", "l"], ["TYPE", "st"], ["TYPE", "h"], ["TYPE", "z"]])


def test_binary_keys(diff):
    ks = [b"\x00", b"a\x00b", b"\xff\xfe", b"\r\n", b"sp ace", b"*", b"[x]"]
    for k in ks:
        diff.both("SET", k, b"v\x00")
    diff.check("EXISTS", *ks)
    diff.check("TYPE", b"a\x00b")
    diff.check("EXPIRE", b"a\x00b", "100")
    diff.check("TTL", b"a\x00b")
    diff.check("RENAME", b"\x00", b"\x00\x00")
    diff.check("GET", b"\x00\x00")
    diff.check("COPY", b"\xff\xfe", b"\xff\xff")
    diff.check("GET", b"\xff\xff")
    diff.check("KEYS", b"a\x00b")
    diff.check("KEYS", b"\\*")
    diff.check("DEL", *ks, b"\x00\x00", b"\xff\xff")
    diff.check("DBSIZE")


# --------------------------------------------------------------------------
# EXPIRE family


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_option_errors(diff, cmd):
    diff.both("SET", "a", "1")
    diff.check(cmd, "a", "100", "NX", "XX")
    diff.check(cmd, "a", "100", "nx", "gt")
    diff.check(cmd, "a", "100", "NX", "LT")
    diff.check(cmd, "a", "100", "GT", "LT")
    diff.check(cmd, "a", "100", "xx", "gt", "lt")
    diff.check(cmd, "a", "100", "FOO")
    diff.check(cmd, "a", "100", "NX", "FOO")
    diff.check(cmd, "a", "notanumber")
    diff.check(cmd, "a", "1.5")
    diff.check(cmd, "a", "")
    # options are checked before the number
    diff.check(cmd, "a", "notanumber", "BAR")
    diff.check(cmd, "missing", "100")
    diff.check("TTL", "a")


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_overflow(diff, cmd):
    diff.both("SET", "a", "1")
    for v in ["9223372036854775807", "9223372036854775", "92233720368547758",
              "-9223372036854775808", "9223372036854775806", "-9223372036854775"]:
        diff.check(cmd, "a", v)
        diff.both("SET", "a", "1")
    # overflow is detected before the key is looked up
    diff.check(cmd, "missing", "9223372036854775807")


def test_expire_nx_xx_gt_lt(diff):
    diff.both("SET", "a", "1")
    diff.check_many([
        ["EXPIRE", "a", "100", "XX"],
        ["EXPIRE", "a", "100", "GT"],
        ["EXPIRE", "a", "100", "LT"],
        ["TTL", "a"],
        ["EXPIRE", "a", "50", "GT"],
        ["EXPIRE", "a", "200", "GT"],
        ["TTL", "a"],
        ["EXPIRE", "a", "300", "NX"],
        ["EXPIRE", "a", "300", "XX"],
        ["TTL", "a"],
        ["EXPIRE", "a", "400", "LT"],
        ["EXPIRE", "a", "100", "lt"],
        ["TTL", "a"],
        ["PERSIST", "a"],
        ["EXPIRE", "a", "300", "xx"],
        ["EXPIRE", "a", "300", "nx"],
        ["TTL", "a"],
        ["EXPIRE", "a", "100", "nx", "nx"],
        ["EXPIRE", "a", "100", "gt", "gt"],
        ["EXPIRE", "a", "100", "xx", "gt"],
        ["TTL", "a"],
    ])


def test_expire_in_the_past_deletes(diff):
    for cmd, arg in [("EXPIRE", "0"), ("EXPIRE", "-5"), ("PEXPIRE", "-1"),
                     ("EXPIREAT", "1"), ("PEXPIREAT", "1"), ("EXPIREAT", "0")]:
        diff.both("SET", "a", "1")
        diff.check(cmd, "a", arg)
        diff.check("EXISTS", "a")
        diff.check("TTL", "a")
    # GT with a past deadline on a key without TTL: refused, key stays
    diff.both("SET", "a", "1")
    diff.check("EXPIRE", "a", "-1", "GT")
    diff.check("EXISTS", "a")
    # LT with a past deadline on a key without TTL: applies, key goes
    diff.check("EXPIRE", "a", "-1", "LT")
    diff.check("EXISTS", "a")


def test_ttl_family(diff):
    diff.both("SET", "nottl", "1")
    diff.both("SET", "ttl", "1")
    diff.both("EXPIREAT", "ttl", str(FUTURE))
    diff.both("SET", "pttl", "1")
    diff.both("PEXPIREAT", "pttl", str(FUTURE * 1000 + 499))
    diff.both("SET", "pttl2", "1")
    diff.both("PEXPIREAT", "pttl2", str(FUTURE * 1000 + 500))
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]:
        diff.check(cmd, "missing")
        diff.check(cmd, "nottl")
    for k in ["ttl", "pttl", "pttl2"]:
        diff.check("EXPIRETIME", k)
        diff.check("PEXPIRETIME", k)
    diff.both("SET", "rel", "1")
    diff.both("EXPIRE", "rel", "1000")
    diff.check("TTL", "rel")
    pttl = diff.percore.pttl("rel")
    assert 990000 < pttl <= 1000000


def test_expire_then_set_clears_ttl(diff):
    diff.both("SET", "a", "1")
    diff.both("EXPIRE", "a", "100")
    diff.both("SET", "a", "2")
    diff.check("TTL", "a")


def test_persist(diff):
    diff.both("SET", "a", "1")
    diff.check("PERSIST", "a")
    diff.check("PERSIST", "missing")
    diff.both("EXPIRE", "a", "100")
    diff.check("PERSIST", "a")
    diff.check("TTL", "a")
    diff.check("PERSIST", "a")


def test_lazy_expiry(diff):
    diff.both("SET", "a", "1", "PX", "50")
    time.sleep(0.15)
    diff.check_many([["EXISTS", "a"], ["TTL", "a"], ["TYPE", "a"], ["GET", "a"],
                     ["PERSIST", "a"], ["EXPIRE", "a", "10"]])


def test_active_expiry(diff):
    ks = keys_of(200, "ax")
    for k in ks:
        diff.both("SET", k, "v", "PX", "50")
    diff.both("SET", "stay", "v")
    time.sleep(1.5)
    # nobody touched the keys: only the active cycle can have removed them
    diff.check("DBSIZE")


def _expire_stats(conn):
    text = conn.call("INFO", "stats").decode()
    return {k: float(v) for k, v in re.findall(r"(expired_keys|expired_stale_perc|"
                                               r"expire_cycle_cpu_milliseconds):([0-9.]+)", text)}


def test_active_expiry_statistics(diff):
    # The cycle's INFO figures: keys it reaped, and the moving average of
    # the share of sampled keys found expired, which a mass expiry raises
    # (in both servers). CONFIG RESETSTAT zeroes them.
    diff.both("CONFIG", "RESETSTAT")
    n = 20000
    for conn in (diff.pconn, diff.rconn):
        conn.pipeline([("SET", "st%d" % i, "v", "PX", "30") for i in range(n)])
    deadline = time.time() + 10
    while time.time() < deadline and (diff.pconn.call("DBSIZE") != b":0\r\n" or
                                      diff.rconn.call("DBSIZE") != b":0\r\n"):
        time.sleep(0.1)
    p, r = _expire_stats(diff.pconn), _expire_stats(diff.rconn)
    assert p["expired_keys"] == r["expired_keys"] == n, (p, r)
    assert p["expired_stale_perc"] > 0 and r["expired_stale_perc"] > 0, (p, r)
    diff.both("CONFIG", "RESETSTAT")
    p = _expire_stats(diff.pconn)
    assert p["expired_keys"] == 0 and p["expire_cycle_cpu_milliseconds"] == 0, p


def _avg_ttl(conn, db=0):
    line = [l for l in conn.call("INFO", "keyspace").split(b"\r\n")
            if l.startswith(b"db%d:" % db)]
    return int(line[0].split(b"avg_ttl=")[1]) if line else None


def test_info_avg_ttl(diff):
    # INFO keyspace avg_ttl is Redis's running estimate, made by the active
    # cycle from the keys it samples: keys with ~1000 s left read close to
    # 1000000 ms in both servers once a cycle ran; 0 again when no key has
    # a TTL.
    for conn in (diff.pconn, diff.rconn):
        conn.pipeline([("SET", "t%d" % i, "v", "EX", "1000") for i in range(300)])
        conn.call("SET", "plain", "v")
    deadline = time.time() + 10
    while time.time() < deadline and (not _avg_ttl(diff.pconn) or not _avg_ttl(diff.rconn)):
        time.sleep(0.1)
    p, r = _avg_ttl(diff.pconn), _avg_ttl(diff.rconn)
    assert 980000 <= p <= 1000000 and 980000 <= r <= 1000000, (p, r)
    for conn in (diff.pconn, diff.rconn):
        conn.pipeline([("PERSIST", "t%d" % i) for i in range(300)])
    deadline = time.time() + 10
    while time.time() < deadline and (_avg_ttl(diff.pconn) or _avg_ttl(diff.rconn)):
        time.sleep(0.1)
    assert _avg_ttl(diff.pconn) == _avg_ttl(diff.rconn) == 0


# --------------------------------------------------------------------------
# KEYS SCAN RANDOMKEY DBSIZE


def test_keys(diff):
    for k in keys_of(50, "user:") + keys_of(30, "item:") + ["h?llo", "hello", "hallo", "hxllo"]:
        diff.both("SET", k, "v")
    for pat in ["*", "user:*", "item:1*", "h?llo", "h[ae]llo", "h[^e]llo", "h\\?llo",
                "nomatch*", "*:2?", "[a-h]*"]:
        a = sorted(diff.percore.keys(pat))
        b = sorted(diff.redis.keys(pat))
        assert a == b, pat
    diff.check("KEYS", "item:7")
    diff.check("KEYS", "nomatch*")


def test_keys_skips_expired(diff):
    diff.both("SET", "live", "v")
    diff.both("SET", "dead", "v", "PX", "20")
    diff.both("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        time.sleep(0.1)
        diff.check("KEYS", "*")
    finally:
        diff.both("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_dbsize_and_randomkey(diff):
    diff.check("DBSIZE")
    diff.check("RANDOMKEY")
    ks = keys_of(40)
    for k in ks:
        diff.both("SET", k, "v")
    diff.check("DBSIZE")
    seen = set()
    for _ in range(200):
        k = diff.percore.randomkey().decode()
        assert k in ks
        seen.add(k)
    assert len(seen) > 10
    diff.both("FLUSHDB")
    diff.check("RANDOMKEY")


def scan_all(client, **kw):
    out = []
    cursor = 0
    rounds = 0
    while True:
        cursor, batch = client.scan(cursor, **kw)
        out.extend(batch)
        rounds += 1
        assert rounds < 100000
        if cursor == 0:
            return out


def test_scan_full_iteration(diff):
    ks = keys_of(500, "s:") + keys_of(100, "t:")
    for k in ks:
        diff.both("SET", k, "v")
    want = {k.encode() for k in ks}
    assert set(scan_all(diff.percore)) == want
    for count in [1, 7, 100, 1000]:
        assert set(scan_all(diff.percore, count=count)) == want
    got = scan_all(diff.percore, match="t:*", count=50)
    assert set(got) == {k.encode() for k in keys_of(100, "t:")}
    assert set(scan_all(diff.percore, match="s:1?")) == {("s:1%d" % i).encode() for i in range(10)}
    assert set(scan_all(diff.percore, _type="string", match="t:9*")) == \
        {k.encode() for k in keys_of(100, "t:") if k.startswith("t:9")}
    assert set(scan_all(diff.percore, _type="STRING")) == want
    assert scan_all(diff.percore, _type="hash") == []
    assert scan_all(diff.percore, _type="nosuchtype") == []


def test_scan_type_filter_other_types(diff):
    for k in keys_of(50, "s:"):
        diff.both("SET", k, "v")
    for l in keys_of(20, "l:"):
        diff.both("RPUSH", l, "x")
    assert set(scan_all(diff.percore, _type="list")) == {k.encode() for k in keys_of(20, "l:")}
    assert set(scan_all(diff.percore, _type="LIST")) == {k.encode() for k in keys_of(20, "l:")}


def test_scan_small_keyspace(diff):
    # percore's cursor also names a shard, so an empty or tiny keyspace may
    # take several calls to finish: compare what a full scan returns.
    assert scan_all(diff.percore) == []
    assert scan_all(diff.percore, count=100) == []
    diff.both("SET", "only", "v")
    assert scan_all(diff.percore, count=100) == [b"only"]
    assert scan_all(diff.percore, match="nothing*", count=100) == []
    assert scan_all(diff.percore, _type="hash", count=100) == []
    cursor, batch = diff.percore.scan(0)
    assert isinstance(cursor, int) and cursor >= 0


def test_scan_errors(diff):
    for cur in ["abc", "1x", " 1", "18446744073709551616", "99999999999999999999999"]:
        diff.check("SCAN", cur)
    diff.check("SCAN", "0", "COUNT", "0")
    diff.check("SCAN", "0", "COUNT", "-1")
    diff.check("SCAN", "0", "COUNT", "x")
    diff.check("SCAN", "0", "MATCH")
    diff.check("SCAN", "0", "TYPE")
    diff.check("SCAN", "0", "COUNT")
    diff.check("SCAN", "0", "FOO", "bar")
    diff.check("SCAN", "abc", "COUNT", "0")


def test_scan_any_cursor_terminates(diff):
    # Any well-formed cursor is accepted and a scan from it ends.
    for k in keys_of(50):
        diff.both("SET", k, "v")
    for cur in ["18446744073709551615", "-1", "+0", "12345", "7"]:
        rounds = 0
        c = cur
        while True:
            reply = diff.percore.execute_command("SCAN", c)
            c = reply[0]
            rounds += 1
            assert rounds < 10000
            if int(c) == 0:
                break


# --------------------------------------------------------------------------
# FLUSHDB FLUSHALL SWAPDB


def test_flush(diff):
    for k in keys_of(30):
        diff.both("SET", k, "v")
    diff.both("COPY", "k1", "k1", "DB", "2")
    diff.check("FLUSHDB", "X")
    diff.check("FLUSHDB", "ASYNC", "SYNC")
    diff.check("FLUSHALL", "NOW")
    diff.check("FLUSHDB", "sync")
    diff.check("DBSIZE")
    diff.check_many(in_db(2, ["DBSIZE"]))
    diff.check("FLUSHALL", "ASYNC")
    diff.check_many(in_db(2, ["DBSIZE"]))
    for k in keys_of(30):
        diff.both("SET", k, "v")
    diff.check("FLUSHALL", "SYNC")
    diff.check("DBSIZE")
    diff.check("FLUSHALL")
    diff.check("FLUSHDB", "async")


def test_swapdb(diff):
    for k in keys_of(20, "a"):
        diff.both("SET", k, "db0")
    diff.both("SET", "x", "1")
    diff.both("MOVE", "x", "1")
    diff.check("SWAPDB", "0", "1")
    diff.check("DBSIZE")
    diff.check("GET", "x")
    diff.check_many(in_db(1, ["DBSIZE"], ["GET", "a3"], ["EXISTS", "x"]))
    diff.check("SWAPDB", "1", "0")
    diff.check("DBSIZE")
    diff.check("SWAPDB", "0", "0")
    diff.check("SWAPDB", "3", "4")
    diff.check("DBSIZE")


@pytest.mark.parametrize("a,b", [("x", "0"), ("0", "x"), ("x", "y"), ("0", "16"), ("-1", "0"),
                                 ("0", "99999999999"), ("99999999999", "0"), ("1.0", "0"),
                                 ("0", "")])
def test_swapdb_errors(diff, a, b):
    diff.check("SWAPDB", a, b)


# --------------------------------------------------------------------------
# RENAME RENAMENX COPY MOVE


def test_rename_basic(diff):
    diff.both("SET", "a", "1")
    diff.check("RENAME", "a", "a")
    diff.check("RENAMENX", "a", "a")
    diff.check("RENAME", "missing", "a")
    diff.check("RENAMENX", "missing", "a")
    diff.check("RENAME", "missing", "missing")
    diff.check("RENAMENX", "missing", "missing")


def test_rename_across_shards(diff):
    # Many pairs, so some source and destination keys sit on different shards.
    for i in range(30):
        src, dst = "src%d" % i, "dst%d" % i
        diff.both("SET", src, "v%d" % i)
        if i % 2:
            diff.both("EXPIREAT", src, str(FUTURE + i))
        if i % 3 == 0:
            diff.both("SET", dst, "old")
            diff.both("EXPIREAT", dst, str(FUTURE + 1000))
        diff.check("RENAME", src, dst)
        diff.check_many([["EXISTS", src], ["GET", dst], ["EXPIRETIME", dst]])


def test_renamenx_across_shards(diff):
    for i in range(30):
        src, dst = "src%d" % i, "dst%d" % i
        diff.both("SET", src, "v%d" % i)
        diff.both("EXPIREAT", src, str(FUTURE + i))
        if i % 2:
            diff.both("SET", dst, "old")
        diff.check("RENAMENX", src, dst)
        diff.check_many([["GET", src], ["GET", dst], ["EXPIRETIME", dst], ["EXPIRETIME", src]])
        diff.check("RENAMENX", "nosrc%d" % i, dst)


def test_rename_preserves_type(diff):
    diff.both("RPUSH", "l", "a", "b")
    diff.check("RENAME", "l", "l2")
    diff.check("TYPE", "l2")
    diff.check("LRANGE", "l2", "0", "-1")


def test_copy(diff):
    diff.both("SET", "a", "hello")
    diff.both("EXPIREAT", "a", str(FUTURE))
    diff.check_many([
        ["COPY", "a", "a"],
        ["COPY", "a", "a", "DB", "0"],
        ["COPY", "a", "b"],
        ["GET", "b"],
        ["EXPIRETIME", "b"],
        ["COPY", "a", "b"],
        ["SET", "b", "other"],
        ["COPY", "a", "b", "REPLACE"],
        ["GET", "b"],
        ["EXPIRETIME", "b"],
        ["COPY", "a", "a", "DB", "1"],
        ["COPY", "a", "c", "DB", "2", "REPLACE"],
        ["COPY", "missing", "z"],
        ["COPY", "missing", "missing"],
        ["COPY", "a", "b", "DB"],
        ["COPY", "a", "b", "DB", "x"],
        ["COPY", "a", "b", "DB", "16"],
        ["COPY", "a", "b", "DB", "-1"],
        ["COPY", "a", "b", "DB", "99999999999"],
        ["COPY", "a", "b", "FOO"],
        ["COPY", "a", "b", "REPLACE", "DB"],
        ["COPY", "a", "b", "DB", "99", "FOO"],
        ["COPY", "a", "b", "FOO", "DB", "99"],
    ])
    diff.check_many(in_db(1, ["GET", "a"], ["EXPIRETIME", "a"]))
    diff.check_many(in_db(2, ["GET", "c"], ["EXPIRETIME", "c"]))


def test_copy_across_shards(diff):
    for i in range(30):
        src, dst = "csrc%d" % i, "cdst%d" % i
        diff.both("SET", src, "v%d" % i)
        if i % 2:
            diff.both("EXPIREAT", src, str(FUTURE + i))
        if i % 3 == 0:
            diff.both("SET", dst, "old")
        diff.check("COPY", src, dst)
        diff.check("COPY", src, dst, "REPLACE")
        diff.check("COPY", src, dst, "DB", "3")
        diff.check("COPY", src, dst, "DB", "16")
        diff.check("COPY", "nosrc%d" % i, dst)
        diff.check_many([["GET", src], ["GET", dst], ["EXPIRETIME", dst]])
        diff.check_many(in_db(3, ["GET", dst], ["EXPIRETIME", dst]))


def test_copy_is_deep(diff):
    diff.both("RPUSH", "l", "a")
    diff.check("COPY", "l", "l2")
    diff.both("RPUSH", "l2", "b")
    diff.check("LRANGE", "l", "0", "-1")
    diff.check("LRANGE", "l2", "0", "-1")
    diff.both("SET", "s", "x" * 100)
    diff.check("COPY", "s", "s2")
    diff.both("APPEND", "s2", "y")
    diff.check("GET", "s")


def test_move(diff):
    diff.both("SET", "a", "1")
    diff.both("EXPIREAT", "a", str(FUTURE))
    diff.check_many([
        ["MOVE", "a", "0"],
        ["MOVE", "a", "x"],
        ["MOVE", "a", "16"],
        ["MOVE", "a", "-1"],
        ["MOVE", "a", "99999999999"],
        ["MOVE", "missing", "1"],
        ["MOVE", "a", "1"],
        ["EXISTS", "a"],
        ["MOVE", "a", "1"],
    ])
    diff.check_many(in_db(1, ["GET", "a"], ["EXPIRETIME", "a"], ["MOVE", "a", "1"]))
    diff.both("SET", "a", "again")
    diff.check("MOVE", "a", "1")
    diff.check_many(in_db(1, ["GET", "a"]))


# --------------------------------------------------------------------------
# OBJECT and MEMORY


def test_object(diff):
    diff.both("SET", "int", "5")
    diff.both("SET", "bigint", "123456")
    diff.both("SET", "neg", "-1")
    diff.both("SET", "emb", "hello")
    diff.both("SET", "raw", "x" * 100)
    for k in ["int", "bigint", "neg", "emb", "raw", "missing"]:
        diff.check("OBJECT", "ENCODING", k)
        diff.check("OBJECT", "REFCOUNT", k)
    diff.check("OBJECT", "IDLETIME", "emb")
    diff.check("OBJECT", "IDLETIME", "missing")
    diff.check("OBJECT", "FREQ", "emb")
    diff.check("OBJECT", "FREQ", "missing")
    diff.check("OBJECT", "HELP")
    diff.check("object", "help")


def test_object_encoding_other_types(diff):
    diff.both("RPUSH", "l", "a")
    diff.both("SADD", "si", "1", "2")
    diff.both("SADD", "ss", "a")
    diff.both("HSET", "h", "f", "v")
    diff.both("ZADD", "z", "1", "a")
    for k in ["l", "si", "ss", "h", "z"]:
        diff.check("OBJECT", "ENCODING", k)


def test_memory(diff):
    diff.both("SET", "int", "5")
    diff.both("SET", "emb", "hello")
    diff.both("SET", "raw", "x" * 100)
    diff.both("SET", "k" * 40, "hello")
    diff.both("SET", "k" * 300, "v")
    for k in ["int", "emb", "raw", "k" * 40, "k" * 300, "missing"]:
        diff.check("MEMORY", "USAGE", k)
    diff.check_many([
        ["MEMORY", "USAGE", "emb", "SAMPLES", "0"],
        ["MEMORY", "USAGE", "emb", "SAMPLES", "5", "SAMPLES", "1"],
        ["MEMORY", "USAGE", "emb", "SAMPLES", "-1"],
        ["MEMORY", "USAGE", "emb", "SAMPLES", "x"],
        ["MEMORY", "USAGE", "emb", "SAMPLES"],
        ["MEMORY", "USAGE", "emb", "FOO", "1"],
        ["MEMORY", "USAGE", "missing", "SAMPLES", "x"],
        ["MEMORY", "HELP"],
    ])


# --------------------------------------------------------------------------
# RESP3


def test_resp3_replies(diff):
    diff.hello3()
    diff.check("RANDOMKEY")
    diff.check("KEYS", "*")
    diff.both("SET", "a", "hello")
    diff.check_many([
        ["RANDOMKEY"],
        ["KEYS", "*"],
        ["TYPE", "a"],
        ["OBJECT", "ENCODING", "missing"],
        ["OBJECT", "ENCODING", "a"],
        ["MEMORY", "USAGE", "missing"],
        ["TTL", "a"],
        ["OBJECT", "HELP"],
        ["EXISTS", "a", "b"],
    ])


def test_object_freq_and_idletime_follow_policy(diff):
    # Under an LRU policy FREQ is refused; under LFU the counter starts at 5
    # for a new key and IDLETIME is refused. Switching policies reinterprets
    # the access field, as Redis does.
    diff.check_many([
        ("SET", "k", "v"), ("OBJECT", "FREQ", "k"), ("OBJECT", "IDLETIME", "k"),
        ("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"),
        ("OBJECT", "IDLETIME", "k"), ("OBJECT", "FREQ", "k"), ("GET", "k"), ("OBJECT", "FREQ", "k"),
        ("SET", "n", "v"), ("OBJECT", "FREQ", "n"),
        ("CONFIG", "SET", "maxmemory-policy", "noeviction"),
    ])
    # The first hits on a fresh key always count (probability 1 below 5).
    for i in range(20):
        diff.both("GET", "n")
    diff.both("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    f = int(diff.pconn.call("OBJECT", "FREQ", "n")[1:-2])
    diff.both("CONFIG", "SET", "maxmemory-policy", "noeviction")
    assert 0 <= f <= 255


def test_lfu_counter_across_writes(diff):
    # Under LFU a write over a key takes over its counter after counting the
    # write's lookup (5 -> 6: below 6 every access counts), whatever form
    # the new value takes (shorter, longer, INT, past EMBSTR); RENAME and
    # MOVE keep the value's counter (the source lookup counted); COPY makes
    # a new key (5), even over an old one. INCR and INCRBYFLOAT count their
    # one lookup once. Keys r1..r9 make RENAME cross shards too. Integers
    # stay above 10000: below, redis-server shares one object among keys.
    big = "x" * 100
    diff.both("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    try:
        cmds = []
        for i, (first, second) in enumerate([("a", "b"), ("ab", "a" * 40), ("100000", "200000"),
                                             ("a", big), (big, "a"), ("30000", "1.5")]):
            k = "lfuw%d" % i
            cmds += [("SET", k, first), ("OBJECT", "FREQ", k), ("SET", k, second),
                     ("OBJECT", "FREQ", k), ("OBJECT", "ENCODING", k), ("GET", k)]
        for i in range(10):
            cmds += [("SET", "lfur%d" % i, "v"), ("RENAME", "lfur%d" % i, "r%d" % i),
                     ("OBJECT", "FREQ", "r%d" % i), ("GET", "r%d" % i)]
        cmds += [("SET", "lfum", "v"), ("MOVE", "lfum", "3"), ("SELECT", "3"),
                 ("OBJECT", "FREQ", "lfum"), ("FLUSHDB",), ("SELECT", "0")]
        for i in range(8):  # some pairs on one shard, some across
            cmds += [("SET", "lfuc%d" % i, "v"), ("SET", "lfud%d" % i, "old"),
                     ("COPY", "lfuc%d" % i, "lfud%d" % i, "REPLACE"),
                     ("OBJECT", "FREQ", "lfud%d" % i), ("OBJECT", "FREQ", "lfuc%d" % i)]
        cmds += [("SET", "lfui", "1000000"), ("INCR", "lfui"), ("OBJECT", "FREQ", "lfui"),
                 ("SET", "lfuf", "1.5"), ("INCRBYFLOAT", "lfuf", "1"), ("OBJECT", "FREQ", "lfuf"),
                 ("OBJECT", "ENCODING", "lfuf")]
        diff.check_many(cmds)
    finally:
        diff.both("CONFIG", "SET", "maxmemory-policy", "noeviction")


def test_short_strings_keep_their_ttl_when_they_grow(diff):
    # A short string outgrowing its first length (or replacing a long one)
    # is stored anew; SET ... KEEPTTL and INCRBYFLOAT keep the deadline,
    # plain SET drops it; RENAME/MOVE/COPY of short strings carry theirs.
    cmds = []
    for i, (first, second) in enumerate([("a", "a" * 30), ("x" * 100, "b"), ("12", "c" * 44)]):
        k = "grow%d" % i
        cmds += [("SET", k, first, "EX", "1000"), ("SET", k, second, "KEEPTTL"), ("TTL", k),
                 ("GET", k), ("STRLEN", k), ("OBJECT", "ENCODING", k),
                 ("SET", k, first), ("TTL", k), ("GET", k)]
    cmds += [("SET", "growf", "1", "EX", "1000"), ("INCRBYFLOAT", "growf", "0.25"),
             ("TTL", "growf"), ("OBJECT", "ENCODING", "growf"),
             ("INCRBYFLOAT", "growf", "1e20"), ("TTL", "growf"), ("GET", "growf")]
    for i in range(6):
        cmds += [("SET", "grr%d" % i, "v%d" % i, "EX", "1000"), ("RENAME", "grr%d" % i, "gr%d" % i),
                 ("TTL", "gr%d" % i), ("GET", "gr%d" % i), ("OBJECT", "ENCODING", "gr%d" % i),
                 ("COPY", "gr%d" % i, "gc%d" % i), ("TTL", "gc%d" % i), ("GET", "gc%d" % i),
                 ("SET", "gi%d" % i, str(100 + i)), ("RENAME", "gi%d" % i, "gj%d" % i),
                 ("OBJECT", "ENCODING", "gj%d" % i), ("GET", "gj%d" % i)]
    diff.check_many(cmds)


def test_lfu_counts_each_lookup(diff):
    # With lfu-log-factor 0 every access counts, so OBJECT FREQ tells how
    # many lookups a command made: SET over a key, GETSET, SET ... GET,
    # MSET naming a key twice, SUNIONSTORE and BITOP writing a source count
    # the read and the write's own lookup; INCR (in place or not),
    # INCRBYFLOAT, APPEND, SPOP with a count and SORT count one.
    diff.both("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    diff.both("CONFIG", "SET", "lfu-log-factor", "0")
    try:
        cmds = []
        writes = [
            [("SET", "c1", "v")],
            [("GETSET", "c1", "w")],
            [("SET", "c1", "x", "GET")],
            [("SET", "c1", "y", "NX", "GET")],
            [("MSET", "c1", "a", "c1", "b")],
            [("SET", "c1", "100000"), ("INCR", "c1")],
            [("SET", "c1", "12"), ("APPEND", "c1", "3"), ("INCR", "c1")],
            [("SET", "c1", "1.5"), ("INCRBYFLOAT", "c1", "2")],
            [("APPEND", "c1", "z")],
            [("SADD", "cs", "a"), ("SUNIONSTORE", "cs", "cs")],
            [("SET", "cb", "ab"), ("BITOP", "NOT", "cb", "cb")],
            [("ZADD", "cz", "2", "b", "1", "a"), ("SORT", "cz", "ALPHA")],
        ]
        for i, w in enumerate(writes):
            key = w[-1][1] if w[-1][0] != "BITOP" else "cb"
            if w[-1][0] == "SUNIONSTORE":
                key = "cs"
            cmds += [("DEL", "c1", "cs", "cb", "cz"), ("SET", "c1", "start")] + w
            cmds += [("OBJECT", "FREQ", key), ("OBJECT", "ENCODING", key)]
        diff.check_many(cmds)
        # SPOP of most of a set builds a new set of the rest in its place,
        # which keeps the count (the popped members are random).
        diff.both("SADD", "csp", *"abcdefghij")
        diff.both("SPOP", "csp", "9")
        diff.check_many([("OBJECT", "FREQ", "csp"), ("SCARD", "csp")])
    finally:
        diff.both("CONFIG", "SET", "lfu-log-factor", "10")
        diff.both("CONFIG", "SET", "maxmemory-policy", "noeviction")
