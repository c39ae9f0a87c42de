/*
 * source.c - opening what users name as a source: a path or a "PG:" string,
 * optionally followed by "|layername=NAME", picking the layer to read, and
 * reading its text as UTF-8 when GDAL did not know its encoding.
 *
 * Errors name the source and, when a layer is ambiguous or missing, list the
 * layers that exist so the user can pick one.
 */
#include "source.h"

#include "json_check.h"

#include <cpl_string.h>
#include <cpl_vsi.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
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
    /* What a zip made on a Mac holds beside each file: its metadata
     * (AppleDouble), as '._x.shp', in a folder '__MACOSX'. */
    const char *last = name;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '/')
            last = name + i + 1;
    if (strncmp(last, "._", 2) == 0 || strncmp(name, "__MACOSX/", 9) == 0 ||
        strstr(name, "/__MACOSX/") != NULL)
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t k = strlen(ext[i]);
        if (len > k && stapel__ascii_ncase_equal(name + len - k, ext[i], k))
            return len;
    }
    return 0;
}

/* Appends to held the paths of the files (and File Geodatabase folders)
 * of vector data under root, a path into an archive ('/vsizip/x.zip' or a
 * folder in it), at any depth, as "'root/a.shp', 'root/d/b.gpkg'" (five at
 * most, then ", …"), in the archive's order. Returns how many it appended,
 * -1 when out of memory. */
static int archive_vector_files(stapel__buf *held, const char *root)
{
    CPLPushErrorHandler(CPLQuietErrorHandler);
    char **files = VSIReadDirRecursive(root);
    CPLPopErrorHandler();
    CPLErrorReset();
    size_t rlen = strlen(root);
    const char *sep = rlen > 0 && root[rlen - 1] == '/' ? "" : "/";
    int shown = 0;
    bool ok = true;
    for (int i = 0; ok && files != NULL && files[i] != NULL; i++) {
        size_t len = vector_file_name(files[i]);
        if (len == 0)
            continue;
        if (shown == 5) {
            ok = stapel__buf_puts(held, ", …");
            break;
        }
        ok = stapel__buf_printf(held, "%s'%s%s%.*s'", shown++ > 0 ? ", " : "", root, sep, (int)len,
                                files[i]);
    }
    CSLDestroy(files);
    return ok ? shown : -1;
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
    CPLPopErrorHandler();
    CPLErrorReset();
    bool ok = true;
    if (opens) {
        ok = stapel__buf_printf(&hint, "; GDAL reads what it holds as '%s'", vsi.data);
    } else {
        stapel__buf held = {0};
        int shown = archive_vector_files(&held, vsi.data);
        ok = shown >= 0;
        if (ok && shown > 0)
            ok = stapel__buf_printf(&hint, "; GDAL reads what it holds as %s", held.data);
        else if (ok)
            ok = stapel__buf_puts(&hint, ", and it holds no file that GDAL reads as vector data");
        stapel__buf_free(&held);
    }
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
                ok = archive_vector_files(&held, root.data) >= 0;
            stapel__buf_free(&root);
        }
    }
    CPLPopErrorHandler();
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

/* The names in folder path, listed without a word from GDAL (NULL when it
 * is no folder), and in *shapefile whether one of them ends in .shp. */
static char **folder_list(const char *path, bool *shapefile)
{
    CPLPushErrorHandler(CPLQuietErrorHandler);
    char **files = VSIReadDir(path);
    CPLPopErrorHandler();
    *shapefile = false;
    for (int i = 0; files != NULL && files[i] != NULL && !*shapefile; i++) {
        size_t len = strlen(files[i]);
        *shapefile = len > 4 && stapel__ascii_case_equal(files[i] + len - 4, ".shp");
    }
    return files;
}

/* Fails ctx for a path into an archive ('/vsizip/x.zip', '/vsitar/x.tar/d')
 * that GDAL did not open and that is a folder, the archive's top or one in
 * it, without a shapefile: GDAL reads a folder as a set of shapefiles, not
 * those in folders below it nor other files, and says only that it
 * recognises no format. The message names the files of vector data under
 * the folder (five at most). STAPEL_OK, ctx untouched, for any other path
 * or when the folder holds a shapefile: GDAL's reason stands. The message
 * names dataset, as given; path is the one GDAL opened (dataset without
 * the '/' at its end, at the top of an archive). */
