/* rtp.c — RTP packet parse/build (RFC 3550), header extensions (RFC 8285), RTX (RFC 4588),
 * in-place rewrites and sequence helpers. No sockets, no clock, no malloc: pure byte work. */
#include "server/rtc/rtp.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/*
 * RFC 8285 §4.2, one-byte form (profile 0xBEDE): each element is a byte ID(4) L(4) with L+1
 * data bytes; ID 0 is a padding byte, and "If the ID value 15 is encountered, its length field
 * should be ignored, processing of the entire extension should terminate at that point".
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       0xBE    |    0xDE       |           length=3            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  ID   | L=0   |     data      |  ID   |  L=1  |   data...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *       ...data   |    0 (pad)    |    0 (pad)    |  ID   | L=3   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          data                                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * §4.3, two-byte form (profile 0x100 + 4 appbits): ID(8) L(8) then L data bytes, L may be 0.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       0x10    |    0x00       |           length=3            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      ID       |     L=0       |     ID        |     L=1       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       data    |    0 (pad)    |       ID      |      L=4      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          data                                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int ext_add(tf_rtp_packet_t *p, uint8_t id, uint8_t len, const uint8_t *data)
{
    if (p->ext_count == TF_RTP_MAX_EXT)
        return -EPROTO;
    p->ext[p->ext_count++] = (tf_rtp_ext_t){.id = id, .len = len, .data = data};
    return 0;
}

static int parse_elements(tf_rtp_packet_t *p)
{
    const uint8_t *b = p->ext_raw;
    size_t n = p->ext_raw_len, i = 0;
    bool one_byte = p->ext_profile == TF_RTP_EXT_ONE_BYTE;

    while (i < n) {
        if (one_byte) {
            uint8_t id = b[i] >> 4, len = (uint8_t)((b[i] & 0x0f) + 1);
            if (id == 0) { /* padding: skip the byte, its length bits mean nothing */
                i++;
                continue;
            }
            if (id == 15)
                break;
            i++;
            if (len > n - i || ext_add(p, id, len, b + i) < 0)
                return -EPROTO;
            i += len;
        } else {
            uint8_t id = b[i];
            if (id == 0) {
                i++;
                continue;
            }
            if (n - i < 2)
                return -EPROTO;
            uint8_t len = b[i + 1];
            i += 2;
            if (len > n - i || ext_add(p, id, len, b + i) < 0)
                return -EPROTO;
            i += len;
        }
    }
    return 0;
}

static bool is_element_profile(uint16_t profile)
{
    return profile == TF_RTP_EXT_ONE_BYTE || (profile & 0xfff0) == TF_RTP_EXT_TWO_BYTE;
}

/*
 * RFC 3550 §5.1, the fixed header:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * §5.3.1, the extension block (X=1) after the CSRCs:
 *
 * |      defined by profile       |           length              |
 * |                        header extension                       |
 *
 * §5.1 on padding: "The last octet of the padding contains a count of how many padding octets
 * should be ignored, including itself." A count of 0 or one reaching into the header is
 * malformed.
 */
int tf_rtp_parse(tf_rtp_packet_t *p, const uint8_t *buf, size_t len)
{
    if (len < TF_RTP_HEADER_SIZE || buf[0] >> 6 != 2)
        return -EPROTO;
    memset(p, 0, sizeof(*p));
    p->version = 2;
    bool has_padding = buf[0] & 0x20;
    p->extension = buf[0] & 0x10;
    p->csrc_count = buf[0] & 0x0f;
    p->marker = buf[1] >> 7;
    p->payload_type = buf[1] & 0x7f;
    p->seq = rd16(buf + 2);
    p->timestamp = rd32(buf + 4);
    p->ssrc = rd32(buf + 8);

    size_t off = TF_RTP_HEADER_SIZE;
    if ((len - off) / 4 < p->csrc_count)
        return -EPROTO;
    for (int i = 0; i < p->csrc_count; i++, off += 4)
        p->csrc[i] = rd32(buf + off);

    if (p->extension) {
        if (len - off < 4)
            return -EPROTO;
        p->ext_profile = rd16(buf + off);
        size_t words = rd16(buf + off + 2);
        off += 4;
        if ((len - off) / 4 < words)
            return -EPROTO;
        p->ext_raw = buf + off;
        p->ext_raw_len = words * 4;
        off += p->ext_raw_len;
    }
    p->header_len = off;

    size_t end = len;
    if (has_padding) {
        uint8_t pad = buf[len - 1];
        if (pad == 0 || pad > len - off)
            return -EPROTO;
        p->padding_len = pad;
        end -= pad;
    }
    p->payload = buf + off;
    p->payload_len = end - off;

    if (p->extension && is_element_profile(p->ext_profile))
        return parse_elements(p);
    return 0;
}

