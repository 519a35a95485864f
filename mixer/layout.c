/* layout.c — grid/speaker/presentation tile rectangles; pure arithmetic: no pixels, no state. */
#include "mixer/layout.h"

#include <errno.h>
#include <string.h>

/* Places a strip of small tiles below (bottom) or beside (side) the large tile 0, in a block of
 * cols x rows slots. The block shape is chosen per canvas, not per n, so tile 0 keeps its size
 * while people join and leave. */
typedef struct strip_shape {
    int bottom; /* 1: block below tile 0, 0: block to its right */
    int cols, rows;
} strip_shape_t;

/* Every shape has TF_LAYOUT_STRIP_MAX slots. */
static const strip_shape_t strip_shapes[] = {
    {1, 6, 1}, {1, 3, 2}, {1, 2, 3}, {0, 1, 6}, {0, 2, 3}, {0, 3, 2},
};

/* A placement is only abandoned for the other one when that gives tile 0 this much more area
 * (in per cent), so speaker view keeps its strip along the bottom and presentation view keeps
 * its strip at the side on ordinary landscape canvases. */
#define PREFERENCE_PERCENT 110

typedef struct strip_plan {
    strip_shape_t shape;
    int main_w, main_h; /* tile 0 */
    int tile_w, tile_h; /* every strip tile */
    int block_w, block_h;
} strip_plan_t;

static int even_floor(int v)
{
    return v & ~1;
}

static int min_int(int a, int b)
{
    return a < b ? a : b;
}

/* num / den rounded to the nearest even integer (num, den > 0). */
static int round_even(long num, long den)
{
    return (int)(2 * ((num + den) / (2 * den)));
}

/* The largest even 16:9 size (within one pixel of rounding) inside max_w x max_h; 0 x 0 when
 * not even a 2 x 2 tile fits. Two candidates: height-led (width rounded from the height) and
 * width-led (height rounded from the width); the larger wins. */
static void fit_16x9(int max_w, int max_h, int *out_w, int *out_h)
{
    int best_w = 0, best_h = 0;
    if (max_w >= 2 && max_h >= 2) {
        int h = even_floor(min_int(max_h, max_w * 9 / 16 + 2));
        for (; h >= 2; h -= 2) {
            int w = round_even(16L * h, 9);
            if (w <= max_w) {
                best_w = w;
                best_h = h;
                break;
            }
        }
        int w = even_floor(max_w);
        int hw = round_even(9L * w, 16);
        if (hw >= 2 && hw <= max_h && (long)w * hw > (long)best_w * best_h) {
            best_w = w;
            best_h = hw;
        }
    }
    *out_w = best_w;
    *out_h = best_h;
}

/* Space between tiles: none on small canvases, where every pixel counts, 2 px per 240 px of
 * the shorter side otherwise (6 px at 1280x720). */
static int gutter(int canvas_w, int canvas_h)
{
    return 2 * (min_int(canvas_w, canvas_h) / 240);
}

static void set_rect(tf_rect_t *r, int x, int y, int w, int h)
{
    r->x = x;
    r->y = y;
    r->w = w;
    r->h = h;
}

/* Grid: every (cols, rows = ceil(n / cols)) is tried and the one giving the largest 16:9 tile
 * wins; on a tie the one with fewer empty cells, then the one matching the canvas orientation.
 * Full rows are centred as a block, the last row is centred on its own. */
