/*
 * write.c - the stack as a GeoPackage: layers stack, provinces and novex.
 *
 * Nothing partial ever appears at the target path: the file is built under a
 * temporary name in the same directory, in large transactions, closed, and
 * only then renamed over the target (stapel__publish: without overwrite, a
 * target that appeared during the run is kept and the run fails). Any failure
 * or cancellation removes the temporary file and leaves an existing target
 * untouched.
 */
#define _GNU_SOURCE /* sync_file_range (Linux) */
#include "pipeline.h"
#include "rtree.h"
#include "source.h"
#include "style.h"
#include "arrange.h"

#include <cpl_string.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define ROWS_PER_TRANSACTION 50000

/* A stack of this many faces or more is written in SQLite pages of 64 KiB
 * instead of 4 KiB: fewer, larger writes (the 488,015 faces of the national
 * scenario at scale 10: its stack layer in 0.50 s instead of 0.62 s, the
 * whole run 8 % faster, the file 1 % smaller). A small one keeps 4 KiB
 * pages, as every table and index takes one page at least. */
#define LARGE_PAGES_FACES 20000

typedef struct writer {
    stapel_ctx *ctx;
    GEOSWKBWriter *wkb;
    const char *tmp;
    const char *out; /* the output as the user named it: messages name this */
    stapel__rtree_box *boxes; /* of the layer being filled, for its spatial index */
    size_t n_boxes;
    atomic_size_t *written; /* stack rows written so far, for progress */
} writer;

static stapel_status to_ogr_multi(writer *w, const GEOSGeometry *g, OGRGeometryH *out)
{
    *out = NULL;
    size_t size = 0;
    unsigned char *buf = GEOSWKBWriter_write_r(w->ctx->geos, w->wkb, g, &size);
    if (buf == NULL)
        return stapel__fail(w->ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(w->ctx));
    OGRGeometryH og = NULL;
    OGRErr err = OGR_G_CreateFromWkbEx(buf, NULL, &og, size);
    GEOSFree_r(w->ctx->geos, buf);
    if (err != OGRERR_NONE || og == NULL)
        return stapel__fail(w->ctx, STAPEL_EGEOS, "cannot convert a geometry for writing");
    *out = OGR_G_ForceToMultiPolygon(og);
    return STAPEL_OK;
}

/* Give feat the geometry g (as a MultiPolygon; none when g is NULL) and add
 * it to l; feat is consumed. what names the feature in messages. */
static stapel_status add_feature(writer *w, OGRLayerH l, OGRFeatureH feat, const GEOSGeometry *g,
                                 const char *what)
{
    if (g != NULL) {
        OGRGeometryH og;
        stapel_status st = to_ogr_multi(w, g, &og);
        if (st != STAPEL_OK) {
            OGR_F_Destroy(feat);
            return st;
        }
        OGR_F_SetGeometryDirectly(feat, og);
    }
    OGRErr err = OGR_L_CreateFeature(l, feat);
    OGR_F_Destroy(feat);
    if (err != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s (trying to write %s)",
                            w->out, stapel__gdal_error("unknown error"), what);
    return STAPEL_OK;
}

static stapel_status create_layer(writer *w, GDALDatasetH ds, OGRSpatialReferenceH srs,
                                  const char *name, const char *title, const char *description,
                                  bool index, OGRLayerH *out)
{
    char ident[256], desc[1024];
    snprintf(ident, sizeof ident, "IDENTIFIER=%s", title);
    snprintf(desc, sizeof desc, "DESCRIPTION=%s", description);
    char *opts[] = {ident, desc, "GEOMETRY_NAME=geom", "FID=fid",
                    index ? NULL : "SPATIAL_INDEX=NO", NULL};
    *out = GDALDatasetCreateLayer(ds, name, srs, wkbMultiPolygon, opts);
    if (*out == NULL)
        return stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s (trying to create layer %s)",
                            w->out, stapel__gdal_error("unknown error"), name);
    return STAPEL_OK;
}

static stapel_status add_field(writer *w, OGRLayerH l, const char *name, OGRFieldType type,
                               OGRFieldSubType sub)
{
    OGRFieldDefnH fd = OGR_Fld_Create(name, type);
    OGR_Fld_SetSubType(fd, sub);
    OGRErr err = OGR_L_CreateField(l, fd, 1);
    OGR_Fld_Destroy(fd);
    if (err != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s (trying to create field %s)",
                            w->out, stapel__gdal_error("unknown error"), name);
    return STAPEL_OK;
}

/* Start a transaction through GDAL. */
static stapel_status begin(writer *w, GDALDatasetH ds)
{
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO,
                            "cannot write '%s': %s (trying to start a transaction)", w->out,
                            stapel__gdal_error("unknown error"));
    return STAPEL_OK;
}

/* Commit the open transaction and, when reopen, start a new one. */
static stapel_status commit(writer *w, GDALDatasetH ds, bool reopen)
{
    if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s", w->out,
                            stapel__gdal_error("unknown error"));
    return reopen ? begin(w, ds) : STAPEL_OK;
}

/* The stack layer's table, fields and metadata rows; its rows are written
 * by write_faces. */
static stapel_status create_stack_layer(writer *w, GDALDatasetH ds, OGRSpatialReferenceH srs,
                                        const stapel_stack *s)
{
    OGRLayerH l;
    stapel_status st = create_layer(
        w, ds, srs, "stack", "Stapelkaart",
        "Faces of the stack: where the set of covering claims is constant, with the claims, "
        "themes, province and NOVEX areas of each face. Made by stapel.",
        false, &l);
    if (st != STAPEL_OK)
        return st;
    struct {
        const char *name;
        OGRFieldType type;
        OGRFieldSubType sub;
    } fields[] = {
        {"n_claims", OFTInteger, OFSTNone},  {"n_themes", OFTInteger, OFSTNone},
        {"themes", OFTString, OFSTNone},     {"claim_ids", OFTString, OFSTJSON},
        {"province", OFTString, OFSTNone},   {"novex", OFTString, OFSTNone},
        {"verdict", OFTString, OFSTNone},    {"conflict_pairs", OFTString, OFSTJSON},
        {"area_m2", OFTReal, OFSTNone},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && st == STAPEL_OK; i++)
        st = add_field(w, l, fields[i].name, fields[i].type, fields[i].sub);
    /* A shard marks the faces that touch tile seams, for stapel merge. */
    if (st == STAPEL_OK && s->shard_count > 0)
        st = add_field(w, l, "seam", OFTInteger, OFSTBoolean);
    return st;
}

