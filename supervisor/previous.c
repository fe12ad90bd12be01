/* SPDX-License-Identifier: MIT */
/* previous.c: ending the orphans of a dead supervisor. A slot's pid is only trusted if that
 * process's command line still carries the same --ctl-slot, so a recycled pid is spared. */
#include "supervisor/previous.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "shm/ctl.h"

#define PREVIOUS_WAIT_MS 2000

/* Reads /proc/<pid>/<what> ("self" for pid 0) into buf, NUL-terminated. Returns the bytes
 * read, or -1 when the process (or the file) is gone or empty. */
static ssize_t proc_read(int pid, const char *what, char *buf, size_t len)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
    else
        snprintf(path, sizeof(path), "/proc/self/%s", what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* True if pid's arguments contain "--ctl-slot" followed by slot. */
static int runs_slot(int pid, unsigned slot)
{
    char args[4096], want[16];
    snprintf(want, sizeof(want), "%u", slot);
    ssize_t n = proc_read(pid, "cmdline", args, sizeof(args));
    for (const char *a = args; n > 0 && a < args + n; a += strlen(a) + 1) {
        const char *next = a + strlen(a) + 1;
        if (strcmp(a, "--ctl-slot") == 0 && next < args + n && strcmp(next, want) == 0)
            return 1;
    }
    return 0;
}

/* Gone, or a zombie waiting for a reaper that is not us. */
static int gone(int pid)
{
    char stat[256];
    if (proc_read(pid, "stat", stat, sizeof(stat)) < 0)
        return 1;
    const char *paren = strrchr(stat, ')'); /* the name may hold spaces and parentheses */
    return paren && paren[1] == ' ' && paren[2] == 'Z';
}

/* True if pid runs the same program as we do (same command name). The segment outlives a
 * supervisor killed with -9, and its pid may since belong to anything else: deferring to
 * that process would refuse every start until the segment is removed by hand. */
static int runs_our_program(int pid)
{
    char theirs[32], ours[32];
    if (proc_read(0, "comm", ours, sizeof(ours)) < 0)
        return 1; /* cannot tell: the cautious answer */
    return proc_read(pid, "comm", theirs, sizeof(theirs)) > 0 && strcmp(theirs, ours) == 0;
}

int previous_take_over(const char *prefix)
{
    struct ctl old;
    if (ctl_attach(&old, prefix) < 0)
        return 0;
    int sup = atomic_load(&old.hdr->supervisor_pid);
    if (sup > 0 && sup != getpid() && kill(sup, 0) == 0 && runs_our_program(sup)) {
        ctl_free(&old);
        return sup;
    }
    int pids[CTL_MAX_CHILDREN], n = 0;
    for (unsigned i = 0; i < CTL_MAX_CHILDREN; i++) {
        const struct ctl_child *s = &old.hdr->children[i];
        int pid = atomic_load(&s->pid);
        if (atomic_load(&s->state) == CTL_STATE_EMPTY || pid <= 0 || !runs_slot(pid, i))
            continue;
        log_warn("previous supervisor (pid %d) is gone; ending its %s %.*s (pid %d)", sup,
                 ctl_role_name(s->role), (int)sizeof(s->name), s->name, pid);
        if (kill(pid, SIGKILL) == 0)
            pids[n++] = pid;
    }
    ctl_free(&old);
    /* Their ports must be free before our children bind them: wait, bounded. */
    for (int waited = 0; waited < PREVIOUS_WAIT_MS; waited += 10) {
        int left = 0;
        for (int i = 0; i < n; i++)
            left += !gone(pids[i]);
        if (!left)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    return 0;
}
