/*
 * test_validity.c - the quick validity test for polygons of one ring
 * (validity.c) against GEOS's own: on thousands of random rings, most of them
 * self-intersecting, touching or folding back on a coarse grid, the quick
 * test may only say "simple" where GEOS says valid, and stapel__is_valid must
 * always give GEOS's answer. Star-shaped rings (simple by construction) show
 * that the quick test does answer, and hand-made rings cover the corner
 * cases: collinear corners, spikes, a ring through one of its corners twice,
 * an edge touching a corner, holes and parts (left to GEOS).
 */
#include "geom.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAXP 40
#define PI 3.14159265358979323846

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next_u32(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng >> 33);
}

static GEOSGeometry *polygon_of(stapel_ctx *ctx, const double *xy, unsigned m)
{
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, m, 0, 0);
    assert_non_null(seq);
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(ctx->geos, seq);
    assert_non_null(ring);
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(ctx->geos, ring, NULL, 0);
    assert_non_null(poly);
    return poly;
}

/* Close the ring of n points in xy (room for n + 1). */
static unsigned close_ring(double *xy, unsigned n)
{
    xy[2 * n] = xy[0];
    xy[2 * n + 1] = xy[1];
    return n + 1;
}

/* Both answers for one ring; returns whether the quick test answered. */
static bool compare(stapel_ctx *ctx, const double *xy, unsigned m)
{
    GEOSGeometry *g = polygon_of(ctx, xy, m);
    char geos = GEOSisValid_r(ctx->geos, g);
    bool quick = stapel__ring_surely_simple(xy, m);
    if (quick)
        assert_int_equal(geos, 1);
    assert_int_equal(stapel__is_valid(ctx, g), geos);
    GEOSGeom_destroy_r(ctx->geos, g);
    return quick;
}

static void test_random_rings_agree_with_geos(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    /* A coarse grid, so that edges touch, overlap and pass through corners
     * often; placed at Dutch RD coordinates on a 1 mm grid, and at the
     * origin in whole units. */
    const double base[2][3] = {{155000.0, 463000.0, 0.001}, {0.0, 0.0, 1.0}};
    size_t n_valid = 0, n_quick = 0, n_total = 0;
    for (int b = 0; b < 2; b++) {
        for (int trial = 0; trial < 20000; trial++) {
            double xy[2 * (MAXP + 1)];
            unsigned n = 3 + next_u32() % 10, k = 0;
            for (unsigned i = 0; i < n; i++) {
                double x = base[b][0] + (double)(next_u32() % 7) * base[b][2];
                double y = base[b][1] + (double)(next_u32() % 7) * base[b][2];
                if (k > 0 && x == xy[2 * k - 2] && y == xy[2 * k - 1])
                    continue; /* no repeated corners, as convert.c makes them */
                xy[2 * k] = x;
                xy[2 * k + 1] = y;
                k++;
            }
            if (k < 3 || (xy[0] == xy[2 * k - 2] && xy[1] == xy[2 * k - 1]))
                continue;
            unsigned m = close_ring(xy, k);
            n_total++;
            GEOSGeometry *g = polygon_of(ctx, xy, m);
            n_valid += GEOSisValid_r(ctx->geos, g) == 1;
            GEOSGeom_destroy_r(ctx->geos, g);
            n_quick += compare(ctx, xy, m);
        }
    }
    /* Both kinds occur, and the quick test answers for some valid rings. */
    assert_true(n_valid > n_total / 20 && n_valid < n_total - n_total / 20);
    assert_true(n_quick > 0);
    stapel_ctx_free(ctx);
}

static void test_star_rings_answered_quickly(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    size_t n_quick = 0, n = 0;
    for (int trial = 0; trial < 5000; trial++) {
        /* Corners at strictly increasing angles around a centre, at random
         * radii: simple by construction (up to rounding to the grid). */
        unsigned k = 3 + next_u32() % (MAXP - 3);
        double xy[2 * (MAXP + 1)];
        for (unsigned i = 0; i < k; i++) {
            double t = 2 * PI * ((double)i + 0.1 + 0.8 * (double)(next_u32() % 1000) / 1000) / k;
            double r = 10 + (double)(next_u32() % 5000) / 10;
            xy[2 * i] = round((155000 + r * cos(t)) * 1000) / 1000;
            xy[2 * i + 1] = round((463000 + r * sin(t)) * 1000) / 1000;
        }
        unsigned m = close_ring(xy, k);
        n_quick += compare(ctx, xy, m);
        n++;
    }
    assert_true(n_quick > n * 9 / 10);
    stapel_ctx_free(ctx);
}

