/*
 * cmd_info.c - "stapel info SOURCE...": what each source holds, as text for a
 * person or as JSON (--json) for scripts.
 */
#include "cli.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void info_help(void)
{
    printf("Usage: stapel info [--json | --format text|json] SOURCE...\n"
           "\n"
           "Describe what each source holds: per layer its name, feature count, geometry\n"
           "type, CRS, extent, fields, and how many geometries are null, empty, invalid\n"
           "(checked with GEOS on the coordinates as stored; 'stack' may repair more, as\n"
           "it first rounds them to its 1 mm grid) or unreadable (damaged; 'stack'\n"
           "refuses those).\n"
           "\n"
           "SOURCE is anything GDAL opens: a path (shapefile, GeoPackage, GeoJSON, ...), a\n"
           "URL, a PostgreSQL connection string ('PG:dbname=...' or 'postgresql://...') or\n"
           "a service's ('WFS:https://...', 'OAPIF:https://...'). Append '|layername=NAME'\n"
           "to describe one layer only.\n"
           "\n"
           "Options:\n"
           "  --json      print one JSON document (an array with one object per source;\n"
           "              one that cannot be read has only \"source\" and \"error\")\n"
           "  --format F  text (default) or json (the same as --json)\n"
           "  -h, --help  show this help\n"
           "\n"
           "Exit status: 0 when every source was read, 1 when one failed, 2 on usage errors\n"
           "(a mistyped '|layername=' among them).\n");
}

static void print_text(const stapel_source_info *info)
{
    /* Names come from the data: shown escaped, so that a tab or a newline
     * in one cannot break the layout (--json keeps them exact). */
    cli_put_text(stdout, info->source, SIZE_MAX);
    printf(" (%s)\n", info->driver);
    if (info->n_layers == 0)
        printf("  no layers\n");
    for (size_t i = 0; i < info->n_layers; i++) {
        const stapel_layer_info *l = &info->layers[i];
        printf("  layer ");
        /* GDAL names a layer read from standard input '' (--json keeps it). */
        cli_put_text(stdout, l->name[0] != '\0' ? l->name : "(no name)", SIZE_MAX);
        printf("\n");
        if (l->unreadable != NULL) {
            printf("    cannot be read: ");
            cli_put_text(stdout, l->unreadable, SIZE_MAX);
            printf("\n");
            continue;
        }
        /* A table (GeoPackage attributes, a CSV): no CRS, extent or
         * geometry counts to speak of. */
        bool table = strcmp(l->geometry_type, "None") == 0;
        printf("    geometry:   %s", table ? "none (a table)" : l->geometry_type);
        if (table && l->wkt_column != NULL) {
            printf("; its column '");
            cli_put_text(stdout, l->wkt_column, SIZE_MAX);
            printf("' holds WKT, but GDAL reads a CSV's geometry only from a column named WKT: "
                   "rename the column to WKT for stack");
        }
        printf("\n");
        if (l->n_geometry_columns > 1) {
            printf("    geometry columns: ");
            for (size_t k = 0; k < l->n_geometry_columns; k++) {
                printf("%s", k > 0 ? ", " : "");
                cli_put_text(stdout, l->geometry_columns[k], SIZE_MAX);
            }
            printf(" (this describes the first; stack needs one picked)\n");
        }
        printf("    features:   %lld\n", (long long)l->n_features);
        if (table)
            ;
        else if (l->crs_name == NULL && l->crs_file_unread != NULL) {
            printf("    crs:        none: its .prj file '");
            cli_put_text(stdout, l->crs_file_unread, SIZE_MAX);
            printf("' is empty or holds no CRS that GDAL can read; stack needs it mended or "
                   "--s_srs\n");
        } else if (l->crs_name == NULL && l->n_srids == 1 && l->srids[0] == 0)
            printf("    crs:        none: the rows have SRID 0; stack needs --s_srs\n");
        else if (l->crs_name == NULL && l->n_srids == 1)
            printf("    crs:        none: SRID %d, which the database's spatial_ref_sys does not "
                   "hold; stack needs --s_srs\n",
                   l->srids[0]);
        else if (l->crs_name == NULL)
            printf("    crs:        none\n");
        else if (l->epsg > 0)
            printf("    crs:        EPSG:%d (%s)\n", l->epsg, l->crs_name);
        else if (l->crs_local)
            printf("    crs:        %s (a local CRS, on no place on Earth: stack needs --s_srs to "
                   "say which CRS the coordinates are in)\n",
                   l->crs_name);
        else
            printf("    crs:        %s (no EPSG code)\n", l->crs_name);
        if (l->n_srids > 1) {
            printf("    srids:      ");
            for (int k = 0; k < l->n_srids && k < 3; k++)
                printf("%s%d", k > 0 ? ", " : "", l->srids[k]);
            printf("%s: the rows have several, but the geometry column declares none and GDAL "
                   "reads them all in the crs above; stack refuses the layer\n",
                   l->n_srids > 2 ? ", …" : "");
        }
        if (l->dbf_missing) {
            /* No table, so no text to decode: a .cpg beside it is not read. */
        } else if (l->encoding != NULL && l->encoding[0] != '\0') {
            printf("    encoding:   ");
            cli_put_text(stdout, l->encoding, SIZE_MAX);
            printf(l->encoding_from_cpg ? " (its .cpg file says so)\n"
                                        : " (the code page in its .dbf header says so)\n");
        } else if (l->encoding != NULL && l->encoding_from_cpg) {
            printf("    encoding:   none GDAL knows (its .cpg file names none it reads; write the "
                   "encoding in it, e.g. 'UTF-8' or '1252'): GDAL passes the text on as it is\n");
        } else if (l->encoding != NULL) {
            printf(
                "    encoding:   none stated (no .cpg file names one, nor the .dbf header): GDAL "
                "passes the text on as it is\n");
        }
        if (table)
            ;
        else if (l->has_extent)
            printf("    extent:     %.3f, %.3f - %.3f, %.3f\n", l->xmin, l->ymin, l->xmax,
                   l->ymax);
        else
            printf("    extent:     none\n");
        printf("    fields:    ");
        if (l->n_fields == 0)
            printf(l->dbf_missing ? " none: GDAL finds no .dbf file, which holds them, beside the "
                                    ".shp (named as the .shp, in its case)"
                                  : " none");
        for (size_t k = 0; k < l->n_fields; k++) {
            printf("%s ", k > 0 ? "," : "");
            cli_put_text(stdout, l->fields[k].name, SIZE_MAX);
            printf(" (%s)", l->fields[k].type);
        }
        printf("\n");
        if (table)
            continue;
        printf("    geometries: %lld null, %lld empty, %lld invalid", (long long)l->n_null,
               (long long)l->n_empty, (long long)l->n_invalid);
        if (l->n_unreadable > 0)
            printf(", %lld unreadable (damaged, or curves that close no ring)",
                   (long long)l->n_unreadable);
        printf("\n");
        /* What stack will not take as polygons: said before it refuses. */
        if (l->n_not_polygonal > 0)
            printf("    not polygons: %lld feature%s of points or lines only (the first: feature "
                   "%lld); stack refuses them in a layer of claims or zones\n",
                   (long long)l->n_not_polygonal, l->n_not_polygonal == 1 ? "" : "s",
                   (long long)l->first_not_polygonal);
        if (l->n_mixed > 0)
            printf("    mixed:      %lld collection%s with points or lines beside polygons (the "
                   "first: feature %lld); stack keeps only the polygons\n",
                   (long long)l->n_mixed, l->n_mixed == 1 ? "" : "s", (long long)l->first_mixed);
    }
}

