#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static void test_buf_grows_and_terminates(void **state)
{
    (void)state;
    ut_buf b = UT_BUF_INIT;
    for (int i = 0; i < 1000; i++) ut_buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    assert_memory_equal(b.data, "0,1,2,", 6);
    assert_string_equal(b.data + b.len - 4, "999,");
    size_t n;
    char *s = ut_buf_steal(&b, &n);
    assert_null(b.data);
    assert_int_equal(n, strlen(s));
    free(s);
}

static void test_hmap_put_get_overwrite(void **state)
{
    (void)state;
    ut_hmap *m = ut_hmap_new();
    char key[32];
    for (intptr_t i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        assert_null(ut_hmap_put(m, key, strlen(key), (void *)(i + 1)));
    }
    assert_int_equal(ut_hmap_count(m), 5000);
    for (intptr_t i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%ld", (long)i);
        assert_ptr_equal(ut_hmap_get(m, key, strlen(key)), (void *)(i + 1));
    }
    assert_ptr_equal(ut_hmap_put(m, "k7", 2, (void *)99), (void *)8);
    assert_ptr_equal(ut_hmap_get(m, "k7", 2), (void *)99);
    assert_null(ut_hmap_get(m, "absent", 6));
    /* keys with NUL bytes are distinct from their prefixes */
    ut_hmap_put(m, "a\0b", 3, (void *)1);
    assert_false(ut_hmap_has(m, "a", 1));
    size_t it = 0, seen = 0;
    while (ut_hmap_next(m, &it, NULL, NULL, NULL)) seen++;
    assert_int_equal(seen, ut_hmap_count(m));
    ut_hmap_free(m);
}

static void test_arena_alignment(void **state)
{
    (void)state;
    ut_arena *a = ut_arena_new();
    for (int i = 1; i < 3000; i += 7) {
        unsigned char *p = ut_arena_alloc(a, (size_t)i);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (int j = 0; j < i; j++) assert_int_equal(p[j], 0);
        memset(p, 0xab, (size_t)i);
    }
    char *big = ut_arena_alloc(a, 1 << 20);
    assert_non_null(big);
    assert_string_equal(ut_arena_strdup(a, "hello"), "hello");
    ut_arena_free(a);
}

static void test_atomic_write_and_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/sl-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/file", dir);
    ut_err e = UT_ERR_INIT;
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    assert_true(ut_mkdirs(sub, 0755, &e));
    assert_true(ut_write_file_atomic(path, "xyz", 3, 0644, &e));
    ut_buf b = UT_BUF_INIT;
    assert_true(ut_read_file(path, &b, &e));
    assert_string_equal(b.data, "xyz");
    ut_buf_free(&b);
    assert_false(ut_read_file("/nonexistent/file", &b, &e));
    assert_non_null(strstr(e.msg, "/nonexistent/file"));
    ut_err_wrap(&e, "while testing");
    assert_int_equal(strncmp(e.msg, "while testing: ", 15), 0);
    ut_err_clear(&e);
    unlink(path);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_terminates),
        cmocka_unit_test(test_hmap_put_get_overwrite),
        cmocka_unit_test(test_arena_alignment),
        cmocka_unit_test(test_atomic_write_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
