/*
 * test_lifecycle: drives libsyscollector.so through the C ABI as wazuh-modulesd does.
 *
 * init (interval 1 s; hardware, os and processes on; notify_on_first_scan) -> start in a
 * thread of its own -> first scan: stateless events are JSON objects of the right shape,
 * stateful documents carry id/index/operation/version/checksum/state, one system and one
 * hardware document, about as many process documents as /proc has processes -> a new child
 * process is reported as created, and as deleted once it is gone -> the system document is
 * never reported again -> stop, and start returns within a second.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "json.h"
#include "syscollector.h"

#define WAIT_SCAN_S 30.0
#define WAIT_EVENT_S 30.0

enum { IDX_SYSTEM, IDX_HARDWARE, IDX_PROCESSES, IDX_OTHER };
static const char *const INDEX_NAMES[] = {
    SYSCOLLECTOR_SYNC_INDEX_SYSTEM, SYSCOLLECTOR_SYNC_INDEX_HARDWARE,
    SYSCOLLECTOR_SYNC_INDEX_PROCESSES};
static const char *const COLLECTORS[] = {"dbsync_osinfo", "dbsync_hwinfo", "dbsync_processes"};

typedef struct {
    char *id;
    int operation;
    char *index;
    char *json;
    uint64_t version;
    int scan; /* number of scans finished when it arrived: 0 = during the first scan */
} stateful_ev;

typedef struct {
    char *json;
    int scan;
} stateless_ev;

/* Everything the callbacks record; guarded by g_mu, changes signalled on g_cv. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv;
static stateful_ev *g_stateful;
static size_t g_n_stateful, g_cap_stateful;
static stateless_ev *g_stateless;
static size_t g_n_stateless, g_cap_stateless;
static int g_scans_done;
static int g_errors_logged;
static int g_null_args;
static int g_bad_tag;
static int g_start_returned;

static pid_t g_child = -1;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void on_stateless(const void *buffer) {
    pthread_mutex_lock(&g_mu);
    if (!buffer) {
        g_null_args++;
    } else {
        if (g_n_stateless == g_cap_stateless) {
            g_cap_stateless = g_cap_stateless ? g_cap_stateless * 2 : 256;
            g_stateless = realloc(g_stateless, g_cap_stateless * sizeof *g_stateless);
            if (!g_stateless) abort();
        }
        g_stateless[g_n_stateless].json = strdup((const char *)buffer);
        g_stateless[g_n_stateless].scan = g_scans_done;
        g_n_stateless++;
    }
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void on_stateful(const char *id, Operation_t operation, const char *index, const void *buffer,
                        uint64_t version) {
    pthread_mutex_lock(&g_mu);
    if (!id || !index || !buffer) g_null_args++;
    if (g_n_stateful == g_cap_stateful) {
        g_cap_stateful = g_cap_stateful ? g_cap_stateful * 2 : 256;
        g_stateful = realloc(g_stateful, g_cap_stateful * sizeof *g_stateful);
        if (!g_stateful) abort();
    }
    stateful_ev *e = &g_stateful[g_n_stateful++];
    e->id = dup_or_null(id);
    e->operation = (int)operation;
    e->index = dup_or_null(index);
    e->json = dup_or_null((const char *)buffer);
    e->version = version;
    e->scan = g_scans_done;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void on_log(modules_log_level_t level, const char *log, const char *tag) {
    static const char *const names[] = {"debug", "info", "warning", "error", "error_exit", "verbose"};
    const char *lname = (unsigned)level < 6 ? names[level] : "?";
    pthread_mutex_lock(&g_mu);
    if (!log || !tag) g_null_args++;
    if (!tag || strcmp(tag, "wazuh-modulesd:syscollector") != 0) g_bad_tag++;
    if (level == LOG_ERROR || level == LOG_ERROR_EXIT) g_errors_logged++;
    if (log && strcmp(log, "Evaluation finished.") == 0) g_scans_done++;
    if (level != LOG_DEBUG && level != LOG_DEBUG_VERBOSE)
        printf("  [%s] %s: %s\n", lname, tag ? tag : "(null)", log ? log : "(null)");
    fflush(stdout);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void *run_module(void *arg) {
    (void)arg;
    syscollector_start();
    pthread_mutex_lock(&g_mu);
    g_start_returned = 1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

/* Waits (g_mu held) up to `seconds` for `pred`; false on timeout or when start returned. */
static int wait_locked(int (*pred)(const void *), const void *arg, double seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)seconds;
    while (!pred(arg)) {
        if (g_start_returned) return pred(arg);
        if (pthread_cond_timedwait(&g_cv, &g_mu, &deadline) == ETIMEDOUT) return pred(arg);
    }
    return 1;
}

