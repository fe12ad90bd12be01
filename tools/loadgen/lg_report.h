/* SPDX-License-Identifier: MIT */
/* lg_report.h: the load generator's result: one JSON line summing the viewers' window
 * counters, first-frame percentiles, client and (optionally) server cost. */
#ifndef LG_REPORT_H
#define LG_REPORT_H

#include <stdio.h>

struct lg;

void lg_report_print(struct lg *lg, FILE *out);

#endif
