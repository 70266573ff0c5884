/* Unit tests of the parser's API contract: the tree shapes, positions and
 * flags the evaluator relies on, which the --parse printer does not show. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parser/parser.h"

typedef struct fixture {
    ps_symtab *syms;
    ut_arena *arena;
    ut_err err;
    ps_options opts;
} fixture;

static int setup(void **state)
{
    fixture *f = ut_xcalloc(1, sizeof *f);
    f->syms = ps_symtab_new();
    f->arena = ut_arena_new();
    f->opts.home = "/home/u";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ut_err_clear(&f->err);
    ut_arena_free(f->arena);
    ps_symtab_free(f->syms);
    free(f);
    return 0;
}

static ps_expr *parse(fixture *f, const char *text)
{
    ut_err_clear(&f->err);
    const ps_source *src = ps_source_new(f->arena, PS_ORIGIN_FILE, "/base/dir/default.nix", text, strlen(text), NULL);
    return ps_parse(f->syms, src, f->arena, &f->opts, &f->err);
}

static char *printed(fixture *f, const char *text)
{
    ps_expr *e = parse(f, text);
    if (!e)
        fail_msg("parse of %s failed: %s", text, f->err.msg);
    ut_buf b = UT_BUF_INIT;
    ps_print(&b, f->syms, e);
    char *s = ut_arena_strdup(f->arena, ut_buf_cstr(&b));
    ut_buf_free(&b);
    return s;
}

static void expect_error(fixture *f, const char *text, const char *msg_prefix)
{
    ps_expr *e = parse(f, text);
    assert_null(e);
    assert_non_null(f->err.msg);
    if (strncmp(f->err.msg, msg_prefix, strlen(msg_prefix)) != 0)
        fail_msg("for %s expected \"%s...\", got \"%s\"", text, msg_prefix, f->err.msg);
}

static const char *sym(fixture *f, ps_sym s)
{
    return ps_sym_str(f->syms, s);
}

static void test_symtab(void **state)
{
    (void)state;
    ps_symtab *t = ps_symtab_new();
    ps_sym a = ps_intern_cstr(t, "alpha");
    ps_sym b = ps_intern(t, "alphabet", 5);
    assert_int_equal(a, b);
    assert_int_not_equal(a, PS_NOSYM);
    ps_sym c = ps_intern(t, "a\0b", 3);
    assert_int_not_equal(a, c);
    assert_int_equal(ps_sym_len(t, c), 3);
    char name[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "sym%d", i);
        ps_intern_cstr(t, name);
    }
    assert_int_equal(ps_symtab_count(t), 100002);
    assert_string_equal(ps_sym_str(t, a), "alpha");
    assert_int_equal(ps_intern_cstr(t, "sym4242"), ps_intern_cstr(t, "sym4242"));
    assert_string_equal(ps_sym_str(t, ps_intern_cstr(t, "sym99999")), "sym99999");
    ps_symtab_free(t);
}

static void test_numbers(void **state)
{
    fixture *f = *state;
    ps_expr *e = parse(f, "9223372036854775807");
    assert_non_null(e);
    assert_int_equal(e->kind, PS_INT);
    assert_true(e->u.i == INT64_MAX);
    expect_error(f, "9223372036854775808", "invalid integer '9223372036854775808'\n       at /base/dir/default.nix:1:1:");
    e = parse(f, "1.5E-3");
    assert_int_equal(e->kind, PS_FLOAT);
    assert_true(e->u.f == 1.5e-3);
    e = parse(f, ".5");
    assert_int_equal(e->kind, PS_FLOAT);
    assert_true(e->u.f == 0.5);
    /* as in Nix, a float needs a dot: 1e3 is 1 applied to e3 */
    expect_error(f, "1e3", "undefined variable 'e3'");
    assert_string_equal(printed(f, "[ 1.0 2.5 1.0e-7 ]"), "[ (1) (2.5) (1e-07) ]");
}

