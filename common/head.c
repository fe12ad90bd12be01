/* SPDX-License-Identifier: MIT */
/* head.c: the end of an HTTP or RTSP message head and the status codes' reason phrases, shared
 * by the HTTP server (httpd.c) and the RTSP messages (rtsp/msg.c). */
#include "common/head.h"

#include <errno.h>

long head_end(const uint8_t *p, size_t len, size_t max)
{
    size_t lim = len < max ? len : max;
    for (size_t i = 0; i < lim; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < lim && p[i + 1] == '\n')
            return (long)(i + 2);
        if (i + 2 < lim && p[i + 1] == '\r' && p[i + 2] == '\n')
            return (long)(i + 3);
    }
    return len >= max ? -EMSGSIZE : 0;
}

const char *head_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 431:
        return "Request Header Fields Too Large";
    case 454:
        return "Session Not Found";
    case 455:
        return "Method Not Valid in This State";
    case 459:
        return "Aggregate Operation Not Allowed";
    case 461:
        return "Unsupported Transport";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}
