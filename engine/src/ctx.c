/*
 * ctx.c - the context: one GEOS handle and one PROJ context per stapel_ctx,
 * the message buffer every failure writes to, the log and progress callbacks
 * and the cancel flag. Also the small string helpers the engine shares.
 *
 * Invariant: every public call clears the message on entry, and every failure
 * leaves a message that names its subject.
 */
#include "internal.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <ctype.h>
#include <gdal.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

const char *stapel_version(void)
{
    return STAPEL_VERSION;
}

static char lib_versions[160];
static pthread_once_t lib_versions_once = PTHREAD_ONCE_INIT;

static void lib_versions_make(void)
{
    PJ_INFO pi = proj_info();
    char geos[32];
    snprintf(geos, sizeof geos, "%s", GEOSversion());
    geos[strcspn(geos, "-")] = '\0'; /* "3.11.1-CAPI-1.17.1" */
    snprintf(lib_versions, sizeof lib_versions, "GDAL %s, GEOS %s, PROJ %s",
             GDALVersionInfo("RELEASE_NAME"), geos, pi.version);
}

const char *stapel_library_versions(void)
{
    pthread_once(&lib_versions_once, lib_versions_make);
    return lib_versions;
}

const char *stapel_status_str(stapel_status status)
{
    switch (status) {
    case STAPEL_OK:
        return "success";
    case STAPEL_EINVAL:
        return "invalid argument";
    case STAPEL_ENOMEM:
        return "out of memory";
    case STAPEL_EIO:
        return "input/output error";
    case STAPEL_EDATA:
        return "unusable input data";
    case STAPEL_ECRS:
        return "coordinate reference system error";
    case STAPEL_EGEOS:
        return "geometry engine error";
    case STAPEL_EEXISTS:
        return "output exists";
    case STAPEL_ECANCELLED:
        return "cancelled";
    }
    return "unknown status";
}

static void geos_error_handler(const char *message, void *user)
{
    stapel_ctx *ctx = user;
    snprintf(ctx->geos_msg, sizeof ctx->geos_msg, "%s", message);
}

static void geos_notice_handler(const char *message, void *user)
{
    (void)message;
    (void)user;
}

static stapel_status ctx_alloc(stapel_ctx **out, bool with_proj)
{
    *out = NULL;
    stapel_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return STAPEL_ENOMEM;
    ctx->geos = GEOS_init_r();
    if (ctx->geos == NULL) {
        free(ctx);
        return STAPEL_EGEOS;
    }
    GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_error_handler, ctx);
    GEOSContext_setNoticeMessageHandler_r(ctx->geos, geos_notice_handler, ctx);
    if (with_proj) {
        ctx->proj = proj_context_create();
        if (ctx->proj == NULL) {
            GEOS_finish_r(ctx->geos);
            free(ctx);
            return STAPEL_ECRS;
        }
        proj_log_level(ctx->proj, PJ_LOG_NONE);
    }
    atomic_init(&ctx->cancelled, 0);
    ctx->cancel_flag = &ctx->cancelled;
    *out = ctx;
    return STAPEL_OK;
}

stapel_status stapel_ctx_new(stapel_ctx **out)
{
    if (out == NULL)
        return STAPEL_EINVAL;
    stapel__gdal_init();
    return ctx_alloc(out, true);
}

stapel_status stapel__ctx_worker(stapel_ctx *parent, stapel_ctx **out)
{
    stapel_status st = ctx_alloc(out, false);
    if (st != STAPEL_OK)
        return st;
    (*out)->cancel_flag = parent->cancel_flag;
    return STAPEL_OK;
}

void stapel_ctx_free(stapel_ctx *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->proj != NULL)
        proj_context_destroy(ctx->proj);
    GEOS_finish_r(ctx->geos);
    free(ctx);
}

const char *stapel_ctx_message(const stapel_ctx *ctx)
{
    return ctx == NULL ? "no context" : ctx->msg;
}

void stapel_ctx_set_log(stapel_ctx *ctx, stapel_log_fn fn, void *user)
{
    if (ctx == NULL)
        return;
    ctx->log = fn;
    ctx->log_user = user;
}

void stapel_ctx_set_progress(stapel_ctx *ctx, stapel_progress_fn fn, void *user)
{
    if (ctx == NULL)
        return;
    ctx->progress = fn;
    ctx->progress_user = user;
}

void stapel_ctx_cancel(stapel_ctx *ctx)
{
    if (ctx != NULL)
        atomic_store(ctx->cancel_flag, 1);
}

/* Worker contexts point at the caller's flag (stapel__ctx_worker), so this
 * clears the one flag every thread of a run reads. */
void stapel_ctx_cancel_clear(stapel_ctx *ctx)
{
    if (ctx != NULL)
        atomic_store(ctx->cancel_flag, 0);
}

bool stapel__cancelled(const stapel_ctx *ctx)
{
    return atomic_load(ctx->cancel_flag) != 0;
}

/* The "C" locale, made once and kept for the life of the process. */
static locale_t c_locale = (locale_t)0;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_make(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

const char *stapel__strerror(int err)
{
    pthread_once(&c_locale_once, c_locale_make);
    /* Without memory for the locale object: the host's language. */
    return c_locale != (locale_t)0 ? strerror_l(err, c_locale) : strerror(err);
}

void stapel__clear(stapel_ctx *ctx)
{
    ctx->msg[0] = '\0';
    ctx->geos_msg[0] = '\0';
}

/* Whether v[0..n) is the start of v or follows a separator of libpq's
 * key=value list (a space), of GDAL's "PG:" prefix, or of a URI's query. */
static bool key_starts(const char *v, const char *k)
{
    return k == v || k[-1] == ' ' || k[-1] == '\t' || k[-1] == '\n' || k[-1] == ':' ||
           k[-1] == '?' || k[-1] == '&';
}

/* The end of the password of a "password = x" whose value starts at p: a
 * quoted value to its closing quote, an unquoted one to a space or quote
 * (libpq wants a quote in an unquoted value escaped), or, in a URI's query
 * (uri), to the next parameter. */
static const char *password_end(const char *p, bool uri)
{
    /* libpq takes a '"' as part of a value: password="x y" is '"x' and a
     * key 'y"' it refuses, the whole of which is the password meant, an
     * apostrophe in it too ("it's x"); one not closed ends with the source
     * ('PG:...' in a message) */
    if (*p == '"') {
        const char *close = strchr(p + 1, '"');
        return close != NULL ? close + 1 : p + 1 + strcspn(p + 1, "'");
    }
    if (*p == '\'') {
        for (p++; *p != '\0' && *p != '\''; p++)
            if (*p == '\\' && p[1] != '\0')
                p++;
        return *p == '\'' ? p + 1 : p;
    }
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\'' &&
           !(uri && *p == '&') && strncmp(p, "|layername=", 11) != 0)
        p += *p == '\\' && p[1] != '\0' ? 2 : 1;
    return p;
}

