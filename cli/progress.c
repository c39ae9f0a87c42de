/*
 * progress.c - the progress display of the long commands (stack, merge,
 * render): one line per phase on stderr in GDAL's "0...10...20...100 - done" style,
 * fed by the engine's progress callback.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

void cli_progress_cb(void *user, const char *phase, double fraction)
{
    cli_progress *p = user;
    if (!p->enabled)
        return;
    if (p->phase == NULL || strcmp(p->phase, phase) != 0) {
        if (p->phase != NULL && p->last < 10)
            fputs(" done\n", stderr);
        p->phase = phase;
        p->last = -1;
        fprintf(stderr, "%-8s ", phase);
    }
    int tenth = (int)(fraction * 10.0 + 1e-9);
    if (tenth > 10)
        tenth = 10;
    while (p->last < tenth) {
        p->last++;
        if (p->last == 10)
            fputs("...100 - done\n", stderr);
        else
            fprintf(stderr, p->last == 0 ? "0" : "...%d", p->last * 10);
    }
    fflush(stderr);
}

void cli_progress_end(cli_progress *p)
{
    if (p->enabled && p->phase != NULL && p->last < 10)
        fputc('\n', stderr);
}
