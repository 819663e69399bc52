/* Events: labelled time spans of an utterance (phones, letters, words), the
 * anchors that NAPs average around.
 *
 * On disk an events file is JSON Lines, one object per line:
 *   {"utt": "1001-1-0003", "tier": "phones", "label": "ʃ", "start": 0.412,
 *    "end": 0.498, "peak": 0.450, "confidence": 0.83, "letter": "s",
 *    "class": "fricative"}
 * utt, tier, label, start and end are required; peak defaults to the span's
 * centre, confidence to 1; letter (the letter whose CTC spike carries the
 * event; for a letter event the letter itself) and class are optional. Times
 * are seconds with 0 <= start <= peak <= end. Blank lines are ignored. */
#ifndef NAPKIT_EVENTS_H
#define NAPKIT_EVENTS_H

#include <stddef.h>
#include <stdio.h>

/* The tiers of an utterance's events, in TextGrid order (alignments and their
 * TextGrids, CTMs and events files all use this one list). */
typedef enum { NK_TIER_WORDS, NK_TIER_LETTERS, NK_TIER_PHONES, NK_N_TIERS } nk_tier_kind;
extern const char *const nk_tier_names[]; /* "words", "letters", "phones", NULL */

typedef struct {
    char *utt;
    nk_tier_kind tier;
    char *label;
    double start, end, peak; /* seconds */
    double confidence;
    char *letter; /* NULL when absent */
    char *cls;    /* "class"; NULL when absent */
    char *arpabet; /* "phone_arpabet"; NULL when absent */
} nk_event;

typedef struct {
    nk_event *ev;
    size_t n, cap;
    char **skipped; /* "FILE:LINE: reason" for each malformed line, in file order */
    size_t n_skipped;
} nk_events;

/* Reads an events file. Malformed lines are skipped and listed in
 * out->skipped; only an unreadable file fails. */
int nk_events_read(const char *path, nk_events *out);
/* Writes events atomically, one JSON object per line. */
int nk_events_write(const char *path, const nk_events *e);
/* Writes one event as its JSON line (times to the millisecond): the one
 * format every events.jsonl writer uses. */
int nk_event_write_line(FILE *fp, const nk_event *v);
/* Appends a copy of ev (its strings are duplicated). */
int nk_events_add(nk_events *e, const nk_event *ev);
void nk_events_free(nk_events *e);

/* Letter events of one utterance from a CTC forced alignment: log_probs is
 * (K, T) over alphabet (K symbols), labels (U) the transcript. Each aligned
 * label becomes a "letters" event with label = letter = its symbol, start/end
 * its Viterbi span, peak its peak frame and confidence the alignment's, at
 * frame_seconds per output frame. Labels whose symbol equals `skip` (e.g. the
 * word separator " "; may be NULL) give no event. NK_ERR_INFEASIBLE when the utterance
 * is too short for its transcript. */
int nk_events_from_alignment(const char *utt, const float *log_probs, int K, int T, const int *labels,
                             int U, int blank, const char *const *alphabet, const char *skip,
                             double frame_seconds, nk_events *out);

#endif