/* The password of a URI's user information (postgresql://user:x@host),
 * as libpq finds it: the user information ends at the first '@' before any
 * '/'. Sets [*from, *to) to it and returns true when there is one. */
static bool uri_password(const char *scheme_end, const char **from, const char **to)
{
    const char *at = scheme_end + strcspn(scheme_end, "@/");
    if (*at != '@')
        return false;
    const char *colon = memchr(scheme_end, ':', (size_t)(at - scheme_end));
    if (colon == NULL)
        return false;
    *from = colon + 1;
    *to = at;
    return true;
}

/* The length of the URI scheme and "://" that start at p in v
 * ("postgresql://", "https://"), or 0 when none does. */
static size_t url_scheme(const char *v, const char *p)
{
    static const char more[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-.";
    if (!isalpha((unsigned char)*p) || (p != v && strchr(more, p[-1]) != NULL))
        return 0;
    size_t n = 1 + strspn(p + 1, more);
    return strncmp(p + n, "://", 3) == 0 ? n + 3 : 0;
}

/* The length of the name and '=' of a parameter of a URL's query that
 * holds a secret as a password does (an API key, an access token:
 * "?apikey=x"), starting at p, or 0. */
static size_t url_secret(const char *p)
{
    static const char *const keys[] = {"apikey", "api_key",      "api-key", "key",
                                       "token",  "access_token", "auth",    "secret"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t n = strlen(keys[i]);
        if (stapel__ascii_ncase_equal(p, keys[i], n) && p[n] == '=')
            return n + 1;
    }
    return 0;
}

/* The length of the name of a libpq parameter that holds a secret,
 * starting at p: "password", or "sslpassword" (the passphrase of the
 * client's key); 0 for none. */
static size_t password_key(const char *p)
{
    if (stapel__ascii_ncase_equal(p, "password", 8))
        return 8;
    return stapel__ascii_ncase_equal(p, "sslpassword", 11) ? 11 : 0;
}

bool stapel__password_double_quoted(const char *v)
{
    for (const char *p = v; *p != '\0'; p++) {
        size_t key = password_key(p);
        if (key == 0 || !key_starts(v, p))
            continue;
        const char *e = p + key;
        e += strspn(e, " \t\n");
        if (*e != '=')
            continue;
        e++;
        if (e[strspn(e, " \t\n")] == '"')
            return true;
    }
    return false;
}

bool stapel__without_password(stapel__buf *b, const char *v)
{
    b->len = 0;
    /* a URI's query starts at a '?' after its "scheme://" */
    const char *query = NULL;
    const char *p = v;
    if (!stapel__buf_puts(b, ""))
        return false;
    while (*p != '\0') {
        const char *from = NULL, *to = NULL, *rest = NULL;
        size_t scheme = url_scheme(v, p), key = password_key(p);
        if (scheme > 0) {
            const char *scheme_end = p + scheme;
            query = scheme_end + strcspn(scheme_end, "? \t|");
            query = *query == '?' ? query : NULL;
            if (uri_password(scheme_end, &from, &to))
                rest = to;
            else
                rest = scheme_end;
            if (from == NULL) {
                if (!stapel__buf_append(b, p, (size_t)(rest - p)))
                    return false;
                p = rest;
                continue;
            }
        } else if (query != NULL && p > query && (p[-1] == '?' || p[-1] == '&') &&
                   url_secret(p) > 0) {
            from = p + url_secret(p);
            to = password_end(from, true);
            rest = to;
        } else if (key > 0 && key_starts(v, p)) {
            const char *e = p + key;
            e += strspn(e, " \t\n");
            if (*e == '=') {
                e++;
                e += strspn(e, " \t\n");
                from = e;
                bool uri = query != NULL && p > query && (p[-1] == '?' || p[-1] == '&');
                to = password_end(e, uri);
                rest = to;
                /* written as "password=***" however it was spaced */
                if (!stapel__buf_append(b, p, key) || !stapel__buf_puts(b, "="))
                    return false;
                p = from;
            }
        }
        if (from != NULL) {
            if (!stapel__buf_append(b, p, (size_t)(from - p)) || !stapel__buf_puts(b, "***"))
                return false;
            p = rest;
            continue;
        }
        if (!stapel__buf_append(b, p, 1))
            return false;
        p++;
    }
    return true;
}

char *stapel_source_shown(const char *source)
{
    stapel__buf b = {0};
    if (source != NULL && stapel__without_password(&b, source))
        return b.data;
    stapel__buf_free(&b);
    return NULL;
}

/* msg (of size STAPEL_MSG_MAX) with any database password in it hidden,
 * and, when it was cut to fit, not cut inside a UTF-8 character (a caller
 * that decodes it strictly, as JSON or Python do, would refuse it). */
static void hide_password(char *msg)
{
    stapel__buf b = {0};
    if (stapel__without_password(&b, msg))
        snprintf(msg, STAPEL_MSG_MAX, "%s", b.data);
    stapel__buf_free(&b);
    size_t n = strlen(msg);
    if (n + 1 < STAPEL_MSG_MAX)
        return;
    size_t k = n;
    while (k > 0 && ((unsigned char)msg[k - 1] & 0xC0) == 0x80)
        k--; /* back over continuation bytes to the last character's lead */
    if (k == 0 || (unsigned char)msg[k - 1] < 0xC0)
        return; /* ASCII, or no lead byte: nothing cut */
    unsigned char lead = (unsigned char)msg[k - 1];
    size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (k - 1 + len > n)
        msg[k - 1] = '\0';
}

stapel_status stapel__fail(stapel_ctx *ctx, stapel_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    va_end(ap);
    hide_password(ctx->msg);
    return status;
}

stapel_status stapel__null(stapel_ctx *ctx, const char *what)
{
    return stapel__fail(ctx, STAPEL_EINVAL, "no %s given (NULL)", what);
}

stapel_status stapel__wrap(stapel_ctx *ctx, stapel_status status, const char *fmt, ...)
{
    char old[STAPEL_MSG_MAX];
    snprintf(old, sizeof old, "%s", ctx->msg);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n + 2 < sizeof ctx->msg && old[0] != '\0') {
        size_t room = sizeof ctx->msg - (size_t)n;
        ctx->msg[n] = ':';
        ctx->msg[n + 1] = ' ';
        size_t len = strlen(old);
        if (len > room - 3)
            len = room - 3;
        memcpy(ctx->msg + n + 2, old, len);
        ctx->msg[(size_t)n + 2 + len] = '\0';
    }
    hide_password(ctx->msg);
    return status;
}

