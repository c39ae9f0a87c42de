/*
 * json_check.c - what GDAL leaves out of a JSON source without a word,
 * found in the source's own text: GeoJSON, GeoJSON sequences, ESRI JSON and
 * TopoJSON. GDAL 3.6 reads what it can of such a file and drops or empties
 * the rest silently (a record that is no Feature, text after the first
 * value, a geometry it cannot parse, a TopoJSON arc index that names no
 * arc), so a claim would be lost or read as empty. These scanners read the
 * file again, as GDAL's readers take it, and say where the damage lies.
 *
 * The text they scan is one GDAL's JSON parser (json-c) accepted already,
 * so they follow only strings, nesting, keys and comments (json-c takes
 * '/' '*' and '//' comments where white space may be: they skip them as it
 * does); they never parse numbers beyond telling one, and never read past
 * the end of the text.
 */
#include "json_check.h"

#include <cpl_vsi.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Whether a comment starts at p: json-c, GDAL's JSON parser, takes
 * comments wherever white space may be, and so do these scanners. */
static bool json_comment(const char *p)
{
    return p[0] == '/' && (p[1] == '*' || p[1] == '/');
}

/* Past the comment at p (json_comment), as json-c reads one: a line
 * comment up to the line's end; a block comment up to a '/' right after a
 * '*', where the character after a '*' that is no '/' is passed over, so
 * that json-c does not end a comment at '**' '/' (the file then fails to
 * open). At the end of the text when the comment does not end. */
static const char *json_comment_end(const char *p)
{
    if (p[1] == '/')
        return p + 2 + strcspn(p + 2, "\n");
    for (p += 2; *p != '\0'; p++)
        if (*p == '*') {
            if (p[1] == '/' || p[1] == '\0')
                return p + 1 + (p[1] == '/');
            p++;
        }
    return p;
}

/* Past the white space and comments at p. (A loop, not strspn: called
 * between any two tokens, most often before none, where a call of strspn
 * costs more than the test.) */
static const char *json_ws(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!json_comment(p))
            return p;
        p = json_comment_end(p);
    }
}

/* A decoded string being written into a buffer of size bytes: n bytes
 * so far, w of them written; once a character does not fit whole, no more
 * are (a message then shows the start of the string, in whole UTF-8
 * characters). */
typedef struct text_out {
    char *out;
    size_t size, n, w;
} text_out;

static void text_put(text_out *o, const unsigned char *b, size_t len)
{
    if (o->w == o->n && o->w + len < o->size) {
        memcpy(o->out + o->w, b, len);
        o->w += len;
    }
    o->n += len;
}

/* The UTF-8 bytes of code point c into o. */
static void utf8_put(text_out *o, unsigned long c)
{
    unsigned char b[4];
    size_t len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = len - 1; i > 0; i--, c >>= 6)
        b[i] = (unsigned char)(0x80 | (c & 0x3F));
    b[0] = (unsigned char)(lead[len] | c);
    text_put(o, b, len);
}

/* The four hexadecimal digits at p as a number, or -1. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        const char *d =
            p[i] != '\0' ? strchr("0123456789abcdef", tolower((unsigned char)p[i])) : NULL;
        if (d == NULL)
            return -1;
        v = v * 16 + (d - "0123456789abcdef");
    }
    return v;
}

/* The JSON string at p ('"') as json-c gives it to GDAL: its escapes
 * decoded (\uXXXX as UTF-8, a pair of surrogates as one character, a lone
 * one as U+FFFD), and up to a \u0000, where GDAL's C strings end. Into out
 * (of size > 0 bytes; cut short to whole characters that fit, always
 * ended). Returns the length of the whole (as snprintf does), or -1 when p
 * holds no whole string. */
static long json_string(const char *p, char *out, size_t size)
{
    text_out o = {out, size, 0, 0};
    out[0] = '\0';
    if (*p++ != '"')
        return -1;
    bool nul = false; /* past a \u0000 */
    for (; *p != '"'; p++) {
        unsigned long c = (unsigned char)*p;
        if (c == '\0' || (c == '\\' && p[1] == '\0'))
            return -1;
        if (c == '\\' && *++p == 'u') {
            long u = hex4(p + 1), lo = -1;
            if (u < 0)
                return -1;
            p += 4;
            if (u >= 0xD800 && u < 0xDC00 && p[1] == '\\' && p[2] == 'u')
                lo = hex4(p + 3);
            if (lo >= 0xDC00 && lo < 0xE000) {
                c = 0x10000 + ((unsigned long)(u - 0xD800) << 10) + (unsigned long)(lo - 0xDC00);
                p += 6;
            } else {
                c = u >= 0xD800 && u < 0xE000 ? 0xFFFD : (unsigned long)u;
            }
        } else if (c == '\\') {
            const char *e = strchr("bfnrt", *p);
            c = e != NULL ? (unsigned char)"\b\f\n\r\t"[e - "bfnrt"] : (unsigned char)*p;
        } else { /* a character of the text's own UTF-8, kept whole */
            size_t len = 1;
            while (c >= 0xC0 && len < 4 && ((unsigned char)p[len] & 0xC0) == 0x80 &&
                   len < (c >= 0xF0   ? 4u
                          : c >= 0xE0 ? 3u
                                      : 2u))
                len++;
            if (!nul)
                text_put(&o, (const unsigned char *)p, len);
            p += len - 1;
            continue;
        }
        nul = nul || c == 0;
        if (!nul)
            utf8_put(&o, c);
    }
    out[o.w] = '\0';
    return (long)o.n;
}

/* The JSON string value at v as json-c decodes it, into out (json_string);
 * "" when v is no string. */
static void json_text(const char *v, char *out, size_t size)
{
    if (v == NULL || json_string(v, out, size) < 0)
        out[0] = '\0';
}

/* Whether the JSON value at v is the string s, as json-c decodes it (in
 * any case when any_case). */
static bool json_text_is(const char *v, const char *s, bool any_case)
{
    char t[32];
    size_t n = strlen(s);
    return v != NULL && n < sizeof t && json_string(v, t, sizeof t) == (long)n &&
           (any_case ? strncasecmp(t, s, n) : memcmp(t, s, n)) == 0;
}

/* Whether the JSON value at v is null, as json-c reads it: in any case
 * ("NULL", "Null" too), so GDAL takes any of them for null. */
static bool json_null(const char *v)
{
    return v != NULL && strncasecmp(v, "null", 4) == 0;
}

/* Whether the JSON string at p ('"'), raw bytes between its quotes, is
 * key in any case as json-c decodes it: GDAL's GeoJSON, TopoJSON and ESRI
 * JSON readers find members so ("Type", "ARCS", "GEOMETRY"). */
static bool json_key_is(const char *p, size_t raw, const char *key)
{
    size_t klen = strlen(key);
    if (memchr(p + 1, '\\', raw) == NULL) /* as written */
        return raw == klen && strncasecmp(p + 1, key, klen) == 0;
    char k[64];
    return klen < sizeof k && json_string(p, k, sizeof k) == (long)klen &&
           strncasecmp(k, key, klen) == 0;
}

/* Whether the JSON strings at a and b ('"'; raw bytes between their
 * quotes araw and braw) are one key to json-c: equal as it decodes them, up
 * to a \u0000 (its keys are C strings). Keys of 256 bytes or more with
 * escapes are told apart by their length and first 255 bytes. */
static bool json_same_key(const char *a, size_t araw, const char *b, size_t braw)
{
    if (memchr(a + 1, '\\', araw) == NULL && memchr(b + 1, '\\', braw) == NULL)
        return araw == braw && memcmp(a + 1, b + 1, araw) == 0;
    char ka[256], kb[256];
    long na = json_string(a, ka, sizeof ka), nb = json_string(b, kb, sizeof kb);
    return na == nb && strcmp(ka, kb) == 0;
}

/* The value of member key of the JSON object that starts at obj ('{'),
 * past the spaces before it, as GDAL's readers find it
 * (OGRGeoJSONFindMemberByName), or NULL when it has none (or is no
 * object). json-c keeps one member of a key given twice, where the key
 * first stands but with the value last given, and GDAL takes the first
 * member whose key is key in any case (json_key_is): so of the keys that
 * are key in any case the first one written, with the last value given to
 * it ("arcs": [...], "arcs": [...] reads as the second; "rings", "RINGS"
 * as the first). Text that GDAL parsed already, so only strings, comments,
 * nesting and keys matter. How many times the key taken is given into
 * *given (when not NULL). */
static const char *json_imember_given(const char *obj, const char *key, int *given)
{
    int n = 0;
    if (given == NULL)
        given = &n;
    *given = 0;
    obj = json_ws(obj);
    if (*obj != '{')
        return NULL;
    int depth = 0;
    const char *found = NULL, *value = NULL; /* the key taken, at its '"' */
    size_t found_raw = 0;
    for (const char *p = obj; *p != '\0'; p++) {
        if (json_comment(p)) {
            p = json_comment_end(p) - 1;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return value;
        } else if (*p == '"') {
            const char *start = p++;
            while (*p != '\0' && *p != '"')
                p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
            if (*p == '\0')
                return value;
            size_t raw = (size_t)(p - start) - 1;
            const char *q = json_ws(p + 1);
            if (depth != 1 || *q != ':' || !json_key_is(start, raw, key))
                continue;
            if (found == NULL) {
                found = start;
                found_raw = raw;
            }
            if (json_same_key(found, found_raw, start, raw)) {
                value = json_ws(q + 1);
                ++*given;
            }
        }
    }
    return value;
}

static const char *json_imember(const char *obj, const char *key)
{
    return json_imember_given(obj, key, NULL);
}

static bool json_next_member(const char **p, bool *first, const char **key, size_t *raw);

/* The value of the "geometry" member of a GeoJSON or ESRI JSON feature at
 * feature, as GDAL's readers of both take it (ReadFeature): they go
 * through the members json-c keeps (json_imember) in order, and of those
 * whose key is "geometry" in any case take the last, or none ("null")
 * once one is null; so "geometry": {...}, "geometry": null reads as null,
 * and "geometry": {...}, "Geometry": {...} as the second. NULL when it has
 * none. */
static const char *json_feature_geometry(const char *feature)
{
    struct {
        const char *key, *value;
        size_t raw;
    } kept[256]; /* as many as "geometry" has spellings in case */
    size_t n = 0, raw;
    const char *p = feature, *key;
    for (bool first = true; json_next_member(&p, &first, &key, &raw);) {
        if (!json_key_is(key, raw, "geometry"))
            continue;
        size_t i = 0;
        while (i < n && !json_same_key(kept[i].key, kept[i].raw, key, raw))
            i++;
        if (i == sizeof kept / sizeof *kept)
            return p; /* (none: it has no more spellings) */
        if (i == n) {
            kept[n].key = key;
            kept[n++].raw = raw;
        }
        kept[i].value = p;
    }
    const char *g = NULL;
    for (size_t i = 0; i < n && !json_null(g); i++)
        g = kept[i].value;
    return g;
}

/* Whether the GeoJSON geometry member's value at g holds a geometry that
 * GDAL should read: not null, nor one whose coordinates are an empty
 * array (RFC 7946 lets that be read as null). */
static bool geojson_value_set(const char *g)
{
    if (g == NULL || json_null(g))
        return false;
    const char *c = json_imember(g, "coordinates");
    if (c != NULL && *c == '[' && *json_ws(c + 1) == ']')
        return false;
    return true;
}

