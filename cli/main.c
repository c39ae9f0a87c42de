/*
 * main.c - the stapel tool: the table of subcommands, global --help and
 * --version, "stapel help <command>", and the shared message helpers.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef STAPEL_MIMALLOC
#include <mimalloc.h>
void cli_libstdcxx_first(void); /* oom.cc */
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

/* Print fmt to out as cli_put_text shows text: a message quotes names
 * from the data, and one of them must not break the message's line. */
static void put_message(FILE *out, const char *fmt, va_list ap)
{
    char small[1024];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    char *text = n >= 0 && (size_t)n >= sizeof small ? malloc((size_t)n + 1) : NULL;
    if (text != NULL)
        vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    /* A database password in what the user typed (a usage error quoting
     * a source) is shown as ***, as the engine's messages show it. */
    char *shown = n >= 0 ? stapel_source_shown(text != NULL ? text : small) : NULL;
    if (n >= 0)
        cli_put_text(out, shown != NULL ? shown : text != NULL ? text : small, SIZE_MAX);
    free(shown);
    free(text);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    cli_progress_break();
    fprintf(stderr, "stapel: %s: ", cmd);
    va_start(ap, fmt);
    put_message(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static bool cli_quiet = false;
static const char *cancel_cmd = "stack"; /* the command a cancel stops */

void cli_warn(const char *cmd, const char *fmt, ...)
{
    if (cli_quiet)
        return;
    va_list ap;
    cli_progress_break();
    fprintf(stderr, "stapel: %s: warning: ", cmd);
    va_start(ap, fmt);
    put_message(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_hint(const char *cmd)
{
    fprintf(stderr, "Try 'stapel %s --help' for more information.\n", cmd);
    return EXIT_USAGE;
}

/* After getopt_long() returned '?' (opterr 0): when the option is known
 * but its value is missing, as for '-o' at the end of the line ("-o $OUT"
 * with OUT unset), says "option '-o' needs a value" as a usage error and
 * returns EXIT_USAGE; else returns EXIT_OK. */
static int cli_missing_value(const char *cmd, char *const argv[], const char *optstring,
                             const struct option *longopts)
{
    if (optopt == 0) /* an unknown or ambiguous long option */
        return EXIT_OK;
    const char *arg = argv[optind - 1];
    if (strncmp(arg, "--", 2) == 0) {
        /* The long option typed (perhaps shortened) whose value is missing. */
        size_t n = strcspn(arg + 2, "=");
        for (const struct option *o = longopts; o->name != NULL; o++)
            if (o->flag == NULL && o->val == optopt && o->has_arg == required_argument &&
                strncmp(o->name, arg + 2, n) == 0)
                return cli_usage(cmd, "option '--%s' needs a value", o->name);
        return EXIT_OK;
    }
    const char *p = optopt < 256 ? strchr(optstring, optopt) : NULL;
    if (p != NULL && p[1] == ':')
        return cli_usage(cmd, "option '-%c' needs a value", optopt);
    return EXIT_OK;
}

/* Whether a and b are the same letter of a command or option name: case,
 * and '-' against '_' (--t-srs for --t_srs), do not count. */
static bool same_name_letter(char a, char b)
{
    a = a == '-' ? '_' : (char)tolower((unsigned char)a);
    b = b == '-' ? '_' : (char)tolower((unsigned char)b);
    return a == b;
}

/* The letters added, dropped, changed or swapped with the next to make the
 * first n bytes of typed into name (optimal string alignment distance,
 * letters compared by same_name_letter: --feild is one off --field);
 * SIZE_MAX for a word longer than any name here. */
static size_t name_distance(const char *typed, size_t n, const char *name)
{
    enum { LONGEST = 40 };
    size_t m = strlen(name);
    if (n > LONGEST || m > LONGEST)
        return SIZE_MAX;
    size_t d[LONGEST + 1][LONGEST + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (same_name_letter(typed[i - 1], name[j - 1]) ? 0 : 1);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && same_name_letter(typed[i - 1], name[j - 2]) &&
                same_name_letter(typed[i - 2], name[j - 1]) && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

/* Whether typed (its first n bytes) is near enough to name to be a slip of
 * it: at most one letter in three of the name off, and at least one, but
 * never as many as typed has (a word of two letters is no slip of any). */
static bool name_near(const char *typed, size_t n, const char *name, size_t *distance)
{
    size_t d = name_distance(typed, n, name);
    size_t most = strlen(name) / 3 > 1 ? strlen(name) / 3 : 1;
    *distance = d;
    return d <= most && d < n;
}

/* The command that typed is most likely a slip of, or NULL: one near it
 * (stak, Stack, sumary), or the one it is the start of (sum). */
static const char *command_hint(const char *typed)
{
    const char *best = NULL, *start = NULL;
    size_t best_d = SIZE_MAX, n = strlen(typed), starts = 0;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *name = commands[i]->name;
        size_t d;
        if (name_near(typed, n, name, &d) && d < best_d) {
            best = name;
            best_d = d;
        }
        if (n >= 2 && strncmp(name, typed, n) == 0) {
            start = name;
            starts++;
        }
    }
    return best != NULL ? best : starts == 1 ? start : NULL;
}

/* The long option whose name starts with the first n bytes of name, when
 * one does (exact, or the only one that starts so), as getopt_long takes
 * it; else NULL. */
static const struct option *long_option_named(const struct option *longopts, const char *name,
                                              size_t n)
{
    const struct option *found = NULL;
    size_t count = 0;
    for (const struct option *o = longopts; o->name != NULL; o++) {
        if (strncmp(o->name, name, n) != 0)
            continue;
        if (strlen(o->name) == n)
            return o;
        found = o;
        count++;
    }
    return count == 1 ? found : NULL;
}

int cli_bad_option(const char *cmd, char *const argv[], const char *optstring,
                   const struct option *longopts)
{
    int rc = cli_missing_value(cmd, argv, optstring, longopts);
    if (rc != EXIT_OK)
        return rc;
    /* A long option error leaves optind past its word; a short one in the
     * middle of a cluster (-xq) does not, so the word before may be another
     * option's. optopt names the option of a long one with a value it does
     * not take (--quiet=1 gives 'q'), and is 0 for an unknown one. */
    const char *arg = argv[optind - 1];
    const char *name = strncmp(arg, "--", 2) == 0 ? arg + 2 : NULL;
    size_t n = name != NULL ? strcspn(name, "=") : 0;
    const struct option *o = name != NULL ? long_option_named(longopts, name, n) : NULL;
    if (name != NULL && o != NULL && optopt != 0 && o->val == optopt && name[n] == '=')
        return cli_usage(cmd, "option '--%s' takes no value, got '%s'", o->name, arg);
    /* -o FILE to a command that prints (summary, info), as stack and
     * render take it. */
    bool asks_output = name == NULL ? optopt == 'o' : n >= 2 && strncmp("output", name, n) == 0;
    if (asks_output && long_option_named(longopts, "output", 6) == NULL)
        return cli_usage(cmd,
                         "%s takes no -o: it prints to standard output; save that with "
                         "'> FILE'",
                         cmd);
    if (name == NULL || (optopt != 0 && (o == NULL || o->val != optopt)))
        return cli_usage(cmd, "unknown option '-%c'", optopt);
    if (n == 0) /* --=x */
        return cli_usage(cmd, "unknown option '%s'", arg);
    size_t starts = 0;
    for (const struct option *p = longopts; p->name != NULL; p++)
        starts += strncmp(p->name, name, n) == 0;
    if (starts > 1) { /* --t: --t_srs, --threads or --tile-vertices */
        fprintf(stderr, "stapel: %s: option '--%.*s' is ambiguous; it may be", cmd, (int)n, name);
        size_t k = 0;
        for (const struct option *p = longopts; p->name != NULL; p++) {
            if (strncmp(p->name, name, n) != 0)
                continue;
            k++;
            const char *separator = k == 1 ? " " : k == starts ? " or " : ", ";
            fprintf(stderr, "%s--%s", separator, p->name);
        }
        fputc('\n', stderr);
        return cli_usage_hint(cmd);
    }
    /* --json, as info takes it, to a command that takes --format json */
    if (n == 4 && strncmp(name, "json", 4) == 0 && long_option_named(longopts, "format", 6) != NULL)
        return cli_usage(cmd, "unknown option '--json'; did you mean '--format json'?");
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (const struct option *p = longopts; p->name != NULL; p++) {
        size_t d;
        if (name_near(name, n, p->name, &d) && d < best_d) {
            best = p->name;
            best_d = d;
        }
    }
    if (best != NULL)
        return cli_usage(cmd, "unknown option '--%.*s'; did you mean '--%s'?", (int)n, name, best);
    return cli_usage(cmd, "unknown option '--%.*s'", (int)n, name);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "stapel: %s: ", cmd);
    va_start(ap, fmt);
    put_message(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return cli_usage_hint(cmd);
}

int cli_fail(const char *cmd, const stapel_ctx *ctx, stapel_status st)
{
    const char *msg = stapel_ctx_message(ctx);
    cli_error(cmd, "%s", msg[0] != '\0' ? msg : stapel_status_str(st));
    return st == STAPEL_EINVAL ? cli_usage_hint(cmd) : EXIT_FAIL;
}

int cli_fail_output(const char *cmd, const stapel_ctx *ctx, stapel_status st, const char *output)
{
    if (st != STAPEL_ECANCELLED)
        return cli_fail(cmd, ctx, st);
    cli_error(cmd, "interrupted; '%s' was not written", output);
    return EXIT_FAIL;
}

static void log_to_stderr(void *user, stapel_log_level level, const char *message)
{
    const char *cmd = user;
    if (level == STAPEL_LOG_WARN) {
        cli_warn(cmd, "%s", message);
    } else if (!cli_quiet) {
        cli_progress_break();
        fprintf(stderr, "stapel: %s: ", cmd);
        cli_put_text(stderr, message, SIZE_MAX);
        fputc('\n', stderr);
    }
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
    cancel_cmd = cmd;
    cli_ctx_log(ctx, cmd);
    return ctx;
}

void cli_ctx_log(stapel_ctx *ctx, const char *cmd)
{
    stapel_ctx_set_log(ctx, log_to_stderr, (void *)cmd);
}

bool cli_positive(const char *s, long *out)
{
    if (s[0] < '0' || s[0] > '9')
        return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > INT_MAX)
        return false;
    *out = v;
    return true;
}

void cli_zone_name(char *name)
{
    for (char *p = name; *p != '\0'; p++)
        if (*p == ';')
            *p = ',';
}

int cli_once(const char *cmd, const char *option, const char **slot, const char *value)
{
    if (*slot != NULL)
        return cli_usage(cmd, "%s given twice ('%s' and '%s'); give it once", option, *slot,
                         value);
    *slot = value;
    return EXIT_OK;
}

/* ASCII only, whatever the locale (strcasecmp follows LC_CTYPE). */
static bool same_ascii_fold(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z')
            ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z')
            cb += 'a' - 'A';
        if (ca != cb)
            return false;
        if (ca == '\0')
            return true;
    }
}

const char *cli_keyword(const char *value, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (same_ascii_fold(value, words[i]))
            return words[i];
    return NULL;
}

int cli_once_nonempty(const char *cmd, const char *option, const char **slot, const char *value)
{
    if (value[0] == '\0')
        return cli_usage(cmd, "%s is empty; give it a value", option);
    return cli_once(cmd, option, slot, value);
}

/* The extension of the last component of path (with its dot), or NULL. */
const char *cli_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    return dot != NULL && (slash == NULL || dot > slash) ? dot : NULL;
}

static bool is_file(const struct stat *a, const char *path)
{
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* Whether name cannot be a local file: a /vsi path, a 'PG:' string or one
 * that holds a URL. A name that merely starts with a driver's connection
 * prefix ('es:out.gpkg', which stapel_source_is_file does not take for a
 * file) can be: GDAL opens such a file, and the output is written to it. */
static bool not_local(const char *name)
{
    return !stapel_source_is_file(name) &&
           (strncmp(name, "/vsi", 4) == 0 || strncmp(name, "PG:", 3) == 0 ||
            strstr(name, "://") != NULL);
}

static const char *const shapefile_parts[] = {".shp", ".shx", ".dbf", ".prj", ".cpg"};
#define N_SHAPEFILE_PARTS (sizeof shapefile_parts / sizeof shapefile_parts[0])

/* Whether a GDAL virtual path (/vsizip/a.zip/x.shp, /vsisubfile/0_0,a.gpkg,
 * /vsigzip/...) reads the file out: the first of its paths, less the
 * prefixes, that names a file on disk. */
static bool vsi_reads(const struct stat *out, const char *name)
{
    /* the handlers that read a local file (not /vsimem/, /vsicurl/, ...) */
    static const char *const local[] = {"/vsizip/", "/vsigzip/", "/vsitar/", "/vsisubfile/",
                                        "/vsi7z/", "/vsirar/"};
    const char *p = name;
    while (strncmp(p, "/vsi", 4) == 0) {
        bool known = false;
        for (size_t i = 0; i < sizeof local / sizeof local[0] && !known; i++)
            known = strncmp(p, local[i], strlen(local[i])) == 0;
        if (!known)
            return false;
        bool subfile = strncmp(p, "/vsisubfile/", 12) == 0;
        p = strchr(p + 1, '/') + 1;
        if (subfile && strchr(p, ',') != NULL)
            p = strchr(p, ',') + 1; /* after the offset and length */
    }
    /* without '|layername=...', and with GDAL's {archive} form unwrapped */
    const char *bar = strstr(p, "|layername=");
    char *path = strndup(p, bar != NULL ? (size_t)(bar - p) : strlen(p));
    if (path != NULL && path[0] == '{' && strchr(path, '}') != NULL) {
        size_t n = (size_t)(strchr(path, '}') - path);
        memmove(path, path + 1, n - 1);
        path[n - 1] = '\0';
    }
    bool found = false;
    /* each prefix that ends before a '/' (an archive's members follow it) */
    for (char *end = path; path != NULL && !found; end++) {
        if (*end != '/' && *end != '\0')
            continue;
        char c = *end;
        *end = '\0';
        found = end > path && is_file(out, path);
        *end = c;
        if (c == '\0')
            break;
    }
    free(path);
    return found;
}

/* Refuses an output (out: its stat) that is the file of source, or for a
 * shapefile one of its sibling files. */
static int check_not_source(const char *cmd, const char *output, const struct stat *out,
                            const cli_source *src)
{
    const char *name = src->path;
    if (name != NULL && strncmp(name, "/vsi", 4) == 0 && vsi_reads(out, name))
        return cli_usage(cmd, "the output '%s' is read by %s ('%s'); write the output to "
                              "another file",
                         output, src->what, name);
    if (name == NULL || not_local(name))
        return EXIT_OK;
    const char *bar = strstr(name, "|layername=");
    size_t n = bar != NULL ? (size_t)(bar - name) : strlen(name);
    char *file = malloc(n + 8); /* room for a sibling's extension */
    if (file == NULL) {
        cli_error(cmd, "out of memory");
        return EXIT_FAIL;
    }
    memcpy(file, name, n);
    file[n] = '\0';
    int rc = EXIT_OK;
    if (is_file(out, file)) {
        rc = cli_usage(cmd, "the output '%s' is %s ('%s'); write the output to another file",
                       output, src->what, name);
        goto done;
    }
    char *ext = (char *)cli_extension(file);
    bool shapefile = false;
    for (size_t i = 0; ext != NULL && i < N_SHAPEFILE_PARTS; i++)
        shapefile = shapefile || strcasecmp(ext, shapefile_parts[i]) == 0;
    for (size_t i = 0; shapefile && i < N_SHAPEFILE_PARTS; i++) {
        for (int upper = 0; upper < 2; upper++) {
            for (size_t k = 0; k < 4; k++) {
                char ch = shapefile_parts[i][k];
                ext[k] = upper && ch != '.' ? (char)(ch - 'a' + 'A') : ch;
            }
            ext[4] = '\0';
            if (is_file(out, file)) {
                rc = cli_usage(cmd,
                               "the output '%s' is '%s', a file of the shapefile that is %s "
                               "('%s'); write the output to another file",
                               output, file, src->what, name);
                goto done;
            }
        }
    }
done:
    free(file);
    return rc;
}

int cli_check_output(const char *cmd, const char *path, bool overwrite, const char *ext,
                     const char *hint, const cli_source *sources, size_t n_sources)
{
    if (path == NULL || path[0] == '\0')
        return cli_usage(cmd, "the output name is empty; give %s", hint);
    /* GDAL reads URLs, databases and /vsi paths; the output is a file. */
    if (not_local(path))
        return cli_usage(cmd, "'%s' is not a local file; the output is written to a file: give %s",
                         path, hint);
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode))
        return cli_usage(cmd, "'%s' is a directory; give %s", path, hint);
    /* A name the file system cannot take fails the rename at the very end. */
    const char *base = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
    if (strlen(base) > NAME_MAX)
        return cli_usage(cmd, "the name '%s' is %zu bytes long; a file name may have %d at most",
                         base, strlen(base), NAME_MAX);
    /* '$NAME.gpkg' with NAME unset: a hidden file, written without a word. */
    if (base[0] == '.' && base[1] != '\0' && strchr(base + 1, '.') == NULL)
        return cli_usage(cmd,
                         "the output name '%s' is only an extension, which makes a hidden file "
                         "(an unset shell variable?); give %s",
                         path, hint);
    if (ext != NULL) {
        const char *dot = cli_extension(path);
        if (dot == NULL)
            return cli_usage(cmd, "'%s': no format in the name; the output is a GeoPackage, end it in %s",
                             path, ext);
        if (strcasecmp(dot, ext) != 0)
            return cli_usage(cmd, "'%s': unsupported output format '%s'; the output is a GeoPackage, end the name in %s",
                             path, dot, ext);
    }
    for (size_t i = 0; exists && i < n_sources; i++) {
        int rc = check_not_source(cmd, path, &sb, &sources[i]);
        if (rc != EXIT_OK)
            return rc;
    }
    /* A symbolic link to nothing takes the name too: the run would end in
     * "appeared while stapel was writing". */
    struct stat lb;
    if ((exists || lstat(path, &lb) == 0) && !overwrite) {
        cli_error(cmd, "'%s' exists; use --overwrite to replace it", path);
        return EXIT_FAIL;
    }
    /* The directory the output (and its temporary file) goes into. */
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir == NULL) {
        cli_error(cmd, "out of memory");
        return EXIT_FAIL;
    }
    memcpy(dir, slash == NULL ? "." : path, n);
    dir[n] = '\0';
    int rc = EXIT_OK;
    struct stat db;
    if (stat(dir, &db) != 0 && errno == ENOENT) {
        cli_error(cmd, "cannot create '%s': directory '%s' does not exist; create it first",
                  path, dir);
        rc = EXIT_FAIL;
    } else if (stat(dir, &db) != 0) {
        cli_error(cmd, "cannot create '%s': directory '%s': %s", path, dir, strerror(errno));
        rc = EXIT_FAIL;
    } else if (!S_ISDIR(db.st_mode)) {
        cli_error(cmd, "cannot create '%s': '%s' is not a directory", path, dir);
        rc = EXIT_FAIL;
    } else if (access(dir, W_OK) != 0) {
        cli_error(cmd, "cannot create '%s': directory '%s' is not writable (%s)", path, dir,
                  strerror(errno));
        rc = EXIT_FAIL;
    }
    free(dir);
    return rc;
}