void stapel__log(stapel_ctx *ctx, stapel_log_level level, const char *fmt, ...)
{
    if (ctx->log == NULL && ctx->held == NULL)
        return;
    char held[1 + STAPEL_MSG_MAX]; /* held: the level's byte, then the line */
    char *line = held + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, STAPEL_MSG_MAX, fmt, ap);
    va_end(ap);
    hide_password(line);
    if (ctx->held != NULL) {
        held[0] = (char)('0' + (int)level);
        stapel__buf_append(ctx->held, held, strlen(line) + 2); /* with the NUL */
        return;
    }
    ctx->log(ctx->log_user, level, line);
}

void stapel__log_release(stapel_ctx *ctx, stapel__buf *b)
{
    for (size_t i = 0; i + 1 < b->len; i += strlen(b->data + i + 1) + 2)
        if (ctx->log != NULL)
            ctx->log(ctx->log_user, (stapel_log_level)(b->data[i] - '0'), b->data + i + 1);
    stapel__buf_free(b);
}

static void log_count_line(void *user, stapel_log_level level, const char *line)
{
    stapel__log_count *c = user;
    if (level == STAPEL_LOG_WARN)
        c->n_warnings++;
    if (c->fn != NULL && !(c->hold && level == STAPEL_LOG_WARN))
        c->fn(c->user, level, line);
}

void stapel__log_count_start(stapel_ctx *ctx, stapel__log_count *c, bool hold)
{
    *c = (stapel__log_count){ctx->log, ctx->log_user, 0, hold, true};
    ctx->log = log_count_line;
    ctx->log_user = c;
}

bool stapel__log_count_end(stapel_ctx *ctx, stapel__log_count *c)
{
    if (!c->on)
        return false;
    ctx->log = c->fn;
    ctx->log_user = c->user;
    c->on = false;
    return true;
}

void stapel__progress(stapel_ctx *ctx, const char *phase, double fraction)
{
    if (ctx->span_phase != NULL && strcmp(phase, ctx->span_phase) == 0)
        fraction = ctx->span_lo + fraction * (ctx->span_hi - ctx->span_lo);
    if (ctx->progress != NULL)
        ctx->progress(ctx->progress_user, phase, fraction);
}

void stapel__progress_span(stapel_ctx *ctx, const char *phase, double lo, double hi)
{
    ctx->span_phase = phase;
    ctx->span_lo = lo;
    ctx->span_hi = hi;
}

const char *stapel__geos_error(const stapel_ctx *ctx)
{
    /* GEOS's C API passes on what C++ threw: for lack of memory, the bare
     * name of the exception. */
    if (strcmp(ctx->geos_msg, "std::bad_alloc") == 0)
        return "out of memory (std::bad_alloc)";
    return ctx->geos_msg[0] != '\0' ? ctx->geos_msg : "unknown GEOS error";
}

/* ---- GDAL plumbing ------------------------------------------------------ */

static pthread_once_t gdal_once = PTHREAD_ONCE_INIT;

static void gdal_register(void)
{
    GDALAllRegister();
}

void stapel__gdal_init(void)
{
    pthread_once(&gdal_once, gdal_register);
}

/* The text of an HTML page, such as a web server's error page that GDAL
 * passes on as its message (an OGC API whose page 3 fails), into out:
 * each tag a line break, the head, scripts and styles left out, and the
 * entities for <, >, &, " and a space written as those characters. NULL
 * when m is no HTML page. */
static const char *html_text(const char *m, char *out, size_t cap)
{
    const char *p = m;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (!stapel__ascii_ncase_equal(p, "<!DOCTYPE html", 14) &&
        !stapel__ascii_ncase_equal(p, "<html", 5))
        return NULL;
    static const char *const skipped[] = {"head", "script", "style"};
    static const char *const entities[][2] = {
        {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}, {"&quot;", "\""}, {"&nbsp;", " "}};
    size_t n = 0;
    while (*p != '\0' && n + 2 < cap) {
        if (*p == '<') {
            const char *end = NULL;
            for (size_t i = 0; i < sizeof skipped / sizeof skipped[0] && end == NULL; i++) {
                size_t k = strlen(skipped[i]);
                if (stapel__ascii_ncase_equal(p + 1, skipped[i], k) &&
                    (p[k + 1] == '>' || p[k + 1] == ' ')) {
                    char close[16];
                    int c = snprintf(close, sizeof close, "</%s>", skipped[i]);
                    end = p;
                    while (*end != '\0' && !stapel__ascii_ncase_equal(end, close, (size_t)c))
                        end++;
                    end += *end != '\0' ? c : 0;
                }
            }
            if (end == NULL) {
                end = strchr(p, '>');
                end = end != NULL ? end + 1 : p + strlen(p);
            }
            p = end;
            out[n++] = '\n';
            continue;
        }
        size_t e = 0;
        while (*p == '&' && e < sizeof entities / sizeof entities[0] &&
               strncmp(p, entities[e][0], strlen(entities[e][0])) != 0)
            e++;
        if (*p == '&' && e < sizeof entities / sizeof entities[0]) {
            out[n++] = entities[e][1][0];
            p += strlen(entities[e][0]);
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return out;
}

/* What sets the wait a message of curl's or libpq's (through GDAL) says
 * ran out; NULL for any other message. */
static const char *timeout_hint(const char *m)
{
    static const char *const waits[][2] = {
        {"Operation too slow", "GDAL_HTTP_LOW_SPEED_TIME in the environment sets how many "
                               "seconds a server that sends nothing is waited for; 0 waits "
                               "for ever"},
        {"Operation timed out after", "GDAL_HTTP_TIMEOUT in the environment sets how many "
                                      "seconds a request may take; 0 sets no limit"},
        {"Connection timed out after", "GDAL_HTTP_CONNECTTIMEOUT in the environment sets how "
                                       "many seconds a connection may take"},
        {"Resolving timed out after", "GDAL_HTTP_CONNECTTIMEOUT in the environment sets how "
                                      "many seconds a connection may take"},
        {"timeout expired", "PGCONNECT_TIMEOUT in the environment sets how many seconds a "
                            "connection to PostgreSQL may take"},
    };
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++)
        if (strstr(m, waits[i][0]) != NULL)
            return waits[i][1];
    return NULL;
}

/* A message of GDAL's (or of a library under it, such as libpq) on one
 * line: its line breaks, with the spaces and tabs around them, become "; "
 * (a space after a full stop, colon or semicolon), other tabs a space, and
 * trailing white space goes; an HTML page becomes its text; a wait that
 * ran out names what sets it (timeout_hint). Into a buffer
 * of this thread, valid until the next call on it. */
static const char *one_line(const char *m)
{
    static _Thread_local char buf[STAPEL_MSG_MAX];
    static _Thread_local char text[4 * STAPEL_MSG_MAX];
    size_t n = 0;
    const char *p = html_text(m, text, sizeof text);
    if (p == NULL)
        p = m;
    while (*p != '\0' && n + 3 < sizeof buf) {
        if (*p == '\n' || *p == '\r') {
            while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
                n--;
            while (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
                p++;
            if (*p != '\0' && n > 0) {
                if (strchr(".:;", buf[n - 1]) == NULL)
                    buf[n++] = ';';
                buf[n++] = ' ';
            }
            continue;
        }
        buf[n++] = *p == '\t' ? ' ' : *p;
        p++;
    }
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    const char *hint = timeout_hint(buf);
    if (hint != NULL)
        snprintf(buf + n, sizeof buf - n, " (%s)", hint);
    return buf;
}

#define GDAL_REPEATS_SHOWN 3 /* the same warning this many times, then a count */

/* Say how many times the last warning came beyond those shown. */
static void gdal_repeats_flush(stapel_ctx *ctx)
{
    const char *gdal = strstr(ctx->gdal_last, "GDAL: ");
    if (ctx->gdal_repeats > GDAL_REPEATS_SHOWN && ctx->gdal_varied && gdal != NULL)
        stapel__log(ctx, STAPEL_LOG_WARN, "%.*s%zu more warnings like the last, for other features",
                    (int)(gdal - ctx->gdal_last + 6), ctx->gdal_last,
                    ctx->gdal_repeats - GDAL_REPEATS_SHOWN);
    else if (ctx->gdal_repeats > GDAL_REPEATS_SHOWN)
        stapel__log(ctx, STAPEL_LOG_WARN, "%s (%zu more times)", ctx->gdal_last,
                    ctx->gdal_repeats - GDAL_REPEATS_SHOWN);
    ctx->gdal_last[0] = '\0';
    ctx->gdal_repeats = 0;
    ctx->gdal_varied = false;
}

/* Whether two lines are the same but for their numbers ("fid 7" and "fid
 * 8"): a warning GDAL gives feature after feature, naming each. */
static bool same_but_numbers(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (isdigit((unsigned char)*a))
                a++;
            while (isdigit((unsigned char)*b))
                b++;
        } else if (*a++ != *b++) {
            return false;
        }
    }
    return *a == *b;
}

