/*
 * test_validity.c - the quick validity test for polygons of one ring
 * (validity.c) against GEOS's own: on thousands of random rings, most of them
 * self-intersecting, touching or folding back on a coarse grid, the quick
 * test may only say "simple" where GEOS says valid, and stapel__is_valid must
 * always give GEOS's answer. Star-shaped rings (simple by construction) show
 * that the quick test does answer, and hand-made rings cover the corner
 * cases: collinear corners, spikes, a ring through one of its corners twice,
 * an edge touching a corner, holes and parts (left to GEOS).
 *
 * The repair (stapel__repair) is checked on answers worked out by hand
 * (overlapping parts, bowties) and, for a ring of many self-intersections,
 * against GEOS MakeValid without the grid: the result must be valid, have
 * every coordinate on the grid, and keep the area up to the grid's rounding.
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

/* The polygon of the shell of m points and the hole of k points (closed
 * rings, as x, y pairs). */
static GEOSGeometry *polygon_with_hole(stapel_ctx *ctx, const double *shell, unsigned m,
                                       const double *hole_xy, unsigned k)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSGeometry *hole =
        GEOSGeom_createLinearRing_r(h, GEOSCoordSeq_copyFromBuffer_r(h, hole_xy, k, 0, 0));
    assert_non_null(hole);
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(
        h, GEOSGeom_createLinearRing_r(h, GEOSCoordSeq_copyFromBuffer_r(h, shell, m, 0, 0)), &hole,
        1);
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

/* ---- the repair ----------------------------------------------------------- */

static GEOSGeometry *multi_of(stapel_ctx *ctx, GEOSGeometry **parts, unsigned n)
{
    GEOSGeometry *m = GEOSGeom_createCollection_r(ctx->geos, GEOS_MULTIPOLYGON, parts, n);
    assert_non_null(m);
    return m;
}

static GEOSGeometry *square(stapel_ctx *ctx, double x, double y, double side)
{
    double xy[] = {x, y, x + side, y, x + side, y + side, x, y + side, x, y};
    return polygon_of(ctx, xy, 5);
}

/* Valid, polygonal, and every coordinate a multiple of grid. */
static void assert_valid_on_grid(stapel_ctx *ctx, const GEOSGeometry *g, double grid)
{
    GEOSContextHandle_t h = ctx->geos;
    assert_int_equal(GEOSisValid_r(h, g), 1);
    int t = GEOSGeomTypeId_r(h, g);
    assert_true(t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON);
    GEOSGeometry *pts = GEOSGeom_extractUniquePoints_r(h, g);
    assert_non_null(pts);
    int n = GEOSGetNumGeometries_r(h, pts);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        double x = 0, y = 0;
        GEOSGeomGetX_r(h, GEOSGetGeometryN_r(h, pts, i), &x);
        GEOSGeomGetY_r(h, GEOSGetGeometryN_r(h, pts, i), &y);
        assert_true(fabs(x / grid - round(x / grid)) < 1e-6);
        assert_true(fabs(y / grid - round(y / grid)) < 1e-6);
    }
    GEOSGeom_destroy_r(h, pts);
}

/* Repair *g on the grid: it must count as repaired and come back valid,
 * polygonal and on the grid. */
static void repair_on_grid(stapel_ctx *ctx, GEOSGeometry **g, double grid)
{
    bool repaired = false;
    assert_int_equal(stapel__repair(ctx, g, grid, &repaired), STAPEL_OK);
    assert_true(repaired);
    assert_non_null(*g);
    assert_valid_on_grid(ctx, *g, grid);
}

static double area_of(stapel_ctx *ctx, const GEOSGeometry *g)
{
    double a = -1;
    assert_int_equal(GEOSArea_r(ctx->geos, g, &a), 1);
    return a;
}

/* Five squares of side 10, each 5 further along x: they overlap in a chain
 * whose union is 30 x 10 = 300 m². A disjoint bowtie (100,0) (110,10)
 * (110,0) (100,10) is two triangles of 25 m². An odd number of parts takes
 * the pairwise union through a round with a part left over. */
