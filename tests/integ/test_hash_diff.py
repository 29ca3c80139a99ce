"""Differential tests of the hash commands (src/cmd/t_hash.c) against
redis-server 7.0: HSET HSETNX HGET HMGET HMSET HDEL HEXISTS HLEN HSTRLEN
HINCRBY HINCRBYFLOAT HKEYS HVALS HGETALL HSCAN HRANDFIELD, the listpack /
hashtable encodings and their thresholds (also after CONFIG SET), and hash
values moving through the keyspace commands (COPY RENAME MOVE TYPE SCAN
MEMORY DEL).

Uses the `diff` fixture of conftest.py: check() compares raw reply bytes,
check_many() does so for a pipeline, both() runs setup on both servers.
A listpack hash keeps insertion order in both servers, so its replies are
compared byte for byte; a hashtable's order is the table's, so those
replies are compared as sets after parsing. Random replies (HRANDFIELD) are
checked for their properties on each server.
"""
import time

import pytest

from respclient import ErrorReply, parse

BIN = b"a\x00b\xff\r\n"


def run_both(diff, *cmds):
    """Run setup commands on both servers (replies compared too)."""
    diff.check_many([list(c) for c in cmds])


def big_hash(diff, key, n, prefix="f"):
    """A hashtable-encoded hash of n fields f0..f{n-1} = v0..v{n-1}."""
    args = []
    for i in range(n):
        args += ["%s%d" % (prefix, i), "v%d" % i]
    for i in range(0, len(args), 200):
        diff.both("HSET", key, *args[i:i + 200])


def both_parsed(diff, *args):
    p, r = diff.both(*args)
    return parse(p), parse(r)


def raw_call(diff, *args):
    """One command on percore only, parsed (HSCAN keeps its flat list)."""
    diff.pconn.send(*args)
    return parse(diff.pconn.read_reply())


def pairs(flat):
    return {(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)}


# --------------------------------------------------------------------------
# Arity, wrong type


@pytest.mark.parametrize(
    "cmd",
    [
        ["HSET"], ["HSET", "h"], ["HSET", "h", "f"], ["HSET", "h", "f", "v", "g"],
        ["HMSET", "h", "f"], ["HMSET", "h", "f", "v", "g"], ["HSETNX", "h", "f"],
        ["HSETNX", "h", "f", "v", "x"], ["HGET", "h"], ["HGET", "h", "f", "g"], ["HMGET", "h"],
        ["HDEL", "h"], ["HEXISTS", "h"], ["HLEN"], ["HLEN", "h", "x"], ["HSTRLEN", "h"],
        ["HINCRBY", "h", "f"], ["HINCRBY", "h", "f", "1", "2"], ["HINCRBYFLOAT", "h", "f"],
        ["HKEYS"], ["HKEYS", "h", "x"], ["HVALS"], ["HGETALL"], ["HGETALL", "h", "x"],
        ["HSCAN", "h"], ["HRANDFIELD"],
    ],
)
def test_wrong_arity(diff, cmd):
    diff.check(*cmd)


def test_wrong_type(diff):
    diff.both("SET", "s", "x")
    diff.check_many([
        ["HSET", "s", "f", "v"], ["HMSET", "s", "f", "v"], ["HSETNX", "s", "f", "v"],
        ["HGET", "s", "f"], ["HMGET", "s", "f"], ["HDEL", "s", "f"], ["HEXISTS", "s", "f"],
        ["HLEN", "s"], ["HSTRLEN", "s", "f"], ["HINCRBY", "s", "f", "1"],
        ["HINCRBYFLOAT", "s", "f", "1"], ["HKEYS", "s"], ["HVALS", "s"], ["HGETALL", "s"],
        ["HSCAN", "s", "0"], ["HSCAN", "s", "0", "COUNT", "0"], ["HRANDFIELD", "s"],
        ["HRANDFIELD", "s", "0"], ["HRANDFIELD", "s", "3", "WITHVALUES"],
        ["GET", "s"],
    ])
    diff.both("HSET", "h", "f", "v")
    diff.check_many([["GET", "h"], ["INCR", "h"], ["APPEND", "h", "x"], ["TYPE", "h"]])