static json_object *to_json(const stapel_source_info *info)
{
    json_object *src = json_object_new_object();
    json_object_object_add(src, "source", json_object_new_string(info->source));
    json_object_object_add(src, "driver", json_object_new_string(info->driver));
    json_object *layers = json_object_new_array();
    for (size_t i = 0; i < info->n_layers; i++) {
        const stapel_layer_info *l = &info->layers[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(l->name));
        if (l->unreadable != NULL) {
            json_object_object_add(o, "unreadable", json_object_new_string(l->unreadable));
            json_object_array_add(layers, o);
            continue;
        }
        json_object_object_add(o, "geometry_type", json_object_new_string(l->geometry_type));
        if (l->n_geometry_columns > 1) {
            json_object *gc = json_object_new_array();
            for (size_t k = 0; k < l->n_geometry_columns; k++)
                json_object_array_add(gc, json_object_new_string(l->geometry_columns[k]));
            json_object_object_add(o, "geometry_columns", gc);
        }
        json_object_object_add(o, "features", json_object_new_int64(l->n_features));
        if (l->wkt_column != NULL)
            json_object_object_add(o, "wkt_column", json_object_new_string(l->wkt_column));
        if (l->crs_name == NULL) {
            json_object_object_add(o, "crs", NULL);
            if (l->crs_file_unread != NULL)
                json_object_object_add(o, "crs_file_unread",
                                       json_object_new_string(l->crs_file_unread));
        } else {
            json_object *crs = json_object_new_object();
            json_object_object_add(crs, "name", json_object_new_string(l->crs_name));
            json_object_object_add(crs, "epsg", l->epsg > 0 ? json_object_new_int(l->epsg) : NULL);
            json_object_object_add(crs, "local", json_object_new_boolean(l->crs_local));
            json_object_object_add(o, "crs", crs);
        }
        if (l->dbf_missing)
            json_object_object_add(o, "dbf_missing", json_object_new_boolean(true));
        if (l->encoding != NULL) {
            bool stated = l->encoding[0] != '\0';
            json_object_object_add(o, "encoding",
                                   stated ? json_object_new_string(l->encoding) : NULL);
            json_object_object_add(
                o, "encoding_from",
                !stated ? NULL
                        : json_object_new_string(l->encoding_from_cpg ? "cpg" : "dbf_header"));
        }
        if (l->n_srids > 0) {
            json_object *s = json_object_new_array();
            for (int k = 0; k < l->n_srids && k < 3; k++)
                json_object_array_add(s, json_object_new_int(l->srids[k]));
            json_object_object_add(o, "row_srids", s);
        }
        if (l->has_extent) {
            json_object *e = json_object_new_array();
            json_object_array_add(e, json_object_new_double(l->xmin));
            json_object_array_add(e, json_object_new_double(l->ymin));
            json_object_array_add(e, json_object_new_double(l->xmax));
            json_object_array_add(e, json_object_new_double(l->ymax));
            json_object_object_add(o, "extent", e);
        } else {
            json_object_object_add(o, "extent", NULL);
        }
        json_object *fields = json_object_new_array();
        for (size_t k = 0; k < l->n_fields; k++) {
            json_object *f = json_object_new_object();
            json_object_object_add(f, "name", json_object_new_string(l->fields[k].name));
            json_object_object_add(f, "type", json_object_new_string(l->fields[k].type));
            json_object_array_add(fields, f);
        }
        json_object_object_add(o, "fields", fields);
        json_object_object_add(o, "null_geometries", json_object_new_int64(l->n_null));
        json_object_object_add(o, "empty_geometries", json_object_new_int64(l->n_empty));
        json_object_object_add(o, "invalid_geometries", json_object_new_int64(l->n_invalid));
        json_object_object_add(o, "unreadable_geometries", json_object_new_int64(l->n_unreadable));
        json_object_object_add(o, "not_polygonal_geometries",
                               json_object_new_int64(l->n_not_polygonal));
        json_object_object_add(o, "mixed_geometries", json_object_new_int64(l->n_mixed));
        json_object_array_add(layers, o);
    }
    json_object_object_add(src, "layers", layers);
    return src;
}