/* ---- the stack layer, straight into SQLite ----------------------------------
 *
 * The stack layer holds most of the file. GDAL creates it (table, fields,
 * metadata rows) and the rows go in through one prepared statement: each
 * face's GeoPackage geometry blob is encoded here from its grid rings, with
 * no GEOS or OGR geometry in between. The layer's extent, feature count and
 * spatial index are set at the end, as GDAL would have set them. */

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static bool bytes_room(bytes *b, size_t n)
{
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap == 0 ? 4096 : b->cap;
    while (cap < b->len + n)
        cap *= 2;
    unsigned char *d = realloc(b->p, cap);
    if (d == NULL)
        return false;
    b->p = d;
    b->cap = cap;
    return true;
}

static void put_u32(bytes *b, uint32_t v)
{
    memcpy(b->p + b->len, &v, 4);
    b->len += 4;
}

static void put_f64(bytes *b, double v)
{
    memcpy(b->p + b->len, &v, 8);
    b->len += 8;
}

static void put_u8(bytes *b, unsigned v)
{
    b->p[b->len++] = (unsigned char)v;
}

static bool host_le(void)
{
    const uint16_t one = 1;
    unsigned char c;
    memcpy(&c, &one, 1);
    return c == 1;
}

/* Append the GeoPackage blob of rings f (a MultiPolygon, in host byte order,
 * with its xy envelope) to b; env receives the envelope. f has a ring. */
static bool rings_blob(bytes *b, stapel__rings f, double grid, int32_t srs_id, double env[4])
{
    uint32_t n_poly = 0;
    int64_t x0 = INT64_MAX, y0 = INT64_MAX, x1 = INT64_MIN, y1 = INT64_MIN;
    uint32_t start = 0;
    for (uint32_t k = 0; k < f.n_rings; k++) {
        stapel__i128 a2 = 0;
        for (uint32_t i = start; i < f.ring_end[k]; i++) {
            stapel__ipt p = f.pts[i];
            x0 = p.x < x0 ? p.x : x0;
            y0 = p.y < y0 ? p.y : y0;
            x1 = p.x > x1 ? p.x : x1;
            y1 = p.y > y1 ? p.y : y1;
            if (i + 1 < f.ring_end[k])
                a2 += (stapel__i128)p.x * f.pts[i + 1].y - (stapel__i128)f.pts[i + 1].x * p.y;
        }
        n_poly += a2 > 0 || k == 0; /* a shell starts a polygon */
        start = f.ring_end[k];
    }
    env[0] = (double)x0 * grid;
    env[1] = (double)y0 * grid;
    env[2] = (double)x1 * grid;
    env[3] = (double)y1 * grid;
    size_t n_pts = f.ring_end[f.n_rings - 1];
    if (!bytes_room(b, 8 + 32 + 9 + 9 * (size_t)n_poly + 4 * (size_t)f.n_rings + 16 * n_pts))
        return false;
    bool le = host_le();
    /* Header: magic, version 0, flags (byte order; envelope [minx, maxx,
     * miny, maxy]), srs_id, envelope. */
    put_u8(b, 'G');
    put_u8(b, 'P');
    put_u8(b, 0);
    put_u8(b, (1u << 1) | (le ? 1u : 0u));
    put_u32(b, (uint32_t)srs_id);
    put_f64(b, env[0]);
    put_f64(b, env[2]);
    put_f64(b, env[1]);
    put_f64(b, env[3]);
    /* WKB MultiPolygon */
    put_u8(b, le ? 1 : 0);
    put_u32(b, 6);
    put_u32(b, n_poly);
    start = 0;
    size_t n_rings_at = 0; /* where the open polygon's ring count goes */
    uint32_t rings_in_poly = 0;
    for (uint32_t k = 0; k < f.n_rings; k++) {
        uint32_t end = f.ring_end[k];
        stapel__i128 a2 = 0;
        for (uint32_t i = start; i + 1 < end; i++)
            a2 += (stapel__i128)f.pts[i].x * f.pts[i + 1].y -
                  (stapel__i128)f.pts[i + 1].x * f.pts[i].y;
        if (a2 > 0 || k == 0) {
            if (k > 0)
                memcpy(b->p + n_rings_at, &rings_in_poly, 4);
            put_u8(b, le ? 1 : 0);
            put_u32(b, 3);
            n_rings_at = b->len;
            put_u32(b, 0);
            rings_in_poly = 0;
        }
        put_u32(b, end - start);
        for (uint32_t i = start; i < end; i++) {
            put_f64(b, (double)f.pts[i].x * grid);
            put_f64(b, (double)f.pts[i].y * grid);
        }
        rings_in_poly++;
        start = end;
    }
    memcpy(b->p + n_rings_at, &rings_in_poly, 4);
    return true;
}

static stapel_status sql_fail(writer *w, sqlite3 *db, const char *what)
{
    return stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s (trying to %s)", w->out,
                        db != NULL ? sqlite3_errmsg(db) : "out of memory", what);
}

/* The triggers GDAL put on the stack table (feature count), to be dropped
 * while the rows go in and put back after. */
typedef struct saved_sql {
    char **v;
    size_t n;
} saved_sql;

static void saved_free(saved_sql *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
}

static stapel_status drop_triggers(writer *w, sqlite3 *db, const char *table, saved_sql *t)
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                           "tbl_name = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return sql_fail(w, db, "read the triggers");
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    stapel__buf drop = {0};
    bool ok = true;
    while (ok && sqlite3_step(q) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(q, 0);
        const char *sql = (const char *)sqlite3_column_text(q, 1);
        char **d = realloc(t->v, (t->n + 1) * sizeof *d);
        ok = d != NULL;
        if (ok) {
            t->v = d;
            t->v[t->n] = stapel__strdup(sql);
            ok = t->v[t->n] != NULL;
            t->n += ok;
        }
        ok = ok && stapel__buf_printf(&drop, "DROP TRIGGER \"%s\";", name);
    }
    sqlite3_finalize(q);
    if (!ok) {
        stapel__buf_free(&drop);
        return stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
    }
    int rc = drop.data != NULL ? sqlite3_exec(db, drop.data, NULL, NULL, NULL) : SQLITE_OK;
    stapel__buf_free(&drop);
    return rc == SQLITE_OK ? STAPEL_OK : sql_fail(w, db, "drop a trigger");
}

/* Rows per INSERT statement: one statement per row costs more than the row. */
#define ROWS_PER_INSERT 64

static stapel_status prepare_insert(writer *w, sqlite3 *db, const stapel_stack *s, int rows,
                                    sqlite3_stmt **out)
{
    stapel__buf sql = {0};
    bool seam = s->shard_count > 0;
    bool ok = stapel__buf_printf(&sql,
                                 "INSERT INTO stack (fid, geom, n_claims, n_themes, themes, "
                                 "claim_ids, province, novex, verdict, conflict_pairs, area_m2%s) "
                                 "VALUES ",
                                 seam ? ", seam" : "");
    for (int r = 0; r < rows && ok; r++)
        ok = stapel__buf_printf(&sql, "%s(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?%s)", r > 0 ? ", " : "",
                                seam ? ", ?" : "");
    if (!ok) {
        stapel__buf_free(&sql);
        return stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
    }
    int rc = sqlite3_prepare_v2(db, sql.data, -1, out, NULL);
    stapel__buf_free(&sql);
    return rc == SQLITE_OK ? STAPEL_OK : sql_fail(w, db, "prepare the stack rows");
}

