/* room_msg_fuzzer.c — libFuzzer target for server/room_msg.c: the room WebSocket's message
 * parser and the chat cleaner/escaper. Checks the promises, not only the absence of crashes:
 * cleaned text is valid UTF-8 without control characters and within the limit, and the escaped
 * text parses back as a JSON string equal to it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/room_msg.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_room_msg_t m;
    if (tf_room_msg_parse((const char *)data, size, &m) == 0) {
        CHECK(m.type >= TF_RMSG_MUTE && m.type <= TF_RMSG_SCREEN);
        CHECK(memchr(m.text, 0, sizeof(m.text)) && memchr(m.target, 0, sizeof(m.target)));
    }
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char clean[TF_CHAT_MAX_TEXT + 1];
    int n = tf_chat_clean(in, clean, sizeof(clean));
    if (n >= 0) {
        CHECK((size_t)n == strlen(clean) && n > 0 && n <= TF_CHAT_MAX_TEXT);
        for (int i = 0; i < n; i++)
            CHECK((unsigned char)clean[i] >= 0x20 && clean[i] != 0x7f);
        CHECK(clean[0] != ' ' && clean[n - 1] != ' ');
        char esc[TF_CHAT_MAX_TEXT * 6 + 3];
        esc[0] = '"';
        size_t e = tf_chat_escape(clean, esc + 1, sizeof(esc) - 2);
        esc[e + 1] = '"';
        json_error_t err;
        json_t *j = json_loadb(esc, e + 2, JSON_DECODE_ANY, &err); /* also checks UTF-8 */
        CHECK(j && json_is_string(j) && !strcmp(json_string_value(j), clean));
        json_decref(j);
    }
    free(in);
    return 0;
}
