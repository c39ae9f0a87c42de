/*
 * cmd_merge.c - "stapel merge PARTS... -o OUT.gpkg": join the outputs of a
 * sharded run ("stapel stack --shard i/N") into one stack GeoPackage.
 *
 * Like stack, it refuses an output that is one of its inputs: the parts, and
 * the sources of the run that made them (their run_info's layer, zone and
 * rules rows), as far as those are files that exist here.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void merge_help(void)
{
    printf("Usage: stapel merge -o OUT.gpkg [--overwrite] [--threads N] [-q | -v] [--progress]\n"
           "                    PART.gpkg...\n"
           "\n"
           "Join the GeoPackages of a sharded run into one stack. Each part is written by\n"
           "'stapel stack --shard i/N' with the same inputs and options; every i from 1 to\n"
           "N must be there once. Parts whose run_info tables differ (other layers, zones,\n"
           "rules, CRS, input data or tiling) are refused, and so are damaged parts. Faces\n"
           "cut by shard borders are merged, and the conflicts and the zone summaries are\n"
           "computed again for the whole. The parts are read side by side, one per thread.\n"
           "\n"
           "Example, four shards with GNU parallel on one machine (-q keeps the quotes\n"
           "of a --layer 'THEME=FILE|layername=NAME', which a shell would take for a pipe):\n"
           "  parallel -q stapel stack --shard {}/4 --threads 1 -o part{}.gpkg \\\n"
           "      --layer ... ::: 1 2 3 4\n"
           "  stapel merge -o stack.gpkg part*.gpkg\n"
           "\n"
           "Options:\n"
           "  -o, --output OUT.gpkg  the GeoPackage to write: a name ending in .gpkg, not\n"
           "                         one of the parts nor a source of their run; given once\n"
           "  --overwrite            replace OUT if it exists\n"
           "  --threads N            worker threads (default: one per core); the output is\n"
           "                         the same for any N\n"
           "  -q, --quiet            no warnings, progress or summary line\n"
           "  -v, --verbose          also print the time of each phase\n"
           "  --progress             show progress even when stderr is not a terminal\n"
           "  -h, --help             show this help\n"
           "\n"
           "Exit status: 0 success, 1 the merge failed (no output is left behind), 2 usage\n"
           "error.\n");
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The files a merge must not write over, for cli_check_output(). */
typedef struct input_list {
    cli_source *v;
    char **owned; /* the strings of v, two an entry */
    size_t n, cap;
} input_list;

static void inputs_free(input_list *l)
{
    for (size_t i = 0; i < 2 * l->n; i++)
        free(l->owned[i]);
    free(l->owned);
    free(l->v);
}

static char *copy_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Adds the file path (its first path_len bytes), described by what; both
 * are copied. False when out of memory. */
static bool inputs_add(input_list *l, const char *what, const char *path, size_t path_len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 16 : 2 * l->cap;
        cli_source *v = realloc(l->v, cap * sizeof *v);
        if (v != NULL)
            l->v = v;
        char **owned = realloc(l->owned, 2 * cap * sizeof *owned);
        if (owned != NULL)
            l->owned = owned;
        if (v == NULL || owned == NULL)
            return false;
        l->cap = cap;
    }
    char *w = copy_n(what, strlen(what)), *p = copy_n(path, path_len);
    if (w == NULL || p == NULL) {
        free(w);
        free(p);
        return false;
    }
    l->owned[2 * l->n] = w;
    l->owned[2 * l->n + 1] = p;
    l->v[l->n++] = (cli_source){w, p};
    return true;
}

/* dir (dir_len bytes of it), '/' and path, added as inputs_add does. */
static bool inputs_add_joined(input_list *l, const char *what, const char *dir, size_t dir_len,
                              const char *path)
{
    char *joined = malloc(dir_len + strlen(path) + 2);
    if (joined == NULL)
        return false;
    memcpy(joined, dir, dir_len);
    joined[dir_len] = '/';
    memcpy(joined + dir_len + 1, path, strlen(path) + 1);
    bool ok = inputs_add(l, what, joined, strlen(joined));
    free(joined);
    return ok;
}

/* The parts, then (with sources) the sources that each part's run_info
 * records (claim layers, zone layers, a rules file). Those paths are as the
 * user gave them to stack, in the directory stack ran in (the run_info's
 * directory row, which parts of older stapels lack): a relative one is
 * taken from that directory, from the current one and from the part's, and
 * one that does not exist there is passed over by cli_check_output (it
 * cannot be destroyed). A part whose run_info cannot be read adds nothing:
 * the merge refuses it later. The parts are read without a log: the merge
 * reads them again and gives GDAL's warnings about them. False when out of
 * memory. */
