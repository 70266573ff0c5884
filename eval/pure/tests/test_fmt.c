/* Number and string formatting: the three float formats of Nix, string
 * and attribute-name printing, and toJSON's string escaping, checked
 * against the conformance tests eval-okay-float, eval-okay-tojson and
 * eval-fail-toJSON-non-utf-8 and against nix-instantiate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "testutil.h"

typedef void (*float_fmt)(double, ut_buf *);

static void check_floats(float_fmt f, const double *v, size_t n, const char *want)
{
    ut_buf out = UT_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            ut_buf_putc(&out, ' ');
        f(v[i], &out);
    }
    assert_string_equal(ut_buf_cstr(&out), want);
    ut_buf_free(&out);
}

static void conformance_float(void **state)
{
    (void)state;
    /* eval-okay-float: the sums are computed, not written as literals. */
    volatile double a = 1.1, b = 2.3, h = 0.5, two = 2.0, one5 = 1.5, four = 4.0;
    double v[] = {a + b, (h + h) + (two + h), (h + h) * (two + h), (one5 + one5) / (h * four)};
    size_t el;
    char *want = tu_read(EVALPURE_LANG_DIR, "eval-okay-float.exp", &el);
    assert_non_null(want);
    while (el && want[el - 1] == '\n')
        want[--el] = '\0';
    ut_buf out = UT_BUF_INIT;
    ut_buf_puts(&out, "[ ");
    for (size_t i = 0; i < 4; i++) {
        ev_fmt_float_print(v[i], &out);
        ut_buf_putc(&out, ' ');
    }
    ut_buf_puts(&out, "]");
    assert_string_equal(ut_buf_cstr(&out), want);
    ut_buf_free(&out);
    free(want);
}

static void float_print(void **state)
{
    (void)state;
    double v[] = {1.0, 1.5, 1.0e20, 0.1, 123456789.0, 1.0e-5, 100000.0, 1000000.0, 0.000123456789, 1.0e300,
                  INFINITY, -INFINITY, -0.0};
    check_floats(ev_fmt_float_print, v, sizeof v / sizeof v[0],
                 "1 1.5 1e+20 0.1 1.23457e+08 1e-05 100000 1e+06 0.000123457 1e+300 inf -inf -0");
}

static void float_tostring(void **state)
{
    (void)state;
    double v[] = {1.5, 1.0e20, 1.0e-7, 0.0};
    check_floats(ev_fmt_float_tostring, v, 4, "1.500000 100000000000000000000.000000 0.000000 0.000000");
}

static void float_json(void **state)
{
    (void)state;
    /* The JSON library's format: shortest round-trip digits, ".0" on whole
     * numbers, plain notation while the point is within 15 digits of the
     * first one and no more than 3 zeros follow it, else d.ddde+XX. */
    double v[] = {1.44, 1.0, 0.1, 1.0e20, 1.0e-7, 123456789.123, 1.0e14, 1.0e15, 0.0001, 0.00001, -0.0, 0.0,
                  -2.5, 1.5e300, 5e-324, 1.7976931348623157e308, NAN, INFINITY};
    check_floats(ev_fmt_float_json, v, sizeof v / sizeof v[0],
                 "1.44 1.0 0.1 1e+20 1e-07 123456789.123 100000000000000.0 1e+15 0.0001 1e-05 -0.0 0.0 -2.5 "
                 "1.5e+300 5e-324 1.7976931348623157e+308 null null");
}

static void string_print(void **state)
{
    (void)state;
    ut_buf out = UT_BUF_INIT;
    const char s[] = "a${b}\n\t\r\\\"$x$";
    ev_fmt_string_print(s, sizeof s - 1, &out);
    assert_string_equal(ut_buf_cstr(&out), "\"a\\${b}\\n\\t\\r\\\\\\\"$x$\"");
    ut_buf_free(&out);
}

static void attr_names(void **state)
{
    (void)state;
    /* nix-instantiate prints { "" = 7; "\${a}" = 8; "1a" = 5; _x = 6;
     * "a b" = 3; a-b' = 4; "if" = 1; or = 2; } */
    const char *names[] = {"", "${a}", "1a", "_x", "a b", "a-b'", "if", "or", "inherit", "rec", "x1"};
    const char *want[] = {"\"\"", "\"\\${a}\"", "\"1a\"", "_x", "\"a b\"", "a-b'", "\"if\"", "or", "\"inherit\"",
                          "\"rec\"", "x1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ut_buf out = UT_BUF_INIT;
        ev_fmt_attr_name(names[i], strlen(names[i]), &out);
        assert_string_equal(ut_buf_cstr(&out), want[i]);
        ut_buf_free(&out);
    }
}

