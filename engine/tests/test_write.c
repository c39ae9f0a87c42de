/*
 * test_write.c - the GeoPackage writer's last step: the finished file takes
 * its name without replacing a file that appeared at the target during the
 * run (another run, a user), unless overwriting was asked for. The file is
 * made to appear from the progress callback, after the early check that the
 * target is free.
 */
#include "fixture.h"
#include "stapel.h"
#include "locales.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cpl_conv.h>
#include <gdal.h>
#include <locale.h>

#define PRECIOUS "precious data of another run"

typedef struct fixture {
    stapel_ctx *ctx;
    stapel_job *job;
    stapel_stack *stack;
    char dir[512]; /* outputs go here, and nothing else */
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || stapel_ctx_new(&fx->ctx) != STAPEL_OK)
        return -1;
    const char *n[] = {rect(0, 0, 100, 100)};
    const char *w[] = {rect(50, 0, 150, 100)};
    const char *p[] = {rect(-100, -100, 300, 300)};
    const char *pn[] = {"Testland"};
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    stapel_ctx *ctx = fx->ctx;
    if (stapel_job_new(ctx, &fx->job, &o) != STAPEL_OK ||
        stapel_job_add_layer(ctx, fx->job, "nature",
                             fixture_geojson("w_n.geojson", RD_URN, 1, n, NULL),
                             NULL) != STAPEL_OK ||
        stapel_job_add_layer(ctx, fx->job, "water",
                             fixture_geojson("w_w.geojson", RD_URN, 1, w, NULL),
                             NULL) != STAPEL_OK ||
        stapel_job_set_zones(ctx, fx->job, STAPEL_ZONE_PROVINCE,
                             fixture_geojson("w_p.geojson", RD_URN, 1, p, pn),
                             "naam") != STAPEL_OK ||
        stapel_stack_build(ctx, &fx->stack, fx->job) != STAPEL_OK) {
        print_error("%s\n", stapel_ctx_message(ctx));
        return -1;
    }
    snprintf(fx->dir, sizeof fx->dir, "%s/write-out", STAPEL_TEST_SCRATCH);
    mkdir(fx->dir, 0755);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    stapel_stack_free(fx->stack);
    stapel_job_free(fx->job);
    stapel_ctx_free(fx->ctx);
    free(fx);
    return 0;
}

/* The path of name in the output directory, emptied first (a failed test
 * may have left files). */
static const char *out_path(const fixture *fx, const char *name)
{
    static char buf[600];
    DIR *d = opendir(fx->dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    snprintf(buf, sizeof buf, "%s/%s", fx->dir, name);
    return buf;
}

/* What the progress callback does: once the phase `when` is reported, it
 * writes PRECIOUS to `path` (once). */
typedef struct intruder {
    const char *when;
    const char *path;
    bool done;
} intruder;

static void intrude(void *user, const char *phase, double fraction)
{
    (void)fraction;
    intruder *in = user;
    if (in->done || strcmp(phase, in->when) != 0)
        return;
    FILE *f = fopen(in->path, "wx");
    if (f != NULL) {
        fputs(PRECIOUS, f);
        fclose(f);
    }
    in->done = true;
}

static void assert_precious(const char *path)
{
    char buf[128] = "";
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, PRECIOUS);
}

/* Only the named files are in the output directory: no temporary file. */
static void assert_only(const fixture *fx, const char *name)
{
    DIR *d = opendir(fx->dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (strcmp(e->d_name, name) != 0)
            fail_msg("left behind in %s: %s", fx->dir, e->d_name);
    }
    closedir(d);
}

static void assert_refused(const fixture *fx, stapel_status st, const char *path)
{
    if (st != STAPEL_EEXISTS)
        fail_msg("status %d (%s), want STAPEL_EEXISTS", st, stapel_ctx_message(fx->ctx));
    const char *msg = stapel_ctx_message(fx->ctx);
    if (strstr(msg, path) == NULL || strstr(msg, "--overwrite") == NULL)
        fail_msg("message '%s' names neither '%s' nor --overwrite", msg, path);
    assert_precious(path);
}

