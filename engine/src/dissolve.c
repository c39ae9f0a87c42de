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

/* Twice the net area the segments bound (oriented rings: the interior on
 * the left of every edge), and twice the area of the faces of an
 * arrangement (shells counter-clockwise, holes clockwise). */
static stapel__i128 segs_area2(const stapel__segs *segs)
{
    stapel__i128 a = 0;
    for (size_t i = 0; i < segs->n; i++)
        a += (stapel__i128)segs->v[i].a.x * segs->v[i].b.y -
             (stapel__i128)segs->v[i].b.x * segs->v[i].a.y;
    return a;
}

static stapel__i128 afaces_area2(const stapel__aface *af, size_t n)
{
    stapel__i128 a = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t k = 0, j = 0; k < af[i].n_rings; k++, j++)
            for (; j + 1 < af[i].ring_end[k]; j++)
                a += (stapel__i128)af[i].pts[j].x * af[i].pts[j + 1].y -
                     (stapel__i128)af[i].pts[j + 1].x * af[i].pts[j].y;
    return a;
}

/* An edge of a union's rings as a piece of its line: the line's direction
 * (reduced; dx > 0, or dx == 0 < dy) and offset dx y - dy x, and where the
 * piece begins and ends along it (x, or y on a vertical line). */
typedef struct line_piece {
    int64_t dx, dy;
    stapel__i128 c;
    int64_t t0, t1;
} line_piece;

