/* napkit: the command-line front end. Dispatches to one subcommand per file. */
#include "cli.h"

#include "napkit/napkit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define COMMAND(name) \
    int cmd_##name(int argc, char **argv); \
    extern const char cmd_##name##_summary[];
#include "commands.inc"
#undef COMMAND

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
#define COMMAND(name) {#name, cmd_##name, cmd_##name##_summary},
#include "commands.inc"
#undef COMMAND
};

static void print_help(FILE *out) {
    fprintf(out,
            "napkit %s — look inside speech recognition networks\n\n"
            "usage: napkit [--quiet] COMMAND [ARGS]   (napkit COMMAND --help for details)\n\n"
            "commands:\n",
            NK_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    int i = 1, quiet = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("napkit %s\n", NK_VERSION);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help(stdout);
            return EXIT_OK;
        } else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            quiet = 1;
        } else {
            fprintf(stderr, "napkit: unknown option '%s'\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (i == argc) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    cli_show_progress = !quiet && isatty(STDERR_FILENO);
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (!strcmp(argv[i], commands[c].name)) {
            cli_reset_getopt();
            return commands[c].run(argc - i, argv + i);
        }
    }
    fprintf(stderr, "napkit: unknown command '%s' (see 'napkit --help')\n", argv[i]);
    return EXIT_USAGE;
}