static bool merge_inputs(stapel_ctx *ctx, char **parts, size_t n_parts, bool sources, input_list *l)
{
    for (size_t i = 0; i < n_parts; i++)
        if (!inputs_add(l, "one of the parts", parts[i], strlen(parts[i])))
            return false;
    bool ok = true;
    stapel_ctx_set_log(ctx, NULL, NULL);
    for (size_t i = 0; i < n_parts && ok && sources; i++) {
        stapel_run_info *ri = NULL;
        if (stapel_run_info_read(ctx, &ri, parts[i]) != STAPEL_OK)
            continue;
        const char *run_dir = NULL;
        for (size_t r = 0; r < ri->n_rows; r++)
            if (strcmp(ri->rows[r].key, "directory") == 0)
                run_dir = ri->rows[r].value;
        for (size_t r = 0; r < ri->n_rows && ok; r++) {
            const char *key = ri->rows[r].key, *value = ri->rows[r].value;
            const char *path = value, *option;
            int theme_len = 0;
            if (strcmp(key, "layer") == 0 && strchr(value, '=') != NULL) {
                path = strchr(value, '=') + 1;
                theme_len = (int)(path - 1 - value);
                option = "the source of --layer ";
            } else if (strcmp(key, "provinces") == 0) {
                option = "the --provinces source";
            } else if (strcmp(key, "novex") == 0) {
                option = "the --novex source";
            } else if (strcmp(key, "rules") == 0 && strcmp(value, "built-in NOVEX rules") != 0) {
                option = "the --rules file";
            } else {
                continue;
            }
            size_t size = strlen(option) + (size_t)theme_len + strlen(parts[i]) + 32;
            char *what = malloc(size);
            ok = what != NULL;
            if (ok) {
                snprintf(what, size, "%s%.*s in the run that made %s", option, theme_len, value,
                         parts[i]);
                ok = inputs_add(l, what, path, strlen(path));
            }
            /* A relative source is looked for where stack ran and, as
             * shards are often written there, next to the part. */
            const char *slash = strrchr(parts[i], '/');
            bool relative = path[0] != '/' && stapel_source_is_file(path);
            if (ok && relative && run_dir != NULL)
                ok = inputs_add_joined(l, what, run_dir, strlen(run_dir), path);
            if (ok && relative && slash != NULL)
                ok = inputs_add_joined(l, what, parts[i], (size_t)(slash - parts[i]), path);
            free(what);
        }
        stapel_run_info_free(ri);
    }
    cli_ctx_log(ctx, "merge");
    return ok;
}

/* A part and the file it is, to find one file given twice. */
typedef struct part_file {
    dev_t dev;
    ino_t ino;
    int arg; /* its position among the parts, from 0 */
} part_file;

static int cmp_part_file(const void *a, const void *b)
{
    const part_file *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return (x->arg > y->arg) - (x->arg < y->arg);
}

static char **sorted_names; /* for cmp_part_name */

static int cmp_part_name(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    int c = strcmp(sorted_names[x], sorted_names[y]);
    return c != 0 ? c : (x > y) - (x < y);
}

/* The same file given twice as a part (also spelled otherwise, or through
 * a link) is a mistake of the command line: exit 2, naming both spellings.
 * So is a part that is no file of its own (in an archive, /vsizip/…) given
 * twice alike. Parts that cannot be found are left to the merge, which
 * names them. */
static int merge_parts_once(char **parts, size_t n_parts)
{
    part_file *v = malloc((n_parts + 1) * sizeof *v);
    int *other = malloc((n_parts + 1) * sizeof *other);
    if (v == NULL || other == NULL) {
        free(v);
        free(other);
        cli_error("merge", "out of memory");
        return EXIT_FAIL;
    }
    size_t n = 0, n_other = 0;
    for (size_t i = 0; i < n_parts; i++) {
        struct stat sb;
        if (stat(parts[i], &sb) == 0 && S_ISREG(sb.st_mode))
            v[n++] = (part_file){sb.st_dev, sb.st_ino, (int)i};
        else if (!stapel_source_is_file(parts[i]))
            other[n_other++] = (int)i;
    }
    qsort(v, n, sizeof *v, cmp_part_file);
    sorted_names = parts;
    qsort(other, n_other, sizeof *other, cmp_part_name);
    int rc = EXIT_OK, first = -1, second = -1;
    for (size_t k = 1; k < n_other; k++) {
        /* of the names given twice, the one given twice first */
        if (strcmp(parts[other[k]], parts[other[k - 1]]) == 0 &&
            (second < 0 || other[k] < second)) {
            size_t j = k - 1;
            while (j > 0 && strcmp(parts[other[j - 1]], parts[other[k]]) == 0)
                j--;
            first = other[j];
            second = other[k];
        }
    }
    free(other);
    for (size_t k = 1; k < n; k++) {
        /* of all files given twice, the one given twice first */
        if (v[k].dev == v[k - 1].dev && v[k].ino == v[k - 1].ino &&
            (second < 0 || v[k].arg < second)) {
            size_t j = k - 1;
            while (j > 0 && v[j - 1].dev == v[k].dev && v[j - 1].ino == v[k].ino)
                j--;
            first = v[j].arg;
            second = v[k].arg;
        }
    }
    free(v);
    if (second >= 0) {
        if (strcmp(parts[first], parts[second]) == 0)
            rc = cli_usage("merge", "the part '%s' is given twice; give each part once",
                           parts[first]);
        else
            rc = cli_usage("merge",
                           "the part '%s' is given twice (also as '%s'); give each part once",
                           parts[first], parts[second]);
    }
    return rc;
}

