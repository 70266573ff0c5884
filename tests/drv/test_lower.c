/* Lowering against the oracle: the environment and build-directory files
 * nix-build 2.8.0 gave real builders (corpus/drv-reference), the grades of
 * derivations built to exercise each coeffect, and the hello closure. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drv/cjson.h"
#include "drv/graph.h"

static char *slurp(const char *path)
{
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    if (!ut_read_file(path, &b, &e)) fail_msg("%s", e.msg);
    return ut_buf_steal(&b, NULL);
}

static char *first_line(const char *path)
{
    char *s = slurp(path);
    s[strcspn(s, "\n")] = 0;
    return s;
}

static bool load(dv_graph *g, dv_source *src, const char *root)
{
    char *roots[1] = {(char *)root};
    ut_err e = UT_ERR_INIT;
    bool ok = dv_graph_load(g, src, roots, 1, 0, &e);
    if (!ok) print_error("%s\n", e.msg);
    ut_err_clear(&e);
    return ok;
}

/* Compares our action's env with the recorded `env | sort` of the builder:
 * Nix's temporary build directory stands for our /build, NIX_BUILD_CORES and
 * impureEnvVars values are the executor's (not in the action). */
static void check_env(const char *name, const json_t *action, const dv_grade *grade)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/expected/%s/env", DRV_REF, name);
    char *text = slurp(path);
    const char *top = strstr(text, "\nNIX_BUILD_TOP=");
    assert_non_null(top);
    top += strlen("\nNIX_BUILD_TOP=");
    char *buildtop = strndup(top, strcspn(top, "\n"));
    json_t *env = json_object_get(action, "env");
    size_t seen = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        assert_non_null(eq);
        *eq = 0;
        const char *k = line;
        if (!strcmp(k, "NIX_BUILD_CORES")) {
            assert_null(json_object_get(env, k));
            continue;
        }
        if (dv_strset_has(&grade->env, k)) {
            assert_null(json_object_get(env, k));   /* the value is the host's */
            continue;
        }
        ut_buf want = UT_BUF_INIT;
        const char *v = eq + 1;
        size_t tl = strlen(buildtop);
        while (*v) {
            if (!strncmp(v, buildtop, tl)) {
                ut_buf_puts(&want, DV_BUILD_DIR);
                v += tl;
            } else ut_buf_putc(&want, *v++);
        }
        json_t *got = json_object_get(env, k);
        if (!got) fail_msg("%s: %s missing from the action's env", name, k);
        assert_string_equal(json_string_value(got), want.data ? want.data : "");
        ut_buf_free(&want);
        seen++;
    }
    assert_int_equal(seen, json_object_size(env));
    free(buildtop);
    free(text);
}

static void test_reference_envs(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/store", DRV_REF);
    dv_source *src = dv_source_dir(dir, NULL);
    static const char *const names[] = {"plain", "structured", "fixed"};
    for (size_t i = 0; i < 3; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/expected/%s.drvpath", DRV_REF, names[i]);
        char *drv = first_line(p);
        dv_graph g;
        assert_true(load(&g, src, drv));
        const dv_node *n = dv_graph_find(&g, drv);
        assert_non_null(n);
        check_env(names[i], n->action.json, &n->action.grade);
        json_t *files = json_object_get(n->action.json, "files");
        if (!strcmp(names[i], "plain")) {
            /* passAsFile: .attr-<nix32 sha256(name)> with the value */
            assert_int_equal(json_object_size(files), 2);
            const char *fp;
            json_t *fv;
            json_object_foreach(files, fp, fv)
            {
                snprintf(p, sizeof p, "%s/expected/plain/%s", DRV_REF, strrchr(fp, '/') + 1);
                char *want = slurp(p);
                assert_string_equal(json_string_value(fv), want);
                free(want);
            }
        } else if (!strcmp(names[i], "structured")) {
            snprintf(p, sizeof p, "%s/expected/structured/attrs.json", DRV_REF);
            char *want = slurp(p);
            assert_string_equal(json_string_value(json_object_get(files, DV_BUILD_DIR "/.attrs.json")), want);
            free(want);
            snprintf(p, sizeof p, "%s/expected/structured/attrs.sh", DRV_REF);
            want = slurp(p);
            assert_string_equal(json_string_value(json_object_get(files, DV_BUILD_DIR "/.attrs.sh")), want);
            free(want);
        } else {
            assert_int_equal(n->action.grade.net, DV_NET_PINNED);
            assert_true(dv_strset_has(&n->action.grade.env, "DV_IMPURE"));
            assert_true(dv_strset_has(&n->action.grade.net_pins,
                                      "fixed:sha256:094qif9n4cq4fdg459qzbhg1c6wywawwaaivx0k0x8xhbyx4vwic"));
        }
        dv_graph_free(&g);
        free(drv);
    }
    dv_source_free(src);
}

