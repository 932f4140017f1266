// Tests for host/run/lease.cpp: one run at a time per store, and a lease
// whose holder is gone taken over with a note instead of by hand.
#include "run/lease.h"

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "store/store.h"

namespace graft {
namespace {

// The pid of a process that has exited and been reaped: no such process.
int64_t deadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

struct Fixture {
  test::ScratchDir dir;
  std::string db = dir / "store.db";
  std::unique_ptr<Store> store = test::openStore(db);

  Lease held(const std::string& run_id, const std::string& host, int64_t pid,
             int64_t heartbeat_ms) {
    Lease lease{run_id, host, pid, "2026-01-02T03:04:05.000Z", heartbeat_ms, false};
    BOOST_TEST_REQUIRE(inTransaction(*store, [&] { return store->saveLease(lease); }).ok());
    return lease;
  }
  std::optional<Lease> lease() {
    auto loaded = store->loadLease();
    BOOST_TEST_REQUIRE(loaded.ok(), loaded.status().message());
    return *loaded;
  }
  // A run row and a migration of `run_id`, both `running`, as a killed
  // run leaves them.
  void running(const std::string& run_id, const std::string& migration, int64_t cursor) {
    RunRecord run;
    run.run_id = run_id;
    run.status = RunStatus::kRunning;
    run.command = "up";
    run.started_at = "2026-01-02T03:04:05.000Z";
    MigrationState state;
    state.id = migration;
    state.status = StepStatus::kRunning;
    state.direction = Direction::kUp;
    state.cursor = cursor;
    state.run_id = run_id;
    BOOST_TEST_REQUIRE(inTransaction(*store, [&] {
                         GRAFT_RETURN_IF_ERROR(store->saveRun(run));
                         return store->saveState(state);
                       }).ok());
  }
};

BOOST_AUTO_TEST_SUITE(lease)

BOOST_FIXTURE_TEST_CASE(the_first_run_takes_the_lease_with_no_note, Fixture) {
  std::string note = "left over";
  const int64_t before = nowMs();
  Status s = acquireLease(*store, "r1", &note);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(note == "");
  const auto lease = this->lease();
  BOOST_TEST_REQUIRE(lease.has_value());
  BOOST_TEST(lease->run_id == "r1");
  BOOST_TEST(lease->host == hostName());
  BOOST_TEST(lease->pid == static_cast<int64_t>(getpid()));
  BOOST_TEST(lease->heartbeat_ms >= before);
  BOOST_TEST(lease->heartbeat_ms <= nowMs());
  BOOST_TEST(!lease->cancel_requested);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM graft_lease") == "1");
}

BOOST_FIXTURE_TEST_CASE(a_second_run_is_busy_while_the_holder_lives, Fixture) {
  std::string note;
  BOOST_TEST_REQUIRE(acquireLease(*store, "r1", &note).ok());
  const Lease first = *lease();
  Status s = acquireLease(*store, "r2", &note);
  BOOST_TEST(s.code() == Code::kBusy);
  BOOST_TEST(s.message() == "already running (pid " + std::to_string(getpid()) + " on host " +
                                hostName() + " since " + first.started_at +
                                ", run r1); wait for it, or stop it with graft cancel");
  BOOST_TEST(note == "");
  BOOST_TEST(lease()->run_id == "r1");
  // The refusal rolled back its transaction: the store takes writes.
  BOOST_TEST(store->begin().ok());
  BOOST_TEST(store->rollback().ok());
}

// Another host's pid says nothing here: only its heartbeat does.
BOOST_FIXTURE_TEST_CASE(a_fresh_heartbeat_from_another_host_is_busy_even_with_a_dead_pid, Fixture) {
  const int64_t pid = deadPid();
  held("r1", "elsewhere", pid, nowMs() - kLeaseExpiryMs / 2);
  std::string note;
  Status s = acquireLease(*store, "r2", &note);
  BOOST_TEST(s.code() == Code::kBusy);
  BOOST_TEST(s.message() == "already running (pid " + std::to_string(pid) +
                                " on host elsewhere since 2026-01-02T03:04:05.000Z, run r1); "
                                "wait for it, or stop it with graft cancel");
  BOOST_TEST(lease()->run_id == "r1");
}

BOOST_FIXTURE_TEST_CASE(a_dead_holder_on_this_host_is_taken_over_with_a_note, Fixture) {
  const int64_t pid = deadPid();
  held("r1", hostName(), pid, nowMs());
  std::string note;
  Status s = acquireLease(*store, "r2", &note);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(note == "took over the lease of run r1 (pid " + std::to_string(pid) + " on host " +
                         hostName() +
                         " since 2026-01-02T03:04:05.000Z): that process is gone; its run is "
                         "recorded abandoned");
  BOOST_TEST(lease()->run_id == "r2");
  BOOST_TEST(lease()->pid == static_cast<int64_t>(getpid()));
}

BOOST_FIXTURE_TEST_CASE(a_silent_holder_on_another_host_is_taken_over_after_the_expiry, Fixture) {
  held("r1", "elsewhere", 4242, nowMs() - 2 * kLeaseExpiryMs - 500);
  std::string note;
  Status s = acquireLease(*store, "r2", &note);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(note ==
             "took over the lease of run r1 (pid 4242 on host elsewhere since "
             "2026-01-02T03:04:05.000Z): no heartbeat for 120 s; its run is recorded abandoned");
  BOOST_TEST(lease()->run_id == "r2");
  BOOST_TEST(lease()->host == hostName());
}

// The run the lease belonged to is closed in the same transaction: its run
// row says abandoned, when and by whom, and its migration failed where it
// resumes.
BOOST_FIXTURE_TEST_CASE(taking_over_closes_the_abandoned_run_and_its_migration, Fixture) {
  const int64_t pid = deadPid();
  held("r1", hostName(), pid, nowMs());
  running("r1", "m1", 20);
  std::string note;
  Status s = acquireLease(*store, "r2", &note);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(note == "took over the lease of run r1 (pid " + std::to_string(pid) + " on host " +
                         hostName() +
                         " since 2026-01-02T03:04:05.000Z): that process is gone; its run is "
                         "recorded abandoned, and migration m1 failed at its cursor, _id 20");
  auto runs = store->loadRuns(10);
  BOOST_TEST_REQUIRE(runs.ok());
  BOOST_TEST_REQUIRE(runs->size() == 1u);
  BOOST_TEST((*runs)[0].status == RunStatus::kAbandoned);
  const std::string found =
      "found by run r2 (pid " + std::to_string(getpid()) + " on host " + hostName() + ") at ";
  BOOST_TEST((*runs)[0].error.rfind("abandoned: that process is gone; " + found, 0) == 0u,
             (*runs)[0].error);
  BOOST_TEST(!(*runs)[0].ended_at.empty());
  auto state = store->loadState("m1");
  BOOST_TEST_REQUIRE(state.ok());
  BOOST_TEST_REQUIRE(state->has_value());
  BOOST_TEST((*state)->status == StepStatus::kFailed);
  BOOST_TEST((*state)->cursor == 20);
  BOOST_TEST(
      (*state)->error.rfind("the run's process was gone (that process is gone; " + found, 0) == 0u,
      (*state)->error);
  const std::string tail = "); it resumes after _id 20";
  BOOST_TEST((*state)->error.size() > tail.size());
  BOOST_TEST((*state)->error.substr((*state)->error.size() - tail.size()) == tail);
}

BOOST_AUTO_TEST_CASE(a_lease_is_stale_when_its_holder_is_known_to_be_gone) {
  const int64_t now = nowMs();
  struct Case {
    const char* name;
    std::string host;
    int64_t pid;
    int64_t heartbeat_ms;
    bool stale;
  };
  const std::vector<Case> cases = {
      {"this host, this process", hostName(), getpid(), 0, false},
      {"this host, the parent process", hostName(), getppid(), 0, false},
      {"this host, a dead pid", hostName(), deadPid(), now, true},
      {"this host, pid 0", hostName(), 0, now, true},
      {"this host, a negative pid", hostName(), -1, now, true},
      {"another host, fresh", "elsewhere", 1, now, false},
      {"another host, at the expiry", "elsewhere", 1, now - kLeaseExpiryMs, false},
      {"another host, past the expiry", "elsewhere", 1, now - kLeaseExpiryMs - 1, true},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const Lease lease{"r", c.host, c.pid, "", c.heartbeat_ms, false};
      BOOST_TEST(leaseIsStale(lease, now) == c.stale);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(release_frees_the_lease_for_its_holder_only, Fixture) {
  std::string note;
  BOOST_TEST_REQUIRE(acquireLease(*store, "r1", &note).ok());
  // Someone who took the lease over since: releasing it is not ours to do.
  Status s = releaseLease(*store, "r0");
  BOOST_TEST(s.ok(), s.message());
  BOOST_TEST_REQUIRE(lease().has_value());
  BOOST_TEST(lease()->run_id == "r1");
  s = releaseLease(*store, "r1");
  BOOST_TEST(s.ok(), s.message());
  BOOST_TEST(!lease().has_value());
  BOOST_TEST(acquireLease(*store, "r2", &note).ok());
  BOOST_TEST(note == "");
}

// Under a supervisor the lease names the parent, the process operators see.
BOOST_FIXTURE_TEST_CASE(the_lease_names_the_holder_pid_that_was_set, Fixture) {
  BOOST_TEST(leaseHolderPid() == static_cast<int64_t>(getpid()));
  setLeaseHolderPid(getppid());
  std::string note;
  Status s = acquireLease(*store, "r1", &note);
  const int64_t named = lease() ? lease()->pid : 0;
  setLeaseHolderPid(0);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(named == static_cast<int64_t>(getppid()));
  BOOST_TEST(leaseHolderPid() == static_cast<int64_t>(getpid()));
}

BOOST_AUTO_TEST_CASE(host_and_user_are_what_the_system_says) {
  char name[HOST_NAME_MAX + 1] = {0};
  BOOST_TEST_REQUIRE(gethostname(name, sizeof name - 1) == 0);
  BOOST_TEST(hostName() == name);
  const struct passwd* pw = getpwuid(geteuid());
  BOOST_TEST(userName() == (pw ? std::string(pw->pw_name) : "uid " + std::to_string(geteuid())));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
