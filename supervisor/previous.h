/* SPDX-License-Identifier: MIT */
/* previous.h: what a supervisor that died (SIGKILL, crash) leaves behind: children still
 * running, still bound to the HTTP and media ports. A new supervisor finds them through the
 * old control segment and ends them before it starts its own; a live one is left alone. */
#ifndef RINGCAST_PREVIOUS_H
#define RINGCAST_PREVIOUS_H

/* Returns 0 when /<prefix>.ctl is free to take (any orphaned children have been SIGKILLed
 * and are gone), or the pid of the live supervisor that owns it. */
int previous_take_over(const char *prefix);

#endif