void cli_warn_shard(const char *cmd, stapel_ctx *ctx, const char *path, const char *covers)
{
    stapel_run_info *ri = NULL;
    /* Read without a log: the command reads the file again and gives
     * GDAL's warnings about it then (or fails on it). */
    stapel_ctx_set_log(ctx, NULL, NULL);
    stapel_status st = stapel_run_info_read(ctx, &ri, path);
    cli_ctx_log(ctx, cmd);
    /* Shard 1/1 holds every tile: its faces, conflicts and summaries are
     * the whole run's. */
    if (st == STAPEL_OK && ri->shard_count > 1)
        cli_warn(cmd,
                 "'%s' is shard %d/%d of a split run: %s only that shard's tiles; merge the "
                 "shards first (stapel merge)",
                 path, ri->shard_index, ri->shard_count, covers);
    stapel_run_info_free(ri);
}

/* word as one word of a shell command the user may copy: as it is when it
 * holds only characters no shell treats specially, else in single quotes,
 * each "'" in it as '\'' ("my maps/out.gpkg" as 'my maps/out.gpkg').
 * Caller frees with free(); NULL when out of memory. */
static char *shell_word(const char *word)
{
    static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789_./:+,=@%-";
    size_t n = strlen(word);
    bool quoted = n == 0 || strspn(word, plain) != n;
    char *out = malloc(4 * n + 3), *o = out;
    if (out == NULL)
        return NULL;
    if (quoted)
        *o++ = '\'';
    for (const char *p = word; *p != '\0'; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    if (quoted)
        *o++ = '\'';
    *o = '\0';
    return out;
}

void cli_warn_builtin_unrated(const char *cmd, const stapel_stack *stack, const char *output)
{
    int64_t n = stapel_stack_get_stats(stack).n_builtin_unrated;
    if (n <= 0)
        return;
    /* The command is to be copied: a path with a space in it is quoted. */
    char *word = shell_word(output);
    cli_warn(cmd,
             "'%s' holds a copy of the built-in rules in its rules table: save it as CSV "
             "(ogr2ogr -f CSV rules.csv %s rules), add the unrated pair%s, and give it to "
             "stapel stack with --rules rules.csv",
             output, word != NULL ? word : output, n > 1 ? "s" : "");
    free(word);
}

static stapel_ctx *volatile cancel_target = NULL;
static volatile sig_atomic_t cancel_asked = 0;

static void say(const char *s)
{
    ssize_t n = write(STDERR_FILENO, s, strlen(s));
    (void)n;
}

/* A run that has not stopped 3 s after a cancel waits in GDAL for a source
 * that does not answer: a database query or a web request (a page of an
 * OGC API or WFS), which GDAL cannot stop half-way and which may last as
 * long as the server takes. Say so, and let the next signal quit at once
 * (the default action): a run still reading has written nothing. */
static void on_alarm(int sig)
{
    (void)sig;
    if (cancel_target == NULL || cli_past_reading) /* past the sources: it stops by itself */
        return;
    /* The run goes on after the handler: it may be about to read errno
     * from a call of its own, which write() must not change (stderr
     * closed: EBADF). */
    int saved_errno = errno;
    say("stapel: ");
    say(cancel_cmd);
    say(": interrupted, but still waiting for a source to answer (a database query or a web "
        "request, which GDAL cannot stop half-way); interrupt again to quit at once\n");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
    errno = saved_errno;
}

/* A signal that comes before the command has a context to cancel (while it
 * reads its options and checks its output, before any file is made) waits
 * in signal_came for cli_set_cancel_target, which cancels the context at
 * once: the run stops at its first check, as if interrupted then. It is
 * set before cancel_target is read, and cli_set_cancel_target sets
 * cancel_target before it reads it, so that a signal on another thread
 * between the two is seen by one of them. */
static volatile sig_atomic_t signal_came = 0;

static void on_signal(int sig)
{
    (void)sig;
    int saved_errno = errno; /* as in on_alarm */
    signal_came = 1;
    if (cancel_target != NULL) {
        stapel_ctx_cancel(cancel_target);
        if (!cancel_asked) {
            cancel_asked = 1;
            alarm(3);
        }
    }
    errno = saved_errno;
}

/* A signal ignored when stapel starts stays ignored: nohup ignores SIGHUP,
 * and a shell without job control (a script's 'stapel ... &') starts a
 * background command with SIGINT and SIGQUIT ignored, so that a Ctrl-C
 * meant for the script leaves it running. */
static void catch_unless_ignored(int sig, const struct sigaction *sa)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(sig, sa, NULL);
}

