/*
 * tile.c - splitting the extent into tiles of balanced work.
 *
 * The work of a tile grows with the vertices inside it, so the split follows
 * the vertices, not the area: a k-d split at the median vertex along the
 * longer side, until a tile holds about `target` vertices. Tile borders lie
 * on whole multiples of 1000 grid cells (1 m on a 1 mm grid), so every
 * coordinate on a border is exactly representable and equal on both sides.
 * Each tile lists, in item order, the items whose envelope meets it; that
 * order is what makes the overlay deterministic.
 */
#include "arrange.h"
#include "pipeline.h"

#include <cpl_string.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pt {
    double x, y;
} pt;

typedef struct pts {
    pt *v;
    size_t n, cap;
    size_t stride;
    size_t skip; /* vertices to pass over before the next sample */
} pts;

typedef struct kd_node {
    int axis;     /* 0: x, 1: y, -1: leaf */
    double split; /* points with coordinate < split go low */
    size_t lo, hi; /* children (inner) */
    size_t tile;  /* leaf */
} kd_node;

typedef struct kd {
    kd_node *nodes;
    size_t n, cap;
} kd;

/* Add the (sampled) vertices of an item, from its grid rings: every
 * stride-th vertex of the items in turn, stepping from sample to sample
 * rather than testing each vertex (a division each: 60 of the tiling's
 * 260 ms of CPU at scale 100, 20 ms now). */
static bool pts_add_item(pts *p, const stapel__item *it, double grid)
{
    size_t n = it->n_rings > 0 ? it->ring_end[it->n_rings - 1] : 0;
    if (p->skip >= n) {
        p->skip -= n;
        return true;
    }
    size_t want = p->n + (n - p->skip - 1) / p->stride + 1;
    if (want > p->cap) {
        size_t cap = p->cap == 0 ? 4096 : p->cap;
        while (cap < want)
            cap *= 2;
        pt *d = realloc(p->v, cap * sizeof *d);
        if (d == NULL)
            return false;
        p->v = d;
        p->cap = cap;
    }
    size_t i = p->skip;
    for (; i < n; i += p->stride)
        p->v[p->n++] = (pt){(double)it->pts[i].x * grid, (double)it->pts[i].y * grid};
    p->skip = i - n;
    return true;
}

static double coord(const pt *p, int axis)
{
    return axis == 0 ? p->x : p->y;
}

/* The k-th smallest coordinate along axis (Hoare's selection, with a
 * median-of-three pivot; reorders p). Expected linear time. */
static double select_kth(pt *p, size_t n, size_t k, int axis)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double a = coord(&p[lo], axis), b = coord(&p[mid], axis), c = coord(&p[hi], axis);
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (coord(&p[i], axis) < pivot)
                i++;
            while (coord(&p[j], axis) > pivot)
                j--;
            if (i <= j) {
                pt t = p[i];
                p[i] = p[j];
                p[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return coord(&p[k], axis);
    }
    return coord(&p[k], axis);
}

static size_t kd_push(kd *k, kd_node node)
{
    if (k->n == k->cap) {
        size_t cap = k->cap == 0 ? 64 : k->cap * 2;
        kd_node *d = realloc(k->nodes, cap * sizeof *d);
        if (d == NULL)
            return SIZE_MAX;
        k->nodes = d;
        k->cap = cap;
    }
    k->nodes[k->n] = node;
    return k->n++;
}

typedef struct build {
    kd tree;
    stapel__tile *tiles;
    size_t n_tiles, cap_tiles;
    double unit;     /* tile borders are multiples of this */
    size_t target;   /* sampled points per tile */
    size_t stride;
} build;

static size_t add_leaf(build *b, double x0, double y0, double x1, double y1, size_t npts)
{
    if (b->n_tiles == b->cap_tiles) {
        size_t cap = b->cap_tiles == 0 ? 64 : b->cap_tiles * 2;
        stapel__tile *d = realloc(b->tiles, cap * sizeof *d);
        if (d == NULL)
            return SIZE_MAX;
        b->tiles = d;
        b->cap_tiles = cap;
    }
    stapel__tile *t = &b->tiles[b->n_tiles];
    memset(t, 0, sizeof *t);
    t->xmin = x0;
    t->ymin = y0;
    t->xmax = x1;
    t->ymax = y1;
    t->n_vertices = npts * b->stride;
    kd_node leaf = {.axis = -1, .tile = b->n_tiles};
    size_t id = kd_push(&b->tree, leaf);
    if (id == SIZE_MAX)
        return SIZE_MAX;
    b->n_tiles++;
    return id;
}

