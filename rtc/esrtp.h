/* SPDX-License-Identifier: MIT */
/* esrtp.h: the project's own SRTP ("e" keeps it clear of libsrtp2's srtp_ names, which the
 * tests link as the independent peer): a viewer's SRTP/SRTCP state keyed from DTLS-SRTP keying
 * material (RFC 5764 4.2), and which SRTP index each packet sent to it gets (the one place that
 * keeps an index from carrying two different packets). The server protects RTP/RTCP with the server
 * write key and unprotects the viewer's SRTCP with the client write key. AEAD_AES_128_GCM (RFC
 * 7714) and AES_CM_128_HMAC_SHA1_80 (RFC 3711), both on OpenSSL (the HMAC through
 * common/hmac_sha1.h). */
#ifndef RINGCAST_RTC_ESRTP_H
#define RINGCAST_RTC_ESRTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* DTLS-SRTP keying material (RFC 5764 4.2): client key | server key | client salt |
 * server salt. 2 * (16 + 14) for AES_CM_128_HMAC_SHA1_80, 2 * (16 + 12) for AES-GCM. */
#define ESRTP_KEYING_MAX 60

/* DTLS-SRTP protection profile ids (IANA), as OpenSSL's SSL_get_selected_srtp_profile()->id
 * reports them: passed through unchanged. */
enum esrtp_profile {
    ESRTP_AES128_CM_SHA1_80 = 0x0001,
    ESRTP_AEAD_AES_128_GCM = 0x0007,
};

/* Bytes of keying material to export with SSL_export_keying_material(...,
 * "EXTRACTOR-dtls_srtp", ...) for a profile; 0 for an unsupported one. */
size_t esrtp_keying_len(uint16_t profile);

/* ---- packet indexes (RFC 3711 3.3.1: index = ROC << 16 | SEQ, 48 bits) ----
 *
 * The invariant: an SRTP index, once used for a packet, is only ever used again for the very
 * same packet bytes (a NACK's retransmission). Two different packets under one index reuse the
 * keystream (AES-CM) or the nonce (AES-GCM, RFC 7714 8.1: which also gives away the GHASH key,
 * so forgeries). Everything that decides a packet's index is in this section:
 * - The send path numbers packets by the ring's global packet number: within one numbering,
 *   index = global + delta (mod 2^48) is a bijection, and global number g is always packet
 *   g - first_pkt of the one frame holding it, whose packetization the send path checks against
 *   the ring's count (a worker packetizing at another MTU would shift packets onto the next
 *   frame's numbers; send.c drops such frames).
 * - When the numbering changes (a replaced ring starts again, usually at 0), the next packet
 *   continues at last + 1, and no index at or below last is served any more (floor).
 * - A retransmission is served only for an index already sent, not older than the floor, and
 *   is rebuilt from the ring with the header it had (send.c recomputes catch-up timestamps).
 * All arithmetic is modular: the ring's numbering may restart below the old one. The record is
 * plain fixed-size fields (part of the viewer's record). */
struct esrtp_index {
    uint64_t delta;   /* index = global + delta (mod 2^48), once started */
    uint64_t last;    /* the newest index sent */
    uint64_t floor;   /* the oldest index a retransmission may carry */
    uint16_t seq0;    /* before the first packet: its SEQ = global + seq0 (random, RFC 3550) */
    uint8_t started;  /* delta, last and floor are set */
    uint8_t renumber; /* the global numbering changed: the next packet continues at last + 1 */
    uint8_t pad[4];
};

#define ESRTP_INDEX_MASK ((1ull << 48) - 1)

/* A new track's indexes: the first packet gets ROC 0 and SEQ = global + seq0 (mod 2^16). */
void esrtp_index_init(struct esrtp_index *x, uint16_t seq0);
/* The index of global packet number global, to protect it with (its SEQ is the low 16 bits).
 * The first packet (and the first after esrtp_index_renumber) fixes the mapping. Returns 0
 * and *index, or -ERANGE for a packet older than the floor (of a numbering since replaced). */
int esrtp_index_for(struct esrtp_index *x, uint64_t global, uint64_t *index);
/* The global numbering changes (a replaced ring): nothing is served until the next packet,
 * which continues the indexes; older ones are never served again. */
void esrtp_index_renumber(struct esrtp_index *x);
/* A NACKed SEQ: 0 and *global16 (the 16-bit global packet number to find in the ring) if it
 * names an index already sent, not older than the floor and at most max_age behind the newest;
 * else -ERANGE. */
int esrtp_index_nacked(const struct esrtp_index *x, uint16_t seq, uint32_t max_age,
                       uint16_t *global16);

/* ---- a successor resuming a dead sender's indexes (a restarted worker adopting a viewer) ----
 * The successor has the predecessor's struct esrtp_index as recorded at some moment, and
 * learns from the ring the global numbers the predecessor may have numbered since: all of them
 * lie in [g_lo, g_hi), where g_lo is no newer than any packet it could still number when the
 * record was taken, and g_hi the first global number its ring position had not reached.
 * Within one numbering the indexes it used are then at most g_hi - 1 + delta; after a pending
 * renumber (or before its first packet) they are at most the span above the first one. The
 * successor continues strictly above that bound with a new numbering (nothing at or below it
 * is ever served again), so no index carries two packets across the restart either. The
 * jump the viewer sees must stay below 2^15 for its rollover-counter estimate (RFC 3711
 * 3.3.1): a larger one refuses the record. */
#define ESRTP_RESUME_MAX (1u << 15)

/* The highest index the predecessor may have used: 0 and *above, or -ERANGE when the ring
 * does not match the record (a span that is negative or too wide). */
