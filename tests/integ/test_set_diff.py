"""test_set_diff.py -- differential tests of the set commands.

Every case sends the same commands to percore and to the reference Redis
7.0 (fixture `diff`, tests/integ/conftest.py). Scalars, errors and replies
of intset-encoded sets (which both servers order ascending) are compared
byte for byte; replies listing a hashtable-encoded set come back in each
server's own hash order, so those are compared as sorted multisets of the
same reply type (`check_unordered`). Commands with random output (SPOP,
SRANDMEMBER) are checked for their properties on each server separately.

Multi-key commands are run over several pairs of key names: percore routes
by a seeded hash, so about half of the pairs land on different shards and
run as cross-shard transactions. The atomicity tests hammer SMOVE and the
*STORE commands from one client while another checks invariants that a
half-applied command would break.
"""

import threading

from diff_util import run, run_threads
from respclient import ErrorReply, parse

BIN1 = b"a\x00b"
BIN2 = b"\xff\x00\xfe"
WRONGTYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"

# Key name pairs; with 2 shards roughly half of them are split across shards.
PAIRS = [("a", "b"), ("s1", "s2"), ("foo", "bar"), ("x", "y"), ("src", "dst"),
         ("k:1", "k:2"), ("left", "right"), ("one", "two"), ("alpha", "omega"),
         ("set-A", "set-B")]
TRIPLES = [("a", "b", "c"), ("s1", "s2", "s3"), ("p", "q", "r"), ("u", "v", "w"),
           ("k1", "k2", "k3"), ("red", "green", "blue")]


def _canon(v):
    """A reply value with every list sorted (recursively), for comparing
    replies whose element order is a hash-table order."""
    if isinstance(v, list):
        items = [_canon(x) for x in v]
        return sorted(items, key=repr)
    return v


def check_unordered(diff, *args):
    """Run one command on both servers; the replies must have the same type
    byte and header line and equal contents once every aggregate is sorted.
    Returns percore's parsed reply."""
    p, r = diff.both(*args)
    assert p.split(b"\r\n", 1)[0] == r.split(b"\r\n", 1)[0], (args, p[:200], r[:200])
    pv, rv = parse(p), parse(r)
    assert _canon(pv) == _canon(rv), (args, pv, rv)
    return pv


def both_parsed(diff, *args):
    p, r = diff.both(*args)
    return parse(p), parse(r), p, r


def fill(diff, key, members):
    """SADD members to key on both servers in chunks."""
    members = list(members)
    for i in range(0, len(members), 500):
        diff.check("SADD", key, *members[i:i + 500])


def set_config(diff, name, value):
    diff.check("CONFIG", "SET", name, str(value))


# --------------------------------------------------------------------------
# SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS

def test_sadd_srem_basic(diff):
    run(diff,
        ("SADD", "s", "1", "2", "3"), ("SADD", "s", "2", "4"), ("SCARD", "s"),
        ("OBJECT", "ENCODING", "s"), ("SMEMBERS", "s"),
        ("SISMEMBER", "s", "2"), ("SISMEMBER", "s", "9"), ("SISMEMBER", "s", "02"),
        ("SISMEMBER", "nokey", "1"), ("SMISMEMBER", "s", "1", "9", "4", "x"),
        ("SMISMEMBER", "nokey", "1", "2"), ("SCARD", "nokey"), ("SMEMBERS", "nokey"),
        ("SREM", "s", "1", "9", "x"), ("SREM", "nokey", "1"), ("SMEMBERS", "s"),
        ("SREM", "s", "2", "3", "4", "5"), ("EXISTS", "s"), ("SCARD", "s"),
        ("sadd", "lower", "z"), ("SCARD", "lower"))


def test_sadd_binary_and_strings(diff):
    run(diff,
        ("SADD", "h", BIN1, BIN2, "", "x"), ("SCARD", "h"), ("OBJECT", "ENCODING", "h"),
        ("SISMEMBER", "h", BIN1), ("SISMEMBER", "h", b"a"), ("SISMEMBER", "h", ""),
        ("SMISMEMBER", "h", BIN2, "", "nope"), ("SREM", "h", BIN1), ("SCARD", "h"))
    check_unordered(diff, "SMEMBERS", "h")


