/* SPDX-License-Identifier: MIT */
/* config.h: the one configuration file every ringcast process reads (INI, libinih).
 * config_load validates everything and reports the first error as "FILE:LINE: key: why". */
#ifndef RINGCAST_CONFIG_H
#define RINGCAST_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"

#define CONFIG_MAX_PATHS     64
#define CONFIG_MAX_ADDRESSES 16
#define CONFIG_NAME_MAX      64

enum config_transport { TRANSPORT_TCP = 0, TRANSPORT_UDP };

struct config_path {
    char name[CONFIG_NAME_MAX]; /* [path NAME]: URL segment and shm name, [A-Za-z0-9_-] */
    char source[1024];          /* "file:/abs/path" (resolved) or "rtsp://..." */
    char source_redacted[1024]; /* source without credentials, for reports (config_load) */
    enum config_transport transport;
    char username[128]; /* RTSP credentials, when not in the URL */
    char password[128];
    char read_token[256]; /* WHEP requires "Authorization: Bearer <token>" if set */
    unsigned fps;         /* file sources: frame rate; 0 = from the SPS, else 30 */
    int line;             /* where the section starts, for messages */
};

struct config {
    char file[512];     /* as given */
    char http_host[64]; /* http_listen, split */
    uint16_t http_port;
    char metrics_host[64]; /* metrics_listen, split */
    uint16_t metrics_port;
    char control_socket[108];
    unsigned workers;          /* "auto" resolves to the number of online CPUs */
    uint16_t udp_port_base;    /* worker i listens on udp_port_base + i */
    size_t n_public_addresses; /* 0: every address of the up interfaces */
    char public_addresses[CONFIG_MAX_ADDRESSES][64];
    unsigned max_viewers_per_worker;
    unsigned max_setups_per_address; /* sessions in set-up per HTTP client address */
    size_t n_trusted_proxies;        /* addresses exempt from that limit (TURN, balancers) */
    char trusted_proxies[CONFIG_MAX_ADDRESSES][64];
    unsigned mtu; /* RTP payload bytes per packet */
    enum log_level log_level;
    char api_token[256]; /* GET /v1/status, /v1/paths require "Authorization: Bearer <token>" */
    char shm_prefix[32]; /* shm objects are /<prefix>.<path> and /<prefix>.ctl */
    unsigned ring_mb;    /* payload bytes per path ring, MiB */
    size_t n_paths;
    struct config_path paths[CONFIG_MAX_PATHS];
};

/* Fills cfg with the defaults documented in README.md. */
void config_defaults(struct config *cfg);

/* Loads and validates file into cfg (defaults first). Returns 0, or -errno with a message
 * "FILE:LINE: key: reason" in err. Relative file: sources resolve against the file's folder. */
int config_load(struct config *cfg, const char *file, char *err, size_t errlen);

/* The path named name, or NULL. */
const struct config_path *config_find_path(const struct config *cfg, const char *name);

/* True if name is a valid path name (also used to validate URL segments). */
int config_path_name_valid(const char *name);

#endif
