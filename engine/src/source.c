/*
 * source.c - opening what users name as a source: a path or a "PG:" string,
 * optionally followed by "|layername=NAME", picking the layer to read, and
 * reading its text as UTF-8 when GDAL did not know its encoding.
 *
 * Errors name the source and, when a layer is ambiguous or missing, list the
 * layers that exist so the user can pick one.
 */
#include "source.h"

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

stapel_status stapel__source_split(stapel_ctx *ctx, const char *source, char **dataset,
                                   char **layer)
{
    *dataset = NULL;
    *layer = NULL;
    if (source == NULL || source[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "empty source");
    const char *bar = strstr(source, "|layername=");
    size_t n = bar != NULL ? (size_t)(bar - source) : strlen(source);
    *dataset = malloc(n + 1);
    if (*dataset == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    memcpy(*dataset, source, n);
    (*dataset)[n] = '\0';
    if (bar != NULL) {
        *layer = stapel__strdup(bar + strlen("|layername="));
        if (*layer == NULL || (*layer)[0] == '\0') {
            free(*dataset);
            free(*layer);
            *dataset = *layer = NULL;
            return stapel__fail(ctx, STAPEL_EINVAL, "%s: empty layer name after '|layername='",
                                source);
        }
    }
    return STAPEL_OK;
}

/* Whether name is a URL ("https://...", "postgresql://..."): a scheme of
 * a letter, then letters, digits, '+', '-' or '.', then "://". */
static bool is_url(const char *name)
{
    if (!isalpha((unsigned char)name[0]))
        return false;
    size_t n = 1 + strspn(name + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789+-.");
    return strncmp(name + n, "://", 3) == 0;
}

/* Whether name starts with the connection prefix of a GDAL driver for a
 * service or database ("WFS:", "OAPIF:", "MSSQL:", "PG:", ...), matched as
 * GDAL does, whatever the case. */
static bool connection_prefixed(const char *name)
{
    const char *colon = strchr(name, ':');
    if (colon == NULL || colon == name)
        return false;
    size_t n = (size_t)(colon - name) + 1;
    stapel__gdal_init(); /* called before any context registered the drivers */
    for (int i = 0; i < GDALGetDriverCount(); i++) {
        const char *prefix =
            GDALGetMetadataItem(GDALGetDriver(i), GDAL_DMD_CONNECTION_PREFIX, NULL);
        if (prefix != NULL && strlen(prefix) == n && stapel__ascii_ncase_equal(prefix, name, n))
            return true;
    }
    return false;
}

/* Whether the file of source (the part before '|layername=') exists. */
/* Whether the first n bytes of name are the name of a file or directory. */
static bool exists_prefix(const char *name, size_t n)
{
    char *file = n > 0 ? malloc(n + 1) : NULL;
    if (file == NULL)
        return false;
    memcpy(file, name, n);
    file[n] = '\0';
    struct stat sb;
    bool found = stat(file, &sb) == 0;
    free(file);
    return found;
}

static bool exists_on_disk(const char *source)
{
    const char *bar = strstr(source, "|layername=");
    return exists_prefix(source, bar != NULL ? (size_t)(bar - source) : strlen(source));
}

bool stapel_source_is_file(const char *source)
{
    /* A file may be named like a connection string ('es:claims.gpkg'):
     * GDAL tries the file formats first, and so does this. */
    return source != NULL && strncmp(source, "PG:", 3) != 0 && strncmp(source, "/vsi", 4) != 0 &&
           !is_url(source) && (!connection_prefixed(source) || exists_on_disk(source));
}

bool stapel__source_is_database(const char *source)
{
    static const char *const databases[] = {"PG:", "MSSQL:", "MYSQL:", "ODBC:",
                                            "postgresql://", "postgres://"};
    for (size_t i = 0; i < sizeof databases / sizeof *databases; i++)
        if (stapel__ascii_ncase_equal(source, databases[i], strlen(databases[i])))
            return true;
    return false;
}

bool stapel__source_is_service(const char *dataset)
{
    return !stapel_source_is_file(dataset) && strncmp(dataset, "/vsi", 4) != 0 &&
           !stapel__source_is_database(dataset);
}

bool stapel__driver_is(GDALDatasetH ds, const char *name)
{
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    return drv != NULL && strcmp(GDALGetDriverShortName(drv), name) == 0;
}

/* Whether name starts with a GDAL driver's name and a colon, as in GDAL's
 * own 'GPKG:file.gpkg:layer' syntax. */
static bool driver_prefixed(const char *name)
{
    size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
    if (n == 0 || n >= 32 || name[n] != ':')
        return false;
    char driver[32];
    memcpy(driver, name, n);
    driver[n] = '\0';
    return GDALGetDriverByName(driver) != NULL;
}

/* Whether what comes before the first '|' of name (less the spaces
 * before it), or name less its trailing spaces (what is left of
 * 'file |layername=x'), is a file: then a layer pick was mistyped. */
static bool file_before_bar(const char *name)
{
    const char *bar = strchr(name, '|');
    size_t n = bar != NULL ? (size_t)(bar - name) : strlen(name);
    while (n > 0 && name[n - 1] == ' ')
        n--;
    if (bar == NULL && n == strlen(name))
        return false; /* neither a '|' nor a space at the end */
    return exists_prefix(name, n);
}

const char *stapel__archive_prefix(const char *path)
{
    unsigned char head[262] = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    size_t len = strlen(path);
    bool tar_name = (len > 7 && stapel__ascii_case_equal(path + len - 7, ".tar.gz")) ||
                    (len > 4 && stapel__ascii_case_equal(path + len - 4, ".tgz"));
    if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0)
        return "/vsizip/";
    if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        return tar_name ? "/vsitar/" : "/vsigzip/";
    if (n >= 262 && memcmp(head + 257, "ustar", 5) == 0)
        return "/vsitar/";
    return NULL;
}

/* qsort's order of two names (char *): by their bytes. */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The length of name less a '/' at its end (a folder, as an archive lists
 * it) when it names something GDAL reads as vector data by itself (a
 * shapefile's .shp, not its .dbf; a File Geodatabase's folder); else 0. */
static size_t vector_file_name(const char *name)
{
    static const char *const ext[] = {".shp", ".gpkg", ".geojson", ".json", ".gml",
                                      ".fgb", ".kml",  ".sqlite",  ".csv",  ".gdb"};
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '/')
        len--;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i]);
        if (len > k && stapel__ascii_ncase_equal(name + len - k, ext[i], k))
            return len;
    }
    return 0;
}

/* Fails ctx for the archive dataset that GDAL did not open, with the path
 * that reads what it holds: the archive itself through its prefix when
 * GDAL opens that (one shapefile, or several as layers), else its first
 * file of vector data (one in a folder of the archive). */
const char *stapel__archive_kind(const char *prefix)
{
    return strcmp(prefix, "/vsizip/") == 0   ? "a ZIP archive"
           : strcmp(prefix, "/vsitar/") == 0 ? "a tar archive"
                                             : "a gzip-compressed file";
}

