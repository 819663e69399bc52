/* Clustering against SciPy / scikit-learn fixtures (tests/fixtures/make_cluster.py). */
#include "check.h"

#include "napkit/cluster.h"
#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"

#include <cjson/cJSON.h>

#define FIX "tests/fixtures/cluster/"

static const char *const datasets[] = {"small", "mid", "big", "grid", "dup"};

/* Loads FIX<name>.npy as float64 (or int32 when ints is set); returns the element count. */
static size_t load(const char *name, nk_array *a) {
    char path[256];
    snprintf(path, sizeof path, FIX "%s.npy", name);
    int rc = nk_npy_read(path, a);
    if (rc) {
        fprintf(stderr, "%s: %s\n", path, nk_last_error());
        memset(a, 0, sizeof *a);
        return 0;
    }
    return nk_array_count(a);
}

static cJSON *expected(void) {
    static cJSON *root;
    if (!root) {
        char *text;
        if (nk_read_file(FIX "expected.json", &text, NULL)) return NULL;
        root = cJSON_Parse(text);
        free(text);
    }
    return root;
}

static double expect(const char *group, const char *key) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(expected(), group), key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Condensed distances of a fixture data set; caller frees. */
static double *distances(const char *data, nk_metric metric, int *n) {
    nk_array X;
    char name[64];
    snprintf(name, sizeof name, "X_%s", data);
    if (!load(name, &X)) return NULL;
    *n = (int)X.shape[0];
    double *D = malloc(sizeof(double) * (size_t)*n * (*n - 1) / 2);
    CHECK_OK(nk_pdist(X.data, *n, (int)X.shape[1], metric, D));
    nk_array_free(&X);
    return D;
}

/* Compares Z with scipy's: ids and sizes exactly, heights to 1e-12 relative.
 * With ties only the sorted heights and sizes are compared. */
static int compare_Z(const double *Z, const double *ref, int n, int ties, const char *what) {
    int bad = 0;
    for (int k = 0; k < n - 1 && !bad; k++) {
        double h = Z[4 * k + 2], hr = ref[4 * k + 2];
        if (fabs(h - hr) > 1e-12 * fmax(1, fabs(hr))) bad = 1;
        if (!ties && (Z[4 * k] != ref[4 * k] || Z[4 * k + 1] != ref[4 * k + 1] || Z[4 * k + 3] != ref[4 * k + 3]))
            bad = 1;
        if (bad)
            fprintf(stderr, "%s: row %d is (%g %g %.17g %g), scipy (%g %g %.17g %g)\n", what, k, Z[4 * k],
                    Z[4 * k + 1], h, Z[4 * k + 3], ref[4 * k], ref[4 * k + 1], hr, ref[4 * k + 3]);
    }
    return !bad;
}

static void check_linkage(const char *data, int method, int metric) {
    int n;
    double *D = distances(data, metric, &n);
    if (!D) { CHECK(0); return; }
    char name[96];
    snprintf(name, sizeof name, "Z_%s_%s_%s", data, nk_linkage_method_names[method], nk_metric_names[metric]);
    nk_array ref;
    CHECK(load(name, &ref) == (size_t)(n - 1) * 4);
    double *Z = malloc(sizeof(double) * 4 * (n - 1));
    CHECK_OK(nk_linkage(D, n, method, Z));
    int ties = !strcmp(data, "grid") || !strcmp(data, "dup");
    CHECK_OK(nk_linkage_validate(Z, n, name));
    if (ref.data) {
        /* With ties scipy's merge order among equal heights is an implementation
         * detail: compare the multiset of heights (both sorted ascending for
         * monotone methods; sort copies for centroid/median). */
        if (ties) {
            for (int k = 1; k < n - 1; k++)
                for (int j = k; j > 0 && Z[4 * j + 2] < Z[4 * (j - 1) + 2]; j--)
                    for (int c = 0; c < 4; c++) { double t = Z[4 * j + c]; Z[4 * j + c] = Z[4 * (j - 1) + c]; Z[4 * (j - 1) + c] = t; }
            double *R = ref.data;
            for (int k = 1; k < n - 1; k++)
                for (int j = k; j > 0 && R[4 * j + 2] < R[4 * (j - 1) + 2]; j--)
                    for (int c = 0; c < 4; c++) { double t = R[4 * j + c]; R[4 * j + c] = R[4 * (j - 1) + c]; R[4 * (j - 1) + c] = t; }
        }
        CHECK(compare_Z(Z, ref.data, n, ties, name));
    }
    if (!ties) { /* cophenetic correlation, defined when heights differ */
        double corr;
        CHECK_OK(nk_cophenet(ref.data, n, D, NULL, &corr));
        CHECK_NEAR(corr, expect("cophenet", name + 2), 1e-12);
    }
    nk_array_free(&ref);
    free(Z);
    free(D);
}

