/* addr.h — a transport address (IPv4 or IPv6 + UDP port) as plain bytes, so the sans-IO
 * protocol code can name peers without including socket headers. */
#ifndef TF_ADDR_H
#define TF_ADDR_H

#include <stdint.h>
#include <string.h>

#define TF_ADDR_V4 4
#define TF_ADDR_V6 6

typedef struct tf_addr {
    uint8_t family;   /* TF_ADDR_V4 or TF_ADDR_V6; 0 = unset */
    uint16_t port;    /* host byte order */
    uint8_t ip[16];   /* network byte order; IPv4 uses the first 4 bytes */
} tf_addr_t;

static inline int tf_addr_equal(const tf_addr_t *a, const tf_addr_t *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->ip, b->ip, a->family == TF_ADDR_V4 ? 4 : 16) == 0;
}

static inline tf_addr_t tf_addr_v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    tf_addr_t x = {TF_ADDR_V4, port, {a, b, c, d}};
    return x;
}

#endif
