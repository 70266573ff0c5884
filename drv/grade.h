/* drv/grade.h: the coeffect grade of an action (see docs/coeffects.md).
 *
 * A grade is a product of small lattices, each with "pure" at the bottom; join
 * is componentwise. Sets are kept sorted and duplicate-free so that equality
 * and order are plain comparisons, and the JSON form is canonical. */
#ifndef STRAYLIGHT_DRV_GRADE_H
#define STRAYLIGHT_DRV_GRADE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* A sorted set of distinct NUL-terminated strings, owned by the set. */
typedef struct dv_strset {
    char **v;
    size_t n, cap;
} dv_strset;

void dv_strset_add(dv_strset *s, const char *str);
bool dv_strset_has(const dv_strset *s, const char *str);
void dv_strset_union(dv_strset *dst, const dv_strset *src);
bool dv_strset_subset(const dv_strset *a, const dv_strset *b);
bool dv_strset_equal(const dv_strset *a, const dv_strset *b);
void dv_strset_copy(dv_strset *dst, const dv_strset *src);
void dv_strset_free(dv_strset *s);

typedef enum { DV_NET_NONE, DV_NET_LOOPBACK, DV_NET_PINNED, DV_NET_OPEN } dv_net;
/* Flat lattices with a bottom ("no demand") and a top (conflicting demands). */
typedef enum { DV_PLAT_ANY, DV_PLAT_ONE, DV_PLAT_TOP } dv_plat;
typedef enum { DV_CLOCK_NONE, DV_CLOCK_EPOCH, DV_CLOCK_WALL } dv_clock;
typedef enum { DV_ISO_STRICT, DV_ISO_RELAXED, DV_ISO_NONE } dv_iso;

/* A host path demand; rw subsumes ro for the same path. */
typedef struct dv_hostpath {
    char *path;
    bool rw;
} dv_hostpath;

typedef struct dv_grade {
    dv_net net;
    dv_strset net_pins;       /* expected hashes, when net == DV_NET_PINNED */
    dv_hostpath *host;        /* sorted by path, distinct paths */
    size_t nhost, caphost;
    dv_strset env;            /* environment variable names */
    dv_strset feature;        /* system features */
    dv_plat plat;
    char *system;             /* when plat == DV_PLAT_ONE */
    dv_clock clock;
    int64_t epoch;            /* when clock == DV_CLOCK_EPOCH */
    uint32_t cores;
    dv_strset gpu;            /* "vendor/driver" demands; empty = none */
    dv_strset device;         /* device nodes */
    dv_strset cred;           /* credential classes */
    dv_iso iso;
} dv_grade;

/* The zero-initialised grade is pure; dv_grade_init makes it explicit. */
void dv_grade_init(dv_grade *g);
void dv_grade_free(dv_grade *g);
void dv_grade_copy(dv_grade *dst, const dv_grade *src);
bool dv_grade_is_pure(const dv_grade *g);
bool dv_grade_equal(const dv_grade *a, const dv_grade *b);
/* dst := dst ⊔ src */
void dv_grade_join(dv_grade *dst, const dv_grade *src);
/* a ≤ b: a context providing b can serve a demand of a. */
bool dv_grade_leq(const dv_grade *a, const dv_grade *b);
/* tau: the part of a grade that can shape output bytes without being verified
 * (open network, env, host paths, wall clock, GPU, isolation above strict). */
void dv_grade_taint(dv_grade *dst, const dv_grade *g);

/* Builders. */
void dv_grade_add_pin(dv_grade *g, const char *hash);   /* raises net to pinned */
void dv_grade_set_net(dv_grade *g, dv_net level);       /* raises only */
void dv_grade_add_host(dv_grade *g, const char *path, bool rw);
void dv_grade_set_system(dv_grade *g, const char *system);
void dv_grade_set_epoch(dv_grade *g, int64_t epoch);
void dv_grade_set_wall(dv_grade *g);
void dv_grade_set_iso(dv_grade *g, dv_iso iso);         /* raises only */

/* How a graph picture colours an action. */
typedef enum { DV_CLASS_PURE, DV_CLASS_PINNED, DV_CLASS_IMPURE } dv_class;
dv_class dv_grade_class(const dv_grade *g);
const char *dv_class_name(dv_class c);

/* JSON: an object holding only the components above bottom ({} is pure). */
json_t *dv_grade_to_json(const dv_grade *g);
bool dv_grade_from_json(dv_grade *g, const json_t *j, ut_err *e);
/* One line for humans and Graphviz labels. */
void dv_grade_describe(const dv_grade *g, ut_buf *out);

#endif
