/* SPDX-License-Identifier: MIT */
/* viewer.c: the session table: a preallocated array of viewer records with two chained
 * hash indexes (local ufrag, remote address) and a free list, so that demultiplexing a
 * datagram costs one hash and a short chain walk, and nothing allocates per session. */
#include "egress/viewer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static uint32_t viewer_hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

/* Hashes and compares only address and port: the rest of a sockaddr may hold noise. */
static size_t viewer_addr_key(const struct sockaddr *sa, uint8_t key[18])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(key, &in->sin_addr, 4);
        memcpy(key + 4, &in->sin_port, 2);
        return 6;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        memcpy(key, &in6->sin6_addr, 16);
        memcpy(key + 16, &in6->sin6_port, 2);
        return 18;
    }
    return 0;
}

int viewer_table_init(struct viewer_table *t, uint32_t cap)
{
    memset(t, 0, sizeof(*t));
    uint32_t buckets = 64;
    while (buckets < 2 * cap)
        buckets <<= 1;
    t->v = calloc(cap, sizeof(*t->v));
    t->by_ufrag = malloc(buckets * sizeof(int32_t));
    t->by_addr = malloc(buckets * sizeof(int32_t));
    if (!t->v || !t->by_ufrag || !t->by_addr) {
        viewer_table_free(t);
        return -ENOMEM;
    }
    t->cap = cap;
    t->mask = buckets - 1;
    memset(t->by_ufrag, 0xff, buckets * sizeof(int32_t));
    memset(t->by_addr, 0xff, buckets * sizeof(int32_t));
    t->free_head = -1;
    return 0;
}

void viewer_table_free(struct viewer_table *t)
{
    free(t->v);
    free(t->by_ufrag);
    free(t->by_addr);
    memset(t, 0, sizeof(*t));
}

