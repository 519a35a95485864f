/* rtp_vp8.c — RFC 7741 VP8 payloads: descriptor parse/build, packetizer, whole-frame
 * depacketizer. No RTP headers, no reordering, no malloc: pure byte work. */
#include "server/rtc/rtp_vp8.h"

#include <errno.h>
#include <string.h>

/*
 * RFC 7741 §4.2, the payload descriptor:
 *
 *         0 1 2 3 4 5 6 7
 *        +-+-+-+-+-+-+-+-+
 *        |X|R|N|S|R| PID | (REQUIRED)
 *        +-+-+-+-+-+-+-+-+
 *   X:   |I|L|T|K| RSV   | (OPTIONAL)
 *        +-+-+-+-+-+-+-+-+
 *   I:   |M| PictureID   | (OPTIONAL)
 *        +-+-+-+-+-+-+-+-+
 *        |   PictureID   | (present when M is set: 15 bits in all)
 *        +-+-+-+-+-+-+-+-+
 *   L:   |   TL0PICIDX   | (OPTIONAL)
 *        +-+-+-+-+-+-+-+-+
 *   T/K: |TID|Y| KEYIDX  | (OPTIONAL: present when T or K is set)
 *        +-+-+-+-+-+-+-+-+
 *
 * §4.3, the payload header, present only when S is set and PID is 0 (the first three bytes of
 * the VP8 frame, RFC 6386 §9.1):
 *
 *        |Size0|H| VER |P|
 *        |     Size1     |
 *        |     Size2     |
 *
 * P is the inverse key frame flag; Size0..2 give the first partition's size (19 bits).
 */

#define D_X 0x80
#define D_N 0x20
#define D_S 0x10
#define X_I 0x80
#define X_L 0x40
#define X_T 0x20
#define X_K 0x10

int tf_rtp_vp8_desc_parse(tf_rtp_vp8_desc_t *d, const uint8_t *p, size_t len, size_t *desc_len)
{
    memset(d, 0, sizeof(*d));
    if (len < 1)
        return -EPROTO;
    size_t off = 1;
    d->non_reference = p[0] & D_N;
    d->start = p[0] & D_S;
    d->partition = p[0] & 0x07;
    if (p[0] & D_X) {
        if (len < 2)
            return -EPROTO;
        uint8_t x = p[1];
        off = 2;
        if (x & X_I) {
            if (off >= len)
                return -EPROTO;
            d->has_picture_id = true;
            if (p[off] & 0x80) {
                if (off + 1 >= len)
                    return -EPROTO;
                d->long_picture_id = true;
                d->picture_id = (uint16_t)((p[off] & 0x7f) << 8 | p[off + 1]);
                off += 2;
            } else {
                d->picture_id = p[off] & 0x7f;
                off += 1;
            }
        }
        if (x & X_L) {
            if (off >= len)
                return -EPROTO;
            d->has_tl0picidx = true;
            d->tl0picidx = p[off++];
        }
        if (x & (X_T | X_K)) {
            if (off >= len)
                return -EPROTO;
            d->has_tid = x & X_T;
            d->has_keyidx = x & X_K;
            if (d->has_tid) {
                d->tid = p[off] >> 6;
                d->layer_sync = p[off] & 0x20;
            }
            if (d->has_keyidx)
                d->keyidx = p[off] & 0x1f;
            off++;
        }
    }
    if (off >= len) /* a descriptor with no VP8 data after it */
        return -EPROTO;
    *desc_len = off;
    return 0;
}

static bool desc_extended(const tf_rtp_vp8_desc_t *d)
{
    return d->has_picture_id || d->has_tl0picidx || d->has_tid || d->has_keyidx;
}

size_t tf_rtp_vp8_desc_size(const tf_rtp_vp8_desc_t *d)
{
    if (!desc_extended(d))
        return 1;
    size_t n = 2;
    if (d->has_picture_id)
        n += d->long_picture_id ? 2 : 1;
    if (d->has_tl0picidx)
        n++;
    if (d->has_tid || d->has_keyidx)
        n++;
    return n;
}

