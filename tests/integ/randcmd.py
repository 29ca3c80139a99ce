"""randcmd.py -- seeded generator of random Redis command streams.

Used by test_random_stream.py to drive percore and the reference
redis-server with the same stream. A stream works on a small keyspace
(KEYS: eight names, plus LEXKEY for lexicographic ranges) with small pools
of members, fields, values and numbers, so that commands hit existing values
often; it mixes in binary bytes (\0, \xff), values at and past the listpack
value limit, huge, odd and invalid numbers, syntax errors, wrong arity and
wrong types (a family mostly picks keys holding its type or absent ones,
going by the types the driver observes after each batch, but sometimes any
key), rare bulk writes that cross the default encoding thresholds, and rare
CONFIG SET of those thresholds.

Each generated command is a Cmd: its arguments, the keys it names (for the
per-key history shown on a mismatch) and a comparison tag saying how its
replies must be compared (see Cmd). Every command of ALL_COMMANDS is
generated (the test requires percore to know all of them). Forms
whose reply Redis leaves random (SPOP/SRANDMEMBER/HRANDFIELD/ZRANDMEMBER
without a count covering the whole value, RANDOMKEY), and OBJECT FREQ/
IDLETIME, MEMORY USAGE and DEBUG are never generated.

Nothing here talks to a server. Single-threaded; a Gen belongs to one test.
"""

import random
import time

KEYS = [b"k%d" % i for i in range(8)]
# The one key for lexicographic sorted-set ranges: Redis leaves their result
# unspecified unless all scores are equal, so only ZADD with score 0 writes
# here (and removals); every lex-range command reads or trims it. Other
# families never name it.
LEXKEY = b"kz"
DUMP_KEYS = KEYS + [LEXKEY]

# Types each family works on; a family picks keys of these types (or absent
# keys) most of the time, going by the types the driver last observed.
ACCEPT = {
    "string": {b"string"},
    "hll": {b"string"},
    "list": {b"list"},
    "hash": {b"hash"},
    "set": {b"set"},
    "zset": {b"zset"},
    "geo": {b"zset"},
    "sort": {b"list", b"set", b"zset"},
}
# Commands that create their first key with the given type when it is absent
# (a rough in-batch model; the observed types correct it after each batch).
CREATES = {}
for _t, _names in [(b"string", "set setnx setex psetex getset append incr decr incrby decrby "
                                "incrbyfloat setrange setbit mset msetnx bitop pfadd pfmerge"),
                   (b"list", "lpush rpush"),
                   (b"hash", "hset hsetnx hmset hincrby hincrbyfloat"),
                   (b"set", "sadd sunionstore sinterstore sdiffstore"),
                   (b"zset", "zadd zincrby zunionstore zinterstore zdiffstore zrangestore geoadd "
                             "geosearchstore")]:
    for _n in _names.split():
        CREATES[_n] = _t

# Encoding thresholds a stream may change with CONFIG SET, and values.
CONFIG_KNOBS = [
    (b"hash-max-listpack-entries", [b"0", b"1", b"4", b"8", b"128", b"512"]),
    (b"hash-max-listpack-value", [b"0", b"4", b"16", b"64"]),
    (b"set-max-intset-entries", [b"0", b"1", b"4", b"8", b"512"]),
    (b"zset-max-listpack-entries", [b"0", b"1", b"4", b"8", b"128"]),
    (b"zset-max-listpack-value", [b"0", b"4", b"16", b"64"]),
    (b"list-max-listpack-size", [b"-5", b"-1", b"-2", b"1", b"2", b"4", b"128"]),
    (b"hll-sparse-max-bytes", [b"0", b"100", b"300", b"3000"]),
]
CONFIG_NAMES = [n.decode() for n, _ in CONFIG_KNOBS]

# HyperLogLogs live on these keys (indices into KEYS); plain string commands
# mostly keep off them.
HLL_KEYS = (6, 7)

BIN = [b"", b"\x00", b"a\x00b", b"\xff\xfe", b"\xff", b"a\r\nb"]
LONG = [b"L" * 70, b"x" * 65 + b"\x00\xff", b"v" * 64, b"w" * 65, b"e" * 44, b"r" * 45]
# No number here overflows or underflows a double (1e309, 4.9e-324): Redis
# 7.0's SORT tests a stale errno, so after such a strtod() earlier in the same
# pipelined read a later, valid numeric SORT fails with "One or more scores
# can't be converted into double" -- a Redis quirk, not behaviour to copy.
ODDNUM = [b"+1", b"007", b"-0", b"00", b"10000", b"12345678901234567890123", b"1 ", b".5", b"5.",
          b"-.5", b"0x1p3", b"2.2250738585072014e-308", b"1.7976931348623157e308", b"-0.0",
          b"3.0", b"1e+2", b"0.30000000000000004"]
WORDS = [b"a", b"b", b"c", b"foo", b"bar", b"hello world"]
INTS = [b"%d" % i for i in range(16)] + [b"-1", b"-7", b"100", b"65536", b"4294967296"]
HUGE = [b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808",
        b"99999999999999999999", b"-99999999999999999999"]
BADNUM = [b"abc", b"", b"1.5", b" 1", b"0x10", b"1e3"]
FLOATS = [b"0", b"1.5", b"-2.25", b"3", b"1e3", b"-1e-3", b"0.1", b"1e300", b"-1e300",
          b"inf", b"-inf", b"+inf", b"5.0000000000000001", b"17", b"-0"]
BADFLOAT = [b"nan", b"abc", b"", b"1.5x", b"--1"]


