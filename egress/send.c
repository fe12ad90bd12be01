/* SPDX-License-Identifier: MIT */
/* send.c: the egress hot path. On each doorbell, for each path: read the new frames, describe
 * each frame's packets once (codec/pack), then per viewer write the RTP header (SSRC,
 * sequence and SRTP index from the global packet number, timestamp = ring + offset), copy the
 * payload out of shared memory, protect into a batch slot, and hand the batch to the kernel
 * with one sendmmsg. Also the per-viewer catch-up from the latest keyframe, and single-packet
 * rebuilds for NACKs. An ICE-TCP viewer's packets are framed into its connection's bounded
 * queue instead, each queue written once per batch; an RTSP reader's likewise, unprotected, as
 * interleaved frames, or over UDP to the port of each track's RTP and RTCP. Nothing here allocates
 * or makes a syscall per packet; the one log line (a frame numbered at another MTU) is rate-limited
 * per path. */
#include <errno.h>
#include <string.h>
#include <netinet/udp.h>

#include "codec/codec.h"
#include "common/log.h"
#include "egress/media_priv.h"
#include "rtc/esrtp.h"

uint32_t media_viewer_ts(const struct media_viewer *v, unsigned t, const struct ring_frame *f)
{
    const struct media_viewer_track *vt = &v->rec.tracks[t];
    if (vt->cu_start && f->seq >= vt->cu_start && (!vt->cu_end || f->seq < vt->cu_end))
        return vt->cu_out_ts + (f->rtp_ts - vt->cu_ring_ts) / MEDIA_CATCHUP_COMPRESS;
    return f->rtp_ts + vt->ts_offset;
}

/* Leaves catch-up (or a broken catch-up) for the live edge at frame seq. The live offset
 * continues the timestamps sent so far at real-time spacing: the next frame's timestamp is
 * the last one sent plus the ring time elapsed since, so the viewer sees no jump. */
static void media_viewer_go_live(struct media_worker *w, struct media_viewer *v, unsigned t,
                                 uint64_t seq)
{
    struct media_viewer_track *vt = &v->rec.tracks[t];
    if (vt->cu_start && !vt->cu_end) {
        vt->cu_end = seq;
        if (vt->pkts_sent) /* else keep the random offset */
            vt->ts_offset = vt->last_rtp_ts - vt->last_ring_ts;
        media_viewer_dirty(w, v);
    }
    v->rec.state = MEDIA_VIEWER_LIVE;
}

void media_viewer_position(struct media_path *p, struct media_viewer *v)
{
    media_viewer_at(v, p->next_frame);
    v->rec.state = MEDIA_VIEWER_LIVE;
    if (p->video < 0 || !(v->rec.tracks[p->video].p.flags & MEDIA_TRACK_SEND))
        return;
    v->rec.wait_key = 1; /* never start a decoder on a delta frame */
    uint64_t k = ring_reader_latest_keyframe(p->r, (unsigned)p->video);
    struct ring_frame f;
    if (!k || k >= p->next_frame || !ring_reader_get(p->r, k, &f))
        return; /* the live path reaches the next keyframe by itself */
    struct media_viewer_track *vt = &v->rec.tracks[p->video];
    vt->cu_start = k;
    vt->cu_end = 0;
    vt->cu_ring_ts = f.rtp_ts;
    vt->cu_out_ts = f.rtp_ts + vt->ts_offset;
    media_viewer_at(v, k);
    v->rec.state = MEDIA_VIEWER_CATCHUP;
    v->rec.wait_key = 0;
}

void media_viewer_restart(struct media_worker *w, struct media_viewer *v)
{
    struct media_path *p = v->path;
    if (!p || p->video < 0 || !(v->rec.tracks[p->video].p.flags & MEDIA_TRACK_SEND))
        return;
    media_flush(w); /* queued packets keep the numbers they were given */
    struct media_viewer_track *vt = &v->rec.tracks[p->video];
    /* Frames sent already go out again: under new indexes, with timestamps after the last. */
    esrtp_index_renumber(&vt->idx);
    uint32_t out_ts = vt->last_rtp_ts + 1;
    media_viewer_position(p, v);
    if (v->rec.state == MEDIA_VIEWER_CATCHUP)
        vt->cu_out_ts = out_ts;
    media_viewer_note(w, v);
}

