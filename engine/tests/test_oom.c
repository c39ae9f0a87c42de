/*
 * test_oom.c - out of memory in the engine's own allocations: each call
 * below is run again and again with its 1st, 2nd, 3rd, ... allocation
 * failing (malloc, calloc and realloc of the engine are wrapped at link
 * time, engine/tests/meson.build), until a run makes no allocation fail.
 * Each run with a failure must end in STAPEL_ENOMEM with nothing given back,
 * not in a crash; a run under ASan also sees what an error path leaks.
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

/* The allocation that fails: the fail_at-th one counted since arming, 0
 * for none. failed tells whether it came. */
static size_t fail_at, counted;
static bool failed;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static bool fail_now(void)
{
    if (fail_at == 0 || ++counted != fail_at)
        return false;
    failed = true;
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
    counted = 0;
    failed = false;
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_shared_edges_make),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
