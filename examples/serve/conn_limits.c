/* Per-client connection limit, header deadline, connection cap; see
 * conn_limits.h. */
#include "conn_limits.h"

#include "clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* An address as a key: the family's length byte, then its bytes. */
typedef struct addr_key {
    unsigned char b[17];
} addr_key;

struct conn_limits_client {
    addr_key key;
    int count;
    conn_limits_client *next;
};

struct conn_limits_entry {
    addr_key key;
    char addr[INET6_ADDRSTRLEN];
    int fd;
    int64_t deadline_ms; /* headers due by (monotonic) */
    int pending;         /* in the pending list */
    int served;          /* a request on it was answered */
    conn_limits_entry *prev, *next;
};

enum { KIND_PER_CLIENT = 1, KIND_HEADER = 2 };

static int64_t now_ms(void)
{
    return (int64_t)(clock_mono_ns() / 1000000);
}

static int make_key(const struct sockaddr *a, addr_key *k, char *text, size_t n)
{
    memset(k, 0, sizeof *k);
    if (a && a->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)a;
        k->b[0] = 4;
        memcpy(k->b + 1, &in->sin_addr, 4);
        if (text)
            inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)n);
        return 0;
    }
    if (a && a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
        k->b[0] = 16;
        memcpy(k->b + 1, &in6->sin6_addr, 16);
        if (text)
            inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)n);
        return 0;
    }
    if (text)
        snprintf(text, n, "?");
    return -1;
}

static unsigned bucket(const addr_key *k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 17; i++)
        h = (h ^ k->b[i]) * 16777619u;
    return h % CONN_LIMITS_BUCKETS;
}

static conn_limits_client *find_client(conn_limits *cl, const addr_key *k)
{
    for (conn_limits_client *c = cl->clients[bucket(k)]; c; c = c->next)
        if (!memcmp(c->key.b, k->b, sizeof k->b))
            return c;
    return NULL;
}

/* Logs a limit hit once per address and limit; under the lock. The set of
 * addresses logged is bounded: an attacker with many addresses cannot
 * flood the log (nor memory). */
static void log_once(conn_limits *cl, const addr_key *k, unsigned kind, const char *text)
{
    int i;
    for (i = 0; i < cl->nlogged; i++)
        if (!memcmp(cl->logged[i].key, k->b, sizeof k->b))
            break;
    if (i < cl->nlogged && (cl->logged[i].kinds & kind))
        return;
    if (i == cl->nlogged) {
        if (cl->nlogged == CONN_LIMITS_LOGGED) {
            if (!cl->log_full)
                fprintf(stderr, "imgclass-serve: %s: %d client addresses hit a limit; the "
                                "next ones are counted in /metrics, not logged\n",
                        cl->listener, CONN_LIMITS_LOGGED);
            cl->log_full = 1;
            return;
        }
        memcpy(cl->logged[i].key, k->b, sizeof k->b);
        cl->logged[i].kinds = 0;
        cl->nlogged++;
    }
    cl->logged[i].kinds |= kind;
    fprintf(stderr, "imgclass-serve: %s: client %s: %s (logged once per address)\n",
            cl->listener, text, kind == KIND_PER_CLIENT
                ? "more connections than --max-connections-per-client; refused"
                : "did not send its request headers within the deadline "
                  "(--header-timeout-s); closed");
}

static void pending_remove(conn_limits *cl, conn_limits_entry *e)
{
    if (!e->pending)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        cl->pending = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
    e->pending = 0;
}

static void pending_add(conn_limits *cl, conn_limits_entry *e, int64_t deadline)
{
    pending_remove(cl, e);
    e->deadline_ms = deadline;
    e->next = cl->pending;
    if (cl->pending)
        cl->pending->prev = e;
    cl->pending = e;
    e->pending = 1;
}

enum MHD_Result conn_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    conn_limits *cl = cls;
    (void)addrlen;
    if (cl->per_client <= 0)
        return MHD_YES;
    addr_key k;
    char text[INET6_ADDRSTRLEN];
    if (make_key(addr, &k, text, sizeof text))
        return MHD_YES;
    enum MHD_Result ok = MHD_YES;
    pthread_mutex_lock(&cl->lock);
    conn_limits_client *c = find_client(cl, &k);
    if (c && c->count >= cl->per_client) {
        ok = MHD_NO;
        atomic_fetch_add(&cl->refused_per_client, 1);
        log_once(cl, &k, KIND_PER_CLIENT, text);
    }
    pthread_mutex_unlock(&cl->lock);
    return ok;
}

