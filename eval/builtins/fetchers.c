/* Fetchers: builtins.fetchurl, fetchTarball, fetchGit, fetchTree (types
 * file, tarball, git, path), with Nix's arguments, results and errors.
 * Downloads, the download cache and unpacking are store/fetch.c; git goes
 * through libgit2 on local repositories (paths and file:// URLs).
 *
 * Every fetched tree is checked (NAR hash, or the file's sha256) before
 * anything is added to the store, so a mismatch leaves the store as it
 * was. Nothing here evaluates Nix code once a download has started, so the
 * C resources below are never skipped by an evaluation error's longjmp:
 * errors are collected in a ut_err and raised after cleanup. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compat/hash.h"
#include "compat/storepath.h"
#include "eval/builtins.h"
#include "eval/builtins/files.h"

#ifdef STRAYLIGHT_HAVE_STORE
#include "store/lazy_git2.h"

#include "store/fetch.h"
#include "store/store.h"

#define NOPOS ((ps_pos){0})

/* Raises e's message (copied to scratch memory first, then e is cleared). */
UT_NORETURN static void raise_err(ev_state *S, ps_pos pos, ut_err *e)
{
    const char *msg = e->msg ? e->msg : "unknown error";
    char *m = ev_scratch_alloc(S, strlen(msg) + 1);
    strcpy(m, msg);
    ut_err_clear(e);
    ev_error(S, EV_ERR_EVAL, pos, "%s", m);
}

static const char *store_dir(ev_state *S)
{
    const char *d = ev_opts(S)->store_dir;
    return d ? d : "/nix/store";
}

static st_store *need_store(ev_state *S, ps_pos pos, const char *who)
{
    st_store *st = ev_store(S);
    if (!st)
        ev_error(S, EV_ERR_EVAL, pos, "'%s' needs a store, and this evaluation has none", who);
    return st;
}

static void set_store_string(ev_state *S, ev_value *out, const char *path)
{
    ev_ctxset ctx = {0};
    ev_ctxset_add(S, &ctx, path, strlen(path));
    *out = ev_mk_string(S, path, strlen(path), ev_ctxset_finish(S, &ctx));
}

/* Nix's newHashAllowEmpty for the sha256 argument: "" means a dummy hash
 * (with a warning), so that the mismatch error tells the real one. */
static void parse_sha256(ev_state *S, ps_pos pos, const ev_string *s, nc_hash *out)
{
    ut_err e = UT_ERR_INIT;
    nc_hash_algo sha = NC_HASH_SHA256;
    if (s->len == 0) {
        memset(out, 0, sizeof *out);
        out->algo = NC_HASH_SHA256;
        fputs("warning: found empty hash, assuming 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='\n", stderr);
        return;
    }
    if (!nc_hash_parse_any(s->s, s->len, &sha, out, &e))
        raise_err(S, pos, &e);
}

