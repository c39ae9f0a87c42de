/*
 * test_dissolve.c - the exact union of faces (dissolve.c), checked against
 * unions worked out by hand: grids of unit squares whose union is a square,
 * a ring of squares around a hole, a face given twice next to a neighbour
 * (an edge used three times: twice one way, once the other), squares that
 * touch at a corner only, and faces whose common edge is split on one side
 * only (not noded: the arrangement must split it; and the same said to be
 * noded, which the dissolve must notice). Every case runs with the
 * faces in two orders and with their rings starting at different vertices,
 * so that no answer depends on the order shared edges are found in.
 *
 * stapel__dissolve_subset (many unions of subsets of one set of faces, the
 * shared edges found once) must give what stapel__dissolve gives for the
 * same faces, point for point: checked on random subsets of a set with faces
 * given twice and three times, a face with a repeated vertex, and two parts.
 */
#include "arrange.h"
#include "pipeline.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define MAX_FACES 64
#define MAX_PTS 16

/* Faces as one counter-clockwise ring each, closing point included. */
typedef struct face_set {
    stapel__ipt pts[MAX_FACES][MAX_PTS];
    uint32_t end[MAX_FACES][1];
    size_t n;
} face_set;

static void add_ring(face_set *fs, const stapel__ipt *ring, uint32_t n, uint32_t rot)
{
    assert_true(fs->n < MAX_FACES && n + 1 <= MAX_PTS);
    for (uint32_t i = 0; i < n; i++)
        fs->pts[fs->n][i] = ring[(i + rot) % n];
    fs->pts[fs->n][n] = fs->pts[fs->n][0];
    fs->end[fs->n][0] = n + 1;
    fs->n++;
}

static void add_rect(face_set *fs, int64_t x0, int64_t y0, int64_t x1, int64_t y1, uint32_t rot)
{
    stapel__ipt r[4] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
    add_ring(fs, r, 4, rot);
}

/* Twice the signed area of a ring, by the shoelace formula. */
static int64_t ring_area2(const stapel__ipt *p, uint32_t n)
{
    int64_t a = 0;
    for (uint32_t i = 0; i + 1 < n; i++)
        a += p[i].x * p[i + 1].y - p[i + 1].x * p[i].y;
    return a;
}

typedef struct result {
    size_t n_faces, n_holes;
    int64_t area2; /* net: shells count positive, holes negative */
    int64_t hole_area2;
} result;

static result dissolve(const face_set *fs, bool noded, bool reversed)
{
    stapel__rings rings[MAX_FACES];
    for (size_t i = 0; i < fs->n; i++) {
        size_t k = reversed ? fs->n - 1 - i : i;
        rings[i] = (stapel__rings){fs->pts[k], fs->end[k], 1};
    }
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel__aface *af = NULL;
    size_t n_af = 0;
    assert_int_equal(stapel__dissolve_faces(ctx, rings, fs->n, noded, &af, &n_af), STAPEL_OK);
    result r = {n_af, 0, 0, 0};
    for (size_t i = 0; i < n_af; i++) {
        uint32_t start = 0;
        for (uint32_t k = 0; k < af[i].n_rings; k++) {
            int64_t a2 = ring_area2(af[i].pts + start, af[i].ring_end[k] - start);
            if (k == 0) {
                assert_true(a2 > 0); /* the shell: counter-clockwise */
            } else {
                assert_true(a2 < 0); /* a hole: clockwise */
                r.n_holes++;
                r.hole_area2 -= a2;
            }
            r.area2 += a2;
            start = af[i].ring_end[k];
        }
    }
    stapel__afaces_free(af, n_af);
    stapel_ctx_free(ctx);
    return r;
}

#define ANY SIZE_MAX

/* Every case in both face orders; noded only where the faces' edges match
 * vertex for vertex. */
static void check(const face_set *fs, bool may_node, size_t faces, size_t holes, int64_t area,
                  int64_t hole_area)
{
    for (int noded = 0; noded <= (may_node ? 1 : 0); noded++) {
        for (int rev = 0; rev <= 1; rev++) {
            result r = dissolve(fs, noded, rev);
            if (faces != ANY)
                assert_int_equal(r.n_faces, faces);
            assert_int_equal(r.n_holes, holes);
            assert_int_equal(r.area2, 2 * area);
            assert_int_equal(r.hole_area2, 2 * hole_area);
        }
    }
}

static void test_dissolve_grid_of_squares(void **state)
{
    (void)state;
    for (int64_t k = 1; k <= 6; k++) {
        face_set fs = {0};
        for (int64_t y = 0; y < k; y++)
            for (int64_t x = 0; x < k; x++)
                add_rect(&fs, 10 * x, 10 * y, 10 * x + 10, 10 * y + 10, (uint32_t)(x + 2 * y));
        check(&fs, true, 1, 0, 100 * k * k, 0);
    }
}

