#include "store/attest.h"

#include "compat/hash.h"
#include "compat/storepath.h"
#include "store/blob.h"

#include "store/lazy_git2.h"
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void git_ready(void)
{
    static bool done;
    if (!done) {
        git_libgit2_init();
        done = true;
    }
}

static bool git_fail(ut_err *e, const char *what)
{
    const git_error *ge = git_error_last();
    return ut_err_set(e, "%s: %s", what, ge && ge->message ? ge->message : "libgit2 error");
}

char *st_attest_default_repo(void)
{
    char *conf = st_config_get("attestations");
    if (conf && *conf) return conf;
    free(conf);
    ut_buf b = UT_BUF_INIT;
    const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (x && *x) ut_buf_printf(&b, "%s/straylight/attestations.git", x);
    else ut_buf_printf(&b, "%s/.local/share/straylight/attestations.git", home && *home ? home : ".");
    return ut_buf_steal(&b, NULL);
}

static json_t *parse_or(const char *text, json_t *dflt, const char *what, ut_err *e)
{
    if (!text) return dflt;
    json_decref(dflt);
    json_error_t je;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &je);
    if (!j) ut_err_set(e, "attestation %s: invalid JSON: %s (line %d)", what, je.text, je.line);
    return j;
}

bool st_attest_statement(st_store *st, const st_attest_input *in, char **json_out, ut_err *e)
{
    if (!in->noutputs) return ut_err_set(e, "an attestation needs at least one output");
    json_t *grade = parse_or(in->grade_json, json_object(), "grade", e);
    json_t *dis = grade ? parse_or(in->discharge_json, json_array(), "discharge records", e) : NULL;
    json_t *exe = dis ? parse_or(in->executor_json, json_object(), "executor", e) : NULL;
    if (!grade || !dis || !exe) {
        json_decref(grade);
        json_decref(dis);
        return false;
    }
    json_t *subjects = json_array(), *outputs = json_array();
    bool ok = true;
    for (size_t i = 0; ok && i < in->noutputs; i++) {
        st_path_info *pi = NULL;
        int r = st_store_query(st, in->outputs[i], &pi, e);
        if (r == 0) ok = ut_err_set(e, "'%s' is not in %s", in->outputs[i], st_store_url(st));
        if (r <= 0) {
            ok = false;
            break;
        }
        char hex[NC_HASH_STR_MAX], n32[NC_HASH_STR_MAX];
        nc_hash_print(&pi->nar_hash, NC_HASH_BASE16, false, hex);
        nc_hash_print(&pi->nar_hash, NC_HASH_NIX32, true, n32);
        json_array_append_new(subjects, json_pack("{s:s, s:{s:s}}", "name", pi->path, "digest", "sha256", hex));
        ut_buf fp = UT_BUF_INIT;
        ok = st_path_info_fingerprint(st, pi, &fp, e);
        json_t *refs = json_array();
        for (size_t j = 0; j < pi->nrefs; j++) json_array_append_new(refs, json_string(pi->refs[j]));
        if (ok)
            json_array_append_new(outputs, json_pack("{s:s, s:s, s:I, s:o, s:s}", "path", pi->path, "narHash", n32,
                                                     "narSize", (json_int_t)pi->nar_size, "references", refs,
                                                     "fingerprint", fp.data));
        else json_decref(refs);
        ut_buf_free(&fp);
        st_path_info_free(pi);
    }
    if (ok) {
        json_t *pred = json_object();
        if (in->drv_path) json_object_set_new(pred, "derivation", json_string(in->drv_path));
        if (in->action_digest) json_object_set_new(pred, "actionDigest", json_string(in->action_digest));
        json_object_set_new(pred, "grade", grade);
        json_object_set_new(pred, "discharge", dis);
        json_object_set_new(pred, "executor", exe);
        json_object_set_new(pred, "outputs", outputs);
        json_t *stmt = json_pack("{s:s, s:o, s:s, s:o}", "_type", ST_INTOTO_STATEMENT_TYPE, "subject", subjects,
                                 "predicateType", ST_ATTEST_PREDICATE_TYPE, "predicate", pred);
        *json_out = json_dumps(stmt, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(stmt);
        return true;
    }
    json_decref(subjects);
    json_decref(outputs);
    json_decref(grade);
    json_decref(dis);
    json_decref(exe);
    return false;
}

void st_dsse_pae(const char *type, const void *body, size_t n, ut_buf *out)
{
    ut_buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(type), type, n);
    ut_buf_append(out, body, n);
}

