"""Random command streams answered like redis-server (differential test).

For each seed, randcmd.Gen produces a stream of commands over a small
keyspace (strings, keyspace commands, lists, hashes, sets, sorted sets,
HyperLogLog, geo, SORT, MULTI/EXEC blocks, CONFIG SET of encoding
thresholds; wrong types, wrong arity, bad and huge numbers, binary bytes).
Only commands percore knows (probed with COMMAND INFO at test start) are
generated, so the test follows the data types as they land; the families
covered are printed (pytest -s).

The stream is pipelined to percore and the reference redis-server in
batches. Every reply must be byte identical, except:
  * where Redis's order is unspecified (hash-table iteration: SMEMBERS,
    HGETALL... on hashtable encodings, SUNION/SINTER/SDIFF, KEYS; whole
    collection "random" picks with a count >= size; SORT BY nosort on sets
    and ALPHA sorts that may tie): compared as multisets;
  * TTL/PTTL/EXPIRETIME of relative expiries, which the two servers read at
    slightly different instants: equal within 1 s (2 s for PTTL).
After every batch a state dump is compared too: TYPE, OBJECT ENCODING, TTL
and the content of every key, and every third batch a full SCAN/SSCAN/HSCAN/
ZSCAN iteration (same elements; same bytes for a one-call answer from an
ordered encoding).

A mismatch reports the seed, the command index, the command, both replies
and the last commands that named the key(s) involved, and writes the stream
up to that point to a file. $PERCORE_RANDOM_SEEDS (e.g. "7,20-40") and
$PERCORE_RANDOM_COMMANDS run other/longer streams.

Variants: "small" lowers the listpack/intset/quicklist thresholds and
hll-sparse-max-bytes (both servers; every setting is restored afterwards)
so that the small pools cross encoding conversions; some seeds run in RESP3.
"""

import collections
import os
import random

import pytest
import redis

from randcmd import ALL_COMMANDS, CONFIG_NAMES, DUMP_KEYS, Gen
from respclient import parse, scan

N_COMMANDS = 2500
BATCH = 60
HISTORY = 12

SMALL_CONFIG = [
    ("hash-max-listpack-entries", "8"),
    ("hash-max-listpack-value", "16"),
    ("set-max-intset-entries", "8"),
    ("zset-max-listpack-entries", "8"),
    ("zset-max-listpack-value", "16"),
    ("list-max-listpack-size", "4"),
    ("hll-sparse-max-bytes", "300"),
]

ORDERED_ENCODINGS = {b"listpack", b"intset", b"quicklist", b"ziplist"}


# The commands check_scans sends besides the generated stream.
SCAN_COMMANDS = ["scan", "sscan", "hscan", "zscan"]


def check_commands_known(diff):
    """Both servers' COMMAND INFO must know every command the stream and
    check_scans can send (one missing would silently drop out of the
    comparison)."""
    names = ALL_COMMANDS + SCAN_COMMANDS
    for name, conn in (("percore", diff.pconn), ("reference Redis", diff.rconn)):
        info = parse(conn.call("COMMAND", "INFO", *names))
        missing = [n for n, x in zip(names, info) if x is None]
        assert not missing, "%s lacks generated commands: %s" % (name, " ".join(missing))


def _group(v, g):
    """Canonical form of an unordered reply: sorted groups of g elements."""
    if isinstance(v, dict):
        return sorted((repr(k), repr(x)) for k, x in v.items())
    if not isinstance(v, list):
        return v
    if g == 1 or (v and all(isinstance(x, list) for x in v)):
        return sorted(repr(x) for x in v)
    if len(v) % g:
        return v
    return sorted(repr(v[i:i + g]) for i in range(0, len(v), g))


STATS = collections.Counter()


