/* websession.c — Cookie parsing, Set-Cookie formatting, the teacher session table and CSRF
 * tokens (websession.h). No clock, no sockets: time and randomness come from the caller.
 *
 * The table is a plain array searched linearly with a constant-time compare per entry: a few
 * thousand teachers at most are logged in to one server, and a linear walk over them costs
 * microseconds, while a hash table keyed by the secret would leak timing about it. */
#include "server/websession.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tf_websession_table {
    tf_websession_config_t cfg;
    tf_websession_t *s;
    int n;
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

int tf_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    if (!out || cap == 0 || !name || !*name)
        return -EINVAL;
    out[0] = '\0';
    if (!header)
        return -ENOENT;
    size_t nlen = strlen(name);
    int found = 0;
    const char *p = header;
    while (*p) {
        while (is_ws(*p) || *p == ';')
            p++;
        const char *pair = p, *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        p = end;
        const char *eq = memchr(pair, '=', (size_t)(end - pair));
        if (!eq)
            continue; /* RFC 6265 §5.2: a pair without '=' is ignored */
        const char *ne = eq;
        while (ne > pair && is_ws(ne[-1]))
            ne--;
        if ((size_t)(ne - pair) != nlen || memcmp(pair, name, nlen) != 0)
            continue;
        if (found++) {
            out[0] = '\0';
            return -EINVAL; /* the same name twice: maybe a cookie tossed in by a sibling host */
        }
        const char *v = eq + 1, *ve = end;
        while (v < ve && is_ws(*v))
            v++;
        while (ve > v && is_ws(ve[-1]))
            ve--;
        if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        size_t vlen = (size_t)(ve - v);
        if (vlen + 1 > cap)
            return -EINVAL;
        for (size_t i = 0; i < vlen; i++) {
            unsigned char c = (unsigned char)v[i];
            if (c < 0x21 || c == 0x7f || c == '"' || c == ',' || c == '\\')
                return -EINVAL; /* not a cookie-octet (RFC 6265 §4.1.1) */
        }
        memcpy(out, v, vlen);
        out[vlen] = '\0';
    }
    return found ? 0 : -ENOENT;
}

int tf_cookie_format(char *out, size_t cap, const char *name, const char *value, long max_age,
                     int secure)
{
    char age[40] = "";
    if (max_age >= 0)
        snprintf(age, sizeof(age), "; Max-Age=%ld", max_age);
    int n = snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name, value,
                     secure ? "; Secure" : "", age);
    return n < 0 || (size_t)n >= cap ? -ENOBUFS : 0;
}

int tf_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= x[i] ^ y[i];
    return d == 0;
}

int tf_ct_streq(const char *a, const char *b)
{
    if (!a || !b)
        return 0;
    size_t n = strlen(a);
    if (n != strlen(b))
        return 0;
    return tf_ct_equal(a, b, n);
}

int tf_random_hex(tf_random_fn rnd, char *out, size_t cap, size_t nbytes)
{
    uint8_t buf[64];
    if (nbytes > sizeof(buf) || cap < 2 * nbytes + 1 || !rnd)
        return -EINVAL;
    if (rnd(buf, nbytes) < 0)
        return -EIO;
    static const char hexd[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hexd[buf[i] >> 4];
        out[2 * i + 1] = hexd[buf[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

int tf_websession_table_create(tf_websession_table_t **out, const tf_websession_config_t *cfg)
{
    *out = NULL;
    if (!cfg || cfg->capacity <= 0 || cfg->idle_s <= 0 || cfg->absolute_s <= 0 || !cfg->random)
        return -EINVAL;
    tf_websession_table_t *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->cfg = *cfg;
    t->s = calloc((size_t)cfg->capacity, sizeof(*t->s));
    if (!t->s) {
        free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

void tf_websession_table_destroy(tf_websession_table_t **tp)
{
    tf_websession_table_t *t = *tp;
    if (!t)
        return;
    *tp = NULL;
    memset(t->s, 0, (size_t)t->cfg.capacity * sizeof(*t->s)); /* no secrets left in freed memory */
    free(t->s);
    free(t);
}

static void remove_at(tf_websession_table_t *t, int i)
{
    t->s[i] = t->s[t->n - 1];
    memset(&t->s[t->n - 1], 0, sizeof(t->s[0]));
    t->n--;
}

static int expired(const tf_websession_table_t *t, const tf_websession_t *s, int64_t now)
{
    return now - s->last_seen >= t->cfg.idle_s || now - s->created >= t->cfg.absolute_s ||
           now < s->created; /* the clock went back a lot: do not trust old sessions */
}

int tf_websession_create(tf_websession_table_t *t, int64_t now, int64_t teacher_id,
                         const char *email, tf_websession_t **out)
{
    *out = NULL;
    if (!email || strlen(email) >= sizeof(t->s[0].email))
        return -EINVAL;
    tf_websession_expire(t, now);
    if (t->n == t->cfg.capacity) { /* full: the least recently used goes */
        int lru = 0;
        for (int i = 1; i < t->n; i++)
            if (t->s[i].last_seen < t->s[lru].last_seen)
                lru = i;
        remove_at(t, lru);
    }
    tf_websession_t *s = &t->s[t->n];
    memset(s, 0, sizeof(*s));
    if (tf_random_hex(t->cfg.random, s->id, sizeof(s->id), TF_WEBSESSION_ID_BYTES) < 0 ||
        tf_random_hex(t->cfg.random, s->csrf, sizeof(s->csrf), TF_WEBSESSION_ID_BYTES) < 0) {
        memset(s, 0, sizeof(*s));
        return -EIO;
    }
    s->teacher_id = teacher_id;
    snprintf(s->email, sizeof(s->email), "%s", email);
    s->created = s->last_seen = now;
    t->n++;
    *out = s;
    return 0;
}

static int find_index(const tf_websession_table_t *t, const char *id)
{
    if (!id || strlen(id) != TF_WEBSESSION_ID_LEN)
        return -1;
    int hit = -1;
    for (int i = 0; i < t->n; i++) /* no early exit: the walk takes as long for a miss */
        if (tf_ct_equal(t->s[i].id, id, TF_WEBSESSION_ID_LEN))
            hit = i;
    return hit;
}

tf_websession_t *tf_websession_find(tf_websession_table_t *t, const char *id, int64_t now)
{
    int i = find_index(t, id);
    if (i < 0)
        return NULL;
    if (expired(t, &t->s[i], now)) {
        remove_at(t, i);
        return NULL;
    }
    t->s[i].last_seen = now;
    return &t->s[i];
}

int tf_websession_delete(tf_websession_table_t *t, const char *id)
{
    int i = find_index(t, id);
    if (i < 0)
        return -ENOENT;
    remove_at(t, i);
    return 0;
}

int tf_websession_delete_teacher(tf_websession_table_t *t, int64_t teacher_id)
{
    int n = 0;
    for (int i = t->n - 1; i >= 0; i--)
        if (t->s[i].teacher_id == teacher_id) {
            remove_at(t, i);
            n++;
        }
    return n;
}

int tf_websession_expire(tf_websession_table_t *t, int64_t now)
{
    int n = 0;
    for (int i = t->n - 1; i >= 0; i--)
        if (expired(t, &t->s[i], now)) {
            remove_at(t, i);
            n++;
        }
    return n;
}

int tf_websession_count(const tf_websession_table_t *t)
{
    return t->n;
}

int tf_websession_csrf_ok(const tf_websession_t *s, const char *token)
{
    return s && tf_ct_streq(s->csrf, token);
}
