/* SPDX-License-Identifier: MIT */
/* test_loadgen.c: the load generator's pure parts (tools/loadgen, compiled in here since
 * tools are not in the library): HTTP response parsing, offer/answer (a real pion answer),
 * RTP header and sequence accounting, first-keyframe detection (its RTCP is codec/rtcp's,
 * tested in test_rtcp), STUN checks round-tripped through libre's codec, and the /proc
 * sampling of a process tree (this test and a child it forks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <re.h>

#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_http.c"
#include "tools/loadgen/lg_proc.c"
#include "tools/loadgen/lg_rtp.c"
#include "tools/loadgen/lg_sdp.c"
#include "tools/loadgen/lg_stun.c"

#define S(x) (const uint8_t *)(x), strlen(x)

static void test_http_complete_and_partial(void **st)
{
    (void)st;
    const char *r = "HTTP/1.1 201 Created\r\nContent-Type: application/sdp\r\n"
                    "Location: /bench/whep/abc\r\nContent-Length: 5\r\n\r\nv=0\r\n";
    struct lg_http_resp h;
    assert_int_equal(lg_http_parse_response(S(r), &h), 1);
    assert_int_equal(h.status, 201);
    assert_int_equal(h.clen, 5);
    assert_string_equal(h.location, "/bench/whep/abc");
    assert_memory_equal(r + h.hdr_len, "v=0\r\n", 5);
    /* Every proper prefix needs more bytes. */
    for (size_t n = 0; n < strlen(r); n++)
        assert_int_equal(lg_http_parse_response((const uint8_t *)r, n, &h), 0);
    /* No Content-Length: complete headers, body to EOF. */
    assert_int_equal(lg_http_parse_response(S("HTTP/1.0 200 OK\n\nbody"), &h), 1);
    assert_int_equal(h.has_clen, 0);
}

