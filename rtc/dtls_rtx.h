/* SPDX-License-Identifier: MIT */
/* dtls_rtx.h: the DTLS flight retransmission schedule shared by the egress server and the
 * load generator's client, as an OpenSSL DTLS_timer_cb (OpenSSL >= 1.1.1). */
#ifndef RINGCAST_DTLS_RTX_H
#define RINGCAST_DTLS_RTX_H

#include <openssl/ssl.h>

/* First retransmission of a lost flight, then doubling up to the cap. RFC 6347 4.2.4.1
 * suggests 1 s, OpenSSL's default, but a viewer waits for its first frame meanwhile and a
 * flight has a fair chance of being lost on a lossy path; browsers start lower as well. The
 * cap keeps retrying every second until the handshake deadline (a first frame waits on
 * the longest gap: at 10 % loss a 2 s cap left 1 viewer in 300 past 4 s). */
#define DTLS_RTX_FIRST_US 250000u
#define DTLS_RTX_MAX_US   1000000u

/* OpenSSL calls this with the previous interval, 0 for a new flight; it returns the next. */
static inline unsigned int dtls_rtx_next_us(SSL *ssl, unsigned int timer_us)
{
    (void)ssl;
    if (timer_us == 0)
        return DTLS_RTX_FIRST_US;
    return timer_us >= DTLS_RTX_MAX_US / 2 ? DTLS_RTX_MAX_US : 2 * timer_us;
}

#endif
