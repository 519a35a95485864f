/* test_room_tier.c — the tier controller (server/room_tier.c) on the simulated bottleneck of
 * bwe_netsim.h: the sender sends what its tier needs (app-limited, like a room), the estimator
 * learns from transport-cc and probes, and the controller moves the tier. 3G-like and step
 * traces; fake clock, seeded. Not the room itself (test_room.c). */
#include "bwe_netsim.h"

#include <string.h>

#include "server/room_tier.h"

typedef struct drive {
    tf_tier_ctl_t ctl;
    tf_tier_id_t tier;
    int changes, ups;
    uint64_t in_tier_us[TF_TIER_COUNT];
    int64_t last_us;
    tf_tier_id_t at_s[MAX_SECONDS + 1]; /* the tier at the start of each second */
    uint64_t rng;
    bool g3; /* replay a 3G-like trace: a new rate in 320..480 kbit/s every 200 ms */
    int64_t change_us[64];
    tf_tier_id_t change_to[64];
} drive_t;

static void every_100ms(sim_t *s, void *user)
{
    drive_t *d = user;
    if (d->g3 && s->t % 200000 == 0) {
        link_advance(s, (double)s->t);
        s->link_bps = 320000 + 160000 * rnd(&d->rng);
    }
    if (s->t % 1000000 == 0 && s->t / 1000000 <= MAX_SECONDS)
        d->at_s[s->t / 1000000] = d->tier;
    if (s->t % 500000 != 0)
        return;
    d->in_tier_us[d->tier] += (uint64_t)(s->t - d->last_us);
    d->last_us = s->t;
    tf_bwe_state_t st;
    tf_bwe_get_state(s->bwe, &st);
    tf_tier_id_t t = tf_tier_ctl_step(&d->ctl, (uint64_t)s->t + 1, d->tier, &st, 1);
    if (t != d->tier) {
        if (d->changes < 64) {
            d->change_us[d->changes] = s->t;
            d->change_to[d->changes] = t;
        }
        d->changes++;
        d->ups += t > d->tier;
        d->tier = t;
    }
    s->c.app_bps = (double)tf_tier_need_bps(d->tier, 1);
}

static sim_t *drive(drive_t *d, sim_config_t *c, const char *what)
{
    tf_tier_ctl_params_t p = d->ctl.p;
    tf_tier_ctl_init(&d->ctl, 1);
    if (p.up_headroom > 0)
        d->ctl.p = p;
    d->tier = TF_TIER_MEDIUM; /* the room's start tier (start estimate 700 kbit/s) */
    c->every_100ms = every_100ms;
    c->user = d;
    c->app_fixed = true;
    c->app_bps = (double)tf_tier_need_bps(d->tier, 1);
    sim_t *s = run(c);
    printf("  %s: %d tier changes (%d up); seconds in audio/low/medium/high: %.0f/%.0f/%.0f/%.0f\n",
           what, d->changes, d->ups, d->in_tier_us[0] / 1e6, d->in_tier_us[1] / 1e6,
           d->in_tier_us[2] / 1e6, d->in_tier_us[3] / 1e6);
    for (int i = 0; i < d->changes && i < 64; i++)
        printf("    %5.1f s -> %s\n", d->change_us[i] / 1e6, tf_tier_get(d->change_to[i])->name);
    return s;
}

static sim_config_t g3_config(const char *name)
{
    sim_config_t c = base_config(name);
    c.link_bps = 400000;
    c.prop_us = 75000; /* 150 ms RTT */
    c.loss = 0.02;
    c.duration_us = 120 * 1000000LL;
    c.bwe = (tf_bwe_config_t){.start_bps = 700000, .min_bps = 30000, .max_bps = 2500000};
    return c;
}

