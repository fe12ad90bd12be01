/* SPDX-License-Identifier: MIT */
/* ringcastctl.c: the operator's client for the supervisor's control socket. Validates the
 * command locally (same parser as the server), sends one line, prints the reply; exit 1 with
 * a clear message when no supervisor listens or it refuses the command, 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/config.h"
#include "supervisor/control.h"

#define DEFAULT_SOCKET  "/tmp/ringcast.sock"          /* the config's default */
#define SERVICE_SOCKET  "/run/ringcast/ringcast.sock" /* etc/ringcast.service's */
#define REPLY_TIMEOUT_S 15 /* a reload or restart answers at once; status is instant */

static void usage(FILE *f)
{
    fprintf(f, "usage: ringcastctl [-s SOCKET | -c FILE] [--json] COMMAND\n"
               "commands:\n"
               "  status               supervisor, paths and workers\n"
               "  paths                one line per path (its ingest)\n"
               "  workers              one line per egress worker\n"
               "  restart worker N     replace egress worker N; its viewers keep their sessions\n"
               "  restart path NAME    restart the ingest of path NAME\n"
               "  reload               re-read the config file (like SIGHUP)\n"
               "  drain                refuse new viewers, keep the current ones playing\n"
               "  undrain              take new viewers again\n"
               "  upgrade              re-execute the supervisor from the ringcast binary now at\n"
               "                       its path (same pid; children, sockets and the running\n"
               "                       config kept), then replace every worker (handing its\n"
               "                       sessions over) and every ingest with the binaries now\n"
               "                       on disk; a binary that cannot take over is refused\n"
               "  stop                 stop every child and the supervisor\n"
               "  --json               machine-readable output (status, paths, workers)\n"
               "the socket is control_socket from -c FILE, else " DEFAULT_SOCKET
               ",\nelse " SERVICE_SOCKET " (the systemd unit's) when only that one exists\n");
}

static int connect_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Reads until EOF into a malloc'd NUL-terminated buffer. NULL with errno on failure. */
static char *read_reply(int fd, size_t *len)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r == 0) {
            buf[n] = '\0';
            *len = n;
            return buf;
        }
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0)
            n += (size_t)r;
    }
    int e = errno;
    free(buf);
    errno = e;
    return NULL;
}

int main(int argc, char **argv)
{
    const char *sock = NULL;
    static struct config cfg;
    char line[CONTROL_LINE_MAX], err[512];
    size_t n = 0;

    line[0] = '\0';
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) {
            sock = argv[++i];
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            if (config_load(&cfg, argv[++i], err, sizeof(err)) < 0) {
                fprintf(stderr, "ringcastctl: %s\n", err);
                return 2;
            }
            sock = cfg.control_socket;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            int w = snprintf(line + n, sizeof(line) - n, "%s%s", n ? " " : "", argv[i]);
            if (w < 0 || (size_t)w >= sizeof(line) - n - 1) {
                fprintf(stderr, "ringcastctl: command too long\n");
                return 2;
            }
            n += (size_t)w;
        }
    }
    if (!sock)
        sock = access(DEFAULT_SOCKET, F_OK) != 0 && access(SERVICE_SOCKET, F_OK) == 0
                   ? SERVICE_SOCKET
                   : DEFAULT_SOCKET;
    line[n++] = '\n';
    struct control_cmd cmd;
    if (control_parse((const uint8_t *)line, n, &cmd, err, sizeof(err)) <= 0) {
        fprintf(stderr, "ringcastctl: %s\n", n > 1 ? err : "no command");
        usage(stderr);
        return 2;
    }

    int fd = connect_socket(sock);
    if (fd < 0) {
        fprintf(stderr, "ringcastctl: no ringcast running at %s (%s)\n", sock, strerror(errno));
        return 1;
    }
    size_t len = 0;
    char *reply = NULL;
    if (write(fd, line, n) == (ssize_t)n)
        reply = read_reply(fd, &len);
    int e = errno;
    close(fd);
    if (!reply) {
        fprintf(stderr, "ringcastctl: no reply from ringcast at %s (%s)\n", sock, strerror(e));
        return 1;
    }
    int rc = 1;
    if (strncmp(reply, "ok\n", 3) == 0) {
        fwrite(reply + 3, 1, len - 3, stdout);
        rc = 0;
    } else if (strncmp(reply, "error: ", 7) == 0) {
        fprintf(stderr, "ringcastctl: %s", reply + 7);
    } else {
        fprintf(stderr, "ringcastctl: unexpected reply from %s (%zu bytes)\n", sock, len);
    }
    free(reply);
    return rc;
}
