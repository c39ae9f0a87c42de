/*
 * internal.h - what the engine's source files share and the public header
 * does not show: the context layout, error helpers and small utilities.
 *
 * Only the engine sources include this. GEOS is used through its reentrant API
 * alone (GEOS_USE_ONLY_R_API is set by the build).
 */
#ifndef STAPEL_INTERNAL_H
#define STAPEL_INTERNAL_H

#include "stapel.h"

#include <geos_c.h>
#include <ogr_api.h>
#include <proj.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define STAPEL_MSG_MAX 1024

struct stapel_ctx {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *proj;
    char msg[STAPEL_MSG_MAX];
    char geos_msg[512]; /* last message from GEOS's error handler */
    stapel_log_fn log;
    void *log_user;
    stapel_progress_fn progress;
    void *progress_user;
    /* While span_phase is set, that phase's fractions are reported within
     * [span_lo, span_hi]: a step of a phase that has several. */
    const char *span_phase;
    double span_lo, span_hi;
    atomic_int cancelled;
    /* Worker contexts point here at their parent's flag, so that cancelling
     * the caller's context stops every thread of a run. */
    atomic_int *cancel_flag;
    /* The source and layer being opened or read on this context, for GDAL's
     * warnings (NULL: none; a layer NULL while the source is opened). */
    const char *reading_src, *reading_layer;
    /* While set, log lines are kept here instead of sent (a worker thread's
     * context has no log callback): see stapel__log_release(). */
    struct stapel__buf *held;
    /* GDAL's last warning as logged, and how many times in a row it came:
     * a driver may give the same one for every feature, or one that differs
     * only in a feature's number (gdal_varied: some did). */
    char gdal_last[STAPEL_MSG_MAX];
    size_t gdal_repeats;
    bool gdal_varied;
    /* The warnings GDAL gave about the source being read, when set: some
     * drivers parse a source more than once (a GeoJSON when it is opened
     * and again when it is read) and give the same warnings each time. */
    struct stapel__gdal_seen *gdal_seen;
    /* While hold_unclosed is set, GDAL's "Non closed ring detected"
     * warnings are kept back (how many, and the last) until the feature
     * they are about is seen: see stapel__gdal_unclosed(). */
    bool hold_unclosed;
    size_t gdal_unclosed;
    char gdal_unclosed_msg[256];
};

/* GDAL's warnings about one source, pass by pass (opening it, reading it):
 * a warning is said only when a pass gives it more often than an earlier
 * pass did, so a driver that parses a source again does not repeat itself. */
typedef struct stapel__gdal_seen {
    struct {
        char *msg;
        size_t before; /* the most times an earlier pass gave it */
        size_t now;    /* the times this pass gave it */
    } *v;
    size_t n, cap;
} stapel__gdal_seen;

/* End a pass over the source: what it gave counts as said. */
void stapel__gdal_seen_pass(stapel__gdal_seen *s);
void stapel__gdal_seen_free(stapel__gdal_seen *s);
/* to (overwritten) as a copy of from: to go on from the same passes with
 * another layer of the source. Out of memory, to is empty and false comes. */
bool stapel__gdal_seen_copy(stapel__gdal_seen *to, const stapel__gdal_seen *from);

/* v into b (emptied first), with the password of a PostgreSQL connection
 * string in it ("password=x", "password = 'x y'", a URI's
 * "postgresql://user:x@host" or "?password=x") written as ***: outputs
 * and messages are passed around, and a database password should not travel
 * with them. The same source is written the same way every time, so that a
 * merge still compares the run_info of shards. False when out of memory. */
struct stapel__buf;
bool stapel__without_password(struct stapel__buf *b, const char *v);

/* Whether the password of a PostgreSQL connection string v is written in
 * double quotes (password="x y"), which libpq does not take for quotes. */
bool stapel__password_double_quoted(const char *v);

