/* make_traces.c — writes the five link traces of the weak-link benchmark as Mahimahi files plus
 * traces.txt (seed, parameters, measured rates), deterministic from a seed. It does not replay
 * them (tafel-relay --down-trace does) and fetches nothing.
 *
 * Usage: make_traces OUTDIR [--seed N]. Each trace is a rate in kbit/s per millisecond turned
 * into delivery opportunities with a running bit budget: a line "t" each time 12 000 bits (one
 * 1500-byte packet) have accrued by millisecond t. Every file is parsed back with the relay's own
 * parser before the tool reports success. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/impair.h"

#define BITS_PER_OPPORTUNITY (TF_IMPAIR_OPPORTUNITY_BYTES * 8)

typedef struct gen {
    char *text;
    size_t len, cap;
    double budget; /* bits accrued and not yet turned into an opportunity */
    uint32_t last_ms;
    int err;
} gen_t;

static void gen_line(gen_t *g, uint32_t ms)
{
    if (g->err)
        return;
    if (g->cap - g->len < 16) {
        size_t ncap = g->cap ? g->cap * 2 : 1 << 16;
        char *t = realloc(g->text, ncap);
        if (!t) {
            g->err = -ENOMEM;
            return;
        }
        g->text = t;
        g->cap = ncap;
    }
    g->len += (size_t)snprintf(g->text + g->len, g->cap - g->len, "%u\n", ms);
    g->last_ms = ms;
}

/* Millisecond ms (1-based) runs at kbps, i.e. kbps bits accrue during it. */
static void gen_ms(gen_t *g, uint32_t ms, double kbps)
{
    g->budget += kbps;
    while (g->budget >= BITS_PER_OPPORTUNITY) {
        gen_line(g, ms);
        g->budget -= BITS_PER_OPPORTUNITY;
    }
}

/* mm-link repeats a trace after its last line: end on the period exactly (adds at most one
 * opportunity per period when the budget did not land there). */
static void gen_end(gen_t *g, uint32_t period_ms)
{
    if (g->last_ms != period_ms)
        gen_line(g, period_ms);
}

typedef struct trace_desc {
    const char *file;
    char params[400];
    char relay[300];
} trace_desc_t;

static void make_dsl(gen_t *g, trace_desc_t *d, uint64_t seed)
{
    (void)seed;
    for (uint32_t ms = 1; ms <= 3000; ms++)
        gen_ms(g, ms, 1000.0);
    gen_end(g, 3000);
    d->file = "dsl-1mbit.trace";
    snprintf(d->params, sizeof(d->params),
             "constant 1000 kbit/s (one opportunity every 12 ms); the seed is not used");
    snprintf(d->relay, sizeof(d->relay),
             "--down-trace dsl-1mbit.trace --down-delay-ms 10 "
             "--up-kbps 256 --up-delay-ms 10");
}

static void make_3g(gen_t *g, trace_desc_t *d, uint64_t seed)
{
    uint64_t rng = seed ^ UINT64_C(0x3300000000000003);
    double kbps = 400.0;
    for (uint32_t ms = 1; ms <= 30000; ms++) {
        if ((ms - 1) % 200 == 0)
            kbps = 400.0 * (1.0 + 0.2 * (2.0 * tf_impair_rand_unit(&rng) - 1.0));
        gen_ms(g, ms, kbps);
    }
    gen_end(g, 30000);
    d->file = "3g-400k.trace";
    snprintf(d->params, sizeof(d->params),
             "3G-like: mean 400 kbit/s, a new rate uniform in 320..480 kbit/s every 200 ms, 30 s; "
             "2 %% loss and 150 ms RTT come from the relay options");
    snprintf(d->relay, sizeof(d->relay),
             "--down-trace 3g-400k.trace --down-delay-ms 75 --down-loss 0.02 "
             "--up-kbps 200 --up-delay-ms 75 --up-loss 0.02");
}

static void make_step(gen_t *g, trace_desc_t *d, uint64_t seed)
{
    (void)seed;
    for (uint32_t ms = 1; ms <= 60000; ms++)
        gen_ms(g, ms, ms <= 20000 ? 500.0 : ms <= 40000 ? 150.0 : 400.0);
    gen_end(g, 60000);
    d->file = "step-500-150-400.trace";
    snprintf(d->params, sizeof(d->params),
             "steps: 500 kbit/s for 0..20 s, 150 kbit/s for 20..40 s, 400 kbit/s for 40..60 s; "
             "the seed is not used");
    snprintf(d->relay, sizeof(d->relay),
             "--down-trace step-500-150-400.trace --down-delay-ms 25 --down-queue-ms 300 "
             "--up-delay-ms 25");
}

static void make_tunnel(gen_t *g, trace_desc_t *d, uint64_t seed)
{
    (void)seed;
    for (uint32_t ms = 1; ms <= 30000; ms++)
        gen_ms(g, ms, ms > 10000 && ms <= 13000 ? 0.0 : 800.0);
    gen_end(g, 30000);
    d->file = "tunnel-outage-3s.trace";
    snprintf(d->params, sizeof(d->params),
             "800 kbit/s, no delivery opportunity from 10 s to 13 s (a tunnel), 800 kbit/s until "
             "30 s; the seed is not used");
    snprintf(d->relay, sizeof(d->relay),
             "--down-trace tunnel-outage-3s.trace --up-trace tunnel-outage-3s.trace "
             "--down-delay-ms 30 --up-delay-ms 30 --down-queue-ms 500");
}

/* A birth-death Markov chain over 100, 200, … 800 kbit/s, one step every 500 ms: stay with
 * probability 0.5, else one level up or down (reflected at the ends). */