/* The object of a source that could not be described: its name (with a
 * database password as ***) and why. */
static json_object *error_json(const char *source, const char *message)
{
    json_object *o = json_object_new_object();
    char *shown = stapel_source_shown(source);
    json_object_object_add(o, "source", json_object_new_string(shown != NULL ? shown : ""));
    free(shown);
    json_object_object_add(o, "error", json_object_new_string(message));
    return o;
}

static int info_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shortopts[] = "h";
    bool json_flag = false;
    const char *format = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json_flag = true;
            break;
        case 'f': { /* as summary takes it: once */
            int rc = cli_once("info", "--format", &format, optarg);
            if (rc != EXIT_OK)
                return rc;
            static const char *const formats[] = {"text", "json"};
            format = cli_keyword(optarg, formats, sizeof formats / sizeof formats[0]);
            if (format == NULL) /* in any case: 'JSON' */
                return cli_usage("info", "unknown format '%s'; use text or json", optarg);
            break;
        }
        case 'h':
            info_help();
            return EXIT_OK;
        default:
            return cli_bad_option("info", argv, shortopts, longopts);
        }
    }
    /* --json is --format json; one that says text too is not settled by
     * the order they come in. */
    if (json_flag && format != NULL && strcmp(format, "text") == 0)
        return cli_usage("info",
                         "--json and --format text ask for different formats; give one of them");
    bool json = json_flag || (format != NULL && strcmp(format, "json") == 0);
    if (optind >= argc)
        return cli_usage("info", "no SOURCE given");
    for (int i = optind; i < argc; i++)
        if (argv[i][0] == '\0') /* often an unset shell variable */
            return cli_usage("info", "SOURCE %d of %d is empty; give a file or a connection string",
                             i - optind + 1, argc - optind);

    stapel_ctx *ctx = cli_ctx_new("info", false);
    if (ctx == NULL)
        return EXIT_FAIL;
    cli_set_cancel_target(ctx);
    int rc = EXIT_OK;
    json_object *all = json ? json_object_new_array() : NULL;
    for (int i = optind; i < argc; i++) {
        stapel_source_info *info = NULL;
        stapel_status st = stapel_info_read(ctx, &info, argv[i]);
        if (st != STAPEL_OK) {
            int failed = cli_fail("info", ctx, st); /* 2 for a mistyped source */
            rc = failed > rc ? failed : rc;
            if (st == STAPEL_ECANCELLED)
                break;
            /* One object per source, in order, also for one that failed:
             * a script pairs them with its arguments by position. */
            if (json)
                json_object_array_add(all, error_json(argv[i], stapel_ctx_message(ctx)[0] != '\0'
                                                                   ? stapel_ctx_message(ctx)
                                                                   : stapel_status_str(st)));
            continue;
        }
        if (json)
            json_object_array_add(all, to_json(info));
        else
            print_text(info);
        stapel_source_info_free(info);
    }
    if (json) {
        cli_put_line(json_object_to_json_string_ext(
            all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
    }
    cli_set_cancel_target(NULL);
    stapel_ctx_free(ctx);
    return rc;
}

const cli_command cmd_info = {
    .name = "info",
    .summary = "describe sources: layers, CRS, counts, invalid geometries",
    .run = info_run,
    .help = info_help,
    .catches_signals = true,
};
