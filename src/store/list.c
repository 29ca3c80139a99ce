/* list.c -- list values: the quicklist (see list.h for the layout) and the
 * obj hooks of OBJ_LIST.
 *
 * Threading: runs on the thread that owns the value; no shared state.
 * Ownership: a quicklist owns its nodes and their listpacks; every string
 * given to it is copied in.
 *
 * Node sizing follows Redis 7.0's rules: with fill > 0 a node takes another
 * entry while it has fewer than fill entries and would stay within 8 KiB;
 * with fill -1..-5 while it would stay within 4, 8, 16, 32 or 64 KiB. An
 * element that fits in no node gets a node of its own. Nodes are not merged
 * after deletions (as in Redis) and never compressed.
 */
#include "list.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Byte limit of positive fills (Redis's "safety limit"). */
#define QL_SAFETY_BYTES 8192
/* Redis's sizeof(robj), sizeof(quicklist), sizeof(quicklistNode): MEMORY USAGE. */
#define QL_ROBJ_SIZE 16
#define QL_HDR_SIZE 40
#define QL_NODE_SIZE 40
/* What an entry of n bytes is reckoned to add to a node when deciding
 * whether it fits: Redis's estimate (never below the real size for
 * elements under 2 MiB), so nodes split where Redis splits them. */
#define QL_ENTRY_ESTIMATE(n) ((n) + 8)
/* Nodes MEMORY USAGE samples (Redis's default SAMPLES). */
#define QL_MEM_SAMPLES 5

static void *ql_xcalloc(size_t n, size_t sz) {
    void *p = calloc(n, sz);
    if (p == NULL) abort();
    return p;
}

/* Whether a node of `bytes` listpack bytes is within the fill's size limit. */
static int ql_size_ok(const quicklist *q, size_t bytes) {
    if (q->fill >= 0) return bytes <= QL_SAFETY_BYTES;
    int level = q->fill < -5 ? 5 : -q->fill;
    return bytes <= (size_t)4096 << (level - 1);
}

/* Elements of at least this many bytes get a node of their own ("plain"
 * nodes in Redis); DEBUG QUICKLIST-PACKED-THRESHOLD sets it for the whole
 * process. Read with relaxed loads: it only steers node placement. */
static _Atomic size_t ql_packed_threshold = (size_t)1 << 30;

int list_set_packed_threshold(unsigned long long sz) {
    if (sz > (1ULL << 32) - (1ULL << 20)) return 0;
    if (sz == 0) sz = 1ULL << 30;
    atomic_store_explicit(&ql_packed_threshold, (size_t)sz, memory_order_relaxed);
    return 1;
}

/* Whether node n may take one more entry reckoned at `add` bytes. */
static int ql_node_allows(const quicklist *q, const ql_node *n, size_t add) {
    size_t thr = atomic_load_explicit(&ql_packed_threshold, memory_order_relaxed);
    if (add - QL_ENTRY_ESTIMATE(0) >= thr) return 0;
    if (n->count == 1 && lp_bytes(n->lp) >= thr) return 0; /* holds a big element */
    if (!ql_size_ok(q, lp_bytes(n->lp) + add)) return 0;
    return q->fill < 0 || n->count < (uint32_t)q->fill;
}

static ql_node *ql_node_new(void) {
    ql_node *n = ql_xcalloc(1, sizeof(*n));
    n->lp = lp_new();
    return n;
}

static void ql_node_free(ql_node *n) {
    lp_free(n->lp);
    free(n);
}

/* Link node n into q after `at` (at NULL: as the new head). */
static void ql_link_after(quicklist *q, ql_node *at, ql_node *n) {
    n->prev = at;
    n->next = at ? at->next : q->head;
    if (n->next)
        n->next->prev = n;
    else
        q->tail = n;
    if (at)
        at->next = n;
    else
        q->head = n;
    q->nnodes++;
}

/* Unlink node n from q and free it. */
static void ql_unlink(quicklist *q, ql_node *n) {
    if (n->prev)
        n->prev->next = n->next;
    else
        q->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        q->tail = n->prev;
    q->nnodes--;
    ql_node_free(n);
}

quicklist *ql_new(int fill) {
    quicklist *q = ql_xcalloc(1, sizeof(*q));
    q->fill = fill;
    return q;
}

void ql_free(quicklist *q) {
    if (q == NULL) return;
    ql_node *n = q->head;
    while (n) {
        ql_node *next = n->next;
        ql_node_free(n);
        n = next;
    }
    free(q);
}

quicklist *ql_dup(const quicklist *q) {
    quicklist *c = ql_new(q->fill);
    for (const ql_node *n = q->head; n; n = n->next) {
        ql_node *d = ql_xcalloc(1, sizeof(*d));
        d->lp = lp_dup(n->lp);
        d->count = n->count;
        ql_link_after(c, c->tail, d);
    }
    c->count = q->count;
    return c;
}

