/* `napkit cluster` and `napkit plot` end to end: outputs against the SciPy
 * fixtures, a hand-written NAPs folder, restyling, exit codes on bad input. */
#include "check.h"

#include "napkit/cluster.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *napkit(void) {
    const char *p = getenv("NAPKIT");
    return p && *p ? p : "build/napkit";
}

/* Runs `napkit ARGS` quietly; returns its exit code. */
static int run(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s/out.txt 2>%s/err.txt", napkit(), args, check_tmpdir(), check_tmpdir());
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 1 if the last command's stderr contains s. */
static int stderr_has(const char *s) {
    char p[256], *text;
    snprintf(p, sizeof p, "%s/err.txt", check_tmpdir());
    if (nk_read_file(p, &text, NULL)) return 0;
    int found = strstr(text, s) != NULL;
    if (!found) fprintf(stderr, "stderr was: %s", text);
    free(text);
    return found;
}

static double json_number(cJSON *j, const char *key) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int exists(const char *dir, const char *name) {
    char p[512];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0 && sb.st_size > 0;
}

static void test_cluster_matches_scipy(void) {
    char out[300], args[1024];
    snprintf(out, sizeof out, "%s/mid", check_tmpdir());
    snprintf(args, sizeof args, "cluster tests/fixtures/cluster/X_mid.npy -o %s --method average --metric correlation --k 6", out);
    CHECK(run(args) == 0);
    nk_array z, ref;
    char p[512];
    snprintf(p, sizeof p, "%s/linkage.npy", out);
    CHECK_OK(nk_npy_read(p, &z));
    CHECK_OK(nk_npy_read("tests/fixtures/cluster/Z_mid_average_correlation.npy", &ref));
    if (z.data && ref.data && nk_array_count(&z) == nk_array_count(&ref)) {
        double err = 0;
        for (size_t i = 0; i < nk_array_count(&z); i++) err = fmax(err, fabs(((double *)z.data)[i] - ((double *)ref.data)[i]));
        CHECK(err < 1e-12);
    } else {
        CHECK(0);
    }
    nk_array_free(&z), nk_array_free(&ref);
    cJSON *j = check_read_json(out, "clusters.json"), *e = NULL;
    char *text;
    if (!nk_read_file("tests/fixtures/cluster/expected.json", &text, NULL)) e = cJSON_Parse(text), free(text);
    CHECK(j && e);
    CHECK_NEAR(json_number(j, "cophenetic_correlation"),
               json_number(cJSON_GetObjectItemCaseSensitive(e, "cophenet"), "mid_average_correlation"), 1e-12);
    cJSON *flat = cJSON_GetObjectItemCaseSensitive(j, "flat");
    CHECK(json_number(flat, "n_clusters") == 6);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "labels")) == 120);
    CHECK(exists(out, "dendrogram.pdf") && exists(out, "dendrogram.svg") && exists(out, "dendrogram.png"));
    cJSON_Delete(j), cJSON_Delete(e);
}

/* A NAPs folder by hand: 6 groups in 3 well separated pairs, layer 3. */
static void write_naps(const char *dir) {
    nk_mkdirs(dir);
    char p[512];
    snprintf(p, sizeof p, "%s/naps.json", dir);
    const char *json = "{\"groups\": [\"a\", \"e\", \"s\", \"z\", \"m\", \"n\"],"
                       " \"layers\": [{\"name\": \"layer_03\", \"index\": 3}]}";
    nk_write_file(p, json, strlen(json));
    float X[6 * 4];
    for (int g = 0; g < 6; g++)
        for (int c = 0; c < 4; c++) X[g * 4 + c] = (float)((g / 2 == c) * 10 + 0.1 * g + 0.01 * c * c);
    long shape[2] = {6, 4};
    snprintf(p, sizeof p, "%s/layer_03_flat.npy", dir);
    nk_npy_write(p, NK_F32, 2, shape, X);
    snprintf(p, sizeof p, "%s/classes.tsv", dir);
    const char *cls = "# phoneme\tclass\na\tvowel\ne\tvowel\ns\tfricative\nz\tfricative\nm\tnasal\nn\tnasal\n";
    nk_write_file(p, cls, strlen(cls));
}

