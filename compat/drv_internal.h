/* Shared between the derivation source files of compat/; not public. */
#ifndef STRAYLIGHT_COMPAT_DRV_INTERNAL_H
#define STRAYLIGHT_COMPAT_DRV_INTERNAL_H

#include "compat/derivation.h"

/* Stable sort (merge sort) with a fast path for input that is already
 * sorted, which is what every .drv Nix wrote is. */
void nc_stable_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/* Sorts and de-duplicates a string set in place; returns the new count. */
size_t nc_str_set_normalize(nc_str *v, size_t n);
/* Normalises an input node: output sets become sets, children are sorted by
 * name; children with equal names are merged (union, recursively) if merge,
 * else the last one wins (Nix's insert_or_assign while parsing). */
void nc_drv_node_normalize(ut_arena *a, nc_drv_input_node *node, bool merge);

#endif
