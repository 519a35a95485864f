/* load_main.c — tafel-load, the operators' load generator: starts (or uses) a Tafel server and
 * optionally tafel-relay, joins simulated participants room by room on one libuv loop, prints a
 * live progress line, samples server figures (/proc/<pid>/stat, GET /api/stats) and writes the
 * results folder. Modes: steady (--rooms/--participants/--duration), --ramp, --soak. It is a
 * client: it never reads the server's memory or clocks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/load/load.h"
#include "bench/load/report.h"

static const char USAGE[] =
    "usage: tafel-load [options]\n"
    "  --rooms R              rooms (default 2)\n"
    "  --participants N       participants per room, every one sends and receives (default 4)\n"
    "  --duration S           seconds of measurement after everyone joined (default 20)\n"
    "  --ramp                 add a room every --ramp-step seconds until real time fails (late\n"
    "                         frames > 1 %% or a freeze in the last step); reports the capacity\n"
    "  --ramp-step S          default 20; --max-rooms R caps the ramp (default 16)\n"
    "  --soak S               hold --rooms x --participants for S seconds; RSS and fd drift\n"
    "  --relay-profile NAME   every participant (or --relay-who K per room) through tafel-relay\n"
    "                         with a make_traces profile: dsl, 3g, step, tunnel, cellular\n"
    "  --server-bin PATH      start this tafel binary (default: ./tafel beside tafel-load)\n"
    "  --server-url URL       use a running server (http://127.0.0.1:PORT, --tls off) instead;\n"
    "                         needs --media-port, and --server-pid for its CPU figures\n"
    "  --out DIR              results folder (default: load-results/<UTC time> in the build dir)\n"
    "  --decode-every K       receivers that fully decode: every K-th (default 1, or 4 above 16\n"
    "                         participants)\n"
    "  --join-interval-ms MS  between two joins (default 100)\n"
    "  --talkers K            the first K participants of each room speak (their tone bursts);\n"
    "                         the others send a quiet microphone (default: all speak)\n"
    "  --server-arg ARG       extra argument for the started server (repeatable)\n"
    "  --quiet                no progress line\n"
    "  --janus HOST:PORT      drive Janus VideoRoom's HTTP API there instead of Tafel (SFU side\n"
    "                         of the suite; bench/load/janus.sh starts Janus); --server-pid PID\n"
    "                         for its CPU figures\n"
    "  --local-ip IP          bind the participants' UDP sockets there (default 127.0.0.1)\n"
    "  --uplink-clip K        --janus: the clip every sender sends, 0 = 320x180 ~150 kbit/s\n"
    "                         (default), 1 = 160x90 ~60 kbit/s (Tafel picks it with `uplink`)\n"
    "  --check                exit 1 unless the plumbing worked: every receiver connected, every\n"
    "                         decoding receiver decoded frames and read stamps (CI's smoke run)\n";

enum { MODE_STEADY, MODE_RAMP, MODE_SOAK };

typedef struct opts {
    int rooms, participants, mode, max_rooms, decode_every, join_ms, relay_who, quiet, check;
    double duration, ramp_step, soak;
    const char *profile, *server_bin, *server_url, *out, *server_args[16], *janus, *local_ip;
    int n_server_args, media_port, talkers;
    int uplink_clip;
    pid_t server_pid;
} opts_t;

typedef struct run {
    lg_t lg;
    opts_t o;
    char bindir[512], outdir[512], tracedir[600], profile_desc[400], server_cmd[1024];
    pid_t server, relay;
    uv_timer_t tick, sec;
    uv_signal_t sigint, sigterm;
    uint64_t start, all_joined_at, measure_from, next_join, phase_end;
    int rooms_target, joined, stop_reason;
    bool stopping, interrupted;
    double cpu_prev, cpu_measure0, gen_cpu0;
    uint64_t cpu_prev_at;
    lg_sample_t *series;
    int n_series;
    lg_run_info_t info;
    double stats_rss, stats_qd;
    int stats_fds, stats_venc, stats_aenc;
    uint64_t prev_frames, prev_late, ramp_frames0, ramp_late0, ramp_freezes0;
    int ramp_ok_rooms;
    bool tty;
    uint64_t last_tick, ticks, ticks_late, max_lag_us;
} run_t;

static double loadavg(void)
{
    double v = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

uint64_t lg_now(void)
{
    return uv_hrtime() / 1000;
}

uint64_t lg_from_realtime(const lg_t *lg, const struct timespec *ts)
{
    int64_t rt = (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
    return (uint64_t)(rt - lg->realtime_minus_mono_us);
}

static int64_t realtime_minus_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t mono = lg_now();
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - (int64_t)mono;
}

void lg_lat_add(lg_lat_t *l, double ms)
{
    if (l->n == l->cap) {
        if (l->cap >= LG_LAT_MAX)
            return;
        size_t nc = l->cap ? l->cap * 2 : 4096;
        float *v = realloc(l->v, nc * sizeof(float));
        if (!v)
            return;
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = (float)ms;
}

static void die(const char *what)
{
    fprintf(stderr, "tafel-load: %s\n", what);
    exit(2);
}

static int free_port(int type)
{
    int s = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) < 0)
        die("no free port");
    close(s);
    return ntohs(a.sin_port);
}

static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* comm may contain spaces */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static bool http_up(const struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    bool ok = s >= 0 && connect(s, (const struct sockaddr *)a, sizeof(*a)) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

static pid_t spawn(char *const argv[], const char *cwd, const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a killed generator leaves no server behind */
        int fd =
            open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* before chdir: log may be relative */
        if (cwd && chdir(cwd) != 0)
            _exit(127);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void stop_child(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(*pid, NULL, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        usleep(100000);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

/* ---- server and relay ---------------------------------------------------------------------- */

static void start_server(run_t *r)
{
    int hp = free_port(SOCK_STREAM), mp = free_port(SOCK_DGRAM);
    char hps[16], mps[16], data[700], log[700];
    snprintf(hps, sizeof(hps), "%d", hp);
    snprintf(mps, sizeof(mps), "%d", mp);
    snprintf(data, sizeof(data), "%s/server-data", r->outdir);
    snprintf(log, sizeof(log), "%s/server.log", r->outdir);
    char *argv[48] = {(char *)r->o.server_bin,
                      "serve",
                      "--tls",
                      "off",
                      "--http-addr",
                      "127.0.0.1",
                      "--http-port",
                      hps,
                      "--media-addr",
                      "127.0.0.1",
                      "--media-port",
                      mps,
                      "--data-dir",
                      data,
                      "--log-level",
                      "1"};
    int n = 16;
    for (int i = 0; i < r->o.n_server_args && n < 46; i++)
        argv[n++] = (char *)r->o.server_args[i];
    size_t off = 0;
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(r->server_cmd + off, sizeof(r->server_cmd) - off, "%s%s",
                                i ? " " : "", argv[i]);
    r->server = spawn(argv, NULL, log);
    uv_ip4_addr("127.0.0.1", hp, &r->lg.http);
    uv_ip4_addr("127.0.0.1", mp, &r->lg.media);
    for (int i = 0; i < 100 && !http_up(&r->lg.http); i++)
        usleep(100000);
    if (!http_up(&r->lg.http))
        die("the server did not start (see server.log in the results folder)");
}

static void start_relay(run_t *r)
{
    snprintf(r->tracedir, sizeof(r->tracedir), "%s/traces", r->outdir);
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s/make_traces' '%s' > /dev/null", r->bindir, r->tracedir);
    if (system(cmd) != 0)
        die("make_traces failed");
    static const char *const names[][2] = {{"dsl", "dsl-1mbit"},
                                           {"3g", "3g-400k"},
                                           {"step", "step-500-150-400"},
                                           {"tunnel", "tunnel-outage-3s"},
                                           {"cellular", "cellular-markov"}};
    const char *file = NULL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(r->o.profile, names[i][0]) || !strcmp(r->o.profile, names[i][1]))
            file = names[i][1];
    if (!file)
        die("unknown --relay-profile (dsl, 3g, step, tunnel, cellular)");
    snprintf(cmd, sizeof(cmd), "%s/traces.txt", r->tracedir);
    FILE *f = fopen(cmd, "r");
    char line[2048], opts[600] = "";
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, file, strlen(file)) && line[strlen(file)] == '.') {
            char *last = strrchr(line, '|');
            char *params = NULL;
            /* "file | period | lines | mean | range | parameters | options" */
            int bars = 0;
            for (char *c = line; *c; c++)
                if (*c == '|' && ++bars == 5)
                    params = c + 2;
            if (params && last > params) {
                snprintf(r->profile_desc, sizeof(r->profile_desc), "%.*s", (int)(last - params - 1),
                         params);
            }
            snprintf(opts, sizeof(opts), "%s", last ? last + 2 : "");
            opts[strcspn(opts, "\n")] = 0;
        }
    if (f)
        fclose(f);
    if (!opts[0])
        die("profile not in traces.txt");
    int rp = free_port(SOCK_DGRAM);
    char listen[32], to[32], dur[32], maxc[16], relay_bin[600], log[700];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", rp);
    snprintf(to, sizeof(to), "127.0.0.1:%d", ntohs(r->lg.media.sin_port));
    double total = r->o.mode == MODE_RAMP   ? r->o.ramp_step * (r->o.max_rooms + 1)
                   : r->o.mode == MODE_SOAK ? r->o.soak
                                            : r->o.duration;
    snprintf(dur, sizeof(dur), "%.0f", total + 120);
    snprintf(maxc, sizeof(maxc), "1024");
    snprintf(relay_bin, sizeof(relay_bin), "%s/tafel-relay", r->bindir);
    snprintf(log, sizeof(log), "%s/relay.log", r->outdir);
    char *argv[64] = {relay_bin,    "--listen", listen,          "--to", to,
                      "--duration", dur,        "--max-clients", maxc};
    int n = 9;
    static char optbuf[600];
    snprintf(optbuf, sizeof(optbuf), "%s", opts);
    for (char *tok = strtok(optbuf, " "); tok && n < 62; tok = strtok(NULL, " "))
        argv[n++] = tok;
    r->relay = spawn(argv, r->tracedir, log);
    uv_ip4_addr("127.0.0.1", rp, &r->lg.relay);
    r->lg.use_relay = true;
    usleep(300000);
    if (waitpid(r->relay, NULL, WNOHANG) == r->relay)
        die("tafel-relay exited at start (see relay.log)");
}

/* ---- the run ------------------------------------------------------------------------------- */

static void add_room(run_t *r)
{
    lg_t *lg = &r->lg;
    int room = r->rooms_target++;
    for (int i = 0; i < lg->participants; i++) {
        if (lg->n_parts == lg->cap_parts)
            die("too many participants");
        part_t *p = &lg->parts[lg->n_parts];
        memset(p, 0, sizeof(*p));
        p->fd = -1;
        p->lg = lg;
        p->idx = lg->n_parts;
        p->room = room;
        p->in_room = i;
        p->slot = room * lg->participants + i;
        if (p->slot >= LG_MAX_SLOTS)
            die("more than 1024 participants");
        p->relayed = lg->use_relay && i < lg->relay_who;
        p->decode = p->idx % lg->decode_every == 0 || p->relayed;
        lg->slots[p->slot].part = p->idx;
        for (int z = 0; z < TF_CLIP_N_SIZES; z++)
            if (!lg->clips[p->slot][z] &&
                tf_clip_get(&lg->clips[p->slot][z], (unsigned)p->slot, z, lg->cache_dir) < 0)
                die("cannot encode a clip");
        lg->n_parts++;
    }
}

static void on_stats(lg_http_t *h, const tf_load_http_resp_t *resp, void *arg)
{
    (void)h;
    run_t *r = arg;
    if (!resp || resp->status != 200)
        return;
    cJSON *j = cJSON_ParseWithLength(resp->body, resp->body_len);
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(j, "rss_kib")) && cJSON_IsNumber(v))
        r->stats_rss = v->valuedouble / 1024.0;
    if ((v = cJSON_GetObjectItem(j, "fds")) && cJSON_IsNumber(v))
        r->stats_fds = v->valueint;
    if ((v = cJSON_GetObjectItem(j, "video_encoders")) && cJSON_IsNumber(v))
        r->stats_venc = v->valueint;
    if ((v = cJSON_GetObjectItem(j, "audio_encoders")) && cJSON_IsNumber(v))
        r->stats_aenc = v->valueint;
    if ((v = cJSON_GetObjectItem(j, "queue_drops")) && cJSON_IsNumber(v))
        r->stats_qd = v->valuedouble;
    cJSON_Delete(j);
}

