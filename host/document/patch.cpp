#include "document/patch.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "base/json_text.h"

namespace graft {
namespace {

bool isSystemField(std::string_view field) { return field == "_id" || field == "_creationTime"; }

// Parses `text` as a JSON object, into `sp`, with `parser`: its options say
// how deep the text may nest (a patch holds its values one level below a
// document's fields). The parser is left holding nothing.
Result<boost::json::object> parseObject(boost::json::parser* parser, std::string_view text,
                                        const char* what, boost::json::storage_ptr sp = {}) {
  boost::system::error_code ec;
  parser->reset(std::move(sp));
  parser->write(text.data(), text.size(), ec);
  boost::json::value value = ec ? boost::json::value() : parser->release();
  parser->reset();  // it held `sp`, which need not outlive this call
  if (ec) return Status(Code::kBadInput, std::string(what) + " is not valid JSON: " + ec.message());
  if (!value.is_object()) return Status(Code::kBadInput, std::string(what) + " is not a JSON object");
  if (holdsNumberBeyondFloat64(value, text))
    return Status(Code::kBadInput, std::string(what) + " has a number beyond the range of a float64");
  return std::move(value.as_object());
}

// The member a parser would keep for `name`: the last one of that name.
const BodyMember* findMember(const std::vector<BodyMember>& members, std::string_view name) {
  for (auto it = members.rbegin(); it != members.rend(); ++it)
    if (it->key == name) return &*it;
  return nullptr;
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  for (std::string_view n : names)
    if (n == name) return true;
  return false;
}

// Appends `"key"`, escaped as Boost.JSON's serializer escapes it.
void appendKey(std::string* out, std::string_view key) {
  const bool plain = std::all_of(key.begin(), key.end(), [](char c) {
    return c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20;
  });
  if (!plain) {
    *out += boost::json::serialize(boost::json::string(key));
    return;
  }
  *out += '"';
  *out += key;
  *out += '"';
}

void appendValue(std::string* out, const boost::json::value& value) {
  thread_local boost::json::serializer serializer;
  char buffer[512];
  serializer.reset(&value);
  while (!serializer.done()) {
    const std::string_view part = serializer.read(buffer, sizeof buffer);
    out->append(part.data(), part.size());
  }
}

// A patch that only adds fields, with values written as Boost.JSON's
// serializer writes them, read without Boost.JSON: the patch of most
// migrations ({"$set": {"role": "member"}}), whose parse and serialization
// by Boost.JSON dominated applyPatch (figures: doc/performance.md). Only JSON whose meaning and text are
// plain is read here: keys and strings of printable ASCII without escapes,
// integers of at most 18 digits, true, false and null. Anything else (an
// $unset, a field the body has, a system field, a key given twice, nested
// values, more than 16 fields) is left to applyPatchByParsing, which decides
// and words every error. The patch fuzz target asserts that both give the
// same body wherever this one gives one.
class SimplePatch {
 public:
  explicit SimplePatch(std::string_view text) : text_(text) {}

  // The new body, or nothing when the patch is not simple. Reads the patch
  // as it goes: one SimplePatch applies once.
  std::optional<std::string> apply(const CheckedBody& checked) {
    if (!readSet()) return std::nullopt;
    for (size_t i = 0; i < count_; ++i) {
      if (isSystemField(fields_[i].key) || findMember(checked.members, fields_[i].key))
        return std::nullopt;
      for (size_t j = 0; j < i; ++j)
        if (fields_[j].key == fields_[i].key) return std::nullopt;
    }
    std::string out;
    out.reserve(checked.text.size() + text_.size());
    out += '{';
    for (const BodyMember& m : checked.members) {
      if (out.size() > 1) out += ',';
      out.append(checked.text, m.begin, m.end - m.begin);
    }
    for (size_t i = 0; i < count_; ++i) {
      const Field& f = fields_[i];
      if (out.size() > 1) out += ',';
      out += '"';
      out += f.key;
      out += "\":";
      out += f.value;
    }
    out += '}';
    return out;
  }

 private:
  struct Field {
    std::string_view key, value;
  };

