/* SPDX-License-Identifier: MIT */
/* fdlimit.h: the process's open-file limit (RLIMIT_NOFILE): raised at start from the soft
 * limit to the hard one, which the children inherit, and held against what the config needs. */
#ifndef RINGCAST_FDLIMIT_H
#define RINGCAST_FDLIMIT_H

/* Raises the soft RLIMIT_NOFILE to the hard limit and logs the figure in force at info; warns
 * when it is below need, which what names ("a worker's connection caps"). 0, or -errno when
 * the limits cannot be read or set (logged: the process runs on with what it has). */
int fdlimit_raise(unsigned long need, const char *what);

#endif
