/* stun.c — STUN message parser and builder (RFC 8489) with HMAC-SHA1/SHA256 integrity and
 * CRC-32 fingerprint; no sockets, no clock, no transactions, no allocation per message. */
#include "server/rtc/stun.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

/* RFC 8489 §5, the message header:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |0 0|     STUN Message Type     |         Message Length        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         Magic Cookie                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                                                               |
 *    |                     Transaction ID (96 bits)                  |
 *    |                                                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The message type interleaves the 12-bit method (M) and the 2-bit class (C):
 *
 *                        0                 1
 *                        2  3  4 5 6 7 8 9 0 1 2 3 4 5
 *                       +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 *                       |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
 *                       |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
 *                       +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Each attribute (§14) is TLV, its value padded to a multiple of 4 bytes:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Type                  |            Length             |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                         Value (variable)                ....
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

#define ATTR_HDR 4
#define MI_LEN 20
#define MI256_MAX 32
#define MI256_MIN 16
#define FP_LEN 4

struct tf_stun_key {
    EVP_MAC *mac;
    EVP_MAC_CTX *sha1;
    EVP_MAC_CTX *sha256;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)(v >> 32));
    wr32(p + 4, (uint32_t)v);
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EPROTO;
}

int tf_stun_is_stun(const uint8_t *buf, size_t len)
{
    /* RFC 7983 §7: a first byte in 0..3 is STUN; the cookie and length rule out the rest. */
    if (!buf || len < TF_STUN_HEADER_LEN || buf[0] > 3)
        return 0;
    if (rd32(buf + 4) != TF_STUN_MAGIC_COOKIE)
        return 0;
    size_t mlen = rd16(buf + 2);
    return (mlen & 3) == 0 && mlen + TF_STUN_HEADER_LEN == len;
}

void tf_stun_msg_init(tf_stun_msg_t *msg, int cls, uint16_t method, const uint8_t *tid)
{
    memset(msg, 0, sizeof(*msg));
    msg->cls = (uint8_t)cls;
    msg->method = method;
    if (tid)
        memcpy(msg->tid, tid, TF_STUN_TID_LEN);
}

static uint16_t type_encode(int cls, uint16_t m)
{
    return (uint16_t)((m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2 | (cls & 1) << 4 |
                      (cls & 2) << 7);
}

static void type_decode(uint16_t t, uint8_t *cls, uint16_t *m)
{
    *m = (uint16_t)((t & 0x000F) | (t & 0x00E0) >> 1 | (t & 0x3E00) >> 2);
    *cls = (uint8_t)((t >> 4 & 1) | (t >> 7 & 2));
}

/* The HMAC of buf[0..off) where the attribute at off is `attr_len` bytes long (header included):
 * RFC 8489 §14.5: "the Length field in the STUN header must be adjusted to point to the end of
 * the MESSAGE-INTEGRITY attribute prior to calculating the HMAC"; §14.6 the same for SHA256. */
static int mac_compute(EVP_MAC_CTX *ctx, const uint8_t *buf, size_t off, size_t attr_len,
                       uint8_t *out, size_t out_cap)
{
    uint8_t len_field[2];
    size_t outl = 0;
    wr16(len_field, (uint16_t)(off + attr_len - TF_STUN_HEADER_LEN));
    if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(ctx, buf, 2) != 1 ||
        EVP_MAC_update(ctx, len_field, 2) != 1 || EVP_MAC_update(ctx, buf + 4, off - 4) != 1 ||
        EVP_MAC_final(ctx, out, &outl, out_cap) != 1 || outl != out_cap)
        return -EIO;
    return 0;
}

/* RFC 8489 §14.7: "the CRC-32 of the STUN message up to (but excluding) the FINGERPRINT
 * attribute itself, XOR'ed with the 32-bit value 0x5354554e"; the length field must already
 * count the FINGERPRINT attribute, which it does as FINGERPRINT is last. */