static void test_linkage_euclidean_all_methods(void) {
    for (size_t d = 0; d < sizeof datasets / sizeof *datasets; d++)
        for (int m = NK_LINK_SINGLE; m <= NK_LINK_MEDIAN; m++) check_linkage(datasets[d], m, NK_METRIC_EUCLIDEAN);
}

static void test_linkage_other_metrics(void) {
    for (int metric = NK_METRIC_SQEUCLIDEAN; metric <= NK_METRIC_CHEBYSHEV; metric++)
        for (int m = NK_LINK_SINGLE; m <= NK_LINK_WEIGHTED; m++) check_linkage("mid", m, metric);
}

static void test_pdist_matches_scipy(void) {
    for (int metric = NK_METRIC_EUCLIDEAN; metric <= NK_METRIC_CHEBYSHEV; metric++) {
        int n;
        double *D = distances("small", metric, &n);
        char name[64];
        snprintf(name, sizeof name, "pdist_%s", nk_metric_names[metric]);
        nk_array ref;
        size_t m = load(name, &ref);
        CHECK(D && m == (size_t)n * (n - 1) / 2);
        double err = 0;
        for (size_t i = 0; D && i < m; i++) err = fmax(err, fabs(D[i] - ((double *)ref.data)[i]) / fmax(1, fabs(((double *)ref.data)[i])));
        if (err > 1e-13) fprintf(stderr, "%s: max error %g\n", name, err);
        CHECK(err <= 1e-13);
        nk_array_free(&ref);
        free(D);
    }
}

static void test_cophenetic_distances_brute_force(void) {
    /* The cophenetic distance of i and j is the height where they first share
     * a cluster: check by replaying the merges with explicit membership. */
    int n;
    double *D = distances("small", NK_METRIC_EUCLIDEAN, &n);
    double *Z = malloc(sizeof(double) * 4 * (n - 1)), *C = malloc(sizeof(double) * n * (n - 1) / 2);
    CHECK_OK(nk_linkage(D, n, NK_LINK_AVERAGE, Z));
    CHECK_OK(nk_cophenet(Z, n, NULL, C, NULL));
    int *owner = malloc(sizeof(int) * n);
    for (int i = 0; i < n; i++) owner[i] = i;
    int bad = 0, seen = 0;
    for (int k = 0; k < n - 1; k++) {
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                int a = owner[i], b = owner[j];
                if ((a == Z[4 * k] && b == Z[4 * k + 1]) || (b == Z[4 * k] && a == Z[4 * k + 1]))
                    bad += C[nk_condensed_index(n, i, j)] != Z[4 * k + 2], seen++;
            }
        for (int i = 0; i < n; i++)
            if (owner[i] == Z[4 * k] || owner[i] == Z[4 * k + 1]) owner[i] = n + k;
    }
    CHECK(seen == n * (n - 1) / 2);
    CHECK(bad == 0);
    free(owner), free(Z), free(C), free(D);
}

static void test_optimal_leaf_ordering(void) {
    static const struct { const char *method, *metric; } cases[] = {
        {"average", "euclidean"}, {"ward", "euclidean"}, {"average", "correlation"}};
    for (int d = 0; d < 2; d++)
        for (int c = 0; c < 3; c++) {
            int method = 0, metric = 0;
            while (strcmp(nk_linkage_method_names[method], cases[c].method)) method++;
            while (strcmp(nk_metric_names[metric], cases[c].metric)) metric++;
            int n;
            double *D = distances(datasets[d], metric, &n);
            double *Z = malloc(sizeof(double) * 4 * (n - 1));
            int *order = malloc(sizeof(int) * n);
            CHECK_OK(nk_linkage(D, n, method, Z));
            char name[96];
            nk_array ref;
            snprintf(name, sizeof name, "leaves_%s_%s_%s", datasets[d], cases[c].method, cases[c].metric);
            CHECK(load(name, &ref) == (size_t)n);
            CHECK_OK(nk_leaves_list(Z, n, order));
            CHECK(ref.data && !memcmp(order, ref.data, sizeof(int) * n));
            nk_array_free(&ref);
            snprintf(name, sizeof name, "olo_%s_%s_%s", datasets[d], cases[c].method, cases[c].metric);
            CHECK(load(name, &ref) == (size_t)n);
            CHECK_OK(nk_optimal_leaf_ordering(Z, n, D));
            CHECK_OK(nk_linkage_validate(Z, n, name));
            CHECK_OK(nk_leaves_list(Z, n, order));
            if (ref.data) {
                /* SciPy's order is not always optimal (scipy/scipy#11227): ours must cost no more. */
                double mine = 0, theirs = 0;
                const int *r = ref.data;
                for (int i = 0; i + 1 < n; i++)
                    mine += D[nk_condensed_index(n, order[i], order[i + 1])],
                        theirs += D[nk_condensed_index(n, r[i], r[i + 1])];
                CHECK(mine <= theirs + 1e-9);
            }
            nk_array_free(&ref);
            free(order), free(Z), free(D);
        }
}

