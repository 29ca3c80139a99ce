"""Differential tests of SORT and SORT_RO (src/cmd/t_sort.c) against
redis-server 7.0: numeric and ALPHA ordering, ASC/DESC, LIMIT edge cases,
BY weight patterns (strings and hash fields, missing weights), BY nosort,
GET # and GET patterns, STORE (replacing, deleting, across shards), lists,
sets (intset and hashtable) and sorted sets, wrong types, syntax errors,
binary elements, RESP3, MULTI/EXEC, COMMAND GETKEYS, and atomicity of a
sort whose weights live on both shards.

percore runs with two shards: the weight/GET/STORE keys below are many
distinct names, so they land on both shards. Replies are compared byte for
byte, except where Redis's own order is its hash table's (unsorted
hashtable sets), where the parsed replies are compared as multisets.
"""
import random
import threading

import pytest

from diff_util import background, run
from respclient import ErrorReply, RespConn, parse

BIN = [b"a\x00b", b"a\x00c", b"\xff", b"\xfe\x00", b"", b"a", b"a\r\n", b"\x00"]


def has_command(diff, name):
    p, _ = diff.both("COMMAND", "INFO", name)
    return parse(p)[0] is not None


def weights(diff, pattern, pairs):
    """SET pattern%el to weight for each (el, weight)."""
    args = []
    for el, w in pairs:
        args += [pattern.replace("*", str(el)), str(w)]
    diff.check("MSET", *args)


# --------------------------------------------------------------------------
# Arity, syntax errors, wrong type


def test_arity_and_syntax(diff):
    run(diff, ("RPUSH", "l", "3", "1", "2"))
    diff.check("SORT")
    diff.check("SORT_RO")
    for args in (
        ["nosuch"],
        ["LIMIT"],
        ["LIMIT", "0"],
        ["BY"],
        ["GET"],
        ["STORE"],
        ["ASC", "foo"],
        ["LIMIT", "0", "1", "2"],
        ["BY", "w_*", "x"],
    ):
        diff.check("SORT", "l", *args)
        diff.check("SORT_RO", "l", *args)
    diff.check("SORT", "l", "LIMIT", "a", "1")
    diff.check("SORT", "l", "LIMIT", "1", "b")
    diff.check("SORT", "l", "LIMIT", "1.5", "1")
    diff.check("SORT", "l", "LIMIT", "99999999999999999999", "1")
    diff.check("SORT_RO", "l", "LIMIT", "a", "1")
    # Syntax errors come before the type check and before the key lookup.
    run(diff, ("SET", "str", "x"))
    diff.check("SORT", "str", "bogus")
    diff.check("SORT", "str", "LIMIT", "x", "1")


def test_sort_ro_refuses_store(diff):
    run(diff, ("RPUSH", "l", "3", "1", "2"))
    diff.check("SORT_RO", "l", "STORE", "dst")
    diff.check("SORT_RO", "l", "STORE")
    diff.check("SORT_RO", "l", "ALPHA", "STORE", "dst")
    diff.check("EXISTS", "dst")
    diff.check("SORT_RO", "l", "DESC", "LIMIT", "0", "2")


@pytest.mark.parametrize("cmd", ["SORT", "SORT_RO"])
def test_wrong_type(diff, cmd):
    run(diff, ("SET", "s", "1"), ("HSET", "h", "a", "1"))
    diff.check(cmd, "s")
    diff.check(cmd, "h")
    diff.check(cmd, "s", "BY", "nosort")
    diff.check(cmd, "h", "ALPHA", "GET", "#")
    if cmd == "SORT":
        diff.check("SORT", "s", "STORE", "dst")
        diff.check("EXISTS", "dst")


def test_missing_key(diff):
    for cmd in ("SORT", "SORT_RO"):
        diff.check(cmd, "nosuch")
        diff.check(cmd, "nosuch", "ALPHA", "DESC", "LIMIT", "1", "2")
        diff.check(cmd, "nosuch", "BY", "w_*", "GET", "#", "GET", "x_*")
        diff.check(cmd, "nosuch", "BY", "nosort")
    run(diff, ("SET", "dst", "old"))
    diff.check("SORT", "nosuch", "STORE", "dst")
    diff.check("EXISTS", "dst")
    diff.check("SORT", "nosuch", "STORE", "dst")


