/*
 * test_bad_args: NULL and garbage for every export, in every state (never initialised,
 * failed init, initialised, running). No call may crash, hang or unwind into C; failing
 * calls return false/0; the process is alive at the end.
 */
#include "common.h"

#include <pthread.h>

#include "syscollector.h"

static int g_log_lines;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_log(modules_log_level_t level, const char *log, const char *tag) {
    (void)tag;
    pthread_mutex_lock(&g_mu);
    g_log_lines++;
    pthread_mutex_unlock(&g_mu);
    if (level != LOG_DEBUG && level != LOG_DEBUG_VERBOSE) printf("  [%d] %s\n", (int)level, log ? log : "(null)");
}

static void on_stateless(const void *buffer) { (void)buffer; }

/* MQ functions of a host whose queue is down (start fails) or silent (sends vanish). */
static int g_mq_starts, g_mq_sends;
static int mq_start_fail(const char *key, short kind, short attempts) {
    (void)key, (void)kind, (void)attempts;
    __atomic_add_fetch(&g_mq_starts, 1, __ATOMIC_SEQ_CST);
    return -1;
}
static int mq_send_fail(int queue, const void *message, size_t len, const char *locmsg, char loc) {
    (void)queue, (void)message, (void)len, (void)locmsg, (void)loc;
    __atomic_add_fetch(&g_mq_sends, 1, __ATOMIC_SEQ_CST);
    return -1;
}
static int mq_start_ok(const char *key, short kind, short attempts) {
    (void)key, (void)kind, (void)attempts;
    __atomic_add_fetch(&g_mq_starts, 1, __ATOMIC_SEQ_CST);
    return 42;
}
static int mq_send_void(int queue, const void *message, size_t len, const char *locmsg, char loc) {
    (void)queue, (void)message, (void)len, (void)locmsg, (void)loc;
    __atomic_add_fetch(&g_mq_sends, 1, __ATOMIC_SEQ_CST);
    return 0;
}

static void on_stateful(const char *id, Operation_t op, const char *index, const void *buffer,
                        uint64_t version) {
    (void)id, (void)op, (void)index, (void)buffer, (void)version;
}

/* Runs syscollector_start in a thread; waits at most `limit` s for it to return by itself. */
static void *run_start(void *arg) {
    (void)arg;
    syscollector_start();
    return NULL;
}

static double start_returns_within(double limit) {
    pthread_t t;
    double t0 = now_mono();
    if (pthread_create(&t, NULL, run_start, NULL) != 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)limit + 1;
    if (pthread_timedjoin_np(t, NULL, &ts) != 0) {
        /* It did not return: stop it so the test can end, and report. */
        syscollector_stop();
        pthread_join(t, NULL);
        return 1e9;
    }
    return now_mono() - t0;
}

/* A query with garbage: any answer must be a NUL-terminated string of the returned length. */
static void query_garbage(const char *label, const char *q) {
    char *out = NULL;
    size_t len = syscollector_query(q, &out);
    if (out) {
        CHECK(len == strlen(out), "%s: length %zu != strlen %zu", label, len, strlen(out));
        printf("  %-28s -> %s\n", label, out);
        free(out);
    } else {
        CHECK(len == 0, "%s: NULL answer with length %zu", label, len);
        printf("  %-28s -> (no answer)\n", label);
    }
}

static const char *with_nulls_g[3] = {NULL, SYSCOLLECTOR_SYNC_INDEX_PROCESSES, NULL};

