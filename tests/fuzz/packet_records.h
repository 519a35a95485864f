/* packet_records.h — what the depacketizer fuzz targets (h264_, vp8_depacketizer_fuzzer.c)
 * share: CHECK (fuzz_check.h) and the walk over their input's records.
 * A record is one flag byte, a 16-bit big-endian length and that many payload bytes (a short
 * last record is cut to what is there). Flags: bit 0 marker, bit 1 next timestamp, bit 2 skip a
 * sequence number (a loss), bit 3 repeat the last one, bit 4 reset the depacketizer first (the
 * caller's job); bits 5-7 are the caller's. Define FUZZ_NAME before including. */
#ifndef TF_FUZZ_PACKET_RECORDS_H
#define TF_FUZZ_PACKET_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/fuzz_check.h"

typedef struct fuzz_records {
    const uint8_t *data;
    size_t size, off;
    uint16_t seq; /* the sequence number the next packet gets (the caller increments it) */
    uint32_t ts;
} fuzz_records_t;

static inline void fuzz_records_init(fuzz_records_t *r, const uint8_t *data, size_t size)
{
    *r = (fuzz_records_t){.data = data, .size = size, .seq = 65530}; /* wraps early */
}

/* The next record: its flags and payload, with bits 1-3 applied to ts and seq. false at the end. */
static inline bool fuzz_records_next(fuzz_records_t *r, uint8_t *flags, const uint8_t **payload,
                                     size_t *len)
{
    if (r->off >= r->size)
        return false;
    *flags = r->data[r->off++];
    *len = 0;
    if (r->size - r->off >= 2) {
        *len = (size_t)r->data[r->off] << 8 | r->data[r->off + 1];
        r->off += 2;
    }
    if (*len > r->size - r->off)
        *len = r->size - r->off;
    *payload = r->data + r->off;
    r->off += *len;
    if (*flags & 0x02)
        r->ts += 3000;
    if (*flags & 0x04)
        r->seq++;
    if (*flags & 0x08)
        r->seq--;
    return true;
}

#endif
