/*
 * validity.c - turning a converted claim into a valid polygonal geometry on
 * the snap grid, the form every later step relies on.
 *
 * Coordinates arrive already rounded to the grid (convert.c). A geometry that
 * is valid after rounding is kept as it is: the common case costs one
 * validity test. An invalid one is repaired part by part with MakeValid
 * (STRUCTURE method, areal parts only; one bad part must not send a whole
 * multipolygon down the slow path), and the repaired result is snapped back
 * onto the grid with a snap-rounding union, which also merges parts that
 * overlap. Invariant on success: *g is NULL or a valid Polygon/MultiPolygon
 * whose every coordinate lies on the grid.
 *
 * Most claims are one ring without holes, and for those the validity test is
 * answered here first: the ring is simple when no two of its edges meet
 * except neighbours at their common corner. Every orientation that decides
 * this is taken only when its sign is certain in double arithmetic; when one
 * is not (a corner on or very near another edge, a ring folding back), or the
 * polygon has holes or parts, GEOS's own test decides. So the answer is
 * always GEOS's, at a fraction of its cost.
 */
#include "geom.h"

#include <math.h>
#include <stdlib.h>

/* ---- a quick validity test for polygons of one ring ---------------------- */

/* Rings with more edges go to GEOS: the sweep below is quadratic at worst. */
#define QUICK_MAX_EDGES 256

/* The orientation of c against the line a -> b when its sign is certain:
 * +1 left, -1 right, 0 when the determinant is too close to zero to tell.
 * The bound is Shewchuk's for the plain evaluation (3.3e-16 of the sum of
 * the products' magnitudes) with a margin; tiny magnitudes, where products
 * underflow, and NaN are never certain. */
static int orient_sure(const double *a, const double *b, const double *c)
{
    double l = (a[0] - c[0]) * (b[1] - c[1]);
    double r = (a[1] - c[1]) * (b[0] - c[0]);
    double det = l - r, sum = fabs(l) + fabs(r);
    if (!(sum > 1e-250))
        return 0;
    double bound = 1e-15 * sum;
    return det > bound ? 1 : det < -bound ? -1 : 0;
}

/* Whether edges pq and rs certainly have no point in common: both ends of one
 * lie strictly on the same side of the other's line. */
static bool apart_sure(const double *p, const double *q, const double *r, const double *s)
{
    int a = orient_sure(p, q, r);
    if (a != 0 && a == orient_sure(p, q, s))
        return true;
    int c = orient_sure(r, s, p);
    return c != 0 && c == orient_sure(r, s, q);
}

/* Whether neighbouring edges u -> v and v -> w certainly meet only at v: they
 * turn (w certainly off the line uv), or go on ahead (u and w certainly on
 * either side of v). Otherwise the second may fold back over the first. */
static bool corner_sure(const double *u, const double *v, const double *w)
{
    if (orient_sure(u, v, w) != 0)
        return true;
    double t1 = (u[0] - v[0]) * (w[0] - v[0]), t2 = (u[1] - v[1]) * (w[1] - v[1]);
    double dot = t1 + t2, sum = fabs(t1) + fabs(t2);
    return sum > 1e-250 && dot < -1e-15 * sum;
}

typedef struct edge_box {
    double x0, x1, y0, y1;
    uint32_t i;
} edge_box;

