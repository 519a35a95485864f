/* report.c — tafel-load's results folder: report.md (summary, per-receiver table, weak-link
 * figures), report.json (the same, machine-readable), series.dat and gnuplot SVG plots. Reads the
 * run's structures after the loop has stopped; measures nothing. */
#include "bench/load/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double lg_percentile(const lg_lat_t *l, double q)
{
    if (!l->n)
        return -1;
    qsort(l->v, l->n, sizeof(float), cmp_float);
    size_t i = (size_t)(q * (double)(l->n - 1) + 0.5);
    return l->v[i];
}

void lg_totals(const lg_t *lg, lg_totals_t *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < lg->n_parts; i++) {
        const part_t *p = &lg->parts[i];
        t->receivers++;
        t->connected += p->t_connected != 0;
        if (p->decode) {
            t->decoding++;
            t->decoding_ok += p->st.frames_decoded > 0;
        }
        t->frames += p->st.frames;
        t->frames_decoded += p->st.frames_decoded;
        t->late_frames += p->st.late_frames;
        t->freezes += p->st.freezes;
        t->freeze_s += (double)p->st.freeze_us / 1e6;
        t->stamps_read += p->st.stamps_read;
        t->wrong_tiles += p->st.stamp_wrong_tile;
        t->audio_frames += p->st.audio_frames;
        t->audio_concealed += p->st.audio_concealed;
        t->audio_fec += p->st.audio_fec;
        t->rtx_in += p->st.rtx_in;
        t->rtx_padding += p->st.rtx_padding;
        t->nacks += p->st.nacks;
        t->plis += p->st.plis;
    }
}

static const char *tier_name(int rank)
{
    static const char *const n[] = {"audio", "low", "medium", "high"};
    return rank >= 0 && rank < 4 ? n[rank] : "?";
}

/* A participant's mean rate over its connected time, kbit/s. */
static double kbps(const part_t *p, uint64_t bytes, double end_us)
{
    double secs = p->t_connected && end_us > (double)p->t_connected
                      ? (end_us - (double)p->t_connected) / 1e6
                      : 0;
    return secs > 0 ? (double)bytes * 8 / 1000 / secs : 0;
}

/* Weak-link figures of one relayed receiver, relative to its trace's time 0 (its first datagram
 * through the relay, t_ice). */
typedef struct weak {
    double audio_intact_pct; /* arrived + rebuilt with FEC, of all sent */
    double audio_arrived_pct, audio_fec_pct;
    double freezes_per_min, kbytes_per_min, minutes;
    double step_down_s, step_up_s, outage_recovery_s; /* -1: not applicable or not seen */
} weak_t;

/* Seconds from from_s (trace time) to the first tier move down (or up) within `within` s,
 * -1 when there is none. */
static double first_tier_move(const part_t *p, double from_s, double within, bool down)
{
    int before = -1;
    for (int i = 0; i < p->n_tier; i++) {
        double t = (double)(p->tier_at[i] - p->t_ice) / 1e6;
        if (t < from_s) {
            before = p->tier_rank[i];
            continue;
        }
        if (t > from_s + within)
            break;
        if (before >= 0 && (down ? p->tier_rank[i] < before : p->tier_rank[i] > before))
            return t - from_s;
        before = p->tier_rank[i];
    }
    return -1;
}

/* The step trace repeats every 60 s: 500 kbit/s, down to 150 at 20 s, up to 400 at 40 s. The
 * first move after each step of the run, as "a, b, ..." ("-" where the tier did not move). */
static void step_moves(const part_t *p, double run_s, bool down, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = 0;
    for (double t = down ? 20.0 : 40.0; t + 5 < run_s && off + 16 < cap; t += 60.0) {
        double m = first_tier_move(p, t, 20.0, down);
        off +=
            (size_t)snprintf(out + off, cap - off, m < 0 ? "%s-" : "%s%.1f s", off ? ", " : "", m);
    }
    if (!out[0])
        snprintf(out, cap, "-");
}

