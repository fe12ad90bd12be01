/* SPDX-License-Identifier: MIT */
/* rtsp_url.h: rtsp:// URLs: parsed into their parts (percent-decoded credentials), written
 * back without userinfo, and credentials cut out of any text. Below the roles because the
 * config keeps each source's redacted form for the status reports; no I/O, no allocation. */
#ifndef RINGCAST_RTSP_URL_H
#define RINGCAST_RTSP_URL_H

#include <stddef.h>
#include <stdint.h>

#define RTSP_URL_MAX  1024
#define RTSP_CRED_MAX 128

struct rtsp_url {
    char user[RTSP_CRED_MAX]; /* percent-decoded; empty if absent */
    char pass[RTSP_CRED_MAX];
    char host[256];          /* without brackets for IPv6 */
    uint16_t port;           /* 554 if absent */
    char path[RTSP_URL_MAX]; /* "/..." including any query; "/" if absent */
};

/* Parses rtsp://[user[:pass]@]host[:port][/path]. 0 or -EINVAL. */
int rtsp_url_parse(struct rtsp_url *u, const char *s);
/* Writes the URL without userinfo ("rtsp://host:port/path"): what requests and logs use.
 * Returns 0 or -ENAMETOOLONG. */
int rtsp_url_format(const struct rtsp_url *u, char *out, size_t outlen);
/* Copies s into out with any userinfo replaced by nothing, for log lines. Never fails:
 * truncates. Works on any string that may hold a URL. */
void rtsp_url_redact(const char *s, char *out, size_t outlen);
/* Copies a configured source for the status reports: an rtsp:// URL as the ingest parses it,
 * without userinfo (one parser decides where the password ends), or hidden whole if it does
 * not parse; other sources unchanged. Never fails: truncates. */
void rtsp_url_source_redact(const char *src, char *out, size_t outlen);

#endif
