/* load_opus_fec_fuzzer.c — libFuzzer target for bench/load/audio_rx.c (tafel-load's Opus FEC
 * accounting): any bytes as an Opus packet, the first byte also as a count of packets lost
 * before it. Properties: the answer is -EINVAL exactly when libopus refuses the packet, else 0
 * or 1 (never for CELT-only or an empty first frame); the counters add up: one packet intact,
 * rebuilt + concealed = lost, at most one rebuilt and only when the packet carries FEC. Seeds in
 * tests/fuzz/corpus/load_opus_fec/ are written by hand (SILK mono/stereo, hybrid, CELT, DTX). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>

#include "bench/load/audio_rx.h"

#define FUZZ_NAME "load_opus_fec_fuzzer"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 3833) /* the largest packet audio_rx.c looks at: 3832 bytes */
        return 0;
    uint32_t lost = data[0] % 8;
    const uint8_t *pkt = data + 1;
    size_t len = size - 1;
    uint8_t *copy = malloc(len ? len : 1); /* exact size: reads past it are caught */
    if (!copy)
        return 0;
    memcpy(copy, pkt, len);
    int f = lg_opus_has_fec(len ? copy : NULL, len);
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    int n = len ? opus_packet_parse(copy, (opus_int32)len, NULL, frames, sizes, NULL) : -1;
    CHECK(f == -EINVAL || f == 0 || f == 1);
    CHECK((f == -EINVAL) == (n <= 0));
    if (f == 1)
        CHECK((copy[0] >> 3) < 16 && sizes[0] > 0);
    lg_audio_count_t c;
    memset(&c, 0, sizeof(c));
    int rebuilt = lg_audio_count_packet(&c, len ? copy : NULL, len, lost);
    CHECK(c.intact == 1);
    CHECK(c.rebuilt + c.concealed == lost);
    CHECK(rebuilt == (int)c.rebuilt && c.rebuilt <= 1);
    CHECK(!rebuilt || (lost > 0 && f == 1));
    free(copy);
    return 0;
}
