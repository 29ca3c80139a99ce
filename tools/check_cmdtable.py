#!/usr/bin/python3
"""check_cmdtable.py -- compare percore's COMMAND replies with a reference Redis.

For every command and subcommand percore implements (the list in
gen_cmdmeta.py) it checks, in RESP2 and RESP3, that COMMAND INFO, COMMAND
DOCS, COMMAND COUNT, COMMAND LIST (with and without FILTERBY), COMMAND
GETKEYS, COMMAND HELP and bare COMMAND answer as the reference does. Known,
intended differences are allowed:
  - containers list only the subcommands percore implements, and entries
    whose order is a hash-table order in Redis are compared as sets;
  - `summary` texts are our own words (only their presence is compared);
  - COUNT and LIST count only our commands;
  - CLIENT SETINFO (Redis 7.2) is absent from the 7.0 reference.

Importable: compare(percore_port, redis_port) -> list of difference strings.
Command line: check_cmdtable.py PERCORE_PORT [REDIS_PORT]; without
REDIS_PORT a temporary reference redis-server is started. Exit status 1 if
any difference is found.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cmdmeta as gen  # noqa: E402

EXTRA = {"client|setinfo"}   # ours, not in the 7.0 reference


def _ours():
    full = list(gen.fullnames())
    top = [n for n, _ in gen.COMMANDS]
    subs = {n: [n + "|" + s for s in (ss or [])] for n, ss in gen.COMMANDS}
    return full, top, subs


def _strip_info(t, keep):
    """An INFO entry with its subcommand list cut to `keep` (a set of full
    names, None = all) and sorted by name."""
    if t[0] != "arr":
        return t
    v = list(t[1])
    if len(v) == 10 and v[9][0] in ("arr", "set"):
        subs = [s for s in v[9][1] if keep is None or s[1][0][1] in keep]
        subs = [_strip_info(s, None) for s in subs]
        v[9] = (v[9][0], sorted(subs, key=lambda s: s[1][0][1]))
    return ("arr", v)


def _strip_docs(t, keep):
    """A DOCS value (map, or flat array in RESP2) with the summary masked
    and the subcommands cut to `keep` and sorted by name."""
    if t[0] not in ("map", "arr"):
        return t
    v = t[1]
    out = []
    for k in range(0, len(v) - 1, 2):
        key, val = v[k], v[k + 1]
        if key[1] == "summary":
            val = ("bulk", "<summary>")
        elif key[1] == "subcommands":
            pairs = [(v2[j], v2[j + 1]) for v2 in [val[1]] for j in range(0, len(v2), 2)]
            pairs = [(a, _strip_docs(b, None)) for a, b in pairs if keep is None or a[1] in keep]
            pairs.sort(key=lambda p: p[0][1])
            flat = []
            for a, b in pairs:
                flat += [a, b]
            val = (val[0], flat)
        out += [key, val]
    return (t[0], out)


def _fix_len(t):
    """Canonical form: aggregate lengths follow from the content."""
    if t[0] in ("arr", "set", "map", "push"):
        return (t[0], [_fix_len(x) for x in t[1]])
    return t


def compare(percore_port, redis_port):
    """Returns a list of human-readable differences (empty: all equal)."""
    full, top, subs = _ours()
    fullset = set(full)
    diffs = []
    for resp in (2, 3):
        ours = gen.Conn(percore_port, resp)
        ref = gen.Conn(redis_port, resp)

        def same_bytes(*args):
            a, b = ours.raw(*args), ref.raw(*args)
            if a != b:
                diffs.append("RESP%d %s: ours %r, reference %r" % (resp, " ".join(args),
                                                                   a[:300], b[:300]))

        def same_tree(what, a, b):
            if _fix_len(a) != _fix_len(b):
                diffs.append("RESP%d %s: ours %r, reference %r" % (resp, what, str(a)[:400],
                                                                   str(b)[:400]))

        # COMMAND COUNT and COMMAND LIST.
        n = ours.call("COMMAND", "COUNT")
        if n != ("int", len(top)):
            diffs.append("RESP%d COMMAND COUNT: %r, expected %d" % (resp, n, len(top)))
        got = ours.call("COMMAND", "LIST")
        names = [x[1] for x in got[1]]
        if sorted(names) != sorted(full):
            diffs.append("RESP%d COMMAND LIST: extra %s, missing %s" % (
                resp, sorted(set(names) - fullset), sorted(fullset - set(names))))
        filters = [("ACLCAT", c) for c in ("read", "write", "keyspace", "string", "bitmap",
                                           "admin", "fast", "slow", "dangerous",
                                           "connection", "CONNECTION", "nosuch", "@read")]
        filters += [("PATTERN", p) for p in ("*", "get*", "CLIENT|*", "c?nfig*", "[a-c]*",
                                             "*|help", "nomatch")]
        filters += [("MODULE", "x")]
        for kind, arg in filters:
            a = ours.call("COMMAND", "LIST", "FILTERBY", kind, arg)
            b = ref.call("COMMAND", "LIST", "FILTERBY", kind, arg)
            sa = sorted(x[1] for x in a[1])
            sb = sorted(x[1] for x in b[1] if x[1] in fullset)
            sb = sorted(set(sb) | {x for x in sa if x in EXTRA})
            if a[0] != b[0] or sa != sb:
                diffs.append("RESP%d COMMAND LIST FILTERBY %s %s: ours %s, reference %s" % (
                    resp, kind, arg, sa, sb))

        # COMMAND INFO and DOCS, one name at a time.
        for fn in full:
            if fn in EXTRA:
                got = ours.call("COMMAND", "INFO", fn)
                if got[0] != "arr" or got[1][0][0] != "arr":
                    diffs.append("RESP%d COMMAND INFO %s: missing" % (resp, fn))
                continue
            if subs.get(fn):
                keep = set(subs[fn])
                a = _strip_info(ours.call("COMMAND", "INFO", fn)[1][0], keep - EXTRA)
                b = _strip_info(ref.call("COMMAND", "INFO", fn)[1][0], keep)
                same_tree("COMMAND INFO " + fn, a, b)
                a = ours.call("COMMAND", "DOCS", fn)
                b = ref.call("COMMAND", "DOCS", fn)
                a = (a[0], [a[1][0], _strip_docs(a[1][1], keep - EXTRA)])
                b = (b[0], [b[1][0], _strip_docs(b[1][1], keep)])
                same_tree("COMMAND DOCS " + fn, a, b)
            else:
                same_bytes("COMMAND", "INFO", fn)
                a = ours.call("COMMAND", "DOCS", fn)
                b = ref.call("COMMAND", "DOCS", fn)
                same_tree("COMMAND DOCS " + fn, (a[0], [a[1][0], _strip_docs(a[1][1], None)]),
                          (b[0], [b[1][0], _strip_docs(b[1][1], None)]))

        # Lookups by other spellings, unknown names, several names.
        for args in (("COMMAND", "INFO", "GET"), ("COMMAND", "INFO", "Client|List"),
                     ("COMMAND", "INFO", "nosuch"), ("COMMAND", "INFO", "get", "nosuch", "set"),
                     ("COMMAND", "INFO", "client|nosuch"), ("COMMAND", "INFO", "get|x"),
                     ("COMMAND", "INFO", "client|list|x"), ("COMMAND", "DOCS", "nosuch"),
                     ("COMMAND", "INFO", "")):
            same_bytes(*args)
        for args in (("GET", "nosuch", "mget"), ("get", "get", "nosuch", "object|help")):
            a = ours.call("COMMAND", "DOCS", *args)
            b = ref.call("COMMAND", "DOCS", *args)
            same_tree("COMMAND DOCS " + " ".join(args), _fix_docs_multi(a), _fix_docs_multi(b))

        # Bare COMMAND and COMMAND INFO without names: one INFO entry per top-level command.
        for args in (("COMMAND",), ("COMMAND", "INFO")):
            got = ours.call(*args)
            if got[0] != "arr" or sorted(e[1][0][1] for e in got[1]) != sorted(top):
                diffs.append("RESP%d %s: wrong set of commands" % (resp, " ".join(args)))
        got = ours.call("COMMAND", "DOCS")
        if got[0] not in ("map", "arr") or sorted(got[1][0::2]) != sorted(("bulk", t) for t in top):
            diffs.append("RESP%d COMMAND DOCS: wrong set of commands" % resp)

        # GETKEYS, errors included, and HELP.
        for args in GETKEYS_CASES:
            same_bytes("COMMAND", "GETKEYS", *args)
        for args in (("COMMAND", "HELP"), ("COMMAND", "LIST", "x"),
                     ("COMMAND", "LIST", "FILTERBY"), ("COMMAND", "LIST", "FILTERBY", "foo", "x"),
                     ("COMMAND", "LIST", "FILTERBY", "pattern", "a", "b"),
                     ("command", "list", "filterby", "pattern", "GET")):
            same_bytes(*args)
        ours.close()
        ref.close()
    return diffs


def _fix_docs_multi(t):
    """A multi-name DOCS reply with each value's summary masked."""
    v = t[1]
    out = []
    for k in range(0, len(v), 2):
        out += [v[k], _strip_docs(v[k + 1], None)]
    return (t[0], out)


