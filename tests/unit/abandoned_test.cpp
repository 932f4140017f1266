// Tests for host/run/abandoned.cpp: what the store says about a run whose
// process died, so that status tells the truth and the next up resumes.
#include "run/abandoned.h"

#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "run/lease.h"
#include "store/store.h"

namespace graft {
namespace {

const char kStarted[] = "2026-01-02T03:04:05.000Z";
const char kSegv[] = "was killed by signal SIGSEGV (Segmentation fault)";

// A store in which run r1 (pid 4242 on host h) holds the lease and is
// running migration m1 at cursor 20, as a killed run leaves it; m0, which
// r1 completed earlier, and m9, running in another run's record, are not
// r1's to close.
struct Fixture {
  test::ScratchDir dir;
  std::string db = dir / "store.db";
  std::unique_ptr<Store> store = test::openStore(db);
  Lease lease{"r1", "h", 4242, kStarted, 1, false};

  Fixture() {
    RunRecord run;
    run.run_id = "r1";
    run.status = RunStatus::kRunning;
    run.command = "up";
    run.started_at = kStarted;
    RunRecord other = run;
    other.run_id = "r0";
    other.status = RunStatus::kCompleted;
    other.ended_at = kStarted;
    Status s = inTransaction(*store, [&] {
      GRAFT_RETURN_IF_ERROR(store->saveRun(other));
      GRAFT_RETURN_IF_ERROR(store->saveRun(run));
      GRAFT_RETURN_IF_ERROR(store->saveState(state("m0", "completed", "r1", 100)));
      GRAFT_RETURN_IF_ERROR(store->saveState(state("m1", "running", "r1", 20)));
      GRAFT_RETURN_IF_ERROR(store->saveState(state("m9", "running", "r0", 5)));
      return store->saveLease(lease);
    });
    BOOST_TEST_REQUIRE(s.ok(), s.message());
  }

