/* Robustness: mutated .drv files (byte flips inside and outside strings,
 * truncations, mangled __json) either fail to parse, or lower to an action
 * or a clean error; never a crash (run under ASan/UBSan in CI). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv/action.h"
#include "drv/cjson.h"
#include "drv/sbom.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *digest(void *ctx, const char *p, ut_err *e)
{
    (void)ctx, (void)p, (void)e;
    return "0000000000000000000000000000000000000000000000000000000000000000";
}

static const char *srchash(void *ctx, const char *p, ut_err *e)
{
    (void)ctx, (void)p, (void)e;
    return "sha256:0000000000000000000000000000000000000000000000000000";
}

static void test_mutations(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/store", DRV_CORPUS);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    size_t tried = 0, parsed = 0, lowered = 0, refused = 0;
    static const char *const junk[] = {"{", "[1,", "{\"requiredSystemFeatures\":7}", "{\"__noChroot\":\"yes\"}",
                                       "{\"outputs\":{\"a\":[]},\"x\":1e999}", "null", "\"\\ud800\"",
                                       "{\"impureEnvVars\":[1,2]}", "{\"a\":{\"b\":{\"c\":[[[]]]}}}"};
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".drv")) continue;
        char p[4096 + 256];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        ut_buf orig = UT_BUF_INIT;
        ut_err e = UT_ERR_INIT;
        assert_true(ut_read_file(p, &orig, &e));
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(l - 4 - 33), de->d_name + 33);
        for (int m = 0; m < 24; m++) {
            ut_buf b = UT_BUF_INIT;
            ut_buf_append(&b, orig.data, orig.len);
            int kind = rnd(4);
            if (kind == 0) {
                b.len = rnd((uint32_t)b.len);              /* truncate */
            } else if (kind == 1) {
                for (int k = 0, n = 1 + rnd(4); k < n; k++) b.data[rnd((uint32_t)b.len)] = (char)rnd(256);
            } else if (kind == 2) {
                /* a letter inside a string: the parse usually survives */
                size_t at = rnd((uint32_t)b.len);
                if (b.data[at] >= 'a' && b.data[at] <= 'z') b.data[at] = (char)('a' + rnd(26));
                else b.data[at] = (char)(0x80 + rnd(0x80));
            } else {
                /* structured attrs replaced by junk JSON */
                ut_buf_clear(&b);
                ut_buf_printf(&b, "Derive([(\"out\",\"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-%s\",\"\",\"\")],[],[],"
                              "\"x86_64-linux\",\"/bin/sh\",[],[(\"__json\",\"", name);
                for (const char *j = junk[rnd(sizeof junk / sizeof *junk)]; *j; j++) {
                    if (*j == '"' || *j == '\\') ut_buf_putc(&b, '\\');
                    ut_buf_putc(&b, *j);
                }
                ut_buf_printf(&b, "\"),(\"out\",\"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-%s\")])", name);
            }
            tried++;
            nc_derivation *drv = nc_drv_parse(b.data ? b.data : "", b.len, NULL, nc_str_c(name), &e);
            if (!drv) {
                assert_non_null(e.msg);
                ut_err_clear(&e);
                ut_buf_free(&b);
                continue;
            }
            parsed++;
            dv_lower_ctx lc = {NULL, digest, srchash, NULL};
            dv_action a;
            if (dv_action_lower(drv, p, &lc, &a, &e)) {
                lowered++;
                assert_int_equal(strlen(a.digest), 64);
                ut_buf cj = UT_BUF_INIT;
                assert_true(dv_cjson_write(a.json, &cj, &e));
                assert_int_equal(cj.len, a.canonical_len);
                ut_buf_free(&cj);
                dv_action_free(&a);
            } else {
                assert_non_null(e.msg);
                refused++;
                ut_err_clear(&e);
            }
            nc_drv_free(drv);
            ut_buf_free(&b);
        }
        ut_buf_free(&orig);
    }
    closedir(d);
    print_message("mutations: %zu tried, %zu parsed, %zu lowered, %zu refused with a message\n", tried, parsed,
                  lowered, refused);
    assert_true(parsed > 500);
    assert_true(refused > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_mutations)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
