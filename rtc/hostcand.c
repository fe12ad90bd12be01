/* SPDX-License-Identifier: MIT */
/* hostcand.c: the host addresses offered as ICE candidates: the configured public_addresses,
 * else every address of the up interfaces, in the order that makes peers nominate the pair
 * the kernel routes media over. */
#include "rtc/hostcand.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <uv.h>

#include "common/log.h"

/* Whether addr can be a host candidate of the socket: IPv4 always, IPv6 on a dual-stack
 * socket except link-local (it would need a scope the SDP cannot carry). */
static bool hostcand_ok(bool v6, const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return true;
    return v6 && inet_pton(AF_INET6, addr, &a6) == 1 && !IN6_IS_ADDR_LINKLOCAL(&a6);
}

size_t hostcand_gather(const struct config *cfg, bool v6, char (*out)[HOSTCAND_ADDR_MAX],
                       size_t cap)
{
    size_t n = 0;
    if (cfg->n_public_addresses) {
        for (size_t i = 0; i < cfg->n_public_addresses && n < cap; i++) {
            if (!hostcand_ok(v6, cfg->public_addresses[i])) {
                log_warn("public_addresses: %s is not an address the media socket serves "
                         "(IPv4%s): left out of the candidates",
                         cfg->public_addresses[i], v6 ? ", IPv6 but link-local" : "");
                continue;
            }
            snprintf(out[n++], HOSTCAND_ADDR_MAX, "%s", cfg->public_addresses[i]);
        }
        return n;
    }
    uv_interface_address_t *ifs;
    int k;
    if (uv_interface_addresses(&ifs, &k) < 0)
        return 0;
    /* Loopback last, so that it gets the lowest priority: peers then nominate the pair the
     * kernel routes media over (media leaves without a source-address hint); IPv4 before
     * IPv6 within each, as the IPv4 pairs get media from the checked address (IP_PKTINFO). */
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < k && n < cap; i++) {
            int family = ifs[i].address.address4.sin_family;
            if (ifs[i].is_internal != pass / 2 || family != (pass % 2 ? AF_INET6 : AF_INET))
                continue;
            if (family == AF_INET)
                uv_ip4_name(&ifs[i].address.address4, out[n], HOSTCAND_ADDR_MAX);
            else
                uv_ip6_name(&ifs[i].address.address6, out[n], HOSTCAND_ADDR_MAX);
            n += hostcand_ok(v6, out[n]);
        }
    uv_free_interface_addresses(ifs, k);
    return n;
}