/* Whether the GeoJSON Feature text has a geometry that GDAL should have
 * read (geojson_value_set). */
static bool geojson_geometry_set(const char *feature)
{
    return geojson_value_set(json_feature_geometry(feature));
}

/* Past the JSON value that starts at p (after its spaces and comments): a
 * string, an object or array with all it holds, or a number or literal;
 * NULL at the end of the text. Text that GDAL parsed already. */
static const char *json_skip(const char *p)
{
    p = json_ws(p);
    int depth = 0;
    do {
        if (*p == '\0')
            return NULL;
        if (json_comment(p)) {
            p = json_comment_end(p);
        } else if (*p == '"') {
            for (p++; *p != '"'; p += p[0] == '\\' && p[1] != '\0' ? 2 : 1)
                if (*p == '\0')
                    return NULL;
            p++;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            p++;
        } else if (depth > 0) {
            p++;
        } else { /* at least a character: no text is left where it was */
            size_t n = strcspn(p, ",]} \t\r\n/");
            p += n > 0 ? n : 1;
        }
    } while (depth > 0);
    return p;
}

/* Whether the member whose value is at value, keyed key (at its '"', raw
 * bytes between its quotes raw), is the last of its key in its object:
 * the one whose value json-c keeps (json_imember). */
static bool json_member_last(const char *value, const char *key, size_t raw)
{
    const char *p = value, *k;
    size_t r;
    for (bool first = false; json_next_member(&p, &first, &k, &r);)
        if (json_same_key(key, raw, k, r))
            return false;
    return true;
}

/* What an ESRI JSON geometry member (at g) holds that GDAL should have read:
 * 0, none (null, or only empty arrays: an empty geometry); 1, a geometry,
 * an array of coordinates under any name ("rings", or a misspelt one) or a
 * number "x"; 2, one with true curves ("curveRings", "curvePaths"), which
 * GDAL does not read. */
static int esri_geometry_set(const char *g)
{
    if (g == NULL || *g != '{')
        return 0;
    if (json_imember(g, "curveRings") != NULL || json_imember(g, "curvePaths") != NULL)
        return 2;
    int n_set = 0;                  /* members that hold one, but are given again */
    for (const char *p = g + 1;;) { /* its members */
        p = json_ws(p);
        if (*p != '"')
            return 0;
        const char *key = p;
        if ((p = json_skip(p)) == NULL)
            return 0;
        size_t raw = (size_t)(p - key) - 2;
        bool x = json_key_is(key, raw, "x");
        p = json_ws(p);
        if (*p++ != ':')
            return 0;
        p = json_ws(p);
        /* Only the last value of a key given twice counts (json_imember):
         * "rings": [...], "rings": null is no geometry. */
        if (((*p == '[' && *json_ws(p + 1) != ']') ||
             (x && (*p == '-' || (*p >= '0' && *p <= '9')))) &&
            (json_member_last(p, key, raw) || ++n_set > 64))
            return 1;
        if ((p = json_skip(p)) == NULL)
            return 0;
        p = json_ws(p);
        if (*p++ != ',')
            return 0;
    }
}

/* What the elements or records of a file hold, in order (1 or 2: a
 * geometry GDAL should read, esri_geometry_set; 0: none). */
typedef struct kinds {
    signed char *set;
    size_t n, cap;
} kinds;

static bool kinds_push(kinds *k, int v)
{
    if (k->n == k->cap) {
        size_t cap = k->cap == 0 ? 256 : k->cap * 2;
        signed char *d = realloc(k->set, cap);
        if (d == NULL)
            return false;
        k->set = d;
        k->cap = cap;
    }
    k->set[k->n++] = (signed char)v;
    return true;
}

/* How many of the features of l (of ds, read by driver) that the filter
 * where keeps (all, when NULL) GDAL gives without geometry where the file
 * holds one (k, paired in order with GDAL's features on a dataset of its
 * own), the first one's id into *first, and whether one of them has true
 * curves (2 in k); -1 when they cannot be paired (not one feature an
 * element, or the file does not open again). */
static int64_t paired_unread(GDALDatasetH ds, OGRLayerH l, const char *driver, const kinds *k,
                             const char *where, int64_t *first, bool *curves)
{
    const char *drivers[] = {driver, NULL};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH nd =
        GDALOpenEx(GDALGetDescription(ds), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, NULL, NULL);
    OGRLayerH nl = nd != NULL ? GDALDatasetGetLayerByName(nd, OGR_L_GetName(l)) : NULL;
    int64_t *lost = NULL, n_lost = 0, n = nl != NULL ? 0 : -1;
    size_t i = 0;
    OGRFeatureH f;
    while (n >= 0 && (f = OGR_L_GetNextFeature(nl)) != NULL) {
        if (i < k->n && k->set[i] > 0 && OGR_F_GetGeometryRef(f) == NULL) {
            int64_t *d = realloc(lost, ((size_t)n_lost + 1) * sizeof *lost);
            if (d == NULL)
                n = -1;
            else
                (lost = d)[n_lost++] = (int64_t)OGR_F_GetFID(f);
            *curves = *curves || k->set[i] == 2;
        }
        i++;
        OGR_F_Destroy(f);
    }
    if (i != k->n) /* not one feature an element: nothing can be told */
        n = -1;
    if (n >= 0 && n_lost > 0 && where != NULL) {
        if (OGR_L_SetAttributeFilter(nl, where) != OGRERR_NONE)
            n = -1;
        OGR_L_ResetReading(nl);
        while (n >= 0 && (f = OGR_L_GetNextFeature(nl)) != NULL) {
            int64_t fid = (int64_t)OGR_F_GetFID(f);
            for (int64_t j = 0; j < n_lost; j++)
                if (lost[j] == fid && n++ == 0)
                    *first = fid;
            OGR_F_Destroy(f);
        }
    } else if (n >= 0 && n_lost > 0) {
        n = n_lost;
        *first = lost[0];
    }
    if (nd != NULL)
        GDALClose(nd);
    CPLPopErrorHandler();
    CPLErrorReset();
    free(lost);
    return n;
}

/* Past the white space, comments, NUL bytes and DOS end-of-file bytes
 * (0x1A, which old Windows tools end a text with) at p, up to end (a NUL
 * byte): GDAL reads a text only up to its first NUL, and reads the first
 * JSON value of a GeoJSON or TopoJSON text and ignores what follows it, so
 * that these hold nothing it would lose. */
static const char *past_blank(const char *p, const char *end)
{
    while (p < end && (*p == '\0' || strchr(" \t\r\n\x1a", *p) != NULL || json_comment(p)))
        p = *p == '/' ? json_comment_end(p) : p + 1;
    return p;
}

/* The first characters of the text at p (up to 20, and up to the line's
 * end or end) into text, a NUL byte written \0, and "..." when more
 * follows on the line. */
static void excerpt(const char *p, const char *end, char *text, size_t size)
{
    size_t t = 0;
    const char *c = p;
    for (; c < end && c - p < 20 && *c != '\r' && *c != '\n' && t + 3 < size; c++)
        if (*c == '\0') {
            text[t++] = '\\';
            text[t++] = '0';
        } else {
            text[t++] = *c;
        }
    text[t] = '\0';
    if (c < end && *c != '\r' && *c != '\n')
        snprintf(text + t, size - t, "...");
}

/* Whether the GeoJSON file at path holds more than white space after its
 * first JSON value; the line where that starts into *line, its first
 * characters (up to the line's end, a NUL byte written \0) into text,
 * whether the file starts with a byte order mark into *bom, the line of a
 * comment right after the value into *comment (0: none), and where in the
 * file (bytes from 0) a DOS end-of-file byte (0x1A) lies that follows the
 * value on a later line, a JSON object after it, into *dos_eof (-1: none).
 * What follows a NUL byte after the value is more too: GDAL reads the text
 * only up to the NUL, and leaves the features after it out without a
 * word. */
static bool geojson_trailing(const char *path, long *line, char *text, size_t size, bool *bom,
                             long *comment, long long *dos_eof)
{
    GByte *data = NULL;
    vsi_l_offset len = 0;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool read = VSIIngestFile(NULL, path, &data, &len, -1) != 0;
    CPLPopErrorHandler();
    CPLErrorReset();
    const char *start = (const char *)data, *end = read ? start + (size_t)len : NULL;
    *bom = read && strncmp(start, "\xef\xbb\xbf", 3) == 0;
    if (*bom) /* a byte order mark, as GDAL skips */
        start += 3;
    const char *p = read ? json_skip(start) : NULL, *c = NULL, *value_end = p;
    if (p != NULL) {
        c = p + strspn(p, " \t\r\n");
        p = json_ws(p);
    }
    /* NUL bytes alone at its end (a file padded with them) hold nothing. */
    const char *next = p != NULL ? past_blank(p, end) : NULL;
    bool more = next != NULL && next < end;
    /* (on a line after the value's: without it, one object a line) */
    bool eof_line = more && *p == '\x1a' && *next == '{' &&
                    memchr(value_end, '\n', (size_t)(p - value_end)) != NULL;
    *dos_eof = eof_line ? (long long)(p - (const char *)data) : -1;
    *comment = 0;
    if (more) {
        *line = 1;
        for (const char *n = start; n < p; n++) {
            *comment = n == c && json_comment(c) ? *line : *comment;
            *line += *n == '\n';
        }
        excerpt(p, end, text, size);
    }
    VSIFree(data);
    return more;
}

/* The records of a GeoJSON sequence, read one by one and split as GDAL's
 * GeoJSONSeq driver splits them: at RS characters (RFC 8142) when the file
 * starts with one, else at line ends; a record's trailing \r and \n
 * dropped, and empty ones skipped. */
typedef struct seq_reader {
    VSILFILE *fp;
    char chunk[65536];
    size_t pos, len;
    char sep;  /* '\n', or RS; 0 before the first read */
    long line; /* the line the next byte is on, from 1 */
    stapel__buf rec;
    /* Where in the file chunk starts, and where the record read last does
     * (bytes from 0). */
    vsi_l_offset base, start;
} seq_reader;

/* A reader of the records of the file at path, read as a GeoJSON
 * sequence, or false when it cannot be opened (one at a URL). */
static bool seq_open_path(seq_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->line = 1;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    r->fp = stapel__source_is_service(path) ? NULL : VSIFOpenL(path, "rb");
    CPLPopErrorHandler();
    CPLErrorReset();
    return r->fp != NULL;
}

/* A reader of the GeoJSON sequence ds, or false when its file cannot be
 * opened again (one GDAL fetched from a URL). */
static bool seq_open(seq_reader *r, GDALDatasetH ds)
{
    const char *path = GDALGetDescription(ds);
    if (stapel__ascii_ncase_equal(path, "GeoJSONSeq:", 11))
        path += 11;
    return seq_open_path(r, path);
}

static void seq_close(seq_reader *r)
{
    if (r->fp != NULL)
        VSIFCloseL(r->fp);
    stapel__buf_free(&r->rec);
}

/* The next record into r->rec.data, and the line it starts on into *line;
 * false at the end, or when memory runs out (then *failed). */
