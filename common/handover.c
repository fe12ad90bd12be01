/* SPDX-License-Identifier: MIT */
/* handover.c: the publisher handover socket: its abstract address, the worker's send of a
 * descriptor and bytes, the ingest's receive with the sender's credentials. Abstract names
 * need no cleanup when an ingest dies; any local process can send to them, so the receiver
 * gets SCM_CREDENTIALS from the kernel and decides whom to hear. */
#include "common/handover.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t handover_addr(const char *prefix, const char *path, struct sockaddr_un *un)
{
    memset(un, 0, sizeof(*un));
    un->sun_family = AF_UNIX;
    int n = snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1, "%s.publish.%s", prefix, path);
    if (n < 0 || (size_t)n >= sizeof(un->sun_path) - 1)
        return 0;
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int handover_listen(const char *prefix, const char *path)
{
    struct sockaddr_un un;
    socklen_t alen = handover_addr(prefix, path, &un);
    if (!alen)
        return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&un, alen) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int handover_send(const char *prefix, const char *path, int fd, const void *bytes, size_t len)
{
    struct sockaddr_un un;
    socklen_t alen = handover_addr(prefix, path, &un);
    if (!alen)
        return -ENAMETOOLONG;
    if (len == 0 || len > HANDOVER_BYTES_MAX)
        return -EMSGSIZE;
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl;
    memset(&ctrl, 0, sizeof(ctrl));
    struct iovec iov = {.iov_base = (void *)bytes, .iov_len = len};
    struct msghdr mh = {.msg_name = &un,
                        .msg_namelen = alen,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctrl.buf,
                        .msg_controllen = sizeof(ctrl.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    /* MSG_DONTWAIT: a stuck ingest is a 503 for this publisher, never a stalled worker. */
    int e = sendmsg(s, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
    close(s);
    return e == -EWOULDBLOCK ? -EAGAIN : e;
}

int handover_recv(int lfd, int *fd, void *buf, size_t cap, size_t *len, struct ucred *cred)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } ctrl;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf, .msg_controllen = sizeof(ctrl)};
    ssize_t n = recvmsg(lfd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    int got = -1, nfds = 0;
    cred->pid = 0;
    cred->uid = (uid_t)-1;
    cred->gid = (gid_t)-1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET)
            continue;
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(*cred))) {
            memcpy(cred, CMSG_DATA(c), sizeof(*cred));
        } else if (c->cmsg_type == SCM_RIGHTS) {
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++, nfds++) {
                int d;
                memcpy(&d, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (got < 0)
                    got = d;
                else
                    close(d); /* one descriptor per message: extras are a sender's mistake */
            }
        }
    }
    if (nfds != 1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n == 0) {
        if (got >= 0)
            close(got);
        return -EBADMSG;
    }
    *fd = got;
    *len = (size_t)n;
    return 0;
}
