"""conftest.py -- fixtures for percore's black-box integration tests.

Starts the servers the tests talk to, all bound to 127.0.0.1 on free ports:
  * a reference Redis (/usr/bin/redis-server, no persistence), once per session;
  * percore, once per session: the binary named by $PERCORE_BIN (default
    build/percore-server), run as `--port P --bind 127.0.0.1 --threads 2
    --dir <tmp> --save ''`. $PERCORE_PREFIX, if set, is a command prefix
    (e.g. `setarch x86_64 -R`) placed before it; $PERCORE_ARGS (shlex-split)
    are extra arguments placed after the usual ones (before a test's own).
Each test that uses them gets both servers flushed (FLUSHALL) and fresh
connections. A server that died during a test fails that test with the tail
of its log and is restarted for the next one. At exit percore is stopped
with SIGTERM and its log is searched for sanitizer reports, which fail the
session.

Fixtures: `diff` (differential checks against Redis), `percore_port`,
`redis_port`, `server` (factory: a private percore with extra arguments),
`ref_server` (factory: a private reference Redis with extra arguments).
Everything here runs in the pytest process.
"""

import os
import resource
import shlex
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import redis as redis_py

from respclient import RespConn, wait_ping

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
REDIS_BIN = "/usr/bin/redis-server"
START_TIMEOUT = float(os.environ.get("PERCORE_START_TIMEOUT", "10"))

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "WARNING: ThreadSanitizer",
    "ERROR: ThreadSanitizer",
    "runtime error:",
)
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL}


