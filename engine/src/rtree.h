/*
 * rtree.h - bulk-loading a GeoPackage spatial index (see rtree.c).
 */
#ifndef STAPEL_RTREE_H
#define STAPEL_RTREE_H

#include "internal.h"

#include <sqlite3.h>
#include <stdint.h>

typedef struct stapel__rtree_box {
    int64_t id; /* the feature id */
    double x0, y0, x1, y1;
} stapel__rtree_box;

/* Create the rtree_<table>_<geom> index of a layer written without one, in the
 * GeoPackage open as db (path names it in messages), from the boxes of all
 * its features, with the triggers and gpkg_extensions row of the GeoPackage
 * rtree extension. Runs in the caller's transaction. */
stapel_status stapel__rtree_bulk(stapel_ctx *ctx, sqlite3 *db, const char *path, const char *table,
                                 const char *geom, const char *fid, const stapel__rtree_box *boxes,
                                 size_t n);

#endif /* STAPEL_RTREE_H */
