/* SPDX-License-Identifier: MIT */
/* forward.c: DELETE forwarding between the workers of one node. A DELETE that reaches a
 * worker other than the session's owner goes to the owner over an abstract unix datagram
 * socket named after shm_prefix and worker index, and the owner's verdict comes back the same
 * way. Any local process can send to an abstract socket, so each message carries its
 * sender's credentials (SCM_CREDENTIALS): only this user's processes, and when supervised
 * only the worker the message claims to come from, are heard; an answer counts only for a
 * request this worker sent (a random nonce), and the owner checks the session's path. */
#include "egress/forward.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/httpd.h"
#include "common/log.h"
#include "egress/worker.h"

/* An outbox message older than this is dropped: the HTTP server has answered its request (or
 * the request it reports on) with its own 503 by then. */
#define FORWARD_GIVE_UP_NS ((uint64_t)HTTPD_DEFER_TIMEOUT * 1000000)

static socklen_t forward_addr(const struct worker *w, unsigned index, struct sockaddr_un *un)
{
    memset(un, 0, sizeof(*un));
    un->sun_family = AF_UNIX;
    /* Abstract namespace: nothing to clean up when a worker dies. */
    int n = snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1, "%s.egress.%u", w->cfg.shm_prefix,
                     index);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int forward_sendto(struct worker *w, unsigned index, const char *text, size_t len)
{
    struct sockaddr_un un;
    socklen_t alen = forward_addr(w, index, &un);
    if (sendto(w->fwd.fd, text, len, MSG_DONTWAIT, (struct sockaddr *)&un, alen) < 0)
        return -errno;
    return 0;
}

static struct forward_msg *forward_out(struct forward *f, unsigned i)
{
    return &f->out[(f->out_head + i) % FORWARD_OUTBOX];
}

/* True if the outbox's first n messages hold one to worker index. */
static bool forward_waits_for(struct forward *f, unsigned n, unsigned index)
{
    for (unsigned i = 0; i < n; i++)
        if (forward_out(f, i)->to == index)
            return true;
    return false;
}

/* Sends what the outbox holds, oldest first. A worker whose queue is full again keeps its
 * messages, in order, for the next pass: a stopped worker does not hold back the others'. */
static void forward_retry_cb(uv_timer_t *t)
{
    struct worker *w = t->data;
    struct forward *f = &w->fwd;
    uint64_t now = ctl_now_ns();
    unsigned dropped = 0, kept = 0;
    for (unsigned i = 0; i < f->out_count; i++) {
        struct forward_msg *m = forward_out(f, i);
        int rc = -ETIMEDOUT;
        if (now - m->queued_ns < FORWARD_GIVE_UP_NS) {
            /* Behind a message to the same worker that stays: keep the order. */
            rc = forward_waits_for(f, kept, m->to) ? -EAGAIN
                                                   : forward_sendto(w, m->to, m->text, m->len);
            if (rc == -EAGAIN) {
                if (kept != i)
                    *forward_out(f, kept) = *m;
                kept++;
                continue;
            }
        }
        if (rc < 0)
            dropped++;
    }
    f->out_count = kept;
    if (dropped) {
        f->expired += dropped;
        log_warn("DELETE forwarding: %u message(s) dropped, not delivered within %u ms or their "
                 "worker gone (%" PRIu64 " so far)",
                 dropped, HTTPD_DEFER_TIMEOUT, f->expired);
    }
    if (!f->out_count)
        (void)uv_timer_stop(t);
}

/* Sends now, or queues behind what waits for the same worker: 0 or -errno (-ENOBUFS: the
 * outbox is full). */
static int forward_send(struct worker *w, unsigned index, const char *text, size_t len)
{
    struct forward *f = &w->fwd;
    if (!forward_waits_for(f, f->out_count, index)) {
        int rc = forward_sendto(w, index, text, len);
        if (rc != -EAGAIN)
            return rc;
    }
    if (f->out_count == FORWARD_OUTBOX)
        return -ENOBUFS;
    struct forward_msg *m = &f->out[(f->out_head + f->out_count++) % FORWARD_OUTBOX];
    m->queued_ns = ctl_now_ns();
    m->to = index;
    m->len = (uint16_t)len;
    memcpy(m->text, text, len);
    if (f->out_count == 1)
        (void)uv_timer_start(&f->retry, forward_retry_cb, 1, 1);
    return 0;
}

/* A slot free or whose request is no longer waiting (answered by the HTTP server's timeout,
 * or its client left); NULL when all are in flight. */
static struct forward_pending *forward_pending_slot(struct worker *w)
{
    struct forward *f = &w->fwd;
    for (unsigned i = 0; i < FORWARD_PENDING; i++) {
        unsigned k = (f->next_pending + i) % FORWARD_PENDING;
        struct forward_pending *fp = &f->pending[k];
        if (!fp->nonce || !httpd_is_deferred(&w->http, fp->token)) {
            f->next_pending = (k + 1) % FORWARD_PENDING;
            return fp;
        }
    }
    return NULL;
}

int forward_delete(struct worker *w, unsigned index, const char *path, const char *session,
                   uint64_t token)
{
    struct forward_pending *fp = forward_pending_slot(w);
    if (!fp)
        return -EBUSY;
    uint64_t nonce;
    if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce) || !nonce)
        return -EIO;
    char msg[FORWARD_MSG_MAX];
    int n =
        snprintf(msg, sizeof(msg), "DELETE %s %s %u %016" PRIx64, session, path, w->index, nonce);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return -ENAMETOOLONG;
    int rc = forward_send(w, index, msg, (size_t)n);
    if (rc < 0)
        return rc;
    fp->nonce = nonce;
    fp->token = token;
    return 0;
}

