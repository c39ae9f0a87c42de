/*
 * read.c - reading claim and zone layers into the items of a stack build.
 *
 * Every source is opened through GDAL, reprojected once to the working CRS
 * (traditional GIS axis order on both sides, so lon/lat GeoJSON reads right),
 * converted to GEOS on the snap grid, and repaired. Problems are reported
 * with the source, the layer and the feature id. Per layer, the counts of
 * features read, repaired and skipped are kept for the report.
 */
#include "pipeline.h"
#include "source.h"
#include "json_check.h"
#include "arrange.h"
#include "rules.h"

#include <cpl_string.h>
#include <ctype.h>
#include <geodesic.h>
#include <math.h>
#include <proj.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <utf8proc.h>

/* The area of use is taken to the CRS's coordinates at a grid of this many
 * points a side: five, so that a polar area (all longitudes) meets the
 * meridians at right angles to the central one, where its box is widest. */
#define USE_SIDE 5

/* Coordinates beyond these bounds cannot be meant for the working CRS. */
typedef struct sane_box {
    double xmin, ymin, xmax, ymax;
    bool has_use;                         /* the CRS states its area of use: */
    double use_x0, use_y0, use_x1, use_y1; /* that area, in its coordinates, */
    double lon0, lat0, lon1, lat1;         /* in degrees */
    char area[96];                         /* and its short name ('Netherlands') */
    /* Points of the area in its coordinates (a grid of USE_SIDE by USE_SIDE
     * over it in degrees; those that transform): see lies_outside. */
    double use_px[USE_SIDE * USE_SIDE], use_py[USE_SIDE * USE_SIDE];
    int n_use_pts;
    /* Before the box is cut to the grid's range: the largest distance from
     * the origin it reaches, and the longer side of the area of use (for a
     * CRS without one, both EARTH_REACH). check_grid needs them. */
    double reach, span;
} sane_box;

/* The overlay works in integers of grid units (arrange.c) and needs room for
 * exact products of coordinate differences: 2^40 grid units either side of
 * the origin (1.1e9 m on a 1 mm grid) keeps every product within 128 bits. */
#define GRID_RANGE 1099511627776.0

/* How far from its origin a projected CRS in metres that states no area of
 * use can be asked to reach: the Earth's circumference, which covers any
 * point on Earth with room for false eastings and northings. */
#define EARTH_REACH 4.0e7

/* Tile borders lie on multiples of this many grid cells (tile.c). */
#define TILE_UNIT_CELLS 1000.0

/* The area of use of the target CRS in its own coordinates, grown by ten
 * times its size on every side: generous enough for any real data set, tight
 * enough to catch a wrong source CRS or garbage coordinates. Without an area
 * of use, everything the integer grid can hold is accepted. */
