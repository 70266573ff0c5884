/* Unit tests of compat/. Expected values come from the oracle (Nix 2.8.0:
 * `nix hash to-base32`, `nix-store --print-fixed-path`, `builtins.toFile`,
 * `builtins.placeholder`, its error messages) or from Nix's test vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "compat/content_address.h"
#include "compat/derivation.h"
#include "compat/hash.h"
#include "compat/nar.h"
#include "compat/narinfo.h"
#include "compat/nixbase32.h"
#include "compat/storepath.h"

#include <stdlib.h>
#include <string.h>

static const char *ABC_SHA256_HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static void expect_err(bool ok, ut_err *e, const char *msg)
{
    assert_false(ok);
    assert_non_null(e->msg);
    assert_string_equal(e->msg, msg);
    ut_err_clear(e);
}

static void test_nix32(void **state)
{
    (void)state;
    nc_hash h;
    char out[NC_HASH_STR_MAX];
    nc_hash_bytes(NC_HASH_SHA256, "abc", 3, &h);
    nc_hash_print(&h, NC_HASH_NIX32, false, out);
    assert_string_equal(out, "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s");
    uint8_t back[32];
    assert_true(nc_nix32_decode(out, 52, back));
    assert_memory_equal(back, h.bytes, 32);
    nc_hash_bytes(NC_HASH_MD5, "abc", 3, &h);
    nc_hash_print(&h, NC_HASH_NIX32, false, out);
    assert_string_equal(out, "3jgzhjhz9zjvbb0kyj7jc500ch");
    /* 'e', 'o', 'u', 't' are not in the alphabet */
    assert_false(nc_nix32_decode("1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5e", 52, back));
    /* 52 chars carry 260 bits: the top 4 must be zero for 32 bytes */
    assert_false(nc_nix32_decode("zb8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s", 52, back));
}