/* Bind face f as row r of q; its blob and claim ids are borrowed. */
static void bind_face(sqlite3_stmt *q, int r, const stapel_stack *s, const stapel__out_face *f,
                      int64_t fid, const unsigned char *blob, size_t blob_len,
                      const char *claims, size_t claims_len)
{
    int c = r * (s->shard_count > 0 ? 12 : 11);
    sqlite3_bind_int64(q, c + 1, fid);
    sqlite3_bind_blob(q, c + 2, blob, (int)blob_len, SQLITE_STATIC);
    sqlite3_bind_int(q, c + 3, f->n_claims);
    sqlite3_bind_int(q, c + 4, f->n_themes);
    sqlite3_bind_text(q, c + 5, f->themes, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, c + 6, claims, (int)claims_len, SQLITE_STATIC);
    if (f->province != NULL)
        sqlite3_bind_text(q, c + 7, f->province, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, c + 7);
    if (f->novex != NULL)
        sqlite3_bind_text(q, c + 8, f->novex, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, c + 8);
    sqlite3_bind_text(q, c + 9, stapel_verdict_name(f->verdict), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, c + 10, f->conflict_pairs, -1, SQLITE_STATIC);
    sqlite3_bind_double(q, c + 11, f->area);
    if (s->shard_count > 0)
        sqlite3_bind_int(q, c + 12, f->seam ? 1 : 0);
}

/* The faces' rows are encoded (GeoPackage blob, claim ids, envelope) on a
 * thread of their own, a chunk ahead of the thread that hands them to
 * SQLite: the two halves of the work take about as long as each other. */
#define ENC_CHUNK 4096
#define ENC_SLOTS 3

typedef struct enc_chunk {
    size_t first, n;
    bytes blobs;
    stapel__buf claims;
    size_t boff[ENC_CHUNK + 1], coff[ENC_CHUNK + 1];
    bool ready; /* encoded, not yet written */
} enc_chunk;

typedef struct encoder {
    const stapel_stack *s;
    int32_t srs_id;
    stapel__rtree_box *boxes;
    double ext[4];
    enc_chunk slot[ENC_SLOTS];
    size_t n_chunks;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;   /* the writer gave up */
    bool failed; /* the encoder ran out of memory */
} encoder;

static bool encode_chunk(encoder *e, enc_chunk *c)
{
    const stapel_stack *s = e->s;
    c->blobs.len = 0;
    c->claims.len = 0;
    for (size_t r = 0; r < c->n; r++) {
        const stapel__out_face *f = &s->faces[c->first + r];
        double env[4];
        c->boff[r] = c->blobs.len;
        c->coff[r] = c->claims.len;
        if (!rings_blob(&c->blobs, stapel__out_rings(f), s->in.grid, e->srs_id, env) ||
            !stapel__face_claim_ids(s, f, &c->claims))
            return false;
        e->boxes[c->first + r] =
            (stapel__rtree_box){(int64_t)(c->first + r) + 1, env[0], env[1], env[2], env[3]};
        e->ext[0] = env[0] < e->ext[0] ? env[0] : e->ext[0];
        e->ext[1] = env[1] < e->ext[1] ? env[1] : e->ext[1];
        e->ext[2] = env[2] > e->ext[2] ? env[2] : e->ext[2];
        e->ext[3] = env[3] > e->ext[3] ? env[3] : e->ext[3];
    }
    c->boff[c->n] = c->blobs.len;
    c->coff[c->n] = c->claims.len;
    return true;
}

static void *encoder_main(void *arg)
{
    encoder *e = arg;
    for (size_t k = 0; k < e->n_chunks; k++) {
        enc_chunk *c = &e->slot[k % ENC_SLOTS];
        pthread_mutex_lock(&e->lock);
        while (c->ready && !e->stop)
            pthread_cond_wait(&e->cond, &e->lock);
        bool stop = e->stop;
        pthread_mutex_unlock(&e->lock);
        if (stop)
            return NULL;
        c->first = k * ENC_CHUNK;
        c->n = e->s->n_faces - c->first < ENC_CHUNK ? e->s->n_faces - c->first : ENC_CHUNK;
        bool ok = encode_chunk(e, c);
        pthread_mutex_lock(&e->lock);
        if (ok)
            c->ready = true;
        else
            e->failed = true;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        if (!ok)
            return NULL;
    }
    return NULL;
}

/* Write the rows of an encoded chunk, ROWS_PER_INSERT at a time. */
static stapel_status write_chunk(writer *w, sqlite3 *db, const stapel_stack *s,
                                 const enc_chunk *c, sqlite3_stmt *batch, sqlite3_stmt *one)
{
    for (size_t r = 0; r < c->n;) {
        bool full = c->n - r >= ROWS_PER_INSERT;
        sqlite3_stmt *q = full ? batch : one;
        size_t n = full ? ROWS_PER_INSERT : 1, r0 = r;
        for (size_t j = 0; j < n; j++, r++)
            bind_face(q, (int)j, s, &s->faces[c->first + r], (int64_t)(c->first + r) + 1,
                      c->blobs.p + c->boff[r], c->boff[r + 1] - c->boff[r],
                      c->claims.data + c->coff[r], c->coff[r + 1] - c->coff[r]);
        int rc = sqlite3_step(q);
        sqlite3_reset(q);
        if (rc != SQLITE_DONE)
            return stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s (trying to write faces %zu to %zu)",
                                w->out, sqlite3_errmsg(db), c->first + r0 + 1, c->first + r);
    }
    return STAPEL_OK;
}