static sane_box sane_bounds(OGRSpatialReferenceH target, double grid)
{
    double lim = grid * GRID_RANGE;
    sane_box b = {.xmin = -lim,
                  .ymin = -lim,
                  .xmax = lim,
                  .ymax = lim,
                  .reach = EARTH_REACH,
                  .span = EARTH_REACH};
    double w, so, e, n;
    const char *name = NULL;
    if (!OSRGetAreaOfUse(target, &w, &so, &e, &n, &name))
        return b;
    OGRSpatialReferenceH ll = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(ll, 4326);
    OSRSetAxisMappingStrategy(ll, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(ll, target);
    if (ct != NULL) {
        enum { N = USE_SIDE * USE_SIDE };
        double xs[N], ys[N];
        int ok[N];
        for (int i = 0; i < N; i++) {
            xs[i] = w + (e - w) * (i % USE_SIDE) / (USE_SIDE - 1.0);
            ys[i] = so + (n - so) * (i / USE_SIDE) / (USE_SIDE - 1.0);
        }
        if (OCTTransformEx(ct, N, xs, ys, NULL, ok)) {
            double x0 = HUGE_VAL, y0 = HUGE_VAL, x1 = -HUGE_VAL, y1 = -HUGE_VAL;
            for (int i = 0; i < N; i++) {
                if (!ok[i])
                    continue;
                x0 = fmin(x0, xs[i]);
                y0 = fmin(y0, ys[i]);
                x1 = fmax(x1, xs[i]);
                y1 = fmax(y1, ys[i]);
            }
            double grow = 10.0 * fmax(x1 - x0, y1 - y0);
            if (x0 <= x1 && grow > 0) {
                double reach = fmax(fmax(fabs(x0 - grow), fabs(x1 + grow)),
                                    fmax(fabs(y0 - grow), fabs(y1 + grow)));
                b = (sane_box){.xmin = fmax(x0 - grow, -lim),
                               .ymin = fmax(y0 - grow, -lim),
                               .xmax = fmin(x1 + grow, lim),
                               .ymax = fmin(y1 + grow, lim),
                               .has_use = true,
                               .use_x0 = x0,
                               .use_y0 = y0,
                               .use_x1 = x1,
                               .use_y1 = y1,
                               .lon0 = w,
                               .lat0 = so,
                               .lon1 = e,
                               .lat1 = n,
                               .reach = reach,
                               .span = fmax(x1 - x0, y1 - y0)};
                for (int i = 0; i < N; i++) {
                    if (ok[i]) {
                        b.use_px[b.n_use_pts] = xs[i];
                        b.use_py[b.n_use_pts++] = ys[i];
                    }
                }
                /* "Netherlands - onshore, including ...": "Netherlands" */
                if (name != NULL) {
                    size_t len = strcspn(name, ",.;:");
                    const char *dash = strstr(name, " - ");
                    if (dash != NULL && (size_t)(dash - name) < len)
                        len = (size_t)(dash - name);
                    snprintf(b.area, sizeof b.area, "%.*s", (int)len, name);
                }
            }
        }
        OCTDestroyCoordinateTransformation(ct);
    }
    OSRDestroySpatialReference(ll);
    return b;
}

typedef struct read_spec {
    const char *source;
    const char *where; /* attribute filter, or NULL */
    const char *field; /* zones: the name field; claims: NULL */
    uint32_t group;    /* claims: layer index */
    stapel__layer *rec; /* claims: counters to fill; zones: NULL */
    bool theme_shared; /* claims: another layer has the same theme */
    /* The features read of all layers whose count is known (shared by the
     * threads that read them), and that count, for one progress of the
     * whole read. */
    atomic_uint_least64_t *done;
    uint64_t all;
    const char *kind; /* zones: "province" or "NOVEX area", for messages */
    int zone_kind;    /* zones: STAPEL_ZONE_* */
    int threads;      /* claims: the threads that work on its features (0: a core each) */
} read_spec;

/* Room for one more item in in->items; false when out of memory. */
static bool items_room(stapel__input *in)
{
    if (in->n_items < in->cap_items)
        return true;
    size_t cap = in->cap_items == 0 ? 1024 : in->cap_items * 2;
    stapel__item *d = realloc(in->items, cap * sizeof *d);
    if (d == NULL)
        return false;
    in->items = d;
    in->cap_items = cap;
    return true;
}

/* A claim as its grid rings, made already (feat_pre_work): it owns them
 * once pushed. */
static stapel_status push_rings(stapel_ctx *ctx, stapel__input *in, stapel__item item,
                                uint32_t group, int64_t fid)
{
    if (!items_room(in))
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    item.geom = NULL;
    item.group = group;
    item.fid = fid;
    in->items[in->n_items++] = item;
    return STAPEL_OK;
}

static stapel_status push_item(stapel_ctx *ctx, stapel__input *in, GEOSGeometry *g,
                               uint32_t group, int64_t fid)
{
    if (!items_room(in))
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel__item *it = &in->items[in->n_items++];
    it->geom = g;
    it->group = group;
    it->fid = fid;
    it->pts = NULL;
    it->ring_end = NULL;
    it->n_rings = 0;
    stapel__geom_warm(ctx, g);
    if (!stapel__item_rings(ctx, it, in->grid)) {
        in->n_items--;
        free(it->pts);
        free(it->ring_end);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    GEOSGeom_getXMin_r(ctx->geos, g, &it->xmin);
    GEOSGeom_getYMin_r(ctx->geos, g, &it->ymin);
    GEOSGeom_getXMax_r(ctx->geos, g, &it->xmax);
    GEOSGeom_getYMax_r(ctx->geos, g, &it->ymax);
    return STAPEL_OK;
}

/* The index of a zone name, the next free one for a name not seen before:
 * zones are numbered in the order their names first appear. A hash lookup,
 * as a zone layer may hold many thousands of names. */
static stapel_status zone_name_lookup(stapel_ctx *ctx, stapel__input *in, const char *name,
                                      uint32_t *out)
{
    bool added;
    uint32_t i = stapel__strmap_get(&in->zone_index, name, (uint32_t)in->n_zone_names, &added);
    if (i == UINT32_MAX)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    if (!added) {
        *out = i;
        return STAPEL_OK;
    }
    /* A failure from here on leaves the map one name ahead of zone_names;
     * the read fails and the input is cleared, so nothing uses it. */
    if (in->n_zone_names == in->cap_zone_names) {
        size_t cap = in->cap_zone_names == 0 ? 32 : in->cap_zone_names * 2;
        char **d = realloc(in->zone_names, cap * sizeof *d);
        if (d == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        in->zone_names = d;
        in->cap_zone_names = cap;
    }
    char *copy = stapel__strdup(name);
    if (copy == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    in->zone_names[in->n_zone_names] = copy;
    *out = (uint32_t)in->n_zone_names++;
    return STAPEL_OK;
}

/* As zone_name_lookup, for the name in Unicode's composed form (NFC): a
 * province delivered in parts, one with 'â' as one character and one with
 * 'a' and a combining circumflex (a file made on a Mac), is one zone. */
static stapel_status zone_name_index(stapel_ctx *ctx, stapel__input *in, const char *name,
                                     uint32_t *out)
{
    bool ascii = true;
    for (const char *c = name; *c != '\0' && ascii; c++)
        ascii = (unsigned char)*c < 0x80;
    utf8proc_uint8_t *nfc = ascii ? NULL : utf8proc_NFC((const utf8proc_uint8_t *)name);
    stapel_status st = zone_name_lookup(ctx, in, nfc != NULL ? (const char *)nfc : name, out);
    free(nfc);
    return st;
}

/* A zone feature's name as the stack names the zone: a real number to 15
 * significant digits, a name that is not UTF-8 recoded from Windows-1252,
 * ';' written as ','. The caller tells the user of what changed. */
typedef struct zone_name {
    const char *read; /* as read (and recoded), before ';' is replaced */
    const char *name; /* the zone's name; "" for none */
    bool not_utf8;    /* recoded from Windows-1252 (recoded NULL: not even that) */
    bool misread;     /* UTF-8 read as a single-byte code page: 'FryslÃ¢n' */
    bool c1;          /* its controls U+0080 to U+009F read as Windows-1252 */
    char as_utf8[256]; /* misread: the name those bytes are in UTF-8 */
    char real[32];
    char *recoded; /* CPLFree */
    char *fixed;   /* free */
    char *c1_fixed; /* free */
} zone_name;

/* *out: name quoted as --zone takes it (stapel_zone_quote_text) when want,
 * else NULL. Caller frees *out with free(). False when out of memory. */
static bool quote_if(bool want, const char *name, char **out)
{
    *out = want ? stapel_zone_quote_text(name) : NULL;
    return !want || *out != NULL;
}

static bool zone_name_read(OGRFeatureH f, int name_idx, bool name_real, zone_name *zn)
{
    const char *name =
        OGR_F_IsFieldSetAndNotNull(f, name_idx) ? OGR_F_GetFieldAsString(f, name_idx) : "";
    zn->not_utf8 = zn->c1 = false;
    zn->recoded = zn->fixed = zn->c1_fixed = NULL;
    /* GDAL formats a real to its field's width and precision: a
     * shapefile's 20.5 reads '20.500000000000000'. */
    if (name_real && name[0] != '\0') {
        CPLsnprintf(zn->real, sizeof zn->real, "%.15g", OGR_F_GetFieldAsDouble(f, name_idx));
        name = zn->real;
    }
    /* Text in a GeoPackage is UTF-8. A name that is not came from a file
     * whose encoding GDAL did not know (a .dbf without .cpg): Dutch data of
     * that age is Windows-1252. */
    if (!CPLIsUTF8(name, -1)) {
        zn->not_utf8 = true;
        if ((zn->recoded = stapel__recode_cp1252(name)) != NULL)
            name = zn->recoded;
    }
    /* A .dbf whose .cpg (or header) names a code page, while its text is
     * UTF-8 (a .cpg copied from elsewhere): GDAL recodes each byte of a
     * letter, and the name is garbled without a sign. It is kept as read
     * (the source states its encoding); the caller warns. */
    zn->misread = !zn->not_utf8 && stapel__utf8_misread(name, zn->as_utf8, sizeof zn->as_utf8);
    /* Windows-1252 text in a .dbf whose code page says ISO-8859-1 (as GDAL
     * writes it, and ArcGIS for 'ANSI'): GDAL turns its '’' (0x92), '€'
     * and '–' into control characters, which no name means. They are read
     * as Windows-1252, as the bytes of a .dbf without code page are. */
    if (!zn->not_utf8 && !zn->misread) {
        bool oom = false;
        zn->c1_fixed = stapel__c1_as_cp1252(name, &oom);
        if (oom)
            return false;
        if (zn->c1_fixed != NULL) {
            zn->c1 = true;
            name = zn->c1_fixed;
        }
    }
    zn->read = zn->name = name;
    /* ';' joins the names of overlapping zones in the stack layer: inside
     * a name it would read as two zones. */
    if (strchr(name, ';') != NULL) {
        if ((zn->fixed = stapel__strdup(name)) == NULL)
            return false;
        for (char *c = zn->fixed; *c != '\0'; c++)
            if (*c == ';')
                *c = ',';
        zn->name = zn->fixed;
    }
    return true;
}

static void zone_name_free(zone_name *zn)
{
    CPLFree(zn->recoded);
    free(zn->fixed);
    free(zn->c1_fixed);
}

/* A zone feature that gives its zone no area, and why. */
typedef enum { BARE_NULL, BARE_EMPTY, BARE_GRID, BARE_REPAIR } bare_why;

typedef struct bare_feature {
    uint32_t group; /* its zone name */
    bare_why why;
    int64_t fid;
} bare_feature;

typedef struct bare_list {
    bare_feature *v;
    size_t n, cap;
    int64_t n_placeholder, first_placeholder; /* of them, named "(unnamed)" */
} bare_list;

/* Notes a zone feature that is skipped for having no area, under the name
 * its zone would have, so that a zone none of whose features has area can
 * be named (warn_bare_zones) rather than vanish from the output. */
static stapel_status bare_note(stapel_ctx *ctx, stapel__input *in, bare_list *b, OGRFeatureH f,
                               int name_idx, bool name_real, int64_t fid, bare_why why)
{
    zone_name zn;
    if (!zone_name_read(f, name_idx, name_real, &zn)) {
        zone_name_free(&zn);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    uint32_t group = 0;
    stapel_status st = zone_name_index(ctx, in, zn.name[0] != '\0' ? zn.name : "(unnamed)", &group);
    if (strcmp(zn.name, "(unnamed)") == 0 && b->n_placeholder++ == 0)
        b->first_placeholder = fid;
    zone_name_free(&zn);
    if (st != STAPEL_OK)
        return st;
    if (b->n == b->cap) {
        size_t cap = b->cap == 0 ? 16 : b->cap * 2;
        bare_feature *d = realloc(b->v, cap * sizeof *d);
        if (d == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        b->v = d;
        b->cap = cap;
    }
    b->v[b->n++] = (bare_feature){group, why, fid};
    return STAPEL_OK;
}

/* The zones of the layer just read (items first .. n_items) that have no
 * area at all: each of their features was null, empty, or collapsed on the
 * grid. The "skipped N empty geometries" of the layer does not say which
 * zone that is: a province team would not see theirs missing. They are
 * named, and kept in in->bare_zones[zone_kind] for a row in the summary. A
 * zone of which only some features are empty keeps the area of the rest
 * and is not named. */
static stapel_status warn_bare_zones(stapel_ctx *ctx, stapel__input *in, size_t first,
                                     const bare_list *b, const char *src, const char *layer,
                                     const char *kind, int zone_kind)
{
    enum { SHOWN_MAX = 10 };
    static const char *const why_text[] = {
        [BARE_NULL] = "has no geometry",
        [BARE_EMPTY] = "has an empty geometry",
        [BARE_GRID] = "has no area on the snap grid",
        [BARE_REPAIR] = "has no area left after its repair",
    };
    if (b->n == 0)
        return STAPEL_OK;
    /* By name: -1 when the zone has area, else its features without. */
    int64_t *count = calloc(in->n_zone_names + 1, sizeof *count);
    uint32_t *names = malloc(b->n * sizeof *names);
    if (count == NULL || names == NULL) {
        free(count);
        free(names);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    for (size_t i = first; i < in->n_items; i++)
        count[in->items[i].group] = -1;
    for (size_t i = 0; i < b->n; i++)
        if (count[b->v[i].group] >= 0)
            count[b->v[i].group]++;
    size_t n_bare = 0;
    for (size_t i = 0; i < b->n; i++) {
        const bare_feature *bf = &b->v[i];
        int64_t n = count[bf->group];
        if (n <= 0) /* has area, or told already */
            continue;
        count[bf->group] = 0;
        names[n_bare] = bf->group;
        if (n_bare++ >= SHOWN_MAX)
            continue;
        char others[96] = "";
        if (n > 1)
            snprintf(others, sizeof others, "; nor %s its %lld other feature%s",
                     n == 2 ? "has" : "have", (long long)(n - 1), n == 2 ? "" : "s");
        char *zone = stapel_zone_quote_text(in->zone_names[bf->group]);
        if (zone == NULL) {
            free(count);
            free(names);
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        }
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: %s %s has no area: feature %lld %s%s; the %s gets no "
                    "faces and is listed with area 0 in zone_summary",
                    src, layer, kind, zone, (long long)bf->fid, why_text[bf->why], others, kind);
        free(zone);
    }
    if (n_bare > SHOWN_MAX)
        stapel__log(ctx, STAPEL_LOG_WARN, "%s: layer %s: %zu more %ss have no area", src, layer,
                    n_bare - SHOWN_MAX, kind);
    free(count);
    free(in->bare_zones[zone_kind]);
    in->bare_zones[zone_kind] = names;
    in->n_bare_zones[zone_kind] = n_bare;
    return STAPEL_OK;
}

/* False when any coordinate of g is NaN or infinite. Only called on the error
 * paths below: convert.c checks every coordinate of the normal path anyway. */
static bool all_finite(OGRGeometryH g)
{
    int n = OGR_G_GetGeometryCount(g);
    if (n > 0) {
        for (int i = 0; i < n; i++)
            if (!all_finite(OGR_G_GetGeometryRef(g, i)))
                return false;
        return true;
    }
    int np = OGR_G_GetPointCount(g);
    for (int i = 0; i < np; i++) {
        double x = 0, y = 0, z = 0;
        OGR_G_GetPoint(g, i, &x, &y, &z);
        if (!isfinite(x) || !isfinite(y))
            return false;
    }
    return true;
}

static bool is_linear_or_point(OGRwkbGeometryType t)
{
    t = wkbFlatten(t);
    return t == wkbPoint || t == wkbMultiPoint || t == wkbLineString || t == wkbMultiLineString ||
           t == wkbCircularString || t == wkbCompoundCurve || t == wkbMultiCurve;
}

/* Whether g is lines, every one of which closes a ring: an area drawn as a
 * line, as CAD programs draw them (a closed polyline in a DXF file). */
static bool closed_lines(OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t != wkbLineString && t != wkbMultiLineString && t != wkbCircularString &&
        t != wkbCompoundCurve && t != wkbMultiCurve)
        return false;
    OGRGeometryH lin = OGR_G_GetLinearGeometry(g, 0, NULL);
    if (lin == NULL)
        return false;
    bool multi = wkbFlatten(OGR_G_GetGeometryType(lin)) == wkbMultiLineString;
    int n = multi ? OGR_G_GetGeometryCount(lin) : 1;
    bool closed = n > 0;
    for (int i = 0; i < n && closed; i++) {
        OGRGeometryH l = multi ? OGR_G_GetGeometryRef(lin, i) : lin;
        int np = OGR_G_GetPointCount(l);
        closed = np >= 4 && OGR_G_GetX(l, 0) == OGR_G_GetX(l, np - 1) &&
                 OGR_G_GetY(l, 0) == OGR_G_GetY(l, np - 1);
    }
    OGR_G_DestroyGeometry(lin);
    return closed;
}

/* The warnings about one layer, on the calling thread's log. */
static void report_layer(stapel_ctx *ctx, const stapel__layer *r)
{
    const char *src = r->source, *layer = r->layer_name;
    if (r->n_read == 0 && r->where != NULL && r->where_why[0] != '\0')
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: no feature matches --where '%s=%s'; the layer adds nothing: %s",
                    src, layer, r->theme, r->where, r->where_why);
    else if (r->n_read == 0 && r->where != NULL)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: no feature matches --where '%s=%s'; the layer adds nothing",
                    src, layer, r->theme, r->where);
    else if (r->n_read == 0)
        stapel__log(ctx, STAPEL_LOG_WARN, "%s: layer %s is empty (0 features)", src, layer);
    if (r->n_repaired > 0 && r->n_repeated == 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "repaired %lld invalid geometr%s in layer %s (%s; the first: feature %lld)",
                    (long long)r->n_repaired, r->n_repaired == 1 ? "y" : "ies", layer, src,
                    (long long)r->first_repaired);
    else if (r->n_repaired > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "repaired %lld geometr%s in layer %s (%s; the first: feature %lld): %lld "
                    "invalid, %lld with repeated vertices only",
                    (long long)r->n_repaired, r->n_repaired == 1 ? "y" : "ies", layer, src,
                    (long long)r->first_repaired, (long long)(r->n_repaired - r->n_repeated),
                    (long long)r->n_repeated);
    /* The empty ones; those with no area left are told of below. */
    int64_t n_empty = r->n_empty - r->n_lost - r->n_degenerate - r->n_thin;
    if (n_empty > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "skipped %lld empty geometr%s in layer %s (%s; the first: feature %lld)",
                    (long long)n_empty, n_empty == 1 ? "y" : "ies", layer, src,
                    (long long)r->first_empty);
    if (r->n_degenerate > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: skipped %lld polygon%s without area: every outer ring has "
                    "fewer than three distinct corners on the snap grid (the first: feature "
                    "%lld)",
                    src, layer, (long long)r->n_degenerate, r->n_degenerate == 1 ? "" : "s",
                    (long long)r->first_degenerate);
    if (r->n_thin > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: skipped %lld polygon%s thinner than a cell of the snap "
                    "grid: valid as stored, %s no area on the grid (the first: feature %lld)",
                    src, layer, (long long)r->n_thin, r->n_thin == 1 ? "" : "s",
                    r->n_thin == 1 ? "it has" : "they have", (long long)r->first_thin);
    if (r->n_dropped > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: %lld feature%s held points or lines beside polygons; only "
                    "the polygons count (the first: feature %lld)",
                    src, layer, (long long)r->n_dropped, r->n_dropped == 1 ? "" : "s",
                    (long long)r->first_dropped);
    stapel__warn_z_open(ctx, src, layer, r->n_z_open, r->first_z_open);
    if (r->lonlat_features[0] != '\0')
        stapel__log(ctx, STAPEL_LOG_WARN, "%s: layer %s: %s", src, layer, r->lonlat_features);
    if (r->outside_use)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s lies wholly outside the area the working CRS is meant for; %s",
                    src, layer,
                    r->outside_why[0] != '\0' ? r->outside_why
                                              : "is the CRS it states (or --s_srs) right for its "
                                                "coordinates?");
    if (r->n_lost > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: %lld invalid geometr%s had no area left after repair (the "
                    "first: feature %lld); check %s in the source: a hole as large as its "
                    "shell, or a shapefile whose rings run the wrong way round (then "
                    "OGR_ORGANIZE_POLYGONS=DEFAULT reads its rings by containment)",
                    src, layer, (long long)r->n_lost, r->n_lost == 1 ? "y" : "ies",
                    (long long)r->first_lost, r->n_lost == 1 ? "it" : "them");
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Claim ids are 'theme:fid': two features of one layer with the same id (a
 * GeoJSON can give them) could not be told apart in the stack. */
static stapel_status unique_fids(stapel_ctx *ctx, const stapel__input *in, size_t first,
                                 const char *src, const char *layer, GDALDatasetH ds, OGRLayerH l,
                                 const char *where)
{
    bool postgis = stapel__driver_is(ds, "PostgreSQL");
    size_t n = in->n_items - first;
    if (n < 2)
        return STAPEL_OK;
    int64_t *fid = malloc(n * sizeof *fid);
    if (fid == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        fid[i] = in->items[first + i].fid;
    qsort(fid, n, sizeof *fid, cmp_i64);
    stapel_status st = STAPEL_OK;
    /* A PostGIS table or view takes its ids from a column: its key, one
     * named ogc_fid, or the one PGSQL_OGR_FID names. */
    for (size_t i = 1; i < n && st == STAPEL_OK; i++) {
        if (fid[i] != fid[i - 1])
            continue;
        /* GDAL reads the ids of a column of text (PGSQL_OGR_FID=code) as
         * numbers: each value that does not start with digits as 0. */
        const char *col = postgis ? OGR_L_GetFIDColumn(l) : NULL;
        char type[128];
        bool number = true;
        /* A NULL in it is read as 0: the run fails, so a look costs little. */
        int nulls = col != NULL && fid[i] == 0 ? stapel__pg_null_ids(ds, l, where) : -1;
        if (nulls > 0)
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: more than one feature has id 0, so their claims "
                              "could not be told apart: the column GDAL takes the ids from, %s, "
                              "is NULL in %d row%s, which GDAL reads as id 0; give every row an "
                              "id of its own in it (a view's ogc_fid, or the column "
                              "PGSQL_OGR_FID names)",
                              src, layer, col, nulls, nulls == 1 ? "" : "s");
        else if (col != NULL && stapel__pg_column_type(ds, l, col, type, sizeof type, &number) &&
                 !number)
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: more than one feature has id %lld, so their claims "
                              "could not be told apart: the column GDAL takes the ids from, %s, "
                              "is of type %s, whose values GDAL reads as integers (one that does "
                              "not start with digits as 0); name a unique integer column with "
                              "PGSQL_OGR_FID=column",
                              src, layer, (long long)fid[i], col, type);
        else
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: more than one feature has id %lld, so their claims "
                              "could not be told apart; %s",
                              src, layer, (long long)fid[i],
                              postgis ? "the column GDAL takes the ids from (a view's ogc_fid, or "
                                         "the one PGSQL_OGR_FID names) is not unique: give the "
                                         "view a unique column named ogc_fid, "
                                         "or name one with PGSQL_OGR_FID=column"
                                       : "give the features unique ids (a GeoJSON's \"id\" "
                                         "members), e.g. with ogr2ogr -unsetFid fixed.gpkg SOURCE");
    }
    free(fid);
    return st;
}

/* A source opened and checked before any layer is read, so that a typo in
 * the last source fails at once rather than after minutes of reading the
 * others. The dataset is read later, maybe on another thread (GDAL allows
 * that, one thread at a time); its CRS travels as WKT, so that every thread
 * builds its own OGR objects from it. */
typedef struct opened {
    GDALDatasetH ds;
    OGRLayerH l;
    char *layer;   /* its name */
    int name_idx;  /* zones: the name field's index */
    /* A claim layer's PostGIS key of text, which GDAL takes no ids from: its
     * field's index (or -1), and its name as a filter gives it. */
    int key_idx;
    char key_name[128];
    char *srs_wkt; /* the layer's CRS, or NULL: none (then --s_srs is given) */
    int64_t total; /* features, or -1: unknown */
    bool has_ext;  /* ext holds the layer's extent, as its driver knows it cheaply */
    OGREnvelope ext;
    stapel__gdal_seen seen; /* GDAL's warnings about it: kept when it is closed */
    bool again;             /* opened again to be read: checked and counted (total) already */
} opened;

/* PostgreSQL column col as a filter names it: as it is when PostgreSQL
 * would not fold it to lower case, else in double quotes; "" when there is
 * none, or it does not fit size or holds a double quote. */
static void pg_ident(const char *col, char *name, size_t size)
{
    if (col == NULL || col[0] == '\0' || strlen(col) + 3 > size || strchr(col, '"') != NULL)
        name[0] = '\0';
    else if (strspn(col, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(col) &&
             !(col[0] >= '0' && col[0] <= '9'))
        snprintf(name, size, "%s", col);
    else
        snprintf(name, size, "\"%s\"", col);
}

/* SQLite column col as a filter names it: as it is when it is a plain name
 * (SQLite does not mind its case), else in double quotes; "" when it does
 * not fit size or holds a double quote. */
static void sqlite_ident(const char *col, char *name, size_t size)
{
    size_t plain = strspn(col, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (strlen(col) + 3 > size || strchr(col, '"') != NULL)
        name[0] = '\0';
    else if (col[0] != '\0' && plain == strlen(col) && !(col[0] >= '0' && col[0] <= '9'))
        snprintf(name, size, "%s", col);
    else
        snprintf(name, size, "\"%s\"", col);
}

/* The name a filter on ds's layer l gives its feature ids: OGR's FID,
 * except in a database that is handed the filter as SQL and knows only the
 * column GDAL took the ids from: PostgreSQL's primary key ("" when there is
 * none), and a GeoPackage's or SQLite table's key column, whatever its name
 * (a GeoPackage made from a File Geodatabase keeps OBJECTID; GDAL's SQLite
 * tables have ogc_fid), or SQLite's rowid. */
static void fid_name(GDALDatasetH ds, OGRLayerH l, char *name, size_t size)
{
    const char *col = OGR_L_GetFIDColumn(l);
    if (stapel__driver_is(ds, "PostgreSQL"))
        pg_ident(col, name, size);
    /* 'FID' names a column fid too: SQLite ignores case */
    else if ((stapel__driver_is(ds, "GPKG") || stapel__driver_is(ds, "SQLite")) &&
             (col == NULL || !EQUAL(col, "FID")))
        sqlite_ident(col != NULL && col[0] != '\0' ? col : "rowid", name, size);
    else
        snprintf(name, size, "FID");
}

/* Whether l is a PostgreSQL table or view without a key column: then GDAL
 * numbers its rows as they come. */
static bool without_key(GDALDatasetH ds, OGRLayerH l)
{
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    const char *col = OGR_L_GetFIDColumn(l);
    return drv != NULL && EQUAL(GDALGetDriverShortName(drv), "PostgreSQL") &&
           (col == NULL || col[0] == '\0');
}

/* The SQL a driver reads a filter in: OGR's own (files), which knows no
 * comments ('--' is minus minus there), or that of the database it hands
 * the filter to as it stands, SQLite (a GeoPackage, an SQLite table) or
 * PostgreSQL. */
typedef enum { SQL_OGR, SQL_SQLITE, SQL_PG } sql_dialect;

static sql_dialect filter_dialect(GDALDatasetH ds)
{
    if (stapel__driver_is(ds, "PostgreSQL"))
        return SQL_PG;
    if (stapel__driver_is(ds, "GPKG") || stapel__driver_is(ds, "SQLite"))
        return SQL_SQLITE;
    return SQL_OGR;
}

static bool sql_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || (unsigned char)c >= 0x80;
}

/* Just past the quoted text that opens at q and closes with close, or NULL
 * when it is not closed: a doubled close goes on ('it''s', "a""b"), except
 * in SQLite's [name]; in PostgreSQL's E'...' a backslash escapes. */
static const char *sql_quote_end(const char *q, char close, bool backslash)
{
    for (const char *c = q + 1; *c != '\0'; c++) {
        if (backslash && *c == '\\' && c[1] != '\0')
            c++;
        else if (*c == close && (c[1] != close || close == ']'))
            return c + 1;
        else if (*c == close)
            c++;
    }
    return NULL;
}

/* Just past the block comment that opens at c, or NULL when it is not
 * closed. PostgreSQL's nest; SQLite's end at the first close. */
static const char *sql_comment_end(const char *c, bool nests)
{
    int depth = 0;
    for (; *c != '\0'; c++) {
        if (c[0] == '/' && c[1] == '*' && (nests || depth == 0)) {
            depth++;
            c++;
        } else if (c[0] == '*' && c[1] == '/') {
            c++;
            if (--depth == 0)
                return c + 1;
        }
    }
    return NULL;
}

/* Just past the PostgreSQL dollar quote ($$...$$, $tag$...$tag$) that
 * opens at d; d itself when none opens there; NULL when it is not closed. */
static const char *sql_dollar_end(const char *w, const char *d)
{
    size_t n = 1;
    if (d > w && sql_name_char(d[-1])) /* a name's $ (x$1) */
        return d;
    if (d[1] != '$' && (!sql_name_char(d[1]) || (d[1] >= '0' && d[1] <= '9')))
        return d;
    while (d[n] != '$' && sql_name_char(d[n]))
        n++;
    if (d[n] != '$')
        return d;
    n++; /* the tag, both its $ */
    for (const char *c = d + n; *c != '\0'; c++)
        if (strncmp(c, d, n) == 0)
            return c + n;
    return NULL;
}

/* Filter w as dialect d reads it: the length of its condition without a
 * comment that runs to its end (a line comment, or in SQLite a block
 * comment left open), nor the blanks before that one; and whether a ';'
 * outside quotes and comments ends a statement in it (*semicolon). */
static size_t filter_condition(const char *w, sql_dialect d, bool *semicolon)
{
    *semicolon = false;
    const char *c = w;
    while (*c != '\0') {
        const char *next = c + 1;
        if (*c == '\'' || *c == '"' || (d == SQL_SQLITE && (*c == '`' || *c == '['))) {
            bool e = d == SQL_PG && *c == '\'' && c > w && (c[-1] == 'E' || c[-1] == 'e') &&
                     (c - 1 == w || !sql_name_char(c[-2]));
            next = sql_quote_end(c, *c == '[' ? ']' : *c, e);
        } else if (d != SQL_OGR && c[0] == '-' && c[1] == '-') {
            if ((next = strchr(c, '\n')) == NULL)
                break;
        } else if (d != SQL_OGR && c[0] == '/' && c[1] == '*') {
            /* PostgreSQL refuses one left open */
            if ((next = sql_comment_end(c, d == SQL_PG)) == NULL && d == SQL_PG)
                return strlen(w);
            if (next == NULL)
                break;
        } else if (d == SQL_PG && *c == '$') {
            next = sql_dollar_end(w, c);
            next = next == c ? c + 1 : next;
        } else if (*c == ';')
            *semicolon = true;
        if (next == NULL) /* a quote left open: the rest is in it */
            return strlen(w);
        c = next;
    }
    if (*c == '\0')
        return strlen(w);
    while (c > w && isspace((unsigned char)c[-1]))
        c--;
    return (size_t)(c - w);
}

/* Whether a filter holds a ';' outside its quoted strings and names, and
 * its comments where the database takes them. */
static bool ends_statement(const char *where, sql_dialect d)
{
    bool semicolon;
    filter_condition(where, d, &semicolon);
    return semicolon;
}

/* The value of o's text key in feature f (see opened), or NULL. */
static const char *key_value(const opened *o, OGRFeatureH f)
{
    if (o->key_idx < 0 || f == NULL || !OGR_F_IsFieldSetAndNotNull(f, o->key_idx))
        return NULL;
    return OGR_F_GetFieldAsString(f, o->key_idx);
}

/* What to do about one bad feature, feature fid whose text key (see opened)
 * is key (or NULL). A --where applies to every layer of its theme: suggest
 * one only when it can hit no other layer's feature. It names the feature
 * by its id, or by its key as an SQL string ('P1', a ' doubled) where GDAL
 * took no ids from a key of text. It is quoted for a shell as a --zone
 * value is (stapel__zone_quote): the theme's own filter, which it takes in,
 * most often holds a string literal ('x'), and so does a key. */
static void leave_out_hint(const read_spec *spec, const opened *o, long long fid, const char *key,
                           char *hint, size_t size)
{
    const stapel__layer *rec = spec->rec;
    char id[128];
    fid_name(o->ds, o->l, id, sizeof id);
    bool by_key = id[0] == '\0' && key != NULL && o->key_idx >= 0;
    if (rec != NULL && !spec->theme_shared && (id[0] != '\0' || by_key)) {
        stapel__buf sql = {0}, arg = {0};
        bool ok = stapel__buf_printf(&sql, "%s=", rec->theme);
        if (rec->where != NULL) {
            /* A comment at its end would hide the rest: not given back. */
            bool semicolon;
            size_t n = filter_condition(rec->where, filter_dialect(o->ds), &semicolon);
            ok = ok && stapel__buf_printf(&sql, "(%.*s) AND ", (int)n, rec->where);
        }
        if (by_key) {
            ok = ok && stapel__buf_printf(&sql, "%s <> '", o->key_name);
            for (const char *c = key; *c != '\0' && ok; c++)
                ok = stapel__buf_append(&sql, c, 1) &&
                     (*c != '\'' || stapel__buf_append(&sql, c, 1));
            ok = ok && stapel__buf_puts(&sql, "'");
        } else
            ok = ok && stapel__buf_printf(&sql, "%s <> %lld", id, fid);
        ok = ok && stapel__zone_quote(&arg, NULL, sql.data);
        if (ok)
            snprintf(hint, size, "mend it, or leave it out with --where %s", arg.data);
        else
            snprintf(hint, size, "mend it in the source");
        stapel__buf_free(&sql);
        stapel__buf_free(&arg);
    } else if (id[0] == '\0')
        snprintf(hint, size,
                 "mend it in the source (the table has no integer primary key, so "
                 "its feature numbers count the rows in the order PostgreSQL gave them)");
    else
        snprintf(hint, size, "mend it in the source");
}

/* A feature whose geometry the driver could not decode: a damaged claim must
 * not vanish from the stack as if it were empty. */
static stapel_status unreadable(stapel_ctx *ctx, const read_spec *spec, const opened *o,
                                const char *layer, long long fid, const char *key, const char *why)
{
    char hint[512];
    leave_out_hint(spec, o, fid, key, hint, sizeof hint);
    return stapel__fail(ctx, STAPEL_EDATA,
                        "%s: layer %s: feature %lld: cannot read its geometry "
                        "(%s); %s",
                        spec->source, layer, fid, why != NULL ? why : stapel__gdal_error("damaged"),
                        hint);
}

/* A feature with a NaN or infinite coordinate: no repair can place it. */
static stapel_status nonfinite(stapel_ctx *ctx, const read_spec *spec, const opened *o,
                               const char *src, const char *layer, long long fid, const char *key)
{
    char hint[512];
    leave_out_hint(spec, o, fid, key, hint, sizeof hint);
    return stapel__fail(ctx, STAPEL_EDATA,
                        "%s: layer %s: feature %lld has a NaN or infinite coordinate; %s", src,
                        layer, fid, hint);
}

/* Whether the polygons of g, off the grid, are valid (*valid): so that one
 * the grid leaves no area is told apart from one its repair emptied. */
static stapel_status valid_as_stored(stapel_ctx *ctx, OGRGeometryH g, bool *valid)
{
    *valid = false;
    GEOSGeometry *gg = NULL;
    stapel__conv kind;
    unsigned notes = 0;
    stapel_status st = stapel__ogr_to_geos(ctx, &gg, &kind, g, 0.0, &notes);
    if (st == STAPEL_OK && kind == STAPEL_CONV_OK)
        *valid = (notes & STAPEL_CONV_BADRING) == 0 && stapel__is_valid(ctx, gg) == 1;
    if (gg != NULL)
        GEOSGeom_destroy_r(ctx->geos, gg);
    return st;
}

/* How the coordinates of a feature that check_sane refuses looked in its
 * source, before the transformation to the working CRS. */
typedef struct src_extent {
    const OGREnvelope *env; /* NULL: the source is in the working CRS */
    const char *crs;        /* the source CRS's name */
    bool geographic;
} src_extent;

/* Whether the box x0, y0, x1, y1 lies in the area of the working CRS. */
static bool in_sane(const sane_box *sane, double x0, double y0, double x1, double y1)
{
    return x0 >= sane->xmin && y0 >= sane->ymin && x1 <= sane->xmax && y1 <= sane->ymax;
}

/* Fail unless the box x0..x1, y0..y1 of a feature (in the working CRS) lies
 * within sane. The message gives the coordinates as the source has them:
 * those of the working CRS mean nothing to a user whose data is lon/lat. */
static stapel_status check_sane(stapel_ctx *ctx, const sane_box *sane, const char *src,
                                const char *layer, long long fid, const char *key, double x0,
                                double y0, double x1, double y1, const read_spec *spec,
                                const opened *o, const src_extent *from)
{
    if (in_sane(sane, x0, y0, x1, y1))
        return STAPEL_OK;
    char area[128] = "", hint[512];
    leave_out_hint(spec, o, fid, key, hint, sizeof hint);
    if (sane->area[0] != '\0')
        snprintf(area, sizeof area, " (%s)", sane->area);
    const OGREnvelope *e = from->env;
    if (e == NULL) {
        bool low = x0 < sane->xmin || y0 < sane->ymin;
        return stapel__fail(ctx, STAPEL_EDATA,
                            "%s: layer %s: feature %lld has a coordinate near (%.6g, %.6g), far "
                            "outside the area of the working CRS%s; is the source CRS right? If "
                            "it is, %s",
                            src, layer, fid, low ? x0 : x1, low ? y0 : y1, area, hint);
    }
    /* Latitude, longitude where longitude, latitude belong: as x = lat,
     * y = lon the feature lies where the working CRS is meant for. */
    bool swapped = from->geographic && sane->has_use && e->MinY <= sane->lon1 &&
                   e->MaxY >= sane->lon0 && e->MinX <= sane->lat1 && e->MaxX >= sane->lat0;
    char what[640];
    /* GML (and WFS, which hands GML to it) is read in the order its
     * srsName gives, so that a file whose srsName does not fit the order
     * of its coordinates is read swapped; GDAL's settings read it as
     * written, and telling it to store x = longitude would not help. */
    if (swapped && o != NULL &&
        (stapel__driver_is(o->ds, "GML") || stapel__driver_is(o->ds, "WFS")))
        snprintf(what, sizeof what,
                 "its longitude and latitude look swapped: read as (latitude, longitude) it "
                 "lies in that area. GDAL reads GML coordinates in the order the srsName "
                 "gives: latitude first for a URN or URL ('urn:ogc:def:crs:EPSG::4326', "
                 "'http://www.opengis.net/def/crs/EPSG/0/4326'), longitude first for a code "
                 "('EPSG:4326'), and the coordinates here are the other way round: set "
                 "GML_INVERT_AXIS_ORDER_IF_LAT_LONG=NO in the environment to read them "
                 "longitude first under a URN, or GML_CONSIDER_EPSG_AS_URN=YES latitude "
                 "first under a code");
    else if (swapped)
        snprintf(what, sizeof what, "its longitude and latitude look swapped: read as "
                 "(latitude, longitude) it lies in that area; store x = longitude, "
                 "y = latitude, as GeoJSON, GeoPackage and shapefiles do");
    else
        snprintf(what, sizeof what, "is that CRS right? If it is, %s", hint);
    return stapel__fail(ctx, STAPEL_EDATA,
                        "%s: layer %s: feature %lld lies far outside the area of the working "
                        "CRS%s: its extent in its own CRS (%s) is %.6g, %.6g - %.6g, %.6g; %s",
                        src, layer, fid, area, from->crs, e->MinX, e->MinY, e->MaxX, e->MaxY,
                        what);
}

/* A number written with a decimal comma in a filter, outside its quoted
 * strings and names ("opp > 1,5", as a Dutch or German keyboard has it):
 * the first into num ("1,5"), or false. Asked only of a filter refused at a
 * ',' (in a list, "jaar IN (2020,2021)", a comma is right). */
static bool decimal_comma(const char *where, char *num, size_t size)
{
    char quote = 0;
    for (const char *c = where; *c != '\0'; c++) {
        if (quote != 0) {
            quote = *c == quote ? 0 : quote;
            continue;
        }
        if (*c == '\'' || *c == '"') {
            quote = *c;
            continue;
        }
        bool starts = isdigit((unsigned char)*c) &&
                      (c == where || !(isalnum((unsigned char)c[-1]) || c[-1] == '_' ||
                                       c[-1] == '.' || c[-1] == ','));
        if (!starts)
            continue;
        size_t n = strspn(c, "0123456789");
        if (c[n] != ',' || !isdigit((unsigned char)c[n + 1]))
            continue;
        size_t m = n + 1 + strspn(c + n + 1, "0123456789");
        if (isalnum((unsigned char)c[m]) || c[m] == '_' || c[m] == ',' || c[m] == '.' || m >= size)
            continue;
        memcpy(num, c, m);
        num[m] = '\0';
        return true;
    }
    return false;
}

static bool is_shapefile(GDALDatasetH ds)
{
    return stapel__driver_is(ds, "ESRI Shapefile");
}

static bool is_postgis(GDALDatasetH ds)
{
    return stapel__driver_is(ds, "PostgreSQL");
}

/* The encoding the .cpg file of a shapefile names, as GDAL read it ('UTF-8',
 * 'CP1252'), or NULL: not a shapefile, or none. Text that is not UTF-8
 * comes with a .cpg only when that names UTF-8, which is then wrong, or
 * names no encoding GDAL knows (cpg_unknown). */
static const char *dbf_cpg(const opened *o)
{
    if (!is_shapefile(o->ds))
        return NULL;
    const char *cpg = GDALGetMetadataItem((GDALMajorObjectH)o->l, "ENCODING_FROM_CPG", "SHAPEFILE");
    return cpg != NULL && cpg[0] != '\0' ? cpg : NULL;
}

/* Whether the .cpg file of a shapefile names no encoding GDAL knows ('System',
 * 'ANSI 1252', '65001'): GDAL then passes the bytes of the .dbf on as they
 * are, as without a .cpg, whatever its header says. */
static bool cpg_unknown(const opened *o)
{
    const char *enc = dbf_cpg(o) != NULL ? GDALGetMetadataItem((GDALMajorObjectH)o->l,
                                                               "SOURCE_ENCODING", "SHAPEFILE")
                                         : NULL;
    return dbf_cpg(o) != NULL && (enc == NULL || enc[0] == '\0');
}

/* What to do of zone names that look like UTF-8 read as a single-byte code
 * page (zone_name.misread): a shapefile's encoding is the one its .cpg file
 * or the code page in its .dbf's header names, which GDAL tells. */
static void misread_hint(const opened *o, const char *what, char *buf, size_t size)
{
    const char *enc = is_shapefile(o->ds) ? GDALGetMetadataItem((GDALMajorObjectH)o->l,
                                                                "SOURCE_ENCODING", "SHAPEFILE")
                                          : NULL;
    if (enc == NULL || enc[0] == '\0')
        snprintf(buf, size, "if so, mend the %s in the source", what);
    else if (dbf_cpg(o) != NULL)
        snprintf(buf, size,
                 "GDAL read the .dbf as %s, as its .cpg file says; if the text is "
                 "UTF-8, write 'UTF-8' in the .cpg file",
                 enc);
    else
        snprintf(buf, size,
                 "GDAL read the .dbf as %s, as the code page in its header says; "
                 "if the text is UTF-8, put 'UTF-8' in a .cpg file next to the .dbf",
                 enc);
}

/* Whether srs is RD New (EPSG:28992), or its horizontal part. */
static bool is_rd_new(OGRSpatialReferenceH srs)
{
    OGRSpatialReferenceH rd = OSRNewSpatialReference(NULL);
    if (rd == NULL)
        return false;
    bool same = false;
    if (OSRImportFromEPSG(rd, 28992) == OGRERR_NONE) {
        const char *opts[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", NULL};
        const char *code = OSRGetAuthorityCode(srs, "PROJCS");
        const char *auth = OSRGetAuthorityName(srs, "PROJCS");
        same = OSRIsSameEx(srs, rd, opts) ||
               (auth != NULL && code != NULL && EQUAL(auth, "EPSG") && strcmp(code, "28992") == 0);
    }
    OSRDestroySpatialReference(rd);
    return same;
}

/* Whether the CRSs a and b lie on one ellipsoid. */
static bool same_ellipsoid(OGRSpatialReferenceH a, OGRSpatialReferenceH b)
{
    OGRErr ea = OGRERR_NONE, eb = OGRERR_NONE;
    double ra = OSRGetSemiMajor(a, &ea), rb = OSRGetSemiMajor(b, &eb);
    if (ea != OGRERR_NONE || eb != OGRERR_NONE)
        return true; /* not known: no word */
    double fa = OSRGetInvFlattening(a, &ea), fb = OSRGetInvFlattening(b, &eb);
    return fabs(ra - rb) < 1e-3 && (ea != OGRERR_NONE || eb != OGRERR_NONE || fabs(fa - fb) < 1e-6);
}

/* Whether PROJ has only a ballpark transformation from src to dst: one
 * that moves nothing between their datums, as it does between datums it
 * knows no transformation for (a PROJ string without +towgs84). */
static bool ballpark_only(OGRSpatialReferenceH src, OGRSpatialReferenceH dst)
{
    OGRCoordinateTransformationOptionsH opts = OCTNewCoordinateTransformationOptions();
    if (opts == NULL)
        return false;
    OCTCoordinateTransformationOptionsSetBallparkAllowed(opts, FALSE);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformationEx(src, dst, opts);
    CPLPopErrorHandler();
    CPLErrorReset();
    OCTDestroyCoordinateTransformationOptions(opts);
    if (ct == NULL)
        return true;
    OCTDestroyCoordinateTransformation(ct);
    return false;
}

/* A copy of srs without heights: a compound CRS's horizontal part, a 3D
 * CRS made 2D; NULL when srs has no heights, or on failure. */
static OGRSpatialReferenceH horizontal(OGRSpatialReferenceH srs)
{
    if (!OSRIsCompound(srs) && OSRGetAxesCount(srs) != 3)
        return NULL;
    OGRSpatialReferenceH h = OSRClone(srs);
    if (h == NULL)
        return NULL;
    if ((OSRIsCompound(h) ? OSRStripVertical(h) : OSRDemoteTo2D(h, NULL)) != OGRERR_NONE) {
        OSRDestroySpatialReference(h);
        return NULL;
    }
    OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER);
    return h;
}

/* The transformation from srs to the working CRS target, between their
 * horizontal parts: stapel works in 2D, and between 3D CRSs PROJ may know
 * no height model (ETRS89 3D, EPSG:4979, to RD + NAP, EPSG:7415, needs a
 * geoid model it does not have here), and then falls back to a ballpark
 * transformation that moves nothing between the datums either: 27 m west
 * and 108 m south of where RD puts the point. Into *ballpark, whether only
 * such a transformation exists between the two (ballpark_only; false
 * between CRSs on one ellipsoid, where moving nothing is most likely
 * meant), when ballpark is not NULL. NULL when PROJ finds none. */
static OGRCoordinateTransformationH to_working(OGRSpatialReferenceH srs,
                                               OGRSpatialReferenceH target, bool *ballpark)
{
    OGRSpatialReferenceH hs = horizontal(srs), ht = horizontal(target);
    OGRSpatialReferenceH from = hs != NULL ? hs : srs, to = ht != NULL ? ht : target;
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(from, to);
    if (ballpark != NULL)
        *ballpark = ct != NULL && !same_ellipsoid(from, to) && ballpark_only(from, to);
    if (hs != NULL)
        OSRDestroySpatialReference(hs);
    if (ht != NULL)
        OSRDestroySpatialReference(ht);
    return ct;
}

/* In buf, what to add to a message on a missing field of the layer l of
 * ds when it is a shapefile read without its .dbf: that the .dbf is
 * missing, or there under a name in another case than the .shp's; else
 * "". */
static void dbf_missing(GDALDatasetH ds, OGRLayerH l, char *buf, size_t size)
{
    char shp[4096], twin[4096];
    buf[0] = '\0';
    if (!stapel__shapefile_no_dbf(ds, l))
        return;
    if (stapel__shapefile_part(ds, l, "shp", shp, sizeof shp) &&
        stapel__shapefile_case_twin(shp, "dbf", twin, sizeof twin))
        snprintf(buf, size,
                 "; the shapefile's .dbf file, which holds its fields, is there as '%s', whose "
                 "name differs from the .shp's in case, so GDAL does not read it: rename it "
                 "'%.*sdbf'",
                 twin, (int)strlen(shp) - 3, shp);
    else
        snprintf(buf, size,
                 "; the shapefile's .dbf file, which holds its fields, is missing: copy it with "
                 "the .shp");
}

/* Why a layer of ds may have no CRS, as its format has it. */
/* A PostGIS layer named as "table(column)" whose table has no geometry
 * column of that name (a typo): GDAL makes a layer without geometry of
 * it, which was refused as one. Says so, with the table's geometry columns, into *st
 * and returns true; false when layer is no such name. */
static bool pg_column_missing(stapel_ctx *ctx, GDALDatasetH ds, const char *src, const char *layer,
                              stapel_status *st)
{
    size_t n = strlen(layer);
    const char *open = strrchr(layer, '(');
    if (!is_postgis(ds) || n < 3 || layer[n - 1] != ')' || open == NULL || open == layer)
        return false;
    char *table = stapel__strdup(layer);
    if (table == NULL) {
        *st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        return true;
    }
    table[open - layer] = '\0';
    OGRLayerH whole = GDALDatasetGetLayerByName(ds, table);
    CPLErrorReset();
    stapel__buf cols = {0};
    bool told = whole != NULL && OGR_FD_GetGeomFieldCount(OGR_L_GetLayerDefn(whole)) > 0 &&
                stapel__geom_columns(&cols, whole);
    if (told)
        *st = stapel__fail(ctx, STAPEL_EDATA,
                           "%s: layer %s: table %s has no geometry column %.*s (its geometry "
                           "columns: %s)",
                           src, layer, table, (int)(n - (size_t)(open - layer) - 2), open + 1,
                           cols.data);
    stapel__buf_free(&cols);
    free(table);
    return told;
}

static const char *no_crs_cause(GDALDatasetH ds)
{
    if (is_shapefile(ds))
        return "a shapefile without .prj?";
    if (stapel__driver_is(ds, "GPKG"))
        return "a GeoPackage layer with an undefined one?";
    if (stapel__driver_is(ds, "GML"))
        return "a GML file without srsName, or whose features name different CRSs?";
    if (stapel__driver_is(ds, "CSV"))
        return "a CSV file states none";
    return "the source states none";
}

/* Whether the features of l are counted before they are read (for the
 * progress): not when a web service would count them by reading them all,
 * one time more than the read (an OGC API that gives no numberMatched
 * pages through every item); its layer then shows no fraction done. */
static int count_forced(OGRLayerH l, const char *dsname)
{
    return !stapel__source_is_service(dsname) || OGR_L_TestCapability(l, OLCFastFeatureCount);
}

/* Whether the filter where on a layer of ds is tested on features whose
 * geometries are all decoded first, those it leaves out too, and can be
 * tested without them: in a CSV file (GDAL tests a filter itself there, as
 * a database does not), by a filter that names no geometry (OGR SQL's
 * OGR_GEOMETRY, OGR_GEOM_AREA). */
static bool filter_without_geometry(GDALDatasetH ds, const char *where)
{
    if (!stapel__driver_is(ds, "CSV"))
        return false;
    for (const char *p = where; *p != '\0'; p++)
        if (stapel__ascii_ncase_equal(p, "OGR_GEOM", 8))
            return false;
    return true;
}

/* The features of l (of ds) that its attribute filter where keeps, counted
 * (forced as count_forced says), or -1. In a CSV file the geometries are not
 * read for it (filter_without_geometry): the damaged geometry of a row the
 * filter leaves out, as the message about it advises ('--where THEME=FID
 * <> 12'), failed the count as if the filter were bad. */
static int64_t count_filtered(GDALDatasetH ds, OGRLayerH l, const char *dsname, const char *where)
{
    if (!filter_without_geometry(ds, where))
        return OGR_L_GetFeatureCount(l, count_forced(l, dsname));
    const char *no_geometry[] = {"OGR_GEOMETRY", NULL};
    bool ignored = OGR_L_SetIgnoredFields(l, no_geometry) == OGRERR_NONE;
    int64_t n = OGR_L_GetFeatureCount(l, count_forced(l, dsname));
    if (ignored)
        OGR_L_SetIgnoredFields(l, NULL);
    return n;
}

/* Whether l (of ds, a CSV file: filter_without_geometry), read with its
 * attribute filter and without geometries, keeps n features and no more,
 * without an error: then an error that came while l was read with the
 * geometries was one of a row the filter leaves out (GDAL decodes every
 * row's geometry before it tests the filter), not the end of a damaged
 * file. */
static bool filter_keeps_only(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t n)
{
    if (!filter_without_geometry(ds, where))
        return false;
    const char *no_geometry[] = {"OGR_GEOMETRY", NULL};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    bool ok = OGR_L_SetIgnoredFields(l, no_geometry) == OGRERR_NONE;
    int64_t k = 0;
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while (ok && (f = OGR_L_GetNextFeature(l)) != NULL) {
        OGR_F_Destroy(f);
        ok = ++k <= n;
    }
    ok = ok && k == n && CPLGetLastErrorType() < CE_Failure;
    OGR_L_SetIgnoredFields(l, NULL);
    CPLPopErrorHandler();
    CPLErrorReset();
    return ok;
}

const char *stapel__unread_prj(GDALDatasetH ds, const char *dsname, const char *layer)
{
    if (!is_shapefile(ds))
        return NULL;
    struct stat sb;
    bool dir = stat(dsname, &sb) == 0 && S_ISDIR(sb.st_mode);
    const char *exts[] = {"prj", "PRJ"};
    for (int i = 0; i < 2; i++) {
        const char *prj = dir ? CPLFormFilename(dsname, layer, exts[i])
                              : CPLResetExtension(dsname, exts[i]);
        if (stat(prj, &sb) == 0 && S_ISREG(sb.st_mode))
            return prj;
    }
    return NULL;
}

static void layer_close(opened *o)
{
    if (o->ds != NULL)
        GDALClose(o->ds);
    free(o->srs_wkt);
    free(o->layer);
    stapel__gdal_seen seen = o->seen;
    memset(o, 0, sizeof *o);
    o->seen = seen;
}

const char *stapel__csv_wkt_column(GDALDatasetH ds, OGRLayerH l)
{
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    if (drv == NULL || !EQUAL(GDALGetDriverShortName(drv), "CSV"))
        return NULL;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    const char *found = NULL;
    OGR_L_ResetReading(l);
    OGRFeatureH f = OGR_L_GetNextFeature(l);
    for (int i = 0; f != NULL && found == NULL && i < OGR_FD_GetFieldCount(defn); i++) {
        if (OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, i)) != OFTString ||
            !OGR_F_IsFieldSetAndNotNull(f, i))
            continue;
        char *text = (char *)OGR_F_GetFieldAsString(f, i);
        OGRGeometryH g = NULL;
        if (OGR_G_CreateFromWkt(&text, NULL, &g) == OGRERR_NONE && g != NULL)
            found = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
        OGR_G_DestroyGeometry(g);
    }
    OGR_F_Destroy(f);
    OGR_L_ResetReading(l);
    CPLErrorReset();
    return found;
}

static stapel_status layer_open(stapel_ctx *ctx, const read_spec *spec, const char *s_srs,
                                bool target_local, bool keep, opened *o)
{
    char *dsname = NULL, *lname = NULL;
    const char *src = spec->source;
    stapel__gdal_seen seen = o->seen; /* from an earlier opening of it */
    bool again = o->again;
    int64_t total = o->total;
    memset(o, 0, sizeof *o);
    o->seen = seen;
    o->again = again;
    o->total = total;
    o->name_idx = -1;
    o->key_idx = -1;
    /* GDAL's warnings while the source is opened and checked name it. */
    const char *was_src = ctx->reading_src, *was_layer = ctx->reading_layer;
    ctx->reading_src = src;
    ctx->reading_layer = NULL;
    ctx->gdal_seen = &o->seen;

    stapel_status st = stapel__source_split(ctx, src, &dsname, &lname);
    if (st != STAPEL_OK)
        goto done;
    st = stapel__dataset_open(ctx, &o->ds, dsname);
    if (st != STAPEL_OK)
        goto done;
    OGRLayerH l;
    st = stapel__layer_pick(ctx, &l, o->ds, src, lname);
    if (st != STAPEL_OK)
        goto done;
    /* What GDAL leaves out of a JSON source without a word, in the layer
     * picked: damage in another layer of a TopoJSON file is none of its.
     * It reads the file's text again, so only when the source is checked:
     * the same file, opened again to be read, passed already. */
    if (!again)
        st = stapel__json_check(ctx, o->ds, dsname, l);
    if (st != STAPEL_OK)
        goto done;
    o->l = l;
    if ((o->layer = stapel__strdup(stapel__layer_name(l))) == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    const char *layer = o->layer;
    ctx->reading_layer = layer;
    int64_t n_shx, n_dbf;
    if (!again && stapel__shapefile_mismatch(o->ds, l, &n_shx, &n_dbf)) {
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: layer %s: its .shx indexes %lld shapes and its .dbf holds %lld "
                          "records, so the files do not belong together (one cut short, or "
                          "from another version of the layer); GDAL would read %lld features "
                          "and leave the other %lld out without a word: copy or export the "
                          "shapefile again, all its files together",
                          src, layer, (long long)n_shx, (long long)n_dbf,
                          (long long)(n_shx < n_dbf ? n_shx : n_dbf),
                          (long long)(n_shx < n_dbf ? n_dbf - n_shx : n_shx - n_dbf));
        goto done;
    }

    OGRwkbGeometryType lt = OGR_L_GetGeomType(l);
    if (OGR_FD_GetGeomFieldCount(OGR_L_GetLayerDefn(l)) == 0) {
        const char *wkt = stapel__csv_wkt_column(o->ds, l);
        if (wkt != NULL)
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s has no geometry column; its column '%s' holds WKT, "
                              "but GDAL reads a CSV's geometry only from a column named WKT: "
                              "rename the column to WKT",
                              src, layer, wkt);
        else if (!pg_column_missing(ctx, o->ds, src, layer, &st))
            st = stapel__fail(ctx, STAPEL_EDATA, "%s: layer %s has no geometry column; %s", src,
                              layer,
                              spec->field != NULL ? "zone layers must be polygons"
                                                  : "claim layers must be polygons");
        goto done;
    }
    int ngf = OGR_FD_GetGeomFieldCount(OGR_L_GetLayerDefn(l));
    if (ngf > 1) {
        /* Read would take the first without a word; which one is meant is
         * the user's to say (PostGIS: "table(column)" names one). */
        stapel__buf b = {0};
        stapel__geom_columns(&b, l);
        /* PostGIS and SQLite (SpatiaLite) name one column as a layer of its
         * own, 'table(column)'; other drivers do not. */
        const char *first = OGR_GFld_GetNameRef(OGR_FD_GetGeomFieldDefn(OGR_L_GetLayerDefn(l), 0));
        stapel__buf pick = {0};
        bool picks = stapel__buf_printf(&pick, "%s(%s)", layer, first) &&
                     GDALDatasetGetLayerByName(o->ds, pick.data) != NULL;
        stapel__buf_free(&pick);
        CPLErrorReset();
        if (picks)
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s has %d geometry columns (%s); pick one with "
                              "'%s|layername=%s(%s)'",
                              src, layer, ngf, b.data != NULL ? b.data : "", dsname, layer, first);
        else
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s has %d geometry columns (%s); stapel reads one: "
                              "save a layer with only the one you mean",
                              src, layer, ngf, b.data != NULL ? b.data : "");
        stapel__buf_free(&b);
        goto done;
    }
    if (is_linear_or_point(lt)) {
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: layer %s holds %s geometries; %s must be polygons", src, layer,
                          OGRGeometryTypeToName(lt),
                          spec->field != NULL ? "zone layers" : "claim layers");
        goto done;
    }

    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    if (spec->field != NULL) {
        o->name_idx = OGR_FD_GetFieldIndex(defn, spec->field);
        if (o->name_idx < 0) {
            stapel__buf b = {0};
            for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++)
                stapel__buf_printf(&b, "%s%s", i > 0 ? ", " : "",
                                   OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
            /* GDAL takes an integer key column (a GeoPackage's fid, a
             * PostGIS table's serial primary key) as the feature id, and
             * lists it among no fields. */
            const char *fid = OGR_L_GetFIDColumn(l);
            bool is_fid = fid != NULL && EQUAL(fid, spec->field);
            char no_dbf[8400];
            dbf_missing(o->ds, l, no_dbf, sizeof no_dbf);
            st = stapel__fail(ctx, STAPEL_EDATA, "%s: layer %s has no field '%s' (fields: %s)%s",
                              src, layer, spec->field, b.data != NULL ? b.data : "none",
                              is_fid ? "; its column of that name is the layer's integer key, "
                                       "which GDAL reads as the feature id, not as a field: "
                                       "name the zones by a text column"
                                     : no_dbf);
            stapel__buf_free(&b);
            goto done;
        }
    }
    /* A key of text GDAL takes no ids from names a bad feature in the
     * filter that leaves it out: it is read. */
    char key[128];
    if (spec->rec != NULL && !spec->theme_shared && without_key(o->ds, l) &&
        stapel__pg_text_key(o->ds, l, key, sizeof key)) {
        pg_ident(key, o->key_name, sizeof o->key_name);
        if (o->key_name[0] != '\0')
            o->key_idx = OGR_FD_GetFieldIndex(defn, key);
    }
    /* Only the geometry, and a zone layer's name field, are used: leave the
     * other fields unparsed, which reading some formats spends most of its
     * time on. A filter needs the fields it names, so it keeps them all. */
    if (spec->where == NULL) {
        int nf = OGR_FD_GetFieldCount(defn);
        const char **ignored = calloc((size_t)nf + 2, sizeof *ignored);
        if (ignored == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        int k = 0;
        int wkt_idx = stapel__csv_wkt_field(o->ds, l); /* read to tell a damaged one */
        for (int i = 0; i < nf; i++)
            if (i != o->name_idx && i != wkt_idx && i != o->key_idx)
                ignored[k++] = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
        ignored[k] = "OGR_STYLE";
        OGR_L_SetIgnoredFields(l, ignored); /* a hint: a driver may read them anyway */
        free(ignored);
    }
    if (spec->where != NULL) {
        /* OGR parses a filter itself for some formats; a database (GeoPackage,
         * PostGIS) is handed it as SQL and finds a mistake only when asked
         * for rows: counting them asks. */
        if (ends_statement(spec->where, filter_dialect(o->ds))) {
            /* SQLite would run the first statement and drop the rest. */
            st = stapel__fail(ctx, STAPEL_EINVAL,
                              "%s: layer %s: bad attribute filter '%s': ';' ends it; give one "
                              "condition (join conditions with AND)",
                              src, layer, spec->where);
            goto done;
        }
        CPLErrorReset();
        bool bad = OGR_L_SetAttributeFilter(l, spec->where) != OGRERR_NONE;
        if (!bad && !again) {
            o->total = count_filtered(o->ds, l, dsname, spec->where);
            bad = CPLGetLastErrorType() >= CE_Failure;
            /* A GeoJSON geometry GDAL cannot read gives its error beside
             * the first feature: the read finds it, if the filter keeps it. */
            int64_t lost_fid;
            char lost_why[16];
            if (bad && stapel__driver_is(o->ds, "GeoJSON") &&
                stapel__geojson_unread(o->ds, l, NULL, &lost_fid, lost_why, sizeof lost_why) > 0)
                bad = false;
        }
        if (bad) {
            /* OGR's parser adds lines that point at the error, and the
             * GeoPackage driver the whole query: keep the reason, on one
             * line, as every message has. */
            const char *m = stapel__gdal_error("syntax error");
            const char *sql = strstr(m, ") failed: "); /* SQLite's reason, not the query */
            if (sql != NULL)
                m = sql + strlen(") failed: ");
            const char *cut = strstr(m, ". Occurred around");
            int n = (int)(cut != NULL ? (size_t)(cut - m) : strcspn(m, "\n"));
            /* A filter on the fields of a shapefile without its table is not
             * the user's mistake: the data lacks them (exit 1, not 2). */
            char no_dbf[8400];
            dbf_missing(o->ds, l, no_dbf, sizeof no_dbf);
            if (no_dbf[0] != '\0' && n > 0 && m[n - 1] == '.')
                n--;
            /* OGR says "unexpected ','", SQLite 'near ","', PostgreSQL 'at or
             * near ","'. */
            char num[64], hint[160] = "", reason[512];
            snprintf(reason, sizeof reason, "%.*s", n, m);
            bool at_comma = strstr(reason, "','") != NULL || strstr(reason, "\",\"") != NULL;
            if (at_comma && decimal_comma(spec->where, num, sizeof num)) {
                *strchr(num, ',') = '.';
                snprintf(hint, sizeof hint, "; a decimal number is written with a point: %s", num);
                *strchr(num, '.') = ',';
                size_t len = strlen(hint);
                snprintf(hint + len, sizeof hint - len, ", not %s", num);
            }
            st = stapel__fail(ctx, no_dbf[0] != '\0' ? STAPEL_EDATA : STAPEL_EINVAL,
                              "%s: layer %s: bad attribute filter '%s': %.*s%s%s", src, layer,
                              spec->where, n, m, hint, no_dbf);
            goto done;
        }
    } else if (!again) {
        o->total = OGR_L_GetFeatureCount(l, count_forced(l, dsname));
    }

    OGRSpatialReferenceH srs = stapel__layer_srs(l);
    /* A local (engineering) CRS, such as the LOCAL_CS["Unknown"] that CAD
     * programs write into a .prj, puts the data on no place on Earth: no
     * transformation leads from it to a real CRS. It is as good as none,
     * so --s_srs says which CRS the coordinates are in. */
    if (srs != NULL && OSRIsLocal(srs) && !target_local) {
        if (s_srs == NULL) {
            const char *name = OSRGetName(srs);
            st = stapel__fail(ctx, STAPEL_ECRS,
                              "%s: layer %s has a local CRS ('%s'), which ties its coordinates "
                              "to no place on Earth, so they cannot be transformed to the "
                              "working CRS; say which CRS they are in with --s_srs, e.g. "
                              "--s_srs EPSG:28992",
                              src, layer, name != NULL ? name : "unnamed");
            goto done;
        }
        srs = NULL;
    } else if (srs == NULL) {
        const char *prj = s_srs == NULL ? stapel__unread_prj(o->ds, dsname, layer) : NULL;
        char shp[4096], twin[4096];
        if (prj == NULL && s_srs == NULL &&
            stapel__shapefile_part(o->ds, l, "shp", shp, sizeof shp) &&
            stapel__shapefile_case_twin(shp, "prj", twin, sizeof twin)) {
            st = stapel__fail(ctx, STAPEL_ECRS,
                              "%s: layer %s has no coordinate reference system: its .prj file is "
                              "there as '%s', whose name differs from the .shp's in case, so "
                              "GDAL does not read it: rename it '%.*sprj', or say which CRS it "
                              "is with --s_srs, e.g. --s_srs EPSG:28992",
                              src, layer, twin, (int)strlen(shp) - 3, shp);
            goto done;
        }
        if (prj != NULL) {
            st = stapel__fail(ctx, STAPEL_ECRS,
                              "%s: layer %s has no coordinate reference system: its .prj file "
                              "'%s' is empty or holds no CRS that GDAL can read; mend it (e.g. "
                              "with ogr2ogr -a_srs), or say which CRS it is with --s_srs, e.g. "
                              "--s_srs EPSG:28992",
                              src, layer, prj);
            goto done;
        }
        if (s_srs == NULL) {
            /* GDAL finds no SRID for a PostGIS column whose rows have SRID
             * 0, nor for a geography column named as "table(column)". */
            char picked[160] = "";
            const char *geom = OGR_L_GetGeometryColumn(l);
            if (geom != NULL && geom[0] != '\0')
                snprintf(picked, sizeof picked, "(%s)", geom);
            bool named = picked[0] != '\0' && strstr(src, picked) != NULL;
            /* The one SRID of the rows tells the causes apart: GDAL
             * names neither (an SRID spatial_ref_sys does not hold it
             * reports as a bare "Could not fetch SRS: "). */
            int srid = is_postgis(o->ds) ? stapel__pg_unknown_srid(o->ds, l, spec->where) : -1;
            char cause[256];
            if (srid > 0)
                snprintf(cause, sizeof cause,
                         "GDAL finds no CRS for its geometry column: its SRID, %d, is not in "
                         "the database's spatial_ref_sys",
                         srid);
            else if (srid == 0)
                snprintf(cause, sizeof cause,
                         "GDAL finds no SRID for its geometry column: its rows have SRID 0");
            else if (!is_postgis(o->ds))
                snprintf(cause, sizeof cause, "%s", no_crs_cause(o->ds));
            else if (named)
                snprintf(cause, sizeof cause,
                         "GDAL does not look up the SRID of a column named as 'table(column)' "
                         "when it is a geography column, or the rows have SRID 0: name the "
                         "table alone if it has one geometry column");
            else
                snprintf(cause, sizeof cause,
                         "GDAL finds no SRID for its geometry column: its rows have SRID 0, or "
                         "one that spatial_ref_sys does not hold");
            st = stapel__fail(ctx, STAPEL_ECRS,
                              "%s: layer %s has no coordinate reference system (%s); say "
                              "which it is with --s_srs, e.g. --s_srs EPSG:28992",
                              src, layer, cause);
            goto done;
        }
    } else {
        char *wkt = NULL;
        const char *wkt_opts[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", NULL};
        if (OSRExportToWktEx(srs, &wkt, wkt_opts) != OGRERR_NONE || wkt == NULL) {
            CPLFree(wkt);
            st = stapel__fail(ctx, STAPEL_ECRS, "%s: layer %s: cannot describe its CRS: %s",
                              src, layer, stapel__gdal_error("unknown reason"));
            goto done;
        }
        o->srs_wkt = stapel__strdup(wkt);
        CPLFree(wkt);
        if (o->srs_wkt == NULL)
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    if (st == STAPEL_OK && !again) {
        /* A PostGIS column that declares no SRID: GDAL reads every row in
         * the CRS of the table's first row (the filter aside), which would
         * put the others in the wrong place without a word. */
        int srid[3];
        int n = stapel__pg_srids(o->ds, l, spec->where, srid, 3);
        const char *auth = srs != NULL ? OSRGetAuthorityName(srs, NULL) : NULL;
        const char *code = srs != NULL ? OSRGetAuthorityCode(srs, NULL) : NULL;
        int as = auth != NULL && code != NULL && EQUAL(auth, "EPSG") ? atoi(code) : 0;
        const char *geom = OGR_L_GetGeometryColumn(l);
        if (n > 1) {
            char hint[256] = "", col[128];
            pg_ident(geom, col, sizeof col); /* "The Geom" needs its quotes */
            if (as != 0 && spec->rec != NULL && !spec->theme_shared && spec->where == NULL &&
                col[0] != '\0')
                snprintf(hint, sizeof hint, ", or keep those in EPSG:%d with --where "
                         "'%s=ST_SRID(%s) = %d'", as, spec->rec->theme, col, as);
            st = stapel__fail(ctx, STAPEL_ECRS,
                              "%s: layer %s: its geometry column %s declares no SRID and its rows "
                              "have several (%d, %d%s), which GDAL would all read in one CRS; "
                              "give them one SRID in the database (ST_Transform, in the table or a "
                              "view)%s",
                              src, layer, geom, srid[0], srid[1], n > 2 ? ", …" : "", hint);
        } else if (n == 1 && as != 0 && srid[0] != as) {
            st = stapel__fail(ctx, STAPEL_ECRS,
                              "%s: layer %s: its geometry column %s declares no SRID, and the rows%s "
                              "have SRID %d, while GDAL reads them in EPSG:%d (the SRID of "
                              "the table's first row); give them one SRID in the database "
                              "(ST_Transform, in the table or a view)",
                              src, layer, geom, spec->where != NULL ? " the filter keeps" : "",
                              srid[0], as);
        }
    }
    /* Without a filter, the extent a file's header gives (GDAL does not
     * scan for it) tells where the claims lie before they are read. Not
     * PostGIS's: without statistics (a view, a table not yet analysed) its
     * driver computes ST_Extent, one more read of every row before the
     * read, which on a large table or a slow view is as long as the read. */
    if (st == STAPEL_OK && spec->where == NULL && !is_postgis(o->ds))
        o->has_ext = OGR_L_GetExtent(l, &o->ext, FALSE) == OGRERR_NONE &&
                     o->ext.MinX <= o->ext.MaxX && o->ext.MinY <= o->ext.MaxY;
    if (st == STAPEL_OK && !keep) { /* opened again to be read */
        GDALClose(o->ds);
        o->ds = NULL;
        o->l = NULL;
    }
done:
    ctx->reading_src = was_src;
    ctx->reading_layer = was_layer;
    ctx->gdal_seen = NULL;
    stapel__gdal_seen_pass(&o->seen);
    if (st != STAPEL_OK)
        layer_close(o);
    free(dsname);
    free(lname);
    return st;
}

/* Whether l reads to its end without its attribute filter (dropped for
 * good: on the way to a failure only). A cancel stops it (false). Damage
 * that only the filtered query meets (an index it alone uses) passes for
 * the filter's fault. */
static bool reads_through(const stapel_ctx *ctx, OGRLayerH l)
{
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    bool ok = OGR_L_SetAttributeFilter(l, NULL) == OGRERR_NONE;
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    while (ok && (f = OGR_L_GetNextFeature(l)) != NULL) {
        OGR_F_Destroy(f);
        ok = !stapel__cancelled(ctx);
    }
    ok = ok && CPLGetLastErrorType() < CE_Failure;
    CPLPopErrorHandler();
    CPLErrorReset();
    return ok;
}

/* Whether text has a byte beyond ASCII. */
static bool beyond_ascii(const char *text)
{
    for (const char *c = text; *c != '\0'; c++)
        if ((unsigned char)*c >= 0x80)
            return true;
    return false;
}

/* How many bytes of UTF-8 text s, at most max, end at a character's end. */
static int utf8_prefix(const char *s, int max)
{
    int n = 0;
    while (n < max && s[n] != '\0')
        n++;
    if (s[n] != '\0')
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    return n;
}

/* Whether the first features of l (at most 1000), read without the
 * attribute filter where, hold text that is not UTF-8 (TEXT_NOT_UTF8: an
 * old .dbf without .cpg, whose bytes GDAL passes on as they are), that
 * looks like UTF-8 read as another encoding (TEXT_MISREAD: a .cpg that
 * names the wrong code page; the first such text and what it is as UTF-8
 * into misread), or that holds the control characters ISO-8859-1 makes of
 * Windows-1252's signs (TEXT_C1: a .dbf whose code page says ISO-8859-1,
 * '’' read as U+0092), so that the 'â' or '’' of a filter (UTF-8) matches
 * none of them. The filter is set again after. */
typedef enum { TEXT_OK, TEXT_NOT_UTF8, TEXT_MISREAD, TEXT_C1 } text_kind;

static text_kind layer_text(OGRLayerH l, const char *where, char *misread, size_t size)
{
    text_kind kind = TEXT_OK;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    if (OGR_L_SetAttributeFilter(l, NULL) == OGRERR_NONE) {
        OGR_L_ResetReading(l);
        for (int k = 0; k < 1000 && kind == TEXT_OK; k++) {
            OGRFeatureH f = OGR_L_GetNextFeature(l);
            if (f == NULL)
                break;
            int n = OGR_F_GetFieldCount(f);
            for (int i = 0; i < n && kind == TEXT_OK; i++) {
                if (OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, i)) != OFTString ||
                    !OGR_F_IsFieldSetAndNotNull(f, i))
                    continue;
                const char *text = OGR_F_GetFieldAsString(f, i);
                char as_utf8[256];
                bool oom = false;
                char *c1 = NULL;
                if (!CPLIsUTF8(text, -1))
                    kind = TEXT_NOT_UTF8;
                else if (stapel__has_cp1252_sign(where) &&
                         (c1 = stapel__c1_as_cp1252(text, &oom)) != NULL)
                    kind = TEXT_C1;
                else if (stapel__utf8_misread(text, as_utf8, sizeof as_utf8)) {
                    kind = TEXT_MISREAD;
                    /* Around the first letter beyond ASCII, which lies at
                     * one place in both (all before it is ASCII), and cut
                     * at a character's end: a long text cut at 80 bytes
                     * showed only its ASCII start and half a character. */
                    size_t at = 0;
                    while ((unsigned char)text[at] < 0x80)
                        at++;
                    const char *t = text + (at > 20 ? at - 20 : 0);
                    const char *u = as_utf8 + (t - text), *dots = t > text ? "..." : "";
                    int nt = utf8_prefix(t, 80), nu = utf8_prefix(u, 80);
                    snprintf(misread, size, "'%s%.*s%s' is '%s%.*s%s' as UTF-8", dots, nt, t,
                             t[nt] != '\0' ? "..." : "", dots, nu, u, u[nu] != '\0' ? "..." : "");
                }
                free(c1);
            }
            OGR_F_Destroy(f);
        }
        OGR_L_SetAttributeFilter(l, where);
        OGR_L_ResetReading(l);
    }
    CPLPopErrorHandler();
    CPLErrorReset();
    return kind;
}

