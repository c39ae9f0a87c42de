/*
 * summary.c - the puzzle in numbers: the conflicts layer (faces where a pair
 * of themes with verdict conflict or conditional meets, dissolved per zone
 * and pair) and the zone_summary and zone_theme tables.
 *
 * Everything is derived from the faces of the stack. Because faces are split
 * along every zone border and never overlap, "the union area of a theme in a
 * zone" is simply the sum of the areas of the zone's faces carrying that
 * theme: no further overlay is needed. Only a zone's own area comes from the
 * zone polygons themselves.
 */
#include "pipeline.h"
#include "source.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void stapel_summary_free(stapel_summary *sm)
{
    if (sm == NULL)
        return;
    for (size_t i = 0; i < sm->n_zones; i++) {
        free(sm->zones[i].zone_type);
        free(sm->zones[i].zone);
    }
    for (size_t i = 0; i < sm->n_themes; i++) {
        free(sm->themes[i].zone_type);
        free(sm->themes[i].zone);
        free(sm->themes[i].theme);
    }
    free(sm->zones);
    free(sm->themes);
    free(sm);
}

/* ---- zones ---------------------------------------------------------------- */

/* In the zone ids of a face taken beforehand (stapel__summarize): more than
 * two, so read them from the face. */
#define MANY_ZONES (UINT32_MAX - 1)

/* The faces per job of the passes over the faces on worker threads. */
enum { MASK_CHUNK = 16384 };

static bool pair_grouped(stapel_verdict v)
{
    return v == STAPEL_VERDICT_CONFLICT || v == STAPEL_VERDICT_CONDITIONAL;
}

/* The zones of one kind: their names, sorted, and the items of each name in
 * item order. Built in one pass over the items, as a layer may hold many
 * thousands of names. A zone without area (in->bare_zones) is there with no
 * items: its row has area 0. */
typedef struct zone_list {
    uint32_t *names; /* name indices, sorted by name */
    size_t n;
    size_t *start; /* by name index: the name's items are ids[start[g] .. start[g + 1]) */
    uint32_t *ids; /* item indices, grouped by name */
} zone_list;

typedef struct named {
    const char *name;
    uint32_t idx;
} named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static void zone_list_free(zone_list *zl)
{
    free(zl->names);
    free(zl->start);
    free(zl->ids);
}

static stapel_status zone_list_make(stapel_ctx *ctx, const stapel__input *in, int kind, size_t lo,
                                    size_t hi, zone_list *zl)
{
    size_t G = in->n_zone_names;
    size_t n_bare = in->n_bare_zones[kind];
    zl->n = 0;
    zl->names = malloc((hi - lo + n_bare + 1) * sizeof *zl->names);
    zl->start = calloc(G + 2, sizeof *zl->start);
    zl->ids = malloc((hi - lo + 1) * sizeof *zl->ids);
    named *tmp = NULL;
    if (zl->names == NULL || zl->start == NULL || zl->ids == NULL)
        goto nomem;
    /* Count the items of each name (in start[g + 2]), then make the counts
     * offsets and place the items, which keeps them in item order. */
    for (size_t i = lo; i < hi; i++) {
        uint32_t g = in->items[i].group;
        if (zl->start[g + 2]++ == 0)
            zl->names[zl->n++] = g;
    }
    for (size_t k = 0; k < n_bare; k++)
        zl->names[zl->n++] = in->bare_zones[kind][k];
    for (size_t g = 0; g < G; g++)
        zl->start[g + 2] += zl->start[g + 1];
    for (size_t i = lo; i < hi; i++)
        zl->ids[zl->start[in->items[i].group + 1]++] = (uint32_t)i;
    tmp = malloc((zl->n + 1) * sizeof *tmp);
    if (tmp == NULL)
        goto nomem;
    for (size_t k = 0; k < zl->n; k++)
        tmp[k] = (named){in->zone_names[zl->names[k]], zl->names[k]};
    qsort(tmp, zl->n, sizeof *tmp, cmp_named);
    for (size_t k = 0; k < zl->n; k++)
        zl->names[k] = tmp[k].idx;
    free(tmp);
    return STAPEL_OK;
nomem:
    zone_list_free(zl);
    memset(zl, 0, sizeof *zl);
    return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
}

/* The area of the union of the n items ids (in item order), the features of
 * the zone called name, or of all zones of a kind when name is NULL. */
static stapel_status zone_area(stapel_ctx *ctx, const stapel__input *in, const uint32_t *ids,
                               size_t n, const char *name, double *area)
{
    GEOSContextHandle_t h = ctx->geos;
    *area = 0;
    /* A zone in several features: the read joined them already. */
    if (n > 1 && name != NULL && in->zone_union_area != NULL &&
        !isnan(in->zone_union_area[ids[0] - in->n_claims])) {
        *area = in->zone_union_area[ids[0] - in->n_claims];
        return STAPEL_OK;
    }
    if (n == 0)
        return STAPEL_OK;
    GEOSGeometry **parts = malloc(n * sizeof *parts);
    if (parts == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        parts[k] = GEOSGeom_clone_r(h, in->items[ids[k]].geom);
        if (parts[k] == NULL) {
            for (size_t j = 0; j < k; j++)
                GEOSGeom_destroy_r(h, parts[j]);
            free(parts);
            return stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
        }
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)n);
    free(parts);
    if (coll == NULL)
        return stapel__fail(ctx, STAPEL_EGEOS, "GEOS: %s", stapel__geos_error(ctx));
    GEOSGeometry *u = n == 1 ? NULL : GEOSUnaryUnionPrec_r(h, coll, in->grid);
    if (n > 1 && u == NULL) {
        GEOSGeom_destroy_r(h, coll);
        char *zone = stapel_zone_quote_text(name == NULL ? "all" : name);
        stapel_status st = zone == NULL
                               ? stapel__fail(ctx, STAPEL_ENOMEM, "out of memory")
                               : stapel__fail(ctx, STAPEL_EGEOS, "union of zone %s failed: %s",
                                              zone, stapel__geos_error(ctx));
        free(zone);
        return st;
    }
    GEOSArea_r(h, u != NULL ? u : coll, area);
    if (u != NULL)
        GEOSGeom_destroy_r(h, u);
    GEOSGeom_destroy_r(h, coll);
    return STAPEL_OK;
}

