/*
 * test_render.c - stapel_render() on a fixture with known geometry. The
 * expected colours are the ColorBrewer values written out here (from
 * QGIS.md), not read from stapel's own tables, and the expected places are
 * computed from the fixture's coordinates.
 *
 * Fixture (metres, offset into RD by rect()):
 *   nature [0,1000]x[0,1000], water [500,1500]x[0,1000], wind [0,1500]x[500,1500]
 *   -> [500,1000]x[500,1000] has 3 themes, [0,500]x[500,1000] 2, [0,500]^2 1;
 *   province Testland [-500,2500]x[-500,2500] (its label sits near (1000,1000));
 *   NOVEX Oosthoek [1000,2500]x[0,1500] (its claimed part: [1000,1500]x[0,1500]).
 *   Nothing is claimed at (-300,1800).
 */
#include "fixture.h"
#include "stapel.h"
#include "locales.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>
#include <cmocka.h>

#include <ctype.h>
#include <locale.h>
#include <gdal.h>

#define OX 150000.0
#define OY 450000.0

typedef struct fixture {
    stapel_ctx *ctx;
    char gpkg[512];
    char dir[512]; /* pictures go here */
} fixture;

typedef struct rgb {
    unsigned r, g, b;
} rgb;

static const rgb YLORRD[5] = {
    {0xFF, 0xFF, 0xB2}, {0xFE, 0xCC, 0x5C}, {0xFD, 0x8D, 0x3C},
    {0xF0, 0x3B, 0x20}, {0xBD, 0x00, 0x26},
};
static const rgb WHITE = {255, 255, 255};

/* The fixture's stack, in the working CRS t_srs (NULL: RD), written to gpkg. */
static stapel_status write_fixture_stack(stapel_ctx *ctx, const char *gpkg, const char *t_srs)
{
    const char *n[] = {rect(0, 0, 1000, 1000)};
    const char *w[] = {rect(500, 0, 1500, 1000)};
    const char *d[] = {rect(0, 500, 1500, 1500)};
    const char *prov[] = {rect(-500, -500, 2500, 2500)};
    const char *pnames[] = {"Testland"};
    const char *nov[] = {rect(1000, 0, 2500, 1500)};
    const char *nnames[] = {"Oosthoek"};
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    o.t_srs = t_srs;
    stapel_status st = stapel_job_new(ctx, &job, &o);
    if (st != STAPEL_OK)
        return st;
    stapel_job_add_layer(ctx, job, "nature", fixture_geojson("r_n.geojson", RD_URN, 1, n, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "water", fixture_geojson("r_w.geojson", RD_URN, 1, w, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "wind", fixture_geojson("r_d.geojson", RD_URN, 1, d, NULL),
                         NULL);
    stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE,
                         fixture_geojson("r_prov.geojson", RD_URN, 1, prov, pnames), "naam");
    stapel_job_set_zones(ctx, job, STAPEL_ZONE_NOVEX,
                         fixture_geojson("r_nov.geojson", RD_URN, 1, nov, nnames), "naam");
    stapel_stack *s = NULL;
    st = stapel_stack_build(ctx, &s, job);
    stapel_job_free(job);
    if (st == STAPEL_OK)
        st = stapel_stack_write(ctx, s, gpkg, STAPEL_WRITE_OVERWRITE);
    stapel_stack_free(s);
    return st;
}

/* Build the stack of job (freed) and write it to gpkg; the test fails on
 * any error. */
static void build_and_write(fixture *fx, stapel_job *job, const char *gpkg)
{
    stapel_stack *s = NULL;
    stapel_status st = stapel_stack_build(fx->ctx, &s, job);
    stapel_job_free(job);
    if (st == STAPEL_OK)
        st = stapel_stack_write(fx->ctx, s, gpkg, STAPEL_WRITE_OVERWRITE);
    stapel_stack_free(s);
    if (st != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
}

/* A stack of one nature claim and three province features (names[i] for
 * prov[i]), written to gpkg (name: a file in the scratch directory). */
static void write_claim_provinces(fixture *fx, char *gpkg, size_t size, const char *name,
                                  const char *claim, const char *const prov[3],
                                  const char *const names[3])
{
    snprintf(gpkg, size, "%s/%s", STAPEL_TEST_SCRATCH, name);
    stapel_job *job = NULL;
    stapel_stack_opts so = STAPEL_STACK_OPTS_INIT;
    assert_int_equal(stapel_job_new(fx->ctx, &job, &so), STAPEL_OK);
    stapel_job_add_layer(fx->ctx, job, "nature",
                         fixture_geojson("r_cp_n.geojson", RD_URN, 1, &claim, NULL), NULL);
    stapel_job_set_zones(fx->ctx, job, STAPEL_ZONE_PROVINCE,
                         fixture_geojson("r_cp_p.geojson", RD_URN, 3, prov, names), "naam");
    build_and_write(fx, job, gpkg);
}

/* Province West in two parts, [-100,500]x[-100,500] and [-100,500]x[500,1100],
 * beside Oost [500,1100]x[-100,1100]; nature claims [0,1000]^2. */
static void write_west_oost(fixture *fx, char *gpkg, size_t size, const char *name)
{
    const char *prov[] = {rect(-100, -100, 500, 500), rect(-100, 500, 500, 1100),
                          rect(500, -100, 1100, 1100)};
    const char *names[] = {"West", "West", "Oost"};
    write_claim_provinces(fx, gpkg, size, name, rect(0, 0, 1000, 1000), prov, names);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || stapel_ctx_new(&fx->ctx) != STAPEL_OK)
        return -1;
    snprintf(fx->gpkg, sizeof fx->gpkg, "%s/render.gpkg", STAPEL_TEST_SCRATCH);
    if (write_fixture_stack(fx->ctx, fx->gpkg, NULL) != STAPEL_OK) {
        print_error("%s\n", stapel_ctx_message(fx->ctx));
        return -1;
    }
    snprintf(fx->dir, sizeof fx->dir, "%s/render-out", STAPEL_TEST_SCRATCH);
    mkdir(fx->dir, 0755);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    stapel_ctx_free(fx->ctx);
    free(fx);
    cairo_debug_reset_static_data();
    return 0;
}

static const char *out_path(const fixture *fx, const char *name)
{
    static char bufs[4][600];
    static int slot = 0;
    char *p = bufs[slot++ % 4];
    snprintf(p, 600, "%s/%s", fx->dir, name);
    unlink(p);
    return p;
}

static stapel_render_layout render_ok(fixture *fx, const char *path, stapel_render_opts *o)
{
    stapel_render_layout l;
    memset(&l, 0, sizeof l);
    stapel_status st = stapel_render(fx->ctx, &l, fx->gpkg, path, o);
    if (st != STAPEL_OK)
        fail_msg("render %s: %s", path, stapel_ctx_message(fx->ctx));
    return l;
}

static rgb pixel(cairo_surface_t *img, int x, int y)
{
    assert_true(x >= 0 && y >= 0);
    assert_true(x < cairo_image_surface_get_width(img) && y < cairo_image_surface_get_height(img));
    const unsigned char *data = cairo_image_surface_get_data(img);
    uint32_t v =
        *(const uint32_t *)(data + (size_t)y * (size_t)cairo_image_surface_get_stride(img) +
                            (size_t)x * 4);
    return (rgb){(v >> 16) & 255, (v >> 8) & 255, v & 255};
}

/* The pixel where the fixture point (x, y) lands. */
static rgb at(cairo_surface_t *img, const stapel_render_layout *l, double x, double y)
{
    double sx = l->map_w / (l->xmax - l->xmin), sy = l->map_h / (l->ymax - l->ymin);
    int px = (int)floor(l->map_x + (x + OX - l->xmin) * sx);
    int py = (int)floor(l->map_y + (l->ymax - (y + OY)) * sy);
    return pixel(img, px, py);
}

static void assert_rgb(rgb got, rgb want, const char *what)
{
    if (got.r != want.r || got.g != want.g || got.b != want.b)
        fail_msg("%s: got #%02X%02X%02X, want #%02X%02X%02X", what, got.r, got.g, got.b, want.r,
                 want.g, want.b);
}

static cairo_surface_t *load_png(const char *path)
{
    cairo_surface_t *img = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS)
        fail_msg("%s: %s", path, cairo_status_to_string(cairo_surface_status(img)));
    return img;
}

