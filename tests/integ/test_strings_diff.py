"""test_strings_diff.py -- differential tests of the string command family.

Every case sends the same commands to percore and to the reference Redis
7.0 (fixture `diff`, tests/integ/conftest.py) and compares the raw reply
bytes: happy paths, every error text, wrong types, wrong arity, overflow,
binary-safe values, negative and huge ranges, expiry options, BITFIELD
overflow modes and LCS options. Keys are chosen so that multi-key commands
(MGET, MSET, MSETNX, BITOP, LCS) span several shards of percore.
"""

import time

import pytest

BIN = b"a\x00b\r\nc\xff\x00"
FAR_MS = 4102444800000          # 2100-01-01 in ms
FAR_S = FAR_MS // 1000


def run(diff, *cmds):
    """Pipeline cmds (tuples) to both servers and compare every reply."""
    return diff.check_many(list(cmds))


def make_list(diff, key):
    """Make key a list on both servers (a value of the wrong type for every
    string command)."""
    diff.check("RPUSH", key, "a")


# --------------------------------------------------------------------------
# SET / GET family

def test_set_get_basic(diff):
    run(diff,
        ("SET", "k", "v"), ("GET", "k"), ("GET", "missing"),
        ("SET", "k", BIN), ("GET", "k"), ("STRLEN", "k"),
        ("SET", "empty", ""), ("GET", "empty"), ("STRLEN", "empty"),
        ("SET", "big", "x" * 100000), ("GET", "big"),
        ("set", "lower", "1"), ("get", "lower"))


def test_set_encodings(diff):
    run(diff,
        ("SET", "i", "12345"), ("OBJECT", "ENCODING", "i"),
        ("SET", "neg", "-9223372036854775808"), ("OBJECT", "ENCODING", "neg"),
        ("SET", "lz", "0123"), ("OBJECT", "ENCODING", "lz"),
        ("SET", "plus", "+1"), ("OBJECT", "ENCODING", "plus"),
        ("SET", "huge", "9223372036854775808"), ("OBJECT", "ENCODING", "huge"),
        ("SET", "e", "x" * 44), ("OBJECT", "ENCODING", "e"),
        ("SET", "r", "x" * 45), ("OBJECT", "ENCODING", "r"),
        ("SETNX", "nx", "7"), ("OBJECT", "ENCODING", "nx"),
        ("SETEX", "ex", "100", "8"), ("OBJECT", "ENCODING", "ex"),
        ("GETSET", "gs", "9"), ("OBJECT", "ENCODING", "gs"),
        ("MSET", "m1", "10", "m2", "abc"), ("OBJECT", "ENCODING", "m1"),
        ("OBJECT", "ENCODING", "m2"))


def test_set_nx_xx_get(diff):
    run(diff,
        ("SET", "k", "v", "NX"), ("SET", "k", "w", "NX"), ("GET", "k"),
        ("SET", "k", "x", "XX"), ("GET", "k"), ("SET", "nokey", "x", "XX"),
        ("EXISTS", "nokey"),
        ("SET", "k", "y", "GET"), ("SET", "new", "y", "GET"),
        ("SET", "k", "z", "NX", "GET"), ("GET", "k"),
        ("SET", "new2", "z", "NX", "GET"), ("GET", "new2"),
        ("SET", "k", "q", "XX", "GET"), ("SET", "nk", "q", "XX", "GET"),
        ("SET", "k", "v", "nx", "nx"), ("SET", "k", "v", "xx", "xx", "get", "get"),
        ("SET", "k", "v", "NX", "XX"), ("SET", "k", "v", "XX", "NX"),
        ("SET", "k", "v", "BOGUS"), ("SET", "k", "v", "GETX"))


def test_set_get_wrongtype(diff):
    make_list(diff, "l")
    run(diff,
        ("GET", "l"), ("SET", "l", "v", "GET"), ("TYPE", "l"),
        ("GETSET", "l", "v"), ("TYPE", "l"),
        ("GETDEL", "l"), ("GETEX", "l"), ("GETEX", "l", "PERSIST"),
        ("APPEND", "l", "x"), ("STRLEN", "l"), ("GETRANGE", "l", "0", "1"),
        ("SUBSTR", "l", "0", "1"), ("SETRANGE", "l", "0", "x"),
        ("INCR", "l"), ("DECR", "l"), ("INCRBY", "l", "2"), ("DECRBY", "l", "2"),
        ("INCRBYFLOAT", "l", "1.5"), ("SETBIT", "l", "0", "1"), ("GETBIT", "l", "0"),
        ("BITCOUNT", "l"), ("BITPOS", "l", "1"), ("BITFIELD", "l", "GET", "u8", "0"),
        ("BITFIELD", "l"), ("BITFIELD_RO", "l", "GET", "u8", "0"),
        ("BITFIELD", "l", "SET", "u8", "0", "1"),
        ("MGET", "l", "nope"),
        ("SET", "l", "overwritten"), ("GET", "l"), ("TYPE", "l"))


def test_set_expire_options(diff):
    run(diff,
        ("SET", "k", "v", "EX", "100"), ("TTL", "k"),
        ("SET", "k", "v", "PX", "100000"), ("TTL", "k"),
        ("SET", "k", "v", "EXAT", str(FAR_S)), ("EXPIRETIME", "k"),
        ("SET", "k", "v", "PXAT", str(FAR_MS)), ("PEXPIRETIME", "k"),
        ("SET", "k", "w", "KEEPTTL"), ("PEXPIRETIME", "k"), ("GET", "k"),
        ("SET", "k", "w"), ("TTL", "k"),
        ("SET", "k", "v", "ex", "100", "EX", "200"), ("TTL", "k"),
        ("SET", "k", "v", "EX", "100", "NX"), ("SET", "k", "v", "XX", "PX", "100000", "GET"),
        ("TTL", "k"),
        ("SET", "k", "v", "EXAT", "1"), ("GET", "k"), ("EXISTS", "k"),
        ("SET", "k", "v", "PXAT", "1", "GET"))


