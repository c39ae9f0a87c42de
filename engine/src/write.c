/*
 * write.c - the stack as a GeoPackage: layers stack, provinces and novex.
 *
 * Nothing partial ever appears at the target path: the file is built under a
 * temporary name in the same directory, in large transactions, closed, and
 * only then renamed over the target. Any failure or cancellation removes the
 * temporary file and leaves an existing target untouched.
 */
#include "pipeline.h"
#include "rtree.h"
#include "source.h"
#include "style.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROWS_PER_TRANSACTION 50000

typedef struct writer {
    stapel_ctx *ctx;
    GEOSWKBWriter *wkb;
    const char *tmp;
    stapel__rtree_box *boxes; /* of the stack layer, for its spatial index */
    size_t n_boxes;
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

/* Give feat the geometry g (as a MultiPolygon) and add it to l; feat is
 * consumed. *box, if not NULL, receives the feature id and envelope. what
 * names the feature in messages. */
static stapel_status add_feature(writer *w, OGRLayerH l, OGRFeatureH feat, const GEOSGeometry *g,
                                 stapel__rtree_box *box, const char *what)
{
    OGRGeometryH og;
    stapel_status st = to_ogr_multi(w, g, &og);
    if (st != STAPEL_OK) {
        OGR_F_Destroy(feat);
        return st;
    }
    OGREnvelope env;
    if (box != NULL)
        OGR_G_GetEnvelope(og, &env);
    OGR_F_SetGeometryDirectly(feat, og);
    OGRErr err = OGR_L_CreateFeature(l, feat);
    if (box != NULL)
        *box = (stapel__rtree_box){OGR_F_GetFID(feat), env.MinX, env.MinY, env.MaxX, env.MaxY};
    OGR_F_Destroy(feat);
    if (err != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot write %s: %s", w->tmp, what,
                            stapel__gdal_error("unknown error"));
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
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot create layer %s: %s", w->tmp, name,
                            stapel__gdal_error("unknown error"));
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
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot create field %s: %s", w->tmp, name,
                            stapel__gdal_error("unknown error"));
    return STAPEL_OK;
}

/* Commit the open transaction and start a new one. */
static stapel_status commit(writer *w, GDALDatasetH ds, bool reopen)
{
    if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot commit: %s", w->tmp,
                            stapel__gdal_error("unknown error"));
    if (reopen && GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction: %s", w->tmp,
                            stapel__gdal_error("unknown error"));
    return STAPEL_OK;
}

static stapel_status write_faces(writer *w, GDALDatasetH ds, OGRSpatialReferenceH srs,
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
    if (st != STAPEL_OK)
        return st;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    w->boxes = malloc((s->n_faces + 1) * sizeof *w->boxes);
    if (w->boxes == NULL)
        return stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
    w->n_boxes = s->n_faces;
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction", w->tmp);
    for (size_t i = 0; i < s->n_faces; i++) {
        if ((i & 1023) == 0) {
            if (stapel__cancelled(w->ctx))
                return stapel__fail(w->ctx, STAPEL_ECANCELLED, "cancelled while writing");
            stapel__progress(w->ctx, "writing", (double)i / (double)(s->n_faces + 1));
        }
        if (i > 0 && i % ROWS_PER_TRANSACTION == 0) {
            st = commit(w, ds, true);
            if (st != STAPEL_OK)
                return st;
        }
        const stapel__out_face *f = &s->faces[i];
        OGRFeatureH feat = OGR_F_Create(defn);
        OGR_F_SetFieldInteger(feat, 0, f->n_claims);
        OGR_F_SetFieldInteger(feat, 1, f->n_themes);
        OGR_F_SetFieldString(feat, 2, f->themes);
        OGR_F_SetFieldString(feat, 3, f->claim_ids);
        if (f->province != NULL)
            OGR_F_SetFieldString(feat, 4, f->province);
        else
            OGR_F_SetFieldNull(feat, 4);
        if (f->novex != NULL)
            OGR_F_SetFieldString(feat, 5, f->novex);
        else
            OGR_F_SetFieldNull(feat, 5);
        OGR_F_SetFieldString(feat, 6, stapel_verdict_name(f->verdict));
        OGR_F_SetFieldString(feat, 7, f->conflict_pairs);
        OGR_F_SetFieldDouble(feat, 8, f->area);
        if (s->shard_count > 0)
            OGR_F_SetFieldInteger(feat, 9, f->seam ? 1 : 0);
        st = add_feature(w, l, feat, f->geom, &w->boxes[i], "a face");
        if (st != STAPEL_OK)
            return st;
    }
    return commit(w, ds, false);
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
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction", w->tmp);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    for (size_t i = 0; i < n; i++) {
        const stapel__item *it = &in->items[lo + i];
        OGRFeatureH feat = OGR_F_Create(defn);
        OGR_F_SetFieldString(feat, 0, in->zone_names[it->group]);
        st = add_feature(w, l, feat, it->geom, NULL, "a zone");
        if (st != STAPEL_OK)
            return st;
    }
    return commit(w, ds, false);
}

