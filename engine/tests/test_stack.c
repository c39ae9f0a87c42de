/*
 * test_stack.c - the stack engine on fixtures whose answers are computed by
 * hand: each test names the faces it expects (label, area) and checks that
 * the stack has exactly those, with no overlap (the areas add up).
 */
#include "fixture.h"
#include "stapel.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <unistd.h>

typedef struct expect {
    const char *themes;
    int n_claims;
    const char *province; /* NULL: don't care; "" : must be NULL */
    const char *novex;
    double area;
} expect;

static stapel_stack *build(stapel_ctx *ctx, stapel_job *job)
{
    stapel_stack *s = NULL;
    stapel_status st = stapel_stack_build(ctx, &s, job);
    if (st != STAPEL_OK)
        print_error("build failed: %s\n", stapel_ctx_message(ctx));
    assert_int_equal(st, STAPEL_OK);
    return s;
}

static bool same_opt(const char *want, const char *got)
{
    if (want == NULL)
        return true;
    if (want[0] == '\0')
        return got == NULL;
    return got != NULL && strcmp(want, got) == 0;
}

/* Every expected face is present with its area (to 1e-6 m²), and no other. */
static void check_faces(const stapel_stack *s, const expect *e, size_t n)
{
    size_t count = stapel_stack_face_count(s);
    bool *used = calloc(count, sizeof *used);
    for (size_t k = 0; k < n; k++) {
        bool found = false;
        for (size_t i = 0; i < count && !found; i++) {
            stapel_face f = stapel_stack_face(s, i);
            if (used[i] || strcmp(f.themes, e[k].themes) != 0 || f.n_claims != e[k].n_claims ||
                !same_opt(e[k].province, f.province) || !same_opt(e[k].novex, f.novex) ||
                fabs(f.area_m2 - e[k].area) > 1e-6)
                continue;
            used[i] = true;
            found = true;
        }
        if (!found) {
            print_error("expected face %s n=%d province=%s novex=%s area=%g not found; have:\n",
                        e[k].themes, e[k].n_claims, e[k].province ? e[k].province : "-",
                        e[k].novex ? e[k].novex : "-", e[k].area);
            for (size_t i = 0; i < count; i++) {
                stapel_face f = stapel_stack_face(s, i);
                print_error("  %s n=%d %s province=%s novex=%s area=%.6f\n", f.themes,
                            f.n_claims, f.claim_ids, f.province ? f.province : "NULL",
                            f.novex ? f.novex : "NULL", f.area_m2);
            }
            fail();
        }
    }
    assert_int_equal(count, n);
    free(used);
}

static stapel_job *new_job(stapel_ctx *ctx)
{
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    return job;
}

/* One nature claim [0,1000]x[0,40] holding 100 housing squares of 4 x 4 m
 * in a row, apart from each other. Every square is its own component of the
 * arrangement, and the ray that finds what holds it crosses all the squares
 * to its left: each square must still come out covered by nature too. The
 * faces: 100 x "housing+nature" of 16 m² and "nature" of 40000 - 1600 m². */
enum { N_ISLANDS = 100 };

/* Add the claims above to job: a nature layer of the one big claim and a
 * housing layer of the squares, in files named after prefix. */
static void add_islands(stapel_ctx *ctx, stapel_job *job, const char *prefix)
{
    /* rect() reuses 32 buffers: the big claim is copied before the squares. */
    char *big[] = {strdup(rect(0, 0, 1000, 40))};
    assert_non_null(big[0]);
    char *sq[N_ISLANDS];
    for (int i = 0; i < N_ISLANDS; i++) {
        double x = 5 + 9.0 * i;
        sq[i] = strdup(rect(x, 10, x + 4, 14));
        assert_non_null(sq[i]);
    }
    char name[64];
    snprintf(name, sizeof name, "%s_big.geojson", prefix);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature",
                                          fixture_geojson(name, RD_URN, 1,
                                                          (const char *const *)big, NULL),
                                          NULL),
                     STAPEL_OK);
    snprintf(name, sizeof name, "%s_sq.geojson", prefix);
    assert_int_equal(stapel_job_add_layer(ctx, job, "housing",
                                          fixture_geojson(name, RD_URN, N_ISLANDS,
                                                          (const char *const *)sq, NULL),
                                          NULL),
                     STAPEL_OK);
    for (int i = 0; i < N_ISLANDS; i++)
        free(sq[i]);
    free(big[0]);
}