int tf_rtp_vp8_desc_build(const tf_rtp_vp8_desc_t *d, uint8_t *out, size_t cap)
{
    if (d->partition > 7 || d->tid > 3 || d->keyidx > 31 ||
        d->picture_id > (d->long_picture_id ? 0x7fff : 0x7f))
        return -EINVAL;
    size_t n = tf_rtp_vp8_desc_size(d);
    if (cap < n)
        return -ENOBUFS;
    bool ext = desc_extended(d);
    out[0] = (uint8_t)((ext ? D_X : 0) | (d->non_reference ? D_N : 0) | (d->start ? D_S : 0) |
                       d->partition);
    if (!ext)
        return 1;
    out[1] = (uint8_t)((d->has_picture_id ? X_I : 0) | (d->has_tl0picidx ? X_L : 0) |
                       (d->has_tid ? X_T : 0) | (d->has_keyidx ? X_K : 0));
    size_t off = 2;
    if (d->has_picture_id) {
        if (d->long_picture_id) {
            out[off++] = (uint8_t)(0x80 | d->picture_id >> 8);
            out[off++] = (uint8_t)d->picture_id;
        } else {
            out[off++] = (uint8_t)d->picture_id;
        }
    }
    if (d->has_tl0picidx)
        out[off++] = d->tl0picidx;
    if (d->has_tid || d->has_keyidx)
        out[off++] = (uint8_t)((d->has_tid ? d->tid << 6 | (d->layer_sync ? 0x20 : 0) : 0) |
                               (d->has_keyidx ? d->keyidx : 0));
    return (int)off;
}

bool tf_rtp_vp8_payload_is_keyframe(const uint8_t *payload, size_t len)
{
    tf_rtp_vp8_desc_t d;
    size_t n;
    if (tf_rtp_vp8_desc_parse(&d, payload, len, &n) != 0)
        return false;
    return d.start && d.partition == 0 && !(payload[n] & 0x01);
}

