/* video_dec.c — tf_vdec_*: H.264 (Annex-B access units) and VP8 frames decoded by libavcodec.
 *
 * No depacketisation, no jitter buffer, no frame-rate or size conversion: one access unit in,
 * at most one I420 frame out. No threads (thread_count = 1). */
#include "codec/video.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>

/* Largest picture accepted from a stream (DCI 4K); bigger SPS are refused before allocation. */
#define MAX_PIXELS ((int64_t)4096 * 2304)

struct tf_vdec {
    tf_vcodec_t codec;
    AVCodecContext *ctx;
    AVPacket *pkt;
    AVFrame *frame;
    AVBufferPool *pool; /* picture buffers laid out as frame.h promises, see get_buffer */
    size_t pool_size;
    struct SwsContext *sws; /* only for pixel formats other than 8-bit 4:2:0 */
    int waiting_key;
    tf_vdec_stats_t stats;
};

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

static int is_420(int format)
{
    return format == AV_PIX_FMT_YUV420P || format == AV_PIX_FMT_YUVJ420P;
}

/* Picture buffers for 8-bit 4:2:0: one pool buffer per picture holding Y, U and V, each plane
 * 64-byte aligned, each row followed by at least TF_FRAME_PAD bytes and each plane by one spare
 * row. That is exactly frame.h's promise, so decoded pictures are handed out without a copy.
 * Other formats fall back to libavcodec's allocator and are converted later. */
static int get_buffer(AVCodecContext *ctx, AVFrame *f, int flags)
{
    tf_vdec_t *d = ctx->opaque;
    if (!is_420(f->format) || !(ctx->codec->capabilities & AV_CODEC_CAP_DR1))
        return avcodec_default_get_buffer2(ctx, f, flags);
    int w = f->width, h = f->height;
    int linesize_align[AV_NUM_DATA_POINTERS];
    avcodec_align_dimensions2(ctx, &w, &h, linesize_align);
    for (int i = 0; i < 3; i++)
        if (linesize_align[i] <= 0 || TF_FRAME_ALIGN % linesize_align[i] != 0)
            return avcodec_default_get_buffer2(ctx, f, flags);
    size_t ys = align_up((size_t)w + TF_FRAME_PAD, TF_FRAME_ALIGN);
    size_t cw = ((size_t)w + 1) / 2, ch = ((size_t)h + 1) / 2;
    size_t cs = align_up(cw + TF_FRAME_PAD, TF_FRAME_ALIGN);
    size_t ysize = ys * ((size_t)h + 1), csize = cs * (ch + 1);
    /* Room to align the start, plus the 16 + STRIDE_ALIGN bytes libavcodec's own pools add. */
    size_t total = ysize + 2 * csize + 2 * TF_FRAME_ALIGN + 16;
    if (ys > INT_MAX || total > (size_t)INT_MAX)
        return AVERROR(EINVAL);
    if (!d->pool || d->pool_size != total) {
        av_buffer_pool_uninit(&d->pool); /* outstanding pictures keep the old pool alive */
        d->pool = av_buffer_pool_init(total, NULL);
        if (!d->pool)
            return AVERROR(ENOMEM);
        d->pool_size = total;
    }
    AVBufferRef *buf = av_buffer_pool_get(d->pool);
    if (!buf)
        return AVERROR(ENOMEM);
    uint8_t *base = (uint8_t *)align_up((size_t)(uintptr_t)buf->data, TF_FRAME_ALIGN);
    f->buf[0] = buf;
    f->data[0] = base;
    f->data[1] = base + ysize;
    f->data[2] = base + ysize + csize;
    f->linesize[0] = (int)ys;
    f->linesize[1] = (int)cs;
    f->linesize[2] = (int)cs;
    f->extended_data = f->data;
    return 0;
}

/* 1 when the picture sits in one of our pool buffers with the frame.h layout intact (cropping
 * from the left could break the alignment; then the picture is copied). */
