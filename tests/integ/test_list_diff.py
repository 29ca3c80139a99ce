"""test_list_diff.py -- differential tests of the list commands
(src/cmd/t_list.c, src/store/list.c) against redis-server 7.0.

Every case sends the same commands to percore and to the reference Redis
(fixture `diff`, tests/integ/conftest.py) and compares raw reply bytes:
happy paths, every error text, WRONGTYPE, wrong arity, absent keys,
negative and huge indexes and counts, binary values, OBJECT ENCODING under
several list-max-listpack-size settings, pipelines, RESP3 null shapes and a
seeded random walk over every command with small nodes.

percore runs with two shards and a random hash seed, so which shard a key
lands on is unknown: tests of LMOVE, RPOPLPUSH and LMPOP across shards use
several key pairs (each pair is split with probability about 1/2). The
atomicity test moves elements back and forth between the keys of eight
pairs while a reader checks, inside MULTI/EXEC, that no total ever changes.
"""
import random
import threading

import pytest

from diff_util import run, run_threads
from respclient import RespConn, parse

HOST = "127.0.0.1"
BIN = b"a\x00b\r\nc\xff\x00"
PAIRS = [("src%d" % i, "dst%d" % i) for i in range(8)]


@pytest.fixture
def small_nodes(diff):
    """list-max-listpack-size 3 on both servers for the test (many nodes)."""
    run(diff, ("CONFIG", "SET", "list-max-listpack-size", "3"))
    yield
    run(diff, ("CONFIG", "SET", "list-max-listpack-size", "-2"))


# --------------------------------------------------------------------------
# LPUSH / RPUSH / LPUSHX / RPUSHX / LLEN / LRANGE


def test_push_family(diff):
    run(diff,
        ("LPUSH", "l", "a"), ("LPUSH", "l", "b", "c", "d"), ("RPUSH", "l", "x", "y"),
        ("LRANGE", "l", "0", "-1"), ("LLEN", "l"), ("TYPE", "l"),
        ("OBJECT", "ENCODING", "l"),
        ("LPUSHX", "l", "h1", "h2"), ("RPUSHX", "l", "t1"), ("LRANGE", "l", "0", "-1"),
        ("LPUSHX", "nokey", "a"), ("RPUSHX", "nokey", "a", "b"), ("EXISTS", "nokey"),
        ("LLEN", "nokey"), ("LRANGE", "nokey", "0", "-1"),
        ("RPUSH", "bin", BIN, b"", b"\xff" * 70, "12345", "-7", "007", "9223372036854775808"),
        ("LRANGE", "bin", "0", "-1"), ("LINDEX", "bin", "3"),
        ("LPUSH", "l"), ("RPUSH", "l"), ("LPUSHX", "l"), ("RPUSHX", "l"), ("LLEN",),
        ("LLEN", "l", "x"), ("LRANGE", "l", "0"))


def test_wrongtype(diff):
    run(diff, ("SET", "s", "v"), ("HSET", "h", "f", "v"))
    run(diff,
        ("LPUSH", "s", "a"), ("RPUSH", "s", "a"), ("LPUSHX", "s", "a"), ("RPUSHX", "s", "a"),
        ("LPOP", "s"), ("RPOP", "s", "2"), ("LLEN", "s"), ("LINDEX", "s", "0"),
        ("LINSERT", "s", "BEFORE", "a", "b"), ("LRANGE", "s", "0", "-1"),
        ("LSET", "s", "0", "x"), ("LREM", "s", "0", "a"), ("LTRIM", "s", "0", "1"),
        ("LPOS", "s", "a"), ("LMOVE", "s", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "d"),
        ("LMPOP", "1", "s", "LEFT"), ("LPUSH", "h", "a"), ("GET", "s"))


