/* roi.h — per-macroblock quantizer offsets for a composed canvas: bits where they matter (the
 * active speaker, moving pictures), few on still tiles, placeholders and the background.
 * Geometry and policy only; the encoder applies the map (tf_venc_set_quant_offsets). */
#ifndef TF_ROI_H
#define TF_ROI_H

#include "mixer/layout.h"

typedef enum {
    TF_ROI_SPEAKER = 0, /* the active speaker */
    TF_ROI_MOVING,      /* a picture that changed since the last encoded frame */
    TF_ROI_STILL,       /* unchanged, or a placeholder */
} tf_roi_class_t;

#define TF_ROI_SPEAKER_QP (-4.0f)
#define TF_ROI_MOVING_QP 0.0f
#define TF_ROI_STILL_QP 4.0f
#define TF_ROI_BACKGROUND_QP 6.0f

/* Fills q[mb_w * mb_h] (16x16 macroblocks, raster order) for the shown tiles of lay; tile i has
 * class cls[i]. A macroblock touching several tiles takes the smallest offset (the most bits). */
void tf_roi_fill(float *q, int mb_w, int mb_h, const tf_layout_t *lay, const tf_roi_class_t *cls);

#endif