/* Whether the box x0..x1, y0..y1 in the working CRS lies wholly outside
 * the area that CRS is meant for (never, when it states none). */
static bool outside_area(const sane_box *sane, double x0, double y0, double x1, double y1)
{
    return sane->has_use &&
           (x1 < sane->use_x0 || x0 > sane->use_x1 || y1 < sane->use_y0 || y0 > sane->use_y1);
}

/* The longitudes and latitudes that the box x0..x1, y0..y1 covers, from
 * points along its edges taken to degrees by to_ll (the extremes of a box
 * that holds no pole lie on its edges). False when a point does not
 * transform. */
static bool box_lonlat(OGRCoordinateTransformationH to_ll, double x0, double y0, double x1,
                       double y1, double ll[4])
{
    enum { STEPS = 8, N = 4 * STEPS };
    double xs[N], ys[N];
    int ok[N];
    for (int i = 0; i < STEPS; i++) {
        double t = (double)i / STEPS;
        xs[i] = x0 + (x1 - x0) * t; /* round the box */
        ys[i] = y0;
        xs[STEPS + i] = x1;
        ys[STEPS + i] = y0 + (y1 - y0) * t;
        xs[2 * STEPS + i] = x1 - (x1 - x0) * t;
        ys[2 * STEPS + i] = y1;
        xs[3 * STEPS + i] = x0;
        ys[3 * STEPS + i] = y1 - (y1 - y0) * t;
    }
    if (!OCTTransformEx(to_ll, N, xs, ys, NULL, ok))
        return false;
    ll[0] = ll[1] = HUGE_VAL;
    ll[2] = ll[3] = -HUGE_VAL;
    for (int i = 0; i < N; i++) {
        if (!ok[i] || !isfinite(xs[i]) || !isfinite(ys[i]))
            return false;
        ll[0] = fmin(ll[0], xs[i]);
        ll[1] = fmin(ll[1], ys[i]);
        ll[2] = fmax(ll[2], xs[i]);
        ll[3] = fmax(ll[3], ys[i]);
    }
    return true;
}

