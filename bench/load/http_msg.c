/* http_msg.c — HTTP/1.1 response and WebSocket frame parsing, client frames, and Tafel's room
 * events (cJSON) for the load generator. No sockets, no clock, no allocation except cJSON's. */
#include "bench/load/http_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#define MAX_HEADERS 16384
#define MAX_FRAME (1u << 20)

static const char *find_crlfcrlf(const char *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

int tf_load_http_parse(const char *buf, size_t len, bool eof, tf_load_http_resp_t *out)
{
    memset(out, 0, sizeof(*out));
    const char *end = find_crlfcrlf(buf, len < MAX_HEADERS ? len : MAX_HEADERS);
    if (!end)
        return len >= MAX_HEADERS ? -E2BIG : -EAGAIN;
    out->header_len = (size_t)(end - buf) + 4;
    /* "HTTP/1.x NNN reason" */
    if (end - buf < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || buf[9] < '1' ||
        buf[9] > '5' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9')
        return -EPROTO;
    out->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    long content_length = -1;
    bool upgrade = false;
    const char *line = memchr(buf, '\n', (size_t)(end - buf));
    while (line && line < end) {
        line++; /* past '\n' */
        const char *eol = memchr(line, '\r', (size_t)(end + 2 - line));
        if (!eol || eol[1] != '\n')
            return -EPROTO;
        if (eol == line)
            break;
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line)
            return -EPROTO;
        size_t nlen = (size_t)(colon - line);
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(eol - v);
        if (nlen == 14 && !strncasecmp(line, "Content-Length", 14)) {
            char num[24];
            if (vlen == 0 || vlen >= sizeof(num))
                return -EPROTO;
            memcpy(num, v, vlen);
            num[vlen] = 0;
            char *e;
            content_length = strtol(num, &e, 10);
            if (*e || content_length < 0)
                return -EPROTO;
        } else if (nlen == 8 && !strncasecmp(line, "Location", 8)) {
            size_t n = vlen < sizeof(out->location) - 1 ? vlen : sizeof(out->location) - 1;
            memcpy(out->location, v, n);
            out->location[n] = 0;
        } else if (nlen == 7 && !strncasecmp(line, "Upgrade", 7)) {
            upgrade = vlen == 9 && !strncasecmp(v, "websocket", 9);
        }
        line = eol + 1;
    }
    out->body = buf + out->header_len;
    if (out->status == 101) {
        out->upgrade = upgrade;
        return (int)out->header_len;
    }
    size_t avail = len - out->header_len;
    if (content_length >= 0) {
        if (avail < (size_t)content_length)
            return -EAGAIN;
        out->body_len = (size_t)content_length;
    } else {
        if (!eof)
            return -EAGAIN;
        out->body_len = avail;
    }
    return (int)(out->header_len + out->body_len);
}

int tf_load_ws_parse(uint8_t *buf, size_t len, tf_load_ws_frame_t *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 2)
        return -EAGAIN;
    /*  0                   1                   2                   3
     *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
     * +-+-+-+-+-------+-+-------------+-------------------------------+
     * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
     * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
     * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
     * (RFC 6455 §5.2), then the masking key if M, then the payload. */
    if (buf[0] & 0x70)
        return -EPROTO;
    uint8_t op = buf[0] & 0x0F;
    if (op > 2 && op < 8)
        return -EPROTO;
    if (op > 10)
        return -EPROTO;
    bool masked = buf[1] & 0x80;
    uint64_t plen = buf[1] & 0x7F;
    size_t off = 2;
    if (plen == 126) {
        if (len < 4)
            return -EAGAIN;
        plen = (uint64_t)buf[2] << 8 | buf[3];
        off = 4;
    } else if (plen == 127) {
        if (len < 10)
            return -EAGAIN;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = plen << 8 | buf[2 + i];
        off = 10;
    }
    if (op >= 8 && (plen > 125 || !(buf[0] & 0x80)))
        return -EPROTO;
    if (plen > MAX_FRAME)
        return -E2BIG;
    uint8_t key[4] = {0};
    if (masked) {
        if (len < off + 4)
            return -EAGAIN;
        memcpy(key, buf + off, 4);
        off += 4;
    }
    if (len - off < plen)
        return -EAGAIN;
    if (masked)
        for (size_t i = 0; i < plen; i++)
            buf[off + i] ^= key[i % 4];
    out->fin = buf[0] & 0x80;
    out->opcode = op;
    out->payload = buf + off;
    out->len = (size_t)plen;
    return (int)(off + plen);
}

