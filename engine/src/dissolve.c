/*
 * dissolve.c - the union of faces of the stack, exactly and in parallel.
 *
 * Faces lie on the grid and share their edges, so their union is what the
 * integer arrangement (arrange.c) gives for their boundaries with one owner:
 * shared edges carry opposite deltas and vanish, and what is left bounds the
 * union, with holes and touching parts resolved the same way as the stack's
 * own faces. No GEOS overlay is involved, and nothing can fail to converge.
 *
 * stapel__parallel_for runs independent jobs (dissolves, tiles of work) on
 * worker threads, each with its own context; results go to per-job slots, so
 * the outcome does not depend on the number of threads.
 */
#include "arrange.h"
#include "pipeline.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool keep_any(uint32_t owner, void *user)
{
    (void)owner;
    (void)user;
    return true;
}

/* Segments with their ends in canonical order (a < b) and the direction
 * they had: +1 when a -> b, -1 when b -> a. */
typedef struct cseg {
    stapel__ipt a, b;
    int dir;
} cseg;

static int cmp_ipt(stapel__ipt p, stapel__ipt q)
{
    if (p.x != q.x)
        return p.x < q.x ? -1 : 1;
    return (p.y > q.y) - (p.y < q.y);
}

static int cmp_cseg(const void *u, const void *v)
{
    const cseg *s = u, *t = v;
    int c = cmp_ipt(s->a, t->a);
    return c != 0 ? c : cmp_ipt(s->b, t->b);
}

/* Drop the edges that two faces share. A face's edge a -> b and its
 * neighbour's b -> a change the winding number by +1 and -1 when crossed,
 * so together they change nothing and the union is the same without them.
 * Inside a large group nearly every edge is shared: what is left for the
 * arrangement is little more than the union's boundary. */
static bool cancel_shared(stapel__segs *segs)
{
    size_t n = segs->n;
    if (n < 2)
        return true;
    cseg *c = malloc(n * sizeof *c);
    if (c == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        stapel__iseg s = segs->v[i];
        bool fwd = cmp_ipt(s.a, s.b) < 0;
        c[i] = fwd ? (cseg){s.a, s.b, 1} : (cseg){s.b, s.a, -1};
    }
    qsort(c, n, sizeof *c, cmp_cseg);
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int sum = 0;
        for (; j < n && cmp_cseg(&c[i], &c[j]) == 0; j++)
            sum += c[j].dir;
        for (; sum > 0; sum--)
            segs->v[k++] = (stapel__iseg){c[i].a, c[i].b, 0};
        for (; sum < 0; sum++)
            segs->v[k++] = (stapel__iseg){c[i].b, c[i].a, 0};
        i = j;
    }
    segs->n = k;
    free(c);
    return true;
}

stapel_status stapel__dissolve_faces(stapel_ctx *ctx, const stapel__rings *faces, size_t n,
                                     bool noded, stapel__aface **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    stapel__segs segs = {0};
    for (size_t i = 0; i < n; i++) {
        const stapel__rings *r = &faces[i];
        uint32_t start = 0;
        for (uint32_t k = 0; k < r->n_rings; k++) {
            /* Oriented rings: the interior is on the left of every edge. */
            for (uint32_t j = start; j + 1 < r->ring_end[k]; j++) {
                if (!stapel__segs_push(&segs, r->pts[j], r->pts[j + 1], 0)) {
                    free(segs.v);
                    return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                }
            }
            start = r->ring_end[k];
        }
    }
    if (!cancel_shared(&segs)) {
        free(segs.v);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    stapel_status st = stapel__arrange(ctx, &segs, noded, keep_any, NULL, out, n_out);
    free(segs.v);
    return st;
}

stapel_status stapel__dissolve(stapel_ctx *ctx, const stapel__rings *faces, size_t n,
                               double grid, bool noded, GEOSGeometry **out)
{
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    double *buf = NULL;
    size_t cap = 0;
    stapel__aface *af = NULL;
    size_t n_af = 0;
    GEOSGeometry **parts = NULL;
    size_t n_parts = 0;
    stapel_status st = stapel__dissolve_faces(ctx, faces, n, noded, &af, &n_af);
    if (st != STAPEL_OK)
        goto done;
    parts = calloc(n_af + 1, sizeof *parts);
    if (parts == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_af && st == STAPEL_OK; i++) {
        stapel__face f = {.pts = af[i].pts,
                          .ring_end = af[i].ring_end,
                          .n_rings = af[i].n_rings,
                          .pinched = af[i].pinched};
        GEOSGeometry *g = NULL;
        st = stapel__face_geometry(ctx, &f, grid, &buf, &cap, &g);
        if (st != STAPEL_OK)
            break;
        /* Keep the parts of a split face as separate polygons. */
        if (GEOSGeomTypeId_r(h, g) == GEOS_POLYGON) {
            GEOSGeometry **d = realloc(parts, (n_parts + 2) * sizeof *d);
            if (d == NULL) {
                GEOSGeom_destroy_r(h, g);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                break;
            }
            parts = d;
            parts[n_parts++] = g;
        } else {
            int k = GEOSGetNumGeometries_r(h, g);
            GEOSGeometry **d = realloc(parts, (n_parts + (size_t)k + 1) * sizeof *d);
            if (d == NULL) {
                GEOSGeom_destroy_r(h, g);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                break;
            }
            parts = d;
            for (int j = 0; j < k; j++)
                parts[n_parts++] = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, g, j));
            GEOSGeom_destroy_r(h, g);
        }
    }
    if (st == STAPEL_OK) {
        *out = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n_parts);
        if (*out == NULL)
            st = stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
        else
            n_parts = 0; /* owned by *out */
    }
