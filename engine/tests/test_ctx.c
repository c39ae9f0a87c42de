/*
 * test_ctx.c - the context: lifecycle, status names, and the message
 * contract (cleared on entry, set on failure, naming its subject).
 */
#include "fixture.h"
#include "stapel.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* A new context, and a job of the demo's nature layer on it. */
static stapel_job *nature_job(stapel_ctx **ctx)
{
    assert_int_equal(stapel_ctx_new(ctx), STAPEL_OK);
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(*ctx, &job, NULL), STAPEL_OK);
    assert_int_equal(
        stapel_job_add_layer(*ctx, job, "nature", STAPEL_TESTDATA "/demo/nature.shp", NULL),
        STAPEL_OK);
    return job;
}

/* stapel_source_shown(source) is want. */
static void assert_shown(const char *source, const char *want)
{
    char *shown = stapel_source_shown(source);
    assert_non_null(shown);
    assert_string_equal(shown, want);
    free(shown);
}

/* Files, and what is not one: databases, services and GDAL virtual paths.
 * URLs and GDAL connection strings ('WFS:https://...') were taken for file
 * names ('no such file'). Run first, before any context registered GDAL's
 * drivers, whose connection prefixes tell the strings. */
static void test_source_kinds(void **state)
{
    (void)state;
    assert_true(stapel_source_is_file("nature.shp"));
    assert_true(stapel_source_is_file("dir/claims.gpkg|layername=agri"));
    assert_true(stapel_source_is_file("GPKG:claims.gpkg:agri")); /* refused when opened */
    assert_true(stapel_source_is_file("nature:2030.shp"));       /* no driver's prefix */
    assert_false(stapel_source_is_file("PG:dbname=ruimte"));
    assert_false(stapel_source_is_file("postgresql://u@host/db"));
    assert_false(stapel_source_is_file("https://service.pdok.nl/x.geojson"));
    assert_false(stapel_source_is_file("WFS:https://service.pdok.nl/rvo/natura2000/wfs/v1_0"));
    assert_false(stapel_source_is_file("oapif:https://api.pdok.nl/x"));
    assert_false(stapel_source_is_file("/vsizip/a.zip/x.shp"));
    assert_false(stapel_source_is_file(NULL));
    /* ... but a file named like a connection string is a file, as GDAL
     * tries the file formats first. */
    const char *named = "es:stapel-test-source-kinds.gpkg";
    FILE *f = fopen(named, "w");
    assert_non_null(f);
    fclose(f);
    assert_true(stapel_source_is_file(named));
    assert_true(stapel_source_is_file("es:stapel-test-source-kinds.gpkg|layername=a"));
    remove(named);
    assert_false(stapel_source_is_file(named));

    assert_shown("https://ana:geheim@host/x.geojson", "https://ana:***@host/x.geojson");
    assert_shown("WFS:https://ana:geheim@host/wfs?password=z&typename=a",
                 "WFS:https://ana:***@host/wfs?password=***&typename=a");
    /* an API key or token in a URL's query is a password too */
    assert_shown("OAPIF:https://host/ogc?apikey=k1&f=json&token=t2|layername=a",
                 "OAPIF:https://host/ogc?apikey=***&f=json&token=***|layername=a");
    assert_shown("WFS:https://host/wfs?SERVICE=WFS&access_token=t&monkey=1",
                 "WFS:https://host/wfs?SERVICE=WFS&access_token=***&monkey=1");
    assert_shown("PG:dbname=x options='-c key=1'", "PG:dbname=x options='-c key=1'");
    /* libpq's sslpassword, the passphrase of the client's key, too */
    assert_shown("PG:dbname=x sslpassword=geheim sslkey=/k user=y",
                 "PG:dbname=x sslpassword=*** sslkey=/k user=y");
    assert_shown("PG:dbname=x sslpassword = 'ge heim'|layername=a",
                 "PG:dbname=x sslpassword=***|layername=a");
    assert_shown("postgresql:///x?sslpassword=geheim&user=y",
                 "postgresql:///x?sslpassword=***&user=y");
    /* libpq does not quote with '"', but the value meant is hidden whole */
    assert_shown("PG:dbname=x password=\"ge heim\" user=y", "PG:dbname=x password=*** user=y");
    assert_shown("PG:dbname=x password=\"ge heim", "PG:dbname=x password=***");
    /* an apostrophe within the double quotes is part of the password */
    assert_shown("PG:dbname=x password=\"it's geheim\" user=y", "PG:dbname=x password=*** user=y");
    assert_shown("https://host/x.geojson?a=b", "https://host/x.geojson?a=b");
}

static void test_ctx_lifecycle(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    assert_non_null(ctx);
    assert_string_equal(stapel_ctx_message(ctx), "");
    stapel_ctx_free(ctx);
    stapel_ctx_free(NULL); /* accepts NULL */
    stapel_source_info_free(NULL);
    stapel_job_free(NULL);
    stapel_stack_free(NULL);
}

static void test_ctx_status_names(void **state)
{
    (void)state;
    assert_string_equal(stapel_status_str(STAPEL_OK), "success");
    assert_string_equal(stapel_status_str(STAPEL_ENOMEM), "out of memory");
    assert_string_equal(stapel_status_str(STAPEL_EEXISTS), "output exists");
    assert_string_equal(stapel_status_str((stapel_status)999), "unknown status");
    assert_string_equal(stapel_version(), STAPEL_VERSION);
    /* The header's version is written by hand beside meson.build's
     * project() version (which stapel.pc gives; the tool's --version gives
     * the header's): a release that bumps one must bump the other. */
    assert_string_equal(STAPEL_VERSION, STAPEL_MESON_VERSION);
}

/* A message too long for the context is cut between UTF-8 characters: a
 * path of 'é' (two bytes each) in "cannot open '...'" came out ending in a
 * lone lead byte for one of the two offsets, which a strict decoder refuses. */
static void test_ctx_long_message_stays_utf8(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    for (int shift = 0; shift < 2; shift++) {
        char path[2200];
        size_t n = 0;
        path[n++] = '/';
        for (int i = 0; i < shift; i++)
            path[n++] = 'x';
        while (n < 2100) {
            path[n++] = (char)0xC3;
            path[n++] = (char)0xA9;
        }
        path[n] = '\0';
        stapel_source_info *info = NULL;
        assert_int_not_equal(stapel_info_read(ctx, &info, path), STAPEL_OK);
        const char *m = stapel_ctx_message(ctx);
        assert_true(strlen(m) > 1000);
        assert_true(fixture_whole_utf8(m, strlen(m)));
    }
    stapel_ctx_free(ctx);
}

static void test_ctx_failure_names_subject(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_source_info *info = (stapel_source_info *)&info; /* must become NULL */
    stapel_status st = stapel_info_read(ctx, &info, "/nonexistent/dir/claims.shp");
    assert_int_equal(st, STAPEL_EIO);
    assert_null(info);
    assert_non_null(strstr(stapel_ctx_message(ctx), "/nonexistent/dir/claims.shp"));

    /* The next call clears the message on entry. */
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, NULL), STAPEL_OK);
    assert_string_equal(stapel_ctx_message(ctx), "");

    /* A bad theme is refused with the theme in the message. */
    st = stapel_job_add_layer(ctx, job, "bad theme!", "x.shp", NULL);
    assert_int_equal(st, STAPEL_EINVAL);
    assert_non_null(strstr(stapel_ctx_message(ctx), "bad theme!"));

    /* A job without layers cannot build. */
    stapel_stack *s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(stapel_ctx_message(ctx), "claim layers"));

    /* A missing source surfaces at build time, naming the path. */
    assert_int_equal(stapel_job_add_layer(ctx, job, "nature", "/nonexistent/n.shp", NULL),
                     STAPEL_OK);
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_EIO);
    assert_null(s);
    assert_non_null(strstr(stapel_ctx_message(ctx), "/nonexistent/n.shp"));
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

