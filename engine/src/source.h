/*
 * source.h - opening sources and converting OGR geometries to GEOS.
 * Shared by info.c, read.c, rules.c and write.c.
 */
#ifndef STAPEL_SOURCE_H
#define STAPEL_SOURCE_H

#include "internal.h"

#include <gdal.h>
#include <ogr_api.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_srs_api.h>

/* GDAL's first error while stapel__keep_first_error is the pushed handler
 * (CPLPushErrorHandlerEx(stapel__keep_first_error, &e)): a failed query is
 * often followed by others that only say the cursor is gone. */
typedef struct stapel__first_error {
    bool got;
    char msg[512];
} stapel__first_error;

void CPL_STDCALL stapel__keep_first_error(CPLErr cls, CPLErrorNum no, const char *msg);

/* Open a dataset read-only as vector data. A path that does not exist is
 * reported with the system's reason. Caller owns *out; close with GDALClose(). */
stapel_status stapel__dataset_open(stapel_ctx *ctx, GDALDatasetH *out, const char *dataset);

/* Whether dataset is read from a web service or server (a URL, 'WFS:...',
 * 'OAPIF:...'), not from a file or a database. */
bool stapel__source_is_service(const char *dataset);

/* Whether source names a database by a connection string or URI ('PG:...',
 * 'postgresql://...', 'MSSQL:...', 'MYSQL:...', 'ODBC:...'). */
bool stapel__source_is_database(const char *source);

/* Whether ds was opened by the GDAL driver of this short name. */
bool stapel__driver_is(GDALDatasetH ds, const char *name);

/* The shapefiles of the folder ds that GDAL gave no layer for (a missing
 * .shx), with why; see source.c. */
int stapel__shapefiles_skipped(GDALDatasetH ds, const char *name, stapel__buf *b, char ***layers,
                               char ***reasons);

/* Pick a layer of ds: the named one, or the only one. Borrowed; valid until ds
 * is closed. source is used in messages. */
stapel_status stapel__layer_pick(stapel_ctx *ctx, OGRLayerH *out, GDALDatasetH ds,
                                 const char *source, const char *layer_name);

/* Fails (STAPEL_EDATA, naming source and layer, with the database's reason)
 * when l is a PostgreSQL layer of a table that cannot be read: one that does
 * not exist ("PG:... tables=nosuch" gives a layer without geometry or fields
 * for any name) or that the user has no right to read. */
stapel_status stapel__layer_readable(stapel_ctx *ctx, GDALDatasetH ds, OGRLayerH l,
                                     const char *source);

/* The name of l as messages give it: GDAL's, or "(no name)" when that is
 * empty (a GeoJSON read from /vsistdin/, named after no file). */
const char *stapel__layer_name(OGRLayerH l);

/* The same test without failing: true, with the database's reason (one
 * line) in reason, when l cannot be read. */
bool stapel__layer_read_error(GDALDatasetH ds, OGRLayerH l, char *reason, size_t size);

/* The layer's CRS, borrowed; NULL when it has none, including a GeoPackage's
 * "Undefined geographic SRS" and "Undefined Cartesian SRS" placeholders. */
OGRSpatialReferenceH stapel__layer_srs(OGRLayerH l);

/* A PostGIS layer whose geometry column declares no SRID (a plain
 * "geometry" column, or a view that computes one) may hold rows of several
 * SRIDs, and GDAL reads them all in the CRS of the first row. This finds the
 * distinct SRIDs of the rows that where (SQL, or NULL) keeps: at most max of
 * them, in increasing order, into srid. Returns how many it found (0 or 1:
 * nothing to fear), or -1 when it could not tell (not PostGIS, or a query
 * failed). Quiet: GDAL's errors are not passed on. */
int stapel__pg_srids(GDALDatasetH ds, OGRLayerH l, const char *where, int *srid, int max);

/* The SRID of a PostGIS layer for which GDAL finds no CRS: 0, or one the
 * database's spatial_ref_sys does not hold, when all the rows that where
 * keeps have that one; -1 otherwise (also when it could not tell). */
int stapel__pg_unknown_srid(GDALDatasetH ds, OGRLayerH l, const char *where);

/* The primary key of PostGIS layer l's table, which GDAL takes the feature
 * ids from only when it is one column of an integer type: its columns as
 * "name (type)", joined with ", ", into b (emptied first). False when the
 * table has none (a view), or it could not tell. Quiet. */
bool stapel__pg_primary_key(GDALDatasetH ds, OGRLayerH l, stapel__buf *b);

/* The rows of PostGIS layer l that filter where (or NULL) keeps whose
 * column GDAL takes the feature ids from is NULL, which GDAL reads as id
 * 0; -1 when it could not tell. It evaluates a view once more. Quiet. */
int stapel__pg_null_ids(GDALDatasetH ds, OGRLayerH l, const char *where);