static stapel_status write_conflicts(writer *w, GDALDatasetH ds, OGRSpatialReferenceH srs,
                                     const stapel_stack *s)
{
    OGRLayerH l;
    stapel_status st = create_layer(
        w, ds, srs, "conflicts", "Spanningspunten en kansen",
        "Where two themes with verdict conflict or conditional meet, dissolved per province, "
        "NOVEX areas and theme pair.",
        true, &l);
    const char *names[] = {"theme_a", "theme_b", "verdict", "note", "province", "novex"};
    for (size_t i = 0; i < 6 && st == STAPEL_OK; i++)
        st = add_field(w, l, names[i], OFTString, OFSTNone);
    if (st == STAPEL_OK)
        st = add_field(w, l, "area_m2", OFTReal, OFSTNone);
    if (st != STAPEL_OK)
        return st;
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction", w->tmp);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    size_t T = s->n_themes;
    for (size_t i = 0; i < s->n_conflicts; i++) {
        const stapel__conflict *c = &s->conflicts[i];
        OGRFeatureH feat = OGR_F_Create(defn);
        OGR_F_SetFieldString(feat, 0, s->themes[c->theme_a]);
        OGR_F_SetFieldString(feat, 1, s->themes[c->theme_b]);
        OGR_F_SetFieldString(feat, 2, stapel_verdict_name(c->verdict));
        const char *note = s->notes[c->theme_a * T + c->theme_b];
        if (note != NULL)
            OGR_F_SetFieldString(feat, 3, note);
        else
            OGR_F_SetFieldNull(feat, 3);
        if (c->province != NULL)
            OGR_F_SetFieldString(feat, 4, c->province);
        else
            OGR_F_SetFieldNull(feat, 4);
        if (c->novex != NULL)
            OGR_F_SetFieldString(feat, 5, c->novex);
        else
            OGR_F_SetFieldNull(feat, 5);
        OGR_F_SetFieldDouble(feat, 6, c->area);
        st = add_feature(w, l, feat, c->geom, NULL, "a conflict");
        if (st != STAPEL_OK)
            return st;
    }
    return commit(w, ds, false);
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
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot create table %s: %s", w->tmp, name,
                            stapel__gdal_error("unknown error"));
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
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction", w->tmp);
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
        OGRErr err = OGR_L_CreateFeature(l, f);
        OGR_F_Destroy(f);
        if (err != OGRERR_NONE)
            return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot write zone_summary", w->tmp);
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
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction", w->tmp);
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
        OGRErr err = OGR_L_CreateFeature(l, f);
        OGR_F_Destroy(f);
        if (err != OGRERR_NONE)
            return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot write zone_theme", w->tmp);
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
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction", w->tmp);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    for (size_t i = 0; i < s->rules->n; i++) {
        const stapel__rule *r = &s->rules->rules[i];
        OGRFeatureH f = OGR_F_Create(defn);
        OGR_F_SetFieldString(f, 0, r->a);
        OGR_F_SetFieldString(f, 1, r->b);
        OGR_F_SetFieldString(f, 2, stapel_verdict_name(r->verdict));
        if (r->note != NULL)
            OGR_F_SetFieldString(f, 3, r->note);
        OGRErr err = OGR_L_CreateFeature(l, f);
        OGR_F_Destroy(f);
        if (err != OGRERR_NONE)
            return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot write the rules", w->tmp);
    }
    st = commit(w, ds, false);
    if (st != STAPEL_OK)
        return st;

    st = create_table(w, ds, "run_info", "Over deze run",
                      "How this stack was made: stapel version, grid, themes, sources, shard.", &l);
    if (st == STAPEL_OK)
        st = add_field(w, l, "key", OFTString, OFSTNone);
    if (st == STAPEL_OK)
        st = add_field(w, l, "value", OFTString, OFSTNone);
    if (st != STAPEL_OK)
        return st;
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE)
        return stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot start a transaction", w->tmp);
    defn = OGR_L_GetLayerDefn(l);
    char grid[64], shard[64];
    snprintf(grid, sizeof grid, "%.17g", s->in.grid);
    snprintf(shard, sizeof shard, "%d/%d", s->shard_index, s->shard_count);
    const char *kv[][2] = {{"stapel_version", STAPEL_VERSION}, {"grid", grid},
                           {"shard", s->shard_count > 0 ? shard : NULL}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] + s->n_layers && st == STAPEL_OK; i++) {
        const char *key, *value;
        if (i < sizeof kv / sizeof kv[0]) {
            key = kv[i][0];
            value = kv[i][1];
        } else {
            key = s->layer_themes[i - sizeof kv / sizeof kv[0]];
            value = s->layer_sources[i - sizeof kv / sizeof kv[0]];
        }
        if (value == NULL)
            continue;
        OGRFeatureH f = OGR_F_Create(defn);
        OGR_F_SetFieldString(f, 0, i < sizeof kv / sizeof kv[0] ? key : "layer");
        if (i < sizeof kv / sizeof kv[0]) {
            OGR_F_SetFieldString(f, 1, value);
        } else {
            char *both = malloc(strlen(key) + strlen(value) + 2);
            if (both == NULL) {
                OGR_F_Destroy(f);
                return stapel__fail(w->ctx, STAPEL_ENOMEM, "out of memory");
            }
            sprintf(both, "%s=%s", key, value);
            OGR_F_SetFieldString(f, 1, both);
            free(both);
        }
        OGRErr err = OGR_L_CreateFeature(l, f);
        OGR_F_Destroy(f);
        if (err != OGRERR_NONE)
            st = stapel__fail(w->ctx, STAPEL_EIO, "%s: cannot write run_info", w->tmp);
    }
    if (st != STAPEL_OK)
        return st;
    return commit(w, ds, false);
}