bool tf_rtp_vp8_frame_well_formed(const uint8_t *f, size_t size, bool *keyframe)
{
    if (size < 3)
        return false;
    bool key = !(f[0] & 0x01);
    uint32_t version = (f[0] >> 1) & 0x07;
    uint32_t first_part = ((uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16) >> 5;
    size_t header = key ? 10 : 3;
    if (version > 3 || size < header || first_part > size - header)
        return false;
    if (key) {
        if (f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a)
            return false;
        if ((f[6] | (f[7] & 0x3f) << 8) == 0 || (f[8] | (f[9] & 0x3f) << 8) == 0)
            return false;
    }
    if (keyframe)
        *keyframe = key;
    return true;
}

/* ---- packetizer ------------------------------------------------------------------------ */

int tf_rtp_vp8_packetize_init(tf_rtp_vp8_packetizer_t *pk, const uint8_t *frame, size_t size,
                              const tf_rtp_vp8_desc_t *tmpl, size_t max_payload)
{
    memset(pk, 0, sizeof(*pk));
    if (!frame || size == 0)
        return -EINVAL;
    if (tmpl)
        pk->desc = *tmpl;
    pk->desc.start = true;
    pk->desc.partition = 0;
    uint8_t probe[TF_RTP_VP8_MAX_DESC];
    if (tf_rtp_vp8_desc_build(&pk->desc, probe, sizeof(probe)) < 0)
        return -EINVAL;
    size_t dsize = tf_rtp_vp8_desc_size(&pk->desc);
    if (max_payload <= dsize)
        return -EINVAL;
    size_t room = max_payload - dsize;
    pk->frame = frame;
    pk->size = size;
    pk->max_payload = max_payload;
    pk->count = (uint32_t)((size + room - 1) / room);
    return 0;
}

int tf_rtp_vp8_packetize_next(tf_rtp_vp8_packetizer_t *pk, uint8_t *out, size_t cap, bool *marker)
{
    if (pk->index >= pk->count)
        return -EAGAIN;
    /* Near-equal sizes: the first (size % count) packets carry one byte more. */
    size_t chunk = pk->size / pk->count + (pk->index < pk->size % pk->count ? 1 : 0);
    tf_rtp_vp8_desc_t d = pk->desc;
    d.start = pk->index == 0;
    size_t dsize = tf_rtp_vp8_desc_size(&d);
    if (cap < dsize + chunk)
        return -ENOBUFS;
    int n = tf_rtp_vp8_desc_build(&d, out, cap);
    if (n < 0)
        return n;
    memcpy(out + n, pk->frame + pk->off, chunk);
    pk->off += chunk;
    pk->index++;
    if (marker)
        *marker = pk->index == pk->count;
    return n + (int)chunk;
}

/* ---- depacketizer ---------------------------------------------------------------------- */

void tf_rtp_vp8_depacketize_init(tf_rtp_vp8_depacketizer_t *d, uint8_t *buf, size_t cap)
{
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->cap = cap;
}

void tf_rtp_vp8_depacketize_reset(tf_rtp_vp8_depacketizer_t *d)
{
    d->have_prev = false;
    d->active = false;
    d->ready = false;
    d->loss = true;
}

static void discard_frame(tf_rtp_vp8_depacketizer_t *d)
{
    d->active = false;
    d->loss = true;
    d->incomplete++;
}

int tf_rtp_vp8_depacketize_push(tf_rtp_vp8_depacketizer_t *d, uint16_t seq, uint32_t ts,
                                bool marker, const uint8_t *payload, size_t len)
{
    if (d->ready) {
        d->ready = false;
        d->loss = true;
    }
    bool contiguous = d->have_prev && seq == (uint16_t)(d->prev_seq + 1);
    if (d->have_prev && !contiguous)
        d->loss = true;
    d->have_prev = true;
    d->prev_seq = seq;
    if (len == 0) {
        if (d->active && !contiguous)
            d->broken = true;
        return 0;
    }
    tf_rtp_vp8_desc_t desc;
    size_t dlen;
    int err = tf_rtp_vp8_desc_parse(&desc, payload, len, &dlen);
    if (d->active && ts != d->ts)
        discard_frame(d);
    if (d->active && !contiguous)
        d->broken = true;
    if (!d->active) {
        d->active = true;
        d->broken = err || !desc.start || desc.partition != 0;
        d->first = desc;
        d->first_seq = seq;
        d->ts = ts;
        d->len = 0;
    }
    if (err) {
        d->malformed++;
        d->broken = true;
    } else if (!d->broken) {
        if (desc.has_picture_id != d->first.has_picture_id ||
            (desc.has_picture_id && desc.picture_id != d->first.picture_id))
            d->broken = true;
        else if (d->cap - d->len < len - dlen)
            d->broken = true;
        else {
            memcpy(d->buf + d->len, payload + dlen, len - dlen);
            d->len += len - dlen;
        }
    }
    if (marker) {
        if (!d->broken && tf_rtp_vp8_frame_well_formed(d->buf, d->len, NULL)) {
            d->active = false;
            d->ready = true;
            d->frames++;
        } else {
            discard_frame(d);
        }
    }
    return err ? -EPROTO : 0;
}

int tf_rtp_vp8_depacketize_poll(tf_rtp_vp8_depacketizer_t *d, tf_rtp_vp8_frame_t *out)
{
    if (!d->ready)
        return -EAGAIN;
    d->ready = false;
    out->data = d->buf;
    out->size = d->len;
    out->timestamp = d->ts;
    out->first_seq = d->first_seq;
    out->last_seq = d->prev_seq;
    out->keyframe = false;
    tf_rtp_vp8_frame_well_formed(d->buf, d->len, &out->keyframe);
    out->has_picture_id = d->first.has_picture_id;
    out->picture_id = d->first.picture_id;
    out->non_reference = d->first.non_reference;
    out->after_loss = d->loss;
    d->loss = false;
    return 0;
}
