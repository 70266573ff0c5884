/* Against binary caches and a key written by Nix 2.8 itself
 * (corpus/store-reference, made by corpus/gen-store-reference.sh): the same
 * signatures from the same key, the same paths and NAR hashes, substitution
 * from an uncompressed and an xz cache, and refusal of tampered caches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/store/scratch.h"

#include "compat/hash.h"
#include "store/keys.h"
#include "store/store.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ref;      /* corpus/store-reference */
static char tmp_root[256];

static char *readf(const char *rel)
{
    ut_buf p = UT_BUF_INIT, b = UT_BUF_INIT;
    ut_buf_printf(&p, "%s/%s", ref, rel);
    ut_err e = UT_ERR_INIT;
    if (!ut_read_file(p.data, &b, &e)) fail_msg("%s", e.msg);
    while (b.len && (b.data[b.len - 1] == '\n')) b.data[--b.len] = 0;
    ut_buf_free(&p);
    return ut_buf_steal(&b, NULL);
}

static st_store *open_url(const char *fmt, const char *arg)
{
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, fmt, arg);
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open(u.data, &e);
    if (!st) fail_msg("%s", e.msg);
    ut_buf_free(&u);
    return st;
}

typedef struct row {
    char path[256], hash[64], refs[512];
    unsigned long long size;
} row;

static size_t load(row *rows, size_t max)
{
    char *t = readf("paths.tsv");
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(t, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
        row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        char *f[4] = {line, NULL, NULL, NULL};
        for (int i = 1; i < 4; i++) {
            char *tab = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
            if (tab) {
                *tab = 0;
                f[i] = tab + 1;
            }
        }
        snprintf(r->path, sizeof r->path, "%s", f[0]);
        snprintf(r->hash, sizeof r->hash, "%s", f[1]);
        r->size = strtoull(f[2], NULL, 10);
        snprintf(r->refs, sizeof r->refs, "%s", f[3] ? f[3] : "");
    }
    free(t);
    return n;
}

