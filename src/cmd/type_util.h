/* type_util.h -- small helpers the list and sorted-set command families
 * share with the blocking commands (t_list.c, t_zset.c, t_block.c). Static
 * inline; they run on whichever shard runs the handler.
 */
#ifndef PERCORE_TYPE_UTIL_H
#define PERCORE_TYPE_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "../store/list.h"
#include "cmd.h"

/* LEFT or RIGHT (any case) into *where; a syntax error reply otherwise. */
static inline int where_or_reply(rbuf *r, const rt_arg *a, int *where) {
    if (arg_is(a, "left"))
        *where = LIST_HEAD;
    else if (arg_is(a, "right"))
        *where = LIST_TAIL;
    else {
        rw_error(r, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* A sorted-set member copied out (so the zset may change afterwards). */
typedef struct member_copy {
    char *m; /* malloc'd; the caller frees it */
    size_t ml;
    double score;
} member_copy;

/* zset_range_* visitor that fills a member_copy (priv). */
static inline void member_copy_visit(void *priv, const char *m, size_t ml, double score) {
    member_copy *mc = priv;
    mc->m = malloc(ml + 1);
    if (mc->m == NULL) abort();
    memcpy(mc->m, m, ml);
    mc->ml = ml;
    mc->score = score;
}

#endif
