#!/bin/sh
# gen_config_names.sh -- probe a running redis-server 7.0 and print one line
# per configuration parameter: name, type, range or enum values, default and
# flags. Used to build and check the table in src/cmd/config.c.
#   usage: tools/gen_config_names.sh [port]   (the server must be disposable:
#   every parameter is set to probe values and then restored)
PORT=${1:-7777}
exec /usr/bin/python3 - "$PORT" <<'EOF'
import re, subprocess, sys
import redis
port = int(sys.argv[1])
r = redis.Redis(port=port, decode_responses=True)
allv = r.execute_command('CONFIG', 'GET', '*')
vals = dict(zip(allv[0::2], allv[1::2]))
hidden = ['key-load-delay', 'loading-process-events-interval-bytes', 'lua-enable-deprecated-api',
          'rdb-key-save-delay', 'use-exit-on-panic', 'watchdog-period']
for h in hidden:
    vals[h] = r.execute_command('CONFIG', 'GET', h)[1]

def cset(n, v):
    try:
        r.execute_command('CONFIG', 'SET', n, v)
        return 'OK'
    except redis.ResponseError as e:
        return str(e)

def startup_err(n, v):
    p = subprocess.run(['redis-server', '--port', '0', '--' + n, v], capture_output=True, text=True, timeout=5)
    return (p.stdout + p.stderr).strip().split('\n')[-1]

def classify(msg):
    if "'yes' or 'no'" in msg: return 'bool', ''
    if 'parsed into an integer' in msg: return 'int', ''
    if 'memory value' in msg: return 'mem', ''
    m = re.search(r'one of the following: (.*)', msg)
    if m: return 'enum', m.group(1)
    return None, msg

def rng(n, setter, lo, hi):
    out = []
    for v in (lo, hi):
        m = re.search(r'between (-?\d+) and (-?\d+)', setter(n, v))
        out.append(m.groups() if m else None)
    b = out[0] or out[1]
    return '%s..%s' % b if b else 'full'

for n in sorted(vals):
    msg = cset(n, 'xx')
    imm = 'immutable' in msg or 'protected' in msg
    flag = 'protected' if 'protected' in msg else 'immutable' if imm else ''
    setter = cset
    if imm:
        msg = startup_err(n, 'xx')
        setter = startup_err
    t, extra = classify(msg)
    if t == 'int':
        extra = rng(n, setter, '-9223372036854775808', '9223372036854775807')
    elif t == 'mem':
        extra = rng(n, setter, '0', '18446744073709551615')
    elif t is None:
        t = 'string?' if msg in ('OK', '') or 'FATAL' in msg else 'special'
    if not imm:
        cset(n, vals[n])
    print('%s\t%s\t%s\t%s\t%s' % (n, t, extra, vals[n], flag))
EOF
