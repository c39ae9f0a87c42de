/*
 * merge.c - joining the GeoPackages of a sharded run into one stack.
 *
 * Every shard holds the faces of its tiles, with a `seam` flag on faces that
 * touch a tile border; its rules, zones and run_info are those of the whole
 * run. The merge reads the faces back, rebuilds their labels from the
 * attributes (claim ids, province and NOVEX names), aligns the seams between
 * shards and merges the seam faces of equal label across them exactly as a
 * single run aligns and merges them across tiles, and recomputes conflicts
 * and summaries. Shards must come from one
 * run: the same N, each index of 1..N once, and the same run_info apart from
 * the shard row (grid, layers, zones, rules, CRS and tiling: see describe_run
 * in stack.c); the rules table of each part must match its rules_hash. A
 * damaged stack row (no polygon, claim_ids not the list stapel writes) is
 * refused, never merged as a face without claims. A part is open only while
 * it is read: its run_info, rules and zone_summary one part after another,
 * its faces on worker threads, one part each, so any number of them fits
 * the open-file limit; a part that is another file, or was written to,
 * when it is opened again is refused (part_unchanged). Claims and zones
 * are numbered after the faces are read, in part order, so the output does
 * not depend on the threads. The output keeps the first part's run_info
 * rows, so its layers keep their sources and order. Also
 * stapel_run_info_read, for the tool.
 */
#define _LARGEFILE64_SOURCE /* GDAL's VSIStatBufL is a struct stat64 */
#include "pipeline.h"
#include "source.h"

#include <cpl_string.h>
#include <cpl_vsi.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- reading --------------------------------------------------------------- */

/* Which file a part is, and as of when: a part read twice must be the same
 * file both times. A file on disk by device, inode, size and time of its
 * last change; one GDAL reads through /vsi by size and time. */
typedef struct part_file {
    bool known; /* false: the part could not be looked up */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} part_file;

/* A part as its run_info and rules describe it. Its dataset is open only
 * while it is read (at most one per thread), so the number of parts is not
 * bound by the limit on open files. */
typedef struct part {
    const char *path;
    part_file file; /* as it was before it was first opened */
    int index, count;
    double grid;
    stapel__kv *rows; /* its run_info, in table order */
    size_t n_rows;
    stapel_rules *rules; /* its rules table */
    stapel__kv *summary; /* its zone_summary rows: zone_type, zone */
    size_t n_summary;
    size_t n_faces; /* as its run_info's faces row says (0 without one) */
    /* GDAL's warnings about the file: it is opened more than once, and
     * GDAL gives some (a bad application_id) at each opening. */
    stapel__gdal_seen seen;
} part;

typedef struct ids_buf {
    uint32_t *v;
    size_t n, cap;
} ids_buf;

static bool ids_push(ids_buf *b, uint32_t id)
{
    if (b->n == b->cap) {
        size_t c = b->cap == 0 ? 16 : 2 * b->cap;
        uint32_t *d = realloc(b->v, c * sizeof *d);
        if (d == NULL)
            return false;
        b->v = d;
        b->cap = c;
    }
    b->v[b->n++] = id;
    return true;
}

#define ZONE_BIT 0x80000000u /* marks a zone id until the claims are counted */

typedef struct merger {
    stapel_ctx *ctx;
    stapel_stack *s;
    stapel__strmap claims;   /* "theme:fid" -> claim index */
    stapel__strmap themes;   /* theme -> layer index */
    stapel__strmap zones[2]; /* zone name -> zone item index (within zone_items) */
    stapel__strmap bare[2];  /* zone name -> index in in->bare_zones[kind] */
    stapel__item *claim_items;
    size_t n_claims, cap_claims;
    stapel__item *zone_items; /* provinces, then NOVEX areas */
    size_t n_zone_items, n_prov;
} merger;

static stapel_status read_rules(stapel_ctx *ctx, GDALDatasetH ds, const char *path,
                                stapel_rules **out)
{
    stapel_status st = stapel__rules_new(ctx, out, path);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "rules");
    if (st != STAPEL_OK)
        return st;
    if (l == NULL)
        return stapel__fail(ctx, STAPEL_EDATA, "%s: no rules table", path);
    OGRFeatureH f;
    int64_t n_read = 0;
    OGR_L_ResetReading(l);
    while (st == STAPEL_OK && (f = stapel__next_feature(ctx, l, path, &n_read, &st)) != NULL) {
        stapel_verdict v;
        if (!stapel__verdict_parse(OGR_F_GetFieldAsString(f, 2), &v))
            st = stapel__fail(ctx, STAPEL_EDATA, "%s: rules: bad verdict '%s'", path,
                              OGR_F_GetFieldAsString(f, 2));
        else
            st = stapel__rules_add(ctx, *out, OGR_F_GetFieldAsString(f, 0),
                                   OGR_F_GetFieldAsString(f, 1), v,
                                   OGR_F_IsFieldSetAndNotNull(f, 3) ? OGR_F_GetFieldAsString(f, 3)
                                                                    : NULL,
                                   (int)OGR_F_GetFID(f) + 1);
        OGR_F_Destroy(f);
    }
    return st;
}

/* The length of v to show in a message: at most about 200 bytes, not
 * splitting a UTF-8 character. */
static int shown(const char *v)
{
    size_t n = strlen(v);
    if (n <= 200)
        return (int)n;
    n = 200;
    while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
        n--;
    return (int)n;
}

/* The arguments of "%.*s%s" for v: its shown part, and "..." if cut. */
#define SHOWN(v) shown(v), (v), ((size_t)shown(v) < strlen(v) ? "..." : "")

/* The value of the first run_info row named key, or NULL. */
static const char *run_value(const part *p, const char *key)
{
    for (size_t i = 0; i < p->n_rows; i++)
        if (strcmp(p->rows[i].key, key) == 0)
            return p->rows[i].value;
    return NULL;
}

bool stapel_shard_parse(const char *text, int *index, int *count)
{
    if (text == NULL || index == NULL || count == NULL)
        return false;
    long v[2] = {0, 0};
    const char *p = text;
    for (int k = 0; k < 2; k++) {
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            v[k] = 10 * v[k] + (*p - '0');
            if (v[k] > INT_MAX)
                return false;
        }
        if (*p != (k == 0 ? '/' : '\0'))
            return false;
        p++;
    }
    if (v[0] < 1 || v[0] > v[1])
        return false;
    *index = (int)v[0];
    *count = (int)v[1];
    return true;
}

/* The run_info rows of an open GeoPackage (path names it in messages),
 * and its shard row as *index of *count (0 and 0 without one). Caller owns
 * *rows; free with stapel__kv_free(). */