def test_encoding_under_settings(diff):
    big = "v" * 9000
    try:
        for size in ["-1", "-2", "-5", "1", "2", "128", "0"]:
            run(diff, ("CONFIG", "SET", "list-max-listpack-size", size),
                ("DEL", "e"), ("RPUSH", "e", "a"), ("OBJECT", "ENCODING", "e"),
                ("RPUSH", "e", *["x%d" % i for i in range(300)]), ("OBJECT", "ENCODING", "e"),
                ("LPUSH", "e", big, big), ("OBJECT", "ENCODING", "e"), ("LLEN", "e"),
                ("LINDEX", "e", "1"), ("LINDEX", "e", "150"), ("LINDEX", "e", "-1"),
                ("LSET", "e", "100", big), ("LINDEX", "e", "100"),
                ("LINSERT", "e", "AFTER", "x50", big), ("LINDEX", "e", "53"),
                ("LRANGE", "e", "98", "104"), ("LTRIM", "e", "2", "-3"),
                ("OBJECT", "ENCODING", "e"), ("LRANGE", "e", "0", "-1"))
    finally:
        run(diff, ("CONFIG", "SET", "list-max-listpack-size", "-2"))


def test_memory_usage_is_plausible(diff):
    run(diff, ("RPUSH", "m", *["item%d" % i for i in range(1000)]))
    p = int(diff.percore.memory_usage("m"))
    r = int(diff.redis.memory_usage("m"))
    assert r / 2 < p < r * 2, (p, r)
    run(diff, ("RPUSH", "small", "a", "b", "a", "c", "a"))
    assert diff.percore.memory_usage("small") == diff.redis.memory_usage("small")


# --------------------------------------------------------------------------
# LPOP / RPOP


def test_pop(diff):
    run(diff,
        ("RPUSH", "l", "a", "b", "c", "d", "e", "f"),
        ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "2"), ("RPOP", "l", "1"),
        ("LPOP", "l", "0"), ("RPOP", "l", "0"), ("LRANGE", "l", "0", "-1"),
        ("RPOP", "l", "10"), ("EXISTS", "l"),
        ("LPOP", "l"), ("RPOP", "l"), ("LPOP", "l", "3"), ("RPOP", "l", "0"),
        ("RPUSH", "l", "a"), ("LPOP", "l", "-1"), ("LPOP", "l", "x"), ("RPOP", "l", "1.5"),
        ("LPOP", "l", "9223372036854775807"), ("EXISTS", "l"),
        ("RPUSH", "l", "a", "b"), ("LPOP", "l", "1", "2"), ("RPOP", "l", "1", "2", "3"),
        ("LPOP",), ("RPOP", "nokey", "-1"), ("RPOP", "nokey", "abc"),
        ("RPUSH", "l", "x", "y", "z"), ("RPOP", "l", "2"), ("LPOP", "l", "5"))


def test_pop_resp3(diff):
    diff.hello3()
    run(diff,
        ("LPOP", "nokey"), ("RPOP", "nokey", "2"), ("LPOP", "nokey", "0"),
        ("RPUSH", "l", "a", "b"), ("LPOP", "l", "0"), ("RPOP", "l", "5"),
        ("LINDEX", "nokey", "0"), ("LINDEX", "l", "0"), ("LPOS", "nokey", "a"),
        ("LPOS", "nokey", "a", "COUNT", "0"), ("RPUSH", "l", "q"), ("LPOS", "l", "zz"),
        ("LMOVE", "nokey", "l", "LEFT", "RIGHT"), ("RPOPLPUSH", "nokey", "l"),
        ("LMPOP", "2", "nokey", "nokey2", "LEFT"), ("LMPOP", "2", "nokey", "l", "RIGHT"),
        ("LRANGE", "nokey", "0", "-1"))


# --------------------------------------------------------------------------
# LINDEX / LSET / LINSERT


def test_lindex(diff):
    run(diff, ("RPUSH", "l", *["e%d" % i for i in range(20)]))
    cmds = [("LINDEX", "l", str(i)) for i in range(-22, 22)]
    cmds += [("LINDEX", "l", "9223372036854775807"), ("LINDEX", "l", "-9223372036854775808"),
             ("LINDEX", "l", "x"), ("LINDEX", "nokey", "x"), ("LINDEX", "nokey", "0"),
             ("LINDEX", "l", "1", "2"), ("LINDEX", "l")]
    run(diff, *cmds)