static void started(conn_limits *cl, struct MHD_Connection *c, void **socket_context)
{
    conn_limits_entry *e = calloc(1, sizeof *e);
    if (!e)
        return; /* untracked: only the limits are lost for it */
    const union MHD_ConnectionInfo *ai =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    make_key(ai ? ai->client_addr : NULL, &e->key, e->addr, sizeof e->addr);
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    e->fd = fi ? fi->connect_fd : -1;
    pthread_mutex_lock(&cl->lock);
    conn_limits_client *client = find_client(cl, &e->key);
    if (!client && (client = calloc(1, sizeof *client))) {
        client->key = e->key;
        unsigned b = bucket(&e->key);
        client->next = cl->clients[b];
        cl->clients[b] = client;
    }
    if (client)
        client->count++;
    else
        e->key.b[0] = 0; /* not counted: nothing to take back at close */
    pending_add(cl, e, now_ms() + 1000LL * cl->header_timeout_s);
    cl->open++;
    if (cl->open >= cl->max_connections && !cl->cap_logged) {
        cl->cap_logged = 1;
        atomic_fetch_add(&cl->cap_reached, 1);
        fprintf(stderr, "imgclass-serve: %s: %d open connections, the cap "
                        "(--max-connections); new ones wait until some close\n",
                cl->listener, cl->open);
    }
    pthread_mutex_unlock(&cl->lock);
    *socket_context = e;
}

static void closed(conn_limits *cl, void **socket_context)
{
    conn_limits_entry *e = *socket_context;
    if (!e)
        return;
    *socket_context = NULL;
    pthread_mutex_lock(&cl->lock);
    pending_remove(cl, e);
    if (e->key.b[0]) {
        unsigned b = bucket(&e->key);
        for (conn_limits_client **p = &cl->clients[b]; *p; p = &(*p)->next)
            if (!memcmp((*p)->key.b, e->key.b, sizeof e->key.b)) {
                if (--(*p)->count == 0) {
                    conn_limits_client *gone = *p;
                    *p = gone->next;
                    free(gone);
                }
                break;
            }
    }
    cl->open--;
    if (cl->cap_logged && cl->open < cl->max_connections * 9 / 10)
        cl->cap_logged = 0; /* eased: log the next time it is reached */
    pthread_mutex_unlock(&cl->lock);
    free(e);
}

void conn_limits_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    conn_limits *cl = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        started(cl, c, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        closed(cl, socket_context);
}

static conn_limits_entry *entry_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i ? i->socket_context : NULL;
}

void conn_limits_headers_done(conn_limits *cl, struct MHD_Connection *c)
{
    conn_limits_entry *e = entry_of(c);
    if (!e)
        return;
    pthread_mutex_lock(&cl->lock);
    pending_remove(cl, e);
    pthread_mutex_unlock(&cl->lock);
}

void conn_limits_request_done(conn_limits *cl, struct MHD_Connection *c)
{
    conn_limits_entry *e = entry_of(c);
    if (!e)
        return;
    pthread_mutex_lock(&cl->lock);
    e->served = 1;
    pending_add(cl, e, now_ms() + 1000LL * cl->idle_timeout_s);
    pthread_mutex_unlock(&cl->lock);
}

/* Shuts down the connections past their header deadline, silent or
 * trickling bytes (which would reset any idle timeout). shutdown(), not
 * close(): the descriptor stays libmicrohttpd's,
 * whose polling thread sees end-of-file and closes the connection itself.
 * The descriptor cannot have been reused: an entry leaves the pending list
 * (under the lock held here) in the CLOSED notification, which
 * libmicrohttpd sends before it closes the socket. */
static void *sweep(void *arg)
{
    conn_limits *cl = arg;
    pthread_mutex_lock(&cl->lock);
    while (!cl->stop) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += 500 * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cl->wake, &cl->lock, &t);
        int64_t now = now_ms();
        for (conn_limits_entry *e = cl->pending, *next; e && !cl->stop; e = next) {
            next = e->next;
            /* A kept-alive connection waiting for its next request is
             * given 2 s more, so that a silent one is closed by
             * libmicrohttpd's idle timeout (normal), not counted here. */
            if (now < e->deadline_ms + (e->served ? 2000 : 0) || e->fd < 0)
                continue;
            /* Counted before the shutdown: a client that sees its
             * connection end sees the count moved. */
            atomic_fetch_add(&cl->header_timeouts, 1);
            log_once(cl, &e->key, KIND_HEADER, e->addr);
            pending_remove(cl, e);
            shutdown(e->fd, SHUT_RDWR);
        }
    }
    pthread_mutex_unlock(&cl->lock);
    return NULL;
}

