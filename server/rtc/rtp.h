/* rtp.h — RTP packets (RFC 3550) with RFC 8285 header extensions, RTX (RFC 4588) and sequence
 * helpers: parse in place, build into caller buffers. No sockets, no clock, no malloc, no state. */
#ifndef TF_RTC_RTP_H
#define TF_RTC_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors: -EPROTO malformed input, -ENOBUFS output buffer too small, -EINVAL a value the wire
 * cannot carry, -ENOENT extension absent. Parsed packets point into the caller's buffer, which
 * must outlive them; nothing is copied or allocated. */

#define TF_RTP_HEADER_SIZE 12
#define TF_RTP_MAX_CSRC 15
#define TF_RTP_MAX_EXT 16          /* elements per packet; more is rejected as -EPROTO */
#define TF_RTP_EXT_ONE_BYTE 0xBEDE /* RFC 8285 §4.2 */
#define TF_RTP_EXT_TWO_BYTE 0x1000 /* RFC 8285 §4.3; the low 4 bits are "appbits" */

typedef struct tf_rtp_ext {
    uint8_t id;          /* 1..14 (one-byte form) or 1..255 (two-byte form) */
    uint8_t len;         /* bytes of data: 1..16 (one-byte) or 0..255 (two-byte) */
    const uint8_t *data; /* parse: into the packet; build: caller-owned, read by marshal */
} tf_rtp_ext_t;

typedef struct tf_rtp_packet {
    uint8_t version; /* 2 after a parse; marshal always writes 2 */
    bool extension;  /* X bit: marshal writes an extension block iff set */
    bool marker;
    uint8_t csrc_count;
    uint8_t payload_type; /* 0..127 */
    uint16_t seq;
    uint32_t timestamp, ssrc;
    uint32_t csrc[TF_RTP_MAX_CSRC];
    /* Extension block. With profile 0xBEDE or 0x100x the elements are in ext[]; with profile 0
     * and ext_count > 0, marshal picks the one-byte form when every element fits, else the
     * two-byte form; with any other profile the block is opaque: ext_raw/ext_raw_len. */
    uint16_t ext_profile;
    uint8_t ext_count;
    tf_rtp_ext_t ext[TF_RTP_MAX_EXT];
    const uint8_t *ext_raw; /* block body after its 4-byte header (parse: into the packet) */
    size_t ext_raw_len;     /* a multiple of 4 */
    const uint8_t *payload; /* parse: into the packet; build: caller-owned */
    size_t payload_len;     /* without padding */
    uint8_t padding_len;    /* 0 = P bit clear, else padding bytes including the count byte */
    size_t header_len;      /* set by parse: bytes before the payload */
} tf_rtp_packet_t;

/* Parses and validates `buf`; on error *p is unspecified. */
int tf_rtp_parse(tf_rtp_packet_t *p, const uint8_t *buf, size_t len);
size_t tf_rtp_marshal_size(const tf_rtp_packet_t *p);
/* Returns bytes written, -ENOBUFS or -EINVAL. */
int tf_rtp_marshal_to(const tf_rtp_packet_t *p, uint8_t *out, size_t cap);

/* Header extensions by id (the id comes from the SDP a=extmap line). */
const tf_rtp_ext_t *tf_rtp_ext_find(const tf_rtp_packet_t *p, uint8_t id);
/* Adds or replaces element `id` (data stays caller-owned) and sets p->extension.
 * Returns 0, -EINVAL (id 0 or > 255 bytes) or -ENOSPC (TF_RTP_MAX_EXT reached). */
int tf_rtp_ext_set(tf_rtp_packet_t *p, uint8_t id, const uint8_t *data, size_t len);
/* Overwrites the data of element `id` of the packet in `buf`, in place; the new data must have
 * the element's length (for stamping abs-send-time or a transport-cc seq at send time).
 * Returns 0, -ENOENT, -EINVAL (length differs) or -EPROTO. */
int tf_rtp_ext_overwrite(uint8_t *buf, size_t len, uint8_t id, const uint8_t *data, size_t dlen);

