/* S3/R2 backend on libcurl: SigV4 (sigv4.c), streaming bodies read with
 * pread, multipart uploads for large objects, conditional puts, retries with
 * exponential backoff, resumable ranged gets, ListObjectsV2 with
 * continuation. Addressing is path-style when an endpoint is given (R2,
 * MinIO, s3rver), virtual-hosted for AWS itself. */
#include "store/s3.h"

#include "store/lazy_curl.h"
#include "compat/hash.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct s3_be {
    st_backend base;
    st_s3_config cfg;
    CURL *curl;
    char *scheme_host;     /* "https://host:port" as used in URLs */
    char *host;            /* as sent in Host: and signed */
    char *base_path;       /* "/bucket" for path style, "" otherwise */
} s3_be;

/* ---------- small helpers ---------- */

static void hexs(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

/* Finds the next <tag>text</tag> at or after *pos; returns a heap string
 * with the XML entities decoded, or NULL. */
static char *xml_next(const char *xml, size_t len, const char *tag, size_t *pos)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *s = memmem(xml + *pos, len - *pos, open, strlen(open));
    if (!s) return NULL;
    s += strlen(open);
    const char *t = memmem(s, len - (size_t)(s - xml), close, strlen(close));
    if (!t) return NULL;
    *pos = (size_t)(t - xml) + strlen(close);
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "");
    for (const char *p = s; p < t; p++) {
        if (*p != '&') {
            ut_buf_putc(&b, *p);
            continue;
        }
        static const struct { const char *ent; char c; } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
        };
        bool done = false;
        for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
            size_t n = strlen(ents[i].ent);
            if ((size_t)(t - p) >= n && !memcmp(p, ents[i].ent, n)) {
                ut_buf_putc(&b, ents[i].c);
                p += n - 1;
                done = true;
                break;
            }
        }
        if (!done && p + 2 < t && p[1] == '#') {
            const char *q = p + 2;
            int base = 10;
            if (*q == 'x') {
                base = 16;
                q++;
            }
            char *end;
            long v = strtol(q, &end, base);
            if (end < t && *end == ';' && v > 0 && v < 128) {
                ut_buf_putc(&b, (char)v);
                p = end;
                done = true;
            }
        }
        if (!done) ut_buf_putc(&b, '&');
    }
    return ut_buf_steal(&b, NULL);
}

/* "2024-01-02T03:04:05.000Z" as ListObjectsV2 gives it; 0 if unreadable. */
static int64_t iso8601(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* ---------- one HTTP exchange ---------- */

typedef struct xfer {
    s3_be *s3;
    CURL *curl;          /* the handle this transfer runs on (NULL: s3->curl) */
    uint64_t range_start; /* the Range this attempt asked for (0: none) */
    /* request body */
    const st_src *src;
    uint64_t body_off, body_len, body_pos;
    const char *mem_body;          /* small in-memory bodies (XML) */
    /* response */
    st_sink_fn sink;
    void *sink_ctx;
    uint64_t delivered;
    bool sink_failed;
    ut_err sink_err;
    ut_buf errbody;                /* body of a non-2xx answer */
    ut_buf okbody;                 /* body of a 2xx answer when no sink */
    char *etag;
    uint64_t content_length;
    bool have_length;
    int64_t last_modified;
} xfer;

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    size_t want = size * nitems;
    uint64_t left = x->body_len - x->body_pos;
    if (want > left) want = (size_t)left;
    if (!want) return 0;
    if (x->mem_body) {
        memcpy(buf, x->mem_body + x->body_pos, want);
    } else {
        ut_err e = UT_ERR_INIT;
        if (!st_src_read(x->src, x->body_off + x->body_pos, buf, want, &e)) {
            ut_err_clear(&e);
            return CURL_READFUNC_ABORT;
        }
    }
    x->body_pos += want;
    return want;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    xfer *x = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->body_len) return CURL_SEEKFUNC_FAIL;
    x->body_pos = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code >= 300) {
        if (x->errbody.len < 65536) ut_buf_append(&x->errbody, p, n);
        return n;
    }
    if (!x->sink) {
        ut_buf_append(&x->okbody, p, n);
        return n;
    }
    if (x->range_start && code == 200) {
        /* A resumed read answered from byte 0: appending would corrupt it. */
        ut_err_set(&x->sink_err, "the server ignored the Range of a resumed read");
        x->sink_failed = true;
        return 0;
    }
    if (!x->sink(x->sink_ctx, p, n, &x->sink_err)) {
        x->sink_failed = true;
        return 0;
    }
    x->delivered += n;
    return n;
}

