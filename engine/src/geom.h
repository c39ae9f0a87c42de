/*
 * geom.h - geometry helpers shared by the stack pipeline: repair, snapping
 * and making geometries safe to share between threads.
 */
#ifndef STAPEL_GEOM_H
#define STAPEL_GEOM_H

#include "internal.h"

/* GEOSisValid_r's answer (1 valid, 0 not, 2 on failure), found without GEOS
 * for a polygon of one ring whose simplicity is certain, and without GEOS's
 * slow test of holes against a long shell for a polygon with many holes
 * that stapel__holes_surely_valid passes. */
char stapel__is_valid(stapel_ctx *ctx, const GEOSGeometry *g);

/* Whether the Polygon or MultiPolygon g, with at least one hole, is
 * certainly valid by tests GEOS answers with an index: its rings meet
 * nowhere, not even at a point; its shells are valid and none lies in
 * another; its holes are valid rings and none lies in another; the first
 * point of each hole lies inside its own shell. GEOS then finds it valid
 * too (no ring touches another, so its interior is connected). False means
 * "not known" (rings that touch, valid or not); only true is an answer. */
bool stapel__holes_surely_valid(stapel_ctx *ctx, const GEOSGeometry *g);

/* Whether the closed ring of m points xy (x, y interleaved, the last equal to
 * the first) is certainly simple: no two edges meet except neighbours at
 * their common corner, decided by orientations whose sign is certain. False
 * means "not known"; only true is an answer. */
bool stapel__ring_surely_simple(const double *xy, size_t m);

/* Make *g (a Polygon or MultiPolygon on the grid, owned) valid. On success *g
 * is a valid Polygon/MultiPolygon on the grid, or NULL when no area is left
 * (the input is consumed). *repaired tells whether *g was invalid. */
stapel_status stapel__repair(stapel_ctx *ctx, GEOSGeometry **g, double grid, bool *repaired);

/* Replace *g (owned) by its polygonal parts as a MultiPolygon, unless it is a
 * Polygon or MultiPolygon already. */
stapel_status stapel__polygonal_only(stapel_ctx *ctx, GEOSGeometry **g);

/* Compute and cache the envelope of g and of every part and ring, so that
 * other threads may read g afterwards: GEOS 3.11 caches envelopes lazily in a
 * mutable field, and two threads filling it at once would race. */
void stapel__geom_warm(stapel_ctx *ctx, const GEOSGeometry *g);

#endif /* STAPEL_GEOM_H */
