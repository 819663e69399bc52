/* napkit features: audio file → spectrogram features as a (F, T) float32 .npy. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <stdlib.h>

const char cmd_features_summary[] = "compute log-mel / MFCC / power features of an audio file";

static const char usage[] =
    "usage: napkit features AUDIO -o OUT.npy [options]\n"
    "  --kind logmel|mfcc|power   feature type (default logmel)\n"
    "  --sample-rate HZ           resample to this rate (default 16000)\n"
    "  --n-fft N  --win N  --hop N  STFT sizes in samples (default 400, 400, 160)\n"
    "  --n-mels N                 mel bands (default 40)\n"
    "  --n-mfcc N                 cepstral coefficients (default 13)\n"
    "  --mel-scale htk|slaney     mel scale (default htk)\n"
    "  --slaney-norm              area-normalize the mel filters\n"
    "  --f-min HZ  --f-max HZ     mel range (default 0 .. sample-rate/2)\n"
    "  --log natural|db           ln(x + 1e-6) or 10·log10 (default natural; mfcc: db)\n"
    "  --top-db DB                with --log db, clamp to max − DB (default off; mfcc: 80)\n"
    "  --normalize none|utterance|band  z-normalize per utterance or per band (default none)\n"
    "Writes a float32 array of shape (F, T), T = 1 + samples/hop.\n";

int cmd_features(int argc, char **argv) {
    enum { O_KIND = 256, O_SR, O_NFFT, O_WIN, O_HOP, O_NMELS, O_NMFCC, O_SCALE, O_SNORM,
           O_FMIN, O_FMAX, O_LOG, O_TOPDB, O_NORM };
    static const struct option opts[] = {
        {"kind", 1, 0, O_KIND}, {"sample-rate", 1, 0, O_SR}, {"n-fft", 1, 0, O_NFFT},
        {"win", 1, 0, O_WIN}, {"hop", 1, 0, O_HOP}, {"n-mels", 1, 0, O_NMELS},
        {"n-mfcc", 1, 0, O_NMFCC}, {"mel-scale", 1, 0, O_SCALE}, {"slaney-norm", 0, 0, O_SNORM},
        {"f-min", 1, 0, O_FMIN}, {"f-max", 1, 0, O_FMAX}, {"log", 1, 0, O_LOG},
        {"top-db", 1, 0, O_TOPDB}, {"normalize", 1, 0, O_NORM}, {"output", 1, 0, 'o'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    nk_frontend_config c;
    nk_frontend_config_default(&c);
    const char *out = NULL;
    int kind = NK_FEAT_LOGMEL, scale = NK_MEL_HTK, log_kind = -1, norm = NK_NORM_NONE, bad = 0;
    double top_db = -1;
    for (int o; (o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1 && !bad;) {
        switch (o) {
        case 'h': fputs(usage, stdout); return EXIT_OK;
        case 'o': out = optarg; break;
        case O_KIND: bad = cli_choice("features", "--kind", optarg, nk_feature_kind_names, &kind); break;
        case O_SR: bad = cli_int("features", "--sample-rate", optarg, 1000, 384000, &c.sample_rate); break;
        case O_NFFT: bad = cli_int("features", "--n-fft", optarg, 16, 65536, &c.n_fft); break;
        case O_WIN: bad = cli_int("features", "--win", optarg, 1, 65536, &c.win); break;
        case O_HOP: bad = cli_int("features", "--hop", optarg, 1, 65536, &c.hop); break;
        case O_NMELS: bad = cli_int("features", "--n-mels", optarg, 1, 4096, &c.n_mels); break;
        case O_NMFCC: bad = cli_int("features", "--n-mfcc", optarg, 1, 4096, &c.n_mfcc); break;
        case O_SCALE: bad = cli_choice("features", "--mel-scale", optarg, nk_mel_scale_names, &scale); break;
        case O_SNORM: c.slaney_norm = 1; break;
        case O_FMIN: bad = cli_double("features", "--f-min", optarg, 0, 1e6, &c.f_min); break;
        case O_FMAX: bad = cli_double("features", "--f-max", optarg, 0, 1e6, &c.f_max); break;
        case O_LOG: bad = cli_choice("features", "--log", optarg, nk_log_kind_names, &log_kind); break;
        case O_TOPDB: bad = cli_double("features", "--top-db", optarg, 0, 1e4, &top_db); break;
        case O_NORM: bad = cli_choice("features", "--normalize", optarg, nk_normalize_names, &norm); break;
        default: return cli_usage_error("features", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (bad) return bad;
    if (optind != argc - 1) return cli_usage_error("features", "expects exactly one AUDIO file");
    if (!out) return cli_usage_error("features", "needs -o OUT.npy");
    c.kind = (nk_feature_kind)kind;
    c.mel_scale = (nk_mel_scale)scale;
    c.normalize = (nk_normalize)norm;
    /* MFCC defaults follow torchaudio.transforms.MFCC: dB with an 80 dB floor. */
    c.log = log_kind >= 0 ? (nk_log_kind)log_kind : kind == NK_FEAT_MFCC ? NK_LOG_DB : NK_LOG_NATURAL;
    c.top_db = top_db >= 0 ? top_db : kind == NK_FEAT_MFCC ? 80.0 : 0.0;

    nk_frontend *fe;
    if (nk_frontend_new(&c, &fe)) return cli_fail("features");
    float *x;
    int F, T;
    int rc = nk_features_from_file(fe, argv[optind], &x, &F, &T);
    nk_frontend_free(fe);
    if (rc) return cli_fail("features");
    long shape[2] = {F, T};
    rc = nk_npy_write(out, NK_F32, 2, shape, x);
    free(x);
    return rc ? cli_fail("features") : EXIT_OK;
}