static stapel_status load_run_info(stapel_ctx *ctx, GDALDatasetH ds, const char *path,
                                   stapel__kv **rows, size_t *n_rows, int *index, int *count)
{
    *rows = NULL;
    *n_rows = 0;
    *index = *count = 0;
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "run_info");
    if (l == NULL)
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s: no run_info table; is it written by 'stapel stack'?", path);
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    int i_key = OGR_FD_GetFieldIndex(d, "key"), i_value = OGR_FD_GetFieldIndex(d, "value");
    if (i_key < 0 || i_value < 0)
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s: the run_info table lacks its key and value fields", path);
    OGRFeatureH f;
    stapel_status st = STAPEL_OK;
    int64_t n_read = 0;
    OGR_L_ResetReading(l);
    while (st == STAPEL_OK && (f = stapel__next_feature(ctx, l, path, &n_read, &st)) != NULL) {
        const char *k = OGR_F_GetFieldAsString(f, i_key), *v = OGR_F_GetFieldAsString(f, i_value);
        if (strcmp(k, "shard") == 0 && (*count > 0 || !stapel_shard_parse(v, index, count)))
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: run_info: shard '%.*s%s' is not i/N with 1 <= i <= N%s; the "
                              "file is damaged, make the shard again",
                              path, SHOWN(v), *count > 0 ? " (or is given twice)" : "");
        else if (!stapel__kv_push(rows, n_rows, k, v))
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        OGR_F_Destroy(f);
    }
    if (st != STAPEL_OK) {
        stapel__kv_free(*rows, *n_rows);
        *rows = NULL;
        *n_rows = 0;
        *index = *count = 0;
    }
    return st;
}

stapel_status stapel_run_info_read(stapel_ctx *ctx, stapel_run_info **out, const char *path)
{
    STAPEL__ENTER_OUT(ctx, out);
    stapel_run_info *ri = calloc(1, sizeof *ri);
    if (ri == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel__gdal_push(ctx);
    GDALDatasetH ds = NULL;
    stapel_status st = stapel__dataset_open(ctx, &ds, path);
    if (st == STAPEL_OK)
        st = load_run_info(ctx, ds, path, &ri->rows, &ri->n_rows, &ri->shard_index,
                           &ri->shard_count);
    if (ds != NULL)
        GDALClose(ds);
    stapel__gdal_pop();
    if (st != STAPEL_OK) {
        free(ri);
        return st;
    }
    *out = ri;
    return STAPEL_OK;
}

void stapel_run_info_free(stapel_run_info *info)
{
    if (info == NULL)
        return;
    stapel__kv_free(info->rows, info->n_rows);
    free(info);
}

/* The zone_summary rows of an open part (zone_type, zone), for
 * bare_zones. */
static stapel_status load_summary(stapel_ctx *ctx, GDALDatasetH ds, part *p)
{
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "zone_summary");
    if (l == NULL)
        return STAPEL_OK;
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    int f_type = OGR_FD_GetFieldIndex(d, "zone_type"), f_zone = OGR_FD_GetFieldIndex(d, "zone");
    if (f_type < 0 || f_zone < 0)
        return stapel__fail(ctx, STAPEL_EDATA, "%s: table zone_summary has no %s field", p->path,
                            f_type < 0 ? "zone_type" : "zone");
    OGRFeatureH f;
    stapel_status st = STAPEL_OK;
    int64_t n_read = 0;
    OGR_L_ResetReading(l);
    while (st == STAPEL_OK && (f = stapel__next_feature(ctx, l, p->path, &n_read, &st)) != NULL) {
        if (!stapel__kv_push(&p->summary, &p->n_summary, OGR_F_GetFieldAsString(f, f_type),
                             OGR_F_GetFieldAsString(f, f_zone)))
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        OGR_F_Destroy(f);
    }
    return st;
}

/* The file at path as it is now; not known when it cannot be looked up
 * (removed). */
static part_file part_file_now(const char *path)
{
    part_file f = {0};
    if (stapel_source_is_file(path)) {
        struct stat sb;
        if (stat(path, &sb) != 0)
            return f;
        f.dev = sb.st_dev;
        f.ino = sb.st_ino;
        f.size = sb.st_size;
        f.mtime = sb.st_mtim;
    } else {
        VSIStatBufL sb;
        if (VSIStatL(path, &sb) != 0)
            return f;
        f.size = (off_t)sb.st_size;
        f.mtime.tv_sec = sb.st_mtime;
    }
    f.known = true;
    return f;
}

/* A part is read in two passes (read_part, then read_faces), and the first
 * one's zones a second time: one replaced or rewritten between them (a
 * shard job resubmitted while the merge runs, whose output replaces the
 * part) would give faces of another run than the run_info and rules read
 * before, unseen when the face count happens to match. Called after each
 * reading; its failure replaces what the reading said of the file (a
 * face count that differs, a half-written table). */
static stapel_status part_unchanged(stapel_ctx *ctx, const part *p, stapel_status st)
{
    if (!p->file.known || st == STAPEL_ECANCELLED || st == STAPEL_ENOMEM)
        return st;
    part_file now = part_file_now(p->path);
    if (now.known && now.dev == p->file.dev && now.ino == p->file.ino && now.size == p->file.size &&
        now.mtime.tv_sec == p->file.mtime.tv_sec && now.mtime.tv_nsec == p->file.mtime.tv_nsec)
        return st;
    return stapel__fail(ctx, STAPEL_EDATA,
                        "%s %s while it was merged: was a shard job still running? Merge again "
                        "once every shard job has finished",
                        p->path, now.known ? "changed" : "was removed");
}

/* What read_part reads, from the open part. */
static stapel_status read_part_open(stapel_ctx *ctx, GDALDatasetH ds, part *p)
{
    stapel_status st = load_run_info(ctx, ds, p->path, &p->rows, &p->n_rows, &p->index, &p->count);
    /* The output of a merge holds no shard row either, but was not made
     * without --shard: say what it is. */
    const char *merged = st == STAPEL_OK && p->count <= 0 ? run_value(p, "merged") : NULL;
    if (merged != NULL)
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: the output of a merge (of %.*s%s shard%s), not a shard; only "
                          "shards can be merged: give the shards themselves",
                          p->path, SHOWN(merged), strcmp(merged, "1") == 0 ? "" : "s");
    else if (st == STAPEL_OK && p->count <= 0)
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: not a shard (made without --shard); only shards can be merged",
                          p->path);
    /* Shards of older versions record too little to tell their run. */
    const char *hash = st == STAPEL_OK ? run_value(p, "rules_hash") : NULL;
    if (st == STAPEL_OK && (run_value(p, "tiling") == NULL || hash == NULL))
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: made by an older stapel, whose run_info (no tiling and "
                          "rules_hash rows) cannot tell which run a shard belongs to; make "
                          "all shards again with stapel %s",
                          p->path, STAPEL_VERSION);
    const char *faces = st == STAPEL_OK ? run_value(p, "faces") : NULL;
    if (faces != NULL) /* for progress only: read_faces checks it */
        p->n_faces = (size_t)strtoull(faces, NULL, 10);
    const char *grid = st == STAPEL_OK ? run_value(p, "grid") : NULL;
    if (grid != NULL)
        p->grid = CPLAtof(grid); /* a point whatever the locale */
    /* stapel_job_new took only a grid its CRS can work with; another one
     * here is damage, and would put the faces' coordinates out of the range
     * of the integer grid. */
    const char *crs = grid != NULL ? run_value(p, "crs") : NULL;
    if (crs != NULL && stapel__grid_check(ctx, crs, p->grid) != STAPEL_OK)
        st = stapel__wrap(ctx, STAPEL_EDATA, "%s: run_info: grid '%.40s'", p->path, grid);
    if (st == STAPEL_OK)
        st = read_rules(ctx, ds, p->path, &p->rules);
    if (st == STAPEL_OK)
        st = load_summary(ctx, ds, p);
    return st;
}

/* A part's run_info, rules and zone_summary rows, read with its dataset
 * open only meanwhile. GDAL's warnings about it are said once, however
 * often it is opened (p->seen). */
