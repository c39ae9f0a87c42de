/*
 * test_writeback.c - the early disk writes of the temporary output
 * (stapel__out_writeback in write.c) must leave SQLite's locks on it alone.
 *
 * POSIX drops every lock a process holds on a file when any descriptor of
 * that file is closed, and SQLite keeps its locks as POSIX locks: a
 * writeback that opened and closed the file while the writer's SQLite
 * connection was in a transaction took that connection's locks away, so
 * another process could write the file under it ("How To Corrupt An SQLite
 * Database File", 2.2). Here a connection of this process holds the file in
 * an exclusive transaction while the writeback runs, and another process
 * (python3's sqlite3, a process of its own, not a fork sharing SQLite's
 * state) must still find the file locked.
 */
#include "fixture.h"
#include "pipeline.h"
#include "stapel.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sqlite3.h>

/* 0 when another process finds path locked, 1 when it could take a write
 * lock, else the failure of the check itself. */
static int locked_elsewhere(const char *path)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sqlite3, sys\n"
             "c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
             "try:\n"
             "    c.execute(\"BEGIN IMMEDIATE\")\n"
             "except sqlite3.OperationalError as e:\n"
             "    sys.exit(0 if \"locked\" in str(e) else 3)\n"
             "sys.exit(1)' '%s'",
             path);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 4;
}

static void test_writeback_keeps_sqlite_locks(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_job *job = NULL;
    stapel_stack_opts o = STAPEL_STACK_OPTS_INIT;
    o.threads = 1;
    assert_int_equal(stapel_job_new(ctx, &job, &o), STAPEL_OK);
    assert_int_equal(
        stapel_job_add_layer(ctx, job, "nature", STAPEL_TESTDATA "/demo/nature.shp", NULL),
        STAPEL_OK);
    stapel_stack *s = NULL;
    assert_int_equal(stapel_stack_build(ctx, &s, job), STAPEL_OK);

    const char *path = STAPEL_TEST_SCRATCH "/writeback.gpkg";
    remove(path);
    stapel__out *out = NULL;
    assert_int_equal(stapel__out_open(ctx, &out, s, path, 0), STAPEL_OK);
    /* The temporary file: the one GeoPackage in the scratch directory whose
     * name starts with ".writeback.gpkg." (stapel__temp_path in publish.c). */
    char tmp[1024];
    FILE *ls = popen(
        "ls -a '" STAPEL_TEST_SCRATCH "' | grep '^\\.writeback\\.gpkg\\..*\\.tmp\\.gpkg$'", "r");
    assert_non_null(ls);
    char name[512] = "";
    assert_non_null(fgets(name, sizeof name, ls));
    pclose(ls);
    name[strcspn(name, "\n")] = '\0';
    snprintf(tmp, sizeof tmp, "%s/%s", STAPEL_TEST_SCRATCH, name);

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(tmp, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(locked_elsewhere(tmp), 0); /* the check itself works */
    stapel__out_writeback(out);
    stapel__out_writeback(out);
    assert_int_equal(locked_elsewhere(tmp), 0);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    stapel__out_close(ctx, out, STAPEL_ECANCELLED); /* discarded */
    stapel_stack_free(s);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

/* Whether t is prefix, the process id, '.', a count and suffix. */
static bool temp_name_is(const char *t, const char *prefix, const char *suffix)
{
    char head[64];
    snprintf(head, sizeof head, "%s.%ld.", prefix, (long)getpid());
    size_t h = strlen(head), n = strlen(t), k = strlen(suffix);
    if (n <= h + k || strncmp(t, head, h) != 0 || strcmp(t + n - k, suffix) != 0)
        return false;
    for (size_t i = h; i < n - k; i++)
        if (t[i] < '0' || t[i] > '9')
            return false;
    return true;
}

/* The temporary name of an output: next to it, and short enough for a file
 * system's 255 bytes (with room for SQLite's "-journal") when the output's
 * name is; a long name is cut between UTF-8 characters, and two long names
 * that differ only past the cut get two temporary names. Two calls for one
 * path get two names: two threads of a program that write the same output
 * at once each wrote into, removed and renamed the other's file. */
static void test_temp_path(void **state)
{
    (void)state;
    char *t = stapel__temp_path("dir/out.gpkg", ".tmp.gpkg");
    if (!temp_name_is(t, "dir/.out.gpkg", ".tmp.gpkg"))
        fail_msg("%s is not dir/.out.gpkg.PID.N.tmp.gpkg", t);
    char *again = stapel__temp_path("dir/out.gpkg", ".tmp.gpkg");
    assert_string_not_equal(t, again);
    free(again);
    free(t);
    t = stapel__temp_path("out.gpkg", ".tmp");
    if (!temp_name_is(t, ".out.gpkg", ".tmp"))
        fail_msg("%s is not .out.gpkg.PID.N.tmp", t);
    free(t);

    char a[300], b[300];
    for (int shift = 0; shift < 2; shift++) { /* the cut on either byte of an 'é' */
        size_t n = 0;
        a[n++] = '/';
        for (int i = 0; i < shift; i++)
            a[n++] = 'x';
        while (n < 240) {
            a[n++] = (char)0xC3;
            a[n++] = (char)0xA9;
        }
        snprintf(a + n, sizeof a - n, "1.gpkg");
        memcpy(b, a, sizeof b);
        b[n] = '2';
        char *ta = stapel__temp_path(a, ".tmp.gpkg"), *tb = stapel__temp_path(b, ".tmp.gpkg");
        assert_non_null(ta);
        assert_non_null(tb);
        assert_int_equal(ta[0], '/');
        assert_int_equal(ta[1], '.');
        assert_true(strlen(ta + 1) <= 255 - 16);
        assert_true(strlen(ta + 1) > 200);
        assert_true(fixture_whole_utf8(ta, strlen(ta)));
        assert_string_not_equal(ta, tb);
        free(ta);
        free(tb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_temp_path),
        cmocka_unit_test(test_writeback_keeps_sqlite_locks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
