/* libFuzzer target: narinfo parsing, printing and fingerprints, and the
 * hash / content-address / store-path parsers on the same bytes. */
#include "compat/narinfo.h"
#include "compat/storepath.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    nc_narinfo *ni = nc_narinfo_parse(s, size, NULL, "fuzz", NULL);
    if (ni) {
        ut_buf a = UT_BUF_INIT, b = UT_BUF_INIT;
        nc_narinfo_print(ni, NULL, &a);
        nc_narinfo *n2 = nc_narinfo_parse(a.data, a.len, NULL, "fuzz", NULL);
        if (!n2)
            abort();
        nc_narinfo_print(n2, NULL, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
            abort();
        ut_buf_clear(&b);
        nc_narinfo_fingerprint(ni, NULL, &b, NULL);
        nc_narinfo_free(n2);
        nc_narinfo_free(ni);
        ut_buf_free(&a);
        ut_buf_free(&b);
    }
    nc_hash h;
    if (nc_hash_parse_any(s, size, NULL, &h, NULL)) {
        char out[NC_HASH_STR_MAX];
        size_t n = nc_hash_print(&h, NC_HASH_SRI, true, out);
        nc_hash back;
        if (!nc_hash_parse_sri(out, n, &back, NULL) || !nc_hash_eq(&back, &h))
            abort();
    }
    nc_content_address ca;
    nc_ca_parse(s, size, &ca, NULL);
    nc_store_path_parse(NULL, nc_str_n(s, size), NULL, NULL);
    return 0;
}