static uint32_t fingerprint(const uint8_t *buf, size_t off)
{
    return (uint32_t)crc32(0L, buf, (uInt)off) ^ TF_STUN_FINGERPRINT_XOR;
}

static void add_type(uint16_t *list, uint8_t *n, uint16_t type)
{
    for (int i = 0; i < *n; i++)
        if (list[i] == type)
            return;
    if (*n < TF_STUN_MAX_UNKNOWN)
        list[(*n)++] = type;
}

/* XOR-MAPPED-ADDRESS (RFC 8489 §14.2):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                X-Address (Variable)
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "X-Port is computed by XOR'ing the mapped port with the most significant 16 bits of the magic
 * cookie. If the IP address family is IPv4, X-Address is computed by XOR'ing the mapped IP
 * address with the magic cookie. If the IP address family is IPv6, X-Address is computed by
 * XOR'ing the mapped IP address with the concatenation of the magic cookie and the 96-bit
 * transaction ID." The XOR is its own inverse, so one routine encodes and decodes. */
static void xor_address(uint8_t *ip, size_t n, uint16_t *port, const uint8_t *tid)
{
    uint8_t mask[16];
    wr32(mask, TF_STUN_MAGIC_COOKIE);
    memcpy(mask + 4, tid, TF_STUN_TID_LEN);
    for (size_t i = 0; i < n; i++)
        ip[i] ^= mask[i];
    *port ^= (uint16_t)(TF_STUN_MAGIC_COOKIE >> 16);
}

static int parse_xor_mapped(tf_stun_msg_t *msg, const uint8_t *v, size_t n, char *err,
                            size_t errlen)
{
    if (n < 4)
        return fail(err, errlen, "XOR-MAPPED-ADDRESS of %zu bytes", n);
    tf_addr_t a;
    memset(&a, 0, sizeof(a));
    size_t iplen;
    if (v[1] == 0x01) {
        a.family = TF_ADDR_V4;
        iplen = 4;
    } else if (v[1] == 0x02) {
        a.family = TF_ADDR_V6;
        iplen = 16;
    } else {
        return fail(err, errlen, "XOR-MAPPED-ADDRESS family 0x%02x", v[1]);
    }
    if (n != 4 + iplen)
        return fail(err, errlen, "XOR-MAPPED-ADDRESS of %zu bytes for family %u", n, v[1]);
    a.port = rd16(v + 2);
    memcpy(a.ip, v + 4, iplen);
    xor_address(a.ip, iplen, &a.port, msg->tid);
    msg->xor_mapped = a;
    return 0;
}

/* ERROR-CODE (RFC 8489 §14.8):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |           Reserved, should be 0         |Class|     Number    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |      Reason Phrase (variable)                                ..
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "The Class represents the hundreds digit of the error code. The value MUST be between 3 and
 * 6. The Number represents the binary encoding of the error code modulo 100, and its value MUST
 * be between 0 and 99." Receivers "MUST ignore" the reserved bits. */
static int parse_error_code(tf_stun_msg_t *msg, const uint8_t *v, size_t n, char *err,
                            size_t errlen)
{
    if (n < 4 || n - 4 > TF_STUN_MAX_TEXT)
        return fail(err, errlen, "ERROR-CODE of %zu bytes", n);
    unsigned cls = v[2] & 7, num = v[3];
    if (cls < 3 || cls > 6 || num > 99)
        return fail(err, errlen, "ERROR-CODE class %u number %u", cls, num);
    msg->error_code = (uint16_t)(cls * 100 + num);
    msg->reason = (const char *)v + 4;
    msg->reason_len = n - 4;
    return 0;
}

/* One attribute before any integrity attribute. Duplicates are ignored: RFC 8489 §14, "only the
 * first occurrence needs to be processed by a receiver". */
