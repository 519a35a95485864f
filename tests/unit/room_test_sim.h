/* room_test_sim.h — simulated room members for test_room.c: what they send (H.264 of a colour,
 * Opus of a tone, RFC 6464 levels) and how what the room sends them is decoded and measured.
 * Header-only, included once by test_room.c after cmocka and the Tafel headers. */
#ifndef TF_ROOM_TEST_SIM_H
#define TF_ROOM_TEST_SIM_H

enum {
    MAX_PARTS = 24,
    SRC_W = 160, /* what each simulated browser sends */
    SRC_H = 90,
    FPS = 15,
    A_SAMPLES = 960, /* 20 ms at 48 kHz */
    MAX_PAYLOAD = 1100,
    PT_OPUS = 111,
    PT_H264 = 102,
    EXT_AUDIO_LEVEL = 1,
    ID_BASE = 100,
    AU_CAP = 512 * 1024,
    PCM_CAP = 48000 * 4, /* the newest 4 s a receiver heard */
    MAX_TILES = TF_LAYOUT_MAX_TILES,
    MAX_KEYS = 32,
};

#define T0_US 5000000000ull /* the fake clock starts at 5000 s of uptime */
#define SEED 0x7a4e1c0de5ull
#define TONE_AMP 0.15
#define MS 1000ull
#define SEC 1000000ull

/* The three senders: a saturated colour (BT.601 limited range, far from the muted placeholder
 * colours) and a tone; no frequency is a sum, difference or 2f1 - f2 of the others. */
typedef struct look {
    uint8_t y, u, v;
    double hz;
    const char *name;
} look_t;

static const look_t looks[3] = {
    {76, 100, 200, 440.0, "Ada Rot"},
    {140, 70, 60, 620.0, "Ben Gruen"},
    {60, 200, 110, 910.0, "Cleo Blau"},
};

typedef struct tile {
    uint32_t id;
    int x, y, w, h;
    int video, camera_off, mic_off;
} tile_t;

typedef struct part {
    uint32_t id;
    int who; /* index into looks, or -1 for a member that only receives */
    int sends, receives, decode, joined;
    int dbov; /* RFC 6464 level to signal: -1 measures the PCM, else this (0..127) */
    uint32_t vssrc, assrc, out_vssrc, out_assrc;
    /* sending */
    tf_venc_t *venc;
    tf_frame_t *pic;
    tf_opus_enc_t *oenc;
    uint16_t vseq, aseq;
    uint32_t vts, ats;
    uint64_t frames, v_start_us, next_v_us, next_a_us;
    double phase;
    int key_asked; /* the room sent a PLI or FIR for our video */
    /* receiving */
    uint64_t v_pkts, a_pkts, v_breaks, a_breaks, strays, after_leave;
    bool v_started, a_started;
    uint16_t v_last, a_last;
    tf_rtp_h264_depacketizer_t dp;
    uint8_t *au;
    tf_vdec_t *vdec;
    tf_frame_t *shown; /* the newest picture decoded from the room */
    uint64_t v_frames, v_errors;
    uint64_t key_us[MAX_KEYS]; /* arrival of each IDR access unit */
    int n_keys;
    tf_opus_dec_t *adec;
    float *pcm;
    size_t pcm_len;
    tile_t tiles[MAX_TILES]; /* from the newest layout event */
    int n_tiles, layouts, bad_json;
    char layout_kind[16]; /* "grid", "speaker", "presentation" of the newest layout event */
} part_t;

typedef struct sim {
    tf_room_t *room;
    uint64_t now, rng;
    part_t parts[MAX_PARTS];
    int n;
    uint64_t broadcasts, spins, unknown_out;
    tf_room_out_t out;
} sim_t;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t hash3(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 0x9e3779b1u ^ b * 0x85ebca77u ^ c * 0xc2b2ae3du;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    return h ^ (h >> 12);
}

/* A check of a bug found when this test was written (see the top of the file). */
#define expect_fixed(ok, what) expect_fixed_at((ok), (what), __FILE__, __LINE__)
static void expect_fixed_at(bool ok, const char *what, const char *file, int line)
{
    if (ok)
        return;
    print_error("%s:%d: engine bug is back: %s\n", file, line, what);
    _fail(file, line);
}

/* ---- members -------------------------------------------------------------------------------- */