static int cmp_line_piece(const void *a, const void *b)
{
    const line_piece *p = a, *q = b;
    if (p->dx != q->dx)
        return p->dx < q->dx ? -1 : 1;
    if (p->dy != q->dy)
        return p->dy < q->dy ? -1 : 1;
    if (p->c != q->c)
        return p->c < q->c ? -1 : 1;
    return (p->t0 > q->t0) - (p->t0 < q->t0);
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The line piece of the edge a b (a before b): its direction reduced by
 * the gcd, which an axis-parallel edge does without. */
static line_piece line_piece_of(stapel__ipt a, stapel__ipt b)
{
    uint64_t ux = (uint64_t)b.x - (uint64_t)a.x, uy = (uint64_t)b.y - (uint64_t)a.y;
    uint64_t ay = (int64_t)uy < 0 ? -uy : uy;
    uint64_t g = ux == 0 ? ay : ay == 0 ? ux : gcd64(ux, ay);
    line_piece p = {(int64_t)(ux / g), (int64_t)uy / (int64_t)g, 0, ux != 0 ? a.x : a.y,
                    ux != 0 ? b.x : b.y};
    p.c = (stapel__i128)p.dx * a.y - (stapel__i128)p.dy * a.x;
    return p;
}

static uint64_t mix_line(uint64_t dx, uint64_t dy, uint64_t c0, uint64_t c1)
{
    uint64_t h = dx * 0x9E3779B97F4A7C15ull;
    h = (h ^ dy) * 0xBF58476D1CE4E5B9ull;
    h = (h ^ c0) * 0x94D049BB133111EBull;
    return (h ^ c1) * 0x9E3779B97F4A7C15ull;
}

#define EXACT_DOUBLE(v) ((v) > -((stapel__i128)1 << 53) && (v) < ((stapel__i128)1 << 53))

/* A hash of the line through the edge a b (a before b, not equal), the
 * same for every edge on one line, mostly without the gcd (Euclid's
 * divisions were most of the check's time). A sloped line whose direction
 * dx dy and offset c = dx y - dy x (dx > 0, reduced or not) are integers
 * under 2^53 is hashed by the doubles dy / dx and c / dx, its slope and
 * where it crosses x = 0: a division of doubles is the quotient rounded,
 * so equal quotients of exact integers give equal doubles. Reducing does
 * not make them larger, so an edge over 2^53 is reduced first and hashed
 * so if its line fits, and by the reduced integers if not (as every edge
 * of that line is). Axis-parallel lines, reduced without a division, are
 * hashed by their integers too. Lines with one hash are told apart by
 * their reduced directions and offsets (line_piece_of). */
static uint64_t line_hash(stapel__ipt a, stapel__ipt b)
{
    uint64_t ux = (uint64_t)b.x - (uint64_t)a.x, uy = (uint64_t)b.y - (uint64_t)a.y;
    int64_t dx = (int64_t)ux, dy = (int64_t)uy;
    stapel__i128 c;
    if (ux != 0 && uy != 0) {
        c = (stapel__i128)dx * a.y - (stapel__i128)dy * a.x;
        if (!(EXACT_DOUBLE(dx) && EXACT_DOUBLE(dy) && EXACT_DOUBLE(c))) {
            line_piece p = line_piece_of(a, b);
            dx = p.dx;
            dy = p.dy;
            c = p.c;
        }
        if (EXACT_DOUBLE(dx) && EXACT_DOUBLE(dy) && EXACT_DOUBLE(c)) {
            double s = (double)dy / (double)dx, o = (double)c / (double)dx;
            uint64_t bs, bo;
            memcpy(&bs, &s, sizeof bs);
            memcpy(&bo, &o, sizeof bo);
            return mix_line(bs, bo, 0, 1);
        }
    } else {
        line_piece p = line_piece_of(a, b);
        dx = p.dx;
        dy = p.dy;
        c = p.c;
    }
    return mix_line((uint64_t)dx, (uint64_t)dy, (uint64_t)c, (uint64_t)(c >> 64));
}

/* 1 when two edges of the faces lie on one line and share more than a
 * point: parts of the union that touch along an edge, or a ring that runs
 * along itself; else 0, or -1 when out of memory. Edges are bucketed by a
 * hash of their line (a radix sort, linear), and only the edges of one
 * bucket are taken as line pieces and sorted along it. More edges than
 * 32-bit indices take are not looked at (as cancel_shared leaves them). */
static int edges_overlap(const stapel__aface *af, size_t n)
{
    size_t ne = 0;
    for (size_t i = 0; i < n; i++)
        ne += af[i].ring_end[af[i].n_rings - 1] - af[i].n_rings;
    if (ne < 2 || ne > UINT32_MAX)
        return 0;
    stapel__ipt *ed = malloc(2 * ne * sizeof *ed);
    line_piece *run = malloc(ne * sizeof *run);
    uint64_t *k = malloc(ne * sizeof *k), *t = malloc(ne * sizeof *t);
    if (ed == NULL || run == NULL || k == NULL || t == NULL) {
        free(ed);
        free(run);
        free(k);
        free(t);
        return -1;
    }
    bool overlap = false;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        for (uint32_t r = 0, j = 0; r < af[i].n_rings; r++, j++) {
            for (; j + 1 < af[i].ring_end[r]; j++) {
                stapel__ipt a = af[i].pts[j], b = af[i].pts[j + 1];
                int o = cmp_ipt(a, b);
                if (o == 0)
                    continue; /* no length */
                if (o > 0) {
                    stapel__ipt s = a;
                    a = b;
                    b = s;
                }
                k[m] = (line_hash(a, b) >> 32) << 32 | m;
                ed[2 * m] = a;
                ed[2 * m++ + 1] = b;
            }
        }
    }
    stapel__sort_hi32(k, t, m);
    for (size_t i = 0; i < m && !overlap;) {
        size_t j = i + 1;
        while (j < m && (k[j] >> 32) == (k[i] >> 32))
            j++;
        if (j - i > 1) { /* pieces on one line, or lines with one hash */
            for (size_t x = i; x < j; x++) {
                const stapel__ipt *e = &ed[2 * (k[x] & 0xffffffffu)];
                run[x - i] = line_piece_of(e[0], e[1]);
            }
            STAPEL__SORT_SMALL(line_piece, run, j - i, cmp_line_piece);
            for (size_t x = 1; x < j - i && !overlap; x++) {
                line_piece *p = &run[x - 1], *q = &run[x];
                if (p->dx == q->dx && p->dy == q->dy && p->c == q->c) {
                    overlap = q->t0 < p->t1;
                    q->t1 = q->t1 > p->t1 ? q->t1 : p->t1;
                }
            }
        }
        i = j;
    }
    free(ed);
    free(run);
    free(k);
    free(t);
    return overlap ? 1 : 0;
}

