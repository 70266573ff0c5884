/* eval/pure/toml.h: a TOML 1.0 reader for builtins.fromTOML.
 *
 * Full TOML 1.0: tables, inline tables, arrays of tables, dotted keys, the
 * four string kinds, integers in decimal/hex/octal/binary with '_', floats
 * with inf and nan, booleans, and the four date/time kinds. Dates and times
 * are kept as the text Nix produces for them with the parse-toml-timestamps
 * feature ("1979-05-27T07:32:00.100Z": upper-case T, seconds always shown,
 * a fraction widened to 3, 6 or 9 digits and cut after 9, a zero offset
 * written Z); whether they are allowed at all is the caller's decision.
 *
 * Errors read like the ones Nix shows (which come from the toml11 library):
 *   [error] <what>
 *    --> fromTOML
 *      |
 *    1 | <the line>
 *      |     ^-- <detail>
 * with the exact wording for integer overflow; other wordings are ours. */
#ifndef STRAYLIGHT_EVAL_PURE_TOML_H
#define STRAYLIGHT_EVAL_PURE_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef enum ev_toml_type {
    EV_TOML_TABLE,
    EV_TOML_ARRAY,
    EV_TOML_STRING,
    EV_TOML_INT,
    EV_TOML_FLOAT,
    EV_TOML_BOOL,
    EV_TOML_DATETIME,
} ev_toml_type;

typedef enum ev_toml_dt_kind {
    EV_TOML_OFFSET_DATETIME,
    EV_TOML_LOCAL_DATETIME,
    EV_TOML_LOCAL_DATE,
    EV_TOML_LOCAL_TIME,
} ev_toml_dt_kind;

typedef struct ev_toml ev_toml;
typedef struct ev_toml_member {
    const char *key;   /* NUL-terminated; may hold NUL bytes (see klen) */
    size_t klen;
    ev_toml *val;
} ev_toml_member;

struct ev_toml {
    ev_toml_type type;
    uint8_t dt_kind;   /* ev_toml_dt_kind, for EV_TOML_DATETIME */
    uint8_t flags;     /* the parser's bookkeeping */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const char *s;   /* strings, and the text of dates and times */
            size_t len;
        } str;
        struct {
            ev_toml **items;
            size_t n, cap;
        } arr;
        struct {
            ev_toml_member *m;   /* in definition order, keys unique */
            size_t n, cap;
            void *idx;           /* the parser's lookup table; NULL afterwards */
        } tbl;
    } u;
};

/* Parses a whole document into a table; nodes live in arena. Strings may
 * contain NUL bytes (from \u0000): the caller decides what to do with them. */
ev_toml *ev_toml_parse(const char *text, size_t len, ut_arena *arena, ut_err *e);

#endif