int esrtp_index_bound(const struct esrtp_index *x, uint64_t g_lo, uint64_t g_hi, uint64_t *above);
/* Continues a numbering above index above: the next packet gets above + 1 and becomes the
 * retransmission floor. */
void esrtp_index_resume(struct esrtp_index *x, uint64_t above);

/* Bytes protect may append after the packet: a tag of at most 16 bytes and the SRTCP
 * index word (no MKI is ever negotiated by WebRTC). */
#define ESRTP_TRAILER_MAX 32

#define ESRTP_KEY_LEN  16
#define ESRTP_SALT_CM  14
#define ESRTP_SALT_GCM 12
#define ESRTP_AUTH_LEN 20 /* HMAC-SHA1 key */

struct esrtp;

/* One direction's session keys (RFC 3711 4.3): the cipher key, the salt (its first 12 bytes
 * for GCM, 14 for CM) and, for CM, the HMAC-SHA1 key. */
struct esrtp_keys {
    uint8_t key[ESRTP_KEY_LEN];
    uint8_t salt[ESRTP_SALT_CM];
    uint8_t auth[ESRTP_AUTH_LEN];
};

/* Creates the process-wide RTCP and KDF cipher contexts once (later calls are no-ops).
 * 0, -ENOMEM or -EIO. */
int esrtp_global_init(void);

/* Creates the contexts for profile (enum esrtp_profile) from keying material of
 * esrtp_keying_len(profile) bytes. 0 and *out, -EPROTONOSUPPORT, -EINVAL or -ENOMEM. */
int esrtp_create(struct esrtp **out, uint16_t profile, const uint8_t *keying, size_t len);
/* The KDF of RFC 3711 4.3.1 (key_derivation_rate 0; RFC 7714 11 for GCM): the SRTP (rtp,
 * optional) and SRTCP session keys of one direction from its master key (ESRTP_KEY_LEN bytes)
 * and master salt (ESRTP_SALT_GCM or ESRTP_SALT_CM). 0, -EPROTONOSUPPORT or -EIO. */
int esrtp_derive_keys(struct esrtp_keys *rtp, struct esrtp_keys *rtcp, uint16_t profile,
                      const uint8_t *mkey, const uint8_t *msalt);
/* What esrtp_create does after the KDF (the RFC 7714 test vectors give session keys): rtp and
 * rtcp_tx protect what we send, rtcp_rx unprotects what we receive. Copies the keys. 0 and
 * *out, -EPROTONOSUPPORT, -ENOMEM or -EIO. */
int esrtp_create_keyed(struct esrtp **out, uint16_t profile, const struct esrtp_keys *rtp,
                       const struct esrtp_keys *rtcp_tx, const struct esrtp_keys *rtcp_rx);
/* Tolerates NULL. */
void esrtp_free(struct esrtp *s);

/* Protects one RTP packet: pkt holds its header (hdr_len bytes, 4-byte aligned); the payload
 * is gathered from pl[0..n) and written encrypted after it, then the tag. pkt needs room for
 * hdr_len + payload + ESRTP_TRAILER_MAX. index is the packet index (RFC 3711 3.3.1: ROC << 16
 * | SEQ), the same for a retransmission, which then yields the identical datagram. Returns
 * the protected length or -EIO. */
int esrtp_protect_rtp(struct esrtp *s, uint8_t *pkt, size_t hdr_len, const struct iovec *pl,
                      unsigned n, uint64_t index);
/* Protects one RTCP compound packet in place (SRTCP, RFC 3711 3.4, RFC 7714 9). Returns the
 * protected length or -EIO. */
int esrtp_protect_rtcp(struct esrtp *s, uint8_t *pkt, size_t len);
/* Authenticates and decrypts an SRTCP packet from the viewer in place. Returns the plain
 * length, or -EBADMSG (bad tag, replay, malformed). */
int esrtp_unprotect_rtcp(struct esrtp *s, uint8_t *pkt, size_t len);

/* ---- receiving RTP (a WHIP ingest: the publisher's SRTP) ----
 * The peer's RTP is decrypted with keys of its own (the DTLS client's write key: labels 0-2
 * of the client master key, RFC 5764 4.2), kept in a cipher context of their own, keyed once.
 * Each sender SSRC gets a rollover counter estimated as RFC 3711 3.3.1 and Appendix A say and
 * a replay window (3.3.2) of ESRTP_RX_WINDOW packets: a retransmission the ingest asked for
 * (NACK, up to its 150 ms reorder deadline) can be more than 64 packets old from about 4 Mbit/s up
 * (64 packets of 1200 bytes in 150 ms), 313 at 20 Mbit/s, and is not a replay. ESRTP_RX_SOURCES of
 * them are tracked, a new SSRC beyond that takes the slot least recently used. */
#define ESRTP_RX_SOURCES 4
#define ESRTP_RX_WINDOW  512 /* a multiple of 64; 150 ms at 32 Mbit/s of 1200-byte packets */

/* Enables esrtp_unprotect_rtp on s with the client's RTP keys from keying, the material
 * esrtp_create took. 0, -EINVAL, -ENOMEM or -EIO. */
int esrtp_rtp_rx_start(struct esrtp *s, const uint8_t *keying, size_t len);
/* The same with session keys given (the RFC test vectors give session keys). */
int esrtp_rtp_rx_keyed(struct esrtp *s, const struct esrtp_keys *k);
/* Authenticates and decrypts one SRTP packet in place (header, CSRCs and header extension
 * stay as they were). Returns the plain length, or -EBADMSG (not RTP, too short, bad tag,
 * a replay or a packet older than the replay window), -ENOTCONN before rx was started. */
int esrtp_unprotect_rtp(struct esrtp *s, uint8_t *pkt, size_t len);

#endif