static void viewer_hex(const uint8_t *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void viewer_unlink(int32_t *head, struct viewer *base, int32_t idx, size_t link_off)
{
    for (int32_t *p = head; *p >= 0; p = (int32_t *)((char *)&base[*p] + link_off)) {
        if (*p == idx) {
            *p = *(int32_t *)((char *)&base[idx] + link_off);
            return;
        }
    }
}

/* A slot just taken off the free list, its ids set: a session in set-up, findable by ufrag. */
static void viewer_link(struct viewer_table *t, struct viewer *v)
{
    v->state = VIEWER_ICE;
    v->media.user = v;
    v->bound = v->dtls_pair = v->probe_pair = -1;
    uint32_t b = viewer_hash_bytes(v->ufrag, strlen(v->ufrag)) & t->mask;
    v->next_ufrag = t->by_ufrag[b];
    t->by_ufrag[b] = viewer_index(t, v);
    t->count++;
}

/* Links never-used slot t->fresh into the free list (first). */
static void viewer_fresh_link(struct viewer_table *t)
{
    t->v[t->fresh].next_ufrag = t->free_head;
    t->free_head = (int32_t)t->fresh++;
}

struct viewer *viewer_alloc(struct viewer_table *t, unsigned worker_index)
{
    if (t->free_head < 0 && t->fresh < t->cap)
        viewer_fresh_link(t);
    if (t->free_head < 0)
        return NULL;
    int32_t idx = t->free_head;
    struct viewer *v = &t->v[idx];
    int32_t next_free = v->next_ufrag;
    uint8_t rnd[12];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return NULL;
    memset(v, 0, sizeof(*v));
    snprintf(v->session, sizeof(v->session), "%02x", worker_index & 0xff);
    viewer_hex(rnd, sizeof(rnd), v->session + 2);
    /* A ufrag collision within the worker would misroute checks: draw again. */
    do {
        if (icelite_random_string(v->ufrag, VIEWER_UFRAG_LEN) < 0)
            return NULL;
    } while (viewer_by_ufrag(t, v->ufrag));
    if (icelite_random_string(v->pwd, VIEWER_PWD_LEN) < 0)
        return NULL;
    t->free_head = next_free;
    viewer_link(t, v);
    return v;
}

struct viewer *viewer_claim(struct viewer_table *t, uint32_t idx, const char *session,
                            const char *ufrag)
{
    if (idx >= t->cap || t->v[idx].state != VIEWER_FREE || viewer_by_ufrag(t, ufrag) ||
        viewer_by_session(t, session))
        return NULL;
    /* Adoption claims slots in increasing order: the walk passes only slots refused so far
     * (and the never-used ones below idx, linked first). */
    while (t->fresh <= idx)
        viewer_fresh_link(t);
    int32_t *link = &t->free_head;
    while (*link >= 0 && *link != (int32_t)idx)
        link = &t->v[*link].next_ufrag;
    if (*link < 0)
        return NULL;
    struct viewer *v = &t->v[idx];
    *link = v->next_ufrag;
    memset(v, 0, sizeof(*v));
    snprintf(v->session, sizeof(v->session), "%s", session);
    snprintf(v->ufrag, sizeof(v->ufrag), "%s", ufrag);
    viewer_link(t, v);
    return v;
}

/* The pair behind a by_addr chain entry. */
static struct viewer_pair *viewer_pair_at(const struct viewer_table *t, int32_t e)
{
    return &t->v[e / VIEWER_MAX_PAIRS].pairs[e % VIEWER_MAX_PAIRS];
}

static uint32_t viewer_addr_bucket(const struct viewer_table *t, const struct sockaddr *sa)
{
    uint8_t key[18];
    size_t kl = viewer_addr_key(sa, key);
    return viewer_hash_bytes(key, kl) & t->mask;
}

static void viewer_pair_unlink(struct viewer_table *t, struct viewer *v, int pair)
{
    struct viewer_pair *vp = &v->pairs[pair];
    if (!vp->addr.sa.sa_family || vp->tcp) {
        memset(vp, 0, sizeof(*vp));
        return;
    }
    int32_t e = (int32_t)(v - t->v) * VIEWER_MAX_PAIRS + pair;
    for (int32_t *p = &t->by_addr[viewer_addr_bucket(t, &vp->addr.sa)]; *p >= 0;
         p = &viewer_pair_at(t, *p)->next) {
        if (*p == e) {
            *p = vp->next;
            break;
        }
    }
    memset(vp, 0, sizeof(*vp));
}

void viewer_release(struct viewer_table *t, struct viewer *v)
{
    int32_t idx = (int32_t)(v - t->v);
    if (v->state == VIEWER_FREE)
        return;
    uint32_t b = viewer_hash_bytes(v->ufrag, strlen(v->ufrag)) & t->mask;
    viewer_unlink(&t->by_ufrag[b], t->v, idx, offsetof(struct viewer, next_ufrag));
    for (int i = 0; i < VIEWER_MAX_PAIRS; i++)
        viewer_pair_unlink(t, v, i);
    memset(v, 0, sizeof(*v));
    v->next_ufrag = t->free_head;
    t->free_head = idx;
    t->count--;
}

struct viewer *viewer_by_ufrag(const struct viewer_table *t, const char *ufrag)
{
    uint32_t b = viewer_hash_bytes(ufrag, strlen(ufrag)) & t->mask;
    for (int32_t i = t->by_ufrag[b]; i >= 0; i = t->v[i].next_ufrag)
        if (strcmp(t->v[i].ufrag, ufrag) == 0)
            return &t->v[i];
    return NULL;
}

struct viewer *viewer_by_addr(const struct viewer_table *t, const struct sockaddr *sa, int *pair)
{
    uint8_t key[18], other[18];
    size_t kl = viewer_addr_key(sa, key);
    if (!kl)
        return NULL;
    for (int32_t e = t->by_addr[viewer_hash_bytes(key, kl) & t->mask]; e >= 0;
         e = viewer_pair_at(t, e)->next) {
        const struct viewer_pair *vp = viewer_pair_at(t, e);
        if (viewer_addr_key(&vp->addr.sa, other) == kl && memcmp(key, other, kl) == 0) {
            *pair = e % VIEWER_MAX_PAIRS;
            return &t->v[e / VIEWER_MAX_PAIRS];
        }
    }
    return NULL;
}

struct viewer *viewer_by_session(const struct viewer_table *t, const char *session)
{
    /* Only DELETE looks sessions up: a scan over live slots is cheap enough. */
    if (strlen(session) != VIEWER_SESSION_LEN)
        return NULL;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->v[i].state != VIEWER_FREE && strcmp(t->v[i].session, session) == 0)
            return &t->v[i];
    return NULL;
}

/* A slot for a new pair of v: a free one, else the one checked least recently that is
 * neither bound nor carrying the handshake. Emptied. */
