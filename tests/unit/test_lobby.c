/* test_lobby.c — lobby.c: queue order per room, admit/deny answered on the next poll, a pupil
 * who stops polling leaves, join tokens are single-use, bound to their room and expire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/lobby.h"

static uint32_t seed = 7;

static int fake_random(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1664525u + 1013904223u;
        buf[i] = (uint8_t)(seed >> 24);
    }
    return 0;
}

typedef struct seen {
    char names[8][65];
    int n;
} seen_t;

static void collect(void *ud, const tf_lobby_entry_t *e)
{
    seen_t *s = ud;
    snprintf(s->names[s->n++], 65, "%s", e->name);
}

static tf_lobby_t *make(int cap)
{
    tf_lobby_config_t cfg = {
        .capacity = cap, .wait_s = 30, .token_ttl_s = 60, .random = fake_random};
    tf_lobby_t *l = NULL;
    assert_int_equal(tf_lobby_create(&l, &cfg), 0);
    return l;
}

static void test_queue(void **state)
{
    (void)state;
    tf_lobby_t *l = make(4);
    tf_lobby_entry_t *e;
    char t_ada[TF_LOBBY_TICKET_LEN + 1], t_ben[TF_LOBBY_TICKET_LEN + 1];
    assert_int_equal(tf_lobby_enqueue(l, "room1", "Ada", 100, &e), 0);
    memcpy(t_ada, e->ticket, sizeof(t_ada));
    assert_int_equal(tf_lobby_enqueue(l, "room2", "Zoe", 101, &e), 0);
    assert_int_equal(tf_lobby_enqueue(l, "room1", "Ben", 102, &e), 0);
    memcpy(t_ben, e->ticket, sizeof(t_ben));
    assert_string_not_equal(t_ada, t_ben);
    seen_t s = {0};
    assert_int_equal(tf_lobby_list(l, "room1", 103, collect, &s), 2);
    assert_string_equal(s.names[0], "Ada");
    assert_string_equal(s.names[1], "Ben");

    tf_lobby_state_t st;
    char tok[TF_JOIN_TOKEN_LEN + 1] = "";
    assert_int_equal(tf_lobby_poll(l, "room1", t_ada, 110, &st, tok, sizeof(tok)), 0);
    assert_int_equal(st, TF_LOBBY_WAITING);
    /* Another room's teacher cannot admit Ada, and Ada's ticket is no good in room2. */
    assert_int_equal(tf_lobby_admit(l, "room2", t_ada), -ENOENT);
    assert_int_equal(tf_lobby_poll(l, "room2", t_ada, 111, &st, tok, sizeof(tok)), -ENOENT);
    assert_int_equal(tf_lobby_admit(l, "room1", t_ada), 0);
    assert_int_equal(tf_lobby_admit(l, "room1", t_ada), -ENOENT); /* answered already */
    assert_int_equal(tf_lobby_deny(l, "room1", t_ben), 0);
    s.n = 0;
    assert_int_equal(tf_lobby_list(l, "room1", 112, collect, &s), 0);
    /* The answers arrive on the next poll; then the tickets are gone. */
    assert_int_equal(tf_lobby_poll(l, "room1", t_ada, 113, &st, tok, sizeof(tok)), 0);
    assert_int_equal(st, TF_LOBBY_ADMITTED);
    assert_int_equal(strlen(tok), TF_JOIN_TOKEN_LEN);
    assert_int_equal(tf_lobby_poll(l, "room1", t_ada, 114, &st, tok, sizeof(tok)), -ENOENT);
    char tok2[TF_JOIN_TOKEN_LEN + 1] = "";
    assert_int_equal(tf_lobby_poll(l, "room1", t_ben, 113, &st, tok2, sizeof(tok2)), 0);
    assert_int_equal(st, TF_LOBBY_DENIED);
    assert_string_equal(tok2, "");
    /* Ada's token: bound to room1, single use, carries her name as a pupil. */
    char name[65];
    int role = -1;
    assert_int_equal(tf_join_token_consume(l, "room2", tok, 115, name, sizeof(name), &role),
                     -EACCES);
    assert_int_equal(tf_join_token_consume(l, "room1", tok, 115, name, sizeof(name), &role), 0);
    assert_string_equal(name, "Ada");
    assert_int_equal(role, 0);
    assert_int_equal(tf_join_token_consume(l, "room1", tok, 116, name, sizeof(name), &role),
                     -EACCES);
    /* Zoe stops polling: gone after wait_s. */
    s.n = 0;
    assert_int_equal(tf_lobby_list(l, "room2", 130, collect, &s), 1);
    assert_int_equal(tf_lobby_list(l, "room2", 131, NULL, NULL), 0);
    tf_lobby_destroy(&l);
    assert_null(l);
}

static void test_tokens(void **state)
{
    (void)state;
    tf_lobby_t *l = make(2);
    char a[TF_JOIN_TOKEN_LEN + 1], b[TF_JOIN_TOKEN_LEN + 1], c[TF_JOIN_TOKEN_LEN + 1];
    assert_int_equal(tf_join_token_issue(l, "r", "Frau Lehmann", 1, 1000, a, sizeof(a)), 0);
    assert_int_equal(tf_join_token_issue(l, "r", "Kim", 0, 1000, b, sizeof(b)), 0);
    assert_int_equal(tf_join_token_issue(l, "r", "Lou", 0, 1000, c, sizeof(c)), -ENOSPC);
    char name[65];
    int role;
    assert_int_equal(tf_join_token_consume(l, "r", a, 1059, name, sizeof(name), &role), 0);
    assert_int_equal(role, 1);
    assert_string_equal(name, "Frau Lehmann");
    /* Expired after token_ttl_s, and the slot is free again. */
    assert_int_equal(tf_join_token_consume(l, "r", b, 1060, name, sizeof(name), &role), -EACCES);
    assert_int_equal(tf_join_token_issue(l, "r", "Lou", 0, 1061, c, sizeof(c)), 0);
    /* Malformed tokens. */
    assert_int_equal(tf_join_token_consume(l, "r", "", 1062, name, sizeof(name), &role), -EACCES);
    assert_int_equal(tf_join_token_consume(l, "r", NULL, 1062, name, sizeof(name), &role), -EACCES);
    c[5] ^= 1;
    assert_int_equal(tf_join_token_consume(l, "r", c, 1062, name, sizeof(name), &role), -EACCES);
    /* A full lobby refuses more pupils. */
    tf_lobby_entry_t *e;
    assert_int_equal(tf_lobby_enqueue(l, "r", "A", 2000, &e), 0);
    assert_int_equal(tf_lobby_enqueue(l, "r", "B", 2000, &e), 0);
    assert_int_equal(tf_lobby_enqueue(l, "r", "C", 2000, &e), -ENOSPC);
    assert_int_equal(tf_lobby_enqueue(l, "r", "", 2000, &e), -EINVAL);
    tf_lobby_destroy(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
