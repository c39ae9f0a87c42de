/*
 * rules.c - the theme x theme verdict matrix: reading it from CSV (through
 * GDAL's CSV driver, never by hand), the built-in NOVEX matrix, and lookups.
 *
 * Every error names the file and the line where the row starts. GDAL's CSV
 * driver numbers the rows it returns from 1, but skips empty lines and reads
 * a quoted note over several lines as one row, so a pre-pass over the file
 * finds the line of each row. Pairs are unordered; they are stored with
 * theme_a < theme_b.
 */
#include "rules.h"
#include "source.h"

#include <cpl_csv.h>
#include <cpl_string.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern const char stapel__default_rules_csv[];

const char *stapel_rules_builtin_csv(void)
{
    return stapel__default_rules_csv;
}

const char *stapel_verdict_name(stapel_verdict v)
{
    switch (v) {
    case STAPEL_VERDICT_SINGLE:
        return "single";
    case STAPEL_VERDICT_COMPATIBLE:
        return "compatible";
    case STAPEL_VERDICT_UNRATED:
        return "unrated";
    case STAPEL_VERDICT_CONDITIONAL:
        return "conditional";
    case STAPEL_VERDICT_CONFLICT:
        return "conflict";
    }
    /* Not "unrated": a bogus value must not pass for a real verdict. Not
     * NULL either: callers print it, bind it and hash it. */
    return "invalid";
}

void stapel_rules_free(stapel_rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->rules[i].a);
        free(r->rules[i].b);
        free(r->rules[i].note);
    }
    free(r->rules);
    for (size_t i = 0; i < r->n_themes; i++)
        free(r->themes[i]);
    free(r->themes);
    free(r->source);
    stapel__strmap_free(&r->pair_index);
    stapel__strmap_free(&r->theme_index);
    free(r);
}

size_t stapel_rules_count(const stapel_rules *r)
{
    return r == NULL ? 0 : r->n;
}

size_t stapel_rules_theme_count(const stapel_rules *r)
{
    return r == NULL ? 0 : r->n_themes;
}

const char *stapel_rules_theme(const stapel_rules *r, size_t i)
{
    return r == NULL || i >= r->n_themes ? NULL : r->themes[i];
}

/* The key of the pair a, b in pair_index: the lesser theme, a unit
 * separator (no theme holds one), the other. In buf (of size) when it fits,
 * else in memory of its own (free it when it is not buf); NULL when out of
 * memory. */
static char *pair_key(const char *a, const char *b, char *buf, size_t size)
{
    if (strcmp(a, b) > 0) {
        const char *t = a;
        a = b;
        b = t;
    }
    size_t na = strlen(a), nb = strlen(b);
    char *k = na + nb + 2 <= size ? buf : malloc(na + nb + 2);
    if (k != NULL) {
        memcpy(k, a, na);
        k[na] = '\x1f';
        memcpy(k + na + 1, b, nb + 1);
    }
    return k;
}

static const stapel__rule *find(const stapel_rules *r, const char *a, const char *b)
{
    char buf[256];
    char *k = pair_key(a, b, buf, sizeof buf);
    if (k == NULL) { /* out of memory for a long pair: look the slow way */
        if (strcmp(a, b) > 0) {
            const char *t = a;
            a = b;
            b = t;
        }
        for (size_t i = 0; i < r->n; i++)
            if (strcmp(r->rules[i].a, a) == 0 && strcmp(r->rules[i].b, b) == 0)
                return &r->rules[i];
        return NULL;
    }
    uint32_t i = stapel__strmap_find(&r->pair_index, k);
    if (k != buf)
        free(k);
    return i != UINT32_MAX ? &r->rules[i] : NULL;
}

stapel_verdict stapel_rules_verdict(const stapel_rules *r, const char *a, const char *b,
                                    const char **note)
{
    if (note != NULL)
        *note = NULL;
    if (a == NULL || b == NULL)
        return STAPEL_VERDICT_UNRATED;
    if (strcmp(a, b) == 0)
        return STAPEL_VERDICT_SINGLE;
    if (r == NULL)
        return STAPEL_VERDICT_UNRATED;
    const stapel__rule *ru = find(r, a, b);
    if (ru == NULL)
        return STAPEL_VERDICT_UNRATED;
    if (note != NULL)
        *note = ru->note;
    return ru->verdict;
}

