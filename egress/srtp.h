/* srtp.h: a viewer's SRTP/SRTCP contexts (libsrtp2) keyed from DTLS-SRTP keying material
 * (RFC 5764 4.2). The server protects RTP/RTCP with the server write key and unprotects the
 * viewer's SRTCP with the client write key. AEAD_AES_128_GCM (RFC 7714) is preferred. */
#ifndef RINGCAST_EGRESS_SRTP_H
#define RINGCAST_EGRESS_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* Bytes protect may append after the packet (tag, SRTCP index): keep this much room. */
#define ESRTP_TRAILER_MAX 148

struct media_srtp;

/* Initialises libsrtp2 once per process (later calls are no-ops). 0 or -EIO. */
int esrtp_global_init(void);

/* Creates the contexts for profile (enum media_srtp_profile) from keying material of
 * media_srtp_keying_len(profile) bytes. 0 and *out, -EPROTONOSUPPORT, -EINVAL or -ENOMEM. */
int esrtp_create(struct media_srtp **out, uint16_t profile, const uint8_t *keying, size_t len);
/* Tolerates NULL. */
void esrtp_free(struct media_srtp *s);

/* Protects the RTP packet pkt[0..len) in place; pkt must have ESRTP_TRAILER_MAX bytes of
 * room after len and be 4-byte aligned. The same sequence number may be protected again (a
 * retransmission of identical bytes). Returns the protected length or -EIO. */
int esrtp_protect_rtp(struct media_srtp *s, uint8_t *pkt, size_t len);
/* The same for one RTCP compound packet (SRTCP, RFC 3711 3.4). */
int esrtp_protect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len);
/* Authenticates and decrypts an SRTCP packet from the viewer in place. Returns the plain
 * length, or -EBADMSG (bad tag, replay, malformed). */
int esrtp_unprotect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len);

#endif
