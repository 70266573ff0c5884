/* The two parsers on whole files: for every .nix file under DIR, the
 * hand-written parser declines or builds bison's tree, every node and
 * position included, and ps_parse's default gives what bison alone gives
 * (diff_check.h). With --all-fast, a file the fast parser declines also
 * fails the test: nixpkgs is what it is for.
 *
 * With --cases FILE, each line "fast EXPR" or "decline EXPR" of FILE is an
 * input that the fast parser must take, or leave to bison.
 *
 * usage: test_parser_diff [--all-fast] DIR
 *        test_parser_diff --cases FILE */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diff_check.h"
#include "nix_files.h"

static const char *const letters[] = {
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
    "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", NULL,
};

static int run_cases(const char *file)
{
    ut_buf text = UT_BUF_INIT;
    ut_err err = UT_ERR_INIT;
    if (!ut_read_file(file, &text, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        ut_err_clear(&err);
        return 1;
    }
    ps_symtab *syms = ps_symtab_new();
    ps_options opts = {0};
    opts.home = "/home/test";
    opts.extra_env = letters;
    size_t n = 0, bad = 0, lineno = 0;
    char *p = text.data, *end = text.data + text.len;
    while (p && p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        p[len] = 0;
        char *line = p;
        p = nl ? nl + 1 : end;
        lineno++;
        if (!*line || *line == '#')
            continue;
        bool want_fast = strncmp(line, "fast ", 5) == 0;
        if (!want_fast && strncmp(line, "decline ", 8) != 0) {
            fprintf(stderr, "%s:%zu: neither fast nor decline\n", file, lineno);
            bad++;
            continue;
        }
        ut_buf in = UT_BUF_INIT;
        for (const char *q = line + (want_fast ? 5 : 8); *q; q++) {
            if (q[0] == '\\' && q[1] == 'n') {
                ut_buf_putc(&in, '\n');
                q++;
            } else if (q[0] == '\\' && q[1] == '\\') {
                ut_buf_putc(&in, '\\');
                q++;
            } else {
                ut_buf_putc(&in, *q);
            }
        }
        n++;
        bool fast;
        char where[64];
        snprintf(where, sizeof where, "line %zu", lineno);
        if (!diff_check(syms, "/test/case.nix", ut_buf_cstr(&in), in.len, opts, where, false, &fast)) {
            bad++;
        } else if (fast != want_fast) {
            fprintf(stderr, "%s:%zu: the fast parser %s %s\n", file, lineno, fast ? "took" : "declined",
                    ut_buf_cstr(&in));
            bad++;
        }
        ut_buf_free(&in);
    }
    printf("%zu cases, %zu wrong\n", n, bad);
    ps_symtab_free(syms);
    ut_buf_free(&text);
    return bad != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--cases") == 0)
        return run_cases(argv[2]);
    bool all_fast = argc > 1 && strcmp(argv[1], "--all-fast") == 0;
    if (argc != 2 + all_fast) {
        fprintf(stderr, "usage: %s [--all-fast] DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1 + all_fast];
    files fs = {0};
    collect(&fs, dir);
    if (fs.n == 0) {
        fprintf(stderr, "no .nix files under %s\n", dir);
        return 1;
    }
    ps_symtab *syms = ps_symtab_new();
    ps_options opts = {0};
    opts.home = "/home/test";
    size_t nfast = 0, nbad = 0, nread = 0;
    for (size_t i = 0; i < fs.n; i++) {
        ut_buf text = UT_BUF_INIT;
        ut_err err = UT_ERR_INIT;
        if (!ut_read_file(fs.v[i], &text, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            ut_err_clear(&err);
            nbad++;
            continue;
        }
        nread++;
        bool fast;
        if (!diff_check(syms, fs.v[i], text.data ? text.data : "", text.len, opts, "file", false, &fast))
            nbad++;
        else if (!fast && all_fast) {
            fprintf(stderr, "%s: the fast parser declined it\n", fs.v[i]);
            nbad++;
        }
        nfast += fast;
        ut_buf_free(&text);
    }
    printf("%zu files: the fast parser took %zu (declined %zu); %zu disagreements or failures\n", nread, nfast,
           nread - nfast, nbad);
    ps_symtab_free(syms);
    files_free(&fs);
    return nbad != 0;
}
