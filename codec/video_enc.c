/* video_enc.c — tf_venc_*: H.264 on libx264 directly, VP8 on libavcodec's libvpx wrapper.
 *
 * No RTP packetisation, no scaling (frames must have the configured size), no threads of our own
 * (each codec library runs with one thread), no logging beyond errors of the libraries. */
#include "codec/video.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
#include <x264.h>

/* H.264 level 3.1 (the "1f" of profile-level-id 42e01f): at most 3600 macroblocks per frame,
 * 108000 per second, 14000 kbit/s for baseline. Bigger canvases get x264's automatic level. */
#define LEVEL31_MAX_FRAME_MBS 3600
#define LEVEL31_MAX_MBPS 108000
#define LEVEL31_MAX_KBPS 14000

/* VBV buffer ≈ 0.4 s of the target: no frame may take more than ~0.4 s of link time. */
#define VBV_BUFFER_MS 400

struct tf_venc {
    tf_vcodec_t codec;
    int width, height;
    int fps_num, fps_den;         /* nominal rate the encoder was opened with */
    int cur_fps_num, cur_fps_den; /* rate the caller says it now feeds (tf_venc_set_fps) */
    int bitrate_kbps;
    int intra_refresh, keyint, max_slice_bytes;
    char preset[32];

    /* H.264 */
    x264_t *x264;
    uint8_t *headers; /* SPS + PPS, Annex-B, copied once at create */
    size_t headers_size;
    float *quant_offsets; /* caller's per-macroblock QP offsets, or NULL */

    /* VP8 */
    AVCodecContext *vpx;
    AVPacket *pkt;
    AVFrame *frame;
    int vpx_reopen;  /* bit rate changed: reopen before the next frame */
    int64_t last_ts; /* last timestamp handed to libvpx (kept strictly increasing) */
    int have_last_ts;
};

void tf_venc_config_default(tf_venc_config_t *cfg, tf_vcodec_t codec, int width, int height,
                            int bitrate_kbps)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->codec = codec;
    cfg->width = width;
    cfg->height = height;
    cfg->fps_num = 15;
    cfg->fps_den = 1;
    cfg->bitrate_kbps = bitrate_kbps;
    cfg->intra_refresh = codec == TF_VCODEC_H264 && bitrate_kbps <= 200;
    cfg->keyint_max = 0;
    cfg->max_slice_bytes = 0;
    cfg->preset = "veryfast";
}

/* Frames per keyint_max == 0: intra refresh sweeps the picture every 5 s; periodic IDR / VP8 key
 * frames come every 10 s (key frames on demand are the normal way to recover). */
static int default_keyint(const tf_venc_t *e)
{
    int per_s = (e->fps_num + e->fps_den - 1) / e->fps_den;
    return (e->intra_refresh ? 5 : 10) * (per_s > 0 ? per_s : 1);
}

/* The bit rate the library must be told so that the caller's *real* frame rate hits the target.
 * x264 (b_vfr_input = 0) budgets bits per frame as bitrate / nominal fps and cannot change its
 * fps in x264_encoder_reconfig(), so a new frame rate is folded into the configured rate. */
static int effective_kbps(const tf_venc_t *e)
{
    int64_t num = (int64_t)e->bitrate_kbps * e->fps_num * e->cur_fps_den;
    int64_t den = (int64_t)e->fps_den * e->cur_fps_num;
    int64_t v = (num + den / 2) / den;
    return v < 1 ? 1 : v > INT_MAX ? INT_MAX : (int)v;
}

static void h264_fill_rate(const tf_venc_t *e, x264_param_t *p)
{
    int kbps = effective_kbps(e);
    p->rc.i_rc_method = X264_RC_ABR;
    p->rc.i_bitrate = kbps;
    p->rc.i_vbv_max_bitrate = kbps;
    /* The buffer is a size in bits, so it is 0.4 s of the *real* target, not of the folded rate. */
    p->rc.i_vbv_buffer_size = e->bitrate_kbps * VBV_BUFFER_MS / 1000;
    if (p->rc.i_vbv_buffer_size < 1)
        p->rc.i_vbv_buffer_size = 1;
}

