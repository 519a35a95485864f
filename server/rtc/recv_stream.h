/* recv_stream.h — one received RTP stream (one media SSRC, plus its RTX SSRC): reorder buffer,
 * RTT-aware NACK, frame assembly, key-frame recovery (PLI) and RFC 3550 receiver statistics.
 * Sans-IO: bytes and time in, frames and feedback out. No sockets, no clock, no RTCP parsing or
 * building (rtcp.h does that), no decoding, no playout delay: frames leave when complete. */
#ifndef TF_RTC_RECV_STREAM_H
#define TF_RTC_RECV_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/rtc/rtcp.h"

typedef enum tf_recv_codec {
    TF_RECV_CODEC_H264 = 1,
    TF_RECV_CODEC_VP8,
    TF_RECV_CODEC_OPUS,
} tf_recv_codec_t;

typedef struct tf_recv_stream_config {
    tf_recv_codec_t codec;
    uint32_t ssrc;
    uint8_t payload_type;
    bool rtx; /* an RTX stream was negotiated (RFC 4588, SSRC-multiplexed) */
    uint32_t rtx_ssrc;
    uint8_t rtx_payload_type;
    uint32_t clock_rate;          /* 90000 video, 48000 Opus */
    size_t buffer_packets;        /* reorder buffer slots, a power of two */
    size_t max_payload;           /* bytes per slot; bigger payloads are dropped and counted */
    size_t max_frame_bytes;       /* H.264 / VP8 access unit buffer */
    bool nack;                    /* request retransmissions (video; Opus normally not) */
    size_t nack_max;              /* missing packets tracked; more is an overflow: give up + PLI */
    int nack_max_retries;         /* NACKs per packet */
    int64_t reorder_wait_us;      /* a gap waits this long before its first NACK (or, without
                                   * NACK, before it is given up) */
    int64_t min_nack_interval_us; /* retries every max(RTT, this) */
    int64_t min_give_up_us;       /* a gap is given up after max(2 RTT, this) */
    int64_t initial_rtt_us;
    int64_t pli_interval_us;     /* at most one PLI per max(2 RTT, this) while waiting for a key */
    bool h264_key_needs_sps_pps; /* an IDR counts as a key frame only with SPS and PPS */
} tf_recv_stream_config_t;

/* Defaults: 90 kHz video with NACK (512 slots of 1500 bytes, 1 MiB frames, 256 tracked, 10
 * retries, 10 ms reorder wait, 20 ms minimum retry interval, 200 ms minimum give-up, 100 ms
 * RTT, 500 ms PLI interval), or 48 kHz Opus without NACK (64 slots, 20 ms reorder wait). */
void tf_recv_stream_config_default(tf_recv_stream_config_t *cfg, tf_recv_codec_t codec,
                                   uint32_t ssrc, uint8_t payload_type);

typedef struct tf_recv_stream tf_recv_stream_t;

/* Allocates every buffer now (nothing per packet). 0, -EINVAL or -ENOMEM. */
int tf_recv_stream_create(tf_recv_stream_t **out, const tf_recv_stream_config_t *cfg);
void tf_recv_stream_destroy(tf_recv_stream_t **s);

/* One RTP packet of the media or the RTX SSRC (already SRTP-unprotected); only read during the
 * call. Returns 0, -EPROTO (not RTP), -EINVAL (another SSRC or payload type) or -EMSGSIZE
 * (payload above max_payload: dropped, later given up as lost). Duplicates, late packets and
 * RTX padding are counted and return 0. Also runs tf_recv_stream_handle_timeout(now_us). */
int tf_recv_stream_push(tf_recv_stream_t *s, int64_t now_us, const uint8_t *pkt, size_t len);

/* Gives up on gaps whose time is over and schedules PLI repeats. */
void tf_recv_stream_handle_timeout(tf_recv_stream_t *s, int64_t now_us);