static stapel_status archive_fail(stapel_ctx *ctx, const char *dataset, const char *prefix)
{
    const char *kind = stapel__archive_kind(prefix);
    stapel__buf vsi = {0}, hint = {0};
    if (!stapel__buf_printf(&vsi, "%s%s", prefix, dataset)) {
        stapel__buf_free(&vsi);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(vsi.data, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    bool opens = ds != NULL;
    GDALClose(ds);
    char **files = opens ? NULL : VSIReadDirRecursive(vsi.data);
    CPLPopErrorHandler();
    CPLErrorReset();
    bool ok = true;
    if (opens) {
        ok = stapel__buf_printf(&hint, "; GDAL reads what it holds as '%s'", vsi.data);
    } else {
        const char *first = NULL;
        size_t len = 0;
        for (int i = 0; files != NULL && files[i] != NULL && first == NULL; i++) {
            len = vector_file_name(files[i]);
            if (len > 0)
                first = files[i];
        }
        if (first != NULL)
            ok = stapel__buf_printf(&hint, "; GDAL reads what it holds as '%s/%.*s'", vsi.data,
                                    (int)len, first);
        else
            ok = stapel__buf_puts(&hint, ", and it holds no file that GDAL reads as vector data");
    }
    CSLDestroy(files);
    stapel_status st =
        ok ? stapel__fail(ctx, STAPEL_EIO, "cannot open '%s' as vector data: it is %s%s", dataset,
                          kind, hint.data)
           : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel__buf_free(&vsi);
    stapel__buf_free(&hint);
    return st;
}

/* For a path into an archive on this machine ('/vsizip/x.zip/a.shp', and
 * /vsitar/, /vsigzip/) that GDAL did not open: when nothing is at that path,
 * fails ctx with what is missing (the archive, or the file in it, with the
 * files of vector data it does hold) or that the file named as the archive
 * is none, and returns true; GDAL itself says only that it recognises no
 * format. False, ctx untouched, when the path exists or is another kind. */
static bool archive_path_missing(stapel_ctx *ctx, const char *dataset, stapel_status *st)
{
    static const char *const prefixes[] = {"/vsizip/", "/vsitar/", "/vsigzip/"};
    const char *prefix = NULL;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes && prefix == NULL; i++)
        if (strncmp(dataset, prefixes[i], strlen(prefixes[i])) == 0)
            prefix = prefixes[i];
    const char *inner = prefix != NULL ? dataset + strlen(prefix) : NULL;
    /* An archive in an archive or on a server ('/vsizip//vsicurl/...'), or
     * GDAL's '{...}' form: GDAL's own message stands. */
    if (inner == NULL || strncmp(inner, "/vsi", 4) == 0 || inner[0] == '{')
        return false;
    /* Keep GDAL's error of the open for the caller when this says nothing. */
    CPLErr err_class = CPLGetLastErrorType();
    CPLErrorNum err_no = CPLGetLastErrorNo();
    char *err_msg = stapel__strdup(CPLGetLastErrorMsg());
    CPLPushErrorHandler(CPLQuietErrorHandler);
    /* A file GDAL can open, or a folder that lists files (VSIStatL takes a
     * struct stat64, which this C11 build does not declare). */
    VSILFILE *fp = VSIFOpenL(dataset, "rb");
    char **listed = fp == NULL ? VSIReadDir(dataset) : NULL;
    bool exists = fp != NULL || listed != NULL;
    if (fp != NULL)
        VSIFCloseL(fp);
    CSLDestroy(listed);
    /* The archive: the longest part of the path, up to a '/', that is a
     * file on this machine. */
    size_t n = strlen(inner), arch = 0;
    struct stat sb;
    for (size_t i = n; !exists && i > 0 && arch == 0; i--) {
        if (i < n && inner[i] != '/')
            continue;
        char *part = malloc(i + 1);
        if (part == NULL)
            break;
        memcpy(part, inner, i);
        part[i] = '\0';
        if (stat(part, &sb) == 0 && S_ISREG(sb.st_mode))
            arch = i;
        free(part);
    }
    char **files = NULL;
    bool is_archive = false;
    const char *kind = NULL;
    stapel__buf a = {0}, held = {0};
    bool ok = true;
    if (!exists && arch > 0) {
        ok = stapel__buf_printf(&a, "%.*s", (int)arch, inner);
        kind = ok ? stapel__archive_prefix(a.data) : NULL;
        is_archive = kind != NULL;
        if (is_archive && strcmp(kind, prefix) != 0)
            is_archive = false; /* read through another file system */
        if (ok && is_archive && arch < n && strcmp(prefix, "/vsigzip/") != 0) {
            stapel__buf root = {0};
            if ((ok = stapel__buf_printf(&root, "%s%s", prefix, a.data)))
                files = VSIReadDirRecursive(root.data);
            int shown = 0;
            for (int i = 0; ok && files != NULL && files[i] != NULL; i++) {
                size_t len = vector_file_name(files[i]);
                if (len == 0)
                    continue;
                if (shown == 5) {
                    ok = stapel__buf_puts(&held, ", …");
                    break;
                }
                ok = stapel__buf_printf(&held, "%s'%s/%.*s'", shown++ > 0 ? ", " : "", root.data,
                                        (int)len, files[i]);
            }
            stapel__buf_free(&root);
        }
    }
    CPLPopErrorHandler();
    CSLDestroy(files);
    if (exists || (arch == n && is_archive)) {
        /* There is something at the path: GDAL's reason stands. */
        CPLErrorSetState(err_class, err_no, err_msg != NULL ? err_msg : "");
        free(err_msg);
        stapel__buf_free(&a);
        stapel__buf_free(&held);
        return false;
    }
    free(err_msg);
    if (!ok)
        *st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    else if (arch == 0)
        *st = stapel__fail(ctx, STAPEL_EIO, "cannot open '%s': No such file or directory", dataset);
    else if (kind != NULL && !is_archive)
        *st = stapel__fail(ctx, STAPEL_EIO, "cannot open '%s': '%s' is %s; read it as '%s%s%s'",
                           dataset, a.data, stapel__archive_kind(kind), kind, a.data,
                           strcmp(kind, "/vsigzip/") == 0 ? "" : inner + arch);
    else if (is_archive && strcmp(prefix, "/vsigzip/") == 0)
        *st = stapel__fail(ctx, STAPEL_EIO,
                           "cannot open '%s': '%s' is a gzip-compressed file, which holds one "
                           "file and no folders; read it as '%s%s'",
                           dataset, a.data, prefix, a.data);
    else if (!is_archive)
        *st = stapel__fail(ctx, STAPEL_EIO,
                           "cannot open '%s': '%s' is not an archive (ZIP, tar or gzip); "
                           "give it without '%s'",
                           dataset, a.data, prefix);
    else if (held.len > 0)
        *st = stapel__fail(ctx, STAPEL_EIO,
                           "cannot open '%s': the archive '%s' holds no '%s'; GDAL reads what it "
                           "holds as %s",
                           dataset, a.data, inner + arch + 1, held.data);
    else
        *st = stapel__fail(ctx, STAPEL_EIO,
                           "cannot open '%s': the archive '%s' holds no '%s', nor any file that "
                           "GDAL reads as vector data",
                           dataset, a.data, inner + arch + 1);
    stapel__buf_free(&a);
    stapel__buf_free(&held);
    return true;
}

/* Fails ctx for a folder that GDAL did not open: GDAL reads a folder as
 * one of shapefiles (or a File Geodatabase), not the GeoPackages or GeoJSON
 * files in it, which the message names (five at most). STAPEL_OK, ctx
 * untouched, when the folder holds a shapefile: GDAL's reason stands. */
static stapel_status folder_fail(stapel_ctx *ctx, const char *dataset)
{
    CPLErr err_class = CPLGetLastErrorType();
    CPLErrorNum err_no = CPLGetLastErrorNo();
    char *err_msg = stapel__strdup(CPLGetLastErrorMsg());
    CPLPushErrorHandler(CPLQuietErrorHandler);
    char **files = VSIReadDir(dataset);
    CPLPopErrorHandler();
    bool shapefile = false;
    for (int i = 0; files != NULL && files[i] != NULL && !shapefile; i++) {
        size_t len = strlen(files[i]);
        shapefile = len > 4 && stapel__ascii_case_equal(files[i] + len - 4, ".shp");
    }
    CPLErrorSetState(err_class, err_no, err_msg != NULL ? err_msg : "");
    free(err_msg);
    if (shapefile) {
        CSLDestroy(files);
        return STAPEL_OK;
    }
    CPLErrorReset();
    stapel__buf held = {0};
    bool ok = true;
    int shown = 0, n = CSLCount(files);
    /* In the order ls gives them, not the file system's. */
    if (n > 1)
        qsort(files, (size_t)n, sizeof *files, cmp_names);
    for (int i = 0; ok && i < n; i++) {
        if (vector_file_name(files[i]) == 0 || strcmp(files[i], ".") == 0)
            continue;
        if (shown == 5) {
            ok = stapel__buf_puts(&held, ", …");
            break;
        }
        size_t len = strlen(dataset);
        ok = stapel__buf_printf(&held, "%s'%s%s%s'", shown++ > 0 ? ", " : "", dataset,
                                len > 0 && dataset[len - 1] == '/' ? "" : "/", files[i]);
    }
    CSLDestroy(files);
    stapel_status st =
        !ok ? stapel__fail(ctx, STAPEL_ENOMEM, "out of memory")
        : shown > 0
            ? stapel__fail(ctx, STAPEL_EIO,
                           "cannot open '%s' as vector data: it is a folder without "
                           "shapefiles (GDAL reads a folder as a set of shapefiles, not the "
                           "other files in it); give a file in it: %s",
                           dataset, held.data)
            : stapel__fail(ctx, STAPEL_EIO,
                           "cannot open '%s' as vector data: it is a folder without "
                           "shapefiles, nor any other file that GDAL reads as vector data",
                           dataset);
    stapel__buf_free(&held);
    return st;
}

/* Whether the error GDAL gave while it opened ds is the GML driver's own
 * failure to parse the file (one cut short), not one it got past: a
 * schema (.xsd) it could not read or fetch makes it scan the file instead,
 * and other drivers report errors while opening what they read in full. */
static bool gml_cut_short(GDALDatasetH ds)
{
    return stapel__driver_is(ds, "GML") &&
           strncmp(CPLGetLastErrorMsg(), "XML parsing of GML file failed", 30) == 0;
}

/* GDAL's first error while the handler is pushed: a failed query is often
 * followed by others that only say the cursor is gone. */
typedef struct first_error {
    bool got;
    char msg[512];
} first_error;

static void CPL_STDCALL keep_first(CPLErr cls, CPLErrorNum no, const char *msg)
{
    (void)no;
    first_error *e = CPLGetErrorHandlerUserData();
    if (cls >= CE_Failure && e != NULL && !e->got) {
        e->got = true;
        snprintf(e->msg, sizeof e->msg, "%s", msg != NULL ? msg : "unknown error");
    }
}

/* Where in the GeoJSONSeq ds GDAL left out a record it could not parse
 * (a line cut short, or two run together), told by the features around
 * it, into where; GDAL's reason into why. False when reading it again
 * meets no error. */
static bool seq_lost_record(GDALDatasetH ds, char *where, size_t size, char *why, size_t wsize)
{
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    if (l == NULL)
        return false;
    first_error e = {0};
    CPLPushErrorHandlerEx(keep_first, &e);
    OGR_L_ResetReading(l);
    long long before = -1; /* the feature read before it */
    int64_t n = 0;
    OGRFeatureH f;
    for (;;) {
        CPLErrorReset();
        f = OGR_L_GetNextFeature(l);
        if (e.got || f == NULL)
            break;
        before = (long long)OGR_F_GetFID(f);
        n++;
        OGR_F_Destroy(f);
    }
    OGR_L_ResetReading(l);
    CPLPopErrorHandler();
    CPLErrorReset();
    if (e.got && f != NULL && n > 0)
        snprintf(where, size, "between features %lld and %lld", before, (long long)OGR_F_GetFID(f));
    else if (e.got && f != NULL)
        snprintf(where, size, "before its first feature (%lld)", (long long)OGR_F_GetFID(f));
    else if (e.got && n > 0)
        snprintf(where, size, "after its last feature (%lld)", before);
    else if (e.got)
        snprintf(where, size, "where no feature came before or after it");
    if (f != NULL)
        OGR_F_Destroy(f);
    snprintf(why, wsize, "%s", e.msg);
    return e.got;
}

static bool seq_stray_record(GDALDatasetH ds, long *line, char *type, size_t size, char *more,
                             size_t msize);
static bool geojson_trailing(const char *path, long *line, char *text, size_t size, bool *bom);
static bool topojson_damage(GDALDatasetH ds, char *layer, size_t lsize, long long *fid, char *obj,
                            size_t osize, char *why, size_t wsize);

stapel_status stapel__dataset_open(stapel_ctx *ctx, GDALDatasetH *out, const char *dataset)
{
    *out = NULL;
    if (dataset == NULL)
        return stapel__fail(ctx, STAPEL_EINVAL, "no file or source given (NULL)");
    struct stat sb;
    if (stapel_source_is_file(dataset)) {
        /* Missing or unreadable: the system's reason, not GDAL's guess that
         * it knows no such format. */
        int fd = stat(dataset, &sb) == 0 ? open(dataset, O_RDONLY | O_NONBLOCK) : -1;
        if (fd < 0 && errno == ENOENT && driver_prefixed(dataset))
            return stapel__fail(ctx, STAPEL_EIO,
                                "cannot open '%s': no such file; GDAL's 'DRIVER:file:layer' "
                                "form is not taken: give the file, and its layer as "
                                "'file|layername=NAME'",
                                dataset);
        /* Whoever takes 'file|layername=NAME' opens the file alone: here a
         * whole file is read (a stack GeoPackage, a part of a merge). */
        const char *pick = fd < 0 && errno == ENOENT ? strstr(dataset, "|layername=") : NULL;
        if (pick != NULL && exists_prefix(dataset, (size_t)(pick - dataset)))
            return stapel__fail(ctx, STAPEL_EINVAL,
                                "cannot open '%s': a whole file is read here, not one of its "
                                "layers; give the file alone ('%.*s')",
                                dataset, (int)(pick - dataset), dataset);
        if (fd < 0 && errno == ENOENT && file_before_bar(dataset))
            return stapel__fail(ctx, STAPEL_EINVAL,
                                "cannot open '%s': no such file, but the part before '|' "
                                "or a space is one; a layer is picked with '|layername=NAME', "
                                "written just so: 'file|layername=NAME'",
                                dataset);
        if (fd < 0)
            return stapel__fail(ctx, STAPEL_EIO, "cannot open '%s': %s", dataset,
                                strerror(errno));
        close(fd);
        /* GDAL reads files and directories (of shapefiles). It cannot read
         * a pipe (such as <(...)), and opening one that nobody writes to
         * would wait for ever, deaf to Ctrl-C. */
        if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            return stapel__fail(ctx, STAPEL_EIO,
                                "cannot open '%s': not a regular file (a pipe or a device); "
                                "give a file",
                                dataset);
    }
    /* GDAL opens "postgresql://" URIs, not libpq's other scheme. */
    char *uri = NULL;
    if (stapel__ascii_ncase_equal(dataset, "postgres://", 11)) {
        if ((uri = malloc(strlen(dataset) + 3)) == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        sprintf(uri, "postgresql%s", dataset + 8);
    }
    CPLErrorReset();
    /* A driver may warn already while it opens (a GeoJSON is parsed whole):
     * name the source, unless the caller named it already. */
    const char *src = ctx->reading_src, *layer = ctx->reading_layer;
    if (src == NULL)
        ctx->reading_src = dataset;
    /* GDAL's GML driver, given a GML without its schema (.xsd), learns the
     * schema by scanning the file and saves it beside it as a .gfs: stapel
     * would write into the user's data folder, which may be read-only or
     * shared. Asked not to, it scans the file at each open instead (stack
     * and info open a source once). Only for GML: another driver warns of
     * an open option it does not know. */
    const char *gml_options[] = {"WRITE_GFS=NO", NULL};
    GDALDriverH drv = stapel_source_is_file(dataset)
                          ? GDALIdentifyDriverEx(dataset, GDAL_OF_VECTOR, NULL, NULL)
                          : NULL;
    bool gml = drv != NULL && strcmp(GDALGetDriverShortName(drv), "GML") == 0;
    GDALDatasetH ds = GDALOpenEx(uri != NULL ? uri : dataset, GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                 NULL, gml ? gml_options : NULL, NULL);
    free(uri);
    ctx->reading_src = src;
    ctx->reading_layer = layer;
    if (ds == NULL && stapel_source_is_file(dataset) && S_ISREG(sb.st_mode)) {
        const char *prefix = stapel__archive_prefix(dataset);
        if (prefix != NULL)
            return archive_fail(ctx, dataset, prefix);
    }
    if (ds == NULL && stapel_source_is_file(dataset) && S_ISDIR(sb.st_mode) &&
        vector_file_name(dataset) == 0) { /* not a File Geodatabase: GDAL's reason */
        stapel_status st = folder_fail(ctx, dataset);
        if (st != STAPEL_OK)
            return st;
    }
    stapel_status missing;
    if (ds == NULL && archive_path_missing(ctx, dataset, &missing))
        return missing;
    if (ds == NULL) {
        const char *m = stapel__gdal_error("GDAL recognises no vector format in it");
        /* PostgreSQL's "too many connections for role" and "too many
         * clients already": each source read holds one, a thread's worth
         * at a time. */
        bool few =
            strstr(m, "too many connections") != NULL || strstr(m, "too many clients") != NULL;
        return stapel__fail(ctx, STAPEL_EIO, "cannot open '%s' as vector data: %s%s", dataset, m,
                            few ? "; the run opens a connection for each source it checks or "
                                  "reads, as many at a time as it has threads: give fewer with "
                                  "--threads"
                                : "");
    }
    if (CPLGetLastErrorType() >= CE_Failure && gml_cut_short(ds)) {
        /* A driver that reads the whole file as it opens it (GML, to learn
         * its layers) gives a dataset even when it failed halfway: a file
         * cut short then reads as one with fewer features, or none. */
        stapel_status st = stapel__fail(ctx, STAPEL_EIO, "cannot open '%s' as vector data: %s",
                                        dataset, stapel__gdal_error("unknown error"));
        GDALClose(ds);
        return st;
    }
    if (CPLGetLastErrorType() >= CE_Failure && stapel__driver_is(ds, "GeoJSONSeq")) {
        /* GDAL scans a GeoJSON sequence as it opens it, and a record it
         * cannot parse it reports there and leaves out of the layer: the
         * file reads as one with a feature fewer, a claim lost without a
         * word. Said at once, where it lies, for stack and info alike. */
        char where[128], why[512];
        snprintf(why, sizeof why, "%s", stapel__gdal_error("unknown error"));
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        char *layer = stapel__strdup(l != NULL ? OGR_L_GetName(l) : "?");
        stapel_status st;
        if (layer == NULL)
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        else if (seq_lost_record(ds, where, sizeof where, why, sizeof why))
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: a record %s is no GeoJSON that GDAL can read (%s); "
                              "GDAL would leave it out, and the feature it holds with it: mend "
                              "or remove that record",
                              dataset, layer, where, why);
        else
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: a record is no GeoJSON that GDAL can read (%s); "
                              "GDAL would leave it out, and the feature it holds with it: mend "
                              "or remove that record",
                              dataset, layer, why);
        free(layer);
        GDALClose(ds);
        return st;
    }
    long line;
    char type[48];
    bool bom = false;
    OGRLayerH one = GDALDatasetGetLayerCount(ds) == 1 ? GDALDatasetGetLayer(ds, 0) : NULL;
    if (one != NULL && stapel__driver_is(ds, "GeoJSON") && stapel_source_is_file(dataset) &&
        S_ISREG(sb.st_mode) && OGR_L_GetFeatureCount(one, FALSE) == 1 &&
        geojson_trailing(dataset, &line, type, sizeof type, &bom)) {
        /* GDAL reads a file that starts with one Feature as that feature
         * and ignores what follows it: features one a line with a comma
         * after each, or Features run together, read as the first alone.
         * A GeoJSON sequence that starts with a byte order mark (Notepad,
         * PowerShell) is one: GDAL takes it for GeoJSON, and its sequence
         * reader cannot parse the first record either. Writing it one a
         * line again would not help. */
        stapel_status st = stapel__fail(
            ctx, STAPEL_EDATA,
            "%s: layer %s: more follows its first GeoJSON object, from line %ld ('%s'), which "
            "GDAL does not read: it would read that one feature and leave the rest out; %s",
            dataset, OGR_L_GetName(one), line, type,
            bom && line > 1 && type[0] == '{'
                ? "the file starts with a UTF-8 byte order mark, which makes GDAL take a GeoJSON "
                  "sequence (one Feature a line) for a single GeoJSON object: save it without "
                  "the byte order mark (UTF-8 without BOM)"
                : "write the features into a FeatureCollection, or one a line with nothing "
                  "between them (a GeoJSON sequence, .geojsonl)");
        GDALClose(ds);
        return st;
    }
    char more[48];
    if (stapel__driver_is(ds, "GeoJSONSeq") &&
        seq_stray_record(ds, &line, type, sizeof type, more, sizeof more)) {
        /* A record that parses but is no Feature GDAL leaves out without
         * even an error: a misspelt type, or a FeatureCollection, whose
         * features it does not read; and what follows a record's Feature
         * on its line, which GDAL ignores (another Feature run on). */
        OGRLayerH l = GDALDatasetGetLayer(ds, 0);
        stapel_status st =
            more[0] != '\0'
                ? stapel__fail(
                      ctx, STAPEL_EDATA,
                      "%s: layer %s: line %ld holds more after its GeoJSON Feature ('%s'), "
                      "which GDAL does not read: it would leave that out, and any "
                      "feature in it: write one Feature a line",
                      dataset, l != NULL ? OGR_L_GetName(l) : "?", line, more)
                : stapel__fail(ctx, STAPEL_EDATA,
                               "%s: layer %s: line %ld holds %s%s%s, not a GeoJSON Feature; GDAL "
                               "would leave it "
                               "out, and the claim it holds with it: make it a Feature (one a "
                               "line) or remove it",
                               dataset, l != NULL ? OGR_L_GetName(l) : "?", line,
                               type[0] != '\0' ? "a record of type '"
                                               : "a record without a \"type\"",
                               type, type[0] != '\0' ? "'" : "");
        GDALClose(ds);
        return st;
    }
    char tlayer[128], tobj[160], twhy[512];
    long long tfid;
    if (stapel__driver_is(ds, "TopoJSON") &&
        topojson_damage(ds, tlayer, sizeof tlayer, &tfid, tobj, sizeof tobj, twhy, sizeof twhy)) {
        /* GDAL reads what it can of a TopoJSON object and leaves the rest
         * out without a word: a claim lost whole, or in part. */
        stapel_status st;
        if (tfid < 0)
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: %s; GDAL gives no error for it: mend the file", dataset, twhy);
        else
            st = stapel__fail(ctx, STAPEL_EDATA,
                              "%s: layer %s: feature %lld (%s): %s; GDAL gives no error for it: "
                              "mend it, or remove it from the file",
                              dataset, tlayer, tfid, tobj, twhy);
        GDALClose(ds);
        return st;
    }
    *out = ds;
    return STAPEL_OK;
}

