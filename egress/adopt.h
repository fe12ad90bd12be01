/* SPDX-License-Identifier: MIT */
/* adopt.h: what a worker keeps of each settled session in its shared-memory session table
 * (shm/sessions.h), and the adoption of its predecessor's sessions when it starts: after a
 * crash, a kill or an upgrade its UDP viewers keep their session without a new offer. */
#ifndef RINGCAST_EGRESS_ADOPT_H
#define RINGCAST_EGRESS_ADOPT_H

#include <stdbool.h>
#include <stdint.h>

#define ADOPT_HANDOVER_WAIT_MS 3000

struct worker;
struct viewer;

/* The record layout's identity: the same for builds whose records are interchangeable. */
uint64_t adopt_build_id(void);

/* Opens (or takes over) the worker's table and adopts the sessions its predecessor left that
 * are still valid; logs "adopted N sessions (M refused: reasons)". Needs the media socket
 * bound and media running; call before taking new offers (before the loop runs). In a planned
 * handover (w->predecessor) it first asks the predecessor to hand over (SIGUSR2) and waits, at
 * most ADOPT_HANDOVER_WAIT_MS, until it has sent its last packet and released its table. A
 * table still held by a live process is left alone and the worker runs without one. 0 or
 * -errno (the table could not be created: the worker then runs without one). */
int adopt_start(struct worker *w);
/* Records v (media running on a UDP pair): true. For a session that cannot be adopted
 * (ICE-TCP, oversized remote credentials), wipes its record: false. */
bool adopt_save(struct worker *w, struct viewer *v);
/* After the last packet sent under the table's records: a successor may take them over. */
void adopt_release(struct worker *w);
/* The session ends: its record (keys included) is zeroed. */
void adopt_wipe(struct worker *w, struct viewer *v);
/* The heartbeat a successor checks: sessions silent longer than consent allows are not
 * adopted. */
void adopt_tick(struct worker *w, uint64_t now_ns);
/* Unmaps the table; an orderly stop also removes it (no session is left to adopt), a
 * handover keeps it. */
void adopt_close(struct worker *w, bool unlink);

#endif