static weak_t weak_figures(const part_t *p, const char *profile, double end_us)
{
    weak_t w = {.step_down_s = -1, .step_up_s = -1, .outage_recovery_s = -1};
    uint64_t af = p->st.audio_frames + p->st.audio_fec + p->st.audio_concealed;
    w.audio_intact_pct =
        af ? 100.0 * (double)(p->st.audio_frames + p->st.audio_fec) / (double)af : 0;
    w.audio_arrived_pct = af ? 100.0 * (double)p->st.audio_frames / (double)af : 0;
    w.audio_fec_pct = af ? 100.0 * (double)p->st.audio_fec / (double)af : 0;
    w.minutes = p->t_connected ? (end_us - (double)p->t_connected) / 60e6 : 0;
    if (w.minutes > 0) {
        w.freezes_per_min = (double)p->st.freezes / w.minutes;
        w.kbytes_per_min = (double)p->st.rx_bytes / 1000.0 / w.minutes;
    }
    if (profile && !strcmp(profile, "step")) {
        w.step_down_s = first_tier_move(p, 20.0, 20.0, true);
        w.step_up_s = first_tier_move(p, 40.0, 20.0, false);
    }
    if (profile && !strcmp(profile, "tunnel")) {
        /* the trace has no delivery from 10 s to 13 s: recovery is the end of the freeze that
         * spans 13 s, counted from 13 s */
        for (int i = 0; i < p->n_freeze_log; i++) {
            double a = (double)(p->freeze_from[i] - p->t_ice) / 1e6,
                   b = (double)(p->freeze_to[i] - p->t_ice) / 1e6;
            if (a <= 13.0 && b >= 13.0)
                w.outage_recovery_s = b - 13.0;
        }
        if (w.outage_recovery_s < 0)
            w.outage_recovery_s = 0; /* no freeze across the end of the outage */
    }
    return w;
}

static void write_plots(const char *dir, FILE *md, const lg_t *lg)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/latency.dat", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        for (size_t i = 0; i < lg->video_lat.n; i++)
            fprintf(f, "%.2f %.5f\n", lg->video_lat.v[i], (double)(i + 1) / lg->video_lat.n);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/plots.gp", dir);
    f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "set terminal svg size 800,400 dynamic background '#ffffff'\nset grid\n"
               "set key left top\nset xlabel 'time (s)'\n"
               "set output 'server.svg'\nset ylabel 'server CPU (%% of one core)'\n"
               "set y2label 'participants connected'\nset y2tics\n"
               "plot 'series.dat' using 1:4 with lines title 'server CPU', "
               "'' using 1:3 axes x1y2 with steps title 'connected'\n"
               "set output 'bitrate.svg'\nset ylabel 'kbit/s received'\nset y2label 'tier "
               "(0 audio, 1 low, 2 medium, 3 high)'\nset y2range [-0.5:3.5]\n"
               "plot 'series.dat' using 1:7 with lines title 'mean per receiver', "
               "'' using 1:8 with lines title 'pupil', '' using 1:9 axes x1y2 with steps "
               "title 'pupil tier'\n"
               "unset y2tics\nunset y2label\nset autoscale y2\n"
               "set output 'latency.svg'\nset xlabel 'mixing latency, stamp in to stamp out (ms)'\n"
               "set ylabel 'fraction of tile frames'\nset key right bottom\n"
               "plot 'latency.dat' using 1:2 with lines title 'CDF'\n"
               "set output 'memory.svg'\nset xlabel 'time (s)'\nset ylabel 'server RSS (MiB)'\n"
               "set y2label 'fds'\nset y2tics\nplot 'series.dat' using 1:5 with lines title 'RSS', "
               "'' using 1:6 axes x1y2 with lines title 'fds'\n");
    fclose(f);
    char cmd[800];
    snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot plots.gp 2>/dev/null", dir);
    if (system("command -v gnuplot >/dev/null") != 0)
        fprintf(md, "\n(gnuplot not found: plots.gp and the .dat files are in the folder; "
                    "deploy/install-deps.sh installs gnuplot-nox.)\n");
    else if (system(cmd) == 0 || lg->video_lat.n == 0)
        fprintf(md, "\n![server](server.svg)\n![bitrate](bitrate.svg)\n![latency](latency.svg)\n"
                    "![memory](memory.svg)\n");
    else
        fprintf(md, "\n(gnuplot failed on plots.gp.)\n");
}

