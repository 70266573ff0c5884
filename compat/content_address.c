#include "compat/content_address.h"

static const char *const prefixes[] = {[NC_CA_FLAT] = "", [NC_CA_NAR] = "r:", [NC_CA_TEXT] = "text:"};
static const char *const names[] = {[NC_CA_FLAT] = "flat", [NC_CA_NAR] = "nar", [NC_CA_TEXT] = "text"};

const char *nc_ca_method_prefix(nc_ca_method m) { return prefixes[m]; }
const char *nc_ca_method_name(nc_ca_method m) { return names[m]; }

bool nc_ca_method_from_name(const char *s, size_t n, nc_ca_method *out)
{
    for (int i = 0; i <= NC_CA_TEXT; i++) {
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) {
            *out = (nc_ca_method)i;
            return true;
        }
    }
    return false;
}

void nc_ca_print_method_algo(ut_buf *b, nc_ca_method m, nc_hash_algo a)
{
    ut_buf_puts(b, prefixes[m]);
    ut_buf_puts(b, nc_hash_algo_name(a));
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && memcmp(s, p, pl) == 0;
}

bool nc_ca_parse_method_algo(const char *s, size_t n, nc_ca_method *m, nc_hash_algo *a, ut_err *e)
{
    *m = NC_CA_FLAT;
    size_t skip = 0;
    if (has_prefix(s, n, "r:")) {
        *m = NC_CA_NAR;
        skip = 2;
    } else if (has_prefix(s, n, "text:")) {
        *m = NC_CA_TEXT;
        skip = 5;
    }
    if (!nc_hash_algo_parse(s + skip, n - skip, a))
        return ut_err_set(e, "unknown hash algorithm '%.*s'", (int)(n - skip), s + skip);
    return true;
}

void nc_ca_render(ut_buf *b, const nc_content_address *ca)
{
    if (ca->method == NC_CA_TEXT) {
        ut_buf_puts(b, "text:");
    } else {
        ut_buf_puts(b, "fixed:");
        if (ca->method == NC_CA_NAR)
            ut_buf_puts(b, "r:");
    }
    nc_hash_append(b, &ca->hash, NC_HASH_NIX32, true);
}

bool nc_ca_parse(const char *s, size_t n, nc_content_address *out, ut_err *e)
{
    const char *rest;
    size_t rn;
    if (has_prefix(s, n, "text:")) {
        out->method = NC_CA_TEXT;
        rest = s + 5;
        rn = n - 5;
    } else if (has_prefix(s, n, "fixed:")) {
        rest = s + 6;
        rn = n - 6;
        out->method = NC_CA_FLAT;
        if (has_prefix(rest, rn, "r:")) {
            out->method = NC_CA_NAR;
            rest += 2;
            rn -= 2;
        }
    } else {
        return ut_err_set(e, "content address '%.*s' does not start with 'text:' or 'fixed:'", (int)n, s);
    }
    if (!nc_hash_parse_prefixed(rest, rn, &out->hash, e))
        return ut_err_wrap(e, "content address '%.*s'", (int)n, s);
    if (out->method == NC_CA_TEXT && out->hash.algo != NC_HASH_SHA256)
        return ut_err_set(e, "text content address hash should use sha256, but hash '%.*s' does not", (int)rn, rest);
    return true;
}