/* Nix's baseNameOf on a URL: the last component, ignoring one trailing '/'. */
static char *url_base_name(ev_state *S, const char *url)
{
    size_t n = strlen(url);
    if (n > 1 && url[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && url[start - 1] != '/')
        start--;
    char *r = ev_scratch_alloc(S, n - start + 1);
    memcpy(r, url + start, n - start);
    r[n - start] = '\0';
    return r;
}

/* The fixed-output store path Nix would give (name, method, sha256). */
static char *expected_path(ev_state *S, ps_pos pos, const char *name, nc_ca_method m, const nc_hash *h)
{
    ut_buf b = UT_BUF_INIT;
    ut_err e = UT_ERR_INIT;
    if (!nc_make_fixed_output_path(&b, store_dir(S), m, h, nc_str_c(name), NULL, &e)) {
        ut_buf_free(&b);
        raise_err(S, pos, &e);
    }
    char *r = ev_scratch_alloc(S, b.len + 1);
    memcpy(r, b.data, b.len + 1);
    ut_buf_free(&b);
    return r;
}

static bool store_has(st_store *st, const char *path)
{
    if (st_store_is_dry(st))
        return false;
    st_path_info *pi = NULL;
    int r = st_store_query(st, path, &pi, NULL);
    if (r == 1)
        st_path_info_free(pi);
    return r == 1;
}

/* ---- the fetch steps (plain C, no evaluation) -------------------------- */

/* How long an unlocked download is reused without asking the server again:
 * Nix's tarball-ttl (one hour), overridable for tests and impatient users. */
static int64_t tarball_ttl(void)
{
    const char *s = getenv("STRAYLIGHT_TARBALL_TTL");
    if (s && *s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (*end == '\0')
            return v;
    }
    return 3600;
}

typedef struct fetched {
    char *path;             /* store path */
    nc_hash nar_hash;
    int64_t last_modified;
    bool have_last_modified;
} fetched;

static void fetched_free(fetched *f)
{
    free(f->path);
}

/* A regular file as a flat content-addressed path. */
static bool fetch_file(st_store *st, const char *url, const char *name, const nc_hash *flat_hash, fetched *out,
                       ut_err *e)
{
    st_fetch_opts o = {NULL, flat_hash, tarball_ttl()};
    st_fetch_result r;
    if (!st_fetch_download(url, &o, &r, e))
        return false;
    st_path_info *pi = NULL;
    bool ok = st_store_add_path(st, r.path, name, NULL, NULL, NC_CA_FLAT, &out->path, &pi, e);
    if (ok) {
        out->nar_hash = pi->nar_hash;
        st_path_info_free(pi);
    }
    st_fetch_result_free(&r);
    return ok;
}

/* Adds a tree (recursive) after checking its NAR hash against expected. */
static bool add_tree(st_store *st, const char *fs, const char *name, const char *who_url, const nc_hash *expected,
                     fetched *out, ut_err *e)
{
    nc_hash nh;
    if (expected) {
        if (!st_fetch_nar_hash(fs, &nh, NULL, e))
            return false;
        if (!nc_hash_eq(&nh, expected)) {
            char a[NC_HASH_STR_MAX], b[NC_HASH_STR_MAX];
            nc_hash_print(expected, NC_HASH_NIX32, true, a);
            nc_hash_print(&nh, NC_HASH_NIX32, true, b);
            return ut_err_set(e, "hash mismatch in file downloaded from '%s':\n  specified: %s\n  got:       %s",
                              who_url, a, b);
        }
    }
    st_path_info *pi = NULL;
    if (!st_store_add_path(st, fs, name, NULL, NULL, NC_CA_NAR, &out->path, &pi, e))
        return false;
    out->nar_hash = pi->nar_hash;
    st_path_info_free(pi);
    return true;
}

static char *make_tmpdir(ut_err *e)
{
    ut_buf b = UT_BUF_INIT;
    ut_buf_printf(&b, "%s/straylight-fetch-XXXXXX", ut_tmp_dir());
    if (!mkdtemp(b.data)) {
        ut_err_set(e, "creating a temporary directory: %s", strerror(errno));
        ut_buf_free(&b);
        return NULL;
    }
    return ut_buf_steal(&b, NULL);
}

static bool fetch_tarball(st_store *st, const char *url, const char *name, const nc_hash *nar_hash, fetched *out,
                          ut_err *e)
{
    st_fetch_opts o = {NULL, NULL, tarball_ttl()};
    st_fetch_result r;
    if (!st_fetch_download(url, &o, &r, e))
        return false;
    bool ok = false;
    char *tmp = make_tmpdir(e), *root = NULL;
    if (!tmp)
        goto out;
    ut_buf dest = UT_BUF_INIT;
    ut_buf_printf(&dest, "%s/unpack", tmp);
    int64_t newest = 0;
    if (!st_fetch_unpack(r.path, dest.data, &newest, e)) {
        ut_err_wrap(e, "unable to unpack the tarball downloaded from '%s'", url);
        ut_buf_free(&dest);
        goto out;
    }
    root = st_fetch_tarball_root(dest.data, e);
    ut_buf_free(&dest);
    if (!root)
        goto out;
    ok = add_tree(st, root, name, url, nar_hash, out, e);
    out->last_modified = newest;
    out->have_last_modified = true;
out:
    if (tmp) {
        st_fetch_rmtree(tmp);
        free(tmp);
    }
    free(root);
    st_fetch_result_free(&r);
    return ok;
}

/* ---- fetchurl, fetchTarball -------------------------------------------- */

/* Nix's `fetch` helper shared by fetchurl (unpack false) and fetchTarball. */
static void fetch_common(ev_state *S, ev_value *arg, ev_value *out, ps_pos pos, const char *who, bool unpack,
                         const char *default_name)
{
    const char *url = NULL, *name = default_name;
    nc_hash hash;
    bool have_hash = false;
    ev_force(S, arg, pos);
    if (arg->type == EV_ATTRS) {
        ev_attrs *at = ev_attrs_flat(S, arg->u.a);
        for (uint32_t i = 0; i < at->h.n; i++) {
            ev_attr *x = &at->a[i];
            const char *n = ev_sym_str(S, x->name);
            ps_pos apos = ev_pos_get(S, x->pos);
            if (strcmp(n, "url") == 0) {
                url = ev_force_string_noctx(S, &x->value, apos, "while evaluating the url we should fetch")->s;
            } else if (strcmp(n, "sha256") == 0) {
                parse_sha256(S, apos,
                             ev_force_string_noctx(S, &x->value, apos, "while evaluating the sha256 of the content we should fetch"),
                             &hash);
                have_hash = true;
            } else if (strcmp(n, "name") == 0) {
                name = ev_force_string_noctx(S, &x->value, apos,
                                             "while evaluating the name of the content we should fetch")->s;
            } else {
                ev_error(S, EV_ERR_EVAL, apos, "unsupported argument '%s' to '%s'", n, who);
            }
        }
        if (!url)
            ev_error(S, EV_ERR_EVAL, pos, "'url' argument required");
    } else {
        url = ev_force_string_noctx(S, arg, pos, "while evaluating the url we should fetch")->s;
    }
    bool name_given = name != default_name;
    if (!*name)
        name = url_base_name(S, url);
    {
        /* Current Nix checks the name first, and says how to fix it. */
        ut_err ne = UT_ERR_INIT;
        if (!nc_store_name_check(nc_str_c(name), nc_str_c(name), &ne)) {
            /* Nix's checkName wording for the common cases */
            const char *bad = name + strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=");
            ut_buf nm = UT_BUF_INIT;
            if (!*name)
                ut_buf_puts(&nm, "name must not be empty");
            else if (*bad)
                ut_buf_printf(&nm, "name '%s' contains illegal character '%c'", name, *bad);
            else if (strlen(name) > 211)
                ut_buf_printf(&nm, "name '%s' must be no longer than 211 characters", name);
            if (nm.len) {
                ut_err_clear(&ne);
                ne.msg = ut_buf_steal(&nm, NULL);
            } else
                ut_buf_free(&nm);
            const char *fix =
                name_given ? "Please change the value for the 'name' attribute passed to '%s', so that it can create a "
                             "valid store path."
                : arg->type == EV_ATTRS
                    ? "Please add a valid 'name' attribute to the argument for '%s', so that it can create a valid "
                      "store path."
                    : "Please pass an attribute set with 'url' and 'name' attributes to '%s',  so that it can create "
                      "a valid store path.";
            ut_buf m = UT_BUF_INIT;
            ut_buf_printf(&m, "invalid store path name when fetching URL '%s': %s. ", url, ne.msg);
            ut_buf_printf(&m, fix, who);
            ut_err_clear(&ne);
            ne.msg = ut_buf_steal(&m, NULL);
            raise_err(S, pos, &ne);
        }
    }
    if (ev_opts(S)->pure && !have_hash)
        ev_error(S, EV_ERR_EVAL, pos, "in pure evaluation mode, '%s' requires a 'sha256' argument", who);
    st_store *st = need_store(S, pos, who);
    nc_ca_method method = unpack ? NC_CA_NAR : NC_CA_FLAT;
    if (have_hash) {
        /* A locked fetch whose result is already there is not repeated. */
        char *want = expected_path(S, pos, name, method, &hash);
        if (store_has(st, want)) {
            set_store_string(S, out, want);
            return;
        }
    }
    fetched f = {0};
    ut_err e = UT_ERR_INIT;
    bool ok = unpack ? fetch_tarball(st, url, name, have_hash ? &hash : NULL, &f, &e)
                     : fetch_file(st, url, name, have_hash ? &hash : NULL, &f, &e);
    if (!ok) {
        fetched_free(&f);
        raise_err(S, pos, &e);
    }
    char *p = ev_scratch_alloc(S, strlen(f.path) + 1);
    strcpy(p, f.path);
    fetched_free(&f);
    set_store_string(S, out, p);
}

static void prim_fetchurl(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    fetch_common(S, &a[0], out, pos, "fetchurl", false, "");
}

static void prim_fetchTarball(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    fetch_common(S, &a[0], out, pos, "fetchTarball", true, "source");
}

/* ---- git ---------------------------------------------------------------- */

typedef struct git_args {
    const char *url;
    const char *ref;
    const char *rev;
    const char *name;
    bool shallow, submodules, all_refs;
    bool have_nar_hash;
    nc_hash nar_hash;
} git_args;

typedef struct git_result {
    fetched f;
    char rev[GIT_OID_HEXSZ + 1];
    int64_t rev_count;
    int64_t last_modified;
    bool dirty;                             /* the work tree, not a commit */
    char head_rev[GIT_OID_HEXSZ + 1];       /* HEAD, when dirty ("" if none) */
} git_result;

static bool git_fail(ut_err *e, const char *what)
{
    const git_error *ge = git_error_last();
    return ut_err_set(e, "%s: %s", what, ge && ge->message ? ge->message : "unknown libgit2 error");
}

/* Writes a tree object's files below dir (which exists), as `git archive`
 * would lay them out. Submodules (gitlinks) become empty directories. */
static bool write_tree(git_repository *repo, git_tree *tree, const char *dir, bool *has_submodules, ut_err *e)
{
    size_t n = git_tree_entrycount(tree);
    ut_buf p = UT_BUF_INIT;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const git_tree_entry *te = git_tree_entry_byindex(tree, i);
        ut_buf_clear(&p);
        ut_buf_printf(&p, "%s/%s", dir, git_tree_entry_name(te));
        git_filemode_t mode = git_tree_entry_filemode(te);
        if (mode == GIT_FILEMODE_TREE) {
            git_tree *sub = NULL;
            if (git_tree_lookup(&sub, repo, git_tree_entry_id(te)) != 0) {
                ok = git_fail(e, "reading a git tree");
                break;
            }
            if (mkdir(p.data, 0755) != 0)
                ok = ut_err_set(e, "creating '%s': %s", p.data, strerror(errno));
            else
                ok = write_tree(repo, sub, p.data, has_submodules, e);
            git_tree_free(sub);
        } else if (mode == GIT_FILEMODE_COMMIT) {
            *has_submodules = true;
            if (mkdir(p.data, 0755) != 0)
                ok = ut_err_set(e, "creating '%s': %s", p.data, strerror(errno));
        } else {
            git_blob *blob = NULL;
            if (git_blob_lookup(&blob, repo, git_tree_entry_id(te)) != 0) {
                ok = git_fail(e, "reading a git blob");
                break;
            }
            const void *data = git_blob_rawcontent(blob);
            size_t len = (size_t)git_blob_rawsize(blob);
            if (mode == GIT_FILEMODE_LINK) {
                char *target = ut_xstrndup(data, len);
                if (symlink(target, p.data) != 0)
                    ok = ut_err_set(e, "creating symlink '%s': %s", p.data, strerror(errno));
                free(target);
            } else {
                ok = ut_write_file_atomic(p.data, len ? data : "", len,
                                          mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644, e);
            }
            git_blob_free(blob);
        }
    }
    ut_buf_free(&p);
    return ok;
}

