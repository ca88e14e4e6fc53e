/*
 * A stand-in for wazuh-modulesd: loads libsyscollector.so with dlopen(), gives it the
 * callbacks and the MQ functions the daemon gives it, and drives it the same way: the scan
 * loop in one thread (syscollector_start), the sync loop in another (lock the scan mutex,
 * DELTA session, integrity check, unlock), the manager's replies routed back through
 * syscollector_parse_response / _vd. The agent queue is a Unix stream socket to the
 * reference manager, one frame per message (see README, "Reference manager").
 *
 *   host --lib LIB --db DIR --socket SOCK [--interval S] [--sync-interval S]
 *        [--integrity S] [--run-secs S] [--collectors os,hardware,processes,...]
 *        [--ports-all] [--summary FILE] [--agent-info LIB --agent-metadata CONTROL]
 *
 * With --agent-info, loads LIB (c_tests/agent_info.c, which depends on the metadata
 * provider libagent_sync_protocol.so) with dlopen(RTLD_LAZY) before the module, as
 * wazuh-modulesd loads libagent_info.so, and starts it on CONTROL (see agent_info.c): the
 * provider is then loaded but not in the global symbol scope, as in the real daemon.
 *
 * Stops on SIGTERM/SIGINT, or after --run-secs. With --summary, writes at exit how many
 * live documents per index the library handed over (id -> last operation not DELETE).
 *
 * With --beta4 (or HOST_GENERATION=beta4 in the environment) the host drives the module as
 * the v5.0.0-beta4 wm_syscollector.c does (the alpha0 mode above is the default):
 *   - looks up syscollector_release_resources, syscollector_is_scanning and
 *     syscollector_set_agentd_query_func too, each optional (absent: logged, as beta4 does);
 *   - after syscollector_init, hands the library an agentd stand-in (agentd_query below) that
 *     answers `getdoclimits syscollector` with `--doc-limits JSON`, or with the content of
 *     `--doc-limits-file FILE` read at each request (no file yet: the request fails, as when
 *     agentd is not up; the library is expected to retry);
 *   - the sync thread decides its startup action from get_first_sync_completed and polls
 *     get_first_scan_completed (first sync right after the first scan), skips a cycle while
 *     syscollector_is_scanning() says a scan runs, syncs without the scan mutex and takes it
 *     only around the recovery;
 *   - on stop: stop flag, syscollector_stop(), then waits at most 10 s for the module thread
 *     (which joins the sync thread when syscollector_start returns) and calls
 *     syscollector_release_resources after that join.
 * The host's own lines go to stdout prefixed "host: ", with beta4's wording.
 */
#define _GNU_SOURCE 1

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "syscollector.h"

/* ---- the library, looked up by name as the daemon does ---- */
typedef void (*init_fn)(unsigned int, send_data_callback_t, persist_data_callback_t, log_callback_t,
                        const char *, const char *, const char *, bool, bool, bool, bool, bool,
                        bool, bool, bool, bool, bool, bool, bool, bool, bool);
typedef void (*void_fn)(void);
typedef void (*init_sync_fn)(const char *, const char *, const char *, const MQ_Functions *,
                             unsigned int, unsigned int, unsigned int, size_t, uint32_t);
typedef bool (*sync_module_fn)(Mode_t);
typedef void (*persist_diff_fn)(const char *, Operation_t, const char *, const char *, uint64_t);
typedef bool (*parse_response_fn)(const uint8_t *, size_t);

static struct {
    init_fn init;
    void_fn start, stop, lock, unlock, recovery;
    init_sync_fn init_sync;
    sync_module_fn sync_module;
    persist_diff_fn persist_diff;
    parse_response_fn parse_response, parse_response_vd;
} lib;

/* Exports added by the betas: optional, as the beta4 daemon treats them. */
typedef bool (*agentd_query_fn)(const char *command, char *output_buffer, size_t buffer_size);
static struct {
    void_fn release_resources;
    bool (*is_scanning)(void);
    void (*set_agentd_query_func)(agentd_query_fn);
    size_t (*query)(const char *, char **);
} opt;

static int g_beta4 = 0;
static const char *g_doc_limits = NULL;      /* --doc-limits JSON */
static const char *g_doc_limits_file = NULL; /* --doc-limits-file FILE */

static volatile sig_atomic_t g_stop = 0;
static const char *g_socket_path;
static int g_verbose = 0;

