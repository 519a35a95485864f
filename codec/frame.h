/* frame.h — reference-counted planar I420 video frames shared by codec/ and mixer/.
 *
 * No FFmpeg types leak through this header: decoders wrap their own buffers with
 * tf_frame_wrap(), everything else allocates with tf_frame_alloc(). A frame is immutable once it
 * has been handed to another owner; it crosses threads only by handing over a reference. */
#ifndef TF_FRAME_H
#define TF_FRAME_H

#include <stdatomic.h>
#include <stdint.h>

/* Planes are 64-byte aligned and every row has at least TF_FRAME_PAD bytes of slack after its
 * last pixel, so SIMD kernels may read (not write) one vector past the end of a row. */
#define TF_FRAME_ALIGN 64
#define TF_FRAME_PAD 64

typedef struct tf_frame {
    int width, height;   /* luma size; chroma is (width+1)/2 x (height+1)/2 */
    uint8_t *plane[3];   /* Y, U, V */
    int stride[3];       /* bytes per row */
    int64_t pts_us;      /* presentation time in microseconds */
    /* private */
    atomic_int refs;
    void (*release)(void *opaque);
    void *opaque;
} tf_frame_t;

/* A new frame with one reference, or NULL when out of memory or the size is not 1..16384. */
tf_frame_t *tf_frame_alloc(int width, int height);

/* A frame over foreign planes; release(opaque) runs when the last reference goes. */
tf_frame_t *tf_frame_wrap(int width, int height, uint8_t *const plane[3], const int stride[3],
                          void (*release)(void *opaque), void *opaque);

/* Adds a reference and returns the same frame. */
tf_frame_t *tf_frame_ref(tf_frame_t *f);

/* Drops the caller's reference and sets *f to NULL; NULL and *f == NULL are fine. */
void tf_frame_unref(tf_frame_t **f);

/* Fills the whole frame with one colour given as Y, U, V. */
void tf_frame_fill(tf_frame_t *f, uint8_t y, uint8_t u, uint8_t v);

static inline int tf_frame_chroma_w(const tf_frame_t *f) { return (f->width + 1) / 2; }
static inline int tf_frame_chroma_h(const tf_frame_t *f) { return (f->height + 1) / 2; }

#endif