static int connected_count(const lg_t *lg)
{
    int n = 0;
    for (int i = 0; i < lg->n_parts; i++)
        n += lg->parts[i].state == P_CONNECTED;
    return n;
}

static void begin_stop(run_t *r)
{
    if (r->stopping)
        return;
    r->stopping = true;
    r->phase_end = lg_now();
    r->lg.t_end = r->phase_end;
    lg_janus_fold(&r->lg);
    double cpu = r->server         ? proc_cpu_s(r->server)
                 : r->o.server_pid ? proc_cpu_s(r->o.server_pid)
                                   : -1;
    r->info.srv_cpu_s = cpu >= 0 && r->cpu_measure0 >= 0 ? cpu - r->cpu_measure0 : -1;
    r->info.measure_s = (double)(r->phase_end - r->measure_from) / 1e6;
    r->info.gen_cpu_s = self_cpu_s() - r->gen_cpu0;
    r->info.rss_end_mib = r->stats_rss;
    r->info.fds_end = r->stats_fds;
    r->info.queue_drops = r->stats_qd;
    r->info.loadavg_end = loadavg();
    r->info.tick_late_pct = r->ticks ? 100.0 * (double)r->ticks_late / (double)r->ticks : 0;
    r->info.tick_max_lag_ms = (double)r->max_lag_us / 1000.0;
    /* a receiver whose stream stopped before the end is frozen now */
    for (int i = 0; i < r->lg.n_parts; i++) {
        part_t *p = &r->lg.parts[i];
        if (p->state == P_CONNECTED && p->last_frame_at &&
            r->phase_end > p->last_frame_at + 500000) {
            p->st.freezes++;
            p->st.freeze_us += r->phase_end - p->last_frame_at;
        }
        if (p->state >= P_JOINING && p->state <= P_CONNECTED)
            part_leave(p);
    }
}

