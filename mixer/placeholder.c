/* placeholder.c — no-video tile: name colour + bitmap initials; no system fonts, Latin only. */
#include "mixer/placeholder.h"

#include <stddef.h>
#include <string.h>

/* 5 x 7 glyphs, '#' = ink. Umlauts reuse the body of their base letter and add two dots two
 * rows above it (above cap height, as in print). */
typedef struct glyph {
    uint32_t code;
    char rows[7][6];
} glyph_t;

static const glyph_t font[] = {
    {'A', {".###.", "#...#", "#...#", "#...#", "#####", "#...#", "#...#"}},
    {'B', {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."}},
    {'C', {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."}},
    {'D', {"###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."}},
    {'E', {"#####", "#....", "#....", "####.", "#....", "#....", "#####"}},
    {'F', {"#####", "#....", "#....", "####.", "#....", "#....", "#...."}},
    {'G', {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"}},
    {'H', {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"}},
    {'I', {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'J', {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."}},
    {'K', {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"}},
    {'L', {"#....", "#....", "#....", "#....", "#....", "#....", "#####"}},
    {'M', {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"}},
    {'N', {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"}},
    {'O', {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'P', {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."}},
    {'Q', {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"}},
    {'R', {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"}},
    {'S', {".####", "#....", "#....", ".###.", "....#", "....#", "####."}},
    {'T', {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."}},
    {'U', {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."}},
    {'V', {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'W', {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."}},
    {'X', {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"}},
    {'Y', {"#...#", "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#.."}},
    {'Z', {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"}},
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {TF__PLACEHOLDER_PERSON, {".###.", "#####", "#####", ".###.", ".....", ".###.", "#####"}},
};

#define GLYPH_W 5
#define GLYPH_H 7
#define DOTS_ROW -2 /* umlaut dots, relative to the glyph's top row */
static const char umlaut_dots[] = ".#.#.";

/* Latin-1 letters U+00C0..U+00FF folded to the base letter; 'a', 'o', 'u' stand for Ä, Ö, Ü,
 * '*' for the two non-letters (× and ÷). */
static const char latin1_fold[] = "AAAAaAACEEEEIIIIDNOOOOo*OUUUuYTS"
                                  "AAAAaAACEEEEIIIIDNOOOOo*OUUUuYTY";
/* Latin Extended-A, U+0100..U+017F (Polish, Czech, Turkish, Hungarian, ... names). */
static const char latin_ext_a_fold[] = "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIII"
                                       "IIJJKKKLLLLLLLLLLNNNNNNNNNOOOOOOOORRRRRRSSSSSSSSTT"
                                       "TTTTUUUUUUUUUUUUWWYYYZZZZZZS";

_Static_assert(sizeof(latin1_fold) == 64 + 1, "latin1_fold covers U+00C0..U+00FF");
_Static_assert(sizeof(latin_ext_a_fold) == 128 + 1, "latin_ext_a_fold covers U+0100..U+017F");

/* Muted colours (sRGB), picked by a hash of the name: dark enough for light initials, never
 * saturated. */
static const uint8_t palette_rgb[][3] = {
    {72, 90, 128},  {52, 110, 112}, {88, 112, 84}, {110, 106, 70}, {132, 104, 62}, {136, 82, 68},
    {128, 78, 96},  {100, 76, 116}, {70, 76, 124}, {76, 100, 120}, {70, 100, 80},  {124, 112, 90},
    {112, 88, 110}, {44, 96, 110},  {124, 80, 56}, {96, 94, 124},
};
static const uint8_t neutral_rgb[3] = {80, 88, 100};

static void rgb_to_yuv(const uint8_t rgb[3], uint8_t yuv[3])
{
    int r = rgb[0], g = rgb[1], b = rgb[2];
    /* BT.601 limited range; the offsets keep every numerator positive before the shift. */
    yuv[0] = (uint8_t)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
    yuv[1] = (uint8_t)((-38 * r - 74 * g + 112 * b + 128 + 128 * 256) >> 8);
    yuv[2] = (uint8_t)((112 * r - 94 * g - 18 * b + 128 + 128 * 256) >> 8);
}

void tf__placeholder_colour(const char *name, uint8_t yuv[3])
{
    if (!name || !*name) {
        rgb_to_yuv(neutral_rgb, yuv);
        return;
    }
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    h ^= h >> 16; /* FNV's low bits mix poorly for short strings */
    rgb_to_yuv(palette_rgb[h % (sizeof(palette_rgb) / sizeof(palette_rgb[0]))], yuv);
}

/* Decodes one UTF-8 code point; returns its length (1 for an invalid byte, then *cp = 0). */
static int utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    int len = c < 0x80             ? 1
              : (c & 0xe0) == 0xc0 ? 2
              : (c & 0xf0) == 0xe0 ? 3
              : (c & 0xf8) == 0xf0 ? 4
                                   : 0;
    if (len == 1) {
        *cp = c;
        return 1;
    }
    *cp = 0;
    if (len == 0)
        return 1;
    uint32_t v = c & (0x7fu >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 1; /* also stops at the terminating NUL */
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min_for_len[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 1; /* overlong or not a scalar value */
    *cp = v;
    return len;
}

/* The glyph code for a code point, or 0 when it is nothing we draw. */
static uint32_t fold(uint32_t cp)
{
    if (cp >= 'a' && cp <= 'z')
        return cp - 'a' + 'A';
    if ((cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
        return cp;
    char f = 0;
    if (cp >= 0xc0 && cp <= 0xff)
        f = latin1_fold[cp - 0xc0];
    else if (cp >= 0x100 && cp <= 0x17f)
        f = latin_ext_a_fold[cp - 0x100];
    switch (f) {
    case 0:
    case '*':
        return 0;
    case 'a':
        return 0xc4;
    case 'o':
        return 0xd6;
    case 'u':
        return 0xdc;
    default:
        return (uint32_t)f;
    }
}

static int is_space(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == 0xa0;
}

int tf__placeholder_initials(const char *name, uint32_t glyphs[2])
{
    uint32_t first = 0, last = 0;
    int words = 0, in_word = 0, word_has = 0;
    const unsigned char *p = (const unsigned char *)(name ? name : "");
    while (*p) {
        uint32_t cp;
        p += utf8_next(p, &cp);
        if (is_space(cp)) {
            in_word = 0;
            continue;
        }
        if (!in_word) {
            in_word = 1;
            word_has = 0;
        }
        uint32_t g = fold(cp);
        if (!g || word_has)
            continue;
        word_has = 1;
        if (words++ == 0)
            first = g;
        else
            last = g;
    }
    if (!first) {
        glyphs[0] = TF__PLACEHOLDER_PERSON;
        return 1;
    }
    glyphs[0] = first;
    if (!last)
        return 1;
    glyphs[1] = last;
    return 2;
}

static const glyph_t *find_glyph(uint32_t code, int *dots)
{
    *dots = 0;
    if (code == 0xc4 || code == 0xd6 || code == 0xdc) {
        *dots = 1;
        code = code == 0xc4 ? 'A' : code == 0xd6 ? 'O' : 'U';
    }
    for (size_t i = 0; i < sizeof(font) / sizeof(font[0]); i++)
        if (font[i].code == code)
            return &font[i];
    return NULL;
}

static void fill_rect(uint8_t *plane, int stride, int x, int y, int w, int h, uint8_t v)
{
    for (int r = 0; r < h; r++)
        memset(plane + (ptrdiff_t)(y + r) * stride + x, v, (size_t)w);
}

static void draw_row(uint8_t *luma, int stride, const char *row, int x, int y, int scale,
                     uint8_t ink)
{
    for (int c = 0; c < GLYPH_W; c++)
        if (row[c] == '#')
            fill_rect(luma, stride, x + c * scale, y, scale, scale, ink);
}

void tf__placeholder_draw(tf_frame_t *canvas, const tf_rect_t *r, const char *name)
{
    uint8_t yuv[3];
    tf__placeholder_colour(name, yuv);
    fill_rect(canvas->plane[0], canvas->stride[0], r->x, r->y, r->w, r->h, yuv[0]);
    fill_rect(canvas->plane[1], canvas->stride[1], r->x / 2, r->y / 2, r->w / 2, r->h / 2, yuv[1]);
    fill_rect(canvas->plane[2], canvas->stride[2], r->x / 2, r->y / 2, r->w / 2, r->h / 2, yuv[2]);

    uint32_t glyphs[2];
    int count = tf__placeholder_initials(name, glyphs);
    /* Text is count glyphs with one empty column between them; its 7-row body takes about 40 %
     * of the tile's height and at most 70 % of its width. Room for the umlaut dots above the
     * body is always left, so the scale does not depend on which letters they are. */
    int cols = count * (GLYPH_W + 1) - 1;
    int scale_h = r->h * 40 / (100 * GLYPH_H), scale_w = r->w * 70 / (100 * cols);
    int scale = scale_h < scale_w ? scale_h : scale_w;
    if (scale < 1)
        return; /* too small for legible initials: the colour alone says "no video" */
    int text_w = cols * scale;
    int x0 = r->x + (r->w - text_w) / 2;
    int y0 = r->y + (r->h - GLYPH_H * scale) / 2;
    int ink = yuv[0] + 110;
    uint8_t ink_y = (uint8_t)(ink > 235 ? 235 : ink);
    for (int i = 0; i < count; i++) {
        int dots;
        const glyph_t *g = find_glyph(glyphs[i], &dots);
        if (!g)
            continue;
        int gx = x0 + i * (GLYPH_W + 1) * scale;
        for (int row = 0; row < GLYPH_H; row++)
            draw_row(canvas->plane[0], canvas->stride[0], g->rows[row], gx, y0 + row * scale, scale,
                     ink_y);
        if (dots)
            draw_row(canvas->plane[0], canvas->stride[0], umlaut_dots, gx, y0 + DOTS_ROW * scale,
                     scale, ink_y);
    }
}