def test_lset(diff):
    run(diff,
        ("RPUSH", "l", "a", "b", "c"), ("LSET", "l", "0", "A"), ("LSET", "l", "-1", "C"),
        ("LSET", "l", "1", BIN), ("LRANGE", "l", "0", "-1"),
        ("LSET", "l", "3", "x"), ("LSET", "l", "-4", "x"), ("LSET", "l", "x", "y"),
        ("LSET", "nokey", "0", "x"), ("LSET", "nokey", "x", "x"), ("LSET", "l", "0"),
        ("LSET", "l", "1", "z" * 20000), ("LINDEX", "l", "1"), ("LSET", "l", "1", "123"),
        ("LRANGE", "l", "0", "-1"))


def test_linsert(diff):
    run(diff,
        ("RPUSH", "l", "a", "b", "c", "b"),
        ("LINSERT", "l", "BEFORE", "b", "x"), ("LINSERT", "l", "after", "b", "y"),
        ("LINSERT", "l", "AFTER", "b", "z"), ("LRANGE", "l", "0", "-1"),
        ("LINSERT", "l", "BEFORE", "a", "first"), ("LINSERT", "l", "AFTER", "c", "last"),
        ("LINSERT", "l", "BEFORE", "nope", "x"), ("LINSERT", "l", "MIDDLE", "a", "x"),
        ("LINSERT", "nokey", "BEFORE", "a", "x"), ("LINSERT", "nokey", "BAD", "a", "x"),
        ("EXISTS", "nokey"), ("LINSERT", "l", "BEFORE", "a"),
        ("RPUSH", "n", "1", "2", "3"), ("LINSERT", "n", "AFTER", "2", BIN),
        ("LINSERT", "n", "BEFORE", "02", "x"), ("LRANGE", "n", "0", "-1"),
        ("LRANGE", "l", "0", "-1"))


# --------------------------------------------------------------------------
# LRANGE / LTRIM


RANGES = ["0", "1", "2", "-1", "-2", "-3", "5", "6", "100", "-100",
          "9223372036854775807", "-9223372036854775808"]


def test_lrange(diff):
    run(diff, ("RPUSH", "l", "a", "b", "c", "d", "e"))
    run(diff, *[("LRANGE", "l", s, e) for s in RANGES for e in RANGES])
    run(diff, ("LRANGE", "l", "x", "1"), ("LRANGE", "l", "0", "1.0"),
        ("LRANGE", "nokey", "x", "1"), ("LRANGE", "nokey", "0", "-1"))


def test_ltrim(diff):
    cmds = []
    for s in RANGES:
        for e in RANGES:
            cmds += [("DEL", "l"), ("RPUSH", "l", "a", "b", "c", "d", "e"),
                     ("LTRIM", "l", s, e), ("LRANGE", "l", "0", "-1"), ("EXISTS", "l")]
    run(diff, *cmds)
    run(diff, ("LTRIM", "nokey", "0", "1"), ("EXISTS", "nokey"), ("RPUSH", "l", "a"),
        ("LTRIM", "l", "x", "1"), ("LTRIM", "l", "0", "y"), ("LTRIM", "nokey", "x", "1"),
        ("LTRIM", "l", "0"))


# --------------------------------------------------------------------------
# LREM


def test_lrem(diff):
    base = ("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a")
    cmds = []
    for n in ["0", "1", "2", "-1", "-2", "10", "-10", "9223372036854775807",
              "-9223372036854775808"]:
        cmds += [("DEL", "l"), base, ("LREM", "l", n, "a"), ("LRANGE", "l", "0", "-1")]
    cmds += [("DEL", "l"), ("RPUSH", "l", "x", "x"), ("LREM", "l", "0", "x"), ("EXISTS", "l"),
             ("LREM", "nokey", "0", "x"), ("LREM", "l", "x", "a"), ("LREM", "nokey", "x", "a"),
             ("RPUSH", "l", "1", "01", "1"), ("LREM", "l", "0", "1"), ("LRANGE", "l", "0", "-1"),
             ("RPUSH", "l", BIN, "q", BIN), ("LREM", "l", "-1", BIN), ("LRANGE", "l", "0", "-1"),
             ("LREM", "l", "0")]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# LPOS