static int layout_ok(const tf_vdec_t *d, const AVFrame *f)
{
    if (!f->buf[0] || f->buf[1] || (size_t)f->buf[0]->size != d->pool_size)
        return 0;
    int cw = (f->width + 1) / 2;
    for (int i = 0; i < 3; i++) {
        int w = i ? cw : f->width;
        if ((uintptr_t)f->data[i] % TF_FRAME_ALIGN || f->linesize[i] % TF_FRAME_ALIGN ||
            f->linesize[i] < w + TF_FRAME_PAD)
            return 0;
    }
    return 1;
}

static void release_avframe(void *opaque)
{
    AVFrame *f = opaque;
    av_frame_free(&f);
}

/* Turns the decoded picture in d->frame into a tf_frame_t, leaving d->frame empty. */
static int to_tf_frame(tf_vdec_t *d, tf_frame_t **out)
{
    AVFrame *f = d->frame;
    *out = NULL;
    if (is_420(f->format) && layout_ok(d, f)) {
        /* yuvj420p is full range; tf_frame_t has no range field, so it is passed on as is. */
        AVFrame *keep = av_frame_alloc();
        if (!keep)
            return -ENOMEM;
        av_frame_move_ref(keep, f);
        int stride[3] = {keep->linesize[0], keep->linesize[1], keep->linesize[2]};
        *out = tf_frame_wrap(keep->width, keep->height, keep->data, stride, release_avframe, keep);
        if (!*out) {
            av_frame_free(&keep);
            return -ENOMEM;
        }
        (*out)->pts_us = keep->pts;
        return 0;
    }
    tf_frame_t *t = tf_frame_alloc(f->width, f->height);
    if (!t)
        return -ENOMEM;
    if (is_420(f->format)) {
        for (int i = 0; i < 3; i++)
            av_image_copy_plane(t->plane[i], t->stride[i], f->data[i], f->linesize[i],
                                i ? tf_frame_chroma_w(t) : t->width,
                                i ? tf_frame_chroma_h(t) : t->height);
    } else {
        /* Any other layout (4:2:2, 4:4:4, high bit depth) is converted, which costs a copy. */
        d->sws = sws_getCachedContext(d->sws, f->width, f->height, f->format, t->width, t->height,
                                      AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
        if (!d->sws || sws_scale(d->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
                                 t->plane, t->stride) < 0) {
            tf_frame_unref(&t);
            return -EIO;
        }
    }
    t->pts_us = f->pts;
    av_frame_unref(f);
    *out = t;
    return 0;
}

/* 1 when the access unit holds an IDR slice (H.264) or is a key frame (VP8). */
static int unit_is_key(tf_vcodec_t codec, const uint8_t *p, size_t n)
{
    if (codec == TF_VCODEC_VP8)
        return n >= 10 && !(p[0] & 1) && p[3] == 0x9d && p[4] == 0x01 && p[5] == 0x2a;
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == 5)
            return 1;
    return 0;
}

/* 1 when the access unit holds picture data (a non-IDR or IDR slice / any VP8 frame). While
 * waiting for a key frame, parameter sets and SEI still go through to the decoder. */
static int unit_has_picture(tf_vcodec_t codec, const uint8_t *p, size_t n)
{
    if (codec == TF_VCODEC_VP8)
        return 1;
    for (size_t i = 0; i + 3 < n; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            int type = p[i + 3] & 0x1f;
            if (type >= 1 && type <= 5)
                return 1;
        }
    }
    return 0;
}

int tf_vdec_create(tf_vdec_t **out, tf_vcodec_t codec)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (codec != TF_VCODEC_H264 && codec != TF_VCODEC_VP8)
        return -EINVAL;
    const AVCodec *c =
        avcodec_find_decoder(codec == TF_VCODEC_H264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_VP8);
    if (!c)
        return -EIO;
    int ret = -ENOMEM;
    tf_vdec_t *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->codec = codec;
    d->waiting_key = 1; /* a stream is joined at a key frame */
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    d->ctx = avcodec_alloc_context3(c);
    if (!d->pkt || !d->frame || !d->ctx)
        goto err;
    AVCodecContext *ctx = d->ctx;
    ctx->opaque = d;
    ctx->get_buffer2 = get_buffer;
    ctx->thread_count = 1;
    ctx->flags |= AV_CODEC_FLAG_LOW_DELAY;
    /* Make libavcodec report damage instead of quietly concealing it: EXPLODE turns slice
     * errors into send_packet() failures; concealed pictures carry decode_error_flags. */
    ctx->err_recognition = AV_EF_EXPLODE | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_CRCCHECK;
    ctx->max_pixels = MAX_PIXELS;
    ctx->pkt_timebase = (AVRational){1, 1000000};
    /* Damaged input is expected on lossy links; it is counted in the stats rather than logged
     * (av_log_set_level(AV_LOG_VERBOSE) shows the decoder's own messages again). */
    ctx->log_level_offset = AV_LOG_VERBOSE - AV_LOG_ERROR;
    if (avcodec_open2(ctx, c, NULL) < 0) {
        ret = -EIO;
        goto err;
    }
    *out = d;
    return 0;
