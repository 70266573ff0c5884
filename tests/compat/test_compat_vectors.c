/* Conformance vectors from Nix's own unit test data: derivations (ATerm and
 * JSON), hashDerivationModulo, store paths, content addresses, hashes and
 * NARs. Every vector file is checked; a failure must be listed in the
 * known-failures file with its reason, and a listed file that passes is an
 * error too (the list must stay honest).
 *
 * usage: test_compat_vectors LIBSTORE_DATA LIBUTIL_DATA KNOWN_FAILURES */
#include "compat/derivation.h"
#include "compat/hash.h"
#include "compat/nar.h"
#include "compat/storepath.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *store_data, *util_data;
static int n_pass, n_fail_known, n_fail_unexpected, n_pass_unexpected;

typedef struct known {
    char *path;
    char *reason;
    bool seen;
} known;
static known *knowns;
static size_t nknowns;

static void load_known(const char *file)
{
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    if (!ut_read_file(file, &b, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(2);
    }
    char *save = NULL;
    for (char *line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sp = strpbrk(line, " \t");
        knowns = ut_xrealloc(knowns, (nknowns + 1) * sizeof *knowns);
        knowns[nknowns].path = ut_xstrndup(line, sp ? (size_t)(sp - line) : strlen(line));
        knowns[nknowns].reason = ut_xstrdup(sp ? sp + 1 : "");
        knowns[nknowns].seen = false;
        nknowns++;
    }
    ut_buf_free(&b);
}

static known *find_known(const char *rel)
{
    for (size_t i = 0; i < nknowns; i++)
        if (strcmp(knowns[i].path, rel) == 0)
            return &knowns[i];
    return NULL;
}

/* Records one vector's outcome; msg owned by the caller. */
static void report(const char *rel, bool ok, const char *msg)
{
    known *k = find_known(rel);
    if (k)
        k->seen = true;
    if (ok && !k) {
        n_pass++;
    } else if (ok && k) {
        n_pass_unexpected++;
        printf("UNEXPECTED PASS %s (listed as known failure: %s)\n", rel, k->reason);
    } else if (!ok && k) {
        n_fail_known++;
        printf("known failure   %s: %s\n", rel, msg ? msg : "");
    } else {
        n_fail_unexpected++;
        printf("FAIL            %s: %s\n", rel, msg ? msg : "");
    }
}

/* ---- helpers ---- */

static bool read_all(const char *path, ut_buf *b)
{
    ut_err e = UT_ERR_INIT;
    bool ok = ut_read_file(path, b, &e);
    ut_err_clear(&e);
    return ok;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Relative paths of all regular files (following symlinks, so dangling
 * ones are listed too) under root/sub, sorted. */
typedef struct flist {
    char **v;
    size_t n;
} flist;

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *root, const char *sub, flist *out)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char rel[4096], full[8192];
        snprintf(rel, sizeof rel, "%s/%s", sub, de->d_name);
        snprintf(full, sizeof full, "%s/%s", root, rel);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            walk(root, rel, out);
            continue;
        }
        out->v = ut_xrealloc(out->v, (out->n + 1) * sizeof *out->v);
        out->v[out->n++] = ut_xstrdup(rel);
    }
    closedir(d);
    qsort(out->v, out->n, sizeof *out->v, cmp_cstr);
}

static void flist_free(flist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static char *json_text(const json_t *j) { return json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENCODE_ANY); }

/* Compares a produced JSON value with the expected one; on mismatch puts
 * both into msg. */
static bool json_same(const json_t *got, const json_t *want, ut_buf *msg)
{
    if (json_equal((json_t *)got, (json_t *)want))
        return true;
    char *g = json_text(got), *w = json_text(want);
    ut_buf_printf(msg, "JSON differs.\n--- got\n%s\n--- want\n%s", g, w);
    free(g);
    free(w);
    return false;
}

/* ---- derivations ---- */

