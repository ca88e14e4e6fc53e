/*
 * A stand-in for the agent's libagent_info.so: the module that fills the metadata provider.
 *
 * Like the real one it depends on the provider's library (here c_tests/metadata_provider.c,
 * a DT_NEEDED entry found through $ORIGIN): libagent_sync_protocol.so as in v5.0.0-alpha0,
 * or, built with -DAGENT_METADATA_BETA and linked to the provider built the same way,
 * libagent_metadata.so as in beta1 … rc1 (whose agent_metadata_t has cluster_name and
 * cluster_node, given here by the control file's keys of those names). wazuh-modulesd
 * (here host.c) opens it with
 * dlopen(RTLD_LAZY): both libraries then live in a local symbol scope, invisible to
 * dlsym(RTLD_DEFAULT, ...), which is exactly what libsyscollector.so has to cope with.
 *
 *   agent_info_start(CONTROL)  polls the text file CONTROL every 100 ms: while it is absent
 *                              the provider has no metadata (metadata_provider_reset); when
 *                              present, its `key=value` lines (agent_id, agent_name,
 *                              agent_version, architecture, hostname, os_name, os_type,
 *                              os_platform, os_version, groups=a,b,c) are given to
 *                              metadata_provider_update, as agent-info does once it knows them.
 *   agent_info_stop()          stops and joins the polling thread.
 */
#define _GNU_SOURCE 1

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define META_FIELD 256
#define MAX_GROUPS 128

typedef struct {
    char agent_id[META_FIELD];
    char agent_name[META_FIELD];
    char agent_version[META_FIELD];
    char architecture[META_FIELD];
    char hostname[META_FIELD];
    char os_name[META_FIELD];
    char os_type[META_FIELD];
    char os_platform[META_FIELD];
    char os_version[META_FIELD];
#ifdef AGENT_METADATA_BETA
    char cluster_name[META_FIELD];
    char cluster_node[META_FIELD];
#endif
    char **groups;
    size_t groups_count;
} agent_metadata_t;

/* From libagent_sync_protocol.so (alpha0) or libagent_metadata.so (beta). */
int metadata_provider_update(const agent_metadata_t *metadata);
void metadata_provider_reset(void);

int agent_info_start(const char *control);
void agent_info_stop(void);

static pthread_t g_thread;
static int g_running = 0;
static volatile int g_stop = 0;
static char g_control[4096];

static void set(char *dst, const char *v) {
    snprintf(dst, META_FIELD, "%s", v);
}

/* Fills `m` from the control file; 0 when it exists. `names` holds the group strings. */
static int read_control(agent_metadata_t *m, char names[MAX_GROUPS][META_FIELD], char **ptrs) {
    FILE *f = fopen(g_control, "r");
    if (!f) return -1;
    memset(m, 0, sizeof *m);
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = 0;
        const char *k = line, *v = eq + 1;
        if (!strcmp(k, "agent_id")) set(m->agent_id, v);
        else if (!strcmp(k, "agent_name")) set(m->agent_name, v);
        else if (!strcmp(k, "agent_version")) set(m->agent_version, v);
        else if (!strcmp(k, "architecture")) set(m->architecture, v);
        else if (!strcmp(k, "hostname")) set(m->hostname, v);
        else if (!strcmp(k, "os_name")) set(m->os_name, v);
        else if (!strcmp(k, "os_type")) set(m->os_type, v);
        else if (!strcmp(k, "os_platform")) set(m->os_platform, v);
        else if (!strcmp(k, "os_version")) set(m->os_version, v);
#ifdef AGENT_METADATA_BETA
        else if (!strcmp(k, "cluster_name")) set(m->cluster_name, v);
        else if (!strcmp(k, "cluster_node")) set(m->cluster_node, v);
#endif
        else if (!strcmp(k, "groups")) {
            char *save = NULL;
            for (char *g = strtok_r(eq + 1, ",", &save); g && m->groups_count < MAX_GROUPS;
                 g = strtok_r(NULL, ",", &save)) {
                set(names[m->groups_count], g);
                ptrs[m->groups_count] = names[m->groups_count];
                m->groups_count++;
            }
        }
    }
    fclose(f);
    m->groups = m->groups_count ? ptrs : NULL;
    return 0;
}

static void *poll_thread(void *arg) {
    (void)arg;
    static agent_metadata_t m;
    static char names[MAX_GROUPS][META_FIELD];
    static char *ptrs[MAX_GROUPS];
    while (!g_stop) {
        if (read_control(&m, names, ptrs) == 0) metadata_provider_update(&m);
        else metadata_provider_reset();
        usleep(100 * 1000);
    }
    return NULL;
}

int agent_info_start(const char *control) {
    if (!control || g_running) return -1;
    snprintf(g_control, sizeof g_control, "%s", control);
    g_stop = 0;
    /* The first state is in place before the caller goes on. */
    static agent_metadata_t m;
    static char names[MAX_GROUPS][META_FIELD];
    static char *ptrs[MAX_GROUPS];
    if (read_control(&m, names, ptrs) == 0) metadata_provider_update(&m);
    else metadata_provider_reset();
    if (pthread_create(&g_thread, NULL, poll_thread, NULL) != 0) return -1;
    g_running = 1;
    return 0;
}

void agent_info_stop(void) {
    if (!g_running) return;
    g_stop = 1;
    pthread_join(g_thread, NULL);
    g_running = 0;
}
