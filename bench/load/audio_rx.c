/* audio_rx.c — tafel-load's Opus receive accounting: which lost packets in-band FEC rebuilds.
 * Reads header bits only (RFC 6716); no decoding, no state beyond the caller's counters. */
#include "bench/load/audio_rx.h"

#include <errno.h>

#include <opus.h>

/* RFC 6716 §4.2.3: a SILK frame opens with the VAD flag of each of its 20 ms frames, then the
 * LBRR flag, for the mid channel and then (stereo) the side channel. Each is a binary symbol of
 * probability 1/2 at the start of the range coder, so they are the first byte's top bits:
 *
 *   mono, n SILK frames:    | VAD 1..n | LBRR | ...
 *   stereo:                 | mid VAD 1..n | mid LBRR | side VAD 1..n | side LBRR | ...
 *
 * n is 1 for 10/20 ms frames, 2 for 40 ms and 3 for 60 ms (SILK-only configurations 0..11:
 * duration = config % 4 of 10, 20, 40, 60 ms); hybrid (12..15) is 10 or 20 ms, n = 1; CELT-only
 * (16..31) carries no LBRR. */
int lg_opus_has_fec(const uint8_t *pkt, size_t len)
{
    if (!pkt || len < 1 || len > 1275 * 3 + 7)
        return -EINVAL;
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    unsigned char toc = 0;
    int n = opus_packet_parse(pkt, (opus_int32)len, &toc, frames, sizes, NULL);
    if (n <= 0)
        return -EINVAL;
    int config = toc >> 3;
    if (config >= 16 || sizes[0] == 0)
        return 0;
    int silk_frames = config < 12 && config % 4 >= 2 ? config % 4 : 1; /* 40 ms: 2, 60 ms: 3 */
    unsigned b = frames[0][0];
    int mid = (b >> (7 - silk_frames)) & 1;
    int side = (toc & 0x04) ? (b >> (6 - 2 * silk_frames)) & 1 : 0;
    return mid || side;
}

int lg_audio_count_packet(lg_audio_count_t *c, const uint8_t *pkt, size_t len, uint32_t lost_before)
{
    int fec = lost_before > 0 && lg_opus_has_fec(pkt, len) == 1;
    c->intact++;
    c->rebuilt += (uint64_t)fec;
    c->concealed += lost_before - (uint32_t)fec;
    return fec;
}
