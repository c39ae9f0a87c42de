/*
 * render.c - the stack map as a picture (PNG, SVG or PDF) drawn with cairo,
 * in the manner of the Flevoland stapelkaart: coloured faces, zone outlines
 * with labels, a legend with the area per class, a scale bar, a north arrow,
 * a title and a footer.
 *
 * Invariants:
 *  - Colours come from the schemes of style.c, the same table the QGIS styles
 *    are generated from.
 *  - Faces are streamed: read from the GeoPackage one at a time, drawn and
 *    freed, so memory stays flat however many faces there are. Only zone
 *    labels (a few dozen) are kept, to place them so they avoid each other.
 *  - The map frame has the aspect ratio of the shown extent in EPSG:28992,
 *    and one map unit is the same length across and up.
 *  - The picture appears at its path only when complete: it is written to a
 *    temporary file in the same directory and renamed; without overwrite, a
 *    file that appeared at the path meanwhile is kept (stapel__publish).
 */
#include "pipeline.h"
#include "source.h"
#include "style.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <cpl_string.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#define RD_EPSG 28992
#define MAX_PIXELS 300000000.0 /* width x height of a PNG, about 1.2 GB of memory */
#define MAX_VECTOR_SIDE 1000000.0 /* the height of an SVG, in points */
#define MAX_PDF_SIDE 14400.0      /* points: 200 inches, the largest page Acrobat shows whole */
#define FONT "DejaVu Sans"
#define MIN_OUTLINED 6.0 /* faces narrower than this many pixels get no outline */

typedef enum picture_format {
    FORMAT_PNG,
    FORMAT_SVG,
    FORMAT_PDF,
} picture_format;

/* Where a zone's label may go (label_point). */
typedef struct place {
    double x, y; /* anchor on the picture */
    double area; /* of the zone's part it sits in, as shown */
    OGRGeometryH cut; /* that part in EPSG:28992 when the map shows only some of
                       * it, at its edge (NULL: all of it is shown) */
    bool outside;     /* with --zone, of a zone shown mostly outside the zone of
                       * --zone (a neighbour): it is drawn wholly outside that
                       * zone, or not at all */
    /* A neighbour's part as the map shows it to its very edge (strip, NULL
     * when that is all of the zone) and an anchor in the middle of it
     * outside the zone of --zone (sx, sy): the room its label is given
     * when cut has none for it (the strip beside a square zone, say). */
    OGRGeometryH strip;
    double sx, sy;
} place;

typedef struct label {
    char *text;
    place at;
    stapel_zone_kind kind;
    bool selected;
} label;

typedef struct zone_layer {
    OGRLayerH layer; /* NULL when the dataset has none */
    int name_field;  /* the first text field: the name field stapel wrote */
} zone_layer;

/* The file the picture is written to, and the first error in writing it. */
typedef struct file_sink {
    FILE *f;
    const stapel_ctx *ctx;
    int err; /* errno of a failed write, 0 */
} file_sink;

#define UNCLASSED_TOLD 3 /* values outside the legend the warning names */
#define BOXES_TOLD 3     /* characters without a glyph the warning names */

typedef struct renderer {
    stapel_ctx *ctx;
    const char *gpkg;
    const char *path; /* the picture asked for */
    const stapel_render_opts *opts;
    const stapel__scheme *scheme;
    picture_format format;
    GDALDatasetH ds;
    OGRLayerH stack;
    int f_class, f_area, f_themes, f_province, f_novex;
    zone_layer zones[2];
    OGRCoordinateTransformationH to_rd, from_rd; /* NULL when the data is in RD already */
    char crs_text[256];

    /* the zone cropped to, in RD; its name as stored once found */
    const char *zone;
    char *zone_asked; /* the name asked for with its ';' made ',', as the stack stores it */
    char *zone_stored;
    stapel_zone_hint zone_near; /* the zone the name asked for most likely meant */
    stapel_zone_kind zone_kind;
    OGRGeometryH zone_geom;

    /* layout */
    double u;         /* layout unit: 1/1000 of the width */
    double px_per_mm; /* the width stands for an A4 landscape page, 297 mm */
    int width, height;
    double xmin, ymin, xmax, ymax; /* shown extent, RD */
    double scale;                  /* picture units per metre */
    double map_x, map_y, map_w, map_h;
    double panel_x, panel_y, panel_w;
    double legend_h;

    cairo_surface_t *surface;
    file_sink sink; /* the temporary file */
    cairo_t *cr;
    double *xs, *ys; /* a ring's coordinates, reused */
    size_t cap_pts;

    double class_m2[16];
    int64_t n_faces;
    /* Faces drawn in grey: without a value of the field coloured (NULL), and
     * with one the legend has no class for, the first few such values told
     * as the warning gives them. */
    int64_t n_no_class, n_unclassed;
    char *unclassed[UNCLASSED_TOLD];
    size_t n_unclassed_told;
    bool more_unclassed;             /* another value left out */
    char *themes[STAPEL_MAX_THEMES]; /* the first themes in sort order, for the footer */
    size_t n_themes;
    bool more_themes; /* a theme sorting after them was left out */
    label *labels;
    size_t n_labels, cap_labels;
    size_t n_labels_drawn;
    /* Characters of the data drawn (zone names, themes, the title) that the
     * font has no glyph for: the first few, each with the text it is in, as
     * the warning gives them (note_boxes). */
    uint32_t boxes[BOXES_TOLD];
    size_t n_boxes;
    bool more_boxes; /* another such character left out */
    stapel__buf boxes_told;
} renderer;

/* ---- small helpers ------------------------------------------------------ */

static stapel_status nomem(renderer *r)
{
    return stapel__fail(r->ctx, STAPEL_ENOMEM, "out of memory while rendering '%s'", r->gpkg);
}

static void set_rgba(cairo_t *cr, stapel__rgba c, double alpha)
{
    cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha * c.a / 255.0);
}

static double wx(const renderer *r, double x)
{
    return r->map_x + (x - r->xmin) * r->scale;
}

static double wy(const renderer *r, double y)
{
    return r->map_y + (r->ymax - y) * r->scale;
}

/* "1.234,5": Dutch grouping and decimal comma, with decimals digits. */
static void format_nl(char *buf, size_t size, double v, int decimals)
{
    char raw[64];
    snprintf(raw, sizeof raw, "%.*f", decimals, fabs(v));
    const char *dot = strchr(raw, '.');
    size_t int_len = dot != NULL ? (size_t)(dot - raw) : strlen(raw);
    size_t o = 0;
    if (v < 0 && o + 1 < size)
        buf[o++] = '-';
    for (size_t i = 0; i < int_len && o + 1 < size; i++) {
        if (i > 0 && (int_len - i) % 3 == 0 && o + 1 < size)
            buf[o++] = '.';
        buf[o++] = raw[i];
    }
    if (dot != NULL && o + 1 < size) {
        buf[o++] = ',';
        for (const char *p = dot + 1; *p != '\0' && o + 1 < size; p++)
            buf[o++] = *p;
    }
    buf[o < size ? o : size - 1] = '\0';
}

/* An area for the legend: "1.234 km²", "12,3 km²", "0,25 km²", "< 0,01 km²" or
 * "0 km²". */
static void format_km2(char *buf, size_t size, double m2)
{
    double km2 = m2 / 1e6;
    bool tiny = km2 > 0.0 && km2 < 0.005;
    char num[64] = "0";
    /* The decimals by the value as rounded: 0,996 km² reads "1,0 km²" as
     * 1 km² does (not "1,00"), and 999,96 km² "1.000 km²" (not "1.000,0"). */
    int decimals = round(km2 * 100) < 100 ? 2 : (round(km2 * 10) < 10000 ? 1 : 0);
    if (km2 >= 0.005)
        format_nl(num, sizeof num, km2, decimals);
    int n = snprintf(buf, size, "%s km\xc2\xb2", tiny ? "< 0,01" : num);
    if (n < 0)
        buf[0] = '\0';
}

static stapel_status format_of(stapel_ctx *ctx, const char *path, picture_format *out)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (dot == NULL || (slash != NULL && dot < slash))
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "'%s': no picture format in the name; end it in .png, .svg or .pdf",
                            path);
    if (stapel__ascii_case_equal(dot, ".png"))
        *out = FORMAT_PNG;
    else if (stapel__ascii_case_equal(dot, ".svg"))
        *out = FORMAT_SVG;
    else if (stapel__ascii_case_equal(dot, ".pdf"))
        *out = FORMAT_PDF;
    else
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "'%s': unsupported picture format '%s'; use .png, .svg or .pdf", path,
                            dot);
    return STAPEL_OK;
}

/* ---- opening ------------------------------------------------------------ */

static int first_text_field(OGRLayerH l)
{
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    for (int i = 0; i < OGR_FD_GetFieldCount(d); i++)
        if (OGR_Fld_GetType(OGR_FD_GetFieldDefn(d, i)) == OFTString)
            return i;
    return -1;
}

static stapel_status open_layers(renderer *r)
{
    stapel_status st = stapel__dataset_open(r->ctx, &r->ds, r->gpkg);
    if (st != STAPEL_OK)
        return st;
    r->stack = GDALDatasetGetLayerByName(r->ds, "stack");
    if (r->stack == NULL)
        return stapel__fail(r->ctx, STAPEL_EDATA,
                            "'%s' has no layer 'stack'; render a GeoPackage written by "
                            "'stapel stack'",
                            r->gpkg);
    /* A layer of that name in another GeoPackage: a table without
     * geometry was "empty; nothing to draw", and points or lines were drawn
     * as nothing ("6 faces drawn"). */
    OGRwkbGeometryType gt = wkbFlatten(OGR_L_GetGeomType(r->stack));
    if (gt == wkbNone)
        return stapel__fail(r->ctx, STAPEL_EDATA,
                            "%s: layer stack has no geometry; render a GeoPackage written by "
                            "'stapel stack'",
                            r->gpkg);
    if (gt != wkbUnknown && gt != wkbGeometryCollection && !OGR_GT_IsSurface(gt) &&
        !OGR_GT_IsSubClassOf(gt, wkbMultiSurface)) /* those two: each feature is checked */
        return stapel__fail(r->ctx, STAPEL_EDATA,
                            "%s: layer stack holds %s geometries, not polygons; render a "
                            "GeoPackage written by 'stapel stack'",
                            r->gpkg, OGRGeometryTypeToName(gt));
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(r->stack);
    r->f_class = OGR_FD_GetFieldIndex(d, r->scheme->field);
    if (r->f_class < 0)
        return stapel__fail(r->ctx, STAPEL_EDATA,
                            "%s: layer stack has no field '%s'; render a GeoPackage written by "
                            "'stapel stack'",
                            r->gpkg, r->scheme->field);
    r->f_area = OGR_FD_GetFieldIndex(d, "area_m2");
    r->f_themes = OGR_FD_GetFieldIndex(d, "themes");
    r->f_province = OGR_FD_GetFieldIndex(d, "province");
    r->f_novex = OGR_FD_GetFieldIndex(d, "novex");
    const char *zone_names[2] = {
        [STAPEL_ZONE_PROVINCE] = "provinces", [STAPEL_ZONE_NOVEX] = "novex"};
    for (int k = 0; k < 2; k++) {
        OGRLayerH l = GDALDatasetGetLayerByName(r->ds, zone_names[k]);
        int f = l != NULL ? first_text_field(l) : -1;
        r->zones[k].layer = f >= 0 ? l : NULL;
        r->zones[k].name_field = f;
    }
    return STAPEL_OK;
}

/* Describe the CRS for the footer and set up a transformation to RD when the
 * data is in another CRS. */
static stapel_status setup_crs(renderer *r)
{
    /* NULL also for a GeoPackage's "Undefined geographic/Cartesian SRS"
     * placeholders (srs_id 0 and -1), which GDAL would transform as if
     * they were real. */
    OGRSpatialReferenceH srs = stapel__layer_srs(r->stack);
    if (srs == NULL) {
        snprintf(r->crs_text, sizeof r->crs_text, "CRS: onbekend (aangenomen EPSG:%d)", RD_EPSG);
        return STAPEL_OK;
    }
    const char *auth = OSRGetAuthorityName(srs, NULL);
    const char *code = OSRGetAuthorityCode(srs, NULL);
    const char *name = OSRGetName(srs);
    if (auth != NULL && code != NULL && strcmp(auth, "EPSG") == 0 && atoi(code) == RD_EPSG) {
        snprintf(r->crs_text, sizeof r->crs_text, "CRS: EPSG:%d (%s)", RD_EPSG,
                 name != NULL ? name : "Amersfoort / RD New");
        return STAPEL_OK;
    }
    OGRSpatialReferenceH rd = OSRNewSpatialReference(NULL);
    OGRSpatialReferenceH src = OSRClone(srs);
    stapel_status st = STAPEL_OK;
    if (rd == NULL || src == NULL || OSRImportFromEPSG(rd, RD_EPSG) != OGRERR_NONE) {
        st = stapel__fail(r->ctx, STAPEL_ECRS, "cannot set up EPSG:%d for drawing", RD_EPSG);
        goto done;
    }
    OSRSetAxisMappingStrategy(rd, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    r->to_rd = OCTNewCoordinateTransformation(src, rd);
    r->from_rd = OCTNewCoordinateTransformation(rd, src);
    if (r->to_rd == NULL || r->from_rd == NULL) {
        st = stapel__fail(r->ctx, STAPEL_ECRS,
                          "%s: cannot transform the CRS of layer stack (%s) "
                          "to EPSG:%d: %s",
                          r->gpkg, name != NULL ? name : "unnamed", RD_EPSG,
                          stapel__gdal_error("no transformation"));
        goto done;
    }
    if (auth != NULL && code != NULL)
        snprintf(r->crs_text, sizeof r->crs_text,
                 "CRS: EPSG:%d (Amersfoort / RD New), "
                 "omgezet uit %s:%s",
                 RD_EPSG, auth, code);
    else {
        /* A CRS given as a PROJ string is named "unknown": show its
         * projection ("+proj=laea"), which fits in the footer. */
        char *proj = NULL;
        bool unnamed = name == NULL || EQUAL(name, "unknown");
        if (unnamed && OSRExportToProj4(src, &proj) == OGRERR_NONE && proj != NULL &&
            proj[0] != '\0') {
            proj[strcspn(proj, " ")] = '\0';
            name = proj;
        } else if (unnamed) {
            name = "een onbekend CRS";
        }
        snprintf(r->crs_text, sizeof r->crs_text,
                 "CRS: EPSG:%d (Amersfoort / RD New), "
                 "omgezet uit %s",
                 RD_EPSG, name);
        CPLFree(proj);
    }
done:
    if (rd != NULL)
        OSRDestroySpatialReference(rd);
    if (src != NULL)
        OSRDestroySpatialReference(src);
    return st;
}

/* Names for a title, "a, b, c", each once, by kind (a
 * province and a NOVEX area may share a name). Whether a name is on the
 * list is told by a set, not by the text: a name may itself hold ", ", and
 * 'Oosterwold' is then not on a list that holds 'Almere, Oosterwold'. */
typedef struct name_list {
    stapel__buf text;
    stapel__strmap seen[2]; /* by stapel_zone_kind */
} name_list;

static bool name_listed(const name_list *l, int kind, const char *name)
{
    return stapel__strmap_find(&l->seen[kind], name) != UINT32_MAX;
}

/* Put entry (what the text shows of name) on l, unless name is on it;
 * false when out of memory. */
static bool name_add(name_list *l, int kind, const char *name, const char *entry)
{
    bool added = false;
    if (stapel__strmap_get(&l->seen[kind], name, 0, &added) == UINT32_MAX)
        return false;
    return !added || stapel__buf_printf(&l->text, "%s%s", l->text.len > 0 ? ", " : "", entry);
}

static void name_list_free(name_list *l)
{
    stapel__buf_free(&l->text);
    stapel__strmap_free(&l->seen[0]);
    stapel__strmap_free(&l->seen[1]);
}

/* Add the polygons of g to the MultiPolygon multi; false when out of memory. */
static bool add_parts(OGRGeometryH multi, OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon)
        return OGR_G_AddGeometry(multi, g) == OGRERR_NONE;
    if (t == wkbMultiPolygon || t == wkbGeometryCollection)
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            if (!add_parts(multi, OGR_G_GetGeometryRef(g, i)))
                return false;
    return true;
}