static void test_dissolve_ring_around_a_hole(void **state)
{
    (void)state;
    face_set fs = {0};
    for (int64_t y = 0; y < 3; y++)
        for (int64_t x = 0; x < 3; x++)
            if (x != 1 || y != 1)
                add_rect(&fs, x, y, x + 1, y + 1, (uint32_t)(3 * x + y));
    check(&fs, true, 1, 1, 8, 1);
}

static void test_dissolve_face_given_twice(void **state)
{
    (void)state;
    /* Faces of a stack never overlap; this breaks that on purpose, to
     * exercise the cancelling of an edge used three times. The left square
     * twice: its right edge runs up twice, the right square's left edge down
     * once. Net, one edge up remains between them (covered twice on its
     * left, once on its right, so it may stay as a face border), and the
     * union is both squares. */
    face_set fs = {0};
    add_rect(&fs, 0, 0, 5, 5, 0);
    add_rect(&fs, 0, 0, 5, 5, 1);
    add_rect(&fs, 5, 0, 10, 5, 2);
    check(&fs, true, ANY, 0, 50, 0);
}

static void test_dissolve_corner_touch(void **state)
{
    (void)state;
    face_set fs = {0};
    add_rect(&fs, 0, 0, 4, 4, 0);
    add_rect(&fs, 4, 4, 8, 8, 3);
    check(&fs, true, 2, 0, 32, 0);
}

static void test_dissolve_split_edge_not_noded(void **state)
{
    (void)state;
    /* A 4 x 2 rectangle below two 2 x 2 squares: the rectangle's top edge is
     * one segment, the squares' bottoms are two. Nothing cancels before the
     * arrangement; the union is the 4 x 4 square. */
    face_set fs = {0};
    add_rect(&fs, 0, 0, 4, 2, 1);
    add_rect(&fs, 0, 2, 2, 4, 2);
    add_rect(&fs, 2, 2, 4, 4, 3);
    check(&fs, false, 1, 0, 16, 0);
}

static void test_dissolve_noded_promise_broken(void **state)
{
    (void)state;
    /* A 10 x 10 square and a 10 x 5 rectangle to its right: the corner
     * (10, 5) of the rectangle lies inside the square's right edge, so the
     * faces are not noded though the caller says so. The noded arrangement
     * traced no face at all (the union lost) or, in the other order, both
     * faces undissolved, side by side with their area (two parts touching
     * along (10 0)-(10 5)); the dissolve must see either and give the one
     * face of their union all the same, by itself and as a subset of
     * shared edges. */
    face_set fs = {0};
    add_rect(&fs, 0, 0, 10, 10, 1);
    add_rect(&fs, 10, 0, 20, 5, 2);
    check(&fs, true, 1, 0, 150, 0);
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    for (int rev = 0; rev <= 1; rev++) {
        stapel__rings rings[2];
        for (size_t i = 0; i < fs.n; i++) {
            size_t k = rev ? fs.n - 1 - i : i;
            rings[i] = (stapel__rings){fs.pts[k], fs.end[k], 1};
        }
        size_t part_end[1] = {fs.n};
        stapel__shared_edges *se = NULL;
        assert_int_equal(stapel__shared_edges_make(ctx, rings, fs.n, part_end, 1, 1, NULL, &se),
                         STAPEL_OK);
        assert_non_null(se);
        uint32_t sel[2] = {0, 1};
        stapel__ipt *p = NULL;
        uint32_t *e = NULL, r = 0;
        assert_int_equal(stapel__dissolve_subset(ctx, se, sel, 2, 1.0, true, &p, &e, &r),
                         STAPEL_OK);
        assert_int_equal(r, 1);
        assert_int_equal(ring_area2(p, e[0]), 300);
        free(p);
        free(e);
        stapel__shared_edges_free(se);
    }
    stapel_ctx_free(ctx);
}

/* The square and rectangle of test_dissolve_noded_promise_broken mapped by
 * (x, y) -> (x + 3 y, y), (x + 30001 y, 10000 y + 3.5e10) and the same
 * 10 times further up (determinants 1 and 10000): the side the rectangle
 * touches runs on a sloped line. Its offset dx y - dy x is small on the
 * first, on the second 1.05e15 for the direction reduced, so the
 * rectangle's piece (half the side) is under 2^53 and the square's over,
 * and over 2^53 for both on the third: the line check must find the two
 * pieces on one line however it takes each. */
