/* Attestations: DSSE PAE (the DSSE specification's example), in-toto
 * statements naming outputs by NAR sha256, git storage and push, and
 * verification failures for every kind of tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/store/scratch.h"

#include "compat/hash.h"
#include "store/attest.h"

#include <ftw.h>
#include "store/lazy_git2.h"
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[256];

static void pae(void **state)
{
    (void)state;
    ut_buf b = UT_BUF_INIT;
    st_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &b);
    assert_string_equal(b.data, "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
    ut_buf_free(&b);
}

typedef struct fx {
    st_store *st;
    char *path, *dir, *repo, *src;
    st_secret_key sk;
    st_trusted_keys tk;
} fx;

static char *sub(const char *name)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/%s", tmp_root, name);
    return ut_buf_steal(&b, NULL);
}

static void write_file(const char *path, const char *s)
{
    ut_err e = UT_ERR_INIT;
    assert_true(ut_write_file_atomic(path, s, strlen(s), 0644, &e));
}

static int setup(void **state)
{
    static int n;
    fx *f = ut_xcalloc(1, sizeof *f);
    char tag[32];
    snprintf(tag, sizeof tag, "case%d", n++);
    char *base = sub(tag);
    ut_err e = UT_ERR_INIT;
    assert_true(ut_mkdirs(base, 0755, &e));
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "local:%s/store", base);
    f->st = st_store_open(b.data, &e);
    ut_buf_clear(&b);
    ut_buf_printf(&b, "%s/out", base);
    f->src = ut_buf_steal(&b, NULL);
    write_file(f->src, "built output\n");
    ut_buf_printf(&b, "%s/attestations.git", base);
    f->repo = ut_buf_steal(&b, NULL);
    f->path = ut_xstrdup("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-out");
    assert_true(st_store_import_path(f->st, f->path, f->src, NULL, 0, NULL, NULL, NULL, &e));
    assert_true(st_key_generate("builder-1", &f->sk, &e));
    st_public_key pk;
    st_secret_key_public(&f->sk, &pk);
    char *pt = st_public_key_format(&pk);
    assert_true(st_trusted_keys_add(&f->tk, pt, &e));
    free(pt);
    f->dir = base;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    st_store_close(f->st);
    st_trusted_keys_free(&f->tk);
    free(f->path);
    free(f->dir);
    free(f->repo);
    free(f->src);
    free(f);
    return 0;
}

static st_attest_input input(fx *f)
{
    static const char *outs[1];
    outs[0] = f->path;
    st_attest_input in = {outs, 1, "/nix/store/1123456789abcdfghijklmnpqrsvwxyz-out.drv", "sha256:00ff",
                          "{\"net\":\"none\",\"env\":[]}", "[{\"kind\":\"clock\",\"epoch\":1}]",
                          "{\"name\":\"test\",\"cores\":2}"};
    return in;
}

static void statement_contents(void **state)
{
    fx *f = *state;
    st_attest_input in = input(f);
    char *stmt = NULL;
    ut_err e = UT_ERR_INIT;
    assert_true(st_attest_statement(f->st, &in, &stmt, &e));
    json_t *j = json_loads(stmt, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "_type")), "https://in-toto.io/Statement/v1");
    json_t *s0 = json_array_get(json_object_get(j, "subject"), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "name")), f->path);
    st_path_info *pi = NULL;
    assert_int_equal(st_store_query(f->st, f->path, &pi, &e), 1);
    char hex[NC_HASH_STR_MAX];
    nc_hash_print(&pi->nar_hash, NC_HASH_BASE16, false, hex);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "digest"), "sha256")), hex);
    json_t *pred = json_object_get(j, "predicate");
    assert_string_equal(json_string_value(json_object_get(pred, "actionDigest")), "sha256:00ff");
    assert_string_equal(json_string_value(json_object_get(json_object_get(pred, "grade"), "net")), "none");
    assert_int_equal(json_array_size(json_object_get(pred, "discharge")), 1);
    ut_buf fp = UT_BUF_INIT;
    assert_true(st_path_info_fingerprint(f->st, pi, &fp, &e));
    json_t *o0 = json_array_get(json_object_get(pred, "outputs"), 0);
    assert_string_equal(json_string_value(json_object_get(o0, "fingerprint")), fp.data);
    /* Bad caller JSON is an error, not a broken statement. */
    in.grade_json = "{not json";
    char *bad = NULL;
    assert_false(st_attest_statement(f->st, &in, &bad, &e));
    assert_non_null(strstr(e.msg, "grade"));
    ut_err_clear(&e);
    ut_buf_free(&fp);
    st_path_info_free(pi);
    json_decref(j);
    free(stmt);
}

