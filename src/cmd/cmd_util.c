/* cmd_util.c -- argument parsing helpers shared by command handlers; each
 * writes Redis's error reply itself when the argument is invalid (the
 * "...OrReply" convention). Runs on whichever shard runs the handler.
 */
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
