/*
 * info.c - stapel_info_read(): what a source holds, layer by layer, with the
 * geometries counted as null, empty or invalid (checked by GEOS, not by OGR,
 * so the count matches what the stack will repair).
 */
#include "geom.h"
#include "json_check.h"
#include "source.h"

#include <cpl_string.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void layer_info_clear(stapel_layer_info *li)
{
    free(li->name);
    free(li->unreadable);
    free(li->geometry_type);
    for (size_t i = 0; i < li->n_geometry_columns; i++)
        free(li->geometry_columns[i]);
    free(li->geometry_columns);
    free(li->crs_name);
    free(li->crs_file_unread);
    free(li->wkt_column);
    free(li->encoding);
    for (size_t i = 0; i < li->n_fields; i++) {
        free(li->fields[i].name);
        free(li->fields[i].type);
    }
    free(li->fields);
}

void stapel_source_info_free(stapel_source_info *info)
{
    if (info == NULL)
        return;
    for (size_t i = 0; i < info->n_layers; i++)
        layer_info_clear(&info->layers[i]);
    free(info->layers);
    free(info->source);
    free(info->driver);
    free(info);
}

static stapel_status crs_describe(stapel_layer_info *li, OGRSpatialReferenceH srs)
{
    if (srs == NULL)
        return STAPEL_OK;
    const char *name = OSRGetName(srs);
    li->crs_name = stapel__strdup(name != NULL ? name : "unnamed");
    if (li->crs_name == NULL)
        return STAPEL_ENOMEM;
    li->crs_local = OSRIsLocal(srs) != 0;
    const char *auth = OSRGetAuthorityName(srs, NULL);
    const char *code = OSRGetAuthorityCode(srs, NULL);
    if (auth != NULL && code != NULL && strcmp(auth, "EPSG") == 0) {
        li->epsg = atoi(code);
        return STAPEL_OK;
    }
    /* A shapefile's .prj carries no authority: ask PROJ which EPSG CRS it is. */
    int n = 0;
    int *confidence = NULL;
    OGRSpatialReferenceH *matches = OSRFindMatches(srs, NULL, &n, &confidence);
    if (matches != NULL && n > 0 && confidence[0] >= 90) {
        const char *mauth = OSRGetAuthorityName(matches[0], NULL);
        const char *mcode = OSRGetAuthorityCode(matches[0], NULL);
        if (mauth != NULL && mcode != NULL && strcmp(mauth, "EPSG") == 0)
            li->epsg = atoi(mcode);
    }
    OSRFreeSRSArray(matches);
    CPLFree(confidence);
    return STAPEL_OK;
}

/* The extent is that of the geometries read, not the one the driver states
 * (OGR_L_GetExtent): a GeoPackage's gpkg_contents extent is widened by GDAL
 * as features are written but never narrowed, so a layer whose rows were
 * deleted with SQL or in QGIS showed where they had been, and an emptied
 * one an extent. Its R-tree, which render reads, holds boxes rounded
 * outwards to 32-bit floats (some 3 cm in RD): the geometries are read here
 * anyway, and give it to the millimetre. */
static void extent_add(stapel_layer_info *li, OGRGeometryH g)
{
    OGREnvelope e;
    OGR_G_GetEnvelope(g, &e);
    if (!li->has_extent) {
        li->has_extent = true;
        li->xmin = e.MinX;
        li->ymin = e.MinY;
        li->xmax = e.MaxX;
        li->ymax = e.MaxY;
        return;
    }
    li->xmin = fmin(li->xmin, e.MinX);
    li->ymin = fmin(li->ymin, e.MinY);
    li->xmax = fmax(li->xmax, e.MaxX);
    li->ymax = fmax(li->ymax, e.MaxY);
}