static void test_naps_folder_and_restyle(void) {
    char naps[300], out[300], args[1400];
    snprintf(naps, sizeof naps, "%s/naps", check_tmpdir());
    snprintf(out, sizeof out, "%s/naps_out", check_tmpdir());
    write_naps(naps);
    snprintf(args, sizeof args, "cluster --naps-dir %s --layer 3 -o %s --classes %s/classes.tsv --optimal-order", naps, out, naps);
    CHECK(run(args) == 0);
    cJSON *j = check_read_json(out, "clusters.json");
    CHECK(j != NULL);
    cJSON *labels = cJSON_GetObjectItemCaseSensitive(j, "labels");
    CHECK(cJSON_GetArraySize(labels) == 6 && !strcmp(cJSON_GetArrayItem(labels, 2)->valuestring, "s"));
    CHECK_NEAR(json_number(j, "purity"), 1, 0);
    CHECK_NEAR(json_number(j, "ari"), 1, 0);
    CHECK(json_number(cJSON_GetObjectItemCaseSensitive(j, "flat"), "n_clusters") == 3); /* k = number of classes */
    cJSON_Delete(j);

    /* The same command again gives byte-identical figures. */
    char a[512], b[512], *x = NULL, *y = NULL;
    size_t lx = 0, ly = 0;
    snprintf(a, sizeof a, "%s/dendrogram.svg", out);
    nk_read_file(a, &x, &lx);
    CHECK(run(args) == 0);
    nk_read_file(a, &y, &ly);
    CHECK(x && y && lx == ly && !memcmp(x, y, lx));
    free(x), free(y);

    /* Restyle without recomputing; heatmap ordered by the clustering; ERP. */
    snprintf(args, sizeof args, "plot dendrogram %s -o %s/restyled.svg --orientation left --font-size 9 --title 'Layer 3'", out, out);
    CHECK(run(args) == 0);
    snprintf(b, sizeof b, "%s/restyled.svg", out);
    CHECK(nk_read_file(b, &x, &lx) == 0 && strstr(x, "font 9 pt") && strstr(x, "orientation left"));
    free(x);
    snprintf(args, sizeof args, "plot heatmap %s/layer_03_flat.npy --rows-from %s -o %s/heat --cmap coolwarm", naps, out, out);
    CHECK(run(args) == 0);
    CHECK(exists(out, "heat.pdf") && exists(out, "heat.svg") && exists(out, "heat.png"));
    snprintf(args, sizeof args, "plot erp %s/layer_03_flat.npy --sem %s/layer_03_flat.npy --x0 -2 -o %s/erp.png", naps, naps, out);
    CHECK(run(args) == 0);
    CHECK(exists(out, "erp.png"));
    /* --rows-from a clustering of another size is refused. */
    snprintf(args, sizeof args, "plot heatmap tests/fixtures/cluster/X_small.npy --rows-from %s -o %s/bad.png", out, out);
    CHECK(run(args) == 1 && stderr_has("clusters.json"));
}

static void test_bad_input_exit_codes(void) {
    char out[300], args[1400];
    snprintf(out, sizeof out, "%s/bad", check_tmpdir());
    snprintf(args, sizeof args, "cluster %s/missing.npy -o %s", check_tmpdir(), out);
    CHECK(run(args) == 1 && stderr_has("missing.npy"));
    snprintf(args, sizeof args, "cluster tests/fixtures/cluster/X_small.npy -o %s --method ward --metric cosine", out);
    CHECK(run(args) == 2 && stderr_has("euclidean"));
    snprintf(args, sizeof args, "cluster tests/fixtures/cluster/X_small.npy -o %s --method nope", out);
    CHECK(run(args) == 2);
    snprintf(args, sizeof args, "cluster tests/fixtures/cluster/X_small.npy -o %s --k 0", out);
    CHECK(run(args) == 2);
    /* 30 rows but a labels file with 2 lines. */
    char lab[512];
    snprintf(lab, sizeof lab, "%s/two.txt", check_tmpdir());
    nk_write_file(lab, "x\ny\n", 4);
    snprintf(args, sizeof args, "cluster tests/fixtures/cluster/X_small.npy -o %s --labels %s", out, lab);
    CHECK(run(args) == 1 && stderr_has("2 labels for 30 observations"));
    /* NaN in the input. */
    double X[6] = {0, 1, NAN, 2, 3, 4};
    long shape[2] = {3, 2};
    char nan[512];
    snprintf(nan, sizeof nan, "%s/nan.npy", check_tmpdir());
    nk_npy_write(nan, NK_F64, 2, shape, X);
    snprintf(args, sizeof args, "cluster %s -o %s", nan, out);
    CHECK(run(args) == 1 && stderr_has("not finite"));
    /* A NAPs folder without the layer. */
    char naps[300];
    snprintf(naps, sizeof naps, "%s/naps", check_tmpdir());
    write_naps(naps);
    snprintf(args, sizeof args, "cluster --naps-dir %s --layer 7 -o %s", naps, out);
    CHECK(run(args) == 1 && stderr_has("no layer with index 7"));
    snprintf(args, sizeof args, "plot dendrogram %s/nothing-here", check_tmpdir());
    CHECK(run(args) == 1 && stderr_has("linkage.npy"));
    CHECK(run("plot pie x.npy -o y.png") == 2);
}

int main(void) {
    RUN(test_cluster_matches_scipy);
    RUN(test_naps_folder_and_restyle);
    RUN(test_bad_input_exit_codes);
    return check_summary();
}
