/* test_layout.c — every n, kind and canvas through mixer/layout.c; geometry only, no pixels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/layout.h"

typedef struct canvas {
    int w, h;
    int grid_cover_pct; /* the least share of the canvas the grid's tiles must cover */
    int main_cover_pct; /* the least share tile 0 of speaker/presentation must cover */
} canvas_t;

/* The floors come from the geometry of 16:9 tiles: two tiles on a 16:9 canvas cover half of it;
 * on a portrait canvas one 16:9 tile covers under a third. */
static const canvas_t canvases[] = {
    {320, 180, 47, 65}, {640, 360, 47, 65},  {1280, 720, 47, 65}, {1920, 1080, 47, 65},
    {640, 480, 50, 70}, {1024, 768, 50, 70}, {360, 640, 30, 30},  {720, 1280, 30, 30},
    {64, 64, 45, 50},   {2560, 64, 0, 0},    {64, 2560, 0, 0}, /* extremes: robustness only */
};
#define N_CANVASES (sizeof(canvases) / sizeof(canvases[0]))

static const tf_layout_kind_t kinds[] = {TF_LAYOUT_GRID, TF_LAYOUT_SPEAKER, TF_LAYOUT_PRESENTATION};

static int shown(const tf_rect_t *r)
{
    return r->w != 0 || r->h != 0;
}

static long area(const tf_rect_t *r)
{
    return (long)r->w * r->h;
}

