"""test_geo_diff.py -- differential tests of the GEO commands.

Every case runs the same commands on percore and on the reference Redis 7.0
(fixture `diff`) and compares the raw reply bytes: members, distances
(%.4f), coordinates, hashes, geohash strings, every option of the
GEORADIUS / GEOSEARCH family, STORE / STOREDIST into keys of another shard,
and the error texts. Also: a reader never sees a cross-shard
GEOSEARCHSTORE half done.
"""

import random
import threading

from conftest import HOST
from diff_util import background, run
from respclient import RespConn

CITIES = [
    (13.361389, 38.115556, "Palermo"), (15.087269, 37.502669, "Catania"),
    (12.496366, 41.902782, "Rome"), (9.189982, 45.464204, "Milan"),
    (14.268124, 40.851775, "Naples"), (2.349014, 48.864716, "Paris"),
    (-0.127758, 51.507351, "London"), (-74.005941, 40.712784, "NewYork"),
    (139.691706, 35.689487, "Tokyo"), (151.209296, -33.86882, "Sydney"),
    (-58.381559, -34.603684, "BuenosAires"), (179.9, 0.5, "Dateline"),
    (-179.9, 0.5, "Dateline2"), (0, 85.05112878, "North"), (0, -85.05112878, "South"),
    (0, 0, "Origin"), (13.361389, 38.115556, "Palermo2"),
]


def load(diff, key="geo"):
    args = []
    for lon, lat, m in CITIES:
        args += [str(lon), str(lat), m]
    run(diff, ("GEOADD", key) + tuple(args))


def test_geoadd_options_and_encoding(diff):
    run(diff,
        ("GEOADD", "g", "13.361389", "38.115556", "Palermo"),
        ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
        ("GEOADD", "g", "NX", "1", "1", "Palermo", "2", "2", "new"),
        ("GEOADD", "g", "XX", "1", "1", "Palermo", "3", "3", "new2"),
        ("GEOADD", "g", "XX", "CH", "5", "5", "Palermo"),
        ("GEOADD", "g", "CH", "NX", "5", "5", "x", "6", "6", "Palermo"),
        ("GEOADD", "g", "ch", "xx", "ch", "7", "7", "x"),
        ("GEOADD", "nokey", "XX", "1", "1", "a"), ("EXISTS", "nokey"),
        ("OBJECT", "ENCODING", "g"), ("TYPE", "g"),
        ("GEOADD", "g", "XX", "NX", "1", "1", "a"),
        ("GEOADD", "g", "1", "1"), ("GEOADD", "g", "CH", "1", "1"),
        ("GEOADD", "g", "NX", "XX", "CH"), ("GEOADD", "g", "GT", "1", "1", "a"),
        ("GEOADD", "g", "200", "1", "a"), ("GEOADD", "g", "1", "86", "a"),
        ("GEOADD", "g", "-180.0000001", "0", "a"), ("GEOADD", "g", "abc", "1", "a"),
        ("GEOADD", "g", "1", "nan", "a"), ("GEOADD", "g", "1", "1", "ok", "1", "100", "bad"),
        ("EXISTS", "ok"), ("ZSCORE", "g", "ok"),
        ("GEOADD", "g"), ("GEOADD", "g", "1", "1"),
        ("GEOADD", "bin", "1", "2", b"a\x00b\xff"), ("GEOPOS", "bin", b"a\x00b\xff"),
        ("GEOADD", "big", "1", "2", "x" * 100), ("OBJECT", "ENCODING", "big"))
    run(diff, ("SET", "str", "v"), ("GEOADD", "str", "1", "1", "a"),
        ("GEOADD", "str", "1", "100", "a"))


def test_geoadd_threshold_config(diff):
    try:
        run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "0"),
            ("GEOADD", "g", "1", "1", "a"), ("OBJECT", "ENCODING", "g"),
            ("CONFIG", "SET", "zset-max-listpack-entries", "128"))
    finally:
        run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "128"))