/* The local directory a git URL names, or NULL for remote URLs. */
static char *git_local_path(const char *url)
{
    if (url[0] == '/')
        return ut_xstrdup(url);
    if (strncmp(url, "file://", 7) == 0)
        return ut_xstrdup(url + 7);
    return NULL;
}

/* Whether the work tree has changes to tracked files (or new untracked
 * ones git would show): Nix then fetches the work tree instead of HEAD. */
static int git_is_dirty(git_repository *repo)
{
    if (git_repository_is_bare(repo))
        return 0;
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    git_status_list *sl = NULL;
    if (git_status_list_new(&sl, repo, &so) != 0)
        return -1;
    size_t n = git_status_list_entrycount(sl);
    git_status_list_free(sl);
    return n > 0;
}

/* Filter for a dirty work tree: what the index lists, and the directories
 * above those files (keys are paths relative to the work tree). */
typedef struct dirty_filter {
    ut_hmap *keep;
    size_t root_len;   /* of the work tree path, without its trailing '/' */
} dirty_filter;

static int dirty_keep(void *ctx, const char *fs_path, st_file_type type, ut_err *e)
{
    (void)type;
    (void)e;
    dirty_filter *f = ctx;
    const char *rel = fs_path + f->root_len;
    if (*rel == '/')
        rel++;
    return ut_hmap_has(f->keep, rel, strlen(rel)) ? 1 : 0;
}