static char *b64(const void *p, size_t n)
{
    char *s = ut_xmalloc(nc_base64_encoded_len(n) + 1);
    nc_base64_encode(p, n, s);
    return s;
}

char *st_dsse_sign(const char *payload_type, const void *payload, size_t n, const st_secret_key *sk)
{
    ut_buf pae = UT_BUF_INIT;
    st_dsse_pae(payload_type, payload, n, &pae);
    uint8_t sig[64];
    crypto_sign_detached(sig, NULL, (const unsigned char *)pae.data, pae.len, sk->sk);
    char *ps = b64(payload, n), *ss = b64(sig, 64);
    json_t *env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", payload_type, "payload", ps, "signatures",
                            "keyid", sk->name, "sig", ss);
    char *out = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    free(ps);
    free(ss);
    ut_buf_free(&pae);
    return out;
}

static bool unb64(const char *s, ut_buf *out)
{
    size_t n = strlen(s), got = 0;
    ut_buf_clear(out);
    ut_buf_reserve(out, nc_base64_decoded_max(n) + 1);
    if (!nc_base64_decode(s, n, (uint8_t *)out->data, &got)) return false;
    out->len = got;
    out->data[got] = 0;
    return true;
}

bool st_dsse_verify(const char *envelope, const st_trusted_keys *tk, ut_buf *payload, char **signer, ut_err *e)
{
    json_error_t je;
    json_t *env = json_loads(envelope, 0, &je);
    if (!env) return ut_err_set(e, "envelope is not JSON: %s", je.text);
    const char *type = json_string_value(json_object_get(env, "payloadType"));
    const char *pl = json_string_value(json_object_get(env, "payload"));
    json_t *sigs = json_object_get(env, "signatures");
    bool ok = false;
    if (!type || !pl || !json_is_array(sigs)) {
        ut_err_set(e, "envelope lacks payloadType, payload or signatures");
    } else if (!unb64(pl, payload)) {
        ut_err_set(e, "envelope payload is not base64");
    } else {
        ut_buf pae = UT_BUF_INIT;
        st_dsse_pae(type, payload->data, payload->len, &pae);
        size_t i;
        json_t *s;
        bool unknown_only = true;
        json_array_foreach(sigs, i, s) {
            const char *kid = json_string_value(json_object_get(s, "keyid"));
            const char *sg = json_string_value(json_object_get(s, "sig"));
            if (!kid || !sg) continue;
            /* Reuse Nix-style "name:base64" checking. */
            ut_buf nixsig = UT_BUF_INIT;
            ut_buf_printf(&nixsig, "%s:%s", kid, sg);
            st_sig_status st = st_verify(tk, pae.data, pae.len, nixsig.data, nixsig.len);
            ut_buf_free(&nixsig);
            if (st != ST_SIG_UNKNOWN_SIGNER) unknown_only = false;
            if (st == ST_SIG_VALID) {
                ok = true;
                if (signer) *signer = ut_xstrdup(kid);
                break;
            }
        }
        if (!ok) ut_err_set(e, "%s", unknown_only ? "signed only by keys that are not trusted" : "signature does not verify");
        if (ok && strcmp(type, ST_DSSE_PAYLOAD_TYPE)) ok = ut_err_set(e, "payloadType is '%s', not in-toto", type);
        ut_buf_free(&pae);
    }
    json_decref(env);
    return ok;
}

static git_repository *open_repo(const char *dir, bool create, ut_err *e)
{
    git_ready();
    git_repository *repo = NULL;
    if (git_repository_open(&repo, dir) == 0) return repo;
    if (!create) {
        git_fail(e, dir);
        return NULL;
    }
    if (git_repository_init(&repo, dir, 1) != 0) {
        git_fail(e, dir);
        return NULL;
    }
    return repo;
}