/* The room of a test; *state owns it (teardown frees it, also after a failed check). */
static sim_t *sim_create(void **state, int per_member)
{
    sim_t *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    *state = s;
    s->now = T0_US;
    s->rng = SEED ^ (uint64_t)per_member;
    tf_room_config_t cfg = {.per_member_encoders = per_member, .cpu_mask = ~0u};
    assert_int_equal(tf_room_create(&s->room, "test", &cfg, s->now), 0);
    return s;
}

static void member_info(const part_t *p, tf_member_info_t *mi)
{
    memset(mi, 0, sizeof(*mi));
    mi->id = p->id;
    if (p->who >= 0)
        snprintf(mi->name, sizeof(mi->name), "%s", looks[p->who].name);
    else
        snprintf(mi->name, sizeof(mi->name), "Gast %u", p->id);
    tf_member_media_t *a = &mi->audio, *v = &mi->video;
    a->present = v->present = 1;
    a->sends = v->sends = p->sends;
    a->receives = v->receives = p->receives;
    a->codec = TF_SDP_CODEC_OPUS;
    a->pt = PT_OPUS;
    a->rtx_pt = -1;
    a->out_ssrc = p->out_assrc;
    a->in_ssrc = p->sends ? p->assrc : 0;
    a->ext[TF_SDP_EXT_AUDIO_LEVEL] = EXT_AUDIO_LEVEL;
    v->codec = TF_SDP_CODEC_H264;
    v->pt = PT_H264;
    v->rtx_pt = -1;
    v->out_ssrc = p->out_vssrc;
    v->in_ssrc = p->sends ? p->vssrc : 0;
    v->fb = TF_SDP_FB_NACK | TF_SDP_FB_PLI;
}

/* Forgets what this member received (before it joins again). */
static void rx_reset(part_t *p)
{
    p->v_started = p->a_started = false;
    p->v_pkts = p->a_pkts = p->v_breaks = p->a_breaks = 0;
    if (p->au)
        tf_rtp_h264_depacketize_reset(&p->dp);
    tf_frame_unref(&p->shown);
    p->n_keys = 0;
    p->pcm_len = 0;
    p->n_tiles = 0;
}

static void sim_join(sim_t *s, part_t *p)
{
    rx_reset(p);
    tf_member_info_t mi;
    member_info(p, &mi);
    assert_int_equal(tf_room_join(s->room, &mi, s->now), 0);
    p->joined = 1;
    /* Browsers do not start in step: the first frame and packet within one interval. */
    p->v_start_us = p->next_v_us = s->now + splitmix(&s->rng) % (SEC / FPS);
    p->frames = 0;
    p->next_a_us = s->now + splitmix(&s->rng) % (20 * MS);
}

/* A member: who >= 0 sends looks[who] (and receives unless told otherwise); who < 0 receives. */
static part_t *sim_add(sim_t *s, int who, int receives, int decode)
{
    assert_true(s->n < MAX_PARTS);
    part_t *p = &s->parts[s->n];
    p->id = (uint32_t)(ID_BASE + s->n);
    s->n++;
    p->who = who;
    p->sends = who >= 0;
    p->receives = receives;
    p->decode = decode && receives;
    p->dbov = -1;
    p->vssrc = (uint32_t)splitmix(&s->rng);
    p->assrc = (uint32_t)splitmix(&s->rng);
    p->out_vssrc = (uint32_t)splitmix(&s->rng);
    p->out_assrc = (uint32_t)splitmix(&s->rng);
    p->vseq = (uint16_t)splitmix(&s->rng);
    p->aseq = (uint16_t)splitmix(&s->rng);
    p->vts = (uint32_t)splitmix(&s->rng);
    p->ats = (uint32_t)splitmix(&s->rng);
    if (p->sends) {
        tf_venc_config_t vc;
        tf_venc_config_default(&vc, TF_VCODEC_H264, SRC_W, SRC_H, 150);
        vc.fps_num = FPS;
        vc.fps_den = 1;
        vc.intra_refresh = 0;
        vc.keyint_max = 100000; /* like libwebrtc: an IDR at the start and when asked */
        assert_int_equal(tf_venc_create(&p->venc, &vc), 0);
        assert_non_null(p->pic = tf_frame_alloc(SRC_W, SRC_H));
        tf_opus_enc_config_t oc;
        tf_opus_enc_config_default(&oc);
        oc.bitrate_bps = 32000;
        assert_int_equal(tf_opus_enc_create(&p->oenc, &oc), 0);
    }
    if (p->decode) {
        assert_non_null(p->au = malloc(AU_CAP));
        tf_rtp_h264_depacketize_init(&p->dp, p->au, AU_CAP);
        assert_int_equal(tf_vdec_create(&p->vdec, TF_VCODEC_H264), 0);
        assert_int_equal(tf_opus_dec_create(&p->adec, 1), 0);
        assert_non_null(p->pcm = malloc(sizeof(float) * PCM_CAP));
    }
    sim_join(s, p);
    return p;
}

