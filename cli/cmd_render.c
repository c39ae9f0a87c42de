/*
 * cmd_render.c - "stapel render OUT.gpkg -o MAP.png|svg|pdf": the stack map of
 * a stapel GeoPackage as a picture, for the provincietafel. Parses the
 * options, passes them to stapel_render() and reports one line.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void render_help(void)
{
    printf("Usage: stapel render OUT.gpkg -o MAP.png|MAP.svg|MAP.pdf [options]\n"
           "\n"
           "Draw the stack map of a GeoPackage written by 'stapel stack': the faces\n"
           "coloured by class, province and NOVEX outlines with their names, a legend with\n"
           "the area of each class in km\xc2\xb2, a scale bar, a north arrow and a footer with\n"
           "the source layers, the CRS and the date. The map keeps the aspect ratio of the\n"
           "data in EPSG:28992 (Amersfoort / RD New).\n"
           "\n"
           "Options:\n"
           "  -o, --output MAP   the picture to write; the format follows the extension:\n"
           "                     .png, .svg or .pdf\n"
           "  --zone NAME        crop to one province or NOVEX area and grey out the rest;\n"
           "                     the legend then gives the areas inside that zone. A name\n"
           "                     that is both takes 'province:NAME' or 'novex:NAME';\n"
           "                     such a prefix always names the type: a province named\n"
           "                     'province:X' is 'province:province:X'\n"
           "  --field FIELD      what colours the faces: n_themes (default), n_claims or\n"
           "                     verdict\n"
           "  --width N          width in pixels for PNG (default 2000), in points for SVG\n"
           "                     and PDF (default 842, A4 landscape); 300 to 20000, a PNG\n"
           "                     at most 300 million pixels in all and a PDF page at most\n"
           "                     14400 points (200 inches) on a side\n"
           "  --title TEXT       the title (default: \"Stapelkaart ruimteclaims \xe2\x80\x94 "
           "<zone>\";\n"
           "                     without --zone, the province names when there are one\n"
           "                     to three, else no name)\n"
           "  --overwrite        replace MAP if it exists (without it stapel refuses)\n"
           "  -q, --quiet        no warnings, progress or summary line\n"
           "  --progress         show progress even when stderr is not a terminal\n"
           "  -h, --help         show this help\n"
           "\n"
           "Each option that takes a value is given at most once.\n"
           "\n"
           "The footer date is today's; set SOURCE_DATE_EPOCH for a reproducible picture.\n"
           "\n"
           "Examples:\n"
           "  stapel render stack.gpkg -o stapelkaart.png\n"
           "  stapel render stack.gpkg -o oosterwold.pdf --zone 'Almere Oosterwold'\n"
           "  stapel render stack.gpkg -o oordeel.svg --field verdict --width 1200\n"
           "\n"
           "Exit status: 0 success, 1 the picture could not be made (nothing is left\n"
           "behind), 2 usage error (also an unknown zone, field or format).\n");
}

enum {
    OPT_ZONE = 256,
    OPT_FIELD,
    OPT_WIDTH,
    OPT_TITLE,
    OPT_OVERWRITE,
    OPT_PROGRESS,
};

static const char *const valid_fields[] = {"n_themes", "n_claims", "verdict"};

/* The footer date from SOURCE_DATE_EPOCH (reproducible builds) into buf:
 * EXIT_OK, with *date NULL when it is not set (today's date is used), or a
 * usage error when it is set but is not a number of seconds since 1970 (the
 * picture would silently not be reproducible; the specification asks for a
 * failure). */
static int source_date(char *buf, size_t size, const char **date)
{
    *date = NULL;
    const char *s = getenv("SOURCE_DATE_EPOCH");
    if (s == NULL || s[0] == '\0')
        return EXIT_OK;
    char *end = NULL;
    errno = 0;
    long long v = s[0] >= '0' && s[0] <= '9' ? strtoll(s, &end, 10) : -1;
    time_t t = (time_t)v;
    struct tm tm;
    if (v < 0 || errno != 0 || *end != '\0' || gmtime_r(&t, &tm) == NULL ||
        strftime(buf, size, "%Y-%m-%d", &tm) == 0)
        return cli_usage("render",
                         "SOURCE_DATE_EPOCH is '%s'; set it to a number of seconds since 1970 "
                         "(for 2026-01-01: 1767225600) or unset it",
                         s);
    *date = buf;
    return EXIT_OK;
}

/* Whether path names a picture render writes (.png, .svg or .pdf). */
static bool picture_name(const char *path)
{
    const char *ext = cli_extension(path);
    return ext != NULL && (strcasecmp(ext, ".png") == 0 || strcasecmp(ext, ".svg") == 0 ||
                           strcasecmp(ext, ".pdf") == 0);
}

