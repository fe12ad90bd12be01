/* SPDX-License-Identifier: MIT */
/* main.c: ringcast-ingest, the ingest of a file: or rtsp:// path. A publish path's ingest is
 * ringcast-ingest-publish, which this process becomes (exec, same pid, same arguments): only
 * that one links rtc/ and OpenSSL, whose loading alone costs ~450 KiB of private memory in
 * every process, more than the rest of a file: or RTSP ingest. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "ingest/app.h"
#include "ingest/file.h"
#include "ingest/rtsp.h"

#define PUBLISH_PROGRAM "ringcast-ingest-publish"

static int source_for(const struct ingest_app *a, uv_loop_t *loop, struct ingest *ing,
                      const struct ctl_hdr *ctl, struct source **out)
{
    (void)ctl;
    if (strncmp(a->path.source, "file:", 5) == 0)
        return file_source_create(out, loop, ing, &a->path);
    if (strncmp(a->path.source, "rtsp://", 7) == 0)
        return rtsp_source_create(out, loop, ing, &a->path);
    return -EPROTONOSUPPORT;
}

/* Replaces this process with ringcast-ingest-publish from this program's directory, given the
 * same arguments; returns (status 1) only when that fails. The pid stays the one the supervisor
 * spawned and watches. */
static int become_publish(char **argv)
{
    char file[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", file, sizeof(file) - 1);
    if (n < 0) {
        log_error("publish source: /proc/self/exe: %s", strerror(errno));
        return 1;
    }
    file[n] = '\0';
    char *slash = strrchr(file, '/');
    size_t dir = slash ? (size_t)(slash - file) + 1 : 0;
    if (dir + sizeof(PUBLISH_PROGRAM) > sizeof(file)) {
        log_error("publish source: %s: %s", file, strerror(ENAMETOOLONG));
        return 1;
    }
    memcpy(file + dir, PUBLISH_PROGRAM, sizeof(PUBLISH_PROGRAM));
    argv[0] = file;
    execv(file, argv);
    log_error("publish source: %s: %s", file, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    static struct ingest_app app;
    int status;
    if (!ingest_app_setup(&app, argc, argv, &status))
        return status;
    if (config_path_is_publish(&app.path))
        return become_publish(argv);
    return ingest_app_run(&app, source_for);
}
