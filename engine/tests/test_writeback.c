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
     * name starts with ".writeback.gpkg." (temp_path_for in write.c). */
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

    stapel__out_close(out, true);
    stapel_stack_free(s);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writeback_keeps_sqlite_locks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