  static MigrationState state(const std::string& id, const std::string& status,
                              const std::string& run_id, int64_t cursor) {
    MigrationState s;
    s.id = id;
    s.status = parseStepStatus(status).value();
    s.direction = Direction::kUp;
    s.cursor = cursor;
    s.run_id = run_id;
    return s;
  }
  MigrationState load(const std::string& id) {
    auto s = store->loadState(id);
    BOOST_TEST_REQUIRE(s.ok(), s.status().message());
    BOOST_TEST_REQUIRE(s->has_value());
    return **s;
  }
  RunRecord run(const std::string& run_id) {
    auto runs = store->loadRuns(10);
    BOOST_TEST_REQUIRE(runs.ok(), runs.status().message());
    for (const auto& r : *runs)
      if (r.run_id == run_id) return r;
    BOOST_FAIL("no run " + run_id);
    return {};
  }
  bool leaseHeld() {
    auto l = store->loadLease();
    BOOST_TEST_REQUIRE(l.ok(), l.status().message());
    return l->has_value();
  }
  // The untouched rows are as they were.
  void othersUnchanged() {
    BOOST_TEST(load("m0").status == StepStatus::kCompleted);
    BOOST_TEST(load("m0").error == "");
    BOOST_TEST(load("m9").status == StepStatus::kRunning);
    BOOST_TEST(run("r0").status == RunStatus::kCompleted);
  }
};

BOOST_AUTO_TEST_SUITE(abandoned)

// The supervisor saw its worker die on a document.
BOOST_FIXTURE_TEST_CASE(a_run_killed_on_a_document_fails_naming_it_and_keeps_the_cursor, Fixture) {
  auto found = recordAbandonedRun(*store, 4242, kSegv, 25);
  BOOST_TEST_REQUIRE(found.ok(), found.status().message());
  BOOST_TEST(found->run_id == "r1");
  BOOST_TEST(found->migration_id == "m1");
  BOOST_TEST(found->cursor == 20);
  const MigrationState m1 = load("m1");
  BOOST_TEST(m1.status == StepStatus::kFailed);
  BOOST_TEST(m1.error == std::string("the run's process ") + kSegv +
                             " while migrating _id 25 (the cursor stays at _id 20)");
  BOOST_TEST(m1.error_doc_id.value_or(0) == 25);
  BOOST_TEST(m1.cursor == 20);
  BOOST_TEST(!m1.updated_at.empty());
  const RunRecord r1 = run("r1");
  BOOST_TEST(r1.status == RunStatus::kFailed);
  BOOST_TEST(r1.error == std::string("the run's process ") + kSegv);
  BOOST_TEST(!r1.ended_at.empty());
  BOOST_TEST(!leaseHeld());
  othersUnchanged();
}

BOOST_FIXTURE_TEST_CASE(a_run_killed_between_documents_says_where_it_resumes, Fixture) {
  auto found = recordAbandonedRun(*store, 4242, "exited with status 3");
  BOOST_TEST_REQUIRE(found.ok(), found.status().message());
  const MigrationState m1 = load("m1");
  BOOST_TEST(m1.status == StepStatus::kFailed);
  BOOST_TEST(m1.error ==
             "the run's process exited with status 3 while migrating; it resumes after _id 20");
  BOOST_TEST(!m1.error_doc_id.has_value());
  BOOST_TEST(run("r1").error == "the run's process exited with status 3");
}

// The worker finished (and released the lease) before the supervisor
// looked, or another run holds it now: nothing of theirs is touched.
BOOST_FIXTURE_TEST_CASE(a_lease_held_by_another_pid_is_left_alone, Fixture) {
  auto found = recordAbandonedRun(*store, 4243, kSegv, 25);
  BOOST_TEST_REQUIRE(found.ok(), found.status().message());
  BOOST_TEST(found->run_id == "");
  BOOST_TEST(found->migration_id == "");
  BOOST_TEST(leaseHeld());
  BOOST_TEST(load("m1").status == StepStatus::kRunning);
  BOOST_TEST(run("r1").status == RunStatus::kRunning);
}

BOOST_FIXTURE_TEST_CASE(no_lease_means_nothing_to_record, Fixture) {
  BOOST_TEST_REQUIRE(inTransaction(*store, [&] { return store->deleteLease("r1"); }).ok());
  auto found = recordAbandonedRun(*store, 4242, kSegv, 25);
  BOOST_TEST_REQUIRE(found.ok(), found.status().message());
  BOOST_TEST(found->run_id == "");
  BOOST_TEST(load("m1").status == StepStatus::kRunning);
}

// The next run found the lease of a dead process (acquireLease): the run
// is `abandoned`, its migrations `failed`, all in the caller's transaction.
BOOST_FIXTURE_TEST_CASE(close_abandoned_run_writes_what_it_is_given, Fixture) {
  BOOST_TEST_REQUIRE(store->begin().ok());
  Abandoned found;
  Status s = closeAbandonedRun(*store, lease, RunStatus::kAbandoned, "abandoned: gone", "was gone",
                               0, &found);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST_REQUIRE(store->commit().ok());
  BOOST_TEST(found.run_id == "r1");
  BOOST_TEST(found.migration_id == "m1");
  BOOST_TEST(found.cursor == 20);
  BOOST_TEST(run("r1").status == RunStatus::kAbandoned);
  BOOST_TEST(run("r1").error == "abandoned: gone");
  BOOST_TEST(load("m1").error == "was gone; it resumes after _id 20");
  BOOST_TEST(!leaseHeld());
  othersUnchanged();
}

BOOST_FIXTURE_TEST_CASE(close_abandoned_run_rolls_back_with_its_transaction, Fixture) {
  BOOST_TEST_REQUIRE(store->begin().ok());
  Abandoned found;
  BOOST_TEST_REQUIRE(
      closeAbandonedRun(*store, lease, RunStatus::kAbandoned, "gone", "gone", 25, &found).ok());
  BOOST_TEST_REQUIRE(store->rollback().ok());
  BOOST_TEST(leaseHeld());
  BOOST_TEST(load("m1").status == StepStatus::kRunning);
  BOOST_TEST(load("m1").error == "");
  BOOST_TEST(run("r1").status == RunStatus::kRunning);
}

// A worker that died loading a plugin never took the lease: the history
// still gets a failed run, with who ran it.
BOOST_AUTO_TEST_CASE(a_failed_start_is_recorded_as_a_failed_run) {
  test::ScratchDir dir;
  auto store = test::openStore(dir / "store.db");
  Status s = recordFailedStart(*store, "up --to m2", "the worker was killed by signal SIGBUS");
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  auto runs = store->loadRuns(10);
  BOOST_TEST_REQUIRE(runs.ok());
  BOOST_TEST_REQUIRE(runs->size() == 1u);
  const RunRecord& run = runs->front();
  BOOST_TEST(run.status == RunStatus::kFailed);
  BOOST_TEST(run.command == "up --to m2");
  BOOST_TEST(run.error == "the worker was killed by signal SIGBUS");
  BOOST_TEST(!run.run_id.empty());
  BOOST_TEST(!run.started_at.empty());
  BOOST_TEST(run.ended_at == run.started_at);
  BOOST_TEST(run.host == hostName());
  BOOST_TEST(run.pid == static_cast<int64_t>(getpid()));
  BOOST_TEST(run.user == userName());
  BOOST_TEST(run.migrations == 0);
  auto lease = store->loadLease();
  BOOST_TEST_REQUIRE(lease.ok());
  BOOST_TEST(!lease->has_value());
  // Each one is a run of its own.
  BOOST_TEST_REQUIRE(recordFailedStart(*store, "up", "again").ok());
  runs = store->loadRuns(10);
  BOOST_TEST_REQUIRE(runs.ok());
  BOOST_TEST_REQUIRE(runs->size() == 2u);
  BOOST_TEST((*runs)[0].run_id != (*runs)[1].run_id);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