def test_lpos(diff):
    run(diff, ("RPUSH", "l", "a", "b", "c", "a", "b", "c", "a", "1", "2", "a"))
    opts = [(), ("RANK", "1"), ("RANK", "2"), ("RANK", "-1"), ("RANK", "-3"), ("RANK", "9"),
            ("COUNT", "0"), ("COUNT", "2"), ("COUNT", "10"), ("MAXLEN", "3"),
            ("MAXLEN", "0"), ("RANK", "2", "COUNT", "2"), ("RANK", "-2", "COUNT", "0"),
            ("RANK", "-1", "MAXLEN", "4"), ("COUNT", "1", "MAXLEN", "1", "RANK", "1"),
            ("RANK", "-9223372036854775808"), ("RANK", "-9223372036854775808", "COUNT", "2"),
            ("RANK", "-9223372036854775808", "COUNT", "0"), ("RANK", "9223372036854775807"),
            ("rank", "1", "count", "1"), ("COUNT", "3", "COUNT", "1")]
    cmds = []
    for o in opts:
        for ele in ["a", "b", "1", "zz"]:
            cmds.append(("LPOS", "l", ele) + o)
    cmds += [("LPOS", "l", "a", "RANK", "0"), ("LPOS", "l", "a", "RANK", "x"),
             ("LPOS", "l", "a", "COUNT", "-1"), ("LPOS", "l", "a", "COUNT", "x"),
             ("LPOS", "l", "a", "MAXLEN", "-1"), ("LPOS", "l", "a", "MAXLEN", "x"),
             ("LPOS", "l", "a", "RANK"), ("LPOS", "l", "a", "FOO", "1"),
             ("LPOS", "l", "a", "COUNT"), ("LPOS", "nokey", "a"),
             ("LPOS", "nokey", "a", "COUNT", "1"), ("LPOS", "nokey", "a", "RANK", "0"),
             ("LPOS", "l"), ("SET", "s", "x"), ("LPOS", "s", "a", "RANK", "0"),
             ("LPOS", "s", "a")]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# LMOVE / RPOPLPUSH


def test_lmove_same_key_rotates(diff):
    run(diff,
        ("RPUSH", "l", "a", "b", "c"), ("LMOVE", "l", "l", "LEFT", "RIGHT"),
        ("LRANGE", "l", "0", "-1"), ("LMOVE", "l", "l", "RIGHT", "LEFT"),
        ("LMOVE", "l", "l", "left", "left"), ("LMOVE", "l", "l", "RIGHT", "RIGHT"),
        ("RPOPLPUSH", "l", "l"), ("LRANGE", "l", "0", "-1"),
        ("RPUSH", "one", "x"), ("RPOPLPUSH", "one", "one"), ("LRANGE", "one", "0", "-1"))


def test_lmove_pairs(diff):
    """Moves between keys of several pairs: some pairs are on one shard, some
    on two, and every combination of ends."""
    cmds = []
    for s, d in PAIRS:
        cmds += [("RPUSH", s, "a", "b", "c", BIN), ("RPUSH", d, "x")]
        for wf in ["LEFT", "RIGHT"]:
            for wt in ["LEFT", "RIGHT"]:
                cmds += [("LMOVE", s, d, wf, wt), ("LRANGE", s, "0", "-1"),
                         ("LRANGE", d, "0", "-1")]
        cmds += [("RPOPLPUSH", s, d), ("RPOPLPUSH", s, d), ("EXISTS", s),
                 ("LRANGE", d, "0", "-1"), ("RPOPLPUSH", d, s + "new"),
                 ("LRANGE", s + "new", "0", "-1"), ("OBJECT", "ENCODING", s + "new")]
    run(diff, *cmds)