uint8_t *media_batch_slot(struct media_worker *w)
{
    if (w->nb == MEDIA_BATCH)
        media_batch_flush(w);
    return w->buf + (size_t)w->nb * w->slot;
}

/* An ICE-TCP viewer's packet, built in the batch's next slot, is framed into its connection's
 * queue (the slot stays free). A full queue means the viewer reads slower than the stream: the
 * packet is dropped and its video skips to the next keyframe (counted once per skip), so
 * its memory stays bounded and no other viewer waits for it. */
static void media_tcp_commit(struct media_worker *w, struct media_viewer *v, uint8_t channel,
                             size_t len)
{
    struct tcpq *q = v->tcp;
    const uint8_t *pkt = w->buf + (size_t)w->nb * w->slot;
    uint32_t chunks = q->chunks;
    w->last_tcp = true;
    w->tcp_last = NULL;
    int rc = v->srtp ? tcpq_push(q, pkt, len) : tcpq_push_interleaved(q, channel, pkt, len);
    w->tcp_chunks += q->chunks - chunks;
    if (rc < 0) {
        ctl_count(&w->cnt->send_drops, 1);
        v->rec.send_drops++;
        if (rc == -ENOBUFS && !v->rec.wait_key) {
            v->rec.wait_key = 1;
            media_viewer_dirty(w, v);
            ctl_count(v->srtp ? &w->cnt->tcp_skips : &w->cnt->rtsp_skips, 1);
        }
        return;
    }
    ctl_count(&w->cnt->pkts_sent, 1);
    ctl_count(&w->cnt->bytes_sent, len);
    w->tcp_last = q;
    w->tcp_last_len = (uint32_t)len;
    if (!q->dirty) {
        q->dirty = 1;
        q->next_dirty = w->tcp_dirty;
        w->tcp_dirty = q;
    }
}

void media_batch_commit(struct media_worker *w, struct media_viewer *v, uint8_t channel, size_t len)
{
    if (v->tcp) {
        media_tcp_commit(w, v, channel, len);
        return;
    }
    w->last_tcp = false;
    void *to = v->rec.remote;
    socklen_t to_len = v->rec.remote_len;
    int fd = w->fd;
    if (v->udp) { /* an RTSP reader over UDP: each channel has its own port */
        to = (void *)&v->udp->dst[channel].sa;
        to_len = v->udp->len;
        fd = v->udp->fd[channel & 1];
    }
    unsigned m = w->nm - 1;
    w->iov[w->nb].iov_len = len;
    if (w->gso && w->nm && w->run_open && w->msg[m].msg_hdr.msg_name == to &&
        len <= w->msg_seg[m] && w->msg[m].msg_hdr.msg_iovlen < MEDIA_GSO_SEGS &&
        w->msg_bytes[m] + len <= MEDIA_GSO_BYTES) {
        /* Another segment: only the last one of a message may be shorter. */
        w->msg[m].msg_hdr.msg_iovlen++;
        w->msg_bytes[m] += (uint32_t)len;
        w->run_open = len == w->msg_seg[m];
    } else {
        struct msghdr *h = &w->msg[w->nm].msg_hdr;
        h->msg_name = to;
        h->msg_namelen = to_len;
        h->msg_iov = &w->iov[w->nb];
        h->msg_iovlen = 1;
        w->msg_viewer[w->nm] = v;
        w->msg_fd[w->nm] = fd;
        w->msg_seg[w->nm] = (uint16_t)len;
        w->msg_bytes[w->nm] = (uint32_t)len;
        w->nm++;
        w->run_open = true;
    }
    w->nb++;
}

void media_batch_uncommit(struct media_worker *w)
{
    if (w->last_tcp) {
        if (w->tcp_last)
            tcpq_unpush(w->tcp_last, w->tcp_last_len);
        w->tcp_last = NULL;
        return;
    }
    unsigned m = w->nm - 1;
    w->msg_bytes[m] -= (uint32_t)w->iov[w->nb - 1].iov_len;
    if (--w->msg[m].msg_hdr.msg_iovlen == 0)
        w->nm--;
    w->nb--;
    w->run_open = false;
}

/* Attaches each message's ancillary data: the source address its viewer's ICE checks arrived
 * at (IP_PKTINFO: the worker's socket is bound to every address, and ICE wants media from the
 * candidate the pair was checked on), and the UDP_SEGMENT size when it holds several
 * datagrams. */
