/* send_stream.h — one sent RTP stream (one media SSRC, plus its RTX SSRC): sequence numbers, a
 * packet history that answers NACKs with RTX (RFC 4588) or plain retransmissions, and sender
 * report counters. Sans-IO: no sockets, no clock (time comes in), no pacing (pacer.h), no
 * SRTP, no malloc after create. */
#ifndef TF_RTC_SEND_STREAM_H
#define TF_RTC_SEND_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/rtc/rtcp.h"
#include "server/rtc/rtp.h"

typedef struct tf_send_stream_config {
    uint32_t ssrc;
    uint8_t payload_type;
    uint32_t clock_rate;
    bool rtx; /* answer NACKs on the RTX SSRC; else resend the packet as it was */
    uint32_t rtx_ssrc;
    uint8_t rtx_payload_type;
    uint16_t first_seq, first_rtx_seq; /* random, from the caller (RFC 3550 §5.1) */
    size_t history_packets;            /* ≥ 600 (libwebrtc keeps that many, and ≥ 1 s) */
    size_t max_packet_bytes;           /* a packet slot; longer packets are sent but not kept */
    size_t retransmit_queue;           /* NACKed packets waiting for poll_retransmit */
} tf_send_stream_config_t;

/* Defaults: no RTX, first sequence numbers 0, 1024 packets of 1500 bytes, a queue of 256. */
void tf_send_stream_config_default(tf_send_stream_config_t *cfg, uint32_t ssrc, uint8_t pt,
                                   uint32_t clock_rate);

typedef struct tf_send_stream tf_send_stream_t;

/* 0, -EINVAL (history below 600 packets, a payload type above 127...) or -ENOMEM. */
int tf_send_stream_create(tf_send_stream_t **out, const tf_send_stream_config_t *cfg);
void tf_send_stream_destroy(tf_send_stream_t **s);

/* Marshals *p (the caller sets timestamp, marker, extensions and payload; this sets version,
 * SSRC, payload type and the next sequence number into *p) into out, keeps a copy and counts it
 * for the SR. Returns the packet size, -ENOBUFS or -EINVAL; on error no sequence number is
 * used. */
int tf_send_stream_write(tf_send_stream_t *s, int64_t now_us, tf_rtp_packet_t *p, uint8_t *out,
                         size_t cap);
/* The same for an already marshalled packet (the MCU's shared encoder output): rewrites its SSRC,
 * payload type and sequence number in place. 0 or -EPROTO. */
int tf_send_stream_write_rtp(tf_send_stream_t *s, int64_t now_us, uint8_t *pkt, size_t len);

/* Lost packets reported by the receiver (RFC 4585 NACK). Each one still in the history and not
 * retransmitted within the last RTT is queued; the others are counted (too old, unknown,
 * throttled, queue full). */
void tf_send_stream_on_nack(tf_send_stream_t *s, int64_t now_us, const uint16_t *seq, size_t n);
void tf_send_stream_on_nack_rtcp(tf_send_stream_t *s, int64_t now_us, const tf_rtcp_nack_t *nack);

/* The next retransmission: the RTX packet (or the original) in out. Returns its size, -EAGAIN
 * when none is due, or -ENOBUFS (it stays queued). */
int tf_send_stream_poll_retransmit(tf_send_stream_t *s, int64_t now_us, uint8_t *out, size_t cap);

/* RTT, from report blocks or the caller; throttles repeated retransmissions of one packet. */
void tf_send_stream_set_rtt(tf_send_stream_t *s, int64_t rtt_us);
/* A report block about this SSRC: keeps the loss figures and, when LSR is set, measures the
 * round trip (RFC 3550 §6.4.1: now − LSR − DLSR) from ntp_now, the caller's NTP clock, and
 * applies it. Returns the RTT in µs, or -EAGAIN without LSR. */
int64_t tf_send_stream_on_report_block(tf_send_stream_t *s, uint64_t ntp_now,
                                       const tf_rtcp_report_block_t *rb);

/* A sender report for this SSRC at NTP time ntp (the caller's wall clock, 32.32) and now_us:
 * the RTP timestamp is the last packet's, advanced by the time since it was written. rb/n_rb
 * (may be 0) are report blocks about streams we receive. Returns bytes, -ENOBUFS or -EINVAL. */
int tf_send_stream_build_sr(tf_send_stream_t *s, int64_t now_us, uint64_t ntp,
                            const tf_rtcp_report_block_t *rb, size_t n_rb, uint8_t *out,
                            size_t cap);

typedef struct tf_send_stats {
    uint32_t packets, octets;        /* SR: media packets and payload octets (wrap) */
    uint64_t bytes;                  /* media packets, whole */
    uint64_t rtx_packets, rtx_bytes; /* retransmissions, whole packets (RTX or plain) */
    uint64_t nack_seqs;              /* NACKed sequence numbers received */
    uint64_t nack_too_old, nack_unknown, nack_throttled, nack_queue_full, not_kept;
    uint8_t fraction_lost; /* from the last report block */
    int32_t cumulative_lost;
    int64_t rtt_us; /* 0 until known */
    uint16_t next_seq;
} tf_send_stats_t;
void tf_send_stream_get_stats(const tf_send_stream_t *s, tf_send_stats_t *out);

#endif