/* The drv files of hash-modulo/, keyed by their own store path, so the
 * modulo lookup can find an input derivation as Nix would in its store. */
typedef struct mod_entry {
    char *path;
    nc_derivation *d;
    bool have;
    nc_drv_hash h;
} mod_entry;
static mod_entry *mods;
static size_t nmods;

static bool mod_lookup(void *ctx, nc_str drv_path, nc_drv_hash *out, ut_err *e)
{
    (void)ctx;
    for (size_t i = 0; i < nmods; i++) {
        if (strlen(mods[i].path) == drv_path.len && memcmp(mods[i].path, drv_path.s, drv_path.len) == 0) {
            if (!mods[i].have) {
                if (!nc_drv_hash_modulo(mods[i].d, NULL, false, mod_lookup, NULL, &mods[i].h, e))
                    return false;
                mods[i].have = true;
            }
            *out = mods[i].h;
            return true;
        }
    }
    return ut_err_set(e, "input derivation '%.*s' is not among the vectors", (int)drv_path.len, drv_path.s);
}

/* Name of a derivation vector: from its JSON twin when there is one, else
 * the file's base name without ".drv". */
static char *drv_name_for(const char *full_drv)
{
    char json_path[4096];
    snprintf(json_path, sizeof json_path, "%.*s.json", (int)(strlen(full_drv) - 4), full_drv);
    json_t *j = json_load_file(json_path, 0, NULL);
    char *name = NULL;
    if (j && json_is_string(json_object_get(j, "name")))
        name = ut_xstrdup(json_string_value(json_object_get(j, "name")));
    json_decref(j);
    if (!name) {
        const char *b = strrchr(full_drv, '/');
        b = b ? b + 1 : full_drv;
        name = ut_xstrndup(b, strlen(b) - 4);
    }
    return name;
}

static void load_modulo_set(const flist *files)
{
    for (size_t i = 0; i < files->n; i++) {
        const char *rel = files->v[i];
        if (strncmp(rel, "derivation/hash-modulo/", 23) != 0 || !ends_with(rel, ".drv") ||
            ends_with(rel, "-modulo.drv"))
            continue;
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", store_data, rel);
        ut_buf b = UT_BUF_INIT;
        if (!read_all(full, &b))
            continue;
        char *name = drv_name_for(full);
        nc_derivation *d = nc_drv_parse(b.data, b.len, NULL, nc_str_c(name), NULL);
        free(name);
        ut_buf_free(&b);
        if (!d)
            continue;
        ut_buf sp = UT_BUF_INIT;
        if (!nc_drv_store_path(d, NULL, &sp, NULL)) {
            nc_drv_free(d);
            continue;
        }
        mods = ut_xrealloc(mods, (nmods + 1) * sizeof *mods);
        mods[nmods].path = ut_buf_steal(&sp, NULL);
        mods[nmods].d = d;
        mods[nmods].have = false;
        nmods++;
    }
}

/* A .drv vector: parses (or must fail to, for bad-*), prints back
 * byte-identically, agrees with its JSON twin in both directions. */