static int viewer_pair_take(struct viewer_table *t, struct viewer *v)
{
    int pair = -1;
    for (int i = 0; i < VIEWER_MAX_PAIRS; i++) {
        if (i == v->bound || i == v->dtls_pair)
            continue;
        if (!v->pairs[i].addr.sa.sa_family) {
            pair = i;
            break;
        }
        if (pair < 0 || v->pairs[i].check_ns < v->pairs[pair].check_ns)
            pair = i;
    }
    if (pair == v->probe_pair)
        v->probe_pair = -1;
    viewer_pair_unlink(t, v, pair);
    return pair;
}

static void viewer_pair_set_addr(struct viewer_pair *vp, const struct sockaddr *sa)
{
    memcpy(&vp->addr, sa, sa->sa_family == AF_INET6 ? sizeof(vp->addr.in6) : sizeof(vp->addr.in));
}

int viewer_pair_checked(struct viewer_table *t, struct viewer *v, const struct sockaddr *sa,
                        uint32_t local, uint64_t now_ns)
{
    int pair;
    struct viewer *owner = viewer_by_addr(t, sa, &pair);
    if (owner && owner != v)
        return -EADDRINUSE;
    if (!owner) {
        if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
            return -EAFNOSUPPORT;
        pair = viewer_pair_take(t, v);
        struct viewer_pair *vp = &v->pairs[pair];
        viewer_pair_set_addr(vp, sa);
        uint32_t b = viewer_addr_bucket(t, sa);
        vp->next = t->by_addr[b];
        t->by_addr[b] = viewer_index(t, v) * VIEWER_MAX_PAIRS + pair;
    }
    v->pairs[pair].local = local;
    v->pairs[pair].check_ns = now_ns;
    return pair;
}

int viewer_pair_checked_tcp(struct viewer_table *t, struct viewer *v, const struct sockaddr *sa,
                            int32_t conn, uint64_t now_ns)
{
    int pair;
    if (viewer_by_conn(t, viewer_index(t, v), conn, &pair) != v) {
        if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
            return -EAFNOSUPPORT;
        pair = viewer_pair_take(t, v);
        struct viewer_pair *vp = &v->pairs[pair];
        viewer_pair_set_addr(vp, sa);
        vp->tcp = 1;
        vp->conn = conn;
        vp->next = -1;
    }
    v->pairs[pair].check_ns = now_ns;
    return pair;
}

struct viewer *viewer_by_conn(const struct viewer_table *t, int32_t idx, int32_t conn, int *pair)
{
    if (idx < 0 || (uint32_t)idx >= t->cap || t->v[idx].state == VIEWER_FREE)
        return NULL;
    struct viewer *v = &t->v[idx];
    for (int i = 0; i < VIEWER_MAX_PAIRS; i++)
        if (v->pairs[i].addr.sa.sa_family && v->pairs[i].tcp && v->pairs[i].conn == conn) {
            *pair = i;
            return v;
        }
    return NULL;
}

void viewer_pair_forget(struct viewer_table *t, struct viewer *v, int pair)
{
    if (pair == v->bound)
        return;
    if (pair == v->dtls_pair)
        v->dtls_pair = -1;
    if (pair == v->probe_pair)
        v->probe_pair = -1;
    viewer_pair_unlink(t, v, pair);
}

int viewer_addr_unmap(union viewer_addr *a)
{
    if (a->sa.sa_family == AF_INET)
        return 0;
    if (a->sa.sa_family != AF_INET6)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = a->in6.sin6_port};
        memcpy(&in.sin_addr, &a->in6.sin6_addr.s6_addr[12], 4);
        a->in = in;
    }
    return 0;
}

int viewer_session_worker(const char *session)
{
    if (strlen(session) != VIEWER_SESSION_LEN)
        return -1;
    for (size_t i = 0; i < VIEWER_SESSION_LEN; i++)
        if (!((session[i] >= '0' && session[i] <= '9') || (session[i] >= 'a' && session[i] <= 'f')))
            return -1;
    return (int)strtol((char[]){session[0], session[1], 0}, NULL, 16);
}

void viewer_format_addr(const struct sockaddr *sa, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    int v6 = sa->sa_family == AF_INET6;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (v6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(out, size, v6 ? "[%s]:%u" : "%s:%u", host, port); /* RFC 3986 3.2.2 brackets */
}