static void test_http_rejects(void **st)
{
    (void)st;
    struct lg_http_resp h;
    assert_int_equal(lg_http_parse_response(S("HTTX/1.1 200 OK\r\n\r\n"), &h), -EBADMSG);
    assert_int_equal(lg_http_parse_response(S("HTTP/1.1 2x0 OK\r\n\r\n"), &h), -EBADMSG);
    assert_int_equal(lg_http_parse_response(S("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n"), &h),
                     -EBADMSG);
    assert_int_equal(
        lg_http_parse_response(S("HTTP/1.1 200 OK\r\nContent-Length: 4294967297\r\n\r\n"), &h),
        -EMSGSIZE);
    assert_int_equal(
        lg_http_parse_response(
            S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), &h),
        -EBADMSG);
    assert_int_equal(
        lg_http_parse_response(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), &h),
        -EBADMSG);
    assert_int_equal(lg_http_parse_response(S("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), &h),
                     -EBADMSG);
}

/* A WHEP server behind a load balancer answers with an absolute Location on itself: the DELETE
 * goes there, not to the balancer. */
static void test_http_url_split(void **st)
{
    (void)st;
    struct lg_http_url u;
    assert_int_equal(lg_http_url_split("http://127.0.0.12:8889/a/whep/1", &u), 0);
    assert_string_equal(u.host, "127.0.0.12");
    assert_int_equal(u.port, 8889);
    assert_string_equal(u.path, "/a/whep/1");
    assert_int_equal(lg_http_url_split("http://edge3/x", &u), 0);
    assert_string_equal(u.host, "edge3");
    assert_int_equal(u.port, 80);
    assert_int_equal(lg_http_url_split("/whep/1", &u), 0);
    assert_string_equal(u.host, "");
    assert_string_equal(u.path, "/whep/1");
    assert_int_equal(lg_http_url_split("https://edge3/x", &u), -EPROTONOSUPPORT);
    assert_int_equal(lg_http_url_split("whep/1", &u), -EINVAL);
    assert_int_equal(lg_http_url_split("http://host", &u), -EINVAL);
    assert_int_equal(lg_http_url_split("http://:80/x", &u), -EINVAL);
    assert_int_equal(lg_http_url_split("http://h:/x", &u), -EINVAL);
    assert_int_equal(lg_http_url_split("http://h:65536/x", &u), -EINVAL);
    assert_int_equal(lg_http_url_split("http://h:8o/x", &u), -EINVAL);
    char long_path[LG_HTTP_LOCATION_MAX + 2];
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    assert_int_equal(lg_http_url_split(long_path, &u), -EINVAL);
}

/* An answer as pion v3.1.56 (../shared/bench whepsrv) produced it for our offer. */
static const char pion_answer[] =
    "v=0\r\no=- 4651548415566460345 1795561172 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "a=fingerprint:sha-256 "
    "E3:29:EA:6F:14:7E:3A:B4:FE:4F:B2:3F:96:46:67:59:EE:13:BD:5C:41:2F:5E:5D:57:4C:05:CB:17:77:CA:"
    "CB\r\n"
    "a=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
    "a=setup:active\r\na=mid:0\r\na=ice-ufrag:DlDsXdSnGnzNRCXs\r\n"
    "a=ice-pwd:MzenxNNZYycYsVwUjBoweArljCbKxacU\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtcp-fb:96 nack \r\na=rtcp-fb:96 nack pli\r\na=ssrc:4158425553 cname:bench\r\n"
    "a=sendonly\r\n"
    "a=candidate:2878742611 1 udp 2130706431 127.0.0.1 8189 typ host\r\n"
    "a=candidate:2878742611 2 udp 2130706431 127.0.0.1 8189 typ host\r\n"
    "a=end-of-candidates\r\n";

static void test_sdp_pion_answer(void **st)
{
    (void)st;
    struct lg_answer a;
    assert_int_equal(lg_sdp_parse_answer(S(pion_answer), &a), 0);
    assert_string_equal(a.ice_ufrag, "DlDsXdSnGnzNRCXs");
    assert_string_equal(a.ice_pwd, "MzenxNNZYycYsVwUjBoweArljCbKxacU");
    assert_int_equal(a.fingerprint[0], 0xE3);
    assert_int_equal(a.fingerprint[31], 0xCB);
    assert_int_equal(a.setup, LG_SETUP_ACTIVE);
    assert_int_equal(a.h264_pt, 96);
    assert_int_equal(a.has_cand, 1);
    assert_int_equal(ntohs(a.cand.sin_port), 8189);
    assert_int_equal(ntohl(a.cand.sin_addr.s_addr), 0x7f000001);
}

static void test_sdp_answer_rejects(void **st)
{
    (void)st;
    struct lg_answer a;
    char buf[4096];
    /* Without the fingerprint line. */
    const char *fp = strstr(pion_answer, "a=fingerprint");
    const char *fp_end = strstr(fp, "\r\n") + 2;
    snprintf(buf, sizeof(buf), "%.*s%s", (int)(fp - pion_answer), pion_answer, fp_end);
    assert_int_equal(lg_sdp_parse_answer(S(buf), &a), -EBADMSG);
    /* Rejected video section (port 0). */
    const char *m = strstr(pion_answer, "m=video 9");
    snprintf(buf, sizeof(buf), "%.*sm=video 0%s", (int)(m - pion_answer), pion_answer, m + 9);
    assert_int_equal(lg_sdp_parse_answer(S(buf), &a), -EBADMSG);
    /* A bad ice-char in the password. */
    const char *pw = strstr(pion_answer, "MzenxNN");
    snprintf(buf, sizeof(buf), "%.*s Mzen%s", (int)(pw - pion_answer), pion_answer, pw + 4);
    assert_int_equal(lg_sdp_parse_answer(S(buf), &a), -EBADMSG);
    /* No candidates and c=0.0.0.0: nowhere to send checks. */
    const char *c = strstr(pion_answer, "a=candidate");
    snprintf(buf, sizeof(buf), "%.*s", (int)(c - pion_answer), pion_answer);
    assert_int_equal(lg_sdp_parse_answer(S(buf), &a), -EBADMSG);
}

static void test_sdp_answer_connection_fallback(void **st)
{
    (void)st;
    const char *ans = "v=0\r\ns=-\r\na=ice-lite\r\na=ice-ufrag:abcd\r\n"
                      "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
                      "a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:"
                      "12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n"
                      "m=video 8189 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 127.0.0.2\r\n"
                      "a=rtpmap:102 h264/90000\r\na=setup:passive"; /* no final CRLF */
    struct lg_answer a;
    assert_int_equal(lg_sdp_parse_answer(S(ans), &a), 0);
    assert_int_equal(a.ice_lite, 1);
    assert_int_equal(a.h264_pt, 102);
    assert_int_equal(a.setup, LG_SETUP_PASSIVE);
    assert_int_equal(ntohl(a.cand.sin_addr.s_addr), 0x7f000002);
    assert_int_equal(ntohs(a.cand.sin_port), 8189);
    assert_int_equal(a.fingerprint[31], 0x1f);
}

/* ringcast's answer with ICE-TCP on: --tcp connects to the passive TCP candidate, which
 * comes after the UDP one and has the same address; an active one is no place to connect. */
static void test_sdp_answer_tcp_candidate(void **st)
{
    (void)st;
    char buf[4096];
    const char *c = strstr(pion_answer, "a=end-of-candidates");
    snprintf(buf, sizeof(buf),
             "%.*sa=candidate:3 1 tcp 1518280447 127.0.0.9 9 typ host tcptype active\r\n"
             "a=candidate:4 1 tcp 1518280447 127.0.0.1 8190 typ host tcptype passive\r\n"
             "a=candidate:5 1 tcp 1518280447 127.0.0.2 8191 typ host tcptype passive\r\n%s",
             (int)(c - pion_answer), pion_answer, c);
    struct lg_answer a;
    assert_int_equal(lg_sdp_parse_answer(S(buf), &a), 0);
    assert_int_equal(ntohs(a.cand.sin_port), 8189);
    assert_int_equal(a.has_tcp_cand, 1);
    assert_int_equal(ntohs(a.tcp_cand.sin_port), 8190);
    assert_int_equal(ntohl(a.tcp_cand.sin_addr.s_addr), 0x7f000001);
    assert_int_equal(lg_sdp_parse_answer(S(pion_answer), &a), 0);
    assert_int_equal(a.has_tcp_cand, 0);
}

static void test_sdp_offer_decodes_with_libre(void **st)
{
    (void)st;
    char offer[4096];
    struct lg_offer_params p = {"ufrg",
                                "0123456789abcdefghijkl",
                                "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:"
                                "15:16:17:18:19:1A:1B:1C:1D:1E:1F",
                                "127.0.0.1",
                                40000,
                                7,
                                0};
    int n = lg_sdp_offer(&p, offer, sizeof(offer));
    assert_true(n > 0);
    assert_int_equal(lg_sdp_offer(&p, offer, 100), -ENOSPC);
    /* An independent parser reads it as one video section with our attributes. */
    struct sdp_session *sess = NULL;
    struct sa laddr;
    sa_set_str(&laddr, "127.0.0.1", 0);
    assert_int_equal(sdp_session_alloc(&sess, &laddr), 0);
    struct mbuf *mb = mbuf_alloc(n);
    mbuf_write_mem(mb, (const uint8_t *)offer, (size_t)n);
    mb->pos = 0;
    assert_int_equal(sdp_decode(sess, mb, true), 0);
    const struct list *ml = sdp_session_medial(sess, false);
    assert_int_equal(list_count(ml), 1);
    const struct sdp_media *m = list_ledata(list_head(ml));
    assert_string_equal(sdp_media_name(m), "video");
    assert_string_equal(sdp_media_rattr(m, "ice-ufrag"), "ufrg");
    assert_string_equal(sdp_media_rattr(m, "setup"), "active");
    assert_non_null(sdp_media_rattr(m, "rtcp-mux"));
    assert_int_equal(sdp_media_rport(m), 40000);
    mem_deref(mb);
    mem_deref(sess);
}

static size_t rtp_pkt(uint8_t *b, uint16_t seq, uint32_t ts, int marker, const uint8_t *pl,
                      size_t n)
{
    b[0] = 0x80;
    b[1] = (uint8_t)((marker ? 0x80 : 0) | 96);
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    b[4] = (uint8_t)(ts >> 24);
    b[5] = (uint8_t)(ts >> 16);
    b[6] = (uint8_t)(ts >> 8);
    b[7] = (uint8_t)ts;
    memset(b + 8, 0x11, 4);
    memcpy(b + 12, pl, n);
    return 12 + n;
}

static void test_rtp_parse(void **st)
{
    (void)st;
    uint8_t b[64];
    struct lg_rtp_hdr h;
    size_t n = rtp_pkt(b, 65535, 90000, 1, (const uint8_t *)"\x65", 1);
    assert_int_equal(lg_rtp_parse(b, n, &h), 0);
    assert_int_equal(h.seq, 65535);
    assert_int_equal(h.ts, 90000);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.pt, 96);
    assert_int_equal(h.hdr_len, 12);
    /* One CSRC and a one-word extension: header is 12 + 4 + 4 + 4. */
    uint8_t x[32] = {0x91, 96, 0, 1, 0,    0,    0, 0, 1, 2, 3, 4,
                     9,    9,  9, 9, 0xbe, 0xde, 0, 1, 1, 2, 3, 4};
    assert_int_equal(lg_rtp_parse(x, 25, &h), 0);
    assert_int_equal(h.hdr_len, 24);
    assert_int_equal(lg_rtp_parse(x, 23, &h), -EBADMSG); /* extension runs past the end */
    x[19] = 200;
    assert_int_equal(lg_rtp_parse(x, 32, &h), -EBADMSG);
    assert_int_equal(lg_rtp_parse(b, 11, &h), -EBADMSG);
    b[0] = 0x40;
    assert_int_equal(lg_rtp_parse(b, n, &h), -EBADMSG);
}

