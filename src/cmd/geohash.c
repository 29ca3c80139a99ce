/* geohash.c -- geohash encoding, cells, neighbours and distances, with
 * Redis 7.0's floating-point operations in Redis's order (see geohash.h).
 * Pure code, no state: safe on any thread.
 */
#include "geohash.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

#define DEG_PER_RAD (M_PI / 180.0)
#define MERCATOR_MAX 20037726.37

static inline double to_rad(double deg) {
    return deg * DEG_PER_RAD;
}
static inline double to_deg(double rad) {
    return rad / DEG_PER_RAD;
}

static const geo_range LON_RANGE = {GEO_LONG_MIN, GEO_LONG_MAX};
static const geo_range LAT_RANGE = {GEO_LAT_MIN, GEO_LAT_MAX};

/* Spread the 32 bits of v over the even bits of a 64-bit word. */
static uint64_t spread_bits(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* Gather the even bits of w into 32 bits. */
static uint32_t gather_bits(uint64_t w) {
    uint64_t x = w & 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* double -> uint32 truncation as x86-64 performs a C cast of an in-range
 * value (the offsets here are always within [0, 2^32)). */
static uint32_t offset_bits(double v) {
    return (uint32_t)(uint64_t)v;
}

int geo_encode(const geo_range *lon_r, const geo_range *lat_r, double lon, double lat, int step,
               geo_hash *h) {
    if (step < 1 || step > 32) return 0;
    if (lon > GEO_LONG_MAX || lon < GEO_LONG_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN)
        return 0;
    h->bits = 0;
    h->step = (uint8_t)step;
    if (lat < lat_r->min || lat > lat_r->max || lon < lon_r->min || lon > lon_r->max) return 0;
    double lat_off = (lat - lat_r->min) / (lat_r->max - lat_r->min);
    double lon_off = (lon - lon_r->min) / (lon_r->max - lon_r->min);
    lat_off *= (double)(1ULL << step);
    lon_off *= (double)(1ULL << step);
    h->bits = spread_bits(offset_bits(lat_off)) | (spread_bits(offset_bits(lon_off)) << 1);
    return 1;
}

uint64_t geo_score(double lon, double lat) {
    geo_hash h;
    geo_encode(&LON_RANGE, &LAT_RANGE, lon, lat, GEO_STEP_MAX, &h);
    return h.bits << (52 - 2 * GEO_STEP_MAX);
}

void geo_decode(const geo_range *lon_r, const geo_range *lat_r, geo_hash h, geo_area *a) {
    uint32_t ilat = gather_bits(h.bits), ilon = gather_bits(h.bits >> 1);
    double lat_scale = lat_r->max - lat_r->min, lon_scale = lon_r->max - lon_r->min;
    double cells = (double)(1ULL << h.step);
    a->lat.min = lat_r->min + (ilat * 1.0 / cells) * lat_scale;
    a->lat.max = lat_r->min + ((ilat + 1) * 1.0 / cells) * lat_scale;
    a->lon.min = lon_r->min + (ilon * 1.0 / cells) * lon_scale;
    a->lon.max = lon_r->min + ((ilon + 1) * 1.0 / cells) * lon_scale;
}

/* The 64-bit word a C cast of score gives on x86-64 (cvttsd2si, with the
 * unsigned adjustment above 2^63), written without undefined behaviour. */
static uint64_t score_bits(double s) {
    const double two63 = 9223372036854775808.0;
    const uint64_t indefinite = 1ULL << 63;
    if (s >= two63) {
        double t = s - two63;
        uint64_t v = t < two63 ? (uint64_t)(int64_t)t : indefinite;
        return v ^ (1ULL << 63);
    }
    if (!(s > -two63 - 1.0) || isnan(s)) return indefinite;
    return (uint64_t)(int64_t)s;
}

void geo_score_to_xy(double score, double xy[2]) {
    geo_hash h = {score_bits(score), GEO_STEP_MAX};
    geo_area a;
    geo_decode(&LON_RANGE, &LAT_RANGE, h, &a);
    xy[0] = (a.lon.min + a.lon.max) / 2;
    if (xy[0] > GEO_LONG_MAX) xy[0] = GEO_LONG_MAX;
    if (xy[0] < GEO_LONG_MIN) xy[0] = GEO_LONG_MIN;
    xy[1] = (a.lat.min + a.lat.max) / 2;
    if (xy[1] > GEO_LAT_MAX) xy[1] = GEO_LAT_MAX;
    if (xy[1] < GEO_LAT_MIN) xy[1] = GEO_LAT_MIN;
}

void geo_score_to_string(double score, char out[11]) {
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    double xy[2];
    geo_score_to_xy(score, xy);
    geo_range lon = {-180, 180}, lat = {-90, 90};
    geo_hash h;
    geo_encode(&lon, &lat, xy[0], xy[1], 26, &h);
    for (int i = 0; i < 10; i++)
        out[i] = alphabet[(h.bits >> (52 - (i + 1) * 5)) & 0x1f];
    out[10] = alphabet[0]; /* only 52 bits: the 11th character is always '0' */
}

static double lat_distance(double lat1, double lat2) {
    return GEO_EARTH_RADIUS * fabs(to_rad(lat2) - to_rad(lat1));
}

double geo_distance(double lon1, double lat1, double lon2, double lat2) {
    double lon1r = to_rad(lon1), lon2r = to_rad(lon2);
    double v = sin((lon2r - lon1r) / 2);
    if (v == 0.0) return lat_distance(lat1, lat2);
    double lat1r = to_rad(lat1), lat2r = to_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double a = u * u + cos(lat1r) * cos(lat2r) * v * v;
    return 2.0 * GEO_EARTH_RADIUS * asin(sqrt(a));
}

/* Levels of precision for a search of range_m metres around latitude lat. */
static int steps_for_radius(double range_m, double lat) {
    if (range_m == 0) return 26;
    int step = 1;
    while (range_m < MERCATOR_MAX) {
        range_m *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) step--;
    }
    if (step < 1) step = 1;
    if (step > 26) step = 26;
    return step;
}

/* The lon/lat bounding box of the shape. */
static void shape_bounds(geo_shape *s) {
    double lon = s->xy[0], lat = s->xy[1];
    int circle = s->type == GEO_SHAPE_RADIUS;
    double height = s->conversion * (circle ? s->radius : s->height / 2);
    double width = s->conversion * (circle ? s->radius : s->width / 2);
    const double dlat = to_deg(height / GEO_EARTH_RADIUS);
    const double dlon_top = to_deg(width / GEO_EARTH_RADIUS / cos(to_rad(lat + dlat)));
    const double dlon_bottom = to_deg(width / GEO_EARTH_RADIUS / cos(to_rad(lat - dlat)));
    int south = lat < 0;
    s->bounds[0] = south ? lon - dlon_bottom : lon - dlon_top;
    s->bounds[2] = south ? lon + dlon_bottom : lon + dlon_top;
    s->bounds[1] = lat - dlat;
    s->bounds[3] = lat + dlat;
}

/* Move a cell by d (+1/-1) along longitude (odd bits) or latitude (even
 * bits), wrapping within its step's bits. */
static void cell_move(geo_hash *h, int d, int along_lon) {
    uint64_t odd = 0xaaaaaaaaaaaaaaaaULL, even = 0x5555555555555555ULL;
    uint64_t mine = h->bits & (along_lon ? odd : even);
    uint64_t other = h->bits & (along_lon ? even : odd);
    int shift = 64 - h->step * 2;
    uint64_t fill = (along_lon ? even : odd) >> shift; /* the other coordinate's bits */
    if (d > 0)
        mine = mine + (fill + 1);
    else
        mine = (mine | fill) - (fill + 1);
    mine &= (along_lon ? odd : even) >> shift;
    h->bits = mine | other;
}

static geo_hash cell_neighbour(geo_hash h, int dlon, int dlat) {
    if (dlon) cell_move(&h, dlon, 1);
    if (dlat) cell_move(&h, dlat, 0);
    return h;
}

enum { C_CENTER, C_N, C_S, C_E, C_W, C_NE, C_NW, C_SE, C_SW };

/* The 9 cells around h at its step, in C_* order. */
static void cells_around(geo_hash h, geo_hash c[9]) {
    c[C_CENTER] = h;
    c[C_N] = cell_neighbour(h, 0, 1);
    c[C_S] = cell_neighbour(h, 0, -1);
    c[C_E] = cell_neighbour(h, 1, 0);
    c[C_W] = cell_neighbour(h, -1, 0);
    c[C_NE] = cell_neighbour(h, 1, 1);
    c[C_NW] = cell_neighbour(h, -1, 1);
    c[C_SE] = cell_neighbour(h, 1, -1);
    c[C_SW] = cell_neighbour(h, -1, -1);
}

void geo_search_cells(geo_shape *s, geo_hash c[9]) {
    shape_bounds(s);
    double min_lon = s->bounds[0], min_lat = s->bounds[1];
    double max_lon = s->bounds[2], max_lat = s->bounds[3];
    double lon = s->xy[0], lat = s->xy[1];
    double radius_m =
        s->type == GEO_SHAPE_RADIUS
            ? s->radius
            : sqrt((s->width / 2) * (s->width / 2) + (s->height / 2) * (s->height / 2));
    radius_m *= s->conversion;
    int steps = steps_for_radius(radius_m, lat);

    geo_hash h;
    geo_area area, n, so, e, w;
    geo_encode(&LON_RANGE, &LAT_RANGE, lon, lat, steps, &h);
    cells_around(h, c);
    geo_decode(&LON_RANGE, &LAT_RANGE, h, &area);

    /* A neighbour too close to the search area to cover it: one level up. */
    geo_decode(&LON_RANGE, &LAT_RANGE, c[C_N], &n);
    geo_decode(&LON_RANGE, &LAT_RANGE, c[C_S], &so);
    geo_decode(&LON_RANGE, &LAT_RANGE, c[C_E], &e);
    geo_decode(&LON_RANGE, &LAT_RANGE, c[C_W], &w);
    int coarser =
        n.lat.max < max_lat || so.lat.min > min_lat || e.lon.max < max_lon || w.lon.min > min_lon;
    if (steps > 1 && coarser) {
        steps--;
        geo_encode(&LON_RANGE, &LAT_RANGE, lon, lat, steps, &h);
        cells_around(h, c);
        geo_decode(&LON_RANGE, &LAT_RANGE, h, &area);
    }

    /* Drop the neighbours the search area cannot reach. */
    if (steps >= 2) {
        static const geo_hash none = {0, 0};
        if (area.lat.min < min_lat) c[C_S] = c[C_SW] = c[C_SE] = none;
        if (area.lat.max > max_lat) c[C_N] = c[C_NE] = c[C_NW] = none;
        if (area.lon.min < min_lon) c[C_W] = c[C_SW] = c[C_NW] = none;
        if (area.lon.max > max_lon) c[C_E] = c[C_SE] = c[C_NE] = none;
    }
}

void geo_cell_scores(geo_hash h, uint64_t *min, uint64_t *max) {
    int shift = 52 - h.step * 2;
    *min = h.bits << shift;
    *max = (h.bits + 1) << shift;
}

int geo_in_shape(const geo_shape *s, double score, double xy[2], double *dist) {
    geo_score_to_xy(score, xy);
    if (s->type == GEO_SHAPE_RADIUS) {
        *dist = geo_distance(s->xy[0], s->xy[1], xy[0], xy[1]);
        return *dist <= s->radius * s->conversion;
    }
    double width = s->width * s->conversion, height = s->height * s->conversion;
    if (lat_distance(xy[1], s->xy[1]) > height / 2) return 0;
    if (geo_distance(xy[0], xy[1], s->xy[0], xy[1]) > width / 2) return 0;
    *dist = geo_distance(s->xy[0], s->xy[1], xy[0], xy[1]);
    return 1;
}

int geo_fmt_distance(char *buf, double d) {
    if (d == 0) return snprintf(buf, 32, "0.0000");
    long long v = llrint(d * 10000.0);
    unsigned long long u;
    const char *sign = "";
    if (v < 0) {
        sign = "-";
        u = v == LLONG_MIN ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)-v;
    } else {
        u = (unsigned long long)v;
    }
    return snprintf(buf, 32, "%s%llu.%04llu", sign, u / 10000, u % 10000);
}
