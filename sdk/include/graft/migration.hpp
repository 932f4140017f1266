// migration.hpp -- the C++ layer plugin authors write against.
//
// One plugin is one migration:
//
//   #include <graft/migration.hpp>
//   namespace json = boost::json;
//
//   static const auto migration = graft::defineMigration({
//       .id = "20260101_120000_default_role",
//       .description = "give every user a role",
//       .up = {.table = "users",
//              .migrateOne = [](graft::Ctx&, const json::object& doc) -> graft::Result {
//                if (doc.contains("role")) return graft::skip;
//                return graft::Patch().set("role", "member");
//              }},
//   });
//   GRAFT_EXPORT_MIGRATION(migration)
//
// migrateOne returns a Patch (fields to set, fields to remove) or graft::skip.
// It may read and write any non-reserved table through ctx.db; those writes
// are part of the batch's transaction. Throwing from migrateOne (or a failing
// ctx.db call, which throws graft::Error) fails the batch: the host rolls it
// back and records the message.
//
// Everything here is header-only and stays on the plugin's side of the
// boundary: only the C structs of graft.h reach the host.
#ifndef GRAFT_MIGRATION_HPP_
#define GRAFT_MIGRATION_HPP_

#include <graft/graft.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A plugin built with AddressSanitizer or LeakSanitizer tells the leak
// checker about the memory this header leaves allocated for good on purpose
// (see DocumentArena), so that the checker reports only what is lost by
// mistake.
#if defined(__SANITIZE_ADDRESS__)
#define GRAFT_DETAIL_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define GRAFT_DETAIL_LEAK_CHECKED 1
#endif
#endif
#ifdef GRAFT_DETAIL_LEAK_CHECKED
#include <sanitizer/lsan_interface.h>
#endif

// Defined (hidden) in a source file that graft_add_migration generates; a
// plugin built without it has no logic digest, and the weak reference is NULL.
extern "C" __attribute__((weak, visibility("hidden"))) const char graft_logic_digest[];

namespace graft {

// Thrown by ctx.db calls that fail; also fine for authors to throw.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Changes to one document's top-level fields. set() with a null value stores
// null; unset() removes the field. _id and _creationTime can not be changed.
class Patch {
 public:
  Patch() = default;
  // All fields of `fields` are set. Implicit so that a migrateOne can
  // `return boost::json::object{{"role", "member"}};`.
  Patch(boost::json::object fields) : set_(std::move(fields)) {}  // NOLINT(google-explicit-constructor)

  Patch& set(std::string_view field, boost::json::value value) & {
    set_[field] = std::move(value);
    return *this;
  }
  Patch& unset(std::string_view field) & {
    unset_.emplace_back(field);
    return *this;
  }
  // On a temporary (`return graft::Patch().set("role", "member");`) the
  // patch is moved along, not copied: a migrateOne like that does little
  // else, so a copy of the fields would be much of its time (figures:
  // doc/performance.md).
  Patch set(std::string_view field, boost::json::value value) && {
    set_[field] = std::move(value);
    return std::move(*this);
  }
  Patch unset(std::string_view field) && {
    unset_.emplace_back(field);
    return std::move(*this);
  }
  bool empty() const { return set_.empty() && unset_.empty(); }

  // The wire form of graft.h: {"$set": {...}, "$unset": [...]}.
  // Written piece by piece: copying the fields into a new object only to
  // serialize it would be a second pass over them for nothing (figures:
  // doc/performance.md).
  std::string toJson() const {
    std::string out;
    toJson(&out);
    return out;
  }
  // The same, into `out` (replacing what it held): its capacity is reused.
  void toJson(std::string* out) const {
    out->clear();
    *out += '{';
    if (!set_.empty()) {
      *out += "\"$set\":";
      append(out, set_);
    }
    if (!unset_.empty()) {
      boost::json::array names;
      for (const auto& name : unset_) names.emplace_back(name);
      *out += set_.empty() ? "\"$unset\":" : ",\"$unset\":";
      append(out, names);
    }
    *out += '}';
  }

 private:
  template <class Json>
  static void append(std::string* out, const Json& json) {
    boost::json::serializer serializer;
    serializer.reset(&json);
    char buffer[256];
    while (!serializer.done()) {
      const auto part = serializer.read(buffer, sizeof buffer);
      out->append(part.data(), part.size());
    }
  }

