/* rtp_vp8.h — VP8 RTP payload (RFC 7741): payload descriptor parse/build, packetizer and
 * depacketizer to whole frames. No RTP headers, no reordering, no malloc: callers pass the
 * buffers, and the receive stream (recv_stream.h) orders packets. */
#ifndef TF_RTC_RTP_VP8_H
#define TF_RTC_RTP_VP8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- payload descriptor (RFC 7741 §4.2) ------------------------------------------------ */

#define TF_RTP_VP8_MAX_DESC 6 /* bytes: required byte, X byte, two of picture id, TL0, T/K */

typedef struct tf_rtp_vp8_desc {
    bool non_reference; /* N: the frame can be discarded without breaking later ones */
    bool start;         /* S: this packet starts a VP8 partition */
    uint8_t partition;  /* PID: 0..7 */
    bool has_picture_id;
    bool long_picture_id; /* M: 15-bit picture id (else 7-bit) */
    uint16_t picture_id;
    bool has_tl0picidx;
    uint8_t tl0picidx;
    bool has_tid; /* T: tid and layer_sync present */
    uint8_t tid;  /* 0..3 */
    bool layer_sync;
    bool has_keyidx; /* K */
    uint8_t keyidx;  /* 0..31 */
} tf_rtp_vp8_desc_t;

/* Parses the descriptor at the start of a payload; *desc_len receives its size. 0 or -EPROTO
 * (truncated, or no payload byte after it). */
int tf_rtp_vp8_desc_parse(tf_rtp_vp8_desc_t *d, const uint8_t *payload, size_t len,
                          size_t *desc_len);
size_t tf_rtp_vp8_desc_size(const tf_rtp_vp8_desc_t *d);
/* Returns bytes written, -ENOBUFS, or -EINVAL (a field too wide for the wire). */
int tf_rtp_vp8_desc_build(const tf_rtp_vp8_desc_t *d, uint8_t *out, size_t cap);

/* True when the payload starts a key frame: S set, PID 0 and the payload header's P bit
 * clear (RFC 7741 §4.3: "P: Inverse key frame flag"). */
bool tf_rtp_vp8_payload_is_keyframe(const uint8_t *payload, size_t len);

/* Checks what the VP8 frame tag can tell (RFC 6386 §9.1): version 0..3, the first partition
 * inside the frame, and for a key frame the start code 9d 01 2a and a non-zero size. */
bool tf_rtp_vp8_frame_well_formed(const uint8_t *frame, size_t size, bool *keyframe);

/* ---- packetizer ------------------------------------------------------------------------ */

/* Cuts one frame into payloads of near-equal size, each with the template's descriptor (S and
 * PID 0 on the first packet only, as libwebrtc does). The frame is borrowed until the last
 * payload has been taken. The caller advances the picture id from frame to frame. */
typedef struct tf_rtp_vp8_packetizer {
    const uint8_t *frame;
    size_t size, off, max_payload;
    uint32_t count, index; /* packets in the frame, next one */
    tf_rtp_vp8_desc_t desc;
} tf_rtp_vp8_packetizer_t;

/* tmpl may be NULL (a one-byte descriptor). Returns 0 or -EINVAL (empty frame, bad template,
 * or max_payload not above the descriptor). */
int tf_rtp_vp8_packetize_init(tf_rtp_vp8_packetizer_t *pk, const uint8_t *frame, size_t size,
                              const tf_rtp_vp8_desc_t *tmpl, size_t max_payload);
/* Writes the next payload; *marker on the last one. Returns its size, -EAGAIN when the frame is
 * done, or -ENOBUFS (nothing consumed). */
int tf_rtp_vp8_packetize_next(tf_rtp_vp8_packetizer_t *pk, uint8_t *out, size_t cap, bool *marker);

/* ---- depacketizer ---------------------------------------------------------------------- */

typedef struct tf_rtp_vp8_frame {
    const uint8_t *data; /* into the depacketizer's buffer, valid until its next push/reset */
    size_t size;
    uint32_t timestamp;
    uint16_t first_seq, last_seq;
    bool keyframe;
    bool has_picture_id;
    uint16_t picture_id;
    bool non_reference;
    bool after_loss; /* packets or frames were lost or discarded since the previous frame */
} tf_rtp_vp8_frame_t;

typedef struct tf_rtp_vp8_depacketizer {
    uint8_t *buf; /* caller-owned, cap bytes */
    size_t cap, len;
    bool have_prev, active, broken, ready, loss;
    uint16_t prev_seq;
    tf_rtp_vp8_desc_t first; /* descriptor of the frame's first packet */
    uint16_t first_seq;
    uint32_t ts;
    uint64_t frames, incomplete, malformed;
} tf_rtp_vp8_depacketizer_t;

void tf_rtp_vp8_depacketize_init(tf_rtp_vp8_depacketizer_t *d, uint8_t *buf, size_t cap);
void tf_rtp_vp8_depacketize_reset(tf_rtp_vp8_depacketizer_t *d);
/* Feeds one packet in sequence order. Only whole frames come out, because the decoder cannot see
 * a frame cut short inside its last partition: the first packet has S set and PID 0, all packets
 * have consecutive sequence numbers and the same timestamp (and picture id, when present), the
 * last has the marker, and the frame tag checks out. A zero-length payload is padding. Returns 0
 * or -EPROTO (bad descriptor; its frame is discarded). */
int tf_rtp_vp8_depacketize_push(tf_rtp_vp8_depacketizer_t *d, uint16_t seq, uint32_t ts,
                                bool marker, const uint8_t *payload, size_t len);
int tf_rtp_vp8_depacketize_poll(tf_rtp_vp8_depacketizer_t *d, tf_rtp_vp8_frame_t *out);

#endif
