/* video.h — video encoders (H.264 on libx264, VP8 on libavcodec/libvpx) and decoders (libavcodec).
 *
 * Frame in, compressed access unit out, and back. No RTP here: the packetizers in server/rtc take
 * the NAL table of a tf_venc_packet_t. No threads: each encoder or decoder uses one thread and
 * belongs to one caller at a time. */
#ifndef TF_VIDEO_H
#define TF_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "codec/frame.h"

typedef enum { TF_VCODEC_H264 = 1, TF_VCODEC_VP8 = 2 } tf_vcodec_t;

typedef struct tf_venc_config {
    tf_vcodec_t codec;
    int width, height;     /* even, 16..4096 */
    int fps_num, fps_den;  /* nominal frame rate; 0/0 means 15/1 */
    int bitrate_kbps;      /* target (ABR with VBV capped at the target) */
    int intra_refresh;     /* 1: periodic intra refresh instead of periodic IDR (H.264 only) */
    int keyint_max;        /* frames between forced key frames / refresh cycles; 0: default
                            * (5 s refresh cycle with intra refresh, else a key frame every 10 s) */
    int max_slice_bytes;   /* H.264: cap slice size (e.g. 1100 for one RTP packet); 0: no cap */
    const char *preset;    /* x264 preset; NULL: "veryfast" */
} tf_venc_config_t;

/* Fills a config with the defaults for a tier canvas (H.264, 15 fps, intra refresh on when the
 * bitrate is at most 200 kbit/s). */
void tf_venc_config_default(tf_venc_config_t *cfg, tf_vcodec_t codec, int width, int height,
                            int bitrate_kbps);

#define TF_VENC_MAX_NALS 128

typedef struct tf_venc_packet {
    const uint8_t *data;   /* access unit: Annex-B (start codes) for H.264, a raw frame for VP8 */
    size_t size;
    struct {
        uint32_t offset, size;  /* into data; NAL unit without its start code (H.264 only) */
    } nal[TF_VENC_MAX_NALS];
    int n_nal;
    int keyframe;          /* IDR (H.264) or key frame (VP8) */
    int64_t pts_us;
} tf_venc_packet_t;

typedef struct tf_venc tf_venc_t;

/* 0 or -EINVAL (bad config), -ENOMEM, -EIO (the codec library refused). */
int tf_venc_create(tf_venc_t **out, const tf_venc_config_t *cfg);
void tf_venc_destroy(tf_venc_t **enc);

/* Encodes one frame (same size as configured). On success out->data stays valid until the next
 * call on this encoder; out->size is 0 when the encoder produced nothing for this frame.
 * force_key asks for an IDR / key frame (with SPS/PPS for H.264). The frame is only read during
 * the call. -EINVAL (wrong size), -EMSGSIZE (H.264 AU of more than TF_VENC_MAX_NALS NALs: raise
 * max_slice_bytes; the frame is lost, force a key frame), -ENOMEM, -EIO. */
int tf_venc_encode(tf_venc_t *enc, const tf_frame_t *frame, int force_key, tf_venc_packet_t *out);

/* Per-macroblock quantizer offsets for the following frames (x264 prop.quant_offsets, added to
 * adaptive quantization): negative spends more bits, positive fewer. offsets holds one float per
 * 16x16 macroblock in raster order (n must be that count), stays the caller's and must be valid
 * during each tf_venc_encode(); NULL turns them off. H.264 only: -ENOTSUP for VP8. */
int tf_venc_set_quant_offsets(tf_venc_t *enc, const float *offsets, int n);

/* Run-time changes. H.264: the bit rate goes through x264_encoder_reconfig() (no reopen, no
 * IDR); x264 cannot change its frame rate in place, so set_fps folds the new rate into the rate
 * control target (bits per frame = target / new fps), which behaves like a native open.
 * VP8: FFmpeg 5.1's libvpx wrapper reads the bit rate only when opened, so set_bitrate reopens
 * the encoder before the next frame, which is then a key frame (several calls in between cost
 * one); libvpx follows the frame rate from the timestamps, set_fps only updates the nominal
 * frame duration. */
int tf_venc_set_bitrate(tf_venc_t *enc, int bitrate_kbps);
int tf_venc_set_fps(tf_venc_t *enc, int fps_num, int fps_den);

/* The codec's extradata for a container (H.264: Annex-B SPS+PPS), valid for the encoder's life.
 * Sets *size to 0 when there is none. */
const uint8_t *tf_venc_headers(tf_venc_t *enc, size_t *size);

typedef struct tf_vdec tf_vdec_t;

int tf_vdec_create(tf_vdec_t **out, tf_vcodec_t codec);
void tf_vdec_destroy(tf_vdec_t **dec);

/* Decodes one access unit (Annex-B H.264 or one VP8 frame). On success *frame is a new
 * reference the caller owns, or NULL when the decoder has no picture yet. Corrupt input returns
 * -EINVAL (libavcodec rejected it) or -EPROTO (it concealed missing or broken macroblocks) with
 * *frame NULL; the decoder then waits for the next key frame (IDR / VP8 key frame) and returns
 * -EAGAIN for the inter frames in between. A new decoder also waits for its first key frame.
 * Limits: H.264 damage is found when slices are cut or missing; a VP8 frame cut inside its last
 * partition is not detectable (VP8 does not carry that length), so depacketizers must deliver
 * only complete frames. Frames are 8-bit I420 (yuvj420p passes through with its full range);
 * other formats are converted with a copy. data is only read during the call. */
int tf_vdec_decode(tf_vdec_t *dec, const uint8_t *data, size_t size, int64_t pts_us,
                   tf_frame_t **frame);

/* Frames decoded and errors seen, for counters. */
typedef struct tf_vdec_stats {
    uint64_t frames, errors, skipped_until_key;
} tf_vdec_stats_t;
void tf_vdec_get_stats(const tf_vdec_t *dec, tf_vdec_stats_t *out);

#endif
