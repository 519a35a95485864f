/* compositor.c — draws the canvas from each tile's newest frame; no frame timing, no encoding. */
#include "mixer/compositor.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/placeholder.h"
#include "mixer/scale.h"

#define NAME_MAX_BYTES 64 /* including the NUL; longer names are cut at a character boundary */
#define CANVAS_SLOTS 4    /* canvases remembered for skipping unchanged tiles */

typedef struct tile {
    tf_frame_t *frame; /* our reference, or NULL: the placeholder */
    char name[NAME_MAX_BYTES];
    uint64_t gen; /* changes whenever what this tile shows changes; never 0 */
    tf_scaler_t *scaler;
    int sc_src_w, sc_src_h, sc_dst_w, sc_dst_h;
} tile_t;

/* What was last drawn into one canvas. Canvases are known by address (and plane address); the
 * compositor holds no reference to them. */
typedef struct canvas_slot {
    const tf_frame_t *canvas; /* NULL: free */
    const uint8_t *plane0;
    uint64_t scene_gen;                     /* layout and background it was drawn with */
    uint64_t tile_gen[TF_LAYOUT_MAX_TILES]; /* per tile, what was drawn; 0: nothing */
    uint64_t last_used;
} canvas_slot_t;

struct tf_compositor {
    int w, h;
    unsigned cpu_mask;
    uint8_t bg[3];
    tf_layout_t layout; /* layout.n == 0: no tiles */
    uint64_t gen;       /* counter behind every *_gen, so no value is ever reused */
    uint64_t scene_gen;
    uint64_t renders;
    tile_t tile[TF_LAYOUT_MAX_TILES];
    canvas_slot_t slot[CANVAS_SLOTS];
    tf_compositor_stats_t stats;
};

int tf_compositor_create(tf_compositor_t **out, int canvas_w, int canvas_h, unsigned cpu_mask)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if ((canvas_w | canvas_h) & 1 || canvas_w < TF_LAYOUT_MIN_CANVAS ||
        canvas_h < TF_LAYOUT_MIN_CANVAS || canvas_w > TF_LAYOUT_MAX_CANVAS ||
        canvas_h > TF_LAYOUT_MAX_CANVAS)
        return -EINVAL;
    tf_compositor_t *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->w = canvas_w;
    c->h = canvas_h;
    c->cpu_mask = cpu_mask;
    c->bg[0] = TF_COMPOSITOR_BG_Y;
    c->bg[1] = TF_COMPOSITOR_BG_U;
    c->bg[2] = TF_COMPOSITOR_BG_V;
    c->layout.kind = TF_LAYOUT_GRID;
    c->layout.canvas_w = canvas_w;
    c->layout.canvas_h = canvas_h;
    c->scene_gen = ++c->gen;
    for (int i = 0; i < TF_LAYOUT_MAX_TILES; i++)
        c->tile[i].gen = ++c->gen;
    *out = c;
    return 0;
}

void tf_compositor_destroy(tf_compositor_t **cp)
{
    if (!cp || !*cp)
        return;
    tf_compositor_t *c = *cp;
    for (int i = 0; i < TF_LAYOUT_MAX_TILES; i++) {
        tf_frame_unref(&c->tile[i].frame);
        tf_scaler_destroy(&c->tile[i].scaler);
    }
    free(c);
    *cp = NULL;
}

/* Everything drawn so far is stale: the next render into any canvas starts from scratch. */
static void new_scene(tf_compositor_t *c)
{
    c->scene_gen = ++c->gen;
}

int tf_compositor_set_layout(tf_compositor_t *c, tf_layout_kind_t kind, int n)
{
    if (!c || n < 0 || n > TF_LAYOUT_MAX_TILES || (unsigned)kind > TF_LAYOUT_PRESENTATION)
        return -EINVAL;
    if (kind == c->layout.kind && n == c->layout.n)
        return 0;
    tf_layout_t l;
    if (n == 0) {
        memset(&l, 0, sizeof(l));
        l.kind = kind;
        l.canvas_w = c->w;
        l.canvas_h = c->h;
    } else {
        int err = tf_layout_compute(&l, kind, c->w, c->h, n);
        if (err)
            return err;
    }
    c->layout = l;
    new_scene(c);
    /* Scalers of tiles no longer shown go; the others are rebuilt lazily if their size changed. */
    for (int i = 0; i < TF_LAYOUT_MAX_TILES; i++)
        if (i >= n || l.tile[i].w == 0)
            tf_scaler_destroy(&c->tile[i].scaler);
    return 0;
}

