/* sdp_offers.h — realistic SDP offers for test_rtc_sdp.c: Chrome 120, Firefox ESR 115 and
 * Safari iOS 17 as they write them, and small building blocks for edge-case offers.
 * String constants and macros only; include once, from a test. */
#ifndef TF_TEST_SDP_OFFERS_H
#define TF_TEST_SDP_OFFERS_H

/* The offers below are laid out one SDP line per source line; clang-format would merge them. */
/* clang-format off */
#define CRLF "\r\n"

/* ---- Chrome 120 (unified plan, non-trickle: candidates gathered before the POST) ---------- */

#define CHROME_FP "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:" \
                  "F0:A1:58:D0:A1:2C:19:08"
#define CHROME_STREAM "9d0a2f5e-0f3b-4a1f-8f59-3a1a2b6c1f0e"
#define CHROME_CANDIDATES \
    "a=candidate:3348123811 1 udp 2122260223 192.168.1.23 54400 typ host generation 0 " \
        "network-id 1 network-cost 10" CRLF \
    "a=candidate:1467250027 1 udp 2122194687 2001:db8::1a2b 54401 typ host generation 0 " \
        "network-id 2 network-cost 10" CRLF \
    "a=candidate:2187164363 1 tcp 1518280447 192.168.1.23 9 typ host tcptype active " \
        "generation 0 network-id 1 network-cost 10" CRLF
#define CHROME_TRANSPORT \
    "a=ice-ufrag:Xk3q" CRLF \
    "a=ice-pwd:9XQ2yr0cJrF5Pd8WvHk1sTbZ" CRLF \
    "a=ice-options:trickle" CRLF \
    "a=fingerprint:sha-256 " CHROME_FP CRLF \
    "a=setup:actpass" CRLF
#define FB5(pt) \
    "a=rtcp-fb:" pt " goog-remb" CRLF \
    "a=rtcp-fb:" pt " transport-cc" CRLF \
    "a=rtcp-fb:" pt " ccm fir" CRLF \
    "a=rtcp-fb:" pt " nack" CRLF \
    "a=rtcp-fb:" pt " nack pli" CRLF
#define RTX(rtx, pt) \
    "a=rtpmap:" rtx " rtx/90000" CRLF \
    "a=fmtp:" rtx " apt=" pt CRLF
#define CHROME_H264(pt, rtx, mode, plid) \
    "a=rtpmap:" pt " H264/90000" CRLF \
    FB5(pt) \
    "a=fmtp:" pt " level-asymmetry-allowed=1;packetization-mode=" mode \
        ";profile-level-id=" plid CRLF \
    RTX(rtx, pt)
#define CHROME_AUDIO_MSID "a=msid:" CHROME_STREAM " 4c3e2b1a-7d6f-4e8a-9b0c-1d2e3f4a5b6c" CRLF
#define CHROME_AUDIO_SSRC \
    "a=ssrc:1001 cname:f6X8l1bZ0bq0W1Yp" CRLF \
    "a=ssrc:1001 msid:" CHROME_STREAM " 4c3e2b1a-7d6f-4e8a-9b0c-1d2e3f4a5b6c" CRLF
#define CHROME_VIDEO_MSID "a=msid:" CHROME_STREAM " 0b7e6d5c-4f3a-4b2c-8d1e-9f0a1b2c3d4e" CRLF
#define CHROME_VIDEO_SSRC \
    "a=ssrc-group:FID 2001 2002" CRLF \
    "a=ssrc:2001 cname:f6X8l1bZ0bq0W1Yp" CRLF \
    "a=ssrc:2001 msid:" CHROME_STREAM " 0b7e6d5c-4f3a-4b2c-8d1e-9f0a1b2c3d4e" CRLF \
    "a=ssrc:2002 cname:f6X8l1bZ0bq0W1Yp" CRLF \
    "a=ssrc:2002 msid:" CHROME_STREAM " 0b7e6d5c-4f3a-4b2c-8d1e-9f0a1b2c3d4e" CRLF

#define CHROME_SESSION \
    "v=0" CRLF \
    "o=- 4215775240449105457 2 IN IP4 127.0.0.1" CRLF \
    "s=-" CRLF \
    "t=0 0" CRLF \
    "a=group:BUNDLE 0 1" CRLF \
    "a=extmap-allow-mixed" CRLF \
    "a=msid-semantic: WMS " CHROME_STREAM CRLF