enum { FORM_NONE, FORM_RAW, FORM_ONE, FORM_TWO };

static bool fits_one_byte(const tf_rtp_ext_t *e)
{
    return e->id >= 1 && e->id <= 14 && e->len >= 1 && e->len <= 16;
}

static int ext_form(const tf_rtp_packet_t *p)
{
    if (!p->extension)
        return FORM_NONE;
    if (p->ext_profile == TF_RTP_EXT_ONE_BYTE)
        return FORM_ONE;
    if ((p->ext_profile & 0xfff0) == TF_RTP_EXT_TWO_BYTE)
        return FORM_TWO;
    if (p->ext_profile != 0 || p->ext_count == 0)
        return FORM_RAW;
    for (int i = 0; i < p->ext_count && i < TF_RTP_MAX_EXT; i++)
        if (!fits_one_byte(&p->ext[i]))
            return FORM_TWO;
    return FORM_ONE;
}

/* Size of the extension block body (after its 4-byte header), a multiple of 4. */
static size_t ext_body_size(const tf_rtp_packet_t *p, int form)
{
    if (form == FORM_RAW)
        return p->ext_raw_len;
    size_t n = 0;
    for (int i = 0; i < p->ext_count && i < TF_RTP_MAX_EXT; i++)
        n += (form == FORM_ONE ? 1u : 2u) + p->ext[i].len;
    return (n + 3) & ~(size_t)3;
}

size_t tf_rtp_marshal_size(const tf_rtp_packet_t *p)
{
    int form = ext_form(p);
    size_t n = TF_RTP_HEADER_SIZE + 4u * (p->csrc_count & 0x0f);
    if (form != FORM_NONE)
        n += 4 + ext_body_size(p, form);
    return n + p->payload_len + p->padding_len;
}

static int check_marshal(const tf_rtp_packet_t *p, int form)
{
    if (p->csrc_count > TF_RTP_MAX_CSRC || p->payload_type > 127 || p->ext_count > TF_RTP_MAX_EXT)
        return -EINVAL;
    if (p->payload_len && !p->payload)
        return -EINVAL;
    if (form == FORM_RAW) {
        bool bad = p->ext_raw_len % 4 || p->ext_raw_len / 4 > 0xffff;
        return bad || (p->ext_raw_len && !p->ext_raw) ? -EINVAL : 0;
    }
    for (int i = 0; form != FORM_NONE && i < p->ext_count; i++) {
        const tf_rtp_ext_t *e = &p->ext[i];
        if (e->id == 0 || (form == FORM_ONE && !fits_one_byte(e)) || (e->len && !e->data))
            return -EINVAL;
    }
    return 0;
}