int tf_load_ws_build(uint8_t opcode, const uint8_t *payload, size_t len, uint32_t mask_key,
                     uint8_t *out, size_t cap)
{
    size_t hdr = len < 126 ? 2 : len < 65536 ? 4 : 10;
    if (cap < hdr + 4 + len)
        return -ENOBUFS;
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        out[1] = 0x80 | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    uint8_t key[4] = {(uint8_t)(mask_key >> 24), (uint8_t)(mask_key >> 16),
                      (uint8_t)(mask_key >> 8), (uint8_t)mask_key};
    memcpy(out + hdr, key, 4);
    for (size_t i = 0; i < len; i++)
        out[hdr + 4 + i] = payload[i] ^ key[i % 4];
    return (int)(hdr + 4 + len);
}

int tf_load_tier_rank(const char *tier)
{
    static const char *const names[] = {"audio", "low", "medium", "high"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(tier, names[i]))
            return i;
    return -1;
}

static int get_int(const cJSON *o, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < -1e9 || v->valuedouble > 1e9)
        return -EPROTO;
    *out = (int)v->valuedouble;
    return 0;
}

static int get_tier(const cJSON *o, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "tier");
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return -EPROTO;
    snprintf(out, cap, "%s", v->valuestring);
    return 0;
}

static int parse_tiles(const cJSON *tiles, tf_load_event_t *out)
{
    if (!cJSON_IsArray(tiles))
        return -EPROTO;
    const cJSON *t;
    cJSON_ArrayForEach(t, tiles)
    {
        if (out->n_tiles == TF_LOAD_MAX_TILES)
            break;
        int id, x, y, w, h;
        if (get_int(t, "id", &id) || get_int(t, "x", &x) || get_int(t, "y", &y) ||
            get_int(t, "w", &w) || get_int(t, "h", &h) || id < 0)
            return -EPROTO;
        out->tile_id[out->n_tiles] = (uint32_t)id;
        out->tile[out->n_tiles++] = (tf_rect_t){x, y, w, h};
    }
    return 0;
}

int tf_load_event_parse(const char *json, size_t len, tf_load_event_t *out)
{
    memset(out, 0, sizeof(*out));
    cJSON *root = cJSON_ParseWithLength(json, len);
    int rc = -EPROTO;
    const cJSON *type = root ? cJSON_GetObjectItemCaseSensitive(root, "type") : NULL;
    if (!cJSON_IsObject(root) || !cJSON_IsString(type))
        goto out;
    int v;
    if (!strcmp(type->valuestring, "welcome")) {
        out->kind = TF_LOAD_EV_WELCOME;
        if (get_int(root, "member", &v) || v < 0)
            goto out;
        out->member = (uint32_t)v;
    } else if (!strcmp(type->valuestring, "layout")) {
        out->kind = TF_LOAD_EV_LAYOUT;
        if (get_tier(root, out->tier, sizeof(out->tier)) || get_int(root, "width", &out->width) ||
            get_int(root, "height", &out->height) ||
            parse_tiles(cJSON_GetObjectItemCaseSensitive(root, "tiles"), out))
            goto out;
    } else if (!strcmp(type->valuestring, "tier")) {
        out->kind = TF_LOAD_EV_TIER;
        if (get_tier(root, out->tier, sizeof(out->tier)))
            goto out;
        get_int(root, "width", &out->width);
        get_int(root, "height", &out->height);
        get_int(root, "estimate_kbps", &out->estimate_kbps);
        out->audio_only = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "audio_only"));
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(root, "reason");
        if (cJSON_IsString(why))
            snprintf(out->reason, sizeof(out->reason), "%s", why->valuestring);
    } else if (!strcmp(type->valuestring, "uplink")) {
        out->kind = TF_LOAD_EV_UPLINK;
        if (get_int(root, "width", &out->width) || get_int(root, "height", &out->height) ||
            get_int(root, "kbps", &out->kbps) || out->width <= 0 || out->height <= 0 ||
            out->kbps <= 0)
            goto out;
    } else {
        out->kind = TF_LOAD_EV_OTHER;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}
