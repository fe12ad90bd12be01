/* SPDX-License-Identifier: MIT */
/* whep.c: HTTP routes of an egress worker. POST turns an offer into a session (viewer
 * record + answer) unless the node drains; DELETE ends one here or forwards it to the owning
 * worker; everything else is the player page, CORS preflight, the load balancer's health check
 * and the JSON reports (behind api_token when set).
 * Each refusal is one log line naming the client and path, and a one-line reason in the body. */
#include "egress/whep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "common/iceservers.h"
#include "common/log.h"
#include "egress/whipfwd.h"
#include "egress/worker.h"
#include "shm/health.h"
#include "shm/status.h"

#define WHEP_STATUS_MAX (128u * 1024)

/* A parsed request target: /<path>, /<path>/whep or /<path>/whep/<session>, and the same
 * with whip (RFC 9725: a publisher's endpoint and session). */
struct whep_target {
    char path[CONFIG_NAME_MAX];
    char session[VIEWER_SESSION_LEN + 8];
    int is_whep;     /* /<path>/whep[/...] or /<path>/whip[/...] */
    int is_whip;     /* the latter */
    int has_session; /* /<path>/whe?p/<session> */
};

static int whep_parse_target(const char *url, struct whep_target *t)
{
    memset(t, 0, sizeof(*t));
    const char *p = url + 1, *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= sizeof(t->path))
        return -ENOENT;
    memcpy(t->path, p, n);
    t->path[n] = '\0';
    if (!config_path_name_valid(t->path))
        return -ENOENT;
    if (!slash || slash[1] == '\0')
        return 0;
    if ((strncmp(slash, "/whep", 5) != 0 && strncmp(slash, "/whip", 5) != 0) ||
        (slash[5] != '\0' && slash[5] != '/'))
        return -ENOENT;
    t->is_whep = 1;
    t->is_whip = slash[3] == 'i';
    if (slash[5] == '\0' || slash[6] == '\0')
        return 0;
    if (strlen(slash + 6) >= sizeof(t->session) || strchr(slash + 6, '/'))
        return -ENOENT;
    snprintf(t->session, sizeof(t->session), "%s", slash + 6);
    t->has_session = 1;
    return 0;
}

void whep_refuse(struct httpd_response *res, const struct httpd_request *req, const char *path,
                 int status, const char *reason)
{
    log_info("whep %s: %s %s from %s: %d %s", path[0] ? path : "-", req->method, req->path,
             req->remote, status, reason);
    char *body = malloc(strlen(reason) + 2);
    if (body) {
        snprintf(body, strlen(reason) + 2, "%s\n", reason);
        res->owned = body;
        httpd_set_text(res, status, body);
    } else {
        httpd_set_text(res, status, "\n");
    }
}

int whep_bearer_ok(const struct httpd_request *req, const char *token)
{
    const char *auth = req->authorization;
    unsigned diff = strncasecmp(auth, "Bearer ", 7) != 0;
    if (!diff) {
        const char *got = auth + 7;
        size_t gl = strlen(got), wl = strlen(token);
        diff = gl != wl;
        for (size_t i = 0; i < wl; i++)
            diff |= (unsigned)(got[i < gl ? i : 0] ^ token[i]);
    }
    return diff == 0;
}

/* The one bearer check, for a path's read_token (WHEP offers) and the server's api_token (the
 * JSON reports): passes when token is unset or carried; otherwise answers 401. Returns 1 when
 * the request may proceed. */
static int whep_check_bearer(struct httpd_response *res, const struct httpd_request *req,
                             const char *path, const char *token)
{
    if (!token[0] || whep_bearer_ok(req, token))
        return 1;
    httpd_add_header(res, "WWW-Authenticate", "Bearer realm=\"ringcast\"");
    whep_refuse(res, req, path, 401, "missing or wrong bearer token");
    return 0;
}

