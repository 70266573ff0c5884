/* Unit tests of the value API builtins are written against: the attrset
 * builder, equality and ordering, path canonicalisation, coercion, and the
 * collector keeping rooted values (and only those) alive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/builtins.h"
#include "eval/value.h"

static ev_state *S;

static int setup(void **st)
{
    (void)st;
    ev_options o = {0};
    S = ev_state_new(&o);
    return S ? 0 : 1;
}

static int teardown(void **st)
{
    (void)st;
    ev_state_free(S);
    return 0;
}

static void test_attrs_builder(void **st)
{
    (void)st;
    ev_attrs *a = ev_attrs_new(S, 4);
    ev_attrs_add(a, ev_sym(S, "b"), ev_mk_int(1), 0);
    ev_attrs_add(a, ev_sym(S, "a"), ev_mk_int(2), 0);
    ev_attrs_add(a, ev_sym(S, "b"), ev_mk_int(3), 0);   /* duplicate: first wins */
    ev_attrs_finish(a);
    assert_int_equal(a->h.n, 2);
    assert_int_equal(ev_attrs_find(a, ev_sym(S, "b"))->value.u.i, 1);
    assert_int_equal(ev_attrs_find(a, ev_sym(S, "a"))->value.u.i, 2);
    assert_null(ev_attrs_find(a, ev_sym(S, "c")));
    uint32_t idx[2];
    ev_attrs_sorted_by_name(S, a, idx);
    assert_string_equal(ev_sym_str(S, a->a[idx[0]].name), "a");
    assert_string_equal(ev_sym_str(S, a->a[idx[1]].name), "b");
}

static void eval_str(const char *src, ev_value *out)
{
    ev_eval_string(S, src, strlen(src), PS_ORIGIN_STRING, "/", out);
}

static void test_equality_and_order(void **st)
{
    (void)st;
    ev_value *v = ev_stack_push(S, 2);
    v[0] = ev_mk_int(1);
    v[1] = ev_mk_float(1.0);
    assert_true(ev_equal(S, &v[0], &v[1], (ps_pos){0}, NULL));
    eval_str("[ 1 \"a\" { x = 2; } ]", &v[0]);
    eval_str("[ 1 \"a\" { x = 1 + 1; } ]", &v[1]);
    assert_true(ev_equal(S, &v[0], &v[1], (ps_pos){0}, NULL));
    eval_str("[ 1 2 ]", &v[0]);
    eval_str("[ 1 3 ]", &v[1]);
    assert_true(ev_compare(S, &v[0], &v[1], (ps_pos){0}, NULL) < 0);
    v[0] = ev_mk_cstring(S, "ab");
    v[1] = ev_mk_cstring(S, "a");
    assert_true(ev_compare(S, &v[0], &v[1], (ps_pos){0}, NULL) > 0);
    eval_str("x: x", &v[0]);
    v[1] = v[0];
    assert_false(ev_equal(S, &v[0], &v[1], (ps_pos){0}, NULL));   /* functions never equal at top level */
    ev_stack_reset(S, 0);
}

static void test_canon_path(void **st)
{
    (void)st;
    char *p = ev_canon_path("/a/./b//c/../d/", 15);
    assert_string_equal(p, "/a/b/d");
    free(p);
    p = ev_canon_path("/..", 3);
    assert_string_equal(p, "/");
    free(p);
}

static void test_coercion(void **st)
{
    (void)st;
    ev_value *v = ev_stack_push(S, 1);
    eval_str("[ 1 true null [ ] 2.5 \"s\" ]", v);
    ut_buf b = UT_BUF_INIT;
    ev_coerce_to_string(S, v, (ps_pos){0}, EV_COERCE_MORE, &b, NULL, NULL);
    /* as nix-instantiate: an empty list adds no separator after it */
    assert_string_equal(b.data, "1 1  2.500000 s");
    ut_buf_clear(&b);
    eval_str("{ __toString = self: \"x${toString self.n}\"; n = 7; }", v);
    ev_coerce_to_string(S, v, (ps_pos){0}, 0, &b, NULL, NULL);
    assert_string_equal(b.data, "x7");
    ut_buf_free(&b);
    ev_stack_reset(S, 0);
}

static void test_errors_are_catchable(void **st)
{
    (void)st;
    ev_value *v = ev_stack_push(S, 1);
    ev_try t;
    if (ev_try_begin(S, &t) == 0) {
        eval_str("1 + \"a\"", v);
        ev_try_end(S, &t);
        fail_msg("no error raised");
    } else {
        ev_try_end(S, &t);
        assert_int_equal(t.kind, EV_ERR_EVAL);
        assert_string_equal(ev_error_message(S), "cannot add a string to an integer");
    }
    ev_stack_reset(S, 0);
}

static void test_gc_keeps_rooted(void **st)
{
    (void)st;
    ev_value *v = ev_stack_push(S, 1);
    eval_str("builtins.genList (i: { n = i; s = \"v${toString i}\"; }) 1000", v);
    ev_force_deep(S, v, (ps_pos){0});
    size_t before = ev_heap_bytes(S);
    ev_gc_collect(S);
    /* the rooted list survives with every element intact */
    ev_list *l = v->u.l;
    assert_int_equal(l->h.n, 1000);
    ev_attrs *a = ev_force_attrs(S, &l->v[999], (ps_pos){0}, NULL);
    ev_attr *s = ev_attrs_find(a, ev_sym(S, "s"));
    ev_force(S, &s->value, (ps_pos){0});
    assert_string_equal(s->value.u.s->s, "v999");
    ev_stack_reset(S, 0);
    ev_gc_collect(S);
    /* unrooted, it is reclaimed */
    assert_true(ev_heap_bytes(S) < before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attrs_builder),
        cmocka_unit_test(test_equality_and_order),
        cmocka_unit_test(test_canon_path),
        cmocka_unit_test(test_coercion),
        cmocka_unit_test(test_errors_are_catchable),
        cmocka_unit_test(test_gc_keeps_rooted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
