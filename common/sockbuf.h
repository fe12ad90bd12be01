/* SPDX-License-Identifier: MIT */
/* sockbuf.h: socket buffers of media sockets: their sizes, which must be far above the
 * kernel's default caps (net.core.rmem_max / wmem_max, 208 KiB on Debian) since a keyframe is
 * hundreds of datagrams arriving or leaving at once, and the datagrams a UDP_GRO socket
 * receives coalesced into one buffer. */
#ifndef RINGCAST_SOCKBUF_H
#define RINGCAST_SOCKBUF_H

#include <stddef.h>
#include <sys/socket.h>

/* Asks for bytes of receive (sockbuf_set_rcv) or send (sockbuf_set_snd) buffer on fd:
 * SO_*BUFFORCE, which may exceed the caps when privileged (CAP_NET_ADMIN), else the plain
 * option, which the kernel silently caps. Best effort: returns the size the kernel now
 * reports (it doubles what is asked for its bookkeeping), or -errno if even that cannot be
 * read. */
int sockbuf_set_rcv(int fd, int bytes);
int sockbuf_set_snd(int fd, int bytes);

/* The segment size of a message that a UDP_GRO socket received as several datagrams
 * coalesced (all that size but the last), from its control data; 0 if it holds one. */
size_t sockbuf_gro_segment(const struct msghdr *m);

#endif