void stapel__gdal_seen_pass(stapel__gdal_seen *s)
{
    for (size_t i = 0; s != NULL && i < s->n; i++) {
        if (s->v[i].now > s->v[i].before)
            s->v[i].before = s->v[i].now;
        s->v[i].now = 0;
    }
}

void stapel__gdal_seen_free(stapel__gdal_seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].msg);
    free(s->v);
    memset(s, 0, sizeof *s);
}

bool stapel__gdal_seen_copy(stapel__gdal_seen *to, const stapel__gdal_seen *from)
{
    memset(to, 0, sizeof *to);
    if (from->n == 0)
        return true;
    if ((to->v = calloc(from->n, sizeof *to->v)) == NULL)
        return false;
    to->cap = from->n;
    for (size_t i = 0; i < from->n; i++) {
        to->v[i] = from->v[i];
        if ((to->v[i].msg = stapel__strdup(from->v[i].msg)) == NULL) {
            stapel__gdal_seen_free(to);
            return false;
        }
        to->n++;
    }
    return true;
}

#define GDAL_SEEN_MAX 64 /* distinct warnings remembered per source */

/* Whether an earlier pass over the source gave this warning as often as
 * this one has now: then it was said already. Out of memory, it is said. */
static bool gdal_seen_before(stapel__gdal_seen *s, const char *message)
{
    size_t i = 0;
    while (i < s->n && strcmp(s->v[i].msg, message) != 0)
        i++;
    if (i == s->n) {
        if (s->n == GDAL_SEEN_MAX)
            return false; /* warnings that differ feature by feature: say them */
        if (s->n == s->cap) {
            size_t cap = s->cap != 0 ? 2 * s->cap : 8;
            void *v = realloc(s->v, cap * sizeof *s->v);
            if (v == NULL)
                return false;
            s->v = v;
            s->cap = cap;
        }
        if ((s->v[i].msg = stapel__strdup(message)) == NULL)
            return false;
        s->v[i].before = s->v[i].now = 0;
        s->n++;
    }
    return ++s->v[i].now <= s->v[i].before;
}

/* Log GDAL's warning message (one line), naming the source and layer being
 * read: once when an earlier pass over the source gave it, and the same
 * one in a row three times, then a count. */
static void gdal_warn(stapel_ctx *ctx, const char *message)
{
    if (ctx->gdal_seen != NULL && gdal_seen_before(ctx->gdal_seen, message))
        return;
    char line[STAPEL_MSG_MAX];
    if (ctx->reading_src != NULL && ctx->reading_layer != NULL)
        snprintf(line, sizeof line, "%s: layer %s: GDAL: %s", ctx->reading_src,
                 ctx->reading_layer, message);
    else if (ctx->reading_src != NULL)
        snprintf(line, sizeof line, "%s: GDAL: %s", ctx->reading_src, message);
    else
        snprintf(line, sizeof line, "GDAL: %s", message);
    if (ctx->gdal_repeats > 0 && same_but_numbers(line, ctx->gdal_last)) {
        ctx->gdal_varied = ctx->gdal_varied || strcmp(line, ctx->gdal_last) != 0;
        if (++ctx->gdal_repeats > GDAL_REPEATS_SHOWN)
            return;
        snprintf(ctx->gdal_last, sizeof ctx->gdal_last, "%s", line);
    } else {
        gdal_repeats_flush(ctx);
        snprintf(ctx->gdal_last, sizeof ctx->gdal_last, "%s", line);
        ctx->gdal_repeats = 1;
    }
    stapel__log(ctx, STAPEL_LOG_WARN, "%s", line);
}

static atomic_int proj_network_failures;
static char proj_network_first[STAPEL_MSG_MAX];

void stapel__proj_network_reset(void)
{
    atomic_store(&proj_network_failures, 0);
}

bool stapel__proj_network_failed(char *buf, size_t size)
{
    if (atomic_load(&proj_network_failures) == 0)
        return false;
    snprintf(buf, size, "%s", proj_network_first);
    return true;
}

/* PROJ's words when it cannot fetch a grid: "PROJ: Cannot open
 * https://cdn.proj.org/x.tif: Could not resolve host: cdn.proj.org" (GDAL's
 * "Network error when accessing a remote resource" that follows names
 * nothing). */
static void note_proj_network(const char *message)
{
    if (strncmp(message, "PROJ: ", 6) != 0 || strstr(message, "://") == NULL)
        return;
    if (atomic_fetch_add(&proj_network_failures, 1) == 0)
        snprintf(proj_network_first, sizeof proj_network_first, "%s", message);
}

