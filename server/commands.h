/* commands.h — the `tafel` binary's sub-commands; each takes its own argv (argv[0] is its name)
 * and returns the process exit code. */
#ifndef TF_COMMANDS_H
#define TF_COMMANDS_H

int tf_cmd_admin(int argc, char **argv);
int tf_cmd_mix(int argc, char **argv);
int tf_cmd_sample(int argc, char **argv);
int tf_cmd_serve(int argc, char **argv);

#endif
