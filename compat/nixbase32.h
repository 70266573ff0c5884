/* Nix's base-32: alphabet "0123456789abcdfghijklmnpqrsvwxyz" (no e, o, u, t),
 * and the bytes are read from the END of the input, so the text is not the
 * RFC 4648 encoding of the same bytes. Store path hash parts are the 20-byte
 * compressed hash in this encoding (32 characters). */
#ifndef STRAYLIGHT_COMPAT_NIXBASE32_H
#define STRAYLIGHT_COMPAT_NIXBASE32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed for n bytes: ceil(n*8/5); 0 for 0. */
size_t nc_nix32_encoded_len(size_t n);
/* Writes nc_nix32_encoded_len(n) characters and a NUL. */
void nc_nix32_encode(const uint8_t *in, size_t n, char *out);
/* Bytes that s[0..n) decodes to: floor(n*5/8). */
size_t nc_nix32_decoded_len(size_t n);
/* Decodes into out[0..nc_nix32_decoded_len(n)). False on a character outside
 * the alphabet or on set bits beyond the last byte (Nix rejects those too). */
bool nc_nix32_decode(const char *s, size_t n, uint8_t *out);
/* Whether c is in the alphabet. */
bool nc_nix32_is_char(char c);

#endif