/* 3G-like for 120 s: the receiver settles on the tier the link carries instead of flapping. */
static void test_3g_no_flapping(void **state)
{
    (void)state;
    int total_new = 0, total_old = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        static drive_t d_new, d_old;
        memset(&d_new, 0, sizeof(d_new));
        memset(&d_old, 0, sizeof(d_old));
        sim_config_t c = g3_config("3G-like, new controller");
        c.seed = seed * 7919;
        d_new.g3 = true;
        d_new.rng = seed;
        sim_t *s = drive(&d_new, &c, "new");
        /* The link (320..480 kbit/s, mean 400) cannot carry medium (490 kbit/s with audio). */
        assert_true(d_new.in_tier_us[TF_TIER_LOW] >= 90 * 1000000ull);
        assert_true(d_new.changes <= 4);
        finish(s);

        /* The same trace with the old rules (close to room_rate.c before): no headroom,
         * trials whatever the probes said, backed off only when they fail within 10 s. */
        c.name = "3G-like, old rules";
        d_old.g3 = true;
        d_old.rng = seed;
        d_old.ctl.p = (tf_tier_ctl_params_t){.up_headroom = 1.0,
                                             .fail_window_us = 10000000,
                                             .max_backoff = 4,
                                             .trial_blind_only = 0};
        s = drive(&d_old, &c, "old");
        finish(s);
        total_new += d_new.changes;
        total_old += d_old.changes;
    }
    printf("  tier changes over 3 × 120 s: old rules %d, new %d\n", total_old, total_new);
    assert_true(total_new < total_old);
}

/* 500 → 150 → 400 kbit/s: down within 5 s of the step, back up to low once 400 kbit/s is back. */
static void test_step_down_up(void **state)
{
    (void)state;
    static drive_t d;
    memset(&d, 0, sizeof(d));
    sim_config_t c = base_config("step 500 -> 150 -> 400");
    c.link_bps = 500000;
    c.prop_us = 40000;
    c.duration_us = 120 * 1000000LL;
    c.bwe = (tf_bwe_config_t){.start_bps = 700000, .min_bps = 30000, .max_bps = 2500000};
    c.changes[0] = (change_t){.at_us = 40 * 1000000LL, .link_bps = 150000, .loss = 0};
    c.changes[1] = (change_t){.at_us = 80 * 1000000LL, .link_bps = 400000, .loss = 0};
    c.n_changes = 2;
    sim_t *s = drive(&d, &c, "step");
    tf_tier_id_t before = d.at_s[40];
    int down_at = -1, up_at = -1;
    for (int i = 0; i < d.changes && i < 64; i++) {
        if (down_at < 0 && d.change_us[i] >= 40 * 1000000LL && d.change_to[i] < before)
            down_at = (int)(d.change_us[i] / 1000);
        if (up_at < 0 && d.change_us[i] >= 80 * 1000000LL && d.change_to[i] >= TF_TIER_LOW)
            up_at = (int)(d.change_us[i] / 1000);
    }
    printf("  tier at 40 s: %s; down %.1f s after the step; back to low %.1f s after 400k\n",
           tf_tier_get(before)->name, (down_at - 40000) / 1e3, (up_at - 80000) / 1e3);
    assert_true(before >= TF_TIER_LOW);
    assert_true(down_at >= 40000 && down_at - 40000 < 5000);
    assert_true(d.at_s[60] == TF_TIER_AUDIO); /* 150 kbit/s carries no video tier */
    assert_true(up_at >= 80000 && up_at - 80000 < 30000);
    assert_true(d.at_s[119] == TF_TIER_LOW);
    (void)first_within;
    (void)at;
    finish(s);
}

/* A link that barely carries the tier: the estimate stays below medium's need while the
 * acknowledged rate swings above and below the sent one from one window to the next. The
 * receiver leaves medium 1 s after the first congested decision (before: never, every swing
 * restarted the hold); an estimate back above the tier during the hold ends it. */
