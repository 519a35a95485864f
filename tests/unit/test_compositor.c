/* test_compositor.c — compositor + placeholder on real pixels; scaler precision is checkasm's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/compositor.h"
#include "mixer/placeholder.h"

typedef struct colour {
    uint8_t y, u, v;
} colour_t;

static const colour_t red = {81, 90, 240}, green = {145, 54, 34}, blue = {41, 240, 110},
                      yellow = {210, 16, 146};
static const colour_t bg = {TF_COMPOSITOR_BG_Y, TF_COMPOSITOR_BG_U, TF_COMPOSITOR_BG_V};

static tf_frame_t *solid(int w, int h, colour_t c)
{
    tf_frame_t *f = tf_frame_alloc(w, h);
    assert_non_null(f);
    tf_frame_fill(f, c.y, c.u, c.v);
    return f;
}

static int near(int a, int b)
{
    return abs(a - b) <= 2;
}

static uint8_t px(const tf_frame_t *f, int p, int x, int y)
{
    return f->plane[p][(size_t)y * f->stride[p] + x];
}

static int in_rect(const tf_rect_t *r, int x, int y)
{
    return r->w && x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

/* Every pixel of tile r has colour c (within 2): stricter than a centre-area check, and a solid
 * source cropped and scaled must stay solid to its edges. */
static void assert_tile_colour(const tf_frame_t *cv, const tf_rect_t *r, colour_t c, int tile)
{
    for (int y = r->y; y < r->y + r->h; y++)
        for (int x = r->x; x < r->x + r->w; x++)
            if (!near(px(cv, 0, x, y), c.y))
                fail_msg("tile %d: Y at %d,%d is %d, want %d", tile, x, y, px(cv, 0, x, y), c.y);
    for (int y = r->y / 2; y < (r->y + r->h) / 2; y++)
        for (int x = r->x / 2; x < (r->x + r->w) / 2; x++)
            if (!near(px(cv, 1, x, y), c.u) || !near(px(cv, 2, x, y), c.v))
                fail_msg("tile %d: UV at %d,%d is %d,%d, want %d,%d", tile, x, y, px(cv, 1, x, y),
                         px(cv, 2, x, y), c.u, c.v);
}

/* Everything outside the shown tiles is exactly the background. */
static void assert_background(const tf_frame_t *cv, const tf_layout_t *l, colour_t b)
{
    for (int y = 0; y < cv->height; y++) {
        for (int x = 0; x < cv->width; x++) {
            int inside = 0;
            for (int i = 0; i < l->n && !inside; i++)
                inside = in_rect(&l->tile[i], x, y);
            if (inside)
                continue;
            if (px(cv, 0, x, y) != b.y)
                fail_msg("background Y at %d,%d is %d", x, y, px(cv, 0, x, y));
            /* Tiles are even-aligned, so a chroma sample is wholly inside a tile or outside. */
            if (!(x & 1) && !(y & 1) &&
                (px(cv, 1, x / 2, y / 2) != b.u || px(cv, 2, x / 2, y / 2) != b.v))
                fail_msg("background UV at %d,%d", x, y);
        }
    }
}

/* Three sources of different sizes (and one of odd size) in every layout on three canvases,
 * with the plain C scaler and with every SIMD level the CPU has. */