/* ---- the agent queue: a socket to the manager ---- */
static pthread_mutex_t g_sock_mutex = PTHREAD_MUTEX_INITIALIZER;
static int g_sock = -1;

static int connect_manager(void) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", g_socket_path);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_frame(int fd, char loc, const char *location, const void *payload, size_t len) {
    size_t llen = location ? strlen(location) : 0;
    if (llen > 255) llen = 255;
    size_t body = 2 + llen + len;
    uint8_t *buf = malloc(4 + body);
    if (!buf) return -1;
    buf[0] = (uint8_t)(body >> 24);
    buf[1] = (uint8_t)(body >> 16);
    buf[2] = (uint8_t)(body >> 8);
    buf[3] = (uint8_t)body;
    buf[4] = (uint8_t)loc;
    buf[5] = (uint8_t)llen;
    if (llen) memcpy(buf + 6, location, llen);
    if (len) memcpy(buf + 6 + llen, payload, len);
    int rc = write_all(fd, buf, 4 + body);
    free(buf);
    return rc;
}

/* MQ_Functions.start: (re)connects; returns the queue descriptor or -1. */
static int mq_start(const char *key, short type, short attempts) {
    (void)key;
    (void)type;
    (void)attempts;
    pthread_mutex_lock(&g_sock_mutex);
    if (g_sock >= 0) {
        shutdown(g_sock, SHUT_RDWR);
        close(g_sock);
        g_sock = -1;
    }
    g_sock = connect_manager();
    int fd = g_sock;
    pthread_mutex_unlock(&g_sock_mutex);
    return fd;
}

/* MQ_Functions.send_binary. */
static int mq_send_binary(int queue, const void *msg, size_t len, const char *locmsg, char loc) {
    pthread_mutex_lock(&g_sock_mutex);
    int rc = -1;
    if (queue >= 0 && queue == g_sock) rc = send_frame(queue, loc, locmsg, msg, len);
    pthread_mutex_unlock(&g_sock_mutex);
    return rc;
}

/* Reads the manager's replies and routes them to the right sync instance. */
static void *reader_thread(void *arg) {
    (void)arg;
    while (!g_stop) {
        pthread_mutex_lock(&g_sock_mutex);
        int fd = g_sock >= 0 ? dup(g_sock) : -1;
        pthread_mutex_unlock(&g_sock_mutex);
        if (fd < 0) {
            usleep(50 * 1000);
            continue;
        }
        struct timeval tv = {0, 200 * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        for (;;) {
            uint8_t hdr[4];
            size_t got = 0;
            while (got < 4 && !g_stop) {
                ssize_t r = recv(fd, hdr + got, 4 - got, 0);
                if (r > 0) got += (size_t)r;
                else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                    if (got == 0) {
                        /* Has the library switched to a new connection? */
                        pthread_mutex_lock(&g_sock_mutex);
                        int stale = g_sock < 0;
                        pthread_mutex_unlock(&g_sock_mutex);
                        if (stale) break;
                    }
                    continue;
                } else break;
            }
            if (got < 4 || g_stop) break;
            uint32_t len = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) | hdr[3];
            if (len < 2 || len > (64u << 20)) break;
            uint8_t *body = malloc(len);
            if (!body) break;
            size_t have = 0;
            while (have < len && !g_stop) {
                ssize_t r = recv(fd, body + have, len - have, 0);
                if (r > 0) have += (size_t)r;
                else if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                else break;
            }
            if (have == len) {
                size_t llen = body[1];
                if (2 + llen <= len) {
                    char location[256];
                    memcpy(location, body + 2, llen);
                    location[llen] = 0;
                    const uint8_t *payload = body + 2 + llen;
                    size_t plen = len - 2 - llen;
                    size_t n = strlen(location);
                    if (n >= 3 && strcmp(location + n - 3, "_vd") == 0) lib.parse_response_vd(payload, plen);
                    else lib.parse_response(payload, plen);
                }
            }
            free(body);
            if (have != len) break;
        }
        close(fd);
        usleep(50 * 1000);
    }
    return NULL;
}

/* ---- callbacks ---- */
static void on_log(modules_log_level_t level, const char *msg, const char *tag) {
    static const char *names[] = {"debug", "info", "warning", "error", "critical", "debug2"};
    int l = (int)level;
    if (l < 0 || l > 5) l = 3;
    int show = (l == LOG_WARNING || l == LOG_ERROR || l == LOG_ERROR_EXIT) || (g_verbose >= 1 && l != LOG_DEBUG_VERBOSE) ||
               g_verbose >= 2;
    if (l == LOG_INFO && strstr(msg, "Evaluation finished.")) {
        printf("scan finished\n");
        fflush(stdout);
    }
    if (show) fprintf(stderr, "%s: %s: %s\n", tag ? tag : "?", names[l], msg ? msg : "(null)");
}

