/* clip.c — encodes (x264, libopus) and caches a sender slot's stamped clip for tafel-load.
 * The cache is one small binary file per slot, rewritten when its header does not match. */
#include "bench/load/clip.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/load/stamp.h"
#include "codec/frame.h"
#include "codec/opus.h"
#include "codec/video.h"
#include "server/rtc/rtp_h264.h"

#define MAGIC "TFLOADC3" /* C3: the quiet microphone at -64 dBov (was -56) */

static int add_pkt(tf_clip_t *c, size_t *cap, int *pcap, const uint8_t *p, size_t len, bool m)
{
    if (c->vlen + len > *cap) {
        size_t ncap = (*cap + len) * 2;
        uint8_t *nb = realloc(c->vbytes, ncap);
        if (!nb)
            return -ENOMEM;
        c->vbytes = nb;
        *cap = ncap;
    }
    if (c->n_pkt == *pcap) {
        int np = *pcap ? *pcap * 2 : 256;
        tf_clip_pkt_t *n = realloc(c->pkt, sizeof(*n) * (size_t)np);
        if (!n)
            return -ENOMEM;
        c->pkt = n;
        *pcap = np;
    }
    memcpy(c->vbytes + c->vlen, p, len);
    c->pkt[c->n_pkt++] = (tf_clip_pkt_t){(uint32_t)c->vlen, (uint16_t)len, m};
    c->vlen += len;
    return 0;
}

static int encode_video(tf_clip_t *c)
{
    tf_venc_config_t vc;
    const tf_clip_size_t *sz = &tf_clip_sizes[c->size];
    tf_venc_config_default(&vc, TF_VCODEC_H264, sz->w, sz->h, sz->kbps);
    vc.fps_num = TF_CLIP_FPS;
    vc.fps_den = 1;
    vc.intra_refresh = 0;
    vc.keyint_max = 100000; /* like libwebrtc: an IDR at the start (and when the clip loops) */
    vc.max_slice_bytes = TF_CLIP_MAX_PAYLOAD;
    tf_venc_t *enc = NULL;
    tf_frame_t *f = tf_frame_alloc(sz->w, sz->h);
    size_t cap = 0;
    int pcap = 0, e = f ? tf_venc_create(&enc, &vc) : -ENOMEM;
    for (int k = 0; e == 0 && k < TF_CLIP_V_FRAMES; k++) {
        tf_stamp_draw(f, c->slot, (unsigned)k);
        f->pts_us = (int64_t)k * 1000000 / TF_CLIP_FPS;
        tf_venc_packet_t au;
        c->vfirst[k] = c->n_pkt;
        if ((e = tf_venc_encode(enc, f, k == 0, &au)) < 0 || au.size == 0)
            break;
        tf_rtp_h264_packetizer_t pk;
        if ((e = tf_rtp_h264_packetize_init(&pk, &au, TF_CLIP_MAX_PAYLOAD)) < 0)
            break;
        uint8_t pay[TF_CLIP_MAX_PAYLOAD + 16];
        bool marker;
        int n;
        while ((n = tf_rtp_h264_packetize_next(&pk, pay, sizeof(pay), &marker)) > 0)
            if ((e = add_pkt(c, &cap, &pcap, pay, (size_t)n, marker)) < 0)
                break;
        if (e == 0 && n != -EAGAIN)
            e = n;
    }
    c->vfirst[TF_CLIP_V_FRAMES] = c->n_pkt;
    if (e == 0) /* zerolatency x264 gives one AU per frame: every frame must have packets */
        for (int k = 0; k < TF_CLIP_V_FRAMES; k++)
            if (c->vfirst[k + 1] <= c->vfirst[k])
                e = -EIO;
    tf_venc_destroy(&enc);
    tf_frame_unref(&f);
    return e < 0 ? -EIO : 0;
}

static int encode_audio(tf_clip_t *c)
{
    tf_opus_enc_config_t oc;
    tf_opus_enc_config_default(&oc);
    oc.bitrate_bps = 32000;
    tf_opus_enc_t *oe = NULL;
    if (tf_opus_enc_create(&oe, &oc) < 0)
        return -EIO;
    float pcm[TF_TONE_FRAME];
    double hz = tf_tone_hz(c->slot), phase = 0;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (c->slot + 1);
    for (int k = 0; k < TF_CLIP_A_FRAMES; k++) {
        bool burst = k % TF_CLIP_BURST_EVERY < TF_CLIP_BURST_LEN;
        double sum = 0;
        for (int i = 0; i < TF_TONE_FRAME; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            /* a quiet room's microphone, about -64 dBov (RFC 6464): under the room's -55 dBov
             * "worth decoding" line, as a listening pupil's is */
            double noise = ((double)(rng >> 40) / (double)(1 << 24) - 0.5) * 0.0016;
            phase += 2 * M_PI * hz / TF_OPUS_RATE;
            double s = noise + (burst ? 0.25 * sin(phase) : 0);
            pcm[i] = (float)s;
            sum += s * s;
        }
        double dbov = -10 * log10(sum / TF_TONE_FRAME + 1e-12) - 3.01;
        c->alevel[k] = (uint8_t)(dbov < 0 ? 0 : dbov > 127 ? 127 : dbov);
        int n = tf_opus_enc_encode(oe, pcm, c->apay[k], sizeof(c->apay[k]));
        if (n < 0) {
            tf_opus_enc_destroy(&oe);
            return -EIO;
        }
        c->alen[k] = (uint16_t)n;
    }
    tf_opus_enc_destroy(&oe);
    return 0;
}

