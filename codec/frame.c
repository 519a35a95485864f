/* frame.c — reference-counted I420 frames: allocation, wrapping, fill. No codec code here. */
#include "codec/frame.h"

#include <stdlib.h>
#include <string.h>

static int align_up(int v, int a) { return (v + a - 1) / a * a; }

static void free_owned(void *opaque) { free(opaque); }

tf_frame_t *tf_frame_alloc(int width, int height)
{
    if (width < 1 || height < 1 || width > 16384 || height > 16384)
        return NULL;
    int cw = (width + 1) / 2, ch = (height + 1) / 2;
    int ys = align_up(width + TF_FRAME_PAD, TF_FRAME_ALIGN);
    int cs = align_up(cw + TF_FRAME_PAD, TF_FRAME_ALIGN);
    size_t head = (size_t)align_up((int)sizeof(tf_frame_t), TF_FRAME_ALIGN);
    /* One extra row per plane so a kernel reading one vector past the last row stays inside. */
    size_t ysize = (size_t)ys * (size_t)(height + 1), csize = (size_t)cs * (size_t)(ch + 1);
    size_t total = head + ysize + 2 * csize;
    void *mem = NULL;
    if (posix_memalign(&mem, TF_FRAME_ALIGN, total) != 0)
        return NULL;
    memset(mem, 0, head);
    tf_frame_t *f = mem;
    uint8_t *base = (uint8_t *)mem + head;
    f->width = width;
    f->height = height;
    f->plane[0] = base;
    f->plane[1] = base + ysize;
    f->plane[2] = base + ysize + csize;
    f->stride[0] = ys;
    f->stride[1] = cs;
    f->stride[2] = cs;
    atomic_init(&f->refs, 1);
    f->release = free_owned;
    f->opaque = mem;
    return f;
}

tf_frame_t *tf_frame_wrap(int width, int height, uint8_t *const plane[3], const int stride[3],
                          void (*release)(void *opaque), void *opaque)
{
    tf_frame_t *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->width = width;
    f->height = height;
    for (int i = 0; i < 3; i++) {
        f->plane[i] = plane[i];
        f->stride[i] = stride[i];
    }
    atomic_init(&f->refs, 1);
    f->release = release;
    f->opaque = opaque;
    return f;
}

tf_frame_t *tf_frame_ref(tf_frame_t *f)
{
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    return f;
}

void tf_frame_unref(tf_frame_t **fp)
{
    if (!fp || !*fp)
        return;
    tf_frame_t *f = *fp;
    *fp = NULL;
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    void (*release)(void *) = f->release;
    void *opaque = f->opaque;
    if (opaque != (void *)f)
        free(f); /* a wrapped frame's header is separate from its planes */
    if (release)
        release(opaque);
}

void tf_frame_fill(tf_frame_t *f, uint8_t y, uint8_t u, uint8_t v)
{
    const uint8_t val[3] = {y, u, v};
    for (int p = 0; p < 3; p++) {
        int w = p ? tf_frame_chroma_w(f) : f->width;
        int h = p ? tf_frame_chroma_h(f) : f->height;
        for (int r = 0; r < h; r++)
            memset(f->plane[p] + (size_t)r * f->stride[p], val[p], (size_t)w);
    }
}
