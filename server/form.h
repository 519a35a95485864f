/* form.h — the text in and out of the small REST API: application/x-www-form-urlencoded request
 * bodies (what URLSearchParams and HTML forms send) and JSON string escaping for replies.
 * Sans-IO, no allocation. */
#ifndef TF_FORM_H
#define TF_FORM_H

#include <stddef.h>

/* Finds key in body[0..len) ("a=1&b=x%20y"), URL-decodes its value ('+' is a space) into out.
 * 0; -ENOENT when absent; -EINVAL for a bad %-escape, a decoded control character (below 0x20
 * or 0x7f) or NUL, a value longer than cap - 1, or key given twice. */
int tf_form_get(const char *body, size_t len, const char *key, char *out, size_t cap);

/* Writes in as the inside of a JSON string (quotes, backslashes and control characters
 * escaped). 0, or -ENOBUFS when it does not fit (out then holds a truncated, valid prefix). */
int tf_json_escape(char *out, size_t cap, const char *in);

#endif
