/*
 * fixture.h - helpers for the engine tests: a scratch directory, small
 * GeoJSON files written from WKT-like rectangle lists, in EPSG:28992 unless
 * said otherwise, and the cmocka group setup that gives every test one
 * context. Header-only so each test executable stays self-contained.
 */
#ifndef STAPEL_TEST_FIXTURE_H
#define STAPEL_TEST_FIXTURE_H

#include "stapel.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef STAPEL_TEST_SCRATCH
#define STAPEL_TEST_SCRATCH "."
#endif

/* Write a GeoJSON file at dir/name holding one feature per WKT-free
 * coordinate ring list. Each feature is given as a JSON geometry string and an
 * optional "naam" property. Returns the path (static buffer per call slot). */
static inline const char *fixture_geojson(const char *name, const char *crs_urn, int n,
                                   const char *const *geoms, const char *const *names)
{
    static char paths[16][512];
    static int slot = 0;
    char *path = paths[slot++ % 16];
    snprintf(path, 512, "%s/%s", STAPEL_TEST_SCRATCH, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return NULL;
    fprintf(f, "{\"type\":\"FeatureCollection\",");
    if (crs_urn != NULL)
        fprintf(f, "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"%s\"}},", crs_urn);
    fprintf(f, "\"features\":[");
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s{\"type\":\"Feature\",\"id\":%d,\"properties\":{\"naam\":%s%s%s},"
                   "\"geometry\":%s}",
                i > 0 ? "," : "", i + 1, names != NULL ? "\"" : "",
                names != NULL ? names[i] : "null", names != NULL ? "\"" : "", geoms[i]);
    }
    fprintf(f, "]}\n");
    fclose(f);
    return path;
}

/* cmocka group setup and teardown: one context in *state for every test. */
static inline int fixture_ctx_setup(void **state)
{
    stapel_ctx *ctx = NULL;
    if (stapel_ctx_new(&ctx) != STAPEL_OK)
        return -1;
    *state = ctx;
    return 0;
}

static inline int fixture_ctx_teardown(void **state)
{
    stapel_ctx_free(*state);
    return 0;
}

#define RD_URN "urn:ogc:def:crs:EPSG::28992"

/* A rectangle polygon as GeoJSON geometry text, offset into the RD domain
 * (x + 150000, y + 450000). Static buffer per call slot. */
static inline const char *rect(double x0, double y0, double x1, double y1)
{
    static char bufs[32][256];
    static int slot = 0;
    char *b = bufs[slot++ % 32];
    double X0 = x0 + 150000, Y0 = y0 + 450000, X1 = x1 + 150000, Y1 = y1 + 450000;
    snprintf(b, 256,
             "{\"type\":\"Polygon\",\"coordinates\":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}",
             X0, Y0, X1, Y0, X1, Y1, X0, Y1, X0, Y0);
    return b;
}

/* Whether s[0..n) is whole UTF-8: every lead byte with all its
 * continuation bytes, none cut at the end. */
static inline bool fixture_whole_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        if ((c & 0xC0) == 0x80 || i + len > n)
            return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

#endif
