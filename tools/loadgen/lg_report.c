/* SPDX-License-Identifier: MIT */
/* lg_report.c: turns the per-viewer window counters into the load generator's JSON line
 * (field names follow ../shared/bench's benchclient where they mean the same thing). */
#include "tools/loadgen/lg_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/loadgen/lg.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100, nearest rank) of v[0..n), which it sorts; 0 if n == 0. */
static double lg_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return v[rank ? rank - 1 : 0];
}

/* JSON string value: the label is the only free text; escape what JSON requires. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

struct totals {
    struct lg_vcount d; /* window deltas summed */
    unsigned viewers;   /* in media at the window end */
    unsigned gcm;
    unsigned stalled; /* in media but nothing received in the window */
    double pps_min, pps_max;
    double rt_min; /* the slowest viewer's media time per wall time */
};

static void sum_window(struct lg *lg, double win_s, struct totals *t)
{
    memset(t, 0, sizeof(*t));
    t->pps_min = -1;
    t->rt_min = -1;
    for (unsigned i = 0; i < lg->opt.n; i++) {
        const struct lg_viewer *v = &lg->v[i];
        if (v->state != LG_V_MEDIA)
            continue;
        const struct lg_vcount *a = &v->c0, *b = &v->c;
        t->viewers++;
        t->gcm += (unsigned)v->gcm;
        t->d.pkts += b->pkts - a->pkts;
        t->d.bytes += b->bytes - a->bytes;
        t->d.expected += b->expected - a->expected;
        t->d.unique += b->unique - a->unique;
        t->d.dups += b->dups - a->dups;
        t->d.late += b->late - a->late;
        t->d.dropped += b->dropped - a->dropped;
        t->d.nack_pkts += b->nack_pkts - a->nack_pkts;
        t->d.nack_seqs += b->nack_seqs - a->nack_seqs;
        t->d.recovered += b->recovered - a->recovered;
        t->d.gave_up += b->gave_up - a->gave_up;
        t->d.lost_nacked += b->lost_nacked - a->lost_nacked;
        t->d.srtp_errors += b->srtp_errors - a->srtp_errors;
        t->d.rtcp_in += b->rtcp_in - a->rtcp_in;
        t->d.recover_ms_sum += b->recover_ms_sum - a->recover_ms_sum;
        t->d.ts_advance += b->ts_advance - a->ts_advance;
        t->d.flood_bytes += b->flood_bytes - a->flood_bytes;
        t->d.dup_bytes += b->dup_bytes - a->dup_bytes;
        if (b->recover_ms_max > t->d.recover_ms_max)
            t->d.recover_ms_max = b->recover_ms_max;
        t->stalled += b->pkts == a->pkts;
        double pps = (double)(b->pkts - a->pkts) / win_s;
        if (t->pps_min < 0 || pps < t->pps_min)
            t->pps_min = pps;
        if (pps > t->pps_max)
            t->pps_max = pps;
        double rt = (double)(b->ts_advance - a->ts_advance) / 90000.0 / win_s;
        if (t->rt_min < 0 || rt < t->rt_min)
            t->rt_min = rt;
    }
    if (t->pps_min < 0)
        t->pps_min = 0;
    if (t->rt_min < 0)
        t->rt_min = 0;
}

