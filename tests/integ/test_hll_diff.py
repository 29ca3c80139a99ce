"""test_hll_diff.py -- differential tests of the HyperLogLog commands.

PFADD, PFCOUNT and PFMERGE run on percore and on the reference Redis 7.0
(fixture `diff`) and their replies AND the resulting value bytes (GET)
must be identical: the sparse form, its promotion to dense (also at a
CONFIG SET hll-sparse-max-bytes), the cached cardinality, estimates for
many sizes, merges over keys on different shards, wrong types, and
corrupted or foreign strings. Also: a concurrent reader never sees a
PFMERGE half done.
"""

import random
import threading

from conftest import HOST
from diff_util import background, run
from respclient import RespConn


def add_many(diff, key, elems, chunk=500):
    """PFADD elems in chunks on both servers, comparing every reply."""
    cmds = [("PFADD", key) + tuple(elems[i:i + chunk]) for i in range(0, len(elems), chunk)]
    diff.check_many(cmds)


def test_pfadd_basic_bytes(diff):
    run(diff,
        ("PFADD", "h"), ("GET", "h"), ("OBJECT", "ENCODING", "h"),
        ("PFADD", "h", "a"), ("GET", "h"), ("PFADD", "h", "a"), ("GET", "h"),
        ("PFADD", "h", "b", "c", "d"), ("GET", "h"),
        ("PFCOUNT", "h"), ("GET", "h"), ("PFCOUNT", "h"), ("PFADD", "h", "a"), ("GET", "h"),
        ("PFADD", "h", "e"), ("GET", "h"), ("PFCOUNT", "h"), ("GET", "h"),
        ("PFADD", "bin", b"\x00\xff\r\n", b""), ("GET", "bin"), ("PFCOUNT", "bin"),
        ("PFCOUNT", "missing"), ("EXISTS", "missing"), ("TYPE", "h"), ("STRLEN", "h"))


def test_sparse_sequences_bytes(diff):
    """Many small PFADD sequences: every intermediate value is byte-identical
    (exercises opcode splitting and the merging of adjacent VAL runs)."""
    rnd = random.Random(7)
    for k in range(20):
        key = "s%d" % k
        cmds = []
        for _ in range(60):
            elems = ["e%d" % rnd.randrange(400) for _ in range(rnd.randrange(1, 6))]
            cmds.append(("PFADD", key) + tuple(elems))
            cmds.append(("GET", key))
        cmds.append(("PFCOUNT", key))
        cmds.append(("GET", key))
        diff.check_many(cmds)


def test_promotion_to_dense(diff):
    elems = ["p%d" % i for i in range(3000)]
    cmds = []
    for i in range(0, 3000, 25):
        cmds.append(("PFADD", "h") + tuple(elems[i:i + 25]))
        cmds.append(("STRLEN", "h"))
        cmds.append(("GETRANGE", "h", "0", "15"))
    cmds += [("GET", "h"), ("PFCOUNT", "h"), ("GET", "h")]
    diff.check_many(cmds)
    assert diff.percore.strlen("h") == 12304


def test_register_above_32_promotes(diff):
    """An element whose run of zeros exceeds 32 cannot be stored sparse:
    "86f8de7b" hashes to register 15571 with a run of 36."""
    run(diff, ("PFADD", "h", "a", "b"), ("STRLEN", "h"), ("PFADD", "h", "86f8de7b"),
        ("STRLEN", "h"), ("GET", "h"), ("PFCOUNT", "h"),
        ("PFADD", "s1", "x"), ("PFADD", "s2", "86f8de7b"), ("PFMERGE", "s3", "s1", "s2"),
        ("STRLEN", "s3"), ("GET", "s3"), ("PFMERGE", "s1", "s2"), ("GET", "s1"))


def test_config_sparse_max_bytes(diff):
    try:
        run(diff, ("CONFIG", "SET", "hll-sparse-max-bytes", "60"))
        cmds = []
        for i in range(40):
            cmds += [("PFADD", "h", "x%d" % i), ("STRLEN", "h")]
        cmds += [("GET", "h"), ("PFCOUNT", "h")]
        diff.check_many(cmds)
        run(diff, ("CONFIG", "SET", "hll-sparse-max-bytes", "0"), ("PFADD", "z", "a"),
            ("STRLEN", "z"), ("PFADD", "z2"), ("GET", "z2"))
    finally:
        run(diff, ("CONFIG", "SET", "hll-sparse-max-bytes", "3000"))


def test_pfcount_sizes(diff):
    rnd = random.Random(11)
    sizes = [0, 1, 2, 5, 10, 50, 100, 200, 500, 1000, 2000, 3000, 5000, 10000, 30000, 100000]
    for n in sizes:
        key = "c%d" % n
        elems = ["%d:%d" % (n, rnd.getrandbits(48)) for _ in range(n)]
        if n:
            add_many(diff, key, elems, chunk=1000)
        run(diff, ("PFCOUNT", key), ("GET", key), ("PFCOUNT", key))


