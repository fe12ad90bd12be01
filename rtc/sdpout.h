/* SPDX-License-Identifier: MIT */
/* sdpout.h: the text of an ICE-lite agent's SDP answer, shared by the WHEP answer
 * (egress/sdp_answer) and the WHIP answer (ingest/whip_sdp): the session lines (ICE-lite,
 * fingerprint, BUNDLE), and per m-section the m= and c= lines, a=mid, the direction, the
 * transport attributes (ICE credentials, setup:passive, rtcp-mux: in rejected sections too,
 * aiortc refuses an answer with a section lacking them), the one chosen format's rtpmap,
 * fmtp and rtcp-fb lines, and the host candidates. Into a caller's buffer; no allocation. */
#ifndef RINGCAST_RTC_SDPOUT_H
#define RINGCAST_RTC_SDPOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sdpout {
    char *p;
    size_t cap, len;
    bool full; /* something did not fit: sdpout_end fails */
};

/* Our side of the one transport every answered section shares. */
struct sdpout_transport {
    const char *ufrag, *pwd;
    const char *fingerprint;       /* "sha-256 AB:..." */
    const char *const *candidates; /* IPv4 or IPv6 literals, in order of preference */
    size_t n_candidates;
    uint16_t port;     /* UDP */
    uint16_t tcp_port; /* ICE-TCP passive candidates (RFC 6544), 0 = none */
};

/* One m-section of the answer. */
struct sdpout_media {
    const char *kind;  /* "video", "audio" */
    const char *proto; /* as offered */
    const char *mid;   /* "" without a=mid */
    int pt;            /* the answered format; a rejected section echoes the offer's first */
    bool rejected;     /* port 0, inactive, no format lines or candidates */
    const char *dir;   /* "sendonly" or "recvonly" when accepted */
    const char *encoding;
    unsigned clock_rate, channels; /* channels > 1 goes in the rtpmap line */
    const char *fmtp;              /* NULL or "": none */
    bool nack, pli;                /* RFC 4585 feedback we take part in */
};

void sdpout_init(struct sdpout *o, char *buf, size_t cap);
/* Appends formatted text; once something did not fit nothing more is written. */
void sdpout_put(struct sdpout *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v=, o= (session id), s=, t=, a=ice-lite, a=fingerprint and, when bundle is not NULL,
 * "a=group:BUNDLE" followed by bundle (" 0 1": the accepted sections' mids). */
void sdpout_session(struct sdpout *o, uint64_t session_id, const struct sdpout_transport *t,
                    const char *bundle);
/* The section's lines up to its format's (see the header comment); attributes of the
 * caller's own (extmap, msid, ssrc) may follow, then sdpout_candidates. */
void sdpout_media(struct sdpout *o, const struct sdpout_media *m, const struct sdpout_transport *t);
/* The host candidates (UDP, then TCP passive below them) and a=end-of-candidates. */
void sdpout_candidates(struct sdpout *o, const struct sdpout_transport *t);
/* The text's length (NUL-terminated), or -ENOSPC when it did not fit. */
int sdpout_end(const struct sdpout *o);

#endif