/* stapel_stack_write (also stapel merge's writer): the file appears while
 * the faces are written. */
static void test_write_target_appearing_is_kept(void **state)
{
    fixture *fx = *state;
    const char *path = out_path(fx, "appears.gpkg");
    intruder in = {"writing", path, false};
    stapel_ctx_set_progress(fx->ctx, intrude, &in);
    stapel_status st = stapel_stack_write(fx->ctx, fx->stack, path, 0);
    stapel_ctx_set_progress(fx->ctx, NULL, NULL);
    assert_true(in.done);
    assert_refused(fx, st, path);
    assert_only(fx, "appears.gpkg");
    unlink(path);
}

/* stapel_stack_build_write (stapel stack): the file appears while the
 * summaries are computed, after the output was opened. */
static void test_write_build_write_target_appearing_is_kept(void **state)
{
    fixture *fx = *state;
    const char *path = out_path(fx, "appears2.gpkg");
    intruder in = {"summary", path, false};
    stapel_ctx_set_progress(fx->ctx, intrude, &in);
    stapel_stack *s = NULL;
    stapel_status st = stapel_stack_build_write(fx->ctx, &s, fx->job, path, 0);
    stapel_ctx_set_progress(fx->ctx, NULL, NULL);
    assert_true(in.done);
    assert_null(s);
    assert_refused(fx, st, path);
    assert_only(fx, "appears2.gpkg");
    unlink(path);
}