int tf_rtp_marshal_to(const tf_rtp_packet_t *p, uint8_t *out, size_t cap)
{
    int form = ext_form(p);
    int err = check_marshal(p, form);
    if (err)
        return err;
    size_t size = tf_rtp_marshal_size(p);
    if (size > INT_MAX)
        return -EINVAL;
    if (size > cap)
        return -ENOBUFS;

    out[0] = (uint8_t)(0x80 | (p->padding_len ? 0x20 : 0) | (form != FORM_NONE ? 0x10 : 0) |
                       p->csrc_count);
    out[1] = (uint8_t)((p->marker ? 0x80 : 0) | p->payload_type);
    wr16(out + 2, p->seq);
    wr32(out + 4, p->timestamp);
    wr32(out + 8, p->ssrc);
    size_t off = TF_RTP_HEADER_SIZE;
    for (int i = 0; i < p->csrc_count; i++, off += 4)
        wr32(out + off, p->csrc[i]);

    if (form != FORM_NONE) {
        size_t body = ext_body_size(p, form);
        uint16_t profile = form == FORM_RAW   ? p->ext_profile
                           : form == FORM_ONE ? TF_RTP_EXT_ONE_BYTE
                           : p->ext_profile   ? p->ext_profile
                                              : TF_RTP_EXT_TWO_BYTE;
        wr16(out + off, profile);
        wr16(out + off + 2, (uint16_t)(body / 4));
        off += 4;
        size_t start = off;
        if (form == FORM_RAW) {
            if (body)
                memcpy(out + off, p->ext_raw, body);
            off += body;
        } else {
            for (int i = 0; i < p->ext_count; i++) {
                const tf_rtp_ext_t *e = &p->ext[i];
                if (form == FORM_ONE) {
                    out[off++] = (uint8_t)(e->id << 4 | (e->len - 1));
                } else {
                    out[off++] = e->id;
                    out[off++] = e->len;
                }
                if (e->len)
                    memcpy(out + off, e->data, e->len);
                off += e->len;
            }
            memset(out + off, 0, start + body - off);
            off = start + body;
        }
    }
    if (p->payload_len)
        memcpy(out + off, p->payload, p->payload_len);
    off += p->payload_len;
    if (p->padding_len) {
        memset(out + off, 0, p->padding_len - 1u);
        off += p->padding_len;
        out[off - 1] = p->padding_len;
    }
    return (int)off;
}

const tf_rtp_ext_t *tf_rtp_ext_find(const tf_rtp_packet_t *p, uint8_t id)
{
    for (int i = 0; i < p->ext_count && i < TF_RTP_MAX_EXT; i++)
        if (p->ext[i].id == id)
            return &p->ext[i];
    return NULL;
}

int tf_rtp_ext_set(tf_rtp_packet_t *p, uint8_t id, const uint8_t *data, size_t len)
{
    if (id == 0 || len > 255 || (len && !data))
        return -EINVAL;
    tf_rtp_ext_t e = {.id = id, .len = (uint8_t)len, .data = data};
    tf_rtp_ext_t *slot = NULL;
    for (int i = 0; i < p->ext_count && i < TF_RTP_MAX_EXT && !slot; i++)
        if (p->ext[i].id == id)
            slot = &p->ext[i];
    if (!slot) {
        if (p->ext_count >= TF_RTP_MAX_EXT)
            return -ENOSPC;
        slot = &p->ext[p->ext_count++];
    }
    *slot = e;
    if (!p->extension || !is_element_profile(p->ext_profile))
        p->ext_profile = 0; /* an opaque block is replaced by elements */
    else if (p->ext_profile == TF_RTP_EXT_ONE_BYTE && !fits_one_byte(&e))
        p->ext_profile = TF_RTP_EXT_TWO_BYTE;
    p->extension = true;
    return 0;
}

int tf_rtp_ext_overwrite(uint8_t *buf, size_t len, uint8_t id, const uint8_t *data, size_t dlen)
{
    tf_rtp_packet_t p;
    int err = tf_rtp_parse(&p, buf, len);
    if (err)
        return err;
    const tf_rtp_ext_t *e = tf_rtp_ext_find(&p, id);
    if (!e)
        return -ENOENT;
    if (e->len != dlen)
        return -EINVAL;
    if (dlen)
        memmove(buf + (e->data - buf), data, dlen);
    return 0;
}

static int ext_get(const tf_rtp_packet_t *p, uint8_t id, size_t min, size_t max,
                   const tf_rtp_ext_t **e)
{
    *e = tf_rtp_ext_find(p, id);
    if (!*e)
        return -ENOENT;
    return (*e)->len < min || (*e)->len > max ? -EPROTO : 0;
}

