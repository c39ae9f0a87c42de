/*
 * test_summary.c - conflicts, zone_summary and zone_theme on a fixture whose
 * every number is worked out by hand (see the comment of the fixture).
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

/*
 * Provinces West [0,100]x[0,100] and Oost [100,200]x[0,100]; NOVEX Midden
 * [50,150]x[0,50] crosses their border. Claims: nature [0,120]x[0,100],
 * housing [80,140]x[0,40], water [0,40]x[0,100], solar [110,200]x[60,100].
 * Rules: housing x nature conflict, nature x solar conflict, nature x water
 * compatible, housing x water conditional (never met); housing x solar is
 * unrated (never met either).
 *
 * West: nature 10000, water 4000 (all with nature: a kans), housing 800 (all
 *   with nature: conflict). claimed 14800, ratio 1.48, 2+ themes 4800.
 * Oost: nature 2000, housing 1600, solar 3600; nature+housing [100,120]x[0,40]
 *   = 800, nature+solar [110,120]x[60,100] = 400. claimed 7200, ratio 0.72,
 *   2+ themes 1200, conflict 1200.
 * Midden (5000): nature 3500, housing 2400, nature+housing 1600 (conflict).
 *   claimed 5900, ratio 1.18.
 * Total (20000): claimed 22000, ratio 1.1, 2+ 6000, conflict 2000, kans 4000.
 * Conflicts: (West, Midden, housing x nature) 800, (Oost, Midden, housing x
 *   nature) 800, (Oost, -, nature x solar) 400.
 */