static bool add_theme(stapel_rules *r, const char *t)
{
    bool added = false;
    if (stapel__strmap_get(&r->theme_index, t, (uint32_t)r->n_themes, &added) == UINT32_MAX)
        return false;
    if (!added)
        return true;
    if (r->n_themes == r->cap_themes) {
        size_t cap = r->cap_themes == 0 ? 16 : 2 * r->cap_themes;
        char **d = realloc(r->themes, cap * sizeof *d);
        if (d == NULL)
            return false;
        r->themes = d;
        r->cap_themes = cap;
    }
    r->themes[r->n_themes] = stapel__strdup(t);
    if (r->themes[r->n_themes] == NULL)
        return false;
    r->n_themes++;
    return true;
}

static bool theme_ok(const char *t)
{
    if (t[0] == '\0')
        return false;
    for (const char *p = t; *p != '\0'; p++)
        if (!stapel__ascii_word_char(*p))
            return false;
    return true;
}

/* A verdict in any case of its ASCII letters, whatever the locale:
 * 'Conflict' as a spreadsheet capitalises it. */
static bool parse_verdict(const char *s, stapel_verdict *out)
{
    if (stapel__ascii_case_equal(s, "conflict"))
        *out = STAPEL_VERDICT_CONFLICT;
    else if (stapel__ascii_case_equal(s, "conditional"))
        *out = STAPEL_VERDICT_CONDITIONAL;
    else if (stapel__ascii_case_equal(s, "compatible"))
        *out = STAPEL_VERDICT_COMPATIBLE;
    else
        return false;
    return true;
}

static stapel_status add_rule(stapel_ctx *ctx, stapel_rules *r, const char *a, const char *b,
                              stapel_verdict v, const char *note, int line)
{
    const char *name = r->source;
    if (!theme_ok(a) || !theme_ok(b))
        return stapel__fail(
            ctx, STAPEL_EDATA,
            "%s:%d: bad theme '%s': use ASCII letters (a-z, A-Z), digits, '_' and '-' only", name,
            line, theme_ok(a) ? b : a);
    if (strcmp(a, b) == 0)
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s:%d: theme '%s' is rated against itself; a face with one theme "
                            "is always 'single'",
                            name, line, a);
    const stapel__rule *old = find(r, a, b);
    if (old != NULL) {
        if (old->verdict != v)
            return stapel__fail(ctx, STAPEL_EDATA,
                                "%s:%d: pair %s\xc3\x97%s is %s here but %s on line %d", name,
                                line, old->a, old->b, stapel_verdict_name(v),
                                stapel_verdict_name(old->verdict), old->line);
        /* The same rule twice is harmless, but a second note would be lost
         * unseen. */
        if (note != NULL && note[0] != '\0' && (old->note == NULL || strcmp(old->note, note) != 0))
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "%s:%d: pair %s\xc3\x97%s is also %s on line %d, with another note; the "
                        "note here is ignored",
                        name, line, old->a, old->b, stapel_verdict_name(v), old->line);
        return STAPEL_OK;
    }
    if (r->n == r->cap_rules) {
        size_t cap = r->cap_rules == 0 ? 64 : 2 * r->cap_rules;
        stapel__rule *d = realloc(r->rules, cap * sizeof *d);
        if (d == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        r->rules = d;
        r->cap_rules = cap;
    }
    char buf[256];
    char *key = pair_key(a, b, buf, sizeof buf);
    bool added = false;
    uint32_t at = key != NULL ? stapel__strmap_get(&r->pair_index, key, (uint32_t)r->n, &added)
                              : UINT32_MAX;
    if (key != buf)
        free(key);
    if (at == UINT32_MAX || !added) /* !added: find() above saw no such pair */
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel__rule *ru = &r->rules[r->n];
    bool swap = strcmp(a, b) > 0;
    ru->a = stapel__strdup(swap ? b : a);
    ru->b = stapel__strdup(swap ? a : b);
    ru->note = note != NULL && note[0] != '\0' ? stapel__strdup(note) : NULL;
    ru->verdict = v;
    ru->line = line;
    r->n++;
    if (ru->a == NULL || ru->b == NULL || (note != NULL && note[0] != '\0' && ru->note == NULL) ||
        !add_theme(r, ru->a) || !add_theme(r, ru->b))
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    return STAPEL_OK;
}

