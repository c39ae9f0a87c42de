/*
 * test_info.c - stapel_info_read() on the bundled demo layers. Expected
 * values are the facts testdata/demo/README.md lists by construction.
 */
#include "stapel.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define DEMO STAPEL_TESTDATA "/demo/"

static stapel_source_info *read_info(stapel_ctx *ctx, const char *source)
{
    stapel_source_info *info = NULL;
    stapel_status st = stapel_info_read(ctx, &info, source);
    if (st != STAPEL_OK)
        print_error("%s\n", stapel_ctx_message(ctx));
    assert_int_equal(st, STAPEL_OK);
    return info;
}

static void test_info_shapefile_with_invalid_polygon(void **state)
{
    stapel_source_info *info = read_info(*state, DEMO "nature.shp");
    assert_string_equal(info->driver, "ESRI Shapefile");
    assert_int_equal(info->n_layers, 1);
    const stapel_layer_info *l = &info->layers[0];
    assert_string_equal(l->name, "nature");
    assert_string_equal(l->geometry_type, "Polygon");
    assert_int_equal(l->n_features, 14);
    assert_int_equal(l->epsg, 28992); /* identified from the .prj, which has no code */
    assert_int_equal(l->n_invalid, 1);
    assert_int_equal(l->n_empty, 0);
    assert_int_equal(l->n_not_polygonal, 0);
    assert_int_equal(l->first_not_polygonal, -1);
    assert_int_equal(l->n_mixed, 0);
    assert_int_equal(l->first_mixed, -1);
    assert_true(l->has_extent);
    assert_true(l->xmin > 130000 && l->xmax < 200000 && l->ymin > 470000 && l->ymax < 540000);
    bool has_naam = false;
    for (size_t i = 0; i < l->n_fields; i++)
        if (strcmp(l->fields[i].name, "naam") == 0 && strcmp(l->fields[i].type, "String") == 0)
            has_naam = true;
    assert_true(has_naam);
    stapel_source_info_free(info);
}

static void test_info_geopackage_counts_empty(void **state)
{
    stapel_source_info *info = read_info(*state, DEMO "water.gpkg");
    assert_string_equal(info->driver, "GPKG");
    const stapel_layer_info *l = &info->layers[0];
    assert_string_equal(l->geometry_type, "Multi Polygon");
    assert_int_equal(l->n_features, 9);
    assert_int_equal(l->epsg, 28992);
    assert_int_equal(l->n_empty + l->n_null, 1);
    assert_int_equal(l->n_invalid, 0);
    assert_non_null(strstr(l->crs_name, "Amersfoort"));
    stapel_source_info_free(info);
}

static void test_info_multilayer_and_layername(void **state)
{
    stapel_source_info *all = read_info(*state, DEMO "claims.gpkg");
    assert_int_equal(all->n_layers, 3);
    stapel_source_info_free(all);
    stapel_source_info *one = read_info(*state, DEMO "claims.gpkg|layername=agri");
    assert_int_equal(one->n_layers, 1);
    assert_string_equal(one->layers[0].name, "agri");
    assert_int_equal(one->layers[0].n_features, 32);
    stapel_source_info_free(one);
}

static void test_info_geojson_wgs84(void **state)
{
    stapel_source_info *info = read_info(*state, DEMO "wind.geojson");
    const stapel_layer_info *l = &info->layers[0];
    assert_int_equal(l->epsg, 4326);
    assert_int_equal(l->n_features, 6);
    /* lon/lat order: x is longitude (about 5-6 E), y latitude (about 52-53 N) */
    assert_true(l->xmin > 4.5 && l->xmax < 6.5 && l->ymin > 52.0 && l->ymax < 53.0);
    stapel_source_info_free(info);
}

/* Features 2 and 4 are a line and a point (stack refuses them), feature 3 a
 * collection of a polygon and a point (stack keeps the polygon). */
