/* summary.md: the comparison's findings with the numbers behind them. */
#include "napkit/compare.h"

#include "napkit/error.h"
#include "napkit/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where each A layer's CKA peaks among B's layers; counts how many peak at the same index. */
static int diagonal_peaks(const nk_compare_result *r, FILE *fp) {
    int same = 0;
    for (int i = 0; i < r->na; i++) {
        int best = 0;
        for (int j = 1; j < r->nb; j++)
            if (r->cka[i * r->nb + j] > r->cka[i * r->nb + best] || isnan(r->cka[i * r->nb + best])) best = j;
        same += r->lb[best] == r->la[i];
        fprintf(fp, "%s%d→%d", i ? ", " : "", r->la[i], r->lb[best]);
    }
    return same;
}

int nk_compare_summary_write(const nk_compare_info *info, const nk_compare_result *r, const nk_profile_result *p,
                             const nk_topo_result *t, const char *dir) {
    char *path = nk_path_join(dir, "summary.md");
    nk_outfile f;
    int rc = path ? nk_outfile_open(&f, path, 1) : nk_fail(NK_ERR_NOMEM, "%s: out of memory", dir);
    free(path);
    if (rc) return rc;
    FILE *fp = f.fp;
    fprintf(fp, "# %s vs %s\n\n", info->name_a, info->name_b);
    fprintf(fp, "- models: A = %s (`%s`), B = %s (`%s`)\n", info->name_a, info->path_a, info->name_b, info->path_b);
    fprintf(fp, "- corpora:");
    for (int i = 0; i < info->n_corpora; i++) fprintf(fp, " `%s`", info->corpora[i]);
    fprintf(fp, "\n- %zu utterances (%.1f min of audio), %.0f frames on the common grid; %zu utterances skipped\n\n",
            info->n_used, info->seconds / 60, r->samples, info->n_failed);

    fprintf(fp, "## Layer similarity (linear CKA)\n\n| layer | CKA(A_l, B_l) | best B layer for A_l |\n|---|---|---|\n");
    double diag = 0;
    int nd = 0;
    for (int i = 0; i < r->na; i++) {
        int best = 0, same = -1;
        for (int j = 0; j < r->nb; j++) {
            if (r->cka[i * r->nb + j] > r->cka[i * r->nb + best]) best = j;
            if (r->lb[j] == r->la[i]) same = j;
        }
        double c = same >= 0 ? r->cka[i * r->nb + same] : NAN;
        if (isfinite(c)) diag += c, nd++;
        fprintf(fp, "| %d | %.3f | %d (%.3f) |\n", r->la[i], c, r->lb[best], r->cka[i * r->nb + best]);
    }
    fprintf(fp, "\nMean CKA of corresponding layers: %.3f. Peak per A layer (A→B): ", nd ? diag / nd : NAN);
    int peaks = diagonal_peaks(r, fp);
    fprintf(fp, " — %d of %d layers are most similar to the same depth in B. Figure: `cka.png`.\n\n", peaks, r->na);

    fprintf(fp, "## Unit correspondence (convergent learning)\n\n"
                "| layer | units A/B | mean r, one-to-one | mean r, semi-matching | matched r > 0.5 | > 0.9 | dead A/B |\n"
                "|---|---|---|---|---|---|---|\n");
    for (int q = 0; q < r->n_pairs; q++) {
        const nk_unit_matching *u = &r->um[q];
        int a5 = 0, a9 = 0;
        for (int i = 0; i < u->na; i++) a5 += u->match_corr[i] > 0.5, a9 += u->match_corr[i] > 0.9;
        fprintf(fp, "| %d | %d/%d | %.3f | %.3f | %d | %d | %d/%d |\n", r->pair[q], u->na, u->nb, u->mean_match,
                u->mean_semi, a5, a9, u->n_constant_a, u->n_constant_b);
    }
    fprintf(fp, "\nFigures: `matching_LL.png` (correlations ordered by the matching), `matched_LL.png` (sorted).\n\n");

    if (p) {
        fprintf(fp, "## Phoneme profiles on %d shared IPA phonemes\n\n"
                    "| layer | same phoneme r | different phonemes r | identified | tree cophenetic r |\n"
                    "|---|---|---|---|---|\n", p->G);
        for (int k = 0; k < p->n_layers; k++) {
            const nk_profile_layer *l = &p->layers[k];
            fprintf(fp, "| %d | %.3f | %.3f | %.0f%% | %.3f |\n", l->layer, l->same, l->different,
                    100 * l->identification, l->cophenetic);
        }
        fprintf(fp, "\nProfiles are compared through the one-to-one unit matching of each layer; phonemes: ");
        for (int g = 0; g < p->G; g++) fprintf(fp, "%s%s", g ? " " : "", p->phonemes[g]);
        fprintf(fp, ". Figures: `tanglegram_LL.png`, `profile_corr_LL.png`.\n\n");
    }
    if (t) {
        fprintf(fp, "## Topographic maps (layer %d, %d × %d SOM grid)\n\n"
                    "Mean correlation of the two models' smoothed maps: same phoneme %.3f, different phonemes %.3f "
                    "(SOM quantization error %.3f). Figure: `topomap_%02d.png`.\n",
                t->layer, t->rows, t->cols, t->same, t->different, t->qerr, t->layer);
    }
    if (ferror(fp)) {
        nk_outfile_abort(&f);
        return nk_fail(NK_ERR_IO, "%s/summary.md: write failed", dir);
    }
    return nk_outfile_commit(&f);
}
