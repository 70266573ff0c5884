/* Derivations: the ATerm .drv format, hashDerivationModulo, output paths,
 * and the two JSON forms (Nix 2.8's `nix show-derivation`, and the current
 * versioned format, "version": 4).
 *
 * A derivation owns all its memory through its arena: every nc_str inside it
 * points into that arena (NUL-terminated copies). Lists are kept sorted the
 * way Nix's std::map/std::set keep them (byte order), because printing order
 * is part of the format and therefore of every hash over it. Builders of a
 * derivation by hand (eval) must call nc_drv_normalize before printing or
 * hashing; the parser produces sorted lists itself.
 *
 * Nothing here reads files. Where Nix would load an input derivation (to
 * hash it modulo), the caller supplies a callback and does the loading and
 * memoising itself. */
#ifndef STRAYLIGHT_COMPAT_DERIVATION_H
#define STRAYLIGHT_COMPAT_DERIVATION_H

#include "compat/content_address.h"
#include "compat/hash.h"
#include "compat/nc.h"
#include "compat/storepath.h"
#include "util/util.h"

typedef enum nc_output_kind {
    NC_OUT_INPUT_ADDRESSED,   /* path known from the derivation's own hash */
    NC_OUT_CA_FIXED,          /* method + hash fixed in advance; path follows */
    NC_OUT_CA_FLOATING,       /* method + algo; path known only after building */
    NC_OUT_DEFERRED,          /* input-addressed, but depends on floating CA */
    NC_OUT_IMPURE,            /* method + algo; hash field "impure" */
} nc_output_kind;

typedef struct nc_drv_output {
    nc_str name;
    nc_output_kind kind;
    /* Full store path; set for INPUT_ADDRESSED and CA_FIXED, empty otherwise. */
    nc_str path;
    nc_ca_method method;      /* CA_FIXED, CA_FLOATING, IMPURE */
    nc_hash_algo hash_algo;   /* CA_FIXED (== hash.algo), CA_FLOATING, IMPURE */
    nc_hash hash;             /* CA_FIXED */
} nc_drv_output;

/* Which outputs of an input derivation are used. For dynamic derivations
 * (the .drv's output is itself a .drv), children name an output of the input
 * and the outputs wanted of the derivation it produces, recursively. */
typedef struct nc_drv_input_node nc_drv_input_node;
typedef struct nc_drv_input_child nc_drv_input_child;
struct nc_drv_input_node {
    nc_str *outputs;              /* sorted, unique */
    size_t noutputs;
    nc_drv_input_child *children; /* sorted by name, unique */
    size_t nchildren;
};
struct nc_drv_input_child {
    nc_str name;
    nc_drv_input_node node;
};

typedef struct nc_drv_input {
    nc_str path;                  /* full path of the input .drv */
    nc_drv_input_node node;
} nc_drv_input;

typedef struct nc_drv_env {
    nc_str key;
    nc_str value;
} nc_drv_env;

typedef struct nc_derivation {
    ut_arena *arena;              /* owns everything below */
    nc_str name;                  /* not in the ATerm: the .drv name minus ".drv" */
    nc_drv_output *outputs;       /* sorted by name, unique */
    size_t noutputs;
    nc_drv_input *inputs;         /* input derivations, sorted by path, unique */
    size_t ninputs;
    nc_str *srcs;                 /* input sources: full paths, sorted, unique */
    size_t nsrcs;
    nc_str platform;
    nc_str builder;
    nc_str *args;                 /* in order */
    size_t nargs;
    nc_drv_env *env;              /* sorted by key, unique */
    size_t nenv;
    /* Private to compat: allocated lengths of the arrays above, for the
     * nc_drv_add_* functions (0 = exactly n). */
    size_t cap_outputs, cap_inputs, cap_srcs, cap_args, cap_env;
} nc_derivation;

/* An empty derivation with its own arena (for building one by hand). */
nc_derivation *nc_drv_new(nc_str name);
void nc_drv_free(nc_derivation *d);
/* Sorts outputs, inputs (and their output sets), srcs and env the way Nix's
 * containers do. Duplicate outputs and env keys keep the LAST value (as
 * insert_or_assign / drv.env[name] = value); inputs with the same path are
 * merged (union of their outputs). */
