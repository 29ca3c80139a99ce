/* t_geo.c -- the GEO commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEORADIUS,
 * GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and GEOSEARCHSTORE,
 * with Redis 7.0's replies and errors. A geo value is a sorted set whose
 * scores are 52-bit geohashes (geohash.h does the arithmetic; the sorted
 * set is used only through store/zset.h).
 *
 * Threading: every cmd_* proc runs on the shard thread that owns all of the
 * command's keys. The searches that STORE into a key of another shard run
 * as a transaction: op_geo_search runs the whole search on the source's
 * shard and leaves either a finished reply (an error, a missing key ...) in
 * its part's out buffer or the members and scores to store (a malloc'd
 * geo_list in part.ptr); op_geo_store then writes them on the destination's
 * shard. Only malloc'd copies cross shards.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd_rows.h"
#include "geohash.h"
#include "../store/zset.h"

/* Options are compared as Redis compares them: as C strings, so bytes
 * after a NUL inside an argument are ignored. */
static int opt_is(const rt_arg *a, const char *s) {
    size_t n = strnlen(a->p, a->len);
    return n == strlen(s) && strncasecmp(a->p, s, n) == 0;
}

/* Parse argv[0..1] as longitude, latitude. Returns 0, or -1 after replying. */
static int geo_lonlat_or_reply(rbuf *r, const rt_arg *argv, double xy[2]) {
    for (int i = 0; i < 2; i++)
        if (arg_double_or_reply(r, &argv[i], &xy[i], NULL) < 0) return -1;
    if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN ||
        xy[1] > GEO_LAT_MAX) {
        rw_errorf(r, "ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
        return -1;
    }
    return 0;
}