/* Set the context message (printf-style) and return status. */
stapel_status stapel__fail(stapel_ctx *ctx, stapel_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the current message with a formatted subject ("file: layer x:")
 * and return status. */
stapel_status stapel__wrap(stapel_ctx *ctx, stapel_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear the message; every public entry point calls this first. */
void stapel__clear(stapel_ctx *ctx);

/* Refuse a NULL argument that a public call needs: the message "no <what>
 * given (NULL)" and STAPEL_EINVAL. Every public call that returns a status
 * starts by setting *out to NULL (when out is not NULL), returns
 * STAPEL_EINVAL for a NULL ctx (there is nowhere to put a message), clears
 * the message, then checks its out pointer and handles with this, before it
 * touches any of them. */
stapel_status stapel__null(stapel_ctx *ctx, const char *what);

/* The start of a public call that returns a status, as stapel__null says:
 * STAPEL__ENTER for one without an out pointer, STAPEL__ENTER_OUT for one
 * that makes *out. They return from the calling function on a NULL ctx or
 * out (as GDAL's VALIDATE_POINTER macros do). */
#define STAPEL__ENTER(ctx)                                                                         \
    do {                                                                                           \
        if ((ctx) == NULL)                                                                         \
            return STAPEL_EINVAL;                                                                  \
        stapel__clear(ctx);                                                                        \
    } while (0)
#define STAPEL__ENTER_OUT(ctx, out)                                                                \
    do {                                                                                           \
        if ((out) != NULL)                                                                         \
            *(out) = NULL;                                                                         \
        STAPEL__ENTER(ctx);                                                                        \
        if ((out) == NULL)                                                                         \
            return stapel__null((ctx), "out pointer");                                             \
    } while (0)

/* Send a formatted line to the log callback. */
void stapel__log(stapel_ctx *ctx, stapel_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Send the lines held in b (ctx->held of a job run on a worker thread) to
 * ctx's log, in the order they came, and empty b. */
void stapel__log_release(stapel_ctx *ctx, struct stapel__buf *b);

/* A log put in front of ctx's own for a while: it counts the warnings, and
 * passes every line on to the log it stands in front of (if any), but for
 * the warnings when hold is set. A read of rules counts its warnings; a
 * shard other than the first holds back its warnings about the inputs,
 * which shard 1 gives. Start and end on the same thread, with the lines
 * logged in between on ctx. */
typedef struct stapel__log_count {
    stapel_log_fn fn; /* the log stood in front of, put back by _end */
    void *user;
    size_t n_warnings;
    bool hold;
    bool on;
} stapel__log_count;
void stapel__log_count_start(stapel_ctx *ctx, stapel__log_count *c, bool hold);
/* Put ctx's log back; true when it was c (false for a second call, or for
 * a c not started). */
bool stapel__log_count_end(stapel_ctx *ctx, stapel__log_count *c);

/* Report progress of a phase. */
void stapel__progress(stapel_ctx *ctx, const char *phase, double fraction);
/* Report phase's fractions within [lo, hi] from now on (a step of the
 * phase, such as a parallel loop that reports 0 to 1); phase NULL ends it. */
void stapel__progress_span(stapel_ctx *ctx, const char *phase, double lo, double hi);

/* True once cancellation was requested. */
bool stapel__cancelled(const stapel_ctx *ctx);

/* strerror(err) in English, the language of the rest of every message,
 * whatever locale the host program has set (strerror follows its
 * LC_MESSAGES). Safe on any thread. Every message with the C library's
 * words for an error takes them from here. */
const char *stapel__strerror(int err);

/* The last GEOS error text on ctx, or "unknown GEOS error". */
const char *stapel__geos_error(const stapel_ctx *ctx);

/* Make sure GDAL's drivers are registered (once per process). */
void stapel__gdal_init(void);

/* Route GDAL's messages on this thread to ctx (warnings to the log, errors
 * kept for stapel__gdal_error()) instead of stderr. Pair with _pop. */
void stapel__gdal_push(stapel_ctx *ctx);
/* What GDAL said on another handler (level, number, text), said again to
 * the handler stapel__gdal_push pushed, as if GDAL said it now. */
void stapel__gdal_replay(int level, int num, const char *message);
void stapel__gdal_pop(void);

/* After feature f is read while ctx->hold_unclosed is set (NULL: the end
 * of the layer): whether a ring of its geometry closes in x and y, only at
 * another height (z), that GDAL warned of. GDAL's "Non closed ring detected" warnings held back
 * are matched with the rings of the features read that do not close:
 * those of rings open in height alone are dropped (the caller tells of the
 * feature in its own words), one is given now for each ring open in x or
 * y; warnings of features not read yet (a GeoJSON is parsed a piece at a
 * time) are held on; at the end of the layer the rest are dropped. */
bool stapel__gdal_unclosed(stapel_ctx *ctx, OGRFeatureH f);

/* Gives GDAL's "Non closed ring detected" warnings held back, as they
 * came. */
void stapel__gdal_unclosed_flush(stapel_ctx *ctx);

/* The last GDAL error message on this thread, or fallback. */
const char *stapel__gdal_error(const char *fallback);

/* PROJ, let onto the network (PROJ_NETWORK=ON), failed to fetch a grid:
 * after a few such failures it stops asking and leaves the grid's step out
 * without a word, so a transformation that needs it (ETRS89 to RD) moves
 * points some 100 m less than it should. GDAL's error handler of any thread
 * notes the first failure of the process since the last reset;
 * stapel__proj_network_failed() copies its message into buf. */
void stapel__proj_network_reset(void);
bool stapel__proj_network_failed(char *buf, size_t size);

/* A worker context for thread use: its own GEOS handle, sharing the parent's
 * cancel flag. Safe to call from any thread: it does not touch the parent's
 * message. Caller owns *out; free with stapel_ctx_free(). */
stapel_status stapel__ctx_worker(stapel_ctx *parent, stapel_ctx **out);

/* Whether c may be in a theme: an ASCII letter or digit, '_' or '-'. Not
 * isalnum(), which follows the program's locale: in a Latin-1 one it takes
 * bytes of other text for letters. */
static inline int stapel__ascii_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Whether a and b are the same text but for the case of ASCII letters. Not
 * strcasecmp(), which follows the program's locale: in a Turkish one 'I' is
 * no capital 'i', and "CONFLICT" or a field "FID" would not match. */
static inline bool stapel__ascii_case_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

/* stapel__ascii_case_equal over the first n bytes at most (as
 * strncasecmp() == 0, without the locale). */
static inline bool stapel__ascii_ncase_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] - 'A' + 'a') : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] - 'A' + 'a') : b[i];
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
    return true;
}