/* The extensions WebRTC uses. Getters return 0, -ENOENT (absent) or -EPROTO (bad length). */
int tf_rtp_get_mid(const tf_rtp_packet_t *p, uint8_t id, char *out, size_t cap); /* NUL-ended */
int tf_rtp_get_abs_send_time(const tf_rtp_packet_t *p, uint8_t id, uint32_t *ast24);
int tf_rtp_get_twcc_seq(const tf_rtp_packet_t *p, uint8_t id, uint16_t *seq);
int tf_rtp_get_audio_level(const tf_rtp_packet_t *p, uint8_t id, bool *voice, uint8_t *dbov);
/* Encoders for tf_rtp_ext_set(); each returns the byte count it wrote (3, 2, 1). */
size_t tf_rtp_put_abs_send_time(uint8_t out[3], uint32_t ast24);
size_t tf_rtp_put_twcc_seq(uint8_t out[2], uint16_t seq);
size_t tf_rtp_put_audio_level(uint8_t out[1], bool voice, uint8_t dbov); /* dbov 0..127 */
/* abs-send-time is seconds in 6.18 fixed point, 24 bits: it wraps every 64 s. */
uint32_t tf_rtp_abs_send_time_from_us(uint64_t us);
uint64_t tf_rtp_abs_send_time_to_us(uint32_t ast24); /* 0 .. 64 s, rounded down */

/* In-place rewrites of a packet in `buf` (the MCU's per-receiver SSRC/seq/timestamp/PT mapping).
 * Each checks the fixed header is present and version 2; 0 or -EPROTO. */
int tf_rtp_rewrite_ssrc(uint8_t *buf, size_t len, uint32_t ssrc);
int tf_rtp_rewrite_seq(uint8_t *buf, size_t len, uint16_t seq);
int tf_rtp_rewrite_timestamp(uint8_t *buf, size_t len, uint32_t timestamp);
int tf_rtp_rewrite_payload_type(uint8_t *buf, size_t len, uint8_t pt); /* keeps M; -EINVAL > 127 */
int tf_rtp_rewrite_marker(uint8_t *buf, size_t len, bool marker);

/* RTX (RFC 4588 §4): wrap copies the original header (CSRCs and extensions byte for byte) with
 * the RTX PT, SSRC and seq, then the original seq (OSN) and payload; the original's padding is
 * dropped. Unwrap reverses it with the original PT and SSRC. `out` may equal `pkt` (in place) or
 * must not overlap it. Both return the bytes written, -EPROTO or -ENOBUFS. */
int tf_rtp_rtx_wrap(const uint8_t *pkt, size_t len, uint8_t rtx_pt, uint32_t rtx_ssrc,
                    uint16_t rtx_seq, uint8_t *out, size_t cap);
int tf_rtp_rtx_unwrap(const uint8_t *pkt, size_t len, uint8_t pt, uint32_t ssrc, uint8_t *out,
                      size_t cap);

/* True if `a` is newer than `b` modulo 2^16; exactly half a cycle apart, the larger value wins
 * so that the order stays antisymmetric. */
static inline bool tf_rtp_seq_newer(uint16_t a, uint16_t b)
{
    uint16_t d = (uint16_t)(a - b);
    return d == 0x8000 ? a > b : d != 0 && d < 0x8000;
}

/* Extends 16-bit sequence numbers to 64 bits by following wrap-arounds in either direction.
 * Zero-initialise; the first value unwraps to itself, a packet older than it may go negative. */
typedef struct tf_rtp_seq_unwrapper {
    int64_t last;
    bool started;
} tf_rtp_seq_unwrapper_t;
int64_t tf_rtp_seq_unwrap(tf_rtp_seq_unwrapper_t *u, uint16_t seq);

/* RFC 7983 / RFC 5761 §4 demultiplexing for rtcp-mux: first byte 128..191 is RTP or RTCP, and a
 * second byte in 192..223 makes it RTCP. */
bool tf_rtp_is_rtcp(const uint8_t *buf, size_t len);
bool tf_rtp_is_rtp(const uint8_t *buf, size_t len);

#endif
