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

static int cmp_ipt(stapel__ipt p, stapel__ipt q)
{
    if (p.x != q.x)
        return p.x < q.x ? -1 : 1;
    return (p.y > q.y) - (p.y < q.y);
}

static uint32_t seg_hash(stapel__ipt a, stapel__ipt b)
{
    uint64_t h = (uint64_t)a.x * 0x9E3779B97F4A7C15ull;
    h = (h ^ (uint64_t)a.y) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ (uint64_t)b.x) * 0x94D049BB133111EBull;
    h = (h ^ (uint64_t)b.y) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32);
}

/* Drop the edges that two faces share. A face's edge a -> b and its
 * neighbour's b -> a change the winding number by +1 and -1 when crossed,
 * so together they change nothing and the union is the same without them.
 * Inside a large group nearly every edge is shared: what is left for the
 * arrangement is little more than the union's boundary. Equal edges are
 * found by a radix sort on a hash of their ends (linear in n), then compared
 * exactly within each run of equal hashes. The edges left keep their order:
 * a ring's edges stay end to end, which the arrangement's node lookup
 * (one per edge instead of two) and its memory accesses gain from. */
static bool cancel_shared(stapel__segs *segs)
{
    size_t n = segs->n;
    if (n < 2)
        return true;
    if (n > UINT32_MAX)
        return true; /* nothing cancelled; the arrangement copes */
    uint64_t *k = malloc(n * sizeof *k), *t = malloc(n * sizeof *t);
    uint8_t *keep = malloc(n);
    if (k == NULL || t == NULL || keep == NULL) {
        free(k);
        free(t);
        free(keep);
        return false;
    }
    stapel__iseg *v = segs->v;
    for (size_t i = 0; i < n; i++) {
        stapel__iseg s = v[i];
        bool fwd = cmp_ipt(s.a, s.b) < 0;
        k[i] = (uint64_t)(fwd ? seg_hash(s.a, s.b) : seg_hash(s.b, s.a)) << 32 | i;
    }
    stapel__sort_hi32(k, t, n);
    enum { UNSEEN, DROP, KEEP };
    memset(keep, UNSEEN, n);
    for (size_t i = 0; i < n;) {
        /* Hash order is random in memory: ask for the edges a few runs
         * ahead while this one is compared. */
        if (i + 16 < n) {
            __builtin_prefetch(&v[k[i + 16] & 0xffffffffu]);
            __builtin_prefetch(&keep[k[i + 16] & 0xffffffffu], 1);
        }
        size_t j = i + 1;
        while (j < n && (k[j] >> 32) == (k[i] >> 32))
            j++;
        if (j == i + 1) { /* a hash of its own: an edge no other face has */
            keep[k[i] & 0xffffffffu] = KEEP;
            i = j;
            continue;
        }
        /* A run of equal hashes: the net direction of each distinct edge,
         * kept as that many of its copies that run that way. */
        for (size_t x = i; x < j; x++) {
            size_t ix = k[x] & 0xffffffffu;
            if (keep[ix] != UNSEEN)
                continue;
            bool fx = cmp_ipt(v[ix].a, v[ix].b) < 0;
            stapel__ipt lo = fx ? v[ix].a : v[ix].b, hi = fx ? v[ix].b : v[ix].a;
            int sum = 0;
            for (size_t y = x; y < j; y++) {
                size_t iy = k[y] & 0xffffffffu;
                bool fy = cmp_ipt(v[iy].a, v[iy].b) < 0;
                if (keep[iy] != UNSEEN || cmp_ipt(fy ? v[iy].a : v[iy].b, lo) != 0 ||
                    cmp_ipt(fy ? v[iy].b : v[iy].a, hi) != 0)
                    continue;
                sum += fy ? 1 : -1;
                keep[iy] = DROP;
            }
            stapel__ipt from = sum > 0 ? lo : hi, to = sum > 0 ? hi : lo;
            for (size_t y = x; y < j && sum != 0; y++) {
                size_t iy = k[y] & 0xffffffffu;
                if (keep[iy] != DROP || cmp_ipt(v[iy].a, from) != 0 || cmp_ipt(v[iy].b, to) != 0)
                    continue;
                keep[iy] = KEEP;
                sum += sum > 0 ? -1 : 1;
            }
        }
        i = j;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i] == KEEP)
            v[m++] = v[i];
    segs->n = m;
    free(k);
    free(t);
    free(keep);
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
                               double grid, bool noded, stapel__ipt **pts_out,
                               uint32_t **ring_end_out, uint32_t *n_rings_out)
{
    *pts_out = NULL;
    *ring_end_out = NULL;
    *n_rings_out = 0;
    stapel__aface *af = NULL;
    size_t n_af = 0;
    stapel_status st = stapel__dissolve_faces(ctx, faces, n, noded, &af, &n_af);
    /* Split the pinched faces, then join all rings in one set. */
    size_t n_pts = 0, n_rings = 0;
    for (size_t i = 0; i < n_af && st == STAPEL_OK; i++) {
        stapel__face f = {.pts = af[i].pts,
                          .ring_end = af[i].ring_end,
                          .n_rings = af[i].n_rings,
                          .pinched = af[i].pinched};
        st = stapel__face_unpinch(ctx, &f, grid);
        af[i].pts = f.pts;
        af[i].ring_end = f.ring_end;
        af[i].n_rings = f.n_rings;
        if (st == STAPEL_OK) {
            n_pts += f.ring_end[f.n_rings - 1];
            n_rings += f.n_rings;
        }
    }
    stapel__ipt *pts = NULL;
    uint32_t *ring_end = NULL;
    if (st == STAPEL_OK && (n_pts > UINT32_MAX || n_rings > UINT32_MAX))
        st = stapel__fail(ctx, STAPEL_EINVAL, "a dissolved area has more than 2^32 vertices");
    if (st == STAPEL_OK) {
        pts = malloc((n_pts + 1) * sizeof *pts);
        ring_end = malloc((n_rings + 1) * sizeof *ring_end);
        if (pts == NULL || ring_end == NULL)
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    if (st == STAPEL_OK) {
        size_t p = 0, r = 0;
        for (size_t i = 0; i < n_af; i++) {
            uint32_t np = af[i].ring_end[af[i].n_rings - 1];
            memcpy(pts + p, af[i].pts, np * sizeof *pts);
            for (uint32_t k = 0; k < af[i].n_rings; k++)
                ring_end[r++] = (uint32_t)p + af[i].ring_end[k];
            p += np;
        }
        *pts_out = pts;
        *ring_end_out = ring_end;
        *n_rings_out = (uint32_t)n_rings;
    } else {
        free(pts);
        free(ring_end);
    }
    stapel__afaces_free(af, n_af);
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
