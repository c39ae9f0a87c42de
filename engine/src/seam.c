/*
 * seam.c - making the faces of neighbouring tiles fit exactly, and splitting
 * faces whose ring touches itself.
 *
 * Two tiles that share a border compute the same crossing points on it, but
 * each side may also have vertices on the border that the other lacks (a
 * crossing that rounded onto the border line, a tile corner). Before faces
 * are merged across seams, every face edge lying on an inner tile border gets
 * every vertex that any face has on that border line between its ends. Then
 * the faces on both sides share their edges vertex for vertex, so their
 * shared edges cancel exactly when seam faces and the faces of the conflicts
 * layer are dissolved (dissolve.c).
 */
#include "arrange.h"
#include "pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct spt {
    int64_t kind; /* 0: on the vertical line x = line; 1: horizontal y = line */
    int64_t line;
    int64_t along;
    size_t part; /* the shard of a merge the point comes from (else 0) */
} spt;

static int cmp_spt(const void *a, const void *b)
{
    const spt *p = a, *q = b;
    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    if (p->line != q->line)
        return p->line < q->line ? -1 : 1;
    return (p->along > q->along) - (p->along < q->along);
}

/* The order of cmp_spt, then by shard. */
static int cmp_spt_part(const void *a, const void *b)
{
    int c = cmp_spt(a, b);
    if (c != 0)
        return c;
    const spt *p = a, *q = b;
    return (p->part > q->part) - (p->part < q->part);
}