/* With overwrite the file that appeared is replaced by the GeoPackage. */
static void test_write_overwrite_replaces_appearing_target(void **state)
{
    fixture *fx = *state;
    const char *path = out_path(fx, "replaced.gpkg");
    intruder in = {"writing", path, false};
    stapel_ctx_set_progress(fx->ctx, intrude, &in);
    stapel_status st = stapel_stack_write(fx->ctx, fx->stack, path, STAPEL_WRITE_OVERWRITE);
    stapel_ctx_set_progress(fx->ctx, NULL, NULL);
    assert_true(in.done);
    if (st != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    char head[16] = "";
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    assert_memory_equal(head, "SQLite format 3", 16);
    assert_only(fx, "replaced.gpkg");
    unlink(path);
}

/* Without an intruder the output appears as before. */
static void test_write_free_target_is_written(void **state)
{
    fixture *fx = *state;
    const char *path = out_path(fx, "free.gpkg");
    if (stapel_stack_write(fx->ctx, fx->stack, path, 0) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 1000);
    assert_only(fx, "free.gpkg");
    /* and now that it exists, it is refused before any work */
    assert_int_equal(stapel_stack_write(fx->ctx, fx->stack, path, 0), STAPEL_EEXISTS);
    unlink(path);
}

/* One writer of test_write_same_path_from_two_threads: its own context,
 * the shared stack, and the status and message it got. */
typedef struct same_path_writer {
    const stapel_stack *stack;
    const char *path;
    unsigned flags;
    pthread_barrier_t *start;
    stapel_status st;
    char msg[512];
} same_path_writer;

static void *write_same_path(void *arg)
{
    same_path_writer *w = arg;
    stapel_ctx *ctx = NULL;
    w->st = stapel_ctx_new(&ctx);
    pthread_barrier_wait(w->start);
    if (w->st == STAPEL_OK)
        w->st = stapel_stack_write(ctx, w->stack, w->path, w->flags);
    snprintf(w->msg, sizeof w->msg, "%s", stapel_ctx_message(ctx));
    stapel_ctx_free(ctx);
    return NULL;
}

/* Two threads of one program (a web service serving two requests for one
 * map) write the same path at once, each with its own context: both
 * temporary files had one name (the process id's), so each removed and
 * wrote into the other's, and both writes failed ('unable to open
 * database file', 'database is locked') and left no file. With overwrite
 * both succeed and one whole GeoPackage is left; without, one succeeds and
 * the other is refused with STAPEL_EEXISTS. No temporary file is left. */
static void test_write_same_path_from_two_threads(void **state)
{
    fixture *fx = *state;
    for (int round = 0; round < 6; round++) {
        unsigned flags = round % 2 == 0 ? STAPEL_WRITE_OVERWRITE : 0;
        const char *path = out_path(fx, "same.gpkg");
        pthread_barrier_t start;
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        same_path_writer w[2];
        pthread_t t[2];
        for (int i = 0; i < 2; i++) {
            w[i] = (same_path_writer){fx->stack, path, flags, &start, STAPEL_EINVAL, ""};
            assert_int_equal(pthread_create(&t[i], NULL, write_same_path, &w[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        int ok = 0;
        for (int i = 0; i < 2; i++) {
            if (w[i].st == STAPEL_OK)
                ok++;
            else if (flags != 0 || w[i].st != STAPEL_EEXISTS)
                fail_msg("round %d, writer %d: status %d: %s", round, i, w[i].st, w[i].msg);
        }
        assert_int_equal(ok, flags != 0 ? 2 : 1);
        stapel_summary *sm = NULL;
        if (stapel_summary_read(fx->ctx, &sm, path) != STAPEL_OK)
            fail_msg("round %d: %s", round, stapel_ctx_message(fx->ctx));
        assert_int_equal(sm->n_zones, 2); /* Testland and the total */
        stapel_summary_free(sm);
        assert_only(fx, "same.gpkg");
    }
}

/* stapel_stack_build_write refuses to write over one of its sources, also
 * with overwrite and a path spelled otherwise: the stack would replace the
 * claims it was made from. */
static void test_write_build_write_over_a_source(void **state)
{
    fixture *fx = *state;
    const char *outs[] = {STAPEL_TEST_SCRATCH "/w_w.geojson", STAPEL_TEST_SCRATCH "/./w_p.geojson"};
    for (size_t k = 0; k < 2; k++) {
        FILE *f = fopen(outs[k], "rb");
        assert_non_null(f);
        char before[4096];
        size_t n = fread(before, 1, sizeof before, f);
        fclose(f);
        stapel_stack *s = (stapel_stack *)&s;
        stapel_status st =
            stapel_stack_build_write(fx->ctx, &s, fx->job, outs[k], STAPEL_WRITE_OVERWRITE);
        if (st != STAPEL_EINVAL)
            fail_msg("status %d (%s), want STAPEL_EINVAL", st, stapel_ctx_message(fx->ctx));
        assert_null(s);
        const char *msg = stapel_ctx_message(fx->ctx);
        if (strstr(msg, outs[k]) == NULL || strstr(msg, "write the output to another file") == NULL)
            fail_msg("message '%s' does not say that '%s' is a source", msg, outs[k]);
        f = fopen(outs[k], "rb");
        assert_non_null(f);
        char after[4096];
        size_t m = fread(after, 1, sizeof after, f);
        fclose(f);
        assert_int_equal(m, n);
        assert_memory_equal(after, before, n);
    }
}

/* Copy the file at from to to. */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

/* Copy the demo's nature shapefile, all its files, to stem.shp, ... */
static void copy_nature(const char *stem)
{
    static const char *const ext[] = {"shp", "shx", "dbf", "prj", "cpg"};
    char from[600], to[600];
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(from, sizeof from, "%s/demo/nature.%s", STAPEL_TESTDATA, ext[i]);
        snprintf(to, sizeof to, "%s.%s", stem, ext[i]);
        copy_file(from, to);
    }
}

/* stapel_stack_build_write of job to out, an input of it, is refused with
 * STAPEL_EINVAL naming out, also with overwrite, and out is as it was. */
static void expect_input_kept(stapel_ctx *ctx, const stapel_job *job, const char *out)
{
    struct stat before, after;
    assert_int_equal(stat(out, &before), 0);
    stapel_stack *s = (stapel_stack *)&s;
    stapel_status st = stapel_stack_build_write(ctx, &s, job, out, STAPEL_WRITE_OVERWRITE);
    if (st != STAPEL_EINVAL)
        fail_msg("output %s: status %d (%s), want STAPEL_EINVAL", out, st, stapel_ctx_message(ctx));
    assert_null(s);
    if (strstr(stapel_ctx_message(ctx), out) == NULL)
        fail_msg("message '%s' does not name '%s'", stapel_ctx_message(ctx), out);
    assert_int_equal(stat(out, &after), 0);
    assert_int_equal(after.st_ino, before.st_ino);
    assert_int_equal(after.st_size, before.st_size);
}

/* A shapefile is several files: the stack written over its .dbf would take
 * the claims' attributes. The rules file is an input too. */
static void test_write_build_write_over_a_shapefile_part_or_rules(void **state)
{
    fixture *fx = *state;
    stapel_ctx *ctx = fx->ctx;
    copy_nature(STAPEL_TEST_SCRATCH "/w_shape");
    const char *rules = STAPEL_TEST_SCRATCH "/w_rules.csv";
    FILE *f = fopen(rules, "w");
    assert_non_null(f);
    fputs("theme_a,theme_b,verdict\nnature,water,conflict\n", f);
    fclose(f);
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, rules), STAPEL_OK);
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, NULL), STAPEL_OK);
    assert_int_equal(stapel_job_set_rules(ctx, job, r), STAPEL_OK);
    stapel_rules_free(r);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "nature", STAPEL_TEST_SCRATCH "/w_shape.shp", NULL),
        STAPEL_OK);
    const char *outs[] = {STAPEL_TEST_SCRATCH "/w_shape.dbf", STAPEL_TEST_SCRATCH "/w_shape.shx",
                          rules};
    for (size_t k = 0; k < 3; k++)
        expect_input_kept(ctx, job, outs[k]);
    stapel_job_free(job);
}