static void list_layers(GDALDatasetH ds, stapel__buf *b)
{
    int n = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        stapel__buf_printf(b, "%s%s", i > 0 ? ", " : "", OGR_L_GetName(l));
    }
}

/* The one layer of ds that has a geometry column, or NULL when there is
 * none or more than one. */
static OGRLayerH only_spatial_layer(GDALDatasetH ds)
{
    OGRLayerH found = NULL;
    int n = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        if (OGR_L_GetGeomType(l) == wkbNone)
            continue;
        if (found != NULL)
            return NULL;
        found = l;
    }
    return found;
}

/* Whether a layer of ds may hold polygons: one of an areal geometry type,
 * or of any (a GeoJSON's, a DXF's). Not one of points or lines only, nor a
 * table. */
static bool any_areal_layer(GDALDatasetH ds)
{
    int n = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < n; i++) {
        OGRwkbGeometryType t = wkbFlatten(OGR_L_GetGeomType(GDALDatasetGetLayer(ds, i)));
        if (t != wkbNone && t != wkbPoint && t != wkbMultiPoint && t != wkbLineString &&
            t != wkbMultiLineString && t != wkbCircularString && t != wkbCompoundCurve &&
            t != wkbMultiCurve)
            return true;
    }
    return false;
}

stapel_status stapel__layer_pick(stapel_ctx *ctx, OGRLayerH *out, GDALDatasetH ds,
                                 const char *source, const char *layer_name)
{
    *out = NULL;
    int n = GDALDatasetGetLayerCount(ds);
    OGRLayerH l = NULL;
    if (layer_name != NULL) {
        l = GDALDatasetGetLayerByName(ds, layer_name);
        if (l == NULL) {
            stapel__buf b = {0};
            list_layers(ds, &b);
            stapel__fail(ctx, STAPEL_EDATA, "%s: no layer named '%s' (layers: %s)", source,
                         layer_name, b.data != NULL ? b.data : "none");
            stapel__buf_free(&b);
            return STAPEL_EDATA;
        }
    } else if (n == 1) {
        l = GDALDatasetGetLayer(ds, 0);
    } else if (n == 0) {
        return stapel__fail(ctx, STAPEL_EDATA, "%s: holds no layers", source);
    } else if ((l = only_spatial_layer(ds)) != NULL) {
        /* one layer with geometry beside tables, such as the layer_styles
         * table QGIS adds to a GeoPackage */
    } else if (!any_areal_layer(ds)) {
        /* A GPS file (GPX): picking one of its layers would only lead to
         * 'holds Point geometries'. */
        stapel__buf b = {0};
        for (int i = 0; i < n; i++) {
            OGRLayerH li = GDALDatasetGetLayer(ds, i);
            stapel__buf_printf(&b, "%s%s: %s", i > 0 ? ", " : "", OGR_L_GetName(li),
                               OGRGeometryTypeToName(OGR_L_GetGeomType(li)));
        }
        stapel__fail(ctx, STAPEL_EDATA,
                     "%s: holds %d layers, none of polygons (%s); claims and zones must be "
                     "polygons",
                     source, n, b.data != NULL ? b.data : "");
        stapel__buf_free(&b);
        return STAPEL_EDATA;
    } else {
        stapel__buf b = {0};
        list_layers(ds, &b);
        stapel__fail(ctx, STAPEL_EDATA,
                     "%s: holds %d layers (%s); pick one with '%s|layername=NAME'", source, n,
                     b.data != NULL ? b.data : "", source);
        stapel__buf_free(&b);
        return STAPEL_EDATA;
    }
    stapel_status st = stapel__layer_readable(ctx, ds, l, source);
    if (st != STAPEL_OK)
        return st;
    *out = l;
    return STAPEL_OK;
}

