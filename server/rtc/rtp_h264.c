/* rtp_h264.c — RFC 6184 packetization-mode 1 payloads: single NAL, STAP-A and FU-A out, Annex-B
 * access units back in. No RTP headers, no reordering, no malloc: pure byte work. */
#include "server/rtc/rtp_h264.h"

#include <errno.h>
#include <string.h>

/*
 * RFC 6184 §5.3, the NAL unit header that starts every payload:
 *
 *   +---------------+
 *   |0|1|2|3|4|5|6|7|
 *   +-+-+-+-+-+-+-+-+
 *   |F|NRI|  Type   |
 *   +---------------+
 *
 * §5.7.1, STAP-A: the header (type 24) then, for each NAL, a 16-bit size and the NAL.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                          RTP Header                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |STAP-A NAL HDR |         NALU 1 Size           | NALU 1 HDR    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         NALU 1 Data                           |
 *   :                                                               :
 *   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |               | NALU 2 Size                   | NALU 2 HDR    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         NALU 2 Data                           |
 *   :                                                               :
 *
 * §5.8, FU-A: an indicator (F and NRI of the NAL, type 28), a header, then a fragment of the
 * NAL without its header byte.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | FU indicator  |   FU header   |                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 *   |                         FU payload                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   FU header: |S|E|R|  Type   |
 *
 * §5.8: "A fragmented NAL unit MUST NOT be transmitted in one FU; that is, the Start bit and
 * End bit MUST NOT both be set to one in the same FU header."
 */

#define FU_S 0x80
#define FU_E 0x40

static const uint8_t *nal_ptr(const tf_venc_packet_t *au, int i)
{
    return au->data + au->nal[i].offset;
}

int tf_rtp_h264_packetize_init(tf_rtp_h264_packetizer_t *pk, const tf_venc_packet_t *au,
                               size_t max_payload)
{
    if (!pk || !au || max_payload < 3 || au->n_nal < 0 || au->n_nal > TF_VENC_MAX_NALS)
        return -EINVAL;
    for (int i = 0; i < au->n_nal; i++) {
        uint64_t end = (uint64_t)au->nal[i].offset + au->nal[i].size;
        if (au->nal[i].size == 0 || end > au->size || !au->data)
            return -EINVAL;
    }
    memset(pk, 0, sizeof(*pk));
    pk->au = au;
    pk->max_payload = max_payload > 0xffff ? 0xffff : max_payload;
    return 0;
}

/* The FU-A fragment sizes: the NAL body (without its header byte) split into the fewest
 * fragments that fit, the first ones one byte longer when it does not divide evenly. */
static uint32_t fu_fragment_size(const tf_rtp_h264_packetizer_t *pk, uint32_t nal_size,
                                 uint32_t frag_index)
{
    uint32_t body = nal_size - 1, room = (uint32_t)pk->max_payload - 2;
    uint32_t count = (body + room - 1) / room;
    uint32_t size = body / count;
    return size + (frag_index < body % count ? 1 : 0);
}

static int write_fu_a(tf_rtp_h264_packetizer_t *pk, uint8_t *out, size_t cap)
{
    const tf_venc_packet_t *au = pk->au;
    const uint8_t *nal = nal_ptr(au, pk->next_nal);
    uint32_t nal_size = au->nal[pk->next_nal].size;
    uint32_t body = nal_size - 1, room = (uint32_t)pk->max_payload - 2;
    uint32_t count = (body + room - 1) / room;
    bool first = pk->frag_off == 0;
    uint32_t index = first ? 0 : count - pk->frag_left;
    uint32_t size = fu_fragment_size(pk, nal_size, index);
    if (cap < (size_t)size + 2)
        return -ENOBUFS;
    uint32_t off = first ? 1 : pk->frag_off;
    bool last = off + size == nal_size;
    out[0] = (uint8_t)((nal[0] & 0xe0) | TF_H264_NAL_FU_A);
    out[1] = (uint8_t)((first ? FU_S : 0) | (last ? FU_E : 0) | (nal[0] & 0x1f));
    memcpy(out + 2, nal + off, size);
    if (last) {
        pk->frag_off = 0;
        pk->frag_left = 0;
        pk->next_nal++;
    } else {
        pk->frag_off = off + size;
        pk->frag_left = first ? count - 1 : pk->frag_left - 1;
    }
    return (int)size + 2;
}