  boost::json::object set_;
  std::vector<std::string> unset_;
};

// What migrateOne returns: a patch, or graft::skip for "leave it as it is".
using Result = std::optional<Patch>;
inline constexpr std::nullopt_t skip = std::nullopt;

// The _id of a document passed to migrateOne or returned by ctx.db.
inline std::int64_t idOf(const boost::json::object& doc) { return doc.at("_id").as_int64(); }

// How the layer parses documents: Boost.JSON's defaults, but as deep as a
// store lets documents nest (GRAFT_MAX_JSON_DEPTH, not Boost's 32).
inline boost::json::parse_options documentParseOptions() {
  boost::json::parse_options options;
  options.max_depth = GRAFT_MAX_JSON_DEPTH;
  return options;
}

class Db;

// A range over one declared index of the schema in force (graft schema
// push): equality on a prefix of the index's fields, then optionally bounds
// on the next field. Used as a step's customRange and in Query::withIndex.
//
//   graft::IndexRange("by_status_and_rank").eq("status", "draft").gte("rank", 3)
class IndexRange {
 public:
  explicit IndexRange(std::string_view index) : index_(index) {}
  IndexRange& eq(std::string_view field, boost::json::value value) {
    eq_[field] = std::move(value);
    return *this;
  }
  IndexRange& gt(std::string_view field, boost::json::value v) { return bound("gt", field, v); }
  IndexRange& gte(std::string_view field, boost::json::value v) { return bound("gte", field, v); }
  IndexRange& lt(std::string_view field, boost::json::value v) { return bound("lt", field, v); }
  IndexRange& lte(std::string_view field, boost::json::value v) { return bound("lte", field, v); }

  // The wire form of graft.h (graft_step.range_json).
  boost::json::object toObject() const {
    boost::json::object out = bounds_;
    out["index"] = index_;
    if (!eq_.empty()) out["eq"] = eq_;
    return out;
  }
  std::string toJson() const { return boost::json::serialize(toObject()); }

 private:
  IndexRange& bound(const char* op, std::string_view field, boost::json::value& v) {
    boost::json::object b;
    b[field] = std::move(v);
    bounds_[op] = std::move(b);
    return *this;
  }
  std::string index_;
  boost::json::object eq_;
  boost::json::object bounds_;
};

// A query over one table, in _id order (or in index order with withIndex).
// Built by Db::query().
class Query {
 public:
  // Keeps only documents whose top-level `field` equals `value`.
  Query& eq(std::string_view field, boost::json::value value) {
    eq_[field] = std::move(value);
    return *this;
  }
  // Keeps only documents with _id greater than `id` (for paging).
  Query& after(std::int64_t id) {
    after_ = id;
    return *this;
  }
  // Reads through a declared index, in (index key, _id) order: SQLite walks
  // the index instead of the table. Fails if the schema in force does not
  // declare it. Combines with take/collect/first, not with eq/after.
  Query& withIndex(const IndexRange& range) {
    index_ = range.toObject();
    return *this;
  }
  std::vector<boost::json::object> take(std::int64_t n);
  std::vector<boost::json::object> collect() { return run(-1); }
  std::optional<boost::json::object> first() {
    auto docs = take(1);
    if (docs.empty()) return std::nullopt;
    return std::move(docs.front());
  }

 private:
  friend class Db;
  Query(const Db* db, std::string table) : db_(db), table_(std::move(table)) {}
  std::vector<boost::json::object> run(std::int64_t limit);

  const Db* db_;
  std::string table_;
  boost::json::object eq_;
  std::optional<std::int64_t> after_;
  std::optional<boost::json::object> index_;
};

// Reads and writes documents inside the current batch's transaction.
class Db {
 public:
  Db(graft_db* db, const graft_db_api* api) : db_(db), api_(api) {}

  std::optional<boost::json::object> get(std::string_view table, std::int64_t id) const {
    const std::string t(table);
    const char* text = nullptr;
    size_t len = 0;
    char err[1024] = {0};
    int32_t rc = api_->get(db_, t.c_str(), id, &text, &len, err, sizeof err);
    if (rc == GRAFT_DB_NOT_FOUND) return std::nullopt;
    check(rc, err);
    return parseObject(std::string_view(text, len));
  }

  Query query(std::string_view table) const { return Query(this, std::string(table)); }

  std::int64_t insert(std::string_view table, const boost::json::object& doc) const {
    const std::string t(table), body = boost::json::serialize(doc);
    std::int64_t id = 0;
    char err[1024] = {0};
    check(api_->insert(db_, t.c_str(), body.c_str(), &id, err, sizeof err), err);
    return id;
  }