static void gdal_handler(CPLErr level, CPLErrorNum num, const char *message)
{
    (void)num;
    message = one_line(message);
    stapel_ctx *ctx = CPLGetErrorHandlerUserData();
    if (ctx == NULL)
        return;
    /* GDAL gives its debug lines only when asked for them (CPL_DEBUG=ON in
     * the environment, or CPL_DEBUG=PG for one driver's): without a word
     * here they were lost, which its own handler would have shown. Passed
     * on as information, a password in them hidden as in every message. */
    if (level == CE_Debug) {
        stapel__log(ctx, STAPEL_LOG_INFO, "GDAL debug: %s", message);
        return;
    }
    if (level >= CE_Failure)
        note_proj_network(message);
    if (level != CE_Warning)
        return;
    /* A WAL GeoPackage on a read-only disk or in a read-only directory:
     * GDAL opens it again as immutable by itself and reads it whole. */
    if (strstr(message, "Retrying with IMMUTABLE=YES") != NULL)
        return;
    /* A ring that ends where it starts in x and y, at another height (a
     * PolygonZ shapefile of some CAD programs), is told of so, though
     * nothing is wrong with it in 2D; and its advice, to set
     * OGR_GEOMETRY_ACCEPT_UNCLOSED_RING=NO, loses the feature. Kept back
     * until the feature is seen (stapel__gdal_unclosed). */
    if (ctx->hold_unclosed && strncmp(message, "Non closed ring detected", 24) == 0) {
        ctx->gdal_unclosed++;
        snprintf(ctx->gdal_unclosed_msg, sizeof ctx->gdal_unclosed_msg, "%s", message);
        return;
    }
    /* A shapefile's polygon of several rings read with its rings unsorted,
     * as OGR_ORGANIZE_POLYGONS=SKIP in the environment asks: each hole is a
     * polygon of its own, which the repair merges with its shell. */
    const char *skip = CPLGetConfigOption("OGR_ORGANIZE_POLYGONS", NULL);
    if (skip != NULL && EQUAL(skip, "SKIP") &&
        strstr(message, "All polygons will be contained in a multipolygon") != NULL) {
        char line[STAPEL_MSG_MAX];
        size_t n = strlen(message);
        snprintf(line, sizeof line,
                 "%.*s; as OGR_ORGANIZE_POLYGONS=SKIP is set in the environment, each hole is "
                 "read as a polygon of its own, which the repair merges with its shell: the "
                 "hole is filled. Unset it (or set it to DEFAULT)",
                 (int)(n > 0 && message[n - 1] == '.' ? n - 1 : n), message);
        gdal_warn(ctx, line);
        return;
    }
    gdal_warn(ctx, message);
}

/* The rings of g that do not end where they start: in x or y into *open,
 * in height alone into *z_open. */
static void open_rings(OGRGeometryH g, size_t *open, size_t *z_open)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    /* A ring: a simple curve (straight, or of arcs), or a compound curve,
     * whose parts are not rings: it runs from its first part's start to
     * its last part's end. */
    OGRGeometryH first = g, last = g;
    if (t == wkbCompoundCurve) {
        int parts = OGR_G_GetGeometryCount(g);
        if (parts == 0)
            return;
        first = OGR_G_GetGeometryRef(g, 0);
        last = OGR_G_GetGeometryRef(g, parts - 1);
    }
    if (t == wkbLineString || t == wkbLinearRing || t == wkbCircularString ||
        t == wkbCompoundCurve) {
        int n = OGR_G_GetPointCount(last);
        if (n == 0 || OGR_G_GetPointCount(first) == 0)
            return;
        if (OGR_G_GetX(first, 0) != OGR_G_GetX(last, n - 1) ||
            OGR_G_GetY(first, 0) != OGR_G_GetY(last, n - 1))
            (*open)++;
        else if (OGR_G_GetZ(first, 0) != OGR_G_GetZ(last, n - 1))
            (*z_open)++;
        return;
    }
    for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
        open_rings(OGR_G_GetGeometryRef(g, i), open, z_open);
}

bool stapel__gdal_unclosed(stapel_ctx *ctx, OGRFeatureH f)
{
    OGRGeometryH g = f != NULL ? OGR_F_GetGeometryRef(f) : NULL;
    size_t open = 0, z_open = 0;
    if (g != NULL)
        open_rings(g, &open, &z_open);
    /* GDAL warns of a ring as it parses a feature: mostly as it reads it,
     * but a GeoJSON it parses a piece at a time, and the warnings of a
     * piece's features come with the first of them; a shapefile's hole it
     * may warn of twice. They are matched, in order, with the rings of the
     * features read: those of rings open in height alone dropped (the
     * caller tells of them in its own words), one given for each ring
     * open in x or y; at the end of the layer (f NULL) the rest, of no
     * ring read, are dropped. */
    size_t z = z_open < ctx->gdal_unclosed ? z_open : ctx->gdal_unclosed;
    ctx->gdal_unclosed -= z;
    size_t n = open < ctx->gdal_unclosed ? open : ctx->gdal_unclosed;
    ctx->gdal_unclosed = f == NULL ? 0 : ctx->gdal_unclosed - n;
    while (n-- > 0)
        gdal_warn(ctx, ctx->gdal_unclosed_msg);
    return z > 0; /* (GDAL warned: a GeoPackage's it reads without a word) */
}

void stapel__gdal_unclosed_flush(stapel_ctx *ctx)
{
    for (; ctx->gdal_unclosed > 0; ctx->gdal_unclosed--)
        gdal_warn(ctx, ctx->gdal_unclosed_msg);
}

void stapel__gdal_replay(int level, int num, const char *message)
{
    gdal_handler((CPLErr)level, (CPLErrorNum)num, message);
}

void stapel__gdal_push(stapel_ctx *ctx)
{
    CPLPushErrorHandlerEx(gdal_handler, ctx);
    CPLErrorReset();
}

void stapel__gdal_pop(void)
{
    stapel_ctx *ctx = CPLGetErrorHandlerUserData();
    if (ctx != NULL)
        gdal_repeats_flush(ctx);
    CPLPopErrorHandler();
}

const char *stapel__gdal_error(const char *fallback)
{
    const char *m = CPLGetLastErrorMsg();
    return (m != NULL && m[0] != '\0') ? one_line(m) : fallback;
}

/* ---- strings ------------------------------------------------------------ */

bool stapel_zone_name_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    if (strcmp(a, b) == 0)
        return true;
    /* NULL for text that is not UTF-8 (or out of memory): then only the
     * same bytes are the same name. */
    utf8proc_uint8_t *na = utf8proc_NFC((const utf8proc_uint8_t *)a);
    utf8proc_uint8_t *nb = na != NULL ? utf8proc_NFC((const utf8proc_uint8_t *)b) : NULL;
    bool same = na != NULL && nb != NULL && strcmp((const char *)na, (const char *)nb) == 0;
    free(na);
    free(nb);
    return same;
}

/* s without the spaces and tabs around it, composed and mapped as options
 * say; NULL when s is not UTF-8 (or out of memory). */