static void sim_leave(sim_t *s, part_t *p)
{
    tf_room_leave(s->room, p->id, s->now);
    p->joined = 0;
}

static void sim_free(sim_t *s)
{
    tf_room_destroy(&s->room);
    assert_null(s->room);
    for (int i = 0; i < s->n; i++) {
        part_t *p = &s->parts[i];
        tf_venc_destroy(&p->venc);
        tf_frame_unref(&p->pic);
        tf_opus_enc_destroy(&p->oenc);
        tf_vdec_destroy(&p->vdec);
        tf_frame_unref(&p->shown);
        tf_opus_dec_destroy(&p->adec);
        free(p->au);
        free(p->pcm);
    }
    free(s);
}

static part_t *part_by_id(sim_t *s, uint32_t id)
{
    for (int i = 0; i < s->n; i++)
        if (s->parts[i].id == id)
            return &s->parts[i];
    return NULL;
}

/* ---- what members send ---------------------------------------------------------------------- */

/* The member's colour with a little texture (+-8 in luma) panning a pixel a frame. */
static void draw(part_t *p)
{
    const look_t *l = &looks[p->who];
    tf_frame_t *f = p->pic;
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->plane[0] + (size_t)y * (size_t)f->stride[0];
        for (int x = 0; x < f->width; x++) {
            uint32_t h =
                hash3((uint32_t)p->who, (uint32_t)(x + (int)p->frames) >> 1, (uint32_t)y >> 1);
            row[x] = (uint8_t)(l->y + (int)(h & 15) - 8);
        }
    }
    for (int y = 0; y < tf_frame_chroma_h(f); y++) {
        memset(f->plane[1] + (size_t)y * (size_t)f->stride[1], l->u, (size_t)tf_frame_chroma_w(f));
        memset(f->plane[2] + (size_t)y * (size_t)f->stride[2], l->v, (size_t)tf_frame_chroma_w(f));
    }
}

static void send_rtp(sim_t *s, part_t *p, tf_rtp_packet_t *rp)
{
    uint8_t buf[1500];
    int n = tf_rtp_marshal_to(rp, buf, sizeof(buf));
    assert_true(n > 0);
    tf_room_rtp_in(s->room, p->id, s->now, buf, (size_t)n);
}

static void send_video(sim_t *s, part_t *p)
{
    draw(p);
    p->pic->pts_us = (int64_t)(p->frames * SEC / FPS);
    tf_venc_packet_t au;
    assert_int_equal(tf_venc_encode(p->venc, p->pic, p->key_asked || !p->frames, &au), 0);
    p->key_asked = 0;
    p->frames++;
    if (au.size) {
        tf_rtp_h264_packetizer_t pk;
        assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, MAX_PAYLOAD), 0);
        uint8_t pay[MAX_PAYLOAD + 16];
        bool marker;
        int n;
        while ((n = tf_rtp_h264_packetize_next(&pk, pay, sizeof(pay), &marker)) > 0) {
            tf_rtp_packet_t rp;
            memset(&rp, 0, sizeof(rp));
            rp.payload_type = PT_H264;
            rp.marker = marker;
            rp.seq = p->vseq++;
            rp.timestamp = p->vts;
            rp.ssrc = p->vssrc;
            rp.payload = pay;
            rp.payload_len = (size_t)n;
            send_rtp(s, p, &rp);
        }
        assert_int_equal(n, -EAGAIN);
    }
    p->vts += 90000 / FPS;
}

/* Encodes one 20 ms frame of p's audio and sends it with its RFC 6464 level (-dBov). */
static void send_opus(sim_t *s, part_t *p, const float *pcm, uint8_t level)
{
    uint8_t pay[400];
    int n = tf_opus_enc_encode(p->oenc, pcm, pay, sizeof(pay));
    assert_true(n > 0);
    tf_rtp_packet_t rp;
    memset(&rp, 0, sizeof(rp));
    rp.payload_type = PT_OPUS;
    rp.seq = p->aseq++;
    rp.timestamp = p->ats;
    rp.ssrc = p->assrc;
    rp.payload = pay;
    rp.payload_len = (size_t)n;
    uint8_t lvl[1];
    tf_rtp_put_audio_level(lvl, true, level);
    assert_int_equal(tf_rtp_ext_set(&rp, EXT_AUDIO_LEVEL, lvl, 1), 0);
    rp.ext_profile = TF_RTP_EXT_ONE_BYTE;
    send_rtp(s, p, &rp);
    p->ats += A_SAMPLES;
}

