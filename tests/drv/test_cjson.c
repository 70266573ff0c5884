/* Canonical JSON against RFC 8785's own examples and number table, the Nix
 * JSON dump form, and the protobuf varint encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv/cjson.h"
#include "drv/pb.h"

static char *canon(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) fail_msg("bad test JSON: %s", je.text);
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(dv_cjson_write(j, &b, &e));
    json_decref(j);
    return ut_buf_steal(&b, NULL);
}

static void test_rfc8785_example(void **state)
{
    (void)state;
    /* RFC 8785 section 3.2.2 */
    char *c = canon("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
                    " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
                    " \"literals\": [null, true, false]}");
    assert_string_equal(c, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                           "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    free(c);
}

static void test_rfc8785_sorting(void **state)
{
    (void)state;
    /* RFC 8785 section 3.2.3: UTF-16 code unit order puts the emoji (a
     * surrogate pair) before U+FB33, unlike UTF-8 byte order. */
    char *c = canon("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": \"Hebrew\","
                    " \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji\", \"\\u0080\": \"Control\", \"\\u00f6\": \"o\"}");
    assert_string_equal(c, "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"o\","
                           "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji\",\"\xef\xac\xb3\":\"Hebrew\"}");
    free(c);
}

static void check_bits(uint64_t bits, const char *want)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    json_t *j = json_real(d);
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(dv_cjson_write(j, &b, &e));
    assert_string_equal(b.data, want);
    ut_buf_free(&b);
    json_decref(j);
}

static void test_rfc8785_numbers(void **state)
{
    (void)state;
    /* RFC 8785 Appendix B */
    check_bits(0x0000000000000000ULL, "0");
    check_bits(0x8000000000000000ULL, "0");
    check_bits(0x0000000000000001ULL, "5e-324");
    check_bits(0x8000000000000001ULL, "-5e-324");
    check_bits(0x7fefffffffffffffULL, "1.7976931348623157e+308");
    check_bits(0xffefffffffffffffULL, "-1.7976931348623157e+308");
    check_bits(0x4340000000000000ULL, "9007199254740992");
    check_bits(0xc340000000000000ULL, "-9007199254740992");
    check_bits(0x4430000000000000ULL, "295147905179352830000");
    check_bits(0x44b52d02c7e14af5ULL, "9.999999999999997e+22");
    check_bits(0x44b52d02c7e14af6ULL, "1e+23");
    check_bits(0x444b1ae4d6e2ef50ULL, "1e+21");
    check_bits(0x3eb0c6f7a0b5ed8dULL, "0.000001");
    check_bits(0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7");
    check_bits(0x41b3de4355555553ULL, "333333333.3333332");
    check_bits(0x41b3de4355555555ULL, "333333333.3333333");
}

static void test_rejects(void **state)
{
    (void)state;
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    json_t *big = json_integer(9007199254740993LL);
    assert_false(dv_cjson_write(big, &b, &e));
    assert_non_null(strstr(e.msg, "exact double range"));
    ut_err_clear(&e);
    json_decref(big);
    json_t *bad = json_stringn_nocheck("a\xff", 2);
    assert_false(dv_cjson_write(bad, &b, &e));
    assert_non_null(strstr(e.msg, "UTF-8"));
    ut_err_clear(&e);
    json_decref(bad);
    ut_buf_free(&b);
}

static void test_digest(void **state)
{
    (void)state;
    /* sha256("{}") */
    json_t *j = json_object();
    char hex[65];
    ut_err e = UT_ERR_INIT;
    assert_true(dv_cjson_digest(j, hex, &e));
    assert_string_equal(hex, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    json_decref(j);
}

static void test_nix_dump(void **state)
{
    (void)state;
    /* nlohmann order is byte order (U+FB33 before the emoji), floats keep a
     * fraction, control characters are \u escapes. */
    json_t *j = json_loads("{\"\\ud83d\\ude00\":1,\"\\ufb33\":2.0,\"b\":[true,null,\"x\\u0001\"],\"a\":1.5}", 0, NULL);
    assert_non_null(j);
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    assert_true(dv_json_write_nix(j, &b, &e));
    assert_string_equal(b.data, "{\"a\":1.5,\"b\":[true,null,\"x\\u0001\"],\"\xef\xac\xb3\":2.0,\"\xf0\x9f\x98\x80\":1}");
    ut_buf_free(&b);
    json_decref(j);
}

static void test_pb(void **state)
{
    (void)state;
    ut_buf b = UT_BUF_INIT;
    dv_pb_varint(&b, 300);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "\xac\x02", 2);
    ut_buf_clear(&b);
    dv_pb_string(&b, 1, "testing");          /* protobuf docs' example */
    assert_memory_equal(b.data, "\x0a\x07testing", 9);
    ut_buf_clear(&b);
    dv_pb_uint(&b, 2, 0);                    /* defaults are omitted */
    dv_pb_string(&b, 1, "");
    dv_pb_bool(&b, 7, false);
    assert_int_equal(b.len, 0);
    dv_pb_uint(&b, 1, 150);
    assert_memory_equal(b.data, "\x08\x96\x01", 3);
    ut_buf m = UT_BUF_INIT;
    ut_buf_clear(&b);
    dv_pb_message(&b, 2, &m);                /* present-but-empty message */
    assert_memory_equal(b.data, "\x12\x00", 2);
    ut_buf_free(&b);
    ut_buf_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_example), cmocka_unit_test(test_rfc8785_sorting),
        cmocka_unit_test(test_rfc8785_numbers), cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_digest),          cmocka_unit_test(test_nix_dump),
        cmocka_unit_test(test_pb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