/* Where the rows of a CSV file start: start[i] is the line (from 1) of the
 * row that GDAL's CSV driver gives FID i; row 0 is the header. fields[i] is
 * the number of fields of row i up to its last one that holds text (0 for a
 * row of only separators and spaces); GDAL's CSV driver drops the fields
 * past the header's without a word, so a note with an unquoted separator in
 * it would lose its tail unseen. sep is the separator, as GDAL's CSV driver
 * finds it in the header. */
typedef struct row_lines {
    int *start;
    int *fields;
    size_t n, cap;
    char sep;
    int head; /* the fields of the header, empty ones too */
} row_lines;

static bool row_lines_push(row_lines *rl, int line)
{
    if (rl->n == rl->cap) {
        size_t cap = rl->cap == 0 ? 64 : 2 * rl->cap;
        int *d = realloc(rl->start, cap * sizeof *d);
        if (d == NULL)
            return false;
        rl->start = d;
        d = realloc(rl->fields, cap * sizeof *d);
        if (d == NULL)
            return false;
        rl->fields = d;
        rl->cap = cap;
    }
    rl->fields[rl->n] = 0;
    rl->start[rl->n++] = line;
    return true;
}

static void row_lines_free(row_lines *rl)
{
    free(rl->start);
    free(rl->fields);
    *rl = (row_lines){0};
}

/* Find where each row of the CSV at gdal_name starts, splitting it as GDAL's
 * CSV driver does: lines as CPLReadLineL gives them (ended by LF, CRLF or CR;
 * also LF CR, which no editor writes), an empty line outside quotes is no
 * row (a line of spaces is one), and a row goes on to the next line while an
 * odd number of '"' has been seen: "" inside quotes counts twice, so it
 * needs no case of its own, and neither does a UTF-8 BOM. When the file
 * cannot be read again or memory runs out, rl is left empty and row_line()
 * falls back to the FID. Free with row_lines_free(). */
static void row_lines_read(row_lines *rl, const char *gdal_name)
{
    *rl = (row_lines){0};
    VSILFILE *fp = VSIFOpenL(gdal_name, "rb");
    if (fp == NULL)
        return;
    bool quoted = false; /* the row goes on past the end of this line */
    int field = 0;       /* the field of the row we are in, from 0 */
    const char *text;
    for (int line = 1; (text = CPLReadLineL(fp)) != NULL; line++) {
        if (!quoted && text[0] != '\0') {
            if (!row_lines_push(rl, line)) {
                row_lines_free(rl);
                break;
            }
            if (rl->n == 1) /* the header: GDAL's CSV driver takes the separator from it */
                rl->sep = CSVDetectSeperator(text);
            else if (rl->n == 2)
                rl->head = field + 1;
            field = 0;
        }
        if (rl->n == 0)
            continue; /* empty lines before the header */
        for (const char *c = text; *c != '\0'; c++) {
            if (*c == '"')
                quoted = !quoted;
            if (!quoted && *c == rl->sep)
                field++;
            else if (*c != ' ' && *c != '\t')
                rl->fields[rl->n - 1] = field + 1;
        }
        if (quoted)
            rl->fields[rl->n - 1] = field + 1; /* a line break in a quoted field */
    }
    VSIFCloseL(fp);
}

/* How many fields the row with this FID has up to its last one that holds
 * text, when that is more than the header has; 0 when it is not, or not
 * known. */
static int row_excess(const row_lines *rl, GIntBig fid)
{
    if (fid >= 1 && (size_t)fid < rl->n && rl->fields[fid] > rl->head)
        return rl->fields[fid];
    return 0;
}

/* The line where the row with this FID starts. */
static int row_line(const row_lines *rl, GIntBig fid)
{
    if (fid >= 0 && (size_t)fid < rl->n)
        return rl->start[fid];
    return (int)fid + 1; /* the header is line 1 and rows follow one a line */
}

/* The columns of a rules file; note is optional. */
enum { COL_A, COL_B, COL_VERDICT, COL_NOTE, N_COLS };
static const char *const col_names[N_COLS] = {"theme_a", "theme_b", "verdict", "note"};

/* Whether s holds nothing but spaces and tabs. */
static bool blank(const char *s)
{
    return s[strspn(s, " \t")] == '\0';
}

