/* layout.h — tile geometry of a room's canvas: grid, speaker and presentation layouts.
 *
 * Pure geometry, computed once per layout change (as FFmpeg's xstack does); per-frame work is
 * copies into these rectangles. No frames, no clock here. */
#ifndef TF_LAYOUT_H
#define TF_LAYOUT_H

#define TF_LAYOUT_MAX_TILES 49
#define TF_LAYOUT_STRIP_MAX 6   /* speaker/presentation: strip tiles shown next to tile 0 */
#define TF_LAYOUT_MIN_CANVAS 64 /* canvas sides, pixels, even */
#define TF_LAYOUT_MAX_CANVAS 16384

typedef struct tf_rect {
    int x, y, w, h;
} tf_rect_t;

typedef enum {
    TF_LAYOUT_GRID = 0,         /* 1..49 equal 16:9 tiles, last row centred */
    TF_LAYOUT_SPEAKER = 1,      /* tile 0 large (the active speaker), the others in a strip */
    TF_LAYOUT_PRESENTATION = 2, /* tile 0 is the shared screen, large; speakers in a strip */
} tf_layout_kind_t;

/* Rules. Every tile is 16:9 (|9w - 16h| <= 16, i.e. within even rounding). Tiles are separated
 * by a gutter of 2 px per 240 px of the canvas's shorter side (none below 240).
 * Grid: the cols x rows arrangement with the largest tile wins; the tiles are centred, the last
 * (partial) row on its own. Speaker and presentation: n == 1 is one centred tile; otherwise
 * tile 0 is large and tiles 1..TF_LAYOUT_STRIP_MAX sit in a block of 6 slots (6x1, 3x2 or 2x3
 * below tile 0; 1x6, 2x3 or 3x2 to its right), the shape depending on the canvas only, so tile
 * 0 keeps its size as n changes. Speaker prefers the strip below, presentation beside; the other
 * side is taken only when it gives tile 0 more than 10 % more area (on 16:9 canvases: speaker
 * 6x1 below, presentation 1x6 at the right; 4:3 and portrait canvases put both below, portrait
 * as 2x3). Tiles with index > TF_LAYOUT_STRIP_MAX get w == h == 0: not shown. Tile 0 is always
 * larger than any strip tile. */

typedef struct tf_layout {
    tf_layout_kind_t kind;
    int canvas_w, canvas_h;
    int n;                               /* tiles asked for */
    tf_rect_t tile[TF_LAYOUT_MAX_TILES]; /* w == h == 0: not shown (strip full) */
} tf_layout_t;

/* Computes the layout for n tiles (1..49) on an even-sized canvas of TF_LAYOUT_MIN_CANVAS..
 * TF_LAYOUT_MAX_CANVAS per side. Every shown rectangle has even x, y, w and h (w, h >= 2), lies
 * inside the canvas and overlaps no other. 0 or -EINVAL; *out is untouched on error. */
int tf_layout_compute(tf_layout_t *out, tf_layout_kind_t kind, int canvas_w, int canvas_h, int n);

/* "grid", "speaker", "presentation" <-> kind ("unknown" for other values); parse returns 0 or
 * -EINVAL. */
const char *tf_layout_kind_name(tf_layout_kind_t kind);
int tf_layout_kind_parse(const char *name, tf_layout_kind_t *out);

#endif
