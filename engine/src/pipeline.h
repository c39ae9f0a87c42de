/*
 * pipeline.h - the data that flows through a stack build, shared by read.c,
 * tile.c, overlay.c, stack.c and write.c.
 *
 * Items are the polygons of the arrangement: claims first, then provinces,
 * then NOVEX areas, all in one index space. A face's label is the sorted list
 * of item indices whose polygons cover it, so claims and zones label faces in
 * one pass. Items are valid, lie on the snap grid, and have their envelopes
 * cached (stapel__geom_warm) before any worker thread reads them.
 */
#ifndef STAPEL_PIPELINE_H
#define STAPEL_PIPELINE_H

#include "geom.h"
#include "rules.h"

#include <stdint.h>

struct stapel__ipt;   /* arrange.h */
struct stapel__aface; /* arrange.h */

typedef struct stapel__item {
    GEOSGeometry *geom;
    double xmin, ymin, xmax, ymax;
    /* The rings in grid units, oriented with the interior on the left
     * (shells counter-clockwise, holes clockwise); ring k holds points
     * pts[ring_end[k-1] .. ring_end[k]), closing point included. */
    struct stapel__ipt *pts;
    uint32_t *ring_end;
    uint32_t n_rings;
    uint32_t group; /* claims: index of the claim layer; zones: index of the zone name */
    int64_t fid;    /* feature id in the source */
} stapel__item;

/* One claim layer of a job, with what reading it found. */
typedef struct stapel__layer {
    char *theme;
    char *source;
    char *where;
    int64_t n_read;     /* features read */
    int64_t n_repaired; /* repaired: invalid on the grid, or with repeated vertices */
    int64_t n_repeated; /* of those, ones whose only fault was repeated vertices */
    int64_t first_repaired; /* the first repaired */
    int64_t n_empty;    /* skipped: empty, or no area left after repair */
    int64_t first_empty; /* the first empty (or null) one as read */
    int64_t n_lost;     /* of those, invalid ones with no area left after repair */
    int64_t first_lost; /* the first of them */
    int64_t n_degenerate;     /* of those, polygons whose outer rings all enclose no area */
    int64_t first_degenerate; /* the first of them */
    int64_t n_thin;           /* of those, valid as stored but without area on the grid */
    int64_t first_thin;       /* the first of them */
    int64_t n_dropped;  /* collections whose points or lines were left out */
    int64_t first_dropped; /* the first of them */
    int64_t n_z_open;      /* with rings closed in x and y but not in height (z) */
    int64_t first_z_open;  /* the first of them */
    bool outside_use;      /* wholly outside the working CRS's area of use */
    double ext[4];      /* its features' extent in the working CRS (x0 > x1: none) */
    char layer_name[128]; /* the layer's name in its source, for messages */
    /* outside_use: why, when it can be told (its coordinates look like
     * degrees, or it lies where its own CRS is meant for, so that the
     * working CRS is the one that does not fit) */
    char outside_why[512];
    /* Not outside_use, yet some features lie outside the area of use with
     * coordinates that look like degrees: the warning about them, after
     * "SOURCE: layer NAME: " ("" when none do). */
    char lonlat_features[1024];
    /* A non-ASCII --where kept none, and the layer's text is not UTF-8 or
     * looks like UTF-8 read as another encoding: why, after "the layer adds
     * nothing: " ("" when neither). */
    char where_why[640];
} stapel__layer;

/* A zone layer of a job. */
typedef struct stapel__zone_src {
    char *source;
    char *field;
} stapel__zone_src;

struct stapel_job {
    stapel_stack_opts opts; /* strings below own the copies */
    stapel_rules *rules;    /* NULL: the built-in NOVEX matrix */
    char *t_srs;
    char *s_srs;
    stapel__layer *layers;
    size_t n_layers, cap_layers;
    size_t n_themes; /* different themes among the layers */
    stapel__zone_src zones[2]; /* indexed by stapel_zone_kind */
};

/* Everything read from a job's sources, in the working CRS. */
typedef struct stapel__input {
    stapel__item *items; /* claims, then provinces, then NOVEX areas */
    size_t n_items, cap_items;
    size_t n_claims;
    size_t n_provinces;
    size_t n_novex;
    char **zone_names; /* indexed by a zone item's group */
    size_t n_zone_names, cap_zone_names;
    stapel__strmap zone_index; /* zone name -> its index in zone_names */
    /* Per zone item (index minus n_claims): the area of the union of the
     * features of its name when it is the first of several (see
     * zone_parts_join in read.c), else NaN. NULL when never joined. */
    double *zone_union_area;
    /* By kind (STAPEL_ZONE_*): the zones none of whose features has area
     * (null, empty, or collapsed on the grid), as name indices. They have
     * no items, yet a row of area 0 in the summary, so that they are listed. */
    uint32_t *bare_zones[2];
    size_t n_bare_zones[2];
    char *crs_wkt; /* the working CRS, for writing */
    double grid;   /* the snap grid in CRS units */
} stapel__input;

