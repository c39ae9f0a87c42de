/*
 * fuzz_rules.c - libFuzzer harness for the rules CSV parser: the input bytes
 * are a rules file, put in /vsimem/ and read with stapel_rules_read(). A
 * refused file must come with a message naming it; accepted rules are
 * looked up for every pair of their themes, copied into a job, and freed.
 * Anything else aborts, which libFuzzer reports.
 *
 * The same file, linked with replay.c instead of libFuzzer, replays the seed
 * corpus and the regressions as an ordinary test.
 */
#include "stapel.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static stapel_ctx *ctx;
static bool verbose; /* FUZZ_VERBOSE=1: say what became of each input */

#define PATH "/vsimem/fuzz_rules.csv"

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_rules: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CPLSetErrorHandler(CPLQuietErrorHandler);
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (stapel_ctx_new(&ctx) != STAPEL_OK)
        fail("cannot create a context");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ctx == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    /* GDAL takes a copy; it does not write to the buffer. */
    VSILFILE *fp = VSIFileFromMemBuffer(PATH, (GByte *)data, size, FALSE);
    if (fp == NULL)
        fail("cannot create the /vsimem/ file");
    VSIFCloseL(fp);
    stapel_rules *r = NULL;
    stapel_status st = stapel_rules_read(ctx, &r, PATH);
    if (verbose)
        fprintf(stderr, "  %s: %s\n", stapel_status_str(st),
                st == STAPEL_OK ? "read" : stapel_ctx_message(ctx));
    if (st != STAPEL_OK) {
        if (r != NULL)
            fail("a refused file returned rules");
        if (strstr(stapel_ctx_message(ctx), PATH) == NULL)
            fail("the message does not name the file");
    } else {
        size_t nt = stapel_rules_theme_count(r);
        if (stapel_rules_count(r) > nt * nt)
            fail("more rules than theme pairs");
        for (size_t i = 0; i < nt; i++) {
            for (size_t j = 0; j < nt; j++) {
                const char *a = stapel_rules_theme(r, i), *b = stapel_rules_theme(r, j);
                const char *note = NULL, *note2 = NULL;
                stapel_verdict v = stapel_rules_verdict(r, a, b, &note);
                stapel_verdict w = stapel_rules_verdict(r, b, a, &note2);
                if (v != w || note != note2)
                    fail("the verdict depends on the order of the themes");
                if ((i == j) != (v == STAPEL_VERDICT_SINGLE))
                    fail("a theme against itself is not 'single'");
                if (v < STAPEL_VERDICT_SINGLE || v > STAPEL_VERDICT_CONFLICT)
                    fail("a verdict out of range");
            }
        }
        stapel_job *job = NULL;
        if (stapel_job_new(ctx, &job, NULL) != STAPEL_OK ||
            stapel_job_set_rules(ctx, job, r) != STAPEL_OK)
            fail("cannot copy rules into a job");
        stapel_job_free(job);
    }
    stapel_rules_free(r);
    VSIUnlink(PATH);
    return 0;
}