static void test_repair_overlapping_parts(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    GEOSGeometry *parts[6];
    for (int i = 0; i < 5; i++)
        parts[i] = square(ctx, 5.0 * i, 0, 10);
    double bow[] = {100, 0, 110, 10, 110, 0, 100, 10, 100, 0};
    parts[5] = polygon_of(ctx, bow, 5);
    GEOSGeometry *g = multi_of(ctx, parts, 6);
    repair_on_grid(ctx, &g, 0.001);
    assert_true(fabs(area_of(ctx, g) - 350.0) < 1e-9);
    assert_int_equal(GEOSGetNumGeometries_r(ctx->geos, g), 3); /* chain, two triangles */
    GEOSGeom_destroy_r(ctx->geos, g);

    /* Two identical squares: one square of 100 m². */
    parts[0] = square(ctx, 0, 0, 10);
    parts[1] = square(ctx, 0, 0, 10);
    g = multi_of(ctx, parts, 2);
    repair_on_grid(ctx, &g, 0.001);
    assert_true(fabs(area_of(ctx, g) - 100.0) < 1e-9);
    GEOSGeom_destroy_r(ctx->geos, g);
    stapel_ctx_free(ctx);
}

/* A bowtie whose crossing falls off the grid: (0,0) (7,3) (7,0) (0,3.001).
 * The edges (0,0)-(7,3) and (7,0)-(0,3.001) cross at x = 7 * 3.001 / 6.001
 * = 3.500583..., so the repair must move that corner onto the grid; the area
 * (two triangles with apex there: 3 * x / 2 + 3.001 * (7 - x) / 2 =
 * 10.50175...) changes by less than the grid's rounding can. */
static void test_repair_crossing_off_grid(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    double bow[] = {0, 0, 7, 3, 7, 0, 0, 3.001, 0, 0};
    GEOSGeometry *g = polygon_of(ctx, bow, 5);
    repair_on_grid(ctx, &g, 0.001);
    double x = 7 * 3.001 / 6.001;
    double want = 3 * x / 2 + 3.001 * (7 - x) / 2;
    assert_true(fabs(area_of(ctx, g) - want) < 0.0005 * 7);
    GEOSGeom_destroy_r(ctx->geos, g);
    stapel_ctx_free(ctx);
}

/* A circle of 4000 vertices moved at random by more than their spacing:
 * thousands of self-intersections, which MakeValid turns into over a hundred
 * polygons. The repaired claim is valid, on the grid, and its area is
 * MakeValid's (computed here by GEOS without the grid) up to the rounding of
 * each vertex: at most half a grid cell times the boundary's length. */
static void test_repair_jittered_ring(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    GEOSContextHandle_t h = ctx->geos;
    enum { N = 4000 };
    const double grid = 0.001, r = 100;
    double *xy = malloc((2 * N + 2) * sizeof *xy);
    assert_non_null(xy);
    for (unsigned i = 0; i < N; i++) {
        double t = 2 * PI * i / N, jx = (next_u32() / 4294967296.0 - 0.5) * 1.0,
               jy = (next_u32() / 4294967296.0 - 0.5) * 1.0;
        xy[2 * i] = round((r * cos(t) + jx) / grid) * grid;
        xy[2 * i + 1] = round((r * sin(t) + jy) / grid) * grid;
    }
    GEOSGeometry *g = polygon_of(ctx, xy, close_ring(xy, N));
    free(xy);
    assert_int_equal(GEOSisValid_r(h, g), 0);
    GEOSMakeValidParams *p = GEOSMakeValidParams_create_r(h);
    GEOSMakeValidParams_setMethod_r(h, p, GEOS_MAKE_VALID_STRUCTURE);
    GEOSGeometry *mv = GEOSMakeValidWithParams_r(h, g, p);
    GEOSMakeValidParams_destroy_r(h, p);
    assert_non_null(mv);
    assert_true(GEOSGetNumGeometries_r(h, mv) > 100);
    double want = area_of(ctx, mv), len = 0;
    assert_int_equal(GEOSLength_r(h, mv, &len), 1);
    GEOSGeom_destroy_r(h, mv);

    repair_on_grid(ctx, &g, grid);
    assert_true(fabs(area_of(ctx, g) - want) <= len * grid / 2);
    GEOSGeom_destroy_r(h, g);
    stapel_ctx_free(ctx);
}