/* Polygons on the grid as oriented rings: every shell (counter-clockwise) is
 * followed by its holes (clockwise), so the interior lies on the left of
 * every edge and a new polygon starts at each counter-clockwise ring. Ring k
 * holds pts[ring_end[k-1] .. ring_end[k]), closing point included. This is
 * how items and faces are kept: 16 bytes a vertex, against about three times
 * that for a GEOS polygon. */
typedef struct stapel__rings {
    const struct stapel__ipt *pts;
    const uint32_t *ring_end;
    uint32_t n_rings;
} stapel__rings;

/* The rings of a Polygon or MultiPolygon g on the grid, oriented as above.
 * Caller owns *pts and *ring_end (free()). Returns false when out of memory. */
bool stapel__geom_rings(stapel_ctx *ctx, const GEOSGeometry *g, double grid,
                        struct stapel__ipt **pts, uint32_t **ring_end, uint32_t *n_rings);

/* Fill it->pts, ring_end and n_rings from it->geom (coordinates on the grid).
 * Returns false when out of memory. */
bool stapel__item_rings(stapel_ctx *ctx, stapel__item *it, double grid);

/* The area of oriented rings in CRS units, exact up to the final rounding
 * (computed in 128-bit integers). */
double stapel__rings_area(stapel__rings r, double grid);

/* Read the claim and zone layers of job into in (zero-initialised by the
 * caller), on the job's grid (default: 1 mm). The working CRS must measure in
 * metres (STAPEL_EINVAL otherwise). With out_path, the output is checked
 * (stapel__output_check) once every source is open, before any is read.
 * Updates the layer counters of job. On failure in holds what was read so
 * far; free it with stapel__input_clear(). */
stapel_status stapel__input_read(stapel_ctx *ctx, stapel__input *in, stapel_job *job,
                                 const char *out_path, unsigned out_flags);

/* Refuse (STAPEL_EINVAL) a snap grid that is not a positive number, or too
 * fine or too coarse for the working CRS t_srs; see check_grid in read.c.
 * A t_srs that is unknown or not in metres passes: stapel__input_read
 * refuses it, with its own message. */
stapel_status stapel__grid_check(stapel_ctx *ctx, const char *t_srs, double grid);

/* Free what an input holds, with the geometries; h destroys them. */
void stapel__input_clear(GEOSContextHandle_t h, stapel__input *in);

/* A face of the arrangement, before attributes are derived. */
typedef struct stapel__face {
    struct stapel__ipt *pts; /* rings in grid units, as stapel__aface */
    uint32_t *ring_end;
    uint32_t n_rings;
    bool pinched;
    uint32_t *ids;      /* sorted item indices covering the face */
    uint32_t n_ids;
    bool on_seam;       /* touches an inner tile border */
} stapel__face;

/* A rectangle of the plane and the items whose envelopes meet it. */
typedef struct stapel__tile {
    double xmin, ymin, xmax, ymax;
    uint32_t *items;
    size_t n_items, cap_items;
    size_t n_vertices; /* sampled estimate of the vertices inside */
} stapel__tile;

typedef struct stapel__tiling {
    stapel__tile *tiles;
    size_t n_tiles;
    double xmin, ymin, xmax, ymax; /* the domain: all items lie inside */
    /* Per item (n_blk of them, or none), the boxes of blocks of its points
     * (stapel__clip_blocks) when it has many points and meets several
     * tiles, else NULL: each of its tiles passes the blocks outside it in
     * one step. */
    int64_t **blk;
    size_t n_blk;
    /* Per item (n_blk of them, or none): the first earlier item with the
     * very same rings (the same points in the same order), or UINT32_MAX.
     * A tile clips such a copy by copying the clip of the first. */
    uint32_t *same_as;
} stapel__tiling;

/* Split the extent of the items into tiles of about target vertices each,
 * with borders on whole multiples of 1000 grid cells, and list each tile's
 * items. Caller owns *t; free with stapel__tiling_clear(). The hashing and
 * block boxes of the items run on up to threads threads; the tiling is the
 * same for any number. */