def test_pfcount_multi_and_merge_cross_shard(diff):
    keys = ["hk%d" % i for i in range(6)]
    for i, k in enumerate(keys):
        n = [10, 300, 3000, 0, 50, 5000][i]
        if n:
            add_many(diff, k, ["%s-%d" % (k, j) for j in range(n)] + ["shared%d" % j for j in range(100)],
                     chunk=1000)
    run(diff,
        ("PFCOUNT",) + tuple(keys), ("PFCOUNT", keys[0], keys[1]), ("PFCOUNT", keys[0], keys[0]),
        ("PFCOUNT", keys[0], "nokey", keys[4]), ("PFCOUNT", "nokey1", "nokey2"),
        ("GET", keys[0]), ("GET", keys[1]))
    # Multi-key PFCOUNT leaves the cached cardinality alone.
    run(diff, ("GET", keys[0]))
    run(diff,
        ("PFMERGE", "d1", keys[0], keys[1]), ("GET", "d1"), ("PFCOUNT", "d1"),
        ("PFMERGE", "d2", keys[0], keys[2]), ("GET", "d2"), ("PFCOUNT", "d2"),
        ("PFMERGE", "d3") + tuple(keys), ("GET", "d3"), ("PFCOUNT", "d3"),
        ("PFMERGE", "d4"), ("GET", "d4"), ("PFCOUNT", "d4"),
        ("PFMERGE", "d5", "nokey"), ("GET", "d5"),
        ("PFMERGE", keys[0], keys[1]), ("GET", keys[0]), ("PFCOUNT", keys[0]),
        ("PFMERGE", keys[4], keys[4]), ("GET", keys[4]),
        ("PFMERGE", keys[1], keys[5]), ("GET", keys[1]), ("PFCOUNT", keys[1]))
    # The destination keeps its TTL.
    run(diff, ("EXPIRE", "d1", "1000"), ("PFMERGE", "d1", keys[3], keys[2]), ("TTL", "d1"),
        ("GET", "d1"))


def test_pfmerge_sparse_result_bytes(diff):
    """All-sparse sources merge into a sparse destination, register by register."""
    for i in range(8):
        add_many(diff, "m%d" % i, ["m%d-%d" % (i, j) for j in range(40 * i + 1)])
    run(diff,
        ("PFMERGE", "dst") + tuple("m%d" % i for i in range(8)), ("GET", "dst"),
        ("PFMERGE", "m0", "m3", "m5"), ("GET", "m0"), ("PFCOUNT", "m0", "m7", "m2"))


def test_wrong_types_and_arity(diff):
    run(diff,
        ("SET", "str", "hello world, not an hll"), ("SET", "i", "12345"),
        ("PFADD", "str", "a"), ("PFCOUNT", "str"), ("PFMERGE", "d", "str"),
        ("PFADD", "i", "a"), ("PFCOUNT", "i"), ("PFMERGE", "i"),
        ("PFADD", "h", "a"), ("PFCOUNT", "h", "str"), ("PFCOUNT", "str", "h"),
        ("PFMERGE", "d", "h", "str"), ("EXISTS", "d"),
        ("PFMERGE", "str", "h"),
        ("PFADD",), ("PFCOUNT",), ("PFMERGE",),
        ("SET", "short", "HYLL"), ("PFCOUNT", "short"), ("PFADD", "short", "x"))
    p, r = diff.both("LPUSH", "lst", "a")
    if not p.startswith(b"-ERR unknown command"):
        run(diff, ("DEL", "lst"), ("LPUSH", "lst", "a"), ("PFADD", "lst", "a"),
            ("PFCOUNT", "lst"), ("PFCOUNT", "h", "lst"), ("PFMERGE", "lst", "h"),
            ("PFMERGE", "h", "lst"), ("PFCOUNT", "lst", "str"), ("PFCOUNT", "str", "lst"))


def test_wrong_type_order_cross_shard(diff):
    """With several bad keys the first one in argument order decides."""
    run(diff, ("SET", "bad0", "x" * 30), ("PFADD", "good", "a"))
    keys = ["bad0", "good"] + ["g%d" % i for i in range(5)]
    run(diff, ("PFCOUNT",) + tuple(keys), ("PFCOUNT",) + tuple(reversed(keys)),
        ("PFMERGE", "g1") + tuple(keys), ("EXISTS", "g1"))
    # A corrupt HLL after a wrong-typed string: the string's error wins.
    raw = diff.redis.execute_command("PFADD", "tmp", "a", "b") and diff.redis.get("tmp")
    diff.redis.delete("tmp")
    bad = raw + b"garbage"
    run(diff, ("SET", "corrupt", bad), ("PFCOUNT", "bad0", "corrupt"),
        ("PFCOUNT", "corrupt", "bad0"), ("PFCOUNT", "g2", "corrupt", "g3", "bad0"))


