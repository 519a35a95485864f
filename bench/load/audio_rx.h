/* audio_rx.h — how a tafel-load receiver accounts for its Opus stream, as a browser's NetEq
 * would repair it: a lost packet right before one that carries in-band FEC (LBRR) is rebuilt,
 * other lost packets are concealed (PLC). Sans-IO and decoder-free: it only reads the packet's
 * header bits; the client shell does the decoding. */
#ifndef TF_LOAD_AUDIO_RX_H
#define TF_LOAD_AUDIO_RX_H

#include <stddef.h>
#include <stdint.h>

/* 1 when the Opus packet carries in-band FEC for the packet before it (the SILK layer's LBRR
 * flag of its first frame, for the mid or the side channel), 0 when not (CELT-only, DTX, no
 * LBRR), -EINVAL for a malformed packet (opus_packet_parse refused it). */
int lg_opus_has_fec(const uint8_t *pkt, size_t len);

typedef struct lg_audio_count {
    uint64_t intact;    /* packets that arrived */
    uint64_t rebuilt;   /* lost, rebuilt from the next packet's FEC */
    uint64_t concealed; /* lost, concealed */
} lg_audio_count_t;

/* One packet that arrived, after lost_before packets given up on right before it. Returns 1 when
 * the last of those is to be decoded from this packet with FEC (use_fec), else 0; the other lost
 * ones are concealed. Counts into *c. */
int lg_audio_count_packet(lg_audio_count_t *c, const uint8_t *pkt, size_t len,
                          uint32_t lost_before);

#endif