static void on_tick(uv_timer_t *t)
{
    run_t *r = t->data;
    lg_t *lg = &r->lg;
    uint64_t now = lg_now();
    if (r->last_tick && r->cpu_measure0 >= 0 && !r->stopping) {
        uint64_t lag = now - r->last_tick > 5000 ? now - r->last_tick - 5000 : 0;
        r->ticks++;
        r->ticks_late += lag > 20000;
        if (lag > r->max_lag_us)
            r->max_lag_us = lag;
    }
    r->last_tick = now;
    if (!r->stopping && r->joined < lg->n_parts && now >= r->next_join &&
        (!lg->janus || lg_janus_ready(lg))) {
        part_t *p = &lg->parts[r->joined++];
        if ((lg->janus ? lg_janus_join(p) : part_join(p)) < 0)
            p->state = P_FAILED;
        r->next_join = now + (uint64_t)r->o.join_ms * 1000;
    }
    for (int i = 0; i < lg->n_parts; i++)
        part_tick(&lg->parts[i], now);
    lg_janus_tick(lg, now);
    if (r->stopping) {
        bool busy = false;
        for (int i = 0; i < lg->n_parts; i++)
            busy |= lg->parts[i].state == P_LEAVING;
        if (!busy || now - r->phase_end > 3000000) {
            uv_timer_stop(&r->tick);
            uv_timer_stop(&r->sec);
            uv_close((uv_handle_t *)&r->sigint, NULL);
            uv_close((uv_handle_t *)&r->sigterm, NULL);
            lg_janus_stop(lg);
            for (int i = 0; i < lg->n_parts; i++)
                part_free(&lg->parts[i]);
        }
    }
}

