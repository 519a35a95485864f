/* cookie_fuzzer.c — libFuzzer target for tf_cookie_get (server/websession.c): the input is a
 * Cookie header. Whatever it accepts must be a run of cookie-octets that fits the buffer, and
 * must come back unchanged when put alone into a fresh header; it checks properties, not
 * which cookie an ambiguous header means (test_websession.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/websession.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "cookie_fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #c);                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *hdr, const char *name, size_t cap)
{
    char v[128], again[128], line[300];
    int rc = tf_cookie_get(hdr, name, v, cap);
    if (rc != 0)
        return;
    size_t n = strlen(v);
    CHECK(n + 1 <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        CHECK(c > 0x20 && c != 0x7f && c != '"' && c != ',' && c != ';' && c != '\\');
    }
    snprintf(line, sizeof(line), "%s=%s", name, v);
    CHECK(tf_cookie_get(line, name, again, sizeof(again)) == 0);
    CHECK(strcmp(v, again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *hdr = malloc(size + 1);
    if (!hdr)
        return 0;
    memcpy(hdr, data, size);
    hdr[size] = '\0';
    one(hdr, TF_WEBSESSION_COOKIE, 65);
    one(hdr, "a", 8);
    one(hdr, "s", 128);
    free(hdr);
    return 0;
}
