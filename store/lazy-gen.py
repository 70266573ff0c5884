#!/usr/bin/env python3
# Writes lazy_curl.h, lazy_git2.h, lazy_archive.h and lazy.c beside this
# script: the dlopen() tables for the library functions straylight calls.
# To call another function, add its name to the list and run this again.
import os
here = os.path.dirname(os.path.abspath(__file__))
libs = {
 'curl': ('CURL', ['curl/curl.h'], "curl_easy_cleanup curl_easy_getinfo curl_easy_init curl_easy_perform curl_easy_reset curl_easy_setopt curl_easy_strerror curl_getdate curl_global_init curl_slist_append curl_slist_free_all"),
 'git2': ('GIT2', ['git2.h'], "git_blob_create_from_buffer git_blob_free git_blob_lookup git_blob_rawcontent git_blob_rawsize git_commit_create git_commit_free git_commit_lookup git_commit_time git_commit_tree git_error_last git_graph_descendant_of git_index_entry_stage git_index_entrycount git_index_free git_index_get_byindex git_libgit2_init git_libgit2_shutdown git_oid_equal git_oid_fromstr git_oid_tostr git_push_options_init git_reference_create git_reference_foreach_glob git_reference_free git_reference_name_to_id git_remote_create_anonymous git_remote_free git_remote_push git_repository_free git_repository_index git_repository_init git_repository_is_bare git_repository_open git_repository_open_ext git_repository_workdir git_revwalk_free git_revwalk_new git_revwalk_next git_revwalk_push git_signature_free git_signature_new git_signature_now git_status_list_entrycount git_status_list_free git_status_list_new git_status_options_init git_tree_entry_byindex git_tree_entry_byname git_tree_entry_filemode git_tree_entry_id git_tree_entry_name git_tree_entrycount git_tree_free git_tree_lookup git_treebuilder_free git_treebuilder_insert git_treebuilder_new git_treebuilder_write"),
 'archive': ('ARCHIVE', ['archive.h', 'archive_entry.h'], "archive_entry_filetype archive_entry_free archive_entry_hardlink archive_entry_mtime archive_entry_new archive_entry_pathname archive_entry_perm archive_entry_set_filetype archive_entry_set_hardlink archive_entry_set_pathname archive_entry_set_perm archive_entry_set_size archive_error_string archive_read_data archive_read_data_block archive_read_free archive_read_new archive_read_next_header archive_read_open_fd archive_read_open_filename archive_read_support_filter_all archive_read_support_format_all archive_read_support_format_raw archive_write_add_filter_xz archive_write_close archive_write_data archive_write_data_block archive_write_disk_new archive_write_disk_set_options archive_write_finish_entry archive_write_free archive_write_header archive_write_new archive_write_open archive_write_set_bytes_in_last_block archive_write_set_format_raw"),
}
for lib, (up, hdrs, fns) in libs.items():
    fns = fns.split()
    guard = f"STRAYLIGHT_STORE_LAZY_{up}_H"
    h = []
    h.append(f"/* {lib}, loaded on first use: include this instead of the library's own\n * header{'s' if len(hdrs)>1 else ''}. The calls below go through a table filled by dlopen(), so\n * commands that never need {lib} do not pay for loading it (and the\n * libraries it pulls in) at start-up. Generated from the functions the\n * store and the fetchers call; add a name here to call another one. */")
    h.append(f"#ifndef {guard}\n#define {guard}\n")
    for x in hdrs: h.append(f"#include <{x}>")
    h.append("")
    h.append(f"typedef struct st_lazy_{lib} {{")
    for f in fns: h.append(f"    __typeof__(&{f}) {f};")
    h.append(f"}} st_lazy_{lib};\n")
    h.append(f"/* The table, loading the library on first use; exits with a clear\n * message when the library cannot be loaded. */")
    h.append(f"const st_lazy_{lib} *st_lazy_{lib}_api(void);\n")
    h.append("#ifndef ST_LAZY_NO_REDIRECT")
    for f in fns: h.append(f"#undef {f}\n#define {f} (st_lazy_{lib}_api()->{f})")
    h.append("#endif\n")
    h.append(f"#endif")
    open(os.path.join(here, f"lazy_{lib}.h"),"w").write("\n".join(h)+"\n")
# the loader
c = []
c.append("""/* Loads curl, libgit2 and libarchive with dlopen() on first use (see
 * lazy_curl.h, lazy_git2.h, lazy_archive.h). The sonames are the ones the
 * build found, passed in by CMake. */
#define ST_LAZY_NO_REDIRECT
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
""")
for lib in libs: c.append(f'#include "store/lazy_{lib}.h"')
c.append("""
static void *lazy_open(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "error: cannot load %s: %s\\n", soname, dlerror());
        exit(1);
    }
    return h;
}

static void *lazy_sym(void *h, const char *soname, const char *name)
{
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "error: %s has no symbol '%s'\\n", soname, name);
        exit(1);
    }
    return p;
}
""")
for lib, (up, hdrs, fns) in libs.items():
    fns=fns.split()
    c.append(f"static st_lazy_{lib} lazy_{lib};\nstatic pthread_once_t lazy_{lib}_once = PTHREAD_ONCE_INIT;\n")
    c.append(f"static void lazy_{lib}_load(void)\n{{\n    void *h = lazy_open(ST_SONAME_{up}), *p;")
    for f in fns:
        c.append(f"    p = lazy_sym(h, ST_SONAME_{up}, \"{f}\");\n    memcpy(&lazy_{lib}.{f}, &p, sizeof p);")
    c.append("}\n")
    c.append(f"const st_lazy_{lib} *st_lazy_{lib}_api(void)\n{{\n    pthread_once(&lazy_{lib}_once, lazy_{lib}_load);\n    return &lazy_{lib};\n}}\n")
open(os.path.join(here, "lazy.c"),"w").write("\n".join(c))