int tf_rtp_h264_packetize_next(tf_rtp_h264_packetizer_t *pk, uint8_t *out, size_t cap, bool *marker)
{
    const tf_venc_packet_t *au = pk->au;
    if (pk->next_nal >= au->n_nal)
        return -EAGAIN;
    int written;
    uint32_t first_size = au->nal[pk->next_nal].size;
    if (first_size > pk->max_payload) {
        written = write_fu_a(pk, out, cap);
    } else {
        /* Aggregate as many following NALs as fit one STAP-A (1 + Σ(2 + size)). */
        size_t total = 1;
        int end = pk->next_nal;
        while (end < au->n_nal && total + 2 + au->nal[end].size <= pk->max_payload) {
            total += 2 + au->nal[end].size;
            end++;
        }
        if (end - pk->next_nal >= 2) {
            if (cap < total)
                return -ENOBUFS;
            uint8_t f = 0, nri = 0;
            size_t off = 1;
            for (int i = pk->next_nal; i < end; i++) {
                const uint8_t *nal = nal_ptr(au, i);
                uint32_t size = au->nal[i].size;
                /* §5.7.1: F is the OR and NRI the maximum over the aggregated NALs. */
                f |= nal[0] & 0x80;
                if ((nal[0] & 0x60) > nri)
                    nri = nal[0] & 0x60;
                out[off] = (uint8_t)(size >> 8);
                out[off + 1] = (uint8_t)size;
                memcpy(out + off + 2, nal, size);
                off += 2 + size;
            }
            out[0] = (uint8_t)(f | nri | TF_H264_NAL_STAP_A);
            pk->next_nal = end;
            written = (int)total;
        } else {
            if (cap < first_size)
                return -ENOBUFS;
            memcpy(out, nal_ptr(au, pk->next_nal), first_size);
            pk->next_nal++;
            written = (int)first_size;
        }
    }
    if (written >= 0 && marker)
        *marker = pk->next_nal >= au->n_nal;
    return written;
}

int tf_rtp_h264_annexb_split(const uint8_t *data, size_t size, tf_venc_packet_t *out)
{
    out->data = data;
    out->size = size;
    out->n_nal = 0;
    out->keyframe = 0;
    out->pts_us = 0;
    size_t i = 0;
    if (size < 3 || !data)
        return -EPROTO;
    /* Find each start code; a NAL runs to the next one (minus a zero_byte) or to the end. */
    while (i + 3 <= size) {
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
            size_t start = i + 3, j = start;
            while (j + 3 <= size && !(data[j] == 0 && data[j + 1] == 0 && data[j + 2] == 1))
                j++;
            size_t end = j + 3 <= size ? j : size;
            if (end < size && end > start && data[end - 1] == 0)
                end--; /* the zero_byte of a 4-byte start code */
            if (end <= start)
                return -EPROTO;
            if (out->n_nal == TF_VENC_MAX_NALS)
                return -EMSGSIZE;
            out->nal[out->n_nal].offset = (uint32_t)start;
            out->nal[out->n_nal].size = (uint32_t)(end - start);
            if ((data[start] & 0x1f) == TF_H264_NAL_IDR)
                out->keyframe = 1;
            out->n_nal++;
            i = j;
        } else if (out->n_nal == 0 && data[i] == 0) {
            i++; /* leading zero_byte / leading_zero_8bits */
        } else {
            return -EPROTO;
        }
    }
    return out->n_nal > 0 ? out->n_nal : -EPROTO;
}

/* ---- depacketizer ---------------------------------------------------------------------- */

void tf_rtp_h264_depacketize_init(tf_rtp_h264_depacketizer_t *d, uint8_t *buf, size_t cap)
{
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->cap = cap;
}

void tf_rtp_h264_depacketize_reset(tf_rtp_h264_depacketizer_t *d)
{
    d->have_prev = false;
    d->active = false;
    d->in_fu = false;
    d->ready = false;
    d->loss = true;
}

/* A slice header starts with first_mb_in_slice as ue(v): value 0 is the single bit '1'. */
static bool nal_starts_au(const uint8_t *nal, size_t len)
{
    uint8_t type = nal[0] & 0x1f;
    if (type == TF_H264_NAL_SLICE || type == TF_H264_NAL_IDR)
        return len >= 2 && (nal[1] & 0x80);
    return type == TF_H264_NAL_SEI || type == TF_H264_NAL_SPS || type == TF_H264_NAL_PPS ||
           type == TF_H264_NAL_AUD;
}

static bool nal_starts_key(const uint8_t *nal, size_t len)
{
    uint8_t type = nal[0] & 0x1f;
    return type == TF_H264_NAL_SPS || (type == TF_H264_NAL_IDR && len >= 2 && (nal[1] & 0x80));
}

