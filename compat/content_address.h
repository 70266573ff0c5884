/* Content addresses: how a store object's bytes were hashed to name it.
 *
 *   method FLAT  - the hash of the file's bytes         "fixed:<algo>:<nix32>"
 *   method NAR   - the hash of the NAR serialisation    "fixed:r:<algo>:<nix32>"
 *   method TEXT  - flat, for text files with references "text:sha256:<nix32>"
 *
 * In .drv files the method and algorithm share one field: "sha256",
 * "r:sha256", "text:sha256" (Nix's printMethodAlgo). */
#ifndef STRAYLIGHT_COMPAT_CONTENT_ADDRESS_H
#define STRAYLIGHT_COMPAT_CONTENT_ADDRESS_H

#include "compat/hash.h"

typedef enum nc_ca_method {
    NC_CA_FLAT,
    NC_CA_NAR,
    NC_CA_TEXT,
} nc_ca_method;

typedef struct nc_content_address {
    nc_ca_method method;
    nc_hash hash;
} nc_content_address;

/* "", "r:" or "text:": the prefix of the .drv hashAlgo field. */
const char *nc_ca_method_prefix(nc_ca_method m);
/* "flat", "nar", "text": the "method" of the JSON formats. */
const char *nc_ca_method_name(nc_ca_method m);
bool nc_ca_method_from_name(const char *s, size_t n, nc_ca_method *out);

/* "<prefix><algo>", e.g. "r:sha256". */
void nc_ca_print_method_algo(ut_buf *b, nc_ca_method m, nc_hash_algo a);
/* Parses "<prefix><algo>"; errors name the field as Nix does. */
bool nc_ca_parse_method_algo(const char *s, size_t n, nc_ca_method *m, nc_hash_algo *a, ut_err *e);

/* "fixed:r:sha256:<nix32>" etc. (Nix's renderContentAddress). */
void nc_ca_render(ut_buf *b, const nc_content_address *ca);
bool nc_ca_parse(const char *s, size_t n, nc_content_address *out, ut_err *e);

#endif
