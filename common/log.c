/* SPDX-License-Identifier: MIT */
/* log.c: the one place that formats log lines. A line is written with a single
 * write(2) so that lines from concurrent processes sharing stderr never interleave. */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum log_level log_threshold = LOG_INFO;
static char log_role[48] = "ringcast";

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *role)
{
    snprintf(log_role, sizeof(log_role), "%s", role);
}

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;
    int saved_errno = errno;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s[%d]: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[level], log_role, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;

    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* Nowhere better to report a failing stderr. */
    errno = saved_errno;
}

bool log_limit_pass(struct log_limit *l, uint64_t now_ns, uint64_t window_ns, uint32_t burst,
                    uint32_t *held)
{
    uint32_t closed = 0;
    if (!l->window_ns || now_ns - l->window_ns >= window_ns) {
        closed = l->held;
        l->window_ns = now_ns ? now_ns : 1;
        l->logged = l->held = 0;
    }
    if (held)
        *held = closed;
    if (l->logged < burst) {
        l->logged++;
        return true;
    }
    l->held++;
    return false;
}