static void keys_and_signatures(void **state)
{
    (void)state;
    char *sec = readf("key.sec"), *pub = readf("key.pub");
    st_secret_key sk;
    ut_err e = UT_ERR_INIT;
    if (!st_secret_key_parse(sec, strlen(sec), &sk, &e)) fail_msg("%s", e.msg);
    st_public_key pk;
    st_secret_key_public(&sk, &pk);
    char *pubt = st_public_key_format(&pk), *sect = st_secret_key_format(&sk);
    assert_string_equal(pubt, pub);
    assert_string_equal(sect, sec);
    st_trusted_keys tk = {0};
    assert_true(st_trusted_keys_add(&tk, pub, &e));

    row rows[8];
    size_t n = load(rows, 8);
    assert_int_equal(n, 3);
    st_store *cache = open_url("file://%s/cache-none", ref);
    for (size_t i = 0; i < n; i++) {
        st_path_info *pi = NULL;
        assert_int_equal(st_store_query(cache, rows[i].path, &pi, &e), 1);
        assert_int_equal(pi->nsigs, 1);
        ut_buf fp = UT_BUF_INIT;
        assert_true(st_path_info_fingerprint(cache, pi, &fp, &e));
        /* ed25519 is deterministic: our signature is Nix's, byte for byte. */
        char *sig = st_sign(&sk, fp.data, fp.len);
        assert_string_equal(sig, pi->sigs[0]);
        assert_int_equal(st_verify(&tk, fp.data, fp.len, sig, strlen(sig)), ST_SIG_VALID);
        /* One bit off in the message: bad. */
        fp.data[3] ^= 1;
        assert_int_equal(st_verify(&tk, fp.data, fp.len, sig, strlen(sig)), ST_SIG_BAD);
        fp.data[3] ^= 1;
        /* Same name, another key: bad; another name: unknown signer. */
        st_secret_key other;
        assert_true(st_key_generate("straylight-test-1", &other, &e));
        char *osig = st_sign(&other, fp.data, fp.len);
        assert_int_equal(st_verify(&tk, fp.data, fp.len, osig, strlen(osig)), ST_SIG_BAD);
        free(osig);
        assert_true(st_key_generate("someone-else", &other, &e));
        osig = st_sign(&other, fp.data, fp.len);
        assert_int_equal(st_verify(&tk, fp.data, fp.len, osig, strlen(osig)), ST_SIG_UNKNOWN_SIGNER);
        free(osig);
        /* The fingerprint's form. */
        ut_buf want = UT_BUF_INIT;
        ut_buf_printf(&want, "1;%s;%s;%llu;", rows[i].path, rows[i].hash, rows[i].size);
        for (const char *r = rows[i].refs; *r; r++) ut_buf_putc(&want, *r == ' ' ? ',' : *r);
        assert_string_equal(fp.data, want.data);
        /* Our narinfo text is Nix's. */
        ut_buf ours = UT_BUF_INIT;
        st_path_info_narinfo(cache, pi, &ours);
        ut_buf rel = UT_BUF_INIT;
        ut_buf_printf(&rel, "cache-none/%.32s.narinfo", rows[i].path + 11);
        char *theirs = readf(rel.data);
        ut_buf_printf(&ours, "%s", "");
        while (ours.len && ours.data[ours.len - 1] == '\n') ours.data[--ours.len] = 0;
        assert_string_equal(ours.data, theirs);
        free(theirs);
        ut_buf_free(&rel);
        ut_buf_free(&ours);
        ut_buf_free(&want);
        free(sig);
        ut_buf_free(&fp);
        st_path_info_free(pi);
    }
    /* Malformed keys are refused with a message. */
    assert_false(st_public_key_parse("nocolon", 7, &pk, &e));
    ut_err_clear(&e);
    assert_false(st_public_key_parse("n:AAAA", 6, &pk, &e));
    ut_err_clear(&e);
    char bad[200];
    snprintf(bad, sizeof bad, "%s", sec);
    char *colon = strchr(bad, ':');
    colon[5] = colon[5] == 'A' ? 'B' : 'A';   /* seed no longer matches the public half */
    assert_false(st_secret_key_parse(bad, strlen(bad), &sk, &e));
    ut_err_clear(&e);
    st_store_close(cache);
    st_trusted_keys_free(&tk);
    free(pubt);
    free(sect);
    free(sec);
    free(pub);
}

/* Adding the same objects to a straylight store gives Nix's paths. */
static void same_paths(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open("mem:", &e);
    char *tree_path = readf("tree-path"), *text_path = readf("text-path");
    ut_buf t = UT_BUF_INIT;
    ut_buf_printf(&t, "%s/tree", ref);
    char *got = NULL;
    assert_true(st_store_add_path(st, t.data, "tree", NULL, NULL, NC_CA_NAR, &got, NULL, &e));
    assert_string_equal(got, tree_path);
    free(got);
    char *a = NULL, *b = NULL;
    assert_true(st_store_add_text(st, "a.txt", "A\n", 2, NULL, 0, &a, &e));
    ut_buf body = UT_BUF_INIT;
    ut_buf_printf(&body, "refers to %s\n", a);
    const char *refs[] = {a};
    assert_true(st_store_add_text(st, "b.txt", body.data, body.len, refs, 1, &b, &e));
    assert_string_equal(b, text_path);
    ut_buf_free(&body);
    ut_buf_free(&t);
    free(a);
    free(b);
    free(tree_path);
    free(text_path);
    st_store_close(st);
}

static bool same_file(const char *a, const char *b)
{
    ut_buf x = UT_BUF_INIT, y = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    bool ok = ut_read_file(a, &x, &e) && ut_read_file(b, &y, &e) && x.len == y.len && !memcmp(x.data, y.data, x.len);
    ut_err_clear(&e);
    ut_buf_free(&x);
    ut_buf_free(&y);
    return ok;
}