static void test_seq_accounting(void **st)
{
    (void)st;
    struct lg_seq s;
    memset(&s, 0, sizeof(s));
    /* 65533, 65534, (65535 lost), 0, 1, then 65535 late, then 1 again (duplicate). */
    assert_int_equal(lg_seq_update(&s, 65533), LG_SEQ_NEW);
    assert_int_equal(lg_seq_update(&s, 65534), LG_SEQ_NEW);
    assert_int_equal(lg_seq_update(&s, 0), LG_SEQ_NEW);
    assert_int_equal(lg_seq_update(&s, 1), LG_SEQ_NEW);
    assert_int_equal(lg_seq_expected(&s), 5);
    assert_int_equal(s.unique, 4);
    assert_int_equal(lg_seq_peek(&s, 65535), LG_SEQ_LATE);
    assert_int_equal(lg_seq_update(&s, 65535), LG_SEQ_LATE);
    assert_int_equal(lg_seq_update(&s, 1), LG_SEQ_DUP);
    assert_int_equal(s.unique, 5);
    assert_int_equal(s.dups, 1);
    assert_int_equal(s.late, 1);
    /* A jump beyond the window forgets the old bits; an old one is not a duplicate. */
    assert_int_equal(lg_seq_update(&s, 3000), LG_SEQ_NEW);
    assert_int_equal(lg_seq_peek(&s, 0), LG_SEQ_OLD);
    assert_int_equal(lg_seq_peek(&s, 2999), LG_SEQ_LATE);
    assert_int_equal(lg_seq_expected(&s), 3000 + 3 + 1);
}

