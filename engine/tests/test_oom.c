/*
 * test_oom.c - out of memory in the engine's own allocations: each call
 * below is run again and again with its 1st, 2nd, 3rd, ... allocation
 * failing (malloc, calloc and realloc of the engine are wrapped at link
 * time, engine/tests/meson.build), until a run makes no allocation fail.
 * Each run with a failure must end in STAPEL_ENOMEM with nothing given back,
 * not in a crash; a run under ASan also sees what an error path leaks. A
 * few allocations have a way round their failure (the line numbers of a
 * rules file, the working directory in run_info): a run may then succeed.
 */
#include "arrange.h"
#include "fixture.h"
#include "pipeline.h"

#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* The allocation that fails: the fail_at-th one counted since arming, 0
 * for none. failed tells whether it came. Counted atomically: a worker
 * thread of the engine may allocate too. */
static size_t fail_at;
static atomic_size_t counted;
static atomic_bool failed;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static bool fail_now(void)
{
    if (fail_at == 0 || atomic_fetch_add(&counted, 1) + 1 != fail_at)
        return false;
    atomic_store(&failed, true);
    return true;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

static void arm(size_t at)
{
    fail_at = at;
    atomic_store(&counted, 0);
    atomic_store(&failed, false);
}

/* Squares of side 10 in a row, each ring closed: neighbours share an edge. */
#define N_SQUARES 4
static stapel__ipt square_pts[N_SQUARES][5];
static uint32_t square_end[N_SQUARES][1];

static void squares(stapel__rings *rings)
{
    for (int64_t i = 0; i < N_SQUARES; i++) {
        stapel__ipt r[5] = {
            {10 * i, 0}, {10 * i + 10, 0}, {10 * i + 10, 10}, {10 * i, 10}, {10 * i, 0}};
        memcpy(square_pts[i], r, sizeof r);
        square_end[i][0] = 5;
        rings[i] = (stapel__rings){square_pts[i], square_end[i], 1};
    }
}

/* stapel__shared_edges_make with each of its allocations failing: its
 * error path freed the marks of the slots (one per thread) from an array
 * whose own allocation had failed, and crashed on it. */
static void test_oom_shared_edges_make(void **state)
{
    (void)state;
    stapel__rings rings[N_SQUARES];
    squares(rings);
    size_t part_end[1] = {N_SQUARES};
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    size_t runs = 0;
    for (size_t at = 1;; at++) {
        stapel__shared_edges *se = NULL;
        arm(at);
        stapel_status st =
            stapel__shared_edges_make(ctx, rings, N_SQUARES, part_end, 1, 2, NULL, &se);
        bool came = failed;
        arm(0);
        if (!came) {
            assert_int_equal(st, STAPEL_OK);
            assert_non_null(se);
            stapel__shared_edges_free(se);
            break;
        }
        assert_int_equal(st, STAPEL_ENOMEM);
        assert_null(se);
        runs++;
    }
    assert_true(runs >= 10); /* base, next, owner, tw, mark, stamp, busy, and the scratch */
    stapel_ctx_free(ctx);
}

/* A job of a nature claim, a housing claim that overlaps it and a bowtie
 * (a ring that crosses itself: its repair is stapel's own), with provinces. */
static stapel_job *small_job(stapel_ctx *ctx)
{
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    const char *nature[] = {rect(0, 0, 100, 100),
                            "{\"type\":\"Polygon\",\"coordinates\":[[[150200,450000],"
                            "[150300,450100],[150300,450000],[150200,450100],[150200,450000]]]}"};
    const char *housing[] = {rect(50, 50, 150, 150)};
    const char *province[] = {rect(-10, -10, 400, 400)};
    const char *names[] = {"Utrecht"};
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "nature",
                             fixture_geojson("oom_nature.geojson", RD_URN, 2, nature, NULL), NULL),
        STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(
                         ctx, job, "housing",
                         fixture_geojson("oom_housing.geojson", RD_URN, 1, housing, NULL), NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_set_zones(
                         ctx, job, STAPEL_ZONE_PROVINCE,
                         fixture_geojson("oom_prov.geojson", RD_URN, 1, province, names), "naam"),
                     STAPEL_OK);
    return job;
}

/* stapel_stack_build with each of its allocations failing: a failure of
 * the first ones (the layers' themes and sources) crashed in
 * stapel_stack_free, which freed each layer's strings from arrays that
 * were not there; and a failure while the bowtie's repair made its polygon
 * was told as 'building the repaired polygon failed: unknown GEOS error'. */
