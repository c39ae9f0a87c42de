/*
 * test_rules.c - reading rules: the built-in matrix, lookups in both orders,
 * and every refusal naming the file and the line.
 */
#include "stapel.h"
#include "locales.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <locale.h>

static const char *write_csv(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", STAPEL_TEST_SCRATCH, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_rules_builtin_matrix(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, NULL), STAPEL_OK);
    /* 10 NOVEX themes: every one of the 45 pairs is rated. */
    assert_int_equal(stapel_rules_count(r), 45);
    assert_int_equal(stapel_rules_theme_count(r), 10);
    const char *note = NULL;
    assert_int_equal(stapel_rules_verdict(r, "housing", "nature", &note), STAPEL_VERDICT_CONFLICT);
    assert_non_null(note);
    assert_int_equal(stapel_rules_verdict(r, "nature", "housing", NULL), STAPEL_VERDICT_CONFLICT);
    assert_int_equal(stapel_rules_verdict(r, "solar", "agri", NULL), STAPEL_VERDICT_CONDITIONAL);
    assert_int_equal(stapel_rules_verdict(r, "water", "nature", NULL), STAPEL_VERDICT_COMPATIBLE);
    assert_int_equal(stapel_rules_verdict(r, "wind", "wind", NULL), STAPEL_VERDICT_SINGLE);
    assert_int_equal(stapel_rules_verdict(r, "wind", "mining", NULL), STAPEL_VERDICT_UNRATED);
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
}

/* The built-in rules as CSV text, for a library user who has no copy of
 * docs/rules/novex-default.csv to start a rules file from: read back
 * through a file, the text gives the built-in rules. Checked against the
 * source file itself, parsed here (its themes and verdicts hold no quotes
 * or commas): every pair it lists has its verdict in both, and no more. */
static void test_rules_builtin_csv_reads_back(void **state)
{
    (void)state;
    const char *text = stapel_rules_builtin_csv();
    assert_non_null(text);
    assert_ptr_equal(stapel_rules_builtin_csv(), text);
    assert_int_equal(strncmp(text, "theme_a,theme_b,verdict", 23), 0);

    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    stapel_rules *builtin = NULL, *back = NULL;
    assert_int_equal(stapel_rules_read(ctx, &builtin, NULL), STAPEL_OK);
    assert_int_equal(stapel_rules_read(ctx, &back, write_csv("builtin-copy.csv", text)), STAPEL_OK);
    assert_int_equal(stapel_rules_count(back), 45);
    assert_int_equal(stapel_rules_count(back), stapel_rules_count(builtin));
    assert_int_equal(stapel_rules_theme_count(back), 10);

    FILE *f = fopen(STAPEL_TESTDATA "/../docs/rules/novex-default.csv", "r");
    assert_non_null(f);
    char line[1024];
    size_t n = 0;
    static const char *verdicts[] = {"single", "compatible", "unrated", "conditional", "conflict"};
    assert_non_null(fgets(line, sizeof line, f)); /* the header */
    while (fgets(line, sizeof line, f) != NULL) {
        char *a = strtok(line, ","), *b = strtok(NULL, ","), *v = strtok(NULL, ",\r\n");
        assert_non_null(v);
        int want = 0;
        while (want < 5 && strcmp(verdicts[want], v) != 0)
            want++;
        assert_in_range(want, STAPEL_VERDICT_COMPATIBLE, STAPEL_VERDICT_CONFLICT);
        assert_int_equal(stapel_rules_verdict(back, a, b, NULL), (stapel_verdict)want);
        assert_int_equal(stapel_rules_verdict(back, b, a, NULL), (stapel_verdict)want);
        assert_int_equal(stapel_rules_verdict(builtin, a, b, NULL), (stapel_verdict)want);
        n++;
    }
    fclose(f);
    assert_int_equal(n, 45);
    /* Same notes, too: the copy loses nothing a user would start from. */
    const char *n1 = NULL, *n2 = NULL;
    stapel_rules_verdict(builtin, "agri", "solar", &n1);
    stapel_rules_verdict(back, "agri", "solar", &n2);
    assert_non_null(n1);
    assert_non_null(n2);
    assert_string_equal(n1, n2);
    stapel_rules_free(back);
    stapel_rules_free(builtin);
    stapel_ctx_free(ctx);
}

