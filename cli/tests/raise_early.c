/*
 * raise_early.c - preloaded (LD_PRELOAD) into stapel by signals.sh: the
 * first getopt_long() call, which each command makes right at its start to
 * read its options, first sends stapel the signal whose number is in
 * STAPEL_RAISE_EARLY (e.g. 15 for SIGTERM). That is a Ctrl-C or a kill in
 * the first moments of a run, before the command has done any work, which
 * a test cannot time from outside (the signal would come while the system
 * still loads the libraries, or after the command started its work).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int getopt_long(int argc, char *const argv[], const char *optstring, const struct option *longopts,
                int *longindex)
{
    static int (*real)(int, char *const[], const char *, const struct option *, int *);
    static int raised = 0;
    if (real == NULL) {
        void *p = dlsym(RTLD_NEXT, "getopt_long");
        memcpy(&real, &p, sizeof real); /* ISO C has no cast to a function */
    }
    const char *sig = getenv("STAPEL_RAISE_EARLY");
    if (!raised && sig != NULL) {
        raised = 1;
        raise(atoi(sig));
    }
    return real(argc, argv, optstring, longopts, longindex);
}
