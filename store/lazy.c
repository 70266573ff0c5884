/* Loads curl, libgit2 and libarchive with dlopen() on first use (see
 * lazy_curl.h, lazy_git2.h, lazy_archive.h). The sonames are the ones the
 * build found, passed in by CMake. */
#define ST_LAZY_NO_REDIRECT
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/lazy_curl.h"
#include "store/lazy_git2.h"
#include "store/lazy_archive.h"

static void *lazy_open(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "error: cannot load %s: %s\n", soname, dlerror());
        exit(1);
    }
    return h;
}

static void *lazy_sym(void *h, const char *soname, const char *name)
{
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "error: %s has no symbol '%s'\n", soname, name);
        exit(1);
    }
    return p;
}

static st_lazy_curl lazy_curl;
static pthread_once_t lazy_curl_once = PTHREAD_ONCE_INIT;

static void lazy_curl_load(void)
{
    void *h = lazy_open(ST_SONAME_CURL), *p;
    p = lazy_sym(h, ST_SONAME_CURL, "curl_easy_cleanup");
    memcpy(&lazy_curl.curl_easy_cleanup, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_easy_getinfo");
    memcpy(&lazy_curl.curl_easy_getinfo, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_easy_init");
    memcpy(&lazy_curl.curl_easy_init, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_easy_perform");
    memcpy(&lazy_curl.curl_easy_perform, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_easy_reset");
    memcpy(&lazy_curl.curl_easy_reset, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_easy_setopt");
    memcpy(&lazy_curl.curl_easy_setopt, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_easy_strerror");
    memcpy(&lazy_curl.curl_easy_strerror, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_getdate");
    memcpy(&lazy_curl.curl_getdate, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_global_init");
    memcpy(&lazy_curl.curl_global_init, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_slist_append");
    memcpy(&lazy_curl.curl_slist_append, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_CURL, "curl_slist_free_all");
    memcpy(&lazy_curl.curl_slist_free_all, &p, sizeof p);
}

const st_lazy_curl *st_lazy_curl_api(void)
{
    pthread_once(&lazy_curl_once, lazy_curl_load);
    return &lazy_curl;
}

static st_lazy_git2 lazy_git2;
static pthread_once_t lazy_git2_once = PTHREAD_ONCE_INIT;

static void lazy_git2_load(void)
{
    void *h = lazy_open(ST_SONAME_GIT2), *p;
    p = lazy_sym(h, ST_SONAME_GIT2, "git_blob_create_from_buffer");
    memcpy(&lazy_git2.git_blob_create_from_buffer, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_blob_free");
    memcpy(&lazy_git2.git_blob_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_blob_lookup");
    memcpy(&lazy_git2.git_blob_lookup, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_blob_rawcontent");
    memcpy(&lazy_git2.git_blob_rawcontent, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_blob_rawsize");
    memcpy(&lazy_git2.git_blob_rawsize, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_commit_create");
    memcpy(&lazy_git2.git_commit_create, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_commit_free");
    memcpy(&lazy_git2.git_commit_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_commit_lookup");
    memcpy(&lazy_git2.git_commit_lookup, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_commit_time");
    memcpy(&lazy_git2.git_commit_time, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_commit_tree");
    memcpy(&lazy_git2.git_commit_tree, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_error_last");
    memcpy(&lazy_git2.git_error_last, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_graph_descendant_of");
    memcpy(&lazy_git2.git_graph_descendant_of, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_index_entry_stage");
    memcpy(&lazy_git2.git_index_entry_stage, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_index_entrycount");
    memcpy(&lazy_git2.git_index_entrycount, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_index_free");
    memcpy(&lazy_git2.git_index_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_index_get_byindex");
    memcpy(&lazy_git2.git_index_get_byindex, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_libgit2_init");
    memcpy(&lazy_git2.git_libgit2_init, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_libgit2_shutdown");
    memcpy(&lazy_git2.git_libgit2_shutdown, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_oid_equal");
    memcpy(&lazy_git2.git_oid_equal, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_oid_fromstr");
    memcpy(&lazy_git2.git_oid_fromstr, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_oid_tostr");
    memcpy(&lazy_git2.git_oid_tostr, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_push_options_init");
    memcpy(&lazy_git2.git_push_options_init, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_reference_create");
    memcpy(&lazy_git2.git_reference_create, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_reference_foreach_glob");
    memcpy(&lazy_git2.git_reference_foreach_glob, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_reference_free");
    memcpy(&lazy_git2.git_reference_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_reference_name_to_id");
    memcpy(&lazy_git2.git_reference_name_to_id, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_remote_create_anonymous");
    memcpy(&lazy_git2.git_remote_create_anonymous, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_remote_free");
    memcpy(&lazy_git2.git_remote_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_remote_push");
    memcpy(&lazy_git2.git_remote_push, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_repository_free");
    memcpy(&lazy_git2.git_repository_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_repository_index");
    memcpy(&lazy_git2.git_repository_index, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_repository_init");
    memcpy(&lazy_git2.git_repository_init, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_repository_is_bare");
    memcpy(&lazy_git2.git_repository_is_bare, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_repository_open");
    memcpy(&lazy_git2.git_repository_open, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_repository_open_ext");
    memcpy(&lazy_git2.git_repository_open_ext, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_repository_workdir");
    memcpy(&lazy_git2.git_repository_workdir, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_revwalk_free");
    memcpy(&lazy_git2.git_revwalk_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_revwalk_new");
    memcpy(&lazy_git2.git_revwalk_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_revwalk_next");
    memcpy(&lazy_git2.git_revwalk_next, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_revwalk_push");
    memcpy(&lazy_git2.git_revwalk_push, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_signature_free");
    memcpy(&lazy_git2.git_signature_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_signature_new");
    memcpy(&lazy_git2.git_signature_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_signature_now");
    memcpy(&lazy_git2.git_signature_now, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_status_list_entrycount");
    memcpy(&lazy_git2.git_status_list_entrycount, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_status_list_free");
    memcpy(&lazy_git2.git_status_list_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_status_list_new");
    memcpy(&lazy_git2.git_status_list_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_status_options_init");
    memcpy(&lazy_git2.git_status_options_init, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_entry_byindex");
    memcpy(&lazy_git2.git_tree_entry_byindex, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_entry_byname");
    memcpy(&lazy_git2.git_tree_entry_byname, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_entry_filemode");
    memcpy(&lazy_git2.git_tree_entry_filemode, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_entry_id");
    memcpy(&lazy_git2.git_tree_entry_id, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_entry_name");
    memcpy(&lazy_git2.git_tree_entry_name, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_entrycount");
    memcpy(&lazy_git2.git_tree_entrycount, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_free");
    memcpy(&lazy_git2.git_tree_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_tree_lookup");
    memcpy(&lazy_git2.git_tree_lookup, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_treebuilder_free");
    memcpy(&lazy_git2.git_treebuilder_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_treebuilder_insert");
    memcpy(&lazy_git2.git_treebuilder_insert, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_treebuilder_new");
    memcpy(&lazy_git2.git_treebuilder_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_GIT2, "git_treebuilder_write");
    memcpy(&lazy_git2.git_treebuilder_write, &p, sizeof p);
}

const st_lazy_git2 *st_lazy_git2_api(void)
{
    pthread_once(&lazy_git2_once, lazy_git2_load);
    return &lazy_git2;
}

static st_lazy_archive lazy_archive;
static pthread_once_t lazy_archive_once = PTHREAD_ONCE_INIT;

static void lazy_archive_load(void)
{
    void *h = lazy_open(ST_SONAME_ARCHIVE), *p;
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_filetype");
    memcpy(&lazy_archive.archive_entry_filetype, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_free");
    memcpy(&lazy_archive.archive_entry_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_hardlink");
    memcpy(&lazy_archive.archive_entry_hardlink, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_mtime");
    memcpy(&lazy_archive.archive_entry_mtime, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_new");
    memcpy(&lazy_archive.archive_entry_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_pathname");
    memcpy(&lazy_archive.archive_entry_pathname, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_perm");
    memcpy(&lazy_archive.archive_entry_perm, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_set_filetype");
    memcpy(&lazy_archive.archive_entry_set_filetype, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_set_hardlink");
    memcpy(&lazy_archive.archive_entry_set_hardlink, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_set_pathname");
    memcpy(&lazy_archive.archive_entry_set_pathname, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_set_perm");
    memcpy(&lazy_archive.archive_entry_set_perm, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_entry_set_size");
    memcpy(&lazy_archive.archive_entry_set_size, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_error_string");
    memcpy(&lazy_archive.archive_error_string, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_data");
    memcpy(&lazy_archive.archive_read_data, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_data_block");
    memcpy(&lazy_archive.archive_read_data_block, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_free");
    memcpy(&lazy_archive.archive_read_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_new");
    memcpy(&lazy_archive.archive_read_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_next_header");
    memcpy(&lazy_archive.archive_read_next_header, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_open_fd");
    memcpy(&lazy_archive.archive_read_open_fd, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_open_filename");
    memcpy(&lazy_archive.archive_read_open_filename, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_support_filter_all");
    memcpy(&lazy_archive.archive_read_support_filter_all, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_support_format_all");
    memcpy(&lazy_archive.archive_read_support_format_all, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_read_support_format_raw");
    memcpy(&lazy_archive.archive_read_support_format_raw, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_add_filter_xz");
    memcpy(&lazy_archive.archive_write_add_filter_xz, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_close");
    memcpy(&lazy_archive.archive_write_close, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_data");
    memcpy(&lazy_archive.archive_write_data, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_data_block");
    memcpy(&lazy_archive.archive_write_data_block, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_disk_new");
    memcpy(&lazy_archive.archive_write_disk_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_disk_set_options");
    memcpy(&lazy_archive.archive_write_disk_set_options, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_finish_entry");
    memcpy(&lazy_archive.archive_write_finish_entry, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_free");
    memcpy(&lazy_archive.archive_write_free, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_header");
    memcpy(&lazy_archive.archive_write_header, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_new");
    memcpy(&lazy_archive.archive_write_new, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_open");
    memcpy(&lazy_archive.archive_write_open, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_set_bytes_in_last_block");
    memcpy(&lazy_archive.archive_write_set_bytes_in_last_block, &p, sizeof p);
    p = lazy_sym(h, ST_SONAME_ARCHIVE, "archive_write_set_format_raw");
    memcpy(&lazy_archive.archive_write_set_format_raw, &p, sizeof p);
}

const st_lazy_archive *st_lazy_archive_api(void)
{
    pthread_once(&lazy_archive_once, lazy_archive_load);
    return &lazy_archive;
}