void cli_set_cancel_target(stapel_ctx *ctx)
{
    if (ctx == NULL)
        alarm(0);
    else
        cli_past_reading = 0;
    cancel_asked = 0;
    cancel_target = ctx;
    if (ctx != NULL && signal_came) {
        stapel_ctx_cancel(ctx);
        cancel_asked = 1;
        alarm(3);
    }
}

/* Installed by main before the command starts, so that no signal of the
 * kinds below can end a run the default way once it may have made a file. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_flags = 0;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Ctrl-C, kill, a closed terminal or ssh session, Ctrl-\: each stops
     * the run the same way, its temporary file removed. */
    catch_unless_ignored(SIGINT, &sa);
    catch_unless_ignored(SIGTERM, &sa);
    catch_unless_ignored(SIGHUP, &sa);
    /* A second Ctrl-\ quits at once, as it does elsewhere, should a phase
     * be slow to see the first. */
    sa.sa_flags = SA_RESETHAND;
    catch_unless_ignored(SIGQUIT, &sa);
}

static int stdout_errno; /* why the first write of cli_put_line failed */

void cli_put_line(const char *text)
{
    errno = 0;
    if ((fputs(text, stdout) == EOF || putchar('\n') == EOF) && stdout_errno == 0)
        stdout_errno = errno;
}

