/* eval/pure/fmt.h: how Nix turns numbers and strings into text.
 *
 * Three float formats exist in Nix and they differ on purpose:
 *   printing a value (nix-instantiate --eval, error messages, toXML) uses
 *     iostream defaults: %g with 6 significant digits ("1e+20", "1.23457e+08");
 *   toString uses std::to_string: "%f" ("1.500000");
 *   toJSON uses the JSON library's shortest round-trip form with ".0" on
 *     integral values ("1.0", "1e+20", "1.23456789123e+08" style exponents),
 *     and "null" for NaN and infinities. */
#ifndef STRAYLIGHT_EVAL_PURE_FMT_H
#define STRAYLIGHT_EVAL_PURE_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

void ev_fmt_float_print(double d, ut_buf *out);
void ev_fmt_float_tostring(double d, ut_buf *out);
void ev_fmt_float_json(double d, ut_buf *out);

/* A string literal as the value printer writes it: in double quotes, with
 * \" \\ \n \r \t escaped and "${" written as "\${"; every other byte,
 * including control characters and invalid UTF-8, is copied as is. */
void ev_fmt_string_print(const char *s, size_t len, ut_buf *out);

/* An attribute name as the value printer writes it: bare when it is an
 * identifier that is not a keyword, otherwise as a string literal. */
void ev_fmt_attr_name(const char *s, size_t len, ut_buf *out);
bool ev_is_identifier(const char *s, size_t len);

/* A string as a JSON string (with quotes), escaping exactly what toJSON
 * escapes. Invalid UTF-8 is an error, reported with the byte index inside
 * s as the JSON library reports it; nothing is appended in that case. */
bool ev_fmt_json_string(const char *s, size_t len, ut_buf *out, ut_err *e);

/* Checks that s is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF). On failure *bad_index is the offset of the byte at which
 * decoding failed, or len when the string ends inside a sequence. */
bool ev_utf8_valid(const char *s, size_t len, size_t *bad_index);

#endif