static void expect_refusal(const char *name, const char *text, const char *needle)
{
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    const char *path = write_csv(name, text);
    stapel_rules *r = (stapel_rules *)&r;
    stapel_status st = stapel_rules_read(ctx, &r, path);
    if (st == STAPEL_OK || strstr(stapel_ctx_message(ctx), needle) == NULL ||
        strstr(stapel_ctx_message(ctx), name) == NULL)
        fail_msg("%s: status %d, message '%s', wanted '%s'", name, st, stapel_ctx_message(ctx),
                 needle);
    assert_null(r);
    stapel_ctx_free(ctx);
}

/* Each verdict has its name; a value that is none of them is "invalid",
 * never passed off as a real verdict ("unrated" it was) nor NULL. */
static void test_rules_verdict_names(void **state)
{
    (void)state;
    assert_string_equal(stapel_verdict_name(STAPEL_VERDICT_SINGLE), "single");
    assert_string_equal(stapel_verdict_name(STAPEL_VERDICT_COMPATIBLE), "compatible");
    assert_string_equal(stapel_verdict_name(STAPEL_VERDICT_UNRATED), "unrated");
    assert_string_equal(stapel_verdict_name(STAPEL_VERDICT_CONDITIONAL), "conditional");
    assert_string_equal(stapel_verdict_name(STAPEL_VERDICT_CONFLICT), "conflict");
    assert_string_equal(stapel_verdict_name((stapel_verdict)(STAPEL_VERDICT_CONFLICT + 1)),
                        "invalid");
    assert_string_equal(stapel_verdict_name((stapel_verdict)-1), "invalid");
    assert_string_equal(stapel_verdict_name((stapel_verdict)999), "invalid");
}

static void test_rules_refusals_name_file_and_line(void **state)
{
    (void)state;
    expect_refusal("verdict.csv",
                   "theme_a,theme_b,verdict\nnature,housing,conflict\nnature,wind,maybe\n",
                   "verdict.csv:3: unknown verdict 'maybe'");
    expect_refusal("column.csv", "theme_a,theme_b,oordeel\nnature,housing,conflict\n",
                   "column.csv:1: missing column 'verdict'");
    expect_refusal("twice.csv",
                   "theme_a,theme_b,verdict\nnature,housing,conflict\nwind,solar,compatible\n"
                   "housing,nature,compatible\n",
                   "twice.csv:4: pair housing\xc3\x97nature is compatible here but conflict on line 2");
    expect_refusal("self.csv", "theme_a,theme_b,verdict\nwind,wind,conflict\n",
                   "self.csv:2: theme 'wind' is rated against itself");
    /* a row that stops short of the verdict said "unknown verdict ''" */
    expect_refusal("short.csv", "theme_a,theme_b,verdict\nnature,water\n",
                   "short.csv:2: no verdict (the verdict column is empty); give conflict");
    /* the first of two verdict columns was taken without a word */
    expect_refusal("double.csv", "theme_a,theme_b,verdict,Verdict\nnature,water,conflict,kans\n",
                   "double.csv:1: the header names column 'verdict' 2 times; name it once");
    /* GDAL opens no CSV that starts with an empty line ("not a CSV file"),
     * and takes a line of spaces for a header without theme_a */
    expect_refusal("empty-first.csv", "\ntheme_a,theme_b,verdict\nnature,water,conflict\n",
                   "empty-first.csv:1: the line is empty; the first line must be the header "
                   "theme_a,theme_b,verdict");
    expect_refusal("blank-first.csv", " \t \r\ntheme_a,theme_b,verdict\r\n",
                   "blank-first.csv:1: the line is blank; the first line must be the header");
    /* a file of another format was refused for a header without theme_a */
    expect_refusal("rules.geojson", "{\"type\": \"FeatureCollection\", \"features\": []}\n",
                   "rules.geojson': GDAL reads it as GeoJSON (driver GeoJSON), not as CSV");
    expect_refusal("empty.csv", "", "empty.csv: the file is empty; the first line must be");
    expect_refusal("bom-only.csv", "\xef\xbb\xbf", "bom-only.csv: the file is empty");
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    stapel_rules *r = (stapel_rules *)&r;
    assert_int_equal(stapel_rules_read(ctx, &r, "/nonexistent/rules.csv"), STAPEL_EIO);
    assert_null(r);
    assert_non_null(strstr(stapel_ctx_message(ctx), "/nonexistent/rules.csv"));
    stapel_ctx_free(ctx);
}

