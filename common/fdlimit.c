/* SPDX-License-Identifier: MIT */
/* fdlimit.c: raises the soft open-file limit to the hard one at start (a distribution's soft
 * 1024 is below one worker's connection caps) and tells the operator the figure. */
#include "common/fdlimit.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include "common/log.h"

int fdlimit_raise(unsigned long need, const char *what)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        int e = errno;
        log_warn("open files: cannot read RLIMIT_NOFILE: %s", strerror(e));
        return -e;
    }
    rlim_t was = rl.rlim_cur;
    if (rl.rlim_cur != rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            int e = errno;
            log_warn("open files: cannot raise the soft limit %lu to the hard limit %lu: %s",
                     (unsigned long)was, (unsigned long)rl.rlim_max, strerror(e));
            return -e;
        }
    }
    unsigned long now = (unsigned long)rl.rlim_cur;
    if (was != rl.rlim_cur)
        log_info("open files: %lu per process (the soft limit %lu raised to the hard limit)", now,
                 (unsigned long)was);
    else
        log_info("open files: %lu per process (the hard limit)", now);
    if (now < need)
        log_warn("open files: %lu per process is below the %lu that %s need: connections "
                 "beyond it are closed at accept; raise the hard limit (LimitNOFILE= in "
                 "ringcast.service, or ulimit -Hn)",
                 now, need, what);
    return 0;
}