static int layout_grid(tf_layout_t *out, int cw, int ch, int n, int g)
{
    int best_c = 0, best_r = 0, best_w = 0, best_h = 0;
    for (int c = 1; c <= n; c++) {
        int r = (n + c - 1) / c; /* so the last row holds 1..c tiles */
        int w, h;
        fit_16x9((cw - (c - 1) * g) / c, (ch - (r - 1) * g) / r, &w, &h);
        if (w == 0)
            continue;
        long area = (long)w * h, best = (long)best_w * best_h;
        int better = area > best;
        if (area == best && best_c) {
            int empty = c * r - n, best_empty = best_c * best_r - n;
            better =
                empty < best_empty || (empty == best_empty && (cw >= ch ? c > best_c : c < best_c));
        }
        if (better) {
            best_c = c;
            best_r = r;
            best_w = w;
            best_h = h;
        }
    }
    if (!best_c)
        return -EINVAL;

    int block_w = best_c * best_w + (best_c - 1) * g;
    int block_h = best_r * best_h + (best_r - 1) * g;
    int x0 = even_floor((cw - block_w) / 2), y0 = even_floor((ch - block_h) / 2);
    int last = n - (best_r - 1) * best_c; /* tiles in the last row, 1..cols */
    int last_w = last * best_w + (last - 1) * g;
    int x_last = even_floor((cw - last_w) / 2);
    for (int i = 0; i < n; i++) {
        int row = i / best_c, col = i % best_c;
        int xs = row == best_r - 1 ? x_last : x0;
        set_rect(&out->tile[i], xs + col * (best_w + g), y0 + row * (best_h + g), best_w, best_h);
    }
    return 0;
}

/* Sizes one strip shape on the canvas; 0 when it does not fit. */
static int plan_strip(strip_plan_t *p, const strip_shape_t *s, int cw, int ch, int g)
{
    memset(p, 0, sizeof(*p));
    p->shape = *s;
    if (s->bottom)
        fit_16x9((cw - (s->cols - 1) * g) / s->cols, ch, &p->tile_w, &p->tile_h);
    else
        fit_16x9(cw, (ch - (s->rows - 1) * g) / s->rows, &p->tile_w, &p->tile_h);
    if (p->tile_w == 0)
        return 0;
    p->block_w = s->cols * p->tile_w + (s->cols - 1) * g;
    p->block_h = s->rows * p->tile_h + (s->rows - 1) * g;
    if (s->bottom)
        fit_16x9(cw, ch - p->block_h - g, &p->main_w, &p->main_h);
    else
        fit_16x9(cw - p->block_w - g, ch, &p->main_w, &p->main_h);
    if (p->main_w == 0)
        return 0;
    /* Tile 0 must stay the largest; a shape where it would not is no speaker view. */
    return (long)p->main_w * p->main_h > (long)p->tile_w * p->tile_h;
}

static long plan_main_area(const strip_plan_t *p)
{
    return (long)p->main_w * p->main_h;
}

/* The best shape of one placement: largest tile 0, then largest strip tiles. */
static int best_plan(strip_plan_t *best, int bottom, int cw, int ch, int g)
{
    int found = 0;
    for (size_t i = 0; i < sizeof(strip_shapes) / sizeof(strip_shapes[0]); i++) {
        strip_plan_t p;
        if (strip_shapes[i].bottom != bottom || !plan_strip(&p, &strip_shapes[i], cw, ch, g))
            continue;
        long a = plan_main_area(&p), b = found ? plan_main_area(best) : -1;
        if (a > b || (a == b && (long)p.tile_w * p.tile_h > (long)best->tile_w * best->tile_h)) {
            *best = p;
            found = 1;
        }
    }
    return found;
}

/* Speaker and presentation: tile 0 large, up to TF_LAYOUT_STRIP_MAX others in a block of slots
 * below or beside it, rows filled in order and each partial row centred; tiles beyond the strip
 * are not shown. Tile 0 and the block are centred together as one piece of content. */