static void test_solid_sources_every_layout(void **state)
{
    (void)state;
    static const int canvases[][2] = {{640, 360}, {1280, 720}, {360, 640}, {320, 180}};
    static const tf_layout_kind_t kinds[] = {TF_LAYOUT_GRID, TF_LAYOUT_SPEAKER,
                                             TF_LAYOUT_PRESENTATION};
    static const unsigned masks[] = {0u, ~0u};
    tf_frame_t *src[4] = {solid(640, 360, red), solid(320, 240, green), solid(1280, 720, blue),
                          solid(333, 177, yellow)};
    const colour_t col[4] = {red, green, blue, yellow};
    for (size_t m = 0; m < 2; m++) {
        for (size_t c = 0; c < sizeof(canvases) / sizeof(canvases[0]); c++) {
            int cw = canvases[c][0], ch = canvases[c][1];
            tf_compositor_t *comp = NULL;
            assert_int_equal(tf_compositor_create(&comp, cw, ch, masks[m]), 0);
            tf_frame_t *canvas = tf_frame_alloc(cw, ch);
            assert_non_null(canvas);
            for (int i = 0; i < 4; i++)
                assert_int_equal(tf_compositor_set_source(comp, i, src[i], "x"), 0);
            for (size_t k = 0; k < 3; k++) {
                for (int n = 3; n <= 4; n++) {
                    assert_int_equal(tf_compositor_set_layout(comp, kinds[k], n), 0);
                    assert_int_equal(tf_compositor_render(comp, canvas), 0);
                    const tf_layout_t *l = tf_compositor_layout(comp);
                    tf_layout_t want;
                    assert_int_equal(tf_layout_compute(&want, kinds[k], cw, ch, n), 0);
                    assert_memory_equal(l, &want, sizeof(want));
                    for (int i = 0; i < n; i++)
                        assert_tile_colour(canvas, &l->tile[i], col[i], i);
                    assert_background(canvas, l, bg);
                }
            }
            tf_frame_unref(&canvas);
            tf_compositor_destroy(&comp);
            assert_null(comp);
        }
    }
    for (int i = 0; i < 4; i++)
        tf_frame_unref(&src[i]);
}

/* Sources of awkward sizes: single pixels, odd sizes, extreme aspect ratios, larger than the
 * canvas. */
static void test_awkward_source_sizes(void **state)
{
    (void)state;
    static const int sizes[][2] = {{1, 1}, {3, 5}, {4096, 16}, {16, 2000}, {2000, 2000}, {7, 1}};
    const colour_t col[6] = {red, green, blue, yellow, red, blue};
    tf_frame_t *src[6];
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 640, 360, ~0u), 0);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 6), 0);
    for (int i = 0; i < 6; i++) {
        src[i] = solid(sizes[i][0], sizes[i][1], col[i]);
        assert_int_equal(tf_compositor_set_source(comp, i, src[i], NULL), 0);
    }
    tf_frame_t *canvas = tf_frame_alloc(640, 360);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    const tf_layout_t *l = tf_compositor_layout(comp);
    for (int i = 0; i < 6; i++)
        assert_tile_colour(canvas, &l->tile[i], col[i], i);
    assert_background(canvas, l, bg);
    for (int i = 0; i < 6; i++)
        tf_frame_unref(&src[i]);
    tf_frame_unref(&canvas);
    tf_compositor_destroy(&comp);
}

/* Draws one placeholder tile for name on a fresh 640x360 canvas, grid of 1. */
static tf_frame_t *render_placeholder(const char *name, tf_rect_t *tile)
{
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 640, 360, 0), 0);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 1), 0);
    assert_int_equal(tf_compositor_set_source(comp, 0, NULL, name), 0);
    tf_frame_t *canvas = tf_frame_alloc(640, 360);
    assert_non_null(canvas);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    *tile = tf_compositor_layout(comp)->tile[0];
    tf_compositor_destroy(&comp);
    return canvas;
}

/* Ink pixels of a placeholder: luma lighter than its background (read at the tile's corner). */
static int ink_count(const tf_frame_t *cv, const tf_rect_t *r, int *top_row)
{
    uint8_t base = px(cv, 0, r->x, r->y);
    int count = 0;
    *top_row = -1;
    for (int y = r->y; y < r->y + r->h; y++)
        for (int x = r->x; x < r->x + r->w; x++)
            if (px(cv, 0, x, y) != base) {
                count++;
                if (*top_row < 0)
                    *top_row = y;
            }
    return count;
}

