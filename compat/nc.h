/* compat/: Nix wire formats. This header holds the one type every compat
 * header shares: a byte string with a length. Nix strings (derivation env
 * values, file names in a NAR) may hold any byte including NUL, so nothing in
 * compat's API relies on NUL termination for data; strings compat allocates
 * are NUL-terminated anyway for the caller's convenience. */
#ifndef STRAYLIGHT_COMPAT_NC_H
#define STRAYLIGHT_COMPAT_NC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct nc_str {
    const char *s;
    size_t len;
} nc_str;

static inline nc_str nc_str_c(const char *s) { nc_str r = {s, s ? strlen(s) : 0}; return r; }
static inline nc_str nc_str_n(const char *s, size_t n) { nc_str r = {s, n}; return r; }
static inline bool nc_str_eq(nc_str a, nc_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.s, b.s, a.len) == 0);
}
/* Byte-wise order, shorter prefix first: the order of std::string, which is
 * the order Nix sorts every set and map it prints. */
int nc_str_cmp(nc_str a, nc_str b);

#endif