stapel_status stapel__tiling_make(stapel_ctx *ctx, stapel__tiling *t, const stapel__input *in,
                                  double grid, size_t target, int threads);

void stapel__tiling_clear(stapel__tiling *t);

/* A fingerprint of the tiling: its domain and every tile's rectangle, in
 * tile order, the same on every machine. Shards of one run have the same
 * tiling (it depends on the data and the tile size alone), so run_info
 * records it and a merge compares it. */
uint64_t stapel__tiling_hash(const stapel__tiling *t);

/* Overlay one tile: clip, node on the grid, polygonize and label. Appends the
 * faces covered by at least one claim to *faces (caller owns them; free with
 * stapel__faces_free()). */
stapel_status stapel__tile_overlay(stapel_ctx *ctx, const stapel__input *in,
                                   const stapel__tiling *t, size_t tile, double grid,
                                   stapel__face **faces, size_t *n_faces);

void stapel__faces_free(stapel__face *faces, size_t n);

/* Give the seam faces of all tiles the vertices their neighbours have on the
 * shared borders, so that faces on both sides share edges exactly. faces[t]
 * holds n_faces[t] faces of tile t. On up to threads threads (tiles at a
 * time); the same faces for any number. */
stapel_status stapel__seams_align(stapel_ctx *ctx, const stapel__tiling *tl, stapel__face **faces,
                                  const size_t *n_faces, double grid, int threads);

/* The same for the face lists of the shards of a merge (faces[t] of shard t),
 * which knows no tiling: every edge of a seam face that runs along a grid
 * line gets the vertices the other shards' seam faces have on it. */
stapel_status stapel__seams_align_parts(stapel_ctx *ctx, stapel__face **faces,
                                        const size_t *n_faces, size_t n_parts);

/* Make a pinched face (a ring that touches itself) a valid MultiPolygon of
 * oriented rings, splitting the ring at its pinch points; no vertex moves.
 * Faces that are not pinched are left as they are. */
stapel_status stapel__face_unpinch(stapel_ctx *ctx, stapel__face *f, double grid);

/* A face of the finished stack, with its attributes. */
typedef struct stapel__out_face {
    struct stapel__ipt *pts; /* oriented rings, see stapel__rings */
    uint32_t *ring_end;
    uint32_t n_rings;
    uint32_t n_ids;
    uint32_t *ids; /* the label: sorted item indices */
    int n_claims, n_themes;
    /* Interned in the stack's string pool: faces share them. The claim ids
     * are made when asked for (stapel__face_claim_ids). */
    const char *themes, *province, *novex, *conflict_pairs;
    stapel_verdict verdict;
    double area;
    bool seam; /* made from faces on tile seams: a shard merge must look at it */
} stapel__out_face;

/* One row of the conflicts layer: a theme pair in one zone combination. */
typedef struct stapel__conflict {
    struct stapel__ipt *pts; /* the dissolved faces: oriented rings, see stapel__rings */
    uint32_t *ring_end;
    uint32_t n_rings;
    size_t theme_a, theme_b; /* ranks, a < b */
    stapel_verdict verdict;
    const char *province; /* borrowed from a face, or NULL */
    const char *novex;
    double area;
} stapel__conflict;

/* A row of the run_info table (the public stapel_run_row). */
typedef stapel_run_row stapel__kv;

/* Append a row with copies of key and value to *rows (*n of them); false
 * when out of memory. */
bool stapel__kv_push(stapel__kv **rows, size_t *n, const char *key, const char *value);

/* Free n rows and their strings. Accepts NULL. */
void stapel__kv_free(stapel__kv *rows, size_t n);

struct stapel_stack {
    GEOSContextHandle_t geos; /* frees the geometries */
    stapel__input in;         /* claim geometries are freed after the build */
    char **layer_themes;
    char **layer_sources;
    size_t n_layers;
    stapel__out_face *faces;
    size_t n_faces, cap_faces;
    struct stapel__strpool *pool; /* the faces' attribute strings */
    stapel__buf *face_claims;     /* claim ids of the face last asked for */
    char *zone_fields[2]; /* name fields of the zone layers, by stapel_zone_kind */
    char **themes;        /* distinct themes, sorted */
    size_t n_themes;
    size_t *theme_rank;   /* per claim layer: index into themes */
    /* Per claim layer: which of its theme's layers it is (1, 2, ...); the
     * claim ids of a theme's second layer on are "theme[k]:fid". */
    uint32_t *layer_nth;
    stapel_verdict *verdicts; /* n_themes x n_themes */
    const char **notes;       /* n_themes x n_themes, borrowed from rules */
    stapel_rules *rules;
    stapel__conflict *conflicts;
    size_t n_conflicts;
    stapel_summary *summary;
    int shard_index, shard_count; /* 0/0 for a whole run */
    int threads;                  /* as asked for; 0: one per core */
    bool merged;                  /* joined from shards */
    size_t n_parts;               /* merged: the number of shards joined */
    char *directory; /* the run's working directory (relative sources are relative to it), or
                        NULL: unknown. A merge takes its first part's. */
    /* What identifies the run, as run_info rows after stapel_version and
     * shard: the same in every shard of one run, and what a merge compares.
     * Made by the build; a merge copies them from its first part. */
    stapel__kv *run;
    size_t n_run;
    stapel_stack_stats stats;
};