/* Nix fetches a local repository with uncommitted changes (and neither
 * rev nor ref) as its work tree: the files the index tracks, as they are
 * on disk, with rev and revCount zero and HEAD's commit time. */
static bool fetch_dirty(st_store *st, git_repository *repo, const git_args *ga, git_result *res, ut_err *e)
{
    const char *wd = git_repository_workdir(repo);
    if (!wd)
        return ut_err_set(e, "the git repository '%s' has no work tree", ga->url);
    fprintf(stderr, "warning: Git tree '%s' is dirty\n", ga->url);
    git_index *idx = NULL;
    if (git_repository_index(&idx, repo) != 0)
        return git_fail(e, "reading the git index");
    dirty_filter f = {ut_hmap_new(), strlen(wd)};
    while (f.root_len > 1 && wd[f.root_len - 1] == '/')
        f.root_len--;
    size_t n = git_index_entrycount(idx);
    for (size_t i = 0; i < n; i++) {
        const git_index_entry *ie = git_index_get_byindex(idx, i);
        if (!ie || git_index_entry_stage(ie) != 0)
            continue;
        const char *p = ie->path;
        ut_hmap_put(f.keep, p, strlen(p), (void *)1);
        for (const char *sl = strchr(p, '/'); sl; sl = strchr(sl + 1, '/'))
            ut_hmap_put(f.keep, p, (size_t)(sl - p), (void *)1);
    }
    git_index_free(idx);
    memset(res->rev, '0', GIT_OID_HEXSZ);
    res->rev[GIT_OID_HEXSZ] = '\0';
    res->rev_count = 0;
    res->dirty = true;
    res->last_modified = 0;
    git_oid head;
    git_commit *c = NULL;
    if (git_reference_name_to_id(&head, repo, "HEAD") == 0 && git_commit_lookup(&c, repo, &head) == 0) {
        res->last_modified = (int64_t)git_commit_time(c);
        git_oid_tostr(res->head_rev, sizeof res->head_rev, &head);
        git_commit_free(c);
    }
    char *root = ut_xstrndup(wd, f.root_len);
    bool ok = true;
    if (ga->have_nar_hash) {
        /* Check before adding, as for every other fetch. */
        st_store *dry = st_store_open("dry:", e);
        char *dp = NULL;
        st_path_info *dpi = NULL;
        ok = dry && st_store_add_path(dry, root, ga->name, dirty_keep, &f, NC_CA_NAR, &dp, &dpi, e);
        if (ok && !nc_hash_eq(&dpi->nar_hash, &ga->nar_hash)) {
            char a[NC_HASH_STR_MAX], b[NC_HASH_STR_MAX];
            nc_hash_print(&ga->nar_hash, NC_HASH_SRI, true, a);
            nc_hash_print(&dpi->nar_hash, NC_HASH_SRI, true, b);
            ok = ut_err_set(e, "NAR hash mismatch in input '%s', expected '%s' but got '%s'", ga->url, a, b);
        }
        if (dpi)
            st_path_info_free(dpi);
        free(dp);
        if (dry)
            st_store_close(dry);
    }
    st_path_info *pi = NULL;
    if (ok && st_store_add_path(st, root, ga->name, dirty_keep, &f, NC_CA_NAR, &res->f.path, &pi, e)) {
        res->f.nar_hash = pi->nar_hash;
        st_path_info_free(pi);
    } else
        ok = false;
    free(root);
    ut_hmap_free(f.keep);
    return ok;
}

