// scaffold.h -- `graft create NAME`: a new migration, ready to edit.
//
// Convention: a migrations directory holds manifest.json, graft.sum (if the
// team uses one), CMakeLists.txt and one <id>.cpp per migration. create
// writes, for id "YYYYMMDD_HHMMSS_<name>" (UTC):
//   <dir>/<id>.cpp        a defineMigration skeleton whose migrateOne skips;
//   <dir>/CMakeLists.txt  "graft_add_migration(<id> SOURCES <id>.cpp)"
//                         appended (the file is created, standalone against
//                         find_package(graft), if missing);
//   the manifest          <id> appended, in the file's own layout (created
//                         if missing);
//   graft.sum             "<id> pending", if the file exists (see sumfile.h).
// Everything is checked before the first file is written.
#ifndef GRAFT_HOST_PLAN_SCAFFOLD_H_
#define GRAFT_HOST_PLAN_SCAFFOLD_H_

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace graft {

struct CreateOptions {
  std::string name;                // the id's suffix, e.g. "backfill_priority"
  std::string manifest_path;       // created if missing
  std::string source_dir;          // "": the manifest's directory
  std::string table = "my_table";  // the table the skeleton's up step walks
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

struct Created {
  std::string id;
  std::string source_path;
  std::string cmake_path;
  bool cmake_created = false;
  std::string manifest_path;
  bool manifest_created = false;
  std::string sum_path;  // "" when there is no graft.sum
};

// Ok for letters, digits and '_', starting with a letter, at most 112 long
// (an id is at most 128); else kUsage saying so.
Status checkMigrationName(std::string_view name);

// "YYYYMMDD_HHMMSS_<name>", the time in UTC.
std::string migrationIdAt(std::chrono::system_clock::time_point when, std::string_view name);

// The skeleton source of migration `id`.
std::string migrationSource(const std::string& id, const std::string& description,
                            const std::string& table);

// Manifest text with `id` appended to "migrations", keeping the text's own
// layout (one id a line stays one id a line). Errors are parseManifest's, or
// kBadInput when `id` is already listed.
Result<std::string> appendToManifest(std::string_view text, const std::string& path,
                                     const std::string& id);

// Writes the new migration's files. Errors name the file: kUsage for a bad
// name or table, kBadInput for an existing file, a bad manifest or a file
// that can not be written, kDrift for a graft.sum with a merge conflict.
Result<Created> createMigration(const CreateOptions& options);

}  // namespace graft

#endif  // GRAFT_HOST_PLAN_SCAFFOLD_H_
