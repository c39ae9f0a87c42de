/*
 * convert.c - OGR geometry to GEOS geometry, without a WKB round trip.
 *
 * Ring coordinates are copied straight from OGR into GEOS coordinate
 * sequences. Curves are linearised, Z and M dropped, unclosed rings closed,
 * and rings with fewer than three distinct corners dropped. Non-finite
 * coordinates are reported, never passed to GEOS.
 */
#include "source.h"

#include <math.h>
#include <stdlib.h>

typedef struct polys {
    double scale; /* 1/grid, or 0 to keep coordinates as they are */
    GEOSGeometry **items;
    size_t n, cap;
    double *xy; /* scratch buffer of interleaved x, y */
    size_t xy_cap;
    bool duplicates; /* the source repeated a vertex */
    bool dropped;    /* a collection held points or lines */
    bool bad_ring;   /* a ring not closed, or of fewer than three corners */
} polys;

static bool polys_push(polys *p, GEOSGeometry *g)
{
    if (p->n == p->cap) {
        size_t cap = p->cap == 0 ? 4 : p->cap * 2;
        GEOSGeometry **d = realloc(p->items, cap * sizeof *d);
        if (d == NULL)
            return false;
        p->items = d;
        p->cap = cap;
    }
    p->items[p->n++] = g;
    return true;
}

/* Copy one OGR ring into a GEOS linear ring. Sets *ring to NULL when the ring
 * is degenerate. Returns false on a non-finite coordinate via *bad. */
static stapel_status ring_convert(stapel_ctx *ctx, polys *p, OGRGeometryH r, GEOSGeometry **ring,
                                  bool *bad)
{
    *ring = NULL;
    int n = OGR_G_GetPointCount(r);
    if (n <= 0)
        return STAPEL_OK;
    size_t need = ((size_t)n + 1) * 2;
    if (need > p->xy_cap) {
        double *d = realloc(p->xy, need * sizeof *d);
        if (d == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        p->xy = d;
        p->xy_cap = need;
    }
    OGR_G_GetPoints(r, p->xy, 2 * sizeof(double), p->xy + 1, 2 * sizeof(double), NULL, 0);
    for (int i = 0; i < 2 * n; i++) {
        if (!isfinite(p->xy[i])) {
            *bad = true;
            return STAPEL_OK;
        }
    }
    for (int i = 1; i < n && !p->duplicates; i++)
        if (p->xy[2 * i] == p->xy[2 * i - 2] && p->xy[2 * i + 1] == p->xy[2 * i - 1])
            p->duplicates = true;
    /* As stored, a ring must be closed and have three distinct corners (OGC;
     * GEOS cannot even build one that is not closed). It is closed, or left
     * out, below: a repair of an invalid geometry, which the caller counts. */
    bool closed = p->xy[0] == p->xy[2 * n - 2] && p->xy[1] == p->xy[2 * n - 1];
    /* Distinct corners: the first, one that differs from it, and one that
     * differs from both (A, B, A, A has two, though no two neighbours of
     * A, B, A are equal). */
    int corners = 1, second = -1;
    for (int i = 1; i < n && corners < 3; i++) {
        bool first = p->xy[2 * i] == p->xy[0] && p->xy[2 * i + 1] == p->xy[1];
        if (second < 0 && !first) {
            second = i;
            corners = 2;
        } else if (second >= 0 && !first &&
                   (p->xy[2 * i] != p->xy[2 * second] ||
                    p->xy[2 * i + 1] != p->xy[2 * second + 1])) {
            corners = 3;
        }
    }
    p->bad_ring = p->bad_ring || !closed || corners < 3;
    size_t m = (size_t)n;
    if (p->scale > 0) {
        /* The same rounding as GEOS's fixed precision model, so GEOS finds the
         * coordinates already precise. Vertices that fall together on the
         * grid are kept once. */
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            double x = floor(p->xy[2 * i] * p->scale + 0.5) / p->scale;
            double y = floor(p->xy[2 * i + 1] * p->scale + 0.5) / p->scale;
            if (k > 0 && x == p->xy[2 * k - 2] && y == p->xy[2 * k - 1])
                continue;
            p->xy[2 * k] = x;
            p->xy[2 * k + 1] = y;
            k++;
        }
        m = k;
    }
    if (p->xy[0] != p->xy[2 * (m - 1)] || p->xy[1] != p->xy[2 * (m - 1) + 1]) {
        p->xy[2 * m] = p->xy[0];
        p->xy[2 * m + 1] = p->xy[1];
        m++;
    }
    if (m < 4)
        return STAPEL_OK;
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx->geos, p->xy, (unsigned)m, 0, 0);
    if (seq == NULL)
        return stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
    *ring = GEOSGeom_createLinearRing_r(ctx->geos, seq);
    if (*ring == NULL)
        return stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
    return STAPEL_OK;
}

