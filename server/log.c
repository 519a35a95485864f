/* log.c — timestamped log lines on stderr. The level is the one piece of process-wide state the
 * server keeps outside main.c: set once before the loop starts, read-only afterwards. */
#include "server/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/hmac.h>
#include <openssl/rand.h>

static int max_level = TF_LOG_INFO;
static int personal_data;          /* like max_level: set once at start-up */
static unsigned char room_key[32]; /* HMAC key for room pseudonyms, drawn at start-up */

void tf_log_set_level(int level) { max_level = level; }

void tf_log(int level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%03ld %-5s %s\n", ts, now.tv_nsec / 1000000, names[level & 3], line);
}

void tf_log_set_personal_data(int on)
{
    personal_data = on;
    if (RAND_bytes(room_key, sizeof(room_key)) != 1)
        memset(room_key, 0x5a, sizeof(room_key)); /* still a pseudonym, only a guessable one */
}

#define HELPER_BUFS 8
#define HELPER_LEN 320

static char *next_buf(void)
{
    static _Thread_local char bufs[HELPER_BUFS][HELPER_LEN];
    static _Thread_local unsigned next;
    return bufs[next++ % HELPER_BUFS];
}

const char *tf_log_addr(const char *addr)
{
    if (!addr || personal_data)
        return addr ? addr : "-";
    char *b = next_buf();
    unsigned o[4];
    char tail;
    if (sscanf(addr, "%3u.%3u.%3u.%3u%c", &o[0], &o[1], &o[2], &o[3], &tail) >= 4 &&
        o[0] < 256 && o[1] < 256 && o[2] < 256) {
        snprintf(b, HELPER_LEN, "%u.%u.%u.x", o[0], o[1], o[2]);
        return b;
    }
    /* IPv6 ("[2001:db8::1]:443" or "2001:db8::1"): keep the first three groups as written. */
    const char *p = addr + (addr[0] == '[');
    size_t i = 0, colons = 0;
    while (p[i] && p[i] != ']' && i + 4 < HELPER_LEN) {
        if (p[i] == ':' && ++colons == 3)
            break;
        if (p[i] == ':' && p[i + 1] == ':')
            break; /* "::" before the third group: the rest is zeros or the host */
        i++;
    }
    if (colons == 0) {
        snprintf(b, HELPER_LEN, "-");
        return b;
    }
    snprintf(b, HELPER_LEN, "%.*s::x", (int)i, p);
    return b;
}

const char *tf_log_room(const char *room)
{
    if (!room || personal_data)
        return room ? room : "-";
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), room_key, sizeof(room_key), (const unsigned char *)room, strlen(room), mac,
         &len);
    char *b = next_buf();
    snprintf(b, HELPER_LEN, "room-%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3]);
    return b;
}

const char *tf_log_name(const char *name)
{
    if (!name || !personal_data)
        return "-";
    return name;
}

const char *tf_log_path(const char *path)
{
    if (!path || personal_data)
        return path ? path : "-";
    /* Segments that are fixed words of the API stay; anything else may be a room, a session or
     * a token and is replaced. */
    static const char *const words[] = {"api", "rooms", "whip", "r", "ws", "auth", "oidc",
                                        "login", "logout", "me", "callback", "lobby", "admit",
                                        "deny", "mute", "unmute", "video", "remove", "lock",
                                        "unlock", "spotlight", "layout", "end", "pin", "join",
                                        "participants", "stats", "metrics", "readyz",
                                        "healthz", "support", "audit", "token"};
    char *b = next_buf();
    size_t o = 0;
    const char *p = path;
    while (*p && o + 16 < HELPER_LEN) {
        if (*p == '/') {
            b[o++] = *p++;
            continue;
        }
        size_t n = strcspn(p, "/");
        int word = 0;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strlen(words[i]) == n && !strncmp(words[i], p, n))
                word = 1;
        int file = memchr(p, '.', n) != NULL && p[n] == '\0'; /* "room.html", "app.js" */
        if (word || file) {
            int w = snprintf(b + o, HELPER_LEN - o, "%.*s", (int)n, p);
            o += (size_t)w < HELPER_LEN - o ? (size_t)w : HELPER_LEN - o - 1;
        } else {
            char seg[128];
            snprintf(seg, sizeof(seg), "%.*s", (int)(n < sizeof(seg) ? n : sizeof(seg) - 1), p);
            int w = snprintf(b + o, HELPER_LEN - o, "%s", tf_log_room(seg));
            o += (size_t)w < HELPER_LEN - o ? (size_t)w : HELPER_LEN - o - 1;
        }
        p += n;
    }
    b[o] = '\0';
    return b;
}

void tf_log_scrub_line(char *line)
{
    if (personal_data)
        return;
    for (char *p = line; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > line && (isalnum((unsigned char)p[-1]) ||
                                                         p[-1] == '.')))
            continue;
        unsigned a, b, c, d;
        int n = 0;
        if (sscanf(p, "%3u.%3u.%3u.%3u%n", &a, &b, &c, &d, &n) == 4 && n > 0 && a < 256 &&
            b < 256 && c < 256 && d < 256) {
            /* Overwrite the last octet with 'x' and spaces would shift text: keep the length by
             * writing x's over the digits. */
            char *last = p + n;
            while (last > p && isdigit((unsigned char)last[-1]))
                *--last = 'x';
            p += n - 1;
        }
    }
}