/* GEOS MakeValid's STRUCTURE method on g (not snapped): the reference. */
static GEOSGeometry *structure_of(stapel_ctx *ctx, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = ctx->geos;
    GEOSMakeValidParams *p = GEOSMakeValidParams_create_r(h);
    GEOSMakeValidParams_setMethod_r(h, p, GEOS_MAKE_VALID_STRUCTURE);
    GEOSMakeValidParams_setKeepCollapsed_r(h, p, 0);
    GEOSGeometry *mv = GEOSMakeValidWithParams_r(h, g, p);
    GEOSMakeValidParams_destroy_r(h, p);
    assert_non_null(mv);
    return mv;
}

/* A ring of n random points in the square [x, x + side]^2 on the grid:
 * nearly always self-intersecting, with long edges across the square. */
static GEOSGeometry *random_ring(stapel_ctx *ctx, unsigned n, double x, double y, double side,
                                 double grid)
{
    double xy[2 * (MAXP + 1)];
    for (unsigned i = 0; i < n; i++) {
        xy[2 * i] = round((x + side * (next_u32() / 4294967296.0)) / grid) * grid;
        xy[2 * i + 1] = round((y + side * (next_u32() / 4294967296.0)) / grid) * grid;
    }
    unsigned m = close_ring(xy, n);
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, m, 0, 0);
    assert_non_null(seq);
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(ctx->geos, seq);
    assert_non_null(ring);
    return ring;
}

/* The repair against GEOS MakeValid (STRUCTURE) on random invalid polygons:
 * shells of random points, holes inside, across and outside their shell
 * (a hole outside is a polygon of its own by that method), and several
 * overlapping parts. The repair snaps every crossing to the 1 mm grid, so it
 * may differ from GEOS's unsnapped answer by a strip of about a grid cell
 * along the boundary: the symmetric difference must stay within the input's
 * boundary length times the grid. A rule applied wrongly (a hole kept, an
 * outside hole dropped, a loop of a bowtie lost) costs far more: whole
 * triangles of the 100 m squares. */
static void test_repair_agrees_with_geos_structure(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    GEOSContextHandle_t h = ctx->geos;
    const double grid = 0.001;
    int n_cases = 0, n_multi = 0;
    for (int t = 0; t < 400; t++) {
        unsigned n_parts = 1 + next_u32() % 3;
        GEOSGeometry *parts[3];
        for (unsigned k = 0; k < n_parts; k++) {
            double x0 = 100.0 * (next_u32() % 3), y0 = 100.0 * (next_u32() % 2);
            GEOSGeometry *shell = random_ring(ctx, 4 + next_u32() % 12, x0, y0, 100, grid);
            unsigned n_holes = next_u32() % 3;
            GEOSGeometry *holes[2];
            for (unsigned j = 0; j < n_holes; j++) {
                /* inside the shell's square, or anywhere near it */
                bool near = next_u32() % 2;
                double hx = near ? x0 - 100 + 200 * (next_u32() / 4294967296.0) : x0 + 20;
                double hy = near ? y0 - 100 + 200 * (next_u32() / 4294967296.0) : y0 + 20;
                holes[j] = random_ring(ctx, 3 + next_u32() % 6, hx, hy, near ? 40 : 60, grid);
            }
            parts[k] = GEOSGeom_createPolygon_r(h, shell, holes, n_holes);
            assert_non_null(parts[k]);
        }
        GEOSGeometry *g = n_parts == 1 ? parts[0] : multi_of(ctx, parts, n_parts);
        if (GEOSisValid_r(h, g) == 1) {
            GEOSGeom_destroy_r(h, g);
            continue;
        }
        double len = 0;
        assert_int_equal(GEOSLength_r(h, g, &len), 1);
        GEOSGeometry *want = structure_of(ctx, g);
        bool repaired = false;
        assert_int_equal(stapel__repair(ctx, &g, grid, &repaired), STAPEL_OK);
        assert_true(repaired);
        double want_area = area_of(ctx, want);
        if (g == NULL) {
            /* No area left: GEOS's answer has none either (up to a sliver). */
            assert_true(want_area <= len * grid);
        } else {
            assert_valid_on_grid(ctx, g, grid);
            GEOSGeometry *d = GEOSSymDifference_r(h, g, want);
            assert_non_null(d);
            double diff = area_of(ctx, d);
            if (!(diff <= len * grid))
                fail_msg("case %d: the repair differs from GEOS's by %.6f m2 (limit %.6f; "
                         "areas %.6f and %.6f)",
                         t, diff, len * grid, area_of(ctx, g), want_area);
            n_multi += GEOSGetNumGeometries_r(h, g) > 1;
            GEOSGeom_destroy_r(h, d);
            GEOSGeom_destroy_r(h, g);
        }
        GEOSGeom_destroy_r(h, want);
        n_cases++;
    }
    /* The cases did what they are for. */
    assert_true(n_cases > 300);
    assert_true(n_multi > 100);
    stapel_ctx_free(ctx);
}