/* Whether a noded arrangement of faces that do not overlap came out as
 * their union. A segment end inside another segment, or segments that
 * cross, break the promise of noded input (segments meet only at shared
 * ends): the faces are traced wrongly, and either a part of the union is
 * silently lost (a square and a rectangle with a corner on its side,
 * dissolved to nothing), or the faces come out undissolved, whole and side
 * by side: the area is right, but two parts of the union touch along an
 * edge (the same square and rectangle, given in the other order). So both
 * are checked: the area (exact), and that no two edges of the union's rings
 * share more than a point (every edge of a true union has the union on one
 * side only). Should either fail, the union is computed again with snap
 * rounding, which takes any input. Faces that overlap (never in a stack)
 * take that way too.
 *
 * In a run the promise holds, so neither fails: the faces of a tile are
 * the faces of one arrangement, which meet only at its nodes, and lie in
 * their tile's closed rectangle (the clip replaces the parts of a ring
 * outside by their projection onto its border, a grid line, and snap
 * rounding routes segments through grid points in it); faces of two tiles
 * can only meet on a tile border, and stapel__seams_align gives every face
 * edge on an inner border every vertex any seam face has on that border
 * between its ends. So faces of one label across a seam share their edges there
 * vertex for vertex, cancel_shared drops them all, and what is left bounds
 * the union with the union on one side of every edge. A merge of shards
 * holds it the same way (stapel__seams_align_parts). The random claims of
 * cli/tests/seam_slivers.py (200 seeds, tiles of 100 to 250 vertices; 80
 * seeds in 2 and 3 shards, merged) never made either check fail, nor left
 * a vertex of one face inside an edge of another in a union. The checks
 * cost a pass over the union's edges. 1 when sound, 0 when not, -1 when
 * out of memory. */
static int noded_union_sound(stapel__i128 want, const stapel__aface *af, size_t n)
{
    if (afaces_area2(af, n) != want)
        return 0;
    int o = edges_overlap(af, n);
    return o < 0 ? -1 : !o;
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
    stapel__i128 want = noded ? segs_area2(&segs) : 0;
    stapel_status st = stapel__arrange(ctx, &segs, noded, keep_any, NULL, out, n_out);
    free(segs.v);
    int sound = st == STAPEL_OK && noded ? noded_union_sound(want, *out, *n_out) : 1;
    if (sound != 1) {
        stapel__afaces_free(*out, *n_out);
        *out = NULL;
        *n_out = 0;
        if (sound < 0)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        return stapel__dissolve_faces(ctx, faces, n, false, out, n_out);
    }
    return st;
}

/* Split the pinched faces of an arrangement, then join all their rings in
 * one set. Frees af. */
static stapel_status join_faces(stapel_ctx *ctx, stapel__aface *af, size_t n_af, double grid,
                                stapel__ipt **pts_out, uint32_t **ring_end_out,
                                uint32_t *n_rings_out)
{
    stapel_status st = STAPEL_OK;
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
        st = stapel__fail(ctx, STAPEL_EDATA, "a dissolved area has more than 2^32 vertices");
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
    if (st != STAPEL_OK) {
        stapel__afaces_free(af, n_af);
        return st;
    }
    return join_faces(ctx, af, n_af, grid, pts_out, ring_end_out, n_rings_out);
}

/* ---- many unions of one set of faces ------------------------------------------ */

/* Edge ids: the edge from point j of face i has id base[i] + j (the ids of
 * ring ends go unused). */