  // {"$set": {"key": value, ...}} and nothing else; one to kMaxFields fields.
  bool readSet() {
    std::string_view key;
    if (!take('{') || !readPlainString(&key) || key != "$set" || !take(':') || !take('{'))
      return false;
    do {
      if (count_ == kMaxFields) return false;
      Field& f = fields_[count_++];
      if (!readPlainString(&f.key) || !take(':') || !readPlainValue(&f.value)) return false;
    } while (take(','));
    if (!take('}') || !take('}')) return false;
    skipSpace();
    return pos_ == text_.size();
  }

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool take(char c) {
    skipSpace();
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  // A string of printable ASCII without '"' or '\\'; `*out` is its content.
  bool readPlainString(std::string_view* out) {
    if (!take('"')) return false;
    const size_t begin = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      const char c = text_[pos_];
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
      ++pos_;
    }
    if (pos_ >= text_.size()) return false;
    *out = text_.substr(begin, pos_ - begin);
    ++pos_;
    return true;
  }
  // A plain string, an integer Boost.JSON reads as an int64 and writes back
  // the same (no "-0"), true, false or null; `*out` is its text.
  bool readPlainValue(std::string_view* out) {
    skipSpace();
    const size_t begin = pos_;
    std::string_view content;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      if (!readPlainString(&content)) return false;
    } else if (!readInteger() && !readWord("true") && !readWord("false") && !readWord("null")) {
      return false;
    }
    *out = text_.substr(begin, pos_ - begin);
    return true;
  }
  bool readInteger() {
    size_t i = pos_;
    if (i < text_.size() && text_[i] == '-') ++i;
    const size_t first = i;
    while (i < text_.size() && text_[i] >= '0' && text_[i] <= '9') ++i;
    const size_t digits = i - first;
    if (digits == 0 || digits > 18) return false;
    if (text_[first] == '0' && (digits > 1 || first > pos_)) return false;  // 01, -0
    if (i < text_.size() && (text_[i] == '.' || text_[i] == 'e' || text_[i] == 'E')) return false;
    pos_ = i;
    return true;
  }
  bool readWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  static constexpr size_t kMaxFields = 16;
  std::string_view text_;
  size_t pos_ = 0;
  std::array<Field, kMaxFields> fields_;
  size_t count_ = 0;
};

// What a parsed patch does to a checked body, found and written in the
// phases of applyPatchByParsing. Holds views into the body and the patch,
// which must outlive it.
class PatchEdit {
 public:
  explicit PatchEdit(const CheckedBody& checked) : body_(checked.text), members_(checked.members) {}

  // Takes the patch's $set and $unset; kBadInput for any other member.
  Status readPatch(const boost::json::object& patch) {
    for (const auto& [key, value] : patch) {
      if (key == "$set" && value.is_object()) {
        set_ = &value.get_object();
      } else if (key == "$unset" && value.is_array()) {
        unset_ = &value.get_array();
      } else {
        return Status(Code::kBadInput, "patch has " + jsonQuoted(key) +
                                           "; a patch is {\"$set\": {...}, \"$unset\": [...]}");
      }
    }
    return Status::Ok();
  }

  // The fields $unset takes away from the body.
  Status findRemoved() {
    if (!unset_) return Status::Ok();
    for (const auto& field : *unset_) {
      if (!field.is_string())
        return Status(Code::kBadInput, "patch $unset holds a non-string: " +
                                           boost::json::serialize(field));
      std::string_view name = field.get_string();
      if (isSystemField(name))
        return Status(Code::kBadInput, "patch removes " + std::string(name) +
                                           ": _id and _creationTime belong to the store");
      if (set_ && set_->contains(name))
        return Status(Code::kBadInput, "patch both sets and removes " + jsonQuoted(name));
      if (findMember(members_, name) && !contains(removed_, name)) {
        removed_.push_back(name);
        changed_ = true;
      }
    }
    return Status::Ok();
  }

  // The fields $set adds or gives a new value; `arena` holds what is
  // parsed to compare.
  Status findRewritten(boost::json::monotonic_resource* arena) {
    if (!set_) return Status::Ok();
    for (const auto& [field, value] : *set_) {
      if (isSystemField(field))
        return Status(Code::kBadInput, "patch sets " + std::string(field) +
                                           ": _id and _creationTime belong to the store");
      const BodyMember* m = findMember(members_, field);
      if (!m) {
        changed_ = true;
        continue;
      }
      // Only the value the patch would replace is parsed, to compare.
      const std::string_view text = body_.substr(m->value_begin, m->end - m->value_begin);
      if (boost::json::parse(text, arena, jsonParseOptions()) != value) {
        rewritten_.push_back(field);
        changed_ = true;
      }
    }
    return Status::Ok();
  }

  bool changed() const { return changed_; }

  // The new body's text; `patch_size` is the length of the patch's text.
  std::string write(size_t patch_size) const {
    // The new text keeps every member the patch does not change as it was
    // written, byte for byte: serializing what Boost.JSON 1.81 parsed could
    // move a float's last digit (its parser is not exact for every decimal),
    // a silent change to a field the migration never touched.
    std::string out;
    out.reserve(body_.size() + patch_size);
    out += '{';
    std::vector<std::string_view> placed;  // rewritten fields written once already
    for (const BodyMember& m : members_) {
      if (contains(removed_, m.key)) continue;
      if (!contains(rewritten_, m.key)) {
        if (out.size() > 1) out += ',';
        out += body_.substr(m.begin, m.end - m.begin);
        continue;
      }
      if (contains(placed, m.key)) continue;  // a key the stored text gave twice
      placed.push_back(m.key);
      appendSet(&out, m.key, set_->at(m.key));
    }
    if (set_) {
      for (const auto& [field, value] : *set_)
        if (!findMember(members_, field)) appendSet(&out, field, value);
    }
    out += '}';
    return out;
  }