static void cache_path(char *out, size_t cap, const char *dir, const tf_clip_t *c)
{
    if (c->size == 0) /* the name of the days when there was one size */
        snprintf(out, cap, "%s/clip-%04u.bin", dir, c->slot);
    else
        snprintf(out, cap, "%s/clip-%04u-%dx%d.bin", dir, c->slot, tf_clip_sizes[c->size].w,
                 tf_clip_sizes[c->size].h);
}

static int load(tf_clip_t *c, const char *dir)
{
    char path[512];
    cache_path(path, sizeof(path), dir, c);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -ENOENT;
    char magic[8];
    uint32_t hdr[3];
    int ok = fread(magic, 8, 1, f) == 1 && !memcmp(magic, MAGIC, 8) &&
             fread(hdr, sizeof(hdr), 1, f) == 1 && hdr[0] == c->slot && hdr[1] > 0 &&
             hdr[1] < (1u << 20) && hdr[2] < (64u << 20);
    if (ok) {
        c->n_pkt = (int)hdr[1];
        c->vlen = hdr[2];
        c->pkt = malloc(sizeof(*c->pkt) * (size_t)c->n_pkt);
        c->vbytes = malloc(c->vlen);
        ok = c->pkt && c->vbytes &&
             fread(c->pkt, sizeof(*c->pkt), (size_t)c->n_pkt, f) == (size_t)c->n_pkt &&
             fread(c->vbytes, 1, c->vlen, f) == c->vlen &&
             fread(c->vfirst, sizeof(c->vfirst), 1, f) == 1 &&
             fread(c->alen, sizeof(c->alen), 1, f) == 1 &&
             fread(c->alevel, sizeof(c->alevel), 1, f) == 1 &&
             fread(c->apay, sizeof(c->apay), 1, f) == 1;
        for (int i = 0; ok && i < c->n_pkt; i++)
            ok = (size_t)c->pkt[i].off + c->pkt[i].len <= c->vlen;
        for (int k = 0; ok && k < TF_CLIP_V_FRAMES; k++)
            ok = c->vfirst[k] >= 0 && c->vfirst[k] < c->vfirst[k + 1] &&
                 c->vfirst[k + 1] <= c->n_pkt;
        for (int k = 0; ok && k < TF_CLIP_A_FRAMES; k++)
            ok = c->alen[k] > 0 && c->alen[k] <= sizeof(c->apay[k]);
    }
    fclose(f);
    if (!ok) {
        free(c->pkt);
        free(c->vbytes);
        c->pkt = NULL;
        c->vbytes = NULL;
        c->n_pkt = 0;
        c->vlen = 0;
        return -EBADMSG;
    }
    return 0;
}

static void save(const tf_clip_t *c, const char *dir)
{
    char path[512], tmp[520];
    mkdir(dir, 0755);
    cache_path(path, sizeof(path), dir, c);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    uint32_t hdr[3] = {c->slot, (uint32_t)c->n_pkt, (uint32_t)c->vlen};
    int ok = fwrite(MAGIC, 8, 1, f) == 1 && fwrite(hdr, sizeof(hdr), 1, f) == 1 &&
             fwrite(c->pkt, sizeof(*c->pkt), (size_t)c->n_pkt, f) == (size_t)c->n_pkt &&
             fwrite(c->vbytes, 1, c->vlen, f) == c->vlen &&
             fwrite(c->vfirst, sizeof(c->vfirst), 1, f) == 1 &&
             fwrite(c->alen, sizeof(c->alen), 1, f) == 1 &&
             fwrite(c->alevel, sizeof(c->alevel), 1, f) == 1 &&
             fwrite(c->apay, sizeof(c->apay), 1, f) == 1;
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
        remove(tmp);
}

int tf_clip_get(tf_clip_t **out, unsigned slot, int size, const char *cache_dir)
{
    if (size < 0 || size >= TF_CLIP_N_SIZES)
        return -EINVAL;
    tf_clip_t *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->slot = slot;
    c->size = size;
    if (cache_dir && load(c, cache_dir) == 0) {
        *out = c;
        return 0;
    }
    int e = encode_video(c);
    if (e == 0)
        e = encode_audio(c);
    if (e < 0) {
        tf_clip_free(&c);
        return e;
    }
    if (cache_dir)
        save(c, cache_dir);
    *out = c;
    return 0;
}

void tf_clip_free(tf_clip_t **c)
{
    if (!c || !*c)
        return;
    free((*c)->vbytes);
    free((*c)->pkt);
    free(*c);
    *c = NULL;
}