void tf_rtp_h264_payload_info(const uint8_t *payload, size_t len, tf_rtp_h264_payload_info_t *out)
{
    out->au_start = false;
    out->key_start = false;
    if (len < 1 || (payload[0] & 0x80))
        return;
    uint8_t type = payload[0] & 0x1f;
    if (type >= 1 && type <= 23) {
        out->au_start = nal_starts_au(payload, len);
        out->key_start = nal_starts_key(payload, len);
    } else if (type == TF_H264_NAL_STAP_A) {
        size_t off = 1;
        bool first = true;
        while (off + 2 < len) {
            size_t n = (size_t)payload[off] << 8 | payload[off + 1];
            if (n == 0 || off + 2 + n > len)
                break;
            if (first)
                out->au_start = nal_starts_au(payload + off + 2, n);
            first = false;
            if (nal_starts_key(payload + off + 2, n))
                out->key_start = true;
            off += 2 + n;
        }
        out->key_start = out->key_start && out->au_start;
    } else if (type == TF_H264_NAL_FU_A && len >= 3 && (payload[1] & FU_S)) {
        uint8_t nal[2] = {(uint8_t)((payload[0] & 0xe0) | (payload[1] & 0x1f)), payload[2]};
        out->au_start = nal_starts_au(nal, 2);
        out->key_start = nal_starts_key(nal, 2);
    }
}

static int append_start(tf_rtp_h264_depacketizer_t *d, uint8_t header)
{
    uint8_t type = header & 0x1f;
    bool long_code = d->nal_count == 0 || type == TF_H264_NAL_SPS || type == TF_H264_NAL_PPS;
    size_t need = (long_code ? 4 : 3) + 1;
    if (d->nal_count == TF_RTP_H264_MAX_FRAME_NALS || d->cap - d->len < need)
        return -EMSGSIZE;
    if (long_code)
        d->buf[d->len++] = 0;
    d->buf[d->len++] = 0;
    d->buf[d->len++] = 0;
    d->buf[d->len++] = 1;
    d->nal_off[d->nal_count++] = (uint32_t)d->len;
    d->buf[d->len++] = header;
    if (type == TF_H264_NAL_IDR)
        d->nal_types_seen |= 1;
    else if (type == TF_H264_NAL_SPS)
        d->nal_types_seen |= 2;
    else if (type == TF_H264_NAL_PPS)
        d->nal_types_seen |= 4;
    return 0;
}

static int append_bytes(tf_rtp_h264_depacketizer_t *d, const uint8_t *p, size_t n)
{
    if (d->cap - d->len < n)
        return -EMSGSIZE;
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    return 0;
}

static bool nal_header_ok(uint8_t h)
{
    uint8_t type = h & 0x1f;
    return !(h & 0x80) && type >= 1 && type <= 23;
}

static int append_nal(tf_rtp_h264_depacketizer_t *d, const uint8_t *nal, size_t n)
{
    if (!nal_header_ok(nal[0]))
        return -EPROTO;
    int err = append_start(d, nal[0]);
    return err ? err : append_bytes(d, nal + 1, n - 1);
}

/* Appends the NALs of one payload. -EPROTO: malformed; -EMSGSIZE: frame too big; -EPIPE: a
 * well-formed payload that breaks the FU-A sequence (a fragment was lost). */
static int append_payload(tf_rtp_h264_depacketizer_t *d, const uint8_t *p, size_t len)
{
    if (p[0] & 0x80)
        return -EPROTO;
    uint8_t type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) {
        if (d->in_fu)
            return -EPIPE;
        return append_nal(d, p, len);
    }
    if (type == TF_H264_NAL_STAP_A) {
        if (d->in_fu)
            return -EPIPE;
        size_t off = 1;
        if (len < 4)
            return -EPROTO;
        while (off < len) {
            if (len - off < 3)
                return -EPROTO;
            size_t n = (size_t)p[off] << 8 | p[off + 1];
            if (n == 0 || n > len - off - 2)
                return -EPROTO;
            int err = append_nal(d, p + off + 2, n);
            if (err)
                return err;
            off += 2 + n;
        }
        return 0;
    }
    if (type == TF_H264_NAL_FU_A) {
        if (len < 3)
            return -EPROTO;
        uint8_t fu = p[1], nal_type = fu & 0x1f;
        if ((fu & FU_S) && (fu & FU_E))
            return -EPROTO;
        uint8_t header = (uint8_t)((p[0] & 0xe0) | nal_type);
        if (!nal_header_ok(header))
            return -EPROTO;
        if (fu & FU_S) {
            if (d->in_fu)
                return -EPIPE;
            int err = append_start(d, header);
            if (err)
                return err;
            d->in_fu = true;
            d->fu_type = nal_type;
        } else if (!d->in_fu || d->fu_type != nal_type) {
            return -EPIPE;
        }
        int err = append_bytes(d, p + 2, len - 2);
        if (err)
            return err;
        if (fu & FU_E)
            d->in_fu = false;
        return 0;
    }
    return -EPROTO; /* STAP-B, MTAPs and FU-B need interleaved mode; 0, 30, 31 are unused */
}

