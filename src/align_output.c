/* Alignment outputs: TextGrid tiers, CTM lines and events JSON lines, and
 * the folder of them for a corpus. */
#include "napkit/align.h"
#include "napkit/events.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/phoneset.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

const char *nk_align_phone_label(int phone, int arpabet) {
    const nk_phone_info *p = nk_phone_at(phone);
    if (!p) return "?";
    return arpabet && p->arpabet ? p->arpabet : p->ipa;
}

static const char *label_of(const nk_align_event *e, nk_tier_kind t, int arpabet) {
    return t == NK_TIER_PHONES ? nk_align_phone_label(e->phone, arpabet) : e->label;
}

int nk_align_textgrid(const nk_align_result *r, int arpabet, nk_textgrid **out) {
    int rc = nk_textgrid_new(0, r->duration, out);
    for (int t = 0; !rc && t < NK_N_TIERS; t++) {
        int tier;
        rc = nk_textgrid_add_tier(*out, nk_tier_names[t], &tier);
        for (int i = 0; !rc && i < r->n[t]; i++) {
            const nk_align_event *e = &r->ev[t][i];
            rc = nk_textgrid_append(*out, tier, e->start, e->end, label_of(e, t, arpabet));
        }
    }
    if (!rc) rc = nk_textgrid_finish(*out);
    if (rc) nk_textgrid_free(*out), *out = NULL;
    return rc;
}

int nk_align_write_ctm(FILE *fp, const char *utt, const nk_align_result *r, nk_tier_kind tier,
                       int arpabet) {
    for (int i = 0; i < r->n[tier]; i++) {
        const nk_align_event *e = &r->ev[tier][i];
        if (fprintf(fp, "%s 1 %.3f %.3f %s %.3f\n", utt, e->start, e->end - e->start, label_of(e, tier, arpabet),
                    e->confidence) < 0)
            return nk_fail(NK_ERR_IO, "%s: writing the CTM failed", utt);
    }
    return NK_OK;
}

/* Confidences in alignment.json to three decimals, like the events' times. */
static double round3(double x) { return (double)(long long)(x * 1000 + 0.5) / 1000; }

int nk_align_write_events(FILE *fp, const char *utt, const nk_align_result *r) {
    for (int t = 0; t < NK_N_TIERS; t++) {
        for (int i = 0; i < r->n[t]; i++) {
            const nk_align_event *e = &r->ev[t][i];
            const nk_phone_info *p = t == NK_TIER_PHONES ? nk_phone_at(e->phone) : NULL;
            nk_event v = {(char *)utt, (nk_tier_kind)t, (char *)e->label, e->start, e->end, e->peak, e->confidence,
                          (char *)e->letter, p ? (char *)nk_phone_class_names[p->cls] : NULL,
                          p ? (char *)p->arpabet : NULL};
            int rc = nk_event_write_line(fp, &v);
            if (rc) return rc;
        }
    }
    return NK_OK;
}

/* An utterance id as a file name: '/' would make folders. */
static void file_name(const char *id, const char *ext, char *buf, size_t cap) {
    snprintf(buf, cap, "%s%s", id, ext);
    for (char *p = buf; *p; p++)
        if (*p == '/') *p = '_';
}

static int write_textgrids(const char *dir, const nk_dataset *d, const nk_align_item *items, int arpabet) {
    char *sub = nk_path_join(dir, "textgrids");
    int rc = sub ? nk_mkdirs(sub) : nk_fail(NK_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < nk_dataset_size(d); i++) {
        if (items[i].status != NK_ALIGN_OK) continue;
        char name[512];
        file_name(nk_dataset_get(d, i)->id, ".TextGrid", name, sizeof name);
        char *path = nk_path_join(sub, name);
        nk_textgrid *tg = NULL;
        rc = path ? nk_align_textgrid(&items[i].r, arpabet, &tg) : nk_fail(NK_ERR_NOMEM, "out of memory");
        if (!rc) rc = nk_textgrid_write(path, tg);
        nk_textgrid_free(tg);
        free(path);
    }
    free(sub);
    return rc;
}

/* One corpus-wide text file: a CTM of one tier (tier ≥ 0) or the events (tier −1). */
static int write_lines(const char *dir, const char *name, const nk_dataset *d, const nk_align_item *items,
                       int tier, int arpabet) {
    char *path = nk_path_join(dir, name);
    if (!path) return nk_fail(NK_ERR_NOMEM, "out of memory");
    nk_outfile f = {0};
    int rc = nk_outfile_open(&f, path, 1), open_rc = rc;
    for (size_t i = 0; !rc && i < nk_dataset_size(d); i++) {
        if (items[i].status != NK_ALIGN_OK) continue;
        const char *id = nk_dataset_get(d, i)->id;
        rc = tier < 0 ? nk_align_write_events(f.fp, id, &items[i].r)
                      : nk_align_write_ctm(f.fp, id, &items[i].r, (nk_tier_kind)tier, arpabet);
    }
    if (!rc) rc = nk_outfile_commit(&f);
    else if (!open_rc) rc = nk_fail(rc, "%s: %s", path, nk_last_error()), nk_outfile_abort(&f);
    free(path);
    return rc;
}

/* alignment.json: every utterance's outcome and confidence. */
static int write_summary(const char *dir, const nk_dataset *d, const nk_align_item *items) {
    cJSON *j = cJSON_CreateObject(), *counts = cJSON_AddObjectToObject(j, "counts"),
          *utts = cJSON_AddArrayToObject(j, "per_utterance");
    size_t n[4] = {0};
    for (size_t i = 0; i < nk_dataset_size(d); i++) {
        const nk_align_item *it = &items[i];
        n[it->status]++;
        cJSON *u = cJSON_CreateObject();
        cJSON_AddStringToObject(u, "id", nk_dataset_get(d, i)->id);
        cJSON_AddStringToObject(u, "status", nk_align_status_names[it->status]);
        if (it->status == NK_ALIGN_OK || it->status == NK_ALIGN_LOW_CONFIDENCE)
            cJSON_AddNumberToObject(u, "confidence", round3(it->r.confidence)),
                cJSON_AddNumberToObject(u, "path_confidence", round3(it->r.path_confidence));
        if (it->reason[0]) cJSON_AddStringToObject(u, "reason", it->reason);
        cJSON_AddItemToArray(utts, u);
    }
    for (int s = 0; s < 4; s++) cJSON_AddNumberToObject(counts, nk_align_status_names[s], (double)n[s]);
    int rc = nk_write_json_in(dir, "alignment.json", j);
    cJSON_Delete(j);
    return rc;
}

int nk_align_write_dir(const char *dir, const nk_dataset *d, const nk_align_item *items, int arpabet) {
    int rc = nk_mkdirs(dir);
    if (!rc) rc = write_textgrids(dir, d, items, arpabet);
    for (int t = 0; !rc && t < NK_N_TIERS; t++) { /* TIER.ctm */
        char ctm[32];
        snprintf(ctm, sizeof ctm, "%s.ctm", nk_tier_names[t]);
        rc = write_lines(dir, ctm, d, items, t, arpabet);
    }
    if (!rc) rc = write_lines(dir, "events.jsonl", d, items, -1, 0);
    if (!rc) rc = write_summary(dir, d, items);
    return rc;
}
