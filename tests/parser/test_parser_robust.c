/* Feeds truncated and mutated real Nix files to the parser in-process: every
 * input must either parse (and print) or fail with a located message, and
 * give the same tree, message and warnings with the lexer's fast path as
 * with the flex rules alone, and the hand-written parser must decline it or
 * build bison's tree (diff_check.h). A crash or a sanitizer report fails the test.
 * Deterministic (fixed seed), so a failure reproduces.
 *
 * usage: test_parser_robust STRIDE DIR...   (every STRIDE-th .nix file of
 * each DIR, walked in sorted order) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parser/internal.h"
#include "diff_check.h"
#include "nix_files.h"

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t nparsed, nok, nfail, nwarn, nfastpath;

static void collect_warning(void *ctx, const char *text, size_t len)
{
    ut_buf_append(ctx, text, len);
}

/* One parse: the printed tree or "error: " and the message, then the
 * warnings, into out. Returns whether it parsed. With the fast path the
 * lexer scans a copy in place (which must be left as it was), with the
 * rules alone the text itself. */
static bool parse_into(ps_symtab *syms, const char *path, const char *text, size_t len, ps_options opts,
                       ut_buf *out, bool *located)
{
    ut_arena *arena = ut_arena_new();
    ut_buf warnings = UT_BUF_INIT;
    opts.warn = collect_warning;
    opts.warn_ctx = &warnings;
    const ps_source *src = diff_source(arena, path, text, len, ps__lex_fast_path);
    ut_err err = UT_ERR_INIT;
    ps_expr *e = ps_parse(syms, src, arena, &opts, &err);
    if (e) {
        ps_print(out, syms, e);
    } else {
        *located = err.msg && strstr(err.msg, "\n       at ");
        ut_buf_printf(out, "error: %s", err.msg ? err.msg : "(none)");
    }
    ut_buf_append(out, warnings.data ? warnings.data : "", warnings.len);
    diff_check_whole(src, text, len, path);
    ut_buf_free(&warnings);
    ut_err_clear(&err);
    ut_arena_free(arena);
    return e != NULL;
}

static int check(ps_symtab *syms, const char *path, const char *text, size_t len, const char *what)
{
    ps_options opts = {0};
    opts.home = "/home/test";
    opts.lint_url_literals = (ps_lint)(next_rand() % 3);
    opts.pipe_operators = (next_rand() & 1) != 0;
    ut_buf fast = UT_BUF_INIT, rules = UT_BUF_INIT;
    bool located = false, located2 = false;
    bool ok = parse_into(syms, path, text, len, opts, &fast, &located);
    ps__lex_fast_path = false;
    bool ok2 = parse_into(syms, path, text, len, opts, &rules, &located2);
    ps__lex_fast_path = true;
    int bad = 0;
    nparsed++;
    if (ok) {
        nok++;
        if (fast.len == 0) {
            fprintf(stderr, "%s (%s): parsed but printed nothing\n", path, what);
            bad = 1;
        }
    } else {
        nfail++;
        if (!located) {
            fprintf(stderr, "%s (%s): failed without a located message: %s\n", path, what, ut_buf_cstr(&fast));
            bad = 1;
        }
    }
    if (strstr(ut_buf_cstr(&fast), "warning:"))
        nwarn++;
    if (ok != ok2 || fast.len != rules.len || memcmp(ut_buf_cstr(&fast), ut_buf_cstr(&rules), fast.len) != 0) {
        fprintf(stderr, "%s (%s): the lexer's fast path and the flex rules disagree:\n%s\n---\n%s\n", path, what,
                ut_buf_cstr(&fast), ut_buf_cstr(&rules));
        bad = 1;
    }
    ut_buf_free(&fast);
    ut_buf_free(&rules);
    /* the two parsers (ps_parse leaves inputs to bison when lints are on) */
    ps_options nolint = opts;
    nolint.lint_url_literals = PS_LINT_OFF;
    bool took_fast;
    if (!diff_check(syms, path, text, len, nolint, what, false, &took_fast))
        bad = 1;
    nfastpath += took_fast;
    return bad;
}

static const char interesting[] = "\"'${}()[];:.,@?!<>|&=+-*/\\~#\n \r\t0a";

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s STRIDE DIR...\n", argv[0]);
        return 2;
    }
    size_t stride = (size_t)strtoul(argv[1], NULL, 10);
    if (stride == 0)
        stride = 1;
    files fs = {0};
    for (int i = 2; i < argc; i++)
        collect(&fs, argv[i]);
    qsort(fs.v, fs.n, sizeof *fs.v, cmp_str);
    if (fs.n == 0) {
        fprintf(stderr, "no .nix files found\n");
        return 1;
    }
    ps_symtab *syms = ps_symtab_new();
    int bad = 0;
    size_t nfiles = 0;
    for (size_t i = 0; i < fs.n; i++) {
        if (i % stride != 0)
            continue;
        ut_buf text = UT_BUF_INIT;
        ut_err err = UT_ERR_INIT;
        if (!ut_read_file(fs.v[i], &text, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            ut_err_clear(&err);
            bad = 1;
            continue;
        }
        nfiles++;
        size_t len = text.len;
        char *copy = ut_xmalloc(len + 8);
        /* the original, then every prefix at 24 spread-out lengths */
        bad |= check(syms, fs.v[i], text.data ? text.data : "", len, "original");
        for (int k = 1; k <= 24 && len; k++) {
            size_t cut = k < 12 ? (len * (size_t)k) / 12 : (size_t)(next_rand() % len);
            memcpy(copy, text.data, cut);
            copy[cut] = 0;
            bad |= check(syms, fs.v[i], copy, cut, "truncated");
        }
        /* mutations: overwrite, insert or delete a few bytes */
        for (int k = 0; k < 24 && len; k++) {
            memcpy(copy, text.data, len);
            size_t n = len;
            int edits = 1 + (int)(next_rand() % 4);
            for (int m = 0; m < edits && n; m++) {
                size_t at = (size_t)(next_rand() % n);
                uint64_t r = next_rand();
                char c = (r & 3) ? interesting[(r >> 8) % (sizeof interesting - 1)] : (char)(r >> 16);
                switch ((r >> 4) % 3) {
                case 0:
                    copy[at] = c;
                    break;
                case 1:
                    if (n + 1 < len + 8) {
                        memmove(copy + at + 1, copy + at, n - at);
                        copy[at] = c;
                        n++;
                    }
                    break;
                default:
                    memmove(copy + at, copy + at + 1, n - at - 1);
                    n--;
                    break;
                }
            }
            copy[n] = 0;
            bad |= check(syms, fs.v[i], copy, n, "mutated");
        }
        free(copy);
        ut_buf_free(&text);
    }
    printf("%zu files, %zu inputs: %zu parsed, %zu rejected with a located error, %zu with warnings; "
           "the same with and without the lexer's fast path\n", nfiles, nparsed, nok, nfail, nwarn);
    printf("the fast parser took %zu of the %zu inputs and agreed with bison on each; "
           "ps_parse agreed with bison on all\n", nfastpath, nparsed);
    ps_symtab_free(syms);
    files_free(&fs);
    return bad;
}
