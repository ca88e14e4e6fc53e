/*
 * A stand-in for the agent's metadata provider: the library that, in the real agent, holds
 * metadata_provider_update/_get/_free_metadata/_reset. Built two ways:
 *
 *   (default)                  as v5.0.0-alpha0's, libagent_sync_protocol.so;
 *   -DAGENT_METADATA_BETA      as beta1 … rc1's, libagent_metadata.so.
 *
 * Same C interface and same storage as the agent's: a shared-memory file
 * var/run/.wazuh_agent_metadata below the process's working directory (the agent's home).
 * alpha0's holds a process-shared mutex, a has-metadata flag, the agent_metadata_t and up
 * to 128 groups of 256 bytes inline. The betas' holds a one-byte atomic `updating` flag
 * (set while update() rewrites the block; get() answers -1 meanwhile) instead of the mutex,
 * the flag, an agent_metadata_t that has cluster_name and cluster_node after os_version,
 * and the same groups. The file is created by the first process that opens it; get()
 * answers -1 until update() has filled it.
 *
 * In the C tests it is never loaded into the global symbol scope: lib_agent_info.c depends
 * on it and host.c opens that library with dlopen(RTLD_LAZY), as wazuh-modulesd does.
 */
#define _GNU_SOURCE 1

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_FIELD 256
#define META_GROUPS 128
#define META_FILE "var/run/.wazuh_agent_metadata"

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

#ifdef AGENT_METADATA_BETA
typedef struct {
    _Atomic _Bool updating; /* std::atomic<bool> in the agent: one byte */
    bool has_metadata;
    agent_metadata_t base_metadata;
    size_t groups_count;
    char groups[META_GROUPS][META_FIELD];
} shared_metadata_t;
_Static_assert(sizeof(_Atomic _Bool) == 1, "the agent's std::atomic<bool> is one byte");
/* Writers of this process; the file itself has no lock in this layout. */
static pthread_mutex_t g_writer = PTHREAD_MUTEX_INITIALIZER;
#define LOCK(s) do { pthread_mutex_lock(&g_writer); (s)->updating = 1; } while (0)
#define UNLOCK(s) do { (s)->updating = 0; pthread_mutex_unlock(&g_writer); } while (0)
#else
typedef struct {
    pthread_mutex_t mutex;
    bool has_metadata;
    agent_metadata_t base_metadata;
    size_t groups_count;
    char groups[META_GROUPS][META_FIELD];
} shared_metadata_t;
#define LOCK(s) pthread_mutex_lock(&(s)->mutex)
#define UNLOCK(s) pthread_mutex_unlock(&(s)->mutex)
#endif

int metadata_provider_update(const agent_metadata_t *metadata);
int metadata_provider_get(agent_metadata_t *out);
void metadata_provider_free_metadata(agent_metadata_t *metadata);
void metadata_provider_reset(void);

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static shared_metadata_t *g_shm = NULL;

static void open_shared(void) {
    int fd = open(META_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    struct stat st;
    bool fresh = fstat(fd, &st) == 0 && st.st_size < (off_t)sizeof(shared_metadata_t);
    if (ftruncate(fd, sizeof(shared_metadata_t)) != 0) {
        close(fd);
        return;
    }
    void *p = mmap(NULL, sizeof(shared_metadata_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return;
    g_shm = p;
    if (fresh) {
#ifdef AGENT_METADATA_BETA
        g_shm->updating = 0;
#else
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        pthread_mutex_init(&g_shm->mutex, &attr);
        pthread_mutexattr_destroy(&attr);
#endif
        g_shm->has_metadata = false;
        g_shm->groups_count = 0;
    }
}

static shared_metadata_t *shared(void) {
    pthread_once(&g_once, open_shared);
    return g_shm;
}

/* Copies at most 255 bytes and always terminates, as the agent's provider does. */
static void copy_field(char *dst, const char *src) {
    size_t n = strnlen(src, META_FIELD - 1);
    memcpy(dst, src, n);
    dst[n] = 0;
}

#ifdef AGENT_METADATA_BETA
#define EACH_FIELD(X) \
    X(agent_id) X(agent_name) X(agent_version) X(architecture) X(hostname) X(os_name) X(os_type) \
    X(os_platform) X(os_version) X(cluster_name) X(cluster_node)
#else
#define EACH_FIELD(X) \
    X(agent_id) X(agent_name) X(agent_version) X(architecture) X(hostname) X(os_name) X(os_type) \
    X(os_platform) X(os_version)
#endif

int metadata_provider_update(const agent_metadata_t *metadata) {
    shared_metadata_t *s = shared();
    if (!metadata || !s) return -1;
    LOCK(s);
#define COPY_IN(f) copy_field(s->base_metadata.f, metadata->f);
    EACH_FIELD(COPY_IN)
#undef COPY_IN
    s->base_metadata.groups = NULL;
    s->base_metadata.groups_count = 0;
    s->groups_count = metadata->groups_count > META_GROUPS ? META_GROUPS : metadata->groups_count;
    for (size_t i = 0; i < s->groups_count; i++) {
        if (metadata->groups && metadata->groups[i]) copy_field(s->groups[i], metadata->groups[i]);
        else s->groups[i][0] = 0;
    }
    s->has_metadata = true;
    UNLOCK(s);
    return 0;
}

int metadata_provider_get(agent_metadata_t *out) {
    shared_metadata_t *s = shared();
    if (!out || !s) return -1;
#ifdef AGENT_METADATA_BETA
    /* As the agent's: no lock, an update under way answers "try again". */
    if (s->updating || !s->has_metadata) return -1;
#else
    pthread_mutex_lock(&s->mutex);
    if (!s->has_metadata) {
        pthread_mutex_unlock(&s->mutex);
        return -1;
    }
#endif
#define COPY_OUT(f) copy_field(out->f, s->base_metadata.f);
    EACH_FIELD(COPY_OUT)
#undef COPY_OUT
    out->groups = NULL;
    out->groups_count = 0;
    if (s->groups_count > 0) {
        out->groups = calloc(s->groups_count, sizeof(char *));
        if (out->groups) {
            out->groups_count = s->groups_count;
            for (size_t i = 0; i < s->groups_count; i++) out->groups[i] = strdup(s->groups[i]);
        }
    }
#ifndef AGENT_METADATA_BETA
    pthread_mutex_unlock(&s->mutex);
#endif
    return 0;
}

void metadata_provider_free_metadata(agent_metadata_t *metadata) {
    if (!metadata || !metadata->groups) return;
    for (size_t i = 0; i < metadata->groups_count; i++) free(metadata->groups[i]);
    free(metadata->groups);
    metadata->groups = NULL;
    metadata->groups_count = 0;
}

void metadata_provider_reset(void) {
    shared_metadata_t *s = shared();
    if (!s) return;
    LOCK(s);
    s->has_metadata = false;
    s->groups_count = 0;
    UNLOCK(s);
}
