/* SPDX-License-Identifier: MIT */
/* udppair.c: binding RTP/RTCP UDP socket pairs and checking their datagrams' source host
 * (see udppair.h). */
#include "common/udppair.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#define UDPPAIR_TRIES 64 /* kernel-chosen ports: attempts at an even/odd pair */

static socklen_t udppair_len(const struct sockaddr *a)
{
    return a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* A UDP socket of local's family bound to its address and port; fd or -errno. */
static int udppair_socket(const struct sockaddr *local, uint16_t port)
{
    struct sockaddr_storage b = {0};
    socklen_t len = udppair_len(local);
    memcpy(&b, local, len);
    if (b.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&b)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)&b)->sin_port = htons(port);
    int fd = socket(b.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&b, len) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static uint16_t udppair_port_of(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof(a);
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return 0;
    return ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                         : ((struct sockaddr_in *)&a)->sin_port);
}

/* The pair port, port + 1 (port 0: an even one the kernel offers). 0, -EADDRINUSE (try
 * another), or -errno. */
static int udppair_try(const struct sockaddr *local, uint16_t port, int fd[2], uint16_t *out)
{
    int a = udppair_socket(local, port), b;
    if (a < 0)
        return a;
    port = udppair_port_of(a);
    if (port % 2 || port == 65535 || port == 0)
        b = -EADDRINUSE;
    else
        b = udppair_socket(local, (uint16_t)(port + 1));
    if (b < 0) {
        close(a);
        return b;
    }
    fd[0] = a;
    fd[1] = b;
    *out = port;
    return 0;
}

int udppair_bind(const struct sockaddr *local, uint16_t lo, uint16_t hi, int fd[2], uint16_t *port)
{
    int rc = -EADDRINUSE;
    if (lo) {
        for (unsigned p = (lo + 1u) & ~1u; p + 1 <= hi && rc == -EADDRINUSE; p += 2)
            rc = udppair_try(local, (uint16_t)p, fd, port);
    } else {
        for (int i = 0; i < UDPPAIR_TRIES && rc == -EADDRINUSE; i++)
            rc = udppair_try(local, 0, fd, port);
    }
    return rc == -EADDRINUSE ? -EADDRNOTAVAIL : rc;
}

bool udppair_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return a->sa_family == AF_INET6 &&
           memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}
