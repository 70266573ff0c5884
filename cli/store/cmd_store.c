/* straylight store SUBCOMMAND: the content-addressed store from the shell. */
#include "cli/cli.h"
#include "cli/store/store_cli.h"
#include "compat/nar.h"
#include "store/attest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: straylight store SUBCOMMAND [--store URL] ...\n\n"
            "  add [--name NAME] [--flat] PATH...   add files or trees (content-addressed), print their paths\n"
            "  add-text NAME FILE [--ref PATH]...   add FILE's bytes as a text object (like builtins.toFile)\n"
            "  import --path STOREPATH [--ref P]... [--deriver D] FSPATH  register a tree under a given path\n"
            "  cat STOREPATH[/SUB]                  print a file of the store\n"
            "  ls [STOREPATH[/SUB]]                 list the store's paths, or the files of one path\n"
            "  path-info [--json] [-r] PATH...      NAR hash, size, references, signatures\n"
            "  materialize STOREPATH DEST           restore a path into a new directory DEST\n"
            "  copy (--to URL | --from URL [--no-check-sigs]) PATH...  copy paths and their closures\n"
            "  verify [--trusted-public-keys K] [PATH...]  check blobs, references, signatures\n"
            "  sign --secret-key-file F PATH...     add a signature to each path's info\n"
            "  gc [--roots DIR] [--dry-run] [--grace SECONDS]  delete what the roots do not reach\n"
            "  attest --secret-key-file F [--repo R] [--drv D] [--action-digest X] [--grade JSON]\n"
            "         [--discharge JSON] [--executor JSON] OUTPUT...  sign and record an attestation\n"
            "  attest-push [--repo R] REMOTE        push refs/attestations/ to a git remote\n\n"
            "URLs: local:DIR, file://DIR (Nix binary cache), s3://BUCKET?endpoint=..&region=.., http(s)://..,\n"
            "dry:. Default: $STRAYLIGHT_STORE, store.conf, $XDG_DATA_HOME/straylight.\n");
}

static int fail(const char *sub, ut_err *e)
{
    fprintf(stderr, "error: store %s: %s\n", sub, e->msg ? e->msg : "failed");
    ut_err_clear(e);
    return 1;
}

/* ---- add ---- */
static int cmd_add(int argc, char **argv, cli_store_opts *o)
{
    const char *name = NULL;
    bool flat = false;
    char **paths = ut_xcalloc((size_t)argc + 1, sizeof *paths);
    size_t np = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--flat")) flat = true;
        else paths[np++] = argv[i];
    }
    if (!np) {
        fprintf(stderr, "error: store add: no PATH given\n");
        free(paths);
        return 2;
    }
    st_store *st = cli_store_open(o, NULL, "store add");
    if (!st) {
        free(paths);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < np && !rc; i++) {
        char *abs = realpath(paths[i], NULL);
        if (!abs) {
            fprintf(stderr, "error: store add: '%s': no such file or directory\n", paths[i]);
            rc = 1;
            break;
        }
        const char *base = strrchr(abs, '/');
        base = base && base[1] ? base + 1 : abs;
        char *out = NULL;
        ut_err e = UT_ERR_INIT;
        if (!st_store_add_path(st, abs, name ? name : base, NULL, NULL, flat ? NC_CA_FLAT : NC_CA_NAR, &out, NULL, &e))
            rc = fail("add", &e);
        else printf("%s\n", out);
        free(out);
        free(abs);
    }
    st_store_close(st);
    free(paths);
    return rc;
}

static int cmd_add_text(int argc, char **argv, cli_store_opts *o)
{
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    const char **refs = ut_xcalloc((size_t)argc + 1, sizeof *refs);
    size_t nr = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        if (!strcmp(argv[i], "--ref") && i + 1 < argc) refs[nr++] = argv[++i];
        else if (npos < 2) pos[npos++] = argv[i];
        else npos = 3;
    }
    if (npos != 2) {
        fprintf(stderr, "error: store add-text: expected NAME FILE\n");
        free(refs);
        return 2;
    }
    ut_buf data = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    int rc = 0;
    st_store *st = NULL;
    char *out = NULL;
    if (!ut_read_file(pos[1], &data, &e)) rc = fail("add-text", &e);
    else if (!(st = cli_store_open(o, NULL, "store add-text"))) rc = 1;
    else if (!st_store_add_text(st, pos[0], data.data, data.len, refs, nr, &out, &e)) rc = fail("add-text", &e);
    else printf("%s\n", out);
    free(out);
    st_store_close(st);
    ut_buf_free(&data);
    free(refs);
    return rc;
}

