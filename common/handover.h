/* SPDX-License-Identifier: MIT */
/* handover.h: an RTSP publisher's TCP connection passed from the egress worker that accepted
 * it to its path's ingest, the ring's one writer (DESIGN.md "RTSP server"): one datagram on
 * the abstract unix socket "<shm_prefix>.publish.<path>" carrying the descriptor (SCM_RIGHTS)
 * and the bytes the worker already read, with the sender's credentials for the receiver. */
#ifndef RINGCAST_HANDOVER_H
#define RINGCAST_HANDOVER_H

#include <stddef.h>
#include <sys/socket.h>

#define HANDOVER_BYTES_MAX 16384 /* what a worker may have read: a request head and body */

/* Binds the path's handover socket (nonblocking, close-on-exec, credentials passed). Returns
 * the descriptor, or -errno (-EADDRINUSE: another ingest of that path listens). */
int handover_listen(const char *prefix, const char *path);

/* Sends fd and bytes[0..len) to the path's ingest. The caller still owns fd (and closes its
 * copy). 0, or -errno: -ECONNREFUSED when no ingest listens, -EAGAIN when its queue is full,
 * -EMSGSIZE when len exceeds HANDOVER_BYTES_MAX. */
int handover_send(const char *prefix, const char *path, int fd, const void *bytes, size_t len);

/* Receives one handover from the listening socket lfd: the descriptor into *fd (close-on-exec;
 * the caller owns it), the bytes into buf (*len of them), the sender's credentials into *cred.
 * 0; -EAGAIN when none is queued; -EBADMSG for a message without exactly one descriptor or
 * with more bytes than cap (whatever descriptors it carried are closed). */
int handover_recv(int lfd, int *fd, void *buf, size_t cap, size_t *len, struct ucred *cred);

#endif