static void progress(run_t *r, const lg_sample_t *s, const lg_totals_t *tt)
{
    if (r->o.quiet)
        return;
    double p50 = lg_percentile(&r->lg.video_lat, 0.5), p95 = lg_percentile(&r->lg.video_lat, 0.95);
    char line[300];
    snprintf(line, sizeof(line),
             "t=%4.0fs rooms %d conn %d/%d rx %4.0f kbit/s late %.1f%% freezes %llu "
             "lat p50/p95 %.0f/%.0f ms srv cpu %3.0f%% rss %.0f MiB enc %d",
             s->t_s, s->rooms, s->connected, r->lg.n_parts, s->rx_kbps_mean, s->late_pct,
             (unsigned long long)tt->freezes, p50, p95, s->srv_cpu_pct, s->rss_mib,
             s->video_encoders);
    if (r->tty)
        fprintf(stderr, "\r%-150s", line);
    else if ((int)s->t_s % 5 == 0)
        fprintf(stderr, "%s\n", line);
}

static void on_second(uv_timer_t *t)
{
    run_t *r = t->data;
    lg_t *lg = &r->lg;
    uint64_t now = lg_now();
    if (!lg->janus)
        lg_http_request(lg, "GET", "/api/stats", NULL, NULL, 0, on_stats, r);
    lg_janus_fold(lg); /* subscriber PCs' figures into their participants */
    pid_t spid = r->server ? r->server : r->o.server_pid;
    double cpu = spid ? proc_cpu_s(spid) : -1;
    lg_sample_t s = {.t_s = (double)(now - r->start) / 1e6,
                     .rooms = r->rooms_target,
                     .connected = connected_count(lg),
                     .pupil_tier = -1};
    if (cpu >= 0 && r->cpu_prev_at)
        s.srv_cpu_pct = 100.0 * (cpu - r->cpu_prev) / ((double)(now - r->cpu_prev_at) / 1e6);
    r->cpu_prev = cpu;
    r->cpu_prev_at = now;
    s.rss_mib = r->stats_rss;
    s.fds = r->stats_fds;
    s.video_encoders = r->stats_venc;
    s.audio_encoders = r->stats_aenc;
    s.queue_drops = r->stats_qd;
    if (r->stats_venc > r->info.video_encoders_max)
        r->info.video_encoders_max = r->stats_venc;
    if (r->stats_aenc > r->info.audio_encoders_max)
        r->info.audio_encoders_max = r->stats_aenc;
    double kb = 0;
    int n = 0;
    part_t *pupil = NULL;
    for (int i = 0; i < lg->n_parts; i++) {
        part_t *p = &lg->parts[i];
        if (p->state == P_CONNECTED) {
            kb += (double)p->sec_bytes * 8 / 1000;
            n++;
        }
        if (!pupil && (p->relayed || !lg->use_relay) && p->state == P_CONNECTED)
            pupil = p;
    }
    if (pupil) {
        s.pupil_kbps = (double)pupil->sec_bytes * 8 / 1000;
        s.pupil_tier = tf_load_tier_rank(pupil->tier);
    }
    for (int i = 0; i < lg->n_parts; i++)
        lg->parts[i].sec_bytes = 0;
    s.rx_kbps_mean = n ? kb / n : 0;
    lg_totals_t tt;
    lg_totals(lg, &tt);
    uint64_t df = tt.frames - r->prev_frames, dl = tt.late_frames - r->prev_late;
    s.frames_per_s = (double)df;
    s.late_pct = df ? 100.0 * (double)dl / (double)df : 0;
    r->prev_frames = tt.frames;
    r->prev_late = tt.late_frames;
    if (r->n_series < LG_SERIES_MAX)
        r->series[r->n_series++] = s;
    progress(r, &s, &tt);
    if (r->stopping)
        return;
    if (lg_janus_failed(lg)) {
        fprintf(stderr, "tafel-load: Janus refused the session or a room: stopping\n");
        r->interrupted = true;
        begin_stop(r);
        return;
    }

    /* phases */
    if (!r->all_joined_at && r->joined == lg->n_parts) {
        bool settled = true;
        for (int i = 0; i < lg->n_parts; i++)
            settled &= lg->parts[i].state == P_CONNECTED || lg->parts[i].state == P_FAILED;
        settled &= lg_janus_settled(lg);
        if (settled) {
            r->all_joined_at = now;
            if (r->measure_from == 0) {
                /* the window starts 3 s after the last join: first key frames are in */
                r->measure_from = now + 3000000;
            }
        }
    }
    if (r->measure_from && now >= r->measure_from && r->cpu_measure0 < 0) {
        r->cpu_measure0 = cpu;
        r->gen_cpu0 = self_cpu_s();
        r->info.rss_start_mib = r->stats_rss;
        r->info.fds_start = r->stats_fds;
        r->ramp_frames0 = tt.frames;
        r->ramp_late0 = tt.late_frames;
        r->ramp_freezes0 = tt.freezes;
    }
    if (r->cpu_measure0 < 0)
        return;
    double in_phase = (double)(now - r->measure_from) / 1e6;
    if (r->o.mode == MODE_STEADY && in_phase >= r->o.duration)
        begin_stop(r);
    else if (r->o.mode == MODE_SOAK && in_phase >= r->o.soak)
        begin_stop(r);
    else if (r->o.mode == MODE_RAMP && in_phase >= r->o.ramp_step) {
        uint64_t f = tt.frames - r->ramp_frames0, l = tt.late_frames - r->ramp_late0,
                 z = tt.freezes - r->ramp_freezes0;
        bool ok =
            f > 0 && (double)l <= 0.01 * (double)f && z == 0 && connected_count(lg) == lg->n_parts;
        if (!r->o.quiet)
            fprintf(stderr, "%sramp: %d rooms, %d participants: %s (late %.2f%%, %llu freezes)\n",
                    r->tty ? "\n" : "", r->rooms_target, lg->n_parts, ok ? "real time" : "FAILED",
                    f ? 100.0 * (double)l / (double)f : 0, (unsigned long long)z);
        if (ok)
            r->ramp_ok_rooms = r->rooms_target;
        if (r->info.n_steps < 64) {
            double c = cpu >= 0 && r->cpu_measure0 >= 0 ? cpu - r->cpu_measure0 : -1;
            r->info.steps[r->info.n_steps++] =
                (lg_ramp_step_t){.rooms = r->rooms_target,
                                 .participants = lg->n_parts,
                                 .cores_used = c > 0 ? c / in_phase : -1,
                                 .late_pct = f ? 100.0 * (double)l / (double)f : 0,
                                 .p95_ms = lg_percentile(&lg->video_lat, 0.95),
                                 .freezes = (unsigned long long)z,
                                 .ok = ok};
        }
        if (!ok || r->rooms_target >= r->o.max_rooms) {
            r->info.ramp_capacity = r->ramp_ok_rooms * lg->participants;
            r->info.ramp_reason =
                ok ? "--max-rooms reached" : (z ? "freezes" : "late frames > 1 %");
            begin_stop(r);
            return;
        }
        /* measure the next step on its own: CPU restarts with the new room */
        add_room(r);
        r->all_joined_at = 0;
        r->measure_from = 0;
        r->cpu_measure0 = -1;
    }
}

