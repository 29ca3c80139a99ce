/* test_geo.c -- unit tests of the geohash arithmetic (geohash.c): scores
 * and positions of known places (values redis-server gives), geohash
 * strings, distances, search cells and distance formatting. */
#include <math.h>
#include <string.h>

#include "cmd/geohash.h"
#include "unit.h"

static void test_scores(void) {
    /* GEOADD Sicily 13.361389 38.115556 Palermo: score 3479099956230698. */
    CHECK(geo_score(13.361389, 38.115556) == 3479099956230698ULL);
    CHECK(geo_score(15.087269, 37.502669) == 3479447370796909ULL);
    double xy[2];
    geo_score_to_xy(3479099956230698.0, xy);
    CHECK(fabs(xy[0] - 13.36138933897018433) < 1e-12);
    CHECK(fabs(xy[1] - 38.11555639549629859) < 1e-12);
    char h[11];
    geo_score_to_string(3479099956230698.0, h);
    CHECK(memcmp(h, "sqc8b49rny0", 11) == 0);
    geo_score_to_string(3479447370796909.0, h);
    CHECK(memcmp(h, "sqdtr74hyu0", 11) == 0);
    /* Scores no GEOADD makes still decode, clamped to the limits. */
    geo_score_to_xy(-1.0, xy);
    CHECK(xy[0] <= GEO_LONG_MAX && xy[1] <= GEO_LAT_MAX);
    geo_score_to_xy(INFINITY, xy);
    CHECK(xy[0] >= GEO_LONG_MIN);
}

static void test_distance(void) {
    double d = geo_distance(13.36138933897018433, 38.11555639549629859, 15.08726745843887329,
                            37.50266842333162032);
    char buf[32];
    geo_fmt_distance(buf, d / 1000);
    CHECK(strcmp(buf, "166.2742") == 0);
    geo_fmt_distance(buf, 0);
    CHECK(strcmp(buf, "0.0000") == 0);
    geo_fmt_distance(buf, 0.00005);
    CHECK(strcmp(buf, "0.0000") == 0 || strcmp(buf, "0.0001") == 0);
    geo_fmt_distance(buf, 12.34565);
    CHECK(strncmp(buf, "12.345", 6) == 0);
    CHECK(geo_distance(1, 2, 1, 2) == 0);
}

static void test_cells(void) {
    geo_shape s = {0};
    s.type = GEO_SHAPE_RADIUS;
    s.xy[0] = 15;
    s.xy[1] = 37;
    s.radius = 200;
    s.conversion = 1000;
    geo_hash c[9];
    geo_search_cells(&s, c);
    CHECK(c[0].step >= 1 && c[0].step <= 26);
    /* The centre cell's score interval contains the centre's score. */
    uint64_t min, max, sc = geo_score(15, 37);
    geo_cell_scores(c[0], &min, &max);
    CHECK(min <= sc && sc < max);
    double xy[2], dist;
    CHECK(geo_in_shape(&s, (double)geo_score(15.087269, 37.502669), xy, &dist));
    CHECK(fabs(dist - 56441.26) < 1.0);
    CHECK(!geo_in_shape(&s, (double)geo_score(2.35, 48.86), xy, &dist));
    s.type = GEO_SHAPE_BOX;
    s.width = 400;
    s.height = 400;
    CHECK(geo_in_shape(&s, (double)geo_score(15.087269, 37.502669), xy, &dist));
}

int main(void) {
    test_scores();
    test_distance();
    test_cells();
    UNIT_DONE();
}
