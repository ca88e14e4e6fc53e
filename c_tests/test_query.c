/*
 * test_query: syscollector_query, the JSON command interface of the module.
 *
 * Only the os collector runs (one scan on start), so the database has a row whose version
 * get_version/set_version can read and change. Every answer must be a malloc'ed JSON object
 * {"error": code, "message": text, ...}, its length returned, freed by the caller with free().
 */
#include "common.h"

#include <pthread.h>

#include "json.h"
#include "syscollector.h"

/* The module-query error codes (SPEC §5; module_query_errors.h of the reference). The
 * header may or may not carry them. */
#ifndef MQ_SUCCESS
#define MQ_SUCCESS 0
#endif
#ifndef MQ_ERR_UNKNOWN_COMMAND
#define MQ_ERR_UNKNOWN_COMMAND 1
#endif
#ifndef MQ_ERR_INVALID_JSON
#define MQ_ERR_INVALID_JSON 2
#endif
#ifndef MQ_ERR_INTERNAL
#define MQ_ERR_INTERNAL 98
#endif
#ifndef MQ_ERR_INVALID_PARAMS
#define MQ_ERR_INVALID_PARAMS 3
#endif

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_scans_done;
static int g_start_returned;

static void on_log(modules_log_level_t level, const char *log, const char *tag) {
    (void)tag;
    if (level != LOG_DEBUG && level != LOG_DEBUG_VERBOSE) printf("  [%d] %s\n", (int)level, log);
    pthread_mutex_lock(&g_mu);
    if (log && strcmp(log, "Evaluation finished.") == 0) g_scans_done++;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static void on_stateless(const void *buffer) { (void)buffer; }

static void on_stateful(const char *id, Operation_t op, const char *index, const void *buffer,
                        uint64_t version) {
    (void)id, (void)op, (void)index, (void)buffer, (void)version;
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

/*
 * Runs `query`, checks the answer's contract and its error code, and returns the parsed
 * answer (caller frees with json_free) or NULL.
 */
static jnode *ask(const char *label, const char *query, int expected_error) {
    char *out = (char *)0x1; /* must be overwritten */
    size_t len = syscollector_query(query, &out);
    CHECK(out != NULL && out != (char *)0x1, "%s: no answer (len %zu)", label, len);
    if (!out || out == (char *)0x1) return NULL;
    CHECK(len == strlen(out), "%s: returned length %zu, strlen %zu", label, len, strlen(out));
    printf("  %-28s -> %s\n", label, out);
    jnode *answer = json_parse(out);
    CHECK(answer && answer->type == J_OBJECT, "%s: answer is not a JSON object: %s", label, out);
    double code = -1;
    CHECK(json_num(answer, "error", &code) && code == expected_error, "%s: error %g, expected %d: %s",
          label, code, expected_error, out);
    CHECK(json_str(answer, "message") != NULL, "%s: no message: %s", label, out);
    free(out);
    return answer;
}

static void ask_only(const char *label, const char *query, int expected_error) {
    json_free(ask(label, query, expected_error));
}

static double version_of(jnode *answer, const char *label) {
    double v = -1;
    CHECK(json_num(answer, "data.version", &v), "%s: data.version is not a number", label);
    return v;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK(json_selftest(), "the JSON parser of this test is broken");
    char *dir = make_temp_dir("syscollector-query");
    CHECK(dir != NULL, "cannot create a temporary directory");
    if (!dir) return finish("test_query");
    char *db = NULL;
    if (asprintf(&db, "%s/local.db", dir) < 0) return 1;

    syscollector_init(3600, on_stateless, on_stateful, on_log, db, NULL, NULL,
                      /*scan_on_start*/ true, /*hardware*/ false, /*os*/ true, /*network*/ false,
                      /*packages*/ false, /*ports*/ false, /*ports_all*/ false, /*processes*/ false,
                      /*hotfixes*/ false, /*groups*/ false, /*users*/ false, /*services*/ false,
                      /*browser_extensions*/ false, /*notify_on_first_scan*/ false);

    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, run_module, NULL) == 0, "pthread_create");
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&g_mu);
    while (g_scans_done < 1 && !g_start_returned)
        if (pthread_cond_timedwait(&g_cv, &g_mu, &deadline) != 0) break;
    int scanned = g_scans_done >= 1;
    pthread_mutex_unlock(&g_mu);
    CHECK(scanned, "the first scan did not finish within 30 s");

    /* While the module runs: pause, resume, flush. */
    jnode *a = ask("pause", "{\"command\":\"pause\"}", MQ_SUCCESS);
    const char *action = json_str(a, "data.action");
    CHECK(action && strcmp(action, "pause") == 0, "pause: data.action is not \"pause\"");
    json_free(a);
    a = ask("resume", "{\"command\":\"resume\",\"parameters\":{}}", MQ_SUCCESS);
    action = json_str(a, "data.action");
    CHECK(action && strcmp(action, "resume") == 0, "resume: data.action is not \"resume\"");
    json_free(a);
    ask_only("flush (sync not initialised)", "{\"command\":\"flush\"}", MQ_SUCCESS);

    double s0 = now_mono();
    syscollector_stop();
    pthread_join(thread, NULL);
    note("stop + join took %.3f s", now_mono() - s0);

    /* Versions, once the os row exists. */
    a = ask("get_version", "{\"command\":\"get_version\"}", MQ_SUCCESS);
    double v = version_of(a, "get_version");
    CHECK(v >= 1, "get_version after a scan: %g, expected >= 1", v);
    json_free(a);

    a = ask("set_version 5", "{\"command\":\"set_version\",\"parameters\":{\"version\":5}}", MQ_SUCCESS);
    CHECK(version_of(a, "set_version") == 5, "set_version: data.version is not 5");
    json_free(a);

    a = ask("get_version after set", "{\"command\":\"get_version\",\"parameters\":{}}", MQ_SUCCESS);
    v = version_of(a, "get_version after set");
    CHECK(v == 5, "get_version after set_version 5: %g", v);
    json_free(a);

    /* Errors. */
    ask_only("unknown command", "{\"command\":\"frobnicate\"}", MQ_ERR_UNKNOWN_COMMAND);
    ask_only("invalid JSON", "{\"command\": \"get_version\"", MQ_ERR_INTERNAL /* as the reference: a parse error is internal */);
    ask_only("not JSON at all", "get_version", MQ_ERR_INTERNAL /* as the reference: a parse error is internal */);
    ask_only("empty string", "", MQ_ERR_INTERNAL /* as the reference: a parse error is internal */);
    ask_only("missing command", "{\"parameters\":{}}", MQ_ERR_INVALID_PARAMS);
    ask_only("command not a string", "{\"command\":42}", MQ_ERR_INVALID_PARAMS);
    ask_only("set_version without version", "{\"command\":\"set_version\",\"parameters\":{}}",
             MQ_ERR_INVALID_PARAMS);
    ask_only("set_version without params", "{\"command\":\"set_version\"}", MQ_ERR_INVALID_PARAMS);
    ask_only("set_version non-numeric", "{\"command\":\"set_version\",\"parameters\":{\"version\":\"x\"}}",
             MQ_ERR_INVALID_PARAMS);

    /* The failed set_version calls changed nothing. */
    a = ask("get_version unchanged", "{\"command\":\"get_version\"}", MQ_SUCCESS);
    CHECK(version_of(a, "get_version unchanged") == 5, "a rejected set_version changed the version");
    json_free(a);

    /* The answer is a fresh allocation each time and survives further queries. */
    char *o1 = NULL, *o2 = NULL;
    size_t l1 = syscollector_query("{\"command\":\"get_version\"}", &o1);
    size_t l2 = syscollector_query("{\"command\":\"get_version\"}", &o2);
    CHECK(o1 && o2 && o1 != o2 && l1 == l2 && strcmp(o1, o2) == 0, "two answers share memory or differ");
    free(o1);
    free(o2);

    remove_tree(dir);
    free(db);
    free(dir);
    return finish("test_query");
}