static bool fetch_git(st_store *st, const git_args *ga, git_result *res, ut_err *e)
{
    char *local = git_local_path(ga->url);
    if (!local)
        return ut_err_set(e, "fetching the git repository '%s': only local repositories (paths and file:// URLs) "
                             "are supported",
                          ga->url);
    git_libgit2_init();
    git_repository *repo = NULL;
    git_reference *ref = NULL;
    git_commit *commit = NULL, *tip = NULL;
    git_tree *tree = NULL;
    git_revwalk *walk = NULL;
    char *tmp = NULL;
    bool ok = false;
    if (git_repository_open_ext(&repo, local, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
        git_fail(e, "opening the git repository");
        ut_err_wrap(e, "'%s' is not a git repository", ga->url);
        goto out;
    }
    if (!ga->ref && !ga->rev) {
        int d = git_is_dirty(repo);
        if (d < 0) {
            git_fail(e, "reading the git status");
            goto out;
        }
        if (d) {
            ok = fetch_dirty(st, repo, ga, res, e);
            goto out;
        }
    }
    /* The ref: given, else the branch HEAD points at (Nix's readHead). */
    git_oid tip_oid;
    if (ga->ref) {
        ut_buf rn = UT_BUF_INIT;
        if (strncmp(ga->ref, "refs/", 5) == 0 || strcmp(ga->ref, "HEAD") == 0)
            ut_buf_puts(&rn, ga->ref);
        else
            ut_buf_printf(&rn, "refs/heads/%s", ga->ref);
        int rc = git_reference_name_to_id(&tip_oid, repo, rn.data);
        ut_buf_free(&rn);
        if (rc != 0) {
            ut_err_set(e, "resolving Git reference '%s' of repository '%s': no such reference", ga->ref, ga->url);
            goto out;
        }
    } else if (git_reference_name_to_id(&tip_oid, repo, "HEAD") != 0) {
        git_fail(e, "resolving HEAD");
        ut_err_wrap(e, "fetching the git repository '%s'", ga->url);
        goto out;
    }
    git_oid oid = tip_oid;
    if (ga->rev) {
        if (strlen(ga->rev) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, ga->rev) != 0) {
            ut_err_set(e, "hash '%s' is not a full Git revision (40 hexadecimal digits)", ga->rev);
            goto out;
        }
        if (git_commit_lookup(&commit, repo, &oid) != 0) {
            ut_err_set(e, "Cannot find Git revision '%s' in ref '%s' of repository '%s'! Please make sure that the "
                          "rev exists on the ref you've specified or add allRefs = true; to fetchGit.",
                       ga->rev, ga->ref ? ga->ref : "HEAD", ga->url);
            goto out;
        }
        if (!ga->all_refs && !git_oid_equal(&oid, &tip_oid) && git_graph_descendant_of(repo, &tip_oid, &oid) != 1) {
            ut_err_set(e, "Cannot find Git revision '%s' in ref '%s' of repository '%s'! Please make sure that the "
                          "rev exists on the ref you've specified or add allRefs = true; to fetchGit.",
                       ga->rev, ga->ref ? ga->ref : "HEAD", ga->url);
            goto out;
        }
    } else if (git_commit_lookup(&commit, repo, &oid) != 0) {
        git_fail(e, "reading the commit");
        goto out;
    }
    git_oid_tostr(res->rev, sizeof res->rev, &oid);
    res->last_modified = (int64_t)git_commit_time(commit);
    /* revCount: the commits reachable from rev, as `git rev-list --count`. */
    if (git_revwalk_new(&walk, repo) != 0 || git_revwalk_push(walk, &oid) != 0) {
        git_fail(e, "walking the history");
        goto out;
    }
    git_oid w;
    int64_t count = 0;
    /* A shallow fetch has no history to count: Nix reports 0. */
    while (!ga->shallow && git_revwalk_next(&w, walk) == 0)
        count++;
    res->rev_count = count;
    if (git_commit_tree(&tree, commit) != 0) {
        git_fail(e, "reading the commit's tree");
        goto out;
    }
    tmp = make_tmpdir(e);
    if (!tmp)
        goto out;
    ut_buf dir = UT_BUF_INIT;
    ut_buf_printf(&dir, "%s/source", tmp);
    bool has_sub = false;
    if (mkdir(dir.data, 0755) != 0) {
        ut_err_set(e, "creating '%s': %s", dir.data, strerror(errno));
        ut_buf_free(&dir);
        goto out;
    }
    if (!write_tree(repo, tree, dir.data, &has_sub, e)) {
        ut_buf_free(&dir);
        goto out;
    }
    if (has_sub && ga->submodules) {
        ut_err_set(e, "fetching the submodules of '%s' is not supported yet", ga->url);
        ut_buf_free(&dir);
        goto out;
    }
    ok = add_tree(st, dir.data, ga->name, ga->url, ga->have_nar_hash ? &ga->nar_hash : NULL, &res->f, e);
    ut_buf_free(&dir);
out:
    if (tmp) {
        st_fetch_rmtree(tmp);
        free(tmp);
    }
    git_revwalk_free(walk);
    git_tree_free(tree);
    git_commit_free(commit);
    git_commit_free(tip);
    git_reference_free(ref);
    git_repository_free(repo);
    git_libgit2_shutdown();
    free(local);
    return ok;
}

static void put_str(ev_state *S, ev_attrs *at, const char *k, const char *v)
{
    ev_attrs_add(at, ev_sym(S, k), ev_mk_cstring(S, v), 0);
}

static void put_last_modified(ev_state *S, ev_attrs *at, int64_t t)
{
    ev_attrs_add(at, ev_sym(S, "lastModified"), ev_mk_int(t), 0);
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
    put_str(S, at, "lastModifiedDate", buf);
}

static void put_out_and_nar(ev_state *S, ev_attrs *at, const fetched *f)
{
    ev_value *slot = ev_stack_push(S, 1);
    set_store_string(S, slot, f->path);
    ev_attrs_add(at, ev_sym(S, "outPath"), *slot, 0);
    char h[NC_HASH_STR_MAX];
    nc_hash_print(&f->nar_hash, NC_HASH_SRI, true, h);
    put_str(S, at, "narHash", h);
}

