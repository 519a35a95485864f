/* rtp_opus.c — RFC 7587 Opus payloads: TOC duration parsing, a one-payload packetizer and a
 * depacketizer that reports gaps. No RTP headers, no jitter buffer, no decoding, no malloc. */
#include "server/rtc/rtp_opus.h"

#include <errno.h>
#include <string.h>

/*
 * RFC 6716 §3.1, the TOC byte that starts every Opus packet:
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   | config  |s| c |
 *   +-+-+-+-+-+-+-+-+
 *
 * config 0..11 SILK (10/20/40/60 ms), 12..15 hybrid (10/20 ms), 16..31 CELT (2.5/5/10/20 ms);
 * c: 0 one frame, 1 two equal frames, 2 two frames of different size, 3 an arbitrary number
 * given in the next byte:
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   |v|p|     M     |
 *   +-+-+-+-+-+-+-+-+
 *
 * §3.2.5: "M MUST NOT be zero", and the packet must not hold more than 120 ms of audio.
 */

static int frame_samples(uint8_t toc)
{
    static const int silk[4] = {480, 960, 1920, 2880};
    static const int hybrid[2] = {480, 960};
    static const int celt[4] = {120, 240, 480, 960};
    int config = toc >> 3;
    if (config < 12)
        return silk[config & 3];
    if (config < 16)
        return hybrid[config & 1];
    return celt[config & 3];
}

int tf_rtp_opus_packet_samples(const uint8_t *p, size_t len)
{
    if (!p || len < 1)
        return -EPROTO;
    int per = frame_samples(p[0]), frames;
    switch (p[0] & 3) {
    case 0:
        frames = 1;
        break;
    case 1:
        /* §3.2.2: two frames of equal size, so (len - 1) must be even. */
        if ((len - 1) % 2)
            return -EPROTO;
        frames = 2;
        break;
    case 2:
        /* §3.2.3: at least one length byte follows. */
        if (len < 2)
            return -EPROTO;
        frames = 2;
        break;
    default:
        if (len < 2)
            return -EPROTO;
        frames = p[1] & 0x3f;
        if (frames == 0)
            return -EPROTO;
        break;
    }
    int samples = frames * per;
    return samples > 5760 ? -EPROTO : samples;
}

int tf_rtp_opus_packetize_init(tf_rtp_opus_packetizer_t *pk, const uint8_t *packet, size_t len,
                               bool talkspurt, size_t max_payload)
{
    memset(pk, 0, sizeof(*pk));
    int samples = tf_rtp_opus_packet_samples(packet, len);
    if (samples < 0)
        return samples;
    if (len > max_payload)
        return -EMSGSIZE;
    pk->packet = packet;
    pk->len = len;
    pk->talkspurt = talkspurt;
    pk->samples = (uint32_t)samples;
    return 0;
}

int tf_rtp_opus_packetize_next(tf_rtp_opus_packetizer_t *pk, uint8_t *out, size_t cap, bool *marker)
{
    if (pk->done)
        return -EAGAIN;
    if (cap < pk->len)
        return -ENOBUFS;
    memcpy(out, pk->packet, pk->len);
    pk->done = true;
    if (marker)
        *marker = pk->talkspurt;
    return (int)pk->len;
}

void tf_rtp_opus_depacketize_init(tf_rtp_opus_depacketizer_t *d)
{
    memset(d, 0, sizeof(*d));
}

void tf_rtp_opus_depacketize_reset(tf_rtp_opus_depacketizer_t *d)
{
    d->have_prev = false;
    d->ready = false;
    d->pending_lost = 0;
}

int tf_rtp_opus_depacketize_push(tf_rtp_opus_depacketizer_t *d, uint16_t seq, uint32_t ts,
                                 bool marker, const uint8_t *payload, size_t len)
{
    d->ready = false;
    uint16_t gap = d->have_prev ? (uint16_t)(seq - d->prev_seq - 1) : 0;
    if (gap >= 0x8000) /* an old or repeated packet: no gap to report, keep the reference */
        gap = 0;
    else {
        d->have_prev = true;
        d->prev_seq = seq;
    }
    d->pending_lost += gap;
    if (len == 0) /* padding */
        return 0;
    int samples = tf_rtp_opus_packet_samples(payload, len);
    if (samples < 0) { /* counts as lost for the next frame */
        d->malformed++;
        d->pending_lost++;
        return samples;
    }
    d->lost += d->pending_lost;
    d->frames++;
    d->frame = (tf_rtp_opus_frame_t){
        .data = payload,
        .size = len,
        .timestamp = ts,
        .seq = seq,
        .samples = (uint32_t)samples,
        .lost_before = d->pending_lost,
        .talkspurt = marker,
    };
    d->pending_lost = 0;
    d->ready = true;
    return 0;
}

int tf_rtp_opus_depacketize_poll(tf_rtp_opus_depacketizer_t *d, tf_rtp_opus_frame_t *out)
{
    if (!d->ready)
        return -EAGAIN;
    d->ready = false;
    *out = d->frame;
    return 0;
}
