/*
 * fuzz_ingest.c - libFuzzer harness for geometry ingestion: the input bytes
 * are WKB. A geometry OGR accepts is added, as feature 3, to a GeoPackage in
 * /vsimem/ that holds two fixed overlapping 100 m squares (EPSG:28992,
 * geometry type unknown, so points, lines, curves, Z/M and collections all get
 * through), and the layer is stacked: read, converted, checked, repaired with
 * MakeValid, overlaid.
 *
 * A failed build is fine (bad coordinates, points in a claim layer, ...) as
 * long as it fails cleanly, with a message and no stack, and not for lack of
 * memory or a GEOS error. A finished build
 * must hold faces with finite, non-negative areas and 1 to 3 claims, and at
 * least the area of the two squares. Anything else aborts, which libFuzzer
 * reports. FUZZ_VERBOSE=1 in the environment prints what became of each
 * input.
 *
 * The same file, linked with replay.c instead of libFuzzer, replays the seed
 * corpus and the regressions as an ordinary test.
 */
#include "stapel.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "/vsimem/fuzz_ingest.gpkg"
#define TEMPLATE "/vsimem/fuzz_ingest_template.gpkg"

static stapel_ctx *ctx;
static bool verbose;
/* The GeoPackage with the two squares, made once; each input starts from a
 * copy of its bytes (opening a GeoPackage costs much less than creating one). */
static GByte *template_bytes;
static vsi_l_offset template_size;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_ingest: %s\n", what);
    abort();
}

static bool add(OGRLayerH l, OGRGeometryH g)
{
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));
    OGR_F_SetGeometry(f, g);
    OGRErr err = OGR_L_CreateFeature(l, f);
    OGR_F_Destroy(f);
    return err == OGRERR_NONE;
}

static OGRGeometryH square(double x, double y)
{
    OGRGeometryH g = NULL;
    char wkt[256];
    snprintf(wkt, sizeof wkt, "POLYGON ((%.0f %.0f,%.0f %.0f,%.0f %.0f,%.0f %.0f,%.0f %.0f))", x,
             y, x + 100, y, x + 100, y + 100, x, y + 100, x, y);
    char *p = wkt;
    if (OGR_G_CreateFromWkt(&p, NULL, &g) != OGRERR_NONE)
        fail("bad square");
    return g;
}

static void make_template(void)
{
    OGRSpatialReferenceH rd = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(rd, 28992);
    GDALDatasetH ds =
        GDALCreate(GDALGetDriverByName("GPKG"), TEMPLATE, 0, 0, 0, GDT_Unknown, NULL);
    if (ds == NULL)
        fail("cannot create the /vsimem/ GeoPackage");
    char *opts[] = {"SPATIAL_INDEX=NO", NULL};
    OGRLayerH l = GDALDatasetCreateLayer(ds, "claims", rd, wkbUnknown, opts);
    if (l == NULL)
        fail("cannot create the layer");
    OGRGeometryH a = square(150000, 450000), b = square(150050, 450050);
    if (!add(l, a) || !add(l, b))
        fail("cannot write the fixed squares");
    OGR_G_DestroyGeometry(a);
    OGR_G_DestroyGeometry(b);
    GDALClose(ds);
    OSRDestroySpatialReference(rd);
    template_bytes = VSIGetMemFileBuffer(TEMPLATE, &template_size, TRUE);
    if (template_bytes == NULL)
        fail("cannot take the template's bytes");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CPLSetErrorHandler(CPLQuietErrorHandler); /* GDAL's own chatter */
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (stapel_ctx_new(&ctx) != STAPEL_OK)
        fail("cannot create a context");
    make_template();
    return 0;
}

/* Write the input dataset; false when GDAL refuses the geometry (not
 * stapel's business). */
static bool write_input(OGRGeometryH fuzzed)
{
    GByte *copy = CPLMalloc((size_t)template_size);
    memcpy(copy, template_bytes, (size_t)template_size);
    VSILFILE *fp = VSIFileFromMemBuffer(PATH, copy, template_size, TRUE);
    if (fp == NULL)
        fail("cannot create the /vsimem/ GeoPackage");
    VSIFCloseL(fp);
    GDALDatasetH ds = GDALOpenEx(PATH, GDAL_OF_VECTOR | GDAL_OF_UPDATE, NULL, NULL, NULL);
    if (ds == NULL)
        fail("cannot open the /vsimem/ GeoPackage");
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "claims");
    CPLErrorReset();
    bool ok = add(l, fuzzed) && CPLGetLastErrorType() < CE_Failure;
    GDALClose(ds);
    return ok;
}

static void check(stapel_status st, stapel_stack *s)
{
    if (st != STAPEL_OK) {
        if (s != NULL)
            fail("a failed build returned a stack");
        /* Three small claims cannot exhaust memory, and GEOS must never
         * throw: either means a bug (an overflowed size, an unguarded
         * topology exception). */
        if (st == STAPEL_ENOMEM || st == STAPEL_EGEOS)
            fail(stapel_ctx_message(ctx));
        if (stapel_ctx_message(ctx)[0] == '\0')
            fail("a failed build left no message");
        return;
    }
    double total = 0;
    size_t n = stapel_stack_face_count(s);
    for (size_t i = 0; i < n; i++) {
        stapel_face f = stapel_stack_face(s, i);
        if (!isfinite(f.area_m2) || f.area_m2 < 0)
            fail("a face with a non-finite or negative area");
        if (f.n_claims < 1 || f.n_claims > 3 || f.n_themes != 1)
            fail("a face with an impossible claim count");
        total += f.area_m2;
    }
    /* The two squares alone cover 17,500 m². */
    if (!(total >= 17500.0 - 1.0))
        fail("the stack lost area of the fixed squares");
    stapel_stack_stats stats = stapel_stack_get_stats(s);
    if (stats.n_read != 3 || stats.n_claims < 2 || stats.n_claims > 3)
        fail("wrong counts");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    OGRGeometryH g = NULL;
    if (OGR_G_CreateFromWkbEx(data, NULL, &g, size) != OGRERR_NONE || g == NULL)
        return 0;
    bool ok = write_input(g);
    OGR_G_DestroyGeometry(g);
    if (!ok) {
        VSIUnlink(PATH);
        return 0;
    }
    stapel_stack_opts opts = STAPEL_STACK_OPTS_INIT;
    opts.threads = 1;
    stapel_job *job = NULL;
    stapel_stack *s = (stapel_stack *)&s; /* a failed build must set it to NULL */
    if (stapel_job_new(ctx, &job, &opts) != STAPEL_OK ||
        stapel_job_add_layer(ctx, job, "nature", PATH, NULL) != STAPEL_OK)
        fail("cannot set up the job");
    stapel_status st = stapel_stack_build(ctx, &s, job);
    if (verbose)
        fprintf(stderr, "  %s: %s\n", stapel_status_str(st),
                st == STAPEL_OK ? "built" : stapel_ctx_message(ctx));
    check(st, s);
    stapel_stack_free(s);
    stapel_job_free(job);
    VSIUnlink(PATH);
    return 0;
}
