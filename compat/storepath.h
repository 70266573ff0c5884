/* Store paths: "<store dir>/<32 nix32 chars>-<name>".
 *
 * Every function takes the store directory as a NUL-terminated string without
 * a trailing slash; NULL means NC_STORE_DIR_DEFAULT. Paths are produced
 * appended to a ut_buf as full paths ("/nix/store/...-name"), because that is
 * the form every Nix text format hashes and prints. */
#ifndef STRAYLIGHT_COMPAT_STOREPATH_H
#define STRAYLIGHT_COMPAT_STOREPATH_H

#include "compat/content_address.h"
#include "compat/hash.h"

#define NC_STORE_DIR_DEFAULT "/nix/store"
#define NC_STORE_HASH_LEN 32        /* nix32 characters of the hash part */
#define NC_STORE_HASH_BYTES 20      /* compressed hash bytes */
#define NC_STORE_NAME_MAX 211       /* Nix's StorePath::MaxPathLen */

/* The pieces of a store path; pointers into the parsed string. */
typedef struct nc_store_path_parts {
    nc_str hash;        /* 32 chars */
    nc_str name;        /* after the '-' */
    nc_str base;        /* "<hash>-<name>" */
} nc_store_path_parts;

/* Checks a store object name: 1..211 bytes of [A-Za-z0-9+-._?=]. path_for_msg
 * is what the message quotes (Nix quotes the whole path), e.g.
 *   store path '/nix/store/...-a b' contains illegal character ' '
 * Messages follow Nix 2.8 (checkName). */
bool nc_store_name_check(nc_str name, nc_str path_for_msg, ut_err *e);

/* Splits a base name "<hash>-<name>" and checks it as Nix's StorePath. */
bool nc_store_base_parse(nc_str base, nc_store_path_parts *out, ut_err *e);
/* Splits a full path, which must be directly inside store_dir
 * (Nix's parseStorePath: "path '%s' is not in the Nix store" otherwise).
 * The path must already be canonical: Nix runs canonPath first (dropping a
 * trailing '/', "//" and "." parts), which needs no I/O but is the caller's
 * job here. */
bool nc_store_path_parse(const char *store_dir, nc_str path, nc_store_path_parts *out, ut_err *e);
/* Cheap yes/no form of nc_store_path_parse. */
bool nc_is_store_path(const char *store_dir, nc_str path);

/* "<drvName>" for output "out", "<drvName>-<output>" otherwise. */
void nc_output_path_name(ut_buf *b, nc_str drv_name, nc_str output_name);

/* The primitive: store_dir/nix32(compress20(sha256(
 *   "<type>:sha256:<base16 of h>:<store_dir>:<name>")))-<name>.
 * h is printed with its own algorithm name; Nix only ever passes sha256. */
void nc_make_store_path(ut_buf *out, const char *store_dir, nc_str type, const nc_hash *h, nc_str name);

/* type "output:<output_name>", name nc_output_path_name(drv_name, output_name):
 * the path of an input-addressed derivation output given its hashDerivationModulo. */
void nc_make_output_path(ut_buf *out, const char *store_dir, nc_str output_name, const nc_hash *h,
                         nc_str drv_name);

/* References: full store paths in any order (they are sorted and duplicates
 * dropped, as Nix's StorePathSet). */
typedef struct nc_refs {
    const nc_str *paths;
    size_t n;
    bool self;          /* the object refers to itself (adds ":self") */
} nc_refs;

/* Text objects (derivations, builtins.toFile): type "text:<refs...>", h must
 * be the sha256 of the contents. Fails if h is not sha256, refs.self is set
 * or the name is invalid (this and nc_make_fixed_output_path check it; the
 * void primitives above do not). */
bool nc_make_text_path(ut_buf *out, const char *store_dir, nc_str name, const nc_hash *h,
                       const nc_refs *refs, ut_err *e);

/* Fixed-output / source paths (Nix's makeFixedOutputPath):
 *   NAR + sha256  -> type "source<refs...>" over the NAR hash itself
 *   anything else -> type "output:out" over
 *                    sha256("fixed:out:<r:?><algo>:<base16>:"), refs must be empty
 *   TEXT          -> nc_make_text_path
 * refs may be NULL (no references). */
bool nc_make_fixed_output_path(ut_buf *out, const char *store_dir, nc_ca_method method,
                               const nc_hash *h, nc_str name, const nc_refs *refs, ut_err *e);

/* "/<nix32 sha256("nix-output:<output>")>": what a floating content-addressed
 * output's env variable holds until it is built (Nix's hashPlaceholder). */
void nc_hash_placeholder(ut_buf *out, nc_str output_name);
/* "/<nix32 sha256("nix-upstream-output:<drv hash part>:<outputPathName>")>":
 * the stand-in for an output of an input derivation whose path is not known
 * before it is built (Nix's downstreamPlaceholder). drv_path is the full path
 * of the .drv. */
bool nc_downstream_placeholder(ut_buf *out, const char *store_dir, nc_str drv_path, nc_str output_name,
                               ut_err *e);

#endif