void nc_drv_normalize(nc_derivation *d);
/* Building by hand (eval's derivationStrict): each appends in amortised
 * O(1), copying the bytes; nothing is sorted until nc_drv_normalize (or
 * nc_drv_fill_outputs, which calls it). They work on any derivation (parsed
 * ones too); code that replaces an array itself must reset its cap_ field to
 * 0. nc_drv_add_output returns the new output (kind
 * DEFERRED, empty path) for the caller to fill in; the pointer is valid until
 * the next nc_drv_add_output. platform and builder are set directly with
 * nc_drv_strdup. */
nc_drv_output *nc_drv_add_output(nc_derivation *d, nc_str name);
void nc_drv_add_input(nc_derivation *d, nc_str drv_path, nc_str output);
void nc_drv_add_src(nc_derivation *d, nc_str path);
void nc_drv_add_arg(nc_derivation *d, nc_str arg);
void nc_drv_add_env(nc_derivation *d, nc_str key, nc_str value);
/* Copies bytes into d's arena. */
nc_str nc_drv_strdup(nc_derivation *d, nc_str s);

/* ---- ATerm ---------------------------------------------------------------
 * Parses "Derive(...)" and "DrvWithVersion(\"xp-dyn-drv\",...)" strictly:
 * any deviation is an error "derivation ATerm: at byte N: ...". Paths must
 * be valid store paths under store_dir (NULL = /nix/store). name is the
 * derivation name (from the .drv file name, without ".drv"); when given, a
 * fixed output's stated path must be the one its hash gives. Fields Nix
 * prints unescaped (output names, the platform) may not hold '"' or '\\'.
 * Duplicates are resolved as Nix's containers do (the first of two equal
 * output names, the last of everything else); the result is sorted, so an
 * unsorted file does not print back byte-identically. Returns NULL on
 * error. */
nc_derivation *nc_drv_parse(const char *data, size_t len, const char *store_dir, nc_str name, ut_err *e);

/* Prints the ATerm exactly as Nix's Derivation::unparse (maskOutputs=false).
 * The versioned form is used only when some input has dynamic children. */
void nc_drv_print(const nc_derivation *d, ut_buf *out);

/* The derivation's type as Nix's BasicDerivation::type(): checks the outputs
 * are all of one kind, a fixed output is single and named "out", floating
 * outputs share an algorithm. Messages are Nix's. */
typedef enum nc_drv_type {
    NC_DRV_INPUT_ADDRESSED,
    NC_DRV_DEFERRED,          /* input-addressed, deferred */
    NC_DRV_CA_FIXED,
    NC_DRV_CA_FLOATING,
    NC_DRV_IMPURE,
} nc_drv_type;
bool nc_drv_type_of(const nc_derivation *d, nc_drv_type *out, ut_err *e);

/* ---- hashDerivationModulo ------------------------------------------------
 * Nix's DrvHash. For a fixed-output derivation the only output "out" has its
 * own hash ("fixed:out:<methodalgo>:<hex>:<path>"); for any other every
 * output has the same hash. kind_deferred: the hash depends on a floating or
 * impure derivation somewhere below. */
typedef struct nc_drv_hash {
    nc_hash hash;             /* sha256 */
    bool fixed;               /* only the output "out" exists */
    bool deferred;
} nc_drv_hash;

/* Looks up the hashDerivationModulo(maskOutputs=false) of the input
 * derivation at drv_path (full path). The caller parses the .drv, calls
 * nc_drv_hash_modulo(..., false, ...) on it recursively, and memoises. Returns
 * false with e set if the input cannot be loaded. */
typedef bool (*nc_drv_hash_lookup)(void *ctx, nc_str drv_path, nc_drv_hash *out, ut_err *e);

bool nc_drv_hash_modulo(const nc_derivation *d, const char *store_dir, bool mask_outputs,
                        nc_drv_hash_lookup lookup, void *ctx, nc_drv_hash *out, ut_err *e);
/* The text whose sha256 nc_drv_hash_modulo returns for a non-fixed
 * derivation: the ATerm with input .drv paths replaced by the hex of their
 * hashes (and outputs masked if asked). For tests and debugging. */
bool nc_drv_print_modulo(const nc_derivation *d, const char *store_dir, bool mask_outputs,
                         nc_drv_hash_lookup lookup, void *ctx, ut_buf *out, ut_err *e);