/* GDAL's CSV driver drops the fields of a row past the header's without a
 * word: a note with an unquoted separator in it lost its tail. Fields past
 * the header that hold nothing (Excel pads rows so) and comments are fine. */
static void test_rules_more_fields_than_the_header(void **state)
{
    (void)state;
    expect_refusal("comma.csv",
                   "theme_a,theme_b,verdict,note\nnature,water,compatible,\n"
                   "housing,nature,conflict,No homes, no roads\n",
                   "comma.csv:3: 5 fields, but the header has 4 columns; a note that holds ',' "
                   "must be in double quotes");
    expect_refusal("nonote.csv", "theme_a,theme_b,verdict\nhousing,nature,conflict,why\n",
                   "nonote.csv:2: 4 fields, but the header has 3 columns");
    expect_refusal("long.csv",
                   "theme_a,theme_b,verdict,note\r\nhousing,nature,conflict,\"a\r\nb, c\",d\r\n",
                   "long.csv:2: 5 fields");
    expect_refusal("semicolon.csv",
                   "theme_a;theme_b;verdict;note\nhousing;nature;conflict;geen; nooit\n",
                   "semicolon.csv:2: 5 fields, but the header has 4 columns; a note that holds "
                   "';' must be");
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    stapel_rules *r = NULL;
    const char *path = write_csv("padded.csv", "theme_a,theme_b,verdict,note,\n"
                                               "# a comment, with, commas, in, it, all, right\n"
                                               "housing,nature,conflict,\"No homes, no roads\",\n"
                                               "nature;water,x,compatible,,, ,\n");
    /* the separator is the header's: ';' in a comma file is text, and a bad
     * theme here */
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_EDATA);
    assert_non_null(strstr(stapel_ctx_message(ctx), "padded.csv:4: bad theme 'nature;water'"));
    path = write_csv("padded.csv", "theme_a,theme_b,verdict,note,\n"
                                   "# a comment, with, commas, in, it, all, right\n"
                                   "housing,nature,conflict,\"No homes, no roads\",\n"
                                   "nature,water,compatible,,, ,\n,,,,,,\n");
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_OK);
    const char *note = NULL;
    assert_int_equal(stapel_rules_verdict(r, "nature", "housing", &note), STAPEL_VERDICT_CONFLICT);
    assert_string_equal(note, "No homes, no roads");
    assert_int_equal(stapel_rules_count(r), 2);
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
}

/* GDAL's CSV driver skips empty lines and returns a quoted note over
 * several lines as one row, so a row's FID is not its line. */
static void test_rules_lines_count_blank_lines_and_long_notes(void **state)
{
    (void)state;
    expect_refusal(
        "lines.csv",
        "theme_a,theme_b,verdict,note\n"
        "housing,nature,conflict,\"Line one\nline two\n\nline \"\"four\"\"\"\n"
        "\n\n"
        "nature,housing,compatible,\n",
        "lines.csv:8: pair housing\xc3\x97nature is compatible here but conflict on line 2");
    expect_refusal("blank.csv",
                   "theme_a,theme_b,verdict\n\nhousing,nature,conflict\n\nnature,water,maybe\n",
                   "blank.csv:5: unknown verdict 'maybe'");
    expect_refusal("crlf.csv",
                   "theme_a,theme_b,verdict,note\r\n\r\n"
                   "housing,nature,conflict,\"a\r\nb\"\r\n\r\n"
                   "nature,water,maybe,\r\n",
                   "crlf.csv:6: unknown verdict 'maybe'");
    expect_refusal("cr.csv",
                   "theme_a,theme_b,verdict,note\r\r"
                   "housing,nature,conflict,\"a\rb\"\r\r"
                   "nature,water,maybe,\r",
                   "cr.csv:6: unknown verdict 'maybe'");
    /* A line of only separators is a row to GDAL, and blank to stapel. */
    expect_refusal("commas.csv", "\xef\xbb\xbftheme_a,theme_b,verdict\n,,\n\nnature,water,maybe\n",
                   "commas.csv:4: unknown verdict 'maybe'");
}

/* Warnings of a reading, one a line. */
static void keep_warnings(void *user, stapel_log_level level, const char *message)
{
    char *kept = user;
    if (level == STAPEL_LOG_WARN && strlen(kept) + strlen(message) + 2 < 4096) {
        strcat(kept, message);
        strcat(kept, "\n");
    }
}

/* Excel in the Netherlands saves CSV as Windows-1252; a GeoPackage holds
 * UTF-8. The note is read as Windows-1252, with one warning for the file. */
