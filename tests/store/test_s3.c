/* The S3 backend and the store over it, against a real S3 server (s3rver,
 * started by s3_test.sh) at $S3_ENDPOINT, bucket "straylight". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compat/hash.h"
#include "store/s3.h"
#include "store/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *endpoint;
static const char *hello_dir;

static st_backend *open_be(const char *extra)
{
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "s3://straylight/%s?endpoint=%s&region=us-east-1&retries=1&backoff-ms=10%s", "t", endpoint,
                  extra ? extra : "");
    ut_err e = UT_ERR_INIT;
    st_backend *be = st_backend_open(u.data, &e);
    if (!be) fail_msg("%s", e.msg);
    ut_buf_free(&u);
    return be;
}

static void put_get_has_del(void **state)
{
    (void)state;
    st_backend *be = open_be(NULL);
    ut_err e = UT_ERR_INIT;
    const char *keys[] = {"plain", "dir/with space+plus=eq", "nar/x.nar", "unicode-é"};
    for (size_t i = 0; i < 4; i++) {
        ut_buf body = UT_BUF_INIT, got = UT_BUF_INIT;
        ut_buf_printf(&body, "body of %s", keys[i]);
        assert_int_equal(st_backend_put_bytes(be, keys[i], body.data, body.len, 0, &e), ST_PUT_WRITTEN);
        uint64_t size = 0;
        assert_int_equal(be->ops->has(be, keys[i], &size, &e), 1);
        assert_int_equal(size, body.len);
        bool missing = true;
        if (!st_backend_get_bytes(be, keys[i], &got, &missing, &e)) fail_msg("%s", e.msg);
        assert_false(missing);
        assert_string_equal(got.data, body.data);
        ut_buf_free(&body);
        ut_buf_free(&got);
    }
    /* Empty object. */
    assert_int_equal(st_backend_put_bytes(be, "empty", "", 0, 0, &e), ST_PUT_WRITTEN);
    ut_buf got = UT_BUF_INIT;
    assert_true(st_backend_get_bytes(be, "empty", &got, NULL, &e));
    assert_int_equal(got.len, 0);
    /* Missing. */
    bool missing = false;
    assert_false(st_backend_get_bytes(be, "nope", &got, &missing, &e));
    assert_true(missing);
    assert_non_null(strstr(e.msg, "404"));
    ut_err_clear(&e);
    assert_int_equal(be->ops->has(be, "nope", NULL, &e), 0);
    assert_true(be->ops->del(be, "plain", &e));
    assert_int_equal(be->ops->has(be, "plain", NULL, &e), 0);
    assert_true(be->ops->del(be, "plain", &e));   /* deleting twice is fine */
    ut_buf_free(&got);
    st_backend_free(be);
}

static void conditional(void **state)
{
    (void)state;
    st_backend *be = open_be(NULL);
    ut_err e = UT_ERR_INIT;
    be->ops->del(be, "cond", &e);
    assert_int_equal(st_backend_put_bytes(be, "cond", "first", 5, ST_PUT_IF_ABSENT, &e), ST_PUT_WRITTEN);
    assert_int_equal(st_backend_put_bytes(be, "cond", "second", 6, ST_PUT_IF_ABSENT, &e), ST_PUT_EXISTED);
    ut_buf got = UT_BUF_INIT;
    assert_true(st_backend_get_bytes(be, "cond", &got, NULL, &e));
    assert_string_equal(got.data, "first");
    ut_buf_free(&got);
    st_backend_free(be);
}

typedef struct lst {
    size_t n;
    bool saw_first, saw_last;
} lst;

static bool count_cb(void *ctx, const char *key, uint64_t size, int64_t mtime)
{
    lst *l = ctx;
    l->n++;
    if (!strcmp(key, "many/k00")) l->saw_first = true;
    if (!strcmp(key, "many/k24")) l->saw_last = size == 3 && mtime > 0;
    return true;
}

static void list_continuation(void **state)
{
    (void)state;
    st_backend *be = open_be("&max-keys=7");
    ut_err e = UT_ERR_INIT;
    for (int i = 0; i < 25; i++) {
        char k[32];
        snprintf(k, sizeof k, "many/k%02d", i);
        assert_int_equal(st_backend_put_bytes(be, k, k + 6, 3, 0, &e), ST_PUT_WRITTEN);
    }
    lst l = {0};
    if (!be->ops->list(be, "many/", count_cb, &l, &e)) fail_msg("%s", e.msg);
    assert_int_equal(l.n, 25);   /* 4 pages of at most 7 */
    assert_true(l.saw_first);
    assert_true(l.saw_last);
    l = (lst){0};
    assert_true(be->ops->list(be, "many/k1", count_cb, &l, &e));
    assert_int_equal(l.n, 10);
    st_backend_free(be);
}

