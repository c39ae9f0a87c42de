/*
 * cmd_stack.c - "stapel stack": read claim and zone layers, compute the stack
 * and write the GeoPackage. Parses its options (docs/USER_GUIDE.md),
 * shows progress on a terminal or with --progress, and ends with one summary
 * line.
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

static void stack_help(void)
{
    /* The text as it prints, a line of source a line of output. */
    /* clang-format off */
    printf(
        "Usage: stapel stack -o OUT.gpkg [options] --layer THEME=SOURCE [--layer THEME=SOURCE ...]\n"
        "\n"
        "Overlay claim layers into a stack map: a planar partition of the claimed land\n"
        "into faces, each tagged with its claims, themes, province and NOVEX areas.\n"
        "\n"
        "Inputs:\n"
        "  --layer THEME=SOURCE    a claim layer of polygons; SOURCE is anything GDAL opens\n"
        "                          (a path, a URL, 'PG:...', 'postgresql://...',\n"
        "                          'WFS:https://...'); add '|layername=NAME' to pick a\n"
        "                          layer of a dataset with several. Repeat per layer.\n"
        "  --where THEME=SQL       an attribute filter on the layers of THEME: OGR SQL\n"
        "                          for files, the database's SQL for GeoPackage and\n"
        "                          PostGIS; one per theme (combine conditions with AND)\n"
        "  --provinces SOURCE      zone layer of provinces\n"
        "  --province-field FIELD  name field of --provinces (default: naam)\n"
        "  --novex SOURCE          zone layer of NOVEX areas (they may overlap)\n"
        "  --novex-field FIELD     name field of --novex (default: naam)\n"
        "  --rules FILE.csv        theme x theme verdicts: header theme_a,theme_b,verdict\n"
        "                          [,note]; verdict conflict, conditional or compatible;\n"
        "                          rows starting with '#' are comments\n"
        "                          (default: the built-in NOVEX matrix)\n"
        "\n"
        "Output and CRS:\n"
        "  -o, --output OUT.gpkg   the GeoPackage to write: a name ending in .gpkg, not\n"
        "                          one of the sources\n"
        "  --overwrite             replace OUT if it exists (without it stapel refuses)\n"
        "  --t_srs CRS             working and output CRS, projected and in metres\n"
        "                          (default: EPSG:28992)\n"
        "  --s_srs CRS             CRS of sources that have none (e.g. a shapefile\n"
        "                          without .prj) or a local one (LOCAL_CS); it does\n"
        "                          not override a CRS a source states\n"
        "\n"
        "Run:\n"
        "  --threads N             worker threads (default: one per core)\n"
        "  --tile-vertices N       target vertices per tile (default: 16000, at least 100)\n"
        "  --shard i/N             compute only shard i of N (1 <= i <= N) into OUT; join\n"
        "                          the N outputs with 'stapel merge'; only shard 1\n"
        "                          gives the warnings about the inputs\n"
        "  -q, --quiet             no warnings, progress or summary\n"
        "  -v, --verbose           also print the time of each phase\n"
        "  --progress              show progress even when stderr is not a terminal\n"
        "  -h, --help              show this help\n"
        "\n"
        "Every option that takes a value, except --layer (and --where, once per theme),\n"
        "is given at most once.\n"
        "\n"
        "Example:\n"
        "  stapel stack -o stack.gpkg --layer nature=natura2000.shp \\\n"
        "      --layer wind='energie.gpkg|layername=wind' --provinces provincies.gpkg\n"
        "\n"
        "Exit status: 0 success, 1 the run failed (no output is left behind), 2 usage error.\n");
    /* clang-format on */
}

typedef struct where_opt {
    char *theme;
    const char *sql;
} where_opt;

/* A finished stack is left for the exit of the process to take back:
 * freeing its millions of small blocks one by one took 0.26 s at scale 100
 * (5.1 million faces), after the output was complete. Kept here, the
 * memory stays reachable for leak checkers (valgrind, LeakSanitizer). */
/* Whether the value of --layer is itself a file whose name holds a '='
 * ('plan=2030.gpkg'), and what follows its first '=' is none: its theme
 * was left out, and the file would be opened as 'no such file'. */