static const dv_node *by_name(const dv_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->nodes[i].drv->name.len == strlen(name) && !memcmp(g->nodes[i].drv->name.s, name, strlen(name)))
            return &g->nodes[i];
    fail_msg("no node %s", name);
    return NULL;
}

static void test_reference_grades(void **state)
{
    (void)state;
    char dir[4096], p[4096];
    snprintf(dir, sizeof dir, "%s/store", DRV_REF);
    snprintf(p, sizeof p, "%s/expected/grades.drvpath", DRV_REF);
    char *root = first_line(p);
    dv_source *src = dv_source_dir(dir, NULL);
    dv_graph g;
    assert_true(load(&g, src, root));
    assert_int_equal(g.n, 12);
    const dv_node *n;
    n = by_name(&g, "g-nochroot");
    assert_int_equal(n->action.grade.iso, DV_ISO_NONE);
    assert_int_equal(n->taint.iso, DV_ISO_NONE);
    n = by_name(&g, "g-after-taint");           /* inherits the taint */
    assert_int_equal(n->action.grade.iso, DV_ISO_STRICT);
    assert_int_equal(n->taint.iso, DV_ISO_NONE);
    n = by_name(&g, "g-sealed");                /* FOD over a tainted input: sealed */
    assert_int_equal(n->action.grade.net, DV_NET_PINNED);
    assert_true(dv_strset_has(&n->action.grade.env, "http_proxy"));
    assert_true(dv_grade_is_pure(&n->taint));
    assert_true(dv_grade_is_pure(&by_name(&g, "g-after-seal")->taint));
    n = by_name(&g, "g-hostdeps");
    assert_int_equal(n->action.grade.nhost, 2);
    assert_string_equal(n->action.grade.host[0].path, "/bin/sh");
    assert_false(n->action.grade.host[0].rw);
    n = by_name(&g, "g-features");
    assert_true(dv_strset_has(&n->action.grade.device, "/dev/kvm"));
    assert_true(dv_strset_has(&n->action.grade.gpu, "nvidia/cuda"));
    assert_true(dv_strset_has(&n->action.grade.feature, "big-parallel"));
    n = by_name(&g, "g-structured");            /* features read from __json */
    assert_true(dv_strset_has(&n->action.grade.feature, "opengl"));
    assert_int_equal(n->action.grade.iso, DV_ISO_STRICT);
    n = by_name(&g, "g-epoch");
    assert_int_equal(n->action.grade.clock, DV_CLOCK_EPOCH);
    assert_int_equal(n->action.grade.epoch, 315532800);
    assert_true(dv_grade_is_pure(&n->taint));
    n = by_name(&g, "g-envignored");            /* impureEnvVars is inert outside FODs */
    assert_int_equal(n->action.grade.env.n, 0);
    n = by_name(&g, "g-fetch");
    assert_int_equal(n->action.grade.plat, DV_PLAT_ANY);
    assert_int_equal(dv_grade_class(&n->action.grade), DV_CLASS_PINNED);
    n = by_name(&g, "g-impure");
    assert_int_equal(n->action.grade.net, DV_NET_OPEN);
    n = by_name(&g, "g-root");
    assert_int_equal(n->taint.net, DV_NET_OPEN);
    assert_int_equal(n->taint.iso, DV_ISO_NONE);
    assert_int_equal(n->taint.nhost, 3);
    assert_int_equal(g.join.net, DV_NET_OPEN);
    dv_graph_free(&g);
    dv_source_free(src);
    free(root);
}