static void test_stack_many_islands_in_a_row(void **state)
{
    stapel_ctx *ctx = *state;
    enum { N = N_ISLANDS };
    stapel_job *job = new_job(ctx);
    add_islands(ctx, job, "isl");
    stapel_stack *s = build(ctx, job);
    expect e[N + 1];
    for (int i = 0; i < N; i++)
        e[i] = (expect){"housing+nature", 2, "", "", 16};
    e[N] = (expect){"nature", 1, "", "", 40000 - 16.0 * N};
    check_faces(s, e, N + 1);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* A = [0,10]², B = [5,15]x[0,10], C = [0,15]x[5,15]: on a 5 m grid of cells
 * the labels are A | AB | B on the bottom row, AC | ABC | BC in the middle and
 * C along the whole top row (one face of 75 m²). */
static void test_stack_three_squares(void **state)
{
    stapel_ctx *ctx = *state;
    const char *a[] = {rect(0, 0, 10, 10)};
    const char *b[] = {rect(5, 0, 15, 10)};
    const char *c[] = {rect(0, 5, 15, 15)};
    stapel_job *job = new_job(ctx);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature",
                                          fixture_geojson("sq_a.geojson", RD_URN, 1, a, NULL), NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "water",
                                          fixture_geojson("sq_b.geojson", RD_URN, 1, b, NULL), NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "wind",
                                          fixture_geojson("sq_c.geojson", RD_URN, 1, c, NULL), NULL),
                     STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    expect e[] = {
        {"nature", 1, "", "", 25},        {"nature+water", 2, "", "", 25},
        {"water", 1, "", "", 25},         {"nature+wind", 2, "", "", 25},
        {"nature+water+wind", 3, "", "", 25}, {"water+wind", 2, "", "", 25},
        {"wind", 1, "", "", 75},
    };
    check_faces(s, e, sizeof e / sizeof e[0]);
    stapel_stack_stats st = stapel_stack_get_stats(s);
    assert_int_equal(st.n_claims, 3);
    assert_int_equal(st.n_repaired, 0);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* Parcels [0,10]x[0,10] and [10,20]x[0,10] share an edge; a wind claim
 * [5,15]x[2,8] overlaps both. Exactly four faces, no sliver. */
static void test_stack_shared_edge_no_sliver(void **state)
{
    stapel_ctx *ctx = *state;
    const char *p[] = {rect(0, 0, 10, 10), rect(10, 0, 20, 10)};
    const char *w[] = {rect(5, 2, 15, 8)};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "agri", fixture_geojson("parcels.geojson", RD_URN, 2, p, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "wind", fixture_geojson("wind1.geojson", RD_URN, 1, w, NULL),
                         NULL);
    stapel_stack *s = build(ctx, job);
    expect e[] = {
        {"agri", 1, "", "", 70},
        {"agri", 1, "", "", 70},
        {"agri+wind", 2, "", "", 30},
        {"agri+wind", 2, "", "", 30},
    };
    check_faces(s, e, 4);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* Nature [0,20]² with a hole [5,15]²; housing [8,12]² inside the hole. The
 * hole outside the housing claim is no face. */
static void test_stack_hole_with_claim_inside(void **state)
{
    stapel_ctx *ctx = *state;
    const char *n[] = {"{\"type\":\"Polygon\",\"coordinates\":["
                       "[[150000,450000],[150020,450000],[150020,450020],[150000,450020],[150000,450000]],"
                       "[[150005,450005],[150005,450015],[150015,450015],[150015,450005],[150005,450005]]]}"};
    const char *h[] = {rect(8, 8, 12, 12)};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "nature", fixture_geojson("holey.geojson", RD_URN, 1, n, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "housing",
                         fixture_geojson("inhole.geojson", RD_URN, 1, h, NULL), NULL);
    stapel_stack *s = build(ctx, job);
    expect e[] = {{"nature", 1, "", "", 300}, {"housing", 1, "", "", 16}};
    check_faces(s, e, 2);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* Two wind features of one layer overlap: n_claims 2, n_themes 1. */
static void test_stack_same_layer_overlap(void **state)
{
    stapel_ctx *ctx = *state;
    const char *w[] = {rect(0, 0, 10, 10), rect(5, 0, 15, 10)};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "wind", fixture_geojson("wind2.geojson", RD_URN, 2, w, NULL),
                         NULL);
    stapel_stack *s = build(ctx, job);
    expect e[] = {{"wind", 1, "", "", 50}, {"wind", 2, "", "", 50}, {"wind", 1, "", "", 50}};
    check_faces(s, e, 3);
    for (size_t i = 0; i < stapel_stack_face_count(s); i++) {
        stapel_face f = stapel_stack_face(s, i);
        assert_int_equal(f.n_themes, 1);
        if (f.n_claims == 2)
            assert_string_equal(f.claim_ids, "[\"wind:1\",\"wind:2\"]");
    }
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* Twenty wind claims and, in a layer added after them, one nature claim on
 * one square: one face of 100 m² with 21 claims. Its ids come sorted by
 * theme, then fid as a number (9 before 10), so nature's one comes first
 * although it was read last. */
static void test_stack_claim_ids_many(void **state)
{
    stapel_ctx *ctx = *state;
    const char *w[20];
    for (int i = 0; i < 20; i++)
        w[i] = rect(0, 0, 10, 10);
    const char *n[] = {rect(0, 0, 10, 10)};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "wind", fixture_geojson("wind20.geojson", RD_URN, 20, w, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "nature",
                         fixture_geojson("nature1.geojson", RD_URN, 1, n, NULL), NULL);
    stapel_stack *s = build(ctx, job);
    expect e[] = {{"nature+wind", 21, "", "", 100}};
    check_faces(s, e, 1);
    char want[512] = "[\"nature:1\"";
    for (int i = 1; i <= 20; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), ",\"wind:%d\"", i);
    strcat(want, "]");
    assert_string_equal(stapel_stack_face(s, 0).claim_ids, want);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* The rectangle [0,400]x[0,40] with a corner every 10 m along its sides
 * (88 corners, counter-clockwise), as GeoJSON geometry in the RD domain. */
static char *dense_rect(void)
{
    size_t cap = 8192, len = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    len += (size_t)snprintf(b + len, cap - len, "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (int i = 0; i <= 88; i++) {
        int k = i % 88, x, y;
        if (k < 40)
            x = 10 * k, y = 0;
        else if (k < 44)
            x = 400, y = 10 * (k - 40);
        else if (k < 84)
            x = 400 - 10 * (k - 44), y = 40;
        else
            x = 0, y = 40 - 10 * (k - 84);
        len += (size_t)snprintf(b + len, cap - len, "%s[%d,%d]", i > 0 ? "," : "", x + 150000,
                                y + 450000);
    }
    snprintf(b + len, cap - len, "]]}");
    return b;
}

/* Twenty wind claims and ten water claims on the very same ring of 88
 * corners, over many small tiles, and a nature claim [100,200]x[-10,50]
 * across them: a tile clips the ring once and copies the clip for the
 * other 29 (tile.c, overlay.c), and the faces must be what they are
 * without that: wind+water with 30 claims left (4,000 m²) and right
 * (8,000 m²) of the nature claim, all 31 under it (4,000 m²), and nature
 * alone below and above (1,000 m² each). */
static void test_stack_copies_across_tiles(void **state)
{
    stapel_ctx *ctx = *state;
    char *ring = dense_rect();
    const char *w[20], *a[10];
    for (int i = 0; i < 20; i++)
        w[i] = ring;
    for (int i = 0; i < 10; i++)
        a[i] = ring;
    const char *n[] = {rect(100, -10, 200, 50)};
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 2;
    o.tile_vertices = 100;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "wind",
                                          fixture_geojson("copies_wind.geojson", RD_URN, 20, w,
                                                          NULL),
                                          NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "water",
                                          fixture_geojson("copies_water.geojson", RD_URN, 10, a,
                                                          NULL),
                                          NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature",
                                          fixture_geojson("copies_nature.geojson", RD_URN, 1, n,
                                                          NULL),
                                          NULL),
                     STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    assert_true(stapel_stack_get_stats(s).n_tiles > 4);
    expect e[] = {{"water+wind", 30, "", "", 4000},      {"water+wind", 30, "", "", 8000},
                  {"nature+water+wind", 31, "", "", 4000}, {"nature", 1, "", "", 1000},
                  {"nature", 1, "", "", 1000}};
    check_faces(s, e, 5);
    stapel_stack_free(s);
    stapel_job_free(job);
    free(ring);
}

/* A target of tile_vertices beyond any layer's size (SIZE_MAX, for "never
 * split") is one tile, as the default is for this small job: it wrapped to
 * a target of 0 vertices in tile.c, and the job was cut into tiles as far
 * as the k-d split goes (hundreds for the two claims here). The faces are
 * nature alone, nature+wind and wind alone, each 50 x 100. */
static void test_stack_tile_vertices_without_limit(void **state)
{
    stapel_ctx *ctx = *state;
    const char *n[] = {rect(0, 0, 100, 100)};
    const char *w[] = {rect(50, 0, 150, 100)};
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    o.tile_vertices = SIZE_MAX;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature",
                                          fixture_geojson("nolimit_n.geojson", RD_URN, 1, n, NULL),
                                          NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "wind",
                                          fixture_geojson("nolimit_w.geojson", RD_URN, 1, w, NULL),
                                          NULL),
                     STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    assert_int_equal(stapel_stack_get_stats(s).n_tiles, 1);
    expect e[] = {
        {"nature", 1, "", "", 5000}, {"nature+wind", 2, "", "", 5000}, {"wind", 1, "", "", 5000}};
    check_faces(s, e, 3);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* The same ring of 88 corners as two wind claims, as the province "Ring"
 * and as the NOVEX area "Ring" (zones that repeat a claim: tile.c links
 * them to the first wind claim, and a tile copies that claim's clip for
 * them), and a nature claim [100,200]x[-10,50] across, over many small
 * tiles. The faces: wind with 2 claims left (4,000 m²) and right (8,000 m²)
 * of the nature claim, all three under it (4,000 m²), all in Ring and
 * Ring; nature alone below and above (1,000 m² each), in no zone. */
static void test_stack_zone_copies_a_claim(void **state)
{
    stapel_ctx *ctx = *state;
    char *ring = dense_rect();
    const char *w[] = {ring, ring};
    const char *z[] = {ring};
    const char *zn[] = {"Ring"};
    const char *n[] = {rect(100, -10, 200, 50)};
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 2;
    o.tile_vertices = 40;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "wind",
                             fixture_geojson("zcopies_wind.geojson", RD_URN, 2, w, NULL), NULL),
        STAPEL_OK);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "nature",
                             fixture_geojson("zcopies_nature.geojson", RD_URN, 1, n, NULL), NULL),
        STAPEL_OK);
    assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE,
                                          fixture_geojson("zcopies_prov.geojson", RD_URN, 1, z, zn),
                                          "naam"),
                     STAPEL_OK);
    assert_int_equal(
        stapel_job_set_zones(ctx, job, STAPEL_ZONE_NOVEX,
                             fixture_geojson("zcopies_novex.geojson", RD_URN, 1, z, zn), "naam"),
        STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    assert_true(stapel_stack_get_stats(s).n_tiles > 4);
    expect e[] = {{"wind", 2, "Ring", "Ring", 4000},
                  {"wind", 2, "Ring", "Ring", 8000},
                  {"nature+wind", 3, "Ring", "Ring", 4000},
                  {"nature", 1, "", "", 1000},
                  {"nature", 1, "", "", 1000}};
    check_faces(s, e, 5);
    stapel_stack_free(s);
    stapel_job_free(job);
    free(ring);
}