static int scans_at_least(const void *arg) { return g_scans_done >= *(const int *)arg; }

static int wait_scans(int n, double seconds) {
    pthread_mutex_lock(&g_mu);
    int ok = wait_locked(scans_at_least, &n, seconds);
    pthread_mutex_unlock(&g_mu);
    return ok;
}

static int index_kind(const char *index) {
    for (int i = 0; i < 3; i++)
        if (index && strcmp(index, INDEX_NAMES[i]) == 0) return i;
    return IDX_OTHER;
}

/* Number of /proc/[0-9]* entries (processes, not threads). */
static int count_proc(void) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        if (!*s) continue;
        while (isdigit((unsigned char)*s)) s++;
        if (*s == '\0') n++;
    }
    closedir(d);
    return n;
}

/* The process document of `pid` with `operation`, searched from event `from` on. */
typedef struct {
    pid_t pid;
    int operation;
    size_t from;
    const char *id; /* when set, the id must match instead of the pid */
    long found;
} proc_query;

static int doc_pid_is(const char *json, pid_t pid) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"pid\":\"%d\"", (int)pid);
    if (!json || !strstr(json, needle)) return 0;
    jnode *doc = json_parse(json);
    const char *p = json_str(doc, "process.pid");
    int ok = p && atol(p) == (long)pid;
    json_free(doc);
    return ok;
}

static int find_process_event(const void *arg) {
    proc_query *q = (proc_query *)arg;
    for (size_t i = q->from; i < g_n_stateful; i++) {
        const stateful_ev *e = &g_stateful[i];
        if (e->operation != q->operation || index_kind(e->index) != IDX_PROCESSES) continue;
        if (q->id ? (e->id && strcmp(e->id, q->id) == 0) : doc_pid_is(e->json, q->pid)) {
            q->found = (long)i;
            return 1;
        }
    }
    return 0;
}

/* A stateless process event for `pid` of type `type` (g_mu held). */
static int stateless_process_seen(pid_t pid, const char *type) {
    char pidtxt[32];
    snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
    int found = 0;
    for (size_t i = 0; i < g_n_stateless && !found; i++) {
        jnode *ev = json_parse(g_stateless[i].json);
        const char *c = json_str(ev, "collector");
        const char *p = json_str(ev, "data.process.pid");
        const char *t = json_str(ev, "data.event.type");
        found = c && strcmp(c, "dbsync_processes") == 0 && p && strcmp(p, pidtxt) == 0 && t &&
                strcmp(t, type) == 0;
        json_free(ev);
    }
    return found;
}

typedef struct {
    pid_t pid;
    const char *type;
} stateless_query;

static int stateless_pred(const void *arg) {
    const stateless_query *q = (const stateless_query *)arg;
    return stateless_process_seen(q->pid, q->type);
}

/* Waits (g_mu held) for the stateless twin of a stateful event: the library sends it right
 * after the stateful one, so it may still be on its way. */
static int has_stateless_process(pid_t pid, const char *type) {
    stateless_query q = {pid, type};
    return wait_locked(stateless_pred, &q, 5.0);
}

