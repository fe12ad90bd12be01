/* SPDX-License-Identifier: MIT */
/* hostcand.h: the host addresses an ICE-lite agent puts in its candidates (an egress worker's
 * media socket, a WHIP ingest's). */
#ifndef RINGCAST_RTC_HOSTCAND_H
#define RINGCAST_RTC_HOSTCAND_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

#define HOSTCAND_ADDR_MAX 64

/* Fills out[0..cap) for a media socket that serves IPv4, and IPv6 too when v6 (dual-stack):
 * cfg's public_addresses (those the socket cannot serve are left out with a warning), else
 * every address of the up interfaces, loopback last and IPv4 before IPv6 within each,
 * loopback included (as MediaMTX does). Returns how many. */
size_t hostcand_gather(const struct config *cfg, bool v6, char (*out)[HOSTCAND_ADDR_MAX],
                       size_t cap);

#endif