/* The longitudes and latitudes (into ll) that the box x0..x1, y0..y1 in
 * crs covers; false when that cannot be told. In the geographic CRS crs is
 * based on, when in degrees from Greenwich: taking a projection back needs
 * no search of PROJ's database for a datum shift, which took 20 ms in a
 * thread that had not searched it yet, where the shift moves the box by
 * some 100 m and areas of use are given to 0.01 degree (1 km). */
static bool box_degrees(OGRSpatialReferenceH crs, double x0, double y0, double x1, double y1,
                        double ll[4])
{
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OGRSpatialReferenceH geog = OSRCloneGeogCS(crs);
    if (geog != NULL &&
        (fabs(OSRGetAngularUnits(geog, NULL) / CPLAtof(SRS_UA_DEGREE_CONV) - 1) > 1e-9 ||
         OSRGetPrimeMeridian(geog, NULL) != 0)) {
        OSRDestroySpatialReference(geog); /* such as NTF (Paris), in grads */
        geog = NULL;
    }
    if (geog == NULL && (geog = OSRNewSpatialReference(NULL)) != NULL &&
        OSRImportFromEPSG(geog, 4326) != OGRERR_NONE) {
        OSRDestroySpatialReference(geog);
        geog = NULL;
    }
    bool ok = false;
    if (geog != NULL) {
        OSRSetAxisMappingStrategy(geog, OAMS_TRADITIONAL_GIS_ORDER);
        OGRCoordinateTransformationH to_ll = OCTNewCoordinateTransformation(crs, geog);
        ok = to_ll != NULL && box_lonlat(to_ll, x0, y0, x1, y1, ll);
        if (to_ll != NULL)
            OCTDestroyCoordinateTransformation(to_ll);
        OSRDestroySpatialReference(geog);
    }
    CPLPopErrorHandler();
    CPLErrorReset();
    return ok;
}

/* Whether the box x0..x1, y0..y1 in crs lies wholly outside the area crs
 * is meant for, which sane states (sane_bounds of crs; never, when it states
 * none). The box of that area in crs's coordinates is wider than the area:
 * UTM zone 32N's, meant for 6-12°E, reaches 5.2°E at 52°N, as the zone's
 * western edge bends away from the central meridian towards the equator.
 * So a box within it is taken back to degrees and compared with the area
 * there. When that cannot be told for sure (a point that does not
 * transform, a pole within the box), the box is not outside. */
static bool lies_outside(const sane_box *sane, OGRSpatialReferenceH crs, double x0, double y0,
                         double x1, double y1)
{
    if (!sane->has_use)
        return false;
    if (outside_area(sane, x0, y0, x1, y1))
        return true;
    /* A point of the area in the box (its pole, when the area reaches one,
     * which the box's edges do not show): not outside. */
    for (int i = 0; i < sane->n_use_pts; i++) {
        if (sane->use_px[i] >= x0 && sane->use_px[i] <= x1 && sane->use_py[i] >= y0 &&
            sane->use_py[i] <= y1)
            return false;
    }
    double b[4];
    if (!box_degrees(crs, x0, y0, x1, y1, b))
        return false;
    if (b[3] < sane->lat0 || b[1] > sane->lat1)
        return true;
    if (sane->lon0 <= sane->lon1)
        return b[2] < sane->lon0 || b[0] > sane->lon1;
    return b[2] < sane->lon0 && b[0] > sane->lon1; /* an area across the antimeridian */
}

/* Whether the box x0..x1, y0..y1 in crs lies wholly within the area crs is
 * meant for, which sane states: within its box in crs's coordinates, and in
 * degrees within the area itself (see lies_outside). */
static bool lies_within(const sane_box *sane, OGRSpatialReferenceH crs, double x0, double y0,
                        double x1, double y1)
{
    double b[4];
    if (!sane->has_use || x0 < sane->use_x0 || x1 > sane->use_x1 || y0 < sane->use_y0 ||
        y1 > sane->use_y1 || !box_degrees(crs, x0, y0, x1, y1, b) || b[1] < sane->lat0 ||
        b[3] > sane->lat1)
        return false;
    if (sane->lon0 <= sane->lon1)
        return b[0] >= sane->lon0 && b[2] <= sane->lon1;
    return b[0] >= sane->lon0 || b[2] <= sane->lon1; /* an area across the antimeridian */
}

/* Whether the box x0..x1, y0..y1 could be longitude and latitude. */
static bool looks_lonlat(double x0, double y0, double x1, double y1)
{
    return x0 >= -180 && x1 <= 180 && y0 >= -90 && y1 <= 90;
}

/* The first part of the multi-part geometry g whose extent (into *e)
 * looks like longitude and latitude while g's does not: a part pasted in
 * from a layer in degrees. -1 when none, or g has one part. */
static int lonlat_part(OGRGeometryH g, OGREnvelope *e)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    int n = OGR_GT_IsSubClassOf(t, wkbGeometryCollection) ? OGR_G_GetGeometryCount(g) : 0;
    if (n < 2)
        return -1;
    OGR_G_GetEnvelope(g, e);
    if (looks_lonlat(e->MinX, e->MinY, e->MaxX, e->MaxY))
        return -1;
    for (int k = 0; k < n; k++) {
        OGRGeometryH part = OGR_G_GetGeometryRef(g, k);
        if (OGR_G_IsEmpty(part))
            continue;
        OGR_G_GetEnvelope(part, e);
        if (looks_lonlat(e->MinX, e->MinY, e->MaxX, e->MaxY))
            return k;
    }
    return -1;
}

/* ---- a claim layer's features worked on side by side ----------------------
 *
 * GDAL reads a claim layer on one thread (a dataset is not shared safely),
 * a batch at a time; the work on each feature (reprojection, conversion,
 * repair, grid rings) is done for the batch on worker threads, each with
 * its own GEOS handle and its own transformation, on a copy of the
 * feature's geometry. read_layer then goes through the batch in order as
 * it would through features read one by one: what GDAL said while reading
 * a feature is said again then (stapel__gdal_replay), so that its warnings
 * come in the same order, and only the features before the first bad one
 * count. A feature whose work failed, or made GDAL say anything, is worked
 * on again there, on its own geometry, as before: its messages are those
 * of reading one by one, and so is the output, item by item in order. */

#define READ_BATCH 2048 /* features read at a time */
#define WORK_CHUNK 32   /* features a job of the workers */

typedef struct gdal_said {
    CPLErr level;
    CPLErrorNum no;
    char *text;
} gdal_said;

typedef struct feat_pre {
    OGRFeatureH f;
    gdal_said *said; /* what GDAL said while reading it */
    size_t n_said, cap_said;
    bool said_lost;  /* out of memory keeping it: it is read again on its own */
    CPLErr err_type; /* GDAL's error state after reading it */
    CPLErrorNum err_no;
    char *err_msg;
    bool eligible; /* a geometry to work on */
    bool done;     /* worked on without a word: the fields below hold */
    OGREnvelope before, env, part_ext, pe;
    int part;
    stapel__conv kind;
    unsigned notes;
    double bx0, by0, bx1, by1;
    bool repaired, thin;
    bool has_item;
    stapel__item item; /* its rings and box; geom NULL */
} feat_pre;

static void feat_pre_clear(feat_pre *p)
{
    if (p->f != NULL)
        OGR_F_Destroy(p->f);
    for (size_t i = 0; i < p->n_said; i++)
        free(p->said[i].text);
    free(p->said);
    free(p->err_msg);
    if (p->has_item) {
        free(p->item.pts);
        free(p->item.ring_end);
    }
    memset(p, 0, sizeof *p);
}

static void CPL_STDCALL keep_said(CPLErr level, CPLErrorNum no, const char *msg)
{
    feat_pre *p = *(feat_pre **)CPLGetErrorHandlerUserData();
    if (p == NULL || p->said_lost)
        return;
    if (p->n_said == p->cap_said) {
        size_t cap = p->cap_said == 0 ? 4 : 2 * p->cap_said;
        gdal_said *d = realloc(p->said, cap * sizeof *d);
        if (d == NULL) {
            p->said_lost = true;
            return;
        }
        p->said = d;
        p->cap_said = cap;
    }
    char *t = stapel__strdup(msg != NULL ? msg : "");
    if (t == NULL) {
        p->said_lost = true;
        return;
    }
    p->said[p->n_said++] = (gdal_said){level, no, t};
}

static void CPL_STDCALL note_said(CPLErr level, CPLErrorNum no, const char *msg)
{
    (void)level;
    (void)no;
    (void)msg;
    bool *said = CPLGetErrorHandlerUserData();
    *said = true;
}

typedef struct feat_work {
    feat_pre *v;
    size_t n;
    bool transform; /* the layer is reprojected */
    OGRSpatialReferenceH srs, target;
    const sane_box *sane;
    bool geographic;
    double grid, rings_grid; /* of the conversion and repair; of the rings (in->grid) */
    pthread_mutex_t lock;    /* of the transformations below, and srs and target */
    OGRCoordinateTransformationH *pool;
    size_t n_pool, cap_pool; /* a transformation the pool has no room for is destroyed */
} feat_work;

/* The work of read_layer on one feature, on a copy of its geometry; p->done
 * only if all of it went through and GDAL said nothing. */