def test_intset_encoding_rules(diff):
    run(diff,
        # Canonical integers of every width stay an intset, sorted.
        ("SADD", "i", "5", "-3", "70000", "-9223372036854775808",
         "9223372036854775807", "0", "32767", "-32768"),
        ("OBJECT", "ENCODING", "i"), ("SMEMBERS", "i"),
        # Non-canonical integer strings are strings.
        ("SADD", "n1", "01"), ("OBJECT", "ENCODING", "n1"),
        ("SADD", "n2", "+1"), ("OBJECT", "ENCODING", "n2"),
        ("SADD", "n3", "-0"), ("OBJECT", "ENCODING", "n3"),
        ("SADD", "n4", "9223372036854775808"), ("OBJECT", "ENCODING", "n4"),
        ("SADD", "n5", " 1"), ("OBJECT", "ENCODING", "n5"),
        ("SADD", "n6", "1.0"), ("OBJECT", "ENCODING", "n6"),
        # A string converts the set and stays distinct from the integer.
        ("SADD", "i2", "1", "2"), ("SADD", "i2", "01"), ("OBJECT", "ENCODING", "i2"),
        ("SCARD", "i2"), ("SISMEMBER", "i2", "1"), ("SISMEMBER", "i2", "01"),
        # Removing the string never converts back.
        ("SREM", "i2", "01"), ("OBJECT", "ENCODING", "i2"),
        ("MEMORY", "USAGE", "i"))


def test_intset_limit(diff):
    try:
        run(diff, ("CONFIG", "SET", "set-max-intset-entries", "4"),
            ("SADD", "l", "1", "2", "3", "4"), ("OBJECT", "ENCODING", "l"),
            ("SADD", "l", "4"), ("OBJECT", "ENCODING", "l"),
            ("SADD", "l", "5"), ("OBJECT", "ENCODING", "l"), ("SCARD", "l"),
            ("SREM", "l", "5", "4"), ("OBJECT", "ENCODING", "l"),
            ("SADD", "m", "1", "2", "3", "4", "5"), ("OBJECT", "ENCODING", "m"),
            ("CONFIG", "SET", "set-max-intset-entries", "0"),
            ("SADD", "z", "1"), ("OBJECT", "ENCODING", "z"))
        set_config(diff, "set-max-intset-entries", 512)
        fill(diff, "big", range(512))
        run(diff, ("OBJECT", "ENCODING", "big"), ("SADD", "big", "512"),
            ("OBJECT", "ENCODING", "big"), ("SCARD", "big"))
        fill(diff, "big2", range(-100, 400))
        run(diff, ("OBJECT", "ENCODING", "big2"), ("SMEMBERS", "big2"),
            ("MEMORY", "USAGE", "big2"))
    finally:
        set_config(diff, "set-max-intset-entries", 512)


def test_errors_and_arity(diff):
    run(diff, ("SET", "str", "v"),
        ("SADD", "str", "1"), ("SREM", "str", "1"), ("SCARD", "str"),
        ("SISMEMBER", "str", "1"), ("SMISMEMBER", "str", "1"), ("SMEMBERS", "str"),
        ("SPOP", "str"), ("SPOP", "str", "2"), ("SRANDMEMBER", "str"),
        ("SRANDMEMBER", "str", "2"), ("SSCAN", "str", "0"),
        ("SADD", "s"), ("SADD",), ("SREM", "s"), ("SCARD",), ("SCARD", "a", "b"),
        ("SISMEMBER", "s"), ("SISMEMBER", "s", "a", "b"), ("SMISMEMBER", "s"),
        ("SMEMBERS",), ("SMEMBERS", "a", "b"), ("SPOP",), ("SRANDMEMBER",),
        ("SMOVE", "a", "b"), ("SMOVE", "a", "b", "c", "d"), ("SINTER",), ("SUNION",),
        ("SDIFF",), ("SINTERSTORE", "d"), ("SUNIONSTORE", "d"), ("SDIFFSTORE", "d"),
        ("SINTERCARD", "1"), ("SSCAN", "s"), ("STR",))


def test_pipeline_mixed(diff):
    cmds = []
    for i in range(200):
        cmds.append(("SADD", "p%d" % (i % 7), str(i), str(i * 3)))
        if i % 5 == 0:
            cmds.append(("SREM", "p%d" % (i % 7), str(i - 5)))
        if i % 9 == 0:
            cmds.append(("SCARD", "p%d" % (i % 7)))
            cmds.append(("SINTERCARD", "2", "p1", "p%d" % (i % 7)))
            cmds.append(("SISMEMBER", "p3", str(i)))
    cmds += [("SMEMBERS", "p%d" % k) for k in range(7)]
    cmds += [("SINTER", "p1", "p2"), ("SUNION", "p3", "p4", "p5"), ("SDIFF", "p0", "p6")]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# RESP3