  void patch(std::string_view table, std::int64_t id, const Patch& patch) const {
    const std::string t(table), body = patch.toJson();
    char err[1024] = {0};
    check(api_->patch(db_, t.c_str(), id, body.c_str(), err, sizeof err), err);
  }

  void replace(std::string_view table, std::int64_t id, const boost::json::object& doc) const {
    const std::string t(table), body = boost::json::serialize(doc);
    char err[1024] = {0};
    check(api_->replace(db_, t.c_str(), id, body.c_str(), err, sizeof err), err);
  }

  // Convex's ctx.db.delete. Returns false if the document did not exist.
  bool remove(std::string_view table, std::int64_t id) const {
    const std::string t(table);
    char err[1024] = {0};
    int32_t rc = api_->remove(db_, t.c_str(), id, err, sizeof err);
    if (rc == GRAFT_DB_NOT_FOUND) return false;
    check(rc, err);
    return true;
  }

 private:
  friend class Query;
  static void check(int32_t rc, const char* err) {
    if (rc != GRAFT_DB_OK) throw Error(err[0] ? err : "ctx.db call failed");
  }
  static boost::json::object parseObject(std::string_view text) {
    return boost::json::parse(text, {}, documentParseOptions()).as_object();
  }

  graft_db* db_;
  const graft_db_api* api_;
};

inline std::vector<boost::json::object> Query::take(std::int64_t n) {
  if (n < 0) throw Error("query: take() needs a count of zero or more");
  return run(n);
}

inline std::vector<boost::json::object> Query::run(std::int64_t limit) {
  boost::json::object spec;
  if (index_) spec = *index_;
  if (!eq_.empty()) spec["eq"] = eq_;
  if (after_) spec["after"] = *after_;
  if (limit >= 0) spec["limit"] = limit;
  const std::string text = boost::json::serialize(spec);
  const char* out = nullptr;
  size_t len = 0;
  char err[1024] = {0};
  Db::check(db_->api_->query(db_->db_, table_.c_str(), text.c_str(), &out, &len, err, sizeof err),
            err);
  // The parsed array must outlive the loop: a range-for over
  // parse(...).as_array() would walk a destroyed temporary.
  // One level more than a document: the array that holds them.
  boost::json::parse_options options = documentParseOptions();
  ++options.max_depth;
  boost::json::value parsed = boost::json::parse(std::string_view(out, len), {}, options);
  std::vector<boost::json::object> docs;
  for (auto& doc : parsed.as_array()) docs.push_back(std::move(doc.as_object()));
  return docs;
}

enum class Direction { kUp, kDown };

// What migrateOne is told about the call it is in.
struct Ctx {
  std::string_view migrationId;
  std::string_view runId;
  Direction direction;
  bool dryRun;  // true: every write of this run will be rolled back
  Db db;
};

// migrateOne should keep nothing from one call to the next: a document may
// be migrated twice, or by another process after a crash. A copy of the
// document (or of a value in it) that it keeps anyway stays valid, but
// keeps the memory of that call's document with it: copy into memory of
// its own instead, boost::json::value(v, {}).
using MigrateOne = std::function<Result(Ctx&, const boost::json::object&)>;

enum class WriteMode {
  kNormal,      // writes are checked against the schema in force
  kSafeBypass,  // this step's writes skip schema validation, for speed
};

// What must hold once a step is done: every document of its table matches
// `validator` (schema-file syntax, e.g. R"({"object": {"role": "string"}})"
// or just R"({"role": "string"})" for a document's fields) and `check`.
// graft up checks it when the step finishes; graft verify on demand.
struct Verify {
  std::string validator = "";
  std::function<bool(const boost::json::object&)> check = nullptr;
};

// Default member initializers mark what a designated initializer may leave
// out: table and migrateOne are required, the rest is optional.
struct Step {
  std::string table;
  MigrateOne migrateOne;
  std::uint32_t batchSize = 0;  // 0: the host's default (256)
  // Visit only the documents in this index range (Convex's customRange).
  std::optional<IndexRange> customRange = std::nullopt;
  WriteMode writeMode = WriteMode::kNormal;
  std::optional<Verify> verify = std::nullopt;
  // Call migrateOne on several threads at once, each on other documents of
  // the batch (Convex's `parallelize`), for a migrateOne that costs more
  // than reading and writing a document. Only for one that shares no
  // mutable state between calls and does not use ctx.db; see graft.h.
  bool parallelize = false;
  // The table may not exist yet in some stores (an application creates it on
  // first use): walk it as empty there. Without it, graft refuses to run the
  // step over a table that does not exist; see graft.h.
  bool tableMayBeAbsent = false;
};

struct MigrationSpec {
  std::string id;
  std::string description = "";
  Step up;
  std::optional<Step> down = std::nullopt;  // none: the migration is irreversible
};

// A defined migration. Keep it in a static and export it with
// GRAFT_EXPORT_MIGRATION.
class Migration {
 public:
  explicit Migration(MigrationSpec spec) : spec_(std::move(spec)) {}
  const MigrationSpec& spec() const { return spec_; }