static void substitute(const char *cache_name)
{
    char *pub = readf("key.pub"), *tree_path = readf("tree-path"), *text_path = readf("text-path");
    ut_err e = UT_ERR_INIT;
    st_trusted_keys tk = {0};
    assert_true(st_trusted_keys_add(&tk, pub, &e));
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "file://%s/%s", ref, cache_name);
    st_store *src = st_store_open(u.data, &e);
    st_store_require_signatures(src, &tk);
    ut_buf d = UT_BUF_INIT;
    ut_buf_printf(&d, "local:%s/%s", tmp_root, cache_name);
    st_store *dst = st_store_open(d.data, &e);
    const char *paths[] = {tree_path, text_path};
    size_t copied = 0;
    if (!st_store_copy(src, dst, paths, 2, &copied, &e)) fail_msg("%s", e.msg);
    assert_int_equal(copied, 3);
    st_verify_report rep;
    assert_true(st_store_verify(dst, NULL, 0, &tk, NULL, NULL, &rep, &e));
    assert_int_equal(rep.ok, 3);
    ut_buf out = UT_BUF_INIT, f = UT_BUF_INIT, g = UT_BUF_INIT;
    ut_buf_printf(&out, "%s/%s-tree", tmp_root, cache_name);
    if (!st_store_materialize(dst, tree_path, out.data, &e)) fail_msg("%s", e.msg);
    ut_buf_printf(&f, "%s/tree/sub/run.sh", ref);
    ut_buf_printf(&g, "%s/sub/run.sh", out.data);
    assert_true(same_file(f.data, g.data));
    struct stat sb;
    assert_int_equal(stat(g.data, &sb), 0);
    assert_true(sb.st_mode & S_IXUSR);
    ut_buf_free(&f);
    ut_buf_free(&g);
    ut_buf_free(&out);
    ut_buf_free(&u);
    ut_buf_free(&d);
    st_store_close(src);
    st_store_close(dst);
    st_trusted_keys_free(&tk);
    free(pub);
    free(tree_path);
    free(text_path);
}

static void substitute_none(void **state)
{
    (void)state;
    substitute("cache-none");
}

static void substitute_xz(void **state)
{
    (void)state;
    substitute("cache-xz");
}

static void cp_tree(const char *from, const char *to)
{
    ut_buf cmd = UT_BUF_INIT;
    ut_buf_printf(&cmd, "cp -r '%s' '%s' && chmod -R u+w '%s'", from, to, to);
    assert_int_equal(system(cmd.data), 0);
    ut_buf_free(&cmd);
}

/* A tampered cache: a flipped NAR byte, a narinfo edited after signing, an
 * untrusted signer. Each is refused and nothing lands in the target. */