/* A province border at x = 10 cuts the claim [0,20]x[0,10] in two. */
static void test_stack_province_border_cuts(void **state)
{
    stapel_ctx *ctx = *state;
    const char *c[] = {rect(0, 0, 20, 10)};
    const char *p[] = {rect(-100, -100, 10, 100), rect(10, -100, 100, 100)};
    const char *names[] = {"West", "Oost"};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "solar", fixture_geojson("solar.geojson", RD_URN, 1, c, NULL),
                         NULL);
    assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE,
                                          fixture_geojson("prov.geojson", RD_URN, 2, p, names),
                                          "naam"),
                     STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    expect e[] = {{"solar", 1, "West", "", 100}, {"solar", 1, "Oost", "", 100}};
    check_faces(s, e, 2);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* A province delivered in three features of one name, Utrecht: [-100,400],
 * [400,1100] and [300,600] (overlapping both), all y in [-100,100]; a
 * NOVEX area A in two strips, y [-100,20] and [20,100]. Features of one name
 * are one zone, so their borders split no face: the faces are those of the
 * claims alone, 100 housing squares of 16 m² in one nature claim
 * [0,1000]x[0,40], all in Utrecht and A. Small tiles (100 vertices) put the
 * borders inside tiles and on seams alike. */
static void test_stack_zone_in_parts(void **state)
{
    stapel_ctx *ctx = *state;
    enum { N = N_ISLANDS };
    const char *p[] = {rect(-100, -100, 400, 100), rect(400, -100, 1100, 100),
                       rect(300, -100, 600, 100)};
    const char *pn[] = {"Utrecht", "Utrecht", "Utrecht"};
    const char *pp = fixture_geojson("parts_prov.geojson", RD_URN, 3, p, pn);
    const char *nv[] = {rect(-100, -100, 1100, 20), rect(-100, 20, 1100, 100)};
    const char *nn[] = {"A", "A"};
    const char *np = fixture_geojson("parts_novex.geojson", RD_URN, 2, nv, nn);
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 2;
    o.tile_vertices = 100;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    add_islands(ctx, job, "parts");
    assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE, pp, "naam"), STAPEL_OK);
    assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_NOVEX, np, "naam"), STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    assert_true(stapel_stack_get_stats(s).n_tiles > 1);
    expect e[N + 1];
    for (int i = 0; i < N; i++)
        e[i] = (expect){"housing+nature", 2, "Utrecht", "A", 16};
    e[N] = (expect){"nature", 1, "Utrecht", "A", 40000 - 16.0 * N};
    check_faces(s, e, N + 1);
    /* Each zone's own area is that of the union of its parts: 1200 x 200. */
    const stapel_summary *sm = stapel_stack_summary(s);
    assert_non_null(sm);
    int seen = 0;
    for (size_t i = 0; i < sm->n_zones; i++) {
        const stapel_zone_row *z = &sm->zones[i];
        if (strcmp(z->zone_type, "total") == 0)
            continue;
        assert_true(strcmp(z->zone, strcmp(z->zone_type, "province") == 0 ? "Utrecht" : "A") == 0);
        assert_true(fabs(z->area_m2 - 240000) < 1e-6);
        assert_true(fabs(z->claimed_m2 - (40000 + 16.0 * N)) < 1e-6); /* nature + housing */
        seen++;
    }
    assert_int_equal(seen, 2);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* NOVEX areas Alpha [0,10]x[0,10] and Beta [5,15]x[0,10] overlap; the claim
 * [0,15]x[0,10] splits into Alpha | Alpha;Beta | Beta. */