static int cmp_edge_x0(const void *a, const void *b)
{
    const edge_box *p = a, *q = b;
    if (p->x0 != q->x0)
        return p->x0 < q->x0 ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

bool stapel__ring_surely_simple(const double *xy, size_t m)
{
    if (m < 4 || m - 1 > QUICK_MAX_EDGES)
        return false;
    size_t n = m - 1; /* edges; point n closes the ring */
    if (xy[0] != xy[2 * n] || xy[1] != xy[2 * n + 1])
        return false;
    for (size_t i = 0; i < 2 * m; i++)
        if (!isfinite(xy[i]))
            return false;
    for (size_t i = 0; i < n; i++) {
        const double *u = xy + 2 * (i == 0 ? n - 1 : i - 1), *v = xy + 2 * i, *w = xy + 2 * (i + 1);
        if (!corner_sure(u, v, w))
            return false;
    }
    edge_box eb[QUICK_MAX_EDGES];
    for (size_t i = 0; i < n; i++) {
        const double *a = xy + 2 * i, *b = a + 2;
        eb[i] = (edge_box){fmin(a[0], b[0]), fmax(a[0], b[0]), fmin(a[1], b[1]),
                           fmax(a[1], b[1]), (uint32_t)i};
    }
    STAPEL__SORT_SMALL(edge_box, eb, n, cmp_edge_x0);
    /* Sweep in x: every pair of edges whose boxes meet, except neighbours. */
    for (size_t k = 0; k < n; k++) {
        for (size_t l = k + 1; l < n && eb[l].x0 <= eb[k].x1; l++) {
            size_t i = eb[k].i, j = eb[l].i;
            size_t d = i > j ? i - j : j - i;
            if (d == 1 || d == n - 1)
                continue;
            if (eb[l].y0 > eb[k].y1 || eb[k].y0 > eb[l].y1)
                continue;
            if (!apart_sure(xy + 2 * i, xy + 2 * i + 2, xy + 2 * j, xy + 2 * j + 2))
                return false;
        }
    }
    return true;
}

char stapel__is_valid(stapel_ctx *ctx, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = ctx->geos;
    if (GEOSGeomTypeId_r(h, g) == GEOS_POLYGON && GEOSGetNumInteriorRings_r(h, g) == 0) {
        const GEOSGeometry *ring = GEOSGetExteriorRing_r(h, g);
        const GEOSCoordSequence *seq = ring != NULL ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
        unsigned m = 0;
        double xy[2 * (QUICK_MAX_EDGES + 1)];
        if (seq != NULL && GEOSCoordSeq_getSize_r(h, seq, &m) != 0 && m >= 4 &&
            m <= QUICK_MAX_EDGES + 1 && GEOSCoordSeq_copyToBuffer_r(h, seq, xy, 0, 0) != 0 &&
            stapel__ring_surely_simple(xy, m))
            return 1;
    }
    return GEOSisValid_r(h, g);
}

/* Append the polygons of g (any type) to the array; borrowed pointers. */
static bool polygons_of(stapel_ctx *ctx, const GEOSGeometry *g, const GEOSGeometry ***arr,
                        size_t *n, size_t *cap)
{
    int t = GEOSGeomTypeId_r(ctx->geos, g);
    if (t == GEOS_POLYGON) {
        if (GEOSisEmpty_r(ctx->geos, g) == 1)
            return true;
        if (*n == *cap) {
            size_t c = *cap == 0 ? 4 : *cap * 2;
            const GEOSGeometry **d = realloc(*arr, c * sizeof *d);
            if (d == NULL)
                return false;
            *arr = d;
            *cap = c;
        }
        (*arr)[(*n)++] = g;
        return true;
    }
    if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int k = GEOSGetNumGeometries_r(ctx->geos, g);
        for (int i = 0; i < k; i++)
            if (!polygons_of(ctx, GEOSGetGeometryN_r(ctx->geos, g, i), arr, n, cap))
                return false;
    }
    return true; /* points and lines from MakeValid are dropped */
}

/* A valid polygonal geometry put on the grid: one snap-rounding pass over
 * all its edges. (GEOSUnaryUnionPrec would union its polygons one pair at a
 * time, renoding the growing result at every level: about 30 s instead of
 * 1 s for a ring of 200,000 jittered vertices that MakeValid turns into
 * 10,000 polygons.) */
static GEOSGeometry *on_grid(GEOSContextHandle_t h, const GEOSGeometry *valid, double grid)
{
    return GEOSGeom_setPrecision_r(h, valid, grid, 0);
}

