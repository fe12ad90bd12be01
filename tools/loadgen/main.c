/* SPDX-License-Identifier: MIT */
/* main.c: ringcast's load generator: N WHEP viewers in one process and one libuv loop,
 * set up at most --conc at a time, then measured over a window; prints one JSON line.
 * Usage: loadgen --url http://127.0.0.1:8889/PATH/whep -n N [options] (see usage()). */
#include "tools/loadgen/lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include <openssl/ssl.h>

#include "common/log.h"
#include "tools/loadgen/lg_proc.h"
#include "tools/loadgen/lg_report.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: loadgen --url http://HOST:PORT/PATH/whep [options]\n"
            "  -n, --viewers N          viewers (default 1; 0 = only sample --server-pid)\n"
            "      --conc N             set-ups in flight (default 16, max %d)\n"
            "      --local-ip IP        IPv4 address of the viewers' sockets (127.0.0.1)\n"
            "      --ips K              viewer i uses --local-ip + i %% K (1; a server limits\n"
            "                           ICE-TCP connections per address)\n"
            "      --tcp                ICE-TCP (RFC 6544): each viewer connects to the\n"
            "                           answer's passive TCP candidate; STUN, DTLS, SRTP and\n"
            "                           SRTCP in RFC 4571 frames (not with --gro)\n"
            "      --no-consent         no ICE consent checks after set-up, RRs only (as\n"
            "                           pion's agent while it sends RTCP); we still answer\n"
            "                           the server's\n"
            "      --regular-nomination a first check without USE-CANDIDATE, the nominating\n"
            "                           one 200 ms later or when the server checks us (as\n"
            "                           pion's agent; default: every check nominates)\n"
            "      --srtp any|gcm|cm    SRTP profiles offered (any: GCM first)\n"
            "  -w, --warmup S           seconds of media before the window (2)\n"
            "  -d, --duration S         measurement window, seconds (10)\n"
            "      --setup-timeout S    per viewer, POST to keys (10)\n"
            "      --max-run S          hard bound for the whole run (setup+window+60)\n"
            "      --drop PCT           drop PCT %% of new media packets, NACK them (0)\n"
            "      --nack-flood N       N hostile NACKs per second per viewer, each asking\n"
            "                           16 times for its 17 newest packets (0)\n"
            "      --decrypt-every K    after the first keyframe, read whole datagrams and\n"
            "                           SRTP-unprotect them on 1 wakeup in K, headers\n"
            "                           only otherwise (1 = every packet)\n"
            "      --rcvbuf BYTES       socket receive buffer (4194304)\n"
            "      --gro                UDP_GRO on the viewers' sockets: a server's GSO batch\n"
            "                           arrives as one datagram, split here (on loopback the\n"
            "                           server then no longer pays for segmenting it, as with\n"
            "                           a real network); every packet is read whole\n"
            "      --server-pid PID     report CPU/PSS of PID and its descendants\n"
            "      --label TEXT         copied into the JSON line\n"
            "      --token TOKEN        Authorization: Bearer TOKEN\n"
            "      --no-delete          do not DELETE the sessions at the end\n"
            "      --max-loss PCT       loss above this makes ok=false (1.0)\n"
            "      --paths P            viewer i watches path NAME<i %% P> of the URL's\n"
            "                           /NAME/whep (P cameras, one loadgen)\n"
            "      --per-viewer         list each viewer's first-frame time (ms after its\n"
            "                           answer, -1 for none) as first_frame_ms_each\n"
            "  -v, --verbose            debug logging\n",
            LG_MAX_CONC);
}

uint64_t lg_rand(struct lg *lg)
{
    /* xorshift64*: statistical quality is enough for identifiers and drop decisions. */
    lg->rng ^= lg->rng >> 12;
    lg->rng ^= lg->rng << 25;
    lg->rng ^= lg->rng >> 27;
    return lg->rng * 0x2545F4914F6CDD1Dull;
}

void lg_rand_str(struct lg *lg, char *out, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i + 1 < n; i++)
        out[i] = abc[lg_rand(lg) % (sizeof(abc) - 1)];
    out[n - 1] = '\0';
}

/* The server's address: an IPv4 literal, or localhost. */
int lg_resolve(const struct lg_http_url *u, struct sockaddr_in *addr, char *host, size_t hostlen)
{
    snprintf(host, hostlen, "%s:%u", u->host, u->port);
    const char *ip = strcmp(u->host, "localhost") == 0 ? "127.0.0.1" : u->host;
    return uv_ip4_addr(ip, u->port, addr) == 0 ? 0 : -EINVAL;
}

