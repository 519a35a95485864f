/* rtcp_feedback.h — the lists inside RTCP feedback (NACK lost seqs, FIR entries, transport-cc
 * statuses): decode them from a parsed packet and build packets from them. No malloc: callers
 * pass the arrays. */
#ifndef TF_RTC_RTCP_FEEDBACK_H
#define TF_RTC_RTCP_FEEDBACK_H

#include "server/rtc/rtcp.h"

/* NACK: PID + BLP pairs expand to lost sequence numbers (at most 17 per pair); returns the count
 * or -ENOBUFS. The builder folds a list (ascending order packs best) back into pairs. */
int tf_rtcp_nack_lost(const tf_rtcp_nack_t *n, uint16_t *seq, size_t cap);
size_t tf_rtcp_nack_build_size(const uint16_t *lost, size_t n);
int tf_rtcp_nack_build_to(uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *lost, size_t n,
                          uint8_t *out, size_t cap);

/* FIR: entry i of a parsed FIR; the builder writes 12 + 8 × n bytes. */
typedef struct tf_rtcp_fir_entry {
    uint32_t ssrc;
    uint8_t seq_nr;
} tf_rtcp_fir_entry_t;
tf_rtcp_fir_entry_t tf_rtcp_fir_entry(const tf_rtcp_fir_t *f, size_t i);
int tf_rtcp_fir_build_to(uint32_t sender_ssrc, const tf_rtcp_fir_entry_t *e, size_t n, uint8_t *out,
                         size_t cap);

/* Transport-cc: one status per sequence number from base_seq. delta_us is the arrival time minus
 * the previous received packet's (the first one's: minus ref_time × 64 ms), 0 if not received.
 * expand returns status_count or -ENOBUFS. build takes sender/media SSRC, ref_time and fb_count
 * from *hdr and consecutive seqs from st[]; it rounds deltas to 250 µs without accumulating error
 * and returns -ERANGE if a delta needs more than 16 bits; build_size is 0 if it cannot encode. */
typedef struct tf_rtcp_twcc_status {
    uint16_t seq;
    bool received;
    int32_t delta_us;
} tf_rtcp_twcc_status_t;
int tf_rtcp_twcc_expand(const tf_rtcp_twcc_t *t, tf_rtcp_twcc_status_t *out, size_t cap);
size_t tf_rtcp_twcc_build_size(const tf_rtcp_twcc_status_t *st, size_t n);
int tf_rtcp_twcc_build_to(const tf_rtcp_twcc_t *hdr, const tf_rtcp_twcc_status_t *st, size_t n,
                          uint8_t *out, size_t cap);

#endif
