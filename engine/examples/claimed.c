/*
 * claimed.c - libstapel in a program of its own: stack claim layers in
 * memory, split by province, and print how much of each province is claimed
 * and how much of it is in conflict. docs/LIBRARY.md walks through it.
 *
 *     claimed PROVINCES THEME=SOURCE [THEME=SOURCE ...]
 *
 * Build against an installed libstapel:
 *     cc claimed.c -o claimed $(pkg-config --cflags --libs stapel)
 */
#include <stapel.h>

#include <stdio.h>
#include <string.h>

static void on_log(void *user, stapel_log_level level, const char *message)
{
    (void)user;
    fprintf(stderr, "%s: %s\n", level == STAPEL_LOG_WARN ? "warning" : "note", message);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: claimed PROVINCES THEME=SOURCE [THEME=SOURCE ...]\n");
        return 2;
    }
    stapel_ctx *ctx = NULL;
    if (stapel_ctx_new(&ctx) != STAPEL_OK) {
        fprintf(stderr, "claimed: out of memory\n");
        return 1;
    }
    stapel_ctx_set_log(ctx, on_log, NULL);

    /* The job: the defaults (EPSG:28992, a 1 mm grid, one thread per core,
     * the built-in NOVEX rules), the provinces named by their field 'naam',
     * and one claim layer per argument. */
    stapel_job *job = NULL;
    stapel_stack *stack = NULL;
    stapel_status st = stapel_job_new(ctx, &job, NULL);
    if (st == STAPEL_OK)
        st = stapel_job_set_zones(ctx, job, STAPEL_ZONE_PROVINCE, argv[1], "naam");
    for (int i = 2; i < argc && st == STAPEL_OK; i++) {
        char theme[64];
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof theme) {
            fprintf(stderr, "claimed: '%s' is not THEME=SOURCE\n", argv[i]);
            stapel_job_free(job);
            stapel_ctx_free(ctx);
            return 2;
        }
        memcpy(theme, argv[i], (size_t)(eq - argv[i]));
        theme[eq - argv[i]] = '\0';
        st = stapel_job_add_layer(ctx, job, theme, eq + 1, NULL);
    }

    /* Read, repair, reproject and overlay; nothing is written to disk. */
    if (st == STAPEL_OK)
        st = stapel_stack_build(ctx, &stack, job);
    if (st != STAPEL_OK) {
        /* The message names the file, layer and feature at fault. */
        fprintf(stderr, "claimed: %s\n", stapel_ctx_message(ctx));
        stapel_job_free(job);
        stapel_ctx_free(ctx);
        return 1;
    }

    stapel_stack_stats stats = stapel_stack_get_stats(stack);
    printf("%lld claims, %lld faces\n", (long long)stats.n_claims, (long long)stats.n_faces);
    const stapel_summary *sum = stapel_stack_summary(stack);
    printf("%-24s %12s %12s %8s %12s\n", "province", "area_km2", "claimed_km2", "ratio",
           "conflict_km2");
    for (size_t i = 0; i < sum->n_zones; i++) {
        const stapel_zone_row *z = &sum->zones[i];
        if (strcmp(z->zone_type, "novex") == 0)
            continue;
        printf("%-24s %12.3f %12.3f %8.3f %12.3f\n", z->zone, z->area_m2 / 1e6, z->claimed_m2 / 1e6,
               z->claim_ratio, z->conflict_m2 / 1e6);
    }

    stapel_stack_free(stack);
    stapel_job_free(job);
    stapel_ctx_free(ctx);
    return 0;
}
