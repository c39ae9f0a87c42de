/*
 * stack.c - a stack build from start to end: the job, the worker threads
 * that overlay the tiles, the seam merge, and the face attributes.
 *
 * Determinism: tiles depend only on the data, every tile is computed the
 * same way by whichever thread takes it, and results are assembled in tile
 * order. So the output is the same for any thread count.
 *
 * Seams: a face cut by an inner tile border is merged with the faces of the
 * same label across that border by the integer dissolve (dissolve.c), snap
 * rounded: exact here (all input already lies on the grid) and tolerant of
 * the one-cell differences that clipping the two sides separately can leave.
 */
#include "arrange.h"
#include "pipeline.h"
#include "source.h"

#include <cpl_string.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TILE_VERTICES 16000

/* ---- jobs --------------------------------------------------------------- */

stapel_status stapel_job_new(stapel_ctx *ctx, stapel_job **out, const stapel_stack_opts *opts)
{
    STAPEL__ENTER_OUT(ctx, out);
    stapel_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel_stack_opts def = STAPEL_STACK_OPTS_INIT;
    job->opts = opts != NULL ? *opts : def;
    if (job->opts.threads < 0 || job->opts.grid < 0) {
        free(job);
        return stapel__fail(ctx, STAPEL_EINVAL, "threads and grid must not be negative");
    }
    /* NaN passes the test above and snapped nothing; infinity failed deep
     * in GEOS. */
    if (!isfinite(job->opts.grid)) {
        double g = job->opts.grid;
        free(job);
        return stapel__fail(ctx, STAPEL_EINVAL, "grid %g is not a number of CRS units", g);
    }
    /* 0/0 is the whole stack; an index without a count is no shard. */
    int shard_i = job->opts.shard_index, shard_n = job->opts.shard_count;
    if (shard_n == 0 ? shard_i != 0 : shard_n < 0 || shard_i < 1 || shard_i > shard_n) {
        free(job);
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "bad shard %d/%d: use i/N with 1 <= i <= N (0/0: the whole stack)",
                            shard_i, shard_n);
    }
    job->t_srs = stapel__strdup_trimmed(job->opts.t_srs != NULL ? job->opts.t_srs : "EPSG:28992");
    job->s_srs = stapel__strdup_trimmed(job->opts.s_srs);
    if (job->t_srs == NULL || (job->opts.s_srs != NULL && job->s_srs == NULL)) {
        stapel_job_free(job);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    job->opts.t_srs = job->t_srs;
    job->opts.s_srs = job->s_srs;
    double grid = job->opts.grid > 0 ? job->opts.grid : 0.001;
    stapel_status st = stapel__grid_check(ctx, job->t_srs, grid);
    if (st != STAPEL_OK) {
        stapel_job_free(job);
        return st;
    }
    *out = job;
    return STAPEL_OK;
}

void stapel_job_free(stapel_job *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < job->n_layers; i++) {
        free(job->layers[i].theme);
        free(job->layers[i].source);
        free(job->layers[i].where);
    }
    free(job->layers);
    for (int k = 0; k < 2; k++) {
        free(job->zones[k].source);
        free(job->zones[k].field);
    }
    free(job->t_srs);
    free(job->s_srs);
    stapel_rules_free(job->rules);
    free(job);
}

stapel_status stapel_job_set_rules(stapel_ctx *ctx, stapel_job *job, const stapel_rules *rules)
{
    STAPEL__ENTER(ctx);
    if (job == NULL)
        return stapel__null(ctx, "job");
    stapel_rules *copy = NULL;
    if (rules != NULL) {
        stapel_status st = stapel__rules_clone(ctx, &copy, rules);
        if (st != STAPEL_OK)
            return st;
    }
    stapel_rules_free(job->rules);
    job->rules = copy;
    return STAPEL_OK;
}

static bool theme_ok(const char *t)
{
    if (t == NULL || t[0] == '\0')
        return false;
    for (const char *p = t; *p != '\0'; p++)
        if (!stapel__ascii_word_char(*p))
            return false;
    return true;
}

