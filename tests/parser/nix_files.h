/* The .nix files under a directory, depth first in name order (the parser
 * tests that run over whole trees: nixpkgs, the conformance suite). */
#ifndef SL_TESTS_PARSER_NIX_FILES_H
#define SL_TESTS_PARSER_NIX_FILES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

typedef struct files {
    char **v;
    size_t n, cap;
} files;

static inline void collect(files *fs, const char *dir)
{
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        char *path = NULL;
        if (name[0] != '.' && asprintf(&path, "%s/%s", dir, name) < 0)
            abort();
        struct stat st;
        if (path && lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                collect(fs, path);
            } else if (S_ISREG(st.st_mode) && strlen(name) > 4 && strcmp(name + strlen(name) - 4, ".nix") == 0) {
                if (fs->n == fs->cap) {
                    fs->cap = fs->cap ? fs->cap * 2 : 256;
                    fs->v = ut_xrealloc(fs->v, fs->cap * sizeof *fs->v);
                }
                fs->v[fs->n++] = path;
                path = NULL;
            }
        }
        free(path);
        free(ents[i]);
    }
    free(ents);
}

static inline void files_free(files *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->v[i]);
    free(fs->v);
}

#endif