static void check_drv(const char *rel)
{
    char full[8192], label[8192];
    snprintf(full, sizeof full, "%s/%s", store_data, rel);
    snprintf(label, sizeof label, "libstore/%s", rel);
    const char *base = strrchr(rel, '/') + 1;
    ut_buf b = UT_BUF_INIT, msg = UT_BUF_INIT, out = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    bool ok = false;
    nc_derivation *d = NULL, *d2 = NULL;
    json_t *want = NULL, *got = NULL;

    if (!read_all(full, &b)) {
        report(label, false, "file missing from the corpus");
        goto done;
    }
    if (strncmp(base, "bad-", 4) == 0) {
        const char *name = strcmp(base, "bad-ca-fixed-path.drv") == 0 ? "fixed"
                           : strcmp(base, "bad-old-version-dyn-deps.drv") == 0 ? "dyn-dep-derivation"
                                                                               : "whatever";
        d = nc_drv_parse(b.data, b.len, NULL, nc_str_c(name), &e);
        if (d)
            report(label, false, "a bad derivation parsed");
        else
            report(label, true, NULL);
        goto done;
    }
    char *name = drv_name_for(full);
    d = nc_drv_parse(b.data, b.len, NULL, nc_str_c(name), &e);
    free(name);
    if (!d) {
        report(label, false, e.msg);
        goto done;
    }
    nc_drv_print(d, &out);
    bool sorted_input = true;
    if (out.len != b.len || memcmp(out.data, b.data, b.len) != 0) {
        /* Nix sorts while parsing: a vector written unsorted (hello.drv,
         * firefox.drv are benchmark inputs) cannot print back as it was,
         * but must reach a fixed point. */
        sorted_input = false;
        d2 = nc_drv_parse(out.data, out.len, NULL, d->name, &e);
        ut_buf out2 = UT_BUF_INIT;
        if (d2)
            nc_drv_print(d2, &out2);
        bool fixed = d2 && out2.len == out.len && memcmp(out2.data, out.data, out.len) == 0;
        ut_buf_free(&out2);
        nc_drv_free(d2);
        d2 = NULL;
        if (!fixed) {
            report(label, false, "re-printed ATerm is not a fixed point");
            goto done;
        }
    }
    char json_path[8192];
    snprintf(json_path, sizeof json_path, "%.*s.json", (int)(strlen(full) - 4), full);
    if (exists(json_path)) {
        want = json_load_file(json_path, 0, NULL);
        got = nc_drv_to_json(d);
        if (!want || !json_same(got, want, &msg)) {
            report(label, false, msg.data ? msg.data : "cannot read JSON twin");
            goto done;
        }
        d2 = nc_drv_from_json(want, NULL, &e);
        if (!d2) {
            report(label, false, e.msg);
            goto done;
        }
        ut_buf_clear(&out);
        nc_drv_print(d2, &out);
        if (sorted_input && (out.len != b.len || memcmp(out.data, b.data, b.len) != 0)) {
            ut_buf_printf(&msg, "ATerm from JSON differs:\n%s", out.data);
            report(label, false, msg.data);
            goto done;
        }
    }
    /* hashDerivationModulo: X.drv against X-modulo.drv, the masked ATerm
     * with inputs replaced by their modulo hashes. */
    char mod_path[8192];
    snprintf(mod_path, sizeof mod_path, "%.*s-modulo.drv", (int)(strlen(full) - 4), full);
    if (exists(mod_path)) {
        ut_buf want_mod = UT_BUF_INIT;
        read_all(mod_path, &want_mod);
        ut_buf_clear(&out);
        if (!nc_drv_print_modulo(d, NULL, true, mod_lookup, NULL, &out, &e)) {
            report(label, false, e.msg);
            ut_buf_free(&want_mod);
            goto done;
        }
        bool same = out.len == want_mod.len && memcmp(out.data, want_mod.data, out.len) == 0;
        if (!same)
            ut_buf_printf(&msg, "modulo ATerm differs:\n got %s\nwant %s", out.data, want_mod.data);
        ut_buf_free(&want_mod);
        if (!same) {
            report(label, false, msg.data);
            goto done;
        }
    }
    ok = true;
    report(label, ok, NULL);
done:
    json_decref(want);
    json_decref(got);
    nc_drv_free(d);
    nc_drv_free(d2);
    ut_buf_free(&b);
    ut_buf_free(&msg);
    ut_buf_free(&out);
    ut_err_clear(&e);
}