static void media_batch_control(struct media_worker *w)
{
    for (unsigned i = 0; i < w->nm; i++) {
        struct msghdr *h = &w->msg[i].msg_hdr;
        uint32_t local = w->msg_viewer[i]->rec.local_addr;
        bool gso = h->msg_iovlen > 1;
        h->msg_control = NULL;
        h->msg_controllen = 0;
        if (!local && !gso)
            continue;
        h->msg_control = w->msg_ctrl[i].b;
        h->msg_controllen = (gso ? CMSG_SPACE(sizeof(uint16_t)) : 0) +
                            (local ? CMSG_SPACE(sizeof(struct in_pktinfo)) : 0);
        struct cmsghdr *c = CMSG_FIRSTHDR(h);
        if (gso) {
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            memcpy(CMSG_DATA(c), &w->msg_seg[i], sizeof(uint16_t));
            c = CMSG_NXTHDR(h, c);
        }
        if (local) {
            struct in_pktinfo pi = {.ipi_spec_dst.s_addr = local};
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        }
    }
}

/* Counts message i's datagrams as dropped. */
static void media_batch_drop(struct media_worker *w, unsigned i)
{
    size_t n = w->msg[i].msg_hdr.msg_iovlen;
    ctl_count(&w->cnt->send_drops, n);
    w->msg_viewer[i]->rec.send_drops += n;
}

/* Writes each ICE-TCP queue touched since the last flush, once. One whose socket takes
 * less (or failed) is handed to its owner, which writes the rest when it can. */
static void media_tcp_flush(struct media_worker *w)
{
    struct tcpq *q = w->tcp_dirty;
    w->tcp_dirty = NULL;
    w->tcp_last = NULL;
    w->tcp_chunks = 0;
    while (q) {
        struct tcpq *next = q->next_dirty;
        q->dirty = 0;
        q->next_dirty = NULL;
        w->batches++;
        if (tcpq_write(q) != 0)
            q->stalled(q);
        q = next;
    }
}

void media_batch_flush(struct media_worker *w)
{
    unsigned i = 0;
    uint64_t bytes = 0, sent = 0;
    media_batch_control(w);
    while (i < w->nm) {
        unsigned run = i + 1; /* the messages from one socket, from i on */
        while (run < w->nm && w->msg_fd[run] == w->msg_fd[i])
            run++;
        int n = sendmmsg(w->msg_fd[i], w->msg + i, run - i, MSG_DONTWAIT);
        w->batches++;
        if (n > 0) {
            for (unsigned j = i; j < i + (unsigned)n; j++) {
                bytes += w->msg[j].msg_len;
                sent += w->msg[j].msg_hdr.msg_iovlen;
            }
            i += (unsigned)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            /* A full socket buffer: drop the rest of the run rather than block the loop;
             * NACKs will ask for what mattered (an RTSP reader's are just lost). */
            for (; i < run; i++)
                media_batch_drop(w, i);
            continue;
        }
        /* Any other error belongs to message i (e.g. an ICMP unreachable reported back, or a
         * kernel without UDP GSO: then stop segmenting): drop it alone and carry on. */
        if (n < 0 && (errno == EIO || errno == EINVAL) && w->msg[i].msg_hdr.msg_iovlen > 1)
            w->gso = false;
        media_batch_drop(w, i);
        i++;
    }
    ctl_count(&w->cnt->pkts_sent, sent);
    ctl_count(&w->cnt->bytes_sent, bytes);
    w->nb = 0;
    w->nm = 0;
    media_tcp_flush(w);
}

/* Discards what is queued (its frame was overwritten while being copied). */
static void media_batch_discard(struct media_worker *w)
{
    w->nb = 0;
    w->nm = 0;
    for (struct tcpq *q = w->tcp_dirty, *next; q; q = next) {
        next = q->next_dirty;
        tcpq_rollback(q);
        q->dirty = 0;
        q->next_dirty = NULL;
    }
    w->tcp_dirty = NULL;
    w->tcp_last = NULL;
    w->tcp_chunks = 0;
}