static size_t on_header(char *p, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    size_t n = size * nitems;
    if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
        /* A new response (after a redirect or 100): forget the old headers. */
        free(x->etag);
        x->etag = NULL;
        x->have_length = false;
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon) return n;
    size_t nl = (size_t)(colon - p);
    const char *v = colon + 1;
    const char *end = p + n;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    if (nl == 4 && !strncasecmp(p, "etag", 4)) {
        free(x->etag);
        x->etag = ut_xstrndup(v, (size_t)(end - v));
    } else if (nl == 14 && !strncasecmp(p, "content-length", 14)) {
        char *tmp = ut_xstrndup(v, (size_t)(end - v));
        x->content_length = strtoull(tmp, NULL, 10);
        x->have_length = true;
        free(tmp);
    } else if (nl == 13 && !strncasecmp(p, "last-modified", 13)) {
        char *tmp = ut_xstrndup(v, (size_t)(end - v));
        x->last_modified = (int64_t)curl_getdate(tmp, NULL);
        free(tmp);
    }
    return n;
}

typedef struct req {
    const char *method;
    const char *key;               /* NULL: the bucket itself */
    const st_kv *query;
    size_t nquery;
    const st_kv *headers;          /* signed extra headers */
    size_t nheaders;
    /* body: a range of src, or mem_body */
    const st_src *src;
    uint64_t off, len;
    const char *mem_body;
    const uint8_t *body_sha256;    /* known hash of the body, if any */
    bool resume_get;               /* GET: resume with Range after a cut */
    uint64_t get_offset;
} req;

static void free_xfer(xfer *x)
{
    ut_buf_free(&x->errbody);
    ut_buf_free(&x->okbody);
    ut_err_clear(&x->sink_err);
    free(x->etag);
}

static bool body_hash(const req *r, char out[65], ut_err *e)
{
    unsigned char d[32];
    if (r->body_sha256) {
        hexs(r->body_sha256, 32, out);
        return true;
    }
    if (r->mem_body) {
        SHA256((const unsigned char *)r->mem_body, (size_t)r->len, d);
        hexs(d, 32, out);
        return true;
    }
    if (!r->src) {
        SHA256((const unsigned char *)"", 0, d);
        hexs(d, 32, out);
        return true;
    }
    nc_hasher *c = nc_hasher_new(NC_HASH_SHA256);
    char *buf = ut_xmalloc(1 << 20);
    for (uint64_t done = 0; done < r->len;) {
        size_t n = r->len - done > (1 << 20) ? (1 << 20) : (size_t)(r->len - done);
        if (!st_src_read(r->src, r->off + done, buf, n, e)) {
            free(buf);
            nc_hasher_free(c);
            return false;
        }
        nc_hasher_update(c, buf, n);
        done += n;
    }
    free(buf);
    nc_hash h;
    nc_hasher_finish(c, &h);
    hexs(h.bytes, 32, out);
    return true;
}

static bool retryable_status(long code)
{
    return code == 500 || code == 502 || code == 503 || code == 504 || code == 429 || code == 408;
}

/* Performs the request with retries; *status gets the final HTTP status (0
 * when no answer). Returns false only for transport failures and sink
 * errors; HTTP errors are left to the caller, with the body in x->errbody. */
static bool perform(s3_be *s3, const req *r, xfer *x, long *status, ut_err *e)
{
    char payload[65];
    if (s3->cfg.unsigned_payload && (r->src || r->mem_body))
        strcpy(payload, "UNSIGNED-PAYLOAD");
    else if (!body_hash(r, payload, e))
        return false;

    ut_buf keypath = UT_BUF_INIT;
    ut_buf_printf(&keypath, "%s/%s%s", s3->base_path, r->key ? s3->cfg.prefix : "", r->key ? r->key : "");
    long delay = s3->cfg.backoff_ms;
    ut_buf lasterr = UT_BUF_INIT;
    bool ok = false;
    for (int attempt = 0;; attempt++) {
        /* Fresh per-attempt response state; a resumed GET keeps `delivered`. */
        ut_buf_clear(&x->errbody);
        ut_buf_clear(&x->okbody);
        x->body_pos = 0;
        x->body_off = r->off;
        x->body_len = r->len;
        x->src = r->src;
        x->mem_body = r->mem_body;

        st_kv hdrs[16];
        size_t nh = 0;
        for (size_t i = 0; i < r->nheaders && nh < 14; i++) hdrs[nh++] = r->headers[i];
        char range[64];
        uint64_t start = r->get_offset + x->delivered;
        x->range_start = 0;
        if (r->resume_get && start > 0) {
            snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)start);
            hdrs[nh++] = (st_kv){"range", range};
            x->range_start = start;
        }
        char date[17];
        st_amz_date(time(NULL), date);
        st_sigv4_req sr = {
            r->method, s3->host, keypath.data, r->query, r->nquery, hdrs, nh, payload, date,
            s3->cfg.region, "s3", s3->cfg.access_key, s3->cfg.secret_key, s3->cfg.session_token,
        };
        st_sigv4_out so;
        st_sigv4_sign(&sr, &so);

        ut_buf url = UT_BUF_INIT;
        ut_buf_printf(&url, "%s%s%s%s", s3->scheme_host, so.path, so.query[0] ? "?" : "", so.query);
        struct curl_slist *hl = NULL;
        ut_buf line = UT_BUF_INIT;