static void feat_pre_work(stapel_ctx *ctx, const feat_work *w, feat_pre *p,
                          OGRCoordinateTransformationH ct, bool *said)
{
    OGRGeometryH g = OGR_G_Clone(OGR_F_GetGeometryRef(p->f));
    GEOSGeometry *gg = NULL;
    if (g == NULL)
        return;
    if (ct != NULL)
        OGR_G_GetEnvelope(g, &p->before);
    p->part = !w->geographic && w->sane->has_use ? lonlat_part(g, &p->part_ext) : -1;
    if (ct != NULL && OGR_G_Is3D(g))
        OGR_G_Set3D(g, false);
    if (ct != NULL && OGR_G_Transform(g, ct) != OGRERR_NONE)
        goto out;
    OGR_G_GetEnvelope(g, &p->env);
    if (!isfinite(p->env.MinX) || !isfinite(p->env.MinY) || !isfinite(p->env.MaxX) ||
        !isfinite(p->env.MaxY) ||
        !in_sane(w->sane, p->env.MinX, p->env.MinY, p->env.MaxX, p->env.MaxY))
        goto out;
    if (p->part >= 0)
        OGR_G_GetEnvelope(OGR_G_GetGeometryRef(g, p->part), &p->pe);
    if (stapel__ogr_to_geos(ctx, &gg, &p->kind, g, w->grid, &p->notes) != STAPEL_OK)
        goto out;
    if (p->kind == STAPEL_CONV_EMPTY) {
        p->done = !*said;
        goto out;
    }
    if (p->kind != STAPEL_CONV_OK)
        goto out;
    GEOSGeom_getXMin_r(ctx->geos, gg, &p->bx0);
    GEOSGeom_getYMin_r(ctx->geos, gg, &p->by0);
    GEOSGeom_getXMax_r(ctx->geos, gg, &p->bx1);
    GEOSGeom_getYMax_r(ctx->geos, gg, &p->by1);
    /* A feature outside the working CRS's area (here after linearisation,
     * above as stored) is refused before its conversion and repair (which
     * would overflow the grid), as read_layer does: by the reading thread. */
    if (!in_sane(w->sane, p->bx0, p->by0, p->bx1, p->by1))
        goto out;
    if (stapel__repair(ctx, &gg, w->grid, &p->repaired) != STAPEL_OK)
        goto out;
    if (gg == NULL && (p->notes & STAPEL_CONV_BADRING) == 0 &&
        valid_as_stored(ctx, g, &p->thin) != STAPEL_OK)
        goto out;
    if (gg != NULL) {
        stapel__item *it = &p->item;
        it->geom = gg;
        stapel__geom_warm(ctx, gg);
        if (!stapel__item_rings(ctx, it, w->rings_grid)) {
            free(it->pts);
            free(it->ring_end);
            it->pts = NULL;
            it->ring_end = NULL;
            goto out;
        }
        GEOSGeom_getXMin_r(ctx->geos, gg, &it->xmin);
        GEOSGeom_getYMin_r(ctx->geos, gg, &it->ymin);
        GEOSGeom_getXMax_r(ctx->geos, gg, &it->xmax);
        GEOSGeom_getYMax_r(ctx->geos, gg, &it->ymax);
        it->geom = NULL;
        p->has_item = true;
    }
    p->done = !*said;
    if (!p->done && p->has_item) {
        free(p->item.pts);
        free(p->item.ring_end);
        p->item.pts = NULL;
        p->item.ring_end = NULL;
        p->has_item = false;
    }
out:
    if (gg != NULL)
        GEOSGeom_destroy_r(ctx->geos, gg);
    OGR_G_DestroyGeometry(g);
}

static stapel_status feat_work_chunk(stapel_ctx *ctx, size_t j, void *user)
{
    feat_work *w = user;
    bool said = false;
    CPLPushErrorHandlerEx(note_said, &said); /* nothing GDAL says here is shown */
    OGRCoordinateTransformationH ct = NULL;
    if (w->transform) {
        pthread_mutex_lock(&w->lock);
        if (w->n_pool > 0)
            ct = w->pool[--w->n_pool];
        else
            ct = to_working(w->srs, w->target, NULL);
        pthread_mutex_unlock(&w->lock);
    }
    size_t hi = (j + 1) * WORK_CHUNK < w->n ? (j + 1) * WORK_CHUNK : w->n;
    for (size_t k = j * WORK_CHUNK; k < hi && (ct != NULL || !w->transform); k++) {
        if (!w->v[k].eligible)
            continue;
        CPLErrorReset();
        said = false;
        feat_pre_work(ctx, w, &w->v[k], ct, &said);
    }
    if (ct != NULL) {
        pthread_mutex_lock(&w->lock);
        if (w->n_pool == w->cap_pool) {
            size_t cap = w->cap_pool == 0 ? 8 : 2 * w->cap_pool;
            OGRCoordinateTransformationH *d = realloc(w->pool, cap * sizeof *d);
            if (d != NULL) {
                w->pool = d;
                w->cap_pool = cap;
            }
        }
        if (w->n_pool < w->cap_pool) {
            w->pool[w->n_pool++] = ct;
            ct = NULL;
        }
        pthread_mutex_unlock(&w->lock);
        if (ct != NULL)
            OCTDestroyCoordinateTransformation(ct);
    }
    CPLPopErrorHandler();
    return STAPEL_OK;
}

/* Read the next batch of the layer into v (up to READ_BATCH; the last one
 * ends with a NULL feature, the end of the layer) and work on its features
 * with threads threads; *n gets how many. */
static void read_batch(stapel_ctx *ctx, OGRLayerH l, feat_work *w, feat_pre *v, size_t *n,
                       int threads)
{
    feat_pre *cur = NULL;
    size_t k = 0;
    CPLPushErrorHandlerEx(keep_said, &cur);
    while (k < READ_BATCH) {
        feat_pre *p = &v[k++];
        cur = p;
        CPLErrorReset(); /* as read one by one */
        p->f = OGR_L_GetNextFeature(l);
        p->err_type = CPLGetLastErrorType();
        p->err_no = CPLGetLastErrorNo();
        if (p->err_type != CE_None && (p->err_msg = stapel__strdup(CPLGetLastErrorMsg())) == NULL)
            p->said_lost = true;
        if (p->f == NULL)
            break;
        OGRGeometryH g = OGR_F_GetGeometryRef(p->f);
        p->eligible = g != NULL && !OGR_G_IsEmpty(g);
    }
    cur = NULL;
    CPLPopErrorHandler();
    *n = k;
    w->v = v;
    w->n = k;
    /* Its status is of no use: a feature not worked on is worked on again
     * by read_layer, which also tells of cancelling. Its message is kept. */
    char msg[STAPEL_MSG_MAX];
    memcpy(msg, ctx->msg, sizeof msg);
    (void)stapel__parallel_for(ctx, (k + WORK_CHUNK - 1) / WORK_CHUNK, threads, NULL,
                               feat_work_chunk, w);
    memcpy(ctx->msg, msg, sizeof msg);
}

