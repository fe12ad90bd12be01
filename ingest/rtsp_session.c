/* SPDX-License-Identifier: MIT */
/* rtsp_session.c: the RTSP client's session (RFC 2326 10): DESCRIBE's SDP, SETUP of each
 * track over the lower transport rtsp_lower.h chooses (and switching it), PLAY, the playing
 * tick (stall, keep-alive, receiver reports), and TEARDOWN. */
#include "ingest/rtsp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

#define TEARDOWN_WAIT_MS 1000

void rtsp_session_reset(struct rtsp_source *s)
{
    rtsp_media_stop(s);
    rtsp_conn_close(s);
    (void)uv_timer_stop(&s->tick);
    (void)uv_timer_stop(&s->timer);
    s->pending[0] = '\0';
    s->session[0] = '\0';
    s->session_timeout = 0;
    s->n_tracks = 0;
    s->setup_next = 0;
    s->use_get_parameter = false;
    memset(&s->auth, 0, sizeof(s->auth));
    s->state = RTSP_IDLE;
}

/* TEARDOWN (RFC 2326 10.7) frees the server's session now rather than at its timeout;
 * rtsp_session_teardown_done follows once it is written, answered, or after TEARDOWN_WAIT_MS. False
 * when there is no session to tear down or the request could not be sent. */
bool rtsp_session_teardown_start(struct rtsp_source *s)
{
    if (!s->conn || !s->session[0])
        return false;
    rtsp_media_stop(s);
    (void)uv_timer_stop(&s->tick);
    s->state = RTSP_TEARDOWN;
    if (rtsp_request_send(s, "TEARDOWN", s->sdp.control, "") < 0)
        return false;
    rtsp_arm_deadline(s, TEARDOWN_WAIT_MS);
    return true;
}

/* The TEARDOWN is out: leave when closing, else connect again (the transport changed). */
void rtsp_session_teardown_done(struct rtsp_source *s)
{
    if (s->closing) {
        rtsp_shutdown(s);
        return;
    }
    rtsp_session_reset(s);
    rtsp_conn_start(s);
}

/* ---- the request sequence ---- */

static void send_setup(struct rtsp_source *s)
{
    struct rtsp_track *t = &s->tracks[s->setup_next];
    char transport[160];
    if (rtsp_udp(s)) {
        int err = rtsp_media_udp_alloc(s);
        if (err < 0) {
            rtsp_fail(s, "no memory for UDP buffers");
            return;
        }
        err = rtsp_media_udp_open(s, s->setup_next);
        if (err < 0) {
            rtsp_fail(s, "no UDP port pair for track %u: %s", s->setup_next, uv_strerror(err));
            return;
        }
        snprintf(transport, sizeof(transport), "Transport: RTP/AVP;unicast;client_port=%u-%u\r\n",
                 t->client_port, t->client_port + 1u);
    } else {
        snprintf(transport, sizeof(transport),
                 "Transport: RTP/AVP/TCP;unicast;interleaved=%u-%u\r\n", 2 * s->setup_next,
                 2 * s->setup_next + 1);
    }
    s->state = RTSP_SETUP;
    rtsp_request_or_fail(s, "SETUP", t->sdp.control, transport);
}

/* ---- choosing the lower transport (rtsp_lower.h decides) ---- */

/* s->lower.cur has just changed: logs why (once per change) and sets up again, on this
 * connection while the server holds no session, else after TEARDOWN on a new connection
 * (RFC 2326 has no portable way to change a session's transport). */