/* Faces of one tile, or of one shard when merging. */
typedef struct stapel__face_list {
    stapel__face *faces;
    size_t n;
} stapel__face_list;

/* The distinct themes of s's layers and the verdict of each pair, from
 * s->layer_themes and s->rules. */
stapel_status stapel__stack_themes(stapel_ctx *ctx, stapel_stack *s);

/* Turn face lists into the faces of s, merging the faces flagged on_seam
 * with the faces of the same label from the other lists, and derive their
 * attributes. The faces' geometries move into s. */
stapel_status stapel__stack_assemble(stapel_ctx *ctx, stapel_stack *s, size_t n_lists,
                                     stapel__face_list *out);

/* Warn of claimed area outside every province (source names the province
 * layer) when it is 0.1 % of the claimed area or more. */
stapel_status stapel__warn_outside_provinces(stapel_ctx *ctx, const stapel_stack *s,
                                            const char *source);

/* The exact union of faces (oriented rings on the grid that do not
 * overlap), by the integer arrangement; noded as for stapel__arrange (true
 * for the faces of one run, whose edges match vertex for vertex), except
 * that a noded union that does not keep the faces' area, or whose parts
 * touch along an edge (the promise broken), is computed again with snap
 * rounding. The union
 * comes back as the faces of the arrangement (caller owns them; free with
 * stapel__afaces_free()), or, from stapel__dissolve, as one set of oriented
 * rings with every pinched face split (caller owns *pts and *ring_end). */
stapel_status stapel__dissolve_faces(stapel_ctx *ctx, const stapel__rings *faces, size_t n,
                                     bool noded, struct stapel__aface **out, size_t *n_out);
stapel_status stapel__dissolve(stapel_ctx *ctx, const stapel__rings *faces, size_t n,
                               double grid, bool noded, struct stapel__ipt **pts,
                               uint32_t **ring_end, uint32_t *n_rings);

/* For many unions of subsets of one set of faces (the conflicts: every face
 * is in a few of them): the copies of each edge are found once, and
 * stapel__dissolve_subset then does what stapel__dissolve does for
 * faces[sel[0]], faces[sel[1]], ... (sel ascending), with the same result,
 * without looking for them again. The faces come in parts, part p ending
 * before face part_end[p] (the last one at n); copies are looked for within
 * a part, and the faces of a union must lie in one part. faces stay borrowed
 * until the free. threads: how many unions may run at once. *out is NULL
 * (and the status OK) when there are too many edges for 32-bit ids: use
 * stapel__dissolve then. Reports the progress of phase (if not NULL) by
 * the points linked. */
typedef struct stapel__shared_edges stapel__shared_edges;
stapel_status stapel__shared_edges_make(stapel_ctx *ctx, const stapel__rings *faces, size_t n,
                                        const size_t *part_end, size_t n_parts, int threads,
                                        const char *phase, stapel__shared_edges **out);
stapel_status stapel__dissolve_subset(stapel_ctx *ctx, stapel__shared_edges *se,
                                      const uint32_t *sel, size_t n, double grid, bool noded,
                                      struct stapel__ipt **pts, uint32_t **ring_end,
                                      uint32_t *n_rings);
void stapel__shared_edges_free(stapel__shared_edges *se);

/* The claim ids of face f as stapel writes them: a JSON list of "theme:fid"
 * strings, sorted by theme, layer and fid, appended to b. Returns false when
 * out of memory. */
bool stapel__face_claim_ids(const stapel_stack *s, const stapel__out_face *f, stapel__buf *b);

/* The rings of face f. */
static inline stapel__rings stapel__out_rings(const stapel__out_face *f)
{
    stapel__rings r = {f->pts, f->ring_end, f->n_rings};
    return r;
}

/* A job of stapel__parallel_for, run on a worker context. */
typedef stapel_status (*stapel__job_fn)(stapel_ctx *ctx, size_t job, void *user);

