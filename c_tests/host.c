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
        else if (!strcmp(a, "-v")) g_verbose++;
        else {
            fprintf(stderr, "host: unknown argument %s\n", a);
            return 2;
        }
    }
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
    /* The daemon opens its queue before starting the module; stateless events use it. */
    mq_start(NULL, 0, 0);
    MQ_Functions mq = {mq_start, mq_send_binary};
    lib.init_sync("syscollector", sync_db, vd_db, &mq, 0, 5, 5, 0, integrity);

    pthread_t scan, sync, reader;
    pthread_create(&reader, NULL, reader_thread, NULL);
    pthread_create(&scan, NULL, scan_thread, NULL);
    pthread_create(&sync, NULL, sync_thread, NULL);

    time_t started = time(NULL);
    while (!g_stop) {
        usleep(100 * 1000);
        if (run_secs && time(NULL) - started >= (time_t)run_secs) g_stop = 1;
    }
    lib.stop();
    pthread_join(scan, NULL);
    pthread_join(sync, NULL);
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
