/* NAR writer and strict streaming parser. */
#include "compat/nar.h"

#include <stdio.h>
#include <stdlib.h>

#define NAR_MAGIC "nix-archive-1"
/* Longest entry name accepted: above Linux's 255 because a NAR made on a
 * system counting UTF-16 units (macOS) can carry longer UTF-8 names. */
#define NAR_NAME_MAX 1024
#define NAR_TARGET_MAX 4095    /* longest symlink target accepted (PATH_MAX - 1) */
#define NAR_DEPTH_MAX 4096
#define WBUF_SIZE 65536

static const uint8_t zeros[8] = {0};

bool nc_nar_name_ok(nc_str n)
{
    if (n.len == 0 || n.len > NAR_NAME_MAX)
        return false;
    if ((n.len == 1 && n.s[0] == '.') || (n.len == 2 && n.s[0] == '.' && n.s[1] == '.'))
        return false;
    return memchr(n.s, '/', n.len) == NULL && memchr(n.s, '\0', n.len) == NULL;
}

/* ---- writer --------------------------------------------------------------------- */

typedef struct wdir {
    char last[NAR_NAME_MAX];
    size_t last_len;
    bool has_last;
} wdir;

enum { W_NODE, W_FILE, W_DIR, W_DONE, W_FAILED };

struct nc_nar_writer {
    nc_nar_sink sink;
    void *ctx;
    nc_hasher *hasher;
    uint64_t size;
    int state;
    uint64_t file_left, file_size;
    wdir *dirs;
    size_t ndirs, cap;
    /* Tokens are tiny; staging them avoids a sink call per 8 bytes. */
    uint8_t *buf;
    size_t buflen;
};

static void flush(nc_nar_writer *w)
{
    if (w->buflen == 0)
        return;
    if (w->sink)
        w->sink(w->ctx, w->buf, w->buflen);
    if (w->hasher)
        nc_hasher_update(w->hasher, w->buf, w->buflen);
    w->buflen = 0;
}

static void emit(nc_nar_writer *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    w->size += n;
    if (n >= WBUF_SIZE / 2) {
        flush(w);
        if (w->sink)
            w->sink(w->ctx, p, n);
        if (w->hasher)
            nc_hasher_update(w->hasher, p, n);
        return;
    }
    if (w->buflen + n > WBUF_SIZE)
        flush(w);
    memcpy(w->buf + w->buflen, p, n);
    w->buflen += n;
}

static void emit_u64(nc_nar_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    emit(w, b, 8);
}

static void emit_pad(nc_nar_writer *w, uint64_t len)
{
    if (len % 8)
        emit(w, zeros, 8 - len % 8);
}

static void emit_str(nc_nar_writer *w, const void *p, size_t n)
{
    emit_u64(w, n);
    emit(w, p, n);
    emit_pad(w, n);
}

static void emit_lit(nc_nar_writer *w, const char *s) { emit_str(w, s, strlen(s)); }

nc_nar_writer *nc_nar_writer_new(nc_nar_sink sink, void *ctx, const nc_hash_algo *hash_algo)
{
    nc_nar_writer *w = ut_xcalloc(1, sizeof *w);
    w->sink = sink;
    w->ctx = ctx;
    w->hasher = hash_algo ? nc_hasher_new(*hash_algo) : NULL;
    w->buf = ut_xmalloc(WBUF_SIZE);
    w->state = W_NODE;
    emit_lit(w, NAR_MAGIC);
    return w;
}

void nc_nar_writer_free(nc_nar_writer *w)
{
    if (!w)
        return;
    nc_hasher_free(w->hasher);
    free(w->dirs);
    free(w->buf);
    free(w);
}

static const char *const wstate_names[] = {"a node", "file contents", "a directory entry", "nothing (finished)",
                                           "nothing (failed)"};

static bool wstate(nc_nar_writer *w, int want, const char *call, ut_err *e)
{
    if (w->state == want)
        return true;
    ut_err_set(e, "NAR writer: %s called where %s was expected", call, wstate_names[w->state]);
    w->state = W_FAILED;
    return false;
}

static void node_done(nc_nar_writer *w)
{
    if (w->ndirs == 0) {
        w->state = W_DONE;
    } else {
        emit_lit(w, ")");      /* closes the directory entry */
        w->state = W_DIR;
    }
}

bool nc_nar_file_begin(nc_nar_writer *w, bool executable, uint64_t size, ut_err *e)
{
    if (!wstate(w, W_NODE, "file_begin", e))
        return false;
    emit_lit(w, "(");
    emit_lit(w, "type");
    emit_lit(w, "regular");
    if (executable) {
        emit_lit(w, "executable");
        emit_lit(w, "");
    }
    emit_lit(w, "contents");
    emit_u64(w, size);
    w->file_left = w->file_size = size;
    w->state = W_FILE;
    return true;
}

