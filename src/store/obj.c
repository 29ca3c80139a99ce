/* obj.c -- value objects: string encodings (INT, EMBSTR, RAW), type and
 * encoding names, and memory accounting.
 *
 * Runs on the shard thread that owns the value (or on whichever thread holds
 * a detached value in transit). A value is a single owner's; nothing is
 * shared or reference counted.
 *
 * EMBSTR keeps the bytes in the same allocation as the header, where the
 * value slot would be, as Redis keeps them after its header; RAW keeps
 * them in a separate strbuf with spare capacity for APPEND and SETRANGE. An
 * EMBSTR made modifiable becomes RAW with a separate buffer.
 * Non-string types keep their representation behind v.ptr, owned by the
 * type's module (store/list.c, set.c, zset.c, hash.c), which obj.c calls
 * through its obj_type_hooks.
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

/* Redis's sds header size for a string of capacity cap. */
static size_t obj_sds_hdr(size_t cap) {
    if (cap < 256) return 3;
    if (cap < 65536) return 5;
    if (cap < 4294967296ULL) return 9;
    return 17;
}

/* The size jemalloc (Redis's allocator) really hands out for a request of n
 * bytes: 8, then multiples of 16 up to 128, then four classes per doubling. */
size_t obj_jemalloc_size(size_t n) {
    if (n <= 8) return 8;
    if (n <= 128) return (n + 15) & ~(size_t)15;
    size_t group = 128;
    while (group * 2 < n)
        group *= 2;
    size_t step = group / 4;
    return (n + step - 1) / step * step;
}

/* The hooks of a non-string type. */
static const obj_type_hooks *obj_hooks(const obj *o) {
    switch (o->type) {
    case OBJ_LIST:
        return &obj_hooks_list;
    case OBJ_SET:
        return &obj_hooks_set;
    case OBJ_ZSET:
        return &obj_hooks_zset;
    case OBJ_HASH:
        return &obj_hooks_hash;
    default:
        abort(); /* no other type exists */
    }
}

static obj *obj_alloc(size_t extra) {
    obj *o = malloc(sizeof(obj) + extra);
    if (o == NULL) abort();
    memset(o, 0, sizeof(obj));
    return o;
}

static void *obj_xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) abort();
    return p;
}

/* Build a string object holding a copy of p[0..len). Caller owns it. */
obj *obj_new_string(const void *p, size_t len) {
    obj *o;
    if (len <= OBJ_EMBSTR_MAX) {
        o = obj_alloc(len > sizeof(o->v) ? len - sizeof(o->v) : 0);
        o->enc = OBJ_ENC_EMBSTR;
        o->slen = (uint8_t)len;
        if (len) memcpy(obj_sbytes(o), p, len);
    } else {
        o = obj_alloc(0);
        o->enc = OBJ_ENC_RAW;
        o->v.ptr = strbuf_new(p, len, len);
    }
    o->type = OBJ_STRING;
    return o;
}

strbuf *strbuf_new(const void *p, size_t len, size_t cap) {
    if (cap < len) cap = len;
    strbuf *sb = obj_xmalloc(sizeof(strbuf) + cap + 1);
    sb->len = len;
    sb->cap = cap;
    if (p == NULL)
        memset(sb->b, 0, len);
    else if (len)
        memcpy(sb->b, p, len);
    sb->b[len] = '\0';
    return sb;
}

strbuf *strbuf_grow(strbuf *sb, size_t cap) {
    if (sb->cap >= cap) return sb;
    strbuf *n = realloc(sb, sizeof(strbuf) + cap + 1);
    if (n == NULL) abort();
    n->cap = cap;
    return n;
}

/* As obj_new_string, but a canonical integer of at most 20 chars becomes an
 * INT-encoded object (Redis's tryObjectEncoding). Caller owns the result. */
obj *obj_new_string_enc(const void *p, size_t len) {
    long long v;
    if (len <= 20 && util_str2ll(p, len, &v)) return obj_new_int(v);
    return obj_new_string(p, len);
}

/* An INT-encoded string value. Caller owns it. */
obj *obj_new_int(long long v) {
    obj *o = obj_alloc(0);
    o->type = OBJ_STRING;
    o->enc = OBJ_ENC_INT;
    o->v.i = v;
    return o;
}

/* Deep copy of a value, same encoding (RAW copies are trimmed to their
 * length). Caller owns the result. */
obj *obj_dup(const obj *o) {
    obj *c;
    if (o->type != OBJ_STRING) {
        c = obj_alloc(0);
        c->type = o->type;
        c->enc = o->enc;
        c->v.ptr = obj_hooks(o)->dup(o);
    } else if (o->enc == OBJ_ENC_INT) {
        c = obj_new_int(o->v.i);
    } else if (o->enc == OBJ_ENC_EMBSTR) {
        c = obj_new_string(obj_sbytes(o), obj_slen(o));
    } else {
        c = obj_alloc(0);
        c->type = OBJ_STRING;
        c->enc = OBJ_ENC_RAW;
        c->v.ptr = strbuf_new(obj_sbytes(o), obj_slen(o), obj_slen(o));
    }
    c->lru = o->lru;
    return c;
}