/* Hole rules worked out by hand, on 10 m squares: a hole inside takes its
 * area off; a "hole" outside its shell is a polygon of its own (200 m², two
 * polygons); a hole across the shell's border takes off what it overlaps
 * (100 - 25 = 75 m²); a shell without area gives nothing, holes or not. */
static void test_repair_hole_rules(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    GEOSContextHandle_t h = ctx->geos;
    /* A shell with a bowtie "hole" outside it, so that the polygon is invalid
     * twice over: the two triangles of 25 m² each come back as polygons. */
    double shell[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    double outside[] = {20, 0, 30, 10, 30, 0, 20, 10, 20, 0};
    double across[] = {5, 5, 15, 5, 15, 15, 5, 15, 5, 5};
    double inside[] = {2, 2, 4, 2, 4, 4, 2, 4, 2, 2};
    const double *hole_xy[] = {outside, across, inside};
    const double want[] = {150, 75, 96};
    const int want_parts[] = {3, 1, 1};
    for (int k = 0; k < 3; k++) {
        GEOSGeometry *g = polygon_with_hole(ctx, shell, 5, hole_xy[k], 5);
        if (k == 2) { /* valid as it is: make it invalid with a spike */
            GEOSGeom_destroy_r(h, g);
            double spiked[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 5, -3, 5, 0, 5, 0, 0};
            g = polygon_with_hole(ctx, spiked, 8, inside, 5);
        }
        repair_on_grid(ctx, &g, 0.001);
        assert_true(fabs(area_of(ctx, g) - want[k]) < 1e-9);
        assert_int_equal(GEOSGetNumGeometries_r(h, g), want_parts[k]);
        GEOSGeom_destroy_r(h, g);
    }
    /* A shell that folds back on itself has no area: nothing is left, even
     * with a hole beside it. */
    double flat[] = {0, 0, 10, 0, 20, 0, 10, 0, 0, 0};
    GEOSGeometry *g = polygon_with_hole(ctx, flat, 5, inside, 5);
    bool repaired = false;
    assert_int_equal(stapel__repair(ctx, &g, 0.001, &repaired), STAPEL_OK);
    assert_true(repaired);
    assert_null(g);
    stapel_ctx_free(ctx);
}

/* A "hole" outside its shell that touches it, along an edge, along part of
 * one, or at one corner, meets the shell: GEOS's STRUCTURE method takes it
 * off the shell (its GeometryFixer asks whether the shell intersects the
 * hole), which takes nothing off, and does not make it a polygon of its own.
 * The repair made it a second polygon: 100 m² too much for a 10 m square
 * with a 10 m square "hole" beside it. One 1 mm away is apart, and one that
 * touches only another part's shell is a polygon of its own too. */
static void test_repair_hole_touching_outside(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    GEOSContextHandle_t h = ctx->geos;
    double shell[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    double other[] = {30, 0, 40, 0, 40, 10, 30, 10, 30, 0};
    double edge[] = {10, 0, 20, 0, 20, 10, 10, 10, 10, 0};
    double part_edge[] = {10, 5, 20, 5, 20, 15, 10, 15, 10, 5};
    double corner[] = {10, 10, 20, 10, 20, 20, 10, 20, 10, 10};
    double apart[] = {10.001, 0, 20, 0, 20, 10, 10.001, 10, 10.001, 0};
    double at_other[] = {20, 0, 30, 0, 30, 10, 20, 10, 20, 0};
    const double *hole_xy[] = {edge, part_edge, corner, apart, at_other};
    const double want[] = {200, 200, 200, 299.99, 300};
    for (int k = 0; k < 5; k++) {
        GEOSGeometry *parts[2] = {polygon_with_hole(ctx, shell, 5, hole_xy[k], 5),
                                  polygon_of(ctx, other, 5)};
        GEOSGeometry *g = multi_of(ctx, parts, 2);
        GEOSGeometry *ref = structure_of(ctx, g);
        repair_on_grid(ctx, &g, 0.001);
        if (fabs(area_of(ctx, g) - want[k]) > 1e-6)
            fail_msg("case %d: %.6f m2, want %.6f", k, area_of(ctx, g), want[k]);
        assert_true(fabs(area_of(ctx, ref) - want[k]) < 1e-6); /* GEOS agrees */
        GEOSGeom_destroy_r(h, ref);
        GEOSGeom_destroy_r(h, g);
    }
    stapel_ctx_free(ctx);
}

/* A MultiPolygon of a ring of 50,000 vertices inside 150 squares that all
 * overlap it (an invalid geometry, repaired), with or without a "hole" of
 * the ring's polygon that lies outside it and touches nothing. The search
 * for holes that touch their shell took the corners of every face once per
 * shell covering it: 7.5 million here, 1.2 s where the repair without the
 * hole takes 0.03 s (3 GB and 18 s with 300 squares and 100,000 vertices:
 * the case shells-300 of `make bench-patho`, as unit tests time nothing).
 * The repair must take the stray hole for a polygon of its own, and the
 * squares' union for the rest. Returns the repaired area. */
static double repair_ring_in_squares(stapel_ctx *ctx, bool stray_hole)
{
    GEOSContextHandle_t h = ctx->geos;
    enum { M = 50000, K = 150 };
    double *xy = malloc((2 * M + 2) * sizeof *xy);
    assert_non_null(xy);
    for (unsigned i = 0; i < M; i++) {
        xy[2 * i] = 100 * cos(2 * PI * i / M);
        xy[2 * i + 1] = 100 * sin(2 * PI * i / M);
    }
    close_ring(xy, M);
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, xy, M + 1, 0, 0);
    free(xy);
    double stray[] = {500, 0, 510, 0, 510, 10, 500, 0};
    GEOSGeometry *hole =
        GEOSGeom_createLinearRing_r(h, GEOSCoordSeq_copyFromBuffer_r(h, stray, 4, 0, 0));
    GEOSGeometry *parts[K + 1];
    parts[0] =
        GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, seq), &hole, stray_hole ? 1 : 0);
    assert_non_null(parts[0]);
    if (!stray_hole)
        GEOSGeom_destroy_r(h, hole);
    for (unsigned i = 0; i < K; i++)
        parts[i + 1] = square(ctx, -200 - 0.01 * i, -200 - 0.01 * i, 400 + 0.02 * i);
    GEOSGeometry *g = multi_of(ctx, parts, K + 1);
    repair_on_grid(ctx, &g, 0.001);
    double area = area_of(ctx, g);
    GEOSGeom_destroy_r(h, g);
    return area;
}

