/* Audio input and output through libsndfile, resampling through libsoxr. */
#ifndef NAPKIT_AUDIO_H
#define NAPKIT_AUDIO_H

#include <stddef.h>

/* Reads any format libsndfile reads (WAV, FLAC, OGG/Vorbis, MP3 where the
 * library supports it), mixes all channels to mono and resamples to
 * `sample_rate` (libsoxr, very high quality). *samples is malloc'd.
 * Unreadable, truncated, empty or non-finite files fail with a message naming
 * the file and the reason. */
int nk_audio_read(const char *path, int sample_rate, float **samples, size_t *n);

/* Resamples mono audio from rate_in to rate_out (libsoxr). *out is malloc'd. */
int nk_audio_resample(const float *in, size_t n_in, int rate_in, int rate_out, float **out,
                      size_t *n_out);

/* Writes mono samples in [-1, 1] atomically; the format follows the extension:
 * .wav (PCM 16), .flac (PCM 16), .ogg (Vorbis). */
int nk_audio_write(const char *path, const float *samples, size_t n, int sample_rate);

#endif
