/*
 * arrange.c - the exact planar arrangement of one tile, on the integer grid.
 *
 * Method (all arithmetic exact, in 64- and 128-bit integers of grid units):
 *  1. Segments. Every owner's rings arrive oriented so that the owner's
 *     interior lies to the left of each directed segment.
 *  2. Snap rounding. Every segment end and every proper crossing of two
 *     segments (rounded to the nearest grid point) makes a hot pixel: the
 *     half-open unit square around a grid point. Every segment is rerouted
 *     through the centres of the hot pixels it passes. After this, segments
 *     meet only at grid points, and coincident pieces coincide exactly.
 *  3. Edges. Each rerouted piece adds, for its owner, +1 to the left side of
 *     the piece relative to its right side. Pieces on the same two grid points
 *     merge into one edge whose deltas add up. An edge whose deltas all cancel
 *     separates nothing and is dropped, so faces come out as maximal regions
 *     of constant cover.
 *  4. Faces. Half-edges are sorted by angle around each node and linked into
 *     cycles with the face on the left. Counter-clockwise cycles bound faces;
 *     each clockwise cycle is the outer boundary of a connected component and
 *     becomes a hole of the face found by a ray cast to the left of its
 *     lowest-leftmost vertex.
 *  5. Cover. Starting from the unbounded face (covered by nothing), crossing a
 *     half-edge from its left to its right subtracts its deltas. Each face gets
 *     the owners whose count is positive.
 * No step can throw or fail to converge; the only failure is running out of
 * memory.
 */
#include "arrange.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef stapel__i128 i128;

/* ---- small containers ------------------------------------------------------ */

#define GROW(arr, n, cap, min)                                                                    \
    do {                                                                                          \
        if ((n) >= (cap)) {                                                                       \
            size_t c_ = (cap) == 0 ? (min) : (cap) * 2;                                           \
            void *d_ = realloc((arr), c_ * sizeof *(arr));                                        \
            if (d_ == NULL)                                                                       \
                goto oom;                                                                         \
            (arr) = d_;                                                                           \
            (cap) = c_;                                                                           \
        }                                                                                         \
    } while (0)

bool stapel__segs_push(stapel__segs *s, stapel__ipt a, stapel__ipt b, uint32_t owner)
{
    if (a.x == b.x && a.y == b.y)
        return true;
    GROW(s->v, s->n, s->cap, 256);
    s->v[s->n++] = (stapel__iseg){a, b, owner};
    return true;
oom:
    return false;
}

/* floor(num / den) for den > 0 */
static int64_t floor_div(i128 num, i128 den)
{
    i128 q = num / den;
    if ((num % den != 0) && (num < 0))
        q--;
    return (int64_t)q;
}

/* The nearest integer to num / den (den > 0), halves rounded up. */
static int64_t round_div(i128 num, i128 den)
{
    return floor_div(2 * num + den, 2 * den);
}

/* ---- clipping -------------------------------------------------------------- */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

typedef struct cut {
    i128 num, den; /* parameter t = num / den along the canonical segment */
    stapel__ipt p;
} cut;

/* Append p (clamped) to the path, merging runs along one border line. */
typedef struct path {
    stapel__ipt *v;
    size_t n, cap;
} path;

static bool on_same_border(stapel__ipt a, stapel__ipt b, stapel__ipt c, int64_t x0, int64_t y0,
                           int64_t x1, int64_t y1)
{
    return (a.x == b.x && b.x == c.x && (a.x == x0 || a.x == x1)) ||
           (a.y == b.y && b.y == c.y && (a.y == y0 || a.y == y1));
}

static bool path_add(path *pa, stapel__ipt p, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    p.x = clamp64(p.x, x0, x1);
    p.y = clamp64(p.y, y0, y1);
    if (pa->n > 0 && pa->v[pa->n - 1].x == p.x && pa->v[pa->n - 1].y == p.y)
        return true;
    /* A path running along one border line can go straight from its first
     * to its last point: the line holds no point inside the rectangle. */
    if (pa->n >= 2 && on_same_border(pa->v[pa->n - 2], pa->v[pa->n - 1], p, x0, y0, x1, y1)) {
        pa->v[pa->n - 1] = p;
        if (pa->v[pa->n - 2].x == p.x && pa->v[pa->n - 2].y == p.y)
            pa->n--;
        return true;
    }
    GROW(pa->v, pa->n, pa->cap, 64);
    pa->v[pa->n++] = p;
    return true;
oom:
    return false;
}

/* Which side of the tile p lies on, the tile's border lines included:
 * 0 x <= x0, 1 x >= x1, 2 y <= y0, 3 y >= y1 (the first that holds); -1
 * strictly inside. */
static int outside_side(stapel__ipt p, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    return p.x <= x0 ? 0 : p.x >= x1 ? 1 : p.y <= y0 ? 2 : p.y >= y1 ? 3 : -1;
}

static bool on_side(stapel__ipt p, int side, int64_t x0, int64_t y0, int64_t x1, int64_t y1)
{
    switch (side) {
    case 0:
        return p.x <= x0;
    case 1:
        return p.x >= x1;
    case 2:
        return p.y <= y0;
    default:
        return p.y >= y1;
    }
}

int64_t *stapel__clip_blocks(const stapel__ipt *pts, size_t n)
{
    size_t nb = (n + STAPEL__CLIP_BLOCK - 1) / STAPEL__CLIP_BLOCK;
    int64_t *blk = malloc((4 * nb + 1) * sizeof *blk);
    if (blk == NULL)
        return NULL;
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * STAPEL__CLIP_BLOCK;
        size_t hi = lo + STAPEL__CLIP_BLOCK < n ? lo + STAPEL__CLIP_BLOCK : n;
        int64_t *box = blk + 4 * b;
        box[0] = box[2] = pts[lo].x;
        box[1] = box[3] = pts[lo].y;
        for (size_t i = lo + 1; i < hi; i++) {
            box[0] = pts[i].x < box[0] ? pts[i].x : box[0];
            box[1] = pts[i].y < box[1] ? pts[i].y : box[1];
            box[2] = pts[i].x > box[2] ? pts[i].x : box[2];
            box[3] = pts[i].y > box[3] ? pts[i].y : box[3];
        }
    }
    return blk;
}

/* Whether a block's box lies wholly on one side (as on_side()). */
static bool box_on_side(const int64_t *box, int side, int64_t x0, int64_t y0, int64_t x1,
                        int64_t y1)
{
    switch (side) {
    case 0:
        return box[2] <= x0;
    case 1:
        return box[0] >= x1;
    case 2:
        return box[3] <= y0;
    default:
        return box[1] >= y1;
    }
}

typedef struct clip_rect {
    int64_t x0, y0, x1, y1;
    const int64_t *blk;
    size_t base;
} clip_rect;

/* The end of a run on one side that begins at pts[j]: the first index in
 * j+1 .. lim-1 of a point not on the side, or lim. Whole blocks on the side
 * are passed in one step. */
static size_t run_end(const stapel__ipt *pts, size_t j, size_t lim, int side, const clip_rect *r)
{
    for (j++; j < lim;) {
        size_t g = r->base + j;
        if (r->blk != NULL && g % STAPEL__CLIP_BLOCK == 0 && j + STAPEL__CLIP_BLOCK <= lim &&
            box_on_side(r->blk + 4 * (g / STAPEL__CLIP_BLOCK), side, r->x0, r->y0, r->x1, r->y1)) {
            j += STAPEL__CLIP_BLOCK;
            continue;
        }
        if (!on_side(pts[j], side, r->x0, r->y0, r->x1, r->y1))
            break;
        j++;
    }
    return j;
}

static int cmp_cut(const void *a, const void *b)
{
    const cut *u = a, *v = b;
    i128 l = u->num * v->den, r = v->num * u->den;
    return (l > r) - (l < r);
}

/* Where the segment from u0 to u1 (along one axis; the other coordinate
 * starts at v0 and changes by dv) strictly crosses the line u = line: the
 * parameter num/den (den > 0) and the other coordinate, rounded. */
static bool line_cut(int64_t u0, int64_t u1, int64_t v0, int64_t dv, int64_t line, i128 *num,
                     i128 *den, int64_t *v)
{
    if (!((u0 < line && u1 > line) || (u0 > line && u1 < line)))
        return false;
    *num = (i128)(line - u0);
    *den = (i128)(u1 - u0);
    if (*den < 0) {
        *num = -*num;
        *den = -*den;
    }
    *v = v0 + round_div((i128)dv * *num, *den);
    return true;
}

