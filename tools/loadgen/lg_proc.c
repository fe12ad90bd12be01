/* SPDX-License-Identifier: MIT */
/* lg_proc.c: /proc sampling for the load generator's report: a server's process tree
 * (CPU ticks, PSS, RSS), the namespace's UDP receive-buffer drops, our own CPU. */
#include "tools/loadgen/lg_proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define LG_PROC_MAX 8192

struct proc_ent {
    pid_t pid, ppid;
    unsigned long long ticks;
};

/* /proc/PID/stat: the command may hold spaces and ')', so fields start after the last ')'. */
static int read_stat(pid_t pid, struct proc_ent *e)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    if (!rp)
        return -EBADMSG;
    char state;
    int ppid;
    unsigned long long ut, st;
    /* fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime stime */
    if (sscanf(rp + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state, &ppid, &ut,
               &st) != 4)
        return -EBADMSG;
    e->pid = pid;
    e->ppid = ppid;
    e->ticks = ut + st;
    return 0;
}

/* Sums Pss and Rss over a process's mappings (/proc/PID/smaps); shm_kib gets the Pss of
 * /dev/shm mappings (the rings and the control segment), whose size does not depend on
 * the number of viewers but grows while a ring fills. */
static void read_mem(pid_t pid, double *pss_kib, double *rss_kib, double *shm_kib)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    int in_shm = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long kib;
        if (isxdigit((unsigned char)line[0]) && strchr(line, '-') < strchr(line, ' ')) {
            in_shm = strstr(line, " /dev/shm/") != NULL;
        } else if (sscanf(line, "Pss: %llu kB", &kib) == 1) {
            *pss_kib += (double)kib;
            if (in_shm)
                *shm_kib += (double)kib;
        } else if (sscanf(line, "Rss: %llu kB", &kib) == 1) {
            *rss_kib += (double)kib;
        }
    }
    fclose(f);
}

int lg_proc_tree_sample(pid_t root, struct lg_proc_tree *out)
{
    memset(out, 0, sizeof(*out));
    static struct proc_ent ents[LG_PROC_MAX];
    size_t n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return -errno;
    struct dirent *de;
    while ((de = readdir(d)) && n < LG_PROC_MAX) {
        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        if (read_stat((pid_t)atoi(de->d_name), &ents[n]) == 0)
            n++;
    }
    closedir(d);

    /* Mark root, then repeatedly anything whose parent is marked (a tree is a few levels). */
    static unsigned char in[LG_PROC_MAX];
    memset(in, 0, n);
    int changed = 1;
    for (size_t i = 0; i < n; i++)
        in[i] = ents[i].pid == root;
    while (changed) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (in[i])
                continue;
            for (size_t j = 0; j < n; j++) {
                if (in[j] && ents[i].ppid == ents[j].pid) {
                    in[i] = 1;
                    changed = 1;
                    break;
                }
            }
        }
    }
    double pss = 0, rss = 0, shm = 0;
    unsigned long long ticks = 0;
    for (size_t i = 0; i < n; i++) {
        if (!in[i])
            continue;
        out->nprocs++;
        ticks += ents[i].ticks;
        read_mem(ents[i].pid, &pss, &rss, &shm);
    }
    if (!out->nprocs)
        return -ESRCH;
    out->cpu_s = (double)ticks / (double)sysconf(_SC_CLK_TCK);
    out->pss_mib = pss / 1024.0;
    out->rss_mib = rss / 1024.0;
    out->shm_pss_mib = shm / 1024.0;
    return 0;
}

long long lg_proc_udp_rcvbuf_errors(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f)
        return -1;
    char hdr[1024], val[1024];
    long long res = -1;
    /* Two "Udp:" lines: names, then values; RcvbufErrors is found by its column. */
    while (fgets(hdr, sizeof(hdr), f)) {
        if (strncmp(hdr, "Udp:", 4) != 0 || !fgets(val, sizeof(val), f))
            continue;
        char *hs, *vs;
        char *h = strtok_r(hdr, " \n", &hs);
        char *v = strtok_r(val, " \n", &vs);
        while (h && v) {
            if (strcmp(h, "RcvbufErrors") == 0) {
                res = atoll(v);
                break;
            }
            h = strtok_r(NULL, " \n", &hs);
            v = strtok_r(NULL, " \n", &vs);
        }
        break;
    }
    fclose(f);
    return res;
}

double lg_proc_self_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}
