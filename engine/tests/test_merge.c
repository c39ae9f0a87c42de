/*
 * test_merge.c - the shards of a run and their merge: parsing "i/N", reading
 * a GeoPackage's run_info, and the merge's refusals that the CLI cases do not
 * reach (a cancelled merge).
 */
#include "stapel.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "fixture.h"

#define NATURE STAPEL_TESTDATA "/demo/nature.shp"

/* A stack of the demo's nature layer at path: shard i of n, or the whole run
 * for n 0. */
static void write_stack(stapel_ctx *ctx, const char *path, int i, int n)
{
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    o.tile_vertices = 200;
    o.shard_index = i;
    o.shard_count = n;
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature", NATURE, NULL), STAPEL_OK);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build_write(ctx, &s, job, path, STAPEL_WRITE_OVERWRITE),
                     STAPEL_OK);
    stapel_stack_free(s);
    stapel_job_free(job);
}

static void test_merge_shard_parse(void **state)
{
    (void)state;
    int i = -7, n = -7;
    assert_true(stapel_shard_parse("1/4", &i, &n));
    assert_int_equal(i, 1);
    assert_int_equal(n, 4);
    assert_true(stapel_shard_parse("4/4", &i, &n));
    assert_int_equal(i, 4);
    assert_true(stapel_shard_parse("01/04", &i, &n)); /* leading zeros are digits */
    assert_int_equal(i, 1);
    assert_int_equal(n, 4);
    assert_true(stapel_shard_parse("2147483647/2147483647", &i, &n));
    assert_int_equal(n, 2147483647);
    /* Spaces, signs, anything around the numbers, and i outside 1..N. */
    const char *bad[] = {" 1/4", "1/4 ", "1 /4", "1/ 4", "+1/4", "1/+4", "-1/4", "1/-4",
                         "0/4", "5/4", "0/0", "1/0", "1", "1/", "/4", "", "1/4/5", "1/4x",
                         "a/b", "1.0/4", "2147483648/2147483648", "1/99999999999999999999"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        i = n = -7;
        if (stapel_shard_parse(bad[k], &i, &n))
            fail_msg("'%s' was taken as %d/%d", bad[k], i, n);
        assert_int_equal(i, -7); /* untouched */
        assert_int_equal(n, -7);
    }
}

static void test_merge_run_info_read(void **state)
{
    stapel_ctx *ctx = *state;
    const char *shard = STAPEL_TEST_SCRATCH "/merge_shard2of3.gpkg";
    const char *whole = STAPEL_TEST_SCRATCH "/merge_whole.gpkg";
    write_stack(ctx, shard, 2, 3);
    write_stack(ctx, whole, 0, 0);

    stapel_run_info *ri = NULL;
    assert_int_equal(stapel_run_info_read(ctx, &ri, shard), STAPEL_OK);
    assert_int_equal(ri->shard_index, 2);
    assert_int_equal(ri->shard_count, 3);
    bool layer = false, shard_row = false;
    for (size_t k = 0; k < ri->n_rows; k++) {
        layer = layer || (strcmp(ri->rows[k].key, "layer") == 0 &&
                          strcmp(ri->rows[k].value, "nature=" NATURE) == 0);
        shard_row = shard_row || (strcmp(ri->rows[k].key, "shard") == 0 &&
                                  strcmp(ri->rows[k].value, "2/3") == 0);
    }
    assert_true(layer);
    assert_true(shard_row);
    stapel_run_info_free(ri);

    ri = NULL;
    assert_int_equal(stapel_run_info_read(ctx, &ri, whole), STAPEL_OK);
    assert_int_equal(ri->shard_index, 0);
    assert_int_equal(ri->shard_count, 0);
    assert_true(ri->n_rows > 0);
    stapel_run_info_free(ri);

    ri = (stapel_run_info *)&ri;
    assert_int_equal(stapel_run_info_read(ctx, &ri, STAPEL_TEST_SCRATCH "/merge_none.gpkg"),
                     STAPEL_EIO);
    assert_null(ri);
    assert_non_null(strstr(stapel_ctx_message(ctx), "merge_none.gpkg"));
    /* A GeoPackage that stapel did not write: no run_info table. */
    ri = (stapel_run_info *)&ri;
    assert_int_equal(stapel_run_info_read(ctx, &ri, STAPEL_TESTDATA "/demo/provinces.gpkg"),
                     STAPEL_EDATA);
    assert_null(ri);
    assert_non_null(strstr(stapel_ctx_message(ctx), "no run_info table"));
    stapel_run_info_free(NULL);
}