static void test_repair_hole_outside_many_shells(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    double a0 = repair_ring_in_squares(ctx, false);
    double a1 = repair_ring_in_squares(ctx, true);
    double side = 400 + 0.02 * 149;
    assert_true(fabs(a0 - side * side) < 1e-3);
    assert_true(fabs(a1 - (side * side + 50)) < 1e-3); /* the "hole" a polygon of its own */
    stapel_ctx_free(ctx);
}

/* A star ring {n/k} whose every edge crosses most others near the centre,
 * where the crossings crowd into a few square metres: the arrangement's
 * cells along long diagonal edges (arrange.c, cell_walk) must find every
 * crossing and every hot pixel there. The area inside (winding number not
 * zero) is GEOS's up to the rounding of the crossings. */
static void test_repair_star_of_long_edges(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    GEOSContextHandle_t h = ctx->geos;
    enum { N = 301 };
    const double grid = 0.001, r = 1000;
    double *xy = malloc((2 * N + 2) * sizeof *xy);
    assert_non_null(xy);
    for (unsigned i = 0; i < N; i++) {
        double t = 2 * PI * (double)((i * (N / 2 - 1)) % N) / N;
        xy[2 * i] = round((155000 + r * cos(t)) / grid) * grid;
        xy[2 * i + 1] = round((463000 + r * sin(t)) / grid) * grid;
    }
    GEOSGeometry *g = polygon_of(ctx, xy, close_ring(xy, N));
    free(xy);
    GEOSGeometry *want = structure_of(ctx, g);
    double len = 0;
    assert_int_equal(GEOSLength_r(h, g, &len), 1);
    repair_on_grid(ctx, &g, grid);
    GEOSGeometry *d = GEOSSymDifference_r(h, g, want);
    assert_non_null(d);
    assert_true(area_of(ctx, want) > 1.5e6); /* 1.89e6 m² of the disc of 3.14e6 */
    assert_true(area_of(ctx, d) <= len * grid);
    GEOSGeom_destroy_r(h, d);
    GEOSGeom_destroy_r(h, want);
    GEOSGeom_destroy_r(h, g);
    stapel_ctx_free(ctx);
}