/* A folder of shapefiles read as one source: the stack written over the
 * .dbf of a shapefile in it would take those claims' attributes too. A file
 * in the folder that belongs to no shapefile there is no input. */
static void test_write_build_write_over_a_shapefile_part_in_a_folder(void **state)
{
    fixture *fx = *state;
    stapel_ctx *ctx = fx->ctx;
    const char *dir = STAPEL_TEST_SCRATCH "/w_folder";
    mkdir(dir, 0755);
    copy_nature(STAPEL_TEST_SCRATCH "/w_folder/nature");
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, NULL), STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature", dir, NULL), STAPEL_OK);
    const char *outs[] = {STAPEL_TEST_SCRATCH "/w_folder/nature.dbf",
                          STAPEL_TEST_SCRATCH "/w_folder/../w_folder/nature.PRJ"};
    rename(STAPEL_TEST_SCRATCH "/w_folder/nature.prj", outs[1]);
    for (size_t k = 0; k < 2; k++)
        expect_input_kept(ctx, job, outs[k]);
    /* other.dbf belongs to no shapefile of the folder: written over */
    const char *other = STAPEL_TEST_SCRATCH "/w_folder/other.dbf";
    copy_file(STAPEL_TEST_SCRATCH "/w_folder/nature.dbf", other);
    stapel_stack *s = NULL;
    if (stapel_stack_build_write(ctx, &s, job, other, STAPEL_WRITE_OVERWRITE) != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(ctx));
    stapel_stack_free(s);
    unlink(other);
    stapel_job_free(job);
}

/* stapel_stack_write and stapel_stack_build_write refuse a path that cannot
 * be written the same way: a directory with STAPEL_EINVAL, a path in a
 * directory that does not exist with STAPEL_EIO, naming the directory
 * rather than the temporary file. */