static bool seq_next(seq_reader *r, long *line, bool *failed)
{
    r->rec.len = 0;
    long start = -1;
    for (;;) {
        if (r->pos == r->len) {
            r->base += r->len;
            r->len = VSIFReadL(r->chunk, 1, sizeof r->chunk, r->fp);
            r->pos = 0;
            if (r->sep == 0 && r->len > 0) {
                r->sep = r->chunk[0] == '\x1e' ? '\x1e' : '\n';
                r->pos = r->sep == '\x1e';
            }
        }
        bool end = r->pos == r->len;
        const char *s = end ? NULL : memchr(r->chunk + r->pos, r->sep, r->len - r->pos);
        size_t n = (s != NULL ? (size_t)(s - r->chunk) : r->len) - r->pos;
        if (start < 0) {
            start = r->line;
            r->start = r->base + r->pos;
        }
        for (size_t i = 0; i < n; i++)
            r->line += r->chunk[r->pos + i] == '\n';
        if (n > 0 && !stapel__buf_append(&r->rec, r->chunk + r->pos, n)) {
            *failed = true;
            return false;
        }
        r->pos += n;
        if (s == NULL && !end)
            continue; /* the record goes on in the next chunk */
        if (s != NULL) {
            r->line += r->sep == '\n';
            r->pos++;
        }
        while (r->rec.len > 0 &&
               (r->rec.data[r->rec.len - 1] == '\r' || r->rec.data[r->rec.len - 1] == '\n'))
            r->rec.data[--r->rec.len] = '\0';
        if (r->rec.len > 0) {
            *line = start;
            return true;
        }
        if (end)
            return false;
        start = -1; /* an empty record: skipped */
    }
}

/* Whether a GeoJSON "type" member's value (at v) is one GDAL's GeoJSONSeq
 * driver makes a feature of: a Feature, or a geometry (in any case, as GDAL
 * compares them). */