static void test_hello_closure(void **state)
{
    (void)state;
    char dir[4096], p[4096 + 512];
    snprintf(dir, sizeof dir, "%s/store", DRV_CORPUS);
    snprintf(p, sizeof p, "%s/root", DRV_CORPUS);
    char *root = first_line(p);
    /* Independently: every .drv file, and those declaring outputHash. */
    ut_hmap *fods = ut_hmap_new();
    size_t ndrv = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".drv")) continue;
        ndrv++;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        char *text = slurp(p);
        if (strstr(text, "(\"outputHash\",")) {
            snprintf(p, sizeof p, "/nix/store/%s", de->d_name);
            ut_hmap_put(fods, p, strlen(p), (void *)1);
        }
        free(text);
    }
    closedir(d);
    assert_int_equal(ndrv, 241);
    assert_int_equal(ut_hmap_count(fods), 87);

    dv_source *src = dv_source_dir(dir, NULL);
    snprintf(p, sizeof p, "%s/closure.tsv", DRV_CORPUS);
    ut_err e = UT_ERR_INIT;
    assert_true(dv_source_load_pathinfo(src, p, &e));   /* source NAR hashes are checked against it */
    dv_graph g;
    assert_true(load(&g, src, root));
    assert_int_equal(g.n, ndrv);
    size_t pinned = 0;
    for (size_t i = 0; i < g.n; i++) {
        const dv_node *n = &g.nodes[i];
        bool fod = ut_hmap_has(fods, n->drv_path, strlen(n->drv_path));
        assert_int_equal(n->action.grade.net == DV_NET_PINNED, fod);
        assert_int_equal(n->action.fixed, fod);
        pinned += n->action.grade.net == DV_NET_PINNED;
        /* inputs come first */
        for (size_t k = 0; k < n->ninputs; k++) assert_true(n->inputs[k] < i);
        /* every source's recorded hash is the tsv's */
        json_t *srcs = json_object_get(json_object_get(n->action.json, "inputs"), "sources");
        size_t j;
        json_t *s;
        json_array_foreach(srcs, j, s)
        {
            const dv_pathinfo *pi = dv_source_pathinfo(src, json_string_value(json_object_get(s, "path")));
            assert_non_null(pi);
            assert_string_equal(pi->nar_hash, json_string_value(json_object_get(s, "narHash")));
        }
    }
    assert_int_equal(pinned, 87);
    const dv_node *r = dv_graph_find(&g, root);
    assert_true(dv_grade_is_pure(&r->taint));
    /* The digest is the sha256 of the canonical JSON, and stable across loads. */
    ut_buf cj = UT_BUF_INIT;
    assert_true(dv_cjson_write(r->action.json, &cj, &e));
    char hex[65];
    dv_sha256_hex(cj.data, cj.len, hex);
    assert_string_equal(hex, r->action.digest);
    ut_buf_free(&cj);
    dv_graph g2;
    assert_true(load(&g2, src, root));
    for (size_t i = 0; i < g.n; i++) assert_string_equal(g.nodes[i].action.digest, g2.nodes[i].action.digest);
    dv_graph_free(&g2);
    dv_graph_free(&g);
    dv_source_free(src);
    ut_hmap_free(fods);
    free(root);
}

static void test_parse_drv_name(void **state)
{
    (void)state;
    /* Nix's DrvName: split at the first '-' followed by a non-letter. */
    static const char *const cases[][3] = {
        {"hello-2.12.1", "hello", "2.12.1"},
        {"nix-0.7pre1234", "nix", "0.7pre1234"},
        {"a-b-c-1.0", "a-b-c", "1.0"},
        {"xorg-7-x", "xorg", "7-x"},
        {"hello", "hello", ""},
        {"foo-", "foo-", ""},
        {"bootstrap-stage0-binutils-wrapper-", "bootstrap-stage0-binutils-wrapper-", ""},
        {"perl5.38.2-gettext-1.07", "perl5.38.2-gettext", "1.07"},
        {"gcc-wrapper-13.2.0", "gcc-wrapper", "13.2.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *n, *v;
        dv_parse_drv_name(cases[i][0], &n, &v);
        assert_string_equal(n, cases[i][1]);
        assert_string_equal(v, cases[i][2]);
        free(n);
        free(v);
    }
}

static void test_source_hash_checked(void **state)
{
    (void)state;
    /* A source whose bytes differ from the recorded NAR hash is refused. */
    char tmpl[] = "dv-src-XXXXXX";   /* in the test's working directory */
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    const char *base = "v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh";
    char p[4096], q[4096];
    snprintf(p, sizeof p, "%s/store/%s", DRV_CORPUS, base);
    char *text = slurp(p);
    snprintf(q, sizeof q, "%s/%s", dir, base);
    ut_err e = UT_ERR_INIT;
    assert_true(ut_write_file_atomic(q, text, strlen(text), 0644, &e));
    dv_source *src = dv_source_dir(dir, NULL);
    snprintf(p, sizeof p, "%s/closure.tsv", DRV_CORPUS);
    assert_true(dv_source_load_pathinfo(src, p, &e));
    snprintf(p, sizeof p, "/nix/store/%s", base);
    const char *h = dv_source_nar_hash(src, p, &e);
    assert_non_null(h);
    assert_string_equal(h, "sha256:1z3c0ilhp0vr3j4xp7fgzw98amzsmdgiix5cxnbkym9xi0lnsjn6");
    dv_source_free(src);
    text[0] = '%';
    assert_true(ut_write_file_atomic(q, text, strlen(text), 0644, &e));
    src = dv_source_dir(dir, NULL);
    snprintf(p, sizeof p, "%s/closure.tsv", DRV_CORPUS);
    assert_true(dv_source_load_pathinfo(src, p, &e));
    snprintf(p, sizeof p, "/nix/store/%s", base);
    assert_null(dv_source_nar_hash(src, p, &e));
    assert_non_null(strstr(e.msg, "does not match the recorded"));
    ut_err_clear(&e);
    dv_source_free(src);
    unlink(q);
    rmdir(dir);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_envs),
        cmocka_unit_test(test_reference_grades),
        cmocka_unit_test(test_hello_closure),
        cmocka_unit_test(test_parse_drv_name),
        cmocka_unit_test(test_source_hash_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
