/* srtp.h: a viewer's SRTP/SRTCP state keyed from DTLS-SRTP keying material (RFC 5764 4.2).
 * The server protects RTP/RTCP with the server write key and unprotects the viewer's SRTCP
 * with the client write key. AEAD_AES_128_GCM (RFC 7714) and AES_CM_128_HMAC_SHA1_80
 * (RFC 3711), both on OpenSSL (the HMAC through common/hmac_sha1.h). */
#ifndef RINGCAST_EGRESS_SRTP_H
#define RINGCAST_EGRESS_SRTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Bytes protect may append after the packet: a tag of at most 16 bytes and the SRTCP
 * index word (no MKI is ever negotiated by WebRTC). */
#define ESRTP_TRAILER_MAX 32

struct media_srtp;

/* Creates the process-wide RTCP and KDF cipher contexts once (later calls are no-ops).
 * 0, -ENOMEM or -EIO. */
int esrtp_global_init(void);

/* Creates the contexts for profile (enum media_srtp_profile) from keying material of
 * media_srtp_keying_len(profile) bytes. 0 and *out, -EPROTONOSUPPORT, -EINVAL or -ENOMEM. */
int esrtp_create(struct media_srtp **out, uint16_t profile, const uint8_t *keying, size_t len);
/* Tolerates NULL. */
void esrtp_free(struct media_srtp *s);

/* Protects one RTP packet: pkt holds its header (hdr_len bytes, 4-byte aligned); the payload
 * is gathered from pl[0..n) and written encrypted after it, then the tag. pkt needs room for
 * hdr_len + payload + ESRTP_TRAILER_MAX. index is the packet index (RFC 3711 3.3.1: ROC << 16
 * | SEQ), the same for a retransmission, which then yields the identical datagram. Returns
 * the protected length or -EIO. */
int esrtp_protect_rtp(struct media_srtp *s, uint8_t *pkt, size_t hdr_len, const struct iovec *pl,
                      unsigned n, uint64_t index);
/* Protects one RTCP compound packet in place (SRTCP, RFC 3711 3.4, RFC 7714 9). Returns the
 * protected length or -EIO. */
int esrtp_protect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len);
/* Authenticates and decrypts an SRTCP packet from the viewer in place. Returns the plain
 * length, or -EBADMSG (bad tag, replay, malformed). */
int esrtp_unprotect_rtcp(struct media_srtp *s, uint8_t *pkt, size_t len);

#endif