static stapel_status archive_folder_fail(stapel_ctx *ctx, const char *dataset, const char *path)
{
    if (strncmp(path, "/vsizip/", 8) != 0 && strncmp(path, "/vsitar/", 8) != 0)
        return STAPEL_OK;
    const char *inner = path + 8;
    if (strncmp(inner, "/vsi", 4) == 0 || inner[0] == '{')
        return STAPEL_OK; /* an archive in an archive, on a server, GDAL's {...} form */
    CPLErr err_class = CPLGetLastErrorType();
    CPLErrorNum err_no = CPLGetLastErrorNo();
    char *err_msg = stapel__strdup(CPLGetLastErrorMsg());
    bool shapefile = false;
    char **files = folder_list(path, &shapefile);
    bool folder = files != NULL;
    CSLDestroy(files);
    stapel__buf held = {0};
    int shown = folder && !shapefile ? archive_vector_files(&held, path) : 0;
    if (shown == 0) {
        /* Not a folder, a folder with a shapefile, or one without vector
         * data: GDAL's reason stands. */
        CPLErrorSetState(err_class, err_no, err_msg != NULL ? err_msg : "");
        free(err_msg);
        stapel__buf_free(&held);
        return STAPEL_OK;
    }
    free(err_msg);
    struct stat sb;
    bool top = stat(inner, &sb) == 0 && S_ISREG(sb.st_mode);
    stapel_status st =
        shown < 0 ? stapel__fail(ctx, STAPEL_ENOMEM, "out of memory")
                  : stapel__fail(ctx, STAPEL_EIO,
                                 "cannot open '%s' as vector data: %s (GDAL reads %s as a set "
                                 "of shapefiles, not the files in folders below it nor other "
                                 "files); give a file in it: %s",
                                 dataset,
                                 top ? "the archive holds no shapefile at its top"
                                     : "it is a folder in an archive without shapefiles",
                                 top ? "an archive, as a folder," : "a folder", held.data);
    stapel__buf_free(&held);
    return st;
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
    bool shapefile = false;
    char **files = folder_list(dataset, &shapefile);
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

bool stapel__shapefile_case_twin(const char *shp, const char *ext, char *twin, size_t size)
{
    const char *slash = strrchr(shp, '/');
    const char *name = slash != NULL ? slash + 1 : shp;
    size_t nlen = strlen(name), elen = strlen(ext);
    if (nlen <= 4 || name[nlen - 4] != '.' || elen != 3)
        return false;
    char dir[4096];
    if (slash != NULL)
        snprintf(dir, sizeof dir, "%.*s", slash == shp ? 1 : (int)(slash - shp), shp);
    else
        snprintf(dir, sizeof dir, ".");
    CPLPushErrorHandler(CPLQuietErrorHandler);
    char **files = VSIReadDir(dir);
    CPLPopErrorHandler();
    bool found = false;
    for (int i = 0; files != NULL && files[i] != NULL && !found; i++) {
        const char *f = files[i];
        if (strlen(f) != nlen || !stapel__ascii_ncase_equal(f, name, nlen - 3) ||
            !stapel__ascii_case_equal(f + nlen - 3, ext))
            continue;
        /* The names GDAL looks for: the .shp's, with the extension in
         * lower case or in capitals. */
        bool looked_for =
            strncmp(f, name, nlen - 3) == 0 &&
            (strcmp(f + nlen - 3, ext) == 0 || (toupper((unsigned char)ext[0]) == f[nlen - 3] &&
                                                toupper((unsigned char)ext[1]) == f[nlen - 2] &&
                                                toupper((unsigned char)ext[2]) == f[nlen - 1]));
        if (looked_for)
            continue;
        snprintf(twin, size, "%.*s%s", slash != NULL ? (int)(slash - shp) + 1 : 0, shp, f);
        found = true;
    }
    CSLDestroy(files);
    return found;
}

/* Appends to b why GDAL cannot open the shapefile shp, from GDAL's message
 * msg: GDAL's words for a missing .shx name a setting of its own
 * (SHAPE_RESTORE_SHX), and not how to give it. Returns false when out of
 * memory. */
static bool shapefile_reason(stapel__buf *b, const char *shp, const char *msg)
{
    if (strstr(msg, "SHAPE_RESTORE_SHX") == NULL)
        return stapel__buf_puts(b, msg);
    /* GDAL looks for 'x.shx' and 'x.SHX' beside 'x.shp': one named in
     * another case ('X.shx', as a copy from Windows may leave it) is not
     * found where names count case. */
    char twin[4096], want[4096];
    if (stapel__shapefile_case_twin(shp, "shx", twin, sizeof twin)) {
        snprintf(want, sizeof want, "%.*sshx", (int)strlen(shp) - 3, shp);
        return stapel__buf_printf(b,
                                  "its .shx file is there as '%s', whose name differs from the "
                                  ".shp's in case, so GDAL does not find it: rename it '%s'",
                                  twin, want);
    }
    bool vsi = strncmp(shp, "/vsi", 4) == 0;
    return stapel__buf_printf(
        b,
        "its .shx file, the index of its shapes, is missing; a shapefile is its .shp, .shx, "
        ".dbf and .prj together: copy the .shx with the others%s%s%s",
        vsi ? ""
            : ", or have GDAL make it anew beside the .shp: "
              "ogrinfo -so --config SHAPE_RESTORE_SHX YES '",
        vsi ? "" : shp, vsi ? "" : "'");
}

/* For ds, a folder of shapefiles that GDAL opened (also one in an archive):
 * appends to b each .shp in it that GDAL gave no layer for, as "'d/a.shp'
 * (why)" (five at most, then ", …"), with the reason GDAL gives when it
 * opens the file alone (a missing .shx), and returns how many there are;
 * GDAL leaves such a file out of the folder without a word. With name,
 * only the .shp whose layer would be name. With layers and reasons, adds
 * to each (CSL lists; caller owns them, free with CSLDestroy()) every such
 * layer's name and "GDAL cannot open 'd/a.shp': why". -1 when out of
 * memory. */
int stapel__shapefiles_skipped(GDALDatasetH ds, const char *name, stapel__buf *b, char ***layers,
                               char ***reasons)
{
    if (!stapel__driver_is(ds, "ESRI Shapefile"))
        return 0;
    const char *dir = GDALGetDescription(ds);
    /* A zipped shapefile given as it is ('x.shp.zip', 'x.shz'), which
     * GDAL reads through /vsizip/. */
    stapel__buf zipped = {0};
    size_t dl = strlen(dir);
    bool shz = dl > 4 && stapel__ascii_case_equal(dir + dl - 4, ".shz");
    if ((shz || (dl > 8 && stapel__ascii_case_equal(dir + dl - 8, ".shp.zip"))) &&
        strncmp(dir, "/vsi", 4) != 0) {
        /* GDAL takes a name that does not end in .zip in braces. */
        if (!stapel__buf_printf(&zipped, shz ? "/vsizip/{%s}" : "/vsizip/%s", dir))
            return -1;
        dir = zipped.data;
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    char **files = VSIReadDir(dir);
    int n = CSLCount(files);
    if (n > 1)
        qsort(files, (size_t)n, sizeof *files, cmp_names);
    int skipped = 0;
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        size_t len = strlen(files[i]);
        /* '._x.shp': the metadata macOS keeps beside a file (AppleDouble),
         * which GDAL does not read as a shapefile, rightly. */
        if (len <= 4 || !stapel__ascii_case_equal(files[i] + len - 4, ".shp") ||
            strncmp(files[i], "._", 2) == 0)
            continue;
        stapel__buf base = {0}, path = {0}, why = {0};
        size_t dlen = strlen(dir);
        ok = stapel__buf_printf(&base, "%.*s", (int)(len - 4), files[i]) &&
             stapel__buf_printf(&path, "%s%s%s", dir, dlen > 0 && dir[dlen - 1] == '/' ? "" : "/",
                                files[i]);
        /* By its exact name: GDAL finds a layer in another case too, and
         * 'X.shp' beside 'x.dbf' is a table 'x' and no layer 'X'. */
        bool has_layer = false;
        for (int k = 0; ok && k < GDALDatasetGetLayerCount(ds) && !has_layer; k++)
            has_layer = strcmp(OGR_L_GetName(GDALDatasetGetLayer(ds, k)), base.data) == 0;
        bool listed = ok && !has_layer && (name == NULL || strcmp(base.data, name) == 0);
        if (listed) {
            CPLErrorReset();
            GDALDatasetH one =
                GDALOpenEx(path.data, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
            /* Only a file GDAL cannot open alone either is one it failed
             * to read; another it left out for reasons of its own. */
            listed = one == NULL;
            ok = !listed || shapefile_reason(&why, path.data,
                                             CPLGetLastErrorMsg()[0] != '\0'
                                                 ? CPLGetLastErrorMsg()
                                                 : "GDAL recognises no shapefile in it");
            GDALClose(one);
        }
        if (ok && listed) {
            if (skipped < 5)
                ok = stapel__buf_printf(b, "%s'%s' (%s)", skipped > 0 ? ", " : "", path.data,
                                        why.data);
            else if (skipped == 5)
                ok = stapel__buf_puts(b, ", …");
            skipped++;
        }
        if (ok && listed && layers != NULL && reasons != NULL) {
            stapel__buf r = {0};
            ok = stapel__buf_printf(&r, "GDAL cannot open '%s': %s", path.data, why.data);
            if (ok) {
                *layers = CSLAddString(*layers, base.data);
                *reasons = CSLAddString(*reasons, r.data);
            }
            stapel__buf_free(&r);
        }
        stapel__buf_free(&base);
        stapel__buf_free(&path);
        stapel__buf_free(&why);
    }
    CSLDestroy(files);
    CPLPopErrorHandler();
    CPLErrorReset();
    stapel__buf_free(&zipped);
    return ok ? skipped : -1;
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

void CPL_STDCALL stapel__keep_first_error(CPLErr cls, CPLErrorNum no, const char *msg)
{
    (void)no;
    stapel__first_error *e = CPLGetErrorHandlerUserData();
    if (cls >= CE_Failure && e != NULL && !e->got) {
        e->got = true;
        snprintf(e->msg, sizeof e->msg, "%s", msg != NULL ? msg : "unknown error");
    }
}

/* Whether GDAL's message is PostgreSQL's "too many connections for role"
 * or "too many clients already": each source read holds one connection, a
 * thread's worth at a time. */
static bool too_many_connections(const char *m)
{
    return strstr(m, "too many connections") != NULL || strstr(m, "too many clients") != NULL;
}

/* Whether dataset names the top of an archive on this machine with '/'s
 * at its end ('/vsizip/x.zip/', '/vsitar/x.tar/'), which GDAL takes for a
 * file in the archive not named ('Support only 1 file in archive'), while
 * it reads '/vsizip/x.zip' as a folder: then that path, without them, into
 * top (size bytes). */
static bool archive_top_slash(const char *dataset, char *top, size_t size)
{
    if (strncmp(dataset, "/vsizip/", 8) != 0 && strncmp(dataset, "/vsitar/", 8) != 0)
        return false;
    size_t len = strlen(dataset), n = len;
    while (n > 8 && dataset[n - 1] == '/')
        n--;
    /* no '/' at its end, an archive in an archive or on a server, GDAL's {...} */
    if (n == len || n == 8 || strncmp(dataset + 8, "/vsi", 4) == 0 || dataset[8] == '{' ||
        n >= size)
        return false;
    memcpy(top, dataset, n);
    top[n] = '\0';
    struct stat sb;
    return stat(top + 8, &sb) == 0 && S_ISREG(sb.st_mode);
}

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
                                stapel__strerror(errno));
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
    /* The top of an archive is opened (and looked into) as '/vsizip/x.zip',
     * not '/vsizip/x.zip/'. */
    char top[4096];
    const char *path = archive_top_slash(dataset, top, sizeof top) ? top : dataset;
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
    GDALDatasetH ds = NULL;
    /* GDAL's warnings of rings that do not close given while it opens the
     * source (a GeoJSON or GeoJSON sequence it parses whole to learn its
     * fields) are held back (stapel__gdal_unclosed). */
    bool hold = ctx->hold_unclosed;
    if (!hold)
        ctx->gdal_unclosed = 0;
    ctx->hold_unclosed = true;
    for (int attempt = 0;; attempt++) {
        ds = GDALOpenEx(uri != NULL ? uri : path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                        gml ? gml_options : NULL, NULL);
        /* PostgreSQL counts a connection until its server process has
         * exited, a moment after the client closed it: a source opened
         * right after another was closed (a thread's worth of connections
         * at a time) can find a role's CONNECTION LIMIT still full. Tried
         * again after 50, 100, 200, 400 and 800 ms. */
        if (ds != NULL || attempt == 5 || !too_many_connections(CPLGetLastErrorMsg()) ||
            stapel__cancelled(ctx))
            break;
        struct timespec pause = {0, 50000000L << attempt};
        nanosleep(&pause, NULL);
        CPLErrorReset();
    }
    free(uri);
    ctx->hold_unclosed = hold;
    /* A GeoJSON sequence, or a GeoJSON FeatureCollection, read from a
     * file GDAL parses again as it is read, and warns of those rings
     * again, feature by feature: they are told then, a ring that closes in
     * x and y, at another height, in stapel's words. The warnings of
     * another source are given now; so are those of a GeoJSON file of one
     * Feature, which GDAL keeps as it parsed it. */
    if (ds != NULL && !hold && ctx->gdal_unclosed > 0 && stapel_source_is_file(dataset) &&
        (stapel__driver_is(ds, "GeoJSONSeq") ||
         (stapel__driver_is(ds, "GeoJSON") && stapel__geojson_collection(dataset))))
        ctx->gdal_unclosed = 0;
    else if (!hold)
        stapel__gdal_unclosed_flush(ctx);
    ctx->reading_src = src;
    ctx->reading_layer = layer;
    /* A file of no bytes (a copy or download cut off at its start, a name
     * made with touch) GDAL knows no format of: said so, not that. */
    if (ds == NULL && stapel_source_is_file(dataset) && S_ISREG(sb.st_mode) && sb.st_size == 0)
        return stapel__fail(ctx, STAPEL_EIO,
                            "cannot open '%s' as vector data: the file is empty (0 bytes); "
                            "was it copied or downloaded in full?",
                            dataset);
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
    /* A TopoJSON file of no object GDAL reads (one null object) GDAL
     * refuses with a bare 'Failed to read TopoJSON data': said why. */
    if (ds == NULL && drv != NULL && strcmp(GDALGetDriverShortName(drv), "TopoJSON") == 0 &&
        (missing = stapel__topojson_open_fail(ctx, dataset)) != STAPEL_OK)
        return missing;
    /* Nor a GeoJSON sequence with a FeatureCollection among its records,
     * which GDAL takes for one GeoJSON object. */
    if (ds == NULL && (missing = stapel__geojson_open_fail(ctx, dataset)) != STAPEL_OK)
        return missing;
    if (ds == NULL) {
        stapel_status st = archive_folder_fail(ctx, dataset, path);
        if (st != STAPEL_OK)
            return st;
    }
    if (ds == NULL && strstr(CPLGetLastErrorMsg(), "SHAPE_RESTORE_SHX") != NULL) {
        stapel__buf why = {0};
        stapel_status st =
            shapefile_reason(&why, dataset, CPLGetLastErrorMsg())
                ? stapel__fail(ctx, STAPEL_EIO, "cannot open '%s' as vector data: %s", dataset,
                               why.data)
                : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        stapel__buf_free(&why);
        return st;
    }
    /* libpq's complaint would be about the rest of the password. */
    if (ds == NULL && stapel__source_is_database(dataset) && strstr(dataset, "://") == NULL &&
        stapel__password_double_quoted(dataset) &&
        strstr(CPLGetLastErrorMsg(), "missing \"=\" after") != NULL)
        return stapel__fail(ctx, STAPEL_EIO,
                            "cannot open '%s' as vector data: libpq quotes a value with single "
                            "quotes, not double ones: write the password as 'x y' (a ' or \\ "
                            "in it with a \\ before it)",
                            dataset);
    if (ds == NULL) {
        const char *m = stapel__gdal_error("GDAL recognises no vector format in it");
        bool few = too_many_connections(m);
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
    /* What else GDAL leaves out of a JSON source is checked once its layer
     * is picked (stapel__json_check). */
    stapel_status checked = stapel__json_open_check(ctx, &ds, dataset);
    if (checked != STAPEL_OK) {
        GDALClose(ds);
        return checked;
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

/* Lists the names of the layers of ds with a geometry column (tables
 * false) or of those without (tables true) into b, comma-separated; returns
 * how many. */
static int list_layers_kind(GDALDatasetH ds, stapel__buf *b, bool tables)
{
    int n = GDALDatasetGetLayerCount(ds);
    int listed = 0;
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        if ((OGR_L_GetGeomType(l) == wkbNone) != tables)
            continue;
        stapel__buf_printf(b, "%s%s", listed > 0 ? ", " : "", OGR_L_GetName(l));
        listed++;
    }
    return listed;
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

/* Whether a layer's geometry type says it holds points (1), lines (2) or
 * neither (0: polygons, any type, as a GeoJSON's or a DXF's, or none, as a
 * table's). */
static int layer_flat(OGRLayerH l)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_L_GetGeomType(l));
    if (t == wkbPoint || t == wkbMultiPoint)
        return 1;
    if (t == wkbLineString || t == wkbMultiLineString || t == wkbCircularString ||
        t == wkbCompoundCurve || t == wkbMultiCurve)
        return 2;
    return 0;
}

/* Whether a layer of ds may hold polygons: one of an areal geometry type,
 * or of any (a GeoJSON's, a DXF's). Not one of points or lines only, nor a
 * table. */
static bool any_areal_layer(GDALDatasetH ds)
{
    int n = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        if (OGR_L_GetGeomType(l) != wkbNone && layer_flat(l) == 0)
            return true;
    }
    return false;
}

/* The one layer of ds that may hold polygons (see any_areal_layer), or NULL
 * when there is none or more than one. */
static OGRLayerH only_areal_layer(GDALDatasetH ds)
{
    OGRLayerH found = NULL;
    int n = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        if (OGR_L_GetGeomType(l) == wkbNone || layer_flat(l) != 0)
            continue;
        if (found != NULL)
            return NULL;
        found = l;
    }
    return found;
}