static void test_render_face_colours(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    const char *path = out_path(fx, "colours.png");
    stapel_render_layout l = render_ok(fx, path, &o);
    cairo_surface_t *img = load_png(path);
    assert_rgb(at(img, &l, 750, 750), YLORRD[2], "centre of the 3-theme face");
    assert_rgb(at(img, &l, 250, 750), YLORRD[1], "centre of a 2-theme face");
    assert_rgb(at(img, &l, 250, 250), YLORRD[0], "centre of a 1-theme face");
    assert_rgb(at(img, &l, 750, 1250), YLORRD[0], "the wind-only strip");
    assert_rgb(at(img, &l, -300, 1800), WHITE, "outside all claims");
    assert_int_equal(l.n_faces, 8); /* 7 overlay faces; the NOVEX border at x=1000 splits one */
    cairo_surface_destroy(img);
}

/* Every class colour appears as a solid swatch inside the legend box, and
 * the map shows none of the classes that have no area (4, 5 of meer). */
static void test_render_legend_has_every_class(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    const char *path = out_path(fx, "legend.png");
    stapel_render_layout l = render_ok(fx, path, &o);
    cairo_surface_t *img = load_png(path);
    for (int c = 0; c < 5; c++) {
        int in_legend = 0, in_map = 0;
        for (int y = 0; y < cairo_image_surface_get_height(img); y++) {
            for (int x = 0; x < cairo_image_surface_get_width(img); x++) {
                rgb p = pixel(img, x, y);
                if (p.r != YLORRD[c].r || p.g != YLORRD[c].g || p.b != YLORRD[c].b)
                    continue;
                if (x >= l.legend_x && x < l.legend_x + l.legend_w && y >= l.legend_y &&
                    y < l.legend_y + l.legend_h)
                    in_legend++;
                else if (x >= l.map_x && x < l.map_x + l.map_w && y >= l.map_y &&
                         y < l.map_y + l.map_h)
                    in_map++;
            }
        }
        if (in_legend < 100)
            fail_msg("class %d: %d pixels of its colour in the legend", c + 1, in_legend);
        if (c >= 3 && in_map > 0)
            fail_msg("class %d has no faces but %d map pixels of its colour", c + 1, in_map);
    }
    /* the legend lies beside the map, not on it */
    assert_true(l.legend_x >= l.map_x + l.map_w);
    cairo_surface_destroy(img);
}

static void test_render_size_and_aspect(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1234;
    const char *path = out_path(fx, "size.png");
    stapel_render_layout l = render_ok(fx, path, &o);
    cairo_surface_t *img = load_png(path);
    assert_int_equal(cairo_image_surface_get_width(img), 1234);
    assert_int_equal(cairo_image_surface_get_height(img), l.height);
    assert_int_equal(l.width, 1234);
    /* one metre is as long across as up */
    double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
    assert_true(fabs(sx - sy) < 1e-9 * sx);
    /* the data, [-500,2500]x[-500,2500], is shown whole, with a small margin */
    assert_true(l.xmin <= OX - 500 && l.xmax >= OX + 2500);
    assert_true(l.ymin <= OY - 500 && l.ymax >= OY + 2500);
    assert_true(l.xmax - l.xmin < 3000 * 1.1);
    /* the map, the legend and the footer fit on the picture */
    assert_true(l.map_x >= 0 && l.map_x + l.map_w <= l.width);
    assert_true(l.map_y + l.map_h < l.height);
    assert_true(l.legend_x + l.legend_w <= l.width && l.legend_y + l.legend_h <= l.height);
    cairo_surface_destroy(img);

    stapel_render_opts d = STAPEL_RENDER_OPTS_INIT; /* the PNG default width */
    path = out_path(fx, "default.png");
    l = render_ok(fx, path, &d);
    assert_int_equal(l.width, 2000);
}

static void test_render_zone_crops(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    o.zone = "Oosthoek";
    const char *path = out_path(fx, "zone.png");
    stapel_render_layout l = render_ok(fx, path, &o);
    /* the extent is the zone's [1000,2500]x[0,1500] with a margin of at most 5% */
    assert_true(l.xmin <= OX + 1000 && l.xmax >= OX + 2500);
    assert_true(l.ymin <= OY && l.ymax >= OY + 1500);
    assert_true(l.xmin >= OX + 1000 - 75 && l.xmax <= OX + 2500 + 75);
    assert_true(l.ymin >= OY - 75 && l.ymax <= OY + 1500 + 75);
    double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
    assert_true(fabs(sx - sy) < 1e-9 * sx);
    cairo_surface_t *img = load_png(path);
    assert_rgb(at(img, &l, 1250, 750), YLORRD[1], "a 2-theme face inside the zone");
    assert_rgb(at(img, &l, 1250, 1250), YLORRD[0], "a 1-theme face inside the zone");
    /* the 3-theme face just west of the zone is in view but greyed out */
    rgb grey = at(img, &l, 975, 750);
    rgb orig = YLORRD[2];
    int spread = (int)fmax(grey.r, fmax(grey.g, grey.b)) - (int)fmin(grey.r, fmin(grey.g, grey.b));
    int orig_spread = (int)orig.r - (int)orig.b;
    if (spread * 2 > orig_spread)
        fail_msg("outside the zone: #%02X%02X%02X is not greyed out", grey.r, grey.g, grey.b);
    assert_true(grey.r > 200 && grey.g > 200 && grey.b > 180);
    cairo_surface_destroy(img);
}

/* A stack in EPSG:3035 is drawn in RD, framed as tightly as the same stack in
 * RD: EPSG:3035 is turned some 4 degrees against RD here, so the RD bounds of
 * its box would add some 7 % of margin. The fixture's coordinates are RD. */
