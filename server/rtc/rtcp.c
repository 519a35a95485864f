/* rtcp.c — RTCP compound framing and the RFC 3550 packets (SR, RR, SDES, BYE): validate, iterate,
 * marshal. No sockets, no clock, no malloc; feedback lives in rtcp_feedback.c and rtcp_twcc.c. */
#include "server/rtc/rtcp.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "server/rtc/rtcp_internal.h"

/*
 * RFC 3550 §6.4.1, the common header every RTCP packet starts with:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  RC/FMT |      PT       |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * "length: 16 bits. The length of this RTCP packet in 32-bit words minus one, including the
 * header and any padding." With P set, the last octet counts the padding octets including
 * itself. Appendix A.2's checks are applied to every packet of a compound: version 2, lengths
 * that add up to the datagram, a padding count inside the packet. A compound need not start
 * with SR/RR (reduced-size RTCP, RFC 5506), so that rule is not enforced.
 */
void tf__rtcp_header(uint8_t *out, bool padding, uint8_t count, uint8_t pt, size_t total)
{
    out[0] = (uint8_t)(0x80 | (padding ? 0x20 : 0) | (count & 0x1f));
    out[1] = pt;
    tf__wr16(out + 2, (uint16_t)(total / 4 - 1));
}

/*
 * §6.4.1 SR and §6.4.2 RR (RR lacks the sender info):
 *
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    RC   |   PT=SR=200   |             length            |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         SSRC of sender                        |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * sender |              NTP timestamp, most significant word             |
 * info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |             NTP timestamp, least significant word             |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         RTP timestamp                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                     sender's packet count                     |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      sender's octet count                     |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * report |                 SSRC_1 (SSRC of first source)                 |
 * block  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   1    | fraction lost |       cumulative number of packets lost       |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |           extended highest sequence number received           |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                      interarrival jitter                      |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                         last SR (LSR)                         |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                   delay since last SR (DLSR)                  |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * report |                 SSRC_2 (SSRC of second source)                |
 * block  :                               ...                             :
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *        |                  profile-specific extensions                  |
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Profile-specific extensions are accepted and skipped; marshal never writes them.
 */
#define RB_SIZE 24
#define SENDER_INFO_SIZE 20

static void parse_blocks(tf_rtcp_report_block_t *rb, uint8_t count, const uint8_t *b)
{
    for (int i = 0; i < count; i++, b += RB_SIZE) {
        uint32_t lost = tf__rd24(b + 5);
        rb[i] = (tf_rtcp_report_block_t){
            .ssrc = tf__rd32(b),
            .fraction_lost = b[4],
            .cumulative_lost = (int32_t)lost - (lost & 0x800000 ? 0x1000000 : 0),
            .highest_seq = tf__rd32(b + 8),
            .jitter = tf__rd32(b + 12),
            .lsr = tf__rd32(b + 16),
            .dlsr = tf__rd32(b + 20),
        };
    }
}

static void write_blocks(uint8_t *d, const tf_rtcp_report_block_t *rb, uint8_t count)
{
    for (int i = 0; i < count; i++, d += RB_SIZE) {
        int32_t lost = rb[i].cumulative_lost;
        lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : lost;
        tf__wr32(d, rb[i].ssrc);
        d[4] = rb[i].fraction_lost;
        tf__wr24(d + 5, (uint32_t)lost & 0xffffff);
        tf__wr32(d + 8, rb[i].highest_seq);
        tf__wr32(d + 12, rb[i].jitter);
        tf__wr32(d + 16, rb[i].lsr);
        tf__wr32(d + 20, rb[i].dlsr);
    }
}

