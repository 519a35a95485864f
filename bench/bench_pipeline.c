/* bench_pipeline.c — `tafel mix` against the equivalent FFmpeg filter graph (scale + crop +
 * xstack + amix, libx264 and libopus with the same settings, one thread each) on the same inputs,
 * interleaved in one run; and `tafel mix` peak memory for a short and a six-times-longer input.
 * Prints Markdown. CPU time comes from the children's rusage, so other load on the machine
 * changes wall time but hardly CPU time; still only the ratios are meant to be compared. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mixer/layout.h"
#include "mixer/tier.h"

#define N_INPUTS 4

typedef struct run_result {
    double cpu_s;   /* user + system */
    long maxrss_kb;
    int status;
} run_result_t;

/* Runs cmd through /bin/sh with `exec`, so the rusage is the program's own. */
static run_result_t run_measured(const char *cmd)
{
    run_result_t r = {0, 0, -1};
    pid_t pid = fork();
    if (pid < 0)
        return r;
    if (pid == 0) {
        char full[16384];
        snprintf(full, sizeof(full), "exec %s", cmd);
        execl("/bin/sh", "sh", "-c", full, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0)
        return r;
    r.cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
              (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    r.maxrss_kb = ru.ru_maxrss;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static const char *names[N_INPUTS] = {"anna", "ben", "clara", "deniz"};

static void ffmpeg_cmd(char *out, size_t len, const char *clips, const char *dst,
                       const tf_tier_t *t)
{
    tf_layout_t lay;
    tf_layout_compute(&lay, TF_LAYOUT_GRID, t->width, t->height, N_INPUTS);
    int minx = t->width, miny = t->height, maxx = 0, maxy = 0;
    for (int i = 0; i < N_INPUTS; i++) {
        const tf_rect_t *r = &lay.tile[i];
        minx = r->x < minx ? r->x : minx;
        miny = r->y < miny ? r->y : miny;
        maxx = r->x + r->w > maxx ? r->x + r->w : maxx;
        maxy = r->y + r->h > maxy ? r->y + r->h : maxy;
    }
    size_t n = (size_t)snprintf(out, len, "ffmpeg -nostdin -v error -y");
    for (int i = 0; i < N_INPUTS; i++)
        n += (size_t)snprintf(out + n, len - n, " -threads 1 -i %s/%s.mkv", clips, names[i]);
    n += (size_t)snprintf(out + n, len - n, " -filter_complex '");
    for (int i = 0; i < N_INPUTS; i++)
        n += (size_t)snprintf(out + n, len - n,
                              "[%d:v]scale=%d:%d:force_original_aspect_ratio=increase:"
                              "flags=bilinear,crop=%d:%d,setsar=1[v%d];",
                              i, lay.tile[i].w, lay.tile[i].h, lay.tile[i].w, lay.tile[i].h, i);
    for (int i = 0; i < N_INPUTS; i++)
        n += (size_t)snprintf(out + n, len - n, "[v%d]", i);
    n += (size_t)snprintf(out + n, len - n, "xstack=inputs=%d:layout=", N_INPUTS);
    for (int i = 0; i < N_INPUTS; i++)
        n += (size_t)snprintf(out + n, len - n, "%s%d_%d", i ? "|" : "", lay.tile[i].x - minx,
                              lay.tile[i].y - miny);
    n += (size_t)snprintf(out + n, len - n, ",pad=%d:%d:%d:%d[v];", t->width, t->height, minx,
                          miny);
    for (int i = 0; i < N_INPUTS; i++)
        n += (size_t)snprintf(out + n, len - n, "[%d:a]", i);
    n += (size_t)snprintf(out + n, len - n,
                          "amix=inputs=%d[a]' -map '[v]' -map '[a]' -filter_threads 1 "
                          "-filter_complex_threads 1 -r %d -c:v libx264 -threads 1 "
                          "-preset veryfast -tune zerolatency -profile:v baseline -b:v %dk "
                          "-maxrate %dk -bufsize %dk -c:a libopus -application voip -b:a %d "
                          "-ac 1 -ar 48000 %s",
                          N_INPUTS, t->fps, t->video_kbps, t->video_kbps, t->video_kbps * 4 / 10,
                          t->opus_bps, dst);
    (void)maxx;
    (void)maxy;
}

static int make_clips(const char *tafel, const char *dir, int seconds)
{
    char probe[4096], cmd[8192];
    snprintf(probe, sizeof(probe), "%s/%s.mkv", dir, names[N_INPUTS - 1]);
    struct stat sb;
    if (stat(probe, &sb) == 0)
        return 0;
    snprintf(cmd, sizeof(cmd), "%s sample -o %s -n %d -d %d >/dev/null", tafel, dir, N_INPUTS,
             seconds);
    fprintf(stderr, "bench_pipeline: generating %d s sample clips in %s\n", seconds, dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_pipeline TAFEL_BIN WORKDIR [--quick]\n");
        return 2;
    }
    const char *tafel = argv[1], *work = argv[2];
    int quick = argc > 3 && strcmp(argv[3], "--quick") == 0;
    int rounds = quick ? 1 : 5, short_s = quick ? 3 : 10, long_s = quick ? 6 : 60;
    const tf_tier_t *tier = tf_tier_get(TF_TIER_MEDIUM);
    char clips_short[1024], clips_long[1024];
    mkdir(work, 0755);
    snprintf(clips_short, sizeof(clips_short), "%s/clips-%ds", work, short_s);
    snprintf(clips_long, sizeof(clips_long), "%s/clips-%ds", work, long_s);
    if (make_clips(tafel, clips_short, short_s) < 0 || make_clips(tafel, clips_long, long_s) < 0) {
        fprintf(stderr, "bench_pipeline: cannot generate clips with %s\n", tafel);
        return 1;
    }

    char tcmd[16384], fcmd[16384];
    snprintf(tcmd, sizeof(tcmd),
             "%s mix -q %s/anna.mkv %s/ben.mkv %s/clara.mkv %s/deniz.mkv --layout grid "
             "--tier medium -o %s/tafel.mkv",
             tafel, clips_short, clips_short, clips_short, clips_short, work);
    char fout[2048];
    snprintf(fout, sizeof(fout), "%s/ffmpeg.mkv", work);
    ffmpeg_cmd(fcmd, sizeof(fcmd), clips_short, fout, tier);

    double tcpu[16], fcpu[16];
    for (int i = 0; i < rounds; i++) {
        fprintf(stderr, "bench_pipeline: round %d/%d\r", i + 1, rounds);
        run_result_t a = run_measured(tcmd), b = run_measured(fcmd);
        if (a.status != 0 || b.status != 0) {
            fprintf(stderr, "bench_pipeline: a run failed (tafel %d, ffmpeg %d)\n%s\n%s\n",
                    a.status, b.status, tcmd, fcmd);
            return 1;
        }
        tcpu[i] = a.cpu_s;
        fcpu[i] = b.cpu_s;
    }
    fprintf(stderr, "\n");
    double tm = median(tcpu, rounds), fm = median(fcpu, rounds);
    struct stat ts, fs;
    stat(fout, &fs);
    snprintf(fout, sizeof(fout), "%s/tafel.mkv", work);
    stat(fout, &ts);

    printf("### Pipeline: `tafel mix` vs FFmpeg filter graph\n\n");
    printf("%d inputs of %d s (640x360 H.264 + Opus), grid layout, medium tier (%dx%d @ %d fps, "
           "%d kbit/s video, %d kbit/s Opus), one thread each; median of %d interleaved rounds.\n\n",
           N_INPUTS, short_s, tier->width, tier->height, tier->fps, tier->video_kbps,
           tier->opus_bps / 1000, rounds);
    printf("| pipeline | CPU s (user+sys) | output bytes |\n|---|---|---|\n");
    printf("| tafel mix | %.2f | %lld |\n", tm, (long long)ts.st_size);
    printf("| ffmpeg (scale+crop+xstack+amix, libx264, libopus) | %.2f | %lld |\n\n", fm,
           (long long)fs.st_size);
    printf("**CPU ratio ffmpeg / tafel: %.2fx** (target: > 1)\n\n", fm / tm);
    printf("FFmpeg command:\n\n    %s\n\n", fcmd);

    /* Memory: same pipeline on short and long clips. */
    char mcmd[16384];
    long rss[2];
    const char *dirs[2] = {clips_short, clips_long};
    for (int i = 0; i < 2; i++) {
        snprintf(mcmd, sizeof(mcmd),
                 "%s mix -q %s/anna.mkv %s/ben.mkv %s/clara.mkv %s/deniz.mkv --tier medium "
                 "-o %s/mem.mkv",
                 tafel, dirs[i], dirs[i], dirs[i], dirs[i], work);
        run_result_t r = run_measured(mcmd);
        if (r.status != 0) {
            fprintf(stderr, "bench_pipeline: memory run failed\n");
            return 1;
        }
        rss[i] = r.maxrss_kb;
    }
    printf("### Memory: `tafel mix` peak RSS\n\n| input length | peak RSS |\n|---|---|\n");
    printf("| %d s | %.1f MiB |\n| %d s | %.1f MiB |\n\n", short_s, rss[0] / 1024.0, long_s,
           rss[1] / 1024.0);
    double drift = 100.0 * (double)(rss[1] - rss[0]) / (double)rss[0];
    printf("**Peak RSS change from %d s to %d s: %+.1f %%** (target: within 10 %%)\n", short_s,
           long_s, drift);
    return 0;
}
