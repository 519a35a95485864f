/* rtcp_feedback.c — RTCP feedback messages: generic NACK, PLI (RFC 4585), FIR (RFC 5104) and
 * REMB; transport-cc is in rtcp_twcc.c. Wire format only: no retransmission or rate logic here. */
#include "server/rtc/rtcp_feedback.h"

#include <errno.h>
#include <string.h>

#include "server/rtc/rtcp_internal.h"

/*
 * RFC 4585 §6.1, the common format of RTPFB (205) and PSFB (206) messages:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|   FMT   |       PT      |          length               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  SSRC of packet sender                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  SSRC of media source                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * :            Feedback Control Information (FCI)                 :
 *
 * §6.2.1 Generic NACK (RTPFB, FMT 1), FCI one or more of:
 *
 * |            PID                |             BLP               |
 *
 * "The FCI field MUST contain at least one and MAY contain more than one Generic NACK." BLP:
 * "Denoting the BLP's least significant bit as bit 1, and its most significant bit as bit 16,
 * then bit i of the bit mask is set to 1 if the receiver has not received RTP packet number
 * (PID+i) (modulo 2^16)".
 *
 * §6.3.1 PLI (PSFB, FMT 1): no FCI; "the length field MUST be 2". Longer ones are accepted and
 * the extra bytes ignored, as libwebrtc does.
 *
 * RFC 5104 §4.3.1.1 FIR (PSFB, FMT 4), FCI one or more of:
 *
 * |                              SSRC                             |
 * | Seq nr.       |    Reserved                                   |
 *
 * The common part's media source SSRC is unused (0); each FCI entry names its stream.
 *
 * draft-alvestrand-rmcat-remb-03 §2.2 REMB (PSFB, FMT 15, application layer feedback):
 *
 * |  Unique identifier 'R' 'E' 'M' 'B'                            |
 * |  Num SSRC     | BR Exp    |  BR Mantissa                      |
 * |   SSRC feedback                                               |
 * |  ...                                                          |
 *
 * The bitrate is mantissa << exponent bits per second; a value that overflows 64 bits is
 * malformed. Other application layer feedback stays TF_RTCP_OTHER.
 */
#define FB_COMMON 8
#define FMT_NACK 1
#define FMT_PLI 1
#define FMT_FIR 4
#define FMT_AFB 15
#define FMT_TWCC 15
#define REMB_MANTISSA_MAX 0x3ffffu

static int parse_remb(tf_rtcp_remb_t *r, const uint8_t *b, size_t len)
{
    if (len < 16)
        return -EPROTO;
    uint8_t n = b[12], exp = b[13] >> 2;
    uint64_t mantissa = (uint64_t)(b[13] & 3) << 16 | tf__rd16(b + 14);
    if (len != 16 + 4u * n)
        return -EPROTO;
    uint64_t bps = mantissa << exp;
    if (bps >> exp != mantissa)
        return -EPROTO;
    r->sender_ssrc = tf__rd32(b);
    r->bitrate_bps = bps;
    r->ssrc_count = n;
    for (int i = 0; i < n; i++)
        r->ssrc[i] = tf__rd32(b + 16 + 4 * i);
    return 0;
}

int tf__rtcp_fb_parse(tf_rtcp_packet_t *out, uint8_t pt, uint8_t fmt, const uint8_t *b, size_t len)
{
    if (len < FB_COMMON)
        return -EPROTO;
    uint32_t sender = tf__rd32(b), media = tf__rd32(b + 4);
    size_t fci = len - FB_COMMON;

    if (pt == TF__RTCP_RTPFB && fmt == FMT_NACK) {
        if (fci == 0 || fci % 4)
            return -EPROTO;
        out->type = TF_RTCP_NACK;
        out->nack = (tf_rtcp_nack_t){sender, media, fci / 4, b + FB_COMMON};
        return 0;
    }
    if (pt == TF__RTCP_RTPFB && fmt == FMT_TWCC) {
        out->type = TF_RTCP_TWCC;
        return tf__rtcp_twcc_parse(&out->twcc, b, len);
    }
    if (pt == TF__RTCP_PSFB && fmt == FMT_PLI) {
        out->type = TF_RTCP_PLI;
        out->pli = (tf_rtcp_fb_t){sender, media};
        return 0;
    }
    if (pt == TF__RTCP_PSFB && fmt == FMT_FIR) {
        if (fci == 0 || fci % 8)
            return -EPROTO;
        out->type = TF_RTCP_FIR;
        out->fir = (tf_rtcp_fir_t){sender, media, fci / 8, b + FB_COMMON};
        return 0;
    }
    if (pt == TF__RTCP_PSFB && fmt == FMT_AFB && fci >= 4 && !memcmp(b + 8, "REMB", 4)) {
        out->type = TF_RTCP_REMB;
        return parse_remb(&out->remb, b, len);
    }
    return 1;
}

static void write_common(uint8_t *d, uint32_t sender, uint32_t media)
{
    tf__wr32(d, sender);
    tf__wr32(d + 4, media);
}

static int remb_body(const tf_rtcp_remb_t *r, uint8_t *d)
{
    if (d) {
        uint8_t exp = 0;
        while ((r->bitrate_bps >> exp) > REMB_MANTISSA_MAX)
            exp++;
        uint32_t mantissa = (uint32_t)(r->bitrate_bps >> exp);
        write_common(d, r->sender_ssrc, 0);
        memcpy(d + 8, "REMB", 4);
        d[12] = r->ssrc_count;
        d[13] = (uint8_t)(exp << 2 | mantissa >> 16);
        tf__wr16(d + 14, (uint16_t)mantissa);
        for (int i = 0; i < r->ssrc_count; i++)
            tf__wr32(d + 16 + 4 * i, r->ssrc[i]);
    }
    return 16 + 4 * r->ssrc_count;
}

