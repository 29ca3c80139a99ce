"""test_zset_diff.py -- differential tests of the sorted set commands
(src/cmd/t_zset.c, src/store/zset.c) against redis-server 7.0.

Every case sends the same commands to percore and to the reference Redis
(fixture `diff`, tests/integ/conftest.py) and compares raw reply bytes:
happy paths, every error text, WRONGTYPE, wrong arity, absent keys, score
formatting (0.1, 1e300, -0, inf), NaN, lex ranges, LIMIT with negative
counts, REV, both encodings and the conversions (also after CONFIG SET of
the thresholds and for the *STORE results), pipelines, RESP3 shapes, and a
seeded random walk. Random replies (ZRANDMEMBER, ZSCAN of a skiplist) are
checked by properties.

percore runs with two shards and a random hash seed: the multi-key commands
are run over several key-name sets so that some certainly span shards. The
atomicity test moves scores between keys with ZUNIONSTORE/ZINTERSTORE and
ZMPOP while a reader checks totals inside MULTI/EXEC.
"""
import random
import threading

import pytest

from diff_util import run, run_threads
from respclient import RespConn

HOST = "127.0.0.1"
BIN = b"a\x00b\r\nc\xff\x00"
KEYSETS = [("ka%d" % i, "kb%d" % i, "kc%d" % i) for i in range(6)]


@pytest.fixture
def small_zset(diff):
    """zset-max-listpack-entries 4 / value 8 on both servers for the test."""
    run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "4"),
        ("CONFIG", "SET", "zset-max-listpack-value", "8"))
    yield
    run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "128"),
        ("CONFIG", "SET", "zset-max-listpack-value", "64"))


def fill(key, n=6):
    return ("ZADD", key) + tuple(x for i in range(n) for x in (str(i * 1.5 - 2), "m%d" % i))


# --------------------------------------------------------------------------
# ZADD / ZINCRBY / ZSCORE / ZMSCORE / ZCARD / ZREM