static int layout_strip(tf_layout_t *out, int cw, int ch, int n, int g, int prefer_bottom)
{
    if (n == 1) {
        int w, h;
        fit_16x9(cw, ch, &w, &h);
        if (w == 0)
            return -EINVAL;
        set_rect(&out->tile[0], even_floor((cw - w) / 2), even_floor((ch - h) / 2), w, h);
        return 0;
    }
    strip_plan_t pref, other, p;
    int have_pref = best_plan(&pref, prefer_bottom, cw, ch, g);
    int have_other = best_plan(&other, !prefer_bottom, cw, ch, g);
    if (!have_pref && !have_other)
        return -EINVAL;
    if (have_pref &&
        (!have_other || plan_main_area(&other) * 100 <= plan_main_area(&pref) * PREFERENCE_PERCENT))
        p = pref;
    else
        p = other;

    int shown = min_int(n - 1, TF_LAYOUT_STRIP_MAX);
    int cols = p.shape.cols;
    int rows_used = (shown + cols - 1) / cols;
    int used_h = rows_used * p.tile_h + (rows_used - 1) * g;
    int block_x = 0, block_y;
    if (p.shape.bottom) {
        /* Rows start right below tile 0; block_x is unused, rows are centred on the canvas. */
        int content_h = p.main_h + g + p.block_h;
        int y0 = even_floor((ch - content_h) / 2);
        set_rect(&out->tile[0], even_floor((cw - p.main_w) / 2), y0, p.main_w, p.main_h);
        block_y = y0 + p.main_h + g;
    } else {
        int content_w = p.main_w + g + p.block_w;
        int x0 = even_floor((cw - content_w) / 2);
        set_rect(&out->tile[0], x0, even_floor((ch - p.main_h) / 2), p.main_w, p.main_h);
        block_x = x0 + p.main_w + g;
        block_y = even_floor((ch - used_h) / 2); /* the used rows are centred beside tile 0 */
    }
    for (int j = 0; j < shown; j++) {
        int row = j / cols, col = j % cols;
        int in_row = row == rows_used - 1 ? shown - row * cols : cols;
        int row_w = in_row * p.tile_w + (in_row - 1) * g;
        /* Rows below tile 0 are centred on the canvas, rows beside it within the block. */
        int xr = p.shape.bottom ? even_floor((cw - row_w) / 2)
                                : block_x + even_floor((p.block_w - row_w) / 2);
        set_rect(&out->tile[1 + j], xr + col * (p.tile_w + g), block_y + row * (p.tile_h + g),
                 p.tile_w, p.tile_h);
    }
    return 0;
}

int tf_layout_compute(tf_layout_t *out, tf_layout_kind_t kind, int canvas_w, int canvas_h, int n)
{
    if (!out || n < 1 || n > TF_LAYOUT_MAX_TILES || (canvas_w | canvas_h) & 1 ||
        canvas_w < TF_LAYOUT_MIN_CANVAS || canvas_h < TF_LAYOUT_MIN_CANVAS ||
        canvas_w > TF_LAYOUT_MAX_CANVAS || canvas_h > TF_LAYOUT_MAX_CANVAS)
        return -EINVAL;
    tf_layout_t l;
    memset(&l, 0, sizeof(l));
    l.kind = kind;
    l.canvas_w = canvas_w;
    l.canvas_h = canvas_h;
    l.n = n;
    int g = gutter(canvas_w, canvas_h), rc;
    switch (kind) {
    case TF_LAYOUT_GRID:
        rc = layout_grid(&l, canvas_w, canvas_h, n, g);
        break;
    case TF_LAYOUT_SPEAKER:
        rc = layout_strip(&l, canvas_w, canvas_h, n, g, 1);
        break;
    case TF_LAYOUT_PRESENTATION:
        rc = layout_strip(&l, canvas_w, canvas_h, n, g, 0);
        break;
    default:
        rc = -EINVAL;
        break;
    }
    if (rc == 0)
        *out = l;
    return rc;
}

static const char *const kind_names[] = {"grid", "speaker", "presentation"};

const char *tf_layout_kind_name(tf_layout_kind_t kind)
{
    if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return "unknown";
    return kind_names[kind];
}

int tf_layout_kind_parse(const char *name, tf_layout_kind_t *out)
{
    if (!name || !out)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (tf_layout_kind_t)i;
            return 0;
        }
    }
    return -EINVAL;
}