/* Writes the RTP header (RFC 3550 5.1) and extension block for packet pk, sequence number seq. */
static size_t media_rtp_header(uint8_t *b, const struct media_viewer_track *vt,
                               const struct pack_pkt *pk, uint16_t seq, uint32_t ts)
{
    b[0] = vt->ext_len ? 0x90 : 0x80;
    b[1] = (uint8_t)((pk->marker ? 0x80 : 0) | (vt->p.pt & 0x7f));
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    b[4] = (uint8_t)(ts >> 24);
    b[5] = (uint8_t)(ts >> 16);
    b[6] = (uint8_t)(ts >> 8);
    b[7] = (uint8_t)ts;
    b[8] = (uint8_t)(vt->ssrc >> 24);
    b[9] = (uint8_t)(vt->ssrc >> 16);
    b[10] = (uint8_t)(vt->ssrc >> 8);
    b[11] = (uint8_t)vt->ssrc;
    memcpy(b + 12, vt->ext, vt->ext_len);
    return 12 + (size_t)vt->ext_len;
}

/* An RTSP reader's packet: the payload copied from the ring after the header, unprotected.
 * Returns the packet's length. */
static int media_copy_plain(uint8_t *b, size_t hdr_len, const struct iovec *iov, unsigned n)
{
    size_t len = hdr_len;
    for (unsigned i = 0; i < n; i++) {
        memcpy(b + len, iov[i].iov_base, iov[i].iov_len);
        len += iov[i].iov_len;
    }
    return (int)len;
}

/* Builds, protects and queues one packet for v: header here, payload encrypted straight
 * from the ring into the batch slot. Returns the payload length queued, or -EMSGSIZE (cannot
 * happen with a sane ring: the slot holds the ring's MTU), -ERANGE (a packet from before the
 * viewer's first) or -EIO. */
static int media_queue_packet(struct media_worker *w, struct media_viewer *v, unsigned t,
                              const struct ring_frame *f, const struct pack_pkt *pk, uint32_t ts)
{
    struct media_viewer_track *vt = &v->rec.tracks[t];
    uint64_t index;
    if (esrtp_index_for(&vt->idx, f->first_pkt + pk->index, &index) < 0)
        return -ERANGE;
    uint8_t *b = media_batch_slot(w);
    size_t n = media_rtp_header(b, vt, pk, (uint16_t)index, ts);
    if (n + pk->len > w->slot - ESRTP_TRAILER_MAX)
        return -EMSGSIZE;
    struct iovec iov[PACK_SEGS_MAX];
    int n_iov = pack_iov(pk, f->data, iov, PACK_SEGS_MAX);
    if (n_iov < 0)
        return -EMSGSIZE;
    int len = v->srtp ? esrtp_protect_rtp(v->srtp, b, n, iov, (unsigned)n_iov, index)
                      : media_copy_plain(b, n, iov, (unsigned)n_iov);
    if (len < 0)
        return len;
    media_batch_commit(w, v, vt->p.channel, (size_t)len);
    return (int)pk->len;
}

/* First frame from a replaced ring: its timestamps follow the last one sent + 20 ms (its
 * first packet's index and sequence number follow the last one's: esrtp_index_renumber). */
static void media_track_rebase(struct media_worker *w, struct media_viewer *v,
                               struct media_viewer_track *vt, const struct ring_frame *f,
                               uint32_t clock)
{
    vt->rebase = 0;
    vt->cu_start = vt->cu_end = 0;
    if (vt->pkts_sent) /* else keep the random offset */
        vt->ts_offset = vt->last_rtp_ts + clock / 50 - f->rtp_ts;
    media_viewer_dirty(w, v);
}

void media_path_viewers_rebase(struct media_path *p)
{
    for (struct media_viewer *v = p->viewers; v; v = v->next) {
        for (unsigned t = 0; t < MEDIA_MAX_TRACKS; t++) {
            v->rec.tracks[t].rebase = 1;
            esrtp_index_renumber(&v->rec.tracks[t].idx);
        }
        v->rec.state = MEDIA_VIEWER_LIVE;
        media_viewer_at(v, p->next_frame);
        v->rec.wait_key = 1;
        media_viewer_note(p->w, v);
    }
}

void media_desc_forget(struct media_worker *w, const struct media_path *p)
{
    for (unsigned i = 0; i < MEDIA_DESC_FRAMES; i++)
        if (!p || w->desc[i].p == p)
            w->desc[i].n = 0;
}

