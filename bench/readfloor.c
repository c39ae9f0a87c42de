/*
 * readfloor.c - the "read floor" of the benchmark (issue 6): the least work any
 * overlay tool must do on the same inputs. It reads every geometry of every
 * source through GDAL/OGR and converts it to a GEOS geometry (WKB, reentrant
 * API), then throws it away. No reprojection, no validity check, no overlay;
 * attribute fields are not fetched (OGR_L_SetIgnoredFields).
 *
 * With --t_srs CRS it also reprojects every geometry to CRS (OGR_G_Transform,
 * traditional GIS axis order, as stapel reads) before the conversion: the
 * bench's second, informative floor, "read + reproject", which shows what the
 * reprojection that the floor leaves out costs.
 *
 *   readfloor [--t_srs CRS] SOURCE [SOURCE ...]
 *
 * SOURCE is anything GDAL opens, optionally with '|layername=NAME'; without
 * it, every layer of the dataset is read. Prints one line to stdout:
 *   readfloor: L layers, F features, G geometries, V vertices in S s
 * Exit status: 0 ok, 1 a source could not be read, 2 usage.
 *
 * Built by bench/run (cc + pkg-config gdal geos); not part of the meson build.
 */
#define _POSIX_C_SOURCE 200809L
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct counts {
    long long layers, features, geoms, vertices;
} counts;

static void geos_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("readfloor: geos: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The transformation from lyr's CRS to target (NULL: none needed or no
 * target). Sets *failed when one is needed but cannot be made. */
static OGRCoordinateTransformationH layer_ct(OGRLayerH lyr, OGRSpatialReferenceH target,
                                             int *failed)
{
    *failed = 0;
    OGRSpatialReferenceH src = OGR_L_GetSpatialRef(lyr);
    if (target == NULL || src == NULL || OSRIsSame(src, target))
        return NULL;
    OGRSpatialReferenceH s = OSRClone(src);
    OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(s, target);
    OSRDestroySpatialReference(s);
    if (ct == NULL) {
        fprintf(stderr, "readfloor: layer %s: no transformation to --t_srs\n",
                OGR_L_GetName(lyr));
        *failed = 1;
    }
    return ct;
}

static int read_layer(GEOSContextHandle_t gh, GEOSWKBReader *rd, OGRLayerH lyr,
                      OGRSpatialReferenceH target, unsigned char **buf, size_t *cap, counts *c)
{
    int failed;
    OGRCoordinateTransformationH ct = layer_ct(lyr, target, &failed);
    if (failed)
        return 1;
    /* Geometry only: skip every attribute field and the style string. */
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    int nf = OGR_FD_GetFieldCount(defn);
    const char **ignored = calloc((size_t)nf + 2, sizeof *ignored);
    if (ignored == NULL) {
        OCTDestroyCoordinateTransformation(ct);
        return 1;
    }
    for (int i = 0; i < nf; i++)
        ignored[i] = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
    ignored[nf] = "OGR_STYLE";
    OGR_L_SetIgnoredFields(lyr, ignored);
    free(ignored);

    c->layers++;
    OGR_L_ResetReading(lyr);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        c->features++;
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (g != NULL && ct != NULL && OGR_G_Transform(g, ct) != OGRERR_NONE) {
            fprintf(stderr, "readfloor: feature " CPL_FRMT_GIB ": cannot reproject it\n",
                    OGR_F_GetFID(f));
            OGR_F_Destroy(f);
            OCTDestroyCoordinateTransformation(ct);
            return 1;
        }
        if (g != NULL && !OGR_G_IsEmpty(g)) {
            size_t need = (size_t)OGR_G_WkbSize(g);
            if (need > *cap) {
                unsigned char *nb = realloc(*buf, need);
                if (nb == NULL) {
                    OGR_F_Destroy(f);
                    OCTDestroyCoordinateTransformation(ct);
                    return 1;
                }
                *buf = nb;
                *cap = need;
            }
            if (OGR_G_ExportToIsoWkb(g, wkbNDR, *buf) != OGRERR_NONE) {
                fprintf(stderr, "readfloor: feature " CPL_FRMT_GIB ": cannot export WKB\n",
                        OGR_F_GetFID(f));
                OGR_F_Destroy(f);
                OCTDestroyCoordinateTransformation(ct);
                return 1;
            }
            GEOSGeometry *gg = GEOSWKBReader_read_r(gh, rd, *buf, need);
            if (gg == NULL) {
                fprintf(stderr, "readfloor: feature " CPL_FRMT_GIB ": GEOS cannot read it\n",
                        OGR_F_GetFID(f));
                OGR_F_Destroy(f);
                OCTDestroyCoordinateTransformation(ct);
                return 1;
            }
            int nv = GEOSGetNumCoordinates_r(gh, gg);
            if (nv > 0)
                c->vertices += nv;
            c->geoms++;
            GEOSGeom_destroy_r(gh, gg);
        }
        OGR_F_Destroy(f);
    }
    OCTDestroyCoordinateTransformation(ct);
    return 0;
}

