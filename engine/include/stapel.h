/*
 * stapel.h - the public interface of libstapel.
 *
 * libstapel turns polygon claim layers into a stack map: a planar partition of
 * the claimed land into faces, each labelled with the claims, themes and zones
 * (provinces, NOVEX areas) that cover it.
 *
 * Conventions used throughout this header:
 *  - Every name starts with stapel_ or STAPEL_. No GDAL, GEOS or PROJ type
 *    appears here; only the C standard headers are included.
 *  - A fallible function returns a stapel_status and hands its results back
 *    through out-parameters, which come first. On failure *out is NULL, nothing
 *    leaks, and stapel_ctx_message() says what failed, naming the file, layer
 *    and feature where there is one. Every call clears the message on entry.
 *  - Ownership is stated once per function in the same words: "Caller owns
 *    *out; free with stapel_x_free()." or "Borrowed; valid until x is freed."
 *    Every free function accepts NULL.
 *  - NULL: a call that returns a stapel_status refuses a NULL context, out
 *    pointer or handle it needs (job, stack) with STAPEL_EINVAL and does
 *    nothing else; unless the context itself is NULL, its message says which
 *    ("no job given (NULL)"). A call that returns no status does nothing on a
 *    NULL handle and returns 0, false, NULL or a struct of zeros (as its own
 *    comment says); stapel_ctx_message(NULL) returns "no context".
 *  - The library never prints, never exits and never aborts. Warnings and
 *    progress reach the caller through the callbacks of the context; so do
 *    GDAL's warnings during a call, on whatever thread: a handler the
 *    program gave GDAL sees none of them. It changes no signal handler,
 *    environment variable or global GDAL setting; but GDAL sets LC_NUMERIC
 *    to "C" whenever it opens a GeoPackage (docs/LIBRARY.md).
 *  - A context is used by one thread at a time. Use one context per thread.
 */
#ifndef STAPEL_H
#define STAPEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STAPEL_VERSION "0.1.0"

/* Outcome of a fallible call. */
typedef enum stapel_status {
    STAPEL_OK = 0,
    STAPEL_EINVAL,     /* a bad argument or option value */
    STAPEL_ENOMEM,     /* out of memory */
    STAPEL_EIO,        /* a file or database could not be opened, read or written */
    STAPEL_EDATA,      /* input is unusable: wrong geometry type, bad coordinates, missing field */
    STAPEL_ECRS,       /* a missing or unusable coordinate reference system */
    STAPEL_EGEOS,      /* the geometry engine failed */
    STAPEL_EEXISTS,    /* the output exists and overwriting was not allowed */
    STAPEL_ECANCELLED, /* stapel_ctx_cancel() was called */
} stapel_status;

/* A short English name of a status ("out of memory"). Static storage. */
const char *stapel_status_str(stapel_status status);

/* The library version, "MAJOR.MINOR.PATCH". Static storage. */
const char *stapel_version(void);

/* The versions of the libraries stapel runs on, e.g. "GDAL 3.6.2, GEOS 3.11.1,
 * PROJ 9.1.1". Static storage. */
const char *stapel_library_versions(void);

/* ------------------------------------------------------------------------ */
/* Context                                                                  */
/* ------------------------------------------------------------------------ */

/* One GEOS context, one PROJ context, the last error message and the
 * callbacks. Not thread-safe: use one per thread. */
typedef struct stapel_ctx stapel_ctx;

typedef enum stapel_log_level {
    STAPEL_LOG_INFO,
    STAPEL_LOG_WARN,
} stapel_log_level;

/* Receives a warning or an informational line (no trailing newline). */
typedef void (*stapel_log_fn)(void *user, stapel_log_level level, const char *message);

/* Receives the progress of a long call: a phase name and the fraction of that
 * phase done, from 0.0 to 1.0, rising within a phase and 1.0 at its end. The
 * phases, in this order: stapel_stack_build() "reading", "overlay",
 * "merging" (faces cut by tile borders), "summary"; stapel_stack_build_write()
 * those and "writing" (the stack layer is written during "summary", which
 * counts it and ends when it is in; "writing" counts the other layers and
 * the flush); stapel_stack_write() "writing"; stapel_stack_merge()
 * "reading", "merging", "summary" (and "writing" for _merge_write);
 * stapel_render() "rendering". Both callbacks are called on the thread that
 * made the call, also when the work runs on worker threads. A callback may
 * call stapel_ctx_cancel() on ctx, and anything on another context, but no
 * other function on ctx: the call in progress keeps its state there. */
typedef void (*stapel_progress_fn)(void *user, const char *phase, double fraction);

/* Create a context. Caller owns *out; free with stapel_ctx_free(). */
stapel_status stapel_ctx_new(stapel_ctx **out);

/* Free a context. Accepts NULL. */
void stapel_ctx_free(stapel_ctx *ctx);

/* The message of the last failed call, or "" when the last call succeeded.
 * Borrowed; valid until the next call on ctx. */
const char *stapel_ctx_message(const stapel_ctx *ctx);

/* Route warnings and informational lines to fn (NULL drops them). */
void stapel_ctx_set_log(stapel_ctx *ctx, stapel_log_fn fn, void *user);