static void test_operators(void **state)
{
    fixture *f = *state;
    ps_expr *e = parse(f, "1 + 2");
    assert_int_equal(e->kind, PS_CONCAT_STRINGS);
    assert_false(e->u.concat.force_string);
    assert_int_equal(e->u.concat.n, 2);
    assert_int_equal(e->pos.col, 3);   /* the operator, as in CppNix */
    assert_int_equal(e->u.concat.part_pos[1].col, 5);
    assert_string_equal(printed(f, "1 - 2 * 3 / 4"), "(__sub 1 (__div (__mul 2 3) 4))");
    assert_string_equal(printed(f, "-1"), "(__sub 0 1)");
    assert_string_equal(printed(f, "1 < 2 || 3 >= 4 && !true"),
                        "((__lessThan 1 2) || ((! (__lessThan 3 4)) && (! true)))");
    assert_string_equal(printed(f, "a: b: a -> b -> a"), "(a: (b: (a -> (b -> a))))");
    assert_string_equal(printed(f, "[1] ++ [2] ++ [3]"), "([ (1) ] ++ ([ (2) ] ++ [ (3) ]))");
    assert_string_equal(printed(f, "{} // {} // {}"), "({ } // ({ } // { }))");
    expect_error(f, "1 < 2 < 3", "syntax error, unexpected '<'");
    /* parentheses leave no trace: (f 1) 2 is one call */
    assert_string_equal(printed(f, "f: (f 1) 2"), "(f: (f 1 2))");
}

static void test_pipes(void **state)
{
    fixture *f = *state;
    expect_error(f, "f: 1 |> f", "experimental Nix feature 'pipe-operators' is disabled");
    f->opts.pipe_operators = true;
    assert_string_equal(printed(f, "f: g: 1 |> f |> g"), "(f: (g: (g (f 1))))");
    assert_string_equal(printed(f, "f: g: g <| f <| 1"), "(f: (g: (g (f 1))))");
    expect_error(f, "f: 1 |> f <| 2", "syntax error");
    f->opts.pipe_operators = false;
}

static void test_paths(void **state)
{
    fixture *f = *state;
    ps_expr *e = parse(f, "./a/../b");
    assert_int_equal(e->kind, PS_PATH);
    assert_string_equal(e->u.str.s, "/base/dir/b");
    assert_string_equal(parse(f, "../x")->u.str.s, "/base/x");
    assert_string_equal(parse(f, "a/b")->u.str.s, "/base/dir/a/b");
    assert_string_equal(parse(f, "/x/y/./z/..")->u.str.s, "/x/y");
    expect_error(f, "/x//y", "syntax error, unexpected end of path, expecting '${'");
    assert_string_equal(parse(f, "~/x/y")->u.str.s, "/home/u/x/y");
    expect_error(f, "./a/", "path has a trailing slash");
    e = parse(f, "x: ./a/${x}/c");
    assert_int_equal(e->kind, PS_LAMBDA);
    e = e->u.lambda.body;
    assert_int_equal(e->kind, PS_CONCAT_STRINGS);
    assert_false(e->u.concat.force_string);
    assert_int_equal(e->u.concat.n, 3);
    assert_string_equal(e->u.concat.parts[0]->u.str.s, "/base/dir/a/");
    assert_int_equal(e->u.concat.parts[1]->kind, PS_VAR);
    assert_string_equal(e->u.concat.parts[2]->u.str.s, "/c");
    assert_string_equal(printed(f, "<nixpkgs/lib>"), "(__findFile __nixPath \"nixpkgs/lib\")");
    assert_string_equal(printed(f, "http://a.b/c?d=e"), "\"http://a.b/c?d=e\"");
}

static void test_lints(void **state)
{
    fixture *f = *state;
    f->opts.lint_url_literals = PS_LINT_FATAL;
    expect_error(f, "http://example.com",
                 "URL literals are disallowed. Consider using a string literal \"http://example.com\" instead (lint-url-literals)");
    f->opts.lint_url_literals = PS_LINT_OFF;
    f->opts.lint_short_path_literals = PS_LINT_FATAL;
    expect_error(f, "a/b", "relative path literal 'a/b' should be prefixed with '.' for clarity: './a/b' (lint-short-path-literals)");
    assert_non_null(parse(f, "./a/b"));
    f->opts.lint_short_path_literals = PS_LINT_OFF;
    f->opts.lint_absolute_path_literals = PS_LINT_FATAL;
    expect_error(f, "/a/b", "absolute path literals are not portable.");
    expect_error(f, "~/a", "home path literals are not portable.");
    assert_non_null(parse(f, "./a"));
    f->opts.lint_absolute_path_literals = PS_LINT_OFF;
}

static void test_strings(void **state)
{
    fixture *f = *state;
    assert_string_equal(printed(f, "\"a\\n\\t\\$\\x${\"b\"}$\""), "(\"a\\n\\t$x\" + \"b\" + \"$\")");
    assert_string_equal(printed(f, "''\n  a\n   b\n''"), "\"a\\n b\\n\"");
    /* escapes end leading whitespace and stay separate pieces */
    assert_string_equal(printed(f, "'''''' ''$ ''\\n ''"),
                        "(\"''\" + \"' \" + \"$\" + \" \" + \"\\n\" + \" \")");
    assert_string_equal(printed(f, "x: ''\n  ${x}\n    y\n  ''"), "(x: (x + \"\\n  y\\n\"))");
    assert_string_equal(printed(f, "\"${\"x\"}\""), "(\"x\")");
    ps_expr *e = parse(f, "\"a\r\nb\rc\"");
    assert_string_equal(e->u.str.s, "a\nb\nc");
    expect_error(f, "\"abc", "syntax error, unexpected end of file");
}