def test_hincr_errors_before_type_check(diff):
    """The increment is parsed before the key is looked up."""
    diff.both("SET", "s", "x")
    diff.check_many([
        ["HINCRBY", "s", "f", "x"], ["HINCRBYFLOAT", "s", "f", "x"],
        ["HINCRBYFLOAT", "s", "f", "inf"], ["HINCRBY", "missing", "f", "1.5"],
        ["EXISTS", "missing"],
    ])


# --------------------------------------------------------------------------
# HSET HMSET HSETNX HGET HMGET HDEL HLEN HSTRLEN HEXISTS


def test_hset_hget_basic(diff):
    diff.check_many([
        ["HSET", "h", "a", "1", "b", "2"], ["HSET", "h", "a", "10", "c", "3", "c", "4"],
        ["HGET", "h", "a"], ["HGET", "h", "c"], ["HGET", "h", "zz"], ["HGET", "nokey", "a"],
        ["HLEN", "h"], ["HLEN", "nokey"], ["HGETALL", "h"], ["HKEYS", "h"], ["HVALS", "h"],
        ["HMSET", "h", "d", "5"], ["HMSET", "h2", "x", "y", "z", "w"], ["HGETALL", "h2"],
        ["HMGET", "h", "a", "nope", "d", "a"], ["HMGET", "nokey", "a", "b"],
        ["TYPE", "h"], ["OBJECT", "ENCODING", "h"],
    ])


def test_binary_fields_and_values(diff):
    diff.check_many([
        ["HSET", BIN, BIN, BIN, b"", b"", b"\xff" * 3, b"\x00"],
        ["HGET", BIN, BIN], ["HGET", BIN, b""], ["HGET", BIN, b"\xff\xff\xff"],
        ["HSTRLEN", BIN, BIN], ["HSTRLEN", BIN, b""], ["HEXISTS", BIN, b""],
        ["HGETALL", BIN], ["HDEL", BIN, b""], ["HGETALL", BIN],
    ])


def test_integer_looking_values(diff):
    """Listpacks store canonical integers as integers; replies must still be
    the original digits."""
    vals = ["0", "-1", "123", "-9223372036854775808", "9223372036854775807",
            "9223372036854775808", "007", "+5", "1e3", " 1", "-0", "12345678901234567890"]
    cmds = [["HSET", "h"] + sum([["f%d" % i, v] for i, v in enumerate(vals)], [])]
    cmds += [["HGET", "h", "f%d" % i] for i in range(len(vals))]
    cmds += [["HSTRLEN", "h", "f%d" % i] for i in range(len(vals))]
    cmds += [["HSET", "h", "-5", "x", "17", "y"], ["HGETALL", "h"], ["HKEYS", "h"],
             ["HVALS", "h"], ["HMGET", "h", "-5", "17", "f3"], ["OBJECT", "ENCODING", "h"]]
    diff.check_many(cmds)


def test_hsetnx(diff):
    diff.check_many([
        ["HSETNX", "h", "f", "1"], ["HSETNX", "h", "f", "2"], ["HGET", "h", "f"],
        ["HSETNX", "h", "g", "3"], ["HGETALL", "h"], ["HSETNX", "h", "g", "x" * 100],
        ["OBJECT", "ENCODING", "h"], ["HSETNX", "h", "long", "x" * 100],
        ["OBJECT", "ENCODING", "h"], ["HGET", "h", "long"],
    ])


def test_hdel(diff):
    diff.check_many([
        ["HSET", "h", "a", "1", "b", "2", "c", "3"], ["HDEL", "h", "a", "a", "zz"],
        ["HGETALL", "h"], ["HDEL", "h", "nope"], ["HDEL", "nokey", "a"],
        ["HDEL", "h", "b", "c", "b"], ["EXISTS", "h"], ["TYPE", "h"], ["HLEN", "h"],
        ["HGETALL", "h"], ["HSET", "h", "x", "y"], ["HGETALL", "h"],
    ])


