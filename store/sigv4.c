/* AWS Signature Version 4, written out rather than taken from libcurl: curl
 * 7.88's CURLOPT_AWS_SIGV4 leaves the query unsorted, keeps '/' unencoded in
 * query values and signs a bare "?uploads" wrongly. */
#include "store/s3.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

static void hmac(const void *key, size_t klen, const char *msg, size_t mlen, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &n);
}

void st_uri_encode(ut_buf *b, const char *s, size_t n, bool keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            ut_buf_putc(b, (char)c);
        } else {
            char t[3] = {'%', digits[c >> 4], digits[c & 15]};
            ut_buf_append(b, t, 3);
        }
    }
}

void st_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

typedef struct enc_pair {
    char *name, *value;
} enc_pair;

static int pair_cmp(const void *a, const void *b)
{
    const enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Header values: leading/trailing blanks trimmed, inner runs squeezed. */
static char *trim_value(const char *v)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "");
    const char *p = v;
    while (*p == ' ' || *p == '\t') p++;
    bool space = false;
    for (; *p; p++) {
        if (*p == ' ' || *p == '\t') {
            space = true;
            continue;
        }
        if (space && b.len) ut_buf_putc(&b, ' ');
        space = false;
        ut_buf_putc(&b, *p);
    }
    return ut_buf_steal(&b, NULL);
}

void st_sigv4_sign(const st_sigv4_req *r, st_sigv4_out *out)
{
    memset(out, 0, sizeof *out);
    /* Path: S3 signs the path encoded once, slashes kept. */
    ut_buf path = UT_BUF_INIT;
    ut_buf_puts(&path, "");
    st_uri_encode(&path, r->path, strlen(r->path), true);
    if (!path.len) ut_buf_putc(&path, '/');

    /* Query: encode each name and value, then sort by the encoded forms. */
    enc_pair *q = ut_xcalloc(r->nquery + 1, sizeof *q);
    for (size_t i = 0; i < r->nquery; i++) {
        ut_buf n = UT_BUF_INIT, v = UT_BUF_INIT;
        ut_buf_puts(&n, "");
        ut_buf_puts(&v, "");
        st_uri_encode(&n, r->query[i].name, strlen(r->query[i].name), false);
        if (r->query[i].value) st_uri_encode(&v, r->query[i].value, strlen(r->query[i].value), false);
        q[i].name = ut_buf_steal(&n, NULL);
        q[i].value = ut_buf_steal(&v, NULL);
    }
    qsort(q, r->nquery, sizeof *q, pair_cmp);
    ut_buf query = UT_BUF_INIT;
    ut_buf_puts(&query, "");
    for (size_t i = 0; i < r->nquery; i++)
        ut_buf_printf(&query, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);

    /* Headers: host, x-amz-content-sha256, x-amz-date, the token, extras. */
    size_t nh = r->nheaders + 4;
    enc_pair *h = ut_xcalloc(nh, sizeof *h);
    size_t k = 0;
    h[k].name = ut_xstrdup("host");
    h[k++].value = trim_value(r->host);
    h[k].name = ut_xstrdup("x-amz-content-sha256");
    h[k++].value = trim_value(r->payload_hash);
    h[k].name = ut_xstrdup("x-amz-date");
    h[k++].value = trim_value(r->amz_date);
    if (r->session_token) {
        h[k].name = ut_xstrdup("x-amz-security-token");
        h[k++].value = trim_value(r->session_token);
    }
    for (size_t i = 0; i < r->nheaders; i++) {
        char *n = ut_xstrdup(r->headers[i].name);
        for (char *c = n; *c; c++) *c = (char)tolower((unsigned char)*c);
        h[k].name = n;
        h[k++].value = trim_value(r->headers[i].value);
    }
    qsort(h, k, sizeof *h, pair_cmp);
    ut_buf canon_h = UT_BUF_INIT, signed_h = UT_BUF_INIT;
    ut_buf_puts(&canon_h, "");
    ut_buf_puts(&signed_h, "");
    for (size_t i = 0; i < k; i++) {
        /* Repeated names fold into one comma-separated line. */
        if (i && !strcmp(h[i].name, h[i - 1].name)) {
            canon_h.len--;
            ut_buf_printf(&canon_h, ",%s\n", h[i].value);
            continue;
        }
        ut_buf_printf(&canon_h, "%s:%s\n", h[i].name, h[i].value);
        ut_buf_printf(&signed_h, "%s%s", signed_h.len ? ";" : "", h[i].name);
    }

    ut_buf creq = UT_BUF_INIT;
    ut_buf_printf(&creq, "%s\n%s\n%s\n%s\n%s\n%s", r->method, path.data, query.data, canon_h.data, signed_h.data,
                  r->payload_hash);

    unsigned char d[32];
    char dhex[65];
    SHA256((const unsigned char *)creq.data, creq.len, d);
    hex(d, 32, dhex);
    char day[9];
    memcpy(day, r->amz_date, 8);
    day[8] = 0;
    ut_buf scope = UT_BUF_INIT;
    ut_buf_printf(&scope, "%s/%s/%s/aws4_request", day, r->region, r->service);
    ut_buf sts = UT_BUF_INIT;
    ut_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amz_date, scope.data, dhex);

    ut_buf k0 = UT_BUF_INIT;
    ut_buf_printf(&k0, "AWS4%s", r->secret_key);
    unsigned char kd[32], kr[32], ks[32], ksig[32], sig[32];
    hmac(k0.data, k0.len, day, 8, kd);
    hmac(kd, 32, r->region, strlen(r->region), kr);
    hmac(kr, 32, r->service, strlen(r->service), ks);
    hmac(ks, 32, "aws4_request", 12, ksig);
    hmac(ksig, 32, sts.data, sts.len, sig);
    hex(sig, 32, out->signature);
    OPENSSL_cleanse(k0.data, k0.len);
    OPENSSL_cleanse(kd, sizeof kd);
    OPENSSL_cleanse(ksig, sizeof ksig);

    ut_buf auth = UT_BUF_INIT;
    ut_buf_printf(&auth, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", r->access_key,
                  scope.data, signed_h.data, out->signature);

    out->canonical_request = ut_buf_steal(&creq, NULL);
    out->string_to_sign = ut_buf_steal(&sts, NULL);
    out->authorization = ut_buf_steal(&auth, NULL);
    out->query = ut_buf_steal(&query, NULL);
    out->path = ut_buf_steal(&path, NULL);
    for (size_t i = 0; i < r->nquery; i++) {
        free(q[i].name);
        free(q[i].value);
    }
    free(q);
    for (size_t i = 0; i < k; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
    ut_buf_free(&canon_h);
    ut_buf_free(&signed_h);
    ut_buf_free(&scope);
    ut_buf_free(&k0);
}

void st_sigv4_out_free(st_sigv4_out *out)
{
    free(out->canonical_request);
    free(out->string_to_sign);
    free(out->authorization);
    free(out->query);
    free(out->path);
    memset(out, 0, sizeof *out);
}