/* Build the subtree over p[0..n) inside the rectangle; returns its node id. */
static size_t split(build *b, pt *p, size_t n, double x0, double y0, double x1, double y1,
                    int depth)
{
    if (n <= b->target || depth > 40)
        return add_leaf(b, x0, y0, x1, y1, n);
    int axis = (x1 - x0) >= (y1 - y0) ? 0 : 1;
    for (int attempt = 0; attempt < 2; attempt++, axis = 1 - axis) {
        double lo = axis == 0 ? x0 : y0, hi = axis == 0 ? x1 : y1;
        if (hi - lo < 2 * b->unit)
            continue;
        double med = select_kth(p, n, n / 2, axis);
        double s = floor(med / b->unit + 0.5) * b->unit;
        if (s <= lo)
            s = lo + b->unit;
        if (s >= hi)
            s = hi - b->unit;
        /* Points below the split first (the order within each side does
         * not matter: only their counts and boxes do). */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if ((axis == 0 ? p[i].x : p[i].y) < s) {
                pt t = p[m];
                p[m++] = p[i];
                p[i] = t;
            }
        }
        if (m == 0 || m == n)
            continue; /* every point on one side: splitting gains nothing */
        kd_node inner = {.axis = axis, .split = s};
        size_t id = kd_push(&b->tree, inner);
        if (id == SIZE_MAX)
            return SIZE_MAX;
        size_t lo_id = axis == 0 ? split(b, p, m, x0, y0, s, y1, depth + 1)
                                 : split(b, p, m, x0, y0, x1, s, depth + 1);
        if (lo_id == SIZE_MAX)
            return SIZE_MAX;
        size_t hi_id = axis == 0 ? split(b, p + m, n - m, s, y0, x1, y1, depth + 1)
                                 : split(b, p + m, n - m, x0, s, x1, y1, depth + 1);
        if (hi_id == SIZE_MAX)
            return SIZE_MAX;
        b->tree.nodes[id].lo = lo_id;
        b->tree.nodes[id].hi = hi_id;
        return id;
    }
    return add_leaf(b, x0, y0, x1, y1, n);
}

static bool tile_add_item(stapel__tile *t, uint32_t item)
{
    if (t->n_items == t->cap_items) {
        size_t cap = t->cap_items == 0 ? 16 : t->cap_items * 2;
        uint32_t *d = realloc(t->items, cap * sizeof *d);
        if (d == NULL)
            return false;
        t->items = d;
        t->cap_items = cap;
    }
    t->items[t->n_items++] = item;
    return true;
}

/* Add item to every leaf whose rectangle meets its envelope (closed test:
 * an item touching a border is listed on both sides). */
static bool assign(build *b, size_t node, const stapel__item *it, uint32_t idx)
{
    const kd_node *nd = &b->tree.nodes[node];
    if (nd->axis < 0) {
        const stapel__tile *t = &b->tiles[nd->tile];
        if (it->xmax < t->xmin || it->xmin > t->xmax || it->ymax < t->ymin || it->ymin > t->ymax)
            return true;
        return tile_add_item(&b->tiles[nd->tile], idx);
    }
    double lo = nd->axis == 0 ? it->xmin : it->ymin;
    double hi = nd->axis == 0 ? it->xmax : it->ymax;
    size_t lo_child = nd->lo, hi_child = nd->hi;
    double s = nd->split;
    if (lo <= s && !assign(b, lo_child, it, idx))
        return false;
    if (hi >= s && !assign(b, hi_child, it, idx))
        return false;
    return true;
}

static size_t item_points(const stapel__item *it)
{
    return it->n_rings > 0 ? it->ring_end[it->n_rings - 1] : 0;
}

static uint64_t rings_hash(const stapel__item *it)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ it->n_rings;
    for (uint32_t r = 0; r < it->n_rings; r++)
        h = (h ^ it->ring_end[r]) * 0x100000001B3ull;
    size_t n = item_points(it);
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint64_t)it->pts[i].x) * 0x100000001B3ull;
        h = (h ^ (uint64_t)it->pts[i].y) * 0x100000001B3ull;
    }
    return h ^ (h >> 29);
}