bool st_attest_record(st_store *st, const char *repo_dir, const st_attest_input *in, const st_secret_key *sk,
                      char **ref_out, ut_err *e)
{
    char *stmt = NULL;
    if (!st_attest_statement(st, in, &stmt, e)) return false;
    char *env = st_dsse_sign(ST_DSSE_PAYLOAD_TYPE, stmt, strlen(stmt), sk);
    free(stmt);
    git_repository *repo = open_repo(repo_dir, true, e);
    if (!repo) {
        free(env);
        return false;
    }
    bool ok = false;
    git_oid blob, tree_id, commit;
    git_treebuilder *tb = NULL;
    git_tree *tree = NULL;
    git_signature *who = NULL;
    nc_hash dig;
    nc_hash_bytes(NC_HASH_SHA256, env, strlen(env), &dig);
    char dhex[NC_HASH_STR_MAX];
    nc_hash_print(&dig, NC_HASH_BASE16, false, dhex);
    ut_buf msg = UT_BUF_INIT, refname = UT_BUF_INIT;
    ut_buf_printf(&msg, "attestation for %s\n\nsigned by %s\n", in->outputs[0], sk->name);
    if (git_blob_create_from_buffer(&blob, repo, env, strlen(env)) != 0 ||
        git_treebuilder_new(&tb, repo, NULL) != 0 ||
        git_treebuilder_insert(NULL, tb, "envelope.json", &blob, GIT_FILEMODE_BLOB) != 0 ||
        git_treebuilder_write(&tree_id, tb) != 0 || git_tree_lookup(&tree, repo, &tree_id) != 0 ||
        git_signature_new(&who, "straylight", "straylight@localhost", (git_time_t)time(NULL), 0) != 0 ||
        git_commit_create(&commit, repo, NULL, who, who, "UTF-8", msg.data, tree, 0, NULL) != 0) {
        git_fail(e, repo_dir);
    } else {
        ok = true;
        /* One ref per subject, so each output finds it by its hash part. */
        for (size_t i = 0; ok && i < in->noutputs; i++) {
            nc_store_path_parts parts;
            if (!nc_store_path_parse(st_store_dir(st), nc_str_c(in->outputs[i]), &parts, e)) {
                ok = false;
                break;
            }
            ut_buf_clear(&refname);
            ut_buf_printf(&refname, "refs/attestations/%.*s/%.16s", (int)parts.hash.len, parts.hash.s, dhex);
            git_reference *ref = NULL;
            int rc = git_reference_create(&ref, repo, refname.data, &commit, 1, "straylight attestation");
            if (rc != 0) ok = git_fail(e, refname.data);
            git_reference_free(ref);
            if (ok && ref_out && i == 0) *ref_out = ut_xstrdup(refname.data);
        }
    }
    git_signature_free(who);
    git_tree_free(tree);
    git_treebuilder_free(tb);
    git_repository_free(repo);
    ut_buf_free(&msg);
    ut_buf_free(&refname);
    free(env);
    return ok;
}

typedef struct refs_ctx {
    char **names;
    size_t n;
} refs_ctx;

static int collect_ref(const char *name, void *payload)
{
    refs_ctx *c = payload;
    c->names = ut_xrealloc(c->names, (c->n + 1) * sizeof *c->names);
    c->names[c->n++] = ut_xstrdup(name);
    return 0;
}