static int h264_level_fits(const tf_venc_t *e)
{
    int64_t mbs = (int64_t)((e->width + 15) / 16) * ((e->height + 15) / 16);
    int64_t mbps = (mbs * e->fps_num + e->fps_den - 1) / e->fps_den;
    return mbs <= LEVEL31_MAX_FRAME_MBS && mbps <= LEVEL31_MAX_MBPS &&
           e->bitrate_kbps <= LEVEL31_MAX_KBPS;
}

/* Length of the Annex-B start code at p (3 or 4), or 0. */
static int start_code_len(const uint8_t *p, size_t n)
{
    if (n >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 1)
        return 4;
    if (n >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1)
        return 3;
    return 0;
}

static int h264_copy_headers(tf_venc_t *e)
{
    x264_nal_t *nal;
    int n;
    if (x264_encoder_headers(e->x264, &nal, &n) < 0)
        return -EIO;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        if (nal[i].i_type == NAL_SPS || nal[i].i_type == NAL_PPS)
            total += (size_t)nal[i].i_payload;
    e->headers = malloc(total ? total : 1);
    if (!e->headers)
        return -ENOMEM;
    /* The version SEI that x264 appends is left out: the contract is SPS + PPS. */
    for (int i = 0; i < n; i++) {
        if (nal[i].i_type != NAL_SPS && nal[i].i_type != NAL_PPS)
            continue;
        memcpy(e->headers + e->headers_size, nal[i].p_payload, (size_t)nal[i].i_payload);
        e->headers_size += (size_t)nal[i].i_payload;
    }
    return 0;
}

static int preset_known(const char *name)
{
    for (int i = 0; x264_preset_names[i]; i++)
        if (!strcmp(x264_preset_names[i], name))
            return 1;
    return 0;
}

static int h264_open(tf_venc_t *e)
{
    x264_param_t p;
    /* Checked here because x264 would print its complaint to stderr before any log level. */
    if (!preset_known(e->preset) || x264_param_default_preset(&p, e->preset, "zerolatency") < 0)
        return -EINVAL;
    p.i_log_level = X264_LOG_ERROR;
    p.i_threads = 1;
    p.i_lookahead_threads = 1;
    p.b_sliced_threads = 0;
    p.i_width = e->width;
    p.i_height = e->height;
    p.i_csp = X264_CSP_I420;
    p.i_fps_num = (uint32_t)e->fps_num;
    p.i_fps_den = (uint32_t)e->fps_den;
    p.b_vfr_input = 0; /* rate control by frame count; pts pass through untouched */
    p.i_bframe = 0;
    p.rc.i_lookahead = 0;
    p.i_sync_lookahead = 0;
    p.rc.b_mb_tree = 0;
    p.i_level_idc = h264_level_fits(e) ? 31 : -1;
    h264_fill_rate(e, &p);
    p.b_repeat_headers = 1; /* SPS/PPS in front of every IDR, or libwebrtc drops it */
    p.b_annexb = 1;
    p.b_aud = 0;
    p.i_slice_max_size = e->max_slice_bytes;
    p.i_keyint_max = e->keyint;
    if (e->intra_refresh) {
        /* A refresh column sweeps the picture every keyint frames instead of an IDR. */
        p.b_intra_refresh = 1;
        p.i_scenecut_threshold = 0;
    }
    if (x264_param_apply_profile(&p, "baseline") < 0)
        return -EINVAL;
    e->x264 = x264_encoder_open(&p);
    if (!e->x264)
        return -EIO;
    return h264_copy_headers(e);
}

static int h264_encode(tf_venc_t *e, const tf_frame_t *frame, int force_key, tf_venc_packet_t *out)
{
    x264_picture_t in, pic_out;
    x264_picture_init(&in);
    in.img.i_csp = X264_CSP_I420;
    in.img.i_plane = 3;
    for (int i = 0; i < 3; i++) {
        in.img.plane[i] = frame->plane[i]; /* x264 copies the picture; it never writes to it */
        in.img.i_stride[i] = frame->stride[i];
    }
    in.i_pts = frame->pts_us;
    in.i_type = force_key ? X264_TYPE_IDR : X264_TYPE_AUTO;
    in.prop.quant_offsets = e->quant_offsets; /* read during this call only; NULL: none */

    x264_nal_t *nal = NULL;
    int n = 0;
    int size = x264_encoder_encode(e->x264, &nal, &n, &in, &pic_out);
    if (size < 0)
        return -EIO;
    if (size == 0 || n == 0)
        return 0;
    if (n > TF_VENC_MAX_NALS)
        return -EMSGSIZE; /* raise max_slice_bytes; the frame is lost, ask for a key frame */

    /* x264 guarantees that the payloads of one call are contiguous in memory. */
    const uint8_t *base = nal[0].p_payload;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (nal[i].p_payload != base + off)
            return -EIO;
        int sc = start_code_len(nal[i].p_payload, (size_t)nal[i].i_payload);
        if (sc == 0)
            return -EIO;
        out->nal[i].offset = (uint32_t)(off + (size_t)sc);
        out->nal[i].size = (uint32_t)(nal[i].i_payload - sc);
        if (nal[i].i_type == NAL_SLICE_IDR)
            out->keyframe = 1; /* b_keyframe is also set at intra-refresh starts: not an IDR */
        off += (size_t)nal[i].i_payload;
    }
    out->data = base;
    out->size = off;
    out->n_nal = n;
    out->pts_us = pic_out.i_pts;
    return 0;
}