static int parse_sr(tf_rtcp_sr_t *sr, uint8_t rc, const uint8_t *b, size_t len)
{
    if (len < 4 + SENDER_INFO_SIZE + (size_t)rc * RB_SIZE)
        return -EPROTO;
    sr->ssrc = tf__rd32(b);
    sr->ntp = (uint64_t)tf__rd32(b + 4) << 32 | tf__rd32(b + 8);
    sr->rtp_ts = tf__rd32(b + 12);
    sr->packet_count = tf__rd32(b + 16);
    sr->octet_count = tf__rd32(b + 20);
    sr->rb_count = rc;
    parse_blocks(sr->rb, rc, b + 4 + SENDER_INFO_SIZE);
    return 0;
}

static int parse_rr(tf_rtcp_rr_t *rr, uint8_t rc, const uint8_t *b, size_t len)
{
    if (len < 4 + (size_t)rc * RB_SIZE)
        return -EPROTO;
    rr->ssrc = tf__rd32(b);
    rr->rb_count = rc;
    parse_blocks(rr->rb, rc, b + 4);
    return 0;
}

/*
 * §6.5 SDES: chunks of an SSRC and items; each item is type(8) length(8) text:
 *
 *         0                   1                   2                   3
 *         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * header |V=2|P|    SC   |  PT=SDES=202  |             length            |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * chunk  |                          SSRC/CSRC_1                          |
 *   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |    CNAME=1    |     length    | user and domain name        ...
 *        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *        |                              ...                              |
 *        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *
 * §6.5: "The list of items in each chunk MUST be terminated by one or more null octets, the
 * first of which is interpreted as an item type of zero to denote the end of the list. No length
 * octet follows the null item type octet, but additional null octets MUST be included if needed
 * to pad until the next 32-bit boundary." Items other than CNAME are validated and skipped.
 */
static int parse_sdes(tf_rtcp_sdes_t *s, uint8_t sc, const uint8_t *b, size_t len)
{
    size_t off = 0;
    s->count = sc;
    for (int i = 0; i < sc; i++) {
        if (len - off < 4)
            return -EPROTO;
        s->chunk[i].ssrc = tf__rd32(b + off);
        off += 4;
        for (;;) {
            if (off >= len)
                return -EPROTO;
            uint8_t type = b[off];
            if (type == 0)
                break;
            if (len - off < 2 || len - off - 2 < b[off + 1])
                return -EPROTO;
            if (type == 1 && !s->chunk[i].cname) {
                s->chunk[i].cname = (const char *)b + off + 2;
                s->chunk[i].cname_len = b[off + 1];
            }
            off += 2u + b[off + 1];
        }
        off = (off + 4) & ~(size_t)3; /* the null octet, then up to the 32-bit boundary */
        if (off > len)
            return -EPROTO;
    }
    for (; off < len; off++) /* extra null words after the last chunk are tolerated */
        if (b[off])
            return -EPROTO;
    return 0;
}

static int sdes_body(const tf_rtcp_sdes_t *s, uint8_t *d)
{
    if (s->count > TF_RTCP_MAX_COUNT)
        return -EINVAL;
    size_t off = 0;
    for (int i = 0; i < s->count; i++) {
        if (d)
            tf__wr32(d + off, s->chunk[i].ssrc);
        off += 4;
        if (s->chunk[i].cname) {
            if (d) {
                d[off] = 1;
                d[off + 1] = s->chunk[i].cname_len;
                memcpy(d + off + 2, s->chunk[i].cname, s->chunk[i].cname_len);
            }
            off += 2u + s->chunk[i].cname_len;
        }
        size_t end = (off + 4) & ~(size_t)3;
        if (d)
            memset(d + off, 0, end - off);
        off = end;
    }
    return (int)off;
}

