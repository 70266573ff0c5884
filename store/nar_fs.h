/* Internal: the file system side of NARs (compat/nar.h does the format). */
#ifndef STRAYLIGHT_STORE_NAR_FS_H
#define STRAYLIGHT_STORE_NAR_FS_H

#include "compat/nar.h"
#include "store/store.h"

/* Feeds the object at fs_path into w, entries in NAR order. filter applies
 * below the root. When flat_hasher is non-NULL the root must be a regular
 * file and its bytes are also fed to flat_hasher. */
bool st_nar_dump(const char *fs_path, st_path_filter filter, void *fctx, nc_nar_writer *w,
                 nc_hasher *flat_hasher, ut_err *e);

/* A NAR consumer that recreates the tree at dest (which must not exist). */
typedef struct st_nar_restore st_nar_restore;
st_nar_restore *st_nar_restore_new(const char *dest);
const nc_nar_visitor *st_nar_restore_visitor(void);
void st_nar_restore_free(st_nar_restore *r);

/* A NAR consumer that extracts the regular file at sub path `sub` ("" for
 * the root) into out. */
typedef struct st_nar_extract st_nar_extract;
st_nar_extract *st_nar_extract_new(const char *sub, ut_buf *out);
const nc_nar_visitor *st_nar_extract_visitor(void);
/* After the parse: false with a message when the file was not found. */
bool st_nar_extract_done(st_nar_extract *x, const char *whence, ut_err *e);
void st_nar_extract_free(st_nar_extract *x);

#endif