static stapel_status read_part(stapel_ctx *ctx, part *p)
{
    GDALDatasetH ds = NULL;
    ctx->gdal_seen = &p->seen;
    p->file = part_file_now(p->path);
    stapel_status st = stapel__dataset_open(ctx, &ds, p->path);
    if (st == STAPEL_OK)
        st = read_part_open(ctx, ds, p);
    if (ds != NULL) {
        GDALClose(ds);
        st = part_unchanged(ctx, p, st);
    }
    ctx->gdal_seen = NULL;
    stapel__gdal_seen_pass(&p->seen);
    if (st != STAPEL_OK)
        return st;
    char mine[32];
    snprintf(mine, sizeof mine, "%016" PRIx64, stapel__rules_hash(p->rules));
    if (strcmp(mine, run_value(p, "rules_hash")) != 0)
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s: the rules table does not match the rules_hash of its run_info "
                            "(was it edited?)",
                            p->path);
    return STAPEL_OK;
}

/* Rows that may differ between the shards of one run (shards may run on
 * machines of their own, each in a directory of its own). */
static bool per_part(const char *key)
{
    return strcmp(key, "shard") == 0 || strcmp(key, "merged") == 0 ||
           strcmp(key, "directory") == 0 || strcmp(key, "faces") == 0;
}

/* The index of the n-th run_info row named key in p (n from 0), or SIZE_MAX. */
static size_t nth_row(const part *p, const char *key, size_t n)
{
    for (size_t i = 0; i < p->n_rows; i++)
        if (strcmp(p->rows[i].key, key) == 0 && n-- == 0)
            return i;
    return SIZE_MAX;
}

/* The first row of a key that a lacks, or that has a value in one part and
 * not in the other: key by key, in a's order, then b's keys that a lacks. */
static stapel_status key_differs(stapel_ctx *ctx, const part *a, const part *b, const char *key)
{
    for (size_t n = 0;; n++) {
        size_t i = nth_row(a, key, n), j = nth_row(b, key, n);
        if (i == SIZE_MAX && j == SIZE_MAX)
            return STAPEL_OK;
        if (j == SIZE_MAX)
            return stapel__fail(ctx, STAPEL_EDATA,
                                "%s is not from the same run as %s: it has no %s row "
                                "'%.*s%s', which %s has",
                                b->path, a->path, key, SHOWN(a->rows[i].value), a->path);
        if (i == SIZE_MAX)
            return stapel__fail(ctx, STAPEL_EDATA,
                                "%s is not from the same run as %s: it has %s row '%.*s%s', "
                                "which %s does not have",
                                b->path, a->path, key, SHOWN(b->rows[j].value), a->path);
        /* The tiling follows from the claims read and --tile-vertices: with
         * the same options, the inputs changed between the shards. */
        bool tiling = strcmp(key, "tiles") == 0 || strcmp(key, "tiling") == 0;
        bool data = strcmp(key, "data") == 0;
        if (strcmp(a->rows[i].value, b->rows[j].value) == 0)
            continue;
        /* The rules row, which comes first, is the same: the file is, and
         * what it says changed (the built-in rules do not). */
        const char *rules = strcmp(key, "rules_hash") == 0 ? run_value(a, "rules") : NULL;
        if (rules != NULL && strcmp(rules, STAPEL__BUILTIN_RULES) != 0)
            return stapel__fail(ctx, STAPEL_EDATA,
                                "%s is not from the same run as %s: %s '%.*s%s' where %s has "
                                "'%.*s%s'; the shards were made with different rules: the rules "
                                "file '%.*s%s' changed between them",
                                b->path, a->path, key, SHOWN(b->rows[j].value), a->path,
                                SHOWN(a->rows[i].value), SHOWN(rules));
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s is not from the same run as %s: %s '%.*s%s' where %s has "
                            "'%.*s%s'%s",
                            b->path, a->path, key, SHOWN(b->rows[j].value), a->path,
                            SHOWN(a->rows[i].value),
                            tiling ? "; the shards were made from different input data or "
                                     "--tile-vertices"
                            : data ? "; the shards were made from different input data (a "
                                     "claim or zone layer changed between them)"
                                   : "");
    }
}

/* Whether b comes from the same run as a: every run_info row but the
 * per-part ones equal, the rows of each key in the same order. On a
 * difference, the message names both files and the first row that differs
 * (in a's order of keys). */
static stapel_status same_run(stapel_ctx *ctx, const part *a, const part *b)
{
    stapel_status st = STAPEL_OK;
    for (size_t i = 0; i < a->n_rows && st == STAPEL_OK; i++)
        if (!per_part(a->rows[i].key) && nth_row(a, a->rows[i].key, 0) == i)
            st = key_differs(ctx, a, b, a->rows[i].key);
    for (size_t j = 0; j < b->n_rows && st == STAPEL_OK; j++)
        if (!per_part(b->rows[j].key) && nth_row(a, b->rows[j].key, 0) == SIZE_MAX)
            st = key_differs(ctx, a, b, b->rows[j].key);
    return st;
}

/* The claim layers of the run, from the first part's layer rows: the
 * stack's layers, in order, and the theme map that the claim ids resolve
 * against (a theme maps to its first layer). */
static stapel_status run_layers(merger *m, const part *p)
{
    stapel_stack *s = m->s;
    size_t n = 0, n_themes = 0;
    for (size_t i = 0; i < p->n_rows; i++)
        n += strcmp(p->rows[i].key, "layer") == 0;
    s->layer_themes = calloc(n + 1, sizeof *s->layer_themes);
    s->layer_sources = calloc(n + 1, sizeof *s->layer_sources);
    if (s->layer_themes == NULL || s->layer_sources == NULL)
        return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n_rows; i++) {
        if (strcmp(p->rows[i].key, "layer") != 0)
            continue;
        const char *v = p->rows[i].value, *eq = strchr(v, '=');
        if (eq == NULL || eq == v)
            return stapel__fail(m->ctx, STAPEL_EDATA,
                                "%s: run_info: layer '%s' is not theme=source", p->path, v);
        size_t k = s->n_layers;
        s->layer_themes[k] = stapel__strdup(v);
        s->layer_sources[k] = stapel__strdup(eq + 1);
        s->n_layers++;
        if (s->layer_themes[k] == NULL || s->layer_sources[k] == NULL)
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        s->layer_themes[k][eq - v] = '\0';
        bool added;
        if (stapel__strmap_get(&m->themes, s->layer_themes[k], (uint32_t)k, &added) == UINT32_MAX)
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        if (added && ++n_themes > STAPEL_MAX_THEMES)
            return stapel__fail(m->ctx, STAPEL_EDATA,
                                "%s: run_info: more than %d different themes; stapel stack "
                                "makes no such run",
                                p->path, STAPEL_MAX_THEMES);
    }
    return STAPEL_OK;
}

static stapel_status to_geos(stapel_ctx *ctx, OGRGeometryH g, GEOSGeometry **out,
                             const char *path, const char *layer, long long fid)
{
    stapel__conv kind;
    stapel_status st = stapel__ogr_to_geos(ctx, out, &kind, g, 0.0, NULL);
    if (st == STAPEL_OK && kind != STAPEL_CONV_OK)
        st = stapel__fail(ctx, STAPEL_EDATA, "%s: layer %s: feature %lld has no polygon", path,
                          layer, fid);
    else if (st != STAPEL_OK)
        st = stapel__wrap(ctx, st, "%s: layer %s: feature %lld", path, layer, fid);
    return st;
}