bool nc_nar_file_data(nc_nar_writer *w, const void *p, size_t n, ut_err *e)
{
    if (!wstate(w, W_FILE, "file_data", e))
        return false;
    if (n > w->file_left) {
        w->state = W_FAILED;
        return ut_err_set(e, "NAR writer: file data exceeds the announced size of %llu bytes",
                          (unsigned long long)w->file_size);
    }
    emit(w, p, n);
    w->file_left -= n;
    return true;
}

bool nc_nar_file_end(nc_nar_writer *w, ut_err *e)
{
    if (!wstate(w, W_FILE, "file_end", e))
        return false;
    if (w->file_left) {
        w->state = W_FAILED;
        return ut_err_set(e, "NAR writer: file ended %llu bytes short of its announced size",
                          (unsigned long long)w->file_left);
    }
    emit_pad(w, w->file_size);
    emit_lit(w, ")");
    node_done(w);
    return true;
}

bool nc_nar_symlink(nc_nar_writer *w, nc_str target, ut_err *e)
{
    if (!wstate(w, W_NODE, "symlink", e))
        return false;
    emit_lit(w, "(");
    emit_lit(w, "type");
    emit_lit(w, "symlink");
    emit_lit(w, "target");
    emit_str(w, target.s, target.len);
    emit_lit(w, ")");
    node_done(w);
    return true;
}

bool nc_nar_dir_begin(nc_nar_writer *w, ut_err *e)
{
    if (!wstate(w, W_NODE, "dir_begin", e))
        return false;
    if (w->ndirs >= NAR_DEPTH_MAX) {
        w->state = W_FAILED;
        return ut_err_set(e, "NAR writer: directories nested deeper than %d", NAR_DEPTH_MAX);
    }
    emit_lit(w, "(");
    emit_lit(w, "type");
    emit_lit(w, "directory");
    if (w->ndirs == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->dirs = ut_xrealloc(w->dirs, w->cap * sizeof *w->dirs);
    }
    w->dirs[w->ndirs].has_last = false;
    w->dirs[w->ndirs].last_len = 0;
    w->ndirs++;
    w->state = W_DIR;
    return true;
}

bool nc_nar_dir_entry(nc_nar_writer *w, nc_str name, ut_err *e)
{
    if (!wstate(w, W_DIR, "dir_entry", e))
        return false;
    wdir *d = &w->dirs[w->ndirs - 1];
    if (!nc_nar_name_ok(name)) {
        w->state = W_FAILED;
        return ut_err_set(e, "NAR writer: invalid directory entry name '%.*s'", (int)name.len, name.s);
    }
    if (d->has_last && nc_str_cmp(nc_str_n(d->last, d->last_len), name) >= 0) {
        w->state = W_FAILED;
        return ut_err_set(e, "NAR writer: directory entry '%.*s' is not after '%.*s'", (int)name.len, name.s,
                          (int)d->last_len, d->last);
    }
    memcpy(d->last, name.s, name.len);
    d->last_len = name.len;
    d->has_last = true;
    emit_lit(w, "entry");
    emit_lit(w, "(");
    emit_lit(w, "name");
    emit_str(w, name.s, name.len);
    emit_lit(w, "node");
    w->state = W_NODE;
    return true;
}

bool nc_nar_dir_end(nc_nar_writer *w, ut_err *e)
{
    if (!wstate(w, W_DIR, "dir_end", e))
        return false;
    emit_lit(w, ")");
    w->ndirs--;
    node_done(w);
    return true;
}

bool nc_nar_writer_finish(nc_nar_writer *w, nc_hash *hash, uint64_t *size, ut_err *e)
{
    if (!wstate(w, W_DONE, "finish", e))
        return false;
    flush(w);
    if (w->hasher) {
        nc_hash h;
        nc_hasher_finish(w->hasher, &h);
        w->hasher = NULL;
        if (hash)
            *hash = h;
    }
    if (size)
        *size = w->size;
    w->state = W_FAILED;    /* nothing more may be written */
    return true;
}

void nc_nar_hash_regular(nc_hash_algo algo, const void *data, size_t n, bool executable, nc_hash *hash,
                         uint64_t *size)
{
    nc_nar_writer *w = nc_nar_writer_new(NULL, NULL, &algo);
    ut_err e = UT_ERR_INIT;
    if (!nc_nar_file_begin(w, executable, n, &e) || !nc_nar_file_data(w, data, n, &e) || !nc_nar_file_end(w, &e) ||
        !nc_nar_writer_finish(w, hash, size, &e))
        ut_die("compat: NAR of a regular file failed: %s", e.msg);
    nc_nar_writer_free(w);
}

