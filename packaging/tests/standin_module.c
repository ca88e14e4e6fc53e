/*
 * A stand-in for the Wazuh agent's C++ libsyscollector.so in the package test: exports
 * syscollector_init, which logs STANDIN_MARKER first, as ours logs its version first.
 */
#include <stdbool.h>
#include <stddef.h>

#ifndef STANDIN_MARKER
#define STANDIN_MARKER "wazuh-agent stand-in syscollector module"
#endif

typedef void (*log_cb_t)(int level, const char *log, const char *tag);

void syscollector_init(unsigned int interval, void *send_cb, void *persist_cb, log_cb_t log_cb,
                       const char *db_path, const char *norm_path, const char *norm_type,
                       bool scan_on_start, bool hardware, bool os, bool network, bool packages,
                       bool ports, bool ports_all, bool processes, bool hotfixes, bool groups,
                       bool users, bool services, bool browser_extensions, bool notify) {
    (void)interval; (void)send_cb; (void)persist_cb; (void)db_path; (void)norm_path;
    (void)norm_type; (void)scan_on_start; (void)hardware; (void)os; (void)network;
    (void)packages; (void)ports; (void)ports_all; (void)processes; (void)hotfixes;
    (void)groups; (void)users; (void)services; (void)browser_extensions; (void)notify;
    if (log_cb != NULL) {
        log_cb(1, STANDIN_MARKER, "wazuh-modulesd:syscollector");
    }
}
