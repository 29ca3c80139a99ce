/* lp.h -- listpack: a compact, contiguous sequence of small strings.
 *
 * The small encoding of hashes, sorted sets and list nodes. One malloc'd
 * buffer holds a header (total bytes, entry count), the entries back to
 * back, and an end byte. Each entry stores its length in a variable-size
 * prefix and again, reversed, after its bytes (a "backlen"), so the buffer
 * can be walked forwards and backwards. A string that is a canonical
 * integer (as util_str2ll accepts, at most 20 bytes) is stored as a
 * variable-width integer instead of its digits.
 *
 * Positions are byte offsets into the buffer (lp_pos): they stay valid across
 * reallocation, but an insert or delete before a position shifts it.
 * LP_NONE is "no entry". Functions that change the buffer may move it and
 * return the new pointer, which the caller must store.
 *
 * Owned by one thread; no internal locking. Every function is O(1) unless
 * noted; inserts and deletes are O(bytes after the position) (a memmove).
 */
#ifndef PERCORE_LP_H
#define PERCORE_LP_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned char lp;
typedef size_t lp_pos;
#define LP_NONE ((lp_pos)-1)

/* One entry, as read by lp_get. s/len is always valid: for an integer entry
 * the digits are written into buf. is_int tells whether it was stored as an
 * integer, ll is then its value. */
typedef struct lp_entry {
    const char *s;
    size_t len;
    int is_int;
    long long ll;
    char buf[24];
} lp_entry;

lp *lp_new(void);
void lp_free(lp *l);
/* A byte-for-byte copy of l. Caller frees. */
lp *lp_dup(const lp *l);
size_t lp_bytes(const lp *l);   /* total size of the buffer */
uint32_t lp_count(const lp *l); /* number of entries */

/* Navigation. Each returns LP_NONE past either end or on an empty listpack. */
lp_pos lp_first(const lp *l);
lp_pos lp_last(const lp *l);
lp_pos lp_next(const lp *l, lp_pos p);
lp_pos lp_prev(const lp *l, lp_pos p);
/* Entry at index i (negative: from the end, -1 is the last); LP_NONE if out
 * of range. O(n), walking from the nearer end. */
lp_pos lp_seek(const lp *l, long i);

/* Read the entry at p (which must be an entry). e->s may point into l or
 * into e->buf: valid until l changes or e is reused. */
void lp_get(const lp *l, lp_pos p, lp_entry *e);
/* 1 if the entry at p equals s[0..len) byte for byte. */
int lp_eq(const lp *l, lp_pos p, const char *s, size_t len);

/* Insert s[0..len) before the entry at p; p == LP_NONE appends. If out is
 * not NULL it receives the position of the new entry. O(tail). */
lp *lp_insert(lp *l, lp_pos p, const char *s, size_t len, lp_pos *out);
lp *lp_append(lp *l, const char *s, size_t len);
lp *lp_prepend(lp *l, const char *s, size_t len);
/* Replace the entry at p with s[0..len); the entry keeps its position p. */
lp *lp_replace(lp *l, lp_pos p, const char *s, size_t len);
/* Delete n entries starting at *p (fewer if the end comes first). On return
 * *p is the position of the entry that followed them, or LP_NONE if none
 * did. p must not be NULL. */
lp *lp_delete(lp *l, lp_pos *p, uint32_t n);
/* Delete entries [start, start+n) by index (start may be negative as in
 * lp_seek). */
lp *lp_delete_range(lp *l, long start, uint32_t n);

/* Search from p forwards for an entry equal to s[0..len), comparing only
 * every (skip+1)-th entry (skip 1: the keys of key/value pairs). Returns its
 * position or LP_NONE. O(n). */
lp_pos lp_find(const lp *l, lp_pos p, const char *s, size_t len, unsigned skip);

/* Bytes an entry holding s[0..len) would take (MEMORY USAGE, conversions). */
size_t lp_entry_size(const char *s, size_t len);

#endif