static void test_hash_parse_print(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    nc_hash want, h;
    nc_hash_bytes(NC_HASH_SHA256, "abc", 3, &want);
    nc_hash_algo sha256 = NC_HASH_SHA256, sha1 = NC_HASH_SHA1;
    const char *forms[] = {
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
        "sha256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
        "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
    };
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
        assert_true(nc_hash_parse_any(forms[i], strlen(forms[i]), NULL, &h, &e));
        assert_true(nc_hash_eq(&h, &want));
        assert_true(nc_hash_parse_prefixed(forms[i], strlen(forms[i]), &h, &e));
        assert_true(nc_hash_eq(&h, &want));
    }
    assert_true(nc_hash_parse_any(ABC_SHA256_HEX, 64, &sha256, &h, &e));
    assert_true(nc_hash_eq(&h, &want));
    assert_true(nc_hash_parse_unprefixed(ABC_SHA256_HEX, 64, NC_HASH_SHA256, &h, &e));
    char out[NC_HASH_STR_MAX];
    nc_hash_print(&want, NC_HASH_SRI, false, out);
    assert_string_equal(out, "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    nc_hash_print(&want, NC_HASH_BASE16, true, out);
    assert_string_equal(out, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    nc_hash h512;
    nc_hash_bytes(NC_HASH_SHA512, "abc", 3, &h512);
    nc_hash_print(&h512, NC_HASH_BASE64, false, out);
    assert_string_equal(out, "3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");

    /* Nix 2.8's messages */
    expect_err(nc_hash_parse_any("sha256:abc", 10, NULL, &h, &e), &e,
               "hash 'abc' has wrong length for hash type 'sha256'");
    expect_err(nc_hash_parse_any("abc:abc", 7, NULL, &h, &e), &e, "unknown hash algorithm 'abc'");
    const char *s = "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";
    expect_err(nc_hash_parse_any(s, strlen(s), &sha1, &h, &e), &e,
               "hash 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s' should have type 'sha1'");
    expect_err(nc_hash_parse_any(ABC_SHA256_HEX, 64, NULL, &h, &e), &e,
               "hash 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' does not include a type, "
               "nor is the type otherwise known from context");
    assert_false(nc_hash_parse_sri("sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0", 50, &h, &e) &&
                 !nc_hash_eq(&h, &want));
    ut_err_clear(&e);
    assert_false(nc_hash_parse_sri("sha256-!!!", 10, &h, &e));
    ut_err_clear(&e);
}

static void test_hasher(void **state)
{
    (void)state;
    nc_hasher *s = nc_hasher_new(NC_HASH_SHA256);
    nc_hasher_update(s, "a", 1);
    nc_hasher_update(s, "", 0);
    nc_hasher_update(s, "bc", 2);
    nc_hash h;
    nc_hasher_finish(s, &h);
    char out[NC_HASH_STR_MAX];
    nc_hash_print(&h, NC_HASH_BASE16, false, out);
    assert_string_equal(out, ABC_SHA256_HEX);
}

static void test_store_paths(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    ut_buf b = UT_BUF_INIT;
    nc_hash h;
    assert_true(nc_hash_parse_unprefixed(ABC_SHA256_HEX, 64, NC_HASH_SHA256, &h, &e));
    /* nix-store --print-fixed-path [--recursive] sha256 <abc> foo */
    assert_true(nc_make_fixed_output_path(&b, NULL, NC_CA_NAR, &h, nc_str_c("foo"), NULL, &e));
    assert_string_equal(b.data, "/nix/store/8nz4xrxpk6mgia8bb9jxncpcikkm2xxv-foo");
    ut_buf_clear(&b);
    assert_true(nc_make_fixed_output_path(&b, NULL, NC_CA_FLAT, &h, nc_str_c("foo"), NULL, &e));
    assert_string_equal(b.data, "/nix/store/p8hd84z8vx40y3q2l1mmbfd9y23h7g1a-foo");
    ut_buf_clear(&b);
    nc_hash h1;
    assert_true(nc_hash_parse_unprefixed("a9993e364706816aba3e25717850c26c9cd0d89d", 40, NC_HASH_SHA1, &h1, &e));
    assert_true(nc_make_fixed_output_path(&b, NULL, NC_CA_NAR, &h1, nc_str_c("foo"), NULL, &e));
    assert_string_equal(b.data, "/nix/store/vpvld71qx55l3i2gdawdlqipjs7gfw6r-foo");
    ut_buf_clear(&b);
    /* builtins.toFile "foo" "bar" */
    nc_hash_bytes(NC_HASH_SHA256, "bar", 3, &h);
    assert_true(nc_make_text_path(&b, NULL, nc_str_c("foo"), &h, NULL, &e));
    assert_string_equal(b.data, "/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo");
    ut_buf_clear(&b);
    /* a non-NAR fixed path may not have references */
    nc_str ref = nc_str_c("/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo");
    nc_refs refs = {&ref, 1, false};
    assert_false(nc_make_fixed_output_path(&b, NULL, NC_CA_FLAT, &h, nc_str_c("foo"), &refs, &e));
    ut_err_clear(&e);

    /* parsing and Nix 2.8's wording (it quotes the base name) */
    nc_store_path_parts p;
    assert_true(nc_store_path_parse(NULL, nc_str_c("/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo"), &p, &e));
    assert_int_equal(p.name.len, 3);
    assert_memory_equal(p.hash.s, "vxjiwkjkn7x4079qvh1jkl5pn05j2aw0", 32);
    expect_err(nc_store_base_parse(nc_str_c("dm85kbl5cy82j2dzvy1874s14y3salv3-a b"), &p, &e), &e,
               "store path 'dm85kbl5cy82j2dzvy1874s14y3salv3-a b' contains illegal character ' '");
    expect_err(nc_store_base_parse(nc_str_c("9r1mh2rc3s3i33vpdw86kqqyvy9i1y4w-"), &p, &e), &e,
               "store path '9r1mh2rc3s3i33vpdw86kqqyvy9i1y4w-' has an empty name");
    char longname[33 + 213];
    memcpy(longname, "sk7z62nqxdj2sb8x397my8i4803lhvai-", 33);
    memset(longname + 33, 'a', 212);
    longname[33 + 212] = '\0';
    assert_false(nc_store_base_parse(nc_str_c(longname), &p, &e));
    assert_non_null(strstr(e.msg, "has a name longer than 211 characters"));
    ut_err_clear(&e);
    longname[33 + 211] = '\0';
    assert_true(nc_store_base_parse(nc_str_c(longname), &p, &e));
    assert_false(nc_store_path_parse(NULL, nc_str_c("/nix/store/x/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo"), &p, &e));
    ut_err_clear(&e);
    assert_false(nc_store_path_parse("/gnu/store", nc_str_c("/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo"), &p, &e));
    ut_err_clear(&e);
    assert_false(nc_is_store_path(NULL, nc_str_c("/nix/store/eeeekjkn7x4079qvh1jkl5pn05j2aw0-foo")));

    /* builtins.toFile "a b" "x": Nix names the path it computed */
    nc_hash_bytes(NC_HASH_SHA256, "x", 1, &h);
    ut_buf_clear(&b);
    expect_err(nc_make_text_path(&b, NULL, nc_str_c("a b"), &h, NULL, &e), &e,
               "store path 'dm85kbl5cy82j2dzvy1874s14y3salv3-a b' contains illegal character ' '");
    assert_int_equal(b.len, 0);
    nc_hash_bytes(NC_HASH_SHA256, "bar", 3, &h);

    /* the store directory is part of the hash */
    assert_true(nc_make_text_path(&b, "/gnu/store", nc_str_c("foo"), &h, NULL, &e));
    assert_true(strncmp(b.data, "/gnu/store/", 11) == 0);
    assert_string_not_equal(b.data + 11, "vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo");
    ut_buf_free(&b);
}

static void test_placeholders(void **state)
{
    (void)state;
    ut_buf b = UT_BUF_INIT;
    nc_hash_placeholder(&b, nc_str_c("out"));
    assert_string_equal(b.data, "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9");
    ut_buf_clear(&b);
    nc_hash_placeholder(&b, nc_str_c("dev"));
    assert_string_equal(b.data, "/02qcpld1y6xhs5gz9bchpxaw0xdhmsp5dv88lh25r2ss44kh8dxz");
    ut_buf_clear(&b);
    /* from Nix's try-resolve vector export-ref-subpath-sa-before.json */
    assert_true(nc_downstream_placeholder(&b, NULL, nc_str_c("/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-dep.drv"),
                                          nc_str_c("out"), NULL));
    assert_string_equal(b.data, "/19r5f6rm1xa6ii9sam7fqbmaj8skmasskfj0rixxb1zjpqcy470p");
    ut_buf_free(&b);
}

static void test_content_address(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    ut_buf b = UT_BUF_INIT;
    nc_content_address ca;
    const char *s = "fixed:r:sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s";
    assert_true(nc_ca_parse(s, strlen(s), &ca, &e));
    assert_int_equal(ca.method, NC_CA_NAR);
    nc_ca_render(&b, &ca);
    assert_string_equal(b.data, s);
    ut_buf_clear(&b);
    s = "text:sha256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
    assert_true(nc_ca_parse(s, strlen(s), &ca, &e));
    nc_ca_render(&b, &ca);
    assert_string_equal(b.data, "text:sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s");
    ut_buf_clear(&b);
    s = "text:sha1:a9993e364706816aba3e25717850c26c9cd0d89d";
    assert_false(nc_ca_parse(s, strlen(s), &ca, &e));
    ut_err_clear(&e);
    assert_false(nc_ca_parse("nar:sha256:x", 12, &ca, &e));
    ut_err_clear(&e);
    nc_ca_method m;
    nc_hash_algo a;
    assert_true(nc_ca_parse_method_algo("r:sha1", 6, &m, &a, &e));
    assert_int_equal(m, NC_CA_NAR);
    assert_int_equal(a, NC_HASH_SHA1);
    expect_err(nc_ca_parse_method_algo("r:sha3", 6, &m, &a, &e), &e, "unknown hash algorithm 'sha3'");
    ut_buf_free(&b);
}

static const char NARINFO[] =
    "StorePath: /nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1\n"
    "URL: nar/1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3.nar.xz\n"
    "Compression: xz\n"
    "FileHash: sha256:1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3\n"
    "FileSize: 50264\n"
    "NarHash: sha256:10w02iccr1pnkrfnhxb0ghfizq42pq6nxgplrdgl9f0bfazxdli2\n"
    "NarSize: 226560\n"
    "References: 05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1 00qr10y7z2fcvrp9b2m46710nkjvj55z-glibc\n"
    "Deriver: 405ka3fg4sdhh4jqqdyfq2m0rw5fwkis-hello-2.12.1.drv\n"
    "Sig: b:2\n"
    "Sig: a:1\n";

static void test_narinfo(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    ut_buf b = UT_BUF_INIT;
    nc_narinfo *ni = nc_narinfo_parse(NARINFO, sizeof NARINFO - 1, NULL, "t.narinfo", &e);
    assert_non_null(ni);
    assert_int_equal(ni->nar_size, 226560);
    assert_int_equal(ni->nrefs, 2);
    nc_narinfo_print(ni, NULL, &b);
    /* Printed as Nix does: references and signatures sorted. */
    assert_string_equal(b.data,
                        "StorePath: /nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1\n"
                        "URL: nar/1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3.nar.xz\n"
                        "Compression: xz\n"
                        "FileHash: sha256:1w1fff338fvdw53sqgamddn1b2xgds473pv6y13gizdbqjv4i5p3\n"
                        "FileSize: 50264\n"
                        "NarHash: sha256:10w02iccr1pnkrfnhxb0ghfizq42pq6nxgplrdgl9f0bfazxdli2\n"
                        "NarSize: 226560\n"
                        "References: 00qr10y7z2fcvrp9b2m46710nkjvj55z-glibc 05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1\n"
                        "Deriver: 405ka3fg4sdhh4jqqdyfq2m0rw5fwkis-hello-2.12.1.drv\n"
                        "Sig: a:1\n"
                        "Sig: b:2\n");
    ut_buf_clear(&b);
    assert_true(nc_narinfo_fingerprint(ni, NULL, &b, &e));
    assert_string_equal(b.data, "1;/nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1;"
                                "sha256:10w02iccr1pnkrfnhxb0ghfizq42pq6nxgplrdgl9f0bfazxdli2;226560;"
                                "/nix/store/00qr10y7z2fcvrp9b2m46710nkjvj55z-glibc,"
                                "/nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1");
    nc_narinfo_free(ni);

    /* a NUL inside a value survives printing (found by fuzzing) */
    static const char withnul[] = "StorePath: /nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1\nURL: x\n"
                                  "NarHash: sha256:10w02iccr1pnkrfnhxb0ghfizq42pq6nxgplrdgl9f0bfazxdli2\n"
                                  "NarSize: 1\nSig: a\0b\n";
    ni = nc_narinfo_parse(withnul, sizeof withnul - 1, NULL, "z.narinfo", &e);
    assert_non_null(ni);
    ut_buf_clear(&b);
    nc_narinfo_print(ni, NULL, &b);
    assert_non_null(memmem(b.data, b.len, "Sig: a\0b\n", 9));
    nc_narinfo_free(ni);

    const char *missing = "StorePath: /nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1\nURL: x\n";
    assert_null(nc_narinfo_parse(missing, strlen(missing), NULL, "m.narinfo", &e));
    assert_string_equal(e.msg, "NAR info file 'm.narinfo' is corrupt: missing required field");
    ut_err_clear(&e);
    const char *nonl = "StorePath: /nix/store/05dcrc6c665kwi50ww6ncnfl2n0g4ifh-hello-2.12.1";
    assert_null(nc_narinfo_parse(nonl, strlen(nonl), NULL, "n.narinfo", &e));
    ut_err_clear(&e);
    ut_buf_free(&b);
}

static void sink(void *ctx, const void *p, size_t n) { ut_buf_append(ctx, p, n); }

static void test_nar_writer(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    ut_buf out = UT_BUF_INIT;
    nc_nar_writer *w = nc_nar_writer_new(sink, &out, NULL);
    assert_true(nc_nar_dir_begin(w, &e));
    assert_true(nc_nar_dir_entry(w, nc_str_c("b"), &e));
    assert_true(nc_nar_symlink(w, nc_str_c("x"), &e));
    assert_false(nc_nar_dir_entry(w, nc_str_c("a"), &e));   /* out of order */
    ut_err_clear(&e);
    assert_false(nc_nar_dir_end(w, &e));                      /* the writer is now failed */
    ut_err_clear(&e);
    nc_nar_writer_free(w);

    const char *bad[] = {"", ".", "..", "a/b"};
    for (size_t i = 0; i < 4; i++) {
        w = nc_nar_writer_new(NULL, NULL, NULL);
        assert_true(nc_nar_dir_begin(w, &e));
        assert_false(nc_nar_dir_entry(w, nc_str_c(bad[i]), &e));
        ut_err_clear(&e);
        nc_nar_writer_free(w);
    }
    w = nc_nar_writer_new(NULL, NULL, NULL);
    assert_true(nc_nar_dir_begin(w, &e));
    assert_false(nc_nar_dir_entry(w, nc_str_n("a\0b", 3), &e));
    ut_err_clear(&e);
    nc_nar_writer_free(w);

    w = nc_nar_writer_new(NULL, NULL, NULL);
    assert_true(nc_nar_file_begin(w, false, 3, &e));
    assert_true(nc_nar_file_data(w, "ab", 2, &e));
    assert_false(nc_nar_file_end(w, &e));                     /* short */
    ut_err_clear(&e);
    nc_nar_writer_free(w);
    w = nc_nar_writer_new(NULL, NULL, NULL);
    assert_true(nc_nar_file_begin(w, false, 1, &e));
    assert_false(nc_nar_file_data(w, "ab", 2, &e));           /* long */
    ut_err_clear(&e);
    nc_nar_writer_free(w);
    w = nc_nar_writer_new(NULL, NULL, NULL);
    assert_true(nc_nar_dir_begin(w, &e));
    assert_false(nc_nar_writer_finish(w, NULL, NULL, &e));    /* incomplete */
    ut_err_clear(&e);
    nc_nar_writer_free(w);

    /* single-file NAR hashes agree with the streaming writer */
    nc_hash h1, h2;
    uint64_t s1, s2;
    nc_nar_hash_regular(NC_HASH_SHA256, "hello\n", 6, true, &h1, &s1);
    nc_hash_algo a = NC_HASH_SHA256;
    w = nc_nar_writer_new(NULL, NULL, &a);
    assert_true(nc_nar_file_begin(w, true, 6, &e) && nc_nar_file_data(w, "hel", 3, &e) &&
                nc_nar_file_data(w, "lo\n", 3, &e) && nc_nar_file_end(w, &e) && nc_nar_writer_finish(w, &h2, &s2, &e));
    nc_nar_writer_free(w);
    assert_true(nc_hash_eq(&h1, &h2));
    assert_int_equal(s1, s2);
    /* magic 24, "(" 16, "type" 16, "regular" 16, "executable" 24, "" 8,
     * "contents" 16, length 8, 6 bytes padded to 8, ")" 16 */
    assert_int_equal(s1, 24 + 16 + 16 + 16 + 24 + 8 + 16 + 8 + 8 + 16);
    ut_buf_free(&out);
}

/* The tree of data/gen-tree-nar.sh, through the writer, must be byte for
 * byte what `nix-store --dump` made of it (data/tree.nar). */
static void test_nar_oracle_tree(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    ut_buf out = UT_BUF_INIT, want = UT_BUF_INIT;
    assert_true(ut_read_file(NC_TEST_DATA "/tree.nar", &want, &e));
    nc_hash_algo a = NC_HASH_SHA256;
    nc_nar_writer *w = nc_nar_writer_new(sink, &out, &a);
#define OK(x) assert_true((x))
#define FILE_(name, exec, text)                                                                                       \
    OK(nc_nar_dir_entry(w, nc_str_c(name), &e));                                                                       \
    OK(nc_nar_file_begin(w, exec, strlen(text), &e));                                                                  \
    OK(nc_nar_file_data(w, text, strlen(text), &e));                                                                   \
    OK(nc_nar_file_end(w, &e))
    OK(nc_nar_dir_begin(w, &e));
    FILE_("B-upper", false, "x");
    OK(nc_nar_dir_entry(w, nc_str_c("a-dir"), &e));
    OK(nc_nar_dir_begin(w, &e));
    OK(nc_nar_dir_entry(w, nc_str_c("up"), &e));
    OK(nc_nar_symlink(w, nc_str_c("../.."), &e));
    FILE_("z", false, "y");
    OK(nc_nar_dir_end(w, &e));
    OK(nc_nar_dir_entry(w, nc_str_c("bin"), &e));
    OK(nc_nar_dir_begin(w, &e));
    FILE_("hello", true, "#!/bin/sh\necho hi\n");
    OK(nc_nar_dir_end(w, &e));
    FILE_("eight", false, "12345678");
    FILE_("empty-file", false, "");
    OK(nc_nar_dir_entry(w, nc_str_c("link"), &e));
    OK(nc_nar_symlink(w, nc_str_c("bin/hello"), &e));
    FILE_("seven", false, "1234567");
    OK(nc_nar_dir_entry(w, nc_str_c("share"), &e));
    OK(nc_nar_dir_begin(w, &e));
    OK(nc_nar_dir_entry(w, nc_str_c("empty"), &e));
    OK(nc_nar_dir_begin(w, &e));
    OK(nc_nar_dir_end(w, &e));
    OK(nc_nar_dir_end(w, &e));
    OK(nc_nar_dir_end(w, &e));
    nc_hash h;
    uint64_t size;
    OK(nc_nar_writer_finish(w, &h, &size, &e));
#undef FILE_
#undef OK
    nc_nar_writer_free(w);
    assert_int_equal(out.len, want.len);
    assert_memory_equal(out.data, want.data, want.len);
    assert_int_equal(size, want.len);
    char hs[NC_HASH_STR_MAX];
    nc_hash_print(&h, NC_HASH_NIX32, false, hs);
    assert_string_equal(hs, "1h3wby66lwzf5j6s71w0m47dwjqaigz0z0jqgar91w2s3xi0xcsp");   /* nix-hash --flat */
    /* and the parser accepts it */
    assert_true(nc_nar_parse(want.data, want.len, NULL, NULL, &e));
    ut_buf_free(&out);
    ut_buf_free(&want);
}

static const char SIMPLE[] =
    "Derive([(\"out\",\"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-x\",\"\",\"\")],[],[],\"x86_64-linux\",\"/bin/sh\","
    "[\"-c\",\"a\\\"b\\\\c\\nd\\te\\rf\"],[(\"out\",\"/nix/store/c015dhfh5l0lp6wxyvdn7bmwhbbr6hr9-x\")])";

static void test_drv_parse_errors(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    nc_derivation *d = nc_drv_parse(SIMPLE, sizeof SIMPLE - 1, NULL, nc_str_c("x"), &e);
    assert_non_null(d);
    assert_int_equal(d->nargs, 2);
    assert_int_equal(d->args[1].len, 11);
    assert_memory_equal(d->args[1].s, "a\"b\\c\nd\te\rf", 11);
    ut_buf b = UT_BUF_INIT;
    nc_drv_print(d, &b);
    assert_int_equal(b.len, sizeof SIMPLE - 1);
    assert_memory_equal(b.data, SIMPLE, b.len);
    nc_drv_free(d);

    assert_null(nc_drv_parse(SIMPLE, 40, NULL, nc_str_c("x"), &e));
    assert_non_null(strstr(e.msg, "at byte"));
    ut_err_clear(&e);
    assert_null(nc_drv_parse("Derive([],[],[],\"a\",\"b\",[],[]) ", 32, NULL, nc_str_c("x"), &e));
    assert_string_equal(e.msg, "derivation ATerm: at byte 30: trailing bytes after the derivation");
    ut_err_clear(&e);
    assert_null(nc_drv_parse("Derive([],[],[\"/tmp/x\"],\"a\",\"b\",[],[])", 38, NULL, nc_str_c("x"), &e));
    assert_string_equal(e.msg, "derivation ATerm: at byte 14: path '/tmp/x' is not in the Nix store");
    ut_err_clear(&e);
    assert_null(nc_drv_parse("Derive([],[],[],\"a\",\"b\",[],[(\"a\",\"b\"", 37, NULL, nc_str_c("x"), &e));
    ut_err_clear(&e);
    assert_null(nc_drv_parse("Derive([(\"out\",\"\",\"md4\",\"\")],[],[],\"a\",\"b\",[],[])", 50, NULL, nc_str_c("x"),
                             &e));
    assert_string_equal(e.msg, "derivation ATerm: at byte 18: unknown hash algorithm 'md4'");
    ut_err_clear(&e);

    /* Nix prints the platform and output names unescaped, so a quote or
     * backslash in them could not be read back (found by fuzzing). */
    const char *q = "Derive([],[],[],\"a\\\"b\",\"b\",[],[])";
    assert_null(nc_drv_parse(q, strlen(q), NULL, nc_str_c("x"), &e));
    assert_string_equal(e.msg, "derivation ATerm: at byte 16: '\"' and '\\' are not allowed in output names and the platform");
    ut_err_clear(&e);

    /* duplicate keys: outputs keep the first (emplace), env the last */
    const char *dup = "Derive([(\"out\",\"\",\"\",\"\"),(\"out\",\"\",\"r:sha256\",\"\")],[],[],\"a\",\"b\",[],"
                      "[(\"k\",\"1\"),(\"k\",\"2\")])";
    d = nc_drv_parse(dup, strlen(dup), NULL, nc_str_c("x"), &e);
    assert_non_null(d);
    assert_int_equal(d->noutputs, 1);
    assert_int_equal(d->outputs[0].kind, NC_OUT_DEFERRED);
    assert_int_equal(d->nenv, 1);
    assert_string_equal(d->env[0].value.s, "2");
    nc_drv_free(d);
    ut_buf_free(&b);
}

static void test_drv_type(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    nc_drv_type t;
    const char *mixed = "Derive([(\"a\",\"\",\"\",\"\"),(\"out\",\"\",\"r:sha256\",\"\")],[],[],\"s\",\"b\",[],[])";
    nc_derivation *d = nc_drv_parse(mixed, strlen(mixed), NULL, nc_str_c("x"), &e);
    assert_non_null(d);
    expect_err(nc_drv_type_of(d, &t, &e), &e, "can't mix derivation output types");
    nc_drv_free(d);
    const char *none = "Derive([],[],[],\"s\",\"b\",[],[])";
    d = nc_drv_parse(none, strlen(none), NULL, nc_str_c("x"), &e);
    expect_err(nc_drv_type_of(d, &t, &e), &e, "must have at least one output");
    nc_drv_free(d);
    const char *algos = "Derive([(\"a\",\"\",\"r:sha1\",\"\"),(\"b\",\"\",\"r:sha256\",\"\")],[],[],\"s\",\"b\",[],[])";
    d = nc_drv_parse(algos, strlen(algos), NULL, nc_str_c("x"), &e);
    expect_err(nc_drv_type_of(d, &t, &e), &e, "all floating outputs must use the same hash type");
    nc_drv_free(d);
}

/* derivationStrict's flow on a floating CA derivation: the vector
 * ca/self-contained.json has env.out = hashPlaceholder("out"). */
static void test_fill_outputs_floating(void **state)
{
    (void)state;
    ut_err e = UT_ERR_INIT;
    nc_derivation *d = nc_drv_new(nc_str_c("myname"));
    d->outputs = ut_arena_alloc(d->arena, sizeof *d->outputs);
    d->noutputs = 1;
    d->outputs[0].name = nc_drv_strdup(d, nc_str_c("out"));
    d->outputs[0].kind = NC_OUT_CA_FLOATING;
    d->outputs[0].method = NC_CA_NAR;
    d->outputs[0].hash_algo = NC_HASH_SHA256;
    d->platform = nc_drv_strdup(d, nc_str_c("x86_64-linux"));
    d->builder = nc_drv_strdup(d, nc_str_c("/bin/sh"));
    assert_true(nc_drv_fill_outputs(d, NULL, NULL, NULL, &e));
    assert_int_equal(d->nenv, 1);
    assert_string_equal(d->env[0].value.s, "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9");
    nc_drv_hash h;
    assert_true(nc_drv_hash_modulo(d, NULL, true, NULL, NULL, &h, &e));
    assert_true(h.deferred);
    ut_buf b = UT_BUF_INIT;
    assert_false(nc_drv_output_path(d, NULL, &d->outputs[0], &h, &b, &e));
    ut_err_clear(&e);
    ut_buf_free(&b);
    nc_drv_free(d);
}

/* The ATerm escaper scans 16 bytes at a time: every special byte at every
 * offset of values around that width must come out as the byte-at-a-time
 * definition says (Nix escapes exactly " \ newline CR tab), and the text
 * must parse back to the same value. */
static void naive_escape(ut_buf *b, const char *s, size_t n)
{
    ut_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '"': ut_buf_puts(b, "\\\""); break;
        case '\\': ut_buf_puts(b, "\\\\"); break;
        case '\n': ut_buf_puts(b, "\\n"); break;
        case '\r': ut_buf_puts(b, "\\r"); break;
        case '\t': ut_buf_puts(b, "\\t"); break;
        default: ut_buf_putc(b, s[i]);
        }
    }
    ut_buf_putc(b, '"');
}

