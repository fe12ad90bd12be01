/* SPDX-License-Identifier: MIT */
/* fuzz_config.c: config_load on arbitrary bytes must return 0 or an error message, never
 * crash; a failed load always names the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;
    static char path[64];
    static int fd = -1;

    if (fd < 0) {
        fd = memfd_create("fuzz_config", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    char err[512] = "";
    int rc = config_load(&cfg, path, err, sizeof(err));
    if (rc < 0 && strncmp(err, path, strlen(path)) != 0)
        abort();
    if (rc == 0 && cfg.n_paths > cfg.cap_paths)
        abort();
    return 0;
}