# --------------------------------------------------------------------------
# Numeric and ALPHA ordering, LIMIT


def test_numeric_list(diff):
    vals = ["3", "1", "-2", "10", "2.5", "1e3", "-inf", "inf", "0", "0x10", " 7", "007", "1"]
    run(diff, ["RPUSH", "l"] + vals)
    diff.check("SORT", "l")
    diff.check("SORT", "l", "DESC")
    diff.check("SORT", "l", "ASC")
    diff.check("SORT", "l", "DESC", "ASC")
    diff.check("SORT_RO", "l", "desc")


@pytest.mark.parametrize(
    "bad", ["abc", "1 ", "nan", "-nan", "1e400", "1e-400", "1x", "--1", "0x"]
)
def test_numeric_errors(diff, bad):
    run(diff, ("RPUSH", "l", "1", bad, "2"), ("SET", "dst", "keep"))
    diff.check("SORT", "l")
    diff.check("SORT", "l", "LIMIT", "0", "1")
    diff.check("SORT", "l", "STORE", "dst")
    diff.check("GET", "dst")
    # Nothing is converted when nothing is sorted.
    diff.check("SORT", "l", "BY", "nosort")
    diff.check("SORT", "l", "ALPHA")


def test_numeric_odd_but_valid(diff):
    # An empty string parses as 0 (strtod consumes nothing, the end is the end).
    run(diff, ("RPUSH", "l", "", "-1", "1", "\t2", "+3", "4.", ".5", "1E2", "INF", "-Infinity"))
    diff.check("SORT", "l")
    diff.check("SORT", "l", "DESC")
    # A NUL ends the C string strtod sees: "5\0x" is 5.
    run(diff, ("RPUSH", "n", b"5\x00x", "4", b"6\x00"))
    diff.check("SORT", "n")


def test_numeric_ties_break_by_element(diff):
    run(diff, ("RPUSH", "l", "1.0", "1", "01", "1e0", "2", "1.00", "10e-1", "1"))
    diff.check("SORT", "l")
    diff.check("SORT", "l", "DESC")


def test_alpha(diff):
    run(diff, ("RPUSH", "l", "banana", "apple", "Cherry", "apple", "10", "9", "", "b", "ba"))
    diff.check("SORT", "l", "ALPHA")
    diff.check("SORT", "l", "ALPHA", "DESC")
    diff.check("SORT", "l", "alpha", "limit", "2", "3")
    diff.check("SORT", "l", "ALPHA", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "l")  # not numbers


LIMITS = [
    ("0", "0"), ("0", "1"), ("0", "-1"), ("0", "-5"), ("2", "3"), ("-1", "2"),
    ("-100", "-100"), ("5", "100"), ("9", "1"), ("10", "1"), ("11", "5"), ("100", "-1"),
    ("0", "10"), ("0", "11"), ("3", "0"), ("9223372036854775807", "9223372036854775807"),
    ("-9223372036854775808", "-9223372036854775808"), ("1", "9223372036854775807"),
]


