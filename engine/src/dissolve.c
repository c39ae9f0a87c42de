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

#include <math.h>
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

/* Append the rings of polygon p as segments, shells counter-clockwise and
 * holes clockwise. */
static bool polygon_segments(GEOSContextHandle_t h, const GEOSGeometry *p, double grid,
                             stapel__segs *segs, double **buf, size_t *cap, stapel__ipt **ip,
                             size_t *icap)
{
    int nh = GEOSGetNumInteriorRings_r(h, p);
    for (int r = -1; r < nh; r++) {
        const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(h, p) : GEOSGetInteriorRingN_r(h, p, r);
        const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
        unsigned n = 0;
        if (seq == NULL || !GEOSCoordSeq_getSize_r(h, seq, &n) || n < 4)
            continue;
        if (2 * (size_t)n > *cap) {
            double *d = realloc(*buf, 2 * (size_t)n * sizeof *d);
            if (d == NULL)
                return false;
            *buf = d;
            *cap = 2 * (size_t)n;
        }
        if ((size_t)n > *icap) {
            stapel__ipt *d = realloc(*ip, (size_t)n * sizeof *d);
            if (d == NULL)
                return false;
            *ip = d;
            *icap = n;
        }
        GEOSCoordSeq_copyToBuffer_r(h, seq, *buf, 0, 0);
        stapel__i128 area2 = 0;
        for (unsigned i = 0; i < n; i++) {
            (*ip)[i] = (stapel__ipt){llround((*buf)[2 * i] / grid), llround((*buf)[2 * i + 1] / grid)};
            if (i > 0)
                area2 += (stapel__i128)(*ip)[i - 1].x * (*ip)[i].y -
                         (stapel__i128)(*ip)[i].x * (*ip)[i - 1].y;
        }
        bool forward = (area2 > 0) == (r < 0);
        for (unsigned i = 0; i + 1 < n; i++) {
            stapel__ipt a = (*ip)[i], b = (*ip)[i + 1];
            if (!(forward ? stapel__segs_push(segs, a, b, 0) : stapel__segs_push(segs, b, a, 0)))
                return false;
        }
    }
    return true;
}

static bool geometry_segments(GEOSContextHandle_t h, const GEOSGeometry *g, double grid,
                              stapel__segs *segs, double **buf, size_t *cap, stapel__ipt **ip,
                              size_t *icap)
{
    int t = GEOSGeomTypeId_r(h, g);
    if (t == GEOS_POLYGON)
        return polygon_segments(h, g, grid, segs, buf, cap, ip, icap);
    int n = GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < n; i++)
        if (!geometry_segments(h, GEOSGetGeometryN_r(h, g, i), grid, segs, buf, cap, ip, icap))
            return false;
    return true;
}

stapel_status stapel__dissolve(stapel_ctx *ctx, const GEOSGeometry *const *faces, size_t n,
                               double grid, bool noded, GEOSGeometry **out)
{
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    stapel__segs segs = {0};
    double *buf = NULL;
    size_t cap = 0, icap = 0;
    stapel__ipt *ip = NULL;
    stapel__aface *af = NULL;
    size_t n_af = 0;
    GEOSGeometry **parts = NULL;
    size_t n_parts = 0;
    stapel_status st = STAPEL_OK;
    for (size_t i = 0; i < n; i++) {
        if (!geometry_segments(h, faces[i], grid, &segs, &buf, &cap, &ip, &icap)) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    st = stapel__arrange(ctx, &segs, noded, keep_any, NULL, &af, &n_af);
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
        st = stapel__face_geometry(ctx, &f, grid, &buf, &cap);
        if (st != STAPEL_OK)
            break;
        /* Keep the parts of a split face as separate polygons. */
        if (GEOSGeomTypeId_r(h, f.geom) == GEOS_POLYGON) {
            GEOSGeometry **d = realloc(parts, (n_parts + 2) * sizeof *d);
            if (d == NULL) {
                GEOSGeom_destroy_r(h, f.geom);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                break;
            }
            parts = d;
            parts[n_parts++] = f.geom;
        } else {
            int k = GEOSGetNumGeometries_r(h, f.geom);
            GEOSGeometry **d = realloc(parts, (n_parts + (size_t)k + 1) * sizeof *d);
            if (d == NULL) {
                GEOSGeom_destroy_r(h, f.geom);
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                break;
            }
            parts = d;
            for (int j = 0; j < k; j++)
                parts[n_parts++] = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, f.geom, j));
            GEOSGeom_destroy_r(h, f.geom);
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
    free(segs.v);
    free(buf);
    free(ip);
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