/* Stateless events go to the manager's events log. */
static void on_send(const void *json) {
    pthread_mutex_lock(&g_sock_mutex);
    if (g_sock >= 0 && json) send_frame(g_sock, 'd', "syscollector", json, strlen(json));
    pthread_mutex_unlock(&g_sock_mutex);
}

/* Live documents per index, for --summary: a small open-addressing table of ids. */
#define IDS 262144
static struct {
    char id[41];
    char index[64];
    int live;
} g_ids[IDS];
static pthread_mutex_t g_ids_mutex = PTHREAD_MUTEX_INITIALIZER;

static void track(const char *id, Operation_t op, const char *index) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = id; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
    pthread_mutex_lock(&g_ids_mutex);
    for (size_t i = 0; i < IDS; i++) {
        size_t k = (size_t)((h + i) % IDS);
        if (g_ids[k].id[0] == 0 || strcmp(g_ids[k].id, id) == 0) {
            snprintf(g_ids[k].id, sizeof g_ids[k].id, "%s", id);
            snprintf(g_ids[k].index, sizeof g_ids[k].index, "%s", index);
            g_ids[k].live = op != OPERATION_DELETE;
            break;
        }
    }
    pthread_mutex_unlock(&g_ids_mutex);
}

/* Stateful documents are handed back to the library's queue, as the daemon does. */
static void on_persist(const char *id, Operation_t op, const char *index, const void *data, uint64_t version) {
    if (!id || !index || !data) return;
    track(id, op, index);
    lib.persist_diff(id, op, index, (const char *)data, version);
}

/* ---- threads ---- */
static void *scan_thread(void *arg) {
    (void)arg;
    lib.start();
    return NULL;
}

static unsigned g_sync_interval = 5;

static void *sync_thread(void *arg) {
    (void)arg;
    while (!g_stop) {
        for (unsigned i = 0; i < g_sync_interval * 10 && !g_stop; i++) usleep(100 * 1000);
        if (g_stop) break;
        lib.lock();
        bool ok = lib.sync_module(MODE_DELTA);
        if (ok) lib.recovery();
        lib.unlock();
        printf("sync %s\n", ok ? "ok" : "failed");
        fflush(stdout);
    }
    return NULL;
}

/* ---- beta4 mode (wm_syscollector.c at v5.0.0-beta4) ---- */
static void host_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void host_log(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("host: %s\n", line);
    fflush(stdout);
}

/* The agentd stand-in handed to syscollector_set_agentd_query_func: fills OUT with the JSON
 * after agentd's "ok " and returns true, or returns false (unknown request, no limits file
 * yet, answer too long). */
static bool agentd_query(const char *command, char *output_buffer, size_t buffer_size) {
    if (!command || !output_buffer || buffer_size == 0) return false;
    host_log("agentd request: %s", command);
    if (strcmp(command, "getdoclimits syscollector") != 0) return false;
    char answer[8192];
    if (g_doc_limits_file) {
        FILE *f = fopen(g_doc_limits_file, "r");
        if (!f) return false;
        size_t n = fread(answer, 1, sizeof answer - 1, f);
        fclose(f);
        answer[n] = 0;
        while (n > 0 && (answer[n - 1] == '\n' || answer[n - 1] == '\r' || answer[n - 1] == ' ')) answer[--n] = 0;
    } else {
        snprintf(answer, sizeof answer, "%s", g_doc_limits ? g_doc_limits : "{}");
    }
    size_t len = strlen(answer);
    if (len >= buffer_size) return false;
    memcpy(output_buffer, answer, len + 1);
    return true;
}

static volatile int g_sync_running = 0;

/* syscollector_query(QUERY) answered {"error":0,"data":{FIELD:N}}: *value = N. */
static bool query_int(const char *query, const char *field, int *value) {
    if (!opt.query) return false;
    char *out = NULL;
    opt.query(query, &out);
    if (!out) return false;
    jnode *root = json_parse(out);
    free(out);
    char path[128];
    snprintf(path, sizeof path, "data.%s", field);
    double error = -1, v = 0;
    bool ok = root && json_num(root, "error", &error) && error == 0 && json_num(root, path, &v);
    if (ok) *value = (int)v;
    json_free(root);
    return ok;
}