/*
 * §6.6 BYE:
 *
 *        0                   1                   2                   3
 *        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |V=2|P|    SC   |   PT=BYE=203  |             length            |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       |                           SSRC/CSRC                           |
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       :                              ...                              :
 *       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * (opt) |     length    |               reason for leaving            ...
 *       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int parse_bye(tf_rtcp_bye_t *y, uint8_t sc, const uint8_t *b, size_t len)
{
    if (len < 4u * sc)
        return -EPROTO;
    y->count = sc;
    for (int i = 0; i < sc; i++)
        y->ssrc[i] = tf__rd32(b + 4 * i);
    size_t off = 4u * sc;
    if (off < len) {
        if (b[off] > len - off - 1)
            return -EPROTO;
        y->reason_len = b[off];
        y->reason = (const char *)b + off + 1;
    }
    return 0;
}

static int bye_body(const tf_rtcp_bye_t *y, uint8_t *d)
{
    if (y->count > TF_RTCP_MAX_COUNT || (y->reason_len && !y->reason))
        return -EINVAL;
    size_t off = 4u * y->count, end = off;
    for (int i = 0; d && i < y->count; i++)
        tf__wr32(d + 4 * i, y->ssrc[i]);
    if (y->reason) {
        end = (off + 1u + y->reason_len + 3) & ~(size_t)3;
        if (d) {
            d[off] = y->reason_len;
            memcpy(d + off + 1, y->reason, y->reason_len);
            memset(d + off + 1 + y->reason_len, 0, end - off - 1 - y->reason_len);
        }
    }
    return (int)end;
}

/* Parses one packet at the front of `buf`: its total size, or -EPROTO. */
static int parse_one(const uint8_t *buf, size_t len, tf_rtcp_packet_t *out)
{
    if (len < 4 || buf[0] >> 6 != 2)
        return -EPROTO;
    size_t total = ((size_t)tf__rd16(buf + 2) + 1) * 4;
    if (total > len)
        return -EPROTO;
    size_t body_len = total - 4;
    if (buf[0] & 0x20) {
        uint8_t pad = buf[total - 1];
        if (pad == 0 || pad > body_len)
            return -EPROTO;
        body_len -= pad;
    }
    uint8_t count = buf[0] & 0x1f, pt = buf[1];
    const uint8_t *b = buf + 4;
    int err = 1;

    memset(out, 0, sizeof(*out));
    switch (pt) {
    case TF__RTCP_SR:
        out->type = TF_RTCP_SR;
        err = parse_sr(&out->sr, count, b, body_len);
        break;
    case TF__RTCP_RR:
        out->type = TF_RTCP_RR;
        err = parse_rr(&out->rr, count, b, body_len);
        break;
    case TF__RTCP_SDES:
        out->type = TF_RTCP_SDES;
        err = parse_sdes(&out->sdes, count, b, body_len);
        break;
    case TF__RTCP_BYE:
        out->type = TF_RTCP_BYE;
        err = parse_bye(&out->bye, count, b, body_len);
        break;
    case TF__RTCP_RTPFB:
    case TF__RTCP_PSFB:
        err = tf__rtcp_fb_parse(out, pt, count, b, body_len);
        break;
    }
    if (err < 0)
        return err;
    if (err == 1) {
        memset(out, 0, sizeof(*out));
        out->type = TF_RTCP_OTHER;
        out->other = (tf_rtcp_other_t){.pt = pt, .count = count, .body = b, .len = body_len};
    }
    return (int)total;
}

int tf_rtcp_iter_init(tf_rtcp_iter_t *it, const uint8_t *buf, size_t len)
{
    tf_rtcp_packet_t scratch;
    *it = (tf_rtcp_iter_t){0};
    if (len == 0)
        return -EPROTO;
    for (size_t off = 0; off < len;) {
        int n = parse_one(buf + off, len - off, &scratch);
        if (n < 0)
            return n;
        off += (size_t)n;
    }
    *it = (tf_rtcp_iter_t){.buf = buf, .len = len, .off = 0};
    return 0;
}

int tf_rtcp_iter_next(tf_rtcp_iter_t *it, tf_rtcp_packet_t *out)
{
    if (it->off >= it->len)
        return 0;
    int n = parse_one(it->buf + it->off, it->len - it->off, out);
    if (n < 0) {
        it->off = it->len;
        return n;
    }
    it->off += (size_t)n;
    return 1;
}