static void test_rules_windows_1252_is_read_as_such(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    char warnings[4096] = "";
    stapel_ctx_set_log(ctx, keep_warnings, warnings);
    const char *path = write_csv("cp1252.csv", "theme_a;theme_b;verdict;note\r\n\r\n"
                                               "housing;nature;conflict;Geen woningen in \xe9\xe9n "
                                               "Natura 2000-gebied\r\n"
                                               "nature;water;compatible;Caf\xe9 \x80 5\r\n");
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_OK);
    const char *note = NULL;
    stapel_rules_verdict(r, "nature", "housing", &note);
    assert_string_equal(note, "Geen woningen in \xc3\xa9\xc3\xa9n Natura 2000-gebied");
    stapel_rules_verdict(r, "nature", "water", &note);
    assert_string_equal(note, "Caf\xc3\xa9 \xe2\x82\xac 5");
    assert_non_null(strstr(warnings, "cp1252.csv:3: text is not UTF-8; read as Windows-1252: "
                                     "'Geen woningen in \xc3\xa9\xc3\xa9n Natura 2000-gebied'"));
    const char *first = strstr(warnings, "not UTF-8");
    assert_null(strstr(first + 1, "not UTF-8")); /* once for the file */
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
}

/* A line whose first field starts with '#' (after spaces, if any) is a
 * comment, whatever it holds; a line of spaces or of separators is blank. */
static void test_rules_comments_and_blank_lines(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    char warnings[4096] = "";
    stapel_ctx_set_log(ctx, keep_warnings, warnings);
    const char *path = write_csv("comments.csv", "theme_a,theme_b,verdict,note\n"
                                                 "# Province of Utrecht, draft 2\n"
                                                 "nature,housing,conflict,\n"
                                                 "#nature,housing,compatible,an old verdict\n"
                                                 "# caf\xe9, \"a quote\", no verdict\n"
                                                 "   \n"
                                                 " , ,\n"
                                                 "  # indented, no verdict\n"
                                                 "\t#nature,water,conflict\n"
                                                 "nature,water,compatible,\n");
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_OK);
    assert_int_equal(stapel_rules_count(r), 2);
    assert_int_equal(stapel_rules_verdict(r, "nature", "housing", NULL), STAPEL_VERDICT_CONFLICT);
    assert_string_equal(warnings, "");
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
    /* GDAL takes the first line for the header, a comment too. */
    expect_refusal("comment-first.csv", "# rules\ntheme_a,theme_b,verdict\nnature,water,conflict\n",
                   "comment-first.csv:1: a comment before the header");
    expect_refusal("comment-first-indented.csv",
                   "  # rules\ntheme_a,theme_b,verdict\nnature,water,conflict\n",
                   "comment-first-indented.csv:1: a comment before the header");
}

/* A file typed by hand or saved from a spreadsheet: spaces after the
 * commas and capitalised verdicts. ' water' was refused as a bad theme and
 * 'Conflict' as an unknown verdict. A note keeps its spaces. */
static void test_rules_spaces_and_capitals(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    const char *path = write_csv("typed.csv", "theme_a, theme_b, verdict, note\n"
                                              "nature, housing, Conflict,\" no homes \"\n"
                                              "\tnature ,water,COMPATIBLE\t,\n"
                                              "agri,solar, conditional ,\n");
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_OK);
    assert_int_equal(stapel_rules_count(r), 3);
    const char *note = NULL;
    assert_int_equal(stapel_rules_verdict(r, "housing", "nature", &note), STAPEL_VERDICT_CONFLICT);
    assert_string_equal(note, " no homes ");
    assert_int_equal(stapel_rules_verdict(r, "water", "nature", NULL), STAPEL_VERDICT_COMPATIBLE);
    assert_int_equal(stapel_rules_verdict(r, "solar", "agri", NULL), STAPEL_VERDICT_CONDITIONAL);
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
    /* A space inside a theme is still no theme. */
    expect_refusal("inner-space.csv", "theme_a,theme_b,verdict\nnature,open water,conflict\n",
                   "inner-space.csv:2: bad theme 'open water'");
}

/* GDAL's CSV driver opens a directory as one table per *.csv in it: the
 * verdicts would come from whichever file it lists first. */