/* What summary, info and the help print must not be lost unsaid (a full
 * disk): a write error fails the command (rc 1 unless it failed already). A
 * reader that went away (| head) had what it wanted: that one is quiet. */
static int flush_stdout(const char *cmd, int rc)
{
    bool failed = ferror(stdout) != 0;
    errno = 0;
    failed = fflush(stdout) != 0 || failed;
    int err = errno != 0 ? errno : stdout_errno;
    /* A write larger than the buffer goes straight to the file and leaves
     * no errno behind (unless cli_put_line kept it): on a pipe or socket,
     * the reader went away. */
    struct stat so;
    bool reader_gone = err == EPIPE || (err == 0 && fstat(STDOUT_FILENO, &so) == 0 &&
                                        (S_ISFIFO(so.st_mode) || S_ISSOCK(so.st_mode)));
    if (failed && !reader_gone) {
        fprintf(stderr, "stapel: %s: cannot write to standard output%s%s\n", cmd,
                err != 0 ? ": " : "", err != 0 ? strerror(err) : "");
        if (rc == EXIT_OK)
            rc = EXIT_FAIL;
    }
    return rc;
}

/* A usage error of stapel itself, before any command: "stapel: message"
 * and the hint to the list of commands. */
static int top_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int top_usage(const char *fmt, ...)
{
    va_list ap;
    fputs("stapel: ", stderr);
    va_start(ap, fmt);
    put_message(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'stapel --help' for the list of commands.\n", stderr);
    return EXIT_USAGE;
}

/* "stapel stak", "stapel help sumary": says so, with the command meant
 * when the word is a slip of one. where is "" or "help: ". */
static int unknown_command(const char *where, const char *typed)
{
    const char *hint = command_hint(typed);
    if (hint != NULL)
        return top_usage("%sunknown command '%s'; did you mean '%s'?", where, typed, hint);
    return top_usage("%sunknown command '%s'", where, typed);
}

/* An option before the command (stapel -q stack ..., stapel --layer ...):
 * stapel itself takes only --help and --version; a command's options go
 * after it. */
static int option_before_command(int argc, char **argv)
{
    /* --versoin, --hlep: a slip of stapel's own options */
    static const char *const own[] = {"help", "version"};
    const char *arg = argv[1];
    /* --vers, --hel: the start of one of them (not taken as it, as a
     * command's options are: --vers is also the start of --verbose) */
    if (strncmp(arg, "--", 2) == 0)
        for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
            size_t d, n = strlen(arg + 2);
            if (name_near(arg + 2, n, own[i], &d) || (n >= 3 && strncmp(arg + 2, own[i], n) == 0))
                return top_usage("unknown option '%s'; did you mean '--%s'?", arg, own[i]);
        }
    for (int i = 2; i < argc; i++)
        if (find_command(argv[i]) != NULL)
            return top_usage("unknown option '%s'; a command's options go after the command: "
                             "'stapel %s %s ...'",
                             argv[1], argv[i], argv[1]);
    return top_usage("unknown option '%s'; the command comes first, its options after it: "
                     "'stapel <command> %s ...'",
                     argv[1], argv[1]);
}

