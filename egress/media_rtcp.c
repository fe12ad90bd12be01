/* SPDX-License-Identifier: MIT */
/* media_rtcp.c: a viewer's RTCP: its receiver reports (loss, jitter, RTT), its NACKs served by
 * rebuilding the packets from the ring within a retransmission budget, its PLI/FIR passed to
 * the ingest; and the sender reports each viewer gets from the worker's timer. */
#include <errno.h>
#include <string.h>

#include "codec/rtcp.h"
#include "egress/media_priv.h"
#include "rtc/esrtp.h"

/* ---- a viewer's RTCP ---- */

/* Retransmissions queued by RTCP input go out together once the loop has handled its I/O:
 * one sendmmsg for all the NACKs of a recvmmsg burst instead of one per datagram. */
static void media_flush_cb(uv_check_t *h)
{
    struct media_worker *w = h->data;
    (void)uv_check_stop(h);
    media_flush(w);
}

struct media_input_ctx {
    struct media_worker *w;
    struct media_viewer *v;
    unsigned nack_budget; /* NACKed packets this datagram may still have served */
    uint64_t now;
};

static int media_track_of(const struct media_viewer *v, uint32_t ssrc)
{
    for (unsigned i = 0; i < MEDIA_MAX_TRACKS; i++)
        if ((v->rec.tracks[i].p.flags & MEDIA_TRACK_SEND) && v->rec.tracks[i].ssrc == ssrc)
            return (int)i;
    return -1;
}

static void media_on_report(void *arg, const struct codec_rtcp_rb *rb)
{
    struct media_input_ctx *c = arg;
    int t = media_track_of(c->v, rb->ssrc);
    if (t < 0)
        return;
    struct media_viewer_track *vt = &c->v->rec.tracks[t];
    uint32_t sec, frac;
    codec_rtcp_ntp_now(&sec, &frac);
    vt->rr_fraction_lost = rb->fraction;
    vt->rr_cum_lost = rb->lost;
    vt->rr_jitter = rb->jitter;
    uint32_t rtt = codec_rtcp_rtt_us(rb, codec_rtcp_ntp_mid(sec, frac));
    if (rtt)
        vt->rtt_us = rtt;
}

/* Measures, once a second, what the path carries: payload bytes of the frames that reached
 * its ring in the last second, and its largest recent keyframe (the latest video keyframe
 * counts even when its GOP is longer than that second). These size every viewer's
 * retransmission budget: a viewer asks again at most what it lost, and one loss burst at
 * most a keyframe. */
static void media_path_rtx_measure(struct media_path *p, uint64_t now)
{
    if (now < p->rtx_next_ns)
        return;
    p->rtx_next_ns = now + MEDIA_RTX_MEASURE_NS;
    uint64_t bytes = 0, key = 0, head = ring_reader_head(p->r);
    struct ring_frame f;
    for (uint64_t s = head - 1, n = 0; s > 0 && n < MEDIA_RTX_MEASURE_MAX; s--, n++) {
        if (ring_reader_get(p->r, s, &f) != 1 || f.arrival_ns + MEDIA_RTX_MEASURE_NS < now)
            break;
        bytes += f.len;
        if ((f.flags & RING_FRAME_KEY) && f.len > key)
            key = f.len;
    }
    if (p->video >= 0 &&
        ring_reader_get(p->r, ring_reader_latest_keyframe(p->r, (unsigned)p->video), &f) == 1 &&
        f.len > key)
        key = f.len;
    p->rtx_rate = bytes > MEDIA_RTX_RATE_MIN ? (uint32_t)bytes : MEDIA_RTX_RATE_MIN;
    p->rtx_burst = key > MEDIA_RTX_BURST_MIN ? (uint32_t)key : MEDIA_RTX_BURST_MIN;
}

/* Refills v's retransmission budget at the path's rate up to its burst. True while some is
 * left: a packet may then take it into debt, so the budget never needs a packet's size
 * before the packet is rebuilt. */
static bool media_rtx_budget_left(struct media_viewer *v, uint64_t now)
{
    struct media_viewer_rec *r = &v->rec;
    struct media_path *p = v->path;
    media_path_rtx_measure(p, now);
    uint64_t us = (now - r->rtx_refill_ns) / 1000;
    if (!r->rtx_refill_ns || us >= 60000000) { /* a minute refills any burst */
        r->rtx_tokens = p->rtx_burst;
        r->rtx_refill_ns = now;
    } else {
        r->rtx_tokens += (int64_t)(us * p->rtx_rate / 1000000); /* < 2^58: no overflow */
        r->rtx_refill_ns += us * 1000; /* the nanoseconds left over count next time */
        if (r->rtx_tokens > (int64_t)p->rtx_burst)
            r->rtx_tokens = p->rtx_burst;
    }
    return r->rtx_tokens > 0;
}