/* ---- parser ------------------------------------------------------------------- */

/* What the next token means. */
enum pstate {
    P_MAGIC,
    P_OPEN,          /* "(" of a node */
    P_TYPE_KW,       /* "type" */
    P_TYPE,          /* regular | symlink | directory */
    P_REG_TAG,       /* executable | contents */
    P_EXEC_VAL,      /* "" */
    P_CONTENTS_KW,   /* contents (after executable) */
    P_CONTENTS_LEN,  /* u64 */
    P_CONTENTS,      /* raw bytes */
    P_CONTENTS_PAD,
    P_NODE_CLOSE,    /* ")" of a regular or symlink node */
    P_TARGET_KW,
    P_TARGET,
    P_DIR_TAG,       /* entry | ")" */
    P_ENTRY_OPEN,    /* "(" */
    P_NAME_KW,
    P_NAME,
    P_NODE_KW,
    P_ENTRY_CLOSE,   /* ")" after an entry's node */
    P_END,
};

typedef struct pdir {
    char last[NAR_NAME_MAX];
    size_t last_len;
    bool has_last;
} pdir;

struct nc_nar_parser {
    const nc_nar_visitor *v;
    void *ctx;
    enum pstate st;
    uint64_t off;            /* bytes consumed so far */
    /* Token reader: 8 length bytes, then the data, then the padding. */
    int tphase;              /* 0 length, 1 data, 2 padding */
    uint8_t lenb[8];
    size_t lenhave;
    uint64_t tlen, thave, pad_left;
    char tok[NAR_TARGET_MAX + 1];
    uint64_t tok_start;      /* offset of the token, for messages */
    bool executable;
    uint64_t file_left, file_size;
    pdir *dirs;
    size_t ndirs, cap;
    bool failed;
};

static bool pfail(nc_nar_parser *p, ut_err *e, uint64_t at, const char *fmt, ...) UT_PRINTF(4, 5);
static bool pfail(nc_nar_parser *p, ut_err *e, uint64_t at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->failed = true;
    return ut_err_set(e, "NAR: at byte %llu: %s", (unsigned long long)at, msg);
}

nc_nar_parser *nc_nar_parser_new(const nc_nar_visitor *v, void *ctx)
{
    static const nc_nar_visitor none = {0};
    nc_nar_parser *p = ut_xcalloc(1, sizeof *p);
    p->v = v ? v : &none;
    p->ctx = ctx;
    p->st = P_MAGIC;
    return p;
}

void nc_nar_parser_free(nc_nar_parser *p)
{
    if (!p)
        return;
    free(p->dirs);
    free(p);
}

/* Longest token each state accepts: keywords are short, names and targets
 * are bounded so a hostile length cannot make us buffer gigabytes. */
static uint64_t max_token(enum pstate st)
{
    switch (st) {
    case P_NAME: return NAR_NAME_MAX;
    case P_TARGET: return NAR_TARGET_MAX;
    default: return 16;
    }
}

static bool tok_is(const nc_nar_parser *p, const char *lit)
{
    size_t n = strlen(lit);
    return p->tlen == n && memcmp(p->tok, lit, n) == 0;
}

static bool cb_fail(nc_nar_parser *p, ut_err *e)
{
    p->failed = true;
    if (e && !e->msg)
        ut_err_set(e, "NAR: a visitor callback failed at byte %llu", (unsigned long long)p->off);
    return false;
}

/* Quotes untrusted bytes for a message: NUL and other controls as \xNN. */
static const char *quoted(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 32 || c == 127)
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return dst;
}

static bool node_finished(nc_nar_parser *p, ut_err *e)
{
    (void)e;
    p->st = p->ndirs == 0 ? P_END : P_ENTRY_CLOSE;
    return true;
}

static bool expect_tok(nc_nar_parser *p, ut_err *e, const char *lit, enum pstate next)
{
    if (!tok_is(p, lit))
        return pfail(p, e, p->tok_start, "expected '%s', got '%.*s'", lit, (int)p->tlen, p->tok);
    p->st = next;
    return true;
}