/* The index of a zone name in in->zone_names, added when new; UINT32_MAX
 * when out of memory. The table is shared by both kinds, as in read.c. */
static uint32_t zone_name_index(stapel__input *in, const char *name)
{
    bool new_name;
    uint32_t i = stapel__strmap_get(&in->zone_index, name, (uint32_t)in->n_zone_names, &new_name);
    if (i == UINT32_MAX || !new_name)
        return i;
    char **zn = realloc(in->zone_names, (in->n_zone_names + 1) * sizeof *zn);
    if (zn != NULL)
        in->zone_names = zn;
    char *copy = zn != NULL ? stapel__strdup(name) : NULL;
    if (copy == NULL) /* the map is a name ahead: the run fails anyway */
        return UINT32_MAX;
    in->zone_names[in->n_zone_names++] = copy;
    return i;
}

/* Zones as written by the first shard: the name is the one field. */
static stapel_status read_zones(merger *m, GDALDatasetH ds, const char *path, int kind)
{
    const char *name = kind == STAPEL_ZONE_PROVINCE ? "provinces" : "novex";
    OGRLayerH l = GDALDatasetGetLayerByName(ds, name);
    if (l == NULL)
        return STAPEL_OK;
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    if (OGR_FD_GetFieldCount(d) < 1)
        return stapel__fail(m->ctx, STAPEL_EDATA, "%s: layer %s has no name field", path, name);
    m->s->zone_fields[kind] = stapel__strdup(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(d, 0)));
    if (m->s->zone_fields[kind] == NULL)
        return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
    stapel__input *in = &m->s->in;
    OGRFeatureH f;
    stapel_status st = STAPEL_OK;
    int64_t n_read = 0;
    OGR_L_ResetReading(l);
    while (st == STAPEL_OK && (f = stapel__next_feature(m->ctx, l, path, &n_read, &st)) != NULL) {
        GEOSGeometry *g = NULL;
        st = to_geos(m->ctx, OGR_F_GetGeometryRef(f), &g, path, name, (long long)OGR_F_GetFID(f));
        const char *zname = OGR_F_GetFieldAsString(f, 0);
        stapel__item *d2 = st == STAPEL_OK
                               ? realloc(m->zone_items, (m->n_zone_items + 1) * sizeof *d2)
                               : NULL;
        if (st == STAPEL_OK && d2 == NULL)
            st = stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        if (st != STAPEL_OK) {
            if (g != NULL)
                GEOSGeom_destroy_r(m->ctx->geos, g);
            OGR_F_Destroy(f);
            break;
        }
        m->zone_items = d2;
        stapel__item *it = &m->zone_items[m->n_zone_items];
        memset(it, 0, sizeof *it);
        it->geom = g;
        it->fid = OGR_F_GetFID(f);
        bool added;
        uint32_t nidx =
            stapel__strmap_get(&m->zones[kind], zname, (uint32_t)m->n_zone_items, &added);
        uint32_t name_index = zone_name_index(in, zname);
        if (nidx == UINT32_MAX || name_index == UINT32_MAX) {
            GEOSGeom_destroy_r(m->ctx->geos, g);
            OGR_F_Destroy(f);
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        }
        it->group = name_index;
        stapel__geom_warm(m->ctx, g);
        m->n_zone_items++;
        OGR_F_Destroy(f);
    }
    return st;
}

/* The zones without area (in->bare_zones): the zone layers do not hold them,
 * as they have no geometry, but a shard's zone_summary has a row for each,
 * as a whole run has. Each part's rows are looked at, not only the first's:
 * a shard made by a stapel before 98f0c1d (same version number, so merge
 * takes it) has no such rows, and the merge would otherwise list the zones
 * or not by the order the parts were given in. */
static stapel_status bare_zones(merger *m, const part *p)
{
    stapel__input *in = &m->s->in;
    for (size_t r = 0; r < p->n_summary; r++) {
        const char *type = p->summary[r].key, *zname = p->summary[r].value;
        int kind = strcmp(type, "province") == 0 ? STAPEL_ZONE_PROVINCE
                   : strcmp(type, "novex") == 0  ? STAPEL_ZONE_NOVEX
                                                 : -1;
        bool new_bare = false;
        if (kind >= 0 && stapel__strmap_find(&m->zones[kind], zname) == UINT32_MAX &&
            stapel__strmap_get(&m->bare[kind], zname, (uint32_t)in->n_bare_zones[kind],
                               &new_bare) == UINT32_MAX)
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        if (!new_bare)
            continue;
        uint32_t g = zone_name_index(in, zname);
        uint32_t *b = g != UINT32_MAX
                          ? realloc(in->bare_zones[kind], (in->n_bare_zones[kind] + 1) * sizeof *b)
                          : NULL;
        if (b == NULL)
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        in->bare_zones[kind] = b;
        b[in->n_bare_zones[kind]++] = g;
    }
    return STAPEL_OK;
}

/* The failure of a face naming a zone its part's zone layers do not hold,
 * the name (cut to its shown part) quoted as --zone takes it. */
static stapel_status unknown_zone(stapel_ctx *ctx, const char *path, long long fid,
                                  const char *zone)
{
    stapel__buf cut = {0};
    char *q = NULL;
    if (stapel__buf_printf(&cut, "%.*s%s", SHOWN(zone)))
        q = stapel_zone_quote_text(cut.data);
    stapel__buf_free(&cut);
    if (q == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel_status st = stapel__fail(ctx, STAPEL_EDATA,
                                    "%s: layer stack: feature %lld names zone %s, which its zone "
                                    "layer does not hold; the part is damaged, make the shard "
                                    "again",
                                    path, fid, q);
    free(q);
    return st;
}

/* Item ids of a ';'-joined list of zone names. */
static stapel_status zone_ids(merger *m, int kind, const char *names, ids_buf *ids,
                              const char *path, long long fid)
{
    /* A copy as long as the names: a face may lie in many overlapping
     * zones, and a list cut short would drop zones or split a name. */
    char *buf = stapel__strdup(names);
    if (buf == NULL)
        return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
    stapel_status st = STAPEL_OK;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok != NULL && st == STAPEL_OK;
         tok = strtok_r(NULL, ";", &save)) {
        bool added;
        uint32_t v = stapel__strmap_get(&m->zones[kind], tok, UINT32_MAX - 1, &added);
        if (v == UINT32_MAX)
            st = stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        else if (added || v == UINT32_MAX - 1)
            st = unknown_zone(m->ctx, path, fid, tok);
        else if (!ids_push(ids, ZONE_BIT | v))
            st = stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
    }
    free(buf);
    return st;
}

