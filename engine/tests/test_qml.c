/*
 * test_qml.c - the default QGIS styles that stapel_stack_write() puts in the
 * table layer_styles: one row per styled layer, matched the way QGIS matches
 * them (f_table_schema '' and not NULL, the real geometry column), QML that
 * is well-formed XML with version 3.22.0 and layerGeometryType 2, and the
 * classes of QGIS.md. Whether QGIS really applies them is checked by
 * cli/tests/qgis_styles.py in a real QGIS.
 */
#include "fixture.h"
#include "stapel.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <gdal.h>
#include <ogr_api.h>

typedef struct style_row {
    char table[64];
    char schema[16];
    bool schema_null;
    char geom[64];
    char name[128];
    bool is_default;
    char *qml;
} style_row;

typedef struct styles {
    style_row rows[16];
    size_t n;
} styles;

static void styles_free(styles *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->rows[i].qml);
    s->n = 0;
}

static void read_styles(const char *gpkg, styles *out)
{
    memset(out, 0, sizeof *out);
    GDALDatasetH ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetExecuteSQL(
        ds,
        "SELECT f_table_name, f_table_schema, f_table_schema IS NULL AS schema_null, "
        "f_geometry_column, styleName, useAsDefault, styleQML FROM layer_styles ORDER BY id",
        NULL, NULL);
    assert_non_null(l);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l)) != NULL && out->n < 16) {
        style_row *r = &out->rows[out->n++];
        snprintf(r->table, sizeof r->table, "%s", OGR_F_GetFieldAsString(f, 0));
        snprintf(r->schema, sizeof r->schema, "%s", OGR_F_GetFieldAsString(f, 1));
        r->schema_null = OGR_F_GetFieldAsInteger(f, 2) != 0;
        snprintf(r->geom, sizeof r->geom, "%s", OGR_F_GetFieldAsString(f, 3));
        snprintf(r->name, sizeof r->name, "%s", OGR_F_GetFieldAsString(f, 4));
        r->is_default = OGR_F_GetFieldAsInteger(f, 5) != 0;
        r->qml = strdup(OGR_F_GetFieldAsString(f, 6));
        OGR_F_Destroy(f);
    }
    GDALDatasetReleaseResultSet(ds, l);
    GDALClose(ds);
}

static const style_row *default_row(const styles *s, const char *table)
{
    const style_row *found = NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->rows[i].table, table) != 0 || !s->rows[i].is_default)
            continue;
        if (found != NULL)
            fail_msg("two default styles for %s", table);
        found = &s->rows[i];
    }
    if (found == NULL)
        fail_msg("no default style for %s", table);
    return found;
}

static size_t rows_for(const styles *s, const char *table)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += strcmp(s->rows[i].table, table) == 0;
    return n;
}

static void assert_contains(const char *hay, const char *needle, const char *what)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("%s: '%s' not found", what, needle);
}

/* The QML parses as XML (Python's expat), with root qgis. */
static void assert_xml(const char *qml, const char *what)
{
    char path[512];
    snprintf(path, sizeof path, "%s/qml_check.qml", STAPEL_TEST_SCRATCH);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(qml, f);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; "
             "sys.exit(0 if E.parse(sys.argv[1]).getroot().tag == \"qgis\" else 1)' '%s'",
             path);
    int rc = system(cmd);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
        fail_msg("%s: the QML is not well-formed XML", what);
}

/* Write a GeoJSON zone layer whose name field is called field. */
static const char *zones_with_field(const char *name, const char *field, const char *geom,
                                    const char *value)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", STAPEL_TEST_SCRATCH, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return NULL;
    fprintf(f,
            "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
            "{\"name\":\"%s\"}},\"features\":[{\"type\":\"Feature\",\"properties\":"
            "{\"%s\":\"%s\"},\"geometry\":%s}]}\n",
            RD_URN, field, value, geom);
    fclose(f);
    return path;
}

static const char *write_stack(stapel_ctx *ctx, bool zones, const char *out_name)
{
    static char gpkg[512];
    const char *a[] = {rect(0, 0, 10, 10)};
    const char *b[] = {rect(5, 0, 15, 10)};
    const char *prov[] = {rect(-5, -5, 20, 20)};
    const char *pnames[] = {"Proefland"};
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, NULL), STAPEL_OK);
    stapel_job_add_layer(ctx, job, "nature", fixture_geojson("q_a.geojson", RD_URN, 1, a, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "wind", fixture_geojson("q_b.geojson", RD_URN, 1, b, NULL),
                         NULL);
    if (zones) {
        stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE,
                             fixture_geojson("q_prov.geojson", RD_URN, 1, prov, pnames), "naam");
        stapel_job_set_zones(
            ctx, job, STAPEL_ZONE_NOVEX,
            zones_with_field("q_nov.geojson", "gebied", rect(0, 0, 20, 20), "Proefgebied"),
            "gebied");
    }
    stapel_stack *s = NULL;
    stapel_status st = stapel_stack_build(ctx, &s, job);
    snprintf(gpkg, sizeof gpkg, "%s/%s", STAPEL_TEST_SCRATCH, out_name);
    if (st == STAPEL_OK)
        st = stapel_stack_write(ctx, s, gpkg, STAPEL_WRITE_OVERWRITE);
    if (st != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(ctx));
    stapel_stack_free(s);
    stapel_job_free(job);
    return gpkg;
}

