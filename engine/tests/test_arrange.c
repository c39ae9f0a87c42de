/*
 * test_arrange.c - clipping a ring to a tile (stapel__clip_ring).
 *
 * The clip skips runs of vertices that lie on one side of the tile (all left
 * of it, say), as a ring much larger than its tiles has in every tile but
 * its own few. The skip must not change a single segment: here the clip is
 * compared, segment for segment, with a reference that takes every segment
 * one by one (the algorithm the clip had before the skip), on random rings
 * that wander in and out of the tile, run along its border lines, sit in its
 * corners and cross its border lines outside it, and on hand-made rings: a
 * ring wholly outside on one side (which the clip drops before it starts a
 * path), one around the tile, one that closes in the middle of a run
 * outside.
 */
#include "arrange.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef stapel__i128 i128;

/* ---- the reference: every segment one by one ------------------------------ */

typedef struct ref_path {
    stapel__ipt v[4096];
    size_t n;
} ref_path;

static int64_t ref_floor_div(i128 num, i128 den)
{
    i128 q = num / den;
    if ((num % den != 0) && (num < 0))
        q--;
    return (int64_t)q;
}

static int64_t ref_clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static bool ref_same_border(stapel__ipt a, stapel__ipt b, stapel__ipt c, int64_t x0, int64_t y0,
                            int64_t x1, int64_t y1)
{
    return (a.x == b.x && b.x == c.x && (a.x == x0 || a.x == x1)) ||
           (a.y == b.y && b.y == c.y && (a.y == y0 || a.y == y1));
}

static void ref_add(ref_path *pa, stapel__ipt p, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    p.x = ref_clamp(p.x, x0, x1);
    p.y = ref_clamp(p.y, y0, y1);
    if (pa->n > 0 && pa->v[pa->n - 1].x == p.x && pa->v[pa->n - 1].y == p.y)
        return;
    if (pa->n >= 2 && ref_same_border(pa->v[pa->n - 2], pa->v[pa->n - 1], p, x0, y0, x1, y1)) {
        pa->v[pa->n - 1] = p;
        if (pa->v[pa->n - 2].x == p.x && pa->v[pa->n - 2].y == p.y)
            pa->n--;
        return;
    }
    assert_true(pa->n < sizeof pa->v / sizeof pa->v[0]);
    pa->v[pa->n++] = p;
}

typedef struct ref_cut {
    i128 num, den;
    stapel__ipt p;
} ref_cut;

static bool ref_line_cut(int64_t u0, int64_t u1, int64_t v0, int64_t dv, int64_t line, ref_cut *c,
                         int64_t *v)
{
    if (!((u0 < line && u1 > line) || (u0 > line && u1 < line)))
        return false;
    c->num = (i128)(line - u0);
    c->den = (i128)(u1 - u0);
    if (c->den < 0) {
        c->num = -c->num;
        c->den = -c->den;
    }
    *v = v0 + ref_floor_div(2 * ((i128)dv * c->num) + c->den, 2 * c->den);
    return true;
}

static size_t ref_clip(stapel__iseg *out, const stapel__ipt *pts, size_t n, int64_t x0, int64_t y0,
                       int64_t x1, int64_t y1)
{
    static ref_path pa;
    pa.n = 0;
    if (n > 1 && pts[n - 1].x == pts[0].x && pts[n - 1].y == pts[0].y)
        n--;
    if (n < 3)
        return 0;
    for (size_t i = 0; i < n; i++) {
        stapel__ipt a = pts[i], b = pts[(i + 1) % n];
        ref_add(&pa, a, x0, y0, x1, y1);
        bool a_in = a.x >= x0 && a.x <= x1 && a.y >= y0 && a.y <= y1;
        bool b_in = b.x >= x0 && b.x <= x1 && b.y >= y0 && b.y <= y1;
        if (a_in && b_in)
            continue;
        bool flip = (a.x > b.x) || (a.x == b.x && a.y > b.y);
        stapel__ipt p = flip ? b : a, q = flip ? a : b;
        int64_t dx = q.x - p.x, dy = q.y - p.y;
        ref_cut cuts[4];
        int nc = 0;
        const int64_t xs[2] = {x0, x1}, ys[2] = {y0, y1};
        for (int k = 0; k < 2; k++) {
            int64_t v;
            if (ref_line_cut(p.x, q.x, p.y, dy, xs[k], &cuts[nc], &v))
                cuts[nc++].p = (stapel__ipt){xs[k], v};
            if (ref_line_cut(p.y, q.y, p.x, dx, ys[k], &cuts[nc], &v))
                cuts[nc++].p = (stapel__ipt){v, ys[k]};
        }
        /* sort by parameter (at most four: insertion) */
        for (int s = 1; s < nc; s++)
            for (int t = s; t > 0 && cuts[t].num * cuts[t - 1].den < cuts[t - 1].num * cuts[t].den;
                 t--) {
                ref_cut c = cuts[t];
                cuts[t] = cuts[t - 1];
                cuts[t - 1] = c;
            }
        for (int k = 0; k < nc; k++)
            ref_add(&pa, cuts[flip ? nc - 1 - k : k].p, x0, y0, x1, y1);
    }
    size_t m = 0;
    if (pa.n >= 3) {
        ref_add(&pa, pa.v[0], x0, y0, x1, y1);
        for (size_t i = 0; i + 1 < pa.n; i++)
            if (pa.v[i].x != pa.v[i + 1].x || pa.v[i].y != pa.v[i + 1].y)
                out[m++] = (stapel__iseg){pa.v[i], pa.v[i + 1], 7};
        stapel__ipt last = pa.v[pa.n - 1];
        if (last.x != pa.v[0].x || last.y != pa.v[0].y)
            out[m++] = (stapel__iseg){last, pa.v[0], 7};
    }
    return m;
}