static void test_render_other_crs_framed_tightly(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-3035.gpkg", STAPEL_TEST_SCRATCH);
    if (write_fixture_stack(fx->ctx, gpkg, "EPSG:3035") != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    const char *path = out_path(fx, "laea.png");
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    /* the data, [-500,2500]x[-500,2500] in RD, is shown whole (the R-tree's
     * boxes are single precision: half a metre of slack), with the margin of
     * an RD stack: 3 % a side */
    assert_true(l.xmin <= OX - 500 + 0.5 && l.xmax >= OX + 2500 - 0.5);
    assert_true(l.ymin <= OY - 500 + 0.5 && l.ymax >= OY + 2500 - 0.5);
    assert_true(l.xmax - l.xmin < 3000 * 1.07);
    assert_true(l.ymax - l.ymin < 3000 * 1.07);
    cairo_surface_t *img = load_png(path);
    assert_rgb(at(img, &l, 750, 750), YLORRD[2], "the 3-theme face");
    assert_rgb(at(img, &l, 250, 250), YLORRD[0], "a 1-theme face");
    assert_rgb(at(img, &l, -300, 1800), WHITE, "unclaimed land");
    cairo_surface_destroy(img);
}

/* The same for a stack of many small faces: 12 x 12 squares of 10 m, 250 m
 * apart, on [0,2760]^2 in RD, stacked in EPSG:3035 without zones. */
static void test_render_other_crs_small_faces(void **state)
{
    fixture *fx = *state;
    enum { SIDE = 12 };
    char *squares[SIDE * SIDE];
    for (int i = 0; i < SIDE * SIDE; i++) {
        double x = 250.0 * (i % SIDE), y = 250.0 * (i / SIDE);
        squares[i] = strdup(rect(x, y, x + 10, y + 10));
        assert_non_null(squares[i]);
    }
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-3035-small.gpkg", STAPEL_TEST_SCRATCH);
    stapel_job *job = NULL;
    stapel_stack_opts so = STAPEL_STACK_OPTS_INIT;
    so.t_srs = "EPSG:3035";
    assert_int_equal(stapel_job_new(fx->ctx, &job, &so), STAPEL_OK);
    stapel_job_add_layer(fx->ctx, job, "housing",
                         fixture_geojson("r_small.geojson", RD_URN, SIDE * SIDE,
                                         (const char *const *)squares, NULL),
                         NULL);
    for (int i = 0; i < SIDE * SIDE; i++)
        free(squares[i]); /* fixture_geojson has written them */
    build_and_write(fx, job, gpkg);
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, out_path(fx, "laea-small.png"), &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    /* a corner of a 10 m box sticks out of the rotated square by under a
     * metre; the R-tree adds half a metre */
    assert_true(l.xmin <= OX + 0.5 && l.xmax >= OX + 2760 - 0.5);
    assert_true(l.ymin <= OY + 0.5 && l.ymax >= OY + 2760 - 0.5);
    assert_true(l.xmax - l.xmin < 2760 * 1.07);
    assert_true(l.ymax - l.ymin < 2760 * 1.07);
    assert_int_equal(l.n_faces, SIDE * SIDE);
}

/* A zone delivered in parts is labelled once: province West in two parts
 * beside Oost, and the fixture's Testland and Oosthoek, one label each. */
static void test_render_zone_in_parts_labelled_once(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 600;
    stapel_render_layout l = render_ok(fx, out_path(fx, "labels.png"), &o);
    assert_int_equal(l.n_labels, 2);

    char gpkg[600];
    write_west_oost(fx, gpkg, sizeof gpkg, "render-parts.gpkg");
    if (stapel_render(fx->ctx, &l, gpkg, out_path(fx, "parts.png"), &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    assert_int_equal(l.n_labels, 2);
}

static void test_render_n_claims_field(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 800;
    o.field = "n_claims";
    const char *path = out_path(fx, "claims.png");
    stapel_render_layout l = render_ok(fx, path, &o);
    cairo_surface_t *img = load_png(path);
    /* ColorBrewer PuBu, 5 classes: class 3 is #74A9CF */
    assert_rgb(at(img, &l, 750, 750), (rgb){0x74, 0xA9, 0xCF}, "3 claims");
    cairo_surface_destroy(img);
}

/* The last class of n_claims ("5 of meer") has no upper end that a count
 * reaches: a face of 10000 claims, or of the most an integer field holds, is
 * drawn in its colour (with an upper end of 9999 it was grey, outside every
 * class, and QGIS left it unstyled). */
static void test_render_n_claims_open_end(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/many-claims.gpkg", fx->dir);
    if (write_fixture_stack(fx->ctx, gpkg, NULL) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    GDALDatasetH ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR | GDAL_OF_UPDATE, NULL, NULL, NULL);
    assert_non_null(ds);
    GDALDatasetExecuteSQL(ds, "UPDATE stack SET n_claims = 10000 WHERE n_claims = 3", NULL, NULL);
    GDALDatasetExecuteSQL(ds, "UPDATE stack SET n_claims = 2147483647 WHERE n_claims = 2", NULL,
                          NULL);
    GDALClose(ds);
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 800;
    o.field = "n_claims";
    const char *path = out_path(fx, "many-claims.png");
    stapel_render_layout l;
    memset(&l, 0, sizeof l);
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("render %s: %s", path, stapel_ctx_message(fx->ctx));
    cairo_surface_t *img = load_png(path);
    /* ColorBrewer PuBu, 5 classes: the last is #045A8D */
    assert_rgb(at(img, &l, 750, 750), (rgb){0x04, 0x5A, 0x8D}, "10000 claims");
    assert_rgb(at(img, &l, 250, 750), (rgb){0x04, 0x5A, 0x8D}, "2147483647 claims");
    cairo_surface_destroy(img);
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_render_svg_is_xml(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    const char *path = out_path(fx, "map.svg");
    stapel_render_layout l = render_ok(fx, path, &o);
    assert_int_equal(l.width, 842);
    char cmd[1200];
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; "
        "r = E.parse(sys.argv[1]).getroot(); "
        "sys.exit(0 if r.tag.endswith(\"svg\") and float(r.get(\"width\").rstrip(\"pt\")) == 842 "
        "else 1)' '%s'",
        path);
    assert_int_equal(run(cmd), 0);
}

static void test_render_pdf_opens(void **state)
{
    fixture *fx = *state;
    if (run("command -v pdfinfo >/dev/null 2>&1") != 0)
        skip(); /* poppler-utils comes with tools/install-deps --extra */
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.zone = "Testland";
    const char *path = out_path(fx, "map.pdf");
    render_ok(fx, path, &o);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "pdfinfo '%s' 2>&1 | grep -q '^Pages: *1$'", path);
    assert_int_equal(run(cmd), 0);
}

/* The footer names the themes on the map: all of them, or with --zone those
 * of the zone only (nature lies west of Oosthoek and only touches it). */
static void test_render_footer_themes(void **state)
{
    fixture *fx = *state;
    if (run("command -v pdftotext >/dev/null 2>&1") != 0)
        skip(); /* poppler-utils comes with tools/install-deps --extra */
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    const char *path = out_path(fx, "themes-all.pdf");
    render_ok(fx, path, &o);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "pdftotext '%s' - | grep -q \"thema's: nature, water, wind\"", path);
    assert_int_equal(run(cmd), 0);
    o.zone = "Oosthoek";
    path = out_path(fx, "themes-zone.pdf");
    render_ok(fx, path, &o);
    snprintf(cmd, sizeof cmd,
             "pdftotext '%s' - > '%s.txt' && grep -q \"thema's: water, wind\" '%s.txt' && "
             "! grep -q nature '%s.txt'",
             path, path, path, path);
    assert_int_equal(run(cmd), 0);
}

/* No file appears in the output directory whose name contains ".tmp". */
static void assert_no_temp_files(const fixture *fx)
{
    DIR *d = opendir(fx->dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp") != NULL)
            fail_msg("temporary file left behind: %s", e->d_name);
    closedir(d);
}

static void expect_failure(fixture *fx, const char *gpkg, const char *path,
                           const stapel_render_opts *o, stapel_status want, const char *in_msg)
{
    stapel_render_layout l;
    stapel_status st = stapel_render(fx->ctx, &l, gpkg, path, o);
    if (st != want)
        fail_msg("%s: got status %d (%s), want %d", path, st, stapel_ctx_message(fx->ctx), want);
    if (strstr(stapel_ctx_message(fx->ctx), in_msg) == NULL)
        fail_msg("message '%s' lacks '%s'", stapel_ctx_message(fx->ctx), in_msg);
    assert_int_equal(access(path, F_OK), -1);
    assert_no_temp_files(fx);
}

static void test_render_errors(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.zone = "Atlantis";
    expect_failure(fx, fx->gpkg, out_path(fx, "e1.png"), &o, STAPEL_EINVAL, "Atlantis");
    expect_failure(fx, fx->gpkg, out_path(fx, "e1.png"), &o, STAPEL_EINVAL,
                   "'Testland' (province)");
    expect_failure(fx, fx->gpkg, out_path(fx, "e1.png"), &o, STAPEL_EINVAL, "'Oosthoek' (NOVEX)");
    assert_null(strstr(stapel_ctx_message(fx->ctx), "did you mean"));
    /* a name that misses one only by case or spaces around it names that one */
    o.zone = " testLAND ";
    expect_failure(fx, fx->gpkg, out_path(fx, "e1.png"), &o, STAPEL_EINVAL,
                   "unknown zone ' testLAND ' in '");
    expect_failure(fx, fx->gpkg, out_path(fx, "e1.png"), &o, STAPEL_EINVAL,
                   "; did you mean 'Testland' (province)? (case and spaces count); valid zones: ");
    o.zone = "NOVEX:oosthoek";
    expect_failure(fx, fx->gpkg, out_path(fx, "e1.png"), &o, STAPEL_EINVAL,
                   "did you mean 'Oosthoek' (NOVEX)?");
    o.zone = "Atlantis";
    stapel_render_opts f = STAPEL_RENDER_OPTS_INIT;
    f.field = "area_m2";
    expect_failure(fx, fx->gpkg, out_path(fx, "e2.png"), &f, STAPEL_EINVAL, "n_themes");
    stapel_render_opts d = STAPEL_RENDER_OPTS_INIT;
    expect_failure(fx, fx->gpkg, out_path(fx, "e3.jpg"), &d, STAPEL_EINVAL, "'.jpg'");
    expect_failure(fx, fx->gpkg, out_path(fx, "e3"), &d, STAPEL_EINVAL, ".png, .svg or .pdf");
    /* a GeoPackage without a stack layer */
    expect_failure(fx, STAPEL_TESTDATA "/demo/provinces.gpkg", out_path(fx, "e4.png"), &d,
                   STAPEL_EDATA, "no layer 'stack'");
    expect_failure(fx, STAPEL_TEST_SCRATCH "/does-not-exist.gpkg", out_path(fx, "e5.png"), &d,
                   STAPEL_EIO, "does-not-exist.gpkg");
    stapel_render_opts wide = STAPEL_RENDER_OPTS_INIT;
    wide.width = 50;
    expect_failure(fx, fx->gpkg, out_path(fx, "e6.png"), &wide, STAPEL_EINVAL, "width");
    /* a directory that does not exist: nothing is written anywhere */
    expect_failure(fx, fx->gpkg, STAPEL_TEST_SCRATCH "/render-out/no-such-dir/map.png", &d,
                   STAPEL_EIO, "no-such-dir");
}

/* A picture that cannot be written whole (a full disk; here the file size
 * limit, well below the picture's size) is named in the message as the
 * picture asked for: before, the message named the temporary file, which is
 * gone by then. Nothing is left behind. */
static void test_render_write_failure_names_the_picture(void **state)
{
    fixture *fx = *state;
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    if (old.rlim_max != RLIM_INFINITY && old.rlim_max < 4096)
        skip();
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    static const char *const names[] = {"full.png", "full.svg", "full.pdf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *path = out_path(fx, names[i]);
        stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
        o.width = 1000;
        struct rlimit lim = old;
        lim.rlim_cur = 4096;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
        stapel_status st = stapel_render(fx->ctx, NULL, fx->gpkg, path, &o);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        const char *msg = stapel_ctx_message(fx->ctx);
        if (st != STAPEL_EIO)
            fail_msg("%s: status %d (%s), want STAPEL_EIO", names[i], st, msg);
        if (strstr(msg, path) == NULL || strstr(msg, ".tmp") != NULL)
            fail_msg("%s: the message does not name the picture: %s", names[i], msg);
        assert_int_equal(access(path, F_OK), -1);
    }
    signal(SIGXFSZ, prev);
    assert_no_temp_files(fx);
}

/* Whether files a and b hold the same bytes. */
static bool same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa != NULL && fb != NULL;
    int ca = 0, cb = 0;
    while (same && (ca = getc(fa)) != EOF) {
        cb = getc(fb);
        same = ca == cb;
    }
    if (same)
        same = getc(fb) == EOF;
    if (fa != NULL)
        fclose(fa);
    if (fb != NULL)
        fclose(fb);
    return same;
}

/* The picture's path is checked as stack and merge check their output: a
 * directory is STAPEL_EINVAL (it was STAPEL_EIO), and so is the GeoPackage
 * being rendered, also with overwrite (a GeoPackage named like a picture
 * was replaced by its own map). */
static void test_render_path_checked_as_an_output(void **state)
{
    fixture *fx = *state;
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.overwrite = true;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/render-dir.png", STAPEL_TEST_SCRATCH);
    mkdir(dir, 0755);
    assert_int_equal(stapel_render(fx->ctx, NULL, fx->gpkg, dir, &o), STAPEL_EINVAL);
    assert_non_null(strstr(stapel_ctx_message(fx->ctx), "is a directory"));

    char copy[600];
    snprintf(copy, sizeof copy, "%s/render-stack.png", STAPEL_TEST_SCRATCH);
    FILE *in = fopen(fx->gpkg, "rb"), *out = fopen(copy, "wb");
    assert_non_null(in);
    assert_non_null(out);
    int c;
    while ((c = getc(in)) != EOF)
        putc(c, out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(stapel_render(fx->ctx, NULL, copy, copy, &o), STAPEL_EINVAL);
    assert_non_null(strstr(stapel_ctx_message(fx->ctx), "is the GeoPackage to render"));
    assert_true(same_bytes(copy, fx->gpkg));
    unlink(copy);
}

/* An existing picture is kept unless overwrite is set. */
static void test_render_overwrite(void **state)
{
    fixture *fx = *state;
    const char *path = out_path(fx, "keep.png");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("precious", f);
    fclose(f);
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 400;
    stapel_render_layout l;
    assert_int_equal(stapel_render(fx->ctx, &l, fx->gpkg, path, &o), STAPEL_EEXISTS);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 8);
    o.overwrite = true;
    render_ok(fx, path, &o);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 1000);

    /* A symbolic link to nothing takes the name too: refused before any
     * work, not at the end as a file "that appeared while stapel was
     * writing". */
    const char *link = out_path(fx, "dangling.png");
    assert_int_equal(symlink("nowhere.png", link), 0);
    o.overwrite = false;
    assert_int_equal(stapel_render(fx->ctx, &l, fx->gpkg, link, &o), STAPEL_EEXISTS);
    if (strstr(stapel_ctx_message(fx->ctx), "appeared") != NULL)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    unlink(link);
}

