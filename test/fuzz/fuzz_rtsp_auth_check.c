/* SPDX-License-Identifier: MIT */
/* fuzz_rtsp_auth_check.c: a hostile publisher's Authorization value: rtsp_auth_check must stay
 * inside the NUL-terminated value, return one of its documented results, and never accept an
 * answer that does not carry the right password (the fuzzer cannot know it). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A heap copy of exactly the value and its NUL: ASan catches any read past the end. */
    char *v = malloc(size + 1);
    if (!v)
        return 0;
    memcpy(v, data, size);
    v[size] = '\0';
    int rc = rtsp_auth_check(v, "ANNOUNCE", "ringcast", "00112233445566778899aabbccddeeff", "u",
                             "a password nobody guesses 7c1e");
    if (rc != -ENOENT && rc != -EACCES && rc != -EBADMSG && rc != -ENOTSUP)
        abort();
    free(v);
    return 0;
}
