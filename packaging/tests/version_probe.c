/*
 * version_probe LIBRARY
 *
 * Loads LIBRARY with dlopen() the way wazuh-modulesd loads the agent's libsyscollector.so,
 * calls its syscollector_init() with a log callback (every collector off, a throw-away
 * database directory) and prints the first line the library logs: ours logs its version
 * first ("libsyscollector X.Y.Z (...)"). Exit 0 when a line was logged, 1 when none, 2 when
 * the library cannot be loaded or has no syscollector_init.
 * Built with -DPROBE_LINKED it calls the library it was linked with instead (LIBRARY is then
 * only named in messages): install_tree.sh builds it so through syscollector.pc.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syscollector.h"

static char first_line[1024];

static void on_log(modules_log_level_t level, const char *log, const char *tag) {
    (void)level;
    (void)tag;
    if (first_line[0] == '\0' && log != NULL) {
        snprintf(first_line, sizeof first_line, "%s", log);
    }
}

static void on_send(const void *buffer) { (void)buffer; }

static void on_persist(const char *id, Operation_t operation, const char *index, const void *buffer,
                       uint64_t version) {
    (void)id;
    (void)operation;
    (void)index;
    (void)buffer;
    (void)version;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
        return 2;
    }
#ifdef PROBE_LINKED
    __typeof__(&syscollector_init) init = &syscollector_init;
    __typeof__(&syscollector_delete_database) del = &syscollector_delete_database;
#else
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
        return 2;
    }
    __typeof__(&syscollector_init) init = (__typeof__(&syscollector_init))dlsym(lib, "syscollector_init");
    __typeof__(&syscollector_delete_database) del =
        (__typeof__(&syscollector_delete_database))dlsym(lib, "syscollector_delete_database");
#endif
    if (init == NULL) {
        fprintf(stderr, "%s has no syscollector_init\n", argv[1]);
        return 2;
    }
    char dir[] = "/tmp/version_probe.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    char db[sizeof dir + 16];
    snprintf(db, sizeof db, "%s/local.db", dir);
    init(3600, on_send, on_persist, on_log, db, "", "", false, false, false, false, false, false,
         false, false, false, false, false, false, false, false);
    if (del != NULL) {
        del();
    }
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    if (first_line[0] == '\0') {
        fprintf(stderr, "%s logged nothing at init\n", argv[1]);
        return 1;
    }
    puts(first_line);
    return 0;
}