/* The index of the nth claim layer (from 1) of theme, or UINT32_MAX. */
static uint32_t nth_layer(const stapel_stack *s, const char *theme, unsigned nth)
{
    for (size_t i = 0; i < s->n_layers; i++)
        if (strcmp(s->layer_themes[i], theme) == 0 && --nth == 0)
            return (uint32_t)i;
    return UINT32_MAX;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Whether [p, end) is a feature id as stapel writes it: a 64-bit integer
 * in decimal, without sign or leading zero but for a minus. */
static bool is_fid(const char *p, const char *end)
{
    const char *digits = p < end && *p == '-' ? p + 1 : p;
    if (digits == end || end - digits > 19 || (*digits == '0' && end - digits > 1))
        return false;
    for (const char *d = digits; d < end; d++)
        if (*d < '0' || *d > '9')
            return false;
    errno = 0;
    (void)strtoll(p, NULL, 10); /* stops at the closing quote */
    return errno != ERANGE;
}

/* A damaged claim_ids value of feature fid: refused, as the face it
 * belongs to would lose its claims. */
static stapel_status bad_ids(merger *m, const char *path, long long fid, const char *json,
                             const char *why)
{
    return stapel__fail(m->ctx, STAPEL_EDATA,
                        "%s: layer stack: feature %lld: claim_ids '%.*s%s' %s; the part is "
                        "damaged, make the shard again",
                        path, fid, SHOWN(json), why);
}

/* Claim ids from the JSON list of "theme:fid" (or "theme[k]:fid") strings
 * that stapel writes. Anything else (not such a list, an empty list, a
 * claim named twice) is refused: every face of a stack has a claim. id and
 * theme have room for the longest string of the list (a theme name has no
 * bound on its length). */
static stapel_status claim_ids_in(merger *m, const char *json, ids_buf *ids, const char *path,
                                  long long fid, char *id, char *theme)
{
    const char *p = skip_spaces(json);
    if (*p != '[')
        return bad_ids(m, path, fid, json, "is not a JSON list of claim ids");
    p = skip_spaces(p + 1);
    if (*p == ']')
        return bad_ids(m, path, fid, json, "lists no claims");
    size_t first = ids->n;
    for (;;) {
        const char *q = *p == '"' ? strchr(p + 1, '"') : NULL;
        const char *colon = q != NULL ? memchr(p + 1, ':', (size_t)(q - p - 1)) : NULL;
        if (q == NULL || colon == NULL || colon == p + 1 ||
            memchr(p + 1, '\\', (size_t)(q - p - 1)) != NULL || !is_fid(colon + 1, q))
            return bad_ids(m, path, fid, json, "is not a JSON list of claim ids");
        memcpy(id, p + 1, (size_t)(q - p - 1));
        id[q - p - 1] = '\0';
        memcpy(theme, p + 1, (size_t)(colon - p - 1));
        theme[colon - p - 1] = '\0';
        /* "theme[k]": the k-th layer of the theme (k >= 2) */
        unsigned nth = 1;
        char *bracket = strchr(theme, '[');
        if (bracket != NULL) {
            char end = '\0';
            if (sscanf(bracket, "[%u%c", &nth, &end) != 2 || end != ']' || nth < 2 ||
                strchr(bracket, ']')[1] != '\0')
                return stapel__fail(m->ctx, STAPEL_EDATA,
                                    "%s: layer stack: feature %lld: bad claim id '%.*s%s'", path,
                                    fid, SHOWN(id));
            *bracket = '\0';
        }
        bool added;
        uint32_t t = stapel__strmap_get(&m->themes, theme, UINT32_MAX - 1, &added);
        if (t == UINT32_MAX)
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        if (!added && t != UINT32_MAX - 1 && nth > 1)
            t = nth_layer(m->s, theme, nth);
        if (added || t >= UINT32_MAX - 1)
            return stapel__fail(m->ctx, STAPEL_EDATA,
                                "%s: layer stack: feature %lld has a claim '%.*s%s' of a layer "
                                "that its run_info does not list",
                                path, fid, SHOWN(id));
        uint32_t c = stapel__strmap_get(&m->claims, id, (uint32_t)m->n_claims, &added);
        if (c == UINT32_MAX)
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        if (added) {
            if (m->n_claims == m->cap_claims) {
                size_t cap = m->cap_claims == 0 ? 1024 : 2 * m->cap_claims;
                stapel__item *d = realloc(m->claim_items, cap * sizeof *d);
                if (d == NULL)
                    return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
                m->claim_items = d;
                m->cap_claims = cap;
            }
            stapel__item *it = &m->claim_items[m->n_claims++];
            memset(it, 0, sizeof *it);
            it->group = t;
            it->fid = atoll(colon + 1);
        }
        for (size_t k = first; k < ids->n; k++)
            if (ids->v[k] == c)
                return stapel__fail(m->ctx, STAPEL_EDATA,
                                    "%s: layer stack: feature %lld: claim_ids names '%.*s%s' "
                                    "twice; the part is damaged, make the shard again",
                                    path, fid, SHOWN(id));
        if (!ids_push(ids, c))
            return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
        p = skip_spaces(q + 1);
        if (*p == ',') {
            p = skip_spaces(p + 1);
            continue;
        }
        if (*p == ']' && *skip_spaces(p + 1) == '\0')
            return STAPEL_OK;
        return bad_ids(m, path, fid, json, "is not a JSON list of claim ids");
    }
}

static stapel_status claim_ids(merger *m, const char *json, ids_buf *ids, const char *path,
                               long long fid)
{
    size_t n = strlen(json) + 1;
    char *buf = malloc(2 * n);
    if (buf == NULL)
        return stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
    stapel_status st = claim_ids_in(m, json, ids, path, fid, buf, buf + n);
    free(buf);
    return st;
}

/* A part's faces as read: their rings and seam flags, and for each face its
 * fid and its claim_ids, province and novex fields, still to be looked up
 * (three strings, each ended by a NUL, from text.data + text_at[k]; a NULL
 * field is an empty string). */
typedef struct part_faces {
    stapel__face_list list;
    stapel__buf text;
    size_t *text_at;
    long long *fid;
} part_faces;

/* The progress of the reading phase, in faces read. Every part is opened
 * twice: for its run_info, rules and zone_summary (one part after another,
 * before any face is read), then for its faces (side by side). An open
 * counts as OPEN_FACES faces, about what it costs on a local disk, so that
 * the progress of many small parts, where the opens take most of the time,
 * moves with the opens, and that of a few large ones with the faces. */
#define OPEN_FACES 400

typedef struct reading {
    stapel_ctx *ctx;
    double total; /* faces and opens of all parts (estimated in the first pass) */
    double shown; /* the fraction last reported: it does not go back */
} reading;

static void reading_at(reading *r, double done)
{
    /* 1.0 is said when the reading is done (its last step is not counted) */
    double f = r->total > 0 ? done / r->total : 0.0;
    if (f > 0.99)
        f = 0.99;
    if (f > r->shown) {
        r->shown = f;
        stapel__progress(r->ctx, "reading", f);
    }
}

typedef struct read_job {
    stapel_ctx *parent; /* reports progress; workers do not */
    part *parts;
    part_faces *pf;
    size_t n_parts;
    double grid;
    reading *progress;
    atomic_size_t done; /* faces read and opens made in this pass, all threads */
} read_job;

/* Progress of the faces' pass: the first pass's opens are done. */
static void read_job_progress(read_job *j)
{
    reading_at(j->progress, (double)(j->n_parts * OPEN_FACES + atomic_load(&j->done)));
}

static bool text_push(stapel__buf *b, OGRFeatureH f, int i)
{
    const char *v = OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsString(f, i) : "";
    return stapel__buf_append(b, v, strlen(v) + 1);
}

/* Read the faces of part i, its dataset open only meanwhile; a job of
 * stapel__parallel_for, so parts are read side by side. The lookups that
 * number claims and zones come after, in part order (faces_label), so the
 * numbers do not depend on which part was read first. */
static stapel_status read_faces(stapel_ctx *ctx, size_t i, void *user)
{
    read_job *j = user;
    part *p = &j->parts[i];
    part_faces *pf = &j->pf[i];
    stapel__face_list *list = &pf->list;
    stapel__gdal_push(ctx);
    GDALDatasetH ds = NULL;
    ctx->gdal_seen = &p->seen; /* one thread reads p */
    stapel_status st = stapel__dataset_open(ctx, &ds, p->path);
    if (st != STAPEL_OK) {
        ctx->gdal_seen = NULL;
        stapel__gdal_pop();
        return part_unchanged(ctx, p, st);
    }
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "stack");
    OGRFeatureDefnH d = l != NULL ? OGR_L_GetLayerDefn(l) : NULL;
    int i_ids = d != NULL ? OGR_FD_GetFieldIndex(d, "claim_ids") : -1;
    int i_prov = d != NULL ? OGR_FD_GetFieldIndex(d, "province") : -1;
    int i_nov = d != NULL ? OGR_FD_GetFieldIndex(d, "novex") : -1;
    int i_seam = d != NULL ? OGR_FD_GetFieldIndex(d, "seam") : -1;
    int64_t n = l != NULL ? OGR_L_GetFeatureCount(l, 1) : 0;
    size_t cap = (size_t)(n > 0 ? n : 1);
    /* The other fields follow from these (and the rules): leave them
     * unparsed. */
    int nf = d != NULL ? OGR_FD_GetFieldCount(d) : 0;
    const char **ignored = calloc((size_t)nf + 2, sizeof *ignored);
    if (ignored != NULL && i_ids >= 0 && i_prov >= 0 && i_nov >= 0 && i_seam >= 0) {
        int k = 0;
        for (int fi = 0; fi < nf; fi++)
            if (fi != i_ids && fi != i_prov && fi != i_nov && fi != i_seam)
                ignored[k++] = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(d, fi));
        ignored[k] = "OGR_STYLE";
        OGR_L_SetIgnoredFields(l, ignored); /* a hint: a driver may read them anyway */
    }
    free(ignored);
    if (l == NULL)
        st = stapel__fail(ctx, STAPEL_EDATA, "%s: no stack layer", p->path);
    else if (i_ids < 0 || i_prov < 0 || i_nov < 0 || i_seam < 0)
        st = stapel__fail(ctx, STAPEL_EDATA, "%s: the stack layer lacks %s", p->path,
                          i_seam < 0 ? "the seam field of a shard" : "stapel's fields");
    else if ((list->faces = calloc(cap, sizeof *list->faces)) == NULL ||
             (pf->text_at = malloc(cap * sizeof *pf->text_at)) == NULL ||
             (pf->fid = malloc(cap * sizeof *pf->fid)) == NULL)
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    OGRFeatureH f;
    int64_t n_read = 0;
    if (st == STAPEL_OK)
        OGR_L_ResetReading(l);
    /* n is the count the GeoPackage keeps (gpkg_ogr_contents), a hint
     * only: the faces are read to the end of the layer. */
    while (st == STAPEL_OK && (f = stapel__next_feature(ctx, l, p->path, &n_read, &st)) != NULL) {
        if (list->n == cap) {
            size_t c = 2 * cap;
            stapel__face *fd = realloc(list->faces, c * sizeof *fd);
            if (fd != NULL) {
                memset(fd + cap, 0, (c - cap) * sizeof *fd);
                list->faces = fd;
            }
            size_t *td = fd != NULL ? realloc(pf->text_at, c * sizeof *td) : NULL;
            if (td != NULL)
                pf->text_at = td;
            long long *id = td != NULL ? realloc(pf->fid, c * sizeof *id) : NULL;
            if (id != NULL)
                pf->fid = id;
            if (id == NULL) {
                OGR_F_Destroy(f);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                break;
            }
            cap = c;
        }
        long long fid = (long long)OGR_F_GetFID(f);
        stapel__face *face = &list->faces[list->n];
        GEOSGeometry *g = NULL;
        st = to_geos(ctx, OGR_F_GetGeometryRef(f), &g, p->path, "stack", fid);
        if (st == STAPEL_OK && !stapel__geom_rings(ctx, g, j->grid, &face->pts, &face->ring_end,
                                                   &face->n_rings))
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        if (g != NULL)
            GEOSGeom_destroy_r(ctx->geos, g);
        pf->text_at[list->n] = pf->text.len;
        pf->fid[list->n] = fid;
        if (st == STAPEL_OK &&
            (!text_push(&pf->text, f, i_ids) || !text_push(&pf->text, f, i_prov) ||
             !text_push(&pf->text, f, i_nov)))
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        face->on_seam = OGR_F_GetFieldAsInteger(f, i_seam) != 0;
        list->n++; /* counted even on failure, so the list frees it */
        OGR_F_Destroy(f);
        if ((list->n & 1023) == 0) {
            atomic_fetch_add(&j->done, 1024);
            if (stapel__cancelled(ctx))
                st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while reading %s", p->path);
            else if (ctx == j->parent)
                read_job_progress(j);
        }
    }
    GDALClose(ds);
    ctx->gdal_seen = NULL;
    stapel__gdal_pop();
    st = part_unchanged(ctx, p, st);
    /* A part records how many faces its run wrote: a face deleted since
     * (in QGIS, say) would leave a hole in the merged stack. */
    const char *wrote = st == STAPEL_OK ? run_value(p, "faces") : NULL;
    char *end = NULL;
    unsigned long long n_wrote = wrote != NULL ? strtoull(wrote, &end, 10) : 0;
    if (wrote != NULL && (wrote[0] < '0' || wrote[0] > '9' || *end != '\0'))
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: table run_info: faces '%.*s%s' is not a count; the part is "
                          "damaged, make the shard again",
                          p->path, SHOWN(wrote));
    else if (wrote != NULL && n_wrote != (unsigned long long)list->n)
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: layer stack has %zu faces where the shard wrote %.*s%s; the "
                          "part was edited or is damaged, make the shard again",
                          p->path, list->n, SHOWN(wrote));
    atomic_fetch_add(&j->done, OPEN_FACES + (list->n & 1023));
    if (ctx == j->parent)
        read_job_progress(j);
    return st;
}