bool stapel__layer_read_error(GDALDatasetH ds, OGRLayerH l, char *reason, size_t size)
{
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    if (drv == NULL || !EQUAL(GDALGetDriverShortName(drv), "PostgreSQL"))
        return false;
    /* Reading the first row asks the database for the table: one that does
     * not exist (tables=NAME makes a layer of any name) or that the user
     * may not read would otherwise pass for a table without a geometry
     * column or a CRS, or fail later with only "cursor ... does not exist". */
    first_error e = {0};
    CPLPushErrorHandlerEx(keep_first, &e);
    CPLErrorReset();
    OGR_L_ResetReading(l);
    OGRFeatureH f = OGR_L_GetNextFeature(l);
    if (f != NULL)
        OGR_F_Destroy(f);
    OGR_L_ResetReading(l);
    CPLPopErrorHandler();
    CPLErrorReset();
    if (!e.got)
        return false;
    const char *m = e.msg;
    if (strncmp(m, "ERROR:", 6) == 0) /* libpq's prefix */
        m += 6 + strspn(m + 6, " ");
    snprintf(reason, size, "%.*s", (int)strcspn(m, "\n"), m);
    return true;
}

stapel_status stapel__layer_readable(stapel_ctx *ctx, GDALDatasetH ds, OGRLayerH l,
                                     const char *source)
{
    char reason[512];
    if (!stapel__layer_read_error(ds, l, reason, sizeof reason))
        return STAPEL_OK;
    return stapel__fail(ctx, STAPEL_EDATA, "%s: layer %s cannot be read: %s", source,
                        OGR_L_GetName(l), reason);
}

OGRSpatialReferenceH stapel__layer_srs(OGRLayerH l)
{
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(l);
    if (srs == NULL || OSRGetAuthorityCode(srs, NULL) != NULL)
        return srs;
    /* A GeoPackage layer written without a CRS has srs_id 0 or -1, which GDAL
     * reads as these two placeholders (GeoPackage 1.3, 1.1.2.1.1). */
    const char *name = OSRGetName(srs);
    if (name != NULL && (EQUAL(name, "Undefined geographic SRS") ||
                         EQUAL(name, "Undefined Cartesian SRS")))
        return NULL;
    return srs;
}

/* s[0..n) into b as an SQL identifier ("x", with quote '"') or string
 * literal ('x', with quote '\''): the quote doubled inside. */
static bool sql_quoted(stapel__buf *b, const char *s, size_t n, char quote)
{
    if (!stapel__buf_append(b, &quote, 1))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] == quote && !stapel__buf_append(b, &quote, 1)) ||
            !stapel__buf_append(b, s + i, 1))
            return false;
    return stapel__buf_append(b, &quote, 1);
}

/* A result of sql on ds: column 0 as text into *text (if not NULL; caller
 * frees) and the integer column c of up to max rows into v. Returns the
 * number of rows, or -1 when the query failed. */
static int query(GDALDatasetH ds, const char *sql, char **text, int c, int *v, int max)
{
    CPLErrorReset();
    OGRLayerH r = GDALDatasetExecuteSQL(ds, sql, NULL, NULL);
    if (r == NULL)
        return -1;
    int n = 0;
    OGRFeatureH f;
    while (n < max && (f = OGR_L_GetNextFeature(r)) != NULL) {
        if (n == 0 && text != NULL)
            *text = stapel__strdup(OGR_F_GetFieldAsString(f, 0));
        v[n++] = OGR_F_GetFieldAsInteger(f, c);
        OGR_F_Destroy(f);
    }
    bool failed = CPLGetLastErrorType() >= CE_Failure;
    GDALDatasetReleaseResultSet(ds, r);
    return failed ? -1 : n;
}

int stapel__pg_srids(GDALDatasetH ds, OGRLayerH l, const char *where, int *srid, int max)
{
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    const char *geom = OGR_L_GetGeometryColumn(l);
    if (drv == NULL || !EQUAL(GDALGetDriverShortName(drv), "PostgreSQL") || geom == NULL ||
        geom[0] == '\0' || max < 1)
        return -1;
    /* GDAL names a layer "schema.table", or "table" in the schemas it
     * searches, with "(column)" after it when it picks one of several
     * geometry columns. A table's name may hold a dot too: try both. */
    const char *name = OGR_L_GetName(l);
    size_t n = strlen(name), g = strlen(geom);
    if (n > g + 2 && name[n - 1] == ')' && name[n - g - 2] == '(' &&
        strncmp(name + n - g - 1, geom, g) == 0)
        n -= g + 2;
    const char *dot = memchr(name, '.', n);
    stapel__buf id = {0}, sql = {0};
    bool ok = stapel__buf_puts(&sql, "SELECT a.attrelid::regclass::text, "
                                     "postgis_typmod_srid(a.atttypmod) FROM pg_attribute a "
                                     "WHERE a.attrelid = COALESCE(");
    if (dot != NULL) {
        size_t k = (size_t)(dot - name);
        ok = ok && sql_quoted(&id, name, k, '"') && stapel__buf_puts(&id, ".") &&
             sql_quoted(&id, dot + 1, n - k - 1, '"') && stapel__buf_puts(&sql, "to_regclass(") &&
             sql_quoted(&sql, id.data, id.len, '\'') && stapel__buf_puts(&sql, "), ");
        id.len = 0;
    }
    ok = ok && sql_quoted(&id, name, n, '"') && stapel__buf_puts(&sql, "to_regclass(") &&
         sql_quoted(&sql, id.data, id.len, '\'') &&
         stapel__buf_puts(&sql, ")) AND a.attname = ") && sql_quoted(&sql, geom, g, '\'');
    int found = -1;
    char *table = NULL;
    int declared = 0;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    if (ok && query(ds, sql.data, &table, 1, &declared, 1) == 1 && table != NULL) {
        if (declared != 0) {
            srid[0] = declared;
            found = 1; /* the column holds that SRID only */
        } else {
            sql.len = 0;
            ok = stapel__buf_puts(&sql, "SELECT DISTINCT ST_SRID(") &&
                 sql_quoted(&sql, geom, g, '"') && stapel__buf_puts(&sql, ") FROM ") &&
                 stapel__buf_puts(&sql, table) && stapel__buf_puts(&sql, " WHERE ") &&
                 sql_quoted(&sql, geom, g, '"') && stapel__buf_puts(&sql, " IS NOT NULL");
            if (where != NULL)
                ok = ok && stapel__buf_printf(&sql, " AND (%s)", where);
            ok = ok && stapel__buf_printf(&sql, " ORDER BY 1 LIMIT %d", max);
            if (ok)
                found = query(ds, sql.data, NULL, 0, srid, max);
        }
    }
    CPLPopErrorHandler();
    CPLErrorReset();
    free(table);
    stapel__buf_free(&id);
    stapel__buf_free(&sql);
    return found;
}

bool stapel__geom_columns(stapel__buf *b, OGRLayerH l)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    b->len = 0;
    bool ok = stapel__buf_puts(b, "");
    for (int i = 0; i < OGR_FD_GetGeomFieldCount(defn) && ok; i++)
        ok = stapel__buf_printf(b, "%s%s", i > 0 ? ", " : "",
                                OGR_GFld_GetNameRef(OGR_FD_GetGeomFieldDefn(defn, i)));
    return ok;
}

OGRFeatureH stapel__next_feature(stapel_ctx *ctx, OGRLayerH l, const char *source,
                                 int64_t *n_read, stapel_status *st)
{
    CPLErrorReset(); /* so that an error below is this read's */
    OGRFeatureH f = OGR_L_GetNextFeature(l);
    if (f != NULL) {
        (*n_read)++;
        return f;
    }
    if (CPLGetLastErrorType() >= CE_Failure)
        *st = stapel__fail(ctx, STAPEL_EDATA, "%s: layer %s: reading stopped after %lld features: %s",
                           source, OGR_L_GetName(l), (long long)*n_read,
                           stapel__gdal_error("unknown error"));
    return NULL;
}

