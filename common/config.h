/* SPDX-License-Identifier: MIT */
/* config.h: the one configuration file every ringcast process reads (INI, libinih), and the
 * table of its keys: how each parses, prints, defaults, and what a change of it needs on reload.
 * config_load validates everything and reports the first error as "FILE:LINE: key: why". */
#ifndef RINGCAST_CONFIG_H
#define RINGCAST_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/iceservers.h"
#include "common/log.h"

#define CONFIG_MAX_ADDRESSES 16
#define CONFIG_NAME_MAX      64

/* RTSP lower transport: auto tries TCP-interleaved, then UDP (ingest/rtsp_lower.h). */
enum config_transport { TRANSPORT_AUTO = 0, TRANSPORT_TCP, TRANSPORT_UDP };

struct config_path {
    char name[CONFIG_NAME_MAX]; /* [path NAME]: URL segment and shm name, [A-Za-z0-9_-] */
    char source[1024];          /* "file:/abs/path" (resolved), "rtsp://..." or "publish" */
    char source_redacted[1024]; /* source without credentials, for reports (config_load) */
    enum config_transport transport;
    char username[128]; /* RTSP credentials, when not in the URL */
    char password[128];
    char read_token[256];       /* WHEP requires "Authorization: Bearer <token>" if set */
    unsigned fps;               /* file sources: frame rate; 0 = from the SPS, else 30 */
    char publish_user[128];     /* source = publish: RTSP Basic/Digest credentials of publishers; */
    char publish_password[128]; /* both empty: publishing from loopback only */
    char publish_token[256];    /* WHIP publishers send "Authorization: Bearer <token>"; */
                                /* empty: WHIP publishing from loopback only */
    unsigned override_publisher; /* 1: a new publisher takes the path over from the live one */
    int line;                    /* where the section starts, for messages */

    /* source_on_demand: no ingest runs while nobody watches; an offer waits start_timeout s
     * for the first keyframe, the ingest stops close_after s after the last viewer left. */
    unsigned on_demand;
    unsigned on_demand_start_timeout;
    unsigned on_demand_close_after;
};

struct config {
    char file[512];     /* as given */
    char http_host[64]; /* http_listen, split */
    uint16_t http_port;
    char rtsp_host[64]; /* rtsp_listen, split; port 0: off */
    uint16_t rtsp_port;
    uint16_t rtsp_udp_lo;  /* rtsp_udp_ports: RTSP readers' UDP port pairs (RTP even, RTCP */
    uint16_t rtsp_udp_hi;  /* odd) come from LO..HI; 0: ports chosen by the kernel */
    char metrics_host[64]; /* metrics_listen, split */
    uint16_t metrics_port;
    char control_socket[108];
    unsigned workers;          /* "auto" resolves to the number of online CPUs */
    uint16_t udp_port_base;    /* worker i listens on udp_port_base + i */
    uint16_t tcp_port_base;    /* ICE-TCP: worker i listens on tcp_port_base + i; 0 = off,
                                  CONFIG_TCP_PORT_SAME: udp_port_base (config_tcp_port_base) */
    size_t n_public_addresses; /* 0: every address of the up interfaces */
    char public_addresses[CONFIG_MAX_ADDRESSES][64];
    unsigned max_viewers_per_worker;
    unsigned max_setups_per_address; /* sessions in set-up per HTTP client address */
    size_t n_trusted_proxies;        /* addresses exempt from that limit (TURN, balancers) */
    char trusted_proxies[CONFIG_MAX_ADDRESSES][64];
    char public_url[256];     /* "https://edge3.example.net[:port][/prefix]": WHEP Locations are
                                 absolute on it (no trailing slash); "" = relative Locations */
    char agent_host[64];      /* agent_listen, split: HAProxy agent-check served by the */
    uint16_t agent_port;      /* supervisor; 0 = off */
    unsigned mtu;             /* RTP payload bytes per packet */
    unsigned consent_timeout; /* s without an ICE consent check before a session ends */
    enum log_level log_level;
    char api_token[256];  /* GET /v1/status, /v1/paths require "Authorization: Bearer <token>" */
    size_t n_ice_servers; /* stun:/turn:/turns: URLs handed to viewers in Link headers */
    char ice_servers[ICESERVERS_MAX][ICESERVERS_URL_MAX];
    char ice_username[ICESERVERS_CRED_MAX]; /* static TURN credentials, or */
    char ice_credential[ICESERVERS_CRED_MAX];
    char turn_secret[ICESERVERS_CRED_MAX]; /* coturn's static-auth-secret: REST credentials */
    unsigned turn_ttl;                     /* s a REST credential stays valid */
    char shm_prefix[32];                   /* shm objects are /<prefix>.<path> and /<prefix>.ctl */
    unsigned ring_mb;                      /* the most payload bytes a path's ring grows to, MiB */
    unsigned ring_seconds; /* media a ring holds; 0: the latest GOP + the NACK window */
    size_t n_paths;        /* no fixed bound: hundreds of cameras per machine */
    size_t cap_paths;
    struct config_path *paths; /* owned: config_copy, config_free */
};