static void test_ctx_cancel_stops_build(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_job *job = nature_job(&ctx);
    stapel_ctx_cancel(ctx);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_ECANCELLED);
    assert_null(s);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

/* A cancel request stays until it is cleared; then the same context runs
 * the same call again (a long-lived host keeps its context). */
static void test_ctx_cancel_clear_reuses_context(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_job *job = nature_job(&ctx);
    stapel_ctx_cancel(ctx);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_ECANCELLED);
    assert_null(s);
    /* No call clears it by itself. */
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_ECANCELLED);
    assert_null(s);
    stapel_ctx_cancel_clear(ctx);
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_OK);
    assert_non_null(s);
    assert_true(stapel_stack_face_count(s) > 0);
    assert_string_equal(stapel_ctx_message(ctx), "");
    stapel_stack_free(s);
    /* Clearing without a request, or on no context, does nothing. */
    stapel_ctx_cancel_clear(ctx);
    stapel_ctx_cancel_clear(NULL);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

/* Every call that returns a status refuses a NULL context, out pointer or
 * handle with STAPEL_EINVAL, saying which when it has a context; the calls
 * without a status do nothing on NULL and return a safe value. None of
 * them crashes. */
static void test_ctx_null_handles(void **state)
{
    (void)state;
    const char *out_path = STAPEL_TEST_SCRATCH "/null_handles.gpkg";
    const char *parts[] = {STAPEL_TEST_SCRATCH "/null_handles_part.gpkg"};
    stapel_ctx *ctx = NULL;
    stapel_job *job = nature_job(&ctx);
    stapel_stack *built = NULL;
    assert_int_equal(stapel_stack_build(ctx, &built, job), STAPEL_OK);

    /* A NULL context: nowhere to say why, but *out is NULL all the same. */
    stapel_source_info *info = (stapel_source_info *)&info;
    assert_int_equal(stapel_info_read(NULL, &info, "x.shp"), STAPEL_EINVAL);
    assert_null(info);
    stapel_rules *rules = (stapel_rules *)&rules;
    assert_int_equal(stapel_rules_read(NULL, &rules, NULL), STAPEL_EINVAL);
    assert_null(rules);
    stapel_job *j = (stapel_job *)&j;
    assert_int_equal(stapel_job_new(NULL, &j, NULL), STAPEL_EINVAL);
    assert_null(j);
    assert_int_equal(stapel_job_add_layer(NULL, job, "wind", "x.shp", NULL), STAPEL_EINVAL);
    assert_int_equal(stapel_job_set_zones(NULL, job, STAPEL_ZONE_PROVINCE, "x.shp", "naam"),
                     STAPEL_EINVAL);
    assert_int_equal(stapel_job_set_rules(NULL, job, NULL), STAPEL_EINVAL);
    stapel_stack *s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_build(NULL, &s, job), STAPEL_EINVAL);
    assert_null(s);
    s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_build_write(NULL, &s, job, out_path, 0), STAPEL_EINVAL);
    assert_null(s);
    s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_merge(NULL, &s, parts, 1), STAPEL_EINVAL);
    assert_null(s);
    s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_merge_write(NULL, &s, parts, 1, 0, out_path, 0), STAPEL_EINVAL);
    assert_null(s);
    stapel_run_info *ri = (stapel_run_info *)&ri;
    assert_int_equal(stapel_run_info_read(NULL, &ri, parts[0]), STAPEL_EINVAL);
    assert_null(ri);
    stapel_summary *sm = (stapel_summary *)&sm;
    assert_int_equal(stapel_summary_read(NULL, &sm, parts[0]), STAPEL_EINVAL);
    assert_null(sm);
    assert_int_equal(stapel_stack_write(NULL, built, out_path, 0), STAPEL_EINVAL);
    assert_int_equal(stapel_render(NULL, NULL, parts[0], STAPEL_TEST_SCRATCH "/null.png", NULL),
                     STAPEL_EINVAL);
    /* The job was not touched: it still builds as before. */
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_OK);
    assert_int_equal(stapel_stack_face_count(s), stapel_stack_face_count(built));
    stapel_stack_free(s);

    /* A NULL out pointer or handle, named in the message. */
    const char *no_out = "no out pointer given (NULL)";
    const char *no_job = "no job given (NULL)";
    assert_int_equal(stapel_info_read(ctx, NULL, "x.shp"), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    assert_int_equal(stapel_rules_read(ctx, NULL, NULL), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    assert_int_equal(stapel_job_new(ctx, NULL, NULL), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    assert_int_equal(stapel_job_add_layer(ctx, NULL, "wind", "x.shp", NULL), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_job);
    assert_int_equal(stapel_job_set_zones(ctx, NULL, STAPEL_ZONE_NOVEX, "x.shp", "naam"),
                     STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_job);
    assert_int_equal(stapel_job_set_rules(ctx, NULL, NULL), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_job);
    assert_int_equal(stapel_stack_build(ctx, NULL, job), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_build(ctx, &s, NULL), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_job);
    assert_null(s);
    assert_int_equal(stapel_stack_build_write(ctx, NULL, job, out_path, 0), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_build_write(ctx, &s, NULL, out_path, 0), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_job);
    assert_null(s);
    assert_int_equal(stapel_stack_merge(ctx, NULL, parts, 1), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    assert_int_equal(stapel_stack_merge_write(ctx, NULL, parts, 1, 0, out_path, 0), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    assert_int_equal(stapel_run_info_read(ctx, NULL, parts[0]), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    assert_int_equal(stapel_summary_read(ctx, NULL, parts[0]), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), no_out);
    assert_int_equal(stapel_stack_write(ctx, NULL, out_path, 0), STAPEL_EINVAL);
    assert_string_equal(stapel_ctx_message(ctx), "no stack given (NULL)");
    struct stat sb;
    assert_int_not_equal(stat(out_path, &sb), 0); /* nothing was written */

    /* The calls without a status. */
    stapel_ctx_set_log(NULL, NULL, NULL);
    stapel_ctx_set_progress(NULL, NULL, NULL);
    stapel_ctx_cancel(NULL);
    stapel_ctx_cancel_clear(NULL);
    assert_string_equal(stapel_ctx_message(NULL), "no context");
    assert_int_equal(stapel_rules_count(NULL), 0);
    assert_int_equal(stapel_rules_theme_count(NULL), 0);
    assert_null(stapel_rules_theme(NULL, 0));
    const char *note = "x";
    assert_int_equal(stapel_rules_verdict(NULL, "nature", "wind", &note), STAPEL_VERDICT_UNRATED);
    assert_null(note);
    assert_int_equal(stapel_rules_verdict(NULL, "wind", "wind", NULL), STAPEL_VERDICT_SINGLE);
    stapel_rules *builtin = NULL;
    assert_int_equal(stapel_rules_read(ctx, &builtin, NULL), STAPEL_OK);
    assert_int_equal(stapel_rules_verdict(builtin, NULL, "wind", NULL), STAPEL_VERDICT_UNRATED);
    assert_int_equal(stapel_rules_verdict(builtin, "wind", NULL, NULL), STAPEL_VERDICT_UNRATED);
    assert_null(stapel_rules_theme(builtin, stapel_rules_theme_count(builtin)));
    stapel_rules_free(builtin);
    stapel_stack_stats st = stapel_stack_get_stats(NULL);
    assert_int_equal(st.n_faces, 0);
    assert_int_equal(st.n_claims, 0);
    assert_int_equal(stapel_stack_face_count(NULL), 0);
    stapel_face f = stapel_stack_face(NULL, 0);
    assert_int_equal(f.n_claims, 0);
    assert_null(f.themes);
    assert_null(f.claim_ids);
    f = stapel_stack_face(built, stapel_stack_face_count(built));
    assert_int_equal(f.n_claims, 0);
    assert_null(f.themes);
    assert_null(stapel_stack_summary(NULL));
    int index = -1, count = -1;
    assert_false(stapel_shard_parse(NULL, &index, &count));
    assert_false(stapel_shard_parse("1/2", NULL, &count));
    assert_false(stapel_shard_parse("1/2", &index, NULL));
    assert_int_equal(index, -1);
    assert_int_equal(count, -1);
    assert_false(stapel_zone_name_equal(NULL, "Utrecht"));
    assert_false(stapel_zone_name_equal("Utrecht", NULL));
    assert_false(stapel_zone_name_equal(NULL, NULL));
    stapel_ctx_free(NULL);
    stapel_source_info_free(NULL);
    stapel_rules_free(NULL);
    stapel_job_free(NULL);
    stapel_stack_free(NULL);
    stapel_run_info_free(NULL);
    stapel_summary_free(NULL);

    stapel_stack_free(built);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

/* Zone names compare with their accents written either way. The 53 pairs
 * are Python's unicodedata.normalize('NFC'/'NFD') of the ISO 8859-1 letters
 * that decompose into a letter and one mark, written out here. */
static void test_zone_name_equal(void **state)
{
    (void)state;
    static const char *const pairs[][2] = {
        {"\xc3\x80", "A\xcc\x80"},
        {"\xc3\x81", "A\xcc\x81"},
        {"\xc3\x82", "A\xcc\x82"},
        {"\xc3\x83", "A\xcc\x83"},
        {"\xc3\x84", "A\xcc\x88"},
        {"\xc3\x85", "A\xcc\x8a"},
        {"\xc3\x87", "C\xcc\xa7"},
        {"\xc3\x88", "E\xcc\x80"},
        {"\xc3\x89", "E\xcc\x81"},
        {"\xc3\x8a", "E\xcc\x82"},
        {"\xc3\x8b", "E\xcc\x88"},
        {"\xc3\x8c", "I\xcc\x80"},
        {"\xc3\x8d", "I\xcc\x81"},
        {"\xc3\x8e", "I\xcc\x82"},
        {"\xc3\x8f", "I\xcc\x88"},
        {"\xc3\x91", "N\xcc\x83"},
        {"\xc3\x92", "O\xcc\x80"},
        {"\xc3\x93", "O\xcc\x81"},
        {"\xc3\x94", "O\xcc\x82"},
        {"\xc3\x95", "O\xcc\x83"},
        {"\xc3\x96", "O\xcc\x88"},
        {"\xc3\x99", "U\xcc\x80"},
        {"\xc3\x9a", "U\xcc\x81"},
        {"\xc3\x9b", "U\xcc\x82"},
        {"\xc3\x9c", "U\xcc\x88"},
        {"\xc3\x9d", "Y\xcc\x81"},
        {"\xc3\xa0", "a\xcc\x80"},
        {"\xc3\xa1", "a\xcc\x81"},
        {"\xc3\xa2", "a\xcc\x82"},
        {"\xc3\xa3", "a\xcc\x83"},
        {"\xc3\xa4", "a\xcc\x88"},
        {"\xc3\xa5", "a\xcc\x8a"},
        {"\xc3\xa7", "c\xcc\xa7"},
        {"\xc3\xa8", "e\xcc\x80"},
        {"\xc3\xa9", "e\xcc\x81"},
        {"\xc3\xaa", "e\xcc\x82"},
        {"\xc3\xab", "e\xcc\x88"},
        {"\xc3\xac", "i\xcc\x80"},
        {"\xc3\xad", "i\xcc\x81"},
        {"\xc3\xae", "i\xcc\x82"},
        {"\xc3\xaf", "i\xcc\x88"},
        {"\xc3\xb1", "n\xcc\x83"},
        {"\xc3\xb2", "o\xcc\x80"},
        {"\xc3\xb3", "o\xcc\x81"},
        {"\xc3\xb4", "o\xcc\x82"},
        {"\xc3\xb5", "o\xcc\x83"},
        {"\xc3\xb6", "o\xcc\x88"},
        {"\xc3\xb9", "u\xcc\x80"},
        {"\xc3\xba", "u\xcc\x81"},
        {"\xc3\xbb", "u\xcc\x82"},
        {"\xc3\xbc", "u\xcc\x88"},
        {"\xc3\xbd", "y\xcc\x81"},
        {"\xc3\xbf", "y\xcc\x88"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        assert_true(stapel_zone_name_equal(pairs[i][0], pairs[i][1]));
        assert_true(stapel_zone_name_equal(pairs[i][1], pairs[i][0]));
        for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
            if (k != i) /* no letter equals another */
                assert_false(stapel_zone_name_equal(pairs[i][0], pairs[k][1]));
    }
    assert_true(stapel_zone_name_equal("Frysla\xcc\x82n", "Frysl\xc3\xa2n"));
    assert_true(stapel_zone_name_equal("Curac\xcc\xa7" "ao", "Cura\xc3\xa7" "ao"));
    assert_true(stapel_zone_name_equal("Utrecht", "Utrecht"));
    assert_true(stapel_zone_name_equal("", ""));
    assert_false(stapel_zone_name_equal("Utrecht", "utrecht")); /* case counts */
    assert_false(stapel_zone_name_equal("Utrecht ", "Utrecht")); /* and spaces */
    assert_false(stapel_zone_name_equal("Fryslan", "Frysl\xc3\xa2n"));
    assert_false(stapel_zone_name_equal("Fryslan", "Frysla\xcc\x82n"));
    assert_false(stapel_zone_name_equal("a\xcc\x82", "a"));
    assert_false(stapel_zone_name_equal("\xc3\xa9", "e\xcc\x80")); /* é is not è */
    assert_false(stapel_zone_name_equal("x\xcc\x82", "\xc3\xa2")); /* no x-circumflex */
    /* beyond Latin-1: w-circumflex (U+0175), and two marks in canonical
     * order (U+1EC7 e with circumflex and dot below, from e + dot + hat and
     * e + hat + dot) */
    assert_true(stapel_zone_name_equal("w\xcc\x82", "\xc5\xb5"));
    assert_true(stapel_zone_name_equal("e\xcc\xa3\xcc\x82", "\xe1\xbb\x87"));
    assert_true(stapel_zone_name_equal("e\xcc\x82\xcc\xa3", "\xe1\xbb\x87"));
    /* Text that is not UTF-8 compares byte for byte. */
    assert_true(stapel_zone_name_equal("Frysl\xe2n", "Frysl\xe2n"));
    assert_false(stapel_zone_name_equal("Frysl\xe2n", "Frysl\xc3\xa2n"));
    assert_false(stapel_zone_name_equal("\xff", "\xfe"));
    assert_false(stapel_zone_name_equal("a\xc3", "a"));
}

/* Names that differ only in case or in spaces around them are near (for a
 * "did you mean" hint); other letters, inner spaces and accents are not. */
static void test_zone_name_near(void **state)
{
    (void)state;
    assert_true(stapel_zone_name_near("flevoland", "Flevoland"));
    assert_true(stapel_zone_name_near(" Flevoland\t", "Flevoland"));
    assert_true(stapel_zone_name_near("ALMERE OOSTERWOLD ", "Almere Oosterwold"));
    /* Case beyond ASCII, in either Unicode form: FRYSL\u00c2N, frysla + hat + n. */
    assert_true(stapel_zone_name_near("FRYSL\xc3\x82N", "Frysl\xc3\xa2n"));
    assert_true(stapel_zone_name_near("frysla\xcc\x82n", "Frysl\xc3\xa2n"));
    assert_true(stapel_zone_name_near("", "  "));
    assert_false(stapel_zone_name_near("Fryslan", "Frysl\xc3\xa2n"));
    assert_false(stapel_zone_name_near("AlmereOosterwold", "Almere Oosterwold"));
    assert_false(stapel_zone_name_near("Almere  Oosterwold", "Almere Oosterwold"));
    assert_false(stapel_zone_name_near("Flevo", "Flevoland"));
    assert_false(stapel_zone_name_near(NULL, "Flevoland"));
    assert_false(stapel_zone_name_near("Flevoland", NULL));
    /* Text that is not UTF-8 is near only to the same bytes. */
    assert_true(stapel_zone_name_near("Frysl\xe2n", "Frysl\xe2n"));
    assert_false(stapel_zone_name_near("FRYSL\xe2N", "Frysl\xe2n"));
}

/* A --zone value's type prefix, in any case, always names the type: a
 * province named 'province:X' is 'province:province:X', and 'province:X'
 * is never it. */
static void test_zone_wanted(void **state)
{
    (void)state;
    const char *name = NULL;
    assert_string_equal(stapel_zone_want_type("Province:X", &name), "province");
    assert_string_equal(name, "X");
    assert_string_equal(stapel_zone_want_type("novex:province:X", &name), "novex");
    assert_string_equal(name, "province:X");
    assert_string_equal(stapel_zone_want_type("TOTAL:", &name), "total");
    assert_string_equal(name, "");
    assert_null(stapel_zone_want_type("provinces:X", &name));
    assert_string_equal(name, "provinces:X");
    assert_null(stapel_zone_want_type("province", &name));
    assert_null(stapel_zone_want_type(NULL, &name));
    assert_null(stapel_zone_want_type("novex:X", NULL));
    assert_true(stapel_zone_wanted("province:X", "province", "X"));
    assert_false(stapel_zone_wanted("province:X", "province", "province:X"));
    assert_false(stapel_zone_wanted("province:X", "novex", "X"));
    assert_true(stapel_zone_wanted("province:province:X", "province", "province:X"));
    assert_true(stapel_zone_wanted("X", "novex", "X"));
    assert_true(stapel_zone_wanted("total", "total", "total"));
    assert_true(stapel_zone_wanted("total:total", "total", "total"));
    assert_false(stapel_zone_wanted("total:total", "province", "total"));
    assert_true(stapel_zone_wanted("novex:Frysla\xcc\x82n", "novex", "Frysl\xc3\xa2n"));
    assert_false(stapel_zone_wanted(NULL, "novex", "X"));
    assert_false(stapel_zone_wanted("X", NULL, "X"));
    assert_false(stapel_zone_wanted("X", "novex", NULL));
}

/* How near a name comes to a zone's, for a hint: spaces, then case, then
 * accents, then a letter or two off in a name long enough. */
static void test_zone_name_rank(void **state)
{
    (void)state;
    assert_int_equal(stapel_zone_name_rank("Frysla\xcc\x82n", "Frysl\xc3\xa2n"), 1);
    assert_int_equal(stapel_zone_name_rank("utrecht ", "utrecht"), 2);
    assert_int_equal(stapel_zone_name_rank("utrecht ", "Utrecht"), 3);
    assert_int_equal(stapel_zone_name_rank("FRYSL\xc3\x82N", "Frysl\xc3\xa2n"), 3);
    assert_int_equal(stapel_zone_name_rank("fryslan", "Frysl\xc3\xa2n"), 4);
    assert_int_equal(stapel_zone_name_rank("Utrect", "Utrecht"), 5);
    assert_int_equal(stapel_zone_name_rank("Frieslan", "Frysl\xc3\xa2n"), 6);
    assert_int_equal(stapel_zone_name_rank("Flevo", "Flevoland"), 0);
    assert_int_equal(stapel_zone_name_rank("X", "Y"), 0);
    assert_int_equal(stapel_zone_name_rank("Frysl\xe2n", "Frysl\xc3\xa2n"), 0);
    assert_int_equal(stapel_zone_name_rank(NULL, "X"), 0);
    assert_int_equal(stapel_zone_name_rank("X", NULL), 0);
}

/* A hint keeps the nearest zone offered, whatever the order; of zones as
 * near, the first name byte for byte, and a "TYPE:" reading before a whole
 * one. */
static void test_zone_hint(void **state)
{
    (void)state;
    stapel_zone_hint h = {0};
    assert_string_equal(stapel_zone_hint_note(&h), "");
    assert_true(stapel_zone_hint_offer(&h, "utrecht ", "province", "Utrecht", true));
    assert_true(stapel_zone_hint_offer(&h, "utrecht ", "province", "utrecht", false));
    assert_true(stapel_zone_hint_offer(&h, "utrecht ", "novex", "Utrecht", true));
    assert_string_equal(h.name, "utrecht");
    assert_string_equal(h.type, "province");
    assert_false(h.has_area);
    assert_false(h.typed);
    assert_false(h.shared); /* 'Utrecht' (NOVEX) is another name */
    assert_string_equal(stapel_zone_hint_note(&h), "(case and spaces count)");
    stapel_zone_hint_free(&h);
    assert_int_equal(h.rank, 0);
    assert_null(h.name);
    /* ' total': the total row before a province 'Total' */
    assert_true(stapel_zone_hint_offer(&h, " total", "province", "Total", true));
    assert_true(stapel_zone_hint_offer(&h, " total", "total", "total", true));
    assert_string_equal(h.type, "total");
    assert_false(h.typed);
    stapel_zone_hint_free(&h);
    assert_true(stapel_zone_hint_offer(&h, "total:Total", "province", "Total", true));
    assert_true(stapel_zone_hint_offer(&h, "total:Total", "total", "total", true));
    assert_string_equal(h.type, "total");
    assert_true(h.typed);
    stapel_zone_hint_free(&h);
    /* as near either way: the first name, then province */
    assert_true(
        stapel_zone_hint_offer(&h, "Gelderl\xc3\xa2nd", "novex", "G\xc3\xaalderland", true));
    assert_true(stapel_zone_hint_offer(&h, "Gelderl\xc3\xa2nd", "novex", "Gelderland", true));
    assert_true(stapel_zone_hint_offer(&h, "Gelderl\xc3\xa2nd", "province", "Gelderland", true));
    assert_true(stapel_zone_hint_offer(&h, "Gelderl\xc3\xa2nd", "novex", "Gelderland", true));
    assert_string_equal(h.name, "Gelderland");
    assert_string_equal(h.type, "province");
    assert_true(h.shared); /* a NOVEX area is called so too: render needs the type */
    assert_string_equal(stapel_zone_hint_note(&h), "(case, accents and spaces count)");
    stapel_zone_hint_free(&h);
    /* the same, the province offered first; a nearer zone later is not shared */
    assert_true(stapel_zone_hint_offer(&h, "gelderland", "province", "Gelderland", true));
    assert_false(h.shared);
    assert_true(stapel_zone_hint_offer(&h, "gelderland", "novex", "Gelderland", true));
    assert_string_equal(h.type, "province");
    assert_true(h.shared);
    assert_true(stapel_zone_hint_offer(&h, "gelderland", "novex", "gelderland", true));
    assert_string_equal(h.type, "novex");
    assert_false(h.shared);
    stapel_zone_hint_free(&h);
    /* twins also when one writes its accent as a combining mark */
    assert_true(stapel_zone_hint_offer(&h, "fryslan", "novex", "Frysl\xc3\xa2n", true));
    assert_true(stapel_zone_hint_offer(&h, "fryslan", "province", "Frysla\xcc\x82n", true));
    assert_true(h.shared);
    stapel_zone_hint_free(&h);
    /* 'province:x': province X by its type before the zone named
     * 'province:X', as near whole; a NOVEX area X is no province (kept
     * only until a province is near) */
    assert_true(stapel_zone_hint_offer(&h, "province:x", "novex", "X", true));
    assert_true(h.other_type);
    assert_true(stapel_zone_hint_offer(&h, "province:x", "province", "province:X", true));
    assert_true(h.whole);
    assert_true(stapel_zone_hint_offer(&h, "province:x", "province", "X", true));
    assert_string_equal(h.name, "X");
    assert_false(h.typed);
    assert_false(h.whole);
    stapel_zone_hint_free(&h);
    /* a zone whose own name starts with a prefix is written with its type */
    assert_true(stapel_zone_hint_offer(&h, "novex:Y", "province", "novex:Y", true));
    assert_int_equal(h.rank, 1);
    assert_true(h.typed);
    assert_string_equal(stapel_zone_hint_note(&h), "(a type's prefix names the type)");
    stapel_zone_hint_free(&h);
    assert_true(stapel_zone_hint_offer(&h, "Utrect", "province", "Utrecht", true));
    assert_string_equal(stapel_zone_hint_note(&h), "(1 letter off)");
    assert_true(stapel_zone_hint_offer(&h, "Utrect", "weird", "Utrect", true));
    assert_string_equal(h.name, "Utrecht");
    stapel_zone_hint_free(&h);
    stapel_zone_hint_free(NULL);
}

/* A "TYPE:" want whose type is mistaken is hinted the zone of the other
 * type, with the type that finds it, but only when no zone of the type it
 * asks for (nor one named so whole) is near at all. */
static void test_zone_hint_other_type(void **state)
{
    (void)state;
    stapel_zone_hint h = {0};
    /* 'novex:Flevoland' for province Flevoland */
    assert_true(stapel_zone_hint_offer(&h, "novex:Flevoland", "province", "Flevoland", true));
    assert_int_equal(h.rank, 1);
    assert_string_equal(h.type, "province");
    assert_true(h.other_type);
    assert_true(h.typed);
    assert_string_equal(stapel_zone_hint_note(&h), "(another type)");
    /* a NOVEX area 2 letters off is of the type asked for: it goes first */
    assert_true(stapel_zone_hint_offer(&h, "novex:Flevoland", "novex", "Flevolanden", true));
    assert_string_equal(h.name, "Flevolanden");
    assert_false(h.other_type);
    assert_false(h.typed);
    assert_string_equal(stapel_zone_hint_note(&h), "(2 letters off)");
    /* and stays first when the province is offered after it */
    assert_true(stapel_zone_hint_offer(&h, "novex:Flevoland", "province", "Flevoland", true));
    assert_string_equal(h.name, "Flevolanden");
    stapel_zone_hint_free(&h);
    /* a province named 'novex:Y' asked for as 'novex:novex:Y' */
    assert_true(stapel_zone_hint_offer(&h, "novex:novex:y", "province", "novex:Y", false));
    assert_string_equal(h.name, "novex:Y");
    assert_string_equal(h.type, "province");
    assert_true(h.typed);
    assert_false(h.has_area);
    assert_string_equal(stapel_zone_hint_note(&h), "(another type; case and spaces count)");
    stapel_zone_hint_free(&h);
    /* named so whole before another type: 'novex:Y' is the province
     * 'novex:Y' rather than province Y */
    assert_true(stapel_zone_hint_offer(&h, "novex:Y", "province", "Y", true));
    assert_true(stapel_zone_hint_offer(&h, "novex:Y", "province", "novex:Y", true));
    assert_string_equal(h.name, "novex:Y");
    assert_true(h.whole);
    assert_false(h.other_type);
    stapel_zone_hint_free(&h);
    /* the total row asked for as a province is 'total:total' */
    assert_true(stapel_zone_hint_offer(&h, "province:Total", "total", "total", true));
    assert_string_equal(h.type, "total");
    assert_true(h.typed);
    assert_true(h.other_type);
    stapel_zone_hint_free(&h);
    /* 'province:fryslan' with a NOVEX area Fryslân only: the NOVEX area,
     * which a province of that name offered later replaces, a twin */
    assert_true(stapel_zone_hint_offer(&h, "province:fryslan", "novex", "Frysl\xc3\xa2n", true));
    assert_string_equal(h.type, "novex");
    assert_true(stapel_zone_hint_offer(&h, "province:fryslan", "province", "Frysl\xc3\xa2n", true));
    assert_string_equal(h.type, "province");
    assert_false(h.other_type);
    assert_true(h.shared);
    stapel_zone_hint_free(&h);
}

/* A list of zones keeps each zone once, by type then name byte for byte,
 * and writes with its type a name that starts with a type's prefix and one
 * that a zone of another type has too, its accent stored either way. */
static void test_zone_list(void **state)
{
    (void)state;
    stapel_zone_list *l = stapel_zone_list_new();
    assert_non_null(l);
    assert_true(stapel_zone_list_add(l, "total", "total", true));
    assert_true(stapel_zone_list_add(l, "novex", "Frysla\xcc\x82n", true));
    assert_true(stapel_zone_list_add(l, "novex", "Amsterdam", false));
    assert_true(stapel_zone_list_add(l, "province", "Utrecht", true));
    assert_true(stapel_zone_list_add(l, "province", "novex:Y", true));
    assert_true(stapel_zone_list_add(l, "province", "Frysl\xc3\xa2n", false));
    assert_true(stapel_zone_list_add(l, "province", "Frysl\xc3\xa2n", true)); /* once */
    assert_true(stapel_zone_list_add(l, "weird", "W", true));                 /* no type */
    assert_true(stapel_zone_list_add(l, "province", NULL, true));
    assert_int_equal(stapel_zone_list_count(l), 6);
    static const struct {
        const char *type, *name;
        bool has_area, typed;
    } want[] = {
        {"province", "Frysl\xc3\xa2n", false, true}, {"province", "Utrecht", true, false},
        {"province", "novex:Y", true, true},         {"novex", "Amsterdam", false, false},
        {"novex", "Frysla\xcc\x82n", true, true},    {"total", "total", true, false},
    };
    for (size_t i = 0; i < 6; i++) {
        const char *type = NULL;
        bool has_area = !want[i].has_area, typed = !want[i].typed;
        assert_string_equal(stapel_zone_list_get(l, i, &type, &has_area, &typed), want[i].name);
        assert_string_equal(type, want[i].type);
        assert_int_equal(has_area, want[i].has_area);
        assert_int_equal(typed, want[i].typed);
    }
    assert_null(stapel_zone_list_get(l, 6, NULL, NULL, NULL));
    /* a zone put on it after it was read is in its place */
    assert_true(stapel_zone_list_add(l, "total", "Amsterdam", true));
    bool typed = false;
    assert_string_equal(stapel_zone_list_get(l, 3, NULL, NULL, &typed), "Amsterdam");
    assert_true(typed);
    assert_string_equal(stapel_zone_list_get(l, 5, NULL, NULL, NULL), "Amsterdam");
    stapel_zone_list_free(l);
    stapel_zone_list_free(NULL);
    assert_int_equal(stapel_zone_list_count(NULL), 0);
}

/* The hint among a list's zones knows the twin of the zone it keeps even
 * when the hint's own ranking passed that twin over: 'novex:x' keeps
 * province x, then NOVEX area X, of the type asked for, whose twin,
 * province X, was offered before and never compared with it. */
/* The list and the hint as both commands write them; a list cut to fit
 * names whole zones and counts the rest. */
static void test_zone_list_text(void **state)
{
    (void)state;
    stapel_zone_list *l = stapel_zone_list_new();
    assert_non_null(l);
    char *t = stapel_zone_list_text(l, SIZE_MAX);
    assert_string_equal(t, "none (no zone layers)");
    free(t);
    stapel_zone_hint none = {0}; /* an empty list keeps no hint (render without zone layers) */
    assert_true(stapel_zone_list_hint(l, "Total", &none));
    assert_int_equal(none.rank, 0);
    stapel_zone_hint_free(&none);
    assert_true(stapel_zone_list_add(l, "total", "total", true));
    assert_true(stapel_zone_list_add(l, "novex", "X", false));
    assert_true(stapel_zone_list_add(l, "province", "X", true));
    assert_true(stapel_zone_list_add(l, "province", "A, B", true));
    t = stapel_zone_list_text(l, SIZE_MAX);
    assert_string_equal(t, "'A, B' (province), 'province:X' (province), "
                           "'novex:X' (NOVEX, no area), 'total'");
    free(t);
    /* room for the first two and the count of the other two, not three */
    const char *two = "'A, B' (province), 'province:X' (province)";
    const char *more = ", and 2 more (stapel summary lists every zone)";
    size_t fit = strlen(two) + strlen(more);
    t = stapel_zone_list_text(l, fit);
    assert_non_null(t);
    assert_true(strlen(t) <= fit);
    assert_true(strncmp(t, two, strlen(two)) == 0);
    assert_string_equal(t + strlen(two), more);
    free(t);
    t = stapel_zone_list_text(l, fit - 1); /* one byte less: one zone fewer */
    assert_string_equal(t, "'A, B' (province), and 3 more (stapel summary lists every zone)");
    free(t);
    t = stapel_zone_list_text(l, 0); /* the first zone always */
    assert_string_equal(t, "'A, B' (province), and 3 more (stapel summary lists every zone)");
    free(t);
    stapel_zone_hint h = {0};
    t = stapel_zone_hint_text(&h);
    assert_string_equal(t, ""); /* none kept */
    free(t);
    assert_true(stapel_zone_list_hint(l, "novex:x", &h));
    t = stapel_zone_hint_text(&h);
    assert_string_equal(t, "'novex:X' (NOVEX, no area)");
    free(t);
    stapel_zone_hint_free(&h);
    assert_true(stapel_zone_list_hint(l, "total:Totl", &h));
    t = stapel_zone_hint_text(&h);
    assert_string_equal(t, "'total:total'");
    free(t);
    stapel_zone_hint_free(&h);
    stapel_zone_list_free(l);
    /* A name with an apostrophe in double quotes, as a shell takes it: the
     * quotes around each zone stay unambiguous; '"', '\', '$' and '`' in
     * it escaped, as within double quotes. */
    l = stapel_zone_list_new();
    assert_non_null(l);
    assert_true(stapel_zone_list_add(l, "province", "it's", true));
    assert_true(stapel_zone_list_add(l, "novex", "it's", false));
    assert_true(stapel_zone_list_add(l, "province", "a \"b\" $c\\d`e's", true));
    assert_true(stapel_zone_list_add(l, "province", "\"q\"", true));
    t = stapel_zone_list_text(l, SIZE_MAX);
    assert_string_equal(t, "'\"q\"' (province), \"a \\\"b\\\" \\$c\\\\d\\`e's\" (province), "
                           "\"province:it's\" (province), \"novex:it's\" (NOVEX, no area)");
    free(t);
    assert_true(stapel_zone_list_hint(l, "novex:its", &h));
    t = stapel_zone_hint_text(&h);
    assert_string_equal(t, "\"novex:it's\" (NOVEX, no area)");
    free(t);
    stapel_zone_hint_free(&h);
    stapel_zone_list_free(l);
    /* With a '!' too, which an interactive bash expands within double
     * quotes, in single quotes: 'it'\''s!', typed as the other zones. */
    l = stapel_zone_list_new();
    assert_non_null(l);
    assert_true(stapel_zone_list_add(l, "province", "it's!", true));
    assert_true(stapel_zone_list_add(l, "novex", "it's!", true));
    t = stapel_zone_list_text(l, SIZE_MAX);
    assert_string_equal(t, "'province:it'\\''s!' (province), 'novex:it'\\''s!' (NOVEX)");
    free(t);
    assert_true(stapel_zone_list_hint(l, "province:its!", &h));
    t = stapel_zone_hint_text(&h);
    assert_string_equal(t, "'province:it'\\''s!' (province)");
    free(t);
    stapel_zone_hint_free(&h);
    stapel_zone_list_free(l);
}

/* A --zone value echoed in a message is quoted as the lists quote a name:
 * 'X', or one with an apostrophe in double quotes, so that the quotes say
 * where it ends. */
static void test_zone_quote_text(void **state)
{
    (void)state;
    char *t = stapel_zone_quote_text("Utrecht");
    assert_string_equal(t, "'Utrecht'");
    free(t);
    t = stapel_zone_quote_text("province:A, B");
    assert_string_equal(t, "'province:A, B'");
    free(t);
    t = stapel_zone_quote_text("it'z");
    assert_string_equal(t, "\"it'z\"");
    free(t);
    t = stapel_zone_quote_text("a \"b\" $c\\d`e's");
    assert_string_equal(t, "\"a \\\"b\\\" \\$c\\\\d\\`e's\"");
    free(t);
    t = stapel_zone_quote_text("");
    assert_string_equal(t, "''");
    free(t);
    /* A '!' is only a '!' within single quotes, where an interactive bash
     * does not expand history: a name with a "'" and a '!' is written so,
     * each "'" closing the quotes, escaped, and opening them again. */
    t = stapel_zone_quote_text("wow!");
    assert_string_equal(t, "'wow!'");
    free(t);
    t = stapel_zone_quote_text("it's!x");
    assert_string_equal(t, "'it'\\''s!x'");
    free(t);
    t = stapel_zone_quote_text("'a \"b\" $c\\d`e!'");
    assert_string_equal(t, "''\\''a \"b\" $c\\d`e!'\\'''");
    free(t);
}

static void test_zone_list_hint(void **state)
{
    (void)state;
    stapel_zone_hint h = {0};
    assert_true(stapel_zone_hint_offer(&h, "novex:x", "province", "X", true));
    assert_true(stapel_zone_hint_offer(&h, "novex:x", "province", "x", true));
    assert_true(stapel_zone_hint_offer(&h, "novex:x", "novex", "X", true));
    assert_string_equal(h.type, "novex");
    assert_false(h.shared); /* the offers alone miss it */
    stapel_zone_hint_free(&h);
    stapel_zone_list *l = stapel_zone_list_new();
    assert_non_null(l);
    assert_true(stapel_zone_list_add(l, "province", "X", true));
    assert_true(stapel_zone_list_add(l, "province", "x", true));
    assert_true(stapel_zone_list_add(l, "novex", "X", true));
    assert_true(stapel_zone_list_hint(l, "novex:x", &h));
    assert_string_equal(h.type, "novex");
    assert_string_equal(h.name, "X");
    assert_true(h.shared);
    assert_true(h.typed);
    assert_string_equal(stapel_zone_hint_note(&h), "(case and spaces count)");
    stapel_zone_hint_free(&h);
    /* an untyped value near the province: 'province:X' names it alone */
    assert_true(stapel_zone_list_hint(l, "X ", &h));
    assert_string_equal(h.type, "province");
    assert_string_equal(h.name, "X");
    assert_true(h.typed);
    stapel_zone_hint_free(&h);
    /* no twin: as offered */
    assert_true(stapel_zone_list_hint(l, "x ", &h));
    assert_string_equal(h.name, "x");
    assert_false(h.shared);
    assert_false(h.typed);
    stapel_zone_hint_free(&h);
    stapel_zone_list_free(l);
}

/* A path given as NULL is refused, not read (it crashed in strncmp). */
static void test_ctx_null_paths_refused(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_run_info *ri = (stapel_run_info *)&ri;
    assert_int_equal(stapel_run_info_read(ctx, &ri, NULL), STAPEL_EINVAL);
    assert_null(ri);
    assert_non_null(strstr(stapel_ctx_message(ctx), "NULL"));
    stapel_summary *sm = (stapel_summary *)&sm;
    assert_int_equal(stapel_summary_read(ctx, &sm, NULL), STAPEL_EINVAL);
    assert_null(sm);
    assert_non_null(strstr(stapel_ctx_message(ctx), "NULL"));
    stapel_stack *s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_merge(ctx, &s, NULL, 2), STAPEL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(stapel_ctx_message(ctx), "NULL"));
    const char *parts[] = {"a.gpkg", NULL};
    assert_int_equal(stapel_stack_merge(ctx, &s, parts, 2), STAPEL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(stapel_ctx_message(ctx), "shard 2 of 2"));
    /* The context serves on after each. */
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, NULL), STAPEL_OK);
    assert_string_equal(stapel_ctx_message(ctx), "");
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
}

/* Negative threads are refused by stapel_stack_merge_write as they are by
 * stapel_job_new (they were taken for "one per core"). */
static void test_ctx_merge_negative_threads(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    const char *parts[] = {"/nonexistent/a.gpkg"};
    stapel_stack *s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_merge_write(ctx, &s, parts, 1, -1,
                                              STAPEL_TEST_SCRATCH "/ctx-merge-neg.gpkg", 0),
                     STAPEL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(stapel_ctx_message(ctx), "threads"));
    stapel_ctx_free(ctx);
}

/* Write flags this version does not know are refused, before any work and
 * with nothing written (they were ignored: a host built against a newer
 * stapel.h that asked for more got a plain write). */
static void test_ctx_unknown_write_flags(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_job *job = nature_job(&ctx);
    const char *gpkg = STAPEL_TEST_SCRATCH "/ctx-flags.gpkg";
    unlink(gpkg);
    const unsigned flags = STAPEL_WRITE_OVERWRITE | (1u << 7);
    stapel_stack *s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_build_write(ctx, &s, job, gpkg, flags), STAPEL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(stapel_ctx_message(ctx), "unknown write flags 0x80"));
    const char *parts[] = {"/nonexistent/a.gpkg"};
    s = (stapel_stack *)&s;
    assert_int_equal(stapel_stack_merge_write(ctx, &s, parts, 1, 0, gpkg, 1u << 31), STAPEL_EINVAL);
    assert_null(s);
    assert_non_null(strstr(stapel_ctx_message(ctx), "unknown write flags 0x80000000"));
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_OK);
    assert_int_equal(stapel_stack_write(ctx, s, gpkg, flags), STAPEL_EINVAL);
    assert_non_null(strstr(stapel_ctx_message(ctx), "unknown write flags 0x80"));
    struct stat sb;
    assert_int_not_equal(stat(gpkg, &sb), 0);
    assert_int_equal(stapel_stack_write(ctx, s, gpkg, STAPEL_WRITE_OVERWRITE), STAPEL_OK);
    assert_int_equal(stat(gpkg, &sb), 0);
    unlink(gpkg);
    stapel_stack_free(s);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

/* A snap grid that is not a finite number is refused when the job is made:
 * NaN passed the check for negatives and snapped nothing, infinity failed
 * in GEOS with a message about a scale factor. */
static void test_ctx_grid_not_finite(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    const double bad[] = {NAN, INFINITY};
    for (size_t i = 0; i < 2; i++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.grid = bad[i];
        stapel_job *job = (stapel_job *)&job;
        assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_EINVAL);
        assert_null(job);
        assert_non_null(strstr(stapel_ctx_message(ctx), "grid"));
    }
    stapel_ctx_free(ctx);
}

