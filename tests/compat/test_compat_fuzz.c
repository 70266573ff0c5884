/* Robustness of compat's parsers against damaged input: truncations and
 * seeded random mutations of real .drv files, NARs, narinfos and hashes.
 * Every input must either parse or fail with a message; whatever parses
 * must print back to a fixed point; a NAR's verdict must not depend on how
 * the input is chunked. Run under ASan/UBSan this is the memory-safety check.
 *
 * usage: test_compat_fuzz CLOSURE_DIR LIBUTIL_DATA */
#include "compat/derivation.h"
#include "compat/nar.h"
#include "compat/narinfo.h"
#include "compat/storepath.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t n_cases, n_accepted, n_rejected;
static int failures;

static void fail(const char *what, const char *detail)
{
    failures++;
    if (failures < 20)
        printf("FAIL %s: %s\n", what, detail ? detail : "");
}

/* ---- derivations ---- */

static void drv_case(const char *data, size_t len)
{
    ut_err e = UT_ERR_INIT;
    n_cases++;
    nc_derivation *d = nc_drv_parse(data, len, NULL, nc_str_c("fuzz"), &e);
    if (!d) {
        if (!e.msg)
            fail("drv", "rejected without a message");
        n_rejected++;
        ut_err_clear(&e);
        return;
    }
    n_accepted++;
    ut_buf a = UT_BUF_INIT, b = UT_BUF_INIT;
    nc_drv_print(d, &a);
    nc_derivation *d2 = nc_drv_parse(a.data, a.len, NULL, nc_str_c("fuzz"), &e);
    if (!d2) {
        fail("drv re-parse of printed output", e.msg);
    } else {
        nc_drv_print(d2, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
            fail("drv", "printed output is not a fixed point");
    }
    /* The other consumers of a parsed derivation must cope too. */
    nc_drv_type t;
    if (nc_drv_type_of(d, &t, NULL)) {
        ut_buf j = UT_BUF_INIT;
        nc_drv_json_v28(d, 0, &j);
        ut_buf_free(&j);
        nc_drv_hash h;
        nc_drv_hash_modulo(d, NULL, true, NULL, NULL, &h, NULL);
    }
    void *json = nc_drv_to_json(d);
    nc_derivation *d3 = nc_drv_from_json(json, NULL, NULL);
    nc_drv_free(d3);
    json_decref((json_t *)json);
    nc_drv_free(d);
    nc_drv_free(d2);
    ut_buf_free(&a);
    ut_buf_free(&b);
    ut_err_clear(&e);
}

static const char specials[] = "\"\\(),[]\n\0\xff-/:.rDW";

static void mutate(ut_buf *m, const char *data, size_t len)
{
    ut_buf_clear(m);
    ut_buf_append(m, data, len);
    int edits = 1 + (int)(next() % 4);
    for (int k = 0; k < edits && m->len > 0; k++) {
        size_t at = next() % m->len;
        switch (next() % 4) {
        case 0: /* replace with a syntax character */
            m->data[at] = specials[next() % (sizeof specials - 1)];
            break;
        case 1: /* flip bits */
            m->data[at] ^= (char)(1u << (next() % 8));
            break;
        case 2: /* delete a run */ {
            size_t n = 1 + next() % 16;
            if (at + n > m->len)
                n = m->len - at;
            memmove(m->data + at, m->data + at + n, m->len - at - n);
            m->len -= n;
            break;
        }
        case 3: /* duplicate a run */ {
            size_t n = 1 + next() % 32;
            if (at + n > m->len)
                n = m->len - at;
            char *copy = ut_xmemdup(m->data + at, n);
            ut_buf_reserve(m, n);
            memmove(m->data + at + n, m->data + at, m->len - at);
            memcpy(m->data + at, copy, n);
            m->len += n;
            free(copy);
            break;
        }
        }
    }
    ut_buf_reserve(m, 0);
    m->data[m->len] = '\0';
}

/* Truncations: every prefix of short inputs, a spread plus the tail of
 * long ones. */
static void truncations(const char *data, size_t len, void (*f)(const char *, size_t))
{
    if (len <= 600) {
        for (size_t n = 0; n < len; n++)
            f(data, n);
        return;
    }
    for (int k = 0; k < 300; k++)
        f(data, (size_t)(next() % len));
    for (size_t n = len - 64; n < len; n++)
        f(data, n);
}

/* ---- NARs ---- */

static bool nar_verdict(const char *data, size_t len, size_t chunk, char **msg)
{
    ut_err e = UT_ERR_INIT;
    nc_nar_parser *p = nc_nar_parser_new(NULL, NULL);
    bool ok = true;
    for (size_t i = 0; ok && i < len; i += chunk)
        ok = nc_nar_parser_feed(p, data + i, i + chunk <= len ? chunk : len - i, &e);
    ok = ok && nc_nar_parser_finish(p, &e);
    nc_nar_parser_free(p);
    if (!ok && !e.msg)
        fail("nar", "rejected without a message");
    if (msg)
        *msg = e.msg ? ut_xstrdup(e.msg) : NULL;
    ut_err_clear(&e);
    return ok;
}

static void nar_case(const char *data, size_t len)
{
    n_cases++;
    char *m1 = NULL, *m2 = NULL;
    bool whole = nar_verdict(data, len, len ? len : 1, &m1);
    size_t chunk = 1 + next() % 13;
    bool pieces = nar_verdict(data, len, chunk, &m2);
    if (whole != pieces)
        fail("nar", "verdict depends on chunking");
    else if (!whole && strcmp(m1, m2) != 0)
        fail("nar", "error message depends on chunking");
    whole ? n_accepted++ : n_rejected++;
    free(m1);
    free(m2);
}

static void sink(void *ctx, const void *p, size_t n) { ut_buf_append(ctx, p, n); }

/* A NAR with every node kind, made by the writer. */
static void sample_nar(ut_buf *out)
{
    ut_err e = UT_ERR_INIT;
    nc_nar_writer *w = nc_nar_writer_new(sink, out, NULL);
    bool ok = nc_nar_dir_begin(w, &e) && nc_nar_dir_entry(w, nc_str_c("bin"), &e) && nc_nar_dir_begin(w, &e) &&
              nc_nar_dir_entry(w, nc_str_c("hello"), &e) && nc_nar_file_begin(w, true, 5, &e) &&
              nc_nar_file_data(w, "#!/sh", 5, &e) && nc_nar_file_end(w, &e) && nc_nar_dir_end(w, &e) &&
              nc_nar_dir_entry(w, nc_str_c("empty"), &e) && nc_nar_file_begin(w, false, 0, &e) &&
              nc_nar_file_end(w, &e) && nc_nar_dir_entry(w, nc_str_c("link"), &e) &&
              nc_nar_symlink(w, nc_str_c("bin/hello"), &e) && nc_nar_dir_entry(w, nc_str_c("share"), &e) &&
              nc_nar_dir_begin(w, &e) && nc_nar_dir_end(w, &e) && nc_nar_dir_entry(w, nc_str_c("z"), &e) &&
              nc_nar_file_begin(w, false, 17, &e) && nc_nar_file_data(w, "seventeen bytes!!", 17, &e) &&
              nc_nar_file_end(w, &e) && nc_nar_dir_end(w, &e) && nc_nar_writer_finish(w, NULL, NULL, &e);
    if (!ok)
        fail("nar writer", e.msg);
    nc_nar_writer_free(w);
    ut_err_clear(&e);
    char *msg = NULL;
    if (!nar_verdict(out->data, out->len, 7, &msg))
        fail("nar parser rejects the writer's NAR", msg);
    free(msg);
}

/* ---- narinfo and hashes ---- */

static void narinfo_case(const char *data, size_t len)
{
    n_cases++;
    ut_err e = UT_ERR_INIT;
    nc_narinfo *ni = nc_narinfo_parse(data, len, NULL, "fuzz", &e);
    if (!ni) {
        if (!e.msg)
            fail("narinfo", "rejected without a message");
        n_rejected++;
    } else {
        n_accepted++;
        ut_buf a = UT_BUF_INIT, b = UT_BUF_INIT;
        nc_narinfo_print(ni, NULL, &a);
        nc_narinfo *n2 = nc_narinfo_parse(a.data, a.len, NULL, "fuzz-reprint", &e);
        if (!n2) {
            fail("narinfo re-parse", e.msg);
        } else {
            nc_narinfo_print(n2, NULL, &b);
            if (a.len != b.len || memcmp(a.data, b.data, a.len))
                fail("narinfo", "printed output is not a fixed point");
        }
        ut_buf_clear(&b);
        nc_narinfo_fingerprint(ni, NULL, &b, NULL);
        nc_narinfo_free(n2);
        ut_buf_free(&a);
        ut_buf_free(&b);
        nc_narinfo_free(ni);
    }
    ut_err_clear(&e);
}

static void hash_case(const char *data, size_t len)
{
    n_cases++;
    nc_hash h;
    ut_err e = UT_ERR_INIT;
    nc_hash_algo a = NC_HASH_SHA256;
    if (nc_hash_parse_any(data, len, &a, &h, &e)) {
        n_accepted++;
        char out[NC_HASH_STR_MAX];
        for (int f = NC_HASH_BASE16; f <= NC_HASH_SRI; f++) {
            size_t n = nc_hash_print(&h, (nc_hash_format)f, true, out);
            nc_hash back;
            if (!nc_hash_parse_any(out, n, NULL, &back, NULL) || !nc_hash_eq(&back, &h))
                fail("hash", "printed form does not parse back");
        }
    } else {
        if (!e.msg)
            fail("hash", "rejected without a message");
        n_rejected++;
    }
    ut_err_clear(&e);
    nc_content_address ca;
    nc_ca_parse(data, len, &ca, NULL);
    nc_store_path_parse(NULL, nc_str_n(data, len), NULL, NULL);
}

static void fuzz(const char *data, size_t len, void (*f)(const char *, size_t), int rounds)
{
    f(data, len);
    truncations(data, len, f);
    ut_buf m = UT_BUF_INIT;
    for (int i = 0; i < rounds; i++) {
        mutate(&m, data, len);
        f(m.data, m.len);
    }
    ut_buf_free(&m);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CLOSURE_DIR LIBUTIL_DATA\n", argv[0]);
        return 2;
    }
    char path[8192];
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;

    /* .drv: a sample of the closure (every 8th file) plus a fixed-output one. */
    snprintf(path, sizeof path, "%s/store", argv[1]);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", path);
        return 2;
    }
    char **names = NULL;
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".drv")) {
            names = ut_xrealloc(names, (nn + 1) * sizeof *names);
            names[nn++] = ut_xstrdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_name);
    size_t drv_files = 0;
    for (size_t i = 0; i < nn; i += 8) {
        snprintf(path, sizeof path, "%s/store/%s", argv[1], names[i]);
        ut_buf_clear(&b);
        if (!ut_read_file(path, &b, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 2;
        }
        fuzz(b.data, b.len, drv_case, 400);
        drv_files++;
    }
    for (size_t i = 0; i < nn; i++)
        free(names[i]);
    free(names);
    static const char dyn[] =
        "DrvWithVersion(\"xp-dyn-drv\",[(\"out\",\"\",\"r:sha256\",\"\")],[(\"/nix/store/"
        "c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep2.drv\",([\"cat\",\"dog\"],[(\"cat\",([\"kitten\"],[(\"x\",[\"y\"])]))]))],"
        "[\"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-dep1\"],\"wasm-sel4\",\"foo\",[\"b\\\\ar\",\"baz\"],"
        "[(\"BIG_BAD\",\"WO\\nLF\"),(\"out\",\"\")])";
    fuzz(dyn, sizeof dyn - 1, drv_case, 2000);

    /* NARs: the writer's sample and the valid vector. */
    ut_buf nar = UT_BUF_INIT;
    sample_nar(&nar);
    fuzz(nar.data, nar.len, nar_case, 3000);
    snprintf(path, sizeof path, "%s/nars/regular-one-byte-zero-padding.nar", argv[2]);
    ut_buf_clear(&b);
    if (ut_read_file(path, &b, &e))
        fuzz(b.data, b.len, nar_case, 1000);
    ut_buf_free(&nar);

    static const char ni[] =
        "StorePath: /nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1\n"
        "URL: nar/1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3.nar.xz\n"
        "Compression: xz\n"
        "FileHash: sha256:1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3\n"
        "FileSize: 50264\n"
        "NarHash: sha256:10w02iccr1pnkrfnhxb0ghfizq42pq6nxgplrdgl9f0bfazxdli2\n"
        "NarSize: 226560\n"
        "References: 05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1 v6x3cs394jgqfbi0a42pam708flxaphh-default-builder.sh\n"
        "Deriver: 405ka3fg4sdhh4jqqdyfq2m0rw5fwkis-hello-2.12.1.drv\n"
        "Sig: cache.nixos.org-1:abc\n"
        "CA: fixed:r:sha256:10w02iccr1pnkrfnhxb0ghfizq42pq6nxgplrdgl9f0bfazxdli2\n";
    fuzz(ni, sizeof ni - 1, narinfo_case, 3000);

    static const char *hashes[] = {
        "sha256:10w02iccr1pnkrfnhxb0ghfizq42pq6nxgplrdgl9f0bfazxdli2",
        "sha256-8OTC92xYkW7CWPJGhRvqCR0U1CR6L8PhhpRGGxgW4Ts=",
        "f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b",
        "sha512:"
        "401b09eab3c013d4ca54922bb802bec8fd5318192b0a75f201d8b3727429080fb337591abd3e44453b954555b7a0812e1081c39b740293f765eae731f5a65ed1",
    };
    for (size_t i = 0; i < sizeof hashes / sizeof *hashes; i++)
        fuzz(hashes[i], strlen(hashes[i]), hash_case, 1500);

    printf("compat fuzz: %zu drv files sampled; %zu cases, %zu accepted, %zu rejected cleanly, %d failures\n",
           drv_files, n_cases, n_accepted, n_rejected, failures);
    ut_buf_free(&b);
    ut_err_clear(&e);
    return failures ? 1 : 0;
}
