/* git2, loaded on first use: include this instead of the library's own
 * header. The calls below go through a table filled by dlopen(), so
 * commands that never need git2 do not pay for loading it (and the
 * libraries it pulls in) at start-up. Generated from the functions the
 * store and the fetchers call; add a name here to call another one. */
#ifndef STRAYLIGHT_STORE_LAZY_GIT2_H
#define STRAYLIGHT_STORE_LAZY_GIT2_H

#include <git2.h>

typedef struct st_lazy_git2 {
    __typeof__(&git_blob_create_from_buffer) git_blob_create_from_buffer;
    __typeof__(&git_blob_free) git_blob_free;
    __typeof__(&git_blob_lookup) git_blob_lookup;
    __typeof__(&git_blob_rawcontent) git_blob_rawcontent;
    __typeof__(&git_blob_rawsize) git_blob_rawsize;
    __typeof__(&git_commit_create) git_commit_create;
    __typeof__(&git_commit_free) git_commit_free;
    __typeof__(&git_commit_lookup) git_commit_lookup;
    __typeof__(&git_commit_time) git_commit_time;
    __typeof__(&git_commit_tree) git_commit_tree;
    __typeof__(&git_error_last) git_error_last;
    __typeof__(&git_graph_descendant_of) git_graph_descendant_of;
    __typeof__(&git_index_entry_stage) git_index_entry_stage;
    __typeof__(&git_index_entrycount) git_index_entrycount;
    __typeof__(&git_index_free) git_index_free;
    __typeof__(&git_index_get_byindex) git_index_get_byindex;
    __typeof__(&git_libgit2_init) git_libgit2_init;
    __typeof__(&git_libgit2_shutdown) git_libgit2_shutdown;
    __typeof__(&git_oid_equal) git_oid_equal;
    __typeof__(&git_oid_fromstr) git_oid_fromstr;
    __typeof__(&git_oid_tostr) git_oid_tostr;
    __typeof__(&git_push_options_init) git_push_options_init;
    __typeof__(&git_reference_create) git_reference_create;
    __typeof__(&git_reference_foreach_glob) git_reference_foreach_glob;
    __typeof__(&git_reference_free) git_reference_free;
    __typeof__(&git_reference_name_to_id) git_reference_name_to_id;
    __typeof__(&git_remote_create_anonymous) git_remote_create_anonymous;
    __typeof__(&git_remote_free) git_remote_free;
    __typeof__(&git_remote_push) git_remote_push;
    __typeof__(&git_repository_free) git_repository_free;
    __typeof__(&git_repository_index) git_repository_index;
    __typeof__(&git_repository_init) git_repository_init;
    __typeof__(&git_repository_is_bare) git_repository_is_bare;
    __typeof__(&git_repository_open) git_repository_open;
    __typeof__(&git_repository_open_ext) git_repository_open_ext;
    __typeof__(&git_repository_workdir) git_repository_workdir;
    __typeof__(&git_revwalk_free) git_revwalk_free;
    __typeof__(&git_revwalk_new) git_revwalk_new;
    __typeof__(&git_revwalk_next) git_revwalk_next;
    __typeof__(&git_revwalk_push) git_revwalk_push;
    __typeof__(&git_signature_free) git_signature_free;
    __typeof__(&git_signature_new) git_signature_new;
    __typeof__(&git_signature_now) git_signature_now;
    __typeof__(&git_status_list_entrycount) git_status_list_entrycount;
    __typeof__(&git_status_list_free) git_status_list_free;
    __typeof__(&git_status_list_new) git_status_list_new;
    __typeof__(&git_status_options_init) git_status_options_init;
    __typeof__(&git_tree_entry_byindex) git_tree_entry_byindex;
    __typeof__(&git_tree_entry_byname) git_tree_entry_byname;
    __typeof__(&git_tree_entry_filemode) git_tree_entry_filemode;
    __typeof__(&git_tree_entry_id) git_tree_entry_id;
    __typeof__(&git_tree_entry_name) git_tree_entry_name;
    __typeof__(&git_tree_entrycount) git_tree_entrycount;
    __typeof__(&git_tree_free) git_tree_free;
    __typeof__(&git_tree_lookup) git_tree_lookup;
    __typeof__(&git_treebuilder_free) git_treebuilder_free;
    __typeof__(&git_treebuilder_insert) git_treebuilder_insert;
    __typeof__(&git_treebuilder_new) git_treebuilder_new;
    __typeof__(&git_treebuilder_write) git_treebuilder_write;
} st_lazy_git2;

/* The table, loading the library on first use; exits with a clear
 * message when the library cannot be loaded. */
const st_lazy_git2 *st_lazy_git2_api(void);