static stapel_status read_layer(stapel_ctx *ctx, stapel__input *in, const read_spec *spec,
                                opened *o, OGRSpatialReferenceH target, const sane_box *sane,
                                const char *s_srs, double grid)
{
    OGRSpatialReferenceH srs = NULL;
    OGRCoordinateTransformationH ct = NULL;
    OGRFeatureH f = NULL;
    const char *src = spec->source;
    stapel_status st = STAPEL_OK;
    bare_list bare = {NULL, 0, 0, 0, -1}; /* zones: the features without area */
    char *first_lonlat_key = NULL;        /* the text key of a feature in degrees */
    feat_pre *batch = NULL;               /* claims: the features read, worked on */
    feat_work work = {0};
    bool work_lock = false; /* work.lock made */
    if (o->ds == NULL) { /* checked and closed: open it again */
        int64_t total = o->total;
        layer_close(o);
        o->again = true; /* not counted again: a view is evaluated for it */
        o->total = total;
        if ((st = layer_open(ctx, spec, s_srs, OSRIsLocal(target), true, o)) != STAPEL_OK)
            return st;
    }
    const char *layer = o->layer;
    OGRLayerH l = o->l;
    int name_idx = o->name_idx;
    int wkt_idx = stapel__csv_wkt_field(o->ds, l); /* a CSV's geometry text */
    bool name_real = name_idx >= 0 && OGR_Fld_GetType(OGR_FD_GetFieldDefn(OGR_L_GetLayerDefn(o->l),
                                                                          name_idx)) == OFTReal;

    /* This thread's own SRS objects: OGR's are not shared safely. */
    if (o->srs_wkt != NULL) {
        if ((srs = OSRNewSpatialReference(o->srs_wkt)) == NULL) {
            st = stapel__fail(ctx, STAPEL_ECRS, "%s: layer %s: cannot read back its CRS", src,
                              layer);
            goto done;
        }
    } else {
        if ((srs = OSRNewSpatialReference(NULL)) == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        if (OSRSetFromUserInput(srs, s_srs) != OGRERR_NONE) {
            st = stapel__fail(ctx, STAPEL_EINVAL, "unknown source CRS '%s'", s_srs);
            goto done;
        }
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    bool geographic = OSRIsGeographic(srs);
    const char *srs_name = OSRGetName(srs) != NULL ? OSRGetName(srs) : "unnamed";
    if (!OSRIsSame(srs, target)) {
        bool ballpark = false;
        ct = to_working(srs, target, &ballpark);
        if (ct == NULL) {
            st = stapel__fail(ctx, STAPEL_ECRS, "%s: layer %s: no transformation to the working CRS: %s",
                              src, layer, stapel__gdal_error("PROJ found none"));
            goto done;
        }
        if (ballpark) {
            const char *d = OSRGetAttrValue(srs, "DATUM", 0),
                       *td = OSRGetAttrValue(target, "DATUM", 0);
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "%s: layer %s: PROJ knows no transformation from the datum of its CRS "
                        "(%s) to that of the working CRS (%s), which lie on other ellipsoids, so "
                        "it moves nothing between them: the layer lies tens to hundreds of "
                        "metres off (RD's datum, Amersfoort, lies some 100 m from WGS 84's); "
                        "give CRSs by their codes (--t_srs EPSG:28992) or with their datum "
                        "shift (+towgs84=...)",
                        src, layer, d != NULL ? d : "unknown", td != NULL ? td : "unknown");
        }
    }

    int64_t total = o->total;
    size_t first = in->n_items; /* this layer's first item */
    ctx->reading_src = src;
    ctx->reading_layer = layer;
    ctx->gdal_seen = &o->seen;
    if (spec->field == NULL && without_key(o->ds, l)) {
        /* A key of text, or of several columns, is no key to GDAL. */
        stapel__buf key = {0};
        const char *env = CPLGetConfigOption("PGSQL_OGR_FID", NULL);
        char unmatched[160] = "";
        if (env != NULL && env[0] != '\0')
            snprintf(unmatched, sizeof unmatched,
                     " (PGSQL_OGR_FID=%.100s names none of its columns)", env);
        if (stapel__pg_primary_key(o->ds, l, &key))
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "%s: layer %s has no primary key GDAL takes feature ids from (its key is "
                        "%s, not one column of an integer type): its features are numbered in "
                        "the order the database gives them, so the claim ids of the output and "
                        "the feature numbers of messages name no row and may change from run to "
                        "run; name a unique integer column with PGSQL_OGR_FID=column in the "
                        "environment%s",
                        src, layer, key.data, unmatched);
        else
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "%s: layer %s has no primary key: its features are numbered in the order "
                        "the database gives them, so the claim ids of the output and the feature "
                        "numbers of messages name no row and may change from run to run; give "
                        "the table (or view) a primary key, or name a unique column with "
                        "PGSQL_OGR_FID=column in the environment%s",
                        src, layer, unmatched);
        stapel__buf_free(&key);
    }
    int64_t n_read = 0, n_repaired = 0, n_empty = 0, first_empty = -1, n_lost = 0, first_lost = -1;
    int64_t n_null = 0; /* of n_empty: features without geometry */
    int64_t n_repeated = 0, first_repaired = -1;
    int64_t n_dropped = 0, first_dropped = -1; /* points or lines left out */
    int64_t n_z_open = 0, first_z_open = -1;   /* rings closed but in height */
    int64_t n_lonlat = 0, first_lonlat = -1;   /* features that look like degrees */
    double lonlat_ext[4] = {0, 0, 0, 0};       /* the first one's, in its CRS */
    bool lonlat_parts = false, first_lonlat_part = false; /* in a part of a feature only */
    int64_t n_degenerate = 0, first_degenerate = -1;      /* outer rings without area only */
    int64_t n_thin = 0, first_thin = -1;             /* valid, but without area on the grid */
    double ext[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL}; /* of the features read */
    double sext[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL}; /* the same in their CRS */
    int64_t n_unnamed = 0, first_unnamed = -1, n_recoded = 0, n_misread = 0, n_c1 = 0; /* zones */
    int64_t n_placeholder = 0, first_placeholder = -1;        /* zones named "(unnamed)" */
    /* GeoJSON gives the errors of geometries it cannot read beside the
     * first feature of a pass: they are found after (stapel__geojson_unread). */
    bool geojson = stapel__driver_is(o->ds, "GeoJSON");
    /* Claims: read a batch at a time, worked on by several threads (see
     * read_batch); zones one by one. */
    bool batched = spec->field == NULL;
    if (batched) {
        batch = calloc(READ_BATCH, sizeof *batch);
        work = (feat_work){.transform = ct != NULL,
                           .srs = srs,
                           .target = target,
                           .sane = sane,
                           .geographic = geographic,
                           .grid = grid,
                           .rings_grid = in->grid};
        if (batch == NULL || pthread_mutex_init(&work.lock, NULL) != 0) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        work_lock = true;
    }
    size_t b_n = 0, b_i = 0;
    OGR_L_ResetReading(l);
    for (;;) {
        feat_pre *pre = NULL; /* the feature worked on already (read_batch) */
        if (batched) {
            if (b_i == b_n) {
                for (size_t k = 0; k < b_n; k++)
                    feat_pre_clear(&batch[k]);
                read_batch(ctx, l, &work, batch, &b_n, spec->threads);
                b_i = 0;
            }
            feat_pre *p = &batch[b_i++];
            if (p->said_lost) {
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
            /* As GDAL said it while reading it, and its state after. */
            CPLErrorReset();
            ctx->hold_unclosed = true;
            for (size_t k = 0; k < p->n_said; k++)
                stapel__gdal_replay((int)p->said[k].level, (int)p->said[k].no, p->said[k].text);
            if (p->err_type != CE_None)
                CPLErrorSetState(p->err_type, p->err_no, p->err_msg);
            ctx->hold_unclosed = false;
            f = p->f;
            p->f = NULL;
            pre = p->done ? p : NULL;
        } else {
            CPLErrorReset(); /* so that an error below is this feature's */
            ctx->hold_unclosed = true;
            f = OGR_L_GetNextFeature(l);
            ctx->hold_unclosed = false;
        }
        /* Rings that close in x and y, at another height: read as closed,
         * heights being of no use here. GDAL's warnings of rings that do
         * not close are given; the repair closes them and counts them. */
        bool z_open = stapel__gdal_unclosed(ctx, f);
        if (f == NULL)
            break;
        n_read++;
        long long fid = (long long)OGR_F_GetFID(f);
        if (z_open && n_z_open++ == 0)
            first_z_open = fid;
        if ((n_read & 1023) == 0) {
            if (stapel__cancelled(ctx)) {
                st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while reading %s", src);
                goto done;
            }
            if (total > 0 && spec->all > 0) { /* 1 is for the end of the whole read */
                uint64_t d = atomic_fetch_add(spec->done, 1024) + 1024;
                stapel__progress(ctx, "reading", fmin(0.99, (double)d / (double)spec->all));
            }
        }
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (g == NULL && CPLGetLastErrorType() >= CE_Failure && !geojson) {
            /* Not a null geometry: the driver could not decode it. */
            st = unreadable(ctx, spec, o, layer, fid, key_value(o, f), NULL);
            goto done;
        }
        char why[256];
        if (wkt_idx >= 0 && stapel__csv_wkt_damaged(f, g, wkt_idx, why, sizeof why)) {
            st = unreadable(ctx, spec, o, layer, fid, key_value(o, f), why);
            goto done;
        }
        if (g == NULL || OGR_G_IsEmpty(g)) {
            /* Named: a geometry GDAL reads as none without a word (KML's or
             * GML's element of a type it does not know) is found by it. */
            if (first_empty < 0)
                first_empty = fid;
            n_empty++;
            n_null += g == NULL;
            if (spec->field != NULL &&
                (st = bare_note(ctx, in, &bare, f, name_idx, name_real, (int64_t)fid,
                                g == NULL ? BARE_NULL : BARE_EMPTY)) != STAPEL_OK)
                goto done;
            OGR_F_Destroy(f);
            f = NULL;
            continue;
        }
        OGREnvelope before = {0, 0, 0, 0};
        if (ct != NULL && pre != NULL)
            before = pre->before;
        else if (ct != NULL)
            OGR_G_GetEnvelope(g, &before);
        OGREnvelope part_ext; /* in the source's CRS */
        int part;
        if (pre != NULL) {
            part = pre->part;
            part_ext = pre->part_ext;
        } else {
            part = !geographic && sane->has_use ? lonlat_part(g, &part_ext) : -1;
        }
        src_extent from = {ct != NULL ? &before : NULL, srs_name, geographic};
        /* stapel uses no heights, and a transformation given them moves x
         * and y too (WGS 84 to RD: 1.5 mm per 100 m of height): flat first,
         * so a claim lands where it would without them. */
        if (pre == NULL && ct != NULL && OGR_G_Is3D(g))
            OGR_G_Set3D(g, false);
        if (pre == NULL && ct != NULL && OGR_G_Transform(g, ct) != OGRERR_NONE) {
            if (geographic && (fabs(before.MinX) > 360 || fabs(before.MaxX) > 360 ||
                               fabs(before.MinY) > 90 || fabs(before.MaxY) > 90)) {
                /* Metres in a layer that says degrees: most often a GeoJSON
                 * without "crs", which RFC 7946 makes WGS 84 lon/lat. Any
                 * other source states that CRS itself: the GeoJSON rule
                 * would only mislead there. */
                st = stapel__fail(ctx, STAPEL_ECRS,
                                  "%s: layer %s: feature %lld has coordinates near (%.6g, %.6g), "
                                  "which are not longitude and latitude, yet its CRS (%s) is "
                                  "geographic%s; give the data its real CRS, e.g. ogr2ogr "
                                  "-a_srs EPSG:28992 fixed.gpkg SOURCE",
                                  src, layer, fid, before.MinX, before.MinY, srs_name,
                                  geojson ? " (a GeoJSON without a \"crs\" member is WGS 84 by "
                                            "its standard)"
                                          : "");
                goto done;
            }
            if (!all_finite(g)) {
                st = nonfinite(ctx, spec, o, src, layer, fid, key_value(o, f));
                goto done;
            }
            st = stapel__fail(ctx, STAPEL_ECRS,
                              "%s: layer %s: feature %lld: cannot transform to the working CRS: %s",
                              src, layer, fid, stapel__gdal_error("coordinates out of range"));
            goto done;
        }
        OGREnvelope env;
        if (pre != NULL)
            env = pre->env;
        else
            OGR_G_GetEnvelope(g, &env);
        if (!isfinite(env.MinX) || !isfinite(env.MinY) || !isfinite(env.MaxX) ||
            !isfinite(env.MaxY)) {
            st = nonfinite(ctx, spec, o, src, layer, fid, key_value(o, f));
            goto done;
        }
        st = check_sane(ctx, sane, src, layer, fid, key_value(o, f), env.MinX, env.MinY, env.MaxX,
                        env.MaxY, spec, o, &from);
        if (st != STAPEL_OK)
            goto done;
        ext[0] = fmin(ext[0], env.MinX);
        ext[1] = fmin(ext[1], env.MinY);
        ext[2] = fmax(ext[2], env.MaxX);
        ext[3] = fmax(ext[3], env.MaxY);
        const OGREnvelope *se = ct != NULL ? &before : &env;
        sext[0] = fmin(sext[0], se->MinX);
        sext[1] = fmin(sext[1], se->MinY);
        sext[2] = fmax(sext[2], se->MaxX);
        sext[3] = fmax(sext[3], se->MaxY);
        /* Longitude and latitude in one feature of a layer in a projected
         * CRS (RD): read as metres, it lies a few metres from the CRS's
         * origin, which check_sane's wide margin lets through, and becomes
         * a sliver there, far from the rest. Told of below, unless the
         * whole layer lies so (outside_use tells of that). */
        bool whole = !geographic && sane->has_use &&
                     looks_lonlat(se->MinX, se->MinY, se->MaxX, se->MaxY) &&
                     outside_area(sane, env.MinX, env.MinY, env.MaxX, env.MaxY);
        /* So a part of a multi-part feature, whose other parts lie where
         * they should: the feature's extent then looks right. */
        bool in_part = false;
        if (!whole && part >= 0) {
            OGREnvelope pe; /* in the working CRS */
            if (pre != NULL)
                pe = pre->pe;
            else
                OGR_G_GetEnvelope(OGR_G_GetGeometryRef(g, part), &pe);
            in_part = outside_area(sane, pe.MinX, pe.MinY, pe.MaxX, pe.MaxY);
        }
        if ((whole || in_part) && n_lonlat++ == 0) {
            first_lonlat = fid;
            if (key_value(o, f) != NULL &&
                (first_lonlat_key = stapel__strdup(key_value(o, f))) == NULL) {
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
            first_lonlat_part = in_part;
            const OGREnvelope *le = in_part ? &part_ext : se;
            lonlat_ext[0] = le->MinX;
            lonlat_ext[1] = le->MinY;
            lonlat_ext[2] = le->MaxX;
            lonlat_ext[3] = le->MaxY;
        }
        lonlat_parts = lonlat_parts || in_part;
        GEOSGeometry *gg = NULL;
        stapel__conv kind;
        unsigned notes = 0;
        if (pre != NULL) {
            kind = pre->kind;
            notes = pre->notes;
        } else {
            st = stapel__ogr_to_geos(ctx, &gg, &kind, g, grid, &notes);
        }
        if (st != STAPEL_OK) {
            st = stapel__wrap(ctx, st, "%s: layer %s: feature %lld", src, layer, fid);
            goto done;
        }
        if (kind == STAPEL_CONV_NOTAREAL && closed_lines(g)) {
            /* Leaving it out, as for a stray point, would not help: such a
             * layer most often holds its every area so. */
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: feature %lld is a %s that closes a ring: an area "
                              "drawn as a line, as CAD programs draw them; %s must be polygons: "
                              "make polygons of the closed lines first (in QGIS with Lines to "
                              "polygons, or ogr2ogr -nlt POLYGON polygons.gpkg SOURCE)",
                              src, layer, fid, OGRGeometryTypeToName(OGR_G_GetGeometryType(g)),
                              spec->field != NULL ? "zone layers" : "claim layers");
            goto done;
        }
        if (kind == STAPEL_CONV_NOTAREAL) {
            char hint[512];
            leave_out_hint(spec, o, fid, key_value(o, f), hint, sizeof hint);
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: feature %lld is a %s; %s must be polygons: %s", src,
                              layer, fid, OGRGeometryTypeToName(OGR_G_GetGeometryType(g)),
                              spec->field != NULL ? "zone layers" : "claim layers", hint);
            goto done;
        }
        if (kind == STAPEL_CONV_BADCOORD) {
            st = nonfinite(ctx, spec, o, src, layer, fid, key_value(o, f));
            goto done;
        }
        if (kind == STAPEL_CONV_EMPTY) { /* OGR's geometry was not empty: */
            n_empty++;                   /* its rings were all dropped */
            if (n_degenerate++ == 0)
                first_degenerate = fid;
            if (spec->field != NULL && (st = bare_note(ctx, in, &bare, f, name_idx, name_real,
                                                       (int64_t)fid, BARE_GRID)) != STAPEL_OK)
                goto done;
            OGR_F_Destroy(f);
            f = NULL;
            continue;
        }
        /* Again after linearisation: OGR's envelope of a circular arc through
         * a wild control point can leave out where the arc's segments go
         * (found by fuzz_ingest). */
        double bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;
        if (pre != NULL) {
            bx0 = pre->bx0;
            by0 = pre->by0;
            bx1 = pre->bx1;
            by1 = pre->by1;
        } else {
            GEOSGeom_getXMin_r(ctx->geos, gg, &bx0);
            GEOSGeom_getYMin_r(ctx->geos, gg, &by0);
            GEOSGeom_getXMax_r(ctx->geos, gg, &bx1);
            GEOSGeom_getYMax_r(ctx->geos, gg, &by1);
        }
        st = check_sane(ctx, sane, src, layer, fid, key_value(o, f), bx0, by0, bx1, by1, spec, o,
                        &from);
        if (st != STAPEL_OK) {
            if (gg != NULL)
                GEOSGeom_destroy_r(ctx->geos, gg);
            goto done;
        }
        bool repaired = false;
        if (pre != NULL)
            repaired = pre->repaired;
        else
            st = stapel__repair(ctx, &gg, grid, &repaired);
        if (st != STAPEL_OK) {
            if (gg != NULL)
                GEOSGeom_destroy_r(ctx->geos, gg);
            st = stapel__wrap(ctx, st, "%s: layer %s: feature %lld", src, layer, fid);
            goto done;
        }
        /* No area left, though valid as stored: a sliver thinner than a
         * grid cell. Only the rounding made it invalid; no hole or ring
         * order is to blame, so it is not told of as a repair. */
        bool thin = false;
        bool none = pre != NULL ? !pre->has_item : gg == NULL; /* no area left */
        if (pre != NULL)
            thin = pre->thin;
        else if (gg == NULL && (notes & STAPEL_CONV_BADRING) == 0 &&
                 (st = valid_as_stored(ctx, g, &thin)) != STAPEL_OK) {
            st = stapel__wrap(ctx, st, "%s: layer %s: feature %lld", src, layer, fid);
            goto done;
        }
        if (!thin) {
            /* Repeated vertices are invalid input for many tools even where
             * GEOS accepts them; dropping them is a repair the user should
             * hear of. A ring that was not closed, or a hole of one or two
             * points, made the geometry invalid as stored, though its
             * conversion is valid. */
            repaired = repaired || (notes & STAPEL_CONV_BADRING);
            if ((repaired || (notes & STAPEL_CONV_REPEATED)) && n_repaired++ == 0)
                first_repaired = fid;
            n_repeated += !repaired && (notes & STAPEL_CONV_REPEATED);
            if ((notes & STAPEL_CONV_DROPPED) && n_dropped++ == 0)
                first_dropped = fid;
        }
        if (none) { /* thin, or its repair left no area */
            n_empty++;
            if (thin && n_thin++ == 0)
                first_thin = fid;
            else if (!thin && n_lost++ == 0)
                first_lost = fid;
            if (spec->field != NULL &&
                (st = bare_note(ctx, in, &bare, f, name_idx, name_real, (int64_t)fid,
                                thin ? BARE_GRID : BARE_REPAIR)) != STAPEL_OK)
                goto done;
            OGR_F_Destroy(f);
            f = NULL;
            continue;
        }
        uint32_t group = spec->group;
        if (spec->field != NULL) {
            zone_name zn;
            if (!zone_name_read(f, name_idx, name_real, &zn)) {
                zone_name_free(&zn);
                GEOSGeom_destroy_r(ctx->geos, gg);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
            if (zn.name[0] == '\0' && n_unnamed++ == 0)
                first_unnamed = fid;
            if (strcmp(zn.name, "(unnamed)") == 0 && n_placeholder++ == 0)
                first_placeholder = fid;
            /* The names the warnings below echo, quoted as --zone takes them. */
            bool tell_recoded = zn.not_utf8 && n_recoded++ == 0;
            bool tell_c1 = zn.c1 && n_c1++ == 0;
            bool tell_misread = zn.misread && n_misread++ == 0;
            char *q_read = NULL, *q_recoded = NULL, *q_utf8 = NULL, *q_fixed = NULL;
            bool quoted =
                quote_if(tell_c1 || tell_misread || zn.fixed != NULL, zn.read, &q_read) &&
                quote_if(tell_recoded, zn.recoded != NULL ? zn.recoded : "?", &q_recoded) &&
                quote_if(tell_misread, zn.as_utf8, &q_utf8) &&
                quote_if(zn.fixed != NULL, zn.fixed, &q_fixed);
            if (!quoted) {
                free(q_read);
                free(q_recoded);
                free(q_utf8);
                zone_name_free(&zn);
                GEOSGeom_destroy_r(ctx->geos, gg);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
            if (tell_recoded) {
                const char *cpg = dbf_cpg(o);
                char hint[192];
                if (cpg != NULL && cpg_unknown(o))
                    snprintf(hint, sizeof hint,
                             "the .dbf's .cpg file says '%s', which GDAL knows as no "
                             "encoding: write the encoding it is in there, e.g. '1252'",
                             cpg);
                else if (cpg != NULL)
                    snprintf(hint, sizeof hint,
                             "the .dbf's .cpg file says %s, which it is not: write the "
                             "encoding it is in there, e.g. '1252'",
                             cpg);
                else
                    snprintf(hint, sizeof hint, "if that is wrong, %s",
                             is_shapefile(o->ds) ? "put the encoding in a .cpg file next to "
                                                   "the .dbf, e.g. 'UTF-8' or '1252'"
                                                 : "store the name as UTF-8 in the source");
                stapel__log(ctx, STAPEL_LOG_WARN,
                            "%s: layer %s: feature %lld: zone name is not UTF-8; read as "
                            "Windows-1252: %s (%s)",
                            src, layer, fid, q_recoded, hint);
            }
            if (tell_c1)
                stapel__log(ctx, STAPEL_LOG_WARN,
                            "%s: layer %s: feature %lld: zone name holds control characters, "
                            "%s of Windows-1252 letters and signs ('’', '€', '–') %s "
                            "ISO-8859-1; read as Windows-1252: %s (%s)",
                            src, layer, fid, is_shapefile(o->ds) ? "which GDAL makes" : "made",
                            is_shapefile(o->ds) ? "when it reads the text as"
                                                : "by text once read as",
                            q_read,
                            is_shapefile(o->ds) ? "to read it so without a word, write '1252' in "
                                                  "a .cpg file next to the .dbf"
                                                : "store the name so in the source");
            if (tell_misread) {
                char hint[256];
                misread_hint(o, "name", hint, sizeof hint);
                stapel__log(ctx, STAPEL_LOG_WARN,
                            "%s: layer %s: feature %lld: zone name %s looks like UTF-8 "
                            "read as another encoding; as UTF-8 it reads %s: %s",
                            src, layer, fid, q_read, q_utf8, hint);
            }
            if (zn.fixed != NULL)
                stapel__log(ctx, STAPEL_LOG_WARN,
                            "%s: layer %s: feature %lld: zone name %s holds ';', which "
                            "separates zone names in the stack layer; it is written as %s",
                            src, layer, fid, q_read, q_fixed);
            free(q_read);
            free(q_recoded);
            free(q_utf8);
            free(q_fixed);
            st = zone_name_index(ctx, in, zn.name[0] != '\0' ? zn.name : "(unnamed)", &group);
            zone_name_free(&zn);
            if (st != STAPEL_OK) {
                GEOSGeom_destroy_r(ctx->geos, gg);
                goto done;
            }
        }
        if (pre != NULL) /* a claim: its rings only */
            st = push_rings(ctx, in, pre->item, group, (int64_t)fid);
        else
            st = push_item(ctx, in, gg, group, (int64_t)fid);
        if (st != STAPEL_OK) {
            if (gg != NULL)
                GEOSGeom_destroy_r(ctx->geos, gg);
            goto done;
        }
        if (pre != NULL) /* its rings are the item's now */
            pre->has_item = false;
        /* A claim lives on as its grid rings (push_item made them); only
         * zones are used as GEOS geometries later (their parts joined,
         * their areas, their layers written). */
        if (spec->field == NULL && gg != NULL) {
            GEOSGeom_destroy_r(ctx->geos, gg);
            in->items[in->n_items - 1].geom = NULL;
        }
        OGR_F_Destroy(f);
        f = NULL;
    }
    if (CPLGetLastErrorType() >= CE_Failure && spec->where != NULL &&
        filter_keeps_only(o->ds, l, spec->where, n_read))
        CPLErrorReset(); /* a damaged feature that the filter leaves out */
    bool geojson_error = geojson && CPLGetLastErrorType() >= CE_Failure;
    if (n_null > 0 || geojson_error) {
        /* A GeoJSON geometry GDAL could not read comes as none, its error
         * beside another feature: the first of the pass, or the end of a
         * filtered one that kept none. */
        int64_t lost_fid;
        char why[512];
        if (stapel__geojson_unread(o->ds, l, spec->where, &lost_fid, why, sizeof why) > 0) {
            st = unreadable(ctx, spec, o, layer, (long long)lost_fid, NULL, why);
            goto done;
        }
        if (geojson_error && spec->where != NULL &&
            stapel__geojson_unread(o->ds, l, NULL, &lost_fid, why, sizeof why) > 0)
            CPLErrorReset(); /* about features the filter leaves out */
    }
    if (CPLGetLastErrorType() >= CE_Failure) {
        /* The driver gave up before the end of the layer: a damaged file,
         * or a filter that fails on some row (SQLite's json_extract of text
         * that is no JSON, an integer overflow). */
        char why[512];
        snprintf(why, sizeof why, "%s", stapel__gdal_error("unknown error"));
        bool filter_at_fault = spec->where != NULL && reads_through(ctx, l);
        if (stapel__cancelled(ctx)) {
            st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while reading %s", src);
            goto done;
        }
        if (filter_at_fault) {
            st = stapel__fail(ctx, STAPEL_EINVAL,
                              "%s: layer %s: the filter --where '%s=%s' failed on a feature "
                              "after %lld had passed it: %s; the layer itself reads",
                              src, layer, spec->rec != NULL ? spec->rec->theme : "?",
                              spec->where, (long long)n_read, why);
            goto done;
        }
        st = stapel__fail(ctx, STAPEL_EDATA, "%s: layer %s: reading stopped after %lld features: %s",
                          src, layer, (long long)n_read, why);
        goto done;
    }
    if (spec->field == NULL &&
        (st = unique_fids(ctx, in, first, src, layer, o->ds, l, spec->where)) != STAPEL_OK)
        goto done;
    if (n_unnamed > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: %lld feature%s no name in field '%s' (the first: feature "
                    "%lld); %s one zone, '(unnamed)'",
                    src, layer, (long long)n_unnamed, n_unnamed == 1 ? " has" : "s have",
                    spec->field, (long long)first_unnamed, n_unnamed == 1 ? "it forms" : "they form");
    /* The features without a name are one zone by the name the stack
     * gives them: a zone really named so takes them in, unseen. Also when
     * its own features have no area (bare.n_placeholder): the zone then
     * has area, all of it theirs, and warn_bare_zones does not name it. */
    if (n_unnamed > 0 && (n_placeholder > 0 || bare.n_placeholder > 0)) {
        if (n_placeholder == 0 ||
            (bare.n_placeholder > 0 && bare.first_placeholder < first_placeholder))
            first_placeholder = bare.first_placeholder;
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: feature %lld is named '(unnamed)', the name stapel gives "
                    "the features without a name: it and the %lld feature%s without a name "
                    "(the first: feature %lld) form one zone%s; rename it, or fill in the names",
                    src, layer, (long long)first_placeholder, (long long)n_unnamed,
                    n_unnamed == 1 ? "" : "s", (long long)first_unnamed,
                    n_placeholder == 0 ? ", whose area is all theirs (no feature named "
                                         "'(unnamed)' has any)"
                                       : "");
    }
    if (n_recoded > 1)
        stapel__log(ctx, STAPEL_LOG_WARN, "%s: layer %s: %lld zone names were not UTF-8 and "
                    "were read as Windows-1252", src, layer, (long long)n_recoded);
    if (n_c1 > 1)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: %lld zone names held control characters "
                    "and were read as Windows-1252",
                    src, layer, (long long)n_c1);
    if (n_misread > 1)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: %lld zone names look like UTF-8 read "
                    "as another encoding",
                    src, layer, (long long)n_misread);
    /* Coordinates far off are refused (check_sane); a whole layer just off
     * the CRS's area is most likely in another CRS than it says (lon/lat
     * labelled RD lands a few metres from RD's origin, in France). */
    /* the features since the last thousand counted */
    if (total > 0 && spec->all > 0) {
        uint64_t d = atomic_fetch_add(spec->done, (uint64_t)(n_read & 1023)) +
                     (uint64_t)(n_read & 1023);
        stapel__progress(ctx, "reading", fmin(0.99, (double)d / (double)spec->all));
    }
    bool outside_use =
        in->n_items > first && lies_outside(sane, target, ext[0], ext[1], ext[2], ext[3]);
    /* Longitude and latitude labelled with a projected CRS (RD): the most
     * common way for a layer to land outside the area of use. */
    char outside_why[512] = "";
    if (outside_use && !geographic && looks_lonlat(sext[0], sext[1], sext[2], sext[3]))
        snprintf(outside_why, sizeof outside_why,
                 "its coordinates (%.6g, %.6g - %.6g, %.6g) look like longitude and latitude, "
                 "not %s: if they are, give it EPSG:4326, e.g. ogr2ogr -a_srs EPSG:4326 "
                 "fixed.gpkg SOURCE",
                 sext[0], sext[1], sext[2], sext[3], srs_name);
    /* A layer that lies where its own CRS is meant for, in another CRS
     * than the working one: its CRS fits its coordinates, so it is the
     * working CRS that does not fit them (a --t_srs of another region,
     * such as UTM zone 32N for claims west of 6°E). */
    if (outside_use && outside_why[0] == '\0' && ct != NULL) {
        /* A geographic CRS that states no area of use (WGS 84 as GeoJSON
         * gives it) is meant for all of the Earth. */
        sane_box own = sane_bounds(srs, grid);
        if (own.has_use ? !lies_outside(&own, srs, sext[0], sext[1], sext[2], sext[3])
                        : geographic && looks_lonlat(sext[0], sext[1], sext[2], sext[3]))
            snprintf(outside_why, sizeof outside_why,
                     "it lies where its own CRS (%s) is meant for%s%s%s, the working CRS (%s) "
                     "for %s: is --t_srs right for where the claims lie?",
                     srs_name, own.area[0] != '\0' ? " (" : "", own.area,
                     own.area[0] != '\0' ? ")" : "",
                     OSRGetName(target) != NULL ? OSRGetName(target) : "unnamed",
                     sane->area[0] != '\0' ? sane->area : "another area");
    }
    /* Coordinates that lie where the working CRS is meant for, read in it,
     * but under another CRS that puts them elsewhere: RD New coordinates
     * labelled RD Old (EPSG:28991, whose origin lies at RD New's 155000,
     * 463000), or RD labelled UTM. */
    if (outside_use && outside_why[0] == '\0' && ct != NULL && !geographic &&
        lies_within(sane, target, sext[0], sext[1], sext[2], sext[3])) {
        const char *tname = OSRGetName(target) != NULL ? OSRGetName(target) : "unnamed";
        const char *auth = OSRGetAuthorityName(target, NULL),
                   *code = OSRGetAuthorityCode(target, NULL);
        char a_srs[64] = "the working CRS";
        if (auth != NULL && code != NULL)
            snprintf(a_srs, sizeof a_srs, "%s:%s", auth, code);
        snprintf(outside_why, sizeof outside_why,
                 "its coordinates (%.6g, %.6g - %.6g, %.6g) lie where the working CRS (%s) is "
                 "meant for, read in it, not in %s: if they are in it, give the layer that CRS, "
                 "e.g. ogr2ogr -a_srs %s fixed.gpkg SOURCE",
                 sext[0], sext[1], sext[2], sext[3], tname, srs_name, a_srs);
    }
    /* RD Old coordinates (EPSG:28991) labelled RD New: RD Old's origin
     * lies at RD New's 155000, 463000, so they land 155 km west and 463 km
     * south of the Netherlands. */
    sane_box rd = {0};
    if (outside_use && outside_why[0] == '\0' && is_rd_new(srs))
        rd = ct == NULL ? *sane : sane_bounds(srs, grid); /* RD New's area */
    if (rd.has_use && sext[0] + 155000 >= rd.use_x0 && sext[2] + 155000 <= rd.use_x1 &&
        sext[1] + 463000 >= rd.use_y0 && sext[3] + 463000 <= rd.use_y1)
        snprintf(outside_why, sizeof outside_why,
                 "its coordinates (%.6g, %.6g - %.6g, %.6g) look like RD Old (EPSG:28991), "
                 "whose origin lies at RD New's 155000, 463000, not %s: if they are, give it "
                 "EPSG:28991, e.g. ogr2ogr -a_srs EPSG:28991 fixed.gpkg SOURCE",
                 sext[0], sext[1], sext[2], sext[3], srs_name);
    /* Some features so, among others where the CRS is meant for. */
    char lonlat_features[1024] = "", area[128] = "";
    if (sane->area[0] != '\0')
        snprintf(area, sizeof area, " (%s)", sane->area);
    if (n_lonlat == 1 && !outside_use) {
        char hint[512];
        leave_out_hint(spec, o, (long long)first_lonlat, first_lonlat_key, hint, sizeof hint);
        snprintf(lonlat_features, sizeof lonlat_features,
                 "feature %lld %s outside the area the working CRS is meant for%s: its "
                 "coordinates (%.6g, %.6g - %.6g, %.6g) look like longitude and latitude, not %s; "
                 "read as metres, it shrinks to a sliver near the CRS's origin: %s",
                 (long long)first_lonlat, first_lonlat_part ? "has a part that lies" : "lies", area,
                 lonlat_ext[0], lonlat_ext[1], lonlat_ext[2], lonlat_ext[3], srs_name, hint);
    } else if (n_lonlat > 1 && !outside_use) {
        snprintf(lonlat_features, sizeof lonlat_features,
                 "%lld features lie outside the area the working CRS is meant for%s%s: their "
                 "coordinates look like longitude and latitude, not %s (the first: feature %lld, "
                 "at %.6g, %.6g - %.6g, %.6g); read as metres, they shrink to slivers near the "
                 "CRS's origin: mend them in the source",
                 (long long)n_lonlat, area, lonlat_parts ? ", in whole or in part" : "", srs_name,
                 (long long)first_lonlat, lonlat_ext[0], lonlat_ext[1], lonlat_ext[2],
                 lonlat_ext[3]);
    }
    char where_why[640] = "";
    if (n_read == 0 && spec->where != NULL && beyond_ascii(spec->where)) {
        char misread[200] = "", hint[256];
        text_kind kind = layer_text(l, spec->where, misread, sizeof misread);
        const char *cpg = dbf_cpg(o);
        if (kind == TEXT_NOT_UTF8 && cpg != NULL && cpg_unknown(o))
            snprintf(where_why, sizeof where_why,
                     "its text is not UTF-8, and its .cpg file says '%s', which GDAL knows as "
                     "no encoding, so the accented letters of the filter match none of it; "
                     "write the encoding it is in in the .cpg file, e.g. '1252'",
                     cpg);
        else if (kind == TEXT_NOT_UTF8 && cpg != NULL)
            snprintf(where_why, sizeof where_why,
                     "its text is not UTF-8, though its .cpg file says %s, so the accented "
                     "letters of the filter match none of it; write the encoding it is in "
                     "in the .cpg file, e.g. '1252'",
                     cpg);
        else if (kind == TEXT_NOT_UTF8)
            snprintf(where_why, sizeof where_why,
                     "its text is not UTF-8 (a .dbf without a .cpg file?), so the accented "
                     "letters of the filter match none of it; write its encoding in a .cpg "
                     "file next to the .dbf, e.g. '1252'");
        else if (kind == TEXT_C1)
            snprintf(where_why, sizeof where_why,
                     "its text holds control characters where Windows-1252 has signs ('’', "
                     "'€', '–'), %s, so such signs of the filter match none of them; %s",
                     is_shapefile(o->ds) ? "as GDAL reads Windows-1252 text as ISO-8859-1, "
                                           "which the .dbf's code page says"
                                         : "made by Windows-1252 text once read as ISO-8859-1",
                     is_shapefile(o->ds) ? "write '1252' in a .cpg file next to the .dbf"
                                         : "store the text as UTF-8 in the source");
        else if (kind == TEXT_MISREAD) {
            misread_hint(o, "text", hint, sizeof hint);
            snprintf(where_why, sizeof where_why,
                     "its text looks like UTF-8 read as another encoding (%s), so the accented "
                     "letters of the filter match none of it: %s",
                     misread, hint);
        }
    }
    if (spec->rec != NULL) {
        snprintf(spec->rec->where_why, sizeof spec->rec->where_why, "%s", where_why);
        spec->rec->n_read = n_read;
        spec->rec->n_repaired = n_repaired;
        spec->rec->n_repeated = n_repeated;
        spec->rec->first_repaired = first_repaired;
        spec->rec->n_empty = n_empty;
        spec->rec->first_empty = first_empty;
        spec->rec->n_lost = n_lost;
        spec->rec->first_lost = first_lost;
        spec->rec->outside_use = outside_use;
        spec->rec->n_degenerate = n_degenerate;
        spec->rec->first_degenerate = first_degenerate;
        spec->rec->n_thin = n_thin;
        spec->rec->first_thin = first_thin;
        spec->rec->n_dropped = n_dropped;
        spec->rec->first_dropped = first_dropped;
        spec->rec->n_z_open = n_z_open;
        spec->rec->first_z_open = first_z_open;
        memcpy(spec->rec->ext, ext, sizeof ext);
        snprintf(spec->rec->layer_name, sizeof spec->rec->layer_name, "%s", layer);
        snprintf(spec->rec->outside_why, sizeof spec->rec->outside_why, "%s", outside_why);
        snprintf(spec->rec->lonlat_features, sizeof spec->rec->lonlat_features, "%s",
                 lonlat_features);
    } else {
        stapel__layer rec = {.source = (char *)src,
                             .n_read = n_read,
                             .n_repaired = n_repaired,
                             .n_repeated = n_repeated,
                             .first_repaired = first_repaired,
                             .n_empty = n_empty,
                             .first_empty = first_empty,
                             .n_lost = n_lost,
                             .first_lost = first_lost,
                             .outside_use = outside_use,
                             .n_degenerate = n_degenerate,
                             .first_degenerate = first_degenerate,
                             .n_thin = n_thin,
                             .first_thin = first_thin,
                             .n_dropped = n_dropped,
                             .first_dropped = first_dropped,
                             .n_z_open = n_z_open,
                             .first_z_open = first_z_open};
        snprintf(rec.layer_name, sizeof rec.layer_name, "%s", layer);
        snprintf(rec.outside_why, sizeof rec.outside_why, "%s", outside_why);
        snprintf(rec.lonlat_features, sizeof rec.lonlat_features, "%s", lonlat_features);
        snprintf(rec.where_why, sizeof rec.where_why, "%s", where_why);
        report_layer(ctx, &rec);
    }
    if (spec->field != NULL)
        st = warn_bare_zones(ctx, in, first, &bare, src, layer, spec->kind, spec->zone_kind);