/* Every row matches its layer the way QGIS looks it up. */
static void test_qml_rows_match_layers(void **state)
{
    styles s;
    read_styles(write_stack(*state, true, "qml_zones.gpkg"), &s);
    assert_int_equal(s.n, 6);
    assert_int_equal(rows_for(&s, "stack"), 3);
    assert_int_equal(rows_for(&s, "conflicts"), 1);
    assert_int_equal(rows_for(&s, "provinces"), 1);
    assert_int_equal(rows_for(&s, "novex"), 1);
    for (size_t i = 0; i < s.n; i++) {
        const style_row *r = &s.rows[i];
        assert_false(r->schema_null);
        assert_string_equal(r->schema, "");
        assert_string_equal(r->geom, "geom");
        assert_contains(r->qml, "<qgis version=\"3.22.0\"", r->name);
        assert_contains(r->qml, "<layerGeometryType>2</layerGeometryType>", r->name);
        assert_xml(r->qml, r->name);
    }
    default_row(&s, "stack");
    default_row(&s, "conflicts");
    default_row(&s, "provinces");
    default_row(&s, "novex");
    styles_free(&s);
}

/* stack: graduated on n_themes, YlOrRd, classes 1..4 and "5 of meer". */
static void test_qml_stack_graduated(void **state)
{
    styles s;
    read_styles(write_stack(*state, true, "qml_zones.gpkg"), &s);
    const char *q = default_row(&s, "stack")->qml;
    assert_contains(q, "type=\"graduatedSymbol\" attr=\"n_themes\"", "stack");
    assert_contains(q, "graduatedMethod=\"GraduatedColor\"", "stack");
    static const char *ranges[] = {
        "lower=\"1\" upper=\"1\" symbol=\"0\" label=\"1\"",
        "lower=\"2\" upper=\"2\" symbol=\"1\" label=\"2\"",
        "lower=\"3\" upper=\"3\" symbol=\"2\" label=\"3\"",
        "lower=\"4\" upper=\"4\" symbol=\"3\" label=\"4\"",
        "lower=\"5\" upper=\"2147483647\" symbol=\"4\" label=\"5 of meer\"",
    };
    static const char *colours[] = {"255,255,178,255", "254,204,92,255", "253,141,60,255",
                                    "240,59,32,255", "189,0,38,255"};
    const char *prev = q;
    for (int i = 0; i < 5; i++) {
        assert_contains(q, ranges[i], "stack range");
        char want[64];
        snprintf(want, sizeof want, "name=\"color\" value=\"%s\"", colours[i]);
        const char *at = strstr(prev, want);
        if (at == NULL)
            fail_msg("stack: colour %s missing or out of order", colours[i]);
        prev = at;
    }
    assert_contains(q, "name=\"outline_width\" value=\"0.1\"", "stack outline");
    assert_contains(q, "name=\"outline_color\" value=\"128,128,128,255\"", "stack outline");
    styles_free(&s);
}

/* conflicts: categorized on verdict, conflict and conditional only, see-through. */
static void test_qml_conflicts_categorized(void **state)
{
    styles s;
    read_styles(write_stack(*state, true, "qml_zones.gpkg"), &s);
    const char *q = default_row(&s, "conflicts")->qml;
    assert_contains(q, "type=\"categorizedSymbol\" attr=\"verdict\"", "conflicts");
    assert_contains(q, "<category value=\"conflict\"", "conflicts");
    assert_contains(q, "<category value=\"conditional\"", "conflicts");
    assert_null(strstr(q, "value=\"single\""));
    assert_null(strstr(q, "value=\"compatible\""));
    assert_contains(q, "name=\"style\" value=\"b_diagonal\"", "conflicts hatch");
    styles_free(&s);
}

/* Zones: outline only, labelled by the name field the user gave. */
static void test_qml_zones_labelled_by_their_field(void **state)
{
    styles s;
    read_styles(write_stack(*state, true, "qml_zones.gpkg"), &s);
    const char *p = default_row(&s, "provinces")->qml;
    const char *n = default_row(&s, "novex")->qml;
    assert_contains(p, "labelsEnabled=\"1\"", "provinces");
    assert_contains(p, "fieldName=\"naam\"", "provinces");
    assert_contains(n, "fieldName=\"gebied\"", "novex");
    assert_contains(p, "type=\"singleSymbol\"", "provinces");
    assert_contains(p, "name=\"style\" value=\"no\"", "provinces: no fill");
    assert_contains(n, "name=\"outline_style\" value=\"dash\"", "novex: dashed");
    styles_free(&s);
}

/* Without zone layers, only the layers that exist get a style. */
static void test_qml_only_existing_layers(void **state)
{
    styles s;
    read_styles(write_stack(*state, false, "qml_nozones.gpkg"), &s);
    assert_int_equal(rows_for(&s, "stack"), 3);
    assert_int_equal(rows_for(&s, "conflicts"), 1);
    assert_int_equal(rows_for(&s, "provinces"), 0);
    assert_int_equal(rows_for(&s, "novex"), 0);
    styles_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qml_rows_match_layers),
        cmocka_unit_test(test_qml_stack_graduated),
        cmocka_unit_test(test_qml_conflicts_categorized),
        cmocka_unit_test(test_qml_zones_labelled_by_their_field),
        cmocka_unit_test(test_qml_only_existing_layers),
    };
    return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
