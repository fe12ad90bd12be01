/* SPDX-License-Identifier: MIT */
/* sockbuf.c: socket buffer sizing with the privileged override first, and reading a
 * coalesced receive's segment size (see sockbuf.h). */
#include "common/sockbuf.h"

#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

static int sockbuf_set(int fd, int force, int plain, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof(bytes)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof(bytes));
    int got = 0;
    socklen_t len = sizeof(got);
    return getsockopt(fd, SOL_SOCKET, plain, &got, &len) < 0 ? -errno : got;
}

int sockbuf_set_rcv(int fd, int bytes)
{
    return sockbuf_set(fd, SO_RCVBUFFORCE, SO_RCVBUF, bytes);
}

int sockbuf_set_snd(int fd, int bytes)
{
    return sockbuf_set(fd, SO_SNDBUFFORCE, SO_SNDBUF, bytes);
}

size_t sockbuf_gro_segment(const struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c))
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
            c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int seg;
            memcpy(&seg, CMSG_DATA(c), sizeof(seg));
            return seg > 0 ? (size_t)seg : 0;
        }
    return 0;
}