def test_hdel_empties_hashtable(diff):
    big_hash(diff, "h", 300)
    diff.check("OBJECT", "ENCODING", "h")
    for i in range(0, 300, 50):
        diff.check("HDEL", "h", *["f%d" % j for j in range(i, i + 50)], "nope")
        diff.check("HLEN", "h")
    diff.check("EXISTS", "h")


def test_hexists_hstrlen(diff):
    diff.check_many([
        ["HSET", "h", "a", "hello", "n", "-12345", "e", ""],
        ["HEXISTS", "h", "a"], ["HEXISTS", "h", "b"], ["HEXISTS", "nokey", "a"],
        ["HSTRLEN", "h", "a"], ["HSTRLEN", "h", "n"], ["HSTRLEN", "h", "e"],
        ["HSTRLEN", "h", "zz"], ["HSTRLEN", "nokey", "a"],
    ])


# --------------------------------------------------------------------------
# HINCRBY HINCRBYFLOAT


def test_hincrby(diff):
    diff.check_many([
        ["HINCRBY", "h", "n", "5"], ["HINCRBY", "h", "n", "-12"], ["HGET", "h", "n"],
        ["HINCRBY", "h", "m", "0"], ["HSET", "h", "s", "abc", "sp", " 1", "big", "9223372036854775807"],
        ["HINCRBY", "h", "s", "1"], ["HINCRBY", "h", "sp", "1"], ["HINCRBY", "h", "big", "1"],
        ["HINCRBY", "h", "big", "-1"], ["HINCRBY", "h", "n", "x"], ["HINCRBY", "h", "n", ""],
        ["HINCRBY", "h", "n", "1.0"], ["HINCRBY", "h", "n", "99999999999999999999"],
        ["HSET", "h", "min", "-9223372036854775808"], ["HINCRBY", "h", "min", "-1"],
        ["HINCRBY", "h", "min", "1"], ["HINCRBY", "h", "n", "-9223372036854775808"],
        ["HGETALL", "h"], ["OBJECT", "ENCODING", "h"],
    ])


def test_hincrbyfloat_formatting(diff):
    diff.check_many([
        ["HINCRBYFLOAT", "h", "f", "10.5"], ["HINCRBYFLOAT", "h", "f", "0.1"],
        ["HINCRBYFLOAT", "h", "f", "-10.6"], ["HGET", "h", "f"],
        ["HINCRBYFLOAT", "h", "g", "3.0e3"], ["HINCRBYFLOAT", "h", "g", "1.5e-7"],
        ["HINCRBYFLOAT", "h", "i", "5"], ["HINCRBYFLOAT", "h", "i", "-5"],
        ["HINCRBYFLOAT", "h", "j", "1e300"], ["HINCRBYFLOAT", "h", "j", "1e300"],
        ["HINCRBYFLOAT", "h", "k", "-0.0"], ["HINCRBYFLOAT", "h", "l", "0x10"],
        ["HINCRBYFLOAT", "h", "m", "1.23456789012345678901234567890"],
        ["HINCRBYFLOAT", "h", "n", "1e-20"], ["HINCRBYFLOAT", "h", "o", ".5"],
        ["HINCRBYFLOAT", "h", "p", "5."], ["HINCRBYFLOAT", "h", "q", "-1.7976931348623157e308"],
        ["HSET", "h", "int", "17"], ["HINCRBYFLOAT", "h", "int", "0.25"],
    ] + [["HGET", "h", f] for f in "fgijklmnopq"] + [["HGET", "h", "int"], ["HLEN", "h"]])


