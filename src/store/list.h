/* list.h -- list values: a quicklist, a doubly linked list of listpack nodes.
 *
 *   quicklist { head, tail, count, nnodes, fill }
 *      |
 *      v
 *   node <-> node <-> node          each node: prev, next, lp (listpack), count
 *    |        |        |
 *   [a b c]  [d e f]  [g h]         elements in order, head to tail
 *
 * Every list value is one quicklist (Redis 7.0 has no other list encoding,
 * OBJECT ENCODING says "quicklist"). A node holds at most `fill` entries when
 * fill > 0 (and at most 8 KiB), or at most 4/8/16/32/64 KiB of listpack when
 * fill is -1..-5; an element that does not fit anywhere gets a node of its
 * own. Nodes are never empty. The total and the per-node counts are kept, so
 * the ends are O(1) and an index walks nodes from the nearer end by counts.
 * list-compress-depth is not applied: nodes are never compressed.
 *
 * Threading and ownership: a quicklist belongs to whoever owns its obj (one
 * shard thread, or the holder of a detached value in transit); nothing here
 * is thread-safe. Strings passed in are copied; entries read out (lp_entry)
 * borrow from the node until the list changes.
 */
#ifndef PERCORE_LIST_H
#define PERCORE_LIST_H

#include <stddef.h>

#include "../ds/lp.h"
#include "store.h"

/* Ends of a list, and directions of iteration (towards that end). */
enum { LIST_HEAD = 0, LIST_TAIL = 1 };

typedef struct ql_node {
    struct ql_node *prev, *next;
    lp *lp;
    uint32_t count; /* entries in lp, never 0 */
} ql_node;

typedef struct quicklist {
    ql_node *head, *tail;
    size_t count;  /* elements in all nodes */
    size_t nnodes; /* nodes */
    int fill;      /* list-max-listpack-size at creation */
} quicklist;

/* An iterator. It may be positioned on a list that changes only through
 * ql_iter_del; any other change invalidates it. */
typedef struct ql_iter {
    quicklist *q;
    int dir;           /* LIST_TAIL: head to tail; LIST_HEAD: tail to head */
    ql_node *node;     /* node of the next entry to return, NULL at the end */
    lp_pos pos;        /* its position in node->lp */
    ql_node *cur_node; /* the entry last returned by ql_iter_next */
    lp_pos cur_pos;
} ql_iter;

/* Create an empty quicklist with the given list-max-listpack-size. Caller frees. */
quicklist *ql_new(int fill);
void ql_free(quicklist *q); /* NULL is fine */
/* Deep copy; the copy keeps q's node layout and fill. Caller frees. */
quicklist *ql_dup(const quicklist *q);
static inline size_t ql_len(const quicklist *q) {
    return q->count;
}

/* Add a copy of s[0..len) at the head or the tail (where = LIST_HEAD/LIST_TAIL). */
void ql_push(quicklist *q, int where, const char *s, size_t len);
/* Read the element at index idx (negative: from the tail, -1 is the last)
 * into e. Returns 1, or 0 when idx is out of range. O(nodes / 2 + node size). */
int ql_index(quicklist *q, long long idx, lp_entry *e);
/* Replace the element at idx with a copy of s[0..len). Returns 1, or 0 when
 * idx is out of range. */
int ql_replace(quicklist *q, long long idx, const char *s, size_t len);
/* Delete n elements starting at index start (negative: from the tail);
 * fewer when the end comes first. Returns how many were deleted. */
size_t ql_del_range(quicklist *q, long long start, size_t n);
/* Remove the element at one end and return a malloc'd copy of its bytes
 * (*len set; a NUL follows them), or NULL when the list is empty. Caller frees. */
char *ql_pop(quicklist *q, int where, size_t *len);

/* Position an iterator on index start (negative: from the tail) moving in
 * direction dir; an out-of-range start gives an iterator at its end. */
void ql_iter_init(ql_iter *it, quicklist *q, long long start, int dir);
/* Read the next element into e and return 1, or return 0 at the end. */
int ql_iter_next(ql_iter *it, lp_entry *e);
/* 1 if the element last returned by ql_iter_next equals s[0..len). */
int ql_iter_eq(const ql_iter *it, const char *s, size_t len);
/* Delete the element last returned by ql_iter_next; iteration goes on with
 * the element that came after it in the iterator's direction. */
void ql_iter_del(ql_iter *it);
/* Insert a copy of s[0..len) next to the element last returned by
 * ql_iter_next: before it (towards the head) or after it (after != 0).
 * The iterator must not be used afterwards. */
void ql_iter_insert(ql_iter *it, int after, const char *s, size_t len);

/* List objects (type OBJ_LIST, encoding OBJ_ENC_QUICKLIST). */

/* A new, empty list object with the given list-max-listpack-size (the
 * shard's store_enc.list_max_listpack_size). An empty list must not be stored
 * in a db: push to it first. Caller owns it. */
obj *list_new(int fill);
static inline quicklist *list_ql(const obj *o) {
    return (quicklist *)o->v.ptr;
}
static inline size_t list_len(const obj *o) {
    return list_ql(o)->count;
}
static inline void list_push(obj *o, int where, const char *s, size_t len) {
    ql_push(list_ql(o), where, s, len);
}
static inline char *list_pop(obj *o, int where, size_t *len) {
    return ql_pop(list_ql(o), where, len);
}

/* DEBUG QUICKLIST-PACKED-THRESHOLD: elements of at least sz bytes get a node
 * of their own (0 restores the default, 1 GiB). Returns 0 if sz is not below
 * 4 GiB - 1 MiB (Redis's bound). Any thread. */
int list_set_packed_threshold(unsigned long long sz);

#endif
