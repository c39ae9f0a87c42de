/*
 * progress.c - the progress display of the long commands (stack, merge,
 * render): one line per phase on stderr in GDAL's "0...10...20...100 - done" style,
 * fed by the engine's progress callback.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* The display whose line is open (a phase begun and not done): a message
 * ends that line first (cli_progress_break), so that it does not land in
 * the middle of it. */
static cli_progress *open_line = NULL;

volatile sig_atomic_t cli_past_reading = 0;

void cli_progress_cb(void *user, const char *phase, double fraction)
{
    cli_progress *p = user;
    cli_past_reading = strcmp(phase, "reading") != 0;
    if (!p->enabled)
        return;
    if (p->phase == NULL || strcmp(p->phase, phase) != 0) {
        if (p->phase != NULL && p->last < 10 && !p->broken)
            fputs(" done\n", stderr);
        p->phase = phase;
        p->last = -1;
        p->broken = false;
        fprintf(stderr, "%-8s ", phase);
    }
    int tenth = (int)(fraction * 10.0 + 1e-9);
    if (tenth > 10)
        tenth = 10;
    if (p->broken && p->last < tenth) { /* the phase goes on, on a line of its own */
        fprintf(stderr, "%-8s ", phase);
        p->broken = false;
    }
    while (p->last < tenth) {
        p->last++;
        if (p->last == 10)
            fputs("...100 - done\n", stderr);
        else
            fprintf(stderr, p->last == 0 ? "0" : "...%d", p->last * 10);
    }
    open_line = p->last < 10 && !p->broken ? p : NULL;
    fflush(stderr);
}

void cli_progress_break(void)
{
    if (open_line == NULL)
        return;
    fputc('\n', stderr);
    open_line->broken = true;
    open_line = NULL;
}

void cli_progress_end(cli_progress *p)
{
    if (p->enabled && p->phase != NULL && p->last < 10 && !p->broken)
        fputc('\n', stderr);
    if (open_line == p)
        open_line = NULL;
}