def test_hincrbyfloat_errors(diff):
    diff.check_many([
        ["HINCRBYFLOAT", "h", "f", "inf"], ["HINCRBYFLOAT", "h", "f", "-inf"],
        ["HINCRBYFLOAT", "h", "f", "+inf"], ["HINCRBYFLOAT", "h", "f", "nan"],
        ["HINCRBYFLOAT", "h", "f", "abc"], ["HINCRBYFLOAT", "h", "f", ""],
        ["HINCRBYFLOAT", "h", "f", " 1"], ["HINCRBYFLOAT", "h", "f", "1 "],
        ["HINCRBYFLOAT", "h", "f", "1e99999"], ["HINCRBYFLOAT", "h", "f", b"1\x00abc"],
        ["EXISTS", "h"], ["HSET", "h", "nul", b"2\x00x"], ["HINCRBYFLOAT", "h", "nul", "1"],
        ["HINCRBY", "h", "nul", "1"],
        ["HSET", "h", "s", "abc", "sp", " 2", "inf", "inf"],
        ["HINCRBYFLOAT", "h", "s", "1"], ["HINCRBYFLOAT", "h", "sp", "1"],
        ["HINCRBYFLOAT", "h", "inf", "1"],
        # Overflow of the long double sum: 1e4932 is near its maximum.
        ["HINCRBYFLOAT", "h", "big", "1e4932"], ["HINCRBYFLOAT", "h", "big", "1e4932"],
        ["HINCRBYFLOAT", "h", "big", "-1e4932"], ["HSTRLEN", "h", "big"],
        # 1e300 * 10 fits a long double: a long plain decimal, not an error.
        ["HSET", "h", "e", "1e300"], ["HINCRBYFLOAT", "h", "e", "9e300"],
        ["HSTRLEN", "h", "e"], ["OBJECT", "ENCODING", "h"],
    ])


def test_hincr_converts_long_results(diff):
    """HINCRBY* results longer than hash-max-listpack-value convert, as do
    long field names."""
    try:
        run_both(diff, ["CONFIG", "SET", "hash-max-listpack-value", "3"])
        diff.check_many([
            ["HINCRBY", "h", "f", "999"], ["OBJECT", "ENCODING", "h"],
            ["HINCRBY", "h", "f", "1"], ["OBJECT", "ENCODING", "h"],
            ["HINCRBYFLOAT", "h2", "f", "1.5"], ["OBJECT", "ENCODING", "h2"],
            ["HINCRBYFLOAT", "h2", "f", "0.25"], ["OBJECT", "ENCODING", "h2"],
            ["HINCRBY", "h3", "long", "1"], ["OBJECT", "ENCODING", "h3"],
        ])
    finally:
        run_both(diff, ["CONFIG", "SET", "hash-max-listpack-value", "64"])


# --------------------------------------------------------------------------
# HKEYS HVALS HGETALL (also RESP3)


def test_getall_absent_and_resp3(diff):
    diff.check_many([["HGETALL", "nokey"], ["HKEYS", "nokey"], ["HVALS", "nokey"],
                     ["HGET", "nokey", "f"], ["HRANDFIELD", "nokey"]])
    diff.hello3()
    diff.check_many([
        ["HGETALL", "nokey"], ["HKEYS", "nokey"], ["HVALS", "nokey"], ["HGET", "nokey", "f"],
        ["HMGET", "nokey", "a", "b"], ["HRANDFIELD", "nokey"], ["HRANDFIELD", "nokey", "5"],
        ["HSCAN", "nokey", "0"], ["HSET", "h", "a", "1", "b", "2", "c", "3"],
        ["HGETALL", "h"], ["HKEYS", "h"], ["HVALS", "h"], ["HMGET", "h", "a", "x"],
        ["HINCRBYFLOAT", "h", "a", "1.5"], ["HSCAN", "h", "0"],
        ["HRANDFIELD", "h", "10", "WITHVALUES"], ["HRANDFIELD", "h", "3"],
        ["HRANDFIELD", "h", "0", "WITHVALUES"],
    ])


def test_getall_hashtable(diff):
    big_hash(diff, "h", 500)
    p, r = both_parsed(diff, "HGETALL", "h")
    assert len(p) == 1000 and pairs(p) == pairs(r)
    p, r = both_parsed(diff, "HKEYS", "h")
    assert len(p) == 500 and sorted(p) == sorted(r)
    p, r = both_parsed(diff, "HVALS", "h")
    assert sorted(p) == sorted(r)
    diff.hello3()
    p, r = both_parsed(diff, "HGETALL", "h")
    assert isinstance(p, dict) and p == r


# --------------------------------------------------------------------------
# Encodings