/* The claims and zones of the faces read from part p, numbered in the order
 * they are first named (parts in order, faces in file order). */
static stapel_status faces_label(merger *m, const part *p, part_faces *pf)
{
    ids_buf ids = {0};
    stapel_status st = STAPEL_OK;
    for (size_t k = 0; k < pf->list.n && st == STAPEL_OK; k++) {
        stapel__face *face = &pf->list.faces[k];
        const char *json = pf->text.data + pf->text_at[k];
        const char *prov = json + strlen(json) + 1;
        const char *nov = prov + strlen(prov) + 1;
        long long fid = pf->fid[k];
        ids.n = 0;
        st = claim_ids(m, json, &ids, p->path, fid);
        if (st == STAPEL_OK && prov[0] != '\0')
            st = zone_ids(m, STAPEL_ZONE_PROVINCE, prov, &ids, p->path, fid);
        if (st == STAPEL_OK && nov[0] != '\0')
            st = zone_ids(m, STAPEL_ZONE_NOVEX, nov, &ids, p->path, fid);
        if (st == STAPEL_OK) {
            face->ids = malloc((ids.n + 1) * sizeof *face->ids);
            if (face->ids == NULL)
                st = stapel__fail(m->ctx, STAPEL_ENOMEM, "out of memory");
            else
                memcpy(face->ids, ids.v, ids.n * sizeof *ids.v);
            face->n_ids = (uint32_t)ids.n;
        }
        if ((k & 4095) == 0 && stapel__cancelled(m->ctx))
            st = stapel__fail(m->ctx, STAPEL_ECANCELLED, "cancelled while reading %s", p->path);
    }
    free(ids.v);
    return st;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t u = *(const uint32_t *)a, v = *(const uint32_t *)b;
    return (u > v) - (u < v);
}