 private:
  MigrationSpec spec_;
};

inline Migration defineMigration(MigrationSpec spec) { return Migration(std::move(spec)); }

namespace detail {

inline void copyError(char* err, size_t cap, std::string_view message) {
  if (cap == 0) return;
  const size_t n = message.size() < cap - 1 ? message.size() : cap - 1;
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

// The migration this library exports; set once by graft_plugin_entry.
inline const Migration* exported = nullptr;

// Where the documents handed to migrateOne live: one arena per thread,
// reused from call to call, so that building a document, which every
// document of a run pays for, costs no heap allocation per value (figures:
// doc/performance.md). Boost.JSON gives a copy the memory of what it
// copies, so a copy migrateOne keeps beyond its call (in a static, say)
// points into the arena. The arena therefore counts what is still allocated
// when a call ends: if anything is, its memory is left to those copies for
// good, never reused or freed, and the next call gets a new arena.
class DocumentArena final : public boost::json::memory_resource {
 public:
  DocumentArena() { inner_.emplace(block_, sizeof block_); }

  // After a call: true when nothing of it is still allocated, and then
  // the memory is the next call's.
  bool reuse() {
    if (live_ != 0) return false;
    inner_.reset();  // frees the blocks beyond block_
    inner_.emplace(block_, sizeof block_);
    return true;
  }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override {
    void* p = inner_->allocate(bytes, align);
    ++live_;
    return p;
  }
  void do_deallocate(void*, std::size_t, std::size_t) override { --live_; }
  bool do_is_equal(const boost::json::memory_resource& other) const noexcept override {
    return this == &other;
  }

  alignas(std::max_align_t) unsigned char block_[8192];
  std::optional<boost::json::monotonic_resource> inner_;
  std::size_t live_ = 0;  // allocations not yet deallocated
};

// callStep's work, with the document built in `arena` by a parser reused
// from call to call.
inline int32_t migrateIn(DocumentArena& arena, const Step& step, const graft_context* c,
                         const char* doc, size_t doc_len, const char** patch, size_t* patch_len,
                         char* err, size_t err_cap) noexcept {
  // Patch text must outlive this call (graft.h): one buffer per thread.
  thread_local std::string patch_text;
  thread_local boost::json::parser parser({}, documentParseOptions());
  // The parser lets go of the arena on every way out, a throw from write()
  // included.
  struct LetGo {
    boost::json::parser& parser;
    ~LetGo() { parser.reset(); }
  };
  try {
    parser.reset(&arena);
    const LetGo let_go{parser};
    parser.write(doc, doc_len);
    const boost::json::value parsed = parser.release();
    const boost::json::object& object = parsed.as_object();
    Ctx ctx{c->migration_id, c->run_id, c->direction == GRAFT_DOWN ? Direction::kDown : Direction::kUp,
            c->dry_run != 0, Db(c->db, c->db_api)};
    Result result = step.migrateOne(ctx, object);
    if (!result || result->empty()) return GRAFT_SKIP;
    result->toJson(&patch_text);
    *patch = patch_text.data();
    *patch_len = patch_text.size();
    return GRAFT_PATCH;
  } catch (const std::exception& e) {
    copyError(err, err_cap, e.what());
  } catch (...) {
    copyError(err, err_cap, "migrateOne threw an exception that is not a std::exception");
  }
  return GRAFT_ERROR;
}

// Turns a C++ migrateOne into the C function of graft.h: parses the document,
// calls the author's code, serializes the patch, turns exceptions into text.
inline int32_t callStep(const Step& step, const graft_context* c, const char* doc, size_t doc_len,
                        const char** patch, size_t* patch_len, char* err, size_t err_cap) noexcept {
  thread_local std::unique_ptr<DocumentArena> arena;
  if (!arena) {
    try {
      arena = std::make_unique<DocumentArena>();
    } catch (const std::exception& e) {
      copyError(err, err_cap, e.what());
      return GRAFT_ERROR;
    }
  }
  const int32_t rc = migrateIn(*arena, step, c, doc, doc_len, patch, patch_len, err, err_cap);
  // Everything of the call is gone by now, but what migrateOne kept.
  if (!arena->reuse()) {
#ifdef GRAFT_DETAIL_LEAK_CHECKED
    // Left to the copies for good: no leak when they are gone too, at the
    // latest when the plugin is unloaded.
    __lsan_ignore_object(arena.get());
#endif
    (void)arena.release();
  }
  return rc;
}

// Turns a C++ Verify::check into graft_step.verify_one.
inline int32_t callVerify(const Step& step, const char* doc, size_t doc_len, char* err,
                          size_t err_cap) noexcept {
  try {
    boost::json::object object = boost::json::parse(std::string_view(doc, doc_len)).as_object();
    return step.verify->check(object) ? GRAFT_VERIFY_HOLDS : GRAFT_VERIFY_FAILS;
  } catch (const std::exception& e) {
    copyError(err, err_cap, e.what());
  } catch (...) {
    copyError(err, err_cap, "verify threw an exception that is not a std::exception");
  }
  return GRAFT_ERROR;
}

inline int32_t upVerify(const char* doc, size_t n, char* err, size_t cap) noexcept {
  return callVerify(exported->spec().up, doc, n, err, cap);
}

inline int32_t downVerify(const char* doc, size_t n, char* err, size_t cap) noexcept {
  return callVerify(*exported->spec().down, doc, n, err, cap);
}

inline int32_t upTrampoline(const graft_context* c, const char* doc, size_t n, const char** patch,
                            size_t* patch_len, char* err, size_t cap) noexcept {
  return callStep(exported->spec().up, c, doc, n, patch, patch_len, err, cap);
}

inline int32_t downTrampoline(const graft_context* c, const char* doc, size_t n,
                              const char** patch, size_t* patch_len, char* err,
                              size_t cap) noexcept {
  return callStep(*exported->spec().down, c, doc, n, patch, patch_len, err, cap);
}

inline const graft_plugin* exportPlugin(const Migration& migration) {
  struct Exported {
    graft_step up;
    graft_step down;
    graft_plugin plugin;
    std::string up_range, down_range;  // the text range_json points into
  };
  static Exported table = [&] {
    exported = &migration;
    const MigrationSpec& s = migration.spec();
    Exported t{};
    if (s.up.customRange) t.up_range = s.up.customRange->toJson();
    if (s.down && s.down->customRange) t.down_range = s.down->customRange->toJson();
    return t;
  }();
  static const bool steps_set = [&] {
    const MigrationSpec& s = migration.spec();
    auto step = [](const Step& from, const std::string& range, graft_migrate_one_fn migrate,
                   graft_verify_one_fn verify) {
      graft_step out{};
      out.struct_size = sizeof(graft_step);
      out.table = from.table.c_str();
      out.batch_size = from.batchSize;
      out.migrate_one = migrate;
      out.write_mode = from.writeMode == WriteMode::kSafeBypass ? GRAFT_WRITE_SAFE_BYPASS
                                                                 : GRAFT_WRITE_NORMAL;
      out.range_json = range.empty() ? nullptr : range.c_str();
      out.verify_json =
          from.verify && !from.verify->validator.empty() ? from.verify->validator.c_str() : nullptr;
      out.verify_one = from.verify && from.verify->check ? verify : nullptr;
      out.parallelize = from.parallelize ? 1 : 0;
      out.table_may_be_absent = from.tableMayBeAbsent ? 1 : 0;
      return out;
    };
    table.up = step(s.up, table.up_range, &upTrampoline, &upVerify);
    if (s.down) table.down = step(*s.down, table.down_range, &downTrampoline, &downVerify);
    table.plugin = {GRAFT_ABI_VERSION, sizeof(graft_plugin), s.id.c_str(),
                    s.description.c_str(), nullptr, nullptr, graft_logic_digest};
    return true;
  }();
  (void)steps_set;
  // The pointers into `table` are taken here, after it has its final address.
  static const graft_plugin plugin = [] {
    graft_plugin p = table.plugin;
    p.up = &table.up;
    p.down = exported->spec().down ? &table.down : nullptr;
    return p;
  }();
  return &plugin;
}

}  // namespace detail
}  // namespace graft

// Exports `migration` (a static graft::Migration) as this plugin's entry point.
#define GRAFT_EXPORT_MIGRATION(migration)                                     \
  extern "C" GRAFT_PLUGIN_EXPORT const graft_plugin* graft_plugin_entry(void) { \
    return ::graft::detail::exportPlugin(migration);                          \
  }

#endif  // GRAFT_MIGRATION_HPP_