int whep_is_sdp(const char *ct)
{
    size_t n = strlen("application/sdp");
    return strncasecmp(ct, "application/sdp", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void whep_answer_local(struct worker *w, struct viewer *v, struct answer_local *l)
{
    memset(l, 0, sizeof(*l));
    l->ufrag = v->ufrag;
    l->pwd = v->pwd;
    l->fingerprint = dtlsrv_ctx_fingerprint(w->dtls);
    l->port = w->udp_port;
    l->tcp_port = w->tcp_port;
    for (size_t i = 0; i < w->n_candidates; i++)
        l->candidates[i] = w->candidates[i];
    l->n_candidates = w->n_candidates;
    for (size_t i = 0; i < MEDIA_MAX_TRACKS; i++)
        l->ssrc[i] = v->media.rec.tracks[i].ssrc;
}

static int whep_answer_status(int err)
{
    switch (err) {
    case -ENOMEDIUM:
        return 406;
    case -ENOMEM:
        return 503;
    default:
        return 400;
    }
}

/* Whether ip is exempt from max_setups_per_address: loopback, and the trusted proxies. */
static bool whep_trusted(const struct worker *w, const char *ip)
{
    struct in6_addr a;
    bool v4 = inet_pton(AF_INET, ip, &a) == 1;
    if (!v4 && inet_pton(AF_INET6, ip, &a) != 1)
        return false;
    if (v4 ? ((const uint8_t *)&a)[0] == 127 : IN6_IS_ADDR_LOOPBACK(&a))
        return true;
    return worker_trusted_proxy(w, v4 ? AF_INET : AF_INET6, &a);
}

/* One client address may hold max_setups_per_address sessions that have not started media:
 * a newer offer ends the oldest of them, so a flood of offers cannot fill the worker's table
 * with set-ups that never complete while real viewers keep theirs. */
static void whep_limit_setups(struct worker *w, const char *ip)
{
    if (whep_trusted(w, ip))
        return;
    unsigned pending = 0;
    struct viewer *oldest = NULL;
    for (uint32_t i = 0; i < w->viewers.cap; i++) {
        struct viewer *v = &w->viewers.v[i];
        if (v->state == VIEWER_FREE || v->state == VIEWER_MEDIA || strcmp(v->http_ip, ip) != 0)
            continue;
        pending++;
        if (!oldest || v->created_ns < oldest->created_ns)
            oldest = v;
    }
    if (pending < w->cfg.max_setups_per_address || !oldest)
        return;
    ctl_count(&w->counters->setup_evictions, 1);
    worker_end_session(w, oldest,
                       "set-up dropped for a newer offer from the same address "
                       "(max_setups_per_address)");
}

/* One Link header per ice_servers URL (RFC 9725 4.6): stun: ones bare, turn:/turns: ones with
 * the fixed credentials or, with turn_secret, one REST credential valid for turn_ttl, minted
 * for this response. The credentials are never logged. */
static void whep_ice_links(const struct worker *w, struct httpd_response *res)
{
    struct iceservers_cred rest;
    const char *user = w->cfg.ice_username, *cred = w->cfg.ice_credential;
    if (w->cfg.turn_secret[0]) {
        uint8_t rnd[8] = {0};
        /* The random half only keeps usernames apart; a failed read still yields a
         * valid credential. */
        (void)getrandom(rnd, sizeof(rnd), GRND_NONBLOCK);
        iceservers_rest_cred(&rest, w->cfg.turn_secret, (uint64_t)time(NULL) + w->cfg.turn_ttl,
                             rnd);
        user = rest.username;
        cred = rest.credential;
    }
    for (size_t i = 0; i < w->cfg.n_ice_servers; i++) {
        char link[ICESERVERS_LINK_MAX];
        const char *url = w->cfg.ice_servers[i];
        int turn = iceservers_url_is_turn(url);
        if (iceservers_link(link, sizeof(link), url, turn ? user : NULL, turn ? cred : NULL) > 0)
            httpd_add_header(res, "Link", "%s", link);
    }
}

void whep_offer(struct worker *w, const struct httpd_request *req, const struct config_path *cp,
                struct httpd_response *res)
{
    const char *path = cp->name;
    whep_limit_setups(w, req->remote_ip);
    if (w->viewers.count >= w->viewers.cap) {
        httpd_add_header(res, "Retry-After", "5");
        return whep_refuse(res, req, path, 503, "this worker is full (max_viewers_per_worker)");
    }
    struct media_track_info tracks[MEDIA_MAX_TRACKS];
    int n = media_path_tracks(w->media, path, tracks);
    if (n < 0) {
        httpd_add_header(res, "Retry-After", "2");
        return whep_refuse(res, req, path, 503,
                           n == -ENOENT ? "the path has no stream yet (no ingest running)"
                                        : "the path's ring cannot be read");
    }
    struct viewer *v = viewer_alloc(&w->viewers, w->index);
    if (!v)
        return whep_refuse(res, req, path, 503, "cannot create a session");
    media_viewer_init(&v->media);
    v->media.user = v;
    v->owner = w;
    struct answer_local local;
    whep_answer_local(w, v, &local);
    struct answer_result ans;
    int err = answer_build(req->body, req->body_len, tracks, (size_t)n, &local, &ans);
    if (err < 0) {
        viewer_release(&w->viewers, v);
        return whep_refuse(res, req, path, whep_answer_status(err), ans.reason);
    }
    snprintf(v->path, sizeof(v->path), "%s", path);
    snprintf(v->remote_ufrag, sizeof(v->remote_ufrag), "%s", ans.remote_ufrag);
    snprintf(v->remote_pwd, sizeof(v->remote_pwd), "%s", ans.remote_pwd);
    snprintf(v->peer, sizeof(v->peer), "%s", req->remote);
    snprintf(v->http_ip, sizeof(v->http_ip), "%s", req->remote_ip);
    v->remote_fp = ans.fingerprints;
    memcpy(v->tracks, ans.tracks, sizeof(v->tracks));
    v->created_ns = v->consent_ns =
        ctl_now_ns(); /* the first check is due within the set-up timeout */
    ctl_count(&w->counters->sessions_total, 1);
    log_info("whep %s: session %s for %s created (%u on this worker)", path, v->session,
             req->remote, w->viewers.count);
    res->status = 201;
    res->content_type = "application/sdp";
    res->body = ans.sdp;
    res->body_len = ans.sdp_len;
    res->owned = ans.sdp;
    /* Behind a load balancer the Location names this node, so that the session's DELETE and
     * PATCH reach it whichever node the balancer would pick. */
    httpd_add_header(res, "Location", "%s/%s/whep/%s", w->cfg.public_url, path, v->session);
    httpd_add_header(res, "ETag", "\"%s\"", v->session);
    whep_ice_links(w, res);
}

/* The offer's checks; an on-demand path's offer may then wait for its source (ondemand.h). */
static void whep_post(struct worker *w, const struct httpd_request *req,
                      const struct config_path *cp, struct httpd_response *res)
{
    const char *path = cp->name;
    if (atomic_load_explicit(&w->ctl.hdr->draining, memory_order_relaxed)) {
        httpd_add_header(res, "Retry-After", "2");
        return whep_refuse(res, req, path, 503,
                           "this node is draining: its viewers keep playing, new ones go to "
                           "another node");
    }
    if (!whep_is_sdp(req->content_type))
        return whep_refuse(res, req, path, 415, "expected Content-Type: application/sdp");
    if (!whep_check_bearer(res, req, path, cp->read_token))
        return;
    /* Standalone, no supervisor starts ingests: the path is served like any other. */
    if (cp->on_demand && !w->ctl.private_copy && !ondemand_admit(w, req, cp, res))
        return;
    whep_offer(w, req, cp, res);
}

static void whep_delete(struct worker *w, const struct httpd_request *req,
                        const struct whep_target *t, struct httpd_response *res)
{
    int owner = viewer_session_worker(t->session);
    if (owner < 0 || (unsigned)owner >= w->cfg.workers)
        return whep_refuse(res, req, t->path, 404, "no such session");
    if ((unsigned)owner != w->index) {
        int err = forward_delete(w, (unsigned)owner, t->path, t->session, req->token);
        if (err == -EBUSY || err == -ENOBUFS)
            return whep_refuse(res, req, t->path, 503, "too many DELETEs wait for other workers");
        if (err < 0)
            return whep_refuse(res, req, t->path, 503, "the session's worker is unreachable");
        log_info("whep %s: DELETE %s from %s forwarded to worker %d", t->path, t->session,
                 req->remote, owner);
        res->status = HTTPD_DEFERRED; /* answered when the owner reports back */
        return;
    }
    struct viewer *v = viewer_by_session(&w->viewers, t->session);
    if (!v || strcmp(v->path, t->path) != 0)
        return whep_refuse(res, req, t->path, 404, "no such session");
    worker_end_session(w, v, "DELETE");
    httpd_set_text(res, 200, "");
}

/* CORS preflight, and Accept-Post (RFC 9725 4.1). On the endpoint the ICE servers too, so that
 * a client that cannot change them after creating its RTCPeerConnection (the player page)
 * learns them before its offer; not in a browser's preflight, which is answered for any
 * origin and cached, nor to a request without the path's read_token. */
static void whep_options(struct worker *w, const struct httpd_request *req,
                         struct httpd_response *res)
{
    res->status = 204;
    httpd_add_header(res, "Access-Control-Allow-Methods",
                     "GET, HEAD, POST, DELETE, PATCH, OPTIONS");
    httpd_add_header(res, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    httpd_add_header(res, "Access-Control-Max-Age", "86400");
    httpd_add_header(res, "Accept-Post", "application/sdp");
    struct whep_target t;
    const struct config_path *cp = NULL;
    if (!req->preflight && whep_parse_target(req->path, &t) == 0 && t.is_whep && !t.has_session)
        cp = config_find_path(&w->cfg, t.path);
    if (cp && (!cp->read_token[0] || whep_bearer_ok(req, cp->read_token)))
        whep_ice_links(w, res);
}

static void whep_json(struct worker *w, const struct httpd_request *req, enum status_view view,
                      struct httpd_response *res)
{
    if (!whep_check_bearer(res, req, "", w->cfg.api_token))
        return;
    char *buf = malloc(WHEP_STATUS_MAX);
    int n = buf ? status_json(buf, WHEP_STATUS_MAX, w->ctl.hdr, &w->cfg, view) : -ENOMEM;
    if (n < 0) {
        free(buf);
        return whep_refuse(res, req, "", 503, "status report unavailable");
    }
    res->status = 200;
    res->content_type = "application/json";
    res->body = buf;
    res->body_len = (size_t)n;
    res->owned = buf;
}

/* GET /v1/health, for load balancers (HAProxy's option httpchk): 200 while this node takes
 * viewers, 503 while every worker is full or it drains; open like the player page. A node
 * with no worker up answers nothing at all. */
static void whep_health(struct worker *w, const struct httpd_request *req,
                        struct httpd_response *res)
{
    struct health_capacity c;
    health_capacity(w->ctl.hdr, w->cfg.max_viewers_per_worker, w->slot, w->viewers.count, &c);
    char *buf = malloc(256);
    int n = buf ? health_json(buf, 256, &c) : -ENOMEM;
    if (n < 0) {
        free(buf);
        return whep_refuse(res, req, "", 503, "health report unavailable");
    }
    res->status = health_state(&c) == HEALTH_OK ? 200 : 503;
    res->content_type = "application/json";
    res->body = buf;
    res->body_len = (size_t)n;
    res->owned = buf;
    httpd_add_header(res, "Cache-Control", "no-store");
}

static void whep_route(struct worker *w, const struct httpd_request *req,
                       struct httpd_response *res)
{
    const char *m = req->method;
    if (strcmp(m, "OPTIONS") == 0)
        return whep_options(w, req, res);
    if (strcmp(m, "GET") == 0 && strcmp(req->path, "/v1/health") == 0)
        return whep_health(w, req, res);
    if (strcmp(m, "GET") == 0 && strcmp(req->path, "/v1/status") == 0)
        return whep_json(w, req, STATUS_VIEW_STATUS, res);
    if (strcmp(m, "GET") == 0 && strcmp(req->path, "/v1/paths") == 0)
        return whep_json(w, req, STATUS_VIEW_PATHS, res);
    struct whep_target t;
    const struct config_path *cp = NULL;
    if (whep_parse_target(req->path, &t) == 0)
        cp = config_find_path(&w->cfg, t.path);
    if (!cp)
        return whep_refuse(res, req, "", 404, "unknown path");
    if (!t.is_whep && strcmp(m, "GET") == 0) {
        res->status = 200;
        res->content_type = "text/html; charset=utf-8";
        res->body = player_html;
        res->body_len = (size_t)(player_html_end - player_html);
        return;
    }
    if (t.is_whip && !t.has_session && strcmp(m, "POST") == 0)
        return whipfwd_post(w, req, cp, res);
    if (t.is_whip && t.has_session && strcmp(m, "DELETE") == 0)
        return whipfwd_delete(w, req, cp, t.session, res);
    if (t.is_whep && !t.has_session && strcmp(m, "POST") == 0)
        return whep_post(w, req, cp, res);
    /* HEAD on the endpoint (draft-ietf-wish-whep): it exists and takes SDP. GET stays 405. */
    if (t.is_whep && !t.has_session && res->head) {
        res->status = 200;
        res->content_type = "application/sdp";
        return;
    }
    if (t.has_session && strcmp(m, "DELETE") == 0)
        return whep_delete(w, req, &t, res);
    if (t.has_session && strcmp(m, "PATCH") == 0) {
        /* WHEP, and WHIP (RFC 9725 4.3.1): a server without trickle ICE or ICE restarts
         * answers PATCH with 405. */
        httpd_add_header(res, "Allow", "DELETE, OPTIONS");
        return whep_refuse(res, req, t.path, 405,
                           "trickle ICE and ICE restarts are not supported (ICE-lite, the "
                           "answer carries every candidate)");
    }
    httpd_add_header(res, "Allow",
                     t.has_session ? "DELETE, PATCH, OPTIONS"
                     : t.is_whep   ? "HEAD, POST, OPTIONS"
                                   : "GET, OPTIONS");
    whep_refuse(res, req, t.path, 405, "method not allowed here");
}

void whep_handle(void *arg, const struct httpd_request *req, struct httpd_response *res)
{
    whep_route(arg, req, res);
}
