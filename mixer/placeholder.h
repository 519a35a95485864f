/* placeholder.h — internal to mixer/: the tile shown for a participant without video.
 *
 * A calm colour derived from the name and the name's initials drawn large with a small built-in
 * bitmap font (A-Z, 0-9, Ä Ö Ü; other Latin letters fold to their base letter). No fonts from
 * the system, no anti-aliasing, no scripts beyond Latin: a name with nothing drawable gets a
 * person symbol. */
#ifndef TF_PLACEHOLDER_H
#define TF_PLACEHOLDER_H

#include <stdint.h>

#include "codec/frame.h"
#include "mixer/layout.h"

#define TF__PLACEHOLDER_PERSON 0xE000 /* glyph code of the person symbol (a private-use code) */

/* The placeholder background of name as Y, U, V (BT.601 limited range). The same name always
 * gives the same colour; NULL and "" give a neutral slate. */
void tf__placeholder_colour(const char *name, uint8_t yuv[3]);

/* The initials of a UTF-8 name as glyph codes: the first drawable letter or digit of the first
 * and of the last word ("Anna-Lena Müller" -> 'A', 'M'), upper case, as Unicode code points
 * ('A'..'Z', '0'..'9', 0xC4 Ä, 0xD6 Ö, 0xDC Ü). Returns how many (1 or 2); a name with nothing
 * drawable (NULL, empty, only other scripts or emoji) gives one TF__PLACEHOLDER_PERSON.
 * Invalid UTF-8 is skipped byte by byte. */
int tf__placeholder_initials(const char *name, uint32_t glyphs[2]);

/* Fills r (even x, y, w, h, inside canvas) with name's colour and draws its initials centred,
 * in a light tint of the same hue (luma only). Initials are left out when r is too small. */
void tf__placeholder_draw(tf_frame_t *canvas, const tf_rect_t *r, const char *name);

#endif