static void test_rules_refuses_a_directory(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/rules-dir", STAPEL_TEST_SCRATCH);
    mkdir(dir, 0755);
    write_csv("rules-dir/a.csv", "theme_a,theme_b,verdict\nnature,housing,compatible\n");
    write_csv("rules-dir/b.csv", "theme_a,theme_b,verdict\nnature,housing,conflict\n");
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    stapel_rules *r = (stapel_rules *)&r;
    assert_int_equal(stapel_rules_read(ctx, &r, dir), STAPEL_EIO);
    assert_null(r);
    assert_non_null(strstr(stapel_ctx_message(ctx), dir));
    assert_non_null(strstr(stapel_ctx_message(ctx), "is a directory"));
    stapel_ctx_free(ctx);
}

static void test_rules_same_pair_twice_same_verdict(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    stapel_rules *r = NULL;
    const char *path = write_csv("dup.csv", "theme_a,theme_b,verdict,note\n"
                                            "nature,housing,conflict,\"quoted, with comma\"\n"
                                            "housing,nature,conflict,\n");
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_OK);
    assert_int_equal(stapel_rules_count(r), 1);
    const char *note = NULL;
    stapel_rules_verdict(r, "nature", "housing", &note);
    assert_string_equal(note, "quoted, with comma");
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
}

/* The first note of a pair counts; a different one later warns that it is
 * ignored. The same note again, or none, is harmless. */
static void test_rules_same_pair_twice_other_note_warns(void **state)
{
    (void)state;
    stapel_ctx *ctx = NULL;
    stapel_ctx_new(&ctx);
    char warnings[4096] = "";
    stapel_ctx_set_log(ctx, keep_warnings, warnings);
    const char *path = write_csv("notes.csv", "theme_a,theme_b,verdict,note\n"
                                              "nature,housing,conflict,No homes in Natura 2000\n"
                                              "housing,nature,conflict,No homes in Natura 2000\n"
                                              "housing,nature,conflict,\n"
                                              "\n"
                                              "housing,nature,conflict,Homes only outside\n"
                                              "nature,water,compatible,\n"
                                              "water,nature,compatible,Wetter nature\n");
    stapel_rules *r = NULL;
    assert_int_equal(stapel_rules_read(ctx, &r, path), STAPEL_OK);
    const char *note = NULL;
    stapel_rules_verdict(r, "nature", "housing", &note);
    assert_string_equal(note, "No homes in Natura 2000");
    const char *first = strstr(warnings, "notes.csv:6: pair housing\xc3\x97nature is also "
                                         "conflict on line 2, with another note; the note here "
                                         "is ignored\n");
    assert_non_null(first);
    const char *second = strstr(first, "notes.csv:8: pair nature\xc3\x97water is also "
                                       "compatible on line 7, with another note; the note here "
                                       "is ignored\n");
    assert_non_null(second);
    int n_warnings = 0;
    for (const char *c = warnings; *c != '\0'; c++)
        n_warnings += *c == '\n';
    assert_int_equal(n_warnings, 2);
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
}

/* A theme is ASCII letters, digits, '_' and '-' whatever locale the program
 * has set: in a Latin-1 locale isalnum() takes the byte 0xE9 (e acute) and
 * the bytes of some UTF-8 letters for letters, and such a theme went into
 * the GeoPackage as text that is not UTF-8. Skipped where no Latin-1 locale
 * is installed. */
static void test_rules_themes_ascii_in_any_locale(void **state)
{
    (void)state;
    static const char *const latin1[] = {"nl_NL.ISO-8859-1", "nl_NL.iso88591", "nl_NL",
                                         "de_DE.ISO-8859-1", "de_DE.iso88591", "de_DE",
                                         "en_US.ISO-8859-1", "en_US.iso88591", "en_US"};
    bool set = false;
    for (size_t i = 0; i < sizeof latin1 / sizeof latin1[0] && !set; i++)
        set = setlocale(LC_CTYPE, latin1[i]) != NULL && isalnum(0xE9);
    if (!set) {
        setlocale(LC_CTYPE, "C");
        skip();
    }
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_job *job = NULL;
    assert_int_equal(stapel_job_new(ctx, &job, NULL), STAPEL_OK);
    /* "natuur" and e acute in Latin-1; I with macron in UTF-8 (C4 AA: both
     * bytes are letters in Latin-1). */
    static const char *const bad[] = {"natuur\xe9", "\xc4\xaa"};
    for (size_t i = 0; i < 2; i++) {
        stapel_status st = stapel_job_add_layer(ctx, job, bad[i], "x.shp", NULL);
        if (st != STAPEL_EINVAL)
            fail_msg("theme %zu taken: status %d (%s)", i, st, stapel_ctx_message(ctx));
        assert_non_null(strstr(stapel_ctx_message(ctx), "bad theme"));
    }
    stapel_job_free(job);
    stapel_rules *r = NULL;
    stapel_status st = stapel_rules_read(
        ctx, &r,
        write_csv("latin1-locale.csv", "theme_a,theme_b,verdict\n\xc4\xaa,water,conflict\n"));
    setlocale(LC_CTYPE, "C");
    if (st != STAPEL_EDATA)
        fail_msg("rules theme taken: status %d (%s)", st, stapel_ctx_message(ctx));
    assert_null(r);
    assert_non_null(strstr(stapel_ctx_message(ctx), "bad theme"));
    stapel_ctx_free(ctx);
}