static stapel_status polygon_convert(stapel_ctx *ctx, polys *p, OGRGeometryH poly, bool *bad)
{
    int nr = OGR_G_GetGeometryCount(poly);
    if (nr <= 0)
        return STAPEL_OK;
    GEOSGeometry *shell = NULL;
    GEOSGeometry **holes = NULL;
    unsigned nh = 0;
    stapel_status st = ring_convert(ctx, p, OGR_G_GetGeometryRef(poly, 0), &shell, bad);
    if (st != STAPEL_OK || shell == NULL || *bad)
        goto done;
    if (nr > 1) {
        holes = malloc((size_t)(nr - 1) * sizeof *holes);
        if (holes == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (int i = 1; i < nr; i++) {
        GEOSGeometry *h = NULL;
        st = ring_convert(ctx, p, OGR_G_GetGeometryRef(poly, i), &h, bad);
        if (st != STAPEL_OK || *bad)
            goto done;
        if (h != NULL)
            holes[nh++] = h;
    }
    GEOSGeometry *pg = GEOSGeom_createPolygon_r(ctx->geos, shell, holes, nh);
    if (pg == NULL) {
        st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
        goto done;
    }
    shell = NULL;
    nh = 0;
    if (!polys_push(p, pg)) {
        GEOSGeom_destroy_r(ctx->geos, pg);
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
done:
    if (shell != NULL)
        GEOSGeom_destroy_r(ctx->geos, shell);
    for (unsigned i = 0; i < nh; i++)
        GEOSGeom_destroy_r(ctx->geos, holes[i]);
    free(holes);
    return st;
}

/* Curves are linearised arc by arc, each to within this many grid cells of
 * the true arc (1 cm on the 1 mm grid): GDAL's own default, a step of 4
 * degrees whatever the radius, leaves an arc of 10 km radius up to 6 m off
 * and a shallow one 2 % short in area. Never in coarser steps than GDAL's
 * 4 degrees (a circle has at least ARC_SIDES_MIN sides, 3.75 degrees,
 * however small), nor finer than ARC_SIDES_MAX (0.01 degrees), which keeps
 * 1 cm up to a radius of 2600 km and bounds the vertices of an arc through
 * a wild control point. The sides are a multiple of ARC_SIDES_UNIT, so
 * that the points of a circle at multiples of 45 degrees from east, where
 * arcs drawn in CAD most often end, are corners of every arc on it. */
#define ARC_DEVIATION_CELLS 10.0
#define ARC_SIDES_MIN 96
#define ARC_SIDES_MAX 36000
#define ARC_SIDES_UNIT 8
#define TWO_PI 6.283185307179586
/* An arc whose chord is shorter than ARC_FLAT times its radius is three
 * points on a line up to float noise (the middle point rounded onto the
 * line between the ends): its centre lies out near infinity and its ends at
 * angles from it that atan2 cannot tell apart or may give the wrong way
 * round, which would draw it as all of that huge circle, the long way. It
 * is drawn as the line through its points, as GDAL does; the true arc lies
 * within a billionth of the chord's length of that line. */
#define ARC_FLAT 1e-9

/* The number of sides of the polygon inscribed in a circle of radius r
 * whose chords stay within tol of the circle: the fewest n, a multiple of
 * ARC_SIDES_UNIT, with r (1 - cos(pi / n)) <= tol. ARC_SIDES_MIN without a
 * tolerance. */
static long arc_sides(double r, double tol)
{
    if (!(tol > 0) || !(r > tol))
        return ARC_SIDES_MIN;
    double n = ceil(TWO_PI / (2 * acos(1 - tol / r)) / ARC_SIDES_UNIT) * ARC_SIDES_UNIT;
    if (!(n < ARC_SIDES_MAX))
        return ARC_SIDES_MAX;
    return n > ARC_SIDES_MIN ? (long)n : ARC_SIDES_MIN;
}

/* Appends x, y to the line string lin, unless it is lin's last point. */
static void add_point(OGRGeometryH lin, double x, double y)
{
    int n = OGR_G_GetPointCount(lin);
    if (n > 0) {
        double lx = 0, ly = 0, lz = 0;
        OGR_G_GetPoint(lin, n - 1, &lx, &ly, &lz);
        if (lx == x && ly == y)
            return;
    }
    OGR_G_AddPoint_2D(lin, x, y);
}

/* Without a grid (info, and the check of a geometry as stored), whether the
 * ends of a curve meet is judged on stack's default grid of 1 mm. */
#define CLOSE_SCALE_DEFAULT 1000.0

/* Whether the ends (x0, y0) and (x1, y1) of a curve meet on the grid of
 * 1/scale: they round to one point of it (as ring_convert rounds), or lie
 * no more than a cell apart (float noise either side of a rounding edge,
 * 0.0004999 and 0.0005001, rounds to two points a cell apart). */
static bool ends_meet(double scale, double x0, double y0, double x1, double y1)
{
    return (floor(x0 * scale + 0.5) == floor(x1 * scale + 0.5) &&
            floor(y0 * scale + 0.5) == floor(y1 * scale + 0.5)) ||
           hypot(x1 - x0, y1 - y0) * scale <= 1;
}

/* Appends the arc from (x[0], y[0]) through (x[1], y[1]) to (x[2], y[2]) to
 * lin, within tol of its circle: its two ends, and between them the points
 * of the polygon of arc_sides(r, tol) sides inscribed in its circle with a
 * corner at angle 0 (east of the centre), in the order the arc runs. Every
 * arc of one circle has its vertices at the same angles, whatever its ends,
 * its middle point or its direction: a full circle and a half disc drawn on
 * it, or two quarter arcs beside a half arc, share their vertices and leave
 * no sliver between them (GDAL starts its steps at each arc's own start).
 * Equal ends make a full circle through the middle point, counterclockwise;
 * when it is a ring by itself (alone), its start is no corner either: it
 * joins nothing, and the ring is the inscribed polygon. Three points on a
 * line, up to float noise (ARC_FLAT), make the line through them. */
static void arc_points(OGRGeometryH lin, const double x[3], const double y[3], double tol,
                       bool alone)
{
    double cx, cy, r, turn;
    if (x[0] == x[2] && y[0] == y[2]) {
        cx = x[0] + (x[1] - x[0]) / 2;
        cy = y[0] + (y[1] - y[0]) / 2;
        r = hypot(x[1] - x[0], y[1] - y[0]) / 2;
        turn = 1;
    } else {
        /* The centre from the ends taken in one order whichever way the arc
         * runs, so that an arc and its reverse get the same vertices. */
        int a = 0, c = 2;
        if (x[2] < x[0] || (x[2] == x[0] && y[2] < y[0])) {
            a = 2;
            c = 0;
        }
        double bx = x[1] - x[a], by = y[1] - y[a], ex = x[c] - x[a], ey = y[c] - y[a];
        double d = 2 * (bx * ey - by * ex);
        double b2 = bx * bx + by * by, e2 = ex * ex + ey * ey;
        double ux = (ey * b2 - by * e2) / d, uy = (bx * e2 - ex * b2) / d;
        cx = x[a] + ux;
        cy = y[a] + uy;
        r = hypot(ux, uy);
        turn = (x[1] - x[0]) * (y[2] - y[1]) - (y[1] - y[0]) * (x[2] - x[1]);
        if (hypot(ex, ey) < ARC_FLAT * r)
            turn = 0;
    }
    bool round = turn != 0 && r > 0 && isfinite(cx) && isfinite(cy) && isfinite(r);
    if (round && alone && x[0] == x[2] && y[0] == y[2]) {
        long n = arc_sides(r, tol);
        for (long m = 0; m <= n; m++) {
            double t = TWO_PI * (double)(m % n) / (double)n;
            add_point(lin, cx + r * cos(t), cy + r * sin(t));
        }
        return;
    }
    add_point(lin, x[0], y[0]);
    if (round) {
        long n = arc_sides(r, tol);
        double step = TWO_PI / (double)n;
        double a0 = atan2(y[0] - cy, x[0] - cx), a2 = atan2(y[2] - cy, x[2] - cx);
        double k0, k1; /* the corners strictly between the ends, k0 to k1 */
        if (turn > 0) {
            if (a2 <= a0)
                a2 += TWO_PI;
            k0 = floor(a0 / step) + 1;
            k1 = ceil(a2 / step) - 1;
        } else {
            if (a2 >= a0)
                a2 -= TWO_PI;
            k0 = ceil(a0 / step) - 1;
            k1 = floor(a2 / step) + 1;
        }
        long dir = turn > 0 ? 1 : -1;
        for (long k = (long)k0; (k1 - (double)k) * (double)dir >= 0; k += dir) {
            long m = ((k % n) + n) % n; /* the same corner, however reached */
            double t = TWO_PI * (double)m / (double)n;
            add_point(lin, cx + r * cos(t), cy + r * sin(t));
        }
    } else {
        add_point(lin, x[1], y[1]);
    }
    add_point(lin, x[2], y[2]);
}

/* Appends the points of the curve c (a line string, a circular string or a
 * compound curve of both) to lin, each arc linearised to within tol
 * (arc_points); alone when c is a ring by itself. *arcs is set when c has
 * one. An arc whose ends are not equal but meet on the grid of 1/scale
 * (ends_meet) is a full circle through its start and middle point, written with
 * a whisker of float noise: the circle through its three points would turn
 * on the whisker's direction, and take any radius. It is drawn as the full
 * circle, and *mended set. */
static void curve_points(OGRGeometryH lin, OGRGeometryH c, double tol, double scale, bool alone,
                         bool *arcs, bool *mended)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(c));
    int n = OGR_G_GetPointCount(c);
    if (t == wkbCompoundCurve) {
        int parts = OGR_G_GetGeometryCount(c);
        for (int i = 0; i < parts; i++)
            curve_points(lin, OGR_G_GetGeometryRef(c, i), tol, scale, alone && parts == 1, arcs,
                         mended);
        return;
    }
    if (t != wkbCircularString || n < 3) {
        for (int i = 0; i < n; i++)
            add_point(lin, OGR_G_GetX(c, i), OGR_G_GetY(c, i));
        return;
    }
    *arcs = true;
    for (int i = 0; i + 2 < n; i += 2) {
        double x[3], y[3];
        for (int k = 0; k < 3; k++) {
            x[k] = OGR_G_GetX(c, i + k);
            y[k] = OGR_G_GetY(c, i + k);
        }
        if ((x[2] != x[0] || y[2] != y[0]) && ends_meet(scale, x[0], y[0], x[2], y[2])) {
            x[2] = x[0];
            y[2] = y[0];
            *mended = true;
        }
        arc_points(lin, x, y, tol, alone && n == 3);
    }
}

/* The polygon of the curve polygon g, its arcs linearised to within tol,
 * into p. A ring with an arc must close, or its ends meet on the grid
 * (ends_meet; OGR would not linearise it either): a whisker of float noise is
 * closed as a straight ring is, a repair of an invalid geometry (BADRING),
 * but an arc that misses by more cannot be told from one cut short. A
 * straight ring is closed as any ring is. Without a grid (info), the ends
 * are judged on the default grid, 1 mm. */
static stapel_status curve_polygon_convert(stapel_ctx *ctx, polys *p, OGRGeometryH g, double tol,
                                           bool *bad)
{
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    if (poly == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    double scale = p->scale > 0 ? p->scale : CLOSE_SCALE_DEFAULT;
    stapel_status st = STAPEL_OK;
    for (int i = 0; i < OGR_G_GetGeometryCount(g) && st == STAPEL_OK; i++) {
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
        bool arcs = false, mended = false;
        if (ring == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            break;
        }
        curve_points(ring, OGR_G_GetGeometryRef(g, i), tol, scale, true, &arcs, &mended);
        int n = OGR_G_GetPointCount(ring);
        double x0 = n > 0 ? OGR_G_GetX(ring, 0) : 0, y0 = n > 0 ? OGR_G_GetY(ring, 0) : 0;
        double x1 = n > 0 ? OGR_G_GetX(ring, n - 1) : 0, y1 = n > 0 ? OGR_G_GetY(ring, n - 1) : 0;
        if (arcs && n > 0 && (x0 != x1 || y0 != y1) && !ends_meet(scale, x0, y0, x1, y1)) {
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "cannot make polygons of its %s: its ring %d has an arc and is "
                              "not closed: its ends lie %.3g m apart, more than a cell of the "
                              "snap grid (%g m)",
                              OGRGeometryTypeToName(OGR_G_GetGeometryType(g)), i + 1,
                              hypot(x1 - x0, y1 - y0), 1 / scale);
        } else {
            /* Closed by ring_convert, which notes it as it does a straight
             * ring's; a full circle made of a whisker is noted here. */
            p->bad_ring = p->bad_ring || mended;
            /* The polygon owns the ring either way: GDAL deletes one it
             * could not add. */
            OGRGeometryH added = ring;
            ring = NULL;
            /* GDAL warns of a ring not yet closed, with advice that does not
             * apply to stapel's own ring; whether the source's ring closed,
             * GDAL said as it read the feature. */
            CPLPushErrorHandler(CPLQuietErrorHandler);
            OGRErr err = OGR_G_AddGeometryDirectly(poly, added);
            CPLPopErrorHandler();
            if (err != OGRERR_NONE)
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        }
        if (ring != NULL)
            OGR_G_DestroyGeometry(ring);
    }
    if (st == STAPEL_OK)
        st = polygon_convert(ctx, p, poly, bad);
    OGR_G_DestroyGeometry(poly);
    return st;
}

/* Collect the polygons of g; *areal tells whether g had any areal part. */
static stapel_status collect(stapel_ctx *ctx, polys *p, OGRGeometryH g, bool *areal, bool *bad)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    switch (t) {
    case wkbPolygon:
    case wkbTriangle:
        *areal = true;
        return polygon_convert(ctx, p, g, bad);
    case wkbMultiPolygon:
    case wkbGeometryCollection:
        for (int i = 0; i < OGR_G_GetGeometryCount(g) && !*bad; i++) {
            stapel_status st = collect(ctx, p, OGR_G_GetGeometryRef(g, i), areal, bad);
            if (st != STAPEL_OK)
                return st;
        }
        return STAPEL_OK;
    case wkbCurvePolygon:
        *areal = true;
        if (OGR_G_IsEmpty(g))
            return STAPEL_OK;
        return curve_polygon_convert(ctx, p, g, p->scale > 0 ? ARC_DEVIATION_CELLS / p->scale : 0,
                                     bad);
    case wkbMultiSurface:
        *areal = true;
        for (int i = 0; i < OGR_G_GetGeometryCount(g) && !*bad; i++) {
            stapel_status st = collect(ctx, p, OGR_G_GetGeometryRef(g, i), areal, bad);
            if (st != STAPEL_OK)
                return st;
        }
        return STAPEL_OK;
    case wkbPolyhedralSurface:
    case wkbTIN: {
        *areal = true;
        if (OGR_G_IsEmpty(g))
            return STAPEL_OK;
        OGRGeometryH copy = OGR_G_Clone(g);
        if (copy == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        /* Consumes copy. A result that is NULL or empty must not pass
         * for an empty feature (found by fuzz_ingest, when curves still
         * came this way). */
        CPLErrorReset();
        OGRGeometryH lin = OGR_G_ForceToMultiPolygon(copy);
        if (lin == NULL || OGR_G_IsEmpty(lin)) {
            if (lin != NULL)
                OGR_G_DestroyGeometry(lin);
            return stapel__fail(ctx, STAPEL_EDATA, "cannot make polygons of its %s: %s",
                                OGRGeometryTypeToName(OGR_G_GetGeometryType(g)),
                                stapel__gdal_error("a ring that is not closed?"));
        }
        stapel_status st = STAPEL_OK;
        if (wkbFlatten(OGR_G_GetGeometryType(lin)) == wkbMultiPolygon)
            st = collect(ctx, p, lin, areal, bad);
        OGR_G_DestroyGeometry(lin);
        return st;
    }
    case wkbGeometryCollectionZM:
    default:
        if (OGR_GT_IsSubClassOf(t, wkbGeometryCollection)) {
            for (int i = 0; i < OGR_G_GetGeometryCount(g) && !*bad; i++) {
                stapel_status st = collect(ctx, p, OGR_G_GetGeometryRef(g, i), areal, bad);
                if (st != STAPEL_OK)
                    return st;
            }
        } else if (!OGR_G_IsEmpty(g)) {
            p->dropped = true; /* a point or a line */
        }
        return STAPEL_OK;
    }
}

stapel_status stapel__ogr_to_geos(stapel_ctx *ctx, GEOSGeometry **out, stapel__conv *kind,
                                  OGRGeometryH g, double grid, unsigned *notes)
{
    *out = NULL;
    if (notes != NULL)
        *notes = 0;
    *kind = STAPEL_CONV_EMPTY;
    if (g == NULL || OGR_G_IsEmpty(g))
        return STAPEL_OK;
    polys p = {0};
    p.scale = grid > 0 ? 1.0 / grid : 0.0;
    bool areal = false, bad = false;
    stapel_status st = collect(ctx, &p, g, &areal, &bad);
    if (st != STAPEL_OK || bad) {
        if (bad)
            *kind = STAPEL_CONV_BADCOORD;
        goto fail;
    }
    if (!areal) {
        *kind = STAPEL_CONV_NOTAREAL;
        goto fail;
    }
    if (p.n == 0)
        goto fail; /* areal but every ring degenerate: empty */
    if (p.n == 1)
        *out = p.items[0];
    else
        *out = GEOSGeom_createCollection_r(ctx->geos, GEOS_MULTIPOLYGON, p.items, (unsigned)p.n);
    if (*out == NULL) {
        st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
        goto fail;
    }
    *kind = STAPEL_CONV_OK;
    if (notes != NULL)
        *notes = (p.duplicates ? STAPEL_CONV_REPEATED : 0u) |
                 (p.dropped ? STAPEL_CONV_DROPPED : 0u) | (p.bad_ring ? STAPEL_CONV_BADRING : 0u);
    free(p.items);
    free(p.xy);
    return STAPEL_OK;
fail:
    for (size_t i = 0; i < p.n; i++)
        GEOSGeom_destroy_r(ctx->geos, p.items[i]);
    free(p.items);
    free(p.xy);
    return st;
}
