/*
 * cmd_summary.c - "stapel summary OUT.gpkg": the zone_summary and zone_theme
 * tables of a stack GeoPackage, as an aligned table for a person (km², ha,
 * ratios to two decimals; names shown escaped and cut to fit, text.c) or as
 * CSV or JSON for scripts (plain m², names exactly as stored); csv-nl is the
 * CSV that Excel and LibreOffice in a Dutch locale open as it is.
 */
#include "cli.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void summary_help(void)
{
    printf("Usage: stapel summary OUT.gpkg [--zone NAME] [--format table|csv|csv-nl|json]\n"
           "                      [--themes]\n"
           "\n"
           "Print the summaries of a stack GeoPackage written by 'stapel stack': per\n"
           "province, NOVEX area and in total the area, the claimed area (sum over themes),\n"
           "the claim ratio (above 1 the themes cannot all lie side by side), the area\n"
           "stacked with 2+ and 3+ themes, the most themes on one face, the conflict area\n"
           "(2+ themes, worst verdict conflict) and the kans area (2+ themes, worst\n"
           "verdict conditional or compatible); and per zone and theme the claimed area,\n"
           "its share and its overlap with other themes. The total covers the union of\n"
           "the provinces (claims outside every province count in no province nor in\n"
           "it), or all claimed land when the stack had no provinces.\n"
           "\n"
           "Options:\n"
           "  --zone NAME     only the zone(s) with this name; 'province:NAME' or\n"
           "                  'novex:NAME' for one of a province and a NOVEX area of one\n"
           "                  name, 'total:total' for the total row alone (TYPE:NAME, as\n"
           "                  the type and zone columns name the row); such a prefix\n"
           "                  always names the type: a province named 'province:X' is\n"
           "                  'province:province:X'\n"
           "  --format F      table (default: aligned, km² and ha), csv or json (m²);\n"
           "                  csv-nl: csv for a spreadsheet in a Dutch locale (Excel,\n"
           "                  LibreOffice): ';' between fields, decimal commas, UTF-8\n"
           "                  with a byte order mark\n"
           "  --themes        with --format csv or csv-nl: print the zone_theme table\n"
           "                  instead of zone_summary (table and json show both)\n"
           "  -q, --quiet     no warnings\n"
           "  -h, --help      show this help\n"
           "\n"
           "Exit status: 0 success, 1 the GeoPackage could not be read, 2 usage error\n"
           "(also an unknown zone or format).\n");
}

/* Whether a row of the given type and zone is selected by --zone want
 * (all when NULL), as render reads it: the zone's name, its accents written
 * either way, or "TYPE:NAME" for that type only (stapel_zone_wanted()); so
 * "total:total" is the total row alone, when a zone is named "total" too. */
static bool zone_selected(const char *want, const char *type, const char *zone)
{
    return want == NULL || stapel_zone_wanted(want, type, zone);
}

/* The zone and theme columns are as wide as their widest entry as shown
 * (cli_put_text: control characters escaped, widths in characters, not
 * bytes), at least as their heading, at most MAX_COLUMN: a longer name is
 * cut with an ellipsis. */
#define MAX_COLUMN 40
#define MIN_THEME 12

static size_t column_width(size_t width, const char *s)
{
    size_t w = cli_text_width(s);
    if (w > MAX_COLUMN)
        w = MAX_COLUMN;
    return w > width ? w : width;
}