static void test_down_hold_through_swings(void **state)
{
    (void)state;
    tf_tier_ctl_t c;
    uint64_t t0 = 10000000, t = t0, left = 0;
    tf_tier_ctl_init(&c, t);
    tf_bwe_state_t st = {.target_bps = 300000,
                         .sent_bps = 460000,
                         .twcc_active = true,
                         .probes_succeeded = 2,
                         .reason = TF_BWE_REASON_PROBE};
    tf_tier_id_t tier = TF_TIER_MEDIUM;
    for (int i = 0; i < 40 && tier == TF_TIER_MEDIUM; i++, t += 500000) {
        st.acked_bps = i % 2 ? 470000 : 330000; /* above what is sent, then well below */
        tier = tf_tier_ctl_step(&c, t, tier, &st, 1);
        if (tier != TF_TIER_MEDIUM)
            left = t;
    }
    printf("  swinging acknowledged rate: %s after %.1f s\n", tf_tier_get(tier)->name,
           left ? (double)(left - t0) / 1e6 : -1.0);
    assert_int_equal(tier, TF_TIER_LOW);
    assert_true(left - t0 == 1000000);

    /* the estimate comes back above medium's need during the hold: no move, and swings
     * without congestion start no hold */
    tf_tier_ctl_init(&c, t);
    tier = TF_TIER_MEDIUM;
    st.acked_bps = 330000;
    assert_int_equal(tf_tier_ctl_step(&c, t += 500000, tier, &st, 1), TF_TIER_MEDIUM);
    st.target_bps = 700000;
    assert_int_equal(tf_tier_ctl_step(&c, t += 500000, tier, &st, 1), TF_TIER_MEDIUM);
    st.target_bps = 300000;
    st.acked_bps = 470000;
    for (int i = 0; i < 6; i++)
        assert_int_equal(tf_tier_ctl_step(&c, t += 500000, tier, &st, 1), TF_TIER_MEDIUM);
}

/* Trials (one tier up on trust) wait while probes keep getting through: the estimate knows the
 * link. Probes that got through once and then stopped proving anything for 30 s (bursts
 * arriving unspread once the link is fast) leave the receiver blind again: it tries again. */
static void test_trial_after_probes_stop(void **state)
{
    (void)state;
    tf_tier_ctl_t c;
    uint64_t t = 10000000;
    tf_tier_ctl_init(&c, t);
    /* audio only, sending little, an estimate under low's need, 3 probes through so far */
    tf_bwe_state_t st = {.target_bps = 120000,
                         .sent_bps = 50000,
                         .acked_bps = 50000,
                         .twcc_active = true,
                         .probes_succeeded = 3};
    tf_tier_id_t tier = TF_TIER_AUDIO;
    int trial_at = -1;
    for (int i = 0; i < 120 && tier == TF_TIER_AUDIO; i++, t += 500000) {
        if (i < 20 && i % 10 == 9)
            st.probes_succeeded++; /* a probe got through every 5 s for the first 10 s */
        tier = tf_tier_ctl_step(&c, t, tier, &st, 1);
        if (tier != TF_TIER_AUDIO)
            trial_at = i;
    }
    printf("  probes through for 10 s, then none: trial after %.1f s\n", trial_at / 2.0);
    assert_int_equal(tier, TF_TIER_LOW);
    assert_int_equal(c.trial, 1);
    assert_true(trial_at == 19 + 60); /* 30 s after the last probe that got through */

    /* probes that keep getting through, if only every 20 s: no trial in 60 s */
    tf_tier_ctl_init(&c, t);
    tier = TF_TIER_AUDIO;
    for (int i = 0; i < 120; i++, t += 500000) {
        if (i % 40 == 0)
            st.probes_succeeded++;
        assert_int_equal(tf_tier_ctl_step(&c, t, tier, &st, 1), TF_TIER_AUDIO);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_3g_no_flapping),
        cmocka_unit_test(test_step_down_up),
        cmocka_unit_test(test_down_hold_through_swings),
        cmocka_unit_test(test_trial_after_probes_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