/* Run fn for jobs 0..n-1 on up to threads threads (0: one per core); the
 * calling thread works too and reports progress of phase (if not NULL). The
 * first failing job by index sets the message. */
stapel_status stapel__parallel_for(stapel_ctx *ctx, size_t n, int threads, const char *phase,
                                   stapel__job_fn fn, void *user);

/* The same, the progress of phase counting each job by its weight (weight[k]
 * for job k, such as the faces it works on) rather than as one: jobs of very
 * different sizes, the largest first, would otherwise hold the progress near
 * 0 for most of the phase. */
stapel_status stapel__parallel_for_weighted(stapel_ctx *ctx, size_t n, int threads,
                                            const char *phase, stapel__job_fn fn, void *user,
                                            const size_t *weight);

/* Refuse an output path that is empty or a directory, that exists (unless
 * flags has STAPEL_WRITE_OVERWRITE), or whose directory is not writable:
 * before any part is read (merge), once the sources are open and before
 * they are read (stack). */
stapel_status stapel__output_check(stapel_ctx *ctx, const char *path, unsigned flags);

/* STAPEL_EINVAL for flags this version does not know (a host built against
 * a newer stapel.h would otherwise get a write that ignores them). */
stapel_status stapel__flags_check(stapel_ctx *ctx, unsigned flags);

/* Fail with STAPEL_EIO for an output path whose temporary file tmp could
 * not be created, err the errno of that: "cannot create 'path': " and the
 * system's words, and that tmp's directory is on a file system such as
 * /proc when it is. Returns STAPEL_EIO. */
stapel_status stapel__cannot_create(stapel_ctx *ctx, const char *path, const char *tmp, int err);

/* Refuse (STAPEL_EINVAL) an output path that is the file of an input, also
 * with STAPEL_WRITE_OVERWRITE: the output would replace what it is made
 * from. source is a claim or zone source (its file: the part before
 * "|layername="; for a shapefile, any of its .shp .shx .dbf .prj .cpg), the
 * rules file or a part of a merge; what says which, for the message ("the
 * source of layer nature"). A source that is no file on disk, and a path
 * that does not exist, pass. */
stapel_status stapel__output_not_input(stapel_ctx *ctx, const char *path, const char *what,
                                       const char *source);

/* The last step of making a stack s whose faces are made (a build or a
 * merge): its conflicts and summaries (stapel__summarize), and with a path,
 * the GeoPackage written meanwhile (the stack layer on a thread of its own,
 * then the other layers; on failure nothing is left at path). On success
 * *out = s; on failure s is freed. */
stapel_status stapel__stack_finish(stapel_ctx *ctx, stapel_stack *s, const char *path,
                                   unsigned flags, stapel_stack **out);

/* How many threads to use for n jobs. */
int stapel__thread_count(int requested, size_t n_jobs);

/* An output GeoPackage being written, in three steps: open (a temporary file
 * next to path), the stack layer, and the rest (zones, conflicts, tables,
 * styles, spatial index, rename). The steps may run on different threads,
 * one after the other. stapel__out_close(ctx, o, st) ends it with the
 * status st of the steps, and returns st: on a failure it discards the file,
 * and on STAPEL_EIO it adds to the message a full disk or a file size limit
 * that caused it. */
typedef struct stapel__out stapel__out;
stapel_status stapel__out_open(stapel_ctx *ctx, stapel__out **out, const stapel_stack *s,
                               const char *path, unsigned flags);
stapel_status stapel__out_faces(stapel_ctx *ctx, stapel__out *o, const stapel_stack *s);
stapel_status stapel__out_finish(stapel_ctx *ctx, stapel__out *o, const stapel_stack *s);
stapel_status stapel__out_close(stapel_ctx *ctx, stapel__out *o, stapel_status st);

/* The share of the stack layer's rows written so far (0..1); safe to call
 * from another thread while stapel__out_faces runs. */
double stapel__out_progress(stapel__out *o);

/* Start the disk writes of what is already in the temporary file, without
 * waiting for them, so that the flush before the rename has less left to
 * do; safe to call from another thread while stapel__out_faces runs (Linux;
 * elsewhere it does nothing). The file stays open until stapel__out_close():
 * closing it while SQLite writes would drop SQLite's locks on it. */
void stapel__out_writeback(stapel__out *o);

/* Compute the conflicts and the zone summaries of a built stack. */
stapel_status stapel__summarize(stapel_ctx *ctx, stapel_stack *s);

#endif /* STAPEL_PIPELINE_H */
