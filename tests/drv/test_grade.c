/* Lattice laws of the coeffect grade, checked over generated grades drawn
 * from small universes so that equal and overlapping components are common. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv/grade.h"

#define NGRADES 300

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void gen(dv_grade *g)
{
    static const char *const pins[] = {"fixed:sha256:aa", "fixed:r:sha256:bb", "fixed:sha256:cc"};
    static const char *const names[] = {"a", "b", "c", "d"};
    static const char *const systems[] = {"x86_64-linux", "aarch64-linux"};
    dv_grade_init(g);
    switch (rnd(5)) {
    case 0: break;
    case 1: dv_grade_set_net(g, DV_NET_LOOPBACK); break;
    case 2:
    case 3:
        for (uint32_t i = 0, n = 1 + rnd(2); i < n; i++) dv_grade_add_pin(g, pins[rnd(3)]);
        break;
    case 4: dv_grade_set_net(g, DV_NET_OPEN); break;
    }
    for (uint32_t i = 0, n = rnd(3); i < n; i++) dv_grade_add_host(g, names[rnd(3)], rnd(2));
    for (uint32_t i = 0, n = rnd(3); i < n; i++) dv_strset_add(&g->env, names[rnd(4)]);
    for (uint32_t i = 0, n = rnd(3); i < n; i++) dv_strset_add(&g->feature, names[rnd(4)]);
    switch (rnd(4)) {
    case 0: break;
    case 1:
    case 2: dv_grade_set_system(g, systems[rnd(2)]); break;
    case 3: dv_grade_set_system(g, systems[0]), dv_grade_set_system(g, systems[1]); break;
    }
    switch (rnd(4)) {
    case 0: break;
    case 1:
    case 2: dv_grade_set_epoch(g, rnd(2)); break;
    case 3: dv_grade_set_wall(g); break;
    }
    g->cores = rnd(3);
    if (!rnd(3)) dv_strset_add(&g->gpu, names[rnd(2)]);
    if (!rnd(3)) dv_strset_add(&g->device, names[rnd(2)]);
    if (!rnd(4)) dv_strset_add(&g->cred, names[rnd(2)]);
    dv_grade_set_iso(g, (dv_iso)rnd(3));
}

static dv_grade G[NGRADES];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < NGRADES; i++) gen(&G[i]);
    /* The pure grade must be among them for the unit law to be exercised
     * through the same paths. */
    dv_grade_free(&G[0]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NGRADES; i++) dv_grade_free(&G[i]);
    return 0;
}

static void join2(dv_grade *out, const dv_grade *a, const dv_grade *b)
{
    dv_grade_init(out);
    dv_grade_join(out, a);
    dv_grade_join(out, b);
}

static void test_join_laws(void **state)
{
    (void)state;
    dv_grade pure;
    dv_grade_init(&pure);
    assert_true(dv_grade_is_pure(&G[0]));
    size_t distinct_pairs_leq = 0;
    for (int i = 0; i < NGRADES; i++) {
        const dv_grade *a = &G[i];
        dv_grade aa, pa;
        join2(&aa, a, a);
        assert_true(dv_grade_equal(&aa, a));                 /* idempotent */
        join2(&pa, &pure, a);
        assert_true(dv_grade_equal(&pa, a));                 /* pure is the unit */
        assert_true(dv_grade_leq(&pure, a));                 /* and the bottom */
        assert_true(dv_grade_leq(a, a));
        dv_grade_free(&aa);
        dv_grade_free(&pa);
        for (int j = 0; j < NGRADES; j++) {
            const dv_grade *b = &G[j];
            dv_grade ab, ba;
            join2(&ab, a, b);
            join2(&ba, b, a);
            assert_true(dv_grade_equal(&ab, &ba));           /* commutative */
            /* a ≤ b iff a ⊔ b = b */
            bool leq = dv_grade_leq(a, b);
            assert_int_equal(leq, dv_grade_equal(&ab, b));
            if (leq && !dv_grade_equal(a, b)) distinct_pairs_leq++;
            if (leq && dv_grade_leq(b, a)) assert_true(dv_grade_equal(a, b));   /* antisymmetric */
            assert_true(dv_grade_leq(a, &ab));               /* upper bound */
            assert_true(dv_grade_leq(b, &ab));
            dv_grade_free(&ab);
            dv_grade_free(&ba);
        }
    }
    /* The generator must produce comparable distinct pairs, or the iff above
     * would only ever be tested in one direction. */
    assert_true(distinct_pairs_leq > 100);
}

static void test_join_associative(void **state)
{
    (void)state;
    for (int n = 0; n < 20000; n++) {
        const dv_grade *a = &G[rnd(NGRADES)], *b = &G[rnd(NGRADES)], *c = &G[rnd(NGRADES)];
        dv_grade ab, ab_c, bc, a_bc;
        join2(&ab, a, b);
        join2(&ab_c, &ab, c);
        join2(&bc, b, c);
        join2(&a_bc, a, &bc);
        assert_true(dv_grade_equal(&ab_c, &a_bc));
        /* least upper bound: any c above a and b is above a ⊔ b */
        if (dv_grade_leq(a, c) && dv_grade_leq(b, c)) assert_true(dv_grade_leq(&ab, c));
        /* transitivity */
        if (dv_grade_leq(a, b) && dv_grade_leq(b, c)) assert_true(dv_grade_leq(a, c));
        dv_grade_free(&ab);
        dv_grade_free(&ab_c);
        dv_grade_free(&bc);
        dv_grade_free(&a_bc);
    }
}