def test_encoding_thresholds_entries(diff):
    cmds = []
    for i in range(128):
        cmds.append(["HSET", "h", "f%d" % i, "v"])
    cmds += [["OBJECT", "ENCODING", "h"], ["HSET", "h", "f0", "again"],
             ["OBJECT", "ENCODING", "h"], ["HSET", "h", "f128", "v"],
             ["OBJECT", "ENCODING", "h"], ["HDEL", "h", "f128", "f1", "f2"],
             ["OBJECT", "ENCODING", "h"], ["HLEN", "h"]]
    diff.check_many(cmds)


def test_encoding_thresholds_value(diff):
    diff.check_many([
        ["HSET", "a", "f", "x" * 64], ["OBJECT", "ENCODING", "a"],
        ["HSET", "b", "f", "x" * 65], ["OBJECT", "ENCODING", "b"],
        ["HSET", "c", "x" * 64, "v"], ["OBJECT", "ENCODING", "c"],
        ["HSET", "d", "x" * 65, "v"], ["OBJECT", "ENCODING", "d"],
        ["HSET", "e", "f", "v", "g", "x" * 65], ["OBJECT", "ENCODING", "e"],
        ["HSET", "e", "g", "short"], ["OBJECT", "ENCODING", "e"],
        ["HMSET", "f", "f", "v", "x" * 65, "v"], ["OBJECT", "ENCODING", "f"],
        ["HGET", "b", "f"], ["HGET", "d", "x" * 65],
    ])


def test_encoding_after_config_set(diff):
    try:
        diff.check_many([
            ["CONFIG", "SET", "hash-max-listpack-entries", "4"],
            ["CONFIG", "SET", "hash-max-listpack-value", "8"],
            ["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"], ["OBJECT", "ENCODING", "h"],
            ["HSET", "h", "e", "5"], ["OBJECT", "ENCODING", "h"],
            ["HSET", "i", "a", "12345678"], ["OBJECT", "ENCODING", "i"],
            ["HSET", "i", "b", "123456789"], ["OBJECT", "ENCODING", "i"],
            ["CONFIG", "SET", "hash-max-listpack-entries", "0"],
            ["HSET", "z", "a", "1"], ["OBJECT", "ENCODING", "z"],
            ["HSETNX", "z2", "a", "1"], ["OBJECT", "ENCODING", "z2"],
            ["HINCRBY", "z3", "a", "1"], ["OBJECT", "ENCODING", "z3"],
            ["CONFIG", "SET", "hash-max-listpack-entries", "1000"],
            ["CONFIG", "SET", "hash-max-listpack-value", "1000"],
            ["HSET", "y", "a", "x" * 900], ["OBJECT", "ENCODING", "y"],
            # Existing hashtables stay hashtables.
            ["HDEL", "h", "a", "b", "c"], ["OBJECT", "ENCODING", "h"],
            ["HSET", "h", "q", "1"], ["OBJECT", "ENCODING", "h"],
            ["CONFIG", "GET", "hash-max-ziplist-entries"],
        ])
    finally:
        run_both(diff, ["CONFIG", "SET", "hash-max-listpack-entries", "128"],
              ["CONFIG", "SET", "hash-max-listpack-value", "64"])


def test_hashtable_content(diff):
    big_hash(diff, "h", 200)
    cmds = [["HGET", "h", "f%d" % i] for i in range(0, 200, 7)]
    cmds += [["HMGET", "h", "f1", "nope", "f199"], ["HLEN", "h"], ["HEXISTS", "h", "f3"],
             ["HSTRLEN", "h", "f150"], ["HINCRBY", "h", "n", "3"], ["HINCRBYFLOAT", "h", "n", "0.5"],
             ["HSET", "h", "f1", "new", "g", "x"], ["HSETNX", "h", "f2", "x"],
             ["HGET", "h", "f1"], ["HDEL", "h", "f0", "g", "zz"], ["HLEN", "h"],
             ["OBJECT", "ENCODING", "h"]]
    diff.check_many(cmds)


# --------------------------------------------------------------------------
# HSCAN