/* The progress callback of test_render_target_appearing_is_kept: at the
 * first report of drawing, a file appears at the picture's path. */
static void intrude(void *user, const char *phase, double fraction)
{
    (void)fraction;
    const char **path = user;
    if (*path == NULL || strcmp(phase, "rendering") != 0)
        return;
    FILE *f = fopen(*path, "wx");
    if (f != NULL) {
        fputs("precious", f);
        fclose(f);
    }
    *path = NULL;
}

/* A picture that appears at the path while the map is drawn (after the
 * early check that the path is free) is kept: the run fails and leaves no
 * temporary file. */
static void test_render_target_appearing_is_kept(void **state)
{
    fixture *fx = *state;
    const char *path = out_path(fx, "appears.png");
    const char *pending = path;
    stapel_ctx_set_progress(fx->ctx, intrude, &pending);
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 400;
    stapel_render_layout l;
    stapel_status st = stapel_render(fx->ctx, &l, fx->gpkg, path, &o);
    stapel_ctx_set_progress(fx->ctx, NULL, NULL);
    assert_null(pending);
    if (st != STAPEL_EEXISTS)
        fail_msg("status %d (%s), want STAPEL_EEXISTS", st, stapel_ctx_message(fx->ctx));
    const char *msg = stapel_ctx_message(fx->ctx);
    if (strstr(msg, path) == NULL || strstr(msg, "--overwrite") == NULL)
        fail_msg("message '%s' names neither '%s' nor --overwrite", msg, path);
    char buf[32] = "";
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
    fclose(f);
    assert_string_equal(buf, "precious");
    assert_no_temp_files(fx);
    /* with overwrite, the picture replaces it */
    pending = path;
    stapel_ctx_set_progress(fx->ctx, intrude, &pending);
    unlink(path);
    o.overwrite = true;
    render_ok(fx, path, &o);
    stapel_ctx_set_progress(fx->ctx, NULL, NULL);
    assert_null(pending);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 1000);
    assert_no_temp_files(fx);
}

/* Write to gpkg a stack of one nature claim [0,1000]^2 and one province
 * over [-500,2500]^2 named province (as written in GeoJSON), and, when novex
 * is not NULL, one NOVEX area [1000,2500]x[0,1500] so named. The GeoJSON
 * inputs are named after tag. */