/* The one column of the primary key of PostGIS layer l's table when it is
 * of a type of text (a plan's 'identificatie'), which GDAL reads as a field
 * and takes no feature ids from, into col (of size bytes). False when the
 * key is none such, or it could not tell. Quiet. */
bool stapel__pg_text_key(GDALDatasetH ds, OGRLayerH l, char *col, size_t size);

/* The type of column col of PostGIS layer l's table or view, as PostgreSQL
 * names it ("text", "numeric(10,0)"), into type (of size bytes), and
 * whether it is a type of numbers. False when it could not tell. Quiet. */
bool stapel__pg_column_type(GDALDatasetH ds, OGRLayerH l, const char *col, char *type, size_t size,
                            bool *number);

/* The names of l's geometry columns into b (emptied first), joined with
 * ", ". False when out of memory. */
bool stapel__geom_columns(stapel__buf *b, OGRLayerH l);

/* The next feature of l, or NULL. NULL also comes when the driver gives up
 * before the end of the layer (a damaged file: "database disk image is
 * malformed"), which OGR tells only by an error beside it: then *st is set to
 * STAPEL_EDATA, "SOURCE: layer L: reading stopped after N features: why", so
 * that a damaged file is not taken for a shorter one. *n_read counts the
 * features returned. Caller owns the feature; free with OGR_F_Destroy(). */
/* Warn that n features of the layer (the first: feature first) have rings
 * that close in x and y only, not in height (stapel__gdal_unclosed). */
void stapel__warn_z_open(stapel_ctx *ctx, const char *source, const char *layer, int64_t n,
                         int64_t first);

OGRFeatureH stapel__next_feature(stapel_ctx *ctx, OGRLayerH l, const char *source,
                                 int64_t *n_read, stapel_status *st);

/* The index of the field of l whose text GDAL reads as its geometry when
 * ds is a CSV file (the column WKT), or -1: there is none, or ds is another
 * format. */
int stapel__csv_wkt_field(GDALDatasetH ds, OGRLayerH l);

/* Whether feature f, whose geometry GDAL gave as g (NULL: none), has geometry
 * text in field wkt (stapel__csv_wkt_field) that is neither WKT nor
 * hexadecimal WKB: GDAL then gives no geometry, or one it made of the bytes
 * of the text, and says nothing. A WKT cut short (a spreadsheet keeps at
 * most 32767 characters in a cell) would otherwise read as a claim without
 * geometry, skipped as empty. When true, why (of size bytes) says what the
 * text is, for a message. */
bool stapel__csv_wkt_damaged(OGRFeatureH f, OGRGeometryH g, int wkt, char *why, size_t size);

/* For l of ds, a GeoJSON, GeoJSON sequence or ESRI JSON file, or an SQLite
 * table (GDAL's SQLite driver): how many features (of those the attribute
 * filter where keeps, if not NULL) have a geometry that GDAL read as none:
 * a GeoJSON geometry member with a coordinate that is no number or a type
 * it does not know; in ESRI JSON true curves ("curveRings") or a misspelt
 * member; in SQLite a value of the geometry column that is no geometry.
 * GDAL gives them as features without geometry, and a damaged claim would
 * be skipped as empty. *first gets the first one's id (else -1), why (of
 * size bytes) a reason for a message. 0 for another format; -1 when the
 * file cannot be read again (an ESRI JSON or sequence from a URL is not).
 * Reads the file once more: call it only when l had features without
 * geometry, or GDAL gave an error while l was read. GDAL gives the errors
 * of such geometries beside the first feature of every pass over the
 * layer, whichever feature they are about. */
int64_t stapel__geojson_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                               char *why, size_t size);

/* Whether the shapefile layer l of ds has an index (.shx) and a table
 * (.dbf) of different record counts, *n_shx and *n_dbf (-1 when not known):
 * one cut short, or of another version. GDAL reads the lesser number of
 * features and says nothing, so claims would go missing. False for another
 * format, or when a count cannot be read. */
bool stapel__shapefile_mismatch(GDALDatasetH ds, OGRLayerH l, int64_t *n_shx, int64_t *n_dbf);

/* The path of the file of extension ext ("shp", "dbf", in either case) of
 * the shapefile layer l of ds, in buf; false when ds has none. */
bool stapel__shapefile_part(GDALDatasetH ds, OGRLayerH l, const char *ext, char *buf, size_t size);

/* Whether a file beside the shapefile shp ('d/X.shp') is its part of
 * extension ext ("shx", "dbf", "prj") named in another case ('d/x.prj'),
 * which GDAL does not find; its path then in twin. */
bool stapel__shapefile_case_twin(const char *shp, const char *ext, char *twin, size_t size);

/* Whether l is a shapefile layer of ds read without its .dbf (GDAL reads
 * its shapes, with no fields). */
bool stapel__shapefile_no_dbf(GDALDatasetH ds, OGRLayerH l);

