#include "plan/scaffold.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>

#include "base/json_text.h"
#include "plan/manifest.h"
#include "store/store.h"
#include "plan/sumfile.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxNameLength = 112;  // 128 (an id) - "YYYYMMDD_HHMMSS_"

std::string newManifestText(const std::vector<std::string>& ids) {
  std::string text = "{\n  \"graft_manifest\": 1,\n  \"migrations\": [";
  for (size_t i = 0; i < ids.size(); ++i) text += (i ? ",\n    \"" : "\n    \"") + ids[i] + "\"";
  return text + "\n  ]\n}\n";
}

const char* const kCMakeHeader =
    R"(# Migrations: one plugin per migration. `graft create` appends one line
# graft_add_migration(<id> SOURCES <id>.cpp) per migration, below.
# Builds on its own against an installed graft (find_package), or as a
# subdirectory of a project that already has graft_add_migration. The
# plugins land in <build>/plugins: run graft --plugins <build>/plugins
# --manifest <this directory>/manifest.json up.
cmake_minimum_required(VERSION 3.25)
project(graft_migrations LANGUAGES CXX)
if(NOT COMMAND graft_add_migration)
  find_package(graft REQUIRED)
endif()
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/plugins)

)";

std::string cannotWrite(const std::string& path) {
  return path + ": can not write: " + std::strerror(errno);
}

// Writes through a temporary file and a rename: a reader (or a crash) never
// leaves half a manifest behind.
Status replaceFile(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status(Code::kBadInput, cannotWrite(temporary));
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) return Status(Code::kBadInput, path + ": can not write: " + ec.message());
  return Status::Ok();
}

}  // namespace

Status checkMigrationName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameLength &&
            ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'));
  for (char c : name) {
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (ok) return Status::Ok();
  return Status(Code::kUsage, "\"" + std::string(name) +
                                  "\" is not a valid migration name (letters, digits and '_', "
                                  "starting with a letter; at most 112)");
}

std::string migrationIdAt(std::chrono::system_clock::time_point when, std::string_view name) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char stamp[80];
  std::snprintf(stamp, sizeof stamp, "%04d%02d%02d_%02d%02d%02d_", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return stamp + std::string(name);
}

std::string migrationSource(const std::string& id, const std::string& description,
                            const std::string& table) {
  return "// " + id + R"(: )" + description + R"(.
//
// Written by `graft create`. migrateOne is called once per document of the
// up step's table, in _id order, inside the batch's transaction. It returns
// a graft::Patch (.set(field, value), .unset(field)) to change the document,
// or graft::skip to leave it as it is. Skip documents that already have the
// new shape: a run can stop and resume, and the application may write the
// new shape itself meanwhile. ctx.db reads and writes other tables in the
// same transaction; throwing fails the batch, which is rolled back.
// Add .down = graft::Step{...} to make the migration reversible.
//
// CMakeLists.txt builds it (graft_add_migration). If the project keeps a
// graft.sum, run `graft sum` after building and commit it with this file.
#include <graft/migration.hpp>

namespace json = boost::json;

static const auto migration = graft::defineMigration({
    .id = ")" +
         id + R"(",
    .description = ")" +
         description + R"(",
    .up = {.table = ")" +
         table + R"(",
           .migrateOne = [](graft::Ctx& /*ctx*/, const json::object& /*doc*/) -> graft::Result {
             return graft::skip;
           }},
});
GRAFT_EXPORT_MIGRATION(migration)
)";
}

Result<std::string> appendToManifest(std::string_view text, const std::string& path,
                                     const std::string& id) {
  auto manifest = parseManifest(text, path);
  if (!manifest.ok()) return manifest.status();
  std::vector<std::string> ids = manifest->ids;
  for (const auto& existing : ids) {
    if (existing == id)
      return Status(Code::kBadInput, path + ": already lists \"" + id + "\" (pick another name)");
  }
  ids.push_back(id);
  if (manifest->ids.empty()) return newManifestText(ids);
  // Ids can hold neither '"' nor ']', and "migrations" is the manifest's only
  // array: its ']' is the text's last, and the '"' before it closes the last
  // id. The new id copies the separator in front of that id.
  const size_t close = text.rfind(']');
  const size_t last_end = text.rfind('"', close);
  const size_t last_begin = text.rfind('"', last_end - 1);
  const size_t separator = text.find_last_of(",[", last_begin);
  std::string space(text.substr(separator + 1, last_begin - separator - 1));
  // After '[' on one line, the text shows no separator to copy: use ", ".
  if (text[separator] == '[' && space.find('\n') == std::string::npos) space = " ";
  std::string out(text.substr(0, last_end + 1));
  out += "," + space + "\"" + id + "\"";
  out += text.substr(last_end + 1);
  // The edit is checked; on any surprise the manifest is written afresh.
  auto check = parseManifest(out, path);
  if (!check.ok() || check->ids != ids) return newManifestText(ids);
  return out;
}