static void small_zones_gpkg(fixture *fx, const char *gpkg, const char *tag, const char *province,
                             const char *novex)
{
    char file[3][64];
    const char *kind[] = {"n", "p", "v"};
    for (int i = 0; i < 3; i++)
        snprintf(file[i], sizeof file[i], "%s_%s.geojson", tag, kind[i]);
    const char *n[] = {rect(0, 0, 1000, 1000)};
    const char *prov[] = {rect(-500, -500, 2500, 2500)};
    const char *nov[] = {rect(1000, 0, 2500, 1500)};
    const char *pnames[] = {province}, *vnames[] = {novex};
    stapel_ctx *ctx = fx->ctx;
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "nature", fixture_geojson(file[0], RD_URN, 1, n, NULL), NULL),
        STAPEL_OK);
    assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE,
                                          fixture_geojson(file[1], RD_URN, 1, prov, pnames),
                                          "naam"),
                     STAPEL_OK);
    if (novex != NULL)
        assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_NOVEX,
                                              fixture_geojson(file[2], RD_URN, 1, nov, vnames),
                                              "naam"),
                         STAPEL_OK);
    stapel_stack *s = NULL;
    stapel_status st = stapel_stack_build(ctx, &s, job);
    if (st == STAPEL_OK)
        st = stapel_stack_write(ctx, s, gpkg, STAPEL_WRITE_OVERWRITE);
    if (st != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(ctx));
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* A stack whose one province has a name of 200 characters with a tab in it
 * (small_zones_gpkg). Returns the GeoPackage's path (static) and the name in
 * *name. */
static const char *long_name_gpkg(fixture *fx, const char **name)
{
    static char gpkg[600];
    static char longname[256];
    snprintf(longname, sizeof longname, "Zeer\tlange naam ");
    for (size_t i = strlen(longname); i < 200; i++)
        longname[i] = (char)('a' + i % 26);
    longname[200] = '\0';
    *name = longname;
    snprintf(gpkg, sizeof gpkg, "%s/render-long.gpkg", STAPEL_TEST_SCRATCH);
    /* the name goes into GeoJSON with its tab escaped */
    char json_name[300];
    snprintf(json_name, sizeof json_name, "Zeer\\tlange naam %s", longname + 16);
    small_zones_gpkg(fx, gpkg, "rl", json_name, NULL);
    return gpkg;
}

/* A name that is both a province and a NOVEX area: the bare name is refused,
 * naming both ways to say which; "province:" and "novex:" crop to the one
 * asked for. */