@pytest.mark.parametrize("opts", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-5"), ("EXAT", "0"), ("PXAT", "-1"),
    ("EX", "9223372036854776"), ("EX", "9223372036854775807"), ("PX", "9223372036854775807"),
    ("EXAT", "9223372036854776"), ("EX", "abc"), ("PX", "1.5"), ("EX", ""), ("EX", " 1"),
    ("EX", "99999999999999999999"),
    ("EX",), ("PX",), ("EXAT",), ("PXAT",),
    ("EX", "10", "PX", "100"), ("PX", "10", "EX", "100"), ("EX", "10", "EXAT", "100"),
    ("PXAT", "10", "EXAT", "100"), ("KEEPTTL", "EX", "10"), ("EX", "10", "KEEPTTL"),
    ("PERSIST",), ("KEEPTTL", "PX", "1"), ("NX", "XX"), ("XX", "NX"),
    ("EX", "10", "BOGUS"), ("GET", "EX"), ("KEEPTTL", "KEEPTTL"),
])
def test_set_option_errors(diff, opts):
    run(diff, ("SET", "k", "old"), ("SET", "k", "v") + opts, ("GET", "k"), ("TTL", "k"))


def test_wrongtype_multi_key(diff):
    """Values of another type: MGET reads them as missing, MSET overwrites
    them, MSETNX counts them as existing, BITOP and LCS refuse them."""
    make_list(diff, "l")
    make_list(diff, "list2")
    run(diff,
        ("SETEX", "l", "100", "v"), ("TYPE", "l"), ("DEL", "l"), ("RPUSH", "l", "a"),
        ("MSET", "a", "ohmytext", "b", "mynewtext", KEYS[1], "x", KEYS[2], "y"),
        ("MGET", KEYS[1], "l", KEYS[2], "list2"),
        ("MSETNX", "l", "x", KEYS[21], "y"), ("EXISTS", KEYS[21]),
        ("BITPOS", "l", "1"), ("BITPOS", "l", "3"),
        ("BITOP", "AND", "d", "a", "l"), ("BITOP", "OR", "d", KEYS[1], "missing", "list2"),
        ("EXISTS", "d"), ("BITOP", "OR", "l", "a"), ("TYPE", "l"),
        ("BITOP", "AND", "d", "missing", "l"),
        ("BITFIELD_RO", "l", "SET", "u8", "0", "1"), ("BITFIELD", "l", "GET", "x", "0"),
        ("BITFIELD_RO", "l", "GET", "u8", "0"),
        ("LCS", "a", "list2"), ("LCS", "list2", "a", "BOGUS"), ("LCS", "list2", "missing"),
        ("LCS", KEYS[1], "list2", "IDX"),
        ("MSET", "list2", "now-a-string", KEYS[3], "z"), ("TYPE", "list2"), ("GET", "list2"))


def test_setex_psetex(diff):
    run(diff,
        ("SETEX", "k", "100", "v"), ("TTL", "k"), ("GET", "k"),
        ("PSETEX", "p", "100000", BIN), ("TTL", "p"), ("GET", "p"),
        ("SETEX", "k", "0", "v"), ("SETEX", "k", "-1", "v"), ("SETEX", "k", "x", "v"),
        ("SETEX", "k", "9223372036854776", "v"),
        ("PSETEX", "k", "0", "v"), ("PSETEX", "k", "-10", "v"), ("PSETEX", "k", "1.0", "v"),
        ("PSETEX", "k", "9223372036854775807", "v"),
        ("SETEX", "k", "100"), ("PSETEX", "k"), ("SETEX", "k", "1", "v", "x"))


def test_setnx_getset_getdel(diff):
    run(diff,
        ("SETNX", "k", "a"), ("SETNX", "k", "b"), ("GET", "k"),
        ("GETSET", "k", "c"), ("GETSET", "new", "d"), ("GET", "new"),
        ("SET", "t", "v", "EX", "100"), ("GETSET", "t", "w"), ("TTL", "t"),
        ("GETDEL", "k"), ("GETDEL", "k"), ("EXISTS", "k"),
        ("SETNX", "k"), ("GETSET", "k"), ("GETDEL",), ("GETDEL", "a", "b"))


def test_getex(diff):
    run(diff,
        ("SET", "k", "v"), ("GETEX", "k"), ("TTL", "k"),
        ("GETEX", "k", "EX", "100"), ("TTL", "k"),
        ("GETEX", "k", "PX", "200000"), ("TTL", "k"),
        ("GETEX", "k", "EXAT", str(FAR_S)), ("EXPIRETIME", "k"),
        ("GETEX", "k", "PXAT", str(FAR_MS)), ("PEXPIRETIME", "k"),
        ("GETEX", "k", "PERSIST"), ("TTL", "k"),
        ("GETEX", "k", "persist", "persist"), ("GETEX", "k", "ex", "10", "ex", "20"), ("TTL", "k"),
        ("GETEX", "missing", "EX", "10"), ("GETEX", "missing", "EX", "0"),
        ("GETEX", "k", "EX", "0"), ("GETEX", "k", "EX", "-1"), ("GETEX", "k", "PX", "abc"),
        ("GETEX", "k", "EX", "9223372036854776"),
        ("GETEX", "k", "KEEPTTL"), ("GETEX", "k", "NX"), ("GETEX", "k", "GET"),
        ("GETEX", "k", "EX"), ("GETEX", "k", "EX", "10", "PX", "10"),
        ("GETEX", "k", "PERSIST", "EX", "10"), ("GETEX", "k", "EX", "10", "PERSIST"),
        ("GETEX", "k", "BOGUS"), ("GET", "k"),
        ("GETEX", "k", "EXAT", "1"), ("EXISTS", "k"),
        ("SET", "k2", "v"), ("GETEX", "k2", "PXAT", "100"), ("GET", "k2"),
        ("GETEX",))