/* A merge asked to stop stops before it reads a face. */
static void test_merge_cancelled(void **state)
{
    (void)state;
    const char *parts[] = {STAPEL_TEST_SCRATCH "/merge_c1.gpkg",
                           STAPEL_TEST_SCRATCH "/merge_c2.gpkg"};
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    write_stack(ctx, parts[0], 1, 2);
    write_stack(ctx, parts[1], 2, 2);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_merge(ctx, &s, parts, 2), STAPEL_OK);
    stapel_stack_stats st = stapel_stack_get_stats(s);
    assert_true(st.n_faces > 0);
    assert_true(st.seconds_read > 0.0);
    stapel_stack_free(s);
    stapel_ctx_cancel(ctx);
    s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_merge(ctx, &s, parts, 2), STAPEL_ECANCELLED);
    assert_null(s);
    stapel_ctx_free(ctx);
}

/* An output that is one of the parts is refused, also with overwrite: the
 * merged stack would replace that shard. The path may be spelled otherwise. */
static void test_merge_output_is_a_part(void **state)
{
    stapel_ctx *ctx = *state;
    const char *parts[] = {STAPEL_TEST_SCRATCH "/merge_o1.gpkg",
                           STAPEL_TEST_SCRATCH "/merge_o2.gpkg"};
    write_stack(ctx, parts[0], 1, 2);
    write_stack(ctx, parts[1], 2, 2);
    const char *outs[] = {parts[1], STAPEL_TEST_SCRATCH "/./merge_o2.gpkg"};
    for (size_t k = 0; k < 2; k++) {
        for (unsigned flags = 0; flags <= STAPEL_WRITE_OVERWRITE; flags += STAPEL_WRITE_OVERWRITE) {
            stapel_stack *s = (stapel_stack *)&s;
            stapel_status st = stapel_stack_merge_write(ctx, &s, parts, 2, 1, outs[k], flags);
            if (st != STAPEL_EINVAL)
                fail_msg("output %s, flags %u: status %d (%s), want STAPEL_EINVAL", outs[k], flags,
                         st, stapel_ctx_message(ctx));
            assert_null(s);
            const char *msg = stapel_ctx_message(ctx);
            if (strstr(msg, outs[k]) == NULL || strstr(msg, "one of the parts") == NULL)
                fail_msg("message '%s' does not name the output as one of the parts", msg);
        }
    }
    /* The shard is still shard 2/2. */
    stapel_run_info *ri = NULL;
    assert_int_equal(stapel_run_info_read(ctx, &ri, parts[1]), STAPEL_OK);
    assert_int_equal(ri->shard_index, 2);
    assert_int_equal(ri->shard_count, 2);
    stapel_run_info_free(ri);
}

/* Set the grid row of a GeoPackage's run_info to value. */
static void set_grid(const char *path, const char *value)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE run_info SET value = ? WHERE key = 'grid'", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, value, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* Shards whose run_info holds a grid that stapel_job_new refuses (edited or
 * damaged; the same in every part, so the parts agree) are refused with the
 * file named, before a face is put on that grid. */
static void test_merge_grid_out_of_range(void **state)
{
    stapel_ctx *ctx = *state;
    const char *parts[] = {STAPEL_TEST_SCRATCH "/merge_g1.gpkg",
                           STAPEL_TEST_SCRATCH "/merge_g2.gpkg"};
    const char *bad[] = {"1e-300", "1e6", "0", "nan"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        write_stack(ctx, parts[0], 1, 2);
        write_stack(ctx, parts[1], 2, 2);
        set_grid(parts[0], bad[k]);
        set_grid(parts[1], bad[k]);
        stapel_stack *s = (stapel_stack *)&s;
        assert_int_equal(stapel_stack_merge(ctx, &s, parts, 2), STAPEL_EDATA);
        assert_null(s);
        const char *msg = stapel_ctx_message(ctx);
        if (strstr(msg, "merge_g1.gpkg: run_info: grid") == NULL || strstr(msg, bad[k]) == NULL)
            fail_msg("grid %s: %s", bad[k], msg);
    }
}

/* The reading phase's progress, as a merge reports it. */
typedef struct reading_log {
    double f[4096];
    size_t n;
    bool after_done; /* a report after 1.0 */
} reading_log;

static void log_reading(void *user, const char *phase, double fraction)
{
    reading_log *l = user;
    if (strcmp(phase, "reading") != 0)
        return;
    if (l->n > 0 && l->f[l->n - 1] >= 1.0)
        l->after_done = true;
    if (l->n < sizeof l->f / sizeof l->f[0])
        l->f[l->n++] = fraction;
}

/* A merge of many small parts, where opening the parts takes most of the
 * reading, reports its reading as it goes, part by part: it said 0, and
 * 1.0 at the end, and nothing in between (only every 64 parts or 1024
 * faces read, after each part had been opened twice without a word). The
 * fractions do not go back, and 1.0 comes once, at the end. */
