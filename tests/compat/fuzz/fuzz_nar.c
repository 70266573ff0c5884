/* libFuzzer target: the NAR parser. The verdict must not depend on how the
 * input is chunked, and an accepted NAR re-serialises to the same bytes. */
#include "compat/nar.h"

#include <stdlib.h>
#include <string.h>

typedef struct rw {
    nc_nar_writer *w;
} rw;
static bool fb(void *c, bool x, uint64_t n, ut_err *e) { return nc_nar_file_begin(((rw *)c)->w, x, n, e); }
static bool fd(void *c, const void *p, size_t n, ut_err *e) { return nc_nar_file_data(((rw *)c)->w, p, n, e); }
static bool fe(void *c, ut_err *e) { return nc_nar_file_end(((rw *)c)->w, e); }
static bool sl(void *c, nc_str t, ut_err *e) { return nc_nar_symlink(((rw *)c)->w, t, e); }
static bool db(void *c, ut_err *e) { return nc_nar_dir_begin(((rw *)c)->w, e); }
static bool den(void *c, nc_str n, ut_err *e) { return nc_nar_dir_entry(((rw *)c)->w, n, e); }
static bool dnd(void *c, ut_err *e) { return nc_nar_dir_end(((rw *)c)->w, e); }
static const nc_nar_visitor visitor = {fb, fd, fe, sl, db, den, dnd};
static void sink(void *ctx, const void *p, size_t n) { ut_buf_append(ctx, p, n); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ut_buf out = UT_BUF_INIT;
    rw r = {nc_nar_writer_new(sink, &out, NULL)};
    bool whole = nc_nar_parse(data, size, &visitor, &r, NULL);
    nc_nar_parser *p = nc_nar_parser_new(NULL, NULL);
    bool ok = true;
    size_t chunk = size ? 1 + data[0] % 11 : 1;
    for (size_t i = 0; ok && i < size; i += chunk)
        ok = nc_nar_parser_feed(p, data + i, i + chunk <= size ? chunk : size - i, NULL);
    ok = ok && nc_nar_parser_finish(p, NULL);
    nc_nar_parser_free(p);
    if (ok != whole)
        abort();
    if (whole) {
        if (!nc_nar_writer_finish(r.w, NULL, NULL, NULL) || out.len != size || memcmp(out.data, data, size) != 0)
            abort();
    }
    nc_nar_writer_free(r.w);
    ut_buf_free(&out);
    return 0;
}