static bool seq_feature_type(const char *v)
{
    static const char *const types[] = {
        "Feature",    "Point",           "LineString",   "Polygon",
        "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (json_text_is(v, types[i], true))
            return true;
    return false;
}

/* The first record of the GeoJSON sequence ds that GDAL leaves out without
 * a word, as no Feature nor geometry: of another type ("Featuer", a
 * FeatureCollection, whose features GDAL does not read), without a type, or
 * no JSON object. Its line into *line, its type (or "") into type. False
 * when there is none, or the file cannot be read again. */
static bool seq_stray_record(GDALDatasetH ds, long *line, char *type, size_t size, char *more,
                             size_t msize)
{
    seq_reader r;
    if (!seq_open(&r, ds))
        return false;
    bool failed = false, found = false;
    more[0] = '\0';
    while (!found && seq_next(&r, line, &failed)) {
        const char *v = json_imember(r.rec.data, "type");
        if (seq_feature_type(v)) {
            /* GDAL reads a record's first JSON value and ignores what
             * follows it (a Feature run on, or after a NUL byte); commas
             * alone there are harmless. */
            const char *end = r.rec.data + r.rec.len, *p = json_skip(r.rec.data), *q = p;
            while (q != NULL && (q = past_blank(q, end)) < end && *q == ',')
                q++;
            if (q == NULL || q == end)
                continue;
            found = true;
            excerpt(json_ws(p), end, more, msize);
            type[0] = '\0';
            continue;
        }
        found = true;
        json_text(v, type, size);
    }
    seq_close(&r);
    return found;
}

/* TopoJSON, which GDAL's TopoJSON driver reads without a word about what it
 * cannot: an object without a "type" (or with one it does not know at the
 * top), or whose "arcs" is no array, it leaves out; one of a type it does
 * not know it gives no geometry; an arc index that is no integer or names
 * no arc it skips, which empties a ring or drops a polygon's part; a
 * position of an arc that is not two numbers it reads as 0,0 or skips,
 * which in a quantized topology moves the vertices that follow (deltas add
 * up). Checked in the file's text, as GDAL reads it (ogrtopojsonreader.cpp). */
typedef struct topo_check {
    int64_t n_arcs;
    const char *text; /* the file's, its byte order mark skipped */
    /* With a layer picked, the arcs GDAL reads wrongly, a bit each (NULL
     * when none is): such an arc damages only the features that use it. */
    unsigned char *bad;
    size_t bad_size;
    char *why; /* what is wrong, and what GDAL would do */
    size_t size;
    /* With no layer picked (whole), a bad arc that an object uses is told
     * as the arc's own damage, the first of them by index here (-1: none);
     * an arc no object uses loses nothing. */
    bool whole;
    int64_t first_used_bad;
} topo_check;

/* The elements of the JSON array at *p ('['), one at each call: the start
 * of the next into *p, false past the last (or at damage GDAL's parser
 * would have refused). */
static bool json_next(const char **p, bool *first)
{
    const char *q = *p;
    if (*first) {
        q = json_ws(q);
        if (*q != '[')
            return false;
        q++;
        *first = false;
    } else {
        if ((q = json_skip(q)) == NULL)
            return false;
        q = json_ws(q);
        if (*q != ',')
            return false;
        q++;
    }
    q = json_ws(q);
    *p = q;
    return *q != ']' && *q != '\0';
}

/* Whether the JSON value at p is a number (an integer when whole). */
static bool json_number(const char *p, bool whole)
{
    const char *q = p + (*p == '-');
    if (!isdigit((unsigned char)*q))
        return false;
    size_t n = strcspn(q, ",]} \t\r\n/");
    for (size_t i = 0; whole && i < n; i++)
        if (q[i] == '.' || q[i] == 'e' || q[i] == 'E')
            return false;
    return true;
}

static bool topo_arc(const char *p, int64_t index, topo_check *t, bool named);

/* Whether arc index of t's file is one GDAL reads wrongly (topo_arcs). */
static bool topo_arc_bad(const topo_check *t, int64_t index)
{
    return t->bad != NULL && (size_t)index / 8 < t->bad_size &&
           (t->bad[index / 8] >> (index % 8) & 1) != 0;
}

/* The text of arc index of t's file (one there is). */
static const char *topo_arc_at(const topo_check *t, int64_t index)
{
    const char *p = json_imember(t->text, "arcs");
    bool first = true;
    for (int64_t i = 0; json_next(&p, &first) && i < index; i++)
        ;
    return p;
}

/* Whether the arc indices at p, nested depth arrays deep (1 for a
 * LineString, 2 for a Polygon, 3 for a MultiPolygon), are all integers
 * that name an arc of the file that GDAL reads whole; what is wrong into
 * t->why. */
static bool topo_arc_ids(const char *p, int depth, topo_check *t)
{
    if (depth == 0) {
        if (!json_number(p, true)) {
            int n = (int)strcspn(p, ",]}\r\n");
            snprintf(t->why, t->size,
                     "its \"arcs\" hold '%.*s' where an arc's index belongs, which GDAL skips",
                     n > 20 ? 20 : n, p);
            return false;
        }
        long long id = strtoll(p, NULL, 10);
        long long arc = id < 0 ? -(id + 1) : id;
        if (arc >= t->n_arcs) {
            snprintf(t->why, t->size,
                     "its \"arcs\" name arc %lld, and the file holds %lld (0 to %lld): GDAL "
                     "skips it, so its ring lacks that arc's vertices or is left out, and a "
                     "polygon's part with it",
                     id, (long long)t->n_arcs, (long long)t->n_arcs - 1);
            return false;
        }
        if (topo_arc_bad(t, arc) && t->whole) {
            if (t->first_used_bad < 0 || arc < t->first_used_bad)
                t->first_used_bad = arc;
        } else if (topo_arc_bad(t, arc)) {
            topo_arc(topo_arc_at(t, arc), arc, t, true);
            return false;
        }
        return true;
    }
    if (*p != '[') {
        int n = (int)strcspn(p, ",]}\r\n");
        snprintf(t->why, t->size,
                 "its \"arcs\" hold '%.*s' where an array belongs (nested too shallow for its "
                 "type), which GDAL skips",
                 n > 20 ? 20 : n, p);
        return false;
    }
    bool first = true;
    while (json_next(&p, &first))
        if (!topo_arc_ids(p, depth - 1, t))
            return false;
    return true;
}

/* How deep the arcs of a TopoJSON geometry of the type at type (a JSON
 * string) are nested: 1 for a LineString, 2 for a Polygon, 3 for a
 * MultiPolygon; 0 for points, which have coordinates; -1 for a type GDAL
 * does not read. */
static int topo_depth(const char *type)
{
    static const struct {
        const char *name;
        int depth;
    } types[] = {{"Point", 0},           {"MultiPoint", 0}, {"LineString", 1},
                 {"MultiLineString", 2}, {"Polygon", 2},    {"MultiPolygon", 3}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (json_text_is(type, types[i].name, false))
            return types[i].depth;
    return -1;
}

/* A note after what t->why says is wrong when member key of obj (of the
 * object, or of the file: whose) is given more than once: json-c keeps
 * the last, which GDAL reads and was checked, where the eye meets the
 * first. */
static void topo_given_twice(const char *obj, const char *key, const char *whose, topo_check *t)
{
    int given;
    size_t len = strlen(t->why);
    if (json_imember_given(obj, key, &given) != NULL && given > 1 && len < t->size)
        snprintf(t->why + len, t->size - len,
                 " (%s \"%s\" member is given %d times; GDAL reads the last)", whose, key, given);
}

static int topo_object_read(const char *obj, topo_check *t);

/* 0 when GDAL reads the TopoJSON geometry object at obj whole, 1 when it
 * gives no feature for it as it stands for none ("type": null, or null:
 * also an object given again as null, which json-c keeps; or a number, a
 * string, true or false, which GDAL passes over as no object, and which
 * can hold no geometry to lose), -1 when it loses some or all of it
 * (t->why says what). */
static int topo_object(const char *obj, topo_check *t)
{
    int r = topo_object_read(obj, t);
    if (r < 0 && *obj == '{') {
        topo_given_twice(obj, "type", "its", t);
        topo_given_twice(obj, "arcs", "its", t);
        topo_given_twice(obj, "coordinates", "its", t);
    }
    return r;
}

static int topo_object_read(const char *obj, topo_check *t)
{
    if (json_null(obj) || (*obj != '{' && *obj != '['))
        return 1;
    if (*obj != '{') {
        snprintf(t->why, t->size,
                 "it is an array, no TopoJSON object, which GDAL leaves out with any "
                 "geometry in it");
        return -1;
    }
    const char *type = json_imember(obj, "type");
    if (json_null(type))
        return 1;
    if (type == NULL || *type != '"') {
        snprintf(t->why, t->size, "it has no \"type\"%s, which GDAL leaves out",
                 type != NULL ? " that is a string" : "");
        return -1;
    }
    char name[48];
    json_text(type, name, sizeof name);
    int depth = topo_depth(type);
    const char *arcs = json_imember(obj, depth == 0 ? "coordinates" : "arcs");
    if (depth < 0 && (arcs == NULL || *arcs != '[')) {
        snprintf(t->why, t->size,
                 "its type '%s' is none GDAL reads (Polygon, MultiPolygon, ...), and it has "
                 "no \"arcs\" array: GDAL leaves it out",
                 name);
        return -1;
    }
    if (arcs == NULL || *arcs != '[') {
        snprintf(t->why, t->size, "its \"%s\" is no array, which GDAL leaves out",
                 depth == 0 ? "coordinates" : "arcs");
        return -1;
    }
    if (depth < 0) {
        snprintf(t->why, t->size,
                 "its type '%s' is none GDAL reads (Polygon, MultiPolygon, ...): it would "
                 "read it as no geometry",
                 name);
        return -1;
    }
    return depth == 0 || topo_arc_ids(arcs, depth, t) ? 0 : -1;
}

/* Whether arc index of t's file, at p, is an array of positions of two
 * numbers; what is wrong into t->why, as about the arc itself, or (named)
 * as about a feature whose "arcs" name it. */
static bool topo_arc_read(const char *p, int64_t index, topo_check *t, bool named);

static bool topo_arc(const char *p, int64_t index, topo_check *t, bool named)
{
    if (topo_arc_read(p, index, t, named))
        return true;
    topo_given_twice(t->text, "arcs", "the file's", t);
    return false;
}

static bool topo_arc_read(const char *p, int64_t index, topo_check *t, bool named)
{
    char arc[64];
    snprintf(arc, sizeof arc, named ? "its \"arcs\" name arc %lld, whose" : "arc %lld: its",
             (long long)index);
    const char *q = p;
    bool f2 = true;
    long k = 0;
    while (*p == '[' && json_next(&q, &f2)) {
        const char *c = q;
        bool f3 = true;
        int n = 0; /* its elements, -1 once one is no number */
        while (*q == '[' && n >= 0 && json_next(&c, &f3))
            n = json_number(c, false) ? n + 1 : -1;
        if (n != 2) {
            int len = (int)strcspn(q, "]\r\n");
            snprintf(t->why, t->size,
                     "%s position %ld ('%.*s%s') is not two numbers, which GDAL does not read: "
                     "that vertex comes out wrong or not at all%s",
                     arc, k, len > 30 ? 30 : len, q, len > 30 ? "..." : "]",
                     json_imember(t->text, "transform") != NULL
                         ? ", and those after it moved (its deltas add up)"
                         : "");
            return false;
        }
        k++;
    }
    if (*p != '[') {
        if (named)
            snprintf(t->why, t->size,
                     "its \"arcs\" name arc %lld, which is no array of positions: GDAL skips it",
                     (long long)index);
        else
            snprintf(t->why, t->size, "arc %lld is no array of positions, which GDAL skips",
                     (long long)index);
        return false;
    }
    return true;
}

/* The "arcs" of t's file that are not arrays of positions of two numbers,
 * marked in t->bad: damage of the objects that use them, and of no other
 * (an arc no object uses loses nothing). Their count into t->n_arcs.
 * False only when memory runs out (what is wrong with the arc then in
 * t->why). */
static bool topo_arcs(topo_check *t)
{
    const char *p = json_imember(t->text, "arcs");
    bool first = true;
    for (t->n_arcs = 0; p != NULL && json_next(&p, &first); t->n_arcs++) {
        if (topo_arc(p, t->n_arcs, t, false))
            continue;
        size_t byte = (size_t)t->n_arcs / 8;
        if (byte >= t->bad_size) {
            size_t size = 2 * byte + 64;
            unsigned char *d = realloc(t->bad, size);
            if (d == NULL)
                return false;
            memset(d + t->bad_size, 0, size - t->bad_size);
            t->bad = d;
            t->bad_size = size;
        }
        t->bad[byte] |= (unsigned char)(1u << (t->n_arcs % 8));
    }
    return true;
}

/* The name of the layer GDAL makes of the TopoJSON object at obj, keyed
 * key (at its '"'; NULL in an array of objects), a GeometryCollection when
 * gc, into name (of size bytes): a GeometryCollection's key, else its "id"
 * (a string or an integer), else "TopoJSON"; GDAL gives the features of
 * all other objects the layer "TopoJSON". Returns the name's length, which
 * may be more than fits (as snprintf does). */
static int topo_layer_name(const char *obj, const char *key, bool gc, char *name, size_t size)
{
    const char *id = gc && key == NULL ? json_imember(obj, "id") : NULL;
    if (id != NULL && *id == '"')
        key = id;
    else if (id != NULL && json_number(id, true))
        return snprintf(name, size, "%lld", strtoll(id, NULL, 10));
    long n = gc && key != NULL ? json_string(key, name, size) : -1;
    return n >= 0 ? (int)n : snprintf(name, size, "TopoJSON");
}

/* A member of a JSON object as json-c keeps it (json_kept_members). */
typedef struct json_kept {
    const char *key, *value; /* at its '"'; the value last given to it */
    size_t raw, index;       /* raw bytes between its quotes; where it first stands */
    char *name;              /* its key as json-c decodes it */
} json_kept;

static int kept_by_name(const void *a, const void *b)
{
    const json_kept *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int kept_by_index(const void *a, const void *b)
{
    const json_kept *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The members of the JSON object at obj as json-c keeps them
 * (json_imember): a key given twice once, where it first stands, with the
 * value last given to it; into *out (to be freed) and their count into *n.
 * False when memory runs out. */
static bool json_kept_members(const char *obj, json_kept **out, size_t *n)
{
    json_kept *m = NULL;
    size_t cap = 0, raw;
    const char *p = obj, *key;
    bool ok = true;
    *n = 0;
    for (bool first = true; ok && json_next_member(&p, &first, &key, &raw);) {
        if (*n == cap) {
            cap = cap == 0 ? 16 : 2 * cap;
            json_kept *d = realloc(m, cap * sizeof *m);
            if ((ok = d != NULL))
                m = d;
        }
        if (!ok)
            break;
        char one;
        long len = json_string(key, &one, 1);
        char *name = len >= 0 ? malloc((size_t)len + 1) : NULL;
        if (!(ok = name != NULL))
            break;
        json_string(key, name, (size_t)len + 1);
        m[*n] = (json_kept){key, p, raw, *n, name};
        (*n)++;
    }
    if (ok && *n > 1) {
        qsort(m, *n, sizeof *m, kept_by_name);
        for (size_t a = 0, b; a < *n; a = b) {
            for (b = a + 1; b < *n && strcmp(m[a].name, m[b].name) == 0; b++)
                m[b].key = NULL; /* given again: kept in m[a] */
            m[a].value = m[b - 1].value;
        }
        qsort(m, *n, sizeof *m, kept_by_index);
    }
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        free(m[i].name);
        if (m[i].key != NULL)
            m[kept++] = m[i];
    }
    *n = kept;
    if (!ok) {
        free(m);
        m = NULL;
        *n = 0;
    }
    *out = m;
    return ok;
}

/* The first object of the TopoJSON file of ds that GDAL reads only in part,
 * or not at all (topo_object), of the layer pick (NULL: of any layer): its
 * layer into layer, its feature (as GDAL would number it) into *fid, where
 * it lies into obj and what is wrong into why; *fid -1 for damage no one
 * feature has (an arc's position, when no layer is picked: told of the
 * arc, when an object uses it). With a layer picked, an arc GDAL reads
 * wrongly is damage of the features that use it. An arc no object uses is
 * no damage. False when there is none, or the file cannot be read again. */
static bool topojson_damage(GDALDatasetH ds, const char *pick, char *layer, size_t lsize,
                            long long *fid, char *obj, size_t osize, char *why, size_t wsize)
{
    const char *path = GDALGetDescription(ds);
    if (stapel__ascii_ncase_equal(path, "TopoJSON:", 9))
        path += 9;
    GByte *data = NULL;
    vsi_l_offset len = 0;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool read = !stapel__source_is_service(path) && VSIIngestFile(NULL, path, &data, &len, -1);
    CPLPopErrorHandler();
    CPLErrorReset();
    const char *text = (const char *)data, *end = read ? text + (size_t)len : NULL;
    if (read && strncmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3;
    topo_check t = {0, text, NULL, 0, why, wsize, pick == NULL, -1};
    bool found = false;
    *fid = -1;
    snprintf(layer, lsize, "?");
    obj[0] = '\0';
    /* GDAL reads the first JSON value of the file, up to a NUL byte, and
     * ignores what follows it: a second Topology (two files joined) and
     * all its objects would be lost. Whatever layer is picked. */
    const char *after = read ? json_skip(text) : NULL;
    if (after != NULL && past_blank(after, end) < end) {
        after = json_ws(after);
        long line = 1;
        for (const char *c = data != NULL ? (const char *)data : after; c < after; c++)
            line += *c == '\n';
        char more[48];
        excerpt(after, end, more, sizeof more);
        snprintf(why, wsize,
                 "more follows its Topology object, from line %ld ('%s'), which GDAL does not "
                 "read: the objects there would be left out",
                 line, more);
        VSIFree(data);
        return true;
    }
    size_t nsize = (pick != NULL ? strlen(pick) : 0) + 2;
    char *name = read ? malloc(nsize) : NULL;
    if (name == NULL) {
        VSIFree(data);
        return false;
    }
    if (!topo_arcs(&t)) { /* too little memory to tell whose it is */
        free(name);
        free(t.bad);
        VSIFree(data);
        return true;
    }
    const char *objects = read ? json_imember(text, "objects") : NULL;
    bool keyed = objects != NULL && *objects == '{', first = true;
    /* Keyed, the objects as json-c keeps them: of two given one key, the
     * second in the first one's place. */
    json_kept *members = NULL;
    size_t n_members = 0;
    if (keyed && !json_kept_members(objects, &members, &n_members)) {
        snprintf(why, wsize, "too little memory to check its objects");
        free(name);
        free(t.bad);
        VSIFree(data);
        return true;
    }
    const char *p = objects;
    long long n_main = 0; /* features of GDAL's layer "TopoJSON" */
    for (long i = 0; !found && objects != NULL; i++) {
        const char *key = NULL; /* at its '"' */
        if (keyed) {            /* "key": value, ... */
            if ((size_t)i == n_members)
                break;
            key = members[i].key;
            p = members[i].value;
        } else if (!json_next(&p, &first)) {
            break;
        }
        const char *type = json_imember(p, "type");
        bool gc = json_text_is(type, "GeometryCollection", false);
        int nlen = topo_layer_name(p, key, gc, name, nsize);
        if (pick != NULL && ((size_t)nlen != nsize - 2 || strcmp(name, pick) != 0)) {
            /* another layer's: skipped */
        } else if (gc) {
            topo_layer_name(p, key, gc, layer, lsize);
            const char *g = json_imember(p, "geometries");
            if (g == NULL || *g != '[') {
                snprintf(obj, osize, "object %ld", i);
                snprintf(why, wsize,
                         "its GeometryCollection has no \"geometries\" array, which GDAL leaves "
                         "out with the layer");
                found = true;
            }
            bool f = true;
            long long n = 0;
            for (long j = 0; !found && json_next(&g, &f); j++) {
                int r = topo_object(g, &t);
                if (r < 0) {
                    *fid = n;
                    snprintf(obj, osize, "geometries[%ld]", j);
                    found = true;
                }
                n += r == 0;
            }
        } else if (!json_null(type)) {
            int r = topo_depth(type) >= 0 || type == NULL || *type != '"' ? topo_object(p, &t) : -1;
            if (r < 0 && topo_depth(type) < 0 && type != NULL && *type == '"') {
                char tn[48];
                json_text(type, tn, sizeof tn);
                snprintf(why, wsize,
                         "its type '%s' is no geometry nor GeometryCollection, which GDAL "
                         "leaves out",
                         tn);
            }
            if (r < 0) {
                snprintf(layer, lsize, "TopoJSON");
                *fid = n_main;
                if (key != NULL) {
                    char kn[160];
                    json_text(key, kn, sizeof kn);
                    snprintf(obj, osize, "object '%s'", kn);
                } else {
                    snprintf(obj, osize, "object %ld", i);
                }
                found = true;
            }
            n_main += r == 0;
        }
    }
    free(members);
    if (t.first_used_bad >= 0) { /* the arc's damage, as that of any object using it */
        topo_arc(topo_arc_at(&t, t.first_used_bad), t.first_used_bad, &t, false);
        *fid = -1;
        found = true;
    }
    free(name);
    free(t.bad);
    VSIFree(data);
    return found;
}

/* Why the TopoJSON object at obj (named name) gives GDAL no layer, into
 * why (of size bytes): null, no JSON object, no "type" that is a string,
 * a type GDAL does not read, or a GeometryCollection without a
 * "geometries" array (ParseObjectMain in GDAL's ogrtopojsonreader.cpp).
 * False when GDAL makes a layer of it. */
static bool topo_no_layer(const char *obj, const char *name, char *why, size_t size)
{
    if (json_null(obj)) {
        snprintf(why, size, "%s is null", name);
        return true;
    }
    if (*obj != '{') {
        int n = (int)strcspn(obj, ",]}\r\n");
        snprintf(why, size, "%s is %s ('%.*s'), no TopoJSON object", name,
                 *obj == '['               ? "an array"
                 : *obj == '"'             ? "a string"
                 : json_number(obj, false) ? "a number"
                                           : "a value",
                 n > 20 ? 20 : n, obj);
        return true;
    }
    const char *type = json_imember(obj, "type");
    if (type == NULL || *type != '"') {
        snprintf(why, size, "%s has %s", name,
                 json_null(type) ? "the type null (the standard's null geometry)"
                 : type == NULL  ? "no \"type\""
                                 : "a \"type\" that is no string");
        return true;
    }
    char tn[48];
    json_text(type, tn, sizeof tn);
    if (json_text_is(type, "GeometryCollection", false)) {
        const char *g = json_imember(obj, "geometries");
        if (g != NULL && *g == '[')
            return false;
        snprintf(why, size, "%s is a GeometryCollection without a \"geometries\" array", name);
        return true;
    }
    if (topo_depth(type) >= 0)
        return false;
    snprintf(why, size,
             "%s is of type '%s', which is no geometry GDAL reads (Polygon, "
             "MultiPolygon, GeometryCollection, ...)",
             name, tn);
    return true;
}

stapel_status stapel__topojson_open_fail(stapel_ctx *ctx, const char *dataset)
{
    if (strcmp(CPLGetLastErrorMsg(), "Failed to read TopoJSON data") != 0 ||
        !stapel_source_is_file(dataset) || stapel__source_is_service(dataset))
        return STAPEL_OK;
    CPLErrorNum no = CPLGetLastErrorNo();
    GByte *data = NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool read = VSIIngestFile(NULL, dataset, &data, NULL, -1) != 0;
    /* Only text that json-c parses, as GDAL's reader of TopoJSON does (a
     * file it cannot parse fails to open with that error too): the
     * geometry reader parses it first, and fails on a Topology after. */
    const char *text = (const char *)data;
    if (read && strncmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3;
    OGRGeometryH g = read ? OGR_G_CreateGeometryFromJson(text) : NULL;
    bool parsed =
        read && (g != NULL || strncmp(CPLGetLastErrorMsg(), "JSON parsing error", 18) != 0);
    char why[768] = "";
    if (read && !parsed) /* which GDAL said before it failed */
        snprintf(why, sizeof why, "GDAL cannot parse it (%s)", CPLGetLastErrorMsg());
    if (g != NULL)
        OGR_G_DestroyGeometry(g);
    CPLPopErrorHandler();
    CPLErrorReset();
    const char *arcs = parsed ? json_imember(text, "arcs") : NULL;
    const char *objects = parsed ? json_imember(text, "objects") : NULL;
    if (!parsed) {
        /* (said above, or GDAL's own error stands) */
    } else if (arcs == NULL || *arcs != '[') {
        snprintf(why, sizeof why,
                 "it has no \"arcs\" array (the arcs of its Topology, [] when there are none), "
                 "without which GDAL reads none of its objects");
    } else if (objects == NULL || (*objects != '{' && *objects != '[')) {
        snprintf(why, sizeof why, "it has no \"objects\" %s",
                 objects == NULL ? "member" : "that is a JSON object");
    } else {
        /* Each object said why it gives no layer; none of them gives one,
         * or GDAL would have opened the file. */
        bool keyed = *objects == '{', first = true;
        json_kept *members = NULL;
        size_t n_members = 0, n = 0, told = 0, len = 0;
        const char *p = objects;
        if (keyed && !json_kept_members(objects, &members, &n_members)) {
            VSIFree(data);
            return STAPEL_OK;
        }
        for (size_t i = 0;; i++) {
            char name[96], one[256];
            if (keyed && i == n_members)
                break;
            if (keyed) {
                char key[64];
                json_text(members[i].key, key, sizeof key);
                snprintf(name, sizeof name, "object '%s'", key);
                p = members[i].value;
            } else if (!json_next(&p, &first)) {
                break;
            } else {
                snprintf(name, sizeof name, "object %zu", i);
            }
            if (!topo_no_layer(p, name, one, sizeof one)) {
                n = 0; /* GDAL reads this one: its failure is another */
                break;
            }
            if (n++ < 3 && len < sizeof why) {
                len +=
                    (size_t)snprintf(why + len, sizeof why - len, "%s%s", n > 1 ? "; " : "", one);
                told++;
            }
        }
        free(members);
        if (n == 0 && (keyed ? n_members == 0 : *p == ']'))
            snprintf(why, sizeof why, "its \"objects\" are empty");
        else if (n == 0)
            why[0] = '\0';
        else if (n > told && len < sizeof why)
            snprintf(why + len, sizeof why - len, "; and %zu more object%s that GDAL does not read",
                     n - told, n - told == 1 ? "" : "s");
    }
    VSIFree(data);
    if (why[0] == '\0') { /* GDAL's error stands, as it was */
        CPLErrorSetState(CE_Failure, no, "Failed to read TopoJSON data");
        return STAPEL_OK;
    }
    if (!parsed)
        return stapel__fail(ctx, STAPEL_EDATA,
                            "cannot open '%s' as vector data: %s, and refuses it ('Failed to "
                            "read TopoJSON data'): mend its JSON",
                            dataset, why);
    return stapel__fail(ctx, STAPEL_EDATA,
                        "cannot open '%s' as vector data: it holds no TopoJSON object that GDAL "
                        "reads, and GDAL refuses it ('Failed to read TopoJSON data'): %s; give "
                        "a file with at least one object with geometry",
                        dataset, why);
}

stapel_status stapel__geojson_open_fail(stapel_ctx *ctx, const char *dataset)
{
    if (strcmp(CPLGetLastErrorMsg(), "Failed to read GeoJSON data") != 0 ||
        !stapel_source_is_file(dataset) || stapel__source_is_service(dataset))
        return STAPEL_OK;
    CPLErrorNum no = CPLGetLastErrorNo();
    /* A GeoJSON sequence with a FeatureCollection among its records: GDAL
     * takes a file that holds one near its start for GeoJSON, parses it as
     * one JSON value, and fails at the second record. Told only of a file
     * that is a sequence: two records or more, each one JSON object alone
     * on its line. */
    seq_reader r;
    bool failed = false, sequence = seq_open_path(&r, dataset), empty = false;
    long line, fc_line = 0, n = 0;
    while (sequence && seq_next(&r, &line, &failed)) {
        const char *rec = r.rec.data, *end = r.rec.data + r.rec.len;
        if (n++ == 0 && strncmp(rec, "\xef\xbb\xbf", 3) == 0)
            rec += 3; /* a byte order mark, which GDAL skips */
        const char *after = *json_ws(rec) == '{' ? json_skip(rec) : NULL;
        sequence = after != NULL && past_blank(after, end) == end;
        const char *type = sequence && fc_line == 0 ? json_imember(rec, "type") : NULL;
        if (json_text_is(type, "FeatureCollection", true)) {
            const char *features = json_imember(rec, "features");
            fc_line = line;
            empty = features == NULL || (*features == '[' && *json_ws(features + 1) == ']');
        }
    }
    seq_close(&r);
    if (failed)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    if (!sequence || n < 2 || fc_line == 0) { /* GDAL's error stands, as it was */
        CPLErrorSetState(CE_Failure, no, "Failed to read GeoJSON data");
        return STAPEL_OK;
    }
    return stapel__fail(ctx, STAPEL_EDATA,
                        "cannot open '%s' as vector data: line %ld holds a FeatureCollection, "
                        "which makes GDAL take the file for one GeoJSON object and refuse it "
                        "('Failed to read GeoJSON data'); a GeoJSON sequence holds one Feature "
                        "a line: %s",
                        dataset, fc_line,
                        empty ? "remove that line, which holds no features"
                              : "write the collection's features one a line in its place");
}

/* stapel__geojson_unread for a GeoJSON sequence, which keeps no feature's
 * text either: its records paired, in order, with GDAL's features. */
static int64_t seq_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                          char *why, size_t size)
{
    seq_reader r;
    if (!seq_open(&r, ds))
        return -1;
    kinds k = {0};
    bool failed = false, curves = false;
    long line;
    while (!failed && seq_next(&r, &line, &failed))
        failed = !kinds_push(&k, geojson_geometry_set(r.rec.data) ? 1 : 0);
    seq_close(&r);
    int64_t n = failed ? -1 : paired_unread(ds, l, "GeoJSONSeq", &k, where, first, &curves);
    free(k.set);
    if (n > 0)
        snprintf(why, size, "its geometry member is no GeoJSON geometry that GDAL reads");
    return n;
}

/* stapel__geojson_unread for an ESRI JSON file: GDAL keeps no feature's
 * text there, so the file is read again and its "features" paired, in
 * order, with the features GDAL gives. */
static int64_t esrijson_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                               char *why, size_t size)
{
    GByte *text = NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool read = VSIIngestFile(NULL, GDALGetDescription(ds), &text, NULL, -1) != 0;
    CPLPopErrorHandler();
    CPLErrorReset();
    const char *p = read ? json_imember((const char *)text, "features") : NULL;
    if (p == NULL || *p != '[') {
        VSIFree(text);
        return read ? 0 : -1;
    }
    kinds k = {0};
    bool ok = true;
    for (p++;;) {
        p = json_ws(p);
        if (*p == ']' || *p == '\0')
            break;
        if (!(ok = kinds_push(&k, esri_geometry_set(json_feature_geometry(p)))))
            break;
        if ((p = json_skip(p)) == NULL)
            break;
        p = json_ws(p);
        if (*p == ',')
            p++;
    }
    VSIFree(text);
    bool curves = false;
    int64_t n = ok ? paired_unread(ds, l, "ESRIJSON", &k, where, first, &curves) : -1;
    free(k.set);
    if (n > 0 && curves)
        snprintf(why, size,
                 "its geometry has true curves (curveRings), which GDAL does not read "
                 "from ESRI JSON: ask the service for them as straight segments "
                 "(returnTrueCurves=false), or export the layer in another format");
    else if (n > 0)
        snprintf(why, size, "its geometry member is no ESRI JSON geometry that GDAL reads");
    return n;
}

/* Where in the GeoJSONSeq ds GDAL left out a record it could not parse
 * (a line cut short, or two run together), told by the features around
 * it, into where, and how many features it read before it into *n_before;
 * GDAL's reason into why. False when reading it again meets no error. */
static bool seq_lost_record(GDALDatasetH ds, char *where, size_t size, char *why, size_t wsize,
                            int64_t *n_before)
{
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    if (l == NULL)
        return false;
    stapel__first_error e = {0};
    CPLPushErrorHandlerEx(stapel__keep_first_error, &e);
    OGR_L_ResetReading(l);
    long long before = -1; /* the feature read before it */
    int64_t n = 0;
    OGRFeatureH f;
    for (;;) {
        CPLErrorReset();
        f = OGR_L_GetNextFeature(l);
        if (e.got || f == NULL)
            break;
        before = (long long)OGR_F_GetFID(f);
        n++;
        OGR_F_Destroy(f);
    }
    OGR_L_ResetReading(l);
    CPLPopErrorHandler();
    CPLErrorReset();
    if (e.got && f != NULL && n > 0)
        snprintf(where, size, "between features %lld and %lld", before, (long long)OGR_F_GetFID(f));
    else if (e.got && f != NULL)
        snprintf(where, size, "before its first feature (%lld)", (long long)OGR_F_GetFID(f));
    else if (e.got && n > 0)
        snprintf(where, size, "after its last feature (%lld)", before);
    else if (e.got)
        snprintf(where, size, "where no feature came before or after it");
    if (f != NULL)
        OGR_F_Destroy(f);
    snprintf(why, wsize, "%s", e.msg);
    *n_before = n;
    return e.got;
}

/* The first DOS end-of-file byte (0x1A) in the record text, outside a
 * string and a comment, up to the end of its first JSON value (json-c
 * takes it for no JSON; after the value GDAL ignores it); NULL when there
 * is none. */
static const char *record_dos_eof(const char *text)
{
    const char *p = text;
    int depth = 0;
    do { /* its first value */
        p = json_ws(p);
        if (*p == '\0' || *p == '\x1a')
            return *p != '\0' ? p : NULL;
        if (*p == '"') {
            p = json_skip(p);
            continue;
        }
        depth += *p == '{' || *p == '[';
        depth -= *p == '}' || *p == ']';
        p++;
    } while (p != NULL && depth > 0);
    return NULL;
}

/* The DOS end-of-file byte (0x1A, which old Windows tools end a text
 * with: files joined after one keep it) that makes a record of the
 * GeoJSON sequence ds one GDAL cannot parse (record_dos_eof): the first
 * such record, when GDAL read n_before features before it. Records GDAL
 * leaves out without a word (of another type: seq_stray_record) count
 * no feature. The line it is on into *line, where it lies in the file
 * (bytes from 0) into *offset, whether the record holds nothing else
 * (blanks and such bytes alone: no feature in it) into *alone, and
 * whether it comes before the record's value into *before. False when no
 * record holds one after n_before features (GDAL's error is another
 * record's), or the file cannot be read again. */
static bool seq_dos_eof(GDALDatasetH ds, int64_t n_before, long *line, long long *offset,
                        bool *alone, bool *before)
{
    seq_reader r;
    if (!seq_open(&r, ds))
        return false;
    bool failed = false, found = false;
    long start;
    int64_t n = 0; /* the features GDAL made of the records before */
    while (!found && n <= n_before && seq_next(&r, &start, &failed)) {
        const char *eof = record_dos_eof(r.rec.data);
        if (eof == NULL) {
            n += seq_feature_type(json_imember(r.rec.data, "type"));
            continue;
        }
        if (n != n_before) /* GDAL's error came before this record */
            break;
        found = true;
        *line = start;
        for (const char *c = r.rec.data; c < eof; c++)
            *line += *c == '\n';
        *offset = (long long)(r.start + (vsi_l_offset)(eof - r.rec.data));
        *alone = past_blank(r.rec.data, r.rec.data + r.rec.len) == r.rec.data + r.rec.len;
        *before = eof == json_ws(r.rec.data);
    }
    seq_close(&r);
    return found;
}

/* The GeoJSON sequence ds opened again without its end when that is DOS
 * end-of-file bytes (0x1A, which old Windows tools end a text with) and
 * blanks alone, which GDAL reads as a record it cannot parse, though it
 * holds nothing to lose; NULL when it does not so end, or the rest too
 * holds a record GDAL cannot parse. */
static GDALDatasetH seq_without_dos_eof(GDALDatasetH ds)
{
    const char *path = GDALGetDescription(ds);
    if (stapel__ascii_ncase_equal(path, "GeoJSONSeq:", 11))
        path += 11;
    if (stapel__source_is_service(path))
        return NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    VSILFILE *fp = VSIFOpenL(path, "rb");
    char tail[4096];
    size_t n = 0;
    vsi_l_offset size = 0;
    if (fp != NULL && VSIFSeekL(fp, 0, SEEK_END) == 0) {
        size = VSIFTellL(fp);
        vsi_l_offset from = size > sizeof tail ? size - sizeof tail : 0;
        if (VSIFSeekL(fp, from, SEEK_SET) == 0)
            n = VSIFReadL(tail, 1, (size_t)(size - from), fp);
    }
    if (fp != NULL)
        VSIFCloseL(fp);
    size_t keep = n;
    bool eof = false;
    while (keep > 0 && strchr(" \t\r\n\x1e\x1a", tail[keep - 1]) != NULL && tail[keep - 1] != '\0')
        eof = tail[--keep] == '\x1a' || eof;
    GDALDatasetH nd = NULL;
    if (eof && keep > 0) {
        size_t len = strlen(path) + 64;
        char *sub = malloc(len);
        const char *drivers[] = {"GeoJSONSeq", NULL};
        if (sub != NULL)
            /* (a path with a '/' in it: GDAL names the layer by what
             * follows the last) */
            snprintf(sub, len, "GeoJSONSeq:/vsisubfile/0_%llu,%s%s",
                     (unsigned long long)(size - (n - keep)), strchr(path, '/') ? "" : "./", path);
        CPLErrorReset();
        nd = sub != NULL ? GDALOpenEx(sub, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, NULL, NULL)
                         : NULL;
        free(sub);
        if (nd != NULL && CPLGetLastErrorType() >= CE_Failure) {
            GDALClose(nd);
            nd = NULL;
        }
    }
    CPLPopErrorHandler();
    return nd;
}

stapel_status stapel__json_open_check(stapel_ctx *ctx, GDALDatasetH *pds, const char *dataset)
{
    GDALDatasetH ds = *pds, nd;
    if (CPLGetLastErrorType() >= CE_Failure && stapel__driver_is(ds, "GeoJSONSeq")) {
        /* GDAL scans a GeoJSON sequence as it opens it, and a record it
         * cannot parse it reports there and leaves out of the layer: the
         * file reads as one with a feature fewer, a claim lost without a
         * word. Said at once, where it lies, for stack and info alike. */
        char where[128], why[512];
        snprintf(why, sizeof why, "%s", stapel__gdal_error("unknown error"));
        if ((nd = seq_without_dos_eof(ds)) != NULL) {
            /* Read as the text before the DOS end-of-file bytes, which
             * GDAL would report at each reading of the file. */
            CPLErrorReset();
            GDALClose(ds);
            *pds = nd;
            return STAPEL_OK;
        }
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        char *layer = stapel__strdup(l != NULL ? OGR_L_GetName(l) : "?");
        stapel_status st;
        int64_t n_before = 0;
        long line;
        long long at;
        bool alone, before;
        if (layer == NULL)
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        else if (!seq_lost_record(ds, where, sizeof where, why, sizeof why, &n_before))
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: a record is no GeoJSON that GDAL can read (%s); "
                              "GDAL would leave it out, and the feature it holds with it: mend "
                              "or remove that record",
                              dataset, layer, why);
        else if (seq_dos_eof(ds, n_before, &line, &at, &alone, &before))
            /* A byte no one sees in an editor, told by name and place. */
            st = alone ? stapel__fail(ctx, STAPEL_EDATA,
                                      "%s: layer %s: line %ld holds a DOS end-of-file byte (0x1A, "
                                      "byte %lld of the file) alone, which GDAL cannot parse (%s) "
                                      "and reports at each reading of the file: remove that byte",
                                      dataset, layer, line, at, why)
                       : stapel__fail(ctx, STAPEL_EDATA,
                                      "%s: layer %s: line %ld holds a DOS end-of-file byte (0x1A, "
                                      "byte %lld of the file) %s its Feature, which GDAL cannot "
                                      "parse (%s); GDAL would leave that record out, and the "
                                      "feature it holds with it: remove that byte",
                                      dataset, layer, line, at, before ? "before" : "within", why);
        else
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: a record %s is no GeoJSON that GDAL can read (%s); "
                              "GDAL would leave it out, and the feature it holds with it: mend "
                              "or remove that record",
                              dataset, layer, where, why);
        free(layer);
        return st;
    }
    return STAPEL_OK;
}

bool stapel__geojson_collection(const char *path)
{
    char head[65536];
    size_t n = 0;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    VSILFILE *fp = VSIFOpenL(path, "rb");
    if (fp != NULL) {
        n = VSIFReadL(head, 1, sizeof head - 1, fp);
        VSIFCloseL(fp);
    }
    CPLPopErrorHandler();
    CPLErrorReset();
    head[n] = '\0';
    const char *text = strncmp(head, "\xef\xbb\xbf", 3) == 0 ? head + 3 : head;
    /* (its start alone: a "features" member after 64 KB of others is
     * missed, and the file taken for one Feature) */
    return json_imember(text, "features") != NULL;
}

/* Whether dataset names a regular file on disk (whose text
 * geojson_trailing reads). */
static bool regular_file(const char *dataset)
{
    struct stat sb;
    return stapel_source_is_file(dataset) && stat(dataset, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Warns when the features of l without geometry, read from standard
 * input, cannot be told from those whose geometry GDAL could not read
 * (stapel__json_unread): that reads the text again, and GDAL keeps only
 * the first MB of standard input (CPL_VSISTDIN_BUFFER_LIMIT) to read again.
 * Such a feature would otherwise be skipped as empty without a word. */
static void stdin_unchecked(stapel_ctx *ctx, GDALDatasetH ds, const char *dataset, OGRLayerH l)
{
    int64_t n = 0, first = -1;
    OGRFeatureH f;
    OGR_L_ResetReading(l);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        if (OGR_F_GetGeometryRef(f) == NULL && n++ == 0)
            first = (int64_t)OGR_F_GetFID(f);
        OGR_F_Destroy(f);
    }
    OGR_L_ResetReading(l);
    CPLErrorReset(); /* the reading tells its own */
    char why[512];
    int64_t lost;
    if (n > 0 && stapel__json_unread(ds, l, NULL, &lost, why, sizeof why) < 0)
        stapel__log(
            ctx, STAPEL_LOG_WARN,
            "%s: layer %s: %lld feature%s without geometry (the first: feature %lld) "
            "cannot be told from features whose geometry GDAL could not read: standard input "
            "of more than 1 MB cannot be read again to check it; %s counted as empty, a "
            "claim lost if its geometry was damaged: give the data as a file to have it "
            "checked",
            dataset, stapel__layer_name(l), (long long)n, n == 1 ? "" : "s", (long long)first,
            n == 1 ? "it is" : "they are");
}

stapel_status stapel__json_check(stapel_ctx *ctx, GDALDatasetH ds, const char *dataset, OGRLayerH l)
{
    long line, comment;
    long long dos_eof;
    char type[48];
    bool bom = false;
    OGRLayerH one = GDALDatasetGetLayerCount(ds) == 1 ? GDALDatasetGetLayer(ds, 0) : NULL;
    if (one != NULL && stapel__driver_is(ds, "GeoJSON") && OGR_L_GetFeatureCount(one, FALSE) == 1 &&
        regular_file(dataset) &&
        geojson_trailing(dataset, &line, type, sizeof type, &bom, &comment, &dos_eof)) {
        /* GDAL reads a file that starts with one Feature as that feature
         * and ignores what follows it: features one a line with a comma
         * after each, or Features run together, read as the first alone.
         * A GeoJSON sequence that starts with a byte order mark (Notepad,
         * PowerShell) is one: GDAL takes it for GeoJSON, and its sequence
         * reader cannot parse the first record either. So is one with a
         * comment after its first Feature ('// note' on a line of its
         * own), which GDAL's GeoJSON reader passes over and its sequence
         * reader cannot parse, and one with a DOS end-of-file byte (0x1A)
         * after its first Feature (files joined after one), which no
         * editor shows. Writing it one a line again would not help. */
        char hint[256];
        if (bom && line > 1 && type[0] == '{')
            snprintf(hint, sizeof hint,
                     "the file starts with a UTF-8 byte order mark, which makes GDAL take a "
                     "GeoJSON sequence (one Feature a line) for a single GeoJSON object: save it "
                     "without the byte order mark (UTF-8 without BOM)");
        else if (comment > 0 && type[0] == '{')
            snprintf(hint, sizeof hint,
                     "the comment on line %ld makes GDAL take a GeoJSON sequence (one Feature a "
                     "line) for a single GeoJSON object: remove the comments, which a GeoJSON "
                     "sequence cannot hold",
                     comment);
        else if (dos_eof >= 0)
            snprintf(hint, sizeof hint,
                     "the DOS end-of-file byte (0x1A, byte %lld of the file) on line %ld makes "
                     "GDAL take a GeoJSON sequence (one Feature a line) for a single GeoJSON "
                     "object: remove that byte",
                     dos_eof, line);
        else
            snprintf(hint, sizeof hint,
                     "write the features into a FeatureCollection, or one a line with nothing "
                     "between them (a GeoJSON sequence, .geojsonl)");
        stapel_status st = stapel__fail(
            ctx, STAPEL_EDATA,
            "%s: layer %s: more follows its first GeoJSON object, from line %ld ('%s'), which "
            "GDAL does not read: it would read that one feature and leave the rest out; %s",
            dataset, OGR_L_GetName(one), line, type, hint);
        return st;
    }
    char more[48];
    if (stapel__driver_is(ds, "GeoJSONSeq") &&
        seq_stray_record(ds, &line, type, sizeof type, more, sizeof more)) {
        /* A record that parses but is no Feature GDAL leaves out without
         * even an error: a misspelt type, or a FeatureCollection, whose
         * features it does not read; and what follows a record's Feature
         * on its line, which GDAL ignores (another Feature run on). */
        OGRLayerH seq = GDALDatasetGetLayer(ds, 0);
        stapel_status st =
            more[0] != '\0'
                ? stapel__fail(
                      ctx, STAPEL_EDATA,
                      "%s: layer %s: line %ld holds more after its GeoJSON Feature ('%s'), "
                      "which GDAL does not read: it would leave that out, and any "
                      "feature in it: write one Feature a line",
                      dataset, seq != NULL ? OGR_L_GetName(seq) : "?", line, more)
                : stapel__fail(ctx, STAPEL_EDATA,
                               "%s: layer %s: line %ld holds %s%s%s, not a GeoJSON Feature; GDAL "
                               "would leave it "
                               "out, and the claim it holds with it: make it a Feature (one a "
                               "line) or remove it",
                               dataset, seq != NULL ? OGR_L_GetName(seq) : "?", line,
                               type[0] != '\0' ? "a record of type '"
                                               : "a record without a \"type\"",
                               type, type[0] != '\0' ? "'" : "");
        return st;
    }
    char tlayer[256], tobj[256], twhy[512];
    long long tfid;
    if (stapel__driver_is(ds, "TopoJSON") &&
        topojson_damage(ds, l != NULL ? OGR_L_GetName(l) : NULL, tlayer, sizeof tlayer, &tfid, tobj,
                        sizeof tobj, twhy, sizeof twhy)) {
        /* GDAL reads what it can of a TopoJSON object and leaves the rest
         * out without a word: a claim lost whole, or in part. Only the
         * picked layer's objects count: damage in another layer of the
         * file does not touch it. */
        stapel_status st;
        if (tfid < 0)
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: %s; GDAL gives no error for it: mend the file", dataset, twhy);
        else
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: feature %lld (%s): %s; GDAL gives no error for it: "
                              "mend it, or remove it from the file",
                              dataset, tlayer, tfid, tobj, twhy);
        return st;
    }
    if (stapel__ascii_ncase_equal(GDALGetDescription(ds), "/vsistdin/", 10) &&
        (stapel__driver_is(ds, "GeoJSON") || stapel__driver_is(ds, "GeoJSONSeq") ||
         stapel__driver_is(ds, "ESRIJSON"))) {
        if (l != NULL)
            stdin_unchecked(ctx, ds, dataset, l);
        for (int i = 0; l == NULL && i < GDALDatasetGetLayerCount(ds); i++)
            stdin_unchecked(ctx, ds, dataset, GDALDatasetGetLayer(ds, i));
    }
    return STAPEL_OK;
}

/* geojson_unread for a GeoJSON file that geojson_scan does not pair with
 * GDAL's features (features that are no Feature, a "type" given twice,
 * ...): GDAL keeps each feature's own text when asked as it opens the
 * file, which costs it a second reading of the whole. */
static int64_t geojson_native_unread(GDALDatasetH ds, OGRLayerH l, const char *where,
                                     int64_t *first, char *why, size_t size)
{
    const char *drivers[] = {"GeoJSON", NULL}, *options[] = {"NATIVE_DATA=YES", NULL};
    stapel__first_error error = {0};
    CPLPushErrorHandlerEx(stapel__keep_first_error, &error);
    GDALDatasetH nd = GDALOpenEx(GDALGetDescription(ds), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers,
                                 options, NULL);
    OGRLayerH nl = nd != NULL ? GDALDatasetGetLayerByName(nd, OGR_L_GetName(l)) : NULL;
    int64_t n = nl != NULL ? 0 : -1;
    if (nl != NULL && where != NULL && OGR_L_SetAttributeFilter(nl, where) != OGRERR_NONE)
        n = -1;
    OGRFeatureH f;
    while (n >= 0 && (f = OGR_L_GetNextFeature(nl)) != NULL) {
        const char *text = OGR_F_GetNativeData(f);
        if (OGR_F_GetGeometryRef(f) == NULL && text != NULL && geojson_geometry_set(text) &&
            n++ == 0)
            *first = (int64_t)OGR_F_GetFID(f);
        OGR_F_Destroy(f);
    }
    if (nd != NULL)
        GDALClose(nd);
    CPLPopErrorHandler();
    CPLErrorReset();
    /* GDAL's error names no feature: it is this one's when it is the only
     * one (a type GDAL does not know gives none). */
    bool own = n == 1 && where == NULL && error.got;
    if (n > 0)
        snprintf(why, size, "its geometry member is no GeoJSON geometry that GDAL reads%s%s",
                 own ? "; GDAL: " : "", own ? error.msg : "");
    return n;
}

/* Whether the JSON array at *p holds, depth arrays down, positions of two
 * numbers or more, no array on the way empty: coordinates that GDAL reads
 * whatever they are (a ring of one position included). Past the array
 * into *p when it does. */
static bool geojson_plain_coordinates(const char **p, int depth)
{
    const char *q = json_ws(*p);
    if (*q++ != '[')
        return false;
    int n = 0;
    for (;;) {
        q = json_ws(q);
        if (depth == 0 && json_number(q, false))
            q += strcspn(q, ",]} \t\r\n/");
        else if (depth == 0 || !geojson_plain_coordinates(&q, depth - 1))
            return false;
        n++;
        q = json_ws(q);
        if (*q == ']')
            break;
        if (*q++ != ',')
            return false;
    }
    *p = q + 1;
    return n >= (depth == 0 ? 2 : 1);
}

/* Past the GeoJSON geometry at g when it is one GDAL reads for sure, told
 * from its text alone: of a simple type as written in RFC 7946, with one
 * "type" and one "coordinates" member (of two, in any case, GDAL's reader
 * tells which it reads: json_imember), and plain coordinates as deep as
 * its type wants; NULL when not, and then GDAL's own geometry reader says
 * (geojson_unreadable). */
static const char *geojson_plain(const char *g)
{
    static const char *const types[] = {"Point",      "LineString",      "Polygon",
                                        "MultiPoint", "MultiLineString", "MultiPolygon"};
    static const int depths[] = {0, 1, 2, 1, 2, 3};
    const char *p = json_ws(g), *type = NULL;
    int n_type = 0, n_coords = 0, depth = -1;
    if (*p++ != '{')
        return NULL;
    for (;;) { /* its members, the coordinates read as they are passed */
        p = json_ws(p);
        if (*p == '}')
            break;
        if (*p != '"')
            return NULL;
        const char *key = p;
        if ((p = json_skip(p)) == NULL)
            return NULL;
        size_t raw = (size_t)(p - key) - 2;
        p = json_ws(p);
        if (*p++ != ':')
            return NULL;
        p = json_ws(p);
        if (json_key_is(key, raw, "coordinates")) {
            n_coords++;
            depth = -1; /* as many arrays down as the first number */
            for (const char *q = p; *q == '['; q = json_ws(q + 1))
                depth++;
            if (depth < 0 || !geojson_plain_coordinates(&p, depth))
                return NULL;
        } else {
            if (json_key_is(key, raw, "type") && n_type++ == 0)
                type = p;
            if ((p = json_skip(p)) == NULL)
                return NULL;
        }
        p = json_ws(p);
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    if (n_type != 1 || n_coords != 1)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (json_text_is(type, types[i], false))
            return depth == depths[i] ? p + 1 : NULL;
    return NULL;
}

/* Whether GDAL reads the GeoJSON geometry member's value at g (of a
 * feature, geojson_value_set) as no geometry: one that is not plain
 * (geojson_plain) is handed to GDAL's geometry reader, the one its GeoJSON
 * driver reads a feature's geometry with, whose first error goes into
 * *error. False when memory runs out (*failed). */
static bool geojson_unreadable(const char *g, stapel__first_error *error, bool *failed)
{
    const char *end = json_skip(g);
    size_t len = end != NULL ? (size_t)(end - g) : strlen(g);
    char *text = malloc(len + 1);
    if (text == NULL) {
        *failed = true;
        return false;
    }
    memcpy(text, g, len);
    text[len] = '\0';
    CPLPushErrorHandlerEx(stapel__keep_first_error, error);
    OGRGeometryH geom = OGR_G_CreateGeometryFromJson(text);
    CPLPopErrorHandler();
    CPLErrorReset();
    free(text);
    if (geom != NULL) {
        OGR_G_DestroyGeometry(geom);
        return false;
    }
    return true;
}

/* The members of the JSON object at *p ('{'), one at each call: the key
 * into *key (its raw length into *raw) and the start of its value into
 * *p; false past the last, *p then past the object, or NULL at text these
 * scanners do not follow. */
static bool json_next_member(const char **p, bool *first, const char **key, size_t *raw)
{
    const char *q = *p;
    *p = NULL;
    if (*first) {
        q = json_ws(q);
        if (*q++ != '{')
            return false;
        q = json_ws(q);
        *first = false;
    } else {
        if ((q = json_skip(q)) == NULL)
            return false;
        q = json_ws(q);
        if (*q == ',')
            q = json_ws(q + 1);
        else if (*q != '}')
            return false;
    }
    if (*q == '}') {
        *p = q + 1;
        return false;
    }
    if (*q != '"')
        return false;
    *key = q;
    if ((q = json_skip(q)) == NULL)
        return false;
    *raw = (size_t)(q - *key) - 2;
    q = json_ws(q);
    if (*q++ != ':')
        return false;
    *p = json_ws(q);
    return true;
}

/* What the text of a GeoJSON Feature at feature tells (geojson_scan): 1
 * when GDAL may read its geometry (json_feature_geometry) as none
 * (geojson_unreadable, its error into *error), 0 when not, -1 when it is
 * no Feature with one "type", or memory runs out (*failed). Past the
 * feature into *end; NULL when the text ends (a NUL byte) before the
 * feature does, or holds what these scanners do not follow: nothing is
 * told then (-1). Its text is read once, its geometry checked
 * (geojson_plain) as it is passed; only a feature with a geometry member
 * given twice, or one that is not plain, is read again. */
static int geojson_feature(const char *feature, const char **end, stapel__first_error *error,
                           bool *failed)
{
    const char *p = json_ws(feature), *type = NULL, *geometry = NULL, *plain = NULL;
    int n_type = 0, n_geometry = 0;
    *end = NULL;
    if (*p++ != '{')
        return -1;
    for (;;) { /* its members, as json_next_member reads them */
        p = json_ws(p);
        if (*p == '}')
            break;
        if (*p != '"')
            return -1;
        const char *key = p;
        if ((p = json_skip(p)) == NULL)
            return -1;
        size_t raw = (size_t)(p - key) - 2;
        p = json_ws(p);
        if (*p++ != ':')
            return -1;
        p = json_ws(p);
        const char *past = NULL;
        if (json_key_is(key, raw, "type") && n_type++ == 0)
            type = p;
        if (json_key_is(key, raw, "geometry") && n_geometry++ == 0) {
            geometry = p;
            past = plain = geojson_plain(p);
        }
        if (past == NULL && (past = json_skip(p)) == NULL)
            return -1;
        p = json_ws(past);
        if (*p == ',')
            p++;
        else if (*p != '}')
            return -1;
    }
    /* The whole feature is read: only now is what it holds told. */
    *end = p + 1;
    if (n_type != 1 || !json_text_is(type, "Feature", true))
        return -1;
    if (n_geometry > 1) { /* the one GDAL takes */
        geometry = json_feature_geometry(feature);
        plain = geometry != NULL ? geojson_plain(geometry) : NULL;
    }
    bool unread = geometry != NULL && plain == NULL && geojson_value_set(geometry) &&
                  geojson_unreadable(geometry, error, failed);
    return *failed ? -1 : unread ? 1 : 0;
}

/* A file read a piece at a time (geojson_scan): its text from pos on, to
 * as far as read (len), NUL-terminated there, so that a scanner stops at
 * the end of what is read as at the end of the text. */
typedef struct json_stream {
    VSILFILE *fp;
    char *data;
    size_t pos, len, cap;
    bool eof, failed;
} json_stream;

/* Reads on, dropping the text before pos (offsets into it are then
 * pos less): at least as much again as is held, so that a value read
 * again after each piece, until it is whole, costs time in its length.
 * False at the end of the file, or when memory runs out (s->failed). */
static bool stream_more(json_stream *s)
{
    if (s->eof || s->failed)
        return false;
    if (s->pos > 0) {
        memmove(s->data, s->data + s->pos, s->len - s->pos);
        s->len -= s->pos;
        s->pos = 0;
    }
    size_t want = s->len > (1u << 20) ? s->len : (1u << 20);
    if (s->len + want + 1 > s->cap) {
        char *d = realloc(s->data, s->len + want + 1);
        if (d == NULL) {
            s->failed = true;
            return false;
        }
        s->data = d;
        s->cap = s->len + want + 1;
    }
    size_t n = VSIFReadL(s->data + s->len, 1, want, s->fp);
    s->len += n;
    s->data[s->len] = '\0';
    s->eof = n < want;
    return true;
}

/* Reads s's file from its start, past a byte order mark (which GDAL
 * skips). False when it cannot. */
static bool stream_rewind(json_stream *s)
{
    s->pos = s->len = 0;
    s->eof = false;
    if (VSIFSeekL(s->fp, 0, SEEK_SET) != 0 || !stream_more(s))
        return false;
    if (strncmp(s->data, "\xEF\xBB\xBF", 3) == 0)
        s->pos = 3;
    return true;
}

/* The next character past spaces and comments, pos moved to it; '\0' at
 * the end of the file (or at a NUL byte, where GDAL stops reading too). */
static char stream_peek(json_stream *s)
{
    for (;;) {
        const char *p = json_ws(s->data + s->pos);
        bool cut = *p == '\0' || (*p == '/' && p[1] == '\0'); /* maybe a comment */
        if (!cut || !stream_more(s)) {
            s->pos = (size_t)(p - s->data);
            return *p;
        }
    }
}

/* The JSON value at pos, past spaces and comments, read whole: its start
 * and end into *start and *end, as offsets. False when the file ends
 * before it does. */
static bool stream_value(json_stream *s, size_t *start, size_t *end)
{
    for (;;) {
        const char *p = json_ws(s->data + s->pos);
        const char *e = *p != '\0' ? json_skip(p) : NULL;
        /* (a number at the end of what is read may go on) */
        if (e != NULL && (*e != '\0' || s->eof)) {
            *start = (size_t)(p - s->data);
            *end = (size_t)(e - s->data);
            return true;
        }
        if (!stream_more(s))
            return false;
    }
}

/* What the text of the GeoJSON FeatureCollection at path tells of its
 * features, in order, into k: 1 for one whose geometry GDAL may read as
 * none (geojson_feature; the first one's error into *error), 0 for any
 * other; their count into *n_unread. Read a feature at a time, not whole.
 * A file of one Feature, which GDAL reads as a layer of that feature, is
 * told as a collection of it. False when the file cannot be read again,
 * or is no FeatureCollection of Features alone (geojson_feature) nor one
 * Feature, which these scanners pair with GDAL's features, or when memory
 * runs out (then *failed). */
static bool geojson_scan(const char *path, kinds *k, int64_t *n_unread, stapel__first_error *error,
                         bool *failed)
{
    json_stream s = {0};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    s.fp = stapel__source_is_service(path) ? NULL : VSIFOpenL(path, "rb");
    CPLPopErrorHandler();
    CPLErrorReset();
    if (s.fp == NULL)
        return false;
    bool ok = stream_rewind(&s), collection = false, feature = false;
    int n_type = 0, n_features = 0;
    *n_unread = 0;
    ok = ok && stream_peek(&s) == '{';
    s.pos++;
    for (bool more = ok && stream_peek(&s) != '}'; more;) { /* its members */
        size_t start, end;
        ok = stream_value(&s, &start, &end) && s.data[start] == '"';
        if (!ok)
            break;
        const char *key = s.data + start;
        bool type = json_key_is(key, end - start - 2, "type");
        bool features = json_key_is(key, end - start - 2, "features") && n_features++ == 0;
        s.pos = end;
        if (!(ok = stream_peek(&s) == ':'))
            break;
        s.pos++;
        if (features) {
            if (!(ok = stream_peek(&s) == '['))
                break;
            s.pos++;
            for (bool next = stream_peek(&s) != ']'; next;) {
                stapel__first_error e = {0};
                const char *past;
                int r = geojson_feature(s.data + s.pos, &past, &e, failed);
                if (past == NULL) {
                    /* Cut short by the end of what is read (or no
                     * feature): read whole, then told. */
                    if (!(ok = stream_value(&s, &start, &end)))
                        break;
                    r = geojson_feature(s.data + start, &past, &e, failed);
                }
                if (r >= 0 && !kinds_push(k, r))
                    *failed = true;
                if (!(ok = r >= 0 && !*failed))
                    break;
                if (r > 0 && (*n_unread)++ == 0)
                    *error = e;
                s.pos = (size_t)(past - s.data); /* (told, so read whole) */
                char c = stream_peek(&s);
                if (!(ok = c == ',' || c == ']'))
                    break;
                next = c == ',';
                s.pos += c == ',';
            }
            if (!ok)
                break;
            s.pos++; /* past the ']' */
        } else {
            if (!(ok = stream_value(&s, &start, &end)))
                break;
            if (type && n_type++ == 0) {
                collection = json_text_is(s.data + start, "FeatureCollection", true);
                feature = json_text_is(s.data + start, "Feature", true);
            }
            s.pos = end;
        }
        char c = stream_peek(&s);
        ok = c == ',' || c == '}';
        more = ok && c == ',';
        s.pos += more;
    }
    bool one = ok && !*failed && !s.failed && n_type == 1 && n_features == 0 && feature;
    if (one) { /* one Feature: read again, whole, and told */
        size_t start, end;
        const char *past;
        stapel__first_error e = {0};
        int r = stream_rewind(&s) && stream_value(&s, &start, &end)
                    ? geojson_feature(s.data + start, &past, &e, failed)
                    : -1;
        if (r >= 0 && !kinds_push(k, r))
            *failed = true;
        one = r >= 0 && !*failed;
        if (one && r > 0) {
            *n_unread = 1;
            *error = e;
        }
    }
    *failed = *failed || s.failed;
    VSIFCloseL(s.fp);
    free(s.data);
    return !*failed && ((ok && n_type == 1 && n_features == 1 && collection) || one);
}

/* stapel__json_unread for a GeoJSON file: its text scanned
 * (geojson_scan), which costs a fraction of GDAL's reading of it. GDAL
 * reads its features again, to pair them with the text's, only when the
 * text holds a geometry it may have lost. */
static int64_t geojson_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                              char *why, size_t size)
{
    kinds k = {0};
    int64_t n = 0;
    bool failed = false, curves = false;
    stapel__first_error error = {0};
    bool scanned = geojson_scan(GDALGetDescription(ds), &k, &n, &error, &failed);
    if (failed) {
        n = -1;
    } else if (!scanned) {
        free(k.set);
        return geojson_native_unread(ds, l, where, first, why, size);
    } else if (n > 0) {
        /* Paired with GDAL's own features even when they are numbered in
         * order (no "id"): its GeoJSON driver parses the file with a reader
         * of its own, which takes numbers (.5) and depths that the geometry
         * reader asked in geojson_unreadable refuses, so a geometry flagged
         * there may still be read. */
        n = paired_unread(ds, l, "GeoJSON", &k, where, first, &curves);
    }
    free(k.set);
    /* GDAL's error for the geometry, when it is the only one; not a JSON
     * syntax error, which only the geometry reader sees (above). */
    bool own =
        n == 1 && where == NULL && error.got && strncmp(error.msg, "JSON parsing error", 18) != 0;
    if (n > 0)
        snprintf(why, size, "its geometry member is no GeoJSON geometry that GDAL reads%s%s",
                 own ? "; GDAL: " : "", own ? error.msg : "");
    return n;
}

int64_t stapel__json_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                            char *why, size_t size)
{
    *first = -1;
    if (ds != NULL && stapel__driver_is(ds, "ESRIJSON"))
        return esrijson_unread(ds, l, where, first, why, size);
    if (ds != NULL && stapel__driver_is(ds, "GeoJSONSeq"))
        return seq_unread(ds, l, where, first, why, size);
    if (ds != NULL && stapel__driver_is(ds, "GeoJSON"))
        return geojson_unread(ds, l, where, first, why, size);
    return 0;
}