static void test_near_touching_corner(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    /* A ring whose corner v comes down onto its long edge a -> b, at RD
     * coordinates where the edge's direction is not exact in binary: v is
     * moved a few units in the last place around the edge, so it lies just
     * above, on or just below it. Only GEOS's exact orientation knows which;
     * the quick test must never call a ring simple that GEOS finds invalid. */
    const double a[2] = {155000.123, 463000.457}, b[2] = {155937.411, 463331.779};
    size_t n_quick = 0, n_invalid = 0;
    for (int t = 1; t < 10; t++) {
        double vx0 = a[0] + (b[0] - a[0]) * t / 10, vy0 = a[1] + (b[1] - a[1]) * t / 10;
        for (int k = -6; k <= 6; k++) {
            for (int l = -6; l <= 6; l++) {
                double vx = vx0, vy = vy0;
                for (int i = 0; i < abs(k); i++)
                    vx = nextafter(vx, k > 0 ? INFINITY : -INFINITY);
                for (int i = 0; i < abs(l); i++)
                    vy = nextafter(vy, l > 0 ? INFINITY : -INFINITY);
                double xy[] = {a[0], a[1], b[0],      b[1],      b[0], b[1] + 500,
                               vx,   vy,   vx - 100, vy + 400, a[0], a[1]};
                GEOSGeometry *g = polygon_of(ctx, xy, 6);
                n_invalid += GEOSisValid_r(ctx->geos, g) != 1;
                GEOSGeom_destroy_r(ctx->geos, g);
                n_quick += compare(ctx, xy, 6);
            }
        }
    }
    assert_true(n_invalid > 0); /* some placements do touch */
    stapel_ctx_free(ctx);
    assert_true(n_quick > 0); /* and others lie clear of it */
}

static void test_corner_cases(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    /* A square with a corner in the middle of each side: valid, and the
     * straight corners are no obstacle to the quick test. */
    double mid[] = {0, 0, 5, 0, 10, 0, 10, 5, 10, 10, 5, 10, 0, 10, 0, 5, 0, 0};
    assert_true(compare(ctx, mid, 9));
    /* A bow tie: its edges cross. */
    double bow[] = {0, 0, 10, 10, 10, 0, 0, 10, 0, 0};
    assert_false(compare(ctx, bow, 5));
    /* A spike: the ring goes out along a line and back. */
    double spike[] = {0, 0, 10, 0, 10, 10, 10, 20, 10, 10, 0, 10, 0, 0};
    assert_false(compare(ctx, spike, 7));
    /* Through one corner twice (two triangles touching at (5, 5)). */
    double eight[] = {0, 0, 5, 5, 10, 0, 10, 10, 5, 5, 0, 10, 0, 0};
    assert_false(compare(ctx, eight, 7));
    /* A corner on another edge: (5, 0) lies on the edge (0, 0)-(10, 0). */
    double touch[] = {0, 0, 10, 0, 10, 10, 5, 0, 0, 10, 0, 0};
    assert_false(compare(ctx, touch, 6));
    /* A triangle whose third corner lies on the line of the first two. */
    double flat[] = {0, 0, 10, 0, 5, 0, 0, 0};
    assert_false(compare(ctx, flat, 4));

    /* Holes and parts are left to GEOS, and its answer comes back. */
    GEOSContextHandle_t h = ctx->geos;
    GEOSGeometry *outer = polygon_of(ctx, mid, 9);
    double hole_xy[] = {2, 2, 2, 8, 8, 8, 8, 2, 2, 2};
    GEOSGeometry *hr =
        GEOSGeom_createLinearRing_r(h, GEOSCoordSeq_copyFromBuffer_r(h, hole_xy, 5, 0, 0));
    GEOSGeometry *shell = GEOSGeom_clone_r(h, GEOSGetExteriorRing_r(h, outer));
    GEOSGeometry *holed = GEOSGeom_createPolygon_r(h, shell, &hr, 1);
    assert_int_equal(stapel__is_valid(ctx, holed), 1);
    GEOSGeometry *parts[2] = {outer, GEOSGeom_clone_r(h, outer)};
    GEOSGeometry *overlapping = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, 2);
    assert_int_equal(stapel__is_valid(ctx, overlapping), 0);
    GEOSGeom_destroy_r(h, holed);
    GEOSGeom_destroy_r(h, overlapping);
    stapel_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_rings_agree_with_geos),
        cmocka_unit_test(test_star_rings_answered_quickly),
        cmocka_unit_test(test_near_touching_corner),
        cmocka_unit_test(test_corner_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
