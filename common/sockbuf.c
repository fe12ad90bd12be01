/* sockbuf.c: socket buffer sizing with the privileged override first, and reading a
 * coalesced receive's segment size (see sockbuf.h). */
#include "common/sockbuf.h"

#include <errno.h>
#include <netinet/udp.h>
#include <string.h>

int sockbuf_set(int fd, bool send, int bytes)
{
    int force = send ? SO_SNDBUFFORCE : SO_RCVBUFFORCE, plain = send ? SO_SNDBUF : SO_RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof(bytes)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof(bytes));
    int got = 0;
    socklen_t len = sizeof(got);
    return getsockopt(fd, SOL_SOCKET, plain, &got, &len) < 0 ? -errno : got;
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