static void send_audio(sim_t *s, part_t *p)
{
    float pcm[A_SAMPLES];
    double sum = 0, step = 2 * M_PI * looks[p->who].hz / TF_OPUS_RATE;
    for (int i = 0; i < A_SAMPLES; i++) {
        double v = TONE_AMP * sin(p->phase);
        p->phase = fmod(p->phase + step, 2 * M_PI);
        pcm[i] = (float)v;
        sum += v * v;
    }
    double dbov = -10 * log10(sum / A_SAMPLES + 1e-12) - 3.01; /* a full-scale sine is 0 dBov */
    if (p->dbov >= 0)
        dbov = p->dbov;
    send_opus(s, p, pcm, (uint8_t)(dbov < 0 ? 0 : dbov > 127 ? 127 : dbov));
}

/* ---- what members receive ------------------------------------------------------------------- */

static int json_int(const char *obj, const char *end, const char *key, int *out)
{
    const char *k = strstr(obj, key);
    if (!k || k >= end)
        return -1;
    *out = atoi(k + strlen(key));
    return 0;
}

/* The tiles of a layout event: {"id": N, "name": "...", "x": N, ..., "camera_off": B}. */
static void parse_layout(part_t *p, const char *json)
{
    p->layouts++;
    json_error_t jerr;
    json_t *valid = json_loads(json, 0, &jerr); /* names are users' text: escaped or broken */
    if (!valid)
        p->bad_json++;
    json_decref(valid);
    const char *kind = strstr(json, "\"layout\": \"");
    p->layout_kind[0] = '\0';
    if (kind)
        sscanf(kind + 11, "%15[a-z]", p->layout_kind);
    size_t len = strlen(json);
    if (len < 2 || strcmp(json + len - 2, "]}") != 0)
        p->bad_json++;
    const char *o = strstr(json, "\"tiles\": [");
    int n = 0;
    while (o && (o = strstr(o, "{\"id\": ")) && n < MAX_TILES) {
        const char *end = strchr(o, '}');
        if (!end)
            break;
        tile_t *t = &p->tiles[n];
        memset(t, 0, sizeof(*t));
        t->id = (uint32_t)strtoul(o + 7, NULL, 10);
        int ok = json_int(o, end, "\"x\": ", &t->x) == 0 &&
                 json_int(o, end, "\"y\": ", &t->y) == 0 &&
                 json_int(o, end, "\"w\": ", &t->w) == 0 && json_int(o, end, "\"h\": ", &t->h) == 0;
        const char *cam = strstr(o, "\"camera_off\": "), *vid = strstr(o, "\"video\": ");
        if (!ok || !cam || cam > end || !vid || vid > end) {
            p->bad_json++;
            break;
        }
        t->camera_off = !strncmp(cam + 14, "true", 4);
        const char *mic = strstr(o, "\"mic_off\": ");
        t->mic_off = mic && mic < end && !strncmp(mic + 11, "true", 4);
        t->video = !strncmp(vid + 9, "true", 4);
        n++;
        o = end;
    }
    p->n_tiles = n;
}

static const tile_t *tile_of(const part_t *p, uint32_t id)
{
    for (int i = 0; i < p->n_tiles; i++)
        if (p->tiles[i].id == id)
            return &p->tiles[i];
    return NULL;
}

static void rx_video(sim_t *s, part_t *p, const tf_rtp_packet_t *rp)
{
    if (p->v_started && rp->seq != (uint16_t)(p->v_last + 1))
        p->v_breaks++;
    p->v_started = true;
    p->v_last = rp->seq;
    p->v_pkts++;
    if (!p->decode)
        return;
    tf_rtp_h264_depacketize_push(&p->dp, rp->seq, rp->timestamp, rp->marker, rp->payload,
                                 rp->payload_len);
    tf_rtp_h264_frame_t f;
    if (tf_rtp_h264_depacketize_poll(&p->dp, &f) < 0)
        return;
    if (f.keyframe && p->n_keys < MAX_KEYS)
        p->key_us[p->n_keys++] = s->now;
    tf_frame_t *pic = NULL;
    int e = tf_vdec_decode(p->vdec, f.data, f.size, (int64_t)s->now, &pic);
    if (e < 0 && e != -EAGAIN)
        p->v_errors++;
    if (pic) {
        tf_frame_unref(&p->shown);
        p->shown = pic;
        p->v_frames++;
    }
}