/* Frame f packetizes into n packets here but the ring numbered it with f->pkt_count: its
 * packets beyond the count would take the next frame's packet numbers, so SRTP indexes that
 * carry other packets (rtc/esrtp.h). Counted; logged at most every MEDIA_MISMATCH_LOG_NS per
 * path (a writer and a worker at different MTUs mismatch on most frames). */
static void media_describe_mismatch(struct media_worker *w, struct media_path *p,
                                    const struct ring_frame *f, int n)
{
    ctl_count(&w->cnt->pkt_count_mismatches, 1);
    if (!log_limit_pass(&p->mismatch_log, ctl_now_ns(), MEDIA_MISMATCH_LOG_NS, 1, NULL))
        return;
    log_warn("media %s: frame %llu of track %u packetizes into %d packets at MTU %u, the ring "
             "numbered %u: not sent (the ring was written at another MTU; a writer's restart "
             "replaces it)",
             p->name, (unsigned long long)f->seq, f->track, n, p->mtu, f->pkt_count);
}

/* Frame f's packets, described once per worker and kept while the frame is among the last
 * MEDIA_DESC_FRAMES described: *out points at them. Returns the count, or -errno when the
 * frame cannot be packetized (a corrupt or concurrently overwritten frame) or not into the
 * count the ring numbered it with (-EPROTO; remembered, so counted once per frame). */
static int media_describe(struct media_worker *w, struct media_path *p, const struct ring_frame *f,
                          const struct pack_pkt **out)
{
    if (f->track >= MEDIA_MAX_TRACKS)
        return -EINVAL;
    unsigned i = (unsigned)(f->seq % MEDIA_DESC_FRAMES);
    struct media_desc *d = &w->desc[i];
    struct pack_pkt *pk = w->pk + i * w->pk_cap;
    *out = pk;
    if (d->n != 0 && d->p == p && d->seq == f->seq && d->data == f->data && d->len == f->len)
        return d->n;
    d->n = 0;
    int n = pack_frame(p->codec[f->track], f->data, f->len, p->mtu, pk, w->pk_cap);
    if (n > 0 && (size_t)n > w->pk_cap)
        return -E2BIG; /* more than RING_MAX_FRAME at this MTU: not a frame the ring holds */
    /* Kept only if the writer did not overwrite the frame while it was read (then a count
     * that differs is the torn read's, not the ring's). */
    if (n <= 0 || !ring_frame_still_valid(p->r, f))
        return n;
    if ((uint32_t)n != f->pkt_count) {
        media_describe_mismatch(w, p, f, n);
        n = -EPROTO;
    }
    *d = (struct media_desc){.p = p, .seq = f->seq, .data = f->data, .len = f->len, .n = n};
    return n;
}

/* Queues every packet of f for v (described in pk[0..n)) and notes what the sender
 * report needs. Flushes whenever the batch fills, after checking that the writer has not
 * overwritten the frame meanwhile. Returns false when it has. */
static bool media_queue_frame(struct media_worker *w, struct media_path *p, struct media_viewer *v,
                              const struct ring_frame *f, const struct pack_pkt *pk, int n)
{
    unsigned t = f->track;
    struct media_viewer_track *vt = &v->rec.tracks[t];
    if (vt->codec != p->codec[t])
        return true; /* the source changed codec under this session (media_path_load_tracks) */
    if (vt->rebase)
        media_track_rebase(w, v, vt, f, p->clock[t]);
    uint32_t ts = media_viewer_ts(v, t, f);
    for (int k = 0; k < n; k++) {
        /* A full batch is sent before the next packet, once the frame proves intact; so are
         * the TCP queues once they took MEDIA_TCP_CHUNKS chunks, or a keyframe to many TCP
         * viewers would hold a copy per viewer until its end: what the worker holds for the
         * TCP viewers that keep up stays about 512 KiB whatever their number. */
        bool tcp_full = w->tcp_chunks >= MEDIA_TCP_CHUNKS;
        if ((w->nb == MEDIA_BATCH || tcp_full) && !ring_frame_still_valid(p->r, f))
            return false;
        if (tcp_full)
            media_tcp_flush(w);
        int len = media_queue_packet(w, v, t, f, &pk[k], ts);
        if (len < 0) {
            ctl_count(&w->cnt->send_drops, 1);
            continue;
        }
        vt->pkts_sent++;
        vt->octets_sent += (unsigned)len;
    }
    w->budget -= w->budget < (unsigned)n ? w->budget : (unsigned)n;
    vt->last_rtp_ts = ts;
    vt->last_ring_ts = f->rtp_ts;
    vt->last_ring_ts_ns = f->arrival_ns;
    return true;
}