/* urn:ietf:params:rtp-hdrext:sdes:mid (RFC 9143 §15): the MID as text, 1..16 bytes in the
 * one-byte form. */
int tf_rtp_get_mid(const tf_rtp_packet_t *p, uint8_t id, char *out, size_t cap)
{
    const tf_rtp_ext_t *e;
    int err = ext_get(p, id, 1, 255, &e);
    if (err)
        return err;
    if (cap <= e->len)
        return -ENOBUFS;
    memcpy(out, e->data, e->len);
    out[e->len] = '\0';
    return 0;
}

/* http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time: 24 bits, 6.18 fixed point
 * seconds. */
int tf_rtp_get_abs_send_time(const tf_rtp_packet_t *p, uint8_t id, uint32_t *ast24)
{
    const tf_rtp_ext_t *e;
    int err = ext_get(p, id, 3, 3, &e);
    if (!err)
        *ast24 = (uint32_t)e->data[0] << 16 | (uint32_t)e->data[1] << 8 | e->data[2];
    return err;
}

/* draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: a 16-bit transport-wide sequence
 * number. The "-02" variant may append 2 bytes of feedback request, which are ignored. */
int tf_rtp_get_twcc_seq(const tf_rtp_packet_t *p, uint8_t id, uint16_t *seq)
{
    const tf_rtp_ext_t *e;
    int err = ext_get(p, id, 2, 255, &e);
    if (!err)
        *seq = rd16(e->data);
    return err;
}

/* RFC 6464 §3: one byte, V(1) then the level in -dBov (0..127). Some senders pad the element,
 * so only the first byte is read. */
int tf_rtp_get_audio_level(const tf_rtp_packet_t *p, uint8_t id, bool *voice, uint8_t *dbov)
{
    const tf_rtp_ext_t *e;
    int err = ext_get(p, id, 1, 255, &e);
    if (!err) {
        *voice = e->data[0] >> 7;
        *dbov = e->data[0] & 0x7f;
    }
    return err;
}

size_t tf_rtp_put_abs_send_time(uint8_t out[3], uint32_t ast24)
{
    out[0] = (uint8_t)(ast24 >> 16);
    out[1] = (uint8_t)(ast24 >> 8);
    out[2] = (uint8_t)ast24;
    return 3;
}

size_t tf_rtp_put_twcc_seq(uint8_t out[2], uint16_t seq)
{
    wr16(out, seq);
    return 2;
}

size_t tf_rtp_put_audio_level(uint8_t out[1], bool voice, uint8_t dbov)
{
    out[0] = (uint8_t)((voice ? 0x80 : 0) | (dbov > 127 ? 127 : dbov));
    return 1;
}

uint32_t tf_rtp_abs_send_time_from_us(uint64_t us)
{
    uint64_t sec = us / 1000000, frac = us % 1000000;
    uint64_t fixed = (sec << 18) + ((frac << 18) + 500000) / 1000000;
    return (uint32_t)(fixed & 0xffffff);
}

uint64_t tf_rtp_abs_send_time_to_us(uint32_t ast24)
{
    return ((uint64_t)(ast24 & 0xffffff) * 1000000) >> 18;
}

static int check_fixed(const uint8_t *buf, size_t len)
{
    return len < TF_RTP_HEADER_SIZE || buf[0] >> 6 != 2 ? -EPROTO : 0;
}

int tf_rtp_rewrite_ssrc(uint8_t *buf, size_t len, uint32_t ssrc)
{
    int err = check_fixed(buf, len);
    if (!err)
        wr32(buf + 8, ssrc);
    return err;
}

int tf_rtp_rewrite_seq(uint8_t *buf, size_t len, uint16_t seq)
{
    int err = check_fixed(buf, len);
    if (!err)
        wr16(buf + 2, seq);
    return err;
}