/* A derivation JSON without a readable .drv twin: JSON -> derivation -> JSON. */
static void check_drv_json(const char *rel)
{
    char full[8192], label[8192];
    snprintf(full, sizeof full, "%s/%s", store_data, rel);
    snprintf(label, sizeof label, "libstore/%s", rel);
    ut_err e = UT_ERR_INIT;
    ut_buf msg = UT_BUF_INIT;
    json_error_t je;
    json_t *want = json_load_file(full, 0, &je), *got = NULL;
    nc_derivation *d = NULL;
    if (!want) {
        report(label, false, je.text);
        goto done;
    }
    d = nc_drv_from_json(want, NULL, &e);
    if (!d) {
        report(label, false, e.msg);
        goto done;
    }
    got = nc_drv_to_json(d);
    bool same = json_same(got, want, &msg);
    report(label, same, msg.data);
done:
    json_decref(want);
    json_decref(got);
    nc_drv_free(d);
    ut_err_clear(&e);
    ut_buf_free(&msg);
}

/* invariants/: Nix's fill-in and invariant checks. X-pre.json filled in
 * must be X-post.json (or stay as it is when there is no post), bad-*.json
 * must fail the invariant check, anything else must pass it and be left
 * unchanged by filling. An input derivation the vectors do not contain
 * makes the vector fail rather than pass for the wrong reason. */
static bool missing_input;
static bool inv_lookup(void *ctx, nc_str p, nc_drv_hash *out, ut_err *e)
{
    (void)ctx;
    (void)out;
    missing_input = true;
    return ut_err_set(e, "input derivation '%.*s' is not among the vectors (Nix's test makes it in C++)", (int)p.len,
                      p.s);
}

static void check_invariants(const char *rel)
{
    char full[8192], label[8192], post[8192];
    snprintf(full, sizeof full, "%s/%s", store_data, rel);
    snprintf(label, sizeof label, "libstore/%s", rel);
    const char *base = strrchr(rel, '/') + 1;
    ut_err e = UT_ERR_INIT;
    ut_buf msg = UT_BUF_INIT;
    json_t *want = json_load_file(full, 0, NULL), *got = NULL, *expect = NULL;
    nc_derivation *d = want ? nc_drv_from_json(want, NULL, &e) : NULL;
    bool ok = false;
    missing_input = false;
    if (!d) {
        report(label, false, e.msg ? e.msg : "unreadable JSON");
        goto done;
    }
    got = nc_drv_to_json(d);
    if (!json_same(got, want, &msg)) {
        report(label, false, msg.data);
        goto done;
    }
    if (strncmp(base, "bad-", 4) == 0) {
        ok = !nc_drv_check_invariants(d, NULL, inv_lookup, NULL, &e) && !missing_input;
        if (!ok)
            ut_buf_puts(&msg, missing_input ? e.msg : "invariant check passed a bad derivation");
        else
            printf("  (%s rejected: %s)\n", rel, e.msg);
    } else {
        bool pre = ends_with(base, "-pre.json");
        if (pre) {
            snprintf(post, sizeof post, "%.*s-post.json", (int)(strlen(full) - 9), full);
            expect = exists(post) ? json_load_file(post, 0, NULL) : json_incref(want);
        } else {
            expect = json_incref(want);
            if (!nc_drv_check_invariants(d, NULL, inv_lookup, NULL, &e)) {
                report(label, false, e.msg);
                goto done;
            }
        }
        if (!nc_drv_fill_outputs(d, NULL, inv_lookup, NULL, &e)) {
            report(label, false, e.msg);
            goto done;
        }
        json_decref(got);
        got = nc_drv_to_json(d);
        ok = json_same(got, expect, &msg);
    }
    report(label, ok, msg.data);
done:
    json_decref(want);
    json_decref(got);
    json_decref(expect);
    nc_drv_free(d);
    ut_err_clear(&e);
    ut_buf_free(&msg);
}

/* output-<kind>.json: one derivation output, as Nix's test builds it for a
 * derivation "drv-name" with output "output-name". */