def test_zadd_options(diff):
    run(diff,
        ("ZADD", "z", "1", "a", "2", "b", "3", "c"), ("ZADD", "z", "1", "a"),
        ("ZADD", "z", "CH", "5", "a", "2", "b", "9", "d"),
        ("ZADD", "z", "NX", "100", "a", "7", "e"), ("ZADD", "z", "XX", "100", "a", "7", "f"),
        ("ZADD", "z", "XX", "CH", "101", "a", "7", "f"),
        ("ZADD", "z", "GT", "CH", "50", "a", "500", "b"),
        ("ZADD", "z", "LT", "CH", "50", "a", "600", "b"),
        ("ZADD", "z", "GT", "XX", "CH", "1000", "a", "1", "zz"),
        ("ZADD", "z", "INCR", "5", "a"), ("ZADD", "z", "INCR", "NX", "5", "a"),
        ("ZADD", "z", "INCR", "XX", "5", "nope"), ("ZADD", "z", "INCR", "GT", "-5", "a"),
        ("ZADD", "z", "INCR", "LT", "-5", "a"),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
        ("ZADD", "z", "NX", "XX", "1", "a"), ("ZADD", "z", "GT", "LT", "1", "a"),
        ("ZADD", "z", "NX", "GT", "1", "a"), ("ZADD", "z", "NX", "LT", "1", "a"),
        ("ZADD", "z", "INCR", "1", "a", "2", "b"), ("ZADD", "z", "1"),
        ("ZADD", "z", "1", "a", "2"), ("ZADD", "z", "nx"), ("ZADD", "z", "x", "a"),
        ("ZADD", "z", "nan", "a"), ("ZADD", "z", "1", "a", "bad", "b"), ("ZADD", "z"),
        ("ZADD", "z", "inf", "i"), ("ZADD", "z", "-inf", "j"), ("ZADD", "z", "+inf", "k"),
        ("ZINCRBY", "z", "-inf", "i"), ("ZADD", "z", "INCR", "-inf", "i"), ("ZSCORE", "z", "i"),
        ("ZADD", "nk", "XX", "1", "a"), ("EXISTS", "nk"), ("ZADD", "nk", "XX", "INCR", "1", "a"),
        ("ZADD", "z", "1e400", "big"), ("ZADD", "z", " 1", "sp"), ("ZADD", "z", "0x10", "hex"),
        ("ZADD", "z", "", "empty"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"))


def test_zincrby(diff):
    run(diff,
        ("ZINCRBY", "z", "1.5", "a"), ("ZINCRBY", "z", "-0.5", "a"), ("ZINCRBY", "z", "x", "a"),
        ("ZINCRBY", "z", "nan", "a"), ("ZINCRBY", "z", "inf", "a"), ("ZINCRBY", "z", "-inf", "a"),
        ("ZINCRBY", "z", "nx", "a"), ("ZINCRBY", "z", "1"), ("ZINCRBY", "z", "1", "a", "b"),
        ("ZSCORE", "z", "a"), ("SET", "s", "x"), ("ZINCRBY", "s", "1", "a"))


def test_score_formatting(diff):
    vals = ["0.1", "1e300", "-0", "0", "-0.0", "3", "1e17", "123456789012345678", "1.5e-10",
            "-2.5", "0.3", "1e-320", "4.9e-324", "1.7976931348623157e308", "inf", "-inf",
            "100", "9007199254740993", "-1e22", "2.5e15"]
    cmds = []
    for i, v in enumerate(vals):
        cmds += [("ZADD", "f", v, "m%d" % i), ("ZSCORE", "f", "m%d" % i),
                 ("ZINCRBY", "g", v, "m%d" % i)]
    cmds += [("ZRANGE", "f", "0", "-1", "WITHSCORES"), ("ZSCAN", "f", "0", "COUNT", "100"),
             ("ZMSCORE", "f", "m0", "m1", "m2", "nope"), ("ZRANGE", "g", "0", "-1", "WITHSCORES")]
    run(diff, *cmds)
    diff.hello3()
    run(diff, *cmds)


def test_score_read_write_members(diff):
    run(diff,
        ("ZADD", "z", "1", "a", "2", "b", "3", BIN, "4", "12345", "5", "-7", "6", ""),
        ("ZSCORE", "z", BIN), ("ZSCORE", "z", "12345"), ("ZSCORE", "z", ""),
        ("ZSCORE", "z", "nope"), ("ZSCORE", "nokey", "a"), ("ZMSCORE", "z", "a", "zz", "-7"),
        ("ZMSCORE", "nokey", "a", "b"), ("ZCARD", "z"), ("ZCARD", "nokey"),
        ("ZREM", "z", "a", "zz", "a", BIN), ("ZREM", "nokey", "a"), ("ZCARD", "z"),
        ("ZREM", "z", "b", "12345", "-7", ""), ("EXISTS", "z"), ("TYPE", "z"),
        ("ZSCORE", "z"), ("ZMSCORE", "z"), ("ZCARD",), ("ZREM", "z"))


def test_wrongtype(diff):
    run(diff, ("SET", "s", "x"), ("RPUSH", "l", "a"), ("SADD", "st", "a"))
    cmds = [("ZADD", "s", "1", "a"), ("ZINCRBY", "s", "1", "a"), ("ZSCORE", "s", "a"),
            ("ZMSCORE", "s", "a"), ("ZCARD", "s"), ("ZREM", "s", "a"), ("ZRANK", "s", "a"),
            ("ZREVRANK", "s", "a"), ("ZCOUNT", "s", "0", "1"), ("ZLEXCOUNT", "s", "-", "+"),
            ("ZRANGE", "s", "0", "1"), ("ZREVRANGE", "s", "0", "1"),
            ("ZRANGEBYSCORE", "s", "0", "1"), ("ZREVRANGEBYSCORE", "s", "1", "0"),
            ("ZRANGEBYLEX", "s", "-", "+"), ("ZREVRANGEBYLEX", "s", "+", "-"),
            ("ZREMRANGEBYRANK", "s", "0", "1"), ("ZREMRANGEBYSCORE", "s", "0", "1"),
            ("ZREMRANGEBYLEX", "s", "-", "+"), ("ZPOPMIN", "s"), ("ZPOPMAX", "s", "2"),
            ("ZRANDMEMBER", "s"), ("ZRANDMEMBER", "s", "2"), ("ZSCAN", "s", "0"),
            ("ZUNION", "1", "s"), ("ZINTER", "1", "l"), ("ZDIFF", "1", "s"),
            ("ZINTERCARD", "1", "s"), ("ZRANGESTORE", "d", "s", "0", "-1"),
            ("ZMPOP", "1", "s", "MIN"), ("ZUNIONSTORE", "d", "1", "l")]
    run(diff, *cmds)
    run(diff, ("EXISTS", "d"), ("ZUNION", "2", "st", "nokey", "WITHSCORES"))


# --------------------------------------------------------------------------
# Ranks, counts, ranges


def test_rank_count(diff):
    run(diff, fill("z", 8),
        ("ZRANK", "z", "m0"), ("ZRANK", "z", "m7"), ("ZREVRANK", "z", "m0"),
        ("ZRANK", "z", "nope"), ("ZRANK", "nokey", "a"), ("ZREVRANK", "nokey", "a"),
        ("ZRANK", "z", "m1", "x"),
        ("ZCOUNT", "z", "-inf", "+inf"), ("ZCOUNT", "z", "(1", "4"), ("ZCOUNT", "z", "1", "(4"),
        ("ZCOUNT", "z", "(-0.5", "(-0.5"), ("ZCOUNT", "z", "5", "1"), ("ZCOUNT", "z", "a", "1"),
        ("ZCOUNT", "z", "1", "nan"), ("ZCOUNT", "z", "(", "1"), ("ZCOUNT", "z", "", "10"),
        ("ZCOUNT", "z", "1 ", "10"), ("ZCOUNT", "z", " 1", "10"), ("ZCOUNT", "z", "((1", "10"),
        ("ZCOUNT", "nokey", "0", "1"), ("ZCOUNT", "z", "1e400", "inf"),
        ("ZCOUNT", "z", b"1\x00x", "10"))


LEX_ARGS = ["-", "+", "[a", "(a", "[b", "(b", "[", "(", "[c\x00", "a", "", "+x", "-x", "[zz",
            "(aa", "[ab"]


def test_lex_ranges(diff, small_zset):
    for key, members in (("lz", ["a", "aa", "ab", "b", "c"]),
                         ("lb", ["a", "aa", "ab", "b", "c", "ccccccccccccc", "d", "e"])):
        run(diff, ("ZADD", key) + tuple(x for m in members for x in ("0", m)),
            ("OBJECT", "ENCODING", key))
        cmds = []
        for lo in LEX_ARGS:
            for hi in LEX_ARGS[:8]:
                cmds += [("ZLEXCOUNT", key, lo, hi), ("ZRANGEBYLEX", key, lo, hi),
                         ("ZREVRANGEBYLEX", key, hi, lo)]
        cmds += [("ZRANGEBYLEX", key, "-", "+", "LIMIT", "1", "2"),
                 ("ZRANGEBYLEX", key, "-", "+", "LIMIT", "1", "-1"),
                 ("ZRANGEBYLEX", key, "-", "+", "LIMIT", "-1", "2"),
                 ("ZRANGEBYLEX", key, "-", "+", "LIMIT", "0", "0"),
                 ("ZRANGEBYLEX", key, "-", "+", "LIMIT", "10", "1"),
                 ("ZREVRANGEBYLEX", key, "+", "-", "LIMIT", "1", "3"),
                 ("ZRANGEBYLEX", key, "-", "+", "LIMIT", "1"),
                 ("ZRANGEBYLEX", key, "-", "+", "WITHSCORES"),
                 ("ZRANGEBYLEX", key, "-", "+", "LIMIT", "x", "1"),
                 ("ZRANGEBYLEX", "nokey", "-", "+"), ("ZLEXCOUNT", "nokey", "-", "+"),
                 ("ZRANGE", key, "[b", "[a", "BYLEX", "REV"),
                 ("ZRANGE", key, "(a", "+", "BYLEX", "LIMIT", "1", "2"),
                 ("ZRANGE", key, "-", "+", "BYLEX", "WITHSCORES")]
        run(diff, *cmds)


def test_rank_ranges(diff, small_zset):
    for key, n in (("small", 4), ("big", 12)):
        run(diff, fill(key, n), ("OBJECT", "ENCODING", key))
        cmds = []
        for a in ["0", "1", "-1", "-3", "5", "-100", "100", "3"]:
            for b in ["0", "-1", "2", "-2", "100", "-100", "7"]:
                cmds += [("ZRANGE", key, a, b), ("ZREVRANGE", key, a, b, "WITHSCORES"),
                         ("ZRANGE", key, a, b, "REV", "WITHSCORES")]
        cmds += [("ZRANGE", key, "0", "-1", "LIMIT", "0", "1"),
                 ("ZRANGE", key, "x", "1"), ("ZRANGE", key, "0", "1", "withscore"),
                 ("ZRANGE", key, "0", "1", "BYSCORE", "BYLEX"),
                 ("ZRANGE", key, "0", "1", "REV", "REV"),
                 ("ZRANGE", key, "0", "9223372036854775807"),
                 ("ZRANGE", key, "0", "9223372036854775808"),
                 ("ZREVRANGE", key, "0", "1", "REV"), ("ZRANGE", "nokey", "0", "-1"),
                 ("ZRANGE", key, "0"), ("ZREVRANGE", key, "0")]
        run(diff, *cmds)


SCORE_ARGS = ["-inf", "+inf", "0", "(0", "1", "(1", "-2", "(-2", "2.5", "(2.5", "100", "x", "(x",
              "nan"]


def test_score_ranges(diff, small_zset):
    for key, n in (("small", 4), ("big", 12)):
        run(diff, fill(key, n))
        cmds = []
        for lo in SCORE_ARGS:
            for hi in SCORE_ARGS[:10]:
                cmds += [("ZRANGEBYSCORE", key, lo, hi, "WITHSCORES"),
                         ("ZREVRANGEBYSCORE", key, hi, lo),
                         ("ZRANGE", key, lo, hi, "BYSCORE")]
        for off, cnt in [("0", "2"), ("1", "-1"), ("-1", "2"), ("2", "0"), ("3", "-5"),
                         ("100", "1"), ("11", "1"), ("0", "100")]:
            cmds += [("ZRANGEBYSCORE", key, "-inf", "inf", "LIMIT", off, cnt),
                     ("ZREVRANGEBYSCORE", key, "inf", "-inf", "WITHSCORES", "LIMIT", off, cnt),
                     ("ZRANGE", key, "(-1", "100", "BYSCORE", "REV", "LIMIT", off, cnt),
                     ("ZRANGE", key, "100", "(-1", "BYSCORE", "REV", "LIMIT", off, cnt,
                      "WITHSCORES")]
        cmds += [("ZRANGEBYSCORE", key, "0", "1", "LIMIT"),
                 ("ZRANGEBYSCORE", key, "0", "1", "LIMIT", "1", "x"),
                 ("ZRANGEBYSCORE", key, "0", "1", "REV"),
                 ("ZRANGEBYSCORE", key, "0", "1", "BYSCORE"),
                 ("ZRANGEBYSCORE", "nokey", "0", "1"),
                 ("ZRANGE", key, "x", "1", "BYSCORE", "LIMIT", "x", "1"),
                 ("ZRANGE", key, "x", "1", "BYSCORE", "LIMIT", "0")]
        run(diff, *cmds)


def test_resp3_shapes(diff):
    diff.hello3()
    run(diff, fill("z", 5),
        ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZRANGE", "z", "0", "-1"),
        ("ZRANGEBYSCORE", "z", "-inf", "inf", "WITHSCORES", "LIMIT", "1", "2"),
        ("ZREVRANGE", "z", "0", "1", "WITHSCORES"), ("ZSCORE", "z", "m1"), ("ZSCORE", "z", "x"),
        ("ZMSCORE", "z", "m1", "x"), ("ZRANK", "z", "x"), ("ZINCRBY", "z", "1", "m1"),
        ("ZADD", "z", "XX", "INCR", "1", "nope"), ("ZRANDMEMBER", "nokey"),
        ("ZRANDMEMBER", "z", "10", "WITHSCORES"), ("ZRANDMEMBER", "z", "0"),
        ("ZPOPMIN", "z"), ("ZPOPMIN", "z", "1"), ("ZPOPMAX", "z", "2"), ("ZPOPMIN", "nokey"),
        ("ZPOPMIN", "nokey", "3"), fill("y", 3), ("ZMPOP", "2", "nokey", "y", "MAX", "COUNT", "2"),
        ("ZMPOP", "1", "nokey", "MIN"), ("ZUNION", "1", "y", "WITHSCORES"),
        ("ZINTER", "1", "y", "WITHSCORES"), ("ZDIFF", "1", "y", "WITHSCORES"),
        ("ZSCAN", "y", "0"), ("ZSCAN", "nokey", "0"))


# --------------------------------------------------------------------------
# Removal by range, pops


def test_zremrange(diff, small_zset):
    for n in (4, 10):
        cmds = []
        for args in [("ZREMRANGEBYRANK", "0", "1"), ("ZREMRANGEBYRANK", "-2", "-1"),
                     ("ZREMRANGEBYRANK", "5", "1"), ("ZREMRANGEBYRANK", "0", "-1"),
                     ("ZREMRANGEBYRANK", "100", "200"), ("ZREMRANGEBYRANK", "x", "1"),
                     ("ZREMRANGEBYSCORE", "(-2", "1"), ("ZREMRANGEBYSCORE", "-inf", "+inf"),
                     ("ZREMRANGEBYSCORE", "5", "1"), ("ZREMRANGEBYSCORE", "x", "1"),
                     ("ZREMRANGEBYLEX", "-", "+"), ("ZREMRANGEBYLEX", "[m1", "(m3"),
                     ("ZREMRANGEBYLEX", "a", "+")]:
            cmds += [("DEL", "z"), fill("z", n), (args[0], "z") + args[1:],
                     ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("EXISTS", "z"),
                     ("OBJECT", "ENCODING", "z"), (args[0], "nokey") + args[1:]]
        run(diff, *cmds)
    run(diff, ("ZREMRANGEBYRANK", "z", "0"), ("ZREMRANGEBYSCORE", "z", "0", "1", "2"))


def test_pops(diff, small_zset):
    cmds = []
    for args in [(), ("1",), ("0",), ("3",), ("100",), ("-1",), ("x",), ("1", "2")]:
        for cmd in ("ZPOPMIN", "ZPOPMAX"):
            cmds += [("DEL", "z"), fill("z", 6), (cmd, "z") + args,
                     ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("EXISTS", "z"),
                     ("OBJECT", "ENCODING", "z"), (cmd, "nokey") + args]
    run(diff, *cmds)


def test_zmpop_errors_and_single_shard(diff):
    run(diff, fill("{t}a", 3), fill("{t}b", 3),
        ("ZMPOP", "0", "z", "MIN"), ("ZMPOP", "-1", "z", "MIN"), ("ZMPOP", "x", "z", "MIN"),
        ("ZMPOP", "1", "z"), ("ZMPOP", "2", "z", "MIN"), ("ZMPOP", "1", "z", "MIDDLE"),
        ("ZMPOP", "1", "z", "MIN", "COUNT"), ("ZMPOP", "1", "z", "MIN", "COUNT", "0"),
        ("ZMPOP", "1", "z", "MIN", "COUNT", "-1"), ("ZMPOP", "1", "z", "MIN", "COUNT", "x"),
        ("ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"),
        ("ZMPOP", "1", "z", "MIN", "foo"), ("ZMPOP", "1", "nokey", "MIN"),
        ("ZMPOP", "1", "{t}a", "MIN"), ("ZMPOP", "1", "{t}a", "max", "count", "10"),
        ("ZMPOP", "1", "{t}a", "MIN"), ("ZMPOP", "1", "{t}b", "MIN", "COUNT", "2"))


# --------------------------------------------------------------------------
# Multi-key commands over several key sets (some span shards)


def test_algebra(diff, small_zset):
    for a, b, c in KEYSETS:
        cmds = [("ZADD", a, "1", "x", "2", "y", "3", "z", "0.1", "w"),
                ("ZADD", b, "10", "y", "20", "z", "30", "v", "inf", "w"),
                ("SADD", c, "x", "y", "q")]
        for op in ("ZUNION", "ZINTER"):
            cmds += [(op, "2", a, b), (op, "2", a, b, "WITHSCORES"),
                     (op, "3", a, b, c, "WITHSCORES"),
                     (op, "2", a, b, "WEIGHTS", "2", "0.5", "WITHSCORES"),
                     (op, "2", a, b, "WEIGHTS", "-inf", "1", "WITHSCORES"),
                     (op, "2", a, b, "AGGREGATE", "MIN", "WITHSCORES"),
                     (op, "2", a, b, "AGGREGATE", "max", "WEIGHTS", "1", "2", "WITHSCORES"),
                     (op, "2", a, b, "WEIGHTS", "1"), (op, "2", a, b, "WEIGHTS", "1", "x"),
                     (op, "2", a, b, "AGGREGATE", "avg"), (op, "2", a, b, "AGGREGATE"),
                     (op, "2", a, b, "LIMIT", "1"), (op, "0", a), (op, "-1", a), (op, "x", a),
                     (op, "3", a, b), (op, "2", a, "nokey", "WITHSCORES"), (op, "1", "nokey")]
            cmds += [(op + "STORE", "d" + a, "2", a, b),
                     ("ZRANGE", "d" + a, "0", "-1", "WITHSCORES"),
                     ("OBJECT", "ENCODING", "d" + a),
                     (op + "STORE", "d" + a, "3", a, b, c, "WEIGHTS", "1", "2", "3",
                      "AGGREGATE", "MAX"),
                     ("ZRANGE", "d" + a, "0", "-1", "WITHSCORES"),
                     (op + "STORE", "d" + a, "2", a, b, "WITHSCORES"),
                     (op + "STORE", "d" + a, "1", "nokey"), ("EXISTS", "d" + a),
                     (op + "STORE", a, "2", a, b), ("ZRANGE", a, "0", "-1", "WITHSCORES"),
                     ("ZADD", a, "1", "x", "2", "y", "3", "z", "0.1", "w"),
                     (op + "STORE", "d" + a, "0", a), (op + "STORE", "d" + a, "3", a)]
        cmds += [("ZDIFF", "2", a, b), ("ZDIFF", "2", a, b, "WITHSCORES"),
                 ("ZDIFF", "3", a, c, b, "WITHSCORES"), ("ZDIFF", "2", a, b, "WEIGHTS", "1", "1"),
                 ("ZDIFF", "1", "nokey"), ("ZDIFF", "2", "nokey", a), ("ZDIFF", "0", a),
                 ("ZDIFFSTORE", "d" + a, "2", a, b), ("ZRANGE", "d" + a, "0", "-1", "WITHSCORES"),
                 ("ZDIFFSTORE", "d" + a, "2", a, a), ("EXISTS", "d" + a),
                 ("ZDIFFSTORE", "d" + a, "2", a, b, "WITHSCORES"),
                 ("ZINTERCARD", "2", a, b), ("ZINTERCARD", "3", a, b, c),
                 ("ZINTERCARD", "2", a, c, "LIMIT", "1"), ("ZINTERCARD", "2", a, c, "LIMIT", "0"),
                 ("ZINTERCARD", "2", a, c, "LIMIT", "-1"), ("ZINTERCARD", "2", a, c, "LIMIT"),
                 ("ZINTERCARD", "2", a, c, "WITHSCORES"), ("ZINTERCARD", "0", a),
                 ("ZINTERCARD", "3", a, c), ("ZINTERCARD", "1", "nokey"),
                 ("DEL", a, b, c, "d" + a)]
        run(diff, *cmds)


def test_store_encodings(diff, small_zset):
    for a, b, c in KEYSETS[:3]:
        big = ("ZADD", a) + tuple(x for i in range(10) for x in (str(i), "e%d" % i))
        run(diff, big, ("ZADD", b, "1", "e1", "2", "e2"),
            ("ZINTERSTORE", c, "2", a, b), ("OBJECT", "ENCODING", c),
            ("ZUNIONSTORE", c, "2", a, b), ("OBJECT", "ENCODING", c),
            ("ZADD", b, "1", "longmember-over-8"), ("ZUNIONSTORE", c, "1", b),
            ("OBJECT", "ENCODING", c), ("ZDIFFSTORE", c, "2", a, b), ("OBJECT", "ENCODING", c),
            ("ZRANGESTORE", c, a, "0", "2"), ("OBJECT", "ENCODING", c),
            ("ZRANGESTORE", c, a, "0", "-1"), ("OBJECT", "ENCODING", c),
            ("ZRANGESTORE", c, a, "0", "inf", "BYSCORE"), ("OBJECT", "ENCODING", c),
            ("ZRANGESTORE", c, a, "0", "2", "BYSCORE"), ("OBJECT", "ENCODING", c),
            ("ZRANGESTORE", c, b, "-", "+", "BYLEX"), ("OBJECT", "ENCODING", c),
            ("DEL", a, b, c))


def test_zrangestore(diff):
    for a, b, _ in KEYSETS:
        run(diff, fill(a, 6),
            ("ZRANGESTORE", b, a, "0", "2"), ("ZRANGE", b, "0", "-1", "WITHSCORES"),
            ("ZRANGESTORE", b, a, "1", "(3", "BYSCORE", "REV"),
            ("ZRANGESTORE", b, a, "3", "1", "BYSCORE", "REV", "LIMIT", "1", "1"),
            ("ZRANGE", b, "0", "-1", "WITHSCORES"),
            ("ZRANGESTORE", b, a, "[m1", "[m4", "BYLEX"), ("ZRANGE", b, "0", "-1"),
            ("ZRANGESTORE", b, a, "5", "1"), ("EXISTS", b),
            ("ZRANGESTORE", b, a, "0", "-1"), ("ZRANGESTORE", b, "nokey", "0", "-1"),
            ("EXISTS", b), ("ZRANGESTORE", b, a, "0", "-1", "WITHSCORES"),
            ("ZRANGESTORE", b, a, "0", "-1", "LIMIT", "0", "1"),
            ("ZRANGESTORE", b, a, "x", "1"), ("ZRANGESTORE", b, a, "0"),
            ("SET", b, "str"), ("ZRANGESTORE", b, a, "0", "1"), ("TYPE", b),
            ("DEL", a, b))


def test_zmpop_across_keys(diff):
    for a, b, c in KEYSETS:
        run(diff, fill(b, 3), ("SET", c, "str"),
            ("ZMPOP", "2", a, b, "MIN"), ("ZMPOP", "3", a, b, c, "MAX", "COUNT", "5"),
            ("EXISTS", b), ("ZMPOP", "3", a, b, c, "MIN"), ("ZMPOP", "2", a, b, "MIN"),
            fill(a, 2), ("ZMPOP", "3", a, b, c, "MIN", "COUNT", "10"), ("DEL", a, b, c))


# --------------------------------------------------------------------------
# Encodings


def test_encodings(diff):
    run(diff, ("ZADD", "z", "1", "a"), ("OBJECT", "ENCODING", "z"),
        ("ZADD", "z", "1", "x" * 65), ("OBJECT", "ENCODING", "z"),
        ("ZREM", "z", "x" * 65), ("OBJECT", "ENCODING", "z"),
        ("ZADD", "big", "1", "y" * 65), ("OBJECT", "ENCODING", "big"),
        ("ZADD", "many") + tuple(x for i in range(129) for x in (str(i), "m%d" % i)),
        ("OBJECT", "ENCODING", "many"),
        ("ZADD", "edge") + tuple(x for i in range(128) for x in (str(i), "m%d" % i)),
        ("OBJECT", "ENCODING", "edge"), ("ZADD", "edge", "1", "one-more"),
        ("OBJECT", "ENCODING", "edge"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "0"), ("ZADD", "zero", "1", "a"),
        ("OBJECT", "ENCODING", "zero"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "2"),
        ("ZADD", "two", "1", "a", "2", "b"), ("OBJECT", "ENCODING", "two"),
        ("ZADD", "two", "3", "c"), ("OBJECT", "ENCODING", "two"),
        ("ZADD", "three", "1", "a", "2", "b", "3", "c"), ("OBJECT", "ENCODING", "three"),
        ("CONFIG", "SET", "zset-max-listpack-entries", "128"),
        ("CONFIG", "SET", "zset-max-listpack-value", "3"), ("ZADD", "v", "1", "abcd"),
        ("OBJECT", "ENCODING", "v"), ("ZADD", "w", "1", "abc", "2", "abcde"),
        ("OBJECT", "ENCODING", "w"),
        ("CONFIG", "SET", "zset-max-listpack-value", "64"))


def test_zscan(diff, small_zset):
    run(diff, fill("z", 4), ("ZSCAN", "z", "0"), ("ZSCAN", "z", "0", "MATCH", "m[12]"),
        ("ZSCAN", "z", "0", "COUNT", "1"), ("ZSCAN", "z", "x"), ("ZSCAN", "z", "-1"),
        ("ZSCAN", "z", "0", "COUNT", "0"), ("ZSCAN", "z", "0", "COUNT", "x"),
        ("ZSCAN", "z", "0", "MATCH"), ("ZSCAN", "z", "0", "FOO", "1"),
        ("ZSCAN", "nokey", "0"), ("ZSCAN", "nokey", "0", "COUNT", "0"), ("ZSCAN", "z"))
    # skiplist: gather the whole scan and compare as a set
    members = {"s%d" % i: str(i * 0.25) for i in range(50)}
    diff.percore.zadd("sk", {k: float(v) for k, v in members.items()})
    cursor, seen = b"0", {}
    for _ in range(1000):
        reply = diff.pconn.call_parsed("ZSCAN", "sk", cursor, "COUNT", "7")
        cursor, items = reply[0], reply[1]
        for i in range(0, len(items), 2):
            seen[items[i].decode()] = items[i + 1].decode()
        if cursor == b"0":
            break
    assert seen == {k: ("%.17g" % float(v)) for k, v in members.items()}
    reply = diff.pconn.call_parsed("ZSCAN", "sk", "0", "MATCH", "s1*", "COUNT", "1000")
    assert sorted(reply[1][0::2]) == sorted(k.encode() for k in members if k.startswith("s1"))


def test_zrandmember(diff, small_zset):
    run(diff, ("ZRANDMEMBER", "nokey"), ("ZRANDMEMBER", "nokey", "3"),
        ("ZRANDMEMBER", "nokey", "-3", "WITHSCORES"), ("ZRANDMEMBER", "z", "x"),
        ("ZRANDMEMBER", "z", "1", "foo"), ("ZRANDMEMBER", "z", "1", "WITHSCORES", "x"),
        ("ZRANDMEMBER", "z", "-9223372036854775808"),
        ("ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"),
        ("ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"))
    for key, n in (("z", 4), ("big", 20)):
        members = {"m%d" % i: i * 1.5 - 2 for i in range(n)}
        diff.percore.zadd(key, members)
        diff.redis.zadd(key, members)
        run(diff, ("ZRANDMEMBER", key, str(n)), ("ZRANDMEMBER", key, str(n + 5), "WITHSCORES"))
        r = diff.percore
        assert r.zrandmember(key).decode() in members
        for cnt in (1, 2, 3, n - 1):
            got = r.zrandmember(key, cnt)
            assert len(got) == cnt and len(set(got)) == cnt
            assert all(g.decode() in members for g in got)
        got = r.execute_command("ZRANDMEMBER", key, "-30", "WITHSCORES")
        assert len(got) == 60
        for i in range(0, 60, 2):
            assert float(got[i + 1]) == members[got[i].decode()]
        got = r.execute_command("ZRANDMEMBER", key, "3", "WITHSCORES")
        assert len(got) == 6 and len(set(got[0::2])) == 3
    seen = set()
    for _ in range(200):
        seen.add(diff.percore.zrandmember("big"))
    assert len(seen) > 10


def test_arity(diff):
    run(diff, ("ZADD", "z", "1"), ("ZINCRBY", "z"), ("ZREM", "z"), ("ZCARD",),
        ("ZSCORE", "z"), ("ZMSCORE", "z"), ("ZRANK", "z"), ("ZCOUNT", "z", "1"),
        ("ZLEXCOUNT", "z", "-"), ("ZRANGE", "z", "0"), ("ZRANGESTORE", "d", "z", "0"),
        ("ZRANGEBYSCORE", "z", "0"), ("ZREVRANGEBYLEX", "z", "+"), ("ZPOPMIN",),
        ("ZMPOP", "1", "z"), ("ZRANDMEMBER",), ("ZSCAN", "z"), ("ZUNION", "1"),
        ("ZINTERSTORE", "d", "1"), ("ZINTERCARD", "1"), ("ZDIFFSTORE", "d", "1"),
        ("ZREMRANGEBYLEX", "z", "-"))


def test_random_walk(diff):
    """A seeded random mix of commands on few keys, both encodings."""
    rnd = random.Random(4242)
    run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "8"))
    keys = ["r1", "r2", "r3"]
    members = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "10", "-3", BIN]
    scores = ["0", "1", "-1", "2.5", "0.1", "inf", "-inf", "(1", "3"]
    cmds = []
    for _ in range(1500):
        k = rnd.choice(keys)
        m = rnd.choice(members)
        s = rnd.choice(scores[:7])
        pick = rnd.randrange(16)
        if pick < 5:
            cmds.append(("ZADD", k, s, m, rnd.choice(scores[:7]), rnd.choice(members)))
        elif pick == 5:
            cmds.append(("ZINCRBY", k, s, m))
        elif pick == 6:
            cmds.append(("ZREM", k, m, rnd.choice(members)))
        elif pick == 7:
            cmds.append(("ZRANGE", k, str(rnd.randint(-5, 5)), str(rnd.randint(-5, 5)),
                         "WITHSCORES"))
        elif pick == 8:
            cmds.append(("ZRANGEBYSCORE", k, rnd.choice(scores), rnd.choice(scores),
                         "WITHSCORES", "LIMIT", str(rnd.randint(0, 3)), str(rnd.randint(-1, 3))))
        elif pick == 9:
            cmds.append(("ZRANK", k, m))
        elif pick == 10:
            cmds.append(("ZCOUNT", k, rnd.choice(scores), rnd.choice(scores)))
        elif pick == 11:
            cmds.append(("ZPOPMIN", k, str(rnd.randint(1, 2))))
        elif pick == 12:
            cmds.append(("ZREMRANGEBYSCORE", k, rnd.choice(scores), rnd.choice(scores)))
        elif pick == 13:
            cmds.append(("ZUNIONSTORE", rnd.choice(keys), "2", k, rnd.choice(keys),
                         "AGGREGATE", rnd.choice(["SUM", "MIN", "MAX"])))
        elif pick == 14:
            cmds.append(("ZINTER", "2", k, rnd.choice(keys), "WITHSCORES"))
        else:
            cmds.append(("OBJECT", "ENCODING", k))
    try:
        run(diff, *cmds)
        run(diff, *[("ZRANGE", k, "0", "-1", "WITHSCORES") for k in keys])
    finally:
        run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "128"))