/* strdup that returns NULL on NULL input. Caller frees with free(). */
char *stapel__strdup(const char *s);

/* stapel__strdup without the white space (spaces, tabs, line breaks) around
 * s: a CRS pasted from gdalsrsinfo starts with a line break. */
char *stapel__strdup_trimmed(const char *s);

/* A growable array of bytes used as a string builder. */
typedef struct stapel__buf {
    char *data;
    size_t len, cap;
} stapel__buf;
bool stapel__buf_append(stapel__buf *b, const char *s, size_t n);
bool stapel__buf_puts(stapel__buf *b, const char *s);
bool stapel__buf_printf(stapel__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void stapel__buf_free(stapel__buf *b);

/* Appends a zone as --zone takes it, "TYPE:NAME" (type NULL: NAME alone),
 * quoted so that the quotes say where it ends and a shell user may paste it
 * as is: 'X'; a name that holds a "'" in double quotes, "it's", with a
 * backslash before each '"', '\\', '$' and '`' in it; but one that also
 * holds a '!', which an interactive bash expands within double quotes, in
 * single quotes with each "'" as '\'': 'it'\''s!'. The one rule of zone
 * names in messages: the lists and hints (stapel_zone_list_text), a --zone
 * value echoed (stapel_zone_quote_text). False when out of memory. */
bool stapel__zone_quote(stapel__buf *b, const char *type, const char *name);

/* The ends of the extended grapheme clusters (what a reader takes for one
 * character: a letter with its combining marks, an emoji sequence joined
 * by U+200D, a flag of two regional indicators) of the n bytes of UTF-8 at
 * s, as byte offsets: 0, then the end of each cluster, the last n. ends has
 * room for n + 1. A byte that is not UTF-8 is a cluster of its own. Returns
 * how many ends it wrote (1 for n == 0). (render.c) */
size_t stapel__grapheme_ends(const char *s, size_t n, size_t *ends);

/* t (UTF-8) when width(user, t) <= room; else its longest start that ends at
 * a grapheme cluster's end (stapel__grapheme_ends), without the spaces at its
 * end, followed by an ellipsis (U+2026), that is at most room wide (only the
 * ellipsis when none is). width measures a text and grows with it. Caller
 * frees; NULL when out of memory. (render.c) */
char *stapel__fit_text(const char *t, double room, double (*width)(void *user, const char *s),
                       void *user);

/* Sort 64-bit keys by their upper 32 bits, stably: an LSD radix sort, 8 bits
 * a pass, linear in n. Callers keep an index in the lower bits. tmp is
 * scratch space for n keys. */
void stapel__sort_hi32(uint64_t *keys, uint64_t *tmp, size_t n);

/* Sort a[0..n) of element type T with cmp (qsort's contract). Short arrays,
 * which the arrangement sorts by the million (pieces at a node, hot pixels
 * on a segment, edges around a node, claims of a face), go by insertion
 * without qsort's indirect calls; longer ones by qsort. */
#define STAPEL__SORT_SMALL(T, a, n, cmp)                                                           \
    do {                                                                                           \
        T *a_ = (a);                                                                               \
        size_t n_ = (n);                                                                           \
        if (n_ > 16) {                                                                             \
            qsort(a_, n_, sizeof *a_, cmp);                                                        \
        } else {                                                                                   \
            for (size_t i_ = 1; i_ < n_; i_++) {                                                   \
                T x_ = a_[i_];                                                                     \
                size_t j_ = i_;                                                                    \
                for (; j_ > 0 && cmp(&a_[j_ - 1], &x_) > 0; j_--)                                  \
                    a_[j_] = a_[j_ - 1];                                                           \
                a_[j_] = x_;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* FNV-1a hash of a string, for the string maps. */
uint64_t stapel__str_hash(const char *s);

/* A map of strings to indices: open addressing on stapel__str_hash, at most
 * half full, keys copied. A zeroed map is empty; free with
 * stapel__strmap_free(). */
typedef struct stapel__strmap {
    char **keys;
    uint32_t *vals;
    size_t cap, n;
} stapel__strmap;

/* The value of key, or, when m does not hold key, add it with the value next
 * and set *added. UINT32_MAX when out of memory. */
uint32_t stapel__strmap_get(stapel__strmap *m, const char *key, uint32_t next, bool *added);

/* The value of key in m, or UINT32_MAX when m does not hold it. */
uint32_t stapel__strmap_find(const stapel__strmap *m, const char *key);

/* Free the keys and tables of m and leave it empty. */
void stapel__strmap_free(stapel__strmap *m);

/* FNV-1a hash of a sequence of strings: start with STAPEL__HASH_INIT and
 * feed each string in turn. Each string is hashed with its terminating NUL,
 * so ("ab", "c") and ("a", "bc") differ. For fingerprints that are written to
 * files: the result is the same on every machine. */
#define STAPEL__HASH_INIT 0xcbf29ce484222325ull /* the 64-bit FNV offset basis */
uint64_t stapel__hash_more(uint64_t h, const char *s);

/* Give the finished temporary file tmp (next to path) the name path. With
 * overwrite an existing path is replaced; without it the step is atomic and
 * refuses a path that exists by now (it may have appeared since the check
 * before the work): STAPEL_EEXISTS, with a message naming path and
 * --overwrite. Other failures are STAPEL_EIO. On failure tmp is left for the
 * caller to remove. */
stapel_status stapel__publish(stapel_ctx *ctx, const char *tmp, const char *path, bool overwrite);

/* The temporary name of an output path, next to it: ".BASE.PID.N" and
 * suffix, N counting the calls in this process, so that two calls (two
 * threads writing one path) never share one (BASE cut short when the name
 * would be longer than a file system takes). Caller frees; NULL when out
 * of memory. */
char *stapel__temp_path(const char *path, const char *suffix);

/* A source string split into the dataset name and an optional layer name
 * ("PATH|layername=NAME"). Caller owns both strings; free with free(). */
stapel_status stapel__source_split(stapel_ctx *ctx, const char *source, char **dataset,
                                   char **layer);

#endif /* STAPEL_INTERNAL_H */
