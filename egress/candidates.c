/* SPDX-License-Identifier: MIT */
/* candidates.c: the host addresses a worker offers as ICE candidates: the configured
 * public_addresses, else every address of the up interfaces, in the order that makes peers
 * nominate the pair the kernel routes media over. */
#include "egress/candidates.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/log.h"
#include "egress/worker.h"

/* Whether addr can be a host candidate of this worker's socket: IPv4 always, IPv6 on the
 * dual-stack socket except link-local (it would need a scope the SDP cannot carry). */
static bool candidates_ok(const struct worker *w, const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return true;
    return w->udp_v6 && inet_pton(AF_INET6, addr, &a6) == 1 && !IN6_IS_ADDR_LINKLOCAL(&a6);
}

void candidates_gather(struct worker *w)
{
    if (w->cfg.n_public_addresses) {
        for (size_t i = 0; i < w->cfg.n_public_addresses && i < ANSWER_MAX_CANDIDATES; i++) {
            if (!candidates_ok(w, w->cfg.public_addresses[i])) {
                log_warn("public_addresses: %s is not an address the media socket serves "
                         "(IPv4%s): left out of the candidates",
                         w->cfg.public_addresses[i], w->udp_v6 ? ", IPv6 but link-local" : "");
                continue;
            }
            snprintf(w->candidates[w->n_candidates++], sizeof(w->candidates[0]), "%s",
                     w->cfg.public_addresses[i]);
        }
        return;
    }
    uv_interface_address_t *ifs;
    int n;
    if (uv_interface_addresses(&ifs, &n) < 0)
        return;
    /* Loopback last, so that it gets the lowest priority: peers then nominate the pair the
     * kernel routes media over (media leaves without a source-address hint); IPv4 before
     * IPv6 within each, as the IPv4 pairs get media from the checked address (IP_PKTINFO). */
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < n && w->n_candidates < ANSWER_MAX_CANDIDATES; i++) {
            char *out = w->candidates[w->n_candidates];
            int family = ifs[i].address.address4.sin_family;
            if (ifs[i].is_internal != pass / 2 || family != (pass % 2 ? AF_INET6 : AF_INET))
                continue;
            if (family == AF_INET)
                uv_ip4_name(&ifs[i].address.address4, out, sizeof(w->candidates[0]));
            else
                uv_ip6_name(&ifs[i].address.address6, out, sizeof(w->candidates[0]));
            w->n_candidates += candidates_ok(w, out);
        }
    uv_free_interface_addresses(ifs, n);
}
