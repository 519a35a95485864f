/* rtp_h264.h — H.264 RTP payload (RFC 6184, packetization-mode 1): packetizer (single NAL,
 * STAP-A, FU-A) and depacketizer to Annex-B access units. No RTP headers, no reordering, no
 * malloc: callers pass the buffers, and the receive stream (recv_stream.h) orders packets. */
#ifndef TF_RTC_RTP_H264_H
#define TF_RTC_RTP_H264_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/video.h"

/* NAL unit types this file looks at (ITU-T H.264 Table 7-1, RFC 6184 Table 1). */
enum {
    TF_H264_NAL_SLICE = 1,
    TF_H264_NAL_IDR = 5,
    TF_H264_NAL_SEI = 6,
    TF_H264_NAL_SPS = 7,
    TF_H264_NAL_PPS = 8,
    TF_H264_NAL_AUD = 9,
    TF_H264_NAL_STAP_A = 24,
    TF_H264_NAL_FU_A = 28,
};

/* ---- packetizer ------------------------------------------------------------------------ */

/* Walks one access unit: NALs that fit go out alone or, when several consecutive ones fit
 * together (SPS + PPS + SEI), aggregated in one STAP-A; bigger NALs are cut into FU-A fragments
 * of near-equal size. The access unit (au->data and au->nal[]) is borrowed and must stay
 * unchanged until the last packet has been taken. */
typedef struct tf_rtp_h264_packetizer {
    const tf_venc_packet_t *au;
    size_t max_payload;
    int next_nal;       /* first NAL not fully sent */
    uint32_t frag_off;  /* FU-A in progress: offset into the NAL, 0 when none */
    uint32_t frag_left; /* fragments still to send of that NAL */
} tf_rtp_h264_packetizer_t;

/* max_payload is the RTP payload budget (MTU minus RTP header, extensions and SRTP tag), at
 * least 3. Returns 0, or -EINVAL for a NAL table that does not fit au->data or has an empty
 * NAL. */
int tf_rtp_h264_packetize_init(tf_rtp_h264_packetizer_t *pk, const tf_venc_packet_t *au,
                               size_t max_payload);
/* Writes the next payload into out; *marker is set on the last packet of the access unit
 * (RFC 6184 §5.1). Returns the payload size, -EAGAIN when the access unit is done, or -ENOBUFS
 * (cap below the payload; nothing is consumed). */
int tf_rtp_h264_packetize_next(tf_rtp_h264_packetizer_t *pk, uint8_t *out, size_t cap,
                               bool *marker);

/* Splits an Annex-B buffer (3- or 4-byte start codes) into out->data/size and out->nal[]
 * (out->keyframe is set when an IDR slice is present; pts_us is left 0). Returns the NAL count,
 * -EPROTO (no start code at the beginning, empty NAL) or -EMSGSIZE (> TF_VENC_MAX_NALS). */
int tf_rtp_h264_annexb_split(const uint8_t *data, size_t size, tf_venc_packet_t *out);

/* ---- depacketizer ---------------------------------------------------------------------- */

#define TF_RTP_H264_MAX_FRAME_NALS 256

/* A complete access unit: Annex-B, a 4-byte start code before the first NAL and every SPS/PPS
 * and a 3-byte one elsewhere (ITU-T H.264 B.1.2 zero_byte rule, the layout x264 writes). */
typedef struct tf_rtp_h264_frame {
    const uint8_t *data; /* into the depacketizer's buffer, valid until its next push/reset */
    size_t size;
    uint32_t timestamp;
    uint16_t first_seq, last_seq;
    int nal_count;
    bool keyframe;    /* an IDR slice is present */
    bool has_sps_pps; /* both an SPS and a PPS are present */
    bool after_loss;  /* packets or frames were lost or discarded since the previous frame */
} tf_rtp_h264_frame_t;

typedef struct tf_rtp_h264_depacketizer {
    uint8_t *buf; /* caller-owned, cap bytes, outlives the depacketizer */
    size_t cap, len;
    uint32_t nal_off[TF_RTP_H264_MAX_FRAME_NALS]; /* where each NAL's header byte starts */
    int nal_count;
    bool have_prev, prev_marker, active, broken, in_fu, ready, loss;
    uint8_t fu_type, nal_types_seen; /* bit 0 IDR, bit 1 SPS, bit 2 PPS */
    uint16_t prev_seq, first_seq;
    uint32_t prev_ts, ts;
    uint64_t frames, incomplete, malformed; /* counters */
} tf_rtp_h264_depacketizer_t;

/* buf receives the access units; a frame larger than cap is discarded as incomplete. */
void tf_rtp_h264_depacketize_init(tf_rtp_h264_depacketizer_t *d, uint8_t *buf, size_t cap);
/* Forgets the partial frame and the previous packet (after a loss the caller gave up on). */
void tf_rtp_h264_depacketize_reset(tf_rtp_h264_depacketizer_t *d);
/* Feeds one packet in sequence order. A frame is complete when every packet from the one
 * after the previous frame's marker (or, after a gap, from a packet that starts an access unit)
 * up to this frame's marker arrived with consecutive sequence numbers and the same timestamp,
 * every FU-A ran from S to E, and every NAL is well-formed (F bit clear, type 1..23, no start
 * code emulation; trailing zero bytes are trimmed). Incomplete frames are counted and dropped. A
 * zero-length payload is padding: it only advances the sequence. Returns 0, or -EPROTO for a
 * malformed payload (its frame is discarded); an unpolled complete frame is dropped. */
int tf_rtp_h264_depacketize_push(tf_rtp_h264_depacketizer_t *d, uint16_t seq, uint32_t ts,
                                 bool marker, const uint8_t *payload, size_t len);
/* 0 with *out filled once after the push that completed a frame, else -EAGAIN. */
int tf_rtp_h264_depacketize_poll(tf_rtp_h264_depacketizer_t *d, tf_rtp_h264_frame_t *out);

/* What the first NAL of a payload says, without state: au_start — it can begin an access unit
 * (AUD, SEI, SPS, PPS, or a slice with first_mb_in_slice 0, FU-A only with S); key_start —
 * it begins a key frame (an SPS anywhere in a STAP-A, or such an IDR slice). */
typedef struct tf_rtp_h264_payload_info {
    bool au_start, key_start;
} tf_rtp_h264_payload_info_t;
void tf_rtp_h264_payload_info(const uint8_t *payload, size_t len, tf_rtp_h264_payload_info_t *out);

#endif
