/*
 * test_fit.c - where render cuts a text too long for its place
 * (stapel__grapheme_ends, stapel__fit_text in render.c), without cairo.
 *
 * The cut falls between extended grapheme clusters (Unicode's UAX #29),
 * never inside one: not between a letter and a combining mark (a name in
 * decomposed form, NFD, as files made on a Mac hold it), inside an emoji
 * sequence joined by U+200D, or inside a flag (two regional indicators).
 * The expected byte offsets are worked out by hand from the UTF-8 lengths
 * (U+0302 and U+200D are 2 and 3 bytes, the emoji and regional indicators
 * 4). stapel__fit_text is measured with a width of one per code point
 * (as a font that draws each as a box or a glyph of its own would give),
 * so that a cut inside a cluster would fit as well as one before it.
 */
#include "internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NFD_A "a\xcc\x82"                               /* a + U+0302 COMBINING CIRCUMFLEX */
#define WOMAN "\xf0\x9f\x91\xa9"                        /* U+1F469 */
#define ZWJ "\xe2\x80\x8d"                              /* U+200D ZERO WIDTH JOINER */
#define GIRL "\xf0\x9f\x91\xa7"                         /* U+1F467 */
#define RI_N "\xf0\x9f\x87\xb3"                         /* U+1F1F3 REGIONAL INDICATOR N */
#define RI_L "\xf0\x9f\x87\xb1"                         /* U+1F1F1 REGIONAL INDICATOR L */
#define RI_B "\xf0\x9f\x87\xa7"                         /* U+1F1E7 REGIONAL INDICATOR B */
#define RI_E "\xf0\x9f\x87\xaa"                         /* U+1F1EA REGIONAL INDICATOR E */
#define THUMB_MEDIUM "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd" /* U+1F44D U+1F3FD */
#define ELLIPSIS "\xe2\x80\xa6"

static void expect_ends(const char *s, const size_t *want, size_t n_want)
{
    size_t n = strlen(s);
    size_t *ends = malloc((n + 1) * sizeof *ends);
    assert_non_null(ends);
    size_t got = stapel__grapheme_ends(s, n, ends);
    for (size_t i = 0; i < got && i < n_want; i++)
        if (ends[i] != want[i])
            fail_msg("'%s': end %zu is at byte %zu, expected %zu", s, i, ends[i], want[i]);
    if (got != n_want)
        fail_msg("'%s': %zu ends, expected %zu", s, got, n_want);
    free(ends);
}

#define EXPECT_ENDS(s, ...)                                                                        \
    do {                                                                                           \
        const size_t want_[] = {__VA_ARGS__};                                                      \
        expect_ends(s, want_, sizeof want_ / sizeof want_[0]);                                     \
    } while (0)

static void test_grapheme_ends(void **state)
{
    (void)state;
    EXPECT_ENDS("", 0);
    EXPECT_ENDS("ab", 0, 1, 2);
    /* F r y s l, then a + U+0302 (bytes 5 to 8) as one, n */
    EXPECT_ENDS("Frysl" NFD_A "n", 0, 1, 2, 3, 4, 5, 8, 9);
    /* composed: U+00E2 is two bytes */
    EXPECT_ENDS("l\xc3\xa2n", 0, 1, 3, 4);
    /* a, woman ZWJ girl (4 + 3 + 4 bytes), b */
    EXPECT_ENDS("a" WOMAN ZWJ GIRL "b", 0, 1, 12, 13);
    /* two flags, NL and BE: the indicators in pairs */
    EXPECT_ENDS(RI_N RI_L RI_B RI_E, 0, 8, 16);
    /* three indicators: a pair, then one alone */
    EXPECT_ENDS(RI_N RI_L RI_B, 0, 8, 12);
    /* a space between indicators starts the pairing again */
    EXPECT_ENDS(RI_N " " RI_L RI_B, 0, 4, 5, 13);
    /* an emoji with its skin tone modifier is one */
    EXPECT_ENDS("x" THUMB_MEDIUM, 0, 1, 9);
    /* a byte that is no UTF-8 stands alone */
    EXPECT_ENDS("a\xff"
                "b",
                0, 1, 2, 3);
}

/* One per code point (a byte that does not continue one). */
static double code_points(void *user, const char *s)
{
    (void)user;
    double n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void expect_fit(const char *s, double room, const char *want)
{
    char *got = stapel__fit_text(s, room, code_points, NULL);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' in %.0f: got '%s', expected '%s'", s, room, got, want);
    free(got);
}

static void test_fit_text(void **state)
{
    (void)state;
    /* what fits stays whole */
    expect_fit("Frysl" NFD_A "n", 8, "Frysl" NFD_A "n");
    /* 7 wide: 'Frysla' + the ellipsis would fit, but the a is the start
     * of a cluster with its circumflex, which does not */
    expect_fit("Frysl" NFD_A "n Frysl" NFD_A "n", 7, "Frysl" ELLIPSIS);
    expect_fit("Frysl" NFD_A "n Frysl" NFD_A "n", 8, "Frysl" NFD_A ELLIPSIS);
    /* the space before the cut is dropped */
    expect_fit("Frysl" NFD_A "n Frysl" NFD_A "n", 10, "Frysl" NFD_A "n" ELLIPSIS);
    /* a ZWJ sequence is kept whole or left out */
    expect_fit("a" WOMAN ZWJ GIRL "b", 4, "a" ELLIPSIS);
    expect_fit("a" WOMAN ZWJ GIRL "bc", 5, "a" WOMAN ZWJ GIRL ELLIPSIS);
    /* flags are not split: 5 indicators in 4 give one flag */
    expect_fit(RI_N RI_L RI_B RI_E RI_N, 4, RI_N RI_L ELLIPSIS);
    /* no room at all: the ellipsis alone */
    expect_fit("abc", 0.5, ELLIPSIS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grapheme_ends),
        cmocka_unit_test(test_fit_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
