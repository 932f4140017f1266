// Tests for host/graft_host.cpp: the library an application embeds, driven
// as one would drive it, with real plugins and a real store.
#include "graft_host.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "base/sha256.h"
#include "harness.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

// <dir>/store.db with 20 items, <dir>/plugins with the given test plugins.
struct Fixture {
  test::ScratchDir dir;
  std::string db = dir / "store.db";
  std::string plugins;

  explicit Fixture(const std::vector<std::string>& names = {"counter"},
                   std::vector<std::string> ids = {}) {
    test::seedItems(db, 20);
    std::vector<std::string> files;
    for (const auto& name : names) files.push_back(test::testPlugin(name));
    if (ids.empty())
      for (const auto& name : names) ids.push_back("test_" + name);
    plugins = test::makePluginDir(dir, files, ids);
  }
  HostOptions options() const {
    HostOptions o;
    o.db_url = db;
    o.plugin_dir = plugins;
    return o;
  }
  std::unique_ptr<Host> open(const HostOptions& o) {
    auto host = Host::open(o);
    BOOST_TEST_REQUIRE(host.ok(), host.status().message());
    return std::move(host).value();
  }
  std::unique_ptr<Host> open() { return open(options()); }
};

MigrationStatus only(Host& host) {
  auto rows = host.status();
  BOOST_TEST_REQUIRE(rows.ok(), rows.status().message());
  BOOST_TEST_REQUIRE(rows->size() == 1u);
  return rows->front();
}

BOOST_AUTO_TEST_SUITE(graft_host)

BOOST_AUTO_TEST_CASE(the_manifest_is_beside_the_plugins_unless_given) {
  HostOptions o;
  o.plugin_dir = "migrations";
  BOOST_TEST(manifestPathOf(o) == "migrations/manifest.json");
  o.manifest_path = "order.json";
  BOOST_TEST(manifestPathOf(o) == "order.json");
}

BOOST_FIXTURE_TEST_CASE(open_names_the_file_and_stage_that_failed, Fixture) {
  struct Case {
    const char* name;
    HostOptions options;
    Code code;
    std::string message;
  };
  HostOptions no_dir = options();
  no_dir.plugin_dir = dir / "nowhere";
  HostOptions no_plugins = options();
  no_plugins.manifest_path = plugins + "/manifest.json";
  no_plugins.plugin_dir = dir / "nowhere";
  HostOptions no_store = options();
  no_store.db_url = dir / "missing.db";
  const std::vector<Case> cases = {
      {"no manifest in the plugin directory", no_dir, Code::kBadInput,
       "read manifest: " + dir / "nowhere/manifest.json" +
           ": can not open: No such file or directory"},
      {"no plugin directory", no_plugins, Code::kPlugin,
       "plugin directory " + dir / "nowhere" +
           ": not a directory (pass --plugins DIR, the directory of the built plugins)"},
      {"no store", no_store, Code::kStore,
       "database " + dir / "missing.db" +
           ": does not exist (check --db, or create it with graft import)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto host = Host::open(c.options);
      BOOST_TEST_REQUIRE(!host.ok());
      BOOST_TEST(host.status().code() == c.code);
      BOOST_TEST(host.status().message() == c.message);
    }
  }
  BOOST_TEST(!fs::exists(dir / "missing.db"));
}

BOOST_FIXTURE_TEST_CASE(up_status_and_down_round_trip, Fixture) {
  auto host = open();
  BOOST_TEST(host->catalog().plugins.size() == 1u);
  MigrationStatus row = only(*host);
  BOOST_TEST(row.id == "test_counter");
  BOOST_TEST(row.state == "pending");
  BOOST_TEST(row.description == "n += 1 on every item");
  BOOST_TEST(row.recorded_file_sha256 == "");
  BOOST_TEST(row.file_sha256 == sha256Hex(test::readBytes(test::testPlugin("counter"))));

  RunReport report;
  Status s = host->up({}, &report);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  BOOST_TEST(report.status == RunStatus::kCompleted);
  for (const auto& doc : test::readTable(db, "items")) BOOST_TEST(doc.at("n").as_int64() == 1);
  row = only(*host);
  BOOST_TEST(row.state == "completed");
  BOOST_TEST(row.processed == 20);
  BOOST_TEST(row.changed == 20);
  BOOST_TEST(row.cursor == 20);
  BOOST_TEST(row.recorded_file_sha256 == row.file_sha256);
  BOOST_TEST(row.recorded_logic_digest == host->catalog().plugins[0]->logicDigest());
  BOOST_TEST(row.logic_digest.rfind("v1:sha256:", 0) == 0u);
  BOOST_TEST(row.drift == "");
  BOOST_TEST(row.error == "");
  auto active = host->activeRun();
  BOOST_TEST_REQUIRE(active.ok());
  BOOST_TEST(!active->has_value());

  DownOptions down;
  down.steps = 1;
  RunReport down_report;
  s = host->down(down, &down_report);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  for (const auto& doc : test::readTable(db, "items")) BOOST_TEST(doc.at("n").as_int64() == 0);
  BOOST_TEST(only(*host).state == "rolled_back");
}