static stapel_status layer_describe(stapel_ctx *ctx, stapel_layer_info *li, GDALDatasetH ds,
                                    OGRLayerH l, const char *source)
{
    li->name = stapel__strdup(OGR_L_GetName(l));
    li->geometry_type = stapel__strdup(OGRGeometryTypeToName(OGR_L_GetGeomType(l)));
    if (li->name == NULL || li->geometry_type == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    OGRFeatureDefnH gdefn = OGR_L_GetLayerDefn(l);
    int ngf = OGR_FD_GetGeomFieldCount(gdefn);
    if (ngf > 1) {
        if ((li->geometry_columns = calloc((size_t)ngf, sizeof(char *))) == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        for (int i = 0; i < ngf; i++) {
            li->geometry_columns[i] =
                stapel__strdup(OGR_GFld_GetNameRef(OGR_FD_GetGeomFieldDefn(gdefn, i)));
            li->n_geometry_columns++;
            if (li->geometry_columns[i] == NULL)
                return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        }
    }
    ctx->reading_layer = li->name; /* for GDAL's warnings */
    li->n_features = OGR_L_GetFeatureCount(l, 1);
    stapel__gdal_seen_pass(ctx->gdal_seen); /* counting may have read it all */
    if (crs_describe(li, stapel__layer_srs(l)) != STAPEL_OK)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    const char *prj =
        li->crs_name == NULL ? stapel__unread_prj(ds, GDALGetDescription(ds), li->name) : NULL;
    if (prj != NULL && (li->crs_file_unread = stapel__strdup(prj)) == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    /* Names garbled by the wrong code page are the commonest trouble with
     * a shapefile's text: say what GDAL reads it as, and why. */
    if (stapel__driver_is(ds, "ESRI Shapefile")) {
        const char *enc = GDALGetMetadataItem((GDALMajorObjectH)l, "SOURCE_ENCODING", "SHAPEFILE");
        const char *cpg =
            GDALGetMetadataItem((GDALMajorObjectH)l, "ENCODING_FROM_CPG", "SHAPEFILE");
        li->encoding_from_cpg = cpg != NULL && cpg[0] != '\0';
        li->dbf_missing = stapel__shapefile_no_dbf(ds, l);
        if ((li->encoding = stapel__strdup(enc != NULL ? enc : "")) == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    int srids[3];
    int n = stapel__pg_srids(ds, l, NULL, srids, 3);
    /* why GDAL finds no CRS */
    int unknown = n <= 1 && li->crs_name == NULL && li->crs_file_unread == NULL
                      ? stapel__pg_unknown_srid(ds, l, NULL)
                      : -1;
    if (n > 1) {
        li->n_srids = n;
        memcpy(li->srids, srids, (size_t)n * sizeof *srids);
    } else if (unknown >= 0) {
        li->n_srids = 1;
        li->srids[0] = unknown;
    }

    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    int nf = OGR_FD_GetFieldCount(defn);
    if (nf > 0) {
        li->fields = calloc((size_t)nf, sizeof *li->fields);
        if (li->fields == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    for (int i = 0; i < nf; i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
        li->fields[i].name = stapel__strdup(OGR_Fld_GetNameRef(fd));
        li->fields[i].type = stapel__strdup(OGR_GetFieldTypeName(OGR_Fld_GetType(fd)));
        li->n_fields++;
        if (li->fields[i].name == NULL || li->fields[i].type == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }

    if (OGR_FD_GetGeomFieldCount(defn) == 0) {
        const char *wkt = stapel__csv_wkt_column(ds, l);
        if (wkt != NULL && (li->wkt_column = stapel__strdup(wkt)) == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }

    li->first_not_polygonal = li->first_mixed = -1;
    int wkt_idx = stapel__csv_wkt_field(ds, l); /* a CSV's geometry text */
    /* GeoJSON gives the errors of geometries it cannot read beside the
     * first feature: they are counted after (stapel__geojson_unread). */
    bool geojson = stapel__driver_is(ds, "GeoJSON");
    OGR_L_ResetReading(l);
    OGRFeatureH f;
    int64_t n_read = 0;
    int64_t n_z_open = 0, first_z_open = -1; /* rings closed but in height */
    stapel_status st = STAPEL_OK;
    for (;;) {
        /* An error beside a feature is this feature's (the reset is in
         * stapel__next_feature); one without is a damaged file. */
        ctx->hold_unclosed = true;
        f = stapel__next_feature(ctx, l, source, &n_read, &st);
        ctx->hold_unclosed = false;
        if (stapel__gdal_unclosed(ctx, f) && n_z_open++ == 0)
            first_z_open = (int64_t)OGR_F_GetFID(f);
        if (f == NULL)
            break;
        if (stapel__cancelled(ctx)) {
            OGR_F_Destroy(f);
            return stapel__fail(ctx, STAPEL_ECANCELLED, "%s: cancelled", source);
        }
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        char why[256];
        if ((g == NULL && CPLGetLastErrorType() >= CE_Failure && !geojson) ||
            stapel__csv_wkt_damaged(f, g, wkt_idx, why, sizeof why)) {
            li->n_unreadable++;
        } else if (g == NULL) {
            li->n_null++;
        } else if (OGR_G_IsEmpty(g)) {
            li->n_empty++;
        } else {
            extent_add(li, g);
            GEOSGeometry *gg = NULL;
            stapel__conv kind;
            unsigned notes = 0;
            stapel_status st = stapel__ogr_to_geos(ctx, &gg, &kind, g, 0.0, &notes);
            if (st == STAPEL_EDATA) {
                /* A geometry OGR reads but cannot make polygons of (a curve
                 * ring that is not closed): stack refuses it as it does a
                 * damaged one, and the rest of the source is still told. */
                li->n_unreadable++;
                OGR_F_Destroy(f);
                continue;
            }
            if (st != STAPEL_OK) {
                long long fid = (long long)OGR_F_GetFID(f);
                OGR_F_Destroy(f);
                return stapel__wrap(ctx, st, "%s: layer %s: feature %lld", source, li->name, fid);
            }
            if (kind == STAPEL_CONV_OK) {
                /* A ring not closed, or of fewer than three corners, is
                 * invalid as stored; the conversion closed or left it out. */
                if ((notes & STAPEL_CONV_BADRING) != 0 || stapel__is_valid(ctx, gg) != 1)
                    li->n_invalid++;
                GEOSGeom_destroy_r(ctx->geos, gg);
                if ((notes & STAPEL_CONV_DROPPED) != 0 && li->n_mixed++ == 0)
                    li->first_mixed = (int64_t)OGR_F_GetFID(f);
            } else if (kind == STAPEL_CONV_BADCOORD) {
                li->n_invalid++;
            } else if (kind == STAPEL_CONV_EMPTY) {
                /* Not empty to OGR, so its rings were all dropped: rings of
                 * fewer than three distinct points, which OGC calls invalid. */
                li->n_invalid++;
            } else {
                /* Points and lines: OGR's own validity test is the right one. */
                if (!OGR_G_IsValid(g))
                    li->n_invalid++;
                if (li->n_not_polygonal++ == 0)
                    li->first_not_polygonal = (int64_t)OGR_F_GetFID(f);
            }
        }
        OGR_F_Destroy(f);
    }
    /* A layer without features never comes to the check above: a cancel
     * pending since before the call stops it here, as it stops the others. */
    if (st == STAPEL_OK && stapel__cancelled(ctx))
        return stapel__fail(ctx, STAPEL_ECANCELLED, "%s: cancelled", source);
    stapel__warn_z_open(ctx, source, li->name, n_z_open, first_z_open);
    int64_t n_shx, n_dbf;
    if (st == STAPEL_OK && stapel__shapefile_mismatch(ds, l, &n_shx, &n_dbf))
        /* Features GDAL leaves out: its .shx and .dbf count apart. */
        li->n_unreadable += n_shx > n_dbf ? n_shx - n_dbf : n_dbf - n_shx;
    if (st == STAPEL_OK && li->n_null > 0) {
        /* A GeoJSON geometry GDAL could not read comes as none. */
        int64_t first;
        char why[512];
        int64_t n = stapel__geojson_unread(ds, l, NULL, &first, why, sizeof why);
        if (n > 0 && n <= li->n_null) {
            li->n_null -= n;
            li->n_unreadable += n;
        }
    }
    return st;
}

stapel_status stapel_info_read(stapel_ctx *ctx, stapel_source_info **out, const char *source)
{
    STAPEL__ENTER_OUT(ctx, out);
    char *dsname = NULL, *lname = NULL;
    GDALDatasetH ds = NULL;
    stapel_source_info *info = NULL;
    stapel__gdal_push(ctx);
    ctx->reading_src = source; /* GDAL's warnings name the source */
    ctx->reading_layer = NULL;
    stapel__gdal_seen seen = {0}; /* and come once, however often GDAL reads it */
    ctx->gdal_seen = &seen;
    stapel_status st = stapel__source_split(ctx, source, &dsname, &lname);
    if (st != STAPEL_OK)
        goto done;
    st = stapel__dataset_open(ctx, &ds, dsname);
    if (st != STAPEL_OK)
        goto done;
    stapel__gdal_seen_pass(&seen);
    info = calloc(1, sizeof *info);
    if (info == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    /* as messages and run_info show it: a database password as *** */
    info->source = stapel_source_shown(source);
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    info->driver = stapel__strdup(drv != NULL ? GDALGetDriverShortName(drv) : "unknown");
    if (info->source == NULL || info->driver == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    if (lname != NULL) {
        OGRLayerH l;
        st = stapel__layer_pick(ctx, &l, ds, source, lname);
        if (st == STAPEL_OK)
            st = stapel__json_check(ctx, ds, dsname, l);
        if (st != STAPEL_OK)
            goto done;
        info->layers = calloc(1, sizeof *info->layers);
        if (info->layers == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        info->n_layers = 1;
        st = layer_describe(ctx, &info->layers[0], ds, l, source);
    } else {
        /* Every layer is described: what GDAL leaves out of any of them. */
        if ((st = stapel__json_check(ctx, ds, dsname, NULL)) != STAPEL_OK)
            goto done;
        int n = GDALDatasetGetLayerCount(ds);
        if (n > 0) {
            info->layers = calloc((size_t)n, sizeof *info->layers);
            if (info->layers == NULL) {
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
        }
        for (int i = 0; i < n && st == STAPEL_OK; i++) {
            info->n_layers++;
            /* Each layer goes on from the passes of opening the source: the
             * same warning about another layer (two shapefiles of a
             * directory with unclosed rings) is news, not a repeat. */
            stapel__gdal_seen layer_seen;
            stapel__gdal_seen_copy(&layer_seen, &seen); /* out of memory: empty */
            ctx->gdal_seen = &layer_seen;
            /* A table of the database that the user may not read is said
             * so; the others are still described. Tables the user named
             * ("PG:... tables=a,b") must be there and readable. */
            OGRLayerH l = GDALDatasetGetLayer(ds, i);
            char reason[512];
            stapel_layer_info *li = &info->layers[i];
            if (strstr(dsname, "tables=") != NULL) {
                st = stapel__layer_readable(ctx, ds, l, source);
                if (st == STAPEL_OK)
                    st = layer_describe(ctx, li, ds, l, source);
            } else if (stapel__layer_read_error(ds, l, reason, sizeof reason)) {
                li->name = stapel__strdup(OGR_L_GetName(l));
                li->geometry_type = stapel__strdup("Unknown");
                li->unreadable = stapel__strdup(reason);
                li->n_features = -1;
                li->first_not_polygonal = li->first_mixed = -1;
                if (li->name == NULL || li->geometry_type == NULL || li->unreadable == NULL)
                    st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            } else {
                st = layer_describe(ctx, li, ds, l, source);
            }
            ctx->gdal_seen = &seen;
            stapel__gdal_seen_free(&layer_seen);
        }
        /* A shapefile of a folder that GDAL left out without a word (its
         * .shx missing) is listed as a layer that cannot be read. */
        char **names = NULL, **reasons = NULL;
        stapel__buf why = {0};
        int skipped =
            st == STAPEL_OK ? stapel__shapefiles_skipped(ds, NULL, &why, &names, &reasons) : 0;
        stapel__buf_free(&why);
        int k = CSLCount(names);
        stapel_layer_info *grown =
            skipped > 0 && k == CSLCount(reasons)
                ? realloc(info->layers, (info->n_layers + (size_t)k) * sizeof *info->layers)
                : NULL;
        if (skipped < 0 || (skipped > 0 && grown == NULL))
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        if (grown != NULL) {
            info->layers = grown;
            for (int i = 0; i < k && st == STAPEL_OK; i++) {
                stapel_layer_info *li = &info->layers[info->n_layers++];
                memset(li, 0, sizeof *li);
                li->name = stapel__strdup(names[i]);
                li->geometry_type = stapel__strdup("Unknown");
                li->unreadable = stapel__strdup(reasons[i]);
                li->n_features = -1;
                li->first_not_polygonal = li->first_mixed = -1;
                if (li->name == NULL || li->geometry_type == NULL || li->unreadable == NULL)
                    st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            }
        }
        CSLDestroy(names);
        CSLDestroy(reasons);
    }
    /* nor does a source without layers, or with only unreadable ones */
    if (st == STAPEL_OK && stapel__cancelled(ctx))
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "%s: cancelled", source);
done:
    if (ds != NULL)
        GDALClose(ds);
    ctx->reading_src = ctx->reading_layer = NULL;
    ctx->gdal_seen = NULL;
    stapel__gdal_seen_free(&seen);
    stapel__gdal_pop();
    free(dsname);
    free(lname);
    if (st != STAPEL_OK) {
        stapel_source_info_free(info);
        return st;
    }
    *out = info;
    return STAPEL_OK;
}