static void test_merge_reading_progress(void **state)
{
    (void)state;
    enum { N = 20 };
    char names[N][128];
    const char *parts[N];
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], STAPEL_TEST_SCRATCH "/merge_p%d.gpkg", i + 1);
        parts[i] = names[i];
        write_stack(ctx, parts[i], i + 1, N);
    }
    static reading_log log;
    memset(&log, 0, sizeof log);
    stapel_ctx_set_progress(ctx, log_reading, &log);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_merge(ctx, &s, parts, N), STAPEL_OK);
    stapel_stack_free(s);
    stapel_ctx_free(ctx);
    size_t between = 0;
    for (size_t k = 0; k < log.n; k++) {
        between += log.f[k] > 0.0 && log.f[k] < 1.0;
        if (k > 0 && log.f[k] < log.f[k - 1])
            fail_msg("reading went back from %g to %g (report %zu)", log.f[k - 1], log.f[k], k);
    }
    /* At least one report per part, as each is opened for its run_info. */
    if (between < N)
        fail_msg("%zu reports between 0 and 1 for %d parts", between, N);
    assert_true(log.n > 0);
    assert_true(log.f[log.n - 1] == 1.0);
    assert_false(log.after_done);
}

/* Swaps a part for another file (rename, as a shard job that writes its
 * output puts it in place) at the reading report number `at` that is
 * above 0: report k follows the first reading of part k (its run_info,
 * rules and zone_summary), before its faces are read. */
typedef struct swap {
    const char *part, *with;
    int at, seen;
} swap;

static void swap_at(void *user, const char *phase, double fraction)
{
    swap *w = user;
    if (strcmp(phase, "reading") == 0 && fraction > 0.0 && ++w->seen == w->at)
        assert_int_equal(rename(w->with, w->part), 0);
}

/* A part replaced while the merge runs, between its two readings (a
 * resubmitted shard job that rewrote it), is refused as changed: the
 * faces read would not be those of the run_info and rules read before.
 * It was told only when the face counts differed, as a part that 'was
 * edited or is damaged'; with the same count the new faces were taken. The
 * first part is replaced by shard 1/2 of another run (other tiles), before
 * its zones are read again; the second by a copy of itself, the same run's
 * shard, before its faces are read: any replacement is refused, as the
 * merge cannot tell what the new file holds without reading it anew. */
static void test_merge_part_replaced(void **state)
{
    stapel_ctx *ctx = *state;
    const char *parts[] = {STAPEL_TEST_SCRATCH "/merge_s1.gpkg",
                           STAPEL_TEST_SCRATCH "/merge_s2.gpkg"};
    const char *other = STAPEL_TEST_SCRATCH "/merge_s_other.gpkg";
    for (int k = 0; k < 2; k++) {
        write_stack(ctx, parts[0], 1, 2);
        write_stack(ctx, parts[1], 2, 2);
        if (k == 0) {
            stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
            o.threads = 1;
            o.tile_vertices = 50;
            o.shard_index = 1;
            o.shard_count = 2;
            stapel_job *job = NULL;
            assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
            assert_int_equal(stapel_job_add_layer(ctx, job, "nature", NATURE, NULL), STAPEL_OK);
            stapel_stack *s = NULL;
            assert_int_equal(stapel_stack_build_write(ctx, &s, job, other, STAPEL_WRITE_OVERWRITE),
                             STAPEL_OK);
            stapel_stack_free(s);
            stapel_job_free(job);
        } else {
            write_stack(ctx, other, 2, 2);
        }
        swap w = {parts[k], other, k + 1, 0};
        stapel_ctx_set_progress(ctx, swap_at, &w);
        stapel_stack *s = (stapel_stack *)&s;
        stapel_status st = stapel_stack_merge(ctx, &s, parts, 2);
        stapel_ctx_set_progress(ctx, NULL, NULL);
        assert_int_equal(w.seen >= w.at, true);
        if (st != STAPEL_EDATA)
            fail_msg("part %d replaced: status %d (%s), want STAPEL_EDATA", k + 1, st,
                     stapel_ctx_message(ctx));
        assert_null(s);
        char want[256];
        snprintf(want, sizeof want,
                 "%s changed while it was merged: was a shard job still running?", parts[k]);
        if (strstr(stapel_ctx_message(ctx), want) == NULL)
            fail_msg("part %d replaced: message '%s' lacks '%s'", k + 1, stapel_ctx_message(ctx),
                     want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_shard_parse),
        cmocka_unit_test(test_merge_run_info_read),
        cmocka_unit_test(test_merge_cancelled),
        cmocka_unit_test(test_merge_output_is_a_part),
        cmocka_unit_test(test_merge_grid_out_of_range),
        cmocka_unit_test(test_merge_reading_progress),
        cmocka_unit_test(test_merge_part_replaced),
    };
    return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