/* GDAL and libpq wait for ever on a server that accepts a connection and
 * then sends nothing, or on a host that drops the packets: give up after a
 * time instead, unless the environment sets the wait. A server may take a
 * while to start a large answer, so a silence of 5 minutes is allowed. */
static void network_waits(void)
{
    setenv("GDAL_HTTP_CONNECTTIMEOUT", "30", 0);
    setenv("GDAL_HTTP_LOW_SPEED_TIME", "300", 0);
    setenv("PGCONNECT_TIMEOUT", "30", 0);
}

int main(int argc, char **argv)
{
    /* Messages are put together piece by piece (cli_put_text): unbuffered,
     * each piece would be a write of its own. Whole lines go out at once;
     * the progress display flushes its partial lines itself. */
    static char errbuf[BUFSIZ];
    setvbuf(stderr, errbuf, _IOLBF, sizeof errbuf);
    /* A reader of stderr or stdout that goes away (| grep -m1, | head)
     * must not kill a run half way and leave its temporary file: what is
     * written to it is lost, the run goes on. */
    signal(SIGPIPE, SIG_IGN);
    /* A file size limit (ulimit -f) would kill the run at the write that
     * passes it, leaving the temporary file behind: ignored, that write
     * fails (EFBIG) and the run says so and cleans up. */
    signal(SIGXFSZ, SIG_IGN);
    network_waits();
    /* GDAL reads a gzipped source (x.gml.gz) through /vsigzip/, which saves
     * what it learnt of the file as x.gml.gz.properties beside it: stapel
     * writes nothing into the user's data folder (it may be read-only or
     * shared). The user's own setting stands. */
    setenv("CPL_VSIL_GZIP_WRITE_PROPERTIES", "NO", 0);
#ifdef STAPEL_MIMALLOC
    cli_libstdcxx_first();
#endif
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        print_help(stdout);
        return flush_stdout("help", EXIT_OK);
    }
    if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