static void test_stack_overlapping_novex(void **state)
{
    stapel_ctx *ctx = *state;
    const char *c[] = {rect(0, 0, 15, 10)};
    const char *nv[] = {rect(0, 0, 10, 10), rect(5, 0, 15, 10)};
    const char *names2[] = {"Alpha", "Beta"};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "water", fixture_geojson("water.geojson", RD_URN, 1, c, NULL),
                         NULL);
    stapel_job_set_zones(ctx, job, STAPEL_ZONE_NOVEX,
                         fixture_geojson("novex.geojson", RD_URN, 2, nv, names2), "naam");
    stapel_stack *s = build(ctx, job);
    expect e[] = {{"water", 1, "", "Alpha", 50},
                  {"water", 1, "", "Alpha;Beta", 50},
                  {"water", 1, "", "Beta", 50}};
    check_faces(s, e, 3);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* The bowtie (0,0) (10,10) (10,0) (0,10) is repaired into its two triangles
 * (25 m² each, touching at (5,5)) and counted as repaired. */
static void test_stack_bowtie_repaired(void **state)
{
    stapel_ctx *ctx = *state;
    const char *b[] = {"{\"type\":\"Polygon\",\"coordinates\":[[[150000,450000],[150010,450010],"
                       "[150010,450000],[150000,450010],[150000,450000]]]}"};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "nature", fixture_geojson("bowtie.geojson", RD_URN, 1, b, NULL),
                         NULL);
    stapel_stack *s = build(ctx, job);
    stapel_stack_stats st = stapel_stack_get_stats(s);
    assert_int_equal(st.n_repaired, 1);
    double total = 0;
    for (size_t i = 0; i < stapel_stack_face_count(s); i++) {
        stapel_face f = stapel_stack_face(s, i);
        assert_int_equal(f.n_claims, 1);
        total += f.area_m2;
    }
    assert_true(fabs(total - 50.0) < 1e-6);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* GeoJSON in EPSG:4326 (lon, lat order) next to RD data: the WGS 84 square
 * was made from the RD square [155000,155100]x[463000,463100] with PROJ's
 * EPSG:28992 -> EPSG:4326 (cs2cs); both must land on each other to within the
 * straight-edge difference (well under 1 m² of the 10,000 m²). A swapped axis
 * order would put the square in the sea, thousands of km away. */
static void test_stack_wgs84_geojson_next_to_rd(void **state)
{
    stapel_ctx *ctx = *state;
    const char *rd[] = {"{\"type\":\"Polygon\",\"coordinates\":[[[155000,463000],[155100,463000],"
                        "[155100,463100],[155000,463100],[155000,463000]]]}"};
    /* Corners by: echo "155000 463000" | cs2cs -f %.10f EPSG:28992 EPSG:4326 (lat lon out,
     * written here as lon lat). */
    const char *ll[] = {"{\"type\":\"Polygon\",\"coordinates\":[["
                        "[5.3872035084,52.1551723012],[5.3886647664,52.1551722901],"
                        "[5.3886647992,52.1560710828],[5.3872035117,52.1560710939],"
                        "[5.3872035084,52.1551723012]]]}"};
    stapel_job *job = new_job(ctx);
    stapel_job_add_layer(ctx, job, "nature", fixture_geojson("rd.geojson", RD_URN, 1, rd, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "wind", fixture_geojson("ll.geojson", NULL, 1, ll, NULL), NULL);
    stapel_stack *s = build(ctx, job);
    double both = 0, single = 0;
    for (size_t i = 0; i < stapel_stack_face_count(s); i++) {
        stapel_face f = stapel_stack_face(s, i);
        if (f.n_claims == 2)
            both += f.area_m2;
        else
            single += f.area_m2;
    }
    assert_true(fabs(both - 10000.0) < 1.0);
    assert_true(single < 1.0);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* A province layer of ZN distinct names, one 10 m cell each on a grid of
 * ZCOLS columns, written in an order unlike the names' (feature k is named
 * after (k * 7919) mod ZN), and then ZEXTRA more features, each another
 * part of an earlier name, in cells of their own above the grid. A claim of
 * 6 x 6 m sits inside some cells: its face must carry that cell's name. */
enum { ZN = 20000, ZCOLS = 200, ZEXTRA = 20 };

static void zone_cell(int k, double *x, double *y)
{
    *x = 150000.0 + (k % ZCOLS) * 10.0;
    *y = 450000.0 + (k / ZCOLS) * 10.0;
}

static void zone_square(OGRLayerH l, double x, double y, double size, const char *name)
{
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
    if (name != NULL)
        OGR_F_SetFieldString(f, 0, name);
    char wkt[256];
    snprintf(wkt, sizeof wkt, "POLYGON((%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f))", x, y,
             x + size, y, x + size, y + size, x, y + size, x, y);
    char *p = wkt;
    OGRGeometryH g = NULL;
    assert_int_equal(OGR_G_CreateFromWkt(&p, NULL, &g), OGRERR_NONE);
    OGR_F_SetGeometryDirectly(f, g);
    assert_int_equal(OGR_L_CreateFeature(l, f), OGRERR_NONE);
    OGR_F_Destroy(f);
}

/* The name of the zone feature k (k < ZN + ZEXTRA) in buf. */
static void zone_name_of(int k, char *buf, size_t size)
{
    int named = k < ZN ? k : (k - ZN) * 997; /* an extra part: the name of feature (k-ZN)*997 */
    snprintf(buf, size, "zone %05d", (int)(((long)named * 7919) % ZN));
}

static void test_stack_many_zone_names(void **state)
{
    stapel_ctx *ctx = *state;
    GDALAllRegister();
    char path[600];
    snprintf(path, sizeof path, "%s/many_zones.gpkg", STAPEL_TEST_SCRATCH);
    unlink(path);
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    assert_non_null(drv);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 28992);
    OGRLayerH zl = GDALDatasetCreateLayer(ds, "zones", srs, wkbPolygon, NULL);
    OGRLayerH cl = GDALDatasetCreateLayer(ds, "claims", srs, wkbPolygon, NULL);
    OSRDestroySpatialReference(srs);
    assert_non_null(zl);
    assert_non_null(cl);
    OGRFieldDefnH fd = OGR_Fld_Create("naam", OFTString);
    assert_int_equal(OGR_L_CreateField(zl, fd, 1), OGRERR_NONE);
    OGR_Fld_Destroy(fd);
    /* The claims, fid 1, 2, ...: in these cells (the last ones extra parts). */
    static const int claimed[] = {0, 1, 199, 200, 7919, 9999, 12345, 19999, ZN, ZN + 7, ZN + 19};
    enum { NC = sizeof claimed / sizeof claimed[0] };
    assert_int_equal(GDALDatasetStartTransaction(ds, 1), OGRERR_NONE);
    char name[64];
    for (int k = 0; k < ZN + ZEXTRA; k++) {
        double x, y;
        zone_cell(k < ZN ? k : ZN + ZCOLS + 2 * (k - ZN), &x, &y);
        zone_name_of(k, name, sizeof name);
        zone_square(zl, x, y, 10, name);
    }
    for (int i = 0; i < NC; i++) {
        double x, y;
        int k = claimed[i];
        zone_cell(k < ZN ? k : ZN + ZCOLS + 2 * (k - ZN), &x, &y);
        zone_square(cl, x + 2, y + 2, 6, NULL);
    }
    assert_int_equal(GDALDatasetCommitTransaction(ds), OGRERR_NONE);
    GDALClose(ds);

    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 2;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    char src[700];
    snprintf(src, sizeof src, "%s|layername=claims", path);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature", src, NULL), STAPEL_OK);
    snprintf(src, sizeof src, "%s|layername=zones", path);
    assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE, src, "naam"), STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    /* Each claim is one face of 36 m², in the province of its cell. */
    assert_int_equal(stapel_stack_face_count(s), NC);
    for (size_t i = 0; i < NC; i++) {
        stapel_face f = stapel_stack_face(s, i);
        int fid = 0;
        assert_int_equal(sscanf(f.claim_ids, "[\"nature:%d\"]", &fid), 1);
        assert_true(fid >= 1 && fid <= NC);
        zone_name_of(claimed[fid - 1], name, sizeof name);
        assert_non_null(f.province);
        assert_string_equal(f.province, name);
        assert_true(fabs(f.area_m2 - 36.0) < 1e-6);
    }
    /* One summary row per distinct name (the extra parts are none), by
     * name, and the total; a name in two parts has both cells' area. */
    const stapel_summary *sm = stapel_stack_summary(s);
    assert_int_equal(sm->n_zones, ZN + 1);
    for (size_t i = 0; i < ZN; i++) {
        snprintf(name, sizeof name, "zone %05d", (int)i);
        assert_string_equal(sm->zones[i].zone_type, "province");
        assert_string_equal(sm->zones[i].zone, name);
    }
    assert_string_equal(sm->zones[ZN].zone, "total");
    bool *two_parts = calloc(ZN, sizeof *two_parts);
    assert_non_null(two_parts);
    for (int e = 0; e < ZEXTRA; e++) {
        zone_name_of(ZN + e, name, sizeof name);
        two_parts[atoi(name + 5)] = true; /* rows are by name: "zone 01234" is row 1234 */
    }
    for (size_t i = 0; i < ZN; i++)
        assert_true(fabs(sm->zones[i].area_m2 - (two_parts[i] ? 200.0 : 100.0)) < 1e-6);
    free(two_parts);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* The "reading" fractions a run reports, in order. */
