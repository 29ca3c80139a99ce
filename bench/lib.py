"""lib.py -- helpers shared by bench.py: server processes, a pipelined bulk
loader, the value redis-benchmark writes, and /proc readings.

Servers are started on free 127.0.0.1 ports with no persistence
(--save "" --appendonly no) and their output goes to a log file under
bench/out/logs/. Everything here runs in the benchmark's single process.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import redis

HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A failed check: the run stops with this message."""


def free_port():
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def bench_value(size):
    """The value redis-benchmark 7.0 sends with -d SIZE: its generator is a
    fixed-seed LCG run once per process, so every SET/MSET/LPUSH/HSET of a
    run carries these exact bytes."""
    state, out = 1234, bytearray(size)
    for i in range(size):
        state = (state * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = ord("0") + ((state >> 16) & 63)
    return bytes(out)


def bench_key(i):
    """redis-benchmark's key name for random number i (-r): key:%012d."""
    return b"key:%012d" % i


class Server:
    """One server process (percore or redis) on a free port.

    name: "percore" or "redis"; binary: its executable; extra: more
    arguments; wrap: a command prefix (valgrind ...). The process is ours
    until stop()."""

    def __init__(self, name, binary, logdir, extra=(), wrap=(), tag=""):
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{name}-")
        args = [binary, "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--dir", self.dir, *extra]
        os.makedirs(logdir, exist_ok=True)
        self.log = os.path.join(logdir, f"{name}{tag}.log")
        with open(self.log, "w") as lf:
            self.proc = subprocess.Popen([*wrap, *args], stdout=lf, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        self.client = None

    def wait_ready(self, timeout=10.0):
        """Block until the server answers PING; raise if it died or timed out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited at start (rc {self.proc.returncode}); "
                                 f"see {self.log}")
            try:
                c = redis.Redis(host=HOST, port=self.port, socket_timeout=60)
                c.ping()
                self.client = c
                return self
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise BenchError(f"{self.name} not ready after {timeout}s; see {self.log}")

    def alive(self):
        if self.proc.poll() is not None:
            raise BenchError(f"{self.name} died (rc {self.proc.returncode}); see {self.log}")

    def rss_kb(self):
        """VmRSS of the server process in kB."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BenchError(f"no VmRSS for pid {self.pid}")

    def cpu_seconds(self):
        """utime+stime of the whole process (all threads), in seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stop(self, timeout=120.0):
        """SHUTDOWN NOSAVE, then SIGTERM/SIGKILL if it lingers; waits for exit
        (valgrind writes its profile at exit, hence the long timeout)."""
        if self.proc.poll() is None:
            try:
                redis.Redis(host=HOST, port=self.port, socket_timeout=5).shutdown(nosave=True)
            except redis.exceptions.RedisError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def is_unknown_command(client, *args):
    """True when the server answers args with "-ERR unknown command"."""
    try:
        client.execute_command(*args)
    except redis.exceptions.ResponseError as e:
        return str(e).startswith("unknown command")
    return False


def send_expect(port, commands, reply, chunk=10000):
    """Send the commands (sequences of bytes) pipelined over one raw
    connection, chunk at a time, and require every reply to equal `reply`
    (bytes such as b"+OK\\r\\n"). Raises BenchError naming the (0-based)
    command whose reply differs.
    Bulk loads and full read-backs both go through here. A chunk's replies
    are kept under ~1 MB so that neither side blocks writing."""
    chunk = max(1, min(chunk, (1 << 20) // len(reply)))
    with socket.create_connection((HOST, port)) as s:
        batch, done = [], [0]  # done[0]: replies checked in earlier chunks

        def flush():
            s.sendall(b"".join(batch))
            want = memoryview(reply * len(batch))
            got = bytearray()
            while len(got) < len(want):
                data = s.recv(1 << 20)
                if not data:
                    raise BenchError(f"connection closed by the server on port {port}")
                if want[len(got):len(got) + len(data)] != data:
                    at = len(got) + next(i for i in range(len(data))
                                         if len(got) + i >= len(want) or want[len(got) + i] != data[i])
                    got += data
                    at -= at % len(reply)
                    raise BenchError(f"reply to command {done[0] + at // len(reply)} is "
                                     f"{bytes(got[at:at + 80])!r}, expected {reply[:80]!r}")
                got += data
            done[0] += len(batch)
            batch.clear()

        for args in commands:
            parts = [b"*%d\r\n" % len(args)]
            for a in args:
                parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
            batch.append(b"".join(parts))
            if len(batch) == chunk:
                flush()
        if batch:
            flush()