static int h264_reconfig(tf_venc_t *e)
{
    x264_param_t p;
    x264_encoder_parameters(e->x264, &p);
    h264_fill_rate(e, &p);
    return x264_encoder_reconfig(e->x264, &p) < 0 ? -EIO : 0;
}

/* ---- VP8 ---------------------------------------------------------------------------------- */

static int64_t frame_duration_us(int num, int den)
{
    return ((int64_t)1000000 * den + num / 2) / num;
}

static int vp8_open(tf_venc_t *e)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libvpx");
    if (!codec)
        return -EIO;
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return -ENOMEM;
    c->log_level_offset = AV_LOG_VERBOSE - AV_LOG_INFO; /* hide the libvpx version banner */
    c->width = e->width;
    c->height = e->height;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    /* Microsecond time base: libvpx estimates the frame rate from the timestamps, so a change of
     * input rate is followed without a reopen. FFmpeg 5.1 passes ticks_per_frame as the duration
     * of every frame; it is kept at the nominal frame interval. */
    c->time_base = (AVRational){1, 1000000};
    c->framerate = (AVRational){e->fps_num, e->fps_den};
    int64_t dur = frame_duration_us(e->cur_fps_num, e->cur_fps_den);
    c->ticks_per_frame = dur < 1 ? 1 : dur > INT_MAX ? INT_MAX : (int)dur;
    c->thread_count = 1;
    c->gop_size = e->keyint;
    c->bit_rate = (int64_t)e->bitrate_kbps * 1000;
    c->rc_min_rate = c->bit_rate; /* min == max == target selects VPX_CBR in the wrapper */
    c->rc_max_rate = c->bit_rate;
    c->rc_buffer_size = (int)(c->bit_rate * VBV_BUFFER_MS / 1000);
    c->rc_initial_buffer_occupancy = c->rc_buffer_size * 3 / 4;
    c->qmin = 2; /* libwebrtc's VP8 range; FFmpeg's default qmax of 31 overshoots at low rates */
    c->qmax = 56;

    AVDictionary *opt = NULL;
    av_dict_set(&opt, "deadline", "realtime", 0);
    av_dict_set(&opt, "cpu-used", "8", 0);
    av_dict_set(&opt, "lag-in-frames", "0", 0);
    av_dict_set(&opt, "auto-alt-ref", "0", 0);
    av_dict_set(&opt, "error-resilient", "default", 0);
    av_dict_set(&opt, "max-intra-rate", "300", 0); /* key frame ≤ 3 average frames */
    av_dict_set(&opt, "undershoot-pct", "100", 0);
    av_dict_set(&opt, "overshoot-pct", "15", 0);
    av_dict_set(&opt, "noise-sensitivity", "0", 0);
    av_dict_set(&opt, "static-thresh", "1", 0);
    int ret = avcodec_open2(c, codec, &opt);
    int leftover = av_dict_count(opt);
    av_dict_free(&opt);
    if (ret < 0 || leftover) {
        avcodec_free_context(&c);
        return ret == AVERROR(EINVAL) || leftover ? -EINVAL : -EIO;
    }
    e->vpx = c;
    return 0;
}

static void release_tf_frame(void *opaque, uint8_t *data)
{
    (void)data;
    tf_frame_t *f = opaque;
    tf_frame_unref(&f);
}