/* A whole token has been read; act on it. */
static bool on_token(nc_nar_parser *p, ut_err *e)
{
    const nc_nar_visitor *v = p->v;
    switch (p->st) {
    case P_MAGIC:
        if (!tok_is(p, NAR_MAGIC))
            return pfail(p, e, 0, "input is not a Nix archive");
        p->st = P_OPEN;
        return true;
    case P_OPEN:
        return expect_tok(p, e, "(", P_TYPE_KW);
    case P_TYPE_KW:
        return expect_tok(p, e, "type", P_TYPE);
    case P_TYPE:
        if (tok_is(p, "regular")) {
            p->executable = false;
            p->st = P_REG_TAG;
        } else if (tok_is(p, "symlink")) {
            p->st = P_TARGET_KW;
        } else if (tok_is(p, "directory")) {
            if (p->ndirs >= NAR_DEPTH_MAX)
                return pfail(p, e, p->tok_start, "directories nested deeper than %d", NAR_DEPTH_MAX);
            if (p->ndirs == p->cap) {
                p->cap = p->cap ? p->cap * 2 : 8;
                p->dirs = ut_xrealloc(p->dirs, p->cap * sizeof *p->dirs);
            }
            p->dirs[p->ndirs].has_last = false;
            p->dirs[p->ndirs].last_len = 0;
            p->ndirs++;
            if (v->dir_begin && !v->dir_begin(p->ctx, e))
                return cb_fail(p, e);
            p->st = P_DIR_TAG;
        } else {
            return pfail(p, e, p->tok_start, "unknown file type '%.*s'", (int)p->tlen, p->tok);
        }
        return true;
    case P_REG_TAG:
        if (tok_is(p, "executable")) {
            p->executable = true;
            p->st = P_EXEC_VAL;
            return true;
        }
        if (tok_is(p, "contents")) {
            p->st = P_CONTENTS_LEN;
            return true;
        }
        return pfail(p, e, p->tok_start, "expected 'executable' or 'contents', got '%.*s'", (int)p->tlen, p->tok);
    case P_EXEC_VAL:
        if (p->tlen != 0)
            return pfail(p, e, p->tok_start, "executable marker must be an empty string");
        p->st = P_CONTENTS_KW;
        return true;
    case P_CONTENTS_KW:
        return expect_tok(p, e, "contents", P_CONTENTS_LEN);
    case P_NODE_CLOSE:
        if (!expect_tok(p, e, ")", P_NODE_CLOSE))
            return false;
        return node_finished(p, e);
    case P_TARGET_KW:
        return expect_tok(p, e, "target", P_TARGET);
    case P_TARGET:
        if (p->tlen == 0)
            return pfail(p, e, p->tok_start, "empty symlink target");
        if (memchr(p->tok, '\0', p->tlen))
            return pfail(p, e, p->tok_start, "symlink target contains a NUL byte");
        if (v->symlink && !v->symlink(p->ctx, nc_str_n(p->tok, p->tlen), e))
            return cb_fail(p, e);
        p->st = P_NODE_CLOSE;
        return true;
    case P_DIR_TAG:
        if (tok_is(p, ")")) {
            p->ndirs--;
            if (v->dir_end && !v->dir_end(p->ctx, e))
                return cb_fail(p, e);
            return node_finished(p, e);
        }
        return expect_tok(p, e, "entry", P_ENTRY_OPEN);
    case P_ENTRY_OPEN:
        return expect_tok(p, e, "(", P_NAME_KW);
    case P_NAME_KW:
        return expect_tok(p, e, "name", P_NAME);
    case P_NAME: {
        nc_str name = nc_str_n(p->tok, p->tlen);
        char q[4 * NAR_NAME_MAX + 8];
        if (!nc_nar_name_ok(name))
            return pfail(p, e, p->tok_start, "invalid directory entry name '%s'", quoted(q, sizeof q, p->tok, p->tlen));
        pdir *d = &p->dirs[p->ndirs - 1];
        if (d->has_last) {
            int c = nc_str_cmp(nc_str_n(d->last, d->last_len), name);
            if (c == 0)
                return pfail(p, e, p->tok_start, "duplicate directory entry '%.*s'", (int)p->tlen, p->tok);
            if (c > 0)
                return pfail(p, e, p->tok_start, "directory entry '%.*s' is out of order (after '%.*s')",
                             (int)p->tlen, p->tok, (int)d->last_len, d->last);
        }
        memcpy(d->last, p->tok, p->tlen);
        d->last_len = p->tlen;
        d->has_last = true;
        if (v->dir_entry && !v->dir_entry(p->ctx, name, e))
            return cb_fail(p, e);
        p->st = P_NODE_KW;
        return true;
    }
    case P_NODE_KW:
        return expect_tok(p, e, "node", P_OPEN);
    case P_ENTRY_CLOSE:
        return expect_tok(p, e, ")", P_DIR_TAG);
    case P_END:
        return pfail(p, e, p->tok_start, "trailing data after the archive");
    case P_CONTENTS_LEN:
    case P_CONTENTS:
    case P_CONTENTS_PAD:
        break;
    }
    return pfail(p, e, p->off, "internal parser state error");
}