class Cmd:
    """One command of a stream.

    args: tuple of bytes; keys: the KEYS entries it names; tag: how replies
    compare:
      None              byte identical;
      ("u", g, enc)     order unspecified: if the bytes differ, the parsed
                        replies must be equal as multisets of g-element
                        groups (maps: as sets of pairs); enc=True means
                        the previous command of the stream is OBJECT ENCODING
                        of the same key and an ordered encoding (listpack,
                        intset, quicklist) still demands identical bytes;
      ("ttl", tol)      integers that may differ by tol (relative expiry
                        read at slightly different instants).
    """

    __slots__ = ("args", "keys", "tag", "family")

    def __init__(self, args, keys, tag=None, family=None):
        self.args = tuple(a if isinstance(a, bytes) else str(a).encode() for a in args)
        self.keys = tuple(keys)
        self.tag = tag
        self.family = family

    def __repr__(self):
        s = " ".join(_show(a) for a in self.args)
        return s if len(s) <= 200 else s[:200] + "... (%d args)" % len(self.args)


def _show(a):
    s = repr(a)[2:-1]
    if len(s) > 40:
        s = s[:37] + "..."
    if not s or any(ch in s for ch in " \\\"'"):
        s = '"%s"' % s
    return s


class Gen:
    """Random command stream. next_unit() returns a list of Cmd: one command,
    or a MULTI ... EXEC/DISCARD block (never split across batches)."""

    def __init__(self, seed, t0=None):
        self.r = random.Random(seed)
        self.t0 = int(time.time()) if t0 is None else t0
        self.fams = []
        for name, fn, w in [
            ("string", self.g_string, 14), ("keyspace", self.g_keyspace, 10),
            ("list", self.g_list, 12), ("hash", self.g_hash, 12), ("set", self.g_set, 12),
            ("zset", self.g_zset, 14), ("hll", self.g_hll, 5), ("geo", self.g_geo, 9),
            ("sort", self.g_sort, 5), ("bulk", self.g_bulk, 1), ("config", self.g_config, 0.5),
        ]:
            self.fams.append((name, fn, w))
        self.covered = set()
        self.types = {k: b"none" for k in KEYS}
        self.wide = self.r.random() < 0.4

    # ---- small pickers -------------------------------------------------
    def ch(self, seq):
        return self.r.choice(seq)

    def p(self, prob):
        return self.r.random() < prob

    def observe(self, types):
        """Take the key types (dict key -> TYPE reply) seen after a batch."""
        self.types.update(types)

    def key(self, fam):
        """A key for a command of family fam: 90% of the time one holding an
        accepted type (or an absent one), else any key."""
        if fam != "keyspace" and self.p(0.9):
            acc = ACCEPT[fam]
            hll = [KEYS[i] for i in HLL_KEYS]
            cands = [k for k in KEYS if self.types[k] in acc]
            empty = [k for k in KEYS if self.types[k] == b"none"]
            if fam == "hll":
                cands = [k for k in cands if k in hll]
                empty = [k for k in empty if k in hll] or empty
            elif fam == "string" and self.p(0.9):
                cands = [k for k in cands if k not in hll]
                empty = [k for k in empty if k not in hll]
            if cands and (not empty or self.p(0.75)):
                return self.ch(cands)
            if empty:
                return self.ch(empty)
        return self.ch(KEYS)

    def nkeys(self, fam, lo=1, hi=3):
        return [self.key(fam) for _ in range(self.r.randint(lo, hi))]

    def value(self):
        x = self.r.random()
        if x < 0.35:
            return self.ch(WORDS)
        if x < 0.65:
            return self.ch(INTS)
        if x < 0.8:
            return self.ch(BIN)
        if x < 0.88:
            return self.ch(FLOATS)
        if x < 0.93:
            return self.ch(LONG)
        if x < 0.96:
            return self.ch(ODDNUM)
        return self.ch(HUGE)

    def member(self):
        """Set/zset/list member: ints (intset-friendly) and strings."""
        x = self.r.random()
        if x < 0.5:
            return b"%d" % self.r.randint(0, 11)
        if x < 0.8:
            return self.ch(WORDS + [b"d", b"e"])
        if x < 0.93:
            return self.ch(BIN)
        if x < 0.97:
            return self.ch(LONG)
        return self.ch([b"-5", b"9223372036854775807", b"-9223372036854775808", b"007", b"1.0",
                        b"m" * 64, b"n" * 65, b"+3", b"-0"])

    def field(self):
        x = self.r.random()
        if x < 0.8:
            return b"f%d" % self.r.randint(0, 19)
        if x < 0.95:
            return self.ch(BIN)
        return self.ch(LONG)

    def integer(self, lo=-10, hi=10):
        x = self.r.random()
        if x < 0.9:
            return b"%d" % self.r.randint(lo, hi)
        if x < 0.96:
            return self.ch(HUGE)
        return self.ch(BADNUM)

    def count(self, hi=5):
        x = self.r.random()
        if x < 0.9:
            return b"%d" % self.r.randint(0, hi)
        return self.ch([b"-1", b"-3", b"abc", b"0", b"9223372036854775807", b"-9223372036854775808"])

    def score(self):
        x = self.r.random()
        if x < 0.6:
            return b"%d" % self.r.randint(-5, 10)
        if x < 0.9:
            return self.ch(FLOATS)
        if x < 0.96:
            return self.ch(ODDNUM)
        return self.ch(BADFLOAT)

    def score_range(self):
        x = self.r.random()
        if x < 0.5:
            return b"%d" % self.r.randint(-5, 10)
        if x < 0.7:
            return b"(%d" % self.r.randint(-5, 10)
        if x < 0.95:
            return self.ch([b"-inf", b"+inf", b"inf", b"(1.5", b"2.25", b"(-inf", b"1e3"])
        return self.ch([b"abc", b"((1", b"nan", b""])

    def lex_range(self):
        x = self.r.random()
        if x < 0.3:
            return self.ch([b"-", b"+"])
        if x < 0.95:
            return self.ch([b"[", b"("]) + self.member()
        return self.ch([b"a", b"", b"{a"])

    def ttl(self):
        """Relative TTL in seconds: long, from a set of far-apart values."""
        return self.ch([b"100003", b"200007", b"300011", b"400013"])

    def abs_ttl(self):
        """Absolute expiry (seconds), far from every relative one."""
        return b"%d" % (self.t0 + self.ch([150000, 250000, 350000, 450000]))

    def expiry_opt(self):
        """Options of SET/GETEX setting an expiry."""
        x = self.r.random()
        if x < 0.3:
            return [b"EX", self.ttl()]
        if x < 0.5:
            return [b"PX", self.ttl() + b"000"]
        if x < 0.7:
            return [b"EXAT", self.abs_ttl()]
        if x < 0.85:
            return [b"PXAT", self.abs_ttl() + b"000"]
        return [b"EX", self.ch([b"0", b"-1", b"abc", b"9223372036854775807"])]

    def mk(self, fam, args, keys, tag=None):
        self.covered.add(fam)
        return Cmd(args, keys, tag, fam)

    # ---- families ---------------------------------------------------------
    def g_string(self):
        k = self.key("string")
        ks = "string"
        c = self.ch(["set", "get", "getset", "getdel", "getex", "setnx", "setex", "psetex",
                     "mset", "msetnx", "mget", "append", "strlen", "incr", "decr", "incrby",
                     "decrby", "incrbyfloat", "setrange", "getrange", "substr", "setbit",
                     "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro", "lcs",
                     "set", "get", "incr", "append"])
        R = self.r
        if c == "set":
            a = [b"SET", k, self.value()]
            if self.p(0.3):
                a.append(self.ch([b"NX", b"XX"]))
            if self.p(0.2):
                a.append(b"GET")
            if self.p(0.3):
                a += self.expiry_opt()
            elif self.p(0.1):
                a.append(b"KEEPTTL")
            if self.p(0.03):
                a.append(self.ch([b"EX", b"PX", b"BOGUS"]))
            return c, a, [k]
        if c in ("get", "getdel", "strlen", "incr", "decr"):
            return c, [c.upper(), k], [k]
        if c == "getset":
            return c, [b"GETSET", k, self.value()], [k]
        if c == "getex":
            a = [b"GETEX", k]
            if self.p(0.6):
                a += self.expiry_opt() if self.p(0.8) else [b"PERSIST"]
            return c, a, [k]
        if c == "setnx":
            return c, [b"SETNX", k, self.value()], [k]
        if c == "setex":
            return c, [b"SETEX", k, self.ttl() if self.p(0.9) else self.integer(), self.value()], [k]
        if c == "psetex":
            return c, [b"PSETEX", k, self.ttl() + b"000", self.value()], [k]
        if c in ("mset", "msetnx"):
            a, ks_ = [c.upper()], []
            for _ in range(R.randint(1, 3)):
                kk = self.key(ks)
                ks_.append(kk)
                a += [kk, self.value()]
            return c, a, ks_
        if c == "mget":
            kk = self.nkeys(ks, 1, 4)
            return c, [b"MGET"] + kk, kk
        if c == "append":
            return c, [b"APPEND", k, self.value()], [k]
        if c in ("incrby", "decrby"):
            return c, [c.upper(), k, self.integer(-1000, 1000)], [k]
        if c == "incrbyfloat":
            v = self.ch(FLOATS + BADFLOAT[:2]) if self.p(0.9) else self.ch(HUGE)
            return c, [b"INCRBYFLOAT", k, v], [k]
        if c == "setrange":
            off = b"%d" % R.randint(0, 20) if self.p(0.95) else self.ch([b"-1", b"536870912", b"x"])
            return c, [b"SETRANGE", k, off, self.value()], [k]
        if c in ("getrange", "substr"):
            return c, [c.upper(), k, self.integer(-8, 8), self.integer(-8, 8)], [k]
        if c == "setbit":
            off = b"%d" % R.randint(0, 80) if self.p(0.95) else self.ch([b"-1", b"4294967296", b"x"])
            return c, [b"SETBIT", k, off, self.ch([b"0", b"1", b"1", b"2"])], [k]
        if c == "getbit":
            return c, [b"GETBIT", k, b"%d" % R.randint(0, 90)], [k]
        if c == "bitcount":
            a = [b"BITCOUNT", k]
            if self.p(0.6):
                a += [self.integer(-5, 5), self.integer(-5, 5)]
                if self.p(0.4):
                    a.append(self.ch([b"BYTE", b"BIT"]))
            return c, a, [k]
        if c == "bitpos":
            a = [b"BITPOS", k, self.ch([b"0", b"1"])]
            if self.p(0.6):
                a.append(self.integer(-5, 5))
                if self.p(0.6):
                    a.append(self.integer(-5, 5))
                    if self.p(0.4):
                        a.append(self.ch([b"BYTE", b"BIT"]))
            return c, a, [k]
        if c == "bitop":
            op = self.ch([b"AND", b"OR", b"XOR", b"NOT"])
            src = self.nkeys(ks, 1, 1 if op == b"NOT" else 3)
            return c, [b"BITOP", op, k] + src, [k] + src
        if c in ("bitfield", "bitfield_ro"):
            a = [c.upper(), k]
            for _ in range(R.randint(1, 3)):
                t = self.ch([b"u8", b"i8", b"u4", b"i16", b"u1", b"i64", b"u63", b"u64"])
                off = self.ch([b"0", b"3", b"#1", b"9"])
                op = b"GET" if c == "bitfield_ro" else self.ch([b"GET", b"SET", b"INCRBY", b"OVERFLOW"])
                if op == b"GET":
                    a += [b"GET", t, off]
                elif op == b"OVERFLOW":
                    a += [b"OVERFLOW", self.ch([b"WRAP", b"SAT", b"FAIL"])]
                else:
                    v = self.integer(-300, 300)
                    a += [op, t, off, v]
            return c, a, [k]
        if c == "lcs":
            k2 = self.key(ks)
            a = [b"LCS", k, k2]
            if self.p(0.3):
                a.append(b"LEN")
            elif self.p(0.4):
                a.append(b"IDX")
                if self.p(0.5):
                    a += [b"MINMATCHLEN", self.ch([b"0", b"1", b"2"])]
                if self.p(0.5):
                    a.append(b"WITHMATCHLEN")
            return c, a, [k, k2]
        raise AssertionError(c)

    def g_keyspace(self):
        k = self.key("keyspace")
        c = self.ch(["del", "unlink", "exists", "type", "touch", "expire", "pexpire", "expireat",
                     "pexpireat", "persist", "ttl", "pttl", "expiretime", "pexpiretime", "rename",
                     "renamenx", "copy", "dbsize", "keys", "object", "type", "exists", "del"])
        if c in ("del", "unlink", "exists", "touch"):
            kk = self.nkeys("keyspace", 1, 3)
            return c, [c.upper()] + kk, kk
        if c in ("type", "persist"):
            return c, [c.upper(), k], [k]
        if c in ("expire", "pexpire"):
            t = self.ttl()
            if self.p(0.05):
                t = self.ch([b"-1", b"0", b"abc", b"9223372036854775807"])
            elif c == "pexpire":
                t += b"000"
            a = [c.upper(), k, t]
            if self.p(0.3):
                a.append(self.ch([b"NX", b"XX"]))
            return c, a, [k]
        if c in ("expireat", "pexpireat"):
            t = self.abs_ttl()
            if self.p(0.05):
                # Deadlines at the very top of the range (TTL/EXPIRETIME
                # rounding once overflowed there).
                t = self.ch([b"1", b"abc", b"9223372036854775807"])
            elif c == "pexpireat":
                t += b"000"
            a = [c.upper(), k, t]
            if self.p(0.4):
                a.append(self.ch([b"NX", b"XX", b"GT", b"LT"]))
                if self.p(0.1):
                    a.append(self.ch([b"NX", b"XX", b"GT", b"LT"]))
            return c, a, [k]
        if c == "ttl":
            return c, [b"TTL", k], [k], ("ttl", 1)
        if c == "expiretime":
            return c, [b"EXPIRETIME", k], [k], ("ttl", 1)
        if c in ("pttl", "pexpiretime"):
            return c, [c.upper(), k], [k], ("ttl", 2000)
        if c in ("rename", "renamenx"):
            k2 = self.key("keyspace")
            return c, [c.upper(), k, k2], [k, k2]
        if c == "copy":
            k2 = self.key("keyspace")
            a = [b"COPY", k, k2]
            if self.p(0.4):
                a.append(b"REPLACE")
            return c, a, [k, k2]
        if c == "dbsize":
            return c, [b"DBSIZE"], []
        if c == "keys":
            pat = self.ch([b"*", b"k*", b"k[0-3]", b"k?", b"*7", b"nomatch", b"k[^1]"])
            return c, [b"KEYS", pat], [], ("u", 1, False)
        if c == "object":
            return "object|encoding", [b"OBJECT", b"ENCODING", k], [k]
        raise AssertionError(c)

    def g_list(self):
        k = self.key("list")
        R = self.r
        c = self.ch(["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange",
                     "lindex", "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush",
                     "lmpop", "lpush", "rpush", "lrange"])
        if c in ("lpush", "rpush", "lpushx", "rpushx"):
            return c, [c.upper(), k] + [self.member() for _ in range(R.randint(1, 4))], [k]
        if c in ("lpop", "rpop"):
            a = [c.upper(), k]
            if self.p(0.4):
                a.append(self.count())
            return c, a, [k]
        if c == "llen":
            return c, [b"LLEN", k], [k]
        if c in ("lrange", "ltrim"):
            return c, [c.upper(), k, self.integer(-6, 6), self.integer(-6, 6)], [k]
        if c == "lindex":
            return c, [b"LINDEX", k, self.integer(-6, 6)], [k]
        if c == "lset":
            return c, [b"LSET", k, self.integer(-4, 4), self.member()], [k]
        if c == "linsert":
            return c, [b"LINSERT", k, self.ch([b"BEFORE", b"AFTER", b"before", b"MIDDLE"]),
                       self.member(), self.member()], [k]
        if c == "lrem":
            return c, [b"LREM", k, self.integer(-3, 3), self.member()], [k]
        if c == "lpos":
            a = [b"LPOS", k, self.member()]
            for opt in (b"RANK", b"COUNT", b"MAXLEN"):
                if self.p(0.3):
                    v = self.integer(-3, 3) if opt == b"RANK" else self.count(4)
                    a += [opt, v]
            return c, a, [k]
        if c == "lmove":
            k2 = self.key("list")
            return c, [b"LMOVE", k, k2, self.ch([b"LEFT", b"RIGHT"]),
                       self.ch([b"LEFT", b"RIGHT", b"left", b"UP"] if self.p(0.1) else [b"LEFT", b"RIGHT"])], [k, k2]
        if c == "rpoplpush":
            k2 = self.key("list")
            return c, [b"RPOPLPUSH", k, k2], [k, k2]
        if c == "lmpop":
            kk = self.nkeys("list", 1, 3)
            n = b"%d" % len(kk) if self.p(0.95) else self.ch([b"0", b"5", b"-1", b"x"])
            a = [b"LMPOP", n] + kk + [self.ch([b"LEFT", b"RIGHT"])]
            if self.p(0.4):
                a += [b"COUNT", self.count()]
            return c, a, kk
        raise AssertionError(c)

    def g_hash(self):
        k = self.key("hash")
        R = self.r
        c = self.ch(["hset", "hsetnx", "hmset", "hget", "hmget", "hdel", "hlen", "hstrlen",
                     "hexists", "hincrby", "hincrbyfloat", "hkeys", "hvals", "hgetall",
                     "hrandfield", "hset", "hset", "hget"])
        if c in ("hset", "hmset"):
            a = [c.upper(), k]
            for _ in range(R.randint(1, 4)):
                a += [self.field(), self.value()]
            return c, a, [k]
        if c == "hsetnx":
            return c, [b"HSETNX", k, self.field(), self.value()], [k]
        if c in ("hget", "hstrlen", "hexists"):
            return c, [c.upper(), k, self.field()], [k]
        if c in ("hmget", "hdel"):
            return c, [c.upper(), k] + [self.field() for _ in range(R.randint(1, 3))], [k]
        if c == "hlen":
            return c, [b"HLEN", k], [k]
        if c == "hincrby":
            return c, [b"HINCRBY", k, self.field(), self.integer(-100, 100)], [k]
        if c == "hincrbyfloat":
            return c, [b"HINCRBYFLOAT", k, self.field(),
                       self.ch(FLOATS + BADFLOAT[:2]) if self.p(0.95) else self.ch(HUGE)], [k]
        if c in ("hkeys", "hvals"):
            return c, [c.upper(), k], [k], ("u", 1, True)
        if c == "hgetall":
            return c, [b"HGETALL", k], [k], ("u", 2, True)
        if c == "hrandfield":
            return self.randpick(c, k, b"WITHVALUES")
        raise AssertionError(c)

    def randpick(self, c, k, withword):
        """HRANDFIELD / ZRANDMEMBER (c) on key k, only in forms whose result
        is deterministic: count 0, or a count at least the collection's size
        (all of it, in unspecified order, compared as an unordered reply with
        1 or 2 elements per item); plus the huge-count and non-integer errors
        (a huge negative count is refused only with withword)."""
        name = c.upper().encode()
        x = self.r.random()
        if x < 0.15:
            return c, [name, k, b"0"], [k]
        if x < 0.2:
            tail = self.ch([[b"9223372036854775807"], [b"-9223372036854775807", withword],
                            [b"9223372036854775807", withword], [b"x"]])
            return c, [name, k] + tail, [k], ("u", 1, False)
        a = [name, k, b"1000"]
        if self.p(0.5):
            a.append(withword)
            return c, a, [k], ("u", 2, False)
        return c, a, [k], ("u", 1, False)

    def g_set(self):
        k = self.key("set")
        R = self.r
        c = self.ch(["sadd", "srem", "scard", "sismember", "smismember", "smembers", "smove",
                     "sunion", "sinter", "sdiff", "sunionstore", "sinterstore", "sdiffstore",
                     "sintercard", "spop", "srandmember", "sadd", "sadd", "srem"])
        if c in ("sadd", "srem"):
            return c, [c.upper(), k] + [self.member() for _ in range(R.randint(1, 5))], [k]
        if c == "scard":
            return c, [b"SCARD", k], [k]
        if c == "sismember":
            return c, [b"SISMEMBER", k, self.member()], [k]
        if c == "smismember":
            return c, [b"SMISMEMBER", k] + [self.member() for _ in range(R.randint(1, 4))], [k]
        if c == "smembers":
            return c, [b"SMEMBERS", k], [k], ("u", 1, True)
        if c == "smove":
            k2 = self.key("set")
            return c, [b"SMOVE", k, k2, self.member()], [k, k2]
        if c in ("sunion", "sinter", "sdiff"):
            kk = self.nkeys("set", 1, 3)
            return c, [c.upper()] + kk, kk, ("u", 1, False)
        if c in ("sunionstore", "sinterstore", "sdiffstore"):
            kk = self.nkeys("set", 1, 3)
            return c, [c.upper(), k] + kk, [k] + kk
        if c == "sintercard":
            kk = self.nkeys("set", 1, 3)
            n = b"%d" % len(kk) if self.p(0.95) else self.ch([b"0", b"5", b"-1"])
            a = [b"SINTERCARD", n] + kk
            if self.p(0.4):
                a += [b"LIMIT", self.count()]
            return c, a, kk
        if c in ("spop", "srandmember"):
            x = R.random()
            if x < 0.15:
                return c, [c.upper(), k, b"0"], [k]
            if x < 0.2:
                return c, [c.upper(), k, self.ch([b"-0", b"x", b"9223372036854775807"] if c == "srandmember"
                                                 else [b"-1", b"x", b"9223372036854775807"])], [k], ("u", 1, False)
            return c, [c.upper(), k, b"1000"], [k], ("u", 1, False)
        raise AssertionError(c)

    def g_zset(self):
        k = self.key("zset")
        R = self.r
        c = self.ch(["zadd", "zincrby", "zrem", "zcard", "zscore", "zmscore", "zrank", "zrevrank",
                     "zcount", "zlexcount", "zrange", "zrangebyscore", "zrevrangebyscore",
                     "zrangebylex", "zrevrangebylex", "zrevrange", "zrangestore",
                     "zremrangebyrank", "zremrangebyscore", "zremrangebylex", "zpopmin", "zpopmax",
                     "zmpop", "zunion", "zinter", "zdiff", "zunionstore", "zinterstore",
                     "zdiffstore", "zintercard", "zrandmember", "zadd", "zadd", "zrange"])
        lexcmd = c in ("zlexcount", "zremrangebylex", "zrangebylex", "zrevrangebylex")
        if lexcmd or (c in ("zrem", "zcard", "zrange", "zpopmin", "zpopmax", "zremrangebyrank",
                            "zscore", "zrank", "zrevrange") and self.p(0.15)):
            k = LEXKEY
        if c == "zadd" and self.p(0.25):
            a = [b"ZADD", LEXKEY]
            for opt in (b"NX", b"XX", b"CH"):
                if self.p(0.1):
                    a.append(opt)
            for _ in range(R.randint(1, 4)):
                a += [b"0", self.member()]
            return c, a, [LEXKEY]
        if c == "zadd":
            a = [b"ZADD", k]
            incr = False
            for opt in (b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"):
                if self.p(0.1):
                    a.append(opt)
                    incr = incr or opt == b"INCR"
            n = 1 if incr and self.p(0.9) else R.randint(1, 4)
            for _ in range(n):
                a += [self.score(), self.member()]
            if self.p(0.02):
                a.append(self.member())
            return c, a, [k]
        if c == "zincrby":
            return c, [b"ZINCRBY", k, self.score(), self.member()], [k]
        if c == "zrem":
            return c, [b"ZREM", k] + [self.member() for _ in range(R.randint(1, 3))], [k]
        if c == "zcard":
            return c, [b"ZCARD", k], [k]
        if c in ("zscore", "zrank", "zrevrank"):
            return c, [c.upper(), k, self.member()], [k]
        if c == "zmscore":
            return c, [b"ZMSCORE", k] + [self.member() for _ in range(R.randint(1, 3))], [k]
        if c in ("zcount", "zremrangebyscore"):
            return c, [c.upper(), k, self.score_range(), self.score_range()], [k]
        if c in ("zlexcount", "zremrangebylex"):
            return c, [c.upper(), k, self.lex_range(), self.lex_range()], [k]
        if c in ("zrange", "zrangestore"):
            a = [b"ZRANGE", k] if c == "zrange" else [b"ZRANGESTORE", self.key("zset"), k]
            mode = self.ch([None, None, b"BYSCORE", b"BYLEX"])
            if mode == b"BYLEX":
                a[-1] = LEXKEY
            if mode == b"BYSCORE":
                a += [self.score_range(), self.score_range(), mode]
            elif mode == b"BYLEX":
                a += [self.lex_range(), self.lex_range(), mode]
            else:
                a += [self.integer(-6, 6), self.integer(-6, 6)]
            if self.p(0.3):
                a.append(b"REV")
            if self.p(0.3):
                a += [b"LIMIT", self.integer(-1, 4), self.integer(-1, 4)]
            if c == "zrange" and self.p(0.4):
                a.append(b"WITHSCORES")
            return c, a, [x for x in a[1:3] if x in DUMP_KEYS]
        if c in ("zrangebyscore", "zrevrangebyscore", "zrangebylex", "zrevrangebylex"):
            lex = "lex" in c
            a = [c.upper(), k]
            a += [self.lex_range(), self.lex_range()] if lex else [self.score_range(), self.score_range()]
            if not lex and self.p(0.4):
                a.append(b"WITHSCORES")
            if self.p(0.3):
                a += [b"LIMIT", self.integer(-1, 4), self.integer(-1, 4)]
            return c, a, [k]
        if c == "zrevrange":
            a = [b"ZREVRANGE", k, self.integer(-6, 6), self.integer(-6, 6)]
            if self.p(0.4):
                a.append(b"WITHSCORES")
            return c, a, [k]
        if c == "zremrangebyrank":
            return c, [b"ZREMRANGEBYRANK", k, self.integer(-4, 4), self.integer(-4, 4)], [k]
        if c in ("zpopmin", "zpopmax"):
            a = [c.upper(), k]
            if self.p(0.5):
                a.append(self.count())
            return c, a, [k]
        if c == "zmpop":
            kk = self.nkeys("zset", 1, 3)
            n = b"%d" % len(kk) if self.p(0.95) else self.ch([b"0", b"5", b"-1"])
            a = [b"ZMPOP", n] + kk + [self.ch([b"MIN", b"MAX"])]
            if self.p(0.4):
                a += [b"COUNT", self.count()]
            return c, a, kk
        if c in ("zunion", "zinter", "zdiff", "zunionstore", "zinterstore", "zdiffstore", "zintercard"):
            # sets are valid inputs too (score 1)
            kk = [self.key("zset") if self.p(0.85) else self.key("set") for _ in range(R.randint(1, 3))]
            n = b"%d" % len(kk) if self.p(0.95) else self.ch([b"0", b"5", b"-1"])
            store = c.endswith("store")
            a = [c.upper()] + ([k] if store else []) + [n] + kk
            if c == "zintercard":
                if self.p(0.4):
                    a += [b"LIMIT", self.count()]
            elif "diff" not in c:
                if self.p(0.3):
                    a += [b"WEIGHTS"] + [self.ch([b"1", b"2", b"-1", b"0.5", b"inf", b"-inf", b"0"])
                                         for _ in kk]
                if self.p(0.3):
                    a += [b"AGGREGATE", self.ch([b"SUM", b"MIN", b"MAX", b"AVG"])]
            if not store and c != "zintercard" and self.p(0.5):
                a.append(b"WITHSCORES")
            return c, a, ([k] if store else []) + kk
        if c == "zrandmember":
            return self.randpick(c, k, b"WITHSCORES")
        raise AssertionError(c)

    def g_hll(self):
        k = self.key("hll")
        R = self.r
        c = self.ch(["pfadd", "pfadd", "pfcount", "pfmerge"])
        if c == "pfadd":
            a = [b"PFADD", k]
            for _ in range(R.randint(0, 12)):
                a.append(b"e%d" % R.randint(0, 3000) if self.p(0.9) else self.member())
            return c, a, [k]
        if c == "pfcount":
            kk = self.nkeys("hll", 1, 3)
            return c, [b"PFCOUNT"] + kk, kk
        if c == "pfmerge":
            kk = self.nkeys("hll", 0, 3)
            return c, [b"PFMERGE", k] + kk, [k] + kk
        raise AssertionError(c)

    def lonlat(self):
        if self.wide:
            return [b"%.6f" % self.r.uniform(-180, 180), b"%.6f" % self.r.uniform(-85.05, 85.05)]
        if self.p(0.97):
            return [b"%.6f" % self.r.uniform(13.0, 13.6), b"%.6f" % self.r.uniform(38.0, 38.5)]
        return self.ch([[b"200", b"10"], [b"10", b"86"], [b"abc", b"1"], [b"-180", b"-85.05112878"]])

    def geo_member(self):
        return b"p%d" % self.r.randint(0, 5) if self.p(0.9) else self.member()

    def geo_shape_opts(self, a, allow_store, store_kw):
        """Append WITH*/COUNT/ASC/DESC (and maybe STORE) options."""
        store = allow_store and self.p(0.25)
        if not store:
            for opt in (b"WITHCOORD", b"WITHDIST", b"WITHHASH"):
                if self.p(0.3):
                    a.append(opt)
        if self.p(0.4):
            a += [b"COUNT", self.ch([b"1", b"2", b"3", b"0", b"-1"])]
            if self.p(0.3):
                a.append(b"ANY")
        if self.p(0.5):
            a.append(self.ch([b"ASC", b"DESC"]))
        if store:
            dst = self.key("geo")
            a += [self.ch(store_kw), dst]
            return dst
        return None

    def g_geo(self):
        k = self.key("geo")
        R = self.r
        # a stream works either on one small area or on the whole globe
        # (poles, antimeridian, radii of thousands of km)
        c = self.ch(["geoadd", "geoadd", "geoadd", "geopos", "geodist", "geohash", "georadius", "georadius_ro",
                     "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"])
        unit = lambda: self.ch([b"m", b"km", b"km", b"mi", b"ft", b"KM", b"parsec"] if self.p(0.1) else [b"km", b"m"])
        if self.wide:
            radius = lambda: self.ch([b"500", b"2000", b"5000", b"10000", b"20000", b"25000", b"0"])
        else:
            radius = lambda: self.ch([b"1", b"5", b"20", b"50", b"100", b"0", b"-1", b"abc"] if self.p(0.1) else [b"5", b"20", b"50", b"1000", b"30000"])
        if c == "geoadd":
            a = [b"GEOADD", k]
            for opt in (b"NX", b"XX", b"CH"):
                if self.p(0.1):
                    a.append(opt)
            for _ in range(R.randint(1, 3)):
                a += self.lonlat() + [self.geo_member()]
            return c, a, [k]
        if c in ("geopos", "geohash"):
            return c, [c.upper(), k] + [self.geo_member() for _ in range(R.randint(1, 3))], [k]
        if c == "geodist":
            a = [b"GEODIST", k, self.geo_member(), self.geo_member()]
            if self.p(0.6):
                a.append(unit())
            return c, a, [k]
        if c in ("georadius", "georadius_ro"):
            a = [c.upper(), k] + self.lonlat() + [radius(), unit()]
            dst = self.geo_shape_opts(a, c == "georadius", [b"STORE", b"STOREDIST"])
            return c, a, [k] + ([dst] if dst else [])
        if c in ("georadiusbymember", "georadiusbymember_ro"):
            a = [c.upper(), k, self.geo_member(), radius(), unit()]
            dst = self.geo_shape_opts(a, c == "georadiusbymember", [b"STORE", b"STOREDIST"])
            return c, a, [k] + ([dst] if dst else [])
        if c in ("geosearch", "geosearchstore"):
            dst = self.key("geo")
            a = [b"GEOSEARCH", k] if c == "geosearch" else [b"GEOSEARCHSTORE", dst, k]
            if self.p(0.5):
                a += [b"FROMMEMBER", self.geo_member()]
            else:
                a += [b"FROMLONLAT"] + self.lonlat()
            if self.p(0.5):
                a += [b"BYRADIUS", radius(), unit()]
            else:
                a += [b"BYBOX", radius(), radius(), unit()]
            if c == "geosearch":
                self.geo_shape_opts(a, False, None)
                return c, a, [k]
            if self.p(0.4):
                a += [b"COUNT", self.ch([b"1", b"2", b"3"])]
            if self.p(0.5):
                a.append(self.ch([b"ASC", b"DESC"]))
            if self.p(0.4):
                a.append(b"STOREDIST")
            return c, a, [dst, k]
        raise AssertionError(c)

    def g_sort(self):
        k = self.key("sort")
        R = self.r
        c = self.ch(["sort", "sort", "sort_ro"])
        a = [c.upper(), k]
        keys = [k]
        by = None
        if self.p(0.4):
            by = self.ch([b"k*", b"k*->f1", b"k*->f2", b"nosort", b"w_*", b"constant"])
            a += [b"BY", by]
        nosort = by is not None and b"*" not in by
        alpha = self.p(0.4)
        # Redis's ALPHA comparison leaves ties (equal or missing BY weights;
        # elements equal up to a \0 under strcoll) to its unstable quicksort,
        # so their order is unspecified: ALPHA sorts that may tie use neither
        # LIMIT nor STORE (a stored list is compared in order) and compare as
        # multisets. Binary ALPHA with STORE and no BY cannot tie.
        store = c == "sort" and self.p(0.3)
        tie = alpha and (by is not None or not store)
        store = store and not tie
        if self.p(0.3) and not nosort and not tie:
            a += [b"LIMIT", self.integer(-1, 4), self.integer(-1, 4)]
        gets = 0
        for _ in range(R.randint(0, 2) if self.p(0.4) else 0):
            a += [b"GET", self.ch([b"#", b"k*", b"k*->f1", b"k*->", b"#"])]
            gets += 1
        if self.p(0.3):
            a.append(self.ch([b"ASC", b"DESC"]))
        if alpha:
            a.append(b"ALPHA")
        if store:
            dst = self.key("sort")
            a += [b"STORE", dst]
            keys.append(dst)
        if self.p(0.02):
            a.append(self.ch([b"LIMIT", b"BOGUS", b"GET"]))
        tag = None
        if not store and (nosort or tie):
            # nosort on a set: Redis's order is its hash table's.
            tag = ("u", max(gets, 1), False)
        return c, a, keys, tag

    def g_bulk(self):
        """A big write that crosses the default encoding thresholds (512
        set/hash entries, 128 zset entries, 8 KiB list nodes, sparse HLL)."""
        R = self.r
        fam = self.ch(["set", "hash", "zset", "list", "hll"])
        k = self.key(fam)
        n = R.randint(100, 600)
        if fam == "set":
            base = 0 if self.p(0.7) else 1000
            return "sadd", [b"SADD", k] + [b"%d" % (base + R.randint(0, 700)) for _ in range(n)] + \
                ([] if self.p(0.7) else [b"word"]), [k]
        if fam == "hash":
            a = [b"HSET", k]
            for i in range(n):
                a += [b"h%d" % R.randint(0, 700), b"%d" % i]
            return "hset", a, [k]
        if fam == "zset":
            a = [b"ZADD", k]
            for _ in range(n // 3):
                a += [b"%d" % R.randint(-50, 50), b"z%d" % R.randint(0, 300)]
            return "zadd", a, [k]
        if fam == "list":
            return "rpush", [b"RPUSH", k] + [self.value() for _ in range(n)], [k]
        return "pfadd", [b"PFADD", k] + [b"b%d" % R.randint(0, 100000) for _ in range(n)], [k]

    def g_config(self):
        """CONFIG SET of an encoding threshold mid-stream (the driver restores
        them after the test); values take effect on the next write."""
        name, vals = self.ch(CONFIG_KNOBS)
        return "config", [b"CONFIG", b"SET", name, self.ch(vals)], []

    # ---- stream -------------------------------------------------------------
    def one(self):
        """One data command (with a preceding OBJECT ENCODING where its
        comparison depends on the encoding). Returns a list of Cmd."""
        fams = self.fams
        out = []
        while True:
            name, fn, _ = self.r.choices(fams, weights=[w for _, _, w in fams])[0]
            if name not in ("keyspace", "bulk", "config") and self.p(0.9):
                acc = ACCEPT[name]
                if not any(self.types[k] in acc or self.types[k] == b"none" for k in KEYS):
                    # every key holds another type: free one
                    k = self.ch(KEYS)
                    out.append(self.mk("keyspace", [b"DEL", k], [k]))
                    self.types[k] = b"none"
            res = fn()
            cname, args, keys = res[0], res[1], res[2]
            tag = res[3] if len(res) > 3 else None
            if self.p(0.02):
                # wrong arity / truncated or extended argument list
                # (random-reply commands are only extended: cut to their
                # count-less form they would pick a random element; so is
                # SORT: cut, its order could become unspecified)
                no_cut = cname in ("spop", "srandmember", "hrandfield", "zrandmember", "sort", "sort_ro")
                if len(args) > 1 and not no_cut and self.p(0.7):
                    args = args[:self.r.randint(1, len(args) - 1)]
                else:
                    args = list(args) + [self.value()]
                if tag is not None and tag[0] == "u":
                    tag = ("u", 1, False)
            elif tag is not None and tag[0] == "u" and tag[2]:
                out.append(self.mk("keyspace", [b"OBJECT", b"ENCODING", keys[0]], [keys[0]]))
            out.append(self.mk(name, args, keys, tag))
            if cname in CREATES and keys and self.types.get(keys[0]) == b"none":
                self.types[keys[0]] = CREATES[cname]
            elif cname in ("set", "getdel", "del", "unlink") and keys:
                self.types[keys[0]] = b"string" if cname == "set" else b"none"
            return out

    def next_unit(self):
        if self.p(0.03):
            block = [self.mk("multi", [b"MULTI"], [])]
            for _ in range(self.r.randint(1, 5)):
                block += self.one()
                if self.p(0.05):
                    block.append(self.mk("multi", [b"MULTI"], []))     # nested: refused
            block.append(self.mk("multi", [self.ch([b"EXEC", b"EXEC", b"EXEC", b"DISCARD"])], []))
            return block
        if self.p(0.003):
            return [self.mk("multi", [self.ch([b"EXEC", b"DISCARD"])], [])]    # without MULTI
        return self.one()


# Every command name the generator may emit (percore must know them all).
ALL_COMMANDS = sorted(set("""
set get getset getdel getex setnx setex psetex mset msetnx mget append strlen incr decr incrby
decrby incrbyfloat setrange getrange substr setbit getbit bitcount bitpos bitop bitfield
bitfield_ro lcs del unlink exists type touch expire pexpire expireat pexpireat persist ttl pttl
expiretime pexpiretime rename renamenx copy dbsize keys object lpush rpush lpushx rpushx lpop rpop
llen lrange lindex lset linsert lrem ltrim lpos lmove rpoplpush lmpop hset hsetnx hmset hget hmget
hdel hlen hstrlen hexists hincrby hincrbyfloat hkeys hvals hgetall hrandfield sadd srem scard
sismember smismember smembers smove sunion sinter sdiff sunionstore sinterstore sdiffstore
sintercard spop srandmember zadd zincrby zrem zcard zscore zmscore zrank zrevrank zcount zlexcount
zrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zrevrange zrangestore
zremrangebyrank zremrangebyscore zremrangebylex zpopmin zpopmax zmpop zunion zinter zdiff
zunionstore zinterstore zdiffstore zintercard zrandmember pfadd pfcount pfmerge geoadd geopos
geodist geohash georadius georadius_ro georadiusbymember georadiusbymember_ro geosearch
geosearchstore sort sort_ro multi exec discard config
""".split()))
