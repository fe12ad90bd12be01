/* SPDX-License-Identifier: MIT */
/* control.h: the control-socket protocol between ringcastctl and the supervisor. A client
 * sends one line of words ("restart worker 1 --json\n"); the server answers "ok\n" and a
 * body, or "error: REASON\n", then closes. */
#ifndef RINGCAST_CONTROL_H
#define RINGCAST_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

#define CONTROL_LINE_MAX 256

enum control_verb {
    CONTROL_STATUS = 0,
    CONTROL_PATHS,
    CONTROL_WORKERS,
    CONTROL_RESTART_WORKER,
    CONTROL_RESTART_PATH,
    CONTROL_RELOAD,
    CONTROL_STOP,
    CONTROL_DRAIN,   /* refuse new viewers, keep the current ones (the balancer moves on) */
    CONTROL_UNDRAIN, /* take new viewers again */
    CONTROL_UPGRADE, /* replace every child with the binaries now on disk, one at a time */
};

struct control_cmd {
    enum control_verb verb;
    bool json;                  /* --json anywhere on the line */
    unsigned worker;            /* restart worker N */
    char path[CONFIG_NAME_MAX]; /* restart path NAME */
};

/* Parses one request line. Returns the bytes consumed (through '\n'), 0 when no full line
 * has arrived yet, or -EINVAL (reason in err) for a bad command, -E2BIG when no line ends
 * within CONTROL_LINE_MAX bytes. */
int control_parse(const uint8_t *p, size_t len, struct control_cmd *out, char *err, size_t errlen);

#endif
