/* roi.c — the quantizer-offset map of a canvas from its layout and each tile's class. */
#include "mixer/roi.h"

static const float class_qp[] = {TF_ROI_SPEAKER_QP, TF_ROI_MOVING_QP, TF_ROI_STILL_QP};

void tf_roi_fill(float *q, int mb_w, int mb_h, const tf_layout_t *lay, const tf_roi_class_t *cls)
{
    for (int i = 0; i < mb_w * mb_h; i++)
        q[i] = TF_ROI_BACKGROUND_QP;
    for (int k = 0; k < lay->n && k < TF_LAYOUT_MAX_TILES; k++) {
        const tf_rect_t *rc = &lay->tile[k];
        if (!rc->w || !rc->h)
            continue;
        float v = class_qp[cls[k]];
        for (int y = rc->y / 16; y < (rc->y + rc->h + 15) / 16 && y < mb_h; y++)
            for (int x = rc->x / 16; x < (rc->x + rc->w + 15) / 16 && x < mb_w; x++)
                if (v < q[y * mb_w + x])
                    q[y * mb_w + x] = v;
    }
}