static int parse_attr(tf_stun_msg_t *msg, uint16_t type, const uint8_t *v, size_t n, char *err,
                      size_t errlen)
{
    static const struct {
        uint16_t type;
        uint32_t bit;
    } known[] = {
        {TF_STUN_ATTR_USERNAME, TF_STUN_HAS_USERNAME},
        {TF_STUN_ATTR_SOFTWARE, TF_STUN_HAS_SOFTWARE},
        {TF_STUN_ATTR_ERROR_CODE, TF_STUN_HAS_ERROR_CODE},
        {TF_STUN_ATTR_UNKNOWN_ATTRIBUTES, TF_STUN_HAS_UNKNOWN_ATTRIBUTES},
        {TF_STUN_ATTR_XOR_MAPPED_ADDRESS, TF_STUN_HAS_XOR_MAPPED_ADDRESS},
        {TF_STUN_ATTR_PRIORITY, TF_STUN_HAS_PRIORITY},
        {TF_STUN_ATTR_USE_CANDIDATE, TF_STUN_HAS_USE_CANDIDATE},
        {TF_STUN_ATTR_ICE_CONTROLLED, TF_STUN_HAS_ICE_CONTROLLED},
        {TF_STUN_ATTR_ICE_CONTROLLING, TF_STUN_HAS_ICE_CONTROLLING},
    };
    uint32_t bit = 0;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !bit; i++)
        if (known[i].type == type)
            bit = known[i].bit;
    if (!bit) {
        /* RFC 8489 §6.3: "Unknown comprehension-optional attributes MUST be ignored by the
         * agent"; comprehension-required ones (0x0000..0x7FFF) are reported for a 420. */
        if (type < 0x8000)
            add_type(msg->unhandled, &msg->n_unhandled, type);
        return 0;
    }
    if (msg->has & bit)
        return 0;

    int rc = 0;
    switch (type) {
    case TF_STUN_ATTR_USERNAME:
    case TF_STUN_ATTR_SOFTWARE:
        /* §14.3: "A compliant implementation MUST be able to parse a UTF-8-encoded sequence of
         * 763 or fewer octets"; longer is malformed. UTF-8 validity is the user's concern. */
        if (n > TF_STUN_MAX_TEXT)
            return fail(err, errlen, "attribute 0x%04x of %zu bytes", type, n);
        if (type == TF_STUN_ATTR_USERNAME) {
            msg->username = (const char *)v;
            msg->username_len = n;
        } else {
            msg->software = (const char *)v;
            msg->software_len = n;
        }
        break;
    case TF_STUN_ATTR_ERROR_CODE:
        rc = parse_error_code(msg, v, n, err, errlen);
        break;
    case TF_STUN_ATTR_UNKNOWN_ATTRIBUTES:
        /* §14.13: "a list of 16-bit values". */
        if (n & 1)
            return fail(err, errlen, "UNKNOWN-ATTRIBUTES of odd length %zu", n);
        for (size_t i = 0; i + 2 <= n && msg->n_unknown < TF_STUN_MAX_UNKNOWN; i += 2)
            msg->unknown[msg->n_unknown++] = rd16(v + i);
        break;
    case TF_STUN_ATTR_XOR_MAPPED_ADDRESS:
        rc = parse_xor_mapped(msg, v, n, err, errlen);
        break;
    case TF_STUN_ATTR_PRIORITY:
        if (n != 4)
            return fail(err, errlen, "PRIORITY of %zu bytes", n);
        msg->priority = rd32(v);
        break;
    case TF_STUN_ATTR_USE_CANDIDATE:
        if (n != 0)
            return fail(err, errlen, "USE-CANDIDATE of %zu bytes", n);
        break;
    case TF_STUN_ATTR_ICE_CONTROLLED:
    case TF_STUN_ATTR_ICE_CONTROLLING:
        if (n != 8)
            return fail(err, errlen, "ICE-CONTROLLED/-CONTROLLING of %zu bytes", n);
        if (type == TF_STUN_ATTR_ICE_CONTROLLED)
            msg->ice_controlled = rd64(v);
        else
            msg->ice_controlling = rd64(v);
        break;
    }
    if (rc == 0)
        msg->has |= bit;
    return rc;
}

