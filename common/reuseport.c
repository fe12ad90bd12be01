/* SPDX-License-Identifier: MIT */
/* reuseport.c: a media socket's bind into a SO_REUSEPORT group, after a probe that the port
 * is free unless a successor joins its predecessor (see reuseport.h). */
#include "common/reuseport.h"

#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

/* A plain socket of fd's family and type binds sa: no socket holds the port (a probe without
 * SO_REUSEPORT fails on any socket bound there, with or without it). */
static int reuseport_probe(int fd, const struct sockaddr *sa, socklen_t len)
{
    int type = 0, one = 1, zero = 0;
    socklen_t tl = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0)
        return -errno;
    int p = socket(sa->sa_family, type | SOCK_CLOEXEC, 0);
    if (p < 0)
        return -errno;
    /* As the real socket: a TCP port in TIME_WAIT is free, and dual-stack covers IPv4. */
    int err =
        (type == SOCK_STREAM && setsockopt(p, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
                (sa->sa_family == AF_INET6 &&
                 setsockopt(p, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) ||
                bind(p, sa, len) < 0
            ? -errno
            : 0;
    close(p);
    return err;
}

int reuseport_bind(int fd, const struct sockaddr *sa, socklen_t len, bool joining)
{
    int one = 1;
    int err = joining ? 0 : reuseport_probe(fd, sa, len);
    if (err < 0)
        return err;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 || bind(fd, sa, len) < 0)
        return -errno;
    return 0;
}