def test_getex_syntax_before_lookup(diff):
    run(diff, ("GETEX", "missing", "BOGUS"))
    make_list(diff, "l")
    run(diff, ("GETEX", "l", "BOGUS"),
        ("GETEX", "l", "EX", "0"), ("GETEX", "missing", "EX", "abc"))


# --------------------------------------------------------------------------
# MGET / MSET / MSETNX

KEYS = ["k%d" % i for i in range(24)]


def test_mget_mset(diff):
    cmd = ("MSET",)
    for i, k in enumerate(KEYS):
        cmd += (k, "v%d" % i if i % 3 else BIN + bytes([i]))
    run(diff, cmd, ("MGET",) + tuple(KEYS), ("MGET", "nope"),
        ("MGET",) + tuple(reversed(KEYS)) + ("nope", KEYS[0], KEYS[0]),
        ("MSET", "a", "1", "a", "2", "b", "3", "a", "4"), ("MGET", "a", "b"),
        ("MSET", "solo", "1"), ("GET", "solo"),
        ("MGET", "a", "b"))


def test_mset_arity(diff):
    run(diff, ("MSET",), ("MSET", "a"), ("MSET", "a", "1", "b"),
        ("MSET", *KEYS[:5]), ("MSETNX", "a"), ("MSETNX", "a", "1", "b"),
        ("MSETNX", *KEYS[:7]), ("MGET",), ("EXISTS", "a", "b", *KEYS[:7]))


def test_msetnx(diff):
    run(diff,
        ("MSETNX", *sum([[k, k.upper()] for k in KEYS[:10]], [])),
        ("MGET",) + tuple(KEYS[:10]),
        ("MSETNX", KEYS[11], "x", KEYS[12], "y", KEYS[3], "z"),
        ("MGET", KEYS[11], KEYS[12], KEYS[3]),
        ("MSETNX", "dup", "1", "dup", "2"), ("GET", "dup"),
        ("SET", "t", "v", "EX", "100"), ("MSET", "t", "w", KEYS[20], "q"), ("TTL", "t"),
        ("MSETNX", "t", "x"))


# --------------------------------------------------------------------------
# APPEND / STRLEN / GETRANGE / SETRANGE

def test_append_strlen(diff):
    run(diff,
        ("APPEND", "k", "12"), ("OBJECT", "ENCODING", "k"), ("APPEND", "k", "34"),
        ("OBJECT", "ENCODING", "k"), ("GET", "k"), ("STRLEN", "k"),
        ("SET", "i", "100"), ("APPEND", "i", ""), ("OBJECT", "ENCODING", "i"), ("GET", "i"),
        ("APPEND", "b", BIN), ("APPEND", "b", BIN), ("GET", "b"), ("STRLEN", "b"),
        ("SET", "t", "x", "EX", "100"), ("APPEND", "t", "y"), ("TTL", "t"),
        ("APPEND", "e", ""), ("EXISTS", "e"), ("GET", "e"),
        ("STRLEN", "missing"), ("SET", "n", "-123"), ("STRLEN", "n"),
        ("APPEND", "k"), ("STRLEN",), ("STRLEN", "a", "b"))


def test_getrange(diff):
    cmds = [("SET", "s", "Hello, World"), ("SET", "i", "-12345"), ("SET", "e", ""),
            ("SET", "b", BIN)]
    ranges = [(0, 3), (0, -1), (-3, -1), (5, 2), (-1, -5), (-100, 5), (3, 1000),
              (1000, 2000), (-5, -100), (0, 0), (-1, -1), (11, 11), (12, 12),
              ("-9223372036854775808", "9223372036854775807"),
              ("9223372036854775807", "-9223372036854775808"), (-2, 0), (0, -100)]
    for k in ("s", "i", "e", "b", "missing"):
        for a, b in ranges:
            cmds.append(("GETRANGE", k, str(a), str(b)))
    cmds += [("SUBSTR", "s", "0", "4"), ("SUBSTR", "s", "-5", "-1"),
             ("GETRANGE", "s", "a", "1"), ("GETRANGE", "s", "1", "b"),
             ("GETRANGE", "missing", "x", "1"), ("GETRANGE", "s", "1.0", "2"),
             ("GETRANGE", "s", "0"), ("SUBSTR", "s"), ("GETRANGE", "s", "0", "1", "2")]
    run(diff, *cmds)


def test_setrange(diff):
    run(diff,
        ("SETRANGE", "k", "5", "abc"), ("GET", "k"), ("OBJECT", "ENCODING", "k"),
        ("SETRANGE", "k", "0", "XY"), ("GET", "k"), ("SETRANGE", "k", "10", BIN), ("GET", "k"),
        ("SETRANGE", "k", "2", ""), ("SETRANGE", "new", "0", ""), ("EXISTS", "new"),
        ("SETRANGE", "new", "100", ""), ("EXISTS", "new"),
        ("SET", "i", "1234"), ("SETRANGE", "i", "1", "9"), ("GET", "i"), ("OBJECT", "ENCODING", "i"),
        ("SET", "t", "abc", "EX", "100"), ("SETRANGE", "t", "1", "Z"), ("TTL", "t"), ("GET", "t"),
        ("SETRANGE", "k", "-1", "x"), ("SETRANGE", "k", "x", "x"),
        ("SETRANGE", "k", "536870911", ""), ("SETRANGE", "k", "536870912", "x"),
        ("SETRANGE", "z", "536870912", "x"), ("SETRANGE", "z", "536870911", "xy"),
        ("SETRANGE", "z", "9223372036854775807", "x"), ("EXISTS", "z"),
        ("SETRANGE", "k", "1"), ("SETRANGE", "k", "1", "a", "b"))


