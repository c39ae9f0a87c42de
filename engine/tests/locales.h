/*
 * locales.h - put the engine tests in a host program's locale. The tests
 * run with LOCPATH set to the locales tools/make-test-locales compiled into
 * the build tree (engine/tests/meson.build); where one is missing, the test
 * that needs it is skipped.
 */
#ifndef STAPEL_TEST_LOCALES_H
#define STAPEL_TEST_LOCALES_H

#include <ctype.h>
#include <locale.h>
#include <stdbool.h>
#include <stddef.h>

/* Set LC_CTYPE to a Turkish locale, where 'I' is no capital 'i' (true), or
 * leave it "C" when none is installed (false). Told by tolower(), not by
 * strcasecmp(), which a sanitizer replaces with its own. The caller sets
 * "C" again when done. */
static inline bool test_locale_turkish(void)
{
    static const char *const names[] = {"tr_TR.UTF-8", "tr_TR.utf8", "tr_TR.ISO-8859-9", "tr_TR"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (setlocale(LC_CTYPE, names[i]) != NULL && tolower('I') != 'i')
            return true;
    setlocale(LC_CTYPE, "C");
    return false;
}

#endif