/* Add the rule on row f (found at line) to r; a blank row or a comment (its
 * first field starts with '#', maybe after spaces) adds nothing. col[] holds the field index of
 * each column, -1 for a missing note. Text in
 * a GeoPackage is UTF-8; a field that is not comes from a file saved in
 * another encoding, which for Excel in the Netherlands is Windows-1252. The
 * first such field of a file gets a warning, and *warned is set. */
static stapel_status read_row(stapel_ctx *ctx, stapel_rules *r, OGRFeatureH f,
                              const int col[N_COLS], int line, const row_lines *rl,
                              bool *warned)
{
    const char *text[N_COLS] = {NULL};
    char *recoded[N_COLS] = {NULL}, *trimmed[N_COLS] = {NULL};
    stapel_status st = STAPEL_OK;
    const char *first = OGR_F_GetFieldAsString(f, 0);
    if (first[strspn(first, " \t")] == '#')
        return STAPEL_OK; /* the user's text: no checks, not even of its encoding */
    int n_fields = row_excess(rl, OGR_F_GetFID(f));
    if (n_fields > 0) {
        char sep[8];
        snprintf(sep, sizeof sep, rl->sep == '\t' ? "a tab" : "'%c'", rl->sep);
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s:%d: %d fields, but the header has %d columns; a note that holds "
                            "%s must be in double quotes",
                            r->source, line, n_fields, rl->head, sep);
    }
    for (int i = 0; i < N_COLS; i++) {
        if (col[i] < 0)
            continue;
        text[i] = OGR_F_GetFieldAsString(f, col[i]);
        if (CPLIsUTF8(text[i], -1))
            continue;
        recoded[i] = stapel__recode_cp1252(text[i]);
        if (recoded[i] == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        text[i] = recoded[i];
        if (!*warned)
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "%s:%d: text is not UTF-8; read as Windows-1252: '%s' (and so is any "
                        "later text that is not; if that is wrong, save the file as UTF-8: in "
                        "Excel, 'CSV UTF-8')",
                        r->source, line, text[i]);
        *warned = true;
    }
    /* 'nature, water, conflict' is as common in a file typed by hand as
     * 'nature,water,conflict': neither a theme nor a verdict holds a space. */
    for (int i = COL_A; i <= COL_VERDICT; i++) {
        const char *t = text[i] + strspn(text[i], " \t");
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        if (t == text[i] && t[n] == '\0')
            continue;
        if ((trimmed[i] = stapel__strdup(t)) == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        trimmed[i][n] = '\0';
        text[i] = trimmed[i];
    }
    const char *a = text[COL_A], *b = text[COL_B], *vs = text[COL_VERDICT];
    if (blank(a) && blank(b) && blank(vs)) { /* a blank line to the eye: ",,," or spaces */
        if (text[COL_NOTE] != NULL && !blank(text[COL_NOTE]))
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s:%d: a note without a rule: theme_a, theme_b and verdict are "
                              "empty (fill them in, or start the line with '#' to keep it as "
                              "a remark)",
                              r->source, line);
        goto done;
    }
    stapel_verdict v;
    if (blank(vs)) {
        /* "nature,water": the row stops short of the verdict's column */
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s:%d: no verdict (the verdict column is empty); give conflict, "
                          "conditional or compatible",
                          r->source, line);
        goto done;
    }
    if (!parse_verdict(vs, &v)) {
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s:%d: unknown verdict '%s' (use conflict, conditional or compatible)",
                          r->source, line, vs);
        goto done;
    }
    st = add_rule(ctx, r, a, b, v, text[COL_NOTE], line);
done:
    for (int i = 0; i < N_COLS; i++) {
        CPLFree(recoded[i]);
        free(trimmed[i]);
    }
    return st;
}

#define HEADER_HINT \
    "the first line must be the header theme_a,theme_b,verdict (and optionally note)"

/* Whether line is Excel's hint for the separator: 'sep=;', also as a
 * spreadsheet row writes it, quoted ('"sep=;"', the cell holds the
 * separator) or with the empty cells after it ('sep=;;;'). */
static bool sep_line(const char *line)
{
    bool quoted = *line == '"';
    const char *p = line + quoted;
    if (!STARTS_WITH_CI(p, "sep="))
        return false;
    p += 4;
    if (*p != '\0' && !(quoted && *p == '"'))
        p++; /* the separator */
    if (quoted && *p++ != '"')
        return false;
    return p[strspn(p, ",;\t| \r")] == '\0';
}

