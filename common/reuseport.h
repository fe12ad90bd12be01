/* SPDX-License-Identifier: MIT */
/* reuseport.h: binding a worker's own media port (UDP, ICE-TCP) into a SO_REUSEPORT group, so
 * that a successor can bind it while its predecessor still serves (a planned handover: no
 * datagram finds the port closed), without letting a first start share a port another
 * process holds by mistake. */
#ifndef RINGCAST_REUSEPORT_H
#define RINGCAST_REUSEPORT_H

#include <stdbool.h>
#include <sys/socket.h>

/* Binds fd (a socket of type SOCK_DGRAM or SOCK_STREAM, its other options set) to sa with
 * SO_REUSEPORT. Unless joining (a successor taking over its predecessor's port), it first
 * checks that no socket holds the port: -EADDRINUSE as a plain bind would say, instead of
 * splitting another process's traffic. 0 or -errno. */
int reuseport_bind(int fd, const struct sockaddr *sa, socklen_t len, bool joining);

#endif