static void make_cellular(gen_t *g, trace_desc_t *d, uint64_t seed)
{
    uint64_t rng = seed ^ UINT64_C(0xCE11000000000005);
    int level = 1 + (int)(tf_impair_rand(&rng) % 8);
    for (uint32_t ms = 1; ms <= 120000; ms++) {
        if (ms > 1 && (ms - 1) % 500 == 0) {
            double u = tf_impair_rand_unit(&rng);
            int step = u < 0.5 ? 0 : u < 0.75 ? -1 : 1;
            if (level + step < 1 || level + step > 8)
                step = -step;
            level += step;
        }
        gen_ms(g, ms, 100.0 * level);
    }
    gen_end(g, 120000);
    d->file = "cellular-markov.trace";
    snprintf(d->params, sizeof(d->params),
             "Markov cellular: levels 100..800 kbit/s in steps of 100, a step every 500 ms "
             "(stay 0.5, down 0.25, up 0.25, reflected at the ends), random start, 120 s");
    snprintf(d->relay, sizeof(d->relay),
             "--down-trace cellular-markov.trace --down-delay-ms 40 --down-jitter-ms 5 "
             "--down-queue-ms 400 --up-kbps 300 --up-delay-ms 40");
}

/* Rates over one-second windows of one period, from the parsed trace. */
static void measure(const tf_impair_trace_t *t, double *min_kbps, double *max_kbps)
{
    uint32_t period = tf_impair_trace_period_ms(t), seconds = period / 1000;
    size_t n = tf_impair_trace_opportunities(t), i = 0;
    *min_kbps = seconds ? 1e300 : 0;
    *max_kbps = 0;
    for (uint32_t s = 0; s < seconds; s++) {
        size_t count = 0;
        while (i < n && tf_impair_trace_time_ms(t, i) <= (s + 1) * 1000) {
            count++;
            i++;
        }
        double kbps = (double)count * BITS_PER_OPPORTUNITY / 1000.0;
        *min_kbps = kbps < *min_kbps ? kbps : *min_kbps;
        *max_kbps = kbps > *max_kbps ? kbps : *max_kbps;
    }
}

static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return -ENAMETOOLONG;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    size_t w = fwrite(text, 1, len, f);
    int rc = w == len ? 0 : -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

typedef void (*maker_t)(gen_t *, trace_desc_t *, uint64_t);

int main(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            char *e;
            errno = 0;
            seed = strtoull(argv[++i], &e, 10);
            if (*e || errno || argv[i][0] == '-' || !argv[i][0]) {
                fprintf(stderr, "make_traces: bad seed %s\n", argv[i]);
                return 2;
            }
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            dir = NULL;
            break;
        }
    }
    if (!dir) {
        fprintf(stderr, "usage: make_traces OUTDIR [--seed N]\n"
                        "Writes dsl-1mbit, 3g-400k, step-500-150-400, tunnel-outage-3s and "
                        "cellular-markov .trace files (Mahimahi) and traces.txt into OUTDIR.\n");
        return 2;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "make_traces: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    const maker_t makers[] = {make_dsl, make_3g, make_step, make_tunnel, make_cellular};
    enum { N = sizeof(makers) / sizeof(makers[0]) };
    char info[8192];
    size_t il = (size_t)snprintf(
        info, sizeof(info),
        "# Tafel weak-link traces, written by bench/make_traces.c with --seed %llu.\n"
        "# Mahimahi format: each line of a .trace file is a time in ms at which one 1500-byte\n"
        "# packet may be delivered; a trace repeats with its last line as the period (mm-link,\n"
        "# tafel-relay --down-trace). A rate r kbit/s adds r bits of budget per ms and a line\n"
        "# is written whenever 12000 bits have accrued. Loss, delay and jitter are relay\n"
        "# options, not part of a trace; the suggested ones are given per trace.\n"
        "#\n"
        "# file | period ms | lines | mean kbit/s | 1 s windows min..max kbit/s | parameters | "
        "suggested tafel-relay options\n",
        (unsigned long long)seed);
    int status = 0;
    for (int k = 0; k < N && status == 0; k++) {
        gen_t g = {0};
        trace_desc_t d = {0};
        makers[k](&g, &d, seed);
        tf_impair_trace_t *t = NULL;
        char err[160] = "";
        int rc = g.err;
        if (rc == 0)
            rc = tf_impair_trace_parse(&t, g.text, g.len, err, sizeof(err));
        if (rc == 0)
            rc = write_file(dir, d.file, g.text, g.len);
        if (rc < 0) {
            fprintf(stderr, "make_traces: %s: %s\n", d.file, err[0] ? err : strerror(-rc));
            status = 1;
        } else {
            double lo, hi, mean = (double)tf_impair_trace_mean_bps(t) / 1000.0;
            measure(t, &lo, &hi);
            il += (size_t)snprintf(info + il, sizeof(info) - il,
                                   "%s | %u | %zu | %.1f | %.0f..%.0f | %s | %s\n", d.file,
                                   tf_impair_trace_period_ms(t), tf_impair_trace_opportunities(t),
                                   mean, lo, hi, d.params, d.relay);
            printf("%-24s %6u ms %6zu lines  mean %6.1f kbit/s  per second %.0f..%.0f kbit/s\n",
                   d.file, tf_impair_trace_period_ms(t), tf_impair_trace_opportunities(t), mean, lo,
                   hi);
        }
        tf_impair_trace_destroy(&t);
        free(g.text);
        if (il >= sizeof(info)) {
            fprintf(stderr, "make_traces: traces.txt too long\n");
            status = 1;
        }
    }
    if (status == 0) {
        int rc = write_file(dir, "traces.txt", info, il);
        if (rc < 0) {
            fprintf(stderr, "make_traces: traces.txt: %s\n", strerror(-rc));
            status = 1;
        }
    }
    return status;
}
