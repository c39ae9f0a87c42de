/*
 * test_ctx.c - the context: lifecycle, status names, and the message
 * contract (cleared on entry, set on failure, naming its subject).
 */
#include "stapel.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, NULL), STAPEL_OK);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "nature", STAPEL_TESTDATA "/demo/nature.shp", NULL),
        STAPEL_OK);
    stapel_ctx_cancel(ctx);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_ECANCELLED);
    assert_null(s);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctx_lifecycle),
        cmocka_unit_test(test_ctx_status_names),
        cmocka_unit_test(test_ctx_failure_names_subject),
        cmocka_unit_test(test_ctx_cancel_stops_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