static void test_placeholder_pixels(void **state)
{
    (void)state;
    tf_rect_t r;
    const char *names[] = {"Jürgen Özdemir", "Anna Berg", "Chris Dorn", NULL, "李雷"};
    tf_frame_t *cv[5];
    for (int i = 0; i < 5; i++) {
        cv[i] = render_placeholder(names[i], &r);
        uint8_t yuv[3];
        tf__placeholder_colour(names[i], yuv);
        /* Chroma is the name's colour throughout; luma has the colour and the initials. */
        for (int y = r.y / 2; y < (r.y + r.h) / 2; y++)
            for (int x = r.x / 2; x < (r.x + r.w) / 2; x++) {
                assert_int_equal(px(cv[i], 1, x, y), yuv[1]);
                assert_int_equal(px(cv[i], 2, x, y), yuv[2]);
            }
        int top, ink = ink_count(cv[i], &r, &top);
        assert_int_equal(px(cv[i], 0, r.x, r.y), yuv[0]);
        /* Not one colour: initials (or the person symbol) take a visible share of the tile. */
        assert_true(ink > r.w * r.h / 100);
        assert_true(ink < r.w * r.h / 3);
    }
    /* Different names, different tiles. */
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < i; j++) {
            int differ = 0;
            for (int y = r.y; y < r.y + r.h && !differ; y++)
                differ =
                    memcmp(cv[i]->plane[0] + (size_t)y * cv[i]->stride[0] + r.x,
                           cv[j]->plane[0] + (size_t)y * cv[j]->stride[0] + r.x, (size_t)r.w) != 0;
            for (int y = r.y / 2; y < (r.y + r.h) / 2 && !differ; y++)
                differ = memcmp(cv[i]->plane[1] + (size_t)y * cv[i]->stride[1] + r.x / 2,
                                cv[j]->plane[1] + (size_t)y * cv[j]->stride[1] + r.x / 2,
                                (size_t)r.w / 2) != 0;
            if (!differ)
                fail_msg("placeholders of %s and %s are the same", names[i] ? names[i] : "NULL",
                         names[j] ? names[j] : "NULL");
        }
    for (int i = 0; i < 5; i++)
        tf_frame_unref(&cv[i]);
}

/* The umlaut is the base letter plus two dots above it. */
static void test_placeholder_umlaut_dots(void **state)
{
    (void)state;
    tf_rect_t r;
    const char *pairs[][2] = {{"Ömer", "Omer"}, {"Änne", "Anne"}, {"Ümit", "Umit"}};
    for (int p = 0; p < 3; p++) {
        tf_frame_t *with = render_placeholder(pairs[p][0], &r);
        tf_frame_t *without = render_placeholder(pairs[p][1], &r);
        int top_with, top_without;
        int ink_with = ink_count(with, &r, &top_with);
        int ink_without = ink_count(without, &r, &top_without);
        assert_true(ink_with > ink_without);
        /* Two square dots of the glyph scale: the extra ink is 2 * scale^2. */
        int extra = ink_with - ink_without, scale = 1;
        while (2 * scale * scale < extra)
            scale++;
        assert_int_equal(2 * scale * scale, extra);
        assert_int_equal(top_with, top_without - 2 * scale); /* dots above cap height */
        tf_frame_unref(&with);
        tf_frame_unref(&without);
    }
}

static void test_placeholder_initials(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int n;
        uint32_t g[2];
    } cases[] = {
        {"Jürgen Özdemir", 2, {'J', 0xd6}},
        {"anna-lena müller", 2, {'A', 'M'}},
        {"Ümit", 1, {0xdc}},
        {"ärger über öl", 2, {0xc4, 0xd6}},
        {"Émile Zola", 2, {'E', 'Z'}},
        {"Ali Can Şahin", 2, {'A', 'S'}},
        {"  Łukasz   Wójcik  ", 2, {'L', 'W'}},
        {"Raum 204", 2, {'R', '2'}},
        {"(Gast) Ben", 2, {'G', 'B'}},
        {"\xf0\x9f\x98\x80 Ben", 1, {'B'}},        /* emoji, then a name */
        {"x\xff\xfey", 1, {'X'}},                  /* invalid UTF-8 is skipped */
        {"\xc3", 1, {TF__PLACEHOLDER_PERSON}},     /* truncated sequence */
        {"\xc0\xc1", 1, {TF__PLACEHOLDER_PERSON}}, /* overlong */
        {"李雷", 1, {TF__PLACEHOLDER_PERSON}},
        {"", 1, {TF__PLACEHOLDER_PERSON}},
        {"   ", 1, {TF__PLACEHOLDER_PERSON}},
        {NULL, 1, {TF__PLACEHOLDER_PERSON}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t g[2] = {0, 0};
        int n = tf__placeholder_initials(cases[i].name, g);
        if (n != cases[i].n || g[0] != cases[i].g[0] || (n == 2 && g[1] != cases[i].g[1]))
            fail_msg("case %zu: got %d: %x %x", i, n, g[0], g[1]);
    }
    /* Colours: stable per name, calm (limited range, low saturation). */
    uint8_t a[3], b[3];
    tf__placeholder_colour("Anna Berg", a);
    tf__placeholder_colour("Anna Berg", b);
    assert_memory_equal(a, b, 3);
    const char *names[] = {"a", "b", "c", "Anna", "Jürgen", "", NULL, "Raum 204"};
    int distinct = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        tf__placeholder_colour(names[i], a);
        assert_true(a[0] >= 40 && a[0] <= 130);
        assert_true(abs(a[1] - 128) <= 40 && abs(a[2] - 128) <= 40);
        if (i > 0) {
            tf__placeholder_colour(names[i - 1], b);
            distinct += memcmp(a, b, 3) != 0;
        }
    }
    assert_true(distinct >= 5);
}

