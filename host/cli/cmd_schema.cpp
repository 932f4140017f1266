// graft schema check|push|show: the schema of the store's documents.
#include <cstdio>

#include "cli/cli.h"
#include "run/lease.h"
#include "base/json_text.h"
#include "schema/schema.h"
#include "schema/schema_check.h"
#include "store/open_store.h"

namespace graft::cli {
namespace {

struct SchemaArgs {
  std::string file;
  bool history = false;
};

Result<Schema> readSchema(const std::string& file) {
  auto text = readFile(file);
  if (!text.ok()) return text.status().prefixed("read schema");
  auto schema = parseSchema(*text, file);
  if (!schema.ok()) return schema.status().prefixed("read schema");
  return schema;
}

void printCheck(const std::string& source, const std::string& db, const SchemaCheck& check) {
  int64_t documents = 0;
  for (const auto& t : check.tables) documents += t.documents;
  std::printf("schema %s against %s:\n%s", source.c_str(), db.c_str(), formatCheck(check).c_str());
  if (check.failed() == 0)
    std::printf("all %lld documents match\n", static_cast<long long>(documents));
}

int runCheck(const std::string& db, const SchemaArgs& args) {
  auto store = openStore(db, {.read_only = true});
  if (!store.ok()) return fail(store.status());
  Schema schema;
  std::string source = args.file;
  if (!args.file.empty()) {
    auto parsed = readSchema(args.file);
    if (!parsed.ok()) return fail(parsed.status());
    schema = std::move(*parsed);
  } else {
    auto in_force = loadSchemaInForce(**store);
    if (!in_force.ok()) return fail(in_force.status());
    if (!*in_force)
      return fail(Status(Code::kUsage, "schema check: no schema has been pushed to " + db +
                                           "; give a schema file (graft schema check FILE)"));
    schema = std::move((*in_force)->schema);
    source = "v" + std::to_string((*in_force)->record.version) + " (in force)";
  }
  auto check = checkData(**store, schema);
  if (!check.ok()) return fail(check.status());
  printCheck(source, db, *check);
  if (check->failed() > 0)
    return fail(Status(Code::kSchema, documentsDo(check->failed()) + " not match the schema"));
  return 0;
}

int runPush(const std::string& db, const SchemaArgs& args) {
  auto schema = readSchema(args.file);
  if (!schema.ok()) return fail(schema.status());
  auto store = openStore(db, StoreOptions{});
  if (!store.ok()) return fail(store.status());
  SchemaCheck check;
  Status pushed = pushSchema(**store, *schema, userName(), &check);
  if (!pushed.ok() && pushed.code() != Code::kSchema) return fail(pushed.prefixed("schema push"));
  printCheck(args.file, db, check);
  if (!pushed.ok()) return fail(pushed.prefixed("schema push " + args.file + " refused"));
  auto in_force = (*store)->loadSchema();
  if (!in_force.ok()) return fail(in_force.status());
  size_t indexes = 0;
  for (const auto& t : schema->tables) indexes += t.indexes.size();
  std::printf("schema v%lld in force: %zu tables, %zu indexes, validation %s\n",
              static_cast<long long>((*in_force)->version), schema->tables.size(), indexes,
              schema->validation ? "on" : "off");
  return 0;
}

int runShow(const std::string& db, const SchemaArgs& args) {
  auto store = openStore(db, {.read_only = true});
  if (!store.ok()) return fail(store.status());
  auto history = (*store)->loadSchemaHistory();
  if (!history.ok()) return fail(history.status());
  if (history->empty())
    return fail(Status(Code::kUsage, "schema show: no schema has been pushed to " + db +
                                         " (graft schema push FILE)"));
  if (args.history) {
    for (const auto& r : *history)
      std::printf("v%lld  %s  %s\n", static_cast<long long>(r.version), r.pushed_at.c_str(),
                  r.user.c_str());
    return 0;
  }
  std::printf("%s\n", history->front().text.c_str());
  return 0;
}

}  // namespace

Command addSchemaCommand(CLI::App& app, const Globals& globals) {
  auto args = std::make_shared<SchemaArgs>();
  CLI::App* sub = app.add_subcommand("schema", "check, push or show the documents' schema");
  sub->require_subcommand(1);
  CLI::App* check = sub->add_subcommand(
      "check", "check every document against a schema file (default: the schema in force)");
  check->add_option("file", args->file, "schema file");
  CLI::App* push = sub->add_subcommand(
      "push", "check, then record the schema and enforce it on every write (nothing changes "
              "if a document does not match)");
  push->add_option("file", args->file, "schema file")->required();
  CLI::App* show = sub->add_subcommand("show", "print the schema in force");
  show->add_flag("--history", args->history, "list every pushed version instead");
  return {sub, [&globals, args, check, push] {
            if (check->parsed()) return runCheck(globals.host.db_url, *args);
            if (push->parsed()) return runPush(globals.host.db_url, *args);
            return runShow(globals.host.db_url, *args);
          }};
}

}  // namespace graft::cli