#define CHROME_AUDIO(dir, msid, ssrc) \
    "m=audio 54400 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126" CRLF \
    "c=IN IP4 192.168.1.23" CRLF \
    "a=rtcp:9 IN IP4 0.0.0.0" CRLF \
    CHROME_CANDIDATES \
    CHROME_TRANSPORT \
    "a=mid:0" CRLF \
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" CRLF \
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF \
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF \
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF \
    dir CRLF \
    msid \
    "a=rtcp-mux" CRLF \
    "a=rtpmap:111 opus/48000/2" CRLF \
    "a=rtcp-fb:111 transport-cc" CRLF \
    "a=fmtp:111 minptime=10;useinbandfec=1" CRLF \
    "a=rtpmap:63 red/48000/2" CRLF \
    "a=fmtp:63 111/111" CRLF \
    "a=rtpmap:9 G722/8000" CRLF \
    "a=rtpmap:0 PCMU/8000" CRLF \
    "a=rtpmap:8 PCMA/8000" CRLF \
    "a=rtpmap:13 CN/8000" CRLF \
    "a=rtpmap:110 telephone-event/48000" CRLF \
    "a=rtpmap:126 telephone-event/8000" CRLF \
    ssrc
/* Video header extensions as Chrome (and Safari, which shares libwebrtc) lists them. */
#define LIBWEBRTC_VIDEO_EXTMAPS \
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset" CRLF \
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF \
    "a=extmap:13 urn:3gpp:video-orientation" CRLF \
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF \
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay" CRLF \
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type" CRLF \
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing" CRLF \
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space" CRLF \
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF \
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" CRLF \
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id" CRLF
#define CHROME_VIDEO(dir, msid, ssrc) \
    "m=video 54400 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 " \
        "98 99 100 101 112 113 116 117 118" CRLF \
    "c=IN IP4 192.168.1.23" CRLF \
    "a=rtcp:9 IN IP4 0.0.0.0" CRLF \
    CHROME_CANDIDATES \
    CHROME_TRANSPORT \
    "a=mid:1" CRLF \
    LIBWEBRTC_VIDEO_EXTMAPS \
    dir CRLF \
    msid \
    "a=rtcp-mux" CRLF \
    "a=rtcp-rsize" CRLF \
    "a=rtpmap:96 VP8/90000" CRLF \
    FB5("96") \
    RTX("97", "96") \
    CHROME_H264("102", "103", "1", "42001f") \
    CHROME_H264("104", "105", "0", "42001f") \
    CHROME_H264("106", "107", "1", "42e01f") \
    CHROME_H264("108", "109", "0", "42e01f") \
    CHROME_H264("127", "125", "1", "4d001f") \
    CHROME_H264("39", "40", "0", "4d001f") \
    "a=rtpmap:45 AV1/90000" CRLF \
    FB5("45") \
    "a=fmtp:45 level-idx=5;profile=0;tier=0" CRLF \
    RTX("46", "45") \
    "a=rtpmap:98 VP9/90000" CRLF \
    FB5("98") \
    "a=fmtp:98 profile-id=0" CRLF \
    RTX("99", "98") \
    "a=rtpmap:100 VP9/90000" CRLF \
    FB5("100") \
    "a=fmtp:100 profile-id=2" CRLF \
    RTX("101", "100") \
    CHROME_H264("112", "113", "1", "64001f") \
    "a=rtpmap:116 red/90000" CRLF \
    RTX("117", "116") \
    "a=rtpmap:118 ulpfec/90000" CRLF \
    ssrc

static const char chrome_sendrecv[] =
    CHROME_SESSION
    CHROME_AUDIO("a=sendrecv", CHROME_AUDIO_MSID, CHROME_AUDIO_SSRC)
    CHROME_VIDEO("a=sendrecv", CHROME_VIDEO_MSID, CHROME_VIDEO_SSRC);
/* A WHIP publisher: transceivers added with direction "sendonly". */
static const char chrome_sendonly[] =
    CHROME_SESSION
    CHROME_AUDIO("a=sendonly", CHROME_AUDIO_MSID, CHROME_AUDIO_SSRC)
    CHROME_VIDEO("a=sendonly", CHROME_VIDEO_MSID, CHROME_VIDEO_SSRC);
/* A viewer: "recvonly" transceivers carry no msid and no SSRCs. */
static const char chrome_recvonly[] =
    CHROME_SESSION
    CHROME_AUDIO("a=recvonly", "", "")
    CHROME_VIDEO("a=recvonly", "", "");
