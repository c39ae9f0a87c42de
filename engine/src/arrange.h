/*
 * arrange.h - the planar arrangement of one tile on the integer snap grid.
 *
 * Input: oriented integer rings (interior on the left of every directed
 * edge) belonging to owners. Output: the faces of the arrangement, each with
 * the owners that cover it. Everything is exact integer arithmetic on grid
 * units; see arrange.c for the method.
 */
#ifndef STAPEL_ARRANGE_H
#define STAPEL_ARRANGE_H

#include "internal.h"

#include <stdint.h>

/* Exact products of grid coordinates need 128 bits (GCC and Clang have them). */
__extension__ typedef __int128 stapel__i128;

/* A point on the grid, in grid units (1 unit = the grid size). */
typedef struct stapel__ipt {
    int64_t x, y;
} stapel__ipt;

/* A directed segment of an owner's boundary: the owner's interior lies on its
 * left. */
typedef struct stapel__iseg {
    stapel__ipt a, b;
    uint32_t owner;
} stapel__iseg;

/* An owner id with this bit covers a face wherever its winding number is
 * not zero, not only where it is positive: a ring given once, either way
 * round, that may cross itself (both loops of a bowtie are inside). */
#define STAPEL__NONZERO 0x80000000u

/* The segments of one tile. */
typedef struct stapel__segs {
    stapel__iseg *v;
    size_t n, cap;
} stapel__segs;

bool stapel__segs_push(stapel__segs *s, stapel__ipt a, stapel__ipt b, uint32_t owner);

/* Append the part of a closed ring that matters inside the rectangle
 * [x0,x1]x[y0,y1]: parts outside are replaced by their projection onto the
 * rectangle's border, which keeps the winding number of every point inside
 * the rectangle. Crossings with the border lines are computed from the
 * original segment, so two tiles sharing a border compute the same points.
 * pts holds n points; the ring is closed implicitly (pts[n-1] may equal pts[0]).
 * blk (may be NULL) holds the boxes of blocks of the point array pts lies
 * in, as stapel__clip_blocks() makes them, and base is the index of pts[0]
 * in that array: the clip then passes a block of points on one side of the
 * rectangle in one step. The segments are the same with or without. */
bool stapel__clip_ring(stapel__segs *out, const stapel__ipt *pts, size_t n, uint32_t owner,
                       int64_t x0, int64_t y0, int64_t x1, int64_t y1, const int64_t *blk,
                       size_t base);

/* Points a block of the clip's boxes covers. */
#define STAPEL__CLIP_BLOCK 64

/* The boxes (xmin, ymin, xmax, ymax) of the blocks of STAPEL__CLIP_BLOCK
 * points of pts[0 .. n) (the last block may be shorter), for
 * stapel__clip_ring(); NULL when out of memory. Caller frees. */
int64_t *stapel__clip_blocks(const stapel__ipt *pts, size_t n);

/* One face of an arrangement: its outer ring and its holes in grid units,
 * ring k holding pts[ring_end[k-1] .. ring_end[k]) with the closing point. */
typedef struct stapel__aface {
    stapel__ipt *pts;
    uint32_t *ring_end;
    uint32_t n_rings;
    bool pinched;     /* a ring touches itself at a node: not a valid OGC polygon as is */
    uint32_t *owners; /* sorted owners covering the face */
    uint32_t n_owners;
    int64_t xmin, ymin, xmax, ymax; /* of the outer ring */
} stapel__aface;

/* Build the arrangement of segs (consumed: the array is reordered) and return
 * the faces covered by at least one owner for which keep(owner) is true.
 * With noded, the caller promises that segments meet only at shared ends
 * (faces of one stack with aligned seams), and snap rounding is skipped.
 * Caller owns *faces and their contents; free with stapel__afaces_free(). */
stapel_status stapel__arrange(stapel_ctx *ctx, stapel__segs *segs, bool noded,
                              bool (*keep)(uint32_t owner, void *user), void *user,
                              stapel__aface **faces, size_t *n_faces);

void stapel__afaces_free(stapel__aface *faces, size_t n);

#endif /* STAPEL_ARRANGE_H */
