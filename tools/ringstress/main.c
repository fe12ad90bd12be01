/* SPDX-License-Identifier: MIT */
/* ringstress: multi-process stress of the shm frame ring, driven by
 * test/integration/test_ring_stress. One command per role:
 *   ringstress create NAME [opts]            make the ring (so readers can attach first)
 *   ringstress write NAME [opts]             write the pattern stream (continues the ring)
 *   ringstress read NAME --until SEQ [opts]  verify frames until the head passes SEQ
 * Exit status 0 when every check held; counts are printed either way. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: ringstress create|write|read NAME [--seed N] [--max-len BYTES] [--slots N]\n"
            "         [--data BYTES] [--frames N] [--until SEQ] [--progress N] [--slow-us US]\n"
            "         [--stall-ms MS] [--id N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"max-len", required_argument, NULL, 'm'},
        {"slots", required_argument, NULL, 'n'},
        {"data", required_argument, NULL, 'd'},
        {"frames", required_argument, NULL, 'f'},
        {"until", required_argument, NULL, 'u'},
        {"progress", required_argument, NULL, 'p'},
        {"slow-us", required_argument, NULL, 'w'},
        {"stall-ms", required_argument, NULL, 't'},
        {"id", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 3)
        usage();
    struct stress_opts o = {.name = argv[2],
                            .seed = 1,
                            .max_len = 200 << 10,
                            .slots = 16384,
                            .data_size = 64u << 20,
                            .stall_ms = 20000};
    optind = 3;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        unsigned long long v = optarg ? strtoull(optarg, NULL, 0) : 0;
        switch (c) {
        case 's':
            o.seed = v;
            break;
        case 'm':
            o.max_len = (uint32_t)v;
            break;
        case 'n':
            o.slots = (uint32_t)v;
            break;
        case 'd':
            o.data_size = v;
            break;
        case 'f':
            o.frames = v;
            break;
        case 'u':
            o.until = v;
            break;
        case 'p':
            o.progress = v;
            break;
        case 'w':
            o.slow_us = (uint32_t)v;
            break;
        case 't':
            o.stall_ms = (uint32_t)v;
            break;
        case 'i':
            o.id = (int)v;
            break;
        default:
            usage();
        }
    }
    if (o.max_len < 1)
        usage();
    int e;
    if (!strcmp(argv[1], "create"))
        e = stress_create(&o);
    else if (!strcmp(argv[1], "write"))
        e = stress_write(&o);
    else if (!strcmp(argv[1], "read") && o.until)
        e = stress_read(&o);
    else
        usage();
    return e < 0 ? 1 : 0;
}