/* Sends what is queued if frame f is still intact; otherwise discards the batch. */
static bool media_flush_frame(struct media_worker *w, struct media_path *p,
                              const struct ring_frame *f)
{
    if (!ring_frame_still_valid(p->r, f)) {
        media_batch_discard(w);
        ctl_count(&w->cnt->ring_laps, 1);
        return false;
    }
    media_batch_flush(w);
    return true;
}

/* True if v takes frame f of its track now (video waits for a keyframe after a gap). */
static bool media_viewer_wants(struct media_worker *w, struct media_path *p, struct media_viewer *v,
                               const struct ring_frame *f)
{
    if (!(v->rec.tracks[f->track].p.flags & MEDIA_TRACK_SEND))
        return false;
    if ((int)f->track != p->video || !v->rec.wait_key)
        return true;
    if (!(f->flags & RING_FRAME_KEY))
        return false;
    v->rec.wait_key = 0;
    media_viewer_dirty(w, v);
    return true;
}

/* One live frame to every live viewer of the path that has not had it yet. When the wakeup's
 * packet budget runs out it stops between viewers and keeps the frame as pending: the next
 * run resumes it, and viewers already served skip it by their ring position. Returns false
 * then. */
static bool media_send_live_frame(struct media_worker *w, struct media_path *p,
                                  const struct ring_frame *f)
{
    int n = 0;
    const struct pack_pkt *pk = NULL;
    for (struct media_viewer *v = p->viewers; v; v = v->next) {
        if (v->rec.state != MEDIA_VIEWER_LIVE || f->seq < v->rec.next_frame)
            continue;
        if (w->budget == 0) {
            p->pending = *f;
            p->has_pending = !media_batch_pending(w) || media_flush_frame(w, p, f);
            return !p->has_pending;
        }
        media_viewer_at(v, f->seq + 1);
        if (!media_viewer_wants(w, p, v, f))
            continue;
        if (n == 0 && (n = media_describe(w, p, f, &pk)) <= 0)
            return true; /* unpacketizable: skip the frame for everyone */
        if (!media_queue_frame(w, p, v, f, pk, n)) {
            media_batch_discard(w);
            ctl_count(&w->cnt->ring_laps, 1);
            return true;
        }
    }
    if (media_batch_pending(w))
        media_flush_frame(w, p, f);
    return true;
}

/* Re-anchors a lapped catch-up at the latest keyframe. Returns false (and joins live at the
 * next keyframe) when there is none to go back to. */
static bool media_catchup_restart(struct media_worker *w, struct media_path *p,
                                  struct media_viewer *v)
{
    struct media_viewer_track *vt = &v->rec.tracks[p->video];
    uint64_t k = ring_reader_latest_keyframe(p->r, (unsigned)p->video);
    struct ring_frame f;
    media_viewer_dirty(w, v);
    if (k <= v->rec.next_frame || k >= p->next_frame || !ring_reader_get(p->r, k, &f)) {
        v->rec.wait_key = 1;
        media_viewer_at(v, p->next_frame);
        return false;
    }
    vt->cu_start = k;
    vt->cu_ring_ts = f.rtp_ts;
    vt->cu_out_ts = vt->last_rtp_ts + 1;
    media_viewer_at(v, k);
    return true;
}

/* Moves a catching-up viewer up to MEDIA_CATCHUP_FRAMES video frames towards the live
 * cursor. Pacing it by wakeups (one per frame written) lets it gain on live at several
 * frames per frame without a timer, and its compressed timestamps let the receiver play
 * the burst at once instead of a GOP late. */
