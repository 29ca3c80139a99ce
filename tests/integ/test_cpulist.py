"""test_cpulist.py -- `server_cpulist`: binding shard threads to CPUs.

By default no thread is bound, so the kernel places shard threads next to
whatever else runs on the machine. With a cpulist (redis.conf syntax:
"0-3", "0,2", "0-7:2"), shard i runs on the (i mod n)-th CPU listed. A list
that does not parse is reported in the log and leaves threads unbound, and
the server keeps serving.
"""

import os

import pytest

from conftest import HOST
from respclient import RespConn


def thread_cpus(pid):
    """{tid: frozenset of allowed CPUs} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        out[int(tid)] = frozenset(os.sched_getaffinity(int(tid)))
    return out


def served(server):
    with RespConn(HOST, server.port) as c:
        assert c.call("SET", "k", "v") == b"+OK\r\n"
        assert c.call("GET", "k") == b"$1\r\nv\r\n"


def test_default_is_unbound(server):
    s = server("--threads", "2")
    served(s)
    mine = frozenset(os.sched_getaffinity(0))
    cpus = thread_cpus(s.pid)
    assert len(cpus) >= 2
    assert all(c == mine for c in cpus.values()), cpus
    with RespConn(HOST, s.port) as c:
        assert c.call("CONFIG", "GET", "server_cpulist") == \
            b"*2\r\n$14\r\nserver_cpulist\r\n$0\r\n\r\n"


def test_all_shards_on_one_cpu(server):
    cpu = min(os.sched_getaffinity(0))
    s = server("--threads", "3", "--server_cpulist", str(cpu))
    served(s)
    bound = [t for t, c in thread_cpus(s.pid).items() if c == frozenset([cpu])]
    assert len(bound) >= 3  # every shard thread
    with RespConn(HOST, s.port) as c:
        v = str(cpu).encode()
        assert c.call("CONFIG", "GET", "server_cpulist") == \
            b"*2\r\n$14\r\nserver_cpulist\r\n$%d\r\n%s\r\n" % (len(v), v)
        r = c.call("CONFIG", "SET", "server_cpulist", "0")
        assert r.startswith(b"-ERR") and b"immutable" in r


def test_one_cpu_per_shard(server):
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2:
        pytest.skip("needs two CPUs")
    a, b = mine[0], mine[1]
    s = server("--threads", "4", "--server_cpulist", "%d,%d" % (a, b))
    served(s)
    cpus = list(thread_cpus(s.pid).values())
    # Shards 0 and 2 on the first CPU listed, 1 and 3 on the second; any
    # other thread is not bound.
    assert cpus.count(frozenset([a])) == 2
    assert cpus.count(frozenset([b])) == 2


def test_range_with_step(server):
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2 or mine[1] != mine[0] + 1:
        pytest.skip("needs two adjacent CPUs")
    a = mine[0]
    # a-(a+1):1 lists both; a-(a+1):2 lists only a.
    s = server("--threads", "2", "--server_cpulist", "%d-%d:2" % (a, a + 1))
    served(s)
    cpus = list(thread_cpus(s.pid).values())
    assert cpus.count(frozenset([a])) >= 2
    assert frozenset([a + 1]) not in cpus


@pytest.mark.parametrize("bad", ["x", "1-", "3-1", "0-4:0", ",", "0,,1", "99999"])
def test_bad_list_leaves_threads_unbound(server, bad):
    s = server("--threads", "2", "--server_cpulist", bad)
    served(s)
    mine = frozenset(os.sched_getaffinity(0))
    assert all(c == mine for c in thread_cpus(s.pid).values())
    assert "Invalid server_cpulist" in s.log()