done:
    for (size_t k = 0; batch != NULL && k < READ_BATCH; k++)
        feat_pre_clear(&batch[k]);
    free(batch);
    for (size_t k = 0; k < work.n_pool; k++)
        OCTDestroyCoordinateTransformation(work.pool[k]);
    free(work.pool);
    if (work_lock)
        pthread_mutex_destroy(&work.lock);
    free(bare.v);
    free(first_lonlat_key);
    if (f != NULL)
        OGR_F_Destroy(f);
    if (ct != NULL)
        OCTDestroyCoordinateTransformation(ct);
    if (srs != NULL)
        OSRDestroySpatialReference(srs);
    ctx->reading_src = ctx->reading_layer = NULL;
    ctx->gdal_seen = NULL;
    layer_close(o);
    stapel__gdal_seen_free(&o->seen);
    return st;
}

/* An open source holds a few file descriptors (a shapefile three or four):
 * keep them all open only while that fits the process's limit, with room to
 * spare for the output and GDAL's own files. Otherwise each source is opened
 * twice, to be checked and to be read. */
static bool keep_open(size_t n_sources)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return true;
    return 4 * (rlim_t)n_sources + 64 <= rl.rlim_cur;
}

typedef struct claim_read {
    stapel_job *job;
    bool keep;        /* keep the sources open between checking and reading */
    read_spec *specs; /* the claim layers, then the provinces and the NOVEX areas */
    opened *ops;      /* each spec's source, opened */
    stapel__input *parts; /* one per claim layer */
    const sane_box *sane;
    double grid;
    const char *target_wkt;
    bool target_local; /* the working CRS is a local one */
    /* The log lines of opening each spec's source, then of reading each
     * claim layer: the jobs run on worker threads, whose contexts do not
     * log; they are given on the caller's thread, in order. */
    stapel__buf *held;
} claim_read;

static stapel_status open_source(stapel_ctx *ctx, size_t i, void *user)
{
    claim_read *cr = user;
    if (cr->specs[i].source == NULL) /* no such zones */
        return STAPEL_OK;
    stapel__gdal_push(ctx);
    ctx->held = &cr->held[i];
    /* A database connection is not held from the check to the read: a
     * role or server may allow few (CONNECTION LIMIT), and the sources are
     * checked, and read, a thread's worth at a time. */
    bool database = stapel__source_is_database(cr->specs[i].source);
    stapel_status st = layer_open(ctx, &cr->specs[i], cr->job->s_srs, cr->target_local,
                                  cr->keep && !database, &cr->ops[i]);
    stapel__gdal_pop(); /* may log a count of repeated warnings: still held */
    ctx->held = NULL;
    return st;
}

static stapel_status read_claim_layer(stapel_ctx *ctx, size_t i, void *user)
{
    claim_read *cr = user;
    stapel__gdal_push(ctx);
    ctx->held = &cr->held[cr->job->n_layers + 2 + i];
    stapel_status st = STAPEL_OK;
    /* An SRS object of this thread's own: OGR's are not shared safely. */
    OGRSpatialReferenceH target = OSRNewSpatialReference(cr->target_wkt);
    if (target == NULL) {
        st = stapel__fail(ctx, STAPEL_ECRS, "cannot describe the target CRS");
    } else {
        OSRSetAxisMappingStrategy(target, OAMS_TRADITIONAL_GIS_ORDER);
        st = read_layer(ctx, &cr->parts[i], &cr->specs[i], &cr->ops[i], target, cr->sane,
                        cr->job->s_srs, cr->grid);
        OSRDestroySpatialReference(target);
    }
    stapel__gdal_pop();
    ctx->held = NULL;
    return st;
}

/* Areas are written as square metres and the snap grid is 1 mm: the working
 * CRS must be projected (or local) and measure in metres. */
static stapel_status check_target(stapel_ctx *ctx, OGRSpatialReferenceH target, const char *name)
{
    const char *why = NULL;
    char *unit = NULL;
    char buf[128];
    if (OSRIsGeographic(target)) {
        why = "geographic (in degrees)";
    } else if (OSRIsGeocentric(target)) {
        why = "geocentric";
    } else if (!OSRIsProjected(target) && !OSRIsLocal(target)) {
        why = "not a projected CRS (a vertical one?)";
    } else if (fabs(OSRGetLinearUnits(target, &unit) - 1.0) > 1e-12) {
        snprintf(buf, sizeof buf, "in %s, not metres", unit != NULL ? unit : "another unit");
        why = buf;
    }
    if (why == NULL)
        return STAPEL_OK;
    return stapel__fail(ctx, STAPEL_EINVAL,
                        "working CRS '%s' is %s; stapel measures areas in square metres, so "
                        "give --t_srs a projected CRS in metres, e.g. EPSG:28992 (RD New)",
                        name, why);
}

/* v to two significant digits, rounded up or down: a suggested grid that
 * itself passes check_grid. */
static double two_digits(double v, bool up)
{
    double unit = pow(10.0, floor(log10(v)) - 1.0);
    return (up ? ceil(v / unit) : floor(v / unit)) * unit;
}

/* Refuse a snap grid the working CRS cannot work with, before any source is
 * read (a grid of 1e-300 was taken and every feature then called "far
 * outside the area of the working CRS"). Too fine: every coordinate that
 * check_sane lets through (the CRS's area of use grown by ten times its size
 * on every side; without an area of use, EARTH_REACH) must be a whole number
 * of grid cells within GRID_RANGE of the origin, the integers the overlay
 * can multiply exactly. Too coarse: the area of use must be at least one
 * tile unit (TILE_UNIT_CELLS grid cells) across, or claims shrink to a few
 * cells or vanish. For RD New (EPSG:28992) that allows 3.6e-6 m to 330 m. */
static stapel_status check_grid(stapel_ctx *ctx, const sane_box *sane, double grid,
                                const char *t_srs)
{
    double fine = sane->reach / GRID_RANGE, coarse = sane->span / TILE_UNIT_CELLS;
    char what[256];
    if (grid < fine) {
        if (sane->has_use)
            snprintf(what, sizeof what,
                     "its area of use (%s), with the margin stapel accepts "
                     "around it, reaches %.3g m from the origin",
                     sane->area, sane->reach);
        else
            snprintf(what, sizeof what,
                     "it states no area of use, so stapel takes coordinates "
                     "up to %.3g m (the Earth's circumference) from the origin",
                     sane->reach);
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "grid %g m is too fine for the working CRS '%s': %s, and the "
                            "overlay counts in whole grid cells, at most 2^40 either side "
                            "(%.3g m on this grid); use a grid of at least %.2g m",
                            grid, t_srs, what, grid * GRID_RANGE, two_digits(fine, true));
    }
    if (grid > coarse) {
        if (sane->has_use)
            snprintf(what, sizeof what, "its area of use (%s) is %.3g m across", sane->area,
                     sane->span);
        else
            snprintf(what, sizeof what,
                     "it states no area of use, and the Earth is %.3g m "
                     "around",
                     sane->span);
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "grid %g m is too coarse for the working CRS '%s': %s, fewer than "
                            "%.0f grid cells, and claims would shrink to a few cells or "
                            "vanish; use a grid of at most %.2g m",
                            grid, t_srs, what, TILE_UNIT_CELLS, two_digits(coarse, false));
    }
    return STAPEL_OK;
}

stapel_status stapel__grid_check(stapel_ctx *ctx, const char *t_srs, double grid)
{
    if (!isfinite(grid) || grid <= 0)
        return stapel__fail(ctx, STAPEL_EINVAL, "grid %g is not a positive number of metres", grid);
    stapel_status st = STAPEL_OK;
    /* Quiet: stapel__input_read parses t_srs again and gives its warnings. */
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OGRSpatialReferenceH target = OSRNewSpatialReference(NULL);
    if (target == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    } else if (OSRSetFromUserInput(target, t_srs) == OGRERR_NONE) {
        OSRSetAxisMappingStrategy(target, OAMS_TRADITIONAL_GIS_ORDER);
        /* Not in metres: the bounds mean nothing; stapel__input_read says why. */
        if (check_target(ctx, target, t_srs) == STAPEL_OK) {
            sane_box sane = sane_bounds(target, grid);
            st = check_grid(ctx, &sane, grid, t_srs);
        } else {
            stapel__clear(ctx);
        }
    }
    if (target != NULL)
        OSRDestroySpatialReference(target);
    CPLPopErrorHandler();
    return st;
}

/* Roughly the area RD New (EPSG:28992) is made for. */
static bool in_netherlands(double lon, double lat)
{
    return lon >= 3.2 && lon <= 7.3 && lat >= 50.7 && lat <= 53.7;
}

/* The extent of the claims read (from each layer's read extent), or, when
 * no claim was read, of the zones read: what the areas will be of. False
 * when there is neither. */
static bool data_extent(const stapel__input *in, const stapel_job *job, double e[4])
{
    e[0] = e[1] = HUGE_VAL;
    e[2] = e[3] = -HUGE_VAL;
    for (size_t i = 0; i < job->n_layers; i++) {
        const double *l = job->layers[i].ext;
        if (l[0] > l[2])
            continue; /* nothing read */
        e[0] = fmin(e[0], l[0]);
        e[1] = fmin(e[1], l[1]);
        e[2] = fmax(e[2], l[2]);
        e[3] = fmax(e[3], l[3]);
    }
    bool claims = e[0] <= e[2];
    for (size_t i = in->n_claims; !claims && i < in->n_items; i++) { /* the zones */
        const stapel__item *it = &in->items[i];
        e[0] = fmin(e[0], it->xmin);
        e[1] = fmin(e[1], it->ymin);
        e[2] = fmax(e[2], it->xmax);
        e[3] = fmax(e[3], it->ymax);
    }
    return e[0] <= e[2] && e[1] <= e[3];
}

/* What areal_scale needs of the working CRS (crs_wkt), made once: the way
 * from it to the longitude and latitude of its own geodetic CRS (no datum
 * shift, which PROJ could choose per point), how to read those as radians
 * east of Greenwich, and that CRS's ellipsoid. Some count in another unit
 * from another meridian: NTF (Paris), of Lambert zone II (EPSG:27572), in
 * grads from Paris. made: tried, so a CRS PROJ cannot take is tried once. */
typedef struct scale_probe {
    bool made;
    PJ *lonlat;
    double unit;     /* of its longitude and latitude, in radians */
    double meridian; /* its prime meridian, in radians east of Greenwich */
    struct geod_geodesic ellipsoid;
} scale_probe;

static void probe_init(stapel_ctx *ctx, scale_probe *sp, const char *crs_wkt)
{
    if (sp->made)
        return;
    sp->made = true;
    PJ_CONTEXT *pc = ctx->proj;
    PJ *crs = proj_create(pc, crs_wkt);
    /* Areas are measured in the plane of a compound CRS's horizontal part
     * (RD New + NAP height, EPSG:7415); of a bound one (a PROJ string or
     * WKT with TOWGS84), in that of the CRS it binds. */
    for (int k = 0; crs != NULL && k < 4; k++) {
        PJ_TYPE t = proj_get_type(crs);
        PJ *inner = t == PJ_TYPE_COMPOUND_CRS ? proj_crs_get_sub_crs(pc, crs, 0)
                    : t == PJ_TYPE_BOUND_CRS  ? proj_get_source_crs(pc, crs)
                                              : NULL;
        if (inner == NULL)
            break;
        proj_destroy(crs);
        crs = inner;
    }
    PJ *geo = crs != NULL ? proj_crs_get_geodetic_crs(pc, crs) : NULL;
    PJ *cs = geo != NULL ? proj_crs_get_coordinate_system(pc, geo) : NULL;
    PJ *pm = geo != NULL ? proj_get_prime_meridian(pc, geo) : NULL;
    PJ *ell = geo != NULL ? proj_get_ellipsoid(pc, geo) : NULL;
    double pm_lon, pm_unit, a, b;
    if (cs != NULL && pm != NULL && ell != NULL &&
        proj_cs_get_type(pc, cs) == PJ_CS_TYPE_ELLIPSOIDAL &&
        proj_cs_get_axis_info(pc, cs, 0, NULL, NULL, NULL, &sp->unit, NULL, NULL, NULL) &&
        proj_prime_meridian_get_parameters(pc, pm, &pm_lon, &pm_unit, NULL) &&
        proj_ellipsoid_get_parameters(pc, ell, &a, &b, NULL, NULL) && a > 0 && b > 0) {
        sp->meridian = pm_lon * pm_unit;
        geod_init(&sp->ellipsoid, a, 1 - b / a);
        PJ *op = proj_create_crs_to_crs_from_pj(pc, crs, geo, NULL, NULL);
        /* east, north in (also of a CRS that gives northing first, EPSG:3035);
         * longitude, latitude out */
        sp->lonlat = op != NULL ? proj_normalize_for_visualization(pc, op) : NULL;
        proj_destroy(op);
    }
    proj_destroy(ell);
    proj_destroy(pm);
    proj_destroy(cs);
    proj_destroy(geo);
    proj_destroy(crs);
}

static void probe_free(scale_probe *sp)
{
    proj_destroy(sp->lonlat);
}

/* The side in metres of the square areal_scale measures: the scale hardly
 * changes across it, and its area on the ellipsoid comes out far closer
 * than the 1 % that counts. */
#define PROBE_SIDE 1000.0

/* The areal scale factor of the working CRS at the centre of the box e (the
 * area of a square there in the CRS over its area on the ellipsoid), and
 * where that centre is in degrees east of Greenwich and north; 1 where PROJ
 * gives no answer (a local CRS). Measured, not PROJ's proj_factors: PROJ
 * 9.1 gives nonsense for a projected CRS whose units are not degrees and
 * metres, however its longitude and latitude are given (4e13 for
 * EPSG:27572; PROJ issue 3824, mended in 2023 by pull request 3826). */
static double areal_scale(const scale_probe *sp, const double e[4], double *lon, double *lat)
{
    *lon = *lat = 0;
    if (sp->lonlat == NULL)
        return 1;
    double cx = (e[0] + e[2]) / 2, cy = (e[1] + e[3]) / 2, h = PROBE_SIDE / 2;
    /* the centre, then the square's corners anticlockwise */
    double x[5] = {cx, cx - h, cx + h, cx + h, cx - h};
    double y[5] = {cy, cy - h, cy - h, cy + h, cy + h};
    proj_trans_generic(sp->lonlat, PJ_FWD, x, sizeof *x, 5, y, sizeof *y, 5, NULL, 0, 0, NULL, 0,
                       0);
    for (int k = 0; k < 5; k++) {
        if (!isfinite(x[k]) || !isfinite(y[k]))
            return 1;
        x[k] = proj_todeg(x[k] * sp->unit + sp->meridian);
        y[k] = proj_todeg(y[k] * sp->unit);
    }
    *lon = remainder(x[0], 360);
    *lat = y[0];
    double ground;
    geod_polygonarea(&sp->ellipsoid, y + 1, x + 1, 4, &ground, NULL);
    ground = fabs(ground); /* negative for a CRS whose axes mirror the map */
    return isfinite(ground) && ground > 0 ? PROBE_SIDE * PROBE_SIDE / ground : 1;
}

static bool distorting(double scale)
{
    return fabs(scale - 1) > 0.01;
}

/* Areas are measured in the plane of the working CRS: one that distorts
 * areas where the claims lie gives wrong ones (Web Mercator makes a Dutch
 * hectare 2.7 ha). The areal scale factor at the centre of the claims (of
 * the zones, when no claim was read; areal_scale) decides: more than 1 %
 * off is refused; where PROJ gives no answer (a local CRS), the CRS
 * passes. */
static stapel_status check_distortion_in(stapel_ctx *ctx, const stapel__input *in,
                                         const stapel_job *job, scale_probe *sp, const double e[4],
                                         const char *what, const char *note)
{
    double lon, lat;
    probe_init(ctx, sp, in->crs_wkt);
    double scale = areal_scale(sp, e, &lon, &lat);
    if (!distorting(scale))
        return STAPEL_OK;
    return stapel__fail(ctx, STAPEL_EINVAL,
                        "working CRS '%s' distorts areas where %s lie (around %.2f%s, "
                        "%.2f%s): its square metre is %.3g m\xc2\xb2 on the ground, so every area "
                        "would be wrong; %sgive --t_srs a CRS made for the region or one of equal "
                        "area, e.g. %s",
                        job->t_srs, what, fabs(lon), lon < 0 ? "W" : "E", fabs(lat),
                        lat < 0 ? "S" : "N", 1 / scale, note,
                        in_netherlands(lon, lat) ? "EPSG:28992 (RD New) or EPSG:3035"
                                                 : "EPSG:3035 (Europe) or ESRI:54034 "
                                                   "(World Cylindrical Equal Area)");
}

/* The centre where the distortion is measured can lie where no claim is:
 * one feature with a digit wrong (y = 2463000 for 463000 in RD) moves it a
 * thousand kilometres, and the advice to take another CRS would hide that
 * feature. When some claims lie in the area the working CRS is meant for
 * and others reach beyond it, names the claim that reaches farthest. */
static void far_claim_note(const stapel__input *in, const stapel_job *job, const sane_box *sane,
                           char *buf, size_t size)
{
    buf[0] = '\0';
    size_t far = SIZE_MAX, n_out = 0;
    double worst = 0;
    bool inside = false;
    for (size_t i = 0; sane->has_use && i < in->n_claims; i++) {
        const stapel__item *it = &in->items[i];
        double d = fmax(fmax(sane->use_x0 - it->xmin, it->xmax - sane->use_x1),
                        fmax(sane->use_y0 - it->ymin, it->ymax - sane->use_y1));
        inside = inside || d <= 0;
        n_out += d > 0;
        if (d > worst) {
            worst = d;
            far = i;
        }
    }
    if (far == SIZE_MAX || !inside)
        return;
    const stapel__item *it = &in->items[far];
    snprintf(buf, size,
             "but %zu of the %zu claims reach%s beyond the area it is meant for%s%s%s, the "
             "farthest %.0f km: %s: layer %s: feature %lld; if its coordinates are wrong, mend "
             "it or leave it out with --where, else ",
             n_out, in->n_claims, n_out == 1 ? "es" : "", sane->area[0] != '\0' ? " (" : "",
             sane->area, sane->area[0] != '\0' ? ")" : "", worst / 1000,
             job->layers[it->group].source, job->layers[it->group].layer_name, (long long)it->fid);
}

/* check_distortion_in where the claims (or, with none, the zones) read lie. */
static stapel_status check_distortion(stapel_ctx *ctx, const stapel__input *in,
                                      const stapel_job *job, scale_probe *sp, const sane_box *sane)
{
    double e[4];
    if (!data_extent(in, job, e))
        return STAPEL_OK;
    char note[1024];
    far_claim_note(in, job, sane, note, sizeof note);
    return check_distortion_in(ctx, in, job, sp, e, in->n_claims > 0 ? "the claims" : "the zones",
                               note);
}

/* The extent o states (its driver's, without a scan), in the working CRS,
 * into b. False when it cannot say where the claims are: no extent, an
 * empty layer (whose header may say 0,0,0,0), a corner PROJ cannot move, or
 * a box beyond the working CRS's area of use (some tools write
 * -180,-90,180,90). */
static bool stated_box(const opened *o, const char *s_srs, OGRSpatialReferenceH target,
                       const sane_box *sane, double b[4])
{
    if (!o->has_ext || o->total == 0)
        return false;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(o->srs_wkt);
    if (srs == NULL)
        return false;
    bool ok = o->srs_wkt != NULL || OSRSetFromUserInput(srs, s_srs) == OGRERR_NONE;
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    /* in the working CRS already: no transformation to look up */
    bool same = ok && OSRIsSame(srs, target);
    OGRCoordinateTransformationH ct = ok && !same ? to_working(srs, target, NULL) : NULL;
    /* The corners and the middles of the sides: a box's image need not be
     * one. */
    static const double f[8][2] = {{0, 0}, {0.5, 0}, {1, 0}, {1, 0.5},
                                   {1, 1}, {0.5, 1}, {0, 1}, {0, 0.5}};
    double x[8], y[8];
    int moved[8];
    for (int k = 0; k < 8; k++) {
        x[k] = o->ext.MinX + f[k][0] * (o->ext.MaxX - o->ext.MinX);
        y[k] = o->ext.MinY + f[k][1] * (o->ext.MaxY - o->ext.MinY);
    }
    for (int k = 0; k < 8; k++)
        moved[k] = same;
    ok = same || (ct != NULL && OCTTransformEx(ct, 8, x, y, NULL, moved));
    b[0] = b[1] = HUGE_VAL;
    b[2] = b[3] = -HUGE_VAL;
    for (int k = 0; k < 8 && ok; k++) {
        ok = moved[k] && isfinite(x[k]) && isfinite(y[k]);
        b[0] = fmin(b[0], x[k]);
        b[1] = fmin(b[1], y[k]);
        b[2] = fmax(b[2], x[k]);
        b[3] = fmax(b[3], y[k]);
    }
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(srs);
    if (ok && sane->has_use)
        ok = b[0] >= sane->use_x0 && b[1] >= sane->use_y0 && b[2] <= sane->use_x1 &&
             b[3] <= sane->use_y1;
    return ok;
}

/* check_distortion_in before any claim is read, where the extents the claim
 * layers state put them (stated_box): an area-distorting --t_srs is refused
 * at once rather than after minutes of reading. Only when the working CRS
 * distorts at the centre of every layer that states a usable extent: an
 * extent that overstates must not refuse a run that passes once read. The
 * rest (layers with a filter, or no cheap extent) is left to
 * check_distortion. */
static stapel_status check_distortion_early(stapel_ctx *ctx, const stapel__input *in,
                                            const stapel_job *job, const opened *ops,
                                            OGRSpatialReferenceH target, const sane_box *sane,
                                            scale_probe *sp)
{
    double e[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL}, b[4], lon, lat;
    size_t usable = 0;
    bool fine = false; /* a layer where the CRS does not distort */
    for (size_t i = 0; i < job->n_layers && !fine; i++) {
        if (!stated_box(&ops[i], job->s_srs, target, sane, b))
            continue;
        probe_init(ctx, sp, in->crs_wkt);
        fine = !distorting(areal_scale(sp, b, &lon, &lat));
        usable++;
        e[0] = fmin(e[0], b[0]);
        e[1] = fmin(e[1], b[1]);
        e[2] = fmax(e[2], b[2]);
        e[3] = fmax(e[3], b[3]);
    }
    return usable > 0 && !fine ? check_distortion_in(ctx, in, job, sp, e, "the claims", "")
                               : STAPEL_OK;
}

