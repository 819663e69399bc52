/* Figures: drawn once into a cairo recording surface, replayed into PDF, SVG
 * and PNG, written atomically with the settings in each file's metadata.
 *
 * Determinism: the PDF gets a fixed creation date; SVG and PNG are rendered
 * into memory (cairo's SVG ids are per document, its PNGs carry no time), the
 * metadata is spliced in, and the bytes go out with nk_write_file. */
#include "plot_impl.h"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/napkit.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
/* Under `make asan`: cairo and fontconfig keep process-wide font caches by
 * design and never free them, which LeakSanitizer would report in every
 * program that draws text. The sanitizer runtime asks for this list. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcairo.so\nleak:libfontconfig.so\n"; }
#endif

void nk_plot_style_default(nk_plot_style *s) {
    memset(s, 0, sizeof *s);
    s->font_size = 7;
    s->dpi = 300;
}

char *nk_plot_command_line(int argc, char **argv) {
    plot_str b = {0};
    int rc = plot_str_add(&b, "napkit");
    for (int i = 0; i < argc && !rc; i++) rc = plot_str_add(&b, " %s", argv[i]);
    if (rc) free(b.s);
    return rc ? NULL : b.s;
}

void plot_style_resolve(const nk_plot_style *st, nk_plot_style *out) {
    nk_plot_style d;
    nk_plot_style_default(&d);
    *out = st ? *st : d;
    if (!(out->font_size > 0)) out->font_size = d.font_size;
    if (!(out->dpi > 0)) out->dpi = d.dpi;
}

int plot_str_bytes(plot_str *b, const void *data, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) return NK_ERR_NOMEM;
        b->s = s, b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
    return NK_OK;
}

int plot_str_add(plot_str *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0) return NK_ERR_ARG;
    char *tmp = malloc(k + 1);
    if (!tmp) return NK_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(tmp, k + 1, fmt, ap);
    va_end(ap);
    int rc = plot_str_bytes(b, tmp, k);
    free(tmp);
    return rc;
}

int plot_begin(plot_fig *f, const char *kind, double w, double h, const nk_plot_style *style) {
    memset(f, 0, sizeof *f);
    plot_style_resolve(style, &f->st);
    if (!(w >= 20 && h >= 20 && w <= 14400 && h <= 14400))
        return nk_fail(NK_ERR_ARG, "%s figure: size %.0f x %.0f pt is out of range (20 to 14400)", kind, w, h);
    if (f->st.font_size > 72) return nk_fail(NK_ERR_ARG, "%s figure: font size %g pt is too large", kind, f->st.font_size);
    if (f->st.dpi > 2400 || w * h * f->st.dpi * f->st.dpi / (72.0 * 72) > 2e8)
        return nk_fail(NK_ERR_ARG, "%s figure: PNG of %.0f x %.0f pt at %g dpi is too large", kind, w, h, f->st.dpi);
    f->kind = kind, f->w = w, f->h = h;
    cairo_rectangle_t ext = {0, 0, w, h};
    f->rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &ext);
    f->cr = cairo_create(f->rec);
    if (cairo_status(f->cr) != CAIRO_STATUS_SUCCESS) {
        plot_discard(f);
        return nk_fail(NK_ERR_NOMEM, "%s figure: cannot create a drawing surface", kind);
    }
    /* Unhinted metrics: text advances do not depend on the output resolution. */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_set_font_options(f->cr, fo);
    cairo_font_options_destroy(fo);
    cairo_set_source_rgb(f->cr, 1, 1, 1);
    cairo_paint(f->cr);
    cairo_set_source_rgb(f->cr, 0, 0, 0);
    cairo_set_line_width(f->cr, 0.6);
    if (f->st.title) plot_text(f->cr, w / 2, 4, f->st.title, f->st.font_size * 1.2, 0.5, 0, 0);
    return NK_OK;
}

void plot_discard(plot_fig *f) {
    if (f->cr) cairo_destroy(f->cr);
    if (f->rec) cairo_surface_destroy(f->rec);
    f->cr = NULL, f->rec = NULL;
}

