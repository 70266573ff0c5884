#include "compat/nixbase32.h"

#include <string.h>

static const char nix32_chars[32] = "0123456789abcdfghijklmnpqrsvwxyz";

/* Reverse table: -1 for bytes outside the alphabet. */
static const signed char nix32_index[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['f'] = 15, ['g'] = 16,
    ['h'] = 17, ['i'] = 18, ['j'] = 19, ['k'] = 20, ['l'] = 21, ['m'] = 22, ['n'] = 23, ['p'] = 24,
    ['q'] = 25, ['r'] = 26, ['s'] = 27, ['v'] = 28, ['w'] = 29, ['x'] = 30, ['y'] = 31, ['z'] = 32,
};
/* The table above stores index+1 so that the zero-initialised entries mean
 * "not in the alphabet" without spelling out 224 of them. */

size_t nc_nix32_encoded_len(size_t n)
{
    return n == 0 ? 0 : (n * 8 - 1) / 5 + 1;
}

void nc_nix32_encode(const uint8_t *in, size_t n, char *out)
{
    size_t len = nc_nix32_encoded_len(n);
    /* Character k (from the left) holds bits [5*(len-1-k), +5) of the input
     * read as one little-endian number. */
    for (size_t k = 0; k < len; k++) {
        size_t b = (len - 1 - k) * 5;
        size_t i = b / 8, j = b % 8;
        unsigned c = (unsigned)in[i] >> j;
        if (i + 1 < n)
            c |= (unsigned)in[i + 1] << (8 - j);
        out[k] = nix32_chars[c & 0x1f];
    }
    out[len] = '\0';
}

size_t nc_nix32_decoded_len(size_t n)
{
    return n * 5 / 8;
}

bool nc_nix32_is_char(char c)
{
    return nix32_index[(unsigned char)c] != 0;
}

bool nc_nix32_decode(const char *s, size_t n, uint8_t *out)
{
    size_t outlen = nc_nix32_decoded_len(n);
    memset(out, 0, outlen);
    for (size_t k = 0; k < n; k++) {
        int d = nix32_index[(unsigned char)s[n - 1 - k]] - 1;
        if (d < 0)
            return false;
        size_t b = k * 5;
        size_t i = b / 8, j = b % 8;
        unsigned v = (unsigned)d << j;
        if (i < outlen)
            out[i] |= (uint8_t)(v & 0xff);
        else if (v & 0xff)
            return false;
        if (v >> 8) {
            if (i + 1 < outlen)
                out[i + 1] |= (uint8_t)(v >> 8);
            else
                return false;
        }
    }
    return true;
}