/* A local working CRS (--t_srs LOCAL_CS[...]) ties nothing to a place on
 * Earth: no transformation leads to it from a source in another CRS.
 * Refused once the sources are open, before an existing output is. */
static stapel_status check_local_target(stapel_ctx *ctx, const claim_read *cr, size_t n_src,
                                        OGRSpatialReferenceH target)
{
    if (!OSRIsLocal(target))
        return STAPEL_OK;
    for (size_t i = 0; i < n_src; i++) {
        const opened *o = &cr->ops[i];
        if (cr->specs[i].source == NULL || o->srs_wkt == NULL)
            continue;
        OGRSpatialReferenceH srs = OSRNewSpatialReference(o->srs_wkt);
        if (srs == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        bool same = OSRIsSame(srs, target);
        const char *name = OSRGetName(srs) != NULL ? OSRGetName(srs) : "unnamed";
        stapel_status st = STAPEL_OK;
        if (!same)
            st = stapel__fail(ctx, STAPEL_EINVAL,
                              "%s: layer %s is in %s, which no transformation links to the "
                              "local working CRS of --t_srs; a local working CRS takes only "
                              "sources in it (or without a CRS)",
                              cr->specs[i].source, o->layer, name);
        OSRDestroySpatialReference(srs);
        if (st != STAPEL_OK)
            return st;
    }
    return STAPEL_OK;
}

/* Why GDAL could not read the CRS s: its own reason, or, when it gives
 * none, that a file s names is not there ('rd.prj', 'crs/rd.wkt': GDAL
 * reads a CRS from a file too), or that it knows no such CRS. */
static const char *crs_unread(const char *s)
{
    const char *m = stapel__gdal_error(NULL);
    if (m != NULL)
        return m;
    size_t n = strlen(s);
    bool named_file = strchr(s, '/') != NULL || (n > 4 && s[n - 4] == '.' &&
                                                 (stapel__ascii_ncase_equal(s + n - 3, "prj", 3) ||
                                                  stapel__ascii_ncase_equal(s + n - 3, "wkt", 3)));
    struct stat sb;
    if (named_file && strchr(s, '[') == NULL && stat(s, &sb) != 0)
        return "no such file";
    return "not a CRS GDAL knows";
}

/* --s_srs is checked even when no source needs it, so a typo shows at once.
 * It says where the x and y of a source lie: a CRS of heights alone (NAP
 * height, EPSG:5709) or a geocentric one cannot (the first failed feature by
 * feature as 'Invalid coordinate', the second read x and y as metres from
 * the Earth's centre), nor can a local one when the working CRS is tied to
 * the Earth (nothing can be brought from it). */
static stapel_status check_source_srs(stapel_ctx *ctx, const char *s_srs, bool target_local)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (srs == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel_status st = STAPEL_OK;
    const char *why = NULL;
    CPLErrorReset();
    if (OSRSetFromUserInput(srs, s_srs) != OGRERR_NONE)
        st = stapel__fail(ctx, STAPEL_EINVAL, "unknown source CRS '%s' (--s_srs): %s", s_srs,
                          crs_unread(s_srs));
    else if (OSRIsGeocentric(srs))
        why = "geocentric (x, y and z from the centre of the Earth)";
    else if (!OSRIsGeographic(srs) && !OSRIsProjected(srs) && !OSRIsLocal(srs))
        why = OSRIsVertical(srs) ? "vertical (of heights only)" : "not one of x and y";
    else if (OSRIsLocal(srs) && !target_local)
        why = "local: it ties coordinates to no place on Earth, so nothing can be brought "
              "from it to the working CRS";
    if (why != NULL) {
        const char *name = OSRGetName(srs);
        st = stapel__fail(ctx, STAPEL_EINVAL,
                          "source CRS '%s' (--s_srs, %s) is %s; --s_srs says which CRS the x "
                          "and y of sources without one are in: give a projected or "
                          "geographic CRS, e.g. EPSG:28992 (RD New)",
                          s_srs, name != NULL ? name : "unnamed", why);
    }
    OSRDestroySpatialReference(srs);
    return st;
}

/* A zone given as several features of one name (a province in parts, a
 * NOVEX area delivered per municipality, parts that overlap) is one zone.
 * The overlay sees it as one item: the first feature gets the rings of the
 * union of them all, on the grid, and the others none, so the borders
 * between the parts split no face and an overlap counts once. Each feature
 * keeps its own geometry for the zone layers of the output. */
static stapel_status zone_parts_join(stapel_ctx *ctx, stapel__input *in, size_t lo, size_t hi)
{
    GEOSContextHandle_t h = ctx->geos;
    stapel_status st = STAPEL_OK;
    if (in->zone_union_area == NULL && in->n_items > in->n_claims) {
        in->zone_union_area = malloc((in->n_items - in->n_claims) * sizeof *in->zone_union_area);
        if (in->zone_union_area == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        for (size_t i = in->n_claims; i < in->n_items; i++)
            in->zone_union_area[i - in->n_claims] = NAN;
    }
    uint32_t *first = malloc((in->n_zone_names + 1) * sizeof *first);
    size_t *count = calloc(in->n_zone_names + 1, sizeof *count);
    GEOSGeometry **parts = malloc((hi - lo + 1) * sizeof *parts);
    if (first == NULL || count == NULL || parts == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t g = 0; g < in->n_zone_names; g++)
        first[g] = UINT32_MAX;
    for (size_t i = lo; i < hi; i++) {
        uint32_t g = in->items[i].group;
        if (count[g]++ == 0)
            first[g] = (uint32_t)i;
    }
    for (size_t g = 0; g < in->n_zone_names && st == STAPEL_OK; g++) {
        if (count[g] < 2)
            continue;
        size_t n = 0;
        for (size_t i = first[g]; i < hi && n < count[g]; i++) {
            if (in->items[i].group != g)
                continue;
            parts[n] = GEOSGeom_clone_r(h, in->items[i].geom);
            if (parts[n] == NULL)
                break;
            n++;
        }
        GEOSGeometry *coll = n == count[g] ? GEOSGeom_createCollection_r(
                                                 h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n)
                                           : NULL;
        if (coll == NULL)
            for (size_t k = 0; k < n; k++)
                GEOSGeom_destroy_r(h, parts[k]);
        GEOSGeometry *u = coll != NULL ? GEOSUnaryUnionPrec_r(h, coll, in->grid) : NULL;
        if (coll != NULL)
            GEOSGeom_destroy_r(h, coll);
        stapel__item *it = &in->items[first[g]];
        stapel__ipt *pts = NULL;
        uint32_t *ring_end = NULL, n_rings = 0;
        if (u == NULL) {
            char *zone = stapel_zone_quote_text(in->zone_names[g]);
            st = zone == NULL
                     ? stapel__fail(ctx, STAPEL_ENOMEM, "out of memory")
                     : stapel__fail(ctx, STAPEL_EGEOS, "the parts of zone %s cannot be joined: %s",
                                    zone, stapel__geos_error(ctx));
            free(zone);
        } else if (!stapel__geom_rings(ctx, u, in->grid, &pts, &ring_end, &n_rings)) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        } else {
            free(it->pts);
            free(it->ring_end);
            it->pts = pts;
            it->ring_end = ring_end;
            it->n_rings = n_rings;
            GEOSGeom_getXMin_r(h, u, &it->xmin);
            GEOSGeom_getYMin_r(h, u, &it->ymin);
            GEOSGeom_getXMax_r(h, u, &it->xmax);
            GEOSGeom_getYMax_r(h, u, &it->ymax);
            /* The summary needs this area: the same union, done once. */
            double a = 0;
            GEOSArea_r(h, u, &a);
            in->zone_union_area[first[g] - in->n_claims] = a;
            for (size_t i = first[g] + 1, left = count[g] - 1; i < hi && left > 0; i++) {
                stapel__item *o = &in->items[i];
                if (o->group != g)
                    continue;
                left--;
                free(o->pts);
                free(o->ring_end);
                o->pts = NULL;
                o->ring_end = NULL;
                o->n_rings = 0;
            }
        }
        if (u != NULL)
            GEOSGeom_destroy_r(h, u);
    }
done:
    free(first);
    free(count);
    free(parts);
    return st;
}

typedef struct keyed {
    char *key; /* the name in lower case, without surrounding spaces */
    const char *name;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    int c = strcmp(p->key, q->key);
    return c != 0 ? c : strcmp(p->name, q->name);
}

/* The key of a zone name for warn_similar_names: without the spaces
 * around it, in lower case; NULL when out of memory. */
static char *similar_key(const char *name)
{
    while (isspace((unsigned char)*name))
        name++;
    size_t len = strlen(name);
    while (len > 0 && isspace((unsigned char)name[len - 1]))
        len--;
    char *key = malloc(len + 1);
    if (key == NULL)
        return NULL;
    for (size_t c = 0; c < len; c++)
        key[c] = (char)tolower((unsigned char)name[c]);
    key[len] = '\0';
    return key;
}

/* Zone names that differ only in case or surrounding spaces ('Utrecht' and
 * 'utrecht ') are different zones that print alike: most likely a typing
 * slip in the source, so say so. The zones of the items lo to hi, and those
 * of that kind without area (in->bare_zones), which a slip of the name
 * makes as readily: 'utrecht ' of a feature whose geometry is missing. */
static stapel_status warn_similar_names(stapel_ctx *ctx, const stapel__input *in, size_t lo,
                                        size_t hi, stapel_zone_kind kind, const char *source)
{
    size_t n_bare = in->n_bare_zones[kind];
    keyed *k = calloc(hi - lo + n_bare + 1, sizeof *k);
    if (k == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    size_t n = 0;
    stapel_status st = STAPEL_OK;
    for (size_t i = 0; i < hi - lo + n_bare && st == STAPEL_OK; i++) {
        const char *name = i < hi - lo ? in->zone_names[in->items[lo + i].group]
                                       : in->zone_names[in->bare_zones[kind][i - (hi - lo)]];
        char *key = similar_key(name);
        if (key == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            break;
        }
        k[n++] = (keyed){key, name};
    }
    if (st == STAPEL_OK)
        qsort(k, n, sizeof *k, cmp_keyed);
    size_t n_pairs = 0;
    for (size_t i = 1; i < n && st == STAPEL_OK; i++) {
        if (strcmp(k[i].key, k[i - 1].key) != 0 || strcmp(k[i].name, k[i - 1].name) == 0)
            continue;
        if (n_pairs++ >= 3)
            continue;
        char *a = stapel_zone_quote_text(k[i - 1].name), *b = stapel_zone_quote_text(k[i].name);
        if (a == NULL || b == NULL)
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        else
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "%s: zone names %s and %s differ only in case or spaces; they are kept "
                        "apart as two zones",
                        source, a, b);
        free(a);
        free(b);
    }
    if (n_pairs > 3 && st == STAPEL_OK)
        stapel__log(ctx, STAPEL_LOG_WARN, "%s: %zu more pairs of zone names differ only in case "
                    "or spaces", source, n_pairs - 3);
    for (size_t i = 0; i < n; i++)
        free(k[i].key);
    free(k);
    return st;
}

/* A claim layer that lies wholly outside the extent of the provinces counts
 * in no province and not in the summary's total row: the province layer is
 * of another part of the country, or one of the two layers lies elsewhere
 * than it should (a wrong CRS, or shifted coordinates). Either way the user
 * should hear of it. */
static void warn_outside_provinces(stapel_ctx *ctx, const stapel__input *in,
                                   const stapel_job *job)
{
    double p[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
    for (size_t i = in->n_claims; i < in->n_claims + in->n_provinces; i++) {
        const stapel__item *it = &in->items[i];
        p[0] = fmin(p[0], it->xmin);
        p[1] = fmin(p[1], it->ymin);
        p[2] = fmax(p[2], it->xmax);
        p[3] = fmax(p[3], it->ymax);
    }
    for (size_t i = 0; i < job->n_layers; i++) {
        const stapel__layer *l = &job->layers[i];
        const double *e = l->ext;
        if (e[0] > e[2] || p[0] > p[2]) /* nothing read */
            continue;
        if (e[2] < p[0] || e[0] > p[2] || e[3] < p[1] || e[1] > p[3])
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "%s: layer %s lies wholly outside the provinces (%s): its claims count "
                        "in no province nor in the summary's total; are both layers of the same "
                        "region, and in the CRS they state?",
                        l->source, l->layer_name, job->zones[STAPEL_ZONE_PROVINCE].source);
    }
}

stapel_status stapel__input_read(stapel_ctx *ctx, stapel__input *in, stapel_job *job,
                                 const char *out_path, unsigned out_flags)
{
    stapel_status st = STAPEL_OK;
    stapel__gdal_push(ctx);
    stapel__proj_network_reset();
    OGRSpatialReferenceH target = OSRNewSpatialReference(NULL);
    if (target == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    CPLErrorReset();
    if (OSRSetFromUserInput(target, job->t_srs) != OGRERR_NONE) {
        st = stapel__fail(ctx, STAPEL_EINVAL, "unknown target CRS '%s' (--t_srs): %s", job->t_srs,
                          crs_unread(job->t_srs));
        goto done;
    }
    OSRSetAxisMappingStrategy(target, OAMS_TRADITIONAL_GIS_ORDER);
    st = check_target(ctx, target, job->t_srs);
    if (st == STAPEL_OK && job->s_srs != NULL)
        st = check_source_srs(ctx, job->s_srs, OSRIsLocal(target));
    if (st != STAPEL_OK)
        goto done;
    double grid = job->opts.grid > 0 ? job->opts.grid : 0.001;
    in->grid = grid;
    char *wkt = NULL;
    if (OSRExportToWkt(target, &wkt) != OGRERR_NONE) {
        st = stapel__fail(ctx, STAPEL_ECRS, "cannot describe the target CRS '%s'", job->t_srs);
        goto done;
    }
    in->crs_wkt = stapel__strdup(wkt);
    CPLFree(wkt);
    if (in->crs_wkt == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }

    /* stapel_job_new refused a grid the CRS cannot take (check_grid), so
     * the box below is not cut to the grid's range. */
    sane_box sane = sane_bounds(target, grid);
    atomic_uint_least64_t n_done = 0; /* features read, for the progress */
    scale_probe probe = {0};          /* made once, for both distortion checks */
    /* Every source is opened and checked first, then the claim layers are
     * read on worker threads, each into its own list, and joined in layer
     * order; their warnings are given here, in order. The zones come last. */
    size_t n_src = job->n_layers + 2;
    claim_read cr = {job, keep_open(n_src), NULL, NULL, NULL, &sane, grid, in->crs_wkt,
                     OSRIsLocal(target), NULL};
    cr.specs = calloc(n_src, sizeof *cr.specs);
    cr.ops = calloc(n_src, sizeof *cr.ops);
    cr.parts = calloc(job->n_layers + 1, sizeof *cr.parts);
    cr.held = calloc(n_src + job->n_layers, sizeof *cr.held);
    if (cr.specs == NULL || cr.ops == NULL || cr.parts == NULL || cr.held == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto read_done;
    }
    for (size_t i = 0; i < job->n_layers; i++) {
        bool shared = false;
        for (size_t k = 0; k < job->n_layers; k++)
            shared = shared || (k != i && strcmp(job->layers[k].theme, job->layers[i].theme) == 0);
        cr.specs[i] = (read_spec){.source = job->layers[i].source,
                                  .where = job->layers[i].where,
                                  .group = (uint32_t)i,
                                  .rec = &job->layers[i],
                                  .theme_shared = shared,
                                  .done = &n_done,
                                  .threads = job->opts.threads};
        cr.parts[i].grid = grid;
    }
    for (int k = 0; k < 2; k++)
        cr.specs[job->n_layers + (size_t)k] =
            (read_spec){.source = job->zones[k].source,
                        .field = job->zones[k].field,
                        .done = &n_done,
                        .kind = k == STAPEL_ZONE_PROVINCE ? "province" : "NOVEX area",
                        .zone_kind = k};

    st = stapel__parallel_for(ctx, n_src, job->opts.threads, NULL, open_source, &cr);
    for (size_t i = 0; i < n_src; i++)
        stapel__log_release(ctx, &cr.held[i]);
    /* ogr2ogr's -s_srs overrides the source's CRS; stapel's only fills in a
     * missing one. Whoever gave it to correct a wrong CRS must hear that
     * it changed nothing. */
    bool s_srs_used = false;
    for (size_t i = 0; i < n_src && st == STAPEL_OK; i++)
        s_srs_used = s_srs_used || (cr.specs[i].source != NULL && cr.ops[i].srs_wkt == NULL);
    if (st == STAPEL_OK && job->s_srs != NULL && !s_srs_used)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "--s_srs %s is not used: every source states a CRS of its own, and "
                    "--s_srs is only for sources without one (or with a local one); to correct "
                    "a wrong CRS, give the source the right one, e.g. ogr2ogr -a_srs %s "
                    "fixed.gpkg SOURCE",
                    job->s_srs, job->s_srs);
    /* A mistake in the sources (a layer, a filter) or in --t_srs is told
     * before an output that exists: both come before any reading. */
    if (st == STAPEL_OK)
        st = check_local_target(ctx, &cr, n_src, target);
    if (st == STAPEL_OK)
        st = check_distortion_early(ctx, in, job, cr.ops, target, &sane, &probe);
    /* An output that is one of the inputs would replace it. */
    for (size_t i = 0; i < job->n_layers && st == STAPEL_OK && out_path != NULL; i++) {
        char what[128];
        snprintf(what, sizeof what, "the source of layer %s", job->layers[i].theme);
        st = stapel__output_not_input(ctx, out_path, what, job->layers[i].source);
    }
    for (int k = 0; k < 2 && st == STAPEL_OK && out_path != NULL; k++)
        st = stapel__output_not_input(
            ctx, out_path, k == STAPEL_ZONE_PROVINCE ? "the province source" : "the NOVEX source",
            job->zones[k].source);
    if (st == STAPEL_OK && out_path != NULL && job->rules != NULL && !job->rules->builtin)
        st = stapel__output_not_input(ctx, out_path, "the rules file", job->rules->source);
    if (st == STAPEL_OK && out_path != NULL)
        st = stapel__output_check(ctx, out_path, out_flags);
    /* One progress for the whole read, claims and zones: 1 when all are
     * read (the parallel_for gives none of its own). */
    uint64_t all = 0;
    for (size_t i = 0; i < n_src; i++)
        all += cr.ops[i].total > 0 ? (uint64_t)cr.ops[i].total : 0;
    for (size_t i = 0; i < n_src; i++)
        cr.specs[i].all = all;
    if (st == STAPEL_OK)
        st = stapel__parallel_for(ctx, job->n_layers, job->opts.threads, NULL, read_claim_layer,
                                  &cr);
    for (size_t i = 0; i < job->n_layers; i++) {
        stapel__input *part = &cr.parts[i];
        stapel__log_release(ctx, &cr.held[n_src + i]);
        if (st == STAPEL_OK) {
            report_layer(ctx, &job->layers[i]);
            if (in->n_items + part->n_items > in->cap_items) {
                size_t cap = in->n_items + part->n_items + 1024;
                stapel__item *d = realloc(in->items, cap * sizeof *d);
                if (d == NULL) {
                    st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                } else {
                    in->items = d;
                    in->cap_items = cap;
                }
            }
            if (st == STAPEL_OK && part->n_items > 0) {
                memcpy(in->items + in->n_items, part->items, part->n_items * sizeof *part->items);
                in->n_items += part->n_items;
                part->n_items = 0;
            }
        }
        stapel__input_clear(ctx->geos, part);
    }
    in->n_claims = in->n_items;
    if (st == STAPEL_OK && in->n_claims > 0)
        st = check_distortion(ctx, in, job, &probe, &sane);
    for (int k = 0; k < 2 && st == STAPEL_OK; k++) {
        size_t z = job->n_layers + (size_t)k;
        if (cr.specs[z].source == NULL)
            continue;
        size_t before = in->n_items;
        st = read_layer(ctx, in, &cr.specs[z], &cr.ops[z], target, &sane, job->s_srs, grid);
        if (k == STAPEL_ZONE_PROVINCE)
            in->n_provinces = in->n_items - before;
        else
            in->n_novex = in->n_items - before;
    }
    char net[STAPEL_MSG_MAX];
    if (st == STAPEL_OK && stapel__proj_network_failed(net, sizeof net))
        st = stapel__fail(ctx, STAPEL_ECRS,
                          "PROJ could not fetch a transformation grid over the network, as "
                          "PROJ_NETWORK=ON in the environment has it do (%s); without the grid "
                          "it moves points between the datums not at all, and claims land up to "
                          "some 100 m off (from ETRS89 or WGS 84 to RD): let PROJ reach the "
                          "server, install the grid it names (with PROJ's projsync), or "
                          "unset PROJ_NETWORK",
                          net);
    if (st == STAPEL_OK)
        stapel__progress(ctx, "reading", 1.0);
    /* Without claims the zones' areas still go into the summary. */
    if (st == STAPEL_OK && in->n_claims == 0)
        st = check_distortion(ctx, in, job, &probe, &sane);
read_done:
    probe_free(&probe);
    for (size_t i = 0; cr.ops != NULL && i < n_src; i++) {
        layer_close(&cr.ops[i]);
        stapel__gdal_seen_free(&cr.ops[i].seen);
    }
    free(cr.ops);
    free(cr.specs);
    free(cr.parts);
    for (size_t i = 0; cr.held != NULL && i < n_src + job->n_layers; i++)
        stapel__buf_free(&cr.held[i]);
    free(cr.held);
    if (st == STAPEL_OK && in->n_provinces > 0)
        warn_outside_provinces(ctx, in, job);
    if (st == STAPEL_OK && in->n_provinces + in->n_bare_zones[STAPEL_ZONE_PROVINCE] > 1)
        st = warn_similar_names(ctx, in, in->n_claims, in->n_claims + in->n_provinces,
                                STAPEL_ZONE_PROVINCE, job->zones[STAPEL_ZONE_PROVINCE].source);
    if (st == STAPEL_OK && in->n_novex + in->n_bare_zones[STAPEL_ZONE_NOVEX] > 1)
        st = warn_similar_names(ctx, in, in->n_claims + in->n_provinces, in->n_items,
                                STAPEL_ZONE_NOVEX, job->zones[STAPEL_ZONE_NOVEX].source);
    if (st == STAPEL_OK)
        st = zone_parts_join(ctx, in, in->n_claims, in->n_claims + in->n_provinces);
    if (st == STAPEL_OK)
        st = zone_parts_join(ctx, in, in->n_claims + in->n_provinces, in->n_items);
done:
    if (target != NULL)
        OSRDestroySpatialReference(target);
    stapel__gdal_pop();
    return st;
}

void stapel__input_clear(GEOSContextHandle_t h, stapel__input *in)
{
    for (size_t i = 0; i < in->n_items; i++) {
        if (in->items[i].geom != NULL)
            GEOSGeom_destroy_r(h, in->items[i].geom);
        free(in->items[i].pts);
        free(in->items[i].ring_end);
    }
    free(in->items);
    for (size_t i = 0; i < in->n_zone_names; i++)
        free(in->zone_names[i]);
    free(in->zone_names);
    stapel__strmap_free(&in->zone_index);
    free(in->zone_union_area);
    free(in->bare_zones[0]);
    free(in->bare_zones[1]);
    free(in->crs_wkt);
    memset(in, 0, sizeof *in);
}
