/* store/attest.h: build attestations. An in-toto Statement v1 whose
 * subjects are the output store paths with their NAR sha256, wrapped in a
 * DSSE envelope signed with ed25519 over the PAE bytes, kept in a git
 * repository (one commit per attestation, referenced from
 * refs/attestations/<output hash part>/<envelope digest>) and pushable.
 *
 * The predicate (type ST_ATTEST_PREDICATE_TYPE) holds what COEFFECTS.md
 * lists: the action digest, the grade and the discharge records (opaque
 * JSON from drv/ and exec/), the executor, and for each output its NAR hash,
 * size, references and Nix fingerprint, so a narinfo signature follows. */
#ifndef STRAYLIGHT_STORE_ATTEST_H
#define STRAYLIGHT_STORE_ATTEST_H

#include "store/keys.h"
#include "store/store.h"

#define ST_INTOTO_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define ST_DSSE_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define ST_ATTEST_PREDICATE_TYPE "https://straylight.dev/attestation/build/v1"

typedef struct st_attest_input {
    const char *const *outputs;     /* output store paths (in the store) */
    size_t noutputs;
    const char *drv_path;           /* may be NULL */
    const char *action_digest;      /* "sha256:<hex>", may be NULL */
    const char *grade_json;         /* JSON object, or NULL ({}) */
    const char *discharge_json;     /* JSON array, or NULL ([]) */
    const char *executor_json;      /* JSON object, or NULL ({}) */
} st_attest_input;

/* The statement for in (subjects and outputs from the store's path info). */
bool st_attest_statement(st_store *st, const st_attest_input *in, char **json_out, ut_err *e);
/* DSSE: PAE(type, body) = "DSSEv1 <len(type)> <type> <len(body)> <body>". */
void st_dsse_pae(const char *type, const void *body, size_t n, ut_buf *out);
/* A DSSE envelope of payload signed by sk (keyid = the key's name). */
char *st_dsse_sign(const char *payload_type, const void *payload, size_t n, const st_secret_key *sk);
/* Checks an envelope: at least one signature by a trusted key over its PAE.
 * Gives the decoded payload. */
bool st_dsse_verify(const char *envelope, const st_trusted_keys *tk, ut_buf *payload, char **signer, ut_err *e);

/* Signs the statement for in and records it in the git repository at
 * repo_dir (created, bare, if missing). *ref_out (optional) gets the ref. */
bool st_attest_record(st_store *st, const char *repo_dir, const st_attest_input *in, const st_secret_key *sk,
                      char **ref_out, ut_err *e);

/* Checks every attestation recorded for path: envelope signed by a trusted
 * key, statement names path as a subject with the sha256 of the NAR the
 * store holds (and the store's blob hashes to it). *valid counts the good
 * ones; problems go to report_cb. True when at least one is valid and none
 * is bad. */
bool st_attest_verify(st_store *st, const char *repo_dir, const char *path, const st_trusted_keys *tk,
                      void (*report_cb)(void *ctx, const char *ref, const char *problem), void *ctx, size_t *valid,
                      ut_err *e);

/* Pushes every ref under refs/attestations/ to a remote (URL or path of a repository). */
bool st_attest_push(const char *repo_dir, const char *remote, ut_err *e);

/* $XDG_DATA_HOME/straylight/attestations.git, or store.conf "attestations". */
char *st_attest_default_repo(void);

#endif
