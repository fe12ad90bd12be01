/* SPDX-License-Identifier: MIT */
/* reexec.c: the state blob a supervisor hands to its re-executed self (sealing, validating,
 * the memfd it travels in), the probe of the binary on disk, and the execve that keeps the
 * pid, so the children stay ours and waitpid keeps working for them. */
#include "supervisor/reexec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int reexec_probe_line(char *buf, size_t len)
{
    return snprintf(buf, len, "ringcast reexec-state %d %zu\n", REEXEC_VERSION,
                    sizeof(struct reexec_state));
}

uint64_t reexec_checksum(const struct reexec_state *st)
{
    const uint8_t *p = (const uint8_t *)st;
    const size_t skip = offsetof(struct reexec_state, checksum);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sizeof(*st); i++) {
        uint8_t b = i >= skip && i < skip + sizeof(st->checksum) ? 0 : p[i];
        h = (h ^ b) * 0x100000001b3ull;
    }
    return h;
}

static int invalid(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "state handed over by the previous binary: %s", what);
    return -EPROTO;
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

int reexec_validate(const struct reexec_state *st, size_t len, char *err, size_t errlen)
{
    if (len < offsetof(struct reexec_state, checksum) || st->magic != REEXEC_MAGIC)
        return invalid(err, errlen, "not a ringcast supervisor state");
    if (st->version != REEXEC_VERSION || st->size != sizeof(*st) || len != sizeof(*st))
        return invalid(err, errlen, "another version or size");
    if (st->checksum != reexec_checksum(st))
        return invalid(err, errlen, "checksum mismatch");
    if (st->n_children > CTL_MAX_CHILDREN || !terminated(st->exe, sizeof(st->exe)) ||
        !terminated(st->cfg_snap, sizeof(st->cfg_snap)) || st->exe[0] != '/')
        return invalid(err, errlen, "bad count or path");
    uint8_t seen[CTL_MAX_CHILDREN] = {0};
    for (uint32_t i = 0; i < st->n_children; i++) {
        const struct reexec_child *c = &st->children[i];
        if (c->slot >= CTL_MAX_CHILDREN || seen[c->slot]++ ||
            (c->role != CTL_ROLE_INGEST && c->role != CTL_ROLE_EGRESS) || c->pid < 0 ||
            !terminated(c->path, sizeof(c->path)))
            return invalid(err, errlen, "bad child entry");
    }
    return 0;
}

/* Sets or clears FD_CLOEXEC on each of st's descriptors (and extra, the memfd). */
static void set_cloexec(const struct reexec_state *st, int extra, int on)
{
    const int fds[] = {st->fd_control, st->fd_metrics, st->fd_agent, st->fd_reply, extra};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
        int fl = fds[i] >= 0 ? fcntl(fds[i], F_GETFD) : -1;
        if (fl >= 0)
            (void)fcntl(fds[i], F_SETFD, on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC);
    }
}

void reexec_seal(struct reexec_state *st)
{
    st->magic = REEXEC_MAGIC;
    st->version = REEXEC_VERSION;
    st->size = sizeof(*st);
    st->checksum = reexec_checksum(st);
}

int reexec_exec(struct reexec_state *st, char *const argv[], char *err, size_t errlen)
{
    reexec_seal(st);
    int fd = memfd_create("ringcast-reexec", MFD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "memfd_create: %s", strerror(e));
        return -e;
    }
    size_t done = 0;
    while (done < sizeof(*st)) {
        ssize_t n = write(fd, (const char *)st + done, sizeof(*st) - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            snprintf(err, errlen, "writing the state: %s", strerror(e));
            return -e;
        }
        done += (size_t)n;
    }
    char num[16];
    snprintf(num, sizeof(num), "%d", fd);
    set_cloexec(st, fd, 0);
    int e = setenv(REEXEC_ENV, num, 1) < 0 ? errno : 0;
    if (!e) {
        fflush(NULL);
        execve(st->exe, argv, environ);
        e = errno;
        unsetenv(REEXEC_ENV);
    }
    set_cloexec(st, fd, 1);
    close(fd);
    snprintf(err, errlen, "execve %s: %s", st->exe, strerror(e));
    return -e;
}

/* A descriptor the state names: open, and a socket. */
static int is_socket(int fd)
{
    struct stat sb;
    return fd < 0 || (fd > STDERR_FILENO && fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode));
}

int reexec_load(struct reexec_state *st, char *err, size_t errlen)
{
    const char *env = getenv(REEXEC_ENV);
    if (!env)
        return 0;
    char *end;
    long fd = strtol(env, &end, 10);
    unsetenv(REEXEC_ENV); /* our children must not think they were re-executed */
    if (*end || fd <= STDERR_FILENO || fd > INT_MAX)
        return invalid(err, errlen, "bad " REEXEC_ENV);
    ssize_t n = pread((int)fd, st, sizeof(*st), 0);
    struct stat sb;
    size_t len = n > 0 && fstat((int)fd, &sb) == 0 ? (size_t)sb.st_size : 0;
    close((int)fd);
    int rc = reexec_validate(st, n >= (ssize_t)offsetof(struct reexec_state, checksum) ? len : 0,
                             err, errlen);
    if (rc < 0)
        return rc;
    set_cloexec(st, -1, 1);
    if (!is_socket(st->fd_control) || !is_socket(st->fd_metrics) || !is_socket(st->fd_agent) ||
        !is_socket(st->fd_reply) || st->fd_control < 0 || st->fd_metrics < 0)
        return invalid(err, errlen, "a listening socket did not come across");
    return 1;
}

/* Reads the probe's output into buf until EOF or the deadline; kills it at the deadline. */
static void probe_read(int fd, pid_t pid, char *buf, size_t cap)
{
    size_t len = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left =
            REEXEC_PROBE_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            (void)kill(pid, SIGKILL);
            snprintf(buf, cap, "no answer within %d ms", REEXEC_PROBE_MS);
            return;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t)n) == cap - 1)
            break;
    }
    buf[len] = '\0';
}

int reexec_probe(const char *exe, const char *cfg, char *err, size_t errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        int e = errno;
        snprintf(err, errlen, "pipe: %s", strerror(e));
        return -e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
    char *argv[] = {(char *)exe, REEXEC_PROBE_ARG, cfg ? "-c" : NULL, (char *)cfg, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        snprintf(err, errlen, "cannot run %s: %s", exe, strerror(rc));
        return -rc;
    }
    char out[512], want[64];
    probe_read(p[0], pid, out, sizeof(out));
    close(p[0]);
    int status;
    /* By pid: libuv reaps only the processes it spawned, so this status is ours to take. */
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    reexec_probe_line(want, sizeof(want));
    if (strcmp(out, want) == 0)
        return 0;
    out[strcspn(out, "\n")] = '\0';
    snprintf(err, errlen,
             "%s cannot take over this supervisor (state version %d): it answered "
             "\"%s\"",
             exe, REEXEC_VERSION, out);
    return -EPROTO;
}