bool nc_nar_parser_feed(nc_nar_parser *p, const void *data, size_t n, ut_err *e)
{
    const uint8_t *b = data;
    size_t i = 0;
    if (p->failed)
        return ut_err_set(e, "NAR: parser used after an error");
    while (i < n) {
        if (p->st == P_END)
            return pfail(p, e, p->off, "trailing data after the archive");
        if (p->st == P_CONTENTS) {
            uint64_t take = n - i < p->file_left ? n - i : p->file_left;
            if (take && p->v->file_data && !p->v->file_data(p->ctx, b + i, (size_t)take, e))
                return cb_fail(p, e);
            i += take;
            p->off += take;
            p->file_left -= take;
            if (p->file_left == 0) {
                p->pad_left = p->file_size % 8 ? 8 - p->file_size % 8 : 0;
                p->st = P_CONTENTS_PAD;
            }
            continue;
        }
        if (p->st == P_CONTENTS_PAD) {
            if (p->pad_left == 0) {
                if (p->v->file_end && !p->v->file_end(p->ctx, e))
                    return cb_fail(p, e);
                p->st = P_NODE_CLOSE;
                continue;
            }
            if (b[i] != 0)
                return pfail(p, e, p->off, "non-zero padding after file contents");
            i++;
            p->off++;
            p->pad_left--;
            continue;
        }
        /* Token reading: length (8 bytes), data, padding. */
        if (p->tphase == 0) {
            if (p->lenhave == 0)
                p->tok_start = p->off;
            p->lenb[p->lenhave++] = b[i++];
            p->off++;
            if (p->lenhave < 8)
                continue;
            p->lenhave = 0;
            uint64_t len = 0;
            for (int k = 7; k >= 0; k--)
                len = len << 8 | p->lenb[k];
            if (p->st == P_CONTENTS_LEN) {
                p->file_size = p->file_left = len;
                if (p->v->file_begin && !p->v->file_begin(p->ctx, p->executable, len, e))
                    return cb_fail(p, e);
                p->st = P_CONTENTS;
                if (len == 0) {
                    p->pad_left = 0;
                    p->st = P_CONTENTS_PAD;
                }
                continue;
            }
            if (len > max_token(p->st))
                return pfail(p, e, p->tok_start, "string of %llu bytes is too long here",
                             (unsigned long long)len);
            p->tlen = len;
            p->thave = 0;
            p->pad_left = len % 8 ? 8 - len % 8 : 0;
            p->tphase = 1;
        }
        if (p->tphase == 1) {
            size_t take = (size_t)(p->tlen - p->thave);
            if (take > n - i)
                take = n - i;
            memcpy(p->tok + p->thave, b + i, take);
            p->thave += take;
            i += take;
            p->off += take;
            if (p->thave < p->tlen)
                continue;
            p->tok[p->tlen] = '\0';
            p->tphase = 2;
        }
        if (p->tphase == 2) {
            while (p->pad_left && i < n) {
                if (b[i] != 0)
                    return pfail(p, e, p->off, "non-zero padding after a string");
                i++;
                p->off++;
                p->pad_left--;
            }
            if (p->pad_left)
                continue;
            p->tphase = 0;
            if (!on_token(p, e))
                return false;
        }
    }
    /* An empty file's pad/end step needs no input; settle it now so the
     * visitor sees file_end even if the input ends here. */
    if (p->st == P_CONTENTS_PAD && p->pad_left == 0) {
        if (p->v->file_end && !p->v->file_end(p->ctx, e))
            return cb_fail(p, e);
        p->st = P_NODE_CLOSE;
    }
    return true;
}

bool nc_nar_parser_finish(nc_nar_parser *p, ut_err *e)
{
    if (p->failed)
        return ut_err_set(e, "NAR: parser used after an error");
    if (p->st != P_END || p->tphase != 0 || p->lenhave != 0)
        return pfail(p, e, p->off, "unexpected end of archive (truncated)");
    return true;
}

bool nc_nar_parse(const void *data, size_t n, const nc_nar_visitor *v, void *ctx, ut_err *e)
{
    nc_nar_parser *p = nc_nar_parser_new(v, ctx);
    bool ok = nc_nar_parser_feed(p, data, n, e) && nc_nar_parser_finish(p, e);
    nc_nar_parser_free(p);
    return ok;
}