def test_lmove_errors(diff):
    cmds = []
    for s, d in PAIRS:
        cmds += [
            # Absent source: null, whatever the destination holds.
            ("SET", d, "str"), ("LMOVE", s, d, "LEFT", "RIGHT"), ("RPOPLPUSH", s, d),
            # Wrong-type destination: checked before popping, source unchanged.
            ("RPUSH", s, "a", "b"), ("LMOVE", s, d, "LEFT", "RIGHT"), ("RPOPLPUSH", s, d),
            ("LRANGE", s, "0", "-1"), ("GET", d),
            # Wrong-type source.
            ("LMOVE", d, s, "LEFT", "LEFT"), ("RPOPLPUSH", d, s), ("LRANGE", s, "0", "-1"),
            # Syntax errors come first.
            ("LMOVE", s, d, "UP", "LEFT"), ("LMOVE", s, d, "LEFT", "DOWN"),
            ("LMOVE", "nokey", d, "LEFT", "DOWN"), ("LRANGE", s, "0", "-1"),
            ("DEL", s, d)]
    cmds += [("LMOVE", "a", "b", "LEFT"), ("RPOPLPUSH", "a"), ("RPOPLPUSH", "a", "b", "c")]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# LMPOP


def test_lmpop(diff):
    keys = ["m%d" % i for i in range(6)]
    run(diff, ("RPUSH", keys[2], "a", "b", "c", "d"), ("RPUSH", keys[4], "x", "y"))
    run(diff,
        ("LMPOP", "6", *keys, "LEFT"), ("LMPOP", "6", *keys, "RIGHT", "COUNT", "2"),
        ("LMPOP", "2", keys[4], keys[2], "left", "count", "10"),
        ("LMPOP", "6", *keys, "RIGHT", "COUNT", "10"), ("EXISTS", *keys),
        ("LMPOP", "6", *keys, "LEFT"), ("LMPOP", "1", keys[0], "RIGHT", "COUNT", "3"))
    # Wrong type before the first list is an error; after it, it is not looked at.
    run(diff, ("SET", keys[1], "s"), ("RPUSH", keys[3], "q", "r"),
        ("LMPOP", "3", keys[0], keys[1], keys[3], "LEFT"),
        ("LMPOP", "3", keys[3], keys[1], keys[0], "LEFT"),
        ("LMPOP", "2", keys[0], keys[1], "LEFT"),
        ("LMPOP", "3", keys[5], keys[3], keys[3], "RIGHT", "COUNT", "5"),
        ("EXISTS", keys[3]))


def test_lmpop_errors(diff):
    run(diff, ("RPUSH", "a", "1"))
    run(diff,
        ("LMPOP", "0", "a", "LEFT"), ("LMPOP", "-1", "a", "LEFT"), ("LMPOP", "x", "a", "LEFT"),
        ("LMPOP", "9223372036854775807", "a", "LEFT"), ("LMPOP", "3", "a", "LEFT"),
        ("LMPOP", "2", "a", "LEFT"), ("LMPOP", "2", "a", "b"), ("LMPOP", "1", "a", "MIDDLE"),
        ("LMPOP", "1", "a", "LEFT", "COUNT"), ("LMPOP", "1", "a", "LEFT", "COUNT", "0"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "-1"), ("LMPOP", "1", "a", "LEFT", "COUNT", "x"),
        ("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"),
        ("LMPOP", "1", "a", "LEFT", "FOO"), ("LMPOP", "2", "a", "b", "LEFT", "COUNT", "0"),
        ("LMPOP", "2", "zz", "a", "UP"), ("LMPOP", "1", "a"), ("LMPOP", "1"),
        ("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b", "LEFT"),
        ("COMMAND", "GETKEYS", "LMPOP", "2", "a", "b"),
        ("COMMAND", "GETKEYS", "LMPOP", "0", "a", "LEFT"),
        ("COMMAND", "GETKEYS", "LMPOP", "5", "a", "LEFT"),
        ("LRANGE", "a", "0", "-1"))


