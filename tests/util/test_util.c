#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
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

/* memory given to another arena stays where it is, lives as long as that
 * arena, and does not disturb its allocation (ASan checks the frees) */
static void test_arena_give(void **state)
{
    (void)state;
    ut_arena *dst = ut_arena_new(), *src = ut_arena_new(), *none = ut_arena_new();
    char *d1 = ut_arena_strdup(dst, "first");
    char *s1 = ut_arena_strdup(src, "given");
    char *sbig = ut_arena_alloc(src, 100000);
    memset(sbig, 'x', 100000);
    for (int i = 0; i < 200; i++) ut_arena_alloc(src, 1000);   /* several chunks */
    size_t total = ut_arena_used(dst) + ut_arena_used(src);
    ut_arena_give(dst, src);
    assert_int_equal(ut_arena_used(dst), total);
    char *d2 = ut_arena_strdup(dst, "after");
    assert_string_equal(d1, "first");
    assert_string_equal(s1, "given");
    assert_string_equal(d2, "after");
    assert_int_equal(sbig[99999], 'x');
    ut_arena_give(dst, none);   /* an empty arena */
    ut_arena *empty = ut_arena_new(), *src2 = ut_arena_new();
    char *s2 = ut_arena_strdup(src2, "into an empty one");
    ut_arena_give(empty, src2);
    assert_string_equal(ut_arena_strdup(empty, "more"), "more");
    assert_string_equal(s2, "into an empty one");
    ut_arena_free(empty);
    ut_arena_free(dst);
}

/* A fresh directory for a test (dir holds its name) and the path of name in it */
typedef struct tmp_dir {
    char dir[128];
    char path[256];
} tmp_dir;

static void tmp_dir_make(tmp_dir *t, const char *name)
{
    snprintf(t->dir, sizeof t->dir, "%s/sl-util-XXXXXX", ut_tmp_dir());
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
}

static void test_atomic_write_and_errors(void **state)
{
    (void)state;
    tmp_dir t;
    tmp_dir_make(&t, "a/b/file");
    const char *path = t.path, *dir = t.dir;
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

/* Reads through an fd with a status taken before the file changed: the
 * bytes are what is there when read, whatever size the status announced. */
static void read_with_stale_stat(const char *path, const char *now, const char *before)
{
    ut_err e = UT_ERR_INIT;
    assert_true(ut_write_file_atomic(path, before, strlen(before), 0644, &e));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(ut_write_file_atomic(path, now, strlen(now), 0644, &e));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    ut_buf b = UT_BUF_INIT;
    assert_true(ut_read_fd_stat(fd, &st, &b, &e));
    close(fd);
    assert_int_equal(b.len, strlen(now));
    assert_memory_equal(b.data, now, b.len);
    assert_int_equal(b.data[b.len], 0);
    ut_buf_free(&b);
}

/* ut_read_upto with a file of 'text' and a buffer sized for 'expect'
 * bytes and one more: what it reads of the file */
static void read_upto_case(const char *path, const char *text, size_t expect)
{
    ut_err e = UT_ERR_INIT;
    assert_true(ut_write_file_atomic(path, text, strlen(text), 0644, &e));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    char buf[64];
    memset(buf, '#', sizeof buf);
    long got = ut_read_upto(fd, buf, expect + 1, expect);
    size_t want = strlen(text) < expect + 1 ? strlen(text) : expect + 1;
    assert_int_equal(got, (long)want);
    assert_memory_equal(buf, text, want);
    assert_int_equal(buf[want], '#');   /* nothing past what was read */
    close(fd);
}

static void test_read_upto(void **state)
{
    (void)state;
    tmp_dir t;
    tmp_dir_make(&t, "f");
    const char *path = t.path;
    read_upto_case(path, "exactly", 7);       /* the announced size */
    read_upto_case(path, "grown by some", 7); /* one byte more shows it */
    read_upto_case(path, "short", 7);         /* shrunk: its end */
    read_upto_case(path, "", 3);
    char scratch[4];
    assert_int_equal(ut_read_upto(-1, scratch, 4, 4), -1);
    unlink(path);
    rmdir(t.dir);
}

static void test_read_sized(void **state)
{
    (void)state;
    tmp_dir t;
    tmp_dir_make(&t, "f");
    const char *path = t.path;
    read_with_stale_stat(path, "same size", "same size");
    read_with_stale_stat(path, "grown since the status was taken", "short");
    read_with_stale_stat(path, "shrunk", "longer than it is now");
    read_with_stale_stat(path, "", "emptied");
    read_with_stale_stat(path, "filled", "");
    /* bigger than the first read's buffer guess */
    size_t big = 300000;
    char *data = malloc(big + 1);
    for (size_t i = 0; i < big; i++) data[i] = (char)('a' + i % 26);
    data[big] = 0;
    read_with_stale_stat(path, data, "x");
    read_with_stale_stat(path, data, data);
    free(data);
    /* a file whose status says nothing of its size */
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(ut_read_file("/proc/self/stat", &b, &e));
    assert_true(b.len > 0);
    ut_buf_free(&b);
    unlink(path);
    rmdir(t.dir);
}

static void test_dir_list(void **state)
{
    (void)state;
    tmp_dir t;
    tmp_dir_make(&t, "");
    const char *dir = t.dir;
    char p[256];
    ut_err e = UT_ERR_INIT;
    const char *names[] = {"b", "a", ".hidden", "c.d"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        assert_true(ut_write_file_atomic(p, "", 0, 0644, &e));
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    ut_dirent *v = NULL;
    size_t n = 0;
    assert_true(ut_dir_list(fd, &v, &n, &e));
    close(fd);
    const char *want[] = {".hidden", "a", "b", "c.d", "sub"};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(v[i].name, want[i]);
        if (v[i].type != DT_UNKNOWN) assert_int_equal(v[i].type, i == 4 ? DT_DIR : DT_REG);
    }
    ut_dir_list_free(v, n);
    rmdir(p);
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_terminates),
        cmocka_unit_test(test_hmap_put_get_overwrite),
        cmocka_unit_test(test_arena_alignment),
        cmocka_unit_test(test_arena_give),
        cmocka_unit_test(test_atomic_write_and_errors),
        cmocka_unit_test(test_read_sized),
        cmocka_unit_test(test_read_upto),
        cmocka_unit_test(test_dir_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