/* A verdict is read in any case whatever locale the program has set: in a
 * Turkish one strcasecmp() does not take 'I' for a capital 'i', and
 * 'CONFLICT', 'CONDITIONAL' and 'COMPATIBLE' were unknown verdicts. Skipped
 * where no Turkish locale is installed. */
static void test_rules_verdict_case_in_a_turkish_locale(void **state)
{
    (void)state;
    if (!test_locale_turkish())
        skip();
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_rules *r = NULL;
    stapel_status st = stapel_rules_read(
        ctx, &r,
        write_csv("turkish-locale.csv", "theme_a,theme_b,verdict\nnature,housing,CONFLICT\n"
                                        "agri,solar,CONDITIONAL\nnature,water,COMPATIBLE\n"));
    setlocale(LC_CTYPE, "C");
    if (st != STAPEL_OK)
        fail_msg("status %d (%s)", st, stapel_ctx_message(ctx));
    assert_int_equal(stapel_rules_verdict(r, "housing", "nature", NULL), STAPEL_VERDICT_CONFLICT);
    assert_int_equal(stapel_rules_verdict(r, "solar", "agri", NULL), STAPEL_VERDICT_CONDITIONAL);
    assert_int_equal(stapel_rules_verdict(r, "water", "nature", NULL), STAPEL_VERDICT_COMPATIBLE);
    stapel_rules_free(r);
    stapel_ctx_free(ctx);
}

/* A message is English throughout whatever locale the host program has set:
 * the C library's words for an error (strerror) came in the host's
 * language, "cannot read rules 'x': Bestand of map bestaat niet" in a
 * Dutch one. Skipped where no Dutch locale or translation is installed. */
static void test_rules_error_text_english_in_a_dutch_locale(void **state)
{
    (void)state;
    if (!test_locale_dutch_messages())
        skip();
    stapel_ctx *ctx = NULL;
    assert_int_equal(stapel_ctx_new(&ctx), STAPEL_OK);
    stapel_rules *r = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/no-such-rules.csv", STAPEL_TEST_SCRATCH);
    remove(path);
    stapel_status st = stapel_rules_read(ctx, &r, path);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", stapel_ctx_message(ctx));
    setlocale(LC_ALL, "C");
    stapel_ctx_free(ctx);
    assert_int_equal(st, STAPEL_EIO);
    assert_null(r);
    char want[1024];
    snprintf(want, sizeof want, "cannot read rules '%s': No such file or directory", path);
    assert_string_equal(msg, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_builtin_matrix),
        cmocka_unit_test(test_rules_builtin_csv_reads_back),
        cmocka_unit_test(test_rules_themes_ascii_in_any_locale),
        cmocka_unit_test(test_rules_verdict_names),
        cmocka_unit_test(test_rules_refusals_name_file_and_line),
        cmocka_unit_test(test_rules_more_fields_than_the_header),
        cmocka_unit_test(test_rules_lines_count_blank_lines_and_long_notes),
        cmocka_unit_test(test_rules_windows_1252_is_read_as_such),
        cmocka_unit_test(test_rules_comments_and_blank_lines),
        cmocka_unit_test(test_rules_spaces_and_capitals),
        cmocka_unit_test(test_rules_verdict_case_in_a_turkish_locale),
        cmocka_unit_test(test_rules_refuses_a_directory),
        cmocka_unit_test(test_rules_same_pair_twice_same_verdict),
        cmocka_unit_test(test_rules_same_pair_twice_other_note_warns),
        cmocka_unit_test(test_rules_error_text_english_in_a_dutch_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