def test_hscan_listpack(diff):
    run_both(diff, ["HSET", "h", "a1", "1", "b2", "2", "a3", "x", "zz", "-7", BIN, BIN])
    diff.check_many([
        ["HSCAN", "h", "0"], ["HSCAN", "h", "0", "COUNT", "1"], ["HSCAN", "h", "17"],
        ["HSCAN", "h", "0", "MATCH", "a*"], ["HSCAN", "h", "0", "MATCH", "*"],
        ["HSCAN", "h", "0", "MATCH", "nomatch"], ["HSCAN", "h", "0", "match", "?2", "count", "100"],
        ["HSCAN", "h", "18446744073709551615"], ["HSCAN", "h", "-1"],
        ["HSCAN", "nokey", "0"], ["HSCAN", "nokey", "0", "COUNT", "0"],
    ])


@pytest.mark.parametrize("args", [
    ["x"], ["-"], ["1.5"], [" 1"], ["18446744073709551616"], ["0", "COUNT", "0"],
    ["0", "COUNT", "-1"], ["0", "COUNT", "x"], ["0", "COUNT"], ["0", "MATCH"],
    ["0", "FOO", "bar"], ["0", "TYPE", "hash"], ["0", "NOVALUES"], ["x", "COUNT", "0"],
])
def test_hscan_errors(diff, args):
    diff.both("HSET", "h", "a", "1")
    big_hash(diff, "big", 200)
    diff.check("HSCAN", "h", *args)
    diff.check("HSCAN", "big", *args)
    diff.check("HSCAN", "nokey", *args)


def test_hscan_hashtable_full(diff):
    big_hash(diff, "h", 1000)
    for count in (None, 1, 7, 100, 5000):
        got = {}
        steps = 0
        cur = b"0"
        while True:
            args = ["HSCAN", "h", cur] + (["COUNT", str(count)] if count else [])
            reply = raw_call(diff, *args)
            cur = reply[0]
            items = reply[1]
            assert len(items) % 2 == 0
            for i in range(0, len(items), 2):
                got[items[i]] = items[i + 1]
            steps += 1
            if cur == b"0":
                break
            assert steps < 10000
        assert got == {b"f%d" % i: b"v%d" % i for i in range(1000)}
        if count == 5000:
            assert steps == 1


def test_hscan_hashtable_match(diff):
    big_hash(diff, "h", 400)
    got = set()
    cur = b"0"
    while True:
        cur, items = raw_call(diff, "HSCAN", "h", cur, "MATCH", "f1*", "COUNT", "50")
        got |= pairs(items)
        if cur == b"0":
            break
    want = {(b"f%d" % i, b"v%d" % i) for i in range(400) if str(i).startswith("1")}
    assert got == want


# --------------------------------------------------------------------------
# HRANDFIELD


@pytest.mark.parametrize("args", [
    ["x"], ["1.5"], ["9223372036854775808"], ["-9223372036854775808"],
    ["1", "WITHVALUE"], ["1", "WITHVALUES", "x"], ["1", "x"],
    ["4611686018427387904", "WITHVALUES"], ["-4611686018427387904", "WITHVALUES"],
    ["4611686018427387903", "x"],
])
def test_hrandfield_errors(diff, args):
    diff.both("HSET", "h", "a", "1")
    diff.check("HRANDFIELD", "h", *args)
    diff.check("HRANDFIELD", "nokey", *args)


def test_hrandfield_trivial(diff):
    run_both(diff, ["HSET", "one", "only", "val"], ["HSET", "h", "a", "1", "b", "2", "c", "3"])
    diff.check_many([
        ["HRANDFIELD", "nokey"], ["HRANDFIELD", "nokey", "3"], ["HRANDFIELD", "nokey", "-3"],
        ["HRANDFIELD", "nokey", "0", "WITHVALUES"], ["HRANDFIELD", "h", "0"],
        ["HRANDFIELD", "h", "0", "withvalues"], ["HRANDFIELD", "one"],
        ["HRANDFIELD", "one", "-3"], ["HRANDFIELD", "one", "-3", "WITHVALUES"],
        ["HRANDFIELD", "one", "1", "WITHVALUES"], ["HRANDFIELD", "h", "3"],
        ["HRANDFIELD", "h", "100", "WITHVALUES"],
        ["HRANDFIELD", "h", "4611686018427387903", "WITHVALUES"],
    ])


