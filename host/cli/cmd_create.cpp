// graft create NAME: a new migration's source, build line, manifest entry
// and (if the project has one) graft.sum entry. See scaffold.h.
#include <cstdio>

#include "cli/cli.h"
#include "plan/scaffold.h"

namespace graft::cli {
namespace {

struct CreateArgs {
  std::string name, dir, table = "my_table";
};

int runCreate(const HostOptions& host_options, const CreateArgs& args) {
  CreateOptions options;
  options.name = args.name;
  options.manifest_path = manifestPathOf(host_options);
  options.source_dir = args.dir;
  options.table = args.table;
  auto created = createMigration(options);
  if (!created.ok()) return fail(created.status().prefixed("create"));
  std::printf("created migration %s\n", created->id.c_str());
  std::printf("  wrote %s\n", created->source_path.c_str());
  std::printf("  %s %s\n", created->cmake_created ? "wrote" : "appended to",
              created->cmake_path.c_str());
  std::printf("  %s %s\n", created->manifest_created ? "wrote" : "appended to",
              created->manifest_path.c_str());
  if (!created->sum_path.empty()) {
    std::printf("  appended to %s (pending: build, then run graft sum)\n",
                created->sum_path.c_str());
  }
  return 0;
}

}  // namespace

Command addCreateCommand(CLI::App& app, const Globals& globals) {
  auto args = std::make_shared<CreateArgs>();
  CLI::App* sub = app.add_subcommand(
      "create", "start a migration: YYYYMMDD_HHMMSS_NAME.cpp, its build line, manifest entry");
  sub->add_option("name", args->name, "what it does, in letters, digits and '_'")->required();
  sub->add_option("--dir", args->dir,
                  "where the source and CMakeLists.txt go (default: the manifest's directory)");
  sub->add_option("--table", args->table, "the table its up step walks")->capture_default_str();
  return {sub, [&globals, args] { return runCreate(globals.host, *args); }};
}

}  // namespace graft::cli