static void test_olo_is_optimal_brute_force(void) {
    /* m = 12 points: try all 2^11 child swaps and check nothing beats the result. */
    enum { m = 12 };
    int n;
    double *D = distances("small", NK_METRIC_EUCLIDEAN, &n);
    double Dm[m * (m - 1) / 2], Z[4 * (m - 1)], W[4 * (m - 1)], S[4 * (m - 1)];
    for (int off = 0; off < 3; off++) {
        for (int i = 0; i < m; i++)
            for (int j = i + 1; j < m; j++) Dm[nk_condensed_index(m, i, j)] = D[nk_condensed_index(n, i + 6 * off, j + 6 * off)];
        int method = off == 0 ? NK_LINK_AVERAGE : off == 1 ? NK_LINK_COMPLETE : NK_LINK_WARD;
        int order[m];
        CHECK_OK(nk_linkage(Dm, m, method, Z));
        memcpy(W, Z, sizeof Z);
        CHECK_OK(nk_optimal_leaf_ordering(W, m, Dm));
        nk_leaves_list(W, m, order);
        double got = 0, best = INFINITY;
        for (int i = 0; i + 1 < m; i++) got += Dm[nk_condensed_index(m, order[i], order[i + 1])];
        for (int mask = 0; mask < 1 << (m - 1); mask++) {
            memcpy(S, Z, sizeof Z);
            for (int k = 0; k < m - 1; k++)
                if (mask >> k & 1) { double t = S[4 * k]; S[4 * k] = S[4 * k + 1]; S[4 * k + 1] = t; }
            nk_leaves_list(S, m, order);
            double c = 0;
            for (int i = 0; i + 1 < m; i++) c += Dm[nk_condensed_index(m, order[i], order[i + 1])];
            best = fmin(best, c);
        }
        CHECK_NEAR(got, best, 1e-12);
    }
    free(D);
}

/* 1 when lab equals the int32 fixture `name` element for element. */
static int same_labels(const char *name, const int *lab, int n) {
    nk_array ref;
    int same = load(name, &ref) == (size_t)n && !memcmp(lab, ref.data, sizeof(int) * n);
    if (!same) fprintf(stderr, "%s differs from scipy\n", name);
    nk_array_free(&ref);
    return same;
}

static void test_fcluster(void) {
    int n;
    double *D = distances("mid", NK_METRIC_EUCLIDEAN, &n);
    double *Z = malloc(sizeof(double) * 4 * (n - 1));
    int *lab = malloc(sizeof(int) * n);
    static const int ks[] = {1, 2, 5, 6, 10, 40};
    static const double ts[] = {0.0, 1.5, 3.0, 5.0, 100.0};
    for (int mi = 0; mi < 2; mi++) {
        int method = mi ? NK_LINK_CENTROID : NK_LINK_AVERAGE;
        CHECK_OK(nk_linkage(D, n, method, Z));
        for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
            char name[64];
            snprintf(name, sizeof name, "fmax_%s_%d", nk_linkage_method_names[method], ks[i]);
            CHECK_OK(nk_fcluster_maxclust(Z, n, ks[i], lab));
            CHECK(same_labels(name, lab, n));
        }
        for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
            char name[64];
            snprintf(name, sizeof name, "fdist_%s_%zu", nk_linkage_method_names[method], i);
            CHECK_OK(nk_fcluster_distance(Z, n, ts[i], lab));
            CHECK(same_labels(name, lab, n));
        }
    }
    /* k = n − 1 merges exactly the closest pair; k >= n keeps every point apart. */
    CHECK_OK(nk_fcluster_maxclust(Z, n, n - 1, lab));
    int top = 0;
    for (int i = 0; i < n; i++) top = lab[i] > top ? lab[i] : top;
    CHECK(top == n - 1);
    CHECK(lab[(int)Z[0]] == lab[(int)Z[1]]);
    CHECK_OK(nk_fcluster_maxclust(Z, n, n + 5, lab));
    for (int i = 0; i < n; i++) CHECK(lab[i] == i + 1);
    CHECK(nk_fcluster_maxclust(Z, n, 0, lab) == NK_ERR_ARG);
    free(lab), free(Z), free(D);
}

