/* geohash.h -- the geohash arithmetic behind the GEO commands, computed as
 * Redis 7.0 computes it so that scores, distances and search results are
 * bit-for-bit Redis's. Pure functions: no store, no replies, no state; safe
 * on any thread; unit tested in tests/unit/test_geo.c.
 *
 * A position is stored as a sorted-set score: the 52-bit interleaving of
 * 26-bit fixed-point latitude (even bits) and longitude (odd bits), over
 * longitude [-180,180] and latitude [-85.05112878,85.05112878] (the Web
 * Mercator limits):
 *
 *   bit 51 ............................................. bit 0
 *   lon25 lat25 lon24 lat24 ... lon0 lat0
 *
 * A hash of `step` levels keeps the top 2*step bits; every position whose
 * score starts with those bits lies in its cell, so a cell is one score
 * interval. A search covers the cell of the centre at a precision fitting
 * the radius plus its 8 neighbours, then filters by exact distance.
 */
#ifndef PERCORE_GEOHASH_H
#define PERCORE_GEOHASH_H

#include <stddef.h>
#include <stdint.h>

#define GEO_STEP_MAX 26
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define GEO_LONG_MIN -180.0
#define GEO_LONG_MAX 180.0
#define GEO_EARTH_RADIUS 6372797.560856 /* metres */

typedef struct geo_hash {
    uint64_t bits;
    uint8_t step; /* 0 with bits 0: no cell (a pruned neighbour) */
} geo_hash;

typedef struct geo_range {
    double min, max;
} geo_range;

typedef struct geo_area {
    geo_range lon, lat;
} geo_area;

enum { GEO_SHAPE_RADIUS = 1, GEO_SHAPE_BOX = 2 };

/* What a search looks for: a circle of `radius` or a box of width x height
 * (in the unit whose size in metres is `conversion`) around xy (lon, lat). */
typedef struct geo_shape {
    int type;
    double xy[2];
    double conversion;
    double radius;
    double width, height;
    double bounds[4]; /* set by geo_search_cells: min lon, min lat, max lon, max lat */
} geo_shape;

/* Hash lon/lat at `step` (1..32) levels over the given ranges. Returns 0
 * when the point lies outside the ranges or the GEO limits. */
int geo_encode(const geo_range *lon_r, const geo_range *lat_r, double lon, double lat, int step,
               geo_hash *h);
/* The 52-bit score of a point (within the GEO limits). */
uint64_t geo_score(double lon, double lat);
/* The area of cell h over the given ranges. */
void geo_decode(const geo_range *lon_r, const geo_range *lat_r, geo_hash h, geo_area *a);
/* The position (centre of its finest cell, clamped to the GEO limits) that
 * a sorted-set score stands for. Any score decodes, as in Redis (scores
 * that no GEOADD made give odd but deterministic positions). */
void geo_score_to_xy(double score, double xy[2]);
/* The 11-character standard geohash ([-90,90] latitude) of a score. */
void geo_score_to_string(double score, char out[11]);

/* Great-circle distance in metres (haversine, Redis's earth radius). */
double geo_distance(double lon1, double lat1, double lon2, double lat2);

/* The 9 cells to scan for a search (centre, N, S, E, W, NE, NW, SE, SW);
 * cells that cannot hold a match are zeroed (bits 0, step 0). Fills
 * shape->bounds. */
void geo_search_cells(geo_shape *shape, geo_hash cells[9]);
/* The score interval [*min, *max) of cell h. */
void geo_cell_scores(geo_hash h, uint64_t *min, uint64_t *max);
/* Whether the point of `score` is inside the shape: 1 with its position in
 * xy and its distance from the centre (metres) in *dist, else 0. */
int geo_in_shape(const geo_shape *shape, double score, double xy[2], double *dist);

/* A distance as Redis prints it: rounded to 4 decimals ("%.4f" by integer
 * arithmetic). Returns the length written into buf (at least 32 bytes). */
int geo_fmt_distance(char *buf, double d);

#endif
