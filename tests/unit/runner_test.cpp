#include "run/runner.h"

#include <sqlite3.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <map>
#include <set>

#include "harness.h"
#include "store/open_store.h"

namespace graft {
namespace {

using test::ScratchDir;
using test::testPlugin;

// A store and a catalog of real plugins in a scratch directory.
struct Fixture {
  ScratchDir dir;
  std::string db = dir / "store.db";
  Catalog catalog;
  std::unique_ptr<Store> store;

  void load(const std::vector<std::string>& names, const std::vector<std::string>& ids) {
    std::vector<std::string> files;
    for (const auto& n : names) files.push_back(testPlugin(n));
    auto plugins = test::makePluginDir(dir, files, ids);
    auto loaded = loadCatalog(plugins, plugins + "/manifest.json");
    BOOST_REQUIRE_MESSAGE(loaded.ok(), loaded.status().message());
    catalog = std::move(loaded).value();
    openStore();
  }
  void openStore() {
    store.reset();
    auto opened = graft::openStore(db, {.create = true});
    BOOST_REQUIRE_MESSAGE(opened.ok(), opened.status().message());
    store = std::move(opened).value();
  }
  Status up(RunOptions options = {}) {
    Runner runner(*store, catalog);
    return runner.up(options, &report);
  }
  MigrationState state(const std::string& id) {
    auto s = store->loadState(id);
    BOOST_REQUIRE(s.ok() && s->has_value());
    return **s;
  }
  RunReport report;
};

// A store that records, for each transaction that commits, whether it
// began with begin() (durable at its commit) or beginBatch() (durable with
// a later commit), and the migration states saved in it; the rest goes to
// the store it wraps.
class RecordingStore final : public Store {
 public:
  struct Commit {
    bool durable = false;
    std::vector<std::string> states;  // "<id> <status>"
  };
  explicit RecordingStore(Store& inner) : s_(inner) {}
  std::vector<Commit> commits;

  Status begin() override { return began(false, s_.begin()); }
  Status beginBatch() override { return began(true, s_.beginBatch()); }
  Status commit() override {
    Status st = s_.commit();
    if (st.ok()) commits.push_back(open_);
    return st;
  }
  Status rollback() override { return s_.rollback(); }
  Status saveState(const MigrationState& state) override {
    open_.states.push_back(state.id + " " + stepStatusName(state.status));
    return s_.saveState(state);
  }
  void betweenBatches() override { s_.betweenBatches(); }
  void stopBackgroundWork() override { s_.stopBackgroundWork(); }
  Result<int64_t> othersCommitMark() override { return s_.othersCommitMark(); }
  WriteLocking writeLocking() const override { return s_.writeLocking(); }
  Result<std::vector<std::string>> tables() override { return s_.tables(); }
  Result<bool> hasTable(std::string_view t) override { return s_.hasTable(t); }
  Status createTable(std::string_view t) override { return s_.createTable(t); }
  Result<int64_t> count(std::string_view t, int64_t after) override { return s_.count(t, after); }
  Status scan(std::string_view t, int64_t after, int64_t limit, std::vector<Document>* out,
              int64_t upto) override {
    return s_.scan(t, after, limit, out, upto);
  }
  Status forEach(std::string_view t, const std::function<bool(const Document&)>& fn) override {
    return s_.forEach(t, fn);
  }
  Status scanRange(std::string_view t, const KeyRange& r, const Cursor& after, int64_t limit,
                   std::vector<Document>* out, const Cursor* upto) override {
    return s_.scanRange(t, r, after, limit, out, upto);
  }
  Result<int64_t> countRange(std::string_view t, const KeyRange& r, const Cursor& after) override {
    return s_.countRange(t, r, after);
  }
  Result<std::string> describeRangePlan(std::string_view t, const KeyRange& r) override {
    return s_.describeRangePlan(t, r);
  }
  Result<std::optional<Document>> get(std::string_view t, int64_t id) override {
    return s_.get(t, id);
  }
  Status query(std::string_view t, const QuerySpec& q, std::vector<Document>* out) override {
    return s_.query(t, q, out);
  }
  Result<int64_t> insert(std::string_view t, std::string_view body) override {
    return s_.insert(t, body);
  }
  Result<bool> update(std::string_view t, int64_t id, std::string_view body) override {
    return s_.update(t, id, body);
  }
  Result<bool> remove(std::string_view t, int64_t id) override { return s_.remove(t, id); }
  Result<int64_t> writeSpan(std::string_view t, int64_t after, std::span<const SpanWrite> docs,
                            std::vector<int64_t>* differs) override {
    return s_.writeSpan(t, after, docs, differs);
  }
  Result<std::optional<MigrationState>> loadState(std::string_view id) override {
    return s_.loadState(id);
  }
  Result<std::vector<MigrationState>> loadStates() override { return s_.loadStates(); }
  Status saveRun(const RunRecord& run) override {
    open_.states.push_back("run " + std::string(runStatusName(run.status)));
    return s_.saveRun(run);
  }
  Result<std::vector<RunRecord>> loadRuns(int64_t limit) override { return s_.loadRuns(limit); }
  Result<std::optional<Lease>> loadLease() override { return s_.loadLease(); }
  Status saveLease(const Lease& lease) override { return s_.saveLease(lease); }
  Status deleteLease(const std::string& run_id) override { return s_.deleteLease(run_id); }
  Result<Heartbeat> heartbeat(const std::string& run_id, int64_t now_ms) override {
    return s_.heartbeat(run_id, now_ms);
  }
  Result<bool> requestCancel() override { return s_.requestCancel(); }
  Result<std::optional<SchemaRecord>> loadSchema() override { return s_.loadSchema(); }
  Result<std::vector<SchemaRecord>> loadSchemaHistory() override { return s_.loadSchemaHistory(); }
  Status installSchema(const Schema& schema, const std::string& text,
                       const std::string& user) override {
    return s_.installSchema(schema, text, user);
  }
  Status setSchemaChecks(bool on) override { return s_.setSchemaChecks(on); }
  Status setBodyChecks(bool on) override { return s_.setBodyChecks(on); }