/* The layers of points or lines a pick list names, at most: a source of
 * many (a topographic map's dozens of layers of roads, rails and the like)
 * would fill the message, and cut off the layers to pick from after them. */
#define FLAT_LISTED 4

/* Lists the layers of ds of points or lines into flat ("a (Point) and b
 * (Line String)"; the first FLAT_LISTED - 1 of more than FLAT_LISTED, then
 * "and 27 more"), the others with geometry into others ("c, d"); returns
 * how many of points or lines, *kinds what they hold (1 points, 2 lines, 3
 * both) and *n_others how many others. */
static int list_flat_layers(GDALDatasetH ds, stapel__buf *flat, stapel__buf *others, int *kinds,
                            int *n_others)
{
    int n = GDALDatasetGetLayerCount(ds), n_flat = 0;
    for (int i = 0; i < n; i++)
        n_flat += layer_flat(GDALDatasetGetLayer(ds, i)) != 0;
    int listed = 0, shown = n_flat > FLAT_LISTED ? FLAT_LISTED - 1 : n_flat;
    *kinds = 0;
    *n_others = 0;
    for (int i = 0; i < n; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        int kind = layer_flat(l);
        if (kind != 0) {
            if (listed < shown)
                stapel__buf_printf(flat, "%s%s (%s)",
                                   listed == 0                               ? ""
                                   : listed == n_flat - 1 && shown == n_flat ? " and "
                                                                             : ", ",
                                   OGR_L_GetName(l), OGRGeometryTypeToName(OGR_L_GetGeomType(l)));
            else if (listed == shown)
                stapel__buf_printf(flat, " and %d more", n_flat - shown);
            listed++;
            *kinds |= kind;
        } else if (OGR_L_GetGeomType(l) != wkbNone) {
            stapel__buf_printf(others, "%s%s", *n_others > 0 ? ", " : "", OGR_L_GetName(l));
            (*n_others)++;
        }
    }
    return n_flat;
}