/* ---- cat ---- */
/* ---- import: register a tree under a given (input-addressed) path ---- */
static int cmd_import(int argc, char **argv, cli_store_opts *o)
{
    const char *path = NULL, *deriver = NULL, *fs = NULL;
    const char **refs = ut_xcalloc((size_t)argc + 1, sizeof *refs);
    size_t nr = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        if (!strcmp(argv[i], "--path") && i + 1 < argc) path = argv[++i];
        else if (!strcmp(argv[i], "--ref") && i + 1 < argc) refs[nr++] = argv[++i];
        else if (!strcmp(argv[i], "--deriver") && i + 1 < argc) deriver = argv[++i];
        else fs = argv[i];
    }
    if (!path || !fs) {
        fprintf(stderr, "error: store import: expected --path STOREPATH FSPATH\n");
        free(refs);
        return 2;
    }
    int rc = 0;
    st_store *st = cli_store_open(o, NULL, "store import");
    ut_err e = UT_ERR_INIT;
    if (!st) rc = 1;
    else if (!st_store_import_path(st, path, fs, refs, nr, deriver, NULL, NULL, &e)) rc = fail("import", &e);
    else printf("%s\n", path);
    st_store_close(st);
    free(refs);
    return rc;
}

static int cmd_cat(int argc, char **argv, cli_store_opts *o)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (!c) path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "error: store cat: no STOREPATH given\n");
        return 2;
    }
    st_store *st = cli_store_open(o, NULL, "store cat");
    if (!st) return 1;
    ut_buf out = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    int rc = 0;
    if (!st_store_read_file(st, path, &out, &e)) rc = fail("cat", &e);
    else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) rc = 1;
    ut_buf_free(&out);
    st_store_close(st);
    return rc;
}

/* ---- ls ---- */
typedef struct ls_ctx {
    ut_buf cur;
    size_t *stack;
    size_t depth, cap;
    const char *want;      /* sub path to list ("" = root) */
    size_t shown;
} ls_ctx;

static bool under(ls_ctx *c)
{
    size_t wl = strlen(c->want);
    if (!wl) return true;
    return c->cur.len > wl && !strncmp(c->cur.data, c->want, wl) && c->cur.data[wl] == '/';
}

static void show(ls_ctx *c, const char *kind, const char *extra)
{
    if (!under(c) && strcmp(c->cur.data, c->want)) return;
    printf("%-9s %s%s%s\n", kind, c->cur.len ? c->cur.data : ".", extra ? " -> " : "", extra ? extra : "");
    c->shown++;
}

static bool ls_file(void *ctx, bool exec, uint64_t size, ut_err *e)
{
    (void)e;
    char sz[40];
    snprintf(sz, sizeof sz, "%s", exec ? "exec" : "file");
    (void)size;
    show(ctx, sz, NULL);
    return true;
}
static bool ls_link(void *ctx, nc_str t, ut_err *e)
{
    (void)e;
    char *s = ut_xstrndup(t.s, t.len);
    show(ctx, "symlink", s);
    free(s);
    return true;
}
static bool ls_dir_begin(void *ctx, ut_err *e)
{
    (void)e;
    ls_ctx *c = ctx;
    show(c, "dir", NULL);
    if (c->depth == c->cap) c->stack = ut_xrealloc(c->stack, (c->cap = c->cap ? c->cap * 2 : 16) * sizeof *c->stack);
    c->stack[c->depth++] = c->cur.len;
    return true;
}
static bool ls_entry(void *ctx, nc_str name, ut_err *e)
{
    (void)e;
    ls_ctx *c = ctx;
    c->cur.len = c->stack[c->depth - 1];
    if (c->cur.len) ut_buf_putc(&c->cur, '/');
    ut_buf_append(&c->cur, name.s, name.len);
    return true;
}
static bool ls_dir_end(void *ctx, ut_err *e)
{
    (void)e;
    ls_ctx *c = ctx;
    c->cur.len = c->stack[--c->depth];
    c->cur.data[c->cur.len] = 0;
    return true;
}