/* Chrome with a data channel as third section (the web client's chat would add one). */
static const char chrome_datachannel[] =
    "v=0" CRLF
    "o=- 4215775240449105457 2 IN IP4 127.0.0.1" CRLF
    "s=-" CRLF
    "t=0 0" CRLF
    "a=group:BUNDLE 0 1 2" CRLF
    "a=extmap-allow-mixed" CRLF
    "a=msid-semantic: WMS " CHROME_STREAM CRLF
    CHROME_AUDIO("a=sendrecv", CHROME_AUDIO_MSID, CHROME_AUDIO_SSRC)
    CHROME_VIDEO("a=sendrecv", CHROME_VIDEO_MSID, CHROME_VIDEO_SSRC)
    "m=application 54400 UDP/DTLS/SCTP webrtc-datachannel" CRLF
    "c=IN IP4 192.168.1.23" CRLF
    CHROME_TRANSPORT
    "a=mid:2" CRLF
    "a=sctp-port:5000" CRLF
    "a=max-message-size:262144" CRLF;

/* ---- Firefox ESR 115: fingerprint at session level, attributes sorted by name, fmtp before
 * rtpmap, candidates and end-of-candidates in the first section. LF-only here, to cover that
 * line ending. -------------------------------------------------------------------------------- */

#define LF "\n"
#define FF_UUID "{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}"
#define FF_STREAM "{0e9a4c3b-1d2e-4f5a-8b6c-7d8e9f0a1b2c}"
#define FF_FB(pt) \
    "a=rtcp-fb:" pt " nack" LF \
    "a=rtcp-fb:" pt " nack pli" LF \
    "a=rtcp-fb:" pt " ccm fir" LF \
    "a=rtcp-fb:" pt " goog-remb" LF \
    "a=rtcp-fb:" pt " transport-cc" LF
#define FF_SESSION \
    "v=0" LF \
    "o=mozilla...THIS_IS_SDPARTA-115.6.0 3180479458934567251 0 IN IP4 0.0.0.0" LF \
    "s=-" LF \
    "t=0 0" LF \
    "a=fingerprint:sha-256 1D:4E:70:3C:8B:9A:0F:21:6C:55:E2:D7:43:B8:19:A6:F0:3D:7E:C2:58:91:" \
        "AB:64:0E:F5:37:C8:2A:D9:16:B4" LF \
    "a=group:BUNDLE 0 1" LF \
    "a=ice-options:trickle" LF \
    "a=msid-semantic:WMS *" LF
#define FF_AUDIO \
    "m=audio 50714 UDP/TLS/RTP/SAVPF 109 9 0 8 101" LF \
    "c=IN IP4 192.168.1.42" LF \
    "a=candidate:0 1 UDP 2122252543 192.168.1.42 50714 typ host" LF \
    "a=candidate:1 1 UDP 2122187007 0e5f4c3b-8a2d-4b6e-9c1f-7d3a2e5b8c4f.local 50715 typ host" LF \
    "a=candidate:2 1 TCP 2105524479 192.168.1.42 9 typ host tcptype active" LF \
    "a=sendrecv" LF \
    "a=end-of-candidates" LF \
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" LF \
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level" LF \
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid" LF \
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1" LF \
    "a=fmtp:101 0-15" LF \
    "a=ice-pwd:2b7d4b1c0a7e46e1b2c4d5e6f7a8b9c0" LF \
    "a=ice-ufrag:4f1c9e2a" LF \
    "a=mid:0" LF \
    "a=msid:" FF_STREAM " {5d2f8e1a-3c4b-4d6e-9f0a-1b2c3d4e5f6a}" LF \
    "a=rtcp-mux" LF \
    "a=rtpmap:109 opus/48000/2" LF \
    "a=rtpmap:9 G722/8000/1" LF \
    "a=rtpmap:0 PCMU/8000" LF \
    "a=rtpmap:8 PCMA/8000" LF \
    "a=rtpmap:101 telephone-event/8000/1" LF \
    "a=setup:actpass" LF \
    "a=ssrc:3162461012 cname:" FF_UUID LF