static void test_write_unwritable_paths_as_build_write(void **state)
{
    fixture *fx = *state;
    stapel_ctx *ctx = fx->ctx;
    const char *nodir = STAPEL_TEST_SCRATCH "/write-no-such-dir/out.gpkg";
    for (int build = 0; build < 2; build++) {
        for (unsigned flags = 0; flags <= STAPEL_WRITE_OVERWRITE; flags += STAPEL_WRITE_OVERWRITE) {
            stapel_stack *s = NULL;
            stapel_status st = build ? stapel_stack_build_write(ctx, &s, fx->job, fx->dir, flags)
                                     : stapel_stack_write(ctx, fx->stack, fx->dir, flags);
            if (st != STAPEL_EINVAL)
                fail_msg("%s to a directory, flags %u: status %d (%s), want STAPEL_EINVAL",
                         build ? "build_write" : "write", flags, st, stapel_ctx_message(ctx));
            assert_non_null(strstr(stapel_ctx_message(ctx), "is a directory"));
            st = build ? stapel_stack_build_write(ctx, &s, fx->job, nodir, flags)
                       : stapel_stack_write(ctx, fx->stack, nodir, flags);
            if (st != STAPEL_EIO)
                fail_msg("%s to a missing directory: status %d (%s), want STAPEL_EIO",
                         build ? "build_write" : "write", st, stapel_ctx_message(ctx));
            const char *msg = stapel_ctx_message(ctx);
            if (strstr(msg, "directory '" STAPEL_TEST_SCRATCH
                            "/write-no-such-dir': No such file or directory") == NULL ||
                strstr(msg, ".tmp") != NULL)
                fail_msg("%s: message '%s'", build ? "build_write" : "write", msg);
            assert_null(s);
        }
    }
}

/* The writer sets GDAL's SQLite options for its own calls on the caller's
 * thread; a caller's own thread-local values come back afterwards (they
 * were cleared). */
static void test_write_keeps_callers_gdal_settings(void **state)
{
    fixture *fx = *state;
    const char *path = out_path(fx, "settings.gpkg");
    CPLSetThreadLocalConfigOption("OGR_SQLITE_SYNCHRONOUS", "NORMAL");
    CPLSetThreadLocalConfigOption("OGR_SQLITE_JOURNAL", "DELETE");
    stapel_status st = stapel_stack_write(fx->ctx, fx->stack, path, 0);
    const char *sync = CPLGetThreadLocalConfigOption("OGR_SQLITE_SYNCHRONOUS", NULL);
    const char *journal = CPLGetThreadLocalConfigOption("OGR_SQLITE_JOURNAL", NULL);
    bool kept = sync != NULL && strcmp(sync, "NORMAL") == 0 && journal != NULL &&
                strcmp(journal, "DELETE") == 0;
    CPLSetThreadLocalConfigOption("OGR_SQLITE_SYNCHRONOUS", NULL);
    CPLSetThreadLocalConfigOption("OGR_SQLITE_JOURNAL", NULL);
    if (st != STAPEL_OK)
        fail_msg("%s", stapel_ctx_message(fx->ctx));
    assert_true(kept);
    unlink(path);
}

/* A zone name field called FID is written as FID_1 also in a Turkish
 * locale, where strcasecmp() does not take 'I' for a capital 'i': the field
 * clashed with the GeoPackage's fid column and the run failed after all its
 * work. Skipped where no Turkish locale is installed. */
static void test_write_zone_field_fid_in_a_turkish_locale(void **state)
{
    fixture *fx = *state;
    stapel_ctx *ctx = fx->ctx;
    if (!test_locale_turkish())
        skip();
    const char *zones = STAPEL_TEST_SCRATCH "/w_fid.geojson";
    FILE *f = fopen(zones, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":"
            "{\"name\":\"%s\"}},\"features\":[{\"type\":\"Feature\",\"properties\":"
            "{\"FID\":\"Testland\"},\"geometry\":%s}]}\n",
            RD_URN, rect(-100, -100, 300, 300));
    fclose(f);
    const char *n[] = {rect(0, 0, 100, 100)};
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature",
                                          fixture_geojson("w_fid_n.geojson", RD_URN, 1, n, NULL),
                                          NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE, zones, "FID"), STAPEL_OK);
    const char *path = out_path(fx, "fid-field.gpkg");
    stapel_stack *s = NULL;
    stapel_status st = stapel_stack_build_write(ctx, &s, job, path, STAPEL_WRITE_OVERWRITE);
    setlocale(LC_CTYPE, "C");
    if (st != STAPEL_OK)
        fail_msg("status %d (%s)", st, stapel_ctx_message(ctx));
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    assert_non_null(ds);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "provinces");
    assert_non_null(l);
    assert_true(OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "FID_1") >= 0);
    GDALClose(ds);
    stapel_stack_free(s);
    stapel_job_free(job);
    unlink(path);
}

