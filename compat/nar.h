/* NAR (Nix ARchive): the canonical serialisation of a file system object
 * whose hash names store objects.
 *
 *   str("nix-archive-1") node
 *   node    = "(" "type" ( "regular" ["executable" ""] "contents" str
 *                        | "symlink" "target" str
 *                        | "directory" { "entry" "(" "name" str "node" node ")" } ) ")"
 *   str(s)  = u64le(len) s zero-padding-to-8
 *
 * Directory entries appear in strictly increasing byte order of their names;
 * names are non-empty, at most 1024 bytes, never ".", "..", and hold no '/'
 * or NUL.
 *
 * Both directions are streaming and do no I/O: the writer hands bytes to a
 * sink callback, the parser is pushed chunks and calls a visitor. */
#ifndef STRAYLIGHT_COMPAT_NAR_H
#define STRAYLIGHT_COMPAT_NAR_H

#include "compat/hash.h"
#include "compat/nc.h"
#include "util/util.h"

/* ---- Writer ---------------------------------------------------------------
 * The caller walks its tree and calls, for the root and recursively:
 *   nc_nar_file_begin, nc_nar_file_data*, nc_nar_file_end
 *   nc_nar_symlink
 *   nc_nar_dir_begin, { nc_nar_dir_entry, <node> }*, nc_nar_dir_end
 * Misuse (wrong order, entry names out of order or invalid, file data not
 * matching the announced size) fails with a message; after a failure the
 * writer only accepts nc_nar_writer_free. */
typedef void (*nc_nar_sink)(void *ctx, const void *p, size_t n);
typedef struct nc_nar_writer nc_nar_writer;

/* sink may be NULL (just hashing/counting). hash_algo: the NAR hash to
 * compute alongside, or NULL for none. */
nc_nar_writer *nc_nar_writer_new(nc_nar_sink sink, void *ctx, const nc_hash_algo *hash_algo);
bool nc_nar_file_begin(nc_nar_writer *w, bool executable, uint64_t size, ut_err *e);
bool nc_nar_file_data(nc_nar_writer *w, const void *p, size_t n, ut_err *e);
bool nc_nar_file_end(nc_nar_writer *w, ut_err *e);
bool nc_nar_symlink(nc_nar_writer *w, nc_str target, ut_err *e);
bool nc_nar_dir_begin(nc_nar_writer *w, ut_err *e);
bool nc_nar_dir_entry(nc_nar_writer *w, nc_str name, ut_err *e);
bool nc_nar_dir_end(nc_nar_writer *w, ut_err *e);
/* Checks the root node is complete; gives the hash (if one was asked for)
 * and the NAR's size in bytes. Either out pointer may be NULL. */
bool nc_nar_writer_finish(nc_nar_writer *w, nc_hash *hash, uint64_t *size, ut_err *e);
void nc_nar_writer_free(nc_nar_writer *w);

/* The NAR hash and size of a single regular file, without building it. */
void nc_nar_hash_regular(nc_hash_algo algo, const void *data, size_t n, bool executable, nc_hash *hash,
                         uint64_t *size);

/* Whether name may be a directory entry name in a NAR. */
bool nc_nar_name_ok(nc_str name);

/* ---- Parser ---------------------------------------------------------------
 * Callbacks mirror the writer calls. Any may be NULL (ignored); returning
 * false aborts the parse with the callback's error. File contents arrive in
 * chunks of whatever size the input was fed in. */
typedef struct nc_nar_visitor {
    bool (*file_begin)(void *ctx, bool executable, uint64_t size, ut_err *e);
    bool (*file_data)(void *ctx, const void *p, size_t n, ut_err *e);
    bool (*file_end)(void *ctx, ut_err *e);
    bool (*symlink)(void *ctx, nc_str target, ut_err *e);
    bool (*dir_begin)(void *ctx, ut_err *e);
    bool (*dir_entry)(void *ctx, nc_str name, ut_err *e);   /* the entry's node follows */
    bool (*dir_end)(void *ctx, ut_err *e);
} nc_nar_visitor;

typedef struct nc_nar_parser nc_nar_parser;
/* Strict: rejects bad magic or tags, non-zero padding, misplaced
 * "executable", entries out of order or duplicated, bad entry names, and
 * trailing bytes. Errors name the byte offset. */
nc_nar_parser *nc_nar_parser_new(const nc_nar_visitor *v, void *ctx);
bool nc_nar_parser_feed(nc_nar_parser *p, const void *data, size_t n, ut_err *e);
/* Fails if the NAR is incomplete (truncated). */
bool nc_nar_parser_finish(nc_nar_parser *p, ut_err *e);
void nc_nar_parser_free(nc_nar_parser *p);
/* All of it at once. */
bool nc_nar_parse(const void *data, size_t n, const nc_nar_visitor *v, void *ctx, ut_err *e);

#endif