stapel_status stapel__layer_pick(stapel_ctx *ctx, OGRLayerH *out, GDALDatasetH ds,
                                 const char *source, const char *layer_name)
{
    *out = NULL;
    int n = GDALDatasetGetLayerCount(ds);
    OGRLayerH l = NULL;
    if (layer_name == NULL) {
        /* A folder of shapefiles, one of which GDAL left out: which was
         * meant is not known, nor whether that one is the only one. */
        stapel__buf why = {0}, names = {0};
        int skipped = stapel__shapefiles_skipped(ds, NULL, &why, NULL, NULL);
        if (skipped > 0)
            list_layers(ds, &names);
        stapel_status st =
            skipped < 0    ? stapel__fail(ctx, STAPEL_ENOMEM, "out of memory")
            : skipped == 0 ? STAPEL_OK
            : n == 0
                ? stapel__fail(ctx, STAPEL_EDATA,
                               "%s: holds no layers: GDAL cannot read the shapefile%s %s", source,
                               skipped > 1 ? "s" : "", why.data)
                : stapel__fail(ctx, STAPEL_EDATA,
                               "%s: GDAL cannot read the shapefile%s %s, which it holds "
                               "beside layer%s %s; mend %s, or pick %s with '%s|layername=%s'",
                               source, skipped > 1 ? "s" : "", why.data, n > 1 ? "s" : "",
                               names.data != NULL ? names.data : "", skipped > 1 ? "them" : "it",
                               n > 1 ? "one" : "that layer", source,
                               n > 1                ? "NAME"
                               : names.data != NULL ? names.data
                                                    : "");
        stapel__buf_free(&why);
        stapel__buf_free(&names);
        if (st != STAPEL_OK)
            return st;
    }
    if (layer_name != NULL) {
        l = GDALDatasetGetLayerByName(ds, layer_name);
        stapel__buf why = {0};
        /* GDAL finds a layer in another case too: 'X' when 'X.shp' is left
         * out may be the table 'x.dbf'. */
        int skipped = l == NULL || strcmp(OGR_L_GetName(l), layer_name) != 0
                          ? stapel__shapefiles_skipped(ds, layer_name, &why, NULL, NULL)
                          : 0;
        if (skipped != 0) {
            stapel_status st = skipped < 0 ? stapel__fail(ctx, STAPEL_ENOMEM, "out of memory")
                                           : stapel__fail(ctx, STAPEL_EDATA,
                                                          "%s: GDAL cannot read the shapefile %s",
                                                          source, why.data);
            stapel__buf_free(&why);
            return st;
        }
        stapel__buf_free(&why);
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
            OGRwkbGeometryType t = OGR_L_GetGeomType(li);
            stapel__buf_printf(&b, "%s%s: %s", i > 0 ? ", " : "", OGR_L_GetName(li),
                               t == wkbNone ? "no geometry" : OGRGeometryTypeToName(t));
        }
        stapel__fail(ctx, STAPEL_EDATA,
                     "%s: holds %d layers, none of polygons (%s); claims and zones must be "
                     "polygons",
                     source, n, b.data != NULL ? b.data : "");
        stapel__buf_free(&b);
        return STAPEL_EDATA;
    } else if ((l = only_areal_layer(ds)) != NULL) {
        /* One layer that may hold polygons beside layers of points or lines
         * (and tables): there is nothing to pick, but the user learns which
         * layer is read, and that the others are not. */
        stapel__buf tables = {0}, flat = {0}, others = {0};
        int n_tables = list_layers_kind(ds, &tables, true);
        int kinds, n_others;
        int n_flat = list_flat_layers(ds, &flat, &others, &kinds, &n_others);
        const char *what = kinds == 1 ? "points" : kinds == 2 ? "lines" : "points or lines";
        stapel__log(ctx, STAPEL_LOG_INFO,
                    "%s: reading layer %s, the only one of its %d layers that may hold "
                    "polygons: %s hold%s %s, which cannot be claims or zones%s%s%s",
                    source, OGR_L_GetName(l), n, flat.data != NULL ? flat.data : "",
                    n_flat == 1 ? "s" : "", what,
                    n_tables == 0   ? ""
                    : n_tables == 1 ? "; the table without geometry, "
                                    : "; the tables without geometry, ",
                    n_tables == 0 ? "" : tables.data, n_tables == 0 ? "" : ", is left out too");
        stapel__buf_free(&tables);
        stapel__buf_free(&flat);
        stapel__buf_free(&others);
    } else {
        /* Several layers with geometry: those are the ones to pick from; a
         * table beside them (layer_styles) would only get 'has no geometry
         * column', a layer of points or lines 'holds Point geometries'. */
        stapel__buf b = {0}, tables = {0}, flat = {0}, others = {0};
        int n_geom = list_layers_kind(ds, &b, false);
        int n_tables = list_layers_kind(ds, &tables, true);
        int kinds, n_others;
        int n_flat = list_flat_layers(ds, &flat, &others, &kinds, &n_others);
        const char *tables_text = tables.data != NULL ? tables.data : "";
        const char *flat_text = flat.data != NULL ? flat.data : "";
        const char *others_text = others.data != NULL ? others.data : "";
        if (n_flat == 0 && n_tables == 0)
            stapel__fail(ctx, STAPEL_EDATA,
                         "%s: holds %d layers (%s); pick one with '%s|layername=NAME'", source, n,
                         b.data != NULL ? b.data : "", source);
        else if (n_flat == 0)
            stapel__fail(ctx, STAPEL_EDATA,
                         "%s: holds %d layers with geometry (%s) and %d table%s without "
                         "geometry (%s); pick one of the layers with '%s|layername=NAME'",
                         source, n_geom, b.data != NULL ? b.data : "", n_tables,
                         n_tables > 1 ? "s" : "", tables_text, source);
        else {
            /* offered are only the layers that may hold polygons */
            stapel__buf head = {0};
            if (n_tables == 0)
                stapel__buf_printf(&head, "holds %d layers", n);
            else
                stapel__buf_printf(&head,
                                   "holds %d layers with geometry and %d table%s without "
                                   "geometry (%s)",
                                   n_geom, n_tables, n_tables > 1 ? "s" : "", tables_text);
            const char *what = kinds == 1 ? "points" : kinds == 2 ? "lines" : "points or lines";
            /* of one other, only_areal_layer took it */
            const char *other = n_tables == 0 ? "" : " layer";
            stapel__fail(ctx, STAPEL_EDATA,
                         "%s: %s: %s hold%s %s, which cannot be claims or zones; pick one of "
                         "the other%ss (%s) with '%s|layername=NAME'",
                         source, head.data != NULL ? head.data : "", flat_text,
                         n_flat == 1 ? "s" : "", what, other, others_text, source);
            stapel__buf_free(&head);
        }
        stapel__buf_free(&b);
        stapel__buf_free(&tables);
        stapel__buf_free(&flat);
        stapel__buf_free(&others);
        return STAPEL_EDATA;
    }
    stapel_status st = stapel__layer_readable(ctx, ds, l, source);
    if (st != STAPEL_OK)
        return st;
    *out = l;
    return STAPEL_OK;
}