static stapel_status zones_summarize(stapel_ctx *ctx, stapel_stack *s, const size_t *claim_theme,
                                     const uint64_t *fmask, const uint32_t *fzone)
{
    const stapel__input *in = &s->in;
    size_t T = s->n_themes;
    size_t p0 = in->n_claims, p1 = p0 + in->n_provinces, n1 = p1 + in->n_novex;
    zone_list prov = {0}, nov = {0};
    int32_t *prov_row = NULL, *nov_row = NULL, *zrow = NULL, *rows = NULL;
    double *tarea = NULL, *tover = NULL;
    stapel_summary *sm = calloc(1, sizeof *sm);
    stapel_status st = STAPEL_OK;
    if (sm == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    st = zone_list_make(ctx, in, STAPEL_ZONE_PROVINCE, p0, p1, &prov);
    if (st == STAPEL_OK)
        st = zone_list_make(ctx, in, STAPEL_ZONE_NOVEX, p1, n1, &nov);
    if (st != STAPEL_OK)
        goto done;
    size_t R = prov.n + nov.n + 1;
    sm->zones = calloc(R, sizeof *sm->zones);
    sm->themes = calloc(R * (T > 0 ? T : 1), sizeof *sm->themes);
    prov_row = malloc((in->n_zone_names + 1) * sizeof *prov_row);
    nov_row = malloc((in->n_zone_names + 1) * sizeof *nov_row);
    tarea = calloc(R * T + 1, sizeof *tarea);
    tover = calloc(R * T + 1, sizeof *tover);
    if (sm->zones == NULL || sm->themes == NULL || prov_row == NULL || nov_row == NULL ||
        tarea == NULL || tover == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < in->n_zone_names; i++)
        prov_row[i] = nov_row[i] = -1;
    for (size_t r = 0; r < R; r++) {
        stapel_zone_row *z = &sm->zones[r];
        const char *type, *name;
        if (r < prov.n + nov.n) {
            const zone_list *zl = r < prov.n ? &prov : &nov;
            uint32_t g = zl->names[r < prov.n ? r : r - prov.n];
            type = r < prov.n ? "province" : "novex";
            name = in->zone_names[g];
            (r < prov.n ? prov_row : nov_row)[g] = (int32_t)r;
            st = zone_area(ctx, in, zl->ids + zl->start[g], zl->start[g + 1] - zl->start[g], name,
                           &z->area_m2);
        } else {
            type = "total";
            name = "total";
            /* all provinces, in item order */
            uint32_t *all = malloc((in->n_provinces + 1) * sizeof *all);
            for (size_t i = 0; all != NULL && i < in->n_provinces; i++)
                all[i] = (uint32_t)(p0 + i);
            if (all == NULL)
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            else if (in->n_provinces > 0)
                st = zone_area(ctx, in, all, in->n_provinces, NULL, &z->area_m2);
            free(all);
        }
        if (st != STAPEL_OK)
            goto done;
        z->zone_type = stapel__strdup(type);
        z->zone = stapel__strdup(name);
        sm->n_zones++;
        if (z->zone_type == NULL || z->zone == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }

    /* The row of each zone item, by its name. */
    zrow = malloc((n1 - p0 + 1) * sizeof *zrow);
    rows = malloc((R + 1) * sizeof *rows); /* a face's rows, each once */
    if (zrow == NULL || rows == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t id = p0; id < n1; id++)
        zrow[id - p0] = id < p1 ? prov_row[in->items[id].group] : nov_row[in->items[id].group];
    /* Walk the faces once, adding each to the rows it lies in. */
    size_t total_row = R - 1;
    double claimed_total = 0;
    size_t ranks[256];
    for (size_t i = 0; i < s->n_faces; i++) {
        const stapel__out_face *f = &s->faces[i];
        /* The ids are sorted: the claims' (their themes, each once), then
         * the zones' (their rows, each once). */
        size_t nr = 0, nt = 0;
        uint64_t seen_theme[4] = {0, 0, 0, 0};
        uint32_t k0 = 0, k1 = f->n_ids;
        const uint32_t *ids = f->ids;
        if (fmask != NULL) {
            /* The themes from the mask, the zones from fzone (or the end of
             * the ids): the ids need not be read again. */
            for (uint64_t m = fmask[i]; m != 0; m &= m - 1)
                ranks[nt++] = (size_t)__builtin_ctzll(m);
            if (fzone[2 * i] != MANY_ZONES) {
                ids = fzone + 2 * i;
                k1 = (ids[0] != UINT32_MAX) + (ids[1] != UINT32_MAX);
            } else {
                for (k0 = k1; k0 > 0 && ids[k0 - 1] >= p0;)
                    k0--;
            }
        }
        for (uint32_t k = k0; k < k1; k++) {
            uint32_t id = ids[k];
            if (id < p0) {
                size_t t = claim_theme[id];
                if (t < 256 && !(seen_theme[t >> 6] >> (t & 63) & 1)) {
                    seen_theme[t >> 6] |= (uint64_t)1 << (t & 63);
                    ranks[nt++] = t;
                }
                continue;
            }
            int32_t r = id < n1 ? zrow[id - p0] : -1;
            bool dup = r < 0;
            for (size_t j = 0; j < nr && !dup; j++)
                dup = rows[j] == r;
            if (!dup)
                rows[nr++] = r;
        }
        /* The total row covers the provinces' union when there are
         * provinces, and all claims otherwise. */
        if (in->n_provinces == 0 || f->province != NULL)
            rows[nr++] = (int32_t)total_row;
        claimed_total += f->area;
        for (size_t j = 0; j < nr; j++) {
            stapel_zone_row *z = &sm->zones[rows[j]];
            if (f->n_themes >= 2)
                z->stacked2_m2 += f->area;
            if (f->n_themes >= 3)
                z->stacked3_m2 += f->area;
            if (f->n_themes > z->max_themes)
                z->max_themes = f->n_themes;
            if (f->verdict == STAPEL_VERDICT_CONFLICT)
                z->conflict_m2 += f->area;
            if (f->n_themes >= 2 && (f->verdict == STAPEL_VERDICT_CONDITIONAL ||
                                     f->verdict == STAPEL_VERDICT_COMPATIBLE))
                z->kans_m2 += f->area;
            for (size_t t = 0; t < nt; t++) {
                tarea[(size_t)rows[j] * T + ranks[t]] += f->area;
                if (f->n_themes >= 2)
                    tover[(size_t)rows[j] * T + ranks[t]] += f->area;
            }
        }
    }
    if (in->n_provinces == 0)
        sm->zones[total_row].area_m2 = claimed_total;
    for (size_t r = 0; r < R; r++) {
        stapel_zone_row *z = &sm->zones[r];
        for (size_t t = 0; t < T; t++) {
            z->claimed_m2 += tarea[r * T + t];
            stapel_theme_row *tr = &sm->themes[sm->n_themes];
            tr->zone_type = stapel__strdup(z->zone_type);
            tr->zone = stapel__strdup(z->zone);
            tr->theme = stapel__strdup(s->themes[t]);
            sm->n_themes++;
            if (tr->zone_type == NULL || tr->zone == NULL || tr->theme == NULL) {
                st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                goto done;
            }
            tr->area_m2 = tarea[r * T + t];
            tr->overlap_m2 = tover[r * T + t];
            tr->share = z->area_m2 > 0 ? tr->area_m2 / z->area_m2 : 0;
        }
        z->claim_ratio = z->area_m2 > 0 ? z->claimed_m2 / z->area_m2 : 0;
    }
done:
    zone_list_free(&prov);
    zone_list_free(&nov);
    free(prov_row);
    free(nov_row);
    free(zrow);
    free(rows);
    free(tarea);
    free(tover);
    if (st != STAPEL_OK) {
        stapel_summary_free(sm);
        return st;
    }
    s->summary = sm;
    return STAPEL_OK;
}

/* ---- conflicts --------------------------------------------------------------- */

/* A face in one conflict group: 16 bytes, as there are millions. */
typedef struct pair_ref {
    uint32_t prov, nov; /* ranks of the face's province and novex strings */
    uint16_t a, b;      /* theme ranks, a < b */
    uint32_t face;      /* which of the faces in any group: they are numbered
                         * in the order of the stack's faces */
} pair_ref;

/* The rank of every distinct zone string of the faces in sort order (NULL
 * first, rank 0), so that groups sort by name with integer compares. The
 * strings are interned, so a string is its pointer. */
typedef struct zrank {
    const char **keys;
    uint32_t *rank;
    size_t cap, n;
} zrank;

static size_t zr_slot(const zrank *z, const char *k)
{
    size_t pos = (size_t)(((uintptr_t)k >> 3) * 0x9E3779B97F4A7C15ull) & (z->cap - 1);
    while (z->keys[pos] != NULL && z->keys[pos] != k)
        pos = (pos + 1) & (z->cap - 1);
    return pos;
}

static bool zr_add(zrank *z, const char *k)
{
    if (k == NULL)
        return true;
    if (2 * (z->n + 1) > z->cap) {
        zrank b = {calloc(z->cap * 2, sizeof *b.keys), NULL, z->cap * 2, 0};
        if (b.keys == NULL)
            return false;
        for (size_t i = 0; i < z->cap; i++)
            if (z->keys[i] != NULL)
                b.keys[zr_slot(&b, z->keys[i])] = z->keys[i];
        b.n = z->n;
        free(z->keys);
        *z = b;
    }
    size_t pos = zr_slot(z, k);
    if (z->keys[pos] == NULL) {
        z->keys[pos] = k;
        z->n++;
    }
    return true;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Rank the keys added so far; false when out of memory. */
static bool zr_rank(zrank *z)
{
    const char **sorted = malloc((z->n + 1) * sizeof *sorted);
    z->rank = calloc(z->cap, sizeof *z->rank);
    if (sorted == NULL || z->rank == NULL) {
        free(sorted);
        return false;
    }
    size_t k = 0;
    for (size_t i = 0; i < z->cap; i++)
        if (z->keys[i] != NULL)
            sorted[k++] = z->keys[i];
    qsort(sorted, k, sizeof *sorted, cmp_strp);
    for (size_t i = 0; i < k; i++)
        z->rank[zr_slot(z, sorted[i])] = (uint32_t)i + 1;
    free(sorted);
    return true;
}

static uint32_t zr_get(const zrank *z, const char *k)
{
    return k == NULL ? 0 : z->rank[zr_slot(z, k)];
}

static int cmp_pair(const void *u, const void *v)
{
    const pair_ref *p = u, *q = v;
    int c = (p->prov > q->prov) - (p->prov < q->prov);
    if (c == 0)
        c = (p->nov > q->nov) - (p->nov < q->nov);
    if (c == 0)
        c = (p->a > q->a) - (p->a < q->a);
    if (c == 0)
        c = (p->b > q->b) - (p->b < q->b);
    if (c == 0)
        c = (p->face > q->face) - (p->face < q->face);
    return c;
}

static bool same_group(const pair_ref *p, const pair_ref *q)
{
    return p->a == q->a && p->b == q->b && p->prov == q->prov && p->nov == q->nov;
}

static uint64_t group_hash(const pair_ref *p)
{
    uint64_t h = ((uint64_t)p->prov << 32 | p->nov) * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)p->a << 16 | p->b) * 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 31);
}

