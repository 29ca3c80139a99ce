"""respclient.py -- a small raw RESP client for the integration tests.

RespConn speaks RESP over one blocking TCP socket and hands back the exact
bytes of each reply, so tests can compare percore and Redis byte for byte.
It understands every RESP2 and RESP3 type (including attributes, which are
kept together with the reply they annotate). `parse` turns raw reply bytes
into Python values for tests that check meaning rather than bytes.

Runs in the pytest process only; one RespConn belongs to one thread.
"""

import socket
import threading
import time

CRLF = b"\r\n"

# Types whose payload is one line ending in CRLF.
_LINE_TYPES = frozenset(b"+-:_,#(")
# Types carrying a length-prefixed blob.
_BLOB_TYPES = frozenset(b"$!=")
# Aggregates: how many child replies per declared element.
_AGG_TYPES = {ord("*"): 1, ord("~"): 1, ord(">"): 1, ord("%"): 2, ord("|"): 2}


class RespError(Exception):
    """A protocol violation in a server's reply (not an error reply)."""


class ErrorReply:
    """An error reply as a value: `ErrorReply(b"ERR ...")`."""

    def __init__(self, msg):
        self.msg = msg

    def __eq__(self, other):
        return isinstance(other, ErrorReply) and other.msg == self.msg

    def __hash__(self):
        return hash(self.msg)

    def __repr__(self):
        return "ErrorReply(%r)" % (self.msg,)