static bool read_envelope(git_repository *repo, const char *refname, ut_buf *out, ut_err *e)
{
    git_oid id;
    git_commit *c = NULL;
    git_tree *t = NULL;
    git_blob *b = NULL;
    bool ok = false;
    const git_tree_entry *te;
    if (git_reference_name_to_id(&id, repo, refname) == 0 && git_commit_lookup(&c, repo, &id) == 0 &&
        git_commit_tree(&t, c) == 0 && (te = git_tree_entry_byname(t, "envelope.json")) &&
        git_blob_lookup(&b, repo, git_tree_entry_id(te)) == 0) {
        ut_buf_clear(out);
        ut_buf_append(out, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
        ok = true;
    } else {
        git_fail(e, refname);
    }
    git_blob_free(b);
    git_tree_free(t);
    git_commit_free(c);
    return ok;
}

static void report(void (*cb)(void *, const char *, const char *), void *ctx, const char *ref, const char *fmt, ...)
    UT_PRINTF(4, 5);
static void report(void (*cb)(void *, const char *, const char *), void *ctx, const char *ref, const char *fmt, ...)
{
    if (!cb) return;
    va_list ap;
    va_start(ap, fmt);
    ut_buf b = UT_BUF_INIT;
    ut_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cb(ctx, ref, b.data);
    ut_buf_free(&b);
}

bool st_attest_verify(st_store *st, const char *repo_dir, const char *path, const st_trusted_keys *tk,
                      void (*report_cb)(void *ctx, const char *ref, const char *problem), void *ctx, size_t *valid,
                      ut_err *e)
{
    *valid = 0;
    nc_store_path_parts parts;
    if (!nc_store_path_parse(st_store_dir(st), nc_str_c(path), &parts, e)) return false;
    st_path_info *pi = NULL;
    int r = st_store_query(st, path, &pi, e);
    if (r == 0) return ut_err_set(e, "'%s' is not in %s", path, st_store_url(st));
    if (r < 0) return false;
    /* The subject digest must be the NAR the store really holds. */
    st_blob *blob = st_blob_fetch(st_store_backend(st), pi, e);
    if (!blob) {
        st_path_info_free(pi);
        return false;
    }
    st_blob_close(blob);
    char hex[NC_HASH_STR_MAX];
    nc_hash_print(&pi->nar_hash, NC_HASH_BASE16, false, hex);
    git_repository *repo = open_repo(repo_dir, false, e);
    if (!repo) {
        st_path_info_free(pi);
        return false;
    }
    ut_buf glob = UT_BUF_INIT;
    ut_buf_printf(&glob, "refs/attestations/%.*s/*", (int)parts.hash.len, parts.hash.s);
    refs_ctx rc = {NULL, 0};
    git_reference_foreach_glob(repo, glob.data, collect_ref, &rc);
    size_t bad = 0;
    ut_buf env = UT_BUF_INIT, payload = UT_BUF_INIT;
    for (size_t i = 0; i < rc.n; i++) {
        ut_err ve = UT_ERR_INIT;
        char *signer = NULL;
        if (!read_envelope(repo, rc.names[i], &env, &ve) || !st_dsse_verify(env.data, tk, &payload, &signer, &ve)) {
            report(report_cb, ctx, rc.names[i], "%s", ve.msg);
            ut_err_clear(&ve);
            bad++;
            continue;
        }
        json_error_t je;
        json_t *stmt = json_loadb(payload.data, payload.len, 0, &je);
        const char *type = json_string_value(json_object_get(stmt, "_type"));
        json_t *subj = json_object_get(stmt, "subject");
        bool named = false, matches = false;
        size_t k;
        json_t *s;
        json_array_foreach(subj, k, s) {
            const char *name = json_string_value(json_object_get(s, "name"));
            if (!name || strcmp(name, path)) continue;
            named = true;
            const char *d = json_string_value(json_object_get(json_object_get(s, "digest"), "sha256"));
            if (d && !strcmp(d, hex)) matches = true;
        }
        if (!stmt || !type || strcmp(type, ST_INTOTO_STATEMENT_TYPE)) {
            report(report_cb, ctx, rc.names[i], "payload is not an in-toto Statement v1");
            bad++;
        } else if (!named) {
            report(report_cb, ctx, rc.names[i], "statement does not name '%s' as a subject", path);
            bad++;
        } else if (!matches) {
            report(report_cb, ctx, rc.names[i], "subject digest is not the sha256 of the NAR the store holds (%s)", hex);
            bad++;
        } else {
            (*valid)++;
        }
        json_decref(stmt);
        free(signer);
    }
    if (!rc.n) report(report_cb, ctx, glob.data, "no attestation recorded for '%s'", path);
    for (size_t i = 0; i < rc.n; i++) free(rc.names[i]);
    free(rc.names);
    ut_buf_free(&env);
    ut_buf_free(&payload);
    ut_buf_free(&glob);
    git_repository_free(repo);
    st_path_info_free(pi);
    return *valid > 0 && bad == 0;
}

bool st_attest_push(const char *repo_dir, const char *remote_url, ut_err *e)
{
    git_repository *repo = open_repo(repo_dir, false, e);
    if (!repo) return false;
    refs_ctx rc = {NULL, 0};
    git_reference_foreach_glob(repo, "refs/attestations/*", collect_ref, &rc);
    bool ok = true;
    if (rc.n) {
        char **specs = ut_xcalloc(rc.n, sizeof *specs);
        for (size_t i = 0; i < rc.n; i++) {
            ut_buf b = UT_BUF_INIT;
            /* Attestations are immutable: never force over a remote ref. */
            ut_buf_printf(&b, "%s:%s", rc.names[i], rc.names[i]);
            specs[i] = ut_buf_steal(&b, NULL);
        }
        git_strarray arr = {specs, rc.n};
        git_remote *remote = NULL;
        git_push_options opts;
        git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
        if (git_remote_create_anonymous(&remote, repo, remote_url) != 0 || git_remote_push(remote, &arr, &opts) != 0)
            ok = git_fail(e, remote_url);
        git_remote_free(remote);
        for (size_t i = 0; i < rc.n; i++) free(specs[i]);
        free(specs);
    }
    for (size_t i = 0; i < rc.n; i++) free(rc.names[i]);
    free(rc.names);
    git_repository_free(repo);
    return ok;
}