static void multipart(void **state)
{
    (void)state;
    /* 12 MiB + 123 bytes in 5 MiB parts: 3 parts, the last short. */
    st_backend *be = open_be("&part-size=5242880&multipart-threshold=5242880");
    ut_err e = UT_ERR_INIT;
    size_t n = (12u << 20) + 123;
    char *data = ut_xmalloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (char)(x >> 16);
    }
    char path[512];
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/st-s3-XXXXXX", tmp);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    st_src src = {NULL, fd, n, NULL};
    if (be->ops->put(be, "big/object", &src, 0, &e) != ST_PUT_WRITTEN) fail_msg("%s", e.msg);
    uint64_t size = 0;
    assert_int_equal(be->ops->has(be, "big/object", &size, &e), 1);
    assert_int_equal(size, n);
    ut_buf got = UT_BUF_INIT;
    assert_true(st_backend_get_bytes(be, "big/object", &got, NULL, &e));
    assert_int_equal(got.len, n);
    assert_memory_equal(got.data, data, n);
    /* Conditional multipart on an existing key keeps the first. */
    assert_int_equal(be->ops->put(be, "big/object", &src, ST_PUT_IF_ABSENT, &e), ST_PUT_EXISTED);
    close(fd);
    free(data);
    ut_buf_free(&got);
    st_backend_free(be);
}

/* The store over S3: the hello closure's sources and drvs round-trip and
 * verify; a corrupted object in the bucket is refused. */
static void store_over_s3(void **state)
{
    (void)state;
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "s3://straylight/store?endpoint=%s&region=us-east-1&retries=1&backoff-ms=10", endpoint);
    ut_err e = UT_ERR_INIT;
    st_store *st = st_store_open(u.data, &e);
    if (!st) fail_msg("%s", e.msg);
    const char *objs[] = {"001gp43bjqzx60cg345n2slzg7131za8-nix-nss-open-files.patch",
                          "v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh"};
    char *paths[2];
    for (int i = 0; i < 2; i++) {
        ut_buf f = UT_BUF_INIT;
        ut_buf_printf(&f, "%s/store/%s", hello_dir, objs[i]);
        if (!st_store_add_path(st, f.data, objs[i] + 33, NULL, NULL, NC_CA_NAR, &paths[i], NULL, &e))
            fail_msg("%s", e.msg);
        ut_buf want = UT_BUF_INIT;
        ut_buf_printf(&want, "/nix/store/%s", objs[i]);
        assert_string_equal(paths[i], want.data);
        ut_buf back = UT_BUF_INIT, orig = UT_BUF_INIT;
        assert_true(st_store_read_file(st, paths[i], &back, &e));
        assert_true(ut_read_file(f.data, &orig, &e));
        assert_int_equal(back.len, orig.len);
        assert_memory_equal(back.data, orig.data, orig.len);
        ut_buf_free(&back);
        ut_buf_free(&orig);
        ut_buf_free(&want);
        ut_buf_free(&f);
    }
    char *t = NULL;
    const char *refs[] = {paths[0]};
    assert_true(st_store_add_text(st, "x.drv", "Derive()", 8, refs, 1, &t, &e));
    st_verify_report rep;
    if (!st_store_verify(st, NULL, 0, NULL, NULL, NULL, &rep, &e)) fail_msg("verify: %s", e.msg ? e.msg : "");
    assert_int_equal(rep.ok, 3);

    /* Replace the blob of paths[0] in the bucket with other bytes. */
    st_path_info *pi = NULL;
    assert_int_equal(st_store_query(st, paths[0], &pi, &e), 1);
    st_backend *be = st_store_backend(st);
    assert_int_equal(st_backend_put_bytes(be, pi->url, "garbage", 7, 0, &e), ST_PUT_WRITTEN);
    ut_buf back = UT_BUF_INIT;
    assert_false(st_store_read_file(st, paths[0], &back, &e));
    assert_non_null(strstr(e.msg, "is damaged"));
    ut_err_clear(&e);
    assert_false(st_store_verify(st, NULL, 0, NULL, NULL, NULL, &rep, &e));
    assert_int_equal(rep.corrupt, 1);
    st_path_info_free(pi);
    ut_buf_free(&back);
    free(paths[0]);
    free(paths[1]);
    free(t);
    ut_buf_free(&u);
    st_store_close(st);
}

/* s3rver checks the access key (not the V4 signature): a wrong one is a
 * clear 403, not a retry loop. */
static void wrong_access_key(void **state)
{
    (void)state;
    const char *old = getenv("AWS_ACCESS_KEY_ID");
    char *saved = old ? ut_xstrdup(old) : NULL;
    setenv("AWS_ACCESS_KEY_ID", "NOT-A-KEY", 1);
    st_backend *be = open_be(NULL);
    ut_err e = UT_ERR_INIT;
    assert_int_equal(st_backend_put_bytes(be, "denied", "x", 1, 0, &e), ST_PUT_ERROR);
    assert_non_null(strstr(e.msg, "403"));
    assert_non_null(strstr(e.msg, "InvalidAccessKeyId"));
    ut_err_clear(&e);
    st_backend_free(be);
    if (saved) setenv("AWS_ACCESS_KEY_ID", saved, 1);
    free(saved);
}

int main(int argc, char **argv)
{
    endpoint = getenv("S3_ENDPOINT");
    if (!endpoint || argc < 2) {
        fprintf(stderr, "usage: S3_ENDPOINT=http://127.0.0.1:PORT test_store_s3 HELLO_CLOSURE_DIR\n");
        return 2;
    }
    hello_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_get_has_del), cmocka_unit_test(conditional),   cmocka_unit_test(list_continuation),
        cmocka_unit_test(multipart),       cmocka_unit_test(store_over_s3), cmocka_unit_test(wrong_access_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