done:
    for (size_t i = 0; i < n_parts; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    stapel__afaces_free(af, n_af);
    free(buf);
    return st;
}

/* ---- parallel for ------------------------------------------------------------ */

typedef struct pfor {
    stapel_ctx *parent;
    size_t n;
    stapel__job_fn fn;
    void *user;
    const char *phase;
    atomic_size_t next, done;
    atomic_int failed;
    pthread_mutex_t lock;
    size_t err_job;
    stapel_status err;
    char err_msg[STAPEL_MSG_MAX];
} pfor;

static void pfor_loop(pfor *p, stapel_ctx *wctx, bool report)
{
    for (;;) {
        if (atomic_load(&p->failed) || stapel__cancelled(wctx))
            return;
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            return;
        stapel__clear(wctx);
        stapel_status st = p->fn(wctx, i, p->user);
        if (st != STAPEL_OK) {
            pthread_mutex_lock(&p->lock);
            if (p->err == STAPEL_OK || i < p->err_job) {
                p->err = st;
                p->err_job = i;
                snprintf(p->err_msg, sizeof p->err_msg, "%s", stapel_ctx_message(wctx));
            }
            pthread_mutex_unlock(&p->lock);
            atomic_store(&p->failed, 1);
            return;
        }
        size_t done = atomic_fetch_add(&p->done, 1) + 1;
        if (report && p->phase != NULL && (done & 63) == 0)
            stapel__progress(p->parent, p->phase, (double)done / (double)p->n);
    }
}

static void *pfor_main(void *arg)
{
    pfor *p = arg;
    stapel_ctx *wctx = NULL;
    if (stapel__ctx_worker(p->parent, &wctx) != STAPEL_OK) {
        pthread_mutex_lock(&p->lock);
        if (p->err == STAPEL_OK) {
            p->err = STAPEL_ENOMEM;
            p->err_job = SIZE_MAX;
            snprintf(p->err_msg, sizeof p->err_msg, "cannot start a worker thread");
        }
        pthread_mutex_unlock(&p->lock);
        atomic_store(&p->failed, 1);
        return NULL;
    }
    pfor_loop(p, wctx, false);
    stapel_ctx_free(wctx);
    return NULL;
}

int stapel__thread_count(int requested, size_t n_jobs)
{
    long n = requested;
    if (n <= 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        if (n < 1)
            n = 1;
    }
    if ((size_t)n > n_jobs)
        n = (long)(n_jobs > 0 ? n_jobs : 1);
    if (n > 256)
        n = 256;
    return (int)n;
}

stapel_status stapel__parallel_for(stapel_ctx *ctx, size_t n, int threads, const char *phase,
                                   stapel__job_fn fn, void *user)
{
    pfor p = {.parent = ctx, .n = n, .fn = fn, .user = user, .phase = phase};
    atomic_init(&p.next, 0);
    atomic_init(&p.done, 0);
    atomic_init(&p.failed, 0);
    pthread_mutex_init(&p.lock, NULL);
    int nt = stapel__thread_count(threads, n);
    pthread_t *tids = calloc((size_t)nt, sizeof *tids);
    if (tids == NULL) {
        pthread_mutex_destroy(&p.lock);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    int started = 0;
    for (int i = 1; i < nt; i++) {
        if (pthread_create(&tids[i], NULL, pfor_main, &p) != 0)
            break;
        started++;
    }
    pfor_loop(&p, ctx, true);
    for (int i = 1; i <= started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    pthread_mutex_destroy(&p.lock);
    if (p.err != STAPEL_OK)
        return stapel__fail(ctx, p.err, "%s", p.err_msg);
    if (stapel__cancelled(ctx))
        return stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled");
    if (phase != NULL)
        stapel__progress(ctx, phase, 1.0);
    return STAPEL_OK;
}