/* ---- polygons with many holes in a long shell ---------------------------- */

#define SHELL_SIDE 5000 /* vertices per side of the square shell */
#define LATTICE 16      /* holes per row and column */

/* A closed ring of the square [x0, x0 + side]², with n vertices per side. */
static GEOSGeometry *square_ring(stapel_ctx *ctx, double x0, double y0, double side, unsigned n)
{
    double *xy = malloc((4 * (size_t)n + 1) * 2 * sizeof *xy);
    assert_non_null(xy);
    unsigned m = 0;
    for (unsigned k = 0; k < 4; k++)
        for (unsigned i = 0; i < n; i++) {
            double t = side * i / n;
            double x = k == 0 ? t : k == 1 ? side : k == 2 ? side - t : 0;
            double y = k == 0 ? 0 : k == 1 ? t : k == 2 ? side : side - t;
            xy[2 * m] = x0 + x;
            xy[2 * m + 1] = y0 + y;
            m++;
        }
    m = close_ring(xy, m);
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, xy, m, 0, 0);
    free(xy);
    assert_non_null(seq);
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(ctx->geos, seq);
    assert_non_null(ring);
    return ring;
}

/* The kinds of fault a hole of a many-hole polygon is given. */
enum hole_fault {
    FAULT_NONE,
    FAULT_TOUCH_NEIGHBOUR, /* reaches the next holes: an edge and a corner */
    FAULT_OVERLAP_NEIGHBOUR,
    FAULT_SHARE_EDGE,  /* shares part of an edge with the next hole */
    FAULT_CROSS_SHELL, /* reaches out of the shell */
    FAULT_TOUCH_SHELL, /* touches the shell at one point: valid */
    FAULT_OUTSIDE_SHELL,
    FAULT_NESTED,        /* lies inside another hole */
    FAULT_DUPLICATE,     /* the same as another hole */
    FAULT_SELF_CROSSING, /* a bowtie */
    FAULT_CHAIN,         /* holes touching each other across the shell: cut */
    N_FAULTS
};

/* A square polygon of side 1000 at (x0, y0) with a 4 x SHELL_SIDE vertex
 * shell and a LATTICE² lattice of square holes, one of which has the fault
 * (at a random hole). */
static GEOSGeometry *many_holes_polygon(stapel_ctx *ctx, double x0, double y0, int fault)
{
    GEOSGeometry *shell = square_ring(ctx, x0, y0, 1000, SHELL_SIDE);
    GEOSGeometry *holes[LATTICE * LATTICE + LATTICE];
    unsigned n = 0, pick = next_u32() % (LATTICE * LATTICE);
    for (unsigned i = 0; i < LATTICE; i++)
        for (unsigned j = 0; j < LATTICE; j++) {
            double hx = x0 + 20 + 60 * i, hy = y0 + 20 + 60 * j, side = 30;
            bool here = n == pick;
            if (here && fault == FAULT_TOUCH_NEIGHBOUR && i + 1 < LATTICE && j + 1 < LATTICE)
                side = 60; /* its corner is the next one's corner */
            if (here && fault == FAULT_OVERLAP_NEIGHBOUR && i + 1 < LATTICE)
                side = 70;
            if (here && fault == FAULT_CROSS_SHELL)
                hx = x0 - 10;
            if (here && fault == FAULT_OUTSIDE_SHELL)
                hx = x0 - 100;
            GEOSGeometry *ring = NULL;
            if (here && fault == FAULT_TOUCH_SHELL) {
                /* a diamond whose top corner is a vertex of the shell */
                double top = 1000.0 * (SHELL_SIDE / 2) / SHELL_SIDE;
                double d[] = {x0 + top, y0 + 1000,     x0 + top - 20, y0 + 980, x0 + top,
                              y0 + 960, x0 + top + 20, y0 + 980,      x0 + top, y0 + 1000};
                GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, d, 5, 0, 0);
                ring = GEOSGeom_createLinearRing_r(ctx->geos, seq);
            } else if (here && fault == FAULT_SELF_CROSSING) {
                double d[] = {hx, hy, hx + 30, hy + 30, hx + 30, hy, hx, hy + 30, hx, hy};
                GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, d, 5, 0, 0);
                ring = GEOSGeom_createLinearRing_r(ctx->geos, seq);
            } else if (here && fault == FAULT_SHARE_EDGE && i + 1 < LATTICE) {
                ring = square_ring(ctx, hx + 30, hy + 10, 30, 1); /* to the next hole's left edge */
            } else {
                ring = square_ring(ctx, hx, hy, side, 1 + next_u32() % 3);
            }
            assert_non_null(ring);
            holes[n++] = ring;
            if (here && fault == FAULT_NESTED)
                holes[n++] = square_ring(ctx, hx + 5, hy + 5, 10, 1);
            if (here && fault == FAULT_DUPLICATE)
                holes[n++] = square_ring(ctx, hx, hy, side, 1);
        }
    if (fault == FAULT_CHAIN) {
        /* a column of holes from the bottom of the shell to its top, each
         * touching the next at a corner: the interior falls apart */
        for (unsigned k = 0; k < LATTICE && n < LATTICE * LATTICE + LATTICE; k++) {
            double a = 1000.0 / LATTICE;
            double cx = x0 + 10, cy = y0 + a * k;
            double d[] = {cx, cy, cx + 5, cy + a / 2, cx, cy + a, cx - 5, cy + a / 2, cx, cy};
            GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, d, 5, 0, 0);
            holes[n++] = GEOSGeom_createLinearRing_r(ctx->geos, seq);
        }
    }
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(ctx->geos, shell, holes, n);
    assert_non_null(poly);
    return poly;
}

