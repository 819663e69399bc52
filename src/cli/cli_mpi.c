/* MPI for the subcommands that split a corpus across processes. Built with
 * OpenMPI (NK_WITH_MPI, see the Makefile) it joins the job mpirun started;
 * otherwise, or outside mpirun, the process is rank 0 of 1. */
#include "cli.h"

#include <stdlib.h>

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
void cli_mpi_stop(const cli_ranks *r) { (void)r; }
#endif