def test_new_value_by_setrange_or_setbit_takes_its_size(diff):
    # A value created by SETRANGE or SETBIT has exactly its length; only one
    # that grows afterwards gets spare room (MEMORY USAGE shows which).
    run(diff,
        ("SETRANGE", "mr1", "10", "x"), ("MEMORY", "USAGE", "mr1"),
        ("SETRANGE", "mr2", "100", "xyz"), ("MEMORY", "USAGE", "mr2"),
        ("SETBIT", "mb1", "1000", "1"), ("MEMORY", "USAGE", "mb1"),
        ("SETRANGE", "mr1", "20", "y"), ("MEMORY", "USAGE", "mr1"), ("GET", "mr1"))


def test_set_with_expire_over_a_ttl(diff):
    # The new deadline replaces the old one, also when it is the only TTL in
    # the database; a plain SET then drops it.
    run(diff,
        ("SET", "ttl1", "a", "EX", "100"), ("SET", "ttl1", "b", "EX", "200"), ("TTL", "ttl1"),
        ("SET", "ttl1", "c", "PX", "5000000"), ("TTL", "ttl1"), ("GET", "ttl1"),
        ("SETEX", "ttl1", "300", "d"), ("TTL", "ttl1"), ("SET", "ttl1", "e"), ("TTL", "ttl1"),
        ("SET", "ttl2", "x" * 100, "EX", "100"), ("SET", "ttl2", "1", "EX", "50"), ("TTL", "ttl2"),
        ("OBJECT", "ENCODING", "ttl2"))


# --------------------------------------------------------------------------
# Counters

def test_incr_decr(diff):
    run(diff,
        ("INCR", "c"), ("INCR", "c"), ("DECR", "c"), ("DECR", "d"), ("INCRBY", "c", "100"),
        ("DECRBY", "c", "50"), ("INCRBY", "c", "-1000"), ("DECRBY", "c", "-7"), ("GET", "c"),
        ("OBJECT", "ENCODING", "c"),
        ("SET", "s", "  1"), ("INCR", "s"), ("SET", "s", "1.5"), ("INCR", "s"),
        ("SET", "s", "abc"), ("INCR", "s"), ("SET", "s", ""), ("INCR", "s"),
        ("SET", "s", "01"), ("INCR", "s"), ("SET", "s", "+1"), ("INCR", "s"),
        ("SET", "s", "x" * 50), ("INCRBY", "s", "1"),
        ("SET", "s", "-0"), ("INCR", "s"),
        ("SET", "t", "5", "EX", "100"), ("INCR", "t"), ("TTL", "t"),
        # keys too long to hold their value inline
        ("SET", "L" * 300, "7", "EX", "100"), ("INCR", "L" * 300), ("TTL", "L" * 300),
        ("OBJECT", "ENCODING", "L" * 300), ("INCR", "N" * 300), ("GET", "N" * 300),
        ("SET", "t2", "9", "EX", "100"), ("APPEND", "t2", "1"), ("INCR", "t2"), ("TTL", "t2"),
        ("OBJECT", "ENCODING", "t2"),
        ("SET", "raw", "1" + "0" * 3), ("APPEND", "raw", "0"), ("INCR", "raw"),
        ("OBJECT", "ENCODING", "raw"), ("GET", "raw"),
        ("INCRBY", "c", "abc"), ("INCRBY", "c", "1.0"), ("INCRBY", "c", ""),
        ("INCRBY", "c", "99999999999999999999"), ("DECRBY", "c", "x"),
        ("INCR",), ("INCR", "a", "b"), ("INCRBY", "c"), ("DECRBY", "c", "1", "2"))


def test_incr_overflow(diff):
    run(diff,
        ("SET", "m", "9223372036854775807"), ("INCR", "m"), ("INCRBY", "m", "1"),
        ("INCRBY", "m", "0"), ("DECRBY", "m", "-1"), ("GET", "m"),
        ("SET", "n", "-9223372036854775808"), ("DECR", "n"), ("DECRBY", "n", "1"),
        ("INCRBY", "n", "-1"), ("INCRBY", "n", "9223372036854775807"), ("GET", "n"),
        ("DECRBY", "x", "-9223372036854775808"), ("DECRBY", "x", "9223372036854775807"),
        ("INCRBY", "y", "-9223372036854775808"), ("GET", "y"),
        ("SET", "z", "1"), ("INCRBY", "z", "9223372036854775807"),
        ("SET", "w", "-2"), ("INCRBY", "w", "-9223372036854775807"))


def test_incrbyfloat(diff):
    run(diff,
        ("INCRBYFLOAT", "f", "1.5"), ("INCRBYFLOAT", "f", "0.1"), ("INCRBYFLOAT", "f", "-1.6"),
        ("GET", "f"), ("OBJECT", "ENCODING", "f"),
        ("INCRBYFLOAT", "g", "5.0e3"), ("INCRBYFLOAT", "g", "-5000"), ("GET", "g"),
        ("SET", "i", "10"), ("INCRBYFLOAT", "i", "0.25"),
        ("SET", "i2", "3"), ("INCRBYFLOAT", "i2", "2"), ("OBJECT", "ENCODING", "i2"),
        ("INCRBYFLOAT", "h", "1e300"), ("INCRBYFLOAT", "h", "1e308"),
        ("INCRBYFLOAT", "h2", "1.7976931348623157e308"), ("INCRBYFLOAT", "h2", "1.7976931348623157e308"),
        ("INCRBYFLOAT", "inf", "inf"), ("INCRBYFLOAT", "inf", "-inf"), ("INCRBYFLOAT", "inf", "nan"),
        ("INCRBYFLOAT", "f", "abc"), ("INCRBYFLOAT", "f", ""), ("INCRBYFLOAT", "f", " 1"),
        ("INCRBYFLOAT", "f", "1 "), ("INCRBYFLOAT", "f", "0x10"),
        ("SET", "bad", "abc"), ("INCRBYFLOAT", "bad", "1"), ("INCRBYFLOAT", "bad", "xyz"),
        ("INCRBYFLOAT", "missing-bad", "xyz"), ("EXISTS", "missing-bad"),
        ("SET", "t", "1", "EX", "100"), ("INCRBYFLOAT", "t", "1.1"), ("TTL", "t"),
        ("INCRBYFLOAT", "neg", "-0.0"), ("GET", "neg"),
        ("INCRBYFLOAT", "small", "0.0000001"), ("INCRBYFLOAT", "tiny", "1e-20"),
        ("INCRBYFLOAT", "f"), ("INCRBYFLOAT", "f", "1", "2"))