static void test_oom_stack_build(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_job *job = small_job(ctx);
    size_t runs = 0;
    for (size_t at = 1;; at++) {
        stapel_stack *s = NULL;
        arm(at);
        stapel_status st = stapel_stack_build(ctx, &s, job);
        bool came = failed;
        arm(0);
        if (!came) {
            assert_int_equal(st, STAPEL_OK);
            stapel_stack_free(s);
            break;
        }
        if (st != STAPEL_OK) {
            if (st != STAPEL_ENOMEM)
                fail_msg("allocation %zu failed: status %d: %s", at, (int)st,
                         stapel_ctx_message(ctx));
            assert_null(s);
            runs++;
        }
        stapel_stack_free(s);
    }
    assert_true(runs >= 100);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

/* stapel_stack_write with each of its allocations failing: out of memory,
 * and no file left. A failure while the INSERT statements were put together
 * was told as "cannot write '...': not an error (trying to prepare the
 * stack rows)", SQLite's message of a statement that had no error. */
static void test_oom_stack_write(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_job *job = small_job(ctx);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_OK);
    const char *path = STAPEL_TEST_SCRATCH "/oom_out.gpkg";
    size_t runs = 0;
    for (size_t at = 1;; at++) {
        unlink(path);
        arm(at);
        stapel_status st = stapel_stack_write(ctx, s, path, 0);
        bool came = failed;
        arm(0);
        if (!came) {
            assert_int_equal(st, STAPEL_OK);
            break;
        }
        if (st != STAPEL_OK) {
            if (st != STAPEL_ENOMEM)
                fail_msg("allocation %zu failed: status %d: %s", at, (int)st,
                         stapel_ctx_message(ctx));
            assert_int_not_equal(access(path, F_OK), 0);
            runs++;
        }
    }
    assert_true(runs >= 10);
    unlink(path);
    stapel_stack_free(s);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

/* A face whose boundary touches itself, with a hole of 12 x 12 with 12
 * points a side (49 with its closing one, more than the shell's 9: its
 * coordinates need a larger buffer). Split by stapel (own): a 40 x 40
 * square whose outer walk goes round a triangle hanging from (20, 0), the
 * hole in its upper left: 3 rings (the shell, the triangle, the hole).
 * Left to GEOS (!own): two squares of 20 grid units that meet at (20, 20),
 * one ring, the hole in the first: two polygons, the first with its hole,
 * 3 rings. */
static void pinched_face(stapel__face *f, bool own)
{
    static const stapel__ipt squares[] = {{0, 0},   {20, 0},  {20, 20}, {40, 20}, {40, 40},
                                          {20, 40}, {20, 20}, {0, 20},  {0, 0}};
    static const stapel__ipt hanging[] = {{0, 0},  {20, 0},  {15, 10}, {25, 10}, {20, 0},
                                          {40, 0}, {40, 40}, {0, 40},  {0, 0}};
    const stapel__ipt *shell = own ? hanging : squares;
    const uint32_t ns = 9, side = 12, nh = 4 * side + 1;
    const int64_t x0 = 4, y0 = own ? 24 : 4;
    f->pts = malloc((ns + nh) * sizeof *f->pts);
    f->ring_end = malloc(2 * sizeof *f->ring_end);
    assert_non_null(f->pts);
    assert_non_null(f->ring_end);
    memcpy(f->pts, shell, ns * sizeof *shell);
    stapel__ipt *h = f->pts + ns;
    /* clockwise from (x0, y0): up, right, down, left */
    for (uint32_t i = 0; i < side; i++) {
        h[i] = (stapel__ipt){x0, y0 + (int64_t)i};
        h[side + i] = (stapel__ipt){x0 + (int64_t)i, y0 + (int64_t)side};
        h[2 * side + i] = (stapel__ipt){x0 + (int64_t)side, y0 + (int64_t)side - (int64_t)i};
        h[3 * side + i] = (stapel__ipt){x0 + (int64_t)side - (int64_t)i, y0};
    }
    h[4 * side] = h[0];
    f->ring_end[0] = ns;
    f->ring_end[1] = ns + nh;
    f->n_rings = 2;
    f->pinched = true;
}

/* stapel__face_unpinch with each of its allocations failing, on a face it
 * splits itself and on one it leaves to GEOS: when the buffer for the
 * hole's coordinates could not grow, the hole was left out and the face
 * came back whole, hole and all covered, as if nothing had failed (and a
 * failure for the shell was told as a GEOS error). */
static void test_oom_face_unpinch(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    for (int own = 0; own <= 1; own++) {
        size_t runs = 0;
        for (size_t at = 1;; at++) {
            stapel__face f = {0};
            pinched_face(&f, own != 0);
            arm(at);
            stapel_status st = stapel__face_unpinch(ctx, &f, 0.5);
            bool came = failed;
            arm(0);
            if (!came) {
                assert_int_equal(st, STAPEL_OK);
                assert_int_equal(f.n_rings, 3);
                if (own) { /* split by stapel: the triangle next, as walked */
                    assert_int_equal(f.ring_end[1] - f.ring_end[0], 4);
                    assert_int_equal(f.pts[f.ring_end[0]].x, 20);
                    assert_int_equal(f.pts[f.ring_end[0]].y, 0);
                }
                free(f.pts);
                free(f.ring_end);
                break;
            }
            if (st != STAPEL_ENOMEM)
                fail_msg("allocation %zu failed (own %d): status %d, %u rings: %s", at, own,
                         (int)st, f.n_rings, stapel_ctx_message(ctx));
            assert_true(f.pinched); /* the face as it was */
            assert_int_equal(f.n_rings, 2);
            free(f.pts);
            free(f.ring_end);
            runs++;
        }
        assert_true(runs >= 3);
    }
    stapel_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_shared_edges_make),
        cmocka_unit_test(test_oom_face_unpinch),
        cmocka_unit_test(test_oom_stack_build),
        cmocka_unit_test(test_oom_stack_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