def test_resp3_shapes(diff):
    diff.hello3()
    run(diff, ("SADD", "s", "1", "2", "3"), ("SADD", "t", "3", "4"),
        ("SMEMBERS", "s"), ("SMEMBERS", "nokey"), ("SINTER", "s", "t"),
        ("SINTER", "s", "nokey"), ("SUNION", "s", "t"), ("SDIFF", "s", "t"),
        ("SDIFF", "nokey", "s"), ("SPOP", "nokey"), ("SPOP", "nokey", "3"),
        ("SPOP", "s", "0"), ("SRANDMEMBER", "nokey"), ("SRANDMEMBER", "nokey", "3"),
        ("SRANDMEMBER", "s", "0"), ("SRANDMEMBER", "s", "10"), ("SMISMEMBER", "s", "1", "9"),
        ("SSCAN", "s", "0"), ("SSCAN", "nokey", "0"), ("SINTERCARD", "2", "s", "t"),
        ("SPOP", "t", "5"), ("EXISTS", "t"))
    for a, b in PAIRS[:4]:
        run(diff, ("SADD", a, "1", "2", "x"), ("SADD", b, "2", "x", "y"))
        check_unordered(diff, "SUNION", a, b)
        check_unordered(diff, "SINTER", a, b)
        check_unordered(diff, "SDIFF", a, b)
        run(diff, ("SINTERCARD", "2", a, b), ("SINTERSTORE", "d" + a, a, b))


# --------------------------------------------------------------------------
# SPOP / SRANDMEMBER

def test_spop_errors_and_edges(diff):
    run(diff, ("SADD", "s", "1", "2", "3"),
        ("SPOP", "s", "-1"), ("SPOP", "s", "abc"), ("SPOP", "s", "1.5"),
        ("SPOP", "s", "9223372036854775808"), ("SPOP", "s", "1", "2"),
        ("SPOP", "nokey"), ("SPOP", "nokey", "0"), ("SPOP", "nokey", "5"),
        ("SPOP", "nokey", "-1"), ("SPOP", "s", "0"), ("SCARD", "s"),
        # count >= size returns the whole set (an intset: ascending) and drops the key.
        ("SPOP", "s", "3"), ("EXISTS", "s"),
        ("SADD", "s", "5", "-1", "7"), ("SPOP", "s", "100"), ("EXISTS", "s"),
        ("SADD", "one", "42"), ("SPOP", "one"), ("EXISTS", "one"))


def test_spop_properties(diff):
    members = [str(i).encode() for i in range(50)] + [b"a", b"b", BIN1]
    fill(diff, "s", members)
    for count in (None, 1, 3, 10, 40):
        args = ("SPOP", "s") if count is None else ("SPOP", "s", str(count))
        before = set(parse(diff.both("SMEMBERS", "s")[0]))
        pv, rv, p, r = both_parsed(diff, *args)
        if count is None:
            assert isinstance(pv, bytes) and isinstance(rv, bytes)
            got = [pv]
        else:
            assert p.split(b"\r\n", 1)[0] == r.split(b"\r\n", 1)[0]
            assert len(pv) == len(set(pv)) == min(count, len(before))
            got = pv
        assert set(got) <= before
        after = set(parse(diff.both("SMEMBERS", "s")[0]))
        assert after == before - set(got)
        run(diff, ("SCARD", "s"))
        # Put both servers back in step: same members on both.
        diff.check("DEL", "s")
        fill(diff, "s", sorted(after))


def test_spop_encoding_after_rebuild(diff):
    # 600 integers: a hashtable. Popping most of them rebuilds the set from
    # the remaining members, which fit an intset again (as in Redis).
    fill(diff, "s", range(600))
    run(diff, ("OBJECT", "ENCODING", "s"))
    pv, rv, _, _ = both_parsed(diff, "SPOP", "s", "550")
    assert len(pv) == len(rv) == 550 and len(set(pv)) == 550
    run(diff, ("SCARD", "s"), ("OBJECT", "ENCODING", "s"))
    # Few pops keep the encoding.
    fill(diff, "h", range(600))
    pv, rv, _, _ = both_parsed(diff, "SPOP", "h", "10")
    assert len(pv) == len(rv) == 10
    run(diff, ("SCARD", "h"), ("OBJECT", "ENCODING", "h"))
    # count >= size of a hashtable of integers: the reply is built as a union.
    fill(diff, "all", range(100))
    diff.check("SADD", "all", "x")
    diff.check("SREM", "all", "x")
    check_unordered(diff, "SPOP", "all", "1000")
    run(diff, ("EXISTS", "all"))


