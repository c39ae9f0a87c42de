/*
 * style.h - the one description of how stapel colours its layers, shared by
 * the QGIS styles written into the GeoPackage (qml.c) and the renderer
 * (render.c), so that the map in QGIS and the picture never disagree.
 *
 * A scheme colours the faces of the stack by one field: graduated classes of
 * an integer field (n_themes, n_claims) or categories of a text field
 * (verdict). Zone layers are drawn as outlines only.
 */
#ifndef STAPEL_STYLE_H
#define STAPEL_STYLE_H

#include "internal.h"

#include <gdal.h>

typedef struct stapel__rgba {
    unsigned char r, g, b, a;
} stapel__rgba;

/* One class of a scheme. */
typedef struct stapel__class {
    const char *label; /* legend label, e.g. "5 of meer" */
    long lower, upper; /* graduated: inclusive bounds of the value */
    const char *value; /* categorized: the field value; NULL for graduated */
    stapel__rgba fill;
} stapel__class;

typedef struct stapel__scheme {
    const char *field; /* the stack field it colours */
    const char *title; /* what the classes mean, for legends ("Aantal thema's") */
    bool graduated;    /* integer ranges; otherwise text categories */
    const stapel__class *classes;
    size_t n_classes;
} stapel__scheme;

/* A line: colour, width in millimetres on paper, dashed or solid. */
typedef struct stapel__line {
    stapel__rgba color;
    double width_mm;
    bool dashed;
} stapel__line;

/* The thin outline of every face of the stack. */
extern const stapel__line stapel__face_outline;

/* The outline of a zone layer, by stapel_zone_kind. */
const stapel__line *stapel__zone_line(stapel_zone_kind kind);

/* The scheme that colours field, or NULL when no scheme does. Static storage. */
const stapel__scheme *stapel__scheme_find(const char *field);

/* The fields a scheme exists for, as "n_themes, n_claims or verdict". Static. */
const char *stapel__scheme_fields(void);

/* The index of the class of an integer value or of a text value, or -1 when
 * no class holds it. */
int stapel__scheme_class_int(const stapel__scheme *s, long value);
int stapel__scheme_class_str(const stapel__scheme *s, const char *value);

/* The verdict classes shown in the conflicts layer: conflict and conditional. */
bool stapel__verdict_in_conflicts(const char *verdict);

/* ---- qml.c: the schemes as QGIS styles ----------------------------------- */

/* Write the table layer_styles into ds, with a default style for each of the
 * layers stack, conflicts, provinces and novex that ds holds (and alternative
 * styles for stack). province_field and novex_field name the label fields of
 * the zone layers (NULL: that layer is not labelled). Runs in a transaction of
 * its own. */
stapel_status stapel__styles_write(stapel_ctx *ctx, GDALDatasetH ds, const char *province_field,
                                   const char *novex_field);

/* The QML document of a graduated or categorized style of a polygon layer on
 * scheme s. With conflicts set, only the conflict classes are styled, half
 * transparent and hatched. Appends to out; false when out of memory. */
bool stapel__qml_scheme(stapel__buf *out, const stapel__scheme *s, bool conflicts);

/* The QML document of an outline-only style of a zone layer, labelled by
 * label_field (NULL: no labels). Appends to out; false when out of memory. */
bool stapel__qml_zone(stapel__buf *out, stapel_zone_kind kind, const char *label_field);

#endif /* STAPEL_STYLE_H */