stapel_status stapel_job_add_layer(stapel_ctx *ctx, stapel_job *job, const char *theme,
                                   const char *source, const char *where)
{
    STAPEL__ENTER(ctx);
    if (job == NULL)
        return stapel__null(ctx, "job");
    if (!theme_ok(theme))
        return stapel__fail(
            ctx, STAPEL_EINVAL,
            "bad theme '%s': use ASCII letters (a-z, A-Z), digits, '_' and '-' only",
            theme != NULL ? theme : "");
    if (source == NULL || source[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "theme %s: empty source", theme);
    bool known = false;
    for (size_t i = 0; i < job->n_layers && !known; i++)
        known = strcmp(job->layers[i].theme, theme) == 0;
    if (!known && job->n_themes >= STAPEL_MAX_THEMES)
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "theme %s would be theme %zu: a run takes at most %d different "
                            "themes (layers may share one)",
                            theme, job->n_themes + 1, STAPEL_MAX_THEMES);
    if (job->n_layers == job->cap_layers) {
        size_t cap = job->cap_layers == 0 ? 8 : job->cap_layers * 2;
        stapel__layer *d = realloc(job->layers, cap * sizeof *d);
        if (d == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        job->layers = d;
        job->cap_layers = cap;
    }
    stapel__layer *l = &job->layers[job->n_layers];
    memset(l, 0, sizeof *l);
    l->theme = stapel__strdup(theme);
    l->source = stapel__strdup(source);
    l->where = stapel__strdup(where);
    if (l->theme == NULL || l->source == NULL || (where != NULL && l->where == NULL)) {
        free(l->theme);
        free(l->source);
        free(l->where);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    job->n_layers++;
    job->n_themes += !known;
    return STAPEL_OK;
}

stapel_status stapel_job_set_zones(stapel_ctx *ctx, stapel_job *job, stapel_zone_kind kind,
                                   const char *source, const char *name_field)
{
    STAPEL__ENTER(ctx);
    if (job == NULL)
        return stapel__null(ctx, "job");
    if (kind != STAPEL_ZONE_PROVINCE && kind != STAPEL_ZONE_NOVEX)
        return stapel__fail(ctx, STAPEL_EINVAL, "unknown zone kind %d", (int)kind);
    if (source == NULL || source[0] == '\0' || name_field == NULL || name_field[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "a zone layer needs a source and a name field");
    char *s = stapel__strdup(source), *f = stapel__strdup(name_field);
    if (s == NULL || f == NULL) {
        free(s);
        free(f);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    free(job->zones[kind].source);
    free(job->zones[kind].field);
    job->zones[kind].source = s;
    job->zones[kind].field = f;
    return STAPEL_OK;
}

/* ---- the stack ---------------------------------------------------------- */

/* The attribute strings of the faces: a few hundred distinct values shared by
 * hundreds of thousands of faces, so each is kept once. Filled by the
 * attribute workers, hence the lock. */
typedef struct stapel__strpool {
    pthread_mutex_t lock;
    char **keys; /* open addressing; cap is a power of two */
    size_t n, cap;
} strpool;

static strpool *pool_new(void)
{
    strpool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->cap = 256;
    p->keys = calloc(p->cap, sizeof *p->keys);
    if (p->keys == NULL) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

static void pool_free(strpool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->cap; i++)
        free(p->keys[i]);
    free(p->keys);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static bool pool_grow(strpool *p)
{
    size_t cap = p->cap * 2;
    char **keys = calloc(cap, sizeof *keys);
    if (keys == NULL)
        return false;
    for (size_t i = 0; i < p->cap; i++) {
        if (p->keys[i] == NULL)
            continue;
        size_t pos = (size_t)stapel__str_hash(p->keys[i]) & (cap - 1);
        while (keys[pos] != NULL)
            pos = (pos + 1) & (cap - 1);
        keys[pos] = p->keys[i];
    }
    free(p->keys);
    p->keys = keys;
    p->cap = cap;
    return true;
}

/* The pooled copy of str; NULL when out of memory. */
static const char *pool_intern(strpool *p, const char *str)
{
    const char *r = NULL;
    pthread_mutex_lock(&p->lock);
    if (2 * (p->n + 1) > p->cap && !pool_grow(p))
        goto done;
    size_t pos = (size_t)stapel__str_hash(str) & (p->cap - 1);
    while (p->keys[pos] != NULL && strcmp(p->keys[pos], str) != 0)
        pos = (pos + 1) & (p->cap - 1);
    if (p->keys[pos] == NULL) {
        p->keys[pos] = stapel__strdup(str);
        if (p->keys[pos] == NULL)
            goto done;
        p->n++;
    }
    r = p->keys[pos];
done:
    pthread_mutex_unlock(&p->lock);
    return r;
}

static void buf_reset(stapel__buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void stapel_stack_free(stapel_stack *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_faces; i++) {
        stapel__out_face *f = &s->faces[i];
        free(f->pts);
        free(f->ring_end);
        free(f->ids);
    }
    free(s->faces);
    pool_free(s->pool);
    if (s->face_claims != NULL) {
        stapel__buf_free(s->face_claims);
        free(s->face_claims);
    }
    for (size_t i = 0; i < s->n_conflicts; i++) {
        free(s->conflicts[i].pts);
        free(s->conflicts[i].ring_end);
    }
    free(s->conflicts);
    stapel_summary_free(s->summary);
    free(s->themes);
    free(s->theme_rank);
    free(s->layer_nth);
    free(s->verdicts);
    free(s->notes);
    stapel_rules_free(s->rules);
    /* build_faces frees a stack whose arrays of them it could not make. */
    for (size_t i = 0; i < s->n_layers; i++) {
        if (s->layer_themes != NULL)
            free(s->layer_themes[i]);
        if (s->layer_sources != NULL)
            free(s->layer_sources[i]);
    }
    free(s->layer_themes);
    free(s->layer_sources);
    stapel__kv_free(s->run, s->n_run);
    free(s->directory);
    free(s->zone_fields[0]);
    free(s->zone_fields[1]);
    stapel__input_clear(s->geos, &s->in);
    GEOS_finish_r(s->geos);
    free(s);
}

stapel_stack_stats stapel_stack_get_stats(const stapel_stack *s)
{
    stapel_stack_stats none = {0};
    return s == NULL ? none : s->stats;
}

size_t stapel_stack_face_count(const stapel_stack *s)
{
    return s == NULL ? 0 : s->n_faces;
}

stapel_face stapel_stack_face(const stapel_stack *s, size_t i)
{
    if (s == NULL || i >= s->n_faces) {
        stapel_face none = {0};
        return none;
    }
    const stapel__out_face *f = &s->faces[i];
    /* The claim ids are made on demand, into the stack's buffer. */
    const char *claims = NULL;
    if (s->face_claims != NULL)
        buf_reset(s->face_claims);
    if (s->face_claims != NULL && stapel__face_claim_ids(s, f, s->face_claims))
        claims = s->face_claims->data;
    stapel_face r = {f->n_claims, f->n_themes, f->themes,  claims,
                     f->province, f->novex,    f->verdict, f->conflict_pairs,
                     f->area};
    return r;
}

const stapel_summary *stapel_stack_summary(const stapel_stack *s)
{
    return s == NULL ? NULL : s->summary;
}

/* ---- worker threads ------------------------------------------------------- */


typedef struct run {
    stapel_ctx *parent;
    int shard_index, shard_count; /* process only tiles t with t % count == index - 1 */
    const stapel__input *in;
    const stapel__tiling *tl;
    stapel__face_list *out;
    atomic_size_t next;
    atomic_size_t done;
    atomic_int failed;
    pthread_mutex_t lock;
    size_t err_tile;
    stapel_status err;
    char err_msg[STAPEL_MSG_MAX];
} run;

static void run_tiles(run *r, stapel_ctx *wctx, bool report)
{
    for (;;) {
        if (atomic_load(&r->failed) || stapel__cancelled(wctx))
            return;
        size_t i = atomic_fetch_add(&r->next, 1);
        if (i >= r->tl->n_tiles)
            return;
        if (r->shard_count > 0 && (int)(i % (size_t)r->shard_count) != r->shard_index - 1) {
            atomic_fetch_add(&r->done, 1);
            continue; /* another shard's tile */
        }
        stapel__clear(wctx);
        stapel_status st = stapel__tile_overlay(wctx, r->in, r->tl, i, r->in->grid,
                                                &r->out[i].faces, &r->out[i].n);
        if (st != STAPEL_OK) {
            pthread_mutex_lock(&r->lock);
            if (r->err == STAPEL_OK || i < r->err_tile) {
                r->err = st;
                r->err_tile = i;
                snprintf(r->err_msg, sizeof r->err_msg, "%s", stapel_ctx_message(wctx));
            }
            pthread_mutex_unlock(&r->lock);
            atomic_store(&r->failed, 1);
            return;
        }
        size_t done = atomic_fetch_add(&r->done, 1) + 1;
        if (report)
            stapel__progress(r->parent, "overlay", (double)done / (double)r->tl->n_tiles);
    }
}

static void *worker_main(void *arg)
{
    run *r = arg;
    stapel_ctx *wctx = NULL;
    if (stapel__ctx_worker(r->parent, &wctx) != STAPEL_OK) {
        pthread_mutex_lock(&r->lock);
        if (r->err == STAPEL_OK) {
            r->err = STAPEL_ENOMEM;
            r->err_tile = SIZE_MAX;
            snprintf(r->err_msg, sizeof r->err_msg, "cannot start a worker thread");
        }
        pthread_mutex_unlock(&r->lock);
        atomic_store(&r->failed, 1);
        return NULL;
    }
    run_tiles(r, wctx, false);
    stapel_ctx_free(wctx);
    return NULL;
}

static stapel_status overlay_all(stapel_ctx *ctx, const stapel__input *in,
                                 const stapel__tiling *tl, const stapel_stack_opts *opts,
                                 stapel__face_list *out)
{
    int threads = opts->threads;
    run r = {.parent = ctx,
             .in = in,
             .tl = tl,
             .out = out,
             .shard_index = opts->shard_index,
             .shard_count = opts->shard_count};
    atomic_init(&r.next, 0);
    atomic_init(&r.done, 0);
    atomic_init(&r.failed, 0);
    pthread_mutex_init(&r.lock, NULL);
    int n = stapel__thread_count(threads, tl->n_tiles);
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    if (tids == NULL) {
        pthread_mutex_destroy(&r.lock);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    int started = 0;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&tids[i], NULL, worker_main, &r) != 0)
            break;
        started++;
    }
    /* The calling thread works too, and it alone reports progress. */
    run_tiles(&r, ctx, true);
    for (int i = 1; i <= started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    pthread_mutex_destroy(&r.lock);
    if (r.err != STAPEL_OK) {
        stapel__fail(ctx, r.err, "%s", r.err_msg);
        return r.err;
    }
    if (stapel__cancelled(ctx))
        return stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled during the overlay");
    return STAPEL_OK;
}

/* ---- seam merge ---------------------------------------------------------- */

typedef struct group {
    stapel__face **members; /* borrowed: the faces stay in their tile lists */
    size_t n, cap;
    stapel__face *merged; /* the faces of the members' union (merge_group) */
    size_t n_merged;
} group;

typedef struct slot {
    bool is_group;
    size_t index; /* face: position in the tile output list; group: group id */
    size_t tile;
} slot;

static uint64_t label_hash(const uint32_t *ids, uint32_t n)
{
    uint64_t hsh = STAPEL__HASH_INIT;
    for (uint32_t i = 0; i < n; i++) {
        hsh ^= ids[i];
        hsh *= 1099511628211ull;
    }
    return hsh ^ n;
}

static bool label_eq(const stapel__face *a, const stapel__face *b)
{
    return a->n_ids == b->n_ids && memcmp(a->ids, b->ids, a->n_ids * sizeof *a->ids) == 0;
}

/* ---- attributes ------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct claim_ref {
    size_t rank;
    uint32_t layer;
    int64_t fid;
} claim_ref;

static int cmp_claim(const void *a, const void *b)
{
    const claim_ref *u = a, *v = b;
    if (u->rank != v->rank)
        return u->rank < v->rank ? -1 : 1;
    if (u->layer != v->layer)
        return u->layer < v->layer ? -1 : 1;
    return (u->fid > v->fid) - (u->fid < v->fid);
}

/* The ';'-joined sorted names of the zones among ids[] in [lo, hi), into b
 * (emptied first). Returns false when out of memory. */
static bool join_zone_names(const stapel__input *in, const uint32_t *ids, uint32_t n, size_t lo,
                            size_t hi, stapel__buf *b)
{
    const char *small[64], **names = small;
    if (n > 64 && (names = malloc(n * sizeof *names)) == NULL)
        return false;
    size_t k = 0;
    buf_reset(b);
    for (uint32_t i = 0; i < n; i++) {
        if (ids[i] < lo || ids[i] >= hi)
            continue;
        const char *nm = in->zone_names[in->items[ids[i]].group];
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = strcmp(names[j], nm) == 0;
        if (!dup)
            names[k++] = nm;
    }
    qsort(names, k, sizeof *names, cmp_str);
    bool ok = true;
    for (size_t j = 0; j < k && ok; j++)
        ok = (j == 0 || stapel__buf_puts(b, ";")) && stapel__buf_puts(b, names[j]);
    if (names != small)
        free(names);
    return ok;
}

bool stapel__face_claim_ids(const stapel_stack *s, const stapel__out_face *f, stapel__buf *b)
{
    const stapel__input *in = &s->in;
    claim_ref small[32], *refs = small;
    if (f->n_ids > 32 && (refs = malloc(f->n_ids * sizeof *refs)) == NULL)
        return false;
    size_t nc = 0;
    for (uint32_t i = 0; i < f->n_ids && f->ids[i] < in->n_claims; i++) {
        const stapel__item *it = &in->items[f->ids[i]];
        refs[nc++] = (claim_ref){s->theme_rank[it->group], it->group, it->fid};
    }
    STAPEL__SORT_SMALL(claim_ref, refs, nc, cmp_claim);
    bool ok = stapel__buf_puts(b, "[");
    for (size_t i = 0; i < nc && ok; i++) {
        /* ":<fid>\"", written backwards from the end of num */
        char num[32], *p = num + sizeof num - 1;
        *p = '\0';
        *--p = '"';
        int64_t fid = refs[i].fid;
        uint64_t mag = fid < 0 ? 0 - (uint64_t)fid : (uint64_t)fid;
        do {
            *--p = (char)('0' + mag % 10);
            mag /= 10;
        } while (mag > 0);
        if (fid < 0)
            *--p = '-';
        *--p = ':';
        /* A theme's second layer on: "theme[k]", so that ids stay unique. */
        char nth[16] = "";
        if (s->layer_nth[refs[i].layer] > 1)
            snprintf(nth, sizeof nth, "[%u]", s->layer_nth[refs[i].layer]);
        ok = stapel__buf_puts(b, i > 0 ? ",\"" : "\"") &&
             stapel__buf_puts(b, s->themes[refs[i].rank]) && stapel__buf_puts(b, nth) &&
             stapel__buf_puts(b, p);
    }
    ok = ok && stapel__buf_puts(b, "]");
    if (refs != small)
        free(refs);
    return ok;
}

/* Scratch space of one attribute worker. */
#define ATTR_CACHE 1024 /* a power of two */

typedef struct attr_scratch {
    bool *seen;        /* n_themes */
    bool *unrated;     /* n_themes^2: pairs met without a rule */
    stapel__buf text;  /* one attribute being made */
    const char **cache; /* ATTR_CACHE pooled strings this worker has used */
    size_t n_cached;
} attr_scratch;

/* The pooled copy of the text in b (an empty b gives NULL when empty_null).
 * The worker's own cache answers most lookups without taking the pool's
 * lock. */
static stapel_status intern(stapel_ctx *ctx, stapel_stack *s, attr_scratch *sc, bool empty_null,
                            const char **out)
{
    stapel__buf *b = &sc->text;
    *out = NULL;
    if (b->len == 0 && empty_null)
        return STAPEL_OK;
    if (b->data == NULL && !stapel__buf_puts(b, ""))
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    size_t pos = (size_t)stapel__str_hash(b->data) & (ATTR_CACHE - 1);
    while (sc->cache[pos] != NULL && strcmp(sc->cache[pos], b->data) != 0)
        pos = (pos + 1) & (ATTR_CACHE - 1);
    if (sc->cache[pos] != NULL) {
        *out = sc->cache[pos];
        return STAPEL_OK;
    }
    *out = pool_intern(s->pool, b->data);
    if (*out == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    if (2 * (sc->n_cached + 1) > ATTR_CACHE) { /* full: start afresh */
        memset(sc->cache, 0, ATTR_CACHE * sizeof *sc->cache);
        sc->n_cached = 0;
        pos = (size_t)stapel__str_hash(b->data) & (ATTR_CACHE - 1);
    }
    sc->cache[pos] = *out;
    sc->n_cached++;
    return STAPEL_OK;
}

static stapel_status face_attributes(stapel_ctx *ctx, stapel_stack *s, stapel__out_face *of,
                                     attr_scratch *sc)
{
    const stapel__input *in = &s->in;
    const uint32_t *ids = of->ids;
    uint32_t n = of->n_ids;
    /* The face's themes, in rank order. */
    memset(sc->seen, 0, s->n_themes * sizeof *sc->seen);
    int nc = 0;
    for (uint32_t i = 0; i < n && ids[i] < in->n_claims; i++, nc++)
        sc->seen[s->theme_rank[in->items[ids[i]].group]] = true;
    size_t ranks[64];
    int n_themes = 0;
    for (size_t r = 0; r < s->n_themes; r++) {
        if (!sc->seen[r])
            continue;
        if (n_themes < 64)
            ranks[n_themes] = r;
        n_themes++;
    }
    stapel__buf *b = &sc->text;
    buf_reset(b);
    bool ok = true;
    int nt = n_themes < 64 ? n_themes : 64;
    for (int i = 0; i < nt && ok; i++)
        ok = (i == 0 || stapel__buf_puts(b, "+")) && stapel__buf_puts(b, s->themes[ranks[i]]);
    stapel_status st = ok ? intern(ctx, s, sc, false, &of->themes)
                          : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    /* The worst verdict over every pair of the face's themes (ranks are
     * sorted, so a < b and the pair names come out sorted). */
    stapel_verdict worst = STAPEL_VERDICT_SINGLE;
    buf_reset(b);
    ok = st == STAPEL_OK && stapel__buf_puts(b, "[");
    int n_pairs = 0;
    for (int i = 0; i < nt && ok; i++) {
        for (int j = i + 1; j < nt && ok; j++) {
            size_t a = ranks[i], c = ranks[j];
            stapel_verdict v = s->verdicts[a * s->n_themes + c];
            if (v > worst)
                worst = v;
            if (v == STAPEL_VERDICT_UNRATED)
                sc->unrated[a * s->n_themes + c] = true;
            if (v == STAPEL_VERDICT_CONFLICT)
                ok = stapel__buf_puts(b, n_pairs++ > 0 ? ",\"" : "\"") &&
                     stapel__buf_puts(b, s->themes[a]) && stapel__buf_puts(b, "\xc3\x97") &&
                     stapel__buf_puts(b, s->themes[c]) && stapel__buf_puts(b, "\"");
        }
    }
    ok = ok && stapel__buf_puts(b, "]");
    if (st == STAPEL_OK)
        st = ok ? intern(ctx, s, sc, false, &of->conflict_pairs)
                : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    size_t p0 = in->n_claims, p1 = p0 + in->n_provinces, n1 = p1 + in->n_novex;
    if (st == STAPEL_OK)
        st = join_zone_names(in, ids, n, p0, p1, b)
                 ? intern(ctx, s, sc, true, &of->province)
                 : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    if (st == STAPEL_OK)
        st = join_zone_names(in, ids, n, p1, n1, b)
                 ? intern(ctx, s, sc, true, &of->novex)
                 : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    of->verdict = worst;
    of->n_claims = nc;
    of->n_themes = n_themes;
    of->area = stapel__rings_area(stapel__out_rings(of), in->grid);
    return st;
}

/* Attributes of faces [job * CHUNK, ...) on a worker thread; pairs without a
 * rule are marked in the job's own row of unrated. */
#define ATTR_CHUNK 4096

typedef struct attr_job {
    stapel_stack *s;
    bool *unrated; /* n_jobs x (n_themes^2 + 1) */
} attr_job;

static stapel_status attr_chunk(stapel_ctx *ctx, size_t job, void *user)
{
    attr_job *a = user;
    stapel_stack *s = a->s;
    size_t lo = job * ATTR_CHUNK, hi = lo + ATTR_CHUNK < s->n_faces ? lo + ATTR_CHUNK : s->n_faces;
    attr_scratch sc = {.seen = calloc(s->n_themes + 1, sizeof *sc.seen),
                       .unrated = a->unrated + job * (s->n_themes * s->n_themes + 1),
                       .cache = calloc(ATTR_CACHE, sizeof *sc.cache)};
    stapel_status st = STAPEL_OK;
    if (sc.seen == NULL || sc.cache == NULL)
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = lo; i < hi && st == STAPEL_OK; i++)
        st = face_attributes(ctx, s, &s->faces[i], &sc);
    free(sc.seen);
    free(sc.cache);
    stapel__buf_free(&sc.text);
    return st;
}

/* The distinct themes of the layers, sorted, and each layer's rank; the
 * verdict of every pair of themes from the rules. */
stapel_status stapel__stack_themes(stapel_ctx *ctx, stapel_stack *s)
{
    size_t n_layers = s->n_layers;
    s->themes = malloc((n_layers > 0 ? n_layers : 1) * sizeof *s->themes);
    s->theme_rank = malloc((n_layers > 0 ? n_layers : 1) * sizeof *s->theme_rank);
    s->layer_nth = calloc(n_layers > 0 ? n_layers : 1, sizeof *s->layer_nth);
    if (s->themes == NULL || s->theme_rank == NULL || s->layer_nth == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_layers; i++)
        for (size_t j = 0; j <= i; j++)
            s->layer_nth[i] += strcmp(s->layer_themes[j], s->layer_themes[i]) == 0;
    for (size_t i = 0; i < n_layers; i++)
        s->themes[i] = s->layer_themes[i];
    qsort(s->themes, n_layers, sizeof *s->themes, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n_layers; i++)
        if (k == 0 || strcmp(s->themes[k - 1], s->themes[i]) != 0)
            s->themes[k++] = s->themes[i];
    s->n_themes = k;
    for (size_t i = 0; i < n_layers; i++)
        for (size_t j = 0; j < k; j++)
            if (strcmp(s->layer_themes[i], s->themes[j]) == 0)
                s->theme_rank[i] = j;
    s->verdicts = calloc(k * k + 1, sizeof *s->verdicts);
    s->notes = calloc(k * k + 1, sizeof *s->notes);
    if (s->verdicts == NULL || s->notes == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            s->verdicts[i * k + j] =
                stapel_rules_verdict(s->rules, s->themes[i], s->themes[j], &s->notes[i * k + j]);
    return STAPEL_OK;
}

/* Make *of of face f, taking its rings; the label is copied, or taken when
 * take_ids. False when out of memory (then *of is empty). */
static bool take_out(stapel__out_face *of, stapel__face *f, bool take_ids, bool seam)
{
    uint32_t *ids = f->ids;
    if (!take_ids) {
        ids = malloc((f->n_ids > 0 ? f->n_ids : 1) * sizeof *ids);
        if (ids == NULL) {
            *of = (stapel__out_face){0};
            return false;
        }
        memcpy(ids, f->ids, f->n_ids * sizeof *ids);
    } else {
        f->ids = NULL;
    }
    *of = (stapel__out_face){.pts = f->pts,
                             .ring_end = f->ring_end,
                             .n_rings = f->n_rings,
                             .ids = ids,
                             .n_ids = f->n_ids,
                             .seam = seam};
    f->pts = NULL;
    f->ring_end = NULL;
    return true;
}

typedef struct merge_job {
    group *groups;
    double grid;
} merge_job;

/* Dissolve the members of group k (faces of one label from different tiles
 * or shards) into gr->merged: one job of stapel__parallel_for. */
static stapel_status merge_group(stapel_ctx *ctx, size_t k, void *user)
{
    const merge_job *j = user;
    group *gr = &j->groups[k];
    if (gr->n == 1)
        return STAPEL_OK;
    stapel__rings *rings = malloc(gr->n * sizeof *rings);
    if (rings == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < gr->n; i++)
        rings[i] = (stapel__rings){gr->members[i]->pts, gr->members[i]->ring_end,
                                   gr->members[i]->n_rings};
    /* The faces of a tile meet only at its nodes, and the seams are aligned
     * (align_seams; stapel__seams_align_parts in a merge): edges meet only
     * at shared ends, so the union needs no snap rounding. Snap rounded, the
     * union of one label's faces routed an edge of it through a vertex of
     * the group within half a grid cell, and the face of another label on
     * the other side of that edge kept it where it was: a wedge a millimetre
     * wide between them was a gap, or covered twice. */
    stapel__aface *af = NULL;
    size_t n_af = 0;
    stapel_status st = stapel__dissolve_faces(ctx, rings, gr->n, true, &af, &n_af);
    free(rings);
    if (st == STAPEL_OK && (gr->merged = calloc(n_af + 1, sizeof *gr->merged)) == NULL)
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_af && st == STAPEL_OK; i++) {
        stapel__face *f = &gr->merged[gr->n_merged++];
        *f = (stapel__face){.pts = af[i].pts,
                            .ring_end = af[i].ring_end,
                            .n_rings = af[i].n_rings,
                            .pinched = af[i].pinched};
        af[i].pts = NULL;
        af[i].ring_end = NULL;
        st = stapel__face_unpinch(ctx, f, j->grid);
    }
    stapel__afaces_free(af, n_af);
    return st;
}

/* The faces of the stack in output order: a slot is a face off the seams
 * or a group of seam faces (its one member, or the faces of its union).
 * Each slot's faces have their places (at) worked out first, so that
 * chunks of slots are moved into s->faces on worker threads, each face to
 * the place it had when they were appended one by one. At scale 100 (5.1
 * million faces) this took 0.3 s of CPU on one thread while the other
 * cores waited, 1.1 s in a run with much page-fault time. */
#define EMIT_CHUNK 4096

typedef struct emit_job {
    stapel_stack *s;
    stapel__face_list *out;
    const slot *slots;
    group *groups;
    const size_t *at; /* per slot, the place of its first face; at[n_slots]: the end */
    size_t n_slots;
    bool *done; /* per chunk: its places are filled (with faces, or emptied) */
} emit_job;

/* How many faces slot sl makes. */
static size_t slot_faces(const slot *sl, const group *groups)
{
    if (!sl->is_group)
        return 1;
    const group *gr = &groups[sl->index];
    return gr->n == 1 ? 1 : gr->n_merged;
}

static stapel_status emit_chunk(stapel_ctx *ctx, size_t job, void *user)
{
    emit_job *j = user;
    size_t lo = job * EMIT_CHUNK, hi = lo + EMIT_CHUNK < j->n_slots ? lo + EMIT_CHUNK : j->n_slots;
    bool ok = true;
    size_t k = lo;
    for (; k < hi && ok; k++) {
        const slot *sl = &j->slots[k];
        stapel__out_face *of = &j->s->faces[j->at[k]];
        if (!sl->is_group) {
            ok = take_out(of, &j->out[sl->tile].faces[sl->index], true, false);
            continue;
        }
        group *gr = &j->groups[sl->index];
        stapel__face *first = gr->members[0];
        if (gr->n == 1) {
            ok = take_out(of, first, true, true);
            continue;
        }
        for (size_t i = 0; i < gr->n_merged; i++) {
            stapel__face *f = &gr->merged[i];
            f->ids = first->ids;
            f->n_ids = first->n_ids;
            if (!take_out(&of[i], f, false, true)) {
                ok = false;
                memset(&of[i], 0, (gr->n_merged - i) * sizeof *of);
                break;
            }
        }
    }
    if (!ok) /* the places of the slots not reached are left empty */
        memset(&j->s->faces[j->at[k]], 0, (j->at[hi] - j->at[k]) * sizeof *j->s->faces);
    j->done[job] = true;
    return ok ? STAPEL_OK : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
}

/* Split the pinched faces of one tile into valid parts. */
typedef struct unpinch_job {
    stapel_stack *s;
    stapel__face_list *out;
} unpinch_job;

static stapel_status unpinch_tile(stapel_ctx *ctx, size_t t, void *user)
{
    unpinch_job *j = user;
    stapel_status st = STAPEL_OK;
    for (size_t i = 0; i < j->out[t].n && st == STAPEL_OK; i++)
        st = stapel__face_unpinch(ctx, &j->out[t].faces[i], j->s->in.grid);
    return st;
}

/* Align the seams of the tile outputs and make every face a valid polygon. */
static stapel_status align_seams(stapel_ctx *ctx, stapel_stack *s, const stapel__tiling *tl,
                                 stapel__face_list *out)
{
    stapel__face **fv = malloc((tl->n_tiles + 1) * sizeof *fv);
    size_t *nv = malloc((tl->n_tiles + 1) * sizeof *nv);
    if (fv == NULL || nv == NULL) {
        free(fv);
        free(nv);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    for (size_t t = 0; t < tl->n_tiles; t++) {
        fv[t] = out[t].faces;
        nv[t] = out[t].n;
    }
    stapel_status st = stapel__seams_align(ctx, tl, fv, nv, s->in.grid, s->threads);
    free(fv);
    free(nv);
    if (st != STAPEL_OK)
        return st;
    stapel__progress(ctx, "merging", 0.1);
    unpinch_job job = {s, out};
    stapel__progress_span(ctx, "merging", 0.1, 0.2);
    st = stapel__parallel_for(ctx, tl->n_tiles, s->threads, "merging", unpinch_tile, &job);
    stapel__progress_span(ctx, NULL, 0.0, 1.0);
    return st;
}

/* How the rules spell theme when they name it only in another case
 * ('nature' for the layer theme 'Nature'): such a theme gets none of
 * their verdicts, as themes are told apart by case. NULL when the rules
 * name it as it is, or not at all. */
static const char *rules_spelling(const stapel_rules *rules, const char *theme)
{
    const char *other = NULL;
    for (size_t i = 0; i < stapel_rules_theme_count(rules); i++) {
        const char *r = stapel_rules_theme(rules, i);
        if (strcmp(r, theme) == 0)
            return NULL;
        if (other == NULL && stapel__ascii_case_equal(r, theme))
            other = r;
    }
    return other;
}

/* Move the faces of the n_slots slots into s, in slot order. */
static stapel_status emit_faces(stapel_ctx *ctx, stapel_stack *s, stapel__face_list *out,
                                const slot *slots, size_t n_slots, group *groups)
{
    size_t n_jobs = (n_slots + EMIT_CHUNK - 1) / EMIT_CHUNK;
    size_t *at = malloc((n_slots + 1) * sizeof *at);
    bool *done = calloc(n_jobs + 1, sizeof *done);
    if (at == NULL || done == NULL) {
        free(at);
        free(done);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    at[0] = s->n_faces;
    for (size_t k = 0; k < n_slots; k++)
        at[k + 1] = at[k] + slot_faces(&slots[k], groups);
    stapel_status st = STAPEL_OK;
    if (s->cap_faces < at[n_slots] + 1) {
        stapel__out_face *d = realloc(s->faces, (at[n_slots] + 1) * sizeof *d);
        if (d == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        } else {
            s->faces = d;
            s->cap_faces = at[n_slots] + 1;
        }
    }
    if (st == STAPEL_OK) {
        emit_job ej = {s, out, slots, groups, at, n_slots, done};
        st = stapel__parallel_for(ctx, n_jobs, s->threads, NULL, emit_chunk, &ej);
        /* A chunk a failure or a cancel kept from running keeps its faces
         * where they were (freed with them) and its places empty, so that
         * the stack frees what it holds. */
        for (size_t job = 0; job < n_jobs && st != STAPEL_OK; job++) {
            size_t lo = job * EMIT_CHUNK,
                   hi = lo + EMIT_CHUNK < n_slots ? lo + EMIT_CHUNK : n_slots;
            if (!done[job])
                memset(&s->faces[at[lo]], 0, (at[hi] - at[lo]) * sizeof *s->faces);
        }
        s->n_faces = at[n_slots];
        if (st == STAPEL_ECANCELLED)
            st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled while merging seams");
    }
    free(at);
    free(done);
    return st;
}

/* Turn face lists (one per tile, or per shard when merging) into the faces
 * of the stack: faces flagged on_seam are merged with the faces of the same
 * label from the other lists. */
stapel_status stapel__stack_assemble(stapel_ctx *ctx, stapel_stack *s, size_t n_lists,
                                     stapel__face_list *out)
{
    stapel_status st = STAPEL_OK;
    size_t n_total = 0, n_seam = 0;
    for (size_t t = 0; t < n_lists; t++) {
        n_total += out[t].n;
        for (size_t i = 0; i < out[t].n; i++)
            n_seam += out[t].faces[i].on_seam;
    }
    size_t hcap = 16;
    while (hcap < 2 * n_seam + 16)
        hcap *= 2;
    size_t *table = malloc(hcap * sizeof *table); /* group id + 1, 0 = empty */
    group *groups = calloc(n_seam > 0 ? n_seam : 1, sizeof *groups);
    slot *slots = malloc((n_total > 0 ? n_total : 1) * sizeof *slots);
    bool *unrated = calloc(s->n_themes * s->n_themes + 1, sizeof *unrated);
    size_t n_groups = 0, n_slots = 0;
    if (s->pool == NULL)
        s->pool = pool_new();
    if (s->face_claims == NULL)
        s->face_claims = calloc(1, sizeof *s->face_claims);
    if (table == NULL || groups == NULL || slots == NULL || unrated == NULL || s->pool == NULL ||
        s->face_claims == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    memset(table, 0, hcap * sizeof *table);
    /* The faces are known now: room for all of them at once, so the array
     * does not grow by copying. */
    if (s->cap_faces < n_total + n_seam) {
        stapel__out_face *d = realloc(s->faces, (n_total + n_seam + 1) * sizeof *d);
        if (d == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        s->faces = d;
        s->cap_faces = n_total + n_seam + 1;
    }

    for (size_t t = 0; t < n_lists; t++) {
        for (size_t i = 0; i < out[t].n; i++) {
            stapel__face *f = &out[t].faces[i];
            if (!f->on_seam) {
                slots[n_slots++] = (slot){false, i, t};
                continue;
            }
            size_t pos = (size_t)label_hash(f->ids, f->n_ids) & (hcap - 1);
            while (table[pos] != 0 && !label_eq(groups[table[pos] - 1].members[0], f))
                pos = (pos + 1) & (hcap - 1);
            if (table[pos] == 0) {
                table[pos] = ++n_groups;
                slots[n_slots++] = (slot){true, n_groups - 1, t};
            }
            group *gr = &groups[table[pos] - 1];
            if (gr->n == gr->cap) {
                size_t cap = gr->cap == 0 ? 2 : gr->cap * 2;
                stapel__face **d = realloc(gr->members, cap * sizeof *d);
                if (d == NULL) {
                    st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                    goto done;
                }
                gr->members = d;
                gr->cap = cap;
            }
            gr->members[gr->n++] = f;
        }
    }
    /* The unions of the seam groups, in parallel; emitted below in order.
     * The steps of the merging phase report their shares of it: at scale
     * 10 the seams took a fifth of its time, the unions and their output
     * a third, the attributes below nearly half. */
    stapel__progress(ctx, "merging", 0.25);
    if (st == STAPEL_OK) {
        merge_job mj = {groups, s->in.grid};
        stapel__progress_span(ctx, "merging", 0.25, 0.45);
        st = stapel__parallel_for(ctx, n_groups, s->threads, "merging", merge_group, &mj);
        stapel__progress_span(ctx, NULL, 0.0, 1.0);
    }
    if (st == STAPEL_OK)
        st = emit_faces(ctx, s, out, slots, n_slots, groups);
    stapel__progress(ctx, "merging", 0.55);
    if (st == STAPEL_OK) {
        size_t n_jobs = (s->n_faces + ATTR_CHUNK - 1) / ATTR_CHUNK;
        size_t T2 = s->n_themes * s->n_themes + 1;
        attr_job aj = {s, calloc(n_jobs * T2 + 1, sizeof(bool))};
        if (aj.unrated == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        } else {
            stapel__progress_span(ctx, "merging", 0.55, 0.95);
            st = stapel__parallel_for(ctx, n_jobs, s->threads, "merging", attr_chunk, &aj);
            stapel__progress_span(ctx, NULL, 0.0, 1.0);
            for (size_t j = 0; j < n_jobs; j++)
                for (size_t k = 0; k < T2; k++)
                    unrated[k] = unrated[k] || aj.unrated[j * T2 + k];
            free(aj.unrated);
        }
    }
    /* The pairs that meet anywhere in the run: a shard sees only its
     * tiles, and would list some of them; stapel merge has the whole. */
    if (st == STAPEL_OK && s->shard_count == 0) {
        stapel__buf b = {0};
        size_t k = s->n_themes, n_un = 0;
        for (size_t i = 0; i < k; i++) {
            for (size_t j = i + 1; j < k; j++) {
                if (!unrated[i * k + j])
                    continue;
                stapel__buf_printf(&b, "%s%s\xc3\x97%s", n_un > 0 ? ", " : "", s->themes[i],
                                   s->themes[j]);
                n_un++;
            }
        }
        /* A theme of those pairs that the rules spell otherwise is mended
         * by its spelling, not by a rule for its pairs; n_left of the pairs
         * stay unrated when so spelled. */
        stapel__buf spell = {0};
        size_t n_left = 0;
        for (size_t i = 0, n_sp = 0; i < k && n_un > 0; i++) {
            bool paired = false;
            for (size_t j = 0; j < k && !paired; j++)
                paired = i != j && unrated[i < j ? i * k + j : j * k + i];
            const char *other = paired ? rules_spelling(s->rules, s->themes[i]) : NULL;
            if (other != NULL)
                stapel__buf_printf(&spell, "%s'%s' as '%s'", n_sp++ > 0 ? ", " : "", s->themes[i],
                                   other);
            for (size_t j = i + 1; j < k; j++) {
                if (!unrated[i * k + j])
                    continue;
                const char *a = rules_spelling(s->rules, s->themes[i]);
                const char *c = rules_spelling(s->rules, s->themes[j]);
                n_left += stapel_rules_verdict(s->rules, a != NULL ? a : s->themes[i],
                                               c != NULL ? c : s->themes[j],
                                               NULL) == STAPEL_VERDICT_UNRATED;
            }
        }
        if (spell.len == 0)
            n_left = n_un;
        /* Under the built-in rules there is no rules file to add to, and
         * a file of the missing pairs alone would replace them: their land
         * would leave conflict_m2 and kans_m2 for 'unrated'. Said as it
         * holds for any caller, one without an output or a --rules too,
         * or with the installed library but no source tree (which also
         * has stapel_rules_builtin_csv()); the tool adds where its output
         * keeps a copy (n_builtin_unrated). */
        bool builtin = s->rules != NULL && s->rules->builtin;
        const char *add =
            n_left == 0 ? ""
            : !builtin  ? (n_left == 1 ? "add it to the rules file" : "add them to the rules file")
            : n_left == 1
                ? "the built-in rules lack it, and a rules file replaces them, not adds "
                  "to them: start from a copy of them (docs/rules/novex-default.csv, "
                  "installed in share/stapel/rules/; the format is in docs/RULES.md) and "
                  "add the pair"
                : "the built-in rules lack them, and a rules file replaces them, not "
                  "adds to them: start from a copy of them (docs/rules/novex-default.csv, "
                  "installed in share/stapel/rules/; the format is in docs/RULES.md) and "
                  "add the pairs";
        if (n_un > 0 && builtin)
            s->stats.n_builtin_unrated = (int64_t)n_left;
        char left[80] = "";
        if (n_left > 0)
            snprintf(left, sizeof left, "; %zu of the pairs stay%s unrated then: ", n_left,
                     n_left == 1 ? "s" : "");
        if (n_un > 0 && spell.len > 0)
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "no rule for %zu theme pair%s that meet%s (verdict 'unrated'): %s; themes "
                        "are told apart by case: write %s, as the rules do%s%s",
                        n_un, n_un == 1 ? "" : "s", n_un == 1 ? "s" : "",
                        b.data != NULL ? b.data : "", spell.data, left, add);
        else if (n_un > 0)
            stapel__log(ctx, STAPEL_LOG_WARN,
                        "no rule for %zu theme pair%s that meet%s (verdict 'unrated'): %s; %s",
                        n_un, n_un == 1 ? "" : "s", n_un == 1 ? "s" : "",
                        b.data != NULL ? b.data : "", add);
        stapel__buf_free(&spell);
        stapel__buf_free(&b);
    }
done:
    if (groups != NULL) {
        for (size_t g = 0; g < n_groups; g++) {
            free(groups[g].members);
            for (size_t i = 0; i < groups[g].n_merged; i++) {
                free(groups[g].merged[i].pts);
                free(groups[g].merged[i].ring_end);
            }
            free(groups[g].merged);
        }
    }
    free(groups);
    free(table);
    free(slots);
    free(unrated);
    return st;
}

/* ---- claims outside the provinces ----------------------------------------- */

/* An area for a message: km², ha or m², the unit picked by the area as
 * rounded (9,999.6 m² is '1.0 ha', not '10000 m²'); below 9.5 m² in two
 * significant digits (claims in degrees labelled RD are that small, and
 * were '0 m²'). */
static void area_text(double m2, char *buf, size_t size)
{
    if (m2 >= 99.95 * 1e4)
        snprintf(buf, size, "%.1f km\xc2\xb2", m2 / 1e6);
    else if (m2 >= 1e4 - 0.5)
        snprintf(buf, size, "%.1f ha", m2 / 1e4);
    else if (m2 >= 9.5)
        snprintf(buf, size, "%.0f m\xc2\xb2", m2);
    else
        snprintf(buf, size, "%.2g m\xc2\xb2", m2);
}

/* Claimed area outside every province counts in no province and not in the
 * summary's total row (the union of the provinces): offshore wind, the
 * water of the IJsselmeer, or a province layer of another region. From
 * 0.1 % of the claimed area on, the user hears how much, and of which
 * themes (a face counts for each of its themes). The extent test in read.c
 * tells of a layer that misses the provinces altogether. Given by a whole
 * run and by stapel merge, not by a shard. */
stapel_status stapel__warn_outside_provinces(stapel_ctx *ctx, const stapel_stack *s,
                                            const char *source)
{
    size_t T = s->n_themes;
    double *by = calloc(T + 1, sizeof *by);
    size_t *order = malloc((T + 1) * sizeof *order);
    bool *seen = calloc(T + 1, sizeof *seen);
    stapel__buf b = {0};
    stapel_status st = STAPEL_OK;
    if (by == NULL || order == NULL || seen == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    double total = 0, outside = 0;
    for (size_t i = 0; i < s->n_faces; i++) {
        const stapel__out_face *f = &s->faces[i];
        total += f->area;
        if (f->province != NULL)
            continue;
        outside += f->area;
        for (uint32_t k = 0; k < f->n_ids && f->ids[k] < s->in.n_claims; k++) {
            size_t r = s->theme_rank[s->in.items[f->ids[k]].group];
            if (!seen[r])
                by[r] += f->area;
            seen[r] = true;
        }
        memset(seen, 0, T * sizeof *seen);
    }
    if (!(outside > 0) || outside < 1e-3 * total)
        goto done;
    size_t n = 0;
    for (size_t r = 0; r < T; r++) {
        if (!(by[r] > 0))
            continue;
        size_t j = n++; /* insertion by area, largest first */
        for (; j > 0 && by[order[j - 1]] < by[r]; j--)
            order[j] = order[j - 1];
        order[j] = r;
    }
    char a[64];
    bool ok = true;
    for (size_t j = 0; j < n && ok; j++) {
        area_text(by[order[j]], a, sizeof a);
        ok = stapel__buf_printf(&b, "%s%s %s", j > 0 ? ", " : "", s->themes[order[j]], a);
    }
    if (!ok) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    double pct = 100.0 * outside / total;
    area_text(outside, a, sizeof a);
    stapel__log(ctx, STAPEL_LOG_WARN,
                "%s of the claimed area (%.*f %%) lies outside every province (%s): %s; it "
                "counts in no province nor in the summary's total",
                a, pct >= 10 ? 0 : 1, pct, source, b.data != NULL ? b.data : "");
done:
    free(by);
    free(order);
    free(seen);
    stapel__buf_free(&b);
    return st;
}

/* ---- run identity -------------------------------------------------------- */

bool stapel__kv_push(stapel__kv **rows, size_t *n, const char *key, const char *value)
{
    stapel__kv *d = realloc(*rows, (*n + 1) * sizeof *d);
    if (d == NULL)
        return false;
    *rows = d;
    d[*n].key = stapel__strdup(key);
    d[*n].value = stapel__strdup(value);
    if (d[*n].key == NULL || d[*n].value == NULL) {
        free(d[*n].key);
        free(d[*n].value);
        return false;
    }
    (*n)++;
    return true;
}

void stapel__kv_free(stapel__kv *rows, size_t n)
{
    for (size_t i = 0; rows != NULL && i < n; i++) {
        free(rows[i].key);
        free(rows[i].value);
    }
    free(rows);
}

/* The working CRS as AUTHORITY:CODE when it has one, else its WKT. Caller
 * owns the result; NULL when out of memory. */
static char *crs_name(stapel_ctx *ctx, const char *wkt)
{
    char *out = NULL;
    stapel__gdal_push(ctx);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(wkt);
    if (srs != NULL) {
        const char *auth = OSRGetAuthorityName(srs, NULL);
        const char *code = OSRGetAuthorityCode(srs, NULL);
        if (auth != NULL && code != NULL) {
            size_t n = strlen(auth) + strlen(code) + 2;
            out = malloc(n);
            if (out != NULL)
                snprintf(out, n, "%s:%s", auth, code);
        }
        OSRDestroySpatialReference(srs);
    }
    stapel__gdal_pop();
    return out != NULL ? out : stapel__strdup(wkt);
}

/* The process's working directory, in malloc'd memory, or NULL. */
static char *working_directory(void)
{
    for (size_t size = 256; size <= ((size_t)1 << 20); size *= 2) {
        char *dir = malloc(size);
        if (dir == NULL || getcwd(dir, size) != NULL)
            return dir;
        free(dir);
        if (errno != ERANGE)
            return NULL;
    }
    return NULL;
}

/* A fingerprint of the claims and zones as read (docs/FORMAT.md, the data
 * row): FNV-1a over 64-bit words rather than bytes, as it runs over every
 * vertex. Shards of one run read the same items; an input that changed
 * between them changes it, also where the tiling stays the same. */
static uint64_t word_hash(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

static uint64_t data_hash(const stapel__input *in)
{
    uint64_t h = word_hash(STAPEL__HASH_INIT, (uint64_t)in->n_claims);
    h = word_hash(h, (uint64_t)(in->n_items - in->n_claims));
    for (size_t i = 0; i < in->n_items; i++) {
        const stapel__item *it = &in->items[i];
        if (i < in->n_claims)
            h = word_hash(h, it->group);
        else
            h = stapel__hash_more(h, in->zone_names[it->group]);
        h = word_hash(h, (uint64_t)it->fid);
        h = word_hash(h, it->n_rings);
        uint32_t start = 0;
        for (uint32_t r = 0; r < it->n_rings; r++) {
            h = word_hash(h, it->ring_end[r] - start);
            for (uint32_t k = start; k < it->ring_end[r]; k++)
                h = word_hash(word_hash(h, (uint64_t)it->pts[k].x), (uint64_t)it->pts[k].y);
            start = it->ring_end[r];
        }
    }
    return h;
}

/* The run_info rows that identify the run (docs/FORMAT.md): everything a
 * shard's faces depend on, so that a merge can tell shards of one run from
 * shards of another. The order is fixed; a merge reports the first row that
 * differs. */
static stapel_status describe_run(stapel_ctx *ctx, stapel_stack *s, const stapel_job *job,
                                  const stapel__tiling *tl)
{
    stapel__buf b = {0};
    char num[64];
    CPLsnprintf(num, sizeof num, "%.17g", s->in.grid); /* whatever the locale */
    bool ok = stapel__kv_push(&s->run, &s->n_run, "grid", num);
    for (size_t i = 0; ok && i < job->n_layers; i++) {
        b.len = 0;
        ok = stapel__buf_printf(&b, "%s=%s", job->layers[i].theme, job->layers[i].source) &&
             stapel__kv_push(&s->run, &s->n_run, "layer", b.data);
    }
    for (size_t i = 0; ok && i < job->n_layers; i++) {
        if (job->layers[i].where == NULL)
            continue;
        b.len = 0;
        /* per layer, named as its claim ids name it: theme, theme[2], ... */
        char nth[16] = "";
        if (s->layer_nth[i] > 1)
            snprintf(nth, sizeof nth, "[%u]", s->layer_nth[i]);
        ok = stapel__buf_printf(&b, "%s%s=%s", job->layers[i].theme, nth, job->layers[i].where) &&
             stapel__kv_push(&s->run, &s->n_run, "where", b.data);
    }
    const char *zone_key[2] = {"provinces", "novex"};
    const char *field_key[2] = {"provinces_field", "novex_field"};
    for (int k = 0; ok && k < 2; k++) {
        if (job->zones[k].source == NULL)
            continue;
        ok = stapel__kv_push(&s->run, &s->n_run, zone_key[k], job->zones[k].source) &&
             stapel__kv_push(&s->run, &s->n_run, field_key[k], job->zones[k].field);
    }
    snprintf(num, sizeof num, "%016" PRIx64, stapel__rules_hash(s->rules));
    ok = ok && stapel__kv_push(&s->run, &s->n_run, "rules", s->rules->source) &&
         stapel__kv_push(&s->run, &s->n_run, "rules_hash", num);
    char *crs = ok ? crs_name(ctx, s->in.crs_wkt) : NULL;
    ok = ok && crs != NULL && stapel__kv_push(&s->run, &s->n_run, "crs", crs);
    free(crs);
    if (ok && job->s_srs != NULL)
        ok = stapel__kv_push(&s->run, &s->n_run, "s_srs", job->s_srs);
    snprintf(num, sizeof num, "%zu", tl->n_tiles);
    ok = ok && stapel__kv_push(&s->run, &s->n_run, "tiles", num);
    snprintf(num, sizeof num, "%016" PRIx64, stapel__tiling_hash(tl));
    ok = ok && stapel__kv_push(&s->run, &s->n_run, "tiling", num);
    snprintf(num, sizeof num, "%016" PRIx64, data_hash(&s->in));
    ok = ok && stapel__kv_push(&s->run, &s->n_run, "data", num);
    stapel__buf_free(&b);
    if (!ok)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    return STAPEL_OK;
}

/* ---- build --------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The warnings about the inputs in a shard other than the first, counted
 * instead of given: every shard reads the same inputs and has the same to
 * say of them, which N shards run side by side (GNU parallel) would say N
 * times over. Shard 1 gives them; the others say how many it gives. */
static void hush_start(stapel_ctx *ctx, stapel__log_count *h, const stapel_job *job)
{
    *h = (stapel__log_count){0};
    if (ctx->log != NULL && job->opts.shard_count > 0 && job->opts.shard_index > 1)
        stapel__log_count_start(ctx, h, true);
}

static void hush_end(stapel_ctx *ctx, stapel__log_count *h, const stapel_job *job)
{
    if (!stapel__log_count_end(ctx, h))
        return;
    /* Rules the caller read (stapel_job_set_rules) warned before the
     * build, to whatever log it gave them; shard 1 gives those too. */
    size_t n = h->n_warnings + (job->rules != NULL ? job->rules->n_warnings : 0);
    if (n > 0)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "%zu warning%s about the inputs %s left to shard 1/%d, which reads the "
                    "same inputs and gives %s",
                    n, n == 1 ? "" : "s", n == 1 ? "is" : "are", job->opts.shard_count,
                    n == 1 ? "it" : "them");
}

/* Everything up to the faces with their attributes; the conflicts and
 * summaries come after. */
/* With path, the output is refused (stapel__output_check) after the
 * sources are opened and before they are read. */
static stapel_status build_faces(stapel_ctx *ctx, stapel_stack **out, const stapel_job *job_c,
                                 const char *path, unsigned flags)
{
    *out = NULL;
    stapel_job *job = (stapel_job *)job_c; /* only the layer counters change */
    if (job->n_layers == 0)
        return stapel__fail(ctx, STAPEL_EINVAL, "no claim layers: add at least one");
    stapel_stack *s = calloc(1, sizeof *s);
    if (s == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    s->geos = GEOS_init_r();
    stapel__tiling tl = {0};
    stapel__face_list *tout = NULL;
    stapel_status st = STAPEL_OK;
    if (s->geos == NULL) {
        free(s);
        return stapel__fail(ctx, STAPEL_EGEOS, "cannot start GEOS");
    }
    stapel__log_count h;
    hush_start(ctx, &h, job);
    s->n_layers = job->n_layers;
    s->shard_index = job->opts.shard_index;
    s->shard_count = job->opts.shard_count;
    s->threads = job->opts.threads;
    s->layer_themes = calloc(job->n_layers, sizeof *s->layer_themes);
    s->layer_sources = calloc(job->n_layers, sizeof *s->layer_sources);
    if (s->layer_themes == NULL || s->layer_sources == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < job->n_layers; i++) {
        s->layer_themes[i] = stapel__strdup(job->layers[i].theme);
        s->layer_sources[i] = stapel__strdup(job->layers[i].source);
        if (s->layer_themes[i] == NULL || s->layer_sources[i] == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }

    if (job->rules != NULL)
        st = stapel__rules_clone(ctx, &s->rules, job->rules);
    else
        st = stapel_rules_read(ctx, &s->rules, NULL);
    if (st != STAPEL_OK)
        goto done;
    st = stapel__stack_themes(ctx, s);
    if (st != STAPEL_OK)
        goto done;
    if (!s->rules->builtin) {
        /* The themes of the rules file no layer has, said in one warning: a
         * copy of the built-in rules (the output's rules table, as the
         * unrated pairs' advice says) names many a run does not use. */
        stapel__buf unused = {0};
        size_t n_unused = 0;
        for (size_t i = 0; i < stapel_rules_theme_count(s->rules); i++) {
            const char *t = stapel_rules_theme(s->rules, i);
            bool used = false;
            const char *other_case = NULL; /* a layer's theme that differs only in case */
            for (size_t j = 0; j < s->n_themes; j++) {
                used = used || strcmp(s->themes[j], t) == 0;
                if (other_case == NULL && stapel__ascii_case_equal(s->themes[j], t))
                    other_case = s->themes[j];
            }
            if (!used && other_case != NULL)
                stapel__log(ctx, STAPEL_LOG_WARN,
                            "rules %s: theme '%s' is used by no layer; a layer has theme '%s': "
                            "themes are told apart by case, write them alike",
                            s->rules->source, t, other_case);
            else if (!used && !stapel__buf_printf(&unused, "%s'%s'", n_unused++ ? ", " : "", t)) {
                stapel__buf_free(&unused);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
        }
        if (n_unused > 0)
            stapel__log(ctx, STAPEL_LOG_WARN, "rules %s: %s %s %s used by no layer",
                        s->rules->source, n_unused == 1 ? "theme" : "themes", unused.data,
                        n_unused == 1 ? "is" : "are");
        stapel__buf_free(&unused);
    }
    /* Themes are told apart by case, so two spellings of one theme are two
     * themes: their claims stack on each other, and every number of the
     * summary counts that land twice (claimed, 2+ themes). Nothing else
     * would say so but an unrated pair. */
    for (size_t i = 0; i < s->n_themes; i++)
        for (size_t j = i + 1; j < s->n_themes; j++)
            if (stapel__ascii_case_equal(s->themes[i], s->themes[j]))
                stapel__log(ctx, STAPEL_LOG_WARN,
                            "themes '%s' and '%s' differ only in case: they are two themes, so "
                            "where their claims meet the land counts as stacked with 2 themes "
                            "and is claimed twice in the summary; give their layers one theme, "
                            "written alike",
                            s->themes[i], s->themes[j]);
    /* The built-in rules name their themes in lower case: 'Nature' gets
     * none of them, and only 'unrated' pairs would hint at it. */
    if (s->rules->builtin) {
        for (size_t j = 0; j < s->n_themes; j++) {
            const char *t = s->themes[j], *other_case = rules_spelling(s->rules, t);
            bool taken = false; /* a layer spells it as the rules do: said above */
            for (size_t k = 0; k < s->n_themes && other_case != NULL; k++)
                taken = taken || strcmp(s->themes[k], other_case) == 0;
            if (other_case != NULL && !taken)
                stapel__log(ctx, STAPEL_LOG_WARN,
                            "theme '%s' has no rules: the built-in rules have theme '%s', and "
                            "themes are told apart by case; write it '%s'",
                            t, other_case, other_case);
        }
    }
    for (int k = 0; k < 2; k++) {
        if (job->zones[k].field == NULL)
            continue;
        /* The name field of the output's zone layer. Beside it, that layer
         * has the GeoPackage columns fid and geom, and SQLite tells column
         * names apart without case: a field of either name (a shapefile's
         * FID or GEOM) is written as FIELD_1, or the layer could not be made
         * and the run failed after all its work. */
        const char *field = job->zones[k].field;
        bool taken =
            stapel__ascii_case_equal(field, "fid") || stapel__ascii_case_equal(field, "geom");
        size_t len = strlen(field);
        s->zone_fields[k] = malloc(len + 3);
        if (s->zone_fields[k] != NULL)
            snprintf(s->zone_fields[k], len + 3, "%s%s", field, taken ? "_1" : "");
        if (s->zone_fields[k] == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    double t0 = now();
    st = stapel__input_read(ctx, &s->in, job, path, flags);
    s->stats.seconds_read = now() - t0;
    hush_end(ctx, &h, job);
    if (st != STAPEL_OK)
        goto done;
    for (size_t i = 0; i < job->n_layers; i++) {
        s->stats.n_read += job->layers[i].n_read;
        s->stats.n_repaired += job->layers[i].n_repaired;
        s->stats.n_empty += job->layers[i].n_empty;
    }
    s->stats.n_claims = (int64_t)s->in.n_claims;

    size_t target = job->opts.tile_vertices > 0 ? job->opts.tile_vertices : DEFAULT_TILE_VERTICES;
    st = stapel__tiling_make(ctx, &tl, &s->in, s->in.grid, target, s->threads);
    if (st != STAPEL_OK)
        goto done;
    s->stats.n_tiles = (int64_t)tl.n_tiles;
    /* Shard i takes tiles i-1, i-1+N, ...: beyond the tile count it gets
     * none, and its part is empty. (No tiles at all: the layers are empty,
     * and have said so.) */
    if (job->opts.shard_count > 0 && tl.n_tiles > 0 &&
        (size_t)job->opts.shard_index > tl.n_tiles)
        stapel__log(ctx, STAPEL_LOG_WARN,
                    "shard %d/%d holds no tiles: the run has %zu tile%s; use at most %zu "
                    "shard%s or a smaller --tile-vertices",
                    job->opts.shard_index, job->opts.shard_count, tl.n_tiles,
                    tl.n_tiles == 1 ? "" : "s", tl.n_tiles, tl.n_tiles == 1 ? "" : "s");
    st = describe_run(ctx, s, job, &tl);
    if (st != STAPEL_OK)
        goto done;
    s->directory = working_directory(); /* NULL if it has gone: then run_info has no row */
    tout = calloc(tl.n_tiles > 0 ? tl.n_tiles : 1, sizeof *tout);
    if (tout == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    stapel__progress(ctx, "overlay", 0.0);
    t0 = now();
    st = overlay_all(ctx, &s->in, &tl, &job->opts, tout);
    s->stats.seconds_overlay = now() - t0;
    if (st != STAPEL_OK)
        goto done;
    stapel__progress(ctx, "overlay", 1.0); /* the last tiles may end on a worker */
    /* Merging ends after the warning about the area outside the provinces,
     * which takes seconds at scale 100. */
    stapel__progress(ctx, "merging", 0.0);
    /* The claims' rings are in the faces now; a claim is only its layer and
     * fid from here on. */
    for (size_t i = 0; i < s->in.n_claims; i++) {
        free(s->in.items[i].pts);
        free(s->in.items[i].ring_end);
        s->in.items[i].pts = NULL;
        s->in.items[i].ring_end = NULL;
        s->in.items[i].n_rings = 0;
    }
    t0 = now();
    st = align_seams(ctx, s, &tl, tout);
    if (st == STAPEL_OK)
        st = stapel__stack_assemble(ctx, s, tl.n_tiles, tout);
    s->stats.seconds_merge = now() - t0;
    /* A shard sees only its part: stapel merge has the whole. */
    if (st == STAPEL_OK && s->in.n_provinces > 0 && s->shard_count == 0)
        st = stapel__warn_outside_provinces(ctx, s, job->zones[STAPEL_ZONE_PROVINCE].source);
    if (st != STAPEL_OK)
        goto done;
    stapel__progress(ctx, "merging", 1.0);
    s->stats.n_faces = (int64_t)s->n_faces;
    /* A shard records its face count, which stapel merge checks. */
    if (s->shard_count > 0) {
        char num[32];
        snprintf(num, sizeof num, "%zu", s->n_faces);
        if (!stapel__kv_push(&s->run, &s->n_run, "faces", num))
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
done:
    hush_end(ctx, &h, job); /* when the read was not reached */
    if (tout != NULL) {
        for (size_t t = 0; t < tl.n_tiles; t++)
            stapel__faces_free(tout[t].faces, tout[t].n);
        free(tout);
    }
    stapel__tiling_clear(&tl);
    if (st != STAPEL_OK) {
        stapel_stack_free(s);
        return st;
    }
    *out = s;
    return STAPEL_OK;
}

stapel_status stapel_stack_build(stapel_ctx *ctx, stapel_stack **out, const stapel_job *job)
{
    STAPEL__ENTER_OUT(ctx, out);
    if (job == NULL)
        return stapel__null(ctx, "job");
    stapel_stack *s = NULL;
    stapel_status st = build_faces(ctx, &s, job, NULL, 0);
    if (st != STAPEL_OK)
        return st;
    return stapel__stack_finish(ctx, s, NULL, 0, out);
}

/* The stack layer is written on its own thread while the conflicts and the
 * summaries are computed: the two need each other's results only at the end. */
typedef struct face_writer {
    stapel_ctx *parent;
    stapel__out *o;
    const stapel_stack *s;
    stapel_status st;
    char msg[STAPEL_MSG_MAX];
    double seconds;
    pthread_mutex_t lock; /* done and its signal */
    pthread_cond_t cond;
    bool done;
} face_writer;

static void writer_finished(face_writer *fw)
{
    pthread_mutex_lock(&fw->lock);
    fw->done = true;
    pthread_cond_signal(&fw->cond);
    pthread_mutex_unlock(&fw->lock);
}

static void *write_faces_main(void *arg)
{
    face_writer *fw = arg;
    stapel_ctx *wctx = NULL;
    fw->st = stapel__ctx_worker(fw->parent, &wctx);
    if (fw->st != STAPEL_OK) {
        snprintf(fw->msg, sizeof fw->msg, "cannot start the writer thread");
        writer_finished(fw);
        return NULL;
    }
    double t0 = now();
    fw->st = stapel__out_faces(wctx, fw->o, fw->s);
    fw->seconds = now() - t0;
    if (fw->st != STAPEL_OK)
        snprintf(fw->msg, sizeof fw->msg, "%s", stapel_ctx_message(wctx));
    stapel_ctx_free(wctx);
    writer_finished(fw);
    return NULL;
}

/* The directory path is in ("." for a bare name), into dir of size n. */
static void dir_of(char *dir, size_t n, const char *path)
{
    snprintf(dir, n, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, n, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
}

stapel_status stapel__flags_check(stapel_ctx *ctx, unsigned flags)
{
    unsigned unknown = flags & ~(unsigned)STAPEL_WRITE_OVERWRITE;
    if (unknown != 0)
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "unknown write flags 0x%x (this version of stapel knows only "
                            "STAPEL_WRITE_OVERWRITE, 0x%x)",
                            unknown, (unsigned)STAPEL_WRITE_OVERWRITE);
    return STAPEL_OK;
}

stapel_status stapel__output_check(stapel_ctx *ctx, const char *path, unsigned flags)
{
    struct stat sb;
    if (path == NULL || path[0] == '\0')
        return stapel__fail(ctx, STAPEL_EINVAL, "no output path");
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return stapel__fail(ctx, STAPEL_EINVAL, "'%s' is a directory", path);
    /* lstat: a symbolic link to nothing takes the name as well */
    if (!(flags & STAPEL_WRITE_OVERWRITE) && lstat(path, &sb) == 0)
        return stapel__fail(ctx, STAPEL_EEXISTS, "'%s' exists; use --overwrite to replace it",
                            path);
    /* And a directory that cannot take the output. */
    char dir[4096];
    dir_of(dir, sizeof dir, path);
    if (stat(dir, &sb) != 0)
        return stapel__fail(ctx, STAPEL_EIO, "cannot create '%s': directory '%s': %s", path, dir,
                            stapel__strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return stapel__fail(ctx, STAPEL_EIO, "cannot create '%s': '%s' is not a directory", path,
                            dir);
    if (access(dir, W_OK) != 0)
        return stapel__fail(ctx, STAPEL_EIO,
                            "cannot create '%s': directory '%s' is not writable (%s)", path, dir,
                            stapel__strerror(errno));
    return STAPEL_OK;
}

stapel_status stapel__cannot_create(stapel_ctx *ctx, const char *path, const char *tmp, int err)
{
    /* /proc, /sys and their kind take no new files (ENOENT, or EACCES
     * even for root) where the permissions let one be written, and report
     * no size: say so, as their words (No such file or directory) do not. A
     * tmpfs without a size limit also reports none, but takes files. */
    char dir[4096];
    dir_of(dir, sizeof dir, tmp);
    struct statvfs fs;
    bool system_fs = (err == ENOENT || err == EACCES || err == EPERM) && access(dir, W_OK) == 0 &&
                     statvfs(dir, &fs) == 0 && fs.f_blocks == 0;
    return stapel__fail(ctx, STAPEL_EIO, "cannot create '%s': %s%s%s%s", path,
                        stapel__strerror(err), system_fs ? "; '" : "", system_fs ? dir : "",
                        system_fs ? "' is on a virtual file system of the kernel (such as /proc "
                                    "and /sys), which holds no files"
                                  : "");
}

/* Whether file is the file out names. */
static bool same_file(const char *file, const struct stat *out)
{
    struct stat sb;
    return stat(file, &sb) == 0 && sb.st_dev == out->st_dev && sb.st_ino == out->st_ino;
}

/* Whether path is a part of one of the shapefiles that the folder dir reads:
 * it lies in dir and ends in one of the n parts, with a '.shp' of its name
 * beside it. */
static bool shapefile_part_in(const char *path, const char *dir, const char *const *parts, size_t n)
{
    struct stat sd;
    if (stat(dir, &sd) != 0 || !S_ISDIR(sd.st_mode))
        return false;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (dot == NULL || (slash != NULL && dot < slash) || dot == (slash != NULL ? slash + 1 : path))
        return false;
    bool part = false;
    for (size_t i = 0; i < n && !part; i++)
        part = stapel__ascii_case_equal(dot, parts[i]);
    size_t len = (size_t)(dot - path);
    char *shp = part ? malloc(len + 5) : NULL;
    if (shp == NULL)
        return false;
    bool found = false;
    /* The output's folder is dir. */
    if (slash != NULL) {
        memcpy(shp, path, (size_t)(slash - path) + 1);
        shp[slash - path + 1] = '\0';
    } else {
        strcpy(shp, ".");
    }
    struct stat sp;
    if (stat(shp, &sp) == 0 && sp.st_dev == sd.st_dev && sp.st_ino == sd.st_ino) {
        memcpy(shp, path, len);
        for (int upper = 0; upper < 2 && !found; upper++) {
            strcpy(shp + len, upper ? ".SHP" : ".shp");
            found = stat(shp, &sp) == 0 && S_ISREG(sp.st_mode);
        }
    }
    free(shp);
    return found;
}

stapel_status stapel__output_not_input(stapel_ctx *ctx, const char *path, const char *what,
                                       const char *source)
{
    struct stat out;
    if (path == NULL || source == NULL || stat(path, &out) != 0 || S_ISDIR(out.st_mode) ||
        !stapel_source_is_file(source))
        return STAPEL_OK;
    const char *bar = strstr(source, "|layername=");
    size_t n = bar != NULL ? (size_t)(bar - source) : strlen(source);
    char *file = malloc(n + 1);
    if (file == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    memcpy(file, source, n);
    file[n] = '\0';
    bool same = same_file(file, &out);
    /* A shapefile is several files; a GeoPackage written over its .dbf
     * would take the claims' attributes with it. */
    static const char *const shapefile_parts[] = {".shp", ".shx", ".dbf", ".prj", ".cpg"};
    const size_t n_parts = sizeof shapefile_parts / sizeof shapefile_parts[0];
    char *dot = strrchr(file, '.');
    bool shapefile = false;
    for (size_t i = 0; dot != NULL && strchr(dot, '/') == NULL && i < n_parts; i++)
        shapefile = shapefile || stapel__ascii_case_equal(dot, shapefile_parts[i]);
    for (size_t i = 0; shapefile && !same && i < n_parts; i++) {
        for (int upper = 0; upper < 2 && !same; upper++) {
            for (size_t k = 0; k < 4; k++)
                dot[k] = upper ? (char)toupper((unsigned char)shapefile_parts[i][k])
                               : shapefile_parts[i][k];
            same = same_file(file, &out);
        }
    }
    free(file);
    if (!same)
        same = shapefile_part_in(path, source, shapefile_parts, n_parts);
    if (same)
        return stapel__fail(ctx, STAPEL_EINVAL,
                            "the output '%s' is %s ('%s'); write the output to another file", path,
                            what, source);
    return STAPEL_OK;
}

/* The summary phase's progress while the stack layer is written beside it:
 * half the summary's own fraction, half the stack layer's, of which the
 * rows are 0.9 and its spatial index, made after them, the rest. The rows
 * went unreported until the summary's end, when the writing phase showed
 * them all at once (0 to 90 in a moment, at any scale). */
typedef struct summary_rows {
    stapel_progress_fn fn;
    void *user;
    stapel__out *o;
} summary_rows;

static void report_summary_rows(void *user, const char *phase, double fraction)
{
    summary_rows *r = user;
    if (strcmp(phase, "summary") == 0)
        fraction = 0.5 * fraction + 0.45 * stapel__out_progress(r->o);
    if (r->fn != NULL)
        r->fn(r->user, phase, fraction);
}

/* Write s to path while its conflicts and summaries are computed: the stack
 * layer on a thread of its own, then the other layers. */
static stapel_status summarize_write(stapel_ctx *ctx, stapel_stack *s, const char *path,
                                     unsigned flags)
{
    stapel__progress(ctx, "summary", 0.0); /* opening the output is part of it */
    stapel__out *o = NULL;
    stapel_status st = stapel__out_open(ctx, &o, s, path, flags);
    if (st != STAPEL_OK)
        return st;
    face_writer fw = {.parent = ctx, .o = o, .s = s};
    pthread_mutex_init(&fw.lock, NULL);
    pthread_cond_init(&fw.cond, NULL);
    pthread_t tid;
    bool threaded = pthread_create(&tid, NULL, write_faces_main, &fw) == 0;
    if (!threaded)
        write_faces_main(&fw);
    double t0 = now();
    /* The writer is the longer of the two and cannot be split (one SQLite
     * connection): leave it a core of its own. At scale 10 on 2 cores the
     * run took 2.62 s instead of 2.69 s (medians of 8), at scale 1 0.40 s
     * instead of 0.44 s. The summary's result does not depend on its
     * thread count. */
    int threads = s->threads;
    int nt = stapel__thread_count(threads, SIZE_MAX);
    if (threaded && nt > 1)
        s->threads = nt - 1;
    summary_rows rows = {ctx->progress, ctx->progress_user, o};
    stapel_ctx_set_progress(ctx, report_summary_rows, &rows);
    st = stapel__summarize(ctx, s);
    s->threads = threads;
    s->stats.seconds_summary = now() - t0;
    /* The summary is done; the phase ends when the stack layer's rows are
     * in too. */
    pthread_mutex_lock(&fw.lock);
    while (threaded && !fw.done) {
        pthread_mutex_unlock(&fw.lock);
        stapel__progress(ctx, "summary", 1.0);
        stapel__out_writeback(o);
        pthread_mutex_lock(&fw.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000 * 1000;
        if (until.tv_nsec >= 1000 * 1000 * 1000) {
            until.tv_sec++;
            until.tv_nsec -= 1000 * 1000 * 1000;
        }
        if (!fw.done)
            pthread_cond_timedwait(&fw.cond, &fw.lock, &until);
    }
    pthread_mutex_unlock(&fw.lock);
    stapel_ctx_set_progress(ctx, rows.fn, rows.user);
    if (st == STAPEL_OK && fw.st == STAPEL_OK)
        stapel__progress(ctx, "summary", 1.0);
    if (threaded)
        pthread_join(tid, NULL);
    pthread_mutex_destroy(&fw.lock);
    pthread_cond_destroy(&fw.cond);
    if (fw.st != STAPEL_OK) {
        st = fw.st;
        stapel__fail(ctx, st, "%s", fw.msg);
    }
    s->stats.seconds_write_faces = fw.seconds;
    t0 = now();
    if (st == STAPEL_OK)
        st = stapel__out_finish(ctx, o, s);
    s->stats.seconds_write_rest = now() - t0;
    return stapel__out_close(ctx, o, st);
}

stapel_status stapel__stack_finish(stapel_ctx *ctx, stapel_stack *s, const char *path,
                                   unsigned flags, stapel_stack **out)
{
    stapel_status st;
    if (path != NULL) {
        st = summarize_write(ctx, s, path, flags);
    } else {
        double t0 = now();
        st = stapel__summarize(ctx, s);
        s->stats.seconds_summary = now() - t0;
    }
    if (st != STAPEL_OK) {
        stapel_stack_free(s);
        return st;
    }
    *out = s;
    return STAPEL_OK;
}

stapel_status stapel_stack_build_write(stapel_ctx *ctx, stapel_stack **out, const stapel_job *job,
                                       const char *path, unsigned flags)
{
    STAPEL__ENTER_OUT(ctx, out);
    if (job == NULL)
        return stapel__null(ctx, "job");
    if (stapel__flags_check(ctx, flags) != STAPEL_OK)
        return STAPEL_EINVAL;
    /* An existing output, or one that cannot be a file, is refused once
     * the sources are open, before any is read (build_faces). */
    if (path == NULL || path[0] == '\0')
        return stapel__output_check(ctx, path, flags);
    stapel_stack *s = NULL;
    stapel_status st = build_faces(ctx, &s, job, path, flags);
    if (st != STAPEL_OK)
        return st;
    return stapel__stack_finish(ctx, s, path, flags, out);
}
