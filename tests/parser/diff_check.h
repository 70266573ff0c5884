/* The differential property of the two parsers, shared by the tests and the
 * fuzz target: on any input, the hand-written parser either declines or
 * gives bison's tree (every node, every position: ps__dump), and ps_parse's
 * default (fast, then bison when it declines) gives exactly what bison
 * alone gives: tree, message and warnings. */
#ifndef STRAYLIGHT_TESTS_PARSER_DIFF_CHECK_H
#define STRAYLIGHT_TESTS_PARSER_DIFF_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/internal.h"

#define DIFF_DECLINED "the fast parser declined this input"

static void diff_collect_warning(void *ctx, const char *text, size_t len)
{
    ut_buf_append(ctx, text, len);
}

/* A source for text: a copy the lexer scans in place
 * (ps_source.scan_in_place) when in_place is set, the text itself otherwise. */
static ps_source *diff_source(ut_arena *arena, const char *path, const char *text, size_t len, bool in_place)
{
    if (!in_place)
        return ps_source_new(arena, PS_ORIGIN_FILE, path, text, len, NULL);
    char *t = ut_arena_alloc(arena, len + 2);  /* zeroed: the two NULs */
    memcpy(t, text, len);
    ps_source *src = ps_source_new(arena, PS_ORIGIN_FILE, path, t, len, NULL);
    src->scan_in_place = true;
    return src;
}

/* ps_parse must leave a text it scanned in place as it was */
static void diff_check_whole(const ps_source *src, const char *text, size_t len, const char *path)
{
    if (src->text != text && (memcmp(src->text, text, len) != 0 || src->text[len] || src->text[len + 1])) {
        fprintf(stderr, "%s: the parse left its source changed\n", path);
        abort();
    }
}

/* Parses with one parser: into out, the dump and the printed tree, or
 * "error: " and the message; then the warnings. Returns whether it parsed;
 * *declined tells a decline of the fast-only mode from a real error. The
 * fast and default modes scan in place, bison alone a copy. */
static bool diff_parse(ps_symtab *syms, int parser, const char *path, const char *text, size_t len, ps_options opts,
                       ut_buf *out, bool *declined)
{
    ut_arena *arena = ut_arena_new();
    ut_buf warnings = UT_BUF_INIT;
    opts.warn = diff_collect_warning;
    opts.warn_ctx = &warnings;
    const ps_source *src = diff_source(arena, path, text, len, parser != PS__PARSER_BISON);
    ut_err err = UT_ERR_INIT;
    int saved = ps__parser;
    ps__parser = parser;
    ps_expr *e = ps_parse(syms, src, arena, &opts, &err);
    ps__parser = saved;
    *declined = false;
    if (e) {
        ps__dump(out, syms, e);
        ps_print(out, syms, e);
        ut_buf_putc(out, '\n');
    } else {
        *declined = err.msg && strcmp(err.msg, DIFF_DECLINED) == 0;
        ut_buf_printf(out, "error: %s", err.msg ? err.msg : "(none)");
    }
    ut_buf_append(out, warnings.data ? warnings.data : "", warnings.len);
    diff_check_whole(src, text, len, path);
    ut_buf_free(&warnings);
    ut_err_clear(&err);
    ut_arena_free(arena);
    return e != NULL;
}

static bool diff_same(const ut_buf *a, const ut_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Checks the property on one input. Returns false (after describing the
 * difference on stderr, unless quiet) when it fails; *fast tells whether
 * the fast parser took the input (parsed it, or found the binder's error). */
static bool diff_check(ps_symtab *syms, const char *path, const char *text, size_t len, ps_options opts,
                       const char *what, bool quiet, bool *fast)
{
    ut_buf b = UT_BUF_INIT, f = UT_BUF_INIT, a = UT_BUF_INIT;
    bool declined, d2, d3;
    diff_parse(syms, PS__PARSER_BISON, path, text, len, opts, &b, &d2);
    diff_parse(syms, PS__PARSER_FAST, path, text, len, opts, &f, &declined);
    bool lints = opts.lint_url_literals || opts.lint_short_path_literals || opts.lint_absolute_path_literals;
    bool ok = true;
    /* with lints, ps_parse runs bison whatever is asked */
    *fast = !declined && !lints;
    if (!declined && !diff_same(&b, &f)) {
        if (!quiet)
            fprintf(stderr, "%s (%s): the fast parser and bison disagree:\n%s\n--- bison:\n%s\n", path, what,
                    ut_buf_cstr(&f), ut_buf_cstr(&b));
        ok = false;
    }
    diff_parse(syms, PS__PARSER_AUTO, path, text, len, opts, &a, &d3);
    if (ok && !diff_same(&b, &a)) {
        if (!quiet)
            fprintf(stderr, "%s (%s): ps_parse (fast, then bison) and bison alone disagree:\n%s\n--- bison:\n%s\n",
                    path, what, ut_buf_cstr(&a), ut_buf_cstr(&b));
        ok = false;
    }
    ut_buf_free(&b);
    ut_buf_free(&f);
    ut_buf_free(&a);
    return ok;
}

#endif