/* The owner's side of a forwarded DELETE: end the session if it is on that path, report 200
 * or 404 back. */
static void forward_owner(struct worker *w, const char *session, const char *path, unsigned from,
                          uint64_t nonce)
{
    struct viewer *v = viewer_by_session(&w->viewers, session);
    if (v && strcmp(v->path, path) != 0)
        v = NULL;
    if (v)
        worker_end_session(w, v, "DELETE (forwarded by another worker)");
    char msg[FORWARD_MSG_MAX];
    int n = snprintf(msg, sizeof(msg), "DONE %016" PRIx64 " %d", nonce, v ? 200 : 404);
    int rc = forward_send(w, from, msg, (size_t)n);
    if (rc < 0)
        log_info("whep %s: cannot report DELETE %s back to worker %u: %s", path, session, from,
                 strerror(-rc));
}

/* The forwarder's side: answer the HTTP request that waited for the owner, if the nonce is
 * one of ours (a forged or stale answer completes nothing). */
static void forward_done(struct worker *w, uint64_t nonce, int status)
{
    for (unsigned i = 0; i < FORWARD_PENDING; i++) {
        struct forward_pending *fp = &w->fwd.pending[i];
        if (fp->nonce != nonce || !nonce)
            continue;
        fp->nonce = 0;
        struct httpd_response res = {0};
        httpd_set_text(&res, status, status == 200 ? "" : "no such session\n");
        (void)httpd_complete(&w->http, fp->token, &res); /* gone or timed out: nothing to do */
        return;
    }
}

/* Whether the sender of a message may speak for worker from: this user's process, and when
 * the control segment is shared, the pid it records for that worker. */
static bool forward_sender_ok(const struct worker *w, const struct ucred *cred, unsigned from)
{
    if (cred->uid != getuid())
        return false;
    if (w->ctl.private_copy)
        return true;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct ctl_child *s = &w->ctl.hdr->children[i];
        if (atomic_load_explicit(&s->state, memory_order_relaxed) != CTL_STATE_EMPTY &&
            s->role == CTL_ROLE_EGRESS && s->index == from)
            return atomic_load_explicit(&s->pid, memory_order_relaxed) == cred->pid;
    }
    return false;
}

/* Logged at most once a second: any local process can send here. */
static void forward_refused(struct worker *w, const struct ucred *cred)
{
    w->fwd.refused++;
    if (!log_limit_pass(&w->fwd.refused_log, ctl_now_ns(), 1000000000ull, 1, NULL))
        return;
    log_warn("DELETE forwarding: message from pid %d uid %d refused (%" PRIu64 " so far)",
             (int)cred->pid, (int)cred->uid, w->fwd.refused);
}

static void forward_readable(uv_poll_t *h, int status, int events)
{
    struct worker *w = h->data;
    if (status < 0 || !(events & UV_READABLE))
        return;
    for (int i = 0; i < 64; i++) {
        char msg[FORWARD_MSG_MAX + 1];
        union {
            char buf[CMSG_SPACE(sizeof(struct ucred))];
            struct cmsghdr align;
        } ctrl;
        struct iovec iov = {.iov_base = msg, .iov_len = FORWARD_MSG_MAX};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctrl.buf,
                            .msg_controllen = sizeof(ctrl)};
        ssize_t n = recvmsg(w->fwd.fd, &mh, MSG_DONTWAIT);
        if (n < 0)
            return;
        msg[n] = '\0';
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        struct ucred cred = {.pid = 0, .uid = (uid_t)-1};
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
            memcpy(&cred, CMSG_DATA(c), sizeof(cred));
        char session[VIEWER_SESSION_LEN + 1], path[CONFIG_NAME_MAX];
        unsigned from;
        uint64_t nonce;
        int code;
        if (sscanf(msg, "DELETE %26s %63s %u %16" SCNx64, session, path, &from, &nonce) == 4 &&
            from < CTL_MAX_CHILDREN && forward_sender_ok(w, &cred, from))
            forward_owner(w, session, path, from, nonce);
        else if (sscanf(msg, "DONE %16" SCNx64 " %d", &nonce, &code) == 2 && cred.uid == getuid())
            forward_done(w, nonce, code == 200 ? 200 : 404);
        else
            forward_refused(w, &cred);
    }
}

int forward_open(struct worker *w)
{
    struct forward *f = &w->fwd;
    int one = 1;
    f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->fd < 0)
        return -errno;
    struct sockaddr_un un;
    socklen_t len = forward_addr(w, w->index, &un);
    if (setsockopt(f->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
        bind(f->fd, (struct sockaddr *)&un, len) < 0)
        return -errno;
    int rc = uv_poll_init(w->loop, &f->poll, f->fd);
    if (rc < 0)
        return rc;
    (void)uv_timer_init(w->loop, &f->retry);
    f->poll.data = f->retry.data = w;
    f->open = 1;
    return uv_poll_start(&f->poll, UV_READABLE, forward_readable);
}

void forward_close(struct forward *f)
{
    if (f->open) {
        uv_close((uv_handle_t *)&f->poll, NULL); /* stops polling the socket at once */
        uv_close((uv_handle_t *)&f->retry, NULL);
        f->open = 0;
    }
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->out_count = 0;
}
