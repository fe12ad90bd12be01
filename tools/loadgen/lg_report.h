/* lg_report.h: the load generator's result: one JSON line summing the viewers' window
 * counters, first-frame percentiles, client and (optionally) server cost. */
#ifndef LG_REPORT_H
#define LG_REPORT_H

#include <stdio.h>

struct lg;

void lg_report_print(struct lg *lg, FILE *out);

/* The p-th percentile (0..100, nearest rank) of v[0..n), which it sorts; 0 if n == 0. */
double lg_percentile(double *v, size_t n, double p);

#endif
