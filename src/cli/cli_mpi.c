/* MPI for the subcommands that split a corpus across processes. Built with
 * OpenMPI (NK_WITH_MPI, see the Makefile) it joins the job mpirun started;
 * otherwise, or outside mpirun, the process is rank 0 of 1. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

const char *cli_rank_cmd(const char *cmd, int rank, int size, char *buf, size_t n) {
    if (size <= 1) return cmd;
    snprintf(buf, n, "%s (rank %d of %d)", cmd, rank, size);
    return buf;
}

#ifdef NK_WITH_MPI
#include <mpi.h>

/* Only processes started by mpirun join MPI: a plain `napkit naps` must not
 * pay for (or depend on) starting an MPI runtime. */
static int under_mpirun(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMIX_RANK") != NULL;
}

void cli_mpi_start(int *argc, char ***argv, cli_ranks *r) {
    r->rank = 0, r->size = 1;
    if (!under_mpirun()) return;
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &r->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &r->size);
}

int cli_mpi_all_ok(const cli_ranks *r, int ok) {
    int all = ok;
    if (r->size > 1) MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

size_t cli_mpi_sum(const cli_ranks *r, size_t v) {
    unsigned long long mine = v, all = v;
    if (r->size > 1) MPI_Allreduce(&mine, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return (size_t)all;
}

void cli_mpi_stop(const cli_ranks *r) {
    if (under_mpirun()) MPI_Finalize();
    (void)r;
}
#else
void cli_mpi_start(int *argc, char ***argv, cli_ranks *r) {
    (void)argc, (void)argv;
    r->rank = 0, r->size = 1;
}

int cli_mpi_all_ok(const cli_ranks *r, int ok) {
    (void)r;
    return ok;
}
size_t cli_mpi_sum(const cli_ranks *r, size_t v) {
    (void)r;
    return v;
}
void cli_mpi_stop(const cli_ranks *r) { (void)r; }
#endif