const char *stapel__layer_name(OGRLayerH l)
{
    const char *name = OGR_L_GetName(l);
    return name != NULL && name[0] != '\0' ? name : "(no name)";
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
    stapel__first_error e = {0};
    CPLPushErrorHandlerEx(stapel__keep_first_error, &e);
    CPLErrorReset();
    OGR_L_ResetReading(l);
    OGRFeatureH f = OGR_L_GetNextFeature(l);
    if (f != NULL)
        OGR_F_Destroy(f);
    OGR_L_ResetReading(l);
    CPLPopErrorHandler();
    CPLErrorReset();
    if (!e.got || strncmp(e.msg, "Could not fetch SRS", 19) == 0)
        return false;
    const char *m = e.msg;
    if (strncmp(m, "ERROR:", 6) == 0) /* libpq's prefix */
        m += 6 + strspn(m + 6, " ");
    snprintf(reason, size, "%.*s", (int)strcspn(m, "\n"), m);
    return true;
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
 * number of rows, or -1 when the query failed. Silent: the queries ask
 * what stapel may add to a message, and a failure only leaves that out. */
static int query(GDALDatasetH ds, const char *sql, char **text, int c, int *v, int max)
{
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    OGRLayerH r = GDALDatasetExecuteSQL(ds, sql, NULL, NULL);
    int n = r == NULL ? -1 : 0;
    OGRFeatureH f;
    while (r != NULL && n < max && (f = OGR_L_GetNextFeature(r)) != NULL) {
        if (n == 0 && text != NULL)
            *text = stapel__strdup(OGR_F_GetFieldAsString(f, 0));
        v[n++] = OGR_F_GetFieldAsInteger(f, c);
        OGR_F_Destroy(f);
    }
    if (r != NULL && CPLGetLastErrorType() >= CE_Failure)
        n = -1;
    if (r != NULL)
        GDALDatasetReleaseResultSet(ds, r);
    CPLPopErrorHandler();
    CPLErrorReset();
    return n;
}

/* The name of a table or view that "tables=name" may have meant, into b
 * (emptied first): one named so in other case, or without the SQL quotes
 * around its parts. GDAL takes the name as it stands, while PostgreSQL
 * folds a name without quotes to lower case: 'tables=Woningbouw' for the
 * table woningbouw, or 'tables="Plan"' for Plan. False when there is none. */
static bool pg_table_meant(GDALDatasetH ds, const char *name, stapel__buf *b)
{
    stapel__buf bare = {0}, sql = {0};
    char *meant = NULL;
    int unused;
    bool ok = stapel__buf_puts(&bare, "");
    for (const char *c = name; *c != '\0' && ok; c++)
        ok = *c == '"' || stapel__buf_append(&bare, c, 1);
    /* as GDAL names a layer: "schema.table" outside the search path */
    ok = ok &&
         stapel__buf_puts(&sql, "SELECT CASE WHEN n.nspname = ANY(current_schemas(false)) "
                                "THEN c.relname ELSE n.nspname || '.' || c.relname END, 0 "
                                "FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                "c.relnamespace WHERE c.relkind IN ('r', 'v', 'm', 'p', "
                                "'f') AND (lower(c.relname COLLATE \"default\") = lower(") &&
         sql_quoted(&sql, bare.data, bare.len, '\'') &&
         stapel__buf_puts(&sql, ") AND n.nspname = ANY(current_schemas(false)) OR "
                                "lower((n.nspname || '.' || c.relname) COLLATE \"default\") = "
                                "lower(") &&
         sql_quoted(&sql, bare.data, bare.len, '\'') && stapel__buf_puts(&sql, ")) ORDER BY 1");
    ok = ok && query(ds, sql.data, &meant, 1, &unused, 1) == 1 && meant != NULL &&
         strcmp(meant, name) != 0;
    b->len = 0;
    ok = ok && stapel__buf_puts(b, meant);
    free(meant);
    stapel__buf_free(&bare);
    stapel__buf_free(&sql);
    return ok;
}

stapel_status stapel__layer_readable(stapel_ctx *ctx, GDALDatasetH ds, OGRLayerH l,
                                     const char *source)
{
    char reason[512];
    if (!stapel__layer_read_error(ds, l, reason, sizeof reason))
        return STAPEL_OK;
    const char *name = OGR_L_GetName(l);
    stapel__buf meant = {0};
    char hint[600] = "";
    /* a name GDAL's tables= cannot hold (it splits at a comma) is left */
    if (strncmp(reason, "relation \"", 10) == 0 && strstr(reason, "\" does not exist") != NULL &&
        pg_table_meant(ds, name, &meant) && strpbrk(meant.data, "',()") == NULL)
        snprintf(hint, sizeof hint,
                 "; tables= takes a name as the database spells it, in its case and without "
                 "SQL's quotes: tables=%s%.400s%s",
                 strchr(meant.data, ' ') != NULL ? "'" : "", meant.data,
                 strchr(meant.data, ' ') != NULL ? "'" : "");
    stapel__buf_free(&meant);
    return stapel__fail(ctx, STAPEL_EDATA, "%s: layer %s cannot be read: %s%s", source, name,
                        reason, hint);
}

/* Appends to sql the relation (table or view) of PostGIS layer l, as an
 * expression of type regclass, NULL when there is none. GDAL names a layer
 * "schema.table", or "table" in the schemas it searches, with "(column)"
 * after it when it picks one of several geometry columns. A table's name
 * may hold a dot too: both are tried. */
static bool pg_relation(stapel__buf *sql, OGRLayerH l)
{
    const char *name = OGR_L_GetName(l), *geom = OGR_L_GetGeometryColumn(l);
    size_t n = strlen(name), g = geom != NULL ? strlen(geom) : 0;
    if (g > 0 && n > g + 2 && name[n - 1] == ')' && name[n - g - 2] == '(' &&
        strncmp(name + n - g - 1, geom, g) == 0)
        n -= g + 2;
    const char *dot = memchr(name, '.', n);
    stapel__buf id = {0};
    bool ok = stapel__buf_puts(sql, "COALESCE(");
    if (dot != NULL) {
        size_t k = (size_t)(dot - name);
        ok = ok && sql_quoted(&id, name, k, '"') && stapel__buf_puts(&id, ".") &&
             sql_quoted(&id, dot + 1, n - k - 1, '"') && stapel__buf_puts(sql, "to_regclass(") &&
             sql_quoted(sql, id.data, id.len, '\'') && stapel__buf_puts(sql, "), ");
        id.len = 0;
    }
    ok = ok && sql_quoted(&id, name, n, '"') && stapel__buf_puts(sql, "to_regclass(") &&
         sql_quoted(sql, id.data, id.len, '\'') && stapel__buf_puts(sql, "))");
    stapel__buf_free(&id);
    return ok;
}

int stapel__pg_srids(GDALDatasetH ds, OGRLayerH l, const char *where, int *srid, int max)
{
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    const char *geom = OGR_L_GetGeometryColumn(l);
    if (drv == NULL || !EQUAL(GDALGetDriverShortName(drv), "PostgreSQL") || geom == NULL ||
        geom[0] == '\0' || max < 1)
        return -1;
    size_t g = strlen(geom);
    stapel__buf sql = {0};
    bool ok = stapel__buf_puts(&sql, "SELECT a.attrelid::regclass::text, "
                                     "postgis_typmod_srid(a.atttypmod) FROM pg_attribute a "
                                     "WHERE a.attrelid = ") &&
              pg_relation(&sql, l) && stapel__buf_puts(&sql, " AND a.attname = ") &&
              sql_quoted(&sql, geom, g, '\'');
    int found = -1;
    char *table = NULL;
    int declared = 0;
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
                /* on a line of its own: a filter may end in a comment */
                ok = ok && stapel__buf_printf(&sql, " AND (%s\n)", where);
            ok = ok && stapel__buf_printf(&sql, " ORDER BY 1 LIMIT %d", max);
            if (ok)
                found = query(ds, sql.data, NULL, 0, srid, max);
        }
    }
    free(table);
    stapel__buf_free(&sql);
    return found;
}