int tf_stun_parse(tf_stun_msg_t *msg, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    if (!msg || (!buf && len))
        return -EINVAL;
    memset(msg, 0, sizeof(*msg));
    if (err && errlen)
        err[0] = '\0';
    /* RFC 8489 §6.3: the agent "checks that the first two bits are 0, that the Magic Cookie
     * field has the correct value, that the message length is sensible". */
    if (len < TF_STUN_HEADER_LEN)
        return fail(err, errlen, "%zu bytes, shorter than the header", len);
    if (buf[0] & 0xC0)
        return fail(err, errlen, "first two bits not zero");
    if (rd32(buf + 4) != TF_STUN_MAGIC_COOKIE)
        return fail(err, errlen, "no magic cookie");
    size_t mlen = rd16(buf + 2);
    if (mlen & 3)
        return fail(err, errlen, "length %zu not a multiple of 4", mlen);
    if (mlen + TF_STUN_HEADER_LEN != len)
        return fail(err, errlen, "length field %zu but %zu bytes follow the header", mlen,
                    len - TF_STUN_HEADER_LEN);
    type_decode(rd16(buf), &msg->cls, &msg->method);
    memcpy(msg->tid, buf + 8, TF_STUN_TID_LEN);

    /* RFC 8489 §9: "agents MUST ignore all attributes that follow MESSAGE-INTEGRITY, with the
     * exception of the MESSAGE-INTEGRITY-SHA256 and FINGERPRINT attributes. Similarly, agents
     * MUST ignore all attributes that follow the MESSAGE-INTEGRITY-SHA256 attribute if the
     * MESSAGE-INTEGRITY attribute is not present, with the exception of the FINGERPRINT
     * attribute." */
    size_t off = TF_STUN_HEADER_LEN;
    while (off < len) {
        if (len - off < ATTR_HDR)
            return fail(err, errlen, "truncated attribute header at %zu", off);
        uint16_t type = rd16(buf + off);
        size_t n = rd16(buf + off + 2);
        if (pad4(n) > len - off - ATTR_HDR)
            return fail(err, errlen, "attribute 0x%04x of %zu bytes overruns the message", type, n);
        const uint8_t *v = buf + off + ATTR_HDR;
        /* §14.7: "When present, the FINGERPRINT attribute MUST be the last attribute". */
        if (msg->has & TF_STUN_HAS_FINGERPRINT)
            return fail(err, errlen, "attribute 0x%04x after FINGERPRINT", type);
        int rc = 0;
        if (type == TF_STUN_ATTR_FINGERPRINT) {
            if (n != FP_LEN)
                return fail(err, errlen, "FINGERPRINT of %zu bytes", n);
            msg->fingerprint = rd32(v);
            if (msg->fingerprint != fingerprint(buf, off))
                return fail(err, errlen, "FINGERPRINT mismatch");
            msg->has |= TF_STUN_HAS_FINGERPRINT;
        } else if (msg->has & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256) {
            /* Only FINGERPRINT may follow: ignored. */
        } else if (type == TF_STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
            /* §14.6: "it MUST be at least 16 bytes and MUST be a multiple of 4 bytes". */
            if (n < MI256_MIN || n > MI256_MAX || (n & 3))
                return fail(err, errlen, "MESSAGE-INTEGRITY-SHA256 of %zu bytes", n);
            memcpy(msg->integrity_sha256, v, n);
            msg->integrity_sha256_len = (uint8_t)n;
            msg->integrity_sha256_off = off;
            msg->has |= TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256;
        } else if (msg->has & TF_STUN_HAS_MESSAGE_INTEGRITY) {
            /* Ignored (§9). */
        } else if (type == TF_STUN_ATTR_MESSAGE_INTEGRITY) {
            if (n != MI_LEN)
                return fail(err, errlen, "MESSAGE-INTEGRITY of %zu bytes", n);
            memcpy(msg->integrity, v, MI_LEN);
            msg->integrity_off = off;
            msg->has |= TF_STUN_HAS_MESSAGE_INTEGRITY;
        } else {
            rc = parse_attr(msg, type, v, n, err, errlen);
        }
        if (rc < 0)
            return rc;
        off += ATTR_HDR + pad4(n);
    }
    msg->raw = buf;
    msg->raw_len = len;
    return 0;
}

