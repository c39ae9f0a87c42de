/*
 * overlay.c - the arrangement of one tile: clip, node, polygonize, label.
 *
 * Every item meeting the tile is clipped to the tile rectangle; the
 * boundaries of all clipped items are noded together by a snap-rounding
 * union on the grid (robust: it never throws on near-coincident edges, and
 * merges shared edges so adjacent parcels leave no slivers); polygonize turns
 * the noded linework into faces; each face is labelled by an interior point
 * tested against the clipped items through an STRtree and prepared
 * geometries. Faces that no claim covers are dropped. Faces that touch an
 * inner tile border are flagged for the seam merge in stack.c.
 *
 * Runs on a worker context: it reads the shared items but never changes
 * them, and everything it creates belongs to this call.
 */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

typedef struct local {
    const GEOSGeometry *geom; /* clipped item, or the item itself */
    GEOSGeometry *owned;      /* non-NULL when geom was clipped here */
    const GEOSPreparedGeometry *prep;
    uint32_t item;
} local;

typedef struct cands {
    size_t *v;
    size_t n, cap;
    bool oom;
} cands;

static void collect_cand(void *item, void *user)
{
    cands *c = user;
    if (c->n == c->cap) {
        size_t cap = c->cap == 0 ? 16 : c->cap * 2;
        size_t *d = realloc(c->v, cap * sizeof *d);
        if (d == NULL) {
            c->oom = true;
            return;
        }
        c->v = d;
        c->cap = cap;
    }
    c->v[c->n++] = (size_t)(uintptr_t)item - 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t u = *(const uint32_t *)a, v = *(const uint32_t *)b;
    return (u > v) - (u < v);
}

static bool push_face(stapel__face **faces, size_t *n, size_t *cap, stapel__face f)
{
    if (*n == *cap) {
        size_t c = *cap == 0 ? 64 : *cap * 2;
        stapel__face *d = realloc(*faces, c * sizeof *d);
        if (d == NULL)
            return false;
        *faces = d;
        *cap = c;
    }
    (*faces)[(*n)++] = f;
    return true;
}

