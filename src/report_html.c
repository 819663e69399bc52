/* The report page: one self-contained HTML file (inline CSS, no scripts, no
 * network) rendered from report.json, so the page and the JSON always hold
 * the same numbers. Figures are PNG files beside it, linked relatively. */
#include "napkit/report.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/phoneset.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nk_html_escape(FILE *fp, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

static const char CSS[] =
    "body{font:15px/1.45 'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.7em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}h3{margin-top:1.5em}"
    "table{border-collapse:collapse;margin:.8em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;"
    "text-align:right}th{background:#f2f2f2}td.l,th.l{text-align:left}"
    "figure{margin:1.2em 0;padding:.5em;border:1px solid #e4e4e4}figure img{max-width:100%;height:auto}"
    "figcaption{font-size:.88em;color:#444;margin-top:.4em}nav ol{columns:2}.note{color:#666;font-size:.9em}"
    "code{background:#f4f4f4;padding:0 .2em}";

/* ---- small writers ---- */

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A table cell with a number to `digits` decimals (as a percentage when pct), "–" when missing. */
static void cell(FILE *fp, double v, int digits, int pct) {
    if (!isfinite(v)) fputs("<td>–</td>", fp);
    else fprintf(fp, pct ? "<td>%.*f %%</td>" : "<td>%.*f</td>", digits, pct ? 100 * v : v);
}

static void text_cell(FILE *fp, const char *s) {
    fputs("<td class=l>", fp);
    nk_html_escape(fp, s);
    fputs("</td>", fp);
}

/* A link to dir/name (name NULL: to dir itself). */
static void link(FILE *fp, const char *dir, const char *name, const char *label) {
    fputs("<a href=\"", fp);
    nk_html_escape(fp, dir);
    if (name) fputc('/', fp), nk_html_escape(fp, name);
    fputs("\">", fp);
    nk_html_escape(fp, label);
    fputs("</a>", fp);
}

static void heading(FILE *fp, int level, const char *id, const char *prefix, const char *title) {
    fprintf(fp, "<h%d id=\"", level);
    nk_html_escape(fp, id);
    fputs("\">", fp);
    nk_html_escape(fp, prefix);
    nk_html_escape(fp, title);
    fprintf(fp, "</h%d>\n", level);
}

/* Every figure of (model, kind), numbered in page order. */
static void figures(FILE *fp, const cJSON *figs, const char *model, const char *kind, int *number) {
    const cJSON *f;
    cJSON_ArrayForEach(f, figs) {
        if (strcmp(str(f, "model"), model) || strcmp(str(f, "kind"), kind)) continue;
        const char *file = str(f, "file");
        fprintf(fp, "<figure id=\"fig-%d\"><a href=\"", ++*number);
        nk_html_escape(fp, file);
        fputs("\"><img src=\"", fp);
        nk_html_escape(fp, file);
        fputs("\" alt=\"", fp);
        nk_html_escape(fp, file);
        fprintf(fp, "\"></a><figcaption><b>Figure %d.</b> ", *number);
        nk_html_escape(fp, str(f, "caption"));
        const char *wav = strstr(file, "/top/") ? file : NULL;
        if (wav) { /* the snippet's audio lies beside its figure */
            char audio[1024];
            snprintf(audio, sizeof audio, "%.*s.wav", (int)(strlen(file) - 4), file);
            fputs(" <audio controls preload=none src=\"", fp);
            nk_html_escape(fp, audio);
            fputs("\"></audio>", fp);
        }
        fputs("</figcaption></figure>\n", fp);
    }
}

/* ---- sections ---- */