# --------------------------------------------------------------------------
# SETBIT / GETBIT / BITCOUNT / BITPOS

def test_setbit_getbit(diff):
    run(diff,
        ("SETBIT", "b", "7", "1"), ("GET", "b"), ("SETBIT", "b", "7", "1"), ("SETBIT", "b", "7", "0"),
        ("SETBIT", "b", "100", "1"), ("GET", "b"), ("STRLEN", "b"), ("OBJECT", "ENCODING", "b"),
        ("GETBIT", "b", "100"), ("GETBIT", "b", "99"), ("GETBIT", "b", "100000"),
        ("GETBIT", "missing", "5"),
        ("SET", "i", "7"), ("GETBIT", "i", "2"), ("GETBIT", "i", "5"), ("SETBIT", "i", "0", "0"),
        ("OBJECT", "ENCODING", "i"),
        ("SET", "e", "ab"), ("SETBIT", "e", "1", "1"), ("OBJECT", "ENCODING", "e"),
        ("SETBIT", "b", "-1", "1"), ("SETBIT", "b", "x", "1"), ("SETBIT", "b", "1", "2"),
        ("SETBIT", "b", "1", "-1"), ("SETBIT", "b", "1", "x"), ("SETBIT", "b", "1", ""),
        ("SETBIT", "b", "4294967296", "1"), ("GETBIT", "b", "4294967296"),
        ("GETBIT", "b", "4294967295"), ("GETBIT", "b", "-1"), ("GETBIT", "b", "1.5"),
        ("SETBIT", "missing2", "x", "1"), ("SETBIT", "missing2", "1", "5"), ("EXISTS", "missing2"),
        ("SETBIT", "b", "1"), ("GETBIT", "b"), ("GETBIT", "b", "1", "2"))


def test_bitcount(diff):
    cmds = [("SET", "s", "foobar"), ("SET", "i", "12345"), ("SET", "e", ""),
            ("SET", "b", b"\xff\x00\xaa\x55\x0f\xf0\x01\x80" * 5)]
    ranges = [(0, 0), (1, 1), (0, -1), (-2, -1), (5, 30), (-100, -1), (3, 2), (-1, -3),
              (1000, 2000), (0, 100), ("-9223372036854775808", "9223372036854775807")]
    for k in ("s", "i", "e", "b", "missing"):
        cmds.append(("BITCOUNT", k))
        for a, b in ranges:
            cmds.append(("BITCOUNT", k, str(a), str(b)))
            cmds.append(("BITCOUNT", k, str(a), str(b), "BYTE"))
            cmds.append(("BITCOUNT", k, str(a), str(b), "BIT"))
    for a, b in [(1, 5), (5, 30), (0, 7), (7, 8), (3, 3), (9, 14), (-5, -1), (-13, -3),
                 (15, 16), (6, 318), (4, 12)]:
        cmds.append(("BITCOUNT", "b", str(a), str(b), "bit"))
    cmds += [("BITCOUNT", "s", "0"), ("BITCOUNT", "s", "0", "1", "BITS"),
             ("BITCOUNT", "s", "a", "1"), ("BITCOUNT", "s", "0", "b"),
             ("BITCOUNT", "s", "0", "1", "BIT", "x"), ("BITCOUNT", "missing", "0"),
             ("BITCOUNT", "missing", "a", "b"), ("BITCOUNT", "missing", "0", "1", "x"),
             ("BITCOUNT", "s", "x", "y", "BOGUS"), ("BITCOUNT",)]
    run(diff, *cmds)


def test_bitpos(diff):
    cmds = [("SET", "z", b"\x00\x00\x00"), ("SET", "o", b"\xff\xff\xff"),
            ("SET", "m", b"\x00\x0f\xf0\x00\xff\x01"), ("SET", "e", ""), ("SET", "i", "1"),
            ("SET", "long", b"\x00" * 100 + b"\x01" + b"\xff" * 100)]
    for k in ("z", "o", "m", "e", "i", "long", "missing"):
        for bit in ("0", "1"):
            cmds.append(("BITPOS", k, bit))
            for r in [("0",), ("1",), ("-1",), ("2",), ("100",), ("-100",),
                      ("0", "-1"), ("1", "2"), ("2", "1"), ("-2", "-1"), ("0", "0"),
                      ("5", "100"), ("-1", "-100")]:
                cmds.append(("BITPOS", k, bit) + r)
            for r in [("0", "-1"), ("3", "9"), ("7", "7"), ("8", "15"), ("12", "20"),
                      ("-10", "-1"), ("4", "3"), ("1", "1000"), ("15", "30"), ("805", "810")]:
                cmds.append(("BITPOS", k, bit) + r + ("BIT",))
                cmds.append(("BITPOS", k, bit) + r + ("byte",))
    cmds += [("BITPOS", "m", "2"), ("BITPOS", "m", "-1"), ("BITPOS", "m", "x"),
             ("BITPOS", "missing", "2"), ("BITPOS", "missing", "1", "x"),
             ("BITPOS", "missing", "0", "a", "b", "c"), ("BITPOS", "m", "1", "x"),
             ("BITPOS", "m", "1", "0", "x"), ("BITPOS", "m", "1", "0", "1", "BITS"),
             ("BITPOS", "m", "1", "x", "1", "BITS"), ("BITPOS", "m", "1", "0", "x", "BITS"),
             ("BITPOS", "m", "1", "0", "1", "BIT", "x"), ("BITPOS", "m")]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# BITOP

