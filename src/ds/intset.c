/* intset.c -- sorted integer array with width upgrade (see intset.h).
 * Elements are stored in native byte order; the width only grows.
 */
#include "intset.h"

#include <stdlib.h>
#include <string.h>

/* The smallest width (2, 4 or 8 bytes) that holds v. */
static uint32_t width_for(int64_t v) {
    if (v >= INT16_MIN && v <= INT16_MAX) return 2;
    if (v >= INT32_MIN && v <= INT32_MAX) return 4;
    return 8;
}

/* Read element i stored with width w from data. */
static int64_t load(const char *data, uint32_t w, uint32_t i) {
    if (w == 2) {
        int16_t x;
        memcpy(&x, data + (size_t)i * 2, 2);
        return x;
    }
    if (w == 4) {
        int32_t x;
        memcpy(&x, data + (size_t)i * 4, 4);
        return x;
    }
    int64_t x;
    memcpy(&x, data + (size_t)i * 8, 8);
    return x;
}

/* Write v (which fits in w bytes) as element i. */
static void store(char *data, uint32_t w, uint32_t i, int64_t v) {
    if (w == 2) {
        int16_t x = (int16_t)v;
        memcpy(data + (size_t)i * 2, &x, 2);
    } else if (w == 4) {
        int32_t x = (int32_t)v;
        memcpy(data + (size_t)i * 4, &x, 4);
    } else {
        memcpy(data + (size_t)i * 8, &v, 8);
    }
}

/* Resize the allocation for len elements of the current width. */
static intset *resize(intset *is, uint32_t len) {
    intset *n = realloc(is, sizeof(intset) + (size_t)len * is->width);
    if (n == NULL) abort();
    return n;
}

/* Binary search: returns 1 and the position of v, or 0 and the position
 * where v would be inserted. */
static int search(const intset *is, int64_t v, uint32_t *pos) {
    uint32_t lo = 0, hi = is->len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t x = load(is->data, is->width, mid);
        if (x == v) {
            *pos = mid;
            return 1;
        }
        if (x < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

intset *intset_new(void) {
    intset *is = malloc(sizeof(intset));
    if (is == NULL) abort();
    is->width = 2;
    is->len = 0;
    return is;
}

intset *intset_dup(const intset *is) {
    size_t n = intset_bytes(is);
    intset *c = malloc(n);
    if (c == NULL) abort();
    memcpy(c, is, n);
    return c;
}

/* Re-encode every element with width w (> current) and append or prepend v,
 * which is out of the current width's range and so beyond every element. */
static intset *upgrade_add(intset *is, uint32_t w, int64_t v) {
    uint32_t old = is->width, len = is->len;
    int front = v < 0;
    is->width = w;
    is = resize(is, len + 1);
    /* Walk from the end so that no element is overwritten before it is read. */
    for (uint32_t i = len; i-- > 0;)
        store(is->data, w, i + (uint32_t)front, load(is->data, old, i));
    store(is->data, w, front ? 0 : len, v);
    is->len = len + 1;
    return is;
}

intset *intset_add(intset *is, int64_t v, int *added) {
    uint32_t w = width_for(v);
    if (w > is->width) {
        *added = 1;
        return upgrade_add(is, w, v);
    }
    uint32_t pos;
    if (search(is, v, &pos)) {
        *added = 0;
        return is;
    }
    is = resize(is, is->len + 1);
    memmove(is->data + (size_t)(pos + 1) * is->width, is->data + (size_t)pos * is->width,
            (size_t)(is->len - pos) * is->width);
    store(is->data, is->width, pos, v);
    is->len++;
    *added = 1;
    return is;
}

intset *intset_remove(intset *is, int64_t v, int *removed) {
    uint32_t pos;
    if (removed) *removed = 0;
    if (width_for(v) > is->width || !search(is, v, &pos)) return is;
    memmove(is->data + (size_t)pos * is->width, is->data + (size_t)(pos + 1) * is->width,
            (size_t)(is->len - pos - 1) * is->width);
    is->len--;
    if (removed) *removed = 1;
    return resize(is, is->len);
}

int intset_find(const intset *is, int64_t v) {
    uint32_t pos;
    return width_for(v) <= is->width && search(is, v, &pos);
}

int64_t intset_get(const intset *is, uint32_t i) {
    return load(is->data, is->width, i);
}
