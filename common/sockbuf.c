/* sockbuf.c: socket buffer sizing with the privileged override first (see sockbuf.h). */
#include "common/sockbuf.h"

#include <errno.h>
#include <sys/socket.h>

int sockbuf_set(int fd, bool send, int bytes)
{
    int force = send ? SO_SNDBUFFORCE : SO_RCVBUFFORCE, plain = send ? SO_SNDBUF : SO_RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, force, &bytes, sizeof(bytes)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, plain, &bytes, sizeof(bytes));
    int got = 0;
    socklen_t len = sizeof(got);
    return getsockopt(fd, SOL_SOCKET, plain, &got, &len) < 0 ? -errno : got;
}
