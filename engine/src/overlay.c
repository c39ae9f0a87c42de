/*
 * overlay.c - one tile of the stack: the items' rings, clipped to the tile
 * in grid units, go through the exact integer arrangement (arrange.c), and
 * the faces covered by a claim come back labelled with the items covering
 * them. Faces that touch an inner tile border are flagged for the seam merge
 * in stack.c.
 *
 * Runs on a worker context: it reads the shared items but never changes
 * them, and everything it creates belongs to this call.
 */
#include "arrange.h"
#include "pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t to_grid(double v, double grid)
{
    return (int64_t)llround(v / grid);
}

bool stapel__geom_rings(stapel_ctx *ctx, const GEOSGeometry *g, double grid, stapel__ipt **pts_out,
                        uint32_t **ring_end_out, uint32_t *n_rings_out)
{
    GEOSContextHandle_t h = ctx->geos;
    *pts_out = NULL;
    *ring_end_out = NULL;
    *n_rings_out = 0;
    int n_parts = GEOSGetNumGeometries_r(h, g);
    size_t n_pts = (size_t)GEOSGetNumCoordinates_r(h, g), n_rings = 0;
    for (int i = 0; i < n_parts; i++)
        n_rings += 1 + (size_t)GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, g, i));
    stapel__ipt *pts = malloc((n_pts + 1) * sizeof *pts);
    uint32_t *ring_end = malloc((n_rings + 1) * sizeof *ring_end);
    double *buf = malloc(2 * (n_pts + 1) * sizeof *buf);
    if (pts == NULL || ring_end == NULL || buf == NULL) {
        free(pts);
        free(ring_end);
        free(buf);
        return false;
    }
    size_t k = 0;
    uint32_t nr = 0;
    for (int i = 0; i < n_parts; i++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(h, g, i);
        int nh = GEOSGetNumInteriorRings_r(h, poly);
        for (int r = -1; r < nh; r++) {
            const GEOSGeometry *ring =
                r < 0 ? GEOSGetExteriorRing_r(h, poly) : GEOSGetInteriorRingN_r(h, poly, r);
            const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
            unsigned n = 0;
            GEOSCoordSeq_getSize_r(h, seq, &n);
            if (n == 0)
                continue;
            GEOSCoordSeq_copyToBuffer_r(h, seq, buf, 0, 0);
            size_t start = k;
            stapel__i128 area2 = 0;
            for (unsigned j = 0; j < n; j++) {
                pts[k] = (stapel__ipt){to_grid(buf[2 * j], grid), to_grid(buf[2 * j + 1], grid)};
                if (j > 0)
                    area2 += (stapel__i128)pts[k - 1].x * pts[k].y -
                             (stapel__i128)pts[k].x * pts[k - 1].y;
                k++;
            }
            /* Shells turn counter-clockwise, holes clockwise: the interior
             * is then on the left of every edge. */
            bool want_ccw = r < 0;
            if ((area2 > 0) != want_ccw && area2 != 0) {
                for (size_t a = start, b = k - 1; a < b; a++, b--) {
                    stapel__ipt t = pts[a];
                    pts[a] = pts[b];
                    pts[b] = t;
                }
            }
            ring_end[nr++] = (uint32_t)k;
        }
    }
    free(buf);
    *pts_out = pts;
    *ring_end_out = ring_end;
    *n_rings_out = nr;
    return true;
}

bool stapel__item_rings(stapel_ctx *ctx, stapel__item *it, double grid)
{
    return stapel__geom_rings(ctx, it->geom, grid, &it->pts, &it->ring_end, &it->n_rings);
}

typedef struct keep_ctx {
    const stapel__input *in;
    const uint32_t *items;
} keep_ctx;

