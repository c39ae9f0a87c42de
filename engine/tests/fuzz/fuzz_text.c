/*
 * fuzz_text - libFuzzer harness for stapel's own scanners of JSON text
 * (json_check.c: topojson_damage, geojson_trailing, seq_stray_record,
 * esrijson_unread, seq_unread, geojson_scan, json_skip, json_imember, ...),
 * which read the raw text of a file GDAL opened to find what GDAL leaves
 * out without a word. The input bytes are written to a file with each of the extensions
 * .topojson, .geojson, .geojsonl and .json (GDAL picks the driver by
 * extension and content: GeoJSON, GeoJSONSeq, TopoJSON, ESRIJSON), and each
 * file is described (stapel_info_read) and stacked as a claim layer.
 *
 * The files are real ones in a temporary folder, not /vsimem/: some checks
 * (geojson_trailing) look only at files on disk. FUZZ_TEXT_EXT=.topojson
 * (or another of the four) in the environment tries that extension alone,
 * to fuzz one format at a time.
 *
 * Any outcome is fine as long as it is clean: a failure with a message and
 * no stack, and not for lack of memory or a GEOS error; a finished build
 * with faces of finite, non-negative areas. The sanitizers catch a scanner
 * that reads past the text, libFuzzer's -timeout one that loops. Anything
 * else aborts. FUZZ_VERBOSE=1 in the environment prints what became of each
 * input.
 *
 * The same file, linked with replay.c instead of libFuzzer, replays the seed
 * corpus and the regressions as an ordinary test.
 */
#include "stapel.h"

#include <cpl_error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static stapel_ctx *ctx;
static bool verbose;
static const char *only; /* FUZZ_TEXT_EXT */
static char dir[256];

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_text: %s\n", what);
    abort();
}

static void remove_dir(void)
{
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CPLSetErrorHandler(CPLQuietErrorHandler); /* GDAL's own chatter */
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    only = getenv("FUZZ_TEXT_EXT");
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/fuzz_text.XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        fail("cannot make a temporary folder");
    atexit(remove_dir);
    if (stapel_ctx_new(&ctx) != STAPEL_OK)
        fail("cannot create a context");
    return 0;
}

/* A failure must be clean: a message, and not for lack of memory (the
 * inputs are small) nor a GEOS error (which stapel must guard against). */
static void check_failure(stapel_status st)
{
    if (st == STAPEL_ENOMEM || st == STAPEL_EGEOS)
        fail(stapel_ctx_message(ctx));
    if (stapel_ctx_message(ctx)[0] == '\0')
        fail("a failure left no message");
}

static void info(const char *path)
{
    stapel_source_info *si = (stapel_source_info *)&si; /* must be set */
    stapel_status st = stapel_info_read(ctx, &si, path);
    if (verbose)
        fprintf(stderr, "  info %s: %s: %s\n", path, stapel_status_str(st),
                st == STAPEL_OK ? si->driver : stapel_ctx_message(ctx));
    if (st != STAPEL_OK) {
        if (si != NULL)
            fail("a failed info returned a description");
        check_failure(st);
        return;
    }
    stapel_source_info_free(si);
}

static void stack(const char *path)
{
    stapel_stack_opts opts = STAPEL_STACK_OPTS_INIT;
    opts.threads = 1;
    stapel_job *job = NULL;
    stapel_stack *s = (stapel_stack *)&s; /* a failed build must set it to NULL */
    if (stapel_job_new(ctx, &job, &opts) != STAPEL_OK ||
        stapel_job_add_layer(ctx, job, "nature", path, NULL) != STAPEL_OK)
        fail("cannot set up the job");
    stapel_status st = stapel_stack_build(ctx, &s, job);
    if (verbose)
        fprintf(stderr, "  stack %s: %s: %s\n", path, stapel_status_str(st),
                st == STAPEL_OK ? "built" : stapel_ctx_message(ctx));
    if (st != STAPEL_OK) {
        if (s != NULL)
            fail("a failed build returned a stack");
        check_failure(st);
    } else {
        size_t n = stapel_stack_face_count(s);
        for (size_t i = 0; i < n; i++) {
            stapel_face f = stapel_stack_face(s, i);
            if (!isfinite(f.area_m2) || f.area_m2 < 0)
                fail("a face with a non-finite or negative area");
        }
        stapel_stack_free(s);
    }
    stapel_job_free(job);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const exts[] = {".topojson", ".geojson", ".geojsonl", ".json"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        if (only != NULL && strcmp(only, exts[i]) != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/claims%s", dir, exts[i]);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
            fail("cannot write the input file");
        info(path);
        stack(path);
        unlink(path);
    }
    return 0;
}
