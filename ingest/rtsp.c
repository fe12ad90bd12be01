/* SPDX-License-Identifier: MIT */
/* rtsp.c: the RTSP pull source as an object: create, start, close, the handles it owns and
 * its freeing once the last one is closed; the one place an attempt's failure is logged and
 * retried with backoff, and the deadline of a connect or a request. */
#include "ingest/rtsp_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* ---- handles ---- */

void rtsp_finish_if_done(struct rtsp_source *s)
{
    if (!s->closing || s->open_handles > 0 || s->gai_busy)
        return;
    void (*done)(void *) = s->done;
    void *arg = s->done_arg;
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++)
        free(s->tracks[i].reorder);
    free(s->udp_buf);
    free(s->rbuf);
    free(s);
    if (done)
        done(arg);
}

void rtsp_handle_gone(struct rtsp_source *s)
{
    s->open_handles--;
    rtsp_finish_if_done(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    rtsp_handle_gone(h->data);
}

void rtsp_close_handle(uv_handle_t *h, uv_close_cb cb)
{
    if (!uv_is_closing(h))
        uv_close(h, cb);
}

/* ---- failures, backoff and deadlines ---- */

static void on_backoff_done(uv_timer_t *t)
{
    struct rtsp_source *s = t->data;
    s->url = s->origin;
    s->redirects = 0;
    rtsp_lower_attempt(&s->lower);
    rtsp_conn_start(s);
}

void rtsp_fail(struct rtsp_source *s, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (s->closing) { /* leaving anyway: no retry, no alarm */
        rtsp_shutdown(s);
        return;
    }
    /* Reasons may quote server text (a Location): credentials never reach the log. */
    char clean[512];
    rtsp_url_redact(reason, clean, sizeof(clean));
    if (s->state == RTSP_PLAYING && rtsp_now_ns(s) - s->play_ns >= RTSP_HEALTHY_MS * 1000000ull)
        s->backoff_ms = RTSP_BACKOFF_MIN_MS;
    uint64_t delay = s->backoff_ms;
    log_warn("rtsp path %s: %s: %s; retrying in %.1f s", s->path, s->url_str, clean,
             (double)delay / 1000.0);
    s->backoff_ms =
        s->backoff_ms * 2 > RTSP_BACKOFF_MAX_MS ? RTSP_BACKOFF_MAX_MS : s->backoff_ms * 2;
    rtsp_session_reset(s);
    (void)uv_timer_start(&s->timer, on_backoff_done, delay, 0);
}

static void on_deadline(uv_timer_t *t)
{
    struct rtsp_source *s = t->data;
    if (s->state == RTSP_TEARDOWN) {
        rtsp_session_teardown_done(s);
        return;
    }
    if (s->state == RTSP_CONNECTING)
        rtsp_fail(s, "connect timed out after %u ms", RTSP_REPLY_TIMEOUT_MS);
    else
        rtsp_fail(s, "no answer to %s within %u ms", s->pending[0] ? s->pending : "request",
                  RTSP_REPLY_TIMEOUT_MS);
}

void rtsp_arm_deadline(struct rtsp_source *s, uint64_t ms)
{
    (void)uv_timer_start(&s->timer, on_deadline, ms, 0);
}

/* ---- lifecycle ---- */

void rtsp_shutdown(struct rtsp_source *s)
{
    rtsp_session_reset(s);
    rtsp_close_handle((uv_handle_t *)&s->timer, on_timer_closed);
    rtsp_close_handle((uv_handle_t *)&s->tick, on_timer_closed);
    rtsp_close_handle((uv_handle_t *)&s->reorder_timer, on_timer_closed);
    rtsp_close_handle((uv_handle_t *)&s->resume, on_timer_closed);
    if (s->gai_busy)
        (void)uv_cancel((uv_req_t *)&s->gai);
}

static int rtsp_start(struct source *base)
{
    struct rtsp_source *s = (struct rtsp_source *)base;
    s->backoff_ms = RTSP_BACKOFF_MIN_MS;
    rtsp_conn_start(s);
    return 0;
}

static void rtsp_close(struct source *base, void (*done)(void *arg), void *arg)
{
    struct rtsp_source *s = (struct rtsp_source *)base;
    s->closing = true;
    s->done = done;
    s->done_arg = arg;
    if (!rtsp_session_teardown_start(s))
        rtsp_shutdown(s);
}

static const struct source_ops rtsp_ops = {
    .kind = "rtsp",
    .start = rtsp_start,
    .close = rtsp_close,
};

int rtsp_source_create(struct source **out, uv_loop_t *loop, struct ingest *ing,
                       const struct config_path *path)
{
    struct rtsp_url u;
    if (rtsp_url_parse(&u, path->source) < 0)
        return -EINVAL;
    struct rtsp_source *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base.ops = &rtsp_ops;
    s->loop = loop;
    s->ing = ing;
    snprintf(s->path, sizeof(s->path), "%s", path->name);
    rtsp_lower_init(&s->lower, path->transport);
    snprintf(s->cfg_user, sizeof(s->cfg_user), "%s", path->username);
    snprintf(s->cfg_pass, sizeof(s->cfg_pass), "%s", path->password);
    s->origin = s->url = u;
    for (unsigned i = 0; i < RING_MAX_TRACKS; i++)
        s->tracks[i].src = s;
    rtsp_url_format(&u, s->url_str, sizeof(s->url_str));
    s->rbuf = malloc(RTSP_RBUF_SIZE);
    if (!s->rbuf) {
        free(s);
        return -ENOMEM;
    }
    if (uv_random(NULL, NULL, &s->own_ssrc, sizeof(s->own_ssrc), 0, NULL) < 0)
        s->own_ssrc = (uint32_t)(uintptr_t)s;
    (void)uv_timer_init(loop, &s->timer);
    (void)uv_timer_init(loop, &s->tick);
    (void)uv_timer_init(loop, &s->reorder_timer);
    (void)uv_timer_init(loop, &s->resume);
    s->timer.data = s->tick.data = s->reorder_timer.data = s->resume.data = s;
    s->open_handles = 4;
    *out = &s->base;
    return 0;
}
