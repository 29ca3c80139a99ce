#!/usr/bin/python3
"""gen_cmdmeta.py -- generate src/cmd/cmd_meta_data.c from a reference Redis.

Reads COMMAND INFO and COMMAND DOCS (RESP3, so maps, sets and status
replies keep their types) from a redis-server 7.0.x for every command and
subcommand percore implements, and writes the facts as C initialisers of
the structures in src/cmd/cmd_meta.h. Facts (arity, flags, key positions,
key specs, ACL categories, tips, since, group, complexity, history,
arguments) are taken as the reference reports them; the one-line
summaries are our own words, kept in SUMMARY below.

Usage: /usr/bin/python3 tools/gen_cmdmeta.py [--port N] [--out FILE]
Without --port a temporary redis-server is started on a free port.
With --stubs it instead writes tests/unit/stub_handlers.c: weak definitions
of every handler declared in src/cmd/handlers.h, so that unit tests can
link the command table before (or without) the real handlers.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# Our commands: name -> list of subcommands (None: not a container).
COMMANDS = [
    ("get", None), ("set", None), ("setnx", None), ("setex", None), ("psetex", None),
    ("getex", None), ("getdel", None), ("getset", None), ("mget", None), ("mset", None),
    ("msetnx", None), ("append", None), ("strlen", None), ("getrange", None),
    ("substr", None), ("setrange", None), ("incr", None), ("decr", None), ("incrby", None),
    ("decrby", None), ("incrbyfloat", None), ("lcs", None), ("setbit", None),
    ("getbit", None), ("bitcount", None), ("bitpos", None), ("bitop", None),
    ("bitfield", None), ("bitfield_ro", None),
    ("del", None), ("unlink", None), ("exists", None), ("touch", None), ("type", None),
    ("expire", None), ("pexpire", None), ("expireat", None), ("pexpireat", None),
    ("ttl", None), ("pttl", None), ("expiretime", None), ("pexpiretime", None),
    ("persist", None), ("keys", None), ("scan", None), ("randomkey", None),
    ("dbsize", None), ("flushdb", None), ("flushall", None), ("swapdb", None),
    ("rename", None), ("renamenx", None), ("copy", None), ("move", None),
    ("object", ["encoding", "refcount", "idletime", "freq", "help"]),
    ("memory", ["usage", "stats", "purge", "malloc-stats", "help"]),
    ("multi", None), ("exec", None), ("discard", None), ("watch", None), ("unwatch", None),
    ("ping", None), ("echo", None), ("quit", None), ("reset", None), ("hello", None),
    ("auth", None), ("select", None),
    ("client", ["id", "setname", "getname", "setinfo", "info", "reply", "no-evict",
                "unblock", "help", "list", "kill", "pause", "unpause"]),
    ("info", None), ("time", None), ("lastsave", None), ("shutdown", None),
    ("monitor", None), ("debug", None),
    ("command", ["count", "info", "docs", "list", "getkeys", "help"]),
    ("config", ["get", "set", "resetstat", "rewrite", "help"]),
]

# Facts of subcommands the reference (7.0) lacks: taken from Redis 7.2's
# published command documentation. Same shape as the parsed replies.
ST = lambda s: ("+", s)
BU = lambda s: ("bulk", s)
def _load_type_lists():
    """Each data type keeps its own command list and summaries in
    tools/cmds/<type>.py (COMMANDS and SUMMARY, same shapes as here)."""
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cmds")
    if not os.path.isdir(d):
        return
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".py"):
            ns = {}
            with open(os.path.join(d, fn)) as f:
                exec(compile(f.read(), fn, "exec"), ns)
            COMMANDS.extend(ns.get("COMMANDS", []))
            SUMMARY.update(ns.get("SUMMARY", {}))


def _map(*kv):
    return ("map", list(kv))
OVERRIDES = {
    "client|setinfo": {
        "info": ("arr", [BU("client|setinfo"), ("int", 4),
                         ("set", [ST("noscript"), ST("loading"), ST("stale")]),
                         ("int", 0), ("int", 0), ("int", 0),
                         ("set", [ST("@slow"), ST("@connection")]),
                         ("set", []), ("arr", []), ("arr", [])]),
        "docs": _map(BU("summary"), BU(""), BU("since"), BU("7.2.0"),
                     BU("group"), BU("connection"), BU("complexity"), BU("O(1)"),
                     BU("arguments"), ("arr", [_map(
                         BU("name"), BU("attr"), BU("type"), BU("oneof"),
                         BU("arguments"), ("arr", [
                             _map(BU("name"), BU("libname"), BU("type"), BU("string"),
                                  BU("token"), BU("LIB-NAME")),
                             _map(BU("name"), BU("libver"), BU("type"), BU("string"),
                                  BU("token"), BU("LIB-VER"))]))])),
    },
}

# One-line summaries, in our own words.
SUMMARY = {
    "watch": "Abort the next EXEC if any of the given keys changes before it",
    "unwatch": "Stop watching every key watched by this connection",
    "get": "Read the string stored at a key",
    "set": "Store a string at a key, with optional expiry and conditions",
    "setnx": "Store a string only when the key is absent",
    "setex": "Store a string with a time to live in seconds",
    "psetex": "Store a string with a time to live in milliseconds",
    "getex": "Read a string and change or drop its expiry",
    "getdel": "Read a string and remove its key",
    "getset": "Store a string and return the previous one",
    "mget": "Read the strings of several keys",
    "mset": "Store several strings at once",
    "msetnx": "Store several strings only if none of the keys exists",
    "append": "Add bytes to the end of a string",
    "strlen": "Length in bytes of a string value",
    "getrange": "Read a slice of a string",
    "substr": "Read a slice of a string (old name of GETRANGE)",
    "setrange": "Overwrite part of a string starting at an offset",
    "incr": "Add one to the integer stored at a key",
    "decr": "Subtract one from the integer stored at a key",
    "incrby": "Add an integer to the integer stored at a key",
    "decrby": "Subtract an integer from the integer stored at a key",
    "incrbyfloat": "Add a floating point number to the number stored at a key",
    "lcs": "Longest common subsequence of two strings",
    "setbit": "Set or clear one bit of a string",
    "getbit": "Read one bit of a string",
    "bitcount": "Count the set bits of a string or of a range of it",
    "bitpos": "Position of the first set or clear bit of a string",
    "bitop": "Combine strings bitwise and store the result",
    "bitfield": "Read and write integer fields packed in a string",
    "bitfield_ro": "Read integer fields packed in a string",
    "del": "Remove keys",
    "unlink": "Remove keys, freeing their memory in the background",
    "exists": "Count how many of the given keys exist",
    "touch": "Refresh the access time of keys and count those that exist",
    "type": "Name of the type of the value at a key",
    "expire": "Give a key a time to live in seconds",
    "pexpire": "Give a key a time to live in milliseconds",
    "expireat": "Make a key expire at a Unix time in seconds",
    "pexpireat": "Make a key expire at a Unix time in milliseconds",
    "ttl": "Remaining time to live of a key, in seconds",
    "pttl": "Remaining time to live of a key, in milliseconds",
    "expiretime": "Unix time in seconds at which a key expires",
    "pexpiretime": "Unix time in milliseconds at which a key expires",
    "persist": "Drop the expiry of a key",
    "keys": "List the keys that match a glob pattern",
    "scan": "Walk the keyspace a batch at a time with a cursor",
    "randomkey": "Pick a key at random",
    "dbsize": "Number of keys in the selected database",
    "flushdb": "Remove every key of the selected database",
    "flushall": "Remove every key of every database",
    "swapdb": "Exchange the contents of two databases",
    "rename": "Give a key a new name, replacing any key of that name",
    "renamenx": "Give a key a new name only if that name is free",
    "copy": "Duplicate the value of a key under another key",
    "move": "Move a key to another database",
    "object": "Subcommands that inspect stored values",
    "object|encoding": "Internal representation of the value at a key",
    "object|refcount": "Reference count of the value at a key",
    "object|idletime": "Seconds since the value at a key was last used",
    "object|freq": "Access frequency counter of the value at a key",
    "object|help": "Describe the OBJECT subcommands",
    "memory": "Subcommands about memory use",
    "memory|usage": "Approximate bytes used by a key and its value",
    "memory|help": "Describe the MEMORY subcommands",
    "memory|stats": "Report how the server's memory is used",
    "memory|purge": "Return the allocator's free pages to the system",
    "memory|malloc-stats": "Report the allocator's own statistics",
    "multi": "Start queueing commands for one atomic transaction",
    "exec": "Run every command queued since MULTI, atomically",
    "discard": "Drop the commands queued since MULTI",
    "ping": "Check that the server answers",
    "echo": "Reply with the given message",
    "quit": "Close the connection",
    "reset": "Return the connection to its initial state",
    "hello": "Handshake: choose the protocol version and optionally log in",
    "auth": "Log the connection in",
    "select": "Switch the connection to another database",
    "client": "Subcommands that inspect and control connections",
    "client|id": "Numeric id of this connection",
    "client|setname": "Give this connection a name",
    "client|getname": "Name of this connection",
    "client|setinfo": "Record the client library name or version",
    "client|info": "Describe this connection",
    "client|reply": "Turn replies to this connection on, off or skip one",
    "client|no-evict": "Exempt this connection from client eviction",
    "client|unblock": "Wake a connection blocked in a command",
    "client|help": "Describe the CLIENT subcommands",
    "client|list": "Describe the open connections",
    "client|kill": "Close connections chosen by address, id or other filters",
    "client|pause": "Hold the processing of client commands for a while",
    "client|unpause": "Resume the processing of client commands",
    "info": "Server information and statistics",
    "time": "Current server time",
    "lastsave": "Unix time of the last successful save",
    "shutdown": "Stop the server",
    "monitor": "Stream every command the server processes",
    "debug": "Subcommands for testing and debugging the server",
    "command": "Details about the commands of the server",
    "command|count": "Number of commands of the server",
    "command|info": "Details about some or all commands",
    "command|docs": "Documentation of some or all commands",
    "command|list": "Names of the commands, optionally filtered",
    "command|getkeys": "Key arguments of a complete command",
    "command|help": "Describe the COMMAND subcommands",
    "config": "Subcommands that read and change the configuration",
    "config|get": "Read configuration parameters",
    "config|set": "Change configuration parameters at run time",
    "config|resetstat": "Reset the server statistics",
    "config|rewrite": "Write the running configuration to the config file",
    "config|help": "Describe the CONFIG subcommands",
}
_load_type_lists()

CMD_FLAGS = {
    "write": "CMD_WRITE", "readonly": "CMD_READONLY", "denyoom": "CMD_DENYOOM",
    "admin": "CMD_ADMIN", "pubsub": "CMD_PUBSUB", "noscript": "CMD_NOSCRIPT",
    "blocking": "CMD_BLOCKING", "loading": "CMD_LOADING", "stale": "CMD_STALE",
    "skip_monitor": "CMD_SKIP_MONITOR", "skip_slowlog": "CMD_SKIP_SLOWLOG",
    "asking": "CMD_ASKING", "fast": "CMD_FAST", "no_auth": "CMD_NO_AUTH",
    "may_replicate": "CMD_MAY_REPLICATE", "no_mandatory_keys": "CMD_NO_MANDATORY_KEYS",
    "no_async_loading": "CMD_NO_ASYNC_LOADING", "no_multi": "CMD_NO_MULTI",
    "movablekeys": "CMD_MOVABLE_KEYS", "allow_busy": "CMD_ALLOW_BUSY",
}
ACL_CATS = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
            "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
            "blocking", "dangerous", "connection", "transaction", "scripting"]
KS_FLAGS = {"RO": "CMD_KS_RO", "RW": "CMD_KS_RW", "OW": "CMD_KS_OW", "RM": "CMD_KS_RM",
            "access": "CMD_KS_ACCESS", "update": "CMD_KS_UPDATE", "insert": "CMD_KS_INSERT",
            "delete": "CMD_KS_DELETE", "not_key": "CMD_KS_NOT_KEY",
            "incomplete": "CMD_KS_INCOMPLETE", "variable_flags": "CMD_KS_VARIABLE_FLAGS"}
DOC_FLAGS = {"deprecated": "CMD_DOC_DEPRECATED", "syscmd": "CMD_DOC_SYSCMD"}
ARG_FLAGS = {"optional": "CMD_ARG_OPTIONAL", "multiple": "CMD_ARG_MULTIPLE",
             "multiple_token": "CMD_ARG_MULTIPLE_TOKEN"}


# ---------------------------------------------------------------- RESP3 I/O
def resp_encode(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    """A raw RESP connection that keeps reply types: (type, value) tuples."""

    def __init__(self, port, resp=2):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
        if resp == 3:
            self.call("HELLO", "3")

    def raw(self, *args):
        """Send one command, return the bytes of its reply."""
        self.s.sendall(resp_encode(args))
        while True:
            try:
                _, end = parse(self.buf, 0)
            except (IndexError, ValueError):
                more = self.s.recv(1 << 20)
                if not more:
                    raise EOFError("connection closed")
                self.buf += more
                continue
            out, self.buf = self.buf[:end], self.buf[end:]
            return out

    def call(self, *args):
        return parse(self.raw(*args), 0)[0]

    def close(self):
        self.s.close()


def parse(b, i):
    """Parse one RESP2/3 element at b[i:]; returns ((type, value), end).
    Raises IndexError/ValueError when the input is incomplete."""
    j = b.index(b"\r\n", i)
    t, line = b[i:i + 1], b[i + 1:j]
    i = j + 2
    if t == b"+":
        return ("+", line.decode()), i
    if t == b"-":
        return ("-", line.decode()), i
    if t == b":":
        return ("int", int(line)), i
    if t == b"_":
        return ("null", None), i
    if t in (b"$", b"="):
        n = int(line)
        if n < 0:
            return ("null", None), i
        if len(b) < i + n + 2:
            raise IndexError("incomplete")
        return ("bulk", b[i:i + n].decode()), i + n + 2
    if t in (b"*", b"~", b"%", b">"):
        n = int(line)
        if n < 0:
            return ("null", None), i
        items = []
        for _ in range(n * 2 if t == b"%" else n):
            v, i = parse(b, i)
            items.append(v)
        return ({b"*": "arr", b"~": "set", b"%": "map", b">": "push"}[t], items), i
    if t == b",":
        return ("double", line.decode()), i
    if t == b"#":
        return ("bool", line == b"t"), i
    raise ValueError("bad type %r" % t)


def pairs(m):
    assert m[0] == "map", m
    v = m[1]
    return [(v[k][1], v[k + 1]) for k in range(0, len(v), 2)]


def start_reference():
    """Start a throwaway redis-server; returns (process, port, dir)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    d = tempfile.mkdtemp(prefix="gencmd")
    p = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly",
                          "no", "--dir", d], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return p, port, d
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("reference redis-server did not start")