/* The first text of a column of a one-row OGR SQL answer, or "" (into buf). */
static const char *sql_text(GDALDatasetH ds, const char *sql, char *buf, size_t size)
{
    buf[0] = '\0';
    OGRLayerH l = GDALDatasetExecuteSQL(ds, sql, NULL, NULL);
    OGRFeatureH f = l != NULL ? OGR_L_GetNextFeature(l) : NULL;
    if (f != NULL) {
        snprintf(buf, size, "%s", OGR_F_GetFieldAsString(f, 0));
        OGR_F_Destroy(f);
    }
    if (l != NULL)
        GDALDatasetReleaseResultSet(ds, l);
    return buf;
}

/* A host program in a locale with a decimal comma (nl_NL) writes and merges
 * the same GeoPackage: the layers' extents went into SQL as '150000,25',
 * the grid into run_info as '0,001' and the styles' line widths as '0,4',
 * all with snprintf, which follows the locale. Skipped where no such
 * locale is installed. */
static void test_write_numbers_in_a_decimal_comma_locale(void **state)
{
    fixture *fx = *state;
    stapel_ctx *ctx = fx->ctx;
    const char *n[] = {"{\"type\":\"Polygon\",\"coordinates\":[[[150000.25,450000.5],"
                       "[150100.75,450000.5],[150100.75,450100.125],[150000.25,450100.125],"
                       "[150000.25,450000.5]]]}"};
    const char *zones = fixture_geojson("w_comma_p.geojson", RD_URN, 1, n, NULL);
    const char *src = fixture_geojson("w_comma_n.geojson", RD_URN, 1, n, NULL);
    static const char *const comma[] = {"nl_NL.UTF-8", "nl_NL.utf8", "nl_NL", "de_DE.UTF-8"};
    bool set = false;
    for (size_t i = 0; i < sizeof comma / sizeof comma[0] && !set; i++)
        set = setlocale(LC_NUMERIC, comma[i]) != NULL && localeconv()->decimal_point[0] == ',';
    if (!set) {
        setlocale(LC_NUMERIC, "C");
        skip();
    }
    char path[512], part1[512], part2[512], merged[512]; /* out_path's buffer is reused */
    snprintf(path, sizeof path, "%s", out_path(fx, "comma.gpkg"));
    snprintf(part1, sizeof part1, "%s", out_path(fx, "comma-1.gpkg"));
    snprintf(part2, sizeof part2, "%s", out_path(fx, "comma-2.gpkg"));
    snprintf(merged, sizeof merged, "%s", out_path(fx, "comma-m.gpkg"));
    const char *parts[2] = {part1, part2};
    stapel_status st = STAPEL_OK;
    for (int k = 0; k < 3 && st == STAPEL_OK; k++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.threads = 1;
        o.shard_index = k;
        o.shard_count = k > 0 ? 2 : 0;
        stapel_job *job = NULL;
        st = stapel_job_new(ctx, &job, &o);
        if (st == STAPEL_OK)
            st = stapel_job_add_layer(ctx, job, "nature", src, NULL);
        if (st == STAPEL_OK)
            st = stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE, zones, "naam");
        stapel_stack *s = NULL;
        if (st == STAPEL_OK)
            st = stapel_stack_build_write(ctx, &s, job, k == 0 ? path : parts[k - 1],
                                          STAPEL_WRITE_OVERWRITE);
        stapel_stack_free(s);
        stapel_job_free(job);
    }
    stapel_stack *m = NULL;
    if (st == STAPEL_OK)
        st = stapel_stack_merge_write(ctx, &m, parts, 2, 1, merged, STAPEL_WRITE_OVERWRITE);
    stapel_stack_free(m);
    setlocale(LC_NUMERIC, "C");
    if (st != STAPEL_OK)
        fail_msg("status %d (%s)", st, stapel_ctx_message(ctx));
    const char *outs[] = {path, merged};
    for (size_t i = 0; i < 2; i++) {
        GDALDatasetH ds = GDALOpenEx(outs[i], GDAL_OF_VECTOR, NULL, NULL, NULL);
        assert_non_null(ds);
        char buf[256];
        assert_string_equal(
            sql_text(ds, "SELECT value FROM run_info WHERE key = 'grid'", buf, sizeof buf),
            "0.001");
        /* The extent of the one square, as given (on the 1 mm grid). */
        assert_string_equal(sql_text(ds,
                                     "SELECT printf('%.3f %.3f %.3f %.3f', min_x, min_y, max_x, "
                                     "max_y) FROM gpkg_contents WHERE table_name = 'stack'",
                                     buf, sizeof buf),
                            "150000.250 450000.500 150100.750 450100.125");
        assert_string_equal(sql_text(ds,
                                     "SELECT COUNT(*) FROM layer_styles WHERE styleQML LIKE "
                                     "'%outline_width\" value=\"0.4\"%'",
                                     buf, sizeof buf),
                            "1");
        assert_string_equal(sql_text(ds,
                                     "SELECT COUNT(*) FROM layer_styles WHERE styleQML LIKE "
                                     "'%width\" value=\"_,%'",
                                     buf, sizeof buf),
                            "0");
        GDALClose(ds);
    }
    unlink(path);
    unlink(parts[0]);
    unlink(parts[1]);
    unlink(merged);
}