#define FF_VIDEO(pts, h264_fmtp) \
    "m=video 50714 UDP/TLS/RTP/SAVPF " pts LF \
    "c=IN IP4 192.168.1.42" LF \
    "a=sendrecv" LF \
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid" LF \
    "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" LF \
    "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset" LF \
    "a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay" LF \
    "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" LF \
    h264_fmtp \
    "a=fmtp:120 max-fs=12288;max-fr=60" LF \
    "a=fmtp:124 apt=120" LF \
    "a=fmtp:121 max-fs=12288;max-fr=60" LF \
    "a=fmtp:125 apt=121" LF \
    "a=fmtp:127 apt=126" LF \
    "a=fmtp:98 apt=97" LF \
    "a=fmtp:119 apt=122" LF \
    "a=ice-pwd:2b7d4b1c0a7e46e1b2c4d5e6f7a8b9c0" LF \
    "a=ice-ufrag:4f1c9e2a" LF \
    "a=mid:1" LF \
    "a=msid:" FF_STREAM " {9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d}" LF \
    FF_FB("120") \
    FF_FB("121") \
    FF_FB("126") \
    FF_FB("97") \
    "a=rtcp-mux" LF \
    "a=rtcp-rsize" LF \
    "a=rtpmap:120 VP8/90000" LF \
    "a=rtpmap:124 rtx/90000" LF \
    "a=rtpmap:121 VP9/90000" LF \
    "a=rtpmap:125 rtx/90000" LF \
    "a=rtpmap:126 H264/90000" LF \
    "a=rtpmap:127 rtx/90000" LF \
    "a=rtpmap:97 H264/90000" LF \
    "a=rtpmap:98 rtx/90000" LF \
    "a=rtpmap:123 ulpfec/90000" LF \
    "a=rtpmap:122 red/90000" LF \
    "a=rtpmap:119 rtx/90000" LF \
    "a=setup:actpass" LF \
    "a=ssrc:1463563384 cname:" FF_UUID LF \
    "a=ssrc:3358409232 cname:" FF_UUID LF \
    "a=ssrc-group:FID 1463563384 3358409232" LF

static const char firefox_sendrecv[] =
    FF_SESSION
    FF_AUDIO
    FF_VIDEO("120 124 121 125 126 127 97 98 123 122 119",
             "a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1" LF
             "a=fmtp:97 profile-level-id=42801f;level-asymmetry-allowed=1" LF);
/* H.264 offered only as 42801f (plain baseline): libwebrtc and we do not treat it as CB. */
static const char firefox_baseline_only[] =
    FF_SESSION
    FF_AUDIO
    FF_VIDEO("120 124 121 125 97 98 123 122 119",
             "a=fmtp:97 profile-level-id=42801f;level-asymmetry-allowed=1;packetization-mode=1" LF);
/* Debian's firefox-esr without the OpenH264 plugin. */
static const char firefox_no_h264[] =
    FF_SESSION
    FF_AUDIO
    FF_VIDEO("120 124 121 125 123 122 119", "");

/* ---- Safari iOS 17: H.264 constrained high first, mDNS host candidate, srflx ------------- */

#define SAFARI_STREAM "2a1f5c6e-8b9d-4e0f-a1b2-c3d4e5f6a7b8"
#define SAFARI_TRANSPORT \
    "a=candidate:2846251523 1 udp 2113937151 7d2c5a8e-3b1f-4c6d-9e0a-8f7b6c5d4e3f.local 61234 " \
        "typ host generation 0 network-cost 999" CRLF \
    "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 0.0.0.0 rport 0 " \
        "generation 0 network-cost 999" CRLF \
    "a=ice-ufrag:vT7c" CRLF \
    "a=ice-pwd:Jm3pXk9Qd2Lr8Zs5Hb1Nw6Yf" CRLF \
    "a=ice-options:trickle" CRLF \
    "a=fingerprint:sha-256 A4:1F:09:C3:5E:B2:77:D0:4A:E8:61:3C:9F:05:B6:D2:18:7A:E3:40:CC:95:" \
        "2B:6F:D1:08:73:EA:5C:B9:14:F6" CRLF \
    "a=setup:actpass" CRLF
#define SAFARI_SESSION \
    "v=0" CRLF \
    "o=- 6142837720935621474 2 IN IP4 127.0.0.1" CRLF \
    "s=-" CRLF \
    "t=0 0" CRLF \
    "a=group:BUNDLE 0 1" CRLF \
    "a=extmap-allow-mixed" CRLF \
    "a=msid-semantic: WMS " SAFARI_STREAM CRLF
#define SAFARI_AUDIO(dir, msid, ssrc) \
    "m=audio 61234 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126" CRLF \
    "c=IN IP4 203.0.113.7" CRLF \
    "a=rtcp:9 IN IP4 0.0.0.0" CRLF \
    SAFARI_TRANSPORT \
    "a=mid:0" CRLF \
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" CRLF \
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF \
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01" CRLF \
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF \
    dir CRLF \
    msid \
    "a=rtcp-mux" CRLF \
    "a=rtpmap:111 opus/48000/2" CRLF \
    "a=rtcp-fb:111 transport-cc" CRLF \
    "a=fmtp:111 minptime=10;useinbandfec=1" CRLF \
    "a=rtpmap:63 red/48000/2" CRLF \
    "a=fmtp:63 111/111" CRLF \
    "a=rtpmap:9 G722/8000" CRLF \
    "a=rtpmap:0 PCMU/8000" CRLF \
    "a=rtpmap:8 PCMA/8000" CRLF \
    "a=rtpmap:13 CN/8000" CRLF \
    "a=rtpmap:110 telephone-event/48000" CRLF \
    "a=rtpmap:126 telephone-event/8000" CRLF \
    ssrc