static void test_attrs(void **state)
{
    fixture *f = *state;
    ps_expr *e = parse(f, "{ b = 1; a.x = 2; a.y = 3; \"c d\" = 4; ${\"e\"} = 5; }");
    assert_int_equal(e->kind, PS_ATTRS);
    assert_int_equal(e->u.attrs.nattrs, 4);
    assert_string_equal(sym(f, e->u.attrs.attrs[0].name), "a");
    assert_string_equal(sym(f, e->u.attrs.attrs[1].name), "b");
    assert_string_equal(sym(f, e->u.attrs.attrs[2].name), "c d");
    assert_string_equal(sym(f, e->u.attrs.attrs[3].name), "e");
    assert_int_equal(e->u.attrs.ndyn, 0);
    assert_int_equal(e->u.attrs.attrs[0].value->u.attrs.nattrs, 2);
    assert_string_equal(printed(f, "x: { ${x} = 1; \"${x}y\" = 2; }"),
                        "(x: { \"${x}\" = 1; \"${(x + \"y\")}\" = 2; })");
    expect_error(f, "{ a.b = 1; a = 2; }", "attribute 'a' already defined at /base/dir/default.nix:1:3");
    expect_error(f, "{ a = 1; a.b = 2; }", "attribute 'a' already defined at /base/dir/default.nix:1:3");
    expect_error(f, "let ${\"a\" + \"b\"} = 1; in 1", "dynamic attributes not allowed in let");
    /* names are set for traces, also on curried bodies */
    e = parse(f, "{ f = x: y: x; g = let h = z: z; in h; }");
    ps_expr *fl = e->u.attrs.attrs[0].value;
    assert_string_equal(sym(f, fl->u.lambda.name), "f");
    assert_string_equal(sym(f, fl->u.lambda.body->u.lambda.name), "f");
    ps_expr *let = e->u.attrs.attrs[1].value;
    assert_int_equal(let->kind, PS_LET);
    assert_string_equal(sym(f, let->u.let.binds->attrs[0].value->u.lambda.name), "h");
    assert_string_equal(printed(f, "let { x = 1; body = x; }"), "(rec { body = x; x = 1; }).body");
}

static void test_inherit(void **state)
{
    fixture *f = *state;
    ps_expr *e = parse(f, "a: rec { inherit (a) y x; inherit a; z = 1; }");
    e = e->u.lambda.body;
    assert_true(e->u.attrs.rec);
    assert_int_equal(e->u.attrs.ninherit_from, 1);
    assert_int_equal(e->u.attrs.nattrs, 4);
    const ps_attrdef *d = e->u.attrs.attrs;
    assert_string_equal(sym(f, d[0].name), "a");
    assert_int_equal(d[0].kind, PS_ATTR_INHERITED);
    assert_int_equal(d[0].value->kind, PS_VAR);
    assert_string_equal(sym(f, d[1].name), "x");
    assert_int_equal(d[1].kind, PS_ATTR_INHERITED_FROM);
    assert_int_equal(d[1].value->kind, PS_SELECT);
    assert_int_equal(d[1].value->u.select.e->kind, PS_INHERIT_FROM);
    assert_int_equal(d[1].value->u.select.e->u.inherit_from.index, 0);
    assert_int_equal(d[1].pos.col, 24);
    assert_string_equal(printed(f, "a: b: { inherit (a) x; inherit (b) y; }"),
                        "(a: (b: { inherit (a) x; inherit (b) y; }))");
    /* merging renumbers the inherit sources of the merged set */
    assert_string_equal(printed(f, "a: b: { s = { inherit (a) x; }; s = { inherit (b) y; }; }"),
                        "(a: (b: { s = { inherit (a) x; inherit (b) y; }; }))");
    expect_error(f, "x: { inherit ${x}; }", "dynamic attributes not allowed in inherit");
    /* ${"a"} is the static name a (NixOS/nix#14642) */
    expect_error(f, "{ inherit ${\"a\"}; }", "undefined variable 'a'");
}