/* A temporary path in the directory of path. Caller frees. */
static char *temp_path_for(const char *path)
{
    char *copy = stapel__strdup(path);
    if (copy == NULL)
        return NULL;
    const char *dir = dirname(copy);
    char *copy2 = stapel__strdup(path);
    if (copy2 == NULL) {
        free(copy);
        return NULL;
    }
    const char *base = basename(copy2);
    size_t n = strlen(dir) + strlen(base) + 64;
    char *tmp = malloc(n);
    if (tmp != NULL)
        snprintf(tmp, n, "%s/.%s.%ld.tmp.gpkg", dir, base, (long)getpid());
    free(copy);
    free(copy2);
    return tmp;
}

struct stapel__out {
    char *tmp;
    const char *path;
    GDALDatasetH ds;
    OGRSpatialReferenceH srs;
    stapel__rtree_box *boxes;
    size_t n_boxes;
};

stapel_status stapel__out_open(stapel_ctx *ctx, stapel__out **out, const stapel_stack *s,
                               const char *path, unsigned flags)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "no output path");
    struct stat sb;
    if (stat(path, &sb) == 0) {
        if (!(flags & STAPEL_WRITE_OVERWRITE))
            return stapel__fail(ctx, STAPEL_EEXISTS,
                                "'%s' exists; use --overwrite to replace it", path);
        if (S_ISDIR(sb.st_mode))
            return stapel__fail(ctx, STAPEL_EIO, "'%s' is a directory", path);
    }
    stapel__out *o = calloc(1, sizeof *o);
    if (o == NULL || (o->tmp = temp_path_for(path)) == NULL) {
        free(o);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    o->path = path;
    stapel_status st = STAPEL_OK;
    stapel__gdal_push(ctx);
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    if (drv == NULL) {
        st = stapel__fail(ctx, STAPEL_EIO, "GDAL has no GeoPackage driver");
        goto done;
    }
    unlink(o->tmp);
    o->ds = GDALCreate(drv, o->tmp, 0, 0, 0, GDT_Unknown, NULL);
    if (o->ds == NULL) {
        st = stapel__fail(ctx, STAPEL_EIO, "cannot create '%s' (is the directory writable?): %s",
                          path, stapel__gdal_error(strerror(errno)));
        goto done;
    }
    o->srs = OSRNewSpatialReference(s->in.crs_wkt);
    if (o->srs == NULL)
        st = stapel__fail(ctx, STAPEL_ECRS, "cannot describe the working CRS");
done:
    stapel__gdal_pop();
    if (st != STAPEL_OK) {
        stapel__out_close(o, true);
        return st;
    }
    *out = o;
    return STAPEL_OK;
}

