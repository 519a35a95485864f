/* vdec_fuzzer.c — libFuzzer target for tf_vdec_decode(): H.264 or VP8 access units from bytes.
 *
 * Input: byte 0 picks the codec (even: H.264, odd: VP8); the rest is split into access units
 * at the 4-byte marker "TFAU" (at most MAX_UNITS of them), decoded in order with pts 1000 * i.
 * Besides "no crash, no leak" it checks the contract: return codes, a frame only on success,
 * pts taken from a unit already fed, frame.h's layout (alignment, row slack, spare row — read
 * under ASan), statistics that add up, and frames that outlive their decoder. Deterministic:
 * one thread.
 *
 * The seeds in corpus/vdec/ were made once with tf_venc (96x64 moving boxes): H.264 IDR + P,
 * multi-slice and intra-refresh streams, VP8 key + inter frames, and truncated variants.
 * regress_* files are inputs that once failed a check; they stay as regression tests. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/video.h"

#define MARKER "TFAU"
#define MARKER_LEN 4
#define MAX_UNITS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken contract aborts with the expression, so a reproducer says what it broke. */
#define check(cond) check_at((cond), #cond, __LINE__)
static void check_at(int ok, const char *what, int line)
{
    if (!ok) {
        fprintf(stderr, "vdec_fuzzer.c:%d: check failed: %s\n", line, what);
        abort();
    }
}

/* Reads every byte frame.h promises: each row plus TF_FRAME_PAD, and one spare row. */
static unsigned touch_frame(const tf_frame_t *f)
{
    unsigned sum = 0;
    for (int p = 0; p < 3; p++) {
        int w = p ? tf_frame_chroma_w(f) : f->width;
        int h = p ? tf_frame_chroma_h(f) : f->height;
        check(f->plane[p] != NULL);
        check((uintptr_t)f->plane[p] % TF_FRAME_ALIGN == 0);
        check(f->stride[p] >= w + TF_FRAME_PAD);
        for (int y = 0; y <= h; y++) {
            const volatile uint8_t *row = f->plane[p] + (size_t)y * (size_t)f->stride[p];
            for (int x = 0; x < w + TF_FRAME_PAD; x++)
                sum += row[x];
        }
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    tf_vcodec_t codec = (data[0] & 1) ? TF_VCODEC_VP8 : TF_VCODEC_H264;
    tf_vdec_t *dec = NULL;
    check(tf_vdec_create(&dec, codec) == 0);

    const uint8_t *p = data + 1, *end = data + size;
    uint64_t units = 0, frames = 0, errors = 0, skipped = 0;
    tf_frame_t *held = NULL;
    volatile unsigned sink = 0;
    while (p < end && units < MAX_UNITS) {
        const uint8_t *m = memmem(p, (size_t)(end - p), MARKER, MARKER_LEN);
        const uint8_t *unit_end = m ? m : end;
        size_t n = (size_t)(unit_end - p);
        int64_t pts = 1000 * (int64_t)units;
        tf_frame_t *f = (tf_frame_t *)1; /* must be overwritten */
        int ret = tf_vdec_decode(dec, p, n, pts, &f);
        if (n == 0) {
            check(ret == -EINVAL && f == NULL);
        } else {
            check(ret == 0 || ret == -EINVAL || ret == -EPROTO || ret == -EAGAIN || ret == -ENOMEM);
            check(ret == 0 || f == NULL);
            errors += ret == -EINVAL || ret == -EPROTO;
            skipped += ret == -EAGAIN;
        }
        if (f) {
            frames++;
            /* A picture carries the pts of the unit it came from, which is this one for
             * low-delay streams but may be an earlier one (field pairs, reordering). */
            check(f->pts_us >= 0 && f->pts_us <= pts && f->pts_us % 1000 == 0);
            check(f->width >= 1 && f->height >= 1 && f->width <= 16384 && f->height <= 16384);
            sink += touch_frame(f);
            tf_frame_unref(&held);
            held = f;
        }
        units++;
        p = m ? m + MARKER_LEN : end;
    }

    tf_vdec_stats_t st;
    tf_vdec_get_stats(dec, &st);
    check(st.frames == frames);
    check(st.errors == errors);
    check(st.skipped_until_key == skipped);
    tf_vdec_destroy(&dec);
    check(dec == NULL);
    if (held) /* the last picture is still readable after its decoder is gone */
        sink += touch_frame(held);
    tf_frame_unref(&held);
    (void)sink;
    return 0;
}
