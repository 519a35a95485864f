/* rtcp.h — RTCP wire format (RFC 3550, RFC 4585, RFC 5104, REMB, transport-cc): parse compound
 * packets into typed views and build them into caller buffers. No sockets, no clock, no malloc,
 * no session state (statistics and timers belong to the caller). */
#ifndef TF_RTC_RTCP_H
#define TF_RTC_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors: -EPROTO malformed input, -ENOBUFS output buffer too small, -EINVAL (or -ERANGE for a
 * transport-cc delta) for values the wire cannot carry. Parsed packets point into the caller's
 * buffer, which must outlive them; builders only read the pointers they are given. */

typedef enum tf_rtcp_type {
    TF_RTCP_SR = 1, /* RFC 3550 §6.4.1, PT 200 */
    TF_RTCP_RR,     /* §6.4.2, PT 201 */
    TF_RTCP_SDES,   /* §6.5, PT 202: only CNAME is kept */
    TF_RTCP_BYE,    /* §6.6, PT 203 */
    TF_RTCP_NACK,   /* RFC 4585 §6.2.1, RTPFB FMT 1 */
    TF_RTCP_PLI,    /* RFC 4585 §6.3.1, PSFB FMT 1 */
    TF_RTCP_FIR,    /* RFC 5104 §4.3.1, PSFB FMT 4 */
    TF_RTCP_REMB,   /* draft-alvestrand-rmcat-remb, PSFB FMT 15 "REMB" */
    TF_RTCP_TWCC,   /* draft-holmer-rmcat-transport-wide-cc-extensions, RTPFB FMT 15 */
    TF_RTCP_OTHER,  /* anything else (APP, XR, other FMTs), kept as bytes */
} tf_rtcp_type_t;

#define TF_RTCP_MAX_COUNT 31 /* the 5-bit RC / SC field */

typedef struct tf_rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;   /* 8-bit fixed point */
    int32_t cumulative_lost; /* 24-bit signed on the wire; marshal saturates */
    uint32_t highest_seq;    /* extended highest sequence number received */
    uint32_t jitter, lsr, dlsr;
} tf_rtcp_report_block_t;

typedef struct tf_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp; /* 32.32 NTP timestamp */
    uint32_t rtp_ts, packet_count, octet_count;
    uint8_t rb_count;
    tf_rtcp_report_block_t rb[TF_RTCP_MAX_COUNT];
} tf_rtcp_sr_t;

typedef struct tf_rtcp_rr {
    uint32_t ssrc;
    uint8_t rb_count;
    tf_rtcp_report_block_t rb[TF_RTCP_MAX_COUNT];
} tf_rtcp_rr_t;

typedef struct tf_rtcp_sdes {
    uint8_t count;
    struct {
        uint32_t ssrc;
        const char *cname; /* not NUL-terminated; NULL if the chunk has none */
        uint8_t cname_len;
    } chunk[TF_RTCP_MAX_COUNT];
} tf_rtcp_sdes_t;

typedef struct tf_rtcp_bye {
    uint8_t count;
    uint32_t ssrc[TF_RTCP_MAX_COUNT];
    const char *reason; /* not NUL-terminated; NULL if absent */
    uint8_t reason_len;
} tf_rtcp_bye_t;

typedef struct tf_rtcp_fb { /* PLI, and the common part of every feedback message */
    uint32_t sender_ssrc, media_ssrc;
} tf_rtcp_fb_t;

typedef struct tf_rtcp_nack { /* FCI kept in wire form: see tf_rtcp_nack_lost() */
    uint32_t sender_ssrc, media_ssrc;
    size_t pair_count;
    const uint8_t *fci; /* pair_count × (PID, BLP) */
} tf_rtcp_nack_t;

typedef struct tf_rtcp_fir { /* FCI kept in wire form: see tf_rtcp_fir_entry() */
    uint32_t sender_ssrc, media_ssrc;
    size_t count;
    const uint8_t *fci; /* count × (SSRC, seq nr, 3 reserved bytes) */
} tf_rtcp_fir_t;

typedef struct tf_rtcp_remb {
    uint32_t sender_ssrc;
    uint64_t bitrate_bps; /* 18-bit mantissa << 6-bit exponent: marshal rounds down */
    uint8_t ssrc_count;
    uint32_t ssrc[255];
} tf_rtcp_remb_t;

typedef struct tf_rtcp_twcc { /* chunks and deltas in wire form: see tf_rtcp_twcc_expand() */
    uint32_t sender_ssrc, media_ssrc;
    uint16_t base_seq, status_count;
    uint32_t ref_time;   /* 24 bits, in 64 ms units; wraps */
    uint8_t fb_count;    /* feedback packet count */
    const uint8_t *body; /* chunks then receive deltas (and maybe zero padding) */
    size_t body_len;
} tf_rtcp_twcc_t;

typedef struct tf_rtcp_other {
    uint8_t pt, count;   /* packet type; the 5-bit RC/FMT field */
    const uint8_t *body; /* after the 4-byte header, without padding */
    size_t len;
} tf_rtcp_other_t;

typedef struct tf_rtcp_packet {
    tf_rtcp_type_t type;
    union {
        tf_rtcp_sr_t sr;
        tf_rtcp_rr_t rr;
        tf_rtcp_sdes_t sdes;
        tf_rtcp_bye_t bye;
        tf_rtcp_nack_t nack;
        tf_rtcp_fb_t pli;
        tf_rtcp_fir_t fir;
        tf_rtcp_remb_t remb;
        tf_rtcp_twcc_t twcc;
        tf_rtcp_other_t other;
    };
} tf_rtcp_packet_t;

/* Compound packets. init validates the whole compound (framing and every packet's body) so a
 * caller never acts on half of a bad one: 0 or -EPROTO. next: 1 with *out filled, 0 at the end. */
typedef struct tf_rtcp_iter {
    const uint8_t *buf;
    size_t len, off;
} tf_rtcp_iter_t;
int tf_rtcp_iter_init(tf_rtcp_iter_t *it, const uint8_t *buf, size_t len);
int tf_rtcp_iter_next(tf_rtcp_iter_t *it, tf_rtcp_packet_t *out);

/* One packet, padded to 32 bits with the P bit where needed. Return bytes or a negative errno. */
size_t tf_rtcp_marshal_size(const tf_rtcp_packet_t *p);
int tf_rtcp_marshal_to(const tf_rtcp_packet_t *p, uint8_t *out, size_t cap);
int tf_rtcp_compound_marshal_to(const tf_rtcp_packet_t *p, size_t n, uint8_t *out, size_t cap);
/* Lists inside NACK, FIR and transport-cc (decode, and build from a list): rtcp_feedback.h. */

/* The middle 32 bits of an NTP timestamp: LSR in report blocks (RFC 3550 §6.4.1). */
static inline uint32_t tf_rtcp_ntp_compact(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

#endif