# --------------------------------------------------------------------------
# Transactions, pipelines, other commands on lists


def test_cross_shard_in_multi(diff):
    cmds = [("MULTI",)]
    for s, d in PAIRS:
        cmds += [("RPUSH", s, "1", "2", "3"), ("LMOVE", s, d, "RIGHT", "LEFT"),
                 ("RPOPLPUSH", s, d), ("LMPOP", "2", "none", d, "LEFT", "COUNT", "1"),
                 ("LLEN", s), ("LLEN", d)]
    cmds += [("EXEC",)]
    run(diff, *cmds)


def test_copy_rename_move_lists(diff):
    run(diff,
        ("RPUSH", "src", *["v%d" % i for i in range(200)]), ("COPY", "src", "c1"),
        ("COPY", "src", "c2"), ("RENAME", "c1", "r1"), ("LPUSH", "src", "changed"),
        ("LRANGE", "r1", "0", "4"), ("LRANGE", "c2", "-3", "-1"), ("LLEN", "src"),
        ("OBJECT", "ENCODING", "r1"), ("TYPE", "c2"), ("MOVE", "c2", "1"),
        ("SELECT", "1"), ("LRANGE", "c2", "0", "2"), ("FLUSHDB",), ("SELECT", "0"),
        ("DEL", "src", "r1"), ("EXISTS", "src", "r1"))


def test_pipeline(diff):
    cmds = []
    for i in range(300):
        k = "p%d" % (i % 7)
        cmds += [("RPUSH", k, str(i), "v%d" % i), ("LPUSH", k, BIN),
                 ("LMOVE", k, "p%d" % ((i + 3) % 7), "LEFT", "RIGHT"),
                 ("LINDEX", k, str(i % 5)), ("RPOP", k)]
    cmds += [("LRANGE", "p%d" % i, "0", "-1") for i in range(7)]
    run(diff, *cmds)