static stapel_status insert_faces(writer *w, sqlite3 *db, const stapel_stack *s, int32_t srs_id,
                                  double ext[4])
{
    sqlite3_stmt *batch = NULL, *one = NULL;
    stapel_status st = prepare_insert(w, db, s, ROWS_PER_INSERT, &batch);
    if (st == STAPEL_OK)
        st = prepare_insert(w, db, s, 1, &one);
    encoder *e = calloc(1, sizeof *e);
    if (st == STAPEL_OK && e == NULL)
        st = stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
    if (st != STAPEL_OK) {
        sqlite3_finalize(batch);
        sqlite3_finalize(one);
        free(e);
        return st;
    }
    e->s = s;
    e->srs_id = srs_id;
    e->boxes = w->boxes;
    e->ext[0] = e->ext[1] = INFINITY;
    e->ext[2] = e->ext[3] = -INFINITY;
    e->n_chunks = (s->n_faces + ENC_CHUNK - 1) / ENC_CHUNK;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->cond, NULL);
    pthread_t tid;
    bool threaded = pthread_create(&tid, NULL, encoder_main, e) == 0;
    size_t since_commit = 0;
    for (size_t k = 0; k < e->n_chunks && st == STAPEL_OK; k++) {
        enc_chunk *c = &e->slot[k % ENC_SLOTS];
        if (!threaded) { /* no thread to be had: encode here */
            c->first = k * ENC_CHUNK;
            c->n = s->n_faces - c->first < ENC_CHUNK ? s->n_faces - c->first : ENC_CHUNK;
            if (!encode_chunk(e, c))
                e->failed = true;
            else
                c->ready = true;
        }
        pthread_mutex_lock(&e->lock);
        while (!c->ready && !e->failed)
            pthread_cond_wait(&e->cond, &e->lock);
        bool failed = !c->ready;
        pthread_mutex_unlock(&e->lock);
        if (failed) {
            st = stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
            break;
        }
        if (stapel__cancelled(w->ctx)) {
            st = stapel__fail(w->ctx, STAPEL_ECANCELLED, "cancelled while writing");
            break;
        }
        stapel__progress(w->ctx, "writing", (double)c->first / (double)(s->n_faces + 1));
        if (since_commit >= ROWS_PER_TRANSACTION) {
            if (sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
                st = sql_fail(w, db, "commit");
                break;
            }
            since_commit = 0;
        }
        st = write_chunk(w, db, s, c, batch, one);
        since_commit += c->n;
        atomic_store(w->written, c->first + c->n);
        pthread_mutex_lock(&e->lock);
        c->ready = false;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
    }
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
    if (threaded)
        pthread_join(tid, NULL);
    memcpy(ext, e->ext, sizeof e->ext);
    for (int i = 0; i < ENC_SLOTS; i++) {
        free(e->slot[i].blobs.p);
        stapel__buf_free(&e->slot[i].claims);
    }
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->cond);
    free(e);
    sqlite3_finalize(batch);
    sqlite3_finalize(one);
    return st;
}

/* The rows of one layer that GDAL created without a spatial index; fn
 * inserts n rows and fills w->boxes and the extent. */
typedef stapel_status (*rows_fn)(writer *w, sqlite3 *db, const stapel_stack *s, int32_t srs_id,
                                 double ext[4]);