void lg_report_print(struct lg *lg, FILE *f)
{
    double win_s = (double)(lg->win_end_ms - lg->win_start_ms) / 1000.0;
    if (win_s <= 0)
        win_s = 1e-3;
    struct totals t;
    sum_window(lg, win_s, &t);

    double *ff = malloc(sizeof(double) * (lg->opt.n ? lg->opt.n : 1));
    size_t nff = 0;
    for (unsigned i = 0; ff && i < lg->opt.n; i++)
        if (lg->v[i].first_frame_ms >= 0)
            ff[nff++] = (double)lg->v[i].first_frame_ms;
    double ff50 = ff ? lg_percentile(ff, nff, 50) : 0, ff95 = ff ? lg_percentile(ff, nff, 95) : 0;
    double ffmax = nff ? ff[nff - 1] : 0;
    free(ff);
    /* Each viewer's longest time without media in the window, its end included. */
    double *gap = malloc(sizeof(double) * (lg->opt.n ? lg->opt.n : 1));
    size_t ngap = 0;
    for (unsigned i = 0; gap && i < lg->opt.n; i++) {
        const struct lg_viewer *v = &lg->v[i];
        if (v->state != LG_V_MEDIA)
            continue;
        uint64_t from = v->last_rx_ms > lg->win_start_ms ? v->last_rx_ms : lg->win_start_ms;
        uint64_t tail = lg->win_end_ms > from ? lg->win_end_ms - from : 0;
        gap[ngap++] = (double)(tail > v->gap_ms_max ? tail : v->gap_ms_max);
    }
    double *gap_each = malloc(sizeof(double) * (ngap ? ngap : 1)); /* by viewer, unsorted */
    if (gap_each && gap)
        memcpy(gap_each, gap, sizeof(double) * ngap);
    double gap50 = gap ? lg_percentile(gap, ngap, 50) : 0,
           gap95 = gap ? lg_percentile(gap, ngap, 95) : 0;
    double gapmax = gap && ngap ? gap[ngap - 1] : 0;

    /* Lost = packets expected from the sequence numbers minus distinct ones received:
     * deliberate drops count as lost unless their retransmission arrived. */
    long long lost = (long long)t.d.expected - (long long)t.d.unique;
    if (lost < 0)
        lost = 0;
    double loss_pct = t.d.expected ? 100.0 * (double)lost / (double)t.d.expected : 0;
    double cpu_pct = 100.0 * (lg->self_cpu1 - lg->self_cpu0) / win_s;
    int saturated = cpu_pct > lg->opt.saturated_pct;

    const char *why = lg->why_stop;
    if (!why && lg->connected < lg->opt.n)
        why = "not every viewer connected";
    if (!why && t.viewers < lg->connected)
        why = "viewers lost during the run";
    if (!why && lg->opt.n && t.d.pkts == 0)
        why = "no media received";
    if (!why && t.stalled)
        why = "viewers without media in the window";
    double realtime = t.viewers ? (double)t.d.ts_advance / 90000.0 / win_s / t.viewers : 0;
    if (!why && t.viewers && realtime < 0.95)
        why = "media delivered slower than real time (frames skipped or a slow source)";
    /* One viewer short of the stream is a stuttering picture even with contiguous sequence
     * numbers (no loss) and every other viewer served: not a clean run. */
    if (!why && t.viewers && t.rt_min < 0.95)
        why = "a viewer got less than 95 % of the stream (media time per wall time)";
    if (!why && loss_pct > lg->opt.max_loss_pct)
        why = "loss above --max-loss";
    if (!why && saturated)
        why = "client saturated";

    fprintf(f, "{\"tool\":\"loadgen\",\"label\":");
    json_str(f, lg->opt.label);
    fprintf(f, ",\"url\":");
    json_str(f, lg->opt.url);
    fprintf(f,
            ",\"n\":%u,\"connected\":%u,\"failed\":%u,\"receiving\":%u,\"stalled\":%u"
            ",\"srtp\":\"%s\""
            ",\"setup_s\":%.2f,\"window_s\":%.2f,\"decrypt_every\":%u,\"gro\":%s"
            ",\"transport\":\"%s\"",
            lg->opt.n, lg->connected, lg->failed, t.viewers - t.stalled, t.stalled,
            t.viewers == 0       ? "none"
            : t.gcm == t.viewers ? "gcm"
            : t.gcm              ? "mixed"
                                 : "cm",
            lg->setup_done_ms ? (double)(lg->setup_done_ms - lg->t0_ms) / 1000 : 0, win_s,
            lg->opt.decrypt_every, lg->opt.gro ? "true" : "false", lg->opt.tcp ? "tcp" : "udp");
    fprintf(f,
            ",\"pkts\":%llu,\"pkts_per_s\":%.1f,\"bytes\":%llu,\"rtp_mbit_per_s\":%.2f"
            ",\"per_viewer_pps_min\":%.1f,\"per_viewer_pps_max\":%.1f"
            ",\"expected_pkts\":%llu,\"lost_pkts\":%lld,\"loss_pct\":%.4f"
            ",\"dup_pkts\":%llu,\"late_pkts\":%llu,\"srtp_errors\":%llu,\"rtcp_in\":%llu",
            (unsigned long long)t.d.pkts, (double)t.d.pkts / win_s, (unsigned long long)t.d.bytes,
            (double)t.d.bytes * 8 / win_s / 1e6, t.pps_min, t.pps_max,
            (unsigned long long)t.d.expected, lost, loss_pct, (unsigned long long)t.d.dups,
            (unsigned long long)t.d.late, (unsigned long long)t.d.srtp_errors,
            (unsigned long long)t.d.rtcp_in);
    fprintf(f,
            ",\"drop_pct\":%.2f,\"dropped_on_purpose\":%llu,\"nack_pkts_sent\":%llu"
            ",\"nack_seqs_sent\":%llu,\"retrans_recovered\":%llu,\"nack_gave_up\":%llu"
            ",\"recovered_pct\":%.2f,\"recover_ms_mean\":%.1f,\"recover_ms_max\":%llu"
            ",\"nack_flood_bytes\":%llu,\"dup_bytes\":%llu,\"lost_nacked\":%llu",
            lg->opt.drop_pct, (unsigned long long)t.d.dropped, (unsigned long long)t.d.nack_pkts,
            (unsigned long long)t.d.nack_seqs, (unsigned long long)t.d.recovered,
            (unsigned long long)t.d.gave_up,
            t.d.dropped ? 100.0 * (double)t.d.recovered / (double)t.d.dropped : 100.0,
            t.d.recovered ? (double)t.d.recover_ms_sum / (double)t.d.recovered : 0,
            (unsigned long long)t.d.recover_ms_max, (unsigned long long)t.d.flood_bytes,
            (unsigned long long)t.d.dup_bytes, (unsigned long long)t.d.lost_nacked);
    fprintf(f,
            ",\"first_frame_viewers\":%zu,\"first_frame_ms_p50\":%.0f,\"first_frame_ms_p95\":%.0f"
            ",\"first_frame_ms_max\":%.0f,\"client_cpu_pct\":%.1f,\"client_saturated\":%s"
            ",\"media_realtime\":%.3f,\"per_viewer_realtime_min\":%.3f",
            nff, ff50, ff95, ffmax, cpu_pct, saturated ? "true" : "false", realtime, t.rt_min);
    fprintf(f, ",\"gap_ms_p50\":%.0f,\"gap_ms_p95\":%.0f,\"gap_ms_max\":%.0f", gap50, gap95,
            gapmax);
    if (lg->opt.per_viewer) {
        fprintf(f, ",\"first_frame_ms_each\":[");
        for (unsigned i = 0; i < lg->opt.n; i++)
            fprintf(f, "%s%lld", i ? "," : "", (long long)lg->v[i].first_frame_ms);
        fputc(']', f);
        fprintf(f, ",\"gap_ms_each\":[");
        for (size_t i = 0; gap_each && i < ngap; i++)
            fprintf(f, "%s%.0f", i ? "," : "", gap_each[i]);
        fputc(']', f);
    }
    if (lg->rcvbuf_err0 >= 0 && lg->rcvbuf_err1 >= 0)
        fprintf(f, ",\"udp_rcvbuf_errors\":%lld", lg->rcvbuf_err1 - lg->rcvbuf_err0);
    if (lg->have_server0 && lg->have_server1) {
        double cpu_s = lg->srv1.cpu_s - lg->srv0.cpu_s;
        fprintf(f,
                ",\"server_pid\":%d,\"server_procs\":%d,\"server_cpu_s\":%.3f"
                ",\"server_cpu_pct\":%.2f,\"server_cpu_us_per_pkt\":%.3f"
                ",\"server_pss_mib\":%.2f,\"server_pss_shm_mib\":%.2f,\"server_rss_mib\":%.2f"
                ",\"server_pss_mib_start\":%.2f,\"server_pss_shm_mib_start\":%.2f",
                lg->opt.server_pid, lg->srv1.nprocs, cpu_s, 100.0 * cpu_s / win_s,
                t.d.pkts ? cpu_s * 1e6 / (double)t.d.pkts : 0, lg->srv1.pss_mib,
                lg->srv1.shm_pss_mib, lg->srv1.rss_mib, lg->srv0.pss_mib, lg->srv0.shm_pss_mib);
    }
    free(gap);
    free(gap_each);
    fprintf(f, ",\"ok\":%s,\"why\":", why ? "false" : "true");
    json_str(f, why ? why : "");
    fprintf(f, "}\n");
    fflush(f);
}