/* Index of the first point >= key. */
static size_t lower(const spt *v, size_t n, spt key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cmp_spt(&v[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct borders {
    int64_t v[2]; /* inner vertical border lines, or INT64_MIN */
    int64_t h[2];
} borders;

static borders inner_borders(const stapel__tiling *tl, size_t t, double grid)
{
    const stapel__tile *ti = &tl->tiles[t];
    int64_t x0 = llround(ti->xmin / grid), x1 = llround(ti->xmax / grid);
    int64_t y0 = llround(ti->ymin / grid), y1 = llround(ti->ymax / grid);
    int64_t dx0 = llround(tl->xmin / grid), dx1 = llround(tl->xmax / grid);
    int64_t dy0 = llround(tl->ymin / grid), dy1 = llround(tl->ymax / grid);
    borders b = {{x0 > dx0 ? x0 : INT64_MIN, x1 < dx1 ? x1 : INT64_MIN},
                 {y0 > dy0 ? y0 : INT64_MIN, y1 < dy1 ? y1 : INT64_MIN}};
    return b;
}

/* Whether x is an inner border line of b; with b NULL every line is. */
static bool on_v(const borders *b, int64_t x)
{
    return b == NULL || (x != INT64_MIN && (x == b->v[0] || x == b->v[1]));
}

static bool on_h(const borders *b, int64_t y)
{
    return b == NULL || (y != INT64_MIN && (y == b->h[0] || y == b->h[1]));
}

static bool push_pt(stapel__ipt **v, size_t *n, size_t *cap, stapel__ipt p)
{
    if (*n == *cap) {
        size_t c = *cap == 0 ? 64 : *cap * 2;
        stapel__ipt *d = realloc(*v, c * sizeof *d);
        if (d == NULL)
            return false;
        *v = d;
        *cap = c;
    }
    (*v)[(*n)++] = p;
    return true;
}

/* Rebuild f's rings with the seam points inserted: those on the inner
 * borders b of its tile, or with b NULL (a merge, which knows no tiles) those
 * on any line one of its edges runs along, but the points of its own shard
 * own. A point that several shards have goes in once. The rings are copied
 * only from the first point inserted on: most seam faces get none, as both
 * sides of a border mostly have the same vertices on it. */
static bool augment(stapel__face *f, const borders *b, const spt *pts, size_t n_pts, size_t own)
{
    stapel__ipt *nv = NULL; /* NULL: nothing inserted yet, n counts f->pts */
    size_t n = 0, cap = 0;
    uint32_t start = 0;
    for (uint32_t r = 0; r < f->n_rings; r++) {
        uint32_t end = f->ring_end[r];
        for (uint32_t k = start; k + 1 < end; k++) {
            stapel__ipt p = f->pts[k], q = f->pts[k + 1];
            if (nv == NULL)
                n++;
            else if (!push_pt(&nv, &n, &cap, p))
                goto oom;
            spt lo, hi;
            bool vert = p.x == q.x && on_v(b, p.x), horz = p.y == q.y && on_h(b, p.y);
            if (!vert && !horz)
                continue;
            int64_t a0 = vert ? p.y : p.x, a1 = vert ? q.y : q.x;
            lo = (spt){vert ? 0 : 1, vert ? p.x : p.y, (a0 < a1 ? a0 : a1) + 1, 0};
            hi = (spt){lo.kind, lo.line, (a0 < a1 ? a1 : a0), 0};
            size_t i0 = lower(pts, n_pts, lo), i1 = lower(pts, n_pts, hi);
            if (i0 >= i1)
                continue;
            bool up = a0 < a1, any = false;
            int64_t last = 0;
            for (size_t k = 0; k < i1 - i0; k++) {
                size_t i = up ? i0 + k : i1 - 1 - k;
                if (pts[i].part == own || (any && pts[i].along == last))
                    continue;
                if (nv == NULL) { /* the first point inserted: copy what came before */
                    cap = f->ring_end[f->n_rings - 1] + 64;
                    nv = malloc(cap * sizeof *nv);
                    if (nv == NULL)
                        goto oom;
                    memcpy(nv, f->pts, n * sizeof *nv);
                }
                if (!push_pt(&nv, &n, &cap,
                             vert ? (stapel__ipt){p.x, pts[i].along}
                                  : (stapel__ipt){pts[i].along, p.y}))
                    goto oom;
                any = true;
                last = pts[i].along;
            }
        }
        if (nv == NULL)
            n++;
        else if (!push_pt(&nv, &n, &cap, f->pts[end - 1]))
            goto oom;
        f->ring_end[r] = (uint32_t)n;
        start = end;
    }
    if (nv == NULL)
        return true;
    free(f->pts);
    f->pts = nv;
    return true;
oom:
    free(nv);
    return false;
}

/* A ring's linear ring; NULL for a ring of fewer than 4 points, when GEOS
 * fails, or when out of memory (*oom set). */
static GEOSGeometry *ring_geom(GEOSContextHandle_t h, const stapel__ipt *p, size_t n, double grid,
                               double **buf, size_t *cap, bool *oom)
{
    if (n < 4)
        return NULL;
    if (2 * n > *cap) {
        size_t c = 2 * n + 64;
        double *d = realloc(*buf, c * sizeof *d);
        if (d == NULL) {
            *oom = true;
            return NULL;
        }
        *buf = d;
        *cap = c;
    }
    for (size_t i = 0; i < n; i++) {
        (*buf)[2 * i] = (double)p[i].x * grid;
        (*buf)[2 * i + 1] = (double)p[i].y * grid;
    }
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, *buf, (unsigned)n, 0, 0);
    return seq != NULL ? GEOSGeom_createLinearRing_r(h, seq) : NULL;
}

/* A GEOS geometry of a face's rings (one shell, then its holes): a Polygon,
 * or a MultiPolygon where a pinched ring had to be split. buf/cap is scratch
 * space. Caller owns *out. */
static stapel_status face_geometry(stapel_ctx *ctx, const stapel__face *f, double grid,
                                   double **buf, size_t *cap, GEOSGeometry **out)
{
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    bool oom = false;
    GEOSGeometry *shell = ring_geom(h, f->pts, f->ring_end[0], grid, buf, cap, &oom);
    if (shell == NULL)
        return oom ? stapel__fail(ctx, STAPEL_ENOMEM, "out of memory")
                   : stapel__fail(ctx, STAPEL_EGEOS, "cannot build a face: %s",
                                  stapel__geos_error(ctx));
    GEOSGeometry **holes = malloc((f->n_rings + 1) * sizeof *holes);
    if (holes == NULL) {
        GEOSGeom_destroy_r(h, shell);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    unsigned nh = 0;
    for (uint32_t r = 1; r < f->n_rings && !oom; r++) {
        GEOSGeometry *g = ring_geom(h, f->pts + f->ring_end[r - 1],
                                    f->ring_end[r] - f->ring_end[r - 1], grid, buf, cap, &oom);
        if (g != NULL)
            holes[nh++] = g;
    }
    if (oom) { /* a hole left out would leave its area covered */
        for (unsigned i = 0; i < nh; i++)
            GEOSGeom_destroy_r(h, holes[i]);
        free(holes);
        GEOSGeom_destroy_r(h, shell);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    GEOSGeometry *poly = GEOSGeom_createPolygon_r(h, shell, holes, nh);
    free(holes);
    if (poly == NULL)
        return stapel__fail(ctx, STAPEL_EGEOS, "cannot build a face: %s", stapel__geos_error(ctx));
    if (f->pinched && GEOSisValid_r(h, poly) != 1) {
        /* A boundary that touches itself at a node: split it into valid
         * parts; no vertex moves and the area stays the same. */
        GEOSGeometry *fixed = GEOSMakeValid_r(h, poly);
        GEOSGeom_destroy_r(h, poly);
        if (fixed == NULL)
            return stapel__fail(ctx, STAPEL_EGEOS, "repairing a face failed: %s",
                                stapel__geos_error(ctx));
        stapel_status st = stapel__polygonal_only(ctx, &fixed);
        if (st != STAPEL_OK) {
            GEOSGeom_destroy_r(h, fixed);
            return st;
        }
        poly = fixed;
    }
    *out = poly;
    return STAPEL_OK;
}

/* The loops of a face's rings, split at their pinch points (split_loops). */
typedef struct loops {
    stapel__ipt *pts; /* loop k: pts[end[k-1] .. end[k]), closing point included */
    uint32_t *end;
    int8_t *sign;   /* of the loop's area: 1 counter-clockwise, -1 clockwise */
    uint32_t *ring; /* the ring it came from */
    size_t n, cap, n_pts, cap_pts;
} loops;

static void loops_free(loops *l)
{
    free(l->pts);
    free(l->end);
    free(l->sign);
    free(l->ring);
}

/* Append the loop of walk points w[idx[0..n)] (closed back to the first). */
static bool loop_push(loops *l, const stapel__ipt *w, const uint32_t *idx, size_t n, uint32_t ring)
{
    stapel__i128 a2 = 0;
    for (size_t i = 0; i < n; i++) {
        stapel__ipt p = w[idx[i]], q = w[idx[i + 1 < n ? i + 1 : 0]];
        a2 += (stapel__i128)p.x * q.y - (stapel__i128)q.x * p.y;
    }
    if (a2 == 0)
        return true; /* an edge walked there and back: it bounds nothing */
    if (l->n == l->cap) {
        size_t c = l->cap == 0 ? 8 : 2 * l->cap;
        uint32_t *e = realloc(l->end, c * sizeof *e);
        if (e != NULL)
            l->end = e;
        int8_t *sg = realloc(l->sign, c * sizeof *sg);
        if (sg != NULL)
            l->sign = sg;
        uint32_t *r = realloc(l->ring, c * sizeof *r);
        if (r != NULL)
            l->ring = r;
        if (e == NULL || sg == NULL || r == NULL)
            return false;
        l->cap = c;
    }
    if (l->n_pts + n + 1 > l->cap_pts) {
        size_t c = 2 * (l->n_pts + n + 1);
        stapel__ipt *d = realloc(l->pts, c * sizeof *d);
        if (d == NULL)
            return false;
        l->pts = d;
        l->cap_pts = c;
    }
    for (size_t i = 0; i < n; i++)
        l->pts[l->n_pts++] = w[idx[i]];
    l->pts[l->n_pts++] = w[idx[0]];
    l->end[l->n] = (uint32_t)l->n_pts;
    l->sign[l->n] = a2 > 0 ? 1 : -1;
    l->ring[l->n] = ring;
    l->n++;
    return true;
}

/* A point of a walk, by where it lies, then its place in the walk. */
typedef struct walk_pt {
    int64_t x, y;
    uint32_t i;
} walk_pt;

static int cmp_walk_pt(const void *a, const void *b)
{
    const walk_pt *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    if (p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

#define NONE UINT32_MAX

/* Split the closed walk w[0..n) (no closing point) into simple loops where
 * it passes a point twice, appending them to l. key has room for n points,
 * scratch for 3 n indices. */
static bool split_walk(loops *l, const stapel__ipt *w, uint32_t n, uint32_t ring, walk_pt *key,
                       uint32_t *scratch)
{
    uint32_t *at = scratch, *pos = scratch + n, *stack = scratch + 2 * (size_t)n;
    for (uint32_t i = 0; i < n; i++) {
        key[i] = (walk_pt){w[i].x, w[i].y, i};
        at[i] = NONE;
        pos[i] = NONE;
    }
    qsort(key, n, sizeof *key, cmp_walk_pt);
    /* at[i]: for a point the walk passes more than once, the index of its
     * first pass; NONE for a point passed once. */
    for (uint32_t k = 0; k + 1 < n; k++)
        if (key[k].x == key[k + 1].x && key[k].y == key[k + 1].y) {
            uint32_t first = at[key[k].i] != NONE ? at[key[k].i] : key[k].i;
            at[key[k].i] = first;
            at[key[k + 1].i] = first;
        }
    /* Walk, keeping the points since the start in a stack (pos: where a
     * repeated point is on it, by its first index). Coming back to a point
     * on the stack closes the loop from there. */
    uint32_t top = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = at[i];
        if (a != NONE && pos[a] != NONE) {
            uint32_t k = pos[a];
            if (!loop_push(l, w, stack + k, top - k, ring))
                return false;
            for (uint32_t j = k + 1; j < top; j++)
                if (at[stack[j]] != NONE)
                    pos[at[stack[j]]] = NONE;
            top = k + 1;
            continue;
        }
        if (a != NONE)
            pos[a] = top;
        stack[top++] = i;
    }
    return loop_push(l, w, stack, top, ring);
}

#undef NONE

/* Whether every loop but the shell lies within the shell's box: a cheap
 * guard (a hole outside it cannot be one), which no face of an arrangement
 * fails; one that does is left to GEOS. */
static bool holes_in_box(const loops *l, size_t shell)
{
    int64_t x0 = INT64_MAX, y0 = INT64_MAX, x1 = INT64_MIN, y1 = INT64_MIN;
    uint32_t a = shell > 0 ? l->end[shell - 1] : 0;
    for (uint32_t i = a; i < l->end[shell]; i++) {
        stapel__ipt p = l->pts[i];
        x0 = p.x < x0 ? p.x : x0;
        y0 = p.y < y0 ? p.y : y0;
        x1 = p.x > x1 ? p.x : x1;
        y1 = p.y > y1 ? p.y : y1;
    }
    for (size_t k = 0; k < l->n; k++) {
        if (k == shell)
            continue;
        for (uint32_t i = k > 0 ? l->end[k - 1] : 0; i < l->end[k]; i++) {
            stapel__ipt p = l->pts[i];
            if (p.x < x0 || p.x > x1 || p.y < y0 || p.y > y1)
                return false;
        }
    }
    return true;
}

/* Split a pinched face's rings into simple loops and make them one valid
 * Polygon, without GEOS. Each ring is a closed walk around the face with the
 * face on its left; where it passes a node twice, it is two or more simple
 * loops joined there, each with the face on its left: a counter-clockwise
 * loop bounds the face from outside, a clockwise one from inside. A face of
 * an arrangement is connected, so its outer walk holds one counter-clockwise
 * loop (a boundary that touches itself from inside leaves a clockwise loop:
 * a hole at that node) and its inner walks none; the loops touch only at
 * nodes, which OGC allows. false in *done when the face is not so (it is
 * left to GEOS). */
static stapel_status unpinch_own(stapel_ctx *ctx, stapel__face *f, bool *done)
{
    *done = false;
    size_t n_all = f->ring_end[f->n_rings - 1];
    walk_pt *key = malloc((n_all + 1) * sizeof *key);
    uint32_t *scratch = malloc((3 * n_all + 1) * sizeof *scratch);
    loops l = {0};
    bool ok = key != NULL && scratch != NULL;
    uint32_t start = 0;
    for (uint32_t r = 0; r < f->n_rings && ok; r++) {
        uint32_t end = f->ring_end[r];
        ok = end - start < 2 || split_walk(&l, f->pts + start, end - start - 1, r, key, scratch);
        start = end;
    }
    free(key);
    free(scratch);
    if (!ok) {
        loops_free(&l);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    size_t shell = SIZE_MAX, n_shells = 0;
    bool inner_shell = false; /* a counter-clockwise loop of an inner walk */
    for (size_t k = 0; k < l.n; k++)
        if (l.sign[k] > 0) {
            n_shells++;
            shell = k;
            inner_shell |= l.ring[k] != 0;
        }
    if (n_shells != 1 || inner_shell || l.n > UINT32_MAX || !holes_in_box(&l, shell)) {
        loops_free(&l);
        return STAPEL_OK;
    }
    stapel__ipt *pts = malloc((l.n_pts + 1) * sizeof *pts);
    uint32_t *ring_end = malloc((l.n + 1) * sizeof *ring_end);
    if (pts == NULL || ring_end == NULL) {
        free(pts);
        free(ring_end);
        loops_free(&l);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    size_t n = 0, r = 0;
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < l.n; k++) {
            if ((k == shell) != (pass == 0))
                continue;
            uint32_t a = k > 0 ? l.end[k - 1] : 0;
            memcpy(pts + n, l.pts + a, (l.end[k] - a) * sizeof *pts);
            n += l.end[k] - a;
            ring_end[r++] = (uint32_t)n;
        }
    loops_free(&l);
    free(f->pts);
    free(f->ring_end);
    f->pts = pts;
    f->ring_end = ring_end;
    f->n_rings = (uint32_t)r;
    f->pinched = false;
    *done = true;
    return STAPEL_OK;
}

stapel_status stapel__face_unpinch(stapel_ctx *ctx, stapel__face *f, double grid)
{
    if (!f->pinched)
        return STAPEL_OK;
    bool done = false;
    stapel_status st = unpinch_own(ctx, f, &done);
    if (st != STAPEL_OK || done)
        return st;
    double *buf = NULL;
    size_t cap = 0;
    GEOSGeometry *g = NULL;
    st = face_geometry(ctx, f, grid, &buf, &cap, &g);
    free(buf);
    if (st != STAPEL_OK)
        return st;
    stapel__ipt *pts = NULL;
    uint32_t *ring_end = NULL, n_rings = 0;
    bool ok = stapel__geom_rings(ctx, g, grid, &pts, &ring_end, &n_rings);
    GEOSGeom_destroy_r(ctx->geos, g);
    if (!ok)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    if (n_rings == 0) {
        free(pts);
        free(ring_end);
        return stapel__fail(ctx, STAPEL_EGEOS, "repairing a face left nothing");
    }
    free(f->pts);
    free(f->ring_end);
    f->pts = pts;
    f->ring_end = ring_end;
    f->n_rings = n_rings;
    f->pinched = false;
    return STAPEL_OK;
}

static bool push_spt(spt **v, size_t *n, size_t *cap, spt p)
{
    if (*n == *cap) {
        size_t c = *cap == 0 ? 1024 : *cap * 2;
        spt *d = realloc(*v, c * sizeof *d);
        if (d == NULL)
            return false;
        *v = d;
        *cap = c;
    }
    (*v)[(*n)++] = p;
    return true;
}

/* The seam alignment of a run, tile by tile on worker threads: first the
 * points of each tile's seam faces on its inner borders (to a list of the
 * tile's own), then, with all of them sorted, the faces of each tile get
 * theirs. A face's new rings depend on the sorted points alone. */
typedef struct seam_job {
    const stapel__tiling *tl;
    stapel__face **faces;
    const size_t *n_faces;
    double grid;
    spt **tile_pts; /* the first pass: the points of each tile */
    size_t *tile_n;
    const spt *pts; /* the second: all points, sorted, each once */
    size_t n_pts;
} seam_job;

static stapel_status seam_collect(stapel_ctx *ctx, size_t t, void *user)
{
    seam_job *j = user;
    borders b = inner_borders(j->tl, t, j->grid);
    spt *pts = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < j->n_faces[t]; i++) {
        const stapel__face *f = &j->faces[t][i];
        if (!f->on_seam)
            continue;
        size_t np = f->ring_end[f->n_rings - 1];
        for (size_t k = 0; k < np; k++) {
            stapel__ipt p = f->pts[k];
            if (on_v(&b, p.x) && !push_spt(&pts, &n, &cap, (spt){0, p.x, p.y, 0}))
                goto oom;
            if (on_h(&b, p.y) && !push_spt(&pts, &n, &cap, (spt){1, p.y, p.x, 0}))
                goto oom;
        }
    }
    j->tile_pts[t] = pts;
    j->tile_n[t] = n;
    return STAPEL_OK;
oom:
    free(pts);
    return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
}

static stapel_status seam_augment(stapel_ctx *ctx, size_t t, void *user)
{
    const seam_job *j = user;
    borders b = inner_borders(j->tl, t, j->grid);
    for (size_t i = 0; i < j->n_faces[t]; i++) {
        stapel__face *f = &j->faces[t][i];
        if (f->on_seam && !augment(f, &b, j->pts, j->n_pts, SIZE_MAX))
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    return STAPEL_OK;
}

stapel_status stapel__seams_align(stapel_ctx *ctx, const stapel__tiling *tl, stapel__face **faces,
                                  const size_t *n_faces, double grid, int threads)
{
    size_t T = tl->n_tiles;
    seam_job job = {tl, faces, n_faces, grid, NULL, NULL, NULL, 0};
    job.tile_pts = calloc(T + 1, sizeof *job.tile_pts);
    job.tile_n = calloc(T + 1, sizeof *job.tile_n);
    spt *pts = NULL;
    stapel_status st = STAPEL_OK;
    if (job.tile_pts == NULL || job.tile_n == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    st = stapel__parallel_for(ctx, T, threads, NULL, seam_collect, &job);
    if (st != STAPEL_OK)
        goto done;
    size_t n = 0;
    for (size_t t = 0; t < T; t++)
        n += job.tile_n[t];
    pts = malloc((n + 1) * sizeof *pts);
    if (pts == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    n = 0;
    for (size_t t = 0; t < T; t++) {
        if (job.tile_n[t] > 0)
            memcpy(pts + n, job.tile_pts[t], job.tile_n[t] * sizeof *pts);
        n += job.tile_n[t];
        free(job.tile_pts[t]);
        job.tile_pts[t] = NULL;
    }
    if (n > 0)
        qsort(pts, n, sizeof *pts, cmp_spt);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || cmp_spt(&pts[u - 1], &pts[i]) != 0)
            pts[u++] = pts[i];
    job.pts = pts;
    job.n_pts = u;
    st = stapel__parallel_for(ctx, T, threads, NULL, seam_augment, &job);
done:
    for (size_t t = 0; job.tile_pts != NULL && t < T; t++)
        free(job.tile_pts[t]);
    free(job.tile_pts);
    free(job.tile_n);
    free(pts);
    return st;
}

/* Whether the line (kind, line) is one of lines (sorted, along 0). */
static bool has_line(const spt *lines, size_t n, int64_t kind, int64_t line)
{
    spt key = {kind, line, 0, 0};
    size_t i = lower(lines, n, key);
    return i < n && lines[i].kind == kind && lines[i].line == line;
}

stapel_status stapel__seams_align_parts(stapel_ctx *ctx, stapel__face **faces,
                                        const size_t *n_faces, size_t n_parts)
{
    /* The seams between shards are among the grid lines that edges of seam
     * faces run along; the points are the seam faces' vertices on those
     * lines, as stapel__seams_align takes those on the tiles' borders. A
     * point of another shard can lie inside an edge only on a seam, as
     * every face lies in its own tiles: the points added are those a single
     * run adds, and no vertex moves. */
    spt *lines = NULL, *pts = NULL;
    size_t n_lines = 0, cap_lines = 0, n = 0, cap = 0;
    bool ok = true;
    for (size_t t = 0; t < n_parts && ok; t++) {
        for (size_t i = 0; i < n_faces[t] && ok; i++) {
            const stapel__face *f = &faces[t][i];
            for (uint32_t r = 0, k = 0; f->on_seam && r < f->n_rings && ok; r++, k++) {
                for (; k + 1 < f->ring_end[r] && ok; k++) {
                    stapel__ipt p = f->pts[k], q = f->pts[k + 1];
                    if (p.x == q.x)
                        ok = push_spt(&lines, &n_lines, &cap_lines, (spt){0, p.x, 0, 0});
                    else if (p.y == q.y)
                        ok = push_spt(&lines, &n_lines, &cap_lines, (spt){1, p.y, 0, 0});
                }
            }
        }
    }
    if (n_lines > 0)
        qsort(lines, n_lines, sizeof *lines, cmp_spt);
    size_t u = 0;
    for (size_t i = 0; i < n_lines; i++)
        if (u == 0 || cmp_spt(&lines[u - 1], &lines[i]) != 0)
            lines[u++] = lines[i];
    n_lines = u;
    for (size_t t = 0; t < n_parts && ok && n_lines > 0; t++) {
        for (size_t i = 0; i < n_faces[t] && ok; i++) {
            const stapel__face *f = &faces[t][i];
            uint32_t m = f->on_seam ? f->ring_end[f->n_rings - 1] : 0;
            for (uint32_t k = 0; k < m && ok; k++) {
                stapel__ipt p = f->pts[k];
                if (has_line(lines, n_lines, 0, p.x))
                    ok = push_spt(&pts, &n, &cap, (spt){0, p.x, p.y, t});
                if (ok && has_line(lines, n_lines, 1, p.y))
                    ok = push_spt(&pts, &n, &cap, (spt){1, p.y, p.x, t});
            }
        }
    }
    free(lines);
    if (ok && n > 0)
        qsort(pts, n, sizeof *pts, cmp_spt_part);
    u = 0;
    for (size_t i = 0; ok && i < n; i++)
        if (u == 0 || cmp_spt_part(&pts[u - 1], &pts[i]) != 0)
            pts[u++] = pts[i];
    for (size_t t = 0; t < n_parts && ok && u > 0; t++)
        for (size_t i = 0; i < n_faces[t] && ok; i++)
            ok = !faces[t][i].on_seam || augment(&faces[t][i], NULL, pts, u, t);
    free(pts);
    return ok ? STAPEL_OK : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
}