#define SAFARI_VIDEO(dir, msid, ssrc) \
    "m=video 61234 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 127 125 104" CRLF \
    "c=IN IP4 203.0.113.7" CRLF \
    "a=rtcp:9 IN IP4 0.0.0.0" CRLF \
    SAFARI_TRANSPORT \
    "a=mid:1" CRLF \
    LIBWEBRTC_VIDEO_EXTMAPS \
    dir CRLF \
    msid \
    "a=rtcp-mux" CRLF \
    "a=rtcp-rsize" CRLF \
    CHROME_H264("96", "97", "1", "640c1f") \
    CHROME_H264("98", "99", "1", "42e01f") \
    "a=rtpmap:100 VP8/90000" CRLF \
    FB5("100") \
    RTX("101", "100") \
    "a=rtpmap:127 red/90000" CRLF \
    RTX("125", "127") \
    "a=rtpmap:104 ulpfec/90000" CRLF \
    ssrc
#define SAFARI_AUDIO_MSID "a=msid:" SAFARI_STREAM " 6e5d4c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b" CRLF
#define SAFARI_AUDIO_SSRC \
    "a=ssrc:2873141002 cname:Zf3kQ9xB7mL2pT0v" CRLF \
    "a=ssrc:2873141002 msid:" SAFARI_STREAM " 6e5d4c3b-2a1f-4e0d-9c8b-7a6f5e4d3c2b" CRLF
#define SAFARI_VIDEO_MSID "a=msid:" SAFARI_STREAM " 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f" CRLF
#define SAFARI_VIDEO_SSRC \
    "a=ssrc-group:FID 3990611571 1290372213" CRLF \
    "a=ssrc:3990611571 cname:Zf3kQ9xB7mL2pT0v" CRLF \
    "a=ssrc:3990611571 msid:" SAFARI_STREAM " 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f" CRLF \
    "a=ssrc:1290372213 cname:Zf3kQ9xB7mL2pT0v" CRLF \
    "a=ssrc:1290372213 msid:" SAFARI_STREAM " 1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f" CRLF

static const char safari_sendrecv[] =
    SAFARI_SESSION
    SAFARI_AUDIO("a=sendrecv", SAFARI_AUDIO_MSID, SAFARI_AUDIO_SSRC)
    SAFARI_VIDEO("a=sendrecv", SAFARI_VIDEO_MSID, SAFARI_VIDEO_SSRC);
static const char safari_sendonly[] =
    SAFARI_SESSION
    SAFARI_AUDIO("a=sendonly", SAFARI_AUDIO_MSID, SAFARI_AUDIO_SSRC)
    SAFARI_VIDEO("a=sendonly", SAFARI_VIDEO_MSID, SAFARI_VIDEO_SSRC);
static const char safari_recvonly[] =
    SAFARI_SESSION
    SAFARI_AUDIO("a=recvonly", "", "")
    SAFARI_VIDEO("a=recvonly", "", "");

/* ---- small offers for the edge cases ------------------------------------------------------ */

#define MIN_HEAD "v=0" CRLF "o=- 1 2 IN IP4 127.0.0.1" CRLF "s=-" CRLF "t=0 0" CRLF
#define MIN_TRANSPORT \
    "a=ice-ufrag:abcd" CRLF \
    "a=ice-pwd:0123456789abcdefghijkl" CRLF \
    "a=fingerprint:sha-256 " CHROME_FP CRLF \
    "a=setup:actpass" CRLF \
    "a=rtcp-mux" CRLF
#define MIN_VIDEO(pts, mid, lines) \
    "m=video 9 UDP/TLS/RTP/SAVPF " pts CRLF \
    "c=IN IP4 0.0.0.0" CRLF \
    "a=mid:" mid CRLF \
    MIN_TRANSPORT \
    lines
#define MIN_AUDIO(pts, mid, lines) \
    "m=audio 9 UDP/TLS/RTP/SAVPF " pts CRLF \
    "c=IN IP4 0.0.0.0" CRLF \
    "a=mid:" mid CRLF \
    MIN_TRANSPORT \
    lines
#define OPUS_LINES "a=rtpmap:111 opus/48000/2" CRLF
/* clang-format on */

#endif /* TF_TEST_SDP_OFFERS_H */
