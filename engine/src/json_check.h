/*
 * json_check.h - what GDAL leaves out of a JSON source without a word,
 * found in its text (json_check.c). Used by source.c (at the open), read.c
 * and info.c (once a layer is picked).
 */
#ifndef STAPEL_JSON_CHECK_H
#define STAPEL_JSON_CHECK_H

#include "source.h"

/* Fails (STAPEL_EDATA, naming dataset, its layer and where the record
 * lies) when GDAL, which just opened ds from dataset, left out a record of
 * a GeoJSON sequence that it could not parse: told by the error the open
 * left, so call this right after GDALOpenEx. STAPEL_OK otherwise; *ds then
 * is opened again, and closed, when the record is DOS end-of-file bytes
 * alone at the end, which GDAL would report at each reading. */
stapel_status stapel__json_open_check(stapel_ctx *ctx, GDALDatasetH *ds, const char *dataset);

/* Fails (STAPEL_EDATA, naming dataset, the layer and where the damage
 * lies) when GDAL would leave part of layer l of ds (opened from dataset;
 * NULL: of any of its layers) out without a word: a record of a GeoJSON
 * sequence that is no Feature, or that holds more after its Feature; more
 * after the first value of a GeoJSON file of one feature, or after the
 * Topology object of a TopoJSON file; a TopoJSON object of l, or an arc it
 * uses, that GDAL reads only in part. STAPEL_OK for
 * another format, or a file whose text cannot be read again. Reads the
 * file's text again: once per source a run opens is enough. */
stapel_status stapel__json_check(stapel_ctx *ctx, GDALDatasetH ds, const char *dataset,
                                 OGRLayerH l);

/* Fails (STAPEL_EDATA, naming dataset and why) when GDAL, which just
 * failed to open dataset as TopoJSON ('Failed to read TopoJSON data'),
 * found no object in it that it reads: none, or each one null, no JSON
 * object, or of a type it does not read. STAPEL_OK otherwise (GDAL's
 * error then stands): call this right after GDALOpenEx failed. Reads the
 * file's text again. */
stapel_status stapel__topojson_open_fail(stapel_ctx *ctx, const char *dataset);

/* Fails (STAPEL_EDATA, naming dataset and the line) when GDAL, which just
 * failed to open dataset as GeoJSON ('Failed to read GeoJSON data'), took
 * a GeoJSON sequence (one JSON object a line) for one GeoJSON object, as it
 * does when a record is a FeatureCollection. STAPEL_OK otherwise (GDAL's
 * error then stands): call this right after GDALOpenEx failed. Reads the
 * file's text again. */
stapel_status stapel__geojson_open_fail(stapel_ctx *ctx, const char *dataset);

/* Whether the GeoJSON file at path holds a FeatureCollection (a
 * "features" member in its first 64 KB), which GDAL parses as it opens it
 * and again as it reads it, not one Feature, which it parses once. */
bool stapel__geojson_collection(const char *path);

/* stapel__geojson_unread for a GeoJSON, GeoJSON sequence or ESRI JSON
 * layer; 0 for another format. */
int64_t stapel__json_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                            char *why, size_t size);

#endif /* STAPEL_JSON_CHECK_H */