typedef struct tf_recv_frame {
    const uint8_t *data; /* valid until the next poll_frame, push or destroy */
    size_t size;         /* H.264: Annex-B access unit; VP8: frame; Opus: packet */
    uint32_t timestamp;
    uint16_t first_seq, last_seq;
    bool keyframe;        /* video: IDR (see h264_key_needs_sps_pps) / VP8 key frame */
    int64_t arrival_us;   /* the latest arrival among its packets */
    uint32_t samples;     /* Opus: samples per channel at 48 kHz */
    uint32_t lost_before; /* Opus: packets given up on right before this one */
} tf_recv_frame_t;

/* The next complete frame in sequence order: 0 with *out filled, -EAGAIN when none. Video frames
 * after a loss are held back (dropped and counted) until the next key frame. Nothing leaves in
 * the first reorder_wait_us after the first packet (earlier ones may still come); push or
 * handle_timeout ends that wait. */
int tf_recv_stream_poll_frame(tf_recv_stream_t *s, tf_recv_frame_t *out);

#define TF_RECV_NACK_BATCH 128

typedef struct tf_recv_feedback {
    uint16_t nack[TF_RECV_NACK_BATCH]; /* ascending in unwrapped order: tf_rtcp_nack_build_to */
    size_t nack_count;
    bool pli; /* send a PLI (RFC 4585 §6.3.1) for this SSRC */
} tf_recv_feedback_t;

/* Feedback due at now_us (first runs handle_timeout): 0 with *out filled, or -EAGAIN. Poll until
 * -EAGAIN: more than TF_RECV_NACK_BATCH due packets take several calls. Each returned sequence
 * number counts as one NACK sent. */
int tf_recv_stream_poll_feedback(tf_recv_stream_t *s, int64_t now_us, tf_recv_feedback_t *out);

/* The earliest time poll_feedback or handle_timeout (then poll_frame) has work (0: now), or
 * INT64_MAX. */
int64_t tf_recv_stream_poll_timeout(const tf_recv_stream_t *s);

/* Round-trip time from RTCP (report blocks, or the caller's own estimate); > 0. */
void tf_recv_stream_set_rtt(tf_recv_stream_t *s, int64_t rtt_us);
/* Ask for a key frame now (a decoder error, a new viewer): PLI at the next poll, subject to the
 * interval, and video frames are held back until a key frame. */
void tf_recv_stream_request_keyframe(tf_recv_stream_t *s);

/* RFC 3550 §6.4.1 / A.3 / A.8 for a report block about this stream. on_sr records the sender's
 * report for LSR and DLSR. report_block fills *rb and starts the next fraction-lost interval;
 * -EAGAIN before the first packet. Jitter counts in-order original packets only. */
void tf_recv_stream_on_sr(tf_recv_stream_t *s, int64_t now_us, const tf_rtcp_sr_t *sr);
int tf_recv_stream_report_block(tf_recv_stream_t *s, int64_t now_us, tf_rtcp_report_block_t *rb);

typedef struct tf_recv_stats {
    uint64_t packets, bytes;           /* media SSRC packets (originals and plain retransmits) */
    uint64_t rtx_packets, rtx_padding; /* RTX SSRC: packets, payload-less probes */
    uint64_t duplicates, late;         /* already in the buffer; older than what left it */
    uint64_t oversized, restarts;      /* payload above max_payload; sequence jumps (A.1) */
    uint64_t recovered;                /* gaps filled after they were detected */
    uint64_t nack_seqs, nack_polls;    /* NACKed sequence numbers (retries included), batches */
    uint64_t given_up;                 /* gaps given up on */
    uint64_t nack_overflows, buffer_overflows;
    uint64_t plis, keyframe_requests; /* PLIs polled; times the stream started waiting */
    uint64_t frames, keyframes;       /* delivered */
    uint64_t frames_dropped;          /* complete but held back while waiting for a key */
    uint64_t frames_incomplete;       /* discarded by the depacketizer */
    uint64_t malformed;               /* payloads the depacketizer rejected */
    bool waiting_keyframe;
    int64_t rtt_us;
    size_t missing; /* gaps currently tracked */
} tf_recv_stats_t;
void tf_recv_stream_get_stats(const tf_recv_stream_t *s, tf_recv_stats_t *out);

#endif