/* The bit of the viewer's sequence number seq of track t in the resent-packet bitmaps, after
 * moving to a new epoch if the current one has lasted the track's RTT (both are cleared after
 * two). */
static unsigned media_rtx_slot(struct media_viewer *v, unsigned t, uint16_t seq, uint64_t now)
{
    struct media_viewer_rec *r = &v->rec;
    uint64_t rtt = (uint64_t)r->tracks[t].rtt_us * 1000;
    if (!rtt)
        rtt = MEDIA_RTX_RTT_DEFAULT_NS;
    else if (rtt < MEDIA_RTX_RTT_MIN_NS)
        rtt = MEDIA_RTX_RTT_MIN_NS;
    if (now - r->rtx_epoch_ns >= rtt) {
        if (now - r->rtx_epoch_ns >= 2 * rtt)
            memset(r->rtx_sent[1], 0, sizeof(r->rtx_sent[1]));
        else
            memcpy(r->rtx_sent[1], r->rtx_sent[0], sizeof(r->rtx_sent[1]));
        memset(r->rtx_sent[0], 0, sizeof(r->rtx_sent[0]));
        r->rtx_epoch_ns = now;
    }
    /* Tracks share the bitmaps: a track's packets alias each other only MEDIA_RTX_WINDOW
     * apart, another track's at random. */
    return (unsigned)((seq ^ (t << 8)) % MEDIA_RTX_WINDOW);
}

/* One lost packet: find its frame by global sequence number and rebuild it. */
static void media_nack_one(struct media_input_ctx *c, unsigned t, uint16_t seq)
{
    struct media_viewer *v = c->v;
    struct media_worker *w = c->w;
    struct ring_frame f;
    uint32_t k;
    uint16_t global;
    v->rec.nacks++;
    ctl_count(&w->cnt->nacks_received, 1);
    /* Every served NACK costs a walk back through the ring: a datagram gets a bounded number
     * served, and only of packets sent recently enough to still be useful to a player. */
    if (esrtp_index_nacked(&v->rec.tracks[t].idx, seq, MEDIA_NACK_MAX_AGE, &global) < 0 ||
        c->nack_budget == 0) {
        v->rec.nack_misses++;
        ctl_count(&w->cnt->nack_misses, 1);
        return;
    }
    /* A packet resent within the RTT is a duplicate request (repeated in one NACK, or sent
     * again before the retransmission could have arrived); beyond its budget a viewer is
     * refused whatever it asks, so that a NACK of 96 bytes cannot draw 300 KB. */
    unsigned bit = media_rtx_slot(v, t, seq, c->now);
    uint8_t mask = (uint8_t)(1u << (bit & 7));
    if (((v->rec.rtx_sent[0][bit / 8] | v->rec.rtx_sent[1][bit / 8]) & mask) ||
        !media_rtx_budget_left(v, c->now)) {
        v->rec.nack_refused++;
        ctl_count(&w->cnt->nack_refused, 1);
        return;
    }
    /* Only frames this viewer was actually sent: it never asks for later ones, but a
     * forged or confused NACK must not make us send what it has not reached. */
    c->nack_budget--;
    int len;
    if (ring_reader_find_packet(v->path->r, t, global, &f, &k) == 1 && f.seq < v->rec.next_frame &&
        (len = media_send_packet(w, v, t, &f, k)) > 0) {
        v->rec.rtx_sent[0][bit / 8] |= mask;
        v->rec.rtx_tokens -= len;
        v->rec.retransmits++;
        ctl_count(&w->cnt->retransmits, 1);
        return;
    }
    v->rec.nack_misses++;
    ctl_count(&w->cnt->nack_misses, 1);
}

static void media_on_nack(void *arg, uint32_t media_ssrc, uint16_t pid, uint16_t blp)
{
    struct media_input_ctx *c = arg;
    int t = media_track_of(c->v, media_ssrc);
    if (t < 0 || !(c->v->rec.tracks[t].p.flags & MEDIA_TRACK_NACK))
        return;
    media_nack_one(c, (unsigned)t, pid);
    for (unsigned i = 0; i < 16; i++) /* RFC 4585 6.2.1: bit i is pid + i + 1 */
        if (blp & (1u << i))
            media_nack_one(c, (unsigned)t, (uint16_t)(pid + i + 1));
}

static void media_keyframe_request(void *arg, uint32_t media_ssrc)
{
    struct media_input_ctx *c = arg;
    int t = media_track_of(c->v, media_ssrc);
    if (t < 0 || t != c->v->path->video)
        return;
    c->v->rec.plis++;
    ctl_count(&c->w->cnt->plis, 1);
    ring_reader_request_keyframe(c->v->path->r);
}