void ql_push(quicklist *q, int where, const char *s, size_t len) {
    size_t add = QL_ENTRY_ESTIMATE(len);
    ql_node *n = where == LIST_HEAD ? q->head : q->tail;
    if (n == NULL || !ql_node_allows(q, n, add)) {
        n = ql_node_new();
        ql_link_after(q, where == LIST_HEAD ? NULL : q->tail, n);
    }
    n->lp = where == LIST_HEAD ? lp_prepend(n->lp, s, len) : lp_append(n->lp, s, len);
    n->count++;
    q->count++;
}

/* Find the node holding index idx (negative: from the tail) and the offset
 * of the element in it, walking from the nearer end. Returns 0 if idx is out
 * of range. */
static int ql_locate(const quicklist *q, long long idx, ql_node **node, uint32_t *off) {
    long long len = (long long)q->count;
    if (idx < 0) idx += len;
    if (idx < 0 || idx >= len) return 0;
    ql_node *n;
    if (idx < len / 2) {
        n = q->head;
        while (idx >= n->count) {
            idx -= n->count;
            n = n->next;
        }
        *off = (uint32_t)idx;
    } else {
        long long r = len - 1 - idx; /* index counted from the tail */
        n = q->tail;
        while (r >= n->count) {
            r -= n->count;
            n = n->prev;
        }
        *off = n->count - 1 - (uint32_t)r;
    }
    *node = n;
    return 1;
}

int ql_index(quicklist *q, long long idx, lp_entry *e) {
    ql_node *n;
    uint32_t off;
    if (!ql_locate(q, idx, &n, &off)) return 0;
    lp_get(n->lp, lp_seek(n->lp, off), e);
    return 1;
}

/* Insert a copy of s[0..len) into node n before position `at` of its
 * listpack (LP_NONE: after its last entry). When n is full the element goes
 * to the neighbour at that edge if it has room, or to a new node; in the
 * middle of a full node, n is split at `at` first. */
static void ql_node_insert(quicklist *q, ql_node *n, lp_pos at, const char *s, size_t len) {
    size_t add = QL_ENTRY_ESTIMATE(len);
    q->count++;
    if (ql_node_allows(q, n, add)) {
        n->lp = lp_insert(n->lp, at, s, len, NULL);
        n->count++;
        return;
    }
    int at_tail = at == LP_NONE, at_head = at == lp_first(n->lp);
    if (at_tail && n->next && ql_node_allows(q, n->next, add)) {
        n->next->lp = lp_prepend(n->next->lp, s, len);
        n->next->count++;
        return;
    }
    if (at_head && n->prev && ql_node_allows(q, n->prev, add)) {
        n->prev->lp = lp_append(n->prev->lp, s, len);
        n->prev->count++;
        return;
    }
    ql_node *fresh = ql_node_new();
    fresh->lp = lp_append(fresh->lp, s, len);
    fresh->count = 1;
    if (at_tail || at_head) {
        ql_link_after(q, at_tail ? n : n->prev, fresh);
        return;
    }
    /* Split: the entries from `at` on move to a new node after n. */
    ql_node *right = ql_node_new();
    uint32_t moved = 0;
    for (lp_pos p = at; p != LP_NONE; p = lp_next(n->lp, p)) {
        lp_entry e;
        lp_get(n->lp, p, &e);
        right->lp = lp_append(right->lp, e.s, e.len);
        moved++;
    }
    n->lp = lp_delete(n->lp, &at, moved);
    n->count -= moved;
    right->count = moved;
    ql_link_after(q, n, right);
    if (ql_node_allows(q, n, add)) {
        n->lp = lp_append(n->lp, s, len);
        n->count++;
        ql_node_free(fresh);
    } else if (ql_node_allows(q, right, add)) {
        right->lp = lp_prepend(right->lp, s, len);
        right->count++;
        ql_node_free(fresh);
    } else {
        ql_link_after(q, n, fresh);
    }
}

/* Encoded bytes of the entry at p of l. */
static size_t ql_entry_bytes(const lp *l, lp_pos p) {
    lp_pos nx = lp_next(l, p);
    return (nx == LP_NONE ? lp_bytes(l) - 1 : nx) - p;
}

int ql_replace(quicklist *q, long long idx, const char *s, size_t len) {
    ql_node *n;
    uint32_t off;
    if (!ql_locate(q, idx, &n, &off)) return 0;
    lp_pos p = lp_seek(n->lp, off);
    size_t bytes = lp_bytes(n->lp) - ql_entry_bytes(n->lp, p) + lp_entry_size(s, len);
    if (n->count == 1 || ql_size_ok(q, bytes)) {
        n->lp = lp_replace(n->lp, p, s, len);
        return 1;
    }
    /* Too big for its node: delete it and insert the new one in its place. */
    n->lp = lp_delete(n->lp, &p, 1);
    n->count--;
    q->count--;
    ql_node_insert(q, n, p, s, len);
    return 1;
}