int stapel__csv_wkt_field(GDALDatasetH ds, OGRLayerH l)
{
    if (ds == NULL || l == NULL || !stapel__driver_is(ds, "CSV"))
        return -1;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    if (OGR_FD_GetGeomFieldCount(defn) != 1)
        return -1;
    /* GDAL takes a column named WKT (in any case) as the geometry, and
     * keeps it as a field too. */
    int n = OGR_FD_GetFieldCount(defn);
    for (int i = 0; i < n; i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
        if (EQUAL(OGR_Fld_GetNameRef(fd), "WKT") && OGR_Fld_GetType(fd) == OFTString)
            return i;
    }
    return -1;
}

bool stapel__csv_wkt_damaged(OGRFeatureH f, OGRGeometryH g, int wkt, char *why, size_t size)
{
    if (wkt < 0 || !OGR_F_IsFieldSetAndNotNull(f, wkt))
        return false;
    const char *text = OGR_F_GetFieldAsString(f, wkt);
    const char *p = text + strspn(text, " \t\r\n");
    size_t len = strlen(p);
    while (len > 0 && strchr(" \t\r\n", p[len - 1]) != NULL)
        len--;
    if (len == 0)
        return false; /* no geometry: a null one */
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)p[i] & 0xC0) != 0x80;
    bool hex = strspn(p, "0123456789abcdefABCDEF") >= len;
    bool damaged = g == NULL;
    /* A text that starts with the name of the geometry GDAL made of it was
     * read as WKT (what GDAL makes of the bytes of a text that is none has
     * another type): spare parsing it again. */
    size_t kw = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    const char *gname = g != NULL ? OGR_G_GetGeometryName(g) : NULL;
    if (!damaged && !hex && gname != NULL && kw > 0 && strlen(gname) == kw &&
        stapel__ascii_ncase_equal(p, gname, kw))
        return false;
    if (!damaged && !hex) {
        /* Not hexadecimal WKB, so GDAL read it as WKT; but it makes a
         * geometry of the bytes of a text that is none, without a word. */
        char *copy = malloc(len + 1);
        if (copy == NULL)
            return false;
        memcpy(copy, p, len);
        copy[len] = '\0';
        char *q = copy;
        OGRGeometryH parsed = NULL;
        CPLPushErrorHandler(CPLQuietErrorHandler);
        damaged = OGR_G_CreateFromWkt(&q, NULL, &parsed) != OGRERR_NONE || parsed == NULL;
        CPLPopErrorHandler();
        CPLErrorReset();
        if (parsed != NULL)
            OGR_G_DestroyGeometry(parsed);
        free(copy);
    }
    if (damaged) {
        /* Its start and length: a text cut short shows by its end. */
        size_t shown = 0, bytes = 0;
        while (bytes < len && shown < 40) {
            bytes++;
            while (bytes < len && ((unsigned char)p[bytes] & 0xC0) == 0x80)
                bytes++; /* whole UTF-8 characters */
            shown++;
        }
        snprintf(why, size, "its column %s holds %s: %zu characters, '%.*s%s'%s",
                 OGR_Fld_GetNameRef(OGR_F_GetFieldDefnRef(f, wkt)),
                 hex ? "hexadecimal text that is no WKB" : "text that is no WKT", chars, (int)bytes,
                 p, bytes < len ? "…" : "",
                 chars == 32767 ? ", as many as a spreadsheet keeps in a cell: likely cut there"
                                : "");
    }
    return damaged;
}

/* The value of member key (in any case when any_case) of the JSON object
 * that starts at obj ('{'), past the spaces before it, or NULL when it has
 * none (or is no object). Text that GDAL parsed already, so only strings,
 * nesting and keys matter. */
static const char *json_member_as(const char *obj, const char *key, bool any_case)
{
    obj += strspn(obj, " \t\r\n");
    if (*obj != '{')
        return NULL;
    size_t klen = strlen(key);
    int depth = 0;
    for (const char *p = obj; *p != '\0'; p++) {
        if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return NULL;
        } else if (*p == '"') {
            const char *start = ++p;
            while (*p != '\0' && *p != '"')
                p += p[0] == '\\' && p[1] != '\0' ? 2 : 1;
            if (*p == '\0')
                return NULL;
            const char *q = p + 1 + strspn(p + 1, " \t\r\n");
            if (depth == 1 && *q == ':' && (size_t)(p - start) == klen &&
                (any_case ? strncasecmp(start, key, klen) : memcmp(start, key, klen)) == 0)
                return q + 1 + strspn(q + 1, " \t\r\n");
        }
    }
    return NULL;
}

static const char *json_member(const char *obj, const char *key)
{
    return json_member_as(obj, key, false);
}

/* json_member, its key in any case: GDAL's GeoJSON and TopoJSON drivers
 * find members so ("Type", "ARCS"). */
static const char *json_imember(const char *obj, const char *key)
{
    return json_member_as(obj, key, true);
}

/* Whether the GeoJSON Feature text has a geometry that GDAL should have
 * read: a member "geometry" that is not null, nor one whose coordinates
 * are an empty array (RFC 7946 lets that be read as null). */
static bool geojson_geometry_set(const char *feature)
{
    const char *g = json_imember(feature, "geometry");
    if (g == NULL || strncmp(g, "null", 4) == 0)
        return false;
    const char *c = json_imember(g, "coordinates");
    if (c != NULL && *c == '[' && c[1 + strspn(c + 1, " \t\r\n")] == ']')
        return false;
    return true;
}

/* Keeps the first error GDAL gives (its handler's user data: a char[256]). */
static void keep_first_error(CPLErr level, CPLErrorNum num, const char *message)
{
    (void)num;
    char *first = CPLGetErrorHandlerUserData();
    if (level >= CE_Failure && first != NULL && first[0] == '\0')
        snprintf(first, 256, "%s", message);
}

/* Past the JSON value that starts at p (after its spaces): a string, an
 * object or array with all it holds, or a number or literal; NULL at the
 * end of the text. Text that GDAL parsed already. */
static const char *json_skip(const char *p)
{
    p += strspn(p, " \t\r\n");
    int depth = 0;
    do {
        if (*p == '\0')
            return NULL;
        if (*p == '"') {
            for (p++; *p != '"'; p += p[0] == '\\' && p[1] != '\0' ? 2 : 1)
                if (*p == '\0')
                    return NULL;
            p++;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            p++;
        } else if (depth > 0) {
            p++;
        } else {
            p += strcspn(p, ",]} \t\r\n");
        }
    } while (depth > 0);
    return p;
}

/* What an ESRI JSON geometry member (at g) holds that GDAL should have read:
 * 0, none (null, or only empty arrays: an empty geometry); 1, a geometry,
 * an array of coordinates under any name ("rings", or a misspelt one) or a
 * number "x"; 2, one with true curves ("curveRings", "curvePaths"), which
 * GDAL does not read. */
static int esri_geometry_set(const char *g)
{
    if (g == NULL || *g != '{')
        return 0;
    if (json_member(g, "curveRings") != NULL || json_member(g, "curvePaths") != NULL)
        return 2;
    for (const char *p = g + 1;;) { /* its members */
        p += strspn(p, " \t\r\n");
        if (*p != '"')
            return 0;
        bool x = strncmp(p, "\"x\"", 3) == 0;
        if ((p = json_skip(p)) == NULL)
            return 0;
        p += strspn(p, " \t\r\n");
        if (*p++ != ':')
            return 0;
        p += strspn(p, " \t\r\n");
        if ((*p == '[' && p[1 + strspn(p + 1, " \t\r\n")] != ']') ||
            (x && (*p == '-' || (*p >= '0' && *p <= '9'))))
            return 1;
        if ((p = json_skip(p)) == NULL)
            return 0;
        p += strspn(p, " \t\r\n");
        if (*p++ != ',')
            return 0;
    }
}

/* What the elements or records of a file hold, in order (1 or 2: a
 * geometry GDAL should read, esri_geometry_set; 0: none). */
typedef struct kinds {
    signed char *set;
    size_t n, cap;
} kinds;

static bool kinds_push(kinds *k, int v)
{
    if (k->n == k->cap) {
        size_t cap = k->cap == 0 ? 256 : k->cap * 2;
        signed char *d = realloc(k->set, cap);
        if (d == NULL)
            return false;
        k->set = d;
        k->cap = cap;
    }
    k->set[k->n++] = (signed char)v;
    return true;
}

/* How many of the features of l (of ds, read by driver) that the filter
 * where keeps (all, when NULL) GDAL gives without geometry where the file
 * holds one (k, paired in order with GDAL's features on a dataset of its
 * own), the first one's id into *first, and whether one of them has true
 * curves (2 in k); -1 when they cannot be paired (not one feature an
 * element, or the file does not open again). */
static int64_t paired_unread(GDALDatasetH ds, OGRLayerH l, const char *driver, const kinds *k,
                             const char *where, int64_t *first, bool *curves)
{
    const char *drivers[] = {driver, NULL};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH nd =
        GDALOpenEx(GDALGetDescription(ds), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, NULL, NULL);
    OGRLayerH nl = nd != NULL ? GDALDatasetGetLayerByName(nd, OGR_L_GetName(l)) : NULL;
    int64_t *lost = NULL, n_lost = 0, n = nl != NULL ? 0 : -1;
    size_t i = 0;
    OGRFeatureH f;
    while (n >= 0 && (f = OGR_L_GetNextFeature(nl)) != NULL) {
        if (i < k->n && k->set[i] > 0 && OGR_F_GetGeometryRef(f) == NULL) {
            int64_t *d = realloc(lost, ((size_t)n_lost + 1) * sizeof *lost);
            if (d == NULL)
                n = -1;
            else
                (lost = d)[n_lost++] = (int64_t)OGR_F_GetFID(f);
            *curves = *curves || k->set[i] == 2;
        }
        i++;
        OGR_F_Destroy(f);
    }
    if (i != k->n) /* not one feature an element: nothing can be told */
        n = -1;
    if (n >= 0 && n_lost > 0 && where != NULL) {
        if (OGR_L_SetAttributeFilter(nl, where) != OGRERR_NONE)
            n = -1;
        OGR_L_ResetReading(nl);
        while (n >= 0 && (f = OGR_L_GetNextFeature(nl)) != NULL) {
            int64_t fid = (int64_t)OGR_F_GetFID(f);
            for (int64_t j = 0; j < n_lost; j++)
                if (lost[j] == fid && n++ == 0)
                    *first = fid;
            OGR_F_Destroy(f);
        }
    } else if (n >= 0 && n_lost > 0) {
        n = n_lost;
        *first = lost[0];
    }
    if (nd != NULL)
        GDALClose(nd);
    CPLPopErrorHandler();
    CPLErrorReset();
    free(lost);
    return n;
}