#ifndef ST_LAZY_NO_REDIRECT
#undef git_blob_create_from_buffer
#define git_blob_create_from_buffer (st_lazy_git2_api()->git_blob_create_from_buffer)
#undef git_blob_free
#define git_blob_free (st_lazy_git2_api()->git_blob_free)
#undef git_blob_lookup
#define git_blob_lookup (st_lazy_git2_api()->git_blob_lookup)
#undef git_blob_rawcontent
#define git_blob_rawcontent (st_lazy_git2_api()->git_blob_rawcontent)
#undef git_blob_rawsize
#define git_blob_rawsize (st_lazy_git2_api()->git_blob_rawsize)
#undef git_commit_create
#define git_commit_create (st_lazy_git2_api()->git_commit_create)
#undef git_commit_free
#define git_commit_free (st_lazy_git2_api()->git_commit_free)
#undef git_commit_lookup
#define git_commit_lookup (st_lazy_git2_api()->git_commit_lookup)
#undef git_commit_time
#define git_commit_time (st_lazy_git2_api()->git_commit_time)
#undef git_commit_tree
#define git_commit_tree (st_lazy_git2_api()->git_commit_tree)
#undef git_error_last
#define git_error_last (st_lazy_git2_api()->git_error_last)
#undef git_graph_descendant_of
#define git_graph_descendant_of (st_lazy_git2_api()->git_graph_descendant_of)
#undef git_index_entry_stage
#define git_index_entry_stage (st_lazy_git2_api()->git_index_entry_stage)
#undef git_index_entrycount
#define git_index_entrycount (st_lazy_git2_api()->git_index_entrycount)
#undef git_index_free
#define git_index_free (st_lazy_git2_api()->git_index_free)
#undef git_index_get_byindex
#define git_index_get_byindex (st_lazy_git2_api()->git_index_get_byindex)
#undef git_libgit2_init
#define git_libgit2_init (st_lazy_git2_api()->git_libgit2_init)
#undef git_libgit2_shutdown
#define git_libgit2_shutdown (st_lazy_git2_api()->git_libgit2_shutdown)
#undef git_oid_equal
#define git_oid_equal (st_lazy_git2_api()->git_oid_equal)
#undef git_oid_fromstr
#define git_oid_fromstr (st_lazy_git2_api()->git_oid_fromstr)
#undef git_oid_tostr
#define git_oid_tostr (st_lazy_git2_api()->git_oid_tostr)
#undef git_push_options_init
#define git_push_options_init (st_lazy_git2_api()->git_push_options_init)
#undef git_reference_create
#define git_reference_create (st_lazy_git2_api()->git_reference_create)
#undef git_reference_foreach_glob
#define git_reference_foreach_glob (st_lazy_git2_api()->git_reference_foreach_glob)
#undef git_reference_free
#define git_reference_free (st_lazy_git2_api()->git_reference_free)
#undef git_reference_name_to_id
#define git_reference_name_to_id (st_lazy_git2_api()->git_reference_name_to_id)
#undef git_remote_create_anonymous
#define git_remote_create_anonymous (st_lazy_git2_api()->git_remote_create_anonymous)
#undef git_remote_free
#define git_remote_free (st_lazy_git2_api()->git_remote_free)
#undef git_remote_push
#define git_remote_push (st_lazy_git2_api()->git_remote_push)
#undef git_repository_free
#define git_repository_free (st_lazy_git2_api()->git_repository_free)
#undef git_repository_index
#define git_repository_index (st_lazy_git2_api()->git_repository_index)
#undef git_repository_init
#define git_repository_init (st_lazy_git2_api()->git_repository_init)
#undef git_repository_is_bare
#define git_repository_is_bare (st_lazy_git2_api()->git_repository_is_bare)
#undef git_repository_open
#define git_repository_open (st_lazy_git2_api()->git_repository_open)
#undef git_repository_open_ext
#define git_repository_open_ext (st_lazy_git2_api()->git_repository_open_ext)
#undef git_repository_workdir
#define git_repository_workdir (st_lazy_git2_api()->git_repository_workdir)
#undef git_revwalk_free
#define git_revwalk_free (st_lazy_git2_api()->git_revwalk_free)
#undef git_revwalk_new
#define git_revwalk_new (st_lazy_git2_api()->git_revwalk_new)
#undef git_revwalk_next
#define git_revwalk_next (st_lazy_git2_api()->git_revwalk_next)
#undef git_revwalk_push
#define git_revwalk_push (st_lazy_git2_api()->git_revwalk_push)
#undef git_signature_free
#define git_signature_free (st_lazy_git2_api()->git_signature_free)
#undef git_signature_new
#define git_signature_new (st_lazy_git2_api()->git_signature_new)
#undef git_signature_now
#define git_signature_now (st_lazy_git2_api()->git_signature_now)
#undef git_status_list_entrycount
#define git_status_list_entrycount (st_lazy_git2_api()->git_status_list_entrycount)
#undef git_status_list_free
#define git_status_list_free (st_lazy_git2_api()->git_status_list_free)
#undef git_status_list_new
#define git_status_list_new (st_lazy_git2_api()->git_status_list_new)
#undef git_status_options_init
#define git_status_options_init (st_lazy_git2_api()->git_status_options_init)
#undef git_tree_entry_byindex
#define git_tree_entry_byindex (st_lazy_git2_api()->git_tree_entry_byindex)
#undef git_tree_entry_byname
#define git_tree_entry_byname (st_lazy_git2_api()->git_tree_entry_byname)
#undef git_tree_entry_filemode
#define git_tree_entry_filemode (st_lazy_git2_api()->git_tree_entry_filemode)
#undef git_tree_entry_id
#define git_tree_entry_id (st_lazy_git2_api()->git_tree_entry_id)
#undef git_tree_entry_name
#define git_tree_entry_name (st_lazy_git2_api()->git_tree_entry_name)
#undef git_tree_entrycount
#define git_tree_entrycount (st_lazy_git2_api()->git_tree_entrycount)
#undef git_tree_free
#define git_tree_free (st_lazy_git2_api()->git_tree_free)
#undef git_tree_lookup
#define git_tree_lookup (st_lazy_git2_api()->git_tree_lookup)
#undef git_treebuilder_free
#define git_treebuilder_free (st_lazy_git2_api()->git_treebuilder_free)
#undef git_treebuilder_insert
#define git_treebuilder_insert (st_lazy_git2_api()->git_treebuilder_insert)
#undef git_treebuilder_new
#define git_treebuilder_new (st_lazy_git2_api()->git_treebuilder_new)
#undef git_treebuilder_write
#define git_treebuilder_write (st_lazy_git2_api()->git_treebuilder_write)
#endif

#endif