def test_srandmember(diff):
    run(diff, ("SADD", "i", "1", "2", "3", "4", "5"),
        ("SRANDMEMBER", "i", "abc"), ("SRANDMEMBER", "i", "-9223372036854775808"),
        ("SRANDMEMBER", "i", "9223372036854775808"), ("SRANDMEMBER", "i", "1", "2"),
        ("SRANDMEMBER", "nokey"), ("SRANDMEMBER", "nokey", "5"),
        ("SRANDMEMBER", "nokey", "-5"), ("SRANDMEMBER", "i", "0"),
        # count >= size: the whole intset, ascending.
        ("SRANDMEMBER", "i", "5"), ("SRANDMEMBER", "i", "100"), ("SCARD", "i"))
    fill(diff, "h", [str(i).encode() for i in range(30)] + [b"x", b"y", BIN2])
    fill(diff, "k", range(100))
    for key in ("i", "h", "k"):
        full = set(parse(diff.both("SMEMBERS", key)[0]))
        pv, rv, _, _ = both_parsed(diff, "SRANDMEMBER", key)
        assert pv in full and rv in full
        for count in (1, 2, 4, 10, 20, 33, 40, 99, 200):
            pv, rv, p, r = both_parsed(diff, "SRANDMEMBER", key, str(count))
            want = min(count, len(full))
            assert p.startswith(b"*") and len(pv) == len(rv) == want
            assert len(set(pv)) == want and set(pv) <= full
        for count in (-1, -3, -50, -300):
            pv, rv, p, r = both_parsed(diff, "SRANDMEMBER", key, str(count))
            assert len(pv) == len(rv) == -count and set(pv) <= full
        run(diff, ("SCARD", key), ("OBJECT", "ENCODING", key))
    check_unordered(diff, "SRANDMEMBER", "h", "33")


# --------------------------------------------------------------------------
# SMOVE

def test_smove_single_and_errors(diff):
    run(diff, ("SADD", "src", "1", "2", "x"), ("SET", "str", "v"),
        ("SMOVE", "src", "str", "1"), ("SMOVE", "str", "src", "1"),
        ("SMOVE", "nokey", "str", "1"), ("SMOVE", "nokey", "src", "1"),
        ("SMOVE", "src", "src", "1"), ("SMOVE", "src", "src", "9"),
        ("SMOVE", "src", "dst", "9"), ("EXISTS", "dst"))


def test_smove_pairs(diff):
    for a, b in PAIRS:
        run(diff, ("SADD", a, "1", "2", "3"),
            ("SMOVE", a, b, "1"), ("OBJECT", "ENCODING", b), ("SMEMBERS", b),
            ("SMOVE", a, b, "1"), ("SMOVE", a, b, "9"),
            ("SMOVE", a, b, "2"), ("SMOVE", b, a, "1"), ("SMEMBERS", a), ("SMEMBERS", b),
            # A string member makes a new destination a hashtable ...
            ("SADD", a, "str"), ("SMOVE", a, b + "new", "str"),
            ("OBJECT", "ENCODING", b + "new"), ("SMEMBERS", b + "new"),
            # ... and converts an existing intset destination.
            ("SADD", a, BIN1), ("SMOVE", a, b, BIN1), ("OBJECT", "ENCODING", b),
            ("SISMEMBER", b, BIN1), ("SCARD", b),
            # Moving the last member deletes the source.
            ("SMOVE", a, b, "3"), ("SMOVE", a, b, "1"), ("EXISTS", a),
            # The member already in the destination: still 1, source loses it.
            ("SADD", a, "2"), ("SMOVE", a, b, "2"), ("EXISTS", a), ("SCARD", b),
            # Wrong types on either side; an absent source wins over a bad destination.
            ("SET", "w" + a, "v"), ("SMOVE", b, "w" + a, "2"), ("SMOVE", "w" + a, b, "2"),
            ("SMOVE", "nokey" + a, "w" + a, "2"), ("SCARD", b),
            ("SMOVE", b, a, "nomember"), ("EXISTS", a))
        diff.check("FLUSHALL")