/* Small tiles (49 on 320x180, speaker strip) still get a placeholder and stay inside. */
static void test_placeholder_small_tiles(void **state)
{
    (void)state;
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 320, 180, 0), 0);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 49), 0);
    for (int i = 0; i < 49; i++)
        assert_int_equal(tf_compositor_set_source(comp, i, NULL, "Zoë Ärmel"), 0);
    tf_frame_t *canvas = tf_frame_alloc(320, 180);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    const tf_layout_t *l = tf_compositor_layout(comp);
    assert_background(canvas, l, bg);
    int top;
    assert_true(ink_count(canvas, &l->tile[48], &top) > 0);
    tf_frame_unref(&canvas);
    tf_compositor_destroy(&comp);
}

static void stats(const tf_compositor_t *c, tf_compositor_stats_t *s)
{
    memset(s, 0xff, sizeof(*s));
    tf_compositor_get_stats(c, s);
}

/* Newest frame at each tick: replacing a frame between renders shows the new one; unchanged
 * tiles are skipped; the same frame again costs nothing. */
static void test_newest_frame_and_skipping(void **state)
{
    (void)state;
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 640, 360, 0), 0);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 3), 0);
    tf_frame_t *a = solid(640, 360, red), *b = solid(320, 240, green), *c = solid(320, 240, blue);
    assert_int_equal(tf_compositor_set_source(comp, 0, a, "A"), 0);
    assert_int_equal(tf_compositor_set_source(comp, 1, b, "B"), 0);
    assert_int_equal(tf_compositor_set_source(comp, 2, NULL, "C"), 0);
    tf_frame_t *canvas = tf_frame_alloc(640, 360);
    const tf_layout_t *l = tf_compositor_layout(comp);
    tf_compositor_stats_t s;

    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    stats(comp, &s);
    assert_int_equal(s.renders, 1);
    assert_int_equal(s.background_fills, 1);
    assert_int_equal(s.tiles_drawn, 3);
    assert_int_equal(s.tiles_skipped, 0);
    assert_int_equal(s.scaler_builds, 2);

    /* Nothing changed: nothing drawn. The same frames and names again: still nothing. */
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    assert_int_equal(tf_compositor_set_source(comp, 0, a, "A"), 0);
    assert_int_equal(tf_compositor_set_source(comp, 2, NULL, "C"), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    stats(comp, &s);
    assert_int_equal(s.tiles_drawn, 3);
    assert_int_equal(s.tiles_skipped, 6);
    assert_int_equal(s.background_fills, 1);

    /* A newer frame for tile 1 (same size: the scaler is kept): only tile 1 is redrawn. */
    assert_int_equal(tf_compositor_set_source(comp, 1, c, "B"), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    stats(comp, &s);
    assert_int_equal(s.tiles_drawn, 4);
    assert_int_equal(s.scaler_builds, 2);
    assert_tile_colour(canvas, &l->tile[1], blue, 1);
    assert_tile_colour(canvas, &l->tile[0], red, 0);

    /* A frame of another size in tile 0: redrawn with a new scaler. */
    assert_int_equal(tf_compositor_set_source(comp, 0, b, "A"), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    stats(comp, &s);
    assert_int_equal(s.tiles_drawn, 5);
    assert_int_equal(s.scaler_builds, 3);
    assert_tile_colour(canvas, &l->tile[0], green, 0);

    /* A placeholder's name change redraws it; a name change under video does not. */
    int top_before, ink_before = ink_count(canvas, &l->tile[2], &top_before);
    assert_int_equal(tf_compositor_set_source(comp, 2, NULL, "Wim Mews"), 0);
    assert_int_equal(tf_compositor_set_source(comp, 1, c, "Somebody Else"), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    stats(comp, &s);
    assert_int_equal(s.tiles_drawn, 6);
    int top_after, ink_after = ink_count(canvas, &l->tile[2], &top_after);
    assert_int_not_equal(ink_before, ink_after);

    /* Video stops: the placeholder comes back; video returns: the frame comes back. */
    assert_int_equal(tf_compositor_set_source(comp, 0, NULL, "Anna"), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    uint8_t yuv[3];
    tf__placeholder_colour("Anna", yuv);
    assert_int_equal(px(canvas, 1, l->tile[0].x / 2, l->tile[0].y / 2), yuv[1]);
    assert_int_equal(tf_compositor_set_source(comp, 0, a, "Anna"), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    assert_tile_colour(canvas, &l->tile[0], red, 0);
    assert_background(canvas, l, bg);

    tf_frame_unref(&a);
    tf_frame_unref(&b);
    tf_frame_unref(&c);
    tf_frame_unref(&canvas);
    tf_compositor_destroy(&comp);
}

/* Canvases used in turn each get what changed since they were last drawn; more canvases than
 * the compositor remembers are simply drawn in full. */
static void test_canvases_in_turn(void **state)
{
    (void)state;
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 640, 360, 0), 0);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_SPEAKER, 2), 0);
    const tf_layout_t *l = tf_compositor_layout(comp);
    tf_frame_t *f[3] = {solid(64, 64, red), solid(64, 64, green), solid(64, 64, blue)};
    const colour_t col[3] = {red, green, blue};
    tf_frame_t *canvas[6];
    for (int i = 0; i < 6; i++)
        canvas[i] = tf_frame_alloc(640, 360);
    assert_int_equal(tf_compositor_set_source(comp, 1, f[2], NULL), 0);

    /* Double buffering: tick t goes to canvas t % 2, tile 0 shows colour t % 3. */
    for (int t = 0; t < 12; t++) {
        tf_frame_t *cv = canvas[t % 2];
        assert_int_equal(tf_compositor_set_source(comp, 0, f[t % 3], NULL), 0);
        assert_int_equal(tf_compositor_render(comp, cv), 0);
        assert_tile_colour(cv, &l->tile[0], col[t % 3], 0);
        assert_tile_colour(cv, &l->tile[1], blue, 1);
        assert_background(cv, l, bg);
    }
    /* Six canvases in turn (more than are remembered): always complete. */
    for (int t = 0; t < 18; t++) {
        tf_frame_t *cv = canvas[t % 6];
        assert_int_equal(tf_compositor_set_source(comp, 0, f[t % 3], NULL), 0);
        assert_int_equal(tf_compositor_render(comp, cv), 0);
        assert_tile_colour(cv, &l->tile[0], col[t % 3], 0);
        assert_tile_colour(cv, &l->tile[1], blue, 1);
        assert_background(cv, l, bg);
    }
    /* The caller scribbles on a canvas: after invalidate() it is whole again. */
    tf_frame_fill(canvas[0], 0, 0, 0);
    tf_compositor_invalidate(comp);
    assert_int_equal(tf_compositor_render(comp, canvas[0]), 0);
    assert_tile_colour(canvas[0], &l->tile[1], blue, 1);
    assert_background(canvas[0], l, bg);
    /* A new background reaches every canvas. */
    assert_int_equal(tf_compositor_set_background(comp, 100, 110, 120), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tf_compositor_render(comp, canvas[i]), 0);
        assert_background(canvas[i], l, (colour_t){100, 110, 120});
    }
    for (int i = 0; i < 6; i++)
        tf_frame_unref(&canvas[i]);
    for (int i = 0; i < 3; i++)
        tf_frame_unref(&f[i]);
    tf_compositor_destroy(&comp);
}

