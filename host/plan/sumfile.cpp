#include "plan/sumfile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/json_text.h"
#include "plan/manifest.h"
#include "base/sha256.h"

namespace graft {
namespace {

constexpr std::string_view kVersionLine = "graft-sum 1";
constexpr const char* kRewriteHint = "rewrite it with graft sum";
constexpr const char* kManifestChanged =
    "the manifest changed after graft sum ran: run graft sum after merging, and review";

bool isSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// A line as messages quote it: long lines are cut.
std::string quoted(std::string_view line) {
  constexpr size_t kMax = 80;
  if (line.size() <= kMax) return "\"" + std::string(line) + "\"";
  return "\"" + std::string(line.substr(0, kMax)) + "...\"";
}

// What git leaves in a file it could not merge. The sum is designed to
// conflict, so this is the expected state right after a merge.
bool isConflictMarker(std::string_view line) {
  for (std::string_view marker : {"<<<<<<<", "=======", ">>>>>>>", "|||||||"})
    if (line.substr(0, marker.size()) == marker) return true;
  return false;
}

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// parseSum's phases, over the lines of one graft.sum (`text`, which must
// outlive the reader).
class SumReader {
 public:
  SumReader(std::string_view text, const std::string& path)
      : lines_(splitLines(text)), path_(path) {}

  // kDrift when a line is a conflict marker git left after a merge.
  Status checkConflicts() const {
    for (size_t i = 0; i < lines_.size(); ++i) {
      if (isConflictMarker(lines_[i])) {
        return Status(Code::kDrift, at(i + 1) +
                                        "unresolved merge conflict (resolve the manifest, then "
                                        "run graft sum after merging, and review)");
      }
    }
    return Status::Ok();
  }

  // The version line and the total.
  Status readHeader(SumFile* sum) const {
    if (lines_.empty() || lines_[0] != kVersionLine) {
      constexpr std::string_view kPrefix = "graft-sum ";
      if (!lines_.empty() && lines_[0].substr(0, kPrefix.size()) == kPrefix &&
          lines_[0].size() > kPrefix.size() &&
          lines_[0].find_first_not_of("0123456789", kPrefix.size()) == std::string_view::npos) {
        return bad(1, "graft.sum format " + std::string(lines_[0].substr(kPrefix.size())) +
                          " is not supported; this graft reads format 1 (upgrade graft)");
      }
      return bad(1, "expected \"graft-sum 1\", " + got(0) + " (" + kRewriteHint + ")");
    }
    constexpr std::string_view kTotal = "total ";
    if (lines_.size() < 2 || lines_[1].substr(0, kTotal.size()) != kTotal ||
        !isSha256Hex(lines_[1].substr(kTotal.size()))) {
      return bad(2, "expected \"total <sha256 hex>\", " + got(1) + " (" + kRewriteHint + ")");
    }
    sum->total = std::string(lines_[1].substr(kTotal.size()));
    return Status::Ok();
  }

  // "<migration id> <digest>", one a line after the header.
  Status readEntries(SumFile* sum) const {
    std::map<std::string, size_t, std::less<>> seen;
    for (size_t i = 2; i < lines_.size(); ++i) {
      const std::string_view line = lines_[i];
      const size_t space = line.find(' ');
      const std::string_view id = line.substr(0, space);
      const std::string_view hash =
          space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
      if (id.empty() || !(isSha256Hex(hash) || hash == kPendingDigest)) {
        return bad(i + 1, "expected \"<migration id> <sha256 hex>\", " + got(i) + " (" +
                              kRewriteHint + ")");
      }
      if (!isValidMigrationId(id)) {
        return bad(i + 1, quoted(id) +
                              " is not a valid migration id (letters, digits, '_', '-', '.'; at "
                              "most 128)");
      }
      auto [it, inserted] = seen.emplace(std::string(id), i + 1);
      if (!inserted) {
        return bad(i + 1, "duplicate entry " + quoted(id) + " (also on line " +
                              std::to_string(it->second) + "; " + kRewriteHint + ")");
      }
      sum->entries.push_back({std::string(id), std::string(hash)});
    }
    return Status::Ok();
  }

 private:
  // "<path>:<line>: ", lines counted from 1.
  std::string at(size_t line) const { return path_ + ":" + std::to_string(line) + ": "; }
  Status bad(size_t line, const std::string& why) const {
    return Status(Code::kBadInput, at(line) + why);
  }
  // What the line at `index` (from 0) holds, for an "expected ..." message.
  std::string got(size_t index) const {
    return index < lines_.size() ? "got " + quoted(lines_[index]) : std::string("got end of file");
  }