static bool feed(void *ctx, const void *p, size_t n, ut_err *e) { return nc_nar_parser_feed(ctx, p, n, e); }

static bool print_path(void *ctx, const char *path)
{
    (void)ctx;
    printf("%s\n", path);
    return true;
}

static int cmd_ls(int argc, char **argv, cli_store_opts *o)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (!c) path = argv[i];
    }
    st_store *st = cli_store_open(o, NULL, "store ls");
    if (!st) return 1;
    ut_err e = UT_ERR_INIT;
    int rc = 0;
    if (!path) {
        if (!st_store_list(st, print_path, NULL, &e)) rc = fail("ls", &e);
        st_store_close(st);
        return rc;
    }
    size_t sdl = strlen(st_store_dir(st));
    const char *slash = strlen(path) > sdl + 1 ? strchr(path + sdl + 1, '/') : NULL;
    char *obj = slash ? ut_xstrndup(path, (size_t)(slash - path)) : ut_xstrdup(path);
    ls_ctx c = {UT_BUF_INIT, NULL, 0, 0, slash ? slash + 1 : "", 0};
    ut_buf_puts(&c.cur, "");
    nc_nar_visitor v = {ls_file, NULL, NULL, ls_link, ls_dir_begin, ls_entry, ls_dir_end};
    nc_nar_parser *p = nc_nar_parser_new(&v, &c);
    if (!st_store_nar(st, obj, feed, p, &e) || !nc_nar_parser_finish(p, &e)) rc = fail("ls", &e);
    else if (!c.shown) {
        fprintf(stderr, "error: store ls: '%s' does not exist\n", path);
        rc = 1;
    }
    nc_nar_parser_free(p);
    ut_buf_free(&c.cur);
    free(c.stack);
    free(obj);
    st_store_close(st);
    return rc;
}

/* ---- path-info ---- */
static json_t *info_json(const st_path_info *pi)
{
    json_t *j = json_object();
    char h[NC_HASH_STR_MAX];
    nc_hash_print(&pi->nar_hash, NC_HASH_NIX32, true, h);
    json_object_set_new(j, "path", json_string(pi->path));
    json_object_set_new(j, "narHash", json_string(h));
    json_object_set_new(j, "narSize", json_integer((json_int_t)pi->nar_size));
    json_t *refs = json_array();
    for (size_t i = 0; i < pi->nrefs; i++) json_array_append_new(refs, json_string(pi->refs[i]));
    json_object_set_new(j, "references", refs);
    if (pi->deriver) json_object_set_new(j, "deriver", json_string(pi->deriver));
    if (pi->ca) json_object_set_new(j, "ca", json_string(pi->ca));
    if (pi->nsigs) {
        json_t *s = json_array();
        for (size_t i = 0; i < pi->nsigs; i++) json_array_append_new(s, json_string(pi->sigs[i]));
        json_object_set_new(j, "signatures", s);
    }
    if (pi->url) json_object_set_new(j, "url", json_string(pi->url));
    return j;
}

static int cmd_path_info(int argc, char **argv, cli_store_opts *o)
{
    bool rec = false;
    const char **paths = ut_xcalloc((size_t)argc + 1, sizeof *paths);
    size_t np = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        if (!strcmp(argv[i], "-r") || !strcmp(argv[i], "--recursive")) rec = true;
        else paths[np++] = argv[i];
    }
    st_store *st = cli_store_open(o, NULL, "store path-info");
    if (!st) {
        free(paths);
        return 1;
    }
    ut_err e = UT_ERR_INIT;
    int rc = 0;
    char **list = NULL;
    size_t nl = 0;
    if (rec) {
        if (!st_store_closure(st, paths, np, &list, &nl, &e)) rc = fail("path-info", &e);
    } else {
        list = ut_xcalloc(np + 1, sizeof *list);
        for (size_t i = 0; i < np; i++) list[i] = ut_xstrdup(paths[i]);
        nl = np;
    }
    json_t *arr = json_array();
    for (size_t i = 0; !rc && i < nl; i++) {
        st_path_info *pi = NULL;
        int r = st_store_query(st, list[i], &pi, &e);
        if (r == 0) {
            fprintf(stderr, "error: store path-info: '%s' is not in %s\n", list[i], st_store_url(st));
            rc = 1;
        } else if (r < 0) {
            rc = fail("path-info", &e);
        } else if (o->json) {
            json_array_append_new(arr, info_json(pi));
        } else {
            char h[NC_HASH_STR_MAX];
            nc_hash_print(&pi->nar_hash, NC_HASH_NIX32, true, h);
            printf("%s\t%s\t%llu\n", pi->path, h, (unsigned long long)pi->nar_size);
        }
        st_path_info_free(pi);
    }
    if (!rc && o->json) {
        char *s = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", s);
        free(s);
    }
    json_decref(arr);
    st_strv_free(list, nl);
    st_store_close(st);
    free(paths);
    return rc;
}

