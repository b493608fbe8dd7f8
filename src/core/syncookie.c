/*
 * syncookie.c -- SYN cookies (see syncookie.h for the layout).
 */
#include "core/syncookie.h"

/* MSS values a cookie can carry (3 bits); common path MTUs minus 40. */
static const uint16_t cookie_mss[8] = {536, 1200, 1300, 1380, 1400, 1440, 1460, 8960};

static uint32_t period_of(const tw_stack *st)
{
    return (uint32_t)(st->now / TW_COOKIE_PERIOD) & 0x1fu;
}

static uint32_t mac(const tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport,
                    uint32_t peer_isn, uint32_t period, uint32_t idx)
{
    uint64_t h = tw_siphash_4x32(&st->cookie_key, raddr, (uint32_t)rport << 16 | lport,
                                 peer_isn, period << 3 | idx);
    return (uint32_t)h & 0xffffffu;
}

uint32_t tw_cookie_make(const tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t lport,
                        uint32_t peer_isn, uint16_t peer_mss, uint16_t *mss_out)
{
    uint32_t idx = 0;
    for (uint32_t i = 0; i < 8; i++) {
        if (cookie_mss[i] <= peer_mss) {
            idx = i;
        }
    }
    *mss_out = cookie_mss[idx];
    uint32_t p = period_of(st);
    return p << 27 | idx << 24 | mac(st, raddr, rport, lport, peer_isn, p, idx);
}

tw_cookie_result tw_cookie_check(const tw_stack *st, uint32_t raddr, uint16_t rport,
                                 uint16_t lport, uint32_t peer_isn, uint32_t cookie,
                                 uint16_t *mss_out)
{
    uint32_t p = cookie >> 27, idx = (cookie >> 24) & 7u;
    if (mac(st, raddr, rport, lport, peer_isn, p, idx) != (cookie & 0xffffffu)) {
        return TW_COOKIE_BAD;
    }
    uint32_t age = (period_of(st) - p) & 0x1fu;
    if (age > 2) {
        return TW_COOKIE_EXPIRED;
    }
    *mss_out = cookie_mss[idx];
    return TW_COOKIE_OK;
}

uint32_t tw_cookie_ts_encode(uint32_t tsval, int wscale, bool sack, bool ecn)
{
    uint32_t ws = wscale < 0 ? 15u : (uint32_t)wscale;
    /* bit 5: the SYN asked for ECN and we agreed (RFC 3168 6.1.1), as Linux's TS_OPT_ECN */
    return (tsval & ~0x3fu) | ws | (sack ? 0x10u : 0u) | (ecn ? 0x20u : 0u);
}

void tw_cookie_ts_decode(uint32_t tsecr, int *wscale, bool *sack, bool *ecn)
{
    uint32_t ws = tsecr & 0xfu;
    *wscale = ws == 15 ? -1 : (int)(ws > 14 ? 14 : ws);
    *sack = (tsecr & 0x10u) != 0;
    *ecn = (tsecr & 0x20u) != 0;
}