static int vp8_encode(tf_venc_t *e, const tf_frame_t *frame, int force_key, tf_venc_packet_t *out)
{
    if (e->vpx_reopen || !e->vpx) {
        /* FFmpeg 5.1's libvpx wrapper reads bit_rate only in its init function (it never calls
         * vpx_codec_enc_config_set for it), so a new rate means a new encoder. Its first frame is
         * necessarily a key frame: VP8 rate changes cost one key frame. A failed reopen is
         * retried on the next call. */
        avcodec_free_context(&e->vpx);
        int ret = vp8_open(e);
        if (ret < 0)
            return ret;
        e->vpx_reopen = 0;
        e->have_last_ts = 0;
    }
    av_packet_unref(e->pkt); /* the previous call's output */

    AVFrame *f = e->frame;
    f->format = AV_PIX_FMT_YUV420P;
    f->width = frame->width;
    f->height = frame->height;
    for (int i = 0; i < 3; i++) {
        f->data[i] = frame->plane[i];
        f->linesize[i] = frame->stride[i];
    }
    /* Zero copy: the AVFrame holds a reference on the tf_frame for as long as libavcodec keeps
     * it. The reference count is the only field touched, hence the cast. */
    tf_frame_t *ref = tf_frame_ref((tf_frame_t *)frame);
    f->buf[0] =
        av_buffer_create(frame->plane[0], 1, release_tf_frame, ref, AV_BUFFER_FLAG_READONLY);
    if (!f->buf[0]) {
        tf_frame_unref(&ref);
        return -ENOMEM;
    }
    int64_t ts = frame->pts_us;
    if (e->have_last_ts && ts <= e->last_ts)
        ts = e->last_ts + 1; /* libvpx needs increasing timestamps; out->pts_us stays exact */
    e->last_ts = ts;
    e->have_last_ts = 1;
    f->pts = ts;
    f->pict_type = force_key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;

    int ret = avcodec_send_frame(e->vpx, f);
    av_frame_unref(f);
    if (ret < 0)
        return ret == AVERROR(ENOMEM) ? -ENOMEM : -EIO;
    ret = avcodec_receive_packet(e->vpx, e->pkt);
    if (ret == AVERROR(EAGAIN))
        return 0; /* lag 0 and no frame dropping: does not happen, but is not an error */
    if (ret < 0)
        return -EIO;
    out->data = e->pkt->data;
    out->size = (size_t)e->pkt->size;
    out->nal[0].offset = 0;
    out->nal[0].size = (uint32_t)e->pkt->size;
    out->n_nal = 1;
    out->keyframe = !!(e->pkt->flags & AV_PKT_FLAG_KEY);
    out->pts_us = frame->pts_us; /* lag 0: the packet belongs to this frame */
    return 0;
}

/* ---- public ------------------------------------------------------------------------------- */

static int config_valid(const tf_venc_config_t *cfg)
{
    if (cfg->codec != TF_VCODEC_H264 && cfg->codec != TF_VCODEC_VP8)
        return 0;
    if (cfg->width < 16 || cfg->width > 4096 || cfg->height < 16 || cfg->height > 4096 ||
        (cfg->width & 1) || (cfg->height & 1))
        return 0;
    if (!(cfg->fps_num == 0 && cfg->fps_den == 0) &&
        (cfg->fps_num <= 0 || cfg->fps_den <= 0 || cfg->fps_num / cfg->fps_den > 240))
        return 0;
    if (cfg->bitrate_kbps < 8 || cfg->bitrate_kbps > 100000)
        return 0;
    if (cfg->keyint_max < 0 || cfg->max_slice_bytes < 0 ||
        (cfg->max_slice_bytes > 0 && cfg->max_slice_bytes < 200))
        return 0;
    if (cfg->preset && strlen(cfg->preset) >= sizeof(((tf_venc_t *)0)->preset))
        return 0;
    return 1;
}

