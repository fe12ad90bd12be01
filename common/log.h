/* SPDX-License-Identifier: MIT */
/* log.h: leveled logging to stderr, one line per event, prefixed with time, role and pid.
 * Levels below the configured one cost a branch: arguments are not evaluated. */
#ifndef RINGCAST_LOG_H
#define RINGCAST_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

extern enum log_level log_threshold;

/* role names the process in every line ("ingest demo", "egress 1"); copied. */
void log_init(const char *role);
void log_set_level(enum log_level level);
/* Parses "debug|info|warn|error"; returns 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) >= log_threshold)                                                                \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)

/* Lines an outsider can cause as often as it likes (refused connections and messages): at most
 * burst of them per window, the rest held back and counted. Zeroed: no window yet. */
struct log_limit {
    uint64_t window_ns; /* when the current window began; 0 before the first line */
    uint32_t logged;    /* lines logged in it */
    uint32_t held;      /* lines held back in it */
};
/* True when this line may be logged at now_ns. held (optional) is set to how many were held
 * back in the window that this line closes (say it once), else to 0. */
bool log_limit_pass(struct log_limit *l, uint64_t now_ns, uint64_t window_ns, uint32_t burst,
                    uint32_t *held);

#endif