#define CONFIG_TCP_PORT_SAME 0xffff /* tcp_port_base = udp_port_base, the default */

/* The ICE-TCP port of worker 0, or 0 when ICE-TCP is off. */
static inline unsigned config_tcp_port_base(const struct config *cfg)
{
    return cfg->tcp_port_base == CONFIG_TCP_PORT_SAME ? cfg->udp_port_base : cfg->tcp_port_base;
}

/* What a running ringcast must do when a key's value changes on reload: bits of
 * config_key.change. No bit: nothing running reads it after start-up, or the supervisor
 * matches it itself (workers: it starts or stops workers to the new count). */
enum config_change {
    CONFIG_CHANGE_HUP_WORKERS = 1u << 0,     /* workers copy it on SIGHUP */
    CONFIG_CHANGE_RESTART_INGESTS = 1u << 1, /* [server]: every ingest; [path]: that path's */
    CONFIG_CHANGE_RESTART_WORKERS = 1u << 2, /* workers read it only at start */
    CONFIG_CHANGE_REFUSED = 1u << 3,         /* the supervisor holds it open: restart ringcast */
};

enum config_section { CONFIG_SECTION_SERVER = 0, CONFIG_SECTION_PATH };

struct config_parser;

/* One key of the file. Its value lives at offset in struct config ([server]) or struct
 * config_path ([path]); a value made of two fields (a listen address's port, an address
 * list's count) names the second one as aux (aux_size 0: none). */
struct config_key {
    const char *name;
    enum config_section section;
    size_t offset, size;
    size_t aux, aux_size;
    /* Stores value, or reports "FILE:LINE: key: why" and returns 0 (stops libinih); 1 = ok. */
    int (*parse)(struct config_parser *p, const struct config_key *k, void *base,
                 const char *value);
    /* Writes the value as the file spells it; "" when unset. Length, or -ENOSPC. */
    int (*format)(const struct config_key *k, const void *base, char *out, size_t len);
    unsigned long min, max; /* numbers: the range; strings: min is the least length; lists:
                               max is the number of items, each of size / max bytes */
    const char *unit;       /* numbers: "expected UNIT MIN..MAX" */
    const char *dflt;       /* the default as README.md documents it; NULL: unset */
    unsigned change;        /* enum config_change bits */
};

#define CONFIG_VALUE_MAX 2048 /* a formatted value: a source URL, 16 addresses */

/* Every key, [server] ones first, in the order the children's copy lists them. */
const struct config_key *config_keys(size_t *n);
/* True when key k (of the section base_a and base_b belong to) has different values. */
int config_key_differs(const struct config_key *k, const void *base_a, const void *base_b);
/* The change bits of every [server] key that differs between a and b. */
unsigned config_server_changes(const struct config *a, const struct config *b);
/* The change bits of every key of one [path] section that differs between a and b. */
unsigned config_path_changes(const struct config_path *a, const struct config_path *b);
/* A worker's SIGHUP: takes from src the [server] keys marked CONFIG_CHANGE_HUP_WORKERS and
 * the paths, whole (paths come and go on reload; a worker reads each one's name and token).
 * 0, or -ENOMEM with dst unchanged. */
int config_apply_reloadable(struct config *dst, const struct config *src);

/* A struct config owns its path table. Every function taking one to fill (config_defaults,
 * config_load, config_copy's dst) needs it zeroed or holding a config, whose table it frees
 * or reuses; config_free releases it. A plain assignment shares the table: use config_copy. */

/* Fills cfg with the defaults documented in README.md (no paths). */
void config_defaults(struct config *cfg);

/* Loads and validates file into cfg (defaults first). Returns 0, or -errno with a message
 * "FILE:LINE: key: reason" in err. Relative file: sources resolve against the file's folder. */
int config_load(struct config *cfg, const char *file, char *err, size_t errlen);

/* dst becomes a copy of src with its own path table. 0 or -ENOMEM (dst then has no paths). */
int config_copy(struct config *dst, const struct config *src);
/* Frees cfg's path table (n_paths becomes 0); the rest stays. Tolerates a zeroed cfg. */
void config_free(struct config *cfg);

/* The path named name, or NULL. */
const struct config_path *config_find_path(const struct config *cfg, const char *name);

/* True if the path's ingest waits for RTSP publishers (source = publish). */
int config_path_is_publish(const struct config_path *p);

/* True if name is a valid path name (also used to validate URL segments). */
int config_path_name_valid(const char *name);

#endif