static int parse_url(struct lg *lg, const char *url)
{
    struct lg_http_url u;
    if (lg_http_url_split(url, &u) != 0 || !u.host[0] || strlen(u.path) >= sizeof(lg->path))
        return -EINVAL;
    snprintf(lg->path, sizeof(lg->path), "%s", u.path);
    return lg_resolve(&u, &lg->http_addr, lg->http_host, sizeof(lg->http_host));
}

static void start_setups(struct lg *lg);
static void phase_next(struct lg *lg);

static struct lg_setup *free_slot(struct lg *lg)
{
    for (unsigned i = 0; i < lg->n_slots; i++)
        if (!lg->slots[i].busy && !lg->slots[i].tcp_open)
            return &lg->slots[i];
    return NULL;
}

/* Counts a finished set-up and frees its slot. */
static void setup_account(struct lg *lg, struct lg_viewer *v, int err, const char *what)
{
    if (v->setup)
        lg_setup_release(v->setup);
    lg->in_flight--;
    if (!err) {
        lg->connected++;
        return;
    }
    lg->failed++;
    /* First failures at warn level, the rest in debug: one cause usually repeats. */
    if (lg->failed <= 5)
        log_warn("viewer %u (%s): %s failed: %s", v->idx, lg->path, what,
                 err < 0 && err > -4096 ? strerror(-err) : "?");
    else
        log_debug("viewer %u: %s failed: %d", v->idx, what, err);
}

void lg_setup_finished(struct lg *lg, struct lg_viewer *v, int err, const char *what)
{
    setup_account(lg, v, err, what);
    start_setups(lg);
}

static void start_setups(struct lg *lg)
{
    if (lg->phase != LG_P_SETUP)
        return;
    while (lg->next_setup < lg->opt.n && lg->in_flight < lg->opt.conc) {
        struct lg_setup *s = free_slot(lg);
        if (!s)
            break; /* a slot's TCP handle is still closing; its close callback retries */
        struct lg_viewer *v = &lg->v[lg->next_setup++];
        s->busy = 1;
        s->lg = lg;
        s->v = v;
        s->deadline_ms = uv_now(lg->loop) + (uint64_t)(lg->opt.setup_timeout_s * 1000);
        v->setup = s;
        v->state = LG_V_HTTP;
        lg->in_flight++;
        int err = lg_viewer_open(lg, v);
        if (!err)
            err = lg_whep_post(lg, s, v);
        if (err) {
            lg_viewer_close(v);
            v->state = LG_V_FAILED;
            setup_account(lg, v, err, "socket/POST");
        }
    }
    if (lg->next_setup == lg->opt.n && lg->in_flight == 0)
        phase_next(lg);
}

void lg_delete_finished(struct lg *lg)
{
    lg->deleted++;
    lg->in_flight--;
    phase_next(lg);
}