/* The name of the first text column of a CSV layer l (read by GDAL's CSV
 * driver, so without geometry) whose value in the first feature is WKT, as
 * QGIS writes it under the name 'wkt_geom'; NULL when there is none.
 * Borrowed from l's definition. Rewinds l. */
const char *stapel__csv_wkt_column(GDALDatasetH ds, OGRLayerH l);

/* The GDAL virtual file system that reads the archive at path (a ZIP, a
 * gzip or a tar file, told by its first bytes), or NULL when it is none:
 * GDAL opens an archive only through such a prefix (or a name such as
 * '.shp.zip'), and PDOK and the national programmes deliver zipped
 * shapefiles. */
const char *stapel__archive_prefix(const char *path);

/* What the file system of prefix (one stapel__archive_prefix() gives)
 * reads: "a ZIP archive", ... */
const char *stapel__archive_kind(const char *prefix);

/* The .prj file of a shapefile layer (layer of the dataset ds named
 * dsname) that GDAL found no CRS in although it exists (empty, or WKT that
 * GDAL cannot parse), or NULL. In a buffer of CPL's, valid until its next
 * call. */
const char *stapel__unread_prj(GDALDatasetH ds, const char *dsname, const char *layer);

/* Text that is not UTF-8, read as Windows-1252 (ISO-8859-1 when that fails)
 * and given as UTF-8: a source whose encoding GDAL does not know is most
 * likely Windows-1252 when it comes from a Dutch office. Caller owns the
 * result; free with CPLFree(). NULL when out of memory. */
char *stapel__recode_cp1252(const char *s);

/* Whether UTF-8 text s looks like UTF-8 read as Windows-1252 or ISO-8859-1
 * (a .dbf whose .cpg or header names the wrong code page): 'FryslÃ¢n' for
 * 'Fryslân'. Then out (of size bytes) holds the text as UTF-8 ('Fryslân'):
 * each character taken back to its byte, which together are UTF-8 with a
 * letter beyond ASCII. False too when s does not fit in out. A name
 * really written so hardly occurs: a capital with an accent ('Ã') followed
 * by a sign or letter of 0x80 to 0xbf ('¢'); and the text as UTF-8 must be
 * Latin letters or common signs ('CAFÉ–BAR' would be 'CAFɖBAR'). */
bool stapel__utf8_misread(const char *s, char *out, size_t size);

/* UTF-8 text s with the control characters U+0080 to U+009F that
 * Windows-1252 has a character for ('’' for U+0092) replaced by it, or NULL
 * when it holds none (or out of memory: *oom is set). Text of a .dbf whose
 * code page says ISO-8859-1 (as GDAL writes it, and ArcGIS for 'ANSI') is
 * most often Windows-1252, whose '’', '€' and '–' GDAL turns into these
 * controls. Caller frees with free(). */
char *stapel__c1_as_cp1252(const char *s, bool *oom);

/* Whether UTF-8 text s holds a character that Windows-1252 has at 0x80 to
 * 0x9f ('’', '€', '–', 'Š'), which ISO-8859-1 reads as a control
 * character. */
bool stapel__has_cp1252_sign(const char *s);

/* How an OGR geometry converts to GEOS. */
typedef enum stapel__conv {
    STAPEL_CONV_OK,       /* *out holds a polygonal geometry */
    STAPEL_CONV_EMPTY,    /* the geometry is empty; *out is NULL */
    STAPEL_CONV_NOTAREAL, /* points or lines; *out is NULL */
    STAPEL_CONV_BADCOORD, /* a NaN or infinite coordinate; *out is NULL */
} stapel__conv;

/* What a conversion changed on the way, in *notes. */
enum {
    STAPEL_CONV_REPEATED = 1, /* the source repeated a vertex (dropped) */
    STAPEL_CONV_DROPPED = 2,  /* a collection held points or lines (left out) */
    STAPEL_CONV_BADRING = 4,  /* a ring was not closed (closed) or had fewer than
                                 three distinct corners (left out): invalid */
};

/* Convert an OGR geometry to a GEOS Polygon or MultiPolygon on ctx's handle,
 * linearising curves and dropping Z and M. With grid > 0 every coordinate is
 * rounded to that grid, as GEOS's fixed precision model rounds, and repeated
 * vertices are dropped. Polygonal parts of a collection are kept, its points
 * and lines left out. *notes (if not NULL) gets STAPEL_CONV_* flags of what
 * was dropped. Returns STAPEL_EGEOS or STAPEL_ENOMEM only on engine failure;
 * data problems are reported through *kind. Caller owns *out; free with
 * GEOSGeom_destroy_r(). */
stapel_status stapel__ogr_to_geos(stapel_ctx *ctx, GEOSGeometry **out, stapel__conv *kind,
                                  OGRGeometryH g, double grid, unsigned *notes);

#endif /* STAPEL_SOURCE_H */