static void git_emit(ev_state *S, const git_args *ga, const git_result *r, ev_value *out)
{
    ev_attrs *at = ev_attrs_new(S, 10);
    put_out_and_nar(S, at, &r->f);
    put_str(S, at, "rev", r->rev);
    char short_rev[8];
    memcpy(short_rev, r->rev, 7);
    short_rev[7] = '\0';
    put_str(S, at, "shortRev", short_rev);
    ev_attrs_add(at, ev_sym(S, "revCount"), ev_mk_int(r->rev_count), 0);
    put_last_modified(S, at, r->last_modified);
    ev_attrs_add(at, ev_sym(S, "submodules"), ev_mk_bool(ga->submodules), 0);
    if (r->dirty && r->head_rev[0]) {
        /* current Nix names the commit a dirty tree started from */
        char d[GIT_OID_HEXSZ + 8];
        snprintf(d, sizeof d, "%s-dirty", r->head_rev);
        put_str(S, at, "dirtyRev", d);
        snprintf(d, sizeof d, "%.7s-dirty", r->head_rev);
        put_str(S, at, "dirtyShortRev", d);
    }
    ev_attrs_finish(at);
    *out = ev_mk_attrs(at);
}

static void run_git(ev_state *S, ps_pos pos, git_args *ga, ev_value *out)
{
    if (ev_opts(S)->pure && !ga->rev)
        ev_error(S, EV_ERR_EVAL, pos, "in pure evaluation mode, 'fetchGit' requires a locked input");
    st_store *st = need_store(S, pos, "fetchGit");
    git_result r;
    memset(&r, 0, sizeof r);
    ut_err e = UT_ERR_INIT;
    if (!fetch_git(st, ga, &r, &e)) {
        fetched_free(&r.f);
        raise_err(S, pos, &e);
    }
    char *p = ev_scratch_alloc(S, strlen(r.f.path) + 1);
    strcpy(p, r.f.path);
    free(r.f.path);
    r.f.path = p;
    git_emit(S, ga, &r, out);
}

/* The url argument of fetchGit: a path value, or a string (an absolute path
 * or a URL). */
static const char *git_url(ev_state *S, ev_value *v, ps_pos pos)
{
    ev_force(S, v, pos);
    if (v->type == EV_PATH)
        return v->u.s->s;
    ut_buf b = UT_BUF_INIT;
    ev_coerce_to_string(S, v, pos, 0, &b, NULL, "while evaluating the url argument passed to builtins.fetchGit");
    char *r = ev_scratch_alloc(S, b.len + 1);
    memcpy(r, b.data ? b.data : "", b.len + 1);
    ut_buf_free(&b);
    return r;
}

static void prim_fetchGit(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    git_args ga = {0};
    ga.name = "source";
    ev_force(S, &a[0], pos);
    if (a[0].type == EV_ATTRS) {
        ev_attrs *at = ev_attrs_flat(S, a[0].u.a);
        for (uint32_t i = 0; i < at->h.n; i++) {
            ev_attr *x = &at->a[i];
            const char *n = ev_sym_str(S, x->name);
            ps_pos apos = ev_pos_get(S, x->pos);
            const char *ctx = "while evaluating an argument passed to builtins.fetchGit";
            if (strcmp(n, "url") == 0)
                ga.url = git_url(S, &x->value, apos);
            else if (strcmp(n, "ref") == 0)
                ga.ref = ev_force_string_noctx(S, &x->value, apos, ctx)->s;
            else if (strcmp(n, "rev") == 0)
                ga.rev = ev_force_string_noctx(S, &x->value, apos, ctx)->s;
            else if (strcmp(n, "name") == 0)
                ga.name = ev_force_string_noctx(S, &x->value, apos, ctx)->s;
            else if (strcmp(n, "shallow") == 0)
                ga.shallow = ev_force_bool(S, &x->value, apos, ctx);
            else if (strcmp(n, "submodules") == 0)
                ga.submodules = ev_force_bool(S, &x->value, apos, ctx);
            else if (strcmp(n, "allRefs") == 0)
                ga.all_refs = ev_force_bool(S, &x->value, apos, ctx);
            else
                ev_error(S, EV_ERR_EVAL, apos, "unsupported argument '%s' to 'fetchGit'", n);
        }
        if (!ga.url)
            ev_error(S, EV_ERR_EVAL, pos, "'url' argument required");
    } else {
        ga.url = git_url(S, &a[0], pos);
    }
    run_git(S, pos, &ga, out);
}

static void prim_fetchMercurial(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    (void)a;
    (void)out;
    ev_error(S, EV_ERR_EVAL, pos, "'builtins.fetchMercurial' is not supported by straylight (Mercurial repositories "
                                  "cannot be fetched)");
}

/* ---- fetchTree ------------------------------------------------------------ */

static int64_t tree_mtime(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    int64_t m = (int64_t)sb.st_mtime;
    if (!S_ISDIR(sb.st_mode))
        return m;
    DIR *d = opendir(path);
    if (!d)
        return m;
    struct dirent *de;
    ut_buf c = UT_BUF_INIT;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        ut_buf_clear(&c);
        ut_buf_printf(&c, "%s/%s", path, de->d_name);
        int64_t x = tree_mtime(c.data);
        if (x > m)
            m = x;
    }
    ut_buf_free(&c);
    closedir(d);
    return m;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
    size_t l = strlen(suf);
    return n >= l && memcmp(s + n - l, suf, l) == 0;
}

/* The attributes a URL-like fetchTree argument stands for, as Nix's
 * inputFromURL: "git+file:///r?ref=main&rev=...", "tarball+https://...",
 * "file+https://...", "path:/p", and plain http(s)/file URLs, which are
 * tarballs when they end in an archive extension and files otherwise. */