/* Metres per unit, or -1 after replying. */
static double geo_unit_or_reply(rbuf *r, const rt_arg *a) {
    if (opt_is(a, "m")) return 1;
    if (opt_is(a, "km")) return 1000;
    if (opt_is(a, "ft")) return 0.3048;
    if (opt_is(a, "mi")) return 1609.34;
    rw_error(r, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return -1;
}

/* radius unit at argv[0..1]. Returns 0, or -1 after replying. */
static int geo_radius_or_reply(rbuf *r, const rt_arg *argv, geo_shape *s) {
    double d;
    if (arg_double_or_reply(r, &argv[0], &d, "ERR need numeric radius") < 0) return -1;
    if (d < 0) {
        rw_error(r, "ERR radius cannot be negative");
        return -1;
    }
    s->radius = d;
    double conv = geo_unit_or_reply(r, &argv[1]);
    if (conv < 0) return -1;
    s->conversion = conv;
    return 0;
}

/* width height unit at argv[0..2]. Returns 0, or -1 after replying. */
static int geo_box_or_reply(rbuf *r, const rt_arg *argv, geo_shape *s) {
    double w, h;
    if (arg_double_or_reply(r, &argv[0], &w, "ERR need numeric width") < 0 ||
        arg_double_or_reply(r, &argv[1], &h, "ERR need numeric height") < 0)
        return -1;
    if (h < 0 || w < 0) {
        rw_error(r, "ERR height or width cannot be negative");
        return -1;
    }
    s->height = h;
    s->width = w;
    double conv = geo_unit_or_reply(r, &argv[2]);
    if (conv < 0) return -1;
    s->conversion = conv;
    return 0;
}

/* Position of member m of geo value o: 1 with xy set, 0 if absent. */
static int geo_member_xy(const obj *o, const rt_arg *m, double xy[2]) {
    double score;
    if (!zset_score(o, m->p, m->len, &score)) return 0;
    geo_score_to_xy(score, xy);
    return 1;
}

/* A coordinate as Redis prints it: human-readable long double, a bulk
 * string in RESP2 and a double in RESP3. */
static void geo_reply_coord(rbuf *r, double v) {
    char buf[128];
    int n = util_ld2str(buf, sizeof(buf), (long double)v);
    if (r->resp == 2) {
        rw_bulk(r, buf, (size_t)n);
    } else {
        rb_append(r, ",", 1);
        rb_append(r, buf, (size_t)n);
        rb_append(r, "\r\n", 2);
    }
}

static void geo_reply_distance(rbuf *r, double d) {
    char buf[64];
    int n = geo_fmt_distance(buf, d);
    rw_bulk(r, buf, (size_t)n);
}

/* ---------------------------------------------------------------------- */
/* GEOADD key [NX|XX] [CH] longitude latitude member [...] */

static void cmd_geoadd(rt_ctx *c) {
    int xx = 0, nx = 0, ch = 0, first = 2;
    for (; first < c->argc; first++) {
        if (opt_is(&c->argv[first], "nx"))
            nx = 1;
        else if (opt_is(&c->argv[first], "xx"))
            xx = 1;
        else if (opt_is(&c->argv[first], "ch"))
            ch = 1;
        else
            break;
    }
    int n = (c->argc - first) / 3;
    if ((c->argc - first) % 3 || (xx && nx) || n == 0) {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    double *scores = malloc(sizeof(double) * (size_t)n);
    if (scores == NULL) abort();
    for (int i = 0; i < n; i++) {
        double xy[2];
        if (geo_lonlat_or_reply(c->reply, &c->argv[first + 3 * i], xy) < 0) {
            free(scores);
            return;
        }
        scores[i] = (double)geo_score(xy[0], xy[1]);
    }
    obj *o;
    long long added = 0, updated = 0;
    if (lookup_write(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) goto done;
    if (o == NULL) {
        if (xx) goto reply;
        o = zset_new(&ctx_store(c)->enc, 1, c->argv[first + 2].len);
        db_set(ctx_cdb(c), c->argv[1].p, c->argv[1].len, o, 0);
    }
    int flags = (nx ? ZADD_F_NX : 0) | (xx ? ZADD_F_XX : 0);
    for (int i = 0; i < n; i++) {
        const rt_arg *m = &c->argv[first + 3 * i + 2];
        int res = 0;
        zset_add(o, &ctx_store(c)->enc, scores[i], m->p, m->len, flags, &res, NULL);
        if (res & ZADD_R_ADDED) added++;
        if (res & ZADD_R_UPDATED) updated++;
    }
    ss_dirty(c, (uint64_t)(added + updated));
reply:
    rw_int(c->reply, ch ? added + updated : added);
done:
    free(scores);
}

/* ---------------------------------------------------------------------- */
/* GEODIST, GEOHASH, GEOPOS */

static void cmd_geodist(rt_ctx *c) {
    double to_m = 1;
    if (c->argc == 5) {
        to_m = geo_unit_or_reply(c->reply, &c->argv[4]);
        if (to_m < 0) return;
    } else if (c->argc > 5) {
        rw_error(c->reply, ERR_SYNTAX);
        return;
    }
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    double a[2], b[2];
    if (o == NULL || !geo_member_xy(o, &c->argv[2], a) || !geo_member_xy(o, &c->argv[3], b)) {
        rw_null(c->reply);
        return;
    }
    geo_reply_distance(c->reply, geo_distance(a[0], a[1], b[0], b[1]) / to_m);
}

static void cmd_geohash(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    rw_array(c->reply, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double score;
        if (o == NULL || !zset_score(o, c->argv[j].p, c->argv[j].len, &score)) {
            rw_null(c->reply);
            continue;
        }
        char buf[11];
        geo_score_to_string(score, buf);
        rw_bulk(c->reply, buf, sizeof(buf));
    }
}

static void cmd_geopos(rt_ctx *c) {
    obj *o;
    if (lookup_read(c, &c->argv[1], OBJ_ZSET, &o, c->reply) < 0) return;
    rw_array(c->reply, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        double xy[2];
        if (o == NULL || !geo_member_xy(o, &c->argv[j], xy)) {
            rw_null_array(c->reply);
            continue;
        }
        rw_array(c->reply, 2);
        geo_reply_coord(c->reply, xy[0]);
        geo_reply_coord(c->reply, xy[1]);
    }
}

/* ---------------------------------------------------------------------- */
/* The searches. */

enum {
    GF_COORDS = 1 << 0,      /* GEORADIUS: around longitude latitude */
    GF_MEMBER = 1 << 1,      /* GEORADIUSBYMEMBER: around a member */
    GF_NOSTORE = 1 << 2,     /* the _RO forms: no STORE / STOREDIST */
    GF_SEARCH = 1 << 3,      /* GEOSEARCH syntax */
    GF_SEARCHSTORE = 1 << 4, /* GEOSEARCHSTORE: destination first */
};
enum { SORT_NONE, SORT_ASC, SORT_DESC };

/* One match. m is a malloc'd copy of the member. */
typedef struct geo_point {
    double lon, lat, dist, score;
    char *m;
    size_t mlen;
} geo_point;

typedef struct geo_list {
    geo_point *p;
    size_t n, cap;
} geo_list;

static void geo_list_free(geo_list *l) {
    if (l == NULL) return;
    for (size_t i = 0; i < l->n; i++)
        free(l->p[i].m);
    free(l->p);
    free(l);
}

/* The state of one range scan: matches go to out until `limit` (0: none). */
typedef struct geo_scan {
    const geo_shape *shape;
    geo_list *out;
    size_t limit;
} geo_scan;

static void geo_scan_visit(void *priv, const char *m, size_t mlen, double score) {
    geo_scan *sc = priv;
    geo_list *l = sc->out;
    if (sc->limit && l->n >= sc->limit) return;
    double xy[2], dist = 0;
    if (!geo_in_shape(sc->shape, score, xy, &dist)) return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->p = realloc(l->p, sizeof(geo_point) * l->cap);
        if (l->p == NULL) abort();
    }
    geo_point *g = &l->p[l->n++];
    g->lon = xy[0];
    g->lat = xy[1];
    g->dist = dist;
    g->score = score;
    g->m = malloc(mlen + 1);
    if (g->m == NULL) abort();
    memcpy(g->m, m, mlen);
    g->mlen = mlen;
}

/* Collect the members of geo value o inside the shape: the cells in
 * Redis's order (a cell equal to the previous one scanned is skipped), each
 * in score order, stopping once `limit` matched (0: no limit). */
static geo_list *geo_collect(const obj *o, geo_shape *shape, size_t limit) {
    geo_hash cells[9];
    geo_search_cells(shape, cells);
    geo_list *l = calloc(1, sizeof(*l));
    if (l == NULL) abort();
    geo_scan sc = {shape, l, limit};
    int last = -1;
    for (int i = 0; i < 9; i++) {
        if (cells[i].bits == 0 && cells[i].step == 0) continue;
        if (last > 0 && cells[i].bits == cells[last].bits && cells[i].step == cells[last].step)
            continue;
        uint64_t min, max;
        geo_cell_scores(cells[i], &min, &max);
        zscore_range r = {(double)min, (double)max, 0, 1};
        zset_range_score(o, &r, 0, 0, -1, geo_scan_visit, &sc);
        last = i;
    }
    return l;
}

/* Stable merge sort of the matches by distance (what glibc's qsort does
 * for Redis), ascending or descending. */
static void geo_sort(geo_point *p, size_t n, int desc) {
    if (n < 2) return;
    geo_point *tmp = malloc(sizeof(geo_point) * n);
    if (tmp == NULL) abort();
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                int right_first = desc ? p[j].dist > p[i].dist : p[j].dist < p[i].dist;
                tmp[k++] = right_first ? p[j++] : p[i++];
            }
            while (i < mid)
                tmp[k++] = p[i++];
            while (j < hi)
                tmp[k++] = p[j++];
        }
        memcpy(p, tmp, sizeof(geo_point) * n);
    }
    free(tmp);
}