static void json_str(ut_buf *out, const char *s)
{
    ut_err e = UT_ERR_INIT;
    assert_true(ev_fmt_json_string(s, strlen(s), out, &e));
}

static void conformance_tojson(void **state)
{
    (void)state;
    /* eval-okay-tojson, assembled from the pieces toJSON writes; the .exp
     * holds the resulting string as Nix prints it. */
    ut_buf j = UT_BUF_INIT;
    ut_buf_puts(&j, "{");
    json_str(&j, "a");
    ut_buf_puts(&j, ":123,");
    json_str(&j, "b");
    ut_buf_puts(&j, ":-456,");
    json_str(&j, "c");
    ut_buf_putc(&j, ':');
    json_str(&j, "foo");
    ut_buf_putc(&j, ',');
    json_str(&j, "d");
    ut_buf_putc(&j, ':');
    json_str(&j, "foo\n\"bar\"");
    ut_buf_puts(&j, ",\"e\":true,\"f\":false,\"g\":[1,2,3],\"h\":[");
    json_str(&j, "a");
    ut_buf_puts(&j, ",[\"b\",{");
    json_str(&j, "foo\nbar");
    ut_buf_puts(&j, ":{}}]],\"i\":3,\"j\":");
    ev_fmt_float_json(1.44, &j);
    ut_buf_puts(&j, ",\"k\":");
    json_str(&j, "foo");
    ut_buf_puts(&j, "}");
    ut_buf printed = UT_BUF_INIT;
    ev_fmt_string_print(j.data, j.len, &printed);
    size_t el;
    char *want = tu_read(EVALPURE_LANG_DIR, "eval-okay-tojson.exp", &el);
    assert_non_null(want);
    while (el && want[el - 1] == '\n')
        want[--el] = '\0';
    assert_string_equal(ut_buf_cstr(&printed), want);
    free(want);
    ut_buf_free(&j);
    ut_buf_free(&printed);
}

static void json_escapes(void **state)
{
    (void)state;
    ut_buf out = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    const char s[] = "\x01\x1f\x7f\b\f\\/\xc3\xa9";
    assert_true(ev_fmt_json_string(s, sizeof s - 1, &out, &e));
    assert_string_equal(ut_buf_cstr(&out), "\"\\u0001\\u001f\x7f\\b\\f\\\\/\xc3\xa9\"");
    ut_buf_clear(&out);
    const char nul[] = "a\0b";
    assert_true(ev_fmt_json_string(nul, 3, &out, &e));
    assert_string_equal(ut_buf_cstr(&out), "\"a\\u0000b\"");
    ut_buf_free(&out);
}

static void conformance_tojson_non_utf8(void **state)
{
    (void)state;
    size_t len;
    char *nix = tu_read(EVALPURE_LANG_DIR, "eval-fail-toJSON-non-utf-8.nix", &len);
    char *err = tu_read(EVALPURE_LANG_DIR, "eval-fail-toJSON-non-utf-8.err.exp", &len);
    assert_non_null(nix);
    assert_non_null(err);
    char *b = strchr(nix, '"') + 1, *q = strchr(b, '"');
    const char *marker = "JSON serialization error: ";
    char *m = strstr(err, marker);
    assert_non_null(m);
    m += strlen(marker);
    *strchr(m, '\n') = '\0';
    ut_buf out = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_false(ev_fmt_json_string(b, (size_t)(q - b), &out, &e));
    assert_string_equal(e.msg, m);
    assert_int_equal(out.len, 0);
    ut_err_clear(&e);
    /* A string cut inside a sequence, and the other malformations. */
    assert_false(ev_fmt_json_string("ab\xc3", 3, &out, &e));
    assert_string_equal(e.msg, "[json.exception.type_error.316] incomplete UTF-8 string; last byte: 0xC3");
    ut_err_clear(&e);
    assert_false(ev_fmt_json_string("\xe0\x80\x80", 3, &out, &e));   /* overlong */
    assert_string_equal(e.msg, "[json.exception.type_error.316] invalid UTF-8 byte at index 1: 0x80");
    ut_err_clear(&e);
    assert_false(ev_fmt_json_string("x\xed\xa0\x80", 4, &out, &e));   /* surrogate */
    assert_string_equal(e.msg, "[json.exception.type_error.316] invalid UTF-8 byte at index 2: 0xA0");
    ut_err_clear(&e);
    free(nix);
    free(err);
    ut_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_float),
        cmocka_unit_test(float_print),
        cmocka_unit_test(float_tostring),
        cmocka_unit_test(float_json),
        cmocka_unit_test(string_print),
        cmocka_unit_test(attr_names),
        cmocka_unit_test(conformance_tojson),
        cmocka_unit_test(json_escapes),
        cmocka_unit_test(conformance_tojson_non_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
