/*
 * rtree.c - the GeoPackage spatial index of a large layer, bulk-loaded.
 *
 * GDAL 3.6 fills a GeoPackage R-tree one row at a time, which for half a
 * million faces costs more than writing the faces themselves. The layer is
 * therefore written without an index, and this file builds the index in one
 * go: boxes are packed into nodes in the order of the Hilbert curve through
 * their centres (a packed Hilbert R-tree, as FlatGeobuf's index) and the
 * nodes are written straight into SQLite's R-tree tables. Then the triggers
 * and the gpkg_extensions row that the GeoPackage standard (rtree extension)
 * asks for are added, so that later edits by any tool keep the index right.
 *
 * The node format is SQLite's: a node is a blob of the table's node size
 * holding a 2-byte depth (root only), a 2-byte cell count and cells of an
 * 8-byte id and four 32-bit floats (min x, max x, min y, max y), all
 * big-endian; floats are rounded outwards, as SQLite does.
 */
#include "rtree.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
    int64_t id;
    float x0, x1, y0, y1;
} cell;

static float down(double v)
{
    float f = (float)v;
    return (double)f > v ? nextafterf(f, -INFINITY) : f;
}

static float up(double v)
{
    float f = (float)v;
    return (double)f < v ? nextafterf(f, INFINITY) : f;
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static void putf(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    p[0] = (unsigned char)(u >> 24);
    p[1] = (unsigned char)(u >> 16);
    p[2] = (unsigned char)(u >> 8);
    p[3] = (unsigned char)u;
}

/* The index of (x, y) on the Hilbert curve through a 2^16 x 2^16 grid. */
static uint32_t hilbert(uint32_t x, uint32_t y)
{
    uint32_t d = 0;
    for (uint32_t s = 1u << 15; s > 0; s >>= 1) {
        uint32_t rx = (x & s) != 0, ry = (y & s) != 0;
        d += s * s * ((3 * rx) ^ ry);
        if (ry == 0) { /* rotate the quadrant */
            if (rx == 1) {
                x = s - 1 - x;
                y = s - 1 - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}

/* Order the leaf cells along the Hilbert curve of their centres (a packed
 * Hilbert R-tree): neighbours on the curve are neighbours on the map, so
 * consecutive cells make compact nodes, and the nodes of each level come out
 * in curve order too. A radix sort keeps this linear in n. Returns false when
 * out of memory. */
static bool hilbert_order(cell *c, size_t n)
{
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        x0 = fminf(x0, c[i].x0);
        y0 = fminf(y0, c[i].y0);
        x1 = fmaxf(x1, c[i].x1);
        y1 = fmaxf(y1, c[i].y1);
    }
    double w = (double)x1 - x0, h = (double)y1 - y0;
    double sx = w > 0 ? 65535.0 / w : 0, sy = h > 0 ? 65535.0 / h : 0;
    uint64_t *k = malloc(n * sizeof *k), *t = malloc(n * sizeof *t);
    cell *tmp = malloc(n * sizeof *tmp);
    if (k == NULL || t == NULL || tmp == NULL) {
        free(k);
        free(t);
        free(tmp);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        double cx = ((double)c[i].x0 + c[i].x1) / 2 - x0, cy = ((double)c[i].y0 + c[i].y1) / 2 - y0;
        uint32_t hx = (uint32_t)fmin(65535.0, fmax(0.0, cx * sx));
        uint32_t hy = (uint32_t)fmin(65535.0, fmax(0.0, cy * sy));
        k[i] = (uint64_t)hilbert(hx, hy) << 32 | (uint64_t)i; /* index keeps it stable */
    }
    stapel__sort_hi32(k, t, n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = c[k[i] & 0xffffffffu];
    memcpy(c, tmp, n * sizeof *c);
    free(k);
    free(t);
    free(tmp);
    return true;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* (id, node) rows for the _rowid and _parent tables, inserted PAIR_BATCH at
 * a time: one statement per row would cost more than the row. */
#define PAIR_BATCH 64

typedef struct pairs {
    sqlite3_stmt *batch, *one;
    int64_t v[2 * PAIR_BATCH];
    int n;
} pairs;

/* A feature and the leaf node that holds it. */
typedef struct leaf_link {
    int64_t id, node;
} leaf_link;

static int cmp_link(const void *a, const void *b)
{
    const leaf_link *p = a, *q = b;
    return (p->id > q->id) - (p->id < q->id);
}

/* Put the links in id order in linear time when the ids are n consecutive
 * numbers, as fids written in order are; false (links unchanged) otherwise,
 * or when out of memory. */
static bool order_by_id(leaf_link *leaf, size_t n)
{
    if (n == 0)
        return true;
    int64_t lo = leaf[0].id;
    for (size_t i = 1; i < n; i++)
        lo = leaf[i].id < lo ? leaf[i].id : lo;
    if (lo == INT64_MIN)
        return false;
    leaf_link *out = malloc(n * sizeof *out);
    if (out == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i].id = INT64_MIN; /* no id can be below lo */
    for (size_t i = 0; i < n; i++) {
        uint64_t k = (uint64_t)leaf[i].id - (uint64_t)lo;
        if (k >= n || out[k].id != INT64_MIN) {
            free(out);
            return false;
        }
        out[k] = leaf[i];
    }
    memcpy(leaf, out, n * sizeof *out);
    free(out);
    return true;
}

static int pairs_prepare(sqlite3 *db, const char *table, pairs *p)
{
    char sql[8192];
    int len = snprintf(sql, sizeof sql, "INSERT INTO \"%s\" VALUES (?, ?)", table);
    int rc = sqlite3_prepare_v2(db, sql, -1, &p->one, NULL);
    for (int i = 1; i < PAIR_BATCH && len < (int)sizeof sql - 16; i++)
        len += snprintf(sql + len, sizeof sql - (size_t)len, ", (?, ?)");
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, sql, -1, &p->batch, NULL);
    return rc;
}

static int pairs_flush(pairs *p)
{
    sqlite3_stmt *q = p->n == PAIR_BATCH ? p->batch : p->one;
    int per = p->n == PAIR_BATCH ? PAIR_BATCH : 1;
    for (int i = 0; i < p->n; i += per) {
        for (int j = 0; j < 2 * per; j++)
            sqlite3_bind_int64(q, j + 1, p->v[2 * i + j]);
        if (sqlite3_step(q) != SQLITE_DONE) {
            sqlite3_reset(q);
            return SQLITE_ERROR;
        }
        sqlite3_reset(q);
    }
    p->n = 0;
    return SQLITE_OK;
}

static int pairs_add(pairs *p, int64_t a, int64_t b)
{
    p->v[2 * p->n] = a;
    p->v[2 * p->n + 1] = b;
    return ++p->n == PAIR_BATCH ? pairs_flush(p) : SQLITE_OK;
}

stapel_status stapel__rtree_bulk(stapel_ctx *ctx, sqlite3 *db, const char *path, const char *table,
                                 const char *geom, const char *fid, const stapel__rtree_box *boxes,
                                 size_t n)
{
    sqlite3_stmt *ins_node = NULL;
    pairs rowids = {0}, parents = {0};
    cell *level = NULL, *next = NULL;
    leaf_link *leaf = NULL;
    unsigned char *blob = NULL;
    char sql[4096];
    stapel_status st = STAPEL_OK;
    char rt[256];
    snprintf(rt, sizeof rt, "rtree_%s_%s", table, geom);

    snprintf(sql, sizeof sql, "CREATE VIRTUAL TABLE \"%s\" USING rtree(id, minx, maxx, miny, maxy)",
             rt);
    if (exec(db, sql) != SQLITE_OK)
        goto sqlfail;
    /* The node size SQLite chose for this database. */
    sqlite3_stmt *q = NULL;
    snprintf(sql, sizeof sql, "SELECT length(data) FROM \"%s_node\" WHERE nodeno = 1", rt);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        goto sqlfail;
    int node_size = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
    sqlite3_finalize(q);
    size_t m = node_size > 4 ? (size_t)(node_size - 4) / 24 : 0;
    if (m < 4) {
        st = stapel__fail(ctx, STAPEL_EIO, "%s: unexpected R-tree node size %d", path, node_size);
        goto done;
    }
    snprintf(sql, sizeof sql, "DELETE FROM \"%s_node\"", rt);
    if (exec(db, sql) != SQLITE_OK)
        goto sqlfail;
    snprintf(sql, sizeof sql, "INSERT INTO \"%s_node\" (nodeno, data) VALUES (?, ?)", rt);
    if (sqlite3_prepare_v2(db, sql, -1, &ins_node, NULL) != SQLITE_OK)
        goto sqlfail;
    snprintf(sql, sizeof sql, "%s_rowid", rt);
    if (pairs_prepare(db, sql, &rowids) != SQLITE_OK)
        goto sqlfail;
    snprintf(sql, sizeof sql, "%s_parent", rt);
    if (pairs_prepare(db, sql, &parents) != SQLITE_OK)
        goto sqlfail;

    level = malloc((n + 1) * sizeof *level);
    leaf = malloc((n + 1) * sizeof *leaf);
    next = malloc((n / 2 + 2) * sizeof *next);
    blob = calloc(1, (size_t)node_size);
    if (level == NULL || next == NULL || blob == NULL || leaf == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        level[i] = (cell){boxes[i].id, down(boxes[i].x0), up(boxes[i].x1), down(boxes[i].y0),
                          up(boxes[i].y1)};
    /* Build bottom-up; the root is node 1, the others are numbered from 2
     * upwards in the order they are written. */
    size_t n_level = n;
    int depth = 0;
    int64_t next_no = 2;
    for (;;) {
        bool root = n_level <= m;
        if (depth == 0 && n_level > 0 && !hilbert_order(level, n_level)) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        size_t n_next = 0;
        for (size_t i = 0; i < n_level || (root && i == 0); i += m) {
            size_t k = n_level - i < m ? n_level - i : m;
            int64_t no = root ? 1 : next_no++;
            memset(blob, 0, (size_t)node_size);
            put16(blob, root ? (unsigned)depth : 0);
            put16(blob + 2, (unsigned)k);
            cell box = {no, INFINITY, -INFINITY, INFINITY, -INFINITY};
            if ((i & 65535) < m && stapel__cancelled(ctx)) {
                st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while writing");
                goto done;
            }
            for (size_t j = 0; j < k; j++) {
                const cell *c = &level[i + j];
                unsigned char *p = blob + 4 + 24 * j;
                put64(p, (uint64_t)c->id);
                putf(p + 8, c->x0);
                putf(p + 12, c->x1);
                putf(p + 16, c->y0);
                putf(p + 20, c->y1);
                box.x0 = fminf(box.x0, c->x0);
                box.x1 = fmaxf(box.x1, c->x1);
                box.y0 = fminf(box.y0, c->y0);
                box.y1 = fmaxf(box.y1, c->y1);
                if (depth == 0)
                    leaf[i + j] = (leaf_link){c->id, no};
                else if (pairs_add(&parents, c->id, no) != SQLITE_OK)
                    goto sqlfail;
            }
            sqlite3_bind_int64(ins_node, 1, no);
            sqlite3_bind_blob(ins_node, 2, blob, node_size, SQLITE_STATIC);
            if (sqlite3_step(ins_node) != SQLITE_DONE)
                goto sqlfail;
            sqlite3_reset(ins_node);
            if (!root)
                next[n_next++] = box;
        }
        if (root)
            break;
        cell *t = level;
        level = next;
        next = t;
        n_level = n_next;
        depth++;
    }

    /* The leaf of every feature, in feature id order: inserted in curve order
     * they would land all over the _rowid table's B-tree, which for
     * millions of rows costs more than the rest of the index. */
    if (!order_by_id(leaf, n))
        qsort(leaf, n, sizeof *leaf, cmp_link);
    for (size_t i = 0; i < n; i++) {
        if ((i & 65535) == 0 && stapel__cancelled(ctx)) {
            st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while writing");
            goto done;
        }
        if (pairs_add(&rowids, leaf[i].id, leaf[i].node) != SQLITE_OK)
            goto sqlfail;
    }
    if (pairs_flush(&rowids) != SQLITE_OK || pairs_flush(&parents) != SQLITE_OK)
        goto sqlfail;

    /* The triggers and the extension row of the GeoPackage rtree extension. */
    const char *trig[] = {
        ("CREATE TRIGGER \"%1$s_insert\" AFTER INSERT ON \"%2$s\" WHEN (new.\"%3$s\" NOT NULL "
        "AND NOT ST_IsEmpty(NEW.\"%3$s\")) BEGIN INSERT OR REPLACE INTO \"%1$s\" VALUES "
        "(NEW.\"%4$s\",ST_MinX(NEW.\"%3$s\"), ST_MaxX(NEW.\"%3$s\"),ST_MinY(NEW.\"%3$s\"), "
        "ST_MaxY(NEW.\"%3$s\")); END"),
        ("CREATE TRIGGER \"%1$s_update1\" AFTER UPDATE OF \"%3$s\" ON \"%2$s\" WHEN "
        "OLD.\"%4$s\" = NEW.\"%4$s\" AND (NEW.\"%3$s\" NOTNULL AND NOT "
        "ST_IsEmpty(NEW.\"%3$s\")) BEGIN INSERT OR REPLACE INTO \"%1$s\" VALUES "
        "(NEW.\"%4$s\",ST_MinX(NEW.\"%3$s\"), ST_MaxX(NEW.\"%3$s\"),ST_MinY(NEW.\"%3$s\"), "
        "ST_MaxY(NEW.\"%3$s\")); END"),
        ("CREATE TRIGGER \"%1$s_update2\" AFTER UPDATE OF \"%3$s\" ON \"%2$s\" WHEN "
        "OLD.\"%4$s\" = NEW.\"%4$s\" AND (NEW.\"%3$s\" ISNULL OR ST_IsEmpty(NEW.\"%3$s\")) "
        "BEGIN DELETE FROM \"%1$s\" WHERE id = OLD.\"%4$s\"; END"),
        ("CREATE TRIGGER \"%1$s_update3\" AFTER UPDATE ON \"%2$s\" WHEN OLD.\"%4$s\" != "
        "NEW.\"%4$s\" AND (NEW.\"%3$s\" NOTNULL AND NOT ST_IsEmpty(NEW.\"%3$s\")) BEGIN "
        "DELETE FROM \"%1$s\" WHERE id = OLD.\"%4$s\"; INSERT OR REPLACE INTO \"%1$s\" VALUES "
        "(NEW.\"%4$s\",ST_MinX(NEW.\"%3$s\"), ST_MaxX(NEW.\"%3$s\"),ST_MinY(NEW.\"%3$s\"), "
        "ST_MaxY(NEW.\"%3$s\")); END"),
        ("CREATE TRIGGER \"%1$s_update4\" AFTER UPDATE ON \"%2$s\" WHEN OLD.\"%4$s\" != "
        "NEW.\"%4$s\" AND (NEW.\"%3$s\" ISNULL OR ST_IsEmpty(NEW.\"%3$s\")) BEGIN DELETE FROM "
        "\"%1$s\" WHERE id IN (OLD.\"%4$s\", NEW.\"%4$s\"); END"),
        ("CREATE TRIGGER \"%1$s_delete\" AFTER DELETE ON \"%2$s\" WHEN old.\"%3$s\" NOT NULL "
        "BEGIN DELETE FROM \"%1$s\" WHERE id = OLD.\"%4$s\"; END"),
    };
    for (size_t i = 0; i < sizeof trig / sizeof trig[0]; i++) {
        snprintf(sql, sizeof sql, trig[i], rt, table, geom, fid);
        if (exec(db, sql) != SQLITE_OK)
            goto sqlfail;
    }
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, "
             "extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, "
             "CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))");
    if (exec(db, sql) != SQLITE_OK)
        goto sqlfail;
    snprintf(sql, sizeof sql,
             "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, "
             "scope) VALUES ('%s', '%s', 'gpkg_rtree_index', "
             "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
             table, geom);
    if (exec(db, sql) != SQLITE_OK)
        goto sqlfail;
    goto done;
sqlfail:
    st = stapel__fail(ctx, STAPEL_EIO, "cannot write '%s': %s (trying to write the spatial index "
                      "of %s)", path, sqlite3_errmsg(db), table);
done:
    sqlite3_finalize(ins_node);
    sqlite3_finalize(rowids.batch);
    sqlite3_finalize(rowids.one);
    sqlite3_finalize(parents.batch);
    sqlite3_finalize(parents.one);
    free(level);
    free(leaf);
    free(next);
    free(blob);
    return st;
}