# --------------------------------------------------------------------------
# SINTER SUNION SDIFF SINTERCARD and *STORE

def test_setops_intsets_bytes(diff):
    for a, b, c in TRIPLES:
        run(diff, ("SADD", a, "1", "2", "3", "4", "5"), ("SADD", b, "2", "4", "6", "8"),
            ("SADD", c, "4", "5", "-1"),
            ("SINTER", a, b), ("SINTER", a, b, c), ("SINTER", c, a, b), ("SINTER", a),
            ("SINTER", a, a), ("SINTER", a, "nokey"), ("SINTER", "nokey", a),
            ("SUNION", a, b), ("SUNION", a, b, c), ("SUNION", a, "nokey"), ("SUNION", "nokey"),
            ("SDIFF", a, b), ("SDIFF", a, b, c), ("SDIFF", b, a), ("SDIFF", a, a),
            ("SDIFF", a, "nokey"), ("SDIFF", "nokey", a), ("SDIFF", a, b, a),
            ("SINTERCARD", "2", a, b), ("SINTERCARD", "3", a, b, c),
            ("SINTERCARD", "2", a, b, "LIMIT", "1"), ("SINTERCARD", "2", a, b, "limit", "0"),
            ("SINTERCARD", "1", a, "LIMIT", "3"), ("SINTERCARD", "2", a, "nokey"),
            ("SINTERSTORE", "d1", a, b), ("SMEMBERS", "d1"), ("OBJECT", "ENCODING", "d1"),
            ("SUNIONSTORE", "d2", a, b, c), ("SMEMBERS", "d2"), ("OBJECT", "ENCODING", "d2"),
            ("SDIFFSTORE", "d3", a, b), ("SMEMBERS", "d3"), ("OBJECT", "ENCODING", "d3"),
            ("SINTERSTORE", c, a, c), ("SMEMBERS", c),
            ("SUNIONSTORE", a, a, b), ("SMEMBERS", a),
            ("SDIFFSTORE", b, b, "nokey"), ("SMEMBERS", b))
        diff.check("FLUSHALL")


def test_setops_hashtables_unordered(diff):
    for a, b, c in TRIPLES:
        run(diff, ("SADD", a, "x", "y", "z", "1", "2", BIN1),
            ("SADD", b, "y", "z", "w", "2", BIN2), ("SADD", c, "q", "1", "2", "3"))
        for args in (("SINTER", a, b), ("SINTER", a, b, c), ("SINTER", c, a),
                     ("SUNION", a, b), ("SUNION", a, b, c), ("SDIFF", a, b),
                     ("SDIFF", a, b, c), ("SDIFF", c, a), ("SMEMBERS", a)):
            check_unordered(diff, *args)
        run(diff, ("SINTERCARD", "3", a, b, c), ("SINTERCARD", "2", a, b, "LIMIT", "2"),
            ("SINTERSTORE", "d1", a, b), ("SCARD", "d1"), ("OBJECT", "ENCODING", "d1"),
            # Only integers in common: the stored result is an intset.
            ("SINTERSTORE", "d2", a, c), ("SMEMBERS", "d2"), ("OBJECT", "ENCODING", "d2"),
            ("SUNIONSTORE", "d3", a, b, c), ("SCARD", "d3"), ("OBJECT", "ENCODING", "d3"),
            ("SDIFFSTORE", "d4", a, b), ("SCARD", "d4"), ("OBJECT", "ENCODING", "d4"))
        for k in ("d1", "d3", "d4"):
            check_unordered(diff, "SMEMBERS", k)
        diff.check("FLUSHALL")


def test_sdiff_algorithms_encoding(diff):
    # The first set is big next to the others: Redis copies it and removes
    # (its non-integer leaves the result a hashtable even when removed) ...
    members = [str(i) for i in range(10)] + ["a"]
    for a, b, c in TRIPLES:
        run(diff, ("SADD", a, *members), ("SADD", b, "a"), ("SADD", c, "zz"),
            ("SDIFFSTORE", "d", a, b, c), ("OBJECT", "ENCODING", "d"), ("SCARD", "d"),
            # ... while with comparable sizes it walks the first set.
            ("SADD", "m" + a, "1", "2", "a"), ("SADD", "m" + b, "a", "q"),
            ("SDIFFSTORE", "e", "m" + a, "m" + b), ("OBJECT", "ENCODING", "e"),
            ("SMEMBERS", "e"))
        check_unordered(diff, "SDIFF", a, b, c)
        diff.check("FLUSHALL")