/* ---- output ---- */

typedef struct {
    unsigned char *data;
    size_t len, cap;
    int failed;
} membuf;

static cairo_status_t membuf_write(void *closure, const unsigned char *data, unsigned int n) {
    membuf *b = closure;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->data = p, b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return CAIRO_STATUS_SUCCESS;
}

/* Copies the recording onto a target surface (scaled for PNG). */
static cairo_status_t replay(plot_fig *f, cairo_surface_t *target, double scale) {
    cairo_t *cr = cairo_create(target);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, f->rec, 0, 0);
    cairo_paint(cr);
    cairo_status_t s = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(target);
    return s ? s : cairo_surface_status(target);
}

static int write_pdf(plot_fig *f, const char *path, const char *title, const char *meta) {
    nk_outfile of;
    int rc = nk_outfile_open(&of, path, 0);
    if (rc) return rc;
    cairo_surface_t *s = cairo_pdf_surface_create(of.tmp_path, f->w, f->h);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, meta);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_KEYWORDS, meta);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "napkit " NK_VERSION);
    /* A fixed date keeps the file byte-identical from run to run. */
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z");
    cairo_status_t st = replay(f, s, 1);
    cairo_surface_finish(s);
    if (!st) st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st) {
        nk_outfile_abort(&of);
        return nk_fail(NK_ERR_IO, "%s: cannot write PDF: %s", path, cairo_status_to_string(st));
    }
    return nk_outfile_commit(&of);
}

/* Appends s to b with XML special characters escaped. */
static int xml_escape(plot_str *b, const char *s) {
    int rc = 0;
    for (; *s && !rc; s++) {
        switch (*s) {
        case '&': rc = plot_str_add(b, "&amp;"); break;
        case '<': rc = plot_str_add(b, "&lt;"); break;
        case '>': rc = plot_str_add(b, "&gt;"); break;
        case '"': rc = plot_str_add(b, "&quot;"); break;
        default: rc = plot_str_bytes(b, s, 1);
        }
    }
    return rc;
}

/* cairo numbers SVG surfaces and images with process-wide counters, so the
 * same figure drawn second gets other ids. Renumbers every `surfaceN` and
 * `imageN` id (after '"' or '#') from 1 in order of appearance. */
static int svg_renumber(const char *s, size_t len, plot_str *out) {
    static const char *const prefix[] = {"surface", "image"};
    long seen[2][64];
    int count[2] = {0, 0}, rc = NK_OK;
    size_t i = 0, copied = 0;
    while (i < len && !rc) {
        int p = -1;
        if (i > 0 && (s[i - 1] == '"' || s[i - 1] == '#'))
            for (int k = 0; k < 2; k++) {
                size_t pl = strlen(prefix[k]);
                if (i + pl < len && !memcmp(s + i, prefix[k], pl) && s[i + pl] >= '0' && s[i + pl] <= '9') p = k;
            }
        if (p < 0) {
            i++;
            continue;
        }
        size_t j = i + strlen(prefix[p]);
        long id = 0;
        while (j < len && s[j] >= '0' && s[j] <= '9') id = id * 10 + (s[j++] - '0');
        int k = 0;
        while (k < count[p] && seen[p][k] != id) k++;
        if (k == count[p]) {
            if (count[p] == 64) return nk_fail(NK_ERR_ARG, "SVG: more than 64 %s ids", prefix[p]);
            seen[p][count[p]++] = id;
        }
        rc = plot_str_bytes(out, s + copied, i - copied);
        rc = rc ? rc : plot_str_add(out, "%s%d", prefix[p], k + 1);
        i = copied = j;
    }
    return rc ? rc : plot_str_bytes(out, s + copied, len - copied);
}