def encode(*args):
    """Encode one command as a RESP multibulk. args may be str, bytes or int."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            a = str(a).encode()
        elif not isinstance(a, (bytes, bytearray, memoryview)):
            raise TypeError("cannot encode %r" % (a,))
        out.append(b"$%d\r\n" % len(a))
        out.append(bytes(a))
        out.append(CRLF)
    return b"".join(out)


def scan(buf, pos=0):
    """Find the end of one complete reply in buf starting at pos.

    Returns the offset just past the reply, or -1 when buf holds only part of
    it. Raises RespError on bytes that are not RESP. buf is borrowed.
    """
    n = len(buf)
    if pos >= n:
        return -1
    t = buf[pos]
    eol = buf.find(CRLF, pos)
    if eol < 0:
        return -1
    if t in _LINE_TYPES:
        return eol + 2
    if t in _BLOB_TYPES:
        if buf[pos + 1:eol] == b"?":
            return _scan_streamed_blob(buf, eol + 2)
        ln = int(buf[pos + 1:eol])
        if ln < 0:
            return eol + 2
        end = eol + 2 + ln + 2
        return end if end <= n else -1
    if t in _AGG_TYPES:
        head = buf[pos + 1:eol]
        p = eol + 2
        if head == b"?":
            while True:
                if p >= n:
                    return -1
                if buf[p:p + 3] == b".\r\n":
                    return p + 3
                p = scan(buf, p)
                if p < 0:
                    return -1
        cnt = int(head)
        if cnt < 0:
            return p
        for _ in range(cnt * _AGG_TYPES[t]):
            p = scan(buf, p)
            if p < 0:
                return -1
        if t == ord("|"):
            return scan(buf, p)
        return p
    raise RespError("bad reply type byte %r at %d: %r" % (chr(t), pos, bytes(buf[pos:pos + 40])))


def _scan_streamed_blob(buf, p):
    """Skip the ;len chunks of a streamed string (RESP3 `$?`)."""
    while True:
        eol = buf.find(CRLF, p)
        if eol < 0:
            return -1
        if buf[p] != ord(";"):
            raise RespError("bad streamed chunk")
        ln = int(buf[p + 1:eol])
        if ln == 0:
            return eol + 2
        p = eol + 2 + ln + 2
        if p > len(buf):
            return -1


def parse(raw):
    """Parse the bytes of one reply into Python values.

    Simple/bulk/verbatim strings -> bytes, integers and big numbers -> int,
    doubles -> float, booleans -> bool, nulls -> None, errors -> ErrorReply,
    arrays/sets/pushes -> list, maps -> dict (or a list of pairs when a key is
    not hashable). Attributes are dropped.
    """
    val, end = _parse(raw, 0)
    if end != len(raw):
        raise RespError("trailing bytes after reply")
    return val


def _parse(buf, pos):
    t = chr(buf[pos])
    eol = buf.find(CRLF, pos)
    line = bytes(buf[pos + 1:eol])
    p = eol + 2
    if t == "+":
        return line, p
    if t == "-":
        return ErrorReply(line), p
    if t in ":(":
        return int(line), p
    if t == "_":
        return None, p
    if t == ",":
        return float(line), p
    if t == "#":
        return line == b"t", p
    if t in "$!=":
        ln = int(line)
        if ln < 0:
            return None, p
        data = bytes(buf[p:p + ln])
        if t == "!":
            return ErrorReply(data), p + ln + 2
        if t == "=":
            data = data[4:]
        return data, p + ln + 2
    if t in "*~>%|":
        cnt = int(line)
        if cnt < 0:
            return None, p
        items = []
        per = 2 if t in "%|" else 1
        for _ in range(cnt * per):
            v, p = _parse(buf, p)
            items.append(v)
        if t == "|":
            return _parse(buf, p)
        if t == "%":
            pairs = list(zip(items[0::2], items[1::2]))
            try:
                return dict(pairs), p
            except TypeError:
                return pairs, p
        return items, p
    raise RespError("bad reply type %r" % t)


class RespConn:
    """One raw RESP connection. All reads honour `timeout` seconds."""

    def __init__(self, host, port, timeout=10.0):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.timeout = timeout

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, *args):
        """Send one command encoded as a multibulk."""
        self.sock.sendall(encode(*args))

    def send_raw(self, data):
        """Send bytes exactly as given."""
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection; unread %r" % bytes(self.buf[:200]))
        self.buf += chunk

    def read_reply(self):
        """Read exactly one reply and return its raw bytes."""
        while True:
            end = scan(self.buf, 0) if self.buf else -1
            if end >= 0:
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            self._fill()

    def read_replies(self, n):
        """Read n replies; returns a list of raw bytes."""
        out = []
        pos = 0
        while len(out) < n:
            end = scan(self.buf, pos) if pos < len(self.buf) else -1
            if end >= 0:
                out.append(bytes(self.buf[pos:end]))
                pos = end
                continue
            del self.buf[:pos]
            pos = 0
            self._fill()
        del self.buf[:pos]
        return out

    def call(self, *args):
        """Send one command and return its raw reply."""
        self.send(*args)
        return self.read_reply()

    def call_parsed(self, *args):
        """Send one command and return its reply parsed into Python values."""
        return parse(self.call(*args))

    def pipeline(self, cmds):
        """Send every command of cmds (a list of arg tuples) in one stream
        while reading, and return the list of raw replies in order. Sending
        runs on a helper thread so a server that stops reading while its
        output is unread cannot deadlock us."""
        data = b"".join(encode(*c) for c in cmds)
        err = []

        def writer():
            try:
                self.sock.sendall(data)
            except OSError as e:
                err.append(e)

        th = threading.Thread(target=writer, daemon=True)
        th.start()
        try:
            replies = self.read_replies(len(cmds))
        finally:
            th.join(self.timeout)
        if err:
            raise err[0]
        return replies

    def read_until_close(self, first_timeout=2.0, idle=0.25):
        """Read whatever arrives until the peer closes, or nothing more has
        arrived for `idle` seconds (waiting up to first_timeout for the first
        byte). Returns (bytes, closed)."""
        out = bytearray(self.buf)
        self.buf.clear()
        closed = False
        deadline_wait = first_timeout if not out else idle
        try:
            while True:
                self.sock.settimeout(deadline_wait)
                try:
                    chunk = self.sock.recv(1 << 20)
                except socket.timeout:
                    break
                if not chunk:
                    closed = True
                    break
                out += chunk
                deadline_wait = idle
        except ConnectionResetError:
            closed = True
        finally:
            self.sock.settimeout(self.timeout)
        return bytes(out), closed


def recv_to_eof(sock):
    """Everything a plain socket receives until the peer closes (bounded by
    the socket's own timeout per recv)."""
    got = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(got)
        got += chunk


def wait_ping(host, port, timeout=10.0, alive=None):
    """Poll until a server at host:port answers PING with +PONG. alive, if
    given, is a callable returning False once the server process died.
    Returns True on success, False on timeout or death."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return False
        try:
            with RespConn(host, port, timeout=1.0) as c:
                if c.call("PING") == b"+PONG\r\n":
                    return True
        except (OSError, ConnectionError, RespError):
            pass
        time.sleep(0.05)
    return False


def info_field(host, port, name, section="clients"):
    """The value (str) of field `name` in INFO `section`."""
    with RespConn(host, port, timeout=10.0) as c:
        info = c.call("INFO", section).decode()
    for line in info.split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise AssertionError("no %s in INFO %s" % (name, section))


def wait_info(host, port, name, want, timeout=10.0, section="clients"):
    """Poll INFO until field `name` reads str(want); fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        now = info_field(host, port, name, section)
        if now == str(want):
            return
        if time.monotonic() > deadline:
            raise AssertionError("%s never reached %s (now %s)" % (name, want, now))
        time.sleep(0.01)