static size_t attr_size(size_t n)
{
    return ATTR_HDR + pad4(n);
}

static size_t mi256_len(const tf_stun_msg_t *msg)
{
    return msg->integrity_sha256_len ? msg->integrity_sha256_len : MI256_MAX;
}

size_t tf_stun_marshal_size(const tf_stun_msg_t *msg)
{
    size_t n = TF_STUN_HEADER_LEN;
    uint32_t has = msg->has;
    if (has & TF_STUN_HAS_SOFTWARE)
        n += attr_size(msg->software_len);
    if (has & TF_STUN_HAS_XOR_MAPPED_ADDRESS)
        n += attr_size(msg->xor_mapped.family == TF_ADDR_V6 ? 20 : 8);
    if (has & TF_STUN_HAS_ERROR_CODE)
        n += attr_size(4 + msg->reason_len);
    if (has & TF_STUN_HAS_UNKNOWN_ATTRIBUTES)
        n += attr_size(2 * (size_t)msg->n_unknown);
    if (has & TF_STUN_HAS_PRIORITY)
        n += attr_size(4);
    if (has & TF_STUN_HAS_USE_CANDIDATE)
        n += attr_size(0);
    if (has & TF_STUN_HAS_ICE_CONTROLLED)
        n += attr_size(8);
    if (has & TF_STUN_HAS_ICE_CONTROLLING)
        n += attr_size(8);
    if (has & TF_STUN_HAS_USERNAME)
        n += attr_size(msg->username_len);
    if (has & TF_STUN_HAS_MESSAGE_INTEGRITY)
        n += attr_size(MI_LEN);
    if (has & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256)
        n += attr_size(mi256_len(msg));
    if (has & TF_STUN_HAS_FINGERPRINT)
        n += attr_size(FP_LEN);
    return n;
}

static int text_ok(const char *s, size_t n)
{
    return n <= TF_STUN_MAX_TEXT && (s || n == 0);
}

static int msg_valid(const tf_stun_msg_t *msg, const tf_stun_key_t *key)
{
    uint32_t has = msg->has;
    size_t l256 = mi256_len(msg);
    if (msg->cls > TF_STUN_ERROR || msg->method > 0xFFF)
        return 0;
    if ((has & TF_STUN_HAS_SOFTWARE) && !text_ok(msg->software, msg->software_len))
        return 0;
    if ((has & TF_STUN_HAS_USERNAME) && !text_ok(msg->username, msg->username_len))
        return 0;
    if ((has & TF_STUN_HAS_ERROR_CODE) &&
        (msg->error_code < 300 || msg->error_code > 699 || !text_ok(msg->reason, msg->reason_len)))
        return 0;
    if ((has & TF_STUN_HAS_UNKNOWN_ATTRIBUTES) && msg->n_unknown > TF_STUN_MAX_UNKNOWN)
        return 0;
    if ((has & TF_STUN_HAS_XOR_MAPPED_ADDRESS) && msg->xor_mapped.family != TF_ADDR_V4 &&
        msg->xor_mapped.family != TF_ADDR_V6)
        return 0;
    if ((has & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256) &&
        (l256 < MI256_MIN || l256 > MI256_MAX || (l256 & 3)))
        return 0;
    if ((has & (TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256)) && !key)
        return 0;
    return 1;
}

/* Appends one attribute's header and value, padding with msg->padding; returns the new end. */
static size_t put_attr(uint8_t *buf, size_t off, uint16_t type, const void *v, size_t n,
                       uint8_t padding)
{
    wr16(buf + off, type);
    wr16(buf + off + 2, (uint16_t)n);
    if (n)
        memcpy(buf + off + ATTR_HDR, v, n);
    memset(buf + off + ATTR_HDR + n, padding, pad4(n) - n);
    return off + attr_size(n);
}