static void test_render_zone_in_both_layers(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-both.gpkg", STAPEL_TEST_SCRATCH);
    small_zones_gpkg(fx, gpkg, "rb", "Oost", "Oost");
    stapel_ctx *ctx = fx->ctx;

    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 600;
    o.zone = "Oost";
    expect_failure(fx, gpkg, out_path(fx, "both.png"), &o, STAPEL_EINVAL,
                   "'Oost' is both a province and a NOVEX area");
    expect_failure(fx, gpkg, out_path(fx, "both.png"), &o, STAPEL_EINVAL, "'novex:Oost'");
    /* the NOVEX area [1000,2500]x[0,1500], with a margin of at most 5% */
    o.zone = "novex:Oost";
    stapel_render_layout l;
    const char *path = out_path(fx, "both-novex.png");
    if (stapel_render(ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(ctx));
    assert_true(l.xmin <= OX + 1000 && l.xmax >= OX + 2500);
    assert_true(l.xmin >= OX + 1000 - 75 && l.xmax <= OX + 2500 + 75);
    assert_true(l.ymin >= OY - 75 && l.ymax <= OY + 1500 + 75);
    /* the province [-500,2500]^2 */
    o.zone = "province:Oost";
    path = out_path(fx, "both-province.png");
    if (stapel_render(ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(ctx));
    assert_true(l.xmin <= OX - 500 && l.xmax >= OX + 2500);
    assert_true(l.ymin <= OY - 500 && l.ymax >= OY + 2500);
    assert_true(l.xmin >= OX - 500 - 150 && l.ymax <= OY + 2500 + 150);
    /* a prefix does not make a name that is in neither layer */
    o.zone = "novex:Testland";
    expect_failure(fx, gpkg, out_path(fx, "both-none.png"), &o, STAPEL_EINVAL,
                   "unknown zone 'novex:Testland'");
}

/* A zone delivered with a ';' in its name is stored with a ',' (the stack
 * joins overlapping zones' names with ';'); a program that passes the name
 * as delivered finds the zone, as the tool's --zone does. */
static void test_render_zone_name_with_semicolon(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-semi.gpkg", STAPEL_TEST_SCRATCH);
    small_zones_gpkg(fx, gpkg, "rs", "West", "Almere; Oosterwold");
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 600;
    stapel_render_layout l;
    /* the NOVEX area [1000,2500]x[0,1500], with a margin of at most 5% */
    const char *names[] = {"Almere; Oosterwold", "novex:Almere; Oosterwold", "Almere, Oosterwold"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        o.zone = names[i];
        if (stapel_render(fx->ctx, &l, gpkg, out_path(fx, "semi.png"), &o) != STAPEL_OK)
            fail_msg("%s: %s", names[i], stapel_ctx_message(fx->ctx));
        assert_true(l.xmin <= OX + 1000 && l.xmax >= OX + 2500);
        assert_true(l.xmin >= OX + 1000 - 75 && l.xmax <= OX + 2500 + 75);
        assert_true(l.ymin >= OY - 75 && l.ymax <= OY + 1500 + 75);
    }
    assert_no_temp_files(fx);
}

/* 'PROVINCE:Oost' and a picture named '.PNG' in a host program's Turkish
 * locale, where strncasecmp() takes no 'I' for an 'i': the prefix was not
 * one, and the zone unknown. Skipped where no Turkish locale is installed
 * (the tests compile one: tools/make-test-locales). */
static void test_render_prefix_in_a_turkish_locale(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-tr.gpkg", STAPEL_TEST_SCRATCH);
    small_zones_gpkg(fx, gpkg, "rt", "Oost", "Oost");
    if (!test_locale_turkish())
        skip();
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 600;
    o.zone = "PROVINCE:Oost";
    stapel_render_layout l;
    stapel_status st = stapel_render(fx->ctx, &l, gpkg, out_path(fx, "tr.PNG"), &o);
    setlocale(LC_CTYPE, "C");
    if (st != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    /* the province [-500,2500]^2, not the NOVEX area */
    assert_true(l.xmin <= OX - 500 && l.ymin <= OY - 500);
}

static bool dark(rgb p)
{
    return p.r < 90 && p.g < 90 && p.b < 90;
}

/* The NOVEX labels' purple (#54278F), not the yellows, greys and white of
 * the faces, their outlines and the halo. */
static bool purple(rgb p)
{
    return p.b > p.g + 50 && p.r + 30 < p.b;
}

/* Neighbours shown only in part keep their labels in that part, drawn
 * wholly outside the zone of --zone; when the part has no such spot clear
 * of the labels before, the label is left out rather than drawn over
 * another or over the zone (names on a strip along the edge of a --zone
 * map sat on its border, or, centred in a nook of the neighbour, reached
 * into the zone). Mid is [0,2000]^2 but for a notch [500,1500]x[1850,2000]
 * at its top; North, [0,2000]x[2000,4000] with that notch, shows as the
 * notch and a strip of some 60 m above Mid, and eight NOVEX areas equal to
 * North want the same room: it holds a few labels, not nine. No label
 * text lies inside Mid farther than 8 px from its outline, but Mid's own,
 * near its centre (1000,1000). */
static void test_render_partial_labels_do_not_overlap(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-crowd.gpkg", STAPEL_TEST_SCRATCH);
    stapel_job *job = NULL;
    stapel_stack_opts so = STAPEL_STACK_OPTS_INIT;
    assert_int_equal(stapel_job_new(fx->ctx, &job, &so), STAPEL_OK);
    const char *claim = rect(800, 800, 1500, 1500);
    /* zones delivered in parts: Mid in three, North in two */
    const char *prov[] = {rect(0, 0, 500, 2000), rect(500, 0, 1500, 1850),
                          rect(1500, 0, 2000, 2000), rect(0, 2000, 2000, 4000),
                          rect(500, 1850, 1500, 2000)};
    const char *pnames[] = {"Mid", "Mid", "Mid", "North", "North"};
    enum { NN = 8 };
    const char *nov[2 * NN], *nnames[2 * NN];
    static const char *const names[NN] = {"Noordrand A", "Noordrand B", "Noordrand C",
                                           "Noordrand D", "Noordrand E", "Noordrand F",
                                           "Noordrand G", "Noordrand H"};
    char *strip = strdup(rect(0, 2000, 2000, 4000)), *nook = strdup(rect(500, 1850, 1500, 2000));
    assert_non_null(strip);
    assert_non_null(nook);
    for (int i = 0; i < NN; i++) {
        nov[2 * i] = strip;
        nov[2 * i + 1] = nook;
        nnames[2 * i] = nnames[2 * i + 1] = names[i];
    }
    stapel_job_add_layer(fx->ctx, job, "nature",
                         fixture_geojson("r_crowd_n.geojson", RD_URN, 1, &claim, NULL), NULL);
    stapel_job_set_zones(fx->ctx, job, STAPEL_ZONE_PROVINCE,
                         fixture_geojson("r_crowd_p.geojson", RD_URN, 5, prov, pnames), "naam");
    stapel_job_set_zones(fx->ctx, job, STAPEL_ZONE_NOVEX,
                         fixture_geojson("r_crowd_v.geojson", RD_URN, 2 * NN, nov, nnames), "naam");
    build_and_write(fx, job, gpkg);
    free(strip);
    free(nook);

    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1200;
    o.zone = "Mid";
    const char *path = out_path(fx, "crowd.png");
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    /* Mid, and as many neighbours' names as fit beside it: some, not all */
    assert_true(l.n_labels >= 2);
    assert_true(l.n_labels < 2 + NN);

    cairo_surface_t *img = load_png(path);
    double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
    double cx = l.map_x + (OX + 1000 - l.xmin) * sx, cy = l.map_y + (l.ymax - (OY + 1000)) * sy;
    for (int py = (int)l.map_y; py < (int)(l.map_y + l.map_h); py++) {
        for (int px = (int)l.map_x; px < (int)(l.map_x + l.map_w); px++) {
            if (fabs(px - cx) < 60 && fabs(py - cy) < 50)
                continue; /* Mid's own label, near its centre */
            double x = l.xmin + (px + 0.5 - l.map_x) / sx - OX;
            double y = l.ymax - (py + 0.5 - l.map_y) / sy - OY;
            /* the distance, in pixels, into Mid from its outline */
            double dx = fmax(fmax(500 - x, 0), x - 1500), dy = fmax(fmax(1850 - y, 0), y - 2000);
            double in =
                fmin(fmin(fmin(x, 2000 - x), fmin(y, 2000 - y)) * sx, sqrt(dx * dx + dy * dy) * sx);
            if (in <= 8)
                continue;
            rgb c = pixel(img, px, py);
            if (dark(c) || purple(c))
                fail_msg("label text inside Mid at (%d, %d), %.0f px from its outline", px, py, in);
        }
    }
    cairo_surface_destroy(img);
}

/* A polygon of n corners xy (metres, offset into RD as rect() does) as
 * GeoJSON geometry text, in buf. */
static const char *polygon(char *buf, size_t size, int n, const double *xy)
{
    int k = snprintf(buf, size, "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (int i = 0; i <= n; i++)
        k += snprintf(buf + k, size - (size_t)k, "%s[%g,%g]", i > 0 ? "," : "",
                      xy[2 * (i % n)] + OX, xy[2 * (i % n) + 1] + OY);
    snprintf(buf + k, size - (size_t)k, "]]}");
    return buf;
}

/* With --zone, the label of a neighbour goes wholly outside the zone: only
 * its centre had to lie in the neighbour's part, so a long name centred in
 * a corner of the frame reached over the zone (as 'Lelystad Airport en
 * omgeving' over Almere Oosterwold in the demo). The province Mid is the
 * diamond (1000,0), (2000,1000), (1000,2000), (0,1000); a NOVEX area to the
 * north east, beyond the edge x + y = 3000, shows as the corner of the
 * frame. No NOVEX label text (purple; Mid's own is dark) lies inside Mid
 * farther than 8 px from its outline (by the distance to the edges
 * |x - 1000| + |y - 1000| = 1000). */
static void test_render_neighbour_label_outside_the_zone(void **state)
{
    fixture *fx = *state;
    static const double mid[] = {1000, 0, 2000, 1000, 1000, 2000, 0, 1000};
    static const double ne[] = {1000, 2000, 2000, 1000, 3000, 1000, 3000, 3000, 1000, 3000};
    /* A name of some 600 m at this scale fits above the diamond's top, its
     * centre in the area's part (x + y > 3000); one of some 1100 m fits
     * there only in a smaller size (11 points, not 12: some 1000 m), in the
     * corner; one of twice that fits nowhere outside Mid, and is left out. */
    static const char *const names[] = {
        "Noordoostelijk buurgebied", "Noordoostelijk buurgebied aan de rand van Mid",
        "Noordoostelijk buurgebied aan de rand van Mid, Noordoostelijk buurgebied aan de rand"};
    for (size_t k = 0; k < 3; k++) {
        char b0[512], b1[512];
        const char *prov[] = {polygon(b0, sizeof b0, 4, mid)}, *pnames[] = {"Mid"};
        const char *nov[] = {polygon(b1, sizeof b1, 5, ne)}, *nnames[] = {names[k]};
        char gpkg[600];
        snprintf(gpkg, sizeof gpkg, "%s/render-neighbour-%zu.gpkg", STAPEL_TEST_SCRATCH, k);
        stapel_job *job = NULL;
        stapel_stack_opts so = STAPEL_STACK_OPTS_INIT;
        assert_int_equal(stapel_job_new(fx->ctx, &job, &so), STAPEL_OK);
        const char *claim = rect(800, 800, 1200, 1200);
        stapel_job_add_layer(fx->ctx, job, "nature",
                             fixture_geojson("r_nb_n.geojson", RD_URN, 1, &claim, NULL), NULL);
        stapel_job_set_zones(fx->ctx, job, STAPEL_ZONE_PROVINCE,
                             fixture_geojson("r_nb_p.geojson", RD_URN, 1, prov, pnames), "naam");
        stapel_job_set_zones(fx->ctx, job, STAPEL_ZONE_NOVEX,
                             fixture_geojson("r_nb_v.geojson", RD_URN, 1, nov, nnames), "naam");
        build_and_write(fx, job, gpkg);

        stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
        o.width = 800;
        o.zone = "Mid";
        const char *path = out_path(fx, k == 0   ? "neighbour.png"
                                        : k == 1 ? "neighbour-long.png"
                                                 : "neighbour-longer.png");
        stapel_render_layout l;
        if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
            fail_msg("%s", stapel_ctx_message(fx->ctx));
        assert_int_equal(l.n_labels, k < 2 ? 2 : 1);
        cairo_surface_t *img = load_png(path);
        double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
        for (int py = (int)l.map_y; py < (int)(l.map_y + l.map_h); py++) {
            for (int px = (int)l.map_x; px < (int)(l.map_x + l.map_w); px++) {
                double x = l.xmin + (px + 0.5 - l.map_x) / sx - OX;
                double y = l.ymax - (py + 0.5 - l.map_y) / sy - OY;
                double in = (1000 - fabs(x - 1000) - fabs(y - 1000)) / sqrt(2) * sx;
                if (in > 8 && purple(pixel(img, px, py)))
                    fail_msg("%s: label text inside Mid at (%d, %d), %.0f px from its outline",
                             names[k], px, py, in);
            }
        }
        cairo_surface_destroy(img);
    }
}

/* With --zone on one square of a grid, the map shows the neighbours north
 * and south of it as strips of 3% of its side along the map's edge (150 m
 * of a 5 km square: some 18 px at a width of 1000, where a province's name
 * stands some 11 px tall, 15 px with its halo). Before, their labels had to
 * be centred in the strip less the 2% of the map kept clear of labels at
 * its edge, with the label's padding inside the frame: no spot qualified,
 * and they went unlabelled. Now each is named in its strip, its text wholly
 * outside Mid and within the map; West and Oost, vertical strips narrower
 * than any name, and the corners stay unlabelled. */
static void test_render_neighbour_strip_labelled(void **state)
{
    fixture *fx = *state;
    static const char *const names[9] = {"Zuidwest", "Zuid",      "Zuidoost", "West",     "Mid",
                                         "Oost",     "Noordwest", "Noord",    "Noordoost"};
    const char *prov[9];
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++)
            prov[3 * j + i] = rect((i - 1) * 5000.0, (j - 1) * 5000.0, i * 5000.0, j * 5000.0);
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-strip.gpkg", STAPEL_TEST_SCRATCH);
    stapel_job *job = NULL;
    stapel_stack_opts so = STAPEL_STACK_OPTS_INIT;
    assert_int_equal(stapel_job_new(fx->ctx, &job, &so), STAPEL_OK);
    const char *claim = rect(1000, 1000, 2000, 2000);
    stapel_job_add_layer(fx->ctx, job, "nature",
                         fixture_geojson("r_st_n.geojson", RD_URN, 1, &claim, NULL), NULL);
    stapel_job_set_zones(fx->ctx, job, STAPEL_ZONE_PROVINCE,
                         fixture_geojson("r_st_p.geojson", RD_URN, 9, prov, names), "naam");
    build_and_write(fx, job, gpkg);

    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    o.zone = "Mid";
    const char *path = out_path(fx, "strip.png");
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    assert_true(l.xmin > OX - 200 && l.xmax < OX + 5200);
    assert_int_equal(l.n_labels, 3); /* Mid, Noord, Zuid */

    cairo_surface_t *img = load_png(path);
    double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
    double mx0 = l.map_x + (OX - l.xmin) * sx, mx1 = l.map_x + (OX + 5000 - l.xmin) * sx;
    double my0 = l.map_y + (l.ymax - (OY + 5000)) * sy, my1 = l.map_y + (l.ymax - OY) * sy;
    /* label text in the strips above and below Mid, away from the borders
     * (Mid's, and those of Noord and Zuid with their corners) */
    int above = 0, below = 0;
    for (int y = (int)l.map_y + 1; y < (int)(l.map_y + l.map_h) - 1; y++)
        for (int x = (int)ceil(mx0) + 5; x < (int)floor(mx1) - 5; x++) {
            if (!dark(pixel(img, x, y)))
                continue;
            if (y < my0 - 4)
                above++;
            else if (y > my1 + 4)
                below++;
            else if (y > my0 + 8 && y < my1 - 8 && fabs(y - (my0 + my1) / 2) > 30)
                fail_msg("label text inside Mid at (%d, %d)", x, y);
        }
    cairo_surface_destroy(img);
    if (above < 20 || below < 20)
        fail_msg("no name in the strips beside Mid: %d dark pixels above it, %d below", above,
                 below);
}

/* With --zone, a neighbour that the map shows only as a sliver along its
 * edge gets no label: before, its label was pushed into the frame, onto the
 * zone asked for (the provinces West and East written inside Mid). Mid is
 * [0,2000]^2 between West [-3000,0]x[0,2000] and East [2000,5000]x[0,2000];
 * the map shows Mid with a margin of 3%, so of West and East only strips of
 * 60 m. Label text is the only dark thing inside Mid away from its outline
 * and its own label, at its centre. */
static void test_render_no_label_for_a_sliver_at_the_edge(void **state)
{
    fixture *fx = *state;
    const char *prov[] = {rect(0, 0, 2000, 2000), rect(-3000, 0, 0, 2000),
                          rect(2000, 0, 5000, 2000)};
    const char *names[] = {"Mid", "West", "East"};
    char gpkg[600];
    write_claim_provinces(fx, gpkg, sizeof gpkg, "render-sliver.gpkg",
                          rect(800, 800, 1500, 1500), prov, names);

    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 800;
    o.zone = "Mid";
    const char *path = out_path(fx, "sliver.png");
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    assert_int_equal(l.n_labels, 1);
    assert_true(l.xmin > OX - 200 && l.xmax < OX + 2200);

    cairo_surface_t *img = load_png(path);
    double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
    int x0 = (int)ceil(l.map_x + (OX - l.xmin) * sx) + 8;
    int x1 = (int)floor(l.map_x + (OX + 2000 - l.xmin) * sx) - 8;
    int y0 = (int)ceil(l.map_y + (l.ymax - (OY + 2000)) * sy) + 8;
    int y1 = (int)floor(l.map_y + (l.ymax - OY) * sy) - 8;
    int band = (x1 - x0) / 3; /* Mid's own label is at its centre */
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if ((x < x0 + band || x > x1 - band) && dark(pixel(img, x, y)))
                fail_msg("a label inside Mid near its %s border, at (%d, %d)",
                         x < x0 + band ? "west" : "east", x, y);
    cairo_surface_destroy(img);
}

/* A province delivered in parts is outlined as one: no border is drawn
 * between its parts, as none runs there. West is [-100,500]x[-100,500] and
 * [-100,500]x[500,1100], beside Oost [500,1100]x[-100,1100]; nothing is
 * claimed west of x=0. Before, the line y=500 between the parts of West was
 * drawn as a province border. */
static void test_render_zone_in_parts_outlined_as_one(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    write_west_oost(fx, gpkg, sizeof gpkg, "render-outline.gpkg");
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    const char *path = out_path(fx, "outline.png");
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    cairo_surface_t *img = load_png(path);
    double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
    int px = (int)floor(l.map_x + (OX - 50 - l.xmin) * sx);
    int py = (int)floor(l.map_y + (l.ymax - (OY + 500)) * sy);
    for (int y = py - 4; y <= py + 4; y++)
        if (dark(pixel(img, px, y)))
            fail_msg("a border between the parts of West at (%d, %d)", px, y);
    /* the outer border of West, at x=-100, is drawn */
    int bx = (int)floor(l.map_x + (OX - 100 - l.xmin) * sx);
    int by = (int)floor(l.map_y + (l.ymax - (OY + 250)) * sy);
    bool border = false;
    for (int x = bx - 4; x <= bx + 4; x++)
        border = border || dark(pixel(img, x, by));
    assert_true(border);
    cairo_surface_destroy(img);
}

/* A zone delivered in overlapping parts is greyed out only outside all of
 * them. NOVEX Oost is [0,1200]x[-100,1100] and [800,2000]x[-100,1100];
 * nature claims [0,2000]x[0,1000]. Before, the veil was filled even-odd
 * over the parts as read, so [800,1200], where they overlap, was greyed out
 * as if it lay outside the zone. */
static void test_render_zone_in_overlapping_parts_not_veiled(void **state)
{
    fixture *fx = *state;
    char gpkg[600];
    snprintf(gpkg, sizeof gpkg, "%s/render-overlap.gpkg", STAPEL_TEST_SCRATCH);
    const char *n[] = {rect(0, 0, 2000, 1000)};
    const char *nov[] = {rect(0, -100, 1200, 1100), rect(800, -100, 2000, 1100)};
    const char *names[] = {"Oost", "Oost"};
    stapel_job *job = NULL;
    stapel_stack_opts so = STAPEL_STACK_OPTS_INIT;
    assert_int_equal(stapel_job_new(fx->ctx, &job, &so), STAPEL_OK);
    stapel_job_add_layer(fx->ctx, job, "nature",
                         fixture_geojson("r_ov_n.geojson", RD_URN, 1, n, NULL), NULL);
    stapel_job_set_zones(fx->ctx, job, STAPEL_ZONE_NOVEX,
                         fixture_geojson("r_ov_v.geojson", RD_URN, 2, nov, names), "naam");
    build_and_write(fx, job, gpkg);
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    o.zone = "Oost";
    const char *path = out_path(fx, "overlap.png");
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    cairo_surface_t *img = load_png(path);
    assert_rgb(at(img, &l, 400, 300), YLORRD[0], "in the first part only");
    assert_rgb(at(img, &l, 1000, 300), YLORRD[0], "where the parts overlap");
    assert_rgb(at(img, &l, 1600, 300), YLORRD[0], "in the second part only");
    cairo_surface_destroy(img);
}

/* A zone label too long for the map is cut with an ellipsis to at most
 * three quarters of the map's width; before, it ran from one side of the map
 * to the other (cut off by the frame). Label text is the only dark thing on
 * the map away from the province's outline. A title too long for the
 * picture is cut too, and ends before the right margin. */
static void test_render_long_names_are_cut(void **state)
{
    fixture *fx = *state;
    const char *name = NULL;
    const char *gpkg = long_name_gpkg(fx, &name);
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 1000;
    const char *path = out_path(fx, "long-label.png");
    stapel_render_layout l;
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    cairo_surface_t *img = load_png(path);
    double sx = l.map_w / (l.xmax - l.xmin), sy = l.map_h / (l.ymax - l.ymin);
    double edge_x0 = l.map_x + (OX - 500 - l.xmin) * sx,
           edge_x1 = l.map_x + (OX + 2500 - l.xmin) * sx;
    double edge_y0 = l.map_y + (l.ymax - (OY + 2500)) * sy;
    double edge_y1 = l.map_y + (l.ymax - (OY - 500)) * sy;
    double widest = 0;
    for (int y = (int)l.map_y + 2; y < (int)(l.map_y + l.map_h) - 2; y++) {
        if (fabs(y - edge_y0) < 5 || fabs(y - edge_y1) < 5)
            continue;
        int x0 = -1, x1 = -1;
        for (int x = (int)l.map_x + 2; x < (int)(l.map_x + l.map_w) - 2; x++) {
            if (fabs(x - edge_x0) < 5 || fabs(x - edge_x1) < 5 || !dark(pixel(img, x, y)))
                continue;
            if (x0 < 0)
                x0 = x;
            x1 = x;
        }
        if (x0 >= 0 && x1 - x0 > widest)
            widest = x1 - x0;
    }
    cairo_surface_destroy(img);
    if (widest < 0.2 * l.map_w || widest > 0.76 * l.map_w)
        fail_msg("the label is %.0f px wide on a map of %.0f px", widest, l.map_w);

    /* with --zone, the name is in the title */
    o.zone = name;
    path = out_path(fx, "long-title.png");
    if (stapel_render(fx->ctx, &l, gpkg, path, &o) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    img = load_png(path);
    int margin = (int)(24 * l.width / 1000.0);
    for (int y = 0; y < (int)l.map_y - 2; y++)
        for (int x = l.width - margin + 2; x < l.width; x++)
            if (dark(pixel(img, x, y)))
                fail_msg("the title reaches the right margin at (%d, %d)", x, y);
    cairo_surface_destroy(img);
}

/* A run cancelled while drawing leaves no picture and no temporary file. */
static void test_render_cancelled_leaves_nothing(void **state)
{
    fixture *fx = *state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_ctx_cancel(ctx);
    const char *path = out_path(fx, "cancelled.pdf");
    stapel_render_layout l;
    assert_int_equal(stapel_render(ctx, &l, fx->gpkg, path, NULL), STAPEL_ECANCELLED);
    assert_int_equal(access(path, F_OK), -1);
    assert_no_temp_files(fx);
    stapel_ctx_free(ctx);
}

/* One renderer of test_render_same_picture_from_two_threads: its own
 * context, and the status and message it got. */
typedef struct same_picture {
    const char *gpkg, *path;
    pthread_barrier_t *start;
    stapel_status st;
    char msg[512];
} same_picture;

static void *render_same_picture(void *arg)
{
    same_picture *p = arg;
    stapel_ctx *ctx = NULL;
    p->st = stapel_ctx_new(&ctx);
    pthread_barrier_wait(p->start);
    stapel_render_opts o = STAPEL_RENDER_OPTS_INIT;
    o.width = 400;
    o.overwrite = true;
    if (p->st == STAPEL_OK)
        p->st = stapel_render(ctx, NULL, p->gpkg, p->path, &o);
    snprintf(p->msg, sizeof p->msg, "%s", stapel_ctx_message(ctx));
    stapel_ctx_free(ctx);
    return NULL;
}

/* Two threads of one program render the same picture at once, each with
 * its own context and overwrite: both temporary pictures had one name (the
 * process id's), so both drew into one file, and one renamed it into place
 * while the other was drawing (a picture of both, cut short) and the other
 * failed ('cannot rename ...: No such file or directory'). Both succeed, and
 * the picture left is a whole PNG. */
static void test_render_same_picture_from_two_threads(void **state)
{
    fixture *fx = *state;
    for (int round = 0; round < 4; round++) {
        const char *path = out_path(fx, "same.png");
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        same_picture p[2];
        pthread_t t[2];
        for (int i = 0; i < 2; i++) {
            p[i] = (same_picture){fx->gpkg, path, &start, STAPEL_EINVAL, ""};
            assert_int_equal(pthread_create(&t[i], NULL, render_same_picture, &p[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < 2; i++)
            if (p[i].st != STAPEL_OK)
                fail_msg("round %d, renderer %d: status %d: %s", round, i, p[i].st, p[i].msg);
        cairo_surface_t *img = load_png(path);
        assert_int_equal(cairo_image_surface_get_width(img), 400);
        cairo_surface_destroy(img);
        assert_no_temp_files(fx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_face_colours),
        cmocka_unit_test(test_render_legend_has_every_class),
        cmocka_unit_test(test_render_size_and_aspect),
        cmocka_unit_test(test_render_zone_crops),
        cmocka_unit_test(test_render_zone_in_parts_labelled_once),
        cmocka_unit_test(test_render_no_label_for_a_sliver_at_the_edge),
        cmocka_unit_test(test_render_partial_labels_do_not_overlap),
        cmocka_unit_test(test_render_neighbour_label_outside_the_zone),
        cmocka_unit_test(test_render_neighbour_strip_labelled),
        cmocka_unit_test(test_render_zone_in_parts_outlined_as_one),
        cmocka_unit_test(test_render_zone_in_overlapping_parts_not_veiled),
        cmocka_unit_test(test_render_other_crs_framed_tightly),
        cmocka_unit_test(test_render_other_crs_small_faces),
        cmocka_unit_test(test_render_zone_in_both_layers),
        cmocka_unit_test(test_render_zone_name_with_semicolon),
        cmocka_unit_test(test_render_prefix_in_a_turkish_locale),
        cmocka_unit_test(test_render_n_claims_field),
        cmocka_unit_test(test_render_n_claims_open_end),
        cmocka_unit_test(test_render_svg_is_xml),
        cmocka_unit_test(test_render_pdf_opens),
        cmocka_unit_test(test_render_footer_themes),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_render_overwrite),
        cmocka_unit_test(test_render_path_checked_as_an_output),
        cmocka_unit_test(test_render_write_failure_names_the_picture),
        cmocka_unit_test(test_render_cancelled_leaves_nothing),
        cmocka_unit_test(test_render_same_picture_from_two_threads),
        cmocka_unit_test(test_render_target_appearing_is_kept),
        cmocka_unit_test(test_render_long_names_are_cut),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