typedef enum { STARTUP_WAIT, STARTUP_IMMEDIATE, STARTUP_STOP } startup_action_t;

static startup_action_t startup_action(void) {
    int marker = 0;
    if (!opt.query) {
        host_log("Syscollector query function not available. Keeping startup synchronization delay.");
        return STARTUP_WAIT;
    }
    if (!query_int("{\"command\":\"get_first_sync_completed\"}", "first_sync_completed", &marker)) {
        host_log("Failed to detect whether the first inventory synchronization already completed. Keeping "
                 "startup synchronization delay.");
        return STARTUP_WAIT;
    }
    if (marker > 0) {
        host_log("Inventory first synchronization already completed in a previous run. Keeping startup "
                 "synchronization delay.");
        return STARTUP_WAIT;
    }
    host_log("Inventory initial scan data is not ready yet. First synchronization will wait for scan data.");
    int throttle = 0;
    while (g_sync_running && !g_stop) {
        int scan_marker = 0;
        if (!query_int("{\"command\":\"get_first_scan_completed\"}", "first_scan_completed", &scan_marker)) {
            host_log("Failed to detect initial Syscollector scan completion. Keeping startup synchronization delay.");
            return STARTUP_WAIT;
        }
        if (scan_marker > 0) {
            host_log("First inventory scan completed. Triggering first synchronization without startup delay.");
            return STARTUP_IMMEDIATE;
        }
        if (throttle == 0) host_log("Synchronization deferred: waiting for first inventory scan to complete.");
        throttle = (throttle + 1) % 30;
        for (int i = 0; i < 10 && g_sync_running; i++) usleep(100 * 1000);
    }
    return STARTUP_STOP;
}

static void *sync_thread_beta4(void *arg) {
    (void)arg;
    bool wait_before_sync = true, blocked_on_scan = false;
    switch (startup_action()) {
    case STARTUP_IMMEDIATE:
        wait_before_sync = false;
        blocked_on_scan = true;
        break;
    case STARTUP_STOP:
        return NULL;
    default:
        break;
    }
    while (g_sync_running) {
        if (wait_before_sync)
            for (unsigned i = 0; i < g_sync_interval * 10 && g_sync_running; i++) usleep(100 * 1000);
        wait_before_sync = true;
        if (!g_sync_running) break;
        if (blocked_on_scan && opt.is_scanning) {
            while (g_sync_running && opt.is_scanning()) {
                host_log("Waiting for scan to finish before forced post-first-scan synchronization.");
                for (int i = 0; i < 10 && g_sync_running; i++) usleep(100 * 1000);
            }
            blocked_on_scan = false;
        }
        if (!g_sync_running) break;
        if (opt.is_scanning && opt.is_scanning()) {
            host_log("Scan in progress, skipping sync cycle");
            continue;
        }
        /* No scan mutex while waiting for the manager; only the recovery is serialized. */
        bool ok = lib.sync_module(MODE_DELTA);
        printf("sync %s\n", ok ? "ok" : "failed");
        fflush(stdout);
        if (ok && g_sync_running) {
            lib.lock();
            lib.recovery();
            lib.unlock();
        }
    }
    return NULL;
}

/* The module thread of beta4: start returns, the sync thread is joined, the stopper is told,
 * and only then are the resources released. */
static pthread_t g_sync_tid;
static bool g_sync_started = false;
static pthread_mutex_t g_done_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_done_cond = PTHREAD_COND_INITIALIZER;
static bool g_module_running = false;

static void *module_thread_beta4(void *arg) {
    (void)arg;
    lib.start();
    g_sync_running = 0;
    if (g_sync_started) pthread_join(g_sync_tid, NULL);
    host_log("Module finished.");
    pthread_mutex_lock(&g_done_mutex);
    g_module_running = false;
    pthread_cond_signal(&g_done_cond);
    pthread_mutex_unlock(&g_done_mutex);
    if (opt.release_resources) {
        opt.release_resources();
        host_log("Resources released.");
    }
    return NULL;
}

/* beta4's wm_sys_stop: signal, then wait at most 10 s for the module thread. Returns the
 * milliseconds waited, or -1 on the timeout. */