namespace {

// The text of the manifest at `path` with `id` added: the file's own text
// with `id` appended, or, when there is no file (*created is then true), a
// new manifest.
Result<std::string> manifestWith(const std::string& path, const std::string& id, bool* created) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    *created = true;
    return newManifestText({id});
  }
  auto text = readFile(path);
  if (!text.ok()) return text.status().prefixed("read manifest");
  auto appended = appendToManifest(*text, path, id);
  if (!appended.ok()) return appended.status().prefixed("read manifest");
  return appended;
}

// Writes the source of migration `id` to `path`, a file that must not exist.
Status writeNewSource(const std::string& path, const std::string& id,
                      const CreateOptions& options) {
  // "x": fail rather than overwrite a file that appeared since the check.
  std::FILE* source = std::fopen(path.c_str(), "wx");
  if (!source) return Status(Code::kBadInput, cannotWrite(path));
  std::string description = options.name;
  for (char& c : description) c = c == '_' ? ' ' : c;
  const std::string code = migrationSource(id, description, options.table);
  const bool wrote = std::fwrite(code.data(), 1, code.size(), source) == code.size();
  if (std::fclose(source) != 0 || !wrote) return Status(Code::kBadInput, cannotWrite(path));
  return Status::Ok();
}

}  // namespace

Result<Created> createMigration(const CreateOptions& options) {
  GRAFT_RETURN_IF_ERROR(checkMigrationName(options.name));
  Status table = checkTableName(options.table);
  if (!table.ok()) return Status(Code::kUsage, table.message());

  Created created;
  created.id = migrationIdAt(options.now, options.name);
  created.manifest_path = options.manifest_path;
  fs::path dir = options.source_dir.empty() ? fs::path(options.manifest_path).parent_path()
                                            : fs::path(options.source_dir);
  if (dir.empty()) dir = ".";
  created.source_path = (dir / (created.id + ".cpp")).string();
  created.cmake_path = (dir / "CMakeLists.txt").string();

  std::error_code ec;
  if (fs::exists(created.source_path, ec)) {
    return Status(Code::kBadInput,
                  created.source_path + ": already exists (pick another name, or remove the file)");
  }
  auto manifest_text = manifestWith(options.manifest_path, created.id, &created.manifest_created);
  if (!manifest_text.ok()) return manifest_text.status();
  const std::string sum_path = sumPathFor(options.manifest_path);
  auto sum = readSum(sum_path);
  if (!sum.ok()) return sum.status().prefixed("read sum");
  std::optional<std::string> existing_cmake;
  if (fs::exists(created.cmake_path, ec)) {
    auto text = readFile(created.cmake_path);
    if (!text.ok()) return text.status();
    existing_cmake = std::move(text).value();
  }

  for (const fs::path& needed : {dir, fs::path(created.manifest_path).parent_path()}) {
    if (needed.empty() || fs::create_directories(needed, ec) || !ec) continue;
    return Status(Code::kBadInput, needed.string() + ": can not create: " + ec.message());
  }
  GRAFT_RETURN_IF_ERROR(writeNewSource(created.source_path, created.id, options));

  const std::string line =
      "graft_add_migration(" + created.id + " SOURCES " + created.id + ".cpp)\n";
  created.cmake_created = !existing_cmake;
  std::string cmake = existing_cmake ? *existing_cmake : kCMakeHeader;
  if (!cmake.empty() && cmake.back() != '\n') cmake += '\n';
  GRAFT_RETURN_IF_ERROR(replaceFile(created.cmake_path, cmake + line));
  GRAFT_RETURN_IF_ERROR(replaceFile(created.manifest_path, *manifest_text));
  if (*sum) {
    GRAFT_RETURN_IF_ERROR(writeSum(appendPending(**sum, created.id), sum_path));
    created.sum_path = sum_path;
  }
  return created;
}

}  // namespace graft
