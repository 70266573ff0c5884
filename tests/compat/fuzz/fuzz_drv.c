/* libFuzzer target: ATerm derivations. Whatever parses must print to a
 * fixed point and survive the other consumers of a parsed derivation. */
#include "compat/derivation.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nc_derivation *d = nc_drv_parse((const char *)data, size, NULL, nc_str_c("fuzz"), NULL);
    if (!d)
        return 0;
    ut_buf a = UT_BUF_INIT, b = UT_BUF_INIT;
    nc_drv_print(d, &a);
    nc_derivation *d2 = nc_drv_parse(a.data, a.len, NULL, nc_str_c("fuzz"), NULL);
    if (!d2)
        abort();
    nc_drv_print(d2, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();
    nc_drv_hash h;
    nc_drv_hash_modulo(d, NULL, true, NULL, NULL, &h, NULL);
    ut_buf_clear(&b);
    nc_drv_json_v28(d, 0, &b);
    json_t *j = nc_drv_to_json(d);
    nc_drv_free(nc_drv_from_json(j, NULL, NULL));
    json_decref(j);
    nc_drv_free(d);
    nc_drv_free(d2);
    ut_buf_free(&a);
    ut_buf_free(&b);
    return 0;
}