def test_setops_big_results(diff):
    try:
        for a, b in PAIRS[:5]:
            fill(diff, a, range(0, 700, 1))
            fill(diff, b, range(300, 1000, 1))
            run(diff, ("SINTERSTORE", "i", a, b), ("OBJECT", "ENCODING", "i"),
                ("SUNIONSTORE", "u", a, b), ("OBJECT", "ENCODING", "u"), ("SCARD", "u"),
                ("SDIFFSTORE", "d", a, b), ("OBJECT", "ENCODING", "d"), ("SCARD", "d"),
                ("SINTERCARD", "2", a, b), ("SINTERCARD", "2", a, b, "LIMIT", "10"))
            check_unordered(diff, "SINTER", a, b)
            check_unordered(diff, "SUNION", a, b)
            set_config(diff, "set-max-intset-entries", 5)
            run(diff, ("SADD", "s" + a, "1", "2", "3"), ("SADD", "s" + b, "3", "4", "5", "6"),
                ("SUNIONSTORE", "su", "s" + a, "s" + b), ("OBJECT", "ENCODING", "su"),
                ("SINTERSTORE", "si", "s" + a, "s" + b), ("OBJECT", "ENCODING", "si"))
            set_config(diff, "set-max-intset-entries", 512)
            diff.check("FLUSHALL")
    finally:
        set_config(diff, "set-max-intset-entries", 512)


def test_setops_wrongtype_and_absent(diff):
    for a, b, c in TRIPLES:
        run(diff, ("SADD", a, "1", "2"), ("SET", b, "str"),
            ("SINTER", a, b), ("SINTER", b, a), ("SINTER", "nokey", b),
            ("SUNION", a, b), ("SDIFF", a, b), ("SDIFF", "nokey", b),
            ("SINTERCARD", "2", a, b), ("SINTERCARD", "2", "nokey", b),
            ("SINTERSTORE", c, a, b), ("SUNIONSTORE", c, a, b), ("SDIFFSTORE", c, a, b),
            ("EXISTS", c),
            # An absent source: an empty intersection deletes the destination.
            ("SADD", c, "9"), ("SINTERSTORE", c, a, "nokey"), ("EXISTS", c),
            ("SADD", c, "9"), ("SDIFFSTORE", c, "nokey", a), ("EXISTS", c),
            ("SUNIONSTORE", c, "nokey", "nokey2"), ("EXISTS", c),
            ("SADD", c, "9"), ("SDIFFSTORE", c, a, a), ("EXISTS", c),
            ("SINTER", "nokey", "nokey2"), ("SUNION", "nokey", "nokey2"),
            ("SDIFF", "nokey", "nokey2"), ("SINTERCARD", "2", "nokey", "nokey2"))
        diff.check("FLUSHALL")


def test_store_over_other_types(diff):
    for a, b, c in TRIPLES:
        run(diff, ("SADD", a, "1", "2", "x"), ("SADD", b, "2", "x", "y"),
            ("SET", c, "string", "EX", "1000"), ("SUNIONSTORE", c, a, b), ("TYPE", c),
            ("TTL", c), ("SCARD", c),
            ("SET", c, "string"), ("SINTERSTORE", c, a, b), ("TYPE", c), ("SCARD", c),
            ("SET", c, "string"), ("SDIFFSTORE", c, a, b), ("TYPE", c), ("SMEMBERS", c),
            ("SADD", c + "x", "5"), ("EXPIRE", c + "x", "1000"),
            ("SINTERSTORE", c + "x", a, b), ("TTL", c + "x"),
            # A destination that is also a source.
            ("SUNIONSTORE", a, a, b), ("SCARD", a))
        p, _ = diff.both("RPUSH", "lst" + a, "e")
        if not p.startswith(b"-ERR unknown command"):
            run(diff, ("SUNIONSTORE", "lst" + a, a, b), ("TYPE", "lst" + a))
            check_unordered(diff, "SUNION", "lst" + a, b)
        diff.check("FLUSHALL")


