/* clip.h — a sender slot's pre-encoded media for tafel-load: 8 s of stamped H.264 (one clip per
 * uplink size: 320x180 and 160x90, the sender switches on the server's `uplink` message)
 * constrained baseline at 15 fps (an IDR first, then P frames), already cut into RTP payloads,
 * and 8 s of 20 ms Opus with the slot's marker tone bursting for 200 ms every 2 s. Encoded once
 * per slot and kept in a cache folder; replaying is the caller's. No sockets, no clock. */
#ifndef TF_LOAD_CLIP_H
#define TF_LOAD_CLIP_H

#include <stddef.h>
#include <stdint.h>

#define TF_CLIP_FPS 15
#define TF_CLIP_V_FRAMES 120    /* 8 s; frame numbers fit the stamp's 8 bits */
#define TF_CLIP_A_FRAMES 400    /* 8 s of 20 ms */
#define TF_CLIP_BURST_EVERY 100 /* audio frames between tone onsets (2 s) */
#define TF_CLIP_BURST_LEN 10    /* audio frames a burst lasts (200 ms) */
#define TF_CLIP_N_SIZES 2       /* index 0 is the largest and the one a sender starts on */
#define TF_CLIP_MAX_PAYLOAD 1100

typedef struct tf_clip_size {
    int w, h, kbps;
} tf_clip_size_t;

/* Largest first; in the header so tests of the stamp need not link the encoder side. */
static const tf_clip_size_t tf_clip_sizes[TF_CLIP_N_SIZES] = {{320, 180, 150}, {160, 90, 60}};

/* The largest size fitting an uplink budget of w x h at kbps, else the smallest. */
static inline int tf_clip_size_for(int w, int h, int kbps)
{
    for (int i = 0; i < TF_CLIP_N_SIZES; i++)
        if (tf_clip_sizes[i].w <= w && tf_clip_sizes[i].h <= h && tf_clip_sizes[i].kbps <= kbps)
            return i;
    return TF_CLIP_N_SIZES - 1;
}

typedef struct tf_clip_pkt {
    uint32_t off; /* into vbytes */
    uint16_t len;
    uint8_t marker; /* last packet of its frame */
} tf_clip_pkt_t;

typedef struct tf_clip {
    unsigned slot;
    int size; /* index into tf_clip_sizes */
    uint8_t *vbytes;
    size_t vlen;
    tf_clip_pkt_t *pkt;
    int n_pkt;
    int vfirst[TF_CLIP_V_FRAMES + 1]; /* packets of frame f: vfirst[f] .. vfirst[f + 1] - 1 */
    uint16_t alen[TF_CLIP_A_FRAMES];
    uint8_t alevel[TF_CLIP_A_FRAMES]; /* -dBov (RFC 6464) */
    uint8_t apay[TF_CLIP_A_FRAMES][256];
} tf_clip_t;

/* Loads slot's clip of tf_clip_sizes[size] from cache_dir (NULL: no cache) or encodes it and
 * writes the cache file. *out is the caller's (tf_clip_free). 0, -EINVAL (size out of range),
 * -ENOMEM, -EIO (an encoder failed). */
int tf_clip_get(tf_clip_t **out, unsigned slot, int size, const char *cache_dir);
void tf_clip_free(tf_clip_t **c);

#endif