/* ---- the comparison -------------------------------------------------------- */

static void same_segments(const stapel__segs *got, const stapel__iseg *want, size_t n_want)
{
    assert_int_equal(got->n, n_want);
    for (size_t i = 0; i < n_want; i++) {
        assert_int_equal(got->v[i].a.x, want[i].a.x);
        assert_int_equal(got->v[i].a.y, want[i].a.y);
        assert_int_equal(got->v[i].b.x, want[i].b.x);
        assert_int_equal(got->v[i].b.y, want[i].b.y);
        assert_int_equal(got->v[i].owner, 7);
    }
}

static uint64_t rng_state = 88172645463325252ull;

static int64_t rnd(int64_t lo, int64_t hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (int64_t)(rng_state % (uint64_t)(hi - lo + 1));
}

/* The clip of a ring, without block boxes and with them (the ring placed
 * between points of other rings, as in an item's array: at a random offset,
 * and followed by the points of later rings, holes or parts, so that a
 * block reaching past the ring's end would show), against the reference. */
static void check_ring(const stapel__ipt *pts, size_t n, int64_t x0, int64_t y0, int64_t x1,
                       int64_t y1)
{
    static stapel__iseg want[8192];
    size_t n_want = ref_clip(want, pts, n, x0, y0, x1, y1);
    stapel__segs got = {0};
    assert_true(stapel__clip_ring(&got, pts, n, 7, x0, y0, x1, y1, NULL, 0));
    same_segments(&got, want, n_want);
    free(got.v);

    size_t base = (size_t)rnd(0, 3 * STAPEL__CLIP_BLOCK);
    size_t tail = (size_t)rnd(0, 3 * STAPEL__CLIP_BLOCK);
    stapel__ipt *arr = malloc((base + n + tail + 1) * sizeof *arr);
    assert_non_null(arr);
    for (size_t i = 0; i < base; i++)
        arr[i] = (stapel__ipt){rnd(-500, 600), rnd(-500, 600)};
    memcpy(arr + base, pts, n * sizeof *pts);
    for (size_t i = 0; i < tail; i++)
        arr[base + n + i] = (stapel__ipt){rnd(-500, 600), rnd(-500, 600)};
    int64_t *blk = stapel__clip_blocks(arr, base + n + tail);
    assert_non_null(blk);
    got = (stapel__segs){0};
    assert_true(stapel__clip_ring(&got, arr + base, n, 7, x0, y0, x1, y1, blk, base));
    same_segments(&got, want, n_want);
    free(got.v);
    free(blk);
    free(arr);
}

/* A coordinate near the tile [0,100]: often on a border line or just
 * beside it, sometimes far outside. */
static int64_t coord(void)
{
    switch (rnd(0, 5)) {
    case 0:
        return rnd(0, 1) ? 0 : 100;
    case 1:
        return rnd(-2, 2) + (rnd(0, 1) ? 0 : 100);
    case 2:
        return rnd(-1000, 1100);
    default:
        return rnd(-150, 250);
    }
}