int tf_stun_marshal_to(const tf_stun_msg_t *msg, tf_stun_key_t *key, uint8_t *buf, size_t cap,
                       size_t *out_len)
{
    if (!msg || !buf || !out_len || !msg_valid(msg, key))
        return -EINVAL;
    size_t total = tf_stun_marshal_size(msg);
    if (total > cap)
        return -ENOBUFS;
    uint32_t has = msg->has;
    uint8_t pad = msg->padding, v[20];
    size_t off = TF_STUN_HEADER_LEN;

    wr16(buf, type_encode(msg->cls, msg->method));
    wr16(buf + 2, 0);
    wr32(buf + 4, TF_STUN_MAGIC_COOKIE);
    memcpy(buf + 8, msg->tid, TF_STUN_TID_LEN);

    if (has & TF_STUN_HAS_SOFTWARE)
        off = put_attr(buf, off, TF_STUN_ATTR_SOFTWARE, msg->software, msg->software_len, pad);
    if (has & TF_STUN_HAS_XOR_MAPPED_ADDRESS) {
        tf_addr_t a = msg->xor_mapped;
        size_t iplen = a.family == TF_ADDR_V6 ? 16 : 4;
        xor_address(a.ip, iplen, &a.port, msg->tid);
        v[0] = 0;
        v[1] = a.family == TF_ADDR_V6 ? 0x02 : 0x01;
        wr16(v + 2, a.port);
        memcpy(v + 4, a.ip, iplen);
        off = put_attr(buf, off, TF_STUN_ATTR_XOR_MAPPED_ADDRESS, v, 4 + iplen, pad);
    }
    if (has & TF_STUN_HAS_ERROR_CODE) {
        /* Written in two steps: the reason is copied straight from the caller. */
        size_t n = 4 + msg->reason_len;
        wr16(buf + off, TF_STUN_ATTR_ERROR_CODE);
        wr16(buf + off + 2, (uint16_t)n);
        wr32(buf + off + 4, (uint32_t)(msg->error_code / 100) << 8 | msg->error_code % 100);
        if (msg->reason_len)
            memcpy(buf + off + 8, msg->reason, msg->reason_len);
        memset(buf + off + ATTR_HDR + n, pad, pad4(n) - n);
        off += attr_size(n);
    }
    if (has & TF_STUN_HAS_UNKNOWN_ATTRIBUTES) {
        uint8_t list[2 * TF_STUN_MAX_UNKNOWN];
        for (int i = 0; i < msg->n_unknown; i++)
            wr16(list + 2 * i, msg->unknown[i]);
        off = put_attr(buf, off, TF_STUN_ATTR_UNKNOWN_ATTRIBUTES, list, 2 * (size_t)msg->n_unknown,
                       pad);
    }
    if (has & TF_STUN_HAS_PRIORITY) {
        wr32(v, msg->priority);
        off = put_attr(buf, off, TF_STUN_ATTR_PRIORITY, v, 4, pad);
    }
    if (has & TF_STUN_HAS_USE_CANDIDATE)
        off = put_attr(buf, off, TF_STUN_ATTR_USE_CANDIDATE, NULL, 0, pad);
    if (has & TF_STUN_HAS_ICE_CONTROLLED) {
        wr64(v, msg->ice_controlled);
        off = put_attr(buf, off, TF_STUN_ATTR_ICE_CONTROLLED, v, 8, pad);
    }
    if (has & TF_STUN_HAS_ICE_CONTROLLING) {
        wr64(v, msg->ice_controlling);
        off = put_attr(buf, off, TF_STUN_ATTR_ICE_CONTROLLING, v, 8, pad);
    }
    if (has & TF_STUN_HAS_USERNAME)
        off = put_attr(buf, off, TF_STUN_ATTR_USERNAME, msg->username, msg->username_len, pad);
    if (has & TF_STUN_HAS_MESSAGE_INTEGRITY) {
        if (mac_compute(key->sha1, buf, off, attr_size(MI_LEN), v, MI_LEN) < 0)
            return -EIO;
        off = put_attr(buf, off, TF_STUN_ATTR_MESSAGE_INTEGRITY, v, MI_LEN, pad);
    }
    if (has & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256) {
        uint8_t h[MI256_MAX];
        size_t n = mi256_len(msg);
        if (mac_compute(key->sha256, buf, off, attr_size(n), h, sizeof(h)) < 0)
            return -EIO;
        off = put_attr(buf, off, TF_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, h, n, pad);
    }
    if (has & TF_STUN_HAS_FINGERPRINT) {
        wr16(buf + 2, (uint16_t)(off + attr_size(FP_LEN) - TF_STUN_HEADER_LEN));
        wr32(v, fingerprint(buf, off));
        off = put_attr(buf, off, TF_STUN_ATTR_FINGERPRINT, v, FP_LEN, pad);
    }
    wr16(buf + 2, (uint16_t)(off - TF_STUN_HEADER_LEN));
    *out_len = off;
    return 0;
}