static void test_keyframe(void **st)
{
    (void)st;
    struct lg_keyframe k;
    memset(&k, 0, sizeof(k));
    uint8_t b[64];
    struct lg_rtp_hdr h;
    /* A P-frame (FU-A of type 1) first: ignored. */
    const uint8_t pfr[] = {0x7c, 0x81, 0};
    size_t n = rtp_pkt(b, 10, 1000, 1, pfr, sizeof(pfr));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
    /* STAP-A with SPS + PPS, then IDR FU-A start, (middle lost), end with marker. */
    const uint8_t stap[] = {0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce};
    const uint8_t fs[] = {0x7c, 0x85, 1}, fm[] = {0x7c, 0x05, 2}, fe[] = {0x7c, 0x45, 3};
    n = rtp_pkt(b, 11, 4000, 0, stap, sizeof(stap));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
    n = rtp_pkt(b, 12, 4000, 0, fs, sizeof(fs));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
    n = rtp_pkt(b, 14, 4000, 1, fe, sizeof(fe));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0); /* 13 missing */
    /* The next frames arrive before 13's retransmission, one of them opening with a STAP-A
     * (SEI + slice): the keyframe is still awaited. */
    n = rtp_pkt(b, 15, 7000, 1, pfr, sizeof(pfr));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
    const uint8_t pstap[] = {0x78, 0, 2, 0x06, 0x05, 0, 2, 0x41, 0x9a};
    n = rtp_pkt(b, 16, 10000, 1, pstap, sizeof(pstap));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
    n = rtp_pkt(b, 13, 4000, 0, fm, sizeof(fm));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 1); /* the fill completes it */
    assert_int_equal(k.done, 1);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
}

static void test_keyframe_needs_idr(void **st)
{
    (void)st;
    struct lg_keyframe k;
    memset(&k, 0, sizeof(k));
    uint8_t b[64];
    struct lg_rtp_hdr h;
    const uint8_t sps[] = {0x67, 0x42}, slice[] = {0x41, 0x9a};
    size_t n = rtp_pkt(b, 1, 9, 0, sps, sizeof(sps));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
    n = rtp_pkt(b, 2, 9, 1, slice, sizeof(slice));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 0);
    const uint8_t idr[] = {0x65, 0x88};
    n = rtp_pkt(b, 3, 12, 1, idr, sizeof(idr));
    lg_rtp_parse(b, n, &h);
    assert_int_equal(lg_keyframe_feed(&k, &h, b + 12, n - 12), 1);
}