static void test_scopes(void **state)
{
    fixture *f = *state;
    ps_expr *e = parse(f, "with {}; x");
    assert_int_equal(e->kind, PS_WITH);
    assert_true(e->u.with.body->u.var.from_with);
    e = parse(f, "let x = 1; in with {}; x");
    assert_false(e->u.let.body->u.with.body->u.var.from_with);
    /* builtins shadow `with`, as in Nix */
    e = parse(f, "with {}; true");
    assert_false(e->u.with.body->u.var.from_with);
    expect_error(f, "let a = b; in a", "undefined variable 'b'");
    /* `inherit x;` in a rec set looks outside it */
    expect_error(f, "rec { inherit x; }", "undefined variable 'x'");
    assert_non_null(parse(f, "rec { x = 1; y = x; }"));
    expect_error(f, "{ x = 1; y = x; }", "undefined variable 'x'");
    expect_error(f, "{x, y ? z}: x", "undefined variable 'z'");
    assert_non_null(parse(f, "{x, y ? x}@a: a"));
    expect_error(f, "{x, y, x}: x", "duplicate formal function argument 'x'");
    expect_error(f, "x@{x}: x", "duplicate formal function argument 'x'");
    /* custom base environment */
    static const char *const base[] = {"onlyme", NULL};
    f->opts.base_env = base;
    assert_non_null(parse(f, "onlyme"));
    expect_error(f, "true", "undefined variable 'true'");
    /* the binder keeps the last list's symbols: another list in the same
     * place must not see them */
    char names[2][8] = {"onlyme", "other"};
    const char *changing[] = {names[0], NULL};
    f->opts.base_env = changing;
    assert_non_null(parse(f, "onlyme"));
    memcpy(names[0], "newone", 7);
    expect_error(f, "onlyme", "undefined variable 'onlyme'");
    assert_non_null(parse(f, "newone"));
    changing[0] = names[1];
    assert_non_null(parse(f, "other"));
    expect_error(f, "newone", "undefined variable 'newone'");
    f->opts.base_env = NULL;
    expect_error(f, "other", "undefined variable 'other'");
    assert_non_null(parse(f, "true"));
    /* scopedImport's scope adds names */
    static const char *const scope[] = {"fromScope", NULL};
    expect_error(f, "fromScope", "undefined variable 'fromScope'");
    f->opts.extra_env = scope;
    assert_non_null(parse(f, "[ fromScope true ]"));
    f->opts.extra_env = NULL;
    assert_string_equal(ps_default_base_env()[0], "abort");
}

static void test_or(void **state)
{
    fixture *f = *state;
    assert_string_equal(printed(f, "let or = 1; f = x: x; in f or"),
                        "(let f = (x: x); or = 1; in (f or))");
    assert_string_equal(printed(f, "a: a.b or 1"), "(a: (a).b or (1))");
    assert_string_equal(printed(f, "{ or = 1; }.or"), "({ or = 1; }).or");
}

static void test_positions(void **state)
{
    fixture *f = *state;
    ps_expr *e = parse(f, "let\n  a = 1;\nin\n  a");
    assert_int_equal(e->pos.line, 1);
    assert_int_equal(e->u.let.binds->attrs[0].pos.line, 2);
    assert_int_equal(e->u.let.binds->attrs[0].pos.col, 3);
    assert_int_equal(e->u.let.body->pos.line, 4);
    assert_int_equal(e->u.let.body->pos.col, 3);
    ut_buf b = UT_BUF_INIT;
    ps_format_pos_snippet(&b, e->u.let.binds->attrs[0].pos);
    assert_string_equal(ut_buf_cstr(&b),
                        "       at /base/dir/default.nix:2:3:\n"
                        "            1| let\n"
                        "            2|   a = 1;\n"
                        "             |   ^\n"
                        "            3| in");
    ut_buf_clear(&b);
    ps_format_pos_snippet_indent(&b, e->pos, 2);
    assert_string_equal(ut_buf_cstr(&b),
                        "         at /base/dir/default.nix:1:1:\n"
                        "              1| let\n"
                        "               | ^\n"
                        "              2|   a = 1;");
    ut_buf_free(&b);
    expect_error(f, "{ x = 1;\n  x = 2; }",
                 "attribute 'x' already defined at /base/dir/default.nix:1:3\n"
                 "       at /base/dir/default.nix:2:3:\n"
                 "            1| { x = 1;\n"
                 "            2|   x = 2; }\n"
                 "             |   ^");
    expect_error(f, "(", "syntax error, unexpected end of file\n       at /base/dir/default.nix:1:2:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symtab),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_operators, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attrs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inherit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_or, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