static EVP_MAC_CTX *hmac_ctx(EVP_MAC *mac, const char *digest, const void *pw, size_t len)
{
    static const uint8_t empty[1];
    OSSL_PARAM params[2];
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (!ctx)
        return NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (EVP_MAC_init(ctx, len ? pw : empty, len, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int tf_stun_key_create(tf_stun_key_t **out, const void *password, size_t len)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!password && len)
        return -EINVAL;
    tf_stun_key_t *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!k->mac)
        goto err;
    k->sha1 = hmac_ctx(k->mac, "SHA1", password, len);
    k->sha256 = hmac_ctx(k->mac, "SHA256", password, len);
    if (!k->sha1 || !k->sha256)
        goto err;
    *out = k;
    return 0;
err:
    tf_stun_key_destroy(&k);
    return -EIO;
}

void tf_stun_key_destroy(tf_stun_key_t **key)
{
    if (!key || !*key)
        return;
    EVP_MAC_CTX_free((*key)->sha1);
    EVP_MAC_CTX_free((*key)->sha256);
    EVP_MAC_free((*key)->mac);
    free(*key);
    *key = NULL;
}

int tf_stun_check_integrity(const tf_stun_msg_t *msg, tf_stun_key_t *key)
{
    if (!msg || !key || !msg->raw)
        return -EINVAL;
    uint8_t h[MI256_MAX];
    if (msg->has & TF_STUN_HAS_MESSAGE_INTEGRITY_SHA256) {
        size_t n = msg->integrity_sha256_len, off = msg->integrity_sha256_off;
        if (off + attr_size(n) > msg->raw_len)
            return -EINVAL;
        if (mac_compute(key->sha256, msg->raw, off, attr_size(n), h, sizeof(h)) < 0)
            return -EIO;
        return CRYPTO_memcmp(h, msg->integrity_sha256, n) == 0 ? 0 : -EACCES;
    }
    if (msg->has & TF_STUN_HAS_MESSAGE_INTEGRITY) {
        size_t off = msg->integrity_off;
        if (off + attr_size(MI_LEN) > msg->raw_len)
            return -EINVAL;
        if (mac_compute(key->sha1, msg->raw, off, attr_size(MI_LEN), h, MI_LEN) < 0)
            return -EIO;
        return CRYPTO_memcmp(h, msg->integrity, MI_LEN) == 0 ? 0 : -EACCES;
    }
    return -ENOENT;
}

const char *tf_stun_reason(int code)
{
    static const struct {
        int code;
        const char *reason;
    } reasons[] = {
        {300, "Try Alternate"}, {400, "Bad Request"},       {401, "Unauthenticated"},
        {403, "Forbidden"},     {420, "Unknown Attribute"}, {438, "Stale Nonce"},
        {487, "Role Conflict"}, {500, "Server Error"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].code == code)
            return reasons[i].reason;
    return "";
}