static void test_info_counts_what_is_not_polygons(void **state)
{
    char mixed[512];
    snprintf(mixed, sizeof mixed,
             "{\"type\":\"GeometryCollection\",\"geometries\":[%s,"
             "{\"type\":\"Point\",\"coordinates\":[150000,450000]}]}",
             rect(200, 0, 300, 100));
    const char *geoms[] = {rect(0, 0, 100, 100),
                           "{\"type\":\"LineString\",\"coordinates\":[[150000,450000],"
                           "[150100,450100]]}",
                           mixed, "{\"type\":\"Point\",\"coordinates\":[150000,450000]}"};
    const char *path = fixture_geojson("info-mixed.geojson", RD_URN, 4, geoms, NULL);
    assert_non_null(path);
    stapel_source_info *info = read_info(*state, path);
    const stapel_layer_info *l = &info->layers[0];
    assert_int_equal(l->n_features, 4);
    assert_int_equal(l->n_not_polygonal, 2);
    assert_int_equal(l->first_not_polygonal, 2);
    assert_int_equal(l->n_mixed, 1);
    assert_int_equal(l->first_mixed, 3);
    stapel_source_info_free(info);
}

/* A CSV's WKT column whose text is no WKT (cut short, as a spreadsheet cuts
 * a long cell): GDAL gives no geometry (row 2) or a point it made of the
 * bytes (row 3), and no error. Both are unreadable, not null nor points;
 * an empty text (row 4) is a null geometry, hexadecimal WKB (row 5) reads. */
static void test_info_csv_wkt_cut_short(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/info-cut.csv", STAPEL_TEST_SCRATCH);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("id,WKT\n"
          "1,\"POLYGON((155000 463000,156000 463000,156000 464000,155000 463000))\"\n"
          "2,\"POLYGON((155000 463000,1\"\n"
          "3,\"POLYGON((155000 463000,156000 463000,156000 4640\"\n"
          "4,\n"
          "5,0103000000010000000400000000000000000000000000000000000000000000000000F03F00"
          "00000000000000000000000000F03F000000000000F03F00000000000000000000000000000000\n",
          f);
    fclose(f);
    stapel_source_info *info = read_info(*state, path);
    const stapel_layer_info *l = &info->layers[0];
    assert_int_equal(l->n_features, 5);
    assert_int_equal(l->n_unreadable, 2);
    assert_int_equal(l->n_null, 1);
    assert_int_equal(l->n_not_polygonal, 0);
    assert_int_equal(l->n_invalid, 0);
    stapel_source_info_free(info);
}

static void test_info_errors_name_subject(void **state)
{
    stapel_ctx *ctx = *state;
    stapel_source_info *info = NULL;
    assert_int_equal(stapel_info_read(ctx, &info, DEMO "claims.gpkg|layername=nope"),
                     STAPEL_EDATA);
    assert_null(info);
    assert_non_null(strstr(stapel_ctx_message(ctx), "nope"));
    assert_non_null(strstr(stapel_ctx_message(ctx), "agri")); /* lists what exists */
    assert_int_equal(stapel_info_read(ctx, &info, DEMO "README.md"), STAPEL_EIO);
    assert_non_null(strstr(stapel_ctx_message(ctx), "README.md"));
}

/* A cancel request pending when the call starts stops it, as it stops the
 * other calls that read: also on a layer with no feature, where the check
 * made for every feature never comes. The request stays until cleared. */
static void test_info_pending_cancel_stops_empty_layer(void **state)
{
    stapel_ctx *ctx = *state;
    const char *path = fixture_geojson("info-empty.geojson", RD_URN, 0, NULL, NULL);
    assert_non_null(path);
    stapel_source_info *info = NULL;
    stapel_ctx_cancel(ctx);
    assert_int_equal(stapel_info_read(ctx, &info, path), STAPEL_ECANCELLED);
    assert_null(info);
    assert_non_null(strstr(stapel_ctx_message(ctx), "cancelled"));
    assert_non_null(strstr(stapel_ctx_message(ctx), "info-empty.geojson"));
    /* with features: stopped too */
    assert_int_equal(stapel_info_read(ctx, &info, DEMO "water.gpkg"), STAPEL_ECANCELLED);
    assert_null(info);
    stapel_ctx_cancel_clear(ctx);
    info = read_info(ctx, path);
    assert_int_equal(info->n_layers, 1);
    assert_int_equal(info->layers[0].n_features, 0);
    stapel_source_info_free(info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info_shapefile_with_invalid_polygon),
        cmocka_unit_test(test_info_geopackage_counts_empty),
        cmocka_unit_test(test_info_multilayer_and_layername),
        cmocka_unit_test(test_info_geojson_wgs84),
        cmocka_unit_test(test_info_counts_what_is_not_polygons),
        cmocka_unit_test(test_info_csv_wkt_cut_short),
        cmocka_unit_test(test_info_errors_name_subject),
        cmocka_unit_test(test_info_pending_cancel_stops_empty_layer),
    };
    return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