/* Past the white space and NUL bytes at p, up to end: GDAL reads a text
 * only up to its first NUL. */
static const char *past_blank(const char *p, const char *end)
{
    while (p < end && (*p == '\0' || strchr(" \t\r\n", *p) != NULL))
        p++;
    return p;
}

/* The first characters of the text at p (up to 20, and up to the line's
 * end or end) into text, a NUL byte written \0, and "..." when more
 * follows on the line. */
static void excerpt(const char *p, const char *end, char *text, size_t size)
{
    size_t t = 0;
    const char *c = p;
    for (; c < end && c - p < 20 && *c != '\r' && *c != '\n' && t + 3 < size; c++)
        if (*c == '\0') {
            text[t++] = '\\';
            text[t++] = '0';
        } else {
            text[t++] = *c;
        }
    text[t] = '\0';
    if (c < end && *c != '\r' && *c != '\n')
        snprintf(text + t, size - t, "...");
}

/* Whether the GeoJSON file at path holds more than white space after its
 * first JSON value; the line where that starts into *line, its first
 * characters (up to the line's end, a NUL byte written \0) into text, and
 * whether the file starts with a byte order mark into *bom. What follows
 * a NUL byte after the value is more too: GDAL reads the text only up to
 * the NUL, and leaves the features after it out without a word. */
static bool geojson_trailing(const char *path, long *line, char *text, size_t size, bool *bom)
{
    GByte *data = NULL;
    vsi_l_offset len = 0;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool read = VSIIngestFile(NULL, path, &data, &len, -1) != 0;
    CPLPopErrorHandler();
    CPLErrorReset();
    const char *start = (const char *)data, *end = read ? start + (size_t)len : NULL;
    *bom = read && strncmp(start, "\xef\xbb\xbf", 3) == 0;
    if (*bom) /* a byte order mark, as GDAL skips */
        start += 3;
    const char *p = read ? json_skip(start) : NULL;
    if (p != NULL)
        p += strspn(p, " \t\r\n");
    /* NUL bytes alone at its end (a file padded with them) hold nothing. */
    bool more = p != NULL && past_blank(p, end) < end;
    if (more) {
        *line = 1;
        for (const char *c = start; c < p; c++)
            *line += *c == '\n';
        excerpt(p, end, text, size);
    }
    VSIFree(data);
    return more;
}

/* The records of a GeoJSON sequence, read one by one and split as GDAL's
 * GeoJSONSeq driver splits them: at RS characters (RFC 8142) when the file
 * starts with one, else at line ends; a record's trailing \r and \n
 * dropped, and empty ones skipped. */
typedef struct seq_reader {
    VSILFILE *fp;
    char chunk[65536];
    size_t pos, len;
    char sep;  /* '\n', or RS; 0 before the first read */
    long line; /* the line the next byte is on, from 1 */
    stapel__buf rec;
} seq_reader;

/* A reader of the GeoJSON sequence ds, or false when its file cannot be
 * opened again (one GDAL fetched from a URL). */
static bool seq_open(seq_reader *r, GDALDatasetH ds)
{
    const char *path = GDALGetDescription(ds);
    if (stapel__ascii_ncase_equal(path, "GeoJSONSeq:", 11))
        path += 11;
    memset(r, 0, sizeof *r);
    r->line = 1;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    r->fp = stapel__source_is_service(path) ? NULL : VSIFOpenL(path, "rb");
    CPLPopErrorHandler();
    CPLErrorReset();
    return r->fp != NULL;
}

static void seq_close(seq_reader *r)
{
    if (r->fp != NULL)
        VSIFCloseL(r->fp);
    stapel__buf_free(&r->rec);
}

/* The next record into r->rec.data, and the line it starts on into *line;
 * false at the end, or when memory runs out (then *failed). */
static bool seq_next(seq_reader *r, long *line, bool *failed)
{
    r->rec.len = 0;
    long start = -1;
    for (;;) {
        if (r->pos == r->len) {
            r->len = VSIFReadL(r->chunk, 1, sizeof r->chunk, r->fp);
            r->pos = 0;
            if (r->sep == 0 && r->len > 0) {
                r->sep = r->chunk[0] == '\x1e' ? '\x1e' : '\n';
                r->pos = r->sep == '\x1e';
            }
        }
        bool end = r->pos == r->len;
        const char *s = end ? NULL : memchr(r->chunk + r->pos, r->sep, r->len - r->pos);
        size_t n = (s != NULL ? (size_t)(s - r->chunk) : r->len) - r->pos;
        if (start < 0)
            start = r->line;
        for (size_t i = 0; i < n; i++)
            r->line += r->chunk[r->pos + i] == '\n';
        if (n > 0 && !stapel__buf_append(&r->rec, r->chunk + r->pos, n)) {
            *failed = true;
            return false;
        }
        r->pos += n;
        if (s == NULL && !end)
            continue; /* the record goes on in the next chunk */
        if (s != NULL) {
            r->line += r->sep == '\n';
            r->pos++;
        }
        while (r->rec.len > 0 &&
               (r->rec.data[r->rec.len - 1] == '\r' || r->rec.data[r->rec.len - 1] == '\n'))
            r->rec.data[--r->rec.len] = '\0';
        if (r->rec.len > 0) {
            *line = start;
            return true;
        }
        if (end)
            return false;
        start = -1; /* an empty record: skipped */
    }
}

/* Whether a GeoJSON "type" member's value (at v) is one GDAL's GeoJSONSeq
 * driver makes a feature of: a Feature, or a geometry (in any case, as GDAL
 * compares them). */
static bool seq_feature_type(const char *v)
{
    static const char *const types[] = {
        "Feature",    "Point",           "LineString",   "Polygon",
        "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"};
    if (v == NULL || *v != '"')
        return false;
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        size_t n = strlen(types[i]);
        if (stapel__ascii_ncase_equal(v + 1, types[i], n) && v[1 + n] == '"')
            return true;
    }
    return false;
}

/* The first record of the GeoJSON sequence ds that GDAL leaves out without
 * a word, as no Feature nor geometry: of another type ("Featuer", a
 * FeatureCollection, whose features GDAL does not read), without a type, or
 * no JSON object. Its line into *line, its type (or "") into type. False
 * when there is none, or the file cannot be read again. */
static bool seq_stray_record(GDALDatasetH ds, long *line, char *type, size_t size, char *more,
                             size_t msize)
{
    seq_reader r;
    if (!seq_open(&r, ds))
        return false;
    bool failed = false, found = false;
    more[0] = '\0';
    while (!found && seq_next(&r, line, &failed)) {
        const char *v = json_imember(r.rec.data, "type");
        if (seq_feature_type(v)) {
            /* GDAL reads a record's first JSON value and ignores what
             * follows it (a Feature run on, or after a NUL byte); commas
             * alone there are harmless. */
            const char *end = r.rec.data + r.rec.len, *p = json_skip(r.rec.data), *q = p;
            while (q != NULL && (q = past_blank(q, end)) < end && *q == ',')
                q++;
            if (q == NULL || q == end)
                continue;
            found = true;
            excerpt(p + strspn(p, " \t"), end, more, msize);
            type[0] = '\0';
            continue;
        }
        found = true;
        int n = v != NULL && *v == '"' ? (int)strcspn(v + 1, "\"") : 0;
        snprintf(type, size, "%.*s", n > 40 ? 40 : n, n > 0 ? v + 1 : "");
    }
    seq_close(&r);
    return found;
}

/* TopoJSON, which GDAL's TopoJSON driver reads without a word about what it
 * cannot: an object without a "type" (or with one it does not know at the
 * top), or whose "arcs" is no array, it leaves out; one of a type it does
 * not know it gives no geometry; an arc index that is no integer or names
 * no arc it skips, which empties a ring or drops a polygon's part; a
 * position of an arc that is not two numbers it reads as 0,0 or skips,
 * which in a quantized topology moves the vertices that follow (deltas add
 * up). Checked in the file's text, as GDAL reads it (ogrtopojsonreader.cpp). */
typedef struct topo_check {
    int64_t n_arcs;
    char *why; /* what is wrong, and what GDAL would do */
    size_t size;
} topo_check;

/* The elements of the JSON array at *p ('['), one at each call: the start
 * of the next into *p, false past the last (or at damage GDAL's parser
 * would have refused). */
static bool json_next(const char **p, bool *first)
{
    const char *q = *p;
    if (*first) {
        q += strspn(q, " \t\r\n");
        if (*q != '[')
            return false;
        q++;
        *first = false;
    } else {
        if ((q = json_skip(q)) == NULL)
            return false;
        q += strspn(q, " \t\r\n");
        if (*q != ',')
            return false;
        q++;
    }
    q += strspn(q, " \t\r\n");
    *p = q;
    return *q != ']' && *q != '\0';
}

/* Whether the JSON value at p is a number (an integer when whole). */
static bool json_number(const char *p, bool whole)
{
    const char *q = p + (*p == '-');
    if (!isdigit((unsigned char)*q))
        return false;
    size_t n = strcspn(q, ",]} \t\r\n");
    for (size_t i = 0; whole && i < n; i++)
        if (q[i] == '.' || q[i] == 'e' || q[i] == 'E')
            return false;
    return true;
}

/* Whether the arc indices at p, nested depth arrays deep (1 for a
 * LineString, 2 for a Polygon, 3 for a MultiPolygon), are all integers
 * that name an arc of the file; what is wrong into t->why. */
static bool topo_arc_ids(const char *p, int depth, topo_check *t)
{
    if (depth == 0) {
        if (!json_number(p, true)) {
            int n = (int)strcspn(p, ",]}\r\n");
            snprintf(t->why, t->size,
                     "its \"arcs\" hold '%.*s' where an arc's index belongs, which GDAL skips",
                     n > 20 ? 20 : n, p);
            return false;
        }
        long long id = strtoll(p, NULL, 10);
        long long arc = id < 0 ? -(id + 1) : id;
        if (arc >= t->n_arcs) {
            snprintf(t->why, t->size,
                     "its \"arcs\" name arc %lld, and the file holds %lld (0 to %lld): GDAL "
                     "skips it, so its ring lacks that arc's vertices or is left out, and a "
                     "polygon's part with it",
                     id, (long long)t->n_arcs, (long long)t->n_arcs - 1);
            return false;
        }
        return true;
    }
    if (*p != '[') {
        int n = (int)strcspn(p, ",]}\r\n");
        snprintf(t->why, t->size,
                 "its \"arcs\" hold '%.*s' where an array belongs (nested too shallow for its "
                 "type), which GDAL skips",
                 n > 20 ? 20 : n, p);
        return false;
    }
    bool first = true;
    while (json_next(&p, &first))
        if (!topo_arc_ids(p, depth - 1, t))
            return false;
    return true;
}