int media_input(struct media_worker *w, struct media_viewer *v, const uint8_t *pkt, size_t len)
{
    uint8_t buf[1500 + ESRTP_TRAILER_MAX];
    if (!v->path || len < 8 || len > 1500)
        return -EBADMSG;
    /* RFC 5761 4: with rtcp-mux; we send only and ignore RTP from the viewer. */
    if (!codec_rtcp_is_rtcp(pkt, len))
        return 0;
    memcpy(buf, pkt, len);
    int n = v->srtp ? esrtp_unprotect_rtcp(v->srtp, buf, len) : (int)len;
    if (n < 0)
        return n;
    struct media_input_ctx c = {w, v, MEDIA_NACKS_PER_INPUT, ctl_now_ns()};
    static const struct codec_rtcp_handler h = {
        .report = media_on_report,
        .nack = media_on_nack,
        .pli = media_keyframe_request,
        .fir = media_keyframe_request,
    };
    int rc = codec_rtcp_parse(buf, (size_t)n, &h, &c);
    if (media_batch_pending(w)) /* cannot fail: the callback is set */
        (void)uv_check_start(&w->flush, media_flush_cb);
    return rc < 0 ? rc : 0;
}

/* ---- sender reports (RFC 3550 6.4.1), from the worker's one timer ---- */

/* One compound (RFC 3550 6.1): an SR per track of srs[0..n), then one SDES with a CNAME
 * chunk for each of their SSRCs. Returns its length, or -ENOSPC. */
static int media_sr_compound(uint8_t *b, size_t cap, const struct codec_rtcp_sr *srs,
                             const uint32_t *ssrcs, unsigned n, const char *cname)
{
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        int k = codec_rtcp_write_sr(b + len, cap - len, &srs[i]);
        if (k < 0)
            return k;
        len += (size_t)k;
    }
    int k = codec_rtcp_write_sdes(b + len, cap - len, ssrcs, n, cname);
    return k < 0 ? k : (int)len + k;
}

/* Queues one compound of srs[0..n) for v: SRTCP for a WebRTC viewer (every track's in one,
 * RFC 8108), plain on the RTCP channel of the track for an RTSP reader (called per track). */
static void media_sr_queue(struct media_worker *w, struct media_viewer *v,
                           const struct codec_rtcp_sr *srs, const uint32_t *ssrcs, unsigned n,
                           uint8_t channel)
{
    uint8_t *b = media_batch_slot(w);
    int len = media_sr_compound(b, w->slot - ESRTP_TRAILER_MAX, srs, ssrcs, n, w->cname);
    if (len > 0 && v->srtp)
        len = esrtp_protect_rtcp(v->srtp, b, (size_t)len);
    if (len > 0)
        media_batch_commit(w, v, channel, (size_t)len);
}

void media_send_sr(struct media_worker *w, struct media_viewer *v, uint64_t now)
{
    struct codec_rtcp_sr srs[MEDIA_MAX_TRACKS];
    uint32_t ssrcs[MEDIA_MAX_TRACKS];
    unsigned n = 0;
    uint32_t sec, frac;
    codec_rtcp_ntp_now(&sec, &frac);
    for (unsigned i = 0; i < MEDIA_MAX_TRACKS; i++) {
        struct media_viewer_track *vt = &v->rec.tracks[i];
        if (!(vt->p.flags & MEDIA_TRACK_SEND) || !vt->pkts_sent)
            continue;
        /* The RTP time of "now": the last frame's timestamp advanced by the time since it
         * reached the ring, so that receivers can map both tracks to one clock. */
        uint64_t since = now > vt->last_ring_ts_ns ? now - vt->last_ring_ts_ns : 0;
        uint32_t adv = (uint32_t)(since * v->path->clock[i] / 1000000000ull);
        srs[n] = (struct codec_rtcp_sr){vt->ssrc,
                                        sec,
                                        frac,
                                        vt->last_rtp_ts + adv,
                                        (uint32_t)vt->pkts_sent,
                                        (uint32_t)vt->octets_sent};
        ssrcs[n] = vt->ssrc;
        vt->last_sr_ntp_mid = codec_rtcp_ntp_mid(sec, frac);
        /* RFC 2326 10.12: each track's RTCP has its own channel. */
        if (!v->srtp)
            media_sr_queue(w, v, &srs[n], &ssrcs[n], 1, (uint8_t)(vt->p.channel + 1));
        else
            n++;
    }
    if (n)
        media_sr_queue(w, v, srs, ssrcs, n, 0);
}