int stapel__pg_unknown_srid(GDALDatasetH ds, OGRLayerH l, const char *where)
{
    int srid[2];
    if (stapel__pg_srids(ds, l, where, srid, 2) != 1)
        return -1;
    if (srid[0] == 0)
        return 0;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM spatial_ref_sys WHERE srid = %d", srid[0]);
    int held = 0;
    int rows = query(ds, sql, NULL, 0, &held, 1);
    return rows == 1 && held == 0 ? srid[0] : -1;
}

bool stapel__pg_primary_key(GDALDatasetH ds, OGRLayerH l, stapel__buf *b)
{
    b->len = 0;
    if (!stapel__driver_is(ds, "PostgreSQL"))
        return false;
    stapel__buf sql = {0};
    char *key = NULL;
    int unused;
    bool ok = stapel__buf_puts(&sql, "SELECT string_agg(a.attname || ' (' || "
                                     "format_type(a.atttypid, a.atttypmod) || ')', ', ' "
                                     "ORDER BY a.attnum), 0 FROM pg_index i JOIN pg_attribute a "
                                     "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                                     "WHERE i.indisprimary AND i.indrelid = ") &&
              pg_relation(&sql, l);
    ok = ok && query(ds, sql.data, &key, 1, &unused, 1) == 1 && key != NULL && key[0] != '\0' &&
         stapel__buf_puts(b, key);
    free(key);
    stapel__buf_free(&sql);
    return ok;
}

int stapel__pg_null_ids(GDALDatasetH ds, OGRLayerH l, const char *where)
{
    const char *col = OGR_L_GetFIDColumn(l);
    if (!stapel__driver_is(ds, "PostgreSQL") || col == NULL || col[0] == '\0')
        return -1;
    stapel__buf sql = {0};
    char *table = NULL;
    int unused, n = -1;
    bool ok = stapel__buf_puts(&sql, "SELECT r::text, 0 FROM (SELECT ") && pg_relation(&sql, l) &&
              stapel__buf_puts(&sql, " AS r) s WHERE r IS NOT NULL");
    if (ok && query(ds, sql.data, &table, 1, &unused, 1) == 1 && table != NULL) {
        sql.len = 0;
        ok = stapel__buf_printf(&sql, "SELECT count(*) FROM %s WHERE ", table) &&
             sql_quoted(&sql, col, strlen(col), '"') && stapel__buf_puts(&sql, " IS NULL");
        if (where != NULL)
            /* on a line of its own: a filter may end in a comment */
            ok = ok && stapel__buf_printf(&sql, " AND (%s\n)", where);
        if (ok && query(ds, sql.data, NULL, 0, &n, 1) != 1)
            n = -1;
    }
    free(table);
    stapel__buf_free(&sql);
    return n;
}

bool stapel__pg_text_key(GDALDatasetH ds, OGRLayerH l, char *col, size_t size)
{
    if (!stapel__driver_is(ds, "PostgreSQL"))
        return false;
    stapel__buf sql = {0};
    char *name = NULL;
    int unused;
    bool ok = stapel__buf_puts(&sql, "SELECT a.attname, 0 FROM pg_index i JOIN pg_attribute a "
                                     "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                                     "JOIN pg_type t ON t.oid = a.atttypid "
                                     "WHERE i.indisprimary AND i.indnatts = 1 "
                                     "AND t.typcategory = 'S' AND i.indrelid = ") &&
              pg_relation(&sql, l);
    ok =
        ok && query(ds, sql.data, &name, 1, &unused, 1) == 1 && name != NULL && strlen(name) < size;
    if (ok)
        snprintf(col, size, "%s", name);
    free(name);
    stapel__buf_free(&sql);
    return ok;
}

bool stapel__pg_column_type(GDALDatasetH ds, OGRLayerH l, const char *col, char *type, size_t size,
                            bool *number)
{
    if (!stapel__driver_is(ds, "PostgreSQL") || col == NULL || col[0] == '\0')
        return false;
    stapel__buf sql = {0};
    char *name = NULL;
    int numeric = 0;
    bool ok =
        stapel__buf_puts(&sql, "SELECT format_type(a.atttypid, a.atttypmod), "
                               "(t.typcategory = 'N')::int FROM pg_attribute a "
                               "JOIN pg_type t ON t.oid = a.atttypid "
                               "WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attrelid = ") &&
        pg_relation(&sql, l) && stapel__buf_puts(&sql, " AND a.attname = ") &&
        sql_quoted(&sql, col, strlen(col), '\'');
    ok = ok && query(ds, sql.data, &name, 1, &numeric, 1) == 1 && name != NULL;
    if (ok) {
        snprintf(type, size, "%s", name);
        *number = numeric != 0;
    }
    free(name);
    stapel__buf_free(&sql);
    return ok;
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

void stapel__warn_z_open(stapel_ctx *ctx, const char *source, const char *layer, int64_t n,
                         int64_t first)
{
    if (n == 1)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: feature %lld has a ring that ends at another height (z) "
                    "than it starts, though it closes in x and y; stapel uses no heights and "
                    "reads it as closed",
                    source, layer, (long long)first);
    else if (n > 1)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%s: layer %s: %lld features have rings that end at another height (z) "
                    "than they start, though they close in x and y (the first: feature %lld); "
                    "stapel uses no heights and reads them as closed",
                    source, layer, (long long)n, (long long)first);
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
    if (ds != NULL && stapel__driver_is(ds, "SQLite"))
        return sqlite_unread(ds, l, where, first, why, size);
    return stapel__json_unread(ds, l, where, first, why, size);
}

