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
 */
#include "geom.h"

#include <stdlib.h>

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

stapel_status stapel__repair(stapel_ctx *ctx, GEOSGeometry **g, double grid, bool *repaired)
{
    GEOSContextHandle_t h = ctx->geos;
    *repaired = false;
    char valid = GEOSisValid_r(h, *g);
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

    stapel_status st = STAPEL_OK;
    int nparts = GEOSGetNumGeometries_r(h, *g);
    GEOSGeometry **fixed = calloc((size_t)nparts, sizeof *fixed);
    const GEOSGeometry **polys = NULL;
    size_t npolys = 0, cap = 0;
    GEOSGeometry **clones = NULL;
    GEOSGeometry *coll = NULL, *result = NULL;
    if (fixed == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < nparts; i++) {
        const GEOSGeometry *part = GEOSGetGeometryN_r(h, *g, i);
        char v = GEOSisValid_r(h, part);
        if (v == 1)
            continue;
        fixed[i] = GEOSMakeValidWithParams_r(h, part, params);
        if (fixed[i] == NULL) {
            st = stapel__fail(ctx, STAPEL_EGEOS, "MakeValid failed: %s", stapel__geos_error(ctx));
            goto done;
        }
    }
    for (int i = 0; i < nparts; i++) {
        const GEOSGeometry *src = fixed[i] != NULL ? fixed[i] : GEOSGetGeometryN_r(h, *g, i);
        if (!polygons_of(ctx, src, &polys, &npolys, &cap)) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (npolys == 0) {
        GEOSGeom_destroy_r(h, *g);
        *g = NULL;
        goto done;
    }
    clones = malloc(npolys * sizeof *clones);
    if (clones == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < npolys; i++) {
        clones[i] = GEOSGeom_clone_r(h, polys[i]);
        if (clones[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                GEOSGeom_destroy_r(h, clones[k]);
            st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
            goto done;
        }
    }
    coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, clones, (unsigned)npolys);
    if (coll == NULL) {
        for (size_t k = 0; k < npolys; k++)
            GEOSGeom_destroy_r(h, clones[k]);
        st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
        goto done;
    }
    /* Union on the grid: merges overlapping parts and puts the intersection
     * points MakeValid created back onto the grid, with a valid result. */
    result = GEOSUnaryUnionPrec_r(h, coll, grid);
    if (result == NULL) {
        st = stapel__fail(ctx, STAPEL_EGEOS, "snap-rounding union failed: %s",
                          stapel__geos_error(ctx));
        goto done;
    }
    GEOSGeom_destroy_r(h, *g);
    *g = NULL;
    if (GEOSisEmpty_r(h, result) == 1 || GEOSArea_r(h, result, &(double){0}) == 0) {
        GEOSGeom_destroy_r(h, result);
        goto done;
    }
    st = stapel__polygonal_only(ctx, &result);
    *g = result;
done:
    if (coll != NULL)
        GEOSGeom_destroy_r(h, coll);
    if (fixed != NULL)
        for (int i = 0; i < nparts; i++)
            if (fixed[i] != NULL)
                GEOSGeom_destroy_r(h, fixed[i]);
    free(fixed);
    free(polys);
    free(clones);
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