static void tampered(void **state)
{
    (void)state;
    char *pub = readf("key.pub"), *tree_path = readf("tree-path");
    ut_err e = UT_ERR_INIT;
    st_trusted_keys tk = {0};
    assert_true(st_trusted_keys_add(&tk, pub, &e));
    ut_buf from = UT_BUF_INIT, to = UT_BUF_INIT;
    ut_buf_printf(&from, "%s/cache-none", ref);
    ut_buf_printf(&to, "%s/tampered", tmp_root);
    cp_tree(from.data, to.data);

    /* 1: flip a byte of the tree's NAR. */
    st_store *src = open_url("file://%s", to.data);
    st_path_info *pi = NULL;
    assert_int_equal(st_store_query(src, tree_path, &pi, &e), 1);
    ut_buf nar = UT_BUF_INIT, np = UT_BUF_INIT;
    ut_buf_printf(&np, "%s/%s", to.data, pi->url);
    assert_true(ut_read_file(np.data, &nar, &e));
    nar.data[200] ^= 0x20;
    assert_true(ut_write_file_atomic(np.data, nar.data, nar.len, 0644, &e));
    st_store *dst = open_url("local:%s/t-dst", tmp_root);
    const char *paths[] = {tree_path};
    assert_false(st_store_copy(src, dst, paths, 1, NULL, &e));
    assert_non_null(strstr(e.msg, "is damaged"));
    ut_err_clear(&e);
    assert_int_equal(st_store_query(dst, tree_path, NULL, &e), 0);
    nar.data[200] ^= 0x20;
    assert_true(ut_write_file_atomic(np.data, nar.data, nar.len, 0644, &e));

    /* 2: narinfo edited after signing: a different NarSize. The text object
     * (b.txt) needs its signature; the tree is named by its NAR hash, so the
     * edit shows as a damaged NAR instead. */
    char *text_path = readf("text-path");
    const char *tpaths[] = {text_path};
    ut_buf ip = UT_BUF_INIT, info = UT_BUF_INIT;
    ut_buf_printf(&ip, "%s/%.32s.narinfo", to.data, text_path + 11);
    assert_true(ut_read_file(ip.data, &info, &e));
    char *ns = strstr(info.data, "NarSize: 176");
    assert_non_null(ns);
    ns[11] = '7';
    assert_true(ut_write_file_atomic(ip.data, info.data, info.len, 0644, &e));
    st_store_require_signatures(src, &tk);
    assert_false(st_store_copy(src, dst, tpaths, 1, NULL, &e));
    assert_non_null(strstr(e.msg, "does not verify"));
    ut_err_clear(&e);
    ns[11] = '6';
    assert_true(ut_write_file_atomic(ip.data, info.data, info.len, 0644, &e));
    ut_buf tip = UT_BUF_INIT, tinfo = UT_BUF_INIT;
    ut_buf_printf(&tip, "%s/%.32s.narinfo", to.data, tree_path + 11);
    assert_true(ut_read_file(tip.data, &tinfo, &e));
    char *tns = strstr(tinfo.data, "NarSize: 888");
    assert_non_null(tns);
    tns[11] = '9';
    assert_true(ut_write_file_atomic(tip.data, tinfo.data, tinfo.len, 0644, &e));
    assert_false(st_store_copy(src, dst, paths, 1, NULL, &e));
    assert_non_null(strstr(e.msg, "is damaged"));
    ut_err_clear(&e);
    tns[11] = '8';
    assert_true(ut_write_file_atomic(tip.data, tinfo.data, tinfo.len, 0644, &e));

    /* 3: an untrusted signer: the text object is refused; the tree, named by
     * its own NAR hash, needs no signature (as in Nix). */
    st_trusted_keys other = {0};
    st_secret_key ok;
    assert_true(st_key_generate("other-key", &ok, &e));
    st_public_key opk;
    st_secret_key_public(&ok, &opk);
    char *ot = st_public_key_format(&opk);
    assert_true(st_trusted_keys_add(&other, ot, &e));
    st_store_require_signatures(src, &other);
    assert_false(st_store_copy(src, dst, tpaths, 1, NULL, &e));
    assert_non_null(strstr(e.msg, "not trusted"));
    ut_err_clear(&e);
    assert_int_equal(st_store_query(dst, text_path, NULL, &e), 0);
    if (!st_store_copy(src, dst, paths, 1, NULL, &e)) fail_msg("%s", e.msg);
    assert_int_equal(st_store_query(dst, tree_path, NULL, &e), 1);

    /* Untouched again and trusted: it goes through. */
    st_store_require_signatures(src, &tk);
    assert_true(st_store_copy(src, dst, tpaths, 1, NULL, &e));
    free(text_path);
    ut_buf_free(&tip);
    ut_buf_free(&tinfo);
    free(ot);
    st_trusted_keys_free(&other);
    ut_buf_free(&ip);
    ut_buf_free(&info);
    ut_buf_free(&nar);
    ut_buf_free(&np);
    st_path_info_free(pi);
    st_store_close(src);
    st_store_close(dst);
    ut_buf_free(&from);
    ut_buf_free(&to);
    st_trusted_keys_free(&tk);
    free(pub);
    free(tree_path);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_store_reference STORE_REFERENCE_DIR\n");
        return 2;
    }
    ref = argv[1];
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_root, sizeof tmp_root, "%s/st-ref-XXXXXX", tmp);
    if (!mkdtemp(tmp_root)) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_and_signatures), cmocka_unit_test(same_paths), cmocka_unit_test(substitute_none),
        cmocka_unit_test(substitute_xz),       cmocka_unit_test(tampered),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    scratch_remove(tmp_root);
    return rc;
}