/* What the first line of the file at gdal_name is, for a message. */
typedef enum {
    FIRST_UNREAD,
    FIRST_NONE,
    FIRST_EMPTY,
    FIRST_BLANK,
    FIRST_COMMENT,
    FIRST_SEP,
    FIRST_UTF16,
    FIRST_TEXT
} first_line;

static first_line first_line_of(const char *gdal_name)
{
    VSILFILE *fp = VSIFOpenL(gdal_name, "rb");
    if (fp == NULL)
        return FIRST_UNREAD;
    /* A UTF-16 byte order mark: Excel's 'Unicode Text', which GDAL does
     * not read as text. */
    unsigned char bom[2];
    if (VSIFReadL(bom, 1, 2, fp) == 2 &&
        ((bom[0] == 0xff && bom[1] == 0xfe) || (bom[0] == 0xfe && bom[1] == 0xff))) {
        VSIFCloseL(fp);
        return FIRST_UTF16;
    }
    VSIFSeekL(fp, 0, SEEK_SET);
    const char *line = CPLReadLineL(fp);
    if (line != NULL && strncmp(line, "\xef\xbb\xbf", 3) == 0)
        line += 3; /* a UTF-8 BOM */
    first_line k = FIRST_TEXT;
    if (line == NULL)
        k = FIRST_NONE;
    else if (line[0] == '\0') /* reading on reuses line's buffer */
        k = CPLReadLineL(fp) == NULL ? FIRST_NONE : FIRST_EMPTY;
    else if (blank(line))
        k = FIRST_BLANK;
    else if (line[strspn(line, " \t")] == '#') /* as comments below it are found */
        k = FIRST_COMMENT;
    /* 'sep=;', which tells Excel the separator: files made to open in
     * Excel start with it, and GDAL takes it for the header. */
    else if (sep_line(line))
        k = FIRST_SEP;
    VSIFCloseL(fp);
    return k;
}

/* Refuse a file whose first line is no header: GDAL's CSV driver opens no
 * file that starts with an empty line, and takes any other first line for
 * the header, be it blank or a comment. Returns STAPEL_OK when the first
 * line may be a header. */
static stapel_status no_header(stapel_ctx *ctx, const char *name, const char *gdal_name)
{
    switch (first_line_of(gdal_name)) {
    case FIRST_NONE:
        return stapel__fail(ctx, STAPEL_EDATA, "%s: the file is empty; %s", name, HEADER_HINT);
    case FIRST_EMPTY:
        return stapel__fail(ctx, STAPEL_EDATA, "%s:1: the line is empty; %s", name, HEADER_HINT);
    case FIRST_BLANK:
        return stapel__fail(ctx, STAPEL_EDATA, "%s:1: the line is blank; %s", name, HEADER_HINT);
    case FIRST_UNREAD:
    case FIRST_TEXT:
        break;
    case FIRST_COMMENT:
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s:1: a comment before the header; %s, and comments may follow it",
                            name, HEADER_HINT);
    case FIRST_UTF16:
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s: the file is UTF-16 text (as Excel saves 'Unicode Text'), which "
                            "is not read; save it as 'CSV UTF-8'",
                            name);
    case FIRST_SEP:
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s:1: a line 'sep=' before the header, which tells Excel the "
                            "separator; remove it: %s",
                            name, HEADER_HINT);
    }
    return STAPEL_OK;
}

/* Refuse a file that GDAL knows as another format than CSV, such as a
 * GeoPackage or a spreadsheet given to --rules, naming the format: forced
 * through the CSV driver, a GeoPackage's first bytes were taken for a header
 * without theme_a. The format is asked before the archive: a spreadsheet
 * (.xlsx, .ods) is a ZIP archive too, but holds no CSV file to point at.
 * Returns STAPEL_OK when GDAL knows no other format. */
