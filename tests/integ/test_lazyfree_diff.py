"""test_lazyfree_diff.py -- UNLINK and FLUSHALL ASYNC hand work to the lazy-free
thread exactly when redis-server 7.0 does: INFO's lazyfreed_objects must move
by the same amount on both servers."""
import time


def keys_of(n, prefix="k"):
    return [f"{prefix}{i}" for i in range(n)]


def _lazyfreed(diff):
    """lazyfreed_objects of (percore, redis) once neither has pending work."""
    for _ in range(200):
        p, r = diff.both("INFO", "memory")
        f = [dict(ln.split(":", 1) for ln in x.decode().split("\r\n") if ":" in ln)
             for x in (p, r)]
        if all(x["lazyfree_pending_objects"] == "0" for x in f):
            return tuple(int(x["lazyfreed_objects"]) for x in f)
        time.sleep(0.01)
    raise AssertionError("lazy free never drained")


def test_lazyfree_effort_like_redis(diff):
    """UNLINK sends a value to the background thread exactly when Redis does
    (its free effort: list nodes, hashtable or skiplist elements, 1 for a
    single allocation), and FLUSHALL ASYNC counts every key."""
    base = _lazyfreed(diff)
    steps = [
        ([("SET", k, "v") for k in keys_of(10)] + [("FLUSHALL", "ASYNC")], 10),
        ([("HSET", "h", *[f"f{i}" for i in range(200)])] + [("UNLINK", "h")], 0),
        ([("RPUSH", "l", *[f"e{i}" for i in range(100)]), ("UNLINK", "l")], 0),
        ([("SADD", "si", *range(300)), ("UNLINK", "si")], 0),
        ([("SADD", "s", *[f"m{i}" for i in range(100)]), ("UNLINK", "s")], 1),
        ([("ZADD", "z", *[x for i in range(200) for x in (i, f"m{i}")]), ("UNLINK", "z")], 1),
        ([("SET", "str", "v" * 100), ("UNLINK", "str")], 0),
    ]
    for cmds, want in steps:
        diff.check_many(cmds)
        now = _lazyfreed(diff)
        assert (now[0] - base[0], now[1] - base[1]) == (want, want), cmds
        base = now