static void print_table(const stapel_summary *sm, const char *zone, bool themes)
{
    size_t zw = strlen("zone"), tw = MIN_THEME;
    for (size_t i = 0; i < sm->n_zones; i++)
        if (zone_selected(zone, sm->zones[i].zone_type, sm->zones[i].zone))
            zw = column_width(zw, sm->zones[i].zone);
    for (size_t i = 0; i < sm->n_themes; i++) {
        const stapel_theme_row *t = &sm->themes[i];
        if (zone_selected(zone, t->zone_type, t->zone) && t->area_m2 > 0) {
            zw = column_width(zw, t->zone);
            tw = column_width(tw, t->theme);
        }
    }
    printf("%-8s  ", "type");
    cli_put_cell(stdout, "zone", zw);
    printf(" %10s %10s %6s %10s %10s %4s %10s %10s\n", "area km2", "claim km2", "ratio", "2+ ha",
           "3+ ha", "max", "confl. ha", "kans ha");
    for (size_t i = 0; i < sm->n_zones; i++) {
        const stapel_zone_row *z = &sm->zones[i];
        if (!zone_selected(zone, z->zone_type, z->zone))
            continue;
        printf("%-8s  ", z->zone_type);
        cli_put_cell(stdout, z->zone, zw);
        printf(" %10.2f %10.2f %6.2f %10.1f %10.1f %4d %10.1f %10.1f\n", z->area_m2 / 1e6,
               z->claimed_m2 / 1e6, z->claim_ratio, z->stacked2_m2 / 1e4, z->stacked3_m2 / 1e4,
               z->max_themes, z->conflict_m2 / 1e4, z->kans_m2 / 1e4);
    }
    if (!themes)
        return;
    printf("\n%-8s  ", "type");
    cli_put_cell(stdout, "zone", zw);
    putchar(' ');
    cli_put_cell(stdout, "theme", tw);
    printf(" %10s %7s %10s\n", "area ha", "share", "overlap ha");
    for (size_t i = 0; i < sm->n_themes; i++) {
        const stapel_theme_row *t = &sm->themes[i];
        if (!zone_selected(zone, t->zone_type, t->zone) || t->area_m2 <= 0)
            continue;
        printf("%-8s  ", t->zone_type);
        cli_put_cell(stdout, t->zone, zw);
        putchar(' ');
        cli_put_cell(stdout, t->theme, tw);
        printf(" %10.1f %6.1f%% %10.1f\n", t->area_m2 / 1e4, 100.0 * t->share, t->overlap_m2 / 1e4);
    }
}

/* How a CSV is written: RFC 4180's, or what a spreadsheet in a Dutch locale
 * reads (Excel splits at ';' and reads ',' as the decimal sign there). */
typedef struct csv_dialect {
    char sep;
    char decimal;
    bool spreadsheet; /* opened by a double click: no cell may start a formula */
} csv_dialect;

/* A CSV field (RFC 4180): quoted when it holds the separator, a quote or a
 * line break; the name itself is kept exactly, tabs and escapes included. */
static void csv_field(const csv_dialect *d, const char *s)
{
    /* A spreadsheet runs a cell that starts with one of these as a formula
     * ('=HYPERLINK(...)' in a zone's name): an apostrophe before it makes
     * it text, and the spreadsheet shows the name as it is. */
    bool formula = d->spreadsheet && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
    const char special[] = {d->sep, '"', '\r', '\n', '\0'};
    if (strpbrk(s, special) == NULL) {
        if (formula)
            putchar('\'');
        fputs(s, stdout);
        return;
    }
    putchar('"');
    if (formula)
        putchar('\'');
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            putchar('"');
        putchar(*p);
    }
    putchar('"');
}

/* The first two fields of a row: the zone's type and name. */
static void csv_zone(const csv_dialect *d, const char *type, const char *zone)
{
    csv_field(d, type);
    putchar(d->sep);
    csv_field(d, zone);
}

/* The separator, then v with the given decimals and the dialect's sign. */
static void csv_number(const csv_dialect *d, double v, int decimals)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    char *dot = strchr(buf, '.');
    if (dot != NULL)
        *dot = d->decimal;
    printf("%c%s", d->sep, buf);
}

/* The names of a header, each followed by the separator but the last. */
static void csv_header(const csv_dialect *d, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%c", names[i], i + 1 < n ? d->sep : '\n');
}

static void print_csv(const stapel_summary *sm, const char *zone, bool themes,
                      const csv_dialect *d)
{
    if (themes) {
        const char *head[] = {"zone_type", "zone", "theme", "area_m2", "share", "overlap_m2"};
        csv_header(d, head, sizeof head / sizeof head[0]);
        for (size_t i = 0; i < sm->n_themes; i++) {
            const stapel_theme_row *t = &sm->themes[i];
            if (!zone_selected(zone, t->zone_type, t->zone))
                continue;
            csv_zone(d, t->zone_type, t->zone);
            putchar(d->sep);
            csv_field(d, t->theme);
            csv_number(d, t->area_m2, 3);
            csv_number(d, t->share, 6);
            csv_number(d, t->overlap_m2, 3);
            putchar('\n');
        }
        return;
    }
    const char *head[] = {"zone_type",   "zone",        "area_m2",    "claimed_m2",
                          "claim_ratio", "stacked2_m2", "stacked3_m2", "max_themes",
                          "conflict_m2", "kans_m2"};
    csv_header(d, head, sizeof head / sizeof head[0]);
    for (size_t i = 0; i < sm->n_zones; i++) {
        const stapel_zone_row *z = &sm->zones[i];
        if (!zone_selected(zone, z->zone_type, z->zone))
            continue;
        csv_zone(d, z->zone_type, z->zone);
        csv_number(d, z->area_m2, 3);
        csv_number(d, z->claimed_m2, 3);
        csv_number(d, z->claim_ratio, 6);
        csv_number(d, z->stacked2_m2, 3);
        csv_number(d, z->stacked3_m2, 3);
        printf("%c%d", d->sep, z->max_themes);
        csv_number(d, z->conflict_m2, 3);
        csv_number(d, z->kans_m2, 3);
        putchar('\n');
    }
}