static void test_silhouette_ari_purity(void) {
    static const char *const labs[] = {"truth", "pred", "noisy"};
    nk_array L[3];
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "labels_%s", labs[i]);
        CHECK(load(name, &L[i]) == 120);
    }
    if (!L[0].data || !L[1].data || !L[2].data) return;
    for (int metric = 0; metric < 2; metric++) {
        nk_metric m = metric ? NK_METRIC_CORRELATION : NK_METRIC_EUCLIDEAN;
        int n;
        double *D = distances("mid", m, &n);
        for (int i = 0; i < 3; i++) {
            char key[64];
            double s;
            snprintf(key, sizeof key, "%s_%s", labs[i], nk_metric_names[m]);
            CHECK_OK(nk_silhouette(D, n, L[i].data, &s));
            CHECK_NEAR(s, expect("silhouette", key), 1e-12);
        }
        int one[120] = {0};
        CHECK(nk_silhouette(D, n, one, &(double){0}) == NK_ERR_ARG);
        free(D);
    }
    double v;
    CHECK_OK(nk_adjusted_rand(L[0].data, L[1].data, 120, &v));
    CHECK_NEAR(v, expect("ari", "truth_pred"), 1e-12);
    CHECK_OK(nk_adjusted_rand(L[0].data, L[2].data, 120, &v));
    CHECK_NEAR(v, expect("ari", "truth_noisy"), 1e-12);
    CHECK_OK(nk_adjusted_rand(L[1].data, L[2].data, 120, &v));
    CHECK_NEAR(v, expect("ari", "pred_noisy"), 1e-12);
    CHECK_OK(nk_adjusted_rand(L[0].data, L[0].data, 120, &v));
    CHECK_NEAR(v, 1.0, 0);
    CHECK_OK(nk_purity(L[1].data, L[0].data, 120, &v));
    CHECK_NEAR(v, expect("purity", "pred_truth"), 1e-12);
    CHECK_OK(nk_purity(L[2].data, L[0].data, 120, &v));
    CHECK_NEAR(v, expect("purity", "noisy_truth"), 1e-12);
    for (int i = 0; i < 3; i++) nk_array_free(&L[i]);
}

static void test_bad_input(void) {
    double X[6] = {0, 0, 1, 1, NAN, 2};
    double D[3];
    CHECK(nk_pdist(X, 3, 2, NK_METRIC_EUCLIDEAN, D) == NK_ERR_NUMERIC);
    double Xz[4] = {0, 0, 1, 1};
    CHECK(nk_pdist(Xz, 2, 2, NK_METRIC_COSINE, D) == NK_ERR_NUMERIC);
    CHECK(strstr(nk_last_error(), "row 0") != NULL);
    CHECK(nk_pdist(Xz + 2, 1, 2, NK_METRIC_CORRELATION, D) == NK_ERR_NUMERIC);
    double Dn[3] = {1, NAN, 2}, Z[8];
    CHECK(nk_linkage(Dn, 3, NK_LINK_AVERAGE, Z) == NK_ERR_NUMERIC);
    double Dneg[3] = {1, -1, 2};
    CHECK(nk_linkage(Dneg, 3, NK_LINK_WARD, Z) == NK_ERR_NUMERIC);
    CHECK(nk_linkage(Dn, 1, NK_LINK_AVERAGE, Z) == NK_ERR_ARG);
    CHECK(nk_linkage(Dn, 3, (nk_linkage_method)42, Z) == NK_ERR_ARG);
    double bad[8] = {0, 0, 1, 2, 1, 3, 2, 3};
    CHECK(nk_linkage_validate(bad, 3, "z.npy") == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "z.npy: row 0") != NULL);
    double bad2[8] = {0, 1, 1, 2, 2, 4, 2, 3};
    CHECK(nk_linkage_validate(bad2, 3, "z.npy") == NK_ERR_FORMAT);
    double good[8] = {0, 1, 1, 2, 2, 3, 2, 3};
    CHECK_OK(nk_linkage_validate(good, 3, "z.npy"));
    int a[3] = {0, 1, 1}, b[3] = {5, 5, 7};
    CHECK_OK(nk_adjusted_rand(a, b, 3, &(double){0}));
    CHECK(nk_purity(a, b, 0, &(double){0}) == NK_ERR_ARG);
}

/* Writes text to a file in the test directory; returns its path (static buffer). */
static const char *scratch(const char *name, const char *text) {
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", check_tmpdir(), name);
    nk_write_file(p, text, strlen(text));
    return p;
}