static stapel_status other_format(stapel_ctx *ctx, const char *name, const char *gdal_name)
{
    GDALDriverH drv = GDALIdentifyDriverEx(gdal_name, GDAL_OF_VECTOR | GDAL_OF_RASTER, NULL, NULL);
    if (drv != NULL && strcmp(GDALGetDriverShortName(drv), "CSV") != 0) {
        /* Some long names end in a space (ODS's), which would stand before
         * the parenthesis. */
        const char *long_name = GDALGetDriverLongName(drv);
        int n = (int)strlen(long_name);
        while (n > 0 && long_name[n - 1] == ' ')
            n--;
        return stapel__fail(ctx, STAPEL_EDATA,
                            "cannot read rules '%s': GDAL reads it as %.*s (driver %s), not as "
                            "CSV; save the rules as CSV (in Excel: 'CSV UTF-8')",
                            name, n, long_name, GDALGetDriverShortName(drv));
    }
    const char *prefix = stapel__archive_prefix(gdal_name);
    if (prefix != NULL)
        return stapel__fail(ctx, STAPEL_EDATA,
                            "cannot read rules '%s': it is %s; GDAL reads the CSV file in it as "
                            "'%s%s' (add '/NAME.csv' when it holds several)",
                            name, stapel__archive_kind(prefix), prefix, name);
    return STAPEL_OK;
}

/* Refuse a header without the column named missing. */
static stapel_status missing_column(stapel_ctx *ctx, const char *name, const char *gdal_name,
                                    const char *missing)
{
    stapel_status st = other_format(ctx, name, gdal_name);
    if (st == STAPEL_OK)
        st = no_header(ctx, name, gdal_name);
    if (st != STAPEL_OK)
        return st;
    return stapel__fail(ctx, STAPEL_EDATA,
                        "%s:1: missing column '%s'; the header must be theme_a,theme_b,verdict "
                        "(and optionally note)",
                        name, missing);
}

/* Parse the CSV at gdal_name (a path, or a /vsimem/ file); name is shown in
 * messages. */
static stapel_status parse(stapel_ctx *ctx, stapel_rules *r, const char *gdal_name)
{
    const char *name = r->source;
    char prefixed[4096];
    snprintf(prefixed, sizeof prefixed, "CSV:%s", gdal_name);
    const char *drivers[] = {"CSV", NULL};
    const char *oopts[] = {"HEADERS=YES", "AUTODETECT_TYPE=NO", "EMPTY_STRING_AS_NULL=NO", NULL};
    GDALDatasetH ds = GDALOpenEx(prefixed, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, oopts,
                                 NULL);
    if (ds == NULL) {
        char why[1024];
        snprintf(why, sizeof why, "%s", stapel__gdal_error("not a CSV file"));
        stapel_status st = other_format(ctx, name, gdal_name);
        if (st == STAPEL_OK)
            st = no_header(ctx, name, gdal_name);
        if (st != STAPEL_OK)
            return st;
        return stapel__fail(ctx, STAPEL_EIO, "cannot read rules '%s': %s", name, why);
    }
    stapel_status st = STAPEL_OK;
    row_lines lines = {0};
    /* A /vsizip/ archive opens as one table per CSV in it; taking the first
     * would give verdicts from whichever file GDAL lists first. */
    int n_tables = GDALDatasetGetLayerCount(ds);
    if (n_tables != 1) {
        st = stapel__fail(ctx, STAPEL_EIO,
                          "cannot read rules '%s': GDAL finds %d tables in it; give one CSV file",
                          name, n_tables);
        goto done;
    }
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    int col[N_COLS];
    for (int i = 0; i < N_COLS; i++)
        col[i] = OGR_FD_GetFieldIndex(defn, col_names[i]);
    for (int i = 0; i < COL_NOTE; i++) {
        if (col[i] < 0) {
            st = missing_column(ctx, name, gdal_name, col_names[i]);
            goto done;
        }
    }
    /* A column named twice: which one holds the verdicts is anybody's guess
     * (GDAL keeps both; the first was taken without a word). */
    for (int i = 0; i < N_COLS; i++) {
        int n = 0;
        for (int k = 0; k < OGR_FD_GetFieldCount(defn); k++)
            n += EQUAL(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, k)), col_names[i]);
        if (n > 1) {
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s:1: the header names column '%s' %d times; name it once",
                              name, col_names[i], n);
            goto done;
        }
    }
    row_lines_read(&lines, gdal_name);
    bool warned = false; /* about text that is not UTF-8 */
    OGRFeatureH f;
    OGR_L_ResetReading(l);
    while (st == STAPEL_OK && (f = OGR_L_GetNextFeature(l)) != NULL) {
        st = read_row(ctx, r, f, col, row_line(&lines, OGR_F_GetFID(f)), &lines,
                      &warned);
        OGR_F_Destroy(f);
    }
