/* splitVersion, compareVersions and parseDrvName: the cases of the
 * conformance tests eval-okay-versions and eval-okay-splitversion, and
 * corner cases checked against nix-instantiate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "eval/pure/version.h"
#include "util/util.h"

static int cmpv(const char *a, const char *b)
{
    return ev_compare_versions(a, strlen(a), b, strlen(b));
}

static void check_cmp(const char *a, const char *b, int want)
{
    int d1 = cmpv(a, b), d2 = cmpv(b, a);
    if (d1 != want || d2 != -want)
        fail_msg("compareVersions %s %s = %d (reverse %d), want %d", a, b, d1, d2, want);
}

static void conformance_versions(void **state)
{
    (void)state;
    check_cmp("1.0", "2.3", -1);
    check_cmp("2.1", "2.3", -1);
    check_cmp("2.3", "2.3", 0);
    check_cmp("2.5", "2.3", 1);
    check_cmp("3.1", "2.3", 1);
    check_cmp("2.3.1", "2.3", 1);
    check_cmp("2.3.1", "2.3a", 1);
    check_cmp("2.3pre1", "2.3", -1);
    check_cmp("2.3pre3", "2.3pre12", -1);
    check_cmp("2.3a", "2.3c", -1);
    check_cmp("2.3pre1", "2.3c", -1);
    check_cmp("2.3pre1", "2.3q", -1);
}

static void corner_versions(void **state)
{
    (void)state;
    /* Digit runs beyond a 32-bit int are not numbers to Nix. */
    assert_int_equal(cmpv("1.20230101123456", "1.9"), -1);
    assert_int_equal(cmpv("2147483647", "2147483648"), 1);
    assert_int_equal(cmpv("1.0pre", "1.0"), -1);
    assert_int_equal(cmpv("1.0-pre", "1.0"), -1);
    assert_int_equal(cmpv("a", "b"), -1);
    assert_int_equal(cmpv("1.0", "1.0.0"), -1);
    assert_int_equal(cmpv("", "0"), -1);
    assert_int_equal(cmpv("1a", "1"), 1);
    assert_int_equal(cmpv("1..2", "1.2"), 0);
    assert_int_equal(cmpv("foo-1.0", "foo-1.0.1"), -1);
}

static void check_split(const char *v, const char *const *want, size_t n)
{
    ev_slice parts[16];
    size_t got = ev_split_version(v, strlen(v), parts, 16);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(parts[i].len, strlen(want[i]));
        assert_memory_equal(parts[i].ptr, want[i], parts[i].len);
    }
}

static void split_versions(void **state)
{
    (void)state;
    check_split("1.2.3", (const char *[]){"1", "2", "3"}, 3);   /* eval-okay-splitversion */
    check_split("1.2-rc3", (const char *[]){"1", "2", "rc", "3"}, 4);
    check_split("..a..b3c", (const char *[]){"a", "b", "3", "c"}, 4);
    check_split("", NULL, 0);
    check_split("2147483648x", (const char *[]){"2147483648", "x"}, 2);
    check_split("-1", (const char *[]){"1"}, 1);
    check_split("1.", (const char *[]){"1"}, 1);
    /* More parts than room: the count still says how many. */
    ev_slice one[1];
    assert_int_equal(ev_split_version("1.2.3", 5, one, 1), 3);
}

static void check_drv(const char *s, const char *name, const char *version)
{
    ev_slice n, v;
    ev_parse_drv_name(s, strlen(s), &n, &v);
    if (n.len != strlen(name) || memcmp(n.ptr, name, n.len) != 0 || v.len != strlen(version) ||
        memcmp(v.ptr, version, v.len) != 0)
        fail_msg("parseDrvName %s = (%.*s, %.*s), want (%s, %s)", s, (int)n.len, n.ptr, (int)v.len, v.ptr, name,
                 version);
}

static void drv_names(void **state)
{
    (void)state;
    check_drv("hello-1.0.2", "hello", "1.0.2");   /* eval-okay-versions */
    check_drv("hello", "hello", "");
    check_drv("915resolution-0.5.2", "915resolution", "0.5.2");
    check_drv("xf86-video-i810-1.7.4", "xf86-video-i810", "1.7.4");
    check_drv("name-that-ends-with-dash--1.0", "name-that-ends-with-dash", "-1.0");
    check_drv("a-b-1.0", "a-b", "1.0");
    check_drv("-1", "", "1");
    check_drv("a-", "a-", "");
    check_drv("a--b", "a", "-b");
    check_drv("x-\xc3\xa9" "1", "x", "\xc3\xa9" "1");
    check_drv("foo-bar-baz", "foo-bar-baz", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_versions),
        cmocka_unit_test(corner_versions),
        cmocka_unit_test(split_versions),
        cmocka_unit_test(drv_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