/* Free what a value owns, not the value's own memory. */
void obj_free_contents(obj *o) {
    if (o->type == OBJ_STRING) {
        if (o->enc == OBJ_ENC_RAW) free(o->v.ptr);
    } else {
        obj_hooks(o)->free(o);
    }
}

/* Free a value and everything it owns. NULL is fine. */
void obj_free(obj *o) {
    if (o == NULL) return;
    obj_free_contents(o);
    free(o);
}

/* A standalone value taking over what o holds (o's memory is not freed and
 * must not be used as a value afterwards). EMBSTR bytes are copied; a RAW
 * buffer or a type's representation changes owner. Flags are not kept. */
obj *obj_move_out(const obj *o) {
    obj *c;
    if (o->type == OBJ_STRING && o->enc == OBJ_ENC_EMBSTR) {
        c = obj_new_string(obj_sbytes(o), obj_slen(o));
    } else {
        c = obj_alloc(0);
        c->type = o->type;
        c->enc = o->enc;
        c->v = o->v;
    }
    c->lru = o->lru;
    return c;
}

size_t obj_elements(const obj *o) {
    return o->type == OBJ_STRING ? 1 : obj_hooks(o)->elements(o);
}

const char *obj_type_name(const obj *o) {
    switch (o->type) {
    case OBJ_STRING:
        return "string";
    case OBJ_LIST:
        return "list";
    case OBJ_SET:
        return "set";
    case OBJ_ZSET:
        return "zset";
    case OBJ_HASH:
        return "hash";
    case OBJ_STREAM:
        return "stream";
    default:
        return "unknown";
    }
}

const char *obj_enc_name(const obj *o) {
    switch (o->enc) {
    case OBJ_ENC_RAW:
        return "raw";
    case OBJ_ENC_INT:
        return "int";
    case OBJ_ENC_HT:
        return "hashtable";
    case OBJ_ENC_LINKEDLIST:
        return "linkedlist";
    case OBJ_ENC_INTSET:
        return "intset";
    case OBJ_ENC_SKIPLIST:
        return "skiplist";
    case OBJ_ENC_EMBSTR:
        return "embstr";
    case OBJ_ENC_QUICKLIST:
        return "quicklist";
    case OBJ_ENC_STREAM:
        return "stream";
    case OBJ_ENC_LISTPACK:
        return "listpack";
    default:
        return "unknown";
    }
}

/* Byte view of a string value: borrowed from o, or written into tmp (>= 24
 * bytes) for INT encoding. *len gets the length. */
const char *obj_str(const obj *o, char *tmp, size_t *len) {
    if (o->enc == OBJ_ENC_INT) {
        *len = (size_t)util_ll2str(tmp, 24, o->v.i);
        return tmp;
    }
    *len = obj_slen(o);
    return obj_sbytes(o);
}

size_t obj_strlen(const obj *o) {
    if (o->enc == OBJ_ENC_INT) {
        char tmp[24];
        return (size_t)util_ll2str(tmp, sizeof(tmp), o->v.i);
    }
    return obj_slen(o);
}

/* Make o a RAW string with room for newlen bytes plus the NUL. Growth is
 * greedy like Redis's sdsMakeRoomFor (double below 1 MiB, else +1 MiB), so
 * repeated APPENDs stay amortised O(1). The content is kept. */
strbuf *obj_str_make_raw(obj *o, size_t newlen) {
    char tmp[24];
    size_t len;
    const char *cur = obj_str(o, tmp, &len);
    if (o->enc == OBJ_ENC_RAW && ((strbuf *)o->v.ptr)->cap >= newlen) return o->v.ptr;
    size_t cap = newlen < len ? len : newlen;
    if (cap > len) cap = cap < 1024 * 1024 ? cap * 2 : cap + 1024 * 1024;
    if (o->enc == OBJ_ENC_RAW) {
        o->v.ptr = strbuf_grow(o->v.ptr, cap);
    } else {
        o->v.ptr = strbuf_new(cur, len, cap);
        o->enc = OBJ_ENC_RAW;
    }
    return o->v.ptr;
}

void obj_str_setlen(obj *o, size_t len) {
    strbuf *sb = o->v.ptr;
    sb->len = len;
    sb->b[len] = '\0';
}

void obj_str_adopt(obj *o, strbuf *sb) {
    o->enc = OBJ_ENC_RAW;
    o->v.ptr = sb;
}

/* Bytes Redis's MEMORY USAGE counts for the value alone (robj plus string
 * storage, in jemalloc size classes). The command layer adds the key's part:
 * jemalloc size of the key's sds plus 24 for the dict entry. */
size_t obj_mem_usage(const obj *o) {
    if (o->type != OBJ_STRING) return obj_hooks(o)->mem_usage(o);
    switch (o->enc) {
    case OBJ_ENC_INT:
        return 16;
    case OBJ_ENC_EMBSTR:
        return obj_jemalloc_size(16 + 3 + obj_slen(o) + 1);
    default: {
        size_t cap = ((const strbuf *)o->v.ptr)->cap;
        return 16 + obj_jemalloc_size(obj_sds_hdr(cap) + cap + 1);
    }
    }
}