stapel_status stapel__repair(stapel_ctx *ctx, GEOSGeometry **g, double grid, bool *repaired)
{
    GEOSContextHandle_t h = ctx->geos;
    *repaired = false;
    char valid = stapel__is_valid(ctx, *g);
    if (valid == 1)
        return STAPEL_OK;
    if (valid != 0)
        return stapel__fail(ctx, STAPEL_EGEOS, "validity test failed: %s", stapel__geos_error(ctx));
    *repaired = true;

    GEOSMakeValidParams *params = GEOSMakeValidParams_create_r(h);
    if (params == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    GEOSMakeValidParams_setMethod_r(h, params, GEOS_MAKE_VALID_STRUCTURE);
    GEOSMakeValidParams_setKeepCollapsed_r(h, params, 0);

    /* Each part valid and on the grid: an invalid one through MakeValid, its
     * areal part only, then back onto the grid (MakeValid adds intersection
     * points off it). */
    stapel_status st = STAPEL_OK;
    int nparts = GEOSGetNumGeometries_r(h, *g);
    GEOSGeometry **part = calloc((size_t)nparts + 1, sizeof *part);
    size_t n = 0;
    if (part == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < nparts; i++) {
        const GEOSGeometry *src = GEOSGetGeometryN_r(h, *g, i);
        GEOSGeometry *p = NULL;
        if (stapel__is_valid(ctx, src) == 1) {
            p = GEOSGeom_clone_r(h, src);
        } else {
            GEOSGeometry *mv = GEOSMakeValidWithParams_r(h, src, params);
            if (mv == NULL) {
                st = stapel__fail(ctx, STAPEL_EGEOS, "MakeValid failed: %s",
                                  stapel__geos_error(ctx));
                goto done;
            }
            st = stapel__polygonal_only(ctx, &mv);
            if (st != STAPEL_OK) {
                GEOSGeom_destroy_r(h, mv);
                goto done;
            }
            p = on_grid(h, mv, grid);
            GEOSGeom_destroy_r(h, mv);
        }
        if (p == NULL) {
            st = stapel__fail(ctx, STAPEL_EGEOS, "snap-rounding failed: %s",
                              stapel__geos_error(ctx));
            goto done;
        }
        if (GEOSisEmpty_r(h, p) == 1) {
            GEOSGeom_destroy_r(h, p);
            continue;
        }
        part[n++] = p;
    }
    /* Parts of one claim may overlap: union them on the grid, in pairs, so
     * that each step is one overlay of two valid geometries. */
    while (n > 1) {
        size_t k = 0;
        for (size_t i = 0; i < n; i += 2) {
            if (i + 1 == n) {
                part[k++] = part[i];
                continue;
            }
            GEOSGeometry *u = GEOSUnionPrec_r(h, part[i], part[i + 1], grid);
            if (u == NULL) {
                st = stapel__fail(ctx, STAPEL_EGEOS, "snap-rounding union failed: %s",
                                  stapel__geos_error(ctx));
                for (size_t j = i; j < n; j++) /* the rest is freed below */
                    part[k + j - i] = part[j];
                n = k + n - i;
                goto done;
            }
            GEOSGeom_destroy_r(h, part[i]);
            GEOSGeom_destroy_r(h, part[i + 1]);
            part[k++] = u;
        }
        n = k;
    }
    GEOSGeom_destroy_r(h, *g);
    *g = NULL;
    if (n == 0)
        goto done;
    GEOSGeometry *result = part[0];
    n = 0;
    if (GEOSisEmpty_r(h, result) == 1 || GEOSArea_r(h, result, &(double){0}) == 0) {
        GEOSGeom_destroy_r(h, result);
        goto done;
    }
    st = stapel__polygonal_only(ctx, &result);
    *g = result;
done:
    for (size_t i = 0; part != NULL && i < n; i++)
        GEOSGeom_destroy_r(h, part[i]);
    free(part);
    GEOSMakeValidParams_destroy_r(h, params);
    return st;
}

stapel_status stapel__polygonal_only(stapel_ctx *ctx, GEOSGeometry **g)
{
    GEOSContextHandle_t h = ctx->geos;
    int t = GEOSGeomTypeId_r(h, *g);
    if (t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON)
        return STAPEL_OK;
    const GEOSGeometry **polys = NULL;
    size_t n = 0, cap = 0;
    if (!polygons_of(ctx, *g, &polys, &n, &cap)) {
        free(polys);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    GEOSGeometry **clones = malloc((n > 0 ? n : 1) * sizeof *clones);
    if (clones == NULL) {
        free(polys);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        clones[i] = GEOSGeom_clone_r(h, polys[i]);
    GEOSGeometry *mp = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, clones, (unsigned)n);
    free(polys);
    free(clones);
    if (mp == NULL)
        return stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
    GEOSGeom_destroy_r(h, *g);
    *g = mp;
    return STAPEL_OK;
}

void stapel__geom_warm(stapel_ctx *ctx, const GEOSGeometry *g)
{
    GEOSContextHandle_t h = ctx->geos;
    double v;
    GEOSGeom_getXMin_r(h, g, &v);
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_POLYGON) {
        GEOSGeom_getXMin_r(h, GEOSGetExteriorRing_r(h, g), &v);
        int nh = GEOSGetNumInteriorRings_r(h, g);
        for (int i = 0; i < nh; i++)
            GEOSGeom_getXMin_r(h, GEOSGetInteriorRingN_r(h, g, i), &v);
    } else if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            stapel__geom_warm(ctx, GEOSGetGeometryN_r(h, g, i));
    }
}