static int overlap(const tf_rect_t *a, const tf_rect_t *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

/* The checks every layout must pass; fails with a message naming the case. */
static void check_common(const tf_layout_t *l, tf_layout_kind_t kind, int cw, int ch, int n)
{
    char what[96];
    snprintf(what, sizeof(what), "%s %dx%d n=%d", tf_layout_kind_name(kind), cw, ch, n);
    if (l->kind != kind || l->canvas_w != cw || l->canvas_h != ch || l->n != n)
        fail_msg("%s: header fields wrong", what);
    for (int i = 0; i < TF_LAYOUT_MAX_TILES; i++) {
        const tf_rect_t *r = &l->tile[i];
        if (i >= n || !shown(r)) {
            if (r->x || r->y || r->w || r->h)
                fail_msg("%s: tile %d hidden but not all zero", what, i);
            continue;
        }
        if ((r->x | r->y | r->w | r->h) & 1)
            fail_msg("%s: tile %d (%d,%d %dx%d) not even", what, i, r->x, r->y, r->w, r->h);
        if (r->w < 2 || r->h < 2 || r->x < 0 || r->y < 0 || r->x + r->w > cw || r->y + r->h > ch)
            fail_msg("%s: tile %d (%d,%d %dx%d) outside", what, i, r->x, r->y, r->w, r->h);
        if (labs(9L * r->w - 16L * r->h) > 16)
            fail_msg("%s: tile %d %dx%d not 16:9", what, i, r->w, r->h);
        for (int j = 0; j < i; j++)
            if (shown(&l->tile[j]) && overlap(r, &l->tile[j]))
                fail_msg("%s: tiles %d and %d overlap", what, j, i);
    }
}

/* The largest 16:9 tile any cols x rows arrangement could give, ignoring gutters and evenness:
 * an independent upper bound for the grid's choice, as a tile width. */
static double ideal_grid_tile_width(int cw, int ch, int n)
{
    double best = 0;
    for (int c = 1; c <= n; c++) {
        int r = (n + c - 1) / c;
        double w = (double)cw / c, h = (double)ch / r;
        if (w * 9 > h * 16)
            w = h * 16 / 9;
        if (w > best)
            best = w;
    }
    return best;
}

static void check_grid(const tf_layout_t *l, int cw, int ch, int n, int cover_pct)
{
    long total = 0;
    int rows_y[TF_LAYOUT_MAX_TILES], n_rows = 0;
    for (int i = 0; i < n; i++) {
        const tf_rect_t *r = &l->tile[i];
        if (!shown(r))
            fail_msg("grid %dx%d n=%d: tile %d hidden", cw, ch, n, i);
        if (r->w != l->tile[0].w || r->h != l->tile[0].h)
            fail_msg("grid %dx%d n=%d: tile %d has another size", cw, ch, n, i);
        total += area(r);
        if (n_rows == 0 || rows_y[n_rows - 1] != r->y) {
            if (n_rows && r->y < rows_y[n_rows - 1])
                fail_msg("grid %dx%d n=%d: rows not in order", cw, ch, n);
            rows_y[n_rows++] = r->y;
        }
    }
    /* Rows: all full but the last; every row (and so the last) centred within 2 px. */
    int cols = 0;
    for (int row = 0; row < n_rows; row++) {
        int count = 0, left = cw, right = 0;
        for (int i = 0; i < n; i++) {
            const tf_rect_t *r = &l->tile[i];
            if (r->y != rows_y[row])
                continue;
            count++;
            left = r->x < left ? r->x : left;
            right = r->x + r->w > right ? r->x + r->w : right;
        }
        if (row == 0)
            cols = count;
        else if (row < n_rows - 1 ? count != cols : count > cols)
            fail_msg("grid %dx%d n=%d: row %d has %d tiles, cols %d", cw, ch, n, row, count, cols);
        if (abs(left - (cw - right)) > 2)
            fail_msg("grid %dx%d n=%d: row %d not centred (%d | %d)", cw, ch, n, row, left,
                     cw - right);
    }
    if (cols * (n_rows - 1) >= n)
        fail_msg("grid %dx%d n=%d: empty last row", cw, ch, n);
    /* Vertically centred as a block. */
    int top = l->tile[0].y, bottom = l->tile[n - 1].y + l->tile[n - 1].h;
    if (abs(top - (ch - bottom)) > 2)
        fail_msg("grid %dx%d n=%d: not centred vertically", cw, ch, n);
    if (total * 100 < (long)cover_pct * cw * ch)
        fail_msg("grid %dx%d n=%d: covers only %ld %%", cw, ch, n, total * 100 / ((long)cw * ch));
    /* Close to the best arrangement: gutters and rounding may cost a little, no more. */
    double ideal_w = ideal_grid_tile_width(cw, ch, n);
    if (l->tile[0].w < 0.9 * ideal_w - 4)
        fail_msg("grid %dx%d n=%d: tile %d px wide, an arrangement gives %.1f", cw, ch, n,
                 l->tile[0].w, ideal_w);
}

static void check_strip(const tf_layout_t *l, tf_layout_kind_t kind, int cw, int ch, int n,
                        int cover_pct, const tf_rect_t *main_for_n2)
{
    const tf_rect_t *m = &l->tile[0];
    if (!shown(m))
        fail_msg("%s %dx%d n=%d: tile 0 hidden", tf_layout_kind_name(kind), cw, ch, n);
    if (area(m) * 100 < (long)cover_pct * cw * ch)
        fail_msg("%s %dx%d n=%d: tile 0 covers only %ld %%", tf_layout_kind_name(kind), cw, ch, n,
                 area(m) * 100 / ((long)cw * ch));
    if (n == 1) {
        /* One tile: as large as the canvas allows. */
        if (m->w < cw - 4 && m->h < ch - 4)
            fail_msg("%s %dx%d n=1: %dx%d does not fill", tf_layout_kind_name(kind), cw, ch, m->w,
                     m->h);
        return;
    }
    /* Tile 0 keeps its place and size whatever n is. */
    if (main_for_n2 && memcmp(m, main_for_n2, sizeof(*m)) != 0)
        fail_msg("%s %dx%d n=%d: tile 0 moved", tf_layout_kind_name(kind), cw, ch, n);
    int strip = 0;
    for (int i = 1; i < n; i++) {
        const tf_rect_t *r = &l->tile[i];
        int expect_shown = i <= TF_LAYOUT_STRIP_MAX;
        if (shown(r) != expect_shown)
            fail_msg("%s %dx%d n=%d: tile %d shown=%d", tf_layout_kind_name(kind), cw, ch, n, i,
                     shown(r));
        if (!expect_shown)
            continue;
        strip++;
        if (area(r) >= area(m))
            fail_msg("%s %dx%d n=%d: tile %d not smaller than tile 0", tf_layout_kind_name(kind),
                     cw, ch, n, i);
        if (r->w != l->tile[1].w || r->h != l->tile[1].h)
            fail_msg("%s %dx%d n=%d: strip tiles differ", tf_layout_kind_name(kind), cw, ch, n);
    }
    if (strip != (n - 1 < TF_LAYOUT_STRIP_MAX ? n - 1 : TF_LAYOUT_STRIP_MAX))
        fail_msg("%s %dx%d n=%d: %d strip tiles", tf_layout_kind_name(kind), cw, ch, n, strip);
}

static void test_every_n_every_kind_every_canvas(void **state)
{
    (void)state;
    for (size_t c = 0; c < N_CANVASES; c++) {
        int cw = canvases[c].w, ch = canvases[c].h;
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            tf_rect_t main_n2 = {0, 0, 0, 0};
            for (int n = 1; n <= TF_LAYOUT_MAX_TILES; n++) {
                tf_layout_t l;
                memset(&l, 0x5a, sizeof(l)); /* stale data must not survive */
                int rc = tf_layout_compute(&l, kinds[k], cw, ch, n);
                if (rc != 0)
                    fail_msg("%s %dx%d n=%d: rc %d", tf_layout_kind_name(kinds[k]), cw, ch, n, rc);
                check_common(&l, kinds[k], cw, ch, n);
                if (kinds[k] == TF_LAYOUT_GRID) {
                    check_grid(&l, cw, ch, n, canvases[c].grid_cover_pct);
                } else {
                    check_strip(&l, kinds[k], cw, ch, n, canvases[c].main_cover_pct,
                                n > 2 ? &main_n2 : NULL);
                    if (n == 2)
                        main_n2 = l.tile[0];
                }
            }
        }
    }
}

