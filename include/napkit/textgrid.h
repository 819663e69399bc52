/* Praat TextGrids with interval tiers: the synthesizer's ground-truth word and
 * phone timings, and the aligner's output.
 *
 * A TextGrid is plain data: tiers of intervals that cover [xmin, xmax] without
 * gaps, in order, with empty labels where nothing is said. Times are seconds. */
#ifndef NAPKIT_TEXTGRID_H
#define NAPKIT_TEXTGRID_H

typedef struct {
    double xmin, xmax;
    char *text; // UTF-8 label, "" for a gap
} nk_interval;

typedef struct {
    char *name;
    nk_interval *iv;
    int n, cap;
} nk_tier;

typedef struct {
    double xmin, xmax;
    nk_tier *tiers;
    int n_tiers;
} nk_textgrid;

/* An empty TextGrid spanning [xmin, xmax]. */
int nk_textgrid_new(double xmin, double xmax, nk_textgrid **out);
void nk_textgrid_free(nk_textgrid *tg);
/* Adds an empty interval tier; *tier receives its index. */
int nk_textgrid_add_tier(nk_textgrid *tg, const char *name, int *tier);
/* Appends [start, end) with a label to a tier. A gap since the tier's last
 * interval is filled with an empty label; an empty label right after an empty
 * one extends it; zero-length intervals are dropped. Overlapping the previous
 * interval, going backwards or leaving [xmin, xmax] fails with NK_ERR_ARG. */
int nk_textgrid_append(nk_textgrid *tg, int tier, double start, double end, const char *label);
/* Fills every tier's tail up to xmax with an empty interval. */
int nk_textgrid_finish(nk_textgrid *tg);
/* The tier with this name, or NULL. */
const nk_tier *nk_textgrid_tier(const nk_textgrid *tg, const char *name);

/* Checks that every tier's intervals are ordered, contiguous, non-empty in
 * length, start at xmin and end at xmax; the message names tier and interval. */
int nk_textgrid_validate(const nk_textgrid *tg);

/* Writes Praat's long text format (UTF-8) atomically. */
int nk_textgrid_write(const char *path, const nk_textgrid *tg);
/* Reads Praat's long or short text format (UTF-8, optional BOM). Point tiers
 * are skipped. Malformed files fail with NK_ERR_FORMAT naming file and reason;
 * the result is validated. */
int nk_textgrid_read(const char *path, nk_textgrid **out);

#endif