static void test_aterm_escaping(void **state)
{
    (void)state;
    static const char specials[] = {'"', '\\', '\n', '\r', '\t', ' ', '!', '#', 0x01, 0x7f, (char)0x80, (char)0xff};
    char v[48];
    ut_buf got = UT_BUF_INIT, want = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    for (size_t len = 0; len <= sizeof v; len++) {
        for (size_t at = 0; at < (len ? len : 1); at++) {
            for (size_t k = 0; k < sizeof specials; k++) {
                for (size_t i = 0; i < len; i++)
                    v[i] = (char)('a' + i % 26);
                if (len) {
                    v[at] = specials[k];
                    v[len - 1 - (at * 7) % len] = specials[(k + 1) % sizeof specials];
                }
                nc_derivation *d = nc_drv_new(nc_str_c("esc"));
                d->platform = nc_drv_strdup(d, nc_str_c("x86_64-linux"));
                d->builder = nc_drv_strdup(d, nc_str_n(v, len));
                nc_drv_add_output(d, nc_str_c("out"))->path = nc_str_c("/nix/store/00000000000000000000000000000000-esc");
                nc_drv_add_env(d, nc_str_c("k"), nc_str_n(v, len));
                nc_drv_normalize(d);
                ut_buf_clear(&got);
                nc_drv_print(d, &got);
                ut_buf_clear(&want);
                naive_escape(&want, v, len);
                assert_non_null(memmem(got.data, got.len, want.data, want.len));
                nc_derivation *back = nc_drv_parse(got.data, got.len, NULL, nc_str_c("esc"), &e);
                assert_non_null(back);
                assert_int_equal(back->nenv, 1);
                assert_int_equal(back->env[0].value.len, len);
                assert_memory_equal(back->env[0].value.s, v, len);
                assert_memory_equal(back->builder.s, v, len);
                nc_drv_free(back);
                nc_drv_free(d);
            }
        }
    }
    ut_buf_free(&got);
    ut_buf_free(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nix32),           cmocka_unit_test(test_hash_parse_print),
        cmocka_unit_test(test_hasher),          cmocka_unit_test(test_store_paths),
        cmocka_unit_test(test_placeholders),    cmocka_unit_test(test_content_address),
        cmocka_unit_test(test_narinfo),         cmocka_unit_test(test_nar_writer),
        cmocka_unit_test(test_nar_oracle_tree),
        cmocka_unit_test(test_drv_parse_errors), cmocka_unit_test(test_drv_type),
        cmocka_unit_test(test_fill_outputs_floating), cmocka_unit_test(test_aterm_escaping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
