/* fromJSON's reader: the conformance tests eval-okay-fromjson,
 * eval-okay-fromjson-escapes and eval-fail-fromJSON-*, and the JSON
 * library's error messages as nix-instantiate shows them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

/* The value as Nix prints it, or "error: <message>". */
static char *eval(const char *src, size_t len)
{
    ut_arena *a = ut_arena_new();
    ut_err e = UT_ERR_INIT;
    ev_json *v = ev_json_parse(src, len, a, &e);
    ut_buf out = UT_BUF_INIT;
    if (v)
        tu_print_json(v, &out);
    else
        ut_buf_printf(&out, "error: %s", e.msg);
    ut_err_clear(&e);
    ut_arena_free(a);
    return ut_buf_steal(&out, NULL);
}

#define CHECK(src, want)                                                                                          \
    do {                                                                                                          \
        char *got_ = eval(src, strlen(src));                                                                      \
        if (strcmp(got_, want) != 0)                                                                              \
            fail_msg("fromJSON %s\n got: %s\nwant: %s", src, got_, want);                                         \
        free(got_);                                                                                               \
    } while (0)

static void conformance_fromjson(void **state)
{
    (void)state;
    CHECK("{\n  \"Video\": {\n      \"Title\":  \"The Penguin Chronicles\",\n      \"Width\":  1920,\n"
          "      \"Height\": 1080,\n      \"EmbeddedData\": [3.14159, 23493,null, true  ,false, -10],\n"
          "      \"Thumb\": {\n          \"Url\":    \"http://www.example.com/video/5678931\",\n"
          "          \"Width\":  200,\n          \"Height\": 250\n      },\n      \"Animated\" : false,\n"
          "      \"IDs\": [116, 943, 234, 38793, true  ,false,null, -100],\n"
          "      \"Escapes\": \"\\\"\\\\\\/\\t\\n\\r\\t\",\n      \"Subtitle\" : false,\n"
          "      \"Latitude\":  37.7668,\n      \"Longitude\": -122.3959\n    }\n}\n",
          "{ Video = { Animated = false; EmbeddedData = [ 3.14159 23493 null true false -10 ]; "
          "Escapes = \"\\\"\\\\/\\t\\n\\r\\t\"; Height = 1080; IDs = [ 116 943 234 38793 true false null -100 ]; "
          "Latitude = 37.7668; Longitude = -122.396; Subtitle = false; "
          "Thumb = { Height = 250; Url = \"http://www.example.com/video/5678931\"; Width = 200; }; "
          "Title = \"The Penguin Chronicles\"; Width = 1920; }; }");
}

static void conformance_fromjson_escapes(void **state)
{
    (void)state;
    /* The input is the one-line indented string of the .nix file. */
    size_t len, el;
    char *nix = tu_read(EVALPURE_LANG_DIR, "eval-okay-fromjson-escapes.nix", &len);
    char *want = tu_read(EVALPURE_LANG_DIR, "eval-okay-fromjson-escapes.exp", &el);
    assert_non_null(nix);
    assert_non_null(want);
    char *b = strstr(nix, "''");
    assert_non_null(b);
    b += 2;
    char *e = strstr(b, "''");
    assert_non_null(e);
    while (el && want[el - 1] == '\n')
        want[--el] = '\0';
    char *got = eval(b, (size_t)(e - b));
    assert_string_equal(got, want);
    free(got);
    free(nix);
    free(want);
}

/* The message of a conformance .err.exp: the text after "error: " on the
 * last line that has it. */
static char *err_exp(const char *file)
{
    size_t len;
    char *txt = tu_read(EVALPURE_LANG_DIR, file, &len);
    assert_non_null(txt);
    char *p = NULL, *q = txt;
    while ((q = strstr(q, "       error: ")) != NULL)
        p = q++;
    assert_non_null(p);
    ut_buf out = UT_BUF_INIT;
    ut_buf_puts(&out, "error: ");
    p += strlen("       error: ");
    char *nl = strchr(p, '\n');
    ut_buf_append(&out, p, nl ? (size_t)(nl - p) : strlen(p));
    free(txt);
    return ut_buf_steal(&out, NULL);
}

