/* set.c -- set values. Being written: the hooks below only keep obj.c linking. */
#include <stdlib.h>

#include "store.h"

static void set_free(obj *o) {
    free(o->v.ptr);
}

static void *set_dup(const obj *o) {
    (void)o;
    abort();
}

static size_t set_mem_usage(const obj *o) {
    (void)o;
    return sizeof(obj);
}

static size_t set_elements(const obj *o) {
    (void)o;
    return 0;
}

const obj_type_hooks obj_hooks_set = {set_free, set_dup, set_mem_usage, set_elements};