// A migration recorded in the store but gone from the manifest is shown
// after the manifest's, as missing.
BOOST_FIXTURE_TEST_CASE(status_shows_recorded_migrations_gone_from_the_manifest, Fixture) {
  {
    auto host = open();
    RunReport report;
    BOOST_TEST_REQUIRE(host->up({}, &report).ok());
  }
  fs::copy_file(test::testPlugin("fail_at"), plugins + "/test_fail_at.so");
  test::writeFile(plugins + "/manifest.json",
                  R"({"graft_manifest": 1, "migrations": ["test_fail_at"]})");
  fs::remove(plugins + "/test_counter.so");
  auto host = open();
  auto rows = host->status();
  BOOST_TEST_REQUIRE(rows.ok(), rows.status().message());
  BOOST_TEST_REQUIRE(rows->size() == 2u);
  BOOST_TEST((*rows)[0].id == "test_fail_at");
  BOOST_TEST((*rows)[0].state == "pending");
  BOOST_TEST((*rows)[1].id == "test_counter");
  BOOST_TEST((*rows)[1].state == "missing");
  BOOST_TEST((*rows)[1].processed == 20);
  BOOST_TEST((*rows)[1].drift == "missing");
}

BOOST_FIXTURE_TEST_CASE(a_metadata_only_host_shows_status_and_refuses_to_run, Fixture) {
  HostOptions o = options();
  o.metadata_only = true;
  auto host = open(o);
  BOOST_TEST(only(*host).description == "n += 1 on every item");
  BOOST_TEST(only(*host).state == "pending");
  const std::string refusal =
      "this host read the plugins' metadata only and loaded none: open it without metadata_only "
      "to run migrations";
  RunReport report;
  Status s = host->up({}, &report);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() == refusal);
  s = host->down({}, &report);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() == refusal);
  for (const auto& doc : test::readTable(db, "items")) BOOST_TEST(doc.at("n").as_int64() == 0);
  BOOST_TEST(test::sqlValue(db, "SELECT count(*) FROM migration_run") == "0");
}

BOOST_AUTO_TEST_CASE(a_keep_going_host_shows_broken_plugins_and_refuses_to_run) {
  Fixture f({"counter", "bad_abi"}, {"test_counter", "test_bad_abi"});
  HostOptions o = f.options();
  auto strict = Host::open(o);
  BOOST_TEST_REQUIRE(!strict.ok());
  BOOST_TEST(strict.status().code() == Code::kPlugin);
  o.keep_going = true;
  auto host = f.open(o);
  auto rows = host->status();
  BOOST_TEST_REQUIRE(rows.ok(), rows.status().message());
  BOOST_TEST_REQUIRE(rows->size() == 2u);
  BOOST_TEST((*rows)[0].plugin_error == "");
  BOOST_TEST((*rows)[1].id == "test_bad_abi");
  const std::string& why = strict.status().message();
  BOOST_TEST((*rows)[1].plugin_error == why.substr(0, why.find('\n')));
  const std::string refusal =
      "this host was opened with keep_going, which lets broken plugins through: open it without "
      "keep_going to run migrations";
  RunReport report;
  Status s = host->up({}, &report);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() == refusal);
  s = host->down({}, &report);
  BOOST_TEST(s.code() == Code::kUsage);
  BOOST_TEST(s.message() == refusal);
  BOOST_TEST(test::sqlValue(f.db, "SELECT count(*) FROM migration_run") == "0");
}

// An override of the trust checks is on the record of every run it allowed.
BOOST_FIXTURE_TEST_CASE(runs_with_untrusted_plugins_allowed_say_so_in_their_history, Fixture) {
  HostOptions o = options();
  o.allow_untrusted_plugins = true;
  auto host = open(o);
  RunReport report;
  BOOST_TEST_REQUIRE(host->up({}, &report).ok());
  BOOST_TEST(test::sqlValue(db, "SELECT command FROM migration_run") ==
             "up --allow-untrusted-plugins");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