def test_bitop(diff):
    run(diff,
        ("SET", "a", b"\xff\x0f\x00abc"), ("SET", "b", b"\x0f\xf0"), ("SET", "c", "12345"),
        ("BITOP", "AND", "d", "a", "b"), ("GET", "d"), ("OBJECT", "ENCODING", "d"),
        ("BITOP", "OR", "d", "a", "b", "c"), ("GET", "d"),
        ("BITOP", "XOR", "d", "a", "b", "c", "missing"), ("GET", "d"),
        ("BITOP", "AND", "d", "a", "missing"), ("GET", "d"),
        ("BITOP", "NOT", "d", "a"), ("GET", "d"),
        ("BITOP", "not", "d", "c"), ("GET", "d"),
        ("BITOP", "or", "d", "a"), ("GET", "d"),
        ("BITOP", "xor", "a", "a", "b"), ("GET", "a"),
        ("SET", "t", "x", "EX", "100"), ("BITOP", "OR", "t", "b"), ("TTL", "t"),
        ("BITOP", "OR", "t", "missing", "missing2"), ("EXISTS", "t"),
        ("BITOP", "NOT", "t2", "missing"), ("EXISTS", "t2"),
        ("SET", "e", ""), ("BITOP", "AND", "d", "e", "e"), ("EXISTS", "d"),
        ("BITOP", "NOT", "d", "a", "b"), ("BITOP", "NAND", "d", "a"), ("BITOP", "NOT", "d"),
        ("BITOP", "AND", "d"), ("BITOP", "AND"), ("BITOP", "NAND", "d"))


def test_bitop_many_shards(diff):
    cmds = []
    for i in range(16):
        cmds.append(("SET", "src%d" % i, bytes([(i * 37 + j) & 0xff for j in range(i + 1)])))
    srcs = tuple("src%d" % i for i in range(16))
    for op in ("AND", "OR", "XOR"):
        cmds += [("BITOP", op, "dst") + srcs, ("GET", "dst"),
                 ("BITOP", op, "src3") + srcs, ("GET", "src3")]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# BITFIELD / BITFIELD_RO