typedef struct reading_log {
    double f[4096];
    size_t n;
} reading_log;

static void log_reading(void *user, const char *phase, double fraction)
{
    reading_log *rl = user;
    if (strcmp(phase, "reading") == 0 && rl->n < sizeof rl->f / sizeof rl->f[0])
        rl->f[rl->n++] = fraction;
}

/* The read of several layers is one progress from 0 to 1: it said "done"
 * (1) at the end of the first layer, and each layer after it began again
 * from 0, which the CLI (counting up only) did not show: most of a national
 * read went without progress; the zones, read last, began again too.
 * Three claim layers and a province layer of 3000 squares each, on one
 * thread and on two. */
static void test_stack_reading_progress_spans_all_layers(void **state)
{
    stapel_ctx *ctx = *state;
    enum { N = 3000 };
    char **sq = calloc(N, sizeof *sq), **names = calloc(N, sizeof *names);
    assert_non_null(sq);
    assert_non_null(names);
    for (int i = 0; i < N; i++) {
        sq[i] = strdup(rect(10.0 * (i % 100), 10.0 * (i / 100), 10.0 * (i % 100) + 5,
                            10.0 * (i / 100) + 5));
        names[i] = malloc(16);
        assert_non_null(sq[i]);
        assert_non_null(names[i]);
        snprintf(names[i], 16, "z%d", i);
    }
    const char *layers[3], *zones;
    for (int k = 0; k < 3; k++) {
        char name[64];
        snprintf(name, sizeof name, "progress_%d.geojson", k);
        layers[k] = strdup(fixture_geojson(name, RD_URN, N, (const char *const *)sq, NULL));
        assert_non_null(layers[k]);
    }
    zones = strdup(fixture_geojson("progress_zones.geojson", RD_URN, N, (const char *const *)sq,
                                   (const char *const *)names));
    assert_non_null(zones);
    for (int i = 0; i < N; i++) {
        free(sq[i]);
        free(names[i]);
    }
    free(sq);
    free(names);
    static const char *const themes[] = {"nature", "water", "housing"};
    for (int threads = 1; threads <= 2; threads++) {
        stapel_job *job = NULL;
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.threads = threads;
        assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
        for (int k = 0; k < 3; k++)
            assert_int_equal(stapel_job_add_layer(ctx, job, themes[k], layers[k], NULL),
                             STAPEL_OK);
        assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE, zones, "naam"),
                         STAPEL_OK);
        reading_log *rl = calloc(1, sizeof *rl);
        assert_non_null(rl);
        stapel_ctx_set_progress(ctx, log_reading, rl);
        stapel_stack *s = build(ctx, job);
        stapel_ctx_set_progress(ctx, NULL, NULL);
        assert_true(rl->n >= 3);
        for (size_t i = 1; i < rl->n; i++)
            assert_true(rl->f[i] >= rl->f[i - 1]); /* counts up */
        for (size_t i = 0; i + 1 < rl->n; i++)
            assert_true(rl->f[i] < 1.0); /* 1 only at the end */
        assert_true(rl->f[rl->n - 1] == 1.0);
        assert_true(rl->f[rl->n - 2] > 0.7); /* the zones counted too */
        free(rl);
        stapel_stack_free(s);
        stapel_job_free(job);
    }
    for (int k = 0; k < 3; k++)
        free((char *)layers[k]);
    free((char *)zones);
}

/* The "summary" fractions a run reports, in order. */
static void log_summary(void *user, const char *phase, double fraction)
{
    reading_log *rl = user;
    if (strcmp(phase, "summary") == 0 && rl->n < sizeof rl->f / sizeof rl->f[0])
        rl->f[rl->n++] = fraction;
}