static int write_svg(plot_fig *f, const char *path, const char *title, const char *meta) {
    membuf m = {0};
    cairo_surface_t *s = cairo_svg_surface_create_for_stream(membuf_write, &m, f->w, f->h);
    cairo_status_t st = replay(f, s, 1);
    cairo_surface_finish(s);
    if (!st) st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    /* Splice <title> and <desc> in right after the opening <svg …> tag. */
    plot_str out = {0};
    const char *open = m.data ? strstr((const char *)m.data, "<svg") : NULL;
    const char *gt = open ? strchr(open, '>') : NULL;
    int rc = st || m.failed || !gt ? NK_ERR_IO : NK_OK;
    if (!rc) {
        size_t head = gt + 1 - (const char *)m.data;
        rc = plot_str_bytes(&out, m.data, head);
        rc = rc ? rc : plot_str_add(&out, "\n<title>");
        rc = rc ? rc : xml_escape(&out, title);
        rc = rc ? rc : plot_str_add(&out, "</title>\n<desc>");
        rc = rc ? rc : xml_escape(&out, meta);
        rc = rc ? rc : plot_str_add(&out, "</desc>");
        rc = rc ? rc : svg_renumber((const char *)m.data + head, m.len - head, &out);
        if (rc) rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
        else rc = nk_write_file(path, out.s, out.len);
    } else {
        rc = nk_fail(NK_ERR_IO, "%s: cannot render SVG: %s", path, st ? cairo_status_to_string(st) : "out of memory");
    }
    free(m.data);
    free(out.s);
    return rc;
}

static unsigned long crc32_png(const unsigned char *p, size_t n) {
    unsigned long c = 0xffffffffUL;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320UL ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffUL;
}

/* A PNG tEXt chunk "key\0text" (Latin-1 by the spec; our text is ASCII or UTF-8). */
static int png_text_chunk(plot_str *b, const char *key, const char *text) {
    size_t kl = strlen(key), tl = strlen(text), n = kl + 1 + tl;
    unsigned char *c = malloc(n + 12);
    if (!c) return NK_ERR_NOMEM;
    c[0] = n >> 24, c[1] = n >> 16, c[2] = n >> 8, c[3] = n;
    memcpy(c + 4, "tEXt", 4);
    memcpy(c + 8, key, kl + 1);
    memcpy(c + 9 + kl, text, tl);
    unsigned long crc = crc32_png(c + 4, n + 4);
    c[8 + n] = crc >> 24, c[9 + n] = crc >> 16, c[10 + n] = crc >> 8, c[11 + n] = crc;
    int rc = plot_str_bytes(b, c, n + 12);
    free(c);
    return rc;
}

