/*
 * main.c - the stapel tool: the table of subcommands, global --help and
 * --version, "stapel help <command>", and the shared message helpers.
 */
#include "cli.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#ifdef STAPEL_MIMALLOC
#include <mimalloc.h>
#endif

static const cli_command *const commands[] = {
    &cmd_stack,
    &cmd_summary,
    &cmd_merge,
    &cmd_render,
    &cmd_info,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_help(FILE *out)
{
    fprintf(out, "Usage: stapel <command> [options]\n"
                 "\n"
                 "Turn spatial claim layers into stack maps: where claims overlap, conflict\n"
                 "or could be combined, per province and NOVEX area.\n"
                 "\n"
                 "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-10s %s\n", "help", "show the help of a command");
    fprintf(out, "\n"
                 "Options:\n"
                 "  -h, --help     show this help\n"
                 "  -V, --version  show the version of stapel and its libraries\n"
                 "\n"
                 "Run 'stapel help <command>' or 'stapel <command> --help' for details.\n");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "stapel: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static bool cli_quiet = false;

void cli_warn(const char *cmd, const char *fmt, ...)
{
    if (cli_quiet)
        return;
    va_list ap;
    fprintf(stderr, "stapel: %s: warning: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "stapel: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'stapel %s --help' for more information.\n", cmd);
    return EXIT_USAGE;
}

int cli_fail(const char *cmd, const stapel_ctx *ctx, stapel_status st)
{
    const char *msg = stapel_ctx_message(ctx);
    cli_error(cmd, "%s", msg[0] != '\0' ? msg : stapel_status_str(st));
    return st == STAPEL_EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

static void log_to_stderr(void *user, stapel_log_level level, const char *message)
{
    const char *cmd = user;
    if (level == STAPEL_LOG_WARN)
        cli_warn(cmd, "%s", message);
    else if (!cli_quiet)
        fprintf(stderr, "stapel: %s: %s\n", cmd, message);
}

stapel_ctx *cli_ctx_new(const char *cmd, bool quiet)
{
    stapel_ctx *ctx = NULL;
    stapel_status st = stapel_ctx_new(&ctx);
    if (st != STAPEL_OK) {
        cli_error(cmd, "cannot start: %s", stapel_status_str(st));
        return NULL;
    }
    cli_quiet = quiet;
    stapel_ctx_set_log(ctx, log_to_stderr, (void *)cmd);
    return ctx;
}

static stapel_ctx *volatile cancel_target = NULL;

static void on_signal(int sig)
{
    (void)sig;
    if (cancel_target != NULL)
        stapel_ctx_cancel(cancel_target);
}

void cli_set_cancel_target(stapel_ctx *ctx)
{
    cancel_target = ctx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        print_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
#ifdef STAPEL_MIMALLOC
        int mi = mi_version(); /* e.g. 209 for 2.0.9 */
        printf("stapel %s (%s, mimalloc %d.%d.%d)\n", stapel_version(), stapel_library_versions(),
               mi / 100, mi / 10 % 10, mi % 10);
#else
        printf("stapel %s (%s)\n", stapel_version(), stapel_library_versions());
#endif
        return EXIT_OK;
    }
    if (strcmp(arg, "help") == 0) {
        if (argc < 3) {
            print_help(stdout);
            return EXIT_OK;
        }
        const cli_command *c = find_command(argv[2]);
        if (c == NULL) {
            fprintf(stderr, "stapel: help: unknown command '%s'\n"
                            "Try 'stapel --help' for the list of commands.\n",
                    argv[2]);
            return EXIT_USAGE;
        }
        c->help();
        return EXIT_OK;
    }
    if (arg[0] == '-') {
        fprintf(stderr, "stapel: unknown option '%s'\nTry 'stapel --help' for more information.\n",
                arg);
        return EXIT_USAGE;
    }
    const cli_command *c = find_command(arg);
    if (c == NULL) {
        fprintf(stderr, "stapel: unknown command '%s'\nTry 'stapel --help' for the list of commands.\n",
                arg);
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
