#include "store/store.h"

#include <array>
#include <charconv>
#include <utility>

#include "base/json_text.h"

namespace graft {
namespace {

// Each enum's words, in the enum's order: one table serves both directions.
constexpr std::array kStepStatusNames = {"pending", "running",  "completed",
                                         "failed",  "canceled", "rolled_back"};
constexpr std::array kDirectionNames = {"up", "down"};
constexpr std::array kRunStatusNames = {"running",  "completed", "noop",          "failed",
                                        "canceled", "dry_run",   "drift_blocked", "abandoned"};

template <class Enum, size_t N>
const char* nameOf(const std::array<const char*, N>& names, Enum value) {
  const auto i = static_cast<size_t>(value);
  return i < N ? names[i] : "?";
}

template <class Enum, size_t N>
std::optional<Enum> valueOf(const std::array<const char*, N>& names, std::string_view text) {
  for (size_t i = 0; i < N; ++i)
    if (text == names[i]) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

const char* stepStatusName(StepStatus status) { return nameOf(kStepStatusNames, status); }
const char* directionName(Direction direction) { return nameOf(kDirectionNames, direction); }
const char* runStatusName(RunStatus status) { return nameOf(kRunStatusNames, status); }

std::optional<StepStatus> parseStepStatus(std::string_view text) {
  return valueOf<StepStatus>(kStepStatusNames, text);
}
std::optional<Direction> parseDirection(std::string_view text) {
  return valueOf<Direction>(kDirectionNames, text);
}
std::optional<RunStatus> parseRunStatus(std::string_view text) {
  return valueOf<RunStatus>(kRunStatusNames, text);
}

Status unknownWord(std::string_view table, std::string_view row, std::string_view column,
                   std::string_view word) {
  return Status(Code::kStore, std::string(table) + " row " + jsonQuoted(row) + " has " +
                                  std::string(column) + " " + jsonQuoted(word) +
                                  ", which this graft does not know (written by a newer graft? "
                                  "run that one, or fix the row)");
}

std::string documentJson(const Document& doc) {
  char number[64];
  std::string out;
  out.reserve(doc.body.size() + 72);  // the system fields take at most 71 bytes
  out += "{\"_id\":";
  auto end = std::to_chars(number, number + sizeof number, doc.id).ptr;
  out.append(number, end);
  out += ",\"_creationTime\":";
  end = std::to_chars(number, number + sizeof number, doc.creation_time).ptr;
  out.append(number, end);
  // _creationTime is a float64 (as in Convex): a whole number is written
  // "123.0", or a JSON parser would hand the plugin an int64.
  if (std::string_view(number, static_cast<size_t>(end - number)).find_first_of(".eEn") ==
      std::string_view::npos)
    out += ".0";
  // The body is a JSON object ('{' first, after any white space); splice its
  // members in after the system fields instead of parsing it.
  size_t open = doc.body.find('{');
  size_t first = doc.body.find_first_not_of(" \t\r\n", open + 1);
  if (open == std::string::npos || first == std::string::npos || doc.body[first] == '}') {
    out += '}';
  } else {
    out += ',';
    out.append(doc.body, first, std::string::npos);
  }
  return out;
}

bool isReservedTable(std::string_view table) {
  auto starts = [&](std::string_view prefix) {
    if (table.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      char c = table[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != prefix[i]) return false;
    }
    return true;
  };
  return starts("migration_") || starts("graft_") || starts("sqlite_");
}

Status checkTableName(std::string_view table) {
  bool ok = !table.empty() && table.size() <= 64 && !(table[0] >= '0' && table[0] <= '9');
  for (char c : table) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_');
  }
  if (!ok)
    return Status(Code::kBadInput, "table \"" + std::string(table) +
                                       "\" is not a valid name (letters, digits and '_', not "
                                       "starting with a digit, at most 64)");
  if (isReservedTable(table))
    return Status(Code::kBadInput, "table \"" + std::string(table) +
                                       "\" is reserved for graft (names starting with "
                                       "migration_, graft_ or sqlite_)");
  return Status::Ok();
}

}  // namespace graft