def test_multi_exec(diff):
    a, b, c = KEYSETS[0]
    run(diff, ("MULTI",), fill(a, 3), ("ZUNIONSTORE", c, "2", a, b), ("ZMPOP", "2", b, a, "MIN"),
        ("ZRANGESTORE", b, c, "0", "-1"), ("ZINTERCARD", "2", b, c), ("EXEC",))


# --------------------------------------------------------------------------
# Atomicity across shards


def test_store_atomic_across_shards(diff):
    """Writers rebuild the sum of two zsets into a third key (ZUNIONSTORE)
    and move it back (ZRANGESTORE, ZMPOP), keeping every member's total
    score constant; a reader checks inside MULTI/EXEC that a*2 key's
    ZCARD and the total never show a half-applied store."""
    sets = [("at%d" % i, "bt%d" % i) for i in range(6)]
    setup = RespConn(HOST, diff.percore_port)
    for a, b in sets:
        setup.call("ZADD", a, *[x for i in range(20) for x in (str(i), "m%d" % i)])
    setup.close()
    stop = threading.Event()
    bad, errors = [], []

    def writer(idx):
        c = RespConn(HOST, diff.percore_port)
        try:
            i = 0
            while not stop.is_set():
                a, b = sets[(i + idx) % len(sets)]
                # a -> b (whole copy), then b -> a back, then drop b
                c.call("ZUNIONSTORE", b, "1", a)
                c.call("ZRANGESTORE", a, b, "0", "-1")
                c.call("ZINTERSTORE", b, "2", a, b, "AGGREGATE", "MAX")
                i += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))
        finally:
            c.close()

    def reader():
        c = RespConn(HOST, diff.percore_port)
        try:
            while not stop.is_set():
                for a, b in sets:
                    c.call("MULTI")
                    c.call("ZCARD", a)
                    c.call("ZCARD", b)
                    c.call("ZUNION", "2", a, b, "AGGREGATE", "MAX", "WITHSCORES")
                    res = c.call_parsed("EXEC")
                    if res[0] != 20 or res[1] not in (0, 20) or len(res[2]) != 40:
                        bad.append(res[:2])
        except Exception as e:  # pragma: no cover
            errors.append(repr(e))
        finally:
            c.close()

    run_threads(2.0, stop, [(writer, i) for i in range(3)] + [(reader,)])
    assert not errors, errors
    assert not bad, bad[:5]


def test_copy_is_deep_zset(diff):
    # Both encodings: a listpack and a skiplist, copied (maybe across shards),
    # then each side changed; the other must not see it.
    big = []
    for i in range(200):
        big += [str(i), "m%d" % i]
    cmds = [["ZADD", "zl", "1", "a", "2", "b"], ["ZADD", "zs", *big],
            ["COPY", "zl", "zl2"], ["COPY", "zs", "zs2"],
            ["OBJECT", "ENCODING", "zl2"], ["OBJECT", "ENCODING", "zs2"],
            ["ZADD", "zl2", "3", "c"], ["ZINCRBY", "zl", "5", "a"], ["ZREM", "zs", "m0"],
            ["ZADD", "zs2", "7.5", "x\x00\xff"], ["ZRANGE", "zl", "0", "-1", "WITHSCORES"],
            ["ZRANGE", "zl2", "0", "-1", "WITHSCORES"], ["ZCARD", "zs"], ["ZCARD", "zs2"],
            ["ZSCORE", "zs2", "m0"], ["ZSCORE", "zs", "x\x00\xff"],
            ["ZRANGE", "zs2", "0", "3", "WITHSCORES"], ["ZRANK", "zs2", "m199"]]
    diff.check_many(cmds)