int tf__rtcp_fb_body(const tf_rtcp_packet_t *p, uint8_t *d, uint8_t *pt, uint8_t *fmt)
{
    switch (p->type) {
    case TF_RTCP_NACK:
        if (p->nack.pair_count == 0 || p->nack.pair_count > 0xfffd || !p->nack.fci)
            return -EINVAL;
        *pt = TF__RTCP_RTPFB;
        *fmt = FMT_NACK;
        if (d) {
            write_common(d, p->nack.sender_ssrc, p->nack.media_ssrc);
            memcpy(d + FB_COMMON, p->nack.fci, 4 * p->nack.pair_count);
        }
        return (int)(FB_COMMON + 4 * p->nack.pair_count);
    case TF_RTCP_PLI:
        *pt = TF__RTCP_PSFB;
        *fmt = FMT_PLI;
        if (d)
            write_common(d, p->pli.sender_ssrc, p->pli.media_ssrc);
        return FB_COMMON;
    case TF_RTCP_FIR:
        if (p->fir.count == 0 || p->fir.count > 0x7ffe || !p->fir.fci)
            return -EINVAL;
        *pt = TF__RTCP_PSFB;
        *fmt = FMT_FIR;
        if (d) {
            write_common(d, p->fir.sender_ssrc, p->fir.media_ssrc);
            memcpy(d + FB_COMMON, p->fir.fci, 8 * p->fir.count);
        }
        return (int)(FB_COMMON + 8 * p->fir.count);
    case TF_RTCP_REMB:
        *pt = TF__RTCP_PSFB;
        *fmt = FMT_AFB;
        return remb_body(&p->remb, d);
    case TF_RTCP_TWCC:
        *pt = TF__RTCP_RTPFB;
        *fmt = FMT_TWCC;
        return tf__rtcp_twcc_body(&p->twcc, d);
    default:
        return -EINVAL;
    }
}

int tf_rtcp_nack_lost(const tf_rtcp_nack_t *n, uint16_t *seq, size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < n->pair_count; i++) {
        uint16_t pid = tf__rd16(n->fci + 4 * i), blp = tf__rd16(n->fci + 4 * i + 2);
        for (int bit = -1; bit < 16; bit++) {
            if (bit >= 0 && !(blp >> bit & 1))
                continue;
            if (count == cap)
                return -ENOBUFS;
            seq[count++] = (uint16_t)(pid + bit + 1);
        }
    }
    return count > 0x7fffffff ? -ENOBUFS : (int)count;
}

/* Folds `lost` into PID+BLP pairs, written to `fci` unless NULL; returns the number of pairs. A
 * seq joins the open pair when it is 1..16 after its PID, else it opens a new pair. */
static size_t nack_pairs(const uint16_t *lost, size_t n, uint8_t *fci)
{
    size_t pairs = 0;
    uint16_t pid = 0, blp = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t d = (uint16_t)(lost[i] - pid);
        if (pairs && d == 0)
            continue;
        if (pairs && d <= 16) {
            blp |= (uint16_t)(1u << (d - 1));
        } else {
            pid = lost[i];
            blp = 0;
            pairs++;
        }
        if (fci) {
            tf__wr16(fci + 4 * (pairs - 1), pid);
            tf__wr16(fci + 4 * (pairs - 1) + 2, blp);
        }
    }
    return pairs;
}

size_t tf_rtcp_nack_build_size(const uint16_t *lost, size_t n)
{
    size_t pairs = nack_pairs(lost, n, NULL);
    return pairs == 0 || pairs > 0xfffd ? 0 : 4 + FB_COMMON + 4 * pairs;
}

int tf_rtcp_nack_build_to(uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *lost, size_t n,
                          uint8_t *out, size_t cap)
{
    size_t size = tf_rtcp_nack_build_size(lost, n);
    if (size == 0)
        return -EINVAL;
    if (size > cap)
        return -ENOBUFS;
    tf__rtcp_header(out, false, FMT_NACK, TF__RTCP_RTPFB, size);
    write_common(out + 4, sender_ssrc, media_ssrc);
    nack_pairs(lost, n, out + 4 + FB_COMMON);
    return (int)size;
}

tf_rtcp_fir_entry_t tf_rtcp_fir_entry(const tf_rtcp_fir_t *f, size_t i)
{
    const uint8_t *e = f->fci + 8 * i;
    return (tf_rtcp_fir_entry_t){.ssrc = tf__rd32(e), .seq_nr = e[4]};
}

int tf_rtcp_fir_build_to(uint32_t sender_ssrc, const tf_rtcp_fir_entry_t *e, size_t n, uint8_t *out,
                         size_t cap)
{
    if (n == 0 || n > 0x7ffe)
        return -EINVAL;
    size_t size = 4 + FB_COMMON + 8 * n;
    if (size > cap)
        return -ENOBUFS;
    tf__rtcp_header(out, false, FMT_FIR, TF__RTCP_PSFB, size);
    write_common(out + 4, sender_ssrc, 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t *d = out + 4 + FB_COMMON + 8 * i;
        tf__wr32(d, e[i].ssrc);
        d[4] = e[i].seq_nr;
        d[5] = d[6] = d[7] = 0;
    }
    return (int)size;
}
