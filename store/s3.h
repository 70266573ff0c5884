/* store/s3.h: the S3/R2 client's configuration and its SigV4 signer, exposed
 * so tests can check the signer against published vectors and the AWS SDK. */
#ifndef STRAYLIGHT_STORE_S3_H
#define STRAYLIGHT_STORE_S3_H

#include "store/backend.h"

#include <stdint.h>
#include <time.h>

struct st_s3_config {
    char *bucket;
    char *endpoint;          /* "https://host[:port]" ; NULL: AWS for region */
    char *region;            /* "auto" for R2; default us-east-1 */
    char *prefix;            /* key prefix inside the bucket ("" or "dir/") */
    bool path_style;         /* endpoint/bucket/key rather than bucket.endpoint/key */
    char *access_key, *secret_key, *session_token;
    uint64_t part_size;      /* multipart part size (>= 5 MiB unless testing) */
    uint64_t multipart_threshold;
    int retries;             /* attempts after the first */
    long backoff_ms;         /* first retry delay, doubled each time */
    long timeout_s;          /* a transfer making no progress this long fails */
    bool unsigned_payload;   /* sign UNSIGNED-PAYLOAD instead of hashing bodies */
    int parallel;            /* multipart parts in flight at once (default 4) */
    int max_keys;            /* ListObjectsV2 page size (0: the server's default) */
};

/* Parses "s3://bucket[/prefix]?endpoint=..&region=..&..." and reads the
 * credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN) or the shared credentials file (AWS_SHARED_CREDENTIALS_FILE
 * or ~/.aws/credentials, profile AWS_PROFILE or ?profile=). */
bool st_s3_config_parse(const char *url, st_s3_config *cfg, ut_err *e);
void st_s3_config_free(st_s3_config *cfg);

/* One request to sign. Path, query and header values are raw (unencoded);
 * the signer does all the encoding and the sorting. */
typedef struct st_kv {
    const char *name, *value;
} st_kv;

typedef struct st_sigv4_req {
    const char *method;
    const char *host;                /* with ":port" when not the scheme default */
    const char *path;                /* raw: "/bucket/some key" */
    const st_kv *query;              /* raw names/values; value NULL means a bare "?name" */
    size_t nquery;
    const st_kv *headers;            /* extra headers to sign, any case */
    size_t nheaders;
    const char *payload_hash;        /* hex sha256 of the body, or "UNSIGNED-PAYLOAD" */
    const char *amz_date;            /* "20130524T000000Z" */
    const char *region, *service;
    const char *access_key, *secret_key, *session_token;
} st_sigv4_req;

typedef struct st_sigv4_out {
    char *canonical_request;
    char *string_to_sign;
    char *authorization;             /* value of the Authorization header */
    char *query;                     /* canonical query, for the URL ("" if none) */
    char *path;                      /* encoded path, for the URL */
    char signature[65];
} st_sigv4_out;

void st_sigv4_sign(const st_sigv4_req *r, st_sigv4_out *out);
void st_sigv4_out_free(st_sigv4_out *out);
/* RFC 3986 unreserved characters stay; everything else becomes %XX (upper
 * case); '/' stays only when keep_slash (paths). */
void st_uri_encode(ut_buf *b, const char *s, size_t n, bool keep_slash);
void st_amz_date(time_t t, char out[17]);

#endif