/* Sort refs by group (cmp_pair's order), keeping face order within each
 * group, in linear time: refs arrive in face order, groups are few. The
 * groups get dense ids through a hash table, the ids are ranked by sorting
 * the groups alone, and the refs are placed by a counting sort. Replaces
 * *refs; false when out of memory. */
static bool sort_by_group(pair_ref **refs, size_t n)
{
    size_t cap = 64, n_groups = 0;
    pair_ref *keys = NULL; /* one ref per group, by dense id */
    uint32_t *table = calloc(cap, sizeof *table), *gid = malloc((n + 1) * sizeof *gid);
    size_t *count = NULL, *order = NULL;
    pair_ref *out = malloc((n + 1) * sizeof *out);
    bool ok = table != NULL && gid != NULL && out != NULL;
    for (size_t i = 0; i < n && ok; i++) {
        const pair_ref *r = &(*refs)[i];
        if (i > 0 && same_group(r, r - 1)) { /* neighbouring faces: often the same */
            gid[i] = gid[i - 1];
            continue;
        }
        if (2 * (n_groups + 1) > cap) { /* grow the table: id + 1 per slot, 0 = empty */
            uint32_t *t = calloc(cap * 2, sizeof *t);
            pair_ref *k = realloc(keys, cap * sizeof *k);
            ok = t != NULL && k != NULL;
            if (k != NULL)
                keys = k;
            if (!ok) {
                free(t);
                break;
            }
            for (size_t g = 0; g < n_groups; g++) {
                size_t pos = group_hash(&keys[g]) & (2 * cap - 1);
                while (t[pos] != 0)
                    pos = (pos + 1) & (2 * cap - 1);
                t[pos] = (uint32_t)g + 1;
            }
            free(table);
            table = t;
            cap *= 2;
        }
        size_t pos = group_hash(r) & (cap - 1);
        while (table[pos] != 0 && !same_group(&keys[table[pos] - 1], r))
            pos = (pos + 1) & (cap - 1);
        if (table[pos] == 0) {
            if (keys == NULL && (keys = malloc(cap / 2 * sizeof *keys)) == NULL) {
                ok = false;
                break;
            }
            keys[n_groups] = *r;
            keys[n_groups].face = (uint32_t)n_groups; /* the id, to sort by */
            table[pos] = (uint32_t)++n_groups;
        }
        gid[i] = table[pos] - 1;
    }
    if (ok) {
        count = calloc(n_groups + 1, sizeof *count);
        order = malloc((n_groups + 1) * sizeof *order);
        ok = count != NULL && order != NULL;
    }
    if (ok) {
        qsort(keys, n_groups, sizeof *keys, cmp_pair); /* face holds the id: ties cannot occur */
        for (size_t g = 0; g < n_groups; g++)
            order[keys[g].face] = g; /* rank of each id */
        for (size_t i = 0; i < n; i++)
            count[order[gid[i]] + 1]++;
        for (size_t g = 0; g < n_groups; g++)
            count[g + 1] += count[g];
        for (size_t i = 0; i < n; i++)
            out[count[order[gid[i]]]++] = (*refs)[i];
        free(*refs);
        *refs = out;
        out = NULL;
    }
    free(table);
    free(keys);
    free(gid);
    free(count);
    free(order);
    free(out);
    return ok;
}