/* The C library's words for why an output cannot be made are English, as
 * the rest of the message, whatever locale the host program has set: they
 * came in its language ("directory '...': Bestand of map bestaat niet" in a
 * Dutch one). Skipped where no Dutch locale or translation is installed. */
static void test_write_error_text_english_in_a_dutch_locale(void **state)
{
    fixture *fx = *state;
    stapel_ctx *ctx = fx->ctx;
    if (!test_locale_dutch_messages())
        skip();
    const char *dir = STAPEL_TEST_SCRATCH "/write-no-such-dir";
    const char *path = STAPEL_TEST_SCRATCH "/write-no-such-dir/out.gpkg";
    stapel_status st = stapel_stack_write(ctx, fx->stack, path, 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", stapel_ctx_message(ctx));
    setlocale(LC_ALL, "C");
    assert_int_equal(st, STAPEL_EIO);
    char want[1024];
    snprintf(want, sizeof want, "cannot create '%s': directory '%s': No such file or directory",
             path, dir);
    assert_string_equal(msg, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_target_appearing_is_kept),
        cmocka_unit_test(test_write_numbers_in_a_decimal_comma_locale),
        cmocka_unit_test(test_write_build_write_target_appearing_is_kept),
        cmocka_unit_test(test_write_overwrite_replaces_appearing_target),
        cmocka_unit_test(test_write_free_target_is_written),
        cmocka_unit_test(test_write_same_path_from_two_threads),
        cmocka_unit_test(test_write_keeps_callers_gdal_settings),
        cmocka_unit_test(test_write_build_write_over_a_source),
        cmocka_unit_test(test_write_unwritable_paths_as_build_write),
        cmocka_unit_test(test_write_build_write_over_a_shapefile_part_or_rules),
        cmocka_unit_test(test_write_build_write_over_a_shapefile_part_in_a_folder),
        cmocka_unit_test(test_write_zone_field_fid_in_a_turkish_locale),
        cmocka_unit_test(test_write_error_text_english_in_a_dutch_locale),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
