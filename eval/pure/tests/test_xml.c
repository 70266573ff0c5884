/* The XML writer: the documents of the conformance tests eval-okay-xml,
 * eval-okay-functionargs, eval-okay-toxml and eval-okay-toxml2 written
 * element by element, and attribute escaping as nix-instantiate does it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "eval/pure/xml.h"
#include "testutil.h"

#define A(n, v) ((ev_xml_attr){(n), (v), strlen(v)})

static void check_file(ut_buf *got, const char *file)
{
    size_t len;
    char *want = tu_read(EVALPURE_LANG_DIR, file, &len);
    assert_non_null(want);
    assert_string_equal(ut_buf_cstr(got), want);
    free(want);
}

/* The .exp of toXML tests holds the document as a printed Nix string. */
static void check_printed(ut_buf *got, const char *file)
{
    ut_buf printed = UT_BUF_INIT;
    ev_fmt_string_print(got->data, got->len, &printed);
    ut_buf_putc(&printed, '\n');
    check_file(&printed, file);
    ut_buf_free(&printed);
}

static void value(ev_xml_writer *w, const char *type, const char *v)
{
    ev_xml_attr a = A("value", v);
    ev_xml_short(w, type, &a, 1);
}

static void attr_open(ev_xml_writer *w, const char *name)
{
    ev_xml_attr a = A("name", name);
    ev_xml_open(w, "attr", &a, 1);
}

static void conformance_xml(void **state)
{
    (void)state;
    ut_buf out = UT_BUF_INIT;
    ev_xml_writer w;
    ev_xml_begin(&w, &out);
    ev_xml_open(&w, "expr", NULL, 0);
    ev_xml_open(&w, "attrs", NULL, 0);
    attr_open(&w, "a");
    value(&w, "string", "foo");
    ev_xml_close(&w);
    attr_open(&w, "at");
    ev_xml_open(&w, "function", NULL, 0);
    ev_xml_attr pat = A("name", "args");
    ev_xml_open(&w, "attrspat", &pat, 1);
    const char *xyz[] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        ev_xml_attr n = A("name", xyz[i]);
        ev_xml_short(&w, "attr", &n, 1);
    }
    ev_xml_close(&w);
    ev_xml_close(&w);
    ev_xml_close(&w);
    attr_open(&w, "b");
    value(&w, "string", "bar");
    ev_xml_close(&w);
    attr_open(&w, "c");
    value(&w, "string", "foobar");
    ev_xml_close(&w);
    attr_open(&w, "ellipsis");
    ev_xml_open(&w, "function", NULL, 0);
    ev_xml_attr ell = A("ellipsis", "1");
    ev_xml_open(&w, "attrspat", &ell, 1);
    for (int i = 0; i < 3; i++) {
        ev_xml_attr n = A("name", xyz[i]);
        ev_xml_short(&w, "attr", &n, 1);
    }
    ev_xml_close(&w);
    ev_xml_close(&w);
    ev_xml_close(&w);
    attr_open(&w, "f");
    ev_xml_open(&w, "function", NULL, 0);
    ev_xml_open(&w, "attrspat", NULL, 0);
    for (int i = 0; i < 3; i++) {
        ev_xml_attr n = A("name", xyz[i]);
        ev_xml_short(&w, "attr", &n, 1);
    }
    ev_xml_close(&w);
    ev_xml_close(&w);
    ev_xml_close(&w);
    attr_open(&w, "id");
    ev_xml_open(&w, "function", NULL, 0);
    ev_xml_attr vp = A("name", "x");
    ev_xml_short(&w, "varpat", &vp, 1);
    ev_xml_close(&w);
    ev_xml_close(&w);
    attr_open(&w, "x");
    value(&w, "int", "123");
    ev_xml_close(&w);
    attr_open(&w, "y");
    ut_buf f = UT_BUF_INIT;
    ev_fmt_float_print(567.890, &f);
    value(&w, "float", f.data);
    ut_buf_free(&f);
    ev_xml_end(&w);
    check_file(&out, "eval-okay-xml.exp.xml");
    ut_buf_free(&out);
}

static void conformance_functionargs(void **state)
{
    (void)state;
    const char *names[] = {"stdenv", "fetchurl", "aterm-stdenv", "aterm-stdenv2", "libX11", "libXv",
                           "mplayer-stdenv2.libXv-libX11", "mplayer-stdenv2.libXv-libX11_2",
                           "nix-stdenv-aterm-stdenv", "nix-stdenv2-aterm2-stdenv2"};
    ut_buf out = UT_BUF_INIT;
    ev_xml_writer w;
    ev_xml_begin(&w, &out);
    ev_xml_open(&w, "expr", NULL, 0);
    ev_xml_open(&w, "list", NULL, 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        value(&w, "string", names[i]);
    ev_xml_end(&w);
    check_file(&out, "eval-okay-functionargs.exp.xml");
    ut_buf_free(&out);
}

static void conformance_toxml(void **state)
{
    (void)state;
    ut_buf out = UT_BUF_INIT;
    ev_xml_writer w;
    ev_xml_begin(&w, &out);
    ev_xml_open(&w, "expr", NULL, 0);
    ev_xml_open(&w, "attrs", NULL, 0);
    attr_open(&w, "a");
    value(&w, "string", "s");
    ev_xml_end(&w);
    check_printed(&out, "eval-okay-toxml.exp");
    ut_buf_clear(&out);

    ev_xml_begin(&w, &out);
    ev_xml_open(&w, "expr", NULL, 0);
    ev_xml_open(&w, "list", NULL, 0);
    value(&w, "string", "ab");
    value(&w, "int", "10");
    ev_xml_open(&w, "attrs", NULL, 0);
    attr_open(&w, "x");
    value(&w, "string", "x");
    ev_xml_close(&w);
    attr_open(&w, "y");
    value(&w, "string", "x");
    ev_xml_end(&w);
    check_printed(&out, "eval-okay-toxml2.exp");
    ut_buf_free(&out);
}

static void escaping_and_order(void **state)
{
    (void)state;
    /* nix-instantiate: toXML ["a<>&\"'\n\t\r"] keeps ' tab and CR. */
    ut_buf out = UT_BUF_INIT;
    ev_xml_escape_attr("a<>&\"'\n\t\r", 9, &out);
    assert_string_equal(ut_buf_cstr(&out), "a&lt;&gt;&amp;&quot;'&#xA;\t\r");
    ut_buf_clear(&out);
    /* Attributes come out sorted by name, whatever order they are given in. */
    ev_xml_writer w;
    ev_xml_begin(&w, &out);
    ev_xml_attr at[] = {A("name", "args"), A("ellipsis", "1")};
    ev_xml_short(&w, "attrspat", at, 2);
    ev_xml_end(&w);
    assert_string_equal(ut_buf_cstr(&out),
                        "<?xml version='1.0' encoding='utf-8'?>\n<attrspat ellipsis=\"1\" name=\"args\" />\n");
    ut_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conformance_xml),
        cmocka_unit_test(conformance_functionargs),
        cmocka_unit_test(conformance_toxml),
        cmocka_unit_test(escaping_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
