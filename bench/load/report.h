/* report.h — tafel-load's results: the per-second series it samples during a run and the
 * summary it writes at the end (report.md, report.json, gnuplot SVG plots) into a folder.
 * Reads the run's structures; measures nothing itself. */
#ifndef TF_LOAD_REPORT_H
#define TF_LOAD_REPORT_H

#include "bench/load/load.h"

#define LG_SERIES_MAX 100000

typedef struct lg_sample {
    double t_s;
    int rooms, connected;
    double srv_cpu_pct; /* of one core, over the last second */
    double rss_mib;
    int fds, video_encoders, audio_encoders;
    double queue_drops;
    double rx_kbps_mean; /* per connected receiver */
    double pupil_kbps;   /* the first relayed participant (or participant 0) */
    int pupil_tier;      /* its tier rank, -1 unknown */
    double late_pct;     /* late frames / frames over the last second, all receivers */
    double frames_per_s;
} lg_sample_t;

typedef struct lg_ramp_step {
    int rooms, participants;
    double cores_used, late_pct, p95_ms;
    unsigned long long freezes;
    int ok;
} lg_ramp_step_t;

typedef struct lg_run_info {
    const char *mode;    /* "steady", "ramp", "soak" */
    const char *profile; /* relay profile or NULL */
    const char *profile_desc;
    int rooms, participants, relay_who, decode_every, talkers;
    double duration_s, wall_s;
    double srv_cpu_s;  /* server CPU time over the measured window */
    double measure_s;  /* the window's length */
    int ramp_capacity; /* participants, -1 when not a ramp */
    const char *ramp_reason;
    double rss_start_mib, rss_end_mib;
    int fds_start, fds_end;
    int video_encoders_max, audio_encoders_max;
    double queue_drops;
    double gen_cpu_s; /* the generator's own CPU */
    int cores;
    const char *server_cmd;
    const char *server; /* "tafel" or "janus" (--janus): which server the figures are of */
    double loadavg_start, loadavg_end;     /* /proc/loadavg: the machine's other load */
    double tick_late_pct, tick_max_lag_ms; /* the generator's own 5 ms tick: share of ticks over
                                            * 20 ms late, and the worst lag */
    lg_ramp_step_t steps[64];
    int n_steps;
} lg_run_info_t;

/* Writes report.md, report.json, series.dat and the plots into dir (created if needed).
 * Returns 0, or a negative errno when a file could not be written (plots are optional: a
 * missing gnuplot is noted in report.md). */
int lg_report_write(const char *dir, const lg_t *lg, const lg_run_info_t *info,
                    const lg_sample_t *series, int n_series);

/* The summary line printed at the end and the figures the smoke test asserts on. */
typedef struct lg_totals {
    int receivers, connected, decoding, decoding_ok; /* decoding_ok: decoded >= 1 frame */
    uint64_t frames, frames_decoded, late_frames, freezes, stamps_read, wrong_tiles;
    uint64_t audio_frames, audio_concealed, nacks, plis;
    uint64_t audio_fec, rtx_in, rtx_padding; /* rebuilt with FEC; RTX retransmits, probes */
    double freeze_s;
} lg_totals_t;
void lg_totals(const lg_t *lg, lg_totals_t *out);
double lg_percentile(const lg_lat_t *l, double q); /* sorts l->v; -1 when empty */

#endif