static stapel_status fill_layer(writer *w, const stapel_stack *s, const char *table, size_t n,
                                rows_fn fn)
{
    sqlite3 *db = NULL;
    saved_sql trig = {0};
    stapel_status st = STAPEL_OK;
    char sql[512];
    w->boxes = malloc((n + 1) * sizeof *w->boxes);
    if (w->boxes == NULL)
        return stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
    w->n_boxes = n;
    /* One thread uses this connection: no mutexes. */
    if (sqlite3_open_v2(w->tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(sql, sizeof sql, "open it for the %s layer", table);
        st = sql_fail(w, db, sql);
        goto done;
    }
    /* The file is temporary until renamed: a crash loses nothing. */
    if (sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN", NULL, NULL,
                     NULL) != SQLITE_OK) {
        st = sql_fail(w, db, "start a transaction");
        goto done;
    }
    sqlite3_stmt *q = NULL;
    int32_t srs_id = 0;
    if (sqlite3_prepare_v2(db, "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_finalize(q);
        snprintf(sql, sizeof sql, "find the %s layer", table);
        st = sql_fail(w, db, sql);
        goto done;
    }
    srs_id = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    st = drop_triggers(w, db, table, &trig);
    double ext[4] = {0, 0, 0, 0};
    if (st == STAPEL_OK)
        st = fn(w, db, s, srs_id, ext);
    if (st != STAPEL_OK)
        goto done;
    for (size_t i = 0; i < trig.n && st == STAPEL_OK; i++)
        if (sqlite3_exec(db, trig.v[i], NULL, NULL, NULL) != SQLITE_OK)
            st = sql_fail(w, db, "restore a trigger");
    /* CPLsnprintf: a point in the numbers whatever the host program's
     * locale (a decimal comma would split them in the SQL). */
    if (n > 0)
        CPLsnprintf(sql, sizeof sql,
                    "UPDATE gpkg_contents SET min_x = %.17g, min_y = %.17g, max_x = %.17g, max_y = "
                    "%.17g, last_change = strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now') WHERE "
                    "lower(table_name) = '%s'; ",
                    ext[0], ext[1], ext[2], ext[3], table);
    else
        sql[0] = '\0';
    size_t used = strlen(sql);
    snprintf(sql + used, sizeof sql - used,
             "UPDATE gpkg_ogr_contents SET feature_count = %zu WHERE lower(table_name) = '%s'",
             n, table);
    if (st == STAPEL_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        st = sql_fail(w, db, "record the layer's extent");
    /* GDAL would fill the index row by row; bulk-load it instead. */
    if (st == STAPEL_OK)
        st = stapel__rtree_bulk(w->ctx, db, w->out, table, "geom", "fid", w->boxes, w->n_boxes);
    if (st == STAPEL_OK && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        st = sql_fail(w, db, "commit");
done:
    saved_free(&trig);
    if (db != NULL && sqlite3_close(db) != SQLITE_OK && st == STAPEL_OK)
        st = sql_fail(w, db, "close");
    free(w->boxes);
    w->boxes = NULL;
    return st;
}

static stapel_status insert_conflicts(writer *w, sqlite3 *db, const stapel_stack *s,
                                      int32_t srs_id, double ext[4])
{
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO conflicts (fid, geom, theme_a, theme_b, verdict, note, "
                           "province, novex, area_m2) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK)
        return sql_fail(w, db, "prepare the conflicts rows");
    bytes blob = {0};
    stapel_status st = STAPEL_OK;
    size_t T = s->n_themes;
    ext[0] = ext[1] = INFINITY;
    ext[2] = ext[3] = -INFINITY;
    for (size_t i = 0; i < s->n_conflicts && st == STAPEL_OK; i++) {
        const stapel__conflict *c = &s->conflicts[i];
        int64_t fid = (int64_t)i + 1;
        double env[4] = {0, 0, 0, 0};
        blob.len = 0;
        if (c->n_rings > 0) {
            stapel__rings r = {c->pts, c->ring_end, c->n_rings};
            if (!rings_blob(&blob, r, s->in.grid, srs_id, env)) {
                st = stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
                break;
            }
            ext[0] = env[0] < ext[0] ? env[0] : ext[0];
            ext[1] = env[1] < ext[1] ? env[1] : ext[1];
            ext[2] = env[2] > ext[2] ? env[2] : ext[2];
            ext[3] = env[3] > ext[3] ? env[3] : ext[3];
        }
        w->boxes[i] = (stapel__rtree_box){fid, env[0], env[1], env[2], env[3]};
        const char *note = s->notes[c->theme_a * T + c->theme_b];
        sqlite3_bind_int64(q, 1, fid);
        if (c->n_rings > 0)
            sqlite3_bind_blob(q, 2, blob.p, (int)blob.len, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 2);
        sqlite3_bind_text(q, 3, s->themes[c->theme_a], -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, s->themes[c->theme_b], -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, stapel_verdict_name(c->verdict), -1, SQLITE_STATIC);
        if (note != NULL)
            sqlite3_bind_text(q, 6, note, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 6);
        if (c->province != NULL)
            sqlite3_bind_text(q, 7, c->province, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 7);
        if (c->novex != NULL)
            sqlite3_bind_text(q, 8, c->novex, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(q, 8);
        sqlite3_bind_double(q, 9, c->area);
        if (sqlite3_step(q) != SQLITE_DONE)
            st = stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s (trying to write conflict %lld)",
                              w->out, sqlite3_errmsg(db), (long long)fid);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    free(blob.p);
    return st;
}


static stapel_status write_zones(writer *w, GDALDatasetH ds, OGRSpatialReferenceH srs,
                                 const stapel_stack *s, stapel_zone_kind kind)
{
    const stapel__input *in = &s->in;
    size_t lo = in->n_claims + (kind == STAPEL_ZONE_NOVEX ? in->n_provinces : 0);
    size_t n = kind == STAPEL_ZONE_NOVEX ? in->n_novex : in->n_provinces;
    const char *field = s->zone_fields[kind];
    if (field == NULL)
        return STAPEL_OK;
    OGRLayerH l;
    stapel_status st =
        kind == STAPEL_ZONE_PROVINCE
            ? create_layer(w, ds, srs, "provinces", "Provincies",
                           "Province zones as read, in the working CRS.", true, &l)
            : create_layer(w, ds, srs, "novex", "NOVEX-gebieden",
                           "NOVEX areas as read, in the working CRS.", true, &l);
    if (st != STAPEL_OK)
        return st;
    st = add_field(w, l, field, OFTString, OFSTNone);
    if (st != STAPEL_OK)
        return st;
    st = begin(w, ds);
    if (st != STAPEL_OK)
        return st;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    for (size_t i = 0; i < n; i++) {
        const stapel__item *it = &in->items[lo + i];
        OGRFeatureH feat = OGR_F_Create(defn);
        OGR_F_SetFieldString(feat, 0, in->zone_names[it->group]);
        st = add_feature(w, l, feat, it->geom, "a zone");
        if (st != STAPEL_OK)
            return st;
    }
    return commit(w, ds, false);
}

/* The conflicts layer's table and fields; its rows are written by
 * insert_conflicts once the summary is done. */
static stapel_status create_conflicts_layer(writer *w, GDALDatasetH ds, OGRSpatialReferenceH srs)
{
    OGRLayerH l;
    stapel_status st = create_layer(
        w, ds, srs, "conflicts", "Spanningspunten en kansen",
        "Where two themes with verdict conflict or conditional meet, dissolved per province, "
        "NOVEX areas and theme pair.",
        false, &l);
    const char *names[] = {"theme_a", "theme_b", "verdict", "note", "province", "novex"};
    for (size_t i = 0; i < 6 && st == STAPEL_OK; i++)
        st = add_field(w, l, names[i], OFTString, OFSTNone);
    if (st == STAPEL_OK)
        st = add_field(w, l, "area_m2", OFTReal, OFSTNone);
    return st;
}

/* A table without geometry (a GeoPackage "attributes" table). */
static stapel_status create_table(writer *w, GDALDatasetH ds, const char *name,
                                  const char *title, const char *description, OGRLayerH *out)
{
    char ident[256], desc[1024];
    snprintf(ident, sizeof ident, "IDENTIFIER=%s", title);
    snprintf(desc, sizeof desc, "DESCRIPTION=%s", description);
    char *opts[] = {ident, desc, "FID=fid", NULL};
    *out = GDALDatasetCreateLayer(ds, name, NULL, wkbNone, opts);
    if (*out == NULL)
        return stapel__fail(w->ctx, STAPEL_EIO, "cannot write '%s': %s (trying to create table %s)",
                            w->out, stapel__gdal_error("unknown error"), name);
    return STAPEL_OK;
}

static stapel_status write_summary(writer *w, GDALDatasetH ds, const stapel_stack *s)
{
    const stapel_summary *sm = s->summary;
    OGRLayerH l;
    stapel_status st = create_table(
        w, ds, "zone_summary", "Samenvatting per gebied",
        "Per province, NOVEX area and in total: area, claimed area (sum over themes), claim "
        "ratio, stacked area, conflict and kans area, in m2.",
        &l);
    const char *zs[] = {"zone_type", "zone"};
    const char *zr[] = {"area_m2",     "claimed_m2",  "claim_ratio", "stacked2_m2",
                        "stacked3_m2", "max_themes",  "conflict_m2", "kans_m2"};
    for (size_t i = 0; i < 2 && st == STAPEL_OK; i++)
        st = add_field(w, l, zs[i], OFTString, OFSTNone);
    for (size_t i = 0; i < 8 && st == STAPEL_OK; i++)
        st = add_field(w, l, zr[i], i == 5 ? OFTInteger : OFTReal, OFSTNone);
    if (st != STAPEL_OK)
        return st;
    st = begin(w, ds);
    if (st != STAPEL_OK)
        return st;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    for (size_t i = 0; i < sm->n_zones; i++) {
        const stapel_zone_row *z = &sm->zones[i];
        OGRFeatureH f = OGR_F_Create(defn);
        OGR_F_SetFieldString(f, 0, z->zone_type);
        OGR_F_SetFieldString(f, 1, z->zone);
        double v[] = {z->area_m2,     z->claimed_m2, z->claim_ratio, z->stacked2_m2,
                      z->stacked3_m2, 0,             z->conflict_m2, z->kans_m2};
        for (int k = 0; k < 8; k++)
            if (k != 5)
                OGR_F_SetFieldDouble(f, 2 + k, v[k]);
        OGR_F_SetFieldInteger(f, 7, z->max_themes);
        st = add_feature(w, l, f, NULL, "zone_summary");
        if (st != STAPEL_OK)
            return st;
    }
    st = commit(w, ds, false);
    if (st != STAPEL_OK)
        return st;

    st = create_table(w, ds, "zone_theme", "Thema's per gebied",
                      "Per zone and theme: the union area of the theme in the zone, its share of "
                      "the zone, and the part shared with another theme.",
                      &l);
    const char *ts[] = {"zone_type", "zone", "theme"};
    const char *tr[] = {"area_m2", "share", "overlap_m2"};
    for (size_t i = 0; i < 3 && st == STAPEL_OK; i++)
        st = add_field(w, l, ts[i], OFTString, OFSTNone);
    for (size_t i = 0; i < 3 && st == STAPEL_OK; i++)
        st = add_field(w, l, tr[i], OFTReal, OFSTNone);
    if (st != STAPEL_OK)
        return st;
    st = begin(w, ds);
    if (st != STAPEL_OK)
        return st;
    defn = OGR_L_GetLayerDefn(l);
    for (size_t i = 0; i < sm->n_themes; i++) {
        const stapel_theme_row *t = &sm->themes[i];
        OGRFeatureH f = OGR_F_Create(defn);
        OGR_F_SetFieldString(f, 0, t->zone_type);
        OGR_F_SetFieldString(f, 1, t->zone);
        OGR_F_SetFieldString(f, 2, t->theme);
        OGR_F_SetFieldDouble(f, 3, t->area_m2);
        OGR_F_SetFieldDouble(f, 4, t->share);
        OGR_F_SetFieldDouble(f, 5, t->overlap_m2);
        st = add_feature(w, l, f, NULL, "zone_theme");
        if (st != STAPEL_OK)
            return st;
    }
    return commit(w, ds, false);
}

/* The rules the verdicts came from, and what the run was: so an output can
 * be understood, and merged, on its own. */
static stapel_status write_run_info(writer *w, GDALDatasetH ds, const stapel_stack *s)
{
    OGRLayerH l;
    stapel_status st = create_table(w, ds, "rules", "Regels",
                                    "The theme x theme verdicts used for this stack.", &l);
    const char *rf[] = {"theme_a", "theme_b", "verdict", "note"};
    for (size_t i = 0; i < 4 && st == STAPEL_OK; i++)
        st = add_field(w, l, rf[i], OFTString, OFSTNone);
    if (st != STAPEL_OK)
        return st;
    st = begin(w, ds);
    if (st != STAPEL_OK)
        return st;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    for (size_t i = 0; i < s->rules->n; i++) {
        const stapel__rule *r = &s->rules->rules[i];
        OGRFeatureH f = OGR_F_Create(defn);
        OGR_F_SetFieldString(f, 0, r->a);
        OGR_F_SetFieldString(f, 1, r->b);
        OGR_F_SetFieldString(f, 2, stapel_verdict_name(r->verdict));
        if (r->note != NULL)
            OGR_F_SetFieldString(f, 3, r->note);
        st = add_feature(w, l, f, NULL, "the rules");
        if (st != STAPEL_OK)
            return st;
    }
    st = commit(w, ds, false);
    if (st != STAPEL_OK)
        return st;

    st = create_table(w, ds, "run_info", "Over deze run",
                      "How this stack was made: stapel version, shard, and what identifies the "
                      "run (grid, layers, zones, rules, CRS, tiling).", &l);
    if (st == STAPEL_OK)
        st = add_field(w, l, "key", OFTString, OFSTNone);
    if (st == STAPEL_OK)
        st = add_field(w, l, "value", OFTString, OFSTNone);
    if (st != STAPEL_OK)
        return st;
    st = begin(w, ds);
    if (st != STAPEL_OK)
        return st;
    defn = OGR_L_GetLayerDefn(l);
    /* The version, what part of the run this is, then the rows that identify
     * the run (s->run; made by the build, copied by a merge). */
    char shard[64], parts[64];
    snprintf(shard, sizeof shard, "%d/%d", s->shard_index, s->shard_count);
    snprintf(parts, sizeof parts, "%zu", s->n_parts);
    const char *head[][2] = {{"stapel_version", STAPEL_VERSION},
                             {"shard", s->shard_count > 0 ? shard : NULL},
                             {"merged", s->merged ? parts : NULL},
                             {"directory", s->directory}};
    size_t n_head = sizeof head / sizeof head[0];
    stapel__buf shown = {0};
    for (size_t i = 0; i < n_head + s->n_run && st == STAPEL_OK; i++) {
        const char *key = i < n_head ? head[i][0] : s->run[i - n_head].key;
        const char *value = i < n_head ? head[i][1] : s->run[i - n_head].value;
        if (value == NULL)
            continue;
        if (!stapel__without_password(&shown, value)) {
            st = stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
            break;
        }
        OGRFeatureH f = OGR_F_Create(defn);
        OGR_F_SetFieldString(f, 0, key);
        OGR_F_SetFieldString(f, 1, shown.data);
        st = add_feature(w, l, f, NULL, "run_info");
    }
    stapel__buf_free(&shown);
    if (st != STAPEL_OK)
        return st;
    return commit(w, ds, false);
}

/* A temporary path in the directory of path. Caller frees. */
/* A GDAL setting for this thread during one call, and the caller's own
 * thread-local value of it (copied) to put back after. */
typedef struct gdal_setting {
    const char *key, *value;
    char *was;
} gdal_setting;

static void settings_restore(gdal_setting *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CPLSetThreadLocalConfigOption(set[i].key, set[i].was);
        free(set[i].was);
        set[i].was = NULL;
    }
}

/* False when out of memory: then nothing is changed. */
static bool settings_apply(gdal_setting *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *was = CPLGetThreadLocalConfigOption(set[i].key, NULL);
        set[i].was = was != NULL ? stapel__strdup(was) : NULL;
        if (was != NULL && set[i].was == NULL) {
            for (size_t k = 0; k < i; k++)
                free(set[k].was);
            return false;
        }
    }
    for (size_t i = 0; i < n; i++)
        CPLSetThreadLocalConfigOption(set[i].key, set[i].value);
    return true;
}

struct stapel__out {
    char *tmp;
    const char *path;
    bool overwrite; /* STAPEL_WRITE_OVERWRITE: the last step may replace path */
    GDALDatasetH ds;
    OGRSpatialReferenceH srs;
    atomic_size_t written; /* rows of the stack layer written */
    size_t n_faces;
    /* The temporary file, opened by stapel__out_writeback() and kept open
     * until stapel__out_close(), after every SQLite connection to it is
     * closed: closing a descriptor of a file drops all the process's POSIX
     * locks on it, those of the writer's SQLite connection too (SQLite's
     * "How To Corrupt An SQLite Database File", 2.2). -1: not open. */
    int wb_fd;
};

double stapel__out_progress(stapel__out *o)
{
    return o->n_faces > 0 ? (double)atomic_load(&o->written) / (double)o->n_faces : 1.0;
}

static stapel_status writer_init(writer *w, stapel_ctx *ctx, stapel__out *o)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->tmp = o->tmp;
    w->out = o->path;
    w->written = &o->written;
    w->wkb = GEOSWKBWriter_create_r(ctx->geos);
    if (w->wkb == NULL)
        return stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
    GEOSWKBWriter_setOutputDimension_r(ctx->geos, w->wkb, 2);
    return STAPEL_OK;
}

stapel_status stapel__out_open(stapel_ctx *ctx, stapel__out **out, const stapel_stack *s,
                               const char *path, unsigned flags)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "no output path");
    struct stat sb;
    if (stat(path, &sb) == 0) {
        /* A directory first: overwriting would not help. */
        if (S_ISDIR(sb.st_mode))
            return stapel__fail(ctx, STAPEL_EINVAL, "'%s' is a directory", path);
        if (!(flags & STAPEL_WRITE_OVERWRITE))
            return stapel__fail(ctx, STAPEL_EEXISTS,
                                "'%s' exists; use --overwrite to replace it", path);
    }
    stapel__out *o = calloc(1, sizeof *o);
    if (o == NULL || (o->tmp = stapel__temp_path(path, ".tmp.gpkg")) == NULL) {
        free(o);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    o->path = path;
    o->overwrite = (flags & STAPEL_WRITE_OVERWRITE) != 0;
    o->n_faces = s->n_faces;
    o->wb_fd = -1;
    atomic_init(&o->written, 0);
    stapel_status st = STAPEL_OK;
    stapel__gdal_push(ctx);
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    if (drv == NULL) {
        st = stapel__fail(ctx, STAPEL_EIO, "GDAL has no GeoPackage driver");
        goto done;
    }
    unlink(o->tmp);
    /* SQLite says only 'unable to open database file' of a file it cannot
     * create: the system's reason comes from a try of its own. */
    int probe = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (probe < 0) {
        st = stapel__cannot_create(ctx, path, o->tmp, errno);
        goto done;
    }
    close(probe);
    unlink(o->tmp);
    /* The page size takes effect only before the first table: GDAL applies
     * these pragmas (after the user's own) as it creates the file. */
    stapel__buf pragma = {0};
    const char *user = CPLGetConfigOption("OGR_SQLITE_PRAGMA", NULL);
    if (s->n_faces >= LARGE_PAGES_FACES &&
        !stapel__buf_printf(&pragma, "%s%spage_size=65536", user != NULL ? user : "",
                            user != NULL && user[0] != '\0' ? "," : "")) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    /* As in stapel__out_finish: no journal file and no sync per statement. */
    gdal_setting set[3] = {{"OGR_SQLITE_SYNCHRONOUS", "OFF", NULL},
                           {"OGR_SQLITE_JOURNAL", "MEMORY", NULL},
                           {"OGR_SQLITE_PRAGMA", pragma.data, NULL}};
    size_t n_set = pragma.data != NULL ? 3 : 2;
    if (!settings_apply(set, n_set)) {
        stapel__buf_free(&pragma);
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    o->ds = GDALCreate(drv, o->tmp, 0, 0, 0, GDT_Unknown, NULL);
    settings_restore(set, n_set);
    stapel__buf_free(&pragma);
    if (o->ds == NULL) {
        st = stapel__fail(ctx, STAPEL_EIO, "cannot create '%s': %s", path,
                          stapel__gdal_error(stapel__strerror(errno)));
        goto done;
    }
    o->srs = OSRNewSpatialReference(s->in.crs_wkt);
    if (o->srs == NULL) {
        st = stapel__fail(ctx, STAPEL_ECRS, "cannot describe the working CRS");
        goto done;
    }
    /* The stack layer is made now and filled through SQLite (write_faces);
     * GDAL opens the file again for the rest. */
    writer w;
    st = writer_init(&w, ctx, o);
    if (st == STAPEL_OK)
        st = create_stack_layer(&w, o->ds, o->srs, s);
    if (st == STAPEL_OK)
        st = create_conflicts_layer(&w, o->ds, o->srs);
    if (w.wkb != NULL)
        GEOSWKBWriter_destroy_r(ctx->geos, w.wkb);
    CPLErrorReset();
    GDALClose(o->ds);
    o->ds = NULL;
    if (st == STAPEL_OK && CPLGetLastErrorType() >= CE_Failure)
        st = stapel__fail(ctx, STAPEL_EIO, "cannot create '%s': %s", path,
                          stapel__gdal_error("unknown error"));
done:
    stapel__gdal_pop();
    if (st != STAPEL_OK)
        return stapel__out_close(ctx, o, st);
    *out = o;
    return STAPEL_OK;
}

/* After a failed write, the reason SQLite hides: it reports a full disk
 * as 'database or disk is full' at best, and often as 'disk I/O error' or a
 * table that is missing; a file size limit (ulimit -f) as 'disk I/O
 * error'. Checked while the temporary file still holds its space. */
static void space_hint(stapel_ctx *ctx, const stapel__out *o)
{
    char hint[256] = "";
    struct statvfs fs;
    struct stat sb;
    struct rlimit rl;
    /* The temporary file, or where it was to be (its creation failed). */
    bool known = statvfs(o->tmp, &fs) == 0;
    if (!known) {
        char *dir = stapel__strdup(o->tmp);
        char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
        if (slash != NULL)
            *slash = '\0';
        known = dir != NULL && statvfs(slash != NULL ? (dir[0] != '\0' ? dir : "/") : ".", &fs) == 0;
        free(dir);
    }
    /* A file system that reports no size (f_blocks 0: /proc, /sys, a tmpfs
     * without a limit) has no free space to tell of. */
    if (known && fs.f_blocks > 0 && (uint64_t)fs.f_bavail * fs.f_frsize < (1u << 20))
        snprintf(hint, sizeof hint, "the disk that holds '%s' is full (%llu kB free)", o->path,
                 (unsigned long long)((uint64_t)fs.f_bavail * fs.f_frsize / 1024));
    else if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
             stat(o->tmp, &sb) == 0 && (uint64_t)sb.st_size + (1u << 16) >= rl.rlim_cur)
        snprintf(hint, sizeof hint,
                 "the file reached the size limit of this process, %llu kB (ulimit -f)",
                 (unsigned long long)(rl.rlim_cur / 1024));
    if (hint[0] != '\0') {
        char old[STAPEL_MSG_MAX];
        snprintf(old, sizeof old, "%s", stapel_ctx_message(ctx));
        stapel__fail(ctx, STAPEL_EIO, "%s; %s", old, hint);
    }
}

stapel_status stapel__out_close(stapel_ctx *ctx, stapel__out *o, stapel_status st)
{
    if (o == NULL)
        return st;
    if (st == STAPEL_EIO)
        space_hint(ctx, o);
    bool discard = st != STAPEL_OK;
    if (o->ds != NULL)
        GDALClose(o->ds);
    if (o->wb_fd >= 0)
        close(o->wb_fd);
    if (discard)
        unlink(o->tmp);
    if (o->srs != NULL)
        OSRDestroySpatialReference(o->srs);
    free(o->tmp);
    free(o);
    return st;
}

void stapel__out_writeback(stapel__out *o)
{
#ifdef SYNC_FILE_RANGE_WRITE
    /* Not closed here: the writer's SQLite connection holds its locks on
     * this file (see wb_fd). */
    if (o->wb_fd < 0)
        o->wb_fd = open(o->tmp, O_RDONLY | O_CLOEXEC);
    if (o->wb_fd >= 0)
        (void)sync_file_range(o->wb_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)o;
#endif
}

stapel_status stapel__out_faces(stapel_ctx *ctx, stapel__out *o, const stapel_stack *s)
{
    writer w;
    stapel_status st = writer_init(&w, ctx, o);
    if (st == STAPEL_OK)
        st = fill_layer(&w, s, "stack", s->n_faces, insert_faces);
    if (w.wkb != NULL)
        GEOSWKBWriter_destroy_r(ctx->geos, w.wkb);
    return st;
}

/* Flush a finished file to disk, so that once renamed it is whole even
 * after a crash of the machine. */
static bool sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    bool ok = fdatasync(fd) == 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return ok;
}