static void check_output_json(const char *rel)
{
    char full[8192], label[8192];
    snprintf(full, sizeof full, "%s/%s", store_data, rel);
    snprintf(label, sizeof label, "libstore/%s", rel);
    ut_err e = UT_ERR_INIT;
    ut_buf msg = UT_BUF_INIT;
    json_t *want = json_load_file(full, 0, NULL), *got = NULL;
    nc_derivation *d = NULL;
    if (!want) {
        report(label, false, "unreadable JSON");
        goto done;
    }
    json_t *wrap = json_pack("{s:s, s:i, s:{s:O}, s:{s:{}, s:[]}, s:s, s:s, s:[], s:{}}", "name", "drv-name",
                             "version", 4, "outputs", "output-name", want, "inputs", "drvs", "srcs", "system", "x",
                             "builder", "y", "args", "env");
    d = nc_drv_from_json(wrap, NULL, &e);
    json_decref(wrap);
    if (!d) {
        report(label, false, e.msg);
        goto done;
    }
    got = nc_drv_to_json(d);
    bool same = json_same(json_object_get(json_object_get(got, "outputs"), "output-name"), want, &msg);
    report(label, same, msg.data);
done:
    json_decref(want);
    json_decref(got);
    nc_drv_free(d);
    ut_err_clear(&e);
    ut_buf_free(&msg);
}

/* ---- store paths, content addresses, hashes ---- */

static void check_store_path(const char *rel)
{
    char full[8192], label[8192];
    snprintf(full, sizeof full, "%s/%s", store_data, rel);
    snprintf(label, sizeof label, "libstore/%s", rel);
    json_t *j = json_load_file(full, JSON_DECODE_ANY, NULL);
    ut_err e = UT_ERR_INIT;
    if (!json_is_string(j)) {
        report(label, false, "not a JSON string");
    } else {
        nc_store_path_parts p;
        nc_str s = nc_str_n(json_string_value(j), json_string_length(j));
        bool ok = nc_store_base_parse(s, &p, &e);
        /* and a full path made from it splits back to the same pieces */
        ut_buf full_path = UT_BUF_INIT;
        nc_store_path_parts q;
        if (ok) {
            ut_buf_printf(&full_path, "%s/%s", NC_STORE_DIR_DEFAULT, json_string_value(j));
            ok = nc_store_path_parse(NULL, nc_str_n(full_path.data, full_path.len), &q, &e) &&
                 nc_str_eq(q.hash, p.hash) && nc_str_eq(q.name, p.name);
        }
        report(label, ok, e.msg);
        ut_buf_free(&full_path);
    }
    json_decref(j);
    ut_err_clear(&e);
}

static void check_content_address(const char *rel)
{
    char full[8192], label[8192];
    snprintf(full, sizeof full, "%s/%s", store_data, rel);
    snprintf(label, sizeof label, "libstore/%s", rel);
    json_t *j = json_load_file(full, 0, NULL);
    ut_err e = UT_ERR_INIT;
    ut_buf msg = UT_BUF_INIT;
    const json_t *h = json_object_get(j, "hash"), *m = json_object_get(j, "method");
    nc_content_address ca;
    bool ok = json_is_string(h) && json_is_string(m) &&
              nc_ca_method_from_name(json_string_value(m), json_string_length(m), &ca.method) &&
              nc_hash_parse_sri(json_string_value(h), json_string_length(h), &ca.hash, &e);
    if (ok) {
        /* The rendered form parses back to the same address. */
        ut_buf r = UT_BUF_INIT;
        nc_ca_render(&r, &ca);
        nc_content_address back;
        ok = nc_ca_parse(r.data, r.len, &back, &e) && back.method == ca.method && nc_hash_eq(&back.hash, &ca.hash);
        char sri[NC_HASH_STR_MAX];
        nc_hash_print(&ca.hash, NC_HASH_SRI, true, sri);
        if (ok && strcmp(sri, json_string_value(h)) != 0) {
            ok = false;
            ut_buf_printf(&msg, "SRI re-print %s differs", sri);
        }
        ut_buf_free(&r);
    }
    report(label, ok, e.msg ? e.msg : msg.data ? msg.data : "malformed vector");
    json_decref(j);
    ut_err_clear(&e);
    ut_buf_free(&msg);
}

