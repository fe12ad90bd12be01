/* SPDX-License-Identifier: MIT */
/* lg_proc.h: what the load generator measures from /proc: CPU time and memory of a
 * server's whole process tree (supervisor and every descendant), UDP receive-buffer
 * drops, and its own CPU time. */
#ifndef LG_PROC_H
#define LG_PROC_H

#include <sys/types.h>

struct lg_proc_tree {
    int nprocs;         /* processes found (0: root gone) */
    double cpu_s;       /* utime + stime of all of them, seconds */
    double pss_mib;     /* sum of Pss (smaps_rollup) */
    double rss_mib;     /* sum of Rss */
    double shm_pss_mib; /* the part of pss_mib in /dev/shm mappings */
};

/* Samples root and all its descendants. Returns 0 or -ESRCH if root does not exist. */
int lg_proc_tree_sample(pid_t root, struct lg_proc_tree *out);

/* UdpRcvbufErrors from /proc/net/snmp (this network namespace), or -1. */
long long lg_proc_udp_rcvbuf_errors(void);

/* This process's user + system CPU time, seconds. */
double lg_proc_self_cpu_s(void);

#endif
