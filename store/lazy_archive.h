/* archive, loaded on first use: include this instead of the library's own
 * headers. The calls below go through a table filled by dlopen(), so
 * commands that never need archive do not pay for loading it (and the
 * libraries it pulls in) at start-up. Generated from the functions the
 * store and the fetchers call; add a name here to call another one. */
#ifndef STRAYLIGHT_STORE_LAZY_ARCHIVE_H
#define STRAYLIGHT_STORE_LAZY_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

typedef struct st_lazy_archive {
    __typeof__(&archive_entry_filetype) archive_entry_filetype;
    __typeof__(&archive_entry_free) archive_entry_free;
    __typeof__(&archive_entry_hardlink) archive_entry_hardlink;
    __typeof__(&archive_entry_mtime) archive_entry_mtime;
    __typeof__(&archive_entry_new) archive_entry_new;
    __typeof__(&archive_entry_pathname) archive_entry_pathname;
    __typeof__(&archive_entry_perm) archive_entry_perm;
    __typeof__(&archive_entry_set_filetype) archive_entry_set_filetype;
    __typeof__(&archive_entry_set_hardlink) archive_entry_set_hardlink;
    __typeof__(&archive_entry_set_pathname) archive_entry_set_pathname;
    __typeof__(&archive_entry_set_perm) archive_entry_set_perm;
    __typeof__(&archive_entry_set_size) archive_entry_set_size;
    __typeof__(&archive_error_string) archive_error_string;
    __typeof__(&archive_read_data) archive_read_data;
    __typeof__(&archive_read_data_block) archive_read_data_block;
    __typeof__(&archive_read_free) archive_read_free;
    __typeof__(&archive_read_new) archive_read_new;
    __typeof__(&archive_read_next_header) archive_read_next_header;
    __typeof__(&archive_read_open_fd) archive_read_open_fd;
    __typeof__(&archive_read_open_filename) archive_read_open_filename;
    __typeof__(&archive_read_support_filter_all) archive_read_support_filter_all;
    __typeof__(&archive_read_support_format_all) archive_read_support_format_all;
    __typeof__(&archive_read_support_format_raw) archive_read_support_format_raw;
    __typeof__(&archive_write_add_filter_xz) archive_write_add_filter_xz;
    __typeof__(&archive_write_close) archive_write_close;
    __typeof__(&archive_write_data) archive_write_data;
    __typeof__(&archive_write_data_block) archive_write_data_block;
    __typeof__(&archive_write_disk_new) archive_write_disk_new;
    __typeof__(&archive_write_disk_set_options) archive_write_disk_set_options;
    __typeof__(&archive_write_finish_entry) archive_write_finish_entry;
    __typeof__(&archive_write_free) archive_write_free;
    __typeof__(&archive_write_header) archive_write_header;
    __typeof__(&archive_write_new) archive_write_new;
    __typeof__(&archive_write_open) archive_write_open;
    __typeof__(&archive_write_set_bytes_in_last_block) archive_write_set_bytes_in_last_block;
    __typeof__(&archive_write_set_format_raw) archive_write_set_format_raw;
} st_lazy_archive;

/* The table, loading the library on first use; exits with a clear
 * message when the library cannot be loaded. */
const st_lazy_archive *st_lazy_archive_api(void);

#ifndef ST_LAZY_NO_REDIRECT
#undef archive_entry_filetype
#define archive_entry_filetype (st_lazy_archive_api()->archive_entry_filetype)
#undef archive_entry_free
#define archive_entry_free (st_lazy_archive_api()->archive_entry_free)
#undef archive_entry_hardlink
#define archive_entry_hardlink (st_lazy_archive_api()->archive_entry_hardlink)
#undef archive_entry_mtime
#define archive_entry_mtime (st_lazy_archive_api()->archive_entry_mtime)
#undef archive_entry_new
#define archive_entry_new (st_lazy_archive_api()->archive_entry_new)
#undef archive_entry_pathname
#define archive_entry_pathname (st_lazy_archive_api()->archive_entry_pathname)
#undef archive_entry_perm
#define archive_entry_perm (st_lazy_archive_api()->archive_entry_perm)
#undef archive_entry_set_filetype
#define archive_entry_set_filetype (st_lazy_archive_api()->archive_entry_set_filetype)
#undef archive_entry_set_hardlink
#define archive_entry_set_hardlink (st_lazy_archive_api()->archive_entry_set_hardlink)
#undef archive_entry_set_pathname
#define archive_entry_set_pathname (st_lazy_archive_api()->archive_entry_set_pathname)
#undef archive_entry_set_perm
#define archive_entry_set_perm (st_lazy_archive_api()->archive_entry_set_perm)
#undef archive_entry_set_size
#define archive_entry_set_size (st_lazy_archive_api()->archive_entry_set_size)
#undef archive_error_string
#define archive_error_string (st_lazy_archive_api()->archive_error_string)
#undef archive_read_data
#define archive_read_data (st_lazy_archive_api()->archive_read_data)
#undef archive_read_data_block
#define archive_read_data_block (st_lazy_archive_api()->archive_read_data_block)
#undef archive_read_free
#define archive_read_free (st_lazy_archive_api()->archive_read_free)
#undef archive_read_new
#define archive_read_new (st_lazy_archive_api()->archive_read_new)
#undef archive_read_next_header
#define archive_read_next_header (st_lazy_archive_api()->archive_read_next_header)
#undef archive_read_open_fd
#define archive_read_open_fd (st_lazy_archive_api()->archive_read_open_fd)
#undef archive_read_open_filename
#define archive_read_open_filename (st_lazy_archive_api()->archive_read_open_filename)
#undef archive_read_support_filter_all
#define archive_read_support_filter_all (st_lazy_archive_api()->archive_read_support_filter_all)
#undef archive_read_support_format_all
#define archive_read_support_format_all (st_lazy_archive_api()->archive_read_support_format_all)
#undef archive_read_support_format_raw
#define archive_read_support_format_raw (st_lazy_archive_api()->archive_read_support_format_raw)
#undef archive_write_add_filter_xz
#define archive_write_add_filter_xz (st_lazy_archive_api()->archive_write_add_filter_xz)
#undef archive_write_close
#define archive_write_close (st_lazy_archive_api()->archive_write_close)
#undef archive_write_data
#define archive_write_data (st_lazy_archive_api()->archive_write_data)
#undef archive_write_data_block
#define archive_write_data_block (st_lazy_archive_api()->archive_write_data_block)
#undef archive_write_disk_new
#define archive_write_disk_new (st_lazy_archive_api()->archive_write_disk_new)
#undef archive_write_disk_set_options
#define archive_write_disk_set_options (st_lazy_archive_api()->archive_write_disk_set_options)
#undef archive_write_finish_entry
#define archive_write_finish_entry (st_lazy_archive_api()->archive_write_finish_entry)
#undef archive_write_free
#define archive_write_free (st_lazy_archive_api()->archive_write_free)
#undef archive_write_header
#define archive_write_header (st_lazy_archive_api()->archive_write_header)
#undef archive_write_new
#define archive_write_new (st_lazy_archive_api()->archive_write_new)
#undef archive_write_open
#define archive_write_open (st_lazy_archive_api()->archive_write_open)
#undef archive_write_set_bytes_in_last_block
#define archive_write_set_bytes_in_last_block (st_lazy_archive_api()->archive_write_set_bytes_in_last_block)
#undef archive_write_set_format_raw
#define archive_write_set_format_raw (st_lazy_archive_api()->archive_write_set_format_raw)
#endif

#endif
