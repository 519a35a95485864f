/* session_metrics.c — participant figures for /metrics, gathered from the live sessions on the
 * I/O thread and reduced to histograms at once: nothing here keeps or returns a per-participant
 * value, a name or a room. */
#include "server/metrics.h"

#include <string.h>

#include "server/session_internal.h"

const double tf_metrics_rtt_bounds[TF_METRICS_RTT_N] = {0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0};
const double tf_metrics_loss_bounds[TF_METRICS_LOSS_N] = {0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2};
const double tf_metrics_bitrate_bounds[TF_METRICS_BITRATE_N] = {32e3,  64e3, 128e3, 256e3,
                                                                512e3, 1e6,  2e6,   4e6};

static void add(tf_metrics_hist_bitrate_t *h, double v)
{
    h->b[tf_metrics_bucket(tf_metrics_bitrate_bounds, TF_METRICS_BITRATE_N, v)]++;
    h->sum += v;
    h->count++;
}

void tf_session_metrics_collect(tf_server_t *srv, uint64_t now_us, tf_session_metrics_t *out)
{
    memset(out, 0, sizeof(*out));
    for (tf_session_t *s = srv->sessions; s; s = s->next) {
        out->sessions++;
        if (!s->connected)
            continue;
        out->connected++;
        /* Averages over at least a second, so a session that just connected does not show a
         * handshake burst as its bit rate. */
        if (now_us > s->connected_us + 1000000) {
            double secs = (double)(now_us - s->connected_us) / 1e6;
            add(&out->in, (double)s->bytes_in * 8 / secs);
            add(&out->out, (double)s->bytes_out * 8 / secs);
        }
    }
}
