/* stamp.h — the load generator's machine-readable marks: a frame barcode (sender slot + frame
 * number, 8 x 4 cells over the whole picture, CRC-checked) drawn into a sender's I420 picture and
 * read back out of a tile of the mixed canvas, and the audio marker (a per-slot tone burst found
 * with the Goertzel filter). Pure functions on caller buffers: no clock, no codec, no sockets. */
#ifndef TF_LOAD_STAMP_H
#define TF_LOAD_STAMP_H

#include <stdbool.h>
#include <stdint.h>

#include "codec/frame.h"
#include "mixer/layout.h"

#define TF_STAMP_COLS 8
#define TF_STAMP_ROWS 4
#define TF_STAMP_MAX_SLOT 1023 /* 10 bits */
#define TF_STAMP_MAX_FRAME 255 /* 8 bits */
#define TF_STAMP_Y0 40         /* luma of a 0 cell */
#define TF_STAMP_Y1 215        /* luma of a 1 cell */

/* The 32 cell bits of (slot, frame): 10 + 8 bits, a CRC-8 over them and 6 fixed bits. */
uint32_t tf_stamp_encode(unsigned slot, unsigned frame);
/* 0 with *slot, *frame set, or -EBADMSG when the CRC or the fixed bits do not match. */
int tf_stamp_decode(uint32_t bits, unsigned *slot, unsigned *frame);

/* Draws the barcode of (slot, frame) over the whole of f: each cell dark or light with a faint
 * texture that moves with `frame` (so an encoder has real work), chroma a colour of the slot. */
void tf_stamp_draw(tf_frame_t *f, unsigned slot, unsigned frame);

/* Reads a barcode from the rectangle r of f (a tile of the composite: the whole picture scaled
 * into r). Samples the middle of each cell, thresholds halfway between the darkest and the
 * lightest cell. 0, -ENOENT (no contrast: a placeholder or an empty tile), -EBADMSG (checks
 * failed: a frame caught mid-change or damaged) or -EINVAL (r outside f or too small). */
int tf_stamp_read(const tf_frame_t *f, const tf_rect_t *r, unsigned *slot, unsigned *frame);

/* ---- audio marker --------------------------------------------------------------------- */

#define TF_TONE_FRAME 960 /* 20 ms at 48 kHz: what the generator analyses per packet */

/* The burst frequency of a slot: a multiple of 100 Hz in 400..3300 Hz (slot mod 30), centred
 * on a Goertzel bin of a 20 ms frame (tone_meter_amplitude), so the 30 slots of a room never
 * share one. */
double tf_tone_hz(unsigned slot);

#endif
