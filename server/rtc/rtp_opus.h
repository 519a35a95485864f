/* rtp_opus.h — Opus RTP payload (RFC 7587): one Opus packet per RTP packet, timestamps at
 * 48 kHz advanced by the TOC's frame count and duration (RFC 6716 §3.1). No RTP headers, no
 * jitter buffer, no decoding, no malloc. */
#ifndef TF_RTC_RTP_OPUS_H
#define TF_RTC_RTP_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TF_RTP_OPUS_CLOCK 48000 /* RFC 7587 §4.1: always 48 kHz, whatever the coded bandwidth */

/* Samples per channel at 48 kHz that an Opus packet holds (120 .. 5760), or -EPROTO: empty,
 * a code 1 packet of odd length, code 2/3 packets too short for their header, or more than
 * 120 ms (RFC 6716 §3.2.5). */
int tf_rtp_opus_packet_samples(const uint8_t *packet, size_t len);

/* ---- packetizer: the same shape as H.264 and VP8, one payload per Opus packet ------------ */

typedef struct tf_rtp_opus_packetizer {
    const uint8_t *packet; /* borrowed until taken */
    size_t len;
    bool done, talkspurt;
    uint32_t samples; /* timestamp increment to the next packet (from the TOC) */
} tf_rtp_opus_packetizer_t;

/* talkspurt: set the marker (RFC 7587 §4.2: the first packet after DTX silence). Returns 0,
 * -EPROTO (see tf_rtp_opus_packet_samples) or -EMSGSIZE (longer than max_payload). */
int tf_rtp_opus_packetize_init(tf_rtp_opus_packetizer_t *pk, const uint8_t *packet, size_t len,
                               bool talkspurt, size_t max_payload);
/* Returns the payload size, -EAGAIN after the one payload, or -ENOBUFS. */
int tf_rtp_opus_packetize_next(tf_rtp_opus_packetizer_t *pk, uint8_t *out, size_t cap,
                               bool *marker);

/* ---- depacketizer ---------------------------------------------------------------------- */

typedef struct tf_rtp_opus_frame {
    const uint8_t *data; /* into the pushed payload: valid as long as the caller keeps it */
    size_t size;
    uint32_t timestamp;
    uint16_t seq;
    uint32_t samples;     /* per channel at 48 kHz */
    uint32_t lost_before; /* packets missing or malformed since the previous frame (PLC/FEC) */
    bool talkspurt;       /* marker bit */
} tf_rtp_opus_frame_t;

typedef struct tf_rtp_opus_depacketizer {
    bool have_prev, ready;
    uint16_t prev_seq;
    uint32_t pending_lost; /* missing, malformed: reported with the next frame */
    tf_rtp_opus_frame_t frame;
    uint64_t frames, malformed, lost;
} tf_rtp_opus_depacketizer_t;

void tf_rtp_opus_depacketize_init(tf_rtp_opus_depacketizer_t *d);
void tf_rtp_opus_depacketize_reset(tf_rtp_opus_depacketizer_t *d);
/* Feeds one packet in sequence order. Returns 0 or -EPROTO (not an Opus packet: no frame). A
 * zero-length payload is padding and yields no frame. */
int tf_rtp_opus_depacketize_push(tf_rtp_opus_depacketizer_t *d, uint16_t seq, uint32_t ts,
                                 bool marker, const uint8_t *payload, size_t len);
int tf_rtp_opus_depacketize_poll(tf_rtp_opus_depacketizer_t *d, tf_rtp_opus_frame_t *out);

#endif