static void start_deletes(struct lg *lg)
{
    while (lg->next_delete < lg->opt.n && lg->in_flight < lg->opt.conc) {
        struct lg_viewer *v = &lg->v[lg->next_delete];
        if (v->state != LG_V_MEDIA || !v->location[0]) {
            lg->next_delete++;
            continue;
        }
        struct lg_setup *s = free_slot(lg);
        if (!s)
            return;
        lg->next_delete++;
        s->busy = 1;
        s->lg = lg;
        lg->in_flight++;
        if (lg_whep_delete(lg, s, v) != 0) {
            lg_setup_release(s);
            lg->in_flight--;
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    struct lg *lg = t->data;
    uint64_t now = uv_now(lg->loop);
    for (unsigned i = 0; i < lg->n_slots; i++) {
        struct lg_setup *s = &lg->slots[i];
        if (!s->busy || s->kind != LG_REQ_POST || !s->v)
            continue;
        if (s->v->state == LG_V_HTTP && now >= s->deadline_ms) {
            struct lg_viewer *v = s->v;
            lg_viewer_close(v);
            v->state = LG_V_FAILED;
            lg_setup_finished(lg, v, -ETIMEDOUT, "HTTP");
        } else if (s->v->state == LG_V_ICE || s->v->state == LG_V_DTLS) {
            lg_viewer_setup_tick(lg, s->v, now);
        }
    }
    if (lg->opt.nack_flood > 0)
        for (unsigned i = 0; i < lg->opt.n; i++)
            lg_viewer_flood_tick(lg, &lg->v[i], now);
    start_setups(lg); /* slots whose TCP close completed since */
    if (lg->phase == LG_P_TEARDOWN)
        start_deletes(lg);
}

static void on_slow(uv_timer_t *t)
{
    struct lg *lg = t->data;
    uint64_t now = uv_now(lg->loop);
    /* RRs every 1 s and consent checks every 5 s, each viewer in its own 100 ms slot. The
     * slots come from the clock, not from counting calls: with a thousand sockets of media
     * a loop iteration can take longer than 100 ms, and counting calls stretched the
     * consent interval past the server's 30 s (sessions ended, viewers "stalled"). */
    uint64_t from = lg->slow_slot, to = (now - lg->t0_ms) / 100 + 1;
    if (to < from)
        to = from;
    lg->slow_slot = to;
    for (unsigned i = 0; i < lg->opt.n; i++)
        lg_viewer_slow_tick(lg, &lg->v[i], now, lg_slot_due(i, from, to, 10),
                            !lg->opt.no_consent && lg_slot_due(i, from, to, 50));
    if (lg->phase == LG_P_WAIT_MEDIA) {
        unsigned waiting = 0;
        for (unsigned i = 0; i < lg->opt.n; i++)
            waiting += lg->v[i].state == LG_V_MEDIA && lg->v[i].c.pkts == 0;
        if (waiting == 0 || now - lg->setup_done_ms > 5000)
            phase_next(lg);
    }
}

static void snapshot(struct lg *lg, int end)
{
    for (unsigned i = 0; i < lg->opt.n; i++) {
        struct lg_viewer *v = &lg->v[i];
        v->c.expected = lg_seq_expected(&v->seq);
        v->c.unique = v->seq.unique;
        v->c.dups = v->seq.dups;
        v->c.late = v->seq.late;
        if (!end)
            v->c0 = v->c;
    }
    struct lg_proc_tree *t = end ? &lg->srv1 : &lg->srv0;
    int have = lg->opt.server_pid > 0 && lg_proc_tree_sample(lg->opt.server_pid, t) == 0;
    if (end) {
        lg->win_end_ms = uv_now(lg->loop);
        lg->self_cpu1 = lg_proc_self_cpu_s();
        lg->rcvbuf_err1 = lg_proc_udp_rcvbuf_errors();
        lg->have_server1 = have;
    } else {
        lg->win_start_ms = uv_now(lg->loop);
        lg->self_cpu0 = lg_proc_self_cpu_s();
        lg->rcvbuf_err0 = lg_proc_udp_rcvbuf_errors();
        lg->have_server0 = have;
    }
}

static void on_phase_timer(uv_timer_t *t)
{
    phase_next(t->data);
}

static void stop_all(struct lg *lg)
{
    if (lg->phase == LG_P_TEARDOWN)
        log_info("%u of %u sessions deleted", lg->deleted, lg->connected);
    lg->phase = LG_P_DONE;
    uv_stop(lg->loop);
}

/* Moves to the next phase when the current one is over. */
static void phase_next(struct lg *lg)
{
    switch (lg->phase) {
    case LG_P_SETUP:
        if (lg->next_setup < lg->opt.n || lg->in_flight)
            return;
        lg->setup_done_ms = uv_now(lg->loop);
        log_info("%u/%u viewers connected in %.1f s (%u failed)", lg->connected, lg->opt.n,
                 (double)(lg->setup_done_ms - lg->t0_ms) / 1000, lg->failed);
        lg->phase = LG_P_WAIT_MEDIA;
        return; /* on_slow moves on once every viewer has media */
    case LG_P_WAIT_MEDIA:
        lg->phase = LG_P_WARMUP;
        uv_timer_start(&lg->phase_timer, on_phase_timer, (uint64_t)(lg->opt.warmup_s * 1000), 0);
        return;
    case LG_P_WARMUP:
        lg->phase = LG_P_WINDOW;
        snapshot(lg, 0);
        uv_timer_start(&lg->phase_timer, on_phase_timer, (uint64_t)(lg->opt.duration_s * 1000), 0);
        return;
    case LG_P_WINDOW:
        snapshot(lg, 1);
        lg_report_print(lg, stdout);
        lg->reported = 1;
        lg->phase = LG_P_TEARDOWN;
        if (lg->opt.no_delete) {
            stop_all(lg);
            return;
        }
        /* Bounded: whatever is not deleted after 5 s times out on the server. */
        uv_timer_start(&lg->phase_timer, on_phase_timer, 5000, 0);
        phase_next(lg);
        return;
    case LG_P_TEARDOWN:
        start_deletes(lg);
        if ((lg->in_flight == 0 && lg->next_delete >= lg->opt.n) ||
            uv_now(lg->loop) - lg->win_end_ms >= 5000)
            stop_all(lg);
        return;
    case LG_P_DONE:
        return;
    }
}

static void on_max_run(uv_timer_t *t)
{
    struct lg *lg = t->data;
    if (!lg->reported) {
        log_error("max run time reached in phase %d; reporting what was measured", lg->phase);
        lg->why_stop = "max-run reached";
        if (lg->phase != LG_P_WINDOW)
            snapshot(lg, 0);
        snapshot(lg, 1);
        lg_report_print(lg, stdout);
        lg->reported = 1;
    }
    stop_all(lg);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct lg *lg = h->data;
    lg->why_stop = sig == SIGINT ? "interrupted" : "terminated";
    on_max_run(&lg->max_run);
}

static int parse_opts(struct lg_opts *o, int argc, char **argv)
{
    static const struct option lo[] = {{"url", 1, 0, 'u'},        {"viewers", 1, 0, 'n'},
                                       {"conc", 1, 0, 'C'},       {"local-ip", 1, 0, 'L'},
                                       {"srtp", 1, 0, 'S'},       {"warmup", 1, 0, 'w'},
                                       {"duration", 1, 0, 'd'},   {"setup-timeout", 1, 0, 'T'},
                                       {"max-run", 1, 0, 'M'},    {"drop", 1, 0, 'D'},
                                       {"nack-flood", 1, 0, 'F'}, {"decrypt-every", 1, 0, 'K'},
                                       {"rcvbuf", 1, 0, 'R'},     {"server-pid", 1, 0, 'P'},
                                       {"label", 1, 0, 'l'},      {"token", 1, 0, 't'},
                                       {"no-delete", 0, 0, 'N'},  {"max-loss", 1, 0, 'X'},
                                       {"verbose", 0, 0, 'v'},    {"gro", 0, 0, 'G'},
                                       {"per-viewer", 0, 0, 'V'}, {"paths", 1, 0, 'A'},
                                       {"tcp", 0, 0, 'Y'},        {"ips", 1, 0, 'I'},
                                       {"no-consent", 0, 0, 'O'}, {"regular-nomination", 0, 0, 'Q'},
                                       {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    *o = (struct lg_opts){.n = 1,
                          .conc = 16,
                          .local_ip = "127.0.0.1",
                          .warmup_s = 2,
                          .duration_s = 10,
                          .setup_timeout_s = 10,
                          .decrypt_every = 1,
                          .ips = 1,
                          .rcvbuf = 4 << 20,
                          .label = "",
                          .saturated_pct = 80,
                          .max_loss_pct = 1.0};
    int c;
    while ((c = getopt_long(argc, argv, "u:n:w:d:vh", lo, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->url = optarg;
            break;
        case 'n':
            o->n = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'C':
            o->conc = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'L':
            o->local_ip = optarg;
            break;
        case 'S':
            if (strcmp(optarg, "gcm") == 0)
                o->srtp = LG_SRTP_GCM;
            else if (strcmp(optarg, "cm") == 0)
                o->srtp = LG_SRTP_CM;
            else if (strcmp(optarg, "any") == 0)
                o->srtp = LG_SRTP_ANY;
            else
                return -EINVAL;
            break;
        case 'w':
            o->warmup_s = atof(optarg);
            break;
        case 'd':
            o->duration_s = atof(optarg);
            break;
        case 'T':
            o->setup_timeout_s = atof(optarg);
            break;
        case 'M':
            o->max_run_s = atof(optarg);
            break;
        case 'D':
            o->drop_pct = atof(optarg);
            break;
        case 'F':
            o->nack_flood = atof(optarg);
            break;
        case 'K':
            o->decrypt_every = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'R':
            o->rcvbuf = atoi(optarg);
            break;
        case 'P':
            o->server_pid = atoi(optarg);
            break;
        case 'l':
            o->label = optarg;
            break;
        case 't':
            o->token = optarg;
            break;
        case 'N':
            o->no_delete = 1;
            break;
        case 'X':
            o->max_loss_pct = atof(optarg);
            break;
        case 'G':
            o->gro = 1;
            break;
        case 'V':
            o->per_viewer = 1;
            break;
        case 'A':
            o->paths = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'Y':
            o->tcp = 1;
            break;
        case 'I':
            o->ips = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'O':
            o->no_consent = 1;
            break;
        case 'Q':
            o->regular_nom = 1;
            break;
        case 'v':
            log_set_level(LOG_DEBUG);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -EINVAL;
        }
    }
    if (!o->url || optind != argc || o->n > 100000 || o->conc < 1 || o->conc > LG_MAX_CONC ||
        o->duration_s <= 0 || o->warmup_s < 0 || o->drop_pct < 0 || o->drop_pct > 50 ||
        o->nack_flood < 0 || o->nack_flood > 1000 || o->setup_timeout_s <= 0 || o->paths > 100000 ||
        o->ips < 1 || o->ips > 65536 || (o->tcp && o->gro))
        return -EINVAL;
    if (o->max_run_s <= 0)
        o->max_run_s = 60 + o->n / 20.0 + o->warmup_s + o->duration_s + 60;
    return 0;
}

static void raise_nofile(unsigned need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need + 256) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl); /* a shortfall shows up as failed viewers */
    }
}

static void init_batch(struct lg *lg)
{
    for (int i = 0; i < LG_BATCH; i++) {
        lg->iov[i].iov_base = lg->bufs[i];
        lg->iov[i].iov_len = LG_PKT_MAX;
        memset(&lg->msgs[i], 0, sizeof(lg->msgs[i]));
        lg->msgs[i].msg_hdr.msg_iov = &lg->iov[i];
        lg->msgs[i].msg_hdr.msg_iovlen = 1;
        lg->msgs[i].msg_hdr.msg_control = lg->ctrl[i];
    }
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    static struct lg lg; /* large (receive batch, slots): not on the stack */
    log_init("loadgen");
    if (parse_opts(&lg.opt, argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    if (parse_url(&lg, lg.opt.url) != 0) {
        fprintf(stderr, "loadgen: bad --url %s (want http://IPv4-or-localhost:PORT/PATH)\n",
                lg.opt.url);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile(lg.opt.n);
    if (getrandom(&lg.rng, sizeof(lg.rng), 0) != sizeof(lg.rng) || lg.rng == 0)
        lg.rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)uv_hrtime();
    lg.tiebreaker = lg_rand(&lg);
    if (srtp_init() != srtp_err_status_ok || lg_dtls_ctx_init(&lg.dtls, lg.opt.srtp) != 0) {
        log_error("SRTP/DTLS initialisation failed");
        return 1;
    }
    lg.v = calloc(lg.opt.n ? lg.opt.n : 1, sizeof(*lg.v));
    lg.n_slots = lg.opt.conc;
    lg.slots = calloc(lg.n_slots, sizeof(*lg.slots));
    if (!lg.v || !lg.slots) {
        log_error("out of memory for %u viewers", lg.opt.n);
        return 1;
    }
    for (unsigned i = 0; i < lg.opt.n; i++) {
        lg.v[i].idx = i;
        lg.v[i].fd = -1;
    }
    init_batch(&lg);

    lg.loop = uv_default_loop();
    lg.loop->data = &lg;
    int err = lg_viewers_start(&lg);
    if (err) {
        log_error("cannot poll the viewers' sockets: %s", uv_strerror(err)); /* -errno too */
        return 1;
    }
    uv_timer_init(lg.loop, &lg.tick);
    uv_timer_init(lg.loop, &lg.slow);
    uv_timer_init(lg.loop, &lg.phase_timer);
    uv_timer_init(lg.loop, &lg.max_run);
    lg.tick.data = lg.slow.data = lg.phase_timer.data = lg.max_run.data = &lg;
    uv_signal_init(lg.loop, &lg.sigint);
    uv_signal_init(lg.loop, &lg.sigterm);
    lg.sigint.data = lg.sigterm.data = &lg;
    uv_signal_start(&lg.sigint, on_signal, SIGINT);
    uv_signal_start(&lg.sigterm, on_signal, SIGTERM);
    uv_timer_start(&lg.tick, on_tick, 20, 20);
    uv_timer_start(&lg.slow, on_slow, 100, 100);
    uv_timer_start(&lg.max_run, on_max_run, (uint64_t)(lg.opt.max_run_s * 1000), 0);

    lg.t0_ms = uv_now(lg.loop);
    log_info("%u viewers -> %s (%u set-ups in flight)", lg.opt.n, lg.opt.url, lg.opt.conc);
    start_setups(&lg);
    uv_run(lg.loop, UV_RUN_DEFAULT);

    for (unsigned i = 0; i < lg.opt.n; i++)
        if (lg.v[i].state != LG_V_FAILED)
            lg_viewer_close(&lg.v[i]);
    for (unsigned i = 0; i < lg.n_slots; i++)
        if (lg.slots[i].busy)
            lg_setup_release(&lg.slots[i]);
    uv_walk(lg.loop, close_walk, NULL);
    uv_run(lg.loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(lg.loop);
    close(lg.media_ep);
    lg_dtls_ctx_free(&lg.dtls);
    srtp_shutdown();
    free(lg.v);
    free(lg.slots);
    return lg.reported ? 0 : 1;
}