/* The unpadded body after the common header: written to `d` unless NULL; its size or -EINVAL. */
static int packet_body(const tf_rtcp_packet_t *p, uint8_t *d, uint8_t *pt, uint8_t *count)
{
    switch (p->type) {
    case TF_RTCP_SR:
        if (p->sr.rb_count > TF_RTCP_MAX_COUNT)
            return -EINVAL;
        *pt = TF__RTCP_SR;
        *count = p->sr.rb_count;
        if (d) {
            tf__wr32(d, p->sr.ssrc);
            tf__wr32(d + 4, (uint32_t)(p->sr.ntp >> 32));
            tf__wr32(d + 8, (uint32_t)p->sr.ntp);
            tf__wr32(d + 12, p->sr.rtp_ts);
            tf__wr32(d + 16, p->sr.packet_count);
            tf__wr32(d + 20, p->sr.octet_count);
            write_blocks(d + 4 + SENDER_INFO_SIZE, p->sr.rb, p->sr.rb_count);
        }
        return 4 + SENDER_INFO_SIZE + RB_SIZE * p->sr.rb_count;
    case TF_RTCP_RR:
        if (p->rr.rb_count > TF_RTCP_MAX_COUNT)
            return -EINVAL;
        *pt = TF__RTCP_RR;
        *count = p->rr.rb_count;
        if (d) {
            tf__wr32(d, p->rr.ssrc);
            write_blocks(d + 4, p->rr.rb, p->rr.rb_count);
        }
        return 4 + RB_SIZE * p->rr.rb_count;
    case TF_RTCP_SDES:
        *pt = TF__RTCP_SDES;
        *count = p->sdes.count;
        return sdes_body(&p->sdes, d);
    case TF_RTCP_BYE:
        *pt = TF__RTCP_BYE;
        *count = p->bye.count;
        return bye_body(&p->bye, d);
    case TF_RTCP_NACK:
    case TF_RTCP_PLI:
    case TF_RTCP_FIR:
    case TF_RTCP_REMB:
    case TF_RTCP_TWCC:
        return tf__rtcp_fb_body(p, d, pt, count);
    case TF_RTCP_OTHER:
        if (p->other.count > 31 || p->other.len >= TF__RTCP_MAX_LEN ||
            (p->other.len && !p->other.body))
            return -EINVAL;
        *pt = p->other.pt;
        *count = p->other.count;
        if (d && p->other.len)
            memcpy(d, p->other.body, p->other.len);
        return (int)p->other.len;
    }
    return -EINVAL;
}

size_t tf_rtcp_marshal_size(const tf_rtcp_packet_t *p)
{
    uint8_t pt, count;
    int n = packet_body(p, NULL, &pt, &count);
    return n < 0 ? 0 : 4 + (((size_t)n + 3) & ~(size_t)3);
}

int tf_rtcp_marshal_to(const tf_rtcp_packet_t *p, uint8_t *out, size_t cap)
{
    uint8_t pt, count;
    int n = packet_body(p, NULL, &pt, &count);
    if (n < 0)
        return n;
    size_t total = 4 + (((size_t)n + 3) & ~(size_t)3);
    if (total > TF__RTCP_MAX_LEN)
        return -EINVAL;
    if (total > cap)
        return -ENOBUFS;
    size_t pad = total - 4 - (size_t)n;
    tf__rtcp_header(out, pad != 0, count, pt, total);
    packet_body(p, out + 4, &pt, &count);
    if (pad) {
        memset(out + total - pad, 0, pad - 1);
        out[total - 1] = (uint8_t)pad;
    }
    return (int)total;
}

int tf_rtcp_compound_marshal_to(const tf_rtcp_packet_t *p, size_t n, uint8_t *out, size_t cap)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        int w = tf_rtcp_marshal_to(&p[i], out + off, cap - off);
        if (w < 0)
            return w;
        if (off > (size_t)(INT_MAX - w))
            return -EINVAL;
        off += (size_t)w;
    }
    return (int)off;
}