struct stapel__shared_edges {
    const stapel__rings *faces;
    size_t n_faces;
    uint32_t *base;  /* per face: the id of its first point */
    uint32_t *next;  /* per id: the next copy of the same edge in the face's
                      * part, either way round, in a cycle; itself when alone */
    uint32_t *owner; /* per id: the face, and in the top bit whether the edge
                      * runs from its greater end to its lesser (cmp_ipt) */
    /* Per id, what decides in a union whether the edge stays: for an edge
     * with one copy the other way round, that copy's face (the edge goes
     * when the face is in the union); n_faces when nothing can cancel it
     * (it has no copy, or its one copy runs the same way: then both stay);
     * TW_WALK when it has more copies: walk the cycle; TW_NONE for the ids
     * of ring ends and for edges without length (never segments). */
    uint32_t *tw;
    /* Scratch of the unions under way: marks of the faces of a union. */
    pthread_mutex_t lock;
    size_t n_slots;
    uint32_t **mark;
    uint32_t *stamp;
    bool *busy;
};

#define OWNER_BACK 0x80000000u
#define TW_WALK UINT32_MAX
#define TW_NONE (UINT32_MAX - 1)

void stapel__shared_edges_free(stapel__shared_edges *se)
{
    if (se == NULL)
        return;
    /* stapel__shared_edges_make frees one whose marks it could not
     * allocate. */
    for (size_t i = 0; se->mark != NULL && i < se->n_slots; i++)
        free(se->mark[i]);
    free(se->mark);
    free(se->stamp);
    free(se->busy);
    free(se->base);
    free(se->next);
    free(se->owner);
    free(se->tw);
    pthread_mutex_destroy(&se->lock);
    free(se);
}

/* How far ahead link_part prefetches the table slot of an edge. */
#define LINK_AHEAD 16

/* Link the copies of each edge of faces [f0, f1) into cycles and fill in
 * their tw. Every edge is looked up by its ends, lesser first (as
 * cancel_shared compares them), in a hash table of the first copy of each
 * edge: tab, cap slots (a power of two, at least twice the edges), hash and
 * id + 1 in each. pt has room for the part's points: a copy in one block,
 * so that the compares need not look for them face by face; hs has room
 * for a hash per point. A first pass fills in the edges and their hashes,
 * a second looks them up, in the same order, with the slot of an edge
 * LINK_AHEAD ahead prefetched: the table of a large part is far larger
 * than the caches, and two thirds of the time went to waiting for its
 * slots (scale 100, parts of up to millions of points: 15 to 25 times the
 * time of scale 10 for 10 times the faces; now some 12 times). */
