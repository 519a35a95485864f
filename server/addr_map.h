/* addr_map.h — 5-tuple → session lookup for the UDP demux: open addressing, grows by doubling,
 * no allocation on lookup. The local half of the 5-tuple is the one shared socket, so the key is
 * the peer's address. */
#ifndef TF_ADDR_MAP_H
#define TF_ADDR_MAP_H

#include <stddef.h>

#include "server/rtc/addr.h"

typedef struct tf_addr_map {
    struct tf_addr_map_slot *slots;
    size_t cap, used, tombs;
} tf_addr_map_t;

void tf_addr_map_init(tf_addr_map_t *m);
void tf_addr_map_free(tf_addr_map_t *m);

/* Inserts or replaces. 0 or -ENOMEM. */
int tf_addr_map_put(tf_addr_map_t *m, const tf_addr_t *key, void *value);
/* The value for key, or NULL. */
void *tf_addr_map_get(const tf_addr_map_t *m, const tf_addr_t *key);
/* Removes key if it maps to value (so a stale owner cannot remove a newer one). */
void tf_addr_map_del(tf_addr_map_t *m, const tf_addr_t *key, const void *value);

#endif
