/* Trees moved between symbol tables (ps_symtab_journal_*, ps_remap_syms),
 * as the evaluator does with files parsed ahead on another thread: for
 * every .nix file under each DIR, in order, the file is parsed directly
 * with table A, and parsed with a private table P (shared by all files, a
 * batch of files at a time ahead of their use, as the thread does) whose
 * journal is then mapped into table B and the tree remapped. The two trees
 * must agree in every field and position (ps__dump, ps_print), the two
 * parses in success, and A and B must hold the same symbols under the
 * same ids after every file: the moved tree is the tree parsing with B
 * would have built.
 *
 * usage: test_parser_remap DIR... */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parser/internal.h"
#include "nix_files.h"

#define BATCH 16

typedef struct ahead {
    ut_arena *arena;
    ps_expr *tree;
    ps_symref *journal;
    size_t njournal;
    bool failed;
} ahead;

static void count_warning(void *ctx, const char *text, size_t len)
{
    (void)text;
    (void)len;
    (*(size_t *)ctx)++;
}

static ps_source *source(ut_arena *arena, const char *path, const ut_buf *text)
{
    char *t = ut_arena_alloc(arena, text->len + 2);
    memcpy(t, text->data, text->len);
    ps_source *src = ps_source_new(arena, PS_ORIGIN_FILE, path, t, text->len, NULL);
    src->scan_in_place = true;
    return src;
}

static void dump(ut_buf *out, const ps_symtab *syms, const ps_expr *e)
{
    ps__dump(out, syms, e);
    ps_print(out, syms, e);
}

/* A and B hold the same names under the same ids */
static bool same_tables(const ps_symtab *a, const ps_symtab *b)
{
    size_t n = ps_symtab_count(a);
    if (n != ps_symtab_count(b))
        return false;
    for (size_t i = 1; i <= n; i++)
        if (ps_sym_len(a, (ps_sym)i) != ps_sym_len(b, (ps_sym)i) ||
            memcmp(ps_sym_str(a, (ps_sym)i), ps_sym_str(b, (ps_sym)i), ps_sym_len(a, (ps_sym)i)) != 0)
            return false;
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR...\n", argv[0]);
        return 2;
    }
    files fs = {0};
    for (int i = 1; i < argc; i++)
        collect(&fs, argv[i]);
    if (fs.n == 0) {
        fprintf(stderr, "no .nix files\n");
        return 1;
    }
    ps_symtab *A = ps_symtab_new(), *B = ps_symtab_new(), *P = ps_symtab_new();
    /* the evaluator's table holds the base environment's names before any
     * file is parsed (a journal maps names, not the table's history) */
    for (const char *const *b = ps_default_base_env(); *b; b++) {
        ps_intern_cstr(A, *b);
        ps_intern_cstr(B, *b);
    }
    ps_options opts = {0};
    opts.home = "/home/test";
    size_t warnings = 0;
    opts.warn = count_warning;
    opts.warn_ctx = &warnings;
    size_t nbad = 0, nparsed = 0, nfailed = 0;
    ps_sym *map = NULL;
    size_t nmap = 0;
    ahead batch[BATCH];
    for (size_t b0 = 0; b0 < fs.n; b0 += BATCH) {
        size_t bn = fs.n - b0 < BATCH ? fs.n - b0 : BATCH;
        ut_buf texts[BATCH];
        /* the batch ahead, with P */
        for (size_t k = 0; k < bn; k++) {
            const char *path = fs.v[b0 + k];
            texts[k] = (ut_buf)UT_BUF_INIT;
            ut_err err = UT_ERR_INIT;
            if (!ut_read_file(path, &texts[k], &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            ahead *h = &batch[k];
            h->arena = ut_arena_new();
            ps_symtab_journal_begin(P);
            size_t w0 = warnings;
            h->tree = ps_parse(P, source(h->arena, path, &texts[k]), h->arena, &opts, &err);
            h->journal = ps_symtab_journal_end(P, &h->njournal);
            h->failed = !h->tree || warnings != w0;
            ut_err_clear(&err);
        }
        /* then each in order: directly with A, moved to B */
        for (size_t k = 0; k < bn; k++) {
            const char *path = fs.v[b0 + k];
            ahead *h = &batch[k];
            ut_arena *arena = ut_arena_new();
            ut_err err = UT_ERR_INIT;
            size_t w0 = warnings;
            ps_expr *e = ps_parse(A, source(arena, path, &texts[k]), arena, &opts, &err);
            bool failed = !e || warnings != w0;
            ut_err_clear(&err);
            if (failed != h->failed) {
                fprintf(stderr, "%s: parses differently with another table\n", path);
                nbad++;
            } else if (failed) {
                /* the evaluator parses such a file again itself: B must
                 * then get what A got */
                ut_arena *again = ut_arena_new();
                ps_parse(B, source(again, path, &texts[k]), again, &opts, &err);
                ut_err_clear(&err);
                ut_arena_free(again);
                nfailed++;
            } else {
                for (size_t i = 0; i < h->njournal; i++)
                    if (h->journal[i].id >= nmap) {
                        nmap = (size_t)h->journal[i].id * 2 + 1;
                        map = ut_xrealloc(map, nmap * sizeof *map);
                    }
                if (!map)
                    map = ut_xmalloc(sizeof *map);
                ps_symtab_map_journal(B, h->journal, h->njournal, map);
                ps_remap_syms(h->tree, map);
                ut_buf da = UT_BUF_INIT, db = UT_BUF_INIT;
                dump(&da, A, e);
                dump(&db, B, h->tree);
                if (da.len != db.len || memcmp(da.data, db.data, da.len) != 0) {
                    fprintf(stderr, "%s: the moved tree differs\n", path);
                    nbad++;
                }
                ut_buf_free(&da);
                ut_buf_free(&db);
                nparsed++;
            }
            if (!same_tables(A, B)) {
                fprintf(stderr, "%s: the tables differ after it\n", path);
                return 1;
            }
            ut_arena_free(arena);
            ut_arena_free(h->arena);
            free(h->journal);
            ut_buf_free(&texts[k]);
        }
    }
    printf("%zu files moved, %zu left to a direct parse, %zu wrong; %zu symbols\n", nparsed, nfailed, nbad,
           ps_symtab_count(A));
    free(map);
    files_free(&fs);
    ps_symtab_free(A);
    ps_symtab_free(B);
    ps_symtab_free(P);
    return nbad != 0 || nparsed == 0;
}
