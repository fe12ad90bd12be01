/* SPDX-License-Identifier: MIT */
/* fuzz_control.c: the control-socket request parser on arbitrary bytes: it returns 0, a
 * length within the input ending at a newline, or -EINVAL/-E2BIG with a reason; a parsed
 * command is one the supervisor can act on (a valid path name, a bounded worker index). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct control_cmd cmd;
    char err[128] = "";
    int rc = control_parse(data, size, &cmd, err, sizeof(err));
    if (rc > 0) {
        if ((size_t)rc > size || rc > CONTROL_LINE_MAX || data[rc - 1] != '\n')
            abort();
        if (cmd.verb == CONTROL_RESTART_PATH && !config_path_name_valid(cmd.path))
            abort();
        if (cmd.verb == CONTROL_RESTART_WORKER && cmd.worker > 999)
            abort();
    } else if (rc < 0) {
        if ((rc != -EINVAL && rc != -E2BIG) || err[0] == '\0')
            abort();
    } else if (memchr(data, '\n', size) && size < CONTROL_LINE_MAX) {
        abort(); /* a complete short line must get an answer */
    }
    return 0;
}