def test_bitfield_basic(diff):
    run(diff,
        ("BITFIELD", "bf", "SET", "u8", "0", "255", "GET", "u8", "0", "GET", "i8", "0"),
        ("GET", "bf"), ("OBJECT", "ENCODING", "bf"),
        ("BITFIELD", "bf", "SET", "i5", "#3", "-3", "GET", "i5", "#3", "GET", "u5", "15"),
        ("BITFIELD", "bf", "INCRBY", "u2", "100", "1", "GET", "u2", "100"), ("STRLEN", "bf"),
        ("BITFIELD", "bf", "GET", "u63", "0", "GET", "i64", "0", "GET", "i64", "3"),
        ("BITFIELD", "bf", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0"),
        ("BITFIELD", "bf", "SET", "u63", "1", "9223372036854775807", "GET", "u63", "1"),
        ("BITFIELD", "bf", "GET", "u8", "1000", "GET", "i16", "#100"),
        ("BITFIELD", "bf"), ("BITFIELD", "missing"), ("EXISTS", "missing"),
        ("BITFIELD", "missing", "GET", "u8", "0"), ("EXISTS", "missing"),
        ("BITFIELD", "new", "INCRBY", "u8", "#2", "10"), ("GET", "new"),
        ("SET", "s", "12345"), ("BITFIELD", "s", "GET", "u8", "0", "GET", "u16", "4"),
        ("BITFIELD", "s", "SET", "u8", "0", "65"), ("GET", "s"), ("OBJECT", "ENCODING", "s"),
        ("BITFIELD", "s", "get", "U8", "0", "set", "I8", "8", "1", "incrby", "u4", "0", "1"),
        ("BITFIELD_RO", "s", "GET", "u8", "0", "GET", "i8", "8"), ("BITFIELD_RO", "missing"),
        ("BITFIELD_RO", "missing", "GET", "u8", "0"))


def test_bitfield_overflow(diff):
    cmds = []
    for mode in ("WRAP", "SAT", "FAIL"):
        cmds += [
            ("DEL", "k"),
            ("BITFIELD", "k", "OVERFLOW", mode, "INCRBY", "u2", "0", "5"),
            ("BITFIELD", "k", "OVERFLOW", mode, "INCRBY", "u2", "0", "-5"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "u2", "0", "7"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "u2", "0", "-1"),
            ("BITFIELD", "k", "OVERFLOW", mode, "INCRBY", "i8", "8", "100", "INCRBY", "i8", "8", "100"),
            ("BITFIELD", "k", "OVERFLOW", mode, "INCRBY", "i8", "8", "-300"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "i8", "8", "128"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "i8", "8", "-129"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "i4", "20", "-8", "INCRBY", "i4", "20", "-1"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "i64", "64", "9223372036854775807",
             "INCRBY", "i64", "64", "1", "INCRBY", "i64", "64", "-9223372036854775808"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "i64", "64", "-9223372036854775808",
             "INCRBY", "i64", "64", "-1"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "u63", "128", "9223372036854775807",
             "INCRBY", "u63", "128", "1", "INCRBY", "u63", "128", "-9223372036854775808"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "u63", "128", "-1"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "u1", "200", "2", "INCRBY", "u1", "200", "3"),
            ("BITFIELD", "k", "OVERFLOW", mode, "SET", "i1", "201", "1", "INCRBY", "i1", "201", "-2"),
            ("GET", "k"),
        ]
    cmds += [
        ("DEL", "k"),
        ("BITFIELD", "k", "INCRBY", "u8", "0", "200", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "200",
         "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "1"),
        ("BITFIELD", "k", "overflow", "sat", "overflow", "fail", "INCRBY", "u8", "0", "1"),
        ("BITFIELD", "k", "OVERFLOW", "SAT"), ("GET", "k")]
    run(diff, *cmds)


def test_bitfield_errors(diff):
    run(diff,
        ("SET", "k", "abc"),
        ("BITFIELD", "k", "GET", "u64", "0"), ("BITFIELD", "k", "GET", "i65", "0"),
        ("BITFIELD", "k", "GET", "u0", "0"), ("BITFIELD", "k", "GET", "x8", "0"),
        ("BITFIELD", "k", "GET", "u", "0"), ("BITFIELD", "k", "GET", "", "0"),
        ("BITFIELD", "k", "GET", "u8x", "0"), ("BITFIELD", "k", "GET", "i-1", "0"),
        ("BITFIELD", "k", "GET", "u8", "-1"), ("BITFIELD", "k", "GET", "u8", "x"),
        ("BITFIELD", "k", "GET", "u8", "#-1"), ("BITFIELD", "k", "GET", "u8", "##1"),
        ("BITFIELD", "k", "GET", "u8", "4294967296"), ("BITFIELD", "k", "GET", "u8", "4294967295"),
        ("BITFIELD", "k", "GET", "u8", "#536870912"), ("BITFIELD", "k", "GET", "u8", "#536870911"),
        ("BITFIELD", "k", "GET", "u8", "#"),
        ("BITFIELD", "k", "SET", "u8", "0", "x"), ("BITFIELD", "k", "INCRBY", "u8", "0", "1.5"),
        ("BITFIELD", "k", "SET", "u8", "0"), ("BITFIELD", "k", "INCRBY", "u8"),
        ("BITFIELD", "k", "GET", "u8"), ("BITFIELD", "k", "GET"),
        ("BITFIELD", "k", "OVERFLOW"), ("BITFIELD", "k", "OVERFLOW", "BOGUS"),
        ("BITFIELD", "k", "OVERFLOW", "BOGUS", "GET", "x", "y"),
        ("BITFIELD", "k", "BOGUS"), ("BITFIELD", "k", "GET", "u8", "0", "BOGUS"),
        ("BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u99", "0"), ("GET", "k"),
        ("BITFIELD_RO", "k", "SET", "u8", "0", "1"), ("BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"),
        ("BITFIELD_RO", "k", "OVERFLOW", "FAIL"), ("BITFIELD_RO", "k", "OVERFLOW", "FAIL", "GET", "u8", "0"),
        ("BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "x"),
        ("BITFIELD_RO", "k", "SET", "u8", "0", "1", "GET", "x", "0"),
        ("BITFIELD",), ("BITFIELD_RO",), ("GET", "k"))


# --------------------------------------------------------------------------
# LCS

def test_lcs(diff):
    run(diff,
        ("MSET", "a", "ohmytext", "b", "mynewtext"),
        ("LCS", "a", "b"), ("LCS", "b", "a"), ("LCS", "a", "b", "LEN"),
        ("LCS", "a", "b", "IDX"), ("LCS", "a", "b", "IDX", "WITHMATCHLEN"),
        ("LCS", "a", "b", "IDX", "MINMATCHLEN", "4"),
        ("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"),
        ("LCS", "a", "b", "IDX", "MINMATCHLEN", "-5", "WITHMATCHLEN"),
        ("LCS", "a", "b", "minmatchlen", "2", "idx", "withmatchlen"),
        ("LCS", "a", "b", "WITHMATCHLEN"), ("LCS", "a", "b", "MINMATCHLEN", "2"),
        ("LCS", "a", "b", "LEN", "WITHMATCHLEN"),
        ("LCS", "a", "a"), ("LCS", "a", "a", "IDX", "WITHMATCHLEN"),
        ("LCS", "a", "missing"), ("LCS", "missing", "a", "IDX"), ("LCS", "m1", "m2", "LEN"),
        ("LCS", "m1", "m2", "IDX", "WITHMATCHLEN"),
        ("SET", "x", "12345"), ("SET", "y", "2x4y5"), ("LCS", "x", "y", "IDX", "WITHMATCHLEN"),
        ("SET", "p", BIN * 3), ("SET", "q", b"\x00\r\n" + BIN), ("LCS", "p", "q"),
        ("LCS", "p", "q", "IDX"),
        ("LCS", "a", "b", "LEN", "IDX"), ("LCS", "a", "b", "IDX", "LEN"),
        ("LCS", "a", "b", "BOGUS"), ("LCS", "a", "b", "MINMATCHLEN"),
        ("LCS", "a", "b", "MINMATCHLEN", "x"), ("LCS", "a", "b", "MINMATCHLEN", "x", "LEN", "IDX"),
        ("LCS", "a", "b", "IDX", "MINMATCHLEN", "1.5"),
        ("LCS", "a"), ("LCS",))


def test_lcs_random(diff):
    import random
    rnd = random.Random(7)
    cmds = []
    for i in range(30):
        a = "".join(rnd.choice("abc") for _ in range(rnd.randint(0, 40)))
        b = "".join(rnd.choice("abc") for _ in range(rnd.randint(0, 40)))
        cmds += [("SET", "ra%d" % i, a), ("SET", "rb%d" % i, b),
                 ("LCS", "ra%d" % i, "rb%d" % i),
                 ("LCS", "ra%d" % i, "rb%d" % i, "IDX", "WITHMATCHLEN"),
                 ("LCS", "ra%d" % i, "rb%d" % i, "IDX", "MINMATCHLEN", "2")]
    run(diff, *cmds)


# --------------------------------------------------------------------------
# RESP3 forms and arity

def test_resp3_forms(diff):
    diff.hello3()
    run(diff,
        ("GET", "missing"), ("SET", "k", "v", "NX"), ("SET", "k", "w", "NX"),
        ("SET", "n", "v", "XX"), ("SET", "k", "x", "GET"), ("GETDEL", "missing"),
        ("GETEX", "missing"), ("GETSET", "missing", "1"), ("MGET", "k", "missing", "n"),
        ("MSET", "a", "ohmytext", "b", "mynewtext"), ("LCS", "a", "b", "IDX", "WITHMATCHLEN"),
        ("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9", "GET", "u2", "0"),
        ("INCRBYFLOAT", "f", "1.5"))


@pytest.mark.parametrize("cmd", [
    ("GET",), ("GET", "a", "b"), ("SET", "a"), ("SET",), ("SETNX", "a"), ("SETEX", "a", "1"),
    ("PSETEX", "a", "1"), ("GETEX",), ("GETDEL",), ("GETSET", "a"), ("MGET",), ("MSET",),
    ("MSETNX",), ("APPEND", "a"), ("STRLEN",), ("GETRANGE", "a", "1"), ("SUBSTR", "a", "1"),
    ("SETRANGE", "a", "1"), ("INCR",), ("DECR",), ("INCRBY", "a"), ("DECRBY", "a"),
    ("INCRBYFLOAT", "a"), ("LCS", "a"), ("SETBIT", "a", "1"), ("GETBIT", "a"), ("BITCOUNT",),
    ("BITPOS", "a"), ("BITOP", "AND", "d"), ("BITFIELD",), ("BITFIELD_RO",),
])
def test_wrong_arity(diff, cmd):
    diff.check(*cmd)


def test_expired_keys_read_as_missing(diff):
    run(diff, ("SET", "k", "v", "PX", "30"), ("SET", "c", "5", "PX", "30"),
        ("SETBIT", "b", "3", "1"), ("PEXPIRE", "b", "30"))
    time.sleep(0.1)
    run(diff, ("GET", "k"), ("INCR", "c"), ("APPEND", "k", "x"), ("GET", "k"), ("TTL", "k"),
        ("GETBIT", "b", "3"), ("BITCOUNT", "b"), ("SETNX", "b", "1"), ("MGET", "k", "c", "b"))


def test_proto_max_bulk_len_limits(diff):
    """The 512 MB string limit follows proto-max-bulk-len; lower it to 1 MB
    (its minimum) on both servers to reach it cheaply."""
    diff.check("CONFIG", "SET", "proto-max-bulk-len", "1mb")
    try:
        run(diff,
            ("SETRANGE", "k", "1048575", ""), ("SETRANGE", "k", "1048576", "x"),
            ("SETRANGE", "k", "1048575", "xy"), ("EXISTS", "k"),
            ("SETRANGE", "k", "1048574", "x"), ("STRLEN", "k"),
            ("APPEND", "k", "ab"), ("APPEND", "k", "a"), ("STRLEN", "k"),
            ("SETBIT", "b", "8388608", "1"), ("SETBIT", "b", "8388607", "1"), ("STRLEN", "b"),
            ("GETBIT", "b", "8388608"),
            ("BITFIELD", "f", "SET", "u8", "8388608", "1"),
            ("BITFIELD", "f", "SET", "u8", "#1048576", "1"),
            ("BITFIELD", "f", "GET", "u8", "8388600"), ("EXISTS", "f"))
    finally:
        diff.both("CONFIG", "SET", "proto-max-bulk-len", "512mb")


def _dirty(client):
    return client.info("persistence")["rdb_changes_since_last_save"]


def test_setbit_bitfield_dirty_only_on_change(diff):
    # rdb_changes_since_last_save grows like Redis's: creating or growing a
    # key counts, rewriting the same bits does not, OVERFLOW FAIL writes nothing.
    seq = [
        ("SETBIT", "b1", "0", "0"), ("BITFIELD", "b2", "SET", "i5", "0", "0"),
        ("SETBIT", "b1", "0", "0"), ("BITFIELD", "b2", "SET", "i5", "0", "0"),
        ("BITFIELD", "b2", "SET", "i5", "0", "1"), ("BITFIELD", "b2", "SET", "i5", "0", "1"),
        ("BITFIELD", "b2", "INCRBY", "u2", "0", "0"),
        ("BITFIELD", "b2", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100"),
        ("BITFIELD", "b3", "SET", "u8", "0", "0", "SET", "u8", "8", "0"),
    ]
    deltas = []
    for client in (diff.percore, diff.redis):
        before = _dirty(client)
        steps = []
        for cmd in seq:
            client.execute_command(*cmd)
            steps.append(_dirty(client) - before)
        deltas.append(steps)
    assert deltas[0] == deltas[1]


def test_found_by_random_streams(diff):
    # Cases the random command streams found: LCS refuses a table larger
    # than proto-max-bulk-len; BITCOUNT answers an empty negative range
    # before parsing its unit; BITFIELD SAT follows Redis's 64-bit room test;
    # EXPIRETIME/TTL round a deadline next to LLONG_MAX without overflowing.
    try:
        diff.check("CONFIG", "SET", "proto-max-bulk-len", "1mb")
        diff.check("SET", "lcs", "a" * 600)
        diff.check("LCS", "lcs", "lcs", "LEN")
        diff.check("SET", "lcs2", "a" * 400)
        diff.check("LCS", "lcs2", "lcs2", "LEN")
    finally:
        diff.both("CONFIG", "SET", "proto-max-bulk-len", "512mb")
    diff.check_many([
        ("SET", "bc", "abc"), ("BITCOUNT", "bc", "-1", "-2", "foo"),
        ("BITCOUNT", "bc", "1", "2", "foo"), ("BITCOUNT", "bc", "-2", "-1", "BIT"),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775808",
         "GET", "i8", "0"),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i8", "0", "-9223372036854775700",
         "GET", "i8", "0"),
        ("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-9223372036854775808",
         "GET", "i64", "0"),
        ("SET", "ttl", "v"), ("PEXPIREAT", "ttl", "9223372036854775807"),
        ("EXPIRETIME", "ttl"), ("PEXPIRETIME", "ttl"),
        ("PEXPIREAT", "ttl", "9223372036854775499"), ("EXPIRETIME", "ttl"),
    ])