static utf8proc_uint8_t *mapped(const char *s, utf8proc_option_t options)
{
    s += strspn(s, " \t");
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t len = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &out,
                                        UTF8PROC_STABLE | UTF8PROC_COMPOSE | options);
    return len < 0 ? NULL : out;
}

/* s without the spaces and tabs around it, case-folded and composed; NULL
 * when s is not UTF-8 (or out of memory). */
static utf8proc_uint8_t *folded(const char *s)
{
    return mapped(s, UTF8PROC_CASEFOLD);
}

bool stapel_zone_name_near(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return false;
    if (strcmp(a, b) == 0)
        return true;
    utf8proc_uint8_t *fa = folded(a);
    utf8proc_uint8_t *fb = fa != NULL ? folded(b) : NULL;
    bool near = fa != NULL && fb != NULL && strcmp((const char *)fa, (const char *)fb) == 0;
    free(fa);
    free(fb);
    return near;
}

/* The code points of UTF-8 text s, in *cp (malloc'd), and their number;
 * -1 when out of memory. s is valid UTF-8 (utf8proc_map gave it). */
static long code_points(const utf8proc_uint8_t *s, utf8proc_int32_t **cp)
{
    size_t n = strlen((const char *)s);
    *cp = malloc((n + 1) * sizeof **cp);
    if (*cp == NULL)
        return -1;
    long k = 0;
    utf8proc_ssize_t step;
    while (*s != '\0' && (step = utf8proc_iterate(s, -1, &(*cp)[k])) > 0) {
        s += step;
        k++;
    }
    return k;
}

/* The Levenshtein distance of a and b (letters added, dropped or changed),
 * in code points; -1 when out of memory. */
static long edit_distance(const utf8proc_uint8_t *a, const utf8proc_uint8_t *b, long *len_a)
{
    utf8proc_int32_t *ca = NULL, *cb = NULL;
    long na = code_points(a, &ca), nb = na >= 0 ? code_points(b, &cb) : -1;
    long *row = nb >= 0 ? malloc((size_t)(nb + 1) * sizeof *row) : NULL;
    long d = -1;
    if (row != NULL) {
        for (long j = 0; j <= nb; j++)
            row[j] = j;
        for (long i = 1; i <= na; i++) {
            long diag = row[0];
            row[0] = i;
            for (long j = 1; j <= nb; j++) {
                long up = row[j];
                long best = diag + (ca[i - 1] != cb[j - 1]);
                if (up + 1 < best)
                    best = up + 1;
                if (row[j - 1] + 1 < best)
                    best = row[j - 1] + 1;
                row[j] = best;
                diag = up;
            }
        }
        d = row[nb];
        *len_a = na;
    }
    free(row);
    free(ca);
    free(cb);
    return d;
}

int stapel_zone_name_rank(const char *want, const char *zone)
{
    if (want == NULL || zone == NULL)
        return 0;
    if (stapel_zone_name_equal(want, zone))
        return 1;
    /* Ever more alike: spaces around, case, accents (marks stripped). */
    static const utf8proc_option_t ways[] = {0, UTF8PROC_CASEFOLD,
                                             UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK};
    int rank = 0;
    utf8proc_uint8_t *a = NULL, *b = NULL;
    for (size_t i = 0; i < sizeof ways / sizeof ways[0] && rank == 0; i++) {
        free(a);
        free(b);
        a = mapped(want, ways[i]);
        b = a != NULL ? mapped(zone, ways[i]) : NULL;
        if (a == NULL || b == NULL)
            break;
        if (strcmp((const char *)a, (const char *)b) == 0)
            rank = 2 + (int)i;
    }
    if (rank == 0 && a != NULL && b != NULL) {
        /* A slip of a letter or two, in a name long enough that it is
         * still most of it: 'Utrect', not 'X' for 'Y'. */
        long len = 0, d = edit_distance(a, b, &len);
        if (d >= 1 && d <= 2 && 3 * d <= len)
            rank = 4 + (int)d;
    }
    free(a);
    free(b);
    return rank;
}

/* The types of zone, in the order a hint prefers them at equal rank. */
static const char *const zone_types[] = {"province", "novex", "total"};

const char *stapel_zone_want_type(const char *want, const char **name)
{
    if (want == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof zone_types / sizeof zone_types[0]; i++) {
        size_t n = strlen(zone_types[i]);
        if (stapel__ascii_ncase_equal(want, zone_types[i], n) && want[n] == ':') {
            *name = want + n + 1;
            return zone_types[i];
        }
    }
    *name = want;
    return NULL;
}

bool stapel_zone_wanted(const char *want, const char *zone_type, const char *zone)
{
    const char *name = NULL;
    const char *type = stapel_zone_want_type(want, &name);
    return zone_type != NULL && name != NULL && (type == NULL || strcmp(type, zone_type) == 0) &&
           stapel_zone_name_equal(name, zone);
}

static int zone_type_index(const char *type)
{
    for (int i = 0; i < 3; i++)
        if (type != NULL && strcmp(type, zone_types[i]) == 0)
            return i;
    return -1;
}

bool stapel_zone_hint_offer(stapel_zone_hint *hint, const char *want, const char *zone_type,
                            const char *zone, bool has_area)
{
    int t = zone_type_index(zone_type);
    if (hint == NULL || want == NULL || zone == NULL || t < 0)
        return true;
    const char *name = NULL, *type = stapel_zone_want_type(want, &name);
    bool of_type = type == NULL || strcmp(type, zone_type) == 0;
    int rank = of_type ? stapel_zone_name_rank(name, zone) : 0;
    bool whole = false, other = false;
    if (type != NULL) {
        /* 'province:X' for a zone named so, which is 'T:province:X'. */
        int r = stapel_zone_name_rank(want, zone);
        if (r != 0 && (rank == 0 || r < rank)) {
            rank = r;
            whole = true;
        }
        /* 'novex:Flevoland' for province Flevoland: the type mistaken,
         * after every zone of the type asked for. */
        if (rank == 0 && !of_type) {
            rank = stapel_zone_name_rank(name, zone);
            other = rank != 0;
        }
    }
    /* A zone of another type with the kept zone's name (its accents
     * written either way): the bare name would name both, which render
     * refuses. */
    bool twin = hint->rank != 0 && strcmp(zone_types[t], hint->type) != 0 &&
                stapel_zone_name_equal(zone, hint->name);
    if (twin)
        hint->shared = true;
    if (rank == 0)
        return true;
    if (hint->rank != 0) {
        /* Of the type asked for before another, then the nearest, read by
         * its type before whole, then the first name, then the type. */
        int c = strcmp(zone, hint->name);
        bool later = other != hint->other_type ? other
                     : rank != hint->rank      ? rank > hint->rank
                     : whole != hint->whole    ? whole
                     : c != 0                  ? c > 0
                                               : t >= zone_type_index(hint->type);
        if (later)
            return true;
    }
    char *copy = stapel__strdup(zone);
    if (copy == NULL)
        return false;
    free(hint->name);
    const char *rest = NULL;
    /* Typed: what --zone needs to name it, a name that starts with a
     * prefix; and the total or a zone of another type asked for by a
     * type, given back with the type that finds it. */
    *hint = (stapel_zone_hint){
        .rank = rank,
        .type = zone_types[t],
        .name = copy,
        .typed = stapel_zone_want_type(zone, &rest) != NULL || (type != NULL && (t == 2 || other)),
        .has_area = has_area,
        .whole = whole,
        .other_type = other,
        .shared = twin,
    };
    return true;
}