static long stop_beta4(void) {
    g_sync_running = 0;
    host_log("Stop received for Syscollector.");
    struct timespec start, deadline, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    lib.stop();
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    long rc = 0;
    pthread_mutex_lock(&g_done_mutex);
    while (g_module_running) {
        if (pthread_cond_timedwait(&g_done_cond, &g_done_mutex, &deadline) == ETIMEDOUT) {
            host_log("Timeout waiting for Syscollector to complete shutdown.");
            rc = -1;
            break;
        }
    }
    pthread_mutex_unlock(&g_done_mutex);
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (rc == 0) rc = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
    return rc;
}

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static int has(const char *list, const char *name) {
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
    }
    return 0;
}

#define LOOKUP(field, name)                                              \
    do {                                                                 \
        *(void **)(&lib.field) = dlsym(handle, name);                    \
        if (!lib.field) {                                                \
            fprintf(stderr, "host: %s not found: %s\n", name, dlerror()); \
            return 2;                                                    \
        }                                                                \
    } while (0)

int main(int argc, char **argv) {
    const char *lib_path = NULL, *db_dir = NULL, *collectors = NULL, *summary = NULL;
    const char *agent_info_path = NULL, *agent_metadata = NULL;
    unsigned interval = 3600, integrity = 86400, run_secs = 0;
    bool ports_all = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--lib") && v) lib_path = argv[++i];
        else if (!strcmp(a, "--db") && v) db_dir = argv[++i];
        else if (!strcmp(a, "--socket") && v) g_socket_path = argv[++i];
        else if (!strcmp(a, "--interval") && v) interval = (unsigned)atoi(argv[++i]);
        else if (!strcmp(a, "--sync-interval") && v) g_sync_interval = (unsigned)atoi(argv[++i]);
        else if (!strcmp(a, "--integrity") && v) integrity = (unsigned)atoi(argv[++i]);
        else if (!strcmp(a, "--run-secs") && v) run_secs = (unsigned)atoi(argv[++i]);
        else if (!strcmp(a, "--collectors") && v) collectors = argv[++i];
        else if (!strcmp(a, "--summary") && v) summary = argv[++i];
        else if (!strcmp(a, "--agent-info") && v) agent_info_path = argv[++i];
        else if (!strcmp(a, "--agent-metadata") && v) agent_metadata = argv[++i];
        else if (!strcmp(a, "--ports-all")) ports_all = true;
        else if (!strcmp(a, "--beta4")) g_beta4 = 1;
        else if (!strcmp(a, "--doc-limits") && v) g_doc_limits = argv[++i];
        else if (!strcmp(a, "--doc-limits-file") && v) g_doc_limits_file = argv[++i];
        else if (!strcmp(a, "-v")) g_verbose++;
        else {
            fprintf(stderr, "host: unknown argument %s\n", a);
            return 2;
        }
    }
    const char *generation = getenv("HOST_GENERATION");
    if (generation && !strcmp(generation, "beta4")) g_beta4 = 1;
    if (!lib_path || !db_dir || !g_socket_path) {
        fprintf(stderr, "usage: host --lib LIB --db DIR --socket SOCK [options]\n");
        return 2;
    }
    /* The agent-info module first, as the daemon starts it before the inventory. */
    void (*agent_info_stop)(void) = NULL;
    if (agent_info_path) {
        if (!agent_metadata) {
            fprintf(stderr, "host: --agent-info needs --agent-metadata\n");
            return 2;
        }
        void *info = dlopen(agent_info_path, RTLD_LAZY);
        if (!info) {
            fprintf(stderr, "host: dlopen: %s\n", dlerror());
            return 2;
        }
        int (*agent_info_start)(const char *) = NULL;
        *(void **)(&agent_info_start) = dlsym(info, "agent_info_start");
        *(void **)(&agent_info_stop) = dlsym(info, "agent_info_stop");
        if (!agent_info_start || !agent_info_stop || agent_info_start(agent_metadata) != 0) {
            fprintf(stderr, "host: cannot start %s\n", agent_info_path);
            return 2;
        }
        /* What this host is for: the provider is loaded, and not globally visible. */
        if (dlsym(RTLD_DEFAULT, "metadata_provider_get")) {
            fprintf(stderr, "host: metadata_provider_get is in the global scope\n");
            return 2;
        }
    }
    void *handle = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "host: dlopen: %s\n", dlerror());
        return 2;
    }
    LOOKUP(init, "syscollector_init");
    LOOKUP(start, "syscollector_start");
    LOOKUP(stop, "syscollector_stop");
    LOOKUP(init_sync, "syscollector_init_sync");
    LOOKUP(sync_module, "syscollector_sync_module");
    LOOKUP(persist_diff, "syscollector_persist_diff");
    LOOKUP(parse_response, "syscollector_parse_response");
    LOOKUP(parse_response_vd, "syscollector_parse_response_vd");
    LOOKUP(lock, "syscollector_lock_scan_mutex");
    LOOKUP(unlock, "syscollector_unlock_scan_mutex");
    LOOKUP(recovery, "syscollector_run_recovery_process");
    if (g_beta4) {
        /* Optional, as in the beta4 daemon: a missing one is reported, never fatal. */
        *(void **)(&opt.release_resources) = dlsym(handle, "syscollector_release_resources");
        *(void **)(&opt.is_scanning) = dlsym(handle, "syscollector_is_scanning");
        *(void **)(&opt.set_agentd_query_func) = dlsym(handle, "syscollector_set_agentd_query_func");
        *(void **)(&opt.query) = dlsym(handle, "syscollector_query");
        const struct {
            const char *name;
            bool found;
        } optional[] = {{"syscollector_release_resources", opt.release_resources != NULL},
                        {"syscollector_is_scanning", opt.is_scanning != NULL},
                        {"syscollector_set_agentd_query_func", opt.set_agentd_query_func != NULL},
                        {"syscollector_query", opt.query != NULL}};
        for (size_t k = 0; k < sizeof optional / sizeof optional[0]; k++)
            host_log("dlsym %s %s", optional[k].name, optional[k].found ? "found" : "missing");
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char local_db[4096], sync_db[4096], vd_db[4096];
    snprintf(local_db, sizeof local_db, "%s/local.db", db_dir);
    snprintf(sync_db, sizeof sync_db, "%s/syscollector_sync.db", db_dir);
    snprintf(vd_db, sizeof vd_db, "%s/syscollector_vd_sync.db", db_dir);

    lib.init(interval, on_send, on_persist, on_log, local_db, "", "", true, has(collectors, "hardware"),
             has(collectors, "os"), has(collectors, "network"), has(collectors, "packages"),
             has(collectors, "ports"), ports_all, has(collectors, "processes"), has(collectors, "hotfixes"),
             has(collectors, "groups"), has(collectors, "users"), has(collectors, "services"),
             has(collectors, "browser_extensions"), true);
    if (g_beta4) {
        /* After init, before init_sync and start: the library fetches its document limits. */
        if (opt.set_agentd_query_func) {
            opt.set_agentd_query_func(agentd_query);
            host_log("Agentd query function configured for document limits.");
        } else {
            host_log("Agentd query function setter not available.");
        }
    }
    /* The daemon opens its queue before starting the module; stateless events use it. */
    mq_start(NULL, 0, 0);
    MQ_Functions mq = {mq_start, mq_send_binary};
    lib.init_sync("syscollector", sync_db, vd_db, &mq, 0, 5, 5, 0, integrity);

    pthread_t scan, sync, reader;
    pthread_create(&reader, NULL, reader_thread, NULL);
    if (g_beta4) {
        g_sync_running = 1;
        g_sync_started = pthread_create(&g_sync_tid, NULL, sync_thread_beta4, NULL) == 0;
        if (!g_sync_started) g_sync_running = 0;
        g_module_running = true;
        pthread_create(&scan, NULL, module_thread_beta4, NULL);
    } else {
        pthread_create(&scan, NULL, scan_thread, NULL);
        pthread_create(&sync, NULL, sync_thread, NULL);
    }

    time_t started = time(NULL);
    while (!g_stop) {
        usleep(100 * 1000);
        if (run_secs && time(NULL) - started >= (time_t)run_secs) g_stop = 1;
    }
    if (g_beta4) {
        long waited = stop_beta4();
        if (waited >= 0) host_log("stopped in %ld ms", waited);
        pthread_join(scan, NULL);
    } else {
        lib.stop();
        pthread_join(scan, NULL);
        pthread_join(sync, NULL);
    }
    pthread_join(reader, NULL);
    if (agent_info_stop) agent_info_stop();

    if (summary) {
        FILE *f = fopen(summary, "w");
        if (f) {
            for (size_t i = 0; i < IDS; i++)
                if (g_ids[i].id[0] && g_ids[i].live) fprintf(f, "%s %s\n", g_ids[i].index, g_ids[i].id);
            fclose(f);
        }
    }
    printf("host stopped\n");
    return 0;
}