/* Distance order of two matches: <0, 0, >0 (reversed when desc). */
static int geo_cmp(const geo_point *a, const geo_point *b, int desc) {
    int r = a->dist > b->dist ? 1 : (a->dist == b->dist ? 0 : -1);
    return desc ? -r : r;
}

static void gp_swap(geo_point *p, size_t i, size_t j) {
    geo_point t = p[i];
    p[i] = p[j];
    p[j] = t;
}

static void gp_vecswap(geo_point *p, size_t i, size_t j, size_t n) {
    for (size_t k = 0; k < n; k++)
        gp_swap(p, i + k, j + k);
}

/* Index of the median of p[i], p[j], p[k]. */
static size_t gp_med3(geo_point *p, size_t i, size_t j, size_t k, int desc) {
    if (geo_cmp(&p[i], &p[j], desc) < 0) {
        if (geo_cmp(&p[j], &p[k], desc) < 0) return j;
        return geo_cmp(&p[i], &p[k], desc) < 0 ? k : i;
    }
    if (geo_cmp(&p[j], &p[k], desc) > 0) return j;
    return geo_cmp(&p[i], &p[k], desc) < 0 ? i : k;
}

/* Partial sort for COUNT: a Bentley-McIlroy three-way quicksort of
 * p[base, base+n) that only descends into partitions overlapping the ranks
 * [lo, hi] -- the same algorithm as Redis's pqsort, so that matches at
 * equal distances come out in the same order. */