const char *stapel_zone_hint_note(const stapel_zone_hint *hint)
{
    static const char *const notes[2][7] = {
        {"", "(a type's prefix names the type)", "(case and spaces count)",
         "(case and spaces count)", "(case, accents and spaces count)", "(1 letter off)",
         "(2 letters off)"},
        {"", "(another type)", "(another type; case and spaces count)",
         "(another type; case and spaces count)", "(another type; case, accents and spaces count)",
         "(another type; 1 letter off)", "(another type; 2 letters off)"},
    };
    if (hint == NULL || hint->rank < 1 || hint->rank > 6)
        return "";
    return notes[hint->other_type][hint->rank];
}

void stapel_zone_hint_free(stapel_zone_hint *hint)
{
    if (hint == NULL)
        return;
    free(hint->name);
    memset(hint, 0, sizeof *hint);
}

/* ---- the list of zones -------------------------------------------------- */

typedef struct zone_item {
    int type;      /* in zone_types */
    char *name;    /* as added */
    char *key;     /* its NFC form, or its bytes when it is not UTF-8 */
    bool has_area; /* as added */
    bool twin;     /* a zone of another type has the same name (its key) */
} zone_item;

struct stapel_zone_list {
    zone_item *items;
    size_t n, cap;
    stapel__strmap seen; /* the type's index and the name: each zone once */
    bool settled;        /* items sorted and their twins marked */
};

stapel_zone_list *stapel_zone_list_new(void)
{
    return calloc(1, sizeof(stapel_zone_list));
}

bool stapel_zone_list_add(stapel_zone_list *list, const char *zone_type, const char *zone,
                          bool has_area)
{
    int t = zone_type_index(zone_type);
    if (list == NULL || zone == NULL || t < 0)
        return true;
    size_t len = strlen(zone);
    char *seen_key = malloc(len + 2);
    if (seen_key == NULL)
        return false;
    seen_key[0] = (char)('0' + t);
    memcpy(seen_key + 1, zone, len + 1);
    bool ok = true;
    if (stapel__strmap_find(&list->seen, seen_key) != UINT32_MAX)
        goto done;
    if (list->n == list->cap) {
        size_t cap = list->cap > 0 ? 2 * list->cap : 16;
        zone_item *items = realloc(list->items, cap * sizeof *items);
        ok = items != NULL;
        if (!ok)
            goto done;
        list->items = items;
        list->cap = cap;
    }
    char *name = stapel__strdup(zone);
    /* NULL for a name that is not UTF-8 (or out of memory): its bytes. */
    char *key = name != NULL ? (char *)utf8proc_NFC((const utf8proc_uint8_t *)zone) : NULL;
    if (name != NULL && key == NULL)
        key = stapel__strdup(zone);
    bool added = false;
    ok = key != NULL &&
         stapel__strmap_get(&list->seen, seen_key, (uint32_t)list->n, &added) != UINT32_MAX;
    if (!ok) {
        free(name);
        free(key);
        goto done;
    }
    list->items[list->n++] = (zone_item){t, name, key, has_area, false};
    list->settled = false;
done:
    free(seen_key);
    return ok;
}

size_t stapel_zone_list_count(const stapel_zone_list *list)
{
    return list != NULL ? list->n : 0;
}

static int cmp_item_key(const void *a, const void *b)
{
    const zone_item *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : x->type - y->type;
}

static int cmp_item_order(const void *a, const void *b)
{
    const zone_item *x = a, *y = b;
    return x->type != y->type ? x->type - y->type : strcmp(x->name, y->name);
}

/* Sort the items by name to mark the twins, then by type and name. The map
 * of zones seen keeps stale indices, which nothing reads. */
static void settle(stapel_zone_list *list)
{
    if (list->settled || list->n == 0) /* no items: none to sort (qsort takes no NULL) */
        return;
    qsort(list->items, list->n, sizeof *list->items, cmp_item_key);
    for (size_t i = 0; i < list->n;) {
        size_t j = i + 1;
        while (j < list->n && strcmp(list->items[j].key, list->items[i].key) == 0)
            j++;
        /* Sorted by type within the run: two types when its ends differ. */
        bool twin = list->items[j - 1].type != list->items[i].type;
        for (size_t k = i; k < j; k++)
            list->items[k].twin = twin;
        i = j;
    }
    qsort(list->items, list->n, sizeof *list->items, cmp_item_order);
    list->settled = true;
}

/* Whether --zone needs "TYPE:" before the item to name it alone. */
static bool item_typed(const zone_item *it)
{
    const char *rest = NULL;
    return it->twin || stapel_zone_want_type(it->name, &rest) != NULL;
}

const char *stapel_zone_list_get(stapel_zone_list *list, size_t i, const char **zone_type,
                                 bool *has_area, bool *typed)
{
    if (list == NULL || i >= list->n)
        return NULL;
    settle(list);
    const zone_item *it = &list->items[i];
    if (zone_type != NULL)
        *zone_type = zone_types[it->type];
    if (has_area != NULL)
        *has_area = it->has_area;
    if (typed != NULL)
        *typed = item_typed(it);
    return it->name;
}

bool stapel_zone_list_hint(stapel_zone_list *list, const char *want, stapel_zone_hint *hint)
{
    if (list == NULL || hint == NULL)
        return true;
    settle(list);
    for (size_t i = 0; i < list->n; i++) {
        const zone_item *it = &list->items[i];
        if (!stapel_zone_hint_offer(hint, want, zone_types[it->type], it->name, it->has_area))
            return false;
    }
    /* The twin the list knows, whatever the rank the hint gave it. */
    for (size_t i = 0; i < list->n && hint->rank != 0; i++) {
        const zone_item *it = &list->items[i];
        if (strcmp(zone_types[it->type], hint->type) == 0 && strcmp(it->name, hint->name) == 0) {
            hint->shared = it->twin;
            hint->typed = hint->typed || it->twin;
            break;
        }
    }
    return true;
}