static void print_json(const stapel_summary *sm, const char *zone)
{
    json_object *root = json_object_new_object();
    json_object *zones = json_object_new_array();
    for (size_t i = 0; i < sm->n_zones; i++) {
        const stapel_zone_row *z = &sm->zones[i];
        if (!zone_selected(zone, z->zone_type, z->zone))
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "zone_type", json_object_new_string(z->zone_type));
        json_object_object_add(o, "zone", json_object_new_string(z->zone));
        json_object_object_add(o, "area_m2", json_object_new_double(z->area_m2));
        json_object_object_add(o, "claimed_m2", json_object_new_double(z->claimed_m2));
        json_object_object_add(o, "claim_ratio", json_object_new_double(z->claim_ratio));
        json_object_object_add(o, "stacked2_m2", json_object_new_double(z->stacked2_m2));
        json_object_object_add(o, "stacked3_m2", json_object_new_double(z->stacked3_m2));
        json_object_object_add(o, "max_themes", json_object_new_int(z->max_themes));
        json_object_object_add(o, "conflict_m2", json_object_new_double(z->conflict_m2));
        json_object_object_add(o, "kans_m2", json_object_new_double(z->kans_m2));
        json_object_array_add(zones, o);
    }
    json_object *themes = json_object_new_array();
    for (size_t i = 0; i < sm->n_themes; i++) {
        const stapel_theme_row *t = &sm->themes[i];
        if (!zone_selected(zone, t->zone_type, t->zone))
            continue;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "zone_type", json_object_new_string(t->zone_type));
        json_object_object_add(o, "zone", json_object_new_string(t->zone));
        json_object_object_add(o, "theme", json_object_new_string(t->theme));
        json_object_object_add(o, "area_m2", json_object_new_double(t->area_m2));
        json_object_object_add(o, "share", json_object_new_double(t->share));
        json_object_object_add(o, "overlap_m2", json_object_new_double(t->overlap_m2));
        json_object_array_add(themes, o);
    }
    json_object_object_add(root, "zones", zones);
    json_object_object_add(root, "themes", themes);
    cli_put_line(json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
}

