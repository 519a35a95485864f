/* form.c — URL-encoded form fields in, JSON strings out (form.h). No I/O, no allocation. */
#include "server/form.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h> /* OPENSSL_hexchar2int */

/* Decodes src[0..n) into out; see tf_form_get for the errors. */
static int decode(const char *src, size_t n, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return -EINVAL;
            int hi = OPENSSL_hexchar2int((unsigned char)src[i + 1]),
                lo = OPENSSL_hexchar2int((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return -EINVAL;
        if (j + 1 >= cap)
            return -EINVAL;
        out[j++] = (char)c;
    }
    out[j] = '\0';
    return 0;
}

int tf_form_get(const char *body, size_t len, const char *key, char *out, size_t cap)
{
    if (!out || cap == 0 || !key)
        return -EINVAL;
    out[0] = '\0';
    size_t klen = strlen(key);
    int found = 0;
    const char *p = body, *end = body ? body + len : NULL;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fe = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(fe - p));
        const char *ke = eq ? eq : fe;
        if ((size_t)(ke - p) == klen && memcmp(p, key, klen) == 0) {
            if (found++)
                return -EINVAL;
            const char *v = eq ? eq + 1 : fe;
            int rc = decode(v, (size_t)(fe - v), out, cap);
            if (rc < 0) {
                out[0] = '\0';
                return rc;
            }
        }
        p = amp ? amp + 1 : end;
    }
    return found ? 0 : -ENOENT;
}

int tf_json_escape(char *out, size_t cap, const char *in)
{
    if (cap == 0)
        return -ENOBUFS;
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)in; p && *p; p++) {
        char esc[8];
        size_t n;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            n = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
        } else {
            esc[0] = (char)*p;
            n = 1;
        }
        if (j + n >= cap) {
            out[j] = '\0';
            return -ENOBUFS;
        }
        memcpy(out + j, esc, n);
        j += n;
    }
    out[j] = '\0';
    return 0;
}