static void link_part(stapel__shared_edges *se, size_t f0, size_t f1, uint64_t *tab, size_t cap,
                      stapel__ipt *pt, uint32_t *hs)
{
    const stapel__rings *faces = se->faces;
    uint32_t id_lo = se->base[f0], id_hi = se->base[f1];
    memset(tab, 0, cap * sizeof *tab);
    for (size_t i = f0; i < f1; i++) {
        const stapel__rings *r = &faces[i];
        uint32_t id0 = se->base[i], start = 0;
        stapel__ipt *p = pt + (id0 - id_lo);
        memcpy(p, r->pts, (se->base[i + 1] - id0) * sizeof *p);
        for (uint32_t q = 0; q < r->n_rings; q++) {
            for (uint32_t j = start; j < r->ring_end[q]; j++) {
                uint32_t id = id0 + j;
                se->next[id] = id;
                se->owner[id] = (uint32_t)i;
                se->tw[id] = (uint32_t)se->n_faces;
                if (j + 1 == r->ring_end[q]) {
                    se->tw[id] = TW_NONE;
                    continue;
                }
                int c = cmp_ipt(p[j], p[j + 1]);
                if (c == 0) {
                    se->tw[id] = TW_NONE; /* stapel__segs_push would drop it */
                    continue;
                }
                if (c > 0)
                    se->owner[id] |= OWNER_BACK;
                hs[id - id_lo] = c < 0 ? seg_hash(p[j], p[j + 1]) : seg_hash(p[j + 1], p[j]);
            }
            start = r->ring_end[q];
        }
    }
    for (uint32_t id = id_lo; id < id_hi; id++) {
        if (id_hi - id > LINK_AHEAD && se->tw[id + LINK_AHEAD] != TW_NONE)
            __builtin_prefetch(&tab[hs[id + LINK_AHEAD - id_lo] & (cap - 1)]);
        if (se->tw[id] == TW_NONE)
            continue;
        const stapel__ipt *p = pt + (id - id_lo);
        bool back_id = (se->owner[id] & OWNER_BACK) != 0;
        stapel__ipt lo = back_id ? p[1] : p[0], hi = back_id ? p[0] : p[1];
        uint32_t i = se->owner[id] & ~OWNER_BACK;
        uint64_t h = hs[id - id_lo];
        size_t pos = (size_t)h & (cap - 1);
        for (;; pos = (pos + 1) & (cap - 1)) {
            uint64_t e = tab[pos];
            if (e == 0) {
                tab[pos] = h << 32 | (id + 1);
                break;
            }
            if (e >> 32 != h)
                continue;
            uint32_t head = (uint32_t)e - 1;
            const stapel__ipt *ph = pt + (head - id_lo);
            bool back = (se->owner[head] & OWNER_BACK) != 0;
            if (cmp_ipt(back ? ph[1] : ph[0], lo) != 0 || cmp_ipt(back ? ph[0] : ph[1], hi) != 0)
                continue;
            /* Another copy: into the head's cycle. */
            bool alone = se->next[head] == head;
            se->next[id] = se->next[head];
            se->next[head] = id;
            if (alone) {
                if (back != back_id) {
                    se->tw[head] = i;
                    se->tw[id] = se->owner[head] & ~OWNER_BACK;
                }
            } else if (se->tw[head] == TW_WALK) {
                se->tw[id] = TW_WALK;
            } else {
                uint32_t x = head;
                do {
                    se->tw[x] = TW_WALK;
                    x = se->next[x];
                } while (x != head);
            }
            break;
        }
    }
}

/* The parts are linked on worker threads: a part's ids, and the faces it
 * reads, are its own, so each part is linked by one thread exactly as in a
 * loop over the parts, in any order. A job borrows one of the scratches
 * (its hash table, points and hashes), which are as many as threads and
 * grow to the largest part they are given. */
typedef struct link_scratch {
    uint64_t *tab;
    size_t cap_tab;
    stapel__ipt *pt;
    uint32_t *hs;
    size_t cap_pts;
    bool busy;
} link_scratch;

typedef struct link_job {
    stapel__shared_edges *se;
    const size_t *part_end;
    const size_t *order; /* job k links part order[k]: the largest first */
    link_scratch *scr;
    size_t n_scr;
} link_job;

static bool scratch_fit(link_scratch *sc, size_t cap, size_t n_pts)
{
    if (sc->cap_tab < cap) {
        free(sc->tab);
        sc->tab = malloc(cap * sizeof *sc->tab);
        sc->cap_tab = sc->tab != NULL ? cap : 0;
    }
    if (sc->cap_pts < n_pts + 1) {
        free(sc->pt);
        free(sc->hs);
        sc->pt = malloc((n_pts + 1) * sizeof *sc->pt);
        sc->hs = malloc((n_pts + 1) * sizeof *sc->hs);
        sc->cap_pts = sc->pt != NULL && sc->hs != NULL ? n_pts + 1 : 0;
    }
    return sc->cap_tab >= cap && sc->cap_pts >= n_pts + 1;
}

static void scratch_free(link_scratch *sc)
{
    free(sc->tab);
    free(sc->pt);
    free(sc->hs);
    *sc = (link_scratch){0};
}

