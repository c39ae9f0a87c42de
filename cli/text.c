/*
 * text.c - names from the data, shown safely on a terminal.
 *
 * Zone names, paths and the messages that quote them come from the user's
 * files and may hold anything: a tab or newline breaks an aligned table or a
 * one-line message, an escape sequence recolours the terminal, bytes that
 * are not UTF-8 garble it. Text meant for people shows them escaped, as C
 * writes them (\t, \n, \r, \x1b, \u0085 for the C1 controls and the bidi
 * and line separators of Unicode, \xff for a byte that is not UTF-8), and
 * measures widths in terminal columns, not bytes: one a character, two for
 * East Asian wide and fullwidth characters, none for combining marks (a
 * name stored decomposed, e + U+0301 for é, lines up as the composed one).
 * CSV and JSON output keep the names exactly.
 */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One character of text as shown: its escape, or its bytes. */
typedef struct shown {
    size_t used; /* bytes of the input it stands for */
    size_t cols; /* columns it takes */
    char text[24]; /* an escape, or one UTF-8 character */
} shown;

/* The code point of the UTF-8 sequence at p, or -1 when p does not start a
 * valid one (truncated, overlong, a surrogate, beyond U+10FFFF); *len gets
 * its length in bytes. */
static long decode_utf8(const unsigned char *p, size_t *len)
{
    unsigned char b = p[0];
    size_t n;
    if (b >= 0xC2 && b <= 0xDF)
        n = 2;
    else if (b >= 0xE0 && b <= 0xEF)
        n = 3;
    else if (b >= 0xF0 && b <= 0xF4)
        n = 4;
    else
        return -1;
    static const long lowest[5] = {0, 0, 0x80, 0x800, 0x10000}; /* below: overlong */
    long cp = b & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return -1;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < lowest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = n;
    return cp;
}

/* Code points above ASCII that are shown escaped: the C1 controls, which
 * some terminals act on, and the line separators and bidi controls, which
 * break or reorder a line. */
static bool escaped_code_point(long cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

typedef struct cp_range {
    long lo, hi;
} cp_range;

/* Combining marks and zero-width characters, which take no column. */
static const cp_range zero_width[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
    {0x064B, 0x065F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF},
};

/* East Asian wide and fullwidth characters (Unicode's EastAsianWidth W and
 * F, the main blocks), which take two columns on a terminal. */
static const cp_range double_width[] = {
    {0x1100, 0x115F},   {0x2329, 0x232A},   {0x2E80, 0x303E},   {0x3041, 0x33FF},
    {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xA960, 0xA97F},
    {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
    {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static bool in_ranges(long cp, const cp_range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp > r[mid].hi)
            lo = mid + 1;
        else if (cp < r[mid].lo)
            hi = mid;
        else
            return true;
    }
    return false;
}

static size_t code_point_columns(long cp)
{
    if (in_ranges(cp, zero_width, sizeof zero_width / sizeof zero_width[0]))
        return 0;
    if (in_ranges(cp, double_width, sizeof double_width / sizeof double_width[0]))
        return 2;
    return 1;
}

static shown next_shown(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    shown c = {1, 0, ""};
    if (*p == '\t' || *p == '\n' || *p == '\r') {
        c.text[0] = '\\';
        c.text[1] = *p == '\t' ? 't' : *p == '\n' ? 'n' : 'r';
        c.text[2] = '\0';
    } else if (*p < 0x20 || *p == 0x7F) {
        snprintf(c.text, sizeof c.text, "\\x%02x", *p);
    } else if (*p < 0x80) {
        c.text[0] = (char)*p;
        c.text[1] = '\0';
    } else {
        size_t len = 0;
        long cp = decode_utf8(p, &len);
        if (cp < 0) {
            snprintf(c.text, sizeof c.text, "\\x%02x", *p);
        } else if (escaped_code_point(cp)) {
            snprintf(c.text, sizeof c.text, "\\u%04lx", (unsigned long)cp);
            c.used = len;
        } else {
            memcpy(c.text, s, len);
            c.text[len] = '\0';
            c.used = len;
            c.cols = code_point_columns(cp);
            return c;
        }
    }
    c.cols = strlen(c.text); /* an escape or an ASCII character */
    return c;
}

size_t cli_text_width(const char *s)
{
    size_t cols = 0;
    for (const char *p = s; *p != '\0';) {
        shown c = next_shown(p);
        cols += c.cols;
        p += c.used;
    }
    return cols;
}

size_t cli_put_text(FILE *out, const char *s, size_t max)
{
    bool fits = cli_text_width(s) <= max;
    size_t room = fits ? max : (max > 0 ? max - 1 : 0); /* leave a column for the ellipsis */
    size_t cols = 0;
    for (const char *p = s; *p != '\0';) {
        shown c = next_shown(p);
        if (cols + c.cols > room)
            break;
        fputs(c.text, out);
        cols += c.cols;
        p += c.used;
    }
    if (!fits && max > 0) {
        fputs("\xe2\x80\xa6", out); /* … */
        cols++;
    }
    return cols;
}

void cli_put_cell(FILE *out, const char *s, size_t width)
{
    for (size_t n = cli_put_text(out, s, width); n < width; n++)
        fputc(' ', out);
}