int conn_limits_init(conn_limits *cl, const char *listener, int per_client,
                     int header_timeout_s, int idle_timeout_s, int max_connections)
{
    memset(cl, 0, sizeof *cl);
    cl->listener = listener;
    cl->per_client = per_client;
    cl->header_timeout_s = header_timeout_s;
    cl->idle_timeout_s = idle_timeout_s;
    cl->max_connections = max_connections;
    atomic_init(&cl->refused_per_client, 0);
    atomic_init(&cl->header_timeouts, 0);
    atomic_init(&cl->cap_reached, 0);
    pthread_condattr_t ca;
    if (pthread_mutex_init(&cl->lock, NULL) || pthread_condattr_init(&ca) ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&cl->wake, &ca)) {
        fprintf(stderr, "imgclass-serve: cannot create a lock\n");
        return -1;
    }
    pthread_condattr_destroy(&ca);
    if (pthread_create(&cl->sweeper, NULL, sweep, cl)) {
        fprintf(stderr, "imgclass-serve: cannot start a thread\n");
        pthread_cond_destroy(&cl->wake);
        pthread_mutex_destroy(&cl->lock);
        return -1;
    }
    cl->sweeper_started = 1;
    return 0;
}

void conn_limits_destroy(conn_limits *cl)
{
    if (cl->sweeper_started) {
        pthread_mutex_lock(&cl->lock);
        cl->stop = 1;
        pthread_cond_signal(&cl->wake);
        pthread_mutex_unlock(&cl->lock);
        pthread_join(cl->sweeper, NULL);
        cl->sweeper_started = 0;
    }
    for (int b = 0; b < CONN_LIMITS_BUCKETS; b++)
        while (cl->clients[b]) {
            conn_limits_client *c = cl->clients[b];
            cl->clients[b] = c->next;
            free(c);
        }
    pthread_cond_destroy(&cl->wake);
    pthread_mutex_destroy(&cl->lock);
}

void conn_limits_prom(FILE *f, conn_limits *const *cls, int n)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } fam[] = {
        {"imgclass_connections_refused_per_client_total",
         "Connections refused at accept: the client address already held "
         "--max-connections-per-client.",
         offsetof(conn_limits, refused_per_client)},
        {"imgclass_connections_header_timeout_total",
         "Connections closed because their request headers did not arrive in time "
         "(--header-timeout-s).",
         offsetof(conn_limits, header_timeouts)},
        {"imgclass_connections_cap_reached_total",
         "Times the open connections reached the cap (--max-connections).",
         offsetof(conn_limits, cap_reached)},
    };
    for (size_t k = 0; k < sizeof fam / sizeof fam[0]; k++) {
        fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", fam[k].name, fam[k].help, fam[k].name);
        for (int i = 0; i < n; i++) {
            const _Atomic uint64_t *v =
                (const _Atomic uint64_t *)((const char *)cls[i] + fam[k].off);
            fprintf(f, "%s{listener=\"%s\"} %llu\n", fam[k].name, cls[i]->listener,
                    (unsigned long long)atomic_load(v));
        }
    }
    fprintf(f, "# HELP imgclass_connections_open Open connections.\n"
               "# TYPE imgclass_connections_open gauge\n");
    for (int i = 0; i < n; i++) {
        conn_limits *m = cls[i];
        pthread_mutex_lock(&m->lock);
        int open = m->open;
        pthread_mutex_unlock(&m->lock);
        fprintf(f, "imgclass_connections_open{listener=\"%s\"} %d\n", m->listener, open);
    }
}

long conn_limits_raise_nofile(long need)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r))
        return need; /* unknown: assume enough */
    if (r.rlim_cur != RLIM_INFINITY && (long)r.rlim_cur < need) {
        rlim_t want = (rlim_t)need;
        if (r.rlim_max != RLIM_INFINITY && want > r.rlim_max)
            want = r.rlim_max;
        r.rlim_cur = want;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    return r.rlim_cur == RLIM_INFINITY || (long)r.rlim_cur > need ? need : (long)r.rlim_cur;
}