static int cmd_materialize(int argc, char **argv, cli_store_opts *o)
{
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (!c && npos < 3) {
            if (npos < 2) pos[npos] = argv[i];
            npos++;
        }
    }
    if (npos != 2) {
        fprintf(stderr, "error: store materialize: expected STOREPATH DEST\n");
        return 2;
    }
    st_store *st = cli_store_open(o, NULL, "store materialize");
    if (!st) return 1;
    ut_err e = UT_ERR_INIT;
    int rc = st_store_materialize(st, pos[0], pos[1], &e) ? 0 : fail("materialize", &e);
    st_store_close(st);
    return rc;
}

static bool collect(void *ctx, const char *path)
{
    char *p = ut_xstrdup(path);
    ut_buf_append(ctx, &p, sizeof p);
    return true;
}

static int cmd_copy(int argc, char **argv, cli_store_opts *o)
{
    const char *to = NULL, *from = NULL;
    const char **paths = ut_xcalloc((size_t)argc + 1, sizeof *paths);
    size_t np = 0;
    bool all = false, no_sigs = false;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        if (!strcmp(argv[i], "--to") && i + 1 < argc) to = argv[++i];
        else if (!strcmp(argv[i], "--from") && i + 1 < argc) from = argv[++i];
        else if (!strcmp(argv[i], "--all")) all = true;
        else if (!strcmp(argv[i], "--no-check-sigs")) no_sigs = true;
        else paths[np++] = argv[i];
    }
    if (!!to == !!from || (!np && !all)) {
        fprintf(stderr, "error: store copy: give exactly one of --to URL / --from URL, and PATHs (or --all)\n");
        free(paths);
        return 2;
    }
    int rc = 0;
    ut_err e = UT_ERR_INIT;
    st_store *src = NULL, *dst = NULL;
    st_trusted_keys tk = {0};
    if (to) {
        src = cli_store_open(o, NULL, "store copy");
        dst = src ? cli_store_open(o, to, "store copy") : NULL;
    } else {
        src = cli_store_open(o, from, "store copy");
        dst = src ? cli_store_open(o, NULL, "store copy") : NULL;
        /* Substituting from elsewhere: like Nix, only what a trusted key
         * signed (or what is named by its own NAR hash). */
        if (src && !no_sigs) {
            if (!cli_trusted_keys(o, &tk, "store copy")) {
                rc = 1;
            } else if (!tk.n) {
                fprintf(stderr, "error: store copy: no trusted keys to check the signatures of %s: pass "
                                "--trusted-public-keys, set trusted-public-keys in store.conf, or --no-check-sigs\n",
                        from);
                rc = 2;
            } else {
                st_store_require_signatures(src, &tk);
            }
        }
    }
    if (!rc && (!src || !dst)) rc = 1;
    ut_buf listed = UT_BUF_INIT;
    if (!rc && all && !st_store_list(src, collect, &listed, &e)) rc = fail("copy", &e);
    size_t copied = 0;
    const char *const *which = all ? (const char *const *)listed.data : paths;
    size_t nwhich = all ? listed.len / sizeof(char *) : np;
    if (!rc && nwhich && !st_store_copy(src, dst, which, nwhich, &copied, &e)) rc = fail("copy", &e);
    for (size_t i = 0; all && i < listed.len / sizeof(char *); i++) free(((char **)listed.data)[i]);
    if (!rc) fprintf(stderr, "copied %zu path%s\n", copied, copied == 1 ? "" : "s");
    ut_buf_free(&listed);
    st_trusted_keys_free(&tk);
    st_store_close(src);
    st_store_close(dst);
    free(paths);
    return rc;
}

