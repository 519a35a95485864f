/* compositor.h — draws one canvas from the newest frame of each participant.
 *
 * Geometry comes from layout.h and is recomputed only when the layout or the set of sources
 * changes; scalers are cached per tile. Choosing which frame of a source to show (the newest at
 * the output tick) is the caller's job; drawing is this module's. No clock, no threads. */
#ifndef TF_COMPOSITOR_H
#define TF_COMPOSITOR_H

#include "codec/frame.h"
#include "mixer/layout.h"

typedef struct tf_compositor tf_compositor_t;

/* The default background: a dark slate (BT.601 limited range). */
#define TF_COMPOSITOR_BG_Y 32
#define TF_COMPOSITOR_BG_U 136
#define TF_COMPOSITOR_BG_V 124

/* Canvas size must be even, TF_LAYOUT_MIN_CANVAS..TF_LAYOUT_MAX_CANVAS per side. cpu_mask as
 * for tf_scaler_create. Starts with no tiles (grid, n = 0). 0, -EINVAL or -ENOMEM. */
int tf_compositor_create(tf_compositor_t **out, int canvas_w, int canvas_h, unsigned cpu_mask);
/* Drops every frame reference the compositor holds. */
void tf_compositor_destroy(tf_compositor_t **c);

/* Sets the layout and the number of tiles (sources are tiles 0..n-1; n may be 0: background
 * only). Geometry is computed here, once; setting the same kind and n again changes nothing.
 * 0 or -EINVAL. */
int tf_compositor_set_layout(tf_compositor_t *c, tf_layout_kind_t kind, int n);

/* Gives tile i (0..TF_LAYOUT_MAX_TILES-1, also beyond the current n) its newest frame (a
 * reference is taken; the previous one is dropped), or NULL for "no video" (the tile shows a
 * calm placeholder with the name's initials). Any size of frame; it is cropped to fill the tile.
 * name may be NULL; it is copied (cut to 63 bytes). Passing the frame the tile already has is
 * cheap and marks nothing for redraw. 0 or -EINVAL (bad index, or a frame without planes or
 * of a size outside 1..16384). */
int tf_compositor_set_source(tf_compositor_t *c, int i, tf_frame_t *frame, const char *name);

/* Draws every tile into canvas (canvas_w x canvas_h I420; the caller owns it). The first render
 * into a canvas, and every render after a layout or background change, fills the background and
 * draws all tiles. Otherwise tiles whose frame (and, for placeholders, name) did not change since
 * the last render into the same canvas are not redrawn. Canvases are told apart by address: up
 * to 4 canvases used in turn (a pool, double buffering) each keep their own record. A caller
 * that draws on a canvas itself, or frees one and may get a new one at the same address, calls
 * tf_compositor_invalidate() first. 0, -EINVAL (wrong size) or -ENOMEM (a scaler could not be
 * built; the next render redraws everything). */
int tf_compositor_render(tf_compositor_t *c, tf_frame_t *canvas);

/* Forgets what was drawn into which canvas: the next render draws everything. */
void tf_compositor_invalidate(tf_compositor_t *c);

/* The background colour (Y, U, V); a change redraws everything at the next render. 0 or
 * -EINVAL. */
int tf_compositor_set_background(tf_compositor_t *c, uint8_t y, uint8_t u, uint8_t v);

/* The current geometry (for layout metadata sent to clients). */
const tf_layout_t *tf_compositor_layout(const tf_compositor_t *c);

/* Counters since creation, for metrics and tests. */
typedef struct tf_compositor_stats {
    uint64_t renders;
    uint64_t background_fills; /* full redraws */
    uint64_t tiles_drawn;      /* scaled or placeholder */
    uint64_t tiles_skipped;    /* unchanged since the last render into that canvas */
    uint64_t scaler_builds;    /* a tile's source size or geometry changed */
} tf_compositor_stats_t;
void tf_compositor_get_stats(const tf_compositor_t *c, tf_compositor_stats_t *out);

#endif