static void test_taint_projection(void **state)
{
    (void)state;
    for (int i = 0; i < NGRADES; i++) {
        dv_grade t, tt;
        dv_grade_init(&t);
        dv_grade_init(&tt);
        dv_grade_taint(&t, &G[i]);
        dv_grade_taint(&tt, &t);
        assert_true(dv_grade_equal(&t, &tt));               /* idempotent */
        assert_true(dv_grade_leq(&t, &G[i]));                /* deflationary */
        /* Only the unverifiable components survive. */
        assert_true(t.net == DV_NET_NONE || t.net == DV_NET_OPEN);
        assert_int_equal(t.feature.n + t.device.n + t.cred.n + t.cores, 0);
        assert_int_equal(t.plat, DV_PLAT_ANY);
        assert_true(t.clock != DV_CLOCK_EPOCH);
        for (int j = 0; j < NGRADES; j++) {
            if (!dv_grade_leq(&G[i], &G[j])) continue;
            dv_grade u;
            dv_grade_init(&u);
            dv_grade_taint(&u, &G[j]);
            assert_true(dv_grade_leq(&t, &u));               /* monotone */
            dv_grade_free(&u);
        }
        dv_grade_free(&t);
        dv_grade_free(&tt);
    }
}

static void test_json_roundtrip(void **state)
{
    (void)state;
    for (int i = 0; i < NGRADES; i++) {
        json_t *j = dv_grade_to_json(&G[i]);
        dv_grade back;
        ut_err e = UT_ERR_INIT;
        assert_true(dv_grade_from_json(&back, j, &e));
        assert_true(dv_grade_equal(&back, &G[i]));
        assert_int_equal(dv_grade_is_pure(&G[i]), json_object_size(j) == 0);
        dv_grade_free(&back);
        json_decref(j);
    }
}

static void test_components(void **state)
{
    (void)state;
    dv_grade a, b;
    dv_grade_init(&a);
    dv_grade_init(&b);
    dv_grade_add_pin(&a, "fixed:sha256:aa");
    dv_grade_add_pin(&b, "fixed:sha256:bb");
    dv_grade_join(&a, &b);
    assert_int_equal(a.net, DV_NET_PINNED);
    assert_int_equal(a.net_pins.n, 2);
    dv_grade_set_net(&b, DV_NET_OPEN);
    dv_grade_join(&a, &b);
    assert_int_equal(a.net, DV_NET_OPEN);
    assert_int_equal(a.net_pins.n, 0);                       /* open subsumes pins */
    dv_grade_set_system(&a, "x86_64-linux");
    dv_grade_set_system(&a, "x86_64-linux");
    assert_int_equal(a.plat, DV_PLAT_ONE);
    dv_grade_set_system(&a, "aarch64-linux");
    assert_int_equal(a.plat, DV_PLAT_TOP);
    dv_grade_set_epoch(&a, 315532800);
    dv_grade_set_epoch(&a, 315532800);
    assert_int_equal(a.clock, DV_CLOCK_EPOCH);
    dv_grade_set_epoch(&a, 1);
    assert_int_equal(a.clock, DV_CLOCK_WALL);
    dv_grade_add_host(&a, "/etc/ssl", false);
    dv_grade_add_host(&a, "/etc/ssl", true);
    dv_grade_add_host(&a, "/etc/ssl", false);
    assert_int_equal(a.nhost, 1);
    assert_true(a.host[0].rw);
    ut_buf d = UT_BUF_INIT;
    dv_grade_describe(&a, &d);
    assert_string_equal(d.data, "net=open hostPath={/etc/ssl:rw} platform=top clock=wall");
    ut_buf_free(&d);
    /* class: pinned fetches with proxy variables are "pinned", not impure */
    dv_grade f;
    dv_grade_init(&f);
    dv_grade_add_pin(&f, "fixed:sha256:aa");
    dv_strset_add(&f.env, "http_proxy");
    assert_int_equal(dv_grade_class(&f), DV_CLASS_PINNED);
    dv_grade_add_host(&f, "/etc", false);
    assert_int_equal(dv_grade_class(&f), DV_CLASS_IMPURE);
    dv_grade_free(&f);
    dv_grade_free(&a);
    dv_grade_free(&b);
}

static void test_json_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {"[]", "{\"net\":\"wide\"}", "{\"cores\":-1}", "{\"env\":[1]}",
                                      "{\"isolation\":\"loose\"}", "{\"colour\":1}", "{\"hostPath\":[{\"path\":\"/x\"}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_non_null(j);
        dv_grade g;
        ut_err e = UT_ERR_INIT;
        assert_false(dv_grade_from_json(&g, j, &e));
        assert_non_null(e.msg);
        ut_err_clear(&e);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_laws),      cmocka_unit_test(test_join_associative),
        cmocka_unit_test(test_taint_projection), cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_components),     cmocka_unit_test(test_json_rejects),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