void stapel__out_close(stapel__out *o, bool discard)
{
    if (o == NULL)
        return;
    if (o->ds != NULL)
        GDALClose(o->ds);
    if (discard)
        unlink(o->tmp);
    if (o->srs != NULL)
        OSRDestroySpatialReference(o->srs);
    free(o->boxes);
    free(o->tmp);
    free(o);
}

static stapel_status writer_init(writer *w, stapel_ctx *ctx, const stapel__out *o)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->tmp = o->tmp;
    w->wkb = GEOSWKBWriter_create_r(ctx->geos);
    if (w->wkb == NULL)
        return stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
    GEOSWKBWriter_setOutputDimension_r(ctx->geos, w->wkb, 2);
    return STAPEL_OK;
}

stapel_status stapel__out_faces(stapel_ctx *ctx, stapel__out *o, const stapel_stack *s)
{
    writer w;
    stapel__gdal_push(ctx);
    stapel_status st = writer_init(&w, ctx, o);
    if (st == STAPEL_OK)
        st = write_faces(&w, o->ds, o->srs, s);
    o->boxes = w.boxes;
    o->n_boxes = w.n_boxes;
    if (w.wkb != NULL)
        GEOSWKBWriter_destroy_r(ctx->geos, w.wkb);
    stapel__gdal_pop();
    return st;
}

stapel_status stapel__out_finish(stapel_ctx *ctx, stapel__out *o, const stapel_stack *s)
{
    writer w;
    stapel__gdal_push(ctx);
    GDALDatasetH ds = o->ds;
    stapel_status st = writer_init(&w, ctx, o);
    if (st == STAPEL_OK)
        st = write_zones(&w, ds, o->srs, s, STAPEL_ZONE_PROVINCE);
    if (st == STAPEL_OK)
        st = write_zones(&w, ds, o->srs, s, STAPEL_ZONE_NOVEX);
    if (st == STAPEL_OK)
        st = write_conflicts(&w, ds, o->srs, s);
    if (st == STAPEL_OK && s->summary != NULL)
        st = write_summary(&w, ds, s);
    if (st == STAPEL_OK)
        st = write_run_info(&w, ds, s);
    if (st == STAPEL_OK)
        st = stapel__styles_write(ctx, ds, s->zone_fields[STAPEL_ZONE_PROVINCE],
                                  s->zone_fields[STAPEL_ZONE_NOVEX]);
    if (w.wkb != NULL)
        GEOSWKBWriter_destroy_r(ctx->geos, w.wkb);
    if (st == STAPEL_OK && stapel__cancelled(ctx))
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while writing");
    CPLErrorReset();
    GDALClose(ds);
    o->ds = NULL;
    if (st == STAPEL_OK && CPLGetLastErrorType() >= CE_Failure)
        st = stapel__fail(ctx, STAPEL_EIO, "%s: cannot finish the file: %s", o->path,
                          stapel__gdal_error("unknown error"));
    /* GDAL would fill the index row by row; bulk-load it instead. */
    if (st == STAPEL_OK)
        st = stapel__rtree_bulk(ctx, o->tmp, "stack", "geom", "fid", o->boxes, o->n_boxes);
    if (st == STAPEL_OK && stapel__cancelled(ctx))
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while writing");
    if (st == STAPEL_OK && rename(o->tmp, o->path) != 0)
        st = stapel__fail(ctx, STAPEL_EIO, "cannot rename '%s' to '%s': %s", o->tmp, o->path,
                          strerror(errno));
    if (st == STAPEL_OK)
        stapel__progress(ctx, "writing", 1.0);
    stapel__gdal_pop();
    return st;
}

stapel_status stapel_stack_write(stapel_ctx *ctx, const stapel_stack *s, const char *path,
                                 unsigned flags)
{
    stapel__clear(ctx);
    stapel__out *o = NULL;
    stapel_status st = stapel__out_open(ctx, &o, s, path, flags);
    if (st != STAPEL_OK)
        return st;
    st = stapel__out_faces(ctx, o, s);
    if (st == STAPEL_OK)
        st = stapel__out_finish(ctx, o, s);
    stapel__out_close(o, st != STAPEL_OK);
    return st;
}