static void geo_partial_sort(geo_point *p, size_t base, size_t n, size_t lo, size_t hi, int desc) {
    for (;;) {
        if (n < 7) {
            for (size_t m = base + 1; m < base + n; m++)
                for (size_t l = m; l > base && geo_cmp(&p[l - 1], &p[l], desc) > 0; l--)
                    gp_swap(p, l, l - 1);
            return;
        }
        size_t pm = base + n / 2;
        if (n > 7) {
            size_t pl = base, pn = base + n - 1;
            if (n > 40) {
                size_t d = n / 8;
                pl = gp_med3(p, pl, pl + d, pl + 2 * d, desc);
                pm = gp_med3(p, pm - d, pm, pm + d, desc);
                pn = gp_med3(p, pn - 2 * d, pn - d, pn, desc);
            }
            pm = gp_med3(p, pl, pm, pn, desc);
        }
        gp_swap(p, base, pm);
        size_t pa = base + 1, pb = base + 1, pc = base + n - 1, pd = base + n - 1;
        for (;;) {
            int r;
            while (pb <= pc && (r = geo_cmp(&p[pb], &p[base], desc)) <= 0) {
                if (r == 0) gp_swap(p, pa++, pb);
                pb++;
            }
            while (pb <= pc && (r = geo_cmp(&p[pc], &p[base], desc)) >= 0) {
                if (r == 0) gp_swap(p, pc, pd--);
                pc--;
            }
            if (pb > pc) break;
            gp_swap(p, pb++, pc--);
        }
        size_t end = base + n;
        size_t r = pa - base < pb - pa ? pa - base : pb - pa;
        gp_vecswap(p, base, pb - r, r);
        r = pd - pc < end - pd - 1 ? pd - pc : end - pd - 1;
        gp_vecswap(p, pb, end - r, r);
        r = pb - pa;
        if (r > 1 && !(hi < base || lo >= base + r)) geo_partial_sort(p, base, r, lo, hi, desc);
        r = pd - pc;
        if (r <= 1) return;
        base = end - r;
        n = r;
        if (hi < base || lo >= base + r) return;
    }
}

/* What a search ended with. */
enum { GS_REPLIED, GS_STORE };

/* The search of every GEORADIUS / GEOSEARCH form, as Redis's single pass:
 * look the source up, parse, validate, collect, sort. Without a store it
 * writes the reply (or an error) into r and returns GS_REPLIED. With one it
 * returns GS_STORE with the members to store and their scores (distance or
 * hash) in *store (the caller owns it), and *dest_idx set to the argv index
 * of the destination; errors are still GS_REPLIED. */