/* The summary's progress counts the faces dissolved, not the conflict
 * groups: the largest group comes first, and counted as one of many it held
 * the progress at 0 for most of the phase (60 % of it at scale 10). One
 * province holds a nature claim with 400 housing squares in it, 400
 * conflict faces in one group; 200 small provinces hold a nature and a
 * housing square each, one conflict face each. On one thread, the first
 * fraction of the dissolving (0.3 to 0.93 of the phase) comes when the
 * large group is done: 400 of the 600 faces (it was 64 of the 201 groups).
 * The steps before the dissolving report below 0.3: they took 5.5 s at
 * national scale 100 with the count at 0, and then the shared edges, linked
 * zone by zone on one thread, 5.6 s with the count at 0.12. */
static void test_stack_summary_progress_counts_faces(void **state)
{
    stapel_ctx *ctx = *state;
    enum { BIG = 400, SMALL = 200 };
    char *nat[1 + SMALL], *hou[BIG + SMALL], *prov[1 + SMALL], *names[1 + SMALL];
    nat[0] = strdup(rect(0, 0, 4000, 40));
    prov[0] = strdup(rect(-10, -10, 4010, 50));
    names[0] = strdup("big");
    for (int i = 0; i < BIG; i++)
        hou[i] = strdup(rect(5 + 9.0 * i, 10, 9 + 9.0 * i, 14));
    for (int i = 0; i < SMALL; i++) {
        double x = 20.0 * i;
        nat[1 + i] = strdup(rect(x, 1000, x + 10, 1010));
        hou[BIG + i] = strdup(rect(x + 5, 1000, x + 15, 1010));
        prov[1 + i] = strdup(rect(x, 990, x + 20, 1020));
        names[1 + i] = malloc(16);
        assert_non_null(names[1 + i]);
        snprintf(names[1 + i], 16, "p%d", i);
    }
    stapel_job *job = new_job(ctx);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "nature",
                             fixture_geojson("sumprog_nature.geojson", RD_URN, 1 + SMALL,
                                             (const char *const *)nat, NULL),
                             NULL),
        STAPEL_OK);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "housing",
                             fixture_geojson("sumprog_housing.geojson", RD_URN, BIG + SMALL,
                                             (const char *const *)hou, NULL),
                             NULL),
        STAPEL_OK);
    assert_int_equal(
        stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE,
                             fixture_geojson("sumprog_prov.geojson", RD_URN, 1 + SMALL,
                                             (const char *const *)prov, (const char *const *)names),
                             "naam"),
        STAPEL_OK);
    for (int i = 0; i < BIG + SMALL; i++)
        free(hou[i]);
    for (int i = 0; i < 1 + SMALL; i++) {
        free(nat[i]);
        free(prov[i]);
        free(names[i]);
    }
    reading_log *rl = calloc(1, sizeof *rl);
    assert_non_null(rl);
    stapel_ctx_set_progress(ctx, log_summary, rl);
    stapel_stack *s = build(ctx, job);
    stapel_ctx_set_progress(ctx, NULL, NULL);
    assert_true(rl->n >= 3);
    assert_true(rl->f[0] == 0.0);
    for (size_t i = 1; i < rl->n; i++)
        assert_true(rl->f[i] >= rl->f[i - 1]); /* counts up */
    size_t n_before = 0, n_linking = 0, first = 1;
    while (first < rl->n && rl->f[first] <= 0.3) {
        n_before += rl->f[first] > 0.0 && rl->f[first] < 0.3;
        n_linking += rl->f[first] > 0.12 && rl->f[first] < 0.3;
        first++;
    }
    assert_true(n_before >= 3);
    assert_true(n_linking >= 2); /* the shared edges (0.12 to 0.3), part by part */
    assert_true(first < rl->n);
    double want = 0.3 + 0.63 * BIG / (BIG + SMALL);
    if (fabs(rl->f[first] - want) > 1e-9)
        print_error("the dissolving's first fraction is %g, expected %g\n", rl->f[first], want);
    assert_true(fabs(rl->f[first] - want) <= 1e-9);
    assert_true(rl->f[rl->n - 1] == 1.0);
    free(rl);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* The progress calls of a run in order, and where the first warning came. */
typedef struct call_log {
    char phase[4096][16];
    double f[4096];
    size_t n;
    size_t warned_at; /* calls before the first warning; SIZE_MAX: none */
} call_log;

static void log_calls(void *user, const char *phase, double fraction)
{
    call_log *cl = user;
    if (cl->n < sizeof cl->f / sizeof cl->f[0]) {
        snprintf(cl->phase[cl->n], sizeof cl->phase[0], "%s", phase);
        cl->f[cl->n++] = fraction;
    }
}

static void log_warned(void *user, stapel_log_level level, const char *message)
{
    (void)level;
    (void)message;
    call_log *cl = user;
    if (cl->warned_at == SIZE_MAX)
        cl->warned_at = cl->n;
}

/* The merging phase covers the work between the overlay and the summary:
 * it began only at the seam groups' unions (3.5 s after the overlay at
 * national scale 100, the seams being aligned), and said 1.0 before the
 * faces' attributes and the warning about the area outside the provinces
 * (6 s more of silence). Now merging starts at 0 as the overlay ends, moves
 * in steps of at most 0.4 through its parts, the warning comes before its
 * end, and the summary starts at 0 right after it. 100 housing squares in a
 * nature claim over many tiles; the provinces hold half the claim. */