@pytest.mark.parametrize("n", [5, 60, 300])
def test_hrandfield_properties(diff, n):
    """Every case of the algorithm: unique counts below, near and above the
    size, negative counts, with and without values, both protocols."""
    args = []
    for i in range(n):
        args += ["f%d" % i, "v%d" % i]
    diff.both("HSET", "h", *args)
    full = {b"f%d" % i: b"v%d" % i for i in range(n)}
    c = diff.percore
    assert c.execute_command("HRANDFIELD", "h") in full
    for count in (1, 2, n // 4, n // 3, n // 2, n - 1, n, n + 5):
        got = c.execute_command("HRANDFIELD", "h", count)
        assert len(got) == min(count, n) and len(set(got)) == len(got)
        assert set(got) <= set(full)
        got = c.execute_command("HRANDFIELD", "h", count, "WITHVALUES")
        assert len(got) == 2 * min(count, n)
        keys = got[0::2]
        assert len(set(keys)) == len(keys)
        assert all(full[k] == v for k, v in zip(got[0::2], got[1::2]))
    for count in (1, 3, n, 3 * n):
        got = c.execute_command("HRANDFIELD", "h", -count)
        assert len(got) == count and set(got) <= set(full)
        got = c.execute_command("HRANDFIELD", "h", -count, "WITHVALUES")
        assert len(got) == 2 * count
        assert all(full[k] == v for k, v in zip(got[0::2], got[1::2]))
    # Repetition shows up and every field is reachable.
    got = c.execute_command("HRANDFIELD", "h", -20 * n)
    assert set(got) == set(full)
    if n <= 60:
        assert len(set(got)) < len(got)
    # RESP3: nested pairs, same shape on both servers.
    diff.hello3()
    for args in (["5", "WITHVALUES"], ["-5", "WITHVALUES"], [str(n), "WITHVALUES"], ["2"]):
        p, r = both_parsed(diff, "HRANDFIELD", "h", *args)
        assert len(p) == len(r)
        for x, y in zip(p, r):
            assert type(x) is type(y)
            if isinstance(x, list):
                assert len(x) == 2 and full[x[0]] == x[1]


# --------------------------------------------------------------------------
# Keyspace commands on hash values, pipelines, MULTI


def test_keyspace_commands_on_hashes(diff):
    keys = ["hk%d" % i for i in range(8)]
    for i, k in enumerate(keys):
        if i % 2:
            big_hash(diff, k, 150)
        else:
            diff.both("HSET", k, "a", "1", "b", "2")
    cmds = []
    for k in keys:
        cmds += [["TYPE", k], ["OBJECT", "ENCODING", k]]
    for i in range(0, 8, 2):
        a, b = keys[i], keys[i + 1]
        cmds += [["COPY", a, a + "c"], ["COPY", b, b + "c"], ["RENAME", a, a + "r"],
                 ["RENAME", b, b + "r"], ["TYPE", a + "r"], ["OBJECT", "ENCODING", b + "r"],
                 ["HGETALL", a + "r"], ["HLEN", b + "r"], ["HLEN", b + "c"],
                 ["HGET", b + "c", "f149"], ["EXISTS", a, b]]
    diff.check_many(cmds)
    # COPY is deep: changing the copy leaves the original alone.
    diff.check_many([["HSET", "hk1c", "f0", "changed"], ["HGET", "hk1r", "f0"],
                     ["HGET", "hk1c", "f0"], ["HDEL", "hk0c", "a"], ["HGETALL", "hk0r"],
                     ["COPY", "hk0r", "hk1r"], ["COPY", "hk0r", "hk1r", "REPLACE"],
                     ["HGETALL", "hk1r"], ["OBJECT", "ENCODING", "hk1r"]])
    # MOVE to another database and back.
    diff.check_many([["MOVE", "hk3r", "1"], ["EXISTS", "hk3r"], ["SELECT", "1"],
                     ["HLEN", "hk3r"], ["OBJECT", "ENCODING", "hk3r"], ["TYPE", "hk3r"],
                     ["MOVE", "hk3r", "0"], ["SELECT", "0"], ["HLEN", "hk3r"]])


def test_scan_type_hash(diff):
    for i in range(20):
        diff.both("HSET", "h%d" % i, "f", "v")
        diff.both("SET", "s%d" % i, "v")
    for srv in (diff.percore, diff.redis):
        got = set()
        cur = 0
        while True:
            cur, ks = srv.scan(cur, count=7, _type="hash")
            got |= set(ks)
            if cur == 0:
                break
        assert got == {b"h%d" % i for i in range(20)}


def test_memory_usage(diff):
    diff.both("HSET", "small", "a", "1", "b", "hello")
    big_hash(diff, "big", 1000)
    for k in ("small", "big"):
        p, r = both_parsed(diff, "MEMORY", "USAGE", k)
        assert isinstance(p, int) and isinstance(r, int)
        assert r / 3 < p < r * 3, (k, p, r)
    p, r = both_parsed(diff, "MEMORY", "USAGE", "big", "SAMPLES", "0")
    assert isinstance(p, int) and p > 1000 * 20
    diff.check("MEMORY", "USAGE", "nokey")


def test_del_big_hash(diff):
    big_hash(diff, "h1", 20000)
    big_hash(diff, "h2", 20000)
    diff.check_many([["HLEN", "h1"], ["DEL", "h1", "nokey"], ["EXISTS", "h1"],
                     ["UNLINK", "h2"], ["EXISTS", "h2"], ["DBSIZE"]])
    big_hash(diff, "h3", 5000)
    diff.check_many([["FLUSHALL"], ["DBSIZE"]])


def test_expire_on_hash(diff):
    diff.both("HSET", "h", "a", "1")
    diff.check_many([["PEXPIRE", "h", "1"]])
    time.sleep(0.05)
    diff.check_many([["HGET", "h", "a"], ["HLEN", "h"], ["EXISTS", "h"],
                     ["HINCRBY", "h", "a", "1"], ["HGETALL", "h"]])


def test_multi_exec(diff):
    diff.check_many([
        ["MULTI"], ["HSET", "h", "a", "1"], ["HINCRBY", "h", "a", "2"], ["HGETALL", "h"],
        ["HSET", "h", "odd"], ["EXEC"], ["MULTI"], ["HSET", "h", "b", "2"],
        ["HINCRBY", "h", "b", "x"], ["HDEL", "h", "a"], ["EXEC"], ["HGETALL", "h"],
    ])


def test_pipeline_many_keys(diff):
    cmds = []
    for i in range(200):
        k = "p%d" % (i % 17)
        cmds.append(["HSET", k, "f%d" % (i % 11), "v%d" % i])
        cmds.append(["HINCRBY", k, "cnt", str(i)])
        if i % 5 == 0:
            cmds.append(["HDEL", k, "f%d" % (i % 7)])
        cmds.append(["HLEN", k])
    cmds += [["HGETALL", "p%d" % j] for j in range(17)]
    diff.check_many(cmds)


def test_keyspace_hits(diff):
    """Read commands count keyspace hits and misses like Redis."""
    diff.both("HSET", "h", "a", "1")

    def counts():
        out = []
        for srv in (diff.percore, diff.redis):
            info = srv.info("stats")
            out.append((info["keyspace_hits"], info["keyspace_misses"]))
        return out

    before = counts()
    for cmd in (["HGET", "h", "a"], ["HGET", "x", "a"], ["HMGET", "x", "a"], ["HLEN", "h"],
                ["HSCAN", "h", "0"], ["HRANDFIELD", "x"], ["HEXISTS", "h", "zz"],
                ["HSET", "h", "b", "2"], ["HINCRBY", "h", "c", "1"], ["HDEL", "h", "b"]):
        diff.both(*cmd)
    after = counts()
    deltas = [(a[0] - b[0], a[1] - b[1]) for a, b in zip(after, before)]
    assert deltas[0] == deltas[1]


def test_errors_are_replies(diff):
    p, _ = both_parsed(diff, "HSET", "h", "a")
    assert isinstance(p, ErrorReply)
