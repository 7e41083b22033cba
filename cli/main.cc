// The `quarry` command-line tool: submits jobs to a Quarry leader, follows
// them and shows results and cluster health. See `quarry help`.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <grpc/support/log.h>

#include "cli/commands.h"

namespace {

int TerminalWidth() {
  struct winsize size {};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 80;
}

}  // namespace

int main(int argc, char** argv) {
  // The CLI reports every failed call itself, with gRPC's reason (a failed
  // TLS handshake included); gRPC's own log lines would only repeat it.
  gpr_set_log_function([](gpr_log_func_args*) {});
  const std::vector<std::string> args(argv + 1, argv + argc);
  quarry::cli::ParseEnv env;
  if (const char* leader = std::getenv("QUARRY_LEADER")) {
    env.leader_env = leader;
  }
  if (const char* token = std::getenv("QUARRY_TOKEN")) env.token_env = token;
  if (const char* file = std::getenv("QUARRY_TOKEN_FILE")) {
    env.token_file_env = file;
  }
  for (auto [name, field] :
       {std::pair{"QUARRY_TLS_CA", &env.tls_env.ca},
        std::pair{"QUARRY_TLS_CERT", &env.tls_env.cert},
        std::pair{"QUARRY_TLS_KEY", &env.tls_env.key}}) {
    if (const char* value = std::getenv(name)) *field = value;
  }
  std::error_code error;
  env.cwd = std::filesystem::current_path(error).string();

  quarry::cli::CommandContext ctx;
  ctx.err_is_tty = isatty(STDERR_FILENO) == 1;
  ctx.terminal_width = TerminalWidth();
  return quarry::cli::RunQuarry(args, env, ctx);
}