bool stapel__clip_ring(stapel__segs *out, const stapel__ipt *pts, size_t n, uint32_t owner,
                       int64_t x0, int64_t y0, int64_t x1, int64_t y1, const int64_t *blk,
                       size_t base)
{
    path pa = {0};
    const clip_rect rect = {x0, y0, x1, y1, blk, base};
    if (n > 1 && pts[n - 1].x == pts[0].x && pts[n - 1].y == pts[0].y)
        n--;
    if (n < 3)
        return true;
    /* A ring wholly on one side of the tile (as most holes and parts of a
     * large polygon are, seen from most of its tiles) adds only points of
     * one border line: a path of two points at most, no segment. */
    int side0 = outside_side(pts[0], x0, y0, x1, y1);
    if (side0 >= 0 && run_end(pts, 0, n, side0, &rect) == n)
        return true;
    for (size_t i = 0; i < n; i++) {
        /* A run of vertices on one side of the tile (all left of x0, say)
         * adds only points of that border line to the path, and the path
         * keeps of such points only the first and the last (a run along
         * one line goes straight from its first point to its last): add
         * the first vertex and go on with the run's last segment, which
         * adds the last point. A ring much larger than its tiles (a
         * coastline of a million vertices) is then passed once per tile
         * by this scan instead of segment by segment. */
        int side = outside_side(pts[i], x0, y0, x1, y1);
        if (side >= 0) {
            /* the run: vertices i .. j - 1 (mod n), segments i .. j - 2 */
            size_t j = run_end(pts, i, n, side, &rect);
            if (j == n && on_side(pts[0], side, x0, y0, x1, y1))
                j = n + 1;
            if (j - i >= 3) {
                if (!path_add(&pa, pts[i], x0, y0, x1, y1))
                    goto oom;
                i = j - 2;
            }
        }
        stapel__ipt a = pts[i], b = pts[(i + 1) % n];
        if (!path_add(&pa, a, x0, y0, x1, y1))
            goto oom;
        bool a_in = a.x >= x0 && a.x <= x1 && a.y >= y0 && a.y <= y1;
        bool b_in = b.x >= x0 && b.x <= x1 && b.y >= y0 && b.y <= y1;
        if (a_in && b_in)
            continue;
        /* Crossings with the four border lines, computed on the canonical
         * (lexicographically ordered) segment so both neighbouring tiles get
         * the very same points. */
        bool flip = (a.x > b.x) || (a.x == b.x && a.y > b.y);
        stapel__ipt p = flip ? b : a, q = flip ? a : b;
        int64_t dx = q.x - p.x, dy = q.y - p.y;
        cut cuts[4];
        int nc = 0;
        const int64_t xs[2] = {x0, x1}, ys[2] = {y0, y1};
        for (int k = 0; k < 2; k++) {
            stapel__ipt c;
            if (line_cut(p.x, q.x, p.y, dy, xs[k], &cuts[nc].num, &cuts[nc].den, &c.y)) {
                c.x = xs[k];
                cuts[nc++].p = c;
            }
            if (line_cut(p.y, q.y, p.x, dx, ys[k], &cuts[nc].num, &cuts[nc].den, &c.x)) {
                c.y = ys[k];
                cuts[nc++].p = c;
            }
        }
        qsort(cuts, (size_t)nc, sizeof *cuts, cmp_cut);
        for (int k = 0; k < nc; k++) {
            int idx = flip ? nc - 1 - k : k;
            if (!path_add(&pa, cuts[idx].p, x0, y0, x1, y1))
                goto oom;
        }
    }
    /* Close the path, merging its ends along a border like any other run. */
    if (pa.n >= 3) {
        if (!path_add(&pa, pa.v[0], x0, y0, x1, y1))
            goto oom;
        for (size_t i = 0; i + 1 < pa.n; i++)
            if (!stapel__segs_push(out, pa.v[i], pa.v[i + 1], owner))
                goto oom;
        stapel__ipt last = pa.v[pa.n - 1];
        if (last.x != pa.v[0].x || last.y != pa.v[0].y)
            if (!stapel__segs_push(out, last, pa.v[0], owner))
                goto oom;
    }
    free(pa.v);
    return true;
oom:
    free(pa.v);
    return false;
}

/* ---- geometry predicates --------------------------------------------------- */

static int orient(stapel__ipt a, stapel__ipt b, stapel__ipt c)
{
    i128 v = (i128)(b.x - a.x) * (c.y - a.y) - (i128)(b.y - a.y) * (c.x - a.x);
    return (v > 0) - (v < 0);
}

/* orient() for points less than 2^31 apart in x and in y: the products and
 * their difference fit in 64 bits. */
static int orient_near(stapel__ipt a, stapel__ipt b, stapel__ipt c)
{
    int64_t v = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
    return (v > 0) - (v < 0);
}

/* The rounded proper crossing of s and t, if they cross in both interiors.
 * near: all their ends lie less than 2^31 apart in x and in y. */
static bool proper_crossing(const stapel__iseg *s, const stapel__iseg *t, bool near,
                            stapel__ipt *out)
{
    /* touching or collinear cases meet at segment ends, which are hot */
    int o1 = near ? orient_near(s->a, s->b, t->a) : orient(s->a, s->b, t->a);
    int o2 = near ? orient_near(s->a, s->b, t->b) : orient(s->a, s->b, t->b);
    if (o1 == 0 || o2 == 0 || o1 == o2)
        return false;
    int o3 = near ? orient_near(t->a, t->b, s->a) : orient(t->a, t->b, s->a);
    int o4 = near ? orient_near(t->a, t->b, s->b) : orient(t->a, t->b, s->b);
    if (o3 == 0 || o4 == 0 || o3 == o4)
        return false;
    i128 rx = s->b.x - s->a.x, ry = s->b.y - s->a.y;
    i128 qx = t->b.x - t->a.x, qy = t->b.y - t->a.y;
    i128 den = rx * qy - ry * qx;
    i128 num = (i128)(t->a.x - s->a.x) * qy - (i128)(t->a.y - s->a.y) * qx;
    if (den < 0) {
        den = -den;
        num = -num;
    }
    /* Coordinates: a + r * num / den; the products fit in 128 bits. */
    out->x = s->a.x + round_div(rx * num, den);
    out->y = s->a.y + round_div(ry * num, den);
    return true;
}

/* Does segment s pass through the half-open pixel [c-1/2, c+1/2)^2 ? Works in
 * doubled coordinates so the pixel bounds are integers. */
static bool hits_pixel(stapel__ipt a, stapel__ipt b, stapel__ipt c)
{
    if ((c.x == a.x && c.y == a.y) || (c.x == b.x && c.y == b.y))
        return true; /* an end lies at the pixel's centre */
    /* A segment that meets the pixel passes within half its diagonal of the
     * centre: cross^2 <= len^2 / 2. Reject on 0.6 (in doubles, whose error
     * here is far below that margin) before the exact test. */
    double dxd = (double)b.x - (double)a.x, dyd = (double)b.y - (double)a.y;
    double exd = (double)c.x - (double)a.x, eyd = (double)c.y - (double)a.y;
    double cr = dxd * eyd - dyd * exd, len2 = dxd * dxd + dyd * dyd;
    if (cr * cr > 0.6 * len2)
        return false;
    /* Accept, with the same margin over the doubles' error, when the line
     * passes within sqrt(0.24) < 0.49 of the centre at a point between the
     * segment's ends: that point lies in the pixel's inscribed open disc,
     * so inside the pixel. */
    double dot = dxd * exd + dyd * eyd;
    if (cr * cr < 0.24 * len2 && dot >= 0 && dot <= len2)
        return true;
    i128 ax = 2 * (i128)a.x, ay = 2 * (i128)a.y, bx = 2 * (i128)b.x, by = 2 * (i128)b.y;
    i128 L = 2 * (i128)c.x - 1, R = 2 * (i128)c.x + 1, B = 2 * (i128)c.y - 1,
         T = 2 * (i128)c.y + 1;
    /* Liang-Barsky on the closed square: t in [lo_n/lo_d, hi_n/hi_d]. */
    i128 lo_n = 0, lo_d = 1, hi_n = 1, hi_d = 1;
    i128 d[2] = {bx - ax, by - ay}, p0[2] = {ax, ay}, mn[2] = {L, B}, mx[2] = {R, T};
    for (int k = 0; k < 2; k++) {
        if (d[k] == 0) {
            if (p0[k] < mn[k] || p0[k] > mx[k])
                return false;
            continue;
        }
        i128 n1 = mn[k] - p0[k], n2 = mx[k] - p0[k], den = d[k];
        if (den < 0) {
            i128 t = n1;
            n1 = -n2;
            n2 = -t;
            den = -den;
        }
        /* t >= n1/den and t <= n2/den */
        if (n1 * lo_d > lo_n * den) {
            lo_n = n1;
            lo_d = den;
        }
        if (n2 * hi_d < hi_n * den) {
            hi_n = n2;
            hi_d = den;
        }
    }
    if (lo_n * hi_d > hi_n * lo_d)
        return false; /* misses the closed square */
    /* The part inside the closed square runs from t_lo to t_hi. The square is
     * half-open: its top and right sides belong to the neighbours. */
    if (d[0] == 0 && p0[0] == R)
        return false; /* runs along the right side */
    if (d[1] == 0 && p0[1] == T)
        return false; /* runs along the top side */
    if (lo_n * hi_d == hi_n * lo_d) {
        /* A single point: in the pixel unless on its top or right side. */
        i128 px = ax * lo_d + d[0] * lo_n, py = ay * lo_d + d[1] * lo_n;
        return px < R * lo_d && py < T * lo_d;
    }
    return true;
}

/* ---- hashing grid points --------------------------------------------------- */

/* Open addressing with linear probing. A slot holds a point's id and the
 * high half of its hash; the point itself is in by_id, looked at only when
 * the hashes agree. Slots are small, so the table is quick to clear and
 * stays in cache longer. */
typedef struct pt_slot {
    uint32_t val; /* node id + 1; 0 = empty */
    uint32_t tag; /* the high 32 bits of the point's hash */
} pt_slot;