static void report(void *ctx, const char *path, const char *problem)
{
    (void)ctx;
    fprintf(stderr, "%s: %s\n", path, problem);
}

static int cmd_verify(int argc, char **argv, cli_store_opts *o)
{
    const char **paths = ut_xcalloc((size_t)argc + 1, sizeof *paths);
    size_t np = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (!c) paths[np++] = argv[i];
    }
    st_trusted_keys tk = {0};
    st_store *st = NULL;
    int rc = 0;
    if (!cli_trusted_keys(o, &tk, "store verify") || !(st = cli_store_open(o, NULL, "store verify"))) rc = 1;
    ut_err e = UT_ERR_INIT;
    st_verify_report rep;
    if (!rc) {
        bool ok = st_store_verify(st, paths, np, &tk, report, NULL, &rep, &e);
        if (ut_err_isset(&e)) rc = fail("verify", &e);
        else {
            fprintf(stderr, "checked %zu path%s: %zu ok, %zu corrupt, %zu missing, %zu without a trusted signature, %zu bad signature%s\n",
                    rep.checked, rep.checked == 1 ? "" : "s", rep.ok, rep.corrupt, rep.missing, rep.unsigned_, rep.bad_sig,
                    rep.bad_sig == 1 ? "" : "s");
            rc = ok ? 0 : 1;
        }
    }
    st_trusted_keys_free(&tk);
    st_store_close(st);
    free(paths);
    return rc;
}

static int cmd_sign(int argc, char **argv, cli_store_opts *o)
{
    const char **paths = ut_xcalloc((size_t)argc + 1, sizeof *paths);
    size_t np = 0;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (!c) paths[np++] = argv[i];
    }
    if (!o->secret_key_file) {
        fprintf(stderr, "error: store sign: --secret-key-file is required\n");
        free(paths);
        return 2;
    }
    ut_err e = UT_ERR_INIT;
    st_secret_key sk;
    int rc = 0;
    st_store *st = NULL;
    if (!st_secret_key_load(o->secret_key_file, &sk, &e)) {
        rc = fail("sign", &e);
    } else {
        cli_store_opts o2 = *o;
        o2.secret_key_file = NULL;
        st = cli_store_open(&o2, NULL, "store sign");
        if (!st) rc = 1;
        for (size_t i = 0; !rc && i < np; i++)
            if (!st_store_sign_path(st, paths[i], &sk, &e)) rc = fail("sign", &e);
        st_secret_key_wipe(&sk);
    }
    st_store_close(st);
    free(paths);
    return rc;
}