int tf_rtp_rewrite_timestamp(uint8_t *buf, size_t len, uint32_t timestamp)
{
    int err = check_fixed(buf, len);
    if (!err)
        wr32(buf + 4, timestamp);
    return err;
}

int tf_rtp_rewrite_payload_type(uint8_t *buf, size_t len, uint8_t pt)
{
    int err = check_fixed(buf, len);
    if (!err && pt > 127)
        err = -EINVAL;
    if (!err)
        buf[1] = (uint8_t)((buf[1] & 0x80) | pt);
    return err;
}

int tf_rtp_rewrite_marker(uint8_t *buf, size_t len, bool marker)
{
    int err = check_fixed(buf, len);
    if (!err)
        buf[1] = (uint8_t)((buf[1] & 0x7f) | (marker ? 0x80 : 0));
    return err;
}

/*
 * RFC 4588 §4, the RTX payload; the header is the original's with the RTX PT, SSRC and seq:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         RTP Header                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            OSN                |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * |                  Original RTP Packet Payload                  |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Both directions move the payload before touching the header, so in-place use is safe.
 */
static void set_ids(uint8_t *out, uint8_t pt, uint16_t seq, uint32_t ssrc)
{
    out[0] &= (uint8_t)~0x20; /* padding is not carried over */
    out[1] = (uint8_t)((out[1] & 0x80) | (pt & 0x7f));
    wr16(out + 2, seq);
    wr32(out + 8, ssrc);
}

int tf_rtp_rtx_wrap(const uint8_t *pkt, size_t len, uint8_t rtx_pt, uint32_t rtx_ssrc,
                    uint16_t rtx_seq, uint8_t *out, size_t cap)
{
    tf_rtp_packet_t p;
    int err = tf_rtp_parse(&p, pkt, len);
    if (err)
        return err;
    if (rtx_pt > 127)
        return -EINVAL;
    size_t size = p.header_len + 2 + p.payload_len;
    if (size > INT_MAX)
        return -EINVAL;
    if (size > cap)
        return -ENOBUFS;
    memmove(out + p.header_len + 2, p.payload, p.payload_len);
    memmove(out, pkt, p.header_len);
    wr16(out + p.header_len, p.seq);
    set_ids(out, rtx_pt, rtx_seq, rtx_ssrc);
    return (int)size;
}

int tf_rtp_rtx_unwrap(const uint8_t *pkt, size_t len, uint8_t pt, uint32_t ssrc, uint8_t *out,
                      size_t cap)
{
    tf_rtp_packet_t p;
    int err = tf_rtp_parse(&p, pkt, len);
    if (err)
        return err;
    if (p.payload_len < 2)
        return -EPROTO;
    if (pt > 127)
        return -EINVAL;
    size_t size = p.header_len + p.payload_len - 2;
    if (size > cap)
        return -ENOBUFS;
    uint16_t osn = rd16(p.payload);
    memmove(out, pkt, p.header_len);
    memmove(out + p.header_len, p.payload + 2, p.payload_len - 2);
    set_ids(out, pt, osn, ssrc);
    return (int)size;
}

int64_t tf_rtp_seq_unwrap(tf_rtp_seq_unwrapper_t *u, uint16_t seq)
{
    if (!u->started) {
        u->started = true;
        u->last = seq;
        return seq;
    }
    uint16_t last16 = (uint16_t)((uint64_t)u->last & 0xffff);
    uint16_t d = (uint16_t)(seq - last16);
    if (d != 0)
        u->last += tf_rtp_seq_newer(seq, last16) ? (int64_t)d : (int64_t)d - 0x10000;
    return u->last;
}

bool tf_rtp_is_rtcp(const uint8_t *buf, size_t len)
{
    return len >= 4 && buf[0] >> 6 == 2 && buf[1] >= 192 && buf[1] <= 223;
}

bool tf_rtp_is_rtp(const uint8_t *buf, size_t len)
{
    return len >= TF_RTP_HEADER_SIZE && buf[0] >> 6 == 2 && !(buf[1] >= 192 && buf[1] <= 223);
}