@pytest.mark.parametrize("start,count", LIMITS)
def test_limit(diff, start, count):
    run(diff, ["RPUSH", "l"] + [str(x) for x in (5, 3, 9, 1, 7, 2, 8, 4, 6, 0)])
    for extra in ([], ["DESC"], ["ALPHA"], ["BY", "nosort"], ["BY", "nosort", "DESC"],
                  ["GET", "#", "GET", "nokey"]):
        diff.check("SORT", "l", "LIMIT", start, count, *extra)
        diff.check("SORT_RO", "l", *extra, "LIMIT", start, count)
    diff.check("SORT", "l", "LIMIT", start, count, "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "l", "LIMIT", start, count, "BY", "nosort", "DESC", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "empty", "LIMIT", start, count)


def test_limit_last_wins(diff):
    run(diff, ("RPUSH", "l", "5", "3", "9", "1"))
    diff.check("SORT", "l", "LIMIT", "0", "1", "LIMIT", "1", "2")
    diff.check("SORT", "l", "DESC", "ASC", "LIMIT", "2", "-1")


def test_large_random_list(diff):
    rnd = random.Random(7)
    vals = [str(rnd.randint(-1000, 1000)) for _ in range(700)]
    for i in range(0, 700, 100):
        run(diff, ["RPUSH", "l"] + vals[i:i + 100])
    diff.check("SORT", "l")
    diff.check("SORT", "l", "DESC", "LIMIT", "100", "50")
    diff.check("SORT", "l", "ALPHA")
    diff.check("SORT", "l", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("OBJECT", "ENCODING", "dst")


# --------------------------------------------------------------------------
# BY patterns


def test_by_string_weights(diff):
    els = [str(i) for i in range(1, 16)]
    run(diff, ["RPUSH", "l"] + els)
    weights(diff, "w_*", [(e, (int(e) * 7) % 16) for e in els if e != "4"])
    diff.check("SORT", "l", "BY", "w_*")
    diff.check("SORT", "l", "BY", "w_*", "DESC")
    diff.check("SORT", "l", "BY", "w_*", "LIMIT", "3", "4")
    diff.check("SORT", "l", "BY", "w_*", "DESC", "LIMIT", "0", "5")
    diff.check("SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*")
    diff.check("SORT", "l", "BY", "w_*", "GET", "w_*", "GET", "#", "DESC", "LIMIT", "2", "6")
    diff.check("SORT", "l", "BY", "nosuch_*")  # all weights 0: ties broken by element
    diff.check("SORT", "l", "BY", "nosuch_*", "DESC")
    diff.check("SORT_RO", "l", "BY", "w_*", "GET", "w_*")


def test_by_ties_and_missing(diff):
    els = ["e%d" % i for i in range(12)]
    run(diff, ["RPUSH", "l"] + els)
    weights(diff, "w_*", [(e, i % 3) for i, e in enumerate(els) if i % 4 != 0])
    diff.check("SORT", "l", "BY", "w_*")
    diff.check("SORT", "l", "BY", "w_*", "DESC")
    diff.check("SORT", "l", "BY", "w_*", "LIMIT", "2", "5")


def test_by_alpha(diff):
    els = ["e%d" % i for i in range(12)]
    run(diff, ["RPUSH", "l"] + els)
    words = ["pear", "apple", "fig", "kiwi", "date", "lime", "plum", "", "b\x00z", "b\x00a", "b"]
    weights(diff, "w_*", [(e, words[i]) for i, e in enumerate(els) if i < len(words)])
    # Equal weights (and missing ones) keep the list's order: stable sort.
    diff.check("SORT", "l", "BY", "w_*", "ALPHA")
    diff.check("SORT", "l", "BY", "w_*", "ALPHA", "DESC")
    diff.check("SORT", "l", "BY", "w_*", "ALPHA", "GET", "w_*", "GET", "#")
    # STORE compares the weights byte-wise (NUL included).
    diff.check("SORT", "l", "BY", "w_*", "ALPHA", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "l", "BY", "w_*", "ALPHA", "DESC", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")


def test_by_alpha_limit_distinct(diff):
    els = ["e%d" % i for i in range(20)]
    run(diff, ["RPUSH", "l"] + els)
    weights(diff, "w_*", [(e, "word%02d" % ((i * 7) % 20)) for i, e in enumerate(els)])
    for lim in (("0", "5"), ("3", "7"), ("15", "10"), ("-2", "3")):
        diff.check("SORT", "l", "BY", "w_*", "ALPHA", "LIMIT", *lim)
        diff.check("SORT", "l", "BY", "w_*", "ALPHA", "DESC", "LIMIT", *lim)
        diff.check("SORT", "l", "BY", "w_*", "LIMIT", *lim)


def test_by_non_numeric_weight(diff):
    run(diff, ("RPUSH", "l", "1", "2", "3"), ("MSET", "w_1", "1", "w_2", "x", "w_3", "3"))
    diff.check("SORT", "l", "BY", "w_*")
    diff.check("SORT", "l", "BY", "w_*", "ALPHA")
    diff.check("SORT", "l", "BY", "w_*", "STORE", "dst")
    diff.check("EXISTS", "dst")
    # A non-numeric element is fine when its weight is numeric.
    run(diff, ("RPUSH", "m", "a", "b"), ("MSET", "v_a", "2", "v_b", "1"))
    diff.check("SORT", "m", "BY", "v_*")
    diff.check("SORT", "m", "BY", "v_*", "GET", "v_*")


def test_by_hash_fields(diff):
    els = [str(i) for i in range(1, 11)]
    run(diff, ["RPUSH", "l"] + els)
    for e in els:
        run(diff, ("HSET", "h_" + e, "f", str(100 - int(e) * 3), "name", "n" + e))
    run(diff, ("HDEL", "h_3", "f"), ("DEL", "h_4"), ("SET", "h_5", "7"))
    diff.check("SORT", "l", "BY", "h_*->f")
    diff.check("SORT", "l", "BY", "h_*->f", "DESC", "GET", "h_*->name", "GET", "#", "GET", "h_*->f")
    diff.check("SORT", "l", "BY", "h_*->name", "ALPHA", "GET", "h_*->name")
    diff.check("SORT", "l", "BY", "h_*->nofield")
    diff.check("SORT", "l", "BY", "h_*->f", "STORE", "dst", "GET", "h_*->name")
    diff.check("LRANGE", "dst", "0", "-1")


def test_pattern_forms(diff):
    run(diff, ("RPUSH", "l", "a", "b", "c"))
    run(diff, ("MSET", "pa", "3", "pb", "1", "pc", "2", "xa->", "9", "xb->", "8", "xc->", "7"))
    run(diff, ("MSET", "ka*z", "1", "kaz", "2", "a", "5", "b", "4", "c", "6"))
    run(diff, ("HSET", "ha", "f->g", "1", "->", "2"), ("HSET", "hb", "f->g", "3"))
    run(diff, ("HSET", "qa-x", ">y", "9"))
    for pat in ("p*", "x*->", "*", "k*z", "k**z", "h*->f->g", "h*->->", "q*-x->y", "p*->",
                "*->", "#", "##", "nostar", "h*-", "h*>"):
        diff.check("SORT", "l", "BY", pat)
        diff.check("SORT", "l", "ALPHA", "GET", pat)
        diff.check("SORT", "l", "ALPHA", "GET", pat, "STORE", "dst")
        diff.check("LRANGE", "dst", "0", "-1")


def test_by_pattern_wrong_types(diff):
    run(diff, ("RPUSH", "l", "1", "2", "3"), ("HSET", "w_1", "f", "1"), ("SET", "w_2", "5"),
          ("RPUSH", "w_3", "x"), ("HSET", "h_2", "f", "9"), ("SET", "h_1", "3"))
    diff.check("SORT", "l", "BY", "w_*", "GET", "w_*")
    diff.check("SORT", "l", "BY", "h_*->f", "GET", "h_*->f", "GET", "w_*->f")


def test_by_nosort(diff):
    run(diff, ("RPUSH", "l", "c", "a", "b", "10", "2"))
    for extra in ([], ["DESC"], ["ALPHA"], ["LIMIT", "1", "2"], ["DESC", "LIMIT", "1", "2"],
                  ["GET", "#", "GET", "x_*"]):
        diff.check("SORT", "l", "BY", "nosort", *extra)
        diff.check("SORT", "l", "BY", "nosort", "STORE", "dst", *extra)
        diff.check("LRANGE", "dst", "0", "-1")
    # A constant BY pattern sticks even if a later BY has a '*'.
    run(diff, ("MSET", "w_c", "1", "w_a", "3", "w_b", "2"))
    diff.check("SORT", "l", "BY", "nosort", "BY", "w_*")
    diff.check("SORT", "l", "BY", "w_*", "BY", "nosort")
    diff.check("SORT", "l", "BY", "w_*", "ALPHA")
    # "#" as BY has no '*': no sorting.
    diff.check("SORT", "l", "BY", "#")


def test_get_without_by(diff):
    run(diff, ("RPUSH", "l", "3", "1", "2"), ("MSET", "o_1", "one", "o_3", "three"))
    diff.check("SORT", "l", "GET", "o_*")
    diff.check("SORT", "l", "GET", "o_*", "GET", "#", "GET", "o_*", "DESC")
    diff.check("SORT", "l", "GET", "constant")
    diff.check("SORT", "l", "GET", "o_*", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "l", "GET", "o_*", "LIMIT", "1", "1")
    diff.check("SORT", "l", "GET", "o_*", "LIMIT", "5", "1")
    diff.check("SORT", "l", "GET", "o_*", "LIMIT", "5", "1", "STORE", "dst")
    diff.check("EXISTS", "dst")


def test_expired_weights(diff):
    run(diff, ("RPUSH", "l", "1", "2", "3"), ("MSET", "w_1", "3", "w_2", "2", "w_3", "1"),
          ("PEXPIRE", "w_3", "1"))
    import time
    time.sleep(0.05)
    diff.check("SORT", "l", "BY", "w_*", "GET", "w_*")
    diff.check("EXISTS", "w_3")


# --------------------------------------------------------------------------
# Sets and sorted sets


def test_intset(diff):
    run(diff, ["SADD", "s"] + [str(x) for x in (5, -3, 100, 7, 0, 42)])
    diff.check("OBJECT", "ENCODING", "s")
    diff.check("SORT", "s")
    diff.check("SORT", "s", "DESC", "LIMIT", "1", "3")
    diff.check("SORT", "s", "ALPHA")
    # Unsorted: the intset's (ascending) order; DESC is ignored for sets.
    diff.check("SORT", "s", "BY", "nosort")
    diff.check("SORT", "s", "BY", "nosort", "DESC", "LIMIT", "1", "2")
    # Unsorted with STORE: sorted ALPHA instead (DESC applies).
    diff.check("SORT", "s", "BY", "nosort", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "s", "BY", "nosort", "DESC", "STORE", "dst", "LIMIT", "1", "3")
    diff.check("LRANGE", "dst", "0", "-1")
    weights(diff, "w_*", [(5, 1), (-3, 2), (100, 0), (7, 9), (0, 4), (42, 3)])
    diff.check("SORT", "s", "BY", "w_*", "GET", "#", "GET", "w_*")
    diff.check("SORT", "s", "BY", "nosort", "GET", "w_*", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")


def test_hashtable_set(diff):
    members = ["m%d" % i for i in range(40)] + ["x", "", "\xff"]
    run(diff, ["SADD", "s"] + members)
    diff.check("SORT", "s", "ALPHA")
    diff.check("SORT", "s", "ALPHA", "DESC", "LIMIT", "5", "10")
    diff.check("SORT", "s")  # not numbers
    diff.check("SORT", "s", "BY", "nosort", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    weights(diff, "w_*", [(m, i) for i, m in enumerate(members)])
    diff.check("SORT", "s", "BY", "w_*", "GET", "#", "GET", "w_*")
    diff.check("SORT", "s", "BY", "w_*", "DESC", "LIMIT", "3", "4")
    # Table order differs between servers: compare as multisets.
    p, r = diff.both("SORT", "s", "BY", "nosort")
    assert sorted(parse(p)) == sorted(parse(r))
    p, r = diff.both("SORT", "s", "BY", "nosort", "GET", "w_*")
    assert sorted(parse(p)) == sorted(parse(r))


def test_numeric_set(diff):
    run(diff, ["SADD", "s"] + ["1.5", "-2", "10", "3e1", "abc"])
    diff.check("SORT", "s")
    run(diff, ("SREM", "s", "abc"))
    diff.check("SORT", "s")
    diff.check("SORT", "s", "DESC")


def need_zset(diff):
    if not has_command(diff, "ZADD"):
        pytest.skip("no sorted set commands yet")


def test_zset(diff):
    need_zset(diff)
    run(diff, ("ZADD", "z", "3", "c", "1", "a", "2", "b", "5", "e", "4", "d", "4", "dd"))
    diff.check("OBJECT", "ENCODING", "z")
    diff.check("SORT", "z", "ALPHA")
    diff.check("OBJECT", "ENCODING", "z")  # SORT converts it to a skiplist, as Redis
    diff.check("SORT", "z", "ALPHA", "DESC", "LIMIT", "1", "2")
    diff.check("SORT", "z")  # not numbers
    for extra in ([], ["DESC"], ["LIMIT", "1", "3"], ["DESC", "LIMIT", "1", "3"],
                  ["LIMIT", "0", "0"], ["LIMIT", "-5", "100"], ["DESC", "LIMIT", "5", "10"],
                  ["LIMIT", "6", "1"], ["GET", "#", "GET", "w_*"]):
        diff.check("SORT", "z", "BY", "nosort", *extra)
        diff.check("SORT_RO", "z", "BY", "nosort", *extra)
        diff.check("SORT", "z", "BY", "nosort", "STORE", "dst", *extra)
        diff.check("LRANGE", "dst", "0", "-1")
    weights(diff, "w_*", [("a", 9), ("b", 8), ("c", 7), ("d", 6), ("e", 5), ("dd", 4)])
    diff.check("SORT", "z", "BY", "w_*", "GET", "w_*", "GET", "#")


def test_zset_encoding_converted_by_sort_ro(diff):
    need_zset(diff)
    run(diff, ("ZADD", "z", "1", "1", "2", "2"), ("PEXPIRE", "z", "100000"))
    diff.check("SORT_RO", "z", "BY", "nosort")
    diff.check("OBJECT", "ENCODING", "z")
    p, r = diff.both("PTTL", "z")
    assert int(parse(p)) > 0 and int(parse(r)) > 0
    diff.check("ZRANGE", "z", "0", "-1", "WITHSCORES")


def test_big_zset(diff):
    need_zset(diff)
    args = []
    for i in range(300):
        args += [str(i % 17), "m%03d" % i]
    run(diff, ["ZADD", "z"] + args)
    diff.check("SORT", "z", "BY", "nosort", "LIMIT", "100", "30")
    diff.check("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "100", "30")
    diff.check("SORT", "z", "ALPHA", "LIMIT", "10", "10")


# --------------------------------------------------------------------------
# STORE


def test_store_replaces_and_deletes(diff):
    run(diff, ("RPUSH", "l", "3", "1", "2"), ("SET", "dst", "str"), ("EXPIRE", "dst", "100"))
    diff.check("SORT", "l", "STORE", "dst")
    diff.check("TYPE", "dst")
    diff.check("TTL", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("OBJECT", "ENCODING", "dst")
    run(diff, ("HSET", "dst", "a", "b"))
    diff.check("SORT", "l", "DESC", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    # An empty result deletes the destination and replies 0.
    diff.check("SORT", "l", "LIMIT", "0", "0", "STORE", "dst")
    diff.check("EXISTS", "dst")
    # The last STORE wins.
    diff.check("SORT", "l", "STORE", "d1", "STORE", "d2")
    diff.check("EXISTS", "d1", "d2")
    # Storing onto the source itself.
    diff.check("SORT", "l", "DESC", "STORE", "l")
    diff.check("LRANGE", "l", "0", "-1")


def test_store_across_shards(diff):
    run(diff, ["RPUSH", "src"] + [str(i) for i in range(20)])
    weights(diff, "w_*", [(i, (i * 13) % 20) for i in range(20)])
    weights(diff, "g_*", [(i, "v%d" % i) for i in range(0, 20, 2)])
    for i in range(12):
        dst = "dest%d" % i
        diff.check("SORT", "src", "BY", "w_*", "GET", "g_*", "GET", "#", "STORE", dst)
        diff.check("LRANGE", dst, "0", "-1")
        diff.check("SORT", "src", "DESC", "LIMIT", str(i), "5", "STORE", dst)
        diff.check("LRANGE", dst, "0", "-1")
    diff.check("DBSIZE")


def test_store_big_values(diff):
    big = "x" * 10000
    run(diff, ("RPUSH", "l", "b", "a"), ("MSET", "v_a", big, "v_b", big + "y"))
    diff.check("SORT", "l", "ALPHA", "GET", "v_*", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "l", "ALPHA", "GET", "v_*")


def test_store_dirty_counts(diff):
    # INFO's rdb_changes_since_last_save moves the same way in both.
    run(diff, ("RPUSH", "l", "3", "1", "2"))

    def changes(conn):
        info = parse(conn.call("INFO", "persistence")).decode()
        for line in info.splitlines():
            if line.startswith("rdb_changes_since_last_save:"):
                return int(line.split(":")[1])
    p0, r0 = changes(diff.pconn), changes(diff.rconn)
    diff.check("SORT", "l", "STORE", "dst", "GET", "#", "GET", "#")
    diff.check("SORT", "l", "LIMIT", "0", "0", "STORE", "dst")
    diff.check("SORT", "l", "LIMIT", "0", "0", "STORE", "dst")
    assert changes(diff.pconn) - p0 == changes(diff.rconn) - r0


# --------------------------------------------------------------------------
# Binary, RESP3, databases, MULTI, COMMAND


def test_binary_elements(diff):
    run(diff, ["RPUSH", "l"] + BIN)
    diff.check("SORT", "l", "ALPHA")
    diff.check("SORT", "l", "ALPHA", "DESC")
    diff.check("SORT", "l", "ALPHA", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    diff.check("SORT", "l", "BY", "nosort", "GET", "#")
    run(diff, ["SADD", "s"] + BIN)
    # "a", "a\0b" and "a\0c" compare equal as C strings: their order is the
    # set's table order, which differs between the servers.
    p, r = diff.both("SORT", "s", "ALPHA")
    assert sorted(parse(p)) == sorted(parse(r))
    assert [x.split(b"\0")[0] for x in parse(p)] == [x.split(b"\0")[0] for x in parse(r)]
    diff.check("SORT", "s", "ALPHA", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    # Binary pattern keys and weights.
    for i, b in enumerate(BIN):
        run(diff, ("SET", b"w\xff" + b, str(i * 7 % 5)), ("SET", b"g_" + b, b"\x00v" + b))
    diff.check("SORT", "l", "BY", b"w\xff*", "GET", b"g_*", "GET", "#")
    diff.check("SORT", "l", "BY", b"w\xff*", "DESC", "GET", b"g_*", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    # A NUL in a pattern hides what follows from the '*' / "->" search.
    diff.check("SORT", "l", "BY", b"w\x00*", "GET", b"g_\x00*")
    diff.check("SORT", "l", "ALPHA", "GET", b"g_*\x00->f")
    diff.check("SORT", "l", "ALPHA", "GET", b"#\x00")


def test_resp3(diff):
    diff.hello3()
    run(diff, ("RPUSH", "l", "2", "1", "3"), ("MSET", "g_1", "one", "g_3", "three"))
    diff.check("SORT", "l", "GET", "g_*", "GET", "#")
    diff.check("SORT", "l", "BY", "nosort", "GET", "g_*")
    diff.check("SORT", "l", "STORE", "dst")
    diff.check("SORT", "nosuch")
    diff.check("SORT_RO", "l", "DESC")
    diff.check("SORT", "l", "GET", "x")


def test_other_db(diff):
    run(diff, ("SELECT", "3"), ("RPUSH", "l", "2", "1"), ("MSET", "w_1", "5", "w_2", "1"))
    diff.check("SORT", "l", "BY", "w_*", "GET", "w_*", "STORE", "dst")
    diff.check("LRANGE", "dst", "0", "-1")
    run(diff, ("SELECT", "0"))
    diff.check("EXISTS", "dst", "l")
    diff.check("SORT", "l")


def test_multi_exec(diff):
    run(diff, ("RPUSH", "l", "2", "1", "3"), ("MSET", "w_1", "3", "w_2", "2", "w_3", "1"))
    diff.check_many([
        ("MULTI",),
        ("SET", "w_1", "0"),
        ("SORT", "l", "BY", "w_*", "GET", "w_*"),
        ("SORT", "l", "STORE", "dst"),
        ("LRANGE", "dst", "0", "-1"),
        ("SORT_RO", "l", "DESC"),
        ("SORT", "l", "bogus"),
        ("EXEC",),
    ])
    diff.check_many([("MULTI",), ("SORT_RO", "l", "STORE", "x"), ("EXEC",)])


def test_command_getkeys(diff):
    for args in (
        ["SORT", "a"],
        ["SORT", "a", "STORE", "b"],
        ["SORT", "a", "STORE", "b", "LIMIT", "0", "1", "STORE", "c", "GET", "x", "STORE"],
        ["SORT", "a", "LIMIT", "STORE", "x"],
        ["SORT", "a", "GET", "STORE", "x"],
        ["SORT", "a", "BY", "STORE", "STORE", "y"],
        ["SORT", "a", "STORE", "LIMIT", "x", "y"],
        ["SORT_RO", "a", "STORE", "b"],
        ["SORT_RO", "a"],
    ):
        diff.check("COMMAND", "GETKEYS", *args)
    diff.check("COMMAND", "INFO", "sort", "sort_ro")


def test_keyspace_stats_hits(diff):
    # Lookups of the sorted key and of pattern keys count as reads.
    run(diff, ("RPUSH", "l", "1", "2"), ("SET", "w_1", "1"))

    def hm(conn):
        info = parse(conn.call("INFO", "stats")).decode()
        d = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        return int(d["keyspace_hits"]), int(d["keyspace_misses"])
    p0, r0 = hm(diff.pconn), hm(diff.rconn)
    diff.check("SORT", "l", "BY", "w_*", "GET", "w_*", "GET", "#")
    diff.check("SORT", "nosuch")
    p1, r1 = hm(diff.pconn), hm(diff.rconn)
    assert (p1[0] - p0[0], p1[1] - p0[1]) == (r1[0] - r0[0], r1[1] - r0[1])


# --------------------------------------------------------------------------
# Atomicity: weights on both shards change together (MSET); a concurrent
# SORT ... GET reads them all at one moment.


def test_atomic_against_mset(diff):
    n = 16
    els = [str(i) for i in range(n)]
    port = diff.percore_port
    c = RespConn("127.0.0.1", port, timeout=30)
    c.call("RPUSH", "l", *els)
    c.call("MSET", *sum([["w_" + e, "0"] for e in els], []))
    stop = threading.Event()
    errors = []

    def writer():
        w = RespConn("127.0.0.1", port, timeout=30)
        v = 0
        while not stop.is_set():
            v += 1
            args = []
            for e in els:
                args += ["w_" + e, str(v)]
            w.call("MSET", *args)
        w.close()

    with background(stop, writer):
        for i in range(300):
            if i % 2:
                got = parse(c.call("SORT", "l", "BY", "w_*", "GET", "w_*"))
            else:
                c.call("SORT", "l", "BY", "w_*", "GET", "w_*", "STORE", "snap")
                got = parse(c.call("LRANGE", "snap", "0", "-1"))
            if len(set(got)) != 1:
                errors.append(got)
    c.close()
    assert not errors, errors[:3]


def test_empty_strings(diff):
    # Empty elements, keys and values are strings, never nil.
    run(diff, ("RPUSH", "l", ""), ("SADD", "s", ""), ("SET", "", "e"), ("SET", "w_", ""))
    for key in ("l", "s"):
        diff.check("SORT", key)
        diff.check("SORT", key, "BY", "nosort")
        diff.check("SORT", key, "ALPHA", "GET", "#", "GET", "*", "GET", "w_*", "GET", "x_*")
        diff.check("SORT", key, "BY", "w_*", "ALPHA", "GET", "w_*")
        diff.check("SORT", key, "BY", "*", "GET", "#", "STORE", "dst")
        diff.check("LRANGE", "dst", "0", "-1")
    run(diff, ("RPUSH", "m", "a", "b", "c"), ("SET", "w_a", ""), ("SET", "w_b", "x"))
    diff.check("SORT", "m", "BY", "w_*", "ALPHA")
    diff.check("SORT", "m", "BY", "w_*", "ALPHA", "DESC")
    diff.check("SORT", "m", "BY", "w_*")
