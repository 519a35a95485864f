/* store_internal.h — the store's private state, shared by store.c and store_erase.c only. */
#ifndef TF_STORE_INTERNAL_H
#define TF_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

struct tf_store {
    sqlite3 *db;
    uint32_t pw_t_cost, pw_m_cost_kib;
};

#endif
