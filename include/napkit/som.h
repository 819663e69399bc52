/* Self-organizing map (Kohonen): lays out n vectors on a rows × cols grid so
 * that similar vectors sit close together.
 *
 * Online training: for every epoch the samples are visited in a seeded random
 * order; the best-matching cell's Gaussian grid neighbourhood moves towards
 * the sample. The neighbourhood width σ and the learning rate decay
 * exponentially over all steps from (sigma0, lr0) to (sigma1, lr1) —
 * methods.md §6: σ from grid/2 to 0.5, rate 0.5 to 0.01, 1000 epochs.
 * With rows·cols ≥ n, every sample then gets its own cell: the one-to-one
 * assignment minimizing the summed squared distance to the cells' codebook
 * vectors (Hungarian method), where methods.md proposes a greedy pass.
 * Same data, config and seed give the same map, bit for bit. */
#ifndef NAPKIT_SOM_H
#define NAPKIT_SOM_H

typedef struct {
    int rows, cols;
    int epochs;
    double sigma0, sigma1; /* neighbourhood width in cells, start and end */
    double lr0, lr1;       /* learning rate, start and end */
    unsigned long long seed;
} nk_som_config;

/* Defaults for n samples: a square grid of ⌈√n⌉² cells, σ from side/2 to 0.5,
 * rate 0.5 to 0.01, 1000 epochs, seed 1. */
void nk_som_config_default(nk_som_config *c, int n);

typedef struct {
    int rows, cols, d, n;
    double *codebook; /* (rows·cols, d); cell k is at row k / cols, column k % cols */
    int *cell;        /* (n) the cell of each sample (distinct when rows·cols ≥ n) */
    double qerr;      /* mean distance of a sample to its best-matching cell */
} nk_som;

/* X is (n, d). Fails on NaN/Inf, n < 1, d < 1, rows·cols < n or bad rates. */
int nk_som_fit(const double *X, int n, int d, const nk_som_config *c, nk_som *out);
void nk_som_free(nk_som *s);

#endif