#define ADDH(...)                                   \
    do {                                            \
        ut_buf_clear(&line);                        \
        ut_buf_printf(&line, __VA_ARGS__);          \
        hl = curl_slist_append(hl, line.data);      \
    } while (0)
        ADDH("Authorization: %s", so.authorization);
        ADDH("x-amz-date: %s", date);
        ADDH("x-amz-content-sha256: %s", payload);
        if (s3->cfg.session_token) ADDH("x-amz-security-token: %s", s3->cfg.session_token);
        for (size_t i = 0; i < nh; i++) ADDH("%s: %s", hdrs[i].name, hdrs[i].value);
        hl = curl_slist_append(hl, "Expect:");           /* R2 rejects 100-continue */
        hl = curl_slist_append(hl, "Accept:");
        if (r->mem_body || (!strcmp(r->method, "POST"))) hl = curl_slist_append(hl, "Content-Type: application/xml");
#undef ADDH
        if (!x->curl) x->curl = s3->curl;
        CURL *c = x->curl;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url.data);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s3->cfg.timeout_s);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s3->cfg.timeout_s);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "straylight");
        if (!strcmp(r->method, "GET")) {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else if (!strcmp(r->method, "HEAD")) {
            curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (!strcmp(r->method, "PUT")) {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, x);
            curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
        } else if (!strcmp(r->method, "POST")) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, x);
            curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
            curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
        } else {
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
        }
        x->have_length = false;
        CURLcode cc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(hl);
        ut_buf_free(&line);
        ut_buf_free(&url);
        st_sigv4_out_free(&so);

        if (x->sink_failed) {
            if (e) {
                e->msg = x->sink_err.msg;
                x->sink_err.msg = NULL;
            }
            break;
        }
        bool transport_ok = cc == CURLE_OK;
        ut_buf_clear(&lasterr);
        if (cc == CURLE_PARTIAL_FILE) {
            ut_buf_printf(&lasterr, "truncated: the connection closed %llu bytes into the object",
                          (unsigned long long)(r->get_offset + x->delivered));
        } else if (!transport_ok) {
            ut_buf_printf(&lasterr, "%s", curl_easy_strerror(cc));
        } else if (retryable_status(code)) {
            ut_buf_printf(&lasterr, "HTTP %ld", code);
        } else {
            *status = code;
            ok = true;
            break;
        }
        if (attempt >= s3->cfg.retries) {
            *status = transport_ok ? code : 0;
            ut_err_set(e, "s3://%s: %s %s: %s (after %d attempts)", s3->cfg.bucket, r->method,
                       r->key ? r->key : "/", lasterr.data, attempt + 1);
            break;
        }
        /* Back off with jitter so concurrent clients spread out. */
        unsigned seed = (unsigned)(uintptr_t)x ^ (unsigned)attempt ^ (unsigned)time(NULL);
        long ms = delay + (delay > 1 ? rand_r(&seed) % (delay / 2 + 1) : 0);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        delay *= 2;
        if (delay > 20000) delay = 20000;
    }
    ut_buf_free(&lasterr);
    ut_buf_free(&keypath);
    return ok;
}

static bool http_error(s3_be *s3, const char *what, const char *key, long code, xfer *x, ut_err *e)
{
    size_t pos = 0;
    char *ecode = x->errbody.len ? xml_next(x->errbody.data, x->errbody.len, "Code", &pos) : NULL;
    pos = 0;
    char *emsg = x->errbody.len ? xml_next(x->errbody.data, x->errbody.len, "Message", &pos) : NULL;
    ut_err_set(e, "s3://%s: %s '%s': HTTP %ld%s%s%s%s", s3->cfg.bucket, what, key ? key : "/", code,
               ecode ? " " : "", ecode ? ecode : "", emsg ? ": " : "", emsg ? emsg : "");
    free(ecode);
    free(emsg);
    return false;
}

/* ---------- backend operations ---------- */

static bool s3_get(st_backend *be, const char *key, uint64_t offset, st_sink_fn sink, void *ctx, bool *missing,
                   ut_err *e)
{
    s3_be *s3 = (s3_be *)be;
    if (missing) *missing = false;
    xfer x = {0};
    x.s3 = s3;
    x.sink = sink;
    x.sink_ctx = ctx;
    req r = {0};
    r.method = "GET";
    r.key = key;
    r.resume_get = true;
    r.get_offset = offset;
    long code = 0;
    bool ok = false;
    /* A body cut short is resumed from where it stopped (Range), so a flaky
     * link costs only the missing bytes; the store verifies the hash. */
    for (int cut = 0;; cut++) {
        uint64_t before = x.delivered;
        if (!perform(s3, &r, &x, &code, e)) break;
        if (code == 404) {
            if (missing) *missing = true;
            http_error(s3, "reading", key, code, &x, e);
            break;
        }
        if (code == 416 && x.delivered > 0) {
            ok = true;   /* nothing left past the resume point */
            break;
        }
        if (code != 200 && code != 206) {
            http_error(s3, "reading", key, code, &x, e);
            break;
        }
        if (x.have_length && x.delivered - before < x.content_length) {
            if (cut < s3->cfg.retries) continue;
            ut_err_set(e, "s3://%s: reading '%s': truncated after %llu bytes", s3->cfg.bucket, key,
                       (unsigned long long)(offset + x.delivered));
            break;
        }
        ok = true;
        break;
    }
    free_xfer(&x);
    return ok;
}