/* How deep the arcs of a TopoJSON geometry of the type at type (a JSON
 * string) are nested: 1 for a LineString, 2 for a Polygon, 3 for a
 * MultiPolygon; 0 for points, which have coordinates; -1 for a type GDAL
 * does not read. */
static int topo_depth(const char *type)
{
    static const struct {
        const char *name;
        int depth;
    } types[] = {{"Point", 0},           {"MultiPoint", 0}, {"LineString", 1},
                 {"MultiLineString", 2}, {"Polygon", 2},    {"MultiPolygon", 3}};
    size_t n = type != NULL && *type == '"' ? strcspn(type + 1, "\"") : 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (n == strlen(types[i].name) && strncmp(type + 1, types[i].name, n) == 0 &&
            type[1 + n] == '"')
            return types[i].depth;
    return -1;
}

/* 0 when GDAL reads the TopoJSON geometry object at obj whole, 1 when it
 * gives no feature for it as it stands for none ("type": null), -1 when
 * it loses some or all of it (t->why says what). */
static int topo_object(const char *obj, topo_check *t)
{
    if (*obj != '{') {
        snprintf(t->why, t->size, "it is no JSON object, which GDAL leaves out");
        return -1;
    }
    const char *type = json_imember(obj, "type");
    if (type != NULL && strncmp(type, "null", 4) == 0)
        return 1;
    if (type == NULL || *type != '"') {
        snprintf(t->why, t->size, "it has no \"type\"%s, which GDAL leaves out",
                 type != NULL ? " that is a string" : "");
        return -1;
    }
    int n = (int)strcspn(type + 1, "\"");
    int depth = topo_depth(type);
    const char *arcs = json_imember(obj, depth == 0 ? "coordinates" : "arcs");
    if (depth < 0 && (arcs == NULL || *arcs != '[')) {
        snprintf(t->why, t->size,
                 "its type '%.*s' is none GDAL reads (Polygon, MultiPolygon, ...), and it has "
                 "no \"arcs\" array: GDAL leaves it out",
                 n > 40 ? 40 : n, type + 1);
        return -1;
    }
    if (arcs == NULL || *arcs != '[') {
        snprintf(t->why, t->size, "its \"%s\" is no array, which GDAL leaves out",
                 depth == 0 ? "coordinates" : "arcs");
        return -1;
    }
    if (depth < 0) {
        snprintf(t->why, t->size,
                 "its type '%.*s' is none GDAL reads (Polygon, MultiPolygon, ...): it would "
                 "read it as no geometry",
                 n > 40 ? 40 : n, type + 1);
        return -1;
    }
    return depth == 0 || topo_arc_ids(arcs, depth, t) ? 0 : -1;
}

/* Whether the TopoJSON text's "arcs" are all arrays of positions of two
 * numbers; the first that is not into t->why. Their count into t->n_arcs. */
static bool topo_arcs(const char *text, topo_check *t)
{
    const char *p = json_imember(text, "arcs");
    bool first = true;
    for (t->n_arcs = 0; p != NULL && json_next(&p, &first); t->n_arcs++) {
        const char *q = p;
        bool f2 = true;
        long k = 0;
        while (*p == '[' && json_next(&q, &f2)) {
            const char *c = q;
            bool f3 = true;
            int n = 0; /* its elements, -1 once one is no number */
            while (*q == '[' && n >= 0 && json_next(&c, &f3))
                n = json_number(c, false) ? n + 1 : -1;
            if (n != 2) {
                int len = (int)strcspn(q, "]\r\n");
                snprintf(t->why, t->size,
                         "arc %lld: its position %ld ('%.*s%s') is not two numbers, which GDAL "
                         "does not read: that vertex comes out wrong or not at all%s",
                         (long long)t->n_arcs, k, len > 30 ? 30 : len, q, len > 30 ? "..." : "]",
                         json_imember(text, "transform") != NULL
                             ? ", and those after it moved (its deltas add up)"
                             : "");
                return false;
            }
            k++;
        }
        if (*p != '[') {
            snprintf(t->why, t->size, "arc %lld is no array of positions, which GDAL skips",
                     (long long)t->n_arcs);
            return false;
        }
    }
    return true;
}

/* The first object of the TopoJSON file of ds that GDAL reads only in part,
 * or not at all (topo_object): its layer into layer, its feature (as GDAL
 * would number it) into *fid, where it lies into obj and what is wrong into
 * why; *fid -1 for damage no one feature has (an arc's position). False
 * when there is none, or the file cannot be read again. */
static bool topojson_damage(GDALDatasetH ds, char *layer, size_t lsize, long long *fid, char *obj,
                            size_t osize, char *why, size_t wsize)
{
    const char *path = GDALGetDescription(ds);
    if (stapel__ascii_ncase_equal(path, "TopoJSON:", 9))
        path += 9;
    GByte *data = NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool read = !stapel__source_is_service(path) && VSIIngestFile(NULL, path, &data, NULL, -1);
    CPLPopErrorHandler();
    CPLErrorReset();
    const char *text = (const char *)data;
    if (read && strncmp(text, "\xef\xbb\xbf", 3) == 0)
        text += 3;
    topo_check t = {0, why, wsize};
    bool found = false;
    *fid = -1;
    snprintf(layer, lsize, "?");
    obj[0] = '\0';
    if (read && !topo_arcs(text, &t)) {
        VSIFree(data);
        return true;
    }
    const char *objects = read ? json_imember(text, "objects") : NULL;
    bool keyed = objects != NULL && *objects == '{', first = true;
    const char *p = objects;
    long long n_main = 0; /* features of GDAL's layer "TopoJSON" */
    for (long i = 0; !found && objects != NULL; i++) {
        const char *key = NULL;
        int klen = 0;
        if (keyed) { /* "key": value, ... */
            p += i == 0 ? 1 : 0;
            p += strspn(p, " \t\r\n");
            if (*p != '"')
                break;
            key = p + 1;
            klen = (int)strcspn(key, "\"");
            if ((p = json_skip(p)) == NULL)
                break;
            p += strspn(p, " \t\r\n");
            if (*p++ != ':')
                break;
            p += strspn(p, " \t\r\n");
        } else if (!json_next(&p, &first)) {
            break;
        }
        const char *type = json_imember(p, "type");
        bool gc = type != NULL && strncmp(type, "\"GeometryCollection\"", 20) == 0;
        const char *id = json_imember(p, "id");
        if (gc && key == NULL && id != NULL && *id == '"') {
            key = id + 1;
            klen = (int)strcspn(key, "\"");
        }
        if (gc) {
            snprintf(layer, lsize, "%.*s", key != NULL ? klen : 8, key != NULL ? key : "TopoJSON");
            const char *g = json_imember(p, "geometries");
            if (g == NULL || *g != '[') {
                snprintf(obj, osize, "object %ld", i);
                snprintf(why, wsize,
                         "its GeometryCollection has no \"geometries\" array, which GDAL leaves "
                         "out with the layer");
                found = true;
            }
            bool f = true;
            long long n = 0;
            for (long j = 0; !found && json_next(&g, &f); j++) {
                int r = topo_object(g, &t);
                if (r < 0) {
                    *fid = n;
                    snprintf(obj, osize, "geometries[%ld]", j);
                    found = true;
                }
                n += r == 0;
            }
        } else if (type == NULL || strncmp(type, "null", 4) != 0) {
            int r = topo_depth(type) >= 0 || type == NULL || *type != '"' ? topo_object(p, &t) : -1;
            if (r < 0 && topo_depth(type) < 0 && type != NULL && *type == '"') {
                int n = (int)strcspn(type + 1, "\"");
                snprintf(why, wsize,
                         "its type '%.*s' is no geometry nor GeometryCollection, which GDAL "
                         "leaves out",
                         n > 40 ? 40 : n, type + 1);
            }
            if (r < 0) {
                snprintf(layer, lsize, "TopoJSON");
                *fid = n_main;
                snprintf(obj, osize, "object %s%.*s%s", key != NULL ? "'" : "",
                         key != NULL ? klen : 0, key != NULL ? key : "", key != NULL ? "'" : "");
                if (key == NULL)
                    snprintf(obj, osize, "object %ld", i);
                found = true;
            }
            n_main += r == 0;
        }
        if (keyed && !found) {
            if ((p = json_skip(p)) == NULL)
                break;
            p += strspn(p, " \t\r\n");
            if (*p++ != ',')
                break;
        }
    }
    VSIFree(data);
    return found;
}

/* stapel__geojson_unread for a GeoJSON sequence, which keeps no feature's
 * text either: its records paired, in order, with GDAL's features. */
static int64_t seq_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                          char *why, size_t size)
{
    seq_reader r;
    if (!seq_open(&r, ds))
        return -1;
    kinds k = {0};
    bool failed = false, curves = false;
    long line;
    while (!failed && seq_next(&r, &line, &failed))
        failed = !kinds_push(&k, geojson_geometry_set(r.rec.data) ? 1 : 0);
    seq_close(&r);
    int64_t n = failed ? -1 : paired_unread(ds, l, "GeoJSONSeq", &k, where, first, &curves);
    free(k.set);
    if (n > 0)
        snprintf(why, size, "its geometry member is no GeoJSON geometry that GDAL reads");
    return n;
}

/* stapel__geojson_unread for an ESRI JSON file: GDAL keeps no feature's
 * text there, so the file is read again and its "features" paired, in
 * order, with the features GDAL gives. */