int tf_venc_create(tf_venc_t **out, const tf_venc_config_t *cfg)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg || !config_valid(cfg))
        return -EINVAL;
    tf_venc_t *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->codec = cfg->codec;
    e->width = cfg->width;
    e->height = cfg->height;
    e->fps_num = cfg->fps_num ? cfg->fps_num : 15;
    e->fps_den = cfg->fps_den ? cfg->fps_den : 1;
    e->cur_fps_num = e->fps_num;
    e->cur_fps_den = e->fps_den;
    e->bitrate_kbps = cfg->bitrate_kbps;
    e->intra_refresh = cfg->codec == TF_VCODEC_H264 && cfg->intra_refresh;
    e->max_slice_bytes = cfg->max_slice_bytes;
    e->keyint = cfg->keyint_max ? cfg->keyint_max : default_keyint(e);
    strcpy(e->preset, cfg->preset ? cfg->preset : "veryfast");

    int ret;
    if (e->codec == TF_VCODEC_H264) {
        ret = h264_open(e);
    } else {
        e->pkt = av_packet_alloc();
        e->frame = av_frame_alloc();
        ret = e->pkt && e->frame ? vp8_open(e) : -ENOMEM;
    }
    if (ret < 0)
        goto err;
    *out = e;
    return 0;
err:
    tf_venc_destroy(&e);
    return ret;
}

void tf_venc_destroy(tf_venc_t **enc)
{
    if (!enc || !*enc)
        return;
    tf_venc_t *e = *enc;
    *enc = NULL;
    if (e->x264)
        x264_encoder_close(e->x264);
    free(e->headers);
    avcodec_free_context(&e->vpx);
    av_packet_free(&e->pkt);
    av_frame_free(&e->frame);
    free(e);
}

int tf_venc_encode(tf_venc_t *enc, const tf_frame_t *frame, int force_key, tf_venc_packet_t *out)
{
    if (!enc || !frame || !out)
        return -EINVAL;
    out->data = NULL;
    out->size = 0;
    out->n_nal = 0;
    out->keyframe = 0;
    out->pts_us = frame->pts_us;
    if (frame->width != enc->width || frame->height != enc->height)
        return -EINVAL;
    if (enc->codec == TF_VCODEC_H264)
        return h264_encode(enc, frame, force_key, out);
    return vp8_encode(enc, frame, force_key, out);
}

int tf_venc_set_quant_offsets(tf_venc_t *enc, const float *offsets, int n)
{
    if (!enc)
        return -EINVAL;
    if (enc->codec != TF_VCODEC_H264)
        return -ENOTSUP;
    int mbs = ((enc->width + 15) / 16) * ((enc->height + 15) / 16);
    if (offsets && n != mbs)
        return -EINVAL;
    enc->quant_offsets = (float *)offsets; /* x264 reads, never writes or frees, them */
    return 0;
}

int tf_venc_set_bitrate(tf_venc_t *enc, int bitrate_kbps)
{
    if (!enc || bitrate_kbps < 8 || bitrate_kbps > 100000)
        return -EINVAL;
    if (bitrate_kbps == enc->bitrate_kbps)
        return 0;
    int old = enc->bitrate_kbps;
    enc->bitrate_kbps = bitrate_kbps;
    if (enc->codec == TF_VCODEC_VP8) {
        enc->vpx_reopen = 1; /* applied lazily so that several changes cost one key frame */
        return 0;
    }
    int ret = h264_reconfig(enc);
    if (ret < 0)
        enc->bitrate_kbps = old;
    return ret;
}

int tf_venc_set_fps(tf_venc_t *enc, int fps_num, int fps_den)
{
    if (!enc || fps_num <= 0 || fps_den <= 0 || fps_num / fps_den > 240)
        return -EINVAL;
    int old_num = enc->cur_fps_num, old_den = enc->cur_fps_den;
    enc->cur_fps_num = fps_num;
    enc->cur_fps_den = fps_den;
    if (enc->codec == TF_VCODEC_VP8) {
        /* libvpx follows the timestamps; only the nominal duration of a frame changes. */
        int64_t dur = frame_duration_us(fps_num, fps_den);
        if (enc->vpx)
            enc->vpx->ticks_per_frame = dur < 1 ? 1 : dur > INT_MAX ? INT_MAX : (int)dur;
        return 0;
    }
    int ret = h264_reconfig(enc);
    if (ret < 0) {
        enc->cur_fps_num = old_num;
        enc->cur_fps_den = old_den;
    }
    return ret;
}

const uint8_t *tf_venc_headers(tf_venc_t *enc, size_t *size)
{
    if (!enc || enc->codec != TF_VCODEC_H264 || !enc->headers) {
        if (size)
            *size = 0;
        return NULL;
    }
    if (size)
        *size = enc->headers_size;
    return enc->headers;
}