int lg_report_write(const char *dir, const lg_t *lg, const lg_run_info_t *in, const lg_sample_t *s,
                    int n)
{
    mkdir(dir, 0755);
    char path[700];
    snprintf(path, sizeof(path), "%s/series.dat", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "# t_s rooms connected srv_cpu_pct rss_mib fds rx_kbps_mean pupil_kbps "
               "pupil_tier late_pct frames_per_s video_encoders audio_encoders queue_drops\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "%.1f %d %d %.1f %.1f %d %.1f %.1f %d %.2f %.0f %d %d %.0f\n", s[i].t_s,
                s[i].rooms, s[i].connected, s[i].srv_cpu_pct, s[i].rss_mib, s[i].fds,
                s[i].rx_kbps_mean, s[i].pupil_kbps, s[i].pupil_tier, s[i].late_pct,
                s[i].frames_per_s, s[i].video_encoders, s[i].audio_encoders, s[i].queue_drops);
    fclose(f);

    lg_totals_t t;
    lg_totals(lg, &t);
    double v50 = lg_percentile(&lg->video_lat, 0.5), v95 = lg_percentile(&lg->video_lat, 0.95),
           v99 = lg_percentile(&lg->video_lat, 0.99), a50 = lg_percentile(&lg->audio_lat, 0.5),
           a95 = lg_percentile(&lg->audio_lat, 0.95);
    int total = in->rooms * in->participants;
    double cores_used = in->srv_cpu_s > 0 && in->measure_s > 0 ? in->srv_cpu_s / in->measure_s : -1;
    double per_core = cores_used > 0 ? total / cores_used : -1;
    double late_pct = t.frames ? 100.0 * (double)t.late_frames / (double)t.frames : 0;
    /* intact: arrived, or rebuilt from the next packet's in-band FEC (as a browser plays it) */
    uint64_t audio_all = t.audio_frames + t.audio_fec + t.audio_concealed;
    double audio_intact =
        audio_all ? 100.0 * (double)(t.audio_frames + t.audio_fec) / (double)audio_all : 0;
    double audio_arrived = audio_all ? 100.0 * (double)t.audio_frames / (double)audio_all : 0;
    double end_us = (double)lg->t_end; /* rates are over each participant's connected time */
    for (int i = 0; !lg->t_end && i < lg->n_parts; i++)
        if ((double)lg->parts[i].last_frame_at > end_us)
            end_us = (double)lg->parts[i].last_frame_at;

    snprintf(path, sizeof(path), "%s/report.md", dir);
    FILE *md = fopen(path, "w");
    if (!md)
        return -errno;
    fprintf(md, "# tafel-load report\n\n");
    fprintf(md,
            "- mode **%s**: %d room(s) x %d participants = %d, measured %.0f s of %.0f s "
            "wall time; every participant sends H.264 at 320x180 ~150 kbit/s, or 160x90 ~60 "
            "kbit/s when the server's `uplink` message asks (see the end), + Opus 32 kbit/s "
            "and receives the mix\n",
            in->mode, in->rooms, in->participants, total, in->measure_s, in->wall_s);
    fprintf(md,
            "- server: %s `%s`\n- machine: %d cores, **shared with other work** (only ratios "
            "from one run are firm)\n",
            in->server ? in->server : "tafel", in->server_cmd, in->cores);
    if (in->profile)
        fprintf(md, "- link: tafel-relay profile **%s** for %d participant(s) per room: %s\n",
                in->profile, in->relay_who, in->profile_desc);
    fprintf(md,
            "- machine load average (1 min) at start / end: %.1f / %.1f on %d cores; the "
            "generator's 5 ms tick was over 20 ms late %.1f %% of the time (worst %.0f ms): "
            "%s\n",
            in->loadavg_start, in->loadavg_end, in->cores, in->tick_late_pct, in->tick_max_lag_ms,
            in->tick_late_pct > 5 ? "**the machine was overloaded; latency and late-frame figures "
                                    "include the generator's own scheduling delays**"
                                  : "the generator kept up");
    fprintf(md, "- receivers fully decoding: every %d%s\n", in->decode_every,
            in->decode_every == 1 ? " (all)" : "th");
    fprintf(md, "- speaking: %s%d of %d per room (a 200 ms tone burst every 2 s each; the others "
            "send a quiet microphone)\n\n", in->talkers < in->participants ? "the first " : "all ",
            in->talkers, in->participants);
    fprintf(md, "## Headline\n\n| figure | value |\n|---|---|\n");
    fprintf(md, "| server CPU over the window | %.1f s = %.2f cores |\n", in->srv_cpu_s,
            cores_used);
    fprintf(md, "| participants per core (this load) | %.1f |\n", per_core);
    if (in->ramp_capacity >= 0)
        fprintf(md, "| ramp capacity (real time) | %d participants (stopped: %s) |\n",
                in->ramp_capacity, in->ramp_reason ? in->ramp_reason : "-");
    fprintf(md,
            "| mixing latency p50 / p95 / p99 (frame stamp in -> out) | %.1f / %.1f / %.1f ms "
            "(%zu tile frames) |\n",
            v50, v95, v99, lg->video_lat.n);
    fprintf(md,
            "| audio latency p50 / p95 (tone onset in -> out) | %.1f / %.1f ms (%zu onsets) |\n",
            a50, a95, lg->audio_lat.n);
    fprintf(md, "| late frames (> 100 ms behind the stream's best delay) | %.2f %% of %llu |\n",
            late_pct, (unsigned long long)t.frames);
    fprintf(md, "| freezes (> 500 ms without a frame) | %llu, %.1f s in total |\n",
            (unsigned long long)t.freezes, t.freeze_s);
    fprintf(md,
            "| audio frames intact (arrived + rebuilt with in-band FEC) | %.2f %% (%.2f %% "
            "arrived, %llu rebuilt with FEC, %llu concealed) |\n",
            audio_intact, audio_arrived, (unsigned long long)t.audio_fec,
            (unsigned long long)t.audio_concealed);
    fprintf(md,
            "| video retransmissions received (RTX) / padding probes received | %llu / %llu |\n",
            (unsigned long long)t.rtx_in, (unsigned long long)t.rtx_padding);
    fprintf(md, "| receivers connected / decoding ones that decoded | %d of %d / %d of %d |\n",
            t.connected, t.receivers, t.decoding_ok, t.decoding);
    fprintf(md, "| stamps read / in the wrong tile | %llu / %llu |\n",
            (unsigned long long)t.stamps_read, (unsigned long long)t.wrong_tiles);
    double rx_mean = 0, tx_mean = 0;
    int nk = 0;
    bool any_loopback = false;
    for (int i = 0; i < lg->n_parts; i++)
        any_loopback |= !lg->parts[i].relayed;
    for (int i = 0; i < lg->n_parts; i++)
        if (lg->parts[i].t_connected && (!lg->parts[i].relayed || !any_loopback)) {
            rx_mean += kbps(&lg->parts[i], lg->parts[i].st.rx_bytes, end_us);
            tx_mean += kbps(&lg->parts[i], lg->parts[i].st.tx_bytes, end_us);
            nk++;
        }
    double fps = 0;
    int nf = 0;
    for (int i = 0; i < lg->n_parts; i++)
        if (lg->parts[i].t_connected && end_us > (double)lg->parts[i].t_connected) {
            fps += (double)lg->parts[i].st.frames /
                   ((end_us - (double)lg->parts[i].t_connected) / 1e6);
            nf++;
        }
    fprintf(md,
            "| composite frames received per receiver per second (the mix runs at 15 on the "
            "medium tier) | %.1f |\n",
            nf ? fps / nf : 0);
    rx_mean = nk ? rx_mean / nk : 0;
    tx_mean = nk ? tx_mean / nk : 0;
    double sfu = tx_mean * (in->participants - 1);
    fprintf(md, "| downstream per receiver, %s (measured, %s receivers) | %.0f kbit/s |\n",
            in->server && !strcmp(in->server, "janus") ? "Janus SFU" : "Tafel",
            any_loopback ? "loopback" : "relayed", rx_mean);
    fprintf(md,
            "| downstream per receiver, SFU (**computed**: (N-1) x measured uplink %.0f "
            "kbit/s) | %.0f kbit/s; Tafel / SFU = %.3f |\n",
            tx_mean, sfu, sfu > 0 ? rx_mean / sfu : 0);
    fprintf(md, "| server encoders (max) video / audio | %d / %d |\n", in->video_encoders_max,
            in->audio_encoders_max);
    fprintf(md, "| server queue drops | %.0f |\n", in->queue_drops);
    fprintf(md, "| server RSS start -> end | %.1f -> %.1f MiB |\n", in->rss_start_mib,
            in->rss_end_mib);
    fprintf(md, "| server fds start -> end | %d -> %d |\n", in->fds_start, in->fds_end);
    fprintf(md, "| generator CPU over the window | %.1f s |\n\n", in->gen_cpu_s);

    if (in->n_steps) {
        fprintf(md, "## Ramp steps\n\n| rooms | participants | server cores used | participants "
                    "per core | late frames | freezes | latency p95 (so far) | real time |\n"
                    "|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < in->n_steps; i++) {
            const lg_ramp_step_t *st = &in->steps[i];
            fprintf(md, "| %d | %d | %.2f | %.1f | %.2f %% | %llu | %.0f ms | %s |\n", st->rooms,
                    st->participants, st->cores_used,
                    st->cores_used > 0 ? st->participants / st->cores_used : 0, st->late_pct,
                    st->freezes, st->p95_ms, st->ok ? "yes" : "**no**");
        }
        fprintf(md, "\n");
    }
    fprintf(md, "## Receivers\n\n| # | room | state | tier (last estimate) | kbit/s | frames | "
                "decoded | late | "
                "freezes | audio ok %% | NACK | PLI | stamps | link |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    int shown = 0;
    for (int i = 0; i < lg->n_parts && shown < 60; i++) {
        const part_t *p = &lg->parts[i];
        if (lg->n_parts > 60 && !p->relayed && p->in_room != 0)
            continue;
        shown++;
        double secs = p->t_connected && end_us > (double)p->t_connected
                          ? (end_us - (double)p->t_connected) / 1e6
                          : 0;
        uint64_t af = p->st.audio_frames + p->st.audio_fec + p->st.audio_concealed;
        fprintf(
            md,
            "| %d | %d | %s | %s (%d %s) | %.0f | %llu | %llu | %llu | %llu | %.1f | %llu | %llu | "
            "%llu | %s |\n",
            p->idx, p->room,
            p->t_connected ? "ok"
            : p->fail[0]   ? p->fail
                           : "not connected",
            p->tier[0] ? p->tier : "-", p->estimate_kbps, p->tier_reason,
            secs > 0 ? (double)p->st.rx_bytes * 8 / 1000 / secs : 0,
            (unsigned long long)p->st.frames, (unsigned long long)p->st.frames_decoded,
            (unsigned long long)p->st.late_frames, (unsigned long long)p->st.freezes,
            af ? 100.0 * (double)(p->st.audio_frames + p->st.audio_fec) / (double)af : 0,
            (unsigned long long)p->st.nacks, (unsigned long long)p->st.plis,
            (unsigned long long)p->st.stamps_read, p->relayed ? in->profile : "loopback");
    }
    if (in->profile) {
        fprintf(md,
                "\n## Weak link (%s)\n\n| # | audio frames intact (arrived + FEC) | freezes/min | "
                "kB/min | "
                "step down -> lower tier (each period) | back up (each period) | outage recovery | "
                "tier changes (trace time) |\n"
                "|---|---|---|---|---|---|---|---|\n",
                in->profile);
        for (int i = 0; i < lg->n_parts; i++) {
            const part_t *p = &lg->parts[i];
            if (!p->relayed)
                continue;
            weak_t w = weak_figures(p, in->profile, end_us);
            char sd[96], su[96], orc[32];
            double run_s = end_us > (double)p->t_ice ? (end_us - (double)p->t_ice) / 1e6 : 0;
            if (in->profile && !strcmp(in->profile, "step")) {
                step_moves(p, run_s, true, sd, sizeof(sd));
                step_moves(p, run_s, false, su, sizeof(su));
            } else {
                snprintf(sd, sizeof(sd), "-");
                snprintf(su, sizeof(su), "-");
            }
            snprintf(orc, sizeof(orc), w.outage_recovery_s < 0 ? "-" : "%.1f s",
                     w.outage_recovery_s);
            fprintf(md, "| %d | %.2f %% (%.2f + %.2f) | %.2f | %.0f | %s | %s | %s | ", p->idx,
                    w.audio_intact_pct, w.audio_arrived_pct, w.audio_fec_pct, w.freezes_per_min,
                    w.kbytes_per_min, sd, su, orc);
            for (int k = 0; k < p->n_tier; k++)
                fprintf(md, "%s%s@%.1fs", k ? ", " : "", tier_name(p->tier_rank[k]),
                        (double)(p->tier_at[k] - p->t_ice) / 1e6);
            fprintf(md, " |\n");
        }
    }
    write_plots(dir, md, lg);
    fclose(md);

    snprintf(path, sizeof(path), "%s/report.json", dir);
    FILE *js = fopen(path, "w");
    if (!js)
        return -errno;
    fprintf(js,
            "{\n  \"server_kind\": \"%s\", \"mode\": \"%s\", \"rooms\": %d, \"participants_per_room\": %d, "
            "\"participants\": %d,\n  \"profile\": %s%s%s, \"relay_who\": %d, "
            "\"decode_every\": %d, \"talkers\": %d, \"cores\": %d,\n"
            "  \"measure_s\": %.2f, \"wall_s\": %.2f, \"server_cpu_s\": %.3f, "
            "\"server_cores_used\": %.3f, \"participants_per_core\": %.2f,\n"
            "  \"ramp_capacity\": %d, \"generator_cpu_s\": %.3f, \"loadavg_start\": %.2f, "
            "\"loadavg_end\": %.2f, \"tick_late_pct\": %.2f, \"tick_max_lag_ms\": %.1f,\n"
            "  \"video_latency_ms\": {\"n\": %zu, \"p50\": %.2f, \"p95\": %.2f, \"p99\": %.2f},\n"
            "  \"audio_latency_ms\": {\"n\": %zu, \"p50\": %.2f, \"p95\": %.2f},\n"
            "  \"receivers\": %d, \"connected\": %d, \"decoding\": %d, \"decoding_ok\": %d,\n"
            "  \"frames\": %llu, \"frames_decoded\": %llu, \"late_frames\": %llu, "
            "\"late_pct\": %.3f, \"freezes\": %llu, \"freeze_s\": %.2f,\n"
            "  \"audio_frames\": %llu, \"audio_concealed\": %llu, \"audio_fec\": %llu, "
            "\"audio_intact_pct\": %.3f, \"audio_arrived_pct\": %.3f,\n"
            "  \"rtx_in\": %llu, \"rtx_padding\": %llu,\n"
            "  \"stamps_read\": %llu, \"stamps_wrong_tile\": %llu, \"nacks\": %llu, "
            "\"plis\": %llu,\n"
            "  \"server\": {\"video_encoders_max\": %d, \"audio_encoders_max\": %d, "
            "\"queue_drops\": %.0f, \"rss_start_mib\": %.1f, \"rss_end_mib\": %.1f, "
            "\"fds_start\": %d, \"fds_end\": %d},\n  \"per_receiver\": [\n",
            in->server ? in->server : "tafel", in->mode, in->rooms, in->participants, total,
            in->profile ? "\"" : "",
            in->profile ? in->profile : "null", in->profile ? "\"" : "", in->relay_who,
            in->decode_every, in->talkers, in->cores, in->measure_s, in->wall_s, in->srv_cpu_s, cores_used,
            per_core, in->ramp_capacity, in->gen_cpu_s, in->loadavg_start, in->loadavg_end,
            in->tick_late_pct, in->tick_max_lag_ms, lg->video_lat.n, v50, v95, v99, lg->audio_lat.n,
            a50, a95, t.receivers, t.connected, t.decoding, t.decoding_ok,
            (unsigned long long)t.frames, (unsigned long long)t.frames_decoded,
            (unsigned long long)t.late_frames, late_pct, (unsigned long long)t.freezes, t.freeze_s,
            (unsigned long long)t.audio_frames, (unsigned long long)t.audio_concealed,
            (unsigned long long)t.audio_fec, audio_intact, audio_arrived,
            (unsigned long long)t.rtx_in, (unsigned long long)t.rtx_padding,
            (unsigned long long)t.stamps_read, (unsigned long long)t.wrong_tiles,
            (unsigned long long)t.nacks, (unsigned long long)t.plis, in->video_encoders_max,
            in->audio_encoders_max, in->queue_drops, in->rss_start_mib, in->rss_end_mib,
            in->fds_start, in->fds_end);
    for (int i = 0; i < lg->n_parts; i++) {
        const part_t *p = &lg->parts[i];
        weak_t w = weak_figures(p, in->profile, end_us);
        fprintf(js,
                "    {\"idx\": %d, \"room\": %d, \"connected\": %s, \"relayed\": %s, "
                "\"decode\": %s, \"tier\": \"%s\", \"rx_bytes\": %llu, \"frames\": %llu, "
                "\"frames_decoded\": %llu, \"decode_errors\": %llu, \"late_frames\": %llu, "
                "\"freezes\": %llu, \"freeze_s\": %.2f, \"audio_frames\": %llu, "
                "\"audio_concealed\": %llu, \"audio_fec\": %llu, \"audio_with_fec\": %llu, "
                "\"audio_intact_pct\": %.3f, "
                "\"rtx_in\": %llu, \"rtx_padding\": %llu, \"rtx_recovered\": %llu, "
                "\"video_given_up\": %llu, \"video_frames_dropped\": %llu, "
                "\"nacks\": %llu, \"plis\": %llu, "
                "\"nacks_in\": %llu, \"plis_in\": %llu, \"stamps_read\": %llu, "
                "\"tier_changes\": %llu, \"twcc_reported\": %llu, \"twcc_missing\": %llu, "
                "\"twcc_late\": %llu, \"freezes_per_min\": %.3f, \"kbytes_per_min\": %.1f, "
                "\"step_down_s\": %.2f, \"step_up_s\": %.2f, \"outage_recovery_s\": %.2f, "
                "\"rx_kbps\": %.1f, \"tx_kbps\": %.1f, \"tx_audio\": %llu, \"tx_video\": %llu, "
                "\"tx_errors\": %llu, \"freezes_at_s\": [",
                p->idx, p->room, p->t_connected ? "true" : "false", p->relayed ? "true" : "false",
                p->decode ? "true" : "false", p->tier, (unsigned long long)p->st.rx_bytes,
                (unsigned long long)p->st.frames, (unsigned long long)p->st.frames_decoded,
                (unsigned long long)p->st.decode_errors, (unsigned long long)p->st.late_frames,
                (unsigned long long)p->st.freezes, (double)p->st.freeze_us / 1e6,
                (unsigned long long)p->st.audio_frames, (unsigned long long)p->st.audio_concealed,
                (unsigned long long)p->st.audio_fec, (unsigned long long)p->st.audio_with_fec,
                w.audio_intact_pct,
                (unsigned long long)p->st.rtx_in, (unsigned long long)p->st.rtx_padding,
                (unsigned long long)p->st.rtx_recovered, (unsigned long long)p->st.v_given_up,
                (unsigned long long)p->st.v_frames_dropped, (unsigned long long)p->st.nacks,
                (unsigned long long)p->st.plis, (unsigned long long)p->st.nacks_in,
                (unsigned long long)p->st.plis_in, (unsigned long long)p->st.stamps_read,
                (unsigned long long)p->st.tier_changes, (unsigned long long)p->st.twcc_reported,
                (unsigned long long)p->st.twcc_missing, (unsigned long long)p->st.twcc_late,
                w.freezes_per_min, w.kbytes_per_min, w.step_down_s, w.step_up_s,
                w.outage_recovery_s, kbps(p, p->st.rx_bytes, end_us),
                kbps(p, p->st.tx_bytes, end_us), (unsigned long long)p->st.tx_audio,
                (unsigned long long)p->st.tx_video, (unsigned long long)p->st.tx_errors);
        /* the first freezes, [from, to] on the trace's clock (the first datagram sent) */
        for (int k = 0; k < p->n_freeze_log; k++)
            fprintf(js, "%s[%.2f, %.2f]", k ? ", " : "",
                    (double)(p->freeze_from[k] - p->t_ice) / 1e6,
                    (double)(p->freeze_to[k] - p->t_ice) / 1e6);
        fprintf(js, "]}%s\n", i + 1 < lg->n_parts ? "," : "");
    }
    fprintf(js, "  ]\n}\n");
    fclose(js);
    return 0;
}