static int write_png(plot_fig *f, const char *path, const char *title, const char *meta) {
    /* cairo images stop at 32767 pixels a side: very long figures get fewer dpi. */
    double scale = fmin(f->st.dpi / 72.0, 32000 / fmax(f->w, f->h));
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)ceil(f->w * scale), (int)ceil(f->h * scale));
    /* White first: rounding the size up can leave a pixel row the figure does not cover. */
    cairo_t *bg = cairo_create(s);
    cairo_set_source_rgb(bg, 1, 1, 1);
    cairo_paint(bg);
    cairo_destroy(bg);
    cairo_status_t st = replay(f, s, scale);
    membuf m = {0};
    if (!st) st = cairo_surface_write_to_png_stream(s, membuf_write, &m);
    cairo_surface_destroy(s);
    if (st || m.failed || m.len < 33) {
        free(m.data);
        return nk_fail(NK_ERR_IO, "%s: cannot render PNG: %s", path, cairo_status_to_string(st ? st : CAIRO_STATUS_NO_MEMORY));
    }
    /* The signature (8 bytes) and IHDR (25) come first; text chunks may follow. */
    plot_str out = {0};
    int rc = plot_str_bytes(&out, m.data, 33);
    rc = rc ? rc : png_text_chunk(&out, "Title", title);
    rc = rc ? rc : png_text_chunk(&out, "Software", "napkit " NK_VERSION);
    rc = rc ? rc : png_text_chunk(&out, "Description", meta);
    rc = rc ? rc : plot_str_bytes(&out, m.data + 33, m.len - 33);
    if (!rc) {
        rc = nk_write_file(path, out.s, out.len);
    } else {
        rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    free(m.data);
    free(out.s);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int plot_finish(plot_fig *f, const char *path, const char *details) {
    cairo_status_t st = cairo_status(f->cr);
    if (st) {
        plot_discard(f);
        return nk_fail(NK_ERR_NUMERIC, "%s: drawing the %s failed: %s", path, f->kind, cairo_status_to_string(st));
    }
    const nk_plot_style *s = &f->st;
    plot_str meta = {0};
    char title[256];
    snprintf(title, sizeof title, "%s", s->title ? s->title : f->kind);
    int rc = plot_str_add(&meta, "napkit %s %s; size %.6g x %.6g pt; font %.6g pt; png %.6g dpi", NK_VERSION, f->kind,
                          f->w, f->h, s->font_size, s->dpi);
    if (!rc && s->cmap) rc = plot_str_add(&meta, "; cmap %s", s->cmap);
    if (!rc && s->title) rc = plot_str_add(&meta, "; title %s", s->title);
    if (!rc && s->xlabel) rc = plot_str_add(&meta, "; xlabel %s", s->xlabel);
    if (!rc && s->ylabel) rc = plot_str_add(&meta, "; ylabel %s", s->ylabel);
    if (!rc && details && *details) rc = plot_str_add(&meta, "; %s", details);
    if (!rc && s->settings) rc = plot_str_add(&meta, "; %s", s->settings);
    if (rc) {
        plot_discard(f);
        free(meta.s);
        return nk_fail(NK_ERR_NOMEM, "%s: out of memory", path);
    }
    static const char *const ext[] = {".pdf", ".svg", ".png"};
    int (*const writer[])(plot_fig *, const char *, const char *, const char *) = {write_pdf, write_svg, write_png};
    int single = -1;
    for (int i = 0; i < 3; i++)
        if (ends_with(path, ext[i])) single = i;
    for (int i = 0; i < 3 && !rc; i++) {
        if (single >= 0 && i != single) continue;
        if (single >= 0) {
            rc = writer[i](f, path, title, meta.s);
        } else {
            char *p = malloc(strlen(path) + 5);
            if (!p) { rc = nk_fail(NK_ERR_NOMEM, "%s: out of memory", path); break; }
            sprintf(p, "%s%s", path, ext[i]);
            rc = writer[i](f, p, title, meta.s);
            free(p);
        }
    }
    free(meta.s);
    plot_discard(f);
    return rc;
}

/* ---- text ---- */

/* Copies s with every byte that is not part of valid UTF-8 replaced by '?'. */
static void utf8_sanitize(const char *s, char *out, size_t cap) {
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && o + 5 < cap) {
        int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        int ok = len > 0;
        for (int k = 1; k < len && ok; k++) ok = (p[k] & 0xc0) == 0x80;
        if (ok && len == 1 && *p < 0x20) ok = 0; /* control characters */
        if (!ok) {
            out[o++] = '?';
            p++;
            continue;
        }
        memcpy(out + o, p, len);
        o += len, p += len;
    }
    out[o] = '\0';
}

static void select_font(cairo_t *cr, double size) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double plot_text_width(cairo_t *cr, const char *s, double size) {
    char buf[512];
    utf8_sanitize(s, buf, sizeof buf);
    select_font(cr, size);
    cairo_text_extents_t te;
    cairo_text_extents(cr, buf, &te);
    return te.x_advance;
}

void plot_text(cairo_t *cr, double x, double y, const char *s, double size, double ax, double ay, double angle) {
    char buf[512];
    utf8_sanitize(s, buf, sizeof buf);
    select_font(cr, size);
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents(cr, buf, &te);
    cairo_font_extents(cr, &fe);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -angle * M_PI / 180);
    cairo_move_to(cr, -ax * te.x_advance, fe.ascent - ay * (fe.ascent + fe.descent));
    cairo_show_text(cr, buf);
    cairo_new_path(cr);
    cairo_restore(cr);
}