def _raise_nofile():
    """Lift RLIMIT_NOFILE as far as allowed so that both this process and
    the servers it starts (which inherit it) can hold 10,000+ sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (65536, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
            return
        except (ValueError, OSError):
            continue


_raise_nofile()


def percore_bin():
    """Absolute path of the percore binary under test."""
    p = Path(os.environ.get("PERCORE_BIN", "build/percore-server"))
    return p if p.is_absolute() else REPO / p


def free_port():
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class ServerProc:
    """One server process writing stdout+stderr to a log file."""

    def __init__(self, name, argv_fn, workdir):
        self.name = name
        self.argv_fn = argv_fn          # port -> argv
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.port = None
        self.log_path = None
        self.log_offset = 0
        self.starts = 0
        self.problems = []              # sanitizer/crash reports found so far

    def start(self):
        """Start on a fresh port and wait for PING; pytest.fail with the log
        on timeout or early death."""
        self.starts += 1
        self.port = free_port()
        self.log_path = self.workdir / ("%s.%d.log" % (self.name, self.starts))
        self.log_offset = 0
        argv = self.argv_fn(self.port)
        with open(self.log_path, "wb") as log:
            log.write(("$ %s\n" % " ".join(shlex.quote(a) for a in argv)).encode())
            log.flush()
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=str(self.workdir))
        if not wait_ping(HOST, self.port, START_TIMEOUT, alive=self.alive):
            self.stop()
            pytest.fail("%s did not answer PING within %.0f s on port %d\n%s"
                        % (self.name, START_TIMEOUT, self.port, self.log_tail()), pytrace=False)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""

    def log_tail(self, lines=80):
        return "---- %s log (%s) ----\n%s" % (
            self.name, self.log_path, "\n".join(self.log_text().splitlines()[-lines:]))

    def new_sanitizer_report(self):
        """Sanitizer text written since the last call, or ''."""
        text = self.log_text()
        fresh = text[self.log_offset:]
        self.log_offset = len(text)
        if any(m in fresh for m in SANITIZER_MARKERS):
            return fresh
        return ""

    def stop(self, timeout=15.0):
        """SIGTERM, wait, then SIGKILL. Returns a problem description or ''."""
        if self.proc is None:
            return ""
        problem = ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problem = "%s did not exit within %.0f s of SIGTERM\n" % (self.name, timeout)
        rc = self.proc.returncode
        if rc is not None and rc < 0 and -rc in CRASH_SIGNALS:
            problem += "%s died from signal %d\n" % (self.name, -rc)
        report = self.new_sanitizer_report()
        if report:
            problem += "%s sanitizer report:\n%s\n" % (self.name, report[-20000:])
        self.proc = None
        return problem


def percore_args():
    """$PERCORE_ARGS, shlex-split: extra arguments for every percore started
    (e.g. `--io-engine epoll` to run the suite against the epoll engine)."""
    return shlex.split(os.environ.get("PERCORE_ARGS", ""))


def percore_argv(workdir, extra=()):
    prefix = shlex.split(os.environ.get("PERCORE_PREFIX", ""))

    def argv(port):
        return prefix + [str(percore_bin()), "--port", str(port), "--bind", HOST,
                         "--threads", "2", "--dir", str(workdir), "--save", ""] + \
            percore_args() + list(extra)
    return argv


def redis_argv(extra=()):
    def argv(port):
        return [REDIS_BIN, "--port", str(port), "--save", "", "--appendonly", "no",
                "--bind", HOST] + list(extra)
    return argv


def _flushall(port):
    with RespConn(HOST, port, timeout=10) as c:
        r = c.call("FLUSHALL")
        assert r == b"+OK\r\n", "FLUSHALL on port %d replied %r" % (port, r)


class _Managed:
    """A session server plus the per-test bookkeeping around it."""

    def __init__(self, sp):
        self.sp = sp

    def before_test(self):
        if not self.sp.alive():
            self.sp.stop()
            self.sp.start()
        _flushall(self.sp.port)
        return self.sp.port

    def after_test(self):
        # A round trip first: a crash caused by the test's last command may
        # still be in progress when the test body returns.
        if not wait_ping(HOST, self.sp.port, 5.0, alive=self.sp.alive) and self.sp.alive():
            try:
                self.sp.proc.wait(5.0)
            except subprocess.TimeoutExpired:
                pass
        if not self.sp.alive():
            msg = "%s died during this test (rc=%s)\n%s" % (
                self.sp.name, self.sp.proc.returncode if self.sp.proc else None, self.sp.log_tail())
            self.sp.stop()
            pytest.fail(msg, pytrace=False)
        report = self.sp.new_sanitizer_report()
        if report:
            pytest.fail("%s sanitizer report during this test:\n%s" % (self.sp.name, report[-20000:]),
                        pytrace=False)


@pytest.fixture(scope="session")
def _percore_session(tmp_path_factory):
    work = tmp_path_factory.mktemp("percore")
    sp = ServerProc("percore", percore_argv(work / "data", ["--enable-debug-command", "yes"]), work)
    (work / "data").mkdir(exist_ok=True)
    sp.start()
    yield _Managed(sp)
    problem = sp.stop()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def _redis_session(tmp_path_factory):
    work = tmp_path_factory.mktemp("redis")
    sp = ServerProc("redis", redis_argv(["--enable-debug-command", "yes"]), work)
    sp.start()
    yield _Managed(sp)
    sp.stop()


@pytest.fixture
def percore_port(_percore_session):
    """Port of the session percore, flushed; checked for death after the test."""
    port = _percore_session.before_test()
    yield port
    _percore_session.after_test()


@pytest.fixture
def redis_port(_redis_session):
    """Port of the session reference Redis, flushed."""
    port = _redis_session.before_test()
    yield port
    _redis_session.after_test()


def _short(b, n=300):
    r = repr(bytes(b))
    return r if len(r) <= n else r[:n] + "...(%d bytes)" % len(b)


def _describe(args):
    parts = []
    for a in args:
        parts.append(_short(a if isinstance(a, (bytes, bytearray)) else str(a).encode(), 60))
    return " ".join(parts)


class Diff:
    """Differential access to percore and the reference Redis."""

    def __init__(self, percore_port, redis_port):
        self.percore_port = percore_port
        self.redis_port = redis_port
        self._p = None
        self._r = None
        self.percore = redis_py.Redis(host=HOST, port=percore_port, decode_responses=False,
                                      socket_timeout=30)
        self.redis = redis_py.Redis(host=HOST, port=redis_port, decode_responses=False,
                                    socket_timeout=30)
        self._extra = []

    @property
    def pconn(self):
        if self._p is None:
            self._p = RespConn(HOST, self.percore_port, timeout=30)
        return self._p

    @property
    def rconn(self):
        if self._r is None:
            self._r = RespConn(HOST, self.redis_port, timeout=30)
        return self._r

    def pair(self, timeout=30):
        """Two fresh raw connections (percore, redis), closed after the test."""
        p = RespConn(HOST, self.percore_port, timeout=timeout)
        r = RespConn(HOST, self.redis_port, timeout=timeout)
        self._extra += [p, r]
        return p, r

    def close(self):
        for c in [self._p, self._r] + self._extra:
            if c is not None:
                c.close()
        self.percore.close()
        self.redis.close()
        self.percore.connection_pool.disconnect()
        self.redis.connection_pool.disconnect()

    def both(self, *args):
        """Run one command on both servers; returns (percore_raw, redis_raw)."""
        self.pconn.send(*args)
        self.rconn.send(*args)
        return self.pconn.read_reply(), self.rconn.read_reply()

    def check(self, *args):
        """Run one command on both and assert identical reply bytes.
        Returns the reply."""
        p, r = self.both(*args)
        assert p == r, "reply differs for %s\n percore: %s\n redis:   %s" % (
            _describe(args), _short(p), _short(r))
        return p

    def check_many(self, cmds):
        """Pipeline every command of cmds (list of arg tuples) to both and
        assert that every reply is identical. Returns percore's replies."""
        cmds = [tuple(c) for c in cmds]
        ps = self.pconn.pipeline(cmds)
        rs = self.rconn.pipeline(cmds)
        for i, (c, p, r) in enumerate(zip(cmds, ps, rs)):
            assert p == r, "reply %d differs for %s\n percore: %s\n redis:   %s" % (
                i, _describe(c), _short(p), _short(r))
        return ps

    def raw(self, data, first_timeout=2.0, idle=0.25):
        """Send raw bytes to both servers on fresh connections and compare
        everything that comes back until the server closes or goes quiet.
        Asserts equal bytes and equal closed-ness; returns (bytes, closed)."""
        p, r = self.pair()
        for conn in (p, r):
            try:
                conn.send_raw(data)
            except (BrokenPipeError, ConnectionResetError):
                pass    # the server may close before taking everything
        res = {}

        def rd(name, conn):
            res[name] = conn.read_until_close(first_timeout, idle)

        ths = [threading.Thread(target=rd, args=("p", p)), threading.Thread(target=rd, args=("r", r))]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        assert res["p"] == res["r"], "raw exchange differs for %s\n percore: %s closed=%s\n redis:   %s closed=%s" % (
            _short(data, 120), _short(res["p"][0]), res["p"][1], _short(res["r"][0]), res["r"][1])
        return res["p"]

    def hello3(self):
        """Switch the diff connections of both servers to RESP3. Returns the
        pair of HELLO replies (they differ in the client id)."""
        p, r = self.both("HELLO", "3")
        assert p.startswith(b"%") and r.startswith(b"%"), (p, r)
        return p, r