static void on_sigint(uv_signal_t *s, int sig)
{
    (void)sig;
    run_t *r = s->data;
    r->interrupted = true;
    begin_stop(r);
}

static void parse_args(opts_t *o, int argc, char **argv)
{
    *o = (opts_t){.rooms = 2,
                  .participants = 4,
                  .duration = 20,
                  .ramp_step = 20,
                  .max_rooms = 16,
                  .join_ms = 100,
                  .relay_who = 1 << 20};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEXT() (v ? (i++, v) : (die("option needs a value"), v))
        if (!strcmp(a, "--rooms"))
            o->rooms = atoi(NEXT());
        else if (!strcmp(a, "--participants"))
            o->participants = atoi(NEXT());
        else if (!strcmp(a, "--duration"))
            o->duration = atof(NEXT());
        else if (!strcmp(a, "--ramp"))
            o->mode = MODE_RAMP;
        else if (!strcmp(a, "--ramp-step"))
            o->ramp_step = atof(NEXT());
        else if (!strcmp(a, "--max-rooms"))
            o->max_rooms = atoi(NEXT());
        else if (!strcmp(a, "--soak")) {
            o->mode = MODE_SOAK;
            o->soak = atof(NEXT());
        } else if (!strcmp(a, "--relay-profile"))
            o->profile = NEXT();
        else if (!strcmp(a, "--relay-who"))
            o->relay_who = atoi(NEXT());
        else if (!strcmp(a, "--server-bin"))
            o->server_bin = NEXT();
        else if (!strcmp(a, "--server-url"))
            o->server_url = NEXT();
        else if (!strcmp(a, "--media-port"))
            o->media_port = atoi(NEXT());
        else if (!strcmp(a, "--janus"))
            o->janus = NEXT();
        else if (!strcmp(a, "--local-ip"))
            o->local_ip = NEXT();
        else if (!strcmp(a, "--uplink-clip"))
            o->uplink_clip = atoi(NEXT());
        else if (!strcmp(a, "--server-pid"))
            o->server_pid = (pid_t)atoi(NEXT());
        else if (!strcmp(a, "--out"))
            o->out = NEXT();
        else if (!strcmp(a, "--decode-every"))
            o->decode_every = atoi(NEXT());
        else if (!strcmp(a, "--talkers"))
            o->talkers = atoi(NEXT());
        else if (!strcmp(a, "--join-interval-ms"))
            o->join_ms = atoi(NEXT());
        else if (!strcmp(a, "--server-arg") && o->n_server_args < 16)
            o->server_args[o->n_server_args++] = NEXT();
        else if (!strcmp(a, "--quiet"))
            o->quiet = 1;
        else if (!strcmp(a, "--check"))
            o->check = 1;
        else {
            fputs(USAGE, strcmp(a, "--help") && strcmp(a, "-h") ? stderr : stdout);
            exit(strcmp(a, "--help") && strcmp(a, "-h") ? 2 : 0);
        }
#undef NEXT
    }
    if (o->rooms < 1 || o->participants < 1 || o->participants > 49 || o->duration <= 0 ||
        o->join_ms < 0 || o->max_rooms < 1)
        die("bad --rooms, --participants (1..49), --duration or --join-interval-ms");
}

