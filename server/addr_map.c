/* addr_map.c — open-addressing hash map from peer address to session (linear probing with
 * tombstones; rehash when more than half full). */
#include "server/addr_map.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct tf_addr_map_slot {
    tf_addr_t key;
    void *value; /* NULL: empty; TOMB: deleted */
} slot_t;

static char tomb_marker;
#define TOMB ((void *)&tomb_marker)

static uint64_t hash(const tf_addr_t *a)
{
    /* FNV-1a over the bytes that matter. */
    uint64_t h = 1469598103934665603ull;
    size_t n = a->family == TF_ADDR_V4 ? 4 : 16;
    for (size_t i = 0; i < n; i++)
        h = (h ^ a->ip[i]) * 1099511628211ull;
    h = (h ^ (a->port & 0xff)) * 1099511628211ull;
    h = (h ^ (a->port >> 8)) * 1099511628211ull;
    return h ^ a->family;
}

void tf_addr_map_init(tf_addr_map_t *m)
{
    m->slots = NULL;
    m->cap = m->used = m->tombs = 0;
}

void tf_addr_map_free(tf_addr_map_t *m)
{
    free(m->slots);
    tf_addr_map_init(m);
}

static int grow(tf_addr_map_t *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    while (m->used * 2 >= ncap)
        ncap *= 2;
    slot_t *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        slot_t *s = &m->slots[i];
        if (!s->value || s->value == TOMB)
            continue;
        size_t j = hash(&s->key) & (ncap - 1);
        while (ns[j].value)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->tombs = 0;
    return 0;
}

static slot_t *find(const tf_addr_map_t *m, const tf_addr_t *key)
{
    if (!m->cap)
        return NULL;
    for (size_t j = hash(key) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        slot_t *s = &m->slots[j];
        if (!s->value)
            return NULL;
        if (s->value != TOMB && tf_addr_equal(&s->key, key))
            return s;
    }
}

int tf_addr_map_put(tf_addr_map_t *m, const tf_addr_t *key, void *value)
{
    slot_t *s = find(m, key);
    if (s) {
        s->value = value;
        return 0;
    }
    if ((m->used + m->tombs + 1) * 2 > m->cap && grow(m) < 0)
        return -ENOMEM;
    size_t j = hash(key) & (m->cap - 1);
    while (m->slots[j].value && m->slots[j].value != TOMB)
        j = (j + 1) & (m->cap - 1);
    if (m->slots[j].value == TOMB)
        m->tombs--;
    m->slots[j].key = *key;
    m->slots[j].value = value;
    m->used++;
    return 0;
}

void *tf_addr_map_get(const tf_addr_map_t *m, const tf_addr_t *key)
{
    slot_t *s = find(m, key);
    return s ? s->value : NULL;
}

void tf_addr_map_del(tf_addr_map_t *m, const tf_addr_t *key, const void *value)
{
    slot_t *s = find(m, key);
    if (!s || s->value != value)
        return;
    s->value = TOMB;
    m->used--;
    m->tombs++;
}