/* What the header promises for the usual canvases, pinned so a change is a decision. */
static void test_strip_placement(void **state)
{
    (void)state;
    tf_layout_t l;
    /* 16:9, speaker: strip of 6 along the bottom, tile 0 above it. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_SPEAKER, 1280, 720, 10), 0);
    for (int i = 1; i <= 6; i++)
        assert_true(l.tile[i].y >= l.tile[0].y + l.tile[0].h);
    assert_true(l.tile[0].w * 10 >= 1280 * 8); /* tile 0 keeps most of the width */
    /* 16:9, presentation: strip of 6 down the right side. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_PRESENTATION, 1280, 720, 10), 0);
    for (int i = 1; i <= 6; i++)
        assert_true(l.tile[i].x >= l.tile[0].x + l.tile[0].w);
    assert_true(l.tile[0].h * 10 >= 720 * 8);
    /* Portrait: a 2x3 block under tile 0, which spans the width. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_PRESENTATION, 360, 640, 7), 0);
    assert_int_equal(l.tile[0].w, 360);
    assert_int_equal(l.tile[1].y, l.tile[2].y);
    assert_true(l.tile[3].y > l.tile[1].y);
    assert_true(l.tile[1].y >= l.tile[0].y + l.tile[0].h);
    /* A partial strip row is centred. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_SPEAKER, 1280, 720, 2), 0);
    assert_true(abs(l.tile[1].x - (1280 - l.tile[1].x - l.tile[1].w)) <= 2);
}

/* Grid choices people would expect. */
static void test_grid_shapes(void **state)
{
    (void)state;
    tf_layout_t l;
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 1), 0);
    assert_int_equal(l.tile[0].w, 1280);
    assert_int_equal(l.tile[0].h, 720);
    /* Two on a landscape canvas sit side by side, on a portrait one above each other. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 2), 0);
    assert_int_equal(l.tile[0].y, l.tile[1].y);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 360, 640, 2), 0);
    assert_int_equal(l.tile[0].x, l.tile[1].x);
    /* 4 -> 2x2, 9 -> 3x3, 49 -> 7x7 on 16:9. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 4), 0);
    assert_int_equal(l.tile[1].y, l.tile[0].y);
    assert_true(l.tile[2].y > l.tile[0].y);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 9), 0);
    assert_int_equal(l.tile[2].y, l.tile[0].y);
    assert_true(l.tile[3].y > l.tile[0].y);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 49), 0);
    assert_int_equal(l.tile[6].y, l.tile[0].y);
    assert_true(l.tile[7].y > l.tile[0].y);
    /* 5 on 16:9: 3 + 2, the 2 centred under the 3. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 5), 0);
    assert_int_equal(l.tile[2].y, l.tile[0].y);
    assert_true(l.tile[3].x > l.tile[0].x && l.tile[4].x + l.tile[4].w < 1280 - l.tile[0].x);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    tf_layout_t l, before;
    memset(&l, 0x33, sizeof(l));
    before = l;
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 0), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 720, 50), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1281, 720, 4), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 721, 4), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 62, 720, 4), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 1280, 0, 4), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, -1280, 720, 4), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, 16386, 720, 4), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, (tf_layout_kind_t)3, 1280, 720, 4), -EINVAL);
    assert_int_equal(tf_layout_compute(&l, (tf_layout_kind_t)-1, 1280, 720, 4), -EINVAL);
    assert_memory_equal(&l, &before, sizeof(l));
    assert_int_equal(tf_layout_compute(NULL, TF_LAYOUT_GRID, 1280, 720, 4), -EINVAL);
    /* The limits themselves are fine. */
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_GRID, TF_LAYOUT_MIN_CANVAS,
                                       TF_LAYOUT_MIN_CANVAS, TF_LAYOUT_MAX_TILES),
                     0);
    assert_int_equal(tf_layout_compute(&l, TF_LAYOUT_SPEAKER, TF_LAYOUT_MAX_CANVAS,
                                       TF_LAYOUT_MAX_CANVAS, TF_LAYOUT_MAX_TILES),
                     0);
}

static void test_kind_names(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        tf_layout_kind_t parsed = (tf_layout_kind_t)99;
        assert_int_equal(tf_layout_kind_parse(tf_layout_kind_name(kinds[k]), &parsed), 0);
        assert_int_equal(parsed, kinds[k]);
    }
    assert_string_equal(tf_layout_kind_name(TF_LAYOUT_GRID), "grid");
    assert_string_equal(tf_layout_kind_name(TF_LAYOUT_SPEAKER), "speaker");
    assert_string_equal(tf_layout_kind_name(TF_LAYOUT_PRESENTATION), "presentation");
    assert_string_equal(tf_layout_kind_name((tf_layout_kind_t)7), "unknown");
    tf_layout_kind_t k = TF_LAYOUT_SPEAKER;
    assert_int_equal(tf_layout_kind_parse("Grid", &k), -EINVAL);
    assert_int_equal(tf_layout_kind_parse("", &k), -EINVAL);
    assert_int_equal(tf_layout_kind_parse(NULL, &k), -EINVAL);
    assert_int_equal(tf_layout_kind_parse("grid", NULL), -EINVAL);
    assert_int_equal(k, TF_LAYOUT_SPEAKER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_n_every_kind_every_canvas),
        cmocka_unit_test(test_strip_placement),
        cmocka_unit_test(test_grid_shapes),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