static void check_hash_json(const char *rel)
{
    char full[8192], label[8192];
    snprintf(full, sizeof full, "%s/%s", util_data, rel);
    snprintf(label, sizeof label, "libutil/%s", rel);
    json_t *j = json_load_file(full, JSON_DECODE_ANY, NULL);
    ut_err e = UT_ERR_INIT;
    ut_buf msg = UT_BUF_INIT;
    nc_hash h;
    bool ok = json_is_string(j) && nc_hash_parse_sri(json_string_value(j), json_string_length(j), &h, &e);
    if (ok) {
        char out[NC_HASH_STR_MAX];
        nc_hash_print(&h, NC_HASH_SRI, true, out);
        if (strcmp(out, json_string_value(j)) != 0) {
            ok = false;
            ut_buf_printf(&msg, "re-printed as %s", out);
        }
        /* Nix's hash tests hash the string "asdf"; check the digest too. */
        nc_hash mine;
        nc_hash_bytes(h.algo, "asdf", 4, &mine);
        if (ok && !nc_hash_eq(&mine, &h)) {
            ok = false;
            ut_buf_printf(&msg, "is not %s(\"asdf\")", nc_hash_algo_name(h.algo));
        }
    }
    report(label, ok, e.msg ? e.msg : msg.data);
    json_decref(j);
    ut_err_clear(&e);
    ut_buf_free(&msg);
}

/* ---- NARs ---- */

/* Re-serialises what the parser saw through the writer. */
typedef struct rewrite {
    nc_nar_writer *w;
    ut_buf bytes;
} rewrite;

static void sink_buf(void *ctx, const void *p, size_t n) { ut_buf_append(ctx, p, n); }
static bool rw_file_begin(void *c, bool x, uint64_t n, ut_err *e) { return nc_nar_file_begin(((rewrite *)c)->w, x, n, e); }
static bool rw_file_data(void *c, const void *p, size_t n, ut_err *e) { return nc_nar_file_data(((rewrite *)c)->w, p, n, e); }
static bool rw_file_end(void *c, ut_err *e) { return nc_nar_file_end(((rewrite *)c)->w, e); }
static bool rw_symlink(void *c, nc_str t, ut_err *e) { return nc_nar_symlink(((rewrite *)c)->w, t, e); }
static bool rw_dir_begin(void *c, ut_err *e) { return nc_nar_dir_begin(((rewrite *)c)->w, e); }
static bool rw_dir_entry(void *c, nc_str n, ut_err *e) { return nc_nar_dir_entry(((rewrite *)c)->w, n, e); }
static bool rw_dir_end(void *c, ut_err *e) { return nc_nar_dir_end(((rewrite *)c)->w, e); }
static const nc_nar_visitor rw_visitor = {rw_file_begin, rw_file_data, rw_file_end, rw_symlink,
                                          rw_dir_begin,  rw_dir_entry, rw_dir_end};