typedef struct fixture {
    stapel_ctx *ctx;
    stapel_stack *stack;
    char gpkg[512];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || stapel_ctx_new(&fx->ctx) != STAPEL_OK)
        return -1;
    stapel_ctx *ctx = fx->ctx;
    const char *prov[] = {rect(0, 0, 100, 100), rect(100, 0, 200, 100)};
    const char *pnames[] = {"West", "Oost"};
    const char *nov[] = {rect(50, 0, 150, 50)};
    const char *nnames[] = {"Midden"};
    const char *n[] = {rect(0, 0, 120, 100)};
    const char *h[] = {rect(80, 0, 140, 40)};
    const char *w[] = {rect(0, 0, 40, 100)};
    const char *s[] = {rect(110, 60, 200, 100)};
    char rules_path[512];
    snprintf(rules_path, sizeof rules_path, "%s/summary_rules.csv", STAPEL_TEST_SCRATCH);
    FILE *f = fopen(rules_path, "w");
    if (f == NULL)
        return -1;
    fputs("theme_a,theme_b,verdict,note\n"
          "nature,housing,conflict,no homes in Natura 2000\n"
          "nature,solar,conflict,\n"
          "water,nature,compatible,\n"
          "housing,water,conditional,\n",
          f);
    fclose(f);
    stapel_rules *rules = NULL;
    stapel_job *job = NULL;
    if (stapel_rules_read(ctx, &rules, rules_path) != STAPEL_OK ||
        stapel_job_new(ctx, &job, NULL) != STAPEL_OK)
        return -1;
    stapel_job_add_layer(ctx, job, "nature", fixture_geojson("s_n.geojson", RD_URN, 1, n, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "housing", fixture_geojson("s_h.geojson", RD_URN, 1, h, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "water", fixture_geojson("s_w.geojson", RD_URN, 1, w, NULL),
                         NULL);
    stapel_job_add_layer(ctx, job, "solar", fixture_geojson("s_s.geojson", RD_URN, 1, s, NULL),
                         NULL);
    stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE,
                         fixture_geojson("s_prov.geojson", RD_URN, 2, prov, pnames), "naam");
    stapel_job_set_zones(ctx, job, STAPEL_ZONE_NOVEX,
                         fixture_geojson("s_nov.geojson", RD_URN, 1, nov, nnames), "naam");
    stapel_job_set_rules(ctx, job, rules);
    stapel_rules_free(rules);
    stapel_status st = stapel_stack_build(ctx, &fx->stack, job);
    stapel_job_free(job);
    if (st != STAPEL_OK) {
        print_error("%s\n", stapel_ctx_message(ctx));
        return -1;
    }
    snprintf(fx->gpkg, sizeof fx->gpkg, "%s/summary.gpkg", STAPEL_TEST_SCRATCH);
    if (stapel_stack_write(ctx, fx->stack, fx->gpkg, STAPEL_WRITE_OVERWRITE) != STAPEL_OK) {
        print_error("%s\n", stapel_ctx_message(ctx));
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    stapel_stack_free(fx->stack);
    stapel_ctx_free(fx->ctx);
    free(fx);
    return 0;
}

static void near(double a, double b, int line)
{
    if (fabs(a - b) > 1e-6 * (1 + fabs(b)))
        fail_msg("line %d: %.9g != %.9g", line, a, b);
}
#define NEAR(a, b) near((a), (b), __LINE__)

static const stapel_zone_row *zone(const stapel_summary *sm, const char *name)
{
    for (size_t i = 0; i < sm->n_zones; i++)
        if (strcmp(sm->zones[i].zone, name) == 0)
            return &sm->zones[i];
    fail_msg("no zone %s", name);
    return NULL;
}

static const stapel_theme_row *theme(const stapel_summary *sm, const char *z, const char *t)
{
    for (size_t i = 0; i < sm->n_themes; i++)
        if (strcmp(sm->themes[i].zone, z) == 0 && strcmp(sm->themes[i].theme, t) == 0)
            return &sm->themes[i];
    fail_msg("no theme row %s/%s", z, t);
    return NULL;
}

static void check_zone_rows(const stapel_summary *sm)
{
    assert_int_equal(sm->n_zones, 4); /* West, Oost (sorted: Oost, West), Midden, total */
    assert_string_equal(sm->zones[0].zone, "Oost");
    assert_string_equal(sm->zones[1].zone, "West");
    assert_string_equal(sm->zones[2].zone_type, "novex");
    assert_string_equal(sm->zones[3].zone_type, "total");
    const stapel_zone_row *w = zone(sm, "West");
    NEAR(w->area_m2, 10000);
    NEAR(w->claimed_m2, 14800);
    NEAR(w->claim_ratio, 1.48);
    NEAR(w->stacked2_m2, 4800);
    NEAR(w->stacked3_m2, 0);
    assert_int_equal(w->max_themes, 2);
    NEAR(w->conflict_m2, 800);
    NEAR(w->kans_m2, 4000);
    const stapel_zone_row *o = zone(sm, "Oost");
    NEAR(o->claimed_m2, 7200);
    NEAR(o->claim_ratio, 0.72);
    NEAR(o->stacked2_m2, 1200);
    NEAR(o->conflict_m2, 1200);
    NEAR(o->kans_m2, 0);
    const stapel_zone_row *m = zone(sm, "Midden");
    NEAR(m->area_m2, 5000);
    NEAR(m->claimed_m2, 5900);
    NEAR(m->claim_ratio, 1.18);
    NEAR(m->stacked2_m2, 1600);
    NEAR(m->conflict_m2, 1600);
    const stapel_zone_row *t = zone(sm, "total");
    NEAR(t->area_m2, 20000);
    NEAR(t->claimed_m2, 22000);
    NEAR(t->claim_ratio, 1.1);
    NEAR(t->stacked2_m2, 6000);
    NEAR(t->conflict_m2, 2000);
    NEAR(t->kans_m2, 4000);
    const stapel_theme_row *tw = theme(sm, "West", "nature");
    NEAR(tw->area_m2, 10000);
    NEAR(tw->share, 1.0);
    NEAR(tw->overlap_m2, 4800);
    NEAR(theme(sm, "West", "water")->share, 0.4);
    NEAR(theme(sm, "Oost", "solar")->area_m2, 3600);
    NEAR(theme(sm, "Oost", "solar")->overlap_m2, 400);
    NEAR(theme(sm, "West", "solar")->area_m2, 0);
    NEAR(theme(sm, "Midden", "housing")->area_m2, 2400);
}

static void test_summary_in_memory(void **state)
{
    fixture *fx = *state;
    check_zone_rows(stapel_stack_summary(fx->stack));
}

static void test_summary_read_back(void **state)
{
    fixture *fx = *state;
    stapel_summary *sm = NULL;
    assert_int_equal(stapel_summary_read(fx->ctx, &sm, fx->gpkg), STAPEL_OK);
    check_zone_rows(sm);
    stapel_summary_free(sm);
}

static void test_summary_face_verdicts(void **state)
{
    fixture *fx = *state;
    int conflict_faces = 0;
    for (size_t i = 0; i < stapel_stack_face_count(fx->stack); i++) {
        stapel_face f = stapel_stack_face(fx->stack, i);
        if (f.n_themes == 1) {
            assert_int_equal(f.verdict, STAPEL_VERDICT_SINGLE);
            assert_string_equal(f.conflict_pairs, "[]");
        } else if (strcmp(f.themes, "housing+nature") == 0) {
            assert_int_equal(f.verdict, STAPEL_VERDICT_CONFLICT);
            assert_string_equal(f.conflict_pairs, "[\"housing\xc3\x97nature\"]");
            conflict_faces++;
        } else if (strcmp(f.themes, "nature+water") == 0) {
            assert_int_equal(f.verdict, STAPEL_VERDICT_COMPATIBLE);
        } else if (strcmp(f.themes, "nature+solar") == 0) {
            assert_int_equal(f.verdict, STAPEL_VERDICT_CONFLICT);
        } else {
            fail_msg("unexpected face %s", f.themes);
        }
    }
    assert_int_equal(conflict_faces, 2); /* split by the province border */
}

static void test_summary_conflicts_layer(void **state)
{
    fixture *fx = *state;
    GDALDatasetH ds = GDALOpenEx(fx->gpkg, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "conflicts");
    assert_non_null(l);
    assert_int_equal(OGR_L_GetFeatureCount(l, 1), 3);
    struct {
        const char *prov, *nov, *a, *b;
        double area;
        bool seen;
    } want[] = {{"West", "Midden", "housing", "nature", 800, false},
                {"Oost", "Midden", "housing", "nature", 800, false},
                {"Oost", NULL, "nature", "solar", 400, false}};
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
        const char *prov = OGR_F_GetFieldAsString(f, OGR_FD_GetFieldIndex(d, "province"));
        int in = OGR_FD_GetFieldIndex(d, "novex");
        const char *nov = OGR_F_IsFieldSetAndNotNull(f, in) ? OGR_F_GetFieldAsString(f, in) : NULL;
        const char *a = OGR_F_GetFieldAsString(f, OGR_FD_GetFieldIndex(d, "theme_a"));
        const char *b = OGR_F_GetFieldAsString(f, OGR_FD_GetFieldIndex(d, "theme_b"));
        double area = OGR_F_GetFieldAsDouble(f, OGR_FD_GetFieldIndex(d, "area_m2"));
        double garea = OGR_G_Area(OGR_F_GetGeometryRef(f));
        assert_string_equal(OGR_F_GetFieldAsString(f, OGR_FD_GetFieldIndex(d, "verdict")),
                            "conflict");
        bool matched = false;
        for (int k = 0; k < 3; k++) {
            bool nov_eq = (want[k].nov == NULL && nov == NULL) ||
                          (want[k].nov != NULL && nov != NULL && strcmp(want[k].nov, nov) == 0);
            if (!want[k].seen && strcmp(want[k].prov, prov) == 0 && nov_eq &&
                strcmp(want[k].a, a) == 0 && strcmp(want[k].b, b) == 0) {
                NEAR(area, want[k].area);
                NEAR(garea, want[k].area);
                want[k].seen = matched = true;
            }
        }
        if (!matched)
            fail_msg("unexpected conflict row %s/%s %s x %s", prov, nov ? nov : "-", a, b);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_in_memory),
        cmocka_unit_test(test_summary_read_back),
        cmocka_unit_test(test_summary_face_verdicts),
        cmocka_unit_test(test_summary_conflicts_layer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