static void test_inputs(void) {
    char **lines;
    int n;
    CHECK_OK(nk_read_lines(scratch("l.txt", "AA\r\nIY  \n\nS"), &lines, &n));
    CHECK(n == 4 && !strcmp(lines[0], "AA") && !strcmp(lines[1], "IY") && !strcmp(lines[2], "") && !strcmp(lines[3], "S"));
    nk_strings_free(lines, n);
    CHECK(nk_read_lines(scratch("e.txt", ""), &lines, &n) == NK_ERR_EMPTY);
    CHECK(nk_read_lines(scratch("missing/x.txt", "x"), &lines, &n) == NK_ERR_IO);

    const char *labels[4] = {"a", "s", "z", "q"};
    int classes[4];
    char **names;
    int K;
    CHECK_OK(nk_read_classes(scratch("c.tsv", "# comment\na\tvowel\ns\tfric\nz\tfric\n"), labels, 4, classes, &names, &K));
    CHECK(K == 2 && !strcmp(names[1], "fric") && classes[0] == 0 && classes[1] == 1 && classes[2] == 1 && classes[3] == -1);
    nk_strings_free(names, K);
    CHECK(nk_read_classes(scratch("c2.tsv", "a vowel\n"), labels, 4, classes, &names, &K) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "line 1") != NULL);

    /* NAPs folders: malformed JSON, groups that are not strings, a row count that disagrees. */
    char dir[400];
    snprintf(dir, sizeof dir, "%s/naps_bad", check_tmpdir());
    nk_mkdirs(dir);
    double *X;
    int d;
    char **groups, p[512];
    snprintf(p, sizeof p, "%s/naps.json", dir);
    nk_write_file(p, "{\"groups\": [", 12);
    CHECK(nk_naps_read_flat(dir, 1, &X, &n, &d, &groups) == NK_ERR_FORMAT);
    const char *j1 = "{\"groups\": [\"a\", 3], \"layers\": [{\"name\": \"layer_01\", \"index\": 1}]}";
    nk_write_file(p, j1, strlen(j1));
    CHECK(nk_naps_read_flat(dir, 1, &X, &n, &d, &groups) == NK_ERR_FORMAT);
    const char *j2 = "{\"groups\": [\"a\", \"b\", \"c\"], \"layers\": [{\"name\": \"layer_01\", \"index\": 1}]}";
    nk_write_file(p, j2, strlen(j2));
    float F[4] = {1, 2, 3, 4};
    long shape[2] = {2, 2};
    snprintf(p, sizeof p, "%s/layer_01_flat.npy", dir);
    nk_npy_write(p, NK_F32, 2, shape, F);
    CHECK(nk_naps_read_flat(dir, 1, &X, &n, &d, &groups) == NK_ERR_FORMAT);
    CHECK(strstr(nk_last_error(), "2 rows but") != NULL);
    long shape3[2] = {3, 1};
    nk_npy_write(p, NK_F32, 2, shape3, F);
    CHECK_OK(nk_naps_read_flat(dir, 1, &X, &n, &d, &groups));
    CHECK(n == 3 && d == 1 && X[2] == 3 && !strcmp(groups[2], "c"));
    free(X);
    nk_strings_free(groups, n);

    /* A clusters.json read back must match the linkage size and have sane entries. */
    nk_cluster_saved sv;
    CHECK(nk_cluster_saved_read(scratch("s1.json", "{\"n\": 3}"), 4, &sv) == NK_ERR_FORMAT);
    CHECK(nk_cluster_saved_read(scratch("s2.json", "{\"n\": 2, \"labels\": [\"a\", \"b\"], \"leaf_order\": [0, 5]}"), 2, &sv) ==
          NK_ERR_FORMAT);
    CHECK_OK(nk_cluster_saved_read(scratch("s3.json", "{\"n\": 2, \"labels\": [\"a\", \"b\"], \"leaf_order\": [1, 0]}"), 2, &sv));
    CHECK(sv.order[0] == 1 && !sv.flat && !sv.classes);
    nk_cluster_saved_free(&sv);
}

int main(void) {
    RUN(test_pdist_matches_scipy);
    RUN(test_linkage_euclidean_all_methods);
    RUN(test_linkage_other_metrics);
    RUN(test_cophenetic_distances_brute_force);
    RUN(test_optimal_leaf_ordering);
    RUN(test_olo_is_optimal_brute_force);
    RUN(test_fcluster);
    RUN(test_silhouette_ari_purity);
    RUN(test_bad_input);
    RUN(test_inputs);
    return check_summary();
}