static void test_clip_random_rings(void **state)
{
    (void)state;
    static stapel__ipt pts[1024];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)rnd(3, round < 10000 ? 12 : 400);
        /* a walk that stays on one side for a while, then jumps */
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && rnd(0, 3) > 0) {
                pts[i] = pts[i - 1];
                if (rnd(0, 1))
                    pts[i].x += rnd(-30, 30);
                else
                    pts[i].y += rnd(-30, 30);
            } else {
                pts[i] = (stapel__ipt){coord(), coord()};
            }
        }
        if (rnd(0, 1))
            pts[n++] = pts[0];
        check_ring(pts, n, 0, 0, 100, 100);
    }
}

/* Large rings, mostly far from the tile, so that whole blocks of points lie
 * on one side: squares of jittered points around the tile, through it,
 * below it, beside it and inside it, some with long runs on the border line
 * x = 0. */
static void test_clip_large_rings(void **state)
{
    (void)state;
    static stapel__ipt pts[6000];
    const int64_t cx[] = {50, -250, 50, 400, 50};
    const int64_t cy[] = {50, 50, -700, 400, 50};
    const int64_t r[] = {1000, 300, 760, 500, 70};
    for (int round = 0; round < 200; round++) {
        int c = round % 5;
        size_t n = (size_t)rnd(500, 5999);
        for (size_t i = 0; i < n; i++) {
            /* counter-clockwise along the four sides of a square of
             * half-side r, jittered */
            int64_t dx = 0, dy = 0;
            size_t q = 4 * i / n, k = 4 * i % n;
            int64_t t = -r[c] + (int64_t)(2 * (uint64_t)r[c] * k / n);
            switch (q) {
            case 0:
                dx = t, dy = -r[c];
                break;
            case 1:
                dx = r[c], dy = t;
                break;
            case 2:
                dx = -t, dy = r[c];
                break;
            default:
                dx = -r[c], dy = -t;
                break;
            }
            pts[i] = (stapel__ipt){cx[c] + dx + rnd(-3, 3), cy[c] + dy + rnd(-3, 3)};
            if (round % 3 == 0 && pts[i].x < 0)
                pts[i].x = 0; /* runs on the border line x = 0 */
        }
        check_ring(pts, n, 0, 0, 100, 100);
    }
}

static void test_clip_hand_made_rings(void **state)
{
    (void)state;
    /* wholly left of the tile, crossing the lines y = 0 and y = 100 */
    const stapel__ipt left[] = {{-50, -80}, {-10, -30}, {-20, 50}, {-5, 170},
                                {-60, 120}, {-40, 40},  {-70, 10}, {-50, -80}};
    check_ring(left, 8, 0, 0, 100, 100);
    /* around the tile, counter-clockwise, many vertices on each side */
    stapel__ipt around[64];
    size_t n = 0;
    for (int i = 0; i < 16; i++)
        around[n++] = (stapel__ipt){-100 + 20 * i, -40 - i % 3};
    for (int i = 0; i < 16; i++)
        around[n++] = (stapel__ipt){210 + i % 2, -100 + 20 * i};
    for (int i = 0; i < 16; i++)
        around[n++] = (stapel__ipt){210 - 20 * i, 230 + i % 4};
    for (int i = 0; i < 16; i++)
        around[n++] = (stapel__ipt){-100 - i % 2, 210 - 20 * i};
    check_ring(around, n, 0, 0, 100, 100);
    /* a ring that starts and closes in the middle of a run below the tile */
    const stapel__ipt wrap[] = {{50, -10}, {70, -20}, {90, -5},   {150, -30}, {150, 50},
                                {50, 50},  {-20, 60}, {-30, -40}, {10, -10},  {30, -25}};
    check_ring(wrap, 10, 0, 0, 100, 100);
    /* wholly below the tile, some corners on its border line y = 0 */
    const stapel__ipt below[] = {{-30, 0}, {50, -20}, {140, 0}, {120, -60}, {20, -5}};
    check_ring(below, 5, 0, 0, 100, 100);
    /* on the border lines themselves */
    const stapel__ipt on[] = {{0, 0},    {0, 30},   {0, 10},    {0, 80}, {0, 100},
                              {50, 100}, {30, 100}, {100, 100}, {100, 0}};
    check_ring(on, 9, 0, 0, 100, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clip_random_rings),
        cmocka_unit_test(test_clip_large_rings),
        cmocka_unit_test(test_clip_hand_made_rings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