static void rx_audio(part_t *p, const tf_rtp_packet_t *rp)
{
    if (p->a_started && rp->seq != (uint16_t)(p->a_last + 1))
        p->a_breaks++;
    p->a_started = true;
    p->a_last = rp->seq;
    p->a_pkts++;
    if (!p->decode)
        return;
    float pcm[5760];
    int n = tf_opus_dec_decode(p->adec, rp->payload, rp->payload_len, 0, pcm, 5760);
    if (n <= 0)
        return;
    if (p->pcm_len + (size_t)n > PCM_CAP) { /* keep the newest half */
        size_t keep = PCM_CAP / 2;
        memmove(p->pcm, p->pcm + p->pcm_len - keep, sizeof(float) * keep);
        p->pcm_len = keep;
    }
    memcpy(p->pcm + p->pcm_len, pcm, sizeof(float) * (size_t)n);
    p->pcm_len += (size_t)n;
}

static void rx_rtcp(part_t *p, const tf_room_out_t *o)
{
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t rp;
    if (tf_rtcp_iter_init(&it, o->data, o->len) < 0) {
        p->strays++;
        return;
    }
    while (tf_rtcp_iter_next(&it, &rp) == 1) {
        if ((rp.type == TF_RTCP_PLI && rp.pli.media_ssrc == p->vssrc) || rp.type == TF_RTCP_FIR)
            p->key_asked = 1; /* a browser sends an IDR with its next frame */
    }
}

static void drain(sim_t *s)
{
    tf_room_out_t *o = &s->out;
    while (tf_room_poll_out(s->room, o) == 0) {
        part_t *p = part_by_id(s, o->member);
        if (!p) {
            s->unknown_out++;
            continue;
        }
        if (!p->joined)
            p->after_leave++;
        if (o->rtcp) {
            rx_rtcp(p, o);
            continue;
        }
        tf_rtp_packet_t rp;
        if (tf_rtp_parse(&rp, o->data, o->len) < 0)
            p->strays++;
        else if (rp.ssrc == p->out_vssrc && rp.payload_type == PT_H264)
            rx_video(s, p, &rp);
        else if (rp.ssrc == p->out_assrc && rp.payload_type == PT_OPUS)
            rx_audio(p, &rp);
        else
            p->strays++;
    }
    uint32_t to;
    char *json;
    while (tf_room_poll_event(s->room, &to, &json) == 0) {
        part_t *p = to ? part_by_id(s, to) : NULL;
        if (!to)
            s->broadcasts++;
        else if (!p)
            s->unknown_out++;
        else if (strstr(json, "\"type\": \"layout\""))
            parse_layout(p, json);
        free(json);
    }
}

/* Runs the room and its members for dur_us of simulated time, event to event. */
/* Every sending participant sends what is due by s->now: video frames at FPS, 20 ms audio. */
static void sim_send_due(sim_t *s)
{
    for (int i = 0; i < s->n; i++) {
        part_t *p = &s->parts[i];
        if (!p->joined || !p->sends)
            continue;
        while (p->next_v_us <= s->now) {
            send_video(s, p);
            p->next_v_us = p->v_start_us + p->frames * SEC / FPS;
        }
        while (p->next_a_us <= s->now) {
            send_audio(s, p);
            p->next_a_us += 20 * MS;
        }
    }
}

static void sim_run(sim_t *s, uint64_t dur_us)
{
    uint64_t end = s->now + dur_us;
    int stuck = 0;
    for (;;) {
        sim_send_due(s);
        drain(s);
        if (tf_room_next_deadline(s->room) <= s->now) {
            tf_room_tick(s->room, s->now);
            drain(s);
        }
        if (s->now >= end)
            break;
        uint64_t next = tf_room_next_deadline(s->room);
        for (int i = 0; i < s->n; i++) {
            const part_t *p = &s->parts[i];
            if (!p->joined || !p->sends)
                continue;
            next = p->next_v_us < next ? p->next_v_us : next;
            next = p->next_a_us < next ? p->next_a_us : next;
        }
        next = next < end ? next : end;
        if (next <= s->now) {
            if (++stuck > 100) { /* the room keeps asking to run now */
                s->spins++;
                stuck = 0;
                next = s->now + MS;
            } else {
                next = s->now;
            }
        } else {
            stuck = 0;
        }
        s->now = next;
    }
}

#endif
