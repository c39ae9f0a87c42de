/*
 * text.c - names from the data, shown safely on a terminal.
 *
 * Zone names, paths and the messages that quote them come from the user's
 * files and may hold anything: a tab or newline breaks an aligned table or a
 * one-line message, an escape sequence recolours the terminal, bytes that
 * are not UTF-8 garble it. Text meant for people shows them escaped, as C
 * writes them (\t, \n, \r, \x1b, \u0085 for the C1 controls and the bidi
 * and line separators of Unicode, \xff for a byte that is not UTF-8), and
 * measures widths in characters, not bytes (every character one column;
 * East Asian wide characters are not told apart). CSV and JSON output keep
 * the names exactly.
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
            c.cols = 1;
        }
    }
    if (c.cols == 0)
        c.cols = strlen(c.text);
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