static int render_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"zone", required_argument, NULL, OPT_ZONE},
        {"field", required_argument, NULL, OPT_FIELD},
        {"width", required_argument, NULL, OPT_WIDTH},
        {"title", required_argument, NULL, OPT_TITLE},
        {"overwrite", no_argument, NULL, OPT_OVERWRITE},
        {"quiet", no_argument, NULL, 'q'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shortopts[] = "o:qh";
    stapel_render_opts opts = STAPEL_RENDER_OPTS_INIT;
    const char *output = NULL, *input = NULL, *width_arg = NULL;
    bool quiet = false, force_progress = false;
    stapel_ctx *ctx = NULL;
    int rc = EXIT_OK;
    char date[32];

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if ((rc = cli_once("render", "-o/--output", &output, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_ZONE:
            /* Empty, most often an unset shell variable: as summary says. */
            if ((rc = cli_once_nonempty("render", "--zone", &opts.zone, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_FIELD:
            if ((rc = cli_once("render", "--field", &opts.field, optarg)) != EXIT_OK)
                goto done;
            /* Field names in any case, as SQL takes column names. */
            opts.field =
                cli_keyword(optarg, valid_fields, sizeof valid_fields / sizeof valid_fields[0]);
            if (opts.field == NULL) {
                rc = cli_usage("render", "unknown field '%s'; choose n_themes, n_claims or verdict",
                               optarg);
                goto done;
            }
            break;
        case OPT_WIDTH: {
            if ((rc = cli_once("render", "--width", &width_arg, optarg)) != EXIT_OK)
                goto done;
            long v = 0;
            if (!cli_positive(optarg, &v) || v < 300 || v > 20000) {
                rc = cli_usage("render", "--width needs a number from 300 to 20000, got '%s'",
                               optarg);
                goto done;
            }
            opts.width = (int)v;
            break;
        }
        case OPT_TITLE:
            /* An empty title would leave a blank band, not drop it. */
            if ((rc = cli_once_nonempty("render", "--title", &opts.title, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_OVERWRITE:
            opts.overwrite = true;
            break;
        case 'q':
            quiet = true;
            break;
        case OPT_PROGRESS:
            force_progress = true;
            break;
        case 'h':
            render_help();
            goto done;
        default:
            rc = cli_bad_option("render", argv, shortopts, longopts);
            goto done;
        }
    }
    if (optind >= argc) {
        rc = cli_usage("render", "no GeoPackage given: stapel render OUT.gpkg -o MAP.png");
        goto done;
    }
    input = argv[optind];
    if (input[0] == '\0') { /* often an unset shell variable */
        rc = cli_usage("render", "the GeoPackage name is empty; give the stack GeoPackage");
        goto done;
    }
    /* "stapel render stack.gpkg map.png" (or the picture alone): the
     * picture without its -o. */
    for (int i = optind; output == NULL && i < argc; i++)
        if (picture_name(argv[i])) {
            const char *gpkg = "STACK.gpkg";
            if (i > optind)
                gpkg = argv[optind];
            else if (i + 1 < argc)
                gpkg = argv[i + 1];
            rc = cli_usage("render",
                           "'%s' is a picture, which is given with -o: 'stapel render %s -o %s'",
                           argv[i], gpkg, argv[i]);
            goto done;
        }
    if (optind + 1 < argc) {
        rc = cli_usage("render", "unexpected argument '%s' (one GeoPackage at a time)",
                       argv[optind + 1]);
        goto done;
    }
    if (output == NULL) {
        rc = cli_usage("render", "no picture given: use -o MAP.png, MAP.svg or MAP.pdf");
        goto done;
    }
    /* Check the picture's path before any work, a directory and the format
     * first: a name that cannot be a picture is a usage error whether or
     * not it exists. */
    if (output[0] == '\0') { /* an unset shell variable, most often */
        rc = cli_usage("render", "the output name is empty; give a file name ending in .png, "
                                 ".svg or .pdf");
        goto done;
    }
    struct stat sb;
    if (stat(output, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        rc = cli_usage("render", "'%s' is a directory; give a file name ending in .png, .svg or "
                                 ".pdf", output);
        goto done;
    }
    const char *ext = cli_extension(output);
    if (ext == NULL) {
        rc = cli_usage("render",
                       "'%s': no picture format in the name; end it in .png, .svg or .pdf", output);
        goto done;
    }
    if (!picture_name(output)) {
        rc = cli_usage("render", "'%s': unsupported picture format '%s'; use .png, .svg or .pdf",
                       output, ext);
        goto done;
    }
    /* Whether the picture exists is asked by stapel_render(), once the
     * GeoPackage, --zone and --width are checked, so that a mistake in them
     * is told first (as stack does with its sources). */
    const cli_source gpkg = {"the GeoPackage to render", input};
    rc = cli_check_output("render", output, true, NULL, "a file name ending in .png, .svg or .pdf",
                          &gpkg, 1);
    if (rc != EXIT_OK)
        goto done;
    if ((rc = source_date(date, sizeof date, &opts.date)) != EXIT_OK)
        goto done;

    ctx = cli_ctx_new("render", quiet);
    if (ctx == NULL) {
        rc = EXIT_FAIL;
        goto done;
    }
    cli_set_cancel_target(ctx);
    cli_progress prog = {.enabled = !quiet && (force_progress || isatty(STDERR_FILENO))};
    stapel_ctx_set_progress(ctx, cli_progress_cb, &prog);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    stapel_render_layout layout;
    stapel_status st = stapel_render(ctx, &layout, input, output, &opts);
    cli_progress_end(&prog);
    if (st != STAPEL_OK) {
        rc = cli_fail_output("render", ctx, st, output);
        if (st == STAPEL_EDATA) /* "nothing to draw" in an empty shard: say why */
            cli_warn_shard("render", ctx, input, "it holds");
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cli_warn_shard("render", ctx, input, "the map covers");
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    bool png = strcasecmp(ext, ".png") == 0;
    if (!quiet)
        fprintf(stderr, "stapel: render: %lld face%s drawn to %s (%d x %d %s) in %.1f s\n",
                (long long)layout.n_faces, cli_plural(layout.n_faces), output, layout.width,
                layout.height, png ? "px" : "pt", secs);
done:
    cli_set_cancel_target(NULL);
    stapel_ctx_free(ctx);
    return rc;
}

const cli_command cmd_render = {
    .name = "render",
    .summary = "draw the stack map of a GeoPackage as PNG, SVG or PDF",
    .run = render_run,
    .help = render_help,
    .catches_signals = true,
};