/* The envelope's signature checks with plain libsodium over the PAE. */
static void envelope_independent_check(void **state)
{
    fx *f = *state;
    const char *payload = "{\"x\":1}";
    char *env = st_dsse_sign(ST_DSSE_PAYLOAD_TYPE, payload, strlen(payload), &f->sk);
    json_t *j = json_loads(env, 0, NULL);
    const char *sig64 = json_string_value(json_object_get(json_array_get(json_object_get(j, "signatures"), 0), "sig"));
    uint8_t sig[64];
    size_t n = 0;
    assert_true(nc_base64_decode(sig64, strlen(sig64), sig, &n));
    assert_int_equal(n, 64);
    char msg[256];
    snprintf(msg, sizeof msg, "DSSEv1 %zu %s %zu %s", strlen(ST_DSSE_PAYLOAD_TYPE), ST_DSSE_PAYLOAD_TYPE,
             strlen(payload), payload);
    st_public_key pk;
    st_secret_key_public(&f->sk, &pk);
    assert_int_equal(crypto_sign_verify_detached(sig, (const unsigned char *)msg, strlen(msg), pk.pk), 0);
    ut_buf out = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    char *who = NULL;
    assert_true(st_dsse_verify(env, &f->tk, &out, &who, &e));
    assert_string_equal(out.data, payload);
    assert_string_equal(who, "builder-1");
    free(who);
    ut_buf_free(&out);
    json_decref(j);
    free(env);
}

static void record_verify_push(void **state)
{
    fx *f = *state;
    st_attest_input in = input(f);
    ut_err e = UT_ERR_INIT;
    char *ref = NULL;
    if (!st_attest_record(f->st, f->repo, &in, &f->sk, &ref, &e)) fail_msg("%s", e.msg);
    assert_true(!strncmp(ref, "refs/attestations/0123456789abcdfghijklmnpqrsvwxyz/", 51));
    size_t valid = 0;
    if (!st_attest_verify(f->st, f->repo, f->path, &f->tk, NULL, NULL, &valid, &e)) fail_msg("%s", e.msg ? e.msg : "");
    assert_int_equal(valid, 1);

    /* Push to a bare repository and verify from there. */
    ut_buf remote = UT_BUF_INIT;
    ut_buf_printf(&remote, "%s/remote.git", f->dir);
    git_repository *r = NULL;
    assert_int_equal(git_repository_init(&r, remote.data, 1), 0);
    git_repository_free(r);
    if (!st_attest_push(f->repo, remote.data, &e)) fail_msg("%s", e.msg);
    valid = 0;
    assert_true(st_attest_verify(f->st, remote.data, f->path, &f->tk, NULL, NULL, &valid, &e));
    assert_int_equal(valid, 1);

    /* An untrusted key verifies nothing. */
    st_trusted_keys other = {0};
    st_secret_key osk;
    assert_true(st_key_generate("builder-1", &osk, &e));
    st_public_key opk;
    st_secret_key_public(&osk, &opk);
    char *ot = st_public_key_format(&opk);
    assert_true(st_trusted_keys_add(&other, ot, &e));
    assert_false(st_attest_verify(f->st, f->repo, f->path, &other, NULL, NULL, &valid, &e));
    assert_int_equal(valid, 0);
    free(ot);
    st_trusted_keys_free(&other);
    ut_buf_free(&remote);
    free(ref);
}

static int problems;
static void count_problem(void *ctx, const char *ref, const char *problem)
{
    (void)ref;
    problems++;
    if (ctx) snprintf(ctx, 256, "%s", problem);
}

/* The object changes after the attestation: its NAR no longer matches. */
static void subject_mismatch(void **state)
{
    fx *f = *state;
    st_attest_input in = input(f);
    ut_err e = UT_ERR_INIT;
    assert_true(st_attest_record(f->st, f->repo, &in, &f->sk, NULL, &e));
    write_file(f->src, "different output\n");
    assert_true(st_store_import_path(f->st, f->path, f->src, NULL, 0, NULL, NULL, NULL, &e));
    size_t valid = 0;
    char msg[256] = "";
    problems = 0;
    assert_false(st_attest_verify(f->st, f->repo, f->path, &f->tk, count_problem, msg, &valid, &e));
    assert_int_equal(problems, 1);
    assert_non_null(strstr(msg, "subject digest"));
}

