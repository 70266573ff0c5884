/* TOML reader against the conformance tests of fromTOML and the TOML 1.0
 * specification's own examples of valid and invalid documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

/* The .err.exp text after `marker`, with the error printer's indentation of
 * continuation lines (7 spaces) taken off again. */
static char *err_exp_message(const char *file, const char *marker)
{
    size_t len;
    char *txt = tu_read(EVALPURE_LANG_DIR, file, &len);
    assert_non_null(txt);
    char *p = strstr(txt, marker);
    assert_non_null(p);
    p += strlen(marker);
    ut_buf out = UT_BUF_INIT;
    for (;;) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        ut_buf_append(&out, p, l);
        if (!nl || !nl[1])
            break;
        ut_buf_putc(&out, '\n');
        p = nl + 1;
        for (int i = 0; i < 7 && *p == ' '; i++)
            p++;
    }
    /* A message ending in a newline shows as a last line of blanks. */
    free(txt);
    return ut_buf_steal(&out, NULL);
}

/* The TOML documents of a conformance test, as nix-instantiate gave them
 * (one string, or a list of them when the test is a list of fromTOML
 * calls). */
static ev_json *toml_inputs(const char *name, ut_arena *a)
{
    size_t jl;
    char *j = tu_read(EVALPURE_DATA_DIR, name, &jl);
    assert_non_null(j);
    ut_err e = UT_ERR_INIT;
    ev_json *v = ev_json_parse(j, jl, a, &e);
    assert_non_null(v);
    free(j);
    return v;
}

static char *toml_input(const char *name, size_t *len)
{
    ut_arena *a = ut_arena_new();
    ev_json *v = toml_inputs(name, a);
    assert_int_equal(v->type, EV_JSON_STRING);
    char *s = ut_xmemdup(v->u.str.s, v->u.str.len + 1);
    *len = v->u.str.len;
    ut_arena_free(a);
    return s;
}

static void print_one(const char *src, size_t len, ut_buf *out)
{
    ut_arena *a = ut_arena_new();
    ut_err e = UT_ERR_INIT;
    ev_toml *t = ev_toml_parse(src, len, a, &e);
    if (!t)
        fail_msg("%s", e.msg);
    tu_print_toml(t, out);
    ut_arena_free(a);
}

static void check_okay(const char *json, const char *exp)
{
    size_t el;
    char *want = tu_read(EVALPURE_LANG_DIR, exp, &el);
    assert_non_null(want);
    while (el && want[el - 1] == '\n')
        want[--el] = '\0';
    ut_arena *a = ut_arena_new();
    ev_json *in = toml_inputs(json, a);
    ut_buf out = UT_BUF_INIT;
    if (in->type == EV_JSON_ARRAY) {
        ut_buf_puts(&out, "[ ");
        for (size_t i = 0; i < in->u.arr.n; i++) {
            print_one(in->u.arr.items[i]->u.str.s, in->u.arr.items[i]->u.str.len, &out);
            ut_buf_putc(&out, ' ');
        }
        ut_buf_puts(&out, "]");
    } else {
        print_one(in->u.str.s, in->u.str.len, &out);
    }
    assert_string_equal(ut_buf_cstr(&out), want);
    ut_buf_free(&out);
    ut_arena_free(a);
    free(want);
}

static void conformance_fromTOML(void **state)
{
    (void)state;
    /* Without the timestamps feature this test has no dates in it. */
    check_okay("fromTOML.json", "eval-okay-fromTOML.exp");
}

static void conformance_fromTOML_timestamps(void **state)
{
    (void)state;
    check_okay("fromTOML-timestamps.json", "eval-okay-fromTOML-timestamps.exp");
}

static int count_datetimes(const ev_toml *t)
{
    int n = t->type == EV_TOML_DATETIME;
    if (t->type == EV_TOML_TABLE)
        for (size_t i = 0; i < t->u.tbl.n; i++)
            n += count_datetimes(t->u.tbl.m[i].val);
    if (t->type == EV_TOML_ARRAY)
        for (size_t i = 0; i < t->u.arr.n; i++)
            n += count_datetimes(t->u.arr.items[i]);
    return n;
}