static void __attribute__((format(printf, 2, 3)))
lower_switched(struct rtsp_source *s, const char *fmt, ...)
{
    char why[640], clean[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    rtsp_url_redact(why, clean, sizeof(clean)); /* it may quote the server's Transport */
    log_info("rtsp path %s: %s: %s, using %s", s->path, s->url_str, clean,
             rtsp_lower_name(s->lower.cur));
    rtsp_media_stop(s);
    if (!s->session[0]) {
        s->setup_next = 0;
        send_setup(s);
        return;
    }
    if (!rtsp_session_teardown_start(s))
        rtsp_session_teardown_done(s);
}

/* SETUP refused the current transport (why: for the log): the other one next if the
 * configuration and this attempt allow, else the attempt fails. */
void rtsp_session_lower_refused(struct rtsp_source *s, const char *fmt, ...)
{
    char why[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    const char *tried = rtsp_lower_name(s->lower.cur);
    if (rtsp_lower_next(&s->lower, RTSP_LOWER_REFUSED))
        lower_switched(s, "%s %s", tried, why);
    else
        rtsp_fail(s, "SETUP: %s %s", tried, why);
}

/* Whether any track has had RTP since PLAY (on_play restarts the statistics). */
static bool any_rtp(const struct rtsp_source *s)
{
    for (unsigned i = 0; i < s->n_tracks; i++) {
        if (s->tracks[i].ingest_idx >= 0 && s->tracks[i].rx.received > 0)
            return true;
    }
    return false;
}

static void on_describe(struct rtsp_source *s, const struct rtsp_response *r)
{
    if (r->body_len == 0) {
        rtsp_fail(s, "DESCRIBE: no SDP in the answer");
        return;
    }
    if (r->content_type[0] && strncasecmp(r->content_type, "application/sdp", 15) != 0) {
        rtsp_fail(s, "DESCRIBE: answer is %s, not application/sdp", r->content_type);
        return;
    }
    const char *base = r->content_base[0]       ? r->content_base
                       : r->content_location[0] ? r->content_location
                                                : s->url_str;
    int err = rtsp_sdp_parse(&s->sdp, r->body, r->body_len, base);
    if (err < 0) {
        rtsp_fail(s, "DESCRIBE: bad SDP (%s)", strerror(-err));
        return;
    }
    char offered[256] = "";
    s->n_tracks = 0;
    for (unsigned i = 0; i < s->sdp.n; i++) {
        const struct rtsp_sdp_track *st = &s->sdp.t[i];
        size_t ol = strlen(offered);
        snprintf(offered + ol, sizeof(offered) - ol, "%s%s %s", ol ? ", " : "", st->media,
                 st->encoding[0] ? st->encoding : "?");
        if (st->codec == RING_CODEC_NONE || s->n_tracks >= RING_MAX_TRACKS) {
            log_info("rtsp path %s: skipping %s track %s: %s", s->path, st->media,
                     st->encoding[0] ? st->encoding : "?",
                     st->codec == RING_CODEC_NONE ? "unsupported codec" : "too many tracks");
            continue;
        }
        struct rtsp_track *t = &s->tracks[s->n_tracks++];
        t->sdp = *st;
        t->ingest_idx = -1;
        t->ch[0] = t->ch[1] = -1;
    }
    if (s->n_tracks == 0) {
        rtsp_fail(s, "DESCRIBE: no supported track (offered: %s)", offered[0] ? offered : "none");
        return;
    }
    s->setup_next = 0;
    send_setup(s);
}

static void on_setup(struct rtsp_source *s, const struct rtsp_response *r)
{
    struct rtsp_track *t = &s->tracks[s->setup_next];
    if (!s->session[0]) {
        if (!r->session[0]) {
            rtsp_fail(s, "SETUP: no Session in the answer");
            return;
        }
        snprintf(s->session, sizeof(s->session), "%s", r->session);
        s->session_timeout = r->session_timeout ? r->session_timeout : 60;
    }
    struct rtsp_transport tr;
    rtsp_transport_parse(&tr, r->transport);
    if (rtsp_udp(s)) {
        if (tr.tcp) {
            rtsp_session_lower_refused(s, "refused (answered %s)", r->transport);
            return;
        }
        t->has_server_rtcp = tr.server_port[1] > 0;
        if (t->has_server_rtcp) {
            t->server_rtcp = s->peer;
            struct sockaddr_in *a4 = (struct sockaddr_in *)&t->server_rtcp;
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->server_rtcp;
            if (a4->sin_family == AF_INET)
                a4->sin_port = htons((uint16_t)tr.server_port[1]);
            else
                a6->sin6_port = htons((uint16_t)tr.server_port[1]);
        }
    } else {
        if (r->transport[0] && !tr.tcp) {
            rtsp_session_lower_refused(s, "refused (answered %s)", r->transport);
            return;
        }
        /* The server may pick other channels than asked (RFC 2326 12.39). */
        t->ch[0] = tr.interleaved[0] >= 0 ? tr.interleaved[0] : (int)(2 * s->setup_next);
        t->ch[1] = tr.interleaved[0] >= 0 ? tr.interleaved[1] : (int)(2 * s->setup_next + 1);
    }
    if (++s->setup_next < s->n_tracks) {
        send_setup(s);
        return;
    }
    s->state = RTSP_PLAY;
    rtsp_request_or_fail(s, "PLAY", s->sdp.control, "Range: npt=0.000-\r\n");
}

/* ---- playing ---- */

static void on_tick(uv_timer_t *t)
{
    struct rtsp_source *s = t->data;
    uint64_t now = rtsp_now_ns(s);
    if (rtsp_udp(s) && !any_rtp(s) && now - s->play_ns >= RTSP_UDP_PROBE_MS * 1000000ull &&
        rtsp_lower_next(&s->lower, RTSP_LOWER_NO_RTP)) {
        lower_switched(s, "UDP delivered no RTP within %u s", RTSP_UDP_PROBE_MS / 1000);
        return;
    }
    if (now - s->last_rtp_ns >= RTSP_RTP_TIMEOUT_MS * 1000000ull) {
        rtsp_fail(s, "no RTP for %u s", RTSP_RTP_TIMEOUT_MS / 1000);
        return;
    }
    if (now - s->play_ns >= RTSP_HEALTHY_MS * 1000000ull)
        s->backoff_ms = RTSP_BACKOFF_MIN_MS;
    /* GET_PARAMETER when the server lists it, else OPTIONS, which every server answers. */
    if (now >= s->next_keepalive_ns) {
        s->next_keepalive_ns = now + (uint64_t)s->session_timeout * 500000000ull;
        const char *m = s->use_get_parameter ? "GET_PARAMETER" : "OPTIONS";
        rtsp_request_or_fail(s, m, s->sdp.control, "");
        if (s->state != RTSP_PLAYING)
            return;
    }
    if (now >= s->next_rr_ns) {
        s->next_rr_ns = now + 5000000000ull;
        rtsp_media_send_reports(s, now);
    }
}

static void on_play(struct rtsp_source *s)
{
    /* A new session: the pipeline forgets the previous one and the ring rebases time. */
    ingest_restart(s->ing);
    unsigned accepted = 0;
    char desc[256] = "";
    for (unsigned i = 0; i < s->n_tracks; i++) {
        struct rtsp_track *t = &s->tracks[i];
        int idx = rtsp_sdp_declare(s->ing, &t->sdp);
        if (idx < 0) {
            log_warn("rtsp path %s: track %u (%s): not accepted by the pipeline: %s", s->path, i,
                     t->sdp.encoding, strerror(-idx));
            continue;
        }
        t->ingest_idx = idx;
        rtsp_rx_init(&t->rx, t->sdp.clock_rate);
        if (t->reorder)
            rtsp_reorder_reset(t->reorder);
        if (rtsp_udp(s)) {
            int err = rtsp_media_udp_start(s, i);
            if (err < 0) {
                rtsp_fail(s, "cannot receive UDP for track %u: %s", i, uv_strerror(err));
                return;
            }
        }
        accepted++;
        size_t dl = strlen(desc);
        snprintf(desc + dl, sizeof(desc) - dl, "%s%s/%u pt %d", dl ? ", " : "", t->sdp.encoding,
                 t->sdp.clock_rate, t->sdp.pt);
    }
    if (accepted == 0) {
        rtsp_fail(s, "no track accepted by the pipeline");
        return;
    }
    s->state = RTSP_PLAYING;
    uint64_t now = rtsp_now_ns(s);
    s->play_ns = s->last_rtp_ns = now;
    /* Keep-alive at half the session timeout (RFC 2326 12.37); the first receiver report
     * soon, then every 5 s (RFC 3550 6.2's minimum interval). */
    s->next_keepalive_ns = now + (uint64_t)s->session_timeout * 500000000ull;
    s->next_rr_ns = now + 1000000000ull;
    (void)uv_timer_stop(&s->timer);
    (void)uv_timer_start(&s->tick, on_tick, 1000, 1000);
    log_info("rtsp path %s: %s: playing %s over %s", s->path, s->url_str, desc,
             rtsp_lower_name(s->lower.cur));
}

/* A 2xx answer to the pending request moves the sequence on (OPTIONS, DESCRIBE, SETUP per
 * track, PLAY). */
void rtsp_session_step(struct rtsp_source *s, const struct rtsp_response *r)
{
    switch (s->state) {
    case RTSP_OPTIONS:
        s->use_get_parameter = rtsp_list_has(r->publics, "GET_PARAMETER");
        s->state = RTSP_DESCRIBE;
        rtsp_request_or_fail(s, "DESCRIBE", s->url_str, "Accept: application/sdp\r\n");
        break;
    case RTSP_DESCRIBE:
        on_describe(s, r);
        break;
    case RTSP_SETUP:
        on_setup(s, r);
        break;
    case RTSP_PLAY:
        on_play(s);
        break;
    default:
        break;
    }
}