static void media_catchup(struct media_worker *w, struct media_path *p, struct media_viewer *v)
{
    unsigned t = (unsigned)p->video, budget = MEDIA_CATCHUP_FRAMES;
    while (budget && v->rec.next_frame < p->next_frame) {
        struct ring_frame f;
        if (!ring_reader_get(p->r, v->rec.next_frame, &f)) {
            /* Overwritten before we got there (lapped): start over from the latest keyframe,
             * its timestamps compressed from just after the last one sent. */
            if (!media_catchup_restart(w, p, v))
                break;
            continue;
        }
        media_viewer_at(v, v->rec.next_frame + 1);
        if (f.track != t)
            continue; /* audio joins at the live edge */
        const struct pack_pkt *pk;
        int n = media_describe(w, p, &f, &pk);
        if (n <= 0)
            continue;
        if (!media_queue_frame(w, p, v, &f, pk, n) || !media_flush_frame(w, p, &f)) {
            media_batch_discard(w);
            v->rec.wait_key = 1;
            media_viewer_at(v, p->next_frame);
            media_viewer_dirty(w, v);
            break;
        }
        if (v->rec.wait_key) {
            /* A TCP viewer's queue overflowed mid-frame: the rest of the catch-up would decode
             * broken; it waits at the live edge for the next keyframe instead. */
            media_viewer_at(v, p->next_frame);
            break;
        }
        budget--;
    }
    if (v->rec.next_frame >= p->next_frame)
        media_viewer_go_live(w, v, t, v->rec.next_frame);
}

int media_send_packet(struct media_worker *w, struct media_viewer *v, unsigned track,
                      const struct ring_frame *f, uint32_t k)
{
    struct media_path *p = v->path;
    const struct pack_pkt *pk;
    if (v->rec.tracks[track].codec != p->codec[track])
        return 0;
    int n = media_describe(w, p, f, &pk);
    if (n <= 0 || k >= (uint32_t)n)
        return 0;
    int len = media_queue_packet(w, v, track, f, &pk[k], media_viewer_ts(v, track, f));
    if (len < 0)
        return 0;
    if (!ring_frame_still_valid(p->r, f)) { /* copied torn data: take it back */
        media_batch_uncommit(w);
        return 0;
    }
    return len;
}

/* Reads up to MEDIA_FRAMES_PER_WAKEUP new frames of p and sends them; then catch-up. A
 * path without viewers is not read at all: its first viewer moves the cursor to the live
 * edge (media_path_watch). */
static void media_send_path(struct media_worker *w, struct media_path *p)
{
    unsigned budget = MEDIA_FRAMES_PER_WAKEUP;
    if (!p->n_viewers) {
        p->backlog = false;
        return;
    }
    p->backlog = true;
    if (p->has_pending) {
        p->has_pending = false;
        if (!media_send_live_frame(w, p, &p->pending))
            return;
    }
    while (budget && w->budget) {
        struct ring_frame f;
        int rc = ring_reader_next(p->r, &f);
        /* Read to the end of a ring its writer retired (grown): the frames written since are
         * in the new one; follow it now rather than at the next tick. */
        if (rc == 0 && ring_reader_retired(p->r) && media_path_check(w, p, ctl_now_ns()))
            continue;
        if (rc == 0)
            break;
        budget--;
        if (rc == -ESTALE) { /* lapped: the reader restarts at the latest keyframe */
            ctl_count(&w->cnt->ring_laps, 1);
            continue;
        }
        if (rc < 0)
            break;
        p->next_frame = f.seq + 1;
        p->sent = true;
        if (f.track < MEDIA_MAX_TRACKS &&
            ring_reader_track_version(p->r, f.track) != p->track_version[f.track])
            media_path_load_tracks(p); /* re-declared: a source reconnected */
        if (!media_send_live_frame(w, p, &f))
            return;
    }
    p->backlog = budget == 0 || w->budget == 0;
    if (p->video < 0)
        return;
    for (struct media_viewer *v = p->viewers; v; v = v->next) {
        if (v->rec.state != MEDIA_VIEWER_CATCHUP)
            continue;
        if (w->budget == 0) {
            p->backlog = true;
            return;
        }
        media_catchup(w, p, v);
    }
}

bool media_send_run(struct media_worker *w)
{
    bool backlog = false;
    w->budget = w->wakeup_pkts;
    /* RTCP input's retransmissions first: discarding a lapped frame's batch would drop them. */
    media_flush(w);
    for (unsigned i = 0; i < w->n_paths; i++) {
        media_send_path(w, w->paths[i]);
        backlog |= w->paths[i]->backlog;
    }
    media_viewers_note(w);
    return backlog;
}
