/* eval/pure/version.h: Nix's version strings (builtins.splitVersion,
 * compareVersions, parseDrvName), with Nix's exact quirks: components are
 * runs of digits or runs of other non-separator bytes, "pre" sorts before
 * everything, and a numeric component only counts as a number when it fits
 * a 32-bit int (longer digit runs compare as strings, as in Nix). */
#ifndef STRAYLIGHT_EVAL_PURE_VERSION_H
#define STRAYLIGHT_EVAL_PURE_VERSION_H

#include <stddef.h>

typedef struct ev_slice {
    const char *ptr;
    size_t len;
} ev_slice;

/* Next component of v starting at *pos (skipping '.' and '-' first); an
 * empty slice when none is left. *pos is advanced past it. */
ev_slice ev_version_next(const char *v, size_t len, size_t *pos);

/* The components of v into out[0..max); returns how many there are (which
 * may exceed max: call again with a bigger array). */
size_t ev_split_version(const char *v, size_t len, ev_slice *out, size_t max);

/* -1, 0 or 1. */
int ev_compare_versions(const char *a, size_t alen, const char *b, size_t blen);

/* Splits at the first '-' not followed by a letter: name and version
 * (version empty when there is no such dash). */
void ev_parse_drv_name(const char *s, size_t len, ev_slice *name, ev_slice *version);

#endif