def replies_match(tag, p, r, prev_enc):
    """True when percore's reply p is acceptable for Redis's reply r."""
    STATS["compared"] += 1
    if p == r:
        return True
    if tag is None:
        return False
    STATS["normalised"] += 1
    try:
        pv, rv = parse(p), parse(r)
    except Exception:
        return False
    if tag[0] == "ttl":
        return (isinstance(pv, int) and isinstance(rv, int) and pv >= 0 and rv >= 0
                and abs(pv - rv) <= tag[1])
    _, g, enc = tag
    if enc and prev_enc in ORDERED_ENCODINGS:
        return False
    if not isinstance(rv, (list, dict)):
        return False
    return _group(pv, g) == _group(rv, g)


def split_array(raw):
    """Elements (raw bytes) of a RESP array reply, or None if not an array."""
    if not raw.startswith(b"*") or raw.startswith(b"*-1"):
        return None
    eol = raw.find(b"\r\n")
    n = int(raw[1:eol])
    out, pos = [], eol + 2
    for _ in range(n):
        end = scan(raw, pos)
        out.append(raw[pos:end])
        pos = end
    return out


def _short(b, n=400):
    s = repr(bytes(b))
    return s if len(s) <= n else s[:n] + "...(%d bytes)" % len(b)


class Runner:
    """Drives one seed: sends batches, compares replies and state dumps."""

    def __init__(self, diff, seed, variant, proto, log_path=None):
        self.diff = diff
        self.log_path = log_path
        self.seed = seed
        self.variant = variant
        self.proto = proto
        check_commands_known(diff)
        self.gen = Gen(seed)
        self.idx = 0
        self.history = collections.defaultdict(list)    # key -> [(idx, Cmd)]
        self.counts = collections.Counter()
        self.batches = 0
        self.flat_log = []      # every command sent, written out on a failure
        self.scan_rng = random.Random(seed)     # apart from the stream's

    def where(self):
        return "seed=%d variant=%s resp%d" % (self.seed, self.variant, self.proto)

    def recent(self, keys, upto):
        lines = []
        for k in dict.fromkeys(keys):
            h = [(i, c) for (i, c) in self.history.get(k, []) if i <= upto][-HISTORY:]
            lines.append("  last commands on %r:" % k)
            lines += ["    #%d %r" % (i, c) for i, c in h] or ["    (none)"]
        return "\n".join(lines)

    def write_log(self, upto):
        """Write the stream up to command #upto (one repr'd argument tuple a
        line) for replaying; returns a line for the failure message."""
        if self.log_path is None:
            return ""
        with open(self.log_path, "w") as f:
            for args in self.flat_log[:upto + 1]:
                f.write("%r\n" % (args,))
        return "\n  stream up to here: %s" % self.log_path

    def fail(self, what, idx, cmd, p, r):
        pytest.fail("%s: %s at command #%d\n  command: %r\n  percore: %s\n  redis:   %s\n%s%s" % (
            self.where(), what, idx, cmd, _short(p), _short(r),
            self.recent(cmd.keys if cmd is not None else DUMP_KEYS, idx), self.write_log(idx)),
            pytrace=False)

    def run_batch(self):
        units = []
        n = 0
        while n < BATCH:
            u = self.gen.next_unit()
            units.append(u)
            n += len(u)
        flat = []
        for u in units:
            for c in u:
                flat.append((self.idx, c))
                for k in set(c.keys):
                    self.history[k].append((self.idx, c))
                self.counts[c.args[0].decode().lower()] += 1
                self.idx += 1
        cmds = [c.args for _, c in flat]
        self.flat_log += cmds
        ps = self.diff.pconn.pipeline(cmds)
        rs = self.diff.rconn.pipeline(cmds)
        pos = 0
        for u in units:
            seg = list(zip(flat[pos:pos + len(u)], ps[pos:pos + len(u)], rs[pos:pos + len(u)]))
            pos += len(u)
            if u[0].args[0] == b"MULTI":
                self.check_block(seg)
            else:
                self.check_seq(seg)
        self.check_state(flat[-1][0])

    def check_seq(self, seg):
        prev = None
        for (i, c), p, r in seg:
            prev_enc = None
            if prev is not None and prev[0].args[:2] == (b"OBJECT", b"ENCODING"):
                prev_enc = parse(prev[1])
            if not replies_match(c.tag, p, r, prev_enc):
                self.fail("reply differs", i, c, p, r)
            prev = (c, r)

    def check_block(self, seg):
        # MULTI, queued commands and EXEC/DISCARD: the queueing replies are
        # exact; an EXEC array is checked element-wise like a plain sequence.
        for (i, c), p, r in seg[:-1]:
            if p != r:
                self.fail("reply differs (in MULTI)", i, c, p, r)
        (i, c), p, r = seg[-1]
        if p == r:
            return
        pe, re_ = split_array(p), split_array(r)
        queued = [ic for ic, _, qr in seg[1:-1] if qr == b"+QUEUED\r\n"]
        if pe is None or re_ is None or len(pe) != len(re_) or len(re_) != len(queued):
            self.fail("EXEC reply differs", i, c, p, r)
        self.check_seq(list(zip(queued, pe, re_)))

    def check_state(self, upto):
        """Compare TYPE, OBJECT ENCODING, TTL and content of every key."""
        d = self.diff
        meta = []
        for k in DUMP_KEYS:
            meta += [(b"TYPE", k), (b"OBJECT", b"ENCODING", k), (b"TTL", k)]
        meta.append((b"DBSIZE",))
        ps = d.pconn.pipeline(meta)
        rs = d.rconn.pipeline(meta)
        for j, (m, p, r) in enumerate(zip(meta, ps, rs)):
            tag = ("ttl", 1) if m[0] == b"TTL" else None
            if not replies_match(tag, p, r, None):
                self.dump_fail(m, p, r, upto)
        self.gen.observe({k: parse(rs[3 * n]) for n, k in enumerate(DUMP_KEYS)})
        content = []
        for n, k in enumerate(DUMP_KEYS):
            t = parse(rs[3 * n])
            enc = parse(rs[3 * n + 1])
            t = t.decode() if isinstance(t, bytes) else t
            if t == "string":
                content.append(((b"GET", k), None, enc))
            elif t == "list":
                content.append(((b"LRANGE", k, b"0", b"-1"), None, enc))
            elif t == "hash":
                content.append(((b"HGETALL", k), ("u", 2, True), enc))
            elif t == "set":
                content.append(((b"SMEMBERS", k), ("u", 1, True), enc))
            elif t == "zset":
                content.append(((b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"), None, enc))
        self.batches += 1
        if self.batches % 3 == 0:
            self.check_scans(content, upto)
        if not content:
            return
        ps = d.pconn.pipeline([c for c, _, _ in content])
        rs = d.rconn.pipeline([c for c, _, _ in content])
        for (m, tag, enc), p, r in zip(content, ps, rs):
            if not replies_match(tag, p, r, enc):
                self.dump_fail(m, p, r, upto)

    def scan_all(self, conn, args):
        """Iterate a SCAN-family command to cursor 0: (first raw reply,
        set of elements or of pairs, number of calls)."""
        cursor, first, got, calls = b"0", None, set(), 0
        pairs = args[0] in (b"HSCAN", b"ZSCAN")
        while True:
            a = list(args)
            a.insert(2 if args[0] != b"SCAN" else 1, cursor)
            raw = conn.call(*a)
            calls += 1
            if first is None:
                first = raw
            v = parse(raw)
            if not isinstance(v, list):
                return raw, None, calls
            cursor, items = v
            if pairs:
                got.update(zip(items[0::2], items[1::2]))
            else:
                got.update(items)
            if cursor == b"0" or calls > 1000:
                return first, got, calls

    def check_scans(self, content, upto):
        """SCAN/SSCAN/HSCAN/ZSCAN to cursor 0 on both servers: the same
        elements (and, for a one-call answer from an ordered encoding, the
        same bytes)."""
        R = self.scan_rng
        a = [b"SCAN"]
        if R.random() < 0.3:
            a += [b"MATCH", R.choice([b"k[0-4]", b"*z", b"k?"])]
        if R.random() < 0.3:
            a += [b"TYPE", R.choice([b"string", b"set", b"zset", b"hash", b"list"])]
        a += [b"COUNT", b"%d" % R.randint(1, 12)]
        jobs = [(a, None)]
        for m, _, enc in content:
            cmd = {b"SMEMBERS": b"SSCAN", b"HGETALL": b"HSCAN"}.get(m[0])
            if m[0] == b"ZRANGE":
                cmd = b"ZSCAN"
            if cmd is None:
                continue
            a = [cmd, m[1]]
            if R.random() < 0.3:
                a += [b"MATCH", R.choice([b"*1*", b"f1*", b"[a-c]*", b"*\x00*", b"p?"])]
            a += [b"COUNT", b"%d" % R.randint(1, 20)]
            jobs.append((a, enc))
        for a, enc in jobs:
            pf, pset, _ = self.scan_all(self.diff.pconn, a)
            rf, rset, rcalls = self.scan_all(self.diff.rconn, a)
            ordered = enc in ORDERED_ENCODINGS and rcalls == 1
            if pset != rset or (ordered and pf != rf) or (rset is None and pf != rf):
                self.dump_fail(tuple(a), pf if pset == rset else repr(sorted(pset or ())).encode(),
                               rf if pset == rset else repr(sorted(rset or ())).encode(), upto)

    def dump_fail(self, m, p, r, upto):
        keys = [a for a in m if a in DUMP_KEYS]
        pytest.fail("%s: state dump differs after command #%d\n  dump command: %s\n"
                    "  percore: %s\n  redis:   %s\n%s%s" % (
                        self.where(), upto, b" ".join(m), _short(p), _short(r),
                        self.recent(keys or DUMP_KEYS, upto), self.write_log(upto)),
                    pytrace=False)


def _set_config(diff, pairs):
    for name, val in pairs:
        diff.check("CONFIG", "SET", name, val)


def _get_config(client, names):
    """{name: value} of a redis-py client's settings."""
    out = {}
    for name in names:
        out.update(client.config_get(name))
    return out


def _restore_config(client, saved):
    """Put the settings back. A server that died (connection refused) is
    skipped: it is restarted with defaults anyway; any other failure, such
    as a CONFIG SET refusing a value CONFIG GET reported, fails the test."""
    try:
        for name, val in saved.items():
            client.config_set(name, val)
    except redis.exceptions.ConnectionError:
        pass


CASES = [
    (1, "default", 2),
    (2, "small", 2),
    (3, "default", 3),
    (4, "small", 3),
    (5, "small", 2),
    (6, "default", 2),
    (7, "default", 2),
    (8, "small", 3),
]


def _env_cases():
    """$PERCORE_RANDOM_SEEDS (e.g. "7,20-40") replaces CASES for longer
    hunts; the variant and protocol follow from the seed."""
    spec = os.environ.get("PERCORE_RANDOM_SEEDS")
    if not spec:
        return CASES
    seeds = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        seeds += range(int(lo), int(hi or lo) + 1)
    return [(sd, ("default", "small")[sd % 2 == 0], 3 if sd % 4 in (3, 0) else 2) for sd in seeds]


CASES = _env_cases()
N_COMMANDS = int(os.environ.get("PERCORE_RANDOM_COMMANDS", N_COMMANDS))


@pytest.mark.parametrize("seed,variant,proto", CASES, ids=["seed%d-%s-resp%d" % c for c in CASES])
def test_random_stream(diff, seed, variant, proto, tmp_path):
    saved = [(cl, _get_config(cl, CONFIG_NAMES)) for cl in (diff.percore, diff.redis)]
    if variant == "small":
        _set_config(diff, SMALL_CONFIG)
    STATS.clear()
    try:
        if proto == 3:
            diff.hello3()
        run = Runner(diff, seed, variant, proto, tmp_path / "stream.txt")
        while run.idx < N_COMMANDS:
            run.run_batch()
    finally:
        for cl, conf in saved:
            _restore_config(cl, conf)
    fams = sorted(run.gen.covered - {"multi", "bulk", "config"})
    print("\n%s: %d commands; families covered: %s; distinct commands sent: %d; replies "
          "compared %d, %d of them equal only after normalisation" % (
              run.where(), run.idx, ", ".join(fams), len(run.counts), STATS["compared"],
              STATS["normalised"]))