#ifdef STAPEL_MIMALLOC
        int mi = mi_version(); /* e.g. 209 for 2.0.9 */
        printf("stapel %s (%s, mimalloc %d.%d.%d)\n", stapel_version(), stapel_library_versions(),
               mi / 100, mi / 10 % 10, mi % 10);
#else
        printf("stapel %s (%s)\n", stapel_version(), stapel_library_versions());
#endif
        return flush_stdout("version", EXIT_OK);
    }
    if (strcmp(arg, "help") == 0) {
        /* help is listed as a command; 'stapel help --help' asks the same */
        if (argc < 3 || strcmp(argv[2], "help") == 0 || strcmp(argv[2], "-h") == 0 ||
            strcmp(argv[2], "--help") == 0) {
            print_help(stdout);
            return flush_stdout("help", EXIT_OK);
        }
        const cli_command *c = find_command(argv[2]);
        if (c == NULL)
            return unknown_command("help: ", argv[2]);
        c->help();
        return flush_stdout("help", EXIT_OK);
    }
    if (arg[0] == '-')
        return option_before_command(argc, argv);
    const cli_command *c = find_command(arg);
    if (c == NULL)
        return unknown_command("", arg);
    if (c->catches_signals)
        catch_signals();
    return flush_stdout(c->name, c->run(argc - 1, argv + 1));
}