static int geo_search(rt_ctx *c, int argc, const rt_arg *argv, int flags, rbuf *r, geo_list **store,
                      int *dest_idx) {
    int src = (flags & GF_SEARCHSTORE) ? 2 : 1;
    obj *o;
    if (lookup_read(c, &argv[src], OBJ_ZSET, &o, r) < 0) return GS_REPLIED;

    geo_shape shape = {0};
    int base;
    int store_idx = -1, storedist = 0;
    if (flags & GF_COORDS) {
        base = 6;
        shape.type = GEO_SHAPE_RADIUS;
        if (geo_lonlat_or_reply(r, &argv[2], shape.xy) < 0) return GS_REPLIED;
        if (geo_radius_or_reply(r, &argv[4], &shape) < 0) return GS_REPLIED;
    } else if (flags & GF_MEMBER) {
        base = 5;
        if (o != NULL) {
            shape.type = GEO_SHAPE_RADIUS;
            if (!geo_member_xy(o, &argv[2], shape.xy)) {
                rw_error(r, "ERR could not decode requested zset member");
                return GS_REPLIED;
            }
            if (geo_radius_or_reply(r, &argv[3], &shape) < 0) return GS_REPLIED;
        }
    } else {
        base = 2;
        if (flags & GF_SEARCHSTORE) {
            base = 3;
            store_idx = 1;
        }
    }

    int withdist = 0, withhash = 0, withcoord = 0, any = 0, sort = SORT_NONE;
    int frommember = 0, fromloc = 0, byradius = 0, bybox = 0;
    long long count = 0;
    int search = (flags & GF_SEARCH) != 0;
    int can_store = !(flags & GF_NOSTORE) && !search;
    int left = argc - base;
    for (int i = 0; i < left; i++) {
        const rt_arg *a = &argv[base + i];
        if (opt_is(a, "withdist")) {
            withdist = 1;
        } else if (opt_is(a, "withhash")) {
            withhash = 1;
        } else if (opt_is(a, "withcoord")) {
            withcoord = 1;
        } else if (opt_is(a, "any")) {
            any = 1;
        } else if (opt_is(a, "asc")) {
            sort = SORT_ASC;
        } else if (opt_is(a, "desc")) {
            sort = SORT_DESC;
        } else if (opt_is(a, "count") && i + 1 < left) {
            if (arg_ll_or_reply(r, &argv[base + i + 1], &count, NULL) < 0) return GS_REPLIED;
            if (count <= 0) {
                rw_error(r, "ERR COUNT must be > 0");
                return GS_REPLIED;
            }
            i++;
        } else if (opt_is(a, "store") && i + 1 < left && can_store) {
            store_idx = base + i + 1;
            storedist = 0;
            i++;
        } else if (opt_is(a, "storedist") && i + 1 < left && can_store) {
            store_idx = base + i + 1;
            storedist = 1;
            i++;
        } else if (opt_is(a, "storedist") && search && (flags & GF_SEARCHSTORE)) {
            storedist = 1;
        } else if (opt_is(a, "frommember") && i + 1 < left && search && !fromloc) {
            if (o != NULL && !geo_member_xy(o, &argv[base + i + 1], shape.xy)) {
                rw_error(r, "ERR could not decode requested zset member");
                return GS_REPLIED;
            }
            frommember = 1;
            i++;
        } else if (opt_is(a, "fromlonlat") && i + 2 < left && search && !frommember) {
            if (geo_lonlat_or_reply(r, &argv[base + i + 1], shape.xy) < 0) return GS_REPLIED;
            fromloc = 1;
            i += 2;
        } else if (opt_is(a, "byradius") && i + 2 < left && search && !bybox) {
            if (geo_radius_or_reply(r, &argv[base + i + 1], &shape) < 0) return GS_REPLIED;
            shape.type = GEO_SHAPE_RADIUS;
            byradius = 1;
            i += 2;
        } else if (opt_is(a, "bybox") && i + 3 < left && search && !byradius) {
            if (geo_box_or_reply(r, &argv[base + i + 1], &shape) < 0) return GS_REPLIED;
            shape.type = GEO_SHAPE_BOX;
            bybox = 1;
            i += 3;
        } else {
            rw_error(r, ERR_SYNTAX);
            return GS_REPLIED;
        }
    }

    char name[64];
    size_t nlen = strnlen(argv[0].p, argv[0].len);
    if (nlen >= sizeof(name)) nlen = sizeof(name) - 1;
    memcpy(name, argv[0].p, nlen);
    name[nlen] = '\0';
    if (store_idx >= 0 && (withdist || withhash || withcoord)) {
        rw_errorf(r, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                  (flags & GF_SEARCHSTORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return GS_REPLIED;
    }
    if (search && !(frommember || fromloc)) {
        rw_errorf(r, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", name);
        return GS_REPLIED;
    }
    if (search && !(byradius || bybox)) {
        rw_errorf(r, "ERR exactly one of BYRADIUS and BYBOX can be specified for %s", name);
        return GS_REPLIED;
    }
    if (any && !count) {
        rw_error(r, "ERR the ANY argument requires COUNT argument");
        return GS_REPLIED;
    }

    geo_list *l;
    if (o == NULL) {
        if (store_idx < 0) {
            rw_array(r, 0);
            return GS_REPLIED;
        }
        l = calloc(1, sizeof(*l));
        if (l == NULL) abort();
        *store = l;
        *dest_idx = store_idx;
        return GS_STORE;
    }
    if (count != 0 && sort == SORT_NONE && !any) sort = SORT_ASC;
    l = geo_collect(o, &shape, any ? (size_t)count : 0);
    size_t keep = (count == 0 || l->n < (unsigned long long)count) ? l->n : (size_t)count;
    if (sort != SORT_NONE && keep == l->n)
        geo_sort(l->p, l->n, sort == SORT_DESC);
    else if (sort != SORT_NONE)
        geo_partial_sort(l->p, 0, l->n, 0, keep - 1, sort == SORT_DESC);
    for (size_t i = keep; i < l->n; i++)
        free(l->p[i].m);
    l->n = keep;
    for (size_t i = 0; i < l->n; i++)
        l->p[i].dist /= shape.conversion;

    if (store_idx >= 0) {
        if (!storedist)
            for (size_t i = 0; i < l->n; i++)
                l->p[i].dist = l->p[i].score;
        *store = l;
        *dest_idx = store_idx;
        return GS_STORE;
    }

    int extra = withdist + withhash + withcoord;
    rw_array(r, (long)l->n);
    for (size_t i = 0; i < l->n; i++) {
        geo_point *g = &l->p[i];
        if (extra) rw_array(r, extra + 1);
        rw_bulk(r, g->m, g->mlen);
        if (withdist) geo_reply_distance(r, g->dist);
        if (withhash) rw_int(r, (long long)g->score);
        if (withcoord) {
            rw_array(r, 2);
            geo_reply_coord(r, g->lon);
            geo_reply_coord(r, g->lat);
        }
    }
    geo_list_free(l);
    return GS_REPLIED;
}

/* Store the matches of a search (member, score in .dist) at key as a
 * sorted set, replacing what was there; no matches delete the key. Replies
 * with the number stored. */
static void geo_store(rt_ctx *c, const rt_arg *key, const geo_list *l, rbuf *r) {
    db *d = ctx_cdb(c);
    if (l->n > 0) {
        const store_enc *enc = &ctx_store(c)->enc;
        obj *o = zset_new_skiplist();
        for (size_t i = 0; i < l->n; i++) {
            int res = 0;
            zset_add(o, enc, l->p[i].dist, l->p[i].m, l->p[i].mlen, 0, &res, NULL);
        }
        zset_fit_encoding(o, enc);
        db_set(d, key->p, key->len, o, 0);
        ss_dirty(c, l->n);
    } else if (db_del(d, key->p, key->len)) {
        ss_dirty(c, 1);
    }
    rw_int(r, (long long)l->n);
}

/* The single-shard body of every search form. */
static void geo_search_proc(rt_ctx *c, int flags) {
    geo_list *l = NULL;
    int dest = 0;
    if (geo_search(c, c->argc, c->argv, flags, c->reply, &l, &dest) == GS_STORE) {
        geo_store(c, &c->argv[dest], l, c->reply);
        geo_list_free(l);
    }
}

static void cmd_georadius(rt_ctx *c) {
    geo_search_proc(c, GF_COORDS);
}
static void cmd_georadiusbymember(rt_ctx *c) {
    geo_search_proc(c, GF_MEMBER);
}
static void cmd_georadius_ro(rt_ctx *c) {
    geo_search_proc(c, GF_COORDS | GF_NOSTORE);
}
static void cmd_georadiusbymember_ro(rt_ctx *c) {
    geo_search_proc(c, GF_MEMBER | GF_NOSTORE);
}
static void cmd_geosearch(rt_ctx *c) {
    geo_search_proc(c, GF_SEARCH);
}
static void cmd_geosearchstore(rt_ctx *c) {
    geo_search_proc(c, GF_SEARCH | GF_SEARCHSTORE);
}

/* ---------------------------------------------------------------------- */
/* Searches whose source and destination live on different shards. */

/* A cross-shard search (tx->state, coordinator-owned). The source's step
 * leaves its outcome in its part: n = dest_idx << 1 | GS_*, ptr = the
 * geo_list to store; the coordinator moves them here. */
typedef struct geo_tx {
    int flags;
    geo_list *list;
    int dest_idx;
} geo_tx;

/* The part holding argv index idx. */
static int geo_part_of(rt_tx *tx, int idx) {
    for (int p = 0; p < tx->nparts; p++)
        for (int k = 0; k < tx->part[p].nkeys; k++)
            if (tx->part[p].keys[k] == idx) return p;
    return 0;
}

static void op_geo_search(rt_ctx *c) {
    rt_tx *tx = c->tx;
    const geo_tx *g = tx->state;
    geo_list *l = NULL;
    int dest = 0;
    int out = geo_search(c, tx->argc, tx->argv, g->flags, &tx->part[c->part].out, &l, &dest);
    /* Outcome and destination go to this part; the coordinator reads them
     * once the step is done. */
    tx->part[c->part].n = (long long)dest << 1 | out;
    tx->part[c->part].ptr = l;
}

static void op_geo_store(rt_ctx *c) {
    geo_tx *g = c->tx->state;
    geo_store(c, &c->tx->argv[g->dest_idx], g->list, &c->tx->part[c->part].out);
}

static void geo_multi_finish(rt_tx *tx) {
    geo_tx *g = tx->state;
    for (int p = 0; p < tx->nparts; p++)
        if (tx->part[p].out.len) rb_append(&tx->reply, tx->part[p].out.buf, tx->part[p].out.len);
    geo_list_free(g->list);
    free(g);
    tx->state = NULL;
    rt_tx_done(tx);
}

static void geo_multi_after_search(rt_tx *tx) {
    geo_tx *g = tx->state;
    int src = geo_part_of(tx, (g->flags & GF_SEARCHSTORE) ? 2 : 1);
    if ((tx->part[src].n & 1) != GS_STORE) {
        geo_multi_finish(tx);
        return;
    }
    g->dest_idx = (int)(tx->part[src].n >> 1);
    g->list = tx->part[src].ptr;
    tx->part[src].ptr = NULL;
    rt_tx_run_one(tx, geo_part_of(tx, g->dest_idx), op_geo_store, geo_multi_finish);
}

static void geo_multi(rt_tx *tx, int flags) {
    geo_tx *g = calloc(1, sizeof(*g));
    if (g == NULL) abort();
    g->flags = flags;
    tx->state = g;
    int src = geo_part_of(tx, (flags & GF_SEARCHSTORE) ? 2 : 1);
    rt_tx_run_one(tx, src, op_geo_search, geo_multi_after_search);
}

static void cmd_georadius_multi(rt_tx *tx) {
    geo_multi(tx, GF_COORDS);
}
static void cmd_georadiusbymember_multi(rt_tx *tx) {
    geo_multi(tx, GF_MEMBER);
}
static void cmd_geosearchstore_multi(rt_tx *tx) {
    geo_multi(tx, GF_SEARCH | GF_SEARCHSTORE);
}

/* GEORADIUS / GEORADIUSBYMEMBER keys: the source and, when present, the
 * last STORE / STOREDIST destination (as Redis's georadiusGetKeys). */
static int keys_georadius(int argc, rt_arg *argv, int *keys, rbuf *err) {
    (void)err;
    int n = 0, dest = -1;
    keys[n++] = 1;
    for (int i = 5; i < argc; i++) {
        if ((opt_is(&argv[i], "store") || opt_is(&argv[i], "storedist")) && i + 1 < argc) {
            dest = i + 1;
            i++;
        }
    }
    if (dest >= 0) keys[n++] = dest;
    return n;
}

cmd_def cmd_rows_geo[] = {
    KEYS("geoadd", -5, CMD_WRITE | CMD_DENYOOM, 1, 1, 1, cmd_geoadd, NULL),
    KEYS("geodist", -4, CMD_READONLY, 1, 1, 1, cmd_geodist, NULL),
    KEYS("geohash", -2, CMD_READONLY, 1, 1, 1, cmd_geohash, NULL),
    KEYS("geopos", -2, CMD_READONLY, 1, 1, 1, cmd_geopos, NULL),
    KEYS_GK("georadius", -6, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 1, 1, 1, cmd_georadius,
            cmd_georadius_multi, keys_georadius),
    KEYS_GK("georadiusbymember", -5, CMD_WRITE | CMD_DENYOOM | CMD_MOVABLE_KEYS, 1, 1, 1,
            cmd_georadiusbymember, cmd_georadiusbymember_multi, keys_georadius),
    KEYS("georadius_ro", -6, CMD_READONLY, 1, 1, 1, cmd_georadius_ro, NULL),
    KEYS("georadiusbymember_ro", -5, CMD_READONLY, 1, 1, 1, cmd_georadiusbymember_ro, NULL),
    KEYS("geosearch", -7, CMD_READONLY, 1, 1, 1, cmd_geosearch, NULL),
    KEYS("geosearchstore", -8, CMD_WRITE | CMD_DENYOOM, 1, 2, 1, cmd_geosearchstore,
         cmd_geosearchstore_multi),
    END,
};
