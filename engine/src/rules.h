/*
 * rules.h - the layout of a rules matrix, shared by rules.c and stack.c.
 */
#ifndef STAPEL_RULES_H
#define STAPEL_RULES_H

#include "internal.h"

#include <errno.h>
#include <unistd.h>

typedef struct stapel__rule {
    char *a, *b; /* a < b */
    stapel_verdict verdict;
    char *note;  /* NULL when the CSV gave none */
    int line;    /* line in the CSV */
} stapel__rule;

/* The source of the built-in rules, as run_info's rules row names it. */
#define STAPEL__BUILTIN_RULES "built-in NOVEX rules"

struct stapel_rules {
    char *source; /* path, or STAPEL__BUILTIN_RULES */
    bool builtin;
    stapel__rule *rules;
    size_t n;
    char **themes; /* every theme a rule names */
    size_t n_themes;
    size_t cap_rules, cap_themes;
    stapel__strmap pair_index;  /* "a\x1fb" (a < b) to its rule */
    stapel__strmap theme_index; /* a theme to its place in themes */
    /* The warnings stapel_rules_read logged of the file: a shard other
     * than the first counts them among those it leaves to shard 1
     * (build_faces in stack.c), as its caller read the rules before. */
    size_t n_warnings;
};

/* Empty rules named source. Caller owns *out; free with stapel_rules_free(). */
stapel_status stapel__rules_new(stapel_ctx *ctx, stapel_rules **out, const char *source);

/* Add a rule, with the checks of a rules file (line is for messages). */
stapel_status stapel__rules_add(stapel_ctx *ctx, stapel_rules *r, const char *a, const char *b,
                                stapel_verdict v, const char *note, int line);

/* "conflict", "conditional" or "compatible" to a verdict; false otherwise. */
bool stapel__verdict_parse(const char *s, stapel_verdict *out);

/* A fingerprint of the rules (each rule's themes, verdict and note, in
 * order; not the source's name), the same on every machine: what run_info
 * records, and what a merge checks the rules table of each part against. */
uint64_t stapel__rules_hash(const stapel_rules *rules);

/* A deep copy. Caller owns *out; free with stapel_rules_free(). */
stapel_status stapel__rules_clone(stapel_ctx *ctx, stapel_rules **out, const stapel_rules *src);

#endif /* STAPEL_RULES_H */