/* Which clip (uplink size) the senders ended on, on stdout and at the end of report.md. */
static void print_uplinks(const lg_t *lg, const char *outdir)
{
    int on[TF_CLIP_N_SIZES] = {0}, switches = 0;
    for (int i = 0; i < lg->n_parts; i++) {
        if (lg->parts[i].clip)
            on[lg->parts[i].clip->size]++;
        switches += lg->parts[i].uplink_switches;
    }
    char line[256];
    int n = snprintf(line, sizeof(line), "senders' uplink at the end:");
    for (int z = 0; z < TF_CLIP_N_SIZES && n > 0 && (size_t)n < sizeof(line); z++)
        n +=
            snprintf(line + n, sizeof(line) - (size_t)n, "%s %d on %dx%d (%d kbit/s)", z ? "," : "",
                     on[z], tf_clip_sizes[z].w, tf_clip_sizes[z].h, tf_clip_sizes[z].kbps);
    const part_t *p0 = lg->n_parts ? &lg->parts[0] : NULL;
    if (p0 && p0->uplink_w && n > 0 && (size_t)n < sizeof(line))
        snprintf(line + n, sizeof(line) - (size_t)n,
                 "; the server last asked sender 0 for %dx%d at "
                 "%d kbit/s",
                 p0->uplink_w, p0->uplink_h, p0->uplink_kbps);
    printf("tafel-load: %s; %d switches on `uplink` messages\n", line, switches);
    char path[600];
    snprintf(path, sizeof(path), "%s/report.md", outdir);
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "\n- %s; %d switches on the server's `uplink` messages\n", line, switches);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    static run_t run;
    run_t *r = &run;
    parse_args(&r->o, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    /* the folder of this binary: tafel, tafel-relay and make_traces live beside it */
    ssize_t bl = readlink("/proc/self/exe", r->bindir, sizeof(r->bindir) - 1);
    if (bl <= 0)
        die("cannot find my own folder");
    r->bindir[bl] = 0;
    *strrchr(r->bindir, '/') = 0;
    static char server_bin[600], cache[600];
    if (!r->o.server_bin) {
        snprintf(server_bin, sizeof(server_bin), "%.500s/tafel", r->bindir);
        r->o.server_bin = server_bin;
    }
    if (r->o.out) {
        snprintf(r->outdir, sizeof(r->outdir), "%.400s", r->o.out);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
        snprintf(r->outdir, sizeof(r->outdir), "%.400s/load-results", r->bindir);
        mkdir(r->outdir, 0755);
        snprintf(r->outdir + strlen(r->outdir), sizeof(r->outdir) - strlen(r->outdir), "/%s",
                 stamp);
    }
    mkdir(r->outdir, 0755);
    snprintf(cache, sizeof(cache), "%.500s/load-cache", r->bindir);

    lg_t *lg = &r->lg;
    lg->loop = uv_default_loop();
    lg->realtime_minus_mono_us = realtime_minus_mono();
    lg->cache_dir = cache;
    lg->participants = r->o.participants;
    lg->relay_who = r->o.relay_who;
    lg->talkers = r->o.talkers > 0 && r->o.talkers < lg->participants ? r->o.talkers
                                                                        : lg->participants;
    snprintf(lg->room_prefix, sizeof(lg->room_prefix), "load%d-", (int)getpid() % 10000);
    int total_max = r->o.participants * (r->o.mode == MODE_RAMP ? r->o.max_rooms : r->o.rooms);
    lg->decode_every = r->o.decode_every > 0 ? r->o.decode_every : total_max > 16 ? 4 : 1;
    lg->cap_parts = total_max;
    lg->parts = calloc((size_t)total_max, sizeof(part_t));
    r->series = calloc(LG_SERIES_MAX, sizeof(lg_sample_t));
    if (!lg->parts || !r->series)
        die("out of memory");

    if (r->o.local_ip)
        snprintf(lg->local_ip, sizeof(lg->local_ip), "%s", r->o.local_ip);
    if (r->o.uplink_clip < 0 || r->o.uplink_clip >= TF_CLIP_N_SIZES)
        die("--uplink-clip: 0 (320x180) or 1 (160x90)");
    lg->janus_clip = r->o.uplink_clip;
    if (r->o.janus) {
        char host[64];
        int port;
        if (sscanf(r->o.janus, "%63[^:]:%d", host, &port) != 2 ||
            uv_ip4_addr(host, port, &lg->http) < 0)
            die("--janus HOST:PORT");
        snprintf(r->server_cmd, sizeof(r->server_cmd),
                 "janus (VideoRoom, HTTP API http://%s:%d/janus, pid %d)", host, port,
                 (int)r->o.server_pid);
    } else if (r->o.server_url) {
        char host[64];
        int port;
        if (sscanf(r->o.server_url, "http://%63[^:]:%d", host, &port) != 2 || !r->o.media_port)
            die("--server-url http://HOST:PORT needs --media-port");
        uv_ip4_addr(host, port, &lg->http);
        uv_ip4_addr(host, r->o.media_port, &lg->media);
        snprintf(r->server_cmd, sizeof(r->server_cmd), "%s (running)", r->o.server_url);
    } else {
        start_server(r);
    }
    if (r->o.profile)
        start_relay(r);

    int first_rooms = r->o.mode == MODE_RAMP ? 1 : r->o.rooms;
    if (!r->o.quiet)
        fprintf(stderr, "tafel-load: preparing clips (cached in %s)\n", cache);
    for (int i = 0; i < first_rooms; i++)
        add_room(r);
    if (r->o.mode == MODE_RAMP) /* encode every clip now, not between ramp steps */
        for (int s = first_rooms * lg->participants; s < total_max; s++)
            for (int z = 0; z < TF_CLIP_N_SIZES; z++)
                if (tf_clip_get(&lg->clips[s][z], (unsigned)s, z, cache) < 0)
                    die("cannot encode a clip");

    r->tty = isatty(2);
    r->cpu_measure0 = -1;
    r->info.ramp_capacity = -1;
    r->start = lg_now();
    r->info.loadavg_start = loadavg();
    uv_timer_init(lg->loop, &r->tick);
    uv_timer_init(lg->loop, &r->sec);
    uv_signal_init(lg->loop, &r->sigint);
    uv_signal_init(lg->loop, &r->sigterm);
    r->tick.data = r->sec.data = r->sigint.data = r->sigterm.data = r;
    if (r->o.janus && lg_janus_start(lg) < 0)
        die("cannot reach Janus");
    uv_timer_start(&r->tick, on_tick, 0, 5);
    uv_timer_start(&r->sec, on_second, 1000, 1000);
    uv_signal_start(&r->sigint, on_sigint, SIGINT);
    uv_signal_start(&r->sigterm, on_sigint, SIGTERM);
    uv_run(lg->loop, UV_RUN_DEFAULT);
    if (r->tty && !r->o.quiet)
        fputc('\n', stderr);

    r->info.mode = r->o.mode == MODE_RAMP ? "ramp" : r->o.mode == MODE_SOAK ? "soak" : "steady";
    r->info.profile = r->o.profile;
    r->info.profile_desc = r->profile_desc;
    r->info.rooms = r->rooms_target;
    r->info.participants = lg->participants;
    r->info.relay_who =
        lg->use_relay ? (lg->relay_who < lg->participants ? lg->relay_who : lg->participants) : 0;
    r->info.decode_every = lg->decode_every;
    r->info.talkers = lg->talkers;
    r->info.duration_s = r->o.mode == MODE_SOAK ? r->o.soak : r->o.duration;
    r->info.wall_s = (double)(lg_now() - r->start) / 1e6;
    r->info.cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    r->info.server_cmd = r->server_cmd;
    r->info.server = lg->janus ? "janus" : "tafel";
    lg_janus_fold(lg);
    int rc = lg_report_write(r->outdir, lg, &r->info, r->series, r->n_series);
    if (rc == 0)
        lg_janus_report(lg, r->outdir);
    lg_janus_free(lg);
    stop_child(&r->relay);
    stop_child(&r->server);

    lg_totals_t tt;
    lg_totals(lg, &tt);
    printf("tafel-load: %d receivers, %d connected, %d/%d decoding receivers decoded frames, "
           "%llu stamps read, video latency p50 %.1f ms p95 %.1f ms, audio p50 %.1f ms; results "
           "in %s\n",
           tt.receivers, tt.connected, tt.decoding_ok, tt.decoding,
           (unsigned long long)tt.stamps_read, lg_percentile(&lg->video_lat, 0.5),
           lg_percentile(&lg->video_lat, 0.95), lg_percentile(&lg->audio_lat, 0.5), r->outdir);
    print_uplinks(lg, r->outdir);
    int bad = 0;
    if (r->o.check) {
        for (int i = 0; i < lg->n_parts; i++) {
            const part_t *p = &lg->parts[i];
            const char *why = !p->t_connected                          ? "never connected"
                              : p->st.frames == 0                      ? "received no video frame"
                              : p->st.audio_frames == 0                ? "received no audio frame"
                              : p->decode && p->st.frames_decoded == 0 ? "decoded no frame"
                              : p->decode && p->st.stamps_read == 0    ? "read no frame stamp"
                                                                       : NULL;
            if (why) {
                fprintf(stderr, "tafel-load: check: participant %d %s%s%s\n", i, why,
                        p->fail[0] ? ": " : "", p->fail);
                bad++;
            }
        }
        if (lg->video_lat.n == 0) {
            fprintf(stderr, "tafel-load: check: no mixing latency measured\n");
            bad++;
        }
        if (rc < 0) {
            fprintf(stderr, "tafel-load: check: the report was not written\n");
            bad++;
        }
        printf("tafel-load: check %s\n", bad ? "FAILED" : "passed");
    }
    for (int s = 0; s < LG_MAX_SLOTS; s++)
        for (int z = 0; z < TF_CLIP_N_SIZES; z++)
            tf_clip_free(&lg->clips[s][z]);
    free(lg->parts);
    free(r->series);
    free(lg->video_lat.v);
    free(lg->audio_lat.v);
    uv_loop_close(lg->loop);
    return rc < 0 || r->interrupted || bad ? 1 : 0;
}
