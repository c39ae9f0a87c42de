/*
 * qml.c - default QGIS styles inside the output GeoPackage: QML documents
 * generated from the schemes of style.c, stored in the table layer_styles.
 *
 * The table has exactly the columns QGIS creates itself, and each row matches
 * its layer the way QGIS 3.22 looks it up: an empty f_table_schema (NULL makes
 * QGIS ignore the row), the layer name, and the layer's real geometry column. Every QML document states version="3.22.0",
 * so QGIS runs no upgrade step over it, and layerGeometryType 2 (polygon),
 * without which QGIS rejects it. Rows are only written for layers that the
 * dataset holds.
 */
#include "source.h"
#include "style.h"

#include <cpl_string.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define QML_HEAD "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"

/* Append s with the five XML special characters escaped. */
static bool put_xml(stapel__buf *b, const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        bool ok;
        switch (*p) {
        case '&':
            ok = stapel__buf_puts(b, "&amp;");
            break;
        case '<':
            ok = stapel__buf_puts(b, "&lt;");
            break;
        case '>':
            ok = stapel__buf_puts(b, "&gt;");
            break;
        case '"':
            ok = stapel__buf_puts(b, "&quot;");
            break;
        case '\'':
            ok = stapel__buf_puts(b, "&apos;");
            break;
        default:
            ok = stapel__buf_append(b, p, 1);
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

static bool put_option(stapel__buf *b, const char *name, const char *value)
{
    return stapel__buf_printf(b, "      <Option type=\"QString\" name=\"%s\" value=\"%s\"/>\n",
                              name, value);
}

static bool put_rgba(stapel__buf *b, const char *name, stapel__rgba c)
{
    char v[32];
    snprintf(v, sizeof v, "%u,%u,%u,%u", c.r, c.g, c.b, c.a);
    return put_option(b, name, v);
}

/* One SimpleFill symbol layer. style is a Qt brush name ("solid", "no",
 * "b_diagonal"); an outline of width 0 is not drawn. */
static bool put_simple_fill(stapel__buf *b, stapel__rgba fill, const char *style,
                            const stapel__line *outline)
{
    char width[32];
    /* A point, not the decimal comma of a host program's locale. */
    CPLsnprintf(width, sizeof width, "%g", outline != NULL ? outline->width_mm : 0.0);
    const char *outline_style = "no";
    if (outline != NULL)
        outline_style = outline->dashed ? "dash" : "solid";
    stapel__rgba oc = outline != NULL ? outline->color : (stapel__rgba){0, 0, 0, 0};
    return stapel__buf_puts(b, "    <layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" "
                               "pass=\"0\">\n     <Option type=\"Map\">\n") &&
           put_rgba(b, "color", fill) && put_option(b, "joinstyle", "bevel") &&
           put_rgba(b, "outline_color", oc) && put_option(b, "outline_style", outline_style) &&
           put_option(b, "outline_width", width) && put_option(b, "outline_width_unit", "MM") &&
           put_option(b, "style", style) && stapel__buf_puts(b, "     </Option>\n    </layer>\n");
}

static bool put_symbol_open(stapel__buf *b, size_t name)
{
    return stapel__buf_printf(b,
                              "   <symbol type=\"fill\" name=\"%zu\" alpha=\"1\" "
                              "clip_to_extent=\"1\" force_rhr=\"0\">\n",
                              name);
}

/* The fill symbol of class c: solid, or (for the conflicts layer) a half
 * transparent fill under a hatch of the full colour, so that the stack below
 * stays readable. */
static bool put_class_symbol(stapel__buf *b, size_t name, const stapel__class *c, bool conflicts)
{
    if (!put_symbol_open(b, name))
        return false;
    if (conflicts) {
        stapel__rgba veil = c->fill;
        veil.a = 90;
        stapel__line edge = {c->fill, 0.4, false};
        if (!put_simple_fill(b, veil, "solid", &edge) ||
            !put_simple_fill(b, c->fill, "b_diagonal", NULL))
            return false;
    } else if (!put_simple_fill(b, c->fill, "solid", &stapel__face_outline)) {
        return false;
    }
    return stapel__buf_puts(b, "   </symbol>\n");
}

static bool put_tail(stapel__buf *b)
{
    return stapel__buf_puts(b, " <blendMode>0</blendMode>\n"
                               " <featureBlendMode>0</featureBlendMode>\n"
                               " <layerGeometryType>2</layerGeometryType>\n"
                               "</qgis>\n");
}

bool stapel__qml_scheme(stapel__buf *b, const stapel__scheme *s, bool conflicts)
{
    bool ok = stapel__buf_puts(b, QML_HEAD "<qgis version=\"3.22.0\" "
                                           "styleCategories=\"Symbology\">\n");
    if (s->graduated)
        ok = ok && stapel__buf_printf(b,
                                      " <renderer-v2 type=\"graduatedSymbol\" attr=\"%s\" "
                                      "graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" "
                                      "enableorderby=\"0\" forceraster=\"0\" "
                                      "referencescale=\"-1\">\n  <ranges>\n",
                                      s->field);
    else
        ok = ok && stapel__buf_printf(b,
                                      " <renderer-v2 type=\"categorizedSymbol\" attr=\"%s\" "
                                      "symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\" "
                                      "referencescale=\"-1\">\n  <categories>\n",
                                      s->field);
    size_t n = 0;
    for (size_t i = 0; i < s->n_classes && ok; i++) {
        const stapel__class *c = &s->classes[i];
        if (conflicts && (c->value == NULL || !stapel__verdict_in_conflicts(c->value)))
            continue;
        if (s->graduated)
            ok = stapel__buf_printf(b,
                                    "   <range lower=\"%ld\" upper=\"%ld\" symbol=\"%zu\" label=\"",
                                    c->lower, c->upper, n);
        else
            ok = stapel__buf_printf(b, "   <category value=\"%s\" symbol=\"%zu\" label=\"",
                                    c->value, n);
        ok = ok && put_xml(b, c->label) && stapel__buf_puts(b, "\" render=\"true\"/>\n");
        n++;
    }
    ok = ok && stapel__buf_puts(b, s->graduated ? "  </ranges>\n  <symbols>\n"
                                                : "  </categories>\n  <symbols>\n");
    n = 0;
    for (size_t i = 0; i < s->n_classes && ok; i++) {
        const stapel__class *c = &s->classes[i];
        if (conflicts && (c->value == NULL || !stapel__verdict_in_conflicts(c->value)))
            continue;
        ok = put_class_symbol(b, n, c, conflicts);
        n++;
    }
    ok = ok && stapel__buf_puts(b, "  </symbols>\n");
    if (s->graduated)
        ok = ok && stapel__buf_puts(b, "  <classificationMethod id=\"Custom\">\n"
                                       "   <labelFormat format=\"%1 - %2\" "
                                       "trimtrailingzeroes=\"1\" labelprecision=\"0\"/>\n"
                                       "  </classificationMethod>\n");
    return ok && stapel__buf_puts(b, " </renderer-v2>\n") && put_tail(b);
}

bool stapel__qml_zone(stapel__buf *b, stapel_zone_kind kind, const char *label_field)
{
    const stapel__line *line = stapel__zone_line(kind);
    bool novex = kind == STAPEL_ZONE_NOVEX;
    bool ok = stapel__buf_printf(b,
                                 QML_HEAD "<qgis version=\"3.22.0\" "
                                          "styleCategories=\"Symbology|Labeling\" "
                                          "labelsEnabled=\"%d\">\n",
                                 label_field != NULL ? 1 : 0) &&
              stapel__buf_puts(b, " <renderer-v2 type=\"singleSymbol\" symbollevels=\"0\" "
                                  "enableorderby=\"0\" forceraster=\"0\" referencescale=\"-1\">\n"
                                  "  <symbols>\n") &&
              put_symbol_open(b, 0) && put_simple_fill(b, (stapel__rgba){0, 0, 0, 0}, "no", line) &&
              stapel__buf_puts(b, "   </symbol>\n  </symbols>\n </renderer-v2>\n");
    if (ok && label_field != NULL) {
        char color[32];
        snprintf(color, sizeof color, "%u,%u,%u,255", line->color.r, line->color.g, line->color.b);
        ok = stapel__buf_puts(b, " <labeling type=\"simple\">\n"
                                 "  <settings calloutType=\"simple\">\n"
                                 "   <text-style fieldName=\"") &&
             put_xml(b, label_field) &&
             stapel__buf_printf(b,
                                "\" isExpression=\"0\" fontFamily=\"Sans Serif\" "
                                "fontSize=\"%s\" fontSizeUnit=\"Point\" fontWeight=\"%s\" "
                                "fontItalic=\"%s\" namedStyle=\"%s\" textColor=\"%s\" "
                                "textOpacity=\"1\" blendMode=\"0\">\n",
                                novex ? "9" : "11", novex ? "50" : "75", novex ? "1" : "0",
                                novex ? "Italic" : "Bold", color) &&
             stapel__buf_puts(b, "    <text-buffer bufferDraw=\"1\" bufferSize=\"1\" "
                                 "bufferSizeUnits=\"MM\" bufferColor=\"255,255,255,255\" "
                                 "bufferOpacity=\"0.85\" bufferNoFill=\"1\" "
                                 "bufferJoinStyle=\"128\" bufferBlendMode=\"0\"/>\n"
                                 "   </text-style>\n"
                                 "   <placement placement=\"1\" centroidInside=\"1\" "
                                 "centroidWhole=\"0\" fitInPolygonOnly=\"0\" priority=\"") &&
             stapel__buf_puts(b, novex ? "5" : "8") &&
             stapel__buf_puts(b, "\" dist=\"0\" offsetType=\"0\" quadOffset=\"4\"/>\n"
                                 "   <rendering drawLabels=\"1\" obstacle=\"1\" "
                                 "obstacleType=\"1\" displayAll=\"0\" labelPerPart=\"0\" "
                                 "upsidedownLabels=\"0\" scaleVisibility=\"0\"/>\n"
                                 "  </settings>\n"
                                 " </labeling>\n");
    }
    return ok && put_tail(b);
}

/* ---- the table --------------------------------------------------------- */

typedef struct style_row {
    const char *table;
    const char *field; /* the field of the scheme; NULL for a zone layer */
    const char *name;
    const char *description;
    bool use_as_default;
} style_row;

enum {
    COL_CATALOG,
    COL_SCHEMA,
    COL_TABLE,
    COL_GEOM,
    COL_NAME,
    COL_QML,
    COL_SLD,
    COL_DEFAULT,
    COL_DESCRIPTION,
    COL_OWNER,
    COL_UI,
    COL_TIME,
    N_COLS,
};

static stapel_status create_table(stapel_ctx *ctx, GDALDatasetH ds, OGRLayerH *out)
{
    static const struct {
        const char *name;
        OGRFieldType type;
        OGRFieldSubType sub;
        int width;
    } cols[N_COLS] = {
        [COL_CATALOG] = {"f_table_catalog", OFTString, OFSTNone, 256},
        [COL_SCHEMA] = {"f_table_schema", OFTString, OFSTNone, 256},
        [COL_TABLE] = {"f_table_name", OFTString, OFSTNone, 256},
        [COL_GEOM] = {"f_geometry_column", OFTString, OFSTNone, 256},
        [COL_NAME] = {"styleName", OFTString, OFSTNone, 0},
        [COL_QML] = {"styleQML", OFTString, OFSTNone, 0},
        [COL_SLD] = {"styleSLD", OFTString, OFSTNone, 0},
        [COL_DEFAULT] = {"useAsDefault", OFTInteger, OFSTBoolean, 0},
        [COL_DESCRIPTION] = {"description", OFTString, OFSTNone, 0},
        [COL_OWNER] = {"owner", OFTString, OFSTNone, 64},
        [COL_UI] = {"ui", OFTString, OFSTNone, 0},
        [COL_TIME] = {"update_time", OFTDateTime, OFSTNone, 0},
    };
    char *opts[] = {"FID=id", "IDENTIFIER=layer_styles",
                    "DESCRIPTION=Default QGIS styles of the layers, written by stapel.", NULL};
    *out = GDALDatasetCreateLayer(ds, "layer_styles", NULL, wkbNone, opts);
    if (*out == NULL)
        return stapel__fail(ctx, STAPEL_EIO, "cannot create the table layer_styles: %s",
                            stapel__gdal_error("unknown error"));
    for (int i = 0; i < N_COLS; i++) {
        OGRFieldDefnH fd = OGR_Fld_Create(cols[i].name, cols[i].type);
        OGR_Fld_SetSubType(fd, cols[i].sub);
        OGR_Fld_SetWidth(fd, cols[i].width);
        OGRErr err = OGR_L_CreateField(*out, fd, 1);
        OGR_Fld_Destroy(fd);
        if (err != OGRERR_NONE)
            return stapel__fail(ctx, STAPEL_EIO, "layer_styles: cannot create column %s: %s",
                                cols[i].name, stapel__gdal_error("unknown error"));
    }
    return STAPEL_OK;
}

static stapel_status add_row(stapel_ctx *ctx, OGRLayerH table, OGRLayerH layer,
                             const style_row *row, const char *qml, const struct tm *now)
{
    const char *geom = OGR_L_GetGeometryColumn(layer);
    if (geom == NULL || geom[0] == '\0')
        geom = "geom";
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(table));
    if (f == NULL)
        return stapel__fail(ctx, STAPEL_ENOMEM, "layer_styles: out of memory");
    OGR_F_SetFieldString(f, COL_CATALOG, "");
    OGR_F_SetFieldString(f, COL_SCHEMA, ""); /* '' and never NULL, or QGIS skips the row */
    OGR_F_SetFieldString(f, COL_TABLE, row->table);
    OGR_F_SetFieldString(f, COL_GEOM, geom);
    OGR_F_SetFieldString(f, COL_NAME, row->name);
    OGR_F_SetFieldString(f, COL_QML, qml);
    OGR_F_SetFieldString(f, COL_SLD, "");
    OGR_F_SetFieldInteger(f, COL_DEFAULT, row->use_as_default ? 1 : 0);
    OGR_F_SetFieldString(f, COL_DESCRIPTION, row->description);
    OGR_F_SetFieldString(f, COL_OWNER, "stapel");
    OGR_F_SetFieldNull(f, COL_UI);
    OGR_F_SetFieldDateTimeEx(f, COL_TIME, now->tm_year + 1900, now->tm_mon + 1, now->tm_mday,
                             now->tm_hour, now->tm_min, (float)now->tm_sec, 100);
    OGRErr err = OGR_L_CreateFeature(table, f);
    OGR_F_Destroy(f);
    if (err != OGRERR_NONE)
        return stapel__fail(ctx, STAPEL_EIO, "layer_styles: cannot write the style of %s: %s",
                            row->table, stapel__gdal_error("unknown error"));
    return STAPEL_OK;
}

stapel_status stapel__styles_write(stapel_ctx *ctx, GDALDatasetH ds, const char *province_field,
                                   const char *novex_field)
{
    static const style_row rows[] = {
        {"stack", "n_themes", "stapel: aantal thema's",
         "Stack faces coloured by the number of distinct themes (ColorBrewer YlOrRd).", true},
        {"stack", "n_claims", "stapel: aantal claims",
         "Stack faces coloured by the number of claims (ColorBrewer PuBu).", false},
        {"stack", "verdict", "stapel: oordeel",
         "Stack faces coloured by the worst verdict among their theme pairs.", false},
        {"conflicts", "verdict", "stapel: conflicten",
         "Conflicts and conditional combinations, hatched over the stack.", true},
        {"provinces", NULL, "stapel: provincies", "Province outlines, labelled by name.", true},
        {"novex", NULL, "stapel: NOVEX-gebieden", "NOVEX area outlines, labelled by name.", true},
    };
    stapel_status st = STAPEL_OK;
    stapel__buf qml = {0};
    bool in_transaction = false;
    OGRLayerH table = GDALDatasetGetLayerByName(ds, "layer_styles");
    if (table == NULL) {
        st = create_table(ctx, ds, &table);
        if (st != STAPEL_OK)
            goto done;
    }
    if (GDALDatasetStartTransaction(ds, 0) != OGRERR_NONE) {
        st = stapel__fail(ctx, STAPEL_EIO, "layer_styles: cannot start a transaction: %s",
                          stapel__gdal_error("unknown error"));
        goto done;
    }
    in_transaction = true;
    time_t t = time(NULL);
    struct tm now;
    gmtime_r(&t, &now);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        OGRLayerH layer = GDALDatasetGetLayerByName(ds, rows[i].table);
        if (layer == NULL)
            continue;
        qml.len = 0;
        bool ok;
        if (rows[i].field != NULL)
            ok = stapel__qml_scheme(&qml, stapel__scheme_find(rows[i].field),
                                    strcmp(rows[i].table, "conflicts") == 0);
        else if (strcmp(rows[i].table, "provinces") == 0)
            ok = stapel__qml_zone(&qml, STAPEL_ZONE_PROVINCE, province_field);
        else
            ok = stapel__qml_zone(&qml, STAPEL_ZONE_NOVEX, novex_field);
        if (!ok) {
            st = stapel__fail(ctx, STAPEL_ENOMEM, "layer_styles: out of memory");
            goto done;
        }
        st = add_row(ctx, table, layer, &rows[i], qml.data, &now);
        if (st != STAPEL_OK)
            goto done;
    }
    if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE) {
        st = stapel__fail(ctx, STAPEL_EIO, "layer_styles: cannot commit: %s",
                          stapel__gdal_error("unknown error"));
        goto done;
    }
    in_transaction = false;
done:
    if (in_transaction)
        GDALDatasetRollbackTransaction(ds);
    stapel__buf_free(&qml);
    return st;
}
