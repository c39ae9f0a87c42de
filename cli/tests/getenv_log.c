/*
 * getenv_log.c - preloaded (LD_PRELOAD) into stapel by url_source.py: writes
 * each value getenv() gives for the variables named in STAPEL_GETENV_NAMES
 * (comma-separated) to the file STAPEL_GETENV_LOG, one "NAME=value" line a
 * call ("NAME=(unset)" for none). GDAL reads its network settings
 * (GDAL_HTTP_LOW_SPEED_TIME, ...) through getenv() when it makes a request:
 * the log shows the waits a request of stapel's really gets, the defaults
 * the tool sets among them, which would otherwise take 300 s to see.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

char *getenv(const char *name)
{
    static char *(*real)(const char *);
    if (real == NULL) {
        void *p = dlsym(RTLD_NEXT, "getenv");
        memcpy(&real, &p, sizeof real); /* ISO C has no cast to a function */
    }
    char *value = real(name);
    const char *names = real("STAPEL_GETENV_NAMES"), *log = real("STAPEL_GETENV_LOG");
    size_t len = strlen(name);
    for (const char *n = names; n != NULL && log != NULL && *n != '\0';) {
        size_t k = strcspn(n, ",");
        if (k == len && strncmp(n, name, len) == 0) {
            FILE *f = fopen(log, "a");
            if (f != NULL) {
                fprintf(f, "%s=%s\n", name, value != NULL ? value : "(unset)");
                fclose(f);
            }
            break;
        }
        n += k + (n[k] == ',');
    }
    return value;
}
