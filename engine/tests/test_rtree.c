/*
 * test_rtree.c - the bulk-loaded GeoPackage R-tree (rtree.c), checked against
 * a full scan of the boxes it was given: SQLite's own rtreecheck() must pass,
 * every box must be in the index once under its id, and window queries must
 * return exactly the boxes a brute-force test finds. Both id layouts are
 * used: consecutive fids (placed in id order directly) and scattered ids
 * (sorted).
 */
#include "rtree.h"

#include <gdal.h>
#include <ogr_api.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* A GeoPackage with table "t" (geometry column "geom", no spatial index),
 * made by GDAL as stapel's writer makes its layers. */
static void make_gpkg(const char *path)
{
    GDALAllRegister();
    unlink(path);
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    assert_non_null(drv);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    char *opts[] = {"SPATIAL_INDEX=NO", "FID=fid", "GEOMETRY_NAME=geom", NULL};
    assert_non_null(GDALDatasetCreateLayer(ds, "t", NULL, wkbPolygon, opts));
    GDALClose(ds);
}

/* Deterministic boxes in [0, 1000)^2, sizes up to 20. */
static void boxes_make(stapel__rtree_box *b, size_t n, const int64_t *ids)
{
    uint64_t r = 12345;
    for (size_t i = 0; i < n; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        double x = (double)(r >> 40 & 1023), y = (double)(r >> 20 & 1023);
        double w = (double)(r >> 10 & 15) + 1, h = (double)(r & 15) + 1;
        b[i] = (stapel__rtree_box){ids[i], x, y, x + w, y + h};
    }
}

static void check_index(const char *path, const stapel__rtree_box *b, size_t n)
{
    make_gpkg(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(stapel__rtree_bulk(ctx, db, path, "t", "geom", "fid", b, n), STAPEL_OK);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);

    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT rtreecheck('rtree_t_geom')", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);

    /* Every id once, with its box (stored as floats rounded outwards). */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM rtree_t_geom WHERE id = ? AND "
                                        "minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?",
                                        -1, &q, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(q, 1, b[i].id);
        sqlite3_bind_double(q, 2, b[i].x0);
        sqlite3_bind_double(q, 3, b[i].x1);
        sqlite3_bind_double(q, 4, b[i].y0);
        sqlite3_bind_double(q, 5, b[i].y1);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(q, 0), 1);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM rtree_t_geom", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), (sqlite3_int64)n);
    sqlite3_finalize(q);

    /* Window queries against a scan of the boxes (integer corners, so the
     * float rounding of the index cannot change an answer). */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), total(id) FROM rtree_t_geom WHERE "
                                        "maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?",
                                        -1, &q, NULL),
                     SQLITE_OK);
    for (int k = 0; k < 25; k++) {
        double x0 = 40.0 * k, y0 = 1000.0 - 37.0 * k, x1 = x0 + 100, y1 = y0 + 60;
        int64_t count = 0;
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            if (b[i].x1 >= x0 && b[i].x0 <= x1 && b[i].y1 >= y0 && b[i].y0 <= y1) {
                count++;
                sum += (double)b[i].id;
            }
        }
        sqlite3_bind_double(q, 1, x0);
        sqlite3_bind_double(q, 2, x1);
        sqlite3_bind_double(q, 3, y0);
        sqlite3_bind_double(q, 4, y1);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(q, 0), count);
        assert_true(sqlite3_column_double(q, 1) == sum);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    stapel_ctx_free(ctx);
    sqlite3_close(db);
}

/* n boxes with ids id(0) .. id(n-1), indexed and checked. */
static void check_ids(const char *path, size_t n, int64_t (*id)(size_t i, size_t n))
{
    int64_t *ids = malloc(n * sizeof *ids);
    stapel__rtree_box *b = malloc(n * sizeof *b);
    assert_non_null(ids);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        ids[i] = id(i, n);
    boxes_make(b, n, ids);
    check_index(path, b, n);
    free(ids);
    free(b);
}

static int64_t fid_in_order(size_t i, size_t n)
{
    (void)n;
    return (int64_t)i + 1;
}

/* Ids with gaps, in no order (7919 is prime to n), one of them negative. */
static int64_t id_scattered(size_t i, size_t n)
{
    return i == 17 ? -5 : (int64_t)((i * 7919) % n) * 3 + 10;
}

static void test_rtree_consecutive_fids(void **state)
{
    (void)state;
    check_ids(STAPEL_TEST_SCRATCH "/rtree_consecutive.gpkg", 5000, fid_in_order);
}

/* The links cannot be placed by id and are sorted instead. */
static void test_rtree_scattered_ids(void **state)
{
    (void)state;
    check_ids(STAPEL_TEST_SCRATCH "/rtree_scattered.gpkg", 3000, id_scattered);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtree_consecutive_fids),
        cmocka_unit_test(test_rtree_scattered_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
