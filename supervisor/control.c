/* SPDX-License-Identifier: MIT */
/* control.c: parsing ringcastctl's request line. The grammar is a few fixed words, so it
 * is matched word by word; anything else is refused with the reason. */
#include "supervisor/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTROL_MAX_WORDS 4

static int bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg);
    return -EINVAL;
}

/* A worker index: decimal digits only, below 1000. */
static int parse_index(const char *s, unsigned *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3 || strspn(s, "0123456789") != n)
        return -EINVAL;
    *out = (unsigned)strtoul(s, NULL, 10);
    return 0;
}

static int parse_words(char **w, int n, struct control_cmd *out, char *err, size_t errlen)
{
    static const struct {
        const char *word;
        enum control_verb verb;
    } simple[] = {{"status", CONTROL_STATUS},   {"paths", CONTROL_PATHS},
                  {"workers", CONTROL_WORKERS}, {"reload", CONTROL_RELOAD},
                  {"stop", CONTROL_STOP},       {"drain", CONTROL_DRAIN},
                  {"undrain", CONTROL_UNDRAIN}, {"upgrade", CONTROL_UPGRADE}};

    if (n == 0)
        return bad(err, errlen, "empty command%s", "");
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (strcmp(w[0], simple[i].word) == 0) {
            if (n != 1)
                return bad(err, errlen, "%s takes no arguments", w[0]);
            out->verb = simple[i].verb;
            return 0;
        }
    }
    if (strcmp(w[0], "restart") != 0)
        return bad(err, errlen, "unknown command \"%s\"", w[0]);
    if (n != 3)
        return bad(err, errlen, "usage: restart worker N | restart path NAME%s", "");
    if (strcmp(w[1], "worker") == 0) {
        if (parse_index(w[2], &out->worker) < 0)
            return bad(err, errlen, "bad worker index \"%s\"", w[2]);
        out->verb = CONTROL_RESTART_WORKER;
        return 0;
    }
    if (strcmp(w[1], "path") == 0) {
        if (!config_path_name_valid(w[2]))
            return bad(err, errlen, "bad path name \"%s\"", w[2]);
        snprintf(out->path, sizeof(out->path), "%s", w[2]);
        out->verb = CONTROL_RESTART_PATH;
        return 0;
    }
    return bad(err, errlen, "restart what? \"%s\" (worker or path)", w[1]);
}

int control_parse(const uint8_t *p, size_t len, struct control_cmd *out, char *err, size_t errlen)
{
    const uint8_t *nl = memchr(p, '\n', len < CONTROL_LINE_MAX ? len : CONTROL_LINE_MAX);
    if (!nl) {
        if (len >= CONTROL_LINE_MAX) {
            snprintf(err, errlen, "request line longer than %d bytes", CONTROL_LINE_MAX);
            return -E2BIG;
        }
        return 0;
    }
    size_t n = (size_t)(nl - p);
    char line[CONTROL_LINE_MAX];
    memcpy(line, p, n);
    line[n] = '\0';
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    if (memchr(p, '\0', n))
        return bad(err, errlen, "NUL byte in request%s", "");

    memset(out, 0, sizeof(*out));
    char *w[CONTROL_MAX_WORDS];
    int nw = 0;
    for (char *save, *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (strcmp(tok, "--json") == 0) {
            out->json = true;
            continue;
        }
        if (nw == CONTROL_MAX_WORDS)
            return bad(err, errlen, "too many words%s", "");
        w[nw++] = tok;
    }
    int rc = parse_words(w, nw, out, err, errlen);
    return rc < 0 ? rc : (int)(n + 1);
}