/* The file of ds's shapefile layer l with extension ext (in either case),
 * among the files GDAL lists for ds, into buf; false when there is none. */
bool stapel__shapefile_part(GDALDatasetH ds, OGRLayerH l, const char *ext, char *buf, size_t size)
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

bool stapel__shapefile_no_dbf(GDALDatasetH ds, OGRLayerH l)
{
    char dbf[4096];
    return ds != NULL && stapel__driver_is(ds, "ESRI Shapefile") &&
           !stapel__shapefile_part(ds, l, "dbf", dbf, sizeof dbf);
}

bool stapel__shapefile_mismatch(GDALDatasetH ds, OGRLayerH l, int64_t *n_shx, int64_t *n_dbf)
{
    *n_shx = *n_dbf = -1;
    if (ds == NULL || !stapel__driver_is(ds, "ESRI Shapefile"))
        return false;
    char shx[4096], dbf[4096];
    if (!stapel__shapefile_part(ds, l, "shx", shx, sizeof shx) ||
        !stapel__shapefile_part(ds, l, "dbf", dbf, sizeof dbf))
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

/* The bytes of Windows-1252 0x80 to 0x9f as Unicode; ISO-8859-1 reads them
 * as the control characters U+0080 to U+009F, which are taken back too. */
static const uint16_t cp1252_high[32] = {
    0x20ac, 0x81,   0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x8d,   0x017d, 0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d,   0x017e, 0x0178};

/* The character at *c in UTF-8 text (its bytes not checked: not past a
 * NUL byte), and *c past it. */
static uint32_t next_code_point(const unsigned char **c)
{
    const unsigned char *p = *c;
    uint32_t u = *p;
    int len = u < 0x80 ? 1 : (u & 0xe0) == 0xc0 ? 2 : (u & 0xf0) == 0xe0 ? 3 : 4;
    u &= len == 1 ? 0x7f : len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07;
    int k = 1;
    for (; k < len && p[k] != '\0'; k++)
        u = u << 6 | (p[k] & 0x3f);
    *c = p + k;
    return u;
}

/* Whether the characters of UTF-8 text s beyond ASCII are all of the Latin
 * scripts (up to U+017F: 'â', 'ë', 'ŀ') or of general punctuation, currency
 * and letterlike signs (U+2000 to U+214F: '’', '–', '€', '™'): what text
 * of Western Europe holds. Bytes of real Windows-1252 text can form other
 * UTF-8 by chance ('CAFÉ–BAR' as 'CAFɖBAR', an IPA letter); text that was
 * UTF-8 before it was misread does not. */
static bool latin_text(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0';) {
        uint32_t u = next_code_point(&c);
        if (u > 0x17f && (u < 0x2000 || u > 0x214f))
            return false;
    }
    return true;
}

