/* t_sort.h -- the pure parts of SORT and SORT_RO (t_sort.c): option parsing,
 * the LIMIT window, BY/GET pattern substitution, score parsing, the element
 * comparison and the stable sort. Exported for tests/unit/test_sort.c.
 *
 * Everything here is a function of its arguments: no shared state, callable
 * from any thread. Byte views (rt_arg, element pointers) are borrowed.
 */
#ifndef PERCORE_T_SORT_H
#define PERCORE_T_SORT_H

#include <stddef.h>

#include "cmd.h"

/* The options of one SORT/SORT_RO request, as Redis 7.0 reads them. */
typedef struct sort_opts {
    int desc;            /* DESC (the last of ASC/DESC wins) */
    int alpha;           /* ALPHA */
    int dontsort;        /* a BY pattern without '*' was given: keep the native order */
    long long lstart;    /* LIMIT offset (0 without LIMIT) */
    long long lcount;    /* LIMIT count (-1 without LIMIT) */
    const rt_arg *by;    /* the BY pattern to look weights up with, NULL if none or dontsort */
    const rt_arg *store; /* STORE's destination key (the last one), NULL if none */
    int ngets;
    const rt_arg **gets; /* the GET patterns in order (malloc'd; sort_opts_free) */
} sort_opts;

/* Parse argv[2..argc) (argv[1] is the key). readonly refuses STORE as
 * SORT_RO does. Returns 0, or -1 after writing Redis's error into err
 * ("ERR syntax error", or the not-an-integer error of a LIMIT argument).
 * o borrows argv; free it with sort_opts_free (also after an error). */
int sort_parse(int argc, const rt_arg *argv, int readonly, sort_opts *o, rbuf *err);
void sort_opts_free(sort_opts *o);

/* SORT's key positions as Redis's sortGetKeys finds them: the sorted key,
 * then the key after the last STORE, skipping the arguments of LIMIT, GET
 * and BY. Never fails. */
int sort_getkeys(int argc, rt_arg *argv, int *keys, rbuf *err);

/* The output window of a vector of vlen elements under LIMIT lstart lcount,
 * clamped as Redis does: elements [*start, *end] are output (none when
 * *end < *start). */
void sort_window(long long vlen, long long lstart, long long lcount, long long *start,
                 long long *end);

/* A BY/GET pattern. Redis treats patterns as C strings: a '*', "->" or a
 * lone "#" is only seen before the first NUL byte. */
enum {
    SORT_PAT_SELF, /* "#": the element itself */
    SORT_PAT_NONE, /* no '*': nothing to look up (GET yields nil) */
    SORT_PAT_KEY,  /* a key name with the element in place of the first '*' */
};
typedef struct sort_pat {
    int kind;
    size_t star;   /* offset of the first '*' */
    size_t keyend; /* the key is pattern[0..keyend) with the '*' replaced */
    int has_field; /* "->field" after the '*': read that field of a hash */
    size_t field;  /* offset of the field's first byte (it runs to the end) */
} sort_pat;
void sort_pat_parse(const char *p, size_t len, sort_pat *sp);
/* Append the key a SORT_PAT_KEY pattern names for element el to out. */
void sort_pat_key(const char *p, const sort_pat *sp, const char *el, size_t ellen, rbuf *out);

/* Parse a weight or element as SORT's numeric mode does (strtod over the C
 * string, no NaN, no overflow or underflow). Returns 0, or -1 when it is
 * not a valid double. */
int sort_score(const char *p, size_t len, double *out);

/* One element being sorted. */
typedef struct sort_el {
    const char *p; /* the element's bytes */
    size_t len;
    double score;    /* numeric mode: the weight (0 when its key is missing) */
    const char *cmp; /* ALPHA with BY: the weight's bytes, NULL when missing */
    size_t cmplen;
} sort_el;

/* How elements compare. */
typedef struct sort_how {
    int alpha, by, store, desc;
} sort_how;

/* Compare as Redis's sortCompare: numeric by score then by the element's
 * bytes; ALPHA by the weight (a missing weight first) or by the element,
 * byte-wise when storing and C-string-wise (strcoll in the C locale)
 * otherwise; DESC reverses. Returns <0, 0 or >0. */
int sort_el_cmp(const sort_el *a, const sort_el *b, const sort_how *h);

/* Stable sort of v[0..n) under sort_el_cmp (equal elements keep their
 * order, as glibc's merge-sorting qsort keeps them). */
void sort_els(sort_el **v, size_t n, const sort_how *h);

/* The shards a SORT/SORT_RO request must take, ascending, into shards
 * (room for 2): those of the sorted key and of STORE's key when no BY/GET
 * pattern reads other keys. Returns their count, or 0 for every shard
 * (patterns, a parse error the body will report, or cmd is not SORT). */
int sort_plan_shards(const cmd_def *cmd, rt *r, int argc, rt_arg *argv, int *shards);

#endif