static int summary_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"zone", required_argument, NULL, 'z'},
        {"format", required_argument, NULL, 'f'},
        {"themes", no_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shortopts[] = "qh";
    const char *zone = NULL, *format = NULL;
    bool themes = false, quiet = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'z': {
            /* Empty, most often an unset shell variable: as render says. */
            int rc = cli_once_nonempty("summary", "--zone", &zone, optarg);
            if (rc != EXIT_OK)
                return rc;
            cli_zone_name(optarg);
            break;
        }
        case 'f': {
            int rc = cli_once("summary", "--format", &format, optarg);
            if (rc != EXIT_OK)
                return rc;
            break;
        }
        case 't':
            themes = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            summary_help();
            return EXIT_OK;
        default:
            return cli_bad_option("summary", argv, shortopts, longopts);
        }
    }
    static const char *const formats[] = {"table", "csv", "csv-nl", "json"};
    /* In any case: 'CSV'. */
    const char *known =
        format == NULL ? "table" : cli_keyword(format, formats, sizeof formats / sizeof formats[0]);
    if (known == NULL)
        return cli_usage("summary", "unknown format '%s' (use table, csv, csv-nl or json)", format);
    format = known;
    bool csv = strcmp(format, "csv") == 0, csv_nl = strcmp(format, "csv-nl") == 0;
    if (themes && !csv && !csv_nl)
        return cli_usage("summary", "--themes goes with --format csv or csv-nl (the %s format shows both "
                                    "tables)",
                         format);
    if (optind != argc - 1)
        return cli_usage("summary", optind >= argc ? "no GeoPackage given"
                                                   : "give exactly one GeoPackage");
    if (argv[optind][0] == '\0') /* often an unset shell variable */
        return cli_usage("summary", "the GeoPackage name is empty; give the stack GeoPackage");
    stapel_ctx *ctx = cli_ctx_new("summary", quiet);
    if (ctx == NULL)
        return EXIT_FAIL;
    stapel_summary *sm = NULL;
    bool bare = false; /* --zone selects zones without area only */
    stapel_status st = stapel_summary_read(ctx, &sm, argv[optind]);
    int rc = EXIT_OK;
    if (st != STAPEL_OK) {
        rc = cli_fail("summary", ctx, st);
        goto done;
    }
    cli_warn_shard("summary", ctx, argv[optind], "its numbers cover");
    if (zone != NULL) {
        bool found = false;
        for (size_t i = 0; i < sm->n_zones && !found; i++)
            found = zone_selected(zone, sm->zones[i].zone_type, sm->zones[i].zone);
        if (!found) {
            /* The zones as render lists them, and the nearest, as render
             * finds it (as --zone takes it: 'province:X' beside a NOVEX
             * area X, 'total:total' for the total row alone beside a
             * province 'Total'); the value given quoted as they are. */
            stapel_zone_list *zones = stapel_zone_list_new();
            bool ok = zones != NULL;
            for (size_t i = 0; ok && i < sm->n_zones; i++) {
                const stapel_zone_row *z = &sm->zones[i];
                ok = stapel_zone_list_add(zones, z->zone_type, z->zone, z->area_m2 > 0);
            }
            stapel_zone_hint near = {0};
            ok = ok && stapel_zone_list_hint(zones, zone, &near);
            char *asked = ok ? stapel_zone_quote_text(zone) : NULL;
            char *hint = ok ? stapel_zone_hint_text(&near) : NULL;
            char *list = ok ? stapel_zone_list_text(zones, SIZE_MAX) : NULL;
            bool said = asked != NULL && hint != NULL && list != NULL;
            if (said) {
                /* The names as the table shows them, whole. */
                fputs("stapel: summary: ", stderr);
                cli_put_text(stderr, argv[optind], SIZE_MAX);
                fputs(": no zone named ", stderr);
                cli_put_text(stderr, asked, SIZE_MAX);
                if (near.rank != 0) {
                    fputs("; did you mean ", stderr);
                    cli_put_text(stderr, hint, SIZE_MAX);
                    fprintf(stderr, "? %s; zones: ", stapel_zone_hint_note(&near));
                } else {
                    fputs("; zones: ", stderr);
                }
                cli_put_text(stderr, list, SIZE_MAX);
                fputc('\n', stderr);
            }
            free(asked);
            free(hint);
            free(list);
            stapel_zone_hint_free(&near);
            stapel_zone_list_free(zones);
            if (!said) { /* !ok leaves all three NULL */
                cli_error("summary", "out of memory");
                rc = EXIT_FAIL;
                goto done;
            }
            rc = cli_usage_hint("summary"); /* as render: an unknown zone is a usage error */
            goto done;
        }
        /* A zone without area is no unknown zone: its row, of zeros, is
         * the answer (exit 0). Say why it is all zeros, as render says why
         * it has nothing to draw; the table then leaves out its theme
         * table, whose rows for it are all 0 (the table shows no row of
         * no area). */
        bare = true;
        for (size_t i = 0; i < sm->n_zones; i++) {
            const stapel_zone_row *z = &sm->zones[i];
            if (!zone_selected(zone, z->zone_type, z->zone))
                continue;
            if (strcmp(z->zone_type, "total") == 0 || z->area_m2 > 0) {
                bare = false;
                continue;
            }
            char *quoted = stapel_zone_quote_text(z->zone);
            if (quoted == NULL) {
                cli_error("summary", "out of memory");
                rc = EXIT_FAIL;
                goto done;
            }
            cli_warn("summary",
                     "%s %s in '%s' has no area: none of its features had any when it was "
                     "stacked, so every number is 0",
                     strcmp(z->zone_type, "novex") == 0 ? "NOVEX area" : z->zone_type, quoted,
                     argv[optind]);
            free(quoted);
        }
    }
    if (csv) {
        print_csv(sm, zone, themes, &(csv_dialect){',', '.', false});
    } else if (csv_nl) {
        fputs("\xef\xbb\xbf", stdout); /* the byte order mark: Excel then reads UTF-8 */
        print_csv(sm, zone, themes, &(csv_dialect){';', ',', true});
    }
    else if (strcmp(format, "json") == 0)
        print_json(sm, zone);
    else
        print_table(sm, zone, !bare);
done:
    stapel_summary_free(sm);
    stapel_ctx_free(ctx);
    return rc;
}

const cli_command cmd_summary = {
    .name = "summary",
    .summary = "print the zone summaries of a stack GeoPackage",
    .run = summary_run,
    .help = summary_help,
};