bool stapel__utf8_misread(const char *s, char *out, size_t size)
{
    size_t n = 0;
    bool beyond = false;
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0';) {
        uint32_t u = *c;
        int len = u < 0x80 ? 1 : (u & 0xe0) == 0xc0 ? 2 : (u & 0xf0) == 0xe0 ? 3 : 0;
        if (len == 0)
            return false; /* four bytes (beyond U+FFFF) or not UTF-8 */
        if (len > 1) {
            u &= len == 2 ? 0x1f : 0x0f;
            for (int k = 1; k < len; k++) {
                if ((c[k] & 0xc0) != 0x80)
                    return false;
                u = u << 6 | (c[k] & 0x3f);
            }
        }
        c += len;
        int byte = u < 0x100 ? (int)u : -1;
        for (int k = 0; k < 32 && byte < 0; k++)
            if (cp1252_high[k] == u)
                byte = 0x80 + k;
        if (byte < 0 || n + 1 >= size)
            return false;
        beyond |= byte >= 0x80;
        out[n++] = (char)byte;
    }
    out[n] = '\0';
    return beyond && CPLIsUTF8(out, -1) && latin_text(out);
}

bool stapel__has_cp1252_sign(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0';) {
        uint32_t u = next_code_point(&c);
        for (int k = 0; k < 32 && u >= 0x100; k++)
            if (cp1252_high[k] == u)
                return true;
    }
    return false;
}

char *stapel__c1_as_cp1252(const char *s, bool *oom)
{
    *oom = false;
    size_t len = strlen(s);
    bool any = false;
    for (size_t i = 0; i + 1 < len && !any; i++) {
        unsigned char c = (unsigned char)s[i + 1];
        any = (unsigned char)s[i] == 0xc2 && c >= 0x80 && c <= 0x9f && cp1252_high[c - 0x80] != c;
    }
    if (!any)
        return NULL;
    char *out = malloc(len + len / 2 + 1);
    if (out == NULL) {
        *oom = true;
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = i + 1 < len ? (unsigned char)s[i + 1] : 0;
        uint32_t u =
            (unsigned char)s[i] == 0xc2 && c >= 0x80 && c <= 0x9f ? cp1252_high[c - 0x80] : 0;
        if (u == 0 || u == c) {
            out[n++] = s[i];
            continue;
        }
        if (u < 0x800) {
            out[n++] = (char)(0xc0 | u >> 6);
        } else {
            out[n++] = (char)(0xe0 | u >> 12);
            out[n++] = (char)(0x80 | (u >> 6 & 0x3f));
        }
        out[n++] = (char)(0x80 | (u & 0x3f));
        i++;
    }
    out[n] = '\0';
    return out;
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