static bool keep_claim(uint32_t owner, void *user)
{
    const keep_ctx *k = user;
    return k->items[owner] < k->in->n_claims;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* When item i of tile t is a copy of an earlier item (first, an index of
 * the input) that the tile clipped, push that item's clipped segments again
 * with owner i: the clip of the same rings is the same. True when done;
 * false when it is to be clipped (or *st tells of a failure). */
static bool copy_clip(stapel__segs *segs, const stapel__tile *t, uint32_t first, size_t i,
                      const size_t *seg_lo, const size_t *seg_hi, stapel_status *st,
                      stapel_ctx *ctx)
{
    if (first == UINT32_MAX)
        return false;
    const uint32_t *hit = bsearch(&first, t->items, i, sizeof *t->items, cmp_u32);
    if (hit == NULL)
        return false;
    size_t j = (size_t)(hit - t->items);
    if (seg_lo[j] > seg_hi[j])
        return false; /* not clipped: inside the tile */
    for (size_t k = seg_lo[j]; k < seg_hi[j]; k++) {
        stapel__iseg s = segs->v[k];
        if (!stapel__segs_push(segs, s.a, s.b, (uint32_t)i)) {
            *st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            return false;
        }
    }
    return true;
}

stapel_status stapel__tile_overlay(stapel_ctx *ctx, const stapel__input *in,
                                   const stapel__tiling *tl, size_t tile_idx, double grid,
                                   stapel__face **faces, size_t *n_faces)
{
    const stapel__tile *t = &tl->tiles[tile_idx];
    /* Items are listed in index order and claims come first. */
    if (t->n_items == 0 || t->items[0] >= in->n_claims)
        return STAPEL_OK;
    int64_t x0 = to_grid(t->xmin, grid), y0 = to_grid(t->ymin, grid);
    int64_t x1 = to_grid(t->xmax, grid), y1 = to_grid(t->ymax, grid);
    int64_t dx0 = to_grid(tl->xmin, grid), dy0 = to_grid(tl->ymin, grid);
    int64_t dx1 = to_grid(tl->xmax, grid), dy1 = to_grid(tl->ymax, grid);

    stapel__segs segs = {0};
    stapel__aface *af = NULL;
    size_t n_af = 0;
    stapel_status st = STAPEL_OK;
    /* Per item of the tile: the range of its clipped segments, to be copied
     * for a later copy of it (tl->same_as); lo > hi when it was not clipped. */
    size_t *seg_lo = NULL, *seg_hi = NULL;
    if (tl->same_as != NULL) {
        seg_lo = malloc(t->n_items * sizeof *seg_lo);
        seg_hi = malloc(t->n_items * sizeof *seg_hi);
        if (seg_lo == NULL || seg_hi == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < t->n_items; i++) {
        const stapel__item *it = &in->items[t->items[i]];
        bool inside = it->xmin >= t->xmin && it->xmax <= t->xmax && it->ymin >= t->ymin &&
                      it->ymax <= t->ymax;
        if (seg_lo != NULL) {
            seg_lo[i] = 1;
            seg_hi[i] = 0;
            if (!inside &&
                copy_clip(&segs, t, tl->same_as[t->items[i]], i, seg_lo, seg_hi, &st, ctx))
                continue;
            if (st != STAPEL_OK)
                goto done;
            if (!inside)
                seg_lo[i] = segs.n;
        }
        uint32_t start = 0;
        for (uint32_t r = 0; r < it->n_rings; r++) {
            const stapel__ipt *p = it->pts + start;
            size_t n = it->ring_end[r] - start;
            start = it->ring_end[r];
            bool ok = true;
            if (inside) {
                for (size_t k = 0; k + 1 < n && ok; k++)
                    ok = stapel__segs_push(&segs, p[k], p[k + 1], (uint32_t)i);
            } else {
                ok = stapel__clip_ring(&segs, p, n, (uint32_t)i, x0, y0, x1, y1,
                                       tl->blk != NULL ? tl->blk[t->items[i]] : NULL,
                                       (size_t)(p - it->pts));
            }
            if (!ok) {
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
        }
        if (seg_lo != NULL && !inside)
            seg_hi[i] = segs.n;
    }
    keep_ctx kc = {in, t->items};
    st = stapel__arrange(ctx, &segs, false, keep_claim, &kc, &af, &n_af);
    if (st != STAPEL_OK) {
        st = stapel__wrap(ctx, st, "tile %zu", tile_idx);
        goto done;
    }
    if (n_af > 0) {
        stapel__face *d = realloc(*faces, (*n_faces + n_af) * sizeof *d);
        if (d == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        *faces = d;
    }
    for (size_t i = 0; i < n_af; i++) {
        stapel__aface *a = &af[i];
        stapel__face f = {.pts = a->pts,
                          .ring_end = a->ring_end,
                          .n_rings = a->n_rings,
                          .pinched = a->pinched,
                          .ids = a->owners,
                          .n_ids = a->n_owners};
        for (uint32_t k = 0; k < a->n_owners; k++)
            f.ids[k] = t->items[f.ids[k]];
        f.on_seam = (a->xmin <= x0 && x0 > dx0) || (a->ymin <= y0 && y0 > dy0) ||
                    (a->xmax >= x1 && x1 < dx1) || (a->ymax >= y1 && y1 < dy1);
        a->pts = NULL;
        a->ring_end = NULL;
        a->owners = NULL;
        (*faces)[(*n_faces)++] = f;
    }
done:
    stapel__afaces_free(af, n_af);
    free(segs.v);
    free(seg_lo);
    free(seg_hi);
    return st;
}

void stapel__faces_free(stapel__face *faces, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(faces[i].ids);
        free(faces[i].pts);
        free(faces[i].ring_end);
    }
    free(faces);
}

double stapel__rings_area(stapel__rings r, double grid)
{
    /* Twice the signed area in grid cells; shells count positive and holes
     * negative by their orientation. */
    stapel__i128 a2 = 0;
    uint32_t start = 0;
    for (uint32_t k = 0; k < r.n_rings; k++) {
        for (uint32_t i = start; i + 1 < r.ring_end[k]; i++)
            a2 += (stapel__i128)r.pts[i].x * r.pts[i + 1].y -
                  (stapel__i128)r.pts[i + 1].x * r.pts[i].y;
        start = r.ring_end[k];
    }
    return (double)a2 * 0.5 * grid * grid;
}
