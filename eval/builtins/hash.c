/* Hashing builtins: hashString, hashFile, convertHash. The hash formats
 * and parsing are compat/'s (Nix's own rules); this file adds Nix's
 * argument handling and messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat/hash.h"
#include "eval/builtins.h"
#include "eval/builtins/files.h"

static nc_hash_algo parse_algo(ev_state *S, ev_string *name, ps_pos pos)
{
    nc_hash_algo algo;
    if (!nc_hash_algo_parse(name->s, name->len, &algo))
        ev_error(S, EV_ERR_EVAL, pos,
                 "unknown hash algorithm '%s', expect 'blake3', 'md5', 'sha1', 'sha256', or 'sha512'", name->s);
    return algo;
}

static ev_value base16(ev_state *S, const nc_hash *h)
{
    char buf[NC_HASH_STR_MAX];
    size_t n = nc_hash_print(h, NC_HASH_BASE16, false, buf);
    return ev_mk_string(S, buf, n, NULL);
}

static void prim_hashString(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *an = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.hashString");
    nc_hash_algo algo = parse_algo(S, an, pos);
    /* The string's context is dropped, as Nix does. */
    ev_string *s = ev_force_string(S, &a[1], pos, "while evaluating the second argument passed to builtins.hashString");
    nc_hash h;
    nc_hash_bytes(algo, s->s, s->len, &h);
    *out = base16(S, &h);
}

static void prim_hashFile(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_string *an = ev_force_string_noctx(S, &a[0], pos, "while evaluating the first argument passed to builtins.hashFile");
    nc_hash_algo algo = parse_algo(S, an, pos);
    char *path = ev_bi_realise_path(S, &a[1], pos, EV_BI_RESOLVE_FULL);
    /* Streamed: a large file never sits in memory whole. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            ev_error(S, EV_ERR_EVAL, pos, "path '%s' does not exist", path);
        ev_error(S, EV_ERR_EVAL, pos, "opening file '%s': %s", path, strerror(errno));
    }
    nc_hasher *hs = nc_hasher_new(algo);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            nc_hasher_free(hs);
            close(fd);
            ev_error(S, EV_ERR_EVAL, pos, "reading file '%s': %s", path, strerror(err));
        }
        nc_hasher_update(hs, buf, (size_t)n);
    }
    close(fd);
    nc_hash h;
    nc_hasher_finish(hs, &h);
    *out = base16(S, &h);
}

static ev_value *need_attr(ev_state *S, ev_attrs *at, const char *name, const char *ctx, ps_pos pos)
{
    ev_attr *x = ev_attrs_find(at, ev_sym(S, name));
    if (!x) {
        ev_trace_push(S, (ps_pos){0}, ctx, NULL);
        ev_error(S, EV_ERR_EVAL, pos, "attribute '%s' missing", name);
    }
    return &x->value;
}

static void prim_convertHash(ev_state *S, ev_value *a, ev_value *out, ps_pos pos)
{
    ev_attrs *at = ev_force_attrs(S, &a[0], pos, "while evaluating the first argument passed to builtins.convertHash");
    ev_string *hs = ev_force_string_noctx(S, need_attr(S, at, "hash", "while locating the attribute 'hash'", pos), pos,
                                          "while evaluating the attribute 'hash'");
    nc_hash_algo algo;
    bool have_algo = false;
    ev_attr *ha = ev_attrs_find(at, ev_sym(S, "hashAlgo"));
    if (ha) {
        ev_string *an = ev_force_string_noctx(S, &ha->value, pos, "while evaluating the attribute 'hashAlgo'");
        algo = parse_algo(S, an, pos);
        have_algo = true;
    }
    ev_string *fs = ev_force_string_noctx(S, need_attr(S, at, "toHashFormat", "while locating the attribute 'toHashFormat'", pos),
                                          pos, "while evaluating the attribute 'toHashFormat'");
    nc_hash_format fmt;
    if (strcmp(fs->s, "base16") == 0)
        fmt = NC_HASH_BASE16;
    else if (strcmp(fs->s, "nix32") == 0)
        fmt = NC_HASH_NIX32;
    else if (strcmp(fs->s, "base32") == 0) {
        fputs("warning: \"base32\" is a deprecated alias for hash format \"nix32\".\n", stderr);
        fmt = NC_HASH_NIX32;
    } else if (strcmp(fs->s, "base64") == 0)
        fmt = NC_HASH_BASE64;
    else if (strcmp(fs->s, "sri") == 0)
        fmt = NC_HASH_SRI;
    else
        ev_error(S, EV_ERR_EVAL, pos, "unknown hash format '%s', expect 'base16', 'base32', 'base64', or 'sri'", fs->s);
    nc_hash h;
    ut_err e = UT_ERR_INIT;
    if (!nc_hash_parse_any(hs->s, hs->len, have_algo ? &algo : NULL, &h, &e)) {
        char *m = ev_scratch_alloc(S, strlen(e.msg) + 1);
        strcpy(m, e.msg);
        ut_err_clear(&e);
        ev_error(S, EV_ERR_EVAL, pos, "%s", m);
    }
    char buf[NC_HASH_STR_MAX];
    size_t n = nc_hash_print(&h, fmt, fmt == NC_HASH_SRI, buf);
    *out = ev_mk_string(S, buf, n, NULL);
}

const ev_primop_def ev_builtins_hash[] = {
    {"hashString", 2, prim_hashString, 0},
    {"hashFile", 2, prim_hashFile, 0},
    {"convertHash", 1, prim_convertHash, 0},
    {NULL, 0, NULL, 0},
};