static void overview(FILE *fp, const cJSON *models) {
    fputs("<table><tr><th class=l>model</th><th class=l>language</th><th>parameters</th><th>utterances</th>"
          "<th>hours</th><th>CER</th><th>WER</th><th>aligned</th><th>onsets ≤ 20 ms</th><th>onsets ≤ 50 ms</th>"
          "<th>phonemes</th><th>events</th><th>best purity (layer)</th></tr>\n",
          fp);
    const cJSON *m;
    cJSON_ArrayForEach(m, models) {
        const cJSON *ev = cJSON_GetObjectItem(m, "eval"), *al = cJSON_GetObjectItem(m, "align"),
                    *on = cJSON_GetObjectItem(al, "onsets"), *np = cJSON_GetObjectItem(m, "naps"), *l;
        double best = NAN;
        int best_layer = -1;
        cJSON_ArrayForEach(l, cJSON_GetObjectItem(m, "per_layer"))
            if (isfinite(num(l, "purity")) && !(num(l, "purity") <= best)) best = num(l, "purity"), best_layer = (int)num(l, "layer");
        fputs("<tr>", fp);
        text_cell(fp, str(m, "name"));
        text_cell(fp, str(m, "language"));
        fprintf(fp, "<td>%.0f</td><td>%.0f</td>", num(m, "parameters"), num(m, "utterances"));
        cell(fp, num(m, "hours"), 2, 0);
        cell(fp, num(ev, "cer"), 1, 1);
        cell(fp, num(ev, "wer"), 1, 1);
        fprintf(fp, "<td>%.0f of %.0f</td>", num(al, "aligned"), num(al, "utterances"));
        cell(fp, num(on, "within_20ms"), 1, 1);
        cell(fp, num(on, "within_50ms"), 1, 1);
        fprintf(fp, "<td>%d</td><td>%.0f</td>", cJSON_GetArraySize(cJSON_GetObjectItem(np, "groups")), num(np, "events"));
        if (best_layer >= 0) fprintf(fp, "<td>%.2f (%d)</td>", best, best_layer);
        else fputs("<td>–</td>", fp);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n", fp);
}

static void settings(FILE *fp, const cJSON *s) {
    fputs("<table>", fp);
    const cJSON *v;
    cJSON_ArrayForEach(v, s) {
        fputs("<tr><th class=l>", fp);
        nk_html_escape(fp, v->string);
        fputs("</th>", fp);
        if (cJSON_IsString(v)) text_cell(fp, v->valuestring);
        else fprintf(fp, "<td class=l>%g</td>", v->valuedouble);
        fputs("</tr>", fp);
    }
    fputs("</table>\n", fp);
}

static void model_section(FILE *fp, const cJSON *m, const cJSON *figs, int *fig) {
    const char *name = str(m, "name");
    char id[300];
    snprintf(id, sizeof id, "model-%s", name);
    heading(fp, 2, id, "Model ", name);
    fputs("<p>", fp);
    nk_html_escape(fp, str(m, "model"));
    fprintf(fp, " — architecture <code>");
    nk_html_escape(fp, str(m, "arch"));
    fprintf(fp, "</code>, %.0f layers, %.0f parameters, language ", num(m, "layers"), num(m, "parameters"));
    nk_html_escape(fp, str(m, "language"));
    fputs(".</p>\n", fp);

    snprintf(id, sizeof id, "%s-data", name);
    heading(fp, 3, id, "Data and transcription: ", name);
    fputs("<table><tr><th class=l>corpus</th><th class=l>layout</th><th>utterances</th><th>speakers</th><th>hours</th>"
          "<th>skipped</th></tr>\n",
          fp);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(m, "corpora")) {
        fputs("<tr>", fp);
        text_cell(fp, str(c, "corpus"));
        text_cell(fp, str(c, "layout"));
        fprintf(fp, "<td>%.0f</td><td>%.0f</td>", num(c, "utterances"), num(c, "speakers"));
        cell(fp, num(c, "hours"), 2, 0);
        fprintf(fp, "<td>%.0f</td></tr>\n", num(c, "skipped"));
    }
    fputs("</table>\n", fp);
    const cJSON *ev = cJSON_GetObjectItem(m, "eval");
    fprintf(fp, "<p>Greedy CTC transcription of %.0f utterances: <b>CER %.2f %%</b>, <b>WER %.2f %%</b> (", num(ev, "utterances"),
            100 * num(ev, "cer"), 100 * num(ev, "wer"));
    link(fp, str(ev, "file"), NULL, "every utterance's hypothesis");
    fputs(").</p>\n", fp);

    snprintf(id, sizeof id, "%s-align", name);
    heading(fp, 3, id, "Forced alignment: ", name);
    const cJSON *al = cJSON_GetObjectItem(m, "align"), *on = cJSON_GetObjectItem(al, "onsets");
    fprintf(fp, "<p>%.0f of %.0f utterances aligned (mean letter confidence %.3f, onset delay %.0f ms subtracted); "
                "words, letters and phonemes as ",
            num(al, "aligned"), num(al, "utterances"), num(al, "confidence"), num(al, "delay_ms"));
    link(fp, str(al, "dir"), "textgrids", "TextGrids");
    fputs(", ", fp);
    link(fp, str(al, "dir"), "phones.ctm", "CTMs");
    fputs(" and ", fp);
    link(fp, str(al, "dir"), "events.jsonl", "events.jsonl");
    fputs(".</p>\n", fp);
    if (on) {
        fprintf(fp, "<p>Phoneme onsets against the synthesizer's TextGrids (%.0f utterances):</p>\n"
                    "<table><tr><th class=l>class</th><th>reference</th><th>matched</th><th>≤ 20 ms</th><th>≤ 50 ms</th>"
                    "<th>median |error| (ms)</th><th>median error (ms)</th></tr>\n",
                num(on, "utterances"));
        const cJSON *rows[NK_PC_COUNT + 1], *k;
        int n = 0;
        rows[n++] = on;
        cJSON_ArrayForEach(k, cJSON_GetObjectItem(on, "per_class")) rows[n++] = k;
        for (int i = 0; i < n; i++) {
            fputs("<tr>", fp);
            text_cell(fp, i ? rows[i]->string : "all");
            fprintf(fp, "<td>%.0f</td><td>%.0f</td>", num(rows[i], "reference"), num(rows[i], "matched"));
            cell(fp, num(rows[i], "within_20ms"), 1, 1);
            cell(fp, num(rows[i], "within_50ms"), 1, 1);
            cell(fp, num(rows[i], "median_abs_error_ms"), 1, 0);
            cell(fp, num(rows[i], "median_error_ms"), 1, 0);
            fputs("</tr>\n", fp);
        }
        fputs("</table>\n", fp);
    } else {
        fputs("<p class=note>No reference TextGrids beside the audio: onset accuracy not measured.</p>\n", fp);
    }

    snprintf(id, sizeof id, "%s-naps", name);
    heading(fp, 3, id, "GradNAPs: ", name);
    const cJSON *np = cJSON_GetObjectItem(m, "naps"), *g;
    fprintf(fp, "<p>%.0f phoneme events in %.0f utterances; %d phonemes kept: ", num(np, "events"), num(np, "utterances"),
            cJSON_GetArraySize(cJSON_GetObjectItem(np, "groups")));
    int first = 1;
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(np, "groups")) {
        fputs(first ? "" : ", ", fp);
        nk_html_escape(fp, str(g, "group"));
        fprintf(fp, " (%.0f)", num(g, "events"));
        first = 0;
    }
    fputs(". Dropped (too few events): ", fp);
    first = 1;
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(np, "dropped")) {
        fputs(first ? "" : ", ", fp);
        nk_html_escape(fp, g->valuestring);
        first = 0;
    }
    fputs(first ? "none. " : ". ", fp);
    link(fp, str(np, "dir"), "naps.json", "naps.json");
    fputs(" lists every setting; the profiles are ", fp);
    link(fp, str(np, "dir"), NULL, "layer_NN.npy (G, C, 2w+1), layer_NN_sem.npy and layer_NN_flat.npy (G, C)");
    fputs(".</p>\n", fp);

    snprintf(id, sizeof id, "%s-layers", name);
    heading(fp, 3, id, "Per layer: phonetic classes, clusters, selective units: ", name);
    fputs("<p>Per layer, the phonemes' time-independent GradNAPs are clustered and the flat clusters (as many as "
          "phonetic classes) compared with the phonetic classes: purity, adjusted Rand index, and the silhouette of the "
          "classes in the profile space. Selectivity F is the one-way ANOVA F ratio of a unit's GradNAP values at the "
          "event across the phonemes.</p>\n"
          "<table><tr><th>layer</th><th>units</th><th>phonemes</th><th>purity</th><th>ARI</th><th>silhouette (classes)"
          "</th><th>silhouette (clusters)</th><th>cophenetic r</th><th class=l>most selective units (F)</th>"
          "<th class=l>data</th></tr>\n",
          fp);
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(m, "per_layer")) {
        fprintf(fp, "<tr><td>%.0f</td><td>%.0f</td><td>%.0f</td>", num(l, "layer"), num(l, "units"), num(l, "groups"));
        cell(fp, num(l, "purity"), 2, 0);
        cell(fp, num(l, "ari"), 2, 0);
        cell(fp, num(l, "silhouette_classes"), 2, 0);
        cell(fp, num(l, "silhouette"), 2, 0);
        cell(fp, num(l, "cophenetic"), 2, 0);
        fputs("<td class=l>", fp);
        const cJSON *s;
        first = 1;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(l, "selective")) {
            fprintf(fp, "%s%.0f (%.3g)", first ? "" : ", ", num(s, "unit"), num(s, "F"));
            first = 0;
        }
        fputs("</td><td class=l>", fp);
        if (cJSON_GetObjectItem(l, "skipped")) {
            fputs("skipped: ", fp);
            nk_html_escape(fp, str(l, "skipped"));
        } else {
            link(fp, str(l, "dir"), "clusters.json", "clusters.json");
            fputs(" ", fp);
            link(fp, str(l, "dir"), "linkage.npy", "linkage.npy");
        }
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n", fp);
    figures(fp, figs, name, "layers", fig);

    snprintf(id, sizeof id, "%s-attribution", name);
    heading(fp, 3, id, "Attribution maps: ", name);
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(m, "attributions")) {
        fputs("<p>", fp);
        link(fp, str(a, "npy"), NULL, str(a, "npy"));
        fputs(" (F, T) float32.</p>\n", fp);
    }
    figures(fp, figs, name, "attribution", fig);

    snprintf(id, sizeof id, "%s-top", name);
    heading(fp, 3, id, "Top-activating snippets: ", name);
    figures(fp, figs, name, "top", fig);
}