static void timestamps_are_reported(void **state)
{
    (void)state;
    /* eval-fail-fromTOML-timestamps: the builtin refuses these without the
     * experimental feature, so the reader must show them as dates. */
    size_t len;
    char *src = toml_input("fromTOML-timestamps.json", &len);
    ut_arena *a = ut_arena_new();
    ut_err e = UT_ERR_INIT;
    ev_toml *t = ev_toml_parse(src, len, a, &e);
    assert_non_null(t);
    assert_int_equal(count_datetimes(t), 14 + 11 + 1 + 11);
    ut_arena_free(a);
    free(src);
}

static char *parse_err(const char *src)
{
    ut_arena *a = ut_arena_new();
    ut_err e = UT_ERR_INIT;
    ev_toml *t = ev_toml_parse(src, strlen(src), a, &e);
    ut_arena_free(a);
    if (t)
        fail_msg("expected an error for: %s", src);
    return e.msg;
}

static void conformance_overflow(void **state)
{
    (void)state;
    char *want = err_exp_message("eval-fail-fromTOML-overflow.err.exp", "while parsing TOML: ");
    char *got = parse_err("attr = 9223372036854775808");
    assert_string_equal(got, want);
    free(want);
    free(got);
    want = err_exp_message("eval-fail-fromTOML-underflow.err.exp", "while parsing TOML: ");
    got = parse_err("attr = -9223372036854775809");
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void conformance_nul(void **state)
{
    (void)state;
    const char *docs[] = {"\"a\\u0000b\" = 1", "k = \"a\\u0000b\""};
    const char *files[] = {"eval-fail-fromTOML-keyWithNullByte.err.exp", "eval-fail-fromTOML-valueWithNullByte.err.exp"};
    for (int i = 0; i < 2; i++) {
        ut_arena *a = ut_arena_new();
        ut_err e = UT_ERR_INIT;
        ev_toml *t = ev_toml_parse(docs[i], strlen(docs[i]), a, &e);
        assert_non_null(t);
        assert_int_equal(t->u.tbl.n, 1);
        ev_toml_member *m = &t->u.tbl.m[0];
        const char *s = i == 0 ? m->key : m->val->u.str.s;
        size_t l = i == 0 ? m->klen : m->val->u.str.len;
        assert_int_equal(l, 3);
        assert_false(ev_check_no_nul(s, l, &e));
        /* fromTOML reports it as "error: <message>" inside its own. */
        char *want = err_exp_message(files[i], "while parsing TOML: error: ");
        assert_string_equal(e.msg, want);
        free(want);
        ut_err_clear(&e);
        ut_arena_free(a);
    }
}

static void print_doc(const char *src, const char *want)
{
    ut_arena *a = ut_arena_new();
    ut_err e = UT_ERR_INIT;
    ev_toml *t = ev_toml_parse(src, strlen(src), a, &e);
    if (!t)
        fail_msg("%s\nfor: %s", e.msg, src);
    ut_buf out = UT_BUF_INIT;
    tu_print_toml(t, &out);
    if (strcmp(ut_buf_cstr(&out), want) != 0)
        fail_msg("for: %s\n got: %s\nwant: %s", src, out.data, want);
    ut_buf_free(&out);
    ut_arena_free(a);
}

/* The string examples of the TOML 1.0 specification; expected values as
 * Nix prints what fromTOML makes of them. */
static void spec_strings(void **state)
{
    (void)state;
    print_doc("s1 = \"\"\"\nRoses are red\nViolets are blue\"\"\"", "{ s1 = \"Roses are red\\nViolets are blue\"; }");
    print_doc("s2 = \"\"\"\\\n       The quick brown \\\n       fox jumps over \\\n       the lazy dog.\\\n       \"\"\"",
              "{ s2 = \"The quick brown fox jumps over the lazy dog.\"; }");
    print_doc("s4 = \"\"\"Here are three quotation marks: \"\"\\\".\"\"\"",
              "{ s4 = \"Here are three quotation marks: \\\"\\\"\\\".\"; }");
    print_doc("s5 = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"",
              "{ s5 = \"\\\"This,\\\" she said, \\\"is just a pointless statement.\\\"\"; }");
    print_doc("s6 = '''I [dw]on't need \\d{2} apples'''", "{ s6 = \"I [dw]on't need \\\\d{2} apples\"; }");
    print_doc("s7 = '''\nThe first newline is\ntrimmed in raw strings.\n   All other whitespace\n   is preserved.\n'''",
              "{ s7 = \"The first newline is\\ntrimmed in raw strings.\\n   All other whitespace\\n   is preserved.\\n\"; }");
    print_doc("s8 = ''''That,' she said, 'is still pointless.''''", "{ s8 = \"'That,' she said, 'is still pointless.'\"; }");
    print_doc("s9 = 'C:\\Users\\nodejs\\templates'", "{ s9 = \"C:\\\\Users\\\\nodejs\\\\templates\"; }");
    print_doc("s10 = \"\\U0001F600 \\u00e9\"", "{ s10 = \"\xf0\x9f\x98\x80 \xc3\xa9\"; }");
    print_doc("s = \"a${b}\"", "{ s = \"a\\${b}\"; }");
    print_doc("s = \"\"\"a\r\nb\"\"\"\r\n", "{ s = \"a\\r\\nb\"; }");
}

static void spec_numbers(void **state)
{
    (void)state;
    print_doc("f1 = -0.0\nf2 = +inf\nf3 = -inf\nf5 = 0.1\nf6 = 1e-400\nf7 = -nan",
              "{ f1 = -0; f2 = inf; f3 = -inf; f5 = 0.1; f6 = 0; f7 = -nan; }");
    print_doc("i1 = -9223372036854775808\ni2 = 0x7FFFFFFFFFFFFFFF\ni3 = 0o777\ni4 = 0b0\ni5 = -0\ni6 = +0",
              "{ i1 = -9223372036854775808; i2 = 9223372036854775807; i3 = 511; i4 = 0; i5 = 0; i6 = 0; }");
    print_doc("b = 0b111111111111111111111111111111111111111111111111111111111111111",
              "{ b = 9223372036854775807; }");
}

static void spec_tables(void **state)
{
    (void)state;
    print_doc("a = [ [ { x = 1 } ], [] ]\nt = { a.b = 1, a.c = 2 }\ne = {}",
              "{ a = [ [ { x = 1; } ] [ ] ]; e = { }; t = { a = { b = 1; c = 2; }; }; }");
    /* Sub-tables may be added under tables made by dotted keys. */
    print_doc("[fruit]\napple.color = \"red\"\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
              "{ fruit = { apple = { color = \"red\"; taste = { sweet = true; }; texture = { smooth = true; }; }; }; }");
    /* A table implicitly made by a header may be defined later. */
    print_doc("[x.y.z.w]\n[x]\na = 1", "{ x = { a = 1; y = { z = { w = { }; }; }; }; }");
    print_doc("[[a.b]]\nx = 1\n[a.b.c]\ny = 2\n[[a.b]]\n", "{ a = { b = [ { c = { y = 2; }; x = 1; } { } ]; }; }");
    print_doc("\"\" = 1\n[x.\"\"]\ny = 2", "{ \"\" = 1; x = { \"\" = { y = 2; }; }; }");
}

static void spec_dates(void **state)
{
    (void)state;
    print_doc("a = 1979-05-27T07:32:00+00:00\nb = 1979-05-27T07:32:00-00:00\nc = 1979-05-27T07:32:00+05:30\n"
              "d = 2000-02-29\ne = 23:59:60.5\nf = 1979-05-27 07:32:00.000",
              "{ a = { _type = \"timestamp\"; value = \"1979-05-27T07:32:00Z\"; }; "
              "b = { _type = \"timestamp\"; value = \"1979-05-27T07:32:00Z\"; }; "
              "c = { _type = \"timestamp\"; value = \"1979-05-27T07:32:00+05:30\"; }; "
              "d = { _type = \"timestamp\"; value = \"2000-02-29\"; }; "
              "e = { _type = \"timestamp\"; value = \"23:59:60.500\"; }; "
              "f = { _type = \"timestamp\"; value = \"1979-05-27T07:32:00\"; }; }");
}

static void invalid_documents(void **state)
{
    (void)state;
    const char *bad[] = {
        "a = 1\na = 2",
        "[a]\n[a]",
        "a = 1\na.b = 2",
        "[fruit]\napple.color = \"red\"\n[fruit.apple]",
        "a = {}\n[a.b]",
        "a = { b = 1 }\na.c = 2",
        "a = []\n[[a]]",
        "[[a]]\n[a]",
        "[a.b.c]\n[a]\nb.c.t = 1",
        "x = 01",
        "x = 1__0",
        "x = _1",
        "x = 1_",
        "x = 0x",
        "x = 1.",
        "x = .5",
        "x = 1e",
        "x = +0x10",
        "x = 0xFFFFFFFFFFFFFFFF",
        "x = 0b0000000000000000000000000000000000000000000000000000000000000001",
        "x = 1e400",
        "t = { a = 1, }",
        "t = { a = 1,\n b = 2 }",
        "x = \"\\e\"",
        "x = \"\\uD800\"",
        "x = \"\\x41\"",
        "a = 1 b = 2",
        "x = [1,,2]",
        "x = [1 2]",
        "x = \"abc",
        "x = \"a\nb\"",
        "x = '''abc",
        "x = \"\"\"a\"\"\"\"\"\"",
        "x = 07:32",
        "x = 1979-02-29",
        "x = 1979-13-01",
        "x = 24:00:00",
        "x = 1979-05-27T07:32:00+5:00",
        "x = tru",
        "x = 1\rb = 2",
        "# a \x01 comment",
        "x = \"a\x7f\"",
        "= 1",
        "a b = 1",
        "[a",
        "[[a]",
        "x = \xff",
        "x =",
        "x = nan1",
        "x = 1979-05-27T",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *m = parse_err(bad[i]);
        /* Every error names its place: "--> fromTOML" and the line. */
        if (!strstr(m, "[error] ") || !strstr(m, " --> fromTOML\n") || !strstr(m, "^-- "))
            fail_msg("badly formed error for %s: %s", bad[i], m);
        free(m);
    }
}

/* Big tables switch to a hash lookup; duplicates must still be found. */
static void big_tables(void **state)
{
    (void)state;
    ut_buf root = UT_BUF_INIT, doc = UT_BUF_INIT;
    for (int i = 0; i < 100; i++)
        ut_buf_printf(&root, "k%d = %d\n", i, i);
    ut_buf_append(&doc, root.data, root.len);
    ut_buf_puts(&doc, "[t]\n");
    for (int i = 0; i < 40; i++)
        ut_buf_printf(&doc, "d%d.x = %d\n", i, i);
    ut_buf_puts(&doc, "d7.y = 1\n");
    ut_arena *a = ut_arena_new();
    ut_err e = UT_ERR_INIT;
    ev_toml *t = ev_toml_parse(doc.data, doc.len, a, &e);
    assert_non_null(t);
    assert_int_equal(t->u.tbl.n, 101);
    assert_null(t->u.tbl.idx);
    ut_arena_free(a);
    /* The first two go into the root table, the others after [t]. */
    const char *dups[] = {"k5 = 0\n", "k99.z = 1\n", "d3 = 1\n", "d39.x = 2\n", "[t]\n", "[t.d30]\n"};
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++) {
        ut_buf d2 = UT_BUF_INIT;
        if (i < 2) {
            ut_buf_append(&d2, root.data, root.len);
            ut_buf_puts(&d2, dups[i]);
            ut_buf_append(&d2, doc.data + root.len, doc.len - root.len);
        } else {
            ut_buf_append(&d2, doc.data, doc.len);
            ut_buf_puts(&d2, dups[i]);
        }
        a = ut_arena_new();
        if (ev_toml_parse(d2.data, d2.len, a, &e))
            fail_msg("no error for a duplicate: %s", dups[i]);
        ut_err_clear(&e);
        ut_arena_free(a);
        ut_buf_free(&d2);
    }
    ut_buf_free(&doc);
    ut_buf_free(&root);
}

static void error_location(void **state)
{
    (void)state;
    char *m = parse_err("a = 1\n\n\n\n\n\n\n\n\nb = 1\nb = 2\n");
    assert_string_equal(m, "[error] toml::insert_value: duplicate key\n --> fromTOML\n    |\n 11 | b = 2\n    | ^-- key already defined\n");
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_fromTOML),
        cmocka_unit_test(conformance_fromTOML_timestamps),
        cmocka_unit_test(timestamps_are_reported),
        cmocka_unit_test(conformance_overflow),
        cmocka_unit_test(conformance_nul),
        cmocka_unit_test(spec_strings),
        cmocka_unit_test(spec_numbers),
        cmocka_unit_test(spec_tables),
        cmocka_unit_test(spec_dates),
        cmocka_unit_test(invalid_documents),
        cmocka_unit_test(big_tables),
        cmocka_unit_test(error_location),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
