/* Content-addressed derivations as Nix 2.8 (ca-derivations) wrote them
 * (corpus/show-derivation/ca): "fl" is floating CA with outputs out and dev,
 * "dep" uses both and so is deferred input-addressed. Checks the ATerm round
 * trip, store paths, the placeholders Nix put into env and args, the
 * deferred modulo hash, and that derivationStrict-style filling gives the
 * files back.
 * usage: test_compat_ca CA_DIR */
#include "compat/derivation.h"
#include "compat/storepath.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                               \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

typedef struct loaded {
    char path[4096];
    ut_buf bytes;
    nc_derivation *d;
} loaded;
static loaded drvs[8];
static size_t ndrvs;

static bool lookup(void *ctx, nc_str path, nc_drv_hash *out, ut_err *e)
{
    (void)ctx;
    for (size_t i = 0; i < ndrvs; i++)
        if (nc_str_eq(nc_str_c(drvs[i].path), path))
            return nc_drv_hash_modulo(drvs[i].d, NULL, false, lookup, NULL, out, e);
    return ut_err_set(e, "no derivation %.*s", (int)path.len, path.s);
}

static loaded *find(const char *suffix)
{
    for (size_t i = 0; i < ndrvs; i++) {
        size_t n = strlen(drvs[i].path), m = strlen(suffix);
        if (n >= m && !strcmp(drvs[i].path + n - m, suffix))
            return &drvs[i];
    }
    return NULL;
}

/* Blank the outputs as eval declares them, fill them in, print. */
static bool refill(const loaded *l, ut_buf *out, ut_err *e)
{
    nc_derivation *c = nc_drv_parse(l->bytes.data, l->bytes.len, NULL, l->d->name, e);
    if (!c)
        return false;
    for (size_t k = 0; k < c->noutputs; k++) {
        if (c->outputs[k].kind == NC_OUT_INPUT_ADDRESSED)
            c->outputs[k].kind = NC_OUT_DEFERRED;
        c->outputs[k].path = nc_str_n("", 0);
        for (size_t m = 0; m < c->nenv; m++)
            if (nc_str_eq(c->env[m].key, c->outputs[k].name))
                c->env[m].value = nc_str_n("", 0);
    }
    bool ok = nc_drv_fill_outputs(c, NULL, lookup, NULL, e);
    if (ok)
        nc_drv_print(c, out);
    nc_drv_free(c);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CA_DIR\n", argv[0]);
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/store", argv[1]);
    DIR *dd = opendir(dir);
    if (!dd) {
        fprintf(stderr, "cannot open %s\n", dir);
        return 2;
    }
    ut_err e = UT_ERR_INIT;
    struct dirent *de;
    while ((de = readdir(dd)) && ndrvs < 8) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".drv"))
            continue;
        loaded *x = &drvs[ndrvs++];
        snprintf(x->path, sizeof x->path, "%s/%s", NC_STORE_DIR_DEFAULT, de->d_name);
        char file[8192];
        snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
        ut_buf_init(&x->bytes);
        if (!ut_read_file(file, &x->bytes, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 2;
        }
        nc_str name = nc_str_n(de->d_name + 33, l - 33 - 4);
        x->d = nc_drv_parse(x->bytes.data, x->bytes.len, NULL, name, &e);
        CHECK(x->d, "%s: %s", x->path, e.msg);
        if (!x->d)
            return 1;
    }
    closedir(dd);

    ut_buf b = UT_BUF_INIT;
    for (size_t i = 0; i < ndrvs; i++) {
        ut_buf_clear(&b);
        nc_drv_print(drvs[i].d, &b);
        CHECK(b.len == drvs[i].bytes.len && !memcmp(b.data, drvs[i].bytes.data, b.len), "%s: re-print differs",
              drvs[i].path);
        ut_buf_clear(&b);
        CHECK(nc_drv_store_path(drvs[i].d, NULL, &b, &e) && !strcmp(b.data, drvs[i].path), "%s: store path %s",
              drvs[i].path, b.data);
        ut_buf_clear(&b);
        CHECK(refill(&drvs[i], &b, &e) && b.len == drvs[i].bytes.len && !memcmp(b.data, drvs[i].bytes.data, b.len),
              "%s: filling the outputs does not give the file back", drvs[i].path);
    }

    loaded *fl = find("-fl.drv"), *dep = find("-dep.drv");
    CHECK(fl && dep, "the example needs fl.drv and dep.drv");
    if (fl && dep) {
        nc_drv_type t;
        CHECK(nc_drv_type_of(fl->d, &t, &e) && t == NC_DRV_CA_FLOATING, "fl is floating CA");
        CHECK(nc_drv_type_of(dep->d, &t, &e) && t == NC_DRV_DEFERRED, "dep is deferred");
        nc_drv_hash h;
        CHECK(nc_drv_hash_modulo(dep->d, NULL, true, lookup, NULL, &h, &e) && h.deferred,
              "dep's modulo hash is deferred");
        ut_buf_clear(&b);
        CHECK(!nc_drv_output_path(dep->d, NULL, &dep->d->outputs[0], &h, &b, &e), "dep has no output path yet");
        ut_err_clear(&e);
        /* dep's builder got the downstream placeholders of fl's outputs. */
        ut_buf want = UT_BUF_INIT;
        ut_buf_puts(&want, "echo ");
        CHECK(nc_downstream_placeholder(&want, NULL, nc_str_c(fl->path), nc_str_c("out"), &e), "placeholder");
        ut_buf_putc(&want, ' ');
        CHECK(nc_downstream_placeholder(&want, NULL, nc_str_c(fl->path), nc_str_c("dev"), &e), "placeholder");
        ut_buf_puts(&want, " > $out");
        CHECK(dep->d->nargs == 2 && !strcmp(dep->d->args[1].s, want.data), "args: %s, want %s",
              dep->d->nargs == 2 ? dep->d->args[1].s : "?", want.data);
        ut_buf_free(&want);
    }
    printf("compat CA example: %zu derivations, %d failures\n", ndrvs, failures);
    for (size_t i = 0; i < ndrvs; i++) {
        nc_drv_free(drvs[i].d);
        ut_buf_free(&drvs[i].bytes);
    }
    ut_buf_free(&b);
    ut_err_clear(&e);
    return failures || ndrvs != 2 ? 1 : 0;
}