GETKEYS_CASES = [
    ("foo", "x"), ("get", "k"), ("GET", "k"), ("set", "k"), ("set", "k", "v"),
    ("set", "k", "v", "EX", "10"), ("ping", "x"), ("mget", "a", "b", "c"),
    ("mset", "a", "1", "b"), ("mset", "a", "1", "b", "2"), ("msetnx", "a"),
    ("del", "a", "b"), ("exists", "a"), ("touch", "a", "b"), ("unlink", "x"),
    ("rename", "a", "b"), ("renamenx", "a", "b"), ("copy", "a", "b", "DB", "1"),
    ("lcs", "a", "b"), ("lcs", "a"), ("getex", "k", "persist"), ("expire", "k", "1"),
    ("object", "encoding"), ("object", "encoding", "k"), ("OBJECT", "Freq", "k"),
    ("object", "help"), ("object", "foo", "k"), ("memory", "usage", "k", "SAMPLES", "5"),
    ("memory", "usage"), ("client", "list"), ("client", "nosuch"), ("config", "get", "x"),
    ("debug", "object", "k"), ("keys", "*"), ("scan", "0"), ("move", "k", "1"),
    ("bitfield", "k", "GET", "u8", "0"), ("bitcount", "k"), ("getrange", "k", "0"),
    ("getrange", "k", "0", "1"), ("command", "info"), ("info", "x"),
    ("bitop", "and", "d"), ("bitop", "and", "d", "s"), ("bitop", "or", "d", "s1", "s2"),
]


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: check_cmdtable.py PERCORE_PORT [REDIS_PORT]")
    percore = int(sys.argv[1])
    proc = d = None
    if len(sys.argv) > 2:
        redis = int(sys.argv[2])
    else:
        proc, redis, d = gen.start_reference()
    try:
        diffs = compare(percore, redis)
    finally:
        if proc:
            proc.terminate()
            proc.wait()
            import shutil
            shutil.rmtree(d, ignore_errors=True)
    for x in diffs:
        print(x)
    print("%d differences" % len(diffs))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