static ev_attrs *url_to_attrs(ev_state *S, ps_pos pos, const char *u)
{
    const char *type = NULL, *rest = u;
    if (strncmp(u, "git+", 4) == 0)
        type = "git", rest = u + 4;
    else if (strncmp(u, "tarball+", 8) == 0)
        type = "tarball", rest = u + 8;
    else if (strncmp(u, "file+", 5) == 0)
        type = "file", rest = u + 5;
    else if (strncmp(u, "path:", 5) == 0)
        type = "path", rest = u + 5;
    else if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0 || strncmp(u, "file:", 5) == 0) {
        size_t n = strcspn(u, "?#");
        static const char *const exts[] = {".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"};
        type = "file";
        for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
            if (has_suffix(u, n, exts[i]))
                type = "tarball";
    } else
        ev_error(S, EV_ERR_EVAL, pos, "input '%s' is unsupported", u);
    if (strncmp(rest, "file:", 5) == 0 && rest[5] != '/') {
        ev_trace_push(S, NOPOS, "while fetching the input '%s'", u);
        ev_error(S, EV_ERR_EVAL, pos,
                 "%s '%s' must use an absolute path. The 'file' scheme does not support relative paths.", type, u);
    }
    /* Query parameters of git and path inputs are attributes; other
     * inputs keep them in the URL. */
    bool split = strcmp(type, "git") == 0 || strcmp(type, "path") == 0;
    size_t base = split ? strcspn(rest, "?#") : strlen(rest);
    ev_attrs *at = ev_attrs_new(S, 12);
    ev_attrs_add(at, ev_sym(S, "type"), ev_mk_cstring(S, type), 0);
    ev_attrs_add(at, ev_sym(S, strcmp(type, "path") == 0 ? "path" : "url"), ev_mk_string(S, rest, base, NULL), 0);
    const char *q = rest[base] == '?' ? rest + base + 1 : NULL;
    while (q && *q && *q != '#') {
        size_t l = strcspn(q, "&#");
        const char *eq = memchr(q, '=', l);
        if (eq) {
            char *k = ev_scratch_alloc(S, (size_t)(eq - q) + 1);
            memcpy(k, q, (size_t)(eq - q));
            k[eq - q] = '\0';
            const char *v = eq + 1;
            size_t vl = l - (size_t)(eq - q) - 1;
            bool flag = strcmp(k, "shallow") == 0 || strcmp(k, "submodules") == 0 || strcmp(k, "allRefs") == 0;
            if (flag)
                ev_attrs_add(at, ev_sym(S, k), ev_mk_bool(vl == 1 && v[0] == '1'), 0);
            else
                ev_attrs_add(at, ev_sym(S, k), ev_mk_string(S, v, vl, NULL), 0);
        }
        q += l;
        if (*q == '&')
            q++;
    }
    ev_attrs_finish(at);
    return at;
}