static void check_first_scan(int procs_before, int procs_after) {
    int per_index[4] = {0, 0, 0, 0};
    size_t n_first = 0;
    for (size_t i = 0; i < g_n_stateful; i++) {
        const stateful_ev *e = &g_stateful[i];
        if (e->scan != 0) continue;
        n_first++;
        int k = index_kind(e->index);
        per_index[k]++;
        CHECK(is_hex40(e->id), "stateful #%zu: id '%s' is not 40 hex digits", i, e->id ? e->id : "(null)");
        CHECK(k != IDX_OTHER, "stateful #%zu: unexpected index '%s'", i, e->index ? e->index : "(null)");
        CHECK(e->operation == OPERATION_CREATE, "stateful #%zu: operation %d, expected CREATE", i,
              e->operation);
        CHECK(e->version == 1, "stateful #%zu: version %llu, expected 1", i,
              (unsigned long long)e->version);
        jnode *doc = json_parse(e->json);
        CHECK(doc && doc->type == J_OBJECT, "stateful #%zu: document is not a JSON object: %s", i,
              e->json ? e->json : "(null)");
        if (doc) {
            const jnode *checksum = json_get(doc, "checksum");
            const jnode *state = json_get(doc, "state");
            CHECK(checksum && checksum->type == J_OBJECT, "stateful #%zu: no \"checksum\" object: %s", i,
                  e->json);
            CHECK(is_hex40(json_str(doc, "checksum.hash.sha1")), "stateful #%zu: checksum.hash.sha1: %s",
                  i, e->json);
            CHECK(state && state->type == J_OBJECT, "stateful #%zu: no \"state\" object: %s", i, e->json);
            double dv = 0;
            CHECK(json_num(doc, "state.document_version", &dv) && dv == 1,
                  "stateful #%zu: state.document_version is not 1: %s", i, e->json);
            CHECK(json_str(doc, "state.modified_at") != NULL, "stateful #%zu: no state.modified_at: %s", i,
                  e->json);
            if (k == IDX_PROCESSES)
                CHECK(json_str(doc, "process.pid") != NULL, "stateful #%zu: no process.pid string: %s", i,
                      e->json);
        }
        json_free(doc);
        for (size_t j = 0; j < i; j++)
            if (g_stateful[j].scan == 0 && e->id && g_stateful[j].id && strcmp(e->id, g_stateful[j].id) == 0) {
                CHECK(0, "stateful #%zu and #%zu share id %s", j, i, e->id);
                break;
            }
    }
    note("first scan: %zu stateful documents (system %d, hardware %d, processes %d); "
         "/proc had %d processes before the scan, %d after",
         n_first, per_index[IDX_SYSTEM], per_index[IDX_HARDWARE], per_index[IDX_PROCESSES], procs_before,
         procs_after);
    CHECK(per_index[IDX_SYSTEM] == 1, "%d system documents, expected 1", per_index[IDX_SYSTEM]);
    CHECK(per_index[IDX_HARDWARE] == 1, "%d hardware documents, expected 1", per_index[IDX_HARDWARE]);
    /* Processes come and go while the scan runs: compare with the range of both counts,
     * +-20 % (at least +-2 on the tiny process tables of containers). */
    int lo = procs_before < procs_after ? procs_before : procs_after;
    int hi = procs_before < procs_after ? procs_after : procs_before;
    int tol_lo = lo / 5 > 2 ? lo / 5 : 2, tol_hi = hi / 5 > 2 ? hi / 5 : 2;
    int n = per_index[IDX_PROCESSES];
    CHECK(lo > 0 && n >= lo - tol_lo && n <= hi + tol_hi,
          "%d process documents, /proc lists %d..%d processes (allowed %d..%d)", n, lo, hi, lo - tol_lo,
          hi + tol_hi);

    size_t n_stateless_first = 0;
    for (size_t i = 0; i < g_n_stateless; i++) {
        if (g_stateless[i].scan != 0) continue;
        n_stateless_first++;
        const char *text = g_stateless[i].json;
        jnode *ev = json_parse(text);
        CHECK(ev && ev->type == J_OBJECT, "stateless #%zu is not a JSON object: %s", i, text);
        if (!ev) continue;
        const char *collector = json_str(ev, "collector");
        int known = 0;
        for (int c = 0; c < 3; c++) known |= collector && strcmp(collector, COLLECTORS[c]) == 0;
        CHECK(known, "stateless #%zu: collector is '%s': %s", i, collector ? collector : "(none)", text);
        const char *module = json_str(ev, "module");
        CHECK(module && strcmp(module, "inventory") == 0, "stateless #%zu: module: %s", i, text);
        const jnode *data = json_get(ev, "data");
        CHECK(data && data->type == J_OBJECT, "stateless #%zu: no data object: %s", i, text);
        const char *type = json_str(ev, "data.event.type");
        CHECK(type && strcmp(type, "created") == 0, "stateless #%zu: data.event.type: %s", i, text);
        CHECK(json_str(ev, "data.event.created") != NULL, "stateless #%zu: no data.event.created: %s", i,
              text);
        CHECK(!json_get(data, "checksum") && !json_get(data, "state"),
              "stateless #%zu: data carries checksum/state: %s", i, text);
        json_free(ev);
    }
    note("first scan: %zu stateless events", n_stateless_first);
    CHECK(n_stateless_first == n_first,
          "notify_on_first_scan: %zu stateless events for %zu stateful documents", n_stateless_first,
          n_first);
}