typedef struct ptmap {
    pt_slot *slots;
    size_t cap;
    size_t n;
    stapel__ipt *by_id; /* the points in the order they were added: point of id i */
    size_t by_id_cap;
} ptmap;

static uint64_t pt_hash(stapel__ipt p)
{
    uint64_t h = (uint64_t)p.x * 0x9E3779B97F4A7C15ull ^ ((uint64_t)p.y + 0x632BE59BD9B4E019ull);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return h;
}

/* How far ahead a loop over segments asks for the slot it will probe. */
#define PREFETCH_AHEAD 8

static bool ptmap_init(ptmap *m, size_t expect)
{
    m->cap = 64;
    while (m->cap < 2 * expect + 64)
        m->cap *= 2;
    m->slots = calloc(m->cap, sizeof *m->slots);
    m->n = 0;
    m->by_id_cap = expect + expect / 4 + 64; /* room for crossings */
    m->by_id = malloc(m->by_id_cap * sizeof *m->by_id);
    return m->slots != NULL && m->by_id != NULL;
}

static void ptmap_free(ptmap *m)
{
    free(m->slots);
    free(m->by_id);
}

/* Double the table. */
static __attribute__((noinline)) bool ptmap_grow(ptmap *m)
{
    size_t cap = 2 * m->cap;
    pt_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < m->n; i++) {
        uint64_t h = pt_hash(m->by_id[i]);
        size_t j = h & (cap - 1);
        while (slots[j].val != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = (pt_slot){(uint32_t)(i + 1), (uint32_t)(h >> 32)};
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

/* Double the room for points. */
static __attribute__((noinline)) bool ptmap_grow_ids(ptmap *m)
{
    stapel__ipt *d = realloc(m->by_id, 2 * m->by_id_cap * sizeof *d);
    if (d == NULL)
        return false;
    m->by_id = d;
    m->by_id_cap *= 2;
    return true;
}

/* The id of p, adding it when new. UINT32_MAX when out of memory. */
static inline uint32_t ptmap_get(ptmap *m, stapel__ipt p)
{
    /* keep the table at most half full */
    if (2 * (m->n + 1) > m->cap && !ptmap_grow(m))
        return UINT32_MAX;
    uint64_t h = pt_hash(p);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].val != 0) {
        if (m->slots[j].tag == tag) {
            stapel__ipt q = m->by_id[m->slots[j].val - 1];
            if (q.x == p.x && q.y == p.y)
                return m->slots[j].val - 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    if (m->n == m->by_id_cap && !ptmap_grow_ids(m))
        return UINT32_MAX;
    m->slots[j] = (pt_slot){(uint32_t)(m->n + 1), tag};
    m->by_id[m->n] = p;
    return (uint32_t)m->n++;
}

/* ---- a uniform grid of buckets ------------------------------------------- */

typedef struct buckets {
    int64_t x0, y0, cell;
    int64_t nx, ny;
    uint32_t *start; /* nx*ny + 1 offsets */
    uint32_t *items;
    stapel__ipt *pts; /* buckets_build_pts(): the point of each item */
} buckets;

static int64_t cell_of(const buckets *g, int64_t v, int64_t origin, int64_t n)
{
    int64_t c = (v - origin) / g->cell;
    return c < 0 ? 0 : c >= n ? n - 1 : c;
}

/* The grid of about n_cells square cells over the box bx0..bx1, by0..by1;
 * start, items empty. */
static void buckets_grid(buckets *g, int64_t bx0, int64_t by0, int64_t bx1, int64_t by1,
                         size_t n_cells)
{
    memset(g, 0, sizeof *g);
    int64_t w = bx1 - bx0 + 1, h = by1 - by0 + 1;
    int64_t side = w > h ? w : h;
    int64_t k = 1;
    while ((size_t)(k * k) < n_cells && k < 4096)
        k++;
    g->cell = side / k + 1;
    g->x0 = bx0;
    g->y0 = by0;
    g->nx = w / g->cell + 1;
    g->ny = h / g->cell + 1;
}

/* The cells a segment comes near, as runs: a long segment's box covers far
 * more cells than the segment passes (a diagonal across a tile covers them
 * all), and testing every hot pixel or segment of its box made a ring of a
 * few thousand long crossing edges cost minutes. Cells are walked column by
 * column (row by row for a steep segment): in each, the rows reached by the
 * stretch of the segment within WALK_MARGIN grid units of the column. Every
 * cell that holds a point within WALK_MARGIN - 1 of the segment is visited
 * once; the margin's extra unit covers the doubles' rounding, which is below
 * 1e-3 units for coordinates under 2^41. A segment whose box is narrow
 * one way or the other (an edge along an axis, a short one) takes its box,
 * which then holds few more cells than the walk would. */
#define WALK_MARGIN 2
#define WALK_MIN_SPAN 4

typedef struct cell_walk {
    const buckets *g;
    bool by_col;      /* runs are columns (x-major segment) or rows */
    int64_t k, k1;    /* the column (or row) under way, the last one */
    int64_t lo2, hi2; /* the box's cell range across the runs */
    stapel__ipt a;
    double slope;     /* d(across) / d(along) */
    int64_t along0, along1; /* the segment's range along */
} cell_walk;

/* Whether a segment whose box spans cells cx0..cx1 x cy0..cy1 walks: a
 * walk costs a little per column (row), a box a little less per cell, so a
 * segment walks when its box is more than WALK_MIN_SPAN cells across both
 * ways (a long axis-parallel edge's box holds just its cells). */
static inline bool seg_walks(int64_t cx0, int64_t cx1, int64_t cy0, int64_t cy1)
{
    return cx1 - cx0 >= WALK_MIN_SPAN && cy1 - cy0 >= WALK_MIN_SPAN;
}

static void walk_start(cell_walk *w, const buckets *g, stapel__ipt a, stapel__ipt b)
{
    int64_t x0 = a.x < b.x ? a.x : b.x, x1 = a.x < b.x ? b.x : a.x;
    int64_t y0 = a.y < b.y ? a.y : b.y, y1 = a.y < b.y ? b.y : a.y;
    int64_t cx0 = cell_of(g, x0 - WALK_MARGIN, g->x0, g->nx);
    int64_t cx1 = cell_of(g, x1 + WALK_MARGIN, g->x0, g->nx);
    int64_t cy0 = cell_of(g, y0 - WALK_MARGIN, g->y0, g->ny);
    int64_t cy1 = cell_of(g, y1 + WALK_MARGIN, g->y0, g->ny);
    int64_t dx = b.x - a.x, dy = b.y - a.y;
    w->g = g;
    w->a = a;
    w->by_col = (dx < 0 ? -dx : dx) >= (dy < 0 ? -dy : dy);
    if (w->by_col) {
        w->k = cx0;
        w->k1 = cx1;
        w->lo2 = cy0;
        w->hi2 = cy1;
        w->slope = (double)dy / (double)dx;
        w->along0 = x0;
        w->along1 = x1;
    } else {
        w->k = cy0;
        w->k1 = cy1;
        w->lo2 = cx0;
        w->hi2 = cx1;
        w->slope = (double)dx / (double)dy;
        w->along0 = y0;
        w->along1 = y1;
    }
}

/* The next run of cells: *first, then *n cells *stride apart. */
static bool walk_next(cell_walk *w, int64_t *first, int64_t *n, int64_t *stride)
{
    const buckets *g = w->g;
    for (; w->k <= w->k1; w->k++) {
        int64_t k = w->k;
        /* The column's (row's) range along, as cell_of assigns it (the
         * outer ones reach beyond the grid), grown by the margin and cut to
         * the segment. */
        int64_t origin = w->by_col ? g->x0 : g->y0, count = w->by_col ? g->nx : g->ny;
        int64_t lo = k == 0 ? w->along0 : origin + k * g->cell - WALK_MARGIN;
        int64_t hi = k == count - 1 ? w->along1 : origin + (k + 1) * g->cell - 1 + WALK_MARGIN;
        lo = lo < w->along0 ? w->along0 : lo;
        hi = hi > w->along1 ? w->along1 : hi;
        if (lo > hi)
            continue;
        double start = w->by_col ? (double)w->a.x : (double)w->a.y;
        double base = w->by_col ? (double)w->a.y : (double)w->a.x;
        double u = base + ((double)lo - start) * w->slope;
        double v = base + ((double)hi - start) * w->slope;
        double m0 = floor(u < v ? u : v) - WALK_MARGIN, m1 = ceil(u < v ? v : u) + WALK_MARGIN;
        int64_t o2 = w->by_col ? g->y0 : g->x0, n2 = w->by_col ? g->ny : g->nx;
        int64_t c0 = cell_of(g, (int64_t)m0, o2, n2), c1 = cell_of(g, (int64_t)m1, o2, n2);
        c0 = c0 < w->lo2 ? w->lo2 : c0;
        c1 = c1 > w->hi2 ? w->hi2 : c1;
        if (c0 > c1)
            continue;
        if (w->by_col) {
            *first = c0 * g->nx + k;
            *stride = g->nx;
        } else {
            *first = k * g->nx + c0;
            *stride = 1;
        }
        *n = c1 - c0 + 1;
        w->k++;
        return true;
    }
    return false;
}

/* The cells of a segment, run by run: the rows of its box, cells cx0..cx1
 * (a short segment), or its walk (a long one). */
typedef struct seg_cells {
    bool walks;
    int64_t cx0, cx1, cy, cy1;
    cell_walk w;
} seg_cells;

static inline void seg_cells_start(seg_cells *sc, const buckets *g, stapel__ipt a, stapel__ipt b,
                                   int64_t margin)
{
    int64_t x0 = a.x < b.x ? a.x : b.x, x1 = a.x < b.x ? b.x : a.x;
    int64_t y0 = a.y < b.y ? a.y : b.y, y1 = a.y < b.y ? b.y : a.y;
    sc->cx0 = cell_of(g, x0 - margin, g->x0, g->nx);
    sc->cx1 = cell_of(g, x1 + margin, g->x0, g->nx);
    sc->cy = cell_of(g, y0 - margin, g->y0, g->ny);
    sc->cy1 = cell_of(g, y1 + margin, g->y0, g->ny);
    sc->walks = seg_walks(sc->cx0, sc->cx1, sc->cy, sc->cy1);
    if (sc->walks)
        walk_start(&sc->w, g, a, b);
}

static inline bool seg_cells_next(seg_cells *sc, const buckets *g, int64_t *first, int64_t *n,
                                  int64_t *stride)
{
    if (sc->walks)
        return walk_next(&sc->w, first, n, stride);
    if (sc->cy > sc->cy1)
        return false;
    *first = sc->cy * g->nx + sc->cx0;
    *n = sc->cx1 - sc->cx0 + 1;
    *stride = 1;
    sc->cy++;
    return true;
}

/* A set of segments by their two end ids, either way round: the first
 * segment with given ends is new, later ones repeat it. Adjacent claims
 * share edges and identical claims share all of them; a repeat crosses what
 * the first crosses, so the crossing search leaves it out (with thousands
 * of identical claims it was quadratic in their number in every cell). */
typedef struct segset {
    uint64_t *slots; /* 0: empty; else the ends' key + 1 */
    size_t mask;
} segset;

static bool segset_init(segset *t, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    return t->slots != NULL;
}

/* Whether a segment with ends u and v was added before; adds it if not. */
static bool segset_repeat(segset *t, uint32_t u, uint32_t v)
{
    uint64_t key = (u < v ? (uint64_t)u << 32 | v : (uint64_t)v << 32 | u) + 1;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    for (size_t i = (size_t)(h >> 32) & t->mask;; i = (i + 1) & t->mask) {
        if (t->slots[i] == key)
            return true;
        if (t->slots[i] == 0) {
            t->slots[i] = key;
            return false;
        }
    }
}

/* Bucket segments into a grid of about n_cells cells over their box, each
 * in the cells it comes near (cell_walk), leaving out the segments skip
 * marks (skip may be NULL). An item is the segment's index, with WALKED set
 * for a segment that walked: it is not in every cell of its box. */
#define WALKED 0x80000000u

static bool buckets_build(buckets *g, const stapel__iseg *segs, const uint8_t *skip, size_t n,
                          int64_t bx0, int64_t by0, int64_t bx1, int64_t by1, size_t n_cells)
{
    buckets_grid(g, bx0, by0, bx1, by1, n_cells);
    size_t nc = (size_t)(g->nx * g->ny);
    g->start = calloc(nc + 1, sizeof *g->start);
    /* each item's box range, kept for the second pass: x0, x1, y0, y1 (a
     * walk is taken again) */
    uint32_t *rng = malloc((4 * n + 1) * sizeof *rng);
    uint8_t *walks = malloc(n + 1);
    bool ok = g->start != NULL && rng != NULL && walks != NULL && n < WALKED;
    size_t total = 0;
    seg_cells sc;
    int64_t first, cnt, stride;
    for (size_t i = 0; i < n && ok; i++) {
        if (skip != NULL && skip[i])
            continue;
        seg_cells_start(&sc, g, segs[i].a, segs[i].b, 0);
        uint32_t *r = rng + 4 * i;
        r[0] = (uint32_t)sc.cx0;
        r[1] = (uint32_t)sc.cx1;
        r[2] = (uint32_t)sc.cy;
        r[3] = (uint32_t)sc.cy1;
        walks[i] = sc.walks;
        while (seg_cells_next(&sc, g, &first, &cnt, &stride)) {
            for (int64_t j = 0; j < cnt; j++)
                g->start[first + j * stride + 1]++;
            total += (size_t)cnt;
        }
    }
    ok = ok && total < UINT32_MAX;
    uint32_t *fill = NULL;
    if (ok) {
        for (size_t c = 0; c < nc; c++)
            g->start[c + 1] += g->start[c];
        g->items = malloc((total + 1) * sizeof *g->items);
        fill = malloc((nc + 1) * sizeof *fill);
        ok = g->items != NULL && fill != NULL;
    }
    if (ok)
        memcpy(fill, g->start, nc * sizeof *fill);
    for (size_t i = 0; i < n && ok; i++) {
        if (skip != NULL && skip[i])
            continue;
        const uint32_t *r = rng + 4 * i;
        if (walks[i]) {
            seg_cells_start(&sc, g, segs[i].a, segs[i].b, 0);
            while (seg_cells_next(&sc, g, &first, &cnt, &stride))
                for (int64_t j = 0; j < cnt; j++)
                    g->items[fill[first + j * stride]++] = (uint32_t)i | WALKED;
            continue;
        }
        for (size_t cy = r[2]; cy <= r[3]; cy++)
            for (size_t cx = r[0]; cx <= r[1]; cx++)
                g->items[fill[cy * (size_t)g->nx + cx]++] = (uint32_t)i;
    }
    free(rng);
    free(walks);
    free(fill);
    return ok;
}

/* Bucket points into a grid of about n_cells cells: each point in the one
 * cell that holds it, as buckets_build() would bucket the box p,p. */
static bool buckets_build_pts(buckets *g, const stapel__ipt *pts, size_t n, int64_t bx0,
                              int64_t by0, int64_t bx1, int64_t by1, size_t n_cells)
{
    buckets_grid(g, bx0, by0, bx1, by1, n_cells);
    size_t nc = (size_t)(g->nx * g->ny);
    g->start = calloc(nc + 1, sizeof *g->start);
    g->items = malloc((n + 1) * sizeof *g->items);
    g->pts = malloc((n + 1) * sizeof *g->pts);
    uint32_t *cell = malloc((n + 1) * sizeof *cell);
    if (g->start == NULL || g->items == NULL || g->pts == NULL || cell == NULL ||
        n >= UINT32_MAX) {
        free(cell);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t cx = cell_of(g, pts[i].x, g->x0, g->nx), cy = cell_of(g, pts[i].y, g->y0, g->ny);
        cell[i] = (uint32_t)(cy * g->nx + cx);
        g->start[cell[i]]++;
    }
    /* start[c]: the end of cell c; filling from the back keeps each cell's
     * items in increasing order and leaves start[c] at the cell's beginning. */
    for (size_t c = 1; c < nc; c++)
        g->start[c] += g->start[c - 1];
    g->start[nc] = (uint32_t)n;
    for (size_t i = n; i-- > 0;) {
        uint32_t k = --g->start[cell[i]];
        g->items[k] = (uint32_t)i;
        g->pts[k] = pts[i];
    }
    free(cell);
    return true;
}

static void buckets_free(buckets *g)
{
    free(g->start);
    free(g->items);
    free(g->pts);
}

/* ---- the arrangement --------------------------------------------------------- */

typedef struct piece {
    uint32_t u, v; /* nodes, u < v */
    uint32_t owner;
    int32_t delta; /* +1: owner's interior left of u->v */
} piece;

static int cmp_piece(const void *a, const void *b)
{
    const piece *p = a, *q = b;
    if (p->u != q->u)
        return p->u < q->u ? -1 : 1;
    if (p->v != q->v)
        return p->v < q->v ? -1 : 1;
    return (p->owner > q->owner) - (p->owner < q->owner);
}

/* Sort pieces by (u, v, owner): a counting sort on u, then each node's
 * few pieces by insertion. Replaces *pcs. */
static bool sort_pieces(piece **pcs, size_t n, size_t n_nodes)
{
    uint32_t *start = calloc(n_nodes + 1, sizeof *start);
    piece *out = malloc(n * sizeof *out);
    if (start == NULL || out == NULL) {
        free(start);
        free(out);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        start[(*pcs)[i].u + 1]++;
    for (size_t v = 0; v < n_nodes; v++)
        start[v + 1] += start[v];
    for (size_t i = 0; i < n; i++)
        out[start[(*pcs)[i].u]++] = (*pcs)[i];
    /* start[v] now ends bucket v */
    size_t b = 0;
    for (size_t v = 0; v < n_nodes; v++) {
        size_t e = start[v];
        STAPEL__SORT_SMALL(piece, out + b, e - b, cmp_piece);
        b = e;
    }
    free(start);
    free(*pcs);
    *pcs = out;
    return true;
}

typedef struct hot_on_seg {
    i128 key; /* position along the segment */
    uint32_t node;
} hot_on_seg;

static int cmp_hot(const void *a, const void *b)
{
    const hot_on_seg *p = a, *q = b;
    return (p->key > q->key) - (p->key < q->key);
}

typedef struct delta {
    uint32_t owner;
    int32_t d;
} delta;

typedef struct graph {
    stapel__ipt *node;    /* coordinates per node */
    size_t n_nodes;
    uint32_t *eu, *ev;    /* edges: u < v */
    uint32_t *dstart;     /* deltas of edge e: dl[dstart[e] .. dstart[e+1]) */
    delta *dl;
    size_t n_edges;
    uint32_t *next;       /* per half-edge (2e: u->v, 2e+1: v->u) */
    uint32_t *cycle;      /* per half-edge */
} graph;

static stapel__ipt he_from(const graph *g, uint32_t h)
{
    return g->node[(h & 1) ? g->ev[h >> 1] : g->eu[h >> 1]];
}

static stapel__ipt he_to(const graph *g, uint32_t h)
{
    return g->node[(h & 1) ? g->eu[h >> 1] : g->ev[h >> 1]];
}

/* Angle order of direction vectors, counter-clockwise from +x. */
static int dir_half(int64_t dx, int64_t dy)
{
    return (dy > 0 || (dy == 0 && dx > 0)) ? 0 : 1;
}

typedef struct out_he {
    int64_t dx, dy;
    uint32_t he;
} out_he;

static int cmp_angle(const void *a, const void *b)
{
    const out_he *p = a, *q = b;
    int hp = dir_half(p->dx, p->dy), hq = dir_half(q->dx, q->dy);
    if (hp != hq)
        return hp - hq;
    i128 c = (i128)p->dx * q->dy - (i128)p->dy * q->dx;
    return c > 0 ? -1 : c < 0 ? 1 : 0;
}

typedef struct cyc {
    uint32_t first;  /* a half-edge */
    uint32_t len;    /* its number of half-edges */
    i128 area2;      /* twice the signed area */
    stapel__ipt low; /* lowest, then leftmost vertex */
    int32_t face;    /* CCW: its face; CW: its container face (-1: unbounded) */
    int32_t hole_next; /* next hole cycle of the same face */
} cyc;

typedef struct lbl {
    delta *v;
    uint32_t n;
    bool done;
} lbl;

/* Whether a count covers its face: positive, or not zero for a
 * STAPEL__NONZERO owner. */
static inline bool covers(delta x)
{
    return x.d > 0 || (x.d != 0 && (x.owner & STAPEL__NONZERO) != 0);
}

/* out = a - (sign) * d, merged by owner, zero counts dropped. */
static bool label_apply(lbl *out, const lbl *a, const delta *d, uint32_t nd, int sign)
{
    out->v = malloc((a->n + nd + 1) * sizeof *out->v);
    if (out->v == NULL)
        return false;
    uint32_t i = 0, j = 0, k = 0;
    while (i < a->n || j < nd) {
        delta x;
        if (j >= nd || (i < a->n && a->v[i].owner < d[j].owner)) {
            x = a->v[i++];
        } else if (i >= a->n || d[j].owner < a->v[i].owner) {
            x = (delta){d[j].owner, -sign * d[j].d};
            j++;
        } else {
            x = (delta){a->v[i].owner, a->v[i].d - sign * d[j].d};
            i++;
            j++;
        }
        if (x.d != 0)
            out->v[k++] = x;
    }
    out->n = k;
    out->done = true;
    return true;
}

/* A clockwise cycle by its lowest (then leftmost) vertex. */
typedef struct cw_key {
    stapel__ipt low;
    uint32_t cycle;
} cw_key;

static int cmp_cw_key(const void *a, const void *b)
{
    const cw_key *p = a, *q = b;
    if (p->low.y != q->low.y)
        return p->low.y < q->low.y ? -1 : 1;
    if (p->low.x != q->low.x)
        return p->low.x < q->low.x ? -1 : 1;
    return (p->cycle > q->cycle) - (p->cycle < q->cycle);
}

/* The cells from c0 to c1 of one row of the ray grid that edge e passes. */
typedef struct row_span {
    uint32_t e, c0, c1;
} row_span;

/* The container of a clockwise cycle not resolved yet. */
#define CONTAINER_UNKNOWN INT32_MIN

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Append the nodes of a cycle to the face's points, closing point included,
 * and end a ring there; the arrays have room. */
static void ring_of_cycle(stapel__aface *af, const graph *g, uint32_t first, uint32_t *mark,
                          uint32_t stamp)
{
    uint32_t e = first;
    size_t start = af->n_rings > 0 ? af->ring_end[af->n_rings - 1] : 0;
    size_t n = start;
    do {
        uint32_t node = (e & 1) ? g->ev[e >> 1] : g->eu[e >> 1];
        if (mark[node] == stamp)
            af->pinched = true;
        mark[node] = stamp;
        af->pts[n++] = g->node[node];
        e = g->next[e];
    } while (e != first);
    af->pts[n] = af->pts[start];
    n++;
    af->ring_end[af->n_rings++] = (uint32_t)n;
}

void stapel__afaces_free(stapel__aface *faces, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(faces[i].owners);
        free(faces[i].pts);
        free(faces[i].ring_end);
    }
    free(faces);
}

stapel_status stapel__arrange(stapel_ctx *ctx, stapel__segs *segs, bool noded,
                              bool (*keep)(uint32_t owner, void *user), void *user,
                              stapel__aface **faces_out, size_t *n_faces_out)
{
    stapel_status st = STAPEL_OK;
    size_t ns = segs->n;
    stapel__iseg *s = segs->v;
    ptmap hot = {0};
    buckets sb = {0}, hb = {0};
    int64_t *boxes = NULL;
    hot_on_seg *hs = NULL;
    size_t hs_cap = 0;
    piece *pcs = NULL;
    size_t n_pcs = 0, cap_pcs = 0;
    graph g = {0};
    out_he *around = NULL;
    uint32_t *out_start = NULL, *out_list = NULL;
    cyc *cycles = NULL;
    size_t n_cyc = 0, cap_cyc = 0;
    int32_t *face_hole = NULL;
    lbl *labels = NULL;
    uint32_t *queue = NULL;
    stapel__aface *faces = NULL;
    size_t n_faces = 0;
    uint32_t *mark = NULL;
    size_t *row_start = NULL;
    row_span *spans = NULL;
    size_t cap_span = 0;
    bool *row_used = NULL;
    uint32_t *row_items = NULL;
    cw_key *cw_order = NULL;
    size_t n_cw = 0;
    uint32_t *comp = NULL;
    uint32_t *end_id = NULL, prev_b = 0;
    segset seen = {NULL, 0};
    uint8_t *repeat = NULL; /* per segment: its ends are an earlier segment's */
    size_t n_fc = 0;
    *faces_out = NULL;
    *n_faces_out = 0;
    if (ns == 0)
        return STAPEL_OK;

    /* 1. Hot pixels: every segment end, then every rounded crossing. */
    if (!ptmap_init(&hot, ns))
        goto oom;
    int64_t bx0 = INT64_MAX, by0 = INT64_MAX, bx1 = INT64_MIN, by1 = INT64_MIN;
    boxes = malloc(4 * ns * sizeof *boxes);
    if (boxes == NULL)
        goto oom;
    /* Noded input keeps each segment's node ids for its one piece. Rings
     * arrive segment after segment, so an end is mostly the previous
     * segment's end: look it up once. */
    if (noded && (end_id = malloc(2 * ns * sizeof *end_id)) == NULL)
        goto oom;
    if (!noded && (!segset_init(&seen, ns) || (repeat = malloc(ns)) == NULL))
        goto oom;
    for (size_t i = 0; i < ns; i++) {
        /* The table is far larger than the caches and its slots are read
         * at random: ask for a slot some segments ahead. */
        if (i + PREFETCH_AHEAD < ns)
            __builtin_prefetch(&hot.slots[pt_hash(s[i + PREFETCH_AHEAD].b) & (hot.cap - 1)]);
        uint32_t ia = i > 0 && s[i].a.x == s[i - 1].b.x && s[i].a.y == s[i - 1].b.y
                          ? prev_b
                          : ptmap_get(&hot, s[i].a);
        uint32_t ib = ptmap_get(&hot, s[i].b);
        if (ia == UINT32_MAX || ib == UINT32_MAX)
            goto oom;
        prev_b = ib;
        if (end_id != NULL) {
            end_id[2 * i] = ia;
            end_id[2 * i + 1] = ib;
        }
        if (repeat != NULL)
            repeat[i] = segset_repeat(&seen, ia, ib);
        int64_t *b = boxes + 4 * i;
        b[0] = s[i].a.x < s[i].b.x ? s[i].a.x : s[i].b.x;
        b[1] = s[i].a.y < s[i].b.y ? s[i].a.y : s[i].b.y;
        b[2] = s[i].a.x > s[i].b.x ? s[i].a.x : s[i].b.x;
        b[3] = s[i].a.y > s[i].b.y ? s[i].a.y : s[i].b.y;
        bx0 = b[0] < bx0 ? b[0] : bx0;
        by0 = b[1] < by0 ? b[1] : by0;
        bx1 = b[2] > bx1 ? b[2] : bx1;
        by1 = b[3] > by1 ? b[3] : by1;
    }
    /* Crossings may round to a point just outside the segments' box. */
    bx0 -= 2;
    by0 -= 2;
    bx1 += 2;
    by1 += 2;
    const bool near = bx1 - bx0 < ((int64_t)1 << 31) && by1 - by0 < ((int64_t)1 << 31);
    if (!noded && !buckets_build(&sb, s, repeat, ns, bx0, by0, bx1, by1, ns))
        goto oom;
    size_t pairs = 0; /* tested since the last look at the cancel flag */
    for (int64_t c = 0; !noded && c < sb.nx * sb.ny; c++) {
        int64_t cx = c % sb.nx, cy = c / sb.nx;
        /* This cell's range, as cell_of() assigns points (the outer cells
         * take everything beyond the grid). */
        int64_t lx = cx == 0 ? INT64_MIN : sb.x0 + cx * sb.cell;
        int64_t hx = cx == sb.nx - 1 ? INT64_MAX : sb.x0 + (cx + 1) * sb.cell - 1;
        int64_t ly = cy == 0 ? INT64_MIN : sb.y0 + cy * sb.cell;
        int64_t hy = cy == sb.ny - 1 ? INT64_MAX : sb.y0 + (cy + 1) * sb.cell - 1;
        for (uint32_t i = sb.start[c]; i < sb.start[c + 1]; i++) {
            uint32_t pi = sb.items[i] & ~WALKED, p_walked = sb.items[i] & WALKED;
            const stapel__iseg *p = &s[pi];
            const int64_t *pb = boxes + 4 * (size_t)pi;
            for (uint32_t j = i + 1; j < sb.start[c + 1]; j++) {
                uint32_t qi = sb.items[j] & ~WALKED;
                const int64_t *qb = boxes + 4 * (size_t)qi;
                if (pb[2] < qb[0] || qb[2] < pb[0] || pb[3] < qb[1] || qb[3] < pb[1])
                    continue;
                /* Test a pair of segments bucketed by their boxes once: in
                 * the cell of the boxes' common corner, which both reach.
                 * A long segment is only in the cells it passes near; a
                 * pair with one is tested in each cell they share (the
                 * crossing lies in one of them; a second find of it looks
                 * up the same hot pixel). */
                int64_t ox = pb[0] > qb[0] ? pb[0] : qb[0], oy = pb[1] > qb[1] ? pb[1] : qb[1];
                if ((ox < lx || ox > hx || oy < ly || oy > hy) &&
                    !((p_walked | sb.items[j]) & WALKED))
                    continue;
                stapel__ipt x;
                if (proper_crossing(p, &s[qi], near, &x) &&
                    ptmap_get(&hot, x) == UINT32_MAX)
                    goto oom;
            }
            pairs += sb.start[c + 1] - i;
        }
        /* A crowded cell costs the square of its segments: look at the
         * flag by pairs tested as well as by cells. */
        if (((c & 4095) == 0 || pairs > (1u << 24)) && (pairs = 0, stapel__cancelled(ctx))) {
            st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled");
            goto done;
        }
    }

    /* 2. Reroute every segment through the hot pixels it passes. */
    size_t n_hot = hot.n;
    g.node = hot.by_id; /* the graph's nodes are the hot pixels, by id */
    hot.by_id = NULL;
    g.n_nodes = n_hot;
    if (noded) {
        /* Segments meet only at their ends already: each is one piece. */
        pcs = malloc((ns + 1) * sizeof *pcs);
        if (pcs == NULL)
            goto oom;
        for (size_t i = 0; i < ns; i++) {
            uint32_t u = end_id[2 * i], v = end_id[2 * i + 1];
            pcs[n_pcs++] = u < v ? (piece){u, v, s[i].owner, +1} : (piece){v, u, s[i].owner, -1};
        }
    }
    /* Four cells per hot pixel: hot pixels cluster where claims do, and
     * finer cells cut the candidates a segment looks at about in half. */
    if (!noded && !buckets_build_pts(&hb, g.node, n_hot, bx0, by0, bx1, by1, 4 * n_hot))
        goto oom;
    for (size_t i = 0; !noded && i < ns; i++) {
        if ((i & 8191) == 0 && stapel__cancelled(ctx)) {
            st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled");
            goto done;
        }
        const stapel__iseg *p = &s[i];
        const int64_t *b = boxes + 4 * i;
        size_t nh = 0;
        int64_t dx = p->b.x - p->a.x, dy = p->b.y - p->a.y;
        const int64_t xlo = b[0] - 1, xhi = b[2] + 1, ylo = b[1] - 1, yhi = b[3] + 1;
        /* A hot pixel the segment passes has its centre within 1/2 of it. */
        seg_cells sc;
        int64_t first, cnt, stride;
        seg_cells_start(&sc, &hb, p->a, p->b, 1);
        while (seg_cells_next(&sc, &hb, &first, &cnt, &stride)) {
            for (int64_t j = 0; j < cnt; j++) {
                int64_t c = first + j * stride;
                for (uint32_t k = hb.start[c]; k < hb.start[c + 1]; k++) {
                    stapel__ipt q = hb.pts[k];
                    if (q.x < xlo || q.x > xhi || q.y < ylo || q.y > yhi)
                        continue;
                    if (!hits_pixel(p->a, p->b, q))
                        continue;
                    GROW(hs, nh, hs_cap, 16);
                    /* near: the products and their sum fit in 64 bits */
                    hs[nh].key = near ? (i128)((q.x - p->a.x) * dx + (q.y - p->a.y) * dy)
                                      : (i128)(q.x - p->a.x) * dx + (i128)(q.y - p->a.y) * dy;
                    hs[nh].node = hb.items[k];
                    nh++;
                }
            }
        }
        /* mostly just the two ends */
        if (nh == 2) {
            if (hs[0].key > hs[1].key) {
                hot_on_seg t = hs[0];
                hs[0] = hs[1];
                hs[1] = t;
            }
        } else {
            STAPEL__SORT_SMALL(hot_on_seg, hs, nh, cmp_hot);
        }
        for (size_t k = 0; k + 1 < nh; k++) {
            uint32_t u = hs[k].node, v = hs[k + 1].node;
            if (u == v)
                continue;
            GROW(pcs, n_pcs, cap_pcs, ns + ns / 4 + 1024);
            pcs[n_pcs++] = u < v ? (piece){u, v, p->owner, +1} : (piece){v, u, p->owner, -1};
        }
    }

    /* 3. Merge pieces into edges; drop edges whose deltas cancel. */
    if (n_pcs > 0 && !sort_pieces(&pcs, n_pcs, g.n_nodes))
        goto oom;
    g.eu = malloc((n_pcs + 1) * sizeof *g.eu);
    g.ev = malloc((n_pcs + 1) * sizeof *g.ev);
    g.dstart = malloc((n_pcs + 2) * sizeof *g.dstart);
    g.dl = malloc((n_pcs + 1) * sizeof *g.dl);
    if (g.eu == NULL || g.ev == NULL || g.dstart == NULL || g.dl == NULL)
        goto oom;
    size_t n_dl = 0;
    for (size_t i = 0; i < n_pcs;) {
        const uint32_t u = pcs[i].u, v = pcs[i].v;
        size_t d0 = n_dl;
        do {
            const uint32_t owner = pcs[i].owner;
            int32_t sum = 0;
            do
                sum += pcs[i++].delta;
            while (i < n_pcs && pcs[i].u == u && pcs[i].v == v && pcs[i].owner == owner);
            if (sum != 0)
                g.dl[n_dl++] = (delta){owner, sum};
        } while (i < n_pcs && pcs[i].u == u && pcs[i].v == v);
        if (n_dl > d0) {
            g.eu[g.n_edges] = u;
            g.ev[g.n_edges] = v;
            g.dstart[g.n_edges] = (uint32_t)d0;
            g.n_edges++;
        }
    }
    g.dstart[g.n_edges] = (uint32_t)n_dl;
    free(pcs);
    pcs = NULL;
    if (g.n_edges == 0)
        goto done;

    if (stapel__cancelled(ctx)) {
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled");
        goto done;
    }
    /* 4. Link half-edges around nodes, trace cycles. */
    size_t nhe = 2 * g.n_edges;
    out_start = calloc(g.n_nodes + 1, sizeof *out_start);
    out_list = malloc(nhe * sizeof *out_list);
    around = malloc(nhe * sizeof *around);
    g.next = malloc(nhe * sizeof *g.next);
    g.cycle = malloc(nhe * sizeof *g.cycle);
    if (out_start == NULL || out_list == NULL || around == NULL || g.next == NULL ||
        g.cycle == NULL)
        goto oom;
    for (size_t e = 0; e < g.n_edges; e++) {
        out_start[g.eu[e] + 1]++;
        out_start[g.ev[e] + 1]++;
    }
    for (size_t v = 0; v < g.n_nodes; v++)
        out_start[v + 1] += out_start[v];
    {
        uint32_t *fill = malloc((g.n_nodes + 1) * sizeof *fill);
        if (fill == NULL)
            goto oom;
        memcpy(fill, out_start, g.n_nodes * sizeof *fill);
        for (uint32_t he = 0; he < nhe; he++) {
            uint32_t from = (he & 1) ? g.ev[he >> 1] : g.eu[he >> 1];
            out_list[fill[from]++] = he;
        }
        free(fill);
    }
    size_t n_used = 0; /* nodes with edges */
    /* Around each node, in angular order: the half-edge arriving along an
     * outgoing one's twin continues along the outgoing one before it. One or
     * two half-edges link the same in any order. */
    for (size_t v = 0; v < g.n_nodes; v++) {
        uint32_t a = out_start[v], b = out_start[v + 1];
        if (a == b)
            continue;
        n_used++;
        if (b - a > 2) {
            stapel__ipt p = g.node[v];
            for (uint32_t k = a; k < b; k++) {
                uint32_t he = out_list[k];
                stapel__ipt q = he_to(&g, he);
                around[k - a] = (out_he){q.x - p.x, q.y - p.y, he};
            }
            STAPEL__SORT_SMALL(out_he, around, b - a, cmp_angle);
            for (uint32_t k = a; k < b; k++)
                out_list[k] = around[k - a].he;
        }
        uint32_t prev = out_list[b - 1];
        for (uint32_t k = a; k < b; k++) {
            g.next[out_list[k] ^ 1] = prev;
            prev = out_list[k];
        }
    }
    /* Components: union-find over nodes; each has one clockwise cycle. A
     * plane graph has E - V + 2 boundary cycles per component: room for
     * them all at once. */
    comp = malloc((g.n_nodes + 1) * sizeof *comp);
    if (comp == NULL)
        goto oom;
    for (size_t v = 0; v < g.n_nodes; v++)
        comp[v] = (uint32_t)v;
    size_t n_joined = 0;
    for (size_t e = 0; e < g.n_edges; e++) {
        uint32_t a = uf_find(comp, g.eu[e]), b = uf_find(comp, g.ev[e]);
        if (a != b) {
            comp[a] = b;
            n_joined++;
        }
    }
    cap_cyc = g.n_edges + n_used - 2 * n_joined + 1;
    if ((cycles = malloc(cap_cyc * sizeof *cycles)) == NULL)
        goto oom;
    for (uint32_t he = 0; he < nhe; he++)
        g.cycle[he] = UINT32_MAX;
    for (uint32_t he = 0; he < nhe; he++) {
        if (g.cycle[he] != UINT32_MAX)
            continue;
        GROW(cycles, n_cyc, cap_cyc, 256);
        cyc *c = &cycles[n_cyc];
        c->first = he;
        c->len = 0;
        c->area2 = 0;
        c->low = he_from(&g, he);
        c->face = -2;
        c->hole_next = -1;
        uint32_t e = he;
        stapel__ipt p = c->low;
        do {
            g.cycle[e] = (uint32_t)n_cyc;
            stapel__ipt q = he_to(&g, e); /* where the next half-edge starts */
            c->area2 += (i128)p.x * q.y - (i128)q.x * p.y;
            if (p.y < c->low.y || (p.y == c->low.y && p.x < c->low.x))
                c->low = p;
            p = q;
            c->len++;
            e = g.next[e];
        } while (e != he);
        n_cyc++;
    }
    /* Faces: one per counter-clockwise cycle. */
    for (size_t i = 0; i < n_cyc; i++)
        if (cycles[i].area2 > 0)
            cycles[i].face = (int32_t)n_fc++;

    /* 5. Containers of the clockwise cycles: cast a ray to the left of the
     * lowest vertex, just above it, and take the nearest edge crossed. Edges
     * are bucketed in a grid of cells, each edge in the cells its part in
     * each row spans; the ray walks the cells of its row from right to left
     * and stops at the first cell that holds a crossing inside it, as no
     * crossing further left can be nearer. A few rays are cheaper without
     * the grid: then one cell holds every edge. */
    for (size_t i = 0; i < n_cyc; i++)
        n_cw += cycles[i].area2 < 0;
    int64_t gc = 1;
    while (n_cw > 8 && (size_t)(gc * gc) < g.n_edges && gc < 4096)
        gc++;
    const int64_t gr = gc; /* rows; gc columns */
    const int64_t rh = (by1 - by0) / gr + 1, cw = (bx1 - bx0) / gc + 1;
    {
        /* Only the rows a ray runs in need their edges. */
        row_used = calloc((size_t)gr, sizeof *row_used);
        row_start = calloc((size_t)(gr * gc) + 2, sizeof *row_start);
        if (row_used == NULL || row_start == NULL)
            goto oom;
        for (size_t i = 0; i < n_cyc; i++)
            if (cycles[i].area2 < 0)
                row_used[(cycles[i].low.y - by0) / rh] = true;
        /* Each edge's part in each used row spans a run of cells: list the
         * runs, count the edges per cell, then fill the cells from the
         * last run back, so each cell lists its edges in increasing order. */
        size_t n_span = 0;
        for (size_t e = 0; e < g.n_edges; e++) {
            stapel__ipt p = g.node[g.eu[e]], q = g.node[g.ev[e]];
            if (p.y == q.y)
                continue;
            if (p.y > q.y) {
                stapel__ipt t = p;
                p = q;
                q = t;
            }
            int64_t r0 = (p.y - by0) / rh, r1 = (q.y - by0) / rh;
            if (r0 == r1) { /* within one row: its cells are those of its x range */
                if (!row_used[r0])
                    continue;
                int64_t lo = p.x < q.x ? p.x : q.x, hi = p.x < q.x ? q.x : p.x;
                GROW(spans, n_span, cap_span, g.n_edges + 64);
                spans[n_span++] = (row_span){(uint32_t)e, (uint32_t)(r0 * gc + (lo - bx0) / cw),
                                             (uint32_t)(r0 * gc + (hi - bx0) / cw)};
                continue;
            }
            for (int64_t r = r0; r <= r1; r++) {
                if (!row_used[r])
                    continue;
                int64_t ya = by0 + r * rh, yb = ya + rh - 1;
                ya = ya < p.y ? p.y : ya;
                yb = yb > q.y ? q.y : yb;
                /* x at ya and yb, rounded down; the true crossing of any ray
                 * in the row lies within [lo, hi + 1). Near points need no
                 * more than 64 bits. */
                int64_t xa, xb;
                if (near) {
                    int64_t dy = q.y - p.y, dx = q.x - p.x;
                    int64_t na = dx * (ya - p.y), nb = dx * (yb - p.y);
                    xa = p.x + (na >= 0 ? na / dy : -((-na + dy - 1) / dy));
                    xb = p.x + (nb >= 0 ? nb / dy : -((-nb + dy - 1) / dy));
                } else {
                    i128 dy = q.y - p.y, dx = q.x - p.x;
                    i128 na = dx * (ya - p.y), nb = dx * (yb - p.y);
                    xa = p.x + (int64_t)(na >= 0 ? na / dy : -((-na + dy - 1) / dy));
                    xb = p.x + (int64_t)(nb >= 0 ? nb / dy : -((-nb + dy - 1) / dy));
                }
                int64_t lo = xa < xb ? xa : xb, hi = (xa < xb ? xb : xa) + 1;
                int64_t c0 = (lo - bx0) / cw, c1 = (hi - bx0) / cw;
                c0 = c0 < 0 ? 0 : c0;
                c1 = c1 >= gc ? gc - 1 : c1;
                GROW(spans, n_span, cap_span, g.n_edges + 64);
                spans[n_span++] =
                    (row_span){(uint32_t)e, (uint32_t)(r * gc + c0), (uint32_t)(r * gc + c1)};
            }
        }
        /* row_start[cell]: first the cell's count, then its end, then, once
         * filled, its beginning. */
        size_t n_rc = (size_t)(gr * gc);
        for (size_t k = 0; k < n_span; k++)
            for (uint32_t cell = spans[k].c0; cell <= spans[k].c1; cell++)
                row_start[cell]++;
        for (size_t k = 1; k <= n_rc; k++)
            row_start[k] += row_start[k - 1];
        row_items = malloc((row_start[n_rc] + 1) * sizeof *row_items);
        if (row_items == NULL)
            goto oom;
        for (size_t k = n_span; k-- > 0;)
            for (uint32_t cell = spans[k].c0; cell <= spans[k].c1; cell++)
                row_items[--row_start[cell]] = spans[k].e;
        /* Resolve the clockwise cycles from the lowest up (by lowest
         * vertex, then x): a ray that first meets another component's
         * outer cycle starts in that component's container, and that
         * component's lowest vertex comes earlier in this order, so its
         * container is known already. One ray per cycle, however many
         * components lie in a row. */
        cw_order = malloc((n_cw + 1) * sizeof *cw_order);
        if (cw_order == NULL)
            goto oom;
        n_cw = 0;
        for (size_t i = 0; i < n_cyc; i++) {
            if (cycles[i].area2 < 0) {
                cycles[i].face = CONTAINER_UNKNOWN;
                cw_order[n_cw++] = (cw_key){cycles[i].low, (uint32_t)i};
            }
        }
        qsort(cw_order, n_cw, sizeof *cw_order, cmp_cw_key);
        for (size_t o = 0; o < n_cw; o++) {
            size_t i = cw_order[o].cycle;
            stapel__ipt v = cycles[i].low;
            int64_t r = (v.y - by0) / rh, c_first = (v.x - bx0) / cw;
            uint32_t ignore[64];
            size_t n_ignore = 0;
            ignore[n_ignore++] = uf_find(comp, g.eu[cycles[i].first >> 1]);
            for (;;) {
                int64_t best_e = -1;
                /* best crossing: x = bn/bd at y = v.y; slope dx/dy breaks ties */
                i128 bn = 0, bd = 1, bsn = 0;
                for (int64_t c = c_first; c >= 0; c--) {
                    size_t cell = (size_t)(r * gc + c);
                    for (size_t k = row_start[cell]; k < row_start[cell + 1]; k++) {
                        uint32_t e = row_items[k];
                        stapel__ipt p = g.node[g.eu[e]], q = g.node[g.ev[e]];
                        if (p.y > q.y) {
                            stapel__ipt t = p;
                            p = q;
                            q = t;
                        }
                        if (!(p.y <= v.y && v.y < q.y))
                            continue;
                        i128 dy = q.y - p.y, dx = q.x - p.x;
                        i128 xn = (i128)p.x * dy + dx * (v.y - p.y); /* x = xn / dy */
                        if (xn >= (i128)v.x * dy)
                            continue; /* not strictly to the left */
                        uint32_t ce = uf_find(comp, g.eu[e]);
                        bool skip = false;
                        for (size_t z = 0; z < n_ignore && !skip; z++)
                            skip = ignore[z] == ce;
                        if (skip)
                            continue;
                        bool better = best_e < 0;
                        if (!better) {
                            i128 l = xn * bd, rr = bn * dy;
                            better = l > rr || (l == rr && dx * bd > bsn * dy);
                        }
                        if (better) {
                            best_e = e;
                            bn = xn;
                            bd = dy;
                            bsn = dx;
                        }
                    }
                    /* A crossing inside this cell is nearer than any in
                     * the cells further left. */
                    if (best_e >= 0 && bn >= (i128)(bx0 + c * cw) * bd)
                        break;
                }
                if (best_e < 0) {
                    cycles[i].face = -1;
                    break;
                }
                /* The half-edge of best_e going down has the ray's side on
                 * its left. */
                uint32_t he = (uint32_t)(2 * best_e);
                if (g.node[g.eu[best_e]].y < g.node[g.ev[best_e]].y)
                    he ^= 1;
                const cyc *hit = &cycles[g.cycle[he]];
                if (hit->area2 > 0 || (hit->area2 < 0 && hit->face != CONTAINER_UNKNOWN)) {
                    /* inside a face, or in the container of the component
                     * whose outer cycle the ray met */
                    cycles[i].face = hit->face;
                    break;
                }
                /* A cycle without area, or not resolved yet: look past its
                 * component. */
                if (n_ignore == 64) {
                    cycles[i].face = -1;
                    break;
                }
                ignore[n_ignore++] = uf_find(comp, g.eu[best_e]);
            }
        }
    }
    /* Holes per face (-1: the unbounded face, index n_fc). */
    face_hole = malloc((n_fc + 1) * sizeof *face_hole);
    if (face_hole == NULL)
        goto oom;
    for (size_t f = 0; f <= n_fc; f++)
        face_hole[f] = -1;
    for (size_t i = 0; i < n_cyc; i++) {
        if (cycles[i].area2 >= 0)
            continue;
        size_t f = cycles[i].face < 0 ? n_fc : (size_t)cycles[i].face;
        cycles[i].hole_next = face_hole[f];
        face_hole[f] = (int32_t)i;
    }

    if (stapel__cancelled(ctx)) {
        st = stapel__fail(ctx, STAPEL_ECANCELLED, "cancelled");
        goto done;
    }
    /* 6. Cover: walk from the unbounded face across half-edges. */
    labels = calloc(n_fc + 1, sizeof *labels);
    queue = malloc((n_fc + 1) * sizeof *queue);
    uint32_t *face_cycle = malloc((n_fc + 1) * sizeof *face_cycle);
    if (labels == NULL || queue == NULL || face_cycle == NULL) {
        free(face_cycle);
        goto oom;
    }
    for (size_t i = 0; i < n_cyc; i++)
        if (cycles[i].area2 > 0)
            face_cycle[cycles[i].face] = (uint32_t)i;
    face_cycle[n_fc] = UINT32_MAX;
    size_t qh = 0, qt = 0;
    labels[n_fc].done = true;
    queue[qt++] = (uint32_t)n_fc;
    while (qh < qt) {
        uint32_t f = queue[qh++];
        /* the face's boundary cycles: its outer cycle and its holes */
        int32_t cy = face_cycle[f] != UINT32_MAX ? (int32_t)face_cycle[f] : face_hole[f];
        bool outer = face_cycle[f] != UINT32_MAX;
        while (cy >= 0) {
            uint32_t e = cycles[cy].first;
            do {
                uint32_t twin = e ^ 1;
                const cyc *tc = &cycles[g.cycle[twin]];
                int32_t gf = tc->face; /* a clockwise cycle holds its container */
                size_t gi = gf < 0 ? n_fc : (size_t)gf;
                if (!labels[gi].done) {
                    uint32_t ed = e >> 1;
                    int sign = (e & 1) ? -1 : +1; /* left minus right of e */
                    if (!label_apply(&labels[gi], &labels[f], g.dl + g.dstart[ed],
                                     g.dstart[ed + 1] - g.dstart[ed], sign)) {
                        free(face_cycle);
                        goto oom;
                    }
                    queue[qt++] = (uint32_t)gi;
                }
                e = g.next[e];
            } while (e != cycles[cy].first);
            cy = outer ? face_hole[f] : cycles[cy].hole_next;
            outer = false;
        }
    }

    /* 7. Emit the covered faces as polygons. */
    mark = calloc(g.n_nodes + 1, sizeof *mark);
    if (mark == NULL) {
        free(face_cycle);
        goto oom;
    }
    uint32_t stamp = 0;
    /* The faces and their rings get arrays of their exact sizes: count the
     * covered faces first. */
    size_t n_covered = 0;
    for (size_t f = 0; f < n_fc; f++) {
        const lbl *L = &labels[f];
        bool covered = false;
        for (uint32_t k = 0; k < L->n && !covered; k++)
            covered = covers(L->v[k]) && keep(L->v[k].owner, user);
        n_covered += covered;
    }
    if (n_covered > 0 && (faces = malloc(n_covered * sizeof *faces)) == NULL) {
        free(face_cycle);
        goto oom;
    }
    for (size_t f = 0; f < n_fc && n_faces < n_covered; f++) {
        const lbl *L = &labels[f];
        bool covered = false;
        for (uint32_t k = 0; k < L->n && !covered; k++)
            covered = covers(L->v[k]) && keep(L->v[k].owner, user);
        if (!covered)
            continue;
        stapel__aface *af = &faces[n_faces];
        memset(af, 0, sizeof *af);
        const cyc *oc = &cycles[face_cycle[f]];
        size_t n_pts = (size_t)oc->len + 1, n_rings = 1;
        for (int32_t c = face_hole[f]; c >= 0; c = cycles[c].hole_next) {
            n_pts += (size_t)cycles[c].len + 1;
            n_rings++;
        }
        af->owners = malloc((L->n + 1) * sizeof *af->owners);
        af->pts = malloc(n_pts * sizeof *af->pts);
        af->ring_end = malloc(n_rings * sizeof *af->ring_end);
        n_faces++;
        if (af->owners == NULL || af->pts == NULL || af->ring_end == NULL) {
            free(face_cycle);
            goto oom;
        }
        for (uint32_t k = 0; k < L->n; k++)
            if (covers(L->v[k]))
                af->owners[af->n_owners++] = L->v[k].owner;
        stamp++;
        ring_of_cycle(af, &g, oc->first, mark, stamp);
        /* the face's extent, from its outer cycle */
        af->xmin = af->ymin = INT64_MAX;
        af->xmax = af->ymax = INT64_MIN;
        for (uint32_t k = 0; k < af->ring_end[0]; k++) {
            stapel__ipt p = af->pts[k];
            af->xmin = p.x < af->xmin ? p.x : af->xmin;
            af->ymin = p.y < af->ymin ? p.y : af->ymin;
            af->xmax = p.x > af->xmax ? p.x : af->xmax;
            af->ymax = p.y > af->ymax ? p.y : af->ymax;
        }
        for (int32_t c = face_hole[f]; c >= 0; c = cycles[c].hole_next) {
            stamp++;
            ring_of_cycle(af, &g, cycles[c].first, mark, stamp);
        }
    }
    free(face_cycle);
    goto done;

oom:
    st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory in the arrangement");
done:
    if (st != STAPEL_OK) {
        stapel__afaces_free(faces, n_faces);
        faces = NULL;
        n_faces = 0;
    }
    *faces_out = faces;
    *n_faces_out = n_faces;
    ptmap_free(&hot);
    free(end_id);
    free(seen.slots);
    free(repeat);
    buckets_free(&sb);
    buckets_free(&hb);
    free(boxes);
    free(hs);
    free(pcs);
    free(g.node);
    free(g.eu);
    free(g.ev);
    free(g.dstart);
    free(g.dl);
    free(g.next);
    free(g.cycle);
    free(around);
    free(out_start);
    free(out_list);
    free(cycles);
    free(face_hole);
    if (labels != NULL)
        for (size_t i = 0; i <= n_fc; i++)
            free(labels[i].v);
    free(labels);
    free(comp);
    free(queue);
    free(mark);
    free(row_start);
    free(row_used);
    free(spans);
    free(cw_order);
    free(row_items);
    return st;
}