static bool theme_left_out(const char *value)
{
    struct stat sb;
    const char *source = strchr(value, '=') + 1;
    return stat(value, &sb) == 0 && stat(source, &sb) != 0 && errno == ENOENT &&
           strstr(source, "|layername=") == NULL;
}

static stapel_stack *volatile left_for_exit; /* volatile: a store never read is not dropped */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum {
    OPT_LAYER = 256,
    OPT_WHERE,
    OPT_PROVINCES,
    OPT_PROVINCE_FIELD,
    OPT_NOVEX,
    OPT_NOVEX_FIELD,
    OPT_OVERWRITE,
    OPT_T_SRS,
    OPT_S_SRS,
    OPT_THREADS,
    OPT_TILE_VERTICES,
    OPT_PROGRESS,
    OPT_RULES,
    OPT_SHARD,
};

static int stack_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"layer", required_argument, NULL, OPT_LAYER},
        {"where", required_argument, NULL, OPT_WHERE},
        {"provinces", required_argument, NULL, OPT_PROVINCES},
        {"province-field", required_argument, NULL, OPT_PROVINCE_FIELD},
        {"novex", required_argument, NULL, OPT_NOVEX},
        {"novex-field", required_argument, NULL, OPT_NOVEX_FIELD},
        {"overwrite", no_argument, NULL, OPT_OVERWRITE},
        {"t_srs", required_argument, NULL, OPT_T_SRS},
        {"s_srs", required_argument, NULL, OPT_S_SRS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"tile-vertices", required_argument, NULL, OPT_TILE_VERTICES},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"rules", required_argument, NULL, OPT_RULES},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shortopts[] = "+o:qvh";
    /* Single-valued options stay NULL until given (cli_once refuses a second
     * one); defaults are applied after parsing. */
    const char *output = NULL, *provinces = NULL, *novex = NULL;
    const char *province_field = NULL, *novex_field = NULL, *rules_path = NULL;
    const char *threads_arg = NULL, *tile_vertices_arg = NULL, *shard_arg = NULL;
    bool overwrite = false, quiet = false, force_progress = false, verbose = false;
    stapel_stack_opts opts = STAPEL_STACK_OPTS_INIT;
    char **layers = calloc((size_t)argc, sizeof *layers);
    where_opt *wheres = calloc((size_t)argc, sizeof *wheres);
    cli_source *sources = calloc((size_t)argc + 3, sizeof *sources);
    char **layer_what = calloc((size_t)argc, sizeof *layer_what);
    size_t n_layers = 0, n_wheres = 0;
    int rc = EXIT_OK;
    stapel_ctx *ctx = NULL;
    stapel_job *job = NULL;
    stapel_stack *stack = NULL;
    stapel_rules *rules = NULL;
    if (layers == NULL || wheres == NULL || sources == NULL || layer_what == NULL) {
        cli_error("stack", "out of memory");
        rc = EXIT_FAIL;
        goto done;
    }

    opterr = 0;
    optind = 1;
    int c;
    long num;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if ((rc = cli_once("stack", "-o/--output", &output, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_LAYER:
            if (optarg[0] == '=') {
                rc = cli_usage("stack",
                               "--layer needs THEME=SOURCE, got '%s', whose theme is empty; "
                               "give one, e.g. --layer 'nature%s'",
                               optarg, optarg);
                goto done;
            }
            if (strchr(optarg, '=') == NULL) {
                /* A path alone (--layer natura2000.shp) lacks its theme; a
                 * word alone (--layer nature) its source. */
                if (strpbrk(optarg, "./:|\\") != NULL)
                    rc = cli_usage("stack",
                                   "--layer needs THEME=SOURCE, got '%s'; give its theme "
                                   "before it, e.g. --layer 'nature=%s'",
                                   optarg, optarg);
                else
                    rc = cli_usage("stack",
                                   "--layer needs THEME=SOURCE, got '%s'; give the source "
                                   "after the theme, e.g. --layer '%s=natura2000.shp'",
                                   optarg, optarg);
                goto done;
            }
            if (theme_left_out(optarg)) {
                rc = cli_usage("stack",
                               "--layer needs THEME=SOURCE: '%s' is a file, which was taken as "
                               "theme '%.*s' and source '%s', none such; give its theme, e.g. "
                               "--layer 'nature=%s'",
                               optarg, (int)strcspn(optarg, "="), optarg,
                               optarg + strcspn(optarg, "=") + 1, optarg);
                goto done;
            }
            size_t theme_len = strcspn(optarg, "=");
            if (strcspn(optarg, "./:|\\") < theme_len) {
                /* The part before '=' is no theme but a source: the theme was
                 * left out (--layer 'PG:dbname=x') or written after the
                 * source (--layer natura2000.shp=nature). */
                const char *after = optarg + theme_len + 1;
                bool plain_path = strcspn(optarg, "|:") >= theme_len;
                if (plain_path && after[0] != '\0' && strpbrk(after, "./:|\\=") == NULL)
                    rc = cli_usage("stack",
                                   "--layer needs THEME=SOURCE, the theme first, got '%s'; "
                                   "write --layer '%s=%.*s'",
                                   optarg, after, (int)theme_len, optarg);
                else
                    rc = cli_usage("stack",
                                   "--layer needs THEME=SOURCE, got '%s', which starts with a "
                                   "source; give its theme before it, e.g. --layer 'nature=%.*s'",
                                   optarg, (int)(after[0] == '\0' ? theme_len : strlen(optarg)),
                                   optarg);
                goto done;
            }
            layers[n_layers++] = optarg;
            break;
        case OPT_WHERE: {
            char *eq = strchr(optarg, '=');
            if (eq == NULL || eq == optarg) {
                rc = cli_usage("stack", "--where needs THEME=SQL, got '%s'", optarg);
                goto done;
            }
            if (eq[1 + strspn(eq + 1, " \t\n\r")] == '\0') {
                /* OGR takes an empty filter as none: all features, silently
                 * (an unset shell variable, say) */
                rc = cli_usage("stack", "--where for theme '%.*s' has an empty condition; give "
                               "one, or leave --where out",
                               (int)(eq - optarg), optarg);
                goto done;
            }
            *eq = '\0';
            for (size_t k = 0; k < n_wheres; k++)
                if (strcmp(wheres[k].theme, optarg) == 0) {
                    rc = cli_usage("stack",
                                   "--where given twice for theme '%s'; combine the conditions "
                                   "with AND",
                                   optarg);
                    goto done;
                }
            wheres[n_wheres].theme = optarg;
            wheres[n_wheres].sql = eq + 1;
            n_wheres++;
            break;
        }
        case OPT_PROVINCES:
            if ((rc = cli_once_nonempty("stack", "--provinces", &provinces, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_PROVINCE_FIELD:
            if ((rc = cli_once_nonempty("stack", "--province-field", &province_field, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_NOVEX:
            if ((rc = cli_once_nonempty("stack", "--novex", &novex, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_NOVEX_FIELD:
            if ((rc = cli_once_nonempty("stack", "--novex-field", &novex_field, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_OVERWRITE:
            overwrite = true;
            break;
        case OPT_T_SRS:
            if ((rc = cli_once_nonempty("stack", "--t_srs", &opts.t_srs, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_S_SRS:
            if ((rc = cli_once_nonempty("stack", "--s_srs", &opts.s_srs, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_THREADS:
            if ((rc = cli_once("stack", "--threads", &threads_arg, optarg)) != EXIT_OK)
                goto done;
            if (!cli_positive(optarg, &num)) {
                rc = cli_usage("stack", "--threads needs a number from 1 to 2147483647, got '%s'", optarg);
                goto done;
            }
            opts.threads = (int)num;
            break;
        case OPT_TILE_VERTICES:
            if ((rc = cli_once("stack", "--tile-vertices", &tile_vertices_arg, optarg)) != EXIT_OK)
                goto done;
            if (!cli_positive(optarg, &num) || num < 100) {
                rc = cli_usage("stack", "--tile-vertices needs a number from 100 to %d, got '%s'",
                               INT_MAX, optarg);
                goto done;
            }
            opts.tile_vertices = (size_t)num;
            break;
        case 'q':
            quiet = true;
            break;
        case 'v':
            verbose = true;
            break;
        case OPT_PROGRESS:
            force_progress = true;
            break;
        case OPT_RULES:
            if ((rc = cli_once_nonempty("stack", "--rules", &rules_path, optarg)) != EXIT_OK)
                goto done;
            break;
        case OPT_SHARD: {
            if ((rc = cli_once("stack", "--shard", &shard_arg, optarg)) != EXIT_OK)
                goto done;
            /* Digits only: no spaces or signs around either number. */
            int i = 0, n = 0;
            if (!stapel_shard_parse(optarg, &i, &n)) {
                rc = cli_usage("stack",
                               "--shard needs i/N with 1 <= i <= N, two whole numbers without "
                               "spaces or signs (N at most %d), got '%s'",
                               INT_MAX, optarg);
                goto done;
            }
            opts.shard_index = i;
            opts.shard_count = n;
            break;
        }
        case 'h':
            stack_help();
            goto done;
        default:
            rc = cli_bad_option("stack", argv, shortopts, longopts);
            goto done;
        }
    }
    if (quiet && verbose) {
        rc = cli_usage("stack", "-q and -v ask for opposite things; give one of them");
        goto done;
    }
    if (optind < argc) {
        /* "stapel stack out.gpkg --layer ...": the output without its -o.
         * Parsing stops at this word, so an -o after it is not seen yet. */
        const char *ext = cli_extension(argv[optind]);
        if (output == NULL && ext != NULL && strcasecmp(ext, ".gpkg") == 0)
            rc = cli_usage("stack",
                           "unexpected argument '%s'; the output is given with -o ('-o %s'), "
                           "claim layers with --layer",
                           argv[optind], argv[optind]);
        else
            rc =
                cli_usage("stack", "unexpected argument '%s' (claim layers are given with --layer)",
                          argv[optind]);
        goto done;
    }
    if (output == NULL && n_layers == 0) { /* 'stapel stack' alone */
        rc = cli_usage("stack", "no output and no claim layers given: stapel stack -o OUT.gpkg "
                                "--layer THEME=SOURCE [--layer THEME=SOURCE ...]");
        goto done;
    }
    if (output == NULL) {
        rc = cli_usage("stack", "no output given: use -o OUT.gpkg");
        goto done;
    }
    if (province_field != NULL && provinces == NULL) {
        rc = cli_usage("stack", "--province-field without --provinces; give the provinces "
                                "with --provinces SOURCE, or leave the field out");
        goto done;
    }
    if (novex_field != NULL && novex == NULL) {
        rc = cli_usage("stack", "--novex-field without --novex; give the NOVEX areas with "
                                "--novex SOURCE, or leave the field out");
        goto done;
    }
    if (province_field == NULL)
        province_field = "naam";
    if (novex_field == NULL)
        novex_field = "naam";
    if (n_layers == 0) {
        rc = cli_usage("stack", "no claim layers given: use --layer THEME=SOURCE");
        goto done;
    }
    for (size_t k = 0; k < n_wheres; k++) {
        bool used = false;
        size_t tl = strlen(wheres[k].theme);
        for (size_t i = 0; i < n_layers; i++)
            if (strncmp(layers[i], wheres[k].theme, tl) == 0 && layers[i][tl] == '=')
                used = true;
        if (!used) {
            rc = cli_usage("stack", "--where for theme '%s', which no --layer has",
                           wheres[k].theme);
            goto done;
        }
    }
    /* Check the output early, before any work, so a long run does not end in
     * a refusal, and refuse to write over any of the sources. Whether it
     * exists is left to the engine, which asks once it has opened the
     * sources: a mistake in them (exit 2) is told first. */
    size_t n_sources = 0;
    for (size_t i = 0; i < n_layers; i++) {
        const char *eq = strchr(layers[i], '=');
        size_t tl = (size_t)(eq - layers[i]);
        size_t size = tl + sizeof "the source of --layer ";
        layer_what[i] = malloc(size);
        if (layer_what[i] == NULL) {
            cli_error("stack", "out of memory");
            rc = EXIT_FAIL;
            goto done;
        }
        snprintf(layer_what[i], size, "the source of --layer %.*s", (int)tl, layers[i]);
        sources[n_sources++] = (cli_source){layer_what[i], eq + 1};
    }
    if (provinces != NULL)
        sources[n_sources++] = (cli_source){"the --provinces source", provinces};
    if (novex != NULL)
        sources[n_sources++] = (cli_source){"the --novex source", novex};
    if (rules_path != NULL)
        sources[n_sources++] = (cli_source){"the --rules file", rules_path};
    rc = cli_check_output("stack", output, true, ".gpkg", "a file name ending in .gpkg",
                          sources, n_sources);
    if (rc != EXIT_OK)
        goto done;

    ctx = cli_ctx_new("stack", quiet);
    if (ctx == NULL) {
        rc = EXIT_FAIL;
        goto done;
    }
    cli_set_cancel_target(ctx);
    cli_progress prog = {.enabled = !quiet && (force_progress || isatty(STDERR_FILENO))};
    stapel_ctx_set_progress(ctx, cli_progress_cb, &prog);

    stapel_status st = stapel_job_new(ctx, &job, &opts);
    for (size_t i = 0; i < n_layers && st == STAPEL_OK; i++) {
        char *eq = strchr(layers[i], '=');
        *eq = '\0';
        const char *theme = layers[i];
        const char *where = NULL;
        for (size_t k = 0; k < n_wheres; k++)
            if (strcmp(wheres[k].theme, theme) == 0)
                where = wheres[k].sql;
        st = stapel_job_add_layer(ctx, job, theme, eq + 1, where);
        *eq = '=';
    }
    /* Rules are checked before any work starts. A shard other than the
     * first leaves their warnings to shard 1, as the engine leaves those
     * about the sources (it counts them in its line of how many). */
    if (st == STAPEL_OK && rules_path != NULL) {
        bool hide = opts.shard_count > 0 && opts.shard_index > 1;
        if (hide)
            stapel_ctx_set_log(ctx, NULL, NULL);
        st = stapel_rules_read(ctx, &rules, rules_path);
        if (hide)
            cli_ctx_log(ctx, "stack");
        if (st == STAPEL_OK)
            st = stapel_job_set_rules(ctx, job, rules);
    }
    if (st == STAPEL_OK && provinces != NULL)
        st = stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE, provinces, province_field);
    if (st == STAPEL_OK && novex != NULL)
        st = stapel_job_set_zones(ctx, job, STAPEL_ZONE_NOVEX, novex, novex_field);
    if (st != STAPEL_OK) {
        rc = cli_fail("stack", ctx, st);
        goto done;
    }

    double t0 = now_seconds();
    st = stapel_stack_build_write(ctx, &stack, job, output,
                                  overwrite ? STAPEL_WRITE_OVERWRITE : 0);
    cli_progress_end(&prog);
    if (st != STAPEL_OK) {
        rc = cli_fail_output("stack", ctx, st, output);
        goto done;
    }
    cli_warn_builtin_unrated("stack", stack, output);
    stapel_stack_stats s = stapel_stack_get_stats(stack);
    if (verbose && !quiet)
        fprintf(stderr,
                "stapel: stack: %lld tile%s; read %.2f s, overlay %.2f s, merge %.2f s, "
                "then summary %.2f s alongside the stack layer %.2f s, other layers %.2f s\n",
                (long long)s.n_tiles, cli_plural(s.n_tiles), s.seconds_read, s.seconds_overlay, s.seconds_merge,
                s.seconds_summary, s.seconds_write_faces, s.seconds_write_rest);
    if (!quiet)
        fprintf(stderr,
                "stapel: stack: %lld claim%s read, %lld repaired, %lld skipped as empty; "
                "%lld face%s written to %s in %.1f s\n",
                (long long)s.n_read, cli_plural(s.n_read), (long long)s.n_repaired,
                (long long)s.n_empty, (long long)s.n_faces, cli_plural(s.n_faces), output, now_seconds() - t0);
done:
    cli_set_cancel_target(NULL);
    if (rc == 0) {
        left_for_exit = stack;
        stack = NULL;
    }
    stapel_stack_free(stack);
    stapel_rules_free(rules);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
    for (size_t i = 0; layer_what != NULL && i < n_layers; i++)
        free(layer_what[i]);
    free(layer_what);
    free(sources);
    free(layers);
    free(wheres);
    return rc;
}

const cli_command cmd_stack = {
    .name = "stack",
    .summary = "overlay claim layers into a stack map GeoPackage",
    .run = stack_run,
    .help = stack_help,
    .catches_signals = true,
};
