/*
 * style.c - the colour classes of the stack map: the single table that both
 * the QGIS styles (qml.c) and the renderer (render.c) read.
 *
 * n_themes uses ColorBrewer YlOrRd with 5 classes, exactly as QGIS ships it,
 * because the stack map is about different tasks piling up; n_claims uses
 * ColorBrewer PuBu so that the two maps are not mistaken for each other;
 * verdict uses signal colours, worst first. The last graduated class is open
 * ("5 of meer"): its upper bound is the largest value the integer fields
 * n_claims and n_themes can hold, so that no count falls outside every class
 * (with 9999, a face of 10000 claims was left unstyled in QGIS and grey in
 * the picture).
 */
#include "style.h"

#include <stdint.h>
#include <string.h>

#define OPEN_END INT32_MAX

static const stapel__class themes_classes[] = {
    {"1", 1, 1, NULL, {0xFF, 0xFF, 0xB2, 255}},
    {"2", 2, 2, NULL, {0xFE, 0xCC, 0x5C, 255}},
    {"3", 3, 3, NULL, {0xFD, 0x8D, 0x3C, 255}},
    {"4", 4, 4, NULL, {0xF0, 0x3B, 0x20, 255}},
    {"5 of meer", 5, OPEN_END, NULL, {0xBD, 0x00, 0x26, 255}},
};

static const stapel__class claims_classes[] = {
    {"1", 1, 1, NULL, {0xF1, 0xEE, 0xF6, 255}},
    {"2", 2, 2, NULL, {0xBD, 0xC9, 0xE1, 255}},
    {"3", 3, 3, NULL, {0x74, 0xA9, 0xCF, 255}},
    {"4", 4, 4, NULL, {0x2B, 0x8C, 0xBE, 255}},
    {"5 of meer", 5, OPEN_END, NULL, {0x04, 0x5A, 0x8D, 255}},
};

static const stapel__class verdict_classes[] = {
    {"conflict (spanningspunt)", 0, 0, "conflict", {0xE3, 0x1A, 0x1C, 255}},
    {"voorwaardelijk (kans)", 0, 0, "conditional", {0xFF, 0x7F, 0x00, 255}},
    {"niet beoordeeld", 0, 0, "unrated", {0xBD, 0xBD, 0xBD, 255}},
    {"verenigbaar", 0, 0, "compatible", {0x66, 0xBD, 0x63, 255}},
    {"\xc3\xa9\xc3\xa9n thema", 0, 0, "single", {0xF0, 0xEE, 0xE2, 255}},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const stapel__scheme schemes[] = {
    {"n_themes", "Aantal thema's", true, themes_classes, N_OF(themes_classes)},
    {"n_claims", "Aantal claims", true, claims_classes, N_OF(claims_classes)},
    {"verdict", "Oordeel", false, verdict_classes, N_OF(verdict_classes)},
};

const stapel__line stapel__face_outline = {{0x80, 0x80, 0x80, 255}, 0.1, false};

static const stapel__line zone_lines[] = {
    [STAPEL_ZONE_PROVINCE] = {{0x28, 0x28, 0x28, 255}, 0.6, false},
    [STAPEL_ZONE_NOVEX] = {{0x54, 0x27, 0x8F, 255}, 0.5, true},
};

const stapel__line *stapel__zone_line(stapel_zone_kind kind)
{
    return &zone_lines[kind == STAPEL_ZONE_NOVEX ? STAPEL_ZONE_NOVEX : STAPEL_ZONE_PROVINCE];
}

const stapel__scheme *stapel__scheme_find(const char *field)
{
    if (field == NULL)
        return NULL;
    for (size_t i = 0; i < N_OF(schemes); i++)
        if (strcmp(schemes[i].field, field) == 0)
            return &schemes[i];
    return NULL;
}

const char *stapel__scheme_fields(void)
{
    return "n_themes, n_claims or verdict";
}

int stapel__scheme_class_int(const stapel__scheme *s, long value)
{
    if (!s->graduated)
        return -1;
    for (size_t i = 0; i < s->n_classes; i++)
        if (value >= s->classes[i].lower && value <= s->classes[i].upper)
            return (int)i;
    return -1;
}

int stapel__scheme_class_str(const stapel__scheme *s, const char *value)
{
    if (s->graduated || value == NULL)
        return -1;
    for (size_t i = 0; i < s->n_classes; i++)
        if (strcmp(s->classes[i].value, value) == 0)
            return (int)i;
    return -1;
}

bool stapel__verdict_in_conflicts(const char *verdict)
{
    return strcmp(verdict, "conflict") == 0 || strcmp(verdict, "conditional") == 0;
}