static int64_t esrijson_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                               char *why, size_t size)
{
    GByte *text = NULL;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    bool read = VSIIngestFile(NULL, GDALGetDescription(ds), &text, NULL, -1) != 0;
    CPLPopErrorHandler();
    CPLErrorReset();
    const char *p = read ? json_member((const char *)text, "features") : NULL;
    if (p == NULL || *p != '[') {
        VSIFree(text);
        return read ? 0 : -1;
    }
    kinds k = {0};
    bool ok = true;
    for (p++;;) {
        p += strspn(p, " \t\r\n");
        if (*p == ']' || *p == '\0')
            break;
        if (!(ok = kinds_push(&k, esri_geometry_set(json_member(p, "geometry")))))
            break;
        if ((p = json_skip(p)) == NULL)
            break;
        p += strspn(p, " \t\r\n");
        if (*p == ',')
            p++;
    }
    VSIFree(text);
    bool curves = false;
    int64_t n = ok ? paired_unread(ds, l, "ESRIJSON", &k, where, first, &curves) : -1;
    free(k.set);
    if (n > 0 && curves)
        snprintf(why, size,
                 "its geometry has true curves (curveRings), which GDAL does not read "
                 "from ESRI JSON: ask the service for them as straight segments "
                 "(returnTrueCurves=false), or export the layer in another format");
    else if (n > 0)
        snprintf(why, size, "its geometry member is no ESRI JSON geometry that GDAL reads");
    return n;
}

/* stapel__geojson_unread for a layer of the SQLite driver (an SQLite or
 * SpatiaLite table): GDAL reads a geometry column value it cannot decode
 * (a damaged blob, WKT cut short or misspelt) as no geometry, without an
 * error. The features it gives without geometry (those the filter keeps)
 * are asked for in SQL, in batches: a value that is there, not NULL nor
 * empty, is one GDAL could not read. */
static int64_t sqlite_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                             char *why, size_t size)
{
    const char *name = OGR_L_GetName(l), *geom = OGR_L_GetGeometryColumn(l);
    const char *fidc = OGR_L_GetFIDColumn(l);
    if (fidc == NULL || fidc[0] == '\0')
        fidc = "rowid";
    /* A table with several geometry columns is a layer 'table(column)'. */
    size_t tlen = strlen(name);
    const char *paren = strchr(name, '(');
    if (paren != NULL && tlen > 0 && name[tlen - 1] == ')')
        tlen = (size_t)(paren - name);
    if (geom == NULL || geom[0] == '\0')
        return 0;
    const char *drivers[] = {"SQLite", NULL};
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH nd =
        GDALOpenEx(GDALGetDescription(ds), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, NULL, NULL);
    OGRLayerH nl = nd != NULL ? GDALDatasetGetLayerByName(nd, name) : NULL;
    int64_t n = nl != NULL ? 0 : -1;
    if (nl != NULL && where != NULL && OGR_L_SetAttributeFilter(nl, where) != OGRERR_NONE)
        n = -1;
    enum { BATCH = 500 };
    int64_t batch[BATCH];
    int nb = 0;
    OGRFeatureH f = NULL;
    for (bool more = n >= 0; more;) {
        f = OGR_L_GetNextFeature(nl);
        if (f != NULL && OGR_F_GetGeometryRef(f) == NULL)
            batch[nb++] = (int64_t)OGR_F_GetFID(f);
        more = f != NULL;
        if (f != NULL)
            OGR_F_Destroy(f);
        if (nb == 0 || (nb < BATCH && more))
            continue;
        /* Which of them hold a value; in the order they were read. */
        stapel__buf sql = {0};
        bool ok = stapel__buf_puts(&sql, "SELECT ") && sql_quoted(&sql, fidc, strlen(fidc), '"') &&
                  stapel__buf_puts(&sql, " + 0 AS id FROM ") && sql_quoted(&sql, name, tlen, '"') &&
                  stapel__buf_puts(&sql, " WHERE ") && sql_quoted(&sql, geom, strlen(geom), '"') &&
                  stapel__buf_puts(&sql, " IS NOT NULL AND length(") &&
                  sql_quoted(&sql, geom, strlen(geom), '"') &&
                  stapel__buf_puts(&sql, ") > 0 AND ") &&
                  sql_quoted(&sql, fidc, strlen(fidc), '"') && stapel__buf_puts(&sql, " IN (");
        for (int i = 0; i < nb && ok; i++)
            ok = stapel__buf_printf(&sql, "%s%lld", i > 0 ? "," : "", (long long)batch[i]);
        ok = ok && stapel__buf_puts(&sql, ")");
        OGRLayerH r = ok ? GDALDatasetExecuteSQL(nd, sql.data, NULL, NULL) : NULL;
        stapel__buf_free(&sql);
        if (r == NULL) {
            n = -1;
            break;
        }
        int64_t lowest = -1; /* of those in the batch: the first read */
        int at = nb;
        OGRFeatureH h;
        /* (+ 0: GDAL would take the key column itself for the result's
         * FID, and number the rows) */
        while ((h = OGR_L_GetNextFeature(r)) != NULL) {
            int64_t fid = OGR_F_GetFieldAsInteger64(h, 0);
            for (int i = 0; i < at; i++)
                if (batch[i] == fid) {
                    at = i;
                    lowest = fid;
                }
            n++;
            OGR_F_Destroy(h);
        }
        GDALDatasetReleaseResultSet(nd, r);
        if (*first < 0 && lowest >= 0)
            *first = lowest;
        nb = 0;
    }
    if (nd != NULL)
        GDALClose(nd);
    CPLPopErrorHandler();
    CPLErrorReset();
    if (n > 0)
        snprintf(why, size,
                 "its column %s holds a value that GDAL cannot read as a geometry "
                 "(no SpatiaLite or WKB geometry, nor WKT)",
                 geom);
    return n;
}

int64_t stapel__geojson_unread(GDALDatasetH ds, OGRLayerH l, const char *where, int64_t *first,
                               char *why, size_t size)
{
    *first = -1;
    if (ds != NULL && stapel__driver_is(ds, "ESRIJSON"))
        return esrijson_unread(ds, l, where, first, why, size);
    if (ds != NULL && stapel__driver_is(ds, "GeoJSONSeq"))
        return seq_unread(ds, l, where, first, why, size);
    if (ds != NULL && stapel__driver_is(ds, "SQLite"))
        return sqlite_unread(ds, l, where, first, why, size);
    if (ds == NULL || !stapel__driver_is(ds, "GeoJSON"))
        return 0;
    /* GDAL keeps each feature's own text when asked as it opens the file. */
    const char *drivers[] = {"GeoJSON", NULL}, *options[] = {"NATIVE_DATA=YES", NULL};
    char error[256] = "";
    CPLPushErrorHandlerEx(keep_first_error, error);
    GDALDatasetH nd = GDALOpenEx(GDALGetDescription(ds), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers,
                                 options, NULL);
    OGRLayerH nl = nd != NULL ? GDALDatasetGetLayerByName(nd, OGR_L_GetName(l)) : NULL;
    int64_t n = nl != NULL ? 0 : -1;
    if (nl != NULL && where != NULL && OGR_L_SetAttributeFilter(nl, where) != OGRERR_NONE)
        n = -1;
    OGRFeatureH f;
    while (n >= 0 && (f = OGR_L_GetNextFeature(nl)) != NULL) {
        const char *text = OGR_F_GetNativeData(f);
        if (OGR_F_GetGeometryRef(f) == NULL && text != NULL && geojson_geometry_set(text) &&
            n++ == 0)
            *first = (int64_t)OGR_F_GetFID(f);
        OGR_F_Destroy(f);
    }
    if (nd != NULL)
        GDALClose(nd);
    CPLPopErrorHandler();
    CPLErrorReset();
    /* GDAL's error names no feature: it is this one's when it is the only
     * one (a type GDAL does not know gives none). */
    bool own = n == 1 && where == NULL && error[0] != '\0';
    if (n > 0)
        snprintf(why, size, "its geometry member is no GeoJSON geometry that GDAL reads%s%s",
                 own ? "; GDAL: " : "", own ? error : "");
    return n;
}

/* The file of ds's shapefile layer l with extension ext (in either case),
 * among the files GDAL lists for ds, into buf; false when there is none. */
static bool shapefile_part(GDALDatasetH ds, OGRLayerH l, const char *ext, char *buf, size_t size)
{
    char **files = GDALGetFileList(ds);
    bool found = false;
    char upper[8];
    snprintf(upper, sizeof upper, "%s", ext);
    for (char *c = upper; *c != '\0'; c++)
        *c = (char)toupper((unsigned char)*c);
    /* The files of the dataset that belong to this layer: its name, any
     * extension of the two cases. */
    const char *layer = OGR_L_GetName(l);
    for (int i = 0; files != NULL && files[i] != NULL && !found; i++) {
        const char *base = CPLGetBasename(files[i]);
        const char *e = CPLGetExtension(files[i]);
        if (strcmp(base, layer) == 0 && (strcmp(e, ext) == 0 || strcmp(e, upper) == 0)) {
            snprintf(buf, size, "%s", files[i]);
            found = true;
        }
    }
    CSLDestroy(files);
    return found;
}

/* The size of a file GDAL reads (also in an archive), or -1. */
static int64_t vsi_size(const char *path)
{
    VSILFILE *fp = VSIFOpenL(path, "rb");
    if (fp == NULL)
        return -1;
    int64_t n = VSIFSeekL(fp, 0, SEEK_END) == 0 ? (int64_t)VSIFTellL(fp) : -1;
    VSIFCloseL(fp);
    return n;
}

bool stapel__shapefile_mismatch(GDALDatasetH ds, OGRLayerH l, int64_t *n_shx, int64_t *n_dbf)
{
    *n_shx = *n_dbf = -1;
    if (ds == NULL || !stapel__driver_is(ds, "ESRI Shapefile"))
        return false;
    char shx[4096], dbf[4096];
    if (!shapefile_part(ds, l, "shx", shx, sizeof shx) ||
        !shapefile_part(ds, l, "dbf", dbf, sizeof dbf))
        return false; /* GDAL made do without one */
    int64_t size = vsi_size(shx);
    /* The index: a header of 100 bytes, then 8 bytes for each record. */
    if (size < 100 || (size - 100) % 8 != 0)
        return false;
    *n_shx = (size - 100) / 8;
    /* The table: its record count in bytes 4 to 7 of its header. */
    unsigned char head[8];
    VSILFILE *fp = VSIFOpenL(dbf, "rb");
    bool ok = fp != NULL && VSIFReadL(head, 1, 8, fp) == 8;
    if (fp != NULL)
        VSIFCloseL(fp);
    if (!ok)
        return false;
    *n_dbf =
        (int64_t)head[4] | (int64_t)head[5] << 8 | (int64_t)head[6] << 16 | (int64_t)head[7] << 24;
    return *n_shx != *n_dbf;
}

char *stapel__recode_cp1252(const char *s)
{
    char *r = CPLRecode(s, "CP1252", CPL_ENC_UTF8);
    if (r == NULL || !CPLIsUTF8(r, -1)) {
        CPLFree(r);
        r = CPLRecode(s, CPL_ENC_ISO8859_1, CPL_ENC_UTF8);
    }
    return r;
}