static int cmp_part(const void *a, const void *b)
{
    return ((const part *)a)->index - ((const part *)b)->index;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The shards must be exactly 1..N. Each index is within 1..N (read_part)
 * and none is given twice (checked before), so the missing ones are the
 * gaps between the sorted indexes; the message lists the first few. */
static stapel_status check_complete(stapel_ctx *ctx, const part *parts, size_t n_parts)
{
    int count = parts[0].count;
    if (n_parts >= (size_t)count)
        return STAPEL_OK;
    size_t missing = (size_t)count - n_parts, listed = 0, k = 0;
    stapel__buf b = {0};
    for (int want = 1; want <= count && listed < 10; want++) {
        if (k < n_parts && parts[k].index == want) {
            k++;
            continue;
        }
        stapel__buf_printf(&b, "%s%d/%d", listed > 0 ? ", " : "", want, count);
        listed++;
    }
    if (missing > listed)
        stapel__buf_printf(&b, " and %zu more (%zu missing in all)", missing - listed, missing);
    stapel_status st =
        stapel__fail(ctx, STAPEL_EDATA, "missing shard%s %s: all %d are needed",
                     missing > 1 ? "s" : "", b.data != NULL ? b.data : "", count);
    stapel__buf_free(&b);
    return st;
}

/* The merged stack's faces and attributes, without its conflicts and
 * summaries. */

/* Give the seam faces of each shard the vertices the other shards' faces
 * have on the borders between them, as a single run aligns its tiles
 * before it merges them. Without it a seam edge that lacked the other
 * side's vertex did not cancel against it, and the merge's snap rounding
 * routed an edge near that vertex through it: a sliver of the face was
 * lost, a gap between it and its neighbour (0.0005 m² of a 1 mm wedge in a
 * run that gave none whole). */
static stapel_status align_shards(stapel_ctx *ctx, stapel__face_list *lists, size_t n)
{
    stapel__face **fv = malloc((n + 1) * sizeof *fv);
    size_t *nv = malloc((n + 1) * sizeof *nv);
    if (fv == NULL || nv == NULL) {
        free(fv);
        free(nv);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        fv[i] = lists[i].faces;
        nv[i] = lists[i].n;
    }
    stapel_status st = stapel__seams_align_parts(ctx, fv, nv, n);
    free(fv);
    free(nv);
    return st;
}
/* With out_path, the output is refused (stapel__output_check) once the
 * parts are known to be one run, before any face is read. */
static stapel_status merge_faces(stapel_ctx *ctx, stapel_stack **out, const char *const *paths,
                                 size_t n_paths, int threads, const char *out_path,
                                 unsigned out_flags)
{
    *out = NULL;
    if (n_paths == 0)
        return stapel__fail(ctx, STAPEL_EINVAL, "no shards to merge");
    if (paths == NULL)
        return stapel__fail(ctx, STAPEL_EINVAL, "no list of the %zu shards to merge (NULL)",
                            n_paths);
    for (size_t i = 0; i < n_paths; i++)
        if (paths[i] == NULL || paths[i][0] == '\0')
            return stapel__fail(ctx, STAPEL_EINVAL, "shard %zu of %zu to merge has no path%s", i + 1,
                                n_paths, paths[i] == NULL ? " (NULL)" : "");
    if (threads < 0)
        return stapel__fail(ctx, STAPEL_EINVAL, "threads must not be negative (%d)", threads);
    stapel_status st = STAPEL_OK;
    part *parts = calloc(n_paths, sizeof *parts);
    stapel__face_list *lists = calloc(n_paths, sizeof *lists);
    merger m = {.ctx = ctx};
    m.s = calloc(1, sizeof *m.s);
    if (parts == NULL || lists == NULL || m.s == NULL) {
        free(parts);
        free(lists);
        free(m.s);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    stapel_stack *s = m.s;
    s->threads = threads;
    s->geos = GEOS_init_r();
    s->merged = true;
    stapel__gdal_push(ctx);
    double t0 = now();
    stapel__progress(ctx, "reading", 0.0);
    reading progress = {ctx, 0.0, 0.0};
    /* First what each part is (run_info, rules), so that parts of other
     * runs are refused before any face is read. The faces of the parts not
     * yet read are taken to be as many as of those read. */
    size_t faces_seen = 0;
    for (size_t i = 0; i < n_paths && st == STAPEL_OK; i++) {
        parts[i].path = paths[i];
        st = read_part(ctx, &parts[i]);
        if (st == STAPEL_OK && stapel__cancelled(ctx))
            st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while reading %s", paths[i]);
        faces_seen += parts[i].n_faces;
        progress.total = (double)(2 * n_paths * OPEN_FACES) +
                         (double)faces_seen * (double)n_paths / (double)(i + 1);
        reading_at(&progress, (double)((i + 1) * OPEN_FACES));
    }
    progress.total = (double)(2 * n_paths * OPEN_FACES + faces_seen);
    if (st != STAPEL_OK)
        goto done;
    qsort(parts, n_paths, sizeof *parts, cmp_part);
    int count = parts[0].count;
    for (size_t i = 0; i < n_paths && st == STAPEL_OK; i++) {
        if (parts[i].count != count)
            st = stapel__fail(ctx, STAPEL_EDATA, "%s is shard %d/%d but %s is %d/%d", parts[0].path,
                              parts[0].index, count, parts[i].path, parts[i].index, parts[i].count);
        else if (i > 0 && parts[i].index == parts[i - 1].index)
            st = stapel__fail(ctx, STAPEL_EDATA, "%s and %s are both shard %d/%d",
                              parts[i - 1].path, parts[i].path, parts[i].index, count);
        else if (i > 0)
            st = same_run(ctx, &parts[0], &parts[i]);
    }
    if (st == STAPEL_OK)
        st = check_complete(ctx, parts, n_paths);
    /* A mistake in the parts is told before an output that exists. An
     * output that is one of the parts would replace that shard. */
    for (size_t i = 0; i < n_paths && st == STAPEL_OK && out_path != NULL; i++)
        st = stapel__output_not_input(ctx, out_path, "one of the parts", parts[i].path);
    if (st == STAPEL_OK && out_path != NULL)
        st = stapel__output_check(ctx, out_path, out_flags);
    if (st != STAPEL_OK)
        goto done;

    /* The run as the first shard has it: run_info rows, layers, rules, CRS
     * and zones. */
    s->n_parts = n_paths;
    for (size_t i = 0; i < parts[0].n_rows && st == STAPEL_OK; i++) {
        const stapel__kv *r = &parts[0].rows[i];
        if (!per_part(r->key) && strcmp(r->key, "stapel_version") != 0 &&
            !stapel__kv_push(&s->run, &s->n_run, r->key, r->value))
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    size_t dir = nth_row(&parts[0], "directory", 0); /* where the run's sources are */
    if (st == STAPEL_OK && dir != SIZE_MAX &&
        (s->directory = stapel__strdup(parts[0].rows[dir].value)) == NULL)
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    if (st == STAPEL_OK)
        st = run_layers(&m, &parts[0]);
    if (st != STAPEL_OK)
        goto done;
    s->in.grid = parts[0].grid > 0 ? parts[0].grid : 0.001;
    s->rules = parts[0].rules;
    parts[0].rules = NULL;
    /* Read from a table, they are the built-in rules when the run's were:
     * a warning of unrated pairs then says that --rules replaces them. */
    const char *rules_src = run_value(&parts[0], "rules");
    s->rules->builtin = rules_src != NULL && strcmp(rules_src, STAPEL__BUILTIN_RULES) == 0;
    GDALDatasetH ds0 = NULL;
    ctx->gdal_seen = &parts[0].seen;
    st = stapel__dataset_open(ctx, &ds0, parts[0].path);
    if (st != STAPEL_OK) {
        ctx->gdal_seen = NULL;
        st = part_unchanged(ctx, &parts[0], st);
        goto done;
    }
    OGRLayerH sl = GDALDatasetGetLayerByName(ds0, "stack");
    OGRSpatialReferenceH srs = sl != NULL ? OGR_L_GetSpatialRef(sl) : NULL;
    char *wkt = NULL;
    if (srs == NULL || OSRExportToWkt(srs, &wkt) != OGRERR_NONE)
        st = stapel__fail(ctx, STAPEL_ECRS, "%s: the stack layer has no CRS", parts[0].path);
    else if ((s->in.crs_wkt = stapel__strdup(wkt)) == NULL)
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    CPLFree(wkt);
    if (st == STAPEL_OK)
        st = read_zones(&m, ds0, parts[0].path, STAPEL_ZONE_PROVINCE);
    m.n_prov = m.n_zone_items;
    if (st == STAPEL_OK)
        st = read_zones(&m, ds0, parts[0].path, STAPEL_ZONE_NOVEX);
    GDALClose(ds0);
    st = part_unchanged(ctx, &parts[0], st);
    ctx->gdal_seen = NULL;
    stapel__gdal_seen_pass(&parts[0].seen);
    for (size_t i = 0; i < n_paths && st == STAPEL_OK; i++)
        st = bare_zones(&m, &parts[i]);
    part_faces *pf = calloc(n_paths, sizeof *pf);
    if (st == STAPEL_OK && pf == NULL)
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    if (st == STAPEL_OK) {
        read_job rj = {ctx, parts, pf, n_paths, s->in.grid, &progress, 0};
        atomic_init(&rj.done, 0);
        st = stapel__parallel_for(ctx, n_paths, s->threads, NULL, read_faces, &rj);
    }
    for (size_t i = 0; i < n_paths && st == STAPEL_OK; i++)
        st = faces_label(&m, &parts[i], &pf[i]);
    for (size_t i = 0; pf != NULL && i < n_paths; i++) {
        lists[i] = pf[i].list; /* freed with the lists */
        stapel__buf_free(&pf[i].text);
        free(pf[i].text_at);
        free(pf[i].fid);
    }
    free(pf);
    if (st != STAPEL_OK)
        goto done;
    stapel__progress(ctx, "reading", 1.0);
    s->stats.seconds_read = now() - t0;

    /* Items: claims, then provinces, then NOVEX areas; zone ids move past
     * the claims now that their number is known. */
    size_t nz = m.n_zone_items;
    s->in.items = calloc(m.n_claims + nz + 1, sizeof *s->in.items);
    if (s->in.items == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    if (m.n_claims > 0)
        memcpy(s->in.items, m.claim_items, m.n_claims * sizeof *m.claim_items);
    if (nz > 0)
        memcpy(s->in.items + m.n_claims, m.zone_items, nz * sizeof *m.zone_items);
    free(m.zone_items);
    m.zone_items = NULL;
    m.n_zone_items = 0;
    s->in.n_items = s->in.cap_items = m.n_claims + nz;
    s->in.n_claims = m.n_claims;
    s->in.n_provinces = m.n_prov;
    s->in.n_novex = nz - m.n_prov;
    for (size_t i = 0; i < n_paths; i++) {
        for (size_t k = 0; k < lists[i].n; k++) {
            stapel__face *f = &lists[i].faces[k];
            for (uint32_t j = 0; j < f->n_ids; j++)
                if (f->ids[j] & ZONE_BIT)
                    f->ids[j] = (uint32_t)m.n_claims + (f->ids[j] & ~ZONE_BIT);
            qsort(f->ids, f->n_ids, sizeof *f->ids, cmp_u32);
        }
    }
    stapel__progress(ctx, "merging", 0.0);
    t0 = now();
    st = stapel__stack_themes(ctx, s);
    if (st == STAPEL_OK)
        st = align_shards(ctx, lists, n_paths);
    if (st == STAPEL_OK)
        st = stapel__stack_assemble(ctx, s, n_paths, lists);
    s->stats.seconds_merge = now() - t0;
    if (st == STAPEL_OK && s->in.n_provinces > 0) {
        const char *prov = run_value(&parts[0], "provinces");
        st = stapel__warn_outside_provinces(ctx, s, prov != NULL ? prov : "the provinces");
    }
    if (st != STAPEL_OK)
        goto done;
    stapel__progress(ctx, "merging", 1.0);
    s->stats.n_faces = (int64_t)s->n_faces;
    s->stats.n_claims = (int64_t)s->in.n_claims;
done:
    for (size_t i = 0; i < n_paths; i++) {
        stapel__faces_free(lists[i].faces, lists[i].n);
        stapel__kv_free(parts[i].rows, parts[i].n_rows);
        stapel__kv_free(parts[i].summary, parts[i].n_summary);
        stapel_rules_free(parts[i].rules);
        stapel__gdal_seen_free(&parts[i].seen);
    }
    stapel__gdal_pop();
    free(lists);
    free(parts);
    if (m.zone_items != NULL)
        for (size_t i = 0; i < m.n_zone_items; i++)
            GEOSGeom_destroy_r(s->geos, m.zone_items[i].geom);
    free(m.zone_items);
    free(m.claim_items);
    stapel__strmap_free(&m.claims);
    stapel__strmap_free(&m.themes);
    stapel__strmap_free(&m.zones[0]);
    stapel__strmap_free(&m.zones[1]);
    stapel__strmap_free(&m.bare[0]);
    stapel__strmap_free(&m.bare[1]);
    if (st != STAPEL_OK) {
        stapel_stack_free(s);
        return st;
    }
    *out = s;
    return STAPEL_OK;
}

stapel_status stapel_stack_merge(stapel_ctx *ctx, stapel_stack **out, const char *const *paths,
                                 size_t n_paths)
{
    STAPEL__ENTER_OUT(ctx, out);
    stapel_stack *s = NULL;
    stapel_status st = merge_faces(ctx, &s, paths, n_paths, 0, NULL, 0);
    if (st != STAPEL_OK)
        return st;
    return stapel__stack_finish(ctx, s, NULL, 0, out);
}

stapel_status stapel_stack_merge_write(stapel_ctx *ctx, stapel_stack **out,
                                       const char *const *paths, size_t n_paths, int threads,
                                       const char *path, unsigned flags)
{
    STAPEL__ENTER_OUT(ctx, out);
    if (stapel__flags_check(ctx, flags) != STAPEL_OK)
        return STAPEL_EINVAL;
    if (path == NULL || path[0] == '\0')
        return stapel__output_check(ctx, path, flags);
    stapel_stack *s = NULL;
    stapel_status st = merge_faces(ctx, &s, paths, n_paths, threads, path, flags);
    if (st != STAPEL_OK)
        return st;
    return stapel__stack_finish(ctx, s, path, flags, out);
}