/* The union of the polygons of a zone's features (a GeometryCollection),
 * when it has several: they may overlap, and the veil, filled even-odd,
 * would grey out where they do. NULL when there is one, or when out of
 * memory or GEOS fails (parts are then drawn as they are). */
static OGRGeometryH zone_union(OGRGeometryH parts)
{
    OGRGeometryH multi = OGR_G_CreateGeometry(wkbMultiPolygon);
    OGRGeometryH u = NULL;
    if (multi != NULL && add_parts(multi, parts) && OGR_G_GetGeometryCount(multi) > 1)
        u = OGR_G_UnionCascaded(multi);
    if (multi != NULL)
        OGR_G_DestroyGeometry(multi);
    return u;
}

/* The features of zone layer k that --zone want names (as
 * stapel_zone_want_type() reads it: "province:NAME" is a province, always),
 * their geometries (in RD) added to *geom (created on the first) and
 * counted in *n. The other names go on zones, the valid zones. */
static stapel_status zone_scan(renderer *r, int k, const char *want, OGRGeometryH *geom, size_t *n,
                               stapel_zone_list *zones)
{
    static const char *types[2] = {
        [STAPEL_ZONE_PROVINCE] = "province", [STAPEL_ZONE_NOVEX] = "novex"};
    OGRLayerH l = r->zones[k].layer;
    if (l == NULL)
        return STAPEL_OK;
    const char *name = NULL;
    const char *type = stapel_zone_want_type(want, &name);
    bool of_type = type == NULL || strcmp(type, types[k]) == 0;
    OGR_L_SetSpatialFilter(l, NULL);
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    int64_t n_read = 0;
    stapel_status st = STAPEL_OK;
    while ((f = stapel__next_feature(r->ctx, l, r->gpkg, &n_read, &st)) != NULL) {
        const char *fname = OGR_F_IsFieldSetAndNotNull(f, r->zones[k].name_field)
                                ? OGR_F_GetFieldAsString(f, r->zones[k].name_field)
                                : NULL;
        bool ok = true;
        if (fname != NULL && of_type && stapel_zone_name_equal(fname, name)) {
            (*n)++;
            /* The faces' tags spell the name as stored, which may write
             * its accents otherwise than the name asked for. */
            if (r->zone_stored == NULL && (r->zone_stored = stapel__strdup(fname)) == NULL)
                ok = false;
            OGRGeometryH g = OGR_F_StealGeometry(f);
            if (g != NULL && r->to_rd != NULL && OGR_G_Transform(g, r->to_rd) != OGRERR_NONE) {
                OGR_G_DestroyGeometry(g);
                g = NULL;
            }
            if (g != NULL) {
                if (*geom == NULL)
                    *geom = OGR_G_CreateGeometry(wkbGeometryCollection);
                OGR_G_AddGeometryDirectly(*geom, g);
            }
        } else if (fname != NULL) {
            ok = stapel_zone_list_add(zones, types[k], fname, true);
        }
        OGR_F_Destroy(f);
        if (!ok)
            return nomem(r);
    }
    return st;
}

/* Whether zone_summary lists a province or NOVEX area that --zone name
 * names and the zone layers do not hold: one none of whose features had
 * area (FORMAT.md). As in zone_scan, "province:NAME" and "novex:NAME" name
 * a zone of that kind, always, and a name's accents may be written either
 * way. The zones it lists with area 0 are zones too, if
 * with nothing to draw: they go on zones, the valid zones, marked so. */
static stapel_status zones_without_area(renderer *r, const char *name, bool *found,
                                        stapel_zone_list *zones)
{
    *found = false;
    OGRLayerH l = GDALDatasetGetLayerByName(r->ds, "zone_summary");
    if (l == NULL)
        return STAPEL_OK;
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    int f_type = OGR_FD_GetFieldIndex(d, "zone_type"), f_zone = OGR_FD_GetFieldIndex(d, "zone"),
        f_area = OGR_FD_GetFieldIndex(d, "area_m2");
    if (f_type < 0 || f_zone < 0 || f_area < 0)
        return STAPEL_OK;
    static const char *const kinds[] = {"province", "novex"};
    bool ok = true;
    OGRFeatureH f;
    OGR_L_ResetReading(l);
    while (ok && (f = OGR_L_GetNextFeature(l)) != NULL) {
        const char *type = OGR_F_GetFieldAsString(f, f_type);
        const char *zone = OGR_F_GetFieldAsString(f, f_zone);
        int k = strcmp(type, kinds[0]) == 0 ? 0 : strcmp(type, kinds[1]) == 0 ? 1 : -1;
        if (k < 0) { /* the total */
            OGR_F_Destroy(f);
            continue;
        }
        if (stapel_zone_wanted(name, type, zone))
            *found = true;
        /* A zone with area is listed by zone_scan, as the zone layers name
         * it (and is kept so). */
        if (OGR_F_GetFieldAsDouble(f, f_area) <= 0)
            ok = stapel_zone_list_add(zones, type, zone, false);
        OGR_F_Destroy(f);
    }
    OGR_L_ResetReading(l);
    return ok ? STAPEL_OK : nomem(r);
}

/* Whether a --zone asks for summary's total row ("total" or "total:...",
 * in any case). */
static bool asks_total(const char *zone)
{
    return stapel__ascii_ncase_equal(zone, "total", 5) && (zone[5] == '\0' || zone[5] == ':');
}

/* Find the zone r->zone names and keep its geometry (all features of that
 * name) in RD. A name found in one zone layer is that zone; a name that is
 * both a province and a NOVEX area must say which, as "province:NAME" or
 * "novex:NAME", the prefix in any case. Such a prefix always names the
 * type (stapel_zone_want_type()), as summary takes it: a province named
 * 'province:X' is 'province:province:X'. */