/* Drop the cached pages of the file about to be replaced. Renaming over it
 * would do that inside rename() (0.08 s for a 200 MB output); done on a thread
 * while fdatasync waits for the disk, it costs no time. The file itself is
 * not touched. */
static void *drop_cache_main(void *arg)
{
    int fd = open(arg, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
    return NULL;
}

stapel_status stapel__out_finish(stapel_ctx *ctx, stapel__out *o, const stapel_stack *s)
{
    writer w;
    stapel__progress(ctx, "writing", 0.0);
    stapel_status st = writer_init(&w, ctx, o);
    if (st == STAPEL_OK)
        st = fill_layer(&w, s, "conflicts", s->n_conflicts, insert_conflicts);
    stapel__progress(ctx, "writing", 0.1);
    if (w.wkb != NULL)
        GEOSWKBWriter_destroy_r(ctx->geos, w.wkb);
    if (st != STAPEL_OK)
        return st;
    stapel__gdal_push(ctx);
    const char *const drivers[] = {"GPKG", NULL};
    /* No sync and no journal file per statement (each costs a file created
     * and removed): the file is temporary until renamed, and made durable
     * once, before it takes its name (below). */
    gdal_setting set[2] = {{"OGR_SQLITE_SYNCHRONOUS", "OFF", NULL},
                           {"OGR_SQLITE_JOURNAL", "MEMORY", NULL}};
    if (!settings_apply(set, 2)) {
        stapel__gdal_pop();
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    o->ds = GDALOpenEx(o->tmp, GDAL_OF_VECTOR | GDAL_OF_UPDATE, drivers, NULL, NULL);
    settings_restore(set, 2);
    if (o->ds == NULL) {
        stapel_status st = stapel__fail(ctx, STAPEL_EIO,
                                        "cannot write '%s': %s (trying to open its temporary "
                                        "file %s again)",
                                        o->path, stapel__gdal_error("unknown error"), o->tmp);
        stapel__gdal_pop();
        return st;
    }
    GDALDatasetH ds = o->ds;
    st = writer_init(&w, ctx, o);
    if (st == STAPEL_OK)
        st = write_zones(&w, ds, o->srs, s, STAPEL_ZONE_PROVINCE);
    stapel__progress(ctx, "writing", 0.2);
    if (st == STAPEL_OK)
        st = write_zones(&w, ds, o->srs, s, STAPEL_ZONE_NOVEX);
    stapel__progress(ctx, "writing", 0.3);
    if (st == STAPEL_OK && s->summary != NULL)
        st = write_summary(&w, ds, s);
    stapel__progress(ctx, "writing", 0.4);
    if (st == STAPEL_OK)
        st = write_run_info(&w, ds, s);
    stapel__progress(ctx, "writing", 0.5);
    if (st == STAPEL_OK) {
        st = stapel__styles_write(ctx, ds, s->zone_fields[STAPEL_ZONE_PROVINCE],
                                  s->zone_fields[STAPEL_ZONE_NOVEX]);
        if (st == STAPEL_EIO) /* qml.c's messages name the table, not the file */
            stapel__wrap(ctx, st, "cannot write '%s'", o->path);
    }
    if (w.wkb != NULL)
        GEOSWKBWriter_destroy_r(ctx->geos, w.wkb);
    if (st == STAPEL_OK && stapel__cancelled(ctx))
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while writing");
    stapel__progress(ctx, "writing", 0.6);
    CPLErrorReset();
    GDALClose(ds);
    o->ds = NULL;
    stapel__progress(ctx, "writing", 0.7);
    if (st == STAPEL_OK && CPLGetLastErrorType() >= CE_Failure)
        st = stapel__fail(ctx, STAPEL_EIO, "%s: cannot finish the file: %s", o->path,
                          stapel__gdal_error("unknown error"));
    if (st == STAPEL_OK && stapel__cancelled(ctx))
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while writing");
    /* Only a regular file that is to be replaced: opening a FIFO there
     * would block for good. */
    pthread_t dropper;
    struct stat old;
    bool dropping = st == STAPEL_OK && o->overwrite && stat(o->path, &old) == 0 &&
                    S_ISREG(old.st_mode) &&
                    pthread_create(&dropper, NULL, drop_cache_main, (void *)o->path) == 0;
    if (st == STAPEL_OK && !sync_file(o->tmp))
        st = stapel__fail(ctx, STAPEL_EIO, "cannot write '%s': %s (trying to flush it to disk)",
                          o->path, stapel__strerror(errno));
    if (dropping)
        pthread_join(dropper, NULL);
    stapel__progress(ctx, "writing", 0.9);
    /* A cancel that came while the file was flushed still stops the run:
     * only the rename itself is past the point of no return. */
    if (st == STAPEL_OK && stapel__cancelled(ctx))
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while writing");
    /* Without overwrite, a file that appeared at the path during the run
     * is kept and the run fails (stapel__out_close removes the temporary
     * file). */
    if (st == STAPEL_OK)
        st = stapel__publish(ctx, o->tmp, o->path, o->overwrite);
    if (st == STAPEL_OK)
        stapel__progress(ctx, "writing", 1.0);
    stapel__gdal_pop();
    return st;
}

stapel_status stapel_stack_write(stapel_ctx *ctx, const stapel_stack *s, const char *path,
                                 unsigned flags)
{
    STAPEL__ENTER(ctx);
    if (s == NULL)
        return stapel__null(ctx, "stack");
    if (stapel__flags_check(ctx, flags) != STAPEL_OK)
        return STAPEL_EINVAL;
    /* As stapel_stack_build_write checks it: a directory is STAPEL_EINVAL,
     * and a directory that cannot take the output is named as such. */
    stapel_status st = stapel__output_check(ctx, path, flags);
    if (st != STAPEL_OK)
        return st;
    stapel__out *o = NULL;
    st = stapel__out_open(ctx, &o, s, path, flags);
    if (st != STAPEL_OK)
        return st;
    /* One writing phase: the stack layer, then the others from 0.8. */
    stapel__progress_span(ctx, "writing", 0.0, 0.8);
    st = stapel__out_faces(ctx, o, s);
    stapel__progress_span(ctx, "writing", 0.8, 1.0);
    if (st == STAPEL_OK)
        st = stapel__out_finish(ctx, o, s);
    stapel__progress_span(ctx, NULL, 0.0, 1.0);
    return stapel__out_close(ctx, o, st);
}