static int s3_head(s3_be *s3, const char *key, uint64_t *size, int64_t *mtime, ut_err *e)
{
    xfer x = {0};
    x.s3 = s3;
    req r = {0};
    r.method = "HEAD";
    r.key = key;
    long code = 0;
    int res = -1;
    if (perform(s3, &r, &x, &code, e)) {
        if (code == 200) {
            if (size) *size = x.content_length;
            if (mtime) *mtime = x.last_modified;
            res = 1;
        } else if (code == 404) {
            res = 0;
        } else {
            http_error(s3, "looking up", key, code, &x, e);
        }
    }
    free_xfer(&x);
    return res;
}

static int s3_has(st_backend *be, const char *key, uint64_t *size, ut_err *e)
{
    return s3_head((s3_be *)be, key, size, NULL, e);
}

static st_put_result put_single(s3_be *s3, const char *key, const st_src *src, int flags, ut_err *e)
{
    xfer x = {0};
    x.s3 = s3;
    req r = {0};
    r.method = "PUT";
    r.key = key;
    r.src = src;
    r.off = 0;
    r.len = src->len;
    r.body_sha256 = src->sha256;
    st_kv h[1] = {{"if-none-match", "*"}};
    if (flags & ST_PUT_IF_ABSENT) {
        r.headers = h;
        r.nheaders = 1;
    }
    long code = 0;
    st_put_result res = ST_PUT_ERROR;
    if (perform(s3, &r, &x, &code, e)) {
        if (code == 200 || code == 201 || code == 204) res = ST_PUT_WRITTEN;
        else if (code == 412 && (flags & ST_PUT_IF_ABSENT)) res = ST_PUT_EXISTED;
        else http_error(s3, "writing", key, code, &x, e);
    }
    free_xfer(&x);
    return res;
}

static void abort_upload(s3_be *s3, const char *key, const char *upload_id)
{
    xfer x = {0};
    x.s3 = s3;
    st_kv q[1] = {{"uploadId", upload_id}};
    req r = {0};
    r.method = "DELETE";
    r.key = key;
    r.query = q;
    r.nquery = 1;
    long code = 0;
    ut_err e = UT_ERR_INIT;
    perform(s3, &r, &x, &code, &e);
    ut_err_clear(&e);
    free_xfer(&x);
}

typedef struct part_job {
    s3_be *s3;
    const char *key;
    const st_src *src;
    const char *upload_id;
    uint64_t part, nparts;
    char **etags;
    pthread_mutex_t mu;
    uint64_t next;
    bool failed;
    ut_err err;          /* the first failure */
} part_job;

static void *part_worker(void *arg)
{
    part_job *j = arg;
    s3_be *s3 = j->s3;
    CURL *curl = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&j->mu);
        uint64_t i = j->next++;
        bool stop = j->failed || i >= j->nparts || !curl;
        if (!curl && !j->failed) {
            j->failed = true;
            ut_err_set(&j->err, "s3://%s: cannot initialise libcurl", s3->cfg.bucket);
        }
        pthread_mutex_unlock(&j->mu);
        if (stop) break;
        char num[24];
        snprintf(num, sizeof num, "%llu", (unsigned long long)(i + 1));
        st_kv q[2] = {{"partNumber", num}, {"uploadId", j->upload_id}};
        xfer px = {0};
        px.s3 = s3;
        px.curl = curl;
        req pr = {0};
        pr.method = "PUT";
        pr.key = j->key;
        pr.query = q;
        pr.nquery = 2;
        pr.src = j->src;
        pr.off = i * j->part;
        pr.len = (i + 1 == j->nparts) ? j->src->len - i * j->part : j->part;
        long code = 0;
        ut_err e = UT_ERR_INIT;
        bool ok = true;
        if (!perform(s3, &pr, &px, &code, &e)) ok = false;
        else if (code != 200) ok = http_error(s3, "uploading a part of", j->key, code, &px, &e);
        else if (!px.etag) ok = ut_err_set(&e, "s3://%s: uploading part %s of '%s': no ETag in the answer", s3->cfg.bucket, num, j->key);
        pthread_mutex_lock(&j->mu);
        if (ok) {
            j->etags[i] = px.etag;
            px.etag = NULL;
        } else if (!j->failed) {
            j->failed = true;
            j->err.msg = e.msg;
            e.msg = NULL;
        }
        pthread_mutex_unlock(&j->mu);
        ut_err_clear(&e);
        free_xfer(&px);
    }
    if (curl) curl_easy_cleanup(curl);
    return NULL;
}