  const std::vector<std::string_view> lines_;
  const std::string& path_;
};

}  // namespace

std::string sumPathFor(const std::string& manifest_path) {
  return (std::filesystem::path(manifest_path).parent_path() / kSumFileName).string();
}

std::string sumLink(const std::string& previous, const std::string& id, std::string_view digest) {
  return sha256Hex(previous + "\n" + id + "\n" + std::string(digest));
}

Result<SumFile> computeSum(const std::vector<SumInput>& inputs) {
  SumFile sum;
  sum.total = sha256Hex(kVersionLine);
  for (const auto& input : inputs) {
    if (input.logic_digest.empty()) {
      return Status(Code::kPlugin,
                    "plugin " + input.plugin_path +
                        ": logic digest: none embedded, so graft.sum can not pin \"" + input.id +
                        "\" (rebuild it with graft_add_migration from this SDK)");
    }
    sum.total = sumLink(sum.total, input.id, input.logic_digest);
    sum.entries.push_back({input.id, sum.total});
  }
  return sum;
}

Result<SumFile> computeSum(const Catalog& catalog) {
  std::vector<SumInput> inputs;
  for (const auto& plugin : catalog.plugins)
    inputs.push_back({plugin->id(), plugin->logicDigest(), plugin->path()});
  return computeSum(inputs);
}

SumFile appendPending(const SumFile& sum, const std::string& id) {
  SumFile out = sum;
  out.total = sumLink(sum.total, id, kPendingDigest);
  out.entries.push_back({id, std::string(kPendingDigest)});
  return out;
}

std::string formatSum(const SumFile& sum) {
  std::string text = std::string(kVersionLine) + "\ntotal " + sum.total + "\n";
  for (const auto& entry : sum.entries) text += entry.id + " " + entry.hash + "\n";
  return text;
}

Result<SumFile> parseSum(std::string_view text, const std::string& path) {
  const SumReader reader(text, path);
  GRAFT_RETURN_IF_ERROR(reader.checkConflicts());
  SumFile sum;
  GRAFT_RETURN_IF_ERROR(reader.readHeader(&sum));
  GRAFT_RETURN_IF_ERROR(reader.readEntries(&sum));
  return sum;
}

Result<std::optional<SumFile>> readSum(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::optional<SumFile>();
  auto text = readFile(path);
  if (!text.ok()) return text.status();
  auto sum = parseSum(*text, path);
  if (!sum.ok()) return sum.status();
  return std::optional<SumFile>(std::move(sum).value());
}

Status compareSum(const SumFile& recorded, const SumFile& computed, const std::string& path) {
  auto drift = [&](const std::string& where, const std::string& what, const std::string& fix) {
    return Status(Code::kDrift, where + ": " + what + " (" + fix + ")");
  };
  const size_t n = std::max(recorded.entries.size(), computed.entries.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string line = path + ":" + std::to_string(i + 3);
    if (i >= recorded.entries.size()) {
      return drift(path,
                   "no entry for \"" + computed.entries[i].id + "\", migrations[" +
                       std::to_string(i) + "] of the manifest",
                   kManifestChanged);
    }
    const SumEntry& mine = recorded.entries[i];
    if (i >= computed.entries.size())
      return drift(line, "entry \"" + mine.id + "\" is not in the manifest", kManifestChanged);
    const SumEntry& theirs = computed.entries[i];
    if (mine.id != theirs.id) {
      return drift(line,
                   "entry \"" + mine.id + "\" does not match the manifest, which has \"" +
                       theirs.id + "\" there",
                   kManifestChanged);
    }
    if (mine.hash == kPendingDigest) {
      return drift(line,
                   "entry \"" + mine.id +
                       "\" is pending: graft create added it and graft sum has not run since",
                   "build it, then run graft sum, and review");
    }
    if (mine.hash != theirs.hash) {
      return drift(line, "entry \"" + mine.id + "\" does not match the plugin's logic digest",
                   "its source changed after graft sum ran: run graft sum after merging, and "
                   "review");
    }
  }
  if (recorded.total != computed.total) {
    return drift(path + ":2", "total does not match the entries",
                 "the file was edited or merged by hand: run graft sum after merging, and review");
  }
  return Status::Ok();
}

Status checkSumFile(const Catalog& catalog) {
  const std::string path = sumPathFor(catalog.manifest.path);
  auto recorded = readSum(path);
  if (!recorded.ok()) return recorded.status().prefixed("sum check");
  if (!*recorded) return Status::Ok();
  auto computed = computeSum(catalog);
  if (!computed.ok()) return computed.status().prefixed("sum check");
  return compareSum(**recorded, *computed, path).prefixed("sum check");
}

Status writeSum(const SumFile& sum, const std::string& path) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << formatSum(sum);
    out.close();
    if (!out) return Status(Code::kBadInput, path + ": can not write: " + std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    return Status(Code::kBadInput, path + ": can not write: " + ec.message());
  }
  return Status::Ok();
}

}  // namespace graft
