/* eval/pure/json.h: builtins.fromJSON's reader.
 *
 * Reads JSON as Nix does (Nix uses the nlohmann JSON library): integers that
 * fit int64 stay integers, larger positive ones fitting uint64 are an error,
 * anything else numeric becomes a float; a float that overflows is an
 * error; later duplicate keys replace earlier ones; a NUL byte in a key or
 * string is refused. Error messages are the library's, with its line and
 * column rules, because Nix shows them to users verbatim. */
#ifndef STRAYLIGHT_EVAL_PURE_JSON_H
#define STRAYLIGHT_EVAL_PURE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef enum ev_json_type {
    EV_JSON_NULL,
    EV_JSON_BOOL,
    EV_JSON_INT,
    EV_JSON_FLOAT,
    EV_JSON_STRING,
    EV_JSON_ARRAY,
    EV_JSON_OBJECT,
} ev_json_type;

typedef struct ev_json ev_json;
typedef struct ev_json_member {
    const char *key;
    size_t klen;
    ev_json *val;
} ev_json_member;

struct ev_json {
    ev_json_type type;
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const char *s;   /* NUL-terminated, no NUL inside */
            size_t len;
        } str;
        struct {
            ev_json **items;
            size_t n;
        } arr;
        struct {
            ev_json_member *m;   /* in first-occurrence order, keys unique */
            size_t n;
        } obj;
    } u;
};

/* Parses all of text (len bytes); nodes live in arena. NULL and e set on
 * error. */
ev_json *ev_json_parse(const char *text, size_t len, ut_arena *arena, ut_err *e);

/* The same parser as a stream of events, for building values without an
 * intermediate tree. Containers report their child count when they close;
 * an object's members come as key then value. Events stop at the first
 * error (the handlers cannot fail). Strings passed to handlers are only
 * valid during the call. Duplicate keys are passed on as they come. */
typedef struct ev_json_sax {
    void (*null)(void *ctx);
    void (*boolean)(void *ctx, bool b);
    void (*integer)(void *ctx, int64_t i);
    void (*number)(void *ctx, double f);
    void (*string)(void *ctx, const char *s, size_t len);
    void (*begin_array)(void *ctx);
    void (*end_array)(void *ctx, size_t n);
    void (*begin_object)(void *ctx);
    void (*key)(void *ctx, const char *s, size_t len);
    void (*end_object)(void *ctx, size_t n);
} ev_json_sax;

bool ev_json_sax_parse(const char *text, size_t len, const ev_json_sax *sax, void *ctx, ut_err *e);

/* The error Nix gives for a string it cannot hold: "input string 'a␀b'
 * cannot be represented as Nix string because it contains null bytes".
 * Returns true when s has no NUL byte. */
bool ev_check_no_nul(const char *s, size_t len, ut_err *e);

#endif