/* A layout change recomputes the geometry, refills the background (old tile areas included) and
 * rebuilds only the scalers whose tile size changed. */
static void test_layout_change(void **state)
{
    (void)state;
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 1280, 720, 0), 0);
    const tf_layout_t *l = tf_compositor_layout(comp);
    tf_frame_t *canvas = tf_frame_alloc(1280, 720);
    /* No tiles yet: background only. */
    assert_int_equal(l->n, 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    assert_background(canvas, l, bg);

    tf_frame_t *f[9];
    const colour_t col[3] = {red, green, blue};
    for (int i = 0; i < 9; i++) {
        f[i] = solid(320 + 32 * i, 180 + 18 * i, col[i % 3]);
        assert_int_equal(tf_compositor_set_source(comp, i, f[i], "n"), 0);
    }
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 9), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    tf_compositor_stats_t s0, s1;
    stats(comp, &s0);
    assert_int_equal(s0.scaler_builds, 9);

    /* Same kind and n: nothing happens. */
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 9), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    stats(comp, &s1);
    assert_int_equal(s1.tiles_drawn, s0.tiles_drawn);
    assert_int_equal(s1.background_fills, s0.background_fills);

    /* Speaker with 9: tile 0 large, 6 in the strip, tiles 7 and 8 not shown; every strip tile
     * changed size, so 7 scalers are rebuilt and no more. */
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_SPEAKER, 9), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    tf_layout_t want;
    assert_int_equal(tf_layout_compute(&want, TF_LAYOUT_SPEAKER, 1280, 720, 9), 0);
    assert_memory_equal(l, &want, sizeof(want));
    stats(comp, &s1);
    assert_int_equal(s1.background_fills, s0.background_fills + 1);
    assert_int_equal(s1.scaler_builds, s0.scaler_builds + 7);
    assert_int_equal(s1.tiles_drawn, s0.tiles_drawn + 7);
    for (int i = 0; i < 7; i++)
        assert_tile_colour(canvas, &l->tile[i], col[i % 3], i);
    assert_int_equal(l->tile[7].w, 0);
    assert_background(canvas, l, bg);

    /* Presentation with 3: fewer tiles, the rest of the old picture is gone. */
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_PRESENTATION, 3), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    for (int i = 0; i < 3; i++)
        assert_tile_colour(canvas, &l->tile[i], col[i], i);
    assert_background(canvas, l, bg);
    /* And back to none. */
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_PRESENTATION, 0), 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    assert_background(canvas, l, bg);

    for (int i = 0; i < 9; i++)
        tf_frame_unref(&f[i]);
    tf_frame_unref(&canvas);
    tf_compositor_destroy(&comp);
}