static void conformance_fail(void **state)
{
    (void)state;
    struct {
        const char *src, *file;
    } cases[] = {
        {"{\"a\\u0000b\": 1}", "eval-fail-fromJSON-keyWithNullByte.err.exp"},
        {"\"a\\u0000b\"", "eval-fail-fromJSON-valueWithNullByte.err.exp"},
        {"{\"attr\": 18446744073709551615}", "eval-fail-fromJSON-overflowing.err.exp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *want = err_exp(cases[i].file);
        CHECK(cases[i].src, want);
        free(want);
    }
}

static void numbers(void **state)
{
    (void)state;
    CHECK("[1.0, 1, 1e2, -0, -0.0, 1.5e3, 9223372036854775807, -9223372036854775808]",
          "[ 1 1 100 0 -0 1500 9223372036854775807 -9223372036854775808 ]");
    CHECK("-9223372036854775809", "-9.22337e+18");
    CHECK("9223372036854775808", "error: unsigned json number 9223372036854775808 outside of Nix integer range");
    CHECK("18446744073709551616", "1.84467e+19");
    CHECK("[1E400]", "error: [json.exception.out_of_range.406] number overflow parsing '1E400'");
    CHECK("1e-400", "0");
}

static void structure(void **state)
{
    (void)state;
    CHECK("{\"a\":1,\"a\":2}", "{ a = 2; }");
    CHECK("{\"b\":1,\"a\":{\"c\":[]},\"b\":{}}", "{ a = { c = [ ]; }; b = { }; }");
    CHECK("\xef\xbb\xbf[1]", "[ 1 ]");
    CHECK(" \t\r\n\"x\" \n", "\"x\"");
    CHECK("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
}

static void library_errors(void **state)
{
    (void)state;
    /* As nix-instantiate reports them (the JSON library's wording). */
    const char *pre = "error: [json.exception.parse_error.101] parse error at ";
    struct {
        const char *src, *want;
    } cases[] = {
        {"", "line 1, column 1: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal"},
        {"[1", "line 1, column 3: syntax error while parsing array - unexpected end of input; expected ']'"},
        {"{\"a\" 1}", "line 1, column 6: syntax error while parsing object separator - unexpected number literal; expected ':'"},
        {"{\"a\":1 \"b\":2}", "line 1, column 10: syntax error while parsing object - unexpected string literal; expected '}'"},
        {"{1:2}", "line 1, column 2: syntax error while parsing object key - unexpected number literal; expected string literal"},
        {"[1] x", "line 1, column 5: syntax error while parsing value - invalid literal; last read: '1] x'; expected end of input"},
        {"tru", "line 1, column 4: syntax error while parsing value - invalid literal; last read: 'tru'"},
        {"\"abc", "line 1, column 5: syntax error while parsing value - invalid string: missing closing quote; last read: '\"abc'"},
        {"01", "line 1, column 2: syntax error while parsing value - unexpected number literal; expected end of input"},
        {"-", "line 1, column 2: syntax error while parsing value - invalid number; expected digit after '-'; last read: '-'"},
        {"1.", "line 1, column 3: syntax error while parsing value - invalid number; expected digit after '.'; last read: '1.'"},
        {"1e", "line 1, column 3: syntax error while parsing value - invalid number; expected '+', '-', or digit after exponent; last read: '1e'"},
        {"1e+", "line 1, column 4: syntax error while parsing value - invalid number; expected digit after exponent sign; last read: '1e+'"},
        {"\"\\x\"", "line 1, column 3: syntax error while parsing value - invalid string: forbidden character after backslash; last read: '\"\\x'"},
        {"\"\\u12\"", "line 1, column 6: syntax error while parsing value - invalid string: '\\u' must be followed by 4 hex digits; last read: '\"\\u12\"'"},
        {"\"\\udc00\"", "line 1, column 7: syntax error while parsing value - invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF; last read: '\"\\udc00'"},
        {"[1,2", "line 1, column 5: syntax error while parsing array - unexpected end of input; expected ']'"},
        {"\"a\nb\"", "line 2, column 0: syntax error while parsing value - invalid string: control character U+000A (LF) must be escaped to \\u000A or \\n; last read: '\"a<U+000A>'"},
        {"\"a\tb\"", "line 1, column 3: syntax error while parsing value - invalid string: control character U+0009 (HT) must be escaped to \\u0009 or \\t; last read: '\"a<U+0009>'"},
        {" ", "line 1, column 2: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal"},
        {"{\"a\":1,}", "line 1, column 8: syntax error while parsing object key - unexpected '}'; expected string literal"},
        {"nul", "line 1, column 4: syntax error while parsing value - invalid literal; last read: 'nul'"},
        {"[-]", "line 1, column 3: syntax error while parsing value - invalid number; expected digit after '-'; last read: '-]'"},
        {"\"\\ud800\\u0041\"", "line 1, column 13: syntax error while parsing value - invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF; last read: '\"\\ud800\\u0041'"},
        {"[1, 2,\n  3,\n x]", "line 3, column 2: syntax error while parsing value - invalid literal; last read: '3,<U+000A> x'"},
        {"\"\xff\"", "line 1, column 2: syntax error while parsing value - invalid string: ill-formed UTF-8 byte; last read: '\"\xff'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[512];
        snprintf(want, sizeof want, "%s%s", pre, cases[i].want);
        CHECK(cases[i].src, want);
    }
}

static void deep_nesting_is_an_error(void **state)
{
    (void)state;
    size_t n = 100000;
    char *s = ut_xmalloc(n + 1);
    memset(s, '[', n);
    s[n] = '\0';
    char *got = eval(s, n);
    assert_non_null(strstr(got, "error: "));
    free(got);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_fromjson),
        cmocka_unit_test(conformance_fromjson_escapes),
        cmocka_unit_test(conformance_fail),
        cmocka_unit_test(numbers),
        cmocka_unit_test(structure),
        cmocka_unit_test(library_errors),
        cmocka_unit_test(deep_nesting_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