/* A shard is i/N with 1 <= i <= N, or 0/0 for the whole stack. A shard
 * index without a count (1/0: a host that forgot to set shard_count) was
 * taken for the whole stack without a word. */
static void test_ctx_shard_options(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    const int bad[][2] = {{1, 0}, {5, 0}, {-1, 0}, {3, 2}, {0, 2}, {-1, -1}, {0, -1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.shard_index = bad[i][0];
        o.shard_count = bad[i][1];
        stapel_job *job = (stapel_job *)&job;
        if (stapel_job_new(ctx, &job, &o) != STAPEL_EINVAL)
            fail_msg("shard %d/%d was taken", bad[i][0], bad[i][1]);
        assert_null(job);
        char want[64];
        snprintf(want, sizeof want, "bad shard %d/%d", bad[i][0], bad[i][1]);
        assert_non_null(strstr(stapel_ctx_message(ctx), want));
    }
    const int good[][2] = {{0, 0}, {1, 1}, {2, 3}, {3, 3}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.shard_index = good[i][0];
        o.shard_count = good[i][1];
        stapel_job *job = NULL;
        if (stapel_job_new(ctx, &job, &o) != STAPEL_OK)
            fail_msg("shard %d/%d: %s", good[i][0], good[i][1], stapel_ctx_message(ctx));
        stapel_job_free(job);
    }
    stapel_ctx_free(ctx);
}

/* A grid too fine or too coarse for the working CRS is refused when the
 * job is made, with the bounds in the message (a grid of 1e-300 was taken,
 * and the build then found every feature "far outside the area of the
 * working CRS"). */
static void test_ctx_grid_out_of_range(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    static const struct {
        const char *t_srs;
        double grid;
        const char *said;
    } bad[] = {
        {NULL, 1e-300, "too fine for the working CRS 'EPSG:28992'"},
        {NULL, 3e-6, "use a grid of at least 3.6e-06 m"},
        {NULL, 1e6, "too coarse for the working CRS 'EPSG:28992'"},
        {NULL, 1000, "use a grid of at most 3.3e+02 m"},
        {"EPSG:3035", 1e-5, "too fine for the working CRS 'EPSG:3035'"},
        {"+proj=tmerc +lon_0=5 +ellps=GRS80 +units=m", 1e-300, "states no area of use"},
        {"+proj=tmerc +lon_0=5 +ellps=GRS80 +units=m", 1e6, "too coarse"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.t_srs = bad[i].t_srs;
        o.grid = bad[i].grid;
        stapel_job *job = (stapel_job *)&job;
        assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_EINVAL);
        assert_null(job);
        if (strstr(stapel_ctx_message(ctx), bad[i].said) == NULL)
            fail_msg("grid %g: '%s' lacks '%s'", bad[i].grid, stapel_ctx_message(ctx), bad[i].said);
    }
    /* Just inside the bounds, on the demo's data. A grid that RD takes can be
     * too fine for EPSG:3035, whose area of use is larger. */
    static const struct {
        const char *t_srs;
        double grid;
    } good[] = {{NULL, 4e-6}, {NULL, 300}, {"EPSG:3035", 1e-4}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.t_srs = good[i].t_srs;
        o.grid = good[i].grid;
        stapel_job *job = NULL;
        assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
        assert_int_equal(
            stapel_job_add_layer(ctx, job, "nature", STAPEL_TESTDATA "/demo/nature.shp", NULL),
            STAPEL_OK);
        stapel_stack *s = NULL;
        if (stapel_stack_build(ctx, &s, job) != STAPEL_OK)
            fail_msg("grid %g: %s", good[i].grid, stapel_ctx_message(ctx));
        assert_true(stapel_stack_face_count(s) > 0);
        stapel_stack_free(s);
        stapel_job_free(job);
    }
    stapel_ctx_free(ctx);
}

/* The default 1 mm grid passes the grid check for every metric working CRS
 * a user might give: national and UTM grids, world-wide ones, CRSs whose
 * area of use crosses the antimeridian (NZ, Alaska) or lies round a pole,
 * a PROJ string, a WKT and an ESRI .prj file (no area of use). And a t_srs
 * that is unknown or not metric still makes a job: the build refuses it,
 * with the message it always gave. */
static void test_ctx_grid_default_fits_metric_crs(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    static const char *const ok[] = {
        "EPSG:28992",
        "EPSG:3035",
        "EPSG:25831",
        "EPSG:25832",
        "EPSG:32631",
        "EPSG:3857",
        "EPSG:2193",
        "EPSG:3338",
        "EPSG:3031",
        "EPSG:3413",
        "EPSG:4087",
        "+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 "
        "+x_0=155000 +y_0=463000 +ellps=bessel +units=m +no_defs",
        "PROJCS[\"ETRS89 / LAEA Europe\",GEOGCS[\"ETRS89\",DATUM[\"European_Terrestrial_"
        "Reference_System_1989\",SPHEROID[\"GRS 1980\",6378137,298.257222101]],PRIMEM["
        "\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Lambert_"
        "Azimuthal_Equal_Area\"],PARAMETER[\"latitude_of_center\",52],PARAMETER[\"longitude_"
        "of_center\",10],PARAMETER[\"false_easting\",4321000],PARAMETER[\"false_northing\","
        "3210000],UNIT[\"metre\",1]]",
        STAPEL_TESTDATA "/demo/nature.prj",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.t_srs = ok[i];
        stapel_job *job = NULL;
        if (stapel_job_new(ctx, &job, &o) != STAPEL_OK)
            fail_msg("t_srs '%s': %s", ok[i], stapel_ctx_message(ctx));
        stapel_job_free(job);
    }
    static const struct {
        const char *t_srs, *said;
    } later[] = {
        {"EPSG:999999", "unknown target CRS 'EPSG:999999' (--t_srs)"},
        {"no such crs", "unknown target CRS 'no such crs' (--t_srs)"},
        {"EPSG:4326", "working CRS 'EPSG:4326' is geographic"},
        {"EPSG:2263", "not metres"},
    };
    for (size_t i = 0; i < sizeof later / sizeof later[0]; i++) {
        stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
        o.t_srs = later[i].t_srs;
        stapel_job *job = NULL;
        if (stapel_job_new(ctx, &job, &o) != STAPEL_OK)
            fail_msg("t_srs '%s': %s", later[i].t_srs, stapel_ctx_message(ctx));
        assert_string_equal(stapel_ctx_message(ctx), "");
        assert_int_equal(
            stapel_job_add_layer(ctx, job, "nature", STAPEL_TESTDATA "/demo/nature.shp", NULL),
            STAPEL_OK);
        stapel_stack *s = NULL;
        assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_EINVAL);
        if (strstr(stapel_ctx_message(ctx), later[i].said) == NULL)
            fail_msg("t_srs '%s': '%s' lacks '%s'", later[i].t_srs, stapel_ctx_message(ctx),
                     later[i].said);
        stapel_job_free(job);
    }
    stapel_ctx_free(ctx);
}

