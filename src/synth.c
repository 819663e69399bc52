#include "napkit/synth.h"

#include "napkit/audio.h"
#include "napkit/error.h"
#include "napkit/espeak.h"

#include <errno.h>
#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* One event as espeak-ng reported it, copied out of its buffers. */
typedef struct {
    int type;     // espeakEVENT_WORD or espeakEVENT_PHONEME
    int ms;       // audio position in milliseconds
    int text_pos; // 1-based character position in the text (WORD)
    char ipa[9];  // phoneme name, NUL-terminated (espeak-ng's field holds 8 bytes)
} synth_event;

struct nk_synth {
    int rate; // espeak-ng's output rate (22050 Hz)
    short *pcm;
    size_t n_pcm, cap_pcm;
    synth_event *ev;
    size_t n_ev, cap_ev;
    int failed; // a buffer could not grow inside the callback
    pid_t voice_pid; // the voice process (0: none), its socket and voice
    int voice_fd;
    nk_voice voice;  // voice.voice is a copy, owned
};

/* espeak-ng's callback takes no context pointer: the one live synthesizer. */
static nk_synth *live;

static int collect(short *wav, int n, espeak_EVENT *events) {
    nk_synth *s = live;
    if (!s || s->failed) return 1;
    if (wav && n > 0) {
        if (s->n_pcm + (size_t)n > s->cap_pcm) {
            size_t cap = 2 * (s->n_pcm + (size_t)n);
            short *grown = realloc(s->pcm, cap * sizeof *grown);
            if (!grown) return s->failed = 1;
            s->pcm = grown;
            s->cap_pcm = cap;
        }
        memcpy(s->pcm + s->n_pcm, wav, (size_t)n * sizeof *wav);
        s->n_pcm += (size_t)n;
    }
    for (espeak_EVENT *e = events; e && e->type != espeakEVENT_LIST_TERMINATED; e++) {
        if (e->type != espeakEVENT_WORD && e->type != espeakEVENT_PHONEME) continue;
        if (s->n_ev == s->cap_ev) {
            size_t cap = s->cap_ev ? 2 * s->cap_ev : 256;
            synth_event *grown = realloc(s->ev, cap * sizeof *grown);
            if (!grown) return s->failed = 1;
            s->ev = grown;
            s->cap_ev = cap;
        }
        synth_event *d = &s->ev[s->n_ev++];
        memset(d, 0, sizeof *d);
        d->type = e->type;
        d->ms = e->audio_position;
        d->text_pos = e->text_position;
        if (e->type == espeakEVENT_PHONEME) memcpy(d->ipa, e->id.string, 8);
    }
    return 0;
}

int nk_synth_new(nk_synth **out) {
    *out = NULL;
    if (live) return nk_fail(NK_ERR_ARG, "espeak-ng: this process already has a synthesizer");
    int rc = nk_espeak_init();
    if (rc) return rc;
    nk_espeak_lock();
    espeak_SetSynthCallback(collect);
    nk_espeak_unlock();
    nk_synth *s = calloc(1, sizeof *s);
    if (!s) return nk_fail(NK_ERR_NOMEM, "out of memory creating a synthesizer");
    s->rate = nk_espeak_sample_rate();
    live = s;
    *out = s;
    return NK_OK;
}

static void stop_voice_process(nk_synth *s);

void nk_synth_free(nk_synth *s) {
    if (!s) return;
    if (live == s) live = NULL;
    stop_voice_process(s);
    free(s->pcm);
    free(s->ev);
    free(s);
}

static int set_voice(const nk_voice *v) {
    if ((v->rate && (v->rate < espeakRATE_MINIMUM || v->rate > espeakRATE_MAXIMUM)) ||
        v->pitch < 0 || v->pitch > 100 || v->range < 0 || v->range > 100)
        return nk_fail(NK_ERR_ARG, "espeak-ng: voice %s: rate %d (80–450), pitch %d or range %d (0–100) out of range",
                       v->voice, v->rate, v->pitch, v->range);
    int rc = nk_espeak_set_voice(v->voice);
    if (rc) return rc;
    espeak_SetParameter(espeakRATE, v->rate ? v->rate : espeakRATE_NORMAL, 0);
    espeak_SetParameter(espeakPITCH, v->pitch, 0);
    espeak_SetParameter(espeakRANGE, v->range, 0);
    return NK_OK;
}