static void test_dissolve_noded_promise_broken_sloped(void **state)
{
    (void)state;
    static const int64_t map[3][3] = {
        {3, 1, 0}, {30001, 10000, 35000000000}, {30001, 10000, 350000000000}};
    for (int i = 0; i < 3; i++) {
        int64_t vx = map[i][0], vy = map[i][1], y0 = map[i][2];
        face_set fs = {0};
        stapel__ipt sq[4] = {
            {0, y0}, {10, y0}, {10 + 10 * vx, y0 + 10 * vy}, {10 * vx, y0 + 10 * vy}};
        stapel__ipt re[4] = {
            {10, y0}, {20, y0}, {20 + 5 * vx, y0 + 5 * vy}, {10 + 5 * vx, y0 + 5 * vy}};
        add_ring(&fs, sq, 4, 0);
        add_ring(&fs, re, 4, 0);
        check(&fs, true, 1, 0, 150 * vy, 0);
    }
}

/* A small random generator, the same on every platform. */
static uint32_t rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*state >> 33);
}

static void test_dissolve_subset_same_as_dissolve(void **state)
{
    (void)state;
    /* Part 0: a 5 x 5 grid of squares, the one at (1, 1) twice and the one
     * at (3, 2) three times (edges with two and more copies one way), and
     * one with a repeated vertex (an edge without length). Part 1: a 4 x 3
     * grid of squares elsewhere, one given twice. */
    face_set fs = {0};
    size_t part_end[2];
    for (int64_t y = 0; y < 5; y++)
        for (int64_t x = 0; x < 5; x++) {
            uint32_t rot = (uint32_t)(x + 3 * y);
            if (x == 2 && y == 3) {
                stapel__ipt r[5] = {{20, 30}, {30, 30}, {30, 30}, {30, 40}, {20, 40}};
                add_ring(&fs, r, 5, rot);
                continue;
            }
            int copies = (x == 1 && y == 1) ? 2 : (x == 3 && y == 2) ? 3 : 1;
            for (int c = 0; c < copies; c++)
                add_rect(&fs, 10 * x, 10 * y, 10 * x + 10, 10 * y + 10, rot + (uint32_t)c);
        }
    part_end[0] = fs.n;
    for (int64_t y = 0; y < 3; y++)
        for (int64_t x = 0; x < 4; x++) {
            int copies = (x == 2 && y == 1) ? 2 : 1;
            for (int c = 0; c < copies; c++)
                add_rect(&fs, 100 + 7 * x, 7 * y, 107 + 7 * x, 7 * y + 7, (uint32_t)(x + y + c));
        }
    part_end[1] = fs.n;
    stapel__rings rings[MAX_FACES];
    for (size_t i = 0; i < fs.n; i++)
        rings[i] = (stapel__rings){fs.pts[i], fs.end[i], 1};
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    /* The parts are linked on worker threads, each part by one: the same
     * unions on one, two and three. */
    for (int threads = 1; threads <= 3; threads++) {
        stapel__shared_edges *se = NULL;
        assert_int_equal(
            stapel__shared_edges_make(ctx, rings, fs.n, part_end, 2, threads, NULL, &se),
            STAPEL_OK);
        assert_non_null(se);
        uint64_t seed = 12345;
        for (int round = 0; round < 400; round++) {
            size_t part = round & 1, f0 = part == 0 ? 0 : part_end[0], f1 = part_end[part];
            uint32_t keep = 2 + rnd(&seed) % 9; /* in tenths */
            uint32_t sel[MAX_FACES];
            stapel__rings sub[MAX_FACES];
            size_t n = 0;
            for (size_t i = f0; i < f1; i++)
                if (round < 2 || rnd(&seed) % 10 < keep) {
                    sel[n] = (uint32_t)i;
                    sub[n++] = rings[i];
                }
            if (n == 0)
                continue;
            for (int noded = 0; noded <= 1; noded++) {
                stapel__ipt *p1 = NULL, *p2 = NULL;
                uint32_t *e1 = NULL, *e2 = NULL, r1 = 0, r2 = 0;
                assert_int_equal(stapel__dissolve(ctx, sub, n, 1.0, noded, &p1, &e1, &r1),
                                 STAPEL_OK);
                assert_int_equal(
                    stapel__dissolve_subset(ctx, se, sel, n, 1.0, noded, &p2, &e2, &r2), STAPEL_OK);
                assert_int_equal(r1, r2);
                assert_true(r1 > 0);
                assert_memory_equal(e1, e2, r1 * sizeof *e1);
                assert_memory_equal(p1, p2, e1[r1 - 1] * sizeof *p1);
                free(p1);
                free(p2);
                free(e1);
                free(e2);
            }
        }
        stapel__shared_edges_free(se);
    }
    stapel_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dissolve_grid_of_squares),
        cmocka_unit_test(test_dissolve_ring_around_a_hole),
        cmocka_unit_test(test_dissolve_face_given_twice),
        cmocka_unit_test(test_dissolve_corner_touch),
        cmocka_unit_test(test_dissolve_split_edge_not_noded),
        cmocka_unit_test(test_dissolve_noded_promise_broken),
        cmocka_unit_test(test_dissolve_noded_promise_broken_sloped),
        cmocka_unit_test(test_dissolve_subset_same_as_dissolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