def test_geodist_geohash_geopos(diff):
    load(diff)
    names = [m for _, _, m in CITIES]
    cmds = []
    for i in range(len(names)):
        a, b = names[i], names[(i * 7 + 3) % len(names)]
        for unit in ([], ["m"], ["km"], ["ft"], ["mi"], ["KM"]):
            cmds.append(("GEODIST", "geo", a, b) + tuple(unit))
    cmds += [("GEODIST", "geo", "Palermo", "Palermo"), ("GEODIST", "geo", "Palermo", "nope"),
             ("GEODIST", "nokey", "a", "b"), ("GEODIST", "geo", "Palermo", "Rome", "yd"),
             ("GEODIST", "geo", "a", "b", "km", "x"), ("GEODIST", "nokey", "a", "b", "yd"),
             ("GEOHASH", "geo") + tuple(names) + ("nope",), ("GEOHASH", "nokey", "a", "b"),
             ("GEOHASH", "geo"), ("GEOPOS", "geo") + tuple(names) + ("nope",),
             ("GEOPOS", "nokey", "a"), ("GEOPOS", "geo"),
             ("GEODIST", "geo"), ("GEOHASH",), ("GEOPOS",)]
    diff.check_many(cmds)
    # Arbitrary sorted-set scores decode the way Redis decodes them.
    p, r = diff.both("ZADD", "z", "-1", "neg", "0", "zero", "4503599627370496", "big",
                     "1e300", "huge", "123.75", "frac", "-inf", "ninf", "inf", "pinf")
    if not p.startswith(b"-ERR unknown"):
        run(diff, ("GEOPOS", "z", "neg", "zero", "big", "huge", "frac", "ninf", "pinf"),
            ("GEOHASH", "z", "neg", "zero", "big", "huge", "frac", "ninf", "pinf"),
            ("GEODIST", "z", "neg", "huge"), ("GEODIST", "z", "zero", "frac", "km"))
    run(diff, ("SET", "str", "v"), ("GEOPOS", "str", "a"), ("GEOHASH", "str", "a"),
        ("GEODIST", "str", "a", "b"))
    diff.hello3()
    run(diff, ("GEOPOS", "geo", "Palermo", "nope"), ("GEOHASH", "geo", "Rome", "nope"),
        ("GEODIST", "geo", "Rome", "nope"), ("GEODIST", "geo", "Rome", "Paris"),
        ("GEORADIUS", "geo", "15", "37", "500", "km", "WITHCOORD", "WITHDIST", "WITHHASH"))


def test_georadius_variants(diff):
    load(diff)
    cmds = []
    for cmd in ("GEORADIUS", "GEORADIUS_RO"):
        for lonlat in (("15", "37"), ("0", "0"), ("179.99", "0.4"), ("-179.99", "0.4"),
                       ("0", "85"), ("13.361389", "38.115556")):
            for rad in (("0", "m"), ("100", "km"), ("500", "km"), ("2000", "km"),
                        ("5000", "mi"), ("20000", "km"), ("1000", "ft")):
                base = (cmd, "geo") + lonlat + rad
                cmds += [base, base + ("WITHDIST",), base + ("ASC", "WITHCOORD"),
                         base + ("DESC", "WITHDIST", "WITHHASH", "WITHCOORD"),
                         base + ("COUNT", "2"), base + ("COUNT", "3", "DESC", "WITHDIST"),
                         base + ("COUNT", "1", "ANY"), base + ("COUNT", "50", "ANY", "ASC")]
    diff.check_many(cmds)
    cmds = []
    for cmd in ("GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"):
        for m in ("Palermo", "Tokyo", "North", "Dateline"):
            for rad in (("0", "km"), ("300", "km"), ("3000", "km"), ("10000", "mi")):
                base = (cmd, "geo", m) + rad
                cmds += [base, base + ("WITHDIST", "ASC"), base + ("COUNT", "2", "WITHHASH"),
                         base + ("DESC", "COUNT", "4", "WITHCOORD", "WITHDIST")]
    diff.check_many(cmds)


def test_geosearch_variants(diff):
    load(diff)
    cmds = []
    froms = [("FROMMEMBER", "Palermo"), ("FROMMEMBER", "Sydney"), ("FROMLONLAT", "15", "37"),
             ("FROMLONLAT", "-70", "40"), ("FROMLONLAT", "0", "-85")]
    bys = [("BYRADIUS", "200", "km"), ("BYRADIUS", "3000", "mi"), ("BYBOX", "400", "400", "km"),
           ("BYBOX", "4000", "1000", "km"), ("BYBOX", "10", "10", "ft"), ("BYBOX", "0", "0", "m"),
           ("BYBOX", "20000", "20000", "km")]
    for f in froms:
        for b in bys:
            base = ("GEOSEARCH", "geo") + f + b
            cmds += [base, base + ("ASC",), base + ("DESC", "WITHCOORD", "WITHDIST", "WITHHASH"),
                     base + ("COUNT", "2"), base + ("COUNT", "1", "ANY", "WITHDIST"),
                     ("GEOSEARCH", "geo") + b + f + ("WITHDIST",)]
    diff.check_many(cmds)


