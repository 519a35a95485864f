/* rtcp_internal.h — private to rtcp.c, rtcp_feedback.c and rtcp_twcc.c: byte-order helpers and
 * the hooks rtcp.c dispatches to. Not an API; nothing outside server/rtc/rtcp*.c includes it. */
#ifndef TF_RTC_RTCP_INTERNAL_H
#define TF_RTC_RTCP_INTERNAL_H

#include "server/rtc/rtcp.h"

#define TF__RTCP_SR 200
#define TF__RTCP_RR 201
#define TF__RTCP_SDES 202
#define TF__RTCP_BYE 203
#define TF__RTCP_RTPFB 205
#define TF__RTCP_PSFB 206
#define TF__RTCP_MAX_LEN (4u * 65536u) /* the 16-bit length field counts words minus one */

static inline uint16_t tf__rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t tf__rd24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t tf__rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | tf__rd24(p + 1);
}

static inline void tf__wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void tf__wr24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    tf__wr16(p + 1, (uint16_t)v);
}

static inline void tf__wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    tf__wr24(p + 1, v);
}

/* Writes the 4-byte common header of a packet of `total` bytes (a multiple of 4). */
void tf__rtcp_header(uint8_t *out, bool padding, uint8_t count, uint8_t pt, size_t total);

/* Parses an RTPFB/PSFB body (after the common header, padding removed) into *out: 0, 1 if the
 * FMT is not one we decode (the caller keeps it as TF_RTCP_OTHER), or -EPROTO. */
int tf__rtcp_fb_parse(tf_rtcp_packet_t *out, uint8_t pt, uint8_t fmt, const uint8_t *b, size_t len);

/* Body of a feedback packet after the common header, unpadded: writes it to `dst` unless NULL,
 * sets *pt and *fmt, and returns its size or -EINVAL. */
int tf__rtcp_fb_body(const tf_rtcp_packet_t *p, uint8_t *dst, uint8_t *pt, uint8_t *fmt);

int tf__rtcp_twcc_parse(tf_rtcp_twcc_t *t, const uint8_t *b, size_t len);
int tf__rtcp_twcc_body(const tf_rtcp_twcc_t *t, uint8_t *dst);

#endif