static void test_stack_merging_progress_covers_its_work(void **state)
{
    stapel_ctx *ctx = *state;
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    o.tile_vertices = 40;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    add_islands(ctx, job, "mergeprog");
    const char *prov[] = {rect(-10, -10, 500, 50)};
    const char *names[] = {"west"};
    assert_int_equal(stapel_job_set_zones(
                         ctx, job, STAPEL_ZONE_PROVINCE,
                         fixture_geojson("mergeprog_prov.geojson", RD_URN, 1, prov, names), "naam"),
                     STAPEL_OK);
    call_log *cl = calloc(1, sizeof *cl);
    assert_non_null(cl);
    cl->warned_at = SIZE_MAX;
    stapel_ctx_set_progress(ctx, log_calls, cl);
    stapel_ctx_set_log(ctx, log_warned, cl);
    stapel_stack *s = build(ctx, job);
    stapel_ctx_set_progress(ctx, NULL, NULL);
    stapel_ctx_set_log(ctx, NULL, NULL);
    assert_true(stapel_stack_get_stats(s).n_tiles > 4);
    size_t first = 0, last = 0; /* the merging calls */
    while (first < cl->n && strcmp(cl->phase[first], "merging") != 0)
        first++;
    last = first;
    while (last + 1 < cl->n && strcmp(cl->phase[last + 1], "merging") == 0)
        last++;
    assert_true(first > 0 && last < cl->n);
    assert_string_equal(cl->phase[first - 1], "overlay");
    assert_true(cl->f[first - 1] == 1.0);
    if (cl->f[first] != 0.0)
        print_error("merging starts at %g, not 0\n", cl->f[first]);
    assert_true(cl->f[first] == 0.0);
    size_t n_between = 0;
    for (size_t i = first + 1; i <= last; i++) {
        if (cl->f[i] - cl->f[i - 1] > 0.4 + 1e-9 || cl->f[i] < cl->f[i - 1])
            print_error("merging goes from %g to %g\n", cl->f[i - 1], cl->f[i]);
        assert_true(cl->f[i] >= cl->f[i - 1] && cl->f[i] - cl->f[i - 1] <= 0.4 + 1e-9);
        n_between += cl->f[i] > 0.0 && cl->f[i] < 1.0;
    }
    assert_true(n_between >= 4);
    assert_true(cl->f[last] == 1.0);
    /* the warning is the merging's work, before its end */
    assert_true(cl->warned_at > first && cl->warned_at <= last);
    assert_true(last + 1 < cl->n);
    assert_string_equal(cl->phase[last + 1], "summary");
    assert_true(cl->f[last + 1] == 0.0);
    free(cl);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* The writing phase moves while the file is written: the stack layer was
 * written beside the summary, and writing, which began after it, showed 0
 * to 90 at once and then nothing until it was done. The stack layer's rows
 * are now counted in the summary phase, which ends when they are in, and
 * writing counts the other layers and the flush from 0, in steps of at
 * most 0.2. On two threads, so that the stack layer has its own. */
static void test_stack_writing_progress_moves(void **state)
{
    stapel_ctx *ctx = *state;
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 2;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    add_islands(ctx, job, "writeprog");
    call_log *cl = calloc(1, sizeof *cl);
    assert_non_null(cl);
    stapel_ctx_set_progress(ctx, log_calls, cl);
    stapel_stack *s = NULL;
    stapel_status st = stapel_stack_build_write(ctx, &s, job, STAPEL_TEST_SCRATCH "/writeprog.gpkg",
                                                STAPEL_WRITE_OVERWRITE);
    stapel_ctx_set_progress(ctx, NULL, NULL);
    if (st != STAPEL_OK)
        print_error("%s\n", stapel_ctx_message(ctx));
    assert_int_equal(st, STAPEL_OK);
    size_t first = 0;
    while (first < cl->n && strcmp(cl->phase[first], "writing") != 0)
        first++;
    assert_true(first > 0 && first < cl->n);
    assert_string_equal(cl->phase[first - 1], "summary");
    assert_true(cl->f[first - 1] == 1.0);
    for (size_t i = 0; i < first; i++) /* the summary counts up to its end */
        if (strcmp(cl->phase[i], "summary") == 0 && i > 0 &&
            strcmp(cl->phase[i - 1], "summary") == 0)
            assert_true(cl->f[i] >= cl->f[i - 1]);
    if (cl->f[first] != 0.0)
        print_error("writing starts at %g, not 0\n", cl->f[first]);
    assert_true(cl->f[first] == 0.0);
    size_t n_between = 0;
    for (size_t i = first + 1; i < cl->n; i++) {
        assert_string_equal(cl->phase[i], "writing");
        if (cl->f[i] - cl->f[i - 1] > 0.2 + 1e-9 || cl->f[i] < cl->f[i - 1])
            print_error("writing goes from %g to %g\n", cl->f[i - 1], cl->f[i]);
        assert_true(cl->f[i] >= cl->f[i - 1] && cl->f[i] - cl->f[i - 1] <= 0.2 + 1e-9);
        n_between += cl->f[i] > 0.0 && cl->f[i] < 1.0;
    }
    assert_true(n_between >= 4);
    assert_true(cl->f[cl->n - 1] == 1.0);
    free(cl);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* stapel_stack_write writes the stack layer and then the others in one
 * writing phase that counts up: the other layers' steps, from 0 on their
 * own, must not take it back below the stack rows' count. 5000 squares,
 * more than one chunk of rows (4096). */
static void test_stack_write_progress_counts_up(void **state)
{
    stapel_ctx *ctx = *state;
    enum { N = 5000 };
    char **sq = malloc(N * sizeof *sq);
    assert_non_null(sq);
    for (int i = 0; i < N; i++) {
        sq[i] = strdup(
            rect(10.0 * (i % 100), 10.0 * (i / 100), 10.0 * (i % 100) + 4, 10.0 * (i / 100) + 4));
        assert_non_null(sq[i]);
    }
    stapel_job *job = new_job(ctx);
    assert_int_equal(stapel_job_add_layer(ctx, job, "housing",
                                          fixture_geojson("writeup_sq.geojson", RD_URN, N,
                                                          (const char *const *)sq, NULL),
                                          NULL),
                     STAPEL_OK);
    for (int i = 0; i < N; i++)
        free(sq[i]);
    free(sq);
    stapel_stack *s = build(ctx, job);
    call_log *cl = calloc(1, sizeof *cl);
    assert_non_null(cl);
    stapel_ctx_set_progress(ctx, log_calls, cl);
    assert_int_equal(
        stapel_stack_write(ctx, s, STAPEL_TEST_SCRATCH "/writeup.gpkg", STAPEL_WRITE_OVERWRITE),
        STAPEL_OK);
    stapel_ctx_set_progress(ctx, NULL, NULL);
    assert_true(cl->n >= 3);
    for (size_t i = 0; i < cl->n; i++) {
        assert_string_equal(cl->phase[i], "writing");
        if (i > 0 && cl->f[i] < cl->f[i - 1])
            print_error("writing goes back from %g to %g\n", cl->f[i - 1], cl->f[i]);
        assert_true(i == 0 || cl->f[i] >= cl->f[i - 1]);
    }
    assert_true(cl->f[cl->n - 1] == 1.0);
    free(cl);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* The progress callback of test_stack_output_checked_before_reading:
 * counts the reports of the "reading" phase. */
static void count_reading(void *user, const char *phase, double fraction)
{
    (void)fraction;
    if (strcmp(phase, "reading") == 0)
        ++*(int *)user;
}

/* A mistake in the sources is told before the output is refused, and the
 * output is refused before any claim is read: a missing layer fails as a
 * missing file whatever the output; with a good layer, a directory (or an
 * existing file without overwrite) is refused before the reading starts. */
static void test_stack_output_checked_before_reading(void **state)
{
    stapel_ctx *ctx = *state;
    stapel_job *job = new_job(ctx);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature", STAPEL_TEST_SCRATCH "/no-such.geojson",
                                          NULL),
                     STAPEL_OK);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build_write(ctx, &s, job, STAPEL_TEST_SCRATCH,
                                              STAPEL_WRITE_OVERWRITE),
                     STAPEL_EIO);
    assert_non_null(strstr(stapel_ctx_message(ctx), "no-such.geojson"));
    assert_null(s);
    assert_int_equal(stapel_stack_build_write(ctx, &s, job, "", 0), STAPEL_EINVAL);
    assert_non_null(strstr(stapel_ctx_message(ctx), "no output path"));
    assert_null(s);
    stapel_job_free(job);

    job = new_job(ctx);
    add_islands(ctx, job, "refused");
    int reading = 0;
    stapel_ctx_set_progress(ctx, count_reading, &reading);
    assert_int_equal(stapel_stack_build_write(ctx, &s, job, STAPEL_TEST_SCRATCH,
                                              STAPEL_WRITE_OVERWRITE),
                     STAPEL_EINVAL);
    assert_non_null(strstr(stapel_ctx_message(ctx), "is a directory"));
    const char *taken = fixture_geojson("refused_taken.geojson", RD_URN, 0, NULL, NULL);
    assert_int_equal(stapel_stack_build_write(ctx, &s, job, taken, 0), STAPEL_EEXISTS);
    assert_null(s);
    assert_int_equal(reading, 0);
    /* and the same job reads when the output is free */
    char out[512];
    snprintf(out, sizeof out, "%s/refused_out.gpkg", STAPEL_TEST_SCRATCH);
    unlink(out);
    assert_int_equal(stapel_stack_build_write(ctx, &s, job, out, 0), STAPEL_OK);
    assert_true(reading > 0);
    stapel_ctx_set_progress(ctx, NULL, NULL);
    stapel_stack_free(s);
    stapel_job_free(job);
}