bool stapel__zone_quote(stapel__buf *b, const char *type, const char *name)
{
    /* A '!' within double quotes an interactive bash takes for
     * history expansion ("it's!x": 'event not found'); within single
     * quotes it is only a '!'. */
    bool apostrophe = strchr(name, '\'') != NULL;
    bool doubled = apostrophe && strchr(name, '!') == NULL;
    const char *escaped = doubled ? "\"\\$`" : apostrophe ? "'" : "";
    if (!stapel__buf_printf(b, "%c%s%s", doubled ? '"' : '\'', type != NULL ? type : "",
                            type != NULL ? ":" : ""))
        return false;
    const char *p = name;
    while (*p != '\0') {
        size_t n = strcspn(p, escaped);
        if (!stapel__buf_append(b, p, n))
            return false;
        p += n;
        if (*p == '\0')
            break;
        if (!(doubled ? stapel__buf_printf(b, "\\%c", *p) : stapel__buf_puts(b, "'\\''")))
            return false;
        p++;
    }
    return stapel__buf_puts(b, doubled ? "\"" : "'");
}

/* A zone as both lists and hints write it: "'X' (province)", "'novex:X'
 * (NOVEX, no area)", "'total:total'"; after sep. Quoted as --zone takes it
 * (stapel__zone_quote). */
static bool zone_text(stapel__buf *b, const char *sep, const char *type, const char *name,
                      bool typed, bool has_area)
{
    if (!stapel__buf_puts(b, sep) || !stapel__zone_quote(b, typed ? type : NULL, name))
        return false;
    if (strcmp(type, "total") == 0)
        return true;
    return stapel__buf_printf(b, " (%s%s)", strcmp(type, "novex") == 0 ? "NOVEX" : "province",
                              has_area ? "" : ", no area");
}

/* What ends a list cut short. */
#define ZONES_MORE ", and %zu more (stapel summary lists every zone)"

char *stapel_zone_list_text(stapel_zone_list *list, size_t max_bytes)
{
    stapel__buf b = {0};
    size_t n = stapel_zone_list_count(list);
    if (n == 0)
        return stapel__buf_puts(&b, "none (no zone layers)") ? b.data : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *type = NULL;
        bool has_area = true, typed = false;
        const char *zone = stapel_zone_list_get(list, i, &type, &has_area, &typed);
        size_t mark = b.len;
        if (!zone_text(&b, i > 0 ? ", " : "", type, zone, typed, has_area))
            goto fail;
        /* Room for this one and, when more follow, for counting them. */
        int more = i + 1 < n ? snprintf(NULL, 0, ZONES_MORE, n - i - 1) : 0;
        if (i > 0 && b.len + (size_t)(more > 0 ? more : 0) > max_bytes) {
            b.len = mark;
            b.data[mark] = '\0';
            if (!stapel__buf_printf(&b, ZONES_MORE, n - i))
                goto fail;
            break;
        }
    }
    return b.data;
fail:
    stapel__buf_free(&b);
    return NULL;
}

char *stapel_zone_hint_text(const stapel_zone_hint *hint)
{
    stapel__buf b = {0};
    if (hint == NULL || hint->rank == 0)
        return stapel__buf_puts(&b, "") ? b.data : NULL;
    return zone_text(&b, "", hint->type, hint->name, hint->typed, hint->has_area) ? b.data : NULL;
}

char *stapel_zone_quote_text(const char *zone)
{
    stapel__buf b = {0};
    if (stapel__zone_quote(&b, NULL, zone != NULL ? zone : ""))
        return b.data;
    stapel__buf_free(&b);
    return NULL;
}

void stapel_zone_list_free(stapel_zone_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].name);
        free(list->items[i].key);
    }
    free(list->items);
    stapel__strmap_free(&list->seen);
    free(list);
}

char *stapel__strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

char *stapel__strdup_trimmed(const char *s)
{
    if (s == NULL)
        return NULL;
    const char *ws = " \t\r\n\v\f";
    s += strspn(s, ws);
    size_t n = strlen(s);
    while (n > 0 && strchr(ws, s[n - 1]) != NULL)
        n--;
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, s, n);
        out[n] = '\0';
    }
    return out;
}

bool stapel__buf_append(stapel__buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 64 : b->cap;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool stapel__buf_puts(stapel__buf *b, const char *s)
{
    return stapel__buf_append(b, s, strlen(s));
}

bool stapel__buf_printf(stapel__buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof small)
        return stapel__buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (big == NULL)
        return false;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = stapel__buf_append(b, big, (size_t)n);
    free(big);
    return ok;
}

void stapel__buf_free(stapel__buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void stapel__sort_hi32(uint64_t *keys, uint64_t *tmp, size_t n)
{
    /* Four passes: the sorted keys end up back in keys. */
    uint64_t *k = keys, *t = tmp;
    for (int shift = 32; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((k[i] >> shift) & 255) + 1]++;
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            t[count[(k[i] >> shift) & 255]++] = k[i];
        uint64_t *sw = k;
        k = t;
        t = sw;
    }
}

uint64_t stapel__str_hash(const char *s)
{
    uint64_t h = STAPEL__HASH_INIT;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

void stapel__strmap_free(stapel__strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

uint32_t stapel__strmap_find(const stapel__strmap *m, const char *key)
{
    if (m->n == 0)
        return UINT32_MAX;
    for (size_t j = stapel__str_hash(key) & (m->cap - 1); m->keys[j] != NULL;
         j = (j + 1) & (m->cap - 1))
        if (strcmp(m->keys[j], key) == 0)
            return m->vals[j];
    return UINT32_MAX;
}

uint32_t stapel__strmap_get(stapel__strmap *m, const char *key, uint32_t next, bool *added)
{
    *added = false;
    if (2 * (m->n + 1) > m->cap) {
        stapel__strmap b = {0};
        b.cap = m->cap == 0 ? 64 : 2 * m->cap;
        b.keys = calloc(b.cap, sizeof *b.keys);
        b.vals = calloc(b.cap, sizeof *b.vals);
        if (b.keys == NULL || b.vals == NULL) {
            free(b.keys);
            free(b.vals);
            return UINT32_MAX;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->keys[i] == NULL)
                continue;
            size_t j = stapel__str_hash(m->keys[i]) & (b.cap - 1);
            while (b.keys[j] != NULL)
                j = (j + 1) & (b.cap - 1);
            b.keys[j] = m->keys[i];
            b.vals[j] = m->vals[i];
        }
        b.n = m->n;
        free(m->keys);
        free(m->vals);
        *m = b;
    }
    size_t j = stapel__str_hash(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = stapel__strdup(key);
    if (m->keys[j] == NULL)
        return UINT32_MAX;
    m->vals[j] = next;
    m->n++;
    *added = true;
    return next;
}

uint64_t stapel__hash_more(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h * 1099511628211ull; /* the NUL: h ^= 0, then the multiply */
}