/* Equal parts of part_size (the last may be shorter), at most 10000 of them:
 * grow the part size when the object would need more. */
static st_put_result put_multipart(s3_be *s3, const char *key, const st_src *src, int flags, ut_err *e)
{
    uint64_t part = s3->cfg.part_size;
    while ((src->len + part - 1) / part > 10000) part *= 2;
    uint64_t nparts = src->len ? (src->len + part - 1) / part : 1;

    xfer x = {0};
    x.s3 = s3;
    st_kv q1[1] = {{"uploads", NULL}};
    req r = {0};
    r.method = "POST";
    r.key = key;
    r.query = q1;
    r.nquery = 1;
    r.mem_body = "";
    long code = 0;
    if (!perform(s3, &r, &x, &code, e)) {
        free_xfer(&x);
        return ST_PUT_ERROR;
    }
    if (code != 200) {
        http_error(s3, "starting the upload of", key, code, &x, e);
        free_xfer(&x);
        return ST_PUT_ERROR;
    }
    size_t pos = 0;
    char *upload_id = xml_next(x.okbody.data ? x.okbody.data : "", x.okbody.len, "UploadId", &pos);
    free_xfer(&x);
    if (!upload_id) {
        ut_err_set(e, "s3://%s: starting the upload of '%s': no UploadId in the answer", s3->cfg.bucket, key);
        return ST_PUT_ERROR;
    }

    char **etags = ut_xcalloc(nparts, sizeof *etags);
    part_job job = {s3, key, src, upload_id, part, nparts, etags, PTHREAD_MUTEX_INITIALIZER, 0, false, UT_ERR_INIT};
    /* Parts go up in parallel, each worker on its own connection. */
    size_t nw = s3->cfg.parallel < 1 ? 1 : (size_t)s3->cfg.parallel;
    if (nw > nparts) nw = (size_t)nparts;
    pthread_t *tids = ut_xcalloc(nw, sizeof *tids);
    bool *started = ut_xcalloc(nw, sizeof *started);
    for (size_t w = 1; w < nw; w++) started[w] = pthread_create(&tids[w], NULL, part_worker, &job) == 0;
    part_worker(&job);
    for (size_t w = 1; w < nw; w++)
        if (started[w]) pthread_join(tids[w], NULL);
    free(tids);
    free(started);
    pthread_mutex_destroy(&job.mu);
    bool ok = !job.failed;
    if (!ok && e) {
        e->msg = job.err.msg;
        job.err.msg = NULL;
    }
    ut_err_clear(&job.err);
    st_put_result res = ST_PUT_ERROR;
    if (ok) {
        ut_buf body = UT_BUF_INIT;
        ut_buf_puts(&body, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        for (uint64_t i = 0; i < nparts; i++)
            ut_buf_printf(&body, "<Part><PartNumber>%llu</PartNumber><ETag>%s</ETag></Part>",
                          (unsigned long long)(i + 1), etags[i]);
        ut_buf_puts(&body, "</CompleteMultipartUpload>");
        st_kv q[1] = {{"uploadId", upload_id}};
        st_kv h[1] = {{"if-none-match", "*"}};
        xfer cx = {0};
        cx.s3 = s3;
        req cr = {0};
        cr.method = "POST";
        cr.key = key;
        cr.query = q;
        cr.nquery = 1;
        cr.mem_body = body.data;
        cr.len = body.len;
        if (flags & ST_PUT_IF_ABSENT) {
            cr.headers = h;
            cr.nheaders = 1;
        }
        if (perform(s3, &cr, &cx, &code, e)) {
            /* S3 can answer 200 with an <Error> body to a completion. */
            bool body_err = cx.okbody.len && memmem(cx.okbody.data, cx.okbody.len, "<Error>", 7);
            if (code == 200 && !body_err) {
                res = ST_PUT_WRITTEN;
            } else if (code == 412 && (flags & ST_PUT_IF_ABSENT)) {
                res = ST_PUT_EXISTED;
            } else {
                if (body_err) ut_buf_append(&cx.errbody, cx.okbody.data, cx.okbody.len);
                http_error(s3, "completing the upload of", key, code, &cx, e);
            }
        }
        free_xfer(&cx);
        ut_buf_free(&body);
    }
    if (res != ST_PUT_WRITTEN) abort_upload(s3, key, upload_id);
    for (uint64_t i = 0; i < nparts; i++) free(etags[i]);
    free(etags);
    free(upload_id);
    return res;
}

static st_put_result s3_put(st_backend *be, const char *key, const st_src *src, int flags, ut_err *e)
{
    s3_be *s3 = (s3_be *)be;
    if (flags & ST_PUT_IF_ABSENT) {
        /* The HEAD saves an upload when the object is already there; the
         * If-None-Match on the write itself decides any race. */
        int h = s3_head(s3, key, NULL, NULL, e);
        if (h < 0) return ST_PUT_ERROR;
        if (h == 1) return ST_PUT_EXISTED;
    }
    if (src->len > s3->cfg.multipart_threshold) return put_multipart(s3, key, src, flags, e);
    return put_single(s3, key, src, flags, e);
}

static bool s3_list(st_backend *be, const char *prefix,
                    bool (*cb)(void *ctx, const char *key, uint64_t size, int64_t mtime), void *ctx, ut_err *e)
{
    s3_be *s3 = (s3_be *)be;
    ut_buf full = UT_BUF_INIT;
    ut_buf_printf(&full, "%s%s", s3->cfg.prefix, prefix);
    size_t strip = strlen(s3->cfg.prefix);
    char *token = NULL;
    bool ok = true, stop = false;
    while (ok && !stop) {
        char mk[16];
        snprintf(mk, sizeof mk, "%d", s3->cfg.max_keys);
        st_kv q[4] = {{"list-type", "2"}, {"prefix", full.data}, {"max-keys", mk}, {"continuation-token", token}};
        if (!s3->cfg.max_keys) q[2] = q[3];
        xfer x = {0};
        x.s3 = s3;
        req r = {0};
        r.method = "GET";
        r.query = q;
        r.nquery = (token ? 3 : 2) + (s3->cfg.max_keys ? 1 : 0);
        long code = 0;
        if (!perform(s3, &r, &x, &code, e)) {
            ok = false;
        } else if (code != 200) {
            ok = http_error(s3, "listing", prefix, code, &x, e);
        } else {
            const char *xml = x.okbody.data ? x.okbody.data : "";
            size_t len = x.okbody.len, pos = 0;
            /* Walk the raw XML: each <Contents> holds Key, LastModified, Size. */
            pos = 0;
            for (;;) {
                const char *s = memmem(xml + pos, len - pos, "<Contents>", 10);
                if (!s) break;
                const char *t = memmem(s, len - (size_t)(s - xml), "</Contents>", 11);
                if (!t) break;
                size_t blen = (size_t)(t - s), bp = 0;
                char *k = xml_next(s, blen, "Key", &bp);
                bp = 0;
                char *sz = xml_next(s, blen, "Size", &bp);
                bp = 0;
                char *lm = xml_next(s, blen, "LastModified", &bp);
                if (k && strlen(k) >= strip) {
                    int64_t mt = lm ? iso8601(lm) : 0;
                    if (!cb(ctx, k + strip, sz ? strtoull(sz, NULL, 10) : 0, mt < 0 ? 0 : mt)) stop = true;
                }
                free(k);
                free(sz);
                free(lm);
                pos = (size_t)(t - xml) + 11;
                if (stop) break;
            }
            pos = 0;
            char *trunc = xml_next(xml, len, "IsTruncated", &pos);
            pos = 0;
            char *next = xml_next(xml, len, "NextContinuationToken", &pos);
            free(token);
            token = NULL;
            if (trunc && !strcmp(trunc, "true") && next && *next) token = next;
            else free(next);
            free(trunc);
            if (!token) stop = true;
        }
        free_xfer(&x);
    }
    free(token);
    ut_buf_free(&full);
    return ok;
}

static bool s3_del(st_backend *be, const char *key, ut_err *e)
{
    s3_be *s3 = (s3_be *)be;
    xfer x = {0};
    x.s3 = s3;
    req r = {0};
    r.method = "DELETE";
    r.key = key;
    long code = 0;
    bool ok = perform(s3, &r, &x, &code, e);
    if (ok && code != 204 && code != 200 && code != 404) ok = http_error(s3, "deleting", key, code, &x, e);
    free_xfer(&x);
    return ok;
}

static void s3_free(st_backend *be)
{
    s3_be *s3 = (s3_be *)be;
    if (s3->curl) curl_easy_cleanup(s3->curl);
    st_s3_config_free(&s3->cfg);
    free(s3->scheme_host);
    free(s3->host);
    free(s3->base_path);
    free(s3->base.url);
    free(s3);
}

static const st_backend_ops s3_ops = {
    "s3", s3_get, s3_put, s3_has, s3_list, s3_del, NULL, NULL, NULL, NULL, NULL, s3_free,
};

/* ---------- configuration ---------- */

static char *url_decode(const char *s, size_t n)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char t[3] = {s[i + 1], s[i + 2], 0};
            ut_buf_putc(&b, (char)strtol(t, NULL, 16));
            i += 2;
        } else {
            ut_buf_putc(&b, s[i] == '+' ? ' ' : s[i]);
        }
    }
    return ut_buf_steal(&b, NULL);
}