stapel_status stapel__tile_overlay(stapel_ctx *ctx, const stapel__input *in,
                                   const stapel__tiling *tl, size_t tile_idx, double grid,
                                   stapel__face **faces, size_t *n_faces)
{
    GEOSContextHandle_t h = ctx->geos;
    const stapel__tile *t = &tl->tiles[tile_idx];
    size_t cap_faces = *n_faces;
    /* Items are listed in index order and claims come first. */
    if (t->n_items == 0 || t->items[0] >= in->n_claims)
        return STAPEL_OK;

    stapel_status st = STAPEL_OK;
    local *loc = calloc(t->n_items, sizeof *loc);
    GEOSGeometry **lines = calloc(t->n_items, sizeof *lines);
    size_t n_loc = 0, n_lines = 0;
    GEOSGeometry *coll = NULL, *noded = NULL, *polys = NULL, *pt = NULL;
    GEOSGeometry **parts = NULL;
    unsigned n_parts = 0;
    GEOSSTRtree *tree = NULL;
    cands c = {0};
    uint32_t *label = NULL;
    if (loc == NULL || lines == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }

    bool any_claim = false;
    for (size_t i = 0; i < t->n_items; i++) {
        const stapel__item *it = &in->items[t->items[i]];
        local *l = &loc[n_loc];
        l->item = t->items[i];
        if (it->xmin >= t->xmin && it->xmax <= t->xmax && it->ymin >= t->ymin &&
            it->ymax <= t->ymax) {
            l->geom = it->geom;
        } else {
            l->owned = GEOSClipByRect_r(h, it->geom, t->xmin, t->ymin, t->xmax, t->ymax);
            if (l->owned == NULL) {
                st = stapel__fail(ctx, STAPEL_EGEOS, "clipping to tile %zu failed: %s", tile_idx,
                                  stapel__geos_error(ctx));
                goto done;
            }
            double area = 0;
            if (GEOSisEmpty_r(h, l->owned) == 1 || !GEOSArea_r(h, l->owned, &area) ||
                area <= 0) {
                GEOSGeom_destroy_r(h, l->owned);
                l->owned = NULL;
                continue;
            }
            l->geom = l->owned;
        }
        lines[n_lines] = GEOSBoundary_r(h, l->geom);
        if (lines[n_lines] == NULL) {
            st = stapel__fail(ctx, STAPEL_EGEOS, "boundary failed in tile %zu: %s", tile_idx,
                              stapel__geos_error(ctx));
            goto done;
        }
        n_lines++;
        n_loc++;
        if (l->item < in->n_claims)
            any_claim = true;
    }
    if (!any_claim)
        goto done;

    coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, lines, (unsigned)n_lines);
    if (coll == NULL) {
        st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
        goto done;
    }
    n_lines = 0; /* now owned by coll */
    noded = GEOSUnaryUnionPrec_r(h, coll, grid);
    if (noded == NULL) {
        st = stapel__fail(ctx, STAPEL_EGEOS, "noding tile %zu failed: %s", tile_idx,
                          stapel__geos_error(ctx));
        goto done;
    }
    const GEOSGeometry *noded_c = noded;
    polys = GEOSPolygonize_r(h, &noded_c, 1);
    if (polys == NULL) {
        st = stapel__fail(ctx, STAPEL_EGEOS, "polygonizing tile %zu failed: %s", tile_idx,
                          stapel__geos_error(ctx));
        goto done;
    }
    /* GEOS 3.11 cannot release the parts of a collection; copy them out. */
    n_parts = (unsigned)GEOSGetNumGeometries_r(h, polys);
    parts = calloc(n_parts > 0 ? n_parts : 1, sizeof *parts);
    if (parts == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (unsigned i = 0; i < n_parts; i++) {
        parts[i] = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, polys, (int)i));
        if (parts[i] == NULL) {
            st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
            goto done;
        }
    }
    GEOSGeom_destroy_r(h, polys);
    polys = NULL;

    tree = GEOSSTRtree_create_r(h, 10);
    if (tree == NULL) {
        st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
        goto done;
    }
    for (size_t i = 0; i < n_loc; i++)
        GEOSSTRtree_insert_r(h, tree, loc[i].geom, (void *)(uintptr_t)(i + 1));
    label = malloc((n_loc > 0 ? n_loc : 1) * sizeof *label);
    if (label == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }

    const double eps = grid * 0.5;
    for (unsigned i = 0; i < n_parts; i++) {
        GEOSGeometry *face = parts[i];
        parts[i] = NULL;
        pt = GEOSPointOnSurface_r(h, face);
        if (pt == NULL) {
            GEOSGeom_destroy_r(h, face);
            st = stapel__fail(ctx, STAPEL_EGEOS, "interior point failed in tile %zu: %s",
                              tile_idx, stapel__geos_error(ctx));
            goto done;
        }
        uint32_t n_label = 0;
        bool has_claim = false;
        if (GEOSisEmpty_r(h, pt) != 1) {
            c.n = 0;
            GEOSSTRtree_query_r(h, tree, pt, collect_cand, &c);
            if (c.oom) {
                GEOSGeom_destroy_r(h, face);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
            for (size_t k = 0; k < c.n; k++) {
                local *l = &loc[c.v[k]];
                if (l->prep == NULL) {
                    l->prep = GEOSPrepare_r(h, l->geom);
                    if (l->prep == NULL) {
                        GEOSGeom_destroy_r(h, face);
                        st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
                        goto done;
                    }
                }
                if (GEOSPreparedContains_r(h, l->prep, pt) == 1) {
                    label[n_label++] = l->item;
                    if (l->item < in->n_claims)
                        has_claim = true;
                }
            }
        }
        GEOSGeom_destroy_r(h, pt);
        pt = NULL;
        if (!has_claim) {
            GEOSGeom_destroy_r(h, face);
            continue;
        }
        qsort(label, n_label, sizeof *label, cmp_u32);
        stapel__face f = {.geom = face, .n_ids = n_label};
        f.ids = malloc(n_label * sizeof *f.ids);
        if (f.ids == NULL) {
            GEOSGeom_destroy_r(h, face);
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(f.ids, label, n_label * sizeof *label);
        double fx0, fy0, fx1, fy1;
        GEOSGeom_getXMin_r(h, face, &fx0);
        GEOSGeom_getYMin_r(h, face, &fy0);
        GEOSGeom_getXMax_r(h, face, &fx1);
        GEOSGeom_getYMax_r(h, face, &fy1);
        f.on_seam = (fx0 <= t->xmin + eps && t->xmin > tl->xmin + eps) ||
                    (fy0 <= t->ymin + eps && t->ymin > tl->ymin + eps) ||
                    (fx1 >= t->xmax - eps && t->xmax < tl->xmax - eps) ||
                    (fy1 >= t->ymax - eps && t->ymax < tl->ymax - eps);
        if (!push_face(faces, n_faces, &cap_faces, f)) {
            GEOSGeom_destroy_r(h, face);
            free(f.ids);
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }

done:
    if (pt != NULL)
        GEOSGeom_destroy_r(h, pt);
    if (parts != NULL) {
        for (unsigned i = 0; i < n_parts; i++)
            if (parts[i] != NULL)
                GEOSGeom_destroy_r(h, parts[i]);
        free(parts);
    }
    if (polys != NULL)
        GEOSGeom_destroy_r(h, polys);
    if (tree != NULL)
        GEOSSTRtree_destroy_r(h, tree);
    if (noded != NULL)
        GEOSGeom_destroy_r(h, noded);
    if (coll != NULL)
        GEOSGeom_destroy_r(h, coll);
    for (size_t i = 0; i < n_lines; i++)
        GEOSGeom_destroy_r(h, lines[i]);
    if (loc != NULL) {
        for (size_t i = 0; i < t->n_items; i++) {
            if (loc[i].prep != NULL)
                GEOSPreparedGeom_destroy_r(h, loc[i].prep);
            if (loc[i].owned != NULL)
                GEOSGeom_destroy_r(h, loc[i].owned);
        }
    }
    free(loc);
    free(lines);
    free(c.v);
    free(label);
    return st;
}

void stapel__faces_free(GEOSContextHandle_t h, stapel__face *faces, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (faces[i].geom != NULL)
            GEOSGeom_destroy_r(h, faces[i].geom);
        free(faces[i].ids);
    }
    free(faces);
}