static void test_many_holes_agree_with_geos(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    GEOSContextHandle_t h = ctx->geos;
    size_t n_valid = 0, n_quick = 0;
    for (int round = 0; round < 3; round++)
        for (int fault = 0; fault < N_FAULTS; fault++) {
            GEOSGeometry *g = many_holes_polygon(ctx, 155000, 463000, fault);
            char geos = GEOSisValid_r(h, g);
            bool quick = stapel__holes_surely_valid(ctx, g);
            if (quick)
                assert_int_equal(geos, 1);
            assert_int_equal(stapel__is_valid(ctx, g), geos);
            n_valid += geos == 1;
            n_quick += quick;
            if (fault == FAULT_NONE)
                assert_true(quick); /* rings that meet nowhere are answered here */
            /* As one part of two: beside a sound one, and one that shares
             * an edge with it (an invalid MultiPolygon). */
            for (int at = 0; at < 2; at++) {
                GEOSGeometry *parts[2] = {
                    GEOSGeom_clone_r(h, g),
                    many_holes_polygon(ctx, at == 0 ? 156100 : 156000, 463000, FAULT_NONE)};
                GEOSGeometry *mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, 2);
                assert_non_null(mp);
                geos = GEOSisValid_r(h, mp);
                quick = stapel__holes_surely_valid(ctx, mp);
                if (quick)
                    assert_int_equal(geos, 1);
                assert_int_equal(stapel__is_valid(ctx, mp), geos);
                if (fault == FAULT_NONE)
                    assert_int_equal(geos, at == 0);
                GEOSGeom_destroy_r(h, mp);
            }
            GEOSGeom_destroy_r(h, g);
        }
    /* Both answers came up: the faults are faults, the sound ones pass. */
    assert_true(n_quick >= 3);
    assert_true(n_valid > n_quick);
    stapel_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_rings_agree_with_geos),
        cmocka_unit_test(test_star_rings_answered_quickly),
        cmocka_unit_test(test_near_touching_corner),
        cmocka_unit_test(test_corner_cases),
        cmocka_unit_test(test_repair_overlapping_parts),
        cmocka_unit_test(test_repair_crossing_off_grid),
        cmocka_unit_test(test_repair_jittered_ring),
        cmocka_unit_test(test_repair_agrees_with_geos_structure),
        cmocka_unit_test(test_repair_hole_rules),
        cmocka_unit_test(test_repair_hole_touching_outside),
        cmocka_unit_test(test_repair_hole_outside_many_shells),
        cmocka_unit_test(test_repair_star_of_long_edges),
        cmocka_unit_test(test_many_holes_agree_with_geos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