static stapel_status link_one(stapel_ctx *ctx, size_t k, void *user)
{
    link_job *j = user;
    stapel__shared_edges *se = j->se;
    size_t p = j->order[k];
    size_t f0 = p > 0 ? j->part_end[p - 1] : 0, f1 = j->part_end[p];
    size_t n_pts = se->base[f1] - se->base[f0];
    size_t cap = 16; /* a table for the part: twice its points or more */
    while (cap < 2 * n_pts)
        cap *= 2;
    link_scratch own = {0}, *sc = &own;
    pthread_mutex_lock(&se->lock);
    for (size_t i = 0; i < j->n_scr && sc == &own; i++) {
        if (!j->scr[i].busy) {
            sc = &j->scr[i];
            sc->busy = true;
        }
    }
    pthread_mutex_unlock(&se->lock);
    bool ok = scratch_fit(sc, cap, n_pts);
    if (ok)
        link_part(se, f0, f1, sc->tab, cap, sc->pt, sc->hs);
    if (sc == &own) { /* more jobs at once than threads announced */
        scratch_free(&own);
    } else {
        pthread_mutex_lock(&se->lock);
        sc->busy = false;
        pthread_mutex_unlock(&se->lock);
    }
    return ok ? STAPEL_OK : stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
}

static int cmp_size_desc(const void *a, const void *b)
{
    const size_t *x = a, *y = b; /* {points, part} */
    if (x[0] != y[0])
        return x[0] > y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

stapel_status stapel__shared_edges_make(stapel_ctx *ctx, const stapel__rings *faces, size_t n,
                                        const size_t *part_end, size_t n_parts, int threads,
                                        const char *phase, stapel__shared_edges **out)
{
    *out = NULL;
    size_t total = 0;
    for (size_t p = 0, f = 0; p < n_parts; p++)
        for (; f < part_end[p]; f++)
            total += faces[f].n_rings > 0 ? faces[f].ring_end[faces[f].n_rings - 1] : 0;
    if (n >= TW_NONE || total >= UINT32_MAX)
        return STAPEL_OK; /* too many for 32-bit ids: the caller dissolves each set alone */
    stapel__shared_edges *se = calloc(1, sizeof *se);
    if (se == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    pthread_mutex_init(&se->lock, NULL);
    se->faces = faces;
    se->n_faces = n;
    se->n_slots = (size_t)(threads > 0 ? threads : 1);
    se->base = malloc((n + 1) * sizeof *se->base);
    se->next = malloc((total + 1) * sizeof *se->next);
    se->owner = malloc((total + 1) * sizeof *se->owner);
    se->tw = malloc((total + 1) * sizeof *se->tw);
    se->mark = calloc(se->n_slots, sizeof *se->mark);
    se->stamp = calloc(se->n_slots, sizeof *se->stamp);
    se->busy = calloc(se->n_slots, sizeof *se->busy);
    int nt = stapel__thread_count(threads, n_parts);
    link_job job = {se, part_end, malloc((n_parts + 1) * sizeof *job.order),
                    calloc((size_t)nt, sizeof *job.scr), (size_t)nt};
    size_t *by_size = malloc((2 * n_parts + 1) * sizeof *by_size);
    size_t *weight = malloc((n_parts + 1) * sizeof *weight);
    if (se->base == NULL || se->next == NULL || se->owner == NULL || se->tw == NULL ||
        se->mark == NULL || se->stamp == NULL || se->busy == NULL || job.order == NULL ||
        job.scr == NULL || by_size == NULL || weight == NULL) {
        free((size_t *)job.order);
        free(job.scr);
        free(by_size);
        free(weight);
        stapel__shared_edges_free(se);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    uint32_t id0 = 0;
    for (size_t i = 0; i < n; i++) {
        se->base[i] = id0;
        id0 += faces[i].n_rings > 0 ? faces[i].ring_end[faces[i].n_rings - 1] : 0;
    }
    se->base[n] = id0;
    /* The largest parts first, so that no thread is left with a large
     * one at the end while the others wait. */
    for (size_t p = 0; p < n_parts; p++) {
        by_size[2 * p] = se->base[part_end[p]] - se->base[p > 0 ? part_end[p - 1] : 0];
        by_size[2 * p + 1] = p;
    }
    qsort(by_size, n_parts, 2 * sizeof *by_size, cmp_size_desc);
    size_t *order = (size_t *)job.order;
    for (size_t k = 0; k < n_parts; k++) {
        weight[k] = by_size[2 * k];
        order[k] = by_size[2 * k + 1];
    }
    free(by_size);
    stapel_status st =
        stapel__parallel_for_weighted(ctx, n_parts, nt, phase, link_one, &job, weight);
    for (int i = 0; i < nt; i++)
        scratch_free(&job.scr[i]);
    free(job.scr);
    free(order);
    free(weight);
    if (st != STAPEL_OK) {
        stapel__shared_edges_free(se);
        return st;
    }
    *out = se;
    return STAPEL_OK;
}

/* The segments of the union of faces sel[0 .. n) of se (ascending, of one
 * part), exactly as cancel_shared leaves those of stapel__dissolve_faces:
 * where the copies of an edge in the union do not cancel out, the first
 * ones in the net direction are kept, and the edges kept stay in order. The
 * copies were found once for the part, so this is one pass. */
static bool subset_segs(const stapel__shared_edges *se, const uint32_t *sel, size_t n,
                        const uint32_t *mark, uint32_t stamp, stapel__segs *segs)
{
    size_t most = 0;
    for (size_t s = 0; s < n; s++)
        most += se->base[sel[s] + 1] - se->base[sel[s]];
    stapel__iseg *v = malloc((most + 1) * sizeof *v);
    if (v == NULL)
        return false;
    free(segs->v);
    segs->v = v;
    segs->cap = most + 1;
    size_t m = 0;
    for (size_t s = 0; s < n; s++) {
        /* The face's points are read only for the edges that stay: inside
         * a large union, whole faces go without. */
        uint32_t f = sel[s], b = se->base[f], e = se->base[f + 1];
        const stapel__ipt *p = NULL;
        for (uint32_t id = b; id < e; id++) {
            uint32_t t = se->tw[id];
            if (t < TW_NONE) {
                if (mark[t] == stamp)
                    continue;
            } else if (t == TW_NONE) {
                continue;
            } else {
                /* The sum of the directions of the copies in the union,
                 * and how many in this one's direction come before it. */
                int64_t d = (se->owner[id] & OWNER_BACK) ? -1 : 1, sum = d, before = 0;
                for (uint32_t c = se->next[id]; c != id; c = se->next[c]) {
                    uint32_t oc = se->owner[c];
                    if (mark[oc & ~OWNER_BACK] != stamp)
                        continue;
                    int64_t dc = (oc & OWNER_BACK) ? -1 : 1;
                    sum += dc;
                    before += dc == d && c < id;
                }
                if (sum * d <= 0 || before >= sum * d)
                    continue;
            }
            if (p == NULL)
                p = se->faces[f].pts;
            v[m++] = (stapel__iseg){p[id - b], p[id - b + 1], 0};
        }
    }
    segs->n = m;
    return true;
}

stapel_status stapel__dissolve_subset(stapel_ctx *ctx, stapel__shared_edges *se,
                                      const uint32_t *sel, size_t n, double grid, bool noded,
                                      stapel__ipt **pts_out, uint32_t **ring_end_out,
                                      uint32_t *n_rings_out)
{
    *pts_out = NULL;
    *ring_end_out = NULL;
    *n_rings_out = 0;
    /* A slot of marks of its own: there are as many as threads. */
    size_t slot = SIZE_MAX;
    pthread_mutex_lock(&se->lock);
    for (size_t i = 0; i < se->n_slots && slot == SIZE_MAX; i++)
        if (!se->busy[i])
            slot = i;
    if (slot != SIZE_MAX)
        se->busy[slot] = true;
    pthread_mutex_unlock(&se->lock);
    uint32_t *own = NULL, *mark, stamp;
    if (slot == SIZE_MAX) { /* more unions at once than announced */
        mark = own = calloc(se->n_faces + 1, sizeof *own);
        stamp = 1;
    } else {
        if (se->mark[slot] == NULL || se->stamp[slot] == UINT32_MAX) {
            free(se->mark[slot]);
            se->mark[slot] = calloc(se->n_faces + 1, sizeof *se->mark[slot]);
            se->stamp[slot] = 0;
        }
        mark = se->mark[slot];
        stamp = ++se->stamp[slot];
    }
    stapel__segs segs = {0};
    bool ok = mark != NULL;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            mark[sel[i]] = stamp;
        ok = subset_segs(se, sel, n, mark, stamp, &segs);
    }
    free(own);
    if (slot != SIZE_MAX) {
        pthread_mutex_lock(&se->lock);
        se->busy[slot] = false;
        pthread_mutex_unlock(&se->lock);
    }
    if (!ok) {
        free(segs.v);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    stapel__aface *af = NULL;
    size_t n_af = 0;
    stapel__i128 want = noded ? segs_area2(&segs) : 0;
    stapel_status st = stapel__arrange(ctx, &segs, noded, keep_any, NULL, &af, &n_af);
    free(segs.v);
    if (st != STAPEL_OK) {
        stapel__afaces_free(af, n_af);
        return st;
    }
    int sound = noded ? noded_union_sound(want, af, n_af) : 1;
    if (sound != 1) { /* as in stapel__dissolve_faces */
        stapel__afaces_free(af, n_af);
        if (sound < 0)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        return stapel__dissolve_subset(ctx, se, sel, n, grid, false, pts_out, ring_end_out,
                                       n_rings_out);
    }
    return join_faces(ctx, af, n_af, grid, pts_out, ring_end_out, n_rings_out);
}

/* ---- parallel for ------------------------------------------------------------ */

typedef struct pfor {
    stapel_ctx *parent;
    size_t n;
    stapel__job_fn fn;
    void *user;
    const char *phase;
    const size_t *weight; /* of each job, for the progress; NULL: one each */
    size_t total;         /* the sum of the weights */
    double shown;         /* the fraction last reported (by the calling thread) */
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
        size_t done = atomic_fetch_add(&p->done, p->weight != NULL ? p->weight[i] : 1);
        if (p->weight == NULL) {
            /* Every 64th job, or every 1/64 of fewer jobs: the merging's
             * attributes are a few dozen jobs of 4096 faces. */
            size_t every = p->n / 64 < 1 ? 1 : p->n / 64 > 64 ? 64 : p->n / 64;
            if (report && p->phase != NULL && (done + 1) % every == 0)
                stapel__progress(p->parent, p->phase, (double)(done + 1) / (double)p->n);
            continue;
        }
        /* Reported when it has grown by 1/256 at least: a callback per job
         * would be called tens of thousands of times. */
        double f = (double)(done + p->weight[i]) / (double)p->total;
        if (report && p->phase != NULL && f >= p->shown + 1.0 / 256) {
            stapel__progress(p->parent, p->phase, f < 1.0 ? f : 1.0);
            p->shown = f;
        }
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
    return stapel__parallel_for_weighted(ctx, n, threads, phase, fn, user, NULL);
}

stapel_status stapel__parallel_for_weighted(stapel_ctx *ctx, size_t n, int threads,
                                            const char *phase, stapel__job_fn fn, void *user,
                                            const size_t *weight)
{
    pfor p = {.parent = ctx, .n = n, .fn = fn, .user = user, .phase = phase, .weight = weight};
    for (size_t i = 0; weight != NULL && i < n; i++)
        p.total += weight[i];
    if (p.total == 0)
        p.weight = NULL;
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
