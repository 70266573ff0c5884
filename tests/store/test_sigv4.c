/* SigV4 against the examples published in the Amazon S3 documentation
 * ("Signature Calculations for the Authorization Header: Transferring
 * Payload in a Single Chunk"): credentials AKIAIOSFODNN7EXAMPLE /
 * wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z, us-east-1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/s3.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void sign(const char *method, const char *path, const st_kv *q, size_t nq, const st_kv *h, size_t nh,
                 const char *payload, st_sigv4_out *out)
{
    st_sigv4_req r = {method, "examplebucket.s3.amazonaws.com", path, q, nq, h, nh, payload,
                      "20130524T000000Z", "us-east-1", "s3", AK, SK, NULL};
    st_sigv4_sign(&r, out);
}

static void get_object(void **state)
{
    (void)state;
    st_kv h[] = {{"Range", "bytes=0-9"}};
    st_sigv4_out o;
    sign("GET", "/test.txt", NULL, 0, h, 1, EMPTY_SHA, &o);
    assert_string_equal(o.canonical_request,
                        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                        "x-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:20130524T000000Z\n\n"
                        "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA);
    assert_string_equal(o.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    assert_string_equal(o.authorization,
                        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request, "
                        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    st_sigv4_out_free(&o);
}

static void put_object(void **state)
{
    (void)state;
    /* "Welcome to Amazon S3." with a Date and a storage class header; the
     * '$' in the key must be encoded in the canonical URI. */
    st_kv h[] = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    st_sigv4_out o;
    sign("PUT", "/test$file.text", NULL, 0, h, 2, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
         &o);
    assert_non_null(strstr(o.canonical_request, "PUT\n/test%24file.text\n\n"));
    assert_string_equal(o.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    st_sigv4_out_free(&o);
}

static void get_lifecycle(void **state)
{
    (void)state;
    /* A bare "?lifecycle" signs as "lifecycle=". */
    st_kv q[] = {{"lifecycle", NULL}};
    st_sigv4_out o;
    sign("GET", "/", q, 1, NULL, 0, EMPTY_SHA, &o);
    assert_non_null(strstr(o.canonical_request, "GET\n/\nlifecycle=\n"));
    assert_string_equal(o.query, "lifecycle=");
    assert_string_equal(o.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    st_sigv4_out_free(&o);
}

static void list_objects(void **state)
{
    (void)state;
    /* Given out of order: the signer sorts them. */
    st_kv q[] = {{"prefix", "J"}, {"max-keys", "2"}};
    st_sigv4_out o;
    sign("GET", "/", q, 2, NULL, 0, EMPTY_SHA, &o);
    assert_string_equal(o.query, "max-keys=2&prefix=J");
    assert_string_equal(o.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    st_sigv4_out_free(&o);
}

static void encoding(void **state)
{
    (void)state;
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "");
    st_uri_encode(&b, "a/b c~d+e=f&g", 13, false);
    assert_string_equal(b.data, "a%2Fb%20c~d%2Be%3Df%26g");
    ut_buf_clear(&b);
    st_uri_encode(&b, "a/b c", 5, true);
    assert_string_equal(b.data, "a/b%20c");
    ut_buf_free(&b);
    /* Values with '/' are encoded in the canonical query and the URL. */
    st_kv q[] = {{"prefix", "cas/ab"}, {"list-type", "2"}, {"continuation-token", "1/x+y="}};
    st_sigv4_out o;
    sign("GET", "/", q, 3, NULL, 0, EMPTY_SHA, &o);
    assert_string_equal(o.query, "continuation-token=1%2Fx%2By%3D&list-type=2&prefix=cas%2Fab");
    st_sigv4_out_free(&o);
    /* Header values are trimmed and inner blanks squeezed. */
    st_kv h[] = {{"X-Amz-Meta-A", "  a   b  "}};
    sign("GET", "/k", NULL, 0, h, 1, EMPTY_SHA, &o);
    assert_non_null(strstr(o.canonical_request, "\nx-amz-meta-a:a b\n"));
    st_sigv4_out_free(&o);
}

/* --sign-json: signs each request of a JSON array read from stdin and
 * prints one Authorization header per line (for s3/sigv4_compare.js). */
static int sign_json(void)
{
    json_error_t err;
    json_t *arr = json_loadf(stdin, 0, &err);
    if (!json_is_array(arr)) {
        fprintf(stderr, "sign-json: bad input: %s\n", err.text);
        return 2;
    }
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        json_t *q = json_object_get(c, "query"), *h = json_object_get(c, "headers");
        size_t nq = json_array_size(q), nh = json_array_size(h);
        st_kv *qs = calloc(nq + 1, sizeof *qs), *hs = calloc(nh + 1, sizeof *hs);
        for (size_t k = 0; k < nq; k++) {
            json_t *p = json_array_get(q, k);
            qs[k].name = json_string_value(json_array_get(p, 0));
            qs[k].value = json_string_value(json_array_get(p, 1));   /* NULL for a bare name */
        }
        for (size_t k = 0; k < nh; k++) {
            json_t *p = json_array_get(h, k);
            hs[k].name = json_string_value(json_array_get(p, 0));
            hs[k].value = json_string_value(json_array_get(p, 1));
        }
#define S(k) json_string_value(json_object_get(c, k))
        st_sigv4_req r = {S("method"), S("host"), S("path"), qs, nq, hs, nh, S("payload"), S("date"),
                          S("region"), S("service"), S("access_key"), S("secret_key"), S("token")};
#undef S
        st_sigv4_out o;
        st_sigv4_sign(&r, &o);
        printf("%s\n", o.authorization);
        st_sigv4_out_free(&o);
        free(qs);
        free(hs);
    }
    json_decref(arr);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--sign-json")) return sign_json();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_object),
        cmocka_unit_test(put_object),
        cmocka_unit_test(get_lifecycle),
        cmocka_unit_test(list_objects),
        cmocka_unit_test(encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