/* Writing a stack or a picture to a directory says so, with or without
 * overwrite (without it, the message was "exists; use --overwrite", which
 * then failed anyway). */
static void test_ctx_write_to_directory(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_job *job = nature_job(&ctx);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_OK);
    for (unsigned flags = 0; flags <= STAPEL_WRITE_OVERWRITE; flags++) {
        assert_int_equal(stapel_stack_write(ctx, s, STAPEL_TEST_SCRATCH, flags), STAPEL_EINVAL);
        assert_non_null(strstr(stapel_ctx_message(ctx), "is a directory"));
    }
    const char *gpkg = STAPEL_TEST_SCRATCH "/ctx-dir.gpkg";
    assert_int_equal(stapel_stack_write(ctx, s, gpkg, STAPEL_WRITE_OVERWRITE), STAPEL_OK);
    for (int ow = 0; ow <= 1; ow++) {
        stapel_render_opts ro = STAPEL_RENDER_OPTS_INIT;
        ro.overwrite = ow != 0;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/ctx-dir.png", STAPEL_TEST_SCRATCH);
        mkdir(dir, 0755);
        assert_int_equal(stapel_render(ctx, NULL, gpkg, dir, &ro), STAPEL_EINVAL);
        assert_non_null(strstr(stapel_ctx_message(ctx), "is a directory"));
    }
    stapel_stack_free(s);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_kinds),
        cmocka_unit_test(test_ctx_lifecycle),
        cmocka_unit_test(test_ctx_status_names),
        cmocka_unit_test(test_ctx_failure_names_subject),
        cmocka_unit_test(test_ctx_long_message_stays_utf8),
        cmocka_unit_test(test_ctx_cancel_stops_build),
        cmocka_unit_test(test_ctx_cancel_clear_reuses_context),
        cmocka_unit_test(test_ctx_null_handles),
        cmocka_unit_test(test_zone_name_equal),
        cmocka_unit_test(test_zone_name_near),
        cmocka_unit_test(test_zone_wanted),
        cmocka_unit_test(test_zone_name_rank),
        cmocka_unit_test(test_zone_hint),
        cmocka_unit_test(test_zone_hint_other_type),
        cmocka_unit_test(test_zone_list),
        cmocka_unit_test(test_zone_list_hint),
        cmocka_unit_test(test_zone_list_text),
        cmocka_unit_test(test_zone_quote_text),
        cmocka_unit_test(test_ctx_null_paths_refused),
        cmocka_unit_test(test_ctx_merge_negative_threads),
        cmocka_unit_test(test_ctx_unknown_write_flags),
        cmocka_unit_test(test_ctx_shard_options),
        cmocka_unit_test(test_ctx_grid_not_finite),
        cmocka_unit_test(test_ctx_grid_out_of_range),
        cmocka_unit_test(test_ctx_grid_default_fits_metric_crs),
        cmocka_unit_test(test_ctx_write_to_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
