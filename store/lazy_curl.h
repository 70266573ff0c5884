/* curl, loaded on first use: include this instead of the library's own
 * header. The calls below go through a table filled by dlopen(), so
 * commands that never need curl do not pay for loading it (and the
 * libraries it pulls in) at start-up. Generated from the functions the
 * store and the fetchers call; add a name here to call another one. */
#ifndef STRAYLIGHT_STORE_LAZY_CURL_H
#define STRAYLIGHT_STORE_LAZY_CURL_H

#include <curl/curl.h>

typedef struct st_lazy_curl {
    __typeof__(&curl_easy_cleanup) curl_easy_cleanup;
    __typeof__(&curl_easy_getinfo) curl_easy_getinfo;
    __typeof__(&curl_easy_init) curl_easy_init;
    __typeof__(&curl_easy_perform) curl_easy_perform;
    __typeof__(&curl_easy_reset) curl_easy_reset;
    __typeof__(&curl_easy_setopt) curl_easy_setopt;
    __typeof__(&curl_easy_strerror) curl_easy_strerror;
    __typeof__(&curl_getdate) curl_getdate;
    __typeof__(&curl_global_init) curl_global_init;
    __typeof__(&curl_slist_append) curl_slist_append;
    __typeof__(&curl_slist_free_all) curl_slist_free_all;
} st_lazy_curl;

/* The table, loading the library on first use; exits with a clear
 * message when the library cannot be loaded. */
const st_lazy_curl *st_lazy_curl_api(void);

#ifndef ST_LAZY_NO_REDIRECT
#undef curl_easy_cleanup
#define curl_easy_cleanup (st_lazy_curl_api()->curl_easy_cleanup)
#undef curl_easy_getinfo
#define curl_easy_getinfo (st_lazy_curl_api()->curl_easy_getinfo)
#undef curl_easy_init
#define curl_easy_init (st_lazy_curl_api()->curl_easy_init)
#undef curl_easy_perform
#define curl_easy_perform (st_lazy_curl_api()->curl_easy_perform)
#undef curl_easy_reset
#define curl_easy_reset (st_lazy_curl_api()->curl_easy_reset)
#undef curl_easy_setopt
#define curl_easy_setopt (st_lazy_curl_api()->curl_easy_setopt)
#undef curl_easy_strerror
#define curl_easy_strerror (st_lazy_curl_api()->curl_easy_strerror)
#undef curl_getdate
#define curl_getdate (st_lazy_curl_api()->curl_getdate)
#undef curl_global_init
#define curl_global_init (st_lazy_curl_api()->curl_global_init)
#undef curl_slist_append
#define curl_slist_append (st_lazy_curl_api()->curl_slist_append)
#undef curl_slist_free_all
#define curl_slist_free_all (st_lazy_curl_api()->curl_slist_free_all)
#endif

#endif