/* ---- processes: a voice process per voice, a child per utterance ----
 *
 * espeak-ng carries state from one utterance to the next (the same text twice
 * in one process gives different samples), so every utterance is spoken in a
 * child process forked from an engine in a fixed state: the freshly
 * initialized engine with the voice selected. Selecting a voice costs about
 * as much as speaking a sentence, so it happens once per voice, in a "voice
 * process" forked from the fresh engine, which then forks one child per
 * utterance. Output depends only on (text, voice, seed) and not on what was
 * spoken before, as if each utterance had its own process from scratch.
 *
 * Messages go over Unix socket pairs (send with MSG_NOSIGNAL: a dead peer is
 * an error, not a SIGPIPE): a request is {seed, text length} and the text; a
 * reply is a report and then its samples and events. */

typedef struct {
    unsigned seed;
    size_t len; // text bytes, without the NUL
} request;

typedef struct {
    int rc;
    size_t n_pcm, n_ev;
    char msg[512];
} report;

static int send_all(int fd, const void *buf, size_t n) {
    for (const char *p = buf; n;) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int recv_all(int fd, void *buf, size_t n) {
    for (char *p = buf; n;) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Sends rc (with the error message) and, when it is 0, s's samples and events. */
static int send_reply(int fd, const nk_synth *s, int rc) {
    report h = {rc, rc ? 0 : s->n_pcm, rc ? 0 : s->n_ev, ""};
    snprintf(h.msg, sizeof h.msg, "%s", rc ? nk_last_error() : "");
    return send_all(fd, &h, sizeof h) || send_all(fd, s->pcm, h.n_pcm * sizeof *s->pcm) ||
           send_all(fd, s->ev, h.n_ev * sizeof *s->ev);
}

/* Receives a reply into s: the sender's rc (its message set as the error),
 * or NK_ERR_IO when the sender died before the end of it. */
static int recv_reply(int fd, nk_synth *s, const char *who) {
    report h;
    if (recv_all(fd, &h, sizeof h)) return nk_fail(NK_ERR_IO, "espeak-ng: the %s died", who);
    if (h.rc) return nk_fail(h.rc, "%s", h.msg);
    short *pcm = realloc(s->pcm, (h.n_pcm + 1) * sizeof *pcm);
    if (pcm) s->pcm = pcm, s->cap_pcm = h.n_pcm + 1;
    synth_event *ev = realloc(s->ev, (h.n_ev + 1) * sizeof *ev);
    if (ev) s->ev = ev, s->cap_ev = h.n_ev + 1;
    if (!pcm || !ev) return nk_fail(NK_ERR_NOMEM, "espeak-ng: out of memory receiving audio");
    if (recv_all(fd, s->pcm, h.n_pcm * sizeof *pcm) || recv_all(fd, s->ev, h.n_ev * sizeof *ev))
        return nk_fail(NK_ERR_IO, "espeak-ng: the %s died", who);
    s->n_pcm = h.n_pcm;
    s->n_ev = h.n_ev;
    return NK_OK;
}

/* Forks with a socket to the child; returns the pid (0 in the child), *fd the
 * caller's end. */
static pid_t fork_with_socket(int *fd) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
        nk_fail(NK_ERR_IO, "espeak-ng: cannot create a socket pair: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) nk_fail(NK_ERR_IO, "espeak-ng: cannot fork: %s", strerror(errno));
    close(pid == 0 ? sv[0] : sv[1]);
    *fd = pid == 0 ? sv[1] : sv[0];
    if (pid < 0) close(sv[0]);
    return pid;
}

/* Waits for a child; NK_OK when it exited with status 0. */
static int reap(pid_t pid, const char *who) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return NK_OK;
    return nk_fail(NK_ERR_IO, "espeak-ng: the %s failed (%s %d)", who,
                   WIFSIGNALED(status) ? "signal" : "exit status",
                   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

/* In the voice process: speaks text in a child forked from this engine and
 * collects the child's samples and events into s. */
static int speak_in_child(nk_synth *s, const char *text, unsigned seed) {
    int fd;
    pid_t pid = fork_with_socket(&fd);
    if (pid < 0) return NK_ERR_IO;
    if (pid == 0) {
        s->n_pcm = s->n_ev = 0;
        s->failed = 0;
        int rc = NK_OK;
        srand(seed); // espeak-ng's noise sources draw from rand()
        espeak_ERROR e = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
        if (e != EE_OK) rc = nk_fail(NK_ERR_IO, "espeak-ng: synthesis failed (error %d) for \"%.40s\"", (int)e, text);
        else if (s->failed) rc = nk_fail(NK_ERR_NOMEM, "espeak-ng: out of memory collecting audio");
        _exit(send_reply(fd, s, rc) ? 1 : 0);
    }
    int rc = recv_reply(fd, s, "synthesis process");
    close(fd);
    int reaped = reap(pid, "synthesis process"); // a crash says which signal
    return reaped ? reaped : rc;
}

/* The voice process: selects v, reports whether that worked, then answers
 * requests until its socket closes. */
static void voice_process(nk_synth *s, const nk_voice *v, int fd) {
    s->n_pcm = s->n_ev = 0;
    int rc = set_voice(v), lost = send_reply(fd, s, rc);
    if (rc || lost) _exit(lost);
    request q;
    char *text = NULL;
    while (!recv_all(fd, &q, sizeof q)) {
        char *grown = realloc(text, q.len + 1);
        if (!grown || recv_all(fd, grown, q.len)) _exit(1);
        text = grown;
        text[q.len] = 0;
        if (send_reply(fd, s, speak_in_child(s, text, q.seed))) _exit(1);
    }
    _exit(0);
}

static int same_voice(const nk_voice *a, const nk_voice *b) {
    return !strcmp(a->voice, b->voice) && a->rate == b->rate && a->pitch == b->pitch && a->range == b->range;
}

static void stop_voice_process(nk_synth *s) {
    if (s->voice_pid <= 0) return;
    close(s->voice_fd);
    reap(s->voice_pid, "voice process");
    s->voice_pid = 0;
    free((char *)s->voice.voice);
    s->voice.voice = NULL;
}

/* Makes a voice process for v unless the running one has v; fails when
 * espeak-ng does not accept v. */
static int use_voice(nk_synth *s, const nk_voice *v) {
    if (!v->voice || !v->voice[0]) return nk_fail(NK_ERR_ARG, "espeak-ng: no voice given");
    if (s->voice_pid > 0 && same_voice(&s->voice, v)) return NK_OK;
    stop_voice_process(s);
    char *name = strdup(v->voice);
    if (!name) return nk_fail(NK_ERR_NOMEM, "out of memory");
    int fd;
    pid_t pid = fork_with_socket(&fd);
    if (pid == 0) voice_process(s, v, fd);
    if (pid < 0) {
        free(name);
        return NK_ERR_IO;
    }
    int rc = recv_reply(fd, s, "voice process");
    if (rc) {
        close(fd);
        reap(pid, "voice process");
        free(name);
        return rc;
    }
    s->voice_pid = pid;
    s->voice_fd = fd;
    s->voice = *v;
    s->voice.voice = name;
    return NK_OK;
}

/* Speaks text with v into s->pcm and s->ev (text NULL only checks v). A voice
 * process found dead when the request is sent (killed since the last
 * utterance) is replaced once; one that dies while speaking fails this
 * utterance only, and the next starts a fresh one. */
static int speak(nk_synth *s, const nk_voice *v, const char *text, unsigned seed) {
    for (int attempt = 0;; attempt++) {
        int rc = use_voice(s, v);
        if (rc || !text) return rc;
        request q = {seed, strlen(text)};
        if (!send_all(s->voice_fd, &q, sizeof q) && !send_all(s->voice_fd, text, q.len)) {
            rc = recv_reply(s->voice_fd, s, "voice process");
            if (rc == NK_ERR_IO) stop_voice_process(s);
            return rc;
        }
        stop_voice_process(s);
        if (attempt) return nk_fail(NK_ERR_IO, "espeak-ng: the voice process died");
    }
}

int nk_synth_check_voice(nk_synth *s, const nk_voice *v) {
    if (live != s) return nk_fail(NK_ERR_ARG, "espeak-ng: synthesizer is not live");
    nk_espeak_lock();
    int rc = speak(s, v, NULL, 0);
    nk_espeak_unlock();
    return rc;
}

/* Byte offset of the character at 0-based index `chars` (clamped to the end). */
static size_t char_offset(const char *text, int chars) {
    size_t len = strlen(text), i = 0;
    for (int c = 0; c < chars && i < len; c++) {
        unsigned cp;
        int k = nk_utf8_decode(text + i, len - i, &cp);
        i += k ? (size_t)k : 1;
    }
    return i;
}

/* Word w's label: its stretch of text, from its start (the first word from
 * the text's start) to the next word's start, normalized. Empty stretches
 * (punctuation only) give "" and no word interval. */
static int word_label(const nk_alphabet *a, const char *text, const synth_event *ev, size_t n_ev,
                      size_t w, int first, char **label) {
    *label = NULL;
    size_t from = first ? 0 : char_offset(text, ev[w].text_pos - 1), to = strlen(text);
    for (size_t k = w + 1; k < n_ev; k++) {
        if (ev[k].type == espeakEVENT_WORD && ev[k].text_pos > ev[w].text_pos) {
            to = char_offset(text, ev[k].text_pos - 1);
            break;
        }
    }
    char *span = strndup(text + from, to > from ? to - from : 0);
    if (!span) return nk_fail(NK_ERR_NOMEM, "out of memory labelling words");
    int rc = nk_text_normalize(a, span, label);
    free(span);
    if (rc == NK_ERR_EMPTY) {
        *label = strdup("");
        return *label ? NK_OK : nk_fail(NK_ERR_NOMEM, "out of memory labelling words");
    }
    return rc;
}

/* Events → tiers. A phoneme runs from its event to the next event (phoneme,
 * pause or word); the first phoneme of a word starts at the word's event, so
 * a stop's closure belongs to the stop. A word runs from its first phoneme's
 * start to its last phoneme's end. */
static int build_tiers(nk_synth *s, const nk_alphabet *a, const char *text, nk_textgrid *tg) {
    int tw, tp, rc;
    if ((rc = nk_textgrid_add_tier(tg, "words", &tw)) || (rc = nk_textgrid_add_tier(tg, "phones", &tp)))
        return rc;
    const synth_event *ev = s->ev;
    double pending = -1; // a word event's time until its first phoneme takes it
    double phone_start = 0, word_start = -1, word_end = -1;
    const char *phone = NULL;
    char *word = NULL;
    int words_seen = 0;
    for (size_t k = 0; !rc; k++) {
        int end = k == s->n_ev, is_word = !end && ev[k].type == espeakEVENT_WORD;
        double t = end ? tg->xmax : ev[k].ms / 1000.0;
        if (t > tg->xmax) t = tg->xmax;
        if (phone) {
            rc = nk_textgrid_append(tg, tp, phone_start, t, phone);
            if (phone[0]) word_end = t;
            phone = NULL;
        }
        if (!rc && (is_word || end) && word && word[0] && word_start >= 0)
            rc = nk_textgrid_append(tg, tw, word_start, word_end, word);
        if (rc || end) break;
        if (is_word) {
            free(word);
            rc = word_label(a, text, ev, s->n_ev, k, words_seen++ == 0, &word);
            word_start = word_end = -1;
            pending = t;
        } else {
            phone = nk_espeak_ipa_name(ev[k].ipa);
            phone_start = phone[0] && pending >= 0 ? pending : t;
            pending = -1;
            if (phone[0] && word_start < 0) word_start = phone_start;
        }
    }
    free(word);
    return rc ? rc : nk_textgrid_finish(tg);
}

int nk_synth_speak(nk_synth *s, const nk_voice *v, const nk_alphabet *a, const char *text,
                   unsigned seed, int sample_rate, float **samples, size_t *n, nk_textgrid **tg) {
    *samples = NULL;
    *n = 0;
    *tg = NULL;
    if (live != s) return nk_fail(NK_ERR_ARG, "espeak-ng: synthesizer is not live");
    char *check;
    int rc = nk_text_normalize(a, text, &check);
    if (rc) return rc;
    free(check);
    nk_espeak_lock();
    rc = speak(s, v, text, seed);
    nk_espeak_unlock();
    if (rc) return rc;
    if (s->n_pcm == 0) return nk_fail(NK_ERR_EMPTY, "espeak-ng: no audio for \"%.40s\"", text);
    float *x = malloc(s->n_pcm * sizeof *x);
    if (!x) return nk_fail(NK_ERR_NOMEM, "out of memory converting %zu samples", s->n_pcm);
    for (size_t i = 0; i < s->n_pcm; i++) x[i] = s->pcm[i] / 32768.0f;
    rc = nk_audio_resample(x, s->n_pcm, s->rate, sample_rate, samples, n);
    free(x);
    if (rc) return rc;
    if ((rc = nk_textgrid_new(0, (double)*n / sample_rate, tg)) || (rc = build_tiers(s, a, text, *tg))) {
        free(*samples);
        *samples = NULL;
        *n = 0;
        nk_textgrid_free(*tg);
        *tg = NULL;
    }
    return rc;
}