def test_corrupted_hlls(diff):
    run(diff, ("PFADD", "h", "a", "b", "c"))
    sparse = diff.redis.get("h")
    run(diff,
        # Extra bytes after a valid sparse body.
        ("SET", "t1", sparse + b"hello"), ("PFCOUNT", "t1"), ("PFADD", "t1", "zz"),
        ("PFCOUNT", "t1", "h"), ("PFMERGE", "t1x", "t1"),
        # Broken magic.
        ("SET", "t2", b"XYLL" + sparse[4:]), ("PFCOUNT", "t2"), ("PFADD", "t2", "a"),
        # Unknown encoding.
        ("SET", "t3", sparse[:4] + b"x" + sparse[5:]), ("PFCOUNT", "t3"),
        # Says dense but has the sparse length.
        ("SET", "t4", sparse[:4] + b"\x00" + sparse[5:]), ("PFCOUNT", "t4"),
        ("PFMERGE", "d", "t4"),
        # Truncated body.
        ("SET", "t5", sparse[:-1]), ("PFCOUNT", "t5"), ("PFADD", "t5", "a", "b"),
        ("GET", "t5"), ("PFMERGE", "d5", "t5"),
        # Header only.
        ("SET", "t6", sparse[:16]), ("PFCOUNT", "t6"), ("PFADD", "t6", "q"),
        ("PFADD", "t6"), ("GET", "t6"))
    # A Redis-made valid HLL set from its bytes works (cached value served).
    add_many(diff, "big", ["b%d" % i for i in range(5000)])
    dense = diff.redis.get("big")
    run(diff, ("SET", "copy", dense), ("PFCOUNT", "copy"), ("SET", "copy2", sparse),
        ("PFCOUNT", "copy2"), ("PFADD", "copy2", "new"), ("GET", "copy2"),
        ("OBJECT", "ENCODING", "copy2"))
    # Stale cache bytes with the valid bit set are trusted, as in Redis.
    fake = sparse[:8] + b"\x39\x05\x00\x00\x00\x00\x00\x00" + sparse[16:]
    run(diff, ("SET", "fake", fake), ("PFCOUNT", "fake"))


def test_fuzz_corruption(diff):
    """Random byte damage to sparse and dense HLLs: both servers must
    answer the same and leave the same bytes."""
    rnd = random.Random(3)
    add_many(diff, "src_s", ["s%d" % i for i in range(200)])
    add_many(diff, "src_d", ["d%d" % i for i in range(4000)])
    srcs = [diff.redis.get("src_s"), diff.redis.get("src_d")]
    for it in range(150):
        b = bytearray(srcs[it % 2])
        for _ in range(rnd.randrange(1, 6)):
            pos = rnd.randrange(16 if it % 3 else 4, len(b))
            b[pos] = rnd.randrange(256)
        cmds = [("SET", "f", bytes(b)), ("PFCOUNT", "f"), ("GET", "f"),
                ("PFADD", "f", "x%d" % it, "y%d" % it), ("GET", "f"),
                ("PFMERGE", "g", "f"), ("GET", "g"), ("PFCOUNT", "f", "src_s"), ("DEL", "g")]
        diff.check_many(cmds)


def test_pipeline_and_resp3(diff):
    cmds = []
    for i in range(300):
        cmds.append(("PFADD", "k%d" % (i % 7), "e%d" % i))
        if i % 13 == 0:
            cmds.append(("PFCOUNT",) + tuple("k%d" % j for j in range(7)))
            cmds.append(("PFMERGE", "all") + tuple("k%d" % j for j in range(7)))
    cmds.append(("GET", "all"))
    diff.check_many(cmds)
    diff.hello3()
    run(diff, ("PFADD", "r3", "a"), ("PFCOUNT", "r3"), ("PFCOUNT", "r3", "k1"),
        ("PFMERGE", "r3", "k2"), ("PFCOUNT", "nope"))


def test_multi_exec(diff):
    run(diff, ("MULTI",), ("PFADD", "a", "1", "2"), ("PFADD", "b", "3"),
        ("PFCOUNT", "a", "b"), ("PFMERGE", "c", "a", "b"), ("PFCOUNT", "c"), ("EXEC",),
        ("GET", "c"))


def test_pfmerge_is_atomic_across_shards(diff):
    """A writer alternately merges two different sets of sources into one
    destination (sources on several shards, destination re-created each
    time inside MULTI); a reader's PFCOUNT of the destination only ever sees
    the empty or a complete result."""
    keys = ["src%d" % i for i in range(6)]
    c = RespConn(HOST, diff.percore_port)
    for i, k in enumerate(keys):
        c.call("PFADD", k, *["%s-%d" % (k, j) for j in range(200)])
    full = int(c.call_parsed("PFCOUNT", *keys))
    stop = threading.Event()
    seen = set()

    def reader():
        r = RespConn(HOST, diff.percore_port)
        while not stop.is_set():
            seen.add(int(r.call_parsed("PFCOUNT", "dst")))
        r.close()

    with background(stop, reader):
        for _ in range(300):
            assert c.call("DEL", "dst").startswith(b":")
            assert c.call("PFMERGE", "dst", *keys) == b"+OK\r\n"
    c.close()
    assert seen <= {0, full}, seen