 private:
  Status began(bool batch, Status st) {
    open_ = Commit{!batch, {}};
    return st;
  }
  Store& s_;
  Commit open_;
};

BOOST_AUTO_TEST_SUITE(runner)

// Run ids name run rows: two made in one millisecond must differ, or the
// second run's row would replace the first's.
BOOST_AUTO_TEST_CASE(run_ids_made_in_a_row_are_distinct_and_sort_by_start) {
  std::set<std::string> ids;
  std::string previous;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = newRunId();
    BOOST_TEST(ids.insert(id).second, id);
    BOOST_TEST(id.find("-" + std::to_string(getpid())) != std::string::npos, id);
    BOOST_TEST((id.compare(previous) > 0), id << " after " << previous);
    previous = id;
  }
}

BOOST_AUTO_TEST_CASE(migrates_every_document_once_and_records_it) {
  Fixture f;
  test::seedItems(f.db, 1000);
  f.load({"counter"}, {"test_counter"});
  RunOptions options;
  options.batch_size = 64;
  std::vector<int64_t> seen;
  options.on_progress = [&](const Progress& p) { seen.push_back(p.processed); };
  Status s = f.up(options);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  for (const auto& doc : test::readTable(f.db, "items")) BOOST_TEST(doc.at("n").as_int64() == 1);
  MigrationState st = f.state("test_counter");
  BOOST_TEST(st.status == StepStatus::kCompleted);
  BOOST_TEST(st.processed == 1000);
  BOOST_TEST(st.changed == 1000);
  BOOST_TEST(st.cursor == 1000);
  BOOST_TEST(st.file_sha256 == f.catalog.plugins[0]->fileSha256());
  BOOST_TEST(!st.completed_at.empty());
  BOOST_TEST(f.report.status == RunStatus::kCompleted);
  // 16 batches (15 full, one of 40), then the final "done" report.
  BOOST_TEST(seen.size() == 17u);
  BOOST_TEST(seen.front() == 64);

  // A completed migration is never run again.
  s = f.up();
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(f.report.status == RunStatus::kNoop);
  BOOST_TEST(f.report.migrations.at(0).outcome == StepOutcome::kSkipped);
  for (const auto& doc : test::readTable(f.db, "items")) BOOST_TEST(doc.at("n").as_int64() == 1);
  auto runs = f.store->loadRuns(10);
  BOOST_REQUIRE(runs.ok());
  BOOST_REQUIRE(runs->size() == 2u);
  BOOST_TEST((*runs)[0].status == RunStatus::kNoop);
  BOOST_TEST((*runs)[1].status == RunStatus::kCompleted);
  BOOST_TEST((*runs)[1].processed == 1000);
  BOOST_TEST((*runs)[1].migrations == 1);
  BOOST_TEST((*runs)[1].pid == getpid());
  BOOST_TEST(!(*runs)[1].user.empty());
  BOOST_TEST(!(*runs)[1].host.empty());
}

// A migrateOne that keeps copies of its documents beyond the call (against
// the SDK's advice) reads them back intact: the SDK leaves the memory of
// such a call's document to the copies instead of reusing it.
BOOST_AUTO_TEST_CASE(copies_a_migration_keeps_of_its_documents_stay_valid) {
  Fixture f;
  test::seedItems(f.db, 300);
  f.load({"keeper"}, {"test_keeper"});
  RunOptions options;
  options.batch_size = 50;
  Status s = f.up(options);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  const auto docs = test::readTable(f.db, "items");
  BOOST_REQUIRE(docs.size() == 300u);
  for (const auto& doc : docs) {
    const int64_t k = doc.at("k").as_int64();
    BOOST_TEST(doc.at("first_k").as_int64() == 1);
    BOOST_TEST(doc.at("kept_k_sum").as_int64() == k * (k + 1) / 2, "k = " << k);
  }
}

// Batch sizes: pinned by RunOptions::batch_size, pinned by the step's own
// batchSize (test_fail_at has 10), else sized by time under the lock and
// within the documented bounds. Every document is migrated once either way.
BOOST_AUTO_TEST_CASE(batch_sizes_are_pinned_or_adaptive_within_bounds) {
  struct Case {
    const char* name;
    const char* plugin;
    uint32_t batch_size;
    uint32_t pinned;  // 0: adaptive
  };
  const std::vector<Case> cases = {{"--batch-size", "counter", 64, 64},
                                   {"step batchSize", "fail_at", 0, 10},
                                   {"--batch-size over the step's", "fail_at", 25, 25},
                                   {"adaptive", "counter", 0, 0}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      Fixture f;
      test::seedItems(f.db, 3000);
      const std::string id = std::string("test_") + c.plugin;
      f.load({c.plugin}, {id});
      RunOptions options;
      options.batch_size = c.batch_size;
      std::vector<uint32_t> sizes;
      options.on_progress = [&](const Progress& p) {
        // An empty last batch (the table divides evenly) is not counted.
        if (p.batches > static_cast<int64_t>(sizes.size())) sizes.push_back(p.last_batch);
        BOOST_TEST(p.batches == static_cast<int64_t>(sizes.size()));
      };
      Status s = f.up(options);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
      BOOST_TEST(f.state(id).processed == 3000);
      int64_t sum = 0;
      for (uint32_t size : sizes) sum += size;
      BOOST_TEST(sum == 3000);
      BOOST_REQUIRE(!sizes.empty());
      if (c.pinned) {
        BOOST_TEST(sizes.size() == (3000 + c.pinned - 1) / c.pinned);
        for (size_t i = 0; i + 1 < sizes.size(); ++i) BOOST_TEST(sizes[i] == c.pinned);
      } else {
        BOOST_TEST(sizes.front() == kFirstAdaptiveBatch);
        for (size_t i = 0; i < sizes.size(); ++i) {
          BOOST_TEST(sizes[i] >= kMinAdaptiveBatch);
          BOOST_TEST(sizes[i] <= kMaxAdaptiveBatch);
          if (i > 0 && i + 1 < sizes.size()) BOOST_TEST(sizes[i] <= 2 * sizes[i - 1]);
        }
      }
      for (const auto& doc : test::readTable(f.db, "items")) {
        if (c.plugin == std::string("counter")) BOOST_TEST(doc.at("n").as_int64() == 1);
        else BOOST_TEST(doc.at("done").as_bool());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failing_document_rolls_back_its_batch_and_resume_finishes) {
  Fixture f;
  test::seedItems(f.db, 95);
  f.load({"fail_at"}, {"test_fail_at"});
  setenv("GRAFT_TEST_FAIL_AT", "25", 1);
  Status s = f.up();
  unsetenv("GRAFT_TEST_FAIL_AT");
  BOOST_TEST(s.code() == Code::kMigrationFailed);
  BOOST_TEST(s.message() ==
             "migration test_fail_at failed: migrateOne failed on items/25: cannot migrate k=25; "
             "the batch was rolled back, the cursor stays at _id 20 (fix the cause, then run "
             "graft up again to resume)");
  auto docs = test::readTable(f.db, "items");
  for (const auto& doc : docs)
    BOOST_TEST(doc.contains("done") == (doc.at("k").as_int64() <= 20), "k=" << doc.at("k"));
  MigrationState st = f.state("test_fail_at");
  BOOST_TEST(st.status == StepStatus::kFailed);
  BOOST_TEST(st.cursor == 20);
  BOOST_TEST(st.processed == 20);
  BOOST_TEST(st.error == "migrateOne failed on items/25: cannot migrate k=25");
  BOOST_TEST(st.error_doc_id.value_or(0) == 25);
  BOOST_TEST(f.report.status == RunStatus::kFailed);

  s = f.up();
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  for (const auto& doc : test::readTable(f.db, "items")) BOOST_TEST(doc.at("done").as_bool());
  st = f.state("test_fail_at");
  BOOST_TEST(st.status == StepStatus::kCompleted);
  BOOST_TEST(st.processed == 95);
  BOOST_TEST(st.error.empty());
  BOOST_TEST(!st.error_doc_id.has_value());
}

// A step that declares parallelize computes each batch on as many threads
// as it is given, and every document is still migrated exactly once.
BOOST_AUTO_TEST_CASE(a_parallel_step_computes_on_its_threads_and_migrates_each_document_once) {
  for (unsigned threads : {1u, 2u, 3u}) {
    BOOST_TEST_CONTEXT("threads=" << threads) {
      Fixture f;
      test::seedItems(f.db, 1000);
      f.load({"parallel"}, {"test_parallel"});
      RunOptions options;
      options.threads = threads;
      Status s = f.up(options);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
      auto items = test::readTable(f.db, "items");
      BOOST_REQUIRE(items.size() == 1000u);
      std::set<int64_t> seen;
      for (const auto& item : items) {
        BOOST_TEST(item.at("n") == 1, "k=" << item.at("k"));
        seen.insert(item.at("thread").as_int64());
      }
      // Whether the pool's threads take part in a batch depends on whether
      // the machine has a core to spare (compute_pool.h; unit.compute_pool
      // tests that they do); no more threads than asked for ran migrateOne.
      BOOST_TEST(seen.size() <= threads);
      if (threads == 1) BOOST_TEST(seen.size() == 1u);
      BOOST_TEST(f.state("test_parallel").processed == 1000);
      BOOST_TEST(f.state("test_parallel").changed == 1000);
    }
  }
}

// Two documents of one batch fail on two threads: the batch fails with the
// first of them in _id order, as on one thread, and nothing of it is kept.
BOOST_AUTO_TEST_CASE(a_parallel_batch_fails_with_its_first_failing_document) {
  Fixture f;
  test::seedItems(f.db, 250);
  f.load({"parallel"}, {"test_parallel"});
  RunOptions options;
  options.threads = 2;
  setenv("GRAFT_TEST_PARALLEL_FAIL", "190,130", 1);
  Status s = f.up(options);
  unsetenv("GRAFT_TEST_PARALLEL_FAIL");
  BOOST_TEST(s.code() == Code::kMigrationFailed);
  BOOST_TEST(s.message() ==
             "migration test_parallel failed: migrateOne failed on items/130: cannot migrate "
             "k=130; the batch was rolled back, the cursor stays at _id 100 (fix the cause, then "
             "run graft up again to resume)");
  for (const auto& doc : test::readTable(f.db, "items"))
    BOOST_TEST(doc.at("n") == (doc.at("k").as_int64() <= 100 ? 1 : 0), "k=" << doc.at("k"));
  BOOST_TEST(f.state("test_parallel").error_doc_id.value_or(0) == 130);

  s = f.up(options);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  for (const auto& doc : test::readTable(f.db, "items")) BOOST_TEST(doc.at("n") == 1);
}

BOOST_AUTO_TEST_CASE(stops_after_the_batch_in_flight_when_asked_and_resumes) {
  Fixture f;
  test::seedItems(f.db, 100);
  f.load({"counter"}, {"test_counter"});
  std::atomic<bool> stop{false};
  RunOptions options;
  options.batch_size = 30;
  options.stop_requested = &stop;
  options.on_progress = [&](const Progress&) { stop = true; };
  Status s = f.up(options);
  BOOST_REQUIRE(s.ok());
  BOOST_TEST(f.report.status == RunStatus::kCanceled);
  MigrationState st = f.state("test_counter");
  BOOST_TEST(st.status == StepStatus::kCanceled);
  BOOST_TEST(st.cursor == 30);
  options.on_progress = nullptr;
  stop = false;
  s = f.up(options);
  BOOST_REQUIRE(s.ok());
  for (const auto& doc : test::readTable(f.db, "items")) BOOST_TEST(doc.at("n").as_int64() == 1);
  BOOST_TEST(f.state("test_counter").processed == 100);
}

// migrateOne runs with no lock held; a document the application changed
// meanwhile is migrated again, as it is now, before the batch commits.
BOOST_AUTO_TEST_CASE(application_writes_during_compute_go_through_and_are_migrated) {
  Fixture f;
  test::seedItems(f.db, 10);
  f.load({"racer"}, {"test_racer"});
  setenv("GRAFT_TEST_DB", f.db.c_str(), 1);
  Status s = f.up();
  unsetenv("GRAFT_TEST_DB");
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  auto items = test::readTable(f.db, "items");
  BOOST_REQUIRE(items.size() == 10u);
  for (const auto& item : items) {
    BOOST_TEST_CONTEXT("k=" << item.at("k")) {
      BOOST_TEST(item.at("n") == 1);  // migrated once, not twice
      const bool app_wrote = item.at("k") == 6;
      BOOST_TEST(item.contains("app") == app_wrote);
      BOOST_TEST(item.at("saw") == (app_wrote ? boost::json::value(1) : boost::json::value(nullptr)));
    }
  }
  BOOST_TEST(f.state("test_racer").processed == 10);
}

// A step that uses ctx.db runs inside the batch's transaction: its writes
// and the batch commit or roll back together.
BOOST_AUTO_TEST_CASE(a_dry_run_counts_and_shows_but_keeps_nothing) {
  Fixture f;
  test::seedItems(f.db, 40);
  test::seedDocs(f.db, "probes", {{{"action", "insert_other"}}, {{"action", "none"}}});
  f.load({"counter", "probe"}, {"test_counter", "test_probe"});
  RunOptions options;
  options.dry_run = true;
  options.batch_size = 16;
  Status s = f.up(options);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  BOOST_TEST(f.report.status == RunStatus::kDryRun);
  BOOST_REQUIRE(f.report.migrations.size() == 2u);
  const MigrationReport& counter = f.report.migrations[0];
  BOOST_TEST(counter.outcome == StepOutcome::kDryRun);
  BOOST_TEST(counter.processed == 40);
  BOOST_TEST(counter.changed == 40);
  BOOST_TEST(counter.writes_by_table.at("items").patches == 40);
  BOOST_REQUIRE(counter.examples.size() == kDryRunExamples);
  BOOST_TEST(counter.examples[0].table == "items");
  BOOST_TEST(counter.examples[0].id == 1);
  BOOST_TEST(boost::json::parse(counter.examples[0].before).at("n") == 0);
  BOOST_TEST(boost::json::parse(counter.examples[0].after).at("n") == 1);
  const MigrationReport& probe = f.report.migrations[1];
  BOOST_TEST(probe.writes_by_table.at("others").inserts == 1);
  BOOST_TEST(probe.writes_by_table.at("probes").patches == 1);
  // Nothing kept: documents, tables, states.
  for (const auto& doc : test::readTable(f.db, "items")) BOOST_TEST(doc.at("n") == 0);
  BOOST_TEST(test::sqlValue(f.db, "SELECT count(*) FROM sqlite_master WHERE name = 'others'") == "0");
  BOOST_TEST(test::sqlValue(f.db, "SELECT count(*) FROM migration_state") == "0");
  BOOST_TEST(test::sqlValue(f.db, "SELECT count(*) FROM graft_lease") == "0");
}

BOOST_AUTO_TEST_CASE(a_missing_table_is_an_empty_table) {
  Fixture f;
  f.load({"counter"}, {"test_counter"});
  Status s = f.up();
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  BOOST_TEST(f.state("test_counter").status == StepStatus::kCompleted);
  BOOST_TEST(f.state("test_counter").processed == 0);
}

BOOST_AUTO_TEST_CASE(only_runs_the_named_migration) {
  Fixture f;
  test::seedItems(f.db, 10);
  f.load({"counter", "fail_at"}, {"test_counter", "test_fail_at"});
  RunOptions options;
  options.only = "test_fail_at";
  // Ahead of the pending test_counter only when out of order is allowed.
  BOOST_TEST(f.up(options).code() == Code::kUsage);
  BOOST_TEST(!f.store->loadState("test_fail_at")->has_value());
  options.allow_out_of_order = true;
  BOOST_REQUIRE(f.up(options).ok());
  BOOST_TEST(f.state("test_fail_at").status == StepStatus::kCompleted);
  BOOST_TEST(!f.store->loadState("test_counter")->has_value());
  options.only = "nope";
  Status s = f.up(options);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() ==
             "graft up --only nope: no such migration in " + f.dir / "plugins/manifest.json");
}

// ctx.db, driven by the probe plugin: each case seeds one probe document.
BOOST_AUTO_TEST_CASE(ctx_db_reads_and_writes_inside_the_batch) {
  Fixture f;
  test::seedDocs(f.db, "probes",
                 {{{"action", "insert_other"}}, {{"action", "query"}}, {{"action", "query"}},
                  {{"action", "replace"}}, {{"action", "delete_self"}}, {{"action", "ctx"}},
                  {{"action", "none"}}});
  f.load({"probe"}, {"test_probe"});
  Status s = f.up();
  BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
  auto probes = test::readTable(f.db, "probes");
  BOOST_REQUIRE(probes.size() == 6u);  // delete_self is gone
  BOOST_TEST(probes[0].at("seen").as_bool());
  BOOST_TEST(probes[1].at("found").as_int64() == 2);
  BOOST_TEST(probes[2].at("found").as_int64() == 2);
  BOOST_TEST(probes[3] == (boost::json::object{{"_id", 4}, {"_creationTime", probes[3].at("_creationTime")},
                                              {"replaced", true}, {"action", "none"}}));
  BOOST_TEST(probes[4].at("_id").as_int64() == 6);
  BOOST_TEST(probes[4].at("migration") == "test_probe");
  BOOST_TEST(probes[4].at("run").as_string() == f.report.run_id);
  BOOST_TEST(probes[4].at("direction") == "up");
  BOOST_TEST(probes[4].at("dryRun") == false);
  BOOST_TEST(!probes[5].contains("seen"));
  auto others = test::readTable(f.db, "others");
  BOOST_REQUIRE(others.size() == 1u);
  BOOST_TEST(others[0].at("from").as_int64() == 1);
  const MigrationReport& m = f.report.migrations.at(0);
  BOOST_TEST(m.db_writes.inserts == 1);
  BOOST_TEST(m.db_writes.replaces == 1);
  BOOST_TEST(m.db_writes.deletes == 1);
}

BOOST_AUTO_TEST_CASE(plugins_can_not_break_the_store_rules) {
  struct Case {
    const char* action;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"write_reserved",
       "migrateOne failed on probes/1: ctx.db.insert migration_state: table \"migration_state\" is "
       "reserved for graft (names starting with migration_, graft_ or sqlite_)"},
      {"patch_id",
       "patch returned for probes/1: patch sets _id: _id and _creationTime belong to the store"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.action) {
      Fixture f;
      test::seedDocs(f.db, "probes", {{{"action", c.action}}});
      f.load({"probe"}, {"test_probe"});
      Status s = f.up();
      BOOST_TEST(s.code() == Code::kMigrationFailed);
      BOOST_TEST(f.state("test_probe").error == c.error);
      BOOST_TEST(test::sqlValue(f.db, "SELECT count(*) FROM migration_state") == "1");
      BOOST_TEST(test::readTable(f.db, "probes").at(0).size() == 3u);  // unchanged
    }
  }
}

// A document another client stored with invalid UTF-8 (the CHECK does not
// look at it) reaches no plugin through ctx.db either: the query that
// would return it fails, naming it, and the batch rolls back.
BOOST_AUTO_TEST_CASE(ctx_db_does_not_hand_out_a_document_graft_can_not_read) {
  Fixture f;
  test::seedDocs(f.db, "probes", {{{"action", "query"}}});
  sqlite3* conn = nullptr;
  sqlite3_open(f.db.c_str(), &conn);
  BOOST_REQUIRE(sqlite3_exec(conn, "INSERT INTO probes (body) VALUES "
                                   "('{\"action\":\"query\",\"x\":\"' || CAST(X'FF' AS TEXT) || '\"}')",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(conn);
  f.load({"probe"}, {"test_probe"});
  RunOptions options;
  options.batch_size = 1;  // the batch holds probes/1 only; its query finds probes/2
  Status s = f.up(options);
  BOOST_TEST(s.code() == Code::kMigrationFailed);
  BOOST_TEST(f.state("test_probe").error ==
             "migrateOne failed on probes/1: ctx.db.query probes/2: stored document is not valid "
             "JSON: invalid UTF-8 at byte 23");
  BOOST_TEST(f.state("test_probe").cursor == 0);
  BOOST_TEST(test::sqlValue(f.db, "SELECT json_type(body, '$.found') FROM probes WHERE _id = 1") == "");
}

// A migration that wrote nothing ends with a commit that waits for a later
// durable one; one that wrote documents ends durably, and so does every
// run, after its last migration's end. (Why that keeps exactly-once through
// a power loss: StepRun::wroteNothing.)
BOOST_AUTO_TEST_CASE(only_a_migration_that_wrote_something_ends_with_a_durable_commit) {
  for (bool counter_first : {false, true}) {
    BOOST_TEST_CONTEXT("counter first: " << counter_first) {
      Fixture f;
      test::seedItems(f.db, 30);
      test::seedDocs(f.db, "people", {{{"role", "admin"}}, {{"role", "member"}}});
      if (counter_first) {
        f.load({"counter", "verify_role"}, {"test_counter", "test_verify_role"});
      } else {
        f.load({"verify_role", "counter"}, {"test_verify_role", "test_counter"});
      }
      RecordingStore recording(*f.store);
      Runner runner(recording, f.catalog);
      Status s = runner.up({}, &f.report);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.message());
      std::map<std::string, bool> durable;  // "<id> completed", "run completed"
      std::vector<std::string> ends;        // in commit order
      for (const auto& commit : recording.commits) {
        for (const auto& state : commit.states) {
          if (!state.ends_with(" completed")) continue;
          durable[state] = commit.durable;
          ends.push_back(state);
        }
      }
      const std::vector<std::string> expected =
          counter_first ? std::vector<std::string>{"test_counter completed",
                                                   "test_verify_role completed", "run completed"}
                        : std::vector<std::string>{"test_verify_role completed",
                                                   "test_counter completed", "run completed"};
      BOOST_TEST(ends == expected, boost::test_tools::per_element());
      BOOST_TEST(!durable["test_verify_role completed"]);  // visited 2, changed none
      BOOST_TEST(durable["test_counter completed"]);       // changed 30
      BOOST_TEST(durable["run completed"]);
      BOOST_REQUIRE(!recording.commits.empty());
      BOOST_TEST(recording.commits.back().durable);
      BOOST_TEST(f.state("test_verify_role").status == StepStatus::kCompleted);
      BOOST_TEST(f.state("test_counter").changed == 30);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