static int cmd_gc(int argc, char **argv, cli_store_opts *o)
{
    const char *roots = NULL;
    bool dry = false;
    long long grace = 3600;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        if (!strcmp(argv[i], "--roots") && i + 1 < argc) roots = argv[++i];
        else if (!strcmp(argv[i], "--dry-run")) dry = true;
        else if (!strcmp(argv[i], "--grace") && i + 1 < argc) grace = atoll(argv[++i]);
        else {
            fprintf(stderr, "error: store gc: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    char *conf = NULL;
    if (!roots) roots = conf = st_config_get("gc-roots");
    if (!roots) {
        /* Without roots everything is garbage: never guess. */
        fprintf(stderr, "error: store gc: no roots: pass --roots DIR or set gc-roots in store.conf\n");
        return 2;
    }
    st_store *st = cli_store_open(o, NULL, "store gc");
    int rc = 0;
    if (!st) rc = 1;
    ut_err e = UT_ERR_INIT;
    st_gc_stats s;
    if (!rc && !st_store_gc(st, roots, grace, dry, &s, &e)) rc = fail("gc", &e);
    if (!rc)
        fprintf(stderr, "%s%zu path%s kept, %zu deleted, %zu blob%s (%llu bytes) freed\n", dry ? "(dry run) " : "",
                s.paths_kept, s.paths_kept == 1 ? "" : "s", s.paths_deleted, s.blobs_deleted,
                s.blobs_deleted == 1 ? "" : "s", (unsigned long long)s.bytes_freed);
    free(conf);
    st_store_close(st);
    return rc;
}

/* ---- attestations ---- */
static int cmd_attest(int argc, char **argv, cli_store_opts *o)
{
    const char *repo = NULL;
    st_attest_input in = {0};
    const char **outs = ut_xcalloc((size_t)argc + 1, sizeof *outs);
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--repo") && has) repo = argv[++i];
        else if (!strcmp(a, "--drv") && has) in.drv_path = argv[++i];
        else if (!strcmp(a, "--action-digest") && has) in.action_digest = argv[++i];
        else if (!strcmp(a, "--grade") && has) in.grade_json = argv[++i];
        else if (!strcmp(a, "--discharge") && has) in.discharge_json = argv[++i];
        else if (!strcmp(a, "--executor") && has) in.executor_json = argv[++i];
        else outs[in.noutputs++] = a;
    }
    in.outputs = outs;
    if (!o->secret_key_file || !in.noutputs) {
        fprintf(stderr, "error: store attest: needs --secret-key-file FILE and OUTPUT paths\n");
        free(outs);
        return 2;
    }
    ut_err e = UT_ERR_INIT;
    st_secret_key sk;
    int rc = 0;
    char *dflt = repo ? NULL : st_attest_default_repo(), *ref = NULL;
    cli_store_opts o2 = *o;
    o2.secret_key_file = NULL;
    st_store *st = NULL;
    if (!st_secret_key_load(o->secret_key_file, &sk, &e)) rc = fail("attest", &e);
    else if (!(st = cli_store_open(&o2, NULL, "store attest"))) rc = 1;
    else if (!st_attest_record(st, repo ? repo : dflt, &in, &sk, &ref, &e)) rc = fail("attest", &e);
    else printf("%s\n", ref);
    st_secret_key_wipe(&sk);
    free(ref);
    free(dflt);
    st_store_close(st);
    free(outs);
    return rc;
}

static int cmd_attest_push(int argc, char **argv, cli_store_opts *o)
{
    const char *repo = NULL, *remote = NULL;
    for (int i = 1; i < argc; i++) {
        int c = cli_store_opt(argc, argv, &i, o);
        if (c < 0) return 2;
        if (c) continue;
        if (!strcmp(argv[i], "--repo") && i + 1 < argc) repo = argv[++i];
        else remote = argv[i];
    }
    if (!remote) {
        fprintf(stderr, "error: store attest-push: no REMOTE given\n");
        return 2;
    }
    char *dflt = repo ? NULL : st_attest_default_repo();
    ut_err e = UT_ERR_INIT;
    int rc = st_attest_push(repo ? repo : dflt, remote, &e) ? 0 : fail("attest-push", &e);
    free(dflt);
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cli_store_opts o = {0};
    /* Common options may come before the subcommand too. */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        int c = cli_store_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (!c) {
            fprintf(stderr, "error: store: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[i];
    argc -= i;
    argv += i;
    if (!strcmp(sub, "add")) return cmd_add(argc, argv, &o);
    if (!strcmp(sub, "add-text")) return cmd_add_text(argc, argv, &o);
    if (!strcmp(sub, "cat")) return cmd_cat(argc, argv, &o);
    if (!strcmp(sub, "import")) return cmd_import(argc, argv, &o);
    if (!strcmp(sub, "ls")) return cmd_ls(argc, argv, &o);
    if (!strcmp(sub, "path-info")) return cmd_path_info(argc, argv, &o);
    if (!strcmp(sub, "materialize")) return cmd_materialize(argc, argv, &o);
    if (!strcmp(sub, "copy")) return cmd_copy(argc, argv, &o);
    if (!strcmp(sub, "verify")) return cmd_verify(argc, argv, &o);
    if (!strcmp(sub, "sign")) return cmd_sign(argc, argv, &o);
    if (!strcmp(sub, "gc")) return cmd_gc(argc, argv, &o);
    if (!strcmp(sub, "attest")) return cmd_attest(argc, argv, &o);
    if (!strcmp(sub, "attest-push")) return cmd_attest_push(argc, argv, &o);
    fprintf(stderr, "error: store: unknown subcommand '%s'\n", sub);
    usage(stderr);
    return 2;
}

const cli_command cli_cmd_store = {"store", "the content-addressed store: add, cat, ls, path-info, copy, verify, gc",
                                   run};