static void compare_section(FILE *fp, const cJSON *c, const cJSON *figs, int *fig) {
    heading(fp, 2, "compare", "Comparison: ", "");
    fputs("<p>", fp);
    nk_html_escape(fp, str(c, "a"));
    fputs(" vs ", fp);
    nk_html_escape(fp, str(c, "b"));
    fprintf(fp, " on the audio of both models' corpora (%.0f utterances, %.0f frames). ", num(c, "utterances"),
            num(c, "samples"));
    link(fp, "compare", "summary.md", "summary.md");
    fputs(", ", fp);
    link(fp, "compare", "cka.npy", "cka.npy");
    fputs(", ", fp);
    link(fp, "compare", "profile_similarity.json", "profile_similarity.json");
    fputs(".</p>\n<table><tr><th>layer</th><th>CKA (same layer)</th><th>matched unit r</th><th>semi-matched r</th>"
          "<th>shared phonemes</th><th>profile r same</th><th>profile r different</th><th>identification</th>"
          "<th>tree cophenetic r</th></tr>\n",
          fp);
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(c, "per_layer")) {
        fprintf(fp, "<tr><td>%.0f</td>", num(l, "layer"));
        cell(fp, num(l, "cka"), 3, 0);
        cell(fp, num(l, "mean_match"), 3, 0);
        cell(fp, num(l, "mean_semi"), 3, 0);
        cell(fp, num(l, "shared_phonemes"), 0, 0);
        cell(fp, num(l, "profile_same"), 3, 0);
        cell(fp, num(l, "profile_different"), 3, 0);
        cell(fp, num(l, "identification"), 2, 1);
        cell(fp, num(l, "tree_cophenetic"), 3, 0);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n<p>Linear CKA of every layer pair (rows: ", fp);
    nk_html_escape(fp, str(c, "a"));
    fputs(" layers, columns: ", fp);
    nk_html_escape(fp, str(c, "b"));
    fputs(" layers):</p>\n<table><tr><th></th>", fp);
    const cJSON *cka = cJSON_GetObjectItem(c, "cka"), *row;
    for (int j = 0; j < cJSON_GetArraySize(cka); j++) fprintf(fp, "<th>%d</th>", j);
    fputs("</tr>\n", fp);
    int i = 0;
    cJSON_ArrayForEach(row, cka) {
        fprintf(fp, "<tr><th>%d</th>", i++);
        const cJSON *v;
        cJSON_ArrayForEach(v, row) cell(fp, cJSON_IsNumber(v) ? v->valuedouble : NAN, 2, 0);
        fputs("</tr>\n", fp);
    }
    fputs("</table>\n", fp);
    figures(fp, figs, "compare", "compare", fig);
}

int nk_report_write_html(const char *report_json, const char *path) {
    cJSON *r = cJSON_Parse(report_json);
    if (!r) return nk_fail(NK_ERR_FORMAT, "%s: the report data is not JSON", path);
    const cJSON *models = cJSON_GetObjectItem(r, "models"), *cmp = cJSON_GetObjectItem(r, "compare"),
                *figs = cJSON_GetObjectItem(r, "figures"), *m;
    if (!cJSON_IsArray(models) || !cJSON_IsArray(figs)) {
        cJSON_Delete(r);
        return nk_fail(NK_ERR_FORMAT, "%s: the report data has no models or figures", path);
    }
    nk_outfile out;
    int rc = nk_outfile_open(&out, path, 1);
    if (rc) {
        cJSON_Delete(r);
        return rc;
    }
    FILE *fp = out.fp;
    fprintf(fp, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n<title>napkit report</title>\n"
                "<style>%s</style></head><body>\n<h1>napkit report</h1>\n<p>What ",
            CSS);
    int first = 1;
    cJSON_ArrayForEach(m, models) {
        fputs(first ? "" : " and ", fp);
        nk_html_escape(fp, str(m, "name"));
        first = 0;
    }
    fputs(" learned, layer by layer: transcription, alignment, GradNAPs per phoneme, their clusters against the phonetic "
          "classes, the most selective units, attribution maps and top-activating inputs",
          fp);
    fputs(cmp ? ", and how the two networks compare.</p>\n" : ".</p>\n", fp);
    /* table of contents */
    fputs("<nav><h2 id=contents>Contents</h2><ol><li><a href=\"#overview\">Overview</a></li>"
          "<li><a href=\"#settings\">Settings</a></li>",
          fp);
    static const char *const parts[][2] = {{"data", "Data and transcription"}, {"align", "Forced alignment"},
                                           {"naps", "GradNAPs"}, {"layers", "Per layer"},
                                           {"attribution", "Attribution maps"}, {"top", "Top-activating snippets"}};
    cJSON_ArrayForEach(m, models) {
        const char *name = str(m, "name");
        for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
            fputs("<li><a href=\"#", fp);
            nk_html_escape(fp, name);
            fprintf(fp, "-%s\">", parts[k][0]);
            nk_html_escape(fp, name);
            fprintf(fp, ": %s</a></li>", parts[k][1]);
        }
    }
    if (cmp) fputs("<li><a href=\"#compare\">Comparison</a></li>", fp);
    fputs("<li><a href=\"#files\">Files</a></li></ol></nav>\n", fp);

    heading(fp, 2, "overview", "Overview", "");
    overview(fp, models);
    heading(fp, 2, "settings", "Settings", "");
    settings(fp, cJSON_GetObjectItem(r, "settings"));
    int fig = 0;
    cJSON_ArrayForEach(m, models) model_section(fp, m, figs, &fig);
    if (cmp) compare_section(fp, cmp, figs, &fig);
    heading(fp, 2, "files", "Files", "");
    fputs("<p>", fp);
    link(fp, "report.json", NULL, "report.json");
    fputs(" holds every number of this page; ", fp);
    link(fp, "timing.json", NULL, "timing.json");
    fprintf(fp, " the seconds each stage took. napkit %s.</p>\n</body></html>\n", str(r, "napkit"));
    cJSON_Delete(r);
    if (ferror(fp)) {
        nk_outfile_abort(&out);
        return nk_fail(NK_ERR_IO, "%s: write failed", path);
    }
    return nk_outfile_commit(&out);
}