static int read_source(GEOSContextHandle_t gh, GEOSWKBReader *rd, const char *source,
                       OGRSpatialReferenceH target, unsigned char **buf, size_t *cap, counts *c)
{
    char *path = strdup(source);
    if (path == NULL)
        return 1;
    const char *layername = NULL;
    char *bar = strchr(path, '|');
    if (bar != NULL) {
        *bar = '\0';
        if (strncmp(bar + 1, "layername=", 10) != 0) {
            fprintf(stderr, "readfloor: '%s': only '|layername=NAME' is understood\n", source);
            free(path);
            return 1;
        }
        layername = bar + 11;
    }
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (ds == NULL) {
        fprintf(stderr, "readfloor: cannot open '%s': %s\n", path, CPLGetLastErrorMsg());
        free(path);
        return 1;
    }
    int rc = 0;
    if (layername != NULL) {
        OGRLayerH lyr = GDALDatasetGetLayerByName(ds, layername);
        if (lyr == NULL) {
            fprintf(stderr, "readfloor: '%s' has no layer '%s'\n", path, layername);
            rc = 1;
        } else {
            rc = read_layer(gh, rd, lyr, target, buf, cap, c);
        }
    } else {
        int n = GDALDatasetGetLayerCount(ds);
        for (int i = 0; i < n && rc == 0; i++)
            rc = read_layer(gh, rd, GDALDatasetGetLayer(ds, i), target, buf, cap, c);
    }
    GDALClose(ds);
    free(path);
    return rc;
}

int main(int argc, char **argv)
{
    int first = 1;
    const char *t_srs = NULL;
    if (argc > 2 && strcmp(argv[1], "--t_srs") == 0) {
        t_srs = argv[2];
        first = 3;
    }
    if (argc <= first || strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
        fprintf(stderr, "usage: readfloor [--t_srs CRS] SOURCE[|layername=NAME] ...\n");
        return 2;
    }
    double t0 = now_seconds();
    GDALAllRegister();
    OGRSpatialReferenceH target = NULL;
    if (t_srs != NULL) {
        target = OSRNewSpatialReference(NULL);
        if (OSRSetFromUserInput(target, t_srs) != OGRERR_NONE) {
            fprintf(stderr, "readfloor: unknown --t_srs '%s'\n", t_srs);
            OSRDestroySpatialReference(target);
            return 2;
        }
        OSRSetAxisMappingStrategy(target, OAMS_TRADITIONAL_GIS_ORDER);
    }
    GEOSContextHandle_t gh = GEOS_init_r();
    GEOSContext_setNoticeHandler_r(gh, geos_msg);
    GEOSContext_setErrorHandler_r(gh, geos_msg);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(gh);
    unsigned char *buf = NULL;
    size_t cap = 0;
    counts c = {0};
    int rc = 0;
    for (int i = first; i < argc && rc == 0; i++)
        rc = read_source(gh, rd, argv[i], target, &buf, &cap, &c);
    free(buf);
    GEOSWKBReader_destroy_r(gh, rd);
    GEOS_finish_r(gh);
    if (target != NULL)
        OSRDestroySpatialReference(target);
    if (rc != 0)
        return 1;
    printf("readfloor: %lld layers, %lld features, %lld geometries, %lld vertices in %.3f s\n",
           c.layers, c.features, c.geoms, c.vertices, now_seconds() - t0);
    return 0;
}