/* Every sync-related export with bad arguments; all must fail quietly. */
static void sync_exports(const char *state) {
    note("sync exports (%s)", state);
    unsigned char garbage[1000];
    unsigned int seed = 12345;
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (unsigned char)(rand_r(&seed) & 0xFF);
    /* A plausible FlatBuffer header pointing past the end. */
    unsigned char short_fb[8] = {0xF0, 0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x00, 0x00};

    CHECK(!syscollector_parse_response(NULL, 0), "%s: parse_response(NULL, 0)", state);
    CHECK(!syscollector_parse_response(NULL, 1000), "%s: parse_response(NULL, 1000)", state);
    CHECK(!syscollector_parse_response(garbage, 0), "%s: parse_response(bytes, 0)", state);
    CHECK(!syscollector_parse_response(garbage, sizeof garbage), "%s: parse_response(random 1000)", state);
    CHECK(!syscollector_parse_response(short_fb, sizeof short_fb), "%s: parse_response(bad offset)", state);
    CHECK(!syscollector_parse_response_vd(NULL, 0), "%s: parse_response_vd(NULL, 0)", state);
    CHECK(!syscollector_parse_response_vd(garbage, sizeof garbage), "%s: parse_response_vd(random)",
          state);
    CHECK(!syscollector_parse_response_vd(short_fb, sizeof short_fb), "%s: parse_response_vd(bad offset)",
          state);

    CHECK(!syscollector_notify_data_clean(NULL, 3), "%s: notify_data_clean(NULL, 3)", state);
    CHECK(!syscollector_notify_data_clean(NULL, 0), "%s: notify_data_clean(NULL, 0)", state);
    const char **with_nulls = with_nulls_g;
    CHECK(!syscollector_notify_data_clean(with_nulls, 3), "%s: notify_data_clean([NULL, x, NULL])", state);
    const char *all_null[2] = {NULL, NULL};
    CHECK(!syscollector_notify_data_clean(all_null, 2), "%s: notify_data_clean([NULL, NULL])", state);
    const char *bad_utf8[1] = {"wazuh-states-\xff\xfe"};
    CHECK(!syscollector_notify_data_clean(bad_utf8, 1), "%s: notify_data_clean(non-UTF-8)", state);
    CHECK(!syscollector_notify_data_clean(with_nulls, 0), "%s: notify_data_clean(array, 0)", state);

    syscollector_persist_diff(NULL, OPERATION_CREATE, NULL, NULL, 1);
    syscollector_persist_diff("id", OPERATION_CREATE, NULL, "{}", 1);
    syscollector_persist_diff(NULL, OPERATION_DELETE, SYSCOLLECTOR_SYNC_INDEX_SYSTEM, "{}", 1);
    syscollector_persist_diff("id", OPERATION_MODIFY, SYSCOLLECTOR_SYNC_INDEX_SYSTEM, NULL, 1);
    syscollector_persist_diff("id", (Operation_t)77, SYSCOLLECTOR_SYNC_INDEX_SYSTEM, "{}", 1);
    syscollector_persist_diff("id", (Operation_t)-1, SYSCOLLECTOR_SYNC_INDEX_SYSTEM, "{}", UINT64_MAX);
    syscollector_persist_diff("\xff\xfe", OPERATION_CREATE, "\xc3\x28", "{\"a\":\"\xff\"}", 1);

    CHECK(!syscollector_sync_module((Mode_t)99), "%s: sync_module(99)", state);
    CHECK(!syscollector_sync_module((Mode_t)-1), "%s: sync_module(-1)", state);
    syscollector_run_recovery_process();
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char *dir = make_temp_dir("syscollector-bad-args");
    CHECK(dir != NULL, "cannot create a temporary directory");
    if (!dir) return finish("test_bad_args");
    char *out = (char *)0x1;

    /* 1. Never initialised. */
    note("before any syscollector_init");
    syscollector_lock_scan_mutex();
    syscollector_unlock_scan_mutex();
    syscollector_unlock_scan_mutex(); /* unlock without lock */
    syscollector_delete_database();
    syscollector_stop(); /* stop without start */
    syscollector_run_recovery_process();
    CHECK(syscollector_query(NULL, &out) == 0, "query(NULL, &out) answered");
    CHECK(out == NULL, "query(NULL, &out) left *out set");
    CHECK(syscollector_query("{}", NULL) == 0, "query(\"{}\", NULL) answered");
    CHECK(syscollector_query(NULL, NULL) == 0, "query(NULL, NULL) answered");
    query_garbage("get_version uninitialised", "{\"command\":\"get_version\"}");
    query_garbage("pause uninitialised", "{\"command\":\"pause\"}");
    double took = start_returns_within(5);
    CHECK(took < 1.0, "start without init returned after %.3f s", took);
    sync_exports("uninitialised");
    syscollector_init_sync(NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0);
    CHECK(!syscollector_sync_module(MODE_DELTA), "sync_module(DELTA) without init_sync succeeded");

    /* 2. init with a NULL db_path: start must return at once. */
    note("init with NULL db_path");
    syscollector_init(1, on_stateless, on_stateful, on_log, NULL, NULL, NULL, true, true, true, true,
                      true, true, true, true, true, true, true, true, true, true);
    took = start_returns_within(5);
    CHECK(took < 1.0, "start after init(db_path=NULL) returned after %.3f s", took);
    syscollector_init(1, on_stateless, on_stateful, on_log, "", NULL, NULL, true, true, true, true, true,
                      true, true, true, true, true, true, true, true, true);
    took = start_returns_within(5);
    CHECK(took < 1.0, "start after init(db_path=\"\") returned after %.3f s", took);
    query_garbage("get_version after failed init", "{\"command\":\"get_version\"}");
    syscollector_lock_scan_mutex();
    syscollector_unlock_scan_mutex();
    syscollector_delete_database();

    /* 3. A db_path in a directory that does not exist, with non-UTF-8 bytes. */
    note("init with an unusable non-UTF-8 db_path");
    char *bad_db = NULL;
    if (asprintf(&bad_db, "%s/no-such-dir-\xff\xfe/local.db", dir) < 0) return 1;
    syscollector_init(1, NULL, NULL, on_log, bad_db, "\xff", "\xfe", true, false, true, false, false, false,
                      false, false, false, false, false, false, false, false);
    /* The library may refuse to start or keep the inventory in memory; either way start
     * must not crash and must end promptly on stop. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, run_start, NULL) == 0, "pthread_create");
    sleep_ms(300);
    double s0 = now_mono();
    syscollector_stop();
    pthread_join(t, NULL);
    double stop_s = now_mono() - s0;
    CHECK(stop_s < 1.0, "start after init(unusable db_path): stop + join took %.3f s", stop_s);
    free(bad_db);

    /* 4. init with NULL callbacks (log too) and a valid non-UTF-8 db_path; scan, stop. */
    note("init with NULL callbacks and a non-UTF-8 db_path");
    char *db = NULL;
    if (asprintf(&db, "%s/local-\xff\xfe.db", dir) < 0) return 1;
    syscollector_init(3600, NULL, NULL, NULL, db, NULL, NULL, true, true, true, false, false, false, false,
                      true, false, false, false, false, false, true);
    CHECK(pthread_create(&t, NULL, run_start, NULL) == 0, "pthread_create");
    sleep_ms(1500); /* let the first scan run with NULL callbacks */
    syscollector_lock_scan_mutex();
    syscollector_unlock_scan_mutex();
    syscollector_unlock_scan_mutex();
    query_garbage("query non-UTF-8 command", "{\"command\":\"\xff\xfe\"}");
    query_garbage("query non-UTF-8 bytes", "\xff\xfe\xfd");
    query_garbage("query lone surrogate", "{\"command\":\"\\ud800\"}");
    char deep[20001];
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    deep[20000] = '\0';
    query_garbage("query 10000-deep nesting", deep);
    query_garbage("query unbalanced nesting", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]");
    query_garbage("query set_version huge", "{\"command\":\"set_version\",\"parameters\":{\"version\":1e999}}");
    query_garbage("query set_version negative", "{\"command\":\"set_version\",\"parameters\":{\"version\":-3}}");
    query_garbage("query parameters not object", "{\"command\":\"set_version\",\"parameters\":[1]}");
    /* init while running must be refused, not tear the running module down. */
    syscollector_init(1, NULL, NULL, NULL, NULL, NULL, NULL, false, false, false, false, false, false, false,
                      false, false, false, false, false, false, false);
    s0 = now_mono();
    syscollector_stop();
    pthread_join(t, NULL);
    stop_s = now_mono() - s0;
    CHECK(stop_s < 1.0, "stop + join took %.3f s", stop_s);
    syscollector_stop(); /* twice */
    syscollector_delete_database();
    syscollector_delete_database();
    sync_exports("initialised, no sync");

    /* 5. init_sync with NULLs and with MQ functions that are NULL pointers. */
    note("init_sync with NULL MQ functions");
    char *sync_db = NULL, *sync_db_vd = NULL;
    if (asprintf(&sync_db, "%s/queue.db", dir) < 0 || asprintf(&sync_db_vd, "%s/queue_vd.db", dir) < 0)
        return 1;
    MQ_Functions null_mq = {NULL, NULL};
    syscollector_init_sync(NULL, sync_db, sync_db_vd, &null_mq, 1, 1, 1, 10, 1);
    syscollector_init_sync("syscollector", NULL, sync_db_vd, &null_mq, 1, 1, 1, 10, 1);
    syscollector_init_sync("syscollector", sync_db, NULL, &null_mq, 1, 1, 1, 10, 1);
    syscollector_init_sync("syscollector", sync_db, sync_db_vd, NULL, 1, 1, 1, 10, 1);
    syscollector_init_sync("syscollector", sync_db, sync_db_vd, &null_mq, 0, 0, 0, 0, 0);
    syscollector_init_sync("syscollector", sync_db, sync_db_vd, &null_mq, 1, 1, 1, 10, 1);
    sync_exports("init_sync with NULL MQ functions");
    for (int m = MODE_FULL; m <= MODE_GROUP_CHECK; m++)
        CHECK(!syscollector_sync_module((Mode_t)m), "sync_module(%d) with NULL MQ functions succeeded", m);
    syscollector_persist_diff("0123456789012345678901234567890123456789", OPERATION_CREATE,
                              SYSCOLLECTOR_SYNC_INDEX_SYSTEM, "{\"host\":{}}", 1);
    const char *one[1] = {SYSCOLLECTOR_SYNC_INDEX_PROCESSES};
    CHECK(!syscollector_notify_data_clean(one, 1), "notify_data_clean with NULL MQ functions succeeded");
    syscollector_run_recovery_process();

    /* 5b. Real MQ functions, but the queue is down / nobody answers: sync calls fail in
     * bounded time (timeout 1 s, 1 retry) and garbage replies are rejected. */
    static const struct {
        const char *name;
        MQ_Functions mq;
    } hosts[] = {
        {"queue down", {mq_start_fail, mq_send_fail}},
        {"manager silent", {mq_start_ok, mq_send_void}},
    };
    for (size_t h = 0; h < sizeof hosts / sizeof *hosts; h++) {
        note("init_sync with MQ functions: %s", hosts[h].name);
        syscollector_init_sync("syscollector", sync_db, sync_db_vd, &hosts[h].mq, 0, 1, 1, 100, 3600);
        sync_exports(hosts[h].name);
        syscollector_persist_diff("0123456789012345678901234567890123456789", OPERATION_CREATE,
                                  SYSCOLLECTOR_SYNC_INDEX_SYSTEM, "{\"host\":{}}", 1);
        syscollector_persist_diff("0123456789012345678901234567890123456789", OPERATION_CREATE,
                                  SYSCOLLECTOR_SYNC_INDEX_PROCESSES, "not json", 1);
        double s1 = now_mono();
        CHECK(!syscollector_sync_module(MODE_DELTA), "%s: sync_module(DELTA) succeeded", hosts[h].name);
        double sync_s = now_mono() - s1;
        note("%s: sync_module(DELTA) failed after %.2f s", hosts[h].name, sync_s);
        CHECK(sync_s < 20.0, "%s: sync_module(DELTA) took %.2f s", hosts[h].name, sync_s);
        s1 = now_mono();
        CHECK(!syscollector_notify_data_clean(with_nulls_g, 3), "%s: notify_data_clean([NULL, x, NULL])",
              hosts[h].name);
        sync_s = now_mono() - s1;
        CHECK(sync_s < 20.0, "%s: notify_data_clean took %.2f s", hosts[h].name, sync_s);
        syscollector_lock_scan_mutex();
        syscollector_run_recovery_process();
        syscollector_unlock_scan_mutex();
    }
    note("MQ functions called: start %d, send_binary %d", g_mq_starts, g_mq_sends);
    CHECK(g_mq_starts > 0, "the library never tried to start the queue");
    syscollector_delete_database();
    free(sync_db);
    free(sync_db_vd);

    /* 6. Interval 0 and everything disabled: start returns at once. */
    note("init with every collector disabled");
    char *db2 = NULL;
    if (asprintf(&db2, "%s/local2.db", dir) < 0) return 1;
    syscollector_init(0, on_stateless, on_stateful, on_log, db2, NULL, NULL, true, false, false, false,
                      false, false, false, false, false, false, false, false, false, false);
    took = start_returns_within(5);
    CHECK(took < 1.0, "start with every collector disabled returned after %.3f s", took);
    free(db2);

    note("%d log lines received", g_log_lines);
    CHECK(g_log_lines > 0, "no log line at all was received");
    free(db);
    remove_tree(dir);
    free(dir);
    printf("process %d is alive\n", (int)getpid());
    return finish("test_bad_args");
}