/* Wrapped frames count their releases: the compositor holds exactly one reference per tile and
 * lets go on replacement and on destroy. */
typedef struct counted {
    uint8_t *mem;
    int *released;
} counted_t;

static void release_counted(void *opaque)
{
    counted_t *c = opaque;
    (*c->released)++;
    free(c->mem);
    free(c);
}

static tf_frame_t *counted_frame(int w, int h, colour_t col, int *released)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    int stride[3] = {w + TF_FRAME_PAD, cw + TF_FRAME_PAD, cw + TF_FRAME_PAD};
    size_t ysz = (size_t)stride[0] * (h + 1), csz = (size_t)stride[1] * (ch + 1);
    counted_t *c = malloc(sizeof(*c));
    assert_non_null(c);
    c->mem = malloc(ysz + 2 * csz);
    assert_non_null(c->mem);
    c->released = released;
    uint8_t *planes[3] = {c->mem, c->mem + ysz, c->mem + ysz + csz};
    memset(planes[0], col.y, ysz);
    memset(planes[1], col.u, csz);
    memset(planes[2], col.v, csz);
    tf_frame_t *f = tf_frame_wrap(w, h, planes, stride, release_counted, c);
    assert_non_null(f);
    return f;
}

static void test_frame_references(void **state)
{
    (void)state;
    int released = 0;
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 640, 360, 0), 0);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 2), 0);
    tf_frame_t *canvas = tf_frame_alloc(640, 360);

    tf_frame_t *f = counted_frame(300, 200, red, &released);
    assert_int_equal(tf_compositor_set_source(comp, 0, f, "a"), 0);
    tf_frame_unref(&f); /* the compositor's reference keeps it alive */
    assert_int_equal(released, 0);
    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    assert_tile_colour(canvas, &tf_compositor_layout(comp)->tile[0], red, 0);

    f = counted_frame(300, 200, green, &released);
    assert_int_equal(tf_compositor_set_source(comp, 0, f, "a"), 0);
    assert_int_equal(released, 1); /* the replaced frame went */
    assert_int_equal(tf_compositor_set_source(comp, 0, f, "a"), 0);
    assert_int_equal(released, 1); /* the same frame again takes no second reference */
    tf_frame_unref(&f);
    assert_int_equal(released, 1);

    /* A frame in a tile beyond n, and one cleared to NULL. */
    f = counted_frame(64, 64, blue, &released);
    assert_int_equal(tf_compositor_set_source(comp, 30, f, NULL), 0);
    tf_frame_unref(&f);
    f = counted_frame(64, 64, blue, &released);
    assert_int_equal(tf_compositor_set_source(comp, 1, f, NULL), 0);
    tf_frame_unref(&f);
    assert_int_equal(tf_compositor_set_source(comp, 1, NULL, NULL), 0);
    assert_int_equal(released, 2);

    assert_int_equal(tf_compositor_render(comp, canvas), 0);
    tf_compositor_destroy(&comp);
    assert_null(comp);
    assert_int_equal(released, 4); /* tile 0's and tile 30's */
    tf_compositor_destroy(&comp);
    tf_compositor_destroy(NULL);
    tf_frame_unref(&canvas);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    tf_compositor_t *comp = NULL;
    assert_int_equal(tf_compositor_create(&comp, 641, 360, 0), -EINVAL);
    assert_int_equal(tf_compositor_create(&comp, 640, 0, 0), -EINVAL);
    assert_int_equal(tf_compositor_create(&comp, 32, 32, 0), -EINVAL);
    assert_null(comp);
    assert_int_equal(tf_compositor_create(NULL, 640, 360, 0), -EINVAL);
    assert_int_equal(tf_compositor_create(&comp, 640, 360, 0), 0);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, 50), -EINVAL);
    assert_int_equal(tf_compositor_set_layout(comp, TF_LAYOUT_GRID, -1), -EINVAL);
    assert_int_equal(tf_compositor_set_layout(comp, (tf_layout_kind_t)9, 2), -EINVAL);
    assert_int_equal(tf_compositor_layout(comp)->n, 0);
    assert_int_equal(tf_compositor_set_source(comp, -1, NULL, NULL), -EINVAL);
    assert_int_equal(tf_compositor_set_source(comp, TF_LAYOUT_MAX_TILES, NULL, NULL), -EINVAL);
    /* A long name is cut without splitting a character. */
    char long_name[200];
    memset(long_name, 0, sizeof(long_name));
    for (int i = 0; i < 60; i++)
        strcat(long_name, "ü");
    assert_int_equal(tf_compositor_set_source(comp, 0, NULL, long_name), 0);
    uint8_t pixel[4] = {0};
    uint8_t *planes[3] = {pixel, pixel, NULL};
    int strides[3] = {4, 4, 4};
    tf_frame_t *no_v = tf_frame_wrap(2, 2, planes, strides, NULL, NULL);
    assert_int_equal(tf_compositor_set_source(comp, 0, no_v, NULL), -EINVAL);
    planes[2] = pixel;
    tf_frame_t *empty = tf_frame_wrap(0, 2, planes, strides, NULL, NULL);
    assert_int_equal(tf_compositor_set_source(comp, 0, empty, NULL), -EINVAL);
    tf_frame_unref(&no_v);
    tf_frame_unref(&empty);
    tf_frame_t *wrong = tf_frame_alloc(640, 362);
    assert_int_equal(tf_compositor_render(comp, wrong), -EINVAL);
    assert_int_equal(tf_compositor_render(comp, NULL), -EINVAL);
    tf_frame_unref(&wrong);
    assert_int_equal(tf_compositor_set_background(NULL, 0, 0, 0), -EINVAL);
    assert_null(tf_compositor_layout(NULL));
    tf_compositor_destroy(&comp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_solid_sources_every_layout),
        cmocka_unit_test(test_awkward_source_sizes),
        cmocka_unit_test(test_placeholder_pixels),
        cmocka_unit_test(test_placeholder_umlaut_dots),
        cmocka_unit_test(test_placeholder_initials),
        cmocka_unit_test(test_placeholder_small_tiles),
        cmocka_unit_test(test_newest_frame_and_skipping),
        cmocka_unit_test(test_canvases_in_turn),
        cmocka_unit_test(test_layout_change),
        cmocka_unit_test(test_frame_references),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