def fullnames():
    for name, subs in COMMANDS:
        yield name
        for s in subs or []:
            yield name + "|" + s


def fetch(port):
    """Returns {fullname: {"info": tree, "docs": tree}} for our commands."""
    c = Conn(port, 3)
    out = {}
    for fn in fullnames():
        if fn in OVERRIDES:
            out[fn] = OVERRIDES[fn]
            continue
        info = c.call("COMMAND", "INFO", fn)
        docs = c.call("COMMAND", "DOCS", fn)
        assert info[0] == "arr" and info[1][0][0] == "arr", (fn, info)
        d = pairs(docs)
        assert len(d) == 1, (fn, docs)
        out[fn] = {"info": info[1][0], "docs": d[0][1]}
    c.close()
    return out


# ---------------------------------------------------------------- C output
def cstr(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ident(fn):
    return fn.replace("|", "_").replace("-", "_")


def bits(names, table):
    if not names:
        return "0"
    return " | ".join(table[n] for n in names)


class Emitter:
    def __init__(self):
        self.out = []

    def w(self, s=""):
        self.out.append(s)

    def table(self, ctype, name, rows):
        """Emit `static const CTYPE NAME[] = {ROWS};`, one row a line."""
        self.w("static const %s %s[] = {" % (ctype, name))
        for r in rows:
            self.w(r)
        self.w("};")

    def args(self, base, args):
        """Emit an argument array (children first); returns its C name."""
        rows = []
        for k, a in enumerate(args):
            f = dict(pairs(a))
            known = {"name", "type", "key_spec_index", "token", "since",
                     "deprecated_since", "flags", "arguments"}
            assert set(f) <= known, (base, set(f) - known)
            sub = "NULL"
            nsub = 0
            if "arguments" in f:
                sub = self.args("%s_%d" % (base, k), f["arguments"][1])
                nsub = len(f["arguments"][1])
            flags = bits([x[1] for x in f["flags"][1]], ARG_FLAGS) if "flags" in f else "0"
            rows.append("    {%s, %s, %d, %s, %s, %s, %s, %s, %d}," % (
                cstr(f["name"][1]), cstr(f["type"][1]),
                f["key_spec_index"][1] if "key_spec_index" in f else -1,
                cstr(f.get("token", (0, None))[1]), cstr(f.get("since", (0, None))[1]),
                cstr(f.get("deprecated_since", (0, None))[1]), flags, sub, nsub))
        name = "args_" + base
        self.table("cmd_arg", name, rows)
        return name

    def keyspecs(self, base, specs):
        rows = []
        for s in specs:
            f = dict(pairs(s))
            notes = f["notes"][1] if "notes" in f else None
            flags = bits([x[1] for x in f["flags"][1]], KS_FLAGS)
            bs = dict(pairs(f["begin_search"]))
            bss = dict(pairs(bs["spec"]))
            fk = dict(pairs(f["find_keys"]))
            fks = dict(pairs(fk["spec"]))
            bt = bs["type"][1]
            if bt == "index":
                b = "CMD_BS_INDEX, %d, NULL, 0" % bss["index"][1]
            elif bt == "keyword":
                b = "CMD_BS_KEYWORD, 0, %s, %d" % (cstr(bss["keyword"][1]),
                                                  bss["startfrom"][1])
            else:
                b = "CMD_BS_UNKNOWN, 0, NULL, 0"
            ft = fk["type"][1]
            if ft == "range":
                k = "CMD_FK_RANGE, %d, %d, %d" % (fks["lastkey"][1], fks["keystep"][1],
                                                 fks["limit"][1])
            elif ft == "keynum":
                k = "CMD_FK_KEYNUM, %d, %d, %d" % (fks["keynumidx"][1], fks["firstkey"][1],
                                                  fks["keystep"][1])
            else:
                k = "CMD_FK_UNKNOWN, 0, 0, 0"
            rows.append("    {%s, %s, %s, %s}," % (cstr(notes), flags, b, k))
        name = "ks_" + base
        self.table("cmd_keyspec", name, rows)
        return name

    def meta(self, fn, info, docs):
        base = ident(fn)
        v = info[1]
        acl = [x[1] for x in v[6][1]]
        assert all(a.startswith("@") for a in acl), acl
        acl_expr = " | ".join("CMD_ACL_BIT(CMD_ACL_%s)" % a[1:].upper() for a in acl) or "0"
        tips = [x[1] for x in v[7][1]]
        tips_name = "NULL"
        if tips:
            tips_name = "tips_" + base
            self.w("static const char *const %s[] = {%s, NULL};" % (
                tips_name, ", ".join(cstr(t) for t in tips)))
        ks_name, nks = "NULL", len(v[8][1])
        if nks:
            ks_name = self.keyspecs(base, v[8][1])
        d = dict(pairs(docs))
        known = {"summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
                 "replaced_by", "history", "arguments", "subcommands"}
        assert set(d) <= known, (fn, set(d) - known)
        hist_name, nhist = "NULL", 0
        if "history" in d:
            hist = d["history"][1]
            nhist = len(hist)
            hist_name = "hist_" + base
            self.table("cmd_history", hist_name,
                       ["    {%s, %s}," % (cstr(h[1][0][1]), cstr(h[1][1][1])) for h in hist])
        args_name, nargs = "NULL", 0
        if "arguments" in d:
            nargs = len(d["arguments"][1])
            args_name = self.args(base, d["arguments"][1])
        dflags = bits([x[1] for x in d["doc_flags"][1]], DOC_FLAGS) if "doc_flags" in d else "0"
        g = lambda k: cstr(d[k][1]) if k in d else "NULL"
        self.w("static const cmd_meta meta_%s = {" % base)
        self.w("    .acl = %s," % acl_expr)
        self.w("    .tips = %s," % tips_name)
        self.w("    .keyspecs = %s," % ks_name)
        self.w("    .nkeyspecs = %d," % nks)
        self.w("    .summary = %s," % cstr(SUMMARY[fn]))
        self.w("    .since = %s," % g("since"))
        self.w("    .group = %s," % g("group"))
        self.w("    .complexity = %s," % g("complexity"))
        self.w("    .doc_flags = %s," % dflags)
        self.w("    .deprecated_since = %s," % g("deprecated_since"))
        self.w("    .replaced_by = %s," % g("replaced_by"))
        self.w("    .history = %s," % hist_name)
        self.w("    .nhistory = %d," % nhist)
        self.w("    .args = %s," % args_name)
        self.w("    .nargs = %d," % nargs)
        self.w("};")
        self.w()


def generate(data):
    e = Emitter()
    e.w("/* cmd_meta_data.c -- GENERATED by tools/gen_cmdmeta.py from the COMMAND INFO and")
    e.w(" * COMMAND DOCS replies of a reference redis-server; do not edit by hand.")
    e.w(" * Read-only data, shared by every shard thread. The summaries are our own")
    e.w(" * words; every other field is as the reference reports it. */")
    e.w('#include "cmd_meta.h"')
    e.w()
    for fn in fullnames():
        e.meta(fn, data[fn]["info"], data[fn]["docs"])
    e.w("const cmd_meta_ref cmd_meta_refs[] = {")
    for fn in fullnames():
        v = data[fn]["info"][1]
        flags = bits([x[1] for x in v[2][1]], CMD_FLAGS)
        e.w("    {%s, &meta_%s, %d, %s, %d, %d, %d}," % (
            cstr(fn), ident(fn), v[1][1], flags, v[3][1], v[4][1], v[5][1]))
    e.w("    {NULL, NULL, 0, 0, 0, 0, 0},")
    e.w("};")
    return "\n".join(e.out) + "\n"


def write_stubs(root):
    """Write tests/unit/stub_handlers.c from src/cmd/handlers.h."""
    hdr = open(os.path.join(root, "src", "cmd", "handlers.h")).read()
    out = ["/* stub_handlers.c -- GENERATED by tools/gen_cmdmeta.py --stubs; test-only.",
           " * Weak definitions of every handler of src/cmd/handlers.h so unit tests",
           " * can link the command table alone; real definitions override them. */",
           '#include "cmd/handlers.h"', "",
           "#define WEAK __attribute__((weak))", ""]
    n = 0
    for m in re.finditer(r"^(void|int) (\w+)\(([^)]*)\);$", hdr, re.M):
        ret, name, params = m.groups()
        named = ", ".join("%s __attribute__((unused))" % p.strip() for p in params.split(","))
        body = "{ return -1; }" if ret == "int" else "{}"
        out.append("WEAK %s %s(%s) %s" % (ret, name, named, body))
        n += 1
    path = os.path.join(root, "tests", "unit", "stub_handlers.c")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote %s (%d stubs)" % (path, n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, help="use a running reference server")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "src",
                                                  "cmd", "cmd_meta_data.c"))
    ap.add_argument("--stubs", action="store_true", help="write tests/unit/stub_handlers.c")
    a = ap.parse_args()
    if a.stubs:
        write_stubs(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        return
    missing = [fn for fn in fullnames() if fn not in SUMMARY]
    if missing:
        sys.exit("no summary for: " + ", ".join(missing))
    proc = d = None
    port = a.port
    if port is None:
        proc, port, d = start_reference()
    try:
        data = fetch(port)
    finally:
        if proc:
            proc.terminate()
            proc.wait()
            shutil.rmtree(d, ignore_errors=True)
    text = generate(data)
    with open(a.out, "w") as f:
        f.write(text)
    print("wrote %s (%d commands)" % (a.out, len(data)))


if __name__ == "__main__":
    main()
