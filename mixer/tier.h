/* tier.h — the media tiers of DESIGN §4: canvas size, frame rate and bitrates per tier.
 *
 * Data only; choosing a receiver's tier from its bandwidth estimate comes with the rooms work. */
#ifndef TF_TIER_H
#define TF_TIER_H

#include "mixer/layout.h"

typedef enum {
    TF_TIER_AUDIO = 0,
    TF_TIER_LOW = 1,
    TF_TIER_MEDIUM = 2,
    TF_TIER_HIGH = 3,
    TF_TIER_COUNT = 4,
} tf_tier_id_t;

typedef struct tf_tier {
    tf_tier_id_t id;
    const char *name;              /* "audio", "low", "medium", "high" */
    int width, height;             /* canvas; 0 for audio-only */
    int fps;
    int video_kbps;                /* target video bitrate */
    int opus_bps;                  /* audio bitrate */
    int opus_frame_ms;             /* 20, or 40/60 on the lowest tiers to save header bytes */
    int intra_refresh;             /* periodic intra refresh instead of IDRs */
    tf_layout_kind_t grid_layout;  /* what this tier shows when the room is in grid mode */
} tf_tier_t;

/* The tier's parameters, or NULL for an id out of range. */
const tf_tier_t *tf_tier_get(tf_tier_id_t id);

/* "low" -> tier; 0 or -EINVAL. */
int tf_tier_parse(const char *name, tf_tier_id_t *out);

#endif