static void test_stun_round_trip(void **st)
{
    (void)st;
    uint8_t tid[LG_STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, got[LG_STUN_TID_LEN];
    uint8_t req[512], resp[512];
    struct lg_stun_req r = {tid, "SRVU:CLIU", "server-password-0123456", 1862270975, 42, 1};
    int n = lg_stun_request(req, sizeof(req), &r);
    assert_true(n > 20);
    /* The server's view: its ufrag first, its password. */
    assert_int_equal(lg_stun_check(req, (size_t)n, "SRVU", "server-password-0123456", "x", got),
                     LG_STUN_REQUEST);
    assert_memory_equal(got, tid, sizeof(tid));
    assert_int_equal(lg_stun_check(req, (size_t)n, "SRVU", "wrong-password-000000000", "x", got),
                     -EACCES);
    assert_int_equal(lg_stun_check(req, (size_t)n, "OTHER", "server-password-0123456", "x", got),
                     -EACCES);
    req[n - 1] ^= 1; /* FINGERPRINT no longer matches */
    assert_int_equal(lg_stun_check(req, (size_t)n, "SRVU", "server-password-0123456", "x", got),
                     -EBADMSG);
    assert_int_equal(lg_stun_check(req, 19, "SRVU", "x", "x", got), -EBADMSG);

    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5000)};
    from.sin_addr.s_addr = htonl(0x7f000001);
    int m = lg_stun_success(resp, sizeof(resp), tid, &from, "client-password-0123456");
    assert_true(m > 20);
    assert_int_equal(lg_stun_check(resp, (size_t)m, "CLIU", "x", "client-password-0123456", got),
                     LG_STUN_SUCCESS);
    assert_int_equal(lg_stun_check(resp, (size_t)m, "CLIU", "x", "other-password-00000000", got),
                     -EACCES);
}

static void test_proc_tree(void **st)
{
    (void)st;
    struct lg_proc_tree t;
    assert_int_equal(lg_proc_tree_sample(getpid(), &t), 0);
    assert_int_equal(t.nprocs, 1);
    assert_true(t.pss_mib > 0 && t.rss_mib >= t.pss_mib && t.shm_pss_mib == 0);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(pipefd[1]);
        (void)!read(pipefd[0], &c, 1); /* lives until the parent closes the pipe */
        _exit(0);
    }
    close(pipefd[0]);
    assert_int_equal(lg_proc_tree_sample(getpid(), &t), 0);
    assert_int_equal(t.nprocs, 2); /* the child is counted as a descendant */
    close(pipefd[1]);
    assert_int_equal(waitpid(child, NULL, 0), child);
    assert_int_equal(lg_proc_tree_sample(child, &t), -ESRCH);
    assert_true(lg_proc_udp_rcvbuf_errors() >= 0);
    assert_true(lg_proc_self_cpu_s() >= 0);
}

/* The slow timer's slots: however irregular the calls, every viewer is due exactly once per
 * period of elapsed slots, and a call after a long stall serves everyone at once. */
static void test_slot_due(void **st)
{
    (void)st;
    static const uint64_t gaps[] = {1, 1, 3, 7, 1, 2, 9, 4, 1, 1, 5, 6}; /* sum 41 */
    for (unsigned period = 10; period <= 50; period += 40) {
        unsigned hits[100] = {0};
        uint64_t from = 0;
        for (unsigned r = 0; r < 10; r++) /* 410 slots */
            for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
                for (unsigned i = 0; i < 100; i++)
                    hits[i] += (unsigned)lg_slot_due(i, from, from + gaps[g], period);
                from += gaps[g];
            }
        for (unsigned i = 0; i < 100; i++) {
            unsigned want = 410 / period + (i % period < 410 % period);
            assert_int_equal(hits[i], want);
        }
    }
    for (unsigned i = 0; i < 100; i++)
        assert_true(lg_slot_due(i, 12, 62, 50)); /* 5 s without a call: everyone */
    assert_true(lg_slot_due(3, 3, 4, 50) && !lg_slot_due(4, 3, 4, 50));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_due),
        cmocka_unit_test(test_http_complete_and_partial),
        cmocka_unit_test(test_http_rejects),
        cmocka_unit_test(test_http_url_split),
        cmocka_unit_test(test_sdp_pion_answer),
        cmocka_unit_test(test_sdp_answer_rejects),
        cmocka_unit_test(test_sdp_answer_connection_fallback),
        cmocka_unit_test(test_sdp_answer_tcp_candidate),
        cmocka_unit_test(test_sdp_offer_decodes_with_libre),
        cmocka_unit_test(test_rtp_parse),
        cmocka_unit_test(test_seq_accounting),
        cmocka_unit_test(test_keyframe),
        cmocka_unit_test(test_keyframe_needs_idr),
        cmocka_unit_test(test_stun_round_trip),
        cmocka_unit_test(test_proc_tree),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mem_deref(stun_mb); /* lg_stun.c's reused buffer */
    return rc;
}
