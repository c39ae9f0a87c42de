/*
 * cmd_merge.c - "stapel merge PARTS... -o OUT.gpkg": join the outputs of a
 * sharded run ("stapel stack --shard i/N") into one stack GeoPackage.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void merge_help(void)
{
    printf("Usage: stapel merge -o OUT.gpkg [--overwrite] [-q] PART.gpkg...\n"
           "\n"
           "Join the GeoPackages of a sharded run into one stack. Each part is written by\n"
           "'stapel stack --shard i/N' with the same inputs and options; every i from 1 to\n"
           "N must be there once. Parts whose run_info tables differ (other layers, zones,\n"
           "rules, CRS or tiling) are refused. Faces cut by shard borders are merged, and\n"
           "the conflicts and the zone summaries are computed again for the whole.\n"
           "\n"
           "Example, four shards with GNU parallel:\n"
           "  parallel stapel stack --shard {}/4 -o part{}.gpkg --layer ... ::: 1 2 3 4\n"
           "  stapel merge -o stack.gpkg part*.gpkg\n"
           "\n"
           "Options:\n"
           "  -o, --output OUT.gpkg  the GeoPackage to write: a name ending in .gpkg, not\n"
           "                         one of the parts; given once\n"
           "  --overwrite            replace OUT if it exists\n"
           "  -q, --quiet            no summary line\n"
           "  -h, --help             show this help\n");
}

static int merge_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"overwrite", no_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL;
    bool overwrite = false, quiet = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': {
            int rc = cli_once("merge", "-o/--output", &output, optarg);
            if (rc != EXIT_OK)
                return rc;
            break;
        }
        case 'w':
            overwrite = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            merge_help();
            return EXIT_OK;
        default:
            return cli_usage("merge", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (output == NULL)
        return cli_usage("merge", "no output given: use -o OUT.gpkg");
    if (optind >= argc)
        return cli_usage("merge", "no parts given");
    /* Check the output before the parts are read, and refuse to write over
     * one of them. */
    size_t n_parts = (size_t)(argc - optind);
    cli_source *parts = calloc(n_parts, sizeof *parts);
    if (parts == NULL) {
        cli_error("merge", "out of memory");
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < n_parts; i++)
        parts[i] = (cli_source){"one of the parts", argv[optind + (int)i]};
    int out_rc = cli_check_output("merge", output, overwrite, ".gpkg",
                                  "a file name ending in .gpkg", parts, n_parts);
    free(parts);
    if (out_rc != EXIT_OK)
        return out_rc;
    stapel_ctx *ctx = cli_ctx_new("merge", quiet);
    if (ctx == NULL)
        return EXIT_FAIL;
    cli_set_cancel_target(ctx);
    stapel_stack *stack = NULL;
    int rc = EXIT_OK;
    stapel_status st =
        stapel_stack_merge(ctx, &stack, (const char *const *)(argv + optind), (size_t)(argc - optind));
    if (st == STAPEL_OK)
        st = stapel_stack_write(ctx, stack, output, overwrite ? STAPEL_WRITE_OVERWRITE : 0);
    if (st != STAPEL_OK) {
        rc = cli_fail("merge", ctx, st);
    } else if (!quiet) {
        stapel_stack_stats s = stapel_stack_get_stats(stack);
        fprintf(stderr, "stapel: merge: %d parts joined; %lld faces written to %s\n",
                argc - optind, (long long)s.n_faces, output);
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
};
