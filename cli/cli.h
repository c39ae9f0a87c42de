/*
 * cli.h - what the subcommands of the stapel tool share: the command table
 * entry, exit codes and message helpers.
 *
 * Messages go to stderr as "stapel: <command>: <message>". stdout is kept for
 * data and reports the user asked for.
 */
#ifndef STAPEL_CLI_H
#define STAPEL_CLI_H

#include "stapel.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,  /* the run failed */
    EXIT_USAGE = 2, /* the command line was wrong */
};

typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    void (*help)(void);                /* prints the full help to stdout */
    /* SIGINT, SIGTERM, SIGHUP and SIGQUIT cancel the run (main catches them
     * before the command starts; cli_set_cancel_target): a command that
     * writes a file, or one that may wait long on a source. Without it they
     * end the command the default way. */
    bool catches_signals;
} cli_command;

extern const cli_command cmd_info;
extern const cli_command cmd_stack;
extern const cli_command cmd_summary;
extern const cli_command cmd_merge;
extern const cli_command cmd_render;

/* "stapel: cmd: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "stapel: cmd: warning: message" on stderr, unless quiet. */
void cli_warn(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error: prints the message and a hint to --help; returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The hint alone ("Try 'stapel cmd --help' ..."), after a usage error's
 * message printed otherwise; returns EXIT_USAGE. */
int cli_usage_hint(const char *cmd);

struct option;

/* After getopt_long() returned '?' (opterr 0): says what was wrong with
 * the option as a usage error and returns EXIT_USAGE: a missing value ('-o'
 * at the end of the line, as "-o $OUT" with OUT unset gives it), a value
 * given to an option that takes none (--quiet=1), an abbreviation that fits
 * several options (--t), or an unknown option, with the one it is most
 * likely a slip of (--lyer: did you mean '--layer'?). optstring and
 * longopts are those given to getopt_long(). */
int cli_bad_option(const char *cmd, char *const argv[], const char *optstring,
                   const struct option *longopts);

/* The message of a failed engine call, printed as an error; returns EXIT_FAIL
 * (EXIT_USAGE for STAPEL_EINVAL). */
int cli_fail(const char *cmd, const stapel_ctx *ctx, stapel_status st);

/* cli_fail for a command that writes output: an interrupted run says only
 * "interrupted; 'output' was not written" (exit 1). */
int cli_fail_output(const char *cmd, const stapel_ctx *ctx, stapel_status st, const char *output);

/* A context with the CLI's log handler attached (warnings to stderr unless
 * quiet). Returns NULL after printing an error. */
stapel_ctx *cli_ctx_new(const char *cmd, bool quiet);

/* Attach the log handler of cli_ctx_new to ctx again, for cmd. */
void cli_ctx_log(stapel_ctx *ctx, const char *cmd);

/* A single-valued option: stores value in *slot, or, when *slot is already
 * set (the option was given before), prints a usage error naming the option
 * and both values and returns EXIT_USAGE. Returns EXIT_OK otherwise. Keep
 * *slot NULL until the option is seen (apply defaults after parsing). */
int cli_once(const char *cmd, const char *option, const char **slot, const char *value);

/* The word of words[0..n) that value spells, in any case of ASCII letters
 * ('CSV', 'Verdict'), as the word is written there; NULL when it spells
 * none. For options that take one of a few keywords. */
const char *cli_keyword(const char *value, const char *const *words, size_t n);

/* A --zone name as the output stores it: a ';' (which separates the names of
 * overlapping zones in the stack) written as ','. In place. */
void cli_zone_name(char *name);
/* cli_once() for an option whose value cannot be empty. */
int cli_once_nonempty(const char *cmd, const char *option, const char **slot, const char *value);

/* A whole number from 1 to INT_MAX written in digits only (no sign, no
 * spaces): true and *out, or false. */
bool cli_positive(const char *s, long *out);

/* "s" unless n is 1: "%lld face%s", n, cli_plural(n). */
static inline const char *cli_plural(long long n)
{
    return n == 1 ? "" : "s";
}

/* The extension of the file name in path (".gpkg"), or NULL when it has
 * none. */
const char *cli_extension(const char *path);

/* A file a command reads, for cli_check_output(): what names it in
 * messages ("the source of --layer water", "the --rules file", "one of the
 * parts"); path is what the user gave, possibly with "|layername=NAME", or a
 * database or "/vsi" name (not a file, never compared: stapel_source_is_file). */
typedef struct cli_source {
    const char *what;
    const char *path;
} cli_source;

/* Checks the output path before any work, so that a long run does not end
 * in a refusal, and nothing a user has is lost:
 * - empty, a directory, or (for a GeoPackage output, ext ".gpkg") a name not
 *   ending in ext, case-insensitively: a usage error (EXIT_USAGE);
 * - the same file as one of the sources (device and inode; for a shapefile
 *   source also its .shp/.shx/.dbf/.prj/.cpg): EXIT_USAGE;
 * - existing, without overwrite: EXIT_FAIL;
 * - a parent directory that does not exist or cannot be written: EXIT_FAIL.
 * hint says what to give instead, e.g. "a file name ending in .gpkg".
 * Prints the message and returns the exit code; EXIT_OK when all is well. */
int cli_check_output(const char *cmd, const char *path, bool overwrite, const char *ext,
                     const char *hint, const cli_source *sources, size_t n_sources);

/* Text from the user's data (zone names, and messages quoting them) for a
 * terminal, in text.c: control characters shown escaped (\t, \n, \r,
 * \x1b; \u0085 for C1 controls, Unicode's line separators and bidi
 * controls), bytes that are not UTF-8 as \xNN; East Asian wide characters
 * take two columns, combining marks none, every other character one. For tables and messages only; CSV and JSON keep the exact text. */

/* The columns s takes when shown. */
size_t cli_text_width(const char *s);

/* Show s on out in at most max columns (SIZE_MAX: no limit): a longer text
 * is cut, never inside a character or an escape, and ends in an ellipsis
 * (one column). Returns the columns written. */
size_t cli_put_text(FILE *out, const char *s, size_t max);

/* cli_put_text, padded with spaces to exactly width columns. */
void cli_put_cell(FILE *out, const char *s, size_t width);

/* The progress display: pass cli_progress_cb and a cli_progress to
 * stapel_ctx_set_progress(). Shows nothing unless enabled (on a terminal, or
 * --progress; never with -q). Call cli_progress_end() when the call
 * returns, to end a phase cut short. */
typedef struct cli_progress {
    bool enabled;
    const char *phase; /* the phase shown; NULL before the first */
    int last;          /* the last tenth printed */
    bool broken;       /* a message ended the phase's line before it was done */
} cli_progress;
void cli_progress_cb(void *user, const char *phase, double fraction);
void cli_progress_end(cli_progress *p);

/* End the open progress line, if any, before a message: the phase then goes
 * on on a line of its own. cli_error, cli_warn and the log do it. */
void cli_progress_break(void);

/* Prints text and a newline on stdout, keeping the reason of a failed
 * write: a text larger than stdio's buffer goes straight to the file, and
 * the final flush has nothing left to fail on (main reports the error). */
void cli_put_line(const char *text);

/* Warns (unless quiet) when the GeoPackage at path is one shard of a split
 * run (its run_info has a shard row, with N > 1): "'P' is shard i/N of a split run:
 * COVERS only that shard's tiles; merge the shards first (stapel merge)",
 * covers saying what, e.g. "its numbers cover". Says nothing when the
 * run_info cannot be read. */
void cli_warn_shard(const char *cmd, stapel_ctx *ctx, const char *path, const char *covers);

/* After a run under the built-in rules whose warning of unrated pairs said
 * to add them to a copy of those rules (stapel_stack_stats
 * n_builtin_unrated), warns where the tool keeps that copy: the rules table
 * of output, and how to save it for --rules. Says nothing otherwise. */
void cli_warn_builtin_unrated(const char *cmd, const stapel_stack *stack, const char *output);

/* The context that SIGINT/SIGTERM cancel; NULL for none. A signal that came
 * before (since main caught them) cancels ctx at once. A run that has not
 * stopped 3 s after the signal says so, and the next signal ends it. */
void cli_set_cancel_target(stapel_ctx *ctx);

/* Whether the run has gone past reading its sources (set by
 * cli_progress_cb, which a run gets also without --progress). */
extern volatile sig_atomic_t cli_past_reading;

#endif /* STAPEL_CLI_H */
