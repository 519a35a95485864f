/* tier.c — the tier table (DESIGN §4: low bandwidth first). No policy here, only numbers. */
#include "mixer/tier.h"

#include <errno.h>
#include <string.h>

/* The lowest video tier shows the speaker alone: a 3x3 grid at 320x180 gives 106x60 tiles,
 * which show nobody (MEDIA-NOTES). Its audio uses 40 ms packets, halving header overhead. */
static const tf_tier_t tiers[TF_TIER_COUNT] = {
    {TF_TIER_AUDIO, "audio", 0, 0, 0, 0, 16000, 60, 0, TF_LAYOUT_SPEAKER},
    {TF_TIER_LOW, "low", 320, 180, 12, 130, 24000, 40, 1, TF_LAYOUT_SPEAKER},
    {TF_TIER_MEDIUM, "medium", 640, 360, 15, 400, 32000, 20, 0, TF_LAYOUT_GRID},
    {TF_TIER_HIGH, "high", 1280, 720, 25, 1200, 32000, 20, 0, TF_LAYOUT_GRID},
};

const tf_tier_t *tf_tier_get(tf_tier_id_t id)
{
    if ((int)id < 0 || id >= TF_TIER_COUNT)
        return NULL;
    return &tiers[id];
}

int tf_tier_parse(const char *name, tf_tier_id_t *out)
{
    for (int i = 0; i < TF_TIER_COUNT; i++) {
        if (strcmp(name, tiers[i].name) == 0) {
            *out = tiers[i].id;
            return 0;
        }
    }
    return -EINVAL;
}