size_t ql_del_range(quicklist *q, long long start, size_t n) {
    ql_node *node;
    uint32_t off;
    if (n == 0 || !ql_locate(q, start, &node, &off)) return 0;
    if (start < 0) start += (long long)q->count;
    size_t left = (size_t)((long long)q->count - start);
    if (n > left) n = left;
    size_t todo = n;
    while (todo > 0) {
        ql_node *next = node->next;
        if (off == 0 && todo >= node->count) {
            todo -= node->count;
            q->count -= node->count;
            ql_unlink(q, node);
        } else {
            uint32_t del = node->count - off;
            if (del > todo) del = (uint32_t)todo;
            node->lp = lp_delete_range(node->lp, off, del);
            node->count -= del;
            q->count -= del;
            todo -= del;
        }
        node = next;
        off = 0;
    }
    return n;
}

char *ql_pop(quicklist *q, int where, size_t *len) {
    ql_node *n = where == LIST_HEAD ? q->head : q->tail;
    if (n == NULL) return NULL;
    lp_pos p = where == LIST_HEAD ? lp_first(n->lp) : lp_last(n->lp);
    lp_entry e;
    lp_get(n->lp, p, &e);
    char *out = malloc(e.len + 1);
    if (out == NULL) abort();
    memcpy(out, e.s, e.len);
    out[e.len] = '\0';
    *len = e.len;
    n->lp = lp_delete(n->lp, &p, 1);
    q->count--;
    if (--n->count == 0) ql_unlink(q, n);
    return out;
}

void ql_iter_init(ql_iter *it, quicklist *q, long long start, int dir) {
    uint32_t off;
    it->q = q;
    it->dir = dir;
    it->cur_node = NULL;
    it->cur_pos = LP_NONE;
    if (ql_locate(q, start, &it->node, &off)) {
        it->pos = lp_seek(it->node->lp, off);
    } else {
        it->node = NULL;
        it->pos = LP_NONE;
    }
}

int ql_iter_next(ql_iter *it, lp_entry *e) {
    ql_node *n = it->node;
    if (n == NULL) return 0;
    lp_get(n->lp, it->pos, e);
    it->cur_node = n;
    it->cur_pos = it->pos;
    if (it->dir == LIST_TAIL) {
        it->pos = lp_next(n->lp, it->pos);
        if (it->pos == LP_NONE) {
            it->node = n->next;
            if (it->node) it->pos = lp_first(it->node->lp);
        }
    } else {
        it->pos = lp_prev(n->lp, it->pos);
        if (it->pos == LP_NONE) {
            it->node = n->prev;
            if (it->node) it->pos = lp_last(it->node->lp);
        }
    }
    return 1;
}

int ql_iter_eq(const ql_iter *it, const char *s, size_t len) {
    return lp_eq(it->cur_node->lp, it->cur_pos, s, len);
}

void ql_iter_del(ql_iter *it) {
    ql_node *n = it->cur_node;
    lp_pos p = it->cur_pos;
    n->lp = lp_delete(n->lp, &p, 1);
    it->q->count--;
    it->cur_node = NULL;
    if (--n->count == 0) {
        /* The next entry, if any, is already in a neighbour node. */
        ql_unlink(it->q, n);
        return;
    }
    /* Forwards, the next entry moved down to the deleted one's place;
     * backwards, it lies before it and did not move. */
    if (it->dir == LIST_TAIL && it->node == n) it->pos = p;
}

void ql_iter_insert(ql_iter *it, int after, const char *s, size_t len) {
    ql_node *n = it->cur_node;
    lp_pos at = after ? lp_next(n->lp, it->cur_pos) : it->cur_pos;
    ql_node_insert(it->q, n, at, s, len);
    it->node = NULL;
    it->cur_node = NULL;
}

obj *list_new(int fill) {
    obj *o = ql_xcalloc(1, sizeof(*o));
    o->type = OBJ_LIST;
    o->enc = OBJ_ENC_QUICKLIST;
    o->v.ptr = ql_new(fill);
    return o;
}

static void list_free(obj *o) {
    ql_free(list_ql(o));
}

static void *list_dup(const obj *o) {
    return ql_dup(list_ql(o));
}

/* As Redis estimates a quicklist: the object and quicklist headers plus the
 * average size of the first few nodes times the number of nodes. */
static size_t list_mem_usage(const obj *o) {
    const quicklist *q = list_ql(o);
    size_t sampled = 0, samples = 0;
    for (const ql_node *n = q->head; n && samples < QL_MEM_SAMPLES; n = n->next) {
        sampled += QL_NODE_SIZE + obj_jemalloc_size(lp_bytes(n->lp));
        samples++;
    }
    size_t size = QL_ROBJ_SIZE + QL_HDR_SIZE;
    if (samples) size += (size_t)((double)sampled / (double)samples * (double)q->nnodes);
    return size;
}

static size_t list_elements(const obj *o) {
    return list_len(o);
}

const obj_type_hooks obj_hooks_list = {list_free, list_dup, list_mem_usage, list_elements};