def test_sintercard_errors(diff):
    run(diff, ("SADD", "a", "1"), ("SADD", "b", "1"),
        ("SINTERCARD", "0", "a"), ("SINTERCARD", "-1", "a"), ("SINTERCARD", "x", "a"),
        ("SINTERCARD", "3", "a", "b"), ("SINTERCARD", "2", "a", "b", "LIMIT"),
        ("SINTERCARD", "2", "a", "b", "LIMIT", "-1"), ("SINTERCARD", "2", "a", "b", "LIMIT", "x"),
        ("SINTERCARD", "2", "a", "b", "FOO", "1"), ("SINTERCARD", "1", "a", "b"),
        ("SINTERCARD", "9223372036854775808", "a"),
        ("SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "0"),
        ("COMMAND", "GETKEYS", "SINTERCARD", "2", "a", "b", "LIMIT", "1"),
        ("COMMAND", "GETKEYS", "SINTERSTORE", "d", "a", "b"),
        ("COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"),
        # Bad options are found before a wrong type.
        ("SET", "str", "v"), ("SINTERCARD", "2", "a", "str", "LIMIT", "-1"),
        ("SINTERCARD", "2", "a", "str"))


def test_setops_in_multi(diff):
    for a, b in PAIRS[:6]:
        run(diff, ("MULTI",), ("SADD", a, "1", "2", "3"), ("SADD", b, "3", "4"),
            ("SINTER", a, b), ("SUNIONSTORE", "u" + a, a, b), ("SMOVE", a, b, "1"),
            ("SDIFF", a, b), ("SINTERCARD", "2", a, b), ("SMEMBERS", b),
            ("SINTERCARD", "0", a), ("EXEC",), ("SMEMBERS", "u" + a))
        diff.check("FLUSHALL")


def test_setops_pipeline(diff):
    cmds = []
    for i, (a, b) in enumerate(PAIRS):
        cmds += [("SADD", a, str(i), "100", "200"), ("SADD", b, str(i + 1), "100"),
                 ("SINTER", a, b), ("SUNION", a, b), ("SDIFF", a, b),
                 ("SINTERSTORE", "st" + a, a, b), ("SMOVE", a, b, "200"),
                 ("SINTERCARD", "2", a, b), ("SMEMBERS", b), ("SCARD", a)]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# SSCAN

def full_sscan(conn, key, *opts):
    """Every element an SSCAN walk returns, and the number of calls."""
    cursor = b"0"
    seen = []
    calls = 0
    while True:
        conn.send("SSCAN", key, cursor, *opts)
        reply = parse(conn.read_reply())
        assert not isinstance(reply, ErrorReply), reply
        cursor, items = reply
        seen += items
        calls += 1
        if cursor == b"0":
            return seen, calls


def test_sscan_intset_and_errors(diff):
    run(diff, ("SADD", "i", "1", "22", "3", "-4", "100"),
        ("SSCAN", "i", "0"), ("SSCAN", "i", "123"), ("SSCAN", "i", "0", "COUNT", "1"),
        ("SSCAN", "i", "0", "MATCH", "*2*"), ("SSCAN", "i", "0", "MATCH", "-*", "COUNT", "100"),
        ("SSCAN", "i", "0", "COUNT", "0"), ("SSCAN", "i", "0", "COUNT", "x"),
        ("SSCAN", "i", "0", "COUNT"), ("SSCAN", "i", "0", "MATCH"),
        ("SSCAN", "i", "0", "TYPE", "set"), ("SSCAN", "i", "x"), ("SSCAN", "i", "-1"),
        ("SSCAN", "i", " 1"), ("SSCAN", "i", "18446744073709551616"),
        ("SSCAN", "nokey", "0"), ("SSCAN", "nokey", "0", "COUNT", "0"),
        ("SSCAN", "nokey", "x"), ("SET", "str", "v"), ("SSCAN", "str", "0"),
        ("SSCAN", "str", "0", "COUNT", "0"), ("SSCAN", "str", "x"))
    diff.hello3()
    run(diff, ("SSCAN", "i", "0"), ("SSCAN", "nokey", "0"))


def test_sscan_hashtable(diff):
    members = [("m%d" % i).encode() for i in range(300)] + [BIN1, BIN2]
    fill(diff, "h", members)
    for opts in ((), ("COUNT", "7"), ("COUNT", "1000"), ("MATCH", "m1*"),
                 ("MATCH", "m1*", "COUNT", "3")):
        p, pcalls = full_sscan(diff.pconn, "h", *opts)
        r, _ = full_sscan(diff.rconn, "h", *opts)
        assert sorted(set(p)) == sorted(set(r)), opts
        if opts == ("COUNT", "1000"):
            assert pcalls == 1
    # A small COUNT walks in several steps on both.
    _, pcalls = full_sscan(diff.pconn, "h", "COUNT", "5")
    assert pcalls > 10
    # A pattern that matches nothing still walks to cursor 0.
    p, _ = full_sscan(diff.pconn, "h", "MATCH", "nothing*")
    assert p == []


# --------------------------------------------------------------------------
# Atomicity of cross-shard commands

def _hammer(port, fn, stop, errors):
    import redis as redis_py
    c = redis_py.Redis(host="127.0.0.1", port=port, decode_responses=True)
    try:
        while not stop.is_set():
            fn(c)
    except Exception as e:  # reported by the test
        errors.append(e)
    finally:
        c.close()


def test_smove_atomic(diff):
    port = diff.percore_port
    pairs = PAIRS
    p = diff.percore
    for a, b in pairs:
        p.sadd(a, "m", "keep-a")
        p.sadd(b, "keep-b")
    stop = threading.Event()
    errors = []

    def writer(c):
        for a, b in pairs:
            if c.smove(a, b, "m") != 1 or c.smove(b, a, "m") != 1:
                raise AssertionError("SMOVE failed")

    def reader(c):
        for a, b in pairs:
            union = c.sunion(a, b)
            if union != {"m", "keep-a", "keep-b"}:
                raise AssertionError("SUNION saw %r" % (union,))
            if c.execute_command("SINTERCARD", 2, a, b) != 0:
                raise AssertionError("m in both sets")
            pipe = c.pipeline(transaction=True)
            pipe.sismember(a, "m")
            pipe.sismember(b, "m")
            x, y = pipe.execute()
            if int(x) + int(y) != 1:
                raise AssertionError("MULTI saw m in %d sets" % (int(x) + int(y)))

    run_threads(2.0, stop, [(_hammer, port, fn, stop, errors) for fn in (writer, reader, reader)])
    assert not errors, errors[:3]


def test_store_atomic(diff):
    port = diff.percore_port
    pairs = PAIRS
    p = diff.percore
    universe = {str(i) for i in range(20)}
    for a, b in pairs:
        p.sadd(a, *[str(i) for i in range(10)])
        p.sadd(b, *[str(i) for i in range(10, 20)])
    stop = threading.Event()
    errors = []

    def mover(c):
        # Shuffle members between the sources: their union never changes.
        for a, b in pairs:
            for m in ("3", "15"):
                if c.smove(a, b, m) == 0:
                    c.smove(b, a, m)

    def storer(c):
        for a, b in pairs:
            n = c.sunionstore("u" + a, a, b)
            if n != 20:
                raise AssertionError("SUNIONSTORE stored %d members" % n)
            n = c.sinterstore("i" + a, a, b)
            if n != 0:
                raise AssertionError("SINTERSTORE stored %d members" % n)

    def reader(c):
        for a, b in pairs:
            got = c.smembers("u" + a)
            if got and got != universe:
                raise AssertionError("stored union %r" % (sorted(got),))
            pipe = c.pipeline(transaction=True)
            pipe.sunionstore("t" + a, a, b)
            pipe.smembers("t" + a)
            n, members = pipe.execute()
            if n != 20 or members != universe:
                raise AssertionError("MULTI union %r" % (sorted(members),))

    run_threads(2.0, stop, [(_hammer, port, fn, stop, errors) for fn in (mover, storer, reader)])
    assert not errors, errors[:3]


def test_copy_is_deep_set(diff):
    # Both encodings: an intset and a hashtable, copied (maybe across shards),
    # then each side changed; the other must not see it.
    cmds = [["SADD", "ci", "1", "2", "3"], ["SADD", "ch", *["m%d" % i for i in range(300)]],
            ["COPY", "ci", "ci2"], ["COPY", "ch", "ch2"],
            ["OBJECT", "ENCODING", "ci2"], ["OBJECT", "ENCODING", "ch2"],
            ["SADD", "ci2", "4"], ["SREM", "ch", "m0"], ["SADD", "ch2", "x\x00\xff"],
            ["SCARD", "ci"], ["SCARD", "ci2"], ["SCARD", "ch"], ["SCARD", "ch2"],
            ["SISMEMBER", "ch2", "m0"], ["SISMEMBER", "ch", "x\x00\xff"],
            ["SMISMEMBER", "ci", "4", "3"]]
    diff.check_many(cmds)