static void kill_child(void) {
    if (g_child > 0) {
        kill(g_child, SIGKILL);
        waitpid(g_child, NULL, 0);
        g_child = -1;
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK(json_selftest(), "the JSON parser of this test is broken");

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g_cv, &ca);
    pthread_condattr_destroy(&ca);
    atexit(kill_child);

    char *dir = make_temp_dir("syscollector-lifecycle");
    CHECK(dir != NULL, "cannot create a temporary directory");
    if (!dir) return finish("test_lifecycle");
    char *db = NULL;
    if (asprintf(&db, "%s/local.db", dir) < 0) return 1;

    syscollector_init(1, on_stateless, on_stateful, on_log, db, NULL, NULL,
                      /*scan_on_start*/ true, /*hardware*/ true, /*os*/ true, /*network*/ false,
                      /*packages*/ false, /*ports*/ false, /*ports_all*/ false, /*processes*/ true,
                      /*hotfixes*/ false, /*groups*/ false, /*users*/ false, /*services*/ false,
                      /*browser_extensions*/ false, /*notify_on_first_scan*/ true);

    pthread_t thread;
    int procs_before = count_proc();
    CHECK(pthread_create(&thread, NULL, run_module, NULL) == 0, "pthread_create");

    /* 1. The first scan. */
    double t0 = now_mono();
    int first = wait_scans(1, WAIT_SCAN_S);
    int procs_after = count_proc();
    CHECK(first, "no \"Evaluation finished.\" within %.0f s (start returned: %d)", WAIT_SCAN_S,
          g_start_returned);
    note("first scan finished after %.2f s", now_mono() - t0);
    pthread_mutex_lock(&g_mu);
    if (first) check_first_scan(procs_before, procs_after);
    pthread_mutex_unlock(&g_mu);

    /* 2. A new process is reported as created. */
    pthread_mutex_lock(&g_mu);
    size_t mark = g_n_stateful;
    pthread_mutex_unlock(&g_mu);
    fflush(NULL);
    g_child = fork();
    if (g_child == 0) {
        execlp("sleep", "sleep", "60", (char *)NULL);
        _exit(127);
    }
    CHECK(g_child > 0, "fork failed");
    pid_t child = g_child;
    note("spawned child %d (sleep 60)", (int)child);

    char *child_id = NULL;
    proc_query q = {child, OPERATION_CREATE, mark, NULL, -1};
    pthread_mutex_lock(&g_mu);
    int created = child > 0 && wait_locked(find_process_event, &q, WAIT_EVENT_S);
    CHECK(created, "no CREATE of a processes document with \"pid\":\"%d\" within %.0f s", (int)child,
          WAIT_EVENT_S);
    if (created) {
        const stateful_ev *e = &g_stateful[q.found];
        child_id = strdup(e->id);
        note("child created: id %s, version %llu", e->id, (unsigned long long)e->version);
        CHECK(e->version == 1, "child CREATE version %llu", (unsigned long long)e->version);
        CHECK(has_stateless_process(child, "created"), "no stateless 'created' event for pid %d",
              (int)child);
    }
    mark = g_n_stateful;
    pthread_mutex_unlock(&g_mu);

    /* 3. ... and as deleted once it is gone. */
    kill_child();
    if (child_id) {
        proc_query d = {child, OPERATION_DELETE, mark, child_id, -1};
        pthread_mutex_lock(&g_mu);
        int deleted = wait_locked(find_process_event, &d, WAIT_EVENT_S);
        CHECK(deleted, "no DELETE of processes document %s (pid %d) within %.0f s", child_id, (int)child,
              WAIT_EVENT_S);
        if (deleted) {
            note("child deleted: id %s", child_id);
            CHECK(has_stateless_process(child, "deleted"), "no stateless 'deleted' event for pid %d",
                  (int)child);
        }
        pthread_mutex_unlock(&g_mu);
    }

    /* 4. Two more full scans (the second with no change of ours), then: the system
     * document was never reported again. */
    pthread_mutex_lock(&g_mu);
    int want = g_scans_done + 2;
    pthread_mutex_unlock(&g_mu);
    CHECK(wait_scans(want, WAIT_SCAN_S), "fewer than %d scans finished", want);

    pthread_mutex_lock(&g_mu);
    int system_events = 0, hardware_events = 0;
    for (size_t i = 0; i < g_n_stateful; i++) {
        int k = index_kind(g_stateful[i].index);
        if (k == IDX_SYSTEM) system_events++;
        if (k == IDX_HARDWARE) hardware_events++;
        CHECK(k != IDX_OTHER, "stateful #%zu: unexpected index %s", i, g_stateful[i].index);
    }
    int system_stateless = 0;
    for (size_t i = 0; i < g_n_stateless; i++) {
        jnode *ev = json_parse(g_stateless[i].json);
        CHECK(ev != NULL, "stateless #%zu is not JSON: %s", i, g_stateless[i].json);
        const char *c = json_str(ev, "collector");
        if (c && strcmp(c, "dbsync_osinfo") == 0) system_stateless++;
        json_free(ev);
    }
    note("%d scans: %zu stateful, %zu stateless events; system %d, hardware %d", g_scans_done,
         g_n_stateful, g_n_stateless, system_events, hardware_events);
    CHECK(system_events == 1, "the system document was reported %d times (unchanged after scan 1)",
          system_events);
    CHECK(system_stateless == 1, "%d stateless system events, expected 1", system_stateless);
    CHECK(g_null_args == 0, "%d callbacks received NULL arguments", g_null_args);
    CHECK(g_bad_tag == 0, "%d log lines without the tag wazuh-modulesd:syscollector", g_bad_tag);
    CHECK(g_errors_logged == 0, "%d error lines logged", g_errors_logged);
    CHECK(!g_start_returned, "syscollector_start returned before syscollector_stop");
    pthread_mutex_unlock(&g_mu);

    /* 5. stop: start returns within a second. */
    double s0 = now_mono();
    syscollector_stop();
    pthread_join(thread, NULL);
    double stop_s = now_mono() - s0;
    note("syscollector_stop + pthread_join took %.3f s", stop_s);
    CHECK(stop_s < 1.0, "start returned %.3f s after stop (limit 1 s)", stop_s);

    free(child_id);
    for (size_t i = 0; i < g_n_stateful; i++) {
        free(g_stateful[i].id);
        free(g_stateful[i].index);
        free(g_stateful[i].json);
    }
    for (size_t i = 0; i < g_n_stateless; i++) free(g_stateless[i].json);
    free(g_stateful);
    free(g_stateless);
    remove_tree(dir);
    free(db);
    free(dir);
    return finish("test_lifecycle");
}