/* Route progress to fn (NULL drops it). */
void stapel_ctx_set_progress(stapel_ctx *ctx, stapel_progress_fn fn, void *user);

/* Ask a running call on ctx to stop soon with STAPEL_ECANCELLED. Safe to call
 * from a signal handler or another thread. The request stays until
 * stapel_ctx_cancel_clear(): called between calls, it stops the next one, and
 * every later call on ctx that can be cancelled (reading, building, merging,
 * rendering) stops too. No call clears it by itself, so a cancel that comes
 * just before a call still stops that call. One that comes after a call's
 * last check (at the end of its last phase) does not stop it: the call
 * returns its result, and the request stops the next call. */
void stapel_ctx_cancel(stapel_ctx *ctx);

/* Withdraw a cancel request, so that the next call on ctx runs: for a host
 * that keeps one context for more work after the user cancelled. Call it
 * once the cancelled call has returned; called while a call runs, it may or
 * may not stop that call. Safe to call from a signal handler or another
 * thread. */
void stapel_ctx_cancel_clear(stapel_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Sources                                                                  */
/* ------------------------------------------------------------------------ */

/* A source is anything GDAL opens: a path, a "PG:..." connection string, a
 * "postgresql://" (or "postgres://") URI, a URL ("https://...") or another
 * driver's connection string ("WFS:https://...", "OAPIF:https://...").
 * "SOURCE|layername=NAME" picks one layer of a dataset with several. */

/* Whether source names a file (or directory) rather than a database, a
 * service (a URL, or a connection string with a GDAL driver's prefix that
 * names no file on disk) or a GDAL virtual path ("/vsi..."). */
bool stapel_source_is_file(const char *source);

/* source as messages show it, with a password (of a database, or a URL's
 * "user:password@") written as ***;
 * free() it. NULL when out of memory. */
char *stapel_source_shown(const char *source);

/* One attribute field of a layer. */
typedef struct stapel_field_info {
    char *name;
    char *type; /* OGR's name of the type: "String", "Integer64", "Real", ... */
} stapel_field_info;

/* What one layer holds. */
typedef struct stapel_layer_info {
    char *name;
    /* Why the layer cannot be read, or NULL. Set only when a whole source
     * is described (a database lists tables the user may not read): then
     * the fields below are empty. A layer named in the source fails the call
     * instead. */
    char *unreadable;
    char *geometry_type; /* "Polygon", "Multi Polygon", "Unknown (any)", ... */
    /* The names of its geometry columns when it has several (a PostGIS table
     * can; the rest describes the first, and stack refuses the layer
     * unless one is picked); 0 and NULL otherwise. */
    size_t n_geometry_columns;
    char **geometry_columns;
    int64_t n_features;
    int epsg;        /* EPSG code of the CRS, 0 when there is none or no code */
    char *crs_name;  /* name of the CRS; NULL when the layer has no CRS */
    bool crs_local;  /* a local (engineering) CRS, such as a CAD export's
                        LOCAL_CS["Unknown"]: stack takes it for none */
    /* PostGIS: the SRIDs of the rows (the first 3, in increasing order) when
     * the geometry column declares none and its rows have several, which GDAL
     * reads all in the CRS above (stack refuses such a layer); or, when the
     * layer has no CRS, the one SRID of its rows for which GDAL finds none
     * (n_srids 1): 0, or one the database's spatial_ref_sys does not hold.
     * n_srids is 0 otherwise. */
    int n_srids;
    int srids[3];
    /* The bounds of the geometries read (not the extent the driver states,
     * which a GeoPackage never narrows), in the layer's own CRS and axis
     * order; has_extent is false for a layer without geometries. */
    bool has_extent;
    double xmin, ymin, xmax, ymax;
    size_t n_fields;
    stapel_field_info *fields;
    int64_t n_null;    /* features without a geometry */
    int64_t n_empty;   /* features with an empty geometry */
    int64_t n_invalid; /* non-empty geometries that GEOS finds invalid */
    int64_t n_unreadable; /* geometries the driver could not decode (damaged; a
                           * GeoJSON geometry or CSV WKT text that GDAL gives
                           * as none or as a point made of its bytes), curves
                           * that close no ring, and the records a shapefile's
                           * .shx and .dbf count apart: stack refuses them */
    /* Geometries of points or lines only, which stack refuses in a layer of
     * claims or zones, and collections holding points or lines beside
     * polygons, of which stack keeps only the polygons; each with the first
     * such feature's id (-1: none). */
    int64_t n_not_polygonal, first_not_polygonal;
    int64_t n_mixed, first_mixed;
    /* A shapefile's .prj file that holds no CRS GDAL can read (empty or
     * damaged), so crs_name is NULL although the file is there; else NULL.
     * stack refuses such a layer unless told the CRS. */
    char *crs_file_unread;
    /* A CSV read as a table (no column named WKT) whose text column of this
     * name holds WKT, as QGIS exports it under 'wkt_geom'; else NULL. stack
     * refuses it until the column is renamed WKT. */
    char *wkt_column;
    /* A shapefile's text encoding as GDAL reads its .dbf ("UTF-8", "CP1252",
     * "ISO-8859-1"): the one its .cpg file names (encoding_from_cpg), else
     * the code page in the .dbf's header; "" when neither names one, or the
     * .cpg names one GDAL does not know ('System', 'ANSI 1252'; then
     * encoding_from_cpg is set): GDAL then passes the bytes on as they are,
     * and stack reads a zone name that is no UTF-8 as Windows-1252. NULL for
     * other formats. */
    char *encoding;
    bool encoding_from_cpg;
    /* A shapefile read without its .dbf, the table of its fields: GDAL
     * reads the shapes alone, with no fields and no encoding. */
    bool dbf_missing;
} stapel_layer_info;

/* What one source holds. */
typedef struct stapel_source_info {
    char *source; /* as given, with a password written as *** */
    char *driver; /* GDAL's short driver name: "GPKG", "ESRI Shapefile", ... */
    size_t n_layers;
    stapel_layer_info *layers;
} stapel_source_info;

/* Open a source and describe every layer, checking each geometry with GEOS.
 * Caller owns *out; free with stapel_source_info_free(). */
stapel_status stapel_info_read(stapel_ctx *ctx, stapel_source_info **out, const char *source);

/* Free a source description. Accepts NULL. */
void stapel_source_info_free(stapel_source_info *info);

/* ------------------------------------------------------------------------ */
/* Rules                                                                    */
/* ------------------------------------------------------------------------ */

/* What two themes meeting on one face mean, from harmless to worst. A face
 * with one theme is "single"; a pair that no rule covers is "unrated". */
typedef enum stapel_verdict {
    STAPEL_VERDICT_SINGLE = 0,
    STAPEL_VERDICT_COMPATIBLE,
    STAPEL_VERDICT_UNRATED,
    STAPEL_VERDICT_CONDITIONAL, /* combinable under conditions: a kans */
    STAPEL_VERDICT_CONFLICT,    /* a spanningspunt */
} stapel_verdict;

/* "single", "compatible", "unrated", "conditional" or "conflict"; "invalid"
 * for a value that is none of the verdicts (never NULL). Static storage. */
const char *stapel_verdict_name(stapel_verdict verdict);

/* A theme x theme matrix of verdicts. */
typedef struct stapel_rules stapel_rules;

/* Read rules from a CSV file with the header theme_a,theme_b,verdict and an
 * optional note column, through GDAL's CSV driver. With path NULL, the
 * built-in NOVEX matrix (docs/rules/novex-default.csv) is used. A path
 * that cannot be read, is not a regular file (a directory: GDAL would read
 * each CSV in it) or holds more than one table is refused with STAPEL_EIO. An
 * unknown verdict, a missing column or a pair given twice with different
 * verdicts is refused with STAPEL_EDATA and a message naming the file and line.
 * Text that is not UTF-8 is read as Windows-1252, with a warning. Blank
 * lines and comments (a line whose first field starts with '#') are skipped.
 * Caller owns *out; free with stapel_rules_free(). */
stapel_status stapel_rules_read(stapel_ctx *ctx, stapel_rules **out, const char *path);

/* The built-in NOVEX matrix as the CSV text that path NULL reads (that of
 * docs/rules/novex-default.csv, which meson install also puts in
 * <datadir>/stapel/rules/): the start of a rules file that adds pairs to
 * it, as a rules file replaces the built-in rules. Never NULL. Static
 * storage. */
const char *stapel_rules_builtin_csv(void);

/* Free rules. Accepts NULL. */
void stapel_rules_free(stapel_rules *rules);

/* Number of rules; 0 for NULL. */
size_t stapel_rules_count(const stapel_rules *rules);

/* The verdict for two themes in either order (STAPEL_VERDICT_UNRATED when no
 * rule covers them, as for rules NULL or a theme NULL; STAPEL_VERDICT_SINGLE
 * when a equals b). *note, if not NULL, receives the rule's note or NULL;
 * borrowed, valid until rules is freed. */
stapel_verdict stapel_rules_verdict(const stapel_rules *rules, const char *a, const char *b,
                                    const char **note);

/* Every theme named by a rule, for checking them against the layers: theme i
 * of count (0 for NULL), NULL when i >= count. Borrowed; valid until rules
 * is freed. */
size_t stapel_rules_theme_count(const stapel_rules *rules);
const char *stapel_rules_theme(const stapel_rules *rules, size_t i);

/* ------------------------------------------------------------------------ */
/* Stack                                                                    */
/* ------------------------------------------------------------------------ */

/* Options of a stack job. Initialise with STAPEL_STACK_OPTS_INIT. */
typedef struct stapel_stack_opts {
    const char *t_srs;    /* working and output CRS, in metres; NULL means "EPSG:28992";
                             white space around it is dropped (also in s_srs) */
    const char *s_srs;    /* CRS assumed for sources that have none; NULL: none */
    double grid;          /* snap grid in CRS units; 0 means 0.001 (1 mm) */
    int threads;          /* worker threads; 0 means one per core */
    size_t tile_vertices; /* target vertices per tile; 0 means the default */
    /* With shard_count > 0: compute only shard i of N (1 <= i <= N); both
     * 0: the whole stack. Every shard reads the same inputs: only shard 1 logs the
     * warnings about them (the rules, the sources and their features),
     * another one line of how many it leaves to shard 1. That count
     * takes in the warnings stapel_rules_read() gave of the rules set
     * with stapel_job_set_rules(): a caller of another shard reads them
     * without a log (stapel_ctx_set_log(ctx, NULL, NULL)), as the CLI
     * does. */
    int shard_index;
    int shard_count;
} stapel_stack_opts;

#define STAPEL_STACK_OPTS_INIT {NULL, NULL, 0.0, 0, 0, 0, 0}

/* The inputs of a stack: claim layers, zone layers and options. */
typedef struct stapel_job stapel_job;

typedef enum stapel_zone_kind {
    STAPEL_ZONE_PROVINCE,
    STAPEL_ZONE_NOVEX,
} stapel_zone_kind;

/* Create an empty job. opts may be NULL for the defaults; it is copied.
 * Negative threads, a negative or non-finite grid and a shard that is not
 * 1 <= i <= N (nor 0/0) are refused with STAPEL_EINVAL. So is a grid too fine or too
 * coarse for t_srs, with the bounds in the message: every coordinate the
 * build accepts (the CRS's area of use grown by ten times its size on every
 * side; the Earth for a CRS without one) must lie within 2^40 grid cells of
 * the origin, and the area of use must be at least 1000 cells across. For
 * EPSG:28992 that is 3.6e-6 m to 330 m. (A t_srs that is unknown or not in
 * metres is refused by stapel_stack_build().)
 * Caller owns *out; free with stapel_job_free(). */
stapel_status stapel_job_new(stapel_ctx *ctx, stapel_job **out, const stapel_stack_opts *opts);

/* Free a job. Accepts NULL. */
void stapel_job_free(stapel_job *job);

/* At most this many different themes in one run (several layers may share
 * a theme). */
#define STAPEL_MAX_THEMES 64

/* Add a claim layer of the given theme. where is an OGR SQL attribute filter
 * or NULL. The strings are copied. Nothing is read until stapel_stack_build().
 * A theme is one or more ASCII letters, digits, '_' and '-', whatever locale
 * the program has set (it is joined with '+' in a face's themes and written
 * "theme:fid" in its claim_ids); any other theme, a NULL or empty source and
 * a theme beyond the first STAPEL_MAX_THEMES different ones are refused
 * (STAPEL_EINVAL). */
stapel_status stapel_job_add_layer(stapel_ctx *ctx, stapel_job *job, const char *theme,
                                   const char *source, const char *where);

/* Set the zone layer of one kind, named by the text field name_field.
 * The strings are copied. */
stapel_status stapel_job_set_zones(stapel_ctx *ctx, stapel_job *job, stapel_zone_kind kind,
                                   const char *source, const char *name_field);

/* Use these rules for the verdicts (copied). Without a call, the built-in
 * NOVEX matrix applies. */
stapel_status stapel_job_set_rules(stapel_ctx *ctx, stapel_job *job, const stapel_rules *rules);

/* The computed stack: faces with their labels, and the zones as read. */
typedef struct stapel_stack stapel_stack;

/* Counts of a finished build. */
typedef struct stapel_stack_stats {
    int64_t n_claims;   /* claims kept after repair (features with an areal part) */
    int64_t n_read;     /* features read from the claim layers */
    int64_t n_repaired; /* claims whose geometry MakeValid repaired */
    int64_t n_empty;    /* features skipped because they were empty or had no area */
    int64_t n_faces;    /* faces of the stack (covered by at least one claim) */
    int64_t n_tiles;    /* tiles the overlay ran on */
    double seconds_read;    /* wall time of each phase */
    double seconds_overlay;
    double seconds_merge;
    double seconds_summary;
    double seconds_write_faces; /* stapel_stack_build_write, _merge_write: the stack layer and its index,
                                 * written while the summary is computed */
    double seconds_write_rest;  /* stapel_stack_build_write, _merge_write: the other layers and tables */
    /* Under the built-in rules (also those of a merged run that used
     * them), the theme pairs that meet and that they lack (also with the
     * themes spelled as they spell them), which the warning of unrated
     * pairs says to add to a copy of them; 0 under other rules
     * (stapel_job_set_rules()). */
    int64_t n_builtin_unrated;
} stapel_stack_stats;

/* One face of the stack. All strings are borrowed from the stack. */
typedef struct stapel_face {
    int n_claims;
    int n_themes;
    const char *themes;    /* distinct themes, sorted, joined with '+' */
    const char *claim_ids; /* JSON list of "theme:source_fid" */
    const char *province;  /* NULL outside every province */
    const char *novex;     /* NOVEX names sorted and joined with ';', or NULL */
    stapel_verdict verdict;     /* the worst verdict among the face's theme pairs */
    const char *conflict_pairs; /* JSON list of "a\u00d7b" pairs with verdict conflict */
    double area_m2;
} stapel_face;

/* Read every layer of job, repair and reproject it, and compute the stack.
 * Warnings (repairs, empty layers) go to the log callback; progress to the
 * progress callback. Caller owns *out; free with stapel_stack_free(). A
 * stack (also a merged one) keeps nothing of ctx or job, which may be freed
 * first; other contexts, on other threads at once, may write it and read
 * its counts and summary (but see stapel_stack_face()). */
stapel_status stapel_stack_build(stapel_ctx *ctx, stapel_stack **out, const stapel_job *job);

/* stapel_stack_build() and stapel_stack_write() in one call, faster: the
 * faces are written while the conflicts and summaries are computed. An
 * existing path is refused once the sources are opened and checked, before
 * any is read, unless flags has STAPEL_WRITE_OVERWRITE (so a mistake in a
 * source or filter is told first; and, as in stapel_stack_write(), one that appears
 * during the run is kept: STAPEL_EEXISTS). A path that is the file of one of
 * the job's sources (a claim or zone source, any file of a shapefile, also
 * of one in a folder source, the rules file) is refused with STAPEL_EINVAL,
 * with STAPEL_WRITE_OVERWRITE too,
 * at the same point. Caller owns *out (the built stack, for its
 * counts); free with stapel_stack_free(). */
stapel_status stapel_stack_build_write(stapel_ctx *ctx, stapel_stack **out, const stapel_job *job,
                                       const char *path, unsigned flags);

/* Join the GeoPackages that the shards of one run wrote ("stapel stack
 * --shard i/N", every i once) into one stack: faces cut by shard borders are
 * merged and the conflicts and summaries recomputed. Parts whose run_info
 * differs in any row but shard (docs/FORMAT.md), shards given twice or
 * missing, a shard row that is not i/N with 1 <= i <= N, shards of older
 * versions, a grid that stapel_job_new() would refuse for the run's CRS and
 * damaged stack rows (no geometry, a claim_ids that is not a list of claims)
 * are refused with STAPEL_EDATA and a message naming the
 * files (and the feature). The parts are read side by side, one per
 * thread (and checked before, one after another), each open only while it
 * is read, so any number of them can be merged.
 * Progress goes to the progress callback in the phases "reading",
 * "merging" and "summary"; the stats give their times (seconds_read,
 * seconds_merge, seconds_summary). Caller owns *out; free with
 * stapel_stack_free(). */
stapel_status stapel_stack_merge(stapel_ctx *ctx, stapel_stack **out, const char *const *parts,
                                 size_t n_parts);

/* stapel_stack_merge() and stapel_stack_write() in one call, faster: the
 * output is checked once the parts are known to be one whole run (a mistake
 * in them is told first), before any face is read, and the stack layer is
 * written while the conflicts and summaries are computed. A path that is one
 * of the parts is refused with STAPEL_EINVAL, with STAPEL_WRITE_OVERWRITE too
 * (the sources named in the parts' run_info are not checked; the tool's merge
 * checks them). threads: worker threads (0: one per core; negative is
 * STAPEL_EINVAL); the output is the same for any number. The stats also give
 * seconds_write_faces and seconds_write_rest. */
stapel_status stapel_stack_merge_write(stapel_ctx *ctx, stapel_stack **out,
                                       const char *const *parts, size_t n_parts, int threads,
                                       const char *path, unsigned flags);

/* One row of a GeoPackage's run_info table (docs/FORMAT.md). */
typedef struct stapel_run_row {
    char *key;
    char *value;
} stapel_run_row;

/* How the stack in a GeoPackage was made: its run_info table. */
typedef struct stapel_run_info {
    size_t n_rows;
    stapel_run_row *rows; /* in table order */
    int shard_index;      /* from the shard row: shard i of N; 0 and 0 without one */
    int shard_count;
} stapel_run_info;

/* Read the run_info table of a GeoPackage that stapel wrote. A file without
 * one, and a shard row that is not i/N (digits only, 1 <= i <= N), are
 * refused with STAPEL_EDATA. Caller owns *out; free with
 * stapel_run_info_free(). */
stapel_status stapel_run_info_read(stapel_ctx *ctx, stapel_run_info **out, const char *path);

/* Free a run_info. Accepts NULL. */
void stapel_run_info_free(stapel_run_info *info);

/* Parse "i/N", each a run of decimal digits with nothing around them (no
 * spaces, no sign), into *index and *count, with 1 <= i <= N <= INT_MAX.
 * False (the outputs untouched) for anything else, and when any of the
 * three is NULL. */
bool stapel_shard_parse(const char *text, int *index, int *count);

/* Whether two zone names are the same text: equal byte for byte, or equal in
 * Unicode's composed form (NFC). Some sources (files made on a Mac, some
 * exports) store 'Fryslân' as 'a' followed by a combining circumflex (NFD),
 * while a name typed in a terminal has the one character 'â'; both look the
 * same. Case and spaces count. False when either is NULL. */
bool stapel_zone_name_equal(const char *a, const char *b);

/* Whether two zone names differ only in case or in spaces around them
 * ('flevoland ' and 'Flevoland', 'FRYSLÂN' and 'Fryslân'): the same text
 * after trimming spaces and tabs, in Unicode's case-folded composed form
 * (stapel_zone_name_rank() 1 to 3; a "did you mean" hint ranks further,
 * stapel_zone_hint). A name that is not UTF-8 is near only to the same
 * bytes. False when either is NULL. */
bool stapel_zone_name_near(const char *a, const char *b);

/* How summary and render read a --zone value want: "province:NAME",
 * "novex:NAME" or "total:NAME" (the prefix in any case) names only the zone
 * of that type called NAME, always, so that a zone whose own name starts so
 * is reached as "province:province:X"; any other value names the zones of
 * every type called so. Returns the type ("province", "novex" or "total")
 * with *name set to what follows its prefix, or NULL with *name set to want.
 * NULL, *name untouched, when want or name is NULL. */
const char *stapel_zone_want_type(const char *want, const char **name);

/* Whether --zone want, as stapel_zone_want_type() reads it, names the zone
 * of type zone_type ("province", "novex" or "total") called zone, its
 * accents written either way (stapel_zone_name_equal()). False when any of
 * them is NULL. */
bool stapel_zone_wanted(const char *want, const char *zone_type, const char *zone);

/* How near a name asked for comes to a zone's name, for a "did you mean"
 * hint; the lower the nearer: 1 the same (stapel_zone_name_equal()), 2 the
 * same but for spaces and tabs around either, 3 and for case (beyond ASCII
 * too), 4 and for accents ('Fryslan', 'Fryslân'), 5 and 6 one or two
 * letters added, dropped or changed besides (at most one in three of the
 * name asked for: 'Utrect' is near 'Utrecht', 'Flevo' not 'Flevoland'); 0
 * not near, also when either is NULL or a name is not UTF-8. */
int stapel_zone_name_rank(const char *want, const char *zone);

/* The zone a --zone value that names none most likely meant, as summary and
 * render tell it: offer it each zone with stapel_zone_hint_offer(), which
 * keeps the nearest. A "TYPE:" want looks at the zones of that type and
 * at zones named so whole first; only when none is near, at the zones of
 * the other types ('novex:Flevoland' is province Flevoland). Of zones as
 * near, one a "TYPE:" want names by its type before one named so whole,
 * then the one whose name comes first byte for byte, then province, NOVEX
 * area, total. Start from {0}; free with stapel_zone_hint_free(). */
typedef struct stapel_zone_hint {
    int rank;         /* how near the zone kept is (stapel_zone_name_rank()); 0: none kept */
    const char *type; /* its type: "province", "novex" or "total" */
    char *name;       /* its name, as offered */
    bool typed;       /* --zone takes it as "TYPE:NAME": its own name starts with a type's
                       * prefix, or it is the total row or a zone of another type asked
                       * for with a "TYPE:" ('novex:Flevoland' gets 'province:Flevoland') */
    bool has_area;    /* as offered: false for a zone none of whose features had area */
    bool whole;       /* near to the whole --zone value, its "TYPE:" taken as part of a name */
    bool other_type;  /* of another type than the --zone value's "TYPE:" names */
    bool shared;      /* a zone of another type offered has the very same name: the bare
                       * name names both, so --zone needs "TYPE:NAME" where one is meant */
} stapel_zone_hint;

/* Offer the zone of type zone_type ("province", "novex" or "total") called
 * zone as a hint for --zone want, read as stapel_zone_want_type() reads it:
 * a "TYPE:" want is ranked by the rest against the zones of that type, and
 * whole against every zone (for a zone whose own name starts so). False
 * when out of memory (the hint is kept as it was). */
bool stapel_zone_hint_offer(stapel_zone_hint *hint, const char *want, const char *zone_type,
                            const char *zone, bool has_area);

/* What the hint kept differs in, to follow "did you mean ...?":
 * "(case and spaces count)", "(1 letter off)", "(another type; 1 letter
 * off)" and so on; "" when none is kept. */
const char *stapel_zone_hint_note(const stapel_zone_hint *hint);

/* Free what a hint holds and empty it. Accepts NULL. */
void stapel_zone_hint_free(stapel_zone_hint *hint);

/* The zones a --zone value may name, as summary and render list them when
 * it names none: each zone once (its type, and its name byte for byte),
 * listed by type (province, NOVEX area, total), then by name byte for
 * byte, each as --zone takes it to name that zone alone. */
typedef struct stapel_zone_list stapel_zone_list;

/* An empty list; NULL when out of memory. Caller owns the list; free with
 * stapel_zone_list_free(). */
stapel_zone_list *stapel_zone_list_new(void);

/* Put the zone of type zone_type ("province", "novex" or "total") called
 * zone on list; has_area false for a zone none of whose features had
 * area. A zone on the list already keeps what it was put there with. False
 * when out of memory (the list as it was); true, and nothing put on it,
 * when any of them is NULL or the type none of the three. */
bool stapel_zone_list_add(stapel_zone_list *list, const char *zone_type, const char *zone,
                          bool has_area);

/* The number of zones on list; 0 for NULL. */
size_t stapel_zone_list_count(const stapel_zone_list *list);

/* The name of the i-th zone of list, in the list's order, and in
 * *zone_type its type, in *has_area what it was put on the list with, and
 * in *typed whether --zone takes it as "TYPE:NAME": its own name starts
 * with a type's prefix, or a zone of another type on the list has the same
 * name (stapel_zone_name_equal()), which the bare name names too. Each
 * output may be NULL. NULL when i is not below the count. Borrowed; valid
 * until list is changed or freed. */
const char *stapel_zone_list_get(stapel_zone_list *list, size_t i, const char **zone_type,
                                 bool *has_area, bool *typed);

/* Offer each zone of list to hint for --zone want
 * (stapel_zone_hint_offer()); the zone kept is shared, and typed, when a
 * zone of another type on the list has its name, whatever the rank the
 * hint gave that one. False when out of memory (the hint as near as it
 * got). */
bool stapel_zone_list_hint(stapel_zone_list *list, const char *want, stapel_zone_hint *hint);

/* The zones of list as summary and render list them, each as --zone takes
 * it and with its kind: "'X' (province), 'novex:Y' (NOVEX, no area),
 * 'total:total'", quoted, as a name may hold ", "; a name that holds a "'"
 * in double quotes, as a shell takes it ("it's" (province), with a
 * backslash before each '"', '\\', '$' and '`' in it), or, when it holds a
 * '!' too, which an interactive bash expands within double quotes, in
 * single quotes with each "'" as '\'' ('it'\''s!' (province)); "none (no
 * zone layers)" for an empty list. At most max_bytes bytes (SIZE_MAX: no limit), the
 * first zone always: the zones that do not fit are counted at the end
 * (", and 5 more (stapel summary lists every zone)"), none is cut in its
 * name. Caller frees with free(); NULL when out of memory. */
char *stapel_zone_list_text(stapel_zone_list *list, size_t max_bytes);

/* The zone a hint kept, as the lists write it ("'province:X' (province)");
 * "" when it kept none. Caller frees with free(); NULL when out of memory. */
char *stapel_zone_hint_text(const stapel_zone_hint *hint);

/* A --zone value as the lists write a zone's name ("'X'", "\"it's\"" for
 * a value with a "'", "'it'\\''s!'" for one with a '!' too), so that a
 * message that echoes it shows where it ends. Caller frees with free(); NULL when out of memory. */
char *stapel_zone_quote_text(const char *zone);

/* Free a list. Accepts NULL. */
void stapel_zone_list_free(stapel_zone_list *list);

/* Free a stack. Accepts NULL. */
void stapel_stack_free(stapel_stack *stack);

/* Counts of the build; all zero for NULL. */
stapel_stack_stats stapel_stack_get_stats(const stapel_stack *stack);

/* Number of faces; 0 for NULL. */
size_t stapel_stack_face_count(const stapel_stack *stack);

/* Face i (0 <= i < count); for a NULL stack or i >= count, a face of
 * zeros and NULL strings. The strings are borrowed. claim_ids is made on
 * demand into a buffer of the stack: it stays valid until the next call of
 * stapel_stack_face on the same stack (so do not call it on one stack from two
 * threads at once); the other strings stay valid until the stack is freed. */
stapel_face stapel_stack_face(const stapel_stack *stack, size_t i);

/* Flags of stapel_stack_write(), stapel_stack_build_write() and
 * stapel_stack_merge_write(). A bit this version does not know is
 * STAPEL_EINVAL, before any work. */
enum {
    STAPEL_WRITE_OVERWRITE = 1 << 0, /* replace an existing file */
};

/* Write the stack to a GeoPackage at path: layers stack, provinces and novex.
 * The file is written to a temporary file next to path and renamed into place,
 * so a failed or cancelled write leaves any previous file untouched and no
 * partial file behind. Without STAPEL_WRITE_OVERWRITE an existing path is
 * refused with STAPEL_EEXISTS, before any work; so is a file that appears at
 * path while the file is written (the rename is atomic and never replaces
 * it), and the temporary file is removed. As in stapel_stack_build_write(),
 * an empty path or a directory is STAPEL_EINVAL and a path whose directory
 * does not exist or cannot be written is STAPEL_EIO, before any work. */
stapel_status stapel_stack_write(stapel_ctx *ctx, const stapel_stack *stack, const char *path,
                                 unsigned flags);

/* ------------------------------------------------------------------------ */
/* Summaries                                                                */
/* ------------------------------------------------------------------------ */

/* One zone: a province, a NOVEX area, or the total. Areas in m². */
typedef struct stapel_zone_row {
    char *zone_type; /* "province", "novex" or "total" */
    char *zone;      /* the zone's name; "total" for the total row */
    double area_m2;  /* the zone's own area. The total row covers the union of the
                      * provinces, or all claimed land when there are no provinces */
    double claimed_m2;  /* sum over themes of each theme's union area in the zone */
    double claim_ratio; /* claimed_m2 / area_m2; above 1 the themes cannot lie side by side */
    double stacked2_m2; /* area with 2 or more themes */
    double stacked3_m2; /* area with 3 or more themes */
    int max_themes;
    double conflict_m2; /* area of faces whose verdict is conflict */
    double kans_m2;     /* area of faces with 2+ themes whose verdict is conditional or compatible */
} stapel_zone_row;

/* One theme in one zone. */
typedef struct stapel_theme_row {
    char *zone_type;
    char *zone;
    char *theme;
    double area_m2;    /* union area of the theme in the zone */
    double share;      /* area_m2 / the zone's area */
    double overlap_m2; /* the part of area_m2 shared with another theme */
} stapel_theme_row;

/* The summary tables of a stack. */
typedef struct stapel_summary {
    size_t n_zones;
    stapel_zone_row *zones; /* provinces, then NOVEX areas, each by name, then total */
    size_t n_themes;
    stapel_theme_row *themes; /* in the order of zones, themes sorted */
} stapel_summary;

/* The summary of a built stack (NULL for NULL). Borrowed; valid until stack
 * is freed. */
const stapel_summary *stapel_stack_summary(const stapel_stack *stack);

/* Read the summary tables (zone_summary, zone_theme) of a GeoPackage that
 * stapel wrote. Caller owns *out; free with stapel_summary_free(). */
stapel_status stapel_summary_read(stapel_ctx *ctx, stapel_summary **out, const char *path);

/* Free a summary read with stapel_summary_read(). Accepts NULL. */
void stapel_summary_free(stapel_summary *summary);

/* ------------------------------------------------------------------------ */
/* Render                                                                   */
/* ------------------------------------------------------------------------ */

/* Options of stapel_render(). Initialise with STAPEL_RENDER_OPTS_INIT. */
typedef struct stapel_render_opts {
    const char *field; /* what colours the faces: "n_themes" (NULL), "n_claims" or "verdict" */
    const char *zone;  /* crop to this province or NOVEX area and grey out the rest; NULL: all.
                        * A name that is both a province and a NOVEX area is STAPEL_EINVAL
                        * unless written "province:NAME" or "novex:NAME" (such a prefix
                        * always names the type: stapel_zone_want_type()). A ';' in the
                        * name is taken as ',', as the stack writes it */
    int width;         /* picture width: pixels for PNG (0: 2000), points for SVG and PDF (0: 842);
                        * 300 to 20000, else STAPEL_EINVAL; so is a PNG of more than
                        * 300 million pixels and a PDF page of more than 14400 points
                        * on a side */
    const char *title; /* NULL: "Stapelkaart ruimteclaims \u2014 <zone or provinces>" */
    const char *date;  /* the date in the footer; NULL: today, local time. Written
                        * YYYY-MM-DD, it also dates a PDF (that day, 00:00 UTC),
                        * which cairo dates now otherwise */
    bool overwrite;    /* replace an existing picture; without it STAPEL_EEXISTS */
} stapel_render_opts;

#define STAPEL_RENDER_OPTS_INIT {NULL, NULL, 0, NULL, NULL, false}

/* Where the parts of a rendered picture lie, in its own units (pixels for
 * PNG, points for SVG and PDF), origin top left, y down. */
typedef struct stapel_render_layout {
    int width, height;                  /* the picture */
    double map_x, map_y, map_w, map_h;  /* the map frame */
    double xmin, ymin, xmax, ymax;      /* the EPSG:28992 extent the frame shows */
    double legend_x, legend_y, legend_w, legend_h; /* the legend box */
    int64_t n_faces;                    /* faces drawn */
    size_t n_labels;                    /* zone labels placed: one per zone shown,
                                         * none for one shown only as a sliver at
                                         * the map's edge, or shown in part with
                                         * no spot clear of the labels before it,
                                         * nor for a neighbour of the zone of
                                         * --zone with no spot wholly outside it */
} stapel_render_layout;

/* Draw the stack map of gpkg, a GeoPackage written by stapel_stack_write(),
 * to path as PNG, SVG or PDF, chosen by the extension of path. The map keeps
 * the aspect ratio of the data in EPSG:28992 (other CRSs are transformed) and
 * has the faces coloured by class, zone outlines with labels, a legend with
 * the area of each class, a scale bar, a north arrow and a footer naming the
 * source layers, the CRS and the date. Faces are read and drawn one at a
 * time, so memory does not grow with their number.
 * The picture is written to a temporary file next to path and renamed into
 * place: a failure leaves no partial picture behind. Without overwrite, an
 * existing path is STAPEL_EEXISTS, once gpkg, the zone and the width are
 * found good and before anything is drawn (a mistake in them is told
 * first) or, when the file appeared while the map was drawn, at the end
 * (that file is kept). As for
 * stapel_stack_build_write(), a path that is a directory or the file gpkg
 * itself (also with overwrite) is STAPEL_EINVAL and one whose directory does
 * not exist or cannot be written is STAPEL_EIO, before any work. An unknown
 * field, zone (the message lists the valid names, and the one nearest the
 * name asked for, as stapel_zone_hint tells) or
 * extension is STAPEL_EINVAL; a dataset without a stack layer, or whose stack layer has
 * no geometry, other geometries than polygons or not the field to colour by,
 * is STAPEL_EDATA. layout, if not NULL,
 * receives where the map and the legend lie; it is caller-allocated and only
 * filled on success. */
stapel_status stapel_render(stapel_ctx *ctx, stapel_render_layout *layout, const char *gpkg,
                            const char *path, const stapel_render_opts *opts);

#ifdef __cplusplus
}
#endif

#endif /* STAPEL_H */