 private:
  static void appendSet(std::string* out, std::string_view field, const boost::json::value& value) {
    if (out->size() > 1) *out += ',';
    appendKey(out, field);
    *out += ':';
    appendValue(out, value);
  }

  const std::string_view body_;
  const std::vector<BodyMember>& members_;
  const boost::json::object* set_ = nullptr;
  const boost::json::array* unset_ = nullptr;
  bool changed_ = false;
  std::vector<std::string_view> removed_;    // fields $unset took away
  std::vector<std::string_view> rewritten_;  // fields $set gave a new value
};

}  // namespace

Result<Patched> applyPatch(std::string_view body, std::string_view patch_json) {
  thread_local CheckedBody checked;
  GRAFT_RETURN_IF_ERROR(checkDocumentBody(body, &checked));
  return applyPatch(checked, patch_json);
}

Result<Patched> applyPatch(const CheckedBody& checked, std::string_view patch_json) {
  if (auto simple = SimplePatch(patch_json).apply(checked))
    return Patched{std::move(*simple), true};
  return applyPatchByParsing(checked, patch_json);
}

Result<Patched> applyPatchByParsing(const CheckedBody& checked, std::string_view patch_json) {
  // The patch is parsed into an arena on the stack (a fresh one each call:
  // Boost.JSON 1.81's release() keeps doubling the size of the next block)
  // by a parser reused from call to call: its values are copied into the
  // new body's text, and nothing parsed here outlives this call.
  unsigned char arena_buffer[4096];
  boost::json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
  thread_local boost::json::parser parser({}, jsonParseOptions(1));
  auto patch = parseObject(&parser, patch_json, "patch", &arena);
  if (!patch.ok()) return patch.status();
  PatchEdit edit(checked);
  GRAFT_RETURN_IF_ERROR(edit.readPatch(*patch));
  // The body is not parsed into a JSON value: only the members a patch
  // names are looked at.
  GRAFT_RETURN_IF_ERROR(edit.findRemoved());
  GRAFT_RETURN_IF_ERROR(edit.findRewritten(&arena));
  if (!edit.changed()) return Patched{std::string(checked.text), false};
  return Patched{edit.write(patch_json.size()), true};
}

Status checkMadeBody(std::string_view body) {
#ifdef NDEBUG
  (void)body;
  return Status::Ok();
#else
  Status valid = checkDocumentBody(body);
  if (valid.ok()) return valid;
  return Status(Code::kMigrationFailed,
                "graft made a body the store refuses (a bug in graft; report it): " +
                    valid.message());
#endif
}

Result<std::string> newBody(std::string_view doc_json, int64_t current_id,
                            double current_creation_time) {
  boost::json::parser parser({}, jsonParseOptions());
  auto doc = parseObject(&parser, doc_json, "document");
  if (!doc.ok()) return doc.status();
  if (auto key = findDuplicateKey(doc_json))
    return Status(Code::kBadInput, "document has the key " + jsonQuoted(*key) +
                                       " twice (a document holds each key once)");
  bool drop_system_fields = false;
  for (const char* field : {"_id", "_creationTime"}) {
    auto it = doc->find(field);
    if (it == doc->end()) continue;
    bool same = current_id != 0 &&
                (std::string_view(field) == "_id"
                     ? it->value().is_int64() && it->value().get_int64() == current_id
                     : it->value().is_number() &&
                           it->value().to_number<double>() == current_creation_time);
    if (!same)
      return Status(Code::kBadInput, std::string("document sets ") + field +
                                         ": _id and _creationTime are assigned by the store");
    drop_system_fields = true;
  }
  // The text as given, not what Boost.JSON parsed: serializing that again
  // would write 2.5 as 2.5E0 and read some decimals one ulp off.
  std::vector<BodyMember> members;
  listMembers(doc_json, &members);
  const size_t first = members.empty() ? 0 : members.front().begin;
  const size_t end = members.empty() ? 0 : members.back().end;
  if (!drop_system_fields) {
    if (members.empty()) return std::string("{}");
    return "{" + std::string(doc_json.substr(first, end - first)) + "}";
  }
  std::string out = "{";
  for (const BodyMember& m : members) {
    if (isSystemField(m.key)) continue;
    if (out.size() > 1) out += ',';
    out.append(doc_json, m.begin, m.end - m.begin);
  }
  out += '}';
  return out;
}

}  // namespace graft
