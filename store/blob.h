/* Internal: a store object's NAR, fetched from a backend and verified
 * against its path info before anything reads it. */
#ifndef STRAYLIGHT_STORE_BLOB_H
#define STRAYLIGHT_STORE_BLOB_H

#include "store/store.h"

typedef struct st_blob st_blob;
/* Local blobs are hashed in place; remote ones are downloaded to an unlinked
 * temporary file while hashed; compressed ones are decompressed. Fails with
 * a clear message when the bytes do not hash to the info's NAR hash/size. */
st_blob *st_blob_fetch(st_backend *be, const st_path_info *pi, ut_err *e);
/* A read-only fd on the verified NAR (use pread: offset 0 .. nar_size). */
int st_blob_fd(const st_blob *b);
bool st_blob_stream(st_blob *b, st_sink_fn sink, void *ctx, ut_err *e);
void st_blob_close(st_blob *b);

#endif