@pytest.fixture
def diff(percore_port, redis_port):
    d = Diff(percore_port, redis_port)
    yield d
    d.close()


class _Private:
    """A server started for one test."""

    def __init__(self, sp):
        self.sp = sp
        self.port = sp.port
        self.host = HOST

    def conn(self, timeout=10):
        return RespConn(HOST, self.port, timeout=timeout)

    def client(self):
        return redis_py.Redis(host=HOST, port=self.port, decode_responses=False)

    def alive(self):
        return self.sp.alive()

    def log(self):
        return self.sp.log_text()

    @property
    def pid(self):
        return self.sp.proc.pid

    def cpu_seconds(self):
        """CPU time (user + system, all threads) the server has used."""
        f = open("/proc/%d/stat" % self.pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def server(tmp_path):
    """Factory: server(*extra_args) starts a private percore with the usual
    arguments plus extra_args and returns an object with .port, .conn(),
    .client(), .alive(), .log(). Stopped (and checked) after the test."""
    started = []

    def make(*extra):
        work = tmp_path / ("percore%d" % len(started))
        (work / "data").mkdir(parents=True)
        sp = ServerProc("percore", percore_argv(work / "data", [str(a) for a in extra]), work)
        started.append(sp)
        sp.start()
        return _Private(sp)

    yield make
    problems = [sp.stop() for sp in started]
    problems = [p for p in problems if p]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def ref_server(tmp_path):
    """Factory: ref_server(*extra_args) starts a private reference Redis."""
    started = []

    def make(*extra):
        work = tmp_path / ("redis%d" % len(started))
        sp = ServerProc("redis", redis_argv([str(a) for a in extra]), work)
        started.append(sp)
        sp.start()
        return _Private(sp)

    yield make
    for sp in started:
        sp.stop()

