/*
 * locales.h - put the engine tests in a host program's locale. The tests
 * run with LOCPATH set to the locales tools/make-test-locales compiled into
 * the build tree (engine/tests/meson.build); where one is missing, the test
 * that needs it is skipped.
 */
#ifndef STAPEL_TEST_LOCALES_H
#define STAPEL_TEST_LOCALES_H

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

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

/* Set the whole locale (LC_ALL, as a host program does with
 * setlocale(LC_ALL, "")) to a Dutch one whose C library speaks Dutch: its
 * strerror(ENOENT) is not the English "No such file or directory" (true);
 * or leave it "C" when no such locale or translation is installed (false).
 * The caller sets "C" again when done. */
static inline bool test_locale_dutch_messages(void)
{
    static const char *const names[] = {"nl_NL.UTF-8", "nl_NL.utf8", "nl_NL.ISO-8859-1", "nl_NL"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (setlocale(LC_ALL, names[i]) != NULL &&
            strcmp(strerror(ENOENT), "No such file or directory") != 0)
            return true;
    setlocale(LC_ALL, "C");
    return false;
}

#endif
