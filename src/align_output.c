/* Alignment outputs: TextGrid tiers, CTM lines and events JSON lines. */
#include "napkit/align.h"

#include "napkit/error.h"
#include "napkit/phoneset.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

const char *nk_align_phone_label(int phone, int arpabet) {
    const nk_phone_info *p = nk_phone_at(phone);
    if (!p) return "?";
    return arpabet && p->arpabet ? p->arpabet : p->ipa;
}

static const char *label_of(const nk_align_event *e, nk_align_tier t, int arpabet) {
    return t == NK_ALIGN_PHONES ? nk_align_phone_label(e->phone, arpabet) : e->label;
}

int nk_align_textgrid(const nk_align_result *r, int arpabet, nk_textgrid **out) {
    int rc = nk_textgrid_new(0, r->duration, out);
    for (int t = 0; !rc && t < NK_ALIGN_N_TIERS; t++) {
        int tier;
        rc = nk_textgrid_add_tier(*out, nk_align_tier_names[t], &tier);
        for (int i = 0; !rc && i < r->n[t]; i++) {
            const nk_align_event *e = &r->ev[t][i];
            rc = nk_textgrid_append(*out, tier, e->start, e->end, label_of(e, t, arpabet));
        }
    }
    if (!rc) rc = nk_textgrid_finish(*out);
    if (rc) nk_textgrid_free(*out), *out = NULL;
    return rc;
}

int nk_align_write_ctm(FILE *fp, const char *utt, const nk_align_result *r, nk_align_tier tier,
                       int arpabet) {
    for (int i = 0; i < r->n[tier]; i++) {
        const nk_align_event *e = &r->ev[tier][i];
        if (fprintf(fp, "%s 1 %.3f %.3f %s %.3f\n", utt, e->start, e->end - e->start, label_of(e, tier, arpabet),
                    e->confidence) < 0)
            return nk_fail(NK_ERR_IO, "%s: writing the CTM failed", utt);
    }
    return NK_OK;
}

/* Three decimals: times to the millisecond, as the events format shows them. */
static double round3(double x) { return (double)(long long)(x * 1000 + 0.5) / 1000; }

int nk_align_write_events(FILE *fp, const char *utt, const nk_align_result *r) {
    for (int t = 0; t < NK_ALIGN_N_TIERS; t++) {
        for (int i = 0; i < r->n[t]; i++) {
            const nk_align_event *e = &r->ev[t][i];
            cJSON *o = cJSON_CreateObject();
            if (!o) return nk_fail(NK_ERR_NOMEM, "%s: out of memory writing events", utt);
            cJSON_AddStringToObject(o, "utt", utt);
            cJSON_AddStringToObject(o, "tier", nk_align_tier_names[t]);
            cJSON_AddStringToObject(o, "label", e->label);
            cJSON_AddNumberToObject(o, "start", round3(e->start));
            cJSON_AddNumberToObject(o, "end", round3(e->end));
            cJSON_AddNumberToObject(o, "peak", round3(e->peak));
            cJSON_AddNumberToObject(o, "confidence", round3(e->confidence));
            if (e->letter) cJSON_AddStringToObject(o, "letter", e->letter);
            if (t == NK_ALIGN_PHONES) {
                const nk_phone_info *p = nk_phone_at(e->phone);
                cJSON_AddStringToObject(o, "class", nk_phone_class_names[p->cls]);
                if (p->arpabet) cJSON_AddStringToObject(o, "phone_arpabet", p->arpabet);
            }
            char *s = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            int bad = !s || fprintf(fp, "%s\n", s) < 0;
            free(s);
            if (bad) return nk_fail(NK_ERR_IO, "%s: writing events failed", utt);
        }
    }
    return NK_OK;
}