def _random_cmd(rng, keys):
    k = rng.choice(keys)
    val = rng.choice(["a", "b", "c", "17", "-3", BIN, "x" * rng.choice([1, 50, 3000])])
    idx = str(rng.randint(-30, 30))
    c = rng.randrange(17)
    if c <= 2:
        return (rng.choice(["LPUSH", "RPUSH"]), k, *[val] * rng.randint(1, 4))
    if c == 3:
        return (rng.choice(["LPUSHX", "RPUSHX"]), k, val)
    if c == 4:
        return (rng.choice(["LPOP", "RPOP"]), k) + ((str(rng.randint(0, 5)),) if rng.random() < .5 else ())
    if c == 5:
        return ("LINDEX", k, idx)
    if c == 6:
        return ("LSET", k, idx, val)
    if c == 7:
        return ("LINSERT", k, rng.choice(["BEFORE", "AFTER"]), val, rng.choice(["n", val]))
    if c == 8:
        return ("LRANGE", k, idx, str(rng.randint(-30, 30)))
    if c == 9:
        return ("LTRIM", k, str(rng.randint(-5, 5)), str(rng.randint(-3, 60)))
    if c == 10:
        return ("LREM", k, str(rng.randint(-3, 3)), val)
    if c == 11:
        return ("LPOS", k, val, "RANK", rng.choice(["1", "-1", "2"]), "COUNT", str(rng.randint(0, 3)))
    if c == 12:
        return ("LMOVE", k, rng.choice(keys), rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"]))
    if c == 13:
        return ("RPOPLPUSH", k, rng.choice(keys))
    if c == 14:
        ks = rng.sample(keys, rng.randint(1, len(keys)))
        return ("LMPOP", str(len(ks)), *ks, rng.choice(["LEFT", "RIGHT"]), "COUNT", str(rng.randint(1, 4)))
    if c == 15:
        return ("LLEN", k)
    return ("LRANGE", k, "0", "-1")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_walk_small_nodes(diff, small_nodes, seed):
    rng = random.Random(seed)
    keys = ["w%d" % i for i in range(5)]
    for _ in range(10):
        cmds = [_random_cmd(rng, keys) for _ in range(200)]
        cmds += [("LRANGE", k, "0", "-1") for k in keys]
        run(diff, *cmds)


# --------------------------------------------------------------------------
# Atomicity of cross-shard moves


def test_lmove_atomic_across_shards(diff):
    """Writers move elements back and forth between the keys of eight pairs
    (LMOVE and RPOPLPUSH); a reader reads both lengths of every pair inside
    MULTI/EXEC: no element may ever be seen in neither or both lists."""
    n = 5
    setup = RespConn(HOST, diff.percore_port)
    for s, d in PAIRS:
        setup.call("RPUSH", s, *["e%d" % i for i in range(n)])
        setup.call("RPUSH", d, *["f%d" % i for i in range(n)])
    setup.close()
    stop = threading.Event()
    bad, errors, moves, reads = [], [], [], []

    def writer(widx):
        c = RespConn(HOST, diff.percore_port)
        try:
            i = 0
            while not stop.is_set():
                s, d = PAIRS[(i + widx) % len(PAIRS)]
                if i % 2:
                    s, d = d, s
                cmds = [("LMOVE", s, d, "LEFT", "RIGHT"), ("RPOPLPUSH", s, d),
                        ("LMOVE", d, s, "RIGHT", "LEFT")]
                for r in c.pipeline(cmds):
                    if not r.startswith(b"$"):
                        errors.append(r)
                moves.append(1)
                i += 1
        except Exception as e:  # noqa: BLE001 -- reported by the test
            errors.append(e)
        finally:
            c.close()

    def reader():
        c = RespConn(HOST, diff.percore_port)
        try:
            while not stop.is_set():
                cmds = [("MULTI",)] + [("LLEN", k) for p in PAIRS for k in p] + [("EXEC",)]
                lens = parse(c.pipeline(cmds)[-1])
                reads.append(1)
                if len(lens) != 2 * len(PAIRS):
                    bad.append(lens)
                    continue
                for j in range(len(PAIRS)):
                    if lens[2 * j] + lens[2 * j + 1] != 2 * n:
                        bad.append(lens)
        except Exception as e:  # noqa: BLE001 -- reported by the test
            bad.append(e)
        finally:
            c.close()

    run_threads(4.0, stop, [(writer, w) for w in range(3)] + [(reader,)])
    assert errors == []
    assert bad == []
    assert len(moves) > 100 and len(reads) > 100, (len(moves), len(reads))
    check = RespConn(HOST, diff.percore_port)
    for s, d in PAIRS:
        got = sorted(check.call_parsed("LRANGE", s, "0", "-1") +
                     check.call_parsed("LRANGE", d, "0", "-1"))
        assert got == sorted([b"e%d" % i for i in range(n)] + [b"f%d" % i for i in range(n)])
    check.close()


def test_debug_quicklist_packed_threshold(diff):
    # Elements at or above the threshold get nodes of their own; replies are
    # unchanged whatever the node layout.
    try:
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb")
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "abc")
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b")
        big = "x" * 600
        cmds = [("RPUSH", "pl", "a", big, "b", big + "1", "")]
        cmds += [("LINSERT", "pl", "BEFORE", big, "mid"), ("LSET", "pl", "0", big + "2"),
                 ("LPOS", "pl", big), ("LINDEX", "pl", "3"), ("LRANGE", "pl", "0", "-1"),
                 ("LTRIM", "pl", "1", "-2"), ("LREM", "pl", "0", "b"), ("LPOP", "pl"),
                 ("RPOP", "pl"), ("LRANGE", "pl", "0", "-1"), ("LLEN", "pl")]
        diff.check_many(cmds)
        diff.check("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
    finally:
        diff.both("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