/* The hash of one output from a DrvHash; false + Nix's "no hash for output"
 * error if the derivation has no such output hash. */
bool nc_drv_hash_output(const nc_drv_hash *h, nc_str output_name, nc_str drv_name, nc_hash *out, ut_err *e);

/* ---- Output paths ----------------------------------------------------------
 * The path an output should have: CA_FIXED from its hash
 * (makeFixedOutputPath with outputPathName), INPUT_ADDRESSED from
 * mask_hash (the nc_drv_hash_modulo with mask_outputs=true) via
 * nc_make_output_path. Appends the full path; false for kinds without a
 * static path. */
bool nc_drv_output_path(const nc_derivation *d, const char *store_dir, const nc_drv_output *o,
                        const nc_drv_hash *mask_hash, ut_buf *out, ut_err *e);

/* What derivationStrict does once the outputs are declared: d's outputs must
 * be DEFERRED (input-addressed ones), CA_FIXED or CA_FLOATING/IMPURE (path
 * empty). Sets env[output] and output paths:
 *   CA_FIXED       -> path from the hash, env = path
 *   CA_FLOATING,
 *   IMPURE         -> env = nc_hash_placeholder(output)
 *   DEFERRED       -> env = "" then, if the masked modulo hash is not
 *                     deferred, INPUT_ADDRESSED with path and env = path.
 * Keeps d normalised. */
bool nc_drv_fill_outputs(nc_derivation *d, const char *store_dir, nc_drv_hash_lookup lookup, void *ctx,
                         ut_err *e);

/* Whether the outputs are what the derivation's hashes say (Nix's
 * checkInvariants): an input-addressed output has exactly the path its
 * masked modulo hash gives and is not deferred when that hash is known, a
 * deferred output stays deferred only when the hash is, and the env entry
 * of each output with a path holds that path. Fails with the first
 * disagreement. */
bool nc_drv_check_invariants(const nc_derivation *d, const char *store_dir, nc_drv_hash_lookup lookup, void *ctx,
                             ut_err *e);

/* The store path of the .drv itself: a text path named "<name>.drv" over the
 * ATerm, referring to all input srcs and input drvs. */
bool nc_drv_store_path(const nc_derivation *d, const char *store_dir, ut_buf *out, ut_err *e);

/* What derivationStrict does after building d, in one call: fills the
 * outputs (nc_drv_fill_outputs), appends the .drv path to drv_path, sets
 * *modulo to nc_drv_hash_modulo(d, unmasked) and, when text is not NULL,
 * appends the ATerm to it (with NULL the ATerm is only hashed, never held).
 * Equal to calling those functions one after the other, but every text is
 * printed once and streamed into its hash, the input lookups are shared by
 * the masked and unmasked hashes, and a derivation without input
 * derivations reuses the .drv text's hash as its hash modulo. */
bool nc_drv_instantiate(nc_derivation *d, const char *store_dir, nc_drv_hash_lookup lookup, void *ctx, ut_buf *text,
                        ut_buf *drv_path, nc_drv_hash *modulo, ut_err *e);

/* ---- JSON ------------------------------------------------------------------
 * nc_drv_json_v28: the value `nix show-derivation` (Nix 2.8) prints for one
 * derivation: {"outputs", "inputSrcs", "inputDrvs", "system", "builder",
 * "args", "env"} in that order, pretty-printed with two-space indents as if
 * nested `indent` levels deep, strings escaped exactly as Nix 2.8's JSON
 * writer (bytes >= 0x80 pass through unchanged). Written as text rather than
 * through jansson because the escaping is part of the format.
 * nc_json_string_v28: one string in that escaping (for the outer keys).
 *
 * nc_drv_to_json / nc_drv_from_json: the current format ("version": 4, paths
 * as base names, SRI hashes, "inputs": {"drvs", "srcs"}, a "__json" env entry
 * shown as "structuredAttrs"). to_json returns a new jansson reference
 * (json_t *, declared void * so this header does not pull in jansson);
 * from_json returns NULL with e set on anything malformed. */
void nc_drv_json_v28(const nc_derivation *d, int indent, ut_buf *out);
void nc_json_string_v28(ut_buf *out, nc_str s);
void *nc_drv_to_json(const nc_derivation *d);
nc_derivation *nc_drv_from_json(const void *json, const char *store_dir, ut_err *e);

#endif