/* A forged envelope (payload edited, signature kept) under the ref. */
static void forged_envelope(void **state)
{
    fx *f = *state;
    st_attest_input in = input(f);
    ut_err e = UT_ERR_INIT;
    char *ref = NULL;
    assert_true(st_attest_record(f->st, f->repo, &in, &f->sk, &ref, &e));
    git_repository *repo = NULL;
    assert_int_equal(git_repository_open(&repo, f->repo), 0);
    git_oid id, blob, tree_id, commit;
    assert_int_equal(git_reference_name_to_id(&id, repo, ref), 0);
    git_commit *c = NULL;
    git_tree *t = NULL;
    assert_int_equal(git_commit_lookup(&c, repo, &id), 0);
    assert_int_equal(git_commit_tree(&t, c), 0);
    git_blob *b = NULL;
    assert_int_equal(git_blob_lookup(&b, repo, git_tree_entry_id(git_tree_entry_byname(t, "envelope.json"))), 0);
    json_t *env = json_loadb(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), 0, NULL);
    const char *p64 = json_string_value(json_object_get(env, "payload"));
    uint8_t *raw = ut_xmalloc(strlen(p64));
    size_t n = 0;
    assert_true(nc_base64_decode(p64, strlen(p64), raw, &n));
    char *hit = memmem(raw, n, "sha256:00ff", 11);
    assert_non_null(hit);
    hit[7] = '1';   /* claim another action */
    char *np = ut_xmalloc(nc_base64_encoded_len(n) + 1);
    nc_base64_encode(raw, n, np);
    json_object_set_new(env, "payload", json_string(np));
    char *text = json_dumps(env, JSON_COMPACT);
    git_treebuilder *tb = NULL;
    git_signature *who = NULL;
    git_tree *nt = NULL;
    assert_int_equal(git_blob_create_from_buffer(&blob, repo, text, strlen(text)), 0);
    assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
    assert_int_equal(git_treebuilder_insert(NULL, tb, "envelope.json", &blob, GIT_FILEMODE_BLOB), 0);
    assert_int_equal(git_treebuilder_write(&tree_id, tb), 0);
    assert_int_equal(git_tree_lookup(&nt, repo, &tree_id), 0);
    assert_int_equal(git_signature_now(&who, "mallory", "m@example.invalid"), 0);
    assert_int_equal(git_commit_create(&commit, repo, NULL, who, who, NULL, "forged", nt, 0, NULL), 0);
    git_reference *gr = NULL;
    assert_int_equal(git_reference_create(&gr, repo, ref, &commit, 1, NULL), 0);
    size_t valid = 0;
    char msg[256] = "";
    problems = 0;
    assert_false(st_attest_verify(f->st, f->repo, f->path, &f->tk, count_problem, msg, &valid, &e));
    assert_non_null(strstr(msg, "does not verify"));
    git_reference_free(gr);
    git_signature_free(who);
    git_tree_free(nt);
    git_treebuilder_free(tb);
    free(text);
    free(np);
    free(raw);
    json_decref(env);
    git_blob_free(b);
    git_tree_free(t);
    git_commit_free(c);
    git_repository_free(repo);
    free(ref);
}

/* The store object is damaged: verification refuses before any signature. */
static void damaged_object(void **state)
{
    fx *f = *state;
    st_attest_input in = input(f);
    ut_err e = UT_ERR_INIT;
    assert_true(st_attest_record(f->st, f->repo, &in, &f->sk, NULL, &e));
    st_path_info *pi = NULL;
    assert_int_equal(st_store_query(f->st, f->path, &pi, &e), 1);
    ut_buf bp = UT_BUF_INIT;
    ut_buf_printf(&bp, "%s/store/%s", f->dir, pi->url);
    chmod(bp.data, 0644);
    write_file(bp.data, "not the nar");
    size_t valid = 0;
    assert_false(st_attest_verify(f->st, f->repo, f->path, &f->tk, NULL, NULL, &valid, &e));
    assert_non_null(strstr(e.msg, "is damaged"));
    ut_err_clear(&e);
    ut_buf_free(&bp);
    st_path_info_free(pi);
}

static void nothing_recorded(void **state)
{
    fx *f = *state;
    ut_err e = UT_ERR_INIT;
    git_repository *r = NULL;
    assert_int_equal(git_repository_init(&r, f->repo, 1), 0);
    git_repository_free(r);
    size_t valid = 0;
    char msg[256] = "";
    assert_false(st_attest_verify(f->st, f->repo, f->path, &f->tk, count_problem, msg, &valid, &e));
    assert_non_null(strstr(msg, "no attestation"));
}

int main(void)
{
    git_libgit2_init();
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_root, sizeof tmp_root, "%s/st-att-XXXXXX", tmp);
    if (!mkdtemp(tmp_root)) return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pae),
        cmocka_unit_test_setup_teardown(statement_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(envelope_independent_check, setup, teardown),
        cmocka_unit_test_setup_teardown(record_verify_push, setup, teardown),
        cmocka_unit_test_setup_teardown(subject_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(forged_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(damaged_object, setup, teardown),
        cmocka_unit_test_setup_teardown(nothing_recorded, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    scratch_remove(tmp_root);
    git_libgit2_shutdown();
    return rc;
}
