/*
 * LD_PRELOAD helper for the beta4 daemon check: logs every dlsym() call whose name starts
 * with "syscollector_" (found or not) to the file named by $DLSYM_LOG, one line per call:
 * "dlsym NAME found" or "dlsym NAME missing". The real dlsym is reached through dlvsym.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*dlsym_fn)(void *, const char *);

void *dlsym(void *handle, const char *name) {
    static dlsym_fn real = NULL;
    if (!real) real = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!real) real = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    void *p = real ? real(handle, name) : NULL;
    const char *path = getenv("DLSYM_LOG");
    if (path && name && strncmp(name, "syscollector_", 13) == 0) {
        FILE *f = fopen(path, "a");
        if (f) {
            fprintf(f, "dlsym %s %s\n", name, p ? "found" : "missing");
            fclose(f);
        }
    }
    return p;
}
