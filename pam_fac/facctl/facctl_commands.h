// facctl's commands (facctl(8)). Each takes the words after its name
// and returns the process's exit status.
#pragma once

namespace facctl {

int run_check(int argc, char** argv);
int run_auth(int argc, char** argv);
int run_tokens(int argc, char** argv);
int run_rescue(int argc, char** argv);

}  // namespace facctl