done:
    row_lines_free(&lines);
    GDALClose(ds);
    return st;
}

/* The rules must be one readable file. GDAL's CSV driver also opens a
 * directory, as one table per *.csv in it, and it reads a file from the
 * start more than once, which a pipe does not allow. */
static stapel_status check_file(stapel_ctx *ctx, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || access(path, R_OK) != 0)
        return stapel__fail(ctx, STAPEL_EIO, "cannot read rules '%s': %s", path,
                            stapel__strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return stapel__fail(ctx, STAPEL_EIO, "cannot read rules '%s': %s; give one CSV file", path,
                            S_ISDIR(sb.st_mode) ? "it is a directory" : "not a regular file");
    return STAPEL_OK;
}

stapel_status stapel_rules_read(stapel_ctx *ctx, stapel_rules **out, const char *path)
{
    STAPEL__ENTER_OUT(ctx, out);
    stapel_rules *r = calloc(1, sizeof *r);
    if (r == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    r->source = stapel__strdup(path != NULL ? path : STAPEL__BUILTIN_RULES);
    if (r->source == NULL) {
        free(r);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    r->builtin = path == NULL;
    stapel__log_count w; /* its warnings, counted for r->n_warnings */
    stapel__log_count_start(ctx, &w, false);
    stapel__gdal_push(ctx);
    stapel_status st;
    if (path != NULL) {
        st = strncmp(path, "/vsi", 4) != 0 ? check_file(ctx, path) : STAPEL_OK;
        if (st == STAPEL_OK)
            st = parse(ctx, r, path);
    } else {
        char mem[64];
        snprintf(mem, sizeof mem, "/vsimem/stapel-rules-%p.csv", (void *)r);
        VSILFILE *fp = VSIFileFromMemBuffer(mem, (GByte *)stapel__default_rules_csv,
                                            (vsi_l_offset)strlen(stapel__default_rules_csv), 0);
        if (fp == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        } else {
            VSIFCloseL(fp);
            st = parse(ctx, r, mem);
            VSIUnlink(mem);
        }
    }
    stapel__gdal_pop(); /* may log a count of repeated warnings */
    stapel__log_count_end(ctx, &w);
    if (st != STAPEL_OK) {
        stapel_rules_free(r);
        return st;
    }
    r->n_warnings = w.n_warnings;
    *out = r;
    return STAPEL_OK;
}

stapel_status stapel__rules_new(stapel_ctx *ctx, stapel_rules **out, const char *source)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL || ((*out)->source = stapel__strdup(source)) == NULL) {
        free(*out);
        *out = NULL;
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    return STAPEL_OK;
}

stapel_status stapel__rules_add(stapel_ctx *ctx, stapel_rules *r, const char *a, const char *b,
                                stapel_verdict v, const char *note, int line)
{
    return add_rule(ctx, r, a, b, v, note, line);
}

bool stapel__verdict_parse(const char *s, stapel_verdict *out)
{
    return parse_verdict(s, out);
}

uint64_t stapel__rules_hash(const stapel_rules *rules)
{
    uint64_t h = STAPEL__HASH_INIT;
    for (size_t i = 0; i < rules->n; i++) {
        const stapel__rule *ru = &rules->rules[i];
        h = stapel__hash_more(h, ru->a);
        h = stapel__hash_more(h, ru->b);
        h = stapel__hash_more(h, stapel_verdict_name(ru->verdict));
        h = stapel__hash_more(h, ru->note != NULL ? ru->note : "");
    }
    return h;
}

stapel_status stapel__rules_clone(stapel_ctx *ctx, stapel_rules **out, const stapel_rules *src)
{
    *out = NULL;
    stapel_rules *r = calloc(1, sizeof *r);
    if (r == NULL || (r->source = stapel__strdup(src->source)) == NULL) {
        free(r);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    r->builtin = src->builtin;
    r->n_warnings = src->n_warnings;
    for (size_t i = 0; i < src->n; i++) {
        const stapel__rule *ru = &src->rules[i];
        stapel_status st = add_rule(ctx, r, ru->a, ru->b, ru->verdict, ru->note, ru->line);
        if (st != STAPEL_OK) {
            stapel_rules_free(r);
            return st;
        }
    }
    *out = r;
    return STAPEL_OK;
}