static stapel_status find_zone(renderer *r)
{
    /* The stack writes a ';' in a zone name as ',' (';' joins the names of
     * overlapping zones in a face's tag), so the name as delivered finds
     * the zone too. */
    if (strchr(r->zone, ';') != NULL) {
        if ((r->zone_asked = stapel__strdup(r->zone)) == NULL)
            return nomem(r);
        for (char *p = r->zone_asked; (p = strchr(p, ';')) != NULL; p++)
            *p = ',';
        r->zone = r->zone_asked;
    }
    stapel_zone_list *zones = stapel_zone_list_new();
    stapel__buf names = {0};
    OGRGeometryH geom[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    stapel_status st = zones != NULL ? STAPEL_OK : nomem(r);
    for (int k = 0; k < 2 && st == STAPEL_OK; k++)
        st = zone_scan(r, k, r->zone, &geom[k], &n[k], zones);
    /* The value given, quoted as the zone lists quote a name: an
     * apostrophe in it would end 'it's' early. */
    stapel__buf asked = {0};
    if (st == STAPEL_OK && !stapel__zone_quote(&asked, NULL, r->zone))
        st = nomem(r);
    if (st == STAPEL_OK && n[0] > 0 && n[1] > 0) {
        stapel__buf typed[2] = {{0}, {0}};
        st = stapel__zone_quote(&typed[0], "province", r->zone) &&
                     stapel__zone_quote(&typed[1], "novex", r->zone)
                 ? stapel__fail(r->ctx, STAPEL_EINVAL,
                                "%s is both a province and a NOVEX area in '%s'; give --zone %s "
                                "or --zone %s",
                                asked.data, r->gpkg, typed[0].data, typed[1].data)
                 : nomem(r);
        stapel__buf_free(&typed[0]);
        stapel__buf_free(&typed[1]);
    }
    bool without_area = false;
    if (st == STAPEL_OK && n[0] == 0 && n[1] == 0)
        st = zones_without_area(r, r->zone, &without_area, zones);
    /* The hint among all valid zones, those without area too: one of them
     * may be it. It names its type where the bare name would not do
     * (typed): a name starting with a type's prefix, or one a zone of the
     * other type has too (refused above as both). */
    bool unknown = st == STAPEL_OK && n[0] == 0 && n[1] == 0 && !without_area;
    if (unknown && !stapel_zone_list_hint(zones, r->zone, &r->zone_near))
        st = nomem(r);
    if (st == STAPEL_OK && n[0] == 0 && n[1] == 0 && without_area) {
        st = stapel__fail(r->ctx, STAPEL_EDATA,
                          "zone %s in '%s' has no area: none of its features had any when it "
                          "was stacked (zone_summary lists it with area 0); there is nothing to "
                          "draw",
                          asked.data, r->gpkg);
    } else if (st == STAPEL_OK && unknown) {
        /* As summary says it (stapel_zone_hint_text, stapel_zone_list_text):
         * the hint as --zone takes it, its kind; then the valid zones, as
         * many as the message holds. 'total' is a row
         * of stapel summary, not a zone: the map of the whole area is the
         * one without --zone, also when a zone comes near ('total:total'
         * near a province 'Total'). */
        const char *tail = asks_total(r->zone) ? "; the whole area is drawn without --zone" : "";
        char *near = stapel_zone_hint_text(&r->zone_near);
        bool ok =
            near != NULL &&
            (r->zone_near.rank != 0
                 ? stapel__buf_printf(&names,
                                      "unknown zone %s in '%s'; did you mean %s? %s; "
                                      "valid zones: ",
                                      asked.data, r->gpkg, near,
                                      stapel_zone_hint_note(&r->zone_near))
                 : stapel__buf_printf(&names, "unknown zone %s in '%s'; valid zones: ", asked.data,
                                      r->gpkg));
        free(near);
        /* as many as a message holds */
        size_t used = names.len + strlen(tail);
        char *list = ok ? stapel_zone_list_text(
                              zones, STAPEL_MSG_MAX - 1 > used ? STAPEL_MSG_MAX - 1 - used : 0)
                        : NULL;
        ok = list != NULL && stapel__buf_puts(&names, list) && stapel__buf_puts(&names, tail);
        free(list);
        st = ok ? stapel__fail(r->ctx, STAPEL_EINVAL, "%s", names.data) : nomem(r);
    }
    if (st == STAPEL_OK) {
        int k = n[0] > 0 ? STAPEL_ZONE_PROVINCE : STAPEL_ZONE_NOVEX;
        r->zone = r->zone_stored;
        r->zone_kind = (stapel_zone_kind)k;
        r->zone_geom = geom[k];
        geom[k] = NULL;
        OGRGeometryH u = r->zone_geom != NULL ? zone_union(r->zone_geom) : NULL;
        if (u != NULL) {
            OGR_G_DestroyGeometry(r->zone_geom);
            r->zone_geom = u;
        }
    }
    for (int k = 0; k < 2; k++)
        if (geom[k] != NULL)
            OGR_G_DestroyGeometry(geom[k]);
    stapel__buf_free(&names);
    stapel__buf_free(&asked);
    stapel_zone_list_free(zones);
    return st;
}

/* ---- extent ------------------------------------------------------------- */

typedef struct xy {
    double x, y;
} xy;

static int xy_cmp(const void *a, const void *b)
{
    const xy *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

static double turn(xy o, xy a, xy b)
{
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/* The convex hull of p[0..n) (Andrew's monotone chain), counter-clockwise,
 * into h, which must hold n + 1 points; returns its vertex count. Sorts p. */
static size_t convex_hull(xy *p, size_t n, xy *h)
{
    if (n < 3) {
        memcpy(h, p, n * sizeof *p);
        return n;
    }
    qsort(p, n, sizeof *p, xy_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        while (k >= 2 && turn(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k++] = p[i];
    }
    for (size_t i = n - 1, lower = k + 1; i-- > 0;) {
        while (k >= lower && turn(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k++] = p[i];
    }
    return k - 1;
}

#define HULL_BATCH 65536 /* points gathered before they are cut to their hull */
#define HULL_STEPS 16    /* points per hull edge when it is transformed */
#define SMALL_BOX 0.01   /* a box this part of the layer's across: its corners stand in */

/* Points whose convex hull is wanted, cut to their hull whenever the buffer
 * fills, so memory stays flat. */
typedef struct hull_acc {
    xy *p, *h;
    size_t n;
    bool ok;
} hull_acc;

static void hull_add(hull_acc *a, double x, double y)
{
    if (!a->ok)
        return;
    if (a->n == HULL_BATCH) {
        a->n = convex_hull(a->p, a->n, a->h);
        memcpy(a->p, a->h, a->n * sizeof *a->p);
        if (a->n == HULL_BATCH) { /* all on their hull: give up */
            a->ok = false;
            return;
        }
    }
    a->p[a->n++] = (xy){x, y};
}

/* The vertices of g's outer rings (holes lie inside them). */
static void hull_add_geometry(hull_acc *a, OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    int parts = OGR_G_GetGeometryCount(g);
    if (t == wkbPolygon || t == wkbCurvePolygon)
        parts = parts > 0 ? 1 : 0;
    for (int i = 0; i < parts; i++)
        hull_add_geometry(a, OGR_G_GetGeometryRef(g, i));
    if (parts == 0)
        for (int i = 0; i < OGR_G_GetPointCount(g); i++)
            hull_add(a, OGR_G_GetX(g, i), OGR_G_GetY(g, i));
}

/* The GeoPackage R-tree of layer l queried for what (its columns are id,
 * minx, maxx, miny, maxy); NULL when the layer has none. SQLite triggers
 * keep the R-tree in step with every insert, update and delete, also those
 * made with SQL. Release with GDALDatasetReleaseResultSet(). */
static OGRLayerH rtree_query(const renderer *r, OGRLayerH l, const char *what)
{
    const char *name = OGR_L_GetName(l), *geom = OGR_L_GetGeometryColumn(l);
    if (geom == NULL || geom[0] == '\0' || strchr(name, '"') != NULL || strchr(geom, '"') != NULL)
        return NULL;
    char *sql = CPLStrdup(CPLSPrintf("SELECT %s FROM \"rtree_%s_%s\"", what, name, geom));
    OGRLayerH res = GDALDatasetExecuteSQL(r->ds, sql, NULL, NULL);
    CPLFree(sql);
    if (res == NULL)
        CPLErrorReset();
    return res;
}

typedef enum rtree_found {
    RTREE_NONE,  /* the layer has no R-tree */
    RTREE_EMPTY, /* it has, with no entries: the layer has no geometry */
    RTREE_BOX,   /* the bounds of its geometries, in the layer's CRS */
} rtree_found;

/* The bounds of layer l's geometries from its R-tree, into *box. */
static rtree_found rtree_bounds(const renderer *r, OGRLayerH l, OGREnvelope *box)
{
    OGRLayerH res = rtree_query(r, l, "MIN(minx), MAX(maxx), MIN(miny), MAX(maxy)");
    if (res == NULL)
        return RTREE_NONE;
    OGRFeatureH f = OGR_L_GetNextFeature(res);
    rtree_found found = f != NULL ? RTREE_EMPTY : RTREE_NONE;
    if (f != NULL && OGR_F_IsFieldSetAndNotNull(f, 0)) {
        *box = (OGREnvelope){OGR_F_GetFieldAsDouble(f, 0), OGR_F_GetFieldAsDouble(f, 1),
                             OGR_F_GetFieldAsDouble(f, 2), OGR_F_GetFieldAsDouble(f, 3)};
        found = RTREE_BOX;
    }
    if (f != NULL)
        OGR_F_Destroy(f);
    GDALDatasetReleaseResultSet(r->ds, res);
    return found;
}

/* The extent in RD of a layer stored in another CRS. The transformed bounds
 * of the layer's box would be wider than the data by the rotation between the
 * two CRSs (EPSG:3035 is turned some 4 degrees against RD over the
 * Netherlands), so this takes the convex hull of the data and transforms its
 * outline, densified. The features' boxes come from the GeoPackage's R-tree:
 * a small box's corners stand in for its feature (they stick out by a
 * fraction of a small box), a large feature's outer rings are read. box is
 * the layer's bounds (rtree_bounds). False when there is no R-tree to read. */
static bool rtree_extent_rd(const renderer *r, OGRLayerH l, const OGREnvelope *box, OGREnvelope *e)
{
    double small = SMALL_BOX * fmax(box->MaxX - box->MinX, box->MaxY - box->MinY);
    OGRLayerH res = rtree_query(r, l, "id, minx, maxx, miny, maxy");
    if (res == NULL)
        return false;
    hull_acc a = {malloc(HULL_BATCH * sizeof *a.p), malloc((HULL_BATCH + 1) * sizeof *a.h), 0,
                  true};
    a.ok = a.p != NULL && a.h != NULL;
    OGRFeatureH f;
    while (a.ok && (f = OGR_L_GetNextFeature(res)) != NULL) {
        GIntBig id = OGR_F_GetFieldAsInteger64(f, 0);
        double x0 = OGR_F_GetFieldAsDouble(f, 1), x1 = OGR_F_GetFieldAsDouble(f, 2);
        double y0 = OGR_F_GetFieldAsDouble(f, 3), y1 = OGR_F_GetFieldAsDouble(f, 4);
        OGR_F_Destroy(f);
        if (x1 - x0 <= small && y1 - y0 <= small) {
            hull_add(&a, x0, y0);
            hull_add(&a, x1, y0);
            hull_add(&a, x1, y1);
            hull_add(&a, x0, y1);
            continue;
        }
        OGRFeatureH big = OGR_L_GetFeature(l, id);
        OGRGeometryH g = big != NULL ? OGR_F_GetGeometryRef(big) : NULL;
        if (g != NULL)
            hull_add_geometry(&a, g);
        else
            a.ok = false;
        if (big != NULL)
            OGR_F_Destroy(big);
    }
    GDALDatasetReleaseResultSet(r->ds, res);
    size_t k = a.ok && a.n > 0 ? convex_hull(a.p, a.n, a.h) : 0;
    free(a.p);
    /* the outline, each edge in HULL_STEPS pieces: straight lines of one CRS
     * bend a little in the other */
    size_t m = k * HULL_STEPS;
    double *xs = m > 0 ? malloc(m * sizeof *xs) : NULL;
    double *ys = m > 0 ? malloc(m * sizeof *ys) : NULL;
    bool ok = xs != NULL && ys != NULL;
    for (size_t i = 0; ok && i < k; i++) {
        xy p = a.h[i], q = a.h[(i + 1) % k];
        for (size_t s = 0; s < HULL_STEPS; s++) {
            double t = (double)s / HULL_STEPS;
            xs[i * HULL_STEPS + s] = p.x + t * (q.x - p.x);
            ys[i * HULL_STEPS + s] = p.y + t * (q.y - p.y);
        }
    }
    free(a.h);
    ok = ok && OCTTransform(r->to_rd, (int)m, xs, ys, NULL);
    for (size_t i = 0; ok && i < m; i++) {
        if (!isfinite(xs[i]) || !isfinite(ys[i]))
            ok = false;
        else if (i == 0)
            *e = (OGREnvelope){xs[0], xs[0], ys[0], ys[0]};
        else
            *e = (OGREnvelope){fmin(e->MinX, xs[i]), fmax(e->MaxX, xs[i]), fmin(e->MinY, ys[i]),
                               fmax(e->MaxY, ys[i])};
    }
    free(xs);
    free(ys);
    return ok;
}

/* The extent in RD of layer l; false when it has none (no features, or no
 * geometry). The bounds come from the GeoPackage's R-tree where there is
 * one, not from the extent gpkg_contents records (OGR_L_GetExtent): GDAL
 * widens that as features are written but never narrows it, so a stack
 * whose faces a user deleted (in QGIS, or with SQL) was framed on where
 * they had been, and one emptied drawn as an empty map. */
static bool layer_extent_rd(const renderer *r, OGRLayerH l, OGREnvelope *e)
{
    if (l == NULL)
        return false;
    OGREnvelope box;
    rtree_found found = rtree_bounds(r, l, &box);
    if (found == RTREE_EMPTY)
        return false;
    if (found == RTREE_BOX && r->to_rd == NULL) {
        *e = box;
        return true;
    }
    if (found == RTREE_BOX && rtree_extent_rd(r, l, &box, e))
        return true;
    if (found == RTREE_BOX)
        *e = box;
    else if (OGR_L_GetExtent(l, e, 1) != OGRERR_NONE)
        return false;
    if (r->to_rd == NULL)
        return true;
    double x0, y0, x1, y1;
    if (!OCTTransformBounds(r->to_rd, e->MinX, e->MinY, e->MaxX, e->MaxY, &x0, &y0, &x1, &y1, 21))
        return false;
    e->MinX = x0;
    e->MinY = y0;
    e->MaxX = x1;
    e->MaxY = y1;
    return true;
}

/* The extent to show: the zone, or everything, with a small margin. */
static stapel_status choose_extent(renderer *r)
{
    OGREnvelope all = {0}, e;
    bool have = false;
    if (r->zone_geom != NULL) {
        OGR_G_GetEnvelope(r->zone_geom, &all);
        have = true;
    } else {
        OGRLayerH layers[] = {r->stack, r->zones[0].layer, r->zones[1].layer};
        for (size_t i = 0; i < 3; i++) {
            if (!layer_extent_rd(r, layers[i], &e))
                continue;
            if (!have) {
                all = e;
            } else {
                all.MinX = fmin(all.MinX, e.MinX);
                all.MinY = fmin(all.MinY, e.MinY);
                all.MaxX = fmax(all.MaxX, e.MaxX);
                all.MaxY = fmax(all.MaxY, e.MaxY);
            }
            have = true;
        }
    }
    if (!have || !isfinite(all.MinX) || !isfinite(all.MaxY))
        return stapel__fail(r->ctx, STAPEL_EDATA, "%s: layer stack is empty; nothing to draw",
                            r->gpkg);
    double dx = all.MaxX - all.MinX, dy = all.MaxY - all.MinY;
    double size = fmax(fmax(dx, dy), 100.0);
    if (dx < size / 20) { /* a sliver of data: give it some room */
        all.MinX -= (size / 20 - dx) / 2;
        all.MaxX += (size / 20 - dx) / 2;
    }
    if (dy < size / 20) {
        all.MinY -= (size / 20 - dy) / 2;
        all.MaxY += (size / 20 - dy) / 2;
    }
    double pad = 0.03 * size;
    r->xmin = all.MinX - pad;
    r->ymin = all.MinY - pad;
    r->xmax = all.MaxX + pad;
    r->ymax = all.MaxY + pad;
    return STAPEL_OK;
}

/* ---- layout --------------------------------------------------------------- */

static void font(renderer *r, double size, bool bold, bool italic)
{
    cairo_select_font_face(r->cr, FONT, italic ? CAIRO_FONT_SLANT_ITALIC : CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(r->cr, size * r->u);
}

static double text_width(renderer *r, const char *s)
{
    cairo_text_extents_t te;
    cairo_text_extents(r->cr, s, &te);
    return te.x_advance;
}

static void draw_text(renderer *r, double x, double y, const char *s)
{
    cairo_move_to(r->cr, x, y);
    cairo_show_text(r->cr, s);
}

/* The character that starts at s, valid UTF-8 (cairo refuses other text). */
static uint32_t utf8_char(const unsigned char *s)
{
    if (s[0] < 0x80)
        return s[0];
    if (s[0] < 0xE0)
        return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    if (s[0] < 0xF0)
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* Note the characters of text, about to be drawn in the current font, that
 * the font has no glyph for: cairo's toy text API takes no other font for
 * them, and draws a box (glyph 0, .notdef). The first BOXES_TOLD distinct
 * ones go to the warning draw gives, each with the text it is in, shown as
 * given (before drawable_text): what names it ("the title"), then shown,
 * quoted by the one rule of zone names in messages (stapel__zone_quote), be
 * it a zone, the title or a theme, so that a "'" in it cannot be read as
 * its end and it may be pasted to --zone or --title as is (the CLI shows a
 * control character in it escaped). Each distinct text is checked once by
 * the callers. */
static void note_boxes(renderer *r, const char *text, const char *what, const char *shown)
{
    cairo_glyph_t *glyphs = NULL;
    cairo_text_cluster_t *clusters = NULL;
    int n_glyphs = 0, n_clusters = 0;
    cairo_text_cluster_flags_t flags;
    if (cairo_scaled_font_text_to_glyphs(cairo_get_scaled_font(r->cr), 0, 0, text, -1, &glyphs,
                                         &n_glyphs, &clusters, &n_clusters,
                                         &flags) != CAIRO_STATUS_SUCCESS) {
        cairo_glyph_free(glyphs);
        cairo_text_cluster_free(clusters);
        return;
    }
    size_t first = r->n_boxes; /* the first character this text adds */
    size_t at = 0;             /* byte offset of the cluster in text */
    int g = 0;                 /* its first glyph */
    for (int c = 0; c < n_clusters;
         at += (size_t)clusters[c].num_bytes, g += clusters[c].num_glyphs, c++) {
        bool box = false;
        for (int k = g; k < g + clusters[c].num_glyphs && k < n_glyphs; k++)
            box = box || glyphs[k].index == 0;
        if (!box)
            continue;
        uint32_t ch = utf8_char((const unsigned char *)text + at);
        bool told = false;
        for (size_t i = 0; i < r->n_boxes; i++)
            told = told || r->boxes[i] == ch;
        if (told)
            continue;
        if (r->n_boxes == BOXES_TOLD) {
            r->more_boxes = true;
            break;
        }
        r->boxes[r->n_boxes++] = ch;
    }
    stapel__buf *b = &r->boxes_told;
    for (size_t i = first; i < r->n_boxes; i++) {
        const char *sep = i > first ? ", " : "; ";
        stapel__buf_printf(b, "%sU+%04X", b->len > 0 ? sep : "", (unsigned)r->boxes[i]);
    }
    if (r->n_boxes > first) {
        stapel__buf_printf(b, " in %s ", what);
        stapel__zone_quote(b, NULL, shown);
    }
    cairo_glyph_free(glyphs);
    cairo_text_cluster_free(clusters);
}

/* A copy of s that cairo can draw: text that is not UTF-8 is read as
 * Latin-1 (cairo refuses it, and the picture would fail), and control
 * characters (a tab or newline in a zone name) become spaces (cairo would
 * draw them as boxes). Caller frees; NULL when out of memory. */
static char *drawable_text(const char *s)
{
    char *recoded = CPLIsUTF8(s, -1) ? NULL : CPLRecode(s, CPL_ENC_ISO8859_1, CPL_ENC_UTF8);
    char *t = stapel__strdup(recoded != NULL ? recoded : s);
    CPLFree(recoded);
    if (t == NULL)
        return NULL;
    unsigned char *p = (unsigned char *)t;
    for (size_t i = 0; p[i] != '\0'; i++) {
        if (p[i] < 0x20 || p[i] == 0x7F) {
            p[i] = ' ';
        } else if (p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
            p[i] = ' '; /* a C1 control, U+0080 to U+009F: two bytes, two spaces */
            p[i + 1] = ' ';
        }
    }
    return t;
}

size_t stapel__grapheme_ends(const char *s, size_t n, size_t *ends)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t state = 0, prev = -1;
    size_t count = 0;
    ends[count++] = 0;
    size_t i = 0;
    while (i < n) {
        utf8proc_int32_t cp = -1;
        utf8proc_ssize_t len = utf8proc_iterate(u + i, (utf8proc_ssize_t)(n - i), &cp);
        if (len <= 0) { /* not UTF-8: the byte alone, a cluster of its own */
            if (i > 0 && ends[count - 1] != i)
                ends[count++] = i;
            i++;
            ends[count++] = i;
            prev = -1;
            state = 0;
            continue;
        }
        if (i > 0 && prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
            ends[count++] = i;
        prev = cp;
        i += (size_t)len;
    }
    if (n > 0 && ends[count - 1] != n)
        ends[count++] = n;
    return count;
}

char *stapel__fit_text(const char *t, double room, double (*width)(void *user, const char *s),
                       void *user)
{
    if (width(user, t) <= room)
        return stapel__strdup(t);
    size_t n = strlen(t);
    char *buf = malloc(n + 4);
    size_t *ends = malloc((n + 1) * sizeof *ends);
    if (buf == NULL || ends == NULL) {
        free(buf);
        free(ends);
        return NULL;
    }
    size_t n_ends = stapel__grapheme_ends(t, n, ends);
    /* The longest prefix that fits with its ellipsis, by bisection over the
     * cluster ends (the width grows with the prefix). */
    size_t lo = 0, hi = n_ends - 1;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2, k = ends[mid];
        while (k > 0 && t[k - 1] == ' ')
            k--;
        memcpy(buf, t, k);
        memcpy(buf + k, "\xe2\x80\xa6", 4); /* the ellipsis and the terminating NUL */
        if (width(user, buf) <= room)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t k = ends[lo];
    while (k > 0 && t[k - 1] == ' ')
        k--;
    memcpy(buf, t, k);
    memcpy(buf + k, "\xe2\x80\xa6", 4);
    free(ends);
    return buf;
}

static double width_in_font(void *user, const char *s)
{
    return text_width(user, s);
}

/* s as drawable_text makes it, shortened to at most room wide in the current
 * font (stapel__fit_text). Caller frees; NULL when out of memory. */
static char *fitted_text(renderer *r, const char *s, double room)
{
    char *t = drawable_text(s);
    if (t == NULL)
        return NULL;
    char *fitted = stapel__fit_text(t, room, width_in_font, r);
    free(t);
    return fitted;
}

/* Draw s at x, y, shortened with an ellipsis until it fits room. */
static void draw_fitted(renderer *r, double x, double y, const char *s, double room)
{
    char *t = fitted_text(r, s, room);
    if (t != NULL)
        draw_text(r, x, y, t);
    free(t);
}

/* Legend rows: one per class, one per zone layer present. */
static size_t legend_rows(const renderer *r)
{
    size_t n = r->scheme->n_classes;
    for (int k = 0; k < 2; k++)
        if (r->zones[k].layer != NULL)
            n++;
    return n;
}

#define LABEL_ROOM 0.75 /* a zone label takes at most this part of the map's width */
#define ROW_H 30.0
#define LEGEND_HEAD 70.0 /* title and subtitle; one more line with a zone */
#define ZONE_LINE 18.0
#define SCALE_H 60.0
#define NORTH_H 90.0
#define GAP 24.0

static double legend_head(const renderer *r)
{
    return LEGEND_HEAD + (r->zone != NULL ? ZONE_LINE : 0);
}

static stapel_status compute_layout(renderer *r, int width)
{
    r->width = width;
    r->u = width / 1000.0;
    r->px_per_mm = width / 297.0;
    double u = r->u, margin = 24 * u, panel_w = 280 * u;
    double column_w = width - 2 * margin - GAP * u - panel_w;
    double aspect = (r->ymax - r->ymin) / (r->xmax - r->xmin);
    r->map_w = column_w;
    r->map_h = column_w * aspect;
    if (r->map_h > 1600 * u) { /* a tall area: narrower map, same aspect */
        r->map_h = 1600 * u;
        r->map_w = r->map_h / aspect;
    }
    r->map_x = margin + (column_w - r->map_w) / 2;
    r->map_y = margin + 80 * u;
    r->scale = r->map_w / (r->xmax - r->xmin);
    r->panel_x = margin + column_w + GAP * u;
    r->panel_y = r->map_y;
    r->panel_w = panel_w;
    r->legend_h = (legend_head(r) + ROW_H * (double)legend_rows(r) + 12) * u;
    double panel_h = r->legend_h + (GAP + SCALE_H + GAP + NORTH_H) * u;
    double body_h = fmax(r->map_h, panel_h);
    double footer_y = r->map_y + body_h + 18 * u;
    double height = ceil(footer_y + 2 * 17 * u + margin);
    /* A PNG is held in memory whole. A PDF page larger than 200 inches on a
     * side Adobe Acrobat cuts off (PDF 1.7, annex C: the largest page
     * without UserUnit, which cairo does not write). An SVG only needs
     * sane numbers. */
    if (r->format == FORMAT_PNG && (double)r->width * height > MAX_PIXELS)
        return stapel__fail(r->ctx, STAPEL_EINVAL,
                            "a picture of %d x %.0f pixels is too large (a PNG has at most %.0f "
                            "million pixels); give a smaller width",
                            r->width, height, MAX_PIXELS / 1e6);
    if (r->format == FORMAT_PDF && fmax(r->width, height) > MAX_PDF_SIDE)
        return stapel__fail(r->ctx, STAPEL_EINVAL,
                            "a picture of %d x %.0f points is too large (a PDF page is at most "
                            "%.0f points, 200 inches, on a side: Adobe Acrobat cuts off a larger "
                            "one); give a smaller width",
                            r->width, height, MAX_PDF_SIDE);
    if (r->format == FORMAT_SVG && height > MAX_VECTOR_SIDE)
        return stapel__fail(r->ctx, STAPEL_EINVAL,
                            "a picture of %d x %.0f points is too large (the height is at most "
                            "%.0f points); give a smaller width",
                            r->width, height, MAX_VECTOR_SIDE);
    r->height = (int)height;
    return STAPEL_OK;
}

/* ---- drawing the faces ------------------------------------------------------ */

/* Add the rings of a polygonal geometry to the current path, skipping
 * vertices that land on the same spot as the previous one. */
static bool add_path(renderer *r, OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) {
        int n_rings = OGR_G_GetGeometryCount(g);
        for (int i = 0; i < n_rings; i++) {
            OGRGeometryH ring = OGR_G_GetGeometryRef(g, i);
            int n = OGR_G_GetPointCount(ring);
            if (n < 3)
                continue;
            if ((size_t)n > r->cap_pts) {
                size_t cap = (size_t)n * 2;
                double *xs = realloc(r->xs, cap * sizeof *xs);
                if (xs != NULL)
                    r->xs = xs;
                double *ys = realloc(r->ys, cap * sizeof *ys);
                if (ys != NULL)
                    r->ys = ys;
                if (xs == NULL || ys == NULL)
                    return false;
                r->cap_pts = cap;
            }
            OGR_G_GetPoints(ring, r->xs, sizeof(double), r->ys, sizeof(double), NULL, 0);
            double px = wx(r, r->xs[0]), py = wy(r, r->ys[0]);
            cairo_move_to(r->cr, px, py);
            for (int k = 1; k < n; k++) {
                double x = wx(r, r->xs[k]), y = wy(r, r->ys[k]);
                if (fabs(x - px) < 0.2 && fabs(y - py) < 0.2 && k < n - 1)
                    continue;
                cairo_line_to(r->cr, x, y);
                px = x;
                py = y;
            }
            cairo_close_path(r->cr);
        }
        return true;
    }
    if (t == wkbMultiPolygon || t == wkbGeometryCollection) {
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            if (!add_path(r, OGR_G_GetGeometryRef(g, i)))
                return false;
        return true;
    }
    if (OGR_GT_IsSurface(t) || OGR_GT_IsSubClassOf(t, wkbMultiSurface)) {
        OGRGeometryH lin = OGR_G_GetLinearGeometry(g, 0, NULL);
        bool ok = lin == NULL || add_path(r, lin);
        OGR_G_DestroyGeometry(lin);
        return ok;
    }
    return true; /* points and lines have no face to fill */
}

/* Is the face in the zone cropped to? Faces are split along zone borders and
 * tagged, so their tags answer this exactly. A tag names every zone of its
 * kind the face lies in, joined with ';': NOVEX areas overlap, and so may
 * provinces. */
static bool face_in_zone(const renderer *r, OGRFeatureH f)
{
    if (r->zone == NULL)
        return true;
    int fld = r->zone_kind == STAPEL_ZONE_PROVINCE ? r->f_province : r->f_novex;
    if (fld < 0 || !OGR_F_IsFieldSetAndNotNull(f, fld))
        return false;
    const char *v = OGR_F_GetFieldAsString(f, fld);
    size_t n = strlen(r->zone);
    for (const char *p = v; p != NULL; p = strchr(p, ';')) {
        if (*p == ';')
            p++;
        if (strncmp(p, r->zone, n) == 0 && (p[n] == ';' || p[n] == '\0'))
            return true;
    }
    return false;
}

/* Note the themes of a face ("nature+water") for the footer. It lists
 * them sorted, and a stack may hold more than fit on its line: the ones
 * kept are the first in sort order, whatever order the faces come in, so
 * that the line shows the first themes, not some of the first faces'. */
static stapel_status note_themes(renderer *r, const char *themes)
{
    const char *p = themes;
    while (*p != '\0') {
        const char *end = strchr(p, '+');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        bool seen = false;
        size_t last = 0; /* the kept theme that sorts last */
        for (size_t i = 0; i < r->n_themes && !seen; i++) {
            seen = strlen(r->themes[i]) == n && strncmp(r->themes[i], p, n) == 0;
            if (strcmp(r->themes[i], r->themes[last]) > 0)
                last = i;
        }
        if (!seen && n > 0) {
            char *t = malloc(n + 1);
            if (t == NULL)
                return nomem(r);
            memcpy(t, p, n);
            t[n] = '\0';
            if (r->n_themes < STAPEL_MAX_THEMES) {
                r->themes[r->n_themes++] = t;
            } else {
                r->more_themes = true;
                if (strcmp(t, r->themes[last]) < 0) {
                    free(r->themes[last]);
                    r->themes[last] = t;
                } else {
                    free(t);
                }
            }
        }
        p += n;
        if (*p == '+')
            p++;
    }
    return STAPEL_OK;
}

/* Restrict a layer to the shown extent (given in RD). */
static void filter_to_view(const renderer *r, OGRLayerH l)
{
    double x0 = r->xmin, y0 = r->ymin, x1 = r->xmax, y1 = r->ymax;
    if (r->from_rd != NULL && !OCTTransformBounds(r->from_rd, r->xmin, r->ymin, r->xmax, r->ymax,
                                                  &x0, &y0, &x1, &y1, 21)) {
        OGR_L_SetSpatialFilter(l, NULL);
        return;
    }
    OGR_L_SetSpatialFilterRect(l, x0, y0, x1, y1);
}

/* Count face f, whose value of the field coloured has no class in the
 * legend, and keep its value for the warning when it is one of the first
 * few. False when out of memory. */
static bool note_unclassed(renderer *r, OGRFeatureH f)
{
    r->n_unclassed++;
    stapel__buf b = {0};
    const char *value = OGR_F_GetFieldAsString(f, r->f_class);
    bool ok =
        r->scheme->graduated ? stapel__buf_puts(&b, value) : stapel__zone_quote(&b, NULL, value);
    if (!ok) {
        stapel__buf_free(&b);
        return false;
    }
    for (size_t i = 0; i < r->n_unclassed_told; i++) {
        if (strcmp(r->unclassed[i], b.data) == 0) {
            stapel__buf_free(&b);
            return true;
        }
    }
    if (r->n_unclassed_told < UNCLASSED_TOLD)
        r->unclassed[r->n_unclassed_told++] = b.data;
    else {
        r->more_unclassed = true;
        stapel__buf_free(&b);
    }
    return true;
}

/* The faces drawn in grey, told apart: "3 faces have no n_themes (NULL)
 * and 2 have n_themes 0 or -1, outside the legend". */
static stapel_status warn_unclassed(renderer *r)
{
    if (r->n_no_class == 0 && r->n_unclassed == 0)
        return STAPEL_OK;
    const char *field = r->scheme->field;
    stapel__buf b = {0};
    bool ok = stapel__buf_printf(&b, "%s: layer stack: ", r->gpkg);
    if (ok && r->n_no_class > 0)
        ok = stapel__buf_printf(&b, "%lld %s no %s (NULL)%s", (long long)r->n_no_class,
                                r->n_no_class == 1 ? "face has" : "faces have", field,
                                r->n_unclassed > 0 ? " and " : "");
    if (ok && r->n_unclassed > 0) {
        /* after "3 faces have no n_themes (NULL) and", no second "faces" */
        const char *faces = r->n_no_class > 0 ? "" : r->n_unclassed == 1 ? " face" : " faces";
        ok = stapel__buf_printf(&b, "%lld%s %s %s ", (long long)r->n_unclassed, faces,
                                r->n_unclassed == 1 ? "has" : "have", field);
        for (size_t i = 0; ok && i < r->n_unclassed_told; i++) {
            bool last = i + 1 == r->n_unclassed_told && !r->more_unclassed;
            const char *sep = last ? " or " : ", ";
            ok = stapel__buf_printf(&b, "%s%s", i > 0 ? sep : "", r->unclassed[i]);
        }
        if (ok && r->more_unclassed)
            ok = stapel__buf_puts(&b, " or others");
        if (ok)
            ok = stapel__buf_puts(&b, ", outside the legend");
    }
    if (ok)
        ok = stapel__buf_puts(&b, "; drawn in grey");
    if (ok)
        stapel__log(r->ctx, STAPEL_LOG_WARN, "%s", b.data);
    stapel__buf_free(&b);
    return ok ? STAPEL_OK : nomem(r);
}

static stapel_status draw_faces(renderer *r)
{
    cairo_t *cr = r->cr;
    stapel__rgba fallback = {0xDD, 0xDD, 0xDD, 255};
    double outline_w = fmax(stapel__face_outline.width_mm * r->px_per_mm, 0.35);
    int64_t total = OGR_L_GetFeatureCount(r->stack, 0);
    filter_to_view(r, r->stack);
    OGR_L_ResetReading(r->stack);
    cairo_save(cr);
    cairo_rectangle(cr, r->map_x, r->map_y, r->map_w, r->map_h);
    cairo_clip(cr);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_BEVEL);
    cairo_set_line_width(cr, outline_w);
    stapel_status st = STAPEL_OK;
    OGRFeatureH f;
    int64_t n_read = 0;
    while (st == STAPEL_OK &&
           (f = stapel__next_feature(r->ctx, r->stack, r->gpkg, &n_read, &st)) != NULL) {
        if ((r->n_faces & 255) == 0) {
            if (stapel__cancelled(r->ctx)) {
                OGR_F_Destroy(f);
                st = stapel__fail(r->ctx, STAPEL_ECANCELLED, "cancelled while rendering");
                break;
            }
            if (total > 0)
                stapel__progress(r->ctx, "rendering",
                                 fmin((double)r->n_faces / (double)total, 0.99));
        }
        int cls = -1;
        bool has_class = OGR_F_IsFieldSetAndNotNull(f, r->f_class);
        if (has_class) {
            if (r->scheme->graduated)
                cls = stapel__scheme_class_int(r->scheme,
                                               (long)OGR_F_GetFieldAsInteger64(f, r->f_class));
            else
                cls = stapel__scheme_class_str(r->scheme, OGR_F_GetFieldAsString(f, r->f_class));
        }
        if (!has_class)
            r->n_no_class++;
        else if (cls < 0 && !note_unclassed(r, f)) {
            OGR_F_Destroy(f);
            st = nomem(r);
            break;
        }
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        OGRwkbGeometryType gt = g != NULL ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbNone;
        if (g != NULL && !OGR_GT_IsSurface(gt) && !OGR_GT_IsSubClassOf(gt, wkbMultiSurface) &&
            gt != wkbGeometryCollection) { /* in a layer of any geometry type */
            st = stapel__fail(r->ctx, STAPEL_EDATA,
                              "%s: layer stack: feature %lld is a %s, not a polygon; render a "
                              "GeoPackage written by 'stapel stack'",
                              r->gpkg, (long long)OGR_F_GetFID(f), OGRGeometryTypeToName(gt));
            OGR_F_Destroy(f);
            break;
        }
        if (g != NULL && r->to_rd != NULL && OGR_G_Transform(g, r->to_rd) != OGRERR_NONE)
            g = NULL;
        bool in_zone = face_in_zone(r, f);
        if (cls >= 0 && in_zone)
            r->class_m2[cls] += r->f_area >= 0 && OGR_F_IsFieldSetAndNotNull(f, r->f_area)
                                    ? OGR_F_GetFieldAsDouble(f, r->f_area)
                                    : (g != NULL ? OGR_G_Area(g) : 0.0);
        /* The footer names the themes of the map: with --zone, of the zone. */
        if (in_zone && r->f_themes >= 0 && OGR_F_IsFieldSetAndNotNull(f, r->f_themes))
            st = note_themes(r, OGR_F_GetFieldAsString(f, r->f_themes));
        if (st == STAPEL_OK && g != NULL) {
            cairo_new_path(cr);
            if (!add_path(r, g)) {
                st = nomem(r);
            } else {
                set_rgba(cr, cls >= 0 ? r->scheme->classes[cls].fill : fallback, 1.0);
                /* Outlines of faces only a few pixels across would hide their
                 * colour: a national map would turn grey where faces are dense. */
                OGREnvelope env;
                OGR_G_GetEnvelope(g, &env);
                double size = fmin(env.MaxX - env.MinX, env.MaxY - env.MinY) * r->scale;
                if (size >= MIN_OUTLINED) {
                    cairo_fill_preserve(cr);
                    set_rgba(cr, stapel__face_outline.color, 0.8);
                    cairo_stroke(cr);
                } else {
                    cairo_fill(cr);
                }
            }
        }
        OGR_F_Destroy(f);
        r->n_faces++;
        if (st != STAPEL_OK)
            break;
    }
    cairo_restore(cr);
    OGR_L_SetSpatialFilter(r->stack, NULL);
    if (st == STAPEL_OK)
        st = warn_unclassed(r);
    return st;
}

/* ---- zones ------------------------------------------------------------------ */

/* Grey out everything in the frame outside the zone cropped to. */
static void draw_veil(renderer *r)
{
    if (r->zone_geom == NULL)
        return;
    cairo_t *cr = r->cr;
    cairo_save(cr);
    cairo_new_path(cr);
    cairo_rectangle(cr, r->map_x, r->map_y, r->map_w, r->map_h);
    add_path(r, r->zone_geom);
    cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD);
    cairo_set_source_rgba(cr, 0.93, 0.93, 0.93, 0.78);
    cairo_fill(cr);
    cairo_restore(cr);
}

static void place_free(place *p)
{
    if (p->cut != NULL)
        OGR_G_DestroyGeometry(p->cut);
    if (p->strip != NULL)
        OGR_G_DestroyGeometry(p->strip);
    p->cut = p->strip = NULL;
}

/* Label a zone at *at, a part of it (add_label takes over its geometries). A
 * zone delivered in parts is labelled once, in its largest part. */
static stapel_status add_label(renderer *r, const char *text, place *at, stapel_zone_kind kind,
                               bool selected)
{
    for (size_t i = 0; i < r->n_labels; i++) {
        label *l = &r->labels[i];
        if (l->kind != kind || strcmp(l->text, text) != 0)
            continue;
        if (at->area > l->at.area) {
            place old = l->at;
            l->at = *at;
            *at = old;
        }
        place_free(at);
        l->selected = l->selected || selected;
        return STAPEL_OK;
    }
    if (r->n_labels == r->cap_labels) {
        size_t cap = r->cap_labels == 0 ? 16 : r->cap_labels * 2;
        label *l = realloc(r->labels, cap * sizeof *l);
        if (l == NULL) {
            place_free(at);
            return nomem(r);
        }
        r->labels = l;
        r->cap_labels = cap;
    }
    char *t = stapel__strdup(text);
    if (t == NULL) {
        place_free(at);
        return nomem(r);
    }
    r->labels[r->n_labels++] = (label){t, *at, kind, selected};
    return STAPEL_OK;
}

/* Whether part, a zone's part as shown, lies mostly outside the zone of
 * --zone: a neighbour, not the zone's province nor a NOVEX area within it.
 * Its label goes in what lies outside that zone (*free_part, the caller's to
 * free; NULL when part lies wholly outside it). */
static bool zone_outside(const renderer *r, OGRGeometryH part, OGRGeometryH *free_part)
{
    *free_part = NULL;
    if (r->zone_geom == NULL)
        return false;
    /* A neighbour that only touches the zone, its box meeting the zone's in
     * a line or a point, has none of its area in it: the costly overlay
     * (the zone may have many thousands of vertices) is left out. */
    OGREnvelope ep, ez;
    OGR_G_GetEnvelope(part, &ep);
    OGR_G_GetEnvelope(r->zone_geom, &ez);
    if (fmin(ep.MaxX, ez.MaxX) <= fmax(ep.MinX, ez.MinX) ||
        fmin(ep.MaxY, ez.MaxY) <= fmax(ep.MinY, ez.MinY))
        return OGR_G_Area(part) > 0; /* as below with a_in 0 */
    OGRGeometryH in = OGR_G_Intersection(part, r->zone_geom);
    /* a neighbour's part meets the zone in a line or a point, which have
     * no area (and which OGR_G_Area warns of) */
    OGRwkbGeometryType t = in != NULL ? wkbFlatten(OGR_G_GetGeometryType(in)) : wkbNone;
    bool surface = OGR_GT_IsSurface(t) || OGR_GT_IsSubClassOf(t, wkbMultiSurface) ||
                   t == wkbGeometryCollection;
    double a_in = surface ? OGR_G_Area(in) : 0.0;
    if (in != NULL)
        OGR_G_DestroyGeometry(in);
    if (a_in >= 0.5 * OGR_G_Area(part))
        return false;
    if (a_in > 0)
        *free_part = OGR_G_Difference(part, r->zone_geom);
    return true;
}

/* The map's view in EPSG:28992, less inset on each side. */
static OGRGeometryH view_box(const renderer *r, double inset)
{
    OGRGeometryH view = OGR_G_CreateGeometry(wkbPolygon);
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    OGR_G_AddPoint_2D(ring, r->xmin + inset, r->ymin + inset);
    OGR_G_AddPoint_2D(ring, r->xmax - inset, r->ymin + inset);
    OGR_G_AddPoint_2D(ring, r->xmax - inset, r->ymax - inset);
    OGR_G_AddPoint_2D(ring, r->xmin + inset, r->ymax - inset);
    OGR_G_AddPoint_2D(ring, r->xmin + inset, r->ymin + inset);
    OGR_G_AddGeometryDirectly(view, ring);
    return view;
}

/* Where to put the label of a zone: a point inside the part of it that is
 * shown, or none when nothing of it is; for a neighbour of the zone of
 * --zone (at->outside), in what lies outside that zone. What lies within 2%
 * of the map's edge is left out, so that a zone shown only as a sliver
 * along the edge gets no label. When the map shows only some of the zone,
 * that part goes to at->cut, and for a neighbour all of it the map shows,
 * to the edge, to at->strip (at's geometries are the caller's). The zone of
 * --zone (selected) is no neighbour of itself: its parts lie in it. */
static bool label_point(const renderer *r, OGRGeometryH g, bool selected, place *at)
{
    *at = (place){0};
    OGRGeometryH view = view_box(r, 0.02 * (r->xmax - r->xmin));
    OGRGeometryH part = OGR_G_Intersection(g, view);
    OGR_G_DestroyGeometry(view);
    bool found = false;
    if (part != NULL && !OGR_G_IsEmpty(part)) {
        OGRGeometryH free_part = NULL;
        at->outside = !selected && zone_outside(r, part, &free_part);
        OGRGeometryH p =
            OGR_G_PointOnSurface(free_part != NULL && !OGR_G_IsEmpty(free_part) ? free_part : part);
        if (free_part != NULL)
            OGR_G_DestroyGeometry(free_part);
        if (p != NULL && !OGR_G_IsEmpty(p)) {
            at->x = at->sx = wx(r, OGR_G_GetX(p, 0));
            at->y = at->sy = wy(r, OGR_G_GetY(p, 0));
            at->area = OGR_G_Area(part);
            found = true;
        }
        OGR_G_DestroyGeometry(p);
    }
    bool cut = found && at->area < OGR_G_Area(g) * (1 - 1e-9);
    if (cut && at->outside) {
        view = view_box(r, 0);
        OGRGeometryH strip = OGR_G_Intersection(g, view);
        OGR_G_DestroyGeometry(view);
        OGRGeometryH free_strip = strip != NULL ? OGR_G_Difference(strip, r->zone_geom) : NULL;
        OGRGeometryH p = free_strip != NULL && !OGR_G_IsEmpty(free_strip)
                             ? OGR_G_PointOnSurface(free_strip)
                             : NULL;
        if (p != NULL && !OGR_G_IsEmpty(p)) {
            at->sx = wx(r, OGR_G_GetX(p, 0));
            at->sy = wy(r, OGR_G_GetY(p, 0));
            at->strip = strip;
            strip = NULL;
        }
        if (p != NULL)
            OGR_G_DestroyGeometry(p);
        if (free_strip != NULL)
            OGR_G_DestroyGeometry(free_strip);
        if (strip != NULL)
            OGR_G_DestroyGeometry(strip);
    }
    if (cut) {
        at->cut = part;
        part = NULL;
    }
    OGR_G_DestroyGeometry(part);
    return found;
}

static void set_line(renderer *r, const stapel__line *line, double factor)
{
    cairo_t *cr = r->cr;
    double w = fmax(line->width_mm * r->px_per_mm * factor, 0.5);
    cairo_set_line_width(cr, w);
    if (line->dashed) {
        double dash[] = {2.5 * r->px_per_mm, 1.2 * r->px_per_mm};
        cairo_set_dash(cr, dash, 2, 0);
    } else {
        cairo_set_dash(cr, NULL, 0, 0);
    }
    set_rgba(cr, line->color, 1.0);
}

/* The zones of a layer in view, gathered by name: a zone delivered in parts
 * (or with overlapping parts) is outlined as the union of its parts, so that
 * no border is drawn between them. */
typedef struct zone_group {
    char *name;         /* NULL: a feature without a name, on its own */
    OGRGeometryH parts; /* a MultiPolygon of the polygons of its features */
} zone_group;

/* The group of the zone called name (a new one when there is none yet, and
 * always for a NULL name); NULL when out of memory. by_name maps names to
 * groups: a zone layer may hold thousands. */
static zone_group *zone_group_of(zone_group **groups, size_t *n, size_t *cap,
                                 stapel__strmap *by_name, const char *name)
{
    if (name != NULL) {
        bool added;
        uint32_t i = stapel__strmap_get(by_name, name, (uint32_t)*n, &added);
        if (i == UINT32_MAX)
            return NULL;
        if (!added)
            return &(*groups)[i];
    }
    if (*n == *cap) {
        size_t c = *cap == 0 ? 16 : *cap * 2;
        zone_group *g = realloc(*groups, c * sizeof *g);
        if (g == NULL)
            return NULL;
        *groups = g;
        *cap = c;
    }
    zone_group grp = {name != NULL ? stapel__strdup(name) : NULL,
                      OGR_G_CreateGeometry(wkbMultiPolygon)};
    if ((name != NULL && grp.name == NULL) || grp.parts == NULL) {
        free(grp.name);
        if (grp.parts != NULL)
            OGR_G_DestroyGeometry(grp.parts);
        return NULL;
    }
    (*groups)[*n] = grp;
    return &(*groups)[(*n)++];
}

/* Outline a zone and put its label in its largest part shown. */
static stapel_status draw_zone(renderer *r, stapel_zone_kind kind, const zone_group *grp)
{
    cairo_t *cr = r->cr;
    OGRGeometryH outline =
        OGR_G_GetGeometryCount(grp->parts) > 1 ? OGR_G_UnionCascaded(grp->parts) : NULL;
    OGRGeometryH g = outline != NULL ? outline : grp->parts;
    const char *name = grp->name;
    bool selected =
        r->zone != NULL && kind == r->zone_kind && name != NULL && strcmp(name, r->zone) == 0;
    stapel_status st = STAPEL_OK;
    cairo_new_path(cr);
    if (!add_path(r, g)) {
        st = nomem(r);
    } else {
        set_line(r, stapel__zone_line(kind), selected ? 2.0 : 1.0);
        cairo_stroke(cr);
        bool single = wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPolygon;
        int n = single ? 1 : OGR_G_GetGeometryCount(g);
        for (int i = 0; st == STAPEL_OK && name != NULL && name[0] != '\0' && i < n; i++) {
            OGRGeometryH part = single ? g : OGR_G_GetGeometryRef(g, i);
            place at;
            if (wkbFlatten(OGR_G_GetGeometryType(part)) == wkbPolygon &&
                label_point(r, part, selected, &at)) {
                at.outside = at.outside && !selected;
                st = add_label(r, name, &at, kind, selected);
            }
        }
    }
    if (outline != NULL)
        OGR_G_DestroyGeometry(outline);
    return st;
}

static stapel_status draw_zone_layer(renderer *r, stapel_zone_kind kind)
{
    zone_layer *z = &r->zones[kind];
    if (z->layer == NULL)
        return STAPEL_OK;
    cairo_t *cr = r->cr;
    stapel_status st = STAPEL_OK;
    filter_to_view(r, z->layer);
    OGR_L_ResetReading(z->layer);
    zone_group *groups = NULL;
    size_t n_groups = 0, cap_groups = 0;
    stapel__strmap by_name = {0};
    OGRFeatureH f;
    int64_t n_read = 0;
    while (st == STAPEL_OK &&
           (f = stapel__next_feature(r->ctx, z->layer, r->gpkg, &n_read, &st)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        const char *name = OGR_F_IsFieldSetAndNotNull(f, z->name_field)
                               ? OGR_F_GetFieldAsString(f, z->name_field)
                               : NULL;
        if (g != NULL && r->to_rd != NULL && OGR_G_Transform(g, r->to_rd) != OGRERR_NONE)
            g = NULL;
        if (g != NULL) {
            zone_group *grp = zone_group_of(&groups, &n_groups, &cap_groups, &by_name, name);
            if (grp == NULL || !add_parts(grp->parts, g))
                st = nomem(r);
        }
        OGR_F_Destroy(f);
    }
    OGR_L_SetSpatialFilter(z->layer, NULL);
    cairo_save(cr);
    cairo_rectangle(cr, r->map_x, r->map_y, r->map_w, r->map_h);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; st == STAPEL_OK && i < n_groups; i++)
        st = draw_zone(r, kind, &groups[i]);
    cairo_restore(cr);
    for (size_t i = 0; i < n_groups; i++) {
        free(groups[i].name);
        OGR_G_DestroyGeometry(groups[i].parts);
    }
    free(groups);
    stapel__strmap_free(&by_name);
    return st;
}

typedef struct box {
    double x0, y0, x1, y1;
} box;

static double overlap_area(box a, box b)
{
    double w = fmin(a.x1, b.x1) - fmax(a.x0, b.x0), h = fmin(a.y1, b.y1) - fmax(a.y0, b.y0);
    return w > 0 && h > 0 ? w * h : 0.0;
}

typedef struct spot {
    double dx, dy; /* in label widths (plus a gap) and label heights */
    double d2;     /* squared distance, for trying near spots first */
} spot;

static int compare_spot(const void *a, const void *b)
{
    double da = ((const spot *)a)->d2, db = ((const spot *)b)->d2;
    return (da > db) - (da < db);
}

/* A neighbour's label tries NEAR_SPOTS x NEAR_SPOTS spots: up to two label
 * widths (plus a gap) across in eighths and eight lines up and down in
 * halves; the others 5 x 7 (draw_labels). */
#define NEAR_SPOTS 33

/* The font of a label, size points at a width of 1000 (label_size). */
static void label_font(renderer *r, const label *l, double size)
{
    if (l->kind == STAPEL_ZONE_PROVINCE)
        font(r, size, true, false);
    else
        font(r, size, l->selected, true);
}

/* A geometry tested for Intersects many times (a zone of many thousands of
 * vertices, against a few hundred label spots): OGR_G_Intersects converts it
 * to GEOS on every call, as WKB. It is converted the same way once, and
 * prepared (GEOS indexes its segments). prep stays NULL when that fails
 * (out of memory): the tests are then OGR's. */
typedef struct prepared {
    OGRGeometryH g;
    GEOSGeometry *geos;
    const GEOSPreparedGeometry *prep;
    bool tried;
} prepared;

static void prepared_free(const renderer *r, prepared *p)
{
    GEOSContextHandle_t h = r->ctx->geos;
    if (p->prep != NULL)
        GEOSPreparedGeom_destroy_r(h, p->prep);
    if (p->geos != NULL)
        GEOSGeom_destroy_r(h, p->geos);
    *p = (prepared){NULL, NULL, NULL, false};
}

/* Whether the prepared p meets t, a small geometry (a point, a box). */
static bool prepared_intersects(const renderer *r, prepared *p, OGRGeometryH t)
{
    GEOSContextHandle_t h = r->ctx->geos;
    if (!p->tried) {
        p->tried = true;
        size_t n = (size_t)OGR_G_WkbSize(p->g);
        unsigned char *wkb = malloc(n);
        if (wkb != NULL && OGR_G_ExportToWkb(p->g, wkbNDR, wkb) == OGRERR_NONE)
            p->geos = GEOSGeomFromWKB_buf_r(h, wkb, n);
        free(wkb);
        p->prep = p->geos != NULL ? GEOSPrepare_r(h, p->geos) : NULL;
    }
    if (p->prep == NULL)
        return OGR_G_Intersects(p->g, t);
    size_t n = (size_t)OGR_G_WkbSize(t);
    unsigned char wkb[128]; /* a point or a box of five points */
    GEOSGeometry *tg = NULL;
    if (n <= sizeof wkb && OGR_G_ExportToWkb(t, wkbNDR, wkb) == OGRERR_NONE)
        tg = GEOSGeomFromWKB_buf_r(h, wkb, n);
    if (tg == NULL)
        return OGR_G_Intersects(p->g, t);
    char in = GEOSPreparedIntersects_r(h, p->prep, tg);
    GEOSGeom_destroy_r(h, tg);
    return in == 2 ? OGR_G_Intersects(p->g, t) : in == 1;
}

/* Whether the spot (x, y) on the picture lies in the zone's part cut. */
static bool spot_in(const renderer *r, prepared *cut, double x, double y)
{
    OGRGeometryH p = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_AddPoint_2D(p, r->xmin + (x - r->map_x) / r->scale, r->ymax - (y - r->map_y) / r->scale);
    bool in = prepared_intersects(r, cut, p);
    OGR_G_DestroyGeometry(p);
    return in;
}

/* Whether the box b on the picture meets the zone of --zone (zone: it
 * prepared). */
static bool box_in_zone(const renderer *r, prepared *zone, box b)
{
    double x0 = r->xmin + (b.x0 - r->map_x) / r->scale, x1 = r->xmin + (b.x1 - r->map_x) / r->scale;
    double y0 = r->ymax - (b.y1 - r->map_y) / r->scale, y1 = r->ymax - (b.y0 - r->map_y) / r->scale;
    OGREnvelope e;
    OGR_G_GetEnvelope(r->zone_geom, &e);
    if (x1 < e.MinX || x0 > e.MaxX || y1 < e.MinY || y0 > e.MaxY)
        return false;
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    OGR_G_AddPoint_2D(ring, x0, y0);
    OGR_G_AddPoint_2D(ring, x1, y0);
    OGR_G_AddPoint_2D(ring, x1, y1);
    OGR_G_AddPoint_2D(ring, x0, y1);
    OGR_G_AddPoint_2D(ring, x0, y0);
    OGR_G_AddGeometryDirectly(poly, ring);
    bool in = prepared_intersects(r, zone, poly);
    OGR_G_DestroyGeometry(poly);
    return in;
}

/* The smallest text the map writes (the scale bar's numbers), in points at
 * a width of 1000. */
#define SMALLEST_TEXT 11.0

/* The size of a label's text, in points at a width of 1000 (label_font). */
static double label_size(const label *l)
{
    if (l->kind == STAPEL_ZONE_PROVINCE)
        return l->selected ? 17 : 15;
    return l->selected ? 14 : 12;
}

/* The spot for the label l, its text (extents te) in the current font: the
 * nearest of a few dozen spots around its anchor that stays in the frame and
 * is clear of the labels placed before, or, when none is clear, the spot that
 * overlaps them least (draw_labels), in *best with its padding; returns its
 * overlap with those labels, INFINITY when no spot is allowed. A label
 * confined to the part of its zone shown (cut) has its centre in it. A
 * neighbour's label (outside) has its text and halo (the ink) wholly outside
 * the zone of --zone (zone). In its strip (strip: the part of it shown to
 * the map's edge, and the anchor in it), it needs only its ink, not its
 * padding, within the frame, as that strip is often narrower. */
static double find_spot(renderer *r, const label *l, bool strip, const cairo_text_extents_t *te,
                        box frame, prepared *zone, const box *placed, size_t n_placed, box *best)
{
    const place *at = &l->at;
    double ax = strip ? at->sx : at->x, ay = strip ? at->sy : at->y;
    static const double dxs[] = {0, -0.5, 0.5, -1, 1};
    static const double dys[] = {0, -1.3, 1.3, -2.6, 2.6, -3.9, 3.9};
    cairo_font_extents_t fe;
    cairo_font_extents(r->cr, &fe);
    double w = te->x_advance, h = fe.ascent + fe.descent;
    double pad = 3 * r->u, step_x = w / 2 + h, halo = 3.5 * r->u;
    spot spots[NEAR_SPOTS * NEAR_SPOTS];
    size_t n_spots = 0;
    if (at->outside) {
        /* A neighbour's label may have to move further, and by
         * less than a line, to clear the zone of --zone. */
        for (int a = -NEAR_SPOTS / 2; a <= NEAR_SPOTS / 2; a++)
            for (int b = -NEAR_SPOTS / 2; b <= NEAR_SPOTS / 2; b++) {
                double dx = a / 8.0, dy = b / 2.0, px = dx * step_x, py = dy * h;
                spots[n_spots++] = (spot){dx, dy, px * px + py * py};
            }
    } else {
        for (size_t a = 0; a < sizeof dxs / sizeof dxs[0]; a++)
            for (size_t b = 0; b < sizeof dys / sizeof dys[0]; b++) {
                double px = dxs[a] * step_x, py = dys[b] * h;
                spots[n_spots++] = (spot){dxs[a], dys[b], px * px + py * py};
            }
    }
    qsort(spots, n_spots, sizeof spots[0], compare_spot);
    /* when no spot is in the frame: the anchor, moved into the frame
     * as far as the label fits */
    *best = (box){ax - w / 2 - pad, ay - h / 2 - pad, ax + w / 2 + pad, ay + h / 2 + pad};
    double shift_x = fmax(frame.x0 - best->x0, fmin(0, frame.x1 - best->x1));
    double shift_y = fmax(frame.y0 - best->y0, fmin(0, frame.y1 - best->y1));
    *best = (box){best->x0 + shift_x, best->y0 + shift_y, best->x1 + shift_x, best->y1 + shift_y};
    bool confined = at->cut != NULL && !l->selected;
    prepared cut = {strip ? at->strip : at->cut, NULL, NULL, false};
    double best_overlap = INFINITY;
    for (size_t k = 0; k < n_spots && best_overlap > 0; k++) {
        double cx = ax + spots[k].dx * step_x, cy = ay + spots[k].dy * h;
        box b = {cx - w / 2 - pad, cy - h / 2 - pad, cx + w / 2 + pad, cy + h / 2 + pad};
        /* the text as drawn, with its halo */
        double ink_x = cx - w / 2 + te->x_bearing;
        box ink = {ink_x - halo / 2, cy - te->height / 2 - halo / 2, ink_x + te->width + halo / 2,
                   cy + te->height / 2 + halo / 2};
        box in_frame = strip ? ink : b;
        if (in_frame.x0 < frame.x0 || in_frame.x1 > frame.x1 || in_frame.y0 < frame.y0 ||
            in_frame.y1 > frame.y1)
            continue;
        if (confined && !spot_in(r, &cut, cx, cy))
            continue;
        if (at->outside && box_in_zone(r, zone, ink))
            continue;
        double overlap = 0;
        for (size_t p = 0; p < n_placed; p++)
            overlap += overlap_area(b, placed[p]);
        if (overlap < best_overlap) {
            *best = b;
            best_overlap = overlap;
        }
    }
    prepared_free(r, &cut);
    return best_overlap;
}

/* Place labels greedily, selected zone and provinces first: each takes the
 * nearest of a few dozen spots around its anchor that stays in the frame and
 * is clear of the labels placed before, or, when none is clear, the spot that
 * overlaps them least. A zone the map shows only in part (a neighbour of the
 * zone of --zone, at the edge of the map) keeps its label centred in that
 * part; when no such spot is in the frame (the part is a sliver along the
 * edge), or none is clear of the labels placed before, it gets none, rather
 * than a label in the middle of another zone or over another label. The
 * label of a neighbour of the zone of --zone (place.outside) is drawn, text
 * and halo, wholly outside that zone, or not at all: its centre in the
 * neighbour's part, the text over the zone, was read as the zone's. Such a
 * part is often a strip along the map's edge (the map frames the zone with
 * a margin of 3%): where its part less the 2% kept clear along the edge has
 * no spot, the label tries the whole strip, with only its text and halo
 * within the frame; and where that has none either, smaller sizes, down to
 * the smallest text of the map (SMALLEST_TEXT). A map on which every label
 * finds its spot in the first try is drawn as before. */
static void draw_labels(renderer *r)
{
    cairo_t *cr = r->cr;
    box *placed = calloc(r->n_labels + 1, sizeof *placed);
    size_t n_placed = 0;
    box frame = {r->map_x, r->map_y, r->map_x + r->map_w, r->map_y + r->map_h};
    prepared zone = {r->zone_geom, NULL, NULL, false};
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < r->n_labels; i++) {
            label *l = &r->labels[i];
            int want = l->selected ? 0 : (l->kind == STAPEL_ZONE_PROVINCE ? 1 : 2);
            if (want != pass)
                continue;
            /* A neighbour's name that finds no place in the size of its
             * kind tries smaller sizes, down to the smallest text the map
             * has (the scale bar's). */
            double size = label_size(l);
            char *text = NULL;
            cairo_text_extents_t te;
            double w = 0;
            box best;
            for (;; size -= 1) {
                label_font(r, l, size);
                text = fitted_text(r, l->text, LABEL_ROOM * r->map_w);
                if (text == NULL)
                    break;
                cairo_text_extents(cr, text, &te);
                w = te.x_advance;
                bool confined = l->at.cut != NULL && !l->selected, placed_ok = false;
                for (int strip = 0; strip < 2 && !placed_ok; strip++) {
                    if (strip == 1 && l->at.strip == NULL)
                        break;
                    double overlap =
                        find_spot(r, l, strip == 1, &te, frame, &zone, placed, n_placed, &best);
                    placed_ok =
                        !((confined && overlap > 0) || (l->at.outside && overlap == INFINITY));
                }
                if (placed_ok)
                    break;
                free(text);
                text = NULL;
                if (!l->at.outside || size - 1 < SMALLEST_TEXT)
                    break;
            }
            if (text == NULL)
                continue; /* no place for it, or out of memory */
            double halo = 3.5 * r->u;
            if (placed != NULL)
                placed[n_placed++] = best;
            r->n_labels_drawn++;
            note_boxes(r, text, l->kind == STAPEL_ZONE_PROVINCE ? "the province" : "the NOVEX area",
                       l->text);
            double tx = (best.x0 + best.x1) / 2 - w / 2;
            double ty = (best.y0 + best.y1) / 2 - (te.y_bearing + te.height / 2);
            cairo_new_path(cr);
            cairo_move_to(cr, tx, ty);
            cairo_text_path(cr, text);
            free(text);
            cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
            cairo_set_line_width(cr, halo);
            cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
            cairo_set_dash(cr, NULL, 0, 0);
            cairo_stroke_preserve(cr);
            stapel__rgba c = stapel__zone_line(l->kind)->color;
            set_rgba(cr, c, 1.0);
            cairo_fill(cr);
        }
    }
    prepared_free(r, &zone);
    free(placed);
}

/* ---- the margins: title, legend, scale bar, north arrow, footer ------------- */

/* The title when none is given, in title (appended). The names in it are
 * quoted when one of them holds a comma (a ';' in a source's name is written
 * ','): "'Almere, Oosterwold', 'Oosterwold'" is two zones, where the bare
 * "Almere, Oosterwold, Oosterwold" might be three. Without a comma in any
 * name, ", " parts the names one way only, and they are left bare. */
static void default_title(renderer *r, stapel__buf *title)
{
    const char *base = "Stapelkaart ruimteclaims";
    if (r->zone != NULL) {
        const char *q = strchr(r->zone, ',') != NULL ? "'" : "";
        stapel__buf_printf(title, "%s \xe2\x80\x94 %s%s%s", base, q, r->zone, q);
        return;
    }
    /* One to three provinces, each named once: features of one name are one
     * province, also when it was delivered in parts. */
    zone_layer *z = &r->zones[STAPEL_ZONE_PROVINCE];
    name_list names = {0};
    stapel__buf quoted = {0};
    bool comma = false;
    int n = 0;
    if (z->layer != NULL) {
        OGR_L_ResetReading(z->layer);
        OGRFeatureH f;
        while (n <= 3 && (f = OGR_L_GetNextFeature(z->layer)) != NULL) {
            const char *name = OGR_F_IsFieldSetAndNotNull(f, z->name_field)
                                   ? OGR_F_GetFieldAsString(f, z->name_field)
                                   : NULL;
            if (name != NULL && !name_listed(&names, STAPEL_ZONE_PROVINCE, name) && ++n <= 3) {
                name_add(&names, STAPEL_ZONE_PROVINCE, name, name);
                stapel__buf_printf(&quoted, "%s'%s'", quoted.len > 0 ? ", " : "", name);
                comma = comma || strchr(name, ',') != NULL;
            }
            OGR_F_Destroy(f);
        }
    }
    const char *list = comma ? quoted.data : names.text.data;
    if (n >= 1 && n <= 3 && list != NULL)
        stapel__buf_printf(title, "%s \xe2\x80\x94 %s", base, list);
    else
        stapel__buf_puts(title, base);
    stapel__buf_free(&quoted);
    name_list_free(&names);
}

static void draw_title(renderer *r)
{
    cairo_t *cr = r->cr;
    stapel__buf b = {0};
    if (r->opts->title != NULL)
        stapel__buf_puts(&b, r->opts->title);
    else
        default_title(r, &b);
    char *title = drawable_text(b.data != NULL ? b.data : "");
    /* A PDF reader shows the document's title in its window and lists. */
    if (r->format == FORMAT_PDF && title != NULL)
        cairo_pdf_surface_set_metadata(r->surface, CAIRO_PDF_METADATA_TITLE, title);
    /* a long title gets a smaller font, then an ellipsis */
    double size = 30, room = r->width - 48 * r->u;
    font(r, size, true, false);
    while (title != NULL && text_width(r, title) > room && size > 12) {
        size -= 1;
        font(r, size, true, false);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    if (title != NULL)
        note_boxes(r, title, "the title", b.data != NULL ? b.data : "");
    stapel__buf_free(&b);
    if (title != NULL)
        draw_fitted(r, 24 * r->u, 24 * r->u + 30 * r->u, title, room);
    free(title);
    char sub[256];
    snprintf(sub, sizeof sub, "Kleur: %s per vlak%s", r->scheme->title,
             r->zone != NULL ? " \xe2\x80\x94 buiten het gebied grijs" : "");
    for (char *p = sub + strlen("Kleur: "); *p != '\0'; p++) {
        if (*p >= 'A' && *p <= 'Z') { /* "Aantal thema's" reads "aantal thema's" mid-sentence */
            *p = (char)(*p - 'A' + 'a');
            break;
        }
    }
    font(r, 16, false, false);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    draw_text(r, 24 * r->u, 24 * r->u + 60 * r->u, sub);
}

static void draw_legend(renderer *r)
{
    cairo_t *cr = r->cr;
    double u = r->u, x = r->panel_x, y = r->panel_y, w = r->panel_w;
    cairo_rectangle(cr, x, y, w, r->legend_h);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, fmax(0.8 * u, 0.5));
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    font(r, 19, true, false);
    draw_text(r, x + 14 * u, y + 30 * u, "Legenda");
    font(r, 13, false, false);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    char sub[512];
    snprintf(sub, sizeof sub, "%s per vlak", r->scheme->title);
    draw_fitted(r, x + 14 * u, y + 52 * u, sub, w - 28 * u);
    if (r->zone != NULL) {
        stapel__buf in = {0};
        stapel__buf_printf(&in, "oppervlak in %s", r->zone);
        if (in.data != NULL) {
            note_boxes(r, in.data, "the zone", r->zone);
            draw_fitted(r, x + 14 * u, y + (52 + ZONE_LINE) * u, in.data, w - 28 * u);
        }
        stapel__buf_free(&in);
    }
    double row_y = y + legend_head(r) * u;
    double sw = 36 * u, sh = 20 * u;
    for (size_t i = 0; i < r->scheme->n_classes; i++) {
        const stapel__class *c = &r->scheme->classes[i];
        cairo_rectangle(cr, x + 14 * u, row_y, sw, sh);
        set_rgba(cr, c->fill, 1.0);
        cairo_fill_preserve(cr);
        set_rgba(cr, stapel__face_outline.color, 1.0);
        cairo_set_line_width(cr, fmax(0.6 * u, 0.5));
        cairo_stroke(cr);
        char area[64];
        format_km2(area, sizeof area, r->class_m2[i]);
        font(r, 13, false, false);
        double area_w = text_width(r, area);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        draw_text(r, x + w - 14 * u - area_w, row_y + 15 * u, area);
        /* a long label gets a smaller font, then an ellipsis */
        double room = w - (14 + 10 + 10 + 14) * u - sw - area_w;
        double size = 13;
        while (size > 10 && text_width(r, c->label) > room) {
            size -= 0.5;
            font(r, size, false, false);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        draw_fitted(r, x + 14 * u + sw + 10 * u, row_y + 15 * u, c->label, room);
        row_y += ROW_H * u;
    }
    static const char *zone_labels[2] = {
        [STAPEL_ZONE_PROVINCE] = "Provinciegrens", [STAPEL_ZONE_NOVEX] = "NOVEX-gebied"};
    for (int k = 0; k < 2; k++) {
        if (r->zones[k].layer == NULL)
            continue;
        cairo_new_path(cr);
        cairo_move_to(cr, x + 14 * u, row_y + sh / 2);
        cairo_line_to(cr, x + 14 * u + sw, row_y + sh / 2);
        set_line(r, stapel__zone_line((stapel_zone_kind)k), 1.0);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        font(r, 13, false, false);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        draw_text(r, x + 14 * u + sw + 10 * u, row_y + 15 * u, zone_labels[k]);
        row_y += ROW_H * u;
    }
}

/* The largest of 1, 2 and 5 times a power of ten that is at most max. */
static double nice_length(double max)
{
    double p = pow(10.0, floor(log10(max)));
    if (5 * p <= max)
        return 5 * p;
    if (2 * p <= max)
        return 2 * p;
    return p;
}

static void format_km(char *buf, size_t size, double m)
{
    double km = m / 1000.0;
    int decimals = 0;
    while (decimals < 3 && fabs(km * pow(10, decimals) - round(km * pow(10, decimals))) > 1e-6)
        decimals++;
    format_nl(buf, size, km, decimals);
}

static void draw_scale_bar(renderer *r)
{
    cairo_t *cr = r->cr;
    double u = r->u;
    double x = r->panel_x + 14 * u, y = r->panel_y + r->legend_h + GAP * u;
    double max_m = (r->panel_w - 60 * u) / r->scale;
    double len_m = nice_length(max_m);
    double len = len_m * r->scale;
    double lead = len_m / pow(10.0, floor(log10(len_m)) + 1e-12);
    int segments = lead > 4.5 ? 5 : (lead > 1.5 ? 4 : 2);
    double seg = len / segments, bar_h = 8 * u, top = y + 26 * u;
    font(r, 12, true, false);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    draw_text(r, x, y + 12 * u, "Schaal");
    cairo_set_line_width(cr, fmax(0.8 * u, 0.5));
    cairo_set_dash(cr, NULL, 0, 0);
    for (int i = 0; i < segments; i++) {
        cairo_rectangle(cr, x + i * seg, top, seg, bar_h);
        if (i % 2 == 0)
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        else
            cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_stroke(cr);
    }
    font(r, 11, false, false);
    char num[64], last[80];
    double ticks[] = {0, len_m / 2, len_m};
    for (int i = 0; i < 3; i++) {
        if (i == 1 && segments == 5)
            continue; /* 2,5 of 5: keep 0 and the end only */
        format_km(num, sizeof num, ticks[i]);
        const char *s = num;
        if (i == 2) {
            snprintf(last, sizeof last, "%s km", num);
            s = last;
        }
        double tx =
            x + ticks[i] * r->scale - (i == 2 ? text_width(r, num) / 2 : text_width(r, s) / 2);
        draw_text(r, tx, top + bar_h + 15 * u, s);
    }
}

static void draw_north_arrow(renderer *r)
{
    cairo_t *cr = r->cr;
    double u = r->u;
    double cx = r->panel_x + r->panel_w / 2;
    double top = r->panel_y + r->legend_h + (GAP + SCALE_H + GAP) * u;
    double h = 56 * u, w = 22 * u, tip = top + 24 * u;
    font(r, 16, true, false);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    draw_text(r, cx - text_width(r, "N") / 2, top + 16 * u, "N");
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_set_line_width(cr, fmax(0.8 * u, 0.5));
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER);
    /* left half dark, right half light: the classic two-tone arrow */
    cairo_new_path(cr);
    cairo_move_to(cr, cx, tip);
    cairo_line_to(cr, cx - w / 2, tip + h);
    cairo_line_to(cr, cx, tip + h * 0.75);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_fill_preserve(cr);
    cairo_stroke(cr);
    cairo_new_path(cr);
    cairo_move_to(cr, cx, tip);
    cairo_line_to(cr, cx + w / 2, tip + h);
    cairo_line_to(cr, cx, tip + h * 0.75);
    cairo_close_path(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_stroke(cr);
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void draw_footer(renderer *r)
{
    cairo_t *cr = r->cr;
    double u = r->u, x = 24 * u, room = r->width - 48 * u;
    double y = r->height - 24 * u - 17 * u - 4 * u;
    const char *base = strrchr(r->gpkg, '/');
    base = base != NULL ? base + 1 : r->gpkg;
    qsort(r->themes, r->n_themes, sizeof r->themes[0], compare_str);
    stapel__buf line = {0};
    stapel__buf_printf(&line, "Bron: %s, lagen stack", base);
    if (r->zones[STAPEL_ZONE_PROVINCE].layer != NULL)
        stapel__buf_puts(&line, ", provinces");
    if (r->zones[STAPEL_ZONE_NOVEX].layer != NULL)
        stapel__buf_puts(&line, ", novex");
    if (r->n_themes > 0) {
        stapel__buf_puts(&line, "; thema's: ");
        for (size_t i = 0; i < r->n_themes; i++)
            stapel__buf_printf(&line, "%s%s", i > 0 ? ", " : "", r->themes[i]);
        if (r->more_themes)
            stapel__buf_puts(&line, ", \xe2\x80\xa6");
    }
    char date[32];
    if (r->opts->date != NULL) {
        snprintf(date, sizeof date, "%s", r->opts->date);
    } else {
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    }
    char second[512];
    snprintf(second, sizeof second, "%s \xc2\xb7 %s \xc2\xb7 gemaakt met stapel %s", r->crs_text,
             date, STAPEL_VERSION);
    font(r, 12, false, false);
    for (size_t i = 0; i < r->n_themes; i++)
        note_boxes(r, r->themes[i], "the theme", r->themes[i]);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    if (line.data != NULL)
        draw_fitted(r, x, y, line.data, room);
    draw_fitted(r, x, y + 17 * u, second, room);
    stapel__buf_free(&line);
}

/* ---- the whole picture -------------------------------------------------------- */

/* Where the picture's bytes go: the temporary file, unless the run was
 * cancelled (encoding a large picture takes seconds, and a cancel must not
 * wait for it). stapel writes the file itself, for SVG and PDF too: cairo's
 * PDF surface, given a file name, let a failed write pass (a full disk gave
 * a cut-off PDF, and success). */
static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int length)
{
    file_sink *s = closure;
    if (stapel__cancelled(s->ctx))
        return CAIRO_STATUS_WRITE_ERROR;
    if (fwrite(data, 1, length, s->f) != length) {
        if (s->err == 0)
            s->err = errno != 0 ? errno : EIO;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

/* Close the temporary file; false (with errno in sink->err) when what was
 * written did not all reach it. With sync, it is on disk first: a picture
 * about to take its name, as a stack GeoPackage is, so that after a crash
 * the name holds the whole picture or the old one (a file that is to be
 * removed is not waited for). */
static bool sink_close(file_sink *sink, bool sync)
{
    if (sink->f == NULL)
        return true;
    bool ok = fflush(sink->f) == 0 && (!sync || fdatasync(fileno(sink->f)) == 0);
    int saved = errno;
    ok = fclose(sink->f) == 0 && ok;
    if (!ok && errno == 0)
        errno = saved;
    if (!ok && sink->err == 0)
        sink->err = errno;
    sink->f = NULL;
    return ok;
}

/* Whether date is a day written YYYY-MM-DD, as the CLI makes it of
 * SOURCE_DATE_EPOCH. */
static bool iso_day(const char *date)
{
    if (date == NULL || strlen(date) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? date[i] != '-' : date[i] < '0' || date[i] > '9')
            return false;
    return true;
}

static stapel_status open_surface(renderer *r, const char *tmp)
{
    double w = r->width, h = r->height;
    r->sink = (file_sink){NULL, r->ctx, 0};
    if (r->format != FORMAT_PNG && (r->sink.f = fopen(tmp, "wb")) == NULL)
        return stapel__fail(r->ctx, STAPEL_EIO, "cannot write the picture '%s': %s", r->path,
                            stapel__strerror(errno));
    switch (r->format) {
    case FORMAT_PNG:
        r->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, r->width, r->height);
        break;
    case FORMAT_SVG:
        r->surface = cairo_svg_surface_create_for_stream(sink_write, &r->sink, w, h);
        break;
    case FORMAT_PDF:
        r->surface = cairo_pdf_surface_create_for_stream(sink_write, &r->sink, w, h);
        if (cairo_surface_status(r->surface) == CAIRO_STATUS_SUCCESS) {
            cairo_pdf_surface_set_metadata(r->surface, CAIRO_PDF_METADATA_CREATOR,
                                           "stapel " STAPEL_VERSION);
            /* cairo dates the document now, which a given footer date
             * (SOURCE_DATE_EPOCH's day) must replace for the same bytes.
             * cairo 1.16 writes a date so given without its 'D:' prefix,
             * which PDF 1.7 calls optional (ISO 32000-2 wants it): pdfinfo
             * reads it, pdf.js shows no date. There is no other way to
             * date the document, nor to leave the date out. */
            if (iso_day(r->opts->date)) {
                char when[32];
                snprintf(when, sizeof when, "%sT00:00:00Z", r->opts->date);
                cairo_pdf_surface_set_metadata(r->surface, CAIRO_PDF_METADATA_CREATE_DATE, when);
            }
        }
        break;
    }
    cairo_status_t cs = cairo_surface_status(r->surface);
    if (r->sink.err != 0)
        return stapel__fail(r->ctx, STAPEL_EIO, "cannot write the picture '%s': %s", r->path,
                            stapel__strerror(r->sink.err));
    if (cs != CAIRO_STATUS_SUCCESS)
        return stapel__fail(r->ctx, cs == CAIRO_STATUS_NO_MEMORY ? STAPEL_ENOMEM : STAPEL_EIO,
                            "cannot start the picture '%s': %s", r->path,
                            cairo_status_to_string(cs));
    r->cr = cairo_create(r->surface);
    cs = cairo_status(r->cr);
    if (cs != CAIRO_STATUS_SUCCESS)
        return stapel__fail(r->ctx, STAPEL_ENOMEM, "%s: cannot start drawing: %s", r->path,
                            cairo_status_to_string(cs));
    return STAPEL_OK;
}

/* Warn when the font has no glyph for characters the map always writes.
 * Where fontconfig finds no DejaVu Sans it gives another font, or, with
 * none installed at all, cairo's own, which lacks them: the picture would
 * show boxes for "km²" in every legend row, with no word. A missing glyph
 * is glyph 0 (.notdef) in a font file and in cairo's own font alike. */
static void check_font(renderer *r)
{
    static const char written[] = "\xc2\xb2\xe2\x80\x94\xc2\xb7\xe2\x80\xa6\xc3\xa9"; /* ²—·…é */
    font(r, 13, false, false);
    cairo_glyph_t *glyphs = NULL;
    int n = 0;
    bool missing = false;
    if (cairo_scaled_font_text_to_glyphs(cairo_get_scaled_font(r->cr), 0, 0, written, -1, &glyphs,
                                         &n, NULL, NULL, NULL) == CAIRO_STATUS_SUCCESS)
        for (int i = 0; i < n; i++)
            missing = missing || glyphs[i].index == 0;
    cairo_glyph_free(glyphs);
    if (missing)
        stapel__log(r->ctx, STAPEL_LOG_WARN,
                    "the font '%s' is not installed, and the font drawn instead has no glyph for "
                    "some characters the map writes (km\xc2\xb2, \xe2\x80\x94, \xc2\xb7, "
                    "\xe2\x80\xa6, \xc3\xa9): they show as boxes; install it (on Debian: "
                    "apt-get install fonts-dejavu-core)",
                    FONT);
}

static stapel_status draw(renderer *r)
{
    check_font(r);
    cairo_t *cr = r->cr;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    stapel_status st = draw_faces(r);
    if (st != STAPEL_OK)
        return st;
    draw_veil(r);
    st = draw_zone_layer(r, STAPEL_ZONE_NOVEX);
    if (st == STAPEL_OK)
        st = draw_zone_layer(r, STAPEL_ZONE_PROVINCE);
    if (st != STAPEL_OK)
        return st;
    cairo_save(cr);
    cairo_rectangle(cr, r->map_x, r->map_y, r->map_w, r->map_h);
    cairo_clip(cr);
    draw_labels(r);
    cairo_restore(cr);
    cairo_new_path(cr);
    cairo_rectangle(cr, r->map_x, r->map_y, r->map_w, r->map_h);
    cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
    cairo_set_line_width(cr, fmax(r->u, 0.5));
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_stroke(cr);
    draw_title(r);
    draw_legend(r);
    draw_scale_bar(r);
    draw_north_arrow(r);
    draw_footer(r);
    cairo_status_t cs = cairo_status(cr);
    if (cs != CAIRO_STATUS_SUCCESS && stapel__cancelled(r->ctx))
        return stapel__fail(r->ctx, STAPEL_ECANCELLED, "cancelled while rendering");
    if (cs != CAIRO_STATUS_SUCCESS && r->sink.err != 0)
        return stapel__fail(r->ctx, STAPEL_EIO, "cannot write the picture '%s': %s", r->path,
                            stapel__strerror(r->sink.err));
    if (cs != CAIRO_STATUS_SUCCESS)
        return stapel__fail(r->ctx, cs == CAIRO_STATUS_NO_MEMORY ? STAPEL_ENOMEM : STAPEL_EIO,
                            "%s: drawing failed: %s", r->path, cairo_status_to_string(cs));
    if (r->n_boxes > 0)
        stapel__log(r->ctx, STAPEL_LOG_WARN,
                    "%s: the font '%s' has no glyph for some characters of the map's names, "
                    "which show as boxes: %s%s",
                    r->gpkg, FONT, r->boxes_told.data != NULL ? r->boxes_told.data : "",
                    r->more_boxes ? ", and more" : "");
    return STAPEL_OK;
}

static stapel_status finish(renderer *r, const char *tmp)
{
    cairo_status_t cs;
    if (r->format == FORMAT_PNG) {
        cairo_surface_flush(r->surface);
        r->sink.f = fopen(tmp, "wb");
        if (r->sink.f == NULL)
            return stapel__fail(r->ctx, STAPEL_EIO, "cannot write the picture '%s': %s", r->path,
                                stapel__strerror(errno));
        cs = cairo_surface_write_to_png_stream(r->surface, sink_write, &r->sink);
    } else {
        cairo_surface_finish(r->surface);
        cs = cairo_surface_status(r->surface);
    }
    if (!sink_close(&r->sink, cs == CAIRO_STATUS_SUCCESS) && cs == CAIRO_STATUS_SUCCESS)
        cs = CAIRO_STATUS_WRITE_ERROR;
    if (r->sink.err != 0 && cs == CAIRO_STATUS_SUCCESS) /* a failed write cairo let pass */
        cs = CAIRO_STATUS_WRITE_ERROR;
    /* The last check before the picture takes its name. */
    if (stapel__cancelled(r->ctx))
        return stapel__fail(r->ctx, STAPEL_ECANCELLED, "cancelled while writing the picture");
    if (cs != CAIRO_STATUS_SUCCESS)
        return stapel__fail(r->ctx, STAPEL_EIO, "cannot write the picture '%s': %s", r->path,
                            cs == CAIRO_STATUS_WRITE_ERROR && r->sink.err != 0
                                ? stapel__strerror(r->sink.err)
                                : cairo_status_to_string(cs));
    return STAPEL_OK;
}

stapel_status stapel_render(stapel_ctx *ctx, stapel_render_layout *layout, const char *gpkg,
                            const char *path, const stapel_render_opts *opts)
{
    STAPEL__ENTER(ctx);
    stapel_render_opts defaults = STAPEL_RENDER_OPTS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (gpkg == NULL || gpkg[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "no GeoPackage to render");
    if (path == NULL || path[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "no picture path");
    renderer r = {.ctx = ctx, .gpkg = gpkg, .path = path, .opts = opts, .zone = opts->zone};
    r.scheme = stapel__scheme_find(opts->field != NULL ? opts->field : "n_themes");
    if (r.scheme == NULL)
        return stapel__fail(ctx, STAPEL_EINVAL, "unknown field '%s'; choose %s", opts->field,
                            stapel__scheme_fields());
    stapel_status st = format_of(ctx, path, &r.format);
    if (st != STAPEL_OK)
        return st;
    int width = opts->width > 0 ? opts->width : (r.format == FORMAT_PNG ? 2000 : 842);
    if (opts->width < 0 || width < 300 || width > 20000)
        return stapel__fail(ctx, STAPEL_EINVAL, "width %d is out of range; give 300 to 20000",
                            opts->width);
    if (r.zone != NULL && r.zone[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "empty zone name");
    /* As stack and merge check their output: the GeoPackage itself (also
     * with overwrite) and a directory are STAPEL_EINVAL, a directory that
     * cannot take the picture STAPEL_EIO. An existing file without
     * overwrite (STAPEL_EEXISTS) is told once the GeoPackage, the zone and
     * the width are found good, below: else an --overwrite given to get
     * past it would only lead to the mistake in them. */
    st = stapel__output_not_input(ctx, path, "the GeoPackage to render", gpkg);
    if (st != STAPEL_OK)
        return st;
    st = stapel__output_check(ctx, path, STAPEL_WRITE_OVERWRITE);
    if (st != STAPEL_OK)
        return st;
    char *tmp = stapel__temp_path(path, ".tmp");
    if (tmp == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "%s: out of memory", path);
    bool tmp_started = false;
    stapel__gdal_push(ctx);
    /* Fail before any work when the picture cannot be created there. */
    FILE *probe = fopen(tmp, "wb");
    if (probe == NULL) {
        st = stapel__cannot_create(ctx, path, tmp, errno);
        goto done;
    }
    fclose(probe);
    tmp_started = true;
    st = open_layers(&r);
    if (st != STAPEL_OK)
        goto done;
    st = setup_crs(&r);
    if (st != STAPEL_OK)
        goto done;
    if (r.zone != NULL) {
        st = find_zone(&r);
        if (st != STAPEL_OK)
            goto done;
    }
    st = choose_extent(&r);
    if (st != STAPEL_OK)
        goto done;
    st = compute_layout(&r, width);
    if (st != STAPEL_OK)
        goto done;
    if (!opts->overwrite) {
        st = stapel__output_check(ctx, path, 0);
        if (st != STAPEL_OK)
            goto done;
    }
    st = open_surface(&r, tmp);
    if (st != STAPEL_OK)
        goto done;
    st = draw(&r);
    if (st != STAPEL_OK)
        goto done;
    st = finish(&r, tmp);
    if (st != STAPEL_OK)
        goto done;
    /* Without overwrite, a file that appeared at the path while the map was
     * drawn is kept, and the temporary picture removed (below). */
    st = stapel__publish(ctx, tmp, path, opts->overwrite);
    if (st != STAPEL_OK)
        goto done;
    stapel__progress(ctx, "rendering", 1.0);
    if (layout != NULL)
        *layout = (stapel_render_layout){
            .width = r.width,
            .height = r.height,
            .map_x = r.map_x,
            .map_y = r.map_y,
            .map_w = r.map_w,
            .map_h = r.map_h,
            .xmin = r.xmin,
            .ymin = r.ymin,
            .xmax = r.xmax,
            .ymax = r.ymax,
            .legend_x = r.panel_x,
            .legend_y = r.panel_y,
            .legend_w = r.panel_w,
            .legend_h = r.legend_h,
            .n_faces = r.n_faces,
            .n_labels = r.n_labels_drawn,
        };
done:
    if (r.cr != NULL)
        cairo_destroy(r.cr);
    if (r.surface != NULL)
        cairo_surface_destroy(r.surface);
    sink_close(&r.sink, false);
    if (st != STAPEL_OK && tmp_started)
        unlink(tmp);
    if (r.zone_geom != NULL)
        OGR_G_DestroyGeometry(r.zone_geom);
    if (r.to_rd != NULL)
        OCTDestroyCoordinateTransformation(r.to_rd);
    if (r.from_rd != NULL)
        OCTDestroyCoordinateTransformation(r.from_rd);
    if (r.ds != NULL)
        GDALClose(r.ds);
    stapel__gdal_pop();
    for (size_t i = 0; i < r.n_themes; i++)
        free(r.themes[i]);
    for (size_t i = 0; i < r.n_labels; i++) {
        free(r.labels[i].text);
        place_free(&r.labels[i].at);
    }
    free(r.labels);
    stapel__buf_free(&r.boxes_told);
    for (size_t i = 0; i < r.n_unclassed_told; i++)
        free(r.unclassed[i]);
    free(r.zone_asked);
    free(r.zone_stored);
    stapel_zone_hint_free(&r.zone_near);
    free(r.xs);
    free(r.ys);
    free(tmp);
    return st;
}
