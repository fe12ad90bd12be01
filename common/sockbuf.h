/* sockbuf.h: socket buffer sizing. Media sockets want buffers far above the kernel's default
 * caps (net.core.rmem_max / wmem_max, 208 KiB on Debian): a keyframe is hundreds of
 * datagrams arriving or leaving at once. */
#ifndef RINGCAST_SOCKBUF_H
#define RINGCAST_SOCKBUF_H

#include <stdbool.h>

/* Asks for bytes of receive (send = false) or send buffer on fd: SO_*BUFFORCE, which may
 * exceed the caps when privileged (CAP_NET_ADMIN), else the plain option, which the kernel
 * silently caps. Best effort: returns the size the kernel now reports (it doubles what is
 * asked for its bookkeeping), or -errno if even that cannot be read. */
int sockbuf_set(int fd, bool send, int bytes);

#endif
