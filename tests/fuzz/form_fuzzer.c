/* form_fuzzer.c — libFuzzer target for tf_form_get and tf_json_escape (server/form.c): the
 * input is a form body. An accepted value holds no control characters, fits its buffer, and
 * survives percent-encoding and parsing again; its JSON escape contains no raw control
 * character or unescaped quote. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/form.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "form_fuzzer: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const char *key, size_t cap)
{
    char v[256], again[256], enc[1024], json[2048];
    if (tf_form_get((const char *)data, size, key, v, cap) != 0)
        return;
    size_t n = strlen(v), j = 0;
    CHECK(n + 1 <= cap);
    j += (size_t)snprintf(enc, sizeof(enc), "x=1&%s=", key);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        CHECK(c >= 0x20 && c != 0x7f);
        j += (size_t)snprintf(enc + j, sizeof(enc) - j, "%%%02X", c);
    }
    CHECK(tf_form_get(enc, j, key, again, sizeof(again)) == 0);
    CHECK(strcmp(v, again) == 0);
    CHECK(tf_json_escape(json, sizeof(json), v) == 0);
    for (size_t i = 0; json[i]; i++) {
        CHECK((unsigned char)json[i] >= 0x20);
        if (json[i] == '\\')
            i++; /* the escaped character */
        else
            CHECK(json[i] != '"');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, "name", 65);
    one(data, size, "pin", 16);
    one(data, size, "a", 256);
    return 0;
}