typedef struct dissolve_job {
    const stapel_stack *s;
    const uint32_t *sel;          /* the faces of the refs sorted by group */
    const stapel__rings *rings;   /* of the faces in any group */
    stapel__shared_edges *shared; /* their edges, or NULL: dissolve each group alone */
    const size_t *start; /* group g: sel[start[g] .. start[g+1]) */
    const size_t *order; /* job k dissolves group order[k]: the largest first */
    stapel__conflict *out;
} dissolve_job;

typedef struct group_size {
    size_t zone_n, zone; /* the faces in all groups of its zone; which zone */
    size_t n, g;
} group_size;

/* The part of face k (renumbered) when parts end before part_end[]. */
static size_t sel_part(const size_t *part_end, size_t n_parts, uint32_t k)
{
    size_t lo = 0, hi = n_parts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (part_end[mid] <= k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int cmp_group_size(const void *a, const void *b)
{
    const group_size *p = a, *q = b;
    if (p->zone_n != q->zone_n)
        return p->zone_n > q->zone_n ? -1 : 1;
    if (p->zone != q->zone)
        return p->zone > q->zone ? 1 : -1;
    if (p->n != q->n)
        return p->n > q->n ? -1 : 1;
    return (p->g > q->g) - (p->g < q->g);
}

/* One group's union, noded (no snap rounding) in a merge too: the merged
 * faces meet only at shared vertices, their seams aligned as a run's are
 * (stapel__seams_align_parts), and a union that is not sound is computed
 * again with snap rounding (stapel__dissolve_subset). Snap rounding the
 * faces moved what the seam alignment had put in: a vertex it added on a
 * border line, a grid cell from a thin wedge of a face, whose edge then
 * passed through that vertex's cell and doubled back along the border, so
 * the conflict's geometry lost the wedge (3e-5 m2 of 15 m2) while its
 * area_m2, the sum of its faces, kept it. */
static stapel_status dissolve_one(stapel_ctx *ctx, size_t k, void *user)
{
    dissolve_job *j = user;
    size_t g = j->order[k];
    size_t a = j->start[g], n = j->start[g + 1] - a;
    stapel__conflict *c = &j->out[g];
    if (j->shared != NULL)
        return stapel__dissolve_subset(ctx, j->shared, j->sel + a, n, j->s->in.grid, true, &c->pts,
                                       &c->ring_end, &c->n_rings);
    stapel__rings *faces = malloc(n * sizeof *faces);
    if (faces == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        faces[i] = j->rings[j->sel[a + i]];
    stapel_status st =
        stapel__dissolve(ctx, faces, n, j->s->in.grid, true, &c->pts, &c->ring_end, &c->n_rings);
    free(faces);
    return st;
}

/* The refs of the conflict faces, chunk by chunk on worker threads, each
 * chunk's at the place its counts (from the masks) give it: the same refs
 * in the same order as one walk over the faces. */
typedef struct refs_job {
    const stapel_stack *s;
    const uint64_t *fmask;
    const zrank *zr;
    const size_t *ref_at, *cf_at; /* by chunk: its first ref and first face */
    pair_ref *refs;
    uint32_t *cface;
    stapel__rings *rings; /* by face in any group, as cface: its rings and area */
    double *area;
} refs_job;

static stapel_status refs_chunk(stapel_ctx *ctx, size_t job, void *user)
{
    (void)ctx;
    const refs_job *j = user;
    const stapel_stack *s = j->s;
    size_t T = s->n_themes, n = j->ref_at[job], c = j->cf_at[job];
    size_t i1 = (job + 1) * MASK_CHUNK < s->n_faces ? (job + 1) * MASK_CHUNK : s->n_faces;
    for (size_t i = job * MASK_CHUNK; i < i1; i++) {
        const stapel__out_face *f = &s->faces[i];
        if (!pair_grouped(f->verdict))
            continue;
        uint32_t prov = zr_get(j->zr, f->province), nov = zr_get(j->zr, f->novex);
        size_t n0 = n;
        for (uint64_t ma = j->fmask[i]; ma != 0; ma &= ma - 1) {
            size_t a = (size_t)__builtin_ctzll(ma);
            for (uint64_t mb = ma & (ma - 1); mb != 0; mb &= mb - 1) {
                size_t b = (size_t)__builtin_ctzll(mb);
                if (pair_grouped(s->verdicts[a * T + b]))
                    j->refs[n++] = (pair_ref){prov, nov, (uint16_t)a, (uint16_t)b, (uint32_t)c};
            }
        }
        if (n > n0) {
            j->rings[c] = stapel__out_rings(f);
            j->area[c] = f->area;
            j->cface[c++] = (uint32_t)i;
        }
    }
    return STAPEL_OK;
}

static stapel_status conflicts_make(stapel_ctx *ctx, stapel_stack *s, const size_t *claim_theme,
                                    const uint64_t *fmask, const size_t *chunk_refs,
                                    const size_t *chunk_cf)
{
    const stapel__input *in = &s->in;
    size_t T = s->n_themes;
    pair_ref *refs = NULL;
    size_t n = 0, cap = 0;
    stapel_status st = STAPEL_OK;
    if (T > UINT16_MAX || s->n_faces > UINT32_MAX)
        return stapel__fail(ctx, STAPEL_EDATA, "too many themes or faces for the conflicts");
    zrank zr = {calloc(64, sizeof *zr.keys), NULL, 64, 0};
    bool ok = zr.keys != NULL;
    for (size_t i = 0; i < s->n_faces && ok; i++) {
        const stapel__out_face *f = &s->faces[i];
        if (f->verdict == STAPEL_VERDICT_CONFLICT || f->verdict == STAPEL_VERDICT_CONDITIONAL)
            ok = zr_add(&zr, f->province) && zr_add(&zr, f->novex);
    }
    if (!ok || !zr_rank(&zr)) {
        free(zr.keys);
        free(zr.rank);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    /* The faces in any group, numbered in face order: cface maps back. */
    uint32_t *cface = NULL;
    size_t n_cf = 0;
    /* The rings and area of each of those faces, as cface: taken where
     * the face is read anyway. */
    stapel__rings *crings = NULL;
    double *carea0 = NULL;
    if (fmask != NULL) {
        size_t n_chunks = (s->n_faces + MASK_CHUNK - 1) / MASK_CHUNK;
        size_t *ref_at = malloc((n_chunks + 1) * sizeof *ref_at);
        size_t *cf_at = malloc((n_chunks + 1) * sizeof *cf_at);
        for (size_t k = 0; ref_at != NULL && cf_at != NULL && k < n_chunks; k++) {
            ref_at[k] = n;
            cf_at[k] = n_cf;
            n += chunk_refs[k];
            n_cf += chunk_cf[k];
        }
        refs = malloc((n + 1) * sizeof *refs);
        cface = malloc((n_cf + 1) * sizeof *cface);
        crings = malloc((n_cf + 1) * sizeof *crings);
        carea0 = malloc((n_cf + 1) * sizeof *carea0);
        if (ref_at == NULL || cf_at == NULL || refs == NULL || cface == NULL || crings == NULL ||
            carea0 == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        } else {
            refs_job rj = {s, fmask, &zr, ref_at, cf_at, refs, cface, crings, carea0};
            st = stapel__parallel_for(ctx, n_chunks, s->threads, NULL, refs_chunk, &rj);
        }
        free(ref_at);
        free(cf_at);
        if (st != STAPEL_OK) {
            free(refs);
            free(cface);
            free(crings);
            free(carea0);
            free(zr.keys);
            free(zr.rank);
            return st;
        }
    }
    for (size_t i = 0; fmask == NULL && i < s->n_faces; i++) {
        const stapel__out_face *f = &s->faces[i];
        if (f->verdict != STAPEL_VERDICT_CONFLICT && f->verdict != STAPEL_VERDICT_CONDITIONAL)
            continue;
        uint32_t prov = zr_get(&zr, f->province), nov = zr_get(&zr, f->novex);
        size_t ranks[64], nt = 0;
        for (uint32_t k = 0; k < f->n_ids && f->ids[k] < in->n_claims && nt < 64; k++) {
            size_t t = claim_theme[f->ids[k]];
            bool dup = false;
            for (size_t j = 0; j < nt && !dup; j++)
                dup = ranks[j] == t;
            if (!dup)
                ranks[nt++] = t;
        }
        size_t n0 = n;
        for (size_t x = 0; x < nt; x++) {
            for (size_t y = 0; y < nt; y++) {
                size_t a = ranks[x], b = ranks[y];
                if (a >= b)
                    continue;
                stapel_verdict v = s->verdicts[a * T + b];
                if (v != STAPEL_VERDICT_CONFLICT && v != STAPEL_VERDICT_CONDITIONAL)
                    continue;
                if (n == cap) {
                    cap = cap == 0 ? 1024 : cap * 2;
                    pair_ref *d = realloc(refs, cap * sizeof *d);
                    if (d == NULL) {
                        free(refs);
                        free(cface);
                        free(zr.keys);
                        free(zr.rank);
                        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
                    }
                    refs = d;
                }
                refs[n++] = (pair_ref){prov, nov, (uint16_t)a, (uint16_t)b, (uint32_t)n_cf};
            }
        }
        if (n > n0) {
            if (cface == NULL && (cface = malloc(s->n_faces * sizeof *cface)) == NULL) {
                free(refs);
                free(zr.keys);
                free(zr.rank);
                return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            }
            cface[n_cf++] = (uint32_t)i;
        }
    }
    free(zr.keys);
    free(zr.rank);
    if (fmask == NULL) {
        crings = malloc((n_cf + 1) * sizeof *crings);
        carea0 = malloc((n_cf + 1) * sizeof *carea0);
        for (size_t c = 0; crings != NULL && carea0 != NULL && c < n_cf; c++) {
            crings[c] = stapel__out_rings(&s->faces[cface[c]]);
            carea0[c] = s->faces[cface[c]].area;
        }
        if (crings == NULL || carea0 == NULL) {
            free(refs);
            free(cface);
            free(crings);
            free(carea0);
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        }
    }
    /* The steps before the dissolving report their shares of the phase:
     * at scale 10 they took 0.34 s of its 1.1 s (the shared edges 0.19 s),
     * 5.5 s at scale 100, without a sign. */
    stapel__progress(ctx, "summary", 0.06);
    if (n > 0 && !sort_by_group(&refs, n)) {
        free(refs);
        free(cface);
        free(crings);
        free(carea0);
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    }
    stapel__progress(ctx, "summary", 0.09);
    size_t n_groups = 0;
    for (size_t i = 0; i < n; i++)
        n_groups += (i == 0 || !same_group(&refs[i - 1], &refs[i]));
    s->conflicts = calloc(n_groups > 0 ? n_groups : 1, sizeof *s->conflicts);
    size_t *start = malloc((n_groups + 1) * sizeof *start);
    uint32_t *sel = malloc((n + 1) * sizeof *sel);
    stapel__rings *rings = malloc((n_cf + 1) * sizeof *rings);
    group_size *gs = malloc((n_groups + 1) * sizeof *gs);
    size_t *order = malloc((n_groups + 1) * sizeof *order);
    size_t *weight = malloc((n_groups + 1) * sizeof *weight);
    uint32_t *renum = malloc((n_cf + 1) * sizeof *renum), *cface2 = NULL;
    size_t *part_end = NULL, n_parts = 0;
    double *carea = NULL; /* the area of each face in any group, renumbered */
    stapel__shared_edges *shared = NULL;
    if (s->conflicts == NULL || start == NULL || sel == NULL || rings == NULL || gs == NULL ||
        order == NULL || weight == NULL || renum == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    /* Number the faces again by zone (the groups' first keys), then in face
     * order: the faces of a group stay in order, and the faces of one zone,
     * which are all that can share edges in a group, lie together. */
    for (size_t i = 0; i < n; i++) {
        n_parts += i == 0 || refs[i].prov != refs[i - 1].prov || refs[i].nov != refs[i - 1].nov;
        renum[refs[i].face] = (uint32_t)n_parts - 1; /* the zone of the face */
    }
    part_end = calloc(n_parts + 1, sizeof *part_end);
    cface2 = malloc((n_cf + 1) * sizeof *cface2);
    carea = malloc((n_cf + 1) * sizeof *carea);
    if (part_end == NULL || cface2 == NULL || carea == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < n_cf; c++)
        part_end[renum[c] + 1]++;
    for (size_t p = 0; p < n_parts; p++)
        part_end[p + 1] += part_end[p]; /* for now: where part p starts */
    /* The rings and areas of the faces go to their new places here, in
     * face order, not where they are used by group (a cache miss each at
     * scale 100). */
    for (size_t c = 0; c < n_cf; c++) {
        uint32_t k = (uint32_t)part_end[renum[c]]++;
        cface2[k] = cface[c];
        rings[k] = crings[c];
        carea[k] = carea0[c];
        renum[c] = k;
    }
    free(cface);
    cface = cface2;
    cface2 = NULL;
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        sel[i] = renum[refs[i].face];
        if (i > 0 && same_group(&refs[i - 1], &refs[i]))
            continue;
        start[g] = i;
        stapel__conflict *c = &s->conflicts[g];
        const stapel__out_face *f = &s->faces[cface[sel[i]]];
        c->theme_a = refs[i].a;
        c->theme_b = refs[i].b;
        c->verdict = s->verdicts[c->theme_a * T + c->theme_b];
        c->province = f->province;
        c->novex = f->novex;
        g++;
    }
    start[n_groups] = n;
    free(refs);
    refs = NULL;
    for (g = 0; g < n_groups; g++)
        for (size_t k = start[g]; k < start[g + 1]; k++)
            s->conflicts[g].area += carea[sel[k]];
    s->n_conflicts = n_groups;
    /* Every face is in a few groups: find the edges that faces share once,
     * not in each group again. */
    stapel__progress(ctx, "summary", 0.12);
    int threads = stapel__thread_count(s->threads, n_groups);
    if (n_groups > 0) {
        /* linking the shared edges, zone by zone on worker threads: 1.1 s
         * of CPU at scale 100, all on the calling thread before */
        stapel__progress_span(ctx, "summary", 0.12, 0.3);
        st = stapel__shared_edges_make(ctx, rings, n_cf, part_end, n_parts, threads, "summary",
                                       &shared);
        stapel__progress_span(ctx, NULL, 0.0, 1.0);
    }
    if (st != STAPEL_OK)
        goto done;
    stapel__progress(ctx, "summary", 0.3);
    /* Largest groups first, so that no thread is left with a big one at
     * the end while the others wait. Each result goes to its group's slot:
     * the order of work does not change the output. */
    for (g = 0; g < n_groups; g++)
        gs[g] = (group_size){0, 0, start[g + 1] - start[g], g};
    /* The groups of one zone one after the other, while the zone's faces
     * are in the cache: the largest zones first, then the largest groups. */
    for (size_t g0 = 0, z = 0; g0 < n_groups; z++) {
        size_t g1 = g0 + 1, zn = gs[g0].n;
        while (g1 < n_groups && sel_part(part_end, n_parts, sel[start[g1]]) == z)
            zn += gs[g1++].n;
        for (g = g0; g < g1; g++) {
            gs[g].zone = z;
            gs[g].zone_n = zn;
        }
        g0 = g1;
    }
    qsort(gs, n_groups, sizeof *gs, cmp_group_size);
    /* The progress counts the faces dissolved, not the groups: the largest
     * come first, and the first tenth of the groups took 60 % of the time
     * at scale 10 (the progress stood at 0 meanwhile). */
    for (g = 0; g < n_groups; g++) {
        order[g] = gs[g].g;
        weight[g] = gs[g].n;
    }
    dissolve_job job = {s, sel, rings, shared, start, order, s->conflicts};
    stapel__progress_span(ctx, "summary", 0.3, 0.93);
    st = stapel__parallel_for_weighted(ctx, n_groups, s->threads, "summary", dissolve_one, &job,
                                       weight);
    stapel__progress_span(ctx, NULL, 0.0, 1.0);
done:
    stapel__shared_edges_free(shared);
    free(gs);
    free(order);
    free(weight);
    free(start);
    free(sel);
    free(rings);
    free(refs);
    free(cface);
    free(cface2);
    free(carea);
    free(crings);
    free(carea0);
    free(renum);
    free(part_end);
    return st;
}

/* The themes of each face as a bit mask, chunk by chunk on worker threads:
 * the walks over the faces that follow, on one thread, then need not read
 * the claims' ids again (two cache misses per face at scale 100). */
typedef struct mask_job {
    const stapel_stack *s;
    const size_t *claim_theme;
    uint64_t *fmask;
    uint32_t *fzone; /* by face, two: its first two zone ids (UINT32_MAX: none), or
                      * MANY_ZONES first when it has more */
    size_t *chunk_refs, *chunk_cf; /* by chunk: its conflict refs, and faces with any */
} mask_job;

static stapel_status mask_chunk(stapel_ctx *ctx, size_t job, void *user)
{
    (void)ctx;
    const mask_job *j = user;
    size_t n_claims = j->s->in.n_claims, T = j->s->n_themes, n_refs = 0, n_cf = 0;
    size_t i1 = (job + 1) * MASK_CHUNK < j->s->n_faces ? (job + 1) * MASK_CHUNK : j->s->n_faces;
    for (size_t i = job * MASK_CHUNK; i < i1; i++) {
        const stapel__out_face *f = &j->s->faces[i];
        uint64_t m = 0;
        uint32_t k = 0;
        for (; k < f->n_ids && f->ids[k] < n_claims; k++)
            m |= (uint64_t)1 << j->claim_theme[f->ids[k]];
        j->fmask[i] = m;
        uint32_t nz = f->n_ids - k;
        j->fzone[2 * i] = nz > 2 ? MANY_ZONES : nz > 0 ? f->ids[k] : UINT32_MAX;
        j->fzone[2 * i + 1] = nz == 2 ? f->ids[k + 1] : UINT32_MAX;
        if (!pair_grouped(f->verdict))
            continue;
        size_t n0 = n_refs;
        for (uint64_t ma = m; ma != 0; ma &= ma - 1) {
            size_t a = (size_t)__builtin_ctzll(ma);
            for (uint64_t mb = ma & (ma - 1); mb != 0; mb &= mb - 1)
                n_refs += pair_grouped(j->s->verdicts[a * T + (size_t)__builtin_ctzll(mb)]);
        }
        n_cf += n_refs > n0;
    }
    j->chunk_refs[job] = n_refs;
    j->chunk_cf[job] = n_cf;
    return STAPEL_OK;
}

stapel_status stapel__summarize(stapel_ctx *ctx, stapel_stack *s)
{
    stapel__progress(ctx, "summary", 0.0);
    /* The theme rank of each claim, in a small array: both walks over the
     * faces look it up for every claim of every face. */
    size_t *claim_theme = malloc((s->in.n_claims + 1) * sizeof *claim_theme);
    if (claim_theme == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->in.n_claims; i++)
        claim_theme[i] = s->theme_rank[s->in.items[i].group];
    /* With more than 64 themes the walks read the ids themselves. */
    uint64_t *fmask = NULL;
    uint32_t *fzone = NULL;
    size_t *chunk_refs = NULL, *chunk_cf = NULL;
    stapel_status st = STAPEL_OK;
    if (s->n_themes <= 64 && s->n_faces > 0) {
        size_t n_chunks = (s->n_faces + MASK_CHUNK - 1) / MASK_CHUNK;
        fmask = malloc(s->n_faces * sizeof *fmask);
        fzone = malloc(2 * s->n_faces * sizeof *fzone);
        chunk_refs = malloc(n_chunks * sizeof *chunk_refs);
        chunk_cf = malloc(n_chunks * sizeof *chunk_cf);
        if (fmask == NULL || fzone == NULL || chunk_refs == NULL || chunk_cf == NULL) {
            free(fmask);
            free(fzone);
            free(chunk_refs);
            free(chunk_cf);
            free(claim_theme);
            return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        }
        mask_job mj = {s, claim_theme, fmask, fzone, chunk_refs, chunk_cf};
        st = stapel__parallel_for(ctx, (s->n_faces + MASK_CHUNK - 1) / MASK_CHUNK, s->threads, NULL,
                                  mask_chunk, &mj);
    }
    if (st == STAPEL_OK)
        st = conflicts_make(ctx, s, claim_theme, fmask, chunk_refs, chunk_cf);
    if (st == STAPEL_OK)
        st = zones_summarize(ctx, s, claim_theme, fmask, fzone);
    free(fmask);
    free(fzone);
    free(chunk_refs);
    free(chunk_cf);
    free(claim_theme);
    stapel__progress(ctx, "summary", 1.0);
    return st;
}

/* ---- reading the tables back ------------------------------------------------- */

static double get_real(OGRFeatureH f, OGRFeatureDefnH d, const char *name)
{
    int i = OGR_FD_GetFieldIndex(d, name);
    return i >= 0 ? OGR_F_GetFieldAsDouble(f, i) : 0.0;
}

static char *get_str(OGRFeatureH f, OGRFeatureDefnH d, const char *name)
{
    int i = OGR_FD_GetFieldIndex(d, name);
    return stapel__strdup(i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsString(f, i)
                                                                       : "");
}

/* Fails, naming the first, when the table lacks one of the fields: a
 * column removed or renamed (in QGIS, say) would read as zeros. */
static stapel_status check_fields(stapel_ctx *ctx, const char *path, OGRLayerH l,
                                  const char *const *names)
{
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    for (const char *const *n = names; *n != NULL; n++)
        if (OGR_FD_GetFieldIndex(d, *n) < 0)
            return stapel__fail(ctx, STAPEL_EDATA,
                                "%s: table %s has no field '%s'; is it a stack GeoPackage "
                                "written by 'stapel stack'?",
                                path, OGR_L_GetName(l), *n);
    return STAPEL_OK;
}

stapel_status stapel_summary_read(stapel_ctx *ctx, stapel_summary **out, const char *path)
{
    STAPEL__ENTER_OUT(ctx, out);
    GDALDatasetH ds = NULL;
    stapel_summary *sm = calloc(1, sizeof *sm);
    if (sm == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
    stapel__gdal_push(ctx);
    stapel_status st = stapel__dataset_open(ctx, &ds, path);
    if (st != STAPEL_OK)
        goto done;
    OGRLayerH lz = GDALDatasetGetLayerByName(ds, "zone_summary");
    OGRLayerH lt = GDALDatasetGetLayerByName(ds, "zone_theme");
    if (lz == NULL || lt == NULL) {
        st = stapel__fail(ctx, STAPEL_EDATA,
                          "%s: no %s; is it a stack GeoPackage written by 'stapel stack'?", path,
                          lz == NULL && lt == NULL ? "zone_summary and zone_theme tables"
                          : lz == NULL             ? "zone_summary table"
                                                   : "zone_theme table");
        goto done;
    }
    static const char *const zone_fields[] = {
        "zone_type",   "zone",        "area_m2",    "claimed_m2",  "claim_ratio",
        "stacked2_m2", "stacked3_m2", "max_themes", "conflict_m2", "kans_m2",
        NULL,
    };
    static const char *const theme_fields[] = {
        "zone_type", "zone", "theme", "area_m2", "share", "overlap_m2", NULL,
    };
    if ((st = check_fields(ctx, path, lz, zone_fields)) != STAPEL_OK ||
        (st = check_fields(ctx, path, lt, theme_fields)) != STAPEL_OK)
        goto done;
    int64_t nz = OGR_L_GetFeatureCount(lz, 1), nt = OGR_L_GetFeatureCount(lt, 1);
    sm->zones = calloc((size_t)(nz > 0 ? nz : 1), sizeof *sm->zones);
    sm->themes = calloc((size_t)(nt > 0 ? nt : 1), sizeof *sm->themes);
    if (sm->zones == NULL || sm->themes == NULL) {
        st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
        goto done;
    }
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(lz);
    OGRFeatureH f;
    int64_t n_read = 0;
    OGR_L_ResetReading(lz);
    while ((f = stapel__next_feature(ctx, lz, path, &n_read, &st)) != NULL &&
           sm->n_zones < (size_t)nz) {
        stapel_zone_row *z = &sm->zones[sm->n_zones++];
        z->zone_type = get_str(f, d, "zone_type");
        z->zone = get_str(f, d, "zone");
        z->area_m2 = get_real(f, d, "area_m2");
        z->claimed_m2 = get_real(f, d, "claimed_m2");
        z->claim_ratio = get_real(f, d, "claim_ratio");
        z->stacked2_m2 = get_real(f, d, "stacked2_m2");
        z->stacked3_m2 = get_real(f, d, "stacked3_m2");
        z->max_themes = (int)get_real(f, d, "max_themes");
        z->conflict_m2 = get_real(f, d, "conflict_m2");
        z->kans_m2 = get_real(f, d, "kans_m2");
        OGR_F_Destroy(f);
        if (z->zone_type == NULL || z->zone == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (f != NULL)
        OGR_F_Destroy(f);
    if (st != STAPEL_OK)
        goto done;
    d = OGR_L_GetLayerDefn(lt);
    n_read = 0;
    OGR_L_ResetReading(lt);
    while ((f = stapel__next_feature(ctx, lt, path, &n_read, &st)) != NULL &&
           sm->n_themes < (size_t)nt) {
        stapel_theme_row *t = &sm->themes[sm->n_themes++];
        t->zone_type = get_str(f, d, "zone_type");
        t->zone = get_str(f, d, "zone");
        t->theme = get_str(f, d, "theme");
        t->area_m2 = get_real(f, d, "area_m2");
        t->share = get_real(f, d, "share");
        t->overlap_m2 = get_real(f, d, "overlap_m2");
        OGR_F_Destroy(f);
        if (t->zone_type == NULL || t->zone == NULL || t->theme == NULL) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (f != NULL)
        OGR_F_Destroy(f);
done:
    if (ds != NULL)
        GDALClose(ds);
    stapel__gdal_pop();
    if (st != STAPEL_OK) {
        stapel_summary_free(sm);
        return st;
    }
    *out = sm;
    return STAPEL_OK;
}