def test_search_errors(diff):
    load(diff)
    run(diff, ("SET", "str", "v"))
    run(diff,
        ("GEORADIUS", "str", "15", "37", "200", "km"), ("GEORADIUS", "str", "x", "37", "200", "km"),
        ("GEORADIUS", "geo", "x", "37", "200", "km"), ("GEORADIUS", "geo", "15", "99", "200", "km"),
        ("GEORADIUS", "geo", "15", "37", "x", "km"), ("GEORADIUS", "geo", "15", "37", "-1", "km"),
        ("GEORADIUS", "geo", "15", "37", "200", "yd"),
        ("GEORADIUS", "geo", "15", "37", "200", "km", "COUNT", "0"),
        ("GEORADIUS", "geo", "15", "37", "200", "km", "COUNT", "x"),
        ("GEORADIUS", "geo", "15", "37", "200", "km", "COUNT"),
        ("GEORADIUS", "geo", "15", "37", "200", "km", "ANY"),
        ("GEORADIUS", "geo", "15", "37", "200", "km", "BOGUS"),
        ("GEORADIUS", "geo", "15", "37", "200", "km", "STORE", "d", "WITHDIST"),
        ("GEORADIUS", "geo", "15", "37", "200", "km", "FROMMEMBER", "Palermo"),
        ("GEORADIUS_RO", "geo", "15", "37", "200", "km", "STORE", "d"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km"),
        ("GEORADIUS", "nokey", "15", "37", "200", "km", "ANY"),
        ("GEORADIUSBYMEMBER", "geo", "nope", "200", "km"),
        ("GEORADIUSBYMEMBER", "nokey", "nope", "x", "yd"),
        ("GEORADIUSBYMEMBER", "nokey", "nope", "x", "yd", "BOGUS"),
        ("GEORADIUSBYMEMBER", "str", "nope", "200", "km"),
        ("GEORADIUSBYMEMBER", "geo", "Palermo", "200", "km", "STOREDIST", "d", "WITHHASH"),
        ("GEOSEARCH", "geo", "BYRADIUS", "10", "km"),
        ("geosearch", "geo", "FROMLONLAT", "1", "2"),
        ("GeoSearch", "geo", "FROMLONLAT", "1", "2", "ASC"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m"),
        ("GEOSEARCH", "geo", "FROMLONLAT", "1", "2", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m", "BYBOX", "1", "1", "m"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "m"),
        ("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "x", "m"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "BYBOX", "x", "1", "m"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "BYBOX", "1", "x", "m"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "BYBOX", "-1", "1", "m"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "BYBOX", "1", "1", "parsec"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m", "STORE", "x"),
        ("GEOSEARCH", "geo", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m", "STOREDIST"),
        ("GEOSEARCH", "geo", "FROMLONLAT", "500", "2", "BYRADIUS", "1", "m"),
        ("GEOSEARCH", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m"),
        ("GEOSEARCHSTORE", "d", "geo", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m", "WITHDIST"),
        ("GEOSEARCHSTORE", "d", "geo", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m", "STORE", "e"),
        ("GEOSEARCHSTORE", "d", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m"),
        ("GEORADIUS", "geo", "1", "2", "3"), ("GEOSEARCH", "geo", "FROMLONLAT", "1", "2"),
        ("GEORADIUSBYMEMBER", "geo", "a", "1"))


def test_store_cross_shard(diff):
    load(diff)
    dests = ["d%d" % i for i in range(6)]
    cmds = []
    for d in dests:
        cmds += [
            ("GEORADIUS", "geo", "15", "37", "2000", "km", "STORE", d), ("ZRANGE", d, "0", "-1", "WITHSCORES"),
            ("GEORADIUS", "geo", "15", "37", "2000", "km", "STOREDIST", d, "COUNT", "3"),
            ("ZRANGE", d, "0", "-1", "WITHSCORES"), ("OBJECT", "ENCODING", d),
            ("GEORADIUSBYMEMBER", "geo", "Paris", "1000", "mi", "STORE", d, "DESC"),
            ("ZRANGE", d, "0", "-1", "WITHSCORES"),
            ("GEOSEARCHSTORE", d, "geo", "FROMMEMBER", "Rome", "BYBOX", "3000", "3000", "km"),
            ("ZRANGE", d, "0", "-1", "WITHSCORES"),
            ("GEOSEARCHSTORE", d, "geo", "FROMMEMBER", "Rome", "BYRADIUS", "3000", "km", "STOREDIST",
             "COUNT", "2", "DESC"), ("ZRANGE", d, "0", "-1", "WITHSCORES"),
            ("EXPIRE", d, "100"),
            ("GEOSEARCHSTORE", d, "geo", "FROMLONLAT", "-100", "-60", "BYRADIUS", "1", "km"),
            ("EXISTS", d),
            ("SET", d, "string"), ("GEOSEARCHSTORE", d, "nokey", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "m"),
            ("EXISTS", d), ("SET", d, "string"),
            ("GEORADIUS", "geo", "15", "37", "200", "km", "STORE", d), ("TYPE", d), ("TTL", d),
            ("GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", d), ("EXISTS", d),
            ("GEORADIUS", "geo", "15", "37", "200", "km", "STORE", "x", "STOREDIST", d),
            ("ZRANGE", d, "0", "-1", "WITHSCORES"), ("EXISTS", "x"),
            ("GEOSEARCHSTORE", "geo", "geo", "FROMMEMBER", "Rome", "BYRADIUS", "1", "km"),
        ]
    diff.check_many(cmds)
    run(diff, ("ZRANGE", "geo", "0", "-1", "WITHSCORES"))
    try:
        run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "2"))
        load(diff, "geo2")
        run(diff, ("GEOSEARCHSTORE", "big", "geo2", "FROMLONLAT", "15", "37", "BYRADIUS", "3000", "km"),
            ("OBJECT", "ENCODING", "big"),
            ("GEOSEARCHSTORE", "small", "geo2", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km"),
            ("OBJECT", "ENCODING", "small"))
    finally:
        run(diff, ("CONFIG", "SET", "zset-max-listpack-entries", "128"))


def test_random_points(diff):
    rnd = random.Random(5)
    args = []
    for i in range(600):
        args += ["%.6f" % rnd.uniform(-180, 180), "%.6f" % rnd.uniform(-85, 85), "p%d" % i]
    run(diff, ("GEOADD", "rp") + tuple(args))
    cmds = []
    for i in range(150):
        lon, lat = "%.5f" % rnd.uniform(-180, 180), "%.5f" % rnd.uniform(-85, 85)
        r = str(rnd.choice([10, 100, 500, 1500, 4000]))
        cmds.append(("GEOSEARCH", "rp", "FROMLONLAT", lon, lat, "BYRADIUS", r, "km", "WITHDIST",
                     "WITHCOORD", "WITHHASH"))
        cmds.append(("GEOSEARCH", "rp", "FROMLONLAT", lon, lat, "BYBOX", r, str(int(r) // 2), "km",
                     "ASC", "WITHDIST"))
        cmds.append(("GEORADIUS", "rp", lon, lat, r, "km", "COUNT", "5", "DESC"))
        cmds.append(("GEOSEARCH", "rp", "FROMMEMBER", "p%d" % i, "BYRADIUS", r, "km", "COUNT", "3",
                     "ANY"))
    diff.check_many(cmds)


def test_search_store_atomic(diff):
    """A writer stores searches of two different areas into one destination
    on another shard; a reader's ZCARD sees only 0 or a complete result."""
    c = RespConn(HOST, diff.percore_port)
    args = []
    for i in range(50):
        args += ["%.4f" % (10 + i * 0.01), "40", "a%d" % i]
    c.call("GEOADD", "src", *args)
    stop = threading.Event()
    seen = set()

    def reader():
        r = RespConn(HOST, diff.percore_port)
        while not stop.is_set():
            seen.add(int(r.call_parsed("ZCARD", "dst")))
        r.close()

    with background(stop, reader):
        for i in range(300):
            if i % 2:
                c.call("GEOSEARCHSTORE", "dst", "src", "FROMLONLAT", "10", "40", "BYRADIUS", "1000", "km")
            else:
                c.call("GEOSEARCHSTORE", "dst", "src", "FROMLONLAT", "-100", "0", "BYRADIUS", "1", "km")
    c.close()
    p, _ = diff.both("ZCARD", "dst")
    if not p.startswith(b"-ERR unknown"):
        assert seen <= {0, 50}, seen