static size_t start_code_len(const tf_rtp_h264_depacketizer_t *d, int i)
{
    uint8_t type = d->buf[d->nal_off[i]] & 0x1f;
    return i == 0 || type == TF_H264_NAL_SPS || type == TF_H264_NAL_PPS ? 4 : 3;
}

/* ITU-T H.264 §7.4.1: inside a NAL, 00 00 00 / 00 00 01 / 00 00 02 must not occur (the
 * Annex-B stream would split differently): such a frame is malformed. "The last byte of the NAL
 * unit shall not be equal to 0x00": trailing zeros are trimmed (moving later NALs down). */
static bool finalize_nals(tf_rtp_h264_depacketizer_t *d)
{
    size_t w = 0;
    for (int i = 0; i < d->nal_count; i++) {
        size_t hdr = d->nal_off[i], sc = start_code_len(d, i);
        size_t end = i + 1 < d->nal_count ? d->nal_off[i + 1] - start_code_len(d, i + 1) : d->len;
        while (end > hdr + 1 && d->buf[end - 1] == 0)
            end--;
        int zeros = 0;
        for (size_t j = hdr; j < end; j++) {
            uint8_t b = d->buf[j];
            if (zeros >= 2 && b <= 2)
                return false;
            zeros = b == 0 ? zeros + 1 : 0;
        }
        if (w != hdr - sc)
            memmove(d->buf + w, d->buf + hdr - sc, end - (hdr - sc));
        d->nal_off[i] = (uint32_t)(w + sc);
        w += end - (hdr - sc);
    }
    d->len = w;
    return true;
}

static void discard_frame(tf_rtp_h264_depacketizer_t *d)
{
    d->active = false;
    d->in_fu = false;
    d->loss = true;
    d->incomplete++;
}

int tf_rtp_h264_depacketize_push(tf_rtp_h264_depacketizer_t *d, uint16_t seq, uint32_t ts,
                                 bool marker, const uint8_t *payload, size_t len)
{
    if (d->ready) { /* nobody polled it */
        d->ready = false;
        d->loss = true;
    }
    bool contiguous = d->have_prev && seq == (uint16_t)(d->prev_seq + 1);
    if (d->have_prev && !contiguous)
        d->loss = true;
    d->have_prev = true;
    d->prev_seq = seq;
    if (len == 0) { /* padding keeps the sequence, and the frame boundary, intact */
        if (d->active && !contiguous)
            d->broken = true;
        return 0;
    }
    if (d->active && ts != d->ts)
        discard_frame(d); /* it never got its marker */
    if (d->active && !contiguous)
        d->broken = true;
    if (!d->active) {
        tf_rtp_h264_payload_info_t info;
        tf_rtp_h264_payload_info(payload, len, &info);
        bool boundary = contiguous && (d->prev_marker || d->prev_ts != ts);
        d->active = true;
        d->broken = !boundary && !info.au_start;
        d->ts = ts;
        d->first_seq = seq;
        d->len = 0;
        d->nal_count = 0;
        d->nal_types_seen = 0;
        d->in_fu = false;
    }
    d->prev_ts = ts;
    d->prev_marker = marker;

    int ret = 0;
    if (!d->broken) {
        int err = append_payload(d, payload, len);
        if (err) {
            d->broken = true;
            if (err == -EPROTO) {
                d->malformed++;
                ret = -EPROTO;
            }
        }
    }
    if (marker) {
        if (!d->broken && !d->in_fu && d->nal_count > 0 && finalize_nals(d)) {
            d->active = false;
            d->ready = true;
            d->frames++;
        } else {
            discard_frame(d);
        }
    }
    return ret;
}

int tf_rtp_h264_depacketize_poll(tf_rtp_h264_depacketizer_t *d, tf_rtp_h264_frame_t *out)
{
    if (!d->ready)
        return -EAGAIN;
    d->ready = false;
    out->data = d->buf;
    out->size = d->len;
    out->timestamp = d->ts;
    out->first_seq = d->first_seq;
    out->last_seq = d->prev_seq;
    out->nal_count = d->nal_count;
    out->keyframe = d->nal_types_seen & 1;
    out->has_sps_pps = (d->nal_types_seen & 6) == 6;
    out->after_loss = d->loss;
    d->loss = false;
    return 0;
}
