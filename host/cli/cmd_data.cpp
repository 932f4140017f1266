// graft import / graft export: documents in and out as JSON lines.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "document/jsonl.h"
#include "store/open_store.h"

namespace graft::cli {
namespace {

struct DataArgs {
  std::string table, file;
};

int runImport(const std::string& db, const DataArgs& args) {
  auto store = openStore(db, {.create = true});
  if (!store.ok()) return fail(store.status());
  const bool from_stdin = args.file == "-";
  std::ifstream in_file;
  if (!from_stdin) {
    in_file.open(args.file, std::ios::binary);
    if (!in_file) return fail(Status(Code::kBadInput, "import: " + args.file + ": can not open"));
  }
  int64_t imported = 0;
  Status status = importJsonLines(**store, args.table, from_stdin ? std::cin : in_file,
                                  from_stdin ? "<stdin>" : args.file, &imported);
  if (!status.ok()) return fail(status);
  std::printf("imported %s into %s\n", plural(imported, "document", "documents").c_str(),
              args.table.c_str());
  return 0;
}

int runExport(const std::string& db, const DataArgs& args) {
  auto store = openStore(db, {.read_only = true});
  if (!store.ok()) return fail(store.status());
  std::ios::sync_with_stdio(false);
  Status status = exportJsonLines(**store, args.table, std::cout);
  std::cout.flush();
  return status.ok() ? 0 : fail(status);
}

}  // namespace

Command addImportCommand(CLI::App& app, const Globals& globals) {
  auto args = std::make_shared<DataArgs>();
  CLI::App* sub = app.add_subcommand("import", "load JSON lines (one object a line) into a table");
  sub->add_option("table", args->table, "table name")->required();
  sub->add_option("file", args->file, "JSON lines file, - for standard input")->required();
  return {sub, [&globals, args] { return runImport(globals.host.db_url, *args); }};
}

Command addExportCommand(CLI::App& app, const Globals& globals) {
  auto args = std::make_shared<DataArgs>();
  CLI::App* sub = app.add_subcommand("export", "print a table as JSON lines, in _id order");
  sub->add_option("table", args->table, "table name")->required();
  return {sub, [&globals, args] { return runExport(globals.host.db_url, *args); }};
}

}  // namespace graft::cli