err:
    tf_vdec_destroy(&d);
    return ret;
}

void tf_vdec_destroy(tf_vdec_t **dec)
{
    if (!dec || !*dec)
        return;
    tf_vdec_t *d = *dec;
    *dec = NULL;
    avcodec_free_context(&d->ctx);
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
    av_buffer_pool_uninit(&d->pool);
    sws_freeContext(d->sws);
    free(d);
}

/* Bad input: count it, drop the decoder's state and wait for the next key frame. Running out
 * of memory resets the same way but is not the stream's fault, so it is not counted. */
static int fail(tf_vdec_t *d, int err)
{
    if (err != -ENOMEM)
        d->stats.errors++;
    d->waiting_key = 1;
    av_frame_unref(d->frame);
    avcodec_flush_buffers(d->ctx);
    return err;
}

int tf_vdec_decode(tf_vdec_t *dec, const uint8_t *data, size_t size, int64_t pts_us,
                   tf_frame_t **frame)
{
    if (frame)
        *frame = NULL;
    if (!dec || !data || !frame || size == 0 || size > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return -EINVAL;
    int key = unit_is_key(dec->codec, data, size);
    if (dec->waiting_key && !key && unit_has_picture(dec->codec, data, size)) {
        dec->stats.skipped_until_key++;
        return -EAGAIN;
    }

    /* The copy gives libavcodec its zeroed input padding; the caller's buffer may be a view
     * into a packet that is too short for that. */
    if (av_new_packet(dec->pkt, (int)size) < 0)
        return -ENOMEM;
    memcpy(dec->pkt->data, data, size);
    dec->pkt->pts = pts_us;
    dec->pkt->dts = pts_us;
    if (key)
        dec->pkt->flags |= AV_PKT_FLAG_KEY;
    int ret = avcodec_send_packet(dec->ctx, dec->pkt);
    av_packet_unref(dec->pkt);
    if (ret < 0)
        return fail(dec, ret == AVERROR(ENOMEM) ? -ENOMEM : -EINVAL);

    tf_frame_t *out = NULL;
    for (;;) {
        ret = avcodec_receive_frame(dec->ctx, dec->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            tf_frame_unref(&out);
            return fail(dec, ret == AVERROR(ENOMEM) ? -ENOMEM : -EINVAL);
        }
        if (dec->frame->decode_error_flags || (dec->frame->flags & AV_FRAME_FLAG_CORRUPT)) {
            /* The decoder concealed missing or broken macroblocks: the picture is not what the
             * sender encoded, and every picture predicted from it would inherit the damage. */
            tf_frame_unref(&out);
            return fail(dec, -EPROTO);
        }
        tf_frame_unref(&out); /* low delay: one picture per unit; keep the newest if not */
        ret = to_tf_frame(dec, &out);
        if (ret < 0) /* -ENOMEM, or -EIO: swscale cannot convert this picture format */
            return fail(dec, ret == -ENOMEM ? -ENOMEM : -EPROTO);
    }
    if (!out)
        return 0;
    dec->stats.frames++;
    dec->waiting_key = 0;
    if (out->pts_us == AV_NOPTS_VALUE)
        out->pts_us = pts_us;
    *frame = out;
    return 0;
}

void tf_vdec_get_stats(const tf_vdec_t *dec, tf_vdec_stats_t *out)
{
    if (!out)
        return;
    if (!dec) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = dec->stats;
}