enum {
    OPT_OVERWRITE = 256,
    OPT_PROGRESS,
    OPT_THREADS,
};

static int merge_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"overwrite", no_argument, NULL, OPT_OVERWRITE},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"progress", no_argument, NULL, OPT_PROGRESS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char shortopts[] = "o:qvh";
    const char *output = NULL, *threads_arg = NULL;
    int threads = 0;
    bool overwrite = false, quiet = false, verbose = false, force_progress = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'o': {
            int rc = cli_once("merge", "-o/--output", &output, optarg);
            if (rc != EXIT_OK)
                return rc;
            break;
        }
        case OPT_OVERWRITE:
            overwrite = true;
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
        case OPT_THREADS: {
            int rc = cli_once("merge", "--threads", &threads_arg, optarg);
            if (rc != EXIT_OK)
                return rc;
            long v = 0;
            if (!cli_positive(optarg, &v))
                return cli_usage("merge", "--threads needs a number from 1 to 2147483647, got '%s'", optarg);
            threads = (int)v;
            break;
        }
        case 'h':
            merge_help();
            return EXIT_OK;
        default:
            return cli_bad_option("merge", argv, shortopts, longopts);
        }
    }
    if (output == NULL)
        return cli_usage("merge", "no output given: use -o OUT.gpkg");
    if (quiet && verbose)
        return cli_usage("merge", "-q and -v ask for opposite things; give one of them");
    if (optind >= argc)
        return cli_usage("merge", "no parts given");
    for (int i = optind; i < argc; i++)
        if (argv[i][0] == '\0') /* often an unset shell variable */
            return cli_usage("merge", "part %d of %d has an empty name; give its file",
                             i - optind + 1, argc - optind);
    char **parts = argv + optind;
    size_t n_parts = (size_t)(argc - optind);
    int once = merge_parts_once(parts, n_parts);
    if (once != EXIT_OK)
        return once;
    stapel_ctx *ctx = cli_ctx_new("merge", quiet);
    if (ctx == NULL)
        return EXIT_FAIL;
    /* Check the output before the parts are read, and refuse to write over
     * one of them or over a source of their run. Whether it exists is left
     * to the engine, which asks once the parts are known to be one run: a
     * missing or foreign part is told first. An output that does not exist
     * is no source: the parts' run_info need not be read for them (with
     * many parts, that took a third of their reading, before any progress
     * was shown). */
    input_list inputs = {0};
    int rc = EXIT_OK;
    struct stat ob;
    if (!merge_inputs(ctx, parts, n_parts, stat(output, &ob) == 0, &inputs)) {
        cli_error("merge", "out of memory");
        rc = EXIT_FAIL;
    } else {
        rc = cli_check_output("merge", output, true, ".gpkg", "a file name ending in .gpkg",
                              inputs.v, inputs.n);
    }
    inputs_free(&inputs);
    if (rc != EXIT_OK) {
        stapel_ctx_free(ctx);
        return rc;
    }
    cli_set_cancel_target(ctx);
    cli_progress prog = {.enabled = !quiet && (force_progress || isatty(STDERR_FILENO))};
    stapel_ctx_set_progress(ctx, cli_progress_cb, &prog);
    stapel_stack *stack = NULL;
    double t0 = now_seconds();
    stapel_status st =
        stapel_stack_merge_write(ctx, &stack, (const char *const *)parts, n_parts, threads, output,
                                 overwrite ? STAPEL_WRITE_OVERWRITE : 0);
    double t2 = now_seconds();
    cli_progress_end(&prog);
    if (st == STAPEL_OK)
        cli_warn_builtin_unrated("merge", stack, output);
    if (st != STAPEL_OK) {
        rc = cli_fail_output("merge", ctx, st, output);
    } else if (!quiet) {
        stapel_stack_stats s = stapel_stack_get_stats(stack);
        if (verbose)
            fprintf(stderr,
                    "stapel: merge: read %.2f s, merge %.2f s, then summary %.2f s alongside "
                    "the stack layer %.2f s, other layers %.2f s\n",
                    s.seconds_read, s.seconds_merge, s.seconds_summary, s.seconds_write_faces,
                    s.seconds_write_rest);
        fprintf(stderr, "stapel: merge: %zu part%s joined; %lld face%s written to %s in %.1f s\n",
                n_parts, cli_plural((long long)n_parts), (long long)s.n_faces,
                cli_plural(s.n_faces), output, t2 - t0);
    }
    cli_set_cancel_target(NULL);
    stapel_stack_free(stack);
    stapel_ctx_free(ctx);
    return rc;
}

const cli_command cmd_merge = {
    .name = "merge",
    .summary = "join the shards of a sharded stack run",
    .run = merge_run,
    .help = merge_help,
    .catches_signals = true,
};