/* Copies name, cut to fit without splitting a UTF-8 sequence. */
static void copy_name(char *dst, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    if (len >= NAME_MAX_BYTES) {
        len = NAME_MAX_BYTES - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
            len--; /* src[len] would start the cut-off part: back up to a lead byte */
    }
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

int tf_compositor_set_source(tf_compositor_t *c, int i, tf_frame_t *frame, const char *name)
{
    if (!c || i < 0 || i >= TF_LAYOUT_MAX_TILES)
        return -EINVAL;
    if (frame && (frame->width < 1 || frame->height < 1 || frame->width > TF_LAYOUT_MAX_CANVAS ||
                  frame->height > TF_LAYOUT_MAX_CANVAS || !frame->plane[0] || !frame->plane[1] ||
                  !frame->plane[2]))
        return -EINVAL; /* refused here rather than failing every render */
    tile_t *t = &c->tile[i];
    char copied[NAME_MAX_BYTES];
    copy_name(copied, name);
    int changed = 0;
    if (frame != t->frame) {
        /* The same pointer is the same picture: we hold a reference, so it cannot have been
         * freed and reused, and frames are immutable once handed over. */
        tf_frame_unref(&t->frame);
        t->frame = frame ? tf_frame_ref(frame) : NULL;
        changed = 1;
    }
    if (strcmp(copied, t->name) != 0) {
        memcpy(t->name, copied, sizeof(copied));
        changed |= t->frame == NULL; /* a name only shows on the placeholder */
    }
    if (changed)
        t->gen = ++c->gen;
    return 0;
}

int tf_compositor_set_background(tf_compositor_t *c, uint8_t y, uint8_t u, uint8_t v)
{
    if (!c)
        return -EINVAL;
    if (c->bg[0] != y || c->bg[1] != u || c->bg[2] != v) {
        c->bg[0] = y;
        c->bg[1] = u;
        c->bg[2] = v;
        new_scene(c);
    }
    return 0;
}

void tf_compositor_invalidate(tf_compositor_t *c)
{
    if (c)
        memset(c->slot, 0, sizeof(c->slot));
}

/* The slot remembering this canvas, or the least recently used one, wiped. */
static canvas_slot_t *find_slot(tf_compositor_t *c, const tf_frame_t *canvas)
{
    canvas_slot_t *lru = &c->slot[0];
    for (int i = 0; i < CANVAS_SLOTS; i++) {
        canvas_slot_t *s = &c->slot[i];
        if (s->canvas == canvas && s->plane0 == canvas->plane[0])
            return s;
        if (s->last_used < lru->last_used)
            lru = s;
    }
    memset(lru, 0, sizeof(*lru));
    lru->canvas = canvas;
    lru->plane0 = canvas->plane[0];
    return lru;
}

static int draw_frame(tf_compositor_t *c, tile_t *t, const tf_rect_t *r, tf_frame_t *canvas)
{
    const tf_frame_t *f = t->frame;
    if (!t->scaler || t->sc_src_w != f->width || t->sc_src_h != f->height || t->sc_dst_w != r->w ||
        t->sc_dst_h != r->h) {
        tf_scaler_destroy(&t->scaler);
        int err = tf_scaler_create(&t->scaler, f->width, f->height, r->w, r->h, NULL, c->cpu_mask);
        if (err)
            return err;
        t->sc_src_w = f->width;
        t->sc_src_h = f->height;
        t->sc_dst_w = r->w;
        t->sc_dst_h = r->h;
        c->stats.scaler_builds++;
    }
    const uint8_t *const src[3] = {f->plane[0], f->plane[1], f->plane[2]};
    uint8_t *const dst[3] = {
        canvas->plane[0] + (ptrdiff_t)r->y * canvas->stride[0] + r->x,
        canvas->plane[1] + (ptrdiff_t)(r->y / 2) * canvas->stride[1] + r->x / 2,
        canvas->plane[2] + (ptrdiff_t)(r->y / 2) * canvas->stride[2] + r->x / 2,
    };
    tf_scaler_run(t->scaler, src, f->stride, dst, canvas->stride);
    return 0;
}

int tf_compositor_render(tf_compositor_t *c, tf_frame_t *canvas)
{
    if (!c || !canvas || canvas->width != c->w || canvas->height != c->h || !canvas->plane[0] ||
        !canvas->plane[1] || !canvas->plane[2])
        return -EINVAL;
    canvas_slot_t *s = find_slot(c, canvas);
    s->last_used = ++c->renders;
    c->stats.renders++;
    if (s->scene_gen != c->scene_gen) {
        tf_frame_fill(canvas, c->bg[0], c->bg[1], c->bg[2]);
        memset(s->tile_gen, 0, sizeof(s->tile_gen));
        s->scene_gen = c->scene_gen;
        c->stats.background_fills++;
    }
    for (int i = 0; i < c->layout.n; i++) {
        const tf_rect_t *r = &c->layout.tile[i];
        tile_t *t = &c->tile[i];
        if (r->w == 0)
            continue;
        if (s->tile_gen[i] == t->gen) {
            c->stats.tiles_skipped++;
            continue;
        }
        if (t->frame) {
            int err = draw_frame(c, t, r, canvas);
            if (err) {
                s->scene_gen = 0; /* half drawn: start over next time */
                return err;
            }
        } else {
            tf__placeholder_draw(canvas, r, t->name);
        }
        s->tile_gen[i] = t->gen;
        c->stats.tiles_drawn++;
    }
    return 0;
}

const tf_layout_t *tf_compositor_layout(const tf_compositor_t *c)
{
    return c ? &c->layout : NULL;
}

void tf_compositor_get_stats(const tf_compositor_t *c, tf_compositor_stats_t *out)
{
    if (c && out)
        *out = c->stats;
}