/* Reads [profile] from an AWS shared credentials file (INI). */
static void read_credentials_file(st_s3_config *cfg, const char *profile)
{
    const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
    ut_buf def = UT_BUF_INIT;
    if (!path) {
        const char *home = getenv("HOME");
        if (!home) return;
        ut_buf_printf(&def, "%s/.aws/credentials", home);
        path = def.data;
    }
    ut_buf text = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    if (ut_read_file(path, &text, &e)) {
        bool in = false;
        char *save = NULL;
        for (char *line = strtok_r(text.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            while (isspace((unsigned char)*line)) line++;
            char *end = line + strlen(line);
            while (end > line && isspace((unsigned char)end[-1])) *--end = 0;
            if (*line == '[') {
                char *close = strchr(line, ']');
                in = close && (size_t)(close - line - 1) == strlen(profile) && !strncmp(line + 1, profile, strlen(profile));
                continue;
            }
            if (!in || *line == '#' || *line == ';') continue;
            char *eq = strchr(line, '=');
            if (!eq) continue;
            char *k = line, *v = eq + 1;
            char *ke = eq;
            while (ke > k && isspace((unsigned char)ke[-1])) ke--;
            *ke = 0;
            while (isspace((unsigned char)*v)) v++;
            if (!strcmp(k, "aws_access_key_id") && !cfg->access_key) cfg->access_key = ut_xstrdup(v);
            else if (!strcmp(k, "aws_secret_access_key") && !cfg->secret_key) cfg->secret_key = ut_xstrdup(v);
            else if (!strcmp(k, "aws_session_token") && !cfg->session_token) cfg->session_token = ut_xstrdup(v);
        }
    }
    ut_err_clear(&e);
    if (text.data) OPENSSL_cleanse(text.data, text.len);
    ut_buf_free(&text);
    ut_buf_free(&def);
}

bool st_s3_config_parse(const char *url, st_s3_config *cfg, ut_err *e)
{
    memset(cfg, 0, sizeof *cfg);
    if (strncmp(url, "s3://", 5)) return ut_err_set(e, "'%s': not an s3:// URL", url);
    const char *p = url + 5;
    const char *q = strchr(p, '?');
    const char *end = q ? q : p + strlen(p);
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *bend = slash ? slash : end;
    if (bend == p) return ut_err_set(e, "'%s': no bucket name", url);
    cfg->bucket = ut_xstrndup(p, (size_t)(bend - p));
    ut_buf pre = UT_BUF_INIT;
    ut_buf_puts(&pre, "");
    if (slash && slash + 1 < end) {
        ut_buf_append(&pre, slash + 1, (size_t)(end - slash - 1));
        if (pre.data[pre.len - 1] != '/') ut_buf_putc(&pre, '/');
    }
    cfg->prefix = ut_buf_steal(&pre, NULL);
    cfg->part_size = 8u << 20;
    cfg->multipart_threshold = 64u << 20;
    cfg->retries = 5;
    cfg->backoff_ms = 200;
    cfg->timeout_s = 60;
    cfg->parallel = 4;
    char *profile = NULL;
    bool path_style_set = false;
    while (q && *q) {
        q++;
        const char *amp = strchr(q, '&');
        const char *pe = amp ? amp : q + strlen(q);
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        char *k = ut_xstrndup(q, (size_t)((eq ? eq : pe) - q));
        char *v = eq ? url_decode(eq + 1, (size_t)(pe - eq - 1)) : ut_xstrdup("");
        bool known = true;
        if (!strcmp(k, "endpoint")) {
            free(cfg->endpoint);
            cfg->endpoint = v;
            v = NULL;
        } else if (!strcmp(k, "region")) {
            free(cfg->region);
            cfg->region = v;
            v = NULL;
        } else if (!strcmp(k, "profile")) {
            free(profile);
            profile = v;
            v = NULL;
        } else if (!strcmp(k, "part-size")) {
            cfg->part_size = strtoull(v, NULL, 10);
        } else if (!strcmp(k, "multipart-threshold")) {
            cfg->multipart_threshold = strtoull(v, NULL, 10);
        } else if (!strcmp(k, "retries")) {
            cfg->retries = atoi(v);
        } else if (!strcmp(k, "backoff-ms")) {
            cfg->backoff_ms = atol(v);
        } else if (!strcmp(k, "timeout")) {
            cfg->timeout_s = atol(v);
        } else if (!strcmp(k, "addressing")) {
            cfg->path_style = !strcmp(v, "path");
            path_style_set = true;
        } else if (!strcmp(k, "parallel")) {
            cfg->parallel = atoi(v);
        } else if (!strcmp(k, "max-keys")) {
            cfg->max_keys = atoi(v);
        } else if (!strcmp(k, "payload")) {
            cfg->unsigned_payload = !strcmp(v, "unsigned");
        } else {
            known = false;
        }
        if (!known) {
            ut_err_set(e, "'%s': unknown S3 option '%s'", url, k);
            free(k);
            free(v);
            free(profile);
            st_s3_config_free(cfg);
            return false;
        }
        free(k);
        free(v);
        q = amp;
    }
    if (!cfg->region) cfg->region = ut_xstrdup(getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1");
    if (!path_style_set) cfg->path_style = cfg->endpoint != NULL || strchr(cfg->bucket, '.') != NULL;
    if (cfg->part_size < 1024 || cfg->retries < 0 || cfg->backoff_ms < 1 || cfg->timeout_s < 1) {
        free(profile);
        st_s3_config_free(cfg);
        return ut_err_set(e, "'%s': invalid part-size, retries, backoff-ms or timeout", url);
    }
    /* Credentials come from the environment or a file, never the URL. */
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    if (ak && sk && *ak && *sk) {
        cfg->access_key = ut_xstrdup(ak);
        cfg->secret_key = ut_xstrdup(sk);
        const char *tok = getenv("AWS_SESSION_TOKEN");
        if (tok && *tok) cfg->session_token = ut_xstrdup(tok);
    } else {
        const char *prof = profile ? profile : getenv("AWS_PROFILE");
        read_credentials_file(cfg, prof && *prof ? prof : "default");
    }
    free(profile);
    if (!cfg->access_key || !cfg->secret_key) {
        st_s3_config_free(cfg);
        return ut_err_set(e, "'%s': no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or "
                             "write them to ~/.aws/credentials", url);
    }
    return true;
}

void st_s3_config_free(st_s3_config *cfg)
{
    free(cfg->bucket);
    free(cfg->endpoint);
    free(cfg->region);
    free(cfg->prefix);
    free(cfg->access_key);
    if (cfg->secret_key) OPENSSL_cleanse(cfg->secret_key, strlen(cfg->secret_key));
    free(cfg->secret_key);
    free(cfg->session_token);
    memset(cfg, 0, sizeof *cfg);
}

st_backend *st_backend_s3(const st_s3_config *cfg, ut_err *e)
{
    static bool curl_ready;
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    s3_be *s3 = ut_xcalloc(1, sizeof *s3);
    s3->base.ops = &s3_ops;
    s3->cfg = *cfg;
    st_s3_config *c = &s3->cfg;
    c->bucket = ut_xstrdup(cfg->bucket);
    c->endpoint = cfg->endpoint ? ut_xstrdup(cfg->endpoint) : NULL;
    c->region = ut_xstrdup(cfg->region);
    c->prefix = ut_xstrdup(cfg->prefix ? cfg->prefix : "");
    c->access_key = ut_xstrdup(cfg->access_key);
    c->secret_key = ut_xstrdup(cfg->secret_key);
    c->session_token = cfg->session_token ? ut_xstrdup(cfg->session_token) : NULL;

    const char *scheme = "https", *hostport;
    ut_buf ep = UT_BUF_INIT;
    if (c->endpoint) {
        const char *s = c->endpoint;
        if (!strncmp(s, "http://", 7)) {
            scheme = "http";
            s += 7;
        } else if (!strncmp(s, "https://", 8)) {
            s += 8;
        }
        ut_buf_puts(&ep, s);
        while (ep.len && ep.data[ep.len - 1] == '/') ep.data[--ep.len] = 0;
        if (!ep.len || strchr(ep.data, '/')) {
            ut_err_set(e, "s3://%s: endpoint '%s' must be scheme://host[:port]", c->bucket, c->endpoint);
            ut_buf_free(&ep);
            s3_free(&s3->base);
            return NULL;
        }
    } else {
        ut_buf_printf(&ep, "s3.%s.amazonaws.com", strcmp(c->region, "us-east-1") ? c->region : "us-east-1");
    }
    hostport = ep.data;
    ut_buf h = UT_BUF_INIT, sh = UT_BUF_INIT;
    if (c->path_style) {
        ut_buf_puts(&h, hostport);
        ut_buf_printf(&sh, "/%s", c->bucket);
        s3->base_path = ut_buf_steal(&sh, NULL);
    } else {
        ut_buf_printf(&h, "%s.%s", c->bucket, hostport);
        s3->base_path = ut_xstrdup("");
    }
    s3->host = ut_buf_steal(&h, NULL);
    ut_buf u = UT_BUF_INIT;
    ut_buf_printf(&u, "%s://%s", scheme, s3->host);
    s3->scheme_host = ut_buf_steal(&u, NULL);
    ut_buf_free(&ep);
    ut_buf_free(&sh);
    ut_buf bu = UT_BUF_INIT;
    ut_buf_printf(&bu, "s3://%s/%s", c->bucket, c->prefix);
    s3->base.url = ut_buf_steal(&bu, NULL);
    s3->curl = curl_easy_init();
    if (!s3->curl) {
        ut_err_set(e, "s3://%s: cannot initialise libcurl", c->bucket);
        s3_free(&s3->base);
        return NULL;
    }
    return &s3->base;
}