static bool same_rings(const stapel__item *a, const stapel__item *b)
{
    size_t n = item_points(a);
    return a->n_rings == b->n_rings && n == item_points(b) &&
           memcmp(a->ring_end, b->ring_end, a->n_rings * sizeof *a->ring_end) == 0 &&
           memcmp(a->pts, b->pts, n * sizeof *a->pts) == 0;
}

/* The work after the split, on worker threads: per chunk of items the hash
 * of each item's rings and the block boxes of the large ones; then per
 * part of the hash values the copies among the items. */
typedef struct tile_job {
    const stapel__input *in;
    stapel__tiling *t;
    uint64_t *hash;
    uint8_t *part;  /* of each item: its hash's top bits; NO_PART without rings */
    uint32_t *same; /* same_as */
} tile_job;

enum { ITEM_CHUNK = 4096, COPY_PARTS = 16, NO_PART = 255 };

static stapel_status hash_chunk(stapel_ctx *ctx, size_t job, void *user)
{
    const tile_job *j = user;
    size_t i1 = (job + 1) * ITEM_CHUNK < j->in->n_items ? (job + 1) * ITEM_CHUNK : j->in->n_items;
    for (size_t i = job * ITEM_CHUNK; i < i1; i++) {
        const stapel__item *it = &j->in->items[i];
        j->hash[i] = it->n_rings > 0 ? rings_hash(it) : 0;
        j->part[i] = it->n_rings > 0 ? (uint8_t)(j->hash[i] >> 60) : NO_PART;
        size_t np = item_points(it);
        if (np < 16 * STAPEL__CLIP_BLOCK)
            continue;
        j->t->blk[i] = stapel__clip_blocks(it->pts, np);
        if (j->t->blk[i] == NULL)
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    return STAPEL_OK;
}

/* same[i]: the first earlier item with the same rings, or UINT32_MAX
 * (identical claims, as the same area delivered in several layers or many
 * times in one, all meet the same tiles), for the items whose hash falls in
 * part (its top bits): copies have the same hash, so they are in one part,
 * and each part's table is small enough for the cache. */
static stapel_status copies_part(stapel_ctx *ctx, size_t part, void *user)
{
    const tile_job *j = user;
    const stapel__input *in = j->in;
    size_t n = 0;
    for (size_t i = 0; i < in->n_items; i++)
        n += j->part[i] == part;
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    uint32_t *slot = calloc(cap, sizeof *slot); /* item + 1, 0 empty */
    if (slot == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < in->n_items; i++) {
        if (j->part[i] != part)
            continue;
        const stapel__item *it = &in->items[i];
        for (size_t k = j->hash[i] & (cap - 1);; k = (k + 1) & (cap - 1)) {
            if (slot[k] == 0) {
                slot[k] = (uint32_t)i + 1;
                break;
            }
            uint32_t o = slot[k] - 1;
            if (j->hash[o] == j->hash[i] && same_rings(&in->items[o], it)) {
                j->same[i] = o;
                break;
            }
        }
    }
    free(slot);
    return STAPEL_OK;
}

stapel_status stapel__tiling_make(stapel_ctx *ctx, stapel__tiling *t, const stapel__input *in,
                                  double grid, size_t target, int threads)
{
    memset(t, 0, sizeof *t);
    if (in->n_claims == 0)
        return STAPEL_OK;
    build b = {0};
    b.unit = grid * 1000.0;

    /* The domain: the envelope of the claims, grown to tile units. Zones
     * beyond the claims cannot create a face with a claim. */
    double x0 = in->items[0].xmin, y0 = in->items[0].ymin;
    double x1 = in->items[0].xmax, y1 = in->items[0].ymax;
    size_t total = 0;
    for (size_t i = 0; i < in->n_claims; i++) {
        const stapel__item *it = &in->items[i];
        x0 = fmin(x0, it->xmin);
        y0 = fmin(y0, it->ymin);
        x1 = fmax(x1, it->xmax);
        y1 = fmax(y1, it->ymax);
        total += it->n_rings > 0 ? it->ring_end[it->n_rings - 1] : 0;
    }
    x0 = (floor(x0 / b.unit) - 1) * b.unit;
    y0 = (floor(y0 / b.unit) - 1) * b.unit;
    x1 = (ceil(x1 / b.unit) + 1) * b.unit;
    y1 = (ceil(y1 / b.unit) + 1) * b.unit;

    /* Sample at most ~250k vertices (a tile's median needs no more than a
     * few thousand); zones count where they meet the domain. */
    b.stride = total / 250000 + 1;
    b.target = target / b.stride;
    if (b.target < SIZE_MAX) /* a target of SIZE_MAX (no limit) must not wrap to 0 */
        b.target++;
    pts p = {.stride = b.stride};
    stapel_status st = STAPEL_OK;
    for (size_t i = 0; i < in->n_items; i++) {
        const stapel__item *it = &in->items[i];
        if (it->xmax < x0 || it->xmin > x1 || it->ymax < y0 || it->ymin > y1)
            continue;
        if (!pts_add_item(&p, it, grid)) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    /* Points outside the domain (zone vertices) do not weigh on any tile. */
    size_t k = 0;
    for (size_t i = 0; i < p.n; i++)
        if (p.v[i].x >= x0 && p.v[i].x <= x1 && p.v[i].y >= y0 && p.v[i].y <= y1)
            p.v[k++] = p.v[i];
    p.n = k;

    size_t root = split(&b, p.v, p.n, x0, y0, x1, y1, 0);
    if (root == SIZE_MAX) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in->n_items; i++) {
        const stapel__item *it = &in->items[i];
        if (it->xmax < x0 || it->xmin > x1 || it->ymax < y0 || it->ymin > y1)
            continue;
        if (!assign(&b, root, it, (uint32_t)i)) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    t->tiles = b.tiles;
    t->n_tiles = b.n_tiles;
    b.tiles = NULL;
    b.n_tiles = 0;
    /* Block boxes for the items of many points in several tiles: in a tile
     * that sees only a little of such an item, the clip passes the rest of
     * it by blocks instead of point by point (a ring of 4 million points
     * meets 256 tiles). And the copies among the items, which a tile clips
     * once. */
    if (t->n_tiles > 1) {
        t->blk = calloc(in->n_items, sizeof *t->blk);
        t->same_as = malloc((in->n_items + 1) * sizeof *t->same_as);
        uint64_t *hash = malloc((in->n_items + 1) * sizeof *hash);
        uint8_t *part = malloc(in->n_items + 1);
        if (t->blk == NULL || t->same_as == NULL || hash == NULL || part == NULL) {
            free(hash);
            free(part);
            stapel__tiling_clear(t);
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
        t->n_blk = in->n_items;
        for (size_t i = 0; i < in->n_items; i++)
            t->same_as[i] = UINT32_MAX;
        tile_job tj = {in, t, hash, part, t->same_as};
        st = stapel__parallel_for(ctx, (in->n_items + ITEM_CHUNK - 1) / ITEM_CHUNK, threads, NULL,
                                  hash_chunk, &tj);
        if (st == STAPEL_OK)
            st = stapel__parallel_for(ctx, COPY_PARTS, threads, NULL, copies_part, &tj);
        free(hash);
        free(part);
        if (st != STAPEL_OK) {
            stapel__tiling_clear(t);
            goto done;
        }
    }
    t->xmin = x0;
    t->ymin = y0;
    t->xmax = x1;
    t->ymax = y1;
done:
    free(p.v);
    free(b.tree.nodes);
    for (size_t i = 0; i < b.n_tiles; i++)
        free(b.tiles[i].items);
    free(b.tiles);
    return st;
}

/* Coordinates go in as text of 17 digits: exact, and not tied to the byte
 * order of a double (nor to a locale's decimal comma). */
static uint64_t hash_box(uint64_t h, double x0, double y0, double x1, double y1)
{
    char buf[128];
    CPLsnprintf(buf, sizeof buf, "%.17g %.17g %.17g %.17g", x0, y0, x1, y1);
    return stapel__hash_more(h, buf);
}

uint64_t stapel__tiling_hash(const stapel__tiling *t)
{
    uint64_t h = hash_box(STAPEL__HASH_INIT, t->xmin, t->ymin, t->xmax, t->ymax);
    for (size_t i = 0; i < t->n_tiles; i++)
        h = hash_box(h, t->tiles[i].xmin, t->tiles[i].ymin, t->tiles[i].xmax, t->tiles[i].ymax);
    return h;
}

void stapel__tiling_clear(stapel__tiling *t)
{
    for (size_t i = 0; i < t->n_tiles; i++)
        free(t->tiles[i].items);
    free(t->tiles);
    for (size_t i = 0; i < t->n_blk; i++)
        free(t->blk[i]);
    free(t->blk);
    free(t->same_as);
    memset(t, 0, sizeof *t);
}
