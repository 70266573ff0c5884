/* util/: the bottom layer. Memory, byte buffers, arenas, errors, files and a
 * byte-keyed hash map. Every other layer may call these; they call nothing. */
#ifndef STRAYLIGHT_UTIL_H
#define STRAYLIGHT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define UT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define UT_NORETURN __attribute__((noreturn))
#else
#define UT_PRINTF(f, a)
#define UT_NORETURN
#endif

/* Allocation that cannot fail: out of memory ends the process with a message,
 * because no caller can do anything sensible with a NULL. */
void *ut_xmalloc(size_t n);
void ut_populate(void *p, size_t n);      /* fault in memory about to be filled */
void *ut_xcalloc(size_t count, size_t size);
void *ut_xrealloc(void *p, size_t n);
char *ut_xstrdup(const char *s);
char *ut_xstrndup(const char *s, size_t n);
void *ut_xmemdup(const void *p, size_t n);
UT_NORETURN void ut_die(const char *fmt, ...) UT_PRINTF(1, 2);

/* Growable byte buffer. data is always NUL-terminated after any append, so
 * it can be used as a C string when it holds no NUL bytes. */
typedef struct ut_buf {
    char *data;
    size_t len;
    size_t cap;
} ut_buf;

#define UT_BUF_INIT {NULL, 0, 0}
void ut_buf_init(ut_buf *b);
void ut_buf_free(ut_buf *b);
void ut_buf_reserve(ut_buf *b, size_t extra);
/* Appending inlines: the derivation writer appends a million small pieces
 * to one buffer; only growing is a call. */
static inline void ut_buf_append(ut_buf *b, const void *p, size_t n)
{
    if (n >= b->cap - b->len)   /* room for n and the NUL (cap is 0, or > len) */
        ut_buf_reserve(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}
void ut_buf_puts(ut_buf *b, const char *s);
static inline void ut_buf_putc(ut_buf *b, char c)
{
    if (b->cap - b->len <= 1)
        ut_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}
void ut_buf_printf(ut_buf *b, const char *fmt, ...) UT_PRINTF(2, 3);
void ut_buf_vprintf(ut_buf *b, const char *fmt, va_list ap);
void ut_buf_clear(ut_buf *b);
/* Hands the bytes to the caller (who frees them) and leaves b empty. */
char *ut_buf_steal(ut_buf *b, size_t *len_out);
const char *ut_buf_cstr(ut_buf *b);

/* Bump allocator: many small objects with one owner and one lifetime. */
/* The bump window is visible so that allocation inlines (and clearing a
 * node of constant size becomes a few stores); the rest is arena.c's. */
typedef struct ut_arena {
    unsigned char *next, *limit;    /* free space of the current chunk */
    struct ut_chunk *head;
    size_t total;
} ut_arena;
ut_arena *ut_arena_new(void);
void ut_arena_free(ut_arena *a);
void *ut_arena_alloc_slow(ut_arena *a, size_t n);
static inline void *ut_arena_alloc(ut_arena *a, size_t n)   /* 16-byte aligned, zeroed */
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(a->limit - a->next) < n)
        return ut_arena_alloc_slow(a, n);
    void *p = a->next;
    a->next += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}
/* Moves src's memory into dst (freed with dst, where it stays at the same
 * addresses) and frees src: what was allocated in src now lives as long as
 * dst. */
void ut_arena_give(ut_arena *dst, ut_arena *src);
char *ut_arena_strndup(ut_arena *a, const char *s, size_t n);
char *ut_arena_strdup(ut_arena *a, const char *s);
size_t ut_arena_used(const ut_arena *a);

/* Errors: a heap message owned by the ut_err. Functions that can fail take a
 * ut_err * and return false/NULL/-1; the message already carries the location
 * (file:line:col, path, URL) so callers print it as is. */
typedef struct ut_err {
    char *msg;
} ut_err;

#define UT_ERR_INIT {NULL}
bool ut_err_set(ut_err *e, const char *fmt, ...) UT_PRINTF(2, 3);   /* returns false */
bool ut_err_setv(ut_err *e, const char *fmt, va_list ap);
/* Prepends context: "context: old message". */
bool ut_err_wrap(ut_err *e, const char *fmt, ...) UT_PRINTF(2, 3);
void ut_err_clear(ut_err *e);
static inline bool ut_err_isset(const ut_err *e) { return e && e->msg; }

/* Files. ut_read_file reads all bytes (NUL-terminated for convenience).
 * ut_write_file_atomic writes to a temporary name in the same directory and
 * renames it over path, so readers never see a half-written file. */
bool ut_read_file(const char *path, ut_buf *out, ut_err *e);
bool ut_read_fd(int fd, ut_buf *out, ut_err *e);
/* The same for an fd whose fstat is st (may be NULL): a regular file is
 * read with one read when its size has not changed. */
struct stat;
bool ut_read_fd_stat(int fd, const struct stat *st, ut_buf *out, ut_err *e);
/* Reads fd into buf[0, cap) until its end or until at least `enough`
 * bytes are in, whichever is first (a regular file's read comes short
 * only at its end: asked for one byte more than its size, a file that has
 * not grown is read with one call). The count read, or -1 with errno. */
long ut_read_upto(int fd, void *buf, size_t cap, size_t enough);

/* The entries of the directory open at fd, without "." and "..", sorted
 * by name (strcmp); type is the d_type the file system reported (DT_UNKNOWN
 * when it does not say). On failure e holds strerror's text alone. */
typedef struct ut_dirent {
    char *name;
    unsigned char type;
} ut_dirent;
bool ut_dir_list(int fd, ut_dirent **out, size_t *n, ut_err *e);
void ut_dir_list_free(ut_dirent *v, size_t n);
bool ut_write_file_atomic(const char *path, const void *data, size_t len, int mode, ut_err *e);
/* mkdir -p */
bool ut_mkdirs(const char *path, int mode, ut_err *e);
/* Where temporary files go: $TMPDIR when it is an absolute path, else /tmp. */
const char *ut_tmp_dir(void);

/* Hash map from byte strings to pointers. Keys are copied into the map. */
typedef struct ut_hmap ut_hmap;
ut_hmap *ut_hmap_new(void);
void ut_hmap_free(ut_hmap *m);
/* Frees every value with free() (values that own nothing else), then m */
void ut_hmap_free_values(ut_hmap *m);
void *ut_hmap_get(const ut_hmap *m, const void *key, size_t klen);
bool ut_hmap_has(const ut_hmap *m, const void *key, size_t klen);
/* Sets key to val; returns the previous value or NULL. */
void *ut_hmap_put(ut_hmap *m, const void *key, size_t klen, void *val);
size_t ut_hmap_count(const ut_hmap *m);
/* Iteration: *it starts at 0; returns false when done. */
bool ut_hmap_next(const ut_hmap *m, size_t *it, const char **key, size_t *klen, void **val);

uint64_t ut_hash_bytes(const void *p, size_t n);   /* 64 bit, in-memory use only */

#endif