static void prim_fetchTree(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    if (!ev_has_feature(S, "fetch-tree") && !ev_has_feature(S, "flakes"))
        ev_error(S, EV_ERR_EVAL, pos,
                 "experimental Nix feature 'fetch-tree' is disabled; add '--extra-experimental-features fetch-tree' "
                 "to enable it");
    ev_force(S, &a[0], pos);
    if (a[0].type == EV_STRING)
        a[0] = ev_mk_attrs(url_to_attrs(S, pos, a[0].u.s->s));
    ev_attrs *at = ev_force_attrs(S, &a[0], pos, "while evaluating the argument passed to builtins.fetchTree");
    ev_attr *tattr = ev_attrs_find(at, ev_sym(S, "type"));
    if (!tattr)
        ev_error(S, EV_ERR_EVAL, pos, "attribute 'type' is missing in call to 'fetchTree'");
    const char *type = ev_force_string_noctx(S, &tattr->value, pos, "while evaluating the 'type' attribute")->s;
    git_args ga = {0};
    ga.name = "source";
    const char *url = NULL, *path = NULL;
    int64_t last_modified = 0;
    bool have_lm = false;
    bool is_git = strcmp(type, "git") == 0;
    for (uint32_t i = 0; i < at->h.n; i++) {
        ev_attr *x = &at->a[i];
        const char *n = ev_sym_str(S, x->name);
        ps_pos apos = ev_pos_get(S, x->pos);
        ev_force(S, &x->value, apos);
        if (strcmp(n, "type") == 0)
            continue;
        if (x->value.type != EV_STRING && x->value.type != EV_BOOL && x->value.type != EV_INT &&
            x->value.type != EV_PATH)
            ev_error(S, EV_ERR_EVAL, apos, "fetchTree argument '%s' is %s while a string, Boolean or integer is expected",
                     n, ev_type_name(&x->value));
        if (x->value.type == EV_INT && x->value.u.i < 0)
            ev_error(S, EV_ERR_EVAL, pos, "negative value given for 'fetchTree' argument '%s': %lld", n,
                     (long long)x->value.u.i);
        const char *sv = (x->value.type == EV_STRING || x->value.type == EV_PATH) ? x->value.u.s->s : NULL;
        if (strcmp(n, "url") == 0 && sv)
            url = ga.url = sv;
        else if (strcmp(n, "path") == 0 && sv)
            path = sv;
        else if (strcmp(n, "narHash") == 0 && sv) {
            ut_err e = UT_ERR_INIT;
            nc_hash_algo sha = NC_HASH_SHA256;
            if (!nc_hash_parse_any(sv, strlen(sv), &sha, &ga.nar_hash, &e))
                raise_err(S, apos, &e);
            ga.have_nar_hash = true;
        } else if (strcmp(n, "name") == 0 && sv)
            ga.name = sv;
        else if (is_git && strcmp(n, "ref") == 0 && sv)
            ga.ref = sv;
        else if (is_git && strcmp(n, "rev") == 0 && sv)
            ga.rev = sv;
        else if (is_git && x->value.type == EV_BOOL &&
                 (strcmp(n, "shallow") == 0 || strcmp(n, "submodules") == 0 || strcmp(n, "allRefs") == 0)) {
            bool b = x->value.u.b;
            if (n[0] == 's' && n[1] == 'h')
                ga.shallow = b;
            else if (n[0] == 's')
                ga.submodules = b;
            else
                ga.all_refs = b;
        } else if (strcmp(n, "lastModified") == 0 && x->value.type == EV_INT) {
            last_modified = x->value.u.i;
            have_lm = true;
        } else if (is_git && (strcmp(n, "revCount") == 0 || strcmp(n, "lastModified") == 0))
            continue;
        else
            ev_error(S, EV_ERR_EVAL, apos, "unsupported input attribute '%s'", n);
    }
    if (is_git) {
        if (!ga.url)
            ev_error(S, EV_ERR_EVAL, pos, "attribute 'url' is missing in call to 'fetchTree'");
        if (ev_opts(S)->pure && !ga.rev && !ga.have_nar_hash)
            ev_error(S, EV_ERR_EVAL, pos, "in pure evaluation mode, 'fetchTree' requires a locked input");
        st_store *st = need_store(S, pos, "fetchTree");
        git_result r;
        memset(&r, 0, sizeof r);
        ut_err e = UT_ERR_INIT;
        if (!fetch_git(st, &ga, &r, &e)) {
            fetched_free(&r.f);
            raise_err(S, pos, &e);
        }
        char *p = ev_scratch_alloc(S, strlen(r.f.path) + 1);
        strcpy(p, r.f.path);
        free(r.f.path);
        r.f.path = p;
        git_emit(S, &ga, &r, out);
        return;
    }
    bool is_file = strcmp(type, "file") == 0, is_tarball = strcmp(type, "tarball") == 0,
         is_path = strcmp(type, "path") == 0;
    if (!is_file && !is_tarball && !is_path)
        ev_error(S, EV_ERR_EVAL, pos, "input type '%s' is not supported by straylight's fetchTree", type);
    if (is_path ? !path : !url)
        ev_error(S, EV_ERR_EVAL, pos, "attribute '%s' is missing in call to 'fetchTree'", is_path ? "path" : "url");
    if (ev_opts(S)->pure && !ga.have_nar_hash)
        ev_error(S, EV_ERR_EVAL, pos, "in pure evaluation mode, 'fetchTree' requires a locked input");
    st_store *st = need_store(S, pos, "fetchTree");
    fetched f = {0};
    if (ga.have_nar_hash) {
        char *want = expected_path(S, pos, ga.name, NC_CA_NAR, &ga.nar_hash);
        if (store_has(st, want)) {
            f.path = ut_xstrdup(want);
            f.nar_hash = ga.nar_hash;
        }
    }
    ut_err e = UT_ERR_INIT;
    bool ok = true;
    if (!f.path) {
        if (is_tarball)
            ok = fetch_tarball(st, url, ga.name, ga.have_nar_hash ? &ga.nar_hash : NULL, &f, &e);
        else if (is_file) {
            ok = fetch_file(st, url, ga.name, NULL, &f, &e);
            if (ok && ga.have_nar_hash && !nc_hash_eq(&f.nar_hash, &ga.nar_hash)) {
                char x[NC_HASH_STR_MAX], y[NC_HASH_STR_MAX];
                nc_hash_print(&ga.nar_hash, NC_HASH_SRI, true, x);
                nc_hash_print(&f.nar_hash, NC_HASH_SRI, true, y);
                ok = ut_err_set(&e, "NAR hash mismatch in input '%s', expected '%s' but got '%s'", url, x, y);
            }
        } else {
            struct stat sb;
            if (lstat(path, &sb) != 0)
                ok = ut_err_set(&e, "path '%s' does not exist", path);
            else if ((ok = add_tree(st, path, ga.name, path, ga.have_nar_hash ? &ga.nar_hash : NULL, &f, &e))) {
                /* Nix reports the newest mtime in the tree it copied. */
                f.last_modified = tree_mtime(path);
                f.have_last_modified = true;
            }
        }
    }
    if (!ok) {
        fetched_free(&f);
        raise_err(S, pos, &e);
    }
    ev_attrs *res = ev_attrs_new(S, 4);
    char *p = ev_scratch_alloc(S, strlen(f.path) + 1);
    strcpy(p, f.path);
    fetched sf = f;
    sf.path = p;
    free(f.path);
    put_out_and_nar(S, res, &sf);
    if (have_lm)
        put_last_modified(S, res, last_modified);
    else if (sf.have_last_modified)
        put_last_modified(S, res, sf.last_modified);
    ev_attrs_finish(res);
    *out = ev_mk_attrs(res);
}

const ev_primop_def ev_builtins_fetchers[] = {
    {"fetchurl", 1, prim_fetchurl, 0},
    {"fetchTarball", 1, prim_fetchTarball, EV_PRIM_GLOBAL},
    {"fetchGit", 1, prim_fetchGit, EV_PRIM_GLOBAL},
    {"fetchTree", 1, prim_fetchTree, EV_PRIM_GLOBAL},
    {"fetchMercurial", 1, prim_fetchMercurial, EV_PRIM_GLOBAL},
    {NULL, 0, NULL, 0},
};
#else
const ev_primop_def ev_builtins_fetchers[] = {
    {NULL, 0, NULL, 0},
};
#endif