/* Warnings, one a line. */
static void keep_warnings(void *user, stapel_log_level level, const char *message)
{
    char *kept = user;
    if (level == STAPEL_LOG_WARN && strlen(kept) + strlen(message) + 2 < 4096) {
        strcat(kept, message);
        strcat(kept, "\n");
    }
}

/* nature [0,10]² and mining [5,15]x[0,10] meet; the built-in rules have no
 * 'mining'. The warning of that unrated pair is said as it holds for any
 * caller of the library, one that writes no GeoPackage and has no --rules:
 * where the built-in rules are and their format, not the output's rules
 * table. The count of such pairs tells the tool to add where its output
 * keeps them. Under rules of the caller's the pair is to be added to them. */
static void test_stack_unrated_pairs_said_for_any_caller(void **state)
{
    stapel_ctx *ctx = *state;
    char warnings[4096] = "";
    stapel_ctx_set_log(ctx, keep_warnings, warnings);
    const char *a[] = {rect(0, 0, 10, 10)};
    const char *b[] = {rect(5, 0, 15, 10)};
    stapel_job *job = new_job(ctx);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature",
                                          fixture_geojson("un_a.geojson", RD_URN, 1, a, NULL),
                                          NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "mining",
                                          fixture_geojson("un_b.geojson", RD_URN, 1, b, NULL),
                                          NULL),
                     STAPEL_OK);
    stapel_stack *s = build(ctx, job);
    assert_string_equal(warnings,
                        "no rule for 1 theme pair that meets (verdict 'unrated'): mining\xc3\x97"
                        "nature; the built-in rules lack it, and a rules file replaces them, not "
                        "adds to them: start from a copy of them (docs/rules/novex-default.csv, "
                        "installed in share/stapel/rules/; the format is in docs/RULES.md) and "
                        "add the pair\n");
    assert_int_equal(stapel_stack_get_stats(s).n_builtin_unrated, 1);
    stapel_stack_free(s);

    char path[512];
    snprintf(path, sizeof path, "%s/un_rules.csv", STAPEL_TEST_SCRATCH);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("theme_a,theme_b,verdict\nnature,water,conflict\nmining,water,conflict\n", f);
    fclose(f);
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_OK);
    assert_int_equal(stapel_job_set_rules(ctx, job, r), STAPEL_OK);
    warnings[0] = '\0';
    s = build(ctx, job);
    assert_non_null(strstr(warnings, "no rule for 1 theme pair that meets (verdict 'unrated'): "
                                     "mining\xc3\x97nature; add it to the rules file\n"));
    assert_int_equal(stapel_stack_get_stats(s).n_builtin_unrated, 0);
    stapel_ctx_set_log(ctx, NULL, NULL);
    stapel_stack_free(s);
    stapel_rules_free(r);
    stapel_job_free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_three_squares),
        cmocka_unit_test(test_stack_many_islands_in_a_row),
        cmocka_unit_test(test_stack_copies_across_tiles),
        cmocka_unit_test(test_stack_tile_vertices_without_limit),
        cmocka_unit_test(test_stack_zone_copies_a_claim),
        cmocka_unit_test(test_stack_shared_edge_no_sliver),
        cmocka_unit_test(test_stack_hole_with_claim_inside),
        cmocka_unit_test(test_stack_same_layer_overlap),
        cmocka_unit_test(test_stack_claim_ids_many),
        cmocka_unit_test(test_stack_province_border_cuts),
        cmocka_unit_test(test_stack_overlapping_novex),
        cmocka_unit_test(test_stack_zone_in_parts),
        cmocka_unit_test(test_stack_bowtie_repaired),
        cmocka_unit_test(test_stack_wgs84_geojson_next_to_rd),
        cmocka_unit_test(test_stack_output_checked_before_reading),
        cmocka_unit_test(test_stack_reading_progress_spans_all_layers),
        cmocka_unit_test(test_stack_summary_progress_counts_faces),
        cmocka_unit_test(test_stack_merging_progress_covers_its_work),
        cmocka_unit_test(test_stack_writing_progress_moves),
        cmocka_unit_test(test_stack_write_progress_counts_up),
        cmocka_unit_test(test_stack_many_zone_names),
        cmocka_unit_test(test_stack_unrated_pairs_said_for_any_caller),
    };
    return cmocka_run_group_tests(tests, fixture_ctx_setup, fixture_ctx_teardown);
}
