/* SPDX-License-Identifier: MIT */
/* stress.h: the roles of ringstress (see main.c for the command line). */
#ifndef RINGSTRESS_STRESS_H
#define RINGSTRESS_STRESS_H

#include <stdint.h>

struct stress_opts {
    const char *name; /* ring name "<prefix>.<path>" */
    uint64_t seed;
    uint32_t max_len; /* largest frame */
    uint32_t slots;
    uint64_t data_size;
    uint64_t frames;   /* write: this many frames (0 = until 'until') */
    uint64_t until;    /* write: stop after this seq; read: stop once the head passed it */
    uint64_t progress; /* write: print "progress SEQ" every this many frames */
    uint32_t slow_us;  /* read: pause after every frame (the deliberately slow reader) */
    uint32_t stall_ms; /* read: fail when the head does not move for this long */
    int id;            /* read: reader number in reports */
};

int stress_create(const struct stress_opts *o);
int stress_write(const struct stress_opts *o);
int stress_read(const struct stress_opts *o);

#endif