static void check_nar(const char *rel)
{
    char full[8192], label[8192];
    snprintf(full, sizeof full, "%s/%s", util_data, rel);
    snprintf(label, sizeof label, "libutil/%s", rel);
    /* Of Nix's NAR vectors only this one is a valid archive; every other
     * one is a malformation its parser must reject. */
    bool valid = ends_with(rel, "/regular-one-byte-zero-padding.nar");
    ut_buf b = UT_BUF_INIT, msg = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    read_all(full, &b);
    rewrite rw = {NULL, UT_BUF_INIT};
    rw.w = nc_nar_writer_new(sink_buf, &rw.bytes, NULL);
    bool parsed = nc_nar_parse(b.data, b.len, &rw_visitor, &rw, &e);
    bool ok;
    if (valid) {
        ok = parsed && nc_nar_writer_finish(rw.w, NULL, NULL, &e) && rw.bytes.len == b.len &&
             memcmp(rw.bytes.data, b.data, b.len) == 0;
        if (!ok && !e.msg)
            ut_buf_puts(&msg, "re-serialised NAR differs");
        /* Fed one byte at a time it must give the same verdict. */
        nc_nar_parser *p = nc_nar_parser_new(NULL, NULL);
        for (size_t i = 0; ok && i < b.len; i++)
            ok = nc_nar_parser_feed(p, b.data + i, 1, &e);
        ok = ok && nc_nar_parser_finish(p, &e);
        nc_nar_parser_free(p);
    } else {
        ok = !parsed;
        if (!ok)
            ut_buf_puts(&msg, "malformed NAR was accepted");
        else
            printf("  (%s rejected: %s)\n", rel, e.msg);
    }
    report(label, ok, e.msg && valid ? e.msg : msg.data);
    nc_nar_writer_free(rw.w);
    ut_buf_free(&rw.bytes);
    ut_buf_free(&b);
    ut_buf_free(&msg);
    ut_err_clear(&e);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s LIBSTORE_DATA LIBUTIL_DATA KNOWN_FAILURES\n", argv[0]);
        return 2;
    }
    store_data = argv[1];
    util_data = argv[2];
    load_known(argv[3]);
    if (!exists(store_data) || !exists(util_data)) {
        fprintf(stderr, "test data not found under %s / %s (run scripts/setup.sh)\n", store_data, util_data);
        return 2;
    }

    flist sf = {0};
    walk(store_data, "derivation", &sf);
    load_modulo_set(&sf);
    for (size_t i = 0; i < sf.n; i++) {
        const char *rel = sf.v[i];
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", store_data, rel);
        if (ends_with(rel, "-modulo.drv")) {
            continue;   /* checked through the derivation it belongs to */
        } else if (ends_with(rel, ".drv")) {
            check_drv(rel);
        } else if (ends_with(rel, ".json")) {
            const char *base = strrchr(rel, '/') + 1;
            char drv[8192];
            snprintf(drv, sizeof drv, "%.*s.drv", (int)(strlen(full) - 5), full);
            if (strncmp(base, "output-", 7) == 0)
                check_output_json(rel);
            else if (strncmp(rel, "derivation/invariants/", 22) == 0)
                check_invariants(rel);
            else if (!exists(drv))   /* absent or a dangling link */
                check_drv_json(rel);
            /* else: checked with its .drv twin */
        }
    }
    flist_free(&sf);

    flist pf = {0};
    walk(store_data, "store-path", &pf);
    for (size_t i = 0; i < pf.n; i++)
        check_store_path(pf.v[i]);
    flist_free(&pf);
    flist cf = {0};
    walk(store_data, "content-address", &cf);
    for (size_t i = 0; i < cf.n; i++)
        check_content_address(cf.v[i]);
    flist_free(&cf);

    flist hf = {0};
    walk(util_data, "hash", &hf);
    for (size_t i = 0; i < hf.n; i++)
        check_hash_json(hf.v[i]);
    flist_free(&hf);
    flist nf = {0};
    walk(util_data, "nars", &nf);
    for (size_t i = 0; i < nf.n; i++)
        check_nar(nf.v[i]);
    flist_free(&nf);

    for (size_t i = 0; i < nknowns; i++) {
        if (!knowns[i].seen) {
            printf("STALE known-failure entry (no such vector): %s\n", knowns[i].path);
            n_pass_unexpected++;
        }
    }
    int total = n_pass + n_fail_known + n_fail_unexpected + n_pass_unexpected;
    printf("compat vectors: %d/%d pass, %d known failures, %d unexpected failures, %d unexpected passes/stale\n",
           n_pass, total, n_fail_known, n_fail_unexpected, n_pass_unexpected);
    for (size_t i = 0; i < nmods; i++) {
        free(mods[i].path);
        nc_drv_free(mods[i].d);
    }
    free(mods);
    for (size_t i = 0; i < nknowns; i++) {
        free(knowns[i].path);
        free(knowns[i].reason);
    }
    free(knowns);
    return n_fail_unexpected || n_pass_unexpected ? 1 : 0;
}
