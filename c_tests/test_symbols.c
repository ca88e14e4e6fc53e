/*
 * test_symbols LIBRARY [HEADER]
 *
 * Loads libsyscollector.so with dlopen() the way wazuh-modulesd does and resolves every
 * function the C header declares with dlsym(). The list below is typed with the header's
 * own prototypes (a signature change breaks the build); when HEADER is given, every
 * `syscollector_*(` declaration found in it must also be in the list, so a function added to
 * the header cannot go untested.
 */
#include "common.h"

#include <ctype.h>
#include <dlfcn.h>

#include "syscollector.h"

/* Pointer typed from the header's prototype, so the test breaks when a signature changes. */
#define SYM(name) {#name, (void (*)(void))(__typeof__(&name))0}

static const struct {
    const char *name;
    void (*typed)(void);
} expected[] = {
    SYM(syscollector_init),
    SYM(syscollector_start),
    SYM(syscollector_stop),
    SYM(syscollector_init_sync),
    SYM(syscollector_sync_module),
    SYM(syscollector_persist_diff),
    SYM(syscollector_parse_response),
    SYM(syscollector_parse_response_vd),
    SYM(syscollector_notify_data_clean),
    SYM(syscollector_delete_database),
    SYM(syscollector_query),
    SYM(syscollector_lock_scan_mutex),
    SYM(syscollector_unlock_scan_mutex),
    SYM(syscollector_run_recovery_process),
    /* The beta hosts' additions (v5.0.0-beta1 … rc1). */
    SYM(syscollector_is_scanning),
    SYM(syscollector_set_agentd_query_func),
    SYM(syscollector_release_resources),
};
#define N_EXPECTED (sizeof expected / sizeof *expected)

static int in_expected(const char *name) {
    for (size_t i = 0; i < N_EXPECTED; i++)
        if (strcmp(expected[i].name, name) == 0) return 1;
    return 0;
}

/* Every identifier `syscollector_xxx` directly followed by '(' in the header. */
static void check_header(const char *path) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open header %s", path);
    if (!f) return;
    char line[4096];
    int declared = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "//", 2) == 0 || strncmp(line, " *", 2) == 0) continue;
        for (char *p = strstr(line, "syscollector_"); p; p = strstr(p + 1, "syscollector_")) {
            if (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) continue;
            char *e = p;
            while (isalnum((unsigned char)*e) || *e == '_') e++;
            if (*e != '(') continue;
            char name[128];
            size_t n = (size_t)(e - p);
            if (n >= sizeof name) continue;
            memcpy(name, p, n);
            name[n] = '\0';
            declared++;
            CHECK(in_expected(name), "header declares %s, which this test does not resolve", name);
        }
    }
    fclose(f);
    CHECK(declared == (int)N_EXPECTED, "header declares %d functions, expected %zu", declared,
          N_EXPECTED);
    note("header %s declares %d functions", path, declared);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s path/to/libsyscollector.so [path/to/syscollector.h]\n", argv[0]);
        return 2;
    }
    if (argc > 2) check_header(argv[2]);

    /* RTLD_NOW: every undefined symbol of the library must resolve at load time too. */
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CHECK(lib != NULL, "dlopen(%s): %s", argv[1], dlerror());
    if (!lib) return finish("test_symbols");

    for (size_t i = 0; i < N_EXPECTED; i++) {
        dlerror();
        void *sym = dlsym(lib, expected[i].name);
        const char *err = dlerror();
        CHECK(sym != NULL && err == NULL, "dlsym(%s): %s", expected[i].name, err ? err : "NULL");
        if (sym) note("resolved %-36s at %p", expected[i].name, sym);
    }

    /* A symbol the library must not export (the C ABI is only syscollector_*). */
    dlerror();
    CHECK(dlsym(lib, "sqlite3_open") == NULL, "the library exports sqlite3_open");

    CHECK(dlclose(lib) == 0, "dlclose: %s", dlerror());
    return finish("test_symbols");
}
