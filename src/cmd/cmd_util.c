/* cmd_util.c -- argument parsing helpers shared by command handlers; each
 * writes Redis's error reply itself when the argument is invalid (the
 * "...OrReply" convention). Runs on whichever shard runs the handler.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "cmd.h"

int arg_ll_or_reply(rbuf *r, const rt_arg *a, long long *out, const char *msg) {
    if (util_str2ll(a->p, a->len, out)) return 0;
    rw_error(r, msg ? msg : ERR_NOT_INT);
    return -1;
}

int arg_double_or_reply(rbuf *r, const rt_arg *a, double *out, const char *msg) {
    if (util_str2d(a->p, a->len, out)) return 0;
    rw_error(r, msg ? msg : ERR_NOT_FLOAT);
    return -1;
}

int arg_ld_or_reply(rbuf *r, const rt_arg *a, long double *out, const char *msg) {
    if (util_str2ld(a->p, a->len, out)) return 0;
    rw_error(r, msg ? msg : ERR_NOT_FLOAT);
    return -1;
}

int arg_range_or_reply(rbuf *r, const rt_arg *a, long long min, long long max, long long *out,
                       const char *msg) {
    if (arg_ll_or_reply(r, a, out, msg) < 0) return -1;
    if (*out < min || *out > max) {
        if (msg)
            rw_error(r, msg);
        else
            rw_errorf(r, "ERR value is out of range, value must between %lld and %lld", min, max);
        return -1;
    }
    return 0;
}

obj *lookup_read_any(rt_ctx *c, const rt_arg *key) {
    obj *o = db_find(ctx_cdb(c), key->p, key->len);
    if (o)
        ctx_store(c)->stats.keyspace_hits++;
    else
        ctx_store(c)->stats.keyspace_misses++;
    return o;
}

static int lookup_check(obj *found, int type, obj **o, rbuf *r) {
    if (found && found->type != type) {
        *o = NULL;
        rw_error(r, ERR_WRONGTYPE);
        return -1;
    }
    *o = found;
    return 0;
}

int lookup_read(rt_ctx *c, const rt_arg *key, int type, obj **o, rbuf *r) {
    return lookup_check(lookup_read_any(c, key), type, o, r);
}

int lookup_write(rt_ctx *c, const rt_arg *key, int type, obj **o, rbuf *r) {
    return lookup_check(db_find(ctx_cdb(c), key->p, key->len), type, o, r);
}

int arg_cursor_or_reply(const rt_arg *a, uint64_t *out, rbuf *err) {
    char buf[64];
    if (a->len >= sizeof(buf) || (a->len > 0 && isspace((unsigned char)a->p[0]))) {
        rw_error(err, "ERR invalid cursor");
        return -1;
    }
    memcpy(buf, a->p, a->len);
    buf[a->len] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    /* A NUL inside the argument ends the C string Redis parses. */
    if (*end != '\0' || errno == ERANGE) {
        rw_error(err, "ERR invalid cursor");
        return -1;
    }
    *out = v;
    return 0;
}

int scan_opts_or_reply(int argc, const rt_arg *argv, int first, scan_opts *o, rbuf *err) {
    o->count = 10;
    o->pat = NULL;
    o->plen = 0;
    for (int i = first; i < argc; i += 2) {
        int left = argc - i;
        if (arg_is(&argv[i], "count") && left >= 2) {
            if (!util_str2ll(argv[i + 1].p, argv[i + 1].len, &o->count)) {
                rw_error(err, ERR_NOT_INT);
                return -1;
            }
            if (o->count < 1) {
                rw_error(err, ERR_SYNTAX);
                return -1;
            }
        } else if (arg_is(&argv[i], "match") && left >= 2) {
            o->pat = argv[i + 1].p;
            o->plen = argv[i + 1].len;
            if (o->plen == 1 && o->pat[0] == '*') o->pat = NULL;
        } else {
            rw_error(err, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}
